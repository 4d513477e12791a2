"""Forecasting data: read a table and check its columns.

    load_table(data)               path / DataFrame / array  ->  DataFrame
    column_list / numeric_column: the column checks that
    :func:`lstmkit.tasks.forecast.panel.read_panel` (the one reader) applies (time columns:
    :mod:`lstmkit.tasks.forecast.times`)

A file is read by :func:`lstmkit.data.tables.read_frame`, as every task reads its tables (a
spreadsheet's or a logger's export reads as it is); a ``.tsf`` file of the Monash forecasting archive
by :func:`lstmkit.tasks.forecast.tsffile.read_tsf`, as the long table of its series.

Every user mistake (missing file, unknown column, text in a numeric column, empty cells,
duplicate timestamps, a series too short to split) raises :class:`LstmkitError` with a fix.
"""
from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.data.arrays import EXACT_INT, INT_TOLERANCE, arrow_as_frame, plain_array
from lstmkit.data.columns import SUMMARY_ROWS, summary_cell
from lstmkit.data.tables import is_stdin, read_frame
from lstmkit.data.textfile import (blank_rows, check_flat_columns, check_unique_columns, closest_name, comma_decimals,
                                   dot_two_ways, row_place, without_row_numbers)
from lstmkit.errors import BadValue, LstmkitError, callers_level, named_opt, opt, warnings_caught, worded
from lstmkit.tasks.forecast.tsffile import is_tsf, read_tsf

__all__ = ["load_table", "plain_data", "column_list", "one_role_each", "numeric_column", "numbers_or_none", "any_number",
           "check_totals_row"]


# -- reading ---------------------------------------------------------------------------------
def load_table(data: Any) -> pd.DataFrame:
    """Read ``data`` into a new DataFrame.

    ``data`` may be a path to ``.csv`` / ``.tsv`` / ``.txt`` (separator sniffed) / ``.parquet`` /
    ``.xlsx`` (the first sheet with cells) / ``.json`` (records or columns) / ``.jsonl`` (one record per line)
    (CSV-like and JSON files may be compressed, e.g. ``.csv.gz``) / ``.tsf`` (the Monash archive's, or
    compressed: ``.tsf.gz``, ``.bz2``, ``.xz``, a ``.zip`` of one ``.tsf``: the long table of its series),
    a DataFrame (copied), a pandas Series, or a numpy array / list / torch tensor: 1-D becomes column ``"y"``, 2-D
    columns ``"y0", "y1", …`` (a masked array's masked cells are missing values), a pyarrow Table
    (its DataFrame), a pyarrow Array or ChunkedArray (its Series), a list of records (``df.to_dict("records")``: their table), a range, a
    generator or a pandas array (``pd.array(values)``: the list of its values).
    """
    data = plain_data(data)
    if isinstance(data, (str, os.PathLike)):
        df = read_tsf(data) if is_tsf(Path(data)) else _read_file(Path(data))
    elif isinstance(data, pd.DataFrame):
        check_flat_columns(data, " of the DataFrame")
        check_unique_columns(data, " of the DataFrame")
        df = _plain_pandas(data.copy())
    elif isinstance(data, pd.Series):
        df = _plain_pandas(data.to_frame(name=data.name if data.name is not None else "y"))
    elif isinstance(data, (np.ndarray, list, tuple)) or hasattr(data, "detach"):     # numpy, lists, torch
        df = _array_to_frame(plain_array(data))
    else:
        raise LstmkitError(f"unsupported data type {type(data).__name__}",
                           "pass a CSV/Parquet path, a pandas DataFrame, or a numpy array" + (
                               " (a dict of columns: pd.DataFrame(d))" if isinstance(data, dict) else ""))
    if len(df) == 0 or df.shape[1] == 0:
        if df.shape[1] and isinstance(data, (str, os.PathLike)):    # a header alone: named as classify's reader does
            raise BadValue(f"{'standard input' if is_stdin(data) else data} has a header but no data rows",
                           "supply at least one data row")
        raise BadValue("the data has no rows" if df.shape[1] else "the data has no columns",
                       "supply a table with a header row and at least one data row")
    return without_row_numbers(df)         # the index to_csv wrote: it was a target, a series (wide) or a feature


def plain_data(data: Any) -> Any:
    """In-memory ``data`` as the DataFrame, Series or list it stands for: a pyarrow Table's frame,
    a pyarrow Array's or ChunkedArray's Series (they were 'unsupported data type'), a list of records' table (it was one column of dicts), a range's or a generator's list (read
    once: the readers after go over it again), a pandas array's Series; anything else as it is."""
    data = arrow_as_frame(data)
    if hasattr(data, "to_pandas") and hasattr(data, "null_count"):      # a pyarrow Array or ChunkedArray: one column
        data = data.to_pandas()
    if isinstance(data, (range, Iterator)):
        data = list(data)
    elif isinstance(data, pd.api.extensions.ExtensionArray):
        data = pd.Series(data)
    if isinstance(data, list) and data and all(isinstance(row, dict) for row in data):
        data = pd.DataFrame.from_records(data)
    return data


def _read_file(path: Path) -> pd.DataFrame:
    """A table file every task reads (:func:`~lstmkit.data.tables.read_frame`); an unknown type's
    fix names the .tsf files forecasting reads as well."""
    try:
        return read_frame(path)
    except LstmkitError as e:
        if e.message.startswith("unknown file type") and e.hint:
            raise LstmkitError(e.message, e.hint.replace(" (or convert", ", .tsf (.gz, .bz2, .xz, .zst or .zip too) "
                                                                          "(or convert")) from None
        raise


def _plain_pandas(df: pd.DataFrame) -> pd.DataFrame:
    """A frame's periods as timestamps (a ``PeriodIndex`` or period column, as statsmodels' datasets
    and ``resample`` give them: their first instant), and an index of several named levels with
    dates among them, e.g. ``(store, date)`` from a groupby, as columns; the reader then finds the
    time as in a file (the periods were read as no time at all, and the rows as one series)."""
    if isinstance(df.index, pd.MultiIndex):
        if all(n is not None for n in df.index.names) and any(
                isinstance(level, (pd.DatetimeIndex, pd.PeriodIndex)) for level in df.index.levels):
            df = df.reset_index()
    elif isinstance(df.index, pd.PeriodIndex):
        df.index = df.index.to_timestamp()
    for c in df.columns:
        if isinstance(df[c].dtype, pd.PeriodDtype):
            df[c] = df[c].dt.to_timestamp()
    return df


def _array_to_frame(data: Any) -> pd.DataFrame:
    try:
        a = np.asarray(data)
    except ValueError as e:  # ragged nested lists
        raise LstmkitError(f"could not turn the data into an array: {e}", "pass rows of equal length") from None
    if a.ndim == 1:
        return pd.DataFrame({"y": a})
    if a.ndim == 2:
        return pd.DataFrame(a, columns=[f"y{j}" for j in range(a.shape[1])])
    raise LstmkitError(f"Expected a 1-D or 2-D array, got shape {a.shape}",
                       "pass one series as [N] or several as [N, C]")


def column_list(role: str, spec: Any, lookup: dict[str, Any], required: bool = False,
                under_header: pd.Series | None = None) -> list[str]:
    """The column names ``spec`` gives (a comma-separated text or a list), each one of ``lookup``'s
    (a name given stripped finds the one column that is it with spaces around); a missing one is an error suggesting a close name, or, when it is a cell of ``under_header``
    (the table's first row), saying the header spans two rows."""
    if spec is None:
        names: list[str] = []
    elif isinstance(spec, str):
        names = [s.strip() for s in spec.split(",") if s.strip()]
    else:
        names = [str(s).strip() for s in spec]
    names = list(dict.fromkeys(_padded_name(n, lookup) for n in names))  # drop repeats, keep order
    if required and not names:
        raise LstmkitError(f"no {role} column given", f"name one of: {_preview(lookup)}")
    missing = [n for n in names if n not in lookup]
    below = [str(v).strip() for v in under_header.tolist()] if under_header is not None else []
    if missing and missing[0] in below:                  # 'Sales' merged over 'North', 'South'
        raise LstmkitError(f"{role} column {missing[0]!r} not found: it is a cell of the first row under the header "
                           f"({row_place(under_header.to_frame().T, 0)}), a second header row (names under merged "
                           "cells?)", "make the header one row of names (e.g. Sales North, Sales South) and delete "
                           "the row under it")
    if missing:
        what = "column" if len(missing) == 1 else "columns"
        close = closest_name(missing[0], list(lookup))
        guess = f" (did you mean {close!r}?)" if close else ""
        raise LstmkitError(f"{role} {what} {', '.join(map(repr, missing))} not found{guess}",
                           f"available columns: {_preview(lookup)}")
    return names


def _padded_name(name: str, lookup: dict[str, Any]) -> str:
    """``name``, or the one column that is ``name`` with spaces around it (a spreadsheet's ``' Sales'``:
    the name given, stripped, could never match it, and the column chosen without a name was not found)."""
    if name in lookup:
        return name
    padded = [c for c in lookup if c.strip() == name]
    return padded[0] if len(padded) == 1 else name


def one_role_each(id_col: str | None, time_col: str | None, values: dict[str, list[str]]) -> None:
    """An error when the id or the time column is also a column of values (``values``: role -> its
    columns): the time as a target was 'not numeric: found 2024-01-01', the id as the target a
    series per value, each 'too short'."""
    for role, col in (("id", id_col), ("time", time_col)):
        roles = {**values, "time": [time_col]} if role == "id" else values
        other = next((r for r, cols in roles.items() if col is not None and col in cols), None)
        if other is not None:
            raise LstmkitError(f"column {col!r} is the {role} column and {'the' if other == 'time' else 'a'} {other}"
                               f"{' column' if other == 'time' else ''}",
                               f"give each its own column: {opt(role)} names the column that "
                               f"{'tells the series apart' if role == 'id' else 'orders the rows'}, "
                               f"{opt('target')} the values to forecast, {opt('features')} other inputs")


def _preview(lookup: dict[str, Any], limit: int = 30) -> str:
    names = list(lookup)
    more = f", … ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def numeric_column(col: pd.Series, name: str, yes_no: bool = True) -> pd.Series:
    """Column as float64 with NaN for empty cells; text that is not a number is an error (with
    ``yes_no``, a column of yes / no, true / false or y / n reads as 1 and 0)."""
    grouped = col.attrs.get("dot_groups", {}).get(name)
    if grouped is not None:                     # 1.032 beside 976 in a semicolon file
        raise dot_two_ways(name, grouped[1], row_place(col, grouped[0]))
    if pd.api.types.is_bool_dtype(col):        # True / False cells (a CSV's, a workbook's): as yes / no text
        if not yes_no:
            raise LstmkitError(f"column {name!r} holds True/False, not numbers", "choose a column of numbers")
        warnings.warn(f"column {name!r} holds True/False: read as 1 and 0", UserWarning, stacklevel=callers_level())
        out = col.astype(np.float64)
    elif pd.api.types.is_numeric_dtype(col):
        if pd.api.types.is_complex_dtype(col):
            raise LstmkitError(f"column {name!r} holds complex numbers", "use real-valued columns")
        out = _float_of_integers(col, name, col) if pd.api.types.is_integer_dtype(col) else col.astype(np.float64)
    elif pd.api.types.is_datetime64_any_dtype(col) or isinstance(col.dtype, pd.PeriodDtype):
        raise LstmkitError(f"column {name!r} holds dates, not numbers",
                           f"pass it as the time column ({named_opt('time', name)}) instead")
    else:
        text = col.astype("string").str.strip()
        text = text.mask(text == "")
        sep = (col.attrs.get("csv_file") or (None, None))[1]          # ";": a European file's formats
        out = pd.to_numeric(text, errors="coerce")
        if not pd.api.types.is_integer_dtype(out) and text.str.fullmatch(_INTEGER).all():    # beyond uint64
            out = text.astype(object).map(int, na_action="ignore")
        out = _float_of_integers(out, name, col) if pd.api.types.is_integer_dtype(out) or out.dtype == object \
            else out.astype(np.float64)
        bad = out.isna() & text.notna()
        flags = _yes_no(text) if bad.any() and yes_no else None
        if flags is not None:                  # yes / no, true / false, y / n: 1 and 0
            warnings.warn(f"column {name!r} holds {'/'.join(sorted(set(text.dropna().str.lower()), reverse=True))}: "
                          f"read as 1 and 0", UserWarning, stacklevel=callers_level())
            out, bad = flags, bad & False
        if bad.any():                          # a spreadsheet's formats ($1,010.37, 12%) are numbers too
            formatted = formatted_numbers(text[bad], sep)
            if not formatted.notna().all():
                bad &= formatted.isna().reindex(bad.index, fill_value=False).astype(bool)  # a cell that is neither
            elif not text[bad].str.fullmatch(_GROUPS_ONLY).all():
                _check_one_scale(text, bad, formatted, name, col)
                cell = str(text[bad].iloc[0])
                warnings.warn(f"column {name!r} holds formatted numbers ({cell!r}): read as {formatted.iloc[0]:.15g}, "
                              f"without currency signs, thousands separators and % signs",
                              UserWarning, stacklevel=callers_level())
                out[bad], bad[:] = formatted, False
        if bad.any():                          # a meter's export: 12.5 kWh, 21 °C
            measured = _unit_numbers(text, bad, sep, name, col)
            if measured is not None:
                values, unit = measured
                cell = str(text[values.index[0]])
                warnings.warn(f"column {name!r} holds numbers with a unit ({cell!r}): read as {values.iloc[0]:.15g}, "
                              f"in {unit}; forecasts are in {unit} too", UserWarning, stacklevel=callers_level())
                out[values.index], bad[values.index] = values, False
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            cell = str(text.iloc[pos])
            if text[bad].str.fullmatch(_GROUPS_ONLY).all():     # the hint for decimal commas misled on 1,234
                raise LstmkitError(
                    f"column {name!r} holds numbers that read two ways: {cell!r} in {row_place(col, pos)} "
                    f"({_cells(int(bad.sum()), 'such')}) is {cell.replace(',', '')} with a thousands separator, "
                    f"or {cell.replace(',', '.')} with a decimal comma", "write the numbers without thousands "
                    f"separators ({cell.replace(',', '')}) or with a decimal point ({cell.replace(',', '.')})")
            if sep == ";" and re.fullmatch(_FORMATTED_COMMA, cell) and re.search(r"\d\.\d{3}", cell):
                raise dot_two_ways(name, cell, row_place(col, pos))   # € 1.032: formatted_numbers left it
            if cell == str(name).strip():        # exports joined with their header lines
                raise LstmkitError(f"column {name!r} holds its own name {cell!r} in {row_place(col, pos)} "
                                   f"({_cells(int((text == cell).sum()), 'such')}): the header line repeated (files "
                                   "joined with their headers?)", "delete the repeated header lines")
            if re.fullmatch(_SHEET_ERRORS, cell, flags=re.IGNORECASE) or cell in _DASHES:
                what = "a formula's error" if cell.startswith("#") else "a dash, for none or for zero"
                raise LstmkitError(
                    f"column {name!r} is not numeric: found {cell!r} in {row_place(col, pos)} ({what}; "
                    f"{_cells(int(bad.sum()), 'non-numeric')})",
                    ("fix the formula, or " if cell.startswith("#") else "write 0 where it means zero, or ") +
                    "leave the cell empty and train with " + worded("--fill ffill|interpolate|zero",
                                                                   "fill='ffill' (or 'interpolate', 'zero')"))
            raise LstmkitError(
                f"column {name!r} is not numeric: found {cell!r} in {row_place(col, pos)} "
                f"({_cells(int(bad.sum()), 'non-numeric')})",
                "write numbers with a decimal point (10.5), or save the file separated by semicolons so that "
                "decimal commas read" if formatted_numbers(pd.Series([cell]), ";").notna().all() else
                "the first row under the header looks like a second header (units?): delete it"
                if pos == 0 and bad.sum() == 1 and len(bad) > 1 else
                "choose numeric columns for the target/features, or clean those cells")
    return _within_float32(out, name, col)


def check_totals_row(df: pd.DataFrame, values: dict[str, np.ndarray], targets: list[str]) -> None:
    """An :class:`LstmkitError` when the last rows of ``df`` (a table read in file order, no time
    column; ``values``: its number columns read) hold a spreadsheet's summary row: a cell reading
    Total, Sum, Average, … (:data:`SUMMARY_WORDS`) found once in its column, or each target the sum
    of the rows above, which hold at least 3 and half of them non-zero values (a sparse count's
    last 3 may be 1 + 2 above it). It was trained as the series' last value."""
    filled = np.flatnonzero(~blank_rows(df)) if len(df) else []       # a spreadsheet's ,,, lines after it
    n = int(filled[-1]) + 1 if len(filled) else 0
    if n < 4:
        return
    for k in filled[-SUMMARY_ROWS:]:           # Total, then Average: the first summary row is named
        word = summary_cell(df, int(k))
        if word is not None and k >= 3:
            raise LstmkitError(f"{'the last row' if k == n - 1 else 'a row near the end'} ({row_place(df, int(k))}) "
                               f"looks like a summary ({word}), not a step of the series: it would be trained as one",
                               "delete that row (and any other summary rows) from the data")
    sums = []
    for c in targets:
        above, total = values[c][:n - 1], values[c][n - 1]
        nonzero = int(np.count_nonzero(np.nan_to_num(above)))
        if not (np.isfinite(total) and nonzero >= max(3, len(above) / 2)
                and np.isclose(total, np.nansum(above), rtol=1e-6, atol=0)):
            break
        sums.append(f"{c} {total:g}")
    else:
        raise LstmkitError(f"the last row ({row_place(df, n - 1)}) looks like a total ({', '.join(sums)}: the sum of "
                           "the rows above), not a step of the series: it would be trained as the series' last value",
                           "delete that row (and any other summary rows) from the data")




def _check_one_scale(text: pd.Series, formatted_cells: pd.Series, formatted: pd.Series, name: str,
                     col: pd.Series) -> None:
    """An :class:`LstmkitError` when ``text`` mixes percentages (``12%``, read as 12) with plain
    numbers (``0.11``): a sheet shows 0.12 as 12% where the cell is formatted so, and the column
    would jump between two scales."""
    percent = formatted_cells & text.str.endswith("%").fillna(False)
    plain = text.notna() & ~text.str.endswith("%").fillna(False)          # 0.11, or 0,11 in a semicolon file
    if percent.any() and plain.any():
        p, q = int(np.flatnonzero(percent.to_numpy())[0]), int(np.flatnonzero(plain.to_numpy())[0])
        value = float(formatted[percent].iloc[0])
        raise LstmkitError(
            f"column {name!r} mixes percentages ({text.iloc[p]!r} in {row_place(col, p)}) with plain numbers "
            f"({text.iloc[q]!r} in {row_place(col, q)}): is {text.iloc[p]} {value / 100:g} or {value:g}?",
            "format the column one way: every cell as a percentage, or every cell as a plain number")


# a number with a unit after it (12.5 kWh, 21°C, 3 m³, 80 km/h, 5.2 mg/dL): the number as a spreadsheet
# formats it, the unit letters (and °, µ, ², ³, /, ·), with at least one letter or a degree sign
_WITH_UNIT = (r"(?P<num>[^\s].*?)\s*"
              r"(?P<unit>(?=[^\d\s]*[^\W\d_°])(?:[^\W\d_]|[°µ²³/·])+(?:\s(?:[^\W\d_]|[°µ²³/·])+)?)")


_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_MAGNITUDES = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "bn": 1e9}     # 9.4k: 9400, not a unit


def _unit_numbers(text: pd.Series, bad: pd.Series, sep: str | None, name: str,
                  col: pd.Series) -> tuple[pd.Series, str] | None:
    """The cells ``bad`` of ``text`` that are numbers with a unit (:data:`_WITH_UNIT`), read as
    the numbers, and the unit; None when none is. An :class:`LstmkitError` when two units are
    mixed (kWh beside Wh) or numbers with a unit beside plain ones (9.4k beside 9400: a scale the
    plain ones may not be in)."""
    parts = text[bad].str.extract(f"^{_WITH_UNIT}$")
    number = pd.to_numeric(parts["num"].astype(object), errors="coerce").astype(np.float64)
    number = number.where(number.notna(), formatted_numbers(parts["num"].fillna(""), sep))
    read = number.notna() & ~parts["unit"].str.fullmatch(_MONTH, case=False, na=False)    # 5 Jan is a date
    if not read.any():
        return None
    units, place = parts["unit"][read], lambda k: row_place(col, int(text.index.get_loc(k)))
    first = units.index[0]
    other = units.index[units != units.iloc[0]]
    if len(other):
        raise LstmkitError(f"column {name!r} mixes units: {text[first]!r} in {place(first)}, {text[other[0]]!r} "
                           f"in {place(other[0])}", "convert the column to one unit (and name it in the "
                           "column's name), or split it into a column per unit")
    plain = text.notna() & ~bad
    if plain.any():
        k, unit = plain.index[plain.to_numpy()][0], str(units.iloc[0])
        if unit in _MAGNITUDES:               # 9.4k beside 9400: a dashboard's short numbers
            full = f"{number[first] * _MAGNITUDES[unit]:g}"
            raise LstmkitError(f"column {name!r} mixes short numbers ({text[first]!r} in {place(first)}: {full}?) "
                               f"with numbers written in full ({text[k]!r} in {place(k)})",
                               f"write every number in full ({full}), without {unit!r}")
        raise LstmkitError(f"column {name!r} mixes numbers with a unit ({text[first]!r} in {place(first)}) and "
                           f"without ({text[k]!r} in {place(k)}): is {text[k]} in {units.iloc[0]}?",
                           f"write every cell of the column one way: each number with its unit, or none (the "
                           f"unit in the column's name)")
    return number[read].astype(np.float64), str(units.iloc[0])


_YES_NO = ({"yes", "no"}, {"true", "false"}, {"y", "n"})
# what a spreadsheet shows in a cell whose formula failed (#N/A and empty cells read as missing already), and
# what a German, French, Spanish, Italian or Dutch one shows (#NV, #WERT!, #VALEUR!, #¡VALOR!, #N/D, #WAARDE!, …)
_SHEET_ERRORS = (r"#(DIV/0!|VALUE!|REF!|NAME\?|NUM!|NULL!|N/A|SPILL!|CALC!|GETTING_DATA"
                 r"|NV|WERT!|BEZUG!|ZAHL!|ÜBERLAUF!|VALEUR!|NOMBRE!|NOM\?|NUL!|N/D|¡VALOR!|¡REF!|¿NOMBRE\?|¡NUM!"
                 r"|¡NULO!|¡DIV/0!|VALORE!|RIF!|NOME\?|NULLO!|N/B|WAARDE!|VERW!|NAAM\?|GETAL!|LEEG!)")
_DASHES = {"-", "--", "\u2013", "\u2014"}           # an accountant's dash: nothing, or zero


def _yes_no(text: pd.Series) -> pd.Series | None:
    """A column of yes / no (true / false, y / n; any case) as 1.0 / 0.0 (NaN where empty), or None."""
    cells = text.dropna().str.lower()
    found = set(cells)
    pair = next((p for p in _YES_NO if found and found <= p), None)
    if pair is None:
        return None
    (yes,), (no,) = pair & {"yes", "true", "y"}, pair - {"yes", "true", "y"}
    return text.str.lower().map({yes: 1.0, no: 0.0}).astype(np.float64)


def numbers_or_none(col: pd.Series, yes_no: bool = True) -> pd.Series | None:
    """``col`` read as :func:`numeric_column` reads it, quietly; None when it holds text."""
    try:
        with warnings_caught():
            warnings.simplefilter("ignore")
            return numeric_column(col, str(col.name), yes_no)
    except LstmkitError:
        return None


def any_number(col: pd.Series) -> bool:
    """Whether any cell of ``col`` reads as a number, plain or as a spreadsheet formats it."""
    text = col.astype("string").str.strip()
    return bool(pd.to_numeric(text, errors="coerce").notna().any() or formatted_numbers(text.dropna()).notna().any())


# a number as spreadsheets format it: a currency sign, thousands grouped by commas (or by apostrophes, as
# Swiss ones: 1'234.50), a % sign, an accountant's parentheses for a negative amount ($1,234.50  -€12  (1,234)
# 12.5%  1 234 is not one), a typographic minus (U+2212: −0.5, as Swedish and Finnish spreadsheets and web
# tables write it), or a minus after the number (120-, as SAP and mainframe reports write it)
_FORMATTED = (r"(?P<open>\()?(?P<sign>[-+\u2212])?\s*[$€£¥]?\s*(?P<sign2>[-+\u2212])?"
              r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d{1,3}(?:['\u2019]\d{3})+(?:\.\d*)?|\d+(?:\.\d*)?|\.\d+)"
              r"\s*(?:%|[$€£¥])?(?P<trail>-)?(?(open)\))")


# one comma before three digits and nothing else: 1,234 is a thousand or a decimal comma (left an error)
_GROUPS_ONLY = r"[-+]?\d{1,3},\d{3}"


def formatted_numbers(text: pd.Series, sep: str | None = None) -> pd.Series:
    """``text`` (stripped strings) read as numbers formatted by a spreadsheet (:data:`_FORMATTED`),
    NaN in the cells that are something else. In a file separated by ``sep`` = ``";"``, whose
    decimal mark is the comma, as a European spreadsheet formats them (``€ 1.234,50``, ``12,5 %``,
    ``-3,40 €``: :data:`_FORMATTED_COMMA`, the number by :func:`comma_decimals`)."""
    parts = text.str.extract(f"^{_FORMATTED}$").fillna("").astype(str)
    value = pd.to_numeric(parts["num"].str.replace(r"[,'\u2019]", "", regex=True), errors="coerce").astype(np.float64)
    negative = ((parts["open"] == "(") | parts["sign"].isin(["-", "\u2212"]) | parts["sign2"].isin(["-", "\u2212"])
                | (parts["trail"] == "-"))
    value = value.where(~negative, -value)
    if sep != ";":
        return value
    value = value.mask(text.str.contains(r"\d\.\d{3}(?!\d)", na=False) & ~text.str.contains(",", regex=False))
    parts = text.str.extract(f"^{_FORMATTED_COMMA}$")
    number = (parts["sign"].fillna(parts["trail"]).fillna("") + parts["num"]).str.replace("\u2212", "-", regex=False)
    comma = comma_decimals(number.astype(object), sep) if parts["num"].notna().any() else None
    if comma is None:            # no decimal comma among them: a dot (€ 1.032) may group thousands: not read
        comma = pd.to_numeric(number.mask(number.str.fullmatch(r"-?\d{1,3}(\.\d{3})+", na=False)), errors="coerce")
    comma = pd.Series(comma, index=text.index, dtype=np.float64)
    return comma.where(comma.notna(), value)


# the same with a decimal comma, thousands grouped by dots or (no-break) spaces
_FORMATTED_COMMA = (r"(?P<sign>[-+\u2212])?\s*(?:[$€£¥]|EUR)?\s*"
                    r"(?P<num>\d{1,3}(?:[. \u00a0\u202f]\d{3})+(?:,\d*)?|\d+(?:,\d*)?|,\d+)\s*(?:%|[$€£¥]|EUR)?"
                    r"(?P<trail>-)?")


F32_MAX = float(np.finfo(np.float32).max)


def _within_float32(out: pd.Series, name: str, col: pd.Series) -> pd.Series:
    """``out`` when every value is empty or a finite float32 number; else the first other one
    is an error naming its row (the model computes in float32: 1e300 would become inf)."""
    values = out.to_numpy()
    bad = np.abs(values) > F32_MAX                    # inf too; NaN (an empty cell) is not
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise LstmkitError(f"column {name!r} holds {values[pos]:g} in {row_place(col, pos)}, beyond the float32 range "
                           f"(|x| <= 3.4e38; {_cells(int(bad.sum()), 'such')})",
                           "fix or empty those cells (and rescale the column if its values are that large)")
    return out


_INTEGER = r"[+-]?\d+"                 # a cell of digits only


def _float_of_integers(ints: pd.Series, name: str, col: pd.Series) -> pd.Series:
    """Integers ``ints`` as float64 (NaN where empty); an error when rounding moves a value by more
    than a millionth of the column's range: integers such as 9223372036854775000 + t differ only in
    digits a float64 does not keep, and would read as one constant."""
    out = ints.astype(np.float64)
    big = np.flatnonzero((out.abs() > EXACT_INT).to_numpy())
    if len(big) == 0:
        return out
    moved = np.array([abs(int(out.iloc[k]) - int(ints.iloc[k])) for k in big])       # exact, in Python ints
    exact = [int(v) for v in ints.dropna()]
    if moved.max() <= INT_TOLERANCE * (max(exact) - min(exact)):
        return out
    pos = int(big[np.argmax(moved > 0)])
    raise LstmkitError(f"column {name!r} holds integers too large to tell apart as numbers: {int(ints.iloc[pos])} in "
                       f"{row_place(col, pos)} reads as {int(out.iloc[pos])} (floating point keeps about 16 digits, "
                       f"and the column's values differ only beyond them)",
                       f"subtract a common offset first (e.g. {name} - {min(exact)}), or forecast the differences")


def _cells(n: int, kind: str) -> str:
    """``"1 non-numeric cell"``, ``"3 such cells"``."""
    return f"{n} {kind} cell{'s' * (n != 1)}"
