"""Classification data: read labelled texts (numeric sequences: :mod:`lstmkit.tasks.classify.series`;
the labels' checks and splits: :mod:`lstmkit.tasks.classify.labels`).

    lines_of_text(text, where)         a file's (or standard input's) texts, one a line; blank lines skipped
    text_table(path)                   the table read_texts reads from a file (None: a file read otherwise)
    read_texts(data, text=, label=)    CSV / TSV / JSONL (.gz too), XLSX, Parquet, a folder of class folders of
                                       .txt files (aclImdb), a fastText .txt (__label__pos text), a headerless
                                       class-index CSV (AG News: lstmkit.data.textsets), a DataFrame or a
                                       list of strings
    implied_columns(df, where)         the text and label columns of a two-column table that names neither
    warn_repeated_texts(train, part, what)  validation or test texts that training holds too
    warn_repeated(train, part, what, noun)  the same for any examples given by keys (numeric series)

Every user mistake (empty file, missing column, empty texts, bytes that are not in the declared
encoding) raises :class:`LstmkitError` naming the row and a fix.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Hashable, Sequence

import numpy as np
import pandas as pd

from lstmkit.data.arrays import arrow_as_frame, text_items
from lstmkit.data.splits import check_not_saved_dataset, parts_error, split_parts
from lstmkit.data.columns import unnamed_and_empty
from lstmkit.data.table_changes import rows_table
from lstmkit.data.tables import is_pipe, is_table, pipe_as_file, unknown_type
from lstmkit.data.tables import read_table as _read_table
from lstmkit.data.textfile import check_strings
from lstmkit.data.textfile import column_strings as _as_strings
from lstmkit.data.textfile import (decode_text, file_ext, is_number, read_text_file, row_place, separator_name,
                                   text_lines, unseparated_line)
from lstmkit.data.decoding import whole_characters
from lstmkit.data.textfile import table_column as _column
from lstmkit.data.textsets import (LABEL_PREFIX, UNLABELLED_FOLDERS as _UNSUP, class_folders as _class_folders,
                                   class_index_csv, class_texts as _text_files, fasttext_lines, is_class_index_csv,
                                   starts_with_label)
from lstmkit.errors import (BadValue, LstmkitError, callers_level, missing_path_fix, opt, python_caller,
                            warnings_caught, worded)
from lstmkit.runs import path_exists
from lstmkit.tasks.classify.labels import label_cells, labelled_rows, labels_from_y, labels_given_twice

__all__ = ["TextData", "lines_of_text", "read_texts", "text_table", "read_text_file", "implied_columns",
           "warn_repeated_texts", "warn_repeated", "warn_conflicting_labels"]

@dataclass
class TextData:
    """Texts and their labels (``None`` when the data has no labels)."""

    texts: list[str]
    labels: list[str] | None
    source: str | None = None
    n_dropped: int = 0
    columns: tuple[str, str] | None = None     # (text, label) read from a table's two columns when unnamed
    # the table read (from a file, or given): a resume compares it
    table: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, idx) -> TextData:
        labels = None if self.labels is None else [self.labels[i] for i in idx]
        return TextData([self.texts[i] for i in idx], labels, self.source)


def _missing_separator(path: Path, df: pd.DataFrame, texts: list[str], labels: list[str | None], encoding: str) -> str:
    """A row of the text table ``path`` without a label whose line holds no separator (``good film pos``:
    a space typed for the comma, the text and its label read as one text): an error when its text
    ends in a label of the other rows; else, when it is the one row without a label, what the warning
    that leaves it out says of it (``""``: no such row)."""
    missing = [i for i, v in enumerate(labels) if v is None]
    if not missing or df.attrs.get("sep") is None:
        return ""
    known = sorted({v for v in labels if v is not None}, key=len, reverse=True)     # 'very good' before 'good'
    lines, mark = text_lines(read_text_file(path, encoding)), separator_name(df.attrs["sep"])
    at = None
    for i in missing[:20]:                            # the first few: a file of unlabelled rows is no typo
        at = unseparated_line(lines, df, i, texts[i])
        text = texts[i].strip()
        label = next((k for k in known if text.endswith(k) and text[:-len(k)][-1:].isspace()), None) if at else None
        if label is not None:
            raise LstmkitError(f"{path} line {at} holds no {mark}: its text and its label read as one text "
                               f"({text[:60]!r}, ending in the label {label!r}), and the row has no label",
                               f"put a {mark} between the text and its label, as on the other lines")
    return f", which holds no {mark}: is its separator missing?" if len(missing) == 1 and at is not None else ""


def _warn_blank_lines(df: pd.DataFrame, where: str) -> None:
    """One warning when the file had blank lines between its data rows (the reader skips them):
    the answers are one per data row, so a blank line meant as an empty text shifts the rest."""
    blank, first = sorted(df.attrs.get("blank_lines") or ()), df.attrs.get("first_line", 2)
    inside = [b for j, b in enumerate(blank) if b - first - j < len(df)]     # a data row still follows
    if inside:
        n = len(inside)
        warnings.warn(f"{n} blank line{'s' * (n != 1)}{where} between the data rows skipped (line "
                      f"{', '.join(map(str, inside[:3]))}{', …' if n > 3 else ''}): the answers are one per data "
                      "row, in order, and a blank line gets none", UserWarning, stacklevel=callers_level())


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
                      "order, and a blank line gets none", UserWarning, stacklevel=callers_level())
    return texts


def read_texts(data: Any, text: str = "text", label: str | None = "label", encoding: str = "utf-8",
               drop_empty: bool = False, require_label: bool = True, y: Sequence | None = None,
               droppable: bool = True) -> TextData:
    """Texts (and labels) from a file, a class-folder tree, a DataFrame or a list of strings.

    Labels come from the ``label`` column (folder names for a folder tree) or from ``y``: data
    that holds labels of its own and ``y`` too is an error (:func:`labels_given_twice`); a table
    without the label column takes ``y``. With ``require_label=False`` a missing label column
    gives ``labels=None``. Empty or whitespace-only texts are an error naming how many, unless
    ``drop_empty`` (never with ``require_label=False``, prediction: dropped rows would shift every
    later answer); its fix names ``--drop-empty`` only where the caller offers it (``droppable``:
    not a fitted model's evaluation, which reads the run's setting).
    """
    if isinstance(data, (str, os.PathLike)) and is_pipe(Path(data)):    # '--data -', '<(…)': read once, as a file of
        with pipe_as_file(Path(data)) as copy:                              # its bytes (was 'pass a list, e.g. ['-']')
            out = read_texts(copy, text, label, encoding, drop_empty, require_label, y, droppable)
        out.source = None                  # nothing a later command could read again (same_data.piped records it)
        return out
    if isinstance(data, str) and not path_exists(data) and not is_table(Path(data)):
        if not python_caller():        # a path typed after --data: 'to label texts pass a list' is Python's way
            raise LstmkitError(f"file not found: {data}", missing_path_fix(data, "check the path"))
        raise LstmkitError(f"{data[:40]!r}{'…' if len(data) > 40 else ''} is not a file, and a single string is read "
                           "as a file's path", f"to label texts pass a list of them, e.g. [{data[:20]!r}]; "
                           "a file is a .csv, .tsv, .jsonl, .xlsx or .parquet path")
    data = arrow_as_frame(data)                       # a pyarrow Table: read as a DataFrame
    if isinstance(data, np.ndarray) and data.ndim != 1 and data.shape[1:] != (1,):
        raise LstmkitError(f"the texts are an array of shape {data.shape}, not one text per row",
                           "pass a 1-D array or list of texts (or a [N, 1] column of them)")
    items = text_items(data)                          # a 1-D array-like of texts (numpy, pandas, pyarrow, a generator)
    data = items if items is not None else data
    source = str(Path(data).resolve()) if isinstance(data, (str, os.PathLike)) else None
    rows = None                                       # each text's data row, once unlabelled rows are left out
    columns = None                                    # (text, label) when implied by a two-column table
    df = None                                         # the table read (a fastText or class-index file's rows)
    own = ""                                          # where a file whose layout labels each text holds the labels
    place = lambda i: f"data row {i + 1}"             # noqa: E731  (a file's rows: as the file numbers them)
    if isinstance(data, (str, os.PathLike)) and Path(data).is_dir():
        texts, labels = _read_folder(Path(data), encoding)
        where, own = f" in {data}", f"the class folders of {data}"
    elif isinstance(data, (list, tuple)):
        check_strings(data, "text", "pass texts as strings (numbers as text: [str(v) for v in X], pandas: "
                      "s.astype(str))", missing="drop the rows without a text first (pandas: keep = s.notna(); "
                      "s[keep], and y[keep] when fitting), or fill them in")
        texts, labels, where = list(data), None, ""
    elif isinstance(data, (str, os.PathLike)) and file_ext(Path(data)) in (".ts", ".arff"):
        raise LstmkitError(f"{data} is a {file_ext(Path(data))} file: numeric series, not texts",
                           worded("add --series to classify numeric sequences (in Python: SequenceClassifier)",
                                  "use SequenceClassifier to classify numeric sequences"))
    elif isinstance(data, (str, os.PathLike)) and _lines_file(Path(data)):
        texts, labels, where, place = _read_lines(Path(data), encoding, require_label)
        own = f"the {LABEL_PREFIX} marks of {data}"
        df = rows_table(labels, texts, "text")        # a fastText file's texts as rows: a resume compares them
    elif isinstance(data, (str, os.PathLike)) and is_class_index_csv(Path(data)):     # as text_table's branches
        read = class_index_csv(Path(data), encoding, labels=require_label)
        texts, labels, where, own = read.texts, read.labels, f" in {data}", f"the class-index column of {data}"
        place = lambda i: f"line {read.lines[i]}"     # noqa: E731
        df = rows_table(labels, texts, "text")
    else:
        if isinstance(data, (str, os.PathLike)):
            if not is_table(Path(data)) and Path(data).is_file():
                raise unknown_type(Path(data), "classify reads a table (.csv, .tsv, .jsonl, .xlsx or .parquet, "
                                   f"compressed too), a fastText file ({LABEL_PREFIX}NAME text, one a line), a folder of "
                                   "class folders of .txt files, or for predict a .txt file of one text a line")
            df, where = _file_table(Path(data), encoding, text, label), f" in {data}"
        elif isinstance(data, pd.DataFrame):
            df, where = data, ""
        else:
            raise LstmkitError(f"unsupported data type {type(data).__name__}",
                               "pass a CSV/TSV/JSONL/XLSX/Parquet path, a folder of class folders, a DataFrame or a list of texts"
                               + (" (a dict of columns: pd.DataFrame(d))" if isinstance(data, dict) else
                                  " (a set has no order to answer in: a list)" if isinstance(data, (set, frozenset))
                                  else ""))
        if len(df) == 0:
            raise BadValue(f"the data{where} has no rows", "supply at least one row")
        if not require_label:
            _warn_blank_lines(df, where)
        names = [str(c) for c in df.columns]
        if (not require_label or y is not None) and len(names) == 1 and text not in names:   # texts alone (X, y)
            warnings.warn(f"no column {text!r}{where} (the model's text column): reading its one column "
                          f"{names[0]!r} as the texts", UserWarning, stacklevel=callers_level())
            text = names[0]
        if text not in names and where and len(names) > 2 and all(is_number(c) or is_number(c.rsplit(".", 1)[0])
                                                                   for c in names):    # a repeated name: "0.5.1"
            raise LstmkitError(f"the data{where} holds numbers, not texts (its first line: {', '.join(names[:4])}, …)",
                               worded("to classify numeric sequences add --series (in Python: SequenceClassifier)",
                                      "to classify numeric sequences use SequenceClassifier"))
        if y is not None and label is not None and label != text and label in names:
            raise labels_given_twice(label)
        if y is None and require_label and (text, label) == ("text", "label"):
            columns = implied_columns(df, where)
            text, label = columns or (text, label)
        texts = _as_strings(_column(df, text, "text", where))
        if y is None and label is not None and label == text and require_label:
            raise LstmkitError(f"the text and the label column are the same column, {text!r}: each text would be "
                               "its own class", f"name the column of class names with {opt('label', 'NAME')} and "
                               f"the texts' with {opt('text', 'NAME')}")
        if y is None and label is not None and (require_label or label in names):
            labels = label_cells(_column(df, label, "label", where), where, require_label)
        else:
            labels = None
        place = partial(row_place, df)
        if labels is not None:
            note = _missing_separator(Path(data), df, texts, labels, encoding) if where else ""
            rows = labelled_rows(labels, where, df, note=note)
            texts, labels = [texts[i] for i in rows], [labels[i] for i in rows]
    if not texts:
        raise BadValue(f"the data{where} has no rows", "supply at least one text")
    if y is not None:
        if labels is not None:
            raise labels_given_twice(label, own)
        labels = labels_from_y(y, len(texts), "text")
        rows = labelled_rows(labels, "", None, "text")
        texts, labels = [texts[i] for i in rows], [labels[i] for i in rows]
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty and not (drop_empty and require_label):      # a prediction answers every row: none is dropped
        raise LstmkitError(f"{len(empty)} of {len(texts)} rows{where} have empty or whitespace-only text "
                           f"(first: {place((rows or range(len(texts)))[empty[0]])})",
                           f"remove them, or pass {opt('drop_empty', True)} to skip them" if require_label and droppable
                           else f"remove or fill them: the run was trained without {opt('drop_empty', True)}, and "
                           "scores every row"
                           if require_label else "remove or fill them: the predictions are one per input row, in order")
    if empty:
        keep = [i for i in range(len(texts)) if texts[i].strip()]
        if not keep:
            raise LstmkitError(f"every text{where} is empty", f"check the {opt('text')} column")
        warnings.warn(f"{len(empty)} of {len(texts)} rows{where or ' of the data'} dropped for empty or whitespace-only "
                      f"text (first: {place((rows or range(len(texts)))[empty[0]])}), as {opt('drop_empty', True)} asks: "
                      "they are "
                      "neither trained on nor scored", UserWarning, stacklevel=callers_level())
        texts = [texts[i] for i in keep]
        labels = None if labels is None else [labels[i] for i in keep]
    texts = whole_characters(texts)                   # a lone surrogate: U+FFFD, as UTF-8 and BPE take it
    labels = None if labels is None else whole_characters(labels, "labels")
    return TextData(texts, labels, source, n_dropped=len(empty), columns=columns, table=df)


def text_table(path: Path, encoding: str = "utf-8") -> pd.DataFrame | None:
    """The table :func:`read_texts` reads from the file ``path``, as it reads it: a table, or a
    fastText file's or a headerless class-index CSV's labelled texts as rows
    (:func:`~lstmkit.data.table_changes.rows_table`); None for a file it reads otherwise (a folder,
    a plain .txt file of texts). Its warnings were said when the run read it."""
    if path.is_dir() or file_ext(path) in (".ts", ".arff"):
        return None
    with warnings_caught():
        warnings.simplefilter("ignore")
        if _lines_file(path):
            read = fasttext_lines(read_text_file(path, encoding), f" in {path}")
        elif is_class_index_csv(path):
            read = class_index_csv(path, encoding)
        else:
            return _file_table(path, encoding)
    return rows_table(read.labels, read.texts, "text") if read is not None else None


def _file_table(path: Path, encoding: str, text: str = "text", label: str | None = "label") -> pd.DataFrame:
    """The table of the file ``path``, a CSV or TSV without a header line read as one
    (:func:`_first_line_as_data`)."""
    return _first_line_as_data(_read_table(path, encoding), path, text, label)


def _first_line_as_data(df: pd.DataFrame, path: Path, text: str, label: str | None) -> pd.DataFrame:
    """``df`` (a CSV or TSV file's) with its column names as its first data row when they are one:
    one column named by a sentence (a file of texts, one a line: predict answered one row fewer, each
    answer beside the text after its own), or two, one named by one of its own cells (a class) and
    the other by a text (the first labelled text was left out of training). Its columns are then
    named ``text`` (and ``label``), as read, in one warning; else ``df`` as it is."""
    names = [str(c) for c in df.columns]
    if df.attrs.get("sep") is None or text in names or label in names or len(names) > 2:
        return df
    cells = [df.iloc[:, k].astype(str).str.strip() for k in range(len(names))]
    if len(names) == 1:
        if not _reads_as_text(names[0], cells[0]):
            return df
        columns, said = [text], "a text"
    else:
        labelled = [k for k in (0, 1) if names[k].strip() in set(cells[k])
                    and cells[k].nunique() <= max(2, len(df) // 2) and len(names[1 - k].split()) >= 2]
        if len(labelled) != 1 or label is None:
            return df
        columns = [label, text] if labelled[0] == 0 else [text, label]
        said = f"a {'label and a text' if labelled[0] == 0 else 'text and its label'}"
    out = pd.concat([pd.DataFrame([names], columns=df.columns), df], ignore_index=True)
    out.columns = columns
    out.attrs = {**df.attrs, "first_line": df.attrs.get("first_line", 2) - 1}
    shown = " and ".join(f"column {k + 1} the {'texts' if c == text else 'labels'}" for k, c in enumerate(columns))
    warnings.warn(f"{path} has no header line (its first line, {', '.join(names)[:50]!r}, is {said}): read as data, "
                  f"{shown}; add a header line ({','.join(columns)}) to name them",
                  UserWarning, stacklevel=callers_level())
    return out


def _reads_as_text(name: str, cells: pd.Series) -> bool:
    """Whether the column name ``name`` is one of the texts below it rather than a name: three words or
    more, and a sentence's end mark, over 40 characters or at least half the words of the median text
    ('Customer review text' above reviews stays a name). A name ending in '?' or ':' is a question
    (a survey export's column, 'What did you think of the film?') unless most texts below end so too."""
    words, end = len(name.split()), name.rstrip()[-1:]
    if end and end in "?:" and (cells.str.rstrip().str[-1:] == end).mean() < 0.5:
        return False
    return words >= 3 and (end in ".!?\"')…" or len(name) > 40 or words >= cells.str.split().str.len().median() / 2)


def _lines_file(path: Path) -> bool:
    """Whether the file ``path`` is read line by line: a ``.txt`` or ``.ft`` file, or a fastText
    file under a name that does not tell its type (``cooking.train``: 'unknown file type .train')."""
    ext = file_ext(path)
    return ext in (".txt", ".ft") or (not is_table(path) and ext not in (".ts", ".arff") and path.is_file()
                                      and starts_with_label(path))


def _read_lines(path: Path, encoding: str, require_label: bool):
    """``(texts, labels, where, place)`` of a ``.txt`` (or ``.ft``) file: a fastText file's labelled
    lines (:func:`lstmkit.data.textsets.fasttext_lines`; predict drops the labels), else one text a
    line, which only predict reads."""
    where, raw = f" in {path}", read_text_file(path, encoding)
    read = fasttext_lines(raw, where, labels=require_label)
    if read is None and (require_label or file_ext(path) == ".ft"):
        raise LstmkitError(f"{path} is a {file_ext(path)} file with no labels: no line starts with {LABEL_PREFIX}",
                           f"label each line fastText's way ({LABEL_PREFIX}NAME text), or use a table with text and "
                           "label columns (.csv, .tsv, .jsonl, .xlsx, .parquet) or a folder of class folders; "
                           "a .txt file of one text a line serves predict")
    if read is None:
        return lines_of_text(raw, where), None, where, lambda i: f"data row {i + 1}"
    if not require_label:
        lines_of_text(raw, where)                     # its warning: blank lines between texts shift the answers
    return read.texts, read.labels, where, lambda i: f"line {read.lines[i]}"


def implied_columns(df: pd.DataFrame, where: str) -> tuple[str, str] | None:
    """``(text, label)`` of a table with no column ``text`` or ``label`` (the defaults) whose
    columns say which is which: the one besides a ``text`` or ``label`` column, or, of exactly two
    columns, the longer cells as the texts and the one with fewer distinct cells as the labels;
    None otherwise (the missing column is then one error naming the columns). Said in a warning."""
    kept = [i for i, c in enumerate(df.columns) if not unnamed_and_empty(df.iloc[:, i])]   # 'review,stars,': two
    names = [str(df.columns[i]) for i in kept]
    if len(names) != 2 or len(set(names)) != 2 or ("text" in names and "label" in names):
        return None
    cells = {n: df.iloc[:, i].dropna().astype(str) for i, n in zip(kept, names)}
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
                  f"and {label!r} as the labels ({why}); pass {opt('text')} and {opt('label')} to choose", UserWarning,
                  stacklevel=callers_level())
    return text, label


def _check_no_class_left_out(root: Path, classes: list[Path]) -> None:
    """An error naming a sub-folder of ``root`` beside the class folders ``classes`` that holds no
    text file but other things (``neutral/`` of ``.text`` or ``.md`` files, or of sub-folders): its
    class was left out without a word, and the model trained on the others."""
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and p.name not in _UNSUP | {"__MACOSX"}
                      and not p.name.startswith(".") and p not in classes):
        held = sorted(f.name for f in sub.iterdir() if not f.name.startswith("."))
        if held:
            raise LstmkitError(f"{sub} holds no .txt file ({len(held)} entr{'y' if len(held) == 1 else 'ies'}: "
                               f"{', '.join(held[:3])}{', …' if len(held) > 3 else ''}), beside the class folders "
                               f"{', '.join(c.name for c in classes[:4])}{', …' if len(classes) > 4 else ''}: its class "
                               "would be left out",
                               "give its texts the suffix .txt, one text a file, directly inside it (or move the folder "
                               f"out of {root})")


def _read_folder(root: Path, encoding: str) -> tuple[list[str], list[str]]:
    """The texts of a folder of class folders of ``.txt`` files, each labelled by its folder; a
    folder without them is an error naming what it holds (it was 'unknown file type')."""
    texts, labels = [], []
    if not _class_folders(root):
        check_not_saved_dataset(root)
        subs = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name not in _UNSUP)
        _check_not_splits(root, [s for s in subs if _class_folders(root / s)])
        _check_not_part_files(root)
        bare = any(f.is_file() and not f.suffix and not f.name.startswith(".") for s in subs for f in (root / s).iterdir())
        raise LstmkitError(f"{root} is a folder whose sub-folders ({', '.join(subs[:4])}{', …' if len(subs) > 4 else ''}) "
                           f"hold no .txt files" if subs else f"{root} is a folder with no class sub-folders of .txt files",
                           "put each class's texts in a sub-folder named by the class, one .txt file per text, "
                           "or pass a CSV/TSV/JSONL file" + (f" (files without a suffix, as 20 Newsgroups' or scikit-learn's "
                           f"load_files layout: cd {root} && for f in */*; do mv \"$f\" \"$f.txt\"; done)" if bare else ""))
    _check_no_class_left_out(root, _class_folders(root))
    for folder in _class_folders(root):
        for f in _text_files(folder):
            texts.append(decode_text(f.read_bytes(), f, encoding))
            labels.append(folder.name)
    return texts, labels


_TRAIN, _TEST = ("train", "training"), ("test", "testing")


def _check_not_splits(root: Path, splits: list[str]) -> None:
    """An error naming the folders to pass when ``root``'s sub-folders ``splits`` are themselves
    folders of class folders: a download's top folder (aclImdb: ``train/`` and ``test/``, each
    holding ``pos/`` and ``neg/``), whose own sub-folders are not classes."""
    if not splits:
        return
    train = next((s for s in splits if s.lower() in _TRAIN), None)
    test = next((s for s in splits if s.lower() in _TEST), None)
    shown = ", ".join(f"{s}/ ({', '.join(c.name for c in _class_folders(root / s)[:4])})" for s in splits[:4])
    if train and test:
        fix = worded(f"pass --data {root / train} --test {root / test} to train and score on the test part (to "
                     f"evaluate a run: --data {root / test})",
                     f"fit on {str(root / train)!r} with test_data={str(root / test)!r} to train and score on the test "
                     f"part (to evaluate a fitted model: evaluate({str(root / test)!r}))")
    else:
        fix = f"pass one of them as {opt('data')} ({' or '.join(str(root / s) for s in splits[:4])})"
    raise LstmkitError(f"{root} is the top folder of a data set in parts: its sub-folders {shown} each hold the "
                       "class folders", fix)


def _check_not_part_files(root: Path) -> None:
    """An error naming the files to pass when ``root`` holds a data set's parts as tables (a
    Hugging Face data set exported as ``train.jsonl`` / ``test.jsonl`` or fetched as
    ``data/train-00000-of-00001.parquet``, Kaggle's ``train.csv`` / ``test.csv``): it was 'a folder
    with no class sub-folders of .txt files'."""
    parts = split_parts(root, lambda f: is_table(f) or file_ext(f) in (".txt", ".ft"))
    if parts:
        raise parts_error(root, parts, "of class folders")


def warn_repeated_texts(train: Sequence[str], part: Sequence[str], what: str) -> None:
    """One warning when texts of ``part`` (validation or test) occur in ``train`` too (duplicate
    rows, split apart or copied between files): the model is scored on texts it learned, and its
    scores there flatter it."""
    warn_repeated([t.strip() for t in train], [t.strip() for t in part], what, "texts")


def warn_repeated(train: Sequence[Hashable], part: Sequence[Hashable], what: str, noun: str) -> None:
    """:func:`warn_repeated_texts` for any examples, each given by a key equal for equal examples
    (numeric series: their values); ``noun`` names them (``"texts"``, ``"series"``)."""
    seen = set(train)
    repeated = sum(k in seen for k in part)
    if repeated:
        warnings.warn(f"{repeated} of the {len(part)} {noun} of {what} occur in the training data too "
                      f"(duplicate rows): its scores flatter the model on them; drop the repeated {noun} from one "
                      f"side (pandas: drop_duplicates) before training", UserWarning, stacklevel=callers_level())


def warn_conflicting_labels(keys: Sequence[Hashable], labels: Sequence | None, noun: str,
                            shown: Sequence[str] | None = None) -> None:
    """One warning when examples equal by ``keys`` (texts: the text, stripped; numeric series: their
    values) carry different labels in the training data: no model can tell them apart, and they
    were trained on without a word. ``shown`` (texts) names the first such example."""
    if labels is None:
        return
    first: dict[Hashable, int] = {}
    seen: dict[Hashable, set] = {}
    for k, (key, label) in enumerate(zip(keys, labels)):
        first.setdefault(key, k)
        seen.setdefault(key, set()).add(label)
    conflicting = [key for key, found in seen.items() if len(found) > 1]
    if not conflicting:
        return
    key = min(conflicting, key=first.get)
    example = f"{shown[first[key]].strip()[:40]!r} as " if shown is not None else f"row {first[key] + 1}: "
    classes = " and ".join(repr(c) for c in sorted(map(str, seen[key]))[:3])
    warnings.warn(f"{len(conflicting)} {noun} occur in the training data with different labels (first: {example}"
                  f"{classes}): no model can tell them apart; check those labels, or keep one label for each",
                  UserWarning, stacklevel=callers_level())

