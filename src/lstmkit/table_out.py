"""A command's output table, written in the type its file name asks for.

    TABLE_WRITERS            suffix -> ``write(df, path)`` (CSV, TSV, Parquet, JSON, JSON lines, xlsx)
    check_table_out(out)     refuse, before any work, a suffix no writer has or a run folder's own file
    echo_or_write_table(df, out)   CSV on standard output, or ``out`` written atomically (a stream's
                                   path, ``/dev/stdout``: written into it, the note on standard error)

An ``.xlsx`` workbook is made in memory (pandas names the format by the file's suffix, and an
atomic write's temporary file has none); a cell holding a control character a workbook cannot
hold is one error naming its row and column, and so is a table larger than a worksheet (a long
series' test forecasts: 1,048,575 rows under the header at most). A workbook's cells hold no time zone: times with one
(forecasts of data in a zone) are written as their local clock shows them; JSON writes them as ISO
text with their offset.
"""
from __future__ import annotations

import io
from pathlib import Path

import typer

from lstmkit.errors import LstmkitError

__all__ = ["TABLE_WRITERS", "check_table_out", "echo_or_write_table"]


# a command's table, written in the type its file name asks for (a name without one: CSV)
TABLE_WRITERS = {
    ".csv": lambda df, f: df.to_csv(f, index=False), "": lambda df, f: df.to_csv(f, index=False),
    ".txt": lambda df, f: df.to_csv(f, index=False), ".tsv": lambda df, f: df.to_csv(f, sep="\t", index=False),
    ".parquet": lambda df, f: df.to_parquet(f, index=False), ".pq": lambda df, f: df.to_parquet(f, index=False),
    ".json": lambda df, f: _zoned_as_text(df).to_json(f, orient="records", date_format="iso", indent=1),
    ".jsonl": lambda df, f: _zoned_as_text(df).to_json(f, orient="records", date_format="iso", lines=True),
    ".xlsx": lambda df, f: Path(f).write_bytes(_xlsx_bytes(df)),
}


XLSX_ROWS, XLSX_COLUMNS = 1_048_576, 16_384          # a worksheet's size: rows (the header one of them), columns


def _zoned(df) -> list:
    """The columns of ``df`` holding times with a zone."""
    return [name for name in df.columns if getattr(getattr(df[name], "dt", None), "tz", None) is not None]


def _zoned_as_text(df):
    """``df`` with its zoned times as ISO text with their offset (``2024-03-01T00:00:00+01:00``):
    pandas' JSON would write them in UTC (``2024-02-29T23:00:00.000Z``), off the data's clock."""
    zoned = _zoned(df)
    return df.assign(**{name: df[name].map(lambda t: t.isoformat(), na_action="ignore") for name in zoned}) \
        if zoned else df


def _xlsx_bytes(df) -> bytes:
    """``df`` as an Excel workbook (made in memory: pandas names the format by the file's suffix,
    and the temporary file of an atomic write has none)."""
    from openpyxl.utils.exceptions import IllegalCharacterError
    rows, columns = len(df) + 1, len(df.columns)            # the header is a row
    if rows > XLSX_ROWS or columns > XLSX_COLUMNS:           # openpyxl's ValueError came after writing the rest
        raise LstmkitError(f"the table is {rows - 1:,} rows x {columns:,} columns, more than an .xlsx worksheet "
                           f"holds ({XLSX_ROWS - 1:,} rows under its header, {XLSX_COLUMNS:,} columns)",
                           "write it as .parquet, .csv, .tsv or .jsonl")
    buf = io.BytesIO()
    zoned = _zoned(df)
    if zoned:                                    # openpyxl refuses them; the local clock is what the zone shows
        df = df.assign(**{name: df[name].dt.tz_localize(None) for name in zoned})
    try:
        df.to_excel(buf, index=False, engine="openpyxl")
    except IllegalCharacterError:
        raise _cell_a_workbook_cannot_hold(df) from None
    return buf.getvalue()


def _cell_a_workbook_cannot_hold(df) -> LstmkitError:
    """The error naming the first cell of ``df`` with a control character (a form feed, \\x0b, …
    of a text file's sentence), which a workbook cannot hold: openpyxl's was a traceback."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    for name in df.columns:
        for k, v in enumerate(df[name]):
            found = ILLEGAL_CHARACTERS_RE.search(v) if isinstance(v, str) else None
            if found:
                return LstmkitError(f"row {k + 1} of column {name!r} holds a control character ({found.group()!r}), "
                                    f"which an .xlsx workbook cannot hold", "write the table as .csv, .tsv, "
                                    ".parquet or .json, or remove the character from the data")
    return LstmkitError("the table holds a character an .xlsx workbook cannot hold",
                        "write the table as .csv, .tsv, .parquet or .json")


def check_table_out(out: Path | None) -> None:
    """An ``--out`` whose file type no table writer has, or that is a run folder's own file, is an
    error (before any work is done)."""
    if out is not None and Path(out).suffix.lower() not in TABLE_WRITERS:
        raise LstmkitError(f"cannot write a table as {Path(out).suffix!r}: {out}",
                           "name the file .csv, .tsv, .parquet, .json, .jsonl or .xlsx")
    if out is not None:
        from lstmkit.runs import check_out_file
        check_out_file(out)


def echo_or_write_table(df, out: Path | None) -> None:
    """A command's table (a DataFrame): CSV on stdout, or written atomically to ``out`` in the
    type its name asks for (:data:`TABLE_WRITERS`)."""
    if out is None:
        typer.echo(df.to_csv(index=False, lineterminator="\n"), nl=False)   # the stream ends lines as its platform does
        return
    from lstmkit.files import is_stream
    from lstmkit.runs import atomic_write
    check_table_out(out)
    atomic_write(out, lambda tmp: TABLE_WRITERS[Path(out).suffix.lower()](df, tmp))
    # into a stream (--out /dev/stdout | jq): the note on standard error, not after the table
    typer.echo(f"wrote {len(df)} rows to {out}", err=is_stream(out))
