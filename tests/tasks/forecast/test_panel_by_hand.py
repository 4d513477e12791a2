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
