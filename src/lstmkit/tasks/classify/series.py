"""Numeric sequences for classification: UCR TSV (label first, one series a line; also a CSV
with no header: :mod:`~lstmkit.tasks.classify.ucrfile`), sktime / aeon .ts and Weka .arff files
(:mod:`~lstmkit.tasks.classify.tsfile`, :mod:`~lstmkit.tasks.classify.arfffile`), long tables
(sample, t, features…, label) and wide tables (one row per sample) as .csv, .xlsx or .parquet,
DataFrames, or arrays with labels ``y``. Every user mistake raises :class:`LstmkitError` naming
the row and a fix."""
from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd

from lstmkit.data.arrays import arrow_as_frame, lost_integer, masked_as_missing, matrix_as_array, tensor_as_array
from lstmkit.data.columns import trailing_blank_rows, unnamed_and_empty
from lstmkit.data.splits import check_not_saved_dataset, parts_error, split_parts
from lstmkit.data.table_changes import rows_table
from lstmkit.data.tables import PARQUET, SHEETS, is_pipe, pipe_as_file, read_table
from lstmkit.data.textfile import column_strings as _as_strings
from lstmkit.data.textfile import comma_decimals, dot_groups, dot_two_ways
from lstmkit.data.textfile import file_ext as _ext
from lstmkit.data.textfile import (blank_rows, check_unique_columns, header_separator, parse_table, read_text_file,
                                   row_place, separator_line, without_row_numbers)
from lstmkit.data.textfile import table_column as _column
from lstmkit.errors import BadValue, LstmkitError, callers_level, named_opt, opt, warnings_caught
from lstmkit.runs import path_exists
from lstmkit.tasks.classify.labels import label_cells as _labels
from lstmkit.tasks.classify.labels import labelled_rows, labels_from_y, labels_given_twice
from lstmkit.tasks.classify.arfffile import read_arff
from lstmkit.tasks.classify.tsfile import read_ts
from lstmkit.tasks.classify.ucrfile import is_table_header, parse_series_lines

__all__ = ["SeriesData", "read_series", "series_table", "scaled_as_float32"]


@dataclass
class SeriesData:
    """Numeric sequences ``seqs[i] [T_i, F]`` (float64) and their labels (or ``None``)."""

    seqs: list[np.ndarray]
    labels: list[str] | None
    feature_names: list[str] = field(default_factory=list)
    source: str | None = None
    ids: list[str] | None = None        # a long table's sample ids (a wide one's id column), as written
    id_name: str | None = None          # the wide table's id column (a long one's is the config's ``sample``)
    # the long or wide table read (from a file, or given), or a UCR / .ts / .arff file's series as
    # rows (table_changes.rows_table): a resume compares it
    table: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    step_names: list[str] | None = None  # a wide table's step columns, in its order (else None)
    columns: tuple[str, str] | None = None   # (sample, time) a long table's layout implied (no such columns named)
    unequal: bool = False               # the file declares unequal lengths (a .ts file's '@equalLength false')

    def __len__(self) -> int:
        return len(self.seqs)

    def subset(self, idx) -> SeriesData:
        labels = None if self.labels is None else [self.labels[i] for i in idx]
        ids = None if self.ids is None else [self.ids[i] for i in idx]
        return SeriesData([self.seqs[i] for i in idx], labels, self.feature_names, self.source, ids, self.id_name,
                          step_names=self.step_names, columns=self.columns, unequal=self.unequal)


def read_series(data: Any, y: Sequence | None = None, label: str = "label", sample: str = "sample",
                time: str = "t", features: Sequence[str] = (), unequal_length: bool = False,
                encoding: str = "utf-8", require_label: bool = True, steps: int | None = None) -> SeriesData:
    """Numeric sequences from UCR TSV (label first; also a CSV with no header), a ``.ts`` file
    (sktime / aeon: ``:`` between dimensions, the label last), a long CSV /
    DataFrame (sample, t, features…, label), a wide one (one row per sample: its steps in the
    columns besides the label; read so when it has neither a sample nor a time column), a nested one
    (a sequence in each cell, one column per feature: sktime's ``nested_univ``), or arrays with ``y``.

    Arrays: ``[N, T]`` (univariate), ``[N, T, F]`` (NaN steps at the end: padding), or a list (a
    pandas Series, a pyarrow list array) of ``[T_i]`` / ``[T_i, F]``. ``y`` is one label per sequence, by position, or a Series indexed by a
    table's sample ids.
    Sequences of different lengths are an error unless ``unequal_length`` (a ragged file is more
    often a broken file than a design).
    ``steps``: the length a fitted model reads; without ``require_label``, a headerless file whose
    rows all hold that many numbers reads them as series without a label (one warning says so).
    """
    if isinstance(data, SeriesData):         # read already (the CLI keeps its sample ids)
        return data
    data = arrow_as_frame(data)              # a pyarrow Table, a polars frame: their pandas DataFrame (long or wide)
    padded = False                           # arrays whose trailing NaN steps were padding
    if y is not None:                        # the labels come from y: a table's label column is not required
        require_label = False
    table = None                             # the long or wide table read, when the data is one
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if is_pipe(path):                    # read once, as a file of its bytes: '<(…)' was 'unknown file type'
            with pipe_as_file(path) as copy:
                out = read_series(copy, y, label, sample, time, features, unequal_length, encoding, require_label,
                                  steps)
            out.source = str(path)
            return out
        source = str(path.resolve())
        if path_exists(path) and path.is_dir():      # path_exists: a text too long to be a path is no folder
            _check_not_parts(path)
            raise LstmkitError(f"{path} is a folder, not a table of sequences",
                               "pass a UCR .tsv (label first) or .ts, or a long or wide .csv, .xlsx or .parquet file")
        if _ext(path) in (".csv", ".tsv", ".txt"):
            text, first_line, table = _csv_table(path, encoding, label)
            if table is not None:                                    # a long or wide table
                out = _series_from_long(table, label, sample, time, features, require_label, f" in {path}")
            else:                          # UCR's own layout, label first (a .csv of it has no header)
                seqs, labels = _headerless_lines(text.splitlines(), f"{path} ", first_line, require_label, steps)
                out, table = SeriesData(seqs, labels, ["value"]), rows_table(labels, seqs, "series")
        elif _ext(path) in (".ts", ".arff"):         # sktime's and Weka's: features unnamed, matched by position
            if _ext(path) == ".ts":
                seqs, labels, equal = read_ts(path, encoding, require_label)
                unequal_length = unequal_length or equal is False    # the header says they differ: no broken file
            else:
                seqs, labels = read_arff(path, encoding, require_label)
                equal = None
            n = seqs[0].shape[1]
            out = SeriesData(seqs, labels, ["value"] if n == 1 else [f"x{j}" for j in range(n)],
                             unequal=equal is False)
            table = rows_table(labels, seqs, "series")
        elif _ext(path) in SHEETS or _ext(path) in PARQUET:     # a long or wide table, read as a CSV's cells
            table = read_table(path, encoding)
            out = _series_from_long(table, label, sample, time, features, require_label, f" in {path}")
        else:
            raise LstmkitError(f"unknown file type {_ext(path) or '(no extension)'!r}: {path}",
                               "use UCR .tsv (label first) or .ts, a long-format .csv, .xlsx or .parquet (sample, t, "
                               "features…, label) or a wide one (one row per sample, a label column)")
        out.source = source
    elif isinstance(data, pd.DataFrame):
        check_unique_columns(data, " of the DataFrame")
        table = data
        out = _series_from_nested(data, label, features, require_label)
        if out is None:
            out = _series_from_long(_index_as_columns(data, (sample, time), label), label, sample, time, features,
                                    require_label, "")
    else:
        seqs, padded = _series_from_arrays(data)
        out = SeriesData(seqs, None, [])
        out.feature_names = [f"x{j}" for j in range(out.seqs[0].shape[1])] if out.seqs else []
    if y is not None:
        if out.labels is not None:
            raise labels_given_twice(label)
        out.labels = labels_from_y(_by_sample_id(y, out.ids), len(out.seqs), "sequence")
        out = out.subset(labelled_rows(out.labels, "", None, "sequence"))
    if not out.seqs:
        raise BadValue("the data holds no sequences", "supply at least one sequence")
    _check_finite(out.seqs, str(data) if isinstance(data, (str, os.PathLike)) else "the data")
    _check_lengths([len(s) for s in out.seqs], unequal_length,
                   " (the array's NaN at the end of a sequence are read as padding)" if padded else "")
    out.table = table
    return out


def _csv_table(path: Path, encoding: str, label: str) -> tuple[str, int, pd.DataFrame | None]:
    """A .csv / .tsv / .txt file's text, its first line's number and its table: None when the
    file is UCR's own layout (label first, no header)."""
    text, named, first_line = separator_line(read_text_file(path, encoding))
    header = text.split("\n", 1)[0]
    sep = named or header_separator(header, ",")
    firsts = {ln.split(sep, 1)[0].strip() for ln in text.splitlines()[1:]}
    if is_table_header(header, sep, label, firsts):
        return text, first_line, parse_table(text, path, sep, first_line=first_line)
    return text, first_line, None


def _headerless_lines(lines: list[str], where: str, first_line: int, require_label: bool,
                      steps: int | None) -> tuple[list[np.ndarray], list[str] | None]:
    """A headerless file's series: UCR's lines, label first; to classify (``require_label`` off)
    lines that all hold exactly the model's ``steps`` numbers are series without a label, as
    ``df.to_csv(header=False, index=False)`` writes them: read label first, each lost its first
    step to a label nobody reads, and the model was given series a step short. A first value
    with a fraction is no label either: an error when labels are needed (each row was its own
    class), else read so, with a warning."""
    if not require_label and steps:
        try:
            seqs, _ = parse_series_lines(lines, False, where, first_line)
        except LstmkitError:                 # a text label first: UCR's lines, and their errors
            seqs = []
        if seqs and all(len(s) == steps for s in seqs):
            warnings.warn(f"{where.strip()} has no header and each of its {len(seqs)} lines holds {steps} numbers, the "
                          f"model's {steps} steps: read as series without a label (a UCR file's lines start with "
                          f"their label, {steps + 1} numbers)", stacklevel=callers_level())
            return seqs, None
    seqs, labels = parse_series_lines(lines, True, where, first_line)
    fraction = next((v for v in labels or [] if _is_fraction(v)), None)
    if fraction is None:
        return seqs, labels
    said = (f"{where.strip()} has no header, so its lines read as UCR's, each series' class first, but {fraction!r} "
            "is no class")
    if require_label:
        raise LstmkitError(f"{said}: the file holds no labels", "give it a header line naming its columns, with a "
                           f"label column ({opt('label')} NAME), or put each series' class first")
    warnings.warn(f"{said}: its lines are read as series without a label", stacklevel=callers_level())
    return parse_series_lines(lines, False, where, first_line)


def _is_fraction(cell: str) -> bool:
    """Whether ``cell`` is a number with a fractional part (``1.6257``): a value, no class (UCR's are
    whole numbers, ``1`` or ``1.0000000e+00``, or names)."""
    try:
        v = float(cell)
    except ValueError:
        return False
    return bool(np.isfinite(v)) and v != round(v)


def series_table(path: Path, encoding: str = "utf-8", label: str = "label") -> pd.DataFrame | None:
    """The table :func:`read_series` reads from the file ``path``, as it reads it: a long or wide
    table, or a UCR / .ts / .arff file's labelled series as rows (:func:`rows_table`); None for a
    file it reads otherwise. Its warnings were said when the run read it."""
    with warnings_caught():
        warnings.simplefilter("ignore")
        if _ext(path) in (".csv", ".tsv", ".txt"):
            text, first_line, table = _csv_table(path, encoding, label)
            if table is not None:
                return table
            seqs, labels = parse_series_lines(text.splitlines(), True, f"{path} ", first_line)
        elif _ext(path) == ".ts":
            seqs, labels, _ = read_ts(path, encoding, True)
        elif _ext(path) == ".arff":
            seqs, labels = read_arff(path, encoding, True)
        else:
            return read_table(path, encoding) if _ext(path) in SHEETS or _ext(path) in PARQUET else None
    return rows_table(labels, seqs, "series")


def _series_from_long(df: pd.DataFrame, label: str, sample: str, time: str, features: Sequence[str],
                      require_label: bool, where: str) -> SeriesData:
    if len(df) == 0:
        raise BadValue(f"the data{where} has no rows", "supply at least one row")
    df = without_row_numbers(df)           # it would be a feature (long) or the first step of every series (wide)
    df = df.iloc[:len(df) - trailing_blank_rows(df)]      # a spreadsheet's ",,," lines under the data: no sample
    present = [str(c) for c in df.columns]
    found = None if sample in present or time in present else _long_columns(df, label, (sample, time), where)
    if found is not None:                  # a long table under other names: pandas' index, 'id, time'
        sample, time = found
    ids = _wide_ids(df, sample, label) if time not in present and not features else None
    if ids is not None or (sample not in present and time not in present and not features):
        wide = _series_from_wide(df, label, require_label, where, ids)
        if isinstance(wide, SeriesData):
            return wide
        shown = ", ".join(list(present)[:8]) + (", …" if len(present) > 8 else "")
        named = next((c for c in present if c.strip().lower() in LABEL_NAMES), None) if label not in present else None
        raise LstmkitError(f"the table{where} is neither long (no sample column {sample!r}) nor wide ({wide})",
                           f"long: one row per step, pass {opt('sample')} and {opt('time')} with two of its columns ({shown}); "
                           f"wide: one row per sample, its steps in numeric columns, pass {opt('label')} with its label "
                           "column" + (f" ({named_opt('label', named)}: its column {named!r}, as scikit-learn's "
                                       "as_frame and UCR's CSVs name it)" if named else ""))
    df = _without_empty_rows(df)       # a spreadsheet's empty rows (",,,"): no step of any sample
    s_col = _column(df, sample, "sample", where)
    t_col = _column(df, time, "time", where)
    has_label = label in {str(c) for c in df.columns}
    if require_label and not has_label:
        _column(df, label, "label", where)
    exclude = {sample, time, label}
    names = list(features) or [str(c) for c in df.columns if str(c) not in exclude and not unnamed_and_empty(df[c])]
    if not names:
        raise LstmkitError(f"no feature columns{where}", "long format is: sample, t, feature columns…, label")
    values = np.empty((len(df), len(names)))
    _check_thousand_dots(df, [_column(df, name, "feature", where) for name in names], names, where)
    for j, name in enumerate(names):
        col = _column(df, name, "feature", where)
        num = pd.to_numeric(col, errors="coerce")
        if num.isna().any():                              # a semicolon file's decimal commas (10,5)
            comma = comma_decimals(col, df.attrs.get("sep"))
            num = num if comma is None else comma
        bad = np.flatnonzero(num.isna().to_numpy())
        if bad.size:
            raise LstmkitError(f"feature column {name!r}{where} has {bad.size} empty or non-numeric cells "
                               f"(first: {row_place(df, bad[0])}, {str(col.iloc[bad[0]])[:20]!r})",
                               f"fill them, or pass {opt('features')} with numeric columns only")
        values[:, j] = num.to_numpy(dtype=np.float64)
    t, *other = _time_orders(df, t_col, time, where)
    labels_all = _labels(df[[c for c in df.columns if str(c) == label][0]], where, require_label) if has_label else None
    ids, keys = _sample_keys(s_col, sample, where)
    seqs, labels, sample_ids, firsts = [], [], [], []
    codes, uniques = pd.factorize(keys)               # first-appearance order
    order = np.lexsort((t, codes))                    # by sample, then time
    if other and not np.array_equal(order, np.lexsort((other[0], codes))):
        k = int(np.flatnonzero(t != other[0])[0])
        day, month = (pd.Timestamp(v[k], unit="s") for v in (t, other[0]))       # the orders: day first, month first
        raise LstmkitError(f"time column {time!r}{where} is ambiguous: {str(t_col.iloc[k]).strip()!r} ({row_place(df, k)}) "
                           f"reads as {day:%d %B %Y} (day first) or {month:%d %B %Y} (month first), every date fits "
                           "both and the two order a sample's steps differently", "write ISO dates such as "
                           "2024-01-31 (or 2024-01-31 12:00), which read one way only")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    for rows in np.split(order, bounds):
        same = np.flatnonzero(np.diff(t[rows]) == 0)
        if same.size:                                  # two rows for one step: two samples under one id?
            a, b = sorted(int(r) for r in rows[same[0]:same[0] + 2])
            raise LstmkitError(f"sample {ids[rows[0]]!r}{where} has two rows at the same time step "
                               f"{str(t_col.iloc[rows[same[0]]])[:25]!r} ({row_place(df, a)} and {row_place(df, b)})",
                               "give each of a sample's steps its own time, or each sample its own id")
        seqs.append(values[rows])                                         # [T_i, F]
        sample_ids.append(ids[rows[0]])
        if labels_all is not None:
            ls = {labels_all[r] for r in rows} - {None}       # a row without a label repeats none
            if len(ls) > 1:
                raise LstmkitError(f"sample {ids[rows[0]]!r}{where} has several labels: {', '.join(sorted(ls))}",
                                   "give every row of a sample the same label")
            labels.append(ls.pop() if ls else None)
            firsts.append(int(rows.min()))
    out = SeriesData(seqs, labels if labels_all is not None else None, names, ids=sample_ids,
                     columns=found)
    return out if labels_all is None else out.subset(labelled_rows(labels, where, df, "sample", firsts))


def _long_columns(df: pd.DataFrame, label: str, asked: tuple[str, str], where: str) -> tuple[str, str] | None:
    """``(sample, time)``: the columns of a table with neither the ``sample`` nor the ``time`` column
    asked for that still lays out one row per step, said in a warning; None when it does not. Such
    a table is pandas' ``to_csv`` of a frame indexed by (sample, step) (sktime's ``pd-multiindex``:
    ``Unnamed: 0, Unnamed: 1``; ``level_0, level_1`` after ``reset_index``) or a user's ``id, time,
    x, label``: it was read as a wide table, each row a sample whose steps were the id, the step
    number and the features. The sample column is the first whose every value fills one block of
    consecutive rows (at least two rows a sample on average), the time column the first other one
    of numbers that rise within every block and start again in a later one; a label column, if
    any, must be the same within each block."""
    names = [c for c in df.columns if str(c) != label]
    n = len(df)
    if len(names) < 3 or n < 4:
        return None
    labels = next((df[c] for c in df.columns if str(c) == label), None)
    cells = df[names].to_numpy()
    changes = (cells[1:] != cells[:-1]).sum(axis=0)          # at least the blocks' count less 1: a cheap first look
    for s in [c for c, k in zip(names, changes) if k < n // 2]:  # (a wide table of 1,500 steps took 4 s without it)
        keys = pd.Series(_as_strings(df[s])).str.strip().to_numpy()
        starts = np.r_[True, keys[1:] != keys[:-1]]             # a block begins where the value changes
        blocks = int(starts.sum())
        if not 2 <= blocks <= n // 2 or blocks != len(set(keys)) or "" in set(keys):
            continue
        block = np.cumsum(starts) - 1
        if labels is not None and (pd.Series(_as_strings(labels)).groupby(block).nunique() > 1).any():
            continue
        for t in names:
            if t is s:
                continue
            steps = pd.to_numeric(df[t], errors="coerce").to_numpy(dtype=np.float64)
            if np.isnan(steps).any():
                continue
            rises = np.diff(steps) > 0
            inside = ~starts[1:]                                  # consecutive rows of one block
            if rises[inside].all() and not rises[~inside].all():
                lengths = np.bincount(block)
                warnings.warn(f"no {asked[0]!r} or {asked[1]!r} column{where}: read as a long table, one row per step, "
                              f"column {str(s)!r} naming the samples and {str(t)!r} numbering their steps "
                              f"({blocks} samples of {_span(lengths)} steps; pandas' to_csv writes a frame indexed "
                              f"by sample and step so); pass {named_opt('sample', s)} and {named_opt('time', t)} "
                              "to choose the columns yourself", UserWarning, stacklevel=callers_level())
                return str(s), str(t)
    return None


def _span(lengths: np.ndarray) -> str:
    lo, hi = int(lengths.min()), int(lengths.max())
    return str(lo) if lo == hi else f"{lo}-{hi}"


def _index_as_columns(df: pd.DataFrame, names: tuple[str, str], label: str) -> pd.DataFrame:
    """A long frame whose sample or time column (``names``) is its index (``df.set_index(["sample",
    "t"])``, a groupby's) with its index as columns again; read as it was, its rows were a wide
    table's (a sample of one step each) or its sample column was missing. Any other frame as it is."""
    levels = [str(n) for n in df.index.names if n is not None]
    if any(n in names for n in levels) and not set(levels) & {str(c) for c in df.columns}:
        return df.reset_index()
    if df.index.nlevels == 2 and not set(levels) & {str(c) for c in df.columns}:
        # sktime's pd-multiindex (sample, step), its levels unnamed or named otherwise: the long table
        # when they lay one out (it was read as a wide table, a sample of one step each); else as it was
        flat = df.reset_index()
        with warnings_caught():
            warnings.simplefilter("ignore")        # said when the table is read
            found = _long_columns(flat, label, names, "")
        if found == tuple(str(c) for c in flat.columns[:2]):
            return flat
    return df


def _without_empty_rows(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` without its rows whose every cell is empty or missing."""
    blank = blank_rows(df)
    return df.iloc[np.flatnonzero(~blank)] if blank.any() else df


def _sample_keys(col: pd.Series, name: str, where: str) -> tuple[list[str], np.ndarray]:
    """The sample ids as written, and the keys that group the rows: numbers when every id is one
    (so 2 and 2.0, as a spreadsheet may write them, are one sample), else the text. An empty id
    is an error: its row would be a sample of its own."""
    ids = [v.strip() for v in _as_strings(col)]
    empty = [i for i, v in enumerate(ids) if not v]
    if empty:
        raise LstmkitError(f"{len(empty)} row{'s' if len(empty) > 1 else ''}{where} {'have' if len(empty) > 1 else 'has'} "
                           f"no {name!r} id (first: {row_place(col, empty[0])})",
                           "fill in the sample id of every row (each sample's rows share one id)")
    num = pd.to_numeric(pd.Series(ids), errors="coerce")
    return ids, (num.to_numpy() if not num.isna().any() else np.asarray(ids, dtype=object))


# day and month, in either order, first in a date: 31/01/2024, 1.2.24, 01-02-2024 12:00
_DMY = r"^(\d{1,2})[./-](\d{1,2})[./-]\d{2,4}(?!\d)"


def _time_orders(df: pd.DataFrame, col: pd.Series, name: str, where: str) -> list[np.ndarray]:
    """The time column as numbers that order the steps: its numbers, or its date-times (a logger's
    time stamps) as seconds. Dates such as 01/02/2024 read in each order of day and month that
    every cell fits (pandas read 01/02 month first and 28/01 day first in one column, and put
    28/01 before 01/02): one array, or two when both orders fit. A cell that is neither number nor
    date, or a column that mixes the orders, is an error."""
    t = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
    if not np.isnan(t).any():
        return [t]
    text = col.astype(str).str.strip()
    dm = text.str.extract(_DMY).astype(float)
    shaped = dm[0].notna().to_numpy()
    firsts = [first for first, against in ((True, dm[1] > 12), (False, dm[0] > 12)) if not against.any()]
    if shaped.any() and not firsts:
        a, b = (text.iloc[int(np.flatnonzero(m.to_numpy())[0])] for m in (dm[0] > 12, dm[1] > 12))
        raise LstmkitError(f"time column {name!r}{where} mixes day-first dates ({a!r}) and month-first dates ({b!r})",
                           "write ISO dates such as 2024-01-31 (or 2024-01-31 12:00), which read one way only")
    orders = []
    for first in firsts if shaped.any() else [False]:
        with warnings_caught():
            warnings.simplefilter("ignore")          # dateutil's notes on guessing
            parts = [pd.to_datetime(text[cells], errors="coerce", utc=True, format="mixed", dayfirst=day_first)
                     for cells, day_first in ((~shaped, False), (shaped, first)) if cells.any()]   # ISO: year first
        stamps = pd.concat(parts).sort_index() if len(parts) > 1 else parts[0]     # offsets -> one clock; naive: UTC
        if stamps.isna().any():
            bad = int(np.flatnonzero(np.isnan(t) if not np.isnan(t).all() else stamps.isna().to_numpy())[0])
            raise LstmkitError(f"time column {name!r}{where} must hold numbers or date-times: {row_place(df, bad)} has "
                               f"{str(col.iloc[bad])[:25]!r}", "number the steps 0, 1, 2, … per sample, "
                               "or write time stamps such as 2024-01-31 12:00:00 (no empty cells)")
        orders.append((stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=np.float64))
    return orders


ID_NAMES = {"id", "sample", "sample_id", "name", "key", "case", "subject"}
LABEL_NAMES = {"target", "class", "classes", "y", "labels", "category", "activity"}   # a label column's other names


def _wide_ids(df: pd.DataFrame, sample: str, label: str) -> str | None:
    """The column of a wide table (no time column) that names its rows rather than holding a step:
    the ``--sample`` column, or one named like an id (``id``, ``name``, ``sample_id``, ``*_id``, …),
    with a distinct, non-empty value in every row (repeated ids are a long table's)."""
    for c in df.columns:
        name = str(c)
        if name == label or not (name == sample or name.strip().lower() in ID_NAMES
                                 or name.strip().lower().endswith(("_id", " id"))):
            continue
        cells = [v.strip() for v in _as_strings(df[c])]
        if all(cells) and len(set(cells)) == len(cells):
            return name
    return None


def _check_thousand_dots(df: pd.DataFrame, cols: list[pd.Series], names: list, where: str, wide: bool = False) -> None:
    """Refuse a semicolon file's (or a tab file's with decimal commas) numbers whose one dot may group
    thousands (``1.032`` beside ``976``), as forecasting does (:func:`~lstmkit.data.textfile.dot_groups`):
    per feature column of a long table, over all step columns of a wide one (one quantity)."""
    sep = df.attrs.get("sep")
    if sep not in (";", "\t"):
        return
    text = [(str(n), c) for n, c in zip(names, cols)
            if pd.api.types.is_object_dtype(c) or pd.api.types.is_string_dtype(c)]
    if not text:
        return
    commas = any(comma_decimals(df[c], sep) is not None for c in df.columns)
    for k, col in enumerate([pd.concat([c for _, c in text], ignore_index=True)] if wide else [c for _, c in text]):
        found = dot_groups(col, sep, commas)
        if found is not None:
            j, i = divmod(found[0], len(df)) if wide else (k, found[0])      # wide: the cell's column and row
            raise dot_two_ways(text[j][0], found[1], row_place(df, i) + where)


def _is_sequence_cell(v: Any) -> bool:
    """Whether a table cell holds a whole sequence: a pandas Series, a 1-D array or tensor, a list."""
    return isinstance(v, (list, tuple)) or (getattr(v, "ndim", None) == 1 and not isinstance(v, (str, bytes)))


def _series_from_nested(df: pd.DataFrame, label: str, features: Sequence[str],
                        require_label: bool) -> SeriesData | None:
    """One series per row of a DataFrame whose cells hold whole sequences, one column per feature
    (sktime's ``nested_univ`` layout: a Series in each cell; or ``df["signal"]`` of arrays), the
    ``label`` column beside them; None when the table is not so (long or wide, read as those).
    These were 'neither long nor wide (column 'dim_0' holds text: ...)'. A row's features of
    different lengths are an error; NaN at the end of one are padding, as in an array."""
    names = [c for c in df.columns if str(c) != label and (not features or str(c) in features)]
    if len(df) == 0 or not names or not all(
            df[c].dtype == object and all(_is_sequence_cell(v) for v in df[c]) for c in names):
        return None
    rows = []
    for i in range(len(df)):
        steps = [_as_float(df[c].iloc[i], f"column {str(c)!r} of {row_place(df, i)}").ravel() for c in names]
        if len({len(a) for a in steps}) > 1:
            raise LstmkitError(f"{row_place(df, i)} holds sequences of different lengths in its columns "
                               f"({', '.join(f'{str(c)!r}: {len(a)}' for c, a in zip(names, steps))})",
                               "give each of a sample's features the same steps, or drop the columns that differ")
        rows.append(np.stack(steps, axis=1))                        # [T_i, F]
    seqs, _ = _series_from_arrays(rows)
    has_label = any(str(c) == label for c in df.columns)
    labels = _labels(df[[c for c in df.columns if str(c) == label][0]], "", require_label) if has_label else None
    out = SeriesData(seqs, labels, [str(c) for c in names])
    return out if labels is None else out.subset(labelled_rows(labels, "", df))


def _series_from_wide(df: pd.DataFrame, label: str, require_label: bool, where: str,
                      ids: str | None = None) -> SeriesData | str:
    """One series per row, its steps the columns besides ``label`` (and the ``ids`` column, which
    names the rows) in order (a table exported with one row per sample); trailing empty cells are
    padding, as in UCR's files. When the table is not so, why not (a label column missing, a column
    of text)."""
    names = [c for c in df.columns if str(c) not in (label, ids)]
    has_label = any(str(c) == label for c in df.columns)
    if require_label and not has_label:
        return f"no label column {label!r}"
    if not names:
        return "no columns besides the label"
    cells = df[names]
    values = np.empty(cells.shape)
    _check_thousand_dots(df, [cells[name] for name in names], names, where, wide=True)
    for j, name in enumerate(names):
        num = pd.to_numeric(cells[name], errors="coerce")
        comma = comma_decimals(cells[name], df.attrs.get("sep")) if num.isna().any() else None   # 10,5 in a ; file
        values[:, j] = (num if comma is None else comma).to_numpy(dtype=np.float64)
    text = cells.astype(str).apply(lambda c: c.str.strip()).to_numpy()
    bad = np.isnan(values) & ~cells.isna().to_numpy() & (text != "") & (text != "nan")   # pd.NA: an empty cell
    if bad.any():
        i, j = (int(v[0]) for v in np.nonzero(bad))
        return f"column {str(names[j])!r} holds text: {str(text[i, j])[:20]!r}"
    _say_id_as_step(names, values, where)
    seqs = []
    for i, row in enumerate(values):
        valid = np.flatnonzero(~np.isnan(row))
        if valid.size == 0:
            raise LstmkitError(f"{row_place(df, i)}{where} has no values", "remove the row or fill in the series")
        row = row[: valid[-1] + 1]
        if np.isnan(row).any():
            j = int(np.flatnonzero(np.isnan(row))[0])
            raise LstmkitError(f"{row_place(df, i)}{where} has an empty cell in column {str(names[j])!r} before its "
                               f"last value", "fill it (only a series' trailing cells may be empty: a shorter series)")
        seqs.append(row[:, None])
    labels = _labels(df[[c for c in df.columns if str(c) == label][0]], where, require_label) if has_label else None
    named = None if ids is None else [v.strip() for v in _as_strings(df[[c for c in df.columns if str(c) == ids][0]])]
    out = SeriesData(seqs, labels, ["value"], ids=named, id_name=ids, step_names=[str(c) for c in names])
    return out if labels is None else out.subset(labelled_rows(labels, where, df))


def _say_id_as_step(names: list, values: np.ndarray, where: str) -> None:
    """Warn when a wide table's first step column looks like the rows' ids: distinct whole
    numbers in a column named unlike the steps after it (``patient`` before ``t0, t1, …``).
    Read as a step it enters every series as its first value, without a word."""
    def stem(name: Any) -> str:
        return re.sub(r"\d+$", "", str(name).strip()).lower()
    first, rest = values[:, 0], {stem(n) for n in names[1:]}
    if (len(names) < 3 or len(first) < 2 or len(rest) != 1 or stem(names[0]) in rest
            or re.search(r"\d$", str(names[0]).strip()) or np.isnan(first).any()
            or not np.array_equal(first, np.round(first)) or len(np.unique(first)) != len(first)):
        return
    warnings.warn(f"column {str(names[0])!r}{where} is read as the first step of every series, before "
                  f"{str(names[1])!r}: its {len(first)} values are distinct whole numbers and its name is unlike "
                  f"the steps' ({str(names[1])}, {str(names[2])}, …); if it names the rows, pass "
                  f"{named_opt('sample', names[0])}", stacklevel=callers_level())


def _by_sample_id(y: Any, ids: list[str] | None) -> Any:
    """``y`` in the order a table's samples are read (first appearance) when it is a Series indexed
    by their ids (sktime's layout; ``labels.set_index("sample")["label"]``) in another order: read
    by position, its labels went to other samples. As it is otherwise: a list, pandas' default index
    (0, 1, …: positional, as scikit-learn reads y), or an index that is not the ids."""
    index = getattr(y, "index", None)
    if ids is None or not isinstance(index, pd.Index) or isinstance(index, pd.MultiIndex) or index.equals(
            pd.RangeIndex(len(index))):
        return y
    keys = [str(v).strip() for v in index]
    if keys == ids or len(set(keys)) != len(keys) or set(keys) != set(ids):
        return y
    at = {k: i for i, k in enumerate(keys)}
    return y.iloc[[at[k] for k in ids]]


def _series_from_arrays(data: Any) -> tuple[list[np.ndarray], bool]:
    """The sequences ``[T_i, F]`` of an array ``[N, T]`` / ``[N, T, F]`` or a list of ``[T_i]`` /
    ``[T_i, F]`` (a generator: the list it yields; a numpy matrix of one row or column: ``[T_i]``, as
    ``list(np.asmatrix(X))`` holds them), and whether any had padding: steps at its end
    whose every value is NaN (tslearn pads so; a wide table's empty trailing cells are padding too)
    end the sequence at its last value. A NaN before that is a missing value, an error."""
    if isinstance(data, Iterator):
        data = list(data)
    data = matrix_as_array(data, vector=False)          # np.matrix [N, T]; its rows index as 1×T matrices
    if not isinstance(data, (list, tuple, np.ndarray)):
        data = _as_array(data)
    if isinstance(data, np.ndarray) and data.dtype != object:
        if data.ndim == 2:
            data = data[:, :, None]
        if data.ndim != 3:
            raise LstmkitError(f"Expected sequences as [N, T] or [N, T, F], got shape {data.shape}",
                               "pass a 2-D array (univariate) or 3-D array (multivariate)")
        if data.shape[1] == 0 and data.shape[0]:
            raise LstmkitError(f"the sequences have no steps (shape {data.shape})", "pass at least one step per sequence")
        if 0 < data.shape[1] < data.shape[2]:       # aeon's and sktime's [N, channels, T]: read with channels as steps
            n, t, f = data.shape
            warnings.warn(f"the array of shape {data.shape} is read as [N, T, F]: {n} sequences of {t} "
                          f"step{'s' * (t != 1)} with {f} features each, fewer steps than features; aeon's and "
                          f"sktime's 3-D arrays (numpy3D) are [N, channels, T], {f} steps of {t} channel"
                          f"{'s' * (t != 1)}: if yours is, pass X.transpose(0, 2, 1)",
                          UserWarning, stacklevel=callers_level())
        seqs = list(_as_float(data, "the array"))
    elif isinstance(data, (list, tuple, np.ndarray)):
        if len(data) and all(isinstance(v, (int, float, np.number)) for v in data):      # one sequence, not N of one step
            raise LstmkitError(f"the sequences are a flat list of {len(data)} numbers, not a list of sequences",
                               "one sequence: pass [values] (a list holding it); sequences of one step each: "
                               "[[v] for v in values]")
        seqs = []
        for i, s in enumerate(data):
            a = _as_float(matrix_as_array(s), f"sequence {i}")      # list(np.matrix): rows of 1×T, T steps each
            if a.ndim == 1:
                a = a[:, None]
            if a.ndim != 2 or a.shape[0] == 0:
                raise LstmkitError(f"sequence {i} has shape {a.shape}", "each sequence must be [T] or [T, F] with T ≥ 1")
            seqs.append(a)
        if seqs and len({s.shape[1] for s in seqs}) > 1:
            raise LstmkitError("the sequences have different numbers of features", "give every sequence the same features")
    else:                                   # a 0-d array: one number
        raise LstmkitError(f"Expected sequences as [N, T] or [N, T, F], got shape {data.shape}",
                           "pass a 2-D array (univariate) or 3-D array (multivariate)")
    padded = False
    for i, s in enumerate(seqs):
        steps = np.flatnonzero(~np.isnan(s).all(axis=1))
        if not steps.size:
            raise LstmkitError(f"sequence {i} has no values (NaN at every step)", "drop it, or fill in its values")
        if steps[-1] + 1 < len(s):
            seqs[i], padded = s[: steps[-1] + 1], True
        if not np.isfinite(seqs[i]).all():
            raise LstmkitError(f"sequence {i} holds missing or infinite values", "fill or drop them")
    return seqs, padded


def _as_array(data: Any) -> np.ndarray:
    """An array-like that is not numpy's as an array: a torch tensor (on any device, with or
    without gradients), anything else numpy converts (``__array__``: xarray, JAX, ...). These were
    'unsupported data type Tensor'; a sparse matrix is an error saying how to densify it."""
    if hasattr(data, "toarray") and hasattr(data, "nnz"):          # scipy.sparse: no sequence layout of its own
        raise LstmkitError(f"the sequences are a sparse matrix ({type(data).__name__}), which SequenceClassifier "
                           "does not read", "pass a dense array: X.toarray()")
    if hasattr(data, "detach") and hasattr(data, "cpu"):              # torch.Tensor
        return tensor_as_array(data)
    if not hasattr(data, "__array__"):
        raise LstmkitError(f"unsupported data type {type(data).__name__}",
                           "pass a UCR .tsv / .ts / long .csv path, a long-format DataFrame, or arrays")
    return np.asarray(data)


def _as_float(values: Any, what: str) -> np.ndarray:
    """``values`` as float64 (a masked array's masked cells NaN: missing, not the values under the
    mask); text, complex numbers or ragged steps are an error naming ``what``."""
    if hasattr(values, "detach") and hasattr(values, "cpu"):          # a list of torch tensors
        values = tensor_as_array(values)
    try:
        a = np.asarray(masked_as_missing(values))
        if np.iscomplexobj(a):
            raise TypeError("complex")
        out = a.astype(np.float64)
    except (TypeError, ValueError) as e:
        found = "complex numbers" if str(e) == "complex" else f"values that are not numbers ({str(e)[:60]})"
        raise LstmkitError(f"{what} holds {found}", "pass numbers only: one sequence of real values per item") from None
    lost = lost_integer(a, out) if a.dtype.kind in "iu" else None
    if lost is not None:                # 2**62 + t read as one constant, every sequence the same
        raise LstmkitError(f"{what} holds integers too large to tell apart as numbers: {a.flat[lost]} reads as "
                           f"{int(out.flat[lost])} (floating point keeps about 16 digits, and the values differ only "
                           "beyond them)", f"subtract a common offset first (e.g. X - {a.min()}), or classify the differences")
    return out


def _check_finite(seqs: list[np.ndarray], where: str) -> None:
    """Values beyond float32 (1e300, inf) would turn into inf in the model: name the sequence."""
    limit = float(np.finfo(np.float32).max)
    for k, s in enumerate(seqs):
        bad = ~(np.abs(s) <= limit)                    # NaN and inf too
        if bad.any():
            value = s.reshape(-1)[int(np.flatnonzero(bad.reshape(-1))[0])]
            raise LstmkitError(f"sequence {k + 1} of {where} holds {value:g}, not a finite float32 number",
                               "fix or remove that value (and rescale the data if its values are that large)")


def scaled_as_float32(scaled: np.ndarray, raw: np.ndarray, lengths: list[int] | None = None) -> np.ndarray:
    """``scaled`` (rows of steps in the model's units, ``raw`` the same rows as given) as float32, the
    model's input. A value within float32 that the training data's scaling takes beyond it (3e38 to a model
    trained on values near 0.01) became inf: ``predict`` answered a label with NaN probabilities, and the
    service the same. Refused, naming the sequence (``lengths``: the rows of each; None: one step)."""
    with np.errstate(over="ignore"):
        out = scaled.astype(np.float32)
    bad = ~np.isfinite(out).all(axis=tuple(range(1, out.ndim)))
    if not bad.any():
        return out
    row = int(np.flatnonzero(bad)[0])
    cells = np.abs(np.asarray(raw, dtype=np.float64)[row]).reshape(-1)
    value = np.asarray(raw, dtype=np.float64)[row].reshape(-1)[int(np.argmax(cells))]
    k = int(np.searchsorted(np.cumsum(lengths), row, side="right")) if lengths is not None else None
    where = f"sequence {k + 1} holds" if k is not None else "the step holds"
    raise LstmkitError(f"{where} {value:g}, which this model's scaling (fitted on its training data) takes beyond "
                       "float32: the model cannot read it", "check this data's units against the training data's "
                       "(rescale it as they were), or fix or remove that value")


def _check_lengths(lengths: list[int], unequal_length: bool, note: str = "") -> None:
    if unequal_length or len(set(lengths)) <= 1:
        return
    first = lengths[0]
    k = next(i for i, n in enumerate(lengths) if n != first)
    raise LstmkitError(f"sequences have different lengths (sequence {k + 1} has {lengths[k]} steps, "
                       f"sequence 1 has {first}; range {min(lengths)}-{max(lengths)}){note}",
                       f"pass {opt('unequal_length', True)} if they are meant to differ, else fix the ragged rows")


def _check_not_parts(folder: Path) -> None:
    """An error naming the files to pass when ``folder`` is a download's folder of a data set's
    parts (the UCR archive's ``GunPoint/GunPoint_TRAIN.tsv`` and ``GunPoint_TEST.tsv``; the UEA
    archive's ``_TRAIN.ts`` and ``_TRAIN.arff`` side by side: one format's files are named; a Hugging
    Face ``save_to_disk`` folder: the export to do)."""
    check_not_saved_dataset(folder)
    for ext in (".tsv", ".ts", ".arff", ".csv", *PARQUET, *SHEETS, ".txt"):
        parts = split_parts(folder, lambda f: _ext(f) == ext)
        if parts:
            raise parts_error(folder, parts, "a table of sequences")
