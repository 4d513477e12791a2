"""Task-agnostic training: the fit loop, callbacks, checkpoints, the doctor, DDP glue.

``Trainer`` and ``TrainResult`` (and so torch) are imported on first use; ``TrainingInterrupted``
and ``TrainingDiverged`` come from :mod:`lstmkit.errors`, so catching them costs nothing.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from lstmkit.errors import TrainingDiverged, TrainingInterrupted

if TYPE_CHECKING:
    from lstmkit.train import distributed
    from lstmkit.train.trainer import Trainer, TrainResult

__all__ = ["Trainer", "TrainResult", "TrainingInterrupted", "TrainingDiverged", "distributed"]

_HOMES = {"Trainer": "lstmkit.train.trainer", "TrainResult": "lstmkit.train.trainer"}


def __getattr__(name: str):
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
    elif name == "distributed":
        value = importlib.import_module("lstmkit.train.distributed")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
