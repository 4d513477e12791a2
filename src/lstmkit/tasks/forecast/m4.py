"""The M4 competition: its wide CSV files, its Naive2 benchmark and its metrics.

Data (Makridakis, Spiliotis & Assimakopoulos, IJF 2020; github Mcompetitions/M4-methods):
one row per series, the id in the first column, then the observations ``V2 .. Vn``; rows are
ragged (cells after a series' end are empty). :func:`read_m4_wide` turns such a file into the
long format used by the many-series forecaster (``id``, ``t``, ``value``);
:func:`read_m4_test` reads the paired test file and continues each series' ``t``.

Metrics follow ``Benchmarks and Evaluation.R`` of the M4 repository::

    sMAPE = 200/h · Σ |y - f| / (|y| + |f|)                    per series
    MASE  = 1/h · Σ |y - f| / scale,
            scale = mean_{t > m} |x_t - x_{t-m}|                in-sample seasonal naive at lag m
    OWA   = ½ (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2)       on the means over all series

with the competition's seasonal periods ``m`` (:data:`M4_SEASON`: Hourly 24, Weekly 1, ...).

Naive2 (the OWA reference) is the naive forecast of the seasonally adjusted series,
re-seasonalised: a series is seasonal when it has at least ``3m`` points and its
autocorrelation at lag ``m`` exceeds the 90 % limit ``1.645 · sqrt((1 + 2 Σ_{k<m} r_k²) / n)``;
seasonal indices come from R's classical multiplicative ``decompose`` (centred moving average
of order ``m``, detrended ratios averaged by position in the cycle, normalised to mean 1).
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from lstmkit.data.textfile import row_place
from lstmkit.errors import LstmkitError, callers_level, opt, worded

__all__ = ["M4_SEASON", "M4_HORIZON", "m4_frequency", "m4_settings", "read_m4_wide", "read_m4_test", "smape", "mase",
           "mase_scale", "seasonality_test", "seasonal_indices", "naive2", "m4_scores"]

#: Seasonal period used by the competition for Naive2 and the MASE scale.
M4_SEASON = {"yearly": 1, "quarterly": 4, "monthly": 12, "weekly": 1, "daily": 1, "hourly": 24}
#: Forecast horizon of each frequency.
M4_HORIZON = {"yearly": 6, "quarterly": 8, "monthly": 18, "weekly": 13, "daily": 14, "hourly": 48}


# -- reading ---------------------------------------------------------------------------------
def m4_frequency(path) -> str | None:
    """The M4 frequency a file's name begins with (``Hourly-train.csv`` → ``"hourly"``), or None: a
    table in memory, or a file named otherwise."""
    if not isinstance(path, (str, Path)):
        return None
    stem = Path(path).name.lower()
    return next((freq for freq in M4_SEASON if stem.startswith(freq)), None)


def m4_settings(cfg, data) -> dict[str, dict[str, Any]]:
    """Fill the season and horizon of ``cfg`` (``format="m4"``, in place) that the user left unset
    from the frequency the M4 file's name gives (``Hourly-train.csv``: season 24, horizon 48, the
    competition's; :data:`M4_SEASON`, :data:`M4_HORIZON`). The file's columns hold no time, so
    nothing else says how the series repeat: without this an hourly file ran at season 1, its
    seasonal naive the naive forecast and its MASE scaled by the last hour. The horizon is said in a
    warning, as is a set horizon that differs from the competition's. Returns the record of those
    choices (``{"season": {"value": 24, "why": …}}``); empty for a file named otherwise."""
    freq = m4_frequency(data)
    if freq is None:
        return {}
    name, found = Path(data).name, {}
    if cfg.season is None and M4_SEASON[freq] > 1:
        cfg.season = M4_SEASON[freq]
        found["season"] = {"value": cfg.season, "why": f"the M4 {freq} file {name}: the competition's season"}
    horizon = M4_HORIZON[freq]
    if cfg.horizon is None:
        cfg.horizon = horizon
        found["horizon"] = {"value": horizon, "why": f"the M4 {freq} file {name}: the competition's horizon"}
        warnings.warn(f"horizon {horizon}: the M4 competition's for the {freq} file {name}; pass "
                      f"{worded('--horizon (horizon=)', opt('horizon'))} to forecast another number of steps",
                      UserWarning, stacklevel=callers_level())
    elif cfg.horizon != horizon:
        warnings.warn(f"horizon {cfg.horizon} differs from the M4 competition's {horizon} for the {freq} file "
                      f"{name}: scores will not compare with the competition's; drop "
                      f"{worded('--horizon (horizon=)', opt('horizon'))} to forecast {horizon} steps",
                      UserWarning, stacklevel=callers_level())
    return found


def read_m4_wide(path: str | Path) -> pd.DataFrame:
    """Read an M4 wide CSV (id, then ragged values) into long format.

    Returns a DataFrame with columns ``id`` (str), ``t`` (int, 0..n-1 within each series) and
    ``value`` (float64), one row per observation, series in file order.

    Raises:
        LstmkitError: the file is missing, empty, has no value columns, a non-numeric cell, an
            empty cell followed by a value (a gap rather than a ragged end), a series without
            values, or a repeated id.
    """
    ids, rows = _read_wide(path)
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    return pd.DataFrame({
        "id": np.repeat(np.array(ids, dtype=object), lengths),
        "t": np.concatenate([np.arange(n, dtype=np.int64) for n in lengths]),
        "value": np.concatenate(rows),
    })


def read_m4_test(path: str | Path, train: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read the M4 test file paired to a training file, in the long format of :func:`read_m4_wide`.

    With ``train`` (the long frame of the training file) each test series' ``t`` continues its
    training series (the first test point has ``t = len(train series)``), the series come in the
    training frame's order, and the ids of the two files must be the same set.
    """
    test = read_m4_wide(path)
    if train is None:
        return test
    missing = {"id", "t", "value"} - set(train.columns)
    if missing:
        raise LstmkitError(f"the training frame lacks column(s) {sorted(missing)}",
                           "pass the frame returned by read_m4_wide for the training file")
    lengths = train.groupby("id", sort=False).size()
    test_ids, train_ids = pd.unique(test["id"]), lengths.index
    extra, lacking = set(test_ids) - set(train_ids), set(train_ids) - set(test_ids)
    if extra or lacking:
        detail = "; ".join(s for s in (
            f"{len(extra)} test id(s) not in train, e.g. {sorted(extra)[0]!r}" if extra else "",
            f"{len(lacking)} train id(s) without test values, e.g. {sorted(lacking)[0]!r}" if lacking else "") if s)
        raise LstmkitError(f"{path}: the test file does not pair with the training data ({detail})",
                           "use the test file of the same frequency as the training file")
    test = test.assign(t=test["t"] + test["id"].map(lengths).to_numpy())
    order = pd.Categorical(test["id"], categories=list(train_ids), ordered=True)
    return test.iloc[np.lexsort((test["t"].to_numpy(), order.codes))].reset_index(drop=True)


def _read_wide(path: str | Path) -> tuple[list[str], list[np.ndarray]]:
    path = Path(path)
    if not path.is_file():
        raise LstmkitError(f"M4 file not found: {path}", "check the path (e.g. Dataset/Train/Weekly-train.csv)")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, header=0)
    except pd.errors.EmptyDataError:
        raise LstmkitError(f"file is empty: {path}", "an M4 file has a header row and one row per series") from None
    except (ValueError, OSError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LstmkitError(f"could not read {path} as an M4 wide CSV: {reason}",
                           "expect a CSV with the series id first, then its values V2..Vn") from None
    if raw.shape[1] < 2:
        raise LstmkitError(f"{path} has {raw.shape[1]} column(s); an M4 file needs the id and at least one value",
                           "expect a CSV with the series id first, then its values V2..Vn (comma-separated)")
    if len(raw) == 0:
        raise LstmkitError(f"{path} has a header but no series", "supply one row per series")
    ids = raw.iloc[:, 0].str.strip()
    if (ids == "").any():
        row = int(np.flatnonzero((ids == "").to_numpy())[0])
        raw.attrs["csv_file"] = (str(path), ",", "utf-8", 1, True)      # its line, read again for the message
        raise LstmkitError(f"{path}: series on {row_place(raw, row)} has no id",
                           "every row starts with the series id (e.g. W1)")
    dup = ids.duplicated()
    if dup.any():
        raise LstmkitError(f"{path}: series id {ids[dup].iloc[0]!r} appears more than once",
                           "each row must hold a different series")
    text = raw.iloc[:, 1:].apply(lambda c: c.str.strip())
    values = text.apply(lambda c: pd.to_numeric(c.mask(c == ""), errors="coerce")).to_numpy(np.float64)  # [S, V]
    empty = (text == "").to_numpy()
    bad = np.isnan(values) & ~empty | np.isinf(values)
    if bad.any():
        r, c = (int(a[0]) for a in np.nonzero(bad))
        raise LstmkitError(f"{path}: series {ids.iloc[r]!r} has a non-numeric value {text.iat[r, c]!r} "
                           f"in column {raw.columns[c + 1]!r}",
                           "M4 values are plain numbers; empty cells may only follow a series' last value")
    present = ~empty
    lengths = present.sum(axis=1)
    if (lengths == 0).any():
        r = int(np.flatnonzero(lengths == 0)[0])
        raise LstmkitError(f"{path}: series {ids.iloc[r]!r} has no values", "drop that row or fill in its values")
    gap = present[:, 1:] & ~present[:, :-1]          # a value right after an empty cell
    if gap.any():
        r, c = (int(a[0]) for a in np.nonzero(gap))
        raise LstmkitError(f"{path}: series {ids.iloc[r]!r} has an empty cell before column {raw.columns[c + 2]!r}; "
                           "in the M4 format empty cells may only come after a series' end",
                           "fill the gap or cut the series there")
    return list(ids), [values[i, :n] for i, n in enumerate(lengths)]


# -- metrics ---------------------------------------------------------------------------------
def smape(actual, forecast) -> float:
    """M4 sMAPE (%) of one series: ``200 · mean |y - f| / (|y| + |f|)`` (0/0 counts 0)."""
    y, f = _pair(actual, forecast)
    denom = np.abs(y) + np.abs(f)
    terms = np.divide(np.abs(y - f), denom, out=np.zeros_like(y), where=denom != 0)
    return float(200.0 * terms.mean())


def mase_scale(insample, m: int = 1) -> float:
    """In-sample MAE of the seasonal naive forecast at lag ``m``: ``mean_{t>m} |x_t - x_{t-m}|``."""
    x = np.asarray(insample, dtype=np.float64).ravel()
    m = _season(m)
    if len(x) <= m:
        raise LstmkitError(f"MASE needs more than m={m} in-sample points, got {len(x)}", "pass a longer history")
    return float(np.mean(np.abs(x[m:] - x[:-m])))


def mase(insample, actual, forecast, m: int = 1) -> float:
    """M4 MASE of one series: ``mean |y - f|`` over the in-sample seasonal-naive MAE at lag ``m``.

    A constant history (scale 0) gives ``inf`` (or ``nan`` for a perfect forecast), as in R."""
    y, f = _pair(actual, forecast)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.mean(np.abs(y - f)) / np.float64(mase_scale(insample, m)))


def m4_scores(insample: Sequence, actual, forecast, m: int = 1, naive2_forecast=None) -> dict[str, float]:
    """Dataset-level M4 scores: mean sMAPE, mean MASE and OWA against Naive2.

    Args:
        insample: one 1-D history per series (lengths may differ).
        actual: ``[S, h]`` true future values.
        forecast: ``[S, h]`` forecasts to score.
        m: seasonal period (:data:`M4_SEASON`).
        naive2_forecast: ``[S, h]`` Naive2 forecasts; computed with :func:`naive2` when omitted.

    Returns:
        ``{"sMAPE", "MASE", "OWA", "sMAPE_naive2", "MASE_naive2", "series"}``.
    """
    y, f = _pair(actual, forecast)
    if y.ndim != 2 or len(insample) != y.shape[0]:
        raise LstmkitError(f"expected actual/forecast of shape [series, h] for {len(insample)} series, "
                           f"got {y.shape}", "pass one row per series")
    h = y.shape[1]
    n2 = (np.stack([naive2(x, h, m) for x in insample]) if naive2_forecast is None
          else np.asarray(naive2_forecast, dtype=np.float64))
    _pair(y, n2)
    s = np.mean([smape(y[i], f[i]) for i in range(len(y))])
    s2 = np.mean([smape(y[i], n2[i]) for i in range(len(y))])
    q = np.mean([mase(insample[i], y[i], f[i], m) for i in range(len(y))])
    q2 = np.mean([mase(insample[i], y[i], n2[i], m) for i in range(len(y))])
    with np.errstate(divide="ignore", invalid="ignore"):      # a perfect Naive2: OWA inf (nan if both are), as in R
        owa = 0.5 * (s / s2 + q / q2)
    return {"sMAPE": float(s), "MASE": float(q), "OWA": float(owa),
            "sMAPE_naive2": float(s2), "MASE_naive2": float(q2), "series": int(len(y))}


# -- Naive2 ----------------------------------------------------------------------------------
def _acf(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelations r_1..r_max_lag as R's ``acf`` (mean removed, denominator n·c0)."""
    d = x - x.mean()
    c0 = float(d @ d)
    return np.array([float(d[k:] @ d[:-k]) / c0 for k in range(1, max_lag + 1)])


def seasonality_test(x, m: int) -> bool:
    """The M4 seasonality test: is |r_m| above the 90 % limit ``1.645·sqrt((1 + 2Σ_{k<m} r_k²)/n)``?

    As in the competition code, a series shorter than ``3m`` is not seasonal, and neither is one
    whose R ``acf`` default lag window (``floor(10·log10(n))`` lags) does not reach lag ``m``."""
    x = np.asarray(x, dtype=np.float64).ravel()
    m = _season(m)
    n = len(x)
    if m <= 1 or n < 3 * m or math.floor(10 * math.log10(n)) < m:
        return False
    if np.all(x == x[0]):                                  # acf undefined (R gives NA -> not seasonal)
        return False
    r = _acf(x, m)
    limit = 1.645 / math.sqrt(n) * math.sqrt(1 + 2 * float(np.sum(r[: m - 1] ** 2)))
    return bool(abs(r[m - 1]) > limit)


def seasonal_indices(x, m: int) -> np.ndarray:
    """Multiplicative seasonal indices of R's ``decompose(type="multiplicative")``, one per point.

    Trend: centred moving average of order ``m`` (weights ½,1,…,1,½ over m+1 points for even m).
    The detrended ratios ``x / trend`` are averaged by position in the cycle counted from the
    first point, and the ``m`` averages are normalised to mean 1."""
    x = np.asarray(x, dtype=np.float64).ravel()
    m = _season(m)
    n = len(x)
    if m <= 1 or n < 2 * m:
        raise LstmkitError(f"a multiplicative decomposition needs m > 1 and at least 2m points (m={m}, n={n})",
                           "use a longer series or no seasonal adjustment")
    w = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    half = len(w) // 2
    trend = np.full(n, np.nan)
    trend[half:n - half] = np.convolve(x, w[::-1], mode="valid")
    # a moving average of 0 (a season of zeros): no ratio there, as its NaN ends; 0/0 warned (RuntimeWarning)
    ratio = np.divide(x, trend, out=np.full(n, np.nan), where=trend != 0)
    figure = np.array([np.nanmean(ratio[i::m]) for i in range(m)])
    figure = figure / figure.mean()
    return np.resize(figure, n)


def naive2(x, h: int, m: int = 1) -> np.ndarray:
    """The M4 Naive2 forecast of ``h`` steps: seasonally adjusted naive, re-seasonalised.

    Without seasonality (m = 1, or the test fails) this is the plain naive forecast."""
    x = np.asarray(x, dtype=np.float64).ravel()
    if len(x) == 0:
        raise LstmkitError("Naive2 needs at least one in-sample point", "pass a non-empty history")
    if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1:
        raise LstmkitError(f"`h` must be a positive integer, got {h!r}", "use the M4 horizon, e.g. 13 for Weekly")
    if not seasonality_test(x, m):
        return np.full(h, x[-1])
    season = seasonal_indices(x, m)
    out_season = np.resize(season[-m:], h)             # the last full cycle, repeated
    # the newest seasonally adjusted value: past a last point whose index is 0 (a position where every value
    # is 0, intermittent data), whose 0/0 made every forecast NaN, and OWA NaN for the whole set
    last = np.flatnonzero(season != 0)[-1]
    return (x[last] / season[last]) * out_season


def _pair(actual, forecast) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(actual, dtype=np.float64)
    f = np.asarray(forecast, dtype=np.float64)
    if y.shape != f.shape:
        raise LstmkitError(f"actual and forecast differ in shape: {y.shape} vs {f.shape}",
                           "forecast exactly the points being scored")
    if y.size == 0:
        raise LstmkitError("nothing to score: no actual values", "pass at least one point")
    return y, f


def _season(m) -> int:
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise LstmkitError(f"the seasonal period m must be a positive integer, got {m!r}",
                           "use the M4 convention: 24 hourly, 1 weekly")
    return int(m)
