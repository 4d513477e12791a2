"""A forecasting table's layout, read into one long table and the names of its columns.

    frame_columns(data, cfg)       path / DataFrame  ->  (long table, id column, time column, targets)

Long tables (one row per series and step) are read as they are; wide ones (a time column and one
column per series), M4's files (one row per series) and the Monash archive's ``.tsf`` files (a line
per series: :mod:`~lstmkit.tasks.forecast.tsffile`) are made long. The table's blank rows are
dropped, and an id column is read as the series' names (:func:`series_labels`).
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.data.columns import unnamed_and_empty
from lstmkit.data.textfile import blank_rows
from lstmkit.errors import LstmkitError, callers_level, in_file, opt, warnings_caught
from lstmkit.tasks.forecast.data import any_number, load_table, numbers_or_none, numeric_column
from lstmkit.tasks.forecast.integer_times import integer_dates, period_time
from lstmkit.tasks.forecast.times import date_columns
from lstmkit.tasks.forecast.tsffile import is_tsf

__all__ = ["frame_columns", "series_labels", "series_codes", "drop_blank_rows", "index_time", "check_dates_given",
           "dated", "FROM_INDEX"]

FROM_INDEX = "index"     # in the time record (auto_): true when the time is the training data's date index


def frame_columns(data, cfg) -> tuple[pd.DataFrame, str | None, str | None, list[str]]:
    """The long table and its id / time / target columns (M4's wide files are made long here).

    A table without a time column whose index holds dates (e.g. a pandas Series of a
    DatetimeIndex) gets that index as its time column; so does a table whose date index bears
    the named time column's name (``df.set_index(time)``) or none, when it has no such column."""
    if cfg.format != "long" and is_tsf(data):
        raise LstmkitError(f"{opt('format', cfg.format)} does not apply to {Path(data).name}: a .tsf file is read as "
                           "the long table of its series", f"drop {opt('format')}")
    if cfg.format == "m4":
        if not isinstance(data, (str, bytes)) and not hasattr(data, "__fspath__"):
            if isinstance(data, pd.DataFrame) and {"id", "t", "value"} <= set(map(str, data.columns)):
                return data, "id", "t", list(cfg.target) or ["value"]
            raise LstmkitError(f"{opt('format', 'm4')} reads a file path", "pass the path of an M4 *-train.csv file")
        from lstmkit.tasks.forecast.m4 import read_m4_wide
        return read_m4_wide(data), "id", "t", list(cfg.target) or ["value"]
    if cfg.format not in ("long", "wide"):
        raise LstmkitError(f"unknown data format {cfg.format!r}{in_file('format')}", "use long, wide or m4")
    df, time = load_table(data), cfg.time
    if time is None and dated(df.index):
        time = str(df.index.name) if df.index.name is not None else "time"
        if time in map(str, df.columns):
            raise LstmkitError(f"the table's date index and a column are both named {time!r}",
                               f"pass {opt('time', 'COLUMN', written=True)} to say which one holds the time")
        df = df.rename_axis(time).reset_index()
    elif _time_in_index(df, time):              # df.set_index(time): what resample and index_col give
        df = df.rename_axis(time).reset_index()
    if time is not None:
        df = drop_blank_rows(df)
        if "," in str(time) and time not in df.columns:          # year and month (quarter) columns
            df[time] = period_time(df, time)
    if cfg.format == "wide":
        return _long_of_wide(df, cfg, time)
    return df, cfg.id, time, list(cfg.target)


def _time_in_index(df: pd.DataFrame, time: str | None) -> bool:
    """Whether the named ``time`` column is the frame's date index rather than one of its columns: an
    index of that name, or one of no name (a Series' dates, as a model fitted on them recorded
    them: :func:`index_time`); one named otherwise is not."""
    return (time is not None and dated(df.index)
            and (df.index.name is None or str(df.index.name) == str(time)) and str(time) not in map(str, df.columns))


def index_time(data) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """The time of a table (read by ``load_table``) that names none and whose index holds dates (a
    pandas Series of a DatetimeIndex): the index's name, ``time`` when it has none, and the record
    of that choice (``auto_``, ``lstmkit.json``). A model fitted so reads its data in that order
    at prediction too: a date index or a column of that name, which it sorts by (the rows were
    read in the order given, a reversed frame forecast from its first rows). None when the index
    holds no dates, or its name is a column too (:func:`frame_columns` says which is which)."""
    if not isinstance(data, pd.DataFrame) or not dated(data.index):
        return None, {}
    time = str(data.index.name) if data.index.name is not None else "time"
    if time in map(str, data.columns):
        return None, {}
    return time, {"time": {"value": time, FROM_INDEX: True,
                           "why": "the data's date index; at prediction a date index or a column of that name"}}


def check_dates_given(data, time: str) -> None:
    """An error when in-memory ``data`` for a model whose time was its training data's date index
    has no dates: no date index and no ``time`` column (an array, a list, a frame of values), whose
    rows would be read in the order given. Files name their columns: read as usual."""
    if isinstance(data, (str, bytes)) or hasattr(data, "__fspath__"):
        return
    if isinstance(data, (pd.Series, pd.DataFrame)):
        index = data.index
        levels = index.levels if isinstance(index, pd.MultiIndex) else [index]
        if any(isinstance(level, (pd.DatetimeIndex, pd.PeriodIndex)) for level in levels) or _date_texts(index):
            return
        if time in map(str, getattr(data, "columns", [])) or time in map(str, index.names):
            return
    kind = type(data).__name__
    raise LstmkitError(f"the model was trained on data ordered by its date index ({time!r}), and this {kind} has no "
                       "dates: its rows cannot be put in time order",
                       f"pass the data with its dates: a pandas Series or DataFrame with a DatetimeIndex, or a table "
                       f"with a {time!r} column")


def dated(index: pd.Index) -> bool:
    """Whether ``index`` holds the dates of its rows: a DatetimeIndex, or texts that are dates
    (``"2020-01-01"``, ...: a Series built from a dict, a file read with ``index_col`` and no
    ``parse_dates``), which are then read as a time column's cells are (one order of day and month,
    ``--dates``; an ambiguous or unreadable one an error), or a named index of integers a time
    column's would be read as (years, ``yyyymm``, ``yyyymmdd``, Unix times: ``df.set_index("year")``;
    an unnamed one is the rows' numbers, as a slice's 1000, 1001, … are)."""
    return isinstance(index, pd.DatetimeIndex) or _date_texts(index) or _date_numbers(index)


def _date_numbers(index: pd.Index) -> bool:
    return (index.name is not None and not isinstance(index, pd.MultiIndex)
            and integer_dates(index.to_series(index=range(len(index)))) is not None)


def _date_texts(index: pd.Index) -> bool:
    """Whether ``index`` (one level) holds texts that are dates, as a time column's cells are
    (:func:`~lstmkit.tasks.forecast.times.date_columns`)."""
    if isinstance(index, pd.MultiIndex) or not len(index) or not (
            pd.api.types.is_object_dtype(index) or pd.api.types.is_string_dtype(index)):
        return False
    if not all(isinstance(v, str) for v in index):
        return False
    return bool(date_columns(pd.DataFrame({"index": index.to_numpy()})))


def _long_of_wide(df: pd.DataFrame, cfg, time: str | None) -> tuple[pd.DataFrame, str, str, list[str]]:
    """A wide table (a time column, one column per series, inputs shared by every series) as the
    long one: ``(series, time, value, inputs...)``; a table that is long already (a service
    request, a frame built from the run's columns) as it is. Rows are the series' steps in order
    when there is no time column (then ``t``)."""
    idc, value = cfg.id or "series", (list(cfg.target) or ["value"])[0]
    names = list(map(str, df.columns))
    if idc in names and value in names:
        return df, idc, time, [value]
    for name in (idc, value):
        if name in names:
            raise LstmkitError(f"{opt('format', 'wide')} names its series column {idc!r} and its values {value!r}, "
                               f"and the table has a column {name!r} already", "rename that column")
    lookup = {str(c): c for c in df.columns}
    shared = [c for c in (*cfg.past_covariates, *cfg.features, *cfg.future_covariates) if c in lookup]
    keep = [lookup[c] for c in ([time] if time is not None else []) + shared]
    series = [c for c in df.columns if c not in keep and not unnamed_and_empty(df[c])]
    if not series:
        raise LstmkitError(f"{opt('format', 'wide')} found no series columns besides the time and inputs",
                           "give a table with a time column and one column per series")
    for c in (*series, *(lookup[s] for s in shared)):     # checked on the file's rows, which name a bad cell
        if numbers_or_none(df[c]) is None:
            if c in series and not any_number(df[c]):
                raise LstmkitError(f"{opt('format', 'wide')} reads every column besides the time as a series, and {c!r} "
                                   f"holds text (e.g. {str(df[c].dropna().iloc[0])[:30]!r})",
                                   f"drop it from the table, or pass it as an input ({opt('features')}) if it is one")
            numeric_column(df[c], str(c))          # raises: the cell, its line (sheet row) in the file, the fix
    _check_total_column(df, series)
    if time is None:
        df = df.assign(t=np.arange(len(df)))
        time, keep = "t", [*keep, "t"]
    long = df.melt(id_vars=keep, value_vars=series, var_name=idc, value_name=value)
    long[idc] = long[idc].astype(str)
    # a series that starts late (a shop opened in March) has empty cells above its first value: the table's
    # shape, no rows of it, as a long table has none (they were empty cells of the series, refused unless
    # --fill, whose zeros then trained on a closed shop); a column without a value keeps its rows, to be named
    blank = long[value].isna() | (long[value].astype("string").str.strip() == "").fillna(False).to_numpy()
    started = (~blank).groupby(long[idc], sort=False).cummax()
    long = long[started | ~started.groupby(long[idc], sort=False).transform("any")]
    long.attrs = {k: v for k, v in df.attrs.items() if k == "date1904"}   # its rows are no file's rows (its
                                                                          # cells were checked above)
    return long, idc, time, [value]


def _check_total_column(df: pd.DataFrame, series: list) -> None:
    """An :class:`LstmkitError` when one of a wide table's ``series`` columns (3 or more) is a
    spreadsheet's total or average of the others: in every row where all of them have a value
    (at least 3, half of them non-zero), the sum (the mean) of the other columns, to a thousandth
    (a sheet's total of rounded values). It was trained, forecast and scored as a series of its own."""
    if len(series) < 3:
        return
    with warnings_caught():
        warnings.simplefilter("ignore")          # formatted numbers were said when checked
        values = np.column_stack([numbers_or_none(df[c]).to_numpy(dtype=np.float64) for c in series])
    values = values[np.isfinite(values).all(axis=1)]
    if len(values) < 3:
        return
    others = values.sum(axis=1, keepdims=True) - values          # each column's others, summed
    n = len(series)
    for what, of_others in (("total", others), ("average", others / (n - 1))):
        match = np.isclose(values, of_others, rtol=1e-3, atol=0).all(axis=0)
        match &= np.count_nonzero(values, axis=0) >= max(3, len(values) / 2)
        if match.any():
            c = series[int(np.flatnonzero(match)[0])]
            parts = [str(p) for p in series if p is not c]
            shown = ", ".join(parts[:3]) + (", …" if len(parts) > 3 else "")
            raise LstmkitError(f"column {str(c)!r} of the wide table is the {what} of the other series ({shown}) in "
                               f"every row: a spreadsheet's {what} column, not a series; {opt('format', 'wide')} "
                               "would train, forecast and score it as one", "delete that column from the table")


def series_labels(col: pd.Series, name: str) -> pd.Series:
    """An id column as the series' names (text, without the spaces around it: ``"A "`` is ``"A"``);
    whole numbers as such (``7``, not the ``7.0`` of a column pandas made float); an empty or blank
    cell is an error (its rows would belong to no series)."""
    col = _whole_as_integers(col)
    text = col.astype(str).str.strip().mask(col.isna(), "")
    _no_empty_ids((text == "").to_numpy(), name)
    return text


def series_codes(col: pd.Series, name: str) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(series_labels(col, name), sort=False)``: each row's series number (0, 1, ... in order of
    first appearance) and the series' names, with the same error for an empty cell. A column of texts or
    integers is written as text, stripped and checked a distinct value at a time, its rows only numbered
    (a panel of 1,024 series of 200 rows wrote 204,800 texts); a column whose distinct values could write
    alike as text yet hash apart, or alike yet write apart (``1`` and ``1.0`` in one object column),
    is read a row at a time, as :func:`series_labels` reads it."""
    col = _whole_as_integers(col)
    if not _distinct_as_text(col):
        return pd.factorize(series_labels(col, name), sort=False)
    raw_codes, raw = pd.factorize(col, sort=False)              # NA: -1
    text = pd.Series(raw).astype(str).str.strip()
    blank = (text == "").to_numpy()
    _no_empty_ids((raw_codes < 0) | blank[raw_codes], name)     # (-1 reads the last; the first term holds it)
    codes, uniq = pd.factorize(text, sort=False)               # 'A' and 'A ' one series, first seen first
    return codes[raw_codes], uniq


def _whole_as_integers(col: pd.Series) -> pd.Series:
    """A float id column of whole numbers as integers (``7``, not ``7.0``), as every id is named."""
    if pd.api.types.is_float_dtype(col) and (col.dropna() == col.dropna().round()).all():
        return col.astype("Int64")
    return col


def _distinct_as_text(col: pd.Series) -> bool:
    """Whether two cells of ``col`` are equal exactly when their texts are: integers, and texts (a string
    column, or an object column of only texts and empty cells)."""
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return False
    if pd.api.types.is_integer_dtype(dtype) or isinstance(dtype, pd.StringDtype):
        return True
    return dtype == object and pd.api.types.infer_dtype(col, skipna=True) == "string"


def _no_empty_ids(empty: np.ndarray, name: str) -> None:
    """The error for the rows of id column ``name`` marked ``empty`` (an empty or blank cell), if any."""
    if empty.any():
        k = int(empty.sum())
        raise LstmkitError(f"id column {name!r} has {k} empty cell{'s' * (k != 1)}",
                           "every row needs the id of its series: fill those cells or drop those rows")


def drop_blank_rows(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` without its rows that are empty in every column (a spreadsheet's ``,,`` lines after the
    data, or between blocks): they have no time to place them at. A warning when some are not at
    the end (a gap there is then read as the time column says)."""
    blank = blank_rows(df)
    if not blank.any():
        return df
    inside = int(blank[: len(blank) - int(np.argmin(blank[::-1]))].sum()) if not blank.all() else 0
    if inside:
        warnings.warn(f"{inside} empty row{'s' * (inside != 1)} between the data rows skipped", UserWarning,
                      stacklevel=callers_level())
    return df.iloc[np.flatnonzero(~blank)]
