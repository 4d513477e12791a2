"""Reading text files and tables of texts with errors that name the line (or row) and the fix.

    decode_text(raw, path, encoding)   bytes -> str; a bad byte names its line and --encoding
    read_text_file(path, encoding)     a whole file, ``.gz`` decompressed
    text_lines(text)                   its lines as an editor counts them (a line feed, CR LF or a lone CR ends one)
    parse_table(text, path, sep)       a CSV / TSV file's text, separated by ``sep``, as a DataFrame of strings
                                       (whole table files of every kind: :mod:`lstmkit.data.tables`)
    separator_line(text)               Excel's ``sep=;`` line and comment lines above the header: dropped
    unique_names(names, where)         a header that names two columns alike: an error (pandas read the second as ``y.1``)
    row_place(df, i)                   where data row ``i`` is: the file's line, the sheet's or Parquet's row
    table_column(df, name, role, where) / column_strings(col)   a named column, its cells as text (these
                                       and the lines below to check_strings: :mod:`lstmkit.data.columns`)
    check_unique_columns(df, where)    a frame's columns each named once
    check_strings(items, what, fix)    texts given in Python: each one a string
    blank_rows(df)                     the rows empty in every cell (a spreadsheet's ",,," lines)
    without_row_numbers(df)            a table without the row numbers pandas' to_csv / R's write.csv write first

What a spreadsheet or a logger writes just works: a byte-order mark names the encoding (UTF-8,
UTF-16 or UTF-32: Excel's "Unicode text"), a ``.csv`` whose header line holds no comma but a
semicolon or a tab is read with that separator (:func:`header_separator`), and a semicolon file's
numbers are read with decimal commas (:func:`comma_decimals`).
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import math
import numbers
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from lstmkit.data.columns import (blank_rows, check_strings, check_unique_columns, closest_name, column_strings,
                                  is_number, table_column, without_row_numbers)
from lstmkit.data.columns import looks_like_data as _sentences
from lstmkit.data.quoting import tsv_quoting
from lstmkit.errors import LstmkitError, missing_path_fix
from lstmkit.runs import path_exists

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["blank_rows", "decode_text", "check_text", "read_text_file", "read_stdin_text", "text_lines", "parse_table", "file_ext",
           "table_column", "column_strings", "check_strings", "check_unique_columns", "is_number",
           "separator_line", "row_place", "check_readable", "unique_names", "header_cells", "renamed_columns",
           "without_row_numbers",
           "bom_encoding", "header_separator", "comma_decimals", "closest_name", "TABLE_SEP", "JSONL"]

TABLE_SEP = {".csv": ",", ".tsv": "\t"}
JSONL = {".jsonl", ".ndjson", ".json"}
# UTF-32's little-endian mark begins with UTF-16's: look for the longer ones first
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_SEPARATORS = (",", ";", "\t", "|")
# a number written with a decimal comma (10,5; -3; ,5; 1,5e3; its thousands grouped by dots or spaces:
# 1.234,5, 1 234,5 -- French spreadsheets group by a no-break space), and one whose comma may group thousands
# (1,234); the minus sign may be U+2212, as Swedish and Finnish spreadsheets write it
_COMMA_NUMBER = r"[+\-\u2212]?(?:\d{1,3}(?:([. \u00a0\u202f])\d{3})(?:\1\d{3})*(?:,\d*)?|\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?"
_GROUPING = str.maketrans({".": "", " ": "", "\u00a0": "", "\u202f": "", ",": ".", "\u2212": "-"})
_THOUSANDS_LIKE = r"[+-]?\d{1,3},\d{3}"


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark at the start of ``head`` names (``"utf-16"``, ``"utf-32"``,
    ``"utf-8-sig"``), or None when there is none."""
    return next((name for bom, name in _BOMS if head.startswith(bom)), None)


# the first bytes of the binary files a table is most often saved as under a text file's name:
# what the file is, and how to have it read
_MAGIC = ((b"PAR1", "a Parquet file", "rename it {stem}.parquet"),
          (b"PK\x03\x04", "a zip archive (as an .xlsx workbook is)", "rename it {stem}.xlsx if it is a workbook, else unzip it"),
          (b"\x1f\x8b", "gzip-compressed", "rename it {name}.gz"),
          (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls)", "save it as .xlsx (Excel Workbook) or as CSV UTF-8"))


def check_text(head: bytes, path: str | Path, fix: str = "") -> None:
    """An :class:`LstmkitError` when ``head`` (a file's first bytes) holds NUL bytes and no
    byte-order mark: a binary file (a spreadsheet, archive or model named .csv), not text; a
    Parquet file, a workbook or a gzip file is named, with the name that reads it."""
    found = next(((what, how) for magic, what, how in _MAGIC if head.startswith(magic)), None)
    if found is not None and (b"\x00" in head or not head[:4].isascii()):     # 'PAR1,PAR2' is a header
        name = Path(path).name
        raise LstmkitError(f"{path} is not a text file: it is {found[0]}",
                           found[1].format(stem=name.split(".")[0], name=name))
    if b"\x00" in head and bom_encoding(head[:4]) is None:
        raise LstmkitError(f"{path} is not a text file (it holds NUL bytes: a binary file, e.g. a spreadsheet, "
                           f"archive or model, or UTF-16 text without a byte-order mark)",
                           "export the data as a UTF-8 CSV/TSV/text file" + (f" ({fix})" if fix else ""))


def header_separator(header: str, expected: str | None) -> str | None:
    """The separator of a table whose first line is ``header``.

    ``expected`` (the file type's, e.g. ``","`` for ``.csv``) when the line holds it; else a
    semicolon, a tab or a pipe when it holds one (the CSV of a spreadsheet set to decimal commas, a
    tab- or pipe-separated file named ``.csv``); else ``expected``. With ``expected=None`` (a
    ``.txt``), the most frequent of comma, semicolon, tab and pipe, or None when the line holds none.
    """
    if expected is not None and expected in header:
        return expected
    counts = {sep: header.count(sep) for sep in _SEPARATORS if sep != expected and sep in header}
    return max(counts, key=counts.get) if counts else expected


def comma_decimals(col: pd.Series, sep: str | None) -> pd.Series | None:
    """``col``'s text read as numbers with a decimal comma (``"10,5"`` -> 10.5; ``"1.234,5"``, ``"1 234,5"``
    -> 1234.5; ``"−2,5"`` with U+2212 -> -2.5), or None.

    Only in a file separated by ``sep`` = ``";"`` (a spreadsheet writes semicolons exactly when
    its decimal mark is the comma) or a tab, and only when every non-empty cell is such a number
    and one holds a comma; in a tab file not when every comma could group thousands (``1,234``).
    """
    import pandas as pd
    if sep not in (";", "\t") or not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
        return None
    text = col.dropna().astype(str).str.strip()
    text = text[text != ""]
    commas = text.str.contains(",", regex=False)
    if not commas.any() or not text.str.fullmatch(_COMMA_NUMBER).all():
        return None
    if sep == "\t" and text[commas].str.fullmatch(_THOUSANDS_LIKE).all():
        return None
    out = col.astype(str).str.strip().str.translate(_GROUPING)
    return pd.to_numeric(out.mask(col.isna() | (out == "")), errors="coerce").astype("float64")


def decode_text(raw: bytes, path: str | Path, encoding: str = "utf-8") -> str:
    """``raw`` decoded with ``encoding`` (a UTF-8 byte-order mark is dropped; with the default
    UTF-8, a UTF-16 or UTF-32 byte-order mark names the file's encoding).

    An unknown encoding or a byte the encoding cannot read is an :class:`LstmkitError` naming
    the file's line and the ``--encoding`` fix; NUL bytes with no byte-order mark (a binary file)
    are an error saying the file is not text.
    """
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    codec = (bom_encoding(raw[:4]) or "utf-8-sig") if utf8 else encoding
    if "16" not in encoding and "32" not in encoding:
        check_text(raw[:8192], path, "pass --encoding utf-16 if it is UTF-16 text")
    elif not utf8 and bom_encoding(raw[:4]) is None:
        _check_wide(raw, path, encoding)
    if not utf8:
        _warn_utf8_read_as_bytes(raw, path, codec)
    try:
        return raw.decode(codec)
    except LookupError:
        raise LstmkitError(f"unknown encoding {encoding!r}", "pass --encoding utf-8, latin-1, cp1252, …") from None
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise LstmkitError(f"{path} line {line} is not valid {encoding} (byte 0x{raw[e.start]:02x})",
                           _encoding_fix(raw) if utf8 else "pass --encoding with the file's real encoding "
                           "(e.g. --encoding latin-1) or convert it to UTF-8") from None


def _check_wide(raw: bytes, path: str | Path, encoding: str) -> None:
    """UTF-16 / UTF-32 asked of a file without NUL bytes, with line breaks, that reads as UTF-8:
    decoded anyway, its byte pairs became CJK characters on one line, and training went on. (A
    UTF-16 line end is 0A 00, so wide text of several lines holds a NUL; one 0A byte alone may be
    half of a character, 上 is 0A 4E.)"""
    if b"\0" in raw or raw.count(b"\n") < 2:
        return
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return
    raise LstmkitError(f"{path} is not {encoding} text: it has line breaks but no NUL byte (a {encoding} line end "
                       "holds one), and it reads as UTF-8", "pass --encoding utf-8 (the default), or the file's "
                       "real encoding")


def _warn_utf8_read_as_bytes(raw: bytes, path: str | Path, encoding: str) -> None:
    """One warning when a one-byte-per-character encoding (latin-1, cp1252, …) is asked of a file
    whose non-ASCII bytes are all valid UTF-8: each accented letter would read as two or three
    ('é' as 'Ã©'), silently. Text in a one-byte encoding is almost never valid UTF-8 by chance."""
    try:
        if codecs.lookup(encoding).name not in _ONE_BYTE or raw.isascii():
            return
        text = raw.decode("utf-8")
    except (LookupError, UnicodeDecodeError):
        return
    sample = next(c for c in text if ord(c) > 127)
    garbled = sample.encode("utf-8").decode(encoding, "replace")
    warnings.warn(f"{path} reads as UTF-8 ({sample!r} and every other non-ASCII character), and --encoding "
                  f"{encoding} reads each of them as two or three characters ({garbled!r}); pass --encoding utf-8 "
                  "(the default) unless the file really is in that encoding", UserWarning, stacklevel=4)


_ONE_BYTE = {"iso8859-1", "cp1252", "iso8859-15", "cp1250", "iso8859-2", "mac-roman", "cp437", "cp850"}


def _encoding_fix(raw: bytes) -> str:
    """The hint for a file that is not UTF-8: Windows-1252 (what a spreadsheet on Windows saves)
    when every byte reads in it, where latin-1 would turn its curly quotes into control characters."""
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return "pass --encoding with the file's real encoding (e.g. --encoding latin-1) or convert it to UTF-8"
    return ("pass --encoding cp1252 (every byte reads as Windows-1252, what a spreadsheet on Windows saves), "
            "or the file's real encoding, or convert it to UTF-8")


def check_readable(path: Path, fix: str) -> None:
    """An :class:`LstmkitError` (fix: ``fix``) when the existing ``path`` is a folder, or a device
    or socket (``/dev/zero`` never ends); a file or a pipe (``/dev/stdin``, ``<(zcat …)``) passes."""
    if path.is_dir():
        raise LstmkitError(f"{path} is a folder, not a text file", fix)
    if not (path.is_file() or path.is_fifo()):
        raise LstmkitError(f"{path} is not a file but a device or socket", fix)


def read_text_file(path: Path, encoding: str = "utf-8") -> str:
    """The whole file decoded (``.gz`` decompressed); bytes outside ``encoding`` name their line."""
    if not path_exists(path):
        raise LstmkitError(f"file not found: {path}", missing_path_fix(path, "check the path"))
    if path.is_dir():
        raise LstmkitError(f"{path} is a folder with no class sub-folders of .txt files",
                           "pass a CSV/TSV/JSONL file, or a folder with one sub-folder of .txt files per class")
    raw = path.read_bytes()
    if path.suffix.lower() == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise LstmkitError(f"{path} is not a valid gzip file ({e})", "decompress it or fix the file") from None
    text = decode_text(raw, path, encoding)
    if not text.strip():
        raise LstmkitError(f"file is empty: {path}", "supply a file with a header row and data rows")
    return text


def read_stdin_text(encoding: str = "utf-8") -> str:
    """Standard input decoded with ``encoding`` as a file is (a bad byte names its line; Python's own
    reading used the locale's encoding and let a byte outside UTF-8 through as an escape)."""
    import sys
    if sys.stdin is None:                  # closed (``<&-``) before Python started: nothing to read
        return ""
    raw = getattr(sys.stdin, "buffer", None)
    return sys.stdin.read() if raw is None else decode_text(raw.read(), "standard input", encoding)


def text_lines(text: str) -> list[str]:
    r"""The lines of ``text`` without their ends, a line ended by ``\n``, ``\r\n`` or a lone ``\r``
    (an old Mac file's), as an editor and a piped standard input count them.
    ``str.splitlines`` also ends a line at a form feed, a vertical tab, U+0085 or U+2028, which sit
    inside sentences (pdftotext's page breaks, ``…`` read as latin-1): a file of line-aligned
    sentences then had more lines than its partner, and each answer after such a line was one off."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":                    # the end of the last line, as splitlines: no empty line after it
        lines.pop()
    return lines


def file_ext(path: Path) -> str:
    """The last suffix before any ``.gz``, lower-cased (``"reviews.CSV.gz"`` -> ``".csv"``)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def separator_line(text: str) -> tuple[str, str | None, int]:
    """A table's text without what spreadsheets and loggers write above its header: the ``sep=;``
    line Excel reads (and some exports write), whose separator is returned, and comment lines
    (``# exported by …``: a ``#`` and a space first, or a ``#`` and not the header's count of its
    separator, so a header such as ``#,name,value`` stays one) with blank lines among them; and the file line the text now
    starts at (messages name the file's lines); ``(text, None, 1)`` when there are none."""
    sep, first_line, commented = None, 1, False
    for _ in range(_ABOVE_HEADER):
        first, newline, rest = text.partition("\n")
        named = re.fullmatch(r"\s*sep=(.)\s*", first) if first_line == 1 else None
        if named:
            sep = named.group(1)
        elif newline and (_comment_line(first, rest) or (commented and not first.strip())):
            commented = True
        else:
            break
        text, first_line = rest, first_line + 1
    return text, sep, first_line


_ABOVE_HEADER = 100                   # lines above a header looked at for comments


def _comment_line(line: str, rest: str) -> bool:
    """Whether ``line``, above the text ``rest``, is a comment: a ``#`` and a space (or nothing) first,
    or a ``#`` and not as many of the separator as the header line under it (the first of ``rest``
    that is neither comment nor blank)."""
    line = line.lstrip()
    if not line.startswith("#"):
        return False
    if line[1:2] in ("", " ", "#", "\r"):
        return True
    header = ""
    for _ in range(_ABOVE_HEADER):
        header, _, rest = rest.partition("\n")
        if header.strip() and not header.lstrip().startswith("#"):
            break
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    sep = max(counts, key=counts.get)
    return counts[sep] > 0 and line.count(sep) != counts[sep]


def unique_names(names, where: str | Path) -> None:
    """An :class:`LstmkitError` when two of a header's ``names`` are the same (empty ones aside):
    pandas reads the second as ``name.1`` (a dictionary reader keeps the last), so a command would
    read one of the two without a word."""
    seen: dict[str, int] = {}
    for k, name in enumerate(names, 1):
        if name is None or (isinstance(name, float) and math.isnan(name)) or not str(name).strip():
            continue
        if str(name) in seen:
            raise LstmkitError(f"{where} names two columns {str(name)!r} (columns {seen[str(name)]} and {k})",
                               "give each column its own name in the header")
        seen[str(name)] = k


def header_cells(text: str, sep: str, quoting: bool = True) -> list[str]:
    """The cells of the header line that ``text`` (a table's) begins with, as written."""
    reader = csv.reader(io.StringIO(text), delimiter=sep, quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE)
    return next(reader, [])


def renamed_columns(columns) -> bool:
    """Whether pandas may have renamed a repeated header name: a column ``y.1`` beside a ``y``."""
    names = {str(c) for c in columns}
    return any(re.fullmatch(r".*\.\d+", n) and n.rsplit(".", 1)[0] in names for n in names)


def parse_table(text: str, path: str | Path, sep: str, quoting: bool | None = None,
                first_line: int = 1) -> pd.DataFrame:
    """``text`` (the file ``path``'s, from its line ``first_line`` on) as a table of strings
    separated by ``sep``, at least one row. A quote mark quotes a cell by CSV rules (``quoting=True``)
    or is text like any other (``quoting=False``); by default (None) it quotes unless ``sep`` is a
    tab and :func:`lstmkit.data.quoting.tsv_quoting` finds the file's quote marks are text (a TSV of
    sentences, such as GLUE's SST-2: each line one row, its quote marks kept)."""
    import pandas as pd
    if quoting is None:
        quoting = sep != "\t" or tsv_quoting(text, path, first_line)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                         quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE)
    except (pd.errors.ParserError, csv.Error, ValueError) as e:
        if quoting and "EOF inside string" in str(e):
            _check_quotes(text, path, sep, first_line)
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LstmkitError(f"could not read {path}: {reason}", "check that it is a valid CSV/TSV file") from None
    header = header_cells(text, sep, quoting) if renamed_columns(df.columns) else []
    if not _sentences(header):                 # a first line of data is told by the column lookups
        unique_names(header, path)
    if len(df) == 0:
        raise LstmkitError(f"{path} has a header but no data rows", "supply at least one data row")
    if quoting:
        _check_quotes(text, path, sep, first_line, df)
    df.attrs["sep"] = sep                  # numbers in a semicolon file may carry decimal commas
    df.attrs["first_line"] = first_line + 1     # the file line of the first data row, for messages (row_place)
    if "\n\n" in text.replace("\r", ""):    # blank lines, which pandas skips: where they are
        df.attrs["blank_lines"] = [k for k, ln in enumerate(text.split("\n"), first_line) if not ln.strip("\r")]
    return df


def row_place(df: pd.DataFrame, i: int) -> str:
    """Where data row ``i`` of ``df`` is, for a message, as its file numbers it: ``"line 7"`` (the
    file's line) for a CSV / TSV :func:`parse_table` read or a JSON-lines file, ``"sheet row 8"``
    for a workbook (as the spreadsheet shows it: the header is row 1), ``"row 6"`` for Parquet
    (counted from 1 under the header), else ``"data row 6"``. The reader records which in
    ``df.attrs``: ``first_line`` (the first data row's number), ``row_unit`` (``"line"`` when
    absent), ``blank_lines`` (the numbers of the blank lines or rows it skipped); a row's index,
    the reader's, places it when rows were left out after reading (``df`` may be one column). A
    CSV file pandas read typed (``attrs["csv_file"]``: path, separator, encoding, first line,
    header) is read again for the line, only when a message asks for it."""
    at = df.index[i]                       # rows left out since reading (empty ones) keep their index
    at = int(at) if isinstance(at, numbers.Integral) else i
    if "csv_file" in df.attrs:             # a typed read of a CSV file: its line found when a message needs it
        path, sep, encoding, first, header, *quoting = df.attrs["csv_file"]
        return f"line {_csv_line(path, sep, encoding, first, header, at, *quoting)}"
    line = df.attrs.get("first_line")
    if line is None:
        return f"data row {i + 1}"
    unit = df.attrs.get("row_unit", "line")
    if unit == "line" and i and df.attrs.get("cell_breaks", True):
        before = df.iloc[:i]               # cells spanning lines (quoted line breaks) push the rows below down
        before = before.to_frame() if before.ndim == 1 else before
        line += int(before.apply(lambda c: c.astype(str).str.count("\n")).to_numpy().sum())
    line += at
    for blank in df.attrs.get("blank_lines", ()):
        line += blank <= line
    return f"{unit} {line}"


def _csv_line(path: str, sep: str, encoding: str, first_line: int, header: bool, row: int,
              quoting: bool = True) -> int:
    """The file line on which data row ``row`` (from 0) of a CSV file starts, counted as pandas
    reads it: quoted line breaks inside a cell (unless ``quoting`` is off), blank lines skipped."""
    lines = read_text_file(Path(path), encoding).splitlines(keepends=True)[first_line - 1:]
    reader = csv.reader(io.StringIO("".join(lines)), delimiter=sep,
                        quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE)
    left = row + header
    start = reader.line_num + 1
    for record in reader:
        if record:
            if not left:
                break
            left -= 1
        start = reader.line_num + 1
    return first_line - 1 + start


def _check_quotes(text: str, path: str | Path, sep: str, first_line: int, df: pd.DataFrame | None = None) -> None:
    """An :class:`LstmkitError` when a quote mark at the start of a field (``"Best film ever``, the
    quote part of the text) opened a quoted field that ran on over the lines after it, to the end
    of the file or to a later quote mark not followed by a separator: pandas reads the lines it
    ran over as one cell, rows merged into one without a word. With ``df`` (what pandas read)
    looked at only when a cell holds a line break; a well-formed multi-line field passes."""
    if df is not None and not any(df[c].astype(str).str.contains("\n", regex=False).any() for c in df.columns):
        return
    reader = csv.reader(io.StringIO(text), delimiter=sep, strict=True)
    start, end = first_line, None
    while end is None:
        try:
            next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            at = first_line - 1 + reader.line_num
            # a quote closed on the line it opened ('"Wow" said the critic') runs over nothing: pandas reads
            # it as one cell of that line, and the check goes on (it named that line, not the one run on)
            if at > start or "end of data" in str(e):
                end = "the end of the file" if "end of data" in str(e) else f"line {at}"
                break
        start = first_line + reader.line_num
    raise LstmkitError(f"{path} line {start}: a quote mark opens a field that runs on to {end}, "
                       f"reading the lines it runs over as one cell (rows merged)",
                       'if the quote marks are part of the text, quote the whole field and double each quote '
                       'mark in it ("" — as a spreadsheet saves CSV), or remove them')
