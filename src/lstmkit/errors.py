"""The exceptions the CLI turns into messages and exit codes.

One error class for everything a user can get wrong: the CLI catches :class:`LstmkitError`,
prints one line (problem, then fix) on stderr and exits with code 2. Library users get the same
message from ``str(err)``. :class:`TrainingInterrupted` (Ctrl-C during training, exit 130) lives
here too, so that the CLI can catch it without importing the trainer (and torch).
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["LstmkitError", "TrainingInterrupted"]


class LstmkitError(Exception):
    """A problem with the user's input, with a hint on how to fix it.

    >>> str(LstmkitError("column 'y' not found", "use one of: a, b"))
    "column 'y' not found — use one of: a, b"
    """

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class TrainingInterrupted(Exception):
    """Raised after Ctrl-C; the last checkpoint (epoch end or every N steps) is what resumes."""

    def __init__(self, run_dir: Path | None, epoch: int):
        super().__init__(f"training interrupted after epoch {epoch}")
        self.run_dir, self.epoch = run_dir, epoch
