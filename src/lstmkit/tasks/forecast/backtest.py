"""Rolling-origin backtesting: K folds, each forecasting the ``horizon`` points after a cutoff.

Fold k of K (oldest first) cuts every series at ``n_s - horizon - step · (K - 1 - k)`` points
(``step`` defaults to the horizon, so the folds' forecast windows tile the end of each series)
and forecasts the next ``horizon`` points from the history before the cut, with

* a **fixed** model: a fitted Forecaster (e.g. a run folder), or, when none is given, one model
  trained once on the history before the first cutoff;
* **refit**: a fresh model with the same settings trained on each fold's history.

Each fold is scored per series (MAE, RMSE, MAPE, sMAPE, MASE against the naive and seasonal-naive
baselines from the same cutoff); fold rows are means over series and the aggregate is the mean
over folds. Written to ``backtest.csv`` / ``backtest.json`` and ``plots/backtest.png``.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.errors import LstmkitError
from lstmkit.runs import atomic_write, write_json
from lstmkit.tasks.forecast.baselines import naive_forecast
from lstmkit.config import require_positive_int
from lstmkit.tasks.forecast.metrics import METRIC_NAMES, forecast_metrics
from lstmkit.tasks.forecast.evaluation import snaive

__all__ = ["backtest"]


def backtest(model, data, folds: int = 3, step: int | None = None, refit: bool = False,
             out: str | Path | None = None) -> dict[str, Any]:
    """Rolling-origin evaluation of ``model``: a fitted Forecaster, or an unfitted one whose
    settings train the fold models (``type(model)`` makes each, so this module imports no estimator).

    Returns ``{"folds": [...], "aggregate": {model: metrics}, "settings": {...}}``; with ``out``
    also writes ``backtest.csv``, ``backtest.json`` and ``plots/backtest.png`` there.
    """
    require_positive_int("folds", folds, "--folds")
    if model is None:
        raise LstmkitError("nothing to backtest", "pass a run folder (--run) or settings (--config)")
    given = hasattr(model, "net_")                   # a fitted model is used as it is, unless refit
    cfg = model.config_ if given else model.config
    H = cfg.horizon
    if step is not None:
        require_positive_int("step", step, "--step")
    step = H if step is None else int(step)
    frame, id_col, time_col, targets = _long_frame(data, cfg)
    pos = frame.groupby("__id", sort=False).cumcount().to_numpy()
    n = frame.groupby("__id", sort=False)["__id"].transform("size").to_numpy()
    shortest = int(n.min())
    if shortest < H + step * (folds - 1) + 2:
        raise LstmkitError(f"a series of {shortest} points is too short for {folds} folds of horizon {H} "
                           f"and step {step}", "use fewer --folds, a smaller --step, or longer series")

    def cut_of(k: int) -> np.ndarray:
        return n - H - step * (folds - 1 - k)

    fixed = model if given else None
    if fixed is None and not refit:
        fixed = _train(type(model), cfg, _history(frame, pos, cut_of(0), targets, 0))
    rows, fold_info, plot_folds = [], [], []
    name = cfg.model
    for k in range(folds):
        cut = cut_of(k)
        est = fixed if not refit else _train(type(model), cfg, _history(frame, pos, cut, targets, 0))
        hist = _history(frame, pos, cut, targets, H)
        pred = est.predict(hist)
        by_id = _forecast_by_series(pred, est.config_, id_col)
        season = est.season_
        per_series = []
        for sid, g in frame.groupby("__id", sort=False):
            c = int(cut[g.index[0]])
            if c < 2 or sid not in by_id:
                continue
            vals = g[targets].to_numpy(dtype=np.float64)
            actual = vals[c:c + H][None]                                         # [1, H, T]
            fc = {name: by_id[sid][None], "naive": naive_forecast(vals[:c], np.array([c - 1]), H),
                  "seasonal_naive": snaive(vals[:c], np.array([c - 1]), H, season)}
            for model_name, p in fc.items():
                per_series.append({"model": model_name, **forecast_metrics(actual, p, vals[:c], season=season)})
            if sid == frame["__id"].iloc[0]:
                plot_folds.append({"fold": k + 1, "origin": c - 1, "forecast": by_id[sid][:, 0]})
        table = pd.DataFrame(per_series)
        cut_when = _cut_time(frame, cut, time_col)
        for model_name, g in table.groupby("model", sort=False):
            rows.append({"fold": k + 1, "cutoff": cut_when, "series": int(len(g)), "model": model_name,
                         **{m: _mean(g[m]) for m in METRIC_NAMES}})
        fold_info.append({"fold": k + 1, "cutoff": cut_when, "series": int(table["model"].eq(name).sum())})
    df = pd.DataFrame(rows)
    aggregate = {m: {k: _mean(g[k]) for k in METRIC_NAMES} for m, g in df.groupby("model", sort=False)}
    result = {"folds": df.to_dict(orient="records"), "aggregate": aggregate,
              "settings": {"folds": folds, "step": step, "horizon": H, "refit": bool(refit),
                           "model": "refit per fold" if refit else
                           ("the given run (fixed)" if given else "trained once before the first cutoff (fixed)"),
                           "note": None if refit or not given else
                           "a fixed run model may have trained on points inside the folds; refit avoids that"}}
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write(out / "backtest.csv", lambda t: df.to_csv(t, index=False))
        write_json(out / "backtest.json", result)
        first = frame[frame["__id"] == frame["__id"].iloc[0]]
        if plot_folds:
            from lstmkit.tasks.forecast.plots import plot_backtest
            times = first[time_col].to_numpy() if time_col is not None else None
            plot_backtest(first[targets[0]].to_numpy(dtype=np.float64), times, plot_folds,
                          out / "plots" / "backtest.png", title=f"{targets[0]}: {folds} backtest folds "
                          f"({'refit' if refit else 'fixed model'})")
        result["out"] = str(out)
    return result


# -- helpers ---------------------------------------------------------------------------------
def _long_frame(data, cfg) -> tuple[pd.DataFrame, str | None, str | None, list[str]]:
    """The data as one long frame sorted by (series, time), with ``__id``; original columns kept."""
    from lstmkit.tasks.forecast.panel import frame_columns
    df, id_col, time_col, targets = frame_columns(data, cfg)
    for c in [id_col, time_col, *targets]:
        if c is not None and c not in df.columns:
            raise LstmkitError(f"column {c!r} not found", f"available columns: {', '.join(map(str, df.columns))}")
    df = df.copy()
    df["__id"] = df[id_col].astype(str) if id_col is not None else "series"
    if time_col is not None and not pd.api.types.is_integer_dtype(df[time_col]):
        df[time_col] = pd.to_datetime(df[time_col], format="mixed")
    keys = ["__id"] + ([time_col] if time_col is not None else [])
    df = df.sort_values(keys, kind="stable") if time_col is not None else df
    codes = pd.factorize(df["__id"], sort=False)[0]
    df = df.iloc[np.argsort(codes, kind="stable")].reset_index(drop=True)
    return df, id_col, time_col, targets


def _history(frame, pos, cut, targets, ahead: int) -> pd.DataFrame:
    """Rows before each series' cut, plus ``ahead`` rows with the target blanked (they carry the
    future covariates and times of the horizon)."""
    keep = pos < cut + ahead
    out = frame.loc[keep].drop(columns="__id").copy()
    if ahead:
        blank = (pos >= cut)[keep]
        out.loc[blank, targets] = np.nan
    return out.reset_index(drop=True)


def _train(estimator: type, cfg, history: pd.DataFrame):
    """A model of class ``estimator`` with the settings ``cfg`` trained on ``history`` with no test
    part (the fold is the test): one series split by fractions keeps its validation fraction,
    otherwise the validation part is as set."""
    from lstmkit.tasks.forecast.windows import uses_fractions
    cfg = copy.deepcopy(cfg)
    if uses_fractions(cfg):
        cfg.test_frac = 0.0
    else:
        cfg.test_size = 0
    return estimator(cfg).fit(history)


def _forecast_by_series(pred: pd.DataFrame, cfg, id_col) -> dict[str, np.ndarray]:
    cols = list(cfg.target)
    key = cfg.id or ("id" if cfg.format == "m4" else None)
    if key is None or key not in pred.columns:
        return {"series": pred.sort_values("step")[cols].to_numpy(dtype=np.float64)}
    return {str(k): g.sort_values("step")[cols].to_numpy(dtype=np.float64)
            for k, g in pred.groupby(key, sort=False)}


def _cut_time(frame, cut, time_col):
    if time_col is None or frame["__id"].nunique() != 1:
        return None
    c = int(cut[0])
    return str(frame[time_col].iloc[c]) if c < len(frame) else None


def _mean(a) -> float:
    a = np.asarray(a, dtype=float)
    ok = np.isfinite(a)
    return float(a[ok].mean()) if ok.any() else float("nan")
