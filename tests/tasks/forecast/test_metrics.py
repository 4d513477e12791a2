import math

import numpy as np
import pytest

from lstmkit.tasks.forecast.metrics import forecast_metrics, format_probabilistic, format_table, mase_scale


def test_known_answers_1d():
    m = forecast_metrics([1.0, 2.0, 3.0], [2.0, 2.0, 2.0], y_train=[0.0, 1.0, 3.0])
    assert m["MAE"] == pytest.approx(2 / 3)
    assert m["RMSE"] == pytest.approx(math.sqrt(2 / 3))
    assert m["MAPE"] == pytest.approx(100 * (1 / 1 + 0 + 1 / 3) / 3)
    assert m["sMAPE"] == pytest.approx(100 * (2 / 3 + 0 + 2 / 5) / 3)
    # naive scale of [0, 1, 3] = mean(1, 2) = 1.5
    assert m["MASE"] == pytest.approx((2 / 3) / 1.5)


def test_mape_skips_zeros_and_smape_counts_double_zero_as_zero():
    m = forecast_metrics([0.0, 0.0, 2.0], [0.0, 1.0, 1.0], y_train=[0.0, 1.0])
    assert m["MAPE"] == pytest.approx(50.0)  # only the y=2 point counts
    assert m["sMAPE"] == pytest.approx(100 * (0 + 2 + 2 / 3) / 3)
    assert math.isnan(forecast_metrics([0.0, 0.0], [1.0, 1.0], [0.0, 1.0])["MAPE"])


def test_mase_scale_seasonal_and_fallback():
    train = np.array([1.0, 5.0, 2.0, 7.0, 4.0, 8.0])
    assert mase_scale(train, season=2)[0] == pytest.approx(np.mean([1, 2, 2, 1]))
    assert mase_scale(train, season=1)[0] == pytest.approx(np.mean([4, 3, 5, 3, 4]))
    # too short for season 6: falls back to lag 1
    assert mase_scale(train, season=6)[0] == pytest.approx(mase_scale(train, season=1)[0])


def test_a_part_that_repeats_its_season_exactly_has_scale_zero():
    """A clean generated sine repeats every 7 steps up to float rounding: its seasonal scale was
    ~1e-15, and MASE 1e14. It is 0 (MASE inf, NaN when the forecast is exact too), in the metrics
    and in the backtest's running sums alike."""
    from lstmkit.tasks.forecast.backtest import _mase_scales, _Series
    import pandas as pd
    y = 10 + np.sin(2 * np.pi * np.arange(70) / 7)
    assert 0 < np.mean(np.abs(y[7:] - y[:-7])) < 1e-12                     # the rounding
    assert mase_scale(y, season=7)[0] == 0.0 and mase_scale(y, season=1)[0] > 0
    assert forecast_metrics(y[:5] + 0.1, y[:5], y, season=7)["MASE"] == math.inf
    ser = _Series(pd.DataFrame({"y": y}), ["y"], np.zeros(70, dtype=np.intp), pd.Index(["s"]))
    assert _mase_scales(ser, np.array([0]), np.array([60]), 7)[0, 0] == 0.0
    assert _mase_scales(ser, np.array([0]), np.array([60]), 1)[0, 0] == pytest.approx(mase_scale(y[:60], 1)[0])


def test_mase_is_mean_over_targets_of_per_target_ratio():
    train = np.array([[0.0, 0.0], [1.0, 10.0], [2.0, 20.0]])  # scales 1 and 10
    y_true = np.zeros((2, 3, 2))  # [n_origins, horizon, n_targets]
    y_pred = np.concatenate([np.full((2, 3, 1), 2.0), np.full((2, 3, 1), 5.0)], axis=-1)
    m = forecast_metrics(y_true, y_pred, train)
    assert m["MASE"] == pytest.approx((2 / 1 + 5 / 10) / 2)
    assert m["MAE"] == pytest.approx(3.5)


def test_2d_with_1d_train_is_origins_by_horizon():
    y_true = np.array([[1.0, 2.0], [3.0, 4.0]])
    m = forecast_metrics(y_true, y_true + 1, y_train=[0.0, 2.0])
    assert m["MAE"] == 1.0 and m["MASE"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    "y_true, y_pred, y_train",
    [
        (np.zeros((2, 3, 1)), np.zeros((2, 3)), np.zeros((5, 1))),  # shape mismatch
        (np.zeros((2, 3, 2)), np.zeros((2, 3, 2)), np.zeros((5, 3))),  # target count mismatch
        (np.zeros((2, 3, 1, 1)), np.zeros((2, 3, 1, 1)), np.zeros((5, 1))),  # too many axes
        (np.zeros(3), np.zeros(3), np.zeros(1)),  # train too short
    ],
)
def test_shape_validation(y_true, y_pred, y_train):
    with pytest.raises(ValueError, match="Expected"):
        forecast_metrics(y_true, y_pred, y_train)


def test_format_table_aligns_rows():
    rows = {
        "naive": {"MAE": 1.23456, "RMSE": 2.0, "MAPE": 12.3456, "sMAPE": 11.0, "MASE": 1.0},
        "lstm": {"MAE": 0.5, "RMSE": 0.75, "MAPE": float("nan"), "sMAPE": 5.0, "MASE": 0.41},
    }
    *lines, note = format_table(rows).splitlines()                      # lstm's MAPE n/a: a note says why
    assert note.startswith("MAPE n/a")
    assert lines[0].split() == ["model", "MAE", "RMSE", "MAPE", "sMAPE", "MASE"]
    assert lines[1].split() == ["naive", "1.235", "2", "12.35", "11", "1"]
    assert lines[2].split() == ["lstm", "0.5", "0.75", "n/a", "5", "0.41"]
    assert len({len(line) for line in lines}) == 1  # right-aligned columns end together


def test_a_constant_training_part_leaves_mase_undefined_and_the_table_says_why():
    m = forecast_metrics(np.array([[5.0], [6.0]]), np.array([[5.0], [5.5]]), np.full((20, 1), 5.0))
    assert not np.isfinite(m["MASE"]) and m["MAE"] == pytest.approx(0.25)      # inf: an error over 0
    lines = format_table({"lstm": m, "naive": {**m, "MASE": 1.0}}).splitlines()
    assert lines[1].split()[-1] == "n/a" and lines[2].split()[-1] == "1"
    assert lines[-1].startswith("MASE n/a: the training part repeats itself exactly") and len(lines) == 4


def test_a_model_that_forecast_no_finite_number_is_told_so_not_what_the_data_leaves_undefined():
    """A transformer diverged at --lr 50 forecast NaN: its row of n/a read "MASE n/a: the training part
    repeats itself exactly" and "MAPE n/a: every actual value is 0", both false of the data."""
    nan = float("nan")
    rows = {"transformer": dict.fromkeys(("MAE", "RMSE", "MAPE", "sMAPE", "MASE"), nan),
            "naive": {"MAE": 15.6, "RMSE": 17.1, "MAPE": 6.64, "sMAPE": 6.62, "MASE": 1.29}}
    *lines, note = format_table(rows).splitlines()
    assert lines[1].split() == ["transformer", "n/a", "n/a", "n/a", "n/a", "n/a"]
    assert note.startswith("transformer n/a: its forecasts are not finite numbers") and "lower learning rate" in note
    assert "MASE n/a" not in format_table(rows) and "MAPE n/a" not in format_table(rows)


def test_the_probabilistic_line_says_n_a_and_why_for_an_undefined_wql():
    line, note = format_probabilistic({"coverage_80": 1.0, "CRPS": 0.1854, "wQL": float("nan")}).splitlines()
    assert line == "probabilistic: coverage_80 1, CRPS 0.1854, wQL n/a"
    assert note.startswith("wQL n/a: every actual value is 0")
    assert format_probabilistic({"wQL": 0.037}) == "probabilistic: wQL 0.037"


def test_a_test_part_of_zeros_leaves_mape_undefined_and_the_table_says_why():
    m = forecast_metrics(np.zeros((4, 1)), np.full((4, 1), 0.5), np.array([[0.0], [1.0], [0.0]]))
    assert np.isnan(m["MAPE"]) and m["sMAPE"] == 200.0
    lines = format_table({"lstm": m}).splitlines()
    assert lines[1].split()[3] == "n/a" and len(lines) == 3
    assert lines[-1].startswith("MAPE n/a: every actual value is 0")
    assert "MAPE n/a" not in format_table({"lstm": {**m, "MAPE": 3.0}})


def test_an_actual_value_within_float_rounding_of_zero_counts_as_zero_in_mape():
    """sin(2πt/7)·t, generated, is 1e-14 where it should be 0: MAPE was 1e13, in metrics and backtest alike."""
    from lstmkit.tasks.forecast.backtest import metric_rows
    t = np.arange(1, 15)
    y = np.sin(2 * np.pi * t / 7) * t * 10
    assert 0 < abs(y[6]) < 1e-12                                            # t = 7: the rounding
    pred = y + 1.0
    m = forecast_metrics(y, pred, y_train=[0.0, 1.0])
    others = np.abs(y) > 1e-9
    assert m["MAPE"] == pytest.approx(100 * np.mean(1.0 / np.abs(y[others])))
    rows = metric_rows(y.reshape(2, 7, 1), pred.reshape(2, 7, 1), np.ones((2, 1)))
    assert rows["MAPE"][0] == pytest.approx(100 * np.mean(1.0 / np.abs(y[:6])))
    assert forecast_metrics([1e-12, 2e-12], [2e-12, 2e-12], y_train=[0.0, 1.0])["MAPE"] == pytest.approx(50.0)


def test_the_mape_warning_says_which_points_it_counts_when_a_series_holds_only_zeros():
    """A many-series file with an item that never sold: the warning counted the points of the other
    series ('61 of 140 test points' under a table of 168) with no word of why."""
    import pandas as pd

    from lstmkit import Forecaster
    rng = np.random.default_rng(0)
    t = pd.date_range("2021-01-01", periods=60, freq="D")
    data = pd.concat([pd.DataFrame({"item": "never", "time": t, "y": np.zeros(60)}),
                      pd.DataFrame({"item": "sold", "time": t, "y": rng.poisson(1.0, 60).astype(float)})])
    est = Forecaster(lookback=8, horizon=3, hidden_size=4, num_layers=1, max_epochs=1, ensemble=1, progress="off",
                     tensorboard=False, doctor=False, seed=0, combine="none", samples_per_epoch=32,
                     ).fit(data, target="y", time="time", id="item")
    actual = data.loc[data["item"] == "sold", "y"].to_numpy()[-3:]
    zeros = int((actual == 0).sum())
    assert 0 < zeros < 3                                                  # the case: zeros among the sold item's
    with pytest.warns(UserWarning, match=rf"^MAPE leaves out the {zeros} of 3 test points whose actual value is 0 \(a "
                                         r"percentage of 0 is undefined; the 3 are those of the 1 series not 0 "
                                         r"throughout, the other 1 having no MAPE\): it is the mean over the other"):
        est.evaluate(data)
    with pytest.warns(UserWarning, match=r"backtest points whose actual value is 0 \(a percentage of 0 is undefined; "
                                         r"the \d+ are those of the 2 series' folds not 0 throughout, the other 2 "
                                         r"having no MAPE\)"):
        est.backtest(data, folds=2)


def test_rmse_squares_each_error_before_the_mean():
    """Errors of 1, 2 and 3 (not only 0 and 1, where an error and its square agree)."""
    m = forecast_metrics([1.0, 2.0, 3.0], [2.0, 0.0, 6.0], y_train=[0.0, 1.0])
    assert m["MAE"] == pytest.approx(2.0)
    assert m["RMSE"] == pytest.approx(math.sqrt((1 + 4 + 9) / 3))


def test_an_actual_value_not_observed_is_left_out_of_every_metric():
    """A --fill run's gap (actual NaN) is no point: each metric is that of the observed points alone,
    each target on its own points."""
    y = np.array([[2.0, 1.0], [np.nan, 3.0], [4.0, np.nan], [5.0, 2.0]])
    pred = np.array([[1.0, 2.0], [7.0, 3.5], [4.5, 9.0], [5.0, 4.0]])
    train = np.array([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]])               # scales 1.5 and 2
    m = forecast_metrics(y, pred, train)
    actual = np.array([2.0, 4.0, 5.0, 1.0, 3.0, 2.0])                     # target 0's three, target 1's three
    forecast = np.array([1.0, 4.5, 5.0, 2.0, 3.5, 4.0])
    err = np.abs(actual - forecast)
    assert m["MAE"] == pytest.approx(err.mean())
    assert m["RMSE"] == pytest.approx(np.sqrt(np.mean(err ** 2)))
    assert m["MAPE"] == pytest.approx(100 * np.mean(err / actual))
    assert m["sMAPE"] == pytest.approx(100 * np.mean(2 * err / (actual + forecast)))
    assert m["MASE"] == pytest.approx((1.5 / 3 / 1.5 + 3.5 / 3 / 2) / 2)


def test_mase_is_the_mean_over_the_targets_with_a_scale_and_an_observed_point():
    """A target held still in training (scale 0) or never observed in the test part has no MASE of its own:
    the mean is over the others (one such target made the MASE of all inf or NaN); one observed point counts."""
    train = np.array([[5.0, 0.0, 0.0], [5.0, 1.0, 2.0], [5.0, 2.0, 4.0]])  # scales 0, 1, 2
    y = np.array([[5.0, 1.0, 3.0], [5.0, 3.0, 5.0]])
    pred = np.array([[6.0, 2.0, 3.0], [5.0, 4.0, 9.0]])                     # MAE per target: 0.5, 1, 2
    assert mase_scale(train).shape == (3,)
    assert forecast_metrics(y, pred, train)["MASE"] == pytest.approx((1 / 1 + 2 / 2) / 2)
    y_gaps = np.array([[np.nan, 1.0, np.nan], [np.nan, 3.0, 5.0]])         # target 0 never seen, target 2 once
    train_moving = train + np.array([[0.0], [3.0], [6.0]])                  # scales 3, 4, 5
    assert forecast_metrics(y_gaps, pred, train_moving)["MASE"] == pytest.approx((1 / 4 + 4 / 5) / 2)


def test_metric_rows_score_each_row_with_its_own_targets_that_have_a_scale():
    """A backtest's rows (folds, series): which targets have a MASE scale differs from row to row."""
    from lstmkit.tasks.forecast.metrics import metric_rows
    y = np.zeros((3, 2, 2))                                                  # [R, H, T]
    pred = np.repeat([[[1.0, 2.0]], [[3.0, 4.0]], [[5.0, 6.0]]], 2, axis=1)  # each row's MAE per target
    scale = np.array([[0.0, 4.0], [1.0, 2.0], [5.0, 0.0]])
    rows = metric_rows(y, pred, scale)
    np.testing.assert_allclose(rows["MASE"], [2 / 4, (3 / 1 + 4 / 2) / 2, 5 / 5])
    np.testing.assert_allclose(rows["MAE"], [1.5, 3.5, 5.5])


def test_the_mase_scale_leaves_out_the_differences_a_gap_is_in_in_any_units():
    y = np.array([1.0, 2.0, np.nan, 4.0, 6.0])                              # differences 1, -, -, 2
    assert mase_scale(y)[0] == pytest.approx(1.5)
    assert mase_scale(y * 1e-12)[0] == pytest.approx(1.5e-12)              # tiny units: a scale, not rounding
    assert mase_scale(y * 1e12)[0] == pytest.approx(1.5e12)


def test_a_training_part_still_within_rounding_of_its_level_has_no_scale_whatever_its_length():
    """Below ZERO_SCALE (1e-9) of the level a change is float rounding; a change of 1e-6 of it is real."""
    for n in (10, 1000):
        wiggle = np.tile([0.0, 1.0], n // 2)
        assert mase_scale(1000 + 1e-7 * wiggle)[0] == 0.0                    # 1e-10 of the level
        assert mase_scale(1000 + 1e-3 * wiggle)[0] == pytest.approx(1e-3)   # 1e-6 of the level


def test_mape_counts_an_actual_value_far_above_rounding_however_many_points_there_are():
    """|y| <= 1e-9 · mean |y| is rounding of 0; 1e-8 of the mean, among a thousand points, is a value."""
    y = np.append(np.ones(999), 1e-8)
    pred = y + 1e-9
    m = forecast_metrics(y, pred, y_train=[0.0, 1.0])
    assert m["MAPE"] == pytest.approx(100 * (999 * 1e-9 + 0.1) / 1000)
