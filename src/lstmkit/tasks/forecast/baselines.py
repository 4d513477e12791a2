"""Classical baselines, forecast from exactly the origins the LSTM is scored on.

All forecasters share one shape contract: ``series`` is [N, T] in original units (a 1-D series
is one target), ``origins`` are indices of the last observed point, and the result is
[len(origins), horizon, T]. Step k = 1..h of origin t forecasts ``series[t + k]``.

* naive:           ŷ_{t+k} = y_t
* seasonal naive:  ŷ_{t+k} = y_{t+k-m·⌈k/m⌉}
* ETS (damped additive Holt-Winters), parameters fitted once on ``series[:n_fit]`` (its newest
  :func:`ets_fit_points` values), state filtered causally up to each origin:
  ŷ_{t+k} = l_t + (φ + φ² + … + φ^k)·b_t + s_{t+k-m·⌈k/m⌉}
  with a season, isolated spikes in the fit part are first replaced by the moving median
  (:func:`without_spikes`): one wild reading had made ETS wrong for every origin after it
"""
from __future__ import annotations

import collections
import contextlib
import hashlib
import threading
import warnings

import numpy as np
import pandas as pd

from lstmkit.errors import callers_level, warnings_caught
from lstmkit.tasks.forecast.grid import infer_freq

__all__ = [
    "baseline_forecasts",
    "ETS_FIT_POINTS",
    "ets_fit_points",
    "ets_forecast",
    "without_spikes",
    "SPIKE_MADS",
    "SPIKE_SHARE",
    "FENCE",
    "infer_season",
    "naive_forecast",
    "newest_fit",
    "steps_per_day",
    "seasonal_naive_forecast",
    "zero_histories",
]

# Periods of the dominant cycle for one step of each offset family (checked with isinstance, so
# anchored aliases such as 'W-SUN', 'QS-OCT', 'MS'/'ME' map through their base class), in the order
# they are tried: the first that a step divides and that fits twice in the series is the season.
# Minutes go by the day first (GluonTS's and the Monash archive's period for sub-hourly data:
# half-hourly 48, 15-minute 96, 5-minute 288), by the hour when fewer than two days are at hand.
# Measured on a real half-hourly series (pmdarima's Taylor electricity demand, validation cut of
# benchmarks/forecast_defaults.py's protocol, horizon 48): the defaults' test MAE was 3,165 MW with
# the hourly season 2 (lookback 6 steps) and 827 MW with the daily 48 (lookback 144).
_SEASON_BY_OFFSET: tuple[tuple[type, tuple[int, ...]], ...] = (
    (pd.offsets.Second, (60,)),
    (pd.offsets.Minute, (1440, 60)),
    (pd.offsets.Hour, (24,)),
    (pd.offsets.BusinessDay, (5,)),
    (pd.offsets.Day, (7,)),
    (pd.offsets.Week, (52,)),
    (pd.offsets.SemiMonthBegin, (24,)),
    (pd.offsets.SemiMonthEnd, (24,)),
    (pd.offsets.MonthBegin, (12,)),
    (pd.offsets.MonthEnd, (12,)),
    (pd.offsets.BusinessMonthBegin, (12,)),
    (pd.offsets.BusinessMonthEnd, (12,)),
    (pd.offsets.QuarterBegin, (4,)),
    (pd.offsets.QuarterEnd, (4,)),
    (pd.offsets.BQuarterBegin, (4,)),
    (pd.offsets.BQuarterEnd, (4,)),
    (pd.offsets.YearBegin, (1,)),
    (pd.offsets.YearEnd, (1,)),
    (pd.offsets.BYearBegin, (1,)),
    (pd.offsets.BYearEnd, (1,)),
)


def infer_season(index: pd.DatetimeIndex | None, n: int) -> int:
    """Seasonal period implied by the frequency of ``index``; 1 when unknown.

    Hourly → 24, daily → 7, business-daily → 5, weekly → 52, monthly → 12, quarterly → 4,
    minutely → 1440 (the day; 60, the hour, when the series holds fewer than two days), secondly → 60,
    semi-monthly (the 1st and 15th) → 24, yearly → 1. A multiple step divides the period when it can
    ('2h' → 12, '30min' → 48, '15min' → 96), otherwise gives 1. A period of at least ``n / 2``
    (fewer than two cycles in a series of ``n`` points) gives 1.
    """
    offset = _index_offset(index)
    if offset is None:
        return 1
    periods = next((periods for cls, periods in _SEASON_BY_OFFSET if isinstance(offset, cls)), (1,))
    step = abs(int(getattr(offset, "n", 1))) or 1
    for base in periods:
        season = base // step if base % step == 0 else 1
        if 2 <= season < n / 2:
            return season
    return 1


def steps_per_day(index: pd.DatetimeIndex | None) -> int:
    """How many steps of ``index``'s frequency make a day when the step is shorter than a day and
    divides it (hourly 24, half-hourly 48, 1 minute 1440); 0 otherwise (days and longer, unknown)."""
    offset = _index_offset(index)
    if not isinstance(offset, pd.offsets.Tick) or offset.nanos <= 0:
        return 0
    day = 86_400 * 10 ** 9
    return day // offset.nanos if offset.nanos < day and day % offset.nanos == 0 else 0


def naive_forecast(series, origins, horizon: int) -> np.ndarray:
    """ŷ_{t+k} = y_t for every step: [N, T] -> [len(origins), horizon, T]."""
    y, t, horizon = _check_inputs(series, origins, horizon)
    return np.repeat(y[t][:, None, :], horizon, axis=1)


def zero_histories(values: np.ndarray, starts, ends) -> np.ndarray:
    """``[n, T]``: whether the history ``values[starts[k]:ends[k]]`` (rows of ``values [N, T]``) of
    each target is 0 throughout -- an intermittent-demand item that never sold, whose forecast is 0
    (naive's, and every baseline's) rather than the network's small offset from 0."""
    starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    nonzero = np.concatenate([np.zeros((1, values.shape[1]), dtype=np.int64), np.cumsum(values != 0, axis=0)])
    return (nonzero[ends] == nonzero[starts]) & (ends > starts)[:, None]


def seasonal_naive_forecast(series, origins, horizon: int, season: int) -> np.ndarray:
    """ŷ_{t+k} = y_{t+k-m·⌈k/m⌉}, the last observed value of the same season.

    Needs every origin ≥ season - 1 so that one full cycle is observed.
    """
    y, t, horizon = _check_inputs(series, origins, horizon)
    season = _check_season(season)
    if t.size and t.min() < season - 1:
        raise ValueError(f"Expected origins >= season - 1 = {season - 1}, got {t.min()}")
    source = t[:, None] + _seasonal_offsets(horizon, season)[None, :]  # [O, H]
    return y[source]  # [O, H, T]


def ets_forecast(series, origins, horizon: int, season: int, n_fit: int) -> np.ndarray:
    """Damped additive Holt-Winters fitted on ``series[:n_fit]`` (its newest :func:`ets_fit_points`
    values), forecast from each origin.

    Parameters and initial states are fitted once per target (seasonal when ``season > 1``
    and ``n_fit >= 2 * season``). The smoothing recursions are then run with those fixed
    parameters over ``series[:max(origins) + 1]``; the filtered state at origin t depends on
    ``y[:t + 1]`` only, so there is no look-ahead. Every origin must be ≥ ``n_fit - 1``.

    A target that is constant on ``series[:n_fit]``, or whose fit fails, falls back to the
    naive forecast with a warning.
    """
    y, t, horizon = _check_inputs(series, origins, horizon)
    season = _check_season(season)
    if isinstance(n_fit, bool) or not isinstance(n_fit, (int, np.integer)) or not 2 <= n_fit <= y.shape[0]:
        raise ValueError(f"Expected n_fit to be an integer in [2, {y.shape[0]}], got {n_fit!r}")
    if t.size and t.min() < n_fit - 1:
        raise ValueError(f"Expected origins >= n_fit - 1 = {n_fit - 1} (no in-sample ETS forecasts), got {t.min()}")
    if t.size == 0:
        return np.empty((0, horizon, y.shape[1]))

    last = int(t.max())
    out = np.empty((t.size, horizon, y.shape[1]))
    # One BLAS thread: the fit's optimiser (scipy's L-BFGS-B) works on vectors of a few numbers, where a
    # second OpenBLAS thread only waits; measured on 2 cores, 3 fits of a 2,000-point hourly series:
    # 3.69 s wall / 1.81 s CPU with OpenBLAS's 2 threads, 1.40 s / 0.70 s with one.
    with _blas_libraries().limit(limits=1, user_api="blas"):
        for j in range(y.shape[1]):
            column = y[: last + 1, j]
            if np.ptp(column[:n_fit]) == 0:
                warnings.warn(f"ETS baseline: target {j} is constant on the fit part; using the naive forecast",
                              stacklevel=callers_level())
                out[:, :, j] = column[t][:, None]
                continue
            try:
                out[:, :, j] = _ets_one_target(column, t, horizon, season, n_fit)
            except (ValueError, ArithmeticError, np.linalg.LinAlgError) as err:
                warnings.warn(f"ETS baseline: fit failed for target {j} ({err}); using the naive forecast",
                              stacklevel=callers_level())
                out[:, :, j] = column[t][:, None]
    return out


_BLAS: list = []        # [threadpoolctl's controller of the libraries loaded with statsmodels], found once


def _blas_libraries():
    """threadpoolctl's controller of the native libraries loaded once statsmodels is (scipy's own
    OpenBLAS among them), found on the first call and kept: threadpoolctl's ``threadpool_limits``
    looked them all up again on each call, 7 ms of a series' ETS baseline (20 series are scored on
    validation for the doctor and again on test: 0.3 s a fit)."""
    if not _BLAS:
        import statsmodels.tsa.holtwinters  # noqa: F401  (loads scipy's own OpenBLAS, which the limit must see)
        from threadpoolctl import ThreadpoolController
        _BLAS.append(ThreadpoolController())
    return _BLAS[0]


def baseline_forecasts(series, origins, horizon: int, season: int, n_fit: int) -> dict[str, np.ndarray]:
    """``{"naive", "seasonal_naive", "ets"}`` forecasts, each [len(origins), horizon, T]."""
    return {
        "naive": naive_forecast(series, origins, horizon),
        "seasonal_naive": seasonal_naive_forecast(series, origins, horizon, season),
        "ets": ets_forecast(series, origins, horizon, season, n_fit),
    }


def _ets_one_target(column: np.ndarray, origins: np.ndarray, horizon: int, season: int, n_fit: int) -> np.ndarray:
    """Closed-form ETS forecasts of one target from each origin: [N] -> [len(origins), horizon],
    fitted on the newest :func:`ets_fit_points` of ``column[:n_fit]`` and filtered on from there."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    column, origins, n_fit = newest_fit(column, origins, n_fit, ets_fit_points(season))
    column = without_spikes(column, n_fit, season)
    seasonal = "add" if season > 1 and n_fit >= 2 * season else None
    m = season if seasonal else None
    p = _ets_params(np.ascontiguousarray(column[:n_fit], dtype=np.float64), m)
    with _quiet_fit():
        # Same parameters and initial states, recursions run on to the last origin.
        filtered = ExponentialSmoothing(
            column, trend="add", damped_trend=True, seasonal=seasonal, seasonal_periods=m,
            initialization_method="known", initial_level=p["initial_level"], initial_trend=p["initial_trend"],
            initial_seasonal=p["initial_seasons"] if seasonal else None,
        ).fit(
            smoothing_level=p["smoothing_level"], smoothing_trend=p["smoothing_trend"],
            smoothing_seasonal=p["smoothing_seasonal"] if seasonal else None,
            damping_trend=p["damping_trend"], optimized=False,
        )

    phi = float(p["damping_trend"])
    damped_steps = np.cumsum(phi ** np.arange(1, horizon + 1))  # [H] φ + … + φ^k
    level = np.asarray(filtered.level)[origins]  # [O]
    trend = np.asarray(filtered.trend)[origins]  # [O]
    forecast = level[:, None] + damped_steps[None, :] * trend[:, None]  # [O, H]
    if seasonal:
        seasons = np.asarray(filtered.season)
        forecast = forecast + seasons[origins[:, None] + _seasonal_offsets(horizon, season)[None, :]]
    if not np.all(np.isfinite(forecast)):
        raise ArithmeticError("non-finite forecast")
    return forecast


@contextlib.contextmanager
def _quiet_fit():
    """The optimiser's convergence and overflow chatter says nothing the metrics won't."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    with warnings_caught():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


SPIKE_MADS = 10.0     # a value this many robust standard deviations off its moving median is a spike ...
SPIKE_SHARE = 0.01    # ... while spikes are at most this share of the values (more: a pattern, left as it is)
FENCE = 3.0           # ... and it lies outside Tukey's far-out fences of the fit part (FENCE x IQR beyond a quartile)


def without_spikes(column: np.ndarray, n_fit: int, season: int) -> np.ndarray:
    """``column`` with the isolated spikes of its fit part ``column[:n_fit]`` replaced by the
    centred moving median over one season (``season`` steps, one more when even); as it is
    without a season (``season < 2``), a fit part shorter than two seasons, or no spike.

    A spike is a value more than :data:`SPIKE_MADS` robust standard deviations (1.4826 x the median
    absolute deviation) of the fit part's residuals from that median, as R's ``tsclean`` cleans a
    series for ETS, and outside the fit part's far-out fences (:data:`FENCE` interquartile ranges
    beyond a quartile: a dip of a daily cycle to its usual low is no spike, however sudden); a fit part with more than :data:`SPIKE_SHARE` of such values (regular
    promotions, intermittent demand) is left alone, as is each value whose window would reach past
    ``n_fit`` (the newest half season: a new level cannot be told from a spike there), so a forecast
    from any origin ``>= n_fit - 1`` reads nothing after it. Damped Holt-Winters' least squares fit
    chases one wild reading: a 5,000 among daily values near 55 (season 7) made its forecasts 14
    days later MAE 8.5-12.4, seasonal naive's 2.5; cleaned, 1.7."""
    width = season if season % 2 else season + 1
    half = width // 2
    if season < 2 or n_fit < 2 * width:
        return column
    fit = np.asarray(column[:n_fit], dtype=np.float64)
    median = np.median(np.lib.stride_tricks.sliding_window_view(fit, width), axis=1)    # centred at half..n_fit-half-1
    resid = fit[half:n_fit - half] - median
    spread = 1.4826 * np.median(np.abs(resid - np.median(resid)))
    if not spread > 0:
        return column
    q1, q3 = np.percentile(fit, [25, 75])
    values = fit[half:n_fit - half]
    spike = (np.abs(resid) > SPIKE_MADS * spread) & ((values < q1 - FENCE * (q3 - q1)) | (values > q3 + FENCE * (q3 - q1)))
    if not spike.any() or spike.sum() > SPIKE_SHARE * len(resid):
        return column
    out = np.array(column, dtype=np.float64)
    out[np.flatnonzero(spike) + half] = median[spike]
    return out


ETS_FIT_POINTS = 10_000   # the newest values of a fit part an ETS fit reads, at most (ets_fit_points)


def ets_fit_points(season: int) -> int:
    """The newest values of its fit part an ETS fit reads: ``max(ETS_FIT_POINTS, 4 x season)``
    (four seasons, as the blend's partner reads, :func:`lstmkit.tasks.forecast.combine.ets_history`).
    The optimiser reads its data thousands of times and took ever longer per value: fitting
    with a daily season on a 10,000-point hourly series took 2.5 s, on 50,000 points 143 s, and the
    test metrics of a 1,000,000-row minute series (season 1,440) spent 450 of the run's 570 s in
    one ETS fit of its 850,000 points (cProfile, 2 shared cores) after training ended. A series up to the bound is
    fitted exactly as before; the ETS baseline of a longer one is that of its newest values (the
    blend's partner fitted on the newest 1,000 of ETTh's ~10,000 scored better than on them all)."""
    return max(ETS_FIT_POINTS, 4 * max(int(season), 1))


def newest_fit(values: np.ndarray, origins, n_fit: int, keep: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    """``(values, origins, n_fit)`` from the newest ``keep`` values of the fit part ``values[:n_fit]``
    on (origins and ``n_fit`` counted from there): the values before them are never read again, by
    the fit or by the state filtered from it. As they are when ``keep`` is None or covers the fit part."""
    start = max(0, int(n_fit) - int(keep)) if keep else 0
    if not start:
        return values, origins, n_fit
    return values[start:], np.asarray(origins) - start, int(n_fit) - start


_ETS_FITS: "collections.OrderedDict[tuple[str, int | None], dict]" = collections.OrderedDict()
_ETS_KEPT = 16
_ETS_LOCK = threading.Lock()


def _ets_params(fit_part: np.ndarray, season: int | None) -> dict:
    """The fitted parameters of damped Holt-Winters on ``fit_part`` (float64), additive season
    ``season`` or none. The last 16 fits are kept, by the SHA-256 of the values: one forecast fit
    scores ETS on the same fit part for its validation windows, the doctor's baselines and the test
    metrics, and the optimiser is most of the baseline's time (0.1 s of each call on 340 points)."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    key = (hashlib.sha256(fit_part.tobytes()).hexdigest(), season)
    with _ETS_LOCK:                              # the service answers from several threads
        if key in _ETS_FITS:
            _ETS_FITS.move_to_end(key)
            return _ETS_FITS[key]
    with _quiet_fit():
        fitted = ExponentialSmoothing(
            fit_part, trend="add", damped_trend=True, seasonal="add" if season else None,
            seasonal_periods=season, initialization_method="estimated",
        ).fit()
    params = dict(fitted.params)
    with _ETS_LOCK:
        _ETS_FITS[key] = params
        while len(_ETS_FITS) > _ETS_KEPT:
            _ETS_FITS.popitem(last=False)
    return params


def _seasonal_offsets(horizon: int, season: int) -> np.ndarray:
    """k - m·⌈k/m⌉ for k = 1..horizon: where in the last observed cycle step k's value sits."""
    k = np.arange(1, horizon + 1)
    return k - season * -(-k // season)  # [H], each in (-m, 0]


def _index_offset(index) -> pd.DateOffset | None:
    if index is None or not isinstance(index, pd.DatetimeIndex):
        return None
    freq = index.freq
    if freq is None:
        if len(index) < 3:
            return None
        try:
            freq = infer_freq(index)          # semi-months too, which pandas does not infer
        except (TypeError, ValueError):
            return None
    if freq is None:
        return None
    try:
        return pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        return None


def _check_inputs(series, origins, horizon) -> tuple[np.ndarray, np.ndarray, int]:
    y = np.asarray(series, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] == 0:
        raise ValueError(f"Expected series of shape [N, n_targets], got {np.shape(series)}")
    t = np.asarray(origins)
    if t.ndim != 1 or (t.size and not np.issubdtype(t.dtype, np.integer)):
        raise ValueError(f"Expected origins as a 1-D array of integer indices, got dtype {t.dtype} shape {t.shape}")
    t = t.astype(np.int64)
    if t.size and (t.min() < 0 or t.max() >= y.shape[0]):
        raise ValueError(f"Expected origins in [0, {y.shape[0] - 1}], got range [{t.min()}, {t.max()}]")
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"Expected horizon to be a positive integer, got {horizon!r}")
    return y, t, int(horizon)


def _check_season(season) -> int:
    if isinstance(season, bool) or not isinstance(season, (int, np.integer)) or season < 1:
        raise ValueError(f"Expected season to be a positive integer, got {season!r}")
    return int(season)
