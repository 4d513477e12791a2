"""The small helpers of read_panel called directly on tiny inputs, each answer worked out by hand:
where a series' parts end, which id columns hold whole numbers, how --fill fills each part, which
covariate columns are categories, where inserted rows go, which column holds times of day."""
import warnings

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks.forecast.panel import (_categories, _clock_column, _covariate_numbers, _fill, _part_ends,
                                          _positive_targets, _spread, _too_short, _whole_numbers, read_panel)

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
    # the column with the gap (not the first column, nor the column of the row number), and its series
    with pytest.raises(LstmkitError, match=r"column 'w' of series 's' \(1 of 3 rows\) —"):
        _fill(np.array([[1.0, NAN], [2.0, 2.0], [3.0, 3.0]]), None, "s", ["v", "w"])
    with pytest.raises(LstmkitError, match=r"'w' has no values"):
        _fill(np.array([[1.0, NAN], [NAN, NAN]]), "ffill", "s", ["v", "w"])


def test_fill_without_a_fill_names_the_first_columns_with_gaps_and_counts_the_rest():
    a = np.ones((3, 6))
    a[0, 1:] = NAN                                         # columns b-f: a gap each; b: two
    a[1, 1] = NAN
    names = list("abcdef")
    with pytest.raises(LstmkitError, match=r"column 'b' of series 's' \(2 of 3 rows\); "
                                           r"also in 'c' \(1\), 'd' \(1\), 'e' \(1\) and 1 more columns"):
        _fill(a, None, "s", names)
    with pytest.raises(LstmkitError, match=r"column 'b' of series 's' \(2 of 3 rows\); "
                                           r"also in 'c' \(1\), 'd' \(1\), 'e' \(1\) —"):
        _fill(a[:, :5], None, "s", names)                   # four columns with gaps: none more to count
    with pytest.raises(LstmkitError, match=r"column 'b' \(2 of 3 rows\); also in 'c' \(1\) —"):
        _fill(a[:, :3], None, "b", names, wide=True)       # a wide table's series is its column


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
    for days in (["Mon", "Tue"], ["mo", "tu"], ["Monday", "tuesday"]):
        with pytest.raises(LstmkitError, match=r"--calendar weekday"):
            _covariate_numbers(pd.Series(days * 2), "day", "features")
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
    assert _clock_column(df.assign(at=["13:05", None]), "date") is None      # an empty cell is no time of day


def test_positive_targets_refuse_a_value_at_or_below_zero_only():
    df = pd.DataFrame({"v": [0.5, 1e-9, NAN]})
    _positive_targets(df, {"v": "v"}, {"v": df["v"].to_numpy()}, ["v"], None)    # blank cells are no values
    for low in (0.0, -1.0):
        df = pd.DataFrame({"v": [1.0, low]})
        with pytest.raises(LstmkitError, match=r"holds -?[01]"):
            _positive_targets(df, {"v": "v"}, {"v": df["v"].to_numpy()}, ["v"], None)
    df = pd.DataFrame({"v": [0.0, 3.0]})                     # a single 0: a cell to fix, not counts
    with pytest.raises(LstmkitError, match=r"fix that cell"):
        _positive_targets(df, {"v": "v"}, {"v": df["v"].to_numpy()}, ["v"], None)
    # many 0s and nothing below: counts, whose fix is no log; one negative among them: cells to fix
    df = pd.DataFrame({"v": [0.0, 0.0, 3.0]})
    with pytest.raises(LstmkitError, match=r"2 of its 3 values are 0"):
        _positive_targets(df, {"v": "v"}, {"v": df["v"].to_numpy()}, ["v"], None)
    df = pd.DataFrame({"v": [0.0, -2.0, 3.0]})
    with pytest.raises(LstmkitError, match=r"fix those cells"):
        _positive_targets(df, {"v": "v"}, {"v": df["v"].to_numpy()}, ["v"], None)


# -- read_panel: the series loop on tiny long tables ---------------------------------------------
DAYS = pd.date_range("2024-01-01", periods=4, freq="D")


def _table(rows: dict) -> pd.DataFrame:
    """A long table of ``{id: [row dicts]}``, each series from 2024-01-01 a day apart."""
    return pd.DataFrame([{"id": sid, "time": DAYS[k], **r} for sid, rs in rows.items() for k, r in enumerate(rs)])


def test_read_panel_fills_a_gap_in_a_covariate_alone_and_keeps_each_covariate_its_column():
    # b's promo is empty on day 2: its targets are whole, yet the covariate's gap is a gap
    rows = _table({"a": [{"value": 1.0, "promo": 0.0, "price": 5.0}, {"value": 2.0, "promo": 1.0, "price": 6.0}],
                   "b": [{"value": 3.0, "promo": 1.0, "price": 7.0}, {"value": 4.0, "promo": NAN, "price": 8.0}]})
    cfg = dict(target=["value"], time="time", id="id", past_covariates=["promo"], future_covariates=["price"])
    with pytest.raises(LstmkitError, match=r"column 'promo' of series 'b' \(1 of 2 rows\)"):
        read_panel(rows, ForecastConfig(**cfg), fitting=False)
    panel = read_panel(rows, ForecastConfig(**cfg, fill="ffill"), fitting=False)
    assert panel.past.shape == (4, 1) and panel.future.shape == (4, 1)
    np.testing.assert_array_equal(panel.past[:, 0], [0, 1, 1, 1])       # b's day 2 carried from day 1
    np.testing.assert_array_equal(panel.future[:, 0], [5, 6, 7, 8])
    assert panel.n_filled == 1 and panel.unobserved is None            # only target cells are unobserved


def test_read_panel_a_row_missing_one_of_two_targets_is_a_gap_and_a_series_without_targets_is_skipped():
    rows = _table({"a": [{"y": 1.0, "z": 10.0}, {"y": 2.0, "z": 20.0}, {"y": 3.0, "z": NAN}],
                   "b": [{"y": NAN, "z": NAN}, {"y": NAN, "z": NAN}],
                   "c": [{"y": 5.0, "z": 50.0}]})
    cfg = ForecastConfig(target=["y", "z"], time="time", id="id", fill="ffill")
    panel = read_panel(rows, cfg, fitting=False)
    # a's day 3 holds y: its history runs to day 3 (z carried from day 2), not to day 2
    assert panel.ids == ["a", "c"] and panel.lengths.tolist() == [3, 1]
    np.testing.assert_array_equal(panel.values, [[1, 10], [2, 20], [3, 20], [5, 50]])
    np.testing.assert_array_equal(panel.unobserved, [[0, 0], [0, 0], [0, 1], [0, 0]])
    assert panel.skipped == [{"id": "b", "length": 0, "reason": "no target values"}]
    assert panel.n_filled == 1


def test_read_panel_keeps_a_series_of_exactly_the_points_needed_and_takes_freq_from_one_of_three_rows():
    rows = _table({"a": [{"value": 1.0}] * 2, "b": [{"value": 2.0}] * 3, "c": [{"value": 3.0}] * 2})
    panel = read_panel(rows, ForecastConfig(target=["value"], time="time", id="id"), need=3, fitting=False)
    assert panel.ids == ["b"] and panel.lengths.tolist() == [3]
    assert panel.skipped == [{"id": "a", "length": 2, "need": 3, "reason": "shorter than needed"},
                             {"id": "c", "length": 2, "reason": "shorter than needed", "need": 3}]
    one_short = read_panel(rows[rows["id"] != "c"], ForecastConfig(target=["value"], time="time", id="id"), need=3)
    assert one_short.ids == ["b"] and [s["id"] for s in one_short.skipped] == ["a"]
    # pandas infers a frequency from 3 dates or more: b's, though a (2 rows) comes first and c after it
    panel = read_panel(rows, ForecastConfig(target=["value"], time="time", id="id"), fitting=False)
    assert panel.lengths.tolist() == [2, 3, 2] and panel.freq == "D"


def test_read_panel_fill_by_part_keeps_the_training_part_from_reading_the_parts_after_it():
    # 8 daily rows, horizon 2: training rows 0-3, validation 4-5, test 6-7; row 3 (the training part's
    # last) is empty: a fit carries 3 forward; predict's history (fitting False) interpolates to 4
    rows = _table({"a": [{"value": v} for v in (1.0, 2.0, 3.0, NAN)]})
    rows = pd.concat([rows, rows.assign(time=rows["time"] + pd.Timedelta(days=4), value=[5.0, 6.0, 7.0, 8.0])],
                     ignore_index=True)
    cfg = ForecastConfig(target=["value"], time="time", id="id", horizon=2, fill="interpolate")
    assert read_panel(rows, cfg).values[3, 0] == 3.0
    assert read_panel(rows, cfg, fitting=False).values[3, 0] == 4.0
    assert read_panel(rows, cfg, by_part=lambda n: ()).values[3, 0] == 4.0        # the given ends rule
    assert read_panel(rows, cfg, fitting=False, by_part=True).values[3, 0] == 3.0


HOURS = [pd.Timestamp("2024-01-01") + pd.Timedelta(hours=x) for x in (0, 1, 2, 3, 4)]
ODD = [pd.Timestamp("2024-01-01") + pd.Timedelta(hours=x) for x in (0, 1, 2.5, 3.5, 4.5)]


def test_read_panel_warns_once_of_uneven_steps_naming_the_uneven_series_alone():
    df = pd.DataFrame({"id": ["a"] * 5 + ["b"] * 5, "time": HOURS + ODD, "value": np.arange(10.0)})
    with pytest.warns(UserWarning) as got:
        read_panel(df, ForecastConfig(target=["value"], time="time", id="id"), fitting=False)
    assert len(got) == 1 and "steps unevenly in 1 of 2 series ('b': 1 hour to 1.5 hours" in str(got[0].message)
    with pytest.warns(UserWarning) as got:                 # one series, no id: where its steps vary
        read_panel(df.iloc[5:].drop(columns="id"), ForecastConfig(target=["value"], time="time"), fitting=False)
    assert len(got) == 1 and "steps vary from 1 hour to 1.5 hours" in str(got[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # even steps: nothing to say
        read_panel(df.iloc[:5], ForecastConfig(target=["value"], time="time", id="id"), fitting=False)
        read_panel(df.iloc[:5].drop(columns="id"), ForecastConfig(target=["value"], time="time"), fitting=False)


def test_read_panel_a_single_empty_cell_of_one_target_or_of_a_future_covariate_is_a_gap():
    rows = _table({"a": [{"y": 1.0, "z": 10.0, "price": 5.0}, {"y": 2.0, "z": NAN, "price": NAN},
                         {"y": 3.0, "z": 30.0, "price": 7.0}]})
    with pytest.raises(LstmkitError, match=r"column 'z' of series 'a' \(1 of 3 rows\)"):
        read_panel(rows, ForecastConfig(target=["y", "z"], time="time", id="id"), fitting=False)
    with pytest.raises(LstmkitError, match=r"column 'price' of series 'a' \(1 of 3 rows\)"):
        read_panel(rows.drop(columns="z"), ForecastConfig(target=["y"], time="time", id="id",
                                                          future_covariates=["price"]), fitting=False)
    panel = read_panel(rows, ForecastConfig(target=["y", "z"], time="time", id="id", future_covariates=["price"],
                                            fill="ffill"), fitting=False)
    np.testing.assert_array_equal(panel.values[:, 1], [10, 10, 30])
    np.testing.assert_array_equal(panel.future[:, 0], [5, 5, 7])
    assert panel.n_filled == 2                              # z's cell and price's


def test_read_panel_rows_after_the_last_target_are_future_rows_with_their_times():
    rows = _table({"a": [{"value": 1.0, "price": 5.0}, {"value": 2.0, "price": 6.0}, {"value": NAN, "price": 7.0}],
                   "b": [{"value": 3.0, "price": 8.0}]})
    panel = read_panel(rows, ForecastConfig(target=["value"], time="time", id="id", future_covariates=["price"]),
                       fitting=False)
    assert panel.lengths.tolist() == [2, 1]
    np.testing.assert_array_equal(panel.ahead_future[0], [[7.0]])
    assert panel.ahead_future[1].shape == (0, 1)
    assert list(panel.ahead_times[0]) == [DAYS[2]] and len(panel.ahead_times[1]) == 0


def test_read_panel_refusals_when_no_series_is_left():
    rows = _table({"a": [{"y": NAN}] * 2, "b": [{"y": 1.0}] * 2})
    cfg = ForecastConfig(target=["y"], time="time", id="id")
    with pytest.raises(LstmkitError, match=r"the target column 'y' has no values"):
        read_panel(rows.assign(y=NAN), cfg, fitting=False)
    # one series without values, one too short: no series is long enough (not 'y has no values')
    with pytest.raises(LstmkitError, match=r"no series has the 3 points needed .* series 'a' has 0"):
        read_panel(rows, cfg, need=3, fitting=False)
    strict = ForecastConfig(target=["y"], time="time", id="id", strict=True)
    both = _table({"a": [{"y": 1.0}] * 2, "b": [{"y": 1.0}] * 1, "c": [{"y": 1.0}] * 3})
    with pytest.raises(LstmkitError, match=r"series 'a' has 2 points, fewer than the 3 needed .* 2 series too short"):
        read_panel(both, strict, need=3, fitting=False)
    assert read_panel(both, strict, fitting=False).lengths.tolist() == [2, 1, 3]     # predict: nothing is short


def test_read_panel_warns_once_for_a_table_whose_every_series_steps_unevenly():
    df = pd.DataFrame({"id": ["a"] * 5 + ["b"] * 5, "time": ODD + ODD, "value": np.arange(10.0)})
    with pytest.warns(UserWarning) as got:
        read_panel(df, ForecastConfig(target=["value"], time="time", id="id"), fitting=False)
    assert len(got) == 1 and "steps unevenly in each of the 2 series" in str(got[0].message)


def test_both_errors_of_one_series_too_short_open_with_the_one_sentence():
    """The error naming a part under a horizon spelled the plain error's first sentence again
    (session 57): both now open with :func:`_too_short`'s sentence, so they cannot say it two ways.
    60 points, lookback 4, horizon 10, test 20 %: validation 15 % = 9 points, under a horizon."""
    rows = pd.DataFrame({"value": np.sin(np.arange(60.0))})
    cfg = ForecastConfig(target=["value"], lookback=4, horizon=10, test_frac=0.2)
    opening = _too_short(60, 61, cfg)
    assert opening == "series too short: 60 rows, need at least 61 for lookback 4 + horizon 10 with 65/15/20 splits"
    with pytest.raises(LstmkitError) as part:
        read_panel(rows, cfg, need=61)
    with pytest.raises(LstmkitError) as plain:
        read_panel(rows, cfg, need=61, short_fix="the run's own fix")     # a fitted run's: no part clause
    assert part.value.message == opening + ": its validation part (15 % = 9 points) holds less than one horizon"
    assert plain.value.message == opening


def test_read_panel_one_series_too_short_says_its_length_the_need_and_the_split():
    rows = _table({"a": [{"value": 1.0}] * 4}).drop(columns="id")
    cfg = ForecastConfig(target=["value"], time="time", lookback=3, horizon=1)   # a lookback to shorten
    # the default split: 1 - 0.15 - 0.15 = 70% training, 15% validation, 15% test
    with pytest.raises(LstmkitError, match=r"series too short: 4 rows, need at least 9 for lookback 3 \+ horizon 1 "
                                           r"with 70/15/15 splits — shorten --lookback \(or --horizon\)"):
        read_panel(rows, cfg, need=9)
    ones = ForecastConfig(target=["value"], time="time", lookback=1, horizon=1)    # nothing to shorten
    with pytest.raises(LstmkitError, match=r"series too short: 4 rows, need at least 9 .* — supply at least 9 rows$"):
        read_panel(rows, ones, need=9)
    sized = ForecastConfig(target=["value"], time="time", lookback=3, horizon=2, val_size=2, test_size=2)
    with pytest.raises(LstmkitError, match=r"need at least 9 for lookback 3 \+ horizon 2 with its val/test parts"):
        read_panel(rows, sized, need=9)
    with pytest.raises(LstmkitError, match=r"series too short: 4 rows.* — the run's own fix$"):
        read_panel(rows, cfg, need=9, short_fix="the run's own fix")
    strict = ForecastConfig(target=["value"], time="time", id="id", strict=True)
    with pytest.raises(LstmkitError, match=r"series 'a' has 4 points.* — the run's own fix$"):
        read_panel(_table({"a": [{"value": 1.0}] * 4}), strict, need=9, short_fix="the run's own fix")
