"""Whether a tab-separated file's quote marks quote its cells (CSV rules) or are part of its text.

    tsv_quoting(text, where, first_line)   True: read with CSV quoting; False: every quote mark is text
    check_run_on_quotes(text, path, sep, first_line, df)   a quote mark at a cell's start that ran on over
                                           rows (read with CSV quoting): an error naming where it opens and ends
    unquoted_names(names)                  a header read with its quote marks as text, each whole quoted cell
                                           (``"sentence"``) unquoted

A comma-separated file is read with CSV quoting (a spreadsheet's). Tab-separated files come in two
kinds: a spreadsheet's or pandas' export, which quotes a cell holding a quote mark, a tab or a line
break (``"say ""hi"" twice"``), and sentence corpora that quote nothing (GLUE's SST-2 ``train.tsv``,
Common Voice, Tatoeba), whose sentences may begin with a quote mark or hold an odd number of them
(``" the movie " is fine``, ``it 's a "must see``). Read with CSV quoting, such a corpus lost its
quote marks, or a quote mark at the start of one sentence ran on to a later one and merged the lines
between into one cell, without a word. :func:`tsv_quoting` tells the two kinds apart.
"""
from __future__ import annotations

import csv
import io
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from lstmkit.errors import LstmkitError, callers_level

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["tsv_quoting", "check_run_on_quotes", "unquoted_names"]

_QUOTED = re.compile(r'"([^"]*(?:""[^"]*)*)"')            # a quoted cell, its inner quote marks doubled
_PLAIN = re.compile(r"[^\t\n]*")


class _Spanning(NamedTuple):
    """A cell read with CSV quoting that began with a quote mark and holds a line break."""
    line: int               # the text's line it begins on, from 0
    column: int             # from 0
    breaks: int             # line breaks inside it
    tab: bool               # holds a tab


def tsv_quoting(text: str, where: str | Path, first_line: int = 1) -> bool:
    """Whether the tab-separated ``text`` (the file ``where``'s, from its line ``first_line`` on) is
    read with CSV quoting; else every quote mark is text and each line is one row.

    The rule. Quoting is read only where it is a writer's quoting:

    1. every cell that begins with a quote mark ends at its closing quote (the quote marks inside it
       doubled) right before a tab or the line's end (``" the movie " is fine`` and ``"must see`` do
       not: text);
    2. every quoted cell needs its quotes (it holds a quote mark, a tab or a line break) or sits in a
       column quoted in every non-empty data cell (a writer that quotes every cell, which shows in
       the quoted cells that need no quotes): ``"great"`` in a column of plain cells is a sentence
       in quote marks;
    3. a quoted cell that holds a line break (so that the table has fewer rows than the file has
       lines) sits in such a column, or the file read as text is no table: some line has not the
       header's count of cells (Excel's multi-line cell, ``"line one`` / ``line two"<TAB>pos``).

    When 1 or 2 fails, or no cell begins with a quote mark (both readings are then the same), the
    quote marks are text. When 1 and 2 hold but 3 does not, both readings make whole tables of different row
    counts: the one whose rows are the file's lines is taken, with a warning naming the line. A
    cell with tabs and line breaks whose quoting 3 does not confirm, in a file whose lines read as
    text are not rows either, is an :class:`LstmkitError`: either reading could be wrong.
    """
    if not _quote_starts(text):
        return False
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    scanned = _scan(text)
    if scanned is None:                                        # rule 1
        return False
    multiline, unneeded, plain = scanned
    # a writer that quotes every cell: a column of quoted data cells only, one of them needing no quotes
    quoted_columns = unneeded - plain
    if unneeded & plain:                                       # rule 2
        return False
    spanning = [c for c in multiline if c.column not in quoted_columns]
    if not spanning:                                           # rule 3
        return True
    lines = text.split("\n")
    header = next((ln for ln in lines if ln.strip()), "")
    cells = header.count("\t") + 1
    short = next((k for k, ln in enumerate(lines) if ln.strip() and ln.count("\t") + 1 != cells), None)
    first = spanning[0]
    start, end = first.line + first_line, first.line + first.breaks + first_line
    if short is None:
        warnings.warn(f"{where} line {start}: its quote mark is read as text and each line as one row (read as a "
                      f"quoted cell it would run on to line {end}, making lines {start}-{end} one row); if the file "
                      f"quotes that cell, quote every cell of column {first.column + 1}",
                      UserWarning, stacklevel=callers_level())
        return False
    if not any(c.tab for c in spanning):
        return True
    found = lines[short].count("\t") + 1
    raise LstmkitError(f"{where} line {start}: a quote mark opens a cell that runs on to line {end} over tabs and line "
                       f"breaks (rows merged into one cell?), and with its quote marks read as text line "
                       f"{short + first_line} has {found} cells where the header has {cells}",
                       f"if the quote marks are part of the text, give line {short + first_line} its {cells} cells; "
                       f"if they quote that cell, quote every cell of column {first.column + 1}")


def unquoted_names(names) -> list:
    """A header's ``names`` read with the quote marks as text, each one that is a whole quoted cell
    unquoted (``"sentence"`` -> ``sentence``; ``"a ""b"" c"`` -> ``a "b" c``, its inner quote marks
    doubled): a program that quotes its header line only, over a corpus read literally (its
    sentences' quote marks are text), names its columns without them. Other names are kept."""
    out = []
    for name in names:
        m = _QUOTED.fullmatch(name) if isinstance(name, str) else None
        out.append(m.group(1).replace('""', '"') if m else name)
    return out


def _quote_starts(text: str) -> bool:
    r"""Whether a cell of ``text`` begins with a quote mark (four substring searches: a regex's
    ``(?:^|[\t\n\r])"`` took as long as pandas' reading of a large file)."""
    return text.startswith('"') or any(sep + '"' in text for sep in "\t\n\r")


def _scan(text: str) -> tuple[list[_Spanning], set[int], set[int]] | None:
    r"""``text`` (lines ended by ``\n``) read with CSV quoting: its quoted cells that hold a line break,
    the columns of quoted data cells that need no quotes (no quote mark, tab or line break inside), and
    the columns with a non-empty unquoted data cell; None when a quote mark at a cell's start is
    not CSV quoting (it does not close right before a tab or the line's end). The lines between two
    quote marks are passed over together; a line holding one is split at its tabs, or read cell by
    cell where a quoted cell holds a tab or runs on over the line's end."""
    multiline: list[_Spanning] = []
    unneeded: set[int] = set()
    plain: set[int] = set()
    n, i, line, columns = len(text), 0, 0, 0
    while i < n:
        if columns:                                # past the header: lines without a quote mark at once
            quote = text.find('"', i)
            start = n if quote < 0 else text.rfind("\n", i, quote) + 1
            if start > i:
                if len(plain) < columns:
                    plain.update(k for ln in text[i:start].split("\n") for k, cell in enumerate(ln.split("\t"))
                                 if cell)
                line, i = line + text.count("\n", i, start), start
                continue
        end = text.find("\n", i)
        end = n if end < 0 else end
        if not columns and '"' not in text[i:end]:     # the header, or a blank line above it
            columns = text.count("\t", i, end) + 1 if text[i:end].strip() else 0
            i, line = end + 1, line + 1
            continue
        header, column = not columns, 0
        cells = text[i:end].split("\t")
        if all(_QUOTED.fullmatch(c) for c in cells if c.startswith('"')):     # no quoted cell holds a tab or \n
            for k, cell in enumerate([] if header else cells):
                if cell.startswith('"'):
                    if '"' not in cell[1:-1]:
                        unneeded.add(k)
                elif cell:
                    plain.add(k)
            columns = len(cells) if header else columns
            i, line = end + 1, line + 1
            continue
        while True:                                                     # read cell by cell
            if text.startswith('"', i):
                m = _QUOTED.match(text, i)
                if m is None or (m.end() < n and text[m.end()] not in "\t\n"):
                    return None
                value = m.group(1)
                breaks, tab = value.count("\n"), "\t" in value
                if breaks:
                    multiline.append(_Spanning(line, column, breaks, tab))
                elif not (header or tab or '"' in value):
                    unneeded.add(column)
                line += breaks
                i = m.end()
            else:
                m = _PLAIN.match(text, i)
                if m.end() > i and not header:
                    plain.add(column)
                i = m.end()
            if i < n and text[i] == "\t":
                i, column = i + 1, column + 1
                continue
            break
        columns = column + 1 if header else columns
        i, line = i + 1, line + 1
    return multiline, unneeded, plain


def check_run_on_quotes(text: str, path: str | Path, sep: str, first_line: int,
                        df: pd.DataFrame | None = None) -> None:
    """An :class:`LstmkitError` when a quote mark at the start of a field (``"Best film ever``, the
    quote part of the text) opened a quoted field that ran on over the lines after it, to the end
    of the file or to a later quote mark not followed by a separator: pandas reads the lines it
    ran over as one cell, rows merged into one without a word. With ``df`` (what pandas read)
    looked at only when a cell holds a line break; a well-formed multi-line field passes."""
    if df is not None and not any(df[c].astype(str).str.contains("\n", regex=False).any() for c in df.columns):
        return
    # lines end as pandas ends them, at a lone \r too: a Mac file whose rows end so and whose quoted cell holds a
    # \n (its line ends left as they are) was one line here, and its run-on quote pandas' 'EOF inside string'
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
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
