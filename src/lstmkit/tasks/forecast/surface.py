"""The public surface a deploy adapter (export, int8, streaming, serving, online update) uses.

Mixed into :class:`~lstmkit.tasks.forecast.estimator.Forecaster`. Deployment feeds the network
windows of scaled input rows and reads its output (point forecasts, quantiles or distribution
parameters); everything else stays in Python around that one graph: the logs (``--log``), the
seasonal indices (``--deseason``), the per-series scaling, the blend with a baseline fitted on the
history given (``--combine``). A seed ensemble is one graph running every member and taking their
median. Every run exports and serves: a recursive roll-out, a seq2seq decoder and the future
covariates over the horizon are in the graph too (its ``future`` input, built by
:meth:`history_window` from the values and time stamps a request sends); :meth:`deploy_problem`
names what stands in the way of streaming (every run fine-tunes: an update cuts its windows as
training cuts them, :mod:`lstmkit.tasks.forecast.deploy`).

=============================  ==================================================================
``deploy_problem(use)``        None, or why this run cannot be streamed (``stream``); None for
                               ``export`` (served) and ``update`` (fine-tuned): every run can
``check_deployable(what)``     the same as one LstmkitError line
``input_names_``               model input columns: targets, then covariates (``features``)
``input_affine()``             ``(scale, offset) [C]``: model input row = row in model units * scale + offset
``model_units_rows(rows)``     original rows ``[N, C]`` -> model units (logs of the targets with ``--log``)
``to_original(y)``             scaled point forecasts ``[..., H, T]`` -> original units (no seasons)
``history_window(rows, ...)``  one series' whole history (and the horizon's covariates) -> the
                               window (and ``future``) the network reads and how to bring its output
                               back (what ``predict`` computes on that history)
``original_params(p, ...)``    scaled network outputs -> original-unit parameters
``one_series(data)``           ``data`` read as ``predict`` reads it, one series (a Panel)
``model_inputs(data)``         scaled input rows ``[N, C]`` (float32) of the one series in ``data``
                               (or in the Panel ``one_series`` read)
``test_forecast(net, data)``   ``(y_true, point forecast, y_train, first)`` of the test part
                               by ``net``
=============================  ==================================================================
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.calendar import calendar_features, future_times, parse_calendar
from lstmkit.tasks.forecast.panel import Panel
from lstmkit.tasks.forecast.times import forecast_zone, in_zone, infer_freq
from lstmkit.tasks.forecast.probabilistic import unscale
from lstmkit.tasks.forecast.scalers import seasonal_profile
from lstmkit.tasks.forecast.windows import min_points, part_sizes, split_panel

__all__ = ["DeploySurface"]


class DeploySurface:
    """What an adapter needs from a fitted forecaster (see the module docstring)."""

    def deploy_problem(self, use: str = "export") -> str | None:
        """Why this run cannot be exported and served (``use="export"``), streamed one observation
        at a time (``stream``) or fine-tuned (``update``); None when it can."""
        self._check_fitted()
        cfg = self.config_
        if use in ("export", "update"):   # every forecaster exports (the graph is the network, the rest stays in
            return None                   # Python) and fine-tunes (its windows cut as training cuts them, deploy.py)
        if cfg.strategy != "direct":         # a roll-out or a decoder per forecast: no state to carry on
            return f"it uses the {cfg.strategy} strategy"
        if self.n_future_:                   # one observation has no values over the horizon
            return "it reads future covariates or calendar features over the horizon"
        return None                          # a stream keeps what it needs per series (streams.py)

    def check_deployable(self, what: str) -> None:
        """Refuse ``what`` (``export``, ``stream``, ``update``, ...) with an LstmkitError naming why
        when this run cannot be deployed so (:meth:`deploy_problem`); returns None when it can."""
        use = "stream" if what.startswith("stream") else "update" if what.startswith("update") else "export"
        problem = self.deploy_problem(use)
        if problem is None:
            return
        if use == "export":
            raise LstmkitError(f"{what} cannot use this run: {problem}", "use 'lstmkit forecast predict' with this run")
        raise LstmkitError(f"{what} supports direct-strategy runs without inputs over the horizon; this run cannot: "
                           f"{problem}",
                           "send whole histories to predict (or the service's POST /predict)")

    def input_affine(self) -> tuple[np.ndarray, np.ndarray]:
        """``(scale, offset)``, each ``[C]``: a model input row is ``row * scale + offset`` for a row
        in model units (:meth:`model_units_rows`) of a one-series run without seasonal indices (a plain
        run's stream; the others stream through ``tasks/forecast/streams.py``)."""
        self.check_deployable("stream")
        loc, sc = self.panel_scaler_.get(self.series_ids_[0])
        scale, offset = [1.0 / sc], [-loc / sc]
        if self.covariate_scaler_ is not None:
            n = self.n_past_
            zero = self.covariate_scaler_.transform(np.zeros((1, n)))[0]
            scale.append(self.covariate_scaler_.transform(np.ones((1, n)))[0] - zero)
            offset.append(zero)
        return np.concatenate(scale), np.concatenate(offset)

    def model_units_rows(self, rows: np.ndarray) -> np.ndarray:
        """``rows``: original rows ``[N, C]`` (columns as ``input_names_``) -> model units: with ``--log``
        the targets' logs (a target at or below zero is an LstmkitError naming it); float64."""
        rows = np.asarray(rows, dtype=np.float64)
        if not self.config_.log:
            return rows
        T = len(self.config_.target)
        bad = rows[:, :T] <= 0
        if bad.any():
            r, j = np.argwhere(bad)[0]
            raise LstmkitError(f"{self.config_.target[j]} must be positive (this model reads log values), "
                               f"got {rows[r, j]:g}", f"send positive values of {self.config_.target[j]}")
        out = rows.copy()
        out[:, :T] = np.log(rows[:, :T])
        return out

    def to_original(self, y) -> np.ndarray:
        """``y``: scaled point forecasts ``[..., H, T]`` (network units, the network's output) -> original
        units (float64), by the scaling of the run's one series; a run with seasonal indices needs the
        forecast's position (:meth:`history_window`)."""
        self.check_deployable("stream")
        loc, sc = self.panel_scaler_.get(self.series_ids_[0])
        return self._original_units(np.asarray(y, dtype=np.float64) * sc + loc)

    def history_window(self, rows: np.ndarray, sid=None, future=None, times=None,
                       zone: str | None = None) -> dict[str, np.ndarray]:
        """The whole history ``rows`` (``[N, C]``) of series ``sid`` (one of ``series_ids_``; default the
        first; original units, columns as ``input_names_`` less the calendar features, finite,
        N >= lookback) -> ``{"x": [L, C'] float32, "loc": [H, T], "scale": [T], "series": index}``:
        the window the network reads, the affine map back from its scaled output
        (:meth:`original_params`) and the series' index (the embedding's input). A run that reads
        the horizon gets ``"future": [H, F] float32`` too, what the network reads over it: from
        ``future`` (``[H, U]``: the future covariates over the horizon, original units; None: none) and,
        with calendar features, from ``times`` (``[N]``: datetime64, the rows' stamps; the horizon's
        continue at their step; None without calendar features; ``zone``: the zone on whose local
        clock the features read them, naive UTC times, as
        :func:`~lstmkit.tasks.forecast.times.clock_zone` says; None: as they are).

        What ``predict`` computes on a table of exactly these rows: logs with ``--log``; with
        ``--deseason m`` the seasonal indices estimated from the whole history, phase 0 at its
        first row, removed from the inputs and added back at the forecast steps. A blended run
        (``--combine``) then blends the forecast with its baseline on the same history
        (:func:`~lstmkit.tasks.forecast.combine.combine_history`)."""
        cfg = self.config_
        L, H, T, P = cfg.lookback, cfg.horizon, len(cfg.target), self.n_past_
        sid = self.series_ids_[0] if sid is None else sid
        v = self.model_units_rows(rows)
        loc, sc = self.panel_scaler_.get(sid)
        season, ahead = None, np.zeros((H, T))
        if cfg.deseason:
            profile = seasonal_profile(v[:, :T], cfg.deseason)          # as _profiles(full=True)
            season = self._season_at(profile, 0, len(v))
            ahead = self._season_at(profile, len(v), H)
        y = (v[:, :T] - (0 if season is None else season) - loc) / sc     # as _panel_arrays
        seen, coming = self._calendar_rows(times, L, zone)
        past, fut = self._scale_covariates(v[-L:, T:T + P], np.concatenate([v[-L:, T + P:], seen], 1))
        x = np.concatenate([y[-L:], past, fut], 1)
        out = {"x": np.ascontiguousarray(x, dtype=np.float32), "loc": loc + ahead, "scale": np.asarray(sc),
               "series": self.series_ids_.index(sid)}
        if self.n_future_:                                              # as _forecast_ahead
            f = np.concatenate([np.asarray(future if future is not None else np.zeros((H, 0)),
                                           np.float64).reshape(H, -1), coming], 1)
            out["future"] = self._scale_covariates(np.zeros((H, P)), f)[1].astype(np.float32)
        return out

    def _calendar_rows(self, times, n: int, zone: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Calendar features ``([n, K], [H, K])`` of the last ``n`` of ``times`` and of the horizon
        after them (as ``predict`` stamps a table with no rows after its end); ``K = 0`` without any."""
        calendar = parse_calendar(self.config_.calendar)
        H = self.config_.horizon
        if not calendar:
            return np.zeros((n, 0)), np.zeros((H, 0))
        t = pd.DatetimeIndex(times).as_unit("ns")
        freq = _frequency(t)
        ahead = future_times(t.to_numpy()[-1], freq, H, t.to_numpy())
        return calendar_features(t[-n:], calendar, zone), calendar_features(ahead, calendar, zone)

    def original_params(self, params: np.ndarray, loc: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """``params``: scaled network outputs ``[B, H, T(, P)]`` (point forecasts, quantiles or a
        distribution's ``P`` parameters) -> the same in original units, with ``loc`` (``[B, H, T]``) and
        ``scale`` (``[B, T]``): each window's :meth:`history_window` ``"loc"`` and ``"scale"``, stacked
        (not checked to be finite)."""
        return self._original_units(unscale(self.output_.kind, np.asarray(params, np.float64), loc,
                                            np.asarray(scale)[:, None]))

    def one_series(self, data, bounded: bool = False):
        """``data`` read as ``predict`` reads it (a Panel), holding one series (an error otherwise);
        ``bounded``: its targets inside the bounds the user gave the run (an update's data)."""
        self._check_fitted()
        panel = self._read_for_use(data, bounded=bounded)
        if len(panel.ids) != 1:
            raise LstmkitError(f"the data holds {len(panel.ids)} series, and this takes one",
                               "pass the rows of one series")
        return panel

    def series_times(self, panel: Panel, s: int = 0):
        """Series ``s``'s times in ``panel`` (:meth:`one_series`) as ``predict`` gives them: in the run's zone
        (tz-aware) where it has one; naive times, or step numbers, otherwise; None without a time column
        (``inspect``'s window named its steps in naive UTC, an hour or two off a Berlin run's clock)."""
        times = panel.series_time(s)
        if times is None or not panel.is_datetime:
            return times
        zone = forecast_zone(panel.time_info, getattr(self, "data_summary_", None) or {})
        return times if zone is None else pd.DatetimeIndex(in_zone(times.to_numpy(), panel.time_info, zone))

    def model_inputs(self, data) -> np.ndarray:
        """Scaled network inputs ``[N, C]`` (float32, columns as ``input_names_``) of ``data``'s one series;
        ``data`` may be the Panel :meth:`one_series` read (its series id is ``ids[0]``: what the network's
        ``id_embedding`` reads besides the rows, ``lstmkit.inspect.gates(..., series=...)``)."""
        return self._panel_arrays(data if isinstance(data, Panel) else self.one_series(data))["inputs"].numpy()

    def test_forecast(self, net, data=None,
                      part: str = "test") -> list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] | None:
        """Per series: ``(y_true [n, H, T] (NaN where not observed), point forecast [n, H, T], y_train [n_train, T],
        first)`` of its test part (``part="val"``: its validation part) by ``net`` (any module reading windows
        ``[B, L, C]``, or ``net_``), in original units, as ``evaluate`` computes them, ``first`` the part's first
        scored point (counted from the series' first); None when the run was trained on in-memory data and no
        ``data`` is given."""
        self._check_fitted()
        source = data if data is not None else (self.data_summary_ or {}).get("source")
        if source is None or (isinstance(source, (str, Path)) and not Path(source).is_file()):
            return None
        cfg = self.config_
        panel = self._read_for_use(source, need=min_points(cfg), split=True)
        rows, series = split_panel(panel, cfg)[part]
        if not len(rows):                                    # no such part (test_size=0): nothing to score
            return []
        params = self._forecast_windows(self._panel_arrays(panel, split=True), rows, series, self._series_index(panel), net=net)
        point = self._point(params, self._window_limits(panel, series))
        out = []
        for s in range(len(panel.ids)):
            mine = (series == s).numpy()
            tgt = (rows.numpy()[mine] + cfg.lookback)[:, None] + np.arange(cfg.horizon)[None]
            r = panel.rows(s)
            train = panel.actual(np.arange(r.start, r.stop)[:part_sizes(int(panel.lengths[s]), cfg)[0]])
            if mine.any():                                               # NaN: a gap --fill filled, not scored
                out.append((panel.actual(tgt), point[mine], train, int(tgt[0, 0]) - r.start))
        return out


def _frequency(times: pd.DatetimeIndex) -> str | None:
    """The stamps' frequency as ``read_panel`` infers it (None: fewer than 3, or irregular)."""
    if len(times) < 3:
        return None
    try:
        return infer_freq(times)
    except (TypeError, ValueError):
        return None
