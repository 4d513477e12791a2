"""Integer time columns: which are dates (years, yyyymm, yyyymmdd, Unix times) and which are steps."""
import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.integer_times import integer_dates, period_time, whole_floats

_2024 = 1_704_067_200                  # 2024-01-01 00:00:00 UTC in Unix seconds (19723 days of 86400 s)


def _dates(values) -> list[str] | None:
    out = integer_dates(pd.Series(values))
    return None if out is None else [str(t)[:19] for t in out]


def test_years_are_january_firsts_and_other_integers_in_their_range_are_steps():
    assert _dates([2001, 2002, 2004, 2005]) == ["2001-01-01 00:00:00", "2002-01-01 00:00:00",
                                                "2004-01-01 00:00:00", "2005-01-01 00:00:00"]   # a year missing
    assert _dates([1000, 1001, 1002])[0] == "1000-01-01 00:00:00"           # the range's ends are years
    assert _dates([2997, 2998, 2999])[-1] == "2999-01-01 00:00:00"
    assert _dates([2001, 2003, 2005, 2007]) is None                           # steps of 2: numbered steps
    assert _dates([2001, 2002]) is None                                       # one step says nothing
    assert _dates([2001, 2001, 2002, 2003]) is None                           # a year twice: no year column
    assert _dates([999, 1000, 1001]) is None


def test_yyyymm_months_are_the_first_of_each_month():
    assert _dates([202311, 202312, 202401, 202402]) == ["2023-11-01 00:00:00", "2023-12-01 00:00:00",
                                                        "2024-01-01 00:00:00", "2024-02-01 00:00:00"]
    assert _dates([202312, 202401, 202402])[0] == "2023-12-01 00:00:00"     # across a year's end
    assert _dates([100001, 100002, 100003])[0] == "1000-01-01 00:00:00"
    assert _dates([299910, 299911, 299912])[-1] == "2999-12-01 00:00:00"
    assert _dates([202311, 202312, 202313]) is None                          # no month 13
    assert _dates([202300, 202301, 202302]) is None                          # no month 0
    assert _dates([202301, 202303, 202305, 202307]) is None                  # every other month: steps


def test_yyyymmdd_dates_are_read_only_when_every_one_is_a_day():
    assert _dates([20240130, 20240131, 20240201]) == ["2024-01-30 00:00:00", "2024-01-31 00:00:00",
                                                      "2024-02-01 00:00:00"]
    assert _dates([10000101, 10000102])[0] == "1000-01-01 00:00:00"
    assert _dates([99991230, 99991231])[-1] == "9999-12-31 00:00:00"
    assert _dates([20240228, 20240229, 20240230]) is None                    # 30 February


@pytest.mark.parametrize("unit, scale", [("s", 1), ("ms", 10 ** 3), ("us", 10 ** 6), ("ns", 10 ** 9)])
def test_unix_times_in_each_unit_read_as_utc(unit, scale):
    hourly = [(_2024 + 3600 * k) * scale for k in range(4)]
    out = integer_dates(pd.Series(hourly))
    assert [str(t) for t in out] == ["2024-01-01 00:00:00", "2024-01-01 01:00:00", "2024-01-01 02:00:00",
                                     "2024-01-01 03:00:00"]
    assert out.attrs["unix"] == unit


def test_unix_times_need_a_clocks_steps_and_the_years_2000_to_2100():
    from2000 = [946_684_800 + 60 * k for k in range(3)]                     # 2000-01-01 00:00, by minutes
    assert _dates(from2000)[0] == "2000-01-01 00:00:00"
    assert _dates([t - 60 for t in from2000]) is None                       # from 1999-12-31 23:59
    # midnights whose steps differ, but are all whole days: 2, 5 and 12 days
    days = [_2024 + 86400 * d for d in (0, 2, 7, 19)]
    assert _dates(days) == ["2024-01-01 00:00:00", "2024-01-03 00:00:00", "2024-01-08 00:00:00",
                            "2024-01-20 00:00:00"]
    # a logger's minutes with two odd gaps: one step (60 s) between half of its values
    assert _dates([_2024 + s for s in (0, 60, 120, 127, 140)]) is not None
    # counts as large as Unix seconds, in steps that all differ and are no whole days: numbers
    assert _dates([3_000_000_017, 3_100_000_423, 3_250_001_999, 3_400_777_001]) is None
    assert _dates([_2024 + s for s in (0, 60, 127, 140, 3000)]) is None     # one step (60 s) of four: no clock


def test_whole_floats_are_integers_and_others_stay_floats():
    assert whole_floats(pd.Series([1871.0, 1872.0])).dtype == np.int64
    for kept in ([1871.0, 1871.5], [1871.0, np.nan], [2.0 ** 53 + 2, 1.0]):
        assert whole_floats(pd.Series(kept)).dtype == np.float64
    assert whole_floats(pd.Series([2.0 ** 53, 1.0])).tolist() == [2 ** 53, 1]


def test_a_year_and_a_quarter_or_month_column_are_the_first_day_of_each_period():
    df = pd.DataFrame({"Year": [2019, 2020, 2020, 2020], "Quarter": ["Q4", 1, 2, "Q3"],
                       "Month": [12, "Jan", "feb", 3]})
    assert [str(t)[:10] for t in period_time(df, "Year,Quarter")] == ["2019-10-01", "2020-01-01", "2020-04-01",
                                                                      "2020-07-01"]
    assert [str(t)[:10] for t in period_time(df, "Year,Month")] == ["2019-12-01", "2020-01-01", "2020-02-01",
                                                                    "2020-03-01"]
    for col, cell, said in (("Quarter", 5, "not a quarter \\(1-4\\)"), ("Quarter", 0, "not a quarter"),
                            ("Month", 13, "not a month \\(1-12\\)"), ("Year", 999, "not a year \\(1000-2999\\)"),
                            ("Year", 3000, "not a year")):
        bad = df.astype(object)
        bad.loc[2, col] = cell
        with pytest.raises(LstmkitError, match=f"holds {cell}, {said}"):
            period_time(bad, f"Year,{'Month' if col == 'Year' else col}")
    edge = pd.DataFrame({"Year": [1000, 2999], "Month": [1, 12]})
    assert [str(t)[:10] for t in period_time(edge, "Year,Month")] == ["1000-01-01", "2999-12-01"]
