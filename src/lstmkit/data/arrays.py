"""Array-likes handed to an estimator, as numpy arrays that mean what the user meant.

    masked_as_missing(data)     a masked array's masked cells as missing (NaN, or None in text)
    tensor_as_array(data)       a torch tensor on any device, with or without gradients, as numpy
    matrix_as_array(data)       a numpy matrix as the ndarray it holds (one row or column: its 1-D values)
    plain_array(data)           any of those as its numpy array; anything else as it is
    text_items(data)            a 1-D array-like of texts (pandas, numpy, pyarrow, an iterator) as a list
    arrow_as_frame(data)        a pyarrow Table or RecordBatch, a polars DataFrame or Series, a numpy structured
                                (record) array, as pandas'; anything else as it is
    lost_integer(ints, floats)  the first integer its float64 moved by more than a millionth of their range, or None
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from lstmkit.errors import LstmkitError

__all__ = ["masked_as_missing", "tensor_as_array", "matrix_as_array", "plain_array", "text_items", "arrow_as_frame",
           "lost_integer", "EXACT_INT", "INT_TOLERANCE"]

EXACT_INT = 2 ** 53          # integers beyond this lose their last digits as float64
INT_TOLERANCE = 1e-6         # share of the integers' range that rounding to float64 may move a value


def masked_as_missing(data: Any) -> Any:
    """``data`` with a numpy masked array's masked cells as missing values: NaN in numbers (as
    pandas reads a masked array), None in anything else; anything that is not a masked array as
    it is. ``np.asarray`` keeps the values under the mask (often a -999 placeholder), and those
    were read as data."""
    if not np.ma.isMaskedArray(data):
        return data
    mask, values = np.ma.getmaskarray(data), np.ma.getdata(data)
    if not mask.any():
        return values
    out = values.astype(np.float64 if values.dtype.kind in "biuf" else object)
    out[mask] = np.nan if out.dtype == np.float64 else None
    return out


def tensor_as_array(data: Any) -> np.ndarray:
    """A torch tensor (any device, with or without gradients) as a numpy array; bfloat16, which
    numpy has no type for, as float32. A tensor without data (device ``meta``) or one that cannot
    be copied to the CPU is an error naming its device."""
    device = getattr(data.device, "type", str(data.device))
    try:
        cpu = data.detach().cpu()
        return (cpu.float() if str(cpu.dtype) == "torch.bfloat16" else cpu).numpy()
    except (NotImplementedError, RuntimeError) as e:
        raise LstmkitError(f"the {device} tensor could not be copied to the CPU ({str(e).splitlines()[0][:80]})",
                           "pass a tensor that holds values, e.g. x.to('cpu') of a computed tensor, or a numpy array") from None


def matrix_as_array(data: Any, vector: bool = True) -> Any:
    """A numpy matrix (``np.matrix``, ``np.asmatrix``) as the ndarray it holds, anything else as it is.
    A matrix is always 2-D, and stays so when indexed (``m[0]`` is a 1×N matrix, ``m.ravel()`` too), so
    code written for arrays read other shapes than it meant; and it holds a vector as one row
    (``np.asmatrix(y)`` is 1×N) or one column: with ``vector`` (where 1-D values are read: labels, one
    series, texts) such a matrix is its 1-D values; a matrix of several rows and columns is its 2-D array."""
    if not isinstance(data, np.matrix):
        return data
    a = np.asarray(data)
    return a.ravel() if vector and 1 in a.shape else a


def plain_array(data: Any) -> Any:
    """A torch tensor, a masked array or a numpy matrix (one row or column: a vector) as the numpy
    array it stands for (:func:`tensor_as_array`, :func:`masked_as_missing`, :func:`matrix_as_array`);
    anything else (tables, lists, plain arrays, paths) as it is."""
    kind = type(data)               # asked of the type: a DataFrame's own getattr looks for a column of the name
    if hasattr(kind, "detach") and hasattr(kind, "cpu"):
        data = tensor_as_array(data)
    return masked_as_missing(matrix_as_array(data))


def text_items(data: Any) -> list | None:
    """The items of a one-dimensional array-like of texts, as a list: a list or tuple, a numpy array
    (1-D, or one column ``[N, 1]``), a pandas Series, Index, Categorical or extension array
    (``string[pyarrow]``), a pyarrow Array or ChunkedArray or a polars Series (nulls as None), a generator or other
    iterator. Missing cells stay missing (None, NaN, ``pd.NA``) for the caller to name. None for
    anything else (a string or path, a table, a dict, a set, a 2-D array): the caller says what it
    takes. (pyarrow's arrays iterate as Arrow scalars, and pandas' Index, Categorical and extension
    arrays were refused where a Series was read.)"""
    if isinstance(data, (str, bytes, bytearray, dict, set, frozenset)) or hasattr(data, "columns"):
        return None
    data = matrix_as_array(data)                    # np.matrix's [:, 0] is still 2-D
    if isinstance(data, (list, tuple)):
        return list(data)
    if hasattr(data, "to_pylist"):                                  # pyarrow Array, ChunkedArray
        return data.to_pylist()
    if _polars(data) and hasattr(data, "to_list"):                   # a polars Series (nulls as None)
        return data.to_list()
    if isinstance(data, np.ndarray) and data.ndim == 2 and data.shape[1] == 1:
        data = data[:, 0]                           # one column of texts: scikit-learn's ColumnTransformer's output
    if hasattr(data, "tolist") and getattr(data, "ndim", 1) == 1:    # numpy, pandas
        return data.tolist()
    return list(data) if isinstance(data, Iterator) else None


def _polars(data: Any) -> bool:
    """Whether ``data`` is a polars object (a DataFrame, Series): polars is no dependency, never imported."""
    return type(data).__module__.partition(".")[0] == "polars"


def arrow_as_frame(data: Any) -> Any:
    """A pyarrow Table or RecordBatch (``pq.read_table``) or a polars DataFrame as a pandas DataFrame,
    read by its columns as a DataFrame is (a Table's ``columns`` are Arrow arrays, not names; a polars
    frame was 'unsupported data type DataFrame', or read as its array of cells), a polars Series as a
    pandas Series; a numpy structured or record array (``np.genfromtxt(..., names=True)``, ``df.to_records()``)
    as the DataFrame of its fields, as pandas reads it (each record was read as one cell, ``'(112.0,)'``: 'not
    numeric', or an array of shape ``(N,)`` for sequences). A field holding an array per record
    (``('x', 'f8', (150,))``) is an error naming the field and the array to pass; anything else as it is."""
    if (hasattr(data, "column_names") or _polars(data)) and hasattr(data, "to_pandas"):
        return data.to_pandas()
    if isinstance(data, np.ndarray) and data.dtype.names is not None:
        return _records_frame(data)
    return data


def _records_frame(data: np.ndarray) -> Any:
    """A structured array's fields as the columns of a DataFrame (a masked one's masked cells missing)."""
    import pandas as pd
    fields = data.dtype.fields or {}
    for name in data.dtype.names or ():
        shape = fields[name][0].shape
        if shape:
            raise LstmkitError(f"the structured array's field {name!r} holds an array of shape {shape} per record, "
                               f"not one value", f"pass that field's own array, x[{name!r}] (shape {(len(data), *shape)})")
    if data.ndim != 1:
        raise LstmkitError(f"the structured array has shape {data.shape}, not one record per row",
                           "pass a 1-D structured array (x.ravel()), or pd.DataFrame(x.ravel())")
    if np.ma.isMaskedArray(data):
        mask = np.ma.getmaskarray(data)
        return pd.DataFrame({n: masked_as_missing(np.ma.masked_array(np.ma.getdata(data)[n], mask=mask[n]))
                             for n in data.dtype.names or ()})
    return pd.DataFrame(data)


def lost_integer(ints: np.ndarray, floats: np.ndarray) -> int | None:
    """The flat position of the first of the integers ``ints`` (a numpy integer array) that their float64
    ``floats`` moved by more than :data:`INT_TOLERANCE` of the integers' range, or None: values such as
    2**62 + t differ only in digits a float64 does not keep, and would read as one constant."""
    big = np.flatnonzero(np.abs(floats.ravel()) > EXACT_INT)
    if len(big) == 0:
        return None
    flat = ints.ravel()
    moved = np.array([abs(int(floats.flat[k]) - int(flat[k])) for k in big])       # exact, in Python ints
    if moved.max() <= INT_TOLERANCE * (int(flat.max()) - int(flat.min())):
        return None
    return int(big[np.argmax(moved > 0)])
