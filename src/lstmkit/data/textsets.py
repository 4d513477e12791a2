"""The two layouts public text-classification sets are downloaded in, read as texts and labels.

    fasttext_lines(text, where, labels)    a fastText file's lines, ``__label__NAME text``; None when no
                                           line carries a label (a plain file of one text a line)
    starts_with_label(path)                whether a file's first line with text starts with ``__label__``
    is_class_index_csv(path)               whether a ``.csv`` starts like Zhang et al.'s: no header, a
                                           class index, then text fields
    class_index_csv(path, encoding, labels)  such a file's texts (its text fields joined) and labels
                                           (named by a ``classes.txt`` beside it when there is one)
    class_folders(root), class_folder_files(root)  a folder of class folders (aclImdb's ``train/``): its
                                           class folders, and the ``.txt`` files a classifier reads of it

**fastText** (Amazon reviews polarity ``train.ft.txt``, Yelp, the fastText tutorials'
``cooking.stackexchange.txt``): each line ``__label__pos great film``; the label is the name after
``__label__``, ended by white space or a comma (``__label__pos,great film``, as CSV exports glue
them). fastText reads a label anywhere on a line, and some files put it last (``great film
__label__pos``): read too. A file is one when any of its lines starts or ends with a label, and
then every line must: a mixed file is one error naming the first line without one. Several labels on a line
(``__label__baking __label__bread …``) make multi-label data, which the classifier does not do
(one class a text): an error naming the line; where the labels are not read (predict, a
language model's text) every leading label is dropped.

**Class-index CSV** (Zhang, Zhao & LeCun 2015, the char-CNN sets: AG News, DBpedia, Yahoo
Answers, Yelp and Amazon polarity and full): ``"3","title","description"``, no header line, the
first field the 1-based class index, then one to three text fields, and a ``classes.txt`` beside
``train.csv`` / ``test.csv`` naming the classes one a line. The text fields are joined with a space
(said in one warning naming how many), their ``\\n`` (the sets' escaped line breaks) read as line
breaks; an index outside ``1..len(classes)`` is an error naming the line; without ``classes.txt``
the indices are the labels (warned).

Both readers are shared by the text classifier and the language model (which reads the texts
only): every mistake is one :class:`LstmkitError` naming the file's line.

**Class folders** (aclImdb, 20 Newsgroups as ``load_files`` reads it): one sub-folder a class, one
``.txt`` file a text directly inside it; ``unsup/`` (unlabelled) and files elsewhere are not read.
The classifier reads them, and a run's data digest (:mod:`lstmkit.data.same_data`) covers the same files.
"""
from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from lstmkit.data.columns import is_number
from lstmkit.data.compressed import open_data
from lstmkit.data.decoding import file_ext, read_text_file, text_lines
from lstmkit.errors import LstmkitError, callers_level, opt

__all__ = ["LabelledLines", "LABEL_PREFIX", "CLASSES_FILE", "fasttext_lines", "starts_with_label", "is_class_index_csv",
           "class_index_csv", "class_names", "UNLABELLED_FOLDERS", "class_folders", "class_texts", "class_folder_files"]

LABEL_PREFIX = "__label__"
CLASSES_FILE = "classes.txt"
_LABEL = re.compile(r"__label__([^\s,]*)(?:,\s*|\s+|$)")   # a comma ends one: '__label__pos,great film'
_TRAILING = re.compile(r"(?:\s+__label__\S*)+\s*$")    # labels after the text: fastText reads them anywhere
_INDEX = re.compile(r"\d{1,4}")          # a class index: a small whole number
_HEAD = 1 << 16                          # bytes read to tell a class-index CSV


@dataclass
class LabelledLines:
    """Texts, their labels (None when not read) and each text's line in the file (from 1)."""
    texts: list[str]
    labels: list[str] | None
    lines: list[int]


# -- fastText -------------------------------------------------------------------------------------
def fasttext_lines(text: str, where: str, labels: bool = True) -> LabelledLines | None:
    """The texts (and, with ``labels``, the one label of each) of a fastText file's ``text``;
    None when no line starts with ``__label__``. Blank lines are skipped."""
    lines = text_lines(text)
    if not any(ln.lstrip().startswith(LABEL_PREFIX) or _TRAILING.search(ln) for ln in lines):
        return None
    texts, names, numbers = [], [], []
    for k, line in enumerate(lines, start=1):
        rest = line.strip()
        if not rest:
            continue
        found, pos = [], 0
        while m := _LABEL.match(rest, pos):
            found.append(m.group(1))
            pos = m.end()
        if not found and (tail := _TRAILING.search(rest)):
            found = [label[len(LABEL_PREFIX):] for label in tail.group().split()]
            rest, pos = rest[:tail.start()], 0
        if not found:
            raise LstmkitError(f"line {k}{where} has no {LABEL_PREFIX} label ({rest[:40]!r}), but other lines have: "
                               "a fastText file labels every line",
                               f"start it with {LABEL_PREFIX}NAME, or remove it")
        if labels and len(found) > 1:
            raise LstmkitError(f"line {k}{where} has {len(found)} labels ({' '.join(LABEL_PREFIX + f for f in found[:3])}"
                               f"{' …' if len(found) > 3 else ''}): multi-label data, and the classifier gives one "
                               "class a text", f"keep one label a line, e.g. the first: sed -E "
                               f"'s/^({LABEL_PREFIX}\\S+)(\\s+{LABEL_PREFIX}\\S+)+/\\1/' FILE")
        if labels and not found[0]:
            raise LstmkitError(f"line {k}{where} has an empty label ({LABEL_PREFIX} with no name after it)",
                               f"write the class right after {LABEL_PREFIX} (e.g. {LABEL_PREFIX}pos)")
        texts.append(rest[pos:])
        names.append(found[0])
        numbers.append(k)
    return LabelledLines(texts, names if labels else None, numbers)


def starts_with_label(path: Path) -> bool:
    """Whether the file ``path``'s first line with text starts with ``__label__``: a fastText file
    under a name that does not say so (the fastText tutorial splits ``cooking.stackexchange.txt``
    into ``cooking.train`` and ``cooking.valid``)."""
    try:
        with open_data(path) as f:
            head = f.read(_HEAD)
    except (OSError, EOFError, LstmkitError):
        return False                     # the reader names what is wrong with the file
    first = next((ln for ln in head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines() if ln.strip()), "")
    return first.lstrip().startswith(LABEL_PREFIX)


# -- class-index CSV (Zhang et al. 2015) ----------------------------------------------------------
def is_class_index_csv(path: Path) -> bool:
    """Whether ``path`` is a ``.csv`` (compressed too: ``.csv.gz``, …) with no header: its first record a class
    index (a whole number of at most four digits), then fields of which one at least is not a
    number (a table of numbers is no text set), and its second record (if any) a class index too
    (a header whose first name is a number, ``1,review``, stays a header). A later record that is
    not is an error of :func:`class_index_csv` naming its line."""
    if file_ext(path) != ".csv" or not path.is_file():
        return False
    try:
        with open_data(path) as f:
            head = f.read(_HEAD)
    except (OSError, EOFError, LstmkitError):
        return False                     # the table reader names what is wrong with the file
    reader = csv.reader(io.StringIO(head.decode("utf-8", errors="replace").lstrip("\ufeff")))
    try:
        first, second = next(reader, []), next(reader, None)
    except csv.Error:
        return False
    return (len(first) >= 2 and bool(_INDEX.fullmatch(first[0].strip()))
            and any(f.strip() and not is_number(f) for f in first[1:])
            and (not second or bool(_INDEX.fullmatch(second[0].strip()))))


def class_index_csv(path: Path, encoding: str = "utf-8", labels: bool = True) -> LabelledLines:
    """The texts of a class-index CSV (:func:`is_class_index_csv`), each row's text fields joined
    with a space, and with ``labels`` their classes: the names of ``classes.txt`` beside the file
    (index 1 its first line), else the indices themselves."""
    where = f" of {path}"
    reader = csv.reader(io.StringIO(read_text_file(path, encoding)))
    texts, indices, numbers, width, line = [], [], [], None, 1
    try:
        for row in reader:
            start, line = line, reader.line_num + 1          # the record's first line; the next one's
            if not row or not any(f.strip() for f in row):
                continue
            width = width or len(row)
            if len(row) != width:
                raise LstmkitError(f"line {start}{where} has {len(row)} fields, the first row {width}: a class index "
                                   "and the same text fields on every row",
                                   "check that line's quotes (a field with a comma or a line break is quoted)")
            index = row[0].strip()
            if not _INDEX.fullmatch(index):
                raise LstmkitError(f"line {start}{where} starts with {index[:30]!r}, not a class index, where the file "
                                   "reads as a headerless CSV of class index and text (Zhang et al. 2015's layout)",
                                   "fix that line, or add a header line naming the columns (e.g. label,text) to "
                                   "read the file as a table")
            texts.append(" ".join(f.replace("\\n", "\n").strip() for f in row[1:] if f.strip()))
            indices.append(int(index))
            numbers.append(start)
    except csv.Error as e:
        raise LstmkitError(f"line {line}{where} cannot be read as CSV ({e})", "fix that line's quoting") from None
    classes = _class_names(path, indices, numbers) if labels else None      # its errors before the warning
    if width and width > 2:
        warnings.warn(f"{path} is a headerless CSV of a class index{' (ignored)' * (not labels)} and {width - 1} text "
                      f"fields (Zhang et al. 2015's layout: AG News, DBpedia, Yahoo Answers, Yelp, Amazon): each row's "
                      f"{width - 1} text fields are joined with a space into its text",
                      UserWarning, stacklevel=callers_level())
    return LabelledLines(texts, classes, numbers)


def _class_names(path: Path, indices: list[int], numbers: list[int]) -> list[str]:
    """Each index's class: its line of ``classes.txt`` beside ``path``, else the index as text (warned)."""
    names_file = path.parent / CLASSES_FILE
    if not names_file.is_file():
        distinct = sorted(set(indices))
        if len(distinct) > 20 and len(distinct) > len(indices) // 2:
            raise LstmkitError(f"{path} has no header line and its first column holds {len(distinct)} different "
                               f"numbers in {len(indices)} rows: row ids, not class indices",
                               "add a header line naming the columns (e.g. id,text,label) and pass "
                               f"{opt('text')} and {opt('label')}")
        shown = ", ".join(map(str, distinct[:4])) + (", …" if len(distinct) > 4 else "")
        warnings.warn(f"no {CLASSES_FILE} beside {path}: its class indices ({shown}) are the labels; put the "
                      f"set's {CLASSES_FILE} (one class name a line, the first for index 1) beside it to name them",
                      UserWarning, stacklevel=callers_level())
        return [str(i) for i in indices]
    names = class_names(names_file)
    if not names:
        raise LstmkitError(f"{names_file} is empty: beside {path.name} it names the classes, one a line (the first "
                           "for index 1)", f"write the set's class names into {CLASSES_FILE}, or delete it to use "
                           "the indices as labels")
    if "" in names or len(set(names)) < len(names):
        k = names.index("") if "" in names else next(j for j, n in enumerate(names) if names.index(n) < j)
        raise LstmkitError(f"line {k + 1} of {names_file} is {'blank' if not names[k] else 'a repeated name ' + repr(names[k])}"
                           f": it names the classes, one a line", "give each class one line with its own name")
    bad = next((j for j, i in enumerate(indices) if not 1 <= i <= len(names)), None)
    if bad is not None:
        raise LstmkitError(f"line {numbers[bad]} of {path} has class index {indices[bad]}, outside 1-{len(names)}: "
                           f"the {CLASSES_FILE} beside it names {len(names)} classes",
                           f"check that {CLASSES_FILE} belongs to this file (one class name a line, the first for "
                           f"index 1), or move it away to use the indices as labels")
    return [names[i - 1] for i in indices]


def class_names(names_file: Path) -> list[str]:
    """The class names of a ``classes.txt`` (one a line, the first for index 1), each stripped, the
    blank lines at its end left out: none for a blank file."""
    blank = not names_file.read_bytes().removeprefix(b"\xef\xbb\xbf").strip()     # read_text_file's own error
    names = [] if blank else text_lines(read_text_file(names_file))                 # speaks of a header row
    while names and not names[-1].strip():
        names.pop()
    return [n.strip() for n in names]


UNLABELLED_FOLDERS = frozenset({"unsup"})    # aclImdb's unlabelled reviews sit beside pos/ and neg/


def class_folders(root: Path) -> list[Path]:
    """The class folders of a folder of class folders, sorted: its sub-folders that hold ``.txt``
    files (:func:`class_texts`), less the unlabelled ones (:data:`UNLABELLED_FOLDERS`) and the hidden
    ones and macOS's ``__MACOSX``: Jupyter's ``.ipynb_checkpoints/`` beside ``pos/`` was a class."""
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and p.name not in UNLABELLED_FOLDERS | {"__MACOSX"} and not p.name.startswith(".")
                  and class_texts(p))


def class_texts(folder: Path) -> list[Path]:
    """The ``.txt`` files of ``folder``, sorted; ``.TXT`` too (Windows keeps the case it was given); not
    hidden ones (macOS's ``._0_9.txt`` beside each file of a folder it copied, no text)."""
    return sorted(f for f in folder.iterdir()
                  if f.suffix.lower() == ".txt" and not f.name.startswith(".") and f.is_file())


def class_folder_files(root: Path) -> list[Path]:
    """The files a text classifier reads of a folder of class folders: each class folder's ``.txt``
    files, sorted by their path inside ``root``; not ``unsup/`` or hidden ones, nor a file at the top or in a
    sub-folder of a class folder, which it never reads."""
    return sorted((f for folder in class_folders(root) for f in class_texts(folder)),
                  key=lambda f: f.relative_to(root).as_posix())
