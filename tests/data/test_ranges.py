"""The far-outside rule (lstmkit.data.ranges) that forecasters and numeric classifiers share."""
import numpy as np

from lstmkit.data.ranges import FAR_OUTSIDE, far_outside, far_outside_words, range_state, reach, read_range


def test_values_beyond_one_width_of_the_range_are_far_outside_it():
    lo, hi = [0.0, 10.0], [1.0, 20.0]
    assert far_outside(lo, hi, [-0.9, 10.0], [1.9, 20.0]) is None              # within one width on each side
    assert far_outside(lo, hi, [0.0, -5.0], [1.0, 20.0]) == (1, 1.5)          # 15 below 10: 1.5 widths of 10
    assert far_outside(lo, hi, [0.0, 10.0], [4.0, 50.0]) == (0, 3.0)          # the first column found first
    assert far_outside([5.0], [5.0], [-1e9], [1e9]) is None                   # a constant column never
    assert far_outside(lo, hi, [np.nan, 10.0], [np.nan, 20.0]) is None        # nor a missing value
    assert FAR_OUTSIDE == 1.0


def test_reach_screens_exactly_the_values_that_may_be_far_outside():
    low, high = reach([0.0, 3.0], [2.0, 3.0])
    assert low.tolist() == [-2.0, -np.inf] and high.tolist() == [4.0, np.inf]
    assert far_outside([0.0], [2.0], [-2.0], [4.0]) is None and far_outside([0.0], [2.0], [-2.01], [0.0])


def test_reach_is_one_width_beyond_a_range_narrower_than_one_and_away_from_zero():
    # 10 .. 10.5 has width 0.5 (a width, not a constant): one width below is 9.5, above 11.0
    low, high = reach([10.0, -4.0], [10.5, -2.0])
    assert low.tolist() == [9.5, -6.0] and high.tolist() == [11.0, 0.0]


def test_a_range_goes_to_json_and_back_and_a_missing_or_damaged_one_reads_as_none():
    state = range_state(np.array([[1.0, -3.0], [2.0, 5.0], [0.5, 0.0]]))
    assert state == {"lo": [0.5, -3.0], "hi": [2.0, 5.0]}
    lo, hi = read_range(state, 2)
    assert lo.tolist() == [0.5, -3.0] and hi.tolist() == [2.0, 5.0]
    for bad in (None, {}, {"lo": [0.5], "hi": [2.0]}, {"lo": [0.5, "x"], "hi": [2.0, 5.0]},
                {"lo": [0.5, None], "hi": [2.0, 5.0]}, {"lo": [True, 0.0], "hi": [2.0, 5.0]},
                {"lo": [0.5, float("nan")], "hi": [2.0, 5.0]}, {"lo": [0.5, -3.0], "hi": [2.0, float("inf")]}):
        assert read_range(bad, 2) is None, bad


def test_the_warning_says_what_lies_how_far_outside_which_range():
    text = far_outside_words("the last 3 values of series 'a' (1 .. 9)", True, 4.25, "its training range (0 .. 1)",
                             "the forecast")
    assert text.startswith("the last 3 values of series 'a' (1 .. 9) lie 4.25 times the width of its training range "
                           "(0 .. 1) outside it: the network extrapolates, so the forecast may be far off")
    assert " lies 2 times" in far_outside_words("sequence 1", False, 2.0, "x", "y")
