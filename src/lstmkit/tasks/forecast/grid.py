"""Time grids: the step a series' times keep, the steps it skips, and the checks on them
(:mod:`lstmkit.tasks.forecast.times` reads the time stamps and re-exports these).

    regularity / infer_freq   the inferred frequency and the number of gaps (one series' warning)
    uneven_steps(times)       how one series' steps are uneven (gaps, or 1 to 3 at random; None: even)
    warn_uneven_steps(...)    one warning for the series of a table whose steps are uneven
    missing_steps(times)      the regular grid a series' times lie on with steps missing (None: none missing)
    skipped_ahead(history, ahead)   the steps after a series' end that its future rows skip (None: none)
    daylight_saving_fold(t)   a zone whose clocks, set back, show local time ``t`` twice (None: none)
    daylight_saving_gap(t)    a zone whose clocks, set forward, never show local time ``t`` (None: none)
    warn_missing_steps(...)   one warning for the steps the series skip (filled, or read as they are)
    off_grid(times, freq)            the first time that is no step of ``freq`` after the one before it
    run_step(freq, trained, series)  the frequency a history steps by as the run reads it (its own when on its grid)
    check_same_step(freq, trained)   data at another frequency than the run's training data: an error
    check_one_step(times, lengths, ids, name)   series of one table at other frequencies: an error
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.errors import LstmkitError, callers_level, opt, worded

__all__ = ["time_text", "regularity", "uneven_steps", "Uneven", "warn_uneven_steps", "infer_freq", "missing_steps", "skipped_ahead", "daylight_saving_fold", "daylight_saving_gap", "check_same_step",
           "check_one_step", "warn_missing_steps", "off_grid", "run_step"]


@dataclass(frozen=True)
class Uneven:
    """How one series' steps are uneven (:func:`uneven_steps`): ``gaps`` steps longer than 1.5x the
    median ``typical``; the smallest and largest steps ``lo`` / ``hi`` and how many of the ``n``
    steps differ from the median; the first and last time as ticks (ns, or integer steps)."""

    gaps: int
    lo: int
    hi: int
    typical: float
    differ: int
    n: int
    first: int
    last: int
    dated: bool
    on_lo: bool = False     # every step a whole number of the smallest: a grid of it holds every time

    def say(self, v: float) -> str:
        return _step_name(v) if self.dated else f"{v:g}"

    def typical_name(self) -> str:
        return str(pd.Timedelta(int(self.typical))) if self.dated else self.say(self.typical)


def uneven_steps(times: pd.DatetimeIndex | np.ndarray | None) -> Uneven | None:
    """How the steps of one series' sorted ``times`` (dates, or int64 time steps) are uneven, or
    None when they are even: fewer than 3 times, steps within 1.5x of one another (months' 28-31
    days, quarters, years), a frequency pandas infers (business days), or a trading calendar's
    weekdays with its few holidays. Otherwise steps longer than 1.5x the median are gaps; without
    any, steps that vary by 1.5x or more (1 to 3 at random) are irregular."""
    if times is None or len(times) < 3:
        return None
    dated = np.issubdtype(np.asarray(times).dtype, np.datetime64)
    if isinstance(times, np.ndarray) and times.dtype == np.dtype("datetime64[ns]"):   # a panel's series, read_panel's:
        ticks = times.view(np.int64)                                        # no DatetimeIndex made for each
    else:
        ticks = pd.DatetimeIndex(times).as_unit("ns").asi8 if dated else np.asarray(times, dtype=np.int64)
    steps = np.diff(ticks)
    lo, hi = int(steps.min()), int(steps.max())
    if hi < 1.5 * lo:
        return None
    if dated:
        index = pd.DatetimeIndex(times).as_unit("ns")
        if _trading_days(index) or infer_freq(index) is not None:
            return None
    typical = float(np.median(steps))
    return Uneven(gaps=int((steps > 1.5 * typical).sum()), lo=lo, hi=hi, typical=typical,
                  differ=int((steps != typical).sum()), n=len(steps), first=int(ticks[0]), last=int(ticks[-1]),
                  dated=dated, on_lo=bool(lo > 0 and not (steps % lo).any()))


def regularity(times: pd.DatetimeIndex | np.ndarray | None, name: str | None,
               fill: str | None = None, use: bool = False, run_freq: str | None = None) -> tuple[str | None, int]:
    """Inferred frequency (None when irregular, or for integer steps) and the number of gaps in
    ``times`` (dates, or int64 time steps), with one warning when the steps are not equal
    (:func:`uneven_steps`) -- the model reads each row as one step either way, and dates the
    forecast one median step after the last time. ``fill``: the fill the series was read with,
    which inserted no rows here (no grid of its median step holds every time). ``use``: a fitted
    run reads the data (predict, evaluate, update), whose ``--time`` and ``--fill`` are the run's, and
    which dates the forecast by its own step ``run_freq`` (:func:`_use_fix`)."""
    if times is None or len(times) < 3:
        return None, 0
    if np.issubdtype(np.asarray(times).dtype, np.datetime64):
        freq = infer_freq(pd.DatetimeIndex(times).as_unit("ns"))
        if freq is not None:
            return freq, 0
    u = uneven_steps(times)
    if u is None:
        return None, 0
    where = f"time column {name!r}" if name else "the time index"
    if u.gaps:
        warnings.warn(f"{where} has {u.gaps} irregular gaps (steps longer than the typical {u.typical_name()}); "
                      "windows will span them", UserWarning, stacklevel=callers_level())
    else:
        column = name or "time"
        step = run_freq if use and run_freq and u.dated else _offset(u.lo) if u.dated else None
        grid = (f"df.set_index({column!r}).resample({step!r}).mean()" if u.dated else
                f"df.set_index({column!r}).reindex(range({u.first}, {u.last + 1}, {u.lo})).rename_axis({column!r})")
        apart = (f"by the run's step {run_freq!r}" if use and run_freq and u.dated else f"{u.say(u.typical)} apart")
        fix = (_use_fix(grid, fill, "", run_freq if u.dated else None) if use else
               f"{_regrid_fix(grid, fill, [u], one=True)}, or pass {worded('--time none', 'time=None')} to read the "
               "rows as equal steps knowingly")
        warnings.warn(f"{where} steps vary from {u.say(u.lo)} to {u.say(u.hi)} (median {u.say(u.typical)}; "
                      f"{u.differ} of {u.n} steps differ from it): the model treats rows "
                      f"as equal steps and dates its forecasts {apart} from the last time — {fix}", UserWarning,
                      stacklevel=callers_level())
    return None, u.gaps


def warn_uneven_steps(uneven: list[tuple[str, Uneven]], n_series: int, name: str | None, id_col: str,
                      shared_times: bool = False, fill: str | None = None, use: bool = False,
                      run_freq: str | None = None) -> None:
    """One warning for the series of a table whose steps are uneven (``(series, Uneven)`` each, of
    ``n_series`` series read), naming a few of them and how many more: the model reads each row as
    one step, so windows span gaps and vary in length of time, and dates each forecast one median
    step after its series' last time. ``shared_times``: every series steps by one time column (a
    wide table), resampled as one. ``fill``: the fill the table was read with, which inserted no
    rows in these series (no grid of a series' median step holds its every time). ``use``,
    ``run_freq``: a fitted run reads the table, as :func:`regularity`'s."""
    where = f"time column {name!r}" if name else "the time index"
    column = name or "time"
    named = [f"{sid!r}: {_uneven_words(u)}" for sid, u in uneven[:_NAMED]]
    more = [f"and {len(uneven) - _NAMED} more"] if len(uneven) > _NAMED else []
    share = f"each of the {n_series} series" if len(uneven) == n_series and n_series > 1 else \
        f"{len(uneven)} of {n_series} series" if n_series > 1 else "its one series"
    lo = min(u.lo for _, u in uneven)
    dated = uneven[0][1].dated
    step = run_freq if use and run_freq and dated else _offset(lo) if dated else None
    if shared_times:
        grid = (f"df.set_index({column!r}).resample({step!r}).mean()" if dated else
                f"df.set_index({column!r}).reindex(range({min(u.first for _, u in uneven)}, "
                f"{max(u.last for _, u in uneven) + 1}, {lo})).rename_axis({column!r})")
    else:
        grid = (f"df.set_index({column!r}).groupby({id_col!r}).resample({step!r}).mean().reset_index()"
                if dated else
                f"df.set_index({column!r}).groupby({id_col!r}).apply(lambda g: g.reindex(range(g.index[0], "
                f"g.index[-1] + 1, {lo}))).reset_index()")
    apart = f"by the run's step {run_freq!r}" if use and run_freq and dated else "one median step apart"
    fix = (_use_fix(grid, fill, " every series", run_freq if dated else None) if use else
           f"{_regrid_fix(grid, fill, [u for _, u in uneven], one=False)}, or pass "
           f"{worded('--time none', 'time=None')} to read the rows as equal steps knowingly")
    warnings.warn(f"{where} steps unevenly in {share} ({'; '.join(named + more)}): the model treats rows as equal "
                  f"steps (windows span the gaps) and dates each series' forecasts {apart} from its last "
                  f"time — {fix}", UserWarning, stacklevel=callers_level())


def _use_fix(grid: str, fill: str | None, every: str, run_freq: str | None) -> str:
    """The fix an uneven-step warning offers where a fitted run reads the data (predict, evaluate,
    update): its ``--time`` and ``--fill`` were set when it was trained, and these commands take
    neither, so the data is resampled (pandas ``grid``) -- to the run's step ``run_freq`` where it has
    one -- and filled by the run's ``fill``, else by the user; or a run is retrained reading the rows
    as equal steps."""
    to = f"the run's step {run_freq!r}" if run_freq else "a regular grid"
    then = (f"which the run's fill ({fill}) then fills" if fill else
            "then fill the rows it adds (pandas: .interpolate()), as the run was trained with no fill")
    return (f"resample{every} to {to} (pandas: {grid}), {then}; or retrain the run with "
            f"{worded('--time none', 'time=None')} to read the rows as equal steps knowingly")


def _regrid_fix(grid: str, fill: str | None, uneven: list[Uneven], one: bool) -> str:
    """The fix an uneven-step warning offers: resample (pandas ``grid``) and train with a fill; when
    the data was read with ``fill`` already, why it inserted no rows -- too few steps to tell the
    step (of 3 rows, steps of 1 and 2 days: a median of 1.5 days no step is a whole number of), or a
    median step that does not divide every step -- and what would: more rows, or resampling first."""
    every = "" if one else " every series"
    if fill is None:
        return f"resample{every} to a regular grid (pandas: {grid}) and train with {opt('fill', 'interpolate')}"
    few = [u for u in uneven if u.on_lo and u.n < 4]
    said = opt('fill', fill)
    if few:
        u = few[0]
        return (f"{said} inserted no rows: {u.n + 1} rows are too few to tell the step (the median of {u.n} "
                f"steps, {u.say(u.typical)}, is no step of the grid), so supply more rows (where {u.say(u.lo)} is "
                f"the usual step the missing ones are inserted and filled) or resample{every} to a regular grid "
                f"yourself (pandas: {grid}), which {said} then fills")
    return (f"{said} inserted no rows, as it does only for steps missing from a grid of the median step, and "
            f"not every step is a whole number of it: resample{every} to a regular grid yourself (pandas: {grid}), "
            f"which {said} then fills")


_NAMED = 3          # series a table's uneven-step warning names; the rest are counted


def _uneven_words(u: Uneven) -> str:
    """One series' uneven steps in a few words: ``2 gaps over 1.5x its median 2``, ``1 to 3, median 2``."""
    if u.gaps:
        return f"{u.gaps} gap{'s' * (u.gaps != 1)} over 1.5x its median {u.say(u.typical)}"
    return f"{u.say(u.lo)} to {u.say(u.hi)}, median {u.say(u.typical)}"


def _offset(ns: int) -> str:
    """A step of ``ns`` nanoseconds as a pandas frequency (``D``, ``6h``, ``90s``)."""
    if ns % _DAY == 0:                  # '1D', not pandas' '24h'
        return f"{ns // _DAY}D"
    return pd.tseries.frequencies.to_offset(pd.Timedelta(ns)).freqstr


# calendar steps pandas' infer_freq does not recognise: semi-month starts (the 1st and 15th) and
# ends (the 15th and the month's last day); their steps of 13-17 days read as a typical 14 or 15
# days, and the forecast's dates drifted off the calendar (2007-03-15 -> 03-29 instead of 04-01)
_UNINFERRED = ("SMS", "SME")


def infer_freq(index: pd.DatetimeIndex) -> str | None:
    # pandas 3.1 warns that infer_freq will return an offset; opt in where the option exists.
    try:
        with pd.option_context("future.infer_freq_returns_offset", True):
            freq = pd.infer_freq(index)
    except pd.errors.OptionError:
        freq = pd.infer_freq(index)
    if freq is None and len(index) >= 3:
        try:
            return next((f for f in _UNINFERRED if pd.date_range(index[0], periods=len(index), freq=f).equals(index)),
                        None)
        except (ValueError, OverflowError):       # a grid that would run past 2262
            return None
    return freq if freq is None or isinstance(freq, str) else freq.freqstr


# calendar grids whose steps differ in length (years, quarters, months), tried when fixed steps do not
# fit, coarsest first: the first to hold every time is the series' grid (quarter starts are month starts too)
_CALENDAR_GRIDS = ("YS", "YE", "QS", "QE", "MS", "ME")
_DAY = 86_400 * 10**9
_HOLIDAYS = 0.045           # weekdays a business calendar closes (about 11 of 261 a year): not missing


def missing_steps(times: np.ndarray) -> np.ndarray | None:
    """The regular grid that one series' sorted ``times`` (datetime64[ns] or int64 steps) lie on
    with some steps missing, or None when no step is missing or no grid fits.

    A grid of fixed steps (hours, days, weeks, integer steps) is the usual step (the median)
    when every step is a whole number of it; days that never fall on a weekend are a grid of
    business days (a Friday to Monday step is no gap; up to 4.5 % of them missing are a calendar's
    holidays, as an exchange's trading days have, and no gap either). Otherwise the coarsest calendar grid (year,
    quarter or month starts or ends) that holds every time, else calendar months from the first time when
    every time falls on one day of the month (the 15th; :func:`_month_step`). A grid more than twice as
    long as the series is not a series with holes but sparse data, and is not offered."""
    n = len(times)
    if n < 3:
        return None
    dated = np.issubdtype(times.dtype, np.datetime64)
    ticks = times.astype("datetime64[ns]").astype(np.int64) if dated else times.astype(np.int64)
    steps = np.diff(ticks)
    if steps.max() < 1.5 * steps.min():     # no step long enough to hold a missing one (months of 28-31 days,
        return None                          # quarters, years included): before the median, a series at a time
    typical = int(np.median(steps))
    if typical <= 0:
        return None
    grid: np.ndarray | None = None
    if (steps % typical == 0).all():
        if not dated:
            grid = np.arange(ticks[0], ticks[-1] + 1, typical, dtype=np.int64)
        else:
            index = pd.DatetimeIndex(times)
            weekdays = typical == _DAY and _weekdays(index)
            if weekdays and _trading_days(index):
                return None               # a trading calendar: its days are the steps, holidays none of them
            grid = (pd.bdate_range(index[0], index[-1]) if weekdays
                    else pd.date_range(index[0], index[-1], freq=pd.Timedelta(typical, unit="ns"))).as_unit("ns").to_numpy()
    elif dated:
        index = pd.DatetimeIndex(times)
        for freq in _CALENDAR_GRIDS:
            candidate = pd.date_range(index[0], index[-1], freq=freq)
            if len(candidate) >= n and index.isin(candidate).all():   # holding the first time, it starts there
                grid = candidate.as_unit("ns").to_numpy()
                break
        else:                   # one day of each month (the 15th), or of every few months: no anchor pandas names
            months = _month_step(index)
            if months:
                span = (index[-1].year - index[0].year) * 12 + index[-1].month - index[0].month
                grid = pd.DatetimeIndex([index[0] + pd.DateOffset(months=k)
                                         for k in range(0, span + 1, months)]).as_unit("ns").to_numpy()
    if grid is None or len(grid) == n or len(grid) > 2 * n:
        return None
    return grid


def _month_step(history) -> int | None:
    """The calendar months a dated ``history`` steps by when every time falls on one day of the month at
    one clock time and every step is a whole number of that many months (figures on the 15th of each
    month, a survey on the 10th of each quarter; one missing no matter). pandas names no frequency for
    these, and their usual step in days (31) took the forecast off that day (15 April, 16 May, 16 June)."""
    if history is None or len(history) < 3:
        return None
    index = pd.DatetimeIndex(history)
    if index.day.nunique() != 1 or (index - index.normalize()).nunique() != 1:
        return None
    months = np.diff(index.year.to_numpy() * 12 + index.month.to_numpy())
    step = int(months.min())
    return step if step >= 1 and not (months % step).any() else None


def skipped_ahead(history: np.ndarray, ahead: np.ndarray) -> np.ndarray | None:
    """The times of the grid a series keeps that its future rows ``ahead`` (sorted, after the
    ``history`` times) skip from the step after its last time on -- rows that start late, or leave a
    step out, whose covariates would be read at the wrong horizon steps; None when they skip none or
    no grid fits (a trading calendar's holidays are no step, as in :func:`missing_steps`)."""
    if not len(history) or not len(ahead):
        return None
    both = np.concatenate([history[-max(3 * len(ahead), 8):], ahead])       # the grid of the series' last rows
    grid = missing_steps(both)
    if grid is None:
        return None
    gone = grid[(grid > history[-1]) & ~np.isin(grid, ahead)]
    return gone if len(gone) else None


def _weekdays(index: pd.DatetimeIndex) -> bool:
    """Whether every time is midnight of a weekday."""
    return bool((index.day_of_week < 5).all() and (index.normalize() == index).all())


def _trading_days(index: pd.DatetimeIndex) -> bool:
    """Whether ``index`` is a trading calendar: weekdays (midnight) with at most 4.5 % of the
    business days between its first and last missing, as an exchange's holidays, and one of any
    span across a weekend (days closed at weekends): predict's few weeks of history across
    Thanksgiving (1 of 16 days) were said to skip a step, to be filled or retrained with --fill."""
    if not len(index) or not _weekdays(index):
        return False
    days, weekend = _business_days(index)
    return days - len(index) <= max(_HOLIDAYS * days, int(weekend))


def _business_days(index: pd.DatetimeIndex) -> tuple[int, bool]:
    """The business days from the first time of sorted ``index`` to its last, and whether that span
    crosses a weekend (it holds more days than business days)."""
    days = len(pd.bdate_range(index[0], index[-1]))
    return days, (index[-1] - index[0]).days + 1 > days


# zones of the common daylight-saving rules (EU, UK, US, Australia): a local time one of them shows twice
_FOLD_ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "America/Chicago", "America/Denver",
               "America/Los_Angeles", "Australia/Sydney")


def daylight_saving_fold(t: np.datetime64) -> str | None:
    """A time zone in which local time ``t`` happens twice (the hour repeated when clocks go back),
    or None: a logger that writes local time then writes that hour twice."""
    return _zone_refusing(t, ambiguous="raise", nonexistent="NaT")


def daylight_saving_gap(t: np.datetime64) -> str | None:
    """A time zone in which local time ``t`` never happens (the hour skipped when clocks go forward),
    or None: a logger that writes local time skips that hour, and no row is missing."""
    return _zone_refusing(t, ambiguous="NaT", nonexistent="raise")


def _zone_refusing(t: np.datetime64, **how: str) -> str | None:
    """The first of :data:`_FOLD_ZONES` whose ``tz_localize(**how)`` raises for local time ``t``."""
    index = pd.DatetimeIndex([t])
    for zone in _FOLD_ZONES:
        try:
            index.tz_localize(zone, **how)
        except ValueError:
            return zone
    return None


def off_grid(times: np.ndarray, freq: str) -> int | None:
    """The index of the first of sorted dated ``times`` that is not one step of ``freq`` after the one
    before it (0: the first is on no step of ``freq``, a Saturday for business days), or None when
    they step by ``freq`` without a gap: the one rule by which ``predict`` and the service take a
    history as steps of the run's frequency."""
    grid = pd.date_range(times[0], periods=len(times), freq=freq).as_unit("ns").to_numpy()
    off = np.flatnonzero(grid != np.asarray(times, dtype="datetime64[ns]"))
    return int(off[0]) if len(off) else None


def run_step(freq: str | None, trained: str | None, series: list[np.ndarray]) -> str | None:
    """The frequency dated ``series`` (each one's sorted times) step by as the run reads them: the
    run's ``trained`` one when every series of three or more times lies on its grid
    (:func:`off_grid`) -- Wednesday, Thursday, Friday, which pandas infers as ``'D'``, are three
    steps of a business-day run, and its forecast goes on Monday -- else the inferred ``freq``. A
    ``freq`` of None (the data have no regular step of their own: a gap, too few times) stays None, not
    the run's: the caller names the steps after the end by the run's frequency itself
    (``_forecast_ahead`` in ahead.py), and :func:`check_same_step` judges no None."""
    if not freq or not trained or freq == trained:
        return freq
    judged = [t for t in series if len(t) >= 3]
    try:
        on = bool(judged) and all(off_grid(t, trained) is None for t in judged)
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):   # a frequency pandas cannot lay
        on = False
    return trained if on else freq


def check_same_step(freq: str | None, trained: str | None, what: str = "the data") -> None:
    """An :class:`LstmkitError` when ``what`` steps by another frequency than the run was trained
    on (a daily model read weekly rows as days: its seasons and lags would mean other spans).
    Steps of one length under other anchors (``MS`` and ``ME``, ``W-SUN`` and ``W-MON``) agree;
    an unknown frequency on either side (irregular steps, integer steps) is not judged here."""
    if not freq or not trained or freq == trained:
        return
    mine, theirs = _mean_step(freq), _mean_step(trained)
    if mine is None or theirs is None or abs(mine / theirs - 1) <= 0.05:
        return
    raise LstmkitError(f"{what} steps by {freq!r} but the run was trained on {trained!r} steps: the model "
                       "would read each row as one of its own steps",
                       f"pass rows at the run's frequency (pandas: df.resample({trained!r}).mean()), "
                       "or train a model on data at this frequency")


def _mean_step(freq: str) -> float | None:
    """The mean length in days of one step of ``freq`` (None when pandas cannot read it)."""
    try:
        grid = pd.date_range("2001-01-01", periods=25, freq=freq)
    except (ValueError, TypeError):
        return None
    return float((grid[1:] - grid[:-1]).mean() / pd.Timedelta(days=1))     # asi8 is microseconds under pandas 3


def check_one_step(times: np.ndarray, lengths: np.ndarray, ids: list[str], name: str | None) -> None:
    """An :class:`LstmkitError` when the series of one table (``times`` datetime64[ns] or int64 time
    steps, end to end,
    ``lengths`` each) step by other frequencies: one model reads every row as one step, and the run
    keeps one frequency, so an hourly series beside daily ones got daily seasons and forecasts dated
    a day apart. Each series' usual step is its (lower) median one (gaps and 28-31 day months are no
    change), and two series whose usual steps are 1.5x apart or more step differently; series of
    under 3 times are not judged."""
    lengths = np.asarray(lengths, dtype=np.int64)
    if len(lengths) < 2 or (lengths >= 3).sum() < 2:
        return
    steps = np.delete(np.diff(times.astype("datetime64[ns]").astype(np.int64)), np.cumsum(lengths)[:-1] - 1)
    per = np.maximum(lengths - 1, 0)
    series = np.repeat(np.arange(len(lengths)), per)
    ordered = steps[np.lexsort((steps, series))]
    usual = np.zeros(len(lengths))
    judged = lengths >= 3
    usual[judged] = ordered[(np.cumsum(per) - per + (per - 1) // 2)[judged]]
    first = int(np.flatnonzero(judged)[0])
    # 1.5x apart or more is another step, as :func:`uneven_steps` judges one series' steps (2 hours beside 3)
    lo, hi = np.minimum(usual, usual[first]), np.maximum(usual, usual[first])
    other = np.flatnonzero(judged & (hi >= 1.5 * lo))
    if len(other):
        k = int(other[0])
        what = f"time column {name!r}" if name else "the time index"
        dated = np.issubdtype(times.dtype, np.datetime64)
        say = _step_name if dated else (lambda v: f"{v:g}")
        raise LstmkitError(
            f"the series step by different {'frequencies' if dated else 'steps'} in {what}: series {ids[k]!r} by "
            f"{say(usual[k])}, series {ids[first]!r} by {say(usual[first])} ({len(other)} of "
            f"{len(lengths)} series differ from {ids[first]!r}): one model reads each row as one step, so the "
            "seasons, lags and forecast times of one of them would be wrong",
            "train one run per frequency (split the table by it), or resample every series to one frequency "
            "(pandas: df.set_index('time').groupby('id').resample('D').mean())" if dated else
            "train one run per step (split the table by it), or number every series' times by one step")


def _step_name(ns: float) -> str:
    """A step of ``ns`` nanoseconds as people write it: ``1 day``, ``7 days``, ``1 hour``, ``15 minutes``."""
    for unit, size in (("day", _DAY), ("hour", 3_600 * 10**9), ("minute", 60 * 10**9), ("second", 10**9)):
        if ns >= size:
            n = ns / size
            return f"{n:.4g} {unit}{'' if n == 1 else 's'}"
    return f"{ns:.4g} nanoseconds"


def time_text(t) -> str | int:
    """One time of a panel's ``times`` as messages and run files write it: a date as ISO 8601
    (``2024-05-29T00:00:00``), a step number as the number; ``np.datetime64`` / ``int`` read it back."""
    return pd.Timestamp(t).isoformat() if isinstance(t, np.datetime64) else int(t)


def warn_missing_steps(missing: list[tuple[str, int, Any]], time_col: str | None, id_col: str | None,
                       fill: str | None, use: bool = False, run_freq: str | None = None) -> None:
    """One warning for every series with steps missing from its regular grid: filled (``fill``),
    or read as they are -- windows then span the gaps, so lags and seasons read out of phase.
    ``use``: a fitted run reads the data (predict, evaluate, update), whose ``--fill`` is the run's
    and which these commands do not take: the rows are filled in the data (resampled to the run's
    step ``run_freq`` where it has one), or the run retrained."""
    sid, k, first = missing[0]
    total = sum(k for _, k, _ in missing)
    where = f" in {len(missing)} series (e.g. {sid!r}: {k})" if id_col is not None else ""
    first = time_text(first)
    head = (f"time column {time_col!r} skips {total} step{'s' * (total != 1)} of its regular grid{where}, "
            f"the first {first}")
    zone = daylight_saving_gap(np.datetime64(first)) if total == 1 and isinstance(first, str) else None
    if zone is not None:           # a local clock's skipped hour, not a missing row
        head += (f" (local time skips that hour when clocks go forward, as in {zone}: times in UTC or with their "
                 f"UTC offset skip none, and so do local times read with the zone they were written in, "
                 f"{worded(f'--time-zone {zone} (Python: time_zone={zone!r})', opt('time_zone', zone))}, say)")
    if fill is not None:
        warnings.warn(f"{head}; rows were inserted for them and filled ({fill})",
                      UserWarning, stacklevel=callers_level())
    elif use:
        step = repr(run_freq) if run_freq else "STEP"
        warnings.warn(f"{head}: windows span the gaps, so lags and seasons read out of phase; add a row for each "
                      f"missing step, its values filled (pandas: .resample({step}).mean().interpolate()), or "
                      f"retrain the run with {opt('fill', 'interpolate')} (or {opt('fill', 'zero')} where a missing "
                      "row means nothing happened), which inserts and fills them itself", UserWarning,
                      stacklevel=callers_level())
    else:
        warnings.warn(f"{head}: windows span the gaps, so lags and seasons read out of phase; insert the "
                      f"missing steps with {opt('fill', 'interpolate')} (or {opt('fill', 'zero')} where a missing row means "
                      f"nothing happened)", UserWarning, stacklevel=callers_level())
