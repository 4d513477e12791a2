"""Saving a model into a folder that holds a run: its own, or another one.

    new_run_id()                      a new run's name for ``lstmkit.json`` (``run_id``)
    run_here(folder)                  the ``lstmkit.json`` of the run in ``folder``, or None
    is_own_run(meta, task, run_id, run_dir, folder)   whether that run is the model's being saved
    clear_run(folder)                 delete the files lstmkit wrote for the run in ``folder``

A run is named when its model is fitted (``run_id``), and every save of that model, after a
resume, an online update or an export, keeps the name. A folder holding another run is not saved
over as it is: its history, plots, checkpoints and exports would stay beside the new weights, and
the folder would describe two models.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from lstmkit.errors import EnvironmentProblem, LstmkitError, os_reason
from lstmkit.files import read_json
from lstmkit.runs import META_FILE, RUN_FILES, RUN_FOLDERS

__all__ = ["RUN_ID_KEY", "new_run_id", "run_here", "is_own_run", "other_run_named", "clear_run", "clear_files"]

RUN_ID_KEY = "run_id"
# what lstmkit writes inside a run's sub-folders (TensorBoard's event files aside): what clear_run deletes there
_FOLDER_FILES = {"checkpoints": ("last.safetensors", "last.json"),
                 "plots": ("loss.png", "forecast.png", "confusion.png", "attention.png", "gates.png",
                           "decoder_gates.png", "spectrogram.png", "ctc_posteriors.png", "reliability.png"),
                 "backtest": ("backtest.csv", "backtest.json", "plots/backtest.png", "plots")}
_TB_EVENTS = "events.out.tfevents.*"


def new_run_id() -> str:
    """A new run's name: random, so no two fits share one."""
    return uuid.uuid4().hex


def run_here(folder: str | Path) -> dict[str, Any] | None:
    """The ``lstmkit.json`` of the run in ``folder`` (``{}`` when it cannot be read), or None when
    the folder holds no run."""
    path = Path(folder) / META_FILE
    try:
        if not path.is_file():
            return None
    except OSError:                   # a name no file can have (too long): no run there
        return None
    try:
        meta = read_json(path, "")
    except (OSError, LstmkitError):
        return {}
    return meta if isinstance(meta, dict) else {}


def is_own_run(meta: dict[str, Any], task: str, run_id: str | None, run_dir: str | Path | None,
               folder: str | Path) -> bool:
    """Whether the run ``meta`` in ``folder`` is that of the ``task`` model named ``run_id``: the
    same ``run_id``, or for a run written before runs had one, the folder the model was trained
    into or loaded from (``run_dir``)."""
    theirs = meta.get(RUN_ID_KEY)
    if isinstance(theirs, str) and run_id is not None:
        return theirs == run_id
    try:
        return run_dir is not None and meta.get("task") == task and os.path.samefile(run_dir, folder)
    except OSError:
        return False


def other_run_named(meta: dict[str, Any]) -> str:
    """A run in a message: ``"another 'forecast' run (written 2025-01-01T12:00:00+00:00)"``."""
    task, written = meta.get("task"), meta.get("written")
    kind = f"'{task}' run" if isinstance(task, str) else "run"
    return f"another {kind}" + (f" (written {written})" if isinstance(written, str) else "")


def clear_run(folder: str | Path) -> None:
    """Delete the run in ``folder``: the files lstmkit writes there (:data:`lstmkit.runs.RUN_FILES`;
    in its sub-folders checkpoints, plots, TensorBoard events and a backtest's files),
    ``lstmkit.json`` first, so that an interruption leaves a folder that is no run rather than a mix
    of two. Every other file, and a sub-folder that still holds one, is kept."""
    folder = Path(folder)
    for name in sorted(RUN_FILES, key=lambda n: n != META_FILE):
        _remove(folder / name)
    for sub, names in _FOLDER_FILES.items():
        for name in names:
            _remove(folder / sub / name)
    for events in sorted((folder / "tb").glob(_TB_EVENTS)):
        _remove(events)
    for sub in RUN_FOLDERS:
        _remove(folder / sub)


def clear_files(folder: str | Path, names: tuple[str, ...]) -> None:
    """Delete ``names`` (paths inside ``folder``, in order): a file, or a folder once it is empty; a folder
    that still holds other files is kept, and a name that is not there is passed over."""
    for name in names:
        _remove(Path(folder) / name)


def _remove(path: Path) -> None:
    """Delete the file ``path``, or the folder ``path`` when it is empty; nothing when it is neither."""
    try:
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        elif path.is_file() or path.is_symlink():
            path.unlink()
    except OSError as e:
        if path.is_file() or (path.is_dir() and not any(path.iterdir())):
            raise EnvironmentProblem(f"could not delete {path} ({os_reason(e)}), a file of the run saved over",
                                     "delete the folder's old run yourself, or save into a new folder") from None
