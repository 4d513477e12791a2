"""The small helpers of read_panel called directly on tiny inputs, each answer worked out by hand:
where a series' parts end, which id columns hold whole numbers, how --fill fills each part, which
covariate columns are categories, where inserted rows go, which column holds times of day."""
import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks.forecast.panel import (_categories, _clock_column, _covariate_numbers, _fill, _part_ends,
                                          _positive_targets, _spread, _whole_numbers)

NAN = np.nan


def _col(*values):
    return np.asarray(values, dtype=np.float64)[:, None]


# -- _part_ends: where the training and the validation part of each series end ---------------
def test_part_ends_by_sizes_count_back_from_the_series_end():
    cfg = ForecastConfig(target=["v"], id="id", horizon=2)
    # 10 rows, val = test = horizon = 2: train rows 0-5, val 6-7, test 8-9
    assert _part_ends(10, cfg) == (6, 8)
    sized = ForecastConfig(target=["v"], id="id", horizon=2, val_size=3, test_size=1)
    assert _part_ends(10, sized) == (6, 9)                 # train 0-5, val 6-8, test 9


def test_part_ends_drop_an_end_at_the_first_row_or_at_the_last():
    cfg = ForecastConfig(target=["v"], id="id", horizon=2)
    assert _part_ends(4, cfg) == (2,)                      # train 0 rows: its end (0) is no end
    assert _part_ends(3, cfg) == (1,)                      # train -1 rows: only val's end (1) is inside
    whole = ForecastConfig(target=["v"], id="id", horizon=2, val_size=0, test_size=0)
    assert _part_ends(5, whole) == ()                      # both parts end at row 5, the series' end


def test_part_ends_by_fractions_and_unknown_without_a_horizon():
    one = ForecastConfig(target=["v"])                      # one series: 15% / 15%, no horizon needed
    assert _part_ends(20, one) == (14, 17)                  # round(3.0) = 3 rows each
    assert _part_ends(20, ForecastConfig(target=["v"], id="id")) == ()   # sizes wait for the horizon


# -- _whole_numbers: ids given back as numbers ------------------------------------------------
@pytest.mark.parametrize("col, whole", [
    (pd.Series([3, 1, 2]), True),
    (pd.Series([1.0, 2.0, NAN]), True),                    # a column pandas made float over a blank
    (pd.Series([1.0, 2.5]), False),
    (pd.Series([True, False]), False),                      # yes/no values are not numbers of stores
    (pd.Series(["1", "2"]), False),                         # texts stay texts
    (pd.Series([7, 8, 7]).astype("category"), True),        # by its categories
    (pd.Series(["a", "b"]).astype("category"), False),
])
def test_whole_numbers(col, whole):
    assert _whole_numbers(col) is whole


# -- _spread: rows for the dates missing from a grid -------------------------------------------
def test_spread_puts_each_row_at_its_place_and_nan_between():
    out = _spread(np.array([[1.0, 10.0], [2.0, 20.0]]), np.array([0, 2]), 4)
    np.testing.assert_array_equal(out, [[1, 10], [NAN, NAN], [2, 20], [NAN, NAN]])


# -- _fill: gaps filled per part ---------------------------------------------------------------
def test_fill_leaves_a_whole_series_alone_and_refuses_gaps_without_a_fill():
    a = _col(1, 2, 3)
    out, k = _fill(a, None, "s", ["v"])
    assert out is a and k == 0
    with pytest.raises(LstmkitError, match=r"'w'"):       # the column with the gap, not the first one
        _fill(np.array([[1.0, 1.0], [2.0, NAN]]), None, "s", ["v", "w"])
    with pytest.raises(LstmkitError, match=r"'w' has no values"):
        _fill(np.array([[1.0, NAN], [NAN, NAN]]), "ffill", "s", ["v", "w"])


def test_fill_zero_ffill_and_interpolate_without_parts():
    a = _col(NAN, 2, NAN, NAN, 8)
    out, k = _fill(a, "zero", "s", ["v"])
    np.testing.assert_array_equal(out[:, 0], [0, 2, 0, 0, 8])
    assert k == 3
    out, k = _fill(a, "ffill", "s", ["v"])
    np.testing.assert_array_equal(out[:, 0], [2, 2, 2, 2, 8])     # carried forward; the lead filled back
    assert k == 3
    out, k = _fill(a, "interpolate", "s", ["v"])
    np.testing.assert_allclose(out[:, 0], [2, 2, 4, 6, 8])        # on the line 2 -> 8; the lead held at 2
    assert k == 3


def test_fill_interpolates_the_training_part_alone_and_carries_forward_after_it():
    # training rows 0-2, validation 3-5: the gap at the training part's end is not drawn toward 5,
    # and the validation part's gap (row 4) is carried forward from 5, not interpolated toward 7
    a = _col(1, NAN, NAN, 5, NAN, 7)
    out, k = _fill(a, "interpolate", "s", ["v"], ends=(3,))
    np.testing.assert_array_equal(out[:, 0], [1, 1, 1, 5, 5, 7])
    assert k == 3
    out, _ = _fill(_col(1, NAN, 3, 5, NAN, 7), "interpolate", "s", ["v"], ends=(3,))
    np.testing.assert_array_equal(out[:, 0], [1, 2, 3, 5, 5, 7])


def test_fill_takes_a_part_empty_throughout_from_the_next_part_and_each_column_on_its_own():
    a = np.array([[NAN, 1.0], [NAN, NAN], [3.0, 5.0], [4.0, NAN]])
    out, k = _fill(a, "ffill", "s", ["v", "w"], ends=(2,))
    np.testing.assert_array_equal(out, [[3, 1], [3, 1], [3, 5], [4, 5]])
    assert k == 4
    # two ends: the test part's gap (row 5) is carried from row 4, the validation part's (row 2) from row 1
    out, _ = _fill(_col(0, 1, NAN, 3, 4, NAN), "interpolate", "s", ["v"], ends=(2, 4))
    np.testing.assert_array_equal(out[:, 0], [0, 1, 1, 3, 4, 4])


# -- _categories / _covariate_numbers: columns of labels ---------------------------------------
@pytest.mark.parametrize("values, labels", [
    (["a", "b", "a", "b"], ["a", "b"]),
    ([" a", "a ", "", None], ["a"]),                  # stripped; blanks are no cells
    (["a", "a", "1", "2"], ["a"]),                    # half of the cells words: labels
    (["a", "a", "1", "2", "3"], None),                # fewer than half: a column of numbers with bad cells
    (["a", "1", "2"], None),                          # one word
    (["a", "b", "a", "c"], None),                     # 3 labels of 4 words: text that hardly repeats
    (["a", "a", "b", "b", "c", "c"], ["a", "b", "c"]),  # 3 labels of 6 words: each repeats
])
def test_categories(values, labels):
    assert _categories(pd.Series(values, dtype=object)) == labels


def test_categories_of_a_numeric_column_are_none():
    assert _categories(pd.Series([1, 2, 1, 2])) is None


def test_covariate_numbers_read_numbers_and_refuse_labels_by_what_makes_them():
    np.testing.assert_array_equal(_covariate_numbers(pd.Series(["1", "2.5"]), "x", "features"), [1.0, 2.5])
    with pytest.raises(LstmkitError, match=r"--calendar weekday"):
        _covariate_numbers(pd.Series(["Mon", "Tue", "Mon", "Tue"]), "day", "features")
    with pytest.raises(LstmkitError, match=r"--calendar month"):
        _covariate_numbers(pd.Series(["Jan.", "Feb", "Jan.", "Feb"]), "m", "features")
    with pytest.raises(LstmkitError, match=r"get_dummies"):
        _covariate_numbers(pd.Series(["north", "south", "north", "south"]), "region", "features")


# -- _clock_column / _positive_targets -----------------------------------------------------------
def test_clock_column_is_the_other_text_column_of_times_of_day():
    df = pd.DataFrame({"date": ["01:00", "01:00"], "n": [1, 2], "at": ["13:05", "1:05:00 PM"]})
    assert _clock_column(df, "date") == "at"
    assert _clock_column(df, "at") == "date"
    assert _clock_column(df.assign(at=["13:05", "noon"]), "date") is None
    assert _clock_column(df.iloc[:0], "x") is None


def test_positive_targets_refuse_a_value_at_or_below_zero_only():
    df = pd.DataFrame({"v": [0.5, 1e-9, NAN]})
    _positive_targets(df, {"v": "v"}, {"v": df["v"].to_numpy()}, ["v"], None)    # blank cells are no values
    for low in (0.0, -1.0):
        df = pd.DataFrame({"v": [1.0, low]})
        with pytest.raises(LstmkitError, match=r"holds -?[01]"):
            _positive_targets(df, {"v": "v"}, {"v": df["v"].to_numpy()}, ["v"], None)
    # many 0s and nothing below: counts, whose fix is no log; one negative among them: cells to fix
    df = pd.DataFrame({"v": [0.0, 0.0, 3.0]})
    with pytest.raises(LstmkitError, match=r"2 of its 3 values are 0"):
        _positive_targets(df, {"v": "v"}, {"v": df["v"].to_numpy()}, ["v"], None)
    df = pd.DataFrame({"v": [0.0, -2.0, 3.0]})
    with pytest.raises(LstmkitError, match=r"fix those cells"):
        _positive_targets(df, {"v": "v"}, {"v": df["v"].to_numpy()}, ["v"], None)
