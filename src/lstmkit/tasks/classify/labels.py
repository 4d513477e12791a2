"""Class labels: read from a table's label column or given as ``y``, checked, split.

    label_cells / labels_from_y            labels given as a label column / as ``y``; None where a label is missing
    labels_given_twice(label)              the error for labels in the data and in ``y`` too
    given_y(y)                             ``y`` as fit reads it twice: an iterator as its list, a 1×N matrix as 1-D
    y_values(y)                            the labels ``y`` holds, for judging their type
    labelled_rows(labels, where, df)       the rows with a label; the others left out with a warning; a
                                           spreadsheet's summary row (Total, Average) at the end refused
    check_classes / check_known_labels     at least two classes; no labels unseen in training
    warn_missing_classes(labels, ...)      data to score on without some training classes
    warn_label_spellings(labels)           one class written two ways ('Pos' and 'pos', '1' and '1.0')
    warn_lone_classes(labels)              most rows the only example of their class (the texts as labels?)
    stratified_split(labels, frac, seed)   seeded train / validation indices, class shares kept

Shared by texts (:mod:`lstmkit.tasks.classify.data`) and numeric sequences
(:mod:`lstmkit.tasks.classify.series`).
"""
from __future__ import annotations

import math
import unicodedata
import warnings
from collections import Counter
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd

from lstmkit.data.arrays import matrix_as_array
from lstmkit.data.stratify import stratified_split, warn_missing_classes
from lstmkit.data.columns import SUMMARY_ROWS, blank_rows, missing_value, summary_cell, trailing_blank_rows
from lstmkit.data.label_types import label_objects, one_float_each, whole_if_holed, y_values
from lstmkit.data.textfile import column_strings as _as_strings
from lstmkit.data.textfile import row_place
from lstmkit.errors import LstmkitError, callers_level, opt, worded

__all__ = ["label_cells", "labels_from_y", "labels_given_twice", "given_y", "y_values", "labelled_rows", "check_classes",
           "check_known_labels", "warn_missing_classes",
           "warn_label_spellings", "warn_lone_classes", "stratified_split"]


# a label cell that holds none: empty, or how spreadsheets, R and pandas write a missing value
_NO_LABEL = frozenset({"", "na", "n/a", "nan", "#n/a", "<na>", "null"})
_NO_LABEL_WORDS = "empty, NA, N/A or NaN"
_NO_Y_WORDS = "None, NaN, empty, NA or N/A"


def label_cells(col: pd.Series, where: str, required: bool = True) -> list[str | None] | None:
    """The label cells as text, None where a cell holds no label (empty, or a missing-value mark:
    ``NA``, ``N/A``, ``NaN``, ``#N/A``, ``null``); with ``required=False`` (prediction, which reads
    no label) a column with such a cell counts as absent. A frame's float column of whole numbers
    with a missing one (pandas' ints with NaN) reads ``"3"``, not ``"3.0"``, as ``y`` and the file do;
    a column of numbers that one of them is a float in (an object column of ``1`` and ``1.0``) reads each
    as a float, one number one class (:func:`~lstmkit.data.label_types.one_float_each`)."""
    if pd.api.types.is_float_dtype(col) or col.dtype == object:
        col = pd.Series(one_float_each(whole_if_holed(col.tolist())), index=col.index, name=col.name, dtype=object)
    inf = _infinite(col.tolist())
    if inf is not None and required:
        raise LstmkitError(f"the label cell at {row_place(col.to_frame(), inf)}{where} is {col.iloc[inf]} (an infinite "
                           "number), not a class", _INF_FIX)
    labels: list[str | None] = [s.strip() for s in _as_strings(col)]
    missing = [i for i, s in enumerate(labels) if s.casefold() in _NO_LABEL]
    if missing and not required:
        return None
    for i in missing:
        labels[i] = None
    return labels


def labelled_rows(labels: Sequence[str | None], where: str, df: pd.DataFrame | None, what: str = "row",
                  rows: Sequence[int] | None = None, note: str = "") -> list[int]:
    """The indices of the rows (or samples: ``what``) that have a label. Those without one (None)
    are left out with one warning naming how many and where the first is (``df``: the table read,
    for its file line; ``rows``: each item's first data row, when items are not rows; ``df=None``:
    the labels came as ``y``, the place is the position in ``y``; ``note``: what more the warning says
    of that first one); when none has a label, an error. A table's empty rows at its end are left
    out without a word; its summary row is an error (:func:`_check_summary_row`)."""
    if df is not None and rows is None and len(df) == len(labels):
        _check_summary_row(labels, df, where)
    missing = [i for i, v in enumerate(labels) if v is None]
    keep = [i for i, v in enumerate(labels) if v is not None]
    if missing and keep and df is not None and rows is None and len(df) == len(labels):
        end = len(labels) - trailing_blank_rows(df)     # a spreadsheet's ",," lines under the data: no row of it
        missing = [i for i in missing if i < end]
    if not missing:
        return keep
    n, plural = len(missing), len(missing) > 1
    words = _NO_LABEL_WORDS if df is not None else _NO_Y_WORDS
    if not keep:
        raise LstmkitError(f"no {what}{where} has a label ({words} in every label {'cell' if df is not None else 'of y'})",
                           f"fill in the labels, or name the column that holds them with {opt('label')}" if df is not None
                           else f"pass a label for each {what} in y")
    first = f"y[{missing[0]}]" if df is None else row_place(df, missing[0] if rows is None else rows[missing[0]])
    warnings.warn(f"{n} of {len(labels)} {what}s{where} {'have' if plural else 'has'} no label ({words}; "
                  f"first: {first}{note}): left out; fill in {'their labels' if plural else 'its label'} "
                  f"to use {'them' if plural else 'it'}", UserWarning, stacklevel=callers_level())
    return keep


def _check_summary_row(labels: Sequence[str | None], df: pd.DataFrame, where: str) -> None:
    """An :class:`LstmkitError` when one of the last rows of the table ``df`` (one row per item) is a
    spreadsheet's summary row: a cell reading Total, Average, … once in its column
    (:func:`~lstmkit.data.columns.summary_cell`) and a label no other row has (``Average`` under
    a sheet of samples, ``Total,200`` under texts). It was trained and scored as a class of one."""
    filled = np.flatnonzero(~blank_rows(df))
    counts: Counter | None = None
    for k in filled[-SUMMARY_ROWS:]:
        k = int(k)
        if k < 3 or labels[k] is None:
            continue
        counts = counts if counts is not None else Counter(labels)
        word = summary_cell(df, k) if counts[labels[k]] == 1 else None
        if word is not None:
            raise LstmkitError(f"{row_place(df, k)}{where} looks like a summary row ({word}), not data: its label "
                               f"{labels[k]!r} would be trained and scored as a class of one example",
                               "delete that row (and any other summary rows) from the data")


def labels_given_twice(label: str, own: str = "") -> LstmkitError:
    """The error for labels given in the data and as ``y`` too (``fit(df, y)`` with the table's
    ``label`` column): which should win would be a guess. ``own``: where a file whose layout labels
    every item holds them (a folder's class folders), in place of a label column."""
    where = own or f"the data's {label!r} column"
    fix = "pass the texts alone with y" if own else "the label column"
    return LstmkitError(f"labels given twice: in {where} and as y", f"pass only one of them (drop y, or {fix})")


def labels_from_y(y: Any, n: int, what: str) -> list[str | None]:
    """``y`` as label strings, one per text or sequence, None where ``y`` holds no label (None,
    NaN, ``pd.NA``, empty, or a missing-value mark as a file's label cell: ``NA``, ``N/A``, …);
    :func:`labelled_rows` then leaves those out, as the table readers do. A single value (a
    string is one label, not a list of letters) or a ``y`` of other than one column is an error.
    Whole numbers in a float ``y`` that holds a missing value (pandas' ints with NaN) read as
    ``"3"``, not ``"3.0"``, as a table's do; numbers that one of them is a float in read as floats
    (``1`` and ``1.0`` one class, ``-0.0`` as ``0.0``, as ``np.unique`` has them). A generator or other iterator reads as the list it
    yields (:func:`given_y`); a label of bytes, or of several values (a set, a list), is an error, as
    in a table's label column (``str()`` made ``"b'pos'"`` or ``"{'pos'}"`` of it, and predict
    answered that)."""
    y = given_y(y)
    if isinstance(y, (str, bytes)) or np.ndim(y) == 0:
        raise LstmkitError(f"y is a single {type(y).__name__} ({str(y)[:20]!r}), not one label per {what}",
                           f"pass a list or array of {n} labels")
    try:
        arr = label_objects(y)                                # datetime64: Timestamps, not ints
    except ValueError:                                        # ragged nested lists
        raise LstmkitError(f"y is not one label per {what} (its items have different shapes)",
                           f"pass {n} labels as a 1-D list or array") from None
    if arr.ndim == 2 and arr.shape[1] == 1:                   # a column vector [N, 1]
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise LstmkitError(f"y has shape {tuple(arr.shape)}, not one label per {what}", f"pass {n} labels as a 1-D list or array")
    if len(arr) != n:
        raise LstmkitError(f"got {n} {what}s but {len(arr)} labels", f"pass one label per {what}")
    values = arr.tolist()
    raw = next((i for i, v in enumerate(values) if isinstance(v, (bytes, bytearray))), None)
    if raw is not None:
        raise LstmkitError(f"label {raw + 1} of y is bytes ({bytes(values[raw][:20])!r}), not text",
                           "decode the labels first (Python: [v.decode('utf-8') for v in y]; numpy: y.astype(str))")
    many = next((i for i, v in enumerate(values) if isinstance(v, (list, tuple, set, frozenset, dict, np.ndarray))), None)
    if many is not None:                      # their str() ("{'pos'}") was read as the label
        raise LstmkitError(f"label {many + 1} of y is a {type(values[many]).__name__} ({str(values[many])[:30]}), not "
                           f"one label", f"pass one label per {what} (a classifier picks one class; for several "
                           "labels each, train one classifier per label)")
    inf = _infinite(values)
    if inf is not None:                       # str() made a class 'inf' of a division by zero
        raise LstmkitError(f"label y[{inf}] is {values[inf]} (an infinite number), not a class", _INF_FIX)
    labels = [None if missing_value(v) else str(v).strip() for v in one_float_each(whole_if_holed(values))]
    _warn_spaces(values, labels)
    return [None if v is None or v.casefold() in _NO_LABEL else v for v in labels]


_INF_FIX = ("an infinite label is most often a division by zero upstream: fix the labels where they are made, "
            "or drop those rows")


def _infinite(values: list) -> int | None:
    """The index of the first label that is an infinite float (``inf``, ``-inf``; numpy's too), or None."""
    return next((i for i, v in enumerate(values) if isinstance(v, (float, np.floating)) and math.isinf(v)), None)


def _warn_spaces(given: list, labels: list[str | None]) -> None:
    """One warning when labels of ``y`` have spaces around them: read stripped, as a table's cells
    are, so predict answers ``'pos'`` where ``y`` holds ``' pos'`` (and never equals ``y`` there)."""
    spaced = [i for i, (v, s) in enumerate(zip(given, labels)) if isinstance(v, str) and s and v != s]
    if spaced:
        i, n = spaced[0], len(spaced)
        warnings.warn(f"{n} of {len(given)} labels of y {'have' if n > 1 else 'has'} spaces around "
                      f"{'them' if n > 1 else 'it'} (first: y[{i}] {given[i]!r}): read as {labels[i]!r}, as a table's "
                      "label cells are, and predict answers so; strip them to compare predictions with y "
                      "(pandas: y.str.strip())", UserWarning, stacklevel=callers_level())


def given_y(y: Any) -> Any:
    """``y`` as ``fit`` reads it more than once: a generator or other iterator as the list it yields
    (it was 'a single generator'), a numpy matrix of one row or column (``np.asmatrix(y)``, 1×N: it
    was 'y has shape (1, N)') as its 1-D array, anything else as it is."""
    return list(y) if isinstance(y, Iterator) else matrix_as_array(y)


# -- classes and splits ---------------------------------------------------------------------------
def check_classes(labels: Sequence[str], where: str = "the training data") -> list[str]:
    """Sorted class names; fewer than two is an error."""
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise LstmkitError(f"only one class ({classes[0]!r}) in {where}" if classes else f"no labels in {where}",
                           "a classifier needs examples of at least two classes; check the "
                           + worded("--label column", "labels (y, or the label= column)"))
    return classes


def warn_label_spellings(labels: Sequence[str]) -> None:
    """One warning when labels differ only in case, Unicode form, invisible characters (a zero-width
    space or a direction mark pasted with the label: printed, 'pos' and it read alike) or the way a
    number is written ('Pos' and 'pos', '1' and '1.0'): each is a class of its own, which is seldom
    what was meant."""
    counts = Counter(labels)
    groups: dict[Any, list[str]] = {}
    for lbl in sorted(counts):
        groups.setdefault(_spelling_key(lbl), []).append(lbl)
    alike = [g for g in groups.values() if len(g) > 1]
    if not alike:
        return
    shown = "; ".join(" and ".join(f"{v!r} ({counts[v]} row{'s' if counts[v] > 1 else ''})" for v in g)
                      for g in alike[:3]) + ("; …" if len(alike) > 3 else "")
    warnings.warn(f"labels that differ only in case, invisible characters or in how a number is written: {shown}; "
                  "each is trained as a class of its own: write each class one way if they are one class",
                  UserWarning, stacklevel=callers_level())



def warn_lone_classes(labels: Sequence[str]) -> None:
    """One warning when half the rows or more are the only example of their class: the label column
    holds the texts, or ids (the columns swapped, ``--label`` naming the wrong one). With a
    validation split that is an error or a warning of its own (:func:`stratified_split`); with
    ``val_frac=0`` or a validation file given it trained a class per row, never told."""
    counts = Counter(labels)
    lone = [c for c, n in counts.items() if n == 1]
    if not labels or 2 * len(lone) < len(labels):
        return
    first = lone[0] if len(lone[0]) <= 40 else lone[0][:39] + "…"
    warnings.warn(f"{len(lone)} of the {len(labels)} rows are the only example of their class (first: {first!r}): "
                  f"a class is learnt from several examples; check the label column ({opt('label')}: does it hold "
                  "the texts, or ids?)", UserWarning, stacklevel=callers_level())


def _spelling_key(label: str) -> Any:
    try:
        number = float(label)
    except ValueError:
        number = math.nan
    if math.isfinite(number):
        return number
    visible = "".join(ch for ch in label if unicodedata.category(ch) != "Cf")      # zero-width, direction marks, BOM
    return unicodedata.normalize("NFKC", visible).casefold()


_SHOWN_CLASSES = 12         # classes an error lists; 250 classes' names made a line of 15,000 characters


def check_known_labels(labels: Sequence[str], classes: Sequence[str]) -> None:
    """Labels outside ``classes`` (never seen in training) are an error listing them, and the
    first :data:`_SHOWN_CLASSES` classes (with their count, when there are more)."""
    known = set(classes)
    unseen = Counter(lbl for lbl in labels if lbl not in known)
    if unseen:
        shown = ", ".join(f"{k!r} ({n} row{'s' if n > 1 else ''})" for k, n in unseen.most_common(5))
        known_as = {_spelling_key(c): c for c in classes}
        alike = [(k, known_as[_spelling_key(k)]) for k in unseen if _spelling_key(k) in known_as]
        hint = (" (written " + ", ".join(f"{c!r} there, not {k!r}" for k, c in alike[:3]) + ")") if alike else ""
        listed = ", ".join(classes[:_SHOWN_CLASSES]) + (f", … ({len(classes)} classes)" if len(classes) > _SHOWN_CLASSES else "")
        raise LstmkitError(f"labels not seen in training: {shown}",
                           f"the model knows only: {listed}{hint}; drop or relabel those rows")
