"""The bounds a forecast keeps to: the floor at 0 of a target that never went below 0 (sales,
counts, demand, rainfall), or the bounds the user gives (``--bounds 0,100``: a percentage).

``bounds`` (``ForecastConfig.bounds``, text) is one of

* ``auto`` (the default): a target whose every training value in a series is >= 0 forecasts no
  less than 0 for that series; a series with any negative training value is left as the network
  answers; a series unseen in training is floored where no training series of that target went
  below 0. Never an upper bound: a series between 0.2 and 0.5 need not be capped at 1.
* ``LOW,HIGH``: every forecast of every series and target lies in [LOW, HIGH]; either side may be
  empty (``0,``: a floor, ``,100``: a ceiling). The data ``fit`` reads must lie inside them.
* ``none``: no bounds at all, not even the automatic floor.

Bounded, a forecast's point, every quantile and interval end is clipped into the bounds, around
the network in every engine (``predict``, ``evaluate``, backtest, the service, streams, ONNX), as
the rule that a history of zeros forecasts 0 is. A likelihood's parameters stay as the network
gives them: the forecast is the censored distribution (the mass outside the bounds at the bound),
whose quantiles are the distribution's clipped (clipping is monotone), whose median is the clipped
location, and whose CRPS and interval coverage ``evaluate`` reports
(:func:`~lstmkit.tasks.forecast.probabilistic.probabilistic_metrics`). Quantiles that did not cross
still do not (those beyond a bound meet at it). Clipping never moves a forecast away from an actual
inside the bounds, so it never raises an absolute error, MASE included.

The record (``lstmkit.json``, ``preprocessing.bounds``: ``floor``, ``ceiling``, the rule and, per
target, the series left unbounded) makes a loaded run clip as the fitted one did; a run saved
without it is not bounded.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from lstmkit.errors import LstmkitError, opt, worded

__all__ = ["RULE", "Limits", "check_bounds", "given_bounds", "bounds_record", "recorded_bounds", "loaded_record",
           "check_inside", "limits_of", "clip_values", "bound_params", "around_note", "report_note"]

RULE = "a target never below 0 in the training part of a series forecasts no less than 0 for that series"


def _how() -> str:
    """How to give bounds, in the caller's words."""
    return worded(f"pass {opt('bounds', 'LOW,HIGH')} (either side may be empty: 0, or ,100), {opt('bounds', 'auto')} "
                  f"or {opt('bounds', 'none')}",
                  "pass bounds=(low, high) (None for an open side: (0, None)), bounds='auto' or bounds='none'")


class Limits(NamedTuple):
    """``low``, ``high`` ``[n, T]``: the bounds of each series' targets, -inf / inf where none."""
    low: np.ndarray
    high: np.ndarray

    def any(self) -> bool:
        return bool(np.isfinite(self.low).any() or np.isfinite(self.high).any())

    def take(self, index) -> "Limits":
        """The limits of rows ``index`` (series of windows, say)."""
        return Limits(self.low[index], self.high[index])


def _number(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise LstmkitError(f"bounds must be two numbers LOW,HIGH, got {text!r} in them",
                           _how()) from None


def _text(v: float | None) -> str:
    return "" if v is None else f"{int(v)}" if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))


def check_bounds(value: Any) -> str:
    """``"auto"``, ``"none"`` or ``"LOW,HIGH"`` (a side empty) of what the user gave: that text, a
    pair ``(low, high)`` with None for an open side, or None (``auto``); anything else, a side not
    finite, or LOW >= HIGH is an :class:`LstmkitError`."""
    if value is None:
        return "auto"
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("auto", "none"):
            return word
        if value.count(",") != 1:
            raise LstmkitError(f"bounds must be LOW,HIGH, auto or none, got {value!r}", _how())
        low, high = (_number(s) for s in value.split(","))
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        try:
            low, high = (None if v is None else float(v) for v in value)
        except (TypeError, ValueError):
            raise LstmkitError(f"bounds must be two numbers (low, high), got {value!r}", _how()) from None
    else:
        raise LstmkitError(f"bounds must be LOW,HIGH, auto or none, got {value!r}", _how())
    if low is None and high is None:
        raise LstmkitError("bounds with neither side bound nothing",
                           worded(f"pass {opt('bounds', 'none')} for no bounds, or {opt('bounds', '0,')} for a floor "
                                  "at 0",
                                  "pass bounds='none' for no bounds, or bounds=(0, None) for a floor at 0"))
    bad = [v for v in (low, high) if v is not None and not math.isfinite(v)]
    if bad:
        raise LstmkitError(f"bounds must be finite numbers, got {bad[0]}",
                           worded("leave the side empty for no bound there: --bounds 0, or --bounds ,100",
                                  "pass None for no bound on that side: bounds=(0, None)"))
    if low is not None and high is not None and not low < high:
        raise LstmkitError(f"the low bound must lie below the high one, got {_text(low)},{_text(high)}",
                           worded(f"pass --bounds {_text(min(low, high))},{_text(max(low, high))}"
                                  if low != high else "pass two different numbers, e.g. --bounds 0,100",
                                  f"pass bounds=({_text(min(low, high))}, {_text(max(low, high))})"
                                  if low != high else "pass two different numbers, e.g. bounds=(0, 100)"))
    return f"{_text(low)},{_text(high)}"


def given_bounds(text: str) -> tuple[float | None, float | None] | None:
    """``(low, high)`` of a checked ``LOW,HIGH``; None for ``auto`` and ``none``."""
    if text in ("auto", "none"):
        return None
    low, high = (s.strip() for s in text.split(","))
    return (float(low) if low else None), (float(high) if high else None)


def bounds_record(values: np.ndarray, starts, ends, ids, targets, text: str = "auto") -> dict[str, Any]:
    """The record of training rows ``values [N, T]`` (series ``ids``, rows ``starts[k]:ends[k]``)
    under ``bounds`` ``text``: ``{"floor", "ceiling", "rule", "targets": {name: {"unbounded": [ids]}}}``.
    ``auto``: a floor at 0 for each series and target without a negative value (a missing value is no
    evidence); given bounds or ``none``: the same for every series and target."""
    every = {name: {"unbounded": []} for name in targets}
    if text == "none":
        return {"floor": None, "ceiling": None, "rule": "none: forecasts are left as the network answers (--bounds none)",
                "targets": every}
    given = given_bounds(text)
    if given is not None:
        return {"floor": given[0], "ceiling": given[1],
                "rule": f"given: every forecast, quantile and interval end lies within {text} (--bounds {text})",
                "targets": every}
    negative = np.concatenate([np.zeros((1, values.shape[1]), np.int64), np.cumsum(values < 0, axis=0)])
    starts, ends = np.asarray(starts, np.int64), np.asarray(ends, np.int64)
    below = negative[ends] > negative[starts]                                  # [S, T]
    return {"floor": 0.0, "ceiling": None, "rule": RULE,
            "targets": {name: {"unbounded": [ids[k] for k in np.flatnonzero(below[:, j])],
                               "near_zero": _near_zero(values[:, j], starts, ends, below[:, j])}
                        for j, name in enumerate(targets)}}


def _near_zero(column: np.ndarray, starts: np.ndarray, ends: np.ndarray, below: np.ndarray) -> int:
    """How many series the floor at 0 bounds (``below``: not those with a negative training value) came
    within their own training range's width of 0 (sales with zeros, a count of 2 .. 40): where a forecast
    can reach below 0. The report names the floor only then (a CO2 series of 313 .. 372 ppm, the demo's,
    was told its forecasts are floored at 0)."""
    near = 0
    for k in np.flatnonzero(~below):
        seg = column[starts[k]:ends[k]]
        seg = seg[np.isfinite(seg)]
        near += bool(seg.size) and float(seg.min()) <= float(seg.max() - seg.min())
    return near


def recorded_bounds(record: dict[str, Any] | None) -> str:
    """The ``bounds`` text of a run's record (:func:`bounds_record`): ``LOW,HIGH`` where the user
    gave them, else ``auto`` (the automatic floor, ``none``, or a run saved without a record)."""
    if not record or not str(record.get("rule", "")).startswith("given"):
        return "auto"
    return check_bounds((record.get("floor"), record.get("ceiling")))


def loaded_record(record: Any) -> dict[str, Any] | None:
    """A loaded run's ``preprocessing.bounds`` (:func:`bounds_record`) as it is, None for none; one of
    another shape (an edited ``lstmkit.json``: ``"bounds": 5``, a target's entry a number, a floor given
    as text) is a ValueError naming the key, which ``load`` reports as a malformed run. It loaded, and the
    first forecast ended in AttributeError: 'int' object has no attribute 'get'."""
    if record is None or record == {}:
        return None
    targets = record.get("targets") if isinstance(record, dict) else None
    if not isinstance(targets, dict):
        raise ValueError(f"preprocessing.bounds is {_json_kind(record)}, not a bounds record with its targets")
    for key in ("floor", "ceiling"):
        value = record.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or math.isnan(value)):
            raise ValueError(f"preprocessing.bounds.{key} is {_json_kind(value)}, not a number or null")
    if not isinstance(record.get("rule"), str):
        raise ValueError(f"preprocessing.bounds.rule is {_json_kind(record.get('rule'))}, not text")
    for name, entry in targets.items():
        left = entry.get("unbounded") if isinstance(entry, dict) else None
        if entry is not None and (not isinstance(left, list) or any(isinstance(i, (list, dict)) for i in left)):
            raise ValueError(f"preprocessing.bounds.targets.{name} is {_json_kind(entry)}, not a target's record "
                             "(its unbounded series, a list of ids)")
    return record


def _json_kind(value: Any) -> str:
    """What a JSON value is, for a message: 'null', 'a number (5)', 'a list', 'an object'."""
    if value is None:
        return "null"
    if isinstance(value, (bool, int, float)):
        return f"{'a boolean' if isinstance(value, bool) else 'a number'} ({value!r})"
    return {str: "text", list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def check_inside(columns: dict[str, np.ndarray], text: str, place, fitting: bool = True) -> None:
    """One error when a target column's values (``columns``: name -> values) lie outside given bounds
    ``text``: the first cell (``place(name, pos)``: where it is in the file) and how many more, over
    every column; nothing for ``auto`` / ``none``. A missing value is neither in nor out. ``fitting``
    False: the data of an update of a fitted run, whose bounds are its own."""
    given = given_bounds(text)
    if given is None:
        return
    low, high = (-np.inf if given[0] is None else given[0]), (np.inf if given[1] is None else given[1])
    outside = {c: np.flatnonzero((v < low) | (v > high)) for c, v in columns.items()}    # NaN compares False
    n = sum(len(k) for k in outside.values())
    if not n:
        return
    c = next(c for c, k in outside.items() if len(k))
    pos = int(outside[c][0])
    shown = worded(f"--bounds {text}", f"bounds=({given[0]!r}, {given[1]!r})")
    auto = worded("--bounds auto", "bounds='auto'")
    cells = "that cell" if n == 1 else "those cells"
    where = (f"{shown}, which the data fit reads must lie within" if fitting else
             f"the run's bounds {shown}, which the data an update reads must lie within")
    raise LstmkitError(f"column {c!r} holds {columns[c][pos]:g} in {place(c, pos)}"
                       f"{'' if n == 1 else f' and {n - 1} more values'} outside {where}",
                       f"fix {cells}, or widen the bounds, or drop them ({auto}: a floor at 0 where the data never "
                       "goes below)" if fitting else
                       f"fix {cells}, or train a new run with wider bounds or {auto} on data holding these values")


def limits_of(record: dict[str, Any] | None, ids, targets, known) -> Limits:
    """The :class:`Limits` of series ``ids`` (open without a record: a run saved before bounds). An id
    not in ``known`` (the training series, a set or a dict keyed by them) is bounded where no
    training series of that target was left unbounded."""
    low, high = np.full((len(ids), len(targets)), -np.inf), np.full((len(ids), len(targets)), np.inf)
    if not record:
        return Limits(low, high)
    floor, ceiling = record.get("floor"), record.get("ceiling")
    for j, name in enumerate(targets):
        entry = record["targets"].get(name)
        if entry is None:
            continue
        off = set(entry["unbounded"])
        on = np.array([sid not in off and (sid in known or not off) for sid in ids], dtype=bool)
        if floor is not None:
            low[on, j] = floor
        if ceiling is not None:
            high[on, j] = ceiling
    return Limits(low, high)


def clip_values(values: np.ndarray, limits: Limits) -> np.ndarray:
    """``values [n, H, T(, Q)]`` (points or quantiles, original units) clipped into ``limits``."""
    if not limits.any():
        return values
    low, high = limits.low[:, None], limits.high[:, None]                     # [n, 1, T]
    if values.ndim == 4:
        low, high = low[..., None], high[..., None]
    return np.clip(values, low, high)


def bound_params(kind: str, params: np.ndarray, limits: Limits) -> np.ndarray:
    """Original-unit parameters ``[n, H, T(, P)]`` within ``limits``: points and quantiles clipped;
    a likelihood's as they are (its censored distribution's point and quantiles are clipped where
    they are read: ``AheadForecast._point`` / ``_quantiles``)."""
    return clip_values(params, limits) if kind in ("point", "quantile") else params


def around_note(record: dict[str, Any] | None) -> list[str]:
    """The ``around_graph`` line of a run with bounds (none without a record, or nothing bounded)."""
    if not record or (record.get("floor") is None and record.get("ceiling") is None):
        return []
    if record.get("ceiling") is None and record["floor"] == 0.0 and record["rule"] == RULE:
        return [f"the floor at 0: {RULE} (forecasts and quantiles below 0 answer 0; the graph's own answer can be below)"]
    return [f"the bounds: {record['rule']} (forecasts and quantiles outside them answer the bound; the graph's own "
            "answer can lie outside)"]


def report_note(record: dict[str, Any] | None, series: int) -> str | None:
    """The training report's line on the floor at 0 (``--bounds auto``) of a run over ``series``
    series: which series it floors, and how to turn it off; None when it floors nothing, or the
    bounds were given (the user knows them) or turned off, or no series it floors came within its own
    training range's width of 0 (no forecast is likely to reach 0). A count series' forecasts of exactly
    0 came with no word of why, in the report or beside the metrics it changes."""
    if not record or record.get("rule") != RULE or record.get("floor") is None:
        return None
    targets = record.get("targets", {})
    left = {len(t["unbounded"]) for t in targets.values()}
    if left == {series}:
        return None
    near = [t.get("near_zero") for t in targets.values()]
    if near and all(isinstance(n, int) for n in near) and not any(near):   # every series far above 0 (runs
        return None                                                        # saved before the count: said)
    auto, off = worded("--bounds auto", "bounds='auto'"), worded("--bounds none", "bounds='none'")
    if left == {0}:
        which = "the series was" if series == 1 else f"each of the {series:,} series was"
        what = f": {which} never below 0 in its training part, so forecasts and quantiles below 0 answer 0"
    else:
        counts = ", ".join(f"{name!r}: {series - len(t['unbounded']):,} of {series:,} series"
                           for name, t in targets.items())
        what = (f" where a target was never below 0 in a series' training part ({counts}), so forecasts and quantiles "
                "below 0 answer 0 there")
    return f"forecasts floored at 0 ({auto}){what}; {off} leaves them as the network answers"
