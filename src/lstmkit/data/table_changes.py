"""What changed in a table file since a run started on it, told from the table as read.

A run records, for each data file read as a table, its parsed table's row count, column names
and dtypes, its :func:`~lstmkit.data.fingerprint.fingerprint` and the fingerprints of 16 equal
blocks of its rows (:func:`table_records`: a few hundred bytes in ``lstmkit.json``). When the
file's SHA-256 differs at ``--resume``, :func:`table_change` compares the table read now with
that record: the same table (the file saved again with other line endings, quoting or number
spelling) is no change at all; otherwise it names what changed: rows appended (the file grew),
rows gone from the end, the columns in another order, a column renamed, added or removed, other
values in a block of rows.

Each claim is proved from the record, not guessed: "its first M rows are as they were" only when
the fingerprint of the first M rows read now is the one recorded (after the column types the
appended rows changed, an integer column turned float by an empty cell, are converted back with
each value kept).
"""
from __future__ import annotations

from typing import Any

from lstmkit.data.fingerprint import fingerprint

__all__ = ["TABLES_KEY", "table_records", "same_table", "table_change", "brief_names"]

TABLES_KEY = "tables"       # in the run's data summary: {role: record} of the files read as tables
_BLOCKS = 16                # the rows' blocks fingerprinted: where a change lies, what a shorter file kept
_MOST_COLUMNS = 1000        # a wider table's columns are not listed (lstmkit.json stays small)
_SHORT = 16                 # hex digits of a block's fingerprint: enough to tell a block changed


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
        out[role] = record
    return out


def same_table(record: dict[str, Any], frame: Any) -> bool:
    """Whether ``frame`` is the table ``record`` was made of (the same values, columns and types)."""
    return fingerprint(frame) == record.get("print")


def table_change(record: dict[str, Any], frame: Any, subject: str, run_dir) -> tuple[str, str] | None:
    """What changed in the table ``frame`` (read now from the file ``subject`` names) since the
    run ``run_dir`` recorded ``record``, and the fix: ``(problem, fix)``; None when the record
    cannot tell (a wide table, a record from before the blocks)."""
    was, was_types = record.get("columns"), record.get("dtypes")
    rows, now_rows = int(record.get("rows", -1)), len(frame)
    if was is None or was_types is None or rows < 0 or "blocks" not in record:
        return None
    now = [str(c) for c in frame.columns]
    restore = "restore that file, or start a new run without --resume"
    if now != was:
        return _column_change(record, frame, subject, run_dir, now)
    # the rows it had, read now: in the types they had (an empty cell appended turns an integer column float)
    typed = _typed_back(frame.iloc[:rows], was_types)
    if now_rows > rows and typed is not None and fingerprint(typed) == record["print"]:
        return (f"{subject} has {_rows(now_rows - rows, 'more')} than when {run_dir} started (its first {rows} rows "
                "are as they were)", f"a resumed run must train on the data it started on: to resume, restore the "
                f"file as it was (its first {rows} rows; keep the longer one apart); to train on the longer data, "
                "start a new run without --resume")
    kept = _rows_kept(record, typed)
    if now_rows < rows:
        as_were = f"; its first {kept} rows are as they were" if kept else ""
        return (f"{subject} has {_rows(rows - now_rows, 'fewer')} than when {run_dir} started ({rows} then, "
                f"{now_rows} now{as_were})", f"a resumed run must train on the data it started on: {restore}")
    if typed is not None and kept >= rows:        # every block as it was, yet not the whole: nothing to name
        return None
    more = f"{_rows(now_rows - rows, 'more')} and " if now_rows > rows else ""
    if typed is None:
        where = "columns of other types: " + _types_shown(was, was_types, frame)
    else:
        last = min(kept + int(record["block"]), rows)
        where = f"other values in data rows {kept + 1}-{last} (the first rows that differ)"
    return (f"{subject} has {more}{where} since {run_dir} started (their SHA-256 differ)",
            f"a resumed run must train on the data it started on: {restore}")


def _rows(n: int, how: str) -> str:
    return f"{n} {how} row" + ("" if n == 1 else "s")


def _column_change(record, frame, subject: str, run_dir, now: list[str]) -> tuple[str, str]:
    """The error for a table whose columns are not those the run started with: in another order,
    one renamed, added or removed (its rows as they were where that is proved)."""
    was, digest = record["columns"], record["print"]
    names = dict(zip(now, frame.columns))
    fix = "a resumed run must train on the data it started on: restore that file, or start a new run without --resume"
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
                    "rename them back, or start a new run without --resume")
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
