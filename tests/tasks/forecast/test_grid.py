"""Time grids' boundaries, worked by hand: how many times are judged, where steps 1.5x apart
start to count as uneven or as another frequency, and what each function returns."""
import warnings

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks.forecast.grid import (check_one_step, check_same_step, infer_freq, off_grid, regularity, run_step,
                                         uneven_steps, warn_uneven_steps)
from lstmkit.tasks.forecast.panel import read_panel


def test_under_three_times_are_not_judged_and_three_are():
    for few in (None, np.array([5]), np.array([0, 1])):
        assert uneven_steps(few) is None
        assert regularity(few, "t") == (None, 0)
    assert regularity(pd.date_range("2024-01-01", periods=2, freq="D").to_numpy(), "t") == (None, 0)
    u = uneven_steps(np.array([0, 1, 3]))                          # steps 1 and 2: twice apart
    assert (u.lo, u.hi, u.typical, u.gaps, u.differ, u.n, u.first, u.last) == (1, 2, 1.5, 0, 2, 2, 0, 3)


def test_steps_exactly_one_and_a_half_apart_are_uneven_and_just_under_are_not():
    u = uneven_steps(np.array([0, 2, 5, 7]))                       # steps 2, 3, 2: median 2, 3 is no gap (> 3)
    assert (u.lo, u.hi, u.typical, u.gaps, u.differ) == (2, 3, 2.0, 0, 1)
    assert uneven_steps(np.array([0, 20, 49, 69])) is None         # 29 < 1.5 x 20


def test_the_uneven_counts_are_the_steps_that_differ_and_the_gaps_over_one_and_a_half_medians():
    u = uneven_steps(np.array([0, 1, 3, 5, 8]))                    # steps 1, 2, 2, 3
    assert (u.typical, u.differ, u.n, u.gaps) == (2.0, 2, 4, 0)
    u = uneven_steps(np.array([0, 2, 4, 6, 8, 18]))                # steps 2, 2, 2, 2, 10
    assert (u.lo, u.hi, u.typical, u.differ, u.gaps) == (2, 10, 2.0, 1, 1)


def test_regularity_returns_the_frequency_and_the_gaps_it_warns_of():
    days = pd.date_range("2024-01-01", periods=10, freq="D")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert regularity(days.to_numpy(), "t") == ("D", 0)
        assert regularity(np.array([0, 7, 14, 21]), "t") == (None, 0)       # even integer steps
    with pytest.warns(UserWarning, match=r"time column 't' has 1 irregular gaps"):
        assert regularity(np.array([0, 1, 5]), "t") == (None, 1)           # steps 1 and 4: median 2.5, 4 > 3.75
    with pytest.warns(UserWarning, match=r"steps vary from 1 to 3 \(median 2; 2 of 4 steps differ from it\)"):
        assert regularity(np.array([0, 1, 3, 5, 8]), "t") == (None, 0)


@pytest.mark.parametrize("ticks, said", [([0, 1, 3, 5, 8, 9, 11, 13, 16, 17], "steps vary"),
                                         ([0, 2, 4, 6, 8, 15, 17, 19, 21, 23], "irregular gaps")])   # 7: no grid
def test_one_series_uneven_steps_warning_names_the_readers_caller(ticks, said):
    with pytest.warns(UserWarning, match=said) as caught:
        read_panel(pd.DataFrame({"t": ticks, "y": np.arange(10.0)}), ForecastConfig(target=["y"], time="t", horizon=1))
    assert [w.filename for w in caught if said in str(w.message)] == [__file__]


def test_three_semi_monthly_dates_are_enough_for_their_calendar_step():
    assert infer_freq(pd.DatetimeIndex(["2024-01-01", "2024-01-15", "2024-02-01"])) == "SMS"
    assert infer_freq(pd.DatetimeIndex(["2024-01-15", "2024-01-31", "2024-02-15"])) == "SME"


def _check(*indexes):
    times = np.concatenate([pd.DatetimeIndex(i).as_unit("ns").to_numpy() for i in indexes])
    check_one_step(times, np.array([len(i) for i in indexes]), [f"s{k}" for k in range(len(indexes))], "time")


DAYS = pd.date_range("2024-01-01", periods=30, freq="D")
HOURS = pd.date_range("2024-01-01", periods=30, freq="h")


def test_series_of_under_three_times_are_not_judged_and_of_three_are():
    _check(DAYS[:2], HOURS[:2])                                     # nothing to judge
    _check(DAYS, HOURS[:2])                                         # two hourly rows: not judged
    _check(DAYS, DAYS, HOURS[:2])
    _check(DAYS, DAYS[:1], DAYS)                                    # one row between two series
    with pytest.raises(LstmkitError, match="series 's1' by 1 hour, series 's0' by 1 day"):
        _check(DAYS[:3], HOURS[:3])


def test_short_series_over_the_same_days_step_alike_and_a_missing_day_is_no_change():
    _check(DAYS[:3], DAYS[:3])                                      # the step between series is none of theirs
    _check(DAYS[:3], DAYS[[0, 1, 3]])                               # steps 1 and 2 days: the median is 1 day


@pytest.mark.parametrize("first, second, said", [
    ("2h", "h", "series 's1' by 1 hour, series 's0' by 2 hours"),
    ("h", "2h", "series 's1' by 2 hours, series 's0' by 1 hour"),
    ("2h", "3h", "series 's1' by 3 hours, series 's0' by 2 hours"),      # 1.5x: uneven_steps' own rule
])
def test_series_stepping_one_and_a_half_times_apart_or_more_differ(first, second, said):
    with pytest.raises(LstmkitError, match=said):
        _check(pd.date_range("2024-01-01", periods=20, freq=first), pd.date_range("2024-01-01", periods=20, freq=second))


def test_integer_steps_one_and_a_half_apart_differ():
    with pytest.raises(LstmkitError, match="series 's1' by 3, series 's0' by 2"):
        check_one_step(np.r_[np.arange(0, 20, 2), np.arange(0, 30, 3)], np.array([10, 10]), ["s0", "s1"], "t")


def test_rows_of_fifty_five_minutes_are_not_an_hourly_runs_steps():
    with pytest.raises(LstmkitError, match="steps by '55min' but the run was trained on 'h' steps"):
        check_same_step("55min", "h")


def test_uneven_steps_read_with_a_fill_say_why_it_inserted_nothing_not_to_train_with_it():
    """Three daily rows, one day missing, read with fill='interpolate': the median of their two steps
    (1.5 days) is no grid, so no row is inserted; the warning told the user to train with the fill
    they had passed. It says the rows are too few to tell the step, and what would help."""
    three = pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-04"]).as_unit("ns").to_numpy()
    with pytest.warns(UserWarning) as caught:
        regularity(three, "date", "interpolate")
    said = str(caught[0].message)
    assert "train with" not in said
    assert "inserted no rows: 3 rows are too few to tell the step" in said
    assert "supply more rows (where 1 day is the usual step" in said and "resample('1D')" in said
    with pytest.warns(UserWarning) as caught:                        # steps 1, 2, 2, 3: no whole-step grid
        regularity(np.array([0, 1, 3, 5, 8]), "t", "zero")
    said = str(caught[0].message)
    assert "train with" not in said and "too few" not in said
    assert "inserted no rows, as it does only for steps missing from a grid of the median" in said
    with pytest.warns(UserWarning, match=r"and train with "):    # no fill: the advice stands
        regularity(three, "date")


def test_a_tables_uneven_steps_read_with_a_fill_do_not_ask_for_it_again():
    days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-04"] * 2)
    df = pd.DataFrame({"id": ["a"] * 3 + ["b"] * 3, "t": days, "y": np.arange(6.0)})
    with pytest.warns(UserWarning, match="steps unevenly") as caught:
        read_panel(df, ForecastConfig(target=["y"], time="t", id="id", horizon=1, fill="interpolate"))
    said = next(str(w.message) for w in caught if "steps unevenly" in str(w.message))
    assert "train with" not in said
    assert "inserted no rows: 3 rows are too few to tell the step" in said
    assert "resample every series to a regular grid yourself" in said


def _said(df, cfg, **how) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_panel(df, cfg, **how)
    return [str(w.message) for w in caught]


def test_a_fitted_runs_step_warnings_name_what_predict_can_do_not_its_training_flags():
    """predict, evaluate and update take neither --time nor --fill: the uneven-step warning ended 'or pass
    --time none' and the missing-step one 'insert the missing steps with --fill interpolate' there. A fitted run
    reading the data says to resample (to the run's step) and fill the rows, or to retrain with those flags,
    and dates the forecast by the run's step, as predict does; a fit's words are as they were."""
    cfg = ForecastConfig(target=["y"], time="t", horizon=1)
    uneven = pd.DataFrame({"t": pd.Timestamp("2024-05-01") + pd.to_timedelta(np.cumsum([2, 3] * 6), unit="D"),
                           "y": np.arange(12.0)})
    use = {"fitting": False, "run": {"freq": "D"}}
    [said] = [m for m in _said(uneven, cfg, **use) if "steps vary" in m]
    assert "or pass --time none" not in said and "train with --fill" not in said
    assert "dates its forecasts by the run's step 'D'" in said
    assert "resample to the run's step 'D' (pandas: df.set_index('t').resample('D').mean()), then fill" in said
    assert said.endswith("or retrain the run with --time none to read the rows as equal steps knowingly")
    [fitting] = [m for m in _said(uneven, cfg) if "steps vary" in m]
    assert fitting.endswith("and train with --fill interpolate, or pass --time none to read the rows as equal "
                            "steps knowingly")
    gapped = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=12).delete([4, 7]), "y": np.arange(10.0)})
    [said] = [m for m in _said(gapped, cfg, **use) if "skips" in m]
    assert "insert the missing steps with" not in said
    assert ".resample('D').mean().interpolate()), or retrain the run with --fill interpolate" in said
    table = pd.concat([uneven.assign(id="a"), uneven.assign(id="b")])
    [said] = [m for m in _said(table, ForecastConfig(target=["y"], time="t", id="id", horizon=1, fill="zero"), **use)
              if "steps unevenly" in m]
    assert "or pass --time none" not in said and "by the run's step 'D'" in said
    assert "which the run's fill (zero) then fills; or retrain the run with --time none" in said


def _dates(*days: str) -> np.ndarray:
    return pd.DatetimeIndex(list(days)).as_unit("ns").to_numpy()


WED_FRI = _dates("2024-02-14", "2024-02-15", "2024-02-16")         # Wednesday, Thursday, Friday
FRI_SUN = _dates("2024-02-16", "2024-02-17", "2024-02-18")         # Friday, Saturday, Sunday


def test_off_grid_is_the_first_time_that_is_not_one_step_after_the_one_before():
    """Business days: Friday then Monday is one step; a Saturday, or Monday after Thursday, is not."""
    assert off_grid(_dates("2024-02-14", "2024-02-15", "2024-02-16", "2024-02-19"), "B") is None
    assert off_grid(_dates("2024-02-14", "2024-02-15", "2024-02-16", "2024-02-17"), "B") == 3     # the Saturday
    assert off_grid(_dates("2024-02-14", "2024-02-15", "2024-02-19"), "B") == 2                  # Friday skipped
    assert off_grid(_dates("2024-02-17", "2024-02-19", "2024-02-20"), "B") == 0                  # starts on Saturday
    assert off_grid(FRI_SUN, "D") is None
    assert off_grid(pd.DatetimeIndex(["2024-02-14", "2024-02-15"]).to_numpy().astype("datetime64[D]"), "B") is None


def test_a_history_is_read_at_the_runs_step_only_when_every_judged_series_lies_on_its_grid():
    """run_step(freq, trained, series): pandas infers 'D' of Wednesday-Friday, three steps of a business-day
    run; Friday-Sunday is no business-day history. Series of under three times are not judged, and with none
    judged (or no run frequency, or one pandas cannot lay out) the history keeps its own frequency."""
    assert run_step("D", "B", [WED_FRI]) == "B"
    assert run_step("D", "B", [FRI_SUN]) == "D"
    assert run_step("D", "B", [WED_FRI, FRI_SUN]) == "D"                       # one series off the grid
    assert run_step("D", "B", [WED_FRI, FRI_SUN[1:]]) == "B"                   # Saturday, Sunday: two times
    assert run_step("D", "B", [FRI_SUN[1:]]) == "D"                            # none judged
    assert run_step("D", None, [WED_FRI]) == "D"                               # a run without a frequency
    assert run_step(None, None, [WED_FRI]) is None
    assert run_step(None, "B", [WED_FRI]) is None        # no step of its own: the caller takes the run's
    assert run_step("D", "no such frequency", [WED_FRI]) == "D"
    assert run_step("B", "B", [FRI_SUN]) == "B"


def test_a_run_without_a_frequency_reading_uneven_dates_is_told_its_median_step_and_a_grid_of_its_least():
    """Steps alternating 3 and 2 days (six of 3, five of 2: the median is 3 days): a run trained without a
    frequency dates its forecasts 3 days apart (a table's series one median step apart), as a fit is told, and
    the grid to resample to is one of the least step, 2 days, not a run's step it has not got."""
    uneven = pd.DataFrame({"t": pd.Timestamp("2024-05-01") + pd.to_timedelta(np.cumsum([2, 3] * 6), unit="D"),
                           "y": np.arange(12.0)})
    cfg = ForecastConfig(target=["y"], time="t", horizon=1)
    for how in ({}, {"fitting": False, "run": {"freq": None}}):
        [said] = [m for m in _said(uneven, cfg, **how) if "steps vary" in m]
        assert "(median 3 days; 5 of 11 steps differ from it)" in said
        assert "dates its forecasts 3 days apart from the last time" in said and "run's step" not in said
        assert "resample to a regular grid (pandas: df.set_index('t').resample('2D').mean())" in said
    table = pd.concat([uneven.assign(id="a"), uneven.assign(id="b")])
    for how in ({}, {"fitting": False, "run": {"freq": None}}):
        [said] = [m for m in _said(table, ForecastConfig(target=["y"], time="t", id="id", horizon=1), **how)
                  if "steps unevenly" in m]
        assert "dates each series' forecasts one median step apart from its last time" in said
        assert "resample every series to a regular grid (pandas: df.set_index('t').groupby('id').resample('2D')" in said
        assert "run's step" not in said


def test_a_fitted_run_reading_missing_steps_is_told_them_in_full():
    """Days 1-12 of January without the 5th and the 8th: two steps skipped, the first the 5th, and no clock's
    skipped hour (that note is for one missing local hour alone)."""
    gapped = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=12).delete([4, 7]), "y": np.arange(10.0)})
    [said] = [m for m in _said(gapped, ForecastConfig(target=["y"], time="t", horizon=1), fitting=False,
                               run={"freq": "D"}) if "skips" in m]
    assert said == ("time column 't' skips 2 steps of its regular grid, the first 2024-01-05T00:00:00: windows span "
                    "the gaps, so lags and seasons read out of phase; add a row for each missing step, its values "
                    "filled (pandas: .resample('D').mean().interpolate()), or retrain the run with --fill interpolate "
                    "(or --fill zero where a missing row means nothing happened), which inserts and fills them itself")
    local = pd.date_range("2024-03-31", periods=12, freq="h").delete([2, 6])      # 02:00, Berlin's skipped hour
    [said] = [m for m in _said(pd.DataFrame({"t": local, "y": np.arange(10.0)}),
                               ForecastConfig(target=["y"], time="t", horizon=1)) if "skips" in m]
    assert said.startswith("time column 't' skips 2 steps of its regular grid, the first 2024-03-31T02:00:00: ")
    assert "clocks" not in said


def _uneven_said(uneven, n_series, **how) -> str:
    with pytest.warns(UserWarning) as caught:
        warn_uneven_steps(uneven, n_series, "t", "id", **how)
    [said] = [str(w.message) for w in caught]
    return said


def test_a_tables_uneven_step_warning_counts_its_series_and_regrids_by_the_least_step():
    """Steps 1, 2, 1, 2 from 0 to 6 (median 1.5) and 2, 3, 2, 3 from 2 to 12 (median 2.5): a grid of step 1,
    the least, from 0 to 12 holds both; three series are named, a fourth counted; one series is 'its one'."""
    a, b = uneven_steps(np.array([0, 1, 3, 4, 6])), uneven_steps(np.array([2, 4, 7, 9, 12]))
    said = _uneven_said([("a", a), ("b", b)], 2, shared_times=True)
    assert said.startswith("time column 't' steps unevenly in each of the 2 series ('a': 1 to 2, median 1.5; 'b': 2 to "
                           "3, median 2.5):")
    assert "df.set_index('t').reindex(range(0, 13, 1)).rename_axis('t')" in said
    said = _uneven_said([("b", b), ("a", a)], 2)
    assert "df.set_index('t').groupby('id').apply(lambda g: g.reindex(range(g.index[0], g.index[-1] + 1, 1)))" in said
    assert "steps unevenly in its one series ('a': 1 to 2, median 1.5):" in _uneven_said([("a", a)], 1)
    three = [("a", a), ("b", b), ("c", a)]
    assert "in each of the 3 series ('a': 1 to 2, median 1.5; 'b': 2 to 3, median 2.5; 'c': 1 to 2, median 1.5):" \
        in _uneven_said(three, 3)
    assert "in 4 of 5 series ('a': 1 to 2, median 1.5; 'b': 2 to 3, median 2.5; 'c': 1 to 2, median 1.5; and 1 " \
           "more):" in _uneven_said(three + [("d", b)], 5)


def test_a_series_steps_are_judged_alike_as_nanosecond_times_other_units_and_a_date_index():
    """read_panel's series (datetime64[ns] arrays) skip the DatetimeIndex made for every other kind of times:
    the same gaps, spread and ends found; missing_steps says nothing of even steps, months and quarters."""
    from lstmkit.tasks.forecast.grid import Uneven, missing_steps
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    gappy = days.delete([5, 6, 20])                                   # three days missing
    random = pd.DatetimeIndex(pd.Timestamp("2024-01-01") + pd.to_timedelta(np.cumsum([1, 3, 1, 2, 3, 1, 1, 3]), "D"))
    for times in (gappy, random):
        judged = [uneven_steps(t) for t in (times.to_numpy(), times, times.to_numpy().astype("datetime64[s]"))]
        assert isinstance(judged[0], Uneven) and judged[0] == judged[1] == judged[2]
    assert uneven_steps(gappy.to_numpy()).gaps == 2 and uneven_steps(gappy.to_numpy()).first == gappy[0].value
    assert uneven_steps(random.to_numpy()).gaps == 0 and uneven_steps(random.to_numpy()).hi == 3 * 86_400 * 10 ** 9
    assert uneven_steps(days.to_numpy()) is None and uneven_steps(np.arange(0, 40, 2)) is None
    assert uneven_steps(np.array([0, 1, 2, 5, 6])).gaps == 1
    assert np.array_equal(missing_steps(gappy.to_numpy()), days.to_numpy())
    for even in (days, pd.date_range("2020-01-31", periods=30, freq="ME"), pd.date_range("2020", periods=9, freq="QS")):
        assert missing_steps(even.to_numpy()) is None
    assert missing_steps(np.array([0, 2, 4, 8, 10])).tolist() == [0, 2, 4, 6, 8, 10]


def test_times_that_repeat_so_often_their_usual_step_is_zero_have_no_grid():
    """Sorted times that repeat (an untidy series: the median step 0) lie on no grid of missing steps: None,
    not a grid stepping by zero (steps % 0, then np.arange with step 0: ZeroDivisionError)."""
    from lstmkit.tasks.forecast.grid import missing_steps
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert missing_steps(np.array([0, 0, 0, 5], dtype=np.int64)) is None
        assert missing_steps(np.array([0, 0, 0, 0, 7, 14], dtype="datetime64[D]")) is None
