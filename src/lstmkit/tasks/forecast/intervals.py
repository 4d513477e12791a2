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

Fitted once training has stopped (:meth:`~lstmkit.tasks.forecast.pipeline.PanelPipeline._fit_intervals`), on
the network's own quantiles before the run's bounds clip them, and applied where the bounds are
(:meth:`~lstmkit.tasks.forecast.ahead.AheadForecast._bounded_params`): predict, evaluate, backtest, the service,
streams, every engine. The widths belong to the weights they were fitted for: a kept update swaps the net and
its widths as one (:data:`SWAP`), and whatever answers reads them as one pair (predict per call; the service and a
stream once, as they are made, answering from that pair until they are made again; evaluate and a backtest per
call). A quantile run's pairs of levels each move by their own widths (a level in no pair stays), then the levels
are kept in order outward from the one nearest 0.5 (a narrowed end stops at it). A likelihood keeps one
distribution: its scale is multiplied by ``1 + 2 w`` per step, ``w`` the widths of its interval nearest 80 % (for a
symmetric distribution exactly the interval's move; of levels without a central pair, its 0.1 .. 0.9 one's), so its
point forecast, CRPS and every quantile agree.

The record (``lstmkit.json``'s ``intervals``) is plain JSON; a run saved without it is not calibrated.
"""
from __future__ import annotations

import json
import math
import threading
from typing import Any

import numpy as np

from lstmkit.errors import LstmkitError, worded

__all__ = ["MIN_POINTS", "RULE", "pairs", "fitted_levels", "scores", "fit_widths", "widened", "fit_record",
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


def pairs(levels) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)`` of the central intervals among sorted ``levels``: ``levels[i] + levels[j] == 1``."""
    lv = [float(v) for v in levels]
    return [(i, j) for i, a in enumerate(lv) if a < 0.5 for j, b in enumerate(lv) if abs(a + b - 1) < 1e-9]


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
    e = scores(y, lo, hi)
    out = np.zeros(e.shape[1])
    for h in range(e.shape[1]):
        s = np.sort(e[:, h].ravel())
        s = s[np.isfinite(s)]
        if s.size:
            k = min(math.ceil((s.size + 1) * level), s.size)
            out[h] = s[k - 1]
    return out


def widened(lo: np.ndarray, hi: np.ndarray, widths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``lo, hi [n, H, ...]`` each moved out by ``widths [H]`` times the interval's width (in by a negative one)."""
    w = np.asarray(widths, dtype=np.float64).reshape((1, -1) + (1,) * (lo.ndim - 2))
    d = w * (hi - lo)
    return lo - d, hi + d


def fit_record(kind: str, levels, y: np.ndarray, q: np.ndarray, windows: int,
               part: str = "validation") -> tuple[dict[str, Any] | None, str]:
    """The calibration of a run of output ``kind`` and ``levels`` from its validation windows' actuals ``y [n, H, T]``
    and quantiles ``q [n, H, T, Q]`` (original units, not bounded), with the reason; None and why not when
    there is no central interval or fewer than :data:`MIN_POINTS` points at some horizon step. ``part`` names
    the windows in the reason (an update's are its ``held-out`` ones)."""
    central = pairs(levels)
    if not central:
        return None, "no central interval among the levels (a pair q, 1 - q) to calibrate"
    if not len(y):
        return None, f"no {part} windows to fit the widths on"
    # the points a width is ranked on: observed, and of an interval of some width (a history of zeros forecasts
    # 0 to 0, which says nothing of a width: counted, 19 series of zeros beside one fitted it on a twentieth)
    counts = np.min([np.isfinite(scores(y, q[..., i], q[..., j])).sum(axis=(0, 2)) for i, j in central], axis=0)
    if counts.min() < MIN_POINTS:
        h = int(np.argmin(counts))
        flat = int(np.isfinite(y[:, h]).sum()) - int(counts[h])
        return None, (f"{int(counts[h])} {part} points at a horizon step" +
                      (f" ({flat} more whose interval has no width)" if flat else "") +
                      f", fewer than {MIN_POINTS}: too few to fit the widths on")
    lv = [float(v) for v in levels]
    widths = {f"{lv[i]:g}": [round(float(w), 6) for w in fit_widths(y, q[..., i], q[..., j], lv[j] - lv[i])]
              for i, j in central}
    record: dict[str, Any] = {"rule": RULE, "windows": int(windows), "points_per_step": int(counts.min()),
                              "widths": widths}
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
    widths = record.get("widths")
    if not isinstance(widths, dict) or not widths:
        raise bad(".widths", f"= {_json_text(widths)}, not a width list per central interval")
    for key, w in widths.items():
        if key not in central:
            raise bad(f".widths[{key!r}]",
                      f"for no central interval of the run's levels ({', '.join(sorted(central))})")
        numbers(f".widths[{key!r}]", w, -0.5, strict=False)       # narrowed at most to the middle
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
            "each central interval (q, 1 - q) moved out per horizon step by intervals.widths[q] times its width")
    return [f"the interval calibration on the validation windows: {what} (lstmkit.json), before the bounds"]


def _moved(widths) -> str:
    """How far one interval's ends moved, per side in its widths, over the horizon steps: ``moved out by 0.12``,
    ``moved in by 0.05 .. 0.20`` (a narrowed one: 'out by -0.20' read as a double negative), ``moved by -0.05
    (in) .. +0.10 (out)`` where some steps widen and others narrow."""
    a, b = min(widths), max(widths)
    if a >= 0 or b <= 0:
        lo, hi = sorted((f"{abs(a):.2f}", f"{abs(b):.2f}"), key=float)
        span = hi if lo == hi else f"{lo} .. {hi}"
        return f"moved {'out' if a >= 0 else 'in'} by {span} of its width"
    return f"moved by {a:+.2f} (in) .. {b:+.2f} (out) of its width"


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
    off = worded("--no-calibrate-intervals", "calibrate_intervals=False")
    return (f"intervals calibrated on {record['windows']:,} validation windows: {', '.join(moved)}, by horizon step; "
            f"{off} leaves them as the network answers")
