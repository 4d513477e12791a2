"""Test metrics and plots of a fitted forecaster: the model beside naive, seasonal-naive and ETS.

Every series is scored on its own test windows (rolling origins, stride 1) in original units;
``metrics.json`` holds the mean over series of each series' metric (for one series: its
metrics), and ``metrics_per_series.csv`` the per-series rows (``points``: the points scored;
``MAPE_points``: those of them MAPE divides by, whose actual value is not 0); of several targets,
``per_target`` each target's own means, as MAE and RMSE pool the targets' units. A probabilistic run's
coverage, wQL and CRPS pool every test point of every series instead (:data:`POOLED`). The same scoring on the
validation windows tells the training doctor whether the model beats naive and seasonal naive
(:func:`baseline_comparison`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from lstmkit.errors import callers_level, first_of, opt, warnings_caught
from lstmkit.tasks.forecast.bounds import Limits, clip_values
from lstmkit.tasks.forecast.baselines import ets_forecast, naive_forecast, seasonal_naive_forecast
from lstmkit.tasks.forecast.forecast_table import TEST_FORECASTS, forecast_table
from lstmkit.tasks.forecast.metrics import METRIC_NAMES, forecast_metrics, mape_points, mase_scale, say_zeros_left_out
from lstmkit.tasks.forecast.probabilistic import probabilistic_metrics
from lstmkit.tasks.forecast.windows import part_sizes
from lstmkit.train.progress import track

__all__ = ["panel_metrics", "finite_forecasts", "baseline_rows", "baseline_comparison", "answer_score",
           "baseline_remedies", "panel_plots", "worst_series", "snaive", "finite_mean"]

ETS_AUTO_MAX = 20            # ETS baseline per series only up to this many series unless asked


def panel_metrics(est, panel, arrays, test, kept: dict | None = None,
                  progress: str = "off") -> tuple[dict[str, Any], pd.DataFrame | None]:
    """``(metrics.json's record, the per-series table)`` of the test windows ``test`` (rows, series);
    ``kept`` (a dict) is given the windows' forecasts (``kept["test_params"]``) for :func:`panel_plots`
    and, of several targets, each series' metrics of each target (``kept["per_target"]``, the run's
    ``metrics_per_target.csv``); a ``kept`` holding the key :data:`TEST_FORECASTS` is given there the table of
    every forecast the rows were scored from (:func:`~lstmkit.tasks.forecast.forecast_table.forecast_table`);
    the series scored show as ``progress`` says."""
    cfg = est.config_
    rows, series = test
    base = {"horizon": cfg.horizon, "season": est.season_, "series": len(panel.ids), "targets": cfg.target,
            "units": "original", "aggregate": "mean over series of each series' metric",
            "skipped": list(panel.skipped), "strategy": cfg.strategy}
    if len(rows) == 0:
        return {**base, "metrics": {}, "test_points": 0, "note": "no test windows (test_size 0)"}, None
    ets = _with_ets(cfg, panel)
    base["baselines"] = baseline_rows(est.season_, ets, getattr(est, "bounds_", None), len(panel.ids))
    by_target = [] if len(cfg.target) > 1 else None
    per_series, params, y_true, limits, target = _scores(est, panel, arrays, test, ets, kept, progress, by_target)
    compared = finite_forecasts(per_series, cfg.model, "test")
    agg, per_target = _means(compared), {}
    if by_target is not None:
        base["aggregate"] = SEVERAL_TARGETS
        each = pd.DataFrame(by_target)
        if kept is not None:
            kept["per_target"] = each
        each = each[each["id"].isin(compared["id"].unique())]           # the series the means are over
        per_target = {"per_target": {t: _means(each[each["target"] == t]) for t in cfg.target},
                      "target_points": {t: int(each.loc[(each["target"] == t) & (each["model"] == cfg.model),
                                                        "points"].sum()) for t in cfg.target}}
    _say_undefined(compared[compared["model"] == cfg.model])
    mine = compared[compared["model"] == cfg.model]
    scored = mine[mine["MAPE_points"] > 0]
    among = (f"those of the {len(scored):,} series not 0 throughout, the other {len(mine) - len(scored):,} having no MAPE"
             if len(scored) < len(mine) else "")
    say_zeros_left_out(int((scored["points"] - scored["MAPE_points"]).sum()), int(scored["points"].sum()), "test",
                       among)
    if est.output_.kind != "point":
        base["aggregate"] += POOLED
        agg[cfg.model].update(probabilistic_metrics(            # of what predict shows: within the bounds
            est.output_.kind, params, y_true, est.output_.levels, limits.low, limits.high))
        for j, name in enumerate(per_target.get("per_target", {})):       # wQL weighs the largest target most
            one = target == j                                                # the target's own observed points
            per_target["per_target"][name][cfg.model].update(probabilistic_metrics(
                est.output_.kind, params[one], y_true[one], est.output_.levels, limits.low[one], limits.high[one]))
    points = int(compared.loc[compared["model"] == cfg.model, "points"].sum())
    worst = worst_series(compared, cfg.model) if len(panel.ids) > 1 else None
    return ({**base, "metrics": agg, **per_target, "test_points": points, **({"worst": worst} if worst else {})},
            per_series)


# the probabilistic scores are not per-series means, as the record's other words say of the rest: a user
# averaging each series' wQL by hand got 0.134 where metrics.json said 0.166
POOLED = ("; coverage, wQL and CRPS pool every test point of every series, not a mean over series (a series with "
          "more test windows weighs more; wQL divides the pinball losses' sum by the sum of |y|, so the series of the "
          "largest values weigh most)")


SEVERAL_TARGETS = ("mean over series of each series' metric; of several targets MAE and RMSE pool every target's "
                   "points in its own units, so the target of the largest values outweighs the others, MAPE and sMAPE "
                   "pool every point, and MASE is the mean of each one's scaled error over the targets that have a scale: "
                   "per_target holds each target's own metrics; each target is scored on its own observed points "
                   "(target_points: a cell --fill filled is left out, the other targets' values in its row scored)")


def _means(per_series: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Each model's mean over series of every metric (``per_series``: the per-series rows)."""
    return {name: {k: finite_mean(g[k].to_numpy()) for k in METRIC_NAMES}
            for name, g in per_series.groupby("model", sort=False)}


WORST_LISTED = 5        # the series metrics.json's ``worst`` lists, the model's worst first


def worst_series(per_series: pd.DataFrame, model: str, k: int = WORST_LISTED) -> dict[str, Any] | None:
    """The ``k`` series the model scores worst (``metrics.json``'s ``worst``): by MASE, else MAE where
    no series has a finite MASE (a series repeating itself exactly has no scale), ``{"metric": ...,
    "series": [{"id": ..., "value": ...}, ...]}`` worst first; None when no series has either. A mean over
    thousands of series hides the one that fails: the report names these, the forecast plot shows them."""
    mine = per_series[per_series["model"] == model]
    for metric in ("MASE", "MAE"):
        values = mine[metric].to_numpy(dtype=np.float64)
        ok = np.isfinite(values)
        if ok.any():
            order = np.flatnonzero(ok)[np.argsort(-values[ok], kind="stable")][:k]
            return {"metric": metric, "series": [{"id": str(mine["id"].iloc[i]), "value": float(values[i])}
                                                 for i in order]}
    return None


def baseline_rows(season: int, ets: bool, bounds: dict[str, Any] | None = None, series: int = 1) -> dict[str, str]:
    """What each baseline row of ``metrics.json`` is (its ``baselines`` record): every row is scored
    on the test windows, from the same origins and on the same points as the model, and reads no
    point it is scored on; within the run's ``bounds`` record (``preprocessing.bounds``) of its
    ``series`` series, as the model's forecasts are (said where they bound a series)."""
    rows = {"part": "test: every origin of the test windows, as the model (its lookback reads the points "
                    "before each origin, validation ones among them)",
            "naive": "the last value at each origin",
            "seasonal_naive": (f"the value one season ({season} steps) before each step, from each origin (the naive "
                               "forecast where a series holds less than a season before its first origin)") if season > 1 else
                              "the naive forecast (no season)"}
    if ets:
        rows["ets"] = ("damped additive Holt-Winters, seasonal from two seasons of fit on: parameters fitted once per "
                       "series on its training and validation parts (the points before its first test origin), isolated "
                       "far-out spikes there replaced by the moving median over one season when there is a season, then "
                       "run on with those parameters to each origin, so a forecast reads the points up to its origin "
                       "only, as the model's does")
    if bounds and (bounds.get("floor") is not None or bounds.get("ceiling") is not None) and any(
            len(t["unbounded"]) < series for t in bounds.get("targets", {}).values()):
        rows["bounds"] = (f"every row within the run's bounds, as the model's forecasts are ({bounds['rule']}): an "
                          "ETS trend or season below a floor at 0 is scored as 0, so the floor alone never counts as "
                          "the model beating ETS")
    return rows


def _with_ets(cfg, panel) -> bool:
    """Whether the ETS baseline is scored: ``cfg.ets``, else for up to :data:`ETS_AUTO_MAX` series."""
    return cfg.ets if cfg.ets is not None else len(panel.ids) <= ETS_AUTO_MAX


def finite_forecasts(per_series: pd.DataFrame, model: str, part: str) -> pd.DataFrame:
    """The rows of ``per_series`` (every model's per-series metrics) of the series whose forecast by
    ``model`` is finite, with one warning naming those left out; all of them when none or every one is
    (the table then says the model's row is n/a, :func:`~lstmkit.tasks.forecast.metrics.format_table`).
    The means over series skipped a non-finite forecast's metrics for the model alone: its row was the
    mean over fewer series than the baselines' beside it, and the series were said to repeat their
    training part and hold only zeros (MASE inf, MAPE NaN)."""
    import warnings
    mine = per_series[per_series["model"] == model]
    broken = mine.loc[~np.isfinite(mine["MAE"].to_numpy(dtype=float)), "id"].tolist()
    if not broken or len(broken) == len(mine):
        return per_series
    warnings.warn(f"the {model} forecasts of {len(broken)} of {len(mine)} series are not finite numbers "
                  f"({first_of(broken, show=lambda i: repr(str(i)))}: the network's outputs overflowed or are NaN); "
                  f"every row of the {part} metrics is the mean over the other {len(mine) - len(broken)} series: "
                  "check those series' values, or train again with a lower learning rate", UserWarning,
                  stacklevel=callers_level())
    return per_series[~per_series["id"].isin(broken)]


_UNDEFINED = {"MASE": "its training part repeats itself exactly", "MAPE": "every actual value is 0"}


def _say_undefined(rows: pd.DataFrame) -> None:
    """A warning for each metric undefined on some series but not all (``rows``: the model's per-series
    rows): the mean over series leaves those out, which the table alone would not show."""
    import warnings
    for metric, why in _UNDEFINED.items():
        bad = ~np.isfinite(rows[metric].to_numpy(dtype=float))
        if 0 < bad.sum() < len(rows):
            warnings.warn(f"{metric} is undefined for {int(bad.sum())} of {len(rows)} series (e.g. "
                          f"{rows['id'].iloc[int(np.argmax(bad))]!r}: {why}); its mean is over the other series",
                          UserWarning, stacklevel=callers_level())


def _scores(est, panel, arrays, windows, ets: bool, kept: dict | None = None,
            progress: str = "off", by_target: list | None = None,
            forecasts: Callable[[], np.ndarray] | None = None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, Limits, np.ndarray]:
    """Per-series metrics of the model and its baselines on ``windows`` (rows, series), in original
    units, each target on its own observed points; with the model's parameters, the actual values and the
    bounds at the observed cells ``[c, 1]`` and each cell's target ``[c]``
    (``kept``: given every window's parameters, as ``kept["test_params"]``, and where it holds the key
    :data:`TEST_FORECASTS` the table of every forecast scored, made here from what the scoring made, no
    second pass over the model). The series scored show as
    ``progress`` says (:func:`lstmkit.train.progress.track`: 30,000 series are half a minute).
    ``by_target`` (a list) is given each target's own per-series rows too, its name under ``"target"``.
    ``forecasts()``: the parameters of ``windows`` (:meth:`_forecast_windows`'), when a fit makes them once."""
    cfg = est.config_
    rows, series = windows
    params = (forecasts() if forecasts is not None
              else est._forecast_windows(arrays, rows, series, est._series_index(panel)))
    if kept is not None:
        kept["test_params"] = params
    limits = est._window_limits(panel, series)
    table = kept is not None and TEST_FORECASTS in kept     # the forecasts' file asked for: every row's kept
    point = est._point(params, limits)                                      # [n, H, T], within the bounds
    H, L, T = cfg.horizon, cfg.lookback, len(cfg.target)
    tgt = (rows.numpy() + L)[:, None] + np.arange(H)[None]
    # NaN on the cells --fill filled or inserted (no observations): each target is scored on its own observed
    # points (metric_rows); a row where one of several targets was filled left out every target's value there
    y_true = panel.actual(tgt)                                              # [n, H, T]
    observed = np.isfinite(y_true)
    s_all = series.numpy()
    records = []
    made: dict[str, np.ndarray] = {}                      # each model's forecasts of every window, for the file
    scales = np.full((len(panel.ids), T), np.nan)        # each series' MASE scale, for the file
    order = np.argsort(s_all, kind="stable")             # each series' windows in their order, found at once
    scored, firsts = np.unique(s_all[order], return_index=True)
    for s, sel in track(zip(scored, np.split(order, firsts[1:])), len(scored), "scoring", progress, unit="series"):
        r = panel.rows(int(s))
        vals = panel.values[r]
        n_train, n_val, _ = part_sizes(int(panel.lengths[s]), cfg)
        origins = rows.numpy()[sel] - r.start + L - 1
        preds = {cfg.model: point[sel],
                 "naive": naive_forecast(vals, origins, H),
                 "seasonal_naive": snaive(vals, origins, H, est.season_)}
        if ets:
            import warnings
            with warnings_caught():
                warnings.simplefilter("ignore")
                # fitted on the points before the first origin, at most training + validation: the
                # validation windows' ETS (the doctor's) never reads a validation point into its fit
                preds["ets"] = ets_forecast(vals, origins, H, est.season_, min(n_train + n_val, int(origins.min()) + 1))
        # every baseline within the series' bounds, as the model (bounds.py): ETS's damped trend or
        # additive season ran below 0 on a count series dying out, a floor the model's row had and its
        # own had not
        preds = {name: clip_values(p, limits.take(sel)) for name, p in preds.items()}
        actual, seen = y_true[sel].reshape(-1, T), observed[sel].reshape(-1, T)   # [k, T], NaN: a gap
        train = panel.actual(np.arange(r.start, r.stop)[:max(n_train, 2)])       # the MASE scale's: observed
        if table:
            for name, p in preds.items():
                made.setdefault(name, np.full(point.shape, np.nan))[sel] = p
            scales[s] = mase_scale(train, est.season_)
        divided = mape_points(np.where(seen, actual, 0.0), axis=0)                # the points MAPE divides by
        for name, p in preds.items():
            m = forecast_metrics(actual, p.reshape(-1, T), train, season=est.season_)
            records.append({"id": panel.ids[int(s)], "model": name, **m, "points": int(seen.sum()),
                            "MAPE_points": int(divided.sum())})
            for j, target in enumerate(cfg.target if by_target is not None else ()):
                by_target.append({"id": panel.ids[int(s)], "target": target, "model": name,
                                  **forecast_metrics(actual[:, j], p.reshape(-1, T)[:, j], train[:, j],
                                                     season=est.season_),
                                  "points": int(seen[:, j].sum()), "MAPE_points": int(divided[:, j].sum())})
    if table:
        kept[TEST_FORECASTS] = forecast_table(est, panel, rows.numpy(), s_all, y_true, made,
                                              None if est.output_.kind == "point" else est._quantiles(params, limits),
                                              scales)
    # the probabilistic metrics pool the observed cells [c, 1], ``target`` naming each one's target
    within = [np.broadcast_to(b[:, None], y_true.shape)[observed][:, None] for b in limits]
    target = np.broadcast_to(np.arange(T), observed.shape)[observed]
    return (pd.DataFrame(records), params[observed][:, None], y_true[observed][:, None], Limits(*within), target)


def baseline_comparison(est, panel, arrays, val,
                        forecasts: Callable[[], np.ndarray] | None = None) -> dict[str, Any] | None:
    """The model beside naive, seasonal naive and ETS (where the test metrics score it: ``ets``, by
    default up to 20 series) on the validation windows ``val`` (rows, series), for the training
    doctor: MASE in original units, mean over the series that have one (as in metrics.json; MAE when
    no series has: constant training parts), with the remedies to try if the model does not win,
    most likely first. ETS is fitted on each series' training part only; nothing reads a test point.
    None without validation windows. ``forecasts()``: the model's parameters of ``val``, made once per fit."""
    if len(val[0]) == 0:
        return None
    ets = _with_ets(est.config_, panel)
    per_series, _, y_true, _, _ = _scores(est, panel, arrays, val, ets=ets, forecasts=forecasts)
    per_series = finite_forecasts(per_series, est.config_.model, "validation")
    names = [est.config_.model, "naive", "seasonal_naive", *(["ets"] if ets else [])]
    metric = "MASE" if np.isfinite(per_series["MASE"].to_numpy()).any() else "MAE"
    score = {n: finite_mean(per_series.loc[per_series["model"] == n, metric].to_numpy()) for n in names}
    members = getattr(est.net_, "members", None)         # a seed ensemble: each member trains on every window
    sizes = {"members": len(members), "member_parameters": _parameters(members[0])} if members is not None else {}
    return {"part": "validation", "metric": metric, "units": "original", "points": int(y_true.size),
            "model": score[names[0]], "scores": {n: score[n] for n in names[1:]}, **sizes,
            "remedies": baseline_remedies(est, panel)}



def answer_score(est, panel, arrays, val, blended: np.ndarray, metric: str) -> float:
    """``metric`` (MASE, or MAE as :func:`baseline_comparison` chose) of the forecasts ``blended`` of the
    validation windows ``val`` (a blend the run answers with), scored as the model's row there: mean over the
    series that have one."""
    per_series = _scores(est, panel, arrays, val, ets=False, forecasts=lambda: blended)[0]
    return finite_mean(per_series.loc[per_series["model"] == est.config_.model, metric].to_numpy())


def _parameters(net) -> int:
    return sum(p.numel() for p in net.parameters())


def baseline_remedies(est, panel) -> list[str]:
    """What to try when the model loses to a naive forecast, most likely first: seasonal adjustment,
    log targets, a longer lookback, more data per parameter (each one only where it applies). Seasonal
    adjustment or log targets that the data measured unlikely (a weak season, an additive swing, a range
    of a factor 1.1 over which a log is nearly linear) come last."""
    cfg, m = est.config_, est.season_
    out, weak = [], None
    if not cfg.deseason and m > 1:
        adjust = f"seasonal adjustment: {opt('deseason', m)} (the network then learns what the season leaves)"
        chosen = (getattr(est, "auto_", None) or {}).get("deseason", {})
        if chosen.get("value") == 0 and str(chosen.get("why", "")).startswith("weak season"):
            weak = adjust.replace(")", f"; this series' season measured weak, {chosen['why'].split(': ', 1)[-1]}, so "
                                           "less likely)", 1)
        else:
            out.append(adjust)
    values = panel.values[np.isfinite(panel.values)]
    log = None
    if not cfg.log and values.size and values.min() > 0:
        log = f"log targets: {opt('log', True)} (a season or trend that grows with the level becomes additive)"
    measured = (getattr(est, "auto_", None) or {}).get("log", {})
    why = str(measured.get("why", "")) if measured.get("value") is False else ""
    # measured unlikely: an additive swing, or a range so narrow (Longley's 1.1) that a log is nearly linear over it
    unlikely = ("this series' swing measured additive" if why.startswith("additive") else
                f"this series spans {why.split('spanning ', 1)[1]}, over which a log is nearly linear"
                if why.startswith("positive, spanning a factor") else None)
    if log and unlikely is None:
        out.append(log)                    # not measured unlikely: likely, so early
        log = None
    room = min(part_sizes(int(n), cfg)[0] - cfg.horizon for n in panel.lengths)    # the longest lookback that fits
    longer = min(2 * cfg.lookback, room)
    if longer > cfg.lookback:
        out.append(f"a longer lookback: {opt('lookback', longer)} (now {cfg.lookback})")
    members = getattr(est.net_, "members", None)
    params = (f"{len(members)} seeds of {_parameters(members[0]):,} parameters each" if members is not None else
              f"{_parameters(est.net_):,} parameters")
    smaller = max(4, cfg.hidden_size // 2)
    if smaller < cfg.hidden_size:
        out.append(f"more data per parameter: a smaller model, {opt('hidden_size', smaller)} (now {cfg.hidden_size}, "
                   f"{params})")
    if log:                                # measured unlikely: the last thing to try
        out.append(log.replace(")", f"; {unlikely}, so less likely)", 1))
    if weak:                               # measured weak: a season was looked for and not found
        out.append(weak)
    return out


def panel_plots(est, run_dir: Path, panel, arrays, test, params: np.ndarray | None = None,
                worst: dict[str, Any] | None = None, model_name: str | None = None) -> None:
    """The loss curve and the test forecasts' plot; ``params``: the test windows' forecasts as
    :func:`panel_metrics` made them (``kept``), reused rather than made again (150,000 windows of one
    series took 36 s more), else made here. Of more than 4 series the plot shows the 4 the model scores
    worst (``worst``: metrics.json's record, :func:`worst_series`), else the first 4. ``model_name``: the model's
    line in a one-series plot (default the model; a blended run's, ``combine.blend_name``)."""
    from lstmkit.inspect.plots import plot_history
    from lstmkit.tasks.forecast.plots import plot_panel_forecast
    # titled by run and model as the other tasks' are: a forecaster's read 'Training curves', whatever the run
    plot_history(est.result_.history, run_dir / "plots" / "loss.png", est.result_.best_epoch, est.config_.loss_label(),
                 f"{run_dir.name}: {est.config_.model} forecaster")
    rows, series = test
    if len(rows) == 0:
        return
    cfg = est.config_
    if len(panel.ids) == 1:
        return _one_step_plot(est, run_dir, panel, arrays, test, params, model_name)
    shown, tested, several = [], np.unique(series.numpy()), len(cfg.target) > 1
    picked, which = tested[:4], "the first {} of {:,} series"            # up to 4 series
    if len(tested) > 4 and worst:                                        # of many: those the model scores worst
        number = {sid: s for s, sid in enumerate(panel.ids)}
        bad = [number[w["id"]] for w in worst["series"] if w["id"] in number][:4]
        if bad:
            picked, which = np.array(bad), f"the {{}} of {{:,}} series with the highest {worst['metric']}"
    for s in picked:
        sel = np.flatnonzero(series.numpy() == s)[-1:]                   # the last test origin
        last = (params[sel] if params is not None else
                est._forecast_windows(arrays, rows[sel], series[sel], est._series_index(panel)))[0]
        r = panel.rows(int(s))
        origin = int(rows[sel][0]) - r.start + cfg.lookback - 1
        shown.append({"id": panel.ids[int(s)], "values": panel.values[r] if several else panel.values[r][:, 0],
                      "origin": origin,
                      "times": est.series_times(panel, int(s)),   # in the run's zone, as its tables
                      "params": last, "limits": est._window_limits(panel, [s])})
    plot_panel_forecast(shown, est.output_, cfg.horizon, run_dir / "plots" / "forecast.png",
                        title=f"{', '.join(cfg.target)}: last test forecast ({cfg.strategy})"
                        + (", " + which.format(len(shown), len(tested)) if len(tested) > len(shown) else ""),
                        targets=list(cfg.target))


def _one_step_plot(est, run_dir: Path, panel, arrays, test, params: np.ndarray | None = None,
                   model_name: str | None = None) -> None:
    """One series: every test origin's first forecast step beside the baselines', over the test part
    (``params``: the test windows' forecasts, when made already); ``model_name`` names the model's line."""
    from lstmkit.inspect.plots import plot_forecast
    cfg, (rows, series) = est.config_, test
    if params is None:
        params = est._forecast_windows(arrays, rows, series, est._series_index(panel))
    origins = rows.numpy() + cfg.lookback - 1                            # last observed point
    vals = panel.values
    preds = {model_name or cfg.model: est._point(params, est._window_limits(panel, series)),
             "naive": naive_forecast(vals, origins, 1), "seasonal_naive": snaive(vals, origins, 1, est.season_)}
    times = est.series_times(panel, 0)          # in the run's zone, as test_forecasts.csv gives them
    x = times if times is not None else np.arange(len(vals))
    # the last PLOTTED_POINTS test points at most: 30,000 of them drew the lines over one another, one
    # colour's band where the model's line could not be told from the baselines'
    keep = slice(max(0, len(origins) - PLOTTED_POINTS), None)
    shown = origins[keep]
    first = shown[0] + 1
    hist_from = max(0, first - min(max(len(shown), cfg.lookback), PLOTTED_POINTS))   # as much history as test
    part = ("the test part" if len(shown) == len(origins)
            else f"the last {len(shown):,} of {len(origins):,} test points")
    # of several targets each in a panel of its own (the plot drew the first alone, titled by it)
    cols = slice(None) if len(cfg.target) > 1 else 0
    bands = []
    if est.output_.kind != "point":                                      # the first step's intervals
        from lstmkit.tasks.forecast.plots import band_levels
        q = est._quantiles(params[keep], est._window_limits(panel, series[keep]))[:, 0]      # [n, T, Q]
        bands = [(q[:, cols, i], q[:, cols, j], label) for i, j, label in band_levels(est.output_.levels)]
    plot_forecast(x[hist_from:first], vals[hist_from:first, cols], x[shown + 1], vals[shown + 1, cols],
                  {k: v[keep, 0, cols] for k, v in preds.items()}, run_dir / "plots" / "forecast.png",
                  title=f"{', '.join(cfg.target)}: one step ahead on {part}",
                  ylabel=list(cfg.target) if len(cfg.target) > 1 else cfg.target[0],
                  history="history" if len(shown) == len(origins) else "earlier points", bands=bands)


PLOTTED_POINTS = 1000       # test points a one-series forecast plot shows at most (the last ones)


def snaive(vals: np.ndarray, origins: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Seasonal naive; a series with less than one full season before an origin gets the naive one."""
    if len(origins) and origins.min() < season - 1:
        return naive_forecast(vals, origins, horizon)
    return seasonal_naive_forecast(vals, origins, horizon, season)


def finite_mean(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=float)
    ok = np.isfinite(a)
    return float(a[ok].mean()) if ok.any() else float("nan")
