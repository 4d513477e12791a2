"""The forecast after each series' end (``AheadForecast``) held to its definitions, with the
trained network replaced by one that answers a known value: what is left is the pipeline around
it -- the seasonal indices over the horizon measured on the whole history given, the inverse of
the scaling in the series' own units, and the frame's rows."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from lstmkit import Forecaster
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.scalers import seasonal_profile
from one_thread import one_thread_per_module  # noqa: F401  (autouse: one torch thread, module fixtures too)

QUICK = dict(hidden_size=4, num_layers=1, dropout=0.0, batch_size=64, progress="off", tensorboard=False,
             device="cpu", doctor=False, ensemble=1, max_epochs=1, ets=False, combine="none", bounds="none")


class _Answers(nn.Module):
    """A stand-in network: every window's scaled forecast is ``value`` at every step and target, or
    ``answer(x, future)`` (``[B, H, T]``) of its scaled window and covariates over the horizon."""

    def __init__(self, horizon: int, targets: int, value: float = 0.0, answer=None):
        super().__init__()
        self.shape, self.value, self.answer = (horizon, targets), value, answer

    def forward(self, x, future=None, series=None):
        if self.answer is not None:
            return self.answer(x, future)
        return torch.full((x.shape[0], *self.shape), self.value)


@pytest.fixture(scope="module")
def deseasoned():
    """One series, seasonal indices of period 2 removed, standard scaling, forecast by a stand-in of 0."""
    y = 10.0 + np.tile([1.0, -1.0], 20) * (1 + 0.1 * np.arange(40)) + 0.1 * np.arange(40)
    f = Forecaster(lookback=4, horizon=3, deseason=2, scaler="standard", relative=False, **QUICK).fit(
        pd.DataFrame({"y": y}), target="y")
    f.net_ = _Answers(3, 1)
    return f, y


def test_a_deseasoned_series_is_scaled_by_its_training_part_with_that_parts_own_seasonal_indices(deseasoned):
    """Fitting: the indices are measured on the training part (the later parts are not read), removed, and the
    scaler fitted on what is left: its location and spread are those of the training part less its indices."""
    f, y = deseasoned
    train = y[:f.data_summary_["split"]["train"]]
    adjusted = train - seasonal_profile(train[:, None], 2)[np.arange(len(train)) % 2, 0]
    loc, scale = f.panel_scaler_.get(f.series_ids_[0])
    np.testing.assert_allclose([loc[0], scale[0]], [adjusted.mean(), adjusted.std()], rtol=1e-9)


def test_seasonal_indices_over_the_horizon_are_those_of_the_whole_history_in_phase(deseasoned):
    """A forecast of 0 in scaled, deseasoned units is the series' level (its scaler's location) plus the
    seasonal index of each future step's phase -- measured on the whole history given, whose season has
    grown since training: a history of 31 points ends at phase 0, so steps 1..3 are phases 1, 0, 1."""
    y = 10.0 + np.tile([1.0, -1.0], 16)[:31] * np.r_[np.ones(20), np.full(11, 4.0)]
    profile = seasonal_profile(y[:, None], 2)[:, 0]
    assert abs(profile[0] - profile[1]) > 3          # the later, larger season dominates the whole history's indices
    f, _ = deseasoned
    loc, scale = f.panel_scaler_.get(f.series_ids_[0])
    got = f.predict(pd.DataFrame({"y": y}), engine="torch")["y"].to_numpy()
    np.testing.assert_allclose(got, loc[0] + profile[[1, 0, 1]], rtol=1e-6)


def test_a_log_run_answers_in_the_series_units():
    """--log with standard scaling: a scaled forecast v is exp(mean + v * std) of the logs of the training part."""
    y = np.exp(np.linspace(1.0, 3.0, 40)) * (1 + 0.05 * np.tile([1.0, -1.0], 20))
    f = Forecaster(lookback=4, horizon=2, log=True, scaler="standard", relative=False, **QUICK).fit(
        pd.DataFrame({"y": y}), target="y")
    f.net_ = _Answers(2, 1, value=0.5)
    logs = np.log(y[:f.data_summary_["split"]["train"]])
    expected = np.exp(logs.mean() + 0.5 * logs.std())
    np.testing.assert_allclose(f.predict(pd.DataFrame({"y": y}), engine="torch")["y"], [expected] * 2, rtol=1e-6)
    # the window is the last lookback (4) rows: 4 are enough, 3 are not
    assert np.isfinite(f.predict(pd.DataFrame({"y": y[-4:]}), engine="torch")["y"]).all()
    with pytest.raises(LstmkitError, match="need at least 4 rows"):
        f.predict(pd.DataFrame({"y": y[-3:]}), engine="torch")
    # logs need positive values: a 0 in the history is refused by its row, not read as log(0) = -inf
    zero = y.copy()
    zero[-2] = 0.0
    with pytest.raises(LstmkitError, match="column .y. holds 0 in data row 39: the run models log values"):
        f.predict(pd.DataFrame({"y": zero}), engine="torch")
    # a scaled forecast whose exp overflows, at one step of the two, is an error naming the series, never inf
    f.net_ = _Answers(2, 1, answer=lambda x, future: torch.tensor([0.0, 1e6]).expand(len(x), 2)[..., None])
    with pytest.raises(LstmkitError, match="the forecast of series .* is not finite"):
        f.predict(pd.DataFrame({"y": y}), engine="torch")


def _two_series(lengths=(30, 36)):
    rng = np.random.default_rng(3)
    return pd.concat([pd.DataFrame({"id": sid, "t": np.arange(n), "y": 50.0 * (k + 1) + rng.standard_normal(n).cumsum(),
                                    "c": rng.uniform(0, 10, n)})
                      for k, (sid, n) in enumerate(zip("ab", lengths))], ignore_index=True)


@pytest.fixture(scope="module")
def planned():
    """Two series of different lengths, a covariate known ahead, no scaling: scaled units are the data's."""
    f = Forecaster(lookback=5, horizon=3, scaler="none", relative=False, future_covariates=["c"], **QUICK).fit(
        _two_series(), id="id", time="t", target="y")
    return f


def test_step_k_of_the_forecast_reads_the_covariate_of_the_kth_row_after_its_series_end(planned):
    """A network that forecasts each step's covariate: the forecast is the future rows' covariates, step by
    step, each series its own rows."""
    history = _two_series()
    future = pd.DataFrame({"id": ["a"] * 3 + ["b"] * 3, "t": [30, 31, 32, 36, 37, 38], "y": np.nan,
                           "c": [7.0, 8.0, 9.0, 1.0, 2.0, 3.0]})
    planned.net_ = _Answers(3, 1, answer=lambda x, future: future[..., :1])
    got = planned.predict(pd.concat([history, future], ignore_index=True), engine="torch")
    assert got["id"].tolist() == ["a"] * 3 + ["b"] * 3
    assert got["t"].tolist() == [30, 31, 32, 36, 37, 38] and got["step"].tolist() == [1, 2, 3] * 2
    np.testing.assert_allclose(got["y"], [7.0, 8.0, 9.0, 1.0, 2.0, 3.0], rtol=1e-6)


def test_the_window_is_each_series_last_rows_up_to_its_own_end(planned):
    """A network that forecasts the window's newest value (naive) and one its oldest: each series' last value,
    and its value lookback - 1 steps before its end, whatever the other series' length."""
    history = _two_series()
    future = pd.DataFrame({"id": ["a"] * 3 + ["b"] * 3, "t": [30, 31, 32, 36, 37, 38], "y": np.nan, "c": 1.0})
    data = pd.concat([history, future], ignore_index=True)
    y = {sid: g["y"].to_numpy() for sid, g in history.groupby("id")}
    for at, back in ((-1, 1), (0, 5)):
        planned.net_ = _Answers(3, 1, answer=lambda x, future: x[:, at, :1, None].expand(-1, 3, 1))
        got = planned.predict(data, engine="torch")
        np.testing.assert_allclose(got["y"], np.repeat([y["a"][-back], y["b"][-back]], 3), rtol=1e-6)


def test_a_student_t_series_that_never_left_zero_forecasts_zero_at_every_level_keeping_its_degrees_of_freedom():
    """A target 0 throughout its history forecasts 0, as naive does: a likelihood's location and scale 0, so
    every quantile is 0 too; the degrees of freedom are left as they are (0 of them is no distribution)."""
    moving = 5.0 + np.sin(np.arange(40))
    data = pd.DataFrame({"id": ["flat"] * 40 + ["moving"] * 40, "t": np.r_[np.arange(40), np.arange(40)],
                         "y": np.r_[np.zeros(40), moving]})
    f = Forecaster(lookback=4, horizon=2, likelihood="studentt", scaler="standard", relative=False,
                   **QUICK).fit(data, id="id", time="t", target="y")
    params = torch.tensor([0.3, 1.0, 5.0])                  # loc, scale, degrees of freedom in scaled units
    f.net_ = _Answers(2, 1, answer=lambda x, future: params.expand(len(x), 2, 1, 3))
    with pytest.warns(UserWarning, match="series 'flat' has only zeros in its history: forecast 0"):
        got = f.predict(data, engine="torch").set_index("id")
    levels = [c for c in got.columns if c.startswith("y_q")]
    assert len(levels) == 3
    assert (got.loc["flat", ["y", *levels]].to_numpy() == 0).all()
    moved = got.loc["moving", ["y", *levels]].to_numpy()
    assert np.isfinite(moved).all() and (moved[:, 1] < moved[:, 3]).all()       # q0.1 < q0.9 where it moves


def test_a_test_windows_forecast_adds_the_training_parts_seasonal_index_at_each_targets_phase(deseasoned):
    """The test windows (what the metrics score) are forecast as the end is: a scaled 0 is the level plus the
    index of each target's own phase -- phase 0 the series' first point -- measured on the training part."""
    f, y = deseasoned
    train = y[:f.data_summary_["split"]["train"]]
    profile = seasonal_profile(train[:, None], 2)[:, 0]
    loc, _ = f.panel_scaler_.get(f.series_ids_[0])
    got = f.test_forecasts(pd.DataFrame({"y": y}))
    targets = got["origins"][:, None] + 1 + np.arange(3)                   # positions of each window's targets
    assert len(targets) and targets[-1, -1] == len(y) - 1
    np.testing.assert_allclose(got["forecast"][:, :, 0], loc[0] + profile[targets % 2], rtol=1e-9)


def test_a_test_window_forecasts_zero_only_while_its_series_was_zero_up_to_its_origin():
    """A window whose series was 0 from its start up to the window's origin forecasts 0, as naive does; from
    the first window whose history holds a nonzero value on, the network's forecast (here a scaled 0.5)."""
    y = np.zeros(40)
    y[35] = 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                       # a training part that never moves: said, not tested here
        f = Forecaster(lookback=4, horizon=3, scaler="standard", relative=False, **QUICK).fit(
            pd.DataFrame({"y": y}), target="y")
    f.net_ = _Answers(3, 1, value=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = f.test_forecasts(pd.DataFrame({"y": y}))
    origins = got["origins"]
    assert (origins < 35).any() and (origins >= 35).any()
    expected = np.where(origins >= 35, 0.5, 0.0)                 # an all-zero training part is scaled by 1
    np.testing.assert_allclose(got["forecast"][:, :, 0], np.repeat(expected[:, None], 3, 1))


def test_rows_after_the_end_that_start_late_are_refused_not_taken_as_the_forecasts_times():
    """Without covariates, rows after the last target (target empty) name the forecast's steps: rows that began
    two days late labelled step 1 (the day after the end) with the third day, without a word."""
    n = 30
    df = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="D"), "y": 5.0 + np.sin(np.arange(n))})
    f = Forecaster(lookback=4, horizon=3, relative=False, **QUICK).fit(df, time="date", target="y")
    rows = lambda start: pd.DataFrame({"date": pd.date_range("2024-01-30", periods=3, freq="D") + pd.Timedelta(days=start),
                                       "y": np.nan})
    on_time = f.predict(pd.concat([df, rows(1)], ignore_index=True))
    assert on_time["date"].tolist() == list(pd.date_range("2024-01-31", periods=3, freq="D"))
    with pytest.raises(LstmkitError, match=r"leave out 2 steps of the horizon after its last target value "
                                           r"\(2024-01-30T00:00:00\): no row for 2024-01-31T00:00:00"):
        f.predict(pd.concat([df, rows(3)], ignore_index=True))


def test_a_series_the_run_never_learned_is_scored_scaled_by_its_own_training_part():
    """test_forecasts of a series new to the run: scaled as a fit scales a series, by the mean and spread of its
    training part (of a table with an id column: all but a horizon each for validation and test)."""
    data = _two_series().drop(columns="c")
    f = Forecaster(lookback=5, horizon=3, scaler="standard", relative=False, **QUICK).fit(
        data, id="id", time="t", target="y")
    f.net_ = _Answers(3, 1, value=0.5)
    new = data[data["id"] == "b"].assign(id="new", y=lambda d: d["y"] * 3 + 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                  # the series the run does not know: said, not tested here
        got = f.test_forecasts(pd.concat([data[data["id"] == "a"], new], ignore_index=True))
    train = new["y"].to_numpy()[:len(new) - 2 * 3]
    forecast = got["forecast"][got["ids"] == "new"]
    assert len(forecast)
    np.testing.assert_allclose(forecast, train.mean() + 0.5 * train.std(), rtol=1e-9)


def test_a_business_day_runs_forecast_after_a_history_with_a_gap_steps_by_business_days():
    """A history with a gap has no step of its own (pandas infers none): its forecast was named by its usual
    step, a day, so one ending on a Friday forecast Saturday and Sunday; it steps by the run's business days,
    Monday and Tuesday, as the service names them."""
    n = 40
    df = pd.DataFrame({"date": pd.bdate_range("2024-01-01", periods=n), "y": 5.0 + np.sin(np.arange(n))})
    f = Forecaster(lookback=4, horizon=2, relative=False, **QUICK).fit(df, time="date", target="y")
    assert f.data_summary_["freq"] == "B"
    history = df.tail(6).copy()
    history.loc[history.index[-1], "date"] = pd.Timestamp("2024-03-08")      # a Friday, a week after the row before
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                  # the gap: said, not tested here
        got = f.predict(history)
    assert got["date"].tolist() == [pd.Timestamp("2024-03-11"), pd.Timestamp("2024-03-12")]


def test_three_weekdays_in_a_row_are_a_business_day_history_predict_reads_as_the_service_does():
    """Wednesday, Thursday, Friday: pandas infers 'D' of them, and predict refused them ('steps by 'D' but the
    run was trained on 'B'') where the service answered; they lie on the run's grid, so predict reads them and
    dates the forecast Monday and Tuesday. Seven days in a row (a Saturday among them) are still refused."""
    n = 40
    df = pd.DataFrame({"date": pd.bdate_range("2024-01-01", periods=n), "y": 5.0 + np.sin(np.arange(n))})
    f = Forecaster(lookback=3, horizon=2, relative=False, **QUICK).fit(df, time="date", target="y")
    assert f.data_summary_["freq"] == "B"
    history = df[df["date"].between("2024-02-14", "2024-02-16")]          # Wednesday to Friday
    got = f.predict(history)
    assert got["date"].tolist() == [pd.Timestamp("2024-02-19"), pd.Timestamp("2024-02-20")]
    days = pd.DataFrame({"date": pd.date_range("2024-02-12", periods=7), "y": 5.0})
    with pytest.raises(LstmkitError, match="steps by 'D' but the run was trained on 'B'"):
        f.predict(days)


def _zeroing(kind: str, targets: list[str]):
    """A stand-in for the estimator ``_zero_histories`` reads: its output kind and its targets."""
    from types import SimpleNamespace
    return SimpleNamespace(output_=SimpleNamespace(kind=kind), config_=SimpleNamespace(target=targets))


def _zero_histories(kind, targets, params, zero, ids=None):
    from lstmkit.tasks.forecast.ahead import AheadForecast
    return AheadForecast._zero_histories(_zeroing(kind, targets), params, zero, ids)


def test_only_the_targets_zero_throughout_their_history_forecast_zero_each_named_once():
    """Of 3 series with 2 targets, series s1's first target and both of s3's were 0 throughout: those forecast 0
    at every step, the rest as the network answered; one warning names the targets and counts the series."""
    params = np.arange(1.0, 1 + 3 * 2 * 2).reshape(3, 2, 2)          # [series, horizon, target], none 0
    zero = np.array([[True, False], [False, False], [True, True]])
    with pytest.warns(UserWarning) as said:
        got = _zero_histories("point", ["a", "b"], params, zero, ["s1", "s2", "s3"])
    expected = params.copy()
    expected[0, :, 0] = expected[2] = 0.0
    np.testing.assert_array_equal(got, expected)
    assert params[0, 0, 0] == 1.0                         # the network's answer itself is left as it was
    assert [str(w.message) for w in said] == ["targets 'a', 'b' have only zeros in the history of 2 series (e.g. "
                                              "'s1'): forecast 0, as naive forecasts it, not the network's offset from 0"]
    with pytest.warns(UserWarning, match=r"^target 'b' has only zeros in the history of series 's2': forecast 0"):
        _zero_histories("point", ["a", "b"], params, np.array([[False, False], [False, True], [False, False]]),
                        ["s1", "s2", "s3"])


def test_a_zero_history_warning_counts_the_series_of_one_target_and_is_silent_without_ids():
    params = np.ones((3, 2, 1))
    with pytest.warns(UserWarning, match=r"^2 series have only zeros in their history \(e\.g\. 's2'\): forecast 0"):
        got = _zero_histories("point", ["y"], params, np.array([[False], [True], [True]]), ["s1", "s2", "s3"])
    np.testing.assert_array_equal(got[:, :, 0], [[1, 1], [0, 0], [0, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # the evaluation's windows: no warning
        got = _zero_histories("point", ["y"], params, np.array([[False], [True], [False]]))
    np.testing.assert_array_equal(got[:, :, 0], [[1, 1], [0, 0], [1, 1]])
    with pytest.warns(UserWarning, match=r"^the series has only zeros in its history: forecast 0"):   # one series
        _zero_histories("point", ["y"], params[:1], np.array([[True]]), ["s1"])
    with pytest.warns(UserWarning, match=r"^target 'b' has only zeros in the series' history: forecast 0"):
        _zero_histories("point", ["a", "b"], np.ones((1, 2, 2)), np.array([[False, True]]), ["s1"])
    untouched = _zero_histories("point", ["y"], params, np.zeros((3, 1), dtype=bool), ["s1", "s2", "s3"])
    np.testing.assert_array_equal(untouched, params)


def test_a_gaussian_zero_history_has_location_and_scale_zero_and_a_quantiles_every_level_zero():
    """A likelihood's parameters ``[n, H, T, P]``: loc and scale (the first two) set to 0; quantiles ``[n, H, T, Q]``
    are all 0."""
    params = np.ones((2, 2, 1, 2))
    got = _zero_histories("gaussian", ["y"], params, np.array([[True], [False]]))
    np.testing.assert_array_equal(got[0], 0.0)
    np.testing.assert_array_equal(got[1], 1.0)
    q = np.ones((2, 2, 1, 3))
    got = _zero_histories("quantile", ["y"], q, np.array([[False], [True]]))
    np.testing.assert_array_equal(got[1], 0.0)
    np.testing.assert_array_equal(got[0], 1.0)


def _frame(ids, params, times, target=("y",), id=None, time=None, fmt=None, kind="point", levels=()):
    """``_forecast_frame`` of a stand-in estimator whose point forecast is ``params`` itself and whose
    quantiles are ``params`` plus each level."""
    from types import SimpleNamespace
    from lstmkit.tasks.forecast.ahead import AheadForecast
    est = SimpleNamespace(
        config_=SimpleNamespace(id=id, time=time, format=fmt, target=list(target), horizon=params.shape[1]),
        output_=SimpleNamespace(kind=kind, levels=list(levels)),
        _point=lambda p, limits: p, _quantiles=lambda p, limits: p[..., None] + np.asarray(levels))
    return AheadForecast._forecast_frame(est, ids, params, times, None)


def test_the_forecast_frame_has_one_row_per_series_and_step_under_the_tables_own_column_names():
    """Series 7 and 9 (an id column of numbers: numbers), two steps each, under the id and time columns' names;
    of a time read from Year and Month, those two columns; a target named "step" keeps its name."""
    params = np.array([[[1.0], [2.0]], [[3.0], [4.0]]])
    times = [pd.DatetimeIndex(["2024-01-01", "2024-02-01"]), pd.DatetimeIndex(["2024-03-01", "2024-04-01"])]
    got = _frame([7, 9], params, times, id="shop", time="when")
    assert list(got.columns) == ["shop", "when", "step", "y"]
    assert got["shop"].tolist() == [7, 7, 9, 9] and got["shop"].dtype == np.int64
    assert got["when"].tolist() == [pd.Timestamp(d) for d in ("2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01")]
    assert got["step"].tolist() == [1, 2, 1, 2] and got["y"].tolist() == [1.0, 2.0, 3.0, 4.0]
    parts = _frame(["a", "b"], params, times, id="shop", time="Year,Month")
    assert list(parts.columns) == ["shop", "Year", "Month", "step", "y"]
    assert parts["Year"].tolist() == [2024] * 4 and parts["Month"].tolist() == [1, 2, 3, 4]
    assert parts["shop"].tolist() == ["a", "a", "b", "b"]
    assert _frame([7, "x"], params, times, id="shop")["shop"].tolist() == [7, 7, "x", "x"]   # not all numbers: as given
    named = _frame(["a"], params[:1], [None], target=("step",))
    assert list(named.columns) == ["horizon_step", "step"] and named["horizon_step"].tolist() == [1, 2]
    m4 = _frame(["T1"], params[:1], [np.array([10, 11])], fmt="m4")
    assert list(m4.columns) == ["id", "t", "step", "y"] and m4["t"].tolist() == [10, 11]


def test_the_forecast_frame_writes_each_targets_quantiles_beside_its_point():
    params = np.array([[[1.0, 10.0], [2.0, 20.0]]])                 # one series, 2 steps, targets a and b
    got = _frame(["s"], params, [None], target=("a", "b"), kind="quantile", levels=(0.1, 0.9))
    from lstmkit.tasks.forecast.probabilistic import quantile_column
    assert got[quantile_column("a", 0.1)].tolist() == [1.1, 2.1]
    assert got[quantile_column("b", 0.9)].tolist() == [10.9, 20.9]
    assert got["b"].tolist() == [10.0, 20.0] and "id" not in got
