"""A command's output table, written in the type its file name asks for.

    TABLE_WRITERS            suffix -> ``write(df, path)`` (CSV, TSV, Parquet, JSON, JSON lines, xlsx)
    check_table_out(out)     refuse, before any work, a suffix no writer has, a run folder's own file,
                             a folder, a path under a file, or a file the command reads
    out_file(example)        typer's parser of an --out naming a file: ``--out preds/`` refused (a Path drops the slash)
    write_table(df, out)     ``out`` written atomically, or ``-``: CSV on standard output
    echo_or_write_table(df, out)   CSV on standard output, or ``out`` written atomically (a stream's
                                   path, ``/dev/stdout``: written into it, the note on standard error)
    is_standard_output(out)  whether ``out`` is ``-`` or a path to this process's standard output
    off_standard_output(out) where a command prints its report when its table took standard output

``--out -`` is standard output, as Unix tools read it, for every command that writes a table (a
file named ``-`` was written before): the table as CSV, there being no name to ask for another type.
A Parquet file or workbook is not written to standard output (name a file: ``--out t.parquet``).
A float in a JSON table is written as Python's ``repr`` writes it, the shortest text that reads back
as the same float (pandas' JSON kept 10 significant digits: ``0.8132661844`` of 0.81326618442...); a
float32 (or float16) column's as numpy prints it, the shortest text that reads back as the same float32
(``0.1``; widened to a float64 first it read ``0.10000000149011612``).

An ``.xlsx`` workbook is made in memory (pandas names the format by the file's suffix, and an
atomic write's temporary file has none); a cell holding a control character a workbook cannot
hold is one error naming its row and column, and so is a table larger than a worksheet (a long
series' test forecasts: 1,048,575 rows under the header at most). A workbook's cells hold no time zone: times with one
(forecasts of data in a zone) are written as their local clock shows them; JSON writes them as ISO
text with their offset.
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import typer

from lstmkit.errors import LstmkitError

__all__ = ["TABLE_WRITERS", "STANDARD_OUTPUT", "check_table_out", "check_file_name", "out_file", "write_table",
           "echo_or_write_table", "is_standard_output", "off_standard_output"]


# a command's table, written in the type its file name asks for (a name without one: CSV)
TABLE_WRITERS = {
    ".csv": lambda df, f: df.to_csv(f, index=False), "": lambda df, f: df.to_csv(f, index=False),
    ".txt": lambda df, f: df.to_csv(f, index=False), ".tsv": lambda df, f: df.to_csv(f, sep="\t", index=False),
    ".parquet": lambda df, f: df.to_parquet(f, index=False), ".pq": lambda df, f: df.to_parquet(f, index=False),
    ".json": lambda df, f: _write_json(df, f, lines=False), ".jsonl": lambda df, f: _write_json(df, f, lines=True),
    ".xlsx": lambda df, f: Path(f).write_bytes(_xlsx_bytes(df)),
}


STANDARD_OUTPUT = "-"          # --out -: the table on standard output, as CSV

XLSX_ROWS, XLSX_COLUMNS = 1_048_576, 16_384          # a worksheet's size: rows (the header one of them), columns


def _zoned(df) -> list:
    """The columns of ``df`` holding times with a zone."""
    return [name for name in df.columns if getattr(getattr(df[name], "dt", None), "tz", None) is not None]


def _write_json(df, path, lines: bool) -> None:
    """``df`` as JSON records (``lines``: one a line), each float as ``repr`` writes it, which reads back
    as the same float: pandas' ``to_json`` kept 10 significant digits (15 at most), so a forecast read
    from the JSON differed from the same table's CSV or Parquet in its 11th digit. Times are ISO text,
    a zoned one with its offset (``2024-03-01T00:00:00+01:00``: pandas wrote it in UTC, off the data's
    clock); a missing value or a float that is not finite is ``null``.

    Each record is the text ``json.dumps`` gives the dict of its row (``ensure_ascii=False``; columns of
    one name: one key, in the first's place, with the last's value), put together from each column's values'
    texts (:func:`_json_texts`), :data:`_JSON_ROWS` rows at a time: a ``json.dumps`` a row was 60 % of a
    300,000-row write, which takes about half the time now."""
    import pandas as pd
    names = [str(name) for name in df.columns]
    last = {name: k for k, name in enumerate(names)}          # dict(zip(names, row))'s keys and values
    # each column's values made a batch at a time, beside its texts: made whole up front, a Python object a cell,
    # they held 356 MB for a million rows of five columns (the CSV writer 16 MB); a naive time column's precision
    # is the whole column's, as its CSV has it
    units = {k: _unit(df.iloc[:, k].to_numpy()) if pd.api.types.is_datetime64_dtype(df.iloc[:, k].dtype) else None
             for k in last.values()}
    # a record a line (json's indent= takes its Python encoder, seven times slower than its C one)
    keys = [json.dumps(name, ensure_ascii=False).replace("%", "%%") for name in last]
    record = "{" + ", ".join(f"{key}: %s" for key in keys) + "}"
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        if not lines:
            f.write("[")
        for start in range(0, len(df) if names else 0, _JSON_ROWS):
            texts = [_json_texts(_json_column(df.iloc[start:start + _JSON_ROWS, k], units[k])) for k in last.values()]
            rows = [record % row for row in zip(*texts)]
            if lines:
                f.write("\n".join(rows) + "\n")
            else:
                f.write(("\n " if start == 0 else ",\n ") + ",\n ".join(rows))
        if not lines:
            f.write("\n]\n" if names and len(df) else "]\n")


_JSON_ROWS = 65_536           # the rows a JSON table's writer puts together at a time


def _json_texts(values: list) -> list[str]:
    """Each of ``values`` (a column's, as :func:`_json_column` gives them) as ``json.dumps`` writes it inside a
    record: a column of texts by the encoder's own string escaping, one of numbers, bools and nulls by one
    ``json.dumps`` of the list (no such value's text holds ``", "``), any other a value at a time."""
    from json.encoder import encode_basestring            # what json.dumps(..., ensure_ascii=False) escapes with
    if all(type(v) is str for v in values):
        return list(map(encode_basestring, values))
    if not any(isinstance(v, (str, list, dict)) for v in values):
        return json.dumps(values, allow_nan=False)[1:-1].split(", ")
    return [json.dumps(v, ensure_ascii=False, allow_nan=False) for v in values]


def _json_column(col, unit: str | None = None) -> list:
    """A column's values as JSON writes them: floats as they are, a float32 one's by its own shortest
    text (None where not finite), times as ISO text, a missing value None, a numpy scalar its Python value.
    A column of floats, numpy integers or bools is converted whole (a value at a time, a float32 column
    of 300,000 rows took 0.95 s, now 0.21 s; an integer one 0.6 s). ``unit``: a naive time column's precision
    (:func:`_unit`; default: this column's own), given where ``col`` is part of a longer column."""
    import numpy as np
    import pandas as pd
    from lstmkit.files import json_safe, shortest_floats
    if pd.api.types.is_float_dtype(col.dtype):
        kind = np.dtype(getattr(col.dtype, "numpy_dtype", col.dtype))       # Float32's too
        if kind.itemsize < 8:            # float32's shortest text, as numpy prints it: 0.1, not 0.10000000149011612
            wide = shortest_floats(col.to_numpy(dtype=kind, na_value=np.nan))
        else:
            wide = col.astype("float64").to_numpy(dtype=np.float64)
        values = wide.tolist()
        for k in np.flatnonzero(~np.isfinite(wide)).tolist():          # NaN, inf: null
            values[k] = None
        return values
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "iub":   # numpy's integers and bools: none missing
        return col.tolist()
    if pd.api.types.is_datetime64_dtype(col.dtype):                 # naive: numpy's ISO text, as isoformat's
        text = np.datetime_as_string(col.to_numpy(), unit=unit or _unit(col.to_numpy()))
        return [None if t == "NaT" else t for t in text.tolist()]
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return [None if pd.isna(t) else t.isoformat() for t in col]
    return [None if _missing(v) else json_safe(v) for v in col.tolist()]


def _unit(values) -> str:
    """The coarsest of seconds, milliseconds, microseconds and nanoseconds that holds every naive time of
    ``values`` whole: one precision for the column, as its CSV has (numpy's ``auto`` picks one a value, and
    wrote a midnight beside ``00:00:00.500`` as the date alone, ``2024-01-02``)."""
    import numpy as np
    times = values[~np.isnat(values)]
    return next((unit for unit in ("s", "ms", "us") if (times.astype(f"datetime64[{unit}]") == times).all()), "ns")


def _missing(v) -> bool:
    import pandas as pd
    return v is None or (pd.api.types.is_scalar(v) and bool(pd.isna(v)))


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


def check_table_out(out: Path | str | None, suffixes=TABLE_WRITERS, example: str = "table.csv",
                    inputs: dict | None = None) -> None:
    """Before any work: an ``--out`` whose file type no table writer has (``suffixes``; None: any name),
    that is a run folder's own file, a folder, or a path under a file is an error (each was found at the
    rename, after the training or the predictions), and so is one that is a file the command reads
    (``inputs``: option name -> path or paths, ``{"data": path}``): ``predict --data sales.csv --out
    sales.csv`` replaced the data by its forecast. ``-`` (standard output) is always fine; ``example``
    is the file name the fixes offer."""
    if out is None or str(out) == STANDARD_OUTPUT:
        return
    if isinstance(out, str):
        check_file_name(out, example)
    out = Path(out)
    if suffixes is not None and out.suffix.lower() not in suffixes:
        raise LstmkitError(f"cannot write a table as {out.suffix!r}: {out}",
                           "name the file .csv, .tsv, .parquet, .json, .jsonl or .xlsx, or - for CSV on "
                           "standard output")
    from lstmkit.files import file_in_the_way, is_stream
    from lstmkit.runs import check_out_file
    check_out_file(out)
    if is_stream(out):
        return
    if out.is_dir():
        raise LstmkitError(f"cannot write {out}: it is a folder",
                           f"name a file, e.g. {out / example}, or move {out} aside")
    read = _input_at(out, inputs or {})
    if read is not None:
        from lstmkit.errors import opt, worded
        raise LstmkitError(f"cannot write {out}: it is the file " + worded(f"read as {opt(read)}", f"given as {read}") +
                           ", which the table would replace",
                           f"write the table under another name, e.g. {out.parent / example}")
    blocker = file_in_the_way(out.parent)
    if blocker is not None:
        raise LstmkitError(f"cannot write {out}: {blocker} is a file, not a folder",
                           "pass a path inside a folder (missing folders are created)")


def check_file_name(text: str, example: str = "table.csv") -> None:
    """An ``--out`` (``out=``) that ends in a slash names a folder, not the file a table is written to:
    ``--out preds/`` where no ``preds`` folder was yet wrote a FILE named ``preds`` (a path drops the
    slash), so the text as given is read, before any work."""
    import os
    if text.endswith(tuple(filter(None, ("/", os.sep, os.altsep)))):
        raise LstmkitError(f"cannot write {text}: it ends in a slash, naming a folder, where a file name is wanted",
                           f"name the file, e.g. {Path(text) / example}")


def out_file(example: str = "table.csv"):
    """The typer ``parser`` of a command's ``--out`` that names a table's file: the text as typed,
    refused where it ends in a slash (:func:`check_file_name`; typer's Path drops the slash), else
    its Path."""
    def parse(text: str) -> Path:
        check_file_name(text, example)
        return Path(text)
    return parse


def _input_at(out: Path, inputs: dict) -> str | None:
    """The name of the option in ``inputs`` (name -> path, or a list of paths) whose file ``out`` is."""
    import os
    for name, given in inputs.items():
        for path in given if isinstance(given, (list, tuple)) else [given]:
            if isinstance(path, (str, os.PathLike)) and str(path) != STANDARD_OUTPUT:
                try:
                    if os.path.samefile(out, path):
                        return name
                except (OSError, ValueError):
                    continue
    return None


def is_standard_output(out: Path | str | None) -> bool:
    """Whether ``out`` is this process's standard output: ``-``, or a path to it (``/dev/stdout``,
    ``/dev/fd/1``, however the shell redirected it)."""
    import os
    if out is None:
        return False
    if str(out) == STANDARD_OUTPUT:
        return True
    try:
        return os.path.samestat(os.stat(out), os.fstat(1))
    except (OSError, ValueError):
        return False


def off_standard_output(out: Path | str | None):
    """Around a command's report: on standard error when its table ``out`` took standard output (the
    report printed after the table went into the same stream, CSV then JSON, neither readable)."""
    return contextlib.redirect_stdout(sys.stderr) if is_standard_output(out) else contextlib.nullcontext()


def write_table(df, out: Path | str, write=None) -> str:
    """``df`` written to ``out`` by ``write(df, path)`` (default: the writer of its suffix,
    :data:`TABLE_WRITERS`), atomically; ``-``: as CSV on standard output. Returns where it went, as a
    note names it (``standard output``, or the path)."""
    if str(out) == STANDARD_OUTPUT:
        typer.echo(df.to_csv(index=False, lineterminator="\n"), nl=False)
        return "standard output"
    from lstmkit.runs import atomic_write
    write = write or TABLE_WRITERS[Path(out).suffix.lower()]
    atomic_write(out, lambda tmp: write(df, tmp))
    return str(out)


def echo_or_write_table(df, out: Path | str | None) -> None:
    """A command's table (a DataFrame): CSV on stdout, or written atomically to ``out`` in the
    type its name asks for (:data:`TABLE_WRITERS`); ``-``: CSV on stdout."""
    if out is None:
        typer.echo(df.to_csv(index=False, lineterminator="\n"), nl=False)   # the stream ends lines as its platform does
        return
    from lstmkit.files import is_stream
    check_table_out(out)
    where = write_table(df, out)
    # into a stream (--out /dev/stdout | jq, --out -): the note on standard error, not after the table
    # counted as evaluate's counts are ('wrote 1234567 rows' beside '1,234,567 test forecasts'), one row a row
    rows = f"{len(df):,} row" + ("" if len(df) == 1 else "s")
    typer.echo(f"wrote {rows} to {where}", err=is_standard_output(out) or is_stream(out))
