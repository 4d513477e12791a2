"""The ``lstmkit`` command's entry point (``[project.scripts]``, ``python -m lstmkit``): the CLI
imported and run under one Ctrl-C guard.

:func:`lstmkit.cli.main` turns Ctrl-C inside a command into ``interrupted`` and exit 130, but
``lstmkit.cli`` imports typer and every task's ``cli.py`` before that guard exists: Ctrl-C in the
first few hundred milliseconds printed Python's traceback of whatever module was being imported,
and the process ended by the signal. Here Ctrl-C while the CLI imports, or in the command, is the
same one line and exit 130 (the command's own handling comes first), and so is Ctrl-C or SIGTERM
while this module imports what it needs. Not covered: Python's own start and ``import lstmkit``
(its ``typing``: about 20 ms on an idle machine, before any code of this module runs), where a
Ctrl-C prints Python's traceback, nothing yet done, and the interpreter's teardown after the
command's last output, where no Python code runs: a Ctrl-C there ends the process by the signal,
the work done.

SIGTERM (``kill``, a batch scheduler's stop, ``docker stop``) is taken as Ctrl-C for the whole
command, not only while a model trains: an export, a backtest or a comparison killed so said
``interrupted`` (exit 130) and removed its half-made outputs, where they ended silently (status
-15) and left an export's temporary folder behind.

An error lstmkit did not foresee (a bug: no ``error: PROBLEM — FIX`` line of its own) prints its
traceback and exits 3 (:data:`INTERNAL_ERROR`), apart from exit 1, the environment's (a full disk,
a missing extra), which a pipeline may retry: Python's own exit for it was 1 too. ``lstmkit.cli.main``
called in-process still raises it.

Exit 130 is made sure at the very end: a KeyboardInterrupt that left code run by ``exec`` (a
dataclass's generated ``__init__`` while a module is imported) marks the interpreter, which then
ends itself by SIGINT after the exit code was set (status -2, not 130), however it was caught.
"""
from __future__ import annotations

import atexit
import os
import sys


def _stop_while_importing(signum, frame):
    raise KeyboardInterrupt


def _take_stop_signals() -> list:
    """SIGTERM, and Windows' SIGBREAK (Ctrl-Break, a supervisor's CTRL_BREAK_EVENT), as Ctrl-C while this module
    imports, each where it has its default action (and this is the main thread, the only one that may set a
    handler); those taken. (Named here, not by ``lstmkit.errors.stop_signals``: importing that is what this
    guards.)"""
    taken = []
    for name in ("SIGTERM", "SIGBREAK"):
        number = getattr(signal, name, None)
        if number is None or signal.getsignal(number) is not signal.SIG_DFL:
            continue
        try:
            signal.signal(number, _stop_while_importing)
        except ValueError:
            break
        taken.append(number)
    return taken


# lstmkit.errors' own imports (typing, contextvars, pathlib: tens of milliseconds) came before any guard:
# Ctrl-C there printed Python's traceback of them (status -2), SIGTERM ended the process silently (-15), and so
# did Ctrl-Break on Windows
_TAKEN: list = []
try:
    import signal           # enum, under it: a Ctrl-C lands here too
    _TAKEN = _take_stop_signals()
    from lstmkit.errors import interrupts_end_the_process, terminate_as_interrupt, the_command_runs
except KeyboardInterrupt:
    try:
        print("interrupted", file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):       # a reader gone, a stream closed or None
        pass
    os._exit(130)
finally:
    for _number in _TAKEN:  # back to the default: terminate_as_interrupt takes only a signal left at it
        signal.signal(_number, signal.SIG_DFL)

__all__ = ["main", "INTERNAL_ERROR"]

_EXIT_CODE = 130
INTERNAL_ERROR = 3               # an exception no command turned into its error line: a bug to report
_ending: list[bool] = []         # [True] once the command exits as interrupted


def main(argv: list[str] | None = None) -> None:
    the_command_runs()                          # an interrupt ends this process (lstmkit.cli.main alone: a caller's)
    atexit.register(_exit_interrupted)          # registered first: runs after every other exit hook
    try:
        with terminate_as_interrupt():
            from lstmkit.cli import main as run_cli     # typer and the task CLIs: a few hundred ms
            run_cli(argv)
    except KeyboardInterrupt:
        interrupted()
    except SystemExit as e:
        if e.code == _EXIT_CODE:
            _ending.append(True)
        raise
    except Exception:
        import traceback
        traceback.print_exc()
        print("error: internal error in lstmkit (a bug, not a problem with the input) — report it with the "
              f"traceback above and the command; exit {INTERNAL_ERROR}", file=sys.stderr)
        sys.exit(INTERNAL_ERROR)


def interrupted() -> None:
    """One line, exit 130; a second Ctrl-C while saying so ends the process as the shell's default does."""
    interrupts_end_the_process()
    _ending.append(True)
    print("interrupted", file=sys.stderr)
    sys.exit(_EXIT_CODE)


def _exit_interrupted() -> None:
    """The last exit hook of an interrupted command: its output flushed, the process ends with 130."""
    if not _ending:
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):       # a reader gone, a stream closed or None
            pass
    os._exit(_EXIT_CODE)
