"""The test table's baselines on series whose errors are known by definition: on a clean trend
y = 10 + 2t the naive forecast from origin o misses step h by 2h, the seasonal naive one (season 4,
horizon 3) by 2 * 4 on every step, and the MASE scale (seasonal naive in-sample) is 8; so the rows
say where each origin is and which points are scored."""
import numpy as np
import pandas as pd
import pytest

from lstmkit import Forecaster
from lstmkit.tasks.forecast.evaluation import finite_mean, snaive, worst_series
from one_thread import one_thread_per_module  # noqa: F401  (autouse: one torch thread, module fixtures too)

QUICK = dict(lookback=6, horizon=3, season=4, hidden_size=8, num_layers=1, dropout=0.0, batch_size=64, lr=1e-2,
             progress="off", tensorboard=False, device="cpu", doctor=False, ensemble=1, max_epochs=1,
             samples_per_epoch=32, seed=0, combine="none", ets=False, val_size=3, test_size=6)


def trend(n=40, slope=2.0, start=10.0):
    return pd.DataFrame({"time": pd.date_range("2021-01-01", periods=n, freq="D"),
                         "y": start + slope * np.arange(n)})


@pytest.fixture(scope="module")
def fitted():
    return Forecaster(**QUICK).fit(trend(), target="y", time="time")


def test_the_naive_rows_of_a_clean_trend_miss_by_the_steps_since_their_origin(fitted):
    m = fitted.metrics_["metrics"]
    # each origin's naive forecast misses step h by 2h: MAE 2 * mean(1, 2, 3) = 4, RMSE sqrt(mean(4, 16, 36))
    assert m["naive"]["MAE"] == pytest.approx(4.0)
    assert m["naive"]["RMSE"] == pytest.approx(np.sqrt((4 + 16 + 36) / 3))
    assert m["seasonal_naive"]["MAE"] == pytest.approx(8.0)            # one season back: 4 steps of 2
    assert m["naive"]["MASE"] == pytest.approx(0.5)                    # scaled by the in-sample season error, 8
    assert m["seasonal_naive"]["MASE"] == pytest.approx(1.0)
    assert fitted.metrics_["test_points"] == 4 * 3                     # the 6 test points: 4 origins of 3 steps


def test_seasonal_naive_falls_back_to_naive_only_without_a_full_season_before_the_first_origin():
    vals = np.arange(20, dtype=float)[:, None]
    # origin 3 has the 4 points 0..3 before it and after: a full season of 4, so step 1 reads point 0
    assert snaive(vals, np.array([3]), 2, 4)[0, :, 0].tolist() == [0.0, 1.0]
    assert snaive(vals, np.array([2]), 2, 4)[0, :, 0].tolist() == [2.0, 2.0]   # 3 points: the naive forecast


def test_the_worst_series_are_listed_worst_first_and_a_series_without_a_scale_is_left_out():
    per = pd.DataFrame({"id": ["a", "b", "c", "d", "b"], "model": ["lstm"] * 4 + ["naive"],
                        "MASE": [0.5, 3.0, np.inf, 1.0, 9.0], "MAE": [1.0, 2.0, 3.0, 4.0, 5.0]})
    got = worst_series(per, "lstm", k=2)
    assert got == {"metric": "MASE", "series": [{"id": "b", "value": 3.0}, {"id": "d", "value": 1.0}]}
    no_scale = per.assign(MASE=np.nan)
    assert worst_series(no_scale, "lstm", k=1) == {"metric": "MAE", "series": [{"id": "d", "value": 4.0}]}
    assert finite_mean(np.array([1.0, np.nan, 3.0, np.inf])) == 2.0
    assert np.isnan(finite_mean(np.array([np.nan])))


def test_finite_forecasts_leave_every_series_in_without_a_word_when_every_forecast_is_finite():
    import warnings
    from lstmkit.tasks.forecast.evaluation import finite_forecasts
    per = pd.DataFrame({"id": ["a", "b", "a", "b"], "model": ["lstm", "lstm", "naive", "naive"],
                        "MAE": [1.0, 2.0, 3.0, 4.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert finite_forecasts(per, "lstm", "test") is per
    with pytest.warns(UserWarning, match="1 of 2 series are not finite"):
        assert finite_forecasts(per.assign(MAE=[np.nan, 2.0, 3.0, 4.0]), "lstm", "test")["id"].tolist() == ["b", "b"]


def test_ets_is_scored_for_up_to_20_series_and_the_undefined_metrics_warn_only_where_some_series_lack_them():
    import warnings
    from types import SimpleNamespace
    from lstmkit.tasks.forecast.evaluation import ETS_AUTO_MAX, _say_undefined, _with_ets
    assert ETS_AUTO_MAX == 20
    assert _with_ets(SimpleNamespace(ets=None), SimpleNamespace(ids=list(range(20))))
    assert not _with_ets(SimpleNamespace(ets=None), SimpleNamespace(ids=list(range(21))))
    rows = pd.DataFrame({"id": ["a", "b"], "MASE": [1.0, 2.0], "MAPE": [5.0, 6.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _say_undefined(rows)                                           # every series has both: nothing to say
    with pytest.warns(UserWarning, match=r"MASE is undefined for 1 of 2 series \(e.g. 'b'"):
        _say_undefined(rows.assign(MASE=[1.0, np.inf]))


def test_a_date_fill_inserted_is_no_point_scored_nor_one_mape_divides_by(tmp_path):
    """Day 37 missing from the test part (days 34 .. 39), filled: of the 4 origins' 12 target cells the 3
    that fall on it are left out, of the points and of MAPE's."""
    data = trend().drop(index=37)
    with pytest.warns(UserWarning, match="skips 1 step of its regular grid"):
        est = Forecaster(**QUICK, fill="ffill").fit(data, target="y", time="time")
    assert est.metrics_["test_points"] == 9
    per = pd.read_csv(est.save(tmp_path / "run") / "metrics_per_series.csv")
    assert set(per["points"]) == {9} and set(per["MAPE_points"]) == {9}
