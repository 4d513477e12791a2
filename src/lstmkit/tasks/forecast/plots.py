"""Forecast plots of the many-series path: forecasts with shaded intervals, backtest folds."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lstmkit.inspect.plots import date_axis, key_beside, save_figure, subplots, zoned_times
from lstmkit.tasks.forecast.bounds import Limits, clip_values

__all__ = ["plot_panel_forecast", "plot_backtest", "band_levels"]

NAMED_FOLDS = 10            # folds named one by one in a backtest plot's legend (matplotlib's 10 colours)
MARKED_STEPS = 12           # a fold's forecast of up to this many steps has a dot on each


def _intervals(output, params: np.ndarray, limits: Limits, target: int = 0):
    """Point [H] and intervals [(lo [H], hi [H], label)] of the ``target``-th target, within its series'
    bounds ``limits`` ([1, T]): the levels paired from the outside in, a pair ``q, 1 - q`` named by its
    coverage ('80% interval'), any other by its levels ('0.1–0.25 quantiles': of 0.1, 0.25, 0.9 the
    band from 0.1 to 0.25 was an '15% interval', as if central)."""
    from lstmkit.tasks.forecast.probabilistic import quantiles_of
    point = clip_values(output.point(torch.from_numpy(params)).numpy()[None], limits)[0, :, target]
    if output.kind == "point":
        return point, []
    q = clip_values(quantiles_of(output.kind, params, output.levels)[None], limits)[0, :, target]     # [H, Q]
    return point, [(q[:, i], q[:, j], label) for i, j, label in band_levels(output.levels)]


def band_levels(levels) -> list[tuple[int, int, str]]:
    """``(i, j, label)`` of each band the quantile ``levels`` make, from the outside in: the indices of its
    lower and upper level and its legend ('80% interval', or '0.1–0.25 quantiles' for a pair not central)."""
    bands = []
    for k in range(len(levels) // 2):
        lo, hi = levels[k], levels[len(levels) - 1 - k]
        if lo < 0.5:
            central = abs(lo + hi - 1) < 1e-9
            bands.append((k, len(levels) - 1 - k,
                          f"{100 * (hi - lo):.0f}% interval" if central else f"{lo:g}–{hi:g} quantiles"))
    return bands


def _point_name(output) -> str:
    """The forecast line's legend: a quantile run's point forecast is its median, named when it is
    interpolated between two levels or stands in for it, all levels lying on one side of 0.5."""
    if output.kind != "quantile":
        return "forecast"
    i, j, _ = output.median
    lv = output.levels
    if i != j:
        return f"forecast (median, from the {lv[i]:g} and {lv[j]:g} quantiles)"
    return "forecast" if abs(lv[i] - 0.5) < 1e-9 else f"forecast (the {lv[i]:g} quantile)"


def plot_panel_forecast(shown: list[dict], output, horizon: int, path: Path, title: str,
                        targets: list[str] | None = None) -> None:
    """One panel per series: history, actuals and the forecast from one origin, intervals shaded. Of
    several ``targets`` (each item's ``values`` then ``[n, T]``) a column of panels per target, named."""
    several = targets is not None and len(targets) > 1
    columns = list(targets) if several else [None]
    fig, axes = subplots(len(shown), len(columns), figsize=(10 if not several else 6 * len(columns), 2.8 * len(shown)),
                         squeeze=False)
    for row, item in zip(axes, shown):
        for j, (ax, target) in enumerate(zip(row, columns)):
            v, o = np.asarray(item["values"]), item["origin"]
            v = v[:, j] if several else v
            x, tz = zoned_times(item["times"]) if item["times"] is not None else (np.arange(len(v)), None)
            start = max(0, o + 1 - 4 * horizon)
            ax.plot(x[start:o + 1], v[start:o + 1], color="0.5", lw=1, label="history")
            # from the origin on: the history ended a step before the actuals began, a gap read as a missing value
            ax.plot(x[o:o + 1 + horizon], v[o:o + 1 + horizon], color="black", lw=1.4, label="actual")
            point, bands = _intervals(output, item["params"], item["limits"], j)
            xf = x[o + 1:o + 1 + horizon]
            for lo, hi, label in bands:
                ax.fill_between(xf, lo, hi, alpha=0.25, color="C0", label=label)
            ax.plot(xf, point, color="C0", lw=1.6, label=_point_name(output))
            ax.set_title(f"{item['id']}" + (f": {target}" if several else ""), fontsize=9)
            date_axis(ax, x, tz, label=item is shown[-1])
            ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="best", fontsize=8)
    fig.suptitle(title)
    save_figure(fig, path, tight=True)


def plot_backtest(values: np.ndarray, times, folds: list[dict], path: Path, title: str,
                  targets: list[str] | None = None) -> None:
    """A series with each fold's cutoff marked and its forecast drawn after it; up to
    :data:`NAMED_FOLDS` folds each is named in the legend, more are one entry (50 folds' legend ran
    off the plot's foot, in 10 colours named 5 times over, and tight_layout warned it could not fit).
    Of several ``targets`` (``values [n, T]``, each fold's ``forecast [H, T]``) a panel per target."""
    several = targets is not None and len(targets) > 1
    fig, axes = subplots(len(targets) if several else 1, 1, figsize=(10, 4 if not several else 3.2 * len(targets)),
                         squeeze=False, sharex=True)
    for j, ax in enumerate(axes[:, 0]):
        column = (lambda a: np.asarray(a)[:, j]) if several else np.asarray
        v = column(values)
        x, tz = zoned_times(times) if times is not None else (np.arange(len(v)), None)
        first = min(f["origin"] for f in folds)
        start = max(0, first - 3 * len(folds[0]["forecast"]))
        ax.plot(x[start:], v[start:], color="black", lw=1, label="actual")
        named = len(folds) <= NAMED_FOLDS
        for k, f in enumerate(folds):
            o, fc = f["origin"], column(f["forecast"])
            ax.axvline(x[o], color=f"C{k % 10}", lw=0.8, ls="--")
            label = (f"fold {f['fold']}" if named else None if k else
                     f"folds {folds[0]['fold']}–{folds[-1]['fold']}: forecasts after each cutoff (dashed)")
            # a dot a point up to MARKED_STEPS: a 1-step forecast's line of one point was drawn as nothing, the
            # folds' legend over a plot with none of their forecasts in it
            dots = dict(marker="o", ms=4) if len(fc) <= MARKED_STEPS else {}
            ax.plot(x[o + 1:o + 1 + len(fc)], fc, color=f"C{k % 10}", lw=1.6, label=label, **dots)
        if targets:                             # one target's too: its axis had no name, its units unsaid
            ax.set_ylabel(targets[j])
        date_axis(ax, x, tz, label=j == len(axes) - 1)
        ax.grid(alpha=0.3)
    axes[0, 0].set_title(title)
    key_beside(axes[0, 0], fontsize=8)          # at 'best' it lay over the series or a fold's forecast
    save_figure(fig, path, tight=True)
