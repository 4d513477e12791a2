"""The header of a file of ``@`` tags (sktime's and aeon's ``.ts``, the Monash archive's ``.tsf``):
tag lines and ``#`` comment lines, then ``@data``, then the data.

    header_tags(lines, where, layout_fix, data_fix)   ``[(line, tag, values), …]`` and the line of ``@data``

A value line before ``@data``, an ``@`` with no tag after it and a file with no ``@data`` line are
each one :class:`LstmkitError` naming the line and the fix; what a tag means is the reader's.
"""
from __future__ import annotations

from typing import Sequence

from lstmkit.errors import LstmkitError

__all__ = ["header_tags"]


def header_tags(lines: Sequence[str], where: str, layout_fix: str,
                data_fix: str) -> tuple[list[tuple[int, str, list[str]]], int]:
    """The header's tags (``(line number, tag lower-cased, values)``, in file order) and the line of
    ``@data``; ``layout_fix`` is the fix for values before ``@data``, ``data_fix`` for no ``@data``."""
    tags: list[tuple[int, str, list[str]]] = []
    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("@"):
            raise LstmkitError(f"{where}line {lineno} holds values before any @data line", layout_fix)
        if not line[1:].strip():
            raise LstmkitError(f"{where}line {lineno}: '@' names no header tag",
                               "write the tag right after '@' (e.g. @data), or delete the line")
        tag, *values = line[1:].split()
        if tag.lower() == "data":
            return tags, lineno
        tags.append((lineno, tag.lower(), values))
    raise LstmkitError(f"{where}has no @data line", data_fix)
