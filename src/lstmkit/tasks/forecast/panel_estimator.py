"""The many-series side of :class:`~lstmkit.tasks.forecast.estimator.Forecaster`.

A run is *global* (``ForecastConfig.is_global``) when it has an id column, M4 input, covariates,
quantiles, a likelihood, a strategy other than ``direct`` or fixed val/test sizes. Then one
:class:`~lstmkit.tasks.forecast.model.GlobalForecastNet` is trained over windows drawn from every
series (:mod:`lstmkit.tasks.forecast.panel`), each series scaled by its own train part. Without
those settings ``Forecaster`` keeps its single-series path unchanged.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from lstmkit.data.scaling import Scaler
from lstmkit.errors import LstmkitError
from lstmkit.runs import atomic_write, new_run_dir
from lstmkit.tasks.forecast.baselines import ets_forecast, infer_season, naive_forecast, seasonal_naive_forecast
from lstmkit.tasks.forecast.metrics import METRIC_NAMES, forecast_metrics
from lstmkit.tasks.forecast.model import STRATEGIES, GlobalForecastNet
from lstmkit.tasks.forecast.panel import (PANEL_SCALERS, Panel, PanelBatches, PanelScaler, future_times, min_points,
                                          parse_calendar, part_sizes, read_panel, seasonal_profile, split_panel)
from lstmkit.tasks.forecast.probabilistic import (LIKELIHOODS, check_quantiles, make_output,
                                                  probabilistic_metrics, quantiles_of, unscale)
from lstmkit.train import Trainer, TrainingInterrupted, TrainResult, distributed

__all__ = ["GlobalMixin", "validate_global", "snaive"]

TASK = "forecast"
_EVAL_BATCH = 1024
_ETS_AUTO_MAX = 20            # ETS baseline per series only up to this many series unless asked


def validate_global(cfg) -> None:
    cfg.quantiles = check_quantiles(cfg.quantiles)
    if cfg.likelihood is not None and cfg.likelihood not in LIKELIHOODS:
        raise LstmkitError(f"unknown likelihood {cfg.likelihood!r}", f"use one of: {', '.join(LIKELIHOODS)}")
    if cfg.strategy not in STRATEGIES:
        raise LstmkitError(f"unknown strategy {cfg.strategy!r}", f"use one of: {', '.join(STRATEGIES)}")
    if cfg.format not in ("long", "m4"):
        raise LstmkitError(f"unknown data format {cfg.format!r}", "use long or m4")
    if isinstance(cfg.calendar, str):
        cfg.calendar = [s.strip() for s in cfg.calendar.split(",") if s.strip()]
    parse_calendar(cfg.calendar)
    for key in ("past_covariates", "future_covariates"):
        v = getattr(cfg, key)
        if isinstance(v, str):
            setattr(cfg, key, [s.strip() for s in v.split(",") if s.strip()])
    if isinstance(cfg.id_embedding, bool) or not isinstance(cfg.id_embedding, int) or cfg.id_embedding < 0:
        raise LstmkitError(f"`id_embedding` must be a whole number >= 0, got {cfg.id_embedding!r}",
                           "pass --id-embedding 8, say (0 turns it off)")
    if cfg.samples_per_epoch is not None and (isinstance(cfg.samples_per_epoch, bool) or
                                              not isinstance(cfg.samples_per_epoch, int) or cfg.samples_per_epoch < 1):
        raise LstmkitError(f"`samples_per_epoch` must be a positive whole number, got {cfg.samples_per_epoch!r}",
                           "pass --samples-per-epoch 20000, say, or leave it out to use every window")
    if cfg.log and cfg.likelihood is not None:
        raise LstmkitError(f"--log cannot be combined with the {cfg.likelihood} likelihood (its scale parameter has "
                           "no meaning after exp)", "use --quantiles with --log, or drop --log")
    if isinstance(cfg.highway, bool) or not isinstance(cfg.highway, int) or not 0 <= cfg.highway <= cfg.lookback:
        raise LstmkitError(f"`highway` must be a whole number from 0 to the lookback ({cfg.lookback}), got {cfg.highway!r}",
                           f"pass --highway {cfg.lookback} (the whole window), a season such as 24, or 0 to turn it off")
    if cfg.highway and cfg.strategy == "recursive":
        raise LstmkitError("--highway cannot be combined with the recursive strategy (the roll-out feeds back "
                           "forecasts that would lack the highway's part)",
                           "use --strategy direct or seq2seq with --highway")
    d = cfg.deseason
    if isinstance(d, bool) or not isinstance(d, int) or d < 0 or d == 1:
        raise LstmkitError(f"`deseason` must be a season length >= 2 (or 0 for off), got {d!r}",
                           "pass --deseason 24 for hourly data with a daily cycle, 7 for daily data, say")
    hh = cfg.highway_hidden
    if isinstance(hh, bool) or not isinstance(hh, int) or hh < 0:
        raise LstmkitError(f"`highway_hidden` must be a whole number >= 0, got {hh!r}",
                           "pass --highway-hidden 256, say, or 0 for the linear highway")
    if hh and not cfg.highway:
        raise LstmkitError("--highway-hidden needs --highway (the window the MLP reads)",
                           f"add --highway {cfg.lookback}, say, or drop --highway-hidden")
    sg = cfg.segment
    if isinstance(sg, bool) or not isinstance(sg, int) or sg < 0 or (sg and cfg.lookback % sg):
        raise LstmkitError(f"`segment` must be a whole number >= 0 that divides the lookback ({cfg.lookback}), got {sg!r}",
                           "pass --segment 24 with --lookback 168 for hourly data, say, or 0 to read one step at a time")
    if sg and cfg.strategy == "recursive":
        raise LstmkitError("--segment cannot be combined with the recursive strategy (it feeds the encoder one "
                           "step at a time)", "use --strategy direct or seq2seq with --segment")
    for key in ("val_size", "test_size"):
        v = getattr(cfg, key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise LstmkitError(f"`{key}` must be a whole number >= 0, got {v!r}", f"pass --{key.replace('_', '-')} 24, say")
    if cfg.scaler not in PANEL_SCALERS:
        raise LstmkitError(f"unknown scaler kind {cfg.scaler!r}", f"use one of: {', '.join(PANEL_SCALERS)}")
    if cfg.format == "m4" and not cfg.target:
        cfg.target = ["value"]


class GlobalMixin:
    """fit / predict / evaluate / save / load for global (many-series) runs."""

    # -- fitting ----------------------------------------------------------------------------
    def _fit_global(self, data, cfg, out=None, run_dir=None, resume: bool = False, callbacks=()):
        validate_global(cfg)
        panel = read_panel(data, cfg, need=min_points(cfg))
        self.config_ = cfg
        self.series_ids_ = list(panel.ids)
        first_time = panel.series_time(0)
        self.season_ = cfg.season or (infer_season(first_time, int(panel.lengths[0]))
                                      if isinstance(first_time, pd.DatetimeIndex) else 1)
        profiles = self._profiles(panel)
        self._fit_scalers(panel, cfg, profiles)
        arrays = self._panel_arrays(panel, profiles)
        splits = split_panel(panel, cfg)
        if len(splits["train"][0]) == 0:
            raise LstmkitError("no training windows", "shorten --lookback or --horizon, or supply longer series")
        self.data_summary_ = {**panel.summary(), "source": str(Path(data).resolve()) if isinstance(data, (str, Path)) else None,
                              "id": cfg.id, "time": cfg.time, "format": cfg.format,
                              "windows": {k: int(len(v[0])) for k, v in splits.items()}}
        if panel.skipped:
            import warnings
            warnings.warn(f"{len(panel.skipped)} series skipped (fewer than {min_points(cfg)} points), "
                          f"e.g. {panel.skipped[0]['id']!r}; listed in the data summary and metrics.json",
                          UserWarning, stacklevel=3)
        torch.manual_seed(cfg.train.seed)
        self.output_ = make_output(cfg)
        self.net_ = self._build_net(cfg, len(panel.ids))
        trainer = Trainer(cfg.train, loss_fn=self.output_.loss)
        main = distributed.is_main()
        if run_dir is None and out is not None:
            run_dir = distributed.broadcast_str(str(new_run_dir(out, TASK)) if main else None, trainer.device)
        self.run_dir_ = Path(run_dir) if run_dir is not None else None
        trainer = Trainer(cfg.train, run_dir=self.run_dir_, callbacks=callbacks, loss_fn=self.output_.loss)
        if self.run_dir_ is not None and not resume and main:
            self._write_meta(self.run_dir_, status="training")
        X, Y, Fut = arrays["inputs"], arrays["targets"], arrays["future"]
        mk = lambda part, bs, sh, n=None: PanelBatches(X, Y, Fut, *splits[part], cfg.lookback, cfg.horizon, bs, sh, n)
        val = mk("val", _EVAL_BATCH, False) if len(splits["val"][0]) else None
        train = mk("train", cfg.train.batch_size, True, cfg.samples_per_epoch)
        try:
            self.result_: TrainResult = trainer.fit(self.net_, train, val,
                                                    resume=resume)
        except TrainingInterrupted:
            if self.run_dir_ is not None and main:
                self._write_meta(self.run_dir_, status="interrupted")
            raise
        self.net_.to("cpu").eval()
        self.metrics_, per_series = self._panel_metrics(panel, arrays, splits["test"])
        if self.run_dir_ is not None and main:
            if per_series is not None:
                atomic_write(self.run_dir_ / "metrics_per_series.csv", lambda t: per_series.to_csv(t, index=False))
            self._panel_plots(self.run_dir_, panel, arrays, splits["test"])
            self.save(self.run_dir_)
        distributed.barrier()
        return self

    def _build_net(self, cfg, n_series: int) -> GlobalForecastNet:
        T, P = len(cfg.target), self.n_past_
        return GlobalForecastNet(T + P + self.n_future_, T, self.n_future_, cfg.horizon, n_series + 1, self.output_,
                                 cfg.model, cfg.hidden_size, cfg.num_layers, cfg.dropout, cfg.relative, cfg.head,
                                 cfg.strategy, cfg.id_embedding, n_past=P, highway=cfg.highway,
                                 highway_hidden=cfg.highway_hidden, segment=cfg.segment)

    def _fit_scalers(self, panel: Panel, cfg, profiles) -> None:
        self.panel_scaler_ = PanelScaler(cfg.scaler, lag=self.season_)    # mase: the metric's seasonal scale
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
        self.n_past_, self.n_future_ = panel.past.shape[1], panel.future.shape[1]

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
            raise LstmkitError(f"--log needs positive targets, but series {panel.ids[s]!r} has "
                               f"{values[bad][0]:g} at its point {row + 1}",
                               "drop --log, or shift the series above zero before training")
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
        """Inverse of :meth:`_model_units` on point forecasts or quantiles (monotone, so exact)."""
        return np.exp(params) if self.config_.log else params

    def _series_scale(self, panel: Panel, profiles=None) -> tuple[np.ndarray, np.ndarray]:
        """``loc, scale [S, T]`` of each series (a series unseen in training: from its own history)."""
        locs, scales = [], []
        for s, sid in enumerate(panel.ids):
            if sid not in self.panel_scaler_.params:
                tmp = PanelScaler(self.panel_scaler_.kind, self.panel_scaler_.lag).fit_one(
                    sid, *self._scaler_input(panel.values[panel.rows(s)], panel, s, profiles))
                loc, sc = tmp.get(sid)
            else:
                loc, sc = self.panel_scaler_.get(sid)
            locs.append(loc), scales.append(sc)
        return np.asarray(locs), np.asarray(scales)

    def _scale_covariates(self, past: np.ndarray, future: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_user = len(self.config_.future_covariates)
        if self.covariate_scaler_ is None:
            return past, future
        cov = self.covariate_scaler_.transform(np.concatenate([past, future[:, :n_user]], 1))
        P = past.shape[1]
        return cov[:, :P], np.concatenate([cov[:, P:], future[:, n_user:]], 1)

    def _panel_arrays(self, panel: Panel, profiles=None) -> dict[str, Any]:
        """Scaled model inputs of every row; ``profiles``: :meth:`_profiles` when already computed."""
        profiles = profiles if profiles is not None else self._profiles(panel)
        loc, scale = self._series_scale(panel, profiles)
        per_row = np.repeat(np.arange(len(panel.ids)), panel.lengths)
        season = None if profiles is None else np.concatenate(
            [self._season_at(p, 0, int(n)) for p, n in zip(profiles, panel.lengths)])    # [rows, T]
        y = (self._model_units(panel.values, panel) - (0 if season is None else season) - loc[per_row]) / scale[per_row]
        past, fut = self._scale_covariates(panel.past, panel.future)
        inputs = np.concatenate([y, past, fut], 1)
        f32 = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
        return {"inputs": f32(inputs), "targets": f32(y), "future": f32(fut), "loc": loc, "scale": scale,
                "season": season}

    def _series_index(self, panel: Panel) -> torch.Tensor:
        known = {sid: k for k, sid in enumerate(self.series_ids_)}
        unseen = len(self.series_ids_)
        return torch.tensor([known.get(sid, unseen) for sid in panel.ids], dtype=torch.long)

    # -- forecasting ------------------------------------------------------------------------
    def _forecast_windows(self, arrays, rows: torch.Tensor, series: torch.Tensor, emb_index: torch.Tensor):
        """Original-unit parameters of the windows starting at ``rows`` ([n, H, T(, P)])."""
        cfg = self.config_
        batches = PanelBatches(arrays["inputs"], arrays["targets"], arrays["future"], rows, series,
                               cfg.lookback, cfg.horizon, _EVAL_BATCH)
        outs = []
        with torch.no_grad():
            for (x, s, fut), _ in batches:
                outs.append(self.net_(x, emb_index[s], fut))
        params = torch.cat(outs).numpy().astype(np.float64) if outs else np.zeros((0,))
        s = series.numpy()
        loc, scale = arrays["loc"][s][:, None], arrays["scale"][s][:, None]    # [n, 1, T]
        if arrays["season"] is not None:                                       # the indices at the targets
            loc = loc + arrays["season"][(rows.numpy() + cfg.lookback)[:, None] + np.arange(cfg.horizon)]
        return self._original_units(unscale(self.output_.kind, params, loc, scale))

    def _predict_global(self, data) -> pd.DataFrame:
        cfg = self.config_
        panel = read_panel(data, cfg, need=None)
        L, H = cfg.lookback, cfg.horizon
        n_user = len(cfg.future_covariates)
        calendar = parse_calendar(cfg.calendar)
        from lstmkit.tasks.forecast.panel import calendar_features
        hist_x, fut_x, t_out = [], [], []
        profiles = self._profiles(panel, full=True)
        loc, scale = self._series_scale(panel, profiles)
        ahead_season = np.zeros((len(panel.ids), H, len(cfg.target)))
        for s, sid in enumerate(panel.ids):
            r = panel.rows(s)
            y = (self._adjusted(panel.values[r], panel, s, profiles[s] if profiles else None) - loc[s]) / scale[s]
            if profiles:
                ahead_season[s] = self._season_at(profiles[s], int(panel.lengths[s]), H)
            past, fut = self._scale_covariates(panel.past[r], panel.future[r])
            x = np.concatenate([y, past, fut], 1)
            if len(x) < L:                                    # short history: repeat the first row
                x = np.concatenate([np.repeat(x[:1], L - len(x), 0), x])
            hist_x.append(x[-L:])
            ahead = panel.ahead_future[s]
            ahead_t = panel.ahead_times[s]
            t_hist = panel.times[r] if panel.times is not None else None
            if n_user:
                ok = np.isfinite(ahead[:, :n_user]).all(1) if len(ahead) else np.zeros(0, bool)
                have = int(np.argmin(ok)) if len(ok) and not ok.all() else len(ok)
                if have < H:
                    raise LstmkitError(
                        f"future covariates {', '.join(cfg.future_covariates)} of series {sid!r} cover {have} of the "
                        f"{H} horizon steps after its last target value",
                        f"add {H} rows after each series' last target (target empty, covariates filled)")
            if t_hist is not None:
                times = ahead_t[:H] if ahead_t is not None and len(ahead_t) >= H else \
                    future_times(t_hist[-1], panel.freq, H, t_hist)
            else:
                times = None
            t_out.append(times)
            if self.n_future_:
                f = np.zeros((H, self.n_future_))
                if n_user:
                    f[:, :n_user] = ahead[:H, :n_user]
                if calendar:
                    f[:, n_user:] = calendar_features(times, calendar)
                _, f = self._scale_covariates(np.zeros((H, self.n_past_)), f)
                fut_x.append(f)
            else:
                fut_x.append(np.zeros((H, 0)))
        x = torch.from_numpy(np.stack(hist_x).astype(np.float32))
        fut = torch.from_numpy(np.stack(fut_x).astype(np.float32))
        emb = self._series_index(panel)
        with torch.no_grad():
            params = torch.cat([self.net_(x[k:k + _EVAL_BATCH], emb[k:k + _EVAL_BATCH], fut[k:k + _EVAL_BATCH])
                                for k in range(0, len(x), _EVAL_BATCH)]).numpy().astype(np.float64)
        params = self._original_units(unscale(self.output_.kind, params, loc[:, None] + ahead_season, scale[:, None]))
        return self._forecast_frame(panel, params, t_out)

    def _forecast_frame(self, panel: Panel, params: np.ndarray, times) -> pd.DataFrame:
        cfg, out = self.config_, self.output_
        S, H = len(panel.ids), cfg.horizon
        frame = {}
        if cfg.id is not None or cfg.format == "m4":
            frame[cfg.id or "id"] = np.repeat(np.asarray(panel.ids, dtype=object), H)
        if times[0] is not None:
            frame[cfg.time or ("t" if cfg.format == "m4" else "time")] = np.concatenate(times)
        frame["step"] = np.tile(np.arange(1, H + 1), S)
        point = out.point(torch.from_numpy(params)).numpy()                   # [S, H, T]
        for j, name in enumerate(cfg.target):
            frame[name] = point[:, :, j].reshape(-1)
        if out.kind != "point":
            q = quantiles_of(out.kind, params, out.levels)                      # [S, H, T, Q]
            for j, name in enumerate(cfg.target):
                for k, level in enumerate(out.levels):
                    frame[f"{name}_q{level:g}"] = q[:, :, j, k].reshape(-1)
        return pd.DataFrame(frame)

    # -- metrics ----------------------------------------------------------------------------
    def _evaluate_global(self, data) -> dict[str, dict[str, float]]:
        cfg = self.config_
        panel = read_panel(data, cfg, need=min_points(cfg))
        arrays = self._panel_arrays(panel)
        return self._panel_metrics(panel, arrays, split_panel(panel, cfg)["test"])[0]["metrics"]

    def _test_forecasts_global(self, data) -> dict[str, Any]:
        cfg = self.config_
        panel = read_panel(data, cfg, need=min_points(cfg))
        arrays = self._panel_arrays(panel)
        rows, series = split_panel(panel, cfg)["test"]
        params = self._forecast_windows(arrays, rows, series, self._series_index(panel))
        tgt = (rows.numpy() + cfg.lookback)[:, None] + np.arange(cfg.horizon)[None]
        s = series.numpy()
        out = {"actual": panel.values[tgt], "forecast": self.output_.point(torch.from_numpy(params)).numpy(),
               "origins": rows.numpy() - panel.starts[s] + cfg.lookback - 1,
               "ids": np.asarray(panel.ids, dtype=object)[s]}
        if self.output_.kind != "point":
            out["quantiles"] = quantiles_of(self.output_.kind, params, self.output_.levels)
            out["levels"] = list(self.output_.levels)
        return out

    def _panel_metrics(self, panel: Panel, arrays, test) -> tuple[dict[str, Any], pd.DataFrame | None]:
        cfg = self.config_
        rows, series = test
        base = {"horizon": cfg.horizon, "season": self.season_, "series": len(panel.ids), "targets": cfg.target,
                "units": "original", "aggregate": "mean over series of each series' metric",
                "skipped": list(panel.skipped), "strategy": cfg.strategy}
        if len(rows) == 0:
            return {**base, "metrics": {}, "test_points": 0, "note": "no test windows (test_size 0)"}, None
        params = self._forecast_windows(arrays, rows, series, self._series_index(panel))
        point = self.output_.point(torch.from_numpy(params)).numpy()           # [n, H, T]
        H, L = cfg.horizon, cfg.lookback
        tgt = (rows.numpy() + L)[:, None] + np.arange(H)[None]
        y_true = panel.values[tgt]                                              # [n, H, T]
        ets = cfg.ets if cfg.ets is not None else len(panel.ids) <= _ETS_AUTO_MAX
        s_all = series.numpy()
        records = []
        for s in np.unique(s_all):
            sel = np.flatnonzero(s_all == s)
            r = panel.rows(int(s))
            vals = panel.values[r]
            n_train, n_val, _ = part_sizes(int(panel.lengths[s]), cfg)
            origins = rows.numpy()[sel] - r.start + L - 1
            preds = {cfg.model: point[sel],
                     "naive": naive_forecast(vals, origins, H),
                     "seasonal_naive": snaive(vals, origins, H, self.season_)}
            if ets:
                import warnings
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    preds["ets"] = ets_forecast(vals, origins, H, self.season_, n_train + n_val)
            for name, p in preds.items():
                m = forecast_metrics(y_true[sel], p, vals[:max(n_train, 2)], season=self.season_)
                records.append({"id": panel.ids[int(s)], "model": name, **m, "points": int(p.size)})
        per_series = pd.DataFrame(records)
        agg = {}
        for name, g in per_series.groupby("model", sort=False):
            agg[name] = {k: _finite_mean(g[k].to_numpy()) for k in METRIC_NAMES}
        if self.output_.kind != "point":
            agg[cfg.model].update(probabilistic_metrics(
                self.output_.kind, params, y_true, self.output_.levels))
        return {**base, "metrics": agg, "test_points": int(y_true.size)}, per_series

    def _panel_plots(self, run_dir: Path, panel: Panel, arrays, test) -> None:
        from lstmkit.inspect.plots import plot_history
        from lstmkit.tasks.forecast.plots import plot_panel_forecast
        plot_history(self.result_.history, run_dir / "plots" / "loss.png", self.result_.best_epoch)
        rows, series = test
        if len(rows) == 0:
            return
        cfg = self.config_
        shown = []
        for s in np.unique(series.numpy())[:4]:                              # up to 4 series
            sel = np.flatnonzero(series.numpy() == s)[-1:]                   # the last test origin
            params = self._forecast_windows(arrays, rows[sel], series[sel], self._series_index(panel))[0]
            r = panel.rows(int(s))
            origin = int(rows[sel][0]) - r.start + cfg.lookback - 1
            shown.append({"id": panel.ids[int(s)], "values": panel.values[r][:, 0], "origin": origin,
                          "times": panel.series_time(int(s)), "params": params})
        plot_panel_forecast(shown, self.output_, cfg.horizon, run_dir / "plots" / "forecast.png",
                            title=f"{cfg.target[0]}: last test forecast ({cfg.strategy})")

    # -- persistence ------------------------------------------------------------------------
    def _global_meta(self) -> dict[str, Any]:
        cfg = self.config_
        return {
            "preprocessing": {
                "panel_scaler": self.panel_scaler_.to_dict(),
                "covariate_scaler": self.covariate_scaler_.to_dict() if self.covariate_scaler_ is not None else None,
                "series_ids": list(self.series_ids_),
            },
            "model": {"class": "GlobalForecastNet", "n_targets": len(cfg.target), "n_past": self.n_past_,
                      "n_future": self.n_future_, "n_series": len(self.series_ids_), "output": self.output_.kind,
                      "levels": list(self.output_.levels),
                      "parameters": sum(p.numel() for p in self.net_.parameters())},
        }

    def _load_global(self, meta: dict[str, Any]) -> None:
        pre, shapes = meta["preprocessing"], meta["model"]
        cfg = self.config
        validate_global(cfg)
        self.config_ = cfg
        self.panel_scaler_ = PanelScaler.from_dict(pre["panel_scaler"])
        self.covariate_scaler_ = Scaler.from_dict(pre["covariate_scaler"]) if pre.get("covariate_scaler") else None
        self.series_ids_ = list(pre["series_ids"])
        self.n_past_, self.n_future_ = shapes["n_past"], shapes["n_future"]
        self.season_ = meta["season"]
        self.data_summary_ = meta["data"]
        self.output_ = make_output(cfg)
        self.net_ = self._build_net(cfg, shapes["n_series"])


def snaive(vals: np.ndarray, origins: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Seasonal naive; a series with less than one full season before an origin gets the naive one."""
    if len(origins) and origins.min() < season - 1:
        return naive_forecast(vals, origins, horizon)
    return seasonal_naive_forecast(vals, origins, horizon, season)


def _finite_mean(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=float)
    ok = np.isfinite(a)
    return float(a[ok].mean()) if ok.any() else float("nan")
