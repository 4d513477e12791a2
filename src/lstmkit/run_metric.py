"""A run's headline metric (:class:`~lstmkit.config.Headline`: a forecast's test MASE, a classifier's
accuracy, a translator's BLEU, a recogniser's WER, a language model's perplexity), read from its
``metrics.json`` by the function its room's ``config.py`` names it with (``headline_metric``): one place
per task. The room is looked up by the task's name, never imported here (the import layers stay one way),
as :mod:`lstmkit.deploy.registry` finds a room's adapter. ``lstmkit list`` and the service's ``/models``
read it, and every task's ``evaluate --json`` (:func:`evaluated_keys`) names the same metric of what it scored.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from lstmkit.config import HEADLINE_FUNCTION, Headline
from lstmkit.errors import LstmkitError
from lstmkit.runs import known_task, read_meta, read_metrics

__all__ = ["headline_of", "evaluated_keys", "EVALUATED_KEYS"]

_TASKS_PACKAGE = "lstmkit.tasks"        # a name to look up, never an import of this module


# the keys every task's ``evaluate --json`` holds, read alike of each task's
EVALUATED_KEYS = ("run", "task", "data", "metric")


def headline_of(run: str | Path, meta: dict[str, Any] | None = None) -> Headline | None:
    """The headline metric of the run folder ``run`` (``meta``: its ``lstmkit.json``, read when not given);
    None where there is none to show: no ``metrics.json`` (a run interrupted, failed or still training), one
    that cannot be read (corrupt) or holds no such number (another program's), or a task this lstmkit lacks."""
    try:
        meta = read_meta(run) if meta is None else meta
        metrics = read_metrics(run)
    except (LstmkitError, OSError):
        return None
    task, config = meta.get("task"), meta.get("config")
    if not isinstance(metrics, dict) or not isinstance(task, str) or not known_task(task):
        return None
    return _read_headline(task, metrics, config)


def _read_headline(task: str, metrics: dict[str, Any], config: Any) -> Headline | None:
    try:
        room = importlib.import_module(f"{_TASKS_PACKAGE}.{task}.config")
    except ModuleNotFoundError:
        return None
    read = getattr(room, HEADLINE_FUNCTION, None)
    return None if read is None else read(metrics, config if isinstance(config, dict) else {})


def evaluated_keys(run: str | Path, data: Any, shaped: dict[str, Any]) -> dict[str, Any]:
    """The keys every task's ``evaluate --json`` adds to its own (:data:`EVALUATED_KEYS`), so that a script reads
    each task's alike: ``run`` (the run folder evaluated), ``task``, ``data`` (what it scored, as given) and
    ``metric``, the task's headline metric of that data as ``lstmkit list`` names it: ``{name, value,
    higher_is_better}`` (``null`` where there is none, a forecast's MASE of a series repeating itself has a null
    value). ``shaped``: the evaluation's numbers in the shape of the run's ``metrics.json`` (a classifier's under
    ``test``, a forecaster's model rows under ``metrics``), which the room's ``headline_metric`` reads."""
    meta = read_meta(run)
    task = meta.get("task")
    headline = _read_headline(task, shaped, meta.get("config")) if isinstance(task, str) and known_task(task) else None
    return {"run": str(run), "task": task, "data": data,
            "metric": None if headline is None else {"name": headline.name, "value": headline.value,
                                                     "higher_is_better": headline.higher_is_better}}
