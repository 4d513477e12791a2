"""Split-conformal calibration of a probabilistic forecast's central intervals on the validation windows.

A quantile network trained on the pinball loss, stopped early, tends to promise more than it keeps: its
80 % interval covers fewer than 80 % of new points. Conformalized quantile regression (Romano, Patterson &
Candes, 2019) corrects each interval with the errors it made on held-out windows; here in its scaled form
(Sesia & Candes, 2020), which is free of each series' units, so one width serves every series of a panel:

    score  E_i = max(lo_i - y_i, y_i - hi_i) / (hi_i - lo_i)          one per validation point
    width  w = the ceil((n + 1) * level)-th smallest of the n scores  (the largest when that exceeds n)
    new    lo - w (hi - lo),  hi + w (hi - lo)                         w < 0 narrows, never past the middle

with ``level`` the interval's nominal share (0.8 for the 0.1 .. 0.9 levels), fitted per horizon step over
every series and target. Under exchangeability the new interval covers at least ``level`` of new points.
Points whose interval has no width (a history of zeros forecasts 0) say nothing of a width and are left out.

A quantile run's level in no pair (0.05 and 0.9 of 0.05, 0.5, 0.9) is calibrated on its own, as the asymmetric
form of the same paper corrects each end of an interval at its own level, scaled by its distance from the median
``m`` (the point forecast, which stays):

    score  E_i = (y_i - q_i) / |q_i - m_i|                             one per validation point
    above the median (level a > 0.5)   c = the ceil((n + 1) a)-th smallest score (the largest past n),   t = c
    below it                           c = the floor((n + 1) a)-th smallest (the smallest before 1),    t = -c
    new    q + t |q - m| above the median, q - t |q - m| below          t < 0 moves it in, never past the median

so that at least a share ``a`` of new points falls at or below an upper end, at most ``a`` below a lower one.
The levels the median is read from (0.5, or without it the two either side) stay.

Fitted once training has stopped (:meth:`~lstmkit.tasks.forecast.pipeline.PanelPipeline._fit_intervals`), on
the network's own quantiles before the run's bounds clip them, and applied where the bounds are
(:meth:`~lstmkit.tasks.forecast.ahead.AheadForecast._bounded_params`): predict, evaluate, backtest, the service,
streams, every engine. The widths belong to the weights they were fitted for: a kept update swaps the net and
its widths as one (:data:`SWAP`), and whatever answers reads them as one pair (predict per call; the service and a
stream once, as they are made, answering from that pair until they are made again; evaluate and a backtest per
call). A quantile run's pairs of levels each move by their own widths, each other level by its own ``tails`` (the
median's stay), then the levels are kept in order outward from the one nearest 0.5 (a narrowed end stops at it). A
likelihood keeps one distribution: its scale is multiplied by ``1 + 2 w`` per step, ``w`` the widths of its
interval nearest 80 % (for a symmetric distribution exactly the interval's move; of levels without a central pair,
its 0.1 .. 0.9 one's), so its point forecast, CRPS and every quantile agree.

The record (``lstmkit.json``'s ``intervals``) is plain JSON: ``widths`` per central interval (keyed by its lower
level), ``tails`` per level in no pair (where a quantile run has one), a likelihood's ``scale``. A run saved without
it is not calibrated; one saved before ``tails`` moves its levels in no pair none.
"""
from __future__ import annotations

import json
import math
import threading
from typing import Any

import numpy as np

from lstmkit.errors import LstmkitError, worded
from lstmkit.tasks.forecast.probabilistic import median_pair, unpaired_levels

__all__ = ["MIN_POINTS", "RULE", "pairs", "tails", "fitted_levels", "scores", "fit_widths", "widened", "tail_scores",
           "fit_tail", "median_of", "fit_record",
           "checked_record", "calibrated", "around_note", "report_note", "turned_off", "TURNED_OFF", "SWAP", "OWN"]

# a kept update sets a net's widths and the net under it, and every reader takes the pair under it
# (``AheadForecast._answering``): predict, the deploy adapter (the service and streams answer from the pair it took),
# so none pairs the old net with the new net's widths. Re-entrant: predict resolves its engine's net under it, and
# an adapter made there takes its pair too.
SWAP = threading.RLock()
OWN = object()           # ``widths=OWN``: the estimator's own ``intervals_``, read when asked for
TURNED_OFF = "off"        # auto.calibrate_intervals' key marking a calibration the call turned off (not one too few
                          # points left unfitted)
MIN_POINTS = 20          # validation points per horizon step below which no width is fitted (too few to rank)
RULE = ("split-conformal (scaled conformalized quantile regression): each central interval widened or narrowed "
        "per horizon step so that it covers its share of the validation windows")
TAILS_RULE = (" and each level in no pair moved per horizon step on its own (asymmetric) so that its share of the "
              "validation points falls at or below it")


def pairs(levels) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)`` of the central intervals among sorted ``levels``: ``levels[i] + levels[j] == 1``."""
    lv = [float(v) for v in levels]
    return [(i, j) for i, a in enumerate(lv) if a < 0.5 for j, b in enumerate(lv) if abs(a + b - 1) < 1e-9]


def tails(levels) -> list[int]:
    """Indices of the sorted ``levels`` calibrated each on its own: those in no pair ``q, 1 - q``, other than the
    levels the median is read from (0.5, or without it the two either side of 0.5)."""
    return unpaired_levels(levels)


def median_of(q: np.ndarray, levels) -> np.ndarray:
    """The median (the point forecast) of quantiles ``q [..., Q]`` at ``levels``."""
    i, j, w = median_pair(levels)
    return q[..., i] + w * (q[..., j] - q[..., i])


def fitted_levels(kind: str, levels) -> list[float]:
    """The levels a run's calibration is fitted at: its own, or for a likelihood whose levels hold no central
    interval (0.05, 0.5, 0.9 reported) its distribution's 0.1, 0.5, 0.9 (it has every interval; it was left
    uncalibrated)."""
    lv = [float(v) for v in levels]
    return lv if kind == "quantile" or pairs(lv) else [0.1, 0.5, 0.9]


def scores(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Scaled nonconformity scores of ``y`` against ``[lo, hi]`` (same shapes); NaN where ``y`` is missing
    or the interval has no width."""
    width = hi - lo
    ok = np.isfinite(y) & (width > 0)
    out = np.full(np.shape(y), np.nan)
    out[ok] = np.maximum(lo[ok] - y[ok], y[ok] - hi[ok]) / width[ok]
    return out


def fit_widths(y: np.ndarray, lo: np.ndarray, hi: np.ndarray, level: float) -> np.ndarray:
    """``[H]`` widths (in interval widths, per side) of ``y, lo, hi [n, H, T]``, pooled over windows and
    targets; 0 at a step with no usable point."""
    return _per_step(scores(y, lo, hi), lambda s: s[min(math.ceil((s.size + 1) * level), s.size) - 1])


def _per_step(e: np.ndarray, pick) -> np.ndarray:
    """``[H]``: ``pick`` of each horizon step's usable scores of ``e [n, H, T]``, sorted; 0 at a step with none."""
    out = np.zeros(e.shape[1])
    for h in range(e.shape[1]):
        s = np.sort(e[:, h].ravel())
        s = s[np.isfinite(s)]
        if s.size:
            out[h] = pick(s)
    return out


def tail_scores(y: np.ndarray, q: np.ndarray, median: np.ndarray) -> np.ndarray:
    """Scaled scores ``(y - q) / |q - median|`` of one level's quantiles ``q`` (shapes of ``y``); NaN where ``y`` is
    missing or the level lies on the median."""
    dist = np.abs(q - median)
    ok = np.isfinite(y) & (dist > 0)
    out = np.full(np.shape(y), np.nan)
    out[ok] = (y[ok] - q[ok]) / dist[ok]
    return out


def fit_tail(y: np.ndarray, q: np.ndarray, median: np.ndarray, level: float, upper: bool) -> np.ndarray:
    """``[H]`` outward moves (in distances from the median, at least -1: at most onto it) of one level's quantiles
    ``q [n, H, T]`` at ``level``, above the median where ``upper``, pooled over windows and targets; 0 at a step
    with no usable point. ``(n + 1) * level`` is read to 1e-9, so 10 * 0.7 ranks the 7th, not the 8th."""
    def pick(s: np.ndarray) -> float:
        at = (s.size + 1) * level
        if upper:
            return max(s[min(math.ceil(at - 1e-9), s.size) - 1], -1.0)
        return max(-s[max(math.floor(at + 1e-9), 1) - 1], -1.0)
    return _per_step(tail_scores(y, q, median), pick)


def widened(lo: np.ndarray, hi: np.ndarray, widths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``lo, hi [n, H, ...]`` each moved out by ``widths [H]`` times the interval's width (in by a negative one)."""
    w = np.asarray(widths, dtype=np.float64).reshape((1, -1) + (1,) * (lo.ndim - 2))
    d = w * (hi - lo)
    return lo - d, hi + d


def fit_record(kind: str, levels, y: np.ndarray, q: np.ndarray, windows: int,
               part: str = "validation") -> tuple[dict[str, Any] | None, str]:
    """The calibration of a run of output ``kind`` and ``levels`` from its validation windows' actuals ``y [n, H, T]``
    and quantiles ``q [n, H, T, Q]`` (original units, not bounded), with the reason; None and why not when
    there is no level to calibrate (no central interval, and of a quantile run no level beside the median's) or
    fewer than :data:`MIN_POINTS` points at some horizon step. ``part`` names
    the windows in the reason (an update's are its ``held-out`` ones)."""
    central, lv = pairs(levels), [float(v) for v in levels]
    ends = tails(lv) if kind == "quantile" else []
    if not central and not ends:
        return None, "no level to calibrate (no pair q, 1 - q among the levels, and none beside the median's)"
    if not len(y):
        return None, f"no {part} windows to fit the widths on"
    # the points a width is ranked on: observed, and of an interval of some width (a history of zeros forecasts
    # 0 to 0, which says nothing of a width: counted, 19 series of zeros beside one fitted it on a twentieth)
    median = median_of(q, lv)
    counts = np.min([np.isfinite(scores(y, q[..., i], q[..., j])).sum(axis=(0, 2)) for i, j in central] +
                    [np.isfinite(tail_scores(y, q[..., k], median)).sum(axis=(0, 2)) for k in ends], axis=0)
    if counts.min() < MIN_POINTS:
        h = int(np.argmin(counts))
        flat = int(np.isfinite(y[:, h]).sum()) - int(counts[h])
        return None, (f"{int(counts[h])} {part} points at a horizon step" +
                      (f" ({flat} more whose interval has no width)" if flat else "") +
                      f", fewer than {MIN_POINTS}: too few to fit the widths on")
    widths = {f"{lv[i]:g}": [round(float(w), 6) for w in fit_widths(y, q[..., i], q[..., j], lv[j] - lv[i])]
              for i, j in central}
    record: dict[str, Any] = {"rule": RULE + (TAILS_RULE if ends else ""), "windows": int(windows),
                              "points_per_step": int(counts.min()), "widths": widths}
    if ends:
        _, j, _ = median_pair(lv)
        record["tails"] = {f"{lv[k]:g}": [round(float(t), 6) for t in fit_tail(y, q[..., k], median, lv[k], k > j)]
                           for k in ends}
    if kind != "quantile":
        i, _ = min(central, key=lambda p: abs(lv[p[1]] - lv[p[0]] - 0.8))
        record["scale"] = [round(max(1 + 2 * w, 1e-3), 6) for w in widths[f"{lv[i]:g}"]]
    return record, f"fitted on {windows:,} {part} windows ({int(counts.min()):,} points a horizon step)"


def checked_record(record: Any, kind: str, levels, horizon: int, where: str) -> dict[str, Any] | None:
    """A run's saved calibration ``record`` (``where``: the file it was read from) if it fits the run's output
    ``kind``, ``levels`` and ``horizon``; one error naming the first field that does not (an edited file's width
    list of another length, broadcast or cut to the horizon, or a text in it, answered other quantiles or a
    bare numpy error; a negative scale, negative intervals)."""
    if record is None:
        return None
    fix = "restore the run folder from a backup, or delete its `intervals` entry to answer the network's own intervals"

    def bad(field: str, what: str) -> LstmkitError:
        return LstmkitError(f"{where} has intervals{field} {what} (the file was edited or damaged)", fix)

    def numbers(field: str, value: Any, low: float, strict: bool) -> None:
        ok = isinstance(value, list) and len(value) == horizon and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and
            (v > low if strict else v >= low) for v in value)
        if not ok:
            bound = f"above {low:g}" if strict else f"of at least {low:g}"
            raise bad(field, f"= {_json_text(value)}, not a list of {horizon} numbers {bound} (one a horizon step)")

    if not isinstance(record, dict):
        raise bad("", f"= {_json_text(record)}, not the record of a calibration")
    if kind == "point":
        raise bad("", "on a run that forecasts points, which has no intervals to calibrate")
    lv = fitted_levels(kind, levels)
    central = {f"{lv[i]:g}" for i, _ in pairs(lv)}
    ends = record.get("tails", {})
    if not isinstance(ends, dict) or "tails" in record and not ends:
        raise bad(".tails", f"= {_json_text(ends)}, not a list of moves per level in no pair")
    widths = record.get("widths")
    if not isinstance(widths, dict) or not widths and not ends:
        raise bad(".widths", f"= {_json_text(widths)}, not a width list per central interval")
    for key, w in widths.items():
        if key not in central:
            raise bad(f".widths[{key!r}]",
                      f"for no central interval of the run's levels ({', '.join(sorted(central))})")
        numbers(f".widths[{key!r}]", w, -0.5, strict=False)       # narrowed at most to the middle
    alone = {f"{lv[k]:g}" for k in tails(lv)} if kind == "quantile" else set()
    for key, t in ends.items():
        if key not in alone:
            raise bad(f".tails[{key!r}]", f"for no level of the run calibrated on its own ({', '.join(sorted(alone))})"
                      if alone else "on a run with no level calibrated on its own (each is in a pair or the median's)")
        numbers(f".tails[{key!r}]", t, -1.0, strict=False)        # moved in at most onto the median
    if kind != "quantile":
        numbers(".scale", record.get("scale"), 0.0, strict=True)
    if not isinstance(record.get("windows", 0), int) or isinstance(record.get("windows"), bool):
        raise bad(".windows", f"= {_json_text(record.get('windows'))}, not a number of windows")
    return record


def _json_text(value: Any) -> str:
    """``value`` as the JSON file shows it, cut to 60 characters."""
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def calibrated(kind: str, params: np.ndarray, levels, record: dict[str, Any] | None) -> np.ndarray:
    """Original-unit ``params [n, H, T(, P)]`` with the calibration ``record`` applied (as they are without one,
    or for point forecasts): a quantile run's quantiles moved, a likelihood's scale stretched."""
    if not record or kind == "point" or not len(params):
        return params
    H = params.shape[1]
    if kind != "quantile":
        out = params.copy()
        out[..., 1] = out[..., 1] * np.asarray(record["scale"][:H], np.float64)[None, :, None]
        return out
    lv = [float(v) for v in levels]
    out = params.copy()
    for i, j in pairs(lv):
        w = record["widths"].get(f"{lv[i]:g}")
        if w is not None:
            out[..., i], out[..., j] = widened(params[..., i], params[..., j], np.asarray(w[:H], np.float64))
    if record.get("tails"):
        median, (_, j, _) = median_of(params, lv), median_pair(lv)
        for k in tails(lv):
            t = record["tails"].get(f"{lv[k]:g}")
            if t is not None:
                t = np.asarray(t[:H], np.float64).reshape((1, -1) + (1,) * (params.ndim - 3))
                out[..., k] = params[..., k] + (1 if k > j else -1) * t * np.abs(params[..., k] - median)
    anchor = int(np.argmin([abs(v - 0.5) for v in lv]))
    out[..., anchor + 1:] = np.maximum.accumulate(np.maximum(out[..., anchor + 1:], out[..., anchor:anchor + 1]), -1)
    below = np.minimum(out[..., :anchor], out[..., anchor:anchor + 1])[..., ::-1]
    out[..., :anchor] = np.minimum.accumulate(below, -1)[..., ::-1]
    return out


def around_note(record: dict[str, Any] | None) -> list[str]:
    """The ``around_graph`` line of a calibrated run (none without a record)."""
    if not record:
        return []
    what = ("a likelihood's scale multiplied per horizon step by intervals.scale" if "scale" in record else
            "; ".join(["each central interval (q, 1 - q) moved out per horizon step by intervals.widths[q] times its "
                       "width"][:bool(record.get("widths"))] +
                      ["each level q in no pair moved out per horizon step by intervals.tails[q] times its distance "
                       "from the median"][:bool(record.get("tails"))]))
    return [f"the interval calibration on the validation windows: {what} (lstmkit.json), before the bounds"]


def _moved(widths, unit: str = "its width") -> str:
    """How far one interval's ends moved, per side in its widths, over the horizon steps: ``moved out by 0.12``,
    ``moved in by 0.05 .. 0.20`` (a narrowed one: 'out by -0.20' read as a double negative), ``moved by -0.05
    (in) .. +0.10 (out)`` where some steps widen and others narrow."""
    a, b = min(widths), max(widths)
    if a >= 0 or b <= 0:
        lo, hi = sorted((f"{abs(a):.2f}", f"{abs(b):.2f}"), key=float)
        span = hi if lo == hi else f"{lo} .. {hi}"
        return f"moved {'out' if a >= 0 else 'in'} by {span} of {unit}"
    return f"moved by {a:+.2f} (in) .. {b:+.2f} (out) of {unit}"


def turned_off(chosen: Any) -> bool:
    """Whether ``chosen`` (``lstmkit.json``'s ``auto.calibrate_intervals``) records a calibration the call turned
    off, as opposed to one it asked for (or left to the default) that had too few points to be fitted."""
    return isinstance(chosen, dict) and chosen.get(TURNED_OFF) is True


def report_note(record: dict[str, Any] | None) -> str | None:
    """The training report's line on a calibrated run: how far each interval moved, and how to turn it off."""
    if not record:
        return None
    moved = [f"the {round(100 * (1 - 2 * float(low)))} % interval's ends {_moved(w)}"
             for low, w in record["widths"].items()]
    moved += [f"the {level} quantile {_moved(t, 'its distance from the median')}"
              for level, t in record.get("tails", {}).items()]
    off = worded("--no-calibrate-intervals", "calibrate_intervals=False")
    return (f"intervals calibrated on {record['windows']:,} validation windows: {', '.join(moved)}, by horizon step; "
            f"{off} leaves them as the network answers")
