"""UCR's own text layout, as the 2018 archive ships it (``<Name>_TRAIN.tsv``): one series a line,
its label first, then its values split on tabs, commas or spaces (spaces beside a tab or comma
are part of it: ``1, 0.5, 0.7``); a shorter series padded at its
end with empty or NaN cells. A ``.csv`` with no header is read so too.

    parse_series_lines(lines, labelled, where)   each series as [T_i, 1] and its label
    is_table_header(line, sep, label, firsts)     whether a file's first line names columns (a long or wide table) instead

A value that is no number (``1_000`` too, which Python's ``float`` reads), an infinite one or a
gap before a series' last value is one :class:`LstmkitError` naming the line.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from lstmkit.data.columns import parses_as_float
from lstmkit.errors import LstmkitError

__all__ = ["parse_series_lines", "is_table_header"]

# A tab, a comma, or a run of spaces; spaces beside a tab or comma ("1, 0.5, 0.7") belong to it, not to
# a cell of their own: split apart, each ", " made an empty cell, "a missing value at position 1".
# Two tabs or commas in a row keep the empty cell between them (padding at a series' end).
_SEPARATOR = re.compile(r"[^\S\t]*[\t,][^\S\t]*|[^\S\t]+")


def parse_series_lines(lines: Sequence[str], labelled: bool, where: str = "",
                       first_line: int = 1) -> tuple[list[np.ndarray], list[str] | None]:
    """One series per line, values split on tabs, commas or spaces (label first when
    ``labelled``). Trailing empty / NaN cells are padding (UCR's way of storing unequal lengths).
    Messages number ``lines[0]`` as line ``first_line``."""
    seqs, labels = [], []
    for lineno, line in enumerate(lines, first_line):
        if not line.strip():
            continue
        cells = _SEPARATOR.split(line.strip())
        if labelled:
            labels.append(cells[0].strip())
            cells = cells[1:]
        values = np.empty(len(cells))
        for j, c in enumerate(cells):
            try:
                if "_" in c:                    # float() reads 1_000, a Python literal no UCR file holds
                    raise ValueError(c)
                values[j] = float(c) if c.strip() else np.nan
            except ValueError:
                raise LstmkitError(f"{where}line {lineno}: value {j + 1} is not a number ({c[:20]!r})",
                                   "one series per line: the label first, then numbers only") from None
        if np.isinf(values).any():
            j = int(np.flatnonzero(np.isinf(values))[0])
            raise LstmkitError(f"{where}line {lineno}: value {j + 1} is infinite ({cells[j][:20]!r})",
                               "fix or remove that value (an empty cell or NaN at a series' end is padding)")
        valid = np.flatnonzero(~np.isnan(values))
        if valid.size == 0:
            raise LstmkitError(f"{where}line {lineno} has no values", "remove the line or fill in the series")
        values = values[: valid[-1] + 1]
        if np.isnan(values).any():
            raise LstmkitError(f"{where}line {lineno} has a missing value at position "
                               f"{int(np.flatnonzero(np.isnan(values))[0]) + 1}", "fill or interpolate it")
        seqs.append(values[:, None])                                       # [T, 1]
    return seqs, (labels if labelled else None)


def is_table_header(line: str, sep: str, label: str, firsts: set[str]) -> bool:
    """Whether a file's first line names columns rather than holding a UCR series (label first,
    then numbers): the label column's name among its cells, an empty first cell (pandas'
    index), names in most of its cells after the first (empty ones are UCR's padding;
    one stray word in a series stays a UCR line and its error), or text before the numbers
    0, 1, 2, … (a DataFrame's columns, as ``to_csv`` writes them) that no later line starts
    with (``firsts``: a UCR label repeats, a column name does not), or those numbers alone: the
    header of a DataFrame without names, no series of a label 0 rising by exactly one a step."""
    cells = [c.strip().strip('"') for c in line.split(sep)]
    first, rest = cells[0], [c for c in cells[1:] if c]
    if not rest:
        return False
    if _integer_steps(cells):            # a frame's default columns: its first line was a series 1, 2, … of label 0
        return True
    if label in cells or first == "" or 2 * sum(not parses_as_float(c) for c in rest) > len(rest):
        return True
    if parses_as_float(first) or first in firsts or not all(parses_as_float(c) for c in rest):
        return False
    steps = [float(c) for c in rest]
    return (len(steps) >= 3 and steps[0] in (0.0, 1.0)
            and steps == [steps[0] + k for k in range(len(steps))])


def _integer_steps(cells: Sequence[str]) -> bool:
    """Whether ``cells`` (three or more) are the integers 0, 1, 2, … or 1, 2, 3, …, written as integers."""
    if len(cells) < 3 or not all(re.fullmatch(r"\d+", c) for c in cells):
        return False
    return [int(c) for c in cells] == list(range(int(cells[0]), int(cells[0]) + len(cells))) and cells[0] in ("0", "1")
