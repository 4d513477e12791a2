"""The forecasting pipeline behind :class:`~lstmkit.tasks.forecast.estimator.Forecaster`.

One path for one series and for many: the data is read into a
:class:`~lstmkit.tasks.forecast.panel.Panel` (a single series is a panel of one), each series
is scaled by its own train part (optionally in logs and seasonally adjusted first), and one
:class:`~lstmkit.tasks.forecast.model.ForecastNet` is trained over windows drawn from every series
(:mod:`lstmkit.tasks.forecast.windows`).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from lstmkit.data.arrays import plain_array
from lstmkit.data.ranges import range_state
from lstmkit.data.scaling import Scaler
from lstmkit.data.same_data import piped, source_path
from lstmkit.errors import LstmkitError, callers_level, first_of, opt, percent, worded
from lstmkit.nn.zoo import tcn_blocks_for, tcn_reach
from lstmkit.tasks.forecast.ahead import AheadForecast
from lstmkit.tasks.forecast.bounds import Limits, bounds_record, loaded_record, recorded_bounds
from lstmkit.tasks.forecast.checks import check_blend_series
from lstmkit.tasks.forecast.baselines import infer_season, steps_per_day, zero_histories
from lstmkit.tasks.forecast.columns import FROM_INDEX, check_dates_given
from lstmkit.tasks.forecast.combine import (GIVEN, active_combination, baseline_instead, blend_instead, blend_name,
                                            choose_combination, combine_windows, mix_words, shares)
from lstmkit.tasks.forecast.data import load_table, plain_data
from lstmkit.tasks.forecast.ensemble import SeedEnsemble, ensemble_loss
from lstmkit.tasks.forecast.evaluation import answer_score, baseline_comparison, panel_metrics, panel_plots
from lstmkit.tasks.forecast.forecast_table import TEST_FORECASTS, keeps_table, write_csv
from lstmkit.tasks.forecast.intervals import OWN, TURNED_OFF, fit_record, fitted_levels
from lstmkit.tasks.forecast.model import ForecastNet
from lstmkit.tasks.forecast.panel import Panel, read_panel
from lstmkit.tasks.forecast.probabilistic import make_output, quantiles_of, unscale
from lstmkit.tasks.forecast.scalers import (PanelScaler, check_season_measured, say_covariates_far_outside,
                                            say_far_outside, seasonal_profile)
from lstmkit.tasks.forecast.times import check_date_system, check_same_step, missing_steps, run_step, time_text
from lstmkit.tasks.forecast.use_warnings import say_left_out
from lstmkit.train.findings import scaling_evidence
from lstmkit.train.memory import built_within_memory, check_batch_fits
from lstmkit.tasks.forecast.windows import (EVAL_BATCH, PanelBatches, fractions, min_points, part_sizes, split_panel,
                                            uses_fractions)

__all__ = ["PanelPipeline", "EVAL_BATCH", "panel_season", "panel_week"]


def panel_season(panel: Panel, cfg) -> int:
    """The seasonal period of a run: ``--season``, else the panel's time frequency (that of its
    first series with regular steps, or of the grid the first series skips steps of; 1 when unknown)."""
    if cfg.season:
        return cfg.season
    first_time = _regular_time(panel)
    return 1 if first_time is None else infer_season(first_time, int(panel.lengths[0]))


def panel_week(panel: Panel, season: int) -> int:
    """The steps of a week when ``season`` is the day of steps shorter than a day (hourly data: 168,
    half-hourly: 336), the second season such data repeat by; else 0."""
    first_time = _regular_time(panel)
    return 7 * season if season > 1 and first_time is not None and steps_per_day(first_time) == season else 0


def _regular_time(panel: Panel) -> pd.DatetimeIndex | None:
    """The dates of the panel's first series on its regular grid (:func:`panel_season`), or None (no dates)."""
    first_time = panel.series_time(0)
    if not isinstance(first_time, pd.DatetimeIndex):
        return None
    if panel.freq is not None:                # regular in a later series when the first skips steps
        first_time = pd.DatetimeIndex(first_time, freq=None).to_series().asfreq(panel.freq).index
    elif (grid := missing_steps(np.asarray(first_time))) is not None:     # every series skips steps (read
        first_time = pd.DatetimeIndex(grid)   # as they are, with a warning): hourly data is still hourly
    return first_time


def _say_short_reach(cfg) -> None:
    """A warning when a ``tcn``'s last step, which summarises the window, reads less than the window:
    its blocks are added up to a reach of 64 steps only (``--num-layers`` is their least number), so the
    oldest steps of a longer lookback (its encoder steps: segments, with ``--segment``) went unread."""
    if cfg.model != "tcn":
        return
    steps = cfg.lookback // cfg.segment if cfg.segment else cfg.lookback
    reach = tcn_reach(cfg.num_layers)
    if reach < steps:
        import warnings
        unit = f"segments of {cfg.segment}" if cfg.segment else "steps"
        warnings.warn(f"{opt('model', 'tcn')} with {opt('lookback', cfg.lookback)}: the forecast reads only the "
                      f"newest {reach} of the window's {steps} {unit} (the receptive field of its dilated "
                      f"convolutions); pass {opt('num_layers', tcn_blocks_for(steps))} to read the whole window",
                      UserWarning, stacklevel=callers_level())


def _say_one_window_validation(panel: Panel, cfg) -> None:
    """A warning when ``--test-size`` on one series (``--val-size`` not given) leaves the validation part
    one horizon long, as the split rule makes the part not given, while the series holds the default
    fraction's validation part too: early stopping and the blend's weights are then chosen on one window
    (session 57, held out: woolyrnq 1.06 x seasonal naive instead of 0.99, ausbeer 1.09 x ETS instead of
    0.95). Warned, not floored: the size the call gave is kept, and the rule that every run trained so
    reads its parts by (a resume, an update, a backtest) stays one rule."""
    if len(panel.ids) != 1 or cfg.id is not None or cfg.test_size is None or cfg.val_size is not None:
        return
    n = int(panel.lengths[0])
    _, n_val, n_test = part_sizes(n, cfg)
    share = fractions(cfg)[0]               # the default fraction (a given one is refused beside a size)
    wider = round(n * share)
    if n_val != cfg.horizon or wider <= n_val or n - wider - n_test < cfg.lookback + cfg.horizon:
        return
    import warnings
    warnings.warn(f"{opt('test_size', cfg.test_size)} on one series leaves its validation part one horizon, "
                  f"{n_val} point{'s' * (n_val != 1)} (one window): early stopping and the blend's weights are "
                  f"chosen on that one window; pass {opt('val_size', wider)} ({percent(share)} of its {n} "
                  "points, as the default split makes it) to choose them on more", UserWarning,
                  stacklevel=callers_level())


def _say_flat_training(panel: Panel, cfg) -> None:
    """A warning when the training part of every series is one value throughout (a product before its
    launch, a sensor stuck before the validation part): every training window is the same, so the
    network learns nothing, and the doctor and the test metrics judge a model that never saw the
    series move. Of several targets, one such target while the others move is warned of by name."""
    moved, parts = np.zeros(len(cfg.target), dtype=bool), []
    for s in range(len(panel.ids)):
        train = panel.values[panel.rows(s)][:part_sizes(int(panel.lengths[s]), cfg)[0]]
        if not np.isfinite(train).any():
            continue
        moved |= np.nanmax(train, 0) > np.nanmin(train, 0)             # [T]
        parts.append((s, train))
    if not parts or moved.all():
        return
    import warnings
    s, train = parts[0]
    j = int(np.argmin(moved))                                           # the first target held still
    value = float(np.nanmin(train[:, j]))
    if moved.any():               # one target of several held still: the others hid it
        still = [t for t, m in zip(cfg.target, moved) if not m]
        where = "the training part" if len(panel.ids) == 1 else f"every series' training part (e.g. {panel.ids[s]!r}'s)"
        warnings.warn(f"target {still[0]!r} is {value:g} throughout {where}, {len(train)} points"
                      + (f" (and {first_of(still[1:], show=repr)} too)" if len(still) > 1 else "")
                      + ": the network learns nothing of it, and its forecasts are the network's offset from that "
                      "value, not the value -- forecast it on its own, or train on history in which it moves",
                      UserWarning, stacklevel=callers_level())
        return
    n = len(train)
    which = "the training part" if len(panel.ids) == 1 else f"every series' training part (e.g. {panel.ids[s]!r}'s)"
    # the parts that hold what the training part lacks, by the options that size them: a table with ids
    # was told 'a smaller --val-frac and --test-frac', which split one series only
    n_val, n_test = part_sizes(int(panel.lengths[s]), cfg)[1:]
    keys = ("val_frac", "test_frac") if uses_fractions(cfg) else ("val_size", "test_size")
    tail = [(opt(k), n_part) for k, n_part in zip(keys, (n_val, n_test)) if n_part]
    more = (f", or give the training part more of it with a smaller {' and '.join(k for k, _ in tail)} (now "
            f"{' and '.join(str(v) for _, v in tail)} point{'s' * (tail[-1][1] != 1)}"
            f"{'' if uses_fractions(cfg) else ' per series'})") if tail else ""
    warnings.warn(f"{which} is {value:g} throughout its {n} points: every training window is the same, so the "
                  f"network has nothing to learn from it — train on history in which the series moves (a product "
                  f"launch: from the launch on){more}", UserWarning, stacklevel=callers_level())


def _say_flat_covariates(train: np.ndarray, names: list[str], n_past: int, cfg) -> None:
    """A warning for the covariates (``train [rows, C]``: past ones, then the user's future ones, on
    every series' training rows) that hold one value throughout training: the network cannot learn
    what they do, and reads any other value given later (a price changed after training) far outside
    what it saw."""
    flat = [j for j in range(train.shape[1]) if len(train) and np.ptp(train[:, j]) == 0]
    if not flat:
        return
    import warnings
    j = flat[0]
    role = "future_covariates" if j >= n_past else "features" if names[j] in cfg.features else "past_covariates"
    more = f" (and {first_of([names[k] for k in flat[1:]], 3, repr)})" if len(flat) > 1 else ""
    warnings.warn(f"covariate {names[j]!r}{more} is {train[0, j]:g} in every training row: the model cannot learn what "
                  "it does, and reads any other value of it, given to predict, as one it never saw — drop it from "
                  f"{opt(role)}, or train on history in which it varies", UserWarning, stacklevel=callers_level())


def _largest_trained(panel: Panel, cfg) -> float | None:
    """The largest absolute target value of the series' training parts (None: none finite)."""
    parts = [panel.values[panel.rows(s)][:part_sizes(int(panel.lengths[s]), cfg)[0]] for s in range(len(panel.ids))]
    values = np.abs(np.concatenate(parts))
    return float(np.nanmax(values)) if np.isfinite(values).any() else None


def _check_id_embedding(cfg, panel) -> None:
    """``id_embedding`` learns a vector per series to tell them apart: on one series (the data's only one, or
    the only one long enough to train on) it was a constant input, added without a word."""
    if not cfg.id_embedding or len(panel.ids) != 1:
        return
    others = len(panel.skipped)
    found = (f"one series long enough to train on ({others} other{'s' if others > 1 else ''} too short, skipped)"
             if others else f"one series ({panel.ids[0]!r} in its {opt('id')} column)" if cfg.id else "one series")
    raise LstmkitError(f"{opt('id_embedding', cfg.id_embedding)} learns a vector per series to tell them apart, and "
                       f"the data has {found}: it would be a constant input",
                       f"drop {opt('id_embedding')}" + (" (or give the short series more history)" if others else
                                                        f": it is for a table of several series ({opt('id')} COLUMN)"))


_DRAW_BYTES = 48        # bytes an epoch's draw holds per window at its peak (PanelBatches.__iter__'s index tensors)


def _check_epoch_draw(samples: int | None, n_windows: int) -> None:
    """An epoch draws its ``samples`` windows' indices at once: --samples-per-epoch 1e12 asked torch for
    thousands of GB, exit 1 with 'use a smaller model or --batch-size' and a run folder left behind."""
    if not samples:
        return
    from lstmkit.memory import memory_limit, size_text
    total, _, where = memory_limit(torch.device("cpu"))
    if samples * _DRAW_BYTES > total:
        raise LstmkitError(f"{opt('samples_per_epoch', samples)} draws {samples:,} windows an epoch, whose indices "
                           f"alone need about {size_text(samples * _DRAW_BYTES)}, more than the {size_text(total)} of "
                           f"{where}", f"pass {opt('samples_per_epoch', 51200)}, say (the training part holds "
                           f"{n_windows:,} windows), or 0 to read each window once an epoch")


class PanelPipeline(AheadForecast):
    """Fitting, scaling, forecasting and persistence of the one pipeline (mixed into Forecaster);
    the forecast after the data's end is :class:`~lstmkit.tasks.forecast.ahead.AheadForecast`'s."""

    # -- fitting ----------------------------------------------------------------------------
    def _fit_panel(self, data, cfg, *, source, out=None, run_dir=None, resume: bool = False, callbacks=()):
        """Fit on ``data``; ``source`` is what the data summary names: the file that ``data``, its
        table read once, came from (or ``data`` itself, given in memory)."""
        # a run started before calendar features read the local clock (no calendar_clock in the data it
        # recorded) resumes on the clock its checkpoint was trained on: UTC
        started = getattr(self, "_resumed_data_", None) if resume else None
        legacy = started if started and started.get("time_zone") and "calendar_clock" not in started else None
        with self._reading_resumed(run_dir if resume else None, {"source": source}, load_table):
            panel = read_panel(data, cfg, need=min_points(cfg), run=legacy, bounds=cfg.bounds)  # a --target renamed: told so
        if not resume:                            # a run that began so goes on as it began
            _check_id_embedding(cfg, panel)
        check_blend_series(cfg, len(panel.ids))        # before training: the blend is weighed on one series
        check_date_system(cfg.dates, panel.time_info.get("dates"))     # a workbook's serial days, the other system
        if panel.time_info.get("dates") and not cfg.dates:     # the order of day and month found: predict reads so
            cfg = dataclasses.replace(cfg, dates=panel.time_info["dates"])
        self.config_ = cfg
        self.combination_ = None                  # chosen on validation once trained (combine.py)
        self.intervals_ = None                    # fitted on validation once trained (intervals.py)
        self.quantization_, self.engine_, self.lineage_ = None, None, []   # a loaded run's (int8, updates): not these weights
        self.series_ids_ = list(panel.ids)
        # given bounds hold for all the data (read_panel); without them a target never below 0 in a series'
        # training part forecasts no less than 0 (bounds.py): the validation and test parts are not read
        # for that choice, as no other choice reads them
        trained = np.array([part_sizes(int(n), cfg)[0] for n in panel.lengths], dtype=np.int64)
        self.bounds_ = bounds_record(panel.values, panel.starts, panel.starts + trained, self.series_ids_, cfg.target,
                                     cfg.bounds)
        self.season_ = panel_season(panel, cfg)
        profiles = self._profiles(panel)
        if profiles is not None:
            check_season_measured([part_sizes(int(n), cfg)[0] for n in panel.lengths], panel.ids, cfg.deseason)
        self._fit_scalers(panel, cfg, profiles)
        arrays = self._panel_arrays(panel, profiles)
        splits = split_panel(panel, cfg)       # each series kept has min_points: one training window at least
        self.data_summary_ = {**panel.summary(), "source": source_path(source), **piped(source=source),
                              "id": cfg.id, "time": cfg.time, "format": cfg.format,
                              "windows": {k: int(len(v[0])) for k, v in splits.items()}}
        width = _array_width(source)
        if width is not None:                     # read by position: predict refuses another width
            self.data_summary_["array_columns"] = width
        if panel.is_datetime and legacy is None:  # calendar features on the local clock (runs before: UTC)
            self.data_summary_["calendar_clock"] = "local"
        if len(panel.ids) == 1:                   # one series: its points per part, as before
            self.data_summary_["split"] = dict(zip(("train", "val", "test"), part_sizes(int(panel.lengths[0]), cfg)))
        # an update must read newer points (deploy.py): the newest of all (of many series, by dates: their step
        # numbers may count each from its own start, as an M4 file's do), and each series' own, as series end at
        # different times
        if panel.times is not None and len(panel.times) and (len(panel.ids) == 1 or panel.is_datetime):
            self.data_summary_["end"] = time_text(panel.times[panel.starts + panel.lengths - 1].max())
            # where the test part begins (of many series, the earliest): a backtest of this run whose folds
            # forecast points before it scores the model on points it trained or early-stopped on (backtest.py)
            scored = [int(panel.starts[s]) + sum(part_sizes(int(n), cfg)[:2]) for s, n in enumerate(panel.lengths)
                      if part_sizes(int(n), cfg)[2] > 0]
            if scored:
                self.data_summary_["test_from"] = time_text(panel.times[scored].min())
        if panel.times is not None and len(panel.times) and len(panel.ids) > 1:   # and each series' own newest time
            self.data_summary_["ends"] = panel.ends(range(len(panel.ids)))
        if panel.skipped:
            import warnings
            warnings.warn(f"{len(panel.skipped)} series skipped (fewer than {min_points(cfg)} points), "
                          f"e.g. {panel.skipped[0]['id']!r}; listed in the data summary and metrics.json",
                          UserWarning, stacklevel=callers_level())
        _say_flat_training(panel, cfg)
        _say_short_reach(cfg)
        if not resume:                            # said when the run began
            _say_one_window_validation(panel, cfg)
        torch.manual_seed(cfg.train.seed)
        self.output_ = make_output(cfg)
        self.net_ = built_within_memory(lambda: self._build_net(cfg, len(panel.ids)), cfg.train.device, cfg,
                                        ("hidden_size", "num_layers", "ensemble", "highway_hidden"))
        X, Y, Fut = arrays["inputs"], arrays["targets"], arrays["future"]
        mk = lambda part, bs, sh, n=None: PanelBatches(X, Y, Fut, *splits[part], cfg.lookback, cfg.horizon, bs, sh, n)
        val = mk("val", EVAL_BATCH, False) if len(splits["val"][0]) else None
        train = mk("train", cfg.train.batch_size, True, cfg.samples_per_epoch or None)     # 0: every window
        _check_epoch_draw(cfg.samples_per_epoch, len(splits["train"][0]))
        check_batch_fits(self.net_, lambda n: next(iter(mk("train", n, False)))[0], 2,     # the first windows
                         min(cfg.train.batch_size, train.n_samples), cfg.train.device,
                         lambda most: f"pass {opt('batch_size', most)} or less, or a shorter {opt('lookback')} "
                                      f"({cfg.lookback})")
        tables = {}
        if keeps_table(len(splits["test"][0]), cfg.horizon, len(cfg.target)):
            tables[TEST_FORECASTS] = None        # panel_metrics puts the test forecasts' table there
        made: dict[str, np.ndarray] = {}

        def val_raw() -> np.ndarray:
            # the doctor's comparison with the baselines, the choice of a blend and the interval calibration read
            # the trained network's forecasts of the same validation windows: made once (each pass is as long as
            # an epoch's validation, of every member of a seed ensemble); the calibration fits on them as the
            # network answers, the others read them within the run's bounds
            if "raw" not in made:
                made["raw"] = self._forecast_windows(arrays, *splits["val"], self._series_index(panel), bounded=False)
            return made["raw"]

        def val_forecasts() -> np.ndarray:
            if "val" not in made:
                raw = val_raw()
                made["val"] = self._bounded(raw, [panel.ids[k] for k in splits["val"][1].numpy()]) if len(raw) else raw
            return made["val"]

        def combined() -> None:   # the blend the run answers with: chosen once, for the doctor or the metrics
            if "blend" not in made:
                self._choose_combination(panel, arrays, splits["val"], val_forecasts)
                made["blend"] = np.zeros(0)

        def evidence(net):       # for the doctor: does the model beat the baselines on validation? scaled targets?
            net.to("cpu").eval()
            unscaled = {} if cfg.scaler != "none" else scaling_evidence("targets", _largest_trained(panel, cfg))
            instead = baseline_instead(self, panel)      # in the call's words, before the blend is chosen
            # the network's forecasts (val_forecasts, made before a blend is chosen) beside the baselines', and
            # the blend's, where the run answers with one: ausbeer's 'does not beat ETS' (the network 0.851) was
            # said of a run whose forecast was 0.97 x ETS (session 57)
            combined()
            cmp = baseline_comparison(self, panel, arrays, splits["val"], val_forecasts)
            if cmp:
                cmp = {**cmp, "instead": {**instead, **blend_instead(self)},
                       **self._answer_evidence(panel, arrays, splits["val"], val_forecasts, cmp["metric"])}
            return {"baselines": cmp, **unscaled}

        def metrics():
            combined()
            self._fit_intervals(panel, arrays, splits["val"], val_raw)
            metrics, tables["per_series"] = panel_metrics(self, panel, arrays, splits["test"], kept=tables)
            self._metric_tables = {"metrics_per_series.csv": tables["per_series"],      # written by save()
                                   "metrics_per_target.csv": tables.get("per_target"),
                                   TEST_FORECASTS: tables.get(TEST_FORECASTS)}
            return metrics

        def plots(run_dir: Path) -> None:
            panel_plots(self, run_dir, panel, arrays, splits["test"], tables.pop("test_params", None),
                        (self.metrics_ or {}).get("worst"), blend_name(self))

        loss = ensemble_loss(self.output_.loss, cfg.ensemble) if (cfg.ensemble or 1) > 1 else self.output_.loss
        return self._train_and_save(cfg.train, train, val, loss_fn=loss, out=out, run_dir=run_dir,
                                    resume=resume, callbacks=callbacks, metrics=metrics, plots=plots,
                                    evidence=evidence, data={"data": source},
                                    tables={"source": data} if isinstance(data, pd.DataFrame) else None)

    def _answer_evidence(self, panel: Panel, arrays, val, forecasts, metric: str) -> dict[str, Any]:
        """``{"answer": {"name", "score", "network_share"}}`` for the doctor where the run answers with a blend
        (:func:`~lstmkit.tasks.forecast.combine.active_combination`): the blend in words and its ``metric`` on the
        validation windows ``val`` (``forecasts()``: the network's, made once); ``{}`` for the network alone."""
        c = active_combination(self)
        if c is None:
            return {}
        blended = combine_windows(self, forecasts(), panel, *val)
        return {"answer": {"name": mix_words({"network": c["weight"], **shares(c)}),
                           "score": answer_score(self, panel, arrays, val, blended, metric),
                           "network_share": float(c["weight"])}}

    def _choose_combination(self, panel: Panel, arrays, val, forecasts=None) -> None:
        """``combination_`` (and ``config_.combine``, ``auto_["combine"]``) from the validation windows
        (``forecasts()``: the network's, made once), unless the run forecasts with its network alone (``combine`` none)."""
        if self.config_.combine == "none":
            return
        given = self.config_.combine is not None      # a baseline the call named: its weight alone is chosen
        self.combination_, record = choose_combination(self, panel, arrays, val, forecasts)
        self.config_ = dataclasses.replace(self.config_, combine=record["value"])
        # a resume chooses again what the call left to validation, and keeps a baseline the call named
        self.auto_ = {**getattr(self, "auto_", {}), "combine": {**record, GIVEN: True} if given else record}

    def _fit_intervals(self, panel: Panel, arrays, val, forecasts=None) -> None:
        """``intervals_`` (and ``config_.calibrate_intervals``, ``auto_["calibrate_intervals"]``): the split-conformal
        calibration of a probabilistic run's central intervals on the validation windows (intervals.py), fitted
        on the network's forecasts once training has stopped; None for point forecasts, or turned off.
        ``forecasts()``: the network's unbounded forecasts of ``val``, made once for the fit's other readers."""
        cfg = self.config_
        self.intervals_ = None
        if self.output_.kind == "point":
            return
        given = cfg.calibrate_intervals is not None
        if cfg.calibrate_intervals is False:
            record = {"value": False, TURNED_OFF: True,
                      "why": "turned off " + worded("(--no-calibrate-intervals)", "(calibrate_intervals=False)")}
        else:
            self.intervals_, why = self._interval_record(panel, arrays, *val, params=forecasts and forecasts())
            record = {"value": self.intervals_ is not None, "why": why}
        # the call's word where it gave one (True kept though too few points were fitted: a resume read a False
        # here as the call's, 'turned off'), else what was chosen; a resume fits it again, and keeps what the
        # call said
        kept = cfg.calibrate_intervals if given else record["value"]
        self.config_ = dataclasses.replace(cfg, calibrate_intervals=kept)
        self.auto_ = {**getattr(self, "auto_", {}), "calibrate_intervals": {**record, GIVEN: True} if given else record}

    def _interval_record(self, panel: Panel, arrays, rows: torch.Tensor, series: torch.Tensor, net=None,
                         part: str = "validation", params=None) -> tuple[dict[str, Any] | None, str]:
        """The interval calibration (intervals.py) fitted on the windows starting at ``rows`` of ``series``
        (indices into ``panel``) as ``net`` (default: the run's) forecasts them (``params``: those forecasts,
        unbounded, where made already), with the reason; ``part`` names those windows in it (the validation
        windows of a fit, an update's held-out ones)."""
        cfg, kind = self.config_, self.output_.kind
        levels = fitted_levels(kind, self.output_.levels)
        y = q = np.zeros((0, cfg.horizon, len(cfg.target)))
        if len(rows):
            if params is None:
                params = self._forecast_windows(arrays, rows, series, self._series_index(panel), net=net,
                                                bounded=False)
            y = panel.actual((rows.numpy() + cfg.lookback)[:, None] + np.arange(cfg.horizon)[None])
            q = quantiles_of(kind, params, levels)
        return fit_record(kind, levels, y, q, len(rows), part=part)

    def _build_net(self, cfg=None, n_series: int | None = None) -> ForecastNet | SeedEnsemble:
        """The network of ``cfg`` (default: the fitted config) for ``n_series`` series (default: the
        fitted ones): a :class:`SeedEnsemble` of ``ensemble`` such networks when that is above 1."""
        cfg = self.config_ if cfg is None else cfg
        k = cfg.ensemble or 1
        if k > 1:
            return SeedEnsemble([self._one_net(cfg, n_series) for _ in range(k)])
        return self._one_net(cfg, n_series)

    def _one_net(self, cfg, n_series: int | None) -> ForecastNet:
        n_series = len(self.series_ids_) if n_series is None else n_series
        T, P = len(cfg.target), self.n_past_
        return ForecastNet(T + P + self.n_future_, T, cfg.horizon, cfg.model, cfg.hidden_size, cfg.num_layers,
                           cfg.dropout, cfg.relative, cfg.head, output=self.output_, n_future=self.n_future_,
                           n_series=n_series + 1, strategy=cfg.strategy, id_embedding=cfg.id_embedding, n_past=P,
                           highway=cfg.highway, highway_hidden=cfg.highway_hidden, segment=cfg.segment)

    def _fit_scalers(self, panel: Panel, cfg, profiles) -> None:
        self.panel_scaler_ = PanelScaler(cfg.scaler, lag=self.season_)    # mase: the metric's seasonal scale
        self.panel_scaler_.targets = list(cfg.target)
        train_rows = []
        for s, sid in enumerate(panel.ids):
            n_train = part_sizes(int(panel.lengths[s]), cfg)[0]
            r = panel.rows(s)
            self.panel_scaler_.fit_one(sid, *self._scaler_input(panel.values[r][:n_train], panel, s, profiles))
            train_rows.append(np.arange(r.start, r.start + n_train))
        rows = np.concatenate(train_rows)
        n_user_future = len(cfg.future_covariates)
        cov = np.concatenate([panel.past, panel.future[:, :n_user_future]], 1)
        kind = "standard" if cfg.scaler == "mase" else cfg.scaler
        self.covariate_scaler_ = Scaler(kind).fit(cov[rows]) if cov.shape[1] else None
        self.covariate_range_ = range_state(cov[rows]) if cov.shape[1] else None    # what predict compares with
        _say_flat_covariates(cov[rows], [*panel.past_names, *cfg.future_covariates], panel.past.shape[1], cfg)
        self.n_past_, self.n_future_ = panel.past.shape[1], panel.future.shape[1]
        self.input_names_ = [*panel.target_names, *panel.past_names, *panel.future_names]   # model input order

    def _model_units(self, values: np.ndarray, panel: Panel, s: int | None = None) -> np.ndarray:
        """Target values as the network sees them before scaling: ``log(y)`` with ``--log``."""
        if not self.config_.log:
            return values
        bad = np.isfinite(values) & (values <= 0)
        if bad.any():
            row = int(np.argmax(bad.any(1)))
            if s is None:
                s = int(np.searchsorted(panel.starts, row, side="right") - 1)
                row -= int(panel.starts[s])
            raise LstmkitError(f"{opt('log', True)} needs positive targets, but series {panel.ids[s]!r} has "
                               f"{values[bad][0]:g} at its point {row + 1}",
                               f"a run with log targets ({worded('--log', 'log=True')}, given or chosen from the data) "
                               "takes positive series only: shift the series above zero, or train with "
                               f"{worded('--no-log', 'log=False')}")
        with np.errstate(invalid="ignore"):
            return np.log(values)

    def _profiles(self, panel: Panel, full: bool = False) -> list[np.ndarray] | None:
        """Seasonal indices ``[m, T]`` of each series in model units (``--deseason m``; None when
        off), from its training part -- or, for forecasting after its end, its whole history."""
        m = self.config_.deseason
        if not m:
            return None
        out = []
        for s in range(len(panel.ids)):
            n = int(panel.lengths[s]) if full else part_sizes(int(panel.lengths[s]), self.config_)[0]
            out.append(seasonal_profile(self._model_units(panel.values[panel.rows(s)][:n], panel, s), m))
        return out

    @staticmethod
    def _season_at(profile: np.ndarray, start: int, n: int) -> np.ndarray:
        """``[n, T]`` indices at series positions ``start .. start + n - 1`` (phase 0 = first value)."""
        return profile[(start + np.arange(n)) % len(profile)]

    def _adjusted(self, values: np.ndarray, panel: Panel, s: int, profile: np.ndarray | None) -> np.ndarray:
        """Model units of a series' values from its first point on, seasonal indices removed."""
        return self._without_season(self._model_units(values, panel, s), profile)

    @classmethod
    def _without_season(cls, v: np.ndarray, profile: np.ndarray | None) -> np.ndarray:
        return v if profile is None else v - cls._season_at(profile, 0, len(v))

    def _scaler_input(self, values: np.ndarray, panel: Panel, s: int, profiles) -> tuple[np.ndarray, np.ndarray]:
        """What the scaler of series ``s`` is fitted on: its values as the network sees them (model
        units, seasonal indices removed), and in model units before that adjustment."""
        v = self._model_units(values, panel, s)
        return self._without_season(v, profiles[s] if profiles else None), v

    def _original_units(self, params: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`_model_units` on point forecasts or quantiles (monotone, so exact). Outputs
        that overflow come back inf, and the caller says so once; numpy's overflow warnings are silenced."""
        if not self.config_.log:
            return params
        with np.errstate(over="ignore"):
            return np.exp(params)

    def _series_scale(self, panel: Panel, profiles=None, split: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``loc, scale [S, T]`` of each series (a series unseen in training: from its own history; ``split``,
        data whose test part is scored: from its training part, as a fit scales it, so no test value moves
        the forecasts scored against it)."""
        locs, scales = [], []
        fitted = self.panel_scaler_.params
        for s, sid in enumerate(panel.ids):
            if sid not in fitted:
                own = panel.values[panel.rows(s)]
                own = own[:part_sizes(len(own), self.config_)[0]] if split else own
                loc, sc = PanelScaler(self.panel_scaler_.kind, self.panel_scaler_.lag).fit_one(
                    sid, *self._scaler_input(own, panel, s, profiles)).params[sid]
            else:
                loc, sc = fitted[sid]        # lists of floats: one array of them all, not an array a series
            locs.append(loc), scales.append(sc)
        return np.asarray(locs), np.asarray(scales)

    def _scale_covariates(self, past: np.ndarray, future: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_user = len(self.config_.future_covariates)
        if self.covariate_scaler_ is None:
            return past, future
        cov = self.covariate_scaler_.transform(np.concatenate([past, future[:, :n_user]], 1))
        P = past.shape[1]
        return cov[:, :P], np.concatenate([cov[:, P:], future[:, n_user:]], 1)

    def _panel_arrays(self, panel: Panel, profiles=None, split: bool = False) -> dict[str, Any]:
        """Scaled model inputs of every row; ``profiles``: :meth:`_profiles` when already computed;
        ``split``: ``panel`` is split as in training to score its test part (:meth:`_series_scale`)."""
        profiles = profiles if profiles is not None else self._profiles(panel)
        loc, scale = self._series_scale(panel, profiles, split)
        per_row = np.repeat(np.arange(len(panel.ids)), panel.lengths)
        season = None if profiles is None else np.concatenate(
            [self._season_at(p, 0, int(n)) for p, n in zip(profiles, panel.lengths)])    # [rows, T]
        y = (self._model_units(panel.values, panel) - (0 if season is None else season) - loc[per_row]) / scale[per_row]
        past, fut = self._scale_covariates(panel.past, panel.future)
        inputs = np.concatenate([y, past, fut], 1)
        f32 = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
        return {"inputs": f32(inputs), "targets": f32(y), "future": f32(fut), "loc": loc, "scale": scale,
                "season": season, "panel": panel}

    def _series_index(self, panel: Panel) -> torch.Tensor:
        known = {sid: k for k, sid in enumerate(self.series_ids_)}
        unseen = len(self.series_ids_)
        return torch.tensor([known.get(sid, unseen) for sid in panel.ids], dtype=torch.long)

    # -- forecasting ------------------------------------------------------------------------
    def _window_limits(self, panel: Panel, series) -> Limits:
        """The bounds of the windows of series ``series`` (indices into ``panel``)."""
        return self._limits([panel.ids[k] for k in np.asarray(series)])

    def _say_windows_far_outside(self, arrays, rows: torch.Tensor, series: torch.Tensor) -> None:
        """One warning, as ``predict`` gives of its window, when the values the windows starting at ``rows``
        read (``evaluate``'s test windows: their targets, and covariates over the horizon too) lie far
        outside a series' training range: a test file in other units (thousands for units, cents for a
        price) was scored without a word, its metrics those of a network extrapolating."""
        cfg, panel = self.config_, arrays["panel"]
        r, s = rows.numpy(), series.numpy()
        order = np.argsort(s, kind="stable")                  # each series' first and last window: one pass
        keys, first = np.unique(s[order], return_index=True)
        lo, hi = (np.minimum.reduceat(r[order], first), np.maximum.reduceat(r[order], first)) if len(r) else ([], [])
        spans = [(int(k), int(a), int(b) + cfg.lookback) for k, a, b in zip(keys, lo, hi)]   # the rows they read
        ids = [panel.ids[k] for k, _, _ in spans]
        answer = "its test forecasts and the metrics scored on them"
        say_far_outside(self.panel_scaler_, ids, [arrays["targets"][a:b].numpy() for _, a, b in spans],
                        [panel.values[a:b] for _, a, b in spans], self._original_units, bool(cfg.deseason),
                        subject=lambda k: f"the {spans[k][2] - spans[k][1]} values the test windows read",
                        answer=answer)
        n_user = len(cfg.future_covariates)
        if self.n_past_ + n_user:
            T = len(cfg.target)
            cov = np.concatenate([panel.past, panel.future[:, :n_user]], 1)
            say_covariates_far_outside(getattr(self, "covariate_range_", None),
                                       [*self.input_names_[T:T + self.n_past_], *cfg.future_covariates], ids,
                                       [cov[a:b + cfg.horizon] for _, a, b in spans], answer)

    def _forecast_windows(self, arrays, rows: torch.Tensor, series: torch.Tensor, emb_index: torch.Tensor, net=None,
                          bounded: bool = True, widths=OWN):
        """Original-unit parameters of the windows starting at ``rows`` ([n, H, T(, P)]); ``net`` and ``widths`` as
        in :meth:`_forecast_ahead` (no net: ``net_`` with its own widths, read as one pair). ``bounded`` False: the
        network's own, without the run's interval calibration and bounds (what the calibration is fitted on)."""
        cfg = self.config_
        if net is None and widths is OWN:          # evaluate racing a kept update: one model's net and widths
            net, widths = self._answering()
        run = self._engine_run(net)
        batches = PanelBatches(arrays["inputs"], arrays["targets"], arrays["future"], rows, series,
                               cfg.lookback, cfg.horizon, EVAL_BATCH)
        outs = []
        with torch.inference_mode():
            for (x, fut, s), _ in batches:
                outs.append(run(x, fut, emb_index[s]))
        params = torch.cat(outs).numpy().astype(np.float64) if outs else np.zeros((0,))
        s = series.numpy()
        loc, scale = arrays["loc"][s][:, None], arrays["scale"][s][:, None]    # [n, 1, T]
        if arrays["season"] is not None:                                       # the indices at the targets
            loc = loc + arrays["season"][(rows.numpy() + cfg.lookback)[:, None] + np.arange(cfg.horizon)]
        params = self._original_units(unscale(self.output_.kind, params, loc, scale))
        params = combine_windows(self, params, arrays.get("panel"), rows, series)
        panel = arrays.get("panel")
        if panel is None or not len(params):
            return params
        # a window whose series was 0 up to its origin forecasts 0, as after the series' end (ahead.py)
        params = self._zero_histories(params, zero_histories(panel.values, panel.starts[s], rows.numpy() + cfg.lookback))
        if not bounded:
            return params
        return self._bounded_params(params, self._limits([panel.ids[k] for k in s]), widths)   # bounds.py

    @property
    def n_features_in_(self) -> int:
        """The values the model reads from the data at each step of a series: its targets, then its
        past covariates (``features``) and future covariates. Not the time or id column (they order
        and split the rows) nor the calendar features made from the time (``calendar``). scikit-learn's
        name; a 1-D series is one."""
        if "input_names_" not in vars(self):       # AttributeError: hasattr and scikit-learn read it as unfitted
            raise AttributeError(f"this {type(self).__name__} is not fitted yet, so it has no n_features_in_")
        return len(self.config_.target) + self.n_past_ + len(self.config_.future_covariates)

    @property
    def feature_names_in_(self) -> np.ndarray:
        """The columns behind :attr:`n_features_in_`, in that order (``[n_features_in_]``, object
        dtype). A forecaster reads its columns by name, also when fitted on an array: a 1-D array
        is the column ``y``, a 2-D one ``y0``, ``y1``, ... (so unlike scikit-learn's estimators it
        has the names then too). ``predict`` finds them by name in a table (other columns are
        left alone), by position in an array (another number of columns is an error)."""
        n = self.n_features_in_
        names = list(self.input_names_)[:n]
        if len(names) != n:                        # a run saved before the inputs were recorded: targets only
            raise AttributeError(f"this {type(self).__name__}'s run did not record its input columns")
        return np.asarray(names, dtype=object)

    def _check_array_width(self, data) -> None:
        """Refuse an array whose number of columns is not that of the array the model was fitted on
        (its columns ``y0``, ``y1``, ... are read by position): a third column was left out without a
        word, one fewer said only that column ``y1`` was missing. Runs saved before the width was
        recorded: fewer columns than the model's inputs are refused."""
        if isinstance(data, pd.DataFrame):           # a table: its columns are found by name
            return
        width = _array_width(data)
        names = list(self.input_names_)
        n = len(names)
        if width is None or (names != ["y"] and names != [f"y{j}" for j in range(n)]):
            return                                 # a table, or a model of named columns: found by name
        trained = (getattr(self, "data_summary_", None) or {}).get("array_columns")
        if width != trained and (trained is not None or width < n):
            trained = trained or n
            raise LstmkitError(f"the array has {width} column{'s' * (width != 1)}, the model was trained on one of "
                               f"{trained} (an array's columns are read by position; its inputs: {', '.join(names)})",
                               f"pass an array of {trained} column{'s' * (trained != 1)} in the training order, "
                               "or a table naming the columns")

    def _read_for_use(self, data, need: int | None = None, bounded: bool = False, split=False) -> Panel:
        """``data`` read for the fitted run's use (predict, evaluate, backtest, ...), refused
        when its rows step by another frequency than the training data's; ``bounded`` (an update,
        which trains on it): also when a target value lies outside the bounds the user gave the run
        (its record, ``bounds_``; the automatic floor refuses nothing); ``split`` (what scores the test
        part): its gaps filled part by part, as the fit filled them (``read_panel``'s ``by_part``, which
        an update gives the rows where its held-out points begin)."""
        cfg = self.config_
        self._check_array_width(data)
        if ((getattr(self, "auto_", None) or {}).get("time") or {}).get(FROM_INDEX):
            check_dates_given(data, cfg.time)
        panel = read_panel(self._as_own_series(data), cfg, need=need,
                           short_fix=f"supply at least {need} rows per series (the run's lookback {cfg.lookback} "
                           f"and horizon {cfg.horizon} are fixed when it is trained)",
                           run=getattr(self, "data_summary_", None) or {},
                           bounds=recorded_bounds(getattr(self, "bounds_", None)) if bounded else "auto",
                           fitting=False, by_part=split)
        trained = (getattr(self, "data_summary_", None) or {}).get("freq")
        # three weekdays in a row (pandas' 'D') are steps of a 'B' run, as the service reads them
        if panel.is_datetime:
            panel.freq = run_step(panel.freq, trained, [panel.times[panel.rows(s)] for s in range(len(panel.ids))])
        check_same_step(panel.freq, trained)
        say_left_out(panel.skipped, need)
        return panel

    def _as_own_series(self, data):
        """A bare series (a pandas Series, a 1-D array or list of values) as the target of a model
        whose one input is its one target, whatever its name: a model fitted on ``df["units"]``
        refused ``df["units"].to_numpy()``, a list or a renamed Series ("target column 'units' not
        found — available columns: y"), one fitted on an array a named Series; a one-column array
        (``y.reshape(-1, 1)``, ``[[v] for v in y]``) is the series too (it was the column ``y0``, not
        found in a model fitted on a 1-D series). Tables as they are."""
        names = list(self.input_names_)
        if len(names) != 1 or self.config_.id is not None:
            return data
        data = plain_array(plain_data(data))         # a tensor or masked array as its numpy array, pyarrow's as pandas'
        if isinstance(data, pd.Series):
            return data if data.name == names[0] else data.rename(names[0])
        if _array_width(data) == 1 and np.ndim(data) == 2:      # one column [N, 1], as scikit-learn's X holds one
            return pd.Series(np.asarray(data)[:, 0], name=names[0])
        flat = (isinstance(data, np.ndarray) and data.ndim == 1) or (
            isinstance(data, (list, tuple)) and not any(isinstance(v, (list, tuple, np.ndarray)) for v in data))
        return pd.Series(np.asarray(data), name=names[0]) if flat and names[0] != "y" else data

    # -- persistence ------------------------------------------------------------------------
    def _write_table(self, name: str, table, tmp) -> None:
        """The run's tables as :class:`~lstmkit.tasks._base.RunEstimator` writes them, the test forecasts
        (a row per series, origin, step and target) by pyarrow's writer, ten times pandas' speed."""
        if name == TEST_FORECASTS:
            write_csv(table, tmp)
        else:
            super()._write_table(name, table, tmp)

    def _pipeline_meta(self) -> dict[str, Any]:
        cfg = self.config_
        return {
            "preprocessing": {
                "panel_scaler": self.panel_scaler_.to_dict(),
                "covariate_scaler": self.covariate_scaler_.to_dict() if self.covariate_scaler_ is not None else None,
                **({"covariate_range": self.covariate_range_} if getattr(self, "covariate_range_", None) else {}),
                "series_ids": list(self.series_ids_),
                **({"bounds": self.bounds_} if getattr(self, "bounds_", None) else {}),
            },
            "model": {"class": "ForecastNet", "n_targets": len(cfg.target), "n_past": self.n_past_,
                      "n_future": self.n_future_, "n_series": len(self.series_ids_), "output": self.output_.kind,
                      # a point forecast has no levels (the output's [0.1, 0.5, 0.9] are a likelihood's defaults)
                      **({"levels": list(self.output_.levels)} if self.output_.kind != "point" else {}),
                      "inputs": list(self.input_names_),
                      "parameters": sum(p.numel() for p in self.net_.parameters())},
        }

    def _load_pipeline(self, meta: dict[str, Any]) -> None:
        pre, shapes = meta["preprocessing"], meta["model"]
        # the recorded config (load's _restored): the settings' fractions the call left unset are None, its own not
        cfg = getattr(self, "config_", None) or self.config
        self.config_ = cfg
        self.panel_scaler_ = PanelScaler.from_dict(pre["panel_scaler"])
        self.panel_scaler_.targets = list(cfg.target)
        self.covariate_scaler_ = Scaler.from_dict(pre["covariate_scaler"]) if pre.get("covariate_scaler") else None
        self.covariate_range_ = pre.get("covariate_range")    # a run saved before it has none: not compared
        self.series_ids_ = list(pre["series_ids"])
        self.bounds_ = loaded_record(pre.get("bounds"))      # a run saved before the floor at 0 has none
        self.n_past_, self.n_future_ = shapes["n_past"], shapes["n_future"]
        self.input_names_ = list(shapes.get("inputs") or cfg.target)
        self.season_ = meta["season"]
        self.data_summary_ = meta["data"]
        self.output_ = make_output(cfg)


def _array_width(data) -> int | None:
    """The columns of a numeric array or list of rows (1 for a 1-D one), as
    :func:`~lstmkit.tasks.forecast.data.load_table` reads it; None for anything else (a table, a
    file, ragged rows)."""
    data = plain_array(data)                       # a tensor, a masked array
    if not isinstance(data, (np.ndarray, list, tuple)):
        return None
    try:
        a = np.asarray(data)
    except ValueError:                             # ragged rows: load_table's error
        return None
    if a.dtype == object or a.ndim not in (1, 2):
        return None
    return 1 if a.ndim == 1 else int(a.shape[1])
