"""``lstmkit classify train | predict | evaluate | attention``."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from lstmkit.config import load_yaml, merge
from lstmkit.errors import LstmkitError
from lstmkit.tasks.classify.estimator import SequenceClassifier, TextClassifier, load_classifier
from lstmkit.train.metrics import format_report

__all__ = ["app", "attention"]

app = typer.Typer(help="Sequence classification (text or numeric): train, predict, evaluate.",
                  no_args_is_help=True, add_completion=False)


@app.command()
def train(
    data: Optional[Path] = typer.Option(None, help="CSV/TSV/JSONL, a folder of class folders of .txt, "
                                                   "or for --series a UCR .tsv / long .csv."),
    text: Optional[str] = typer.Option(None, help="Text column [text]."),
    label: Optional[str] = typer.Option(None, help="Label column [label]."),
    series: bool = typer.Option(False, "--series", help="Numeric sequences instead of text."),
    val: Optional[Path] = typer.Option(None, help="Validation file (else a stratified split of --data)."),
    test: Optional[Path] = typer.Option(None, help="Test file, scored once after training."),
    sample: Optional[str] = typer.Option(None, help="Long-format CSV: sample id column [sample]."),
    time: Optional[str] = typer.Option(None, help="Long-format CSV: time-step column [t]."),
    features: Optional[str] = typer.Option(None, help="Long-format CSV: feature columns [all others]."),
    unequal_length: Optional[bool] = typer.Option(None, "--unequal-length",
                                                  help="Numeric sequences may differ in length."),
    tokenizer: Optional[str] = typer.Option(None, help="word, char or bpe [word]."),
    min_freq: Optional[int] = typer.Option(None, help="Rarer tokens become <unk> [2]."),
    max_size: Optional[int] = typer.Option(None, help="Vocabulary size cap [25000]."),
    max_len: Optional[int] = typer.Option(None, help="Truncate longer sequences [400 for text]."),
    truncate: Optional[str] = typer.Option(None, help="Keep head, tail or both ends [both]."),
    vectors: Optional[Path] = typer.Option(None, help="GloVe / word2vec text file for the embedding."),
    freeze_vectors: Optional[bool] = typer.Option(None, "--freeze-vectors", help="Do not train the vectors."),
    embed_dim: Optional[int] = typer.Option(None, help="Embedding / front-end width [128]."),
    model: Optional[str] = typer.Option(None, help="Encoder from the zoo [bilstm]."),
    hidden_size: Optional[int] = typer.Option(None, help="Hidden units per layer [128]."),
    layers: Optional[int] = typer.Option(None, help="Encoder layers [1]."),
    dropout: Optional[float] = typer.Option(None, help="Dropout [0.3]."),
    pooling: Optional[str] = typer.Option(None, help="last, max, mean, max-mean (both, concatenated) or attention [max]."),
    class_weight: Optional[str] = typer.Option(None, help="balanced or none [none]."),
    val_frac: Optional[float] = typer.Option(None, help="Validation share when no --val [0.1]; 0 holds nothing out "
                                              "(early stopping on the training loss)."),
    bucket: Optional[bool] = typer.Option(None, "--bucket/--no-bucket", help="Length-bucketed batches [on]."),
    drop_empty: Optional[bool] = typer.Option(None, "--drop-empty", help="Skip empty texts instead of failing."),
    encoding: Optional[str] = typer.Option(None, help="Text encoding of the files [utf-8]."),
    epochs: Optional[int] = typer.Option(None, help="Maximum epochs (early stopping ends sooner)."),
    batch_size: Optional[int] = typer.Option(None, help="Mini-batch size."),
    lr: Optional[float] = typer.Option(None, help="Adam learning rate [1e-3]."),
    patience: Optional[int] = typer.Option(None, help="Early-stopping patience in epochs."),
    seed: Optional[int] = typer.Option(None, help="Random seed [42]."),
    device: Optional[str] = typer.Option(None, help="auto, cpu, cuda [auto]."),
    progress: Optional[str] = typer.Option(None, help="auto, bar, log, off [auto]."),
    config: Optional[Path] = typer.Option(None, help="YAML file with any of these settings; flags win."),
    out: Path = typer.Option(Path("runs"), help="Folder that receives the run folder."),
    resume: Optional[Path] = typer.Option(None, help="Continue an interrupted run folder."),
):
    """Train a classifier; print validation (and test) metrics beside the majority-class baseline."""
    if resume is not None:
        est = load_classifier_class(resume).resume(resume, data=str(data) if data else None)
        _report(est)
        return
    flags = {"text": text, "label": label, "sample": sample, "time": time, "features": features,
             "unequal_length": unequal_length, "tokenizer": tokenizer, "min_freq": min_freq,
             "max_size": max_size, "max_len": max_len, "truncate": truncate,
             "vectors": str(vectors) if vectors else None, "freeze_vectors": freeze_vectors,
             "embed_dim": embed_dim, "model": model, "hidden_size": hidden_size, "num_layers": layers,
             "dropout": dropout, "pooling": pooling, "class_weight": class_weight, "val_frac": val_frac,
             "bucket": bucket, "drop_empty": drop_empty, "encoding": encoding,
             "train": {"max_epochs": epochs, "batch_size": batch_size, "lr": lr, "patience": patience,
                       "seed": seed, "device": device, "progress": progress}}
    params = merge(load_yaml(config) if config else {}, flags)
    files = {k: params.pop(k, None) for k in ("data", "val", "test")}
    data = data or files["data"]
    if data is None:
        raise LstmkitError("no data given", "pass --data FILE (or 'data:' in the --config file)")
    is_series = series or bool(params.pop("series", False))
    cls = SequenceClassifier if is_series else TextClassifier
    est = cls(**params).fit(str(data), val_data=_opt(val or files["val"]), test_data=_opt(test or files["test"]),
                            out=out)
    _report(est)


def load_classifier_class(run: Path):
    from lstmkit.runs import read_meta
    from lstmkit.tasks.classify.estimator import TASK, _class_for
    return _class_for(read_meta(run, TASK), run)


def _opt(p) -> str | None:
    return None if p is None else str(p)


def _report(est) -> None:
    for part, m in est.metrics_.items():
        typer.echo(f"\n{'Test' if part == 'test' else 'Validation'} metrics, {format_report(m)}")
    r = est.result_
    typer.echo(f"\nepochs {r.epochs_run}, best epoch {r.best_epoch}{' (early stop)' if r.stopped_early else ''}")
    typer.echo(f"run folder: {est.run_dir_}")


def _read_input(est, data: str, encoding: Optional[str]):
    """A path, or ``-``: one text (or one series of numbers) per line of standard input."""
    if encoding:
        est.config_.encoding = encoding
    if data != "-":
        return data
    lines = [ln for ln in sys.stdin.read().splitlines() if ln.strip()]
    if not lines:
        raise LstmkitError("no input on standard input", "pipe one text (or one series) per line")
    if isinstance(est, TextClassifier):
        return lines
    from lstmkit.tasks.classify.data import parse_series_lines
    seqs, _ = parse_series_lines(lines, labelled=False, where="stdin ")
    return seqs


@app.command()
def predict(run: Path = typer.Option(..., help="Run folder from 'train'."),
            data: str = typer.Option(..., help="File as in training (labels optional), or - for stdin lines."),
            encoding: Optional[str] = typer.Option(None, help="Text encoding of the file [as in training]."),
            out: Optional[Path] = typer.Option(None, help="Write the CSV here instead of stdout.")):
    """Label and probability of the predicted label, one row per input row."""
    import pandas as pd
    est = load_classifier(run)
    proba = est.predict_proba(_read_input(est, data, encoding))
    df = pd.DataFrame({"label": [est.classes_[k] for k in proba.argmax(axis=1)],
                       "probability": proba.max(axis=1).round(6)})
    if out is None:
        typer.echo(df.to_csv(index=False), nl=False)
    else:
        from lstmkit.runs import atomic_write
        atomic_write(out, lambda tmp: df.to_csv(tmp, index=False))
        typer.echo(f"wrote {len(df)} rows to {out}")


@app.command()
def evaluate(run: Path = typer.Option(..., help="Run folder from 'train'."),
             data: Path = typer.Option(..., help="Labelled file in the training format."),
             encoding: Optional[str] = typer.Option(None, help="Text encoding of the file [as in training]."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a report.")):
    """Accuracy, macro-F1, per-class precision/recall, ROC-AUC (two classes) on labelled data."""
    est = load_classifier(run)
    metrics = est.evaluate(_read_input(est, str(data), encoding))
    typer.echo(json.dumps(metrics, indent=2) if as_json else format_report(metrics))


@app.command()
def attention(run: Path = typer.Option(..., help="Run folder of a text model trained with --pooling attention."),
              text: str = typer.Option(..., help="The text to colour (quote it)."),
              out: Path = typer.Option(Path("attention.html"), help="Output .html or .png.")):
    """Colour each word of a text by its attention weight (HTML or PNG)."""
    est = load_classifier(run)
    if not isinstance(est, TextClassifier):
        raise LstmkitError(f"{run} is a numeric-sequence model", "the attention view colours words of text models")
    path = est.write_attention(text, out)
    tokens, weights, label, p = est.attention(text)
    top = sorted(zip(weights, tokens), reverse=True)[:5]
    typer.echo(f"predicted {label} (p = {p:.3f}); most attended: " + ", ".join(f"{t} {w:.2f}" for w, t in top))
    typer.echo(f"wrote {path}")
