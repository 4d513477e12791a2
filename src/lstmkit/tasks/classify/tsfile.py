"""The ``.ts`` files of sktime and aeon, the format timeseriesclassification.com ships every UCR and
UEA set in (``<Name>_TRAIN.ts``): a header of ``@`` tags, then ``@data`` and one series a line,
its dimensions separated by ``:``, a dimension's values by ``,``, the class label last; ``?``
marks a missing value and ``#`` starts a comment line::

    @problemName GunPoint
    @univariate true
    @equalLength true
    @classLabel true 1 2
    @data
    -0.65,-0.64,-0.63,…:2

    read_ts(path, encoding, require_label)   each series as [T_i, F] and its label, as the UCR .tsv reader gives them,
                                             and what the header's @equalLength says (None without one)
    parse_ts(lines, where)                   the same from a file's lines
    trim_padding(steps, where)               a series without its padding ('?' steps at its end), as the .arff reader uses too

A file the classifier cannot learn from (``@targetLabel true``: regression; ``@timeStamps true``;
``@classLabel false`` where labels are needed) or a malformed line is one :class:`LstmkitError`
naming the line and a fix. Steps missing (``?``, or ``NaN`` spelled out) in every dimension at a
series' end are padding, said in one warning: the format writes a shorter series shorter, and aeon
and sktime keep such steps as missing values, but files converted from UCR's ``.tsv`` carry its
NaN padding. A gap before a series' last value is an error, as in a UCR ``.tsv``; so are ``inf``
(a value the network cannot read) and numbers Python's ``float`` reads but no ``.ts`` writer
writes (``1_000``), each named with its line and dimension.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from lstmkit.data.columns import parses_as_float
from lstmkit.data.tagged import header_tags
from lstmkit.data.textfile import read_text_file, text_lines
from lstmkit.errors import LstmkitError, callers_level, opt

__all__ = ["read_ts", "parse_ts", "trim_padding"]

_LAYOUT = "one series a line after @data: each dimension's values separated by ',', dimensions by ':', the class last"


def read_ts(path: Path, encoding: str = "utf-8", require_label: bool = True
            ) -> tuple[list[np.ndarray], list[str] | None, bool | None]:
    """The series (``[T_i, F]``, float64) of a ``.ts`` file, their labels (None for a file of
    ``@classLabel false``, refused when ``require_label``) and its ``@equalLength`` (None when the
    header has none: aeon and sktime write ``false`` for JapaneseVowels, PLAID, …)."""
    seqs, labels, equal = parse_ts(text_lines(read_text_file(path, encoding)), f"{path} ")
    if labels is None and require_label:
        raise LstmkitError(f"{path} has no class labels (@classLabel false)",
                           "train and evaluate on a file with '@classLabel true' and its classes; "
                           "predict reads this one")
    return seqs, labels, equal


def parse_ts(lines: Sequence[str], where: str = "") -> tuple[list[np.ndarray], list[str] | None, bool | None]:
    """The series, labels and ``@equalLength`` of a ``.ts`` file's ``lines`` (line 1 first); ``where``
    (the file's name and a space) begins every message."""
    classes, dims, dims_from, start, equal = _header(lines, where)
    seqs, labels, padded = [], [], []
    for lineno, line in enumerate(lines[start:], start + 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            raise LstmkitError(f"{where}line {lineno}: {line.split()[0]} after @data", "put every header tag before @data")
        fields = line.split(":")
        if classes is not None:
            if len(fields) < 2:
                raise LstmkitError(f"{where}line {lineno} has no class label after its values",
                                   f"end the line with ':' and its class ({_shown(classes)}): {_LAYOUT}")
            label = fields.pop().strip()
            if label not in classes:
                raise LstmkitError(f"{where}line {lineno}: class {label[:20]!r} is not declared by @classLabel "
                                   f"({_shown(classes)})", "add it to the @classLabel line, or correct the label")
            labels.append(label)
        if dims is None:
            dims, dims_from = len(fields), f"line {lineno} has"
        if len(fields) != dims:
            raise LstmkitError(f"{where}line {lineno} has {len(fields)} dimension{'s' * (len(fields) != 1)}, "
                               f"but {dims_from} {dims}", f"give every series the same dimensions: {_LAYOUT}")
        seqs.append(_steps(fields, f"{where}line {lineno}"))
        if len(seqs[-1]) < len(fields[0].split(",")):                 # steps trimmed at its end
            padded.append(lineno)
    if not seqs:
        raise LstmkitError(f"{where}holds no series after @data (line {start})", _LAYOUT)
    if padded:
        _warn_padding(padded, where)
    return seqs, (labels if classes is not None else None), equal


def _warn_padding(lines: list[int], where: str) -> None:
    n = len(lines)
    shown = ", ".join(map(str, lines[:3])) + (", …" if n > 3 else "")
    warnings.warn(f"{where.strip()}: {n} series end{'s' * (n == 1)} in missing values ('?' or NaN) after "
                  f"{'its' if n == 1 else 'their'} last number (line{'s' * (n > 1)} {shown}): read as "
                  "padding, each series ending at its last value (aeon and sktime keep them as missing values); "
                  "if a measurement is missing there, fill it in", UserWarning, stacklevel=callers_level())


def _shown(classes: Sequence[str]) -> str:
    return ", ".join(classes[:8]) + (", …" if len(classes) > 8 else "")


def _header(lines: Sequence[str], where: str) -> tuple[tuple[str, ...] | None, int | None, str, int, bool | None]:
    """``(classes, dimensions, whence the dimensions, the @data line, @equalLength)``: classes None for
    ``@classLabel false``, dimensions None when the first series decides, @equalLength None when absent."""
    found, data_line = header_tags(
        lines, where, "a .ts file lists its header tags (@problemName …, @classLabel true a b …), then @data, "
        "then the series", "put @data on the line after the header tags, the series below it")
    tags = {tag: (values, lineno) for lineno, tag, values in found}

    def flag(name: str) -> bool | None:          # name as the format spells it: "classLabel"
        if name.lower() not in tags:
            return None
        values, lineno = tags[name.lower()]
        if not values or values[0].lower() not in ("true", "false"):
            raise LstmkitError(f"{where}line {lineno}: @{name} must be true or false",
                               f"write '@{name} true' or '@{name} false'")
        return values[0].lower() == "true"

    if flag("targetLabel"):
        raise LstmkitError(f"{where}is a regression file (@targetLabel true, line {tags['targetlabel'][1]}): the "
                           "value after each series is a number to predict, not a class",
                           "a classifier needs classes: use a .ts file with '@classLabel true' and its classes")
    if flag("timeStamps"):
        raise LstmkitError(f"{where}has time-stamped values (@timeStamps true, line {tags['timestamps'][1]}), "
                           "which lstmkit does not read from a .ts file",
                           f"write the series as a long table (sample, t, values…, label) and pass {opt('sample')} and "
                           f"{opt('time')}")
    labelled = flag("classLabel")
    if labelled is None:
        raise LstmkitError(f"{where}has no @classLabel line in its header", "add '@classLabel true' and the classes "
                           "(e.g. '@classLabel true 1 2') before @data, or '@classLabel false' for a file without labels")
    values, lineno = tags["classlabel"]
    if labelled and len(values) < 2:
        raise LstmkitError(f"{where}line {lineno}: @classLabel true names no classes",
                           "list them after it: '@classLabel true 1 2'")
    if "dimensions" in tags:
        count, at = tags["dimensions"]
        if len(count) != 1 or not count[0].isdecimal() or int(count[0]) < 1:
            raise LstmkitError(f"{where}line {at}: @dimensions must be a positive whole number", "e.g. '@dimensions 3'")
        dims, dims_from = int(count[0]), f"@dimensions (line {at}) says"
    elif flag("univariate"):
        dims, dims_from = 1, f"@univariate true (line {tags['univariate'][1]}) says"
    else:
        dims, dims_from = None, ""
    return (tuple(values[1:]) if labelled else None), dims, dims_from, data_line, flag("equalLength")


def _steps(fields: Sequence[str], where: str) -> np.ndarray:
    """One series' dimensions (``fields``: each its values, comma-separated) as ``[T, F]``; steps
    missing in every dimension at the end dropped (padding to a common length)."""
    cells = [field.split(",") for field in fields]
    columns = [_values(c, where, d) for d, c in enumerate(cells, 1)]
    lengths = [len(c) for c in columns]
    if len(set(lengths)) > 1:
        raise LstmkitError(f"{where}: its dimensions have different numbers of values ({', '.join(map(str, lengths))})",
                           "give each dimension of a series one value per step ('?' for a missing one)")
    return trim_padding(np.stack(columns, axis=1), where, cells)          # [T, F]


def trim_padding(steps: np.ndarray, where: str, written: Sequence[Sequence[str]] | None = None) -> np.ndarray:
    """``steps [T, F]`` without the steps missing (NaN) in every dimension at its end, the padding
    of an unequal-length set; a missing value before its last step, or no value, is an error
    beginning with ``where`` (the series' file and line) and naming the value as ``written`` (per
    dimension its cells: ``NaN`` spelled out as well as ``?``; ``'?'`` without). The ``.arff``
    reader's rule too."""
    observed = np.flatnonzero(~np.isnan(steps).all(axis=1))
    if observed.size == 0:
        raise LstmkitError(f"{where} has no values", "remove the line or fill in the series")
    steps = steps[: observed[-1] + 1]
    if np.isnan(steps).any():
        t, d = (int(k) + 1 for k in np.argwhere(np.isnan(steps))[0])
        found = written[d - 1][t - 1].strip()[:20] if written is not None else "?"
        raise LstmkitError(f"{where} has a missing value ({found!r}) at step {t}" + (f" of dimension {d}"
                           if steps.shape[1] > 1 else ""), "fill or interpolate it (only steps missing at a "
                           "series' end are padding)")
    return steps


def _values(cells: list[str], where: str, dim: int) -> np.ndarray:
    """The numbers of one dimension, NaN for ``?``; anything else (``x``, ``1_000``, ``inf``) is an
    error naming it."""
    cells = ["nan" if c.strip() == "?" else c for c in cells]
    try:
        values = np.array(cells, dtype=np.float64)
        if any("_" in c for c in cells):        # float() reads 1_000, a Python literal no .ts writer writes
            raise ValueError
    except ValueError:
        j, cell = next((j, c) for j, c in enumerate(cells) if "_" in c or not parses_as_float(c))
        raise LstmkitError(f"{where}: value {j + 1} of dimension {dim} is not a number ({cell.strip()[:20]!r})",
                           f"numbers only, '?' for a missing one: {_LAYOUT}") from None
    if np.isinf(values).any():
        j = int(np.flatnonzero(np.isinf(values))[0])
        raise LstmkitError(f"{where}: value {j + 1} of dimension {dim} is infinite ({cells[j].strip()[:20]!r})",
                           "fix or remove that value ('?' marks a missing one)")
    return values
