"""A resumed run trains on the data it started with: the SHA-256 of each data file a run names
is recorded in its data summary, and ``--resume`` refuses a file whose content has changed.

A checkpoint continued on other data gives a model no uninterrupted run would give (and, when
the vocabulary changed size, a "checkpoint written for another model" error that blames the
settings). Runs written before the hashes were recorded resume unchecked.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from lstmkit.errors import LstmkitError
from lstmkit.runs import file_sha256

__all__ = ["HASHES_KEY", "data_hashes", "check_same_data"]

HASHES_KEY = "sha256"          # in the run's data summary: {role: hex digest}


def _named(summary: dict[str, Any]) -> dict[str, str]:
    """The paths a summary names, by role: ``source``, ``val_source``, ``files.src_file``, …"""
    named = {k: v for k, v in summary.items() if k.endswith("source") or k == "target"}
    named.update({f"files.{k}": v for k, v in (summary.get("files") or {}).items()})
    return {role: v for role, v in named.items() if isinstance(v, str)}


def _is_file(path: str) -> bool:
    try:
        return Path(path).is_file()
    except OSError:                # a name too long to be a path (a text given as data)
        return False


def data_hashes(summary: dict[str, Any]) -> dict[str, str]:
    """``{role: sha256}`` of the data files ``summary`` names (a folder or in-memory data: none)."""
    digests: dict[str, str] = {}                   # by path: a file named in two roles is read once
    for path in _named(summary).values():
        if path not in digests and _is_file(path):
            digests[path] = file_sha256(path)
    return {role: digests[path] for role, path in sorted(_named(summary).items()) if path in digests}


def check_same_data(recorded: dict[str, Any], now: dict[str, str], run_dir: Path,
                    summary: dict[str, Any] | None = None) -> None:
    """Refuse a resume whose data file differs from the one the run started on (``recorded`` is
    the run's data summary as written when it started; ``now`` the hashes of the files read now,
    named in ``summary``, the data summary now, when it is given: ``--resume --data OTHER``)."""
    before = recorded.get(HASHES_KEY) or {}
    for role, digest in now.items():
        if role in before and before[role] != digest:
            path = _named(recorded).get(role, role)
            given = _named(summary or {}).get(role, path)
            what = f"{path} is not the file" if given == path else f"{given} is not {path}, the file"
            raise LstmkitError(f"the data changed since {run_dir} started: {what} it trained on "
                               f"(their SHA-256 differ)", "a resumed run must train on the same data: restore "
                               "that file, or start a new run without --resume")
