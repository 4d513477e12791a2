"""The forecast service's history rules (``serving.history_rule``, ``serving._rows``) held to their
definitions on stand-in runs: the values one request needs per column, the boundary values taken
and refused, and the rows read (the newest ``lookback``, or the whole history a forecast reads)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from lstmkit.deploy.adapter import BadRequest
from lstmkit.tasks.forecast import serving


def _est(lookback=10, deseason=0, combination=None, season=1, kind="point"):
    return SimpleNamespace(config_=SimpleNamespace(lookback=lookback, deseason=deseason), combination_=combination,
                           season_=season, output_=SimpleNamespace(kind=kind))


@pytest.mark.parametrize("deseason, need, why", [
    (0, 10, "the lookback"), (4, 10, "the lookback"), (5, 10, "the lookback"),       # two seasons of 5: 10, not more
    (6, 12, "the lookback and two seasons of 6")])
def test_a_request_needs_the_lookback_or_two_seasons_whichever_is_more(deseason, need, why):
    assert serving.history_rule(_est(deseason=deseason)) == (need, why)
    assert serving.min_history(_est(deseason=deseason)) == need


def test_a_blended_run_needs_its_baselines_history_when_that_is_more_than_the_lookback():
    """ETS at season 12 fits on two seasons, 24 values; seasonal naive on one, 12 -- less than a lookback of 16."""
    ets = {"baseline": "ets", "weight": 0.5}
    need, why = serving.history_rule(_est(lookback=16, combination=ets, season=12))
    assert need == 24 and why.startswith("the lookback and two seasons of 12")
    naive = {"baseline": "seasonal_naive", "weight": 0.5}
    assert serving.history_rule(_est(lookback=16, combination=naive, season=12)) == (16, "the lookback")
    assert serving.history_rule(_est(lookback=16, combination={**ets, "weight": 1.0}, season=12)) == (16, "the lookback")
    assert serving.history_rule(_est(lookback=16, combination=ets, season=8)) == (16, "the lookback")   # 16: no more


def _adapter(lookback=3, log=False, deseason=0, columns=("y", "x")):
    cfg = SimpleNamespace(target=["y"], lookback=lookback, log=log, deseason=deseason, calendar=None)
    return SimpleNamespace(cfg=cfg, columns=list(columns), est=_est(lookback=lookback, deseason=deseason))


def test_the_rows_are_the_newest_lookback_values_of_each_column_in_order():
    rows = serving._rows(_adapter(), 0, {"y": [1.0, 2.0, 3.0, 4.0], "x": [5.0, 6.0, 7.0, 8.0]})
    np.testing.assert_array_equal(rows, [[2.0, 6.0], [3.0, 7.0], [4.0, 8.0]])


def test_exactly_the_values_needed_are_taken_and_one_fewer_is_refused_naming_the_column():
    assert serving._rows(_adapter(), 0, {"y": [1.0, 2.0, 3.0], "x": [1.0, 2.0, 3.0]}).shape == (3, 2)
    with pytest.raises(BadRequest) as e:
        serving._rows(_adapter(), 2, {"y": [1.0, 2.0, 3.0], "x": [1.0, 2.0]})
    assert "need at least 3 values (the lookback), got 2" in str(e.value)
    assert e.value.loc == ["instances", 2, "x"]


def test_a_seasonal_run_reads_the_whole_history_every_column_the_same_length():
    """With --deseason 2 the seasonal indices are estimated on the whole history sent: all of it is read."""
    adapter = _adapter(deseason=2)
    rows = serving._rows(adapter, 0, {"y": [1.0, 2.0, 3.0, 4.0, 5.0], "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    assert rows.shape == (5, 2)
    with pytest.raises(BadRequest, match="has 4 values and y has 5"):
        serving._rows(adapter, 0, {"y": [1.0, 2.0, 3.0, 4.0, 5.0], "x": [1.0, 2.0, 3.0, 4.0]})


def test_a_log_run_refuses_a_zero_and_takes_the_smallest_positive_value():
    adapter = _adapter(log=True)
    assert serving._rows(adapter, 0, {"y": [1e-9, 2.0, 3.0], "x": [-1.0, 0.0, 1.0]})[0, 0] == 1e-9   # covariates: any sign
    with pytest.raises(BadRequest, match=r"needs positive values \(the model reads their logs\), got 0"):
        serving._rows(adapter, 0, {"y": [1.0, 0.0, 3.0], "x": [1.0, 2.0, 3.0]})


def _timed(freq="D", calendar=None):
    cfg = SimpleNamespace(calendar=calendar, dates=None, time_zone=None, time="t", horizon=2)
    return SimpleNamespace(cfg=cfg, est=SimpleNamespace(data_summary_={"freq": freq} if freq else {}))


def _days(*days):
    return [f"2024-01-{d:02d}" for d in days]


def test_the_stamps_read_are_the_newest_n_and_exactly_n_are_enough():
    t, _ = serving._times(_timed(), 0, {"time": _days(1, 2, 3, 4)}, 3, [])
    assert t.tolist() == np.array(_days(2, 3, 4), dtype="datetime64[ns]").tolist()
    assert len(serving._times(_timed(), 0, {"time": _days(2, 3, 4)}, 3, [])[0]) == 3
    with pytest.raises(BadRequest, match=r"need at least 3 time stamps \(one per history value used\), got 2"):
        serving._times(_timed(), 0, {"time": _days(3, 4)}, 3, [])
    assert serving._times(_timed(), 0, {"y": [1.0]}, 3, []) == (None, {})      # none sent: none read


def test_stamps_must_increase_and_step_by_the_runs_frequency_without_gaps():
    with pytest.raises(BadRequest, match="time stamps must increase, newest last"):
        serving._times(_timed(), 0, {"time": _days(1, 2, 2)}, 3, [])
    with pytest.raises(BadRequest, match=r"after 2024-01-02 00:00:00 comes 2024-01-04 00:00:00, expected 2024-01-03"):
        serving._times(_timed(), 0, {"time": _days(1, 2, 4)}, 3, [])
    assert len(serving._times(_timed(freq=None), 0, {"time": _days(1, 2, 4)}, 3, [])[0]) == 3   # no step known
    assert len(serving._times(_timed(freq="B"), 0, {"time": _days(3, 4, 5)}, 3, [])[0]) == 3   # Wed-Fri: business days
    with pytest.raises(BadRequest, match=r"its first stamp 2024-01-06 00:00:00 is no step of it"):    # a Saturday
        serving._times(_timed(freq="B"), 0, {"time": _days(6, 8, 9)}, 3, [])


def test_the_forecasts_stamps_continue_the_history_at_its_step():
    t, info = serving._times(_timed(), 0, {"time": _days(1, 2, 3)}, 3, [])
    assert serving._forecast_times(_timed(), t, info) == ["2024-01-04T00:00:00", "2024-01-05T00:00:00"]
    weekly = np.array(_days(1, 8, 15), dtype="datetime64[ns]")                  # no run step: the history's, a week
    assert serving._forecast_times(_timed(freq=None), weekly, {}) == ["2024-01-22T00:00:00", "2024-01-29T00:00:00"]
    assert serving._forecast_times(_timed(freq=None), np.array([0, 7, 14]), {}) == [21, 28]
    weekdays = np.array(_days(3, 4, 5, 8, 9, 10, 11, 12), dtype="datetime64[ns]")     # Wednesday to Friday, business days
    assert serving._forecast_times(_timed(freq=None), weekdays, {}) == ["2024-01-15T00:00:00", "2024-01-16T00:00:00"]
    assert serving._forecast_times(_timed(), None, {}) is None


def test_the_future_covariates_are_each_named_one_exactly_horizon_long_in_the_runs_order():
    adapter = SimpleNamespace(cfg=SimpleNamespace(future_covariates=["a", "b"], horizon=2))
    got = serving._future(adapter, 0, {"future": {"b": [3.0, 4.0], "a": [1.0, 2.0]}})
    np.testing.assert_array_equal(got, [[1.0, 3.0], [2.0, 4.0]])
    for future, loc, problem in [({"a": [1.0, 2.0], "b": [1.0, 2.0], "c": [1.0, 2.0]}, "c", "unknown future covariate"),
                                 ({"a": [1.0, 2.0]}, "b", "field required"),
                                 ({"a": [1.0, 2.0], "b": [1.0, 2.0, 3.0]}, "b", "need exactly 2 values")]:
        with pytest.raises(BadRequest, match=problem) as e:
            serving._future(adapter, 1, {"future": future})
        assert e.value.loc == ["instances", 1, "future", loc]
    with pytest.raises(BadRequest, match="field required: the future covariates") as e:
        serving._future(adapter, 1, {})
    assert serving._future(SimpleNamespace(cfg=SimpleNamespace(future_covariates=[], horizon=2)), 0, {}) is None


def test_calendar_features_refuse_step_numbers_for_stamps():
    with pytest.raises(BadRequest, match="the calendar features need dates, not step numbers"):
        serving._times(_timed(freq=None, calendar=["hour"]), 0, {"time": [1, 2, 3]}, 3, [])
    assert serving._times(_timed(freq=None), 0, {"time": [0, 7, 14]}, 3, [])[0].tolist() == [0, 7, 14]   # no calendar
