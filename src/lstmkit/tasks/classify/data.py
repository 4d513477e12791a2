"""Classification data: read labelled texts, check labels, split them (numeric sequences:
:mod:`lstmkit.tasks.classify.series`).

    lines_of_text(text, where)         a file's (or standard input's) texts, one a line; blank lines skipped
    read_texts(data, text=, label=)    CSV / TSV / JSONL (.gz too), XLSX, Parquet, a folder of class folders of
                                       .txt files (aclImdb), a DataFrame or a list of strings
    labels_from_y / label_cells        labels given as ``y`` / a label column, checked
    labelled_rows(labels, where, df)   the rows with a label; the others left out with a warning
    stratified_split(labels, frac, seed)   seeded train / validation indices, class shares kept
    check_classes / check_known_labels     at least two classes; no labels unseen in training
    warn_label_spellings(labels)           one class written two ways ('Pos' and 'pos', '1' and '1.0')
    warn_repeated_texts(train, part, what)  validation or test texts that training holds too

Every user mistake (empty file, missing column, one class, empty texts, bytes that are not in
the declared encoding, ragged numeric rows) raises :class:`LstmkitError` naming the row and a fix.
"""
from __future__ import annotations

import math
import os
import unicodedata
import warnings
from collections import Counter
from functools import partial
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from lstmkit.data.textfile import check_strings
from lstmkit.data.textfile import column_strings as _as_strings
from lstmkit.data.tables import is_table
from lstmkit.data.tables import read_table as _read_table
from lstmkit.data.textfile import decode_text, file_ext, is_number, row_place
from lstmkit.data.textfile import read_text_file, text_lines
from lstmkit.runs import path_exists
from lstmkit.data.textfile import table_column as _column
from lstmkit.errors import LstmkitError

__all__ = ["TextData", "lines_of_text", "read_texts", "read_text_file", "labels_from_y", "y_values", "label_cells",
           "labelled_rows",
           "stratified_split",
           "check_classes", "check_known_labels", "warn_label_spellings",
           "warn_repeated_texts"]

_UNSUP = {"unsup"}     # aclImdb's unlabelled reviews sit beside pos/ and neg/
# a label cell that holds none: empty, or how spreadsheets, R and pandas write a missing value
_NO_LABEL = frozenset({"", "na", "n/a", "nan", "#n/a", "<na>", "null"})
_NO_LABEL_WORDS = "empty, NA, N/A or NaN"
_NO_Y_WORDS = "None, NaN, empty, NA or N/A"


@dataclass
class TextData:
    """Texts and their labels (``None`` when the data has no labels)."""

    texts: list[str]
    labels: list[str] | None
    source: str | None = None
    n_dropped: int = 0
    columns: tuple[str, str] | None = None     # (text, label) read from a table's two columns when unnamed

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, idx) -> "TextData":
        labels = None if self.labels is None else [self.labels[i] for i in idx]
        return TextData([self.texts[i] for i in idx], labels, self.source)


def label_cells(col: pd.Series, where: str, required: bool = True) -> list[str | None] | None:
    """The label cells as text, None where a cell holds no label (empty, or a missing-value mark:
    ``NA``, ``N/A``, ``NaN``, ``#N/A``, ``null``); with ``required=False`` (prediction, which reads
    no label) a column with such a cell counts as absent."""
    labels: list[str | None] = [s.strip() for s in _as_strings(col)]
    missing = [i for i, s in enumerate(labels) if s.casefold() in _NO_LABEL]
    if missing and not required:
        return None
    for i in missing:
        labels[i] = None
    return labels


def labelled_rows(labels: Sequence[str | None], where: str, df: pd.DataFrame | None, what: str = "row",
                  rows: Sequence[int] | None = None) -> list[int]:
    """The indices of the rows (or samples: ``what``) that have a label. Those without one (None)
    are left out with one warning naming how many and where the first is (``df``: the table read,
    for its file line; ``rows``: each item's first data row, when items are not rows; ``df=None``:
    the labels came as ``y``, the place is the position in ``y``); when none has a label, an error."""
    missing = [i for i, v in enumerate(labels) if v is None]
    keep = [i for i, v in enumerate(labels) if v is not None]
    if not missing:
        return keep
    n, plural = len(missing), len(missing) > 1
    words = _NO_LABEL_WORDS if df is not None else _NO_Y_WORDS
    if not keep:
        raise LstmkitError(f"no {what}{where} has a label ({words} in every label {'cell' if df is not None else 'of y'})",
                           "fill in the labels, or name the column that holds them with --label" if df is not None
                           else f"pass a label for each {what} in y")
    first = f"y[{missing[0]}]" if df is None else row_place(df, missing[0] if rows is None else rows[missing[0]])
    warnings.warn(f"{n} of {len(labels)} {what}s{where} {'have' if plural else 'has'} no label ({words}; "
                  f"first: {first}): left out; fill in {'their labels' if plural else 'its label'} "
                  f"to use {'them' if plural else 'it'}", UserWarning, stacklevel=3)
    return keep


def _warn_blank_lines(df: pd.DataFrame, where: str) -> None:
    """One warning when the file had blank lines between its data rows (the reader skips them):
    the answers are one per data row, so a blank line meant as an empty text shifts the rest."""
    blank, first = sorted(df.attrs.get("blank_lines") or ()), df.attrs.get("first_line", 2)
    inside = [b for j, b in enumerate(blank) if b - first - j < len(df)]     # a data row still follows
    if inside:
        n = len(inside)
        warnings.warn(f"{n} blank line{'s' * (n != 1)}{where} between the data rows skipped (line "
                      f"{', '.join(map(str, inside[:3]))}{', …' if n > 3 else ''}): the answers are one per data "
                      "row, in order, and a blank line gets none", UserWarning, stacklevel=4)


# -- texts --------------------------------------------------------------------------------------
def lines_of_text(text: str, where: str) -> list[str]:
    """The texts of a file (or standard input) of one text a line: its lines that are not blank.
    Blank lines between them are skipped with one warning naming them, as a table's are: the
    answers come one per text, without the lines they answer, so each after a blank line is one
    line above its text (blank lines at the end shift nothing)."""
    lines = text_lines(text)
    texts = [ln for ln in lines if ln.strip()]
    last = max((k for k, ln in enumerate(lines) if ln.strip()), default=-1)
    inside = [k + 1 for k, ln in enumerate(lines[:last]) if not ln.strip()]
    if inside:
        n = len(inside)
        warnings.warn(f"{n} blank line{'s' * (n != 1)}{where} between the texts skipped (line "
                      f"{', '.join(map(str, inside[:3]))}{', …' if n > 3 else ''}): the answers are one per text, in "
                      "order, and a blank line gets none", UserWarning, stacklevel=3)
    return texts


def read_texts(data: Any, text: str = "text", label: str | None = "label", encoding: str = "utf-8",
               drop_empty: bool = False, require_label: bool = True, y: Sequence | None = None,
               droppable: bool = True) -> TextData:
    """Texts (and labels) from a file, a class-folder tree, a DataFrame or a list of strings.

    Labels come from ``y`` when given, else from the ``label`` column (folder names for a
    folder tree). With ``require_label=False`` a missing label column gives ``labels=None``.
    Empty or whitespace-only texts are an error naming how many, unless ``drop_empty`` (never
    with ``require_label=False``, prediction: dropped rows would shift every later answer); its fix
    names ``--drop-empty`` only where the caller offers it (``droppable``: not a fitted model's
    evaluation, which reads the run's setting).
    """
    if isinstance(data, str) and not path_exists(data) and not is_table(Path(data)):
        raise LstmkitError(f"{data[:40]!r}{'…' if len(data) > 40 else ''} is not a file, and a single string is read "
                           "as a file's path", f"to label texts pass a list of them, e.g. [{data[:20]!r}]; "
                           "a file is a .csv, .tsv, .jsonl, .xlsx or .parquet path")
    if isinstance(data, (np.ndarray, pd.Series)) and data.ndim == 1:
        data = data.tolist()                          # an array or Series of texts: a list of them
    source = str(Path(data).resolve()) if isinstance(data, (str, os.PathLike)) else None
    rows = None                                       # each text's data row, once unlabelled rows are left out
    columns = None                                    # (text, label) when implied by a two-column table
    place = lambda i: f"data row {i + 1}"             # noqa: E731  (a file's rows: as the file numbers them)
    if isinstance(data, (str, os.PathLike)) and Path(data).is_dir():
        texts, labels = _read_folder(Path(data), encoding)
        where = f" in {data}"
    elif isinstance(data, (list, tuple)):
        check_strings(data, "text", "pass texts only (an empty text is '')")
        texts, labels, where = list(data), None, ""
    elif isinstance(data, (str, os.PathLike)) and file_ext(Path(data)) == ".txt":
        if require_label:
            raise LstmkitError(f"{data} is a .txt file: lines of text, with no labels",
                               "use a table with text and label columns (.csv, .tsv, .jsonl, .xlsx, .parquet) "
                               "or a folder of class folders; a .txt file of one text a line serves predict")
        texts = lines_of_text(read_text_file(Path(data), encoding), f" in {data}")
        labels, where = None, f" in {data}"
    else:
        if isinstance(data, (str, os.PathLike)):
            df, where = _read_table(Path(data), encoding), f" in {data}"
        elif isinstance(data, pd.DataFrame):
            df, where = data, ""
        else:
            raise LstmkitError(f"unsupported data type {type(data).__name__}",
                               "pass a CSV/TSV/JSONL/XLSX/Parquet path, a folder of class folders, a DataFrame or a list of texts")
        if len(df) == 0:
            raise LstmkitError(f"the data{where} has no rows", "supply at least one row")
        if not require_label:
            _warn_blank_lines(df, where)
        names = [str(c) for c in df.columns]
        if (not require_label or y is not None) and len(names) == 1 and text not in names:   # texts alone (X, y)
            warnings.warn(f"no column {text!r}{where} (the model's text column): reading its one column "
                          f"{names[0]!r} as the texts", UserWarning, stacklevel=3)
            text = names[0]
        if text not in names and where and len(names) > 2 and all(is_number(c) or is_number(c.rsplit(".", 1)[0])
                                                                   for c in names):    # a repeated name: "0.5.1"
            raise LstmkitError(f"the data{where} holds numbers, not texts (its first line: {', '.join(names[:4])}, …)",
                               "to classify numeric sequences add --series (in Python: SequenceClassifier)")
        if y is None and require_label and (text, label) == ("text", "label"):
            columns = implied_columns(df, where)
            text, label = columns or (text, label)
        texts = _as_strings(_column(df, text, "text", where))
        if y is None and label is not None and label == text and require_label:
            raise LstmkitError(f"the text and the label column are the same column, {text!r}: each text would be "
                               "its own class", "pass the column of class names as --label (and the texts' as --text)")
        if y is None and label is not None and (require_label or label in names):
            labels = label_cells(_column(df, label, "label", where), where, require_label)
        else:
            labels = None
        place = partial(row_place, df)
        if labels is not None:
            rows = labelled_rows(labels, where, df)
            texts, labels = [texts[i] for i in rows], [labels[i] for i in rows]
    if not texts:
        raise LstmkitError(f"the data{where} has no rows", "supply at least one text")
    if y is not None:
        labels = labels_from_y(y, len(texts), "text")
        rows = labelled_rows(labels, "", None, "text")
        texts, labels = [texts[i] for i in rows], [labels[i] for i in rows]
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty and not (drop_empty and require_label):      # a prediction answers every row: none is dropped
        raise LstmkitError(f"{len(empty)} of {len(texts)} rows{where} have empty or whitespace-only text "
                           f"(first: {place((rows or range(len(texts)))[empty[0]])})",
                           "remove them, or pass --drop-empty to skip them" if require_label and droppable else
                           "remove or fill them: the run was trained without --drop-empty, and scores every row"
                           if require_label else "remove or fill them: the predictions are one per input row, in order")
    if empty:
        keep = [i for i in range(len(texts)) if texts[i].strip()]
        if not keep:
            raise LstmkitError(f"every text{where} is empty", "check the --text column")
        texts = [texts[i] for i in keep]
        labels = None if labels is None else [labels[i] for i in keep]
    return TextData(texts, labels, source, n_dropped=len(empty), columns=columns)


def implied_columns(df: pd.DataFrame, where: str) -> tuple[str, str] | None:
    """``(text, label)`` of a table with no column ``text`` or ``label`` (the defaults) whose
    columns say which is which: the one besides a ``text`` or ``label`` column, or, of exactly two
    columns, the longer cells as the texts and the one with fewer distinct cells as the labels;
    None otherwise (the missing column is then one error naming the columns). Said in a warning."""
    names = [str(c) for c in df.columns]
    if len(names) != 2 or len(set(names)) != 2 or ("text" in names and "label" in names):
        return None
    cells = {n: df[df.columns[i]].dropna().astype(str) for i, n in enumerate(names)}
    if "text" in names or "label" in names:
        given = "text" if "text" in names else "label"
        other = next(n for n in names if n != given)
        text, label = (given, other) if given == "text" else (other, given)
        why = f"the table's other column besides {given!r}"
    else:
        text, label = sorted(names, key=lambda n: -cells[n].str.len().mean())
        why = "the table's two columns: the longer cells are the texts"
    if cells[label].nunique() >= cells[text].nunique() or cells[label].nunique() > max(2, len(df) // 2):
        return None                                      # not a column of classes: say which column is missing
    warnings.warn(f"no {'text' if text != 'text' else 'label'} column{where}: reading column {text!r} as the texts "
                  f"and {label!r} as the labels ({why}); pass --text and --label to choose", UserWarning, stacklevel=3)
    return text, label


def labels_from_y(y: Any, n: int, what: str) -> list[str | None]:
    """``y`` as label strings, one per text or sequence, None where ``y`` holds no label (None,
    NaN, ``pd.NA``, empty, or a missing-value mark as a file's label cell: ``NA``, ``N/A``, …);
    :func:`labelled_rows` then leaves those out, as the table readers do. A single value (a
    string is one label, not a list of letters) or a ``y`` of other than one column is an error.
    Whole numbers in a float ``y`` that holds a missing value (pandas' ints with NaN) read as
    ``"3"``, not ``"3.0"``, as a table's do."""
    if isinstance(y, (str, bytes)) or np.ndim(y) == 0:
        raise LstmkitError(f"y is a single {type(y).__name__} ({str(y)[:20]!r}), not one label per {what}",
                           f"pass a list or array of {n} labels")
    try:
        arr = np.asarray(y, dtype=object)
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
    present = [v for v in values if not _missing(v)]
    whole = len(present) < len(values) and _whole_floats(present)
    labels = [None if _missing(v) else str(int(v) if whole else v).strip() for v in values]
    return [None if v is None or v.casefold() in _NO_LABEL else v for v in labels]


def y_values(y: Any) -> list:
    """The labels ``y`` holds, its missing ones (None, NaN, ``pd.NA``) left out: what a label
    type is judged on."""
    values = np.asarray(y, dtype=object).ravel().tolist()
    present = [v for v in values if not _missing(v)]
    return [int(v) for v in present] if len(present) < len(values) and _whole_floats(present) else present


def _whole_floats(values: list) -> bool:
    return bool(values) and all(isinstance(v, float) and v.is_integer() for v in values)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT


def _class_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and p.name not in _UNSUP and _text_files(p))


def _text_files(folder: Path) -> list[Path]:
    """The ``.txt`` files of ``folder``, sorted; ``.TXT`` too (Windows keeps the case it was given)."""
    return sorted(f for f in folder.iterdir() if f.suffix.lower() == ".txt" and f.is_file())


def _read_folder(root: Path, encoding: str) -> tuple[list[str], list[str]]:
    """The texts of a folder of class folders of ``.txt`` files, each labelled by its folder; a
    folder without them is an error naming what it holds (it was 'unknown file type')."""
    texts, labels = [], []
    if not _class_folders(root):
        subs = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name not in _UNSUP)
        raise LstmkitError(f"{root} is a folder whose sub-folders ({', '.join(subs[:4])}{', …' if len(subs) > 4 else ''}) "
                           f"hold no .txt files" if subs else f"{root} is a folder with no class sub-folders of .txt files",
                           "put each class's texts in a sub-folder named by the class, one .txt file per text, "
                           "or pass a CSV/TSV/JSONL file")
    for folder in _class_folders(root):
        for f in _text_files(folder):
            texts.append(decode_text(f.read_bytes(), f, encoding))
            labels.append(folder.name)
    return texts, labels


# -- classes and splits ---------------------------------------------------------------------------
def check_classes(labels: Sequence[str], where: str = "the training data") -> list[str]:
    """Sorted class names; fewer than two is an error."""
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise LstmkitError(f"only one class ({classes[0]!r}) in {where}" if classes else f"no labels in {where}",
                           "a classifier needs examples of at least two classes; check the --label column")
    return classes


def warn_label_spellings(labels: Sequence[str]) -> None:
    """One warning when labels differ only in case, Unicode form or the way a number is written
    ('Pos' and 'pos', '1' and '1.0'): each is a class of its own, which is seldom what was meant."""
    counts = Counter(labels)
    groups: dict[Any, list[str]] = {}
    for lbl in sorted(counts):
        groups.setdefault(_spelling_key(lbl), []).append(lbl)
    alike = [g for g in groups.values() if len(g) > 1]
    if not alike:
        return
    shown = "; ".join(" and ".join(f"{v!r} ({counts[v]} row{'s' if counts[v] > 1 else ''})" for v in g)
                      for g in alike[:3]) + ("; …" if len(alike) > 3 else "")
    warnings.warn(f"labels that differ only in case or in how a number is written: {shown}; each is trained as a "
                  f"class of its own: write each class one way if they are one class", UserWarning, stacklevel=3)


def warn_repeated_texts(train: Sequence[str], part: Sequence[str], what: str) -> None:
    """One warning when texts of ``part`` (validation or test) occur in ``train`` too (duplicate
    rows, split apart or copied between files): the model is scored on texts it learned, and its
    scores there flatter it."""
    seen = {t.strip() for t in train}
    repeated = sum(t.strip() in seen for t in part)
    if repeated:
        warnings.warn(f"{repeated} of the {len(part)} texts of {what} occur in the training data too (duplicate rows): "
                      f"its scores flatter the model on them; drop the repeated texts from one side (pandas: "
                      f"drop_duplicates) before training", UserWarning, stacklevel=3)


def _spelling_key(label: str) -> Any:
    try:
        number = float(label)
    except ValueError:
        number = math.nan
    return number if math.isfinite(number) else unicodedata.normalize("NFKC", label).casefold()


def check_known_labels(labels: Sequence[str], classes: Sequence[str]) -> None:
    """Labels outside ``classes`` (never seen in training) are an error listing them."""
    known = set(classes)
    unseen = Counter(lbl for lbl in labels if lbl not in known)
    if unseen:
        shown = ", ".join(f"{k!r} ({n} row{'s' if n > 1 else ''})" for k, n in unseen.most_common(5))
        known_as = {_spelling_key(c): c for c in classes}
        alike = [(k, known_as[_spelling_key(k)]) for k in unseen if _spelling_key(k) in known_as]
        hint = (" (written " + ", ".join(f"{c!r} there, not {k!r}" for k, c in alike[:3]) + ")") if alike else ""
        raise LstmkitError(f"labels not seen in training: {shown}",
                           f"the model knows only: {', '.join(classes)}{hint}; drop or relabel those rows")


def stratified_split(labels: Sequence[str], val_frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded stratified split: about ``val_frac`` of each class (at least one of every class
    with two or more examples) goes to validation; a class of one example stays in training, with
    a warning. Returns sorted ``(train_idx, val_idx)``."""
    if not 0.0 < val_frac < 1.0:
        raise LstmkitError(f"`val_frac` must be in [0, 1), got {val_frac}",
                           "pass --val-frac 0.1, say, a --val file, or 0 to hold nothing out")
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    val, alone = [], []
    for c in sorted(set(labels.tolist())):
        idx = np.flatnonzero(labels == c)
        if idx.size < 2:
            alone.append(c)
            continue
        k = min(max(1, round(idx.size * val_frac)), idx.size - 1)
        val.extend(rng.permutation(idx)[:k].tolist())
    if alone:
        shown = ", ".join(map(repr, alone[:5])) + (", ..." if len(alone) > 5 else "")
        warnings.warn(f"{len(alone)} class{'es' if len(alone) > 1 else ''} with one example ({shown}): kept for "
                      f"training, none left to validate on; add examples of {'them' if len(alone) > 1 else 'it'} "
                      f"or merge {'them' if len(alone) > 1 else 'it'} into another class", stacklevel=2)
    val_idx = np.sort(np.asarray(val, dtype=np.int64))
    train_idx = np.setdiff1d(np.arange(labels.size), val_idx)
    return train_idx, val_idx
