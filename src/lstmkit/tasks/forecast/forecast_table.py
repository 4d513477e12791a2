"""The test forecasts as a table: a run's ``test_forecasts.csv`` and ``forecast evaluate --out``.

One row per series, target, origin and horizon step, ordered so::

    id        the series (a table of several series, or with an id column: named as that column)
    target    the target (several targets only)
    origin    the last point each forecast reads: its time (the data's dates or step numbers), or
              without a time column its row number within the series (0 first)
    step      1 .. horizon
    time      the forecast point's time, as ``origin`` (named as the data's time column where it is one,
              and as ``predict`` names it: ``t`` of an M4 file)
    actual    the value observed there; empty where ``--fill`` filled the cell (no observation,
              which the metrics leave out)
    <model>   the model's forecast in original units (the metrics table's row of that name: ``lstm``, ...)
    q<level>  a probabilistic run's quantiles (``q0.1`` .. ``q0.9``), within the run's bounds as scored
    naive, seasonal_naive, ets   the baselines the table compares with (``ets`` where it was scored)
    mase_scale   the series' (and target's) MASE denominator: the mean absolute seasonal difference of
              its training part

so every row of the printed table is :mod:`~lstmkit.tasks.forecast.metrics`' definitions over these
columns: per series (and target) ``MAE = mean |actual - forecast|``, ``MASE = MAE / mase_scale``
(of several targets, the mean over the targets whose scale is not 0), then the mean over series; a
coverage is the share of actual values between two quantile columns, over every row (``coverage_q0.9``: at or
below one).
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from lstmkit.errors import callers_level, worded
from lstmkit.tasks.forecast.times import forecast_zone, in_zone

__all__ = ["forecast_table", "write_csv", "TEST_FORECASTS", "MOST_ROWS", "keeps_table"]

TEST_FORECASTS = "test_forecasts.csv"       # the run folder's file of the test forecasts
MOST_ROWS = 2_000_000                       # rows a run folder's test_forecasts.csv holds at most


def keeps_table(windows: int, horizon: int, targets: int) -> bool:
    """Whether a fit keeps the table of its ``windows`` test windows (``horizon`` steps, ``targets``
    targets) for its run folder: at most :data:`MOST_ROWS` rows, else one warning saying how to write
    them. A long series cut by fractions forecast 720 steps ahead has some 14 million (seven targets),
    which held over a gigabyte of memory in the fit and wrote as much CSV, on every training."""
    rows = windows * horizon * targets
    if rows <= MOST_ROWS:
        return True
    warnings.warn(f"the test part's forecasts are {rows:,} rows ({windows:,} windows x {horizon} steps x "
                  f"{targets} target{'s' if targets > 1 else ''}), over the {MOST_ROWS:,} the run folder's "
                  f"{TEST_FORECASTS} holds: it is not written — "
                  + worded("lstmkit forecast evaluate --run RUN --data DATA --out forecasts.parquet writes them",
                           "Forecaster.test_forecasts(data) gives them"), UserWarning, stacklevel=callers_level())
    return False


def forecast_table(est, panel, rows: np.ndarray, series: np.ndarray, actual: np.ndarray,
                   forecasts: dict[str, np.ndarray], quantiles: np.ndarray | None,
                   scales: np.ndarray) -> pd.DataFrame:
    """The table of the test windows (first ``rows [n]`` of ``series [n]``): ``actual [n, H, T]``,
    each model's forecasts ``forecasts {name: [n, H, T]}`` (the model's first), ``quantiles
    [n, H, T, Q]`` at the run's levels (None: a point run) and each series' MASE scale ``scales [S, T]``."""
    cfg = est.config_
    n, H, T = actual.shape
    L = cfg.lookback
    # every cell [n, T, H]: series, then target, then origin, then step
    cells = (n, T, H)
    s = np.broadcast_to(series[:, None, None], cells)
    j = np.broadcast_to(np.arange(T)[None, :, None], cells)
    origin = np.broadcast_to((rows + L - 1)[:, None, None], cells)       # the frame row of each origin
    step = np.broadcast_to(np.arange(1, H + 1)[None, None, :], cells)
    order = np.lexsort((step.ravel(), origin.ravel(), j.ravel(), s.ravel()))
    s, j, origin, step = s.ravel()[order], j.ravel()[order], origin.ravel()[order], step.ravel()[order]
    at = origin + step                                                     # the frame row forecast

    def cell(values: np.ndarray) -> np.ndarray:        # [n, H, T] -> the rows' order
        return np.moveaxis(values, 2, 1).ravel()[order]

    frame: dict[str, object] = {}
    if len(panel.ids) > 1 or cfg.id is not None or cfg.format == "m4":
        frame[_free(cfg.id, "id")] = np.asarray(panel.shown_ids(), dtype=object)[s]
    if T > 1:
        frame["target"] = np.asarray(cfg.target, dtype=object)[j]
    if panel.times is not None:                    # in the data's zone, as predict gives its times
        zone = forecast_zone(panel.time_info, getattr(est, "data_summary_", None))
        origin_time, forecast_time = (in_zone(panel.times[k], panel.time_info, zone) for k in (origin, at))
    else:                                          # no time column: the row's number within the series
        origin_time, forecast_time = origin - panel.starts[s], at - panel.starts[s]
    frame["origin"] = origin_time
    frame["step"] = step
    plain_time = cfg.time if isinstance(cfg.time, str) and "," not in cfg.time else None
    # predict's name for the time (AheadForecast._forecast_frame): an M4 file's step numbers are 't'
    frame[_free(plain_time, "t" if cfg.format == "m4" else "time")] = forecast_time
    frame["actual"] = cell(actual)
    names = list(forecasts)
    frame[names[0]] = cell(forecasts[names[0]])
    if quantiles is not None:
        for k, level in enumerate(est.output_.levels):
            frame[f"q{level:g}"] = cell(quantiles[..., k])
    for name in names[1:]:
        frame[name] = cell(forecasts[name])
    frame["mase_scale"] = scales[s, j]
    return pd.DataFrame(frame)


_FIXED = ("target", "origin", "step", "actual", "mase_scale", "naive", "seasonal_naive", "ets")


def _free(name: str | None, default: str) -> str:
    """The data's own column name where it names no other column of the table, else ``default``."""
    taken = name in (*_FIXED, "id", "time") or re.fullmatch(r"q[0-9.e-]+", name or "") is not None
    return name if name and not taken else default


def write_csv(table: pd.DataFrame, path) -> None:
    """``table`` as CSV, the text pandas' ``to_csv(index=False)`` writes up to the spelling of a float
    (``1e-05``: ``0.00001``), through pyarrow's writer: pandas formats a million rows of floats in about
    14 s, pyarrow in 1 (a long series' 2,600 test windows of 24 steps and 7 targets are 440,000 rows).
    Times pyarrow would write otherwise (a zone, fractions of a second) go through pandas."""
    import csv

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    columns, plain = {}, True
    for name in table.columns:
        col = table[name]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            return table.to_csv(path, index=False)
        if pd.api.types.is_datetime64_dtype(col.dtype):
            columns[name] = _times(col.to_numpy())
            if columns[name] is None:
                return table.to_csv(path, index=False)
            continue
        columns[name] = pa.array(col.to_numpy(), from_pandas=True)        # NaN: an empty cell, as pandas'
        if pa.types.is_string(columns[name].type) or pa.types.is_large_string(columns[name].type):
            plain = plain and not pc.any(pc.match_substring_regex(columns[name], r'[,"\r\n]')).as_py()
    with open(path, "w", newline="", encoding="utf-8") as f:               # the header as pandas writes it
        csv.writer(f, lineterminator="\n").writerow([str(name) for name in table.columns])
    with open(path, "ab") as f:
        pacsv.write_csv(pa.table(columns), f, pacsv.WriteOptions(include_header=False,
                                                                 quoting_style="none" if plain else "needed"))


def _times(values: np.ndarray):
    """Naive datetimes in the type pyarrow writes as pandas does: dates alone where every one is
    midnight, else to the second; None where one holds a fraction of a second."""
    import pyarrow as pa
    seconds = values.astype("datetime64[s]")
    if (seconds != values).any():
        return None
    days = values.astype("datetime64[D]")
    return pa.array(days if (days == values).all() else seconds)
