"""Who is training a run folder: an advisory lock held by the training process.

    training_lock(run)               hold ``run`` while this process trains it (a descriptor to close)
    check_not_training(run, action)  an error when another process trains ``run`` right now
    this_process()                   the process and host a run marked "training" records (``process``)
    process_gone(run, meta)          whether the process a run marked "training" records has ended
    process_ended(process)           whether the process a this_process() record names has ended (this host's)
    folder_lock(folder)              ``with``: hold a folder for the block, waiting for another holder

The system releases the lock when the process ends, however it ends (Ctrl-C, ``kill -9``, a
crash), so a run left "training" by a dead process is free to ``--resume``; one another process
is training is not: two trainers would write one run's files in turn. Where there are no such
locks (Windows, some network file systems) nothing is guarded, as before the lock existed, and
the process id and host a run records while it trains tell a dead trainer on this machine.
"""
from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path
from typing import Any

from lstmkit.errors import EnvironmentProblem, worded

__all__ = ["training_lock", "check_not_training", "this_process", "process_gone", "process_ended", "folder_lock",
           "PROCESS_KEY"]

PROCESS_KEY = "process"        # lstmkit.json of a run marked "training": {"pid": ..., "host": ...} of its trainer


def training_lock(run: str | Path, busy: EnvironmentProblem | None = None) -> int | None:
    """Hold ``run`` as trained by this process: an advisory lock on the folder, which the system
    releases when the process ends, however it ends (Ctrl-C, ``kill -9``, a crash). Returns the
    descriptor to close when training is over (None where there are no such locks: Windows). A
    run another process is training is an error (``busy``, else one naming the run's --resume):
    two trainers wrote one run's files in turn."""
    try:
        import fcntl
    except ImportError:
        return None
    try:
        os.makedirs(run, exist_ok=True)          # fit(run_dir=...) names a folder that may not exist yet
        fd = os.open(run, os.O_RDONLY)
    except OSError:                   # it cannot be made or opened: the writes that follow say why, as before
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise (busy or _in_training(run, worded("--resume", "this fit"))) from None
    except OSError:               # a file system without locks (some network mounts): unguarded, as before
        pass
    return fd


def check_not_training(run: str | Path, action: str) -> None:
    """An :class:`EnvironmentProblem` when another process is training ``run`` right now (see
    :func:`training_lock`); ``action`` names what has to wait (``"--resume"``, ``"loading"``)."""
    try:
        import fcntl
        fd = os.open(run, os.O_RDONLY)
    except (ImportError, OSError):
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _in_training(run, action) from None
    except OSError:
        pass
    finally:
        os.close(fd)


def this_process() -> dict[str, Any]:
    """What a run marked "training" records of the process training it: its id and host name."""
    return {"pid": os.getpid(), "host": socket.gethostname()}


def process_gone(run: str | Path, meta: dict[str, Any]) -> bool | None:
    """Whether the process that marked ``run`` "training" (``meta``: its ``lstmkit.json``) has ended
    without a word (``kill -9``, a crash, the machine stopped): True when nothing holds the run's
    training lock, or, where there are no such locks, when the process it records on this host is
    not running; False when it is still training; None where neither tells (no locks, and the run
    records no process or another host's)."""
    held = _lock_held(run)
    if held is not None:
        return not held
    return process_ended(meta.get(PROCESS_KEY))


def process_ended(process: Any) -> bool | None:
    """Whether the process ``process`` names (:func:`this_process`'s record) has ended: True when it
    is on this host and no longer runs, False when it runs, None where this host cannot tell (another
    host's process, or no record)."""
    if not isinstance(process, dict) or process.get("host") != socket.gethostname():
        return None
    pid = process.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return None
    if os.name == "nt":              # there signal 0 is CTRL_C_EVENT: it would send Ctrl-C, not ask
        return _windows_process_gone(pid)
    else:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:              # another user's process (EPERM): it runs
            return False
        return False


_STILL_ACTIVE, _NO_SUCH_PROCESS, _ACCESS_DENIED = 259, 87, 5


def _windows_process_gone(pid: int, kernel32=None, last_error=None) -> bool | None:
    """Whether process ``pid`` has ended, asked of Windows' kernel32 (``OpenProcess``: no such id is
    ERROR_INVALID_PARAMETER, another user's process is ACCESS_DENIED; ``GetExitCodeProcess``:
    STILL_ACTIVE while it runs); None when Windows does not say."""
    import ctypes
    if kernel32 is None:
        kernel32, last_error = ctypes.WinDLL("kernel32", use_last_error=True), ctypes.get_last_error
    handle = kernel32.OpenProcess(0x1000, False, pid)          # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return {_NO_SUCH_PROCESS: True, _ACCESS_DENIED: False}.get(last_error())
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return None
        return code.value != _STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _lock_held(run: str | Path) -> bool | None:
    """Whether a process holds ``run``'s training lock (None where there are no such locks)."""
    try:
        import fcntl
        fd = os.open(run, os.O_RDONLY)
    except (ImportError, OSError):
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    finally:
        os.close(fd)
    return False


@contextlib.contextmanager
def folder_lock(folder: str | Path):
    """Hold ``folder`` for the block (an advisory lock, waiting while another process holds it;
    released however the process ends): what several processes writing one folder's files in
    turn take (tune's workers, each writing the study's outputs when it stops). Unguarded where
    there are no such locks (Windows, some network file systems)."""
    try:
        import fcntl
        fd = os.open(folder, os.O_RDONLY)
    except (ImportError, OSError):
        yield
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)                     # closing the descriptor releases the lock


def _in_training(run: str | Path, action: str) -> EnvironmentProblem:
    return EnvironmentProblem(f"{run} is being trained by another process right now; {action} has to wait",
                              worded("run the command again", "try again") + " once that training ends (its "
                              "lstmkit.json then says \"finished\"), or stop it (Ctrl-C) and continue it with "
                              + worded("--resume", "resume()"))
