"""The type of class labels a fit was given, so that predict answers in it (every classifier:
text and numeric sequences, spoken words).

    label_objects(y)       ``y`` as an object array of its labels (datetime64 as pandas Timestamps)
    y_values(y)            the labels ``y`` holds, its missing ones left out
    whole_if_holed(values) pandas' ints with NaN (``[1.0, nan]``) as ``[1, nan]``
    one_float_each(values) float labels as Python floats: ``1`` and ``1.0`` one label, ``-0.0`` as ``0.0``
    label_type(y)          ``"int"``, ``"float"``, ``"bool"``, ``"decimal"``, ``"datetime"``, ``"timedelta"`` or None
                           (text); strings among numbers an error
    label_dtype(y, kind)   the dtype of ``y``'s values (``"int8"``, ``"float32"``, ``"datetime64[s]"``,
                           ``"datetime64[ns, Europe/Berlin]"``), for classes_ and predict
    typed_labels(names, kind, dtype)  class strings as the labels ``fit`` was given: classes_
    FROM_TEXT              a label type -> how a class string reads back as such a label
    check_scored_labels(y, kind, classes, where)  score/evaluate's labels of the type predict answers in
"""
from __future__ import annotations

import datetime
import decimal
import numbers
from typing import Any

import numpy as np

from lstmkit.data.columns import missing_value
from lstmkit.errors import LstmkitError

__all__ = ["FROM_TEXT", "check_scored_labels", "label_type", "label_dtype", "label_objects", "one_float_each", "typed_labels",
           "y_values", "whole_if_holed"]


def _timestamp(text: str):
    import pandas as pd
    return pd.Timestamp(text)       # its str(): '2024-01-01 00:00:00', '... 00:00:00+01:00', to the nanosecond


def _timedelta(text: str):
    import pandas as pd
    return pd.Timedelta(text)       # its str(): '0 days 01:00:00'


# predict's labels from the class strings, for labels fit was given as numbers, booleans or times (y, a frame's column)
FROM_TEXT = {"int": int, "float": float, "bool": lambda s: s == "True", "decimal": decimal.Decimal,
             "datetime": _timestamp, "timedelta": _timedelta}


def label_objects(y: Any) -> np.ndarray:
    """``y`` as an object array of its labels, in its shape: a numpy datetime64 (timedelta64) array's
    as pandas Timestamps (Timedeltas), NaT as missing: numpy's own object array holds nanosecond
    times as ints (the labels were ``'1704067200000000000'``, and predict answered ints) and day
    ones as ``datetime.date``."""
    if isinstance(y, np.ndarray) and y.dtype.kind in "mM":
        import pandas as pd
        return pd.Series(y.ravel()).astype(object).to_numpy().reshape(y.shape)
    return np.asarray(y, dtype=object)


def y_values(y: Any) -> list:
    """The labels ``y`` holds, its missing ones (None, NaN, ``pd.NA``, NaT) left out: what a label
    type is judged on."""
    return [v for v in whole_if_holed(label_objects(y).ravel().tolist()) if not missing_value(v)]


def whole_if_holed(values: list) -> list:
    """``values`` with whole floats as ints when a value is missing too and every present one is a
    whole float: pandas' ints with NaN (``[1.0, nan]`` was ``[1, None]``); else as they are."""
    present = [v for v in values if not missing_value(v)]
    if len(present) < len(values) and _whole_floats(present):
        return [v if missing_value(v) else int(v) for v in values]
    return values


def one_float_each(values: list) -> list:
    """``values`` with each present one a Python float when they are float labels (:func:`label_type`
    ``"float"``), ``-0.0`` as ``0.0``: one number, one class, as ``np.unique`` and scikit-learn have it
    (``[1, 1.0, 2]`` were the classes ``'1'`` and ``'1.0'``, and ``classes_`` held ``1.0`` twice; ``-0.0``
    and ``0.0`` likewise); other labels, or labels :func:`label_type` refuses (its error is fit's), as
    they are."""
    if not any(isinstance(v, (float, np.floating)) for v in values):       # no float: nothing to merge
        return values
    try:
        kind = label_type(values)
    except LstmkitError:
        return values
    if kind != "float":
        return values
    return [v if missing_value(v) else float(v) + 0.0 for v in values]        # + 0.0: -0.0 is 0.0


def _whole_floats(values: list) -> bool:
    return bool(values) and all(isinstance(v, float) and v.is_integer() for v in values)


def label_type(y) -> str | None:
    """``"int"``, ``"float"``, ``"bool"`` or ``"decimal"`` when ``y``'s labels are all numbers of that kind,
    ``"datetime"`` when all are times (pandas Timestamps, datetime64, ``datetime.datetime``; all with a
    zone or all without), ``"timedelta"`` when all are durations
    (predict gives them back so: ``predict(X) == y`` then compares like with like); None for
    strings, mixed labels, or labels read from a file. Missing labels (None, NaN: left out of
    training) are not looked at: ``[0, 1, None]`` holds ints. Booleans among numbers (``[True, 0]``,
    which numpy reads as ints) are mixed labels: they were written ``'True'`` and ``'0'``. Strings
    among numbers or booleans (``[1, 'neg']``) are an error, as in scikit-learn: predict would
    answer ``'1'``, which is not the label ``1``."""
    if y is None or isinstance(y, (str, bytes)):
        return None
    values = y_values(y)
    text = next((v for v in values if isinstance(v, str)), None)
    other = next((v for v in values if isinstance(v, (numbers.Number, np.bool_))), None)
    if text is not None and other is not None:
        kind = "booleans" if isinstance(other, (bool, np.bool_)) else "numbers"
        raise LstmkitError(f"the labels mix strings ({text!r}) and {kind} ({other!r}): predict could not answer "
                           f"in the labels' own type", "give every label one type: strings (Python: [str(v) for v "
                           "in y]; pandas: y.astype(str), or df[label].astype(str)) or numbers")
    times = _time_kind(values)
    if times is not None:
        return times
    if values and all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in values):
        return "int"                  # beyond int64 (uint64 ids from 2**63 on) numpy reads them as floats, or objects
    try:
        kind = np.asarray(values).dtype.kind
    except ValueError:                                        # ragged: labels_from_y says so
        return None
    if kind in "iuf" and any(isinstance(v, (bool, np.bool_)) for v in values):
        return None
    if kind == "O" and values and all(isinstance(v, decimal.Decimal) for v in values):
        # decimal.Decimal (a database's NUMERIC column): given back as such, not as '0'/'1'; but for one
        # number written two ways (1 and 1.0, one class to np.unique, two labels to a text) as written.
        # Decimal('NaN') is a missing label (its text 'NaN' is one), left out as the others are
        present = [v for v in values if not v.is_nan()]
        return "decimal" if present and len(set(present)) == len(set(map(str, present))) else None
    return {"i": "int", "u": "int", "f": "float", "b": "bool"}.get(kind)


def _time_kind(values: list) -> str | None:
    """``"datetime"`` when ``values`` are all times, all with a zone or all without (their order is
    theirs: naive and zoned times do not compare); ``"timedelta"`` when all are durations; else None
    (a ``datetime.date`` is no time of day: as its text, as before)."""
    if not values:
        return None
    if all(isinstance(v, datetime.datetime) for v in values):
        return "datetime" if len({v.tzinfo is None for v in values}) == 1 else None
    return "timedelta" if all(isinstance(v, datetime.timedelta) for v in values) else None


def label_dtype(y, kind: str | None) -> str | None:
    """The numpy dtype of ``y``'s numbers (``"int8"``, ``"uint16"``, ``"float32"``; pandas' nullable and
    Arrow dtypes as the numpy one they hold) when it is of the ``kind`` :func:`label_type` found, so
    classes_ and predict answer in it, as scikit-learn's classifiers do; None otherwise (a list, a
    float y holding ints with NaN: numpy's defaults)."""
    dtype = getattr(y, "dtype", None)
    if kind == "datetime" and getattr(dtype, "tz", None) is not None:     # pandas' zoned times: numpy has no such dtype
        return str(dtype)                                                  # 'datetime64[ns, Europe/Berlin]'
    dtype = getattr(dtype, "numpy_dtype", dtype)
    try:
        dtype = np.dtype(dtype) if dtype is not None else None
    except TypeError:                                            # category, torch's dtypes, ...
        return None
    if dtype is None or dtype.kind not in {"int": "iu", "float": "f", "datetime": "M", "timedelta": "m"}.get(kind, ""):
        return None
    return dtype.name


def typed_labels(names: list[str], kind: str | None, dtype: str | None) -> np.ndarray:
    """The class strings ``names`` as the labels ``fit`` was given (``classes_``): text as it is (an
    object array), else each read back by ``FROM_TEXT[kind]`` into an array of ``dtype`` (None:
    numpy's choice); times with a zone (``dtype`` ``'datetime64[ns, Europe/Berlin]'``) as pandas
    Timestamps in that zone (their strings keep only its offset, ``+01:00``)."""
    read = FROM_TEXT.get(kind)
    if read is None:
        return np.asarray(names, dtype=object)
    values = [read(n) for n in names]
    if kind == "int" and dtype is None:          # Python's ints beyond int64 (10**30): as objects, never as floats
        ints = np.asarray(values)
        return ints if ints.dtype.kind in "iu" else np.asarray(values, dtype=object)
    if kind == "datetime" and dtype is not None and "," in dtype:
        import pandas as pd
        zone = pd.api.types.pandas_dtype(dtype).tz
        return np.asarray([v.tz_convert(zone) for v in values], dtype=object)
    return np.asarray(values, dtype=dtype)


# how labels given as strings read as a label type fit recorded, for the fix an error names
_AS_KIND = {"int": ("integers", "[int(v) for v in y]", "y.astype(int)"),
            "float": ("floats", "[float(v) for v in y]", "y.astype(float)"),
            "bool": ("booleans", "[v == 'True' for v in y]", "y == 'True'"),
            "decimal": ("decimals", "[decimal.Decimal(v) for v in y]", "y.map(decimal.Decimal)"),
            "datetime": ("times", "[pd.Timestamp(v) for v in y]", "pd.to_datetime(y)"),
            "timedelta": ("durations", "[pd.Timedelta(v) for v in y]", "pd.to_timedelta(y)")}


_AS_NUMBER = ("int", "float", "bool")        # label types that one another's values may be meant as


def check_scored_labels(y, kind: str | None, classes: list[str], where: str = "y") -> None:
    """An error when the labels ``y`` that score or evaluate compare predict with are text where
    predict answers numbers, booleans or times (``kind``, as :func:`label_type` recorded at fit), or
    numbers, booleans or times where it answers text (``kind`` None; ``classes``, the class strings,
    for the message): scored by their text, ``'1'`` counted as the class ``1`` (accuracy 1.0 where
    ``predict(X) == y`` is all False); scikit-learn's ``accuracy_score`` refuses them so. ``where``:
    what holds the labels (``y``, a DataFrame's label column). Whole floats for a model fitted on
    integers (a column pandas made float: ``1.0`` for ``1``) are an error naming ``y.astype(int)`` (the
    unseen-label check said "label '1.0' is not one of the model's classes — the classes are: 0, 1");
    other numbers or booleans for a model fitted on another of the three (``[0, 1]`` for ``[False, True]``,
    integers for floats) likewise (it was that check's "labels not seen in training: '1'"); other labels of
    the right family but another type are left to that check; ``y`` None, one value or ragged, to
    the readers."""
    if y is None or isinstance(y, (str, bytes)) or np.ndim(y) == 0:
        return
    try:
        values = y_values(y)
    except (ValueError, TypeError):                     # ragged, or not one label each: labels_from_y says so
        return
    if not values:                                      # no rows: the reader says so (a ValueError, as scikit-learn's)
        return
    text = next((v for v in values if isinstance(v, str)), None)
    if kind is not None and text is not None:
        words, python, arrays = _AS_KIND[kind]
        raise LstmkitError(f"{where} holds strings ({text!r}) but the model was fitted on {words}: predict answers "
                           f"{words}, which never equal a string", f"pass the labels as {words}, as fit had them "
                           f"(Python: {python}; numpy or pandas: {arrays})")
    found = _typed(values)
    if kind == "int" and found == "float" and _whole_floats(values):   # a column pandas made float (a NaN dropped)
        words, python, arrays = _AS_KIND[kind]
        raise LstmkitError(f"{where} holds floats ({values[0]!r}) but the model was fitted on integers: its labels "
                           f"are read as written, and {str(values[0])!r} is no class (they are "
                           f"{', '.join(classes[:4])}{', ...' if len(classes) > 4 else ''})",
                           f"pass the labels as integers, as fit had them (Python: {python}; numpy or pandas: {arrays})")
    if kind in _AS_NUMBER and found in _AS_NUMBER and found != kind:     # booleans for 0/1, ints for floats, ...
        words, python, arrays = _AS_KIND[kind]
        given = _AS_KIND[found][0]
        raise LstmkitError(f"{where} holds {given} ({values[0]!r}) but the model was fitted on {words}: predict answers "
                           f"{words}, and {given} are read as written ({str(values[0])!r} is no class; they are "
                           f"{', '.join(classes[:4])}{', ...' if len(classes) > 4 else ''})",
                           f"pass the labels as {words}, as fit had them (Python: {python}; numpy or pandas: {arrays})")
    if kind is None and text is None and found is not None:
        shown = ", ".join(repr(c) for c in classes[:4]) + (", ..." if len(classes) > 4 else "")
        words = _AS_KIND[found][0]
        raise LstmkitError(f"{where} holds {words} ({values[0]!r}) but the model's classes are strings ({shown}): "
                           f"predict answers strings, which never equal {words}", "pass the labels as strings "
                           "(Python: [str(v) for v in y]; numpy or pandas: y.astype(str)), or refit on them as "
                           f"{words} to have predict answer {words}")


def _typed(values: list) -> str | None:
    """The label type of ``values`` when predict answers such labels in it (numbers, booleans, times);
    None for text, or mixed labels (fit gave them back as text, as :func:`label_type` judges them)."""
    try:
        return label_type(values)
    except LstmkitError:
        return None
