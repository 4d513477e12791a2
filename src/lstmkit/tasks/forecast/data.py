"""Forecasting data: read a table, check it, split it in time.

    load_table(data)               path / DataFrame / array  ->  DataFrame
    prepare_series(df, target, …)  DataFrame                 ->  Series (float64 arrays, time index)
    split_sizes(n, lookback, …)    chronological train / val / test point counts
    split_window_indices(…)        window indices whose targets lie inside each part

Every user mistake (missing file, unknown column, text in a numeric column, empty cells,
duplicate timestamps, a series too short to split) raises :class:`LstmkitError` with a fix.
"""
from __future__ import annotations

import csv
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from lstmkit.data.windows import _positive_int, n_windows
from lstmkit.errors import LstmkitError

__all__ = ["load_table", "Series", "prepare_series", "split_sizes", "split_window_indices", "FILL_MODES",
           "column_list", "numeric_column", "parse_time", "infer_freq"]

FILL_MODES = ("ffill", "interpolate")
_CSV_LIKE = {".csv": ",", ".tsv": "\t", ".txt": None}  # None: sniff the separator
_PARQUET = {".parquet", ".pq"}
_COMPRESSED = {".gz", ".bz2", ".zip", ".xz", ".zst"}


# -- reading ---------------------------------------------------------------------------------
def load_table(data: Any) -> pd.DataFrame:
    """Read ``data`` into a new DataFrame.

    ``data`` may be a path to ``.csv`` / ``.tsv`` / ``.txt`` (separator sniffed) / ``.parquet``
    (CSV-like files may be compressed, e.g. ``.csv.gz``), a DataFrame (copied), a pandas Series,
    or a numpy array / list: 1-D becomes column ``"y"``, 2-D columns ``"y0", "y1", …``.
    """
    if isinstance(data, (str, os.PathLike)):
        df = _read_file(Path(data))
    elif isinstance(data, pd.DataFrame):
        df = data.copy()
    elif isinstance(data, pd.Series):
        df = data.to_frame(name=data.name if data.name is not None else "y")
    elif isinstance(data, (np.ndarray, list, tuple)):
        df = _array_to_frame(data)
    else:
        raise LstmkitError(f"unsupported data type {type(data).__name__}",
                           "pass a CSV/Parquet path, a pandas DataFrame, or a numpy array")
    if len(df) == 0 or df.shape[1] == 0:
        raise LstmkitError("the data has no rows" if df.shape[1] else "the data has no columns",
                           "supply a table with a header row and at least one data row")
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
    if not path.exists():
        raise LstmkitError(f"file not found: {path}", "check the path")
    if path.is_dir():
        raise LstmkitError(f"{path} is a directory, not a data file", "point to a .csv or .parquet file inside it")
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext not in _CSV_LIKE and ext not in _PARQUET:
        known = ", ".join([*_CSV_LIKE, *sorted(_PARQUET)])
        raise LstmkitError(f"unknown file type {ext or '(no extension)'!r}: {path}",
                           f"use one of: {known} (or convert the file to CSV)")
    try:
        if ext in _PARQUET:
            return pd.read_parquet(path)
        sep = _CSV_LIKE[ext]
        if sep is None:
            return pd.read_csv(path, sep=None, engine="python")
        return pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError:
        raise LstmkitError(f"file is empty: {path}", "supply a table with a header row and data rows") from None
    except (ValueError, OSError, csv.Error, ImportError) as e:
        # pandas' ParserError, pyarrow's ArrowInvalid and UnicodeDecodeError are all ValueErrors.
        kind = "Parquet" if ext in _PARQUET else "CSV"
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LstmkitError(f"could not read {path}: {reason}",
                           f"check that it is a valid {kind} file (UTF-8 text for CSV)") from None


# -- the series ------------------------------------------------------------------------------
@dataclass
class Series:
    """A checked, time-ordered series ready for windowing.

    ``values [N, T]`` are the targets, ``features [N, F]`` extra inputs (``F`` may be 0); both
    float64 with no missing values. ``time`` is the sorted DatetimeIndex (or None), ``freq`` the
    pandas frequency string when the steps are regular, ``gaps`` the number of steps longer than
    the typical step, ``n_filled`` the number of empty cells repaired by ``fill``.
    """

    values: np.ndarray
    features: np.ndarray
    time: pd.DatetimeIndex | None
    target_names: list[str]
    feature_names: list[str]
    time_name: str | None = None
    freq: str | None = None
    gaps: int = 0
    n_filled: int = 0
    fill: str | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return self.values.shape[0]

    def summary(self) -> dict[str, Any]:
        """JSON-able description for the run folder and the CLI."""
        has_time = self.time is not None and len(self.time) > 0
        return {
            "rows": len(self),
            "targets": list(self.target_names),
            "features": list(self.feature_names),
            "time": self.time_name,
            "start": self.time[0].isoformat() if has_time else None,
            "end": self.time[-1].isoformat() if has_time else None,
            "freq": self.freq,
            "gaps": int(self.gaps),
            "fill": self.fill,
            "n_filled": int(self.n_filled),
        }


def prepare_series(df: pd.DataFrame, target: str | list[str], time: str | None = None,
                   features: str | list[str] | None = None, fill: str | None = None) -> Series:
    """Check and convert ``df`` into a :class:`Series`.

    Args:
        df: the table, e.g. from :func:`load_table`.
        target: column(s) to forecast: a name, ``"a,b"`` or a list.
        time: optional time column; rows are sorted by it. When ``None`` and ``df`` has a
            DatetimeIndex, that index is used.
        features: optional extra input columns, same forms as ``target``.
        fill: ``None`` (empty cells are an error), ``"ffill"`` (forward, then backward for a
            leading gap) or ``"interpolate"`` (linear between neighbours, edges filled).
    """
    if fill is not None and fill not in FILL_MODES:
        raise LstmkitError(f"unknown fill mode {fill!r}", f"use one of: {', '.join(FILL_MODES)}")
    if len(df) == 0:
        raise LstmkitError("the data has no rows", "supply a table with at least one data row")
    lookup = {str(c): c for c in df.columns}
    target_names = column_list("target", target, lookup, required=True)
    feature_names = [f for f in column_list("features", features, lookup) if f not in target_names]
    if time is not None:
        time = column_list("time", time, lookup, required=True)[0]

    numeric = pd.DataFrame({name: numeric_column(df[lookup[name]], name) for name in target_names + feature_names},
                           index=df.index)
    index = None
    if time is not None:
        index = pd.DatetimeIndex(parse_time(df[lookup[time]], time), name=time)
    elif isinstance(df.index, pd.DatetimeIndex):
        index = df.index
        time = None if df.index.name is None else str(df.index.name)
    if index is not None:
        order = np.argsort(index.asi8, kind="stable")
        index, numeric = index[order], numeric.iloc[order]
        _check_unique_times(index, time)
    numeric = numeric.reset_index(drop=True)

    numeric, n_filled = _fill_missing(numeric, fill)
    freq, gaps = _regularity(index, time)
    return Series(
        values=numeric[target_names].to_numpy(dtype=np.float64),  # [N, T]
        features=numeric[feature_names].to_numpy(dtype=np.float64),  # [N, F], F may be 0
        time=index, target_names=target_names, feature_names=feature_names, time_name=time,
        freq=freq, gaps=gaps, n_filled=n_filled, fill=fill,
    )


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
        raise LstmkitError(f"{role} {what} {', '.join(map(repr, missing))} not found",
                           f"available columns: {_preview(lookup)}")
    return names


def _preview(lookup: dict[str, Any], limit: int = 30) -> str:
    names = list(lookup)
    more = f", … ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def numeric_column(col: pd.Series, name: str) -> pd.Series:
    """Column as float64 with NaN for empty cells; text that is not a number is an error."""
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
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise LstmkitError(
                f"column {name!r} is not numeric: found {str(text.iloc[pos])!r} in row {pos} "
                f"({int(bad.sum())} non-numeric cells)",
                "choose numeric columns for the target/features, or clean those cells")
    return out.replace([np.inf, -np.inf], np.nan)


def parse_time(col: pd.Series, name: str) -> pd.Series:
    if col.isna().any():
        raise LstmkitError(f"time column {name!r} has {int(col.isna().sum())} empty cells",
                           "every row needs a timestamp; drop or fill those rows")
    try:
        return pd.to_datetime(col)
    except (ValueError, TypeError, OverflowError):
        pass
    try:  # per-element parsing for columns that mix formats
        return pd.to_datetime(col, format="mixed")
    except (ValueError, TypeError, OverflowError):
        parsed = pd.to_datetime(col, format="mixed", errors="coerce")
        bad = parsed.isna().to_numpy()
        sample = col.iloc[int(np.flatnonzero(bad)[0])] if bad.any() else col.iloc[0]
        raise LstmkitError(f"time column {name!r} could not be read as dates: found {str(sample)!r}",
                           "use ISO dates such as 2024-01-31 or 2024-01-31 12:00, or fix that cell") from None


def _check_unique_times(index: pd.DatetimeIndex, name: str | None) -> None:
    dup = index.duplicated()
    if dup.any():
        first = index[dup][0]
        where = f"time column {name!r}" if name else "the time index"
        raise LstmkitError(f"duplicate timestamp {first.isoformat()} in {where} ({int(dup.sum())} duplicated rows)",
                           "each row needs its own time; aggregate the duplicates first (e.g. groupby(time).mean())")


def _fill_missing(numeric: pd.DataFrame, fill: str | None) -> tuple[pd.DataFrame, int]:
    counts = numeric.isna().sum()
    counts = counts[counts > 0]
    if counts.empty:
        return numeric, 0
    empty = [c for c in counts.index if counts[c] == len(numeric)]
    if empty:
        raise LstmkitError(f"column {', '.join(map(repr, empty))} has no values", "choose a column that holds data")
    if fill is None:
        detail = ", ".join(f"{c!r} ({int(n)} of {len(numeric)} rows)" for c, n in counts.items())
        raise LstmkitError(f"empty or non-finite cells in column {detail}",
                           "repair them with --fill ffill|interpolate (fill='ffill' or 'interpolate'), "
                           "or clean the data")
    if fill == "interpolate":
        numeric = numeric.interpolate(method="linear", limit_direction="both")
    numeric = numeric.ffill().bfill()
    return numeric, int(counts.sum())


def _regularity(index: pd.DatetimeIndex | None, name: str | None) -> tuple[str | None, int]:
    """Inferred frequency (None when irregular) and the number of gaps in ``index``."""
    if index is None or len(index) < 3:
        return None, 0
    freq = infer_freq(index)
    if freq is not None:
        return freq, 0
    steps = np.diff(index.asi8)
    typical = float(np.median(steps))
    # 1.5x the median step: calendar months (28-31 days) are not gaps, a skipped step is.
    gaps = int((steps > 1.5 * typical).sum())
    if gaps:
        where = f"time column {name!r}" if name else "the time index"
        warnings.warn(f"{where} has {gaps} irregular gaps (steps longer than the typical "
                      f"{pd.Timedelta(int(typical), unit=index.unit)}); windows will span them", UserWarning, stacklevel=3)
    return None, gaps


def infer_freq(index: pd.DatetimeIndex) -> str | None:
    # pandas 3.1 warns that infer_freq will return an offset; opt in where the option exists.
    try:
        with pd.option_context("future.infer_freq_returns_offset", True):
            freq = pd.infer_freq(index)
    except pd.errors.OptionError:
        freq = pd.infer_freq(index)
    return freq if freq is None or isinstance(freq, str) else freq.freqstr


# -- splits ----------------------------------------------------------------------------------
def split_sizes(n: int, lookback: int, horizon: int, val_frac: float = 0.15,
                test_frac: float = 0.15) -> tuple[int, int, int]:
    """Chronological ``(n_train, n_val, n_test)`` point counts.

    ``n_val = round(n * val_frac)``, ``n_test = round(n * test_frac)``, the rest is train. Train
    must hold ``lookback + horizon`` points (one window whose targets are all training points);
    val and test (when their fraction is > 0) at least ``horizon`` points each.
    """
    lookback = _positive_int("lookback", lookback)
    horizon = _positive_int("horizon", horizon)
    for name, frac in (("val_frac", val_frac), ("test_frac", test_frac)):
        if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0 <= frac < 1:
            raise LstmkitError(f"`{name}` must be a fraction in [0, 1), got {frac!r}", "use e.g. 0.15")
    if val_frac + test_frac >= 1:
        raise LstmkitError(f"`val_frac` + `test_frac` must be below 1, got {val_frac} + {test_frac}",
                           "leave room for training data, e.g. 0.15 + 0.15")
    if not _split_ok(np.array([n]), lookback, horizon, val_frac, test_frac)[0]:
        m = _min_length(lookback, horizon, val_frac, test_frac)
        pct = "/".join(f"{100 * f:g}" for f in (1 - val_frac - test_frac, val_frac, test_frac))
        raise LstmkitError(
            f"series too short: {n} rows, need at least {m} for lookback {lookback} + horizon {horizon} "
            f"with {pct} splits",
            "shorten --lookback (or --horizon) or supply more data")
    n_val, n_test = round(n * val_frac), round(n * test_frac)
    return n - n_val - n_test, n_val, n_test


def _split_ok(ns: np.ndarray, lookback: int, horizon: int, val_frac: float, test_frac: float) -> np.ndarray:
    # np.rint rounds half to even, exactly like the built-in round() used in split_sizes.
    n_val, n_test = np.rint(ns * val_frac), np.rint(ns * test_frac)
    ok = ns - n_val - n_test >= lookback + horizon
    if val_frac > 0:
        ok &= n_val >= horizon
    if test_frac > 0:
        ok &= n_test >= horizon
    return ok


def _min_length(lookback: int, horizon: int, val_frac: float, test_frac: float) -> int:
    """Smallest M such that every n ≥ M splits (rounding makes passing non-monotone in n)."""
    bounds = [(lookback + horizon + 1) / (1 - val_frac - test_frac)]
    bounds += [(horizon + 0.5) / f for f in (val_frac, test_frac) if f > 0]
    upper = int(np.ceil(max(bounds))) + 2  # every n above this passes
    ns = np.arange(1, upper + 1)
    failing = ns[~_split_ok(ns, lookback, horizon, val_frac, test_frac)]
    return int(failing[-1]) + 1 if failing.size else 1


def split_window_indices(n: int, lookback: int, horizon: int, n_train: int,
                         n_val: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Window indices (LongTensors) whose targets lie entirely in train, val and test.

    Window ``i`` targets points ``[i + lookback, i + lookback + horizon)``; its inputs may reach
    back into an earlier part. With ``horizon == 1`` the test windows cover each test point once.
    """
    lookback = _positive_int("lookback", lookback)
    horizon = _positive_int("horizon", horizon)
    if not (0 <= n_train and 0 <= n_val and n_train + n_val <= n):
        raise LstmkitError(f"invalid split: n_train={n_train}, n_val={n_val} for {n} points",
                           "use the sizes from split_sizes()")
    total = max(n_windows(n, lookback, horizon), 0)

    def between(first_target: int, end: int) -> torch.Tensor:
        # windows whose first target is ≥ first_target and whose last target is < end
        lo = max(first_target - lookback, 0)
        hi = min(end - lookback - horizon + 1, total)
        return torch.arange(lo, max(hi, lo), dtype=torch.long)

    return between(0, n_train), between(n_train, n_train + n_val), between(n_train + n_val, n)
