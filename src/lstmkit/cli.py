"""The ``lstmkit`` command. Each task mounts its own sub-app; errors become one line + exit 2.

A user's mistake -- bad input (:class:`~lstmkit.errors.LstmkitError`) or bad usage (an unknown
command or flag, a value of the wrong type, a missing option) -- is one ``error: ...`` line on
stderr and exit code 2, never a traceback.

``lstmkit --help`` stays cheap: the task sub-apps import only typer and their configs, and the
commands whose modules need torch at import (compare, export, serve, inspect) are mounted by
name and imported when run (:func:`_mount_lazily`).
"""
from __future__ import annotations

import codecs
import contextlib
import errno
import importlib
import os
import re
import sys
import unicodedata
import warnings
from pathlib import Path
from typing import Iterator, Optional

import typer

from lstmkit.cli_config import plain_help
from lstmkit import cli_train
from lstmkit.cli_train import reader_may_leave
from lstmkit.errors import LstmkitError, caller_wording, interrupts_end_the_process, interrupts_not_lost
from lstmkit.files import path_exists
from lstmkit.tasks.forecast.cli import app as forecast_app, report as forecast_report
from lstmkit.tasks.classify.cli import app as classify_app
from lstmkit.tasks.translate.cli import app as translate_app
from lstmkit.tasks.lm.cli import app as lm_app
from lstmkit.tasks.speech.cli import app as speech_app

app = typer.Typer(help="lstmkit: LSTM-family sequence models, from the gate equations to deployment.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(forecast_app, name="forecast")
app.add_typer(classify_app, name="classify")
app.add_typer(translate_app, name="translate")
app.add_typer(lm_app, name="lm")
app.add_typer(speech_app, name="speech")


_LAZY: dict[str, str] = {}          # command name -> "module:attr", imported when run


def lazy_command(name: str):
    """The click command behind the lazily mounted ``lstmkit NAME`` (imports its module): its real
    options and sub-commands, as ``lstmkit NAME --help`` shows them."""
    module, attr = _LAZY[name].split(":")
    obj = getattr(importlib.import_module(module), attr)
    if not isinstance(obj, typer.Typer):
        single = typer.Typer(add_completion=False)
        single.command(name=name, help=obj.__doc__)(obj)
        obj = single
    return plain_help(typer.main.get_command(obj))


def _mount_lazily(name: str, target: str, summary: str) -> None:
    """Mount ``module:attr`` (a typer app or one command function) as ``lstmkit NAME``, imported
    only when the command runs; its own options, --help and usage errors are passed through."""
    _LAZY[name] = target

    @app.command(name=name, help=summary, add_help_option=False,
                 context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def command(ctx: typer.Context) -> None:
        code = lazy_command(name).main(args=ctx.args, prog_name=f"lstmkit {name}", standalone_mode=False)
        if isinstance(code, int) and code:        # typer.Exit(code) inside the command
            raise typer.Exit(code)


_mount_lazily("inspect", "lstmkit.inspect.cli:app", "Look inside a trained model: LSTM gates, attention weights.")
_mount_lazily("compare", "lstmkit.compare:compare_command",
              "Train several zoo models under one budget; table of accuracy, speed and memory.")
_mount_lazily("export", "lstmkit.deploy.cli:export_app", "Export a run: ONNX graph with explicit state, or an int8 run.")
_mount_lazily("serve", "lstmkit.deploy.cli:serve_command",
              "HTTP service: POST /predict, WebSocket /stream, GET /health, /model, /docs.")


def _print_version(value: bool) -> None:
    if value:
        from lstmkit.version import __version__
        typer.echo(f"lstmkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                       help="Print the version and exit.")) -> None:
    """lstmkit: LSTM-family sequence models, from the gate equations to deployment."""


@app.command()
def demo(out: Path = typer.Option(Path("runs"), help="Folder that receives the run folder."),
         epochs: int = typer.Option(100, help="Maximum epochs (early stopping ends sooner).")):
    """Forecast weekly Mauna Loa CO2 (ships with statsmodels) and compare with the baselines."""
    if epochs < 1:                  # the trainer's check said 'pass --max-epochs', no flag of demo's
        raise LstmkitError(f"--epochs must be a positive integer, got {epochs}", "pass --epochs 100, say")
    from lstmkit.tasks.forecast.demo import run_demo
    with reader_may_leave():
        forecast_report(run_demo(out=out, max_epochs=epochs))


@app.command(name="doctor")
def doctor_command(run: Optional[Path] = typer.Argument(None, help="Run folder from 'train'."),
                   run_option: Optional[Path] = typer.Option(None, "--run",
                                                             help="The same, as the other commands take it."),
                   as_json: bool = typer.Option(False, "--json", help="Print doctor.json (and 'notes': the lines "
                                                "under the report) instead of the report.")):
    """Print a run's training diagnostics again: findings, evidence, remedies (doctor.json)."""
    from lstmkit.train.doctor import format_report, read_report, unfinished_since, updated_since
    if run is not None and run_option is not None and run != run_option:
        raise LstmkitError(f"two runs given: {run} and --run {run_option}", "pass one run folder")
    if run is None and run_option is None:
        raise LstmkitError("no run given", "pass the run folder printed by 'train': lstmkit doctor --run runs/...")
    run = run or run_option
    report = read_report(run)
    notes = [note for note in (updated_since(run), unfinished_since(run)) if note]
    if as_json:
        from lstmkit.runs import read_meta, to_json
        try:
            task = read_meta(run).get("task")
        except LstmkitError:              # a report beside a record this lstmkit cannot read: the report still
            task = None
        # the run and its task, as list's and every evaluate's JSON names them: a script reading several runs' reports
        said = {**report, "notes": [note.strip() for note in notes]}
        typer.echo(to_json({**said, **{k: v for k, v in (("run", str(run)), ("task", task)) if k not in said}},
                           indent=2))
    else:
        typer.echo("\n".join([format_report(report), *notes]))


@app.command(name="list")
def list_command(folder: Path = typer.Argument(Path("runs"),
                                               help="A folder of run folders (train's --out), or one run."),
                 as_json: bool = typer.Option(False, "--json", help="Print a JSON list, one object a run (run, task, "
                                              "status, state, epochs, written, metric, data), instead of a "
                                              "table."),
                 sort: str = typer.Option("name", "--sort", help="name: each task's runs oldest first; metric: by "
                                          "task, then by data (runs on the same data files, by content, rank "
                                          "together), a speech run's data its recordings, then best first by their "
                                          "metric, those scored on test data before those scored on validation, "
                                          "then on training data (runs without one last). Runs on other data are "
                                          "never ranked against each other; runs that recorded no data (piped in, "
                                          "or older runs) rank together.")):
    """List run folders: task, epochs, headline metric (forecast MASE, classify accuracy, translate BLEU, speech
    WER or accuracy, lm perplexity) and how each ended (finished, interrupted, failed, or still training)."""
    from lstmkit.run_list import format_runs, list_runs, sort_by_metric
    if sort not in ("name", "metric"):
        raise LstmkitError(f"--sort must be name or metric, got {sort!r}",
                           "pass --sort metric (best first) or --sort name")
    rows = list_runs(folder)
    rows = sort_by_metric(rows) if sort == "metric" else rows
    if as_json:
        from lstmkit.runs import to_json
        typer.echo(to_json(rows, indent=2))
    else:
        # the terminal's width (COLUMNS, or the terminal's own; 80 piped): a wider one keeps the runs' paths whole
        # (cut to 80, 'runs/classify-20261207-031612' beside a metric and 'interrupted' read
        # '…lassify-20261207-031612'), a narrower one gets lines that fit it (they were 80 wide, each wrapped)
        import shutil
        from lstmkit.run_list import WIDTH
        typer.echo(format_runs(rows, width=max(20, shutil.get_terminal_size((WIDTH, 24)).columns)))


@app.command(name="tune")
def tune_cmd(
    task: str = typer.Argument(..., help="Task to tune: forecast, classify, translate, lm, speech."),
    data: Optional[Path] = typer.Option(None, help="Training data (or 'data:' in --config)."),
    target: Optional[str] = typer.Option(None, help="Target column(s) (forecast)."),
    time: Optional[str] = typer.Option(None, help="Time column (forecast)."),
    time_zone: Optional[str] = typer.Option(None, "--time-zone", help="forecast: the IANA zone the times were "
                                            "written in (Europe/Berlin): times without an offset read as its local "
                                            "clock, times with offsets converted to it, as 'forecast train "
                                            "--time-zone' reads them."),
    config: Optional[Path] = typer.Option(None, help="YAML with the fixed settings every trial shares."),
    space: Optional[Path] = typer.Option(None, help="YAML search space.  [default: the task's, in tasks/<task>/bench.py]"),
    trials: int = typer.Option(30, help="Trials in the whole study (all workers together)."),
    timeout: Optional[str] = typer.Option(None, help="Stop this worker after 90s, 30m, 2h ..."),
    epochs: Optional[int] = typer.Option(None, help="Maximum epochs per trial."),
    out: Optional[Path] = typer.Option(None, help="Folder for study.db, best.yaml, trials.csv, history.png.  [default: runs/tune-<task>]"),
    storage: Optional[str] = typer.Option(None, help="Optuna storage URL shared by workers.  [default: sqlite:///<out>/study.db]"),
    study: Optional[str] = typer.Option(None, help="Study name.  [default: the task]"),
    seed: Optional[int] = typer.Option(None, help="Sampler seed (repeatable proposals)."),
    device: Optional[str] = typer.Option(None, help="auto, cpu, cuda.  [default: auto]"),
    progress: str = typer.Option("auto", help="Each trial's training on standard error: auto (log lines on a "
                                 "terminal, which several workers share whole; else the trial lines alone), "
                                 "bar, log or off."),
):
    """Search hyperparameters with Optuna (TPE, median pruning); resumable, several workers can share a study."""
    from lstmkit.tune import tune_command
    with reader_may_leave():           # `| head -1` stopped the study at its second trial, without best.yaml
        tune_command(task, data=data, target=target, time=time, time_zone=time_zone, config=config, space=space,
                     trials=trials, timeout=timeout, epochs=epochs, out=out, storage=storage, study=study, seed=seed,
                     device=device, progress=progress)


def _task_of(run_dir: Path | None) -> str:
    """The task that wrote ``run_dir`` (its lstmkit.json says), for the resume hint."""
    try:
        from lstmkit.runs import read_meta
        return read_meta(run_dir)["task"] if run_dir is not None else "<task>"
    except LstmkitError:
        return "<task>"


_PACKAGE = str(Path(__file__).resolve().parent)


_SAID: set[str] = set()        # lstmkit's warnings printed in this command (a file read twice warns once)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """lstmkit's own warnings as one line, ``warning: ...`` (as errors are ``error: ...``), each once,
    without Python's file, line and source; other packages' warnings as Python prints them."""
    if str(Path(filename).resolve()).startswith(_PACKAGE) and issubclass(category, UserWarning):
        if str(message) not in _SAID:
            _SAID.add(str(message))
            print(f"warning: {message}", file=sys.stderr if file is None else file)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _std_streams() -> None:
    """Standard streams the process was started without (``<&-``, ``>&-``, ``2>&-``) read and write
    /dev/null. Python leaves such a stream None, and then ``print(file=sys.stderr)`` wrote the error
    line to standard output (print's fallback: into ``> out.csv``), reading standard input was a
    traceback, and the next file opened took the free descriptor, where a C library writing to
    standard error would write."""
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        if getattr(sys, name) is not None:
            continue
        mode = "r" if fd == 0 else "w"
        try:
            os.fstat(fd)                  # the descriptor is open: a file opened since took it, leave it be
            stream = open(os.devnull, mode, encoding="utf-8")
        except OSError:
            null = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            stream = open(fd, mode, closefd=False, encoding="utf-8")
        setattr(sys, name, stream)


_STDOUT_ERRORS = "lstmkit.stdout"     # the error handler standard output is given (_stdout_writes_any_text)
_ESCAPED: list[str] = []              # the first character standard output's encoding had no byte for


def _escape_unwritable(e: UnicodeError) -> tuple[str | bytes, int]:
    """Standard output's encoding error handler: a path's bytes that are not UTF-8 (held as lone
    surrogates) written back as they were given; a character the encoding lacks as a Python
    escape (``\\u2014``), said once on standard error."""
    if not isinstance(e, UnicodeEncodeError):
        raise e
    # the characters alike from the start: the codec calls again for the rest ('caf\udce9…' in ascii wrote the
    # byte as '\udce9', and warned that the encoding lacked it)
    held = ["\udc80" <= c <= "\udcff" for c in e.object[e.start:e.end]]
    alike = next((k for k, h in enumerate(held) if h != held[0]), len(held))
    e = UnicodeEncodeError(e.encoding, e.object, e.start, e.start + alike, e.reason)
    if held[0]:
        return codecs.lookup_error("surrogateescape")(e)
    if not _ESCAPED:
        char = e.object[e.start]
        _ESCAPED.append(char)
        encoding = getattr(sys.stdout, "encoding", None) or e.encoding     # cp1252's codec calls itself charmap
        print(f"warning: standard output's encoding ({encoding}) has no U+{ord(char):04X} {unicodedata.name(char, '')}"
              f": written as {char.encode('ascii', 'backslashreplace').decode()}, as every such character; set "
              f"PYTHONIOENCODING=utf-8 (or PYTHONUTF8=1) to write them as they are", file=sys.stderr, flush=True)
    return codecs.backslashreplace_errors(e)


codecs.register_error(_STDOUT_ERRORS, _escape_unwritable)


@contextlib.contextmanager
def _stdout_writes_any_text() -> Iterator[None]:
    """In the block, standard output in an encoding without a character to write (PYTHONIOENCODING=ascii,
    a Windows console's cp1252 redirected to a file, a C locale) writes it as a Python escape and
    says so once, as Python's own standard error does: the doctor's ``—`` after ``lm train``, a
    help text's ``…``, compare's table and a translation in Chinese were each a UnicodeEncodeError
    traceback (after the training, for the report). The stream's own handler comes back when the
    block ends: a program running the CLI in-process (a notebook, a test: ``main([...])``) kept
    lstmkit's for the rest of the process, its own prints escaped where they raised before."""
    _ESCAPED.clear()
    stdout, changed = sys.stdout, False
    reconfigure = getattr(stdout, "reconfigure", None)
    if getattr(stdout, "errors", None) == "strict" and reconfigure is not None:
        try:
            reconfigure(errors=_STDOUT_ERRORS)
            changed = True
        except (OSError, ValueError):       # a stream that cannot change it: left as it is
            pass
    try:
        yield
    finally:
        # given back unless the stream's handler was set otherwise meanwhile
        if changed and reconfigure is not None and getattr(stdout, "errors", None) == _STDOUT_ERRORS:
            try:
                reconfigure(errors="strict")     # flushes first: what was written, written escaped
            except (OSError, ValueError):   # closed meanwhile, or a write that cannot be flushed (a reader gone)
                pass


class _PipeReaderGone:
    """Standard output whose write or flush to a pipe the reader left raises BrokenPipeError, as on
    POSIX (:func:`_reader_gone_as_broken_pipe`)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._as_broken_pipe(self._stream.write, text)

    def flush(self) -> None:
        self._as_broken_pipe(self._stream.flush)

    @staticmethod
    def _as_broken_pipe(call, *args):
        try:
            return call(*args)
        except OSError as e:
            if isinstance(e, BrokenPipeError) or not cli_train._reader_left(e):
                raise
            raise BrokenPipeError(errno.EPIPE, "the reader of standard output has left") from e

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextlib.contextmanager
def _reader_gone_as_broken_pipe() -> Iterator[None]:
    """In the block, on Windows, standard output piped to a reader that left (``predict ... | head -1``
    in Git Bash) raises BrokenPipeError, which click ends with exit 1 and no word, as on POSIX: there
    the write raised OSError EINVAL, a traceback. A terminal's standard output is left as it is
    (click writes to the Windows console through its own API)."""
    stdout = sys.stdout
    if not cli_train._WINDOWS or stdout is None or _on_a_terminal(stdout):
        yield
        return
    sys.stdout = wrapped = _PipeReaderGone(stdout)
    try:
        yield
    finally:
        if sys.stdout is wrapped:
            sys.stdout = stdout


def _on_a_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):        # closed, or no such method
        return False


def main(argv: list[str] | None = None) -> None:
    _std_streams()
    _SAID.clear()
    # hints name flags, in the estimators it calls too
    with _stdout_writes_any_text(), _reader_gone_as_broken_pipe(), warnings.catch_warnings(), \
            caller_wording(python=False), interrupts_not_lost():      # a Ctrl-C a finalizer dropped acts
        warnings.showwarning = _one_line_warning
        # matplotlib < 3.11 calls names pyparsing 3.3 deprecated: lines of noise on each plot, for no
        # user to act on (module: a name, or a path where save_figure passes the warning on; pyparsing's
        # own module where it names itself)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r".*matplotlib\b")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r".*pyparsing\b")
        _main(argv)


# options that name a file or a folder: given '' (an unset shell variable, --data "$DATA"), each was read
# as the working folder: `lm evaluate --data ""` scored every .txt under it, `classify predict` read it as a
# folder of class folders, `forecast predict` said '. is a directory'
_PATH_OPTION = re.compile(r"--(data|run|out|val|test|config|lm|init-from|[a-z-]+-file)")


def _check_no_empty_path(argv: list[str]) -> None:
    """An :class:`LstmkitError` for the first file or folder option given an empty value."""
    for k, arg in enumerate(argv):
        name, eq, value = str(arg).partition("=")
        if arg == "--":
            return
        if _PATH_OPTION.fullmatch(name) and ((eq and not value.strip()) or
                                             (not eq and k + 1 < len(argv) and not str(argv[k + 1]).strip())):
            raise LstmkitError(f"{name} is empty", f"pass a file or folder to {name} (a shell variable that is not "
                               f"set expands to nothing: check it, e.g. echo \"$DATA\")")


def _main(argv: list[str] | None) -> None:
    try:
        _check_no_empty_path(argv if argv is not None else sys.argv[1:])
        code = plain_help(typer.main.get_command(app)).main(args=argv, prog_name="lstmkit", standalone_mode=False)
        # typer turns Ctrl-C inside a command into Exit(130), and an Exit into a returned code
        # without standalone_mode: dropped, Ctrl-C while predicting or evaluating ended with 0
        if type(code) is int and code:
            raise KeyboardInterrupt if code == 130 else typer.Exit(code)
    except LstmkitError as e:                 # bad input: exit 2; the environment (EnvironmentProblem): exit 1
        # a path of bytes that are not UTF-8 (held as surrogates) escaped, as a terminal's stderr does: a
        # stream that is strict about it (a pipe's, a test's) raised UnicodeEncodeError, a traceback
        _say(f"error: {e}".encode("utf-8", "backslashreplace").decode("utf-8"))
        sys.exit(e.exit_code)
    except MemoryError as e:            # a fit's says where its run is and how it continues (_mark_failed)
        print(f"error: out of memory — {_SMALLER}" + "".join(f"; {note}" for note in getattr(e, "__notes__", ())),
              file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        interrupts_end_the_process()
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except (typer.Abort, EOFError):
        sys.exit(130)
    except typer.TyperException as e:        # usage errors (typer's own click): unknown flag, bad value...
        _usage_error(e, argv if argv is not None else sys.argv[1:])
    except Exception as e:
        if _interrupted(e):
            return
        failed = _allocation_failed(e)
        if failed:
            print(f"error: out of memory: {failed} — {_SMALLER}" + "".join(f"; {note}" for note in
                                                                          getattr(e, "__notes__", ())), file=sys.stderr)
            sys.exit(1)
        raise


def _say(line: str) -> None:
    """The error line ``line`` on standard error. A reader of it that has left (``2>&1 | grep -q x``, ``| true``)
    changes no exit code: its BrokenPipeError ended the command with 1 (the environment's) for a bad input."""
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:                     # the reader gone (Windows: EINVAL); no one is left to read the line
        pass


_SMALLER = "use a smaller model (--hidden-size, --num-layers) or --batch-size, or free memory"


def _allocation_failed(e: BaseException) -> str | None:
    """What torch could not allocate, when ``e`` is its allocator's failure (a RuntimeError on the
    CPU, ``torch.OutOfMemoryError`` on a GPU), else None."""
    text = str(e)
    if not isinstance(e, RuntimeError) or not ("can't allocate memory" in text or "out of memory" in text):
        return None
    size = re.search(r"allocate (\d+) bytes", text)
    if size:
        return f"torch could not allocate {int(size.group(1)) / 1e9:.3g} GB for one tensor"
    return "torch could not allocate a tensor"


def _usage_error(e: typer.TyperException, argv: list[str]) -> None:
    """One line (the problem, then where the help is) and exit 2; a bare group prints its help first.
    An unknown option that is a file or folder here (``lstmkit doctor -run``) says how to name it."""
    ctx = getattr(e, "ctx", None)
    where = f" — see '{ctx.command_path} --help'" if ctx is not None else ""
    named = getattr(e, "option_name", None)
    path = next((a for a in argv if type(e).__name__ == "NoSuchOption" and isinstance(named, str)
                 and str(a).startswith(named) and path_exists(a)), None)
    if path is not None:
        where = f" — {path!r} is a file or folder here, read as options since it starts with '-': pass it as ./{path}"
    if type(e).__name__ == "NoArgsIsHelpError":         # `lstmkit forecast`: help, then the one line
        typer.echo(e.format_message())
        _say(f"error: missing command{where}")
        sys.exit(2)
    _name_the_value(e)
    message = " ".join(e.format_message().split()).rstrip(".")
    where = _command_of_the_kind(e, ctx) or where
    _say(f"error: {message[:1].lower()}{message[1:]}{where}")
    sys.exit(e.exit_code if e.exit_code != 1 else 2)


# pydantic's words (typer reads an int or float option through it) -> what the value is not
_NOT_A = {"int_parsing": "an integer", "float_parsing": "a number"}


def _name_the_value(e: typer.TyperException) -> None:
    """A bad number given to a plain typer option (``backtest --folds 2.5``) worded as the options a
    config generates word it ("'2.5' is not an integer"), instead of pydantic's "Input should be a
    valid integer, unable to parse string as an integer", which named neither the value nor its fault."""
    errors = getattr(e.__cause__, "errors", None)
    if not callable(errors) or not isinstance(getattr(e, "message", None), str):
        return
    first = (errors() or [{}])[0]
    if first.get("type") in _NOT_A:
        e.message = f"{first.get('input')!r} is not {_NOT_A[first['type']]}"


# the words for what each task's command of a kind does: a task names its answering command for what it answers
# (translate run, speech transcribe, lm sample), so 'lstmkit translate predict' was 'no such command' alone
_KINDS = ({"predict", "run", "transcribe", "sample", "generate", "infer", "inference", "translate", "classify",
           "forecast", "decode", "recognize", "recognise"},
          {"evaluate", "eval", "test", "score", "scores", "metrics", "assess", "validate"},
          {"train", "fit", "learn"})


def _command_of_the_kind(e: typer.TyperException, ctx) -> str | None:
    """Where to look instead, when the unknown command ``e`` names (``predict``, ``generate``, ``fit``,
    ``test``) is of a kind the group ``ctx`` has one command of (``translate run``), or a task's command
    typed without the task (``lstmkit train``); None where typer suggested a name already, or none fits."""
    name = re.match(r"No such command '([^']+)'\.?$", e.format_message().strip())
    if name is None or ctx is None or not hasattr(ctx.command, "list_commands"):
        return None
    kind = next((k for k in _KINDS if name[1].lower() in k), None)
    if kind is None:
        return None
    commands = ctx.command.list_commands(ctx)
    tasks = [t for t in ("forecast", "classify", "translate", "lm", "speech") if t in commands]
    if ctx.parent is None and tasks:             # 'lstmkit train': the task first
        (verb,) = kind & {"predict", "evaluate", "train"}
        return (f" — name the task first: lstmkit {tasks[0]} {verb} … (tasks: {', '.join(tasks)}); see "
                "'lstmkit TASK --help'")
    found = [c for c in commands if c in kind]
    if len(found) != 1:
        return None
    command = ctx.command.get_command(ctx, found[0])
    summary = re.split(r"[.:;(]", (command.help or "") if command is not None else "")[0].strip()
    summary = summary[:1].lower() + summary[1:]
    if len(summary) > 80:
        summary = summary[:80].rsplit(" ", 1)[0] + " …"
    return (f" — {ctx.command_path} {found[0]} does this" + (f" ({summary})" if summary else "")
            + f": see '{ctx.command_path} {found[0]} --help'")


def _interrupted(e: Exception) -> bool:
    """Ctrl-C during training: the checkpoint is saved; say how to continue, exit 130."""
    train = sys.modules.get("lstmkit.train")          # not imported: nothing trained, nothing to resume
    if train is None or not isinstance(e, train.TrainingInterrupted):
        return False
    interrupts_end_the_process()
    where = f" --resume {e.run_dir}" if e.run_dir else ""
    from lstmkit.train.checkpoint import CHECKPOINT_FILE
    saved = e.run_dir is not None and (Path(e.run_dir) / "checkpoints" / CHECKPOINT_FILE).is_file()
    when = f"after epoch {e.epoch}" if e.epoch else "during the first epoch"
    kept = "checkpoint saved" if saved else "no checkpoint yet (resuming starts from the beginning)"
    print(f"interrupted {when}; {kept}. Continue with: "
          f"lstmkit {_task_of(e.run_dir)} train{where}", file=sys.stderr)
    sys.exit(130)


if __name__ == "__main__":
    main()
