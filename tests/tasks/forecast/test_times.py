"""The one reader of time columns: day/month order decided per column, UTC offsets as instants."""
import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.times import (SERIAL_DATES, check_date_system, date_columns, in_zone, infer_freq,
                                          parse_time, time_values)

DAILY = pd.date_range("2020-01-01", periods=150, freq="D")
MONTHLY = pd.date_range("2020-01-01", periods=24, freq="MS")


def _read(cells) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(parse_time(pd.Series(list(cells)), "date"))


@pytest.mark.parametrize("fmt", ["%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y",
                                 "%d/%m/%Y %H:%M"])
def test_daily_dates_in_any_one_order_read_as_written(fmt):
    # 01/02/2020 is 1 February when the column also holds 13/01/2020 (no month 13): never 2 January
    assert _read(DAILY.strftime(fmt)).equals(DAILY)


@pytest.mark.parametrize("fmt", ["%d/%m/%Y", "%m/%d/%Y"])
def test_dates_fitting_both_orders_take_the_one_with_regular_steps(fmt):
    # monthly data on the 1st: 01/03/2020 fits both orders in every row; read the other way it is
    # 3 January, 4 January, ... and back: irregular
    assert _read(MONTHLY.strftime(fmt)).equals(MONTHLY)


def test_three_dates_are_enough_to_tell_the_regular_order():
    # month first: 1 December, 1 January, 1 February (monthly); day first: 12 January 2020, then
    # 1 and 2 January 2021 (no step repeats): three rows, one regular reading
    assert _read(["12/01/2020", "01/01/2021", "02/01/2021"]).equals(
        pd.DatetimeIndex(["2020-12-01", "2021-01-01", "2021-02-01"]))


def test_ambiguous_columns_are_an_error_asking_for_iso_dates():
    with pytest.raises(LstmkitError, match=r"ambiguous: '02/01/2020' reads as 01 February 2020 \(month first\) "
                                           r"or 02 January 2020 \(day first\).*both have regular steps.*ISO"):
        _read(DAILY[:10].strftime("%d/%m/%Y"))            # ten days = ten months, both regular
    with pytest.raises(LstmkitError, match="neither has regular steps.*2020-01-31"):
        _read(MONTHLY.delete(5).strftime("%d/%m/%Y"))     # a missing month: neither reading is regular
    with pytest.raises(LstmkitError, match=r"mixes day-first dates \('31/01/2020'\) and month-first dates "
                                           r"\('01/31/2020'\)"):
        _read(["31/01/2020", "01/02/2020", "01/31/2020"])
    assert _read(DAILY[:10].strftime("%Y-%m-%d")).equals(DAILY[:10])     # ISO reads one way only


def test_the_order_found_is_reported_and_a_given_order_is_kept():
    assert time_values(pd.Series(DAILY.strftime("%d/%m/%Y")), "d")[1] == {"dates": "day-first"}
    assert time_values(pd.Series(MONTHLY.strftime("%m/%d/%Y")), "d")[1] == {"dates": "month-first"}
    assert time_values(pd.Series(DAILY.strftime("%Y-%m-%d")), "d", "day-first")[1] == {}   # ISO: no order
    # a day of hourly stamps fits both orders (both regular): the run's order decides
    hours = pd.date_range("2020-02-01", periods=24, freq="h")
    cells = pd.Series(hours.strftime("%d/%m/%Y %H:%M"))
    with pytest.raises(LstmkitError, match="ambiguous.*--dates day-first"):
        parse_time(cells, "d")
    assert pd.DatetimeIndex(parse_time(cells, "d", "day-first")).equals(hours)
    assert pd.DatetimeIndex(parse_time(cells, "d", "month-first")).equals(hours - pd.Timedelta(days=30))
    with pytest.raises(LstmkitError, match=r"does not read month-first \(the run's --dates\): found '13/01/2020'.*"
                                           r"--dates day-first"):
        parse_time(pd.Series(["12/01/2020", "13/01/2020"]), "d", "month-first")


def test_mixed_formats_keep_the_columns_day_month_order():
    got = _read(["2020-01-05", "Jan 6 2020", "2020-01-07 00:00", "08/01/2020"])
    assert got.equals(pd.date_range("2020-01-05", periods=4, freq="D"))      # 08/01 is 8 January here
    got = _read(["31/01/2020 10:00", "01/02/2020", "02/02/2020 10:00"])
    assert got.equals(pd.DatetimeIndex(["2020-01-31 10:00", "2020-02-01", "2020-02-02 10:00"]))


def test_offsets_that_change_with_daylight_saving_read_as_utc():
    local = pd.date_range("2020-03-28", periods=72, freq="h", tz="Europe/Berlin")    # DST starts 29 March
    cells = [t.isoformat(sep=" ") for t in local]
    assert "+01:00" in cells[0] and "+02:00" in cells[-1]
    times = parse_time(pd.Series(cells), "date")
    assert pd.DatetimeIndex(times).equals(local.tz_convert("UTC").tz_localize(None))
    assert times.attrs["utc_from"] == ["+01:00", "+02:00"]
    with pytest.warns(UserWarning, match=r"offsets that change \(\+01:00, \+02:00: daylight saving\), which name no "
                                         "time zone"):
        values, info = time_values(pd.Series(cells), "date")
    assert values.dtype == np.dtype("datetime64[ns]") and (np.diff(values) == np.timedelta64(1, "h")).all()
    assert "'date' read as UTC" in info["time_note"] and "+01:00, +02:00" in info["time_note"]
    assert "time_zone" not in info                                                  # two offsets name no zone
    one = pd.date_range("2020-01-01", periods=5, freq="h", tz="+01:00")             # one offset: the same rule
    assert _read(t.isoformat() for t in one).equals(one.tz_convert("UTC").tz_localize(None))
    aware = parse_time(pd.Series(local), "date")                                    # a tz-aware column
    assert pd.DatetimeIndex(aware).equals(local.tz_convert("UTC").tz_localize(None))
    assert aware.attrs["utc_from"] == ["Europe/Berlin"]
    assert time_values(pd.Series(DAILY.strftime("%Y-%m-%d")), "date")[1] == {}


@pytest.mark.parametrize("freq, n, zone", [("D", 300, "Europe/Berlin"), ("MS", 24, "America/New_York"),
                                           ("W-SUN", 60, "Europe/London"), ("D", 30, "+01:00")])
@pytest.mark.filterwarnings("error::DeprecationWarning", "error::FutureWarning")
def test_dates_at_one_clock_time_read_as_local_dates(freq, n, zone):
    local = pd.date_range("2020-01-01", periods=n, freq=freq, tz=zone)     # across daylight saving, or one offset
    for col in (pd.Series([t.isoformat() for t in local]), pd.Series(local)):         # text and tz-aware
        values, info = time_values(col, "date")
        assert pd.DatetimeIndex(values).equals(local.tz_localize(None))              # midnight, not 22:00/23:00
        assert infer_freq(pd.DatetimeIndex(values)) is not None      # pandas 3.1's own warns (Pandas4Warning)
        assert "'date' read as local dates (every row shows the same local clock time" in info["time_note"]
    moved = [t.isoformat() for t in local[:20]] + [(local[20] + pd.Timedelta("1h")).isoformat()]
    utc = parse_time(pd.Series(moved), "date")                       # not every row at one clock time: UTC
    assert utc.attrs["utc_from"] and not utc.attrs.get("local_from")
    assert utc.iloc[0] == local[0].tz_convert("UTC").tz_localize(None)


def test_one_row_with_an_offset_is_a_local_date_at_midnight_and_utc_otherwise():
    # a request's one stamp: 00:00 in India (UTC+05:30) is that date, 09:15 there is 03:45 UTC
    date = parse_time(pd.Series(["2024-03-31T00:00:00+05:30"]), "date")
    assert str(date.iloc[0]) == "2024-03-31 00:00:00" and date.attrs["local_from"] == ["+05:30"]
    hour = parse_time(pd.Series(["2024-03-31T09:15:00+05:30"]), "date")
    assert str(hour.iloc[0]) == "2024-03-31 03:45:00" and hour.attrs["zone"] == "UTC+05:30"


@pytest.mark.parametrize("freq, zone, clock", [("D", "Europe/Berlin", "local"), ("h", "Europe/Berlin", "utc"),
                                               ("D", "+01:00", "local"), ("h", "-05:30", "utc")])
def test_the_zone_is_recorded_and_forecast_times_continue_in_it(freq, zone, clock):
    """Text with one offset and a tz-aware column record their zone; future steps read back in it
    are pandas' own: dates continue the local calendar (25-hour days at the October change),
    hours continue absolute time (the clock shows 02:00 twice)."""
    start = "2020-10-20" if freq == "D" else "2020-10-24 12:00"              # DST ends 25 October in Berlin
    known = pd.date_range(start, periods=30, freq=freq, tz=zone)
    history, future = known[:20], known[20:]
    for col in (pd.Series([t.isoformat() for t in history]), pd.Series(history)):
        if not isinstance(col.iloc[0], str) or "/" not in zone:             # text names no named zone
            values, info = time_values(col, "date")
            assert info["time_clock"] == clock and pd.Timestamp("2020-01-01", tz=info["time_zone"]).utcoffset() \
                == pd.Timestamp("2020-01-01", tz=zone).utcoffset()
            steps = pd.date_range(values[-1], periods=11, freq=freq)[1:].to_numpy()     # naive, as the panel holds them
            assert in_zone(steps, info, info["time_zone"]).equals(future)
            assert (in_zone(steps, info, None) == steps).all()              # a run saved without a zone: as before
    if "/" in zone:                                             # text whose offsets change names no zone
        values, info = time_values(pd.Series([t.isoformat() for t in known]), "date")
        assert "time_zone" not in info
        assert info["time_note"].endswith("forecast times are " + ("UTC" if clock == "utc" else "local"))
        assert (in_zone(values, info, "Europe/Berlin") == values).all()


def test_bad_time_columns_name_the_problem():
    with pytest.raises(LstmkitError, match=r"mixes times with a UTC offset \('2020-01-01 00:00:00\+01:00'\) and "
                                           r"times without one \('2020-01-01 01:00:00'\)"):
        _read(["2020-01-01 00:00:00+01:00", "2020-01-01 01:00:00"])
    with pytest.raises(LstmkitError, match="could not be read as dates: found 'not a date'"):
        _read(["2020-01-05", "not a date"])
    with pytest.raises(LstmkitError, match=r"holds numbers \(e.g. 1.5\), not dates"):
        parse_time(pd.Series([1.5, 2.5]), "date")
    with pytest.raises(LstmkitError, match="2 empty cells"):
        parse_time(pd.Series(["2020-01-01", None, None]), "date")
    assert _read([20240131.0, 20240201.0]).equals(pd.DatetimeIndex(["2024-01-31", "2024-02-01"]))


def test_integer_steps_stay_steps():
    values, info = time_values(pd.Series([0, 7, 14]), "t")
    assert values.dtype == np.int64 and values.tolist() == [0, 7, 14] and info == {}
    assert time_values(pd.Series([20240131, 20240201]), "t")[0].dtype == np.dtype("datetime64[ns]")


def test_unix_times_read_as_utc_dates_in_their_unit():
    """Epoch seconds (a logger's, an API's export) were read as integer steps of 3600: no dates,
    no hourly season, forecasts stamped 1704103200. Any unit from seconds to nanoseconds, from
    2000 to 2100, in steps like a clock's (one step, or whole days: months at midnight)."""
    hours = pd.date_range("2024-01-01", periods=48, freq="h")
    months = pd.date_range("2010-01-01", periods=12, freq="MS")
    for stamps, unit in ((hours, "s"), (hours, "ms"), (months, "s"), (months, "ns")):
        ticks = pd.Series(stamps.values.astype(f"datetime64[{unit}]").astype(np.int64))
        with pytest.warns(UserWarning, match=r"read as Unix times \(.*since 1970\).*number them from 0"):
            values, info = time_values(ticks, "ts")
        assert pd.DatetimeIndex(values).equals(pd.DatetimeIndex(stamps).as_unit("ns"))
        assert "Unix times" in info["time_note"]
    assert date_columns(pd.DataFrame({"ts": hours.values.astype("datetime64[s]").astype(np.int64),
                                      "y": np.arange(48)})) == ["ts"]
    # as large, but counts: steps that all differ and are not whole days stay numbers
    population = pd.Series([2_556_000_053, 2_635_112_780, 2_719_001_005, 2_796_330_417])
    assert time_values(population, "t")[0].dtype == np.int64
    assert date_columns(pd.DataFrame({"year": [1950, 1951, 1952, 1953], "pop": population})) == ["year"]
    with pytest.raises(LstmkitError, match=r"Unix times"):
        parse_time(pd.Series([3, 9, 27]), "t")


def test_a_year_column_is_a_time_column():
    """statsmodels' Nile and sunspots files, a pandas Series saved with its year index: a column of
    years beside the values was 'the table has 2 numeric columns'; it is the yearly time."""
    years = pd.Series([1871, 1872, 1873, 1875, 1876])            # distinct, mostly one apart (1874 missing)
    values, _ = time_values(years, "year")
    assert pd.DatetimeIndex(values).year.tolist() == years.tolist()
    assert date_columns(pd.DataFrame({"year": years, "volume": [1120, 1160, 963, 1210, 1160]})) == ["year"]
    for not_years in ([1871, 1871, 1872], [1200, 1350, 1900], [0, 1, 2]):   # repeated, spread, steps
        assert time_values(pd.Series(not_years), "t")[0].dtype == np.int64
    # yyyymm months were integer steps of 1 with a jump of 89 at every new year (read as 88 missing steps)
    months = time_values(pd.Series([201911, 201912, 202001, 202002]), "month")[0]
    assert pd.DatetimeIndex(months).strftime("%Y-%m").tolist() == ["2019-11", "2019-12", "2020-01", "2020-02"]
    assert time_values(pd.Series([201913, 201914, 201915]), "t")[0].dtype == np.int64          # no month 13


def test_a_year_column_of_whole_floats_is_a_time_column_too(tmp_path):
    """statsmodels keeps its years as floats (nile's, sunspots', macrodata's 1871.0): written to a CSV
    they were 'the table has 2 numeric columns: 'year', 'volume' — --target year', the hint naming the
    years as the series to forecast, though --time year read them as years."""
    from lstmkit.tasks.forecast.estimator import implied_time
    from lstmkit.tasks.forecast.config import ForecastConfig
    years = pd.Series([1871.0, 1872.0, 1873.0, 1875.0, 1876.0])
    frame = pd.DataFrame({"year": years, "volume": [1120.0, 1160, 963, 1210, 1160]})
    assert date_columns(frame) == ["year"] and implied_time(frame, ForecastConfig())[0] == "year"
    assert pd.DatetimeIndex(time_values(years, "year")[0]).year.tolist() == [1871, 1872, 1873, 1875, 1876]
    for not_years in ([1871.5, 1872.0, 1873.0], [1871.0, None, 1873.0], [1e300, 1e300 + 1e290, 2e300]):
        assert date_columns(pd.DataFrame({"t": not_years, "v": [1.0, 2, 3]})) == []


def test_times_of_day_without_dates_are_an_error():
    """'00:00', '01:00', ... were read as today's hours: the dates changed with the day the file was
    read, and an hourly series that passes midnight was sorted out of order."""
    with pytest.raises(LstmkitError, match=r"times of day without dates \(e.g. '23:00'\).*leave out --time"):
        parse_time(pd.Series(["23:00", "00:00", "01:00"]), "clock")
    with pytest.raises(LstmkitError, match="times of day without dates"):
        parse_time(pd.Series(["1:05:30 PM", "1:06:30 PM"]), "clock")


def test_date_columns_finds_dates_and_leaves_labels_and_numbers():
    from lstmkit.tasks.forecast.times import date_columns
    df = pd.DataFrame({"when": ["2024-01-31", "2024-02-29", "2024-03-31"],
                       "eu": ["31/01/2024", "29/02/2024", "31/03/2024"],
                       "stamp": pd.date_range("2024-01-01", periods=3, freq="D"),
                       "ymd": [20240131, 20240229, 20240331],
                       "month": ["May", "June", "July"],            # names, no year: not dates
                       "store": ["a1", "b2", "c3"], "n": [1, 2, 3], "x": [0.5, 1.5, 2.5],
                       "code": ["2024-01-31", "soon", "2024-03-31"],   # one cell not a date
                       # ISO 8601's basic form, as text (loggers, Parquet strings): its year runs into the month,
                       # and the column was left out: a file's rows then read in file order, forecasts undated
                       "basic": ["20240131T000000Z", "20240229T000000Z", "20240331T000000Z"],
                       "basic_day": ["20240131", "20240229", "20240331"],
                       "sku": ["31415926", "27182818", "16180339"]})         # 8-digit codes, not years
    assert date_columns(df) == ["when", "eu", "stamp", "ymd", "basic", "basic_day"]
    assert date_columns(df, skip={"when", "ymd", "basic"}) == ["eu", "stamp", "basic_day"]


@pytest.mark.parametrize("labels, first, freq", [
    (["1990 Q1", "1990 Q2", "1990 Q3", "1990 Q4", "1991 Q1"], "1990-01-01", "QS-JAN"),
    (["1990-Q3", "1990-Q4", "1991-Q1"], "1990-07-01", "QS-JAN"),
    (["Q4 1999", "Q1 2000", "Q2 2000"], "1999-10-01", "QS-JAN"),
    (["2020-W01", "2020-W02", "2020-W03"], "2019-12-30", "W-MON"),         # ISO weeks: their Mondays
    (["2021W52-5", "2022W01-5", "2022W02-5"], "2021-12-31", "W-FRI"),
    (["Nov-19", "Dec-19", "Jan-20", "Feb-20"], "2019-11-01", "MS"),         # Excel's mmm-yy months
])
def test_period_labels_read_as_their_first_day(labels, first, freq):
    """Quarters, ISO weeks and Excel's month display, as statistics offices and spreadsheets
    write them, are dates of a regular step; a table's one such column is its time."""
    times = parse_time(pd.Series(labels), "when")
    assert str(times.iloc[0].date()) == first
    assert infer_freq(pd.DatetimeIndex(times)) == freq
    assert date_columns(pd.DataFrame({"when": labels, "y": 1.0})) == (["when"] if labels[0][0] != "N" else [])


def test_excel_months_of_a_long_table_or_two_rows_read_as_months():
    # three stores through the same four months: their repeats are no step (the column was refused,
    # "could not be read as dates: found 'Jan-20'"); two months alone raised pandas' ValueError
    months = ["Jan-20", "Feb-20", "Mar-20", "Apr-20"]
    long = parse_time(pd.Series(months * 3), "month")
    assert [str(t)[:10] for t in long[:4]] == ["2020-01-01", "2020-02-01", "2020-03-01", "2020-04-01"]
    assert long[4:8].tolist() == long[:4].tolist()
    assert [str(t)[:10] for t in parse_time(pd.Series(["Dec-19", "Jan-20"]), "month")] == ["2019-12-01", "2020-01-01"]
    with pytest.raises(LstmkitError, match="could not be read as dates: found 'Jan-20'"):
        parse_time(pd.Series(["Jan-20", "Mar-20", "Apr-20"]), "month")           # a month missing: no run of months
    with pytest.raises(LstmkitError, match="could not be read as dates: found 'Jan-20'"):
        parse_time(pd.Series(["Jan-20", "Jan-20"]), "month")                     # one month: no step, no run either


def test_month_day_labels_are_not_months():
    """``Jan-01, Jan-02, …`` (days without a year) would read as January 2001, 2002, …: not monthly
    steps, so not taken as Excel's months; the column stays an error asking for ISO dates."""
    with pytest.raises(LstmkitError, match="could not be read as dates: found 'Jan-01'"):
        parse_time(pd.Series(["Jan-01", "Jan-02", "Jan-03"]), "when")


def test_a_total_row_under_the_dates_is_named_as_such():
    days = pd.date_range("2024-01-01", periods=5, freq="D").strftime("%Y-%m-%d").tolist()
    with pytest.raises(LstmkitError, match=r"its last row \(data row 6\) holds 'Total', every other row a date — "
                       r"delete that row"):
        parse_time(pd.Series([*days, "Total"]), "date")
    with pytest.raises(LstmkitError, match=r"found 'soon' in data row 3 — use ISO dates"):
        parse_time(pd.Series([*days[:2], "soon", *days[2:]]), "date")


def test_series_of_one_table_keep_one_step_length_give_or_take_gaps_and_months():
    from lstmkit.tasks.forecast.times import check_one_step

    def check(*indexes):
        times = np.concatenate([pd.DatetimeIndex(i).as_unit("ns").to_numpy() for i in indexes])
        check_one_step(times, np.array([len(i) for i in indexes]), [f"s{k}" for k in range(len(indexes))], "time")

    days = pd.date_range("2024-01-01", periods=60, freq="D")
    check(days, days.delete([3, 4, 10]), pd.bdate_range("2024-01-01", periods=40), days[:2])   # gaps, weekdays, 2 rows
    check(pd.date_range("2020-01-01", periods=30, freq="MS"), pd.date_range("2020-01-31", periods=30, freq="ME"))
    with pytest.raises(LstmkitError, match="series 's1' by 1 hour, series 's0' by 1 day"):
        check(days, pd.date_range("2024-01-01", periods=60, freq="h"))
    with pytest.raises(LstmkitError, match="series 's2' by 7 days"):
        check(days, days, pd.date_range("2024-01-07", periods=30, freq="W"))


@pytest.mark.parametrize("col, first", [
    (pd.Series(["1500-01-01", "1501-01-01", "1502-01-01"]), "1500-01-01"),          # annual history, as text
    (pd.Series(["2261-01-01", "2300-06-01", "2500-06-01"]), "2300-06-01"),          # the first beyond, not the first
    (pd.Series(range(1500, 1540)), "1500"),                                          # integer years
    (pd.Series(pd.date_range("1600-01-01", periods=3, freq="YS", unit="s")), "1600-01-01 00:00:00"),   # Parquet's
])
def test_a_date_beyond_nanoseconds_is_one_error_naming_the_first(col, first):
    """pandas keeps such dates in seconds; the panel, its grid and its forecast times compute in
    nanoseconds, where they would overflow: refused, not a traceback nor 'use ISO dates'."""
    with pytest.raises(LstmkitError, match=rf"time column 'time' holds a date outside the years lstmkit computes in "
                                           rf"\(1678 to 2261\): the first is '{first}'") as e:
        time_values(col, "time")
    assert "drop the time column" in e.value.hint


def test_dates_at_the_edges_of_nanoseconds_still_read():
    times, _ = time_values(pd.Series(["1678-01-01", "2261-12-01"]), "time")
    assert times.dtype == "datetime64[ns]" and str(times[0])[:10] == "1678-01-01" and str(times[1])[:10] == "2261-12-01"


def test_forecast_times_past_nanoseconds_are_one_error():
    from lstmkit.tasks.forecast.calendar import future_times
    assert str(future_times(pd.Timestamp("2261-01-01"), "MS", 3)[-1])[:10] == "2261-04-01"
    with pytest.raises(LstmkitError, match=r"the 6 steps after 2262-01-01 00:00:00 run past 2262-04-11") as e:
        future_times(pd.Timestamp("2262-01-01"), "MS", 6)
    # met at predict (or serve), which takes no --time: it named '--time' as if that could be passed there
    assert e.value.hint.startswith("the run's horizon (6 steps) is fixed when it is trained: train it again with a "
                                   "smaller --horizon, or with the rows read as steps (the table without its time "
                                   "column, and no --time)"), e.value.hint


@pytest.mark.parametrize("dtype", ["date32[pyarrow]", "date64[pyarrow]"])
def test_pyarrow_dates_read_as_their_days(dtype):
    """pd.read_csv(..., engine="pyarrow", dtype_backend="pyarrow") gives ISO date columns as Arrow
    dates, which pandas calls datetimes but whose ``.dt.tz`` raises NotImplementedError."""
    col = pd.Series(DAILY.date).astype(dtype)
    assert _read(col).equals(DAILY)
    times, _ = time_values(col, "date")
    assert times.dtype == "datetime64[ns]" and (times == DAILY.to_numpy()).all()
    assert date_columns(pd.DataFrame({"date": col, "y": range(len(col))}), set()) == ["date"]
    far = pd.Series(pd.to_datetime(["1500-01-01", "1501-01-01"], unit="s").date).astype(dtype)
    with pytest.raises(LstmkitError, match="outside the years lstmkit computes in"):
        time_values(far, "date")


def test_spreadsheet_serial_days_read_as_dates_and_times_to_the_second():
    hours = np.round(45292 + np.arange(48) / 24, 10)          # as a spreadsheet's CSV writes them: 45292.0416666667
    values, info = time_values(pd.Series(hours), "date", "excel")
    assert pd.DatetimeIndex(values).equals(pd.date_range("2024-01-01", periods=48, freq="h"))
    assert info == {"dates": "excel"}
    assert parse_time(pd.Series([45292.5416666667]), "date", "excel").iloc[0] == pd.Timestamp("2024-01-01 13:00:00")
    days, _ = time_values(pd.Series([45292, 45293, 45294]), "date", "excel")     # whole days, not step numbers
    assert pd.DatetimeIndex(days).equals(pd.date_range("2024-01-01", periods=3, freq="D"))
    text, _ = time_values(pd.Series([" 45292", "45292.75"]), "date", "excel")    # text cells (a service request)
    assert pd.DatetimeIndex(text).equals(pd.DatetimeIndex(["2024-01-01", "2024-01-01 18:00"]))
    dated = pd.Series(pd.date_range("2024-01-01", periods=3, freq="D"))       # datetimes: nothing to read
    assert pd.DatetimeIndex(time_values(dated, "date", "excel")[0]).equals(pd.DatetimeIndex(dated))
    assert parse_time(pd.Series([61, 2958465.5]), "d", "excel").tolist() == [
        pd.Timestamp("1900-03-01"), pd.Timestamp("9999-12-31 12:00")]


def test_serial_days_before_1900_03_01_read_as_excel_shows_them():
    """Excel counts 1900 as a leap year: its day 60 is a 1900-02-29 that never was, so its days 1-59
    are 1900-01-01 ... 1900-02-28, a day later than days since 1899-12-30, and day 61 is 1900-03-01."""
    got = parse_time(pd.Series([1, 31.25, 59, 61, 62]), "d", "excel").tolist()
    assert got == [pd.Timestamp(t) for t in ("1900-01-01", "1900-01-31 06:00", "1900-02-28", "1900-03-01",
                                             "1900-03-02")]
    for cells, needle in (
            ([59, 60, 61], r"holds 60 in data row 2: serial day 60 is 1900-02-29 in Excel, a day that never was "
                           r"\(its 1900 leap-year bug\) — fix that cell \(59 is 1900-02-28, 61 is 1900-03-01\)"),
            ([61, 60.5], r"holds 60.5 in data row 2: serial day 60 is 1900-02-29"),        # its noon neither
            ([0.25, 0.5], r"holds 0.25 in data row 1: serial day 0 is no date \(Excel shows 1900-01-00\): a "
                          r"time of day alone — give each time its date .*--time date,time\), or leave out "
                          r"--dates excel")):
        with pytest.raises(LstmkitError, match=needle):
            parse_time(pd.Series(cells), "d", "excel")


def test_the_1904_date_system_counts_from_1904_01_01_without_excels_leap_day():
    values, info = time_values(pd.Series([0, 59, 60, 43830.5]), "d", "excel1904")
    assert list(pd.DatetimeIndex(values)) == [pd.Timestamp(t) for t in ("1904-01-01", "1904-02-29", "1904-03-01",
                                                                        "2024-01-01 12:00")]
    assert info == {"dates": "excel1904"}
    assert parse_time(pd.Series([2957003.5]), "d", "excel1904").iloc[0] == pd.Timestamp("9999-12-31 12:00")
    for cells, needle in (([-1], r"holds -1 in data row 1: serial days count from 0 \(1904-01-01\)"),
                          ([2957004], r"past 9999-12-31 \(serial day 2957003\)"),
                          (["x"], r"holds 'x' in data row 1, not a spreadsheet serial day number \(--dates "
                                  r"excel1904\) — fix that cell, or leave out --dates excel1904")):
        with pytest.raises(LstmkitError, match=needle):
            parse_time(pd.Series(cells), "d", "excel1904")


def test_a_workbooks_own_date_system_reads_its_serial_days():
    """A workbook says which system its numbers count in (``attrs["date1904"]``, read by read_frame):
    its cells read in it whichever --dates names; training refuses the other name (check_date_system)."""
    mac, win = pd.Series([43830, 43831.5]), pd.Series([45292, 45293.5])
    mac.attrs["date1904"], win.attrs["date1904"] = True, False
    told = {"excel1904": "in the 1904 date system (serial day 0 is 1904-01-01), not the one --dates excel reads: its "
                         "dates would be 4 years and a day early",
            "excel": "in the 1900 date system (serial day 1 is 1900-01-01), not the one --dates excel1904 reads: its "
                     "dates would be 4 years and a day late"}
    for dates in SERIAL_DATES:
        for col, system in ((mac, "excel1904"), (win, "excel")):
            values, info = time_values(col, "d", dates)
            assert list(pd.DatetimeIndex(values)) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02 12:00")]
            assert info == {"dates": system}
            if system == dates:
                check_date_system(dates, info["dates"])
                continue
            with pytest.raises(LstmkitError) as e:
                check_date_system(dates, info["dates"])
            assert e.value.message == f"the workbook counts its serial days {told[system]}"
            assert e.value.hint == f"pass --dates {system} (dates={system!r} in Python)"
    check_date_system(None, "day-first")                                  # no serial days: nothing to check
    with pytest.warns(UserWarning, match=r"\(43830 is 2024-01-01\), pass --dates excel1904 \(dates='excel1904' in "
                                         r"Python\), or format"):
        time_values(mac.iloc[:1].astype(np.int64), "date")


def test_serial_days_read_in_a_time_zone_as_its_local_clock():
    zone = "America/New_York"
    values, info = time_values(pd.Series(45292 + np.arange(3) / 24), "t", "excel", zone)
    local = pd.date_range("2024-01-01", periods=3, freq="h", tz=zone)
    assert pd.DatetimeIndex(values).equals(local.tz_convert("UTC").tz_localize(None))
    assert info["time_zone"] == zone and info["dates"] == "excel"


@pytest.mark.parametrize("cells, needle", [
    (["45292", "soon"], r"holds 'soon' in data row 2, not a spreadsheet serial day number \(--dates excel\) — fix"),
    ([45292.0, -1.5], r"holds -1.5 in data row 2: serial days count from 1 \(1900-01-01\)"),
    ([45292, 2958466], r"holds 2958466 in data row 2: past 9999-12-31 \(serial day 2958465\)"),
    (["2024-01-01", "2024-01-02"], r"holds dates already \(e.g. '2024-01-01'\), not spreadsheet serial day numbers "
                                   r"— leave out --dates excel"),
    ([20240101, 20240102], r"holds dates already \(e.g. '20240101'\)"),          # yyyymmdd: dates, not serials
    ([True, False], r"holds 'True' in data row 1, not a spreadsheet serial day number"),
    ([45292, 150000], r"outside the years lstmkit computes in \(1678 to 2261\): the first is '150000'"),
])
def test_serial_days_that_cannot_be_dates_are_one_error(cells, needle):
    with pytest.raises(LstmkitError, match=needle) as e:
        time_values(pd.Series(cells), "date", "excel")
    assert e.value.hint


def test_numbers_that_look_like_serial_dates_name_dates_excel():
    with pytest.warns(UserWarning, match=r"45292 is 2024-01-01\), pass --dates excel \(dates='excel' in Python; "
                                         r"--dates excel1904 if the sheet uses the 1904 date system\)"):
        values, _ = time_values(pd.Series([45292, 45293]), "date")
    assert values.dtype == np.int64                                       # still steps without the flag
    with pytest.raises(LstmkitError, match=r"\(45292.0416667 is 2024-01-01 01:00\), pass --dates excel") as e:
        time_values(pd.Series([45292, 45292 + 1 / 24]), "date")
    assert "holds numbers (e.g. 45292.0416667), not dates" in e.value.message
    with pytest.raises(LstmkitError, match=r"holds integers \(e.g. 45292\), not dates — .*or leave out --time; if "
                                           r"they are a spreadsheet's serial dates \(45292 is 2024-01-01\), pass "
                                           r"--dates excel"):
        parse_time(pd.Series([45292.0, 45293.0]), "date")                  # whole, but read as floats
    with pytest.raises(LstmkitError) as e:                                  # far from a spreadsheet's days
        parse_time(pd.Series([1.5, 2.5]), "date")
    assert "--dates" not in e.value.hint


def test_serial_days_joined_with_times_of_day_read_as_one_time():
    values, _ = time_values(pd.Series(["45292 13:00", "45292 13:30:15"]), "date hour", "excel")
    assert pd.DatetimeIndex(values).equals(pd.DatetimeIndex(["2024-01-01 13:00", "2024-01-01 13:30:15"]))
    with pytest.raises(LstmkitError, match=r"holds '45292.5 13:00' in data row 1, not a spreadsheet serial day"):
        time_values(pd.Series(["45292.5 13:00", "45293 13:00"]), "date hour", "excel")     # noon and 13:00?


@pytest.mark.parametrize("freq, after", [("SMS", ["2007-04-01", "2007-04-15", "2007-05-01"]),
                                         ("SME", ["2007-04-15", "2007-04-30", "2007-05-15"])])
def test_semi_monthly_dates_are_a_calendar_step_and_forecast_on_it(freq, after):
    """Semi-monthly data (the 1st and 15th, or the 15th and the month's end): pandas infers no
    frequency, the median step of 14-15 days stood in for it, and the forecast's dates left the
    calendar (2007-03-15 -> 2007-03-29, 04-12, 04-26) without a warning; its season is 24 a year."""
    from lstmkit import Forecaster
    times = pd.date_range("2001-01-01", periods=150, freq=freq)
    assert pd.infer_freq(times) is None and infer_freq(times) == freq
    df = pd.DataFrame({"date": times, "y": np.sin(np.arange(150) * np.pi / 12) + 5})
    f = Forecaster(lookback=12, horizon=3, max_epochs=1, ensemble=1, hidden_size=4, num_layers=1,
                   progress="off", tensorboard=False, doctor=False).fit(df)
    assert f.season_ == 24
    assert list(f.predict(df)["date"]) == list(pd.DatetimeIndex(after))


@pytest.mark.parametrize("start, step, shown", [(1_700_000_000, 0.1, "0.1"), (1000, 0.01, "0.01")])
def test_elapsed_times_are_told_their_step_at_any_magnitude(start, step, shown):
    """Unix seconds in tenths, as a logger writes them (1700000000.1), are exact to ~2e-7 s: judged
    to 1e-6 of a step, they were told 'holds numbers, not dates' without the step and the pandas
    line that numbers them; 1000.00, 1000.01, ... were told steps of 0.00999999999999."""
    col = pd.Series([float(f"{start + step * i:.2f}") for i in range(300)])
    with pytest.raises(LstmkitError, match=rf"elapsed time in steps of {shown}\? .* / {shown}\)\.round\(\)"):
        parse_time(col, "t")


def _serial(n: float) -> str:
    """Serial day ``n`` of the 1900 date system (days since 1899-12-30 from 1900-03-01 on), by its definition."""
    return f"{pd.Timestamp('1899-12-30') + pd.Timedelta(days=n):%Y-%m-%d}"


def test_the_serial_date_hint_covers_1950_to_2099_and_no_day_beyond():
    from lstmkit.tasks.forecast.times import _serial_hint
    assert _serial(18264) == "1950-01-01" and _serial(73050) == "2099-12-31"
    assert "(18264 is 1950-01-01), pass --dates excel" in _serial_hint(pd.Series([18264.0, 18300.0]), "dates")
    assert _serial_hint(pd.Series([18263.0, 18300.0]), "dates") == ""                  # 1949-12-31
    assert f"(73000 is {_serial(73000)})" in _serial_hint(pd.Series([73000.0, 73050.5]), "dates")   # noon, 2099-12-31
    assert _serial_hint(pd.Series([73000.0, 73051.0]), "dates") == ""                  # 2100-01-01
    sheet = pd.Series([18264.0 - 1462, 18300.0 - 1462])                # a 1904 workbook: 1462 days fewer
    sheet.attrs["date1904"] = True
    assert "(16802 is 1950-01-01), pass --dates excel1904" in _serial_hint(sheet, "dates")
    sheet = pd.Series([18263.0 - 1462, 18300.0 - 1462])
    sheet.attrs["date1904"] = True
    assert _serial_hint(sheet, "dates") == ""
    sheet = pd.Series([70000.0 - 1462, 73051.0 - 1462])                # 2100-01-01 in the 1904 system
    sheet.attrs["date1904"] = True
    assert _serial_hint(sheet, "dates") == ""


def test_a_twelve_is_a_month_either_way_round():
    # 12/13/2024 reads month-first only, 13/12/2024 day-first only: a mix, not a cell that is no date
    with pytest.raises(LstmkitError, match=r"mixes day-first dates \('13/12/2024'\) and month-first dates "
                                           r"\('12/13/2024'\)"):
        parse_time(pd.Series(["12/13/2024", "13/12/2024"]), "date")


def test_notes_under_the_dates_are_named_as_such_from_two_rows_up_to_a_quarter_of_the_column():
    days = pd.date_range("2024-01-01", periods=9, freq="D").strftime("%Y-%m-%d").tolist()
    with pytest.raises(LstmkitError, match=r"its last row \(data row 3\) holds 'Total', every other row a date"):
        parse_time(pd.Series([*days[:2], "Total"]), "date")                        # three rows are enough
    with pytest.raises(LstmkitError, match=r"its first row \(data row 1\) holds 'Date', every other row a date"):
        parse_time(pd.Series(["Date", *days[:2]]), "date")                         # a header read again
    with pytest.raises(LstmkitError, match=r"its last 3 rows \(from data row 10\) hold 'Source: ONS', 'Note 2', …, "
                                           r"every row above them a date"):
        parse_time(pd.Series([*days, "Source: ONS", "Note 1", "Note 2"]), "date")     # 3 of 12: a quarter
    with pytest.raises(LstmkitError, match=r"its last 2 rows \(from data row 4\) hold 'Source: ONS', 'Note 1', every "
                                           r"row above them a date"):
        parse_time(pd.Series([*days[:3], "Source: ONS", "Note 1"]), "date")          # two rows: always named
    with pytest.raises(LstmkitError, match=r"could not be read as dates: found 'Source: ONS' in data row 7"):
        parse_time(pd.Series([*days[:6], "Source: ONS", "Note 1", "Note 2"]), "date")   # 3 of 9: over a quarter


def test_a_cell_that_reads_neither_way_round_names_both_numbers():
    with pytest.raises(LstmkitError, match=r"holds '32/13/2024', which is no date: neither 32 nor 13 is a month"):
        parse_time(pd.Series(["01/02/2024", "32/13/2024"]), "date")


def test_day_first_dates_beside_a_cell_that_is_no_date_name_that_cell_not_a_mix():
    with pytest.raises(LstmkitError, match=r"could not be read as dates: found 'soon' in data row 2"):
        parse_time(pd.Series(["31/01/2020", "soon", "05/02/2020"]), "date")
