"""A fingerprint of data given in memory (a DataFrame, an array, a list of texts or of arrays, a
tuple ``(X, y)``): the SHA-256 of its content, the same in every process, by which a resumed run
tells the data it started on from other data (:mod:`lstmkit.data.same_data`).

A frame is hashed row by row with :func:`pandas.util.hash_pandas_object` (the column names and
dtypes beside it): vectorised, so a million rows take a fraction of a second; a column of objects
pandas would hash by their text (lists, arrays, tensors) cell by cell.

Only what a model reads decides: a frame's index only where a reader takes it as data (a date or
period index, a forecast's time; an index of several levels, reset into columns); row labels no
reader reads (a ``RangeIndex``, the labels a filter or ``reset_index`` leaves, a string index)
are left out, so a frame whose index alone changed resumes. Column order and dtypes stay in:
a wide table's columns are read in order (a series' steps) and a long table's unnamed features
too, and an integer column turned float is read as other text where it holds labels or ids
(class ``1.0``, not ``1``).
A number array's bytes are hashed as they are (a float's -0.0 as 0.0, every NaN as one NaN, as
pandas hashes them); a list of texts as one text and their lengths.
Anything else it cannot read (an object it does not know) has no fingerprint: ``None``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import sys
from numbers import Number
from typing import Any

import numpy as np

__all__ = ["fingerprint"]

#: What an object column may hold for pandas' hashes to read it exactly (``pandas.api.types.infer_dtype``).
_PANDAS_HASHES = frozenset({"string", "empty", "bytes", "integer", "floating", "mixed-integer-float", "boolean",
                            "decimal", "date", "datetime", "datetime64", "time", "timedelta", "period"})


def fingerprint(data: Any, every_index: bool = False) -> str | None:
    """The SHA-256 (hex) of ``data``'s content, or None for data it cannot read. ``every_index``:
    with every frame's index, as fingerprints were made before row labels were left out (what runs
    started then recorded)."""
    h = hashlib.sha256()
    try:
        _feed(h, data, every_index)
    except (TypeError, ValueError):          # an unhashable cell, an object of an unknown kind
        return None
    return h.hexdigest()


def _feed(h, obj: Any, every_index: bool) -> None:
    pd = sys.modules.get("pandas")           # a frame exists only where pandas is loaded already
    if pd is not None and isinstance(obj, (pd.DataFrame, pd.Series)):
        columns = [str(c) for c in obj.columns] if isinstance(obj, pd.DataFrame) else [str(obj.name)]
        dtypes = [str(d) for d in (obj.dtypes if isinstance(obj, pd.DataFrame) else [obj.dtype])]
        index = every_index or _read_index(pd, obj.index)
        read = index and not every_index
        shown = f" index {[str(n) for n in obj.index.names]} {obj.index.dtype}" if read else ""
        _tag(h, f"{type(obj).__name__} {obj.shape} {columns} {dtypes}{shown}")
        _feed_frame(h, pd, obj, index, every_index)
    elif isinstance(obj, np.ndarray) or hasattr(obj, "__array_interface__") or _is_tensor(obj):
        a = np.asarray(obj.detach().cpu() if _is_tensor(obj) else obj)
        _tag(h, f"array {a.dtype.str} {a.shape}")
        if a.dtype == object:
            for item in a.ravel():
                _feed(h, item, every_index)
        else:
            h.update(np.ascontiguousarray(_canonical(a) if a.dtype.kind in "fc" else a).tobytes())
    elif isinstance(obj, str):
        _tag(h, f"str {len(obj)}")
        h.update(obj.encode("utf-8", "surrogatepass"))
    elif isinstance(obj, bytes):
        _tag(h, f"bytes {len(obj)}")
        h.update(obj)
    elif obj is None or isinstance(obj, (bool, Number)):
        _tag(h, f"{type(obj).__name__} {obj + 0.0 if isinstance(obj, float) else obj!r}")     # -0.0 as 0.0
    elif isinstance(obj, (list, tuple)):
        _tag(h, f"{type(obj).__name__} {len(obj)}")
        if obj and all(isinstance(s, str) for s in obj):     # texts: one update, not one per line
            h.update(np.fromiter(map(len, obj), dtype=np.int64, count=len(obj)).tobytes())
            h.update("".join(obj).encode("utf-8", "surrogatepass"))
        else:
            for item in obj:
                _feed(h, item, every_index)
    elif isinstance(obj, dict):
        _tag(h, f"dict {len(obj)}")
        for key, value in obj.items():
            _feed(h, key, every_index)
            _feed(h, value, every_index)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        _tag(h, type(obj).__name__)
        for f in dataclasses.fields(obj):
            _feed(h, getattr(obj, f.name), every_index)
    else:
        raise TypeError(type(obj).__name__)


def _read_index(pd, index) -> bool:
    """Whether a reader takes ``index`` as data: dates or periods (a forecast's time), several
    levels (reset into columns); not row labels (a range, numbers, strings)."""
    return isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex, pd.TimedeltaIndex, pd.MultiIndex))


def _feed_frame(h, pd, obj, index: bool, every_index: bool) -> None:
    """A frame's (or series') row hashes, its index with them where ``index``; a column of objects
    pandas would hash by their text (lists, arrays, tensors: truncated with '...'; an object of its
    own class: by its address, so never the same in two processes) is read cell by cell instead."""
    columns = [column for _, column in obj.items()] if isinstance(obj, pd.DataFrame) else [obj]
    cellwise = [column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) not in _PANDAS_HASHES
                for column in columns]
    if not any(cellwise):
        h.update(pd.util.hash_pandas_object(obj, index=index).to_numpy().tobytes())
        return
    if index:
        h.update(pd.util.hash_pandas_object(obj.index).to_numpy().tobytes())
    for column, by_cell in zip(columns, cellwise):
        if by_cell:
            _feed(h, column.tolist(), every_index)
        else:
            h.update(pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes())


def _canonical(a: np.ndarray) -> np.ndarray:
    """A copy of a float array with -0.0 as 0.0 and every NaN one NaN: equal numbers hash alike
    whatever computed them (x86's 0/0 is a NaN with its sign bit set, a GPU's another), as
    pandas' row hashes of a frame already do."""
    a = a + a.dtype.type(0)
    a[np.isnan(a)] = np.nan
    return a


def _tag(h, text: str) -> None:
    h.update(b"\x00" + text.encode() + b"\x00")


def _is_tensor(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.Tensor)
