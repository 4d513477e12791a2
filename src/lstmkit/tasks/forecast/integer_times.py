"""Integer time columns that are dates: years, ``yyyymm`` months, ``yyyymmdd`` (20240131), Unix times.

    integer_dates(col)    the column as naive (UTC) dates, or None when its integers are steps

Years are distinct whole numbers from 1000 to 2999, mostly one apart (a yearly series' year
column: 1871, 1872, ...; read as January 1st); ``yyyymm`` months likewise (202001, 202002, ...;
read as the 1st). A Unix time column (seconds, milliseconds, micro- or nanoseconds since 1970)
is recognised by its range -- every value of one unit from 2000 to 2100 -- and by steps like a
clock's: one step between at least half of its distinct values, or every step whole days.
Counts that happen to be as large (a population of 3 billion) step irregularly and stay numbers.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["integer_dates", "UNIT_NAMES", "period_columns", "period_parts", "period_time", "PERIOD_PARTS"]


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


def period_time(df: pd.DataFrame, spec: str) -> pd.Series:
    """The dates (first day of each period) of the year and month/quarter columns ``spec`` names
    (``"Year,Month"``); an :class:`~lstmkit.errors.LstmkitError` naming a column that is missing
    or holds other than whole years / periods 1..12 (1..4)."""
    from lstmkit.errors import LstmkitError
    year_name, part_name = (s.strip() for s in spec.split(",", 1))
    per_year = PERIOD_PARTS.get(part_name.lower())
    cols = {str(c): c for c in df.columns}
    for name in (year_name, part_name):
        if name not in cols:
            raise LstmkitError(f"time column {name!r} (of {spec!r}) not found", f"available columns: "
                               f"{', '.join(list(cols)[:30])}")
    if per_year is None:
        raise LstmkitError(f"a two-column time is a year and a month or quarter column, got {spec!r}",
                           "name them --time year,month (or year,quarter), or pass one date column")
    year, part = (pd.to_numeric(df[cols[n]], errors="coerce") for n in (year_name, part_name))
    for name, v, lo, hi in ((year_name, year, 1000, 2999), (part_name, part, 1, per_year)):
        bad = v.isna() | (v != v.round()) | (v < lo) | (v > hi)
        if bad.any():
            raise LstmkitError(f"time column {name!r} holds {df[cols[name]][bad].tolist()[0]!r}, not a "
                               f"{'year' if name == year_name else part_name.lower()} ({lo}-{hi})",
                               "fix that cell, or pass one date column as --time")
    month = part if per_year == 12 else 3 * part - 2
    return pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}).astype("int64"))


def period_parts(stamps: pd.DatetimeIndex, spec: str) -> dict[str, np.ndarray]:
    """The year and month (quarter) columns ``spec`` names (``"Year,Month"``) of the dates
    :func:`period_time` made: a forecast of a table read that way is written that way."""
    year_name, part_name = (s.strip() for s in spec.split(",", 1))
    part = stamps.month if PERIOD_PARTS[part_name.lower()] == 12 else stamps.quarter
    return {year_name: np.asarray(stamps.year, dtype=np.int64), part_name: np.asarray(part, dtype=np.int64)}
