"""The floor at 0 of a target that never went below 0: sales, counts, demand, rainfall.

A target whose every training value in a series is >= 0 forecasts no less than 0 for that series:
its point forecast, every quantile and a likelihood's location are ``max(·, 0)``, around the
network in every engine (``predict``, ``evaluate``, backtest, the service, streams, ONNX), as
the rule that a history of zeros forecasts 0 is. A series with any negative training value is
left as the network answers; a series unseen in training is floored where no training series
of that target went below 0. Only a floor: nothing bounds a forecast from above.

The record (``lstmkit.json``, ``preprocessing.bounds``) names the floor, the rule and, per target,
the series left unbounded, so a loaded run floors as the fitted one did; a run saved without it
is not floored. Flooring ``max(ŷ, 0)`` never moves a forecast away from an actual >= 0, so it
never raises an absolute error, MASE included; ``max`` is monotone, so quantiles that did not
cross still do not (those below 0 meet at 0).
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["RULE", "bounds_record", "floor_mask", "floor_params", "floor_values", "around_note"]

RULE = "a target never below 0 in the training part of a series forecasts no less than 0 for that series"


def bounds_record(values: np.ndarray, starts, ends, ids, targets) -> dict[str, Any]:
    """``{"floor": 0.0, "rule": ..., "targets": {name: {"unbounded": [ids]}}}`` of training rows
    ``values [N, T]`` (series ``ids``, rows ``starts[k]:ends[k]``); a missing value is no evidence."""
    negative = np.concatenate([np.zeros((1, values.shape[1]), np.int64), np.cumsum(values < 0, axis=0)])
    starts, ends = np.asarray(starts, np.int64), np.asarray(ends, np.int64)
    below = negative[ends] > negative[starts]                                  # [S, T]
    return {"floor": 0.0, "rule": RULE,
            "targets": {name: {"unbounded": [ids[k] for k in np.flatnonzero(below[:, j])]}
                        for j, name in enumerate(targets)}}


def floor_mask(record: dict[str, Any] | None, ids, targets, known) -> np.ndarray:
    """``[n, T]``: whether series ``ids[k]``'s target ``j`` is floored; all False without a record
    (a run saved before bounds). An id not in ``known`` (the training series, a set or a dict keyed
    by them): floored where no training series of that target went below 0."""
    mask = np.zeros((len(ids), len(targets)), dtype=bool)
    if not record:
        return mask
    for j, name in enumerate(targets):
        entry = record["targets"].get(name)
        if entry is None:
            continue
        off = set(entry["unbounded"])
        mask[:, j] = [sid not in off and (sid in known or not off) for sid in ids]
    return mask


def floor_values(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``values [n, H, T(, Q)]`` (points or quantiles, original units) floored at 0 where ``mask [n, T]``."""
    if not mask.any():
        return values
    m = mask[:, None, :, None] if values.ndim == 4 else mask[:, None, :]
    return np.where(m & (values < 0), 0.0, values)


def floor_params(kind: str, params: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Original-unit parameters ``[n, H, T(, P)]`` with the floor where ``mask [n, T]``: points and
    quantiles themselves; a likelihood's location (its point forecast; its quantiles are floored
    where they are read, :func:`floor_values`)."""
    if not mask.any():
        return params
    if kind in ("point", "quantile"):
        return floor_values(params, mask)
    out = params.copy()
    out[..., 0] = floor_values(params[..., 0], mask)
    return out


def around_note(record: dict[str, Any] | None) -> list[str]:
    """The ``around_graph`` line of a run with a floor (none without a record, or nothing floored)."""
    if not record:
        return []
    return [f"the floor at 0: {RULE} (forecasts and quantiles below 0 answer 0; the graph's own answer can be below)"]
