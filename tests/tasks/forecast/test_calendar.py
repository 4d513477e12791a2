"""Calendar features and the forecast's future time stamps, checked against the calendar by hand."""
import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.calendar import calendar_features, check_calendar_varies, future_times


def _stamps(values) -> list[str]:
    return [str(t)[:19] for t in pd.DatetimeIndex(values)]


def test_integer_steps_go_on_by_the_series_own_step():
    # steps numbered 0, 5, 10, ... go on at 25, 30, 35: the median step, a missing 15 no matter
    assert future_times(np.int64(20), None, 3, np.array([0, 5, 10, 20])).tolist() == [25, 30, 35]
    assert future_times(20, None, 3, None).tolist() == [21, 22, 23]             # no history: one step each
    assert future_times(20, None, 2, np.array([20])).tolist() == [21, 22]       # one time: no step to read
    assert future_times(7, None, 2, np.array([7, 7, 7])).tolist() == [8, 9]     # stamps that never advance


def test_dated_steps_go_on_by_the_frequency_on_the_calendar():
    # month ends: 29 February (2024 is a leap year), 31 March, 30 April, not 29 March
    ends = future_times(pd.Timestamp("2024-01-31"), "ME", 3)
    assert _stamps(ends) == ["2024-02-29 00:00:00", "2024-03-31 00:00:00", "2024-04-30 00:00:00"]
    assert ends.dtype == np.dtype("datetime64[ns]")
    # no frequency: the median step of the history (a dropped day is no step of two days)
    days = pd.DatetimeIndex(["2024-03-01", "2024-03-02", "2024-03-04", "2024-03-05"]).to_numpy()
    assert _stamps(future_times(days[-1], None, 2, days)) == ["2024-03-06 00:00:00", "2024-03-07 00:00:00"]
    fives = pd.date_range("2024-03-01", periods=4, freq="5min").to_numpy()
    assert _stamps(future_times(fives[-1], None, 1, fives)) == ["2024-03-01 00:20:00"]
    # one time, or none given: a day
    one = pd.Timestamp("2024-03-31 12:00")
    assert _stamps(future_times(one, None, 2, [one])) == ["2024-04-01 12:00:00", "2024-04-02 12:00:00"]
    assert _stamps(future_times(one, None, 1)) == ["2024-04-01 12:00:00"]


def test_trading_days_go_on_on_weekdays():
    # an exchange's days: weekdays, Thanksgiving 2016-11-24 closed, so pandas infers no frequency; the
    # usual step, a day, dated Friday's forecast Saturday and Sunday
    days = pd.bdate_range("2016-11-15", "2016-12-02").drop(pd.Timestamp("2016-11-24")).to_numpy()
    assert _stamps(future_times(days[-1], None, 3, days)) == ["2016-12-05 00:00:00", "2016-12-06 00:00:00",
                                                              "2016-12-07 00:00:00"]
    # Monday to Thursday of one week cross no weekend: a day apart, as read
    week = pd.bdate_range("2016-11-14", periods=4).to_numpy()
    assert _stamps(future_times(week[-1], None, 2, week)) == ["2016-11-18 00:00:00", "2016-11-19 00:00:00"]
    # Mondays with a week missing step by a week, not a business day
    mondays = pd.DatetimeIndex(["2016-11-07", "2016-11-14", "2016-11-28", "2016-12-05"]).to_numpy()
    assert _stamps(future_times(mondays[-1], None, 1, mondays)) == ["2016-12-12 00:00:00"]
    # a trading day's open, stamped 09:30, Thursday to the next Friday: Monday at the open
    opens = (pd.bdate_range("2016-11-10", periods=7) + pd.Timedelta("9h30min")).to_numpy()
    assert _stamps(future_times(opens[-1], None, 1, opens)) == ["2016-11-21 09:30:00"]


def test_month_and_weekday_features_are_on_their_circles():
    # month m is (m - 1) twelfths of a turn; weekday d (Monday 0) is d sevenths
    times = pd.DatetimeIndex(["2024-01-15", "2024-07-15", "2024-12-15"])
    f = calendar_features(times, ["month"])
    turns = np.array([0, 6, 11]) / 12
    assert np.allclose(f, np.stack([np.sin(2 * np.pi * turns), np.cos(2 * np.pi * turns)], 1), atol=1e-12)
    assert np.allclose(f[1], [0.0, -1.0], atol=1e-12)                       # July: half a turn
    sunday = calendar_features(pd.DatetimeIndex(["2024-03-31"]), ["weekday"])[0]   # 31 March 2024: a Sunday
    assert np.allclose(sunday, [np.sin(2 * np.pi * 6 / 7), np.cos(2 * np.pi * 6 / 7)])
    assert calendar_features(times, []).shape == (3, 0)


def test_a_feature_still_at_the_datas_step_is_refused_from_the_times_alone():
    # no frequency given: the median step of the times says daily, so the hour never moves
    times = pd.date_range("2024-03-01 06:00", periods=2, freq="D").to_numpy()
    with pytest.raises(LstmkitError, match=r"the data steps by 1 day, so the hour of the day"):
        check_calendar_varies(calendar_features(times, ["hour"]), [("hour", None)], times, None)
    # hourly times: the hour moves, nothing to refuse; one time: nothing to judge
    hourly = pd.date_range("2024-03-01", periods=30, freq="h").to_numpy()
    check_calendar_varies(calendar_features(hourly, ["hour"]), [("hour", None)], hourly, None)
    check_calendar_varies(calendar_features(times[:1], ["hour"]), [("hour", None)], times[:1], "D")


def test_a_month_feature_that_moves_on_one_of_its_two_axes_is_not_refused():
    # every 18 months: January, July, January, ... sin is 0 at both, cos is 1 and -1, so the month moves
    times = pd.date_range("2000-01-01", periods=6, freq="18MS").to_numpy()
    f = calendar_features(times, ["month"])
    assert np.ptp(f[:, 0]) < 1e-9 < np.ptp(f[:, 1])
    check_calendar_varies(f, [("month", None)], times, "18MS")


def test_steps_with_gaps_go_on_by_a_step_the_series_takes():
    # 0, 5, 15: steps of 5 and 10, whose median is 7.5; the forecast went on at 22 and 29, steps it never took
    assert future_times(np.int64(15), None, 2, np.array([0, 5, 15])).tolist() == [20, 25]
    days = pd.DatetimeIndex(["2024-03-01", "2024-03-02", "2024-03-04"]).to_numpy()     # a day missing
    assert _stamps(future_times(days[-1], None, 2, days)) == ["2024-03-05 00:00:00", "2024-03-06 00:00:00"]


def test_monthly_figures_on_one_day_of_the_month_stay_on_it():
    # pandas names no frequency for the 15th of each month: its typical step (31 days) went 15 April,
    # 16 May, 16 June; a quarterly survey on the 10th at 08:00, one quarter missing, stays on the 10th
    fifteenths = pd.DatetimeIndex([f"2023-{m:02d}-15" for m in range(1, 13)] + ["2024-01-15", "2024-02-15",
                                                                                 "2024-03-15"]).to_numpy()
    assert _stamps(future_times(fifteenths[-1], None, 3, fifteenths)) == [
        "2024-04-15 00:00:00", "2024-05-15 00:00:00", "2024-06-15 00:00:00"]
    tenths = pd.DatetimeIndex(["2023-01-10 08:00", "2023-04-10 08:00", "2023-10-10 08:00", "2024-01-10 08:00"])
    assert _stamps(future_times(tenths[-1], None, 2, tenths.to_numpy())) == ["2024-04-10 08:00:00",
                                                                             "2024-07-10 08:00:00"]
    # the 15th at two clock times: no calendar step; the usual step, the lower of 31 d 6 h and 28 d 18 h
    three = pd.DatetimeIndex(["2024-01-15", "2024-02-15", "2024-03-15"]).to_numpy()    # three are enough
    assert _stamps(future_times(three[-1], None, 1, three)) == ["2024-04-15 00:00:00"]
    # the 15th of January, April, June and September: steps of 3, 2 and 3 months, no one month step; the
    # usual step, the lower median of 90, 61 and 92 days, from 15 September
    uneven = pd.DatetimeIndex(["2023-01-15", "2023-04-15", "2023-06-15", "2023-09-15"]).to_numpy()
    assert _stamps(future_times(uneven[-1], None, 1, uneven)) == ["2023-12-14 00:00:00"]
    stuck = pd.Timestamp("2024-03-31 12:00")                                  # one stamp repeated: a day
    assert _stamps(future_times(stuck, None, 1, [stuck] * 3)) == ["2024-04-01 12:00:00"]
    mixed = pd.DatetimeIndex(["2024-01-15 00:00", "2024-02-15 06:00", "2024-03-15 00:00"]).to_numpy()
    assert _stamps(future_times(mixed[-1], None, 1, mixed)) == ["2024-04-12 18:00:00"]
