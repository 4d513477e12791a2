import warnings

import numpy as np
import pandas as pd
import pytest

from lstmkit.tasks.forecast.baselines import (
    _ets_one_target,
    baseline_forecasts,
    ets_forecast,
    infer_season,
    naive_forecast,
    seasonal_naive_forecast,
    steps_per_day,
    without_spikes,
    zero_histories,
)
from lstmkit.tasks.forecast.metrics import forecast_metrics


def _seasonal_trend_series(n: int, season: int, noise: float = 0.3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 10 + 0.05 * t + 3 * np.sin(2 * np.pi * t / season) + rng.normal(0, noise, n)


def _targets(series: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    return np.stack([series[o + 1 : o + 1 + horizon] for o in origins])  # [O, H, T]


def test_naive_repeats_last_value():
    series = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    out = naive_forecast(series, np.array([0, 2]), horizon=2)
    assert out.shape == (2, 2, 2)
    np.testing.assert_array_equal(out[0], [[1, 10], [1, 10]])
    np.testing.assert_array_equal(out[1], [[3, 30], [3, 30]])


def test_seasonal_naive_repeats_last_cycle():
    series = np.arange(10.0)  # 1-D is one target
    out = seasonal_naive_forecast(series, np.array([5]), horizon=7, season=3)
    # last cycle observed at origin 5 is y[3], y[4], y[5]
    np.testing.assert_array_equal(out[0, :, 0], [3, 4, 5, 3, 4, 5, 3])
    np.testing.assert_array_equal(seasonal_naive_forecast(series, [4], 2, season=1), naive_forecast(series, [4], 2))
    with pytest.raises(ValueError, match="Expected origins >= season - 1"):
        seasonal_naive_forecast(series, np.array([1]), horizon=2, season=3)


@pytest.mark.parametrize(
    "freq, season",
    [("h", 24), ("D", 7), ("B", 5), ("W", 52), ("W-WED", 52), ("MS", 12), ("ME", 12), ("QS-OCT", 4), ("QE", 4),
     ("YS", 1), ("min", 60), ("2h", 12)],
)
def test_infer_season_from_frequency(freq, season):
    index = pd.date_range("2020-01-01", periods=400, freq=freq)
    assert infer_season(index, n=400) == season
    # without the freq attribute the frequency is inferred from the timestamps
    assert infer_season(pd.DatetimeIndex(list(index)), n=400) == season


@pytest.mark.parametrize(
    "freq, n, season",
    [("30min", 400, 48), ("15min", 400, 96), ("5min", 1000, 288), ("min", 3000, 1440), ("10min", 400, 144),
     ("min", 2000, 60),      # fewer than two days: the hour, as before
     ("30min", 90, 2), ("7min", 3000, 1), ("s", 400, 60)],
)
def test_infer_season_sub_hourly_goes_by_the_day(freq, n, season):
    index = pd.date_range("2020-01-01", periods=n, freq=freq)
    assert infer_season(index, n=n) == season
    assert infer_season(pd.DatetimeIndex(list(index)), n=n) == season


def test_infer_season_unknown_or_too_long():
    assert infer_season(None, n=100) == 1
    irregular = pd.DatetimeIndex(["2020-01-01", "2020-01-02", "2020-01-05", "2020-01-11"])
    assert infer_season(irregular, n=4) == 1
    assert infer_season(pd.date_range("2020-01-01", periods=100, freq="W"), n=100) == 1  # 52 >= 100 / 2


def test_ets_closed_form_matches_statsmodels_forecast():
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    season, n_fit, horizon = 12, 120, 15
    y = _seasonal_trend_series(160, season)
    ours = _ets_one_target(y, np.array([n_fit - 1]), horizon, season, n_fit)[0]
    fitted = ExponentialSmoothing(
        y[:n_fit], trend="add", damped_trend=True, seasonal="add", seasonal_periods=season,
        initialization_method="estimated",
    ).fit()
    np.testing.assert_allclose(ours, fitted.forecast(horizon), rtol=0, atol=1e-8)


def test_ets_uses_season_only_with_two_cycles_to_fit():
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    y = _seasonal_trend_series(60, season=12)
    ours = ets_forecast(y, np.array([39]), horizon=5, season=12, n_fit=40)[0, :, 0]  # 40 >= 2 * 12: seasonal
    fitted = ExponentialSmoothing(
        y[:40], trend="add", damped_trend=True, seasonal="add", seasonal_periods=12, initialization_method="estimated"
    ).fit()
    np.testing.assert_allclose(ours, fitted.forecast(5), atol=1e-8)
    ours = ets_forecast(y, np.array([19]), horizon=5, season=12, n_fit=20)[0, :, 0]  # 20 < 24: no seasonal term
    fitted = ExponentialSmoothing(y[:20], trend="add", damped_trend=True, initialization_method="estimated").fit()
    np.testing.assert_allclose(ours, fitted.forecast(5), atol=1e-8)


def test_ets_has_no_look_ahead():
    season, n_fit, horizon = 12, 120, 6
    y = _seasonal_trend_series(200, season)
    origins = np.arange(n_fit - 1, 190)
    before = ets_forecast(y, origins, horizon, season, n_fit)[:, :, 0]
    cut = 150
    changed = y.copy()
    changed[cut + 1 :] += 100.0
    after = ets_forecast(changed, origins, horizon, season, n_fit)[:, :, 0]
    upto = origins <= cut
    np.testing.assert_array_equal(before[upto], after[upto])
    assert not np.allclose(before[~upto], after[~upto])  # later origins do see the new data


def _daily(n=730, seed=0):
    t = np.arange(n)
    return 50 + 10 * np.sin(2 * np.pi * t / 7) + 0.02 * t + np.random.default_rng(seed).normal(0, 2, n)


@pytest.mark.parametrize("at", [100, 400, 690, 710])
def test_one_spike_in_the_fit_part_no_longer_ruins_ets(at):
    """A 5,000 among daily values near 55: damped Holt-Winters chased it and its forecasts 14 days
    later had an MAE of 8.5-204 where seasonal naive's was 2.5 (706 with the spike in its last week)."""
    y = _daily()
    clean = y.copy()
    y[at] = 5000.0
    got = ets_forecast(y, np.array([715]), 14, 7, 716)[0, :, 0]
    truth = y[716:730]
    assert np.abs(got - truth).mean() < 2.0
    without = ets_forecast(clean, np.array([715]), 14, 7, 716)[0, :, 0]         # as if the spike had never been
    assert np.abs(got - without).max() < 1.0


def test_without_spikes_replaces_only_isolated_far_out_values_in_the_fit_part():
    y = _daily()
    assert without_spikes(y, 716, 7) is y                                    # nothing to clean
    y[400] = 5000.0
    out = without_spikes(y, 716, 7)
    assert np.flatnonzero(out != y).tolist() == [400] and 40 < out[400] < 70
    assert without_spikes(y, 716, 1) is y                                    # no season: nothing judged
    late = y.copy()
    late[713] = 5000.0                                                       # within half a season of the end
    assert np.flatnonzero(without_spikes(late, 716, 7) != late).tolist() == [400]
    after = y.copy()
    after[720] = 5000.0                                                      # after the fit part: never read
    assert without_spikes(after, 716, 7)[720] == 5000.0
    promos = _daily()
    promos[::28] *= 20                                                       # a promotion every 4 weeks: a pattern
    assert without_spikes(promos, 716, 7) is promos
    dip = _daily()
    dip[300] = 35.0                                                          # sudden, but within the usual range
    assert without_spikes(dip, 716, 7) is dip
    intermittent = np.random.default_rng(1).poisson(0.4, 730).astype(float) * 10
    assert without_spikes(intermittent, 716, 7) is intermittent


def test_ets_beats_naive_on_seasonal_trend_series():
    season, n_fit, horizon = 12, 144, 12
    y = _seasonal_trend_series(240, season, noise=0.2)[:, None]
    origins = np.arange(n_fit - 1, 240 - horizon)
    forecasts = baseline_forecasts(y, origins, horizon, season, n_fit)
    assert set(forecasts) == {"naive", "seasonal_naive", "ets"}
    truth = _targets(y, origins, horizon)
    mae = {name: forecast_metrics(truth, f, y[:n_fit], season)["MAE"] for name, f in forecasts.items()}
    assert mae["ets"] < mae["seasonal_naive"] < mae["naive"]


def test_ets_constant_target_falls_back_to_naive():
    y = np.stack([_seasonal_trend_series(80, 4), np.full(80, 3.0)], axis=1)
    origins = np.array([59, 70])
    with pytest.warns(UserWarning, match="target 1 is constant"):
        out = ets_forecast(y, origins, horizon=3, season=4, n_fit=60)
    np.testing.assert_array_equal(out[:, :, 1], 3.0)
    assert np.all(np.isfinite(out))


def test_ets_rejects_in_sample_origins():
    y = _seasonal_trend_series(50, 4)
    with pytest.raises(ValueError, match="n_fit - 1"):
        ets_forecast(y, np.array([10]), horizon=2, season=4, n_fit=40)


def test_ets_is_fast_and_quiet_on_long_weekly_series(monkeypatch):
    """Fast by construction, not by a clock (a timed test fails on a loaded machine): the model is
    fitted once and its recursions run once, whatever the number of origins."""
    import collections

    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    from lstmkit.tasks.forecast import baselines
    monkeypatch.setattr(baselines, "_ETS_FITS", collections.OrderedDict())      # no fit kept from another test
    fits, fit = [], ExponentialSmoothing.fit
    monkeypatch.setattr(ExponentialSmoothing, "fit", lambda self, *a, **k: fits.append(k) or fit(self, *a, **k))
    y = _seasonal_trend_series(2000, 52, noise=1.0)
    origins = np.arange(1599, 2000 - 8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ets_forecast(y, origins, horizon=8, season=52, n_fit=1600)
    assert len(fits) == 2 and fits[1]["optimized"] is False     # one optimised fit, one fixed-parameter pass
    assert out.shape == (origins.size, 8, 1) and np.all(np.isfinite(out))


def test_ets_fitted_on_the_same_part_again_reuses_its_parameters(monkeypatch):
    """A forecast fit scores ETS on one fit part several times (validation windows, the doctor's
    baselines, test metrics): the optimiser runs once per fit part, and the forecasts are the same."""
    import collections

    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    from lstmkit.tasks.forecast import baselines
    monkeypatch.setattr(baselines, "_ETS_FITS", collections.OrderedDict())
    optimised, fit = [], ExponentialSmoothing.fit
    monkeypatch.setattr(ExponentialSmoothing, "fit",
                        lambda self, *a, **k: (optimised.append(1) if k.get("optimized", True) else None) or fit(self, *a, **k))
    y = _seasonal_trend_series(200, 12)
    first = ets_forecast(y, np.arange(149, 190), horizon=6, season=12, n_fit=150)
    again = ets_forecast(y, np.arange(169, 195), horizon=4, season=12, n_fit=150)    # other origins, same fit part
    assert len(optimised) == 1
    np.testing.assert_array_equal(first[20:][:, :4], again[:21])                       # origins 169.. in both
    other = y.copy()
    other[10] += 1.0                                                                   # another fit part: fitted anew
    ets_forecast(other, np.arange(149, 190), horizon=6, season=12, n_fit=150)
    assert len(optimised) == 2


def test_ets_on_a_long_series_is_fitted_on_its_newest_values(monkeypatch):
    """The test metrics of a 1,000,000-row minute series spent 450 of the run's 570 s fitting ETS on
    its 850,000 fit points (the optimiser's cost grew faster than the points): a fit reads the newest
    ets_fit_points of them, and forecasts as ETS on those values alone; a series up to it as before."""
    import collections

    from lstmkit.tasks.forecast import baselines
    from lstmkit.tasks.forecast.baselines import ETS_FIT_POINTS, ets_fit_points
    monkeypatch.setattr(baselines, "_ETS_FITS", collections.OrderedDict())
    fitted, fit = [], baselines._ets_params
    monkeypatch.setattr(baselines, "_ets_params", lambda part, season: fitted.append(len(part)) or fit(part, season))
    n_fit = 3 * ETS_FIT_POINTS
    y = _seasonal_trend_series(n_fit + 20, 1, noise=1.0)
    origins = np.array([n_fit - 1, n_fit + 5])
    got = ets_forecast(y, origins, horizon=4, season=1, n_fit=n_fit)
    assert fitted == [ETS_FIT_POINTS]                                     # was [30000]
    start = n_fit - ETS_FIT_POINTS
    np.testing.assert_array_equal(got, ets_forecast(y[start:], origins - start, horizon=4, season=1,
                                                    n_fit=ETS_FIT_POINTS))
    ets_forecast(y, origins[:1] - 10, horizon=4, season=1, n_fit=n_fit - 10)
    assert fitted[-1] == ETS_FIT_POINTS
    ets_forecast(y[:50], np.array([39]), horizon=4, season=1, n_fit=40)  # short: all of it
    assert fitted[-1] == 40
    assert ets_fit_points(5000) == 4 * 5000 and ets_fit_points(1440) == ETS_FIT_POINTS


def test_ets_finds_the_blas_libraries_once_and_fits_on_one_blas_thread(monkeypatch):
    """threadpoolctl's look-up of the loaded libraries is done once, not on every series' ETS (7 ms each:
    20 series scored for the doctor and for the test metrics spent 0.3 s a fit on it)."""
    import threadpoolctl
    from lstmkit.tasks.forecast import baselines

    made, threads = [], []
    real = threadpoolctl.ThreadpoolController

    class Counted(real):
        def __init__(self):
            made.append(1)
            super().__init__()

    def one_target(*args):
        threads.append({c.num_threads for c in real().select(user_api="blas").lib_controllers})   # not counted
        return real_one(*args)

    real_one = baselines._ets_one_target
    monkeypatch.setattr(threadpoolctl, "ThreadpoolController", Counted)
    monkeypatch.setattr(baselines, "_BLAS", [], raising=False)
    monkeypatch.setattr(baselines, "_ets_one_target", one_target)
    for k in range(3):
        ets_forecast(_seasonal_trend_series(60 + k, 12), np.array([49]), horizon=4, season=12, n_fit=50)
    assert len(made) == 1 and threads == [{1}] * 3


@pytest.mark.parametrize("freq, steps", [("h", 24), ("30min", 48), ("15min", 96), ("7min", 0), ("min", 1440),
                                         ("s", 86_400), ("D", 0), ("2D", 0), ("MS", 0), ("W", 0)])
def test_steps_per_day_counts_steps_shorter_than_a_day_that_divide_it(freq, steps):
    got = steps_per_day(pd.date_range("2024-01-01", periods=10, freq=freq))
    assert got == steps and isinstance(got, int)


def test_steps_per_day_of_no_index_is_zero():
    assert steps_per_day(None) == 0 and steps_per_day(pd.RangeIndex(10)) == 0


def test_zero_histories_match_a_direct_check_of_each_window():
    rng = np.random.default_rng(3)
    values = rng.choice([0.0, 0.0, 0.0, 2.5, -1.0], size=(30, 3))
    values[5:20, 1] = 0.0
    starts = np.array([0, 5, 7, 12, 20, 9, 4])
    ends = np.array([4, 20, 18, 12, 30, 10, 5])                 # 12:12 is empty: no history, not "all zero"
    expected = np.array([[e > s and not values[s:e, j].any() for j in range(3)] for s, e in zip(starts, ends)])
    assert expected[:, 1].sum() >= 2 and not expected[3].any()
    np.testing.assert_array_equal(zero_histories(values, starts, ends), expected)


def test_seasonal_naive_needs_one_full_cycle_before_the_first_origin():
    series = np.arange(10.0)
    out = seasonal_naive_forecast(series, np.array([2]), horizon=4, season=3)    # y[0], y[1], y[2] observed
    np.testing.assert_array_equal(out[0, :, 0], [0, 1, 2, 0])
    with pytest.raises(ValueError, match="origins >= season - 1 = 2"):
        seasonal_naive_forecast(series, np.array([1, 5]), horizon=4, season=3)


@pytest.mark.parametrize("n_fit", [0, 1, 41, 2.0, True])
def test_ets_refuses_a_fit_part_outside_the_series(n_fit):
    with pytest.raises(ValueError, match="n_fit to be an integer in \\[2, 40\\]"):
        ets_forecast(_seasonal_trend_series(40, 4), np.array([39]), horizon=2, season=4, n_fit=n_fit)


def test_ets_without_a_season_is_statsmodels_damped_holt():
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    y = _seasonal_trend_series(60, season=5)
    ours = ets_forecast(y, np.array([39]), horizon=5, season=1, n_fit=40)[0, :, 0]
    fitted = ExponentialSmoothing(y[:40], trend="add", damped_trend=True, initialization_method="estimated").fit()
    np.testing.assert_allclose(ours, fitted.forecast(5), atol=1e-8)


def _damped_holt_winters(y, p, season, horizon):
    """Additive damped Holt-Winters by its recursions (statsmodels' form, its fitted ``p``) and
    Hyndman's forecast l_T + (φ + … + φ^h)·b_T + s_{T+h-m(⌊(h-1)/m⌋+1)}: the newest season at h = m."""
    a, b_, g, phi = p["smoothing_level"], p["smoothing_trend"], p["smoothing_seasonal"], p["damping_trend"]
    level, trend, seasons = p["initial_level"], p["initial_trend"], list(p["initial_seasons"])
    for value in y:
        s_old, before = seasons[-season], level + phi * trend
        level = a * (value - s_old) + (1 - a) * before
        trend = b_ * (level - (before - phi * trend)) + (1 - b_) * phi * trend
        seasons.append(g * (value - before) + (1 - g) * s_old)
    h = np.arange(1, horizon + 1)
    return level + np.cumsum(phi ** h) * trend + np.array(seasons)[len(seasons) - 1 + h - season * ((h - 1) // season + 1)]


def test_ets_fits_its_season_from_exactly_two_cycles():
    """Fitted on two cycles its seasonal smoothing is 1: the newest season is the last cycle as seen,
    which step m reads (statsmodels 0.15's own forecast read the cycle before there, its issue #9538)."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    y = _seasonal_trend_series(40, season=6)
    ours = ets_forecast(y, np.array([11]), horizon=13, season=6, n_fit=12)[0, :, 0]
    p = dict(ExponentialSmoothing(y[:12], trend="add", damped_trend=True, seasonal="add", seasonal_periods=6,
                                  initialization_method="estimated").fit().params)
    assert p["smoothing_seasonal"] > 0.5                       # the newest season differs from the one before
    np.testing.assert_allclose(ours, _damped_holt_winters(y[:12], p, 6, 13), atol=1e-8)


def test_spikes_are_cleaned_up_to_their_share_of_the_fit_part():
    """SPIKE_SHARE of the judged values (those a centred season wide window fits in) may be spikes, and no more."""
    from lstmkit.tasks.forecast.baselines import SPIKE_SHARE
    y = _daily()
    judged = int(round(1 / SPIKE_SHARE))                                     # 100 judged values: one spike allowed
    n_fit = judged + 6                                                       # season 7: 3 each side are not judged
    one = y.copy()
    one[50] = 5000.0
    assert np.flatnonzero(without_spikes(one, n_fit, 7) != one).tolist() == [50]
    two = one.copy()
    two[80] = 5000.0
    assert without_spikes(two, n_fit, 7) is two


def test_ets_fits_kept_are_the_last_used(monkeypatch):
    """The cache keeps the _ETS_KEPT fit parts used last: one used again stays, the oldest goes."""
    import collections

    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    from lstmkit.tasks.forecast import baselines
    monkeypatch.setattr(baselines, "_ETS_FITS", collections.OrderedDict())
    monkeypatch.setattr(baselines, "_ETS_KEPT", 2)
    optimised, fit = [], ExponentialSmoothing.fit
    monkeypatch.setattr(ExponentialSmoothing, "fit", lambda self, *a, **k: optimised.append(1) or fit(self, *a, **k))
    a, b, c = (_seasonal_trend_series(30, 6, seed=s) for s in (1, 2, 3))

    def fits(*parts):
        before = len(optimised)
        for part in parts:
            baselines._ets_params(part, None)
        return len(optimised) - before

    assert fits(a, b, a) == 2                  # a used again: kept
    assert fits(c) == 1                        # c in, b (the oldest used) out
    assert fits(a, c) == 0 and fits(b) == 1


def test_baselines_check_the_series_and_origins():
    np.testing.assert_array_equal(naive_forecast(np.array([4.0]), np.array([0]), 2), [[[4.0], [4.0]]])   # one point
    with pytest.raises(ValueError, match=r"Expected series of shape \[N, n_targets\], got \(0,\)"):
        naive_forecast(np.array([]), np.array([0]), 2)
    with pytest.raises(ValueError, match=r"Expected origins in \[0, 4\], got range \[1, 5\]"):
        naive_forecast(np.arange(5.0), np.array([1, 5]), 2)
    with pytest.raises(ValueError, match=r"Expected origins in \[0, 4\], got range \[-1, 2\]"):
        naive_forecast(np.arange(5.0), np.array([-1, 2]), 2)


def test_steps_per_day_of_an_index_without_its_freq_set_is_inferred_from_three_times():
    times = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 02:00"])
    assert times.freq is None and steps_per_day(times) == 24 and steps_per_day(times[:2]) == 0


@pytest.mark.parametrize("horizon", [0, -1, 2.0, True])
def test_baselines_refuse_a_horizon_that_is_no_positive_integer(horizon):
    with pytest.raises(ValueError, match="Expected horizon to be a positive integer"):
        naive_forecast(np.arange(5.0), np.array([4]), horizon)


def test_a_far_reading_within_the_spread_of_noisy_values_is_no_spike():
    """Noise of sd 10: a reading 60 above is outside the far-out fences but within SPIKE_MADS robust
    standard deviations of its moving median, so it is kept."""
    y = 100 + np.random.default_rng(4).normal(0, 10, 300)
    y[150] = 160.0
    assert without_spikes(y, 300, 7) is y
    y[150] = 400.0
    assert np.flatnonzero(without_spikes(y, 300, 7) != y).tolist() == [150]
