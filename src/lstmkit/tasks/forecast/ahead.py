"""The forecast after each series' end: the last ``lookback`` rows of every series read as the
network reads them, the inputs over the horizon (future covariates, calendar features), the
network's outputs back in original units (blended with a baseline when the run chose a blend),
as one frame of ``horizon`` rows per series. Mixed into
:class:`~lstmkit.tasks.forecast.pipeline.PanelPipeline`, whose scaling it uses."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import torch

from lstmkit.errors import LstmkitError, callers_level, first_of
from lstmkit.tasks.forecast.baselines import zero_histories
from lstmkit.tasks.forecast.bounds import Limits, bound_params, clip_values, limits_of
from lstmkit.tasks.forecast.calendar import calendar_features, future_times, parse_calendar
from lstmkit.tasks.forecast.combine import combine_ahead
from lstmkit.tasks.forecast.ensemble import SeedEnsemble
from lstmkit.tasks.forecast.fastpath import frame_of
from lstmkit.tasks.forecast.grid import skipped_ahead, time_text
from lstmkit.tasks.forecast.integer_times import period_parts
from lstmkit.tasks.forecast.intervals import OWN, SWAP, calibrated
from lstmkit.tasks.forecast.model import ForecastNet
from lstmkit.tasks.forecast.probabilistic import quantile_column, quantiles_of, unscale
from lstmkit.tasks.forecast.scalers import say_covariates_far_outside, say_far_outside
from lstmkit.tasks.forecast.times import forecast_zone, in_zone
from lstmkit.tasks.forecast.use_warnings import say_rough, say_stale
from lstmkit.tasks.forecast.windows import EVAL_BATCH

__all__ = ["AheadForecast"]


class AheadForecast:
    """``_forecast_ahead(data)`` and the pieces the engines share with it (``_engine_run``,
    ``_ahead_params``, ``_forecast_frame``)."""

    def _forecast_ahead(self, data, net=None, widths=OWN) -> pd.DataFrame:
        """The ``horizon`` steps after each series' end; ``net``: an engine's net that reads
        windows only (deployable runs), instead of ``net_``; ``widths``: the interval calibration
        read with it (under ``SWAP``), else ``intervals_`` read with ``net_`` here."""
        cfg = self.config_
        if widths is OWN:                # the net and its own widths, as one pair (a kept update swaps both)
            own, widths = self._answering()
            net = own if net is None else net
        run = self._engine_run(net)
        panel = self._read_for_use(data)
        L, H = cfg.lookback, cfg.horizon
        n_user = len(cfg.future_covariates)
        calendar = parse_calendar(cfg.calendar)
        profiles = self._profiles(panel, full=True)
        arrays = self._panel_arrays(panel, profiles)                    # every row scaled as the network reads it
        loc, scale = arrays["loc"], arrays["scale"]
        starts, ends = panel.starts, panel.starts + panel.lengths
        if cfg.id is None and cfg.format != "m4" and ends[0] - starts[0] < L:     # one series: say so
            raise LstmkitError(f"need at least {L} rows (the lookback) to forecast, got {int(ends[0] - starts[0])}",
                               "pass more history")
        # the last L rows of each series; a short one (many series) starts with its first row repeated
        last = np.maximum(ends[:, None] - L + np.arange(L), starts[:, None])                   # [S, L] rows
        x = arrays["inputs"][torch.from_numpy(last)]
        S = len(panel.ids)
        ahead_season = np.zeros((S, H, len(cfg.target)))
        fut_x, t_out = [np.zeros((H, 0))] * S, [None] * S
        P = self.n_past_
        run_info = getattr(self, "data_summary_", None) or {}
        # the steps after the end: by the data's step, else the run's (a history with a gap has none of its own;
        # its usual step, a day, would name a business-day run's steps Saturday and Sunday), as the service does
        freq = panel.freq or (run_info.get("freq") if panel.is_datetime else None)
        raw_ahead = [np.full((H, P + n_user), np.nan)] * S      # the user's covariates over the horizon, as given
        for s in range(S) if self.n_future_ or panel.times is not None or profiles else ():
            sid, r = panel.ids[s], panel.rows(s)
            if profiles:
                ahead_season[s] = self._season_at(profiles[s], int(panel.lengths[s]), H)
            ahead = panel.ahead_future[s]
            ahead_t = panel.ahead_times[s]
            t_hist = panel.times[r] if panel.times is not None else None
            if n_user:
                self._check_ahead(sid, ahead[:H, :n_user], t_hist, ahead_t)
                raw_ahead[s] = np.concatenate([np.full((H, P), np.nan), ahead[:H, :n_user]], 1)
            if t_hist is not None:
                given = ahead_t is not None and len(ahead_t) >= H     # the rows after the end name the steps
                if given and not n_user:              # (with covariates, _check_ahead has checked them)
                    self._check_skipped(sid, t_hist, ahead_t[:H], "the forecast's steps would be named by "
                                        "later times than their own", "add the missing rows (one per step after the "
                                        "last target value, target empty), or leave the rows out: the forecast's "
                                        "times then follow the series' step")
                t_out[s] = ahead_t[:H] if given else future_times(t_hist[-1], freq, H, t_hist)
            if self.n_future_:
                f = np.zeros((H, self.n_future_))
                if n_user:
                    f[:, :n_user] = ahead[:H, :n_user]
                if calendar:
                    f[:, n_user:] = calendar_features(t_out[s], calendar, panel.calendar_zone)
                _, fut_x[s] = self._scale_covariates(np.zeros((H, self.n_past_)), f)
        fut = torch.from_numpy(np.stack(fut_x).astype(np.float32))
        zone = forecast_zone(panel.time_info, run_info)
        t_out = [in_zone(t, panel.time_info, zone) if t is not None else None for t in t_out]
        say_rough(panel, L, self.series_ids_)                # the inputs passed every check: what is rough
        if panel.is_datetime:        # step numbers may count each series from its own start (M4's): not compared
            say_stale(panel.shown_ids(), in_zone(panel.times[ends - 1], panel.time_info, zone), t_out)
        say_far_outside(self.panel_scaler_, panel.ids, x[:, :, :len(cfg.target)].numpy(), panel.values[last],
                        self._original_units, bool(profiles))
        if P + n_user:
            window = np.concatenate([panel.past[last], panel.future[last][:, :, :n_user]], 2)     # [S, L, P + U]
            say_covariates_far_outside(getattr(self, "covariate_range_", None),
                                       self.input_names_[len(cfg.target):len(cfg.target) + P] + list(cfg.future_covariates),
                                       panel.ids, [np.concatenate([w, a]) for w, a in zip(window, raw_ahead)])
        emb = self._series_index(panel)
        with torch.inference_mode():
            params = torch.cat([run(x[k:k + EVAL_BATCH], fut[k:k + EVAL_BATCH], emb[k:k + EVAL_BATCH])
                                for k in range(0, len(x), EVAL_BATCH)]).numpy().astype(np.float64)
        params = self._ahead_params(params, panel.ids, loc, scale, ahead_season)
        if getattr(self, "combination_", None):           # blended in original units (combine.py)
            params = combine_ahead(self, params, panel)
            self._check_finite(params, panel.ids)
        zero = zero_histories(panel.values, starts, ends)
        limits = self._limits(panel.ids)
        params = self._bounded_params(self._zero_histories(params, zero, panel.shown_ids()), limits, widths)
        return self._forecast_frame(panel.shown_ids(), params, t_out, limits)

    def _check_ahead(self, sid, ahead: np.ndarray, t_hist, ahead_t) -> None:
        """The future rows of series ``sid`` (``ahead [k, U]``: their user covariates, at most the horizon's;
        ``ahead_t``: their times, after the history's ``t_hist``) give every covariate at every horizon step,
        one row a step from the step after the series' end: row k is read as step k, so a row left out (or
        rows that start a few steps late) would feed each covariate at another step than its own, and name
        the forecast's steps by the rows' times."""
        names, H = self.config_.future_covariates, self.config_.horizon
        if len(ahead) < H:       # the last value's time: rows meant as the horizon's, their target 0, are history
            when = f" ({time_text(t_hist[-1])})" if t_hist is not None and len(t_hist) else ""
            raise LstmkitError(f"future covariates {', '.join(names)} of series {sid!r} cover {len(ahead)} of the "
                               f"{H} horizon steps after its last target value{when}",
                               f"add {H} rows after each series' last target (target empty, covariates filled)")
        if ahead_t is not None and t_hist is not None:
            self._check_skipped(sid, t_hist, ahead_t[:H], "their covariates would be fed at the wrong steps",
                                "add the missing rows: one per step after the last target value, target empty, "
                                "covariates filled")
        empty = ~np.isfinite(ahead)
        if empty.any():
            k, j = np.argwhere(empty)[0]
            when = f" ({time_text(ahead_t[k])})" if ahead_t is not None else ""
            raise LstmkitError(
                f"future covariate {names[j]!r} of series {sid!r} is empty at horizon step {k + 1} of {H}{when}; "
                f"{int(empty.any(1).sum())} of the {H} steps lack a covariate value",
                "fill every future covariate over the horizon: the forecast reads them at each step")

    @staticmethod
    def _check_skipped(sid, t_hist, ahead_t, harm: str, fix: str) -> None:
        """Refuse the future rows of series ``sid`` (times ``ahead_t``, the horizon's) that skip a step of its
        grid after its history ``t_hist``: row k is read as horizon step k; ``harm``: what that would do."""
        gone = skipped_ahead(t_hist, ahead_t)
        if gone is None:
            return
        raise LstmkitError(
            f"the future rows of series {sid!r} leave out {len(gone)} step{'s' * (len(gone) > 1)} of the horizon "
            f"after its last target value ({time_text(t_hist[-1])}): no row for {time_text(gone[0])}; each row is "
            f"read as the next step, so {harm}", fix)

    def _answering(self) -> tuple:
        """``(net_, intervals_)`` read as one pair (under ``SWAP``): the net and the interval widths fitted for
        it, which a kept update swaps together (the deploy adapter's ``updated``). Whatever answers takes them
        so: predict per call, the deploy adapter once (the service and streams answer from its pair)."""
        with SWAP:
            return self.net_, getattr(self, "intervals_", None)

    def _engine_run(self, net):
        """``run(x, future, series)``: ``net_``, or an engine's net: one of the net's own kind (an
        int8 copy) or one marked ``reads_series`` (the ONNX graph) takes the future covariates and
        the series index too; any other reads windows only."""
        if net is None or net is self.net_:
            return self.net_
        if isinstance(net, (ForecastNet, SeedEnsemble)) or getattr(net, "reads_series", False):
            return lambda x, f, e: torch.as_tensor(net(x, f, e))
        return lambda x, f, e: torch.as_tensor(net(x))

    def _ahead_params(self, params: np.ndarray, ids, loc, scale, ahead_season) -> np.ndarray:
        """Original-unit parameters of scaled network outputs (``params`` of series ``ids``, ``loc, scale [S, T]``,
        ``ahead_season [S, H, T]``), checked to be finite."""
        params = self._original_units(unscale(self.output_.kind, params, loc[:, None] + ahead_season, scale[:, None]))
        c = getattr(self, "combination_", None)
        if not (c and c.get("weight") == 0):     # a blend that reads none of the network: its result is checked
            self._check_finite(params, ids)
        return params

    def _zero_histories(self, params: np.ndarray, zero: np.ndarray, ids=None) -> np.ndarray:
        """``params [n, H, T(, P)]`` (original units) with 0 forecast for each target whose whole
        history is 0 (``zero [n, T]``, :func:`~lstmkit.tasks.forecast.baselines.zero_histories`):
        naive's forecast, not the network's offset from 0 (0.05, say); a likelihood's scale 0 too.
        ``ids``: one warning naming them (the forecast after the end; not for evaluation windows)."""
        if not zero.any():
            return params
        out = params.copy()
        k, j = np.nonzero(zero)
        if self.output_.kind in ("point", "quantile"):
            out[k, :, j] = 0.0
        else:
            out[k, :, j, :2] = 0.0                   # loc and scale; a Student-t keeps its degrees of freedom
        if ids is not None:
            rows = np.flatnonzero(zero.any(1))
            who = (f"series {ids[rows[0]]!r} has only zeros in its history" if len(rows) == 1 else
                   f"{len(rows)} series have only zeros in their history (e.g. {ids[rows[0]]!r})")
            who = "the series has only zeros in its history" if len(zero) == 1 else who
            targets = self.config_.target
            if len(targets) > 1:         # which target: the others forecast as the network answers
                cols = np.flatnonzero(zero.any(0))
                where = ("the series' history" if len(zero) == 1 else f"the history of series {ids[rows[0]]!r}"
                         if len(rows) == 1 else f"the history of {len(rows)} series (e.g. {ids[rows[0]]!r})")
                who = (f"target{'s' * (len(cols) > 1)} {first_of([targets[c] for c in cols], show=repr)} "
                       f"{'have' if len(cols) > 1 else 'has'} only zeros in {where}")
            warnings.warn(f"{who}: forecast 0, as naive forecasts it, not the network's offset from 0",
                          UserWarning, stacklevel=callers_level())
        return out

    def _limits(self, ids) -> Limits:
        """The bounds of series ``ids``' targets (:mod:`~lstmkit.tasks.forecast.bounds`)."""
        return limits_of(getattr(self, "bounds_", None), ids, self.config_.target, self.panel_scaler_.params)

    def _bounded(self, params: np.ndarray, ids) -> np.ndarray:
        """Original-unit ``params [n, H, T(, P)]`` of series ``ids`` within their bounds (a
        likelihood's as they are: its censored distribution is read by :meth:`_point`, :meth:`_quantiles`)."""
        return self._bounded_params(params, self._limits(ids))

    def _bounded_params(self, params: np.ndarray, limits: Limits, widths=OWN) -> np.ndarray:
        """Original-unit ``params [n, H, T(, P)]`` with the run's interval calibration (a run fitted with one,
        :mod:`~lstmkit.tasks.forecast.intervals`; ``widths``: the one read with the net that answered) applied,
        then within ``limits`` (as :meth:`_bounded`)."""
        kind = self.output_.kind
        widths = getattr(self, "intervals_", None) if widths is OWN else widths
        return bound_params(kind, calibrated(kind, params, self.output_.levels, widths), limits)

    def _point(self, params: np.ndarray, limits: Limits) -> np.ndarray:
        """``[n, H, T]`` point forecasts of ``params`` within ``limits``: a likelihood's is its censored
        distribution's median, the location clipped."""
        return clip_values(self.output_.point(torch.from_numpy(params)).numpy(), limits)

    def _quantiles(self, params: np.ndarray, limits: Limits) -> np.ndarray:
        """``[n, H, T, Q]`` quantiles of ``params`` within ``limits``: each clipped, the quantile of the
        censored distribution (clipping is monotone, so they do not cross)."""
        return clip_values(quantiles_of(self.output_.kind, params, self.output_.levels), limits)

    @staticmethod
    def _check_finite(params: np.ndarray, ids) -> None:
        """One error naming the first series ``ids[s]`` whose forecast ``params[s]`` is not finite."""
        bad = ~np.isfinite(params.reshape(len(params), -1)).all(1)
        if bad.any():
            raise LstmkitError(f"the forecast of series {ids[int(np.flatnonzero(bad)[0])]!r} is not finite "
                               f"({int(bad.sum())} of {len(bad)} series): the model overflows on this input",
                               "check the input for values far outside the training data, or retrain the model")

    def _forecast_frame(self, ids, params: np.ndarray, times, limits: Limits) -> pd.DataFrame:
        cfg, out = self.config_, self.output_
        S, H = len(ids), cfg.horizon
        frame = {}
        if cfg.id is not None or cfg.format == "m4":
            whole = bool(len(ids)) and all(isinstance(i, int) for i in ids)     # an id column of numbers: 1, not '1'
            frame[cfg.id or "id"] = np.repeat(np.asarray(ids, dtype=np.int64 if whole else object), H)
        if times[0] is not None and cfg.time is not None and "," in cfg.time:
            frame.update(period_parts(pd.DatetimeIndex(np.concatenate(times)), cfg.time))  # Year, Month as read
        elif times[0] is not None:
            frame[cfg.time or ("t" if cfg.format == "m4" else "time")] = \
                times[0].append(list(times[1:])) if isinstance(times[0], pd.DatetimeIndex) else np.concatenate(times)
        # a time, id or target column named "step" keeps its name (the horizon's step wrote over it)
        frame["step" if "step" not in frame and "step" not in cfg.target else "horizon_step"] = \
            np.tile(np.arange(1, H + 1), S)
        point = self._point(params, limits)                                   # [S, H, T]
        for j, name in enumerate(cfg.target):
            frame[name] = point[:, :, j].reshape(-1)
        if out.kind != "point":
            q = self._quantiles(params, limits)                                 # [S, H, T, Q]
            for j, name in enumerate(cfg.target):
                for k, level in enumerate(out.levels):
                    frame[quantile_column(name, level)] = q[:, :, j, k].reshape(-1)
        return frame_of(frame)
