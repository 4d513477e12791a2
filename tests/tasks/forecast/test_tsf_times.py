"""A .tsf file's @frequency as a step, and every point's time stamp, checked on the calendar by hand."""
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.tsf_times import frequency_step, point_times


@pytest.mark.parametrize("name, step", [
    ("yearly", (12, None)), ("quarterly", (3, None)), ("monthly", (1, None)), ("2_years", (24, None)),
    ("2_quarters", (6, None)), ("1_month", (1, None)), ("Minutely", (0, pd.Timedelta(minutes=1))),
    ("5_hours", (0, pd.Timedelta(hours=5))), ("2_weeks", (0, pd.Timedelta(days=14))),
    ("584_years", (584 * 12, None))])                      # the longest step pandas' years hold
def test_a_frequency_is_months_on_the_calendar_or_a_fixed_time(name, step):
    assert frequency_step([name], "@frequency") == step


@pytest.mark.parametrize("values", [["0_minutes"], ["fortnightly"], ["yearly", "monthly"]])
def test_an_unknown_frequency_is_refused(values):
    with pytest.raises(LstmkitError, match="unknown frequency"):
        frequency_step(values, "@frequency")


def test_a_step_longer_than_pandas_years_is_refused():
    with pytest.raises(LstmkitError, match="a step of 585 years, longer than the 584 years"):
        frequency_step(["585_years"], "@frequency")


def test_points_step_from_each_series_start_on_the_calendar():
    # every six months from 31 August 2023 06:30: 29 February 2024 (a leap year), 31 August 2024; the
    # time of day kept; a second series starts again from its own start
    times = point_times([datetime(2023, 8, 31, 6, 30), datetime(2024, 1, 1)], np.array([3, 2]), (6, None))
    assert [str(t) for t in pd.DatetimeIndex(times)] == [
        "2023-08-31 06:30:00", "2024-02-29 06:30:00", "2024-08-31 06:30:00", "2024-01-01 00:00:00",
        "2024-07-01 00:00:00"]
    hourly = point_times([datetime(2024, 3, 30, 23)], np.array([3]), (0, pd.Timedelta(hours=1)))
    assert [str(t) for t in pd.DatetimeIndex(hourly)] == ["2024-03-30 23:00:00", "2024-03-31 00:00:00",
                                                          "2024-03-31 01:00:00"]
    assert point_times([datetime(2200, 1, 1)], np.array([100]), (12, None)) is None      # past 2262
