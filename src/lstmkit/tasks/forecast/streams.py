"""Streaming a forecaster whose answer needs more than its network and a fixed scaling: one trained
on many series, with seasonal indices (``--deseason``), with quantiles or a distribution, or blended
with a baseline (``--combine``). :class:`SeriesStreams` is the
:class:`~lstmkit.deploy.streaming.StreamExtra` that :class:`~lstmkit.tasks.forecast.deploy.ForecastAdapter`
gives such a run (``stream_extra(mode)``); a plain run streams without it.

A stream follows one series, fed from its first value on. What one step answers is what
``Forecaster.predict`` answers on a table of the values fed so far, through the same scaling,
seasonal indices, output and blend:

* ``window`` mode: exactly ``predict`` on that history once it holds a lookback of values; before,
  the network reads the values there are, or, for many series and nets that read a whole window
  (segments, a highway), the window with its first value repeated in front, as ``predict`` fills a
  short series among many (so a many-series stream equals ``predict`` from its first value on).
  Every run streams this way.
* ``state`` mode (carrying the LSTM's ``(h, c)``; not with seasonal indices, which change every
  earlier input): the network reads the whole history from a zero state, as any forecaster's state
  stream does; around it the same scaling, quantiles and blend.

Per stream it keeps (saved with the state, JSON-able):

* ``series`` -- which one: many series (``--id``, ``--id-embedding``) name it by the stream id or by
  ``"id"`` in the message (``{"id": "s1", "y": 3.2}``); an unknown series is an error. A stream
  keeps the series its first step named: another one is an error (reset it, or open another id).
* ``rows`` -- the newest values in original units: the lookback (window mode), the trend's reach
  (seasonal indices), a season (a seasonal-naive blend), or up to the blend's
  :func:`~lstmkit.tasks.forecast.combine.ets_history` values (1,000 for an hourly run) for an ETS
  blend, the values ``predict`` fits ETS on.
* ``nonzero`` -- per target, whether any value fed so far was not 0: a target 0 throughout the
  stream forecasts 0 (a distribution all its mass there), as ``predict`` forecasts a history of
  zeros (:meth:`~lstmkit.tasks.forecast.ahead.AheadForecast._zero_histories`). A state saved
  before streams kept it reads it from the rows it kept, and as nonzero when values it no longer
  keeps came first (the answer it gave then). A plain run's stream keeps the same flags through
  :class:`ZeroHistory`, the :class:`~lstmkit.deploy.streaming.StreamMark` its adapter gives.
* ``total``, ``count`` -- with ``--deseason m``, per phase the sum and number of detrended values:
  the seasonal indices of the whole history follow from them as ``predict`` estimates them
  (:func:`~lstmkit.tasks.forecast.scalers.seasonal_profile`), in ``O(m)`` per step; the phase of
  a value is its position in the history, the forecast re-seasoned at the next ``horizon`` phases.

What a step costs (measured on one CPU core shared with other work, hidden 32, lookback 24): state
mode 0.8 ms (a plain run's fast path: 0.16 ms), window mode 1.9 ms with or without seasonal indices
(``O(m)`` for them); a seasonal-naive blend adds ``O(horizon)``; an ETS blend refits ETS on the
values it keeps at every step, as ``predict`` fits it on the newest of its history: 0.15-0.22 s a
step at 140 values, 0.5 s at 1,000. Refitting less often (every season) would change the answers,
so a step stays exact at that price.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from lstmkit.deploy.adapter import BadRequest, observation_mapping, observation_row, shown
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.combine import active_combination, combine_history, ets_history
from lstmkit.tasks.forecast.scalers import centred_indices, trend_weights
from lstmkit.tasks.forecast.use_warnings import unknown_series

__all__ = ["SeriesStreams", "SeriesState", "ZeroHistory", "needs_series_streams"]


def needs_series_streams(est) -> bool:
    """True when a forecaster's stream needs :class:`SeriesStreams` (many series, an embedding,
    seasonal indices, quantiles or a blend)."""
    cfg = est.config_
    return (len(est.series_ids_) > 1 or bool(cfg.id_embedding) or bool(cfg.deseason)
            or est.output_.kind != "point" or active_combination(est) is not None)


@dataclass
class SeriesState:
    """One stream's own data (see the module docstring)."""

    series: str
    rows: np.ndarray                    # [k, C] the newest values, original units (float64)
    nonzero: np.ndarray | None = None   # [T] bool: a value fed so far was not 0 (None: none fed)
    total: np.ndarray | None = None     # [m, T] per phase, the sum of the detrended values (--deseason)
    count: np.ndarray | None = None     # [m, T] and their number (int64)


def _nonzero_restored(rec: dict[str, Any], rows: np.ndarray, steps: int, T: int) -> np.ndarray:
    """A saved stream's per-target "ever nonzero" flags ``[T]``; a state saved before streams kept
    them: nonzero where the ``rows`` kept hold a value other than 0, or where earlier values are no
    longer kept (``steps`` beyond them: the network's answer, as the stream gave it then)."""
    if "nonzero" in rec:
        flags = np.asarray(rec["nonzero"])
        if flags.shape != (T,) or not np.isin(flags, (0, 1)).all():
            raise ValueError(f"nonzero flags {flags.tolist()!r}, expected {T} of true/false")
        return flags.astype(bool)
    return (rows[:, :T] != 0).any(0) | (steps > len(rows))


class ZeroHistory:
    """A plain forecaster's :class:`~lstmkit.deploy.streaming.StreamMark`: per target whether any
    value streamed so far was not 0; a target 0 throughout forecasts 0, as ``predict`` does."""

    keys = ("nonzero",)

    def __init__(self, adapter):
        self.est, self.columns, self.T = adapter.est, list(adapter.columns), len(adapter.cfg.target)
        self.widths = adapter.widths     # the pair's widths, as SeriesStreams keeps them (a point run's: none)

    def seen(self, x_t: Any, mark: list[bool] | None) -> list[bool]:
        if mark is not None and all(mark):                 # once nonzero, always: nothing to read
            return mark
        if (type(x_t) is float or type(x_t) is int) and len(self.columns) == 1:
            now = [x_t != 0]
        else:
            now = (observation_row(x_t, self.columns)[0, :self.T] != 0).tolist()
        return now if mark is None else [a or b for a, b in zip(mark, now)]

    def answer(self, answer: np.ndarray, mark: list[bool]) -> np.ndarray:
        out = np.asarray(answer)[None]
        if not all(mark):
            out = self.est._zero_histories(out, ~np.asarray(mark)[None])
        # within the run's bounds (point runs), calibrated by the stream net's own widths
        return self.est._bounded_params(out, self.est._limits(self.est.series_ids_[:1]), self.widths)[0]

    def fields(self, mark: list[bool]) -> dict[str, Any]:
        return {"nonzero": list(mark)}

    def restore(self, rec: dict[str, Any], steps: int) -> list[bool]:
        """No rows are kept by a plain stream: a state saved before the flags reads as nonzero."""
        if "nonzero" not in rec:
            return [True] * self.T
        return _nonzero_restored(rec, np.zeros((0, self.T)), steps, self.T).tolist()


class SeriesStreams:
    """The :class:`~lstmkit.deploy.streaming.StreamExtra` of a forecaster (see the module docstring)."""

    def __init__(self, adapter, mode: str, history: int | None = None):
        est = self.est = adapter.est
        cfg = est.config_
        self.columns, self.mode, self.embedding = list(adapter.columns), mode, adapter.embedding
        self.T, self.L, self.H = len(cfg.target), cfg.lookback, cfg.horizon
        self.m = int(cfg.deseason or 0)
        self.weights = trend_weights(self.m) if self.m else None
        self.blend = active_combination(est)
        self.output = est.output_
        self.widths = adapter.widths     # the interval widths of the net the stream runs (taken with it)
        self.series = {str(s): s for s in est.series_ids_}
        self._watch = adapter.far_outside_notes
        self._cov_affine = None          # state mode: the covariate scaler as one multiply-add per row
        if est.covariate_scaler_ is not None and mode == "state":
            zero = est.covariate_scaler_.transform(np.zeros((1, est.n_past_)))[0]
            self._cov_affine = (est.covariate_scaler_.transform(np.ones((1, est.n_past_)))[0] - zero, zero)
        need = [1, self.L if mode == "window" else 1, len(self.weights) if self.m else 1]
        if self.blend is not None:
            need.append((history or ets_history(self.blend, est.season_)) if self.blend["baseline"] == "ets"
                        else max(1, int(est.season_)))
        self.keep = max(need)

    def header(self) -> dict[str, Any]:
        return {"series": len(self.series), "deseason": self.m, "history": self.keep, "output": self.output.kind,
                "blend": self.blend["baseline"] if self.blend else None}

    # -- one step ------------------------------------------------------------------------------
    def begin(self, x_t: Any, id: str, aux: SeriesState | None, steps: int):
        sid, obs = self._series_of(x_t, id, aux)
        row = observation_row(obs, self.columns)                               # [1, C]; --log: _inputs refuses
        n = steps + 1
        rows = row if aux is None else np.concatenate([aux.rows, row])[-self.keep:]
        nonzero = row[0, :self.T] != 0
        state = SeriesState(sid, rows, nonzero if aux is None else aux.nonzero | nonzero)
        profile = None
        if self.m:
            state.total, state.count = self._sums(aux, rows, n)
            profile = np.stack([centred_indices(state.total[:, j], state.count[:, j]) for j in range(self.T)], 1)
        k = 1 if self.mode == "state" else min(n, self.L)
        x = self._inputs(rows[-k:], sid, n - k, profile)                        # [k, I]
        loc, sc = self.est.panel_scaler_.get(self.series[sid])
        ahead = loc + (0 if profile is None else profile[(n + np.arange(self.H)) % self.m])     # [H, T]
        inputs = {"series": np.array([self.est.series_ids_.index(self.series[sid])], np.int64)} if self.embedding else {}
        return (x[0] if self.mode == "state" else x), inputs, (state, ahead, sc)

    def finish(self, y: np.ndarray, pending) -> tuple[Any, SeriesState]:
        state, loc, sc = pending
        params = self.est.original_params(np.asarray(y, np.float64)[None], loc[None], np.asarray(sc)[None])[0]
        if not np.isfinite(params).all():
            raise LstmkitError("the model's output is not finite for this observation (far outside the "
                               "training data?); the stream is as it was before it",
                               "send values in the range the model was trained on")
        if self.blend is not None:
            params = self._blended(params, state.rows[:, :self.T])
        if not state.nonzero.all():                       # a target 0 throughout: 0, as predict forecasts it
            params = self.est._zero_histories(params[None], ~state.nonzero[None])[0]
        limits = self.est._limits([self.series[state.series]])                # within the run's bounds
        params = self.est._bounded_params(params[None], limits, self.widths)[0]   # the stream net's own widths
        point = self.est._point(params[None], limits)[0]                       # [H, T]
        if self.output.kind == "point":
            return point, state
        levels = [float(v) for v in self.output.levels]
        return {"forecast": point, "quantiles": self.est._quantiles(params[None], limits)[0],
                "levels": levels}, state

    def notes(self, x: np.ndarray, pending) -> list[str]:
        """The step's warnings: its network input ``x`` (state mode: the observation; window mode:
        the window) far outside its series' training range, as ``predict`` warns of a window."""
        state = pending[0]
        seen = x.reshape(-1, x.shape[-1])
        return self._watch(seen, self.series[state.series], state.rows[-len(seen):, :self.T])

    def _series_of(self, x_t: Any, id: str, aux: SeriesState | None) -> tuple[str, Any]:
        """``(series, observation)``: the series a message names (``"id"``), else the one the stream
        follows, else the stream id; a one-series run's only series."""
        if len(self.series) == 1:
            return next(iter(self.series)), x_t
        named = None
        mapping = observation_mapping(x_t)                # a dict, or a table's row (a pandas Series)
        x_t = x_t if mapping is None else mapping
        if isinstance(x_t, dict) and "id" in x_t:
            named, x_t = x_t["id"], {k: v for k, v in x_t.items() if k != "id"}
            if not isinstance(named, (str, int)) or isinstance(named, bool):
                raise LstmkitError(f"the message's id must name a series, got {shown(named)}",
                                   "send the series id as text, e.g. {\"id\": \"s1\", ...}")
            named = str(named)
        if aux is not None and named is not None and named != aux.series:
            raise LstmkitError(f"stream {id!r} follows series {aux.series!r}, not {named!r}",
                               "reset it first, or stream that series under another id")
        sid = named if named is not None else aux.series if aux is not None else id
        if sid not in self.series:
            trained, alike = unknown_series(sid, list(self.series))
            if named is None:         # the stream's own id (the service's 'ws-3', which no client chose)
                raise BadRequest(["id"], f"unknown series {sid!r} (the stream's id: the message names no series "
                                 f"in \"id\"); {trained}", "send {\"id\": SERIES, ...} in the stream's first "
                                 "message (in Python, or stream under the series' id: s.step(x, id=SERIES))")
            raise BadRequest(["id"], f"unknown series {sid!r}; {trained}",
                             f"write the id as the training data did: {alike!r}" if alike else
                             "name one of them in the message, {\"id\": SERIES, ...}, or as the stream id")
        return sid, x_t

    def _sums(self, aux: SeriesState | None, rows: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-phase sums and counts of the detrended values once the ``n``-th value is in: it
        completes one more centred moving average, whose centre's detrended value is added."""
        m, w = self.m, self.weights
        total = np.zeros((m, self.T)) if aux is None else aux.total.copy()
        count = np.zeros((m, self.T), np.int64) if aux is None else aux.count.copy()
        if n >= len(w):
            v = self.est.model_units_rows(rows[-len(w):])[:, :self.T]          # model units (logs)
            off = (len(w) - 1) // 2
            phase = (n - len(w) + off) % m
            for j in range(self.T):
                trend = np.convolve(v[:, j], w, mode="valid")[0]
                total[phase, j] += v[off, j] - trend
                count[phase, j] += 1
        return total, count

    def _inputs(self, rows: np.ndarray, sid: str, start: int, profile: np.ndarray | None) -> np.ndarray:
        """Scaled network inputs ``[k, I]`` of original rows at history positions ``start ..``, as
        ``predict`` scales them (model units, seasonal indices removed, the series' scaler)."""
        T, est = self.T, self.est
        v = est.model_units_rows(rows)
        loc, sc = est.panel_scaler_.get(self.series[sid])
        season = 0 if profile is None else profile[(start + np.arange(len(v))) % self.m]
        y = (v[:, :T] - season - loc) / sc
        cov = v[:, T:]
        if self._cov_affine is not None:                    # scikit-learn's call costs 1 ms a step
            cov = cov * self._cov_affine[0] + self._cov_affine[1]
        elif est.covariate_scaler_ is not None:             # window mode: exactly as predict scales them
            cov = est.covariate_scaler_.transform(cov)
        return np.ascontiguousarray(np.concatenate([y, cov], 1), dtype=np.float32)

    def _blended(self, params: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The blend ``predict`` gives after ``values``; a single value: ETS cannot be fitted, and
        its fallback, the naive forecast (the last value), stands in."""
        if len(values) >= 2 or self.blend["baseline"] != "ets":
            return combine_history(self.est, params, values)
        w = self.blend["weight"]
        return w * params + (1.0 - w) * values[-1]

    # -- saving --------------------------------------------------------------------------------
    @property
    def keys(self) -> tuple[str, ...]:
        return ("series", "rows", "nonzero", *(("total", "count") if self.m else ()))

    def arrays(self, aux: SeriesState) -> dict[str, np.ndarray]:
        out = {"rows": aux.rows, "nonzero": aux.nonzero.astype(np.uint8)}
        if self.m:
            out.update(total=aux.total, count=aux.count)
        return out

    def fields(self, aux: SeriesState) -> dict[str, Any]:
        return {"series": aux.series}

    def restore(self, rec: dict[str, Any], steps: int) -> SeriesState:
        series = rec["series"]
        if not isinstance(series, str) or series not in self.series:
            raise ValueError(f"series {series!r} is not one this model was trained on")
        rows = np.asarray(rec["rows"], dtype=np.float64).reshape(-1, len(self.columns))
        if len(rows) != min(steps, self.keep) or not np.isfinite(rows).all():
            raise ValueError(f"{len(rows)} rows after {steps} steps, expected {min(steps, self.keep)} finite ones")
        try:
            self.est.model_units_rows(rows)
        except LstmkitError as e:
            raise ValueError(e.message) from None
        state = SeriesState(series, rows, _nonzero_restored(rec, rows, steps, self.T))
        if self.m:
            total = np.asarray(rec["total"], dtype=np.float64).reshape(self.m, self.T)
            count = np.asarray(rec["count"], dtype=np.float64).reshape(self.m, self.T)
            seen = max(0, steps - len(self.weights) + 1)
            if not np.isfinite(total).all() or (count != np.round(count)).any() or (count.sum(0) != seen).any():
                raise ValueError(f"seasonal sums that do not count {seen} detrended values")
            state = replace(state, total=total, count=count.astype(np.int64))
        return state

