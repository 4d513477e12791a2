"""The ``.tsf`` files of the Monash Time Series Forecasting Archive (forecastingdata.org; Godahewa,
Bergmeir, Webb, Hyndman & Montero-Manso, 2021), the form its tourism, electricity, traffic and
M1 / M3 / M4 collections are downloaded in and sktime's and aeon's ``load_tsf_to_dataframe`` read:
a header of ``@`` tags and ``#`` comment lines, then ``@data`` and one series a line, its attribute
values in the declared order separated by ``:``, then its values separated by ``,`` (``?`` for a
missing one)::

    @relation tourism_monthly
    @attribute series_name string
    @attribute start_timestamp date
    @frequency monthly
    @horizon 24
    @missing false
    @equallength false
    @data
    T1:1979-01-01 00-00-00:1149.87,1053.8,1388.88,…

    is_tsf(path)               whether ``path`` names a .tsf file (or a compressed one: .tsf.gz, a .zip of a .tsf, …)
    read_tsf(path)             the file as the long table the forecaster reads, one row per point:
                               the series' name (its string attribute), ``time`` (its date attribute
                               stepped by ``@frequency``), ``value``; the header in ``attrs["tsf"]``;
                               an attribute of one of those names keeps it, the column then
                               ``series_value`` (``series_time``, …), said in a warning
    parse_tsf(lines, where)    the same from the file's lines
    tsf_settings(cfg, table)   the settings such a table gives a config that leaves them unset: the
                               id, time and target columns, the horizon (``@horizon``) and, for series
                               without start times, the season of ``@frequency``

A ``?`` is an empty cell, as in a long table: inside a series an error unless training fills gaps
(``--fill``), after a series' last value a step with no value. A header its data contradicts
(``@missing false`` over a ``?``, ``@equallength true`` over series of several lengths, a line
with more or fewer ``:`` fields than attributes), an unknown frequency or attribute type, a bad
date or value, no ``@data`` line, no series: each one :class:`LstmkitError` naming the line and the fix.
"""
from __future__ import annotations

import csv
import io
import warnings
from datetime import datetime
from itertools import chain, count
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from lstmkit.data.compressed import read_data
from lstmkit.data.decoding import check_text, file_ext, text_lines
from lstmkit.data.tagged import header_tags
from lstmkit.errors import LstmkitError, callers_level, missing_path_fix, opt, worded
from lstmkit.runs import path_exists
from lstmkit.tasks.forecast.baselines import infer_season
from lstmkit.tasks.forecast.tsf_times import frequency_step, point_times

__all__ = ["is_tsf", "read_tsf", "parse_tsf", "tsf_settings"]

_LAYOUT = ("one series a line after @data: its attribute values in the header's order, each followed by ':', "
           "then its values separated by ','")
_DATE_FORMATS = ("%Y-%m-%d %H-%M-%S", "%Y-%m-%d")       # the archive's (':' separates the fields), and a date alone
_TYPES = ("string", "numeric", "date")
_F32_MAX = float(np.finfo(np.float32).max)        # the model computes in float32


def is_tsf(path) -> bool:
    """Whether ``path`` (a str or path; anything else is not) names a ``.tsf`` file, or a compressed
    one (``.tsf.gz``, ``.tsf.bz2``, ``.tsf.xz``, a ``.zip`` holding a ``.tsf``, as the Monash archive ships them)."""
    return isinstance(path, (str, Path)) and file_ext(Path(path)) == ".tsf"


def read_tsf(path: str | Path) -> pd.DataFrame:
    """The series of the ``.tsf`` file ``path`` as one long table (:func:`parse_tsf`); the text is
    UTF-8 or, failing that, Windows-1252 (the archive's own encoding)."""
    path = Path(path)
    if not path_exists(path):
        raise LstmkitError(f"file not found: {path}", missing_path_fix(path, "check the path"))
    if path.is_dir():
        raise LstmkitError(f"{path} is a directory, not a .tsf file", "point to the .tsf file inside it")
    raw = read_data(path)
    check_text(raw[:8192], path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError as e:
            line = raw[:e.start].count(b"\n") + 1
            raise LstmkitError(f"{path} line {line} is neither UTF-8 nor Windows-1252 text",
                               "save the file as UTF-8") from None
    if not text.strip():
        raise LstmkitError(f"file is empty: {path}", "a .tsf file holds a header (@attribute …, @frequency …), "
                           "then @data and one series a line")
    return parse_tsf(text_lines(text), f"{path} ")


def parse_tsf(lines: Sequence[str], where: str = "") -> pd.DataFrame:
    """The long table of a ``.tsf`` file's ``lines`` (line 1 first); ``where`` (the file's name and
    a space) begins every message. Its ``attrs["tsf"]`` holds the columns' roles (``id``, ``time``,
    ``target``), the number of series and the header's ``horizon``, ``frequency`` and ``season``."""
    head = _header(lines, where)
    attributes = head["attributes"]
    rows: list[list[Any]] = []
    texts: list[str] = []                # each line's values, as written
    lines_of: list[int] = []
    for lineno, line in enumerate(lines[head["data"]:], head["data"] + 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            raise LstmkitError(f"{where}line {lineno}: {line.split()[0]} after @data",
                               "put every header tag before @data")
        fields = line.split(":")
        if len(fields) != len(attributes) + 1:
            names = "".join(f"{name}:" for name, _, _ in attributes)
            dated = any(kind == "date" for _, kind, _ in attributes)
            raise LstmkitError(
                f"{where}line {lineno} has {len(fields) - 1} ':' before its values, but the header declares "
                f"{len(attributes)} attribute{'s' * (len(attributes) != 1)}" +
                (f" ({', '.join(name for name, _, _ in attributes)})" if attributes else ""),
                f"write each series as {names}v1,v2,… ({_LAYOUT})" +
                ("; write dates as 1979-01-01 00-00-00 (dashes, not ':', in the time)" if dated else ""))
        rows.append([_attribute(field.strip(), attr, f"{where}line {lineno}")
                     for field, attr in zip(fields, attributes)])
        if not fields[-1].strip():
            raise LstmkitError(f"{where}line {lineno} has no values after its attributes",
                               "give the series its values, or drop the line")
        texts.append(fields[-1])
        lines_of.append(lineno)
    if not texts:
        raise LstmkitError(f"{where}holds no series after @data (line {head['data']})", _LAYOUT)
    series = _series_values(texts, lines_of, where, head)
    _check_lengths(series, lines_of, head, where)
    return _table(rows, series, lines_of, head, where)


# -- the header --------------------------------------------------------------------------------
def _header(lines: Sequence[str], where: str) -> dict[str, Any]:
    """The header's attributes ``(name, type, line)``, its ``horizon``, ``frequency`` (name, step,
    line), ``missing`` and ``equallength`` flags (value, line) and the line of ``@data``."""
    head: dict[str, Any] = {"attributes": [], "horizon": None, "frequency": None, "missing": None,
                            "equallength": None, "data": None}
    tags, head["data"] = header_tags(
        lines, where, "a .tsf file lists its header (@attribute series_name string, @frequency …), then @data, "
        "then one series a line", "put @data after the header, the series below it, one a line")
    for lineno, tag, values in tags:
        at = f"{where}line {lineno}: @{tag}"
        if tag == "attribute":
            if len(values) != 2 or values[1].lower() not in _TYPES:
                raise LstmkitError(f"{at} needs a name and a type (string, numeric or date), got {' '.join(values)!r}",
                                   "e.g. '@attribute series_name string' or '@attribute start_timestamp date'")
            if any(values[0] == name for name, _, _ in head["attributes"]):
                raise LstmkitError(f"{at} declares {values[0]!r} a second time", "give each attribute its own name")
            head["attributes"].append((values[0], values[1].lower(), lineno))
        elif tag == "horizon":
            if len(values) != 1 or not values[0].isdecimal() or int(values[0]) < 1:
                raise LstmkitError(f"{at} must be a positive whole number, got {' '.join(values)!r}",
                                   "e.g. '@horizon 24' (the steps to forecast)")
            head["horizon"] = (int(values[0]), lineno)
        elif tag == "frequency":
            head["frequency"] = (values[0].lower() if values else "", frequency_step(values, at), lineno)
        elif tag in ("missing", "equallength"):
            if len(values) != 1 or values[0].lower() not in ("true", "false"):
                raise LstmkitError(f"{at} must be true or false, got {' '.join(values)!r}",
                                   f"write '@{tag} true' or '@{tag} false'")
            head[tag] = (values[0].lower() == "true", lineno)
        elif tag != "relation":
            warnings.warn(f"{where}line {lineno}: unknown header tag @{tag} ignored (a .tsf header has @relation, "
                          "@attribute, @frequency, @horizon, @missing, @equallength)",
                          UserWarning, stacklevel=callers_level())
    return head


# -- the series ------------------------------------------------------------------------------
def _attribute(text: str, attribute: tuple[str, str, int], where: str):
    """One attribute value of a series line as its declared type."""
    name, kind, _ = attribute
    if kind == "string":
        if not text:
            raise LstmkitError(f"{where}: attribute {name!r} is empty", f"give every series its {name}")
        return text
    if kind == "numeric":
        try:
            return float(text)
        except ValueError:
            raise LstmkitError(f"{where}: attribute {name!r} (numeric) is {text[:30]!r}, not a number",
                               "write a number there, or declare the attribute a string") from None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    raise LstmkitError(f"{where}: attribute {name!r} (date) is {text[:30]!r}, not a date as the archive writes them",
                       "write it as 1979-01-01 00-00-00 (%Y-%m-%d %H-%M-%S: dashes in the time, as ':' separates "
                       "the fields)")


def _series_values(texts: list[str], lines_of: list[int], where: str, head: dict[str, Any]) -> list[np.ndarray]:
    """Each line's values (NaN for ``?``), read at once by pandas' C parser (a fifth of the time
    of a line at a time on 6 million values); where that finds anything but numbers and ``?``, line
    by line, so that the error names the line and the value."""
    lengths = np.array([t.count(",") + 1 for t in texts])
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    flat = _numbers("\n".join(texts).replace(",", "\n"), int(lengths.sum()))
    if flat is not None:
        nan = np.isnan(flat)             # a ? each, not a literal nan or inf
        if not ((np.add.reduceat(nan, starts) == [t.count("?") for t in texts]).all()
                and np.isfinite(flat[~nan]).all()):
            flat = None
    out = []
    for k, (text, lineno) in enumerate(zip(texts, lines_of)):
        values = _line_values(text, f"{where}line {lineno}") if flat is None else flat[starts[k]:starts[k] + lengths[k]]
        out.append(_checked(values, text, f"{where}line {lineno}", head))
    return out


def _numbers(text: str, n: int) -> np.ndarray | None:
    """The ``n`` numbers of ``text``, one a line (``?``: NaN); None when it holds anything else."""
    try:
        column = pd.read_csv(io.StringIO(text), header=None, names=["v"], dtype=np.float64, na_values=["?"],
                             keep_default_na=False, skip_blank_lines=False, quoting=csv.QUOTE_NONE, engine="c")
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    values = column["v"].to_numpy()
    return values if len(values) == n else None


def _line_values(text: str, where: str) -> np.ndarray:
    """One line's values (NaN for ``?``); anything but a number or ``?`` is an error naming it."""
    try:
        values = np.array(list(map(float, text.replace("?", "nan").split(","))))     # a literal nan: checked below
    except ValueError:
        values = None
    if values is None or int(np.isnan(values).sum()) != text.count("?") or not np.isfinite(
            values[~np.isnan(values)]).all():
        j, cell = next((j, c.strip()) for j, c in enumerate(text.split(","))
                       if c.strip() != "?" and not _finite(c))
        raise LstmkitError(f"{where}: value {j + 1} is {'empty' if not cell else repr(cell[:20])}, not a number",
                           "write numbers separated by ',' and '?' for a missing value")
    return values


def _checked(values: np.ndarray, text: str, where: str, head: dict[str, Any]) -> np.ndarray:
    """``values`` of one line, refused when a ``?`` meets ``@missing false``, when every one is ``?``
    or when one is beyond float32's range."""
    gaps = int(np.isnan(values).sum())
    if gaps and head["missing"] is not None and not head["missing"][0]:
        j = next(j for j, c in enumerate(text.split(",")) if c.strip() == "?")
        raise LstmkitError(f"{where}: value {j + 1} is '?' (missing), but the header says @missing false "
                           f"(line {head['missing'][1]})", "write '@missing true' if the file has missing values "
                           f"(training then needs {opt('fill')} for gaps inside a series), or supply the value")
    if gaps == len(values):
        raise LstmkitError(f"{where}: every value of the series is '?'", "drop the line or supply its values")
    big = np.flatnonzero(np.abs(values) > _F32_MAX)
    if len(big):
        raise LstmkitError(f"{where}: value {int(big[0]) + 1} ({values[big[0]]:g}) is beyond the float32 range "
                           "(|x| <= 3.4e38)", "rescale the series")
    return values


def _finite(cell: str) -> bool:
    try:
        return bool(np.isfinite(float(cell)))
    except ValueError:
        return False


def _check_lengths(series: list[np.ndarray], lines_of: list[int], head: dict[str, Any], where: str) -> None:
    """``@equallength true`` over series of several lengths is an error naming the first that differs."""
    if head["equallength"] is None or not head["equallength"][0]:
        return
    k = next((k for k, s in enumerate(series) if len(s) != len(series[0])), None)
    if k is not None:
        raise LstmkitError(f"{where}line {lines_of[k]} holds {len(series[k])} values and line {lines_of[0]} "
                           f"{len(series[0])}, but the header says @equallength true (line {head['equallength'][1]})",
                           "write '@equallength false', or correct the series")


def _table(rows: list[list[Any]], series: list[np.ndarray], lines_of: list[int], head: dict[str, Any],
           where: str) -> pd.DataFrame:
    """The long table: the attributes but the date one (a value per row of its series), ``time``
    where the series have start dates and a frequency, ``value``."""
    attributes = head["attributes"]
    names = [name for name, _, _ in attributes]
    dates = [j for j, (_, kind, _) in enumerate(attributes) if kind == "date"]
    date_at = next((j for j in dates if names[j] == "start_timestamp"), dates[0] if dates else None)
    strings = [j for j, (_, kind, _) in enumerate(attributes) if kind == "string"]
    id_at = next((j for j in strings if names[j] == "series_name"), None)
    if id_at is None:
        id_at = next((j for j in strings if len({r[j] for r in rows}) == len(rows)), None)
    lengths = np.array([len(s) for s in series])
    columns: dict[str, Any] = {}
    id_name = names[id_at] if id_at is not None else None
    if id_at is not None:
        seen: dict[str, int] = {}
        for row, lineno in zip(rows, lines_of):
            if row[id_at] in seen:
                raise LstmkitError(f"{where}line {lineno} repeats series {row[id_at]!r} of line {seen[row[id_at]]}",
                                   f"give each series its own {id_name}, or merge the two lines")
            seen[row[id_at]] = lineno
    elif len(series) > 1:
        if strings:
            raise LstmkitError(f"{where}has {len(series)} series and no string attribute that tells them apart "
                               f"({', '.join(names[j] for j in strings)} repeat)",
                               "add '@attribute series_name string' and a name of its own first on each line")
        id_name = _free("series", head, where)
        columns[id_name] = np.repeat(np.array([f"T{k}" for k in range(1, len(series) + 1)], dtype=object), lengths)
        warnings.warn(f"{where}names no series (no string attribute): they are called T1 … T{len(series)} in file "
                      "order", UserWarning, stacklevel=callers_level())
    for j, name in enumerate(names):
        if j != date_at:
            columns[name] = np.repeat(np.array([r[j] for r in rows], dtype=object if j in strings else None), lengths)
    time_name, frequency = None, head["frequency"]
    if date_at is not None and frequency is None:
        warnings.warn(f"{where}gives start times ({names[date_at]}) but no @frequency: its series are read without "
                      "time stamps; add '@frequency monthly' (or the series' own) to the header to read them",
                      UserWarning, stacklevel=callers_level())
    elif date_at is not None:
        times = point_times([r[date_at] for r in rows], lengths, frequency[1])
        if times is None:
            warnings.warn(f"{where.strip()}: time stamps from {names[date_at]} stepped by @frequency {frequency[0]} "
                          "fall outside the years 1678-2261 that pandas holds: the series are read without them",
                          UserWarning, stacklevel=callers_level())
        else:
            time_name = _free("time", head, where)
            columns[time_name] = times
    value_name = _free("value", head, where)
    columns[value_name] = np.concatenate(series)
    table = pd.DataFrame(columns)
    season = 1
    if frequency is not None and time_name is None:    # what the panel would infer from time stamps
        stamps = point_times([datetime(2000, 1, 1)], lengths[:1], frequency[1])
        if stamps is not None:           # a step so long that the series leaves pandas' years has no season
            season = infer_season(pd.DatetimeIndex(stamps), int(lengths[0]))
    table.attrs["tsf"] = {"file": where.strip(), "id": id_name if len(series) > 1 else None, "time": time_name,
                          "target": value_name, "series": len(series),
                          "start": names[date_at] if date_at is not None else None, "horizon": head["horizon"],
                          "frequency": frequency and (frequency[0], frequency[2]), "season": season}
    return table


def _free(name: str, head: dict[str, Any], where: str) -> str:
    """``name`` for a column the reader makes (``series``, ``time``, ``value``), or, when an attribute
    has that name, the first of ``series_<name>``, ``series_<name>_2``, … no attribute has, said in a
    warning (a column named twice would lose one: an attribute ``series_value`` beside ``value`` was
    overwritten by the series' values)."""
    lines = {attribute: line for attribute, _, line in head["attributes"]}
    if name not in lines:
        return name
    free = next(c for c in chain([f"series_{name}"], (f"series_{name}_{k}" for k in count(2))) if c not in lines)
    role, flag = {"series": ("the series' names", "id"), "time": ("the time stamps", "time"),
                  "value": ("the series' values", "target")}[name]
    warnings.warn(f"{where}line {lines[name]}: attribute {name!r} has the name of the column of {role}: that column "
                  f"is {free!r}, and {name!r} is the attribute (pass --{flag} {free} "
                  f"where you name it); rename the attribute in the header to keep {name!r} for {role}",
                  UserWarning, stacklevel=callers_level())
    return free


# -- the settings a .tsf table gives ---------------------------------------------------------------
def tsf_settings(cfg, table) -> dict[str, dict[str, Any]] | None:
    """Fill the settings of ``cfg`` (a ForecastConfig, in place) that the user left unset from the
    ``.tsf`` file ``table`` was read from: the id column (several series), the time column (start
    times and a frequency), the target (``value``), the horizon (``@horizon``: said in a warning, as
    is a horizon the user set that differs from it) and
    the season of ``@frequency`` where the series have no time stamps. Returns the record of those
    choices (``{"horizon": {"value": 24, "why": …}}``); None when ``table`` is no ``.tsf`` file's."""
    info = table.attrs.get("tsf") if isinstance(table, pd.DataFrame) else None
    if info is None:
        return None
    name = Path(info["file"]).name
    if cfg.format != "long":
        raise LstmkitError(f"{opt('format', cfg.format)} does not apply to {name}: a .tsf file is read as the long "
                           "table of its series", f"drop {opt('format')}")
    found: dict[str, dict[str, Any]] = {}
    if cfg.id is None and info["id"] is not None:
        cfg.id = info["id"]
        found["id"] = {"value": info["id"], "why": "the .tsf file's series names"}
    if cfg.time is None and info["time"] is not None:
        cfg.time = info["time"]
        found["time"] = {"value": info["time"],
                         "why": f"the .tsf file's {info['start']} stepped by @frequency {info['frequency'][0]}"}
    if not cfg.target:
        cfg.target = [info["target"]]
    if cfg.horizon is None and info["horizon"] is not None:
        cfg.horizon, line = info["horizon"]
        found["horizon"] = {"value": cfg.horizon, "why": f"the .tsf file's @horizon (line {line})"}
        warnings.warn(f"horizon {cfg.horizon}: {name}'s @horizon (line {line}); pass "
                      f"{worded('--horizon (horizon=)', opt('horizon'))} to "
                      "forecast another number of steps", UserWarning, stacklevel=callers_level())
    elif info["horizon"] is not None and cfg.horizon != info["horizon"][0]:
        value, line = info["horizon"]
        warnings.warn(f"horizon {cfg.horizon} differs from {name}'s @horizon {value} (line {line}), the horizon the "
                      f"archive's benchmarks score at: scores will not compare with theirs; drop "
                      f"{worded('--horizon (horizon=)', opt('horizon'))} to forecast {value} steps",
                      UserWarning, stacklevel=callers_level())
    if cfg.season is None and cfg.time is None and info["season"] > 1:
        cfg.season = info["season"]
        found["season"] = {"value": cfg.season, "why": f"the .tsf file's @frequency {info['frequency'][0]} "
                           f"(line {info['frequency'][1]}); its series have no time stamps"}
    return found
