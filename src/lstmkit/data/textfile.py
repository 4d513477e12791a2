"""Reading text files and tables of texts with errors that name the line (or row) and the fix.

    decode_text(raw, path, encoding)   bytes -> str; a bad byte names its line and --encoding (this line and
    read_text_file(path, encoding)     the next two, with the checks that a file is text:
    text_lines(text)                   :mod:`lstmkit.data.decoding`)
    parse_table(text, path, sep)       a CSV / TSV file's text, separated by ``sep``, as a DataFrame of strings
                                       (whole table files of every kind: :mod:`lstmkit.data.tables`; whether a
                                       TSV's quote marks quote: :mod:`lstmkit.data.quoting`)
    separator_line(text)               Excel's ``sep=;`` line, comment lines and a sheet's title above the header: dropped
    unique_names(names, where)         a header that names two columns alike: an error (pandas read the second as ``y.1``)
    check_row_widths(text, path, sep)  a row with more cells than the header: an error naming its file line
    without_implicit_index(df, ...)    pandas' row names from a first data row one cell wider: undone, or that error
    row_place(df, i)                   where data row ``i`` is: the file's line, the sheet's or Parquet's row
    unseparated_line(lines, df, i, cell)  row ``i``'s file line when it holds no separator (its cells read as one)
    separator_name(sep)                "tab" or the separator quoted, for a message
    table_column(df, name, role, where) / column_strings(col)   a named column, its cells as text (these
                                       and the lines below to check_strings: :mod:`lstmkit.data.columns`)
    check_unique_columns(df, where)    a frame's columns each named once
    check_strings(items, what, fix)    texts given in Python: each one a string
    blank_rows(df)                     the rows empty in every cell (a spreadsheet's ",,," lines)
    without_row_numbers(df)            a table without the row numbers pandas' to_csv / R's write.csv write first

What a spreadsheet or a logger writes just works: a byte-order mark names the encoding (UTF-8,
UTF-16 or UTF-32: Excel's "Unicode text"), a ``.csv`` whose header line holds no comma but a
semicolon or a tab is read with that separator (:func:`header_separator`), and a semicolon file's
numbers are read with decimal commas (:func:`comma_decimals`), a dot there that may group
thousands is marked (:func:`dot_groups`), and a sheet's title row saved above the header is left
out (:func:`separator_line`).
"""
from __future__ import annotations

import csv
import io
import math
import numbers
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from lstmkit.data.columns import (blank_rows, check_flat_columns, check_strings, check_unique_columns, closest_name,
                                  column_strings, is_number, table_column, without_row_numbers)
from lstmkit.data.columns import looks_like_data as _sentences
from lstmkit.data.decoding import (bom_encoding, check_readable, check_text, decode_text, file_ext, read_stdin_text,
                                   read_text_file, text_lines)
from lstmkit.data.quoting import check_run_on_quotes, tsv_quoting, unquoted_names
from lstmkit.errors import LstmkitError, callers_level, warnings_caught

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["blank_rows", "decode_text", "check_text", "read_text_file", "read_stdin_text", "text_lines", "parse_table", "file_ext",
           "table_column", "column_strings", "check_strings", "check_unique_columns", "check_flat_columns", "is_number",
           "separator_line", "row_place", "check_readable", "unique_names", "header_cells", "renamed_columns",
           "without_row_numbers", "check_row_widths", "without_implicit_index",
           "bom_encoding", "header_separator", "comma_decimals", "dot_groups", "may_group_thousands", "dot_two_ways", "closest_name", "TABLE_SEP", "JSONL"]

TABLE_SEP = {".csv": ",", ".tsv": "\t"}
JSONL = {".jsonl", ".ndjson", ".json"}
_SEPARATORS = (",", ";", "\t", "|")
# a number written with a decimal comma (10,5; -3; ,5; 1,5e3; its thousands grouped by dots or spaces:
# 1.234,5, 1 234,5 -- French spreadsheets group by a no-break space), and one whose comma may group thousands
# (1,234); the minus sign may be U+2212, as Swedish and Finnish spreadsheets write it
_COMMA_NUMBER = r"[+\-\u2212]?(?:\d{1,3}(?:([. \u00a0\u202f])\d{3})(?:\1\d{3})*(?:,\d*)?|\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?"
_GROUPING = str.maketrans({".": "", " ": "", "\u00a0": "", "\u202f": "", ",": ".", "\u2212": "-"})
_THOUSANDS_LIKE = r"[+-]?\d{1,3},\d{3}"
# grouping that only thousands have: a space (or no-break space) between digit groups, or two dots (1.234.567)
_GROUPS_ONLY_THOUSANDS = r"\d[ \u00a0\u202f]\d{3}|\d\.\d{3}\.\d{3}"
# a number whose one dot groups thousands (1.234, European) or is a decimal point (1.234, English)
_DOT_GROUPED = r"[+\-\u2212]?[1-9]\d{0,2}\.\d{3}"


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
    and one holds a comma or groups thousands as only thousands are (``1 234``, ``1.234.567``); in a
    tab file not when every comma could group thousands (``1,234``). One dot (``1.234``) is left to
    pandas, which reads a decimal point: :func:`dot_groups` says when it may not be one.
    """
    import pandas as pd
    if sep not in (";", "\t") or not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
        return None
    text = col.dropna().astype(str).str.strip()
    text = text[text != ""]
    if not text.iloc[:200].str.fullmatch(_COMMA_NUMBER).all():   # every cell must be one: the first ones rule
        return None                                              # most text columns out (dates, names)
    commas = text.str.contains(",", regex=False)
    # no comma: still such numbers when a cell's grouping cannot be a decimal mark (1 234, 1.234.567)
    grouped = text.str.contains(_GROUPS_ONLY_THOUSANDS).any()
    if not (commas.any() or grouped) or not text.str.fullmatch(_COMMA_NUMBER).all():
        return None
    if sep == "\t" and text[commas].str.fullmatch(_THOUSANDS_LIKE).all():
        return None
    out = col.astype(str).str.strip().str.translate(_GROUPING)
    return pd.to_numeric(out.mask(col.isna() | (out == "")), errors="coerce").astype("float64")



def dot_groups(raw: pd.Series, sep: str | None, decimal_commas: bool) -> tuple[int, str] | None:
    """Whether the text ``raw`` of a column pandas read as numbers by their dots (``"1.032"`` as
    1.032) has dots that may group thousands instead, in a file separated by ``sep`` = ``";"`` (a
    spreadsheet writes semicolons when its decimal mark is the comma; or a tab, when another column
    has decimal commas: Excel's "Unicode text" in such a locale): every dotted cell one
    group of three digits after 1-3 digits (``1.032``, ``-12.500``) and either a cell without a
    dot that is a whole number (``976``: as decimals the column would mix 1.032 with 976) or
    another column of the file with decimal commas (``decimal_commas``). Then ``(the first dotted
    cell's position, its text)``; else None."""
    if not (sep == ";" or (sep == "\t" and decimal_commas)):       # Excel's Unicode text: tabs, a locale's marks
        return None
    text = raw.fillna("").astype(str).str.strip()
    dotted = text.str.contains(".", regex=False)
    if not dotted.any() or not may_group_thousands(text[dotted]) or not text[dotted].str.fullmatch(_DOT_GROUPED).all():
        return None
    plain = text[~dotted & (text != "")]
    if not (decimal_commas or plain.str.fullmatch(r"[+\-\u2212]?\d+").any()):
        return None
    pos = int(dotted.to_numpy().nonzero()[0][0])
    return pos, str(text.iloc[pos])


def may_group_thousands(text: pd.Series, head: int = 200) -> bool:
    """Whether the first ``head`` dotted cells of ``text`` (a column's cells as written) each may
    group thousands (``1.032``); one that may not (``12.5``, ``0.25``, ``3.14159``) rules the column
    out of :func:`dot_groups`, whose every dotted cell must, so most float columns are judged by
    their first cells instead of all of them."""
    text = text.fillna("").astype(str).str.strip()
    dotted = text[text.str.contains(".", regex=False)]
    return bool(dotted.iloc[:head].str.fullmatch(_DOT_GROUPED).all())


def dot_two_ways(name: str, cell: str, place: str) -> LstmkitError:
    """The error for ``cell`` (in column ``name``, at ``place``) of a semicolon file, or a tab file
    with decimal commas, whose one dot (``1.032``, ``€ 1.032``) groups thousands or is a decimal
    point (:func:`dot_groups` finds such columns)."""
    number = re.search(r"\d{1,3}\.\d{3}", cell).group()
    whole = number.replace(".", "")
    return LstmkitError(
        f"column {name!r} holds numbers that read two ways: {cell!r} in {place} is {whole} with a thousands "
        f"separator (as a European spreadsheet writes it), or {number} with a decimal point",
        f"write the numbers without thousands separators ({whole}) or with a decimal comma ({number.replace('.', ',')})")


def separator_line(text: str, path: Path | None = None) -> tuple[str, str | None, int]:
    """A table's text without what spreadsheets and loggers write above its header: the ``sep=;``
    line Excel reads (and some exports write), whose separator is returned, comment lines
    (``# exported by …``: a ``#`` and a space first, or a ``#`` and not the header's count of its
    separator, so a header such as ``#,name,value`` stays one) and a sheet's title rows
    (:func:`_title_line`; a report's title line with no separator at all: :func:`_bare_title_line`),
    with blank lines above or among them (a sheet's empty first rows, ``,,``, as a workbook's are
    passed over); and the file line the text now starts at
    (messages name the file's lines); ``(text, None, 1)`` when there are none. With ``path``, a
    title skipped is warned about, as a workbook's is."""
    sep, first_line, titles = None, 1, []
    for _ in range(_ABOVE_HEADER):
        first, newline, rest = text.partition("\n")
        named = re.fullmatch(r"\s*sep=(.)\s*", first) if first_line == 1 else None
        if named:
            sep = named.group(1)
        elif newline and (_comment_line(first, rest) or not first.strip(" \t\r,;")):
            pass                           # a comment, or a line of separators only (an empty sheet row)
        elif newline and (_title_line(first, rest) or _bare_title_line(first, rest)):
            titles.append(first.strip().rstrip(",;\t").strip('"'))
        else:
            break
        text, first_line = rest, first_line + 1
    if titles and path is not None:
        warnings.warn(f"{Path(path).name} begins with a title ({' '.join(titles)[:60]!r}): its header is read from "
                      f"line {first_line}", UserWarning, stacklevel=callers_level())
    return text, sep, first_line


def _title_line(line: str, rest: str) -> bool:
    """Whether ``line``, above the text ``rest``, is the title row of a sheet saved as CSV: one cell
    and then as many separators as the header line under it (the first of ``rest`` with other
    than separators) has, every header cell named (``Sales 2024,,`` over ``date,sales,units``)."""
    title = re.fullmatch(r'\s*("[^"\n]*"|[^,;\t"]*[^\s,;\t"][^,;\t"]*)([,;\t])\2*\s*', line)
    if title is None:
        return False
    sep = title.group(2)
    count = len(line.rstrip()) - len(line.rstrip().rstrip(sep))
    for _ in range(_ABOVE_HEADER):
        header, _, rest = rest.partition("\n")
        if header.strip(" \t\r,;"):
            cells = header.rstrip("\r\n").split(sep)
            return header.count(sep) == count and all(c.strip() for c in cells)
    return False


def _bare_title_line(line: str, rest: str) -> bool:
    """Whether ``line``, above the text ``rest``, is a report's title line written with no separator
    (``Monthly sales report 2024`` over ``month,sales``): words and no comma, semicolon, tab or
    pipe, over a header line (the first of ``rest`` with other than separators) of names only --
    each named once, none a number, none after a space (``good, really`` is a text's comma) --
    whose data lines (up to :data:`_TITLE_ROWS`) have as many cells as it, at least two (a title over
    a one-column header holds no separator either way). A one-column table (``text`` over its texts,
    quoted ones with commas, ``"good, really"``, ``"1,234"``, or texts of which only some hold a
    ``|``, ``;`` or tab, ``ls|wc`` beside ``echo hi``) has no such header under its first line; one
    whose every text holds the same number of them (``ls|wc``, ``cat|sort``) reads as a table that
    may be titled, as a table with the separator would."""
    words = line.strip().strip('"').split()
    if len(words) < 2 or any(sep in line for sep in _SEPARATORS) or '"' in line.strip().strip('"'):
        return False
    lines = [k for k in rest.split("\n", _ABOVE_HEADER)[:_ABOVE_HEADER] if k.strip(" \t\r,;")]
    if len(lines) < 2:
        return False
    sep = header_separator(lines[0], None)
    if sep is None:
        return False
    rows = list(csv.reader(io.StringIO("\n".join(lines[:_TITLE_ROWS + 1]), newline=""), delimiter=sep))
    names = [c.strip() for c in rows[0]]
    return (len(names) > 1 and all(names) and len(set(names)) == len(names) and not any(c[:1].isspace() for c in rows[0][1:])
            and not any(is_number(c) for c in names) and all(len(r) == len(names) for r in rows[1:]))


_ABOVE_HEADER = 100                   # lines above a header looked at for comments
_TITLE_ROWS = 20                      # data lines under a bare title's header that must have its cells


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
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep,     # a lone \r ends a line, as in pandas
                        quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE)
    return next(reader, [])


def renamed_columns(columns) -> bool:
    """Whether pandas may have renamed a repeated header name: a column ``y.1`` beside a ``y``."""
    names = {str(c) for c in columns}
    return any(re.fullmatch(r".*\.\d+", n) and n.rsplit(".", 1)[0] in names for n in names)


def check_row_widths(text: str, path: str | Path, sep: str, quoting: bool, first_line: int = 1) -> None:
    """The error for the first row of ``text`` with more cells than its header: pandas named it by
    its own count ('Expected 2 fields in line 4, saw 3'), which misses the lines a quoted cell runs
    over; here the file's line, the cells and the fix (an unquoted separator inside a text, or decimal
    commas in a comma-separated file: :func:`_decimal_comma_split`)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep,     # a lone \r ends a line, as in pandas
                        quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE)
    header, start = None, 1
    for row in reader:
        if row and header is None:
            header = row
        elif row and len(row) > len(header):
            mark = separator_name(sep)
            if not "".join(row[len(header):]).strip():
                raise LstmkitError(f"{path} line {first_line - 1 + start} ends in {mark}: {len(row)} cells, its "
                                   f"header {len(header)}", f"remove the {mark} at the end of that line")
            shown = sep.join(row)
            wide = (f"{path} line {first_line - 1 + start} has {len(row)} cells, its header {len(header)} "
                    f"({', '.join(header[:6])}{', …' if len(header) > 6 else ''})")
            shown = f"(the row: {shown[:60] + ('…' if len(shown) > 60 else '')!r})"
            split = _decimal_comma_split(row) if sep == "," else None
            if split is not None:                # 266,0 in a comma file: a spreadsheet's number, cut in two
                cell, grouped = split.replace(".", ","), bool(re.fullmatch(r".*\.\d{3}", split))
                what = "commas (thousands separators or decimal commas)" if grouped else "decimal commas"
                raise LstmkitError(f"{wide}: numbers with {what}, such as {cell!r}, in a file separated by commas? "
                                   f"{shown}", "save it separated by semicolons (a spreadsheet's CSV in a decimal-comma "
                                   "locale is; its decimal commas then read), or write the numbers with a decimal "
                                   + ("point and no thousands separators" if grouped else f"point ({split})"))
            raise LstmkitError(f"{wide}: an unquoted {mark} in a text? {shown}",
                               "remove the tab inside the text, or the extra cells" if sep == "\t" else
                               f"put a cell that holds the {mark} in double quotes (\"good film{sep} really\"), or drop "
                               "the extra cells")
        start = reader.line_num + 1


def _decimal_comma_split(row: list[str]) -> str | None:
    """The number a row of a comma-separated file with a cell too many was cut from (``266,0`` read as
    the cells 266 and 0: ``"266.0"``) when its cells are numbers and dates only (no letters) and two
    adjacent ones are digits; else None (a text's unquoted comma)."""
    cells = [c.strip() for c in row]
    if not all(re.fullmatch(r"[-+\u2212]?[\d\s.:/+-]*", c) for c in cells):
        return None
    return next((f"{a}.{b}" for a, b in zip(cells, cells[1:])
                 if re.fullmatch(r"[-+\u2212]?\d+", a) and re.fullmatch(r"\d+", b)), None)


def without_implicit_index(df: pd.DataFrame, reread, wide_rows) -> pd.DataFrame:
    """``df`` read again when pandas took its first cells for row names (its implicit index: the first
    data row had more cells than the header), which put each cell under the column after its own:
    R's ``write.table`` row names 1 … n are dropped (pandas read the rest rightly); a separator at
    every line's end is read as nothing (``reread(index_col=False)``); else it was an unquoted
    separator in a text: ``wide_rows()`` raises the error (:func:`check_row_widths`;
    ``good film, really,pos`` was read as the text ' really')."""
    import pandas as pd
    if isinstance(df.index, pd.RangeIndex) and df.index.start == 0:          # no row names
        return df
    if [str(v) for v in df.index] == [str(k) for k in range(1, len(df) + 1)]:
        return df.reset_index(drop=True)
    last = df.iloc[:, -1] if df.shape[1] else None
    if last is not None and (last.isna() | (last.astype(str).str.strip() == "")).all():
        with warnings_caught():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)    # 'a loss of data': the empty cells
            return reread(index_col=False)
    wide_rows()
    return df


def parse_table(text: str, path: str | Path, sep: str, quoting: bool | None = None,
                first_line: int = 1) -> pd.DataFrame:
    """``text`` (the file ``path``'s, from its line ``first_line`` on) as a table of strings
    separated by ``sep``, at least one row. A quote mark quotes a cell by CSV rules (``quoting=True``)
    or is text like any other (``quoting=False``); by default (None) it quotes unless ``sep`` is a
    tab and :func:`lstmkit.data.quoting.tsv_quoting` finds the file's quote marks are text (a TSV of
    sentences, such as GLUE's SST-2: each line one row, its quote marks kept; a header cell that is a
    whole quoted cell, ``"sentence"``, is still unquoted: a program quoted the header line only)."""
    import pandas as pd
    if quoting is None:
        quoting = sep != "\t" or tsv_quoting(text, path, first_line)
    def read(**options) -> pd.DataFrame:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                           quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE, **options)

    try:
        df = without_implicit_index(read(), read, lambda: check_row_widths(text, path, sep, quoting, first_line))
    except (pd.errors.ParserError, csv.Error, ValueError) as e:
        if quoting and "EOF inside string" in str(e):
            check_run_on_quotes(text, path, sep, first_line)
        if "Expected" in str(e) and "fields" in str(e):
            check_row_widths(text, path, sep, quoting, first_line)
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LstmkitError(f"could not read {path}: {reason}", "check that it is a valid CSV/TSV file") from None
    header = header_cells(text, sep, quoting) if renamed_columns(df.columns) else []
    if not quoting and unquoted_names(df.columns) != list(df.columns):     # a program's quoted header line
        df.columns = unquoted_names(df.columns)
        header = unquoted_names(header_cells(text, sep, quoting))
    if not _sentences(header):                 # a first line of data is told by the column lookups
        unique_names(header, path)
    if len(df) == 0:
        raise LstmkitError(f"{path} has a header but no data rows", "supply at least one data row")
    if quoting:
        check_run_on_quotes(text, path, sep, first_line, df)
    df.attrs["sep"] = sep                  # numbers in a semicolon file may carry decimal commas
    df.attrs["first_line"] = first_line + 1     # the file line of the first data row, for messages (row_place)
    lines = text.replace("\r\n", "\n").replace("\r", "\n")      # a lone \r ends a line too, as in pandas
    if "\n\n" in lines:                   # blank lines, which pandas skips: where they are
        df.attrs["blank_lines"] = [k for k, ln in enumerate(lines.split("\n"), first_line) if not ln]
    return df


def separator_name(sep: str) -> str:
    """A table's separator as a message names it: ``"tab"``, else quoted (``"','"``)."""
    return "tab" if sep == "\t" else repr(sep)


def unseparated_line(lines: list[str], df: pd.DataFrame, i: int, cell: str) -> int | None:
    """The file line of data row ``i`` of ``df``, a CSV / TSV :func:`parse_table` read from the file of
    ``lines``, when that line holds no separator and is the ``cell`` read: a space typed for the tab or
    comma, the row's cells read as one (a source and its target, a text and its label) and the others
    left empty; None otherwise (another kind of table, or a quoted cell running over several lines,
    whose first line holds none)."""
    sep, at = df.attrs.get("sep"), re.fullmatch(r"line (\d+)", row_place(df, i))
    if sep is None or at is None or int(at[1]) > len(lines):
        return None
    line = lines[int(at[1]) - 1]
    return int(at[1]) if sep not in line and line.strip() and line.strip() == cell.strip() else None


def row_place(df: pd.DataFrame, i: int) -> str:
    """Where data row ``i`` of ``df`` is, for a message, as its file numbers it: ``"line 7"`` (the
    file's line) for a CSV / TSV :func:`parse_table` read or a JSON-lines file, ``"sheet row 8"``
    for a workbook (as the spreadsheet shows it: the header is row 1), ``"row 6"`` for Parquet
    (counted from 1 under the header), else ``"data row 6"`` (a frame in memory whose index is not
    0, 1, 2, … but names each row once: ``"data row 6 (index 20)"``, for ``df.loc``). The reader records which in
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
    if line is None:                       # a frame in memory: its index label too, unless it counts 0, 1, 2, …
        import numpy as np
        import pandas as pd
        label = df.index[i]
        label = label.item() if isinstance(label, (np.integer, np.floating, np.str_)) else label   # np.int64(20): 20
        counted = isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1
        # the label only where df.loc finds that one row by it (pd.concat's frames repeat theirs)
        return f"data row {i + 1}" + ("" if counted or not df.index.is_unique else f" (index {label!r})")
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
    reader = csv.reader(io.StringIO("".join(lines), newline=""), delimiter=sep,
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
