"""What changed in a table file since a run started on it, told from the table as read.

A run records, for each data file read as a table, its parsed table's row count, column names
and dtypes, its :func:`~lstmkit.data.fingerprint.fingerprint` and the fingerprints of 16 equal
blocks of its rows (:func:`table_records`: a few hundred bytes in ``lstmkit.json``). When the
file's SHA-256 differs at ``--resume``, :func:`table_change` compares the table read now with
that record: the same table (the file saved again with other line endings, quoting or number
spelling) is no change at all; otherwise it names what changed: rows appended (the file grew),
rows gone from the end, the columns in another order, a column renamed, added or removed, other
values in a block of rows.

Files of series or texts that are no tables (a UCR ``.tsv``, ``.ts``, ``.arff``; a fastText file,
a class-index CSV) are recorded as a table of their rows as read (:func:`rows_table`: a label and
the series' digest, or the text, a row each), with each column's blocks beside: a resume is told
"3 more series appended", "other labels in rows 4-6", "other values in the series in rows 10-12".
A language model reads such a file's texts alone (:func:`texts_table`: their digests, no labels),
and a plain text file's lines (:func:`lines_table`: a digest a line, its blank ones too, so that a
change is named at the file's own line numbers: "3 more lines appended", "other text in lines
9-12"); the same text saved again with other line ends, or with blank lines or spaces at the ends
of its lines added or removed, is what the model reads, and resumes. A line-aligned file
(translation's --src-file and --tgt-file: :func:`aligned_lines_table`) is named by its lines too,
but a blank line added or removed there is a change: it shifts every pair after it.

Each claim is proved from the record, not guessed: "its first M rows are as they were" only when
the fingerprint of the first M rows read now is the one recorded (after the column types the
appended rows changed, an integer column turned float by an empty cell, are converted back with
each value kept).
"""
from __future__ import annotations

from typing import Any

from lstmkit.data.fingerprint import fingerprint
from lstmkit.errors import opt

__all__ = ["TABLES_KEY", "table_records", "rows_table", "texts_table", "lines_table", "aligned_lines_table", "folder_table",
           "is_rows_table", "same_table",
           "table_change", "brief_names"]

_ALIGNED = "lstmkit_aligned"   # an aligned_lines_table: its blank lines count
TABLES_KEY = "tables"       # in the run's data summary: {role: record} of the files read as tables
_BLOCKS = 16                # the rows' blocks fingerprinted: where a change lies, what a shorter file kept
_MOST_COLUMNS = 1000        # a wider table's columns are not listed (lstmkit.json stays small)
_SHORT = 16                 # hex digits of a block's fingerprint: enough to tell a block changed
_CHUNK = 1 << 16            # texts hashed at once
_ROWS_OF = "lstmkit_rows_of"   # a rows_table's attrs: what its rows are ("series", "text", "line")
# what a rows table's rows are: (one, several, its other column as a change names it, as it names it kept,
# what a run of rows is called: "rows 4-6", a plain text's "lines 4-6")
_UNITS = {"series": ("series", "series", "values in the series", "values", "row"),
          "text": ("text", "texts", "texts", "texts", "row"), "line": ("line", "lines", "text", "text", "line"),
          "file": ("file", "files", "text", "texts", "file")}     # a folder of texts: a row a file, labelled by its name


def rows_table(labels, items, unit: str):
    """The table a resume compares for a file of labelled series or texts that is no table: a row
    each, its ``label`` and a 64-bit digest of its ``unit`` ("series": the series' values, "text":
    the text) as the reader read them; None without labels (a file read to predict). Digests, not
    the texts: each block is hashed three times (the whole, its labels, its texts), a million texts
    in about a second."""
    if labels is None or unit not in _UNITS:
        return None
    return _rows_frame(labels, items, unit)


def folder_table(names, texts):
    """The table a resume compares for a folder of text files (a language model's corpus): a row
    per file in reading order, its path inside the folder as the label and the digest of its text,
    so that a change is named by the files' order: "2 more files appended", "other text in files 4-6"."""
    return _rows_frame(list(names), texts, "file")


def texts_table(texts):
    """The table a resume compares for a file whose texts alone are read (a language model's
    fastText file or class-index CSV: their labels ignored): a row each, the digest of its text, as
    :func:`rows_table` gives it without the labels; a label changed is no change to what trains."""
    return _rows_frame(None, texts, "text")


def lines_table(lines):
    """The table a resume compares for a plain text file (a language model's corpus): a row per
    line of the file, its blank ones too (a change is named at the file's line numbers), the
    digest of its text as the reader keeps it: ``lines`` are the file's lines stripped, as read.
    Where it has blank lines, :func:`table_records` records the fingerprint of its non-blank lines
    beside the whole table's: what trains, so that blank lines added or removed resume."""
    return _rows_frame(None, lines, "line")


def aligned_lines_table(lines):
    """The table a resume compares for a line-aligned file (translation's --src-file and
    --tgt-file: line N of one is the translation of line N of the other): a row per line, its text
    as read, a change named at the file's line numbers ("3 more lines appended"). Unlike
    :func:`lines_table`, a blank line added or removed is a change: it shifts the pairs after it."""
    import pandas as pd
    frame = pd.DataFrame({"line": list(lines)}, dtype=object)
    frame.attrs[_ROWS_OF] = "line"
    frame.attrs[_ALIGNED] = True
    return frame


def _rows_frame(labels, items, unit: str):
    import numpy as np
    import pandas as pd
    if unit == "series":
        cells = np.array([int(fingerprint(item)[:16], 16) for item in items], dtype=np.uint64)
    else:
        cells = _text_digests(items if isinstance(items, list) else list(items))
    frame = pd.DataFrame({unit: cells} if labels is None else {"label": pd.Series(list(labels), dtype=object),
                                                                unit: cells})
    frame.attrs[_ROWS_OF] = unit
    return frame


def _text_digests(texts: list[str]):
    """A 64-bit digest of each text, hashed a chunk at a time: pandas holds the UTF-8 bytes of the
    texts it hashes at once (2.4 million lines, 100 MB of text, took 2.4 s and 360 MB more at
    once; chunks of 65,536 texts 1.1 s and no more than the text)."""
    import numpy as np
    import pandas as pd
    out = np.empty(len(texts), dtype=np.uint64)
    for start in range(0, len(texts), _CHUNK):    # texts mostly distinct: no factorizing
        out[start:start + _CHUNK] = pd.util.hash_pandas_object(pd.Series(texts[start:start + _CHUNK], dtype=object),
                                                               index=False, categorize=False).to_numpy()
    return out


def is_rows_table(frame: Any, unit: str | None = None) -> bool:
    """Whether ``frame`` is a :func:`rows_table` (a file's series or texts) or a :func:`lines_table`,
    not a table read or given; with ``unit`` ("series", "text", "line"), one of those rows."""
    of = getattr(frame, "attrs", {}).get(_ROWS_OF)
    return bool(of) and unit in (None, of)


def table_records(tables: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{role: {"rows", "columns", "dtypes", "print", "block", "blocks"}}`` of the tables read from
    the data files (``{role: DataFrame}``); a table of no fingerprint is left out."""
    out = {}
    for role, frame in tables.items():
        digest = fingerprint(frame)
        if digest is None:
            continue
        record: dict[str, Any] = {"rows": len(frame), "print": digest}
        if len(frame.columns) <= _MOST_COLUMNS:
            record["columns"] = [str(c) for c in frame.columns]
            record["dtypes"] = [str(t) for t in frame.dtypes]
        size = _block_size(len(frame))
        record["block"], record["blocks"] = size, _block_prints(frame, size, len(frame))
        if is_rows_table(frame):
            record["unit"] = frame.attrs[_ROWS_OF]
            if len(frame.columns) > 1:           # which column a block's change lies in: labels or values
                record["column_blocks"] = {str(c): _block_prints(frame[[c]], size, len(frame)) for c in frame.columns}
            if (record["unit"] == "line" and not frame.attrs.get(_ALIGNED)
                    and (text := _text_print(frame)) != digest):    # blank lines among them
                record["text_print"] = text
        out[role] = record
    return out


def same_table(record: dict[str, Any], frame: Any) -> bool:
    """Whether ``frame`` is the table ``record`` was made of (the same values, columns and types),
    or, for a plain text's lines, holds the same non-blank lines (what trains)."""
    if fingerprint(frame) == record.get("print"):
        return True
    return (record.get("unit") == "line" and is_rows_table(frame, "line") and not frame.attrs.get(_ALIGNED)
            and _text_print(frame) == record.get("text_print", record.get("print")))


def _text_print(frame) -> str:
    """The fingerprint of a :func:`lines_table`'s non-blank lines: the text a model trains on."""
    import pandas as pd
    blank = pd.util.hash_pandas_object(pd.Series([""], dtype=object), index=False, categorize=False).iloc[0]
    return fingerprint(frame[frame["line"] != blank]) or ""


def table_change(record: dict[str, Any], frame: Any, subject: str, run_dir) -> tuple[str, str] | None:
    """What changed in the table ``frame`` (read now from the file ``subject`` names) since the
    run ``run_dir`` recorded ``record``, and the fix: ``(problem, fix)``; None when the record
    cannot tell (a wide table, a record from before the blocks)."""
    was, was_types = record.get("columns"), record.get("dtypes")
    rows, now_rows = int(record.get("rows", -1)), len(frame)
    if was is None or was_types is None or rows < 0 or "blocks" not in record:
        return None
    now = [str(c) for c in frame.columns]
    restore = f"restore that file, or start a new run without {opt('resume', True)}"
    if now != was:
        return _column_change(record, frame, subject, run_dir, now)
    one, many = _UNITS[record["unit"]][:2] if "unit" in record else ("row", "rows")
    # the rows it had, read now: in the types they had (an empty cell appended turns an integer column float)
    typed = _typed_back(frame.iloc[:rows], was_types)
    if now_rows > rows and typed is not None and fingerprint(typed) == record["print"]:
        named = _file_names(record, frame, rows, now_rows)
        grown = (f"{_rows(now_rows - rows, 'more', one, many)}{f' ({named})' if named else ''} appended "
                 f"since {run_dir} started" if "unit" in record else f"{_rows(now_rows - rows, 'more')} than when "
                 f"{run_dir} started")
        return (f"{subject} has {grown} (its first {rows} {many} are as they were)", f"a resumed run must train on "
                f"the data it started on: to resume, restore the file as it was (its first {rows} {many}; keep the "
                f"longer one apart); to train on the longer data, start a new run without {opt('resume', True)}")
    kept = _rows_kept(record, typed)
    if now_rows < rows:
        as_were = f"; its first {kept} {many} are as they were" if kept else ""
        return (f"{subject} has {_rows(rows - now_rows, 'fewer', one, many)} than when {run_dir} started ({rows} "
                f"then, {now_rows} now{as_were})", f"a resumed run must train on the data it started on: {restore}")
    if typed is not None and kept >= rows:        # every block as it was, yet not the whole: nothing to name
        return None
    more = f"{_rows(now_rows - rows, 'more', one, many)} and " if now_rows > rows else ""
    if typed is not None and "unit" in record:
        return (f"{subject} has {more}{_rows_differ(record, typed, kept)} since {run_dir} started",
                f"a resumed run must train on the data it started on: {restore}")
    if typed is None:
        where = "columns of other types: " + _types_shown(was, was_types, frame)
    else:
        last = min(kept + int(record["block"]), rows)
        where = f"other values in data rows {kept + 1}-{last} (the first rows that differ)"
    return (f"{subject} has {more}{where} since {run_dir} started (their SHA-256 differ)",
            f"a resumed run must train on the data it started on: {restore}")


def _file_names(record: dict[str, Any], frame, start: int, end: int, most: int = 3) -> str:
    """``a/f3.txt, b.txt, …``: the names, as read now, of a folder's files ``start`` to ``end`` (its
    rows are files, labelled by name); empty for any other table."""
    if record.get("unit") != "file":
        return ""
    names = [str(n) for n in frame["label"].iloc[start:end]]
    return f"{', '.join(names[:most])}{', …' if len(names) > most else ''}"


def _rows(n: int, how: str, one: str = "row", many: str = "rows") -> str:
    return f"{n} {how} {one if n == 1 else many}"


def _rows_differ(record: dict[str, Any], frame, kept: int) -> str:
    """Where a rows table's rows first differ (its first ``kept`` rows proved as they were): the run
    of blocks from the first that differs whose labels, or values, differ alike, e.g. "other labels
    in rows 4-6"."""
    size, rows, unit = int(record["block"]), int(record["rows"]), record["unit"]
    blocks = record.get("column_blocks") or {unit: record["blocks"]}      # one column: its blocks are the table's
    def differ(k: int) -> tuple[bool, bool]:
        start, end = k * size, min((k + 1) * size, rows)
        return tuple(c in blocks and _block_print(frame[[c]], start, end) != blocks[c][k] for c in ("label", unit))
    first = kept // size
    what, last = differ(first), first
    while last + 1 < len(record["blocks"]) and differ(last + 1) == what:
        last += 1
    end = min((last + 1) * size, rows)
    _, _, content, kept_content, row = _UNITS[unit]
    label = "names" if unit == "file" else "labels"                      # a folder's files: labelled by name
    where = f"{row} {first * size + 1}" if end == first * size + 1 else f"{row}s {first * size + 1}-{end}"
    named = _file_names(record, frame, first * size, end)
    first_rows = f"{named}; " * bool(named) + f"the first {row}s that differ"
    if what == (True, False):
        return f"other {label} in {where} ({first_rows}; their {kept_content} are as they were)"
    if what == (False, True):
        labels = f"; their {label} are as they were" if "label" in blocks else ""     # texts alone: no labels read
        return f"other {content} in {where} ({first_rows}{labels})"
    return f"other {label} and {content} in {where} ({first_rows})"


def _column_change(record, frame, subject: str, run_dir, now: list[str]) -> tuple[str, str]:
    """The error for a table whose columns are not those the run started with: in another order,
    one renamed, added or removed (its rows as they were where that is proved)."""
    was, digest = record["columns"], record["print"]
    names = dict(zip(now, frame.columns))
    fix = ("a resumed run must train on the data it started on: restore that file, or start a new run without "
           f"{opt('resume', True)}")
    if sorted(now) == sorted(was) and len(set(now)) == len(now):
        same = " (its rows are as they were)" if fingerprint(frame[[names[c] for c in was]]) == digest else ""
        return (f"{subject} has its columns in another order than when {run_dir} started ({brief_names(was)} then, "
                f"{brief_names(now)} now){same}", fix)
    gone, new = [c for c in was if c not in names], [c for c in now if c not in set(was)]
    if len(now) == len(was) and gone and len(gone) == len(new):
        renamed = [(a, b) for a, b in zip(was, now) if a != b]
        same = fingerprint(frame.set_axis(was, axis=1)) == digest
        if same and all(a in gone and b in new for a, b in renamed):
            shown = ", ".join(f"{b!r} was {a!r}" for a, b in renamed[:8])
            return (f"{subject} has {_plural(len(renamed), 'column')} renamed since {run_dir} started: {shown} "
                    "(its values are as they were)", "a resumed run must train on the data it started on: "
                    f"rename them back, or start a new run without {opt('resume', True)}")
    parts = []
    if new:
        kept = not gone and fingerprint(frame[[names[c] for c in was]]) == digest
        same = " (the columns it had are as they were)" if kept else ""
        parts.append(f"{_plural(len(new), 'new column')} {_names_shown(new)}{same}")
    if gone:
        parts.append(f"no {_plural(len(gone), 'column', bare=True)} {_names_shown(gone)} any more")
    if not parts:                     # the same names, some twice
        parts.append(f"other columns ({brief_names(was)} then, {brief_names(now)} now)")
    return f"{subject} has {' and '.join(parts)} since {run_dir} started", fix


def _typed_back(frame, was_types: list[str]):
    """``frame`` with each column whose type changed converted back to the type it had, when that
    keeps each value (an integer column read as float since an empty cell was appended); ``frame``
    itself when no type changed; None when a column cannot be the type it was."""
    now_types = [str(t) for t in frame.dtypes]
    if now_types == was_types:
        return frame
    if len(now_types) != len(was_types):
        return None
    changed = {k: t for k, (t, u) in enumerate(zip(was_types, now_types)) if t != u}
    try:
        back = frame.copy()
        for k, t in changed.items():
            column = frame.iloc[:, k]
            back.isetitem(k, column.astype(t))
            if not bool(back.iloc[:, k].eq(column).all()):
                return None
    except (TypeError, ValueError):         # a float with NaN cannot be the int it was
        return None
    return back


def _rows_kept(record: dict[str, Any], frame) -> int:
    """How many first rows of ``frame`` (the first rows read now) the record's blocks prove as they were."""
    if frame is None:
        return 0
    size, kept = int(record["block"]), 0
    for k, digest in enumerate(record["blocks"]):
        end = min((k + 1) * size, int(record["rows"]))
        if end > len(frame) or _block_print(frame, k * size, end) != digest:
            break
        kept = end
    return kept


def _block_size(rows: int) -> int:
    return max(1, -(-rows // _BLOCKS))


def _block_prints(frame, size: int, rows: int) -> list[str]:
    return [_block_print(frame, start, min(start + size, rows)) for start in range(0, rows, size)]


def _block_print(frame, start: int, end: int) -> str:
    return (fingerprint(frame.iloc[start:end]) or "")[:_SHORT]


def _types_shown(was: list[str], was_types: list[str], frame) -> str:
    now_types = [str(t) for t in frame.dtypes]
    changed = [f"{c!r} is {u}, was {t}" for c, t, u in zip(was, was_types, now_types) if t != u]
    return ", ".join(changed[:8]) + (f" ({len(changed)} columns in all)" if len(changed) > 8 else "")


def _names_shown(names: list[str]) -> str:
    """One name as Python writes it, several as a list (cut to the first eight)."""
    return repr(names[0]) if len(names) == 1 else brief_names(names)


def _plural(n: int, word: str, bare: bool = False) -> str:
    noun = word if n == 1 else word + "s"
    return noun if bare else (f"a {noun}" if n == 1 else f"{n} {noun}")


def brief_names(names: list[str], most: int = 8) -> str:
    """A list of names as Python writes it, cut to its first ``most`` with how many in all."""
    if len(names) <= most:
        return repr(names)
    return repr(names[:most])[:-1] + f", … ({len(names)} in all)]"
