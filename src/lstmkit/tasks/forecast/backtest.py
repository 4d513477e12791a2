"""Rolling-origin backtesting: K folds, each forecasting the ``horizon`` points after a cutoff.

Fold k of K (oldest first) cuts every series at ``n_s - horizon - step · (K - 1 - k)`` points
(``step`` defaults to the horizon, so the folds' forecast windows tile the end of each series)
and forecasts the next ``horizon`` points from the history before the cut, with

* a **fixed** model: a fitted Forecaster (e.g. a run folder), or, when none is given, one model
  trained once on the history before the first cutoff;
* **refit**: a fresh model with the same settings trained on each fold's history.

Each fold is scored per series (MAE, RMSE, MAPE, sMAPE, MASE against the naive and seasonal-naive
baselines from the same cutoff); fold rows are means over series and the aggregate is the mean
over folds. A probabilistic run's fold rows add the scores ``evaluate`` gives of the quantiles
``predict`` shows (coverage of each central interval, each unpaired level's share at or below it, wQL;
CRPS of a quantile run), pooled over the fold's points as ``evaluate`` pools its test points. Written to
``backtest.csv`` / ``backtest.json`` and ``plots/backtest.png``.
"""
from __future__ import annotations

import copy
import hashlib
import json
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from lstmkit.errors import LstmkitError, TrainingInterrupted, callers_level, first_of, opt, worded
from lstmkit.data.fingerprint import fingerprint
from lstmkit.files import check_writable, to_json
from lstmkit.runs import atomic_write, write_json
from lstmkit.config import python_values, require_positive_int
from lstmkit.tasks.forecast.baselines import naive_forecast, seasonal_naive_forecast
from lstmkit.tasks.forecast.data import load_table
from lstmkit.tasks.forecast.fastpath import fold_forecasts
from lstmkit.tasks.forecast.m4 import m4_settings
from lstmkit.tasks.forecast.metrics import METRIC_NAMES, ZERO_SCALE, mape_points, metric_rows, say_zeros_left_out
from lstmkit.tasks.forecast.probabilistic import Output, check_quantiles, probabilistic_metrics, quantile_column
from lstmkit.tasks.forecast.times import forecast_zone, in_zone, reading_zone, time_values
from lstmkit.tasks.forecast.tsffile import is_tsf, tsf_settings
from lstmkit.tasks.forecast.use_warnings import say_left_out
from lstmkit.train.progress import track

__all__ = ["backtest"]


def backtest(model, data, folds: int = 3, step: int | None = None, refit: bool = False,
             out: str | Path | None = None, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Rolling-origin evaluation of ``model``: a fitted Forecaster, or an unfitted one whose
    settings train the fold models (``type(model)`` makes each, so this module imports no estimator).

    Returns ``{"folds": [...], "aggregate": {model: metrics}, "settings": {...}}`` (of several targets
    ``per_target`` too: ``{target: {model: metrics}}``, as the aggregate pools their units); with ``out``
    also writes ``backtest.csv``, ``backtest.json`` and ``plots/backtest.png`` there. ``log`` is
    told before each model is trained (the fold models' epoch lines look alike).
    """
    try:
        return _backtest(model, data, folds, step, refit, out, log)
    except KeyboardInterrupt as e:
        # Ctrl-C after the last fold (scoring, the plot, the files) said `interrupted` alone, every fold
        # kept: a fold's own interrupt names what is kept already
        kept = Path(out) / KEPT_FOLDS if refit and out is not None else None
        if str(e) or kept is None or not kept.is_file():
            raise
        raise KeyboardInterrupt(
            f"with the forecasts of the folds that ended kept in {kept} — " +
            worded(f"run the same command with --out {out} to finish the backtest from them",
                   f"backtest(..., out={str(out)!r}) again finishes it from them")) from None


def _backtest(model, data, folds: int, step: int | None, refit: bool, out: str | Path | None,
              log: Callable[[str], None] | None) -> dict[str, Any]:
    """:func:`backtest`, which says what is kept when Ctrl-C lands outside a fold."""
    log = log or (lambda message: None)
    folds, step = python_values({"folds": folds, "step": step}).values()     # a grid's np.int64 as an int
    require_positive_int("folds", folds)
    if model is None:
        raise LstmkitError("nothing to backtest", worded("pass a run folder (--run) or settings (--config)",
                                                          "pass a Forecaster: fitted, or one to fit on each fold"))
    given = hasattr(model, "net_")                   # a fitted model is used as it is, unless refit
    cfg = model.config_ if given else copy.deepcopy(model.config)
    if not given:                                    # a .tsf file's columns, horizon and frequency, as fit takes them
        data = load_table(data) if cfg.format == "long" and is_tsf(data) else data
        tsf_settings(cfg, data)
        if cfg.format == "m4":
            m4_settings(cfg, data)
        cfg.horizon = 1 if cfg.horizon is None else cfg.horizon
    H = cfg.horizon
    if step is not None:
        require_positive_int("step", step)
    step = H if step is None else int(step)
    run = (getattr(model, "data_summary_", None) or {}) if given else None
    frame, id_col, time_col, targets, codes, uniq, read_times = _long_frame(data, cfg, run)
    ser = _Series(frame, targets, codes, uniq, cfg.fill)                 # series are contiguous in the frame
    levels = _levels(cfg)
    need = H + step * (folds - 1) + 2
    short = ser.lengths < need
    if short.all():
        longest = int(np.argmax(ser.lengths))
        which = (f"a series of {int(ser.lengths[0])} points is" if len(ser.sids) == 1 else
                 f"every series is (the longest, {ser.sids[longest]!r}, has {int(ser.lengths[longest])} points)")
        raise LstmkitError(f"{which} too short for {folds} folds of horizon {H} and step {step}, which need "
                           f"{need}", f"use fewer {opt('folds')}, a smaller {opt('step')}, or longer series")
    skipped = []
    if short.any():       # one short series among many: left out with a warning naming it, the others backtested
        skipped = [{"id": ser.sids[j], "length": int(ser.lengths[j]), "need": need, "reason": "shorter than needed"}
                   for j in np.flatnonzero(short)]
        frame = frame[~frame["__id"].isin([s["id"] for s in skipped]).to_numpy()].reset_index(drop=True)
        codes, uniq = pd.factorize(frame["__id"], sort=False)
        ser = _Series(frame, targets, codes, uniq, cfg.fill)
        say_left_out(skipped, need)
    cuts = ser.lengths[None] - H - step * (folds - 1 - np.arange(folds))[:, None]   # [K, S] points before each cut
    in_training = (_folds_before_test(run, read_times, ser, cuts, getattr(model, "lineage_", None) or [])
                   if given and not refit else [])
    if in_training:
        _say_folds_before_test(in_training, folds, run,
                               any(u.get("accepted") for u in getattr(model, "lineage_", None) or []))
    if out is not None:           # a read-only run folder (the CLI's default RUN/backtest): before the folds run
        check_writable(out, "the backtest")
    fixed = model if given else None
    if fixed is None and not refit:
        log(f"training one model on the history before the first of {folds} cutoffs")
        fixed = _train(type(model), cfg, _history(frame, ser, cuts[0], targets, 0), "the fixed model")
    batched = None if refit else fold_forecasts(fixed, frame.drop(columns="__id"), ser.sids, ser.lengths, cuts)
    if batched is not None:
        forecasts, present, seasons = batched, np.ones(cuts.shape, bool), np.full(folds, fixed.season_)
    else:
        forecasts = np.full((folds, len(ser.sids), H, len(targets) * (1 + len(levels))), np.nan)       # [K, S, H, C]
        present, seasons = np.zeros(cuts.shape, bool), np.zeros(folds, np.int64)
        # a refit backtest trains a model a fold: each fold's forecasts are kept in `out` as it ends, and the
        # same backtest (settings, data, folds, step) run again with that `out` continues after them
        kept = _Kept(out, cfg, frame, folds, step) if refit and out is not None else None
        # a fixed model's folds are a predict each (a refit's show their training and a line a fold)
        pace = {"since": time.perf_counter(), "ran": 0}           # the folds trained here, for the ETA
        for k in range(folds) if refit else track(range(folds), folds, "backtest", model._progress, unit="folds"):
            if kept is not None and kept.restore(k, forecasts, present, seasons):
                log(f"fold {k + 1}/{folds}: its forecasts kept from the interrupted backtest in {kept.path.parent}")
                pace["since"] = time.perf_counter() if not pace["ran"] else pace["since"]
                continue
            if refit:
                left = folds - k             # this fold and those after it, at the pace of the folds trained so far
                eta = (f" (ETA {(time.perf_counter() - pace['since']) / pace['ran'] * left:.0f} s for the {left} "
                       f"fold{'s' if left > 1 else ''} left)" if pace["ran"] else "")
                log(f"fold {k + 1}/{folds}: training on the history before its cutoff{eta}")
            after = kept.after(k) if kept else None
            try:
                est = fixed if not refit else _train(type(model), cfg, _history(frame, ser, cuts[k], targets, 0),
                                                     f"fold {k + 1}/{folds}'s model", after)
                by_id = _forecast_by_series(est.predict(_history(frame, ser, cuts[k], targets, H)), est.config_,
                                            id_col, levels)
            except KeyboardInterrupt as e:   # outside training (its forecasts, a fold's data): what is kept too
                if str(e):
                    raise
                raise KeyboardInterrupt(f"in fold {k + 1}/{folds}; " + (after or "no fold is kept, nothing was "
                                                                          "written — run the command again")) from None
            present[k] = [sid in by_id for sid in ser.sids]
            for j in np.flatnonzero(present[k]):
                forecasts[k, j] = by_id[ser.sids[j]]
            seasons[k] = est.season_
            pace["ran"] += 1
            if kept is not None:
                kept.save(k, forecasts[k], present[k], int(seasons[k]))
    present &= cuts >= 2
    quantiles, forecasts = forecasts[..., len(targets):], forecasts[..., :len(targets)]
    scores = _probabilistic(ser, cuts, quantiles, present, H, levels, bool(cfg.likelihood))
    means, count, by_target = _score(ser, cuts, forecasts, present, seasons, H, cfg.model)
    rows, plot_folds = [], []
    times = frame[time_col] if time_col is not None else None
    n_metrics = len(METRIC_NAMES)       # one flat list a model, not a list a fold: 1,024 folds' 3,072 lists
    values = {m: v.ravel().tolist() for m, v in means.items()}     # took ~100 ms on a busy machine (cProfile)
    shown, flat = _plotted_series(ser, cuts, forecasts, present, H) if out is not None else (0, 0)   # the plot's
    moments = times.to_numpy() if times is not None else None           # once, not a copy a fold
    dated = times is not None and pd.api.types.is_datetime64_any_dtype(times)
    counts = count.tolist()
    for k in np.flatnonzero(count > 0).tolist():                         # a fold with no series scored has no rows
        # the time of the fold's first forecast point: of many series, the one they share (each series is cut
        # at its own end: series that end at different times have no one cutoff, and say none)
        at = np.unique(moments[ser.starts[present[k]] + cuts[k][present[k]]]) if moments is not None else []
        # as lstmkit.json writes the data's times (its end, test_from): ISO 8601 with the T, the offset of a
        # zoned column (RFC 3339's), not str()'s '2024-01-15 04:00:00'
        cut_when = ((pd.Timestamp(at[0]).isoformat() if dated
                     else at[0].item() if isinstance(at[0], np.generic) else at[0]) if len(at) == 1 else None)
        if out is not None and present[k, shown]:
            plot_folds.append({"fold": k + 1, "origin": int(cuts[k, shown]) - 1,
                               "forecast": forecasts[k, shown] if len(targets) > 1 else forecasts[k, shown, :, 0]})
        fold = {"fold": k + 1, "cutoff": cut_when, "series": counts[k]}
        for m, v in values.items():                                      # a record per fold and model
            row = {**fold, "model": m}
            row.update(zip(METRIC_NAMES, v[k * n_metrics:(k + 1) * n_metrics]))
            if m == cfg.model and scores:
                row.update(scores[k])
            rows.append(row)
    over_folds = lambda means: {m: dict(zip(METRIC_NAMES, map(_mean, v[count > 0].T))) for m, v in means.items()
                                if count.any()}
    aggregate = over_folds(means)
    if scores and cfg.model in aggregate:                                # the probabilistic ones' mean over folds too
        aggregate[cfg.model].update({key: _mean([scores[k][key] for k in np.flatnonzero(count > 0)])
                                     for key in scores[int(np.argmax(count > 0))]})
    # of several targets each one's own too: the pooled MAE and RMSE are the largest target's, diluted
    each = {"per_target": {t: over_folds(m) for t, m in zip(targets, by_target)}} if len(targets) > 1 else {}
    result = {"folds": rows, "aggregate": aggregate, **each,             # one record per fold and model
              "settings": {"folds": folds, "step": step, "horizon": H, "refit": bool(refit),
                           "model": "refit per fold" if refit else
                           ("the given run (fixed)" if given else "trained once before the first cutoff (fixed)"),
                           "note": None if refit or not given else
                           "a fixed run model may have trained on points inside the folds; refit avoids that",
                           "mase_scale": _mase_note(cfg, given and not refit),
                           **({"folds_before_test_part": in_training} if in_training else {})},
              "skipped": skipped}
    if out is not None:
        # backtest.json is written last, as the mark of a whole backtest: a former one's json and plot go
        # first, so that an interrupt (Ctrl-C, a full disk) between the files never leaves this backtest's
        # table beside another's summary or plot
        out = Path(out)
        for former in (out / "backtest.json", out / "plots" / "backtest.png"):
            former.unlink(missing_ok=True)
        atomic_write(out / "backtest.csv", lambda t: pd.DataFrame(rows).to_csv(t, index=False))
        rows_shown = slice(int(ser.starts[shown]), int(ser.starts[shown] + ser.lengths[shown]))
        if plot_folds:
            from lstmkit.tasks.forecast.plots import plot_backtest
            times = frame[time_col].iloc[rows_shown] if time_col is not None else None     # zoned: drawn on its clock
            several = len(targets) > 1                  # each target in a panel of its own: the first alone was drawn
            plot_backtest(ser.values[rows_shown] if several else ser.values[rows_shown, 0], times, plot_folds,
                          out / "plots" / "backtest.png", title=f"{', '.join(targets)}{_series_words(ser, shown, flat)}: "
                          f"{folds} backtest folds ({'refit' if refit else 'fixed model'})", targets=list(targets))
        write_json(out / "backtest.json", result)
        (out / KEPT_FOLDS).unlink(missing_ok=True)          # the backtest is whole: nothing to continue
        result["out"] = str(out)
    return result


# -- helpers ---------------------------------------------------------------------------------
def _mase_note(cfg, fixed_run: bool) -> str:
    """What a fold's MASE is scaled by, and for a run's fixed model why a fold over its test part does not
    read metrics.json's test MASE: that one scales by the training part alone (a fold by every point before its
    cutoff, validation ones among them: a naive forecast's MASE 3.18 here, 3.11 there, on the same points), and a
    deseasoned run's test forecasts remove the training part's seasonal profile (predict's, the history's)."""
    note = "MASE here: each fold's error over the seasonal-naive error of the history before its cutoff"
    if not fixed_run:
        return note
    return (note + "; metrics.json's test MASE scales by the training part alone"
            + (" (and its forecasts remove the training part's season, predict's the history's)" if cfg.deseason else "")
            + ", so a fold over the test part scores a little differently")


def _plotted_series(ser: "_Series", cuts: np.ndarray, forecasts: np.ndarray, present: np.ndarray,
                    H: int) -> tuple[int, int]:
    """The series ``plots/backtest.png`` shows: the first one scored in a fold whose first target or
    forecasts move over the span the plot draws (three horizons before the first cutoff on); the first
    scored one when none does. A many-series file of retail items opened with one that never sold, and
    its plot was a flat line at 0 under the forecasts' flat line at 0. Returns ``(series, flat)``:
    ``flat`` scored series before it are flat there."""
    scored = np.flatnonzero(present.any(0))
    if not len(scored):
        return 0, 0
    for flat, j in enumerate(scored.tolist()):
        first = int(cuts[present[:, j], j].min())
        span = ser.values[ser.starts[j] + max(0, first - 1 - 3 * H):ser.starts[j] + ser.lengths[j], 0]
        drawn = np.concatenate([span, forecasts[present[:, j], j, :, 0].ravel()])
        drawn = drawn[np.isfinite(drawn)]
        if len(drawn) and np.ptp(drawn) > 0:
            return j, flat
    return int(scored[0]), 0


def _series_words(ser: "_Series", j: int, flat: int) -> str:
    """Which series the backtest plot shows, for its title: nothing for one series, its id and why it
    is the one shown for several (the first, or the first that moves after ``flat`` that do not)."""
    n = len(ser.sids)
    if n == 1:
        return ""
    if not flat:
        return f" of {ser.sids[j]!r}, the first of {n:,} series"
    return (f" of {ser.sids[j]!r}, the first of {n:,} series that moves over the folds "
            f"({flat:,} before it {'is' if flat == 1 else 'are'} flat there)")


def _long_frame(data, cfg, run: dict | None = None
                ) -> tuple[pd.DataFrame, str | None, str | None, list[str], np.ndarray, Any, dict]:
    """The data as one long frame sorted by (series, time), with ``__id``; original columns kept,
    times read (in the zone forecasts are given in, tz-aware, so that each fold's predict reads
    them as the same instants; ``run``: a fitted run's data summary); per row its series' number
    (0, 1, ... in frame order), the series ids by number, and each row's time as ``read_panel``
    reads it (what a run's data summary records; None without a time column)."""
    from lstmkit.tasks.forecast.columns import frame_columns, series_codes
    df, id_col, time_col, targets = frame_columns(data, cfg)
    for c in [id_col, time_col, *targets]:
        if c is not None and c not in df.columns:
            raise LstmkitError(f"column {c!r} not found", f"available columns: {', '.join(map(str, df.columns))}")
    df = df.copy()
    codes = None
    if id_col is not None:                 # each row's series name: series_labels, read a distinct id at a time
        codes, uniq = series_codes(df[id_col], id_col)
        df["__id"] = pd.Series(uniq.take(codes), index=df.index)
    else:
        df["__id"] = "series"
    if time_col is not None:
        values, time_info = time_values(df[time_col], time_col, getattr(cfg, "dates", None), *reading_zone(cfg, run),
                                        groups=df["__id"] if id_col is not None else None)   # as read_panel reads them
        zone = forecast_zone(time_info, run)
        df[time_col] = in_zone(values, time_info, zone) if zone is not None else values
        df["__read_time"] = values
    keys = ["__id"] + ([time_col] if time_col is not None else [])
    df = df.sort_values(keys, kind="stable") if time_col is not None else df
    if codes is None or time_col is not None:      # (unsorted, the rows are numbered as series_codes numbered them)
        codes, uniq = pd.factorize(df["__id"], sort=False)             # numbered in order of first appearance
    if (np.diff(codes) < 0).any():                                       # not yet contiguous
        order = np.argsort(codes, kind="stable")
        df, codes = df.iloc[order], codes[order]
    # the rows after a series' last target value are its future rows (the table predict reads, future
    # covariates filled for the horizon): no fold can score them, as read_panel leaves them to predict
    known = np.where(df[targets].notna().any(axis=1).to_numpy(), np.arange(len(df)), -1)   # any: as read_panel
    # each series' last row with a value, for its every row: codes run 0, 1, ... in contiguous blocks here
    first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(df) else np.zeros(0, np.intp)
    newest = np.repeat(np.maximum.reduceat(known, first), np.diff(np.r_[first, len(df)])) if len(df) else known
    observed = np.arange(len(df)) <= newest
    if len(df) and not (known >= 0).any():         # no series left to backtest ('argmax of an empty sequence')
        empty = next((t for t in targets if df[t].isna().all()), targets[0])
        raise LstmkitError(f"the target column {empty!r} has no values", f"choose {opt('target')} columns that hold numbers")
    if not observed.all():
        df = df[observed]
        codes, uniq = pd.factorize(df["__id"], sort=False)              # a series without values leaves
    read = df.pop("__read_time").to_numpy() if time_col is not None else None
    return df.reset_index(drop=True), id_col, time_col, targets, codes, uniq, read


def _folds_before_test(run: dict, read_times: np.ndarray | None, ser: "_Series", cuts: np.ndarray,
                       lineage: list[dict]) -> list[int]:
    """The folds (numbered from 1) of a fitted run's backtest that forecast a point its model trained or
    early-stopped on: before the run's recorded ``test_from`` (the earliest series' first test time), or at
    or before the newest point a kept online update read of the series (``lineage``); for one series
    without times, before the run's training and validation parts when the data is as long as the run's."""
    if read_times is not None:
        first = read_times[ser.starts[None] + cuts]          # [K, S] each fold's first forecast point
        dated = np.issubdtype(first.dtype, np.datetime64)
        read = lambda t: np.datetime64(t) if isinstance(t, str) else t      # noqa: E731  (a run file's time)
        before = np.zeros(cuts.shape, dtype=bool)
        if run.get("test_from") is not None and isinstance(read(run["test_from"]), np.datetime64) == dated:
            before |= first < read(run["test_from"])         # a run saved before it was recorded: not said
        for update in lineage:
            if not update.get("accepted"):
                continue
            for j, sid in enumerate(ser.sids):
                end = (update.get("ends") or {}).get(sid, update.get("end"))
                if end is not None and isinstance(read(end), np.datetime64) == dated:   # else dates against steps
                    before[:, j] |= first[:, j] <= read(end)
        before = before.any(1)
    else:
        split = run.get("split")
        if run.get("time") is not None or not split or len(ser.sids) != 1 or int(ser.lengths[0]) != run.get("rows"):
            return []
        before = cuts[:, 0] < split["train"] + split["val"]
    return [int(k) + 1 for k in np.flatnonzero(before)]


def _say_folds_before_test(in_training: list[int], folds: int, run: dict, updated: bool) -> None:
    """One warning: a fixed run's folds that score it on points it trained or early-stopped on (``updated``:
    the run kept an online update, whose data it trained on too)."""
    n = len(in_training)
    start = f" (from {run['test_from']})" if run.get("test_from") is not None else ""
    read = " or read by an update it kept" if updated else ""
    warnings.warn(f"{n} of the {folds} folds ({'fold ' if n == 1 else 'folds '}{first_of(in_training, 3)}) forecast "
                  f"points before the run's test part{start}{read}, which its model trained or early-stopped on: "
                  f"{'its scores flatter' if n == 1 else 'their scores flatter'} the model — backtest with "
                  f"{worded('--refit', 'refit=True')}, or fewer {opt('folds')} or a smaller {opt('step')}, so "
                  "that every fold forecasts the test part", UserWarning, stacklevel=callers_level())


class _Series:
    """The series of the long frame: ids (frame order), first rows, lengths and values ``[N, T]`` (NaN
    where a ``--fill`` run's data has no value: such a point is scored nowhere). The baselines read the
    values :meth:`before_cut` gives, each fold's history filled as ``predict`` fills the model's (naive's
    forecast from an empty origin was NaN; under ``interpolate`` a gap in the season before a cutoff was
    carried forward for the baselines while the model read it interpolated). The MASE
    scale reads the observed values, the differences a gap is in left out, as
    :func:`~lstmkit.tasks.forecast.metrics.mase_scale` (an empty cell before a cutoff made every fold's MASE NaN)."""

    def __init__(self, frame: pd.DataFrame, targets: list[str], codes: np.ndarray, uniq, fill: str | None = None):
        self.sids = [str(s) for s in uniq.tolist()]                         # codes: contiguous, in order
        self.lengths = np.bincount(codes, minlength=len(uniq)).astype(np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        self.values = frame[targets].to_numpy(dtype=np.float64)
        self.fill = fill
        seen, rows = np.isfinite(self.values), np.arange(len(self.values))[:, None]
        # per cell, the nearest observed row of its column at or before it and at or after it (-1, N: none)
        self._before = np.maximum.accumulate(np.where(seen, rows, -1), axis=0)
        self._after = np.minimum.accumulate(np.where(seen, rows, len(rows))[::-1], axis=0)[::-1]
        self._running: dict[int, list[np.ndarray]] = {}

    def before_cut(self, at: np.ndarray, first: np.ndarray, end: np.ndarray) -> np.ndarray:
        """``[R, M, T]``: the values at frame rows ``at [R, M]`` of the series whose rows run from ``first [R]``,
        its gaps filled from its rows before ``end [R]`` alone (the cut) as ``--fill`` fills ``predict``'s
        history: ``zero`` 0; ``ffill`` the value before (a series' first cells: the first after);
        ``interpolate`` linear between the observed values around it, carried forward after the last one
        before the cut (and back before the first), never drawn toward a value after the cut."""
        at = np.maximum(at, first[:, None])
        got = self.values[at]
        if self.fill is None or not np.isnan(got).any():
            return got
        if self.fill == "zero":
            return np.nan_to_num(got, nan=0.0)
        last = len(self.values) - 1
        before, after = self._before[at], self._after[at]                    # [R, M, T]
        has_before = before >= first[:, None, None]
        has_after = after < end[:, None, None]
        cols = np.arange(got.shape[-1])
        v_before = self.values[np.clip(before, 0, last), cols]
        v_after = self.values[np.clip(after, 0, last), cols]
        out = np.where(has_before, v_before, np.where(has_after, v_after, np.nan))
        if self.fill == "interpolate":
            span = has_before & has_after & (after > before)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = (at[..., None] - before) / (after - before)
            out = np.where(span, v_before + (v_after - v_before) * share, out)
        return out

    def positions(self) -> np.ndarray:
        """Per frame row: its place in its series."""
        return np.arange(int(self.lengths.sum())) - np.repeat(self.starts, self.lengths)

    def running(self, lag: int) -> list[np.ndarray]:
        """Running sums ``[N + 1, T]`` of ``|y[t] - y[t - lag]|`` over the observed pairs (a gap's NaN,
        infinite terms as 0), counts of those pairs and of the infinite terms, and sums of ``|y[t]|`` over
        the pairs (the level): a part's sum is the difference of two rows."""
        if lag not in self._running:
            d, level = np.zeros_like(self.values), np.zeros_like(self.values)
            with np.errstate(invalid="ignore"):
                d[lag:] = np.abs(self.values[lag:] - self.values[:-lag])
            level[lag:] = np.abs(self.values[lag:])
            seen, inf = ~np.isnan(d), np.isinf(d)
            seen[:lag] = False
            ok = seen & ~inf
            self._running[lag] = [np.concatenate([np.zeros((1, d.shape[1])), np.cumsum(a, 0)])
                                  for a in (np.where(ok, d, 0.0), seen, inf, np.where(ok, level, 0.0))]
        return self._running[lag]


def _score(ser: _Series, cuts: np.ndarray, forecasts: np.ndarray, scored: np.ndarray, seasons: np.ndarray,
           H: int, name: str) -> tuple[dict[str, np.ndarray], np.ndarray, list[dict[str, np.ndarray]]]:
    """``({model: [K, len(METRIC_NAMES)]}, count [K], per target the same means of it alone)``: per
    fold the mean over its scored series of each metric, and how many series were scored (``scored [K, S]``),
    for the model, naive and
    seasonal naive from each series' cut (``cuts [K, S]``: points before it; ``forecasts [K, S, H, T]``;
    ``seasons [K]``: the seasonal period of each fold's model). Per series the metrics are
    :func:`~lstmkit.tasks.forecast.metrics.forecast_metrics`; every fold and series at once."""
    K = len(cuts)
    f, s = np.nonzero(scored)                                             # scored (fold, series) pairs
    c = cuts[f, s]
    origin = ser.starts[s] + c - 1                                        # last observed point, frame row
    actual = ser.values[origin[:, None] + 1 + np.arange(H)]              # [R, H, T], NaN: not observed
    first, end = ser.starts[s], ser.starts[s] + c                        # each fold's history: rows [first, end)
    naive = naive_forecast(ser.before_cut(origin[:, None], first, end)[:, 0], np.arange(len(f)), H)   # [R, H, T]
    seasonal, scale = naive.copy(), np.empty((len(f), ser.values.shape[1]))
    for season in np.unique(seasons[f]).tolist():
        pick = seasons[f] == season
        full = pick & (c - 1 >= season - 1)                               # one season observed: seasonal naive
        if full.any():
            cycle = origin[full, None] - season + 1 + np.arange(season)[None]     # [R', season]: the last one
            last = ser.before_cut(cycle, first[full], end[full]).reshape(-1, ser.values.shape[1])
            seasonal[full] = seasonal_naive_forecast(last, np.arange(int(full.sum())) * season + season - 1, H, season)
        scale[pick] = _mase_scales(ser, ser.starts[s[pick]], c[pick], season)
    model_fc = forecasts[f, s] if len(f) else naive
    seen = np.isfinite(actual)                                            # a --fill run's gaps: not points
    nonzero = mape_points(np.where(seen, actual, 0.0), axis=1)            # [R, H, T], as metric_rows
    defined = np.broadcast_to(nonzero.any((1, 2), keepdims=True), nonzero.shape) & seen   # the points MAPE may score
    windows = int(defined.any((1, 2)).sum())
    among = (f"those of the {windows:,} series' folds not 0 throughout, the other {len(defined) - windows:,} having no MAPE"
             if windows < len(defined) else "")
    say_zeros_left_out(int((defined & ~nonzero).sum()), int(defined.sum()), "backtest", among)
    forecasts = ((name, model_fc), ("naive", naive), ("seasonal_naive", seasonal))

    def fold_means(cols: slice) -> dict[str, np.ndarray]:
        tables = {m: metric_rows(actual[..., cols], p[..., cols], scale[:, cols]) for m, p in forecasts}
        return {m: np.stack([_group_mean(t[k], f, K) for k in METRIC_NAMES], 1) for m, t in tables.items()}
    T = actual.shape[-1]
    return (fold_means(slice(None)), np.bincount(f, minlength=K),
            [fold_means(slice(j, j + 1)) for j in range(T)] if T > 1 else [])


def _levels(cfg) -> list[float]:
    """The quantile levels ``predict`` shows: a quantile run's, a likelihood's reported ones; none for points."""
    qs = check_quantiles(cfg.quantiles)
    return Output(cfg.likelihood or "quantile", qs).levels if qs or cfg.likelihood else []


def _probabilistic(ser: _Series, cuts: np.ndarray, quantiles: np.ndarray, scored: np.ndarray, H: int,
                   levels: list[float], likelihood: bool) -> list[dict[str, float]]:
    """Per fold, :func:`~lstmkit.tasks.forecast.probabilistic.probabilistic_metrics` of the quantiles
    ``predict`` showed (``quantiles [K, S, H, T * Q]``, within the run's bounds) against the points after each
    scored series' cut, pooled over them as ``evaluate`` pools its test points; none for point forecasts. A
    likelihood's CRPS is left out: its distribution is not kept, and over its few levels it would be another
    measure than ``evaluate``'s."""
    if not levels:
        return []
    out = []
    for k in range(len(cuts)):
        s = np.flatnonzero(scored[k])
        if not len(s):
            out.append({})
            continue
        actual = ser.values[(ser.starts[s] + cuts[k, s])[:, None] + np.arange(H)]     # [R, H, T]
        q = quantiles[k, s].reshape(*actual.shape, len(levels))                     # [R, H, T, Q]
        seen = np.isfinite(actual)                      # pooled over the points observed (a --fill run's gaps: none)
        if not seen.any():
            out.append({})
            continue
        m = probabilistic_metrics("quantile", q[seen][:, None], actual[seen][:, None], levels)
        if likelihood:
            m.pop("CRPS")
        out.append(m)
    return out


def _group_mean(values: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """``[n]``: the mean of each group's finite values (NaN where it has none), as :func:`_mean`."""
    ok = np.isfinite(values)
    total = np.bincount(group[ok], weights=values[ok], minlength=n)
    count = np.bincount(group[ok], minlength=n)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _mase_scales(ser: _Series, starts: np.ndarray, cuts: np.ndarray, season: int) -> np.ndarray:
    """``[S', T]``: :func:`~lstmkit.tasks.forecast.metrics.mase_scale` of each ``values[start:start + cut]``
    (lag ``season``, or 1 when the part has no more than ``season`` points), by running sums."""
    out = np.empty((len(starts), ser.values.shape[1]))
    lags = np.where(cuts > season, season, 1)
    for lag in np.unique(lags):
        pick = lags == lag
        a, b = starts[pick] + lag, starts[pick] + cuts[pick]
        total, n_seen, n_inf, level = (s[b] - s[a] for s in ser.running(int(lag)))
        total = np.where(total <= ZERO_SCALE * level, 0.0, total)     # a part that repeats itself (mase_scale)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[pick] = np.where(n_seen == 0, np.nan, np.where(n_inf > 0, np.inf, total / n_seen))
    return out


def _history(frame, ser: _Series, cuts: np.ndarray, targets, ahead: int) -> pd.DataFrame:
    """Rows before each series' cut (``cuts [S]``: points before it), plus ``ahead`` rows with the
    target blanked (they carry the future covariates and times of the horizon)."""
    pos, cut = ser.positions(), np.repeat(cuts, ser.lengths)
    keep = pos < cut + ahead
    out = frame.loc[keep].drop(columns="__id").reset_index(drop=True)        # a new frame
    if ahead:
        blank = (pos >= cut)[keep]
        if all(out[t].dtype == np.float64 for t in targets):    # each column's array blanked: .loc's setitem was
            for t in targets:                                   # a quarter of a single series' fixed backtest
                values = out[t].to_numpy(copy=True)
                values[blank] = np.nan
                out[t] = values
        else:                                                   # integers become floats, a nullable column's NA
            out.loc[blank, targets] = np.nan
    return out


KEPT_FOLDS = "backtest.folds.json"     # a refit backtest's finished folds, kept as each ends
_SHOWN = ("progress", "tensorboard", "doctor")


class _Kept:
    """The finished folds of a refit backtest in ``out``, kept as each ends (their forecasts, which
    series they cover, their season), under a key of everything they rest on: the settings, the data
    as read, the folds and the step. The same backtest run again with that ``out`` continues after
    them; a file of another backtest is set aside with a warning."""

    def __init__(self, out: str | Path, cfg, frame: pd.DataFrame, folds: int, step: int) -> None:
        self.path = Path(out) / KEPT_FOLDS
        settings = cfg.to_dict()
        for shown in _SHOWN:     # how the folds' training shows, not what it computes: a resume may change them
            settings["train"].pop(shown, None)
        self.key = hashlib.sha256(to_json({"config": settings, "data": fingerprint(frame), "folds": folds,
                                           "step": step}, sort_keys=True).encode()).hexdigest()
        self.folds: dict[str, dict[str, Any]] = {}
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):     # not ours, or damaged: set aside
            record = None
        if isinstance(record, dict) and record.get("key") == self.key and isinstance(record.get("folds"), dict):
            self.folds = record["folds"]
        else:
            warnings.warn(f"{self.path} holds the folds of another backtest (other settings, data, folds or step): "
                          "they are not reused, and this backtest's folds replace them",
                          UserWarning, stacklevel=callers_level())

    def restore(self, k: int, forecasts: np.ndarray, present: np.ndarray, seasons: np.ndarray) -> bool:
        """Fold ``k``'s kept results into the arrays; False when it is not kept (or not readable)."""
        fold = self.folds.get(str(k))
        try:
            values = np.asarray(fold["forecasts"], dtype=np.float64)      # type: ignore[index]
            covered = np.asarray(fold["present"], dtype=bool)             # type: ignore[index]
            season = int(fold["season"])                                  # type: ignore[index]
        except (TypeError, KeyError, ValueError):
            return False
        if values.shape != forecasts[k].shape or covered.shape != present[k].shape:
            return False
        forecasts[k], present[k], seasons[k] = values, covered, season
        return True

    def save(self, k: int, forecasts: np.ndarray, present: np.ndarray, season: int) -> None:
        self.folds[str(k)] = {"forecasts": forecasts.tolist(), "present": present.tolist(), "season": season}
        write_json(self.path, {"key": self.key, "folds": self.folds})

    def after(self, k: int) -> str | None:
        """What Ctrl-C in fold ``k``'s training leaves, when folds before it are kept."""
        if not self.folds:
            return None
        done = sorted(int(f) + 1 for f in self.folds)
        said = f"fold {done[0]}'s forecasts are" if len(done) == 1 else \
            f"the forecasts of folds {', '.join(map(str, done))} are"
        out = self.path.parent
        return (f"{said} kept in {self.path} — " +
                worded(f"run the same command with --out {out} to continue from fold {k + 1}",
                       f"backtest(..., out={str(out)!r}) again continues from fold {k + 1}"))


def _train(estimator: type, cfg, history: pd.DataFrame, what: str, kept: str | None = None):
    """A model of class ``estimator`` with the settings ``cfg`` trained on ``history`` with no test
    part (the fold is the test): one series split by fractions keeps its validation fraction,
    otherwise the validation part is as set. Ctrl-C or SIGTERM is a KeyboardInterrupt saying
    ``what`` was training: a fold's model keeps no run folder (the CLI said 'Continue with:
    lstmkit <task> train'); ``kept`` says what folds before it are kept, and how to go on."""
    from lstmkit.tasks.forecast.windows import uses_fractions
    cfg = copy.deepcopy(cfg)
    if uses_fractions(cfg):
        cfg.test_frac = 0.0
    else:
        cfg.test_size = 0
    try:
        return estimator(cfg).fit(history)
    except TrainingInterrupted:
        raise KeyboardInterrupt(f"while training {what}; " + (kept or "no fold model is kept, nothing was "
                                                               "written — run the command again")) from None


def _forecast_by_series(pred: pd.DataFrame, cfg, id_col,
                        levels: list[float] | tuple = ()) -> dict[str, np.ndarray]:
    """``{series id: [H, C]}`` of predict's frame ``pred``, each series by step: each target's point
    forecast, then its quantile columns at ``levels`` (target by target), as :func:`fold_forecasts` gives them."""
    cols = [*cfg.target, *(quantile_column(t, level) for t in cfg.target for level in levels)]
    key = cfg.id or ("id" if cfg.format == "m4" else None)
    step = "horizon_step" if "horizon_step" in pred.columns else "step"     # a time column named step: its own
    if key is None or key not in pred.columns:
        return {"series": pred.sort_values(step)[cols].to_numpy(dtype=np.float64)}
    # one sort and one split, not a sort a series: 5,000 series took 9 s a fold in pandas' groupby
    codes, keys = pd.factorize(pred[key], sort=False)
    by_step = pred[step].argsort(kind="stable").to_numpy()             # pandas': times with a zone too
    order = by_step[np.argsort(codes[by_step], kind="stable")]           # by series, each by step
    order = order[codes[order] >= 0]                                      # a missing id, as groupby drops it
    values = pred[cols].to_numpy(dtype=np.float64)[order]
    ends = np.cumsum(np.bincount(codes[order], minlength=len(keys)))
    return {str(k): v for k, v in zip(keys, np.split(values, ends[:-1]))}


def _mean(a) -> float:
    a = np.asarray(a, dtype=float)
    ok = np.isfinite(a)
    return float(a[ok].mean()) if ok.any() else float("nan")
