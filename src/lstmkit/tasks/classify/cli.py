"""``lstmkit classify train | predict | evaluate | attention``."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from lstmkit.cli_config import progress_option
from lstmkit.cli_train import add_train_command, check_resume_flags, echo_run_end, task_app
from lstmkit.errors import LstmkitError, opt
from lstmkit.table_out import check_table_out, echo_or_write_table, out_file
from lstmkit.tasks.classify.config import (ENCODER_DEFAULTS, SERIES_DEFAULTS, TEXT_DEFAULTS, ClassifyConfig,
                                           check_given)

__all__ = ["app", "attention"]

app = task_app("Sequence classification (text or numeric): train, predict, evaluate.")


def _fit(cls, files: dict, settings: dict, out: Path):
    series = settings.pop("series", False)
    if not isinstance(series, bool):        # 'series: "no"' in a settings file, text that is true: read as series
        raise LstmkitError(f"`series` must be true or false, got {series!r}", f"check {opt('series')}")
    if series:
        from lstmkit.tasks.classify.estimator import SequenceClassifier as cls
    # only the keys the user gave (flags, YAML) go in: a SequenceClassifier's own defaults fill the rest.
    # The other kind's keys can only come from a YAML shared by both kinds (check_given refused their flags).
    return cls(**cls.own_settings(settings)).fit(files["data"], val_data=files["val"], test_data=files["test"], out=out)


def _report(est) -> None:
    from lstmkit.train.metrics import format_report
    names = {"test": "Test", "val": "Validation", "train": "Training"}
    for part, m in est.metrics_.items():
        typer.echo(f"\n{names.get(part, part)} metrics, {format_report(m)}")
        mixed = _mix_note(est) if part == "val" else None
        if mixed:
            typer.echo(mixed)
        if part == "train":          # a --test file's scores follow: no advice to pass one
            typer.echo("(scored on the data it trained on, none held out: they flatter the model"
                       + ("; the test metrics below are on unseen data)" if "test" in est.metrics_ else
                          "; pass --test FILE (or --val FILE) for scores on unseen data)"))
    echo_run_end(est, lead="\n")


def _mix_note(est) -> str | None:
    """Under the validation metrics of a text model whose word scores were mixed in after training: its
    NLL is the mix's, and history.csv's val_loss (the epoch lines, plots/loss.png) the network's alone,
    both of one validation part (0.6514 beside a best val_loss of 0.6926, with no word of why). None
    without a mix (word_scores off, nothing held out, or a weight of 0 on the scores)."""
    mix = (getattr(est, "data_summary_", None) or {}).get("word_score_mix")
    if not mix or not mix[1]:
        return None
    r = est.result_
    best = next((h.get("val_loss") for h in r.history if h.get("epoch") == r.best_epoch), None)
    if r.monitored != "val_loss" or best is None:
        return None
    weighted = ", weighted by the class weights" if getattr(est, "class_weights_", None) is not None else ""
    return (f"(the NLL above is of the answers as they are: the network's logits mixed after training with the word "
            f"scores, {mix[0]:g} x network + {mix[1]:g} x word scores (lstmkit.json's data.word_score_mix); "
            f"history.csv's val_loss, {best:.4f} at the best epoch, is the network's alone{weighted})")


def _zoo_series_defaults() -> str:
    """The help's line on the defaults of --series with a zoo encoder (--model lstm, ...), which are
    neither LSTM-FCN's ('--series: 8' beside --hidden-size) nor a text run's: ENCODER_DEFAULTS over
    ClassifyConfig's, as SequenceClassifier trains with them."""
    from lstmkit.config import flatten_config
    from lstmkit.errors import flag
    config = flatten_config(ClassifyConfig().to_dict())
    fcn, zoo = {**config, **SERIES_DEFAULTS}, {**config, **ENCODER_DEFAULTS}
    shown = ", ".join(f"{flag(key)} {'none' if zoo[key] is None else zoo[key]}" for key in zoo
                      if key not in ("model", "series") and zoo[key] != fcn[key])
    return (f"The '--series:' defaults are LSTM-FCN's ({flag('model')} {SERIES_DEFAULTS['model']}); --series with "
            f"a zoo encoder ({flag('model')} lstm, ...) trains with {shown}, and the rest as LSTM-FCN.")


train = add_train_command(
    app, ClassifyConfig, "lstmkit.tasks.classify.estimator:TextClassifier", _report,
    doc="Train a classifier; print validation (and test) metrics beside the majority-class baseline.\n\n"
        + _zoo_series_defaults(),
    files={"data": "CSV/TSV/JSONL/XLSX/Parquet, a folder of class folders of .txt, a fastText .txt (__label__NAME "
                   "text), a headerless class-index CSV (AG News, Yelp: classes.txt beside it names the classes), or "
                   "for --series a UCR .tsv, .ts (sktime/aeon) or .arff (Weka) / long table.",
           "val": "Validation file (else a stratified split of --data).",
           "test": "Test file, scored once after training."},
    required=("data", "no data given", "pass --data FILE (or 'data:' in the --config file)"),
    fit=_fit, resume=lambda cls, run, files, flags: cls.resume(
        run, data=files["data"], val_data=files["val"], test_data=files["test"], **check_resume_flags(run, flags)),
    check=lambda flags, settings: check_given(flags, bool(settings.get("series")), settings),
    schedule=lambda settings: _schedule(settings),
    defaults=TEXT_DEFAULTS, other=("--series", SERIES_DEFAULTS))   # the estimators' defaults, not the config's


def _schedule(settings: dict) -> str:
    """The learning-rate schedule of a run of ``settings`` that names none: LSTM-FCN's (``--series``'
    default model) is cosine, a zoo encoder's and a text model's plateau."""
    if not settings.get("series"):
        return "plateau"
    from lstmkit.nn.fcn import FCN_MODELS
    from lstmkit.tasks.classify.series_estimator import SequenceClassifier
    model = settings.get("model", SequenceClassifier._defaults["model"])
    return SequenceClassifier._family_config(fcn=model in FCN_MODELS).train.lr_schedule


def _read_input(est, data: str, encoding: Optional[str], text: Optional[str] = None, label: Optional[str] = None):
    """A path, or ``-``: one text (or one series of numbers) per line of standard input, or a text
    model's table there, read as its file would be when its header line names the text column. ``text``
    and ``label`` name this file's columns when they differ from the training file's."""
    if encoding:
        est.config_.encoding = encoding
    given = next((f"--{name}" for name, v in (("text", text), ("label", label)) if v is not None), None)
    if text is not None and est.kind != "text":
        raise LstmkitError("--text names the text column of a text model's data; this is a numeric-sequence model",
                           "drop --text")
    if text is not None:
        est.config_.text = text
    if label is not None:
        est.config_.label = label
    if data != "-":
        return data
    from lstmkit.tasks.classify.data import lines_of_text
    from lstmkit.data.textfile import read_stdin_text
    raw = read_stdin_text(est.config_.encoding)
    lines = lines_of_text(raw, " on standard input")
    if not lines:
        raise LstmkitError("no input on standard input", "pipe one text (or one series) per line")
    if est.kind == "text" and len(lines) > 1 and _names_column(lines[0], est.config_.text):
        # a table piped in (cat test.csv |): its header was predicted as a text, and each row's label and
        # other cells read as words of its text
        from lstmkit.data.columns import table_column
        from lstmkit.data.tables import pipe_as_file, read_table
        suffix = ".tsv" if "\t" in lines[0] else ".csv"
        with pipe_as_file(Path("-"), given=raw.encode("utf-8"), suffix=suffix) as copy:
            table = read_table(copy)
        # its text column named with a space (a header 'sentiment, review'): the file's error and fix, --text,
        # where the DataFrame's was told (rename the DataFrame's column, df.rename(...))
        table_column(table, est.config_.text, "text", " on standard input")
        return table
    if given:                             # lines of standard input have no columns: the name would be ignored
        raise LstmkitError(f"{given} names a column of a table; standard input holds lines of text, no header "
                           f"naming {est.config_.text if given == '--text' else est.config_.label!r}",
                           f"drop {given}, or pipe a table whose first line names its columns (or pass the file "
                           "with --data FILE)")
    if est.kind == "text":
        from lstmkit.data.textsets import fasttext_lines
        labelled = fasttext_lines(raw, " on standard input", labels=False)   # a fastText file piped: its texts
        return lines if labelled is None else labelled.texts
    from lstmkit.tasks.classify.ucrfile import parse_series_lines
    seqs, _ = parse_series_lines(lines, labelled=False, where="stdin ")
    steps = est.steps_ if not est.config_.unequal_length else None
    if steps and est.scaler_.n_columns_ == 1 and all(len(s) == steps + 1 for s in seqs):
        raise LstmkitError(f"every line on standard input has {steps + 1} values, the model reads series of {steps}: "
                           "is the first a label (a UCR file)?", "drop it (cut -f2- FILE), or pass the file itself "
                           "with --data FILE")
    return seqs


def _names_column(line: str, name: str) -> bool:
    """Whether ``line``, read as a CSV or TSV header (a tab in it: TSV), names the column ``name``."""
    import csv
    cells = next(csv.reader([line.lstrip("\ufeff")], delimiter="\t" if "\t" in line else ","), [])
    return name.strip() in (cell.strip() for cell in cells)


@app.command()
def predict(run: Path = typer.Option(..., help="Run folder from 'train'."),
            data: str = typer.Option(..., help="File as in training (labels optional), or - for standard input: one "
                                  "text a line, or a table whose header names the text column."),
            encoding: Optional[str] = typer.Option(None, help="Text encoding of the file.  [default: as in training]"),
            text: Optional[str] = typer.Option(None, help="Text column of this file.  [default: as in training]"),
            out: Optional[Path] = typer.Option(None, help="Write the table here instead of stdout (.csv, "
                                                               ".tsv, .parquet, .json, .jsonl or .xlsx; - for CSV on "
                                                               "stdout).",
                                            parser=out_file("predictions.csv"), metavar="<path>"),
            probabilities: bool = typer.Option(False, "--probabilities", help="Add each class's probability as a "
                                               "column p_<class>, unrounded, from which evaluate's nll, brier and "
                                               "roc_auc can be computed again."),
            progress: str = progress_option()):
    """Label and probability of the predicted label, one row per input row (a long table: per
    sample, after a column of its ids)."""
    import pandas as pd
    from lstmkit.tasks.classify.estimator import load_classifier
    check_table_out(out, example="predictions.csv", inputs={"data": data})
    est = load_classifier(run).set_params(progress=progress)
    given = _read_input(est, data, encoding, text)
    if est.kind == "series" and data != "-":
        given = est.read(given)
    proba = est.predict_proba(given)
    names = [est.class_names_[k] for k in est.class_order()]         # predict_proba's columns
    df = pd.DataFrame({"label": [names[k] for k in proba.argmax(axis=1)],
                       "probability": proba.max(axis=1).round(6)})
    if probabilities:       # the predicted label's alone scores no log loss of a row it got wrong (of 3+ classes)
        for k, name in enumerate(names):    # as predict_proba gives them: rounded to 6 decimals, a confident
            df[f"p_{name}"] = proba[:, k]   # miss's 1e-9 read 0 (log loss 36, not 21) and near-1 ones tied (ROC-AUC)
    if not isinstance(given, pd.DataFrame) and getattr(given, "ids", None) is not None:   # not a column 'ids'
        df.insert(0, getattr(given, "id_name", None) or est.config_.sample, given.ids)
    echo_or_write_table(df, out)


@app.command()
def evaluate(run: Path = typer.Option(..., help="Run folder from 'train'."),
             data: Path = typer.Option(..., help="Labelled file in the training format."),
             encoding: Optional[str] = typer.Option(None, help="Text encoding of the file.  [default: as in training]"),
             text: Optional[str] = typer.Option(None, help="Text column of this file.  [default: as in training]"),
             label: Optional[str] = typer.Option(None, help="Label column of this file.  [default: as in training]"),
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a report."),
             progress: str = progress_option()):
    """Accuracy, macro-F1, per-class precision/recall, ROC-AUC (two classes) on labelled data."""
    from lstmkit.tasks.classify.estimator import load_classifier
    from lstmkit.train.metrics import format_report
    est = load_classifier(run).set_params(progress=progress)
    metrics = est.evaluate(_read_input(est, str(data), encoding, text, label))
    from lstmkit.run_metric import evaluated_keys
    from lstmkit.runs import to_json
    keys = evaluated_keys(run, str(data.resolve()), {"test": metrics})     # scored as its test file is
    said = {**metrics, **{k: v for k, v in keys.items() if k not in metrics}}
    typer.echo(to_json(said, indent=2) if as_json else format_report(metrics))


@app.command()
def attention(run: Path = typer.Option(..., help="Run folder of a text model trained with --pooling attention."),
              text: str = typer.Option(..., help="The text to colour (quote it)."),
              out: Path = typer.Option(Path("attention.html"), help="Output .html, or a plot: .png, .svg, .pdf.")):
    """Colour each word of a text by its attention weight (HTML, or a PNG, SVG or PDF plot)."""
    from lstmkit.tasks.classify.estimator import load_classifier
    est = load_classifier(run)
    if est.kind != "text":
        raise LstmkitError(f"{run} is a numeric-sequence model", "the attention view colours words of text models")
    path = est.write_attention(text, out)
    tokens, weights, label, p = est.attention(text)
    top = sorted(zip(weights, tokens), reverse=True)[:5]
    typer.echo(f"predicted {label} (p = {p:.3f}); most attended: " + ", ".join(f"{t} {w:.2f}" for w, t in top))
    typer.echo(f"wrote {path}")
