"""``lstmkit translate train | run | evaluate``."""
from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path
from typing import List, Optional

import typer

from lstmkit.cli_config import progress_option
from lstmkit.cli_train import add_train_command, check_resume_flags, echo_run_end, task_app
from lstmkit.errors import LstmkitError, missing_path_fix
from lstmkit.table_out import out_file
from lstmkit.tasks.translate.config import TranslateConfig, check_given

__all__ = ["app"]

app = task_app("Translation with an LSTM encoder-decoder: train, run, evaluate.")


def _fit(cls, files: dict, settings: dict, out: Path):
    if (files["src_file"] is None) != (files["tgt_file"] is None):
        raise LstmkitError("--src-file and --tgt-file go together", "pass both, or a table with --data")
    if files["src_file"] is not None:
        _no_columns([side for side in ("src", "tgt") if side in settings], "--src-file and --tgt-file")
    return cls(**settings).fit(files["data"], src_file=files["src_file"], tgt_file=files["tgt_file"],
                               val_data=files["val"], val_src_file=files["val_src_file"],
                               val_tgt_file=files["val_tgt_file"], out=out)


def _report(est) -> None:
    d = est.data_summary_
    typer.echo(f"pairs read {d['pairs']}, empty dropped {d['dropped_empty']}, longer than max-len dropped "
               f"{d['dropped_too_long']}, duplicates dropped {d['duplicates']}; train {d['split']['train']}, "
               f"val {d['split']['val']}")
    sides = [name for name, side in (("source", "src"), ("target", "tgt")) if d.get("characters", {}).get(side)]
    if sides:
        typer.echo(f"{' and '.join(sides)} written without spaces between words: one token per character")
    for name, m in est.metrics_.items():
        typer.echo(_format(f"validation (beam {m['beam']})", m))
    echo_run_end(est)


def _no_columns(given: list[str], files: str) -> None:
    """Line-aligned files have no columns: a --src or --tgt given with them would be ignored."""
    if given:
        raise LstmkitError(f"--{given[0]} names a column of a --data table; {files} have none",
                           f"drop --{given[0]} (or pass a table with --data)")


def _format(title: str, m: dict) -> str:
    said = (f"{title}: BLEU {m['bleu']:.2f}  chrF {m['chrf']:.2f}  ({m['sentences']} sentences, "
            f"{m['sentences_per_second']:.1f}/s)\n  {m['bleu_signature']}\n  {m['chrf_signature']}")
    if m.get("lowercase"):
        said += "\n  scored case-insensitively (case:lc: --lowercase, or a model trained with it, which writes no capital)"
    if m.get("references_unescaped"):
        said += (f"\n  {m['references_unescaped']} reference(s) held HTML character references (&amp;, &#39;): "
                 "unescaped before scoring, as the model reads and writes them")
    if m.get("references_normalised"):
        said += (f"\n  {m['references_normalised']} reference(s) held characters the model writes in another form "
                 "('…' as '...', '，' as ',', a decomposed 'é' as one character: Unicode NFKC): scored in that form, "
                 "as the model reads and writes them")
    return said


def _resume(cls, run: Path, files: dict, flags: dict):
    """Continue ``run`` on the files it recorded, or on those given: their new place (the run and
    its data moved), checked to hold the same data."""
    shown = check_resume_flags(run, flags)
    return cls.resume(run, **{"val_data" if k == "val" else k: v for k, v in files.items() if v is not None}, **shown)


train = add_train_command(
    app, TranslateConfig, "lstmkit.tasks.translate.estimator:Translator", _report,
    doc="Train a translator; print validation BLEU and chrF (greedy and beam) with their signatures.",
    files={"data": "CSV/TSV/JSONL/XLSX/Parquet with a source and a target column.",
           "src_file": "Source sentences, one per line (with --tgt-file).",
           "tgt_file": "Target sentences, line-aligned with --src-file.",
           "val": "Validation table (else a split of --data).",
           "val_src_file": "Validation source file.",
           "val_tgt_file": "Validation target file."},
    fit=_fit, resume=_resume, check=check_given)


@app.command()
def run(run: Path = typer.Option(..., help="Run folder from 'train'."),
        beam: Optional[int] = typer.Option(None, help="Beam width (1 = greedy).  [default: as trained, 5]"),
        alpha: Optional[float] = typer.Option(None, help="Length penalty alpha (0 ranks by the sum of "
                                                  "log-probabilities).  [default: as trained (--length-penalty), 1.0]"),
        data: Optional[Path] = typer.Option(None, help="File of source sentences, one a line.  [default: standard input]"),
        encoding: Optional[str] = typer.Option(None, help="Text encoding of the input (--data or standard "
                                               "input).  [default: as in training, utf-8]")):
    """Translate standard input (or --data FILE): one translation per input line, written as each line arrives
    (an empty line gives an empty line, so output lines stay aligned with input lines; input without any
    sentence is an error)."""
    import codecs
    from lstmkit.tasks.translate.estimator import Translator
    try:
        if encoding is not None:
            codecs.lookup(encoding)
    except LookupError:
        raise LstmkitError(f"unknown encoding {encoding!r}", "pass --encoding utf-8, latin-1, cp1252, …") from None
    source = None if data is None or str(data) == "-" else Path(data)
    meta = None                                  # the run's lstmkit.json, where read before the input
    if source is not None:
        from lstmkit.data.textfile import check_readable
        from lstmkit.tasks.translate.data import check_not_markup, check_sources, read_lines
        if not source.exists():
            raise LstmkitError(f"{source} not found", missing_path_fix(source, "pass a text file of source "
                                                      "sentences, one a line (or pipe them to standard input)"))
        check_not_markup(source)
        check_sources(source)
        check_readable(source, "pass a text file of source sentences, one a line")
        meta = _finished(run)
        encoding = encoding or _trained_encoding(run, meta)     # a run trained on latin-1 files reads its new ones so
        lines = read_lines(source, encoding)         # a file is read whole: its encoding errors name their line
        check_sources(source, lines)
        stream = iter(lines)                         # its lines as standard input's; none with text refused
    est = Translator._load_read(run, meta)           # a run that did not read: its error, after the input's
    encoding = encoding or est.config_.encoding
    if source is None:
        stream = sys.stdin
        if hasattr(stream, "buffer"):
            stream = io.TextIOWrapper(*_with_its_encoding(stream.buffer, encoding), errors="strict")
    where = str(source) if source is not None else "standard input"
    lineno = sentences = 0
    try:
        for line in stream:
            lineno += 1
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", UserWarning)
                text = line.rstrip("\r\n")
                out = est.translate([text], beam=beam, alpha=alpha)[0] if text.strip() else ""
                sentences += bool(text.strip())
            for w in caught:
                print(f"warning: line {lineno}: {w.message}", file=sys.stderr)
            sys.stdout.write(out + "\n")
            sys.stdout.flush()
    except UnicodeError as e:            # UnicodeDecodeError, or utf-16's "stream does not start with BOM"
        raise LstmkitError(f"{where} line {lineno + 1} is not valid {encoding} ({getattr(e, 'reason', e)})",
                           "convert the input to UTF-8 or pass --encoding") from None
    if not sentences:                    # standard input: a file without one was refused before the model loaded
        blank = f" ({lineno} empty line{'s' * (lineno > 1)}, no sentence)" if lineno else ""
        raise LstmkitError(f"no input on standard input{blank}", "pipe source sentences, one a line, or pass --data FILE")


def _finished(run: Path) -> dict | None:
    """The finished ``run``'s ``lstmkit.json``, read once for its encoding and its load; None where it
    is not one (its load then says why, after the input's faults)."""
    from lstmkit.runs import finished_meta
    try:
        return finished_meta(run, "translate")
    except LstmkitError:
        return None


def _trained_encoding(run: Path, meta: dict | None) -> str:
    """The text encoding ``run`` was trained with (``--encoding``; ``meta``: its finished ``lstmkit.json``,
    None where it is not finished), which its new files are read with unless ``--encoding`` is given:
    ``translate run`` read them as UTF-8 whatever the run's, so a run trained on latin-1 files refused the
    next one ('not valid utf-8'), as evaluate did not. A run that cannot be read gives UTF-8 here: what is
    wrong with the input is said first, as before, and the run's own fault when it loads."""
    from lstmkit.runs import read_meta
    try:
        meta = meta if meta is not None else read_meta(run, "translate")    # an unfinished run's: as before
        return meta["config"].get("encoding") or "utf-8"
    except (LstmkitError, KeyError, TypeError, AttributeError):
        return "utf-8"


def _with_its_encoding(raw, encoding: str):
    """``(raw, encoding)`` to read standard input's bytes ``raw`` with, as a file is read: with UTF-8
    (the default), a byte-order mark is dropped or names UTF-16 / UTF-32 (PowerShell and Notepad write
    one: it was read into the first sentence, and a UTF-16 one was 'not valid utf-8'). Peeks, so
    lines still stream as they arrive."""
    from lstmkit.data.textfile import bom_encoding
    if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
        return _LineReads(raw), encoding
    if not hasattr(raw, "peek"):
        raw = io.BufferedReader(raw)
    return _LineReads(raw), bom_encoding(raw.peek(4)[:4]) or "utf-8-sig"


class _LineReads(io.BufferedIOBase):
    """Bytes ``raw`` handed to a text wrapper one line at a time, so it decodes no line ahead: it read
    and decoded 8 KiB at once, so a bad byte on line 5 was 'line 1 is not valid utf-8', lines 1-4 left
    untranslated."""

    def __init__(self, raw):
        super().__init__()
        self._raw = raw

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:       # a text wrapper reads its lines through read1 alone
        return self._raw.readline()


@app.command()
def evaluate(run: Path = typer.Option(..., help="Run folder from 'train'."),
             src_file: Optional[Path] = typer.Option(None, help="Source sentences, one per line."),
             ref_file: Optional[List[Path]] = typer.Option(None, help="Reference translations, line-aligned; again "
                                                           "for more references of each sentence (nrefs)."),
             data: Optional[Path] = typer.Option(None, help="Or a table of pairs as in training (CSV/TSV/JSONL/XLSX/"
                                                            "Parquet) instead of the two files."),
             src: Optional[str] = typer.Option(None, help="Source column of --data.  [default: as in training]"),
             tgt: Optional[str] = typer.Option(None, help="Reference column of --data.  [default: as in training]"),
             encoding: Optional[str] = typer.Option(None, help="Text encoding of the files.  [default: as in training]"),
             beam: Optional[int] = typer.Option(None, help="Beam width (1 = greedy).  [default: as trained]"),
             out: Optional[Path] = typer.Option(None, help="Per-sentence table (BLEU, source, reference, output): "
                                                           ".tsv, .csv, .xlsx, .parquet, .json or .jsonl (another "
                                                           "name: TSV); - for CSV on stdout, the report on stderr.",
                                         parser=out_file("sentences.tsv"), metavar="<path>"),
             lowercase: Optional[bool] = typer.Option(None, "--lowercase/--cased", help="Score case-insensitively "
                                                      "(sacrebleu -lc) or not.  [default: case-insensitive only for a "
                                                      "model trained with --lowercase]"),
             tokenize: Optional[str] = typer.Option(None, help="sacrebleu's BLEU tokenizer: 13a, intl, zh, char, "
                                                    "ja-mecab, ko-mecab, flores101, flores200, none.  [default: 13a; "
                                                    "zh or char for references written without spaces]"),
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a report."),
             progress: str = progress_option()):
    """BLEU and chrF (sacrebleu) of the model's translations against reference translations."""
    from lstmkit.tasks.translate.estimator import Translator
    ref_file = ref_file or None          # none given: [] or None, as typer has it
    if data is None and (src_file is None or ref_file is None):
        raise LstmkitError("nothing to evaluate on: " + ("--src-file without --ref-file" if src_file is not None else
                           "--ref-file without --src-file" if ref_file is not None else "no data given"),
                           "pass --src-file and --ref-file (line-aligned files), or --data TABLE")
    from lstmkit.table_out import check_table_out, is_standard_output, off_standard_output
    check_table_out(out, example="sentences.tsv",      # a suffix no writer has refused, as every table command's
                    inputs={"data": data, "src_file": src_file, "ref_file": ref_file})
    est = Translator.load(run).set_params(progress=progress)
    columns = {side: column for side, column in (("src", src), ("tgt", tgt)) if column is not None}
    if data is None:
        _no_columns(list(columns), "--src-file and --ref-file")
    for side, column in columns.items():
        setattr(est.config_, side, column)
    if encoding:                  # a file's 'not valid utf-8' error says to pass --encoding: evaluate had none
        est.config_.encoding = encoding
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        m = est.evaluate(data, src_file=src_file, ref_file=ref_file, beam=beam, out_file=out, lowercase=lowercase,
                         tokenize=tokenize)
    for message in dict.fromkeys(str(w.message) for w in caught):    # reading's notes and the truncation count
        print(f"warning: {message}", file=sys.stderr)
    from lstmkit.run_metric import evaluated_keys
    from lstmkit.runs import to_json
    keys = evaluated_keys(run, str((data or src_file).resolve()), {"val": m})     # the beam it was asked for
    said = {**m, **{k: v for k, v in keys.items() if k not in m}}
    with off_standard_output(out):     # --out - or /dev/stdout: the table alone there
        typer.echo(to_json(said, indent=2) if as_json else _format(f"{(data or src_file).name} (beam {m['beam']})", m))
    if out is not None:                # beside --json: on standard error, so that standard output is the JSON alone
        typer.echo(f"wrote {'the sentences to standard output' if str(out) == '-' else out}",
                   err=as_json or is_standard_output(out))
