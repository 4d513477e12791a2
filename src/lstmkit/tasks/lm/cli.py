"""``lstmkit lm train | sample | evaluate``."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from lstmkit.cli_config import progress_option
from lstmkit.cli_train import add_train_command, echo_run_end, task_app
from lstmkit.errors import LstmkitError, percent
from lstmkit.table_out import out_file
from lstmkit.tasks.lm.config import LMConfig

__all__ = ["app"]

app = task_app("Language models (next token, char / word / BPE): train, sample, evaluate.")


def _report(est) -> None:
    d = est.data_summary_
    kept = f", {d['lines_kept']} kept by --max-tokens" if d.get("lines_kept") else ""
    files = f" from {d['text_files']} .txt files" if d.get("text_files") else ""
    typer.echo(f"lines{files}: train {d['split']['train']}, val {d['split']['val']} (blank skipped {d['blank_lines']}{kept}); "
               f"{d['train_tokens']} training tokens, vocabulary {d['vocab']}")
    if d.get("lines_cut"):             # trained in pieces: said with the share, as classify says its texts cut
        n, train = est.config_.max_len, d["split"]["train"]
        share = percent(d["lines_cut"] / train)     # 0.22%, 33.3%, 100% (.2g wrote every line cut as 1e+02%)
        typer.echo(f"{d['lines_cut']} of {train} training lines ({share}) are longer than "
                   f"--max-len {n} tokens: trained in pieces of {n}, each from a fresh state (evaluation reads them whole)")
    if d.get("val_is_tail"):
        typer.echo(f"the corpus is one line: its last {est.config_.val_frac:.0%} is the validation text")
    typer.echo(_format("validation", est.metrics_["val"]))
    echo_run_end(est)


def _format(title: str, m: dict) -> str:
    bpc = f", {m['bits_per_char']:.3f} bits per character" if "bits_per_char" in m else ""
    return (f"{title}: perplexity {m['perplexity']:.3f} per {m['level']} token{bpc} "
            f"({m['tokens']} tokens in {m['lines']} line{'s' * (m['lines'] != 1)}, <unk> {100 * m['unk_rate']:.2f}%)")


train = add_train_command(
    app, LMConfig, "lstmkit.tasks.lm.estimator:LanguageModel", _report,
    doc="Train a language model; print the held-out perplexity (and bits per character).",
    files={"data": "Text file, one sentence (or paragraph) per line (.gz too), or a .csv/.tsv/.jsonl table "
                   "whose --text-column rows are the sequences (labels ignored); a fastText file's or a "
                   "class-index CSV's (AG News) texts, labels dropped; or a folder of .txt files "
                   "(sub-folders too).",
           "val": "Validation text (else a held-out share of the lines)."},
    required=("data", "no training text given", "pass --data corpus.txt (one sentence per line)"))


@app.command()
def sample(run: Path = typer.Option(..., help="Run folder from 'lm train'."),
           prefix: str = typer.Option("", help="Text the sample continues (of several lines: its last, read alone)."),
           n: int = typer.Option(200, "--n", "--max-tokens", "--n-tokens",
                                 help="Tokens to draw, at most 1000000 (line ends start a new line); --max-tokens as "
                                      "the service's field, --n-tokens as Python's argument."),
           temperature: float = typer.Option(0.8, help="Below 1 more conservative, above 1 more varied; 0 draws the likeliest token each step (greedy)."),
           top_k: Optional[int] = typer.Option(None, help="Draw only from the k most likely tokens (and any tied with the k-th)."),
           top_p: Optional[float] = typer.Option(None, help="Nucleus sampling: draw only from the likeliest tokens "
                                                 "whose probabilities sum to p (above 0, at most 1), after "
                                                 "--temperature and --top-k."),
           seed: Optional[int] = typer.Option(None, help="Random seed (same seed, same text)."),
           progress: str = progress_option()):
    """Generate text from a trained language model."""
    from lstmkit.tasks.lm.estimator import LanguageModel
    est = LanguageModel.load(run).set_params(progress=progress)
    typer.echo(est.sample(n, prefix=prefix, temperature=temperature, top_k=top_k, seed=seed, top_p=top_p))


@app.command()
def evaluate(run: Path = typer.Option(..., help="Run folder from 'lm train'."),
             data: Path = typer.Option(..., help="Text file, one sentence per line, a table or a folder of .txt "
                                                 "files as in training; - for standard input's lines."),
             text_column: Optional[str] = typer.Option(None, help="Text column of a --data table.  [default: as trained, text]"),
             encoding: Optional[str] = typer.Option(None, help="Text encoding of the file.  [default: as trained, utf-8]"),
             out: Optional[Path] = typer.Option(None, help="Also write the metrics to this JSON file, as --json "
                                                           "prints them (- for standard output, the report on "
                                                           "stderr).",
                                         parser=out_file("metrics.json"), metavar="<path>"),
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a report."),
             progress: str = progress_option()):
    """Perplexity of a text under the model (per token; bits per character at char level)."""
    from lstmkit.runs import write_json
    from lstmkit.tasks.lm.estimator import LanguageModel
    if out is not None and out.suffix.lower() not in ("", ".json"):      # JSON under an .xlsx name, without a word
        raise LstmkitError(f"--out {out} names a {out.suffix} file, but lm evaluate writes its metrics as JSON",
                           f"name it {out.stem}.json")
    from lstmkit.table_out import STANDARD_OUTPUT, check_table_out, off_standard_output
    check_table_out(out, suffixes=None, example="metrics.json", inputs={"data": data})
    est = LanguageModel.load(run).set_params(progress=progress)
    piped = str(data) == "-"                # was 'file not found: -', its fix a Python list ([text])
    if piped and text_column is not None:
        raise LstmkitError("--text-column names a column of a --data table; standard input has none",
                           "drop --text-column (or pass the table with --data FILE)")
    given = _stdin_lines(encoding or est.config_.encoding) if piped else str(data)
    m = {**est.evaluate(given, encoding=encoding, text_column=text_column),
         "data": "standard input" if piped else str(data.resolve())}
    from lstmkit.run_metric import evaluated_keys
    from lstmkit.runs import to_json
    # --out holds what --json prints, run, task and metric with the numbers (a script reading the file
    # found no 'run' or 'metric' where --json gave them)
    said = {**m, **{k: v for k, v in evaluated_keys(run, m["data"], {"val": m}).items() if k not in m}}
    if out is not None and str(out) == STANDARD_OUTPUT:
        typer.echo(to_json(said, indent=2))
    elif out is not None:
        write_json(out, said)
    with off_standard_output(out):      # --out - or /dev/stdout: the JSON alone there, the report on stderr
        typer.echo(to_json(said, indent=2) if as_json else _format("standard input" if piped else data.name, m))


def _stdin_lines(encoding: str) -> list[str]:
    """Standard input's lines, decoded as a file's are (a bad byte names its line)."""
    from lstmkit.data.textfile import read_stdin_text, text_lines
    text = read_stdin_text(encoding)
    if not text.strip():
        raise LstmkitError("no input on standard input", "pipe the text to score, one sentence per line")
    return text_lines(text)
