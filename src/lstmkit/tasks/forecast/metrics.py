"""Point-forecast accuracy metrics, in original units.

Every metric pools all origins, horizon steps and targets of the test set, each target on its own observed
points (an actual value NaN, a ``--fill`` run's gap, is left out: :func:`metric_rows`, the one rule)::

    MAE   = mean |y - ŷ|
    RMSE  = sqrt(mean (y - ŷ)²)
    MAPE  = 100 · mean |y - ŷ| / |y|                 over points with y ≠ 0 (a y within float rounding
                                                      of 0, |y| <= 1e-9 · mean |y|, counts as 0)
    sMAPE = 100 · mean 2|y - ŷ| / (|y| + |ŷ|)        (M4; a point with y = ŷ = 0 counts 0)
    MASE  = mean over targets j of MAE_j / scale_j,
            scale_j = mean |y_train[t, j] - y_train[t - m, j]|   (m = season, or 1 when the
                                                                  training part is too short;
                                                                  over the pairs observed, not NaN)
            over the targets with a scale (not 0); inf when no target has one

The target axis is always the last one: ``y_true`` of shape [n_origins, horizon, n_targets]
(or [n, n_targets]) goes with ``y_train`` of shape [n_train, n_targets]. With a 1-D
``y_train`` (one target) ``y_true`` may have any shape, e.g. [n_origins, horizon].
"""
from __future__ import annotations

import numpy as np

__all__ = ["METRIC_NAMES", "ZERO_SCALE", "forecast_metrics", "format_table", "format_probabilistic", "mape_points",
           "mase_scale", "metric_rows", "say_zeros_left_out"]

METRIC_NAMES = ("MAE", "RMSE", "MAPE", "sMAPE", "MASE")


def forecast_metrics(y_true, y_pred, y_train, season: int = 1) -> dict[str, float]:
    """MAE, RMSE, MAPE (%), sMAPE (%) and MASE of ``y_pred`` against ``y_true``.

    Args:
        y_true: actual values, [n_origins, horizon, n_targets] (or [n, n_targets], or 1-D); NaN where
            not observed (left out, each target on its own points).
        y_pred: forecasts, same shape as ``y_true``.
        y_train: training part of the series, [n_train, n_targets] or [n_train] for one target;
            only used for the MASE scale.
        season: seasonal lag of the MASE scale; 1 gives the non-seasonal naive scale.

    Returns:
        ``{"MAE", "RMSE", "MAPE", "sMAPE", "MASE"}`` as floats. MAPE is NaN when every actual
        value is zero; MASE is the mean over the targets whose training part neither is constant
        nor repeats its season exactly (a target held still there has no scale: one such target
        among several made the MASE of all inf), and inf when every target's is (NaN where the
        forecast is exact too).
    """
    true, pred, train = _as_target_columns(y_true, y_pred, y_train)  # [P, T], [P, T], [N, T]
    if isinstance(season, bool) or not isinstance(season, (int, np.integer)) or season < 1:
        raise ValueError(f"Expected season to be a positive integer, got {season!r}")
    rows = metric_rows(true[None], pred[None], mase_scale(train, season)[None])
    return {k: float(v[0]) for k, v in rows.items()}


def metric_rows(y_true: np.ndarray, y_pred: np.ndarray, scale: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`forecast_metrics` of each row ``y_true[i], y_pred[i]`` ``[R, H, T]`` with MASE scale
    ``scale[i] [T]``: ``{metric: [R]}``, every row at once (a backtest's folds and series). The one rule
    of what is scored: the points observed, an actual value NaN (a ``--fill`` run's gap) left out, each
    target on its own (a row where one target is a gap still scores the others there); a row with none is NaN."""
    # forecasts that overflowed (inf, huge) give inf or NaN metrics, which the callers report once; numpy's
    # overflow and inf - inf warnings before that message were a screen of noise
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        seen = np.isfinite(y_true)                                               # [R, H, T]
        err = np.where(seen, np.abs(y_true - y_pred), 0.0)
        flat, true = err.reshape(len(err), -1), np.where(seen, y_true, 0.0).reshape(len(err), -1)
        points = seen.reshape(len(err), -1)
        nonzero = mape_points(true.reshape(y_true.shape), axis=1).reshape(len(err), -1)   # per row and target
        ratio = np.divide(flat, np.abs(true), out=np.zeros_like(flat), where=nonzero)
        count = nonzero.sum(1)
        denom = np.abs(true) + np.abs(y_pred.reshape(len(err), -1))
        smape = np.divide(2.0 * flat, denom, out=np.zeros_like(flat), where=(denom != 0) & points)
        n, steps = points.sum(1), seen.sum(1)                                # [R], [R, T]
        scaled = err.sum(1) / steps / scale                                  # [R, T]: each target's own points
        # over the targets with a scale (and a point observed): a target held still made every one's inf
        has = (scale > 0) & (steps > 0)
        some = has.any(1) & ~has.all(1)
        mase = np.where(some, np.where(has, scaled, 0.0).sum(1) / np.maximum(has.sum(1), 1), scaled.mean(1))
        return {"MAE": flat.sum(1) / n, "RMSE": np.sqrt((flat ** 2).sum(1) / n),
                "MAPE": np.where(count > 0, 100.0 * ratio.sum(1) / np.maximum(count, 1), np.nan),
                "sMAPE": 100.0 * smape.sum(1) / n, "MASE": mase}


ZERO_SCALE = 1e-9      # a MASE scale (or an actual value) below this share of the level is float rounding of 0


def mape_points(y_true: np.ndarray, axis: int) -> np.ndarray:
    """Where MAPE divides by the actual value: not 0, nor within float rounding of 0 beside the
    mean |y| along ``axis`` (a generated sin(2πt/m)·t is 1e-14 where it should be 0: MAPE 1e13)."""
    a = np.abs(y_true)
    return a > ZERO_SCALE * a.mean(axis=axis, keepdims=True)


def say_zeros_left_out(left: int, points: int, part: str, among: str = "") -> None:
    """A warning when MAPE left out ``left`` of ``points`` points (of the series it is defined on,
    which ``among`` names where there are others: the count differed from the table's points with
    no word of why) whose actual value is 0 -- intermittent demand: most of them --, as a number in a
    table alone reads as the percentage error of every point."""
    if left:
        import warnings

        from lstmkit.errors import callers_level
        said = f"; the {points:,} are {among}" if among else ""
        warnings.warn(f"MAPE leaves out the {left:,} of {points:,} {part} points whose actual value is 0 (a percentage "
                      f"of 0 is undefined{said}): it is the mean over the other {points - left:,}; compare MAE or MASE (sMAPE "
                      f"scores each of those points 200 unless its forecast is exactly 0)", UserWarning,
                      stacklevel=callers_level())


def mase_scale(y_train, season: int = 1) -> np.ndarray:
    """Mean absolute seasonal difference of each column of ``y_train`` [n_train, T] -> [T].

    Falls back to lag 1 when the training part has no more than ``season`` points. A NaN value (a gap
    ``--fill`` filled: no observation) leaves out the differences it is in, so each target's scale reads its
    own observed points (a filled history's made it 1.5x larger with a tenth of a weekly series carried
    forward, 6.6x filled with zeros, and MASE as much smaller); NaN where no difference is left.
    """
    train = np.asarray(y_train, dtype=float)
    if train.ndim == 1:
        train = train[:, None]
    lag = season if train.shape[0] > season else 1
    with np.errstate(invalid="ignore"):
        diff = np.abs(train[lag:] - train[:-lag])
    seen = ~np.isnan(diff)                                   # both points observed (inf stays: scale inf)
    count = seen.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(count > 0, np.where(seen, diff, 0.0).sum(0) / count, np.nan)
        level = np.where(seen, np.abs(train[lag:]), 0.0).sum(0) / count
    # a part that repeats itself exactly (constant, or a clean generated season) has scale 0, not the
    # float rounding of its differences (which made MASE 1e14)
    return np.where(scale <= ZERO_SCALE * level, 0.0, scale)


def format_table(rows: dict[str, dict[str, float]]) -> str:
    """A plain-text table: one row per model, columns MAE RMSE MAPE sMAPE MASE.

    >>> print(format_table({"naive": {"MAE": 1.5, "RMSE": 2.0, "MAPE": 10.0, "sMAPE": 9.5, "MASE": 1.0}}))
    model  MAE  RMSE  MAPE  sMAPE  MASE
    naive  1.5     2    10    9.5     1
    """
    header = ["model", *METRIC_NAMES]
    body = [[str(name), *(_format_number(metrics.get(key)) for key in METRIC_NAMES)] for name, metrics in rows.items()]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

    def render(row: list[str]) -> str:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
        return "  ".join(cells).rstrip()

    table = "\n".join(render(row) for row in [header, *body])
    # a model whose MAE is n/a forecast no finite number: its other n/a cells say that, not what the data
    # leaves undefined (a network diverged at --lr 50 read "the training part repeats itself exactly" and
    # "every actual value is 0" under a row of n/a)
    broken = [str(name) for name, m in rows.items() if m.get("MAE") is not None and not np.isfinite(m["MAE"])]
    fine = [m for name, m in rows.items() if str(name) not in broken]
    if broken:
        table += (f"\n{', '.join(broken)} n/a: {'its' if len(broken) == 1 else 'their'} forecasts are not finite "
                  "numbers (the network's outputs overflowed or are NaN): see the doctor's findings, and train again "
                  "with a lower learning rate")
    if any(m.get("MASE") is not None and not np.isfinite(m["MASE"]) for m in fine):
        table += ("\nMASE n/a: the training part repeats itself exactly (its in-sample seasonal naive "
                  "error is 0, nothing to scale by); compare MAE instead")
    if any(m.get("MAPE") is not None and not np.isfinite(m["MAPE"]) for m in fine):
        table += "\nMAPE n/a: every actual value is 0 (a percentage of 0 is undefined); compare MAE or sMAPE instead"
    return table


def format_probabilistic(scores: dict[str, float]) -> str:
    """The report's line of probabilistic scores (coverage, CRPS, wQL), with why one is n/a.

    >>> format_probabilistic({"wQL": float("nan"), "CRPS": 0.25})
    'probabilistic: wQL n/a, CRPS 0.25\\nwQL n/a: every actual value is 0 (its weight, sum |y|, is 0); compare CRPS instead'
    """
    line = "probabilistic: " + ", ".join(f"{k} {_format_number(v)}" for k, v in scores.items())
    if "wQL" in scores and not np.isfinite(scores["wQL"]):
        line += "\nwQL n/a: every actual value is 0 (its weight, sum |y|, is 0); compare CRPS instead"
    return line


def _format_number(value: float | None) -> str:
    if value is None:
        return "-"
    if not np.isfinite(value):
        return "n/a"
    return f"{float(value):.4g}"


def _as_target_columns(y_true, y_pred, y_train) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check shapes and flatten everything but the target axis: -> [P, T], [P, T], [N, T]."""
    true = np.asarray(y_true, dtype=float)
    pred = np.asarray(y_pred, dtype=float)
    train = np.asarray(y_train, dtype=float)
    if true.shape != pred.shape:
        raise ValueError(f"Expected y_pred with the shape of y_true {true.shape}, got {pred.shape}")
    if true.size == 0:
        raise ValueError(f"Expected at least one test point, got y_true of shape {true.shape}")
    if true.ndim > 3:
        raise ValueError(f"Expected y_true of shape [n_origins, horizon, n_targets], got {true.shape}")
    if train.ndim not in (1, 2) or train.shape[0] < 2:
        raise ValueError(f"Expected y_train of shape [n_train >= 2, n_targets], got {train.shape}")

    if train.ndim == 1:
        return true.reshape(-1, 1), pred.reshape(-1, 1), train[:, None]
    n_targets = train.shape[1]
    if true.ndim == 1:
        if n_targets != 1:
            raise ValueError(f"Expected y_true with a last axis of {n_targets} targets, got {true.shape}")
        return true[:, None], pred[:, None], train
    if true.shape[-1] != n_targets:
        raise ValueError(f"Expected y_true with a last axis of {n_targets} targets (as y_train), got {true.shape}")
    return true.reshape(-1, n_targets), pred.reshape(-1, n_targets), train
