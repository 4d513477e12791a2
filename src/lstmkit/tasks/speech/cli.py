"""``lstmkit speech train | transcribe | evaluate``."""
from __future__ import annotations

import contextlib
import sys
import tempfile
import warnings
from pathlib import Path
from typing import List, Optional

import typer

from lstmkit.cli_config import progress_option
from lstmkit.cli_train import add_train_command, echo_run_end, task_app
from lstmkit.errors import LstmkitError
from lstmkit.tasks.speech.config import SpeechConfig, check_given

__all__ = ["app"]

app = task_app("Speech: CTC / seq2seq recognition or spoken-word classification: train, transcribe, evaluate.")


def _report(est) -> None:
    d, split = est.data_summary_, est.data_summary_["split"]
    test = f", test {split['test']} kept out" if "test" in split else ""
    # --val's recordings are no part of --data's count: 'utterances 14 (train 14, val 3)' did not add up
    from_file = split["train"] + split.get("test", 0) == d["utterances"]
    typer.echo(f"utterances {d['utterances'] + split['val'] * from_file} (train {split['train']}, val {split['val']}"
               f"{' from --val' * from_file}{test}), "
               f"{d['hours']['train'] * 60:.1f} min of training audio at {d['sample_rate']} Hz")
    _print_metrics(est, est.metrics_["val"], "validation")
    if "val_beam" in est.metrics_:
        _print_metrics(est, est.metrics_["val_beam"], "validation")
    echo_run_end(est, extra=f", {est.train_seconds_:.1f} s")


def _lm_choice(lm: Optional[Path], no_lm: bool):
    """``--lm RUN`` or ``--no-lm`` (False) for the estimator; both at once was ``--no-lm`` without a word."""
    if lm is not None and no_lm:
        raise LstmkitError("--lm and --no-lm were both given", "keep one: --lm RUN to fuse that model, --no-lm for none")
    return False if no_lm else lm


def _print_metrics(est, m: dict, title: str) -> None:
    from lstmkit.tasks.speech.metrics import format_recognition
    if est.config_.mode == "classify":
        from lstmkit.train.metrics import format_report
        typer.echo(f"{title}: " + format_report(m))
    else:
        how = f"beam {m['beam']}" + (" + LM" if m.get("lm") else "")
        typer.echo(f"{title} ({how}): " + format_recognition(m))


train = add_train_command(
    app, SpeechConfig, "lstmkit.tasks.speech.estimator:SpeechRecognizer", _report,
    doc="Train a recogniser or classifier; print validation WER/CER (or accuracy) and the run folder.",
    files={"data": "Manifest CSV, .xlsx or .parquet (path,text), a folder of class folders (label = folder name), "
                   "a LibriSpeech folder (top, subset or chapter: .trans.txt beside .flac; test-* subsets never "
                   "trained on; Multilingual LibriSpeech alike), an LJSpeech folder (metadata.csv + wavs/) or "
                   "metadata file, or a folder of WAVs "
                   "(with --label-from-name).",
           "val": "Validation manifest or folder (else a split of --data)."},
    keywords={"val": "val_data"},
    required=("data", "no training data given", "pass --data MANIFEST.csv or --data FOLDER"),
    check=check_given)


@app.command()
def transcribe(run: Path = typer.Option(..., help="Run folder from 'train'."),
               files: List[Path] = typer.Argument(..., help="Audio files (WAV, FLAC, ...), or folders: every audio "
                                                   "file in them and their sub-folders (a LibriSpeech folder: in its "
                                                   "chapter folders), or - for a recording piped into standard input."),
               beam: Optional[int] = typer.Option(None, help="Beam width (1 = greedy).  [default: as trained]"),
               lm: Optional[Path] = typer.Option(None, help="Language-model run folder.  [default: as trained]"),
               no_lm: bool = typer.Option(False, "--no-lm", help="Decode without the run's language model."),
               progress: str = progress_option()):
    """Print one line per file: the file name, a tab, and its transcript (or label), written as they are
    decoded (a part of the files at a time), so a long folder stopped with Ctrl-C keeps the lines written."""
    from lstmkit.tasks.speech.data import audio_paths
    from lstmkit.tasks.speech.estimator import SpeechRecognizer
    est = SpeechRecognizer.load(run).set_params(progress=progress)
    choice = _lm_choice(lm, no_lm)
    with tempfile.TemporaryDirectory(prefix="lstmkit-stdin-") as tmp:
        piped = _stdin_recording(Path(tmp)) if "-" in map(str, files) else None
        paths = audio_paths([piped if str(f) == "-" else str(f) for f in files])   # a folder: its files, each by name
        done = 0
        try:     # each part's lines as it is decoded, as 'translate run' writes each line: Ctrl-C keeps those written
            with _warned_as_stdin(piped):
                for texts in est._transcribe_parts(paths, beam=beam, lm=choice):
                    for f, t in zip(paths[done:done + len(texts)], texts):
                        typer.echo(f"{'-' if f == piped else f}\t{t}")      # flushed: a pipe or file gets it now
                    done += len(texts)
        except LstmkitError as e:             # the copy of standard input is named as what it is
            if piped is not None:
                e.message, e.hint = (None if t is None else t.replace(piped, _STDIN) for t in (e.message, e.hint))
                e.args = (e.message,)
            raise


_STDIN = "standard input"


@contextlib.contextmanager
def _warned_as_stdin(piped: str | None):
    """The warnings given meanwhile with the copy of standard input (``piped``) named as what it is: one
    naming a file by its path (a seq2seq transcript cut at the longest the model writes) named the
    temporary folder's copy, '/tmp/lstmkit-stdin-…/standard input'."""
    if piped is None:
        yield
        return
    show = warnings.showwarning

    def renamed(message, category, filename, lineno, file=None, line=None):
        text = str(message)
        if piped in text:
            message = text.replace(piped, _STDIN)
        show(message, category, filename, lineno, file, line)

    warnings.showwarning = renamed
    try:
        yield
    finally:
        warnings.showwarning = show


def _stdin_recording(folder: Path) -> str:
    """``-``: the recording piped into standard input, as a file in ``folder`` (read once, whatever its
    format: it is told by its bytes), for ``transcribe`` to read as any other; it was 'audio file not
    found: -', where every other task's ``-`` reads standard input."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None or stream.closed or sys.stdin.isatty():
        raise LstmkitError("'-' reads a recording from standard input, but nothing is piped into it",
                           "pipe the audio in (sox in.flac -t wav - | lstmkit speech transcribe --run RUN -), or pass "
                           "the file's path")
    data = stream.read()
    if not data:
        raise LstmkitError(f"{_STDIN} is empty: no recording was piped into '-'", "pipe an audio file in, e.g. "
                           "lstmkit speech transcribe --run RUN - < clip.wav")
    path = folder / _STDIN        # its notes name a file by its name alone: "standard input and 1 more: resampled ..."
    path.write_bytes(data)
    return str(path)


@app.command()
def evaluate(run: Path = typer.Option(..., help="Run folder from 'train'."),
             data: Path = typer.Option(..., help="Manifest CSV, folder of class folders (its testing_list.txt's "
                                                 "recordings only, if it has one), LibriSpeech or MLS folder (its test "
                                                 "subsets only, if it has them), LJSpeech folder or metadata.csv, "
                                                 "or folder (--label-from-name)."),
             label_from_name: Optional[str] = typer.Option(None, help="Pattern for folder data.  [default: as trained]"),
             beam: Optional[int] = typer.Option(None, help="Beam width (1 = greedy).  [default: as trained]"),
             lm: Optional[Path] = typer.Option(None, help="Language-model run folder.  [default: as trained]"),
             no_lm: bool = typer.Option(False, "--no-lm", help="Decode without the run's language model."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a report."),
             progress: str = progress_option()):
    """WER / CER / real-time factor (or accuracy and confusion) against the data's transcripts."""
    from lstmkit.tasks.speech.estimator import SpeechRecognizer
    est = SpeechRecognizer.load(run).set_params(progress=progress)
    m = est.evaluate(data, label_from_name=label_from_name, beam=beam, lm=_lm_choice(lm, no_lm))
    if as_json:
        from lstmkit.run_metric import evaluated_keys
        from lstmkit.runs import to_json
        keys = evaluated_keys(run, str(data.resolve()), {"val": m})      # the decoding it was asked for
        typer.echo(to_json({**m, **{k: v for k, v in keys.items() if k not in m}}, indent=2))
    else:
        _print_metrics(est, m, data.name)
