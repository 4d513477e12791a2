"""Forecasting data: read a table and check its columns.

    load_table(data)               path / DataFrame / array  ->  DataFrame
    column_list / numeric_column: the column checks that
    :func:`lstmkit.tasks.forecast.panel.read_panel` (the one reader) applies (time columns:
    :mod:`lstmkit.tasks.forecast.times`)

A spreadsheet's or a logger's export reads as it is: a UTF-16/UTF-32 byte-order mark names the
encoding, a ``.csv`` whose header has semicolons or tabs instead of commas is read with them, and
a semicolon (or tab) file's decimal commas are read as numbers (:mod:`lstmkit.data.textfile`).

Every user mistake (missing file, unknown column, text in a numeric column, empty cells,
duplicate timestamps, a series too short to split) raises :class:`LstmkitError` with a fix.
"""
from __future__ import annotations

import bz2
import csv
import gzip
import lzma
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.data.textfile import bom_encoding, check_text, closest_name, comma_decimals, header_separator
from lstmkit.errors import LstmkitError
from lstmkit.runs import path_exists

__all__ = ["load_table", "column_list", "numeric_column", "numbers_or_none"]

_CSV_LIKE = {".csv": ",", ".tsv": "\t", ".txt": None}  # None: sniff the separator
_PARQUET = {".parquet", ".pq"}
_EXCEL = {".xlsx", ".xlsm"}
_JSON = {".json": False, ".jsonl": True, ".ndjson": True}    # records (or columns) / one record per line
_COMPRESSED = {".gz", ".bz2", ".zip", ".xz", ".zst"}
_OPEN = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_HEAD = 1 << 16                      # bytes read to find the encoding and the header line


# -- reading ---------------------------------------------------------------------------------
def load_table(data: Any) -> pd.DataFrame:
    """Read ``data`` into a new DataFrame.

    ``data`` may be a path to ``.csv`` / ``.tsv`` / ``.txt`` (separator sniffed) / ``.parquet`` /
    ``.xlsx`` (the first sheet) / ``.json`` (records or columns) / ``.jsonl`` (one record per line)
    (CSV-like and JSON files may be compressed, e.g. ``.csv.gz``), a DataFrame (copied), a pandas Series,
    or a numpy array / list: 1-D becomes column ``"y"``, 2-D columns ``"y0", "y1", …``.
    """
    if isinstance(data, (str, os.PathLike)):
        df = _read_file(Path(data))
    elif isinstance(data, pd.DataFrame):
        df = _plain_pandas(data.copy())
    elif isinstance(data, pd.Series):
        df = _plain_pandas(data.to_frame(name=data.name if data.name is not None else "y"))
    elif isinstance(data, (np.ndarray, list, tuple)):
        df = _array_to_frame(data)
    else:
        raise LstmkitError(f"unsupported data type {type(data).__name__}",
                           "pass a CSV/Parquet path, a pandas DataFrame, or a numpy array")
    if len(df) == 0 or df.shape[1] == 0:
        raise LstmkitError("the data has no rows" if df.shape[1] else "the data has no columns",
                           "supply a table with a header row and at least one data row")
    return df


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


def _read_file(path: Path) -> pd.DataFrame:
    if not path_exists(path):
        raise LstmkitError(f"file not found: {path}", "check the path")
    if path.is_dir():
        raise LstmkitError(f"{path} is a directory, not a data file", "point to a .csv or .parquet file inside it")
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext == ".xls":
        raise LstmkitError(f"{path.name} is an Excel 97-2003 workbook (.xls)",
                           "save it as .xlsx (Excel Workbook) or as CSV UTF-8")
    if ext not in _CSV_LIKE and ext not in _PARQUET and ext not in _EXCEL and ext not in _JSON:
        known = ", ".join([*_CSV_LIKE, *sorted(_PARQUET), *sorted(_EXCEL), *_JSON])
        raise LstmkitError(f"unknown file type {ext or '(no extension)'!r}: {path}",
                           f"use one of: {known} (or convert the file to CSV)")
    if ext in _EXCEL:
        return _read_excel(path)
    try:
        if ext in _PARQUET:
            return pd.read_parquet(path)
        if ext in _JSON:
            check_text(_head(path, path.suffix.lower() if path.suffix.lower() in _COMPRESSED else ""), path)
            return pd.read_json(path, lines=_JSON[ext])
        last = path.suffix.lower()
        head = _head(path, last if last in _COMPRESSED else "")
        check_text(head, path)
        encoding = bom_encoding(head)
        header = head.decode(encoding or "utf-8", errors="replace").lstrip("\ufeff").split("\n", 1)[0]
        sep = header_separator(header, _CSV_LIKE[ext])
        header_row: int | None = 0

        def read(enc):
            return pd.read_csv(path, sep=sep, encoding=enc, engine="python" if sep is None else "c", header=header_row)
        try:
            df = read(encoding)
        except UnicodeDecodeError as e:
            if encoding is not None:
                raise
            encoding = "cp1252"     # a spreadsheet's "CSV" on Windows: names such as Température in Windows-1252
            df = read(encoding)
            warnings.warn(f"{path.name} is not UTF-8 (byte 0x{e.object[e.start]:02x}): read as Windows-1252 "
                          f"(Western European); if its column names look wrong, save it as UTF-8", stacklevel=2)
        if _header_is_data(df.columns):         # no header line: its first line is the first row
            header_row = None
            df = read(encoding)
            df.columns = [f"column_{k + 1}" for k in range(df.shape[1])]
            warnings.warn(f"{path.name} has no header line (its first line, {header.strip()[:40]!r}, is data): "
                          f"its columns are named {', '.join(df.columns[:4])}{', …' if df.shape[1] > 4 else ''}; "
                          f"add a header line to name them", UserWarning, stacklevel=2)
        for c in df.columns:                     # decimal commas (10,5) in a semicolon / tab file
            numbers = comma_decimals(df[c], sep)
            if numbers is not None:
                df[c] = numbers
        return df
    except pd.errors.EmptyDataError:
        raise LstmkitError(f"file is empty: {path}", "supply a table with a header row and data rows") from None
    except (ValueError, OSError, csv.Error, ImportError) as e:
        # pandas' ParserError, pyarrow's ArrowInvalid and UnicodeDecodeError are all ValueErrors.
        kind = "Parquet" if ext in _PARQUET else "JSON" if ext in _JSON else "CSV"
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if isinstance(e, UnicodeDecodeError):      # cp1252 read last; else the encoding its byte-order mark named
            what = "neither UTF-8 nor Windows-1252" if e.encoding in ("cp1252", "charmap") else f"not valid {e.encoding}"
            raise LstmkitError(f"could not read {path}: it is {what} text",
                               "save it as UTF-8 (in a spreadsheet: CSV UTF-8)") from None
        raise LstmkitError(f"could not read {path}: {reason}",
                           f"check that it is a valid {kind} file" + (" (UTF-8 text)" if kind == "CSV" else
                           " (records: [{\"date\": ..., \"y\": ...}, ...])" if kind == "JSON" else "")) from None


def _header_is_data(names) -> bool:
    """Whether a header line reads as data: every name a number or a date, one of them not a
    whole number (a header of years, ``2019,2020``, stays a header)."""
    names = [str(n).strip() for n in names]
    numbers = pd.to_numeric(pd.Series(names), errors="coerce")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dates = pd.to_datetime(pd.Series(names), errors="coerce", format="mixed")
    dated = dates.notna() & pd.Series(names).str.contains(r"\d{4}|\d{1,2}[./-]\d{1,2}[./-]\d{2}")
    data = numbers.notna() | dated
    whole = numbers.notna() & (numbers == numbers.round()) & ~pd.Series(names).str.contains(r"[.eE]")
    return bool(len(names) and data.all() and not whole.all())


def _read_excel(path: Path) -> pd.DataFrame:
    """The first sheet of an Excel workbook (a warning names the others); a file Excel would not
    open, or a missing openpyxl, is an :class:`LstmkitError`."""
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            names = book.sheet_names
            df = pd.read_excel(book, sheet_name=names[0])
    except ImportError:
        raise LstmkitError(f"reading {path.name} needs the openpyxl package",
                           "pip install openpyxl, or save the sheet as CSV UTF-8") from None
    except Exception as e:                 # openpyxl's errors for a damaged or foreign file have no common base
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LstmkitError(f"could not read {path} as an Excel workbook: {reason}",
                           "open and save it in a spreadsheet as .xlsx, or save the sheet as CSV UTF-8") from None
    if len(names) > 1:
        warnings.warn(f"{path.name} has {len(names)} sheets: read the first, {names[0]!r} (not "
                      f"{', '.join(map(repr, names[1:4]))}{', …' if len(names) > 4 else ''}); move the data "
                      f"to the first sheet or save it as CSV to read another", UserWarning, stacklevel=3)
    return df.dropna(how="all").dropna(axis=1, how="all")      # a sheet's formatted but empty rows and columns


def _head(path: Path, compression: str) -> bytes:
    """The first bytes of ``path``'s content (decompressed); empty when they cannot be had here
    (``.zst``; a broken archive is left for the reader to report)."""
    try:
        if compression == ".zip":
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
                return z.open(names[0]).read(_HEAD) if names else b""
        if compression in _OPEN:
            with _OPEN[compression](path, "rb") as f:
                return f.read(_HEAD)
        if compression:
            return b""
        with open(path, "rb") as f:
            return f.read(_HEAD)
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError):
        return b""


def column_list(role: str, spec: Any, lookup: dict[str, Any], required: bool = False) -> list[str]:
    if spec is None:
        names: list[str] = []
    elif isinstance(spec, str):
        names = [s.strip() for s in spec.split(",") if s.strip()]
    else:
        names = [str(s).strip() for s in spec]
    names = list(dict.fromkeys(names))  # drop repeats, keep order
    if required and not names:
        raise LstmkitError(f"no {role} column given", f"name one of: {_preview(lookup)}")
    missing = [n for n in names if n not in lookup]
    if missing:
        what = "column" if len(missing) == 1 else "columns"
        close = closest_name(missing[0], list(lookup))
        guess = f" (did you mean {close!r}?)" if close else ""
        raise LstmkitError(f"{role} {what} {', '.join(map(repr, missing))} not found{guess}",
                           f"available columns: {_preview(lookup)}")
    return names


def _preview(lookup: dict[str, Any], limit: int = 30) -> str:
    names = list(lookup)
    more = f", … ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def numeric_column(col: pd.Series, name: str, yes_no: bool = True) -> pd.Series:
    """Column as float64 with NaN for empty cells; text that is not a number is an error (with
    ``yes_no``, a column of yes / no, true / false or y / n reads as 1 and 0)."""
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        if pd.api.types.is_complex_dtype(col):
            raise LstmkitError(f"column {name!r} holds complex numbers", "use real-valued columns")
        out = col.astype(np.float64)
    elif pd.api.types.is_datetime64_any_dtype(col) or isinstance(col.dtype, pd.PeriodDtype):
        raise LstmkitError(f"column {name!r} holds dates, not numbers",
                           f"pass it as the time column (--time {name}) instead")
    else:
        text = col.astype("string").str.strip()
        text = text.mask(text == "")
        out = pd.to_numeric(text, errors="coerce").astype(np.float64)
        bad = out.isna() & text.notna()
        flags = _yes_no(text) if bad.any() and yes_no else None
        if flags is not None:                  # yes / no, true / false, y / n: 1 and 0
            warnings.warn(f"column {name!r} holds {'/'.join(sorted(set(text.dropna().str.lower()), reverse=True))}: "
                          f"read as 1 and 0", UserWarning, stacklevel=2)
            out, bad = flags, bad & False
        if bad.any():                          # a spreadsheet's formats ($1,010.37, 12%) are numbers too
            formatted = formatted_numbers(text[bad])
            if not formatted.notna().all():
                bad[bad] = formatted.isna()       # the error names a cell that is neither
            elif not text[bad].str.fullmatch(_GROUPS_ONLY).all():
                cell = str(text[bad].iloc[0])
                warnings.warn(f"column {name!r} holds formatted numbers ({cell!r}): read as {formatted.iloc[0]:g}, "
                              f"without currency signs, thousands separators and % signs", UserWarning, stacklevel=2)
                out[bad], bad[:] = formatted, False
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            cell = str(text.iloc[pos])
            raise LstmkitError(
                f"column {name!r} is not numeric: found {cell!r} in row {pos} ({int(bad.sum())} non-numeric cells)",
                "write numbers with a decimal point (10.5), or save the file separated by semicolons so that "
                "decimal commas read" if comma_decimals(pd.Series([cell]), ";") is not None else
                "the first row under the header looks like a second header (units?): delete it"
                if pos == 0 and bad.sum() == 1 and len(bad) > 1 else
                "choose numeric columns for the target/features, or clean those cells")
    return _within_float32(out, name)


_YES_NO = ({"yes", "no"}, {"true", "false"}, {"y", "n"})


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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return numeric_column(col, str(col.name), yes_no)
    except LstmkitError:
        return None


# a number as spreadsheets format it: a currency sign, thousands grouped by commas, a % sign, an
# accountant's parentheses for a negative amount ($1,234.50  -€12  (1,234)  12.5%  1 234 is not one)
_FORMATTED = (r"(?P<open>\()?(?P<sign>[-+])?\s*[$€£¥]?\s*(?P<sign2>[-+])?"
              r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+(?:\.\d*)?|\.\d+)\s*(?:%|[$€£¥])?(?(open)\))")


# one comma before three digits and nothing else: 1,234 is a thousand or a decimal comma (left an error)
_GROUPS_ONLY = r"[-+]?\d{1,3},\d{3}"


def formatted_numbers(text: pd.Series) -> pd.Series:
    """``text`` (stripped strings) read as numbers formatted by a spreadsheet (:data:`_FORMATTED`),
    NaN in the cells that are something else."""
    parts = text.str.extract(f"^{_FORMATTED}$").fillna("").astype(str)
    value = pd.to_numeric(parts["num"].str.replace(",", "", regex=False), errors="coerce").astype(np.float64)
    negative = (parts["open"] == "(") | (parts["sign"] == "-") | (parts["sign2"] == "-")
    return value.where(~negative, -value)


F32_MAX = float(np.finfo(np.float32).max)


def _within_float32(out: pd.Series, name: str) -> pd.Series:
    """``out`` when every value is empty or a finite float32 number; else the first other one
    is an error naming its row (the model computes in float32: 1e300 would become inf)."""
    values = out.to_numpy()
    bad = np.abs(values) > F32_MAX                    # inf too; NaN (an empty cell) is not
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise LstmkitError(f"column {name!r} holds {values[pos]:g} in row {pos}, beyond the float32 range "
                           f"(|x| <= 3.4e38; {int(bad.sum())} such cells)",
                           "fix or empty those cells (and rescale the column if its values are that large)")
    return out
