"""Reading a table file, the same way for every task.

    read_frame(path)              .csv / .tsv / .txt / .xlsx / .parquet / .json / .jsonl -> DataFrame
    read_table(path, encoding)    the same files as a DataFrame of strings (empty cells ``""``):
                                  the texts, labels and sentence pairs of classify, translate and lm
    is_table(path)                whether ``path`` names a file :func:`read_table` reads
    pipe_as_file(path)            a pipe (``<(zcat f.csv.gz)``, a named pipe, ``-`` for standard input) read
                                  once, as a file of its bytes (compressed bytes decompressed)

A spreadsheet's or a logger's export reads as it is: a UTF-16/UTF-32 byte-order mark names the
encoding, a ``.csv`` whose header has semicolons or tabs instead of commas is read with them, a
semicolon (or tab) file's decimal commas are read as numbers (:mod:`lstmkit.data.textfile`; a
column whose dots may group thousands, 1.032 beside 976, is marked in ``attrs["dot_groups"]`` for
the reader of numbers to refuse), a CSV and a workbook's first sheet with cells are read from
their header row (under any title and blank rows), the sheet without its formatted but empty
rows, its date system in ``attrs["date1904"]`` (Mac Excel's 1904 one: True); a workbook read for
texts keeps its cells as written (``None``, ``NA`` are texts). A tab-separated file that quotes
nothing (GLUE's SST-2, Common Voice) is one row per line, its quote marks text; a quoted one (a
spreadsheet's, pandas') reads by CSV rules (the rule: :func:`lstmkit.data.quoting.tsv_quoting`).
JSON beyond records: :mod:`lstmkit.data.json_tables`. A missing file, one that cannot be read as its type, and a
missing reader package (openpyxl for ``.xlsx``, pyarrow for ``.parquet``) are each one
:class:`LstmkitError` naming the fix.
"""
from __future__ import annotations

import atexit
import csv
import io
import json
import re
import shutil
import sys
import tempfile
import warnings
from functools import partial
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pandas as pd

from lstmkit.data.compressed import COMPRESSIONS, compression, open_data, read_data
from lstmkit.data.decoding import check_not_cut, mac_line_ends, magic_suffix
from lstmkit.data.json_tables import JSON_PLACES, json_after_all, misread_object, parse_jsonl
from lstmkit.data.quoting import tsv_quoting, unquoted_names
from lstmkit.data.textfile import (JSONL, TABLE_SEP, bom_encoding, check_text, comma_decimals, dot_groups, file_ext,
                                   check_row_widths, header_cells, header_separator, may_group_thousands, parse_table,
                                   read_text_file, renamed_columns, separator_line, unique_names, without_implicit_index)
from lstmkit.errors import LstmkitError, MissingPackage, callers_level, missing_path_fix, warnings_caught
from lstmkit.runs import path_exists

__all__ = ["read_frame", "read_table", "is_table", "unknown_type", "pipe_as_file", "is_pipe", "is_stdin", "SHEETS", "PARQUET", "FEATHER"]

SHEETS = {".xlsx", ".xlsm"}
PARQUET = {".parquet", ".pq"}
FEATHER = {".feather", ".arrow"}     # Arrow's IPC file (pandas' to_feather, R's arrow::write_feather)
_CSV_LIKE = {".csv": ",", ".tsv": "\t", ".txt": None}  # None: sniff the separator
_JSON = {".json": False, ".jsonl": True, ".ndjson": True}    # records (or columns) / one record per line
_HEAD = 1 << 16                      # bytes read to find the encoding and the header line
_DOT_ROWS = 1000                     # rows whose text is read first to rule out thousands dots (dot_groups)


def is_table(path: Path) -> bool:
    """Whether ``path`` names a CSV / TSV / JSONL file (optionally compressed), a workbook, a Parquet
    or a Feather file."""
    ext = file_ext(path)
    return ext in TABLE_SEP or ext in JSONL or ext in SHEETS or ext in PARQUET or ext in FEATHER


def is_pipe(path: Path) -> bool:
    """Whether ``path`` is a pipe (a named one, ``<(…)``'s ``/dev/fd/63``, a piped ``/dev/stdin``)
    or standard input's file under its ``/dev`` name, which has no extension to read it by; or ``-``,
    standard input itself (:func:`is_stdin`)."""
    return is_stdin(path) or path_exists(path) and (path.is_fifo() or (path.parts[:2] == ("/", "dev") and not file_ext(path)
                                                     and path.is_file()))


@contextmanager
def pipe_as_file(path: Path, given: bytes | None = None, suffix: str = ""):
    """The pipe ``path`` (:func:`is_pipe`) as a temporary file of its bytes, read once, under its own
    name, or as ``.csv`` / ``.tsv`` / ``.parquet`` when it has no extension and its content is one.
    The readers open a file several times (its head, then the whole): a named pipe's second open
    waited for a writer for ever, and ``--data <(zcat f.csv.gz)`` (``/dev/fd/63``) was 'unknown file
    type'. An error raised while the copy is read names the pipe, not the copy. The copy stays until
    the process ends: a message about a row reads its file again for the row's line. ``given``: the
    bytes of ``-`` when they were read already (``classify predict`` reads lines unless a header comes),
    ``suffix`` the type they are known to be (a one-column CSV has no separator to tell it by)."""
    stdin = is_stdin(path)
    shown = "standard input" if stdin else str(path)
    tmp = tempfile.mkdtemp(prefix="lstmkit-pipe-")
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    copy = Path(tmp) / (("stdin" if stdin else path.name) + suffix)
    source = io.BytesIO(given) if given is not None else _stdin_bytes() if stdin else open(path, "rb")
    with source as stream, open(copy, "wb") as target:
        shutil.copyfileobj(stream, target)
    # the copy under any of the names it takes, after either separator (Windows' backslash too)
    named = re.compile(re.escape(tmp) + r"[/\\][^\s:;,()'\"]*")
    try:
        if copy.stat().st_size == 0:
            raise LstmkitError(f"{shown} is empty: nothing was read from it",
                               "supply a table with a header row and data rows")
        if not file_ext(copy):
            copy = _typed_copy(copy)
            if not file_ext(copy):
                raise LstmkitError(f"{shown} holds no table lstmkit can read: not CSV or TSV text with a header "
                                   "row, JSON, Parquet, Feather or a workbook, nor one of those compressed",
                                   "pipe a CSV file with a header row, or pass the file's path")
        yield copy
    except LstmkitError as e:
        e.message, e.hint = (None if t is None else named.sub(shown, t) for t in (e.message, e.hint))
        e.args = (e.message,)
        raise


def is_stdin(path: str | Path) -> bool:
    """Whether ``path`` is ``-``, the command line's name for standard input."""
    return str(path) == "-"


@contextmanager
def _stdin_bytes():
    """Standard input's bytes (``--data -``); a terminal there (nothing piped in) is an error, not a wait."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None or stream.closed or sys.stdin.isatty():
        raise LstmkitError("--data - reads the table from standard input, but nothing is piped into it",
                           "pipe the table in (cat data.csv | lstmkit ... --data -), or pass the file's path")
    yield stream


def _typed_copy(copy: Path) -> Path:
    """A pipe's copy ``copy`` (no extension) renamed for its content: ``.parquet``, ``.feather``, a
    workbook's ``.xlsx``, ``.csv`` / ``.tsv`` text, JSON; a compressed stream (``gzip -c f.csv |``) is
    decompressed first, its content then named alike. Unknown content keeps its name
    (:func:`pipe_as_file` then refuses it)."""
    kind = magic_suffix(_head(copy, raw=True))
    if kind == ".zip" and _is_workbook(copy):
        kind = ".xlsx"
    elif kind in COMPRESSIONS:
        packed = copy.rename(copy.with_name(copy.name + ".packed" + kind))
        with open_data(packed) as source, open(copy, "wb") as target:
            shutil.copyfileobj(source, target)
        packed.unlink()
        kind = magic_suffix(_head(copy, raw=True))
    suffix = kind if kind in (".parquet", ".feather", ".xlsx") else _text_table_suffix(copy) or _json_suffix(copy)
    return copy if suffix is None else copy.rename(copy.with_name(copy.name + suffix))


def _json_suffix(path: Path) -> str | None:
    """``".jsonl"`` when the file ``path`` starts with a line that is one JSON object (JSON Lines),
    ``".json"`` when it starts with ``[`` or ``{`` otherwise; else None."""
    text = _head(path, raw=True).decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if text[:1] == "[":
        return ".json"
    if text[:1] != "{":
        return None
    try:
        return ".jsonl" if isinstance(json.loads(text.split("\n", 1)[0]), dict) else ".json"
    except ValueError:
        return ".json"


def _is_workbook(path: Path) -> bool:
    """Whether the zip file ``path`` is an Excel workbook (an Office Open XML package with a workbook part)."""
    import zipfile
    try:
        with zipfile.ZipFile(path) as z:
            return "xl/workbook.xml" in z.namelist()
    except zipfile.BadZipFile:
        return False


def read_table(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    """A CSV / TSV / JSONL file (optionally compressed), a workbook's first sheet or a Parquet file as
    a DataFrame of strings (a missing cell ``""``; a whole number as ``"3"``, not ``"3.0"``), at
    least one row. A ``sep=;`` first line (Excel's) names a text table's separator. A TSV's quote
    marks are text unless they are a writer's quoting (:func:`lstmkit.data.quoting.tsv_quoting`:
    each quoted cell closed right before a tab or the line end and needing its quotes, or in a
    column quoted throughout; where both readings make whole tables, one row per line, warned)."""
    if is_pipe(Path(path)):
        with pipe_as_file(Path(path)) as copy:
            return read_table(copy, encoding)
    ext = file_ext(path)
    if not is_table(path):
        raise unknown_type(path, "use .csv, .tsv, .jsonl (optionally .gz, .bz2, .xz, .zst or .zip), .xlsx or .parquet, "
                                 "or a folder of class folders")
    if ext in SHEETS or ext in PARQUET or ext in FEATHER:
        df = read_frame(path, cells_as_written=True)
        if len(df) == 0:
            raise LstmkitError(f"{path} has a header but no data rows", "supply at least one data row")
        attrs = dict(df.attrs)
        if ext in SHEETS:                  # the empty sheet rows dropped: where they were, for row_place
            kept = set(df.index.tolist())
            attrs["blank_lines"] = [k + attrs["first_line"] for k in range(max(kept)) if k not in kept]
        # integral floats (a number column with empty cells) as whole numbers, then every cell as text
        out = df.convert_dtypes().astype("string").fillna("").astype(object).reset_index(drop=True)
        for c in _columns_of_lists(df):      # kept as they are: str() would make "['good' 'film']" a text
            out[c] = df[c].to_numpy()
        out.attrs = attrs
        return out
    text = read_text_file(path, encoding)
    if ext in JSONL:
        return parse_jsonl(text, path)
    text, sep, first_line = separator_line(text, path)
    return parse_table(text, path, sep or header_separator(text.split("\n", 1)[0], TABLE_SEP[ext]), first_line=first_line)


def _columns_of_lists(df: pd.DataFrame) -> list:
    """The columns of ``df`` (a Parquet file's) with a cell of several values: a list (an array) or a dict."""
    import numpy as np
    return [c for c in df.columns if df[c].dtype == object
            and df[c].map(lambda v: isinstance(v, (list, tuple, dict, np.ndarray))).any()]


def read_frame(path: str | Path, cells_as_written: bool = False) -> pd.DataFrame:
    """The table in the file ``path``, its columns typed as pandas reads them: ``.csv`` / ``.tsv`` /
    ``.txt`` (separator sniffed), ``.xlsx`` (the first sheet with cells), ``.parquet``, ``.feather``
    (``.arrow``), ``.json`` (records or
    columns), ``.jsonl``; CSV-like and JSON files may be compressed (``.csv.gz``, ``.bz2``, ``.xz``, a
    ``.zip`` of one file: :mod:`lstmkit.data.compressed`). ``cells_as_written``: a workbook's text
    cells ``None``, ``NA``, ``null`` stay texts (a class named None), only empty cells are missing."""
    path = Path(path)
    if is_stdin(path):
        with pipe_as_file(path) as copy:
            return read_frame(copy, cells_as_written)
    if not path_exists(path):
        raise LstmkitError(f"file not found: {path}", missing_path_fix(path, "check the path"))
    if path.is_dir():
        raise LstmkitError(f"{path} is a directory, not a data file", "point to a .csv or .parquet file inside it")
    if is_pipe(path):
        with pipe_as_file(path) as copy:
            return read_frame(copy, cells_as_written)
    ext = file_ext(path)
    if ext == ".xls":
        raise LstmkitError(f"{path.name} is an Excel 97-2003 workbook (.xls)",
                           "save it as .xlsx (Excel Workbook) or as CSV UTF-8")
    if ext not in _CSV_LIKE and ext not in PARQUET and ext not in FEATHER and ext not in SHEETS and ext not in _JSON:
        known = ", ".join([*_CSV_LIKE, *sorted(PARQUET), *sorted(FEATHER), *sorted(SHEETS), *_JSON])
        raise unknown_type(path, f"use one of: {known} (or convert the file to CSV)")
    if ext in SHEETS:
        return _read_excel(path, cells_as_written)
    if ext in PARQUET:
        return _read_columnar(path, pd.read_parquet, "a Parquet file")
    if ext in FEATHER:
        return _read_columnar(path, pd.read_feather, "a Feather file")
    sep, quoting = None, csv.QUOTE_MINIMAL             # a CSV's, once read from its head
    try:
        if ext in _JSON:
            check_text(_head(path), path)
            try:
                df = pd.read_json(io.BytesIO(read_data(path)) if compression(path) else path, lines=_JSON[ext])
                if not _JSON[ext] and misread_object(df):
                    df = json_after_all(_whole_text(path), path, lines=False)
            except ValueError:
                df = json_after_all(_whole_text(path), path, lines=_JSON[ext])
            df.attrs.update(JSON_PLACES[_JSON[ext]])
            return df
        head = _head(path)
        check_text(head, path)
        encoding = bom_encoding(head)
        rest, named, first_line = separator_line(
            mac_line_ends(head.decode(encoding or "utf-8", errors="replace").lstrip("\ufeff")), path)
        header = rest.split("\n", 1)[0]
        sep = named or header_separator(header, _CSV_LIKE[ext])
        engine = "python" if sep is None else "c"
        quoting = csv.QUOTE_NONE if sep == "\t" and _quotes_are_text(path, encoding) else csv.QUOTE_MINIMAL
        # no header line (its first line is data): told from the names pandas gives the first line, read from
        # the head, so the file is read once; a first line the head does not hold whole (a line over 64 KiB)
        # is judged after the read, which is then made again without a header
        whole = bool(rest.strip()) and ("\n" in rest or len(head) < _HEAD)
        header_row: int | None = 0
        if whole and _header_is_data(pd.read_csv(io.StringIO(rest), sep=sep, engine=engine, nrows=1,
                                                 quoting=quoting).columns):
            header_row = None

        def read(enc, **kw):    # Excel's sep=; line (first_line 2) skipped: pandas then counts the file's lines
            with open_data(path) if compression(path) else nullcontext(path) as source:
                return pd.read_csv(source, sep=sep, encoding=enc, engine=engine, header=header_row,
                                   skiprows=first_line - 1, quoting=quoting, **kw)
        try:
            df = read(encoding)
        except UnicodeDecodeError as e:
            if encoding is not None:
                raise
            if e.reason == "unexpected end of data":     # cut short, not Windows-1252: read as it, silently wrong
                check_not_cut(read_data(path), path)
            encoding = "cp1252"     # a spreadsheet's "CSV" on Windows: names such as Température in Windows-1252
            df = read(encoding)
            warnings.warn(f"{path.name} is not UTF-8 (byte 0x{e.object[e.start]:02x}): read as Windows-1252 "
                          f"(Western European); if its column names look wrong, save it as UTF-8",
                          stacklevel=callers_level())
        if not whole and _header_is_data(df.columns):
            header_row = None
            df = read(encoding)
        if header_row == 0:                  # a cell more than the header: not the row names pandas takes it for
            df = without_implicit_index(df, partial(read, encoding), partial(_wide_rows, path, encoding, sep,
                                                                         quoting != csv.QUOTE_NONE))
        if header_row == 0 and quoting == csv.QUOTE_NONE:        # a program's quoted header line over literal data
            df.columns = unquoted_names(df.columns)
        if header_row == 0 and sep is not None and renamed_columns(df.columns):
            unique_names(header_cells(rest, sep), path)
        if header_row is None:
            df.columns = [f"column_{k + 1}" for k in range(df.shape[1])]
            warnings.warn(f"{path.name} has no header line (its first line, {header.strip()[:40]!r}, is data): "
                          f"its columns are named {', '.join(df.columns[:4])}{', …' if df.shape[1] > 4 else ''}; "
                          f"add a header line to name them", UserWarning, stacklevel=callers_level())
        commas = False
        for c in df.columns:                     # decimal commas (10,5) in a semicolon / tab file
            numbers = comma_decimals(df[c], sep)
            if numbers is not None:
                df[c], commas = numbers, True
        floats = [k for k, c in enumerate(df.columns)
                  if (sep == ";" or (sep == "\t" and commas)) and pd.api.types.is_float_dtype(df[c])]
        if floats:                               # 1.032 beside 976: a thousands dot read as a decimal point?
            # the text of the first rows rules out most float columns (a dotted cell such as 12.5 groups no
            # thousands); the rest are read as text whole (a small file's first rows are all of it)
            raw = read(encoding, dtype=str, usecols=floats, nrows=_DOT_ROWS)
            if len(raw) == _DOT_ROWS:
                floats = [k for j, k in enumerate(floats) if may_group_thousands(raw.iloc[:, j])]
                raw = read(encoding, dtype=str, usecols=floats) if floats else raw.iloc[:, :0]
            grouped = {str(df.columns[k]): dot_groups(raw.iloc[:, j], sep, commas) for j, k in enumerate(floats)}
            df.attrs["dot_groups"] = {c: g for c, g in grouped.items() if g is not None}
        if sep is not None:                      # messages name its lines (row_place)
            df.attrs["csv_file"] = (str(path), sep, encoding or "utf-8", first_line, header_row == 0,
                                    quoting != csv.QUOTE_NONE)
        return df
    except pd.errors.EmptyDataError:
        raise LstmkitError(f"file is empty: {path}", "supply a table with a header row and data rows") from None
    except (ValueError, OSError, csv.Error, ImportError) as e:
        # pandas' ParserError, pyarrow's ArrowInvalid and UnicodeDecodeError are all ValueErrors.
        if isinstance(e, pd.errors.ParserError) and "Expected" in str(e) and sep is not None:
            _wide_rows(path, encoding, sep, quoting != csv.QUOTE_NONE)
        kind = "JSON" if ext in _JSON else "CSV"
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if isinstance(e, UnicodeDecodeError):      # cp1252 read last; else the encoding its byte-order mark named
            what = "neither UTF-8 nor Windows-1252" if e.encoding in ("cp1252", "charmap") else f"not valid {e.encoding}"
            raise LstmkitError(f"could not read {path}: it is {what} text",
                               "save it as UTF-8 (in a spreadsheet: CSV UTF-8)") from None
        raise LstmkitError(f"could not read {path}: {reason}",
                           f"check that it is a valid {kind} file" + (" (UTF-8 text)" if kind == "CSV" else
                           " (records: [{\"date\": ..., \"y\": ...}, ...])" if kind == "JSON" else "")) from None


def _quotes_are_text(path: Path, encoding: str | None) -> bool:
    """Whether the quote marks of the tab-separated file ``path`` are text
    (:func:`lstmkit.data.quoting.tsv_quoting`), judged on its whole text."""
    text, _, first_line = separator_line(_whole_text(path, encoding))
    return not tsv_quoting(text, path, first_line)


def _wide_rows(path: Path, encoding: str | None, sep: str, quoting: bool) -> None:
    """:func:`~lstmkit.data.textfile.check_row_widths` over the file's text (past Excel's ``sep=`` line)."""
    text, _, first_line = separator_line(_whole_text(path, encoding))
    check_row_widths(text, path, sep, quoting, first_line)


def _whole_text(path: Path, encoding: str | None = None) -> str:
    """The text of ``path`` (decompressed), a byte outside ``encoding`` (default UTF-8) replaced:
    for reading a file's layout, not its values."""
    return mac_line_ends(read_data(path).decode(encoding or "utf-8", errors="replace").lstrip("\ufeff"))


def _header_is_data(names) -> bool:
    """Whether a header line reads as data: every name a number or a date, one of them not a
    whole number (a header of years, ``2019,2020``, stays a header)."""
    names = [str(n).strip() for n in names]
    numbers = pd.to_numeric(pd.Series(names), errors="coerce")
    with warnings_caught():
        warnings.simplefilter("ignore")
        dates = pd.to_datetime(pd.Series(names), errors="coerce", format="mixed")
    dated = dates.notna() & pd.Series(names).str.contains(r"\d{4}|\d{1,2}[./-]\d{1,2}[./-]\d{2}")
    data = numbers.notna() | dated
    whole = numbers.notna() & (numbers == numbers.round()) & ~pd.Series(names).str.contains(r"[.eE]")
    return bool(len(names) and data.all() and not whole.all())


def _read_excel(path: Path, cells_as_written: bool = False) -> pd.DataFrame:
    """The first sheet with cells of an Excel workbook (a warning names the others), its header the
    first row below any blank or title rows; a file Excel would not open, or a missing openpyxl, is
    an :class:`LstmkitError`."""
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            names = book.sheet_names
            sheet, top = _data_sheet(book, names, path)
            as_written = {"keep_default_na": False, "na_values": [""]} if cells_as_written else {}
            df = pd.read_excel(book, sheet_name=sheet, header=top, **as_written)
            from openpyxl.utils.datetime import CALENDAR_MAC_1904
            date1904 = book.book.epoch == CALENDAR_MAC_1904     # its date cells read so; its serial days too
    except LstmkitError:
        raise
    except ImportError:
        raise _engine_missing(path, "openpyxl") from None
    except Exception as e:                 # openpyxl's errors for a damaged or foreign file have no common base
        _check_binary(path, "an Excel workbook")
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LstmkitError(f"could not read {path} as an Excel workbook: {reason}",
                           "open and save it in a spreadsheet as .xlsx, or save the sheet as CSV UTF-8") from None
    if len(names) > 1:
        which, later = ("the first" if sheet == names[0] else "the first with cells"), names[names.index(sheet) + 1:]
        nots = f" (not {', '.join(map(repr, later[:3]))}{', …' if len(later) > 3 else ''})" if later else ""
        warnings.warn(f"{path.name} has {len(names)} sheets: read {which}, {sheet!r}{nots}; move the data "
                      f"to the first sheet or save it as CSV to read another", UserWarning, stacklevel=callers_level())
    df = df.dropna(how="all").dropna(axis=1, how="all")      # a sheet's formatted but empty rows and columns
    df.attrs.update(first_line=top + 2, row_unit="sheet row",     # as the sheet shows it: the header is row top + 1
                    date1904=date1904)     # the date system of numbers read as serial days (forecast --dates excel)
    return df


_TOP_ROWS = 50                        # rows of a sheet looked at for its header


def _data_sheet(book, names: list[str], path: Path) -> tuple[str, int]:
    """The first sheet of ``book`` that holds a cell (the first sheet when none does) and its header
    row (from 0): the first row under the blank rows and the title rows (one cell, above rows of
    several) a report sheet begins with."""
    for name in names:
        head = pd.read_excel(book, sheet_name=name, header=None, nrows=_TOP_ROWS)
        filled = head.notna().sum(axis=1).to_numpy()
        if not filled.any():
            continue
        wide = filled.max() > 1
        top = next(k for k, n in enumerate(filled) if n > 1 or (n and not wide))
        unique_names(head.iloc[top].tolist(), f"{path} (sheet {name!r}, row {top + 1})")
        if filled[:top].any():
            title = " ".join(str(v) for v in head.iloc[:top].to_numpy().ravel() if pd.notna(v))
            warnings.warn(f"{path.name}: sheet {name!r} begins with a title ({title[:60]!r}): its header is read "
                          f"from sheet row {top + 1}", UserWarning, stacklevel=callers_level())
        return name, top
    return names[0], 0


def _head(path: Path, raw: bool = False) -> bytes:
    """The first bytes of ``path``'s content (decompressed unless ``raw``); a damaged archive is an
    :class:`LstmkitError` (:func:`lstmkit.data.compressed.archive_error`)."""
    if raw:
        with open(path, "rb") as f:
            return f.read(_HEAD)
    with open_data(path) as f:
        return f.read(_HEAD)


def _read_columnar(path: Path, reader, kind: str) -> pd.DataFrame:
    """A Parquet or Feather file (``kind``) read by ``reader`` (pandas', through pyarrow)."""
    try:
        df = reader(path)
    except ImportError:
        raise _engine_missing(path, "pyarrow") from None
    except Exception as e:                 # pyarrow's ArrowInvalid, OSError: no common base
        _check_binary(path, kind)
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LstmkitError(f"could not read {path}: {reason}", f"check that it is a valid {kind[2:]}") from None
    if df.index.equals(pd.RangeIndex(len(df))):       # not an index pandas stored: rows counted from 1
        df.attrs.update(first_line=1, row_unit="row")
    return df


def _check_binary(path: Path, kind: str) -> None:
    """An :class:`LstmkitError` when ``path``, which did not read as ``kind``, is text (a CSV saved
    under a workbook's or a Parquet file's name): its name is what is wrong."""
    suffix = _text_table_suffix(path)
    if suffix is not None:
        raise LstmkitError(f"{path} is {suffix[1:].upper()} text, not {kind}",
                           f"rename it {path.name.split('.')[0]}{suffix}")


def unknown_type(path: Path, fix: str) -> LstmkitError:
    """The error for ``path``, a file whose name tells no type a reader takes: the suffix to rename it
    to where it holds a table's text (a logger's ``.dat``, an export without an extension), else ``fix``."""
    ext = file_ext(path)
    suffix = _text_table_suffix(path)
    if suffix is not None:
        return LstmkitError(f"unknown file type {ext or '(no extension)'!r}: {path} holds {suffix[1:].upper()} text",
                            f"rename it {path.name.split('.')[0]}{suffix}")
    return LstmkitError(f"unknown file type {ext or '(no extension)'!r}: {path}", fix)


def _text_table_suffix(path: Path) -> str | None:
    """``".csv"`` or ``".tsv"`` when the file ``path`` is a table's text (its first line a header
    with commas, semicolons, tabs or pipes; not JSON); else None (a binary file, one line of words)."""
    if not path.is_file():
        return None
    head = _head(path, raw=True)
    encoding = bom_encoding(head)
    if b"\x00" in head and encoding is None:
        return None
    text = head.decode(encoding or "utf-8", errors="replace").lstrip("\ufeff")[:4096]
    if "\ufffd" in text or text.lstrip()[:1] in ("[", "{"):
        return None
    sep = header_separator(text.split("\n", 1)[0], None)
    return None if sep is None else ".tsv" if sep == "\t" else ".csv"


def _engine_missing(path: Path, package: str) -> MissingPackage:
    return MissingPackage(f"reading {path.name} needs the {package} package, which is not installed",
                          f"pip install {package}, or save the table as CSV UTF-8", package)
