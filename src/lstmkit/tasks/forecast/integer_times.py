"""Integer time columns that are dates: years, ``yyyymm`` months, ``yyyymmdd`` (20240131), Unix times.

    integer_dates(col)    the column as naive (UTC) dates, or None when its integers are steps
    whole_floats(col)     a float column whose every value is whole as int64 (statsmodels' years, 1871.0), else as it is

Years are distinct whole numbers from 1000 to 2999, mostly one apart (a yearly series' year
column: 1871, 1872, ...; read as January 1st); ``yyyymm`` months likewise (202001, 202002, ...;
read as the 1st). A Unix time column (seconds, milliseconds, micro- or nanoseconds since 1970)
is recognised by its range -- every value of one unit from 2000 to 2100 -- and by steps like a
clock's: one step between at least half of its distinct values, or every step whole days.
Counts that happen to be as large (a population of 3 billion) step irregularly and stay numbers.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["integer_dates", "whole_floats", "month_number", "period_numbers", "UNIT_NAMES", "period_columns", "period_parts", "period_time", "PERIOD_PARTS",
           "is_period_pair", "joined_time_name", "CLOCK_TIME"]


def integer_dates(col: pd.Series) -> pd.Series | None:
    """An integer column of years (1871, 1872, ...: distinct, mostly one apart) or of ``yyyymm``
    months (202001, ...: likewise), or whose every value is a
    valid ``yyyymmdd`` date (20240131) or a Unix time
    (seconds, milliseconds, micro- or nanoseconds since 1970, every value of one unit between 2000
    and 2100, in steps like a clock's: 1704067200 for 2024-01-01 00:00 UTC), as naive (UTC) dates;
    else None. A Unix column has ``.attrs["unix"]``, its unit."""
    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_integer_dtype(col) or not len(col):
        return None
    if col.hasnans:                     # a nullable Int64 column with <NA>: no time column has empty cells
        return None
    lo, hi = col.min(), col.max()
    if 1000 <= lo and hi <= 2999 and _consecutive(col):                 # years: 1871, 1872, ...
        return pd.to_datetime(pd.DataFrame({"year": col.astype("int64"), "month": 1, "day": 1}))
    if 100001 <= lo and hi <= 299912 and _months(col):                    # yyyymm: 202001, 202002, ...
        return pd.to_datetime(pd.DataFrame({"year": col // 100, "month": col % 100, "day": 1}).astype("int64"))
    if 10000101 <= lo and hi <= 99991231:
        parsed = pd.to_datetime(col.astype("int64").astype(str), format="%Y%m%d", errors="coerce")
        return None if parsed.isna().any() else parsed
    for unit, scale in _UNIX_UNITS:
        if _UNIX_FROM * scale <= lo and hi < _UNIX_TO * scale and _clock_steps(col, 86_400 * scale):
            out = pd.to_datetime(col.astype("int64"), unit=unit)
            out.attrs["unix"] = unit
            return out
    return None


def whole_floats(col: pd.Series) -> pd.Series:
    """``col`` as int64 when it is a float column whose every value is a whole number within float64's
    exact integers (a table of floats writes its years so: statsmodels' nile, sunspots, elnino and
    macrodata ``1871.0``; a column pandas made float); any other column as it is."""
    if not pd.api.types.is_float_dtype(col) or not len(col):
        return col
    v = col.to_numpy(dtype=np.float64)
    if not (np.abs(v) <= 2.0 ** 53).all() or not (v == np.round(v)).all():      # NaN fails both
        return col
    return col.astype(np.int64)


def _consecutive(col: pd.Series) -> bool:
    """Whether ``col`` holds distinct whole numbers mostly one apart (in any order; a few missing)
    -- years, one row each."""
    steps = np.diff(np.sort(col.to_numpy(dtype=np.int64)))
    return len(steps) >= 2 and bool((steps > 0).all()) and float(np.median(steps)) == 1


def _months(col: pd.Series) -> bool:
    """Whether ``col`` holds distinct ``yyyymm`` months (202001), mostly one month apart."""
    v = np.sort(col.to_numpy(dtype=np.int64))
    month, year = v % 100, v // 100
    if not ((month >= 1) & (month <= 12)).all() or year.min() < 1000:
        return False
    return _consecutive(pd.Series(12 * year + month - 1))


def _clock_steps(col: pd.Series, day: int) -> bool:
    """Whether the distinct values of ``col`` step like a clock: one step between at least half of
    them (a logger's), or every step whole days of ``day`` units (months, quarters, years at
    midnight) -- not counts or sums that happen to be as large as Unix times (a population of 3
    billion), whose steps all differ and are not whole days."""
    steps = np.diff(np.unique(col.to_numpy(dtype=np.int64)))
    if len(steps) == 0:
        return False
    _, counts = np.unique(steps, return_counts=True)
    return 2 * int(counts.max()) >= len(steps) or not (steps % day).any()


# Unix times read as dates when every value of a column lies from 2000 to 2100 in one unit (these
# ranges do not overlap); row numbers and counts are never that large
_UNIX_FROM, _UNIX_TO = 946_684_800, 4_102_444_800
_UNIX_UNITS = (("s", 1), ("ms", 10 ** 3), ("us", 10 ** 6), ("ns", 10 ** 9))
UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}


# a period column beside a year column, and its periods per year: statistics offices' "year, month, value"
PERIOD_PARTS = {"month": 12, "quarter": 4}


def period_columns(columns) -> str | None:
    """The time of a table with a year column and a month (or quarter) column (names in any case),
    as the spec ``"Year,Month"`` (its own names); None without such a pair."""
    names = {str(c).strip().lower(): str(c) for c in columns}
    part = next((p for p in PERIOD_PARTS if p in names), None)
    return f"{names['year']},{names[part]}" if "year" in names and part is not None else None


def is_period_pair(spec: str) -> bool:
    """Whether the two-column time ``spec`` (``"Year,Month"``) is a year and a month or quarter
    column, not a date and a time-of-day column (``"Date,Time"``)."""
    return spec.split(",", 1)[1].strip().lower() in PERIOD_PARTS


def joined_time_name(spec: str) -> str:
    """The one time column of forecasts of a table whose dates and times of day are two columns
    (``"Date,Time"``: ``"Date Time"``)."""
    return " ".join(s.strip() for s in spec.split(",", 1))


# a cell that is a time of day: 13:05, 13:05:00, 1:05 PM, and with a zone (13:05 +01:00, 13:05Z, 13:05 UTC),
# which the time reader takes to UTC as it does a one-column time's
CLOCK_TIME = r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(\s*[ap]\.?m\.?)?(\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2}))?"


def period_time(df: pd.DataFrame, spec: str) -> pd.Series:
    """The time of the two columns ``spec`` names: the dates (first day of each period) of a year and
    a month/quarter column (``"Year,Month"``), or the date and time-of-day cells of a logger's date
    and time columns (``"Date,Time"``) joined into one text (``"01/03/2024 13:00"``), which the time
    reader parses as it parses one column (the order of day and month included). An
    :class:`~lstmkit.errors.LstmkitError` names a column that is missing or holds other than whole
    years / periods 1..12 (1..4), or times of day."""
    from lstmkit.errors import LstmkitError, opt
    year_name, part_name = (s.strip() for s in spec.split(",", 1))
    per_year = PERIOD_PARTS.get(part_name.lower())
    cols = {str(c): c for c in df.columns}
    for name in (year_name, part_name):
        if name not in cols:
            raise LstmkitError(f"time column {name!r} (of {spec!r}) not found", f"available columns: "
                               f"{', '.join(list(cols)[:30])}")
    if per_year is None:
        return _date_and_clock(df[cols[year_name]], df[cols[part_name]], spec)
    year = pd.to_numeric(df[cols[year_name]], errors="coerce")
    part = period_numbers(df[cols[part_name]], per_year)
    for name, v, lo, hi in ((year_name, year, 1000, 2999), (part_name, part, 1, per_year)):
        bad = v.isna() | (v != v.round()) | (v < lo) | (v > hi)
        if bad.any():
            raise LstmkitError(f"time column {name!r} holds {df[cols[name]][bad].tolist()[0]!r}, not a "
                               f"{'year' if name == year_name else part_name.lower()} ({lo}-{hi})",
                               f"fix that cell, or pass one date column as {opt('time')}")
    month = part if per_year == 12 else 3 * part - 2
    return pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}).astype("int64"))


def month_number(name: object) -> int | None:
    """A month's number from its name in English, any case, whole or cut to three letters or more
    (``JAN``, ``Sept``, ``december``: the columns of a year-by-month table, melted); else None."""
    import calendar
    text = str(name).strip().lower().rstrip(".")
    if len(text) < 3:
        return None
    return next((k for k in range(1, 13) if calendar.month_name[k].lower().startswith(text)), None)


def period_numbers(col: pd.Series, per_year: int) -> pd.Series:
    """A month or quarter column as numbers: its numbers, or month names (``JAN``, ``January``) and
    quarters written ``Q1`` to ``Q4`` as theirs; a cell that is neither is NaN (the caller names it)."""
    num = pd.to_numeric(col, errors="coerce")
    text = col[num.isna() & col.notna()].astype(str).str.strip()
    if len(text):
        names = text.map(month_number) if per_year == 12 else text.str.upper().str.extract(r"^Q([1-4])$")[0]
        num = num.astype(float)
        num[text.index] = pd.to_numeric(names, errors="coerce").to_numpy(dtype=float)
    return num


def _date_and_clock(day: pd.Series, clock: pd.Series, spec: str) -> pd.Series:
    """The cells of a date column and a time-of-day column (``01/03/2024`` and ``13:00``; a workbook's
    dates and ``datetime.time`` cells, or times stored as Excel's fractions of a day, ``0.5``) joined
    into one text; empty where either is empty, or blank (the time reader names such rows). Dates
    that carry a time of day of their own, the two columns named in the other order, a second column
    that holds other than times of day, and ``24:00`` are an :class:`~lstmkit.errors.LstmkitError`."""
    from lstmkit.errors import LstmkitError, named_opt, opt, worded
    date_name, clock_name = (s.strip() for s in spec.split(",", 1))
    if pd.api.types.is_datetime64_any_dtype(day):
        timed = day.notna() & (day != day.dt.normalize())
        day = day.dt.strftime("%Y-%m-%d").where(~timed, day.astype(str))
    else:
        timed = day.astype("string").str.contains(r"\d:\d\d").fillna(False)
    if timed.any():
        if _clock_texts(day) and not _clock_texts(clock):
            raise LstmkitError(f"the two time columns are named in the wrong order: {date_name!r} holds times of day "
                               f"(e.g. {day[timed].iloc[0]!r}) and {clock_name!r} the dates",
                               "name the date column first: "
                               + worded(f"--time {clock_name},{date_name} (time=[{clock_name!r}, {date_name!r}] in "
                                        "Python)", opt("time", [clock_name, date_name])))
        raise LstmkitError(f"time column {date_name!r} (of {spec!r}) holds times of day already "
                           f"(e.g. {day[timed].iloc[0]!r})", f"pass it alone as {named_opt('time', date_name)}")
    fractions = _day_fractions(clock)
    text = (clock.astype("string") if fractions is None else fractions).str.strip()
    text = text.mask(text == "")                                    # a blank cell is an empty one
    bad = text.notna() & ~text.str.fullmatch(CLOCK_TIME, case=False).fillna(False)
    if (fractions is None and pd.api.types.is_numeric_dtype(clock)) or bad.any():
        v = pd.to_numeric(clock, errors="coerce") if pd.api.types.is_numeric_dtype(clock) else None
        if v is not None and ((v < 0) | (v >= 1)).any():    # the first number that is no fraction of a day
            example = clock[(v < 0) | (v >= 1)].iloc[0]
        else:
            example = clock[bad].iloc[0] if bad.any() else clock.dropna().iloc[0]
        raise LstmkitError(f"a two-column time is a date and a time-of-day column (or a year and a month or quarter "
                           f"column), and {clock_name!r} (of {spec!r}) holds {str(example)!r}, not a time of day such "
                           f"as 13:05", f"name them {opt('time', ['Date', 'Time'])} (or year,month), or pass one date column")
    late = text.str.fullmatch(r"24:00(:00(\.0+)?)?").fillna(False)
    if late.any():
        from lstmkit.data.textfile import row_place
        row = int(late.to_numpy().nonzero()[0][0])
        raise LstmkitError(f"time-of-day column {clock_name!r} holds {text[late].iloc[0]!r} ({row_place(clock, row)}), "
                           f"the end of a day, which is ambiguous beside its date",
                           "write it as 00:00 of the next day's date")
    joined = day.astype("string").str.strip().mask(lambda d: d == "") + " " + text
    return joined.astype(object).where(joined.notna(), None)


def _clock_texts(col: pd.Series) -> bool:
    """Whether every filled cell of ``col`` is a time of day (13:05)."""
    text = col.astype("string").str.strip().dropna()
    return bool(len(text)) and bool(text.str.fullmatch(CLOCK_TIME, case=False).all())


def _day_fractions(clock: pd.Series) -> pd.Series | None:
    """A numeric ``clock`` column whose every value is a fraction of a day in [0, 1) -- how Excel
    stores a time of day (0.5 is 12:00), which a sheet's cells not formatted as times give -- as
    texts ``HH:MM:SS`` (to the second, as Excel shows them); else None."""
    if not pd.api.types.is_numeric_dtype(clock) or pd.api.types.is_bool_dtype(clock):
        return None
    v = pd.to_numeric(clock, errors="coerce").astype("float64")
    if not v.notna().any() or ((v < 0) | (v >= 1)).any():
        return None
    seconds = (v * 86400).round()
    if (seconds >= 86400).any():                   # 0.99999999 rounds up to the next day: not a time of day
        return None
    stamps = pd.Timestamp("2000-01-01") + pd.to_timedelta(seconds, unit="s")
    return pd.Series(stamps.dt.strftime("%H:%M:%S"), index=clock.index, dtype="string").where(v.notna())


def period_parts(stamps: pd.DatetimeIndex, spec: str) -> dict[str, Any]:
    """The year and month (quarter) columns ``spec`` names (``"Year,Month"``) of the dates
    :func:`period_time` made: a forecast of a table read that way is written that way; a date and
    time-of-day pair (``"Date,Time"``) as one column of time stamps (:func:`joined_time_name`)."""
    if not is_period_pair(spec):
        return {joined_time_name(spec): stamps}
    year_name, part_name = (s.strip() for s in spec.split(",", 1))
    part = stamps.month if PERIOD_PARTS[part_name.lower()] == 12 else stamps.quarter
    return {year_name: np.asarray(stamps.year, dtype=np.int64), part_name: np.asarray(part, dtype=np.int64)}
