"""The exceptions the CLI turns into messages and exit codes.

One error class for everything a user can get wrong: the CLI catches :class:`LstmkitError`,
prints one line (problem, then fix) on stderr and exits with code 2. Library users get the same
message from ``str(err)``. :class:`TrainingInterrupted` (Ctrl-C during training, exit 130) lives
here too, so that the CLI can catch it without importing the trainer (and torch).
:class:`EnvironmentProblem` is the machine's fault, not the input's (disk full, read-only folder,
permission denied, out of memory): one line too, saying what is intact and how to continue, exit 1;
:class:`MissingPackage`, an optional package a feature needs that is not installed, is one too
(:func:`optional_import`: the one place that turns a missing module into that line).
:func:`terminate_as_interrupt` makes SIGTERM one more Ctrl-C (the whole command's, and a fit's in Python).
"""
from __future__ import annotations

import _thread
import contextlib
import contextvars
import errno
import importlib
import importlib.util
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

__all__ = ["LstmkitError", "BadValue", "ColumnNotFound", "NotThisTask", "EnvironmentProblem", "MissingPackage",
           "optional_import", "TrainingInterrupted", "TrainingDiverged", "os_reason", "missing_path_fix",
           "caller_wording", "python_caller", "flag", "opt", "worded", "settings_file", "set_in_file", "in_file",
           "terminate_as_interrupt", "interrupts_after", "interrupts_not_lost", "interrupts_end_the_process",
           "stop_signals", "the_command_runs", "first_of", "percent", "warnings_caught"]


# Who reads a hint: True, a Python caller (an estimator's method: ``lookback=24``); False, the command
# line (``--lookback 24``); None, nobody said (the command line's words, as the catalogue pins them).
_PYTHON_CALLER: contextvars.ContextVar[bool | None] = contextvars.ContextVar("lstmkit_python_caller", default=None)
_SWITCH = object()          # opt()'s value left out: the option alone
# The settings file a command read (``--config FILE``, as typed) and the keys it set that no flag
# overrode: a refusal of one of them names the file and key (:func:`opt`, :func:`flag`,
# :func:`set_in_file`), not a flag the user never typed ('drop --beam' for a 'beam:' in the file).
_SETTINGS_FILE: contextvars.ContextVar[tuple[str, frozenset[str]] | None] = contextvars.ContextVar(
    "lstmkit_settings_file", default=None)


class caller_wording:
    """Hints raised inside the block name options as this caller passes them (:func:`opt`,
    :func:`worded`): keyword arguments for Python (the estimators' public methods open it), flags
    for the command line (the CLI's ``main``). The outermost block decides, so the estimators the
    CLI calls keep its flags. The hint of a fit from Python said '— pass --lookback 24', a flag a
    Python caller cannot pass. (A class: every public method opens one, a generator costs more.)"""

    __slots__ = ("python", "_token")

    def __init__(self, python: bool) -> None:
        self.python = python

    def __enter__(self) -> None:
        self._token = None if _PYTHON_CALLER.get() is not None else _PYTHON_CALLER.set(self.python)

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _PYTHON_CALLER.reset(self._token)


class parameter_check(caller_wording):
    """The constructor's and ``set_params``'s block: hints worded for Python (:class:`caller_wording`),
    and a plain :class:`LstmkitError` raised inside (an unknown name, a value out of range) leaves as
    :class:`BadParameter`, with the same message and hint."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(python=True)

    def __exit__(self, kind: object, error: object, tb: Any) -> None:
        super().__exit__(kind, error, tb)
        if type(error) is LstmkitError:
            raise BadParameter(error.message, error.hint).with_traceback(tb) from None


class settings_file:
    """Inside the block, the settings ``keys`` (flat: a ``train:`` block's too) are the settings file
    ``path``'s, and hints name them there: ``'beam: 5' in settings.yaml`` (:func:`opt`), not
    ``--beam 5``, a flag the user did not type (and one ``tune`` or ``forecast backtest`` does not
    have). A command that reads a ``--config`` YAML file opens it around its work."""

    __slots__ = ("held", "_token")

    def __init__(self, path: str | os.PathLike[str], keys: Any) -> None:
        self.held = (str(path), frozenset(keys))

    def __enter__(self) -> None:
        self._token = _SETTINGS_FILE.set(self.held)

    def __exit__(self, *exc: object) -> None:
        _SETTINGS_FILE.reset(self._token)


def callers_level() -> int:
    """The ``stacklevel`` for a ``warnings.warn`` made by the function that calls this, naming the first
    line outside lstmkit: the user's ``fit(...)`` or ``transcribe(...)``, from any depth of lstmkit's own
    calls (level 2 named a line of lstmkit, whichever call of the user's it was). Under a command line's
    command, the command's own line (in a ``cli*.py``, or the one typer or click calls): the CLI prints an lstmkit
    warning as one 'warning: ...' line (the frame under it, typer's, was printed as Python prints another
    package's, file and line first)."""
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep      # .../lstmkit/, as its frames name their files
    frame, level, last = sys._getframe(2), 2, None                     # the warning function's caller
    while frame is not None and (frame.f_code.co_filename.startswith(package) or _importing(frame)):
        if not _importing(frame):
            last = frame.f_code.co_filename
        frame = frame.f_back
        level += frame is not None and not _bootstrap(frame)           # warnings.warn counts no such frame
    if frame is None:
        return 2
    command = last is not None and (os.path.basename(last).startswith("cli") or _command_runner(frame))
    return level - 1 if command else level


def _command_runner(frame) -> bool:
    """A frame of typer or click, which run a command, or of optuna, which runs a study's trials: the lstmkit
    frame under it is the command's (or the study's), wherever its module is (``compare``, ``tune``, ``serve``: a
    trial's warning was printed under typer's file and line; a tune trial's under optuna's, after the same
    warning said once as one line)."""
    parts = os.path.abspath(frame.f_code.co_filename).split(os.sep)
    return "typer" in parts or "click" in parts or "optuna" in parts


_IMPORTLIB = os.path.dirname(os.path.abspath(importlib.__file__)) + os.sep


def _bootstrap(frame) -> bool:
    """A frame of the import system's core (``<frozen importlib._bootstrap>``), which
    ``warnings.warn`` steps over without counting it in ``stacklevel`` (its test, as CPython's)."""
    name = frame.f_code.co_filename
    return "importlib" in name and "_bootstrap" in name


def _importing(frame) -> bool:
    """A frame of the import system (its core, or ``importlib.import_module``): a warning given while
    a module of lstmkit is imported (a lazily imported task) names the line that imported it, not
    ``<frozen importlib._bootstrap>`` or importlib's own file."""
    return _bootstrap(frame) or os.path.abspath(frame.f_code.co_filename).startswith(_IMPORTLIB)


_WARNING_FILTERS = threading.RLock()    # lstmkit's catch_warnings blocks, one thread's at a time


@contextlib.contextmanager
def warnings_caught(record: bool = False) -> Iterator[Any]:
    """``warnings.catch_warnings(record=record)`` that waits for another thread's to end. The filters
    and ``showwarning`` it saves and restores are the process's: two threads' blocks overlapping (two
    predicts reading time stamps, two ``evaluate`` of a translator), the one leaving last put back what
    the other had set on top, and ``simplefilter('ignore')`` silenced every warning of the process for
    good. For short blocks only (a parse, a trace): a block that waits for other threads that enter
    one would wait for ever."""
    import warnings
    with _WARNING_FILTERS, warnings.catch_warnings(record=record) as caught:
        yield caught


def set_in_file(name: str) -> str | None:
    """The settings file (as typed) that set ``name`` inside a :class:`settings_file` block, else None."""
    held = _SETTINGS_FILE.get()
    return held[0] if held is not None and name in held[1] and not _PYTHON_CALLER.get() else None


def in_file(name: str) -> str:
    """`` ('name:' in cfg.yaml)`` where a settings file set ``name`` (:class:`settings_file`), else
    nothing: added to a refusal that names the value without :func:`opt` ('unknown model 'lstmm'')."""
    where = set_in_file(name)
    return f" ('{name}:' in {where})" if where is not None else ""


def _yaml_value(value: Any) -> str:
    """``value`` as a YAML settings file writes it: ``true``, ``null``, ``[0.1, 0.9]``, ``lstm``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return f"[{', '.join(map(_yaml_value, value))}]"
    return str(value)


def flag(name: str) -> str:
    """The command-line flag of a config key: ``hidden_size`` -> ``--hidden-size``; a key a settings
    file set (:class:`settings_file`) as that file's: ``'hidden_size:' in cfg.yaml``."""
    where = set_in_file(name)
    return f"'{name}:' in {where}" if where is not None else "--" + name.replace("_", "-")


def opt(name: str, value: Any = _SWITCH, *, written: bool = False) -> str:
    """The option ``name`` (a config field, ``min_freq``) in the caller's words (:func:`caller_wording`):

    >>> opt("min_freq", 2), opt("pooling", "attention"), opt("drop_empty", True), opt("label")
    ('--min-freq 2', '--pooling attention', '--drop-empty', '--label')
    >>> with caller_wording(python=True):
    ...     opt("min_freq", 2), opt("pooling", "attention"), opt("drop_empty", True), opt("label")
    ('min_freq=2', "pooling='attention'", 'drop_empty=True', 'label=')

    A key a settings file set (:class:`settings_file`) is named there, as the file writes it:

    >>> with settings_file("cfg.yaml", ["min_freq", "drop_empty"]):
    ...     opt("min_freq", 2), opt("drop_empty", True), opt("min_freq"), opt("pooling", "attention")
    ("'min_freq: 2' in cfg.yaml", "'drop_empty: true' in cfg.yaml", "'min_freq:' in cfg.yaml", '--pooling attention')

    ``True`` is a switch (the flag alone on the command line); a list is comma-separated there.
    ``written``: ``value`` is text to show as it is, in both (``"1e-3"``: ``--lr 1e-3``, ``lr=1e-3``)."""
    if _PYTHON_CALLER.get():
        return f"{name}=" + ("" if value is _SWITCH else value if written else repr(value))
    where = set_in_file(name)
    if where is not None:           # the file's key: 'beam: 5' in settings.yaml
        shown = "" if value is _SWITCH else f" {value if written else _yaml_value(value)}"
        return f"'{name}:{shown}' in {where}"
    if value is _SWITCH or value is True:
        return flag(name)
    return f"{flag(name)} {','.join(map(str, value)) if isinstance(value, (list, tuple)) else value}"


def named_opt(name: str, column: Any) -> str:
    """The option choosing ``column`` by its name, as the caller writes it (:func:`opt`), a name a shell would split
    quoted on the command line (``--target 'Sunspots (count)'``: unquoted, the fix was a bash syntax error)."""
    if _PYTHON_CALLER.get() or set_in_file(name) is not None:
        return opt(name, str(column))
    import shlex
    return f"{flag(name)} {shlex.quote(str(column))}"


def first_of(items, n: int = 5, show=str) -> str:
    """The first ``n`` of ``items``, each written by ``show``, and how many more: ``a, b, c and 2 more``
    (what a message names of a long list: clips, columns, epochs, series)."""
    items = list(items)
    return ", ".join(show(i) for i in items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def percent(share: float) -> str:
    """``share`` as a percentage for a message, never rounded to nothing: 3 of 1,359 is "0.22%", not
    "0%"; 1 of 3 "33.3%", 3 of 3 "100%"; 1 of 2,000,000 "0.00005%" (``.2g`` wrote it "5e-05%")."""
    from decimal import Decimal
    p = 100 * share
    return format(Decimal(f"{p:.2g}" if p < 10 else f"{p:.3g}"), "f") + "%"


def python_caller() -> bool:
    """Whether a hint raised now is read by a Python caller (:class:`caller_wording`): for a fix
    whose whole shape differs, where :func:`worded`'s two phrasings would each be built in full."""
    return bool(_PYTHON_CALLER.get())


def worded(cli: str, python: str) -> str:
    """``cli`` or ``python``, the same fix in the caller's words where :func:`opt` cannot say it (a
    command to run, a class to use): ``worded("add --series", "use SequenceClassifier")``."""
    return python if _PYTHON_CALLER.get() else cli


class LstmkitError(Exception):
    """A problem with the user's input, with a hint on how to fix it.

    >>> str(LstmkitError("column 'y' not found", "use one of: a, b"))
    "column 'y' not found — use one of: a, b"
    """

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class BadValue(LstmkitError, ValueError):
    """A value given to ``fit`` or ``score`` that cannot be used (``sample_weight`` of the wrong length,
    negative or all 0), or data with no rows given to ``fit``, ``predict``, ``predict_proba`` or
    ``score``: a ``ValueError`` too, as scikit-learn's meta-estimators and its estimator checks
    expect of an argument's bad value (``check_array``'s 'Found array with 0 sample(s)')."""


class BadParameter(LstmkitError, ValueError):
    """A hyper-parameter the constructor or ``set_params`` refuses: a name the estimator does not
    have, or a value out of its range. A ``ValueError`` too, as scikit-learn's ``set_params`` raises
    for an unknown name and its parameter validation (``InvalidParameterError``) for a bad value:
    a search that catches ``ValueError`` around ``set_params(**candidate)`` catches lstmkit's."""


class NotThisTask(LstmkitError, AttributeError):
    """A method one task's estimator has, asked of another's (``update`` of a ``TextClassifier``,
    ``predict_proba`` of a ``Translator``): one line naming whose it is and what this estimator answers
    with instead. An ``AttributeError`` too, so ``hasattr`` stays False (scikit-learn reads
    ``hasattr(est, "predict_proba")`` as whether an estimator gives probabilities)."""


class ColumnNotFound(LstmkitError):
    """A table has no column of the name asked for; its hint lists the columns it has. A caller
    reading a second file (validation, test) with the training file's column names says so instead:
    the flags that name the columns apply to every file."""

    def __init__(self, message: str, hint: str | None = None, columns: list[str] | None = None,
                 name: str | None = None, close: str | None = None, renames: dict[str, str] | None = None):
        super().__init__(message, hint)
        self.columns = columns or []          # the names the table has
        self.name = name                      # the name asked for
        self.close = close                    # the one of columns it most likely meant, if any
        self.renames = renames                # several names missing: {a column it has: the name asked for}


class EnvironmentProblem(LstmkitError):
    """The environment failed (disk full, read-only, permission denied, out of memory): not the
    user's input. The message names what failed and what is intact, the hint how to continue.

    >>> EnvironmentProblem("could not write x", "free space").exit_code
    1
    """

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None, reason: str | None = None):
        super().__init__(message, hint)
        self.reason = reason          # the OS's words ("no space left on device"), when there are some


class TrainingDiverged(LstmkitError):
    """Training stopped because the loss or gradients became non-finite (NaN, inf) past what the
    trainer's NaN guard retries. A resume keeps the run's settings, data and seed, so it would
    diverge the same way: the run's ``lstmkit.json`` marks it ``failed`` and ``resume`` refuses it."""


class MissingPackage(EnvironmentProblem):
    """A package a feature needs is not installed (or does not import here): the environment's
    fault, not the input's (exit 1). ``package``: its name on PyPI. See :func:`optional_import`."""

    def __init__(self, message: str, hint: str | None = None, package: str = ""):
        super().__init__(message, hint, reason=f"{package} is not installed")
        self.package = package


def optional_import(module: str, needed_for: str, extra: str | None = None, *, package: str | None = None,
                    otherwise: str | None = None) -> ModuleType:
    """The module ``module`` (``"onnxruntime"``, ``"websockets.sync.client"``), imported where it is
    first needed; where its package is not installed, a :class:`MissingPackage` naming the feature,
    the package and the pip line -- of lstmkit's ``extra`` that brings it, else of the package:
    ``optional_import("soundfile", "reading audio files", "speech")`` without soundfile raises
    "reading audio files needs the soundfile package, which is not installed — pip install 'lstmkit[speech]'".

    ``package``: its name on PyPI when that is not the module's top name; ``otherwise``: another way
    out, said after the pip line. A package that is installed and fails to import (a shared library
    missing, as soundfile without libsndfile, one built for another numpy, a version without the
    submodule) is told with Python's reason: an ImportError traceback from deep inside a command said neither what nor how to fix."""
    top = module.split(".")[0]
    package = package or top
    install = f"pip install 'lstmkit[{extra}]'" if extra else f"pip install {package}"
    try:
        return importlib.import_module(module)
    except (ImportError, OSError) as e:         # OSError: a wrapper's shared library missing (soundfile's libsndfile)
        if isinstance(e, ImportError) and not _installed(top):
            raise MissingPackage(f"{needed_for} needs the {package} package, which is not installed",
                                 install + (f", or {otherwise}" if otherwise else ""), package) from None
        raise MissingPackage(f"{needed_for} needs the {package} package, which is installed but does not import "
                             f"here ({os_reason(e)})", f"reinstall it: pip install -U --force-reinstall {package}",
                             package) from None


def _installed(top: str) -> bool:
    """Whether the top-level package ``top`` is there to import (``sys.modules[top] = None`` is how a
    test, or an embedder, says it is not)."""
    if top in sys.modules:
        return sys.modules[top] is not None
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def missing_path_fix(path: str | Path, fix: str) -> str:
    """``fix``, the hint for a path that was not found; for one that starts with ``~``, which the shell
    expands only unquoted and not after ``=`` (``--data=~/x.csv``) and Python not at all, the path
    with the home folder; for one written with Windows' backslashes (``data\\sales.csv``, which names
    one file here) where the path with slashes is there, that path."""
    text = str(path)
    home = os.path.expanduser(text) if text.startswith("~") else text
    if home == text and os.path.islink(text):      # a dangling or looping link: 'check the path' said nothing
        try:
            os.stat(text)
            return fix
        except OSError as e:
            what = "a loop of links" if e.errno == errno.ELOOP else "a path that does not exist"
        return (f"it is a symbolic link to {os.readlink(text)!r}, {what}: point it at the file or folder meant, "
                "or pass that path itself")
    slashed = text.replace("\\", "/")
    if home == text and slashed != text and os.sep == "/" and os.path.lexists(slashed):
        # a Windows path (a config written there, a path copied from Explorer): '\\' is no folder separator here
        return f"'\\' separates no folders on this system: pass {slashed}"
    if home == text:
        return fix
    # from Python no shell is there to expand it (a fix about quotes read as the wrong one)
    return worded(f"the shell expands '~' only outside quotes and not after '=': pass {home}",
                  f"lstmkit reads '~' as a folder's name, as pathlib does: pass {home} (os.path.expanduser)")


def os_reason(e: BaseException) -> str:
    """A short, lower-case reason for an OSError ("no space left on device", "read-only file system")."""
    if isinstance(e, MemoryError):
        return "out of memory"
    if isinstance(e, EnvironmentProblem) and e.reason:
        return e.reason
    code = getattr(e, "errno", None)
    text = os.strerror(code) if isinstance(code, int) and code in errno.errorcode else (str(e) or type(e).__name__)
    return text.splitlines()[0].lower() if text else type(e).__name__


class TrainingInterrupted(Exception):
    """Raised after Ctrl-C; the last checkpoint (epoch end or every N steps) is what resumes.
    ``then``: what the caller can do next, after the message (an estimator's fit says it); ``best_epoch``:
    the epoch whose weights the model was given back (None: none ended, the model is as training left it);
    ``untrained``: set by an estimator's fit when no training step was taken (it then keeps nothing of the fit)."""

    untrained = False

    def __init__(self, run_dir: Path | None, epoch: int, then: str = "", best_epoch: int | None = None):
        super().__init__((f"training interrupted after epoch {epoch}" if epoch else
                          "training interrupted during the first epoch") + (f"; {then}" if then else ""))
        self.run_dir, self.epoch, self.best_epoch = run_dir, epoch, best_epoch


@contextlib.contextmanager
def terminate_as_interrupt():
    """In the block, SIGTERM (``kill``, a batch scheduler's stop, ``docker stop``; and Windows'
    SIGBREAK, :func:`stop_signals`) is Ctrl-C: a KeyboardInterrupt, so a fit marks its run
    interrupted and says how to resume it, and any other command undoes its half-made outputs and
    says ``interrupted`` (the default action ended Python at once: no message, a run still marked
    'training', an export's temporary folder left behind). Only where the signal has its default
    action: a handler the caller set (a service's graceful shutdown) or an ignored SIGTERM stays as
    it is (a fit called from such a program raised TrainingInterrupted, and the program's own
    handler never ran)."""
    if threading.current_thread() is not threading.main_thread():      # only the main thread may set handlers
        yield
        return

    def stop(signum, frame):
        raise KeyboardInterrupt

    taken = {number: signal.signal(number, stop) for number in stop_signals()
             if signal.getsignal(number) is signal.SIG_DFL}
    try:
        with interrupts_not_lost():
            yield
    finally:
        for number, previous in taken.items():
            signal.signal(number, previous if previous is not None else signal.SIG_DFL)


_DROPPED: list[Any] = []        # the ``sys.unraisablehook`` :func:`interrupts_not_lost` stands in front of


@contextlib.contextmanager
def interrupts_not_lost() -> Iterator[None]:
    """In the block, a Ctrl-C (or SIGTERM taken as one) whose KeyboardInterrupt Python had to drop is delivered
    again. A signal's handler runs at the next line of Python the main thread runs, and that can be a finalizer
    or a weakref callback the garbage collector runs in the middle of any line (SQLAlchemy's class registry has
    some): an exception there cannot propagate, Python printed it ('Exception ignored in ...', a traceback) and
    went on, as if no Ctrl-C came (a tune worker ran its study to the end, exit 0). Here it is the signal again,
    its handler run at the next line outside the finalizer (an :func:`interrupts_after` block holds it as it
    holds any). Only in the main thread; nested blocks are one; any other dropped error is printed as before."""
    if threading.current_thread() is not threading.main_thread() or sys.unraisablehook is _deliver_again:
        yield
        return
    _DROPPED.append(sys.unraisablehook)
    sys.unraisablehook = _deliver_again
    try:
        yield
    finally:
        sys.unraisablehook = _DROPPED.pop()


def _deliver_again(unraisable) -> None:
    """:func:`interrupts_not_lost`'s ``sys.unraisablehook``: a dropped KeyboardInterrupt is the signal once more
    (Ctrl-C's, else SIGTERM's where only that has a handler of Python's), sent once this hook has returned: sent
    here, its handler ran at this hook's next line, and Python dropped it again ('Exception ignored in
    sys.unraisablehook'). Anything else goes to the hook before."""
    if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
        for number in (signal.SIGINT, *stop_signals()):
            if callable(signal.getsignal(number)):
                try:
                    threading.Thread(target=_send_once_out, args=(threading.get_ident(), number), daemon=True,
                                     name="lstmkit-interrupt-again").start()
                    return
                except RuntimeError:        # no new thread while Python shuts down: said as before
                    break
    (_DROPPED[-1] if _DROPPED else sys.__unraisablehook__)(unraisable)


def _send_once_out(thread: int, number: int) -> None:
    """Signal ``number`` to the main thread once thread ``thread`` is out of :func:`_deliver_again`."""
    def inside() -> bool:
        frame = sys._current_frames().get(thread)
        while frame is not None and frame.f_code is not _deliver_again.__code__:
            frame = frame.f_back
        return frame is not None
    while inside():
        time.sleep(0.001)
    _thread.interrupt_main(number)


class _Holding:
    """The main thread's :func:`interrupts_after` blocks: how deep they are nested (0: in none), the signals that
    arrived in them, and which hold :func:`_say_later` is waiting on (``hold``, counted up as each hold starts and
    ends: a waiter of an ended hold says nothing). Set only from the main thread, the only one signals reach."""

    __slots__ = ("depth", "held", "hold", "say")

    def __init__(self) -> None:
        self.depth = 0
        self.held: list[int] = []
        self.hold = 0
        self.say: str | None = None


_HOLDING = _Holding()
_SAY_AFTER = 1.0                # seconds a held signal waits before the block's line says why nothing happened


def _hold(signum, frame) -> None:
    state = _HOLDING
    if state.held and state.depth:      # a second one while the block runs: at once, as one pressed twice expects
        state.held.clear()
        raise KeyboardInterrupt
    state.held.append(signum)           # (one as the block ends, depth 0: after the handlers are back, as the first)
    if len(state.held) == 1 and state.say:
        state.hold += 1
        # a bare thread: threading's own locks may be held by the very line this handler interrupted
        try:
            _thread.start_new_thread(_say_later, (state.hold, state.say))
        except RuntimeError:    # no new thread (Python shutting down): the hold is as it was, silent
            pass


def _say_later(hold: int, line: str) -> None:
    """``line`` on standard error once the hold ``hold`` has lasted :data:`_SAY_AFTER` seconds, if it still does
    (the main thread is in a call that can wait long: a locked study waits up to SQLite's busy timeout, 120 s,
    and the Ctrl-C it holds showed nothing)."""
    time.sleep(_SAY_AFTER)
    if _HOLDING.hold != hold:
        return
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):       # a reader gone, a stream closed or None
        pass


@contextlib.contextmanager
def interrupts_after(say: str | None = None) -> Iterator[None]:
    """In the block, Ctrl-C and SIGTERM (:func:`stop_signals`) wait for its end, then act as they would have:
    around a call that must not be cut halfway (a study's database statement: cut inside a read, SQLite kept the
    closed connection's lock while the traceback lived, and every worker's next commit on the study failed
    'database is locked' after the 120 s busy timeout). A second one in the block acts at once. ``say``: a line
    for standard error once a signal has waited :data:`_SAY_AFTER` seconds (what the block finishes, and that a
    second Ctrl-C stops at once), so that a Ctrl-C held by a long call is not met with silence. Only in the main
    thread (the only one signals reach) and where the signal has a handler or its default action (an ignored one
    stays ignored); nested blocks are one (the outermost's ``say``)."""
    state = _HOLDING
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if state.depth:
        state.depth += 1
        try:
            yield
        finally:
            state.depth -= 1
        return
    taken: dict[int, Any] = {}
    try:
        # the depth set inside the try: a signal right after it (its handler runs as a call returns) left it set,
        # and every later block took itself for a nested one, holding nothing
        state.depth, state.say = 1, say
        # a signal may come while the handlers change (signal.signal runs a pending one's handler first): the
        # handlers taken so far are put back whatever it raises, where one stayed _hold, holding Ctrl-C for ever
        for number in (signal.SIGINT, *stop_signals()):
            if (previous := signal.getsignal(number)) not in (signal.SIG_IGN, None):
                taken[number] = previous
                signal.signal(number, _hold)
        yield
    finally:
        # the block ends: first its depth, so that a second signal from here on waits for the handlers to be back
        # (raised here, it left Ctrl-C at _hold: held for ever, pressed twice to act), as a first one does
        state.depth = 0
        state.hold += 1         # ended: a line still waiting says nothing
        cut = _put_back(taken)
        held, state.held = state.held, []
        if cut is not None:     # a signal while they were put back, under its own handler: it has acted
            raise cut
        for number in held:     # as it would have acted: the handler now in place (a KeyboardInterrupt, a stop)
            signal.raise_signal(number)


def _put_back(taken: dict[int, Any]) -> BaseException | None:
    """The handlers ``taken`` put back, each of them, whatever a handler put back first raises meanwhile (a signal
    that came then: ``signal.signal`` runs its handler before it changes one); that exception, to raise after."""
    cut = None
    for number, previous in taken.items():
        while signal.getsignal(number) is not previous:
            try:
                signal.signal(number, previous)
            except BaseException as e:      # KeyboardInterrupt, SystemExit: a handler's own
                cut = cut or e
    return cut


def stop_signals() -> list[int]:
    """The signals that ask a process to stop: SIGTERM, and on Windows SIGBREAK (Ctrl-Break, and what
    a supervisor sends a console program to stop it: ``CTRL_BREAK_EVENT``; ended there at once, a
    training was left without its interrupted mark)."""
    return [signal.SIGTERM, *([signal.SIGBREAK] if hasattr(signal, "SIGBREAK") else [])]


_COMMAND: list[bool] = []      # [True] in the ``lstmkit`` command's own process (:func:`lstmkit.launch.main`)


def the_command_runs() -> None:
    """Mark this process as the ``lstmkit`` command's, which ends once it reported an interrupt
    (:func:`interrupts_end_the_process`); called by its entry point, :func:`lstmkit.launch.main`."""
    _COMMAND.append(True)


def interrupts_end_the_process() -> None:
    """Ctrl-C and SIGTERM end the process at once again, as the shell's default does: called once an
    interrupt is being reported (a second one, while the message was printed or Python's exit hooks
    ran, printed a traceback after it). The run is marked already. Only in the ``lstmkit`` command's
    own process (:func:`the_command_runs`): a program that runs the CLI in-process goes on after it
    and keeps its handlers (a notebook cell's interrupted ``lstmkit.cli.main([...])`` left SIGINT's
    default action: a second interrupt in that cell ended the kernel)."""
    if _COMMAND and threading.current_thread() is threading.main_thread():
        for number in (signal.SIGINT, *stop_signals()):
            signal.signal(number, signal.SIG_DFL)
