"""``lstmkit.load(run)``: open any finished run folder with the estimator of its task.

A run's task names its room, ``lstmkit.tasks.<task>``, found by name: nothing here imports a
task. Each room's package provides ``load(run) -> estimator``. What every task's estimator does,
whichever it is, is :class:`Estimator` (``lstmkit.Estimator``): the type ``load`` returns.
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, Self, runtime_checkable

from lstmkit.deploy.step_stream import StepStream
from lstmkit.errors import LstmkitError, caller_wording
from lstmkit.runs import read_meta

__all__ = ["Estimator", "load", "task_room"]


@runtime_checkable
class Estimator(Protocol):
    """What every task's estimator does (``Forecaster``, ``TextClassifier``, ``SequenceClassifier``,
    ``Translator``, ``LanguageModel``, ``SpeechRecognizer``), so what :func:`load` gives: annotate
    with it (``model: lstmkit.Estimator = lstmkit.load(run)``) and ``isinstance`` it for a task's own
    methods (``isinstance(model, lstmkit.Forecaster)``). A protocol: each estimator is one without
    naming it, each with its own arguments to ``fit``, ``predict``, ``evaluate`` and ``score``."""

    def fit(self, *args: Any, **kwargs: Any) -> Self:
        """Train on the data given (``*args`` and ``**kwargs``: the task's own); returns the estimator."""

    def predict(self, *args: Any, **kwargs: Any) -> Any:
        """The task's answers (forecasts, labels, translations, ...) to ``*args`` and ``**kwargs``, the task's own."""

    def evaluate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The task's metrics on labelled data (``*args`` and ``**kwargs``: the task's own)."""

    def score(self, *args: Any, **kwargs: Any) -> float:
        """scikit-learn's score: greater is better (``*args`` and ``**kwargs``: the task's own)."""

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the fitted model as the run folder ``path``; returns it. A folder holding another run is
        refused unless ``overwrite``, which deletes that run's files first."""

    def export(self, format: str = "onnx", out: str | Path | None = None, *, data: Any = None) -> Path:
        """An ONNX or int8 file of the fitted model (``format``: ``onnx`` or ``int8``), into ``out`` (None:
        beside the run's weights; int8: ``RUN-int8``) with ``data`` for int8's test metrics; returns its path."""

    def stream(self, mode: str = "auto", engine: str = "auto", max_streams: int | None = None) -> StepStream:
        """One step per call, a state per stream id (:mod:`lstmkit.deploy.streaming`); ``mode``, ``engine``
        and ``max_streams`` as :meth:`lstmkit.tasks._base.RunEstimator.stream` takes them."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Every hyper-parameter with its value, as the constructor takes them (``deep`` changes nothing)."""

    def set_params(self, *args: Any, **params: Any) -> Self:
        """Change hyper-parameters (``**params``: each estimator types its own, which ``*args`` lets
        it do for type checkers); returns the estimator."""

_TASK_NAME = re.compile(r"[a-z][a-z0-9_]*")


def load(run: str | Path) -> Estimator:
    """Load a run folder written by any lstmkit task; returns the fitted estimator of its task, an
    :class:`Estimator` to a type checker (``Forecaster.load(run)`` and the like give the class).

    Raises :class:`~lstmkit.errors.LstmkitError` when ``run`` is no run folder, is damaged, or was
    written by a task this version does not know."""
    with caller_wording(python=True):         # its hints in keywords, as the estimators' load (the CLI's: flags)
        task = read_meta(run)["task"]
        room = task_room(task)
        if room is None or not callable(getattr(room, "load", None)):
            raise LstmkitError(f"{run} is a {task!r} run, which this version of lstmkit cannot load",
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
