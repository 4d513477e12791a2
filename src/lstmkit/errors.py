"""The exceptions the CLI turns into messages and exit codes.

One error class for everything a user can get wrong: the CLI catches :class:`LstmkitError`,
prints one line (problem, then fix) on stderr and exits with code 2. Library users get the same
message from ``str(err)``. :class:`TrainingInterrupted` (Ctrl-C during training, exit 130) lives
here too, so that the CLI can catch it without importing the trainer (and torch).
:class:`EnvironmentProblem` is the machine's fault, not the input's (disk full, read-only folder,
permission denied, out of memory): one line too, saying what is intact and how to continue, exit 1.
"""
from __future__ import annotations

from pathlib import Path

import errno
import os

__all__ = ["LstmkitError", "BadValue", "ColumnNotFound", "EnvironmentProblem", "TrainingInterrupted", "os_reason", "missing_path_fix"]


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
    negative or all 0): a ``ValueError`` too, as scikit-learn's meta-estimators and its estimator
    checks expect of an argument's bad value."""


class ColumnNotFound(LstmkitError):
    """A table has no column of the name asked for; its hint lists the columns it has. A caller
    reading a second file (validation, test) with the training file's column names says so instead:
    the flags that name the columns apply to every file."""

    def __init__(self, message: str, hint: str | None = None, columns: list[str] | None = None,
                 name: str | None = None, close: str | None = None):
        super().__init__(message, hint)
        self.columns = columns or []          # the names the table has
        self.name = name                      # the name asked for
        self.close = close                    # the one of columns it most likely meant, if any


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


def missing_path_fix(path: str | Path, fix: str) -> str:
    """``fix``, the hint for a path that was not found; for one that starts with ``~``, which the shell
    expands only unquoted and not after ``=`` (``--data=~/x.csv``), the path with the home folder."""
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
    if home == text:
        return fix
    return f"the shell expands '~' only outside quotes and not after '=': pass {home}"


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
    """Raised after Ctrl-C; the last checkpoint (epoch end or every N steps) is what resumes."""

    def __init__(self, run_dir: Path | None, epoch: int):
        super().__init__(f"training interrupted after epoch {epoch}" if epoch else
                         "training interrupted during the first epoch")
        self.run_dir, self.epoch = run_dir, epoch
