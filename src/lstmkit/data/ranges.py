"""Whether values lie far outside the range a model was trained on: the rule and the words of the
warning that forecasters and numeric classifiers give (``predict``, the service's ``warnings``,
a stream's step). A network fed values it never saw (other units, a level far beyond training)
answers with finite numbers that may be far off, and says nothing.

    FAR_OUTSIDE                      widths of the training range beyond it from which values are far outside
    far_outside(lo, hi, low, high)   the first column far outside, and by how many widths
    reach(lo, hi)                    the bounds within which values never are (a one-comparison screen)
    range_state(values)              a training range as plain lists for a run's JSON; ``read_range`` back
    far_outside_words(...)           the warning's text

A range is per column: ``lo [C]``, ``hi [C]``. A column without width (a constant) never finds
values far outside it, nor does a missing value.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["FAR_OUTSIDE", "far_outside", "reach", "range_state", "read_range", "far_outside_words"]

FAR_OUTSIDE = 1.0


def far_outside(lo, hi, low, high) -> tuple[int, float] | None:
    """``(column, distance)`` of the first column whose values, spanning ``low .. high`` (``[C]``),
    reach more than :data:`FAR_OUTSIDE` times the width of its training range ``lo .. hi`` beyond
    it (the distance in those widths); None when none does."""
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    width = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = np.fmax(lo - np.asarray(low, np.float64), np.asarray(high, np.float64) - hi) / width
    far = np.flatnonzero((width > 0) & (dist > FAR_OUTSIDE))
    return None if far.size == 0 else (int(far[0]), float(dist[far[0]]))


def reach(lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` per column: values outside them may lie :func:`far_outside` the range, values
    within never do."""
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    width = np.where(hi - lo > 0, hi - lo, np.inf)                 # no width: never far outside
    return lo - FAR_OUTSIDE * width, hi + FAR_OUTSIDE * width


def range_state(values: np.ndarray) -> dict[str, list[float]]:
    """The training range of ``values [N, C]`` as JSON: ``{"lo": [C], "hi": [C]}``."""
    v = np.asarray(values, np.float64)
    return {"lo": [float(x) for x in np.nanmin(v, 0)], "hi": [float(x) for x in np.nanmax(v, 0)]}


def read_range(state: Any, columns: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(lo, hi)`` from :func:`range_state`'s dict; None when it is absent (a run saved before
    ranges were recorded: no check) or not ``columns`` finite numbers each."""
    if not isinstance(state, dict):
        return None
    parts = [state.get("lo"), state.get("hi")]
    if not all(isinstance(p, list) and len(p) == columns and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                                  for x in p) for p in parts):
        return None
    lo, hi = (np.asarray(p, np.float64) for p in parts)
    return (lo, hi) if np.isfinite(lo).all() and np.isfinite(hi).all() else None


def far_outside_words(subject: str, many: bool, dist: float, training: str, answer: str) -> str:
    """The warning: ``subject`` (what was read, with its values) lies ``dist`` times the width of
    ``training`` (whose range, with its bounds) outside it, so ``answer`` may be far off."""
    return (f"{subject} lie{'s' * (not many)} {dist:.3g} times the width of {training} outside it: the network "
            f"extrapolates, so {answer} may be far off; check the data's units, or retrain on data like these")
