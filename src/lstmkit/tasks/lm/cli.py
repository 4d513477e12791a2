"""``lstmkit lm train | sample | evaluate``."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from lstmkit.config import load_yaml, merge
from lstmkit.runs import write_json
from lstmkit.tasks.lm.estimator import LanguageModel

__all__ = ["app"]

app = typer.Typer(help="Language models (next token, char / word / BPE): train, sample, evaluate.",
                  no_args_is_help=True, add_completion=False)


@app.command()
def train(
    data: Optional[Path] = typer.Option(None, help="Text file, one sentence (or paragraph) per line."),
    val: Optional[Path] = typer.Option(None, help="Validation text (else a held-out share of the lines)."),
    level: Optional[str] = typer.Option(None, help="char, word or bpe [char]."),
    lowercase: Optional[bool] = typer.Option(None, "--lowercase/--keep-case", help="Lower-case the text [on]."),
    min_freq: Optional[int] = typer.Option(None, help="Rarer tokens become <unk> [1 char, 2 word/bpe]."),
    max_size: Optional[int] = typer.Option(None, help="Vocabulary cap (BPE: target size) [none / 30000 / 8000]."),
    max_len: Optional[int] = typer.Option(None, help="Tokens per training sequence; longer lines are cut [256]."),
    val_frac: Optional[float] = typer.Option(None, help="Held-out share of the lines when no --val [0.1]."),
    embed_dim: Optional[int] = typer.Option(None, help="Embedding width [128]."),
    model: Optional[str] = typer.Option(None, help="Causal encoder from the zoo [lstm]."),
    hidden_size: Optional[int] = typer.Option(None, help="Hidden units per layer [256]."),
    layers: Optional[int] = typer.Option(None, help="Encoder layers [2]."),
    dropout: Optional[float] = typer.Option(None, help="Dropout [0.2]."),
    tie_weights: Optional[bool] = typer.Option(None, "--tie-weights", help="Share embedding and output layer."),
    encoding: Optional[str] = typer.Option(None, help="Text encoding of the files [utf-8]."),
    epochs: Optional[int] = typer.Option(None, help="Maximum epochs (early stopping ends sooner) [20]."),
    batch_size: Optional[int] = typer.Option(None, help="Sequences per mini-batch [32]."),
    lr: Optional[float] = typer.Option(None, help="Adam learning rate [2e-3]."),
    patience: Optional[int] = typer.Option(None, help="Early-stopping patience in epochs [3]."),
    seed: Optional[int] = typer.Option(None, help="Random seed [42]."),
    device: Optional[str] = typer.Option(None, help="auto, cpu, cuda [auto]."),
    progress: Optional[str] = typer.Option(None, help="auto, bar, log, off [auto]."),
    precision: Optional[str] = typer.Option(None, help="fp32 or bf16 [fp32]."),
    config: Optional[Path] = typer.Option(None, help="YAML file with any of these settings; flags win."),
    out: Path = typer.Option(Path("runs"), help="Folder that receives the run folder."),
    resume: Optional[Path] = typer.Option(None, help="Continue an interrupted run folder."),
):
    """Train a language model; print the held-out perplexity (and bits per character)."""
    if resume is not None:
        _report(LanguageModel.resume(resume, data=_opt(data), val=_opt(val)))
        return
    flags = {"level": level, "lowercase": lowercase, "min_freq": min_freq, "max_size": max_size,
             "max_len": max_len, "val_frac": val_frac, "embed_dim": embed_dim, "model": model,
             "hidden_size": hidden_size, "num_layers": layers, "dropout": dropout, "tie_weights": tie_weights,
             "encoding": encoding,
             "train": {"max_epochs": epochs, "batch_size": batch_size, "lr": lr, "patience": patience,
                       "seed": seed, "device": device, "progress": progress, "precision": precision}}
    params = merge(load_yaml(config) if config else {}, flags)
    files = {k: params.pop(k, None) for k in ("data", "val")}
    source = _opt(data) or files["data"]
    if source is None:
        from lstmkit.errors import LstmkitError
        raise LstmkitError("no training text given", "pass --data corpus.txt (one sentence per line)")
    est = LanguageModel(**params).fit(source, _opt(val) or files["val"], out=out)
    _report(est)


def _report(est: LanguageModel) -> None:
    d = est.data_summary_
    typer.echo(f"lines: train {d['split']['train']}, val {d['split']['val']} (blank skipped {d['blank_lines']}); "
               f"{d['train_tokens']} training tokens, vocabulary {d['vocab']}")
    typer.echo(_format("validation", est.metrics_["val"]))
    r = est.result_
    typer.echo(f"epochs {r.epochs_run}, best epoch {r.best_epoch}{' (early stop)' if r.stopped_early else ''}")
    typer.echo(f"run folder: {est.run_dir_}")


def _format(title: str, m: dict) -> str:
    bpc = f", {m['bits_per_char']:.3f} bits per character" if "bits_per_char" in m else ""
    return (f"{title}: perplexity {m['perplexity']:.3f} per {m['level']} token{bpc} "
            f"({m['tokens']} tokens in {m['lines']} lines, <unk> {100 * m['unk_rate']:.2f}%)")


def _opt(p) -> str | None:
    return None if p is None else str(p)


@app.command()
def sample(run: Path = typer.Option(..., help="Run folder from 'lm train'."),
           prefix: str = typer.Option("", help="Text the sample continues."),
           n: int = typer.Option(200, help="Tokens to draw (line ends start a new line)."),
           temperature: float = typer.Option(0.8, help="Below 1 more conservative, above 1 more varied."),
           top_k: Optional[int] = typer.Option(None, help="Draw only from the k most likely tokens."),
           seed: Optional[int] = typer.Option(None, help="Random seed (same seed, same text).")):
    """Generate text from a trained language model."""
    est = LanguageModel.load(run)
    typer.echo(est.sample(n, prefix=prefix, temperature=temperature, top_k=top_k, seed=seed))


@app.command()
def evaluate(run: Path = typer.Option(..., help="Run folder from 'lm train'."),
             data: Path = typer.Option(..., help="Text file, one sentence per line."),
             encoding: Optional[str] = typer.Option(None, help="Text encoding of the file [as trained, utf-8]."),
             out: Optional[Path] = typer.Option(None, help="Also write the metrics to this JSON file."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a report.")):
    """Perplexity of a text under the model (per token; bits per character at char level)."""
    est = LanguageModel.load(run)
    m = {**est.evaluate(str(data), encoding=encoding), "data": str(data.resolve())}
    if out is not None:
        write_json(out, m)
    typer.echo(json.dumps(m, indent=2) if as_json else _format(data.name, m))
