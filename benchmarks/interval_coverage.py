"""Do a forecast run's 80 % intervals cover 80 %? Validation and test coverage of quantile and likelihood runs.

Sets: the demo (weekly Mauna Loa CO2, statsmodels), statsmodels' yearly sunspots, ETTh1's OT (hourly), a 30-series
subset of M4 Weekly (``val_size`` of two horizons, so each series has several validation windows). Kinds:
``quantiles 0.1,0.5,0.9`` (pinball loss), ``likelihood gaussian`` and ``studentt``. Tiny trainings (few epochs,
small lookback): this measures what a quick run promises, not the best a long one can do.

Columns: ``val`` and ``test`` are the share of points inside the 80 % central interval (0.1 .. 0.9) on every
validation / test window. ``late raw`` / ``late cal``: on the later half of each series' validation windows,
the interval as trained and after split-conformal calibration (scaled CQR, Sesia & Candes 2020, the rule of
:mod:`lstmkit.tasks.forecast.intervals`) fitted on the earlier half only -- the judge for whether calibration
helps on windows it was not fitted on. ``late auto``: calibrated only where the earlier half covers outside
0.7 .. 0.9; ``late widen``: widths below 0 taken as 0 (widened, never narrowed). ``test cal``: the test coverage
once the run's own calibration (fitted on every validation window, as ``fit`` does by default) is applied. The
test columns are reported only; nothing is chosen on them.

    python benchmarks/interval_coverage.py [--epochs 5] [--sets demo,sunspots,ett,m4] [--kinds quantile,gaussian]
"""
from __future__ import annotations

import argparse
import dataclasses
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from lstmkit import Forecaster
from lstmkit.tasks.forecast.intervals import fit_widths, widened
from lstmkit.tasks.forecast.windows import min_points, split_panel

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "forecasting"     # --data elsewhere
OFF = 0.1            # coverage this far from 0.8 on the windows fitted on turns calibration on (the auto rule)
KINDS = {"quantile": {"quantiles": [0.1, 0.5, 0.9]}, "gaussian": {"likelihood": "gaussian"},
         "studentt": {"likelihood": "studentt"}}


def _sets(epochs: int, data: Path) -> dict[str, tuple]:
    """name -> (data, fit columns, settings)."""
    base = dict(max_epochs=epochs, ensemble=1, progress="off", tensorboard=False, doctor=False, seed=0)
    from statsmodels.datasets import sunspots

    from lstmkit.tasks.forecast.demo import co2_frame
    out = {"demo": (lambda: co2_frame(), dict(target="co2", time="date"),
                    dict(base, lookback=52, horizon=4, fill="interpolate", samples_per_epoch=4000)),
           "sunspots": (lambda: sunspots.load_pandas().data.rename(columns={"YEAR": "year"}),
                        dict(target="SUNACTIVITY"), dict(base, lookback=22, horizon=4, samples_per_epoch=2000))}
    ett = data / "ett" / "ETTh1.csv"
    if ett.exists():
        out["ett"] = (lambda: pd.read_csv(ett, usecols=["date", "OT"]), dict(target="OT", time="date"),
                      dict(base, lookback=48, horizon=24, samples_per_epoch=4000))
    m4 = data / "m4" / "Dataset" / "Train" / "Weekly-train.csv"
    if m4.exists():
        out["m4"] = (lambda: _m4_subset(m4, 30), dict(target="value", time="t", id="id"),
                     dict(base, lookback=26, horizon=13, val_size=26, samples_per_epoch=4000))
    return out


def _m4_subset(path: Path, n: int) -> pd.DataFrame:
    """The first ``n`` series of M4 Weekly with at least 300 points, in the long format."""
    rows = []
    with open(path) as f:
        next(f)
        for line in f:
            cells = line.strip().split(",")
            values = [float(c.strip('"')) for c in cells[1:] if c.strip('"')]
            if len(values) >= 300:
                rows.append(pd.DataFrame({"id": cells[0].strip('"'), "t": np.arange(len(values)), "value": values}))
            if len(rows) == n:
                break
    return pd.concat(rows, ignore_index=True)


def part_intervals(est, data, part: str):
    """``actual [n, H, T]``, the 80 % interval's ends ``[n, H, T]`` as shown (bounded, uncalibrated) and each
    window's series and position among its series' windows of ``part``."""
    panel = est._read_for_use(data, need=min_points(est.config_), split=True)
    arrays = est._panel_arrays(panel, split=True)
    rows, series = split_panel(panel, est.config_)[part]
    params = est._forecast_windows(arrays, rows, series, est._series_index(panel))
    tgt = (rows.numpy() + est.config_.lookback)[:, None] + np.arange(est.config_.horizon)[None]
    q = est._quantiles(params, est._window_limits(panel, series.numpy()))
    levels = list(est.output_.levels)
    lo, hi = q[..., levels.index(0.1)], q[..., levels.index(0.9)]
    return panel.actual(tgt), lo, hi, series.numpy(), rows.numpy()


def _val_of(est, data):
    """The panel, arrays and validation windows :meth:`_fit_intervals` reads, as the fit made them."""
    panel = est._read_for_use(data, need=min_points(est.config_), split=True)
    return panel, est._panel_arrays(panel, split=True), split_panel(panel, est.config_)["val"]


def coverage(y, lo, hi) -> float:
    ok = np.isfinite(y)
    return float(((y >= lo) & (y <= hi))[ok].mean())


def halves(series: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """True for the earlier half of each series' windows (by origin)."""
    early = np.zeros(len(series), bool)
    for s in np.unique(series):
        k = np.flatnonzero(series == s)
        k = k[np.argsort(rows[k])]
        early[k[:len(k) // 2]] = True
    return early


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--sets", default="demo,sunspots,ett,m4")
    ap.add_argument("--kinds", default="quantile,gaussian,studentt")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", type=Path, default=DATA, help="the shared forecasting data folder")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    sets = _sets(args.epochs, args.data)
    print(f"{'set':9} {'kind':9} {'val':>6} {'test':>6} {'early':>6} {'late raw':>9} {'late cal':>9} "
          f"{'late auto':>9} {'late widen':>10} {'test cal':>8} {'val n':>6} {'sec':>5}")
    for name in args.sets.split(","):
        make, columns, settings = sets[name]
        data = make()
        for kind in args.kinds.split(","):
            t0 = time.time()
            est = Forecaster(**settings, **KINDS[kind], calibrate_intervals=False).fit(data, **columns)
            y, lo, hi, series, rows = part_intervals(est, data, "val")
            yt, lot, hit, _, _ = part_intervals(est, data, "test")
            e = halves(series, rows)
            widths = fit_widths(y[e], lo[e], hi[e], 0.8)          # [H] from the earlier half only
            clo, chi = widened(lo[~e], hi[~e], widths)
            early = coverage(y[e], lo[e], hi[e])
            late, cal = coverage(y[~e], lo[~e], hi[~e]), coverage(y[~e], clo, chi)
            auto = cal if abs(early - 0.8) > OFF else late       # the rule: calibrate when the fitted-on half is off
            widen = coverage(y[~e], *widened(lo[~e], hi[~e], np.maximum(widths, 0)))     # never narrowed
            est.config_ = dataclasses.replace(est.config_, calibrate_intervals=None)     # trained without it: fit it
            est._fit_intervals(*_val_of(est, data))               # as a run fits it: on every validation window
            test_cal = coverage(*part_intervals(est, data, "test")[:3])
            print(f"{name:9} {kind:9} {coverage(y, lo, hi):6.3f} {coverage(yt, lot, hit):6.3f} {early:6.3f} "
                  f"{late:9.3f} {cal:9.3f} {auto:9.3f} {widen:10.3f} {test_cal:8.3f} "
                  f"{int(np.isfinite(y).sum()):6d} {time.time() - t0:5.0f}", flush=True)


if __name__ == "__main__":
    main()
