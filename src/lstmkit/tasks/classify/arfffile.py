"""Weka ``.arff`` files as timeseriesclassification.com ships every UCR and UEA set
(``<Name>_TRAIN.arff``), read with :func:`scipy.io.arff.loadarff`. Univariate: one numeric
attribute per step, the class (a nominal attribute) last. Multivariate (UEA): one relational
attribute whose numeric attributes are the steps, one line of it per dimension, then the class::

    @relation BasicMotions
    @attribute relationalAtt relational
    @attribute t0 numeric
    …
    @end relationalAtt
    @attribute activity {Standing,Running,Walking,Badminton}
    @data
    '0.079,0.079,…\\n0.394,0.394,…',Standing

    read_arff(path, encoding, require_label)   each series as [T_i, F] and its label, as read_ts gives them
    parse_arff(text, where)                    the same from a file's text

``?`` marks a missing value: steps missing in every dimension at a series' end are padding (an
unequal-length set), a gap before its last value an error, as in a ``.ts`` file. A class of ``?``
on every line is a file without labels. A file the classifier cannot learn from (a numeric class:
regression; string, date or sparse data; no nominal class) is one :class:`LstmkitError` naming the
line and a fix.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from lstmkit.data.textfile import read_text_file, text_lines
from lstmkit.errors import LstmkitError, worded
from lstmkit.tasks.classify.tsfile import trim_padding

__all__ = ["read_arff", "parse_arff"]

_LAYOUT = ("a UCR/UEA .arff: a numeric attribute per step (multivariate: one relational attribute of them, a line "
           "per dimension), the nominal class {a,b,…} last")


def read_arff(path: Path, encoding: str = "utf-8", require_label: bool = True) -> tuple[list[np.ndarray], list[str] | None]:
    """The series (``[T_i, F]``, float64) of an ``.arff`` file and their labels (None for a file
    whose every class is ``?``, refused when ``require_label``)."""
    seqs, labels = parse_arff(read_text_file(path, encoding), f"{path} ")
    if labels is None and require_label:
        raise LstmkitError(f"{path} has no class labels (every class is '?')",
                           "train and evaluate on a file that gives each series its class; predict reads this one")
    return seqs, labels


def parse_arff(text: str, where: str = "") -> tuple[list[np.ndarray], list[str] | None]:
    """The series and labels of an ``.arff`` file's ``text``; ``where`` (the file's name and a
    space) begins every message."""
    from scipy.io import arff

    lines = text_lines(text)
    head, rows = _sections(lines, where)
    try:
        data, meta = arff.loadarff(io.StringIO("\n".join(lines) + "\n"))
    except NotImplementedError:          # scipy's words for a string attribute
        raise _string_attribute(lines, where) from None
    except UnicodeError:                 # scipy keeps nominal values as ASCII bytes
        raise LstmkitError(f"{where}names a class or value in characters other than ASCII, which scipy's .arff "
                           "reader does not take", "rename the classes in ASCII, or pass the set's .ts file") from None
    except Exception as e:               # noqa: BLE001 — ValueError, IndexError, re.error (a name with a '\\'), …
        raise _bad_row(lines, head, rows, where, e) from None
    names, types = meta.names(), meta.types()
    _check_attributes(names, types, lines, where)
    if not len(data):
        raise LstmkitError(f"{where}holds no series after @data (line {head})", _LAYOUT)
    classes = [v.decode("ascii") for v in data[names[-1]]]
    seqs = []
    for k, (lineno, row) in enumerate(zip(rows, data)):
        if types[0] == "relational":                                   # [F] records of T steps
            steps = _relational(row[0], f"{where}line {lineno}")
        else:
            steps = np.array([row[j] for j in range(len(names) - 1)], dtype=np.float64)[:, None]   # [T, 1]
        if seqs and steps.shape[1] != seqs[0].shape[1]:        # scipy reads each relational value on its own
            n = steps.shape[1]
            raise LstmkitError(f"{where}line {lineno} has {n} dimension{'s' * (n != 1)}, but line {rows[0]} has "
                               f"{seqs[0].shape[1]}", f"give every series the same dimensions, a line each: {_LAYOUT}")
        seqs.append(trim_padding(steps, f"{where}line {lineno}"))
    unlabelled = [lineno for lineno, c in zip(rows, classes) if c == "?"]
    if len(unlabelled) == len(classes):
        return seqs, None
    if unlabelled:
        raise LstmkitError(f"{where}line {unlabelled[0]} has no class ('?'), but other series have one",
                           "give every series its class (a file to predict may leave them all '?')")
    return seqs, classes


def _sections(lines: list[str], where: str) -> tuple[int, list[int]]:
    """The line of ``@data`` and the lines of the instances below it (scipy skips blank lines and
    those that start with ``%``); sparse instances (``{0 1.5, 3 2}``) are an error naming theirs."""
    start = next((i for i, line in enumerate(lines, 1) if line.strip().lower().startswith("@data")), None)
    if start is None:
        raise LstmkitError(f"{where}has no @data line", f"an .arff file lists its @attribute lines, then @data, then "
                                                        f"the series: {_LAYOUT}")
    rows = [i for i, line in enumerate(lines[start:], start + 1) if line.strip() and not line.startswith("%")]
    sparse = next((i for i in rows if lines[i - 1].lstrip().startswith("{")), None)
    if sparse is not None:
        raise LstmkitError(f"{where}line {sparse} is sparse data ('{{index value, …}}'), which lstmkit does not read",
                           f"save the set with every value written out (dense): {_LAYOUT}")
    return start, rows


def _string_attribute(lines: list[str], where: str) -> LstmkitError:
    found = next(((i, line.split()[1]) for i, line in enumerate(lines, 1) if len(line.split()) > 2
                  and line.split()[0].lower() == "@attribute" and line.split()[-1].lower() == "string"), None)
    what = f"line {found[0]}: attribute {found[1]!r} is" if found else "has"
    return LstmkitError(f"{where}{what} a string attribute: text, not a series",
                        worded("classify texts without --series (from a table)",
                               "classify texts with TextClassifier (from a table)")
                        + f"; a series is {_LAYOUT}")


def _bad_row(lines: list[str], head: int, rows: list[int], where: str, error: Exception) -> LstmkitError:
    """The error for a file scipy could not read: the header, else the first instance it cannot
    read (scipy's words in both). scipy reads the instances in order, so the first bad one is
    where a growing prefix of them starts to fail: found by bisection, about two reads of the file."""
    header = "\n".join(lines[:head]) + "\n"
    said = _failure(header)
    if said is not None:
        return LstmkitError(f"{where}has a header scipy cannot read ({said})", f"fix the @attribute lines: {_LAYOUT}")
    ok, bad = 0, len(rows)                  # rows[:ok] read; rows[:bad] do not (the whole file failed)
    while bad - ok > 1:
        mid = (ok + bad) // 2
        if _failure(header + "\n".join(lines[i - 1] for i in rows[:mid]) + "\n") is None:
            ok = mid
        else:
            bad = mid
    said = _failure(header + lines[rows[bad - 1] - 1] + "\n") if rows else None
    if said is None:
        return LstmkitError(f"{where}cannot be read as .arff ({_said(error)})", _LAYOUT)
    return LstmkitError(f"{where}line {rows[bad - 1]} cannot be read ({said})",
                        f"give each series one value per attribute ('?' for a missing one), its class last: {_LAYOUT}")


def _failure(text: str) -> str | None:
    """scipy's words on ``text`` as an .arff file; None when it reads."""
    from scipy.io import arff

    try:
        arff.loadarff(io.StringIO(text))
    except Exception as e:                                  # noqa: BLE001 — scipy raises ValueError, IndexError, …
        return _said(e)
    return None


def _said(error: Exception) -> str:
    text = str(error).replace("Error while parsing header, error was: ", "")
    return (text or type(error).__name__)[:120]


def _check_attributes(names: list[str], types: list[str], lines: list[str], where: str) -> None:
    """A nominal class last; before it numeric attributes (the steps) or one relational one."""
    if len(names) < 2:
        raise LstmkitError(f"{where}has {len(names)} attribute{'s' * (len(names) != 1)}: no series and class",
                           _LAYOUT)
    last = f"{_line_of(lines, names[-1])}its last attribute {names[-1]!r} is {types[-1]}"
    if types[-1] == "numeric" and "nominal" in types:
        j = types.index("nominal")
        raise LstmkitError(f"{where}{_line_of(lines, names[j])}the nominal attribute {names[j]!r} comes before the "
                           f"steps, not last", f"declare the class last, as UCR's files do: {_LAYOUT}")
    if types[-1] == "numeric":
        raise LstmkitError(f"{where}is a regression file ({last}: a number to predict, not a class)",
                           "a classifier needs classes: use a file whose last attribute is nominal {a,b,…}")
    if types[-1] != "nominal":
        raise LstmkitError(f"{where}has no nominal class ({last})",
                           f"end the attributes with the class, '@attribute class {{a,b}}': {_LAYOUT}")
    steps = types[:-1]
    if steps == ["relational"] or "relational" not in steps and set(steps) == {"numeric"}:
        return
    if "relational" in steps:
        r = steps.index("relational")
        j = next(j for j, t in enumerate(steps) if j != r)
        raise LstmkitError(f"{where}{_line_of(lines, names[j])}attribute {names[j]!r} ({steps[j]}) sits beside the "
                           f"relational attribute {names[r]!r}", f"one relational attribute holds all the "
                           f"dimensions of a multivariate series: {_LAYOUT}")
    j = next(j for j, t in enumerate(steps) if t != "numeric")
    raise LstmkitError(f"{where}{_line_of(lines, names[j])}attribute {names[j]!r} is {steps[j]}, not a numeric step",
                       f"lstmkit reads {_LAYOUT}")


def _line_of(lines: list[str], name: str) -> str:
    """``"line N: "`` for the ``@attribute`` line that declares ``name``, else ``""``."""
    for i, line in enumerate(lines, 1):
        words = line.split()
        if len(words) > 1 and words[0].lower() == "@attribute" and words[1].strip("'\"") == name:
            return f"line {i}: "
    return ""


def _relational(dims: np.ndarray, where: str) -> np.ndarray:
    """One UEA instance's relational value (one record per dimension, a field per step) as [T, F]."""
    kinds = {dims.dtype[j].kind for j in range(len(dims.dtype))}
    if kinds - {"f"}:
        raise LstmkitError(f"{where}: the relational attribute holds values that are not numbers",
                           f"declare its steps '@attribute t0 numeric': {_LAYOUT}")
    if len(dims) == 0:
        raise LstmkitError(f"{where} has no values", "remove the line or fill in the series")
    return np.array(dims.tolist(), dtype=np.float64).reshape(len(dims), -1).T      # [T, F]
