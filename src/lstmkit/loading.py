"""``lstmkit.load(run)``: open any finished run folder with the estimator of its task.

A run's task names its room, ``lstmkit.tasks.<task>``, found by name: nothing here imports a
task. Each room's package provides ``load(run) -> estimator``.
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from lstmkit.errors import LstmkitError
from lstmkit.runs import read_meta

if TYPE_CHECKING:
    from lstmkit.tasks._base import RunEstimator

__all__ = ["load", "task_room"]

_TASK_NAME = re.compile(r"[a-z][a-z0-9_]*")


def load(run: str | Path) -> RunEstimator:
    """Load a run folder written by any lstmkit task; returns the fitted estimator of its task
    (``Forecaster.load(run)`` and the like give the class to a type checker too).

    Raises :class:`~lstmkit.errors.LstmkitError` when ``run`` is no run folder, is damaged, or was
    written by a task this version does not know."""
    task = read_meta(run)["task"]
    room = task_room(task)
    if room is None or not callable(getattr(room, "load", None)):
        raise LstmkitError(f"{run} is a '{task}' run, which this version of lstmkit cannot load",
                           "upgrade lstmkit")
    return room.load(run)


def task_room(task: str) -> ModuleType | None:
    """The package ``lstmkit.tasks.<task>``, imported; None when there is no such task."""
    if not isinstance(task, str) or not _TASK_NAME.fullmatch(task):
        return None
    name = f"lstmkit.tasks.{task}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name == name:
            return None
        raise
