"""JSON tables: records, JSON Lines, and the objects that hold a table otherwise.

    parse_jsonl(text, path)            a ``.jsonl`` / ``.json`` file's text as a DataFrame (read_table's)
    misread_object(df)                 whether pandas read one JSON object as the wrong table
    json_after_all(text, path, lines)  the table one JSON object holds (pandas' layouts, records under one key)
    JSON_PLACES                        how a message names a JSON file's rows (``row_place``): lines, or records

What :mod:`lstmkit.data.tables` reads from JSON files past what ``pandas.read_json`` reads.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from lstmkit.errors import LstmkitError

__all__ = ["parse_jsonl", "misread_object", "json_after_all", "JSON_PLACES"]

# how a message names a JSON file's rows (row_place): its lines, or the records of one array
JSON_PLACES = {True: {"first_line": 1, "row_unit": "line", "cell_breaks": False},
               False: {"first_line": 1, "row_unit": "record"}}


def json_after_all(text: str, path: Path, lines: bool) -> pd.DataFrame:
    """A JSON file (its ``text``) pandas could not read as records or columns: one object that holds
    the table otherwise (:func:`_object_table`); else an :class:`LstmkitError` naming the line that
    is not JSON."""
    if lines:
        for lineno, line in enumerate(text.splitlines(), 1):
            try:
                line.strip() and json.loads(line)
            except json.JSONDecodeError:
                raise LstmkitError(f"{path} line {lineno} is not valid JSON",
                                   "write one JSON object per line (JSON Lines)") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise LstmkitError(f"could not read {path}: line {e.lineno} is not valid JSON ({e.msg})",
                           'check that it is a valid JSON file (records: [{"date": ..., "y": ...}, ...])') from None
    if not isinstance(doc, dict):
        raise ValueError("not a table of records")                 # named by read_frame's message
    return _object_table(doc, path)


def misread_object(df: pd.DataFrame) -> bool:
    """Whether pandas read one JSON object as a table of columns that holds it otherwise: records
    under one key (one column of objects), rows by label (columns 0, 1, … and the names of the
    columns as the index), or ``split``'s columns and data."""
    if {"columns", "data"} <= set(map(str, df.columns)):
        return True
    if df.shape[1] == 1 and len(df) and df.iloc[:, 0].map(lambda v: isinstance(v, dict)).all():
        return True
    return df.shape[1] > 0 and all(str(c).isdigit() for c in df.columns) and not any(str(i).isdigit() for i in df.index)


def _object_table(doc: dict, path: Path) -> pd.DataFrame:
    """The table one JSON object holds, in the layouts pandas writes (``to_json``'s ``columns``,
    ``index``, ``split`` and ``table``) or as records under one key (``{"data": [{…}, …]}``, a web API's); an
    :class:`LstmkitError` when it is none of them (one record, or settings)."""
    values = list(doc.values())
    if {"columns", "data"} <= set(doc) and isinstance(doc["data"], list):          # orient="split"
        return pd.DataFrame(doc["data"], columns=doc["columns"])
    if {"schema", "data"} <= set(doc) and isinstance(doc["schema"], dict) and isinstance(doc["data"], list):
        df = pd.DataFrame.from_records(doc["data"])                                   # orient="table"
        return df.drop(columns=[k for k in doc["schema"].get("primaryKey") or [] if k == "index" and k in df])
    if len(doc) == 1 and isinstance(values[0], list) and values[0] and all(isinstance(r, dict) for r in values[0]):
        return pd.DataFrame.from_records(values[0])
    if values and all(isinstance(v, dict) for v in values):
        rows = all(re.fullmatch(r"\d+", str(k)) for k in doc) and not any(
            re.fullmatch(r"\d+", str(k)) for v in values for k in v)
        df = pd.DataFrame.from_dict(doc, orient="index" if rows else "columns")      # row labels 0, 1, …: orient="index"
        return df.reset_index(drop=True)
    if values and all(isinstance(v, list) for v in values) and len({len(v) for v in values}) == 1:
        return pd.DataFrame(doc)
    raise LstmkitError(f"{path} holds one JSON object ({', '.join(map(repr, list(doc)[:4]))}), not a table",
                       'write its rows as records: [{"date": …, "y": …}, …] (JSON Lines: one object per line)')


def parse_jsonl(text: str, path: Path) -> pd.DataFrame:
    """A ``.jsonl`` / ``.json`` file's ``text`` as read for :func:`lstmkit.data.tables.read_table`: JSON
    Lines (a line that is not JSON, or names a key twice, is an error naming it), one array of
    records, or one object holding a table."""
    stripped, blank = text.lstrip(), []
    if stripped.startswith("{"):                      # one object (a table, or one record), or JSON Lines
        try:
            doc = json.loads(stripped)
        except json.JSONDecodeError:
            doc = None                                # several objects: JSON Lines
        if isinstance(doc, dict) and doc and all(isinstance(v, (dict, list)) for v in doc.values()):
            df = _object_table(doc, path)
            df.attrs.update(JSON_PLACES[False])
            return df
    if stripped.startswith("["):                      # a JSON array of records
        try:
            records = json.loads(stripped)
        except json.JSONDecodeError as e:
            raise LstmkitError(f"{path} is not valid JSON (line {e.lineno})", "fix the file") from None
    else:
        records = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                blank.append(lineno)
                continue
            try:
                records.append(json.loads(line, object_pairs_hook=_keys_once))
            except json.JSONDecodeError:
                raise LstmkitError(f"{path} line {lineno} is not valid JSON",
                                   "write one JSON object per line (JSON Lines)") from None
            except _RepeatedKey as e:        # a dict keeps the last: '"label": "pos", "label": "x"' read as x
                raise LstmkitError(f"{path} line {lineno} names the key {e.args[0]!r} twice in one object",
                                   "give each field its own key (JSON keeps only the last of the two)") from None
    if not records or not all(isinstance(r, dict) for r in records):
        raise LstmkitError(f"{path} must hold JSON objects, one per row", 'write lines like {"text": …, "label": …}')
    df = pd.DataFrame.from_records(records)
    df.attrs.update(JSON_PLACES[not stripped.startswith("[")], blank_lines=blank)
    return df


class _RepeatedKey(Exception):
    """A JSON object naming one key twice (its argument)."""


def _keys_once(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object's key-value pairs as a dict; a key named twice raises :class:`_RepeatedKey`."""
    out = dict(pairs)
    if len(out) < len(pairs):
        seen: set[str] = set()
        raise _RepeatedKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return out
