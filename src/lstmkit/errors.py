"""One error class for everything a user can get wrong.

The CLI catches :class:`LstmkitError`, prints one line (problem, then fix) on stderr and exits
with code 2. Library users get the same message from ``str(err)``.
"""
from __future__ import annotations

__all__ = ["LstmkitError"]


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
