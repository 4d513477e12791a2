"""A run's headline metric (:class:`~lstmkit.config.Headline`: a forecast's test MASE, a classifier's
accuracy, a translator's BLEU, a recogniser's WER, a language model's perplexity), read from its
``metrics.json`` by the function its room's ``config.py`` names it with (``headline_metric``): one place
per task. The room is looked up by the task's name, never imported here (the import layers stay one way),
as :mod:`lstmkit.deploy.registry` finds a room's adapter. ``lstmkit list`` and the service's ``/models``
read it, and every task's ``evaluate --json`` (:func:`evaluated_keys`) names the same metric of what it scored.
"""
from __future__ import annotations

import dataclasses
import importlib
import math
from pathlib import Path
from typing import Any

from lstmkit.config import HEADLINE_FUNCTION, Headline
from lstmkit.errors import LstmkitError
from lstmkit.files import read_json
from lstmkit.runs import known_task, read_meta, read_metrics

REPORT_FILE = "export_report.json"      # an int8 run's (lstmkit.deploy.quantize's, a layer above: named here too)

# export_report.json's: the float run's headline as the export read it, so that the int8 run's shows where the float
# run has moved (runs exported before it read the float run's metrics.json, where it was)
SOURCE_HEADLINE = "source_headline"

__all__ = ["headline_of", "headline_record", "evaluated_keys", "EVALUATED_KEYS", "SOURCE_HEADLINE"]

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
    if isinstance(meta.get("quantization"), dict) and metrics is None:
        return _int8_headline(run, meta)
    if not isinstance(metrics, dict) or not isinstance(task, str) or not known_task(task):
        return None
    return _read_headline(task, metrics, config)


_FLOAT32_SUMS = 1e-6      # how far apart two float32 scores of the same examples may be (sums in another order)


def _int8_headline(run: str | Path, meta: dict[str, Any]) -> Headline | None:
    """An int8 run's headline (it has no ``metrics.json``): its engine's score in ``export_report.json``, marked
    int8, where it is the float run's headline metric of the same examples: the report's float32 score equals the
    source run's ``metrics.json`` number (to a millionth: float32 sums in another order). None where it does
    not (``export int8 --data`` scored other data; lm scores its held-out text in pieces of a fresh state,
    speech decodes greedily, a blended forecast scores its network alone: other numbers of the same name), or
    where the report lacks the metric. The float run's headline is the one the report recorded
    (:data:`SOURCE_HEADLINE`), read without the float run: it may have moved since; a report written before it
    was recorded reads the float run's where the export found it (none where it has moved)."""
    try:
        report = read_json(Path(run) / REPORT_FILE, "")
        kept = _recorded_headline(report)
        if kept is None and not (isinstance(report, dict) and SOURCE_HEADLINE in report):
            source = Path(meta["quantization"]["source_run"])
            source_meta = read_meta(source)
            kept = headline_of(source, source_meta) if "quantization" not in source_meta else None
    except (LstmkitError, OSError, KeyError, TypeError):
        return None
    if kept is None or kept.value is None or not isinstance(report, dict):
        return None
    fp32 = (report.get("fp32") or {}).get("metrics") if isinstance(report.get("fp32"), dict) else None
    chosen = (report.get("chosen") or {}).get("metrics") if isinstance(report.get("chosen"), dict) else None
    if not isinstance(fp32, dict) or not isinstance(chosen, dict):
        return None
    key = next((k for k in (kept.name, kept.name.lower()) if k in fp32 and k in chosen), None)
    said = None if key is None else Headline.read(fp32, key, kept.name, kept.spec, kept.part, kept.higher_is_better)
    # equal but for float32 sums taken in another order (an lm's perplexity of the same lines, 2e-9 apart): the
    # same examples; other data, or a line read in pieces, is a number farther off than float32's rounding
    if said is None or said.value is None or not math.isclose(said.value, kept.value, rel_tol=_FLOAT32_SUMS,
                                                              abs_tol=1e-12):
        return None
    engine = Headline.read(chosen, key, kept.name, kept.spec, kept.part, kept.higher_is_better,
                           split_shown=kept.split_shown)
    return None if engine is None else dataclasses.replace(engine, int8=True)


def headline_record(run: str | Path, meta: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The float run ``run``'s headline as an int8 export records it in its report (:data:`SOURCE_HEADLINE`):
    what :func:`_int8_headline` compares the report's float32 number with and rounds the int8 one as; None where
    it has none (then the int8 run shows none, as where it is read from the float run)."""
    kept = headline_of(run, meta)
    if kept is None or kept.int8:
        return None
    return {field.name: getattr(kept, field.name) for field in dataclasses.fields(kept) if field.name != "int8"}


def _recorded_headline(report: Any) -> Headline | None:
    """The float run's headline an int8 export's report recorded (:func:`headline_record`); None where it
    recorded none, or a record that is not one (an edited file)."""
    record = report.get(SOURCE_HEADLINE) if isinstance(report, dict) else None
    if not isinstance(record, dict):
        return None
    name, spec, part = (record.get(k) for k in ("name", "spec", "part"))
    higher, shown = record.get("higher_is_better"), record.get("split_shown", False)
    if not all(isinstance(v, str) for v in (name, spec, part)) or not all(isinstance(v, bool) for v in (higher, shown)):
        return None
    try:
        format(0.0, spec)
    except ValueError:
        return None
    return Headline.read(record, "value", name, spec, part, higher, split_shown=shown)


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
