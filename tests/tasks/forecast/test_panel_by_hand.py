"""read_panel on long tables of two or three tiny series, each answer worked out by hand: which rows
make each series, where each ends, what the summary counts, which rows are refused."""
import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks.forecast.panel import read_panel

DAYS = pd.date_range("2024-01-01", periods=6, freq="D")


def _long(series: dict) -> pd.DataFrame:
    """A long table (id, time, value) of ``{id: values}``, each series from 2024-01-01 a day apart."""
    return pd.DataFrame([{"id": sid, "time": DAYS[k], "value": v}
                         for sid, values in series.items() for k, v in enumerate(values)])


CFG = ForecastConfig(target=["value"], time="time", id="id")


def test_each_series_ends_at_its_own_newest_time_and_the_summary_counts_their_lengths():
    # 'b' (3 days) comes first in the file, 'a' (5 days) second: rows 0-2 are b's, rows 3-7 a's
    panel = read_panel(_long({"b": [10, 20, 30], "a": [1, 2, 3, 4, 5]}), CFG)
    assert panel.ids == ["b", "a"]
    assert panel.starts.tolist() == [0, 3] and panel.lengths.tolist() == [3, 5]
    assert panel.ends([0, 1]) == {"b": "2024-01-03T00:00:00", "a": "2024-01-05T00:00:00"}
    assert panel.ends([1]) == {"a": "2024-01-05T00:00:00"}
    summary = panel.summary()
    assert summary["series"] == 2 and summary["rows"] == 8
    assert summary["length"] == {"min": 3, "median": 4.0, "max": 5}


def test_a_time_repeated_in_any_series_is_refused_and_one_series_ending_where_the_next_begins_is_not():
    # 'b' holds 2024-01-02 twice; 'a' is first in the file, so b's repeat is not in the first series
    rows = _long({"a": [1, 2, 3], "b": [4, 5, 6]})
    twice = pd.concat([rows, rows.iloc[[4]]], ignore_index=True)
    with pytest.raises(LstmkitError, match=r"duplicate \(id, time\) pair: series 'b', time 2024-01-02"):
        read_panel(twice, CFG)
    # the last time of one series equal to the first of the next (both 2024-01-01): no duplicate
    one_each = _long({"a": [1], "b": [2], "c": [3]})
    assert read_panel(one_each, CFG).lengths.tolist() == [1, 1, 1]


def test_a_gap_in_one_series_of_two_is_filled_and_left_out_of_the_scores_alone():
    """'a' lacks 2024-01-04 (a date missing from its daily grid) and holds an empty cell on 2024-01-02;
    'b' is whole. With --fill interpolate 'a' gets a row for the missing date, both gaps are filled
    on the line between their neighbours, and only those two cells of 'a' are unobserved: the metrics
    leave them out and score every other point of both series."""
    rows = _long({"a": [1.0, np.nan, 3.0, 4.0, 5.0, 6.0], "b": [7.0, 8.0, 9.0, 10.0, 11.0, 12.0]})
    rows = rows.drop(index=3)                              # a's 2024-01-04 (4.0) is not in the file
    cfg = ForecastConfig(target=["value"], time="time", id="id", fill="interpolate")
    with pytest.warns(UserWarning, match=r"skips 1 step .* in 1 series \(e.g. .a.: 1\), the first 2024-01-04"):
        panel = read_panel(rows, cfg, fitting=False)
    assert panel.ids == ["a", "b"] and panel.lengths.tolist() == [6, 6]
    assert panel.n_inserted == 1 and panel.n_filled == 2
    # a: 1, _, 3, _, 5, 6, interpolated linearly: 1, 2, 3, 4, 5, 6
    np.testing.assert_allclose(panel.values[:, 0], np.arange(1.0, 13.0))
    np.testing.assert_array_equal(panel.actual(np.arange(12))[:, 0],
                                  [1.0, np.nan, 3.0, np.nan, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0])
    whole = read_panel(_long({"a": [1.0, 2.0], "b": [3.0, 4.0]}), cfg, fitting=False)
    assert whole.unobserved is None and whole.n_filled == 0 and whole.n_inserted == 0


@pytest.mark.parametrize("role", ["target", "id"])
def test_a_target_or_id_that_names_no_column_is_refused_naming_the_columns(role):
    # "," names no column at all (a flag given an empty list): refused with the table's columns, not a
    # crash on an empty list of names
    cfg = ForecastConfig(**{"target": ["value"], "time": "time", "id": "id", role: ","})
    with pytest.raises(LstmkitError, match=f"^no {role} column given — name one of: id, time, value$"):
        read_panel(_long({"a": [1, 2, 3]}), cfg)


@pytest.mark.parametrize("time", [None, "step"])
def test_calendar_features_need_dates_whether_the_time_column_is_missing_or_holds_step_numbers(time):
    rows = _long({"a": [1, 2, 3]}).assign(step=[1, 2, 3])
    cfg = ForecastConfig(target=["value"], time=time, calendar=["weekday"])
    with pytest.raises(LstmkitError, match=r"--calendar needs dates in the time column"):
        read_panel(rows.drop(columns="id"), cfg)


@pytest.mark.parametrize("columns", [dict(time="time"), dict(id="id")])
def test_a_last_value_that_sums_the_ones_before_is_a_step_when_rows_have_times_or_ids(columns):
    # 1, 2, 3, 6: read in file order with neither a time nor an id column, the 6 looks like a spreadsheet's
    # total row and is refused; a time stamp (or a series id) on the row makes it one more step of a series
    rows = _long({"a": [1, 2, 3, 6]})
    cfg = ForecastConfig(target=["value"], **columns)
    panel = read_panel(rows[["value", *columns.values()]], cfg)
    assert panel.values[:, 0].tolist() == [1.0, 2.0, 3.0, 6.0]
    with pytest.raises(LstmkitError, match=r"the last row \(.*\) looks like a total \(value 6"):
        read_panel(rows[["value"]], ForecastConfig(target=["value"]))


def _quarter_hours(n: int, extra: bool) -> pd.DataFrame:
    """``n`` quarter hours of Europe/Berlin local time written without an offset, ending 3 hours after
    clocks went back on 2024-10-27 (02:00 - 02:45 twice: 4 repeated times), ``extra``: one more row
    repeating the last time (05:00)."""
    stamps = pd.date_range(end="2024-10-27 05:00", periods=n, freq="15min", tz="Europe/Berlin").tz_localize(None)
    text = stamps.strftime("%Y-%m-%d %H:%M").tolist()
    text += text[-1:] if extra else []
    return pd.DataFrame({"t": text, "y": np.arange(len(text), dtype=float)})


@pytest.mark.parametrize("n, extra, clocks", [(40, False, True), (40, True, False), (9000, True, True)])
def test_the_hour_clocks_go_back_is_told_apart_from_other_repeated_times_by_its_count(n, extra, clocks):
    # one hour a year shown twice: 4 repeated quarter hours in a table of up to 8000 rows, 4 more for each
    # 8000 rows after; a fifth repeat in 40 rows is more than the clocks going back explain
    cfg = ForecastConfig(target=["y"], time="t")
    with pytest.raises(LstmkitError) as e:
        read_panel(_quarter_hours(n, extra), cfg)
    assert e.value.message.startswith(f"time 2024-10-27T02:00:00 appears more than once in column 't' "
                                      f"({4 + extra} duplicated rows)")
    assert ("local time shows that hour twice when clocks go back (as in Europe/Berlin)" in e.value.message) == clocks
