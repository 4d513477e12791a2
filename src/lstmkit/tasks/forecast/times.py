"""Time columns: the one reader of time stamps (files, frames, service requests, backtests).

    parse_time(col, name, dates, zone)   text / datetime column  ->  naive datetimes (a bad one: LstmkitError)
    time_values(col, name, dates, zone)  a column as a panel holds it: int64 steps or datetime64[ns], and notes
    reading_zone / forecast_zone / clock_zone   the zone a run reads times in, answers in, and reads
                                    calendar features on (``--time-zone``, the data's, a fitted run's;
                                    these and ``in_zone``, ``check_zone``: :mod:`~lstmkit.tasks.forecast.zones`)
    integer_dates(col)        integers that are dates: yyyymmdd, or Unix times (s, ms, us, ns) from 2000 to 2100
    regularity / infer_freq   the inferred frequency and the number of gaps
    missing_steps(times)      the regular grid a series' times lie on with steps missing (None: none missing)
    daylight_saving_fold(t)   a zone whose clocks, set back, show local time ``t`` twice (None: none)
    calendar_labels(text)     quarters (1990 Q1), ISO weeks (2020-W05), Excel's months (Jan-20) as dates
    date_columns(df, skip)    the columns that hold dates (a table's time column when none is named)

Dates are read in ONE format per column where one fits, never guessed cell by cell when the
order of day and month is in doubt: ``01/02/2020`` is read month first and day first; a
reading that fails on some cell (``13/01/2020`` has no month 13) is dropped, and when both fit
every cell but disagree (monthly data on the 1st) the one with regular steps wins; with none or
both regular the column is an error asking for ISO dates or ``--dates``. ``dates`` (``day-first``
| ``month-first``; the run's ``--dates``) reads one order only: training records the order it
found, so that a short file given to ``predict`` (a day of hourly 01/02/2020 stamps fits both)
reads as the training data did. ``dates="excel"`` (``--dates excel``) reads the column as a
spreadsheet's serial days (days since 1899-12-30, the fraction the time of day; days 1-59 as
Excel shows them), ``"excel1904"`` as those of the 1904 date system (since 1904-01-01), kept in
the run the same way; a workbook's own date system reads its cells. Per-element parsing
(``format="mixed"``) is the last resort for columns that mix formats, and holds to the same
day/month order.

Times with UTC offsets (``2020-03-29 03:00:00+02:00``, also offsets that change with daylight
saving) are instants: they are converted to UTC and carried as naive UTC times (dates at one local
clock time as local dates); the note says so (the data summary in ``lstmkit.json``). Forecasts'
time stamps are given in the data's zone (:func:`in_zone`): a tz-aware column's (``Europe/Berlin``),
or the one offset every cell writes (``+01:00``); the data summary records it (``time_zone``), so a
saved run gives the same. Offsets that change with daylight saving name no zone: forecasts in UTC,
and a warning asks for ``--time-zone``, which names it: times without an offset read as its local
clock, times with one converted to it. A run that knows its zone reads times given without one on
its clock (hourly ones with a warning: a guess); a run trained without one answers zoned times in
their own. Runs recorded before ``calendar_clock`` (their calendar features read UTC) read as they did.
"""
from __future__ import annotations

import datetime
import re
import warnings

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from lstmkit.data.columns import SUBTOTAL_LABEL, SUMMARY_WORDS
from lstmkit.data.textfile import row_place
from lstmkit.errors import LstmkitError, callers_level, opt, warnings_caught, worded
from lstmkit.tasks.forecast.grid import (check_one_step, check_same_step, daylight_saving_fold, daylight_saving_gap,
                                         infer_freq, missing_steps, off_grid, regularity, run_step, time_text,
                                         warn_missing_steps)
from lstmkit.tasks.forecast.integer_times import UNIT_NAMES, integer_dates, whole_floats
from lstmkit.tasks.forecast.zones import (TwiceInSeries, check_zone, clock_zone, forecast_zone, in_zone, localized,
                                          reading_zone, zone_name)

__all__ = ["parse_time", "time_values", "integer_dates", "regularity", "infer_freq", "date_columns",
           "missing_steps", "daylight_saving_fold", "calendar_labels", "check_same_step", "check_one_step",
           "daylight_saving_gap", "warn_missing_steps", "in_zone", "clock_zone", "check_zone",
           "reading_zone", "forecast_zone", "SERIAL_DATES", "check_date_system", "time_text", "off_grid",
           "run_step"]

# day and month as the first two numbers of a date (31/01/2020, 1.2.20, 01-02-2020 12:00)
_DMY = r"(\d{1,2})[./-](\d{1,2})[./-]\d{2,4}(?!\d)"
_DMY_SHAPE = r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}(?!\d)"     # the same without groups (faster to match)
# a UTC offset (or Z) ending a time stamp that has a time of day: 12:00:00+01:00, 12:00Z, 12:00:00.5-0500
_OFFSET = r"(Z|[+-]\d\d(?::?\d\d)?)$"
# a cell that can be a date: a 4-digit year, or day and month before a 2-digit year (a bare "May" or "3" is not),
# or ISO 8601's basic form (20240131, 20240131T1300, 20240131T130000Z), whose year runs into the month
_ISO_BASIC = r"^(?:19|20)\d{6}(?:T\d{2}(?:\d{2}){0,2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
_DATE_LIKE = r"(?:^|\D)\d{4}(?!\d)|" + _DMY_SHAPE + "|" + _ISO_BASIC
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?"     # a time of day alone: 13:05, 1:05:30 PM
_ISO_HINT = "write ISO dates such as 2020-01-31 (or 2020-01-31 12:00), which read one way only"


def parse_time(col: pd.Series, name: str, dates: str | None = None, zone: str | None = None,
               groups=None) -> pd.Series:
    """``col`` as naive datetimes (UTC when it carries offsets; ``.attrs["utc_from"]`` then lists
    them; ``.attrs["dates"]``: the order of day and month its dates were read in, when it mattered).
    ``dates``: read that order only (``"excel"``, ``"excel1904"``: spreadsheet serial days, :func:`_serial_days`).
    ``zone`` (``--time-zone``): the zone the times are in: times without an offset read as its local
    clock (``.attrs["localized"]``), times with one converted to it, and it is the zone named
    (``.attrs["zone"]``). An empty cell, an unreadable one, an ambiguous column or a local time
    ``zone``'s clock skips or shows twice is an :class:`LstmkitError`. ``groups`` (a long table's
    series ids, row by row): the hour the clock shows twice is read in each series' own order."""
    if col.isna().any():
        empty = np.flatnonzero(col.isna().to_numpy())
        if len(empty) == 1 and empty[0] == len(col) - 1 > 1:      # a spreadsheet's totals row, its label elsewhere
            raise LstmkitError(f"time column {name!r} is empty in the last row ({row_place(col, len(col) - 1)}), "
                               "every other row has a time",
                               "delete that row (a total or a note?), or give it its time")
        if len(empty) == 1 and empty[0] == 0 < len(col) - 2:      # names under merged header cells, or units
            raise LstmkitError(f"time column {name!r} is empty in the first row under the header "
                               f"({row_place(col, 0)}), every other row has a time: a second header row (names "
                               "under merged cells, or units)?", "make the header one row of names (e.g. Sales "
                               "North, Sales South) and delete the row under it")
        raise LstmkitError(f"time column {name!r} has {len(empty)} empty cells (the first in "
                           f"{row_place(col, int(empty[0]))})", "every row needs a timestamp; drop or fill those rows")
    if dates in SERIAL_DATES and not pd.api.types.is_datetime64_any_dtype(col):   # datetimes (a backtest's): as
        return _in_zone_given(_serial_days(col, name, dates), name, zone, groups)   # they are
    if pd.api.types.is_integer_dtype(col) or pd.api.types.is_bool_dtype(col):
        return _in_zone_given(_integer_time(col, name), name, zone, groups)
    if pd.api.types.is_float_dtype(col):
        if pd.api.types.is_integer_dtype(whole_floats(col)):
            return _in_zone_given(_integer_time(whole_floats(col), name), name, zone, groups)
        raise _fractions(col, name)
    if pd.api.types.is_datetime64_any_dtype(col):
        col = _arrow_dates_as_datetimes(col)
        if col.dt.tz is None:                # a date beyond nanoseconds (a Parquet file's) is named by time_values
            return _in_zone_given(_naive(col, [], fits=False), name, zone, groups)
        col = col.dt.tz_convert(zone) if zone is not None else col
        out = _local_dates(_naive(col, [str(col.dt.tz)], fits=False), col.dt.tz_localize(None), [str(col.dt.tz)])
        out.attrs["zone"] = zone_name(col.dt.tz)
        return out
    text = col.astype(str).str.strip().reset_index(drop=True)
    summary = np.flatnonzero(_summary_labels(text))                  # a pivot table's "1991 Total" too
    if len(summary) > 1 or (len(summary) == 1 and 0 < summary[0] < len(text) - 1):    # one at an end: _unreadable
        raise LstmkitError(f"time column {name!r} holds {text[summary[0]]!r} in {row_place(col, int(summary[0]))} "
                           f"({len(summary)} such row{'s' * (len(summary) > 1)}): a summary row, not a step of the "
                           "series", "delete the summary rows (totals, subtotals, averages) from the data")
    again = np.flatnonzero((text == str(name).strip()).to_numpy())
    if len(again):                            # exports joined with their header lines
        raise LstmkitError(f"time column {name!r} holds its own name {name!r} in {row_place(col, int(again[0]))} "
                           f"({len(again)} such row{'s' * (len(again) > 1)}): the header line repeated (files "
                           "joined with their headers?)", "delete the repeated header lines")
    if len(text) and re.fullmatch(_CLOCK, text.iloc[0]) and text.str.fullmatch(_CLOCK).all():
        raise LstmkitError(f"time column {name!r} holds times of day without dates (e.g. {text.iloc[0]!r}): "
                           "they would be read as today, and a series that passes midnight out of order",
                           f"write the date with each time (2024-01-31 13:00), or leave out {opt('time')} to read "
                           "the rows in file order")
    if len(text) == 0:
        return pd.Series(pd.to_datetime(text), index=col.index)
    labels = calendar_labels(text)
    if labels is not None:
        labels.index = col.index
        labels.attrs.update(utc_from=[], dates=None)
        return _in_zone_given(labels, name, zone, groups)
    offsets = _offsets(text)
    if offsets.notna().any() and offsets.isna().any():
        k, j = int(offsets.notna().to_numpy().argmax()), int(offsets.isna().to_numpy().argmax())
        raise LstmkitError(f"time column {name!r} mixes times with a UTC offset ({text[k]!r}) and times "
                           f"without one ({text[j]!r})", "write every time with its offset, or none")
    utc = bool(offsets.notna().all())
    dm = _day_month(text)
    if not dm[0].notna().any():                         # no d/m/y cell: the order does not matter
        out, order = _choose(text, dm, _reading(text, dm, False, utc), None, name, None, col)
    else:
        readings = [_reading(text, dm, first, utc) if dates in (None, which) else None
                    for first, which in ((False, "month-first"), (True, "day-first"))]
        out, order = _choose(text, dm, *readings, name, dates, col)
    out.index = col.index
    out.attrs.update(utc_from=sorted(set(offsets.dropna())) if utc else [], dates=order)
    if not utc:
        return _in_zone_given(out, name, zone, groups)
    deltas = _offset_deltas(offsets)
    local = out + deltas if zone is None else out.dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None)
    out = _local_dates(out, local, out.attrs["utc_from"], order)
    if zone is not None:
        out.attrs["zone"] = zone_name(zone)
    elif deltas.nunique() == 1:              # one offset: the zone forecasts are given in (several: none to name)
        out.attrs["zone"] = zone_name(datetime.timezone(deltas.iloc[0].to_pytimedelta()))
    else:
        out.attrs["offsets_change"] = True   # daylight saving, and no zone to name (time_values says so)
    return out


_DATE_CHARACTERS = r"[0-9 :./,+TZ-]*"      # a text of these alone (2024-01-31T13:05:00+01:00) names no summary


def _summary_labels(text: pd.Series) -> np.ndarray:
    """Per row of ``text`` (a time column's stripped text), whether it reads as a summary row's label
    (:data:`SUMMARY_WORDS`, or a pivot table's subtotal: "1991 Total"), by Python's case-insensitive regex.
    Each label holds a letter other than T and Z, so a row of :data:`_DATE_CHARACTERS` alone (digits, ISO
    dates, times and offsets), found by one whole-column match, is none: the regex runs on the others only
    (a row at a time, it took 1.1 s of 150,000 ISO dates, a quarter of a panel backtest)."""
    found = np.zeros(len(text), dtype=bool)
    rest = np.flatnonzero(~text.str.fullmatch(_DATE_CHARACTERS).to_numpy(dtype=bool))
    if len(rest):
        labels = text.iloc[rest].str.fullmatch(f"{SUMMARY_WORDS}|{SUBTOTAL_LABEL}", case=False)
        found[rest] = labels.to_numpy(dtype=bool)
    return found


def _in_zone_given(times: pd.Series, name: str, zone: str | None, groups=None) -> pd.Series:
    """Naive ``times`` read in ``zone`` (None: as they are): Unix times are UTC instants, other
    times ``zone``'s local clock (the hour it shows twice when clocks go back read in file order,
    each series' apart when ``groups`` tells a long table's series apart; a time it skips, or shows
    twice unordered, is an :class:`LstmkitError`)."""
    if zone is None or not pd.api.types.is_datetime64_any_dtype(times):
        return times
    if times.attrs.get("unix"):
        aware = times.dt.tz_localize("UTC")
    else:
        try:
            aware = localized(times, zone, groups)
        except ValueError as e:                     # pytz's and pandas' errors on ambiguous and skipped times
            when = re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?", str(e))
            what = when.group(0) if when else "a time"
            of = f" in series {e.series!r}" if isinstance(e, TwiceInSeries) else ""
            raise LstmkitError(f"time column {name!r} holds {what}{of}, which {zone}'s clock "
                               f"{'skips' if 'nonexistent' in str(e) else 'shows twice'} (daylight saving), "
                               "so it names no one instant", "write the times with their UTC offset "
                               f"({_with_offsets(what if when else None, zone)}, say) or in UTC, which read once "
                               "each") from None
    out = parse_time(aware.rename(times.name), name, zone=zone)
    out.attrs.update(dates=times.attrs.get("dates"), localized=zone if not times.attrs.get("unix") else None,
                     unix=times.attrs.get("unix"))
    return out


def _with_offsets(when: str | None, zone: str) -> str:
    """``when`` (a local time ``zone``'s clock skips or shows twice) with the two UTC offsets its
    clock keeps around it, the one before the change and the one after: ``2024-11-03 01:00-04:00 or
    -05:00``. Any time with either names one instant."""
    stamp = pd.Timestamp(when or "2024-10-27 02:30")
    offsets = []
    for hours in (-6, 6):
        around = (stamp + pd.Timedelta(hours=hours)).tz_localize(zone, ambiguous=False, nonexistent="shift_forward")
        minutes = int(around.utcoffset().total_seconds() // 60)
        offsets.append(f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}")
    text = when or "2024-10-27 02:30"
    return f"{text}{offsets[0]}" + (f" or {offsets[1]}" if offsets[1] != offsets[0] else "")


def _arrow_dates_as_datetimes(col: pd.Series) -> pd.Series:
    """An Arrow date column (``date32`` / ``date64``: ``pd.read_csv(engine="pyarrow",
    dtype_backend="pyarrow")`` reads ISO dates so) as datetimes in seconds, which hold its years;
    pandas counts it a datetime but has no ``.dt.tz`` for it. Any other column as it is."""
    arrow = getattr(col.dtype, "pyarrow_dtype", None)
    if arrow is None or not str(arrow).startswith("date"):
        return col
    return col.astype("datetime64[s]")


def _offset_deltas(offsets: pd.Series) -> pd.Series:
    """``+01:00``, ``-0530``, ``+02`` and ``Z`` as timedeltas (local time = UTC + offset)."""
    parts = offsets.str.extract(r"^([+-])(\d\d):?(\d\d)?$").fillna({0: "+", 1: "0", 2: "0"})
    minutes = parts[1].astype(int) * 60 + parts[2].astype(int)
    return pd.Series(pd.to_timedelta(np.where(parts[0] == "-", -minutes, minutes), unit="min"), index=offsets.index)


def _local_dates(utc: pd.Series, local: pd.Series, zones: list[str], order: str | None = None) -> pd.Series:
    """``local`` (naive wall-clock times) instead of ``utc`` when the rows are dates: every row
    shows one local clock time, and either that is midnight (a date, which UTC would move to the
    evening before) or the offset changes with daylight saving (in UTC the days would be 23 and 25
    hours long and no daily or monthly grid would fit them). Data with several clock times
    (hourly and finer) keeps UTC, where the clocks' repeated and skipped hours are not gaps."""
    clock, utc_clock = local - local.dt.normalize(), utc - utc.dt.normalize()
    if clock.nunique() != 1 or (utc_clock.nunique() == 1 and (clock.iloc[0] != pd.Timedelta(0)
                                                               or utc_clock.iloc[0] == pd.Timedelta(0))):
        return utc
    out = _ns_if_fits(local)
    out.attrs.update(utc_from=[], local_from=zones, dates=order)
    return out


def _offsets(text: pd.Series) -> pd.Series:
    """Each cell's UTC offset (``+01:00``, ``Z``), NaN where it has none; only the last characters
    of cells with a time of day are searched (a date's ``-02`` is not an offset)."""
    out = pd.Series(np.nan, index=text.index, dtype=object)
    tail = text.str.slice(-6)
    found = text.str.contains(":", regex=False) & tail.str.contains(_OFFSET.replace("(", "(?:", 1))
    if found.any():
        out[found] = tail[found].str.extract(_OFFSET)[0]
    return out


def _day_month(text: pd.Series) -> pd.DataFrame:
    """The first and second number of each d/m/y-shaped cell (``31/01/2020`` -> 31, 1); NaN for others."""
    out = pd.DataFrame(np.nan, index=text.index, columns=[0, 1])
    head = text.str.slice(0, 11)
    shaped = head.str.slice(1, 3).str.contains(r"[./-]")       # a separator after 1 or 2 digits: cheap to test
    if shaped.any():
        shaped &= head.str.match(_DMY_SHAPE)
    if shaped.any():                       # extracted once per distinct date (hourly data repeats each 24 times)
        codes, distinct = pd.factorize(head[shaped])
        out.loc[shaped, [0, 1]] = pd.Series(distinct).str.extract(_DMY).astype(float).to_numpy()[codes]
    return out


def time_values(col: pd.Series, name: str, dates: str | None = None, zone: str | None = None,
                guessed: bool = False, groups=None) -> tuple[np.ndarray, dict[str, str]]:
    """A time column as a panel holds it: integers that are not dates (:func:`integer_dates`) as int64 steps,
    anything else as naive ``datetime64[ns]`` via :func:`parse_time` (``zone``: its ``zone``); and what the data
    summary says of it: ``time_note`` when the times were converted to UTC or read in ``zone``, ``dates``
    when the order of day and month mattered. Hourly times whose offsets change with daylight saving
    name no zone: a warning says so, and how to give one; so do times of several clock times read in
    a ``zone`` that is a run's, not the user's (``guessed``: :func:`reading_zone`). ``groups``: a long
    table's series ids, row by row (the hour a ``zone``'s clock shows twice is read per series)."""
    if (dates not in SERIAL_DATES and pd.api.types.is_integer_dtype(col) and not col.hasnans
            and integer_dates(col) is None):
        lo, hi = int(col.min()), int(col.max())
        hint = _serial_hint(col, "dates")
        if hint and re.search(_DATE_NAME, name, flags=re.IGNORECASE):
            warnings.warn(f"time column {name!r} holds whole numbers ({lo} … {hi}): read as step numbers, not dates; "
                          f"{hint}, or format the column as dates before saving",
                          UserWarning, stacklevel=callers_level())
        return col.to_numpy(dtype=np.int64), {}
    times = parse_time(col, name, dates, zone, groups)
    utc_from, info, zone = times.attrs.get("utc_from") or [], {}, times.attrs.get("zone")
    if times.attrs.get("unix"):
        info["time_note"] = (f"time column {name!r} read as Unix times ({UNIT_NAMES[times.attrs['unix']]} "
                             f"since 1970); forecast times are {'in ' + zone if zone else 'UTC'}")
        warnings.warn(f"{info['time_note']}; if they are step numbers, not times, number them from 0",
                      UserWarning, stacklevel=callers_level())
    if times.attrs.get("local_from"):
        zones = times.attrs["local_from"]
        info["time_note"] = (f"time column {name!r} read as local dates (every row shows the same local clock time; "
                             f"its offsets: {', '.join(zones[:5])}); forecast times are "
                             f"{'in ' + zone if zone else 'local'}")
    if utc_from and not times.attrs.get("unix"):
        info["time_note"] = (f"time column {name!r} read as UTC (its offsets: {', '.join(utc_from[:5])}"
                             f"{', …' if len(utc_from) > 5 else ''}); forecast times are "
                             f"{'in ' + zone if zone else 'UTC'}")
    if times.attrs.get("localized"):
        info["time_note"] = (f"time column {name!r} read as {zone} local time (its times have no UTC offset); "
                             f"forecast times are in {zone}")
    if times.attrs.get("localized") and guessed and not times.attrs.get("local_from"):
        warnings.warn(f"time column {name!r} has times without a UTC offset, and the run was trained on times in "
                      f"{zone}: read as {zone} local time (forecasts in it); write the times with their offset, or "
                      "in UTC ending Z, to read them otherwise", UserWarning, stacklevel=callers_level())
    if times.attrs.get("offsets_change") and utc_from:
        warnings.warn(f"time column {name!r} writes UTC offsets that change ({', '.join(utc_from[:5])}: daylight "
                      "saving), which name no time zone, so forecast times and calendar features are in UTC; "
                      + worded("pass --time-zone with the zone they were written in (e.g. Europe/Berlin; time_zone= in Python)",
                               "pass time_zone= with the zone they were written in (e.g. 'Europe/Berlin')")
                      + " to have them on its local clock", UserWarning, stacklevel=callers_level())
    if times.attrs.get("dates"):
        info["dates"] = times.attrs["dates"]
    if zone:                              # forecasts are given in it (in_zone); the run remembers it
        info["time_zone"] = zone
        info["time_clock"] = "local" if times.attrs.get("local_from") else "utc"
    return _in_ns(times, col, name), info


_EXCEL_DAYS = (18264, 73050)          # a spreadsheet's serial day numbers of 1950-01-01 ... 2099-12-31
_DATE_NAME = r"(^|[^a-z])(date|day|datum|fecha|jour|tag)"     # a column name that promises dates
_EXCEL_EPOCH = np.datetime64("1899-12-30", "s")   # serial day 0 of the 1900 date system (LibreOffice's day 0;
                                                  # Excel's days count from it from day 61, 1900-03-01)
_EXCEL_LAST = 2958465                 # 9999-12-31, the last day a spreadsheet writes
_LEAP_BUG = 60                        # Excel's 1900-02-29, a day that never was (Lotus 1-2-3's bug, kept)
# days the 1904 date system (Mac Excel before 2011; a workbook with "Use 1904 date system" set) counts fewer
_SHIFT = {"excel": 0, "excel1904": 1462}
SERIAL_DATES = tuple(_SHIFT)          # the --dates choices that read serial days


def _serial_system(col: pd.Series, dates: str) -> str:
    """The date system ``col``'s serial days count in: a workbook's own (``.attrs["date1904"]``,
    :func:`~lstmkit.data.tables.read_frame`), else the one ``dates`` names (a CSV cannot say)."""
    flag = col.attrs.get("date1904")
    return dates if flag is None else ("excel1904" if flag else "excel")


def check_date_system(dates: str | None, found: str | None) -> None:
    """At training: a workbook whose serial days count in the other date system than ``dates``
    (``--dates``) names is an :class:`LstmkitError` naming the flag; the run keeps the system, for
    predict's and the service's serial days, which cannot say (``found``: the system read)."""
    if dates in SERIAL_DATES and found in SERIAL_DATES and found != dates:
        system, day = (("1904", "serial day 0 is 1904-01-01") if found == "excel1904"
                       else ("1900", "serial day 1 is 1900-01-01"))
        shift = "early" if found == "excel1904" else "late"
        raise LstmkitError(f"the workbook counts its serial days in the {system} date system ({day}), not the one "
                           f"{opt('dates', dates)} reads: its dates would be 4 years and a day {shift}",
                           worded(f"pass --dates {found} (dates={found!r} in Python)", f"pass {opt('dates', found)}"))


def _serial_days(col: pd.Series, name: str, dates: str = "excel") -> pd.Series:
    """``col`` read as spreadsheet serial days (``--dates excel``: days since 1899-12-30, the 1900
    date system modern spreadsheets export from a column formatted "General"; ``excel1904``: since
    1904-01-01; a workbook's own system either way, :func:`_serial_system`), as naive datetimes in
    seconds (``.attrs["dates"]``: the system); the fraction is the time of day, rounded to the second
    (45292.5416666667 is 2024-01-01 13:00:00). The 1900 system's days before 1900-03-01 read as Excel
    shows them: 1 is 1900-01-01 (day 0, "1900-01-00", and day 60, its 1900-02-29, are no dates). A
    column of dates already, a cell that is no number, a negative one, one of those two days or one
    past 9999-12-31 is an :class:`LstmkitError`; so is text that reads as dates, or integers that do
    (yyyymmdd, Unix times). A column of datetimes is not given here: :func:`parse_time` reads it as it
    is (a spreadsheet's date cells, the frames a backtest passes to ``predict``)."""
    system = _serial_system(col, dates)
    if pd.api.types.is_integer_dtype(col) and integer_dates(col) is not None:
        raise _dates_already(name, col.iloc[0], dates)
    if pd.api.types.is_bool_dtype(col):
        raise _no_serial_day(col, name, 0, dates)
    days = col.astype(np.float64) if pd.api.types.is_numeric_dtype(col) else _serial_text(col)
    bad = ~np.isfinite(days.to_numpy())
    if bad.any():
        k = int(bad.argmax())
        cell = str(col.iloc[k]).strip()
        if re.search(_DATE_LIKE, cell) and pd.notna(pd.to_datetime(cell, errors="coerce", format="mixed")):
            raise _dates_already(name, cell, dates)
        raise _no_serial_day(col, name, k, dates)
    shift, last = _SHIFT[system], _EXCEL_LAST - _SHIFT[system]
    seconds = np.round(days.to_numpy() * 86400).astype(np.int64)
    day = seconds // 86400
    no_date = ((day == 0) | (day == _LEAP_BUG)) if not shift else np.zeros(len(day), dtype=bool)
    outside = ((days < 0) | (days >= last + 1)).to_numpy() | no_date
    if outside.any():
        k = int(outside.argmax())
        fix = f"fix that cell, or leave out {opt('dates', dates)} if the column holds no serial dates"
        if days.iloc[k] < 0:
            why = f"serial days count from {'0 (1904-01-01)' if shift else '1 (1900-01-01)'}"
        elif day[k] == 0:
            why = "serial day 0 is no date (Excel shows 1900-01-00): a time of day alone"
            fix = (f"give each time its date (45292.5 is 2024-01-01 12:00; a date column beside it: "
                   f"{opt('time', ['date', 'time'])}), or leave out {opt('dates', dates)}")
        elif day[k] == _LEAP_BUG:
            why = "serial day 60 is 1900-02-29 in Excel, a day that never was (its 1900 leap-year bug)"
            fix = fix.replace("fix that cell", "fix that cell (59 is 1900-02-28, 61 is 1900-03-01)")
        else:
            why = f"past 9999-12-31 (serial day {last}), the last date a spreadsheet writes"
        raise LstmkitError(f"time column {name!r} holds {days.iloc[k]:.12g} in {row_place(col, k)}: {why}", fix)
    if not shift:                         # Excel's days 1-59 count from 1899-12-31: day 1 is 1900-01-01
        seconds = np.where(day < _LEAP_BUG, seconds + 86400, seconds)
    epoch = _EXCEL_EPOCH + np.timedelta64(shift, "D")
    out = _ns_if_fits(pd.Series(epoch + seconds.astype("timedelta64[s]"), index=col.index))
    out.attrs.update(utc_from=[], dates=system)
    return out


def _serial_text(col: pd.Series) -> pd.Series:
    """Text cells as serial days (NaN where one is none): ``45292.5``, or a whole serial day and a
    time of day (``45292 13:00``: a serial date column and a time column joined, ``--time date,hour``)."""
    text = col.astype(str).str.strip()
    parts = text.str.extract(r"^(\d+)\s+(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$")
    if parts[1].notna().all():
        clock = parts[1].where(parts[1].str.count(":") == 2, parts[1] + ":00")
        return pd.to_numeric(parts[0]) + pd.to_timedelta(clock).dt.total_seconds() / 86400
    return pd.to_numeric(text, errors="coerce").astype(np.float64)


def _dates_already(name: str, cell, dates: str) -> LstmkitError:
    return LstmkitError(f"time column {name!r} holds dates already (e.g. {str(cell)!r}), not spreadsheet serial "
                        f"day numbers",
                        f"leave out {worded(f'--dates {dates} (dates={dates!r} in Python)', opt('dates', dates))} "
                        "when training: dates "
                        "read as they are; a run trained with it reads serial days in predict and evaluate too: give "
                        "them as its training data had them, or train a run on the dates")


def _no_serial_day(col: pd.Series, name: str, k: int, dates: str) -> LstmkitError:
    return LstmkitError(f"time column {name!r} holds {str(col.iloc[k]).strip()!r} in {row_place(col, k)}, not a "
                        f"spreadsheet serial day number ({opt('dates', dates)})",
                        f"fix that cell, or leave out {opt('dates', dates)} if the column holds no serial dates")


def _serial_hint(col: pd.Series, what: str, at: float | None = None) -> str:
    """The fix for numbers that are no dates when ``col`` lies where a spreadsheet's serial days of
    1950 to 2099 do: "if they are a spreadsheet's serial {what} (45292 is 2024-01-01), pass --dates
    excel" (a workbook's 1904 date system: ``excel1904``; a CSV cannot say, so it is named beside);
    "" elsewhere. ``at``: the number shown (the least, else), with its time of day when it has one."""
    system = _serial_system(col, "excel")
    lo, hi = col.min(), col.max()
    if not (_EXCEL_DAYS[0] - _SHIFT[system] <= lo and hi < _EXCEL_DAYS[1] - _SHIFT[system] + 1):    # 2099 and no later
        return ""
    at = lo if at is None else at
    when = pd.Timestamp(_serial_days(pd.Series([at], dtype=np.float64), "", system).iloc[0])
    python = f"dates={system!r} in Python"
    other = ""
    if col.attrs.get("date1904") is None:      # a CSV's numbers: either system's
        python += "; --dates excel1904 if the sheet uses the 1904 date system"
        other = f"; {opt('dates', 'excel1904')} if the sheet uses the 1904 date system"
    shown = f"{when:%Y-%m-%d %H:%M}" if at % 1 else f"{when:%Y-%m-%d}"
    return (f"if they are a spreadsheet's serial {what} ({at:.12g} is {shown}), pass "
            + worded(f"--dates {system} ({python})", opt("dates", system) + other))


def _fractions(col: pd.Series, name: str) -> LstmkitError:
    """The error for a column of numbers that are not whole; when they lie where a spreadsheet's
    serial dates and times do (1950 to 2099) the fix names ``--dates excel``."""
    k = int((col != col.round()).to_numpy().argmax())
    cell = float(col.iloc[k])
    hint = _serial_hint(col, "dates and times", at=cell)
    if hint:
        return LstmkitError(f"time column {name!r} holds numbers (e.g. {cell:.12g}), not dates",
                            f"{hint}; else write dates such as 2024-01-31, or leave out {opt('time')}")
    step = _one_step(col)
    if step is None:
        return LstmkitError(f"time column {name!r} holds numbers (e.g. {cell:.12g}), not dates",
                            f"write dates such as 2024-01-31, or leave out {opt('time')}")
    lo = float(col.min())
    shifted = f"(df[{name!r}] - {lo:.12g})" if lo else f"df[{name!r}]"
    return LstmkitError(f"time column {name!r} holds numbers (e.g. {cell:.12g}), not dates: elapsed time in steps of "
                        f"{step:.12g}?", f"number the steps with whole numbers, which read as time steps (pandas: "
                        f"df[{name!r}] = ({shifted} / {step:.12g}).round().astype(int)), or leave out {opt('time')} to read "
                        "the rows in file order")


def _one_step(col: pd.Series) -> float | None:
    """The step every value of a float column lies a whole number of from its least (0.0, 0.1,
    0.2, ... written in floating point: 0.30000000000000004), or None. Judged to the values' own
    rounding: Unix seconds in tenths (1700000000.1) are exact to ~2e-7 s, 2e-6 of a step, and one
    difference of two of them is no exact step (the whole span over its count of steps is)."""
    v = np.unique(col.to_numpy(dtype=np.float64))
    steps = np.diff(v)
    if len(steps) == 0 or not np.isfinite(v).all():
        return None
    count = round((v[-1] - v[0]) / float(steps.min()))
    step = float((v[-1] - v[0]) / count)
    slack = 4 * float(np.spacing(np.abs(v).max())) / step      # a value's rounding, in steps
    if slack > 0.01:                                           # steps too fine for the values' precision
        return None
    k = (v - v[0]) / step
    if not np.allclose(k, k.round(), rtol=0, atol=1e-6 + slack):
        return None
    # said in the fewest digits that move no value by more than its rounding over the whole span (0.1, not 0.100000000319)
    return next(r for d in range(1, 18) if abs((r := float(f"{step:.{d}g}")) - step) * count <= slack * step)


def _reading(text: pd.Series, dm: pd.DataFrame, dayfirst: bool, utc: bool) -> pd.Series | None:
    """The column read with day and month in one order (None when a cell does not fit it):
    one format for every cell where the first cell's format fits all, else cell by cell."""
    day, month = (dm[0], dm[1]) if dayfirst else (dm[1], dm[0])
    if (month > 12).any() or (day > 31).any():
        return None
    fmt = guess_datetime_format(text[0], dayfirst=dayfirst)
    if fmt is not None and not _year_day_month(fmt):
        try:
            return _to_datetime(text, utc, format=fmt)
        except (ValueError, TypeError, OverflowError):
            pass
    shaped = dm[0].notna().to_numpy()
    parts = []
    try:
        with warnings_caught():
            warnings.simplefilter("ignore")          # dateutil's notes on guessing
            for cells, first in ((text[~shaped], False), (text[shaped], dayfirst)):   # ISO and the like: year first
                if len(cells):
                    parts.append(_to_datetime(cells, utc, format="mixed", dayfirst=first))
    except (ValueError, TypeError, OverflowError):
        return None
    return pd.concat(parts).sort_index() if len(parts) > 1 else parts[0]


def _year_day_month(fmt: str) -> bool:
    """``%Y-%d-%m``: what pandas guesses for an ISO date with ``dayfirst``; no file means it."""
    y, d, m = fmt.find("%Y"), fmt.find("%d"), fmt.find("%m")
    return -1 < y < d < m


def _to_datetime(text: pd.Series, utc: bool, **kw) -> pd.Series:
    return _naive(pd.to_datetime(text, utc=utc, **kw), [])


def _naive(times: pd.Series, zones: list[str], fits: bool = True) -> pd.Series:
    """Naive datetimes in ns; aware ones converted to UTC first (``attrs["utc_from"]``: ``zones``).
    A date beyond nanoseconds raises (a reading of text that does not fit) when ``fits``, else keeps
    its unit."""
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    out = times.dt.as_unit("ns") if fits else _ns_if_fits(times)
    out.attrs["utc_from"] = zones
    return out


def _ns_if_fits(times: pd.Series) -> pd.Series:
    """``times`` in nanoseconds, or as they are when a date lies beyond them (:func:`_in_ns` names it)."""
    try:
        return times.dt.as_unit("ns")
    except pd.errors.OutOfBoundsDatetime:
        return times


def _check_years(text: pd.Series, name: str) -> None:
    """An :class:`LstmkitError` (:func:`_beyond`) when a cell of ``text``, which read as no dates,
    writes a year (four digits) outside the years lstmkit computes in: that, not its form, is why."""
    years = pd.to_numeric(text.str.extract(r"(?<!\d)(\d{4})(?!\d)")[0], errors="coerce")
    beyond = ((years < _YEARS[0]) | (years > _YEARS[1])).to_numpy()
    if beyond.any():
        raise _beyond(name, text.iloc[int(beyond.argmax())])


_YEARS = (1678, 2261)                  # whole years within datetime64[ns] (1677-09-21 to 2262-04-11)


def _beyond(name: str, cell) -> LstmkitError:
    return LstmkitError(f"time column {name!r} holds a date outside the years lstmkit computes in ({_YEARS[0]} to "
                        f"{_YEARS[1]}): the first is {str(cell)!r}", "drop the time column from the table, and "
                        f"{opt('time')}, to read its rows in file order, one step each (a regular series, e.g. annual from "
                        "1500, forecasts the same), or shift the dates into that range")


def _in_ns(times: pd.Series, col: pd.Series, name: str) -> np.ndarray:
    """``times`` as ``datetime64[ns]``, the unit every panel, grid and forecast computes in; a date
    outside its years (1677-09-21 to 2262-04-11) is an :class:`LstmkitError` naming the first such
    cell (computed in a coarser unit, the steps and the forecast times would overflow unseen)."""
    index = pd.DatetimeIndex(times)
    try:
        return index.as_unit("ns").to_numpy()
    except pd.errors.OutOfBoundsDatetime:
        pass
    lo, hi = pd.Timestamp.min.as_unit(index.unit), pd.Timestamp.max.as_unit(index.unit)
    k = int(((index < lo) | (index > hi)).argmax())
    raise _beyond(name, col.iloc[k])


def _choose(text: pd.Series, dm: pd.DataFrame, month_first, day_first, name: str,
            dates: str | None, col: pd.Series) -> tuple[pd.Series, str | None]:
    """The one reading that fits, or the regular one of two that disagree (and its order, when
    the two differ); else an error (``col``: the column as read, whose rows it names)."""
    if month_first is None and day_first is None:
        _check_years(text, name)
        raise _unreadable(text, dm, name, dates, col)
    if month_first is not None and day_first is not None and month_first.equals(day_first):
        return month_first, None                       # every d/m/y cell has day == month
    if day_first is None:
        return month_first, ("month-first" if dm[0].notna().any() else None)
    if month_first is None:
        return day_first, "day-first"
    regular = [r for r in (month_first, day_first) if _regular(r)]
    if len(regular) == 1:
        return regular[0], ("month-first" if regular[0] is month_first else "day-first")
    k = int(np.flatnonzero((month_first != day_first).to_numpy())[0])
    a, b = month_first.iloc[k], day_first.iloc[k]
    why = "both have regular steps" if regular else "neither has regular steps"
    raise LstmkitError(f"time column {name!r} is ambiguous: {text[k]!r} reads as {a:%d %B %Y} (month first) "
                       f"or {b:%d %B %Y} (day first), every date fits both orders and {why}",
                       f"{_ISO_HINT}, or pass {opt('dates', 'day-first')} (or month-first)")


def _regular(times: pd.Series) -> bool:
    index = pd.DatetimeIndex(times.drop_duplicates().sort_values())
    if len(index) < 3:
        return False
    try:
        return infer_freq(index) is not None
    except (TypeError, ValueError):
        return False


def _unreadable(text: pd.Series, dm: pd.DataFrame, name: str, dates: str | None, col: pd.Series) -> LstmkitError:
    """The error for the time column ``text`` (``col`` as read: its rows' places) that no order of day
    and month reads: the cell that is no date, and where it is; rows at the end that are no dates
    under rows that all are (a total, a source line and footnotes under the data) named as such."""
    day_first, month_first = (dm[0] > 12).to_numpy(), (dm[1] > 12).to_numpy()
    neither = day_first & month_first                  # 32/13/2024: no month either way round
    if neither.any():
        k = int(neither.argmax())
        return LstmkitError(f"time column {name!r} holds {text[k]!r}, which is no date: neither "
                            f"{int(dm[0].iloc[k])} nor {int(dm[1].iloc[k])} is a month (1-12)",
                            "fix that cell (ISO dates such as 2020-01-31 read one way only)")
    against = {"day-first": month_first, "month-first": day_first}.get(dates)
    if against is not None and against.any():
        other = "month-first" if dates == "day-first" else "day-first"
        return LstmkitError(f"time column {name!r} does not read {dates} (the run's {opt('dates')}): found "
                            f"{text[int(against.argmax())]!r}", f"{_ISO_HINT}, or pass {opt('dates', other)}")
    if day_first.any() and month_first.any():
        a, b = text[int(day_first.argmax())], text[int(month_first.argmax())]
        return LstmkitError(f"time column {name!r} mixes day-first dates ({a!r}) and month-first dates ({b!r})",
                            _ISO_HINT)
    with warnings_caught():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(text, format="mixed", errors="coerce", utc=True)
    bad = parsed.isna().to_numpy()
    first = int(np.flatnonzero(bad)[0]) if bad.any() else 0
    sample, place = text[first], row_place(col, first)
    if bad.sum() == 1 and len(bad) > 2 and (bad[0] or bad[-1]):       # a spreadsheet's total or note row
        where = "first" if bad[0] else "last"
        return LstmkitError(f"time column {name!r} could not be read as dates: its {where} row ({place}) holds "
                            f"{sample!r}, every other row a date", "delete that row (a total or a note?)")
    n = int(bad.sum())
    if 1 < n <= max(2, len(bad) // 4) and bad[-n:].all():     # a source line and footnotes under the data
        return LstmkitError(f"time column {name!r} could not be read as dates: its last {n} rows (from {place}) "
                            f"hold {sample!r}, {text.iloc[-1]!r}{'' if n == 2 else ', …'}, every row above them "
                            "a date", "delete those rows (notes or totals under the data?)")
    return LstmkitError(f"time column {name!r} could not be read as dates: found {sample!r} in {place}",
                        "use ISO dates such as 2024-01-31 or 2024-01-31 12:00, or fix that cell")


# periods as spreadsheets and statistics offices label them: quarters (1990 Q1, 1990-Q1, Q1 1990), ISO
# weeks (2020-W05, 2020W05-3) and Excel's month display (Jan-20: January 2020)
_QUARTER = r"(\d{4})\s*[-/ ]?\s*[Qq]([1-4])|[Qq]([1-4])\s*[-/ ]?\s*(\d{4})"
_ISO_WEEK = r"(\d{4})-?W(\d{2})(?:-?([1-7]))?"
_MONTH_YY = r"[A-Za-z]{3}-\d{2}"


def calendar_labels(text: pd.Series) -> pd.Series | None:
    """``text`` (stripped cells) read as the first day of the periods its cells label: quarters,
    ISO weeks (their Monday, or the day the label names), or Excel's ``Jan-20`` months (read as
    month and year only when their distinct months run one after another, a long table's repeats
    alike); None when the cells are not all one kind."""
    first = text.iloc[0] if len(text) else ""
    if not any(re.fullmatch(p, first) for p in (_QUARTER, _ISO_WEEK, _MONTH_YY)):   # one cell, not every row
        return None
    if text.str.fullmatch(_QUARTER).all():
        p = text.str.extract(f"^(?:{_QUARTER})$")
        year, quarter = p[0].fillna(p[3]).astype(int), p[1].fillna(p[2]).astype(int)
        return pd.to_datetime(pd.DataFrame({"year": year, "month": 3 * quarter - 2, "day": 1}))
    if text.str.fullmatch(_ISO_WEEK).all():
        p = text.str.extract(f"^{_ISO_WEEK}$")
        iso = p[0] + "-W" + p[1] + "-" + p[2].fillna("1")
        out = pd.to_datetime(iso, format="%G-W%V-%u", errors="coerce")
        return out if out.notna().all() else None
    if text.str.fullmatch(_MONTH_YY).all():
        out = pd.to_datetime(text, format="%b-%y", errors="coerce")
        # judged on the distinct months, so a long table's series, each through the same months, read
        # as one does (its repeats are no step), and two months too (pandas infers no frequency of two);
        # a cell that is no month (NaT, NaN here) breaks the run
        months = np.unique(out.dt.year * 12 + out.dt.month)
        if len(months) > 1 and (np.diff(months) == 1).all():
            return out
    return None


def date_columns(df: pd.DataFrame, skip=()) -> list[str]:
    """The columns of ``df`` besides ``skip`` that hold dates: datetime columns, integer columns
    (or float columns of whole numbers) of years, ``yyyymmdd`` dates or Unix times, and text columns whose every cell (up to 200 distinct ones are tried)
    has a year or a d/m/y shape and reads as a date. Which dates, and in which order of day and
    month, is :func:`parse_time`'s to say when the column is read."""
    found = []
    for name in df.columns:
        if not isinstance(name, str) or name in skip:
            continue
        col = df[name]
        if pd.api.types.is_datetime64_any_dtype(col) or integer_dates(whole_floats(col)) is not None:
            found.append(name)            # years written 1871.0 too, as the time reader reads them
        elif (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)) and col.notna().any():
            cells = pd.Series(col.dropna().astype(str).str.strip().unique()[:200])
            if not cells.str.contains(_DATE_LIKE).all():
                continue
            with warnings_caught():
                warnings.simplefilter("ignore")
                if (calendar_labels(cells) is not None
                        or pd.to_datetime(cells, format="mixed", errors="coerce", utc=True).notna().all()):
                    found.append(name)
    return found


def _integer_time(col: pd.Series, name: str) -> pd.Series:
    """Integers as dates only when every one reads as ``yyyymmdd`` or as a Unix time from 2000 to
    2100 in one unit; pandas would take any integer as nanoseconds since 1970."""
    dates = integer_dates(col)
    if dates is not None:
        return dates
    hint = _serial_hint(col, "dates")
    raise LstmkitError(f"time column {name!r} holds integers (e.g. {col.iloc[0]}), not dates",
                       "write dates such as 2024-01-31, 20240131 (yyyymmdd) or Unix times (seconds since "
                       f"1970), or leave out {opt('time')}{'; ' + hint if hint else ''}")
