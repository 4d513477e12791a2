"""Many series in one table: read, check, scale per series, split per series, draw windows.

    read_panel(data, cfg)          path / DataFrame  ->  Panel (every series in one array)
    PanelScaler                    per-series loc/scale of the targets, fitted on each train part
    split_panel(panel, cfg)        (series, offset) window index of train / val / test
    PanelBatches                   mini-batches gathered from the concatenated arrays
    calendar_features(times, spec) hour / weekday / month (sin, cos) and holiday flags

All series live in one ``[N, C]`` array, series ``s`` at rows ``starts[s] : starts[s] + lengths[s]``.
A window is one integer, the row of its first input step; a batch gathers
``rows[idx, None] + arange(lookback)`` from the array, so memory stays at the size of the data and
only the batch is ever copied (the many-series form of :mod:`lstmkit.data.windows`).

Per series, in time order::

    | train ........................ | val (val_size) | test (test_size) | future rows (predict) |

A window belongs to the part that holds all of its ``horizon`` targets; its inputs may reach back
into earlier parts. Rows after a series' last target value are *future rows*: their future
covariates feed the forecast in ``predict`` (the target is unknown there).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.data import _column_list, _numeric_column, _parse_time, load_table

__all__ = ["PANEL_SCALERS", "Panel", "read_panel", "PanelScaler", "seasonal_profile", "split_panel", "PanelBatches",
           "calendar_features", "parse_calendar", "CALENDAR"]

CALENDAR = ("hour", "weekday", "month", "holidays")
PANEL_SCALERS = ("minmax", "standard", "mase", "none")
_PERIODS = {"hour": 24, "weekday": 7, "month": 12}


# -- the panel -------------------------------------------------------------------------------
@dataclass
class Panel:
    """Every series of a table, concatenated.

    ``values [N, T]`` targets, ``past [N, P]`` past-only covariates, ``future [N, F]`` future-known
    covariates (user columns, then calendar features), all float64 in original units; ``times [N]``
    (datetime64 or int64, or None). ``ahead_future[s] [k_s, F]`` / ``ahead_times[s]`` are the rows
    after series ``s``'s last target value.
    """

    ids: list[str]
    starts: np.ndarray
    lengths: np.ndarray
    values: np.ndarray
    past: np.ndarray
    future: np.ndarray
    times: np.ndarray | None
    target_names: list[str]
    past_names: list[str]
    future_names: list[str]
    ahead_future: list[np.ndarray] = field(default_factory=list)
    ahead_times: list[np.ndarray | None] = field(default_factory=list)
    freq: str | None = None
    skipped: list[dict[str, Any]] = field(default_factory=list)
    n_filled: int = 0

    @property
    def is_datetime(self) -> bool:
        return self.times is not None and np.issubdtype(self.times.dtype, np.datetime64)

    def rows(self, s: int) -> slice:
        return slice(int(self.starts[s]), int(self.starts[s] + self.lengths[s]))

    def series_time(self, s: int):
        if self.times is None:
            return None
        t = self.times[self.rows(s)]
        return pd.DatetimeIndex(t) if self.is_datetime else t

    def summary(self) -> dict[str, Any]:
        lengths = self.lengths
        return {
            "series": len(self.ids), "rows": int(lengths.sum()),
            "length": {"min": int(lengths.min()), "median": float(np.median(lengths)), "max": int(lengths.max())}
            if len(lengths) else None,
            "targets": list(self.target_names), "past_covariates": list(self.past_names),
            "future_covariates": list(self.future_names), "freq": self.freq,
            "n_filled": int(self.n_filled), "skipped": list(self.skipped),
        }


def read_panel(data, cfg, need: int | None = None) -> Panel:
    """Read ``data`` into a :class:`Panel` following ``cfg`` (a ForecastConfig).

    ``need`` is the number of observed points a series must have; shorter series are skipped
    and listed in ``Panel.skipped`` (an error when ``cfg.strict``). With ``need=None`` nothing is
    skipped (predict).
    """
    df, id_col, time_col, targets = _frame(data, cfg)
    lookup = {str(c): c for c in df.columns}
    targets = _column_list("target", targets, lookup, required=True)
    if id_col is not None:
        id_col = _column_list("id", id_col, lookup, required=True)[0]
    if time_col is not None:
        time_col = _column_list("time", time_col, lookup, required=True)[0]
    past = [c for c in _column_list("past covariates", cfg.past_covariates, lookup) if c not in targets]
    past += [c for c in _column_list("features", cfg.features, lookup) if c not in targets and c not in past]
    fut = [c for c in _column_list("future covariates", cfg.future_covariates, lookup) if c not in targets]
    both = set(past) & set(fut)
    if both:
        raise LstmkitError(f"column {sorted(both)[0]!r} is both a past and a future covariate",
                           "list each covariate once: --past-covariates or --future-covariates")
    calendar = parse_calendar(cfg.calendar)

    n = len(df)
    ids = (df[lookup[id_col]].astype(str).to_numpy() if id_col is not None else np.full(n, "series"))
    if time_col is not None:
        tcol = df[lookup[time_col]]
        if pd.api.types.is_integer_dtype(tcol):
            times = tcol.to_numpy(dtype=np.int64)
        else:
            times = pd.DatetimeIndex(_parse_time(tcol, time_col)).as_unit("ns").to_numpy()
    else:
        times = None
    if calendar and (times is None or not np.issubdtype(times.dtype, np.datetime64)):
        raise LstmkitError("--calendar needs dates in the time column",
                           "pass --time COLUMN holding dates (e.g. 2024-01-31 12:00)")
    num = {c: _numeric_column(df[lookup[c]], c).to_numpy() for c in targets + past + fut}

    # group rows by series (first appearance order), then by time
    codes, uniq = pd.factorize(ids, sort=False)
    order = np.lexsort((times if times is not None else np.arange(n), codes)) if n else np.arange(0)
    codes, ids_sorted = codes[order], uniq
    if times is not None:
        times = times[order]
        dup = (codes[1:] == codes[:-1]) & (times[1:] == times[:-1])
        if dup.any():
            k = int(np.flatnonzero(dup)[0])
            when = pd.Timestamp(times[k]).isoformat() if np.issubdtype(times.dtype, np.datetime64) else int(times[k])
            who = f"series {ids_sorted[codes[k]]!r}, " if id_col is not None else ""
            raise LstmkitError(
                f"duplicate (id, time) pair: {who}time {when} appears more than once ({int(dup.sum())} duplicated rows)",
                "each series needs one row per time; aggregate the duplicates first (e.g. groupby([id, time]).mean())")
    for c in num:
        num[c] = num[c][order]
    y = np.stack([num[c] for c in targets], 1) if targets else np.zeros((n, 0))
    pst = np.stack([num[c] for c in past], 1) if past else np.zeros((n, 0))
    fu = np.stack([num[c] for c in fut], 1) if fut else np.zeros((n, 0))

    bounds = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1], True]) if n else np.array([0])
    out_ids, starts, lengths, parts_y, parts_p, parts_f, parts_t = [], [], [], [], [], [], []
    ahead_f, ahead_t, skipped = [], [], []
    n_filled, pos = 0, 0
    freq = None
    for a, b in zip(bounds[:-1], bounds[1:]):
        sid = str(ids_sorted[codes[a]])
        ys, ps, fs = y[a:b], pst[a:b], fu[a:b]
        ts = times[a:b] if times is not None else None
        known = np.flatnonzero(np.isfinite(ys).all(1))
        if len(known) == 0:
            skipped.append({"id": sid, "length": 0, "reason": "no target values"})
            continue
        last = int(known[-1]) + 1                       # rows after this: future rows
        ys_, ps_, fs_ = ys[:last], ps[:last], fs[:last]
        ys_, k1 = _fill(ys_, cfg.fill, sid, targets)
        ps_, k2 = _fill(ps_, cfg.fill, sid, past, allow_empty_column=False)
        fs_, k3 = _fill(fs_, cfg.fill, sid, fut, allow_empty_column=False)
        n_filled += k1 + k2 + k3
        if need is not None and last < need:
            skipped.append({"id": sid, "length": last, "need": need, "reason": "shorter than needed"})
            continue
        out_ids.append(sid)
        starts.append(pos)
        lengths.append(last)
        pos += last
        parts_y.append(ys_), parts_p.append(ps_), parts_f.append(fs_)
        if ts is not None:
            parts_t.append(ts[:last])
            if freq is None and np.issubdtype(ts.dtype, np.datetime64) and last >= 3:
                freq = _infer_freq(pd.DatetimeIndex(ts[:last]))
        ahead_f.append(fs[last:])
        ahead_t.append(ts[last:] if ts is not None else None)

    if skipped and cfg.strict and need is not None:
        s = skipped[0]
        raise LstmkitError(
            f"series {s['id']!r} has {s['length']} points, fewer than the {need} needed "
            f"(lookback + horizon + val/test parts); {len(skipped)} series too short",
            "drop --strict to skip short series with a report, or shorten --lookback / --horizon")
    if not out_ids:
        detail = f"; e.g. series {skipped[0]['id']!r} has {skipped[0]['length']}" if skipped else ""
        raise LstmkitError(f"no series has the {need} points needed for lookback + horizon + val/test parts{detail}",
                           "shorten --lookback or --horizon, or supply longer series")

    cal_names = calendar_names(calendar)
    cat = (lambda parts, w: np.concatenate(parts) if parts else np.zeros((0, w)))
    values, past_a, fut_a = cat(parts_y, len(targets)), cat(parts_p, len(past)), cat(parts_f, len(fut))
    tt = np.concatenate(parts_t) if parts_t else None
    if calendar:
        fut_a = np.concatenate([fut_a, calendar_features(tt, calendar)], 1)
        ahead_f = [np.concatenate([f, calendar_features(t, calendar)], 1) for f, t in zip(ahead_f, ahead_t)]
    return Panel(ids=out_ids, starts=np.asarray(starts, dtype=np.int64), lengths=np.asarray(lengths, dtype=np.int64),
                 values=values, past=past_a, future=fut_a, times=tt, target_names=targets, past_names=past,
                 future_names=fut + cal_names, ahead_future=ahead_f, ahead_times=ahead_t, freq=freq,
                 skipped=skipped, n_filled=n_filled)


def _frame(data, cfg) -> tuple[pd.DataFrame, str | None, str | None, list[str]]:
    """The long table and its id / time / target columns (M4's wide files are made long here)."""
    if cfg.format == "m4":
        if not isinstance(data, (str, bytes)) and not hasattr(data, "__fspath__"):
            if isinstance(data, pd.DataFrame) and {"id", "t", "value"} <= set(map(str, data.columns)):
                return data, "id", "t", list(cfg.target) or ["value"]
            raise LstmkitError("--format m4 reads a file path", "pass the path of an M4 *-train.csv file")
        from lstmkit.tasks.forecast.m4 import read_m4_wide
        return read_m4_wide(data), "id", "t", list(cfg.target) or ["value"]
    if cfg.format != "long":
        raise LstmkitError(f"unknown data format {cfg.format!r}", "use long or m4")
    return load_table(data), cfg.id, cfg.time, list(cfg.target)


def _fill(a: np.ndarray, fill: str | None, sid: str, names: list[str], allow_empty_column: bool = True):
    bad = ~np.isfinite(a)
    if not bad.any():
        return a, 0
    if fill is None:
        j = int(np.flatnonzero(bad.any(0))[0])
        raise LstmkitError(f"empty or non-finite cells in column {names[j]!r} of series {sid!r} "
                           f"({int(bad[:, j].sum())} of {len(a)} rows)",
                           "repair them with --fill ffill|interpolate, or clean the data")
    df = pd.DataFrame(a)
    if df.isna().all().any():
        j = int(np.flatnonzero(df.isna().all().to_numpy())[0])
        raise LstmkitError(f"column {names[j]!r} has no values in series {sid!r}", "supply values for every series")
    if fill == "interpolate":
        df = df.interpolate(method="linear", limit_direction="both")
    return df.ffill().bfill().to_numpy(), int(bad.sum())


def _infer_freq(index: pd.DatetimeIndex) -> str | None:
    from lstmkit.tasks.forecast.data import _infer_freq as infer
    try:
        return infer(index)
    except (TypeError, ValueError):
        return None


# -- calendar features -------------------------------------------------------------------------
def parse_calendar(spec) -> list[tuple[str, str | None]]:
    """``"hour,weekday,holidays:US"`` or a list -> ``[("hour", None), ..., ("holidays", "US")]``."""
    if spec is None:
        return []
    items = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else [str(s).strip() for s in spec]
    out = []
    for item in filter(None, items):
        name, _, arg = item.partition(":")
        name = name.strip().lower()
        if name not in CALENDAR:
            raise LstmkitError(f"unknown calendar feature {item!r}", f"use any of: {', '.join(CALENDAR)} "
                               "(holidays:CC for a country code, e.g. holidays:US)")
        if name == "holidays":
            arg = (arg.strip() or "US").upper()
            import holidays
            if arg not in holidays.list_supported_countries():
                raise LstmkitError(f"unknown holiday country {arg!r}", "use an ISO code such as US, GB, DE, FR")
        out.append((name, arg or None))
    return out


def calendar_names(calendar: list[tuple[str, str | None]]) -> list[str]:
    names = []
    for name, arg in calendar:
        names += [f"holiday_{arg}"] if name == "holidays" else [f"{name}_sin", f"{name}_cos"]
    return names


def calendar_features(times, calendar) -> np.ndarray:
    """``[N, K]`` features of datetime64 ``times``: sin/cos of hour, weekday, month; 0/1 holidays."""
    if isinstance(calendar, (str, list)) and calendar and not isinstance(calendar[0], tuple):
        calendar = parse_calendar(calendar)
    idx = pd.DatetimeIndex(times if times is not None else [])
    cols = []
    for name, arg in calendar:
        if name == "holidays":
            import holidays
            years = sorted(set(idx.year)) or [2000]
            days = holidays.country_holidays(arg, years=years)
            cols.append(np.array([d in days for d in idx.date], dtype=np.float64))
            continue
        v = {"hour": idx.hour, "weekday": idx.day_of_week, "month": idx.month - 1}[name].to_numpy(dtype=np.float64)
        angle = 2 * np.pi * v / _PERIODS[name]
        cols += [np.sin(angle), np.cos(angle)]
    return np.stack(cols, 1) if cols else np.zeros((len(idx), 0))


def future_times(last, freq: str | None, horizon: int, history=None) -> np.ndarray:
    """The ``horizon`` time stamps after ``last`` (datetime: by ``freq`` or the typical step; int: +1)."""
    if isinstance(last, (np.integer, int)):
        return np.arange(int(last) + 1, int(last) + 1 + horizon, dtype=np.int64)
    last = pd.Timestamp(last)
    if freq is not None:
        return pd.date_range(last, periods=horizon + 1, freq=freq)[1:].as_unit("ns").to_numpy()
    step = pd.Series(pd.DatetimeIndex(history)).diff().median() if history is not None and len(history) > 1 \
        else pd.Timedelta(1, "D")
    return pd.DatetimeIndex([last + step * k for k in range(1, horizon + 1)]).as_unit("ns").to_numpy()


# -- per-series scaling ------------------------------------------------------------------------
class PanelScaler:
    """Per-series, per-target affine scaling ``(y - loc) / scale`` fitted on each train part.

    ``kind``: ``minmax`` (loc = min, scale = max - min), ``standard`` (mean, std), ``mase``
    (mean, and the series' MASE scale: the mean absolute change over ``lag`` steps, the
    in-sample seasonal naive error -- with ``relative`` inputs the loss is then in the units of
    the metric, the same for every series whatever its level) or ``none``.
    A constant series gets scale 1. ``to_dict`` is plain JSON keyed by series id.
    """

    def __init__(self, kind: str = "minmax", lag: int = 1):
        if kind not in PANEL_SCALERS:
            raise LstmkitError(f"unknown scaler kind {kind!r}", f"use one of: {', '.join(PANEL_SCALERS)}")
        self.kind, self.lag = kind, int(lag)
        self.params: dict[str, tuple[list[float], list[float]]] = {}

    def fit_one(self, sid: str, train: np.ndarray, unadjusted: np.ndarray | None = None) -> "PanelScaler":
        """Fit series ``sid`` on its train part ``[n, T]``. ``unadjusted``: the same values before
        seasonal adjustment, which the ``mase`` scale is measured on (as the metric measures it)."""
        t = np.asarray(train, dtype=np.float64)
        if self.kind == "minmax":
            loc, scale = t.min(0), t.max(0) - t.min(0)
        elif self.kind == "standard":
            loc, scale = t.mean(0), t.std(0)
        elif self.kind == "mase":
            loc = t.mean(0)
            u = t if unadjusted is None else np.asarray(unadjusted, dtype=np.float64)
            lag = self.lag if len(u) > self.lag else 1          # too short for one season: one-step changes
            d = np.abs(u[lag:] - u[:-lag])
            ok = np.isfinite(d)                                   # missing values left out
            scale = np.where(ok, d, 0).sum(0) / np.maximum(ok.sum(0), 1)
        else:
            loc, scale = np.zeros(t.shape[1]), np.ones(t.shape[1])
        scale = np.where(np.isfinite(scale) & (scale > 1e-12), scale, 1.0)
        self.params[sid] = ([float(v) for v in loc], [float(v) for v in scale])
        return self

    def get(self, sid: str) -> tuple[np.ndarray, np.ndarray]:
        loc, scale = self.params[sid]
        return np.asarray(loc), np.asarray(scale)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "lag": self.lag,
                "series": {k: {"loc": v[0], "scale": v[1]} for k, v in self.params.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PanelScaler":
        s = cls(d["kind"], d.get("lag", 1))
        s.params = {k: (list(v["loc"]), list(v["scale"])) for k, v in d["series"].items()}
        return s


def seasonal_profile(values: np.ndarray, m: int) -> np.ndarray:
    """Additive seasonal indices ``[m, T]`` of ``values [n, T]`` by classical decomposition.

    The trend is the centred moving average over one season (2 x m for even m, as in
    ``statsmodels.tsa.seasonal_decompose``); the index of phase k is the mean of the detrended
    values at positions ``k, k + m, ...`` (phase 0 is the first value), centred to sum to zero.
    Missing values are left out; a phase with no detrended value, or a series shorter than
    ``m + 1`` points, gets 0 (no seasonal adjustment)."""
    x = np.asarray(values, dtype=np.float64)
    n, T = x.shape
    w = np.full(m + 1, 1.0 / m) if m % 2 == 0 else np.full(m, 1.0 / m)
    if m % 2 == 0:
        w[0] = w[-1] = 0.5 / m
    off = (len(w) - 1) // 2
    out = np.zeros((m, T))
    if n < len(w):
        return out
    phase = (np.arange(n - len(w) + 1) + off) % m
    for j in range(T):
        trend = np.convolve(x[:, j], w, mode="valid")           # NaN wherever a missing value is in reach
        detrended = x[off:off + len(trend), j] - trend
        ok = np.isfinite(detrended)
        count = np.bincount(phase[ok], minlength=m)
        total = np.bincount(phase[ok], detrended[ok], minlength=m)
        idx = np.divide(total, count, out=np.zeros(m), where=count > 0)
        if (count > 0).any():
            idx[count > 0] -= idx[count > 0].mean()
        out[:, j] = idx
    return out


# -- splits and windows ------------------------------------------------------------------------
def part_sizes(n: int, cfg) -> tuple[int, int, int]:
    """Per-series ``(n_train, n_val, n_test)``: fixed sizes when set, else the fractions."""
    if cfg.val_size is not None or cfg.test_size is not None or cfg.id is not None or cfg.format == "m4":
        n_val = cfg.horizon if cfg.val_size is None else int(cfg.val_size)
        n_test = cfg.horizon if cfg.test_size is None else int(cfg.test_size)
    else:
        n_val, n_test = round(n * cfg.val_frac), round(n * cfg.test_frac)
    return n - n_val - n_test, n_val, n_test


def min_points(cfg) -> int:
    """Observed points a series needs: one training window plus its val and test parts."""
    if cfg.val_size is not None or cfg.test_size is not None or cfg.id is not None or cfg.format == "m4":
        n_val = cfg.horizon if cfg.val_size is None else int(cfg.val_size)
        n_test = cfg.horizon if cfg.test_size is None else int(cfg.test_size)
        return cfg.lookback + cfg.horizon + n_val + n_test
    # fractions: the smallest length whose rounding leaves room (as data.split_sizes)
    from lstmkit.tasks.forecast.data import _min_length
    return _min_length(cfg.lookback, cfg.horizon, cfg.val_frac, cfg.test_frac)


def split_panel(panel: Panel, cfg) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{"train"|"val"|"test": (rows [W], series [W])}``: first input row and series of each window."""
    L, H = cfg.lookback, cfg.horizon
    out = {k: ([], []) for k in ("train", "val", "test")}
    for s, (start, n) in enumerate(zip(panel.starts, panel.lengths)):
        n_train, n_val, n_test = part_sizes(int(n), cfg)
        bounds = {"train": (0, n_train), "val": (n_train, n_train + n_val), "test": (n_train + n_val, int(n))}
        for part, (first, end) in bounds.items():
            lo, hi = max(first - L, 0), end - L - H + 1            # offsets o: targets in [first, end)
            if hi > lo:
                out[part][0].append(np.arange(lo, hi, dtype=np.int64) + int(start))
                out[part][1].append(np.full(hi - lo, s, dtype=np.int64))
    return {k: (torch.from_numpy(np.concatenate(r) if r else np.zeros(0, np.int64)),
                torch.from_numpy(np.concatenate(i) if i else np.zeros(0, np.int64)))
            for k, (r, i) in out.items()}


class PanelBatches:
    """Mini-batches ``((x, series, future), y)`` gathered from the concatenated arrays.

    ``inputs [N, C]`` model inputs per row, ``targets [N, T]``, ``future [N, F]`` future-known
    covariates; ``rows`` / ``series`` from :func:`split_panel`. Each batch is
    ``x [B, L, C]``, ``series [B]``, ``future [B, H, F]`` and ``y [B, H, T]``.

    With ``samples`` set (training), each pass draws that many windows instead of visiting every
    one: a series uniformly at random, then one of its windows uniformly, so every series weighs
    the same however long it is and an epoch costs the same however much data there is.
    """

    def __init__(self, inputs: torch.Tensor, targets: torch.Tensor, future: torch.Tensor, rows: torch.Tensor,
                 series: torch.Tensor, lookback: int, horizon: int, batch_size: int, shuffle: bool = False,
                 samples: int | None = None):
        self.inputs, self.targets, self.future = inputs, targets, future
        self.rows, self.series = rows, series
        self.L, self.H, self.batch_size, self.shuffle = lookback, horizon, batch_size, shuffle
        self.samples = samples
        self._ar_l = torch.arange(lookback)
        self._ar_h = torch.arange(lookback, lookback + horizon)
        if samples is not None and len(series):
            # windows of one series are contiguous in ``rows``: first position and count per series
            change = torch.ones(len(series), dtype=torch.bool)
            change[1:] = series[1:] != series[:-1]
            self._first = torch.nonzero(change).flatten()
            self._count = torch.diff(torch.cat([self._first, torch.tensor([len(series)])]))

    @property
    def n_samples(self) -> int:
        return len(self.rows) if self.samples is None else int(self.samples)

    def __len__(self) -> int:
        return math.ceil(self.n_samples / self.batch_size)

    def __iter__(self):
        m = self.n_samples
        if self.samples is not None:
            pick = torch.randint(len(self._first), (m,))
            perm = self._first[pick] + (torch.rand(m) * self._count[pick]).long().clamp_max(self._count[pick] - 1)
        else:
            perm = torch.randperm(m) if self.shuffle else None
        for start in range(0, m, self.batch_size):
            sel = perm[start:start + self.batch_size] if perm is not None else slice(start, start + self.batch_size)
            r, s = self.rows[sel], self.series[sel]
            x = self.inputs[r[:, None] + self._ar_l]                      # [B, L, C]
            tgt = r[:, None] + self._ar_h
            yield (x, s, self.future[tgt]), self.targets[tgt]             # future [B, H, F], y [B, H, T]
