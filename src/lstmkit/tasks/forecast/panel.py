"""Many series in one table: read, check, scale per series, split per series, draw windows.

    read_panel(data, cfg)          path / DataFrame / array  ->  Panel (every series in one array)

A single series (no id column) is a panel of one, series id ``"series"``. Scaling is in
:mod:`~lstmkit.tasks.forecast.scalers`, the split and the windows in
:mod:`~lstmkit.tasks.forecast.windows`, calendar features in :mod:`~lstmkit.tasks.forecast.calendar`,
the table's layout (long, wide, M4) in :mod:`~lstmkit.tasks.forecast.columns`.

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

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.data.textfile import row_place
from lstmkit.errors import LstmkitError, callers_level, first_of, opt, worded
from lstmkit.tasks.forecast.bounds import check_inside
from lstmkit.tasks.forecast.calendar import calendar_features, calendar_names, check_calendar_varies, parse_calendar
from lstmkit.tasks.forecast.columns import frame_columns, series_codes
from lstmkit.tasks.forecast.data import check_totals_row, column_list, numeric_column, one_role_each
from lstmkit.tasks.forecast.grid import uneven_steps, warn_uneven_steps
from lstmkit.tasks.forecast.integer_times import CLOCK_TIME
from lstmkit.tasks.forecast.times import (check_one_step, clock_zone, daylight_saving_fold, infer_freq,
                                           missing_steps, reading_zone, regularity, time_text, time_values,
                                           warn_missing_steps)

__all__ = ["Panel", "read_panel", "frac_for"]


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
    n_inserted: int = 0        # rows inserted for dates missing from a series' regular grid (then filled)
    unobserved: np.ndarray | None = None   # [N, T] True on the target cells not observed: every target of a row
                                           # inserted for a missing date, each cell --fill filled (None: none);
                                           # metrics leave them out, each target's own (actual())
    time_info: dict[str, str] = field(default_factory=dict)   # time_note (read as UTC), dates (times.py)
    calendar_zone: str | None = None   # the zone whose local clock the calendar features follow (None: as held)
    whole_ids: bool = False    # the id column holds whole numbers (1, 2, 3): forecasts give the ids as numbers

    @property
    def is_datetime(self) -> bool:
        return self.times is not None and np.issubdtype(self.times.dtype, np.datetime64)

    def shown_ids(self) -> list:
        """The series' ids as the id column holds them: whole numbers as ``int`` (``1``, not the
        text ``"1"`` the panel keys its series by), else texts."""
        return [int(i) for i in self.ids] if self.whole_ids else list(self.ids)

    def actual(self, at: np.ndarray) -> np.ndarray:
        """``values[at]`` (``at``: frame rows of any shape -> ``[..., T]``) with NaN on the cells not
        observed (a --fill run's gaps), which the metrics leave out, each target on its own points: a row
        where one of several targets was filled left out every target's observed value there."""
        vals = self.values[at]
        return vals if self.unobserved is None else np.where(self.unobserved[at], np.nan, vals)

    def rows(self, s: int) -> slice:
        return slice(int(self.starts[s]), int(self.starts[s] + self.lengths[s]))

    def ends(self, series) -> dict[str, str | int]:
        """Each of ``series``' newest time by its id, as run files write it (``time_text``): what a
        many-series run and each update record, so that an update compares a series with its own
        end (series end at different times, and step numbers may count each from its own start)."""
        assert self.times is not None
        return {self.ids[s]: time_text(self.times[int(self.starts[s] + self.lengths[s]) - 1]) for s in series}

    def series_time(self, s: int):
        if self.times is None:
            return None
        t = self.times[self.rows(s)]
        return pd.DatetimeIndex(t) if self.is_datetime else t

    def summary(self) -> dict[str, Any]:
        lengths = self.lengths
        return {**self.time_info,
            "series": len(self.ids), "rows": int(lengths.sum()),
            "length": {"min": int(lengths.min()), "median": float(np.median(lengths)), "max": int(lengths.max())}
            if len(lengths) else None,
            "targets": list(self.target_names), "past_covariates": list(self.past_names),
            "future_covariates": list(self.future_names), "freq": self.freq,
            "n_filled": int(self.n_filled), "n_inserted": int(self.n_inserted), "skipped": list(self.skipped),
        }


def _clock_column(df: pd.DataFrame, time_col: str) -> str | None:
    """The column of ``df`` other than ``time_col`` whose every cell is a time of day (``13:05``,
    ``1:05:00 PM``), or None."""
    for c in df.columns:
        if str(c) != time_col and not pd.api.types.is_numeric_dtype(df[c]):
            text = df[c].astype("string").str.strip()
            if len(text) and text.str.fullmatch(CLOCK_TIME, case=False).fillna(False).all():
                return str(c)
    return None


def read_panel(data, cfg, need: int | None = None, short_fix: str | None = None, run: dict | None = None,
               bounds: str = "auto", fitting: bool = True, by_part=None) -> Panel:
    """Read ``data`` into a :class:`Panel` following ``cfg`` (a ForecastConfig); ``run``: the
    fitted run's data summary (None when fitting), which says on which clock its calendar
    features read the times (:func:`~lstmkit.tasks.forecast.times.clock_zone`); ``bounds``: the
    ``--bounds LOW,HIGH`` every target value must lie within (fit's; ``auto`` / ``none``: no check;
    ``fitting`` False: a fitted run's recorded ones, which an update's data must keep to). ``by_part``
    (default: ``fitting``): ``--fill`` fills each series' training, validation and test parts in turn
    (:func:`_fill`), as a fit and what scores a fitted run's test part read them, so no gap of a part is
    filled from a later part; predict's history is filled as a whole. A function of a series' length
    gives the rows where its parts end instead (an update's: where its held-out points begin).

    ``need`` is the number of observed points a series must have; shorter series are skipped
    and listed in ``Panel.skipped`` (an error when ``cfg.strict``). With ``need=None`` nothing is
    skipped (predict). ``short_fix``: the fix when series are too short (a fitted run's lookback,
    horizon and ``--strict`` are not the user's to change).
    """
    df, id_col, time_col, targets = frame_columns(data, cfg)
    lookup = {str(c): c for c in df.columns}
    targets = column_list("target", targets, lookup, required=True, under_header=df.iloc[0] if len(df) else None)
    if id_col is not None:
        id_col = column_list("id", id_col, lookup, required=True)[0]
    if time_col is not None:
        time_col = column_list("time", [time_col], lookup, required=True)[0]     # a name (commas: year,month)
    past = [c for c in column_list("past covariates", cfg.past_covariates, lookup) if c not in targets]
    n_named_past = len(past)
    past += [c for c in column_list("features", cfg.features, lookup) if c not in targets and c not in past]
    fut = column_list("future covariates", cfg.future_covariates, lookup)
    if set(fut) & set(targets):
        raise LstmkitError(f"{sorted(set(fut) & set(targets))[0]!r} is a target and a future covariate: its future "
                           "values are what is forecast, so they cannot be inputs",
                           f"drop it from {opt('future_covariates')} (its past is already an input)")
    one_role_each(id_col, time_col, {"target": targets, "feature": past, "future covariate": fut})
    both = set(past) & set(fut)
    if both:
        raise LstmkitError(f"column {sorted(both)[0]!r} is both a past and a future covariate",
                           f"list each covariate once: {opt('past_covariates')} or {opt('future_covariates')}")
    calendar = parse_calendar(cfg.calendar)

    n = len(df)
    if time_col is not None:
        ids = None if id_col is None else df[lookup[id_col]]     # the hour shown twice: read per series
        times, time_info = time_values(df[lookup[time_col]], time_col, getattr(cfg, "dates", None),
                                       *reading_zone(cfg, run), groups=ids)
    else:
        times, time_info = None, {}
    if calendar and (times is None or not np.issubdtype(times.dtype, np.datetime64)):
        raise LstmkitError(f"{opt('calendar')} needs dates in the time column",
                           f"pass {opt('time', 'COLUMN', written=True)} holding dates (e.g. 2024-01-31 12:00)")
    num = {c: numeric_column(df[lookup[c]], c).to_numpy() for c in targets}
    roles = {**{c: "past_covariates" for c in past[:n_named_past]}, **{c: "features" for c in past[n_named_past:]},
             **{c: "future_covariates" for c in fut}}
    num.update({c: _covariate_numbers(df[lookup[c]], c, role) for c, role in roles.items()})
    for c, role in roles.items():
        if len(num[c]) and not np.isfinite(num[c]).any():        # --fill cannot fill it: it said to try
            raise LstmkitError(f"covariate column {c!r} is empty in all {len(num[c])} rows",
                               f"drop it from {opt(role)}, or fill it with its values" if run is None else
                               "fill it with its values: the model was trained reading them")
    if time_col is None and id_col is None and cfg.format == "long":
        check_totals_row(df, num, targets)
    if cfg.log:
        _positive_targets(df, lookup, num, targets, id_col)
    check_inside({c: num[c] for c in targets}, bounds, lambda c, pos: _cell_place(df, lookup, c, pos, id_col),
                 fitting=fitting)

    # group rows by series (first appearance order), then by time
    codes, uniq = (series_codes(df[lookup[id_col]], id_col) if id_col is not None
                   else (np.zeros(n, dtype=np.intp), ["series"]))
    order = np.lexsort((times if times is not None else np.arange(n), codes)) if n else np.arange(0)
    codes, ids_sorted = codes[order], [str(u) for u in uniq]
    if times is not None:
        times = times[order]
        dup = (codes[1:] == codes[:-1]) & (times[1:] == times[:-1])
        if dup.any():
            k = int(np.flatnonzero(dup)[0])
            when = time_text(times[k])
            if id_col is not None:
                raise LstmkitError(
                    f"duplicate (id, time) pair: series {ids_sorted[codes[k]]!r}, time {when} appears more than once "
                    f"({int(dup.sum())} duplicated rows)",
                    "each series needs one row per time; aggregate the duplicates first (e.g. groupby([id, time]).mean())")
            zone = daylight_saving_fold(times[k]) if np.issubdtype(times.dtype, np.datetime64) else None
            if zone is not None and dup.sum() <= 4 * (len(times) // 8000 + 1):     # about one hour a year
                raise LstmkitError(
                    f"time {when} appears more than once in column {time_col!r} ({int(dup.sum())} duplicated rows): "
                    f"local time shows that hour twice when clocks go back (as in {zone})",
                    f"{'' if fitting else 'retrain the run '}name the zone they were written in, "
                    f"{worded(f'--time-zone {zone} (Python: time_zone={zone!r})', opt('time_zone', zone))}, say: its "
                    f"clock's repeated hour is read in file order; or write the times with their UTC offset "
                    f"({when}+01:00, say) or in UTC, which read once each")
            clock = _clock_column(df, time_col)
            if clock is not None:              # Date and Time columns, as loggers and spreadsheets split them
                raise LstmkitError(
                    f"time {when} appears more than once in column {time_col!r} ({int(dup.sum())} duplicated rows): "
                    f"it holds the dates, column {clock!r} the times of day",
                    ("pass both as the time, " if fitting else "retrain the run with both as the time, ")
                    + worded(f"--time {time_col},{clock} (Python: time=[{time_col!r}, {clock!r}])",
                             opt("time", [time_col, clock])) + ": "
                    "they are read as one time stamp")
            several = (f"if the table holds several series, name the column that tells them apart with {opt('id')}"
                       if fitting else        # predict, evaluate, update take no --id: the run's one series
                       "the run was trained on one series: if the table holds several, pass the rows of the one "
                       f"to forecast, or train a run with {opt('id')} naming the column that tells them apart")
            raise LstmkitError(
                f"time {when} appears more than once in column {time_col!r} ({int(dup.sum())} duplicated rows)",
                f"{several}; else aggregate the duplicates first (e.g. groupby(time).mean())")
    for c in num:
        num[c] = num[c][order]
    y = np.stack([num[c] for c in targets], 1)                  # targets are required: never none
    pst = np.stack([num[c] for c in past], 1) if past else np.zeros((n, 0))
    fu = np.stack([num[c] for c in fut], 1) if fut else np.zeros((n, 0))

    finite = np.isfinite(y).all(1)
    clean = finite.all() and np.isfinite(pst).all() and np.isfinite(fu).all()    # nothing to fill anywhere
    bounds = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1], True]) if n else np.array([0])
    out_ids, starts, lengths, parts_y, parts_p, parts_f, parts_t, parts_i = [], [], [], [], [], [], [], []
    ahead_f, ahead_t, skipped = [], [], []
    n_filled, pos = 0, 0
    freq = None
    missing: list[tuple[str, int, Any]] = []      # (series, steps missing from its grid, the first one)
    uneven: list[tuple[str, Any]] = []             # (series, how its steps are uneven) of a table with ids
    # nothing to fill, no times to check: each series is its rows, the series read as whole arrays
    whole = _whole_series(bounds, [str(ids_sorted[c]) for c in codes[bounds[:-1]]], y, pst, fu, need) if (
        clean and times is None) else None
    if whole is not None:
        out_ids, starts, lengths, parts_y, parts_p, parts_f, ahead_f, skipped = whole
        parts_i, ahead_t = [None] * len(out_ids), [None] * len(out_ids)
    for a, b in zip(bounds[:-1], bounds[1:]) if whole is None else ():
        sid = str(ids_sorted[codes[a]])
        ys, ps, fs = y[a:b], pst[a:b], fu[a:b]
        ts = times[a:b] if times is not None else None
        # a series' history runs to its last row with any target given: a row where one of several targets
        # is empty is a gap (filled, or refused naming its column), not the first of its future rows, which
        # left the other targets' newest values out and forecast dates the data held without a word
        known = np.flatnonzero(np.isfinite(ys).any(1)) if not clean else None
        if not clean and len(known) == 0:
            skipped.append({"id": sid, "length": 0, "reason": "no target values"})
            continue
        last = int(known[-1]) + 1 if not clean else int(b - a)       # rows after this: future rows
        ys_, ps_, fs_ = ys[:last], ps[:last], fs[:last]
        ts_ = ts[:last] if ts is not None else None
        grid = missing_steps(ts_) if ts_ is not None else None
        unobserved = None
        if grid is not None:                  # dates missing from a regular grid: rows for them, or a warning
            missing.append((sid, len(grid) - last, grid[~np.isin(grid, ts_)][0]))
            if cfg.fill is not None:
                at = np.searchsorted(grid, ts_)
                ys_, ps_, fs_ = (_spread(v, at, len(grid)) for v in (ys_, ps_, fs_))
                ts_ = grid
        if not clean or (grid is not None and cfg.fill is not None):
            gaps = ~np.isfinite(ys_)                              # rows inserted, or empty target cells [m, T]
            unobserved = gaps if gaps.any() else None
            # a wide table's series is its own column: 'value' is a name of the melted table, not the file's
            parts = fitting if by_part is None else by_part
            ends = parts(len(ys_)) if callable(parts) else _part_ends(len(ys_), cfg) if parts else ()
            ys_, k1 = _fill(ys_, cfg.fill, sid, [sid] if cfg.format == "wide" else targets, wide=cfg.format == "wide",
                            ends=ends)
            ps_, k2 = _fill(ps_, cfg.fill, sid, past, ends=ends)
            fs_, k3 = _fill(fs_, cfg.fill, sid, fut, ends=ends)
            n_filled += k1 + k2 + k3
        m = len(ys_)                                               # observed rows (with any inserted)
        if need is not None and m < need:
            skipped.append({"id": sid, "length": m, "need": need, "reason": "shorter than needed"})
            continue
        out_ids.append(sid)
        starts.append(pos)
        lengths.append(m)
        pos += m
        parts_y.append(ys_), parts_p.append(ps_), parts_f.append(fs_)
        parts_i.append(unobserved)                                 # None: every row observed
        if ts_ is not None:
            parts_t.append(ts_)
            dated = np.issubdtype(ts_.dtype, np.datetime64)
            if freq is None and m >= 3 and (dated or id_col is None):
                freq = _infer_freq(pd.DatetimeIndex(ts_)) if dated else None
                if freq is None and id_col is None and grid is None:     # one series: say where its steps jump
                    regularity(ts_, time_col, cfg.fill, use=not fitting,  # or vary (integer steps too)
                               run_freq=(run or {}).get("freq"))
            if id_col is not None and grid is None and (u := uneven_steps(ts_)) is not None:
                uneven.append((sid, u))                                  # many: one warning for the table
        ahead_f.append(fs[last:])
        ahead_t.append(ts[last:] if ts is not None else None)

    if missing:
        warn_missing_steps(missing, time_col, id_col, cfg.fill, use=not fitting, run_freq=(run or {}).get("freq"))
    if uneven:
        warn_uneven_steps(uneven, len(out_ids), time_col, id_col, shared_times=cfg.format == "wide",
                          fill=cfg.fill, use=not fitting, run_freq=(run or {}).get("freq"))
    if not out_ids and all(s["reason"] == "no target values" for s in skipped):
        # every row of every series without a target value: every target column is empty
        raise LstmkitError(f"the target column {targets[0]!r} has no values",
                           f"choose {opt('target')} columns that hold numbers" if fitting else     # the run's target
                           f"pass the history with its values in {targets[0]!r}, the column the run forecasts")
    if skipped and cfg.strict and need is not None:
        s = skipped[0]
        raise LstmkitError(
            f"series {s['id']!r} has {s['length']} points, fewer than the {need} needed "
            f"(lookback + horizon + val/test parts); {len(skipped)} series too short",
            short_fix or "; or ".join(([f"drop {opt('strict', True)} to skip short series with a report"]
                                        if out_ids else []) + [_longer_series(cfg, need, "/")]))
    if not out_ids and id_col is None and len(skipped) == 1 and need is not None:
        from lstmkit.tasks.forecast.windows import uses_fractions
        parts = _parts_below_horizon(skipped[0]["length"], cfg) if uses_fractions(cfg) else []
        n = skipped[0]["length"]
        if parts and not short_fix:                 # the lookback is not what is short: a part under a horizon is
            said = " and ".join(f"{name} part ({100 * getattr(cfg, frac):g} % = {points} points)"
                                for name, points, frac in parts)
            raise LstmkitError(f"{_too_short(n, need, cfg)}: its {said} hold{'s' * (len(parts) == 1)} less than one "
                               "horizon",
                               "pass " + " ".join(f"{opt(frac)} {frac_for(cfg.horizon, n)}" for _, _, frac in parts)
                               + f" (at least {cfg.horizon} points each), a shorter {opt('horizon')}, or more data")
        raise LstmkitError(_too_short(n, need, cfg),
                           short_fix or (f"shorten {opt('lookback')} (or {opt('horizon')}) or supply more data"
                                         if max(cfg.lookback, cfg.horizon) > 1 else f"supply at least {need} rows"))
    if not out_ids:
        detail = f"; e.g. series {skipped[0]['id']!r} has {skipped[0]['length']}" if skipped else ""
        raise LstmkitError(f"no series has the {need} points needed for lookback + horizon + val/test parts{detail}",
                           short_fix or _longer_series(cfg, need, "or"))

    cal_names = calendar_names(calendar)
    cat = (lambda parts, w: np.concatenate(parts) if parts else np.zeros((0, w)))
    values, past_a, fut_a = cat(parts_y, len(targets)), cat(parts_p, len(past)), cat(parts_f, len(fut))
    tt = np.concatenate(parts_t) if parts_t else None
    if freq is not None or (tt is not None and not np.issubdtype(tt.dtype, np.datetime64)):   # integer steps too
        check_one_step(tt, lengths, out_ids, time_col)
    zone = clock_zone(time_info, run)
    if calendar and zone is not None and run is not None and not run.get("time_zone"):
        warnings.warn(f"the run was trained on times without a zone, and these are in {zone}: its calendar features "
                      f"read them on {zone}'s clock, as they read the training times on the clock those showed; if "
                      "those were UTC, give these in UTC too", UserWarning, stacklevel=callers_level())
    if calendar:
        features = calendar_features(tt, calendar, zone)
        if run is None:                          # a fit's: a run trained so before still reads its data
            check_calendar_varies(features, calendar, tt, freq)
        fut_a = np.concatenate([fut_a, features], 1)
        ahead_f = [np.concatenate([f, calendar_features(t, calendar, zone)], 1) for f, t in zip(ahead_f, ahead_t)]
    return Panel(ids=out_ids, starts=np.asarray(starts, dtype=np.int64), lengths=np.asarray(lengths, dtype=np.int64),
                 values=values, past=past_a, future=fut_a, times=tt, target_names=targets, past_names=past,
                 future_names=fut + cal_names, ahead_future=ahead_f, ahead_times=ahead_t, freq=freq,
                 skipped=skipped, n_filled=n_filled, time_info=time_info, calendar_zone=zone,
                 whole_ids=id_col is not None and _whole_numbers(df[lookup[id_col]]),
                 n_inserted=sum(k for _, k, _ in missing) if cfg.fill is not None else 0,
                 unobserved=_unobserved(parts_i, lengths, len(targets)))


def _whole_series(bounds: np.ndarray, sids: list[str], y: np.ndarray, past: np.ndarray, fut: np.ndarray,
                  need: int | None) -> tuple:
    """:func:`read_panel`'s series loop for a table with no time column and no empty cell, as whole arrays:
    series ``j`` is rows ``bounds[j]:bounds[j + 1]`` of ``y``, ``past``, ``fut`` (grouped), named ``sids[j]``;
    one shorter than ``need`` is skipped. ``(ids, starts, lengths, [values], [past], [future], ahead, skipped)``,
    as the loop leaves them (1,024 series took 1,024 turns of it, each slicing and listing its parts)."""
    m = np.diff(bounds)
    keep = m >= need if need is not None else np.ones(len(m), dtype=bool)
    skipped = [{"id": sids[j], "length": int(m[j]), "need": need, "reason": "shorter than needed"}
               for j in np.flatnonzero(~keep)]
    lengths = m[keep].tolist()
    starts = (np.cumsum(lengths) - lengths).tolist() if lengths else []
    rows = np.repeat(keep, m)
    ahead = [fut[e:e] for e in bounds[1:][keep].tolist()]          # no future rows: none after the last value
    return ([sids[j] for j in np.flatnonzero(keep)], starts, lengths, [y[rows]], [past[rows]], [fut[rows]], ahead,
            skipped)


def _unobserved(parts: list, lengths: list[int], n_targets: int) -> np.ndarray | None:
    """The panel's ``unobserved [rows, T]`` of each series' part (None: none of its ``m`` rows unobserved),
    or None when no series has one: a panel of 1,024 whole series built and scanned 1,024 arrays of False."""
    if all(u is None for u in parts):
        return None
    return np.concatenate([u if u is not None else np.zeros((m, n_targets), dtype=bool)
                           for u, m in zip(parts, lengths)])


_WEEKDAYS = {d[:k] for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
             for k in (2, 3, len(d))}
_MONTHS = {m[:k] for m in ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                           "october", "november", "december") for k in (3, len(m))}


def _too_short(n: int, need: int, cfg) -> str:
    """The sentence that opens every error of one series too short to split: its ``n`` rows, the
    ``need`` its lookback, horizon and split take (``70/15/15 splits``, or its val/test parts when
    they are sizes); a part under a horizon adds its own clause after it. Built here alone, so the
    two errors that begin with it cannot say it two ways."""
    from lstmkit.tasks.forecast.windows import uses_fractions
    split = ("/".join(f"{100 * f:g}" for f in (1 - cfg.val_frac - cfg.test_frac, cfg.val_frac, cfg.test_frac))
             + " splits") if uses_fractions(cfg) else "its val/test parts"
    return (f"series too short: {n} rows, need at least {need} for lookback {cfg.lookback} + horizon {cfg.horizon} "
            f"with {split}")


def _longer_series(cfg, need: int, sep: str) -> str:
    """What gives a table's series the ``need`` points their windows take: a shorter lookback or
    horizon while one of them is above 1 (at 1 and 1 'shorten --lookback or --horizon' named what
    cannot be shortened), else longer series."""
    if cfg.lookback is None or cfg.horizon is None or max(cfg.lookback, cfg.horizon) > 1:    # None: still to choose
        return f"shorten {opt('lookback')} {sep} {opt('horizon')}, or supply longer series"
    return f"supply series of at least {need} points (lookback and horizon are 1 already)"


def _covariate_numbers(col: pd.Series, name: str, role: str) -> np.ndarray:
    """A covariate column's numbers (:func:`numeric_column`); a column of labels (a weekday's name, a
    store's region, a promotion's type) is refused as categories, with how to give them as numbers."""
    try:
        return numeric_column(col, name).to_numpy()
    except LstmkitError:
        labels = _categories(col)
        if labels is None:
            raise
    lower = {str(v).lower().rstrip(".") for v in labels}
    made = "weekday" if lower <= _WEEKDAYS else "month" if lower <= _MONTHS else None
    fix = (f"use {opt('calendar', made)}, made from the time column (known ahead too), and drop {name!r} from "
           f"{opt(role)}" if made else
           f"give each category a column of 0/1 (pd.get_dummies(df, columns=[{name!r}], dtype=float)) and pass those "
           f"columns as {opt(role)}; a label fixed for each series (a store's region) is learned by "
           f"{opt('id_embedding', 4)} instead")
    raise LstmkitError(f"covariate column {name!r} holds categories, not numbers: {first_of(labels, 4, repr)} "
                       f"({len(labels)} distinct values); the network reads numbers", fix) from None


def _categories(col: pd.Series) -> list[str] | None:
    """The labels of a column of text labels that repeat (most of its cells not numbers), in order of
    first appearance; None for a column of numbers with a few bad cells, of text that never repeats, or
    of anything but text (dates: their own error)."""
    if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
        return None
    text = col.astype("string").str.strip()
    text = text[text.notna() & (text != "")]
    words = text[pd.to_numeric(text, errors="coerce").isna()]
    if len(words) < 2 or 2 * len(words) < len(text):
        return None
    labels = list(pd.unique(words))
    return labels if 2 * len(labels) <= len(words) else None


def _positive_targets(df: pd.DataFrame, lookup: dict, num: dict, targets: list[str], id_col: str | None) -> None:
    """A run that models logs (``--log``, given or chosen from the data) reads ``log(y)``: the first
    target value at or below 0 is an error naming its cell as the file numbers its rows (the check
    on model units names only its place in the sorted series)."""
    for c in targets:
        bad = np.isfinite(num[c]) & (num[c] <= 0)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            counts = bad.sum() > 1 and not (num[c][bad] < 0).any()
            raise LstmkitError(f"column {c!r} holds {num[c][pos]:g} in {_cell_place(df, lookup, c, pos, id_col)}"
                               f"{'' if bad.sum() == 1 else f' and {int(bad.sum()) - 1} more values at or below 0'}: "
                               f"the run models log values ({opt('log', True)}, given or chosen from the data), which need "
                               "targets above 0",
                               zeros_fix(int(bad.sum()), len(bad)) if counts else
                               f"fix {'that cell' if bad.sum() == 1 else 'those cells'}, shift the series above zero, "
                               f"or train with {worded('--no-log', 'log=False')}")


def zeros_fix(zeros: int, values: int) -> str:
    """The fix for log targets refused over a column's many 0s and no negative value: counts, sales,
    rainfall, whose 0s are data, not cells to fix (the fix said to fix 440 of 600 cells)."""
    auto = worded("--bounds auto", "bounds='auto'")
    return (f"{zeros:,} of its {values:,} values are 0, as counts and sales of intermittent demand are: "
            f"train with {worded('--no-log', 'log=False')} (a series never below 0 is forecast no lower than 0 "
            f"without logs: the floor at 0 of {auto})")


def _cell_place(df: pd.DataFrame, lookup: dict, c: str, pos: int, id_col: str | None) -> str:
    """Where row ``pos`` of column ``c`` is, as the file numbers its rows: ``line 42 (series 'a')``."""
    series = f" (series {str(df[lookup[id_col]].iloc[pos])!r})" if id_col is not None else ""
    return f"{row_place(df[lookup[c]], pos)}{series}"


def _whole_numbers(col: pd.Series) -> bool:
    """Whether an id column holds whole numbers: integers, or floats of whole values (a column
    pandas made float); not yes/no values. A categorical column by its categories (``astype("category")``
    of store numbers: its ids were given back as texts, '1')."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        col = pd.Series(col.cat.categories)
    if pd.api.types.is_bool_dtype(col):
        return False
    if pd.api.types.is_integer_dtype(col):
        return True
    return pd.api.types.is_float_dtype(col) and bool((col.dropna() == col.dropna().round()).all())


def _spread(a: np.ndarray, at: np.ndarray, n: int) -> np.ndarray:
    """Rows ``a`` at positions ``at`` of ``n`` rows, NaN in the others (the missing dates)."""
    out = np.full((n, a.shape[1]), np.nan)
    out[at] = a
    return out


def _part_ends(n: int, cfg) -> tuple[int, ...]:
    """Where a fitted series of ``n`` rows ends its training and its validation part (the split rule
    of :func:`~lstmkit.tasks.forecast.windows.part_sizes`); () when the horizon is not known yet."""
    from lstmkit.tasks.forecast.windows import part_sizes, uses_fractions
    if cfg.horizon is None and not uses_fractions(cfg):
        return ()
    n_train, n_val, _ = part_sizes(n, cfg)
    return tuple(e for e in (n_train, n_train + n_val) if 0 < e < n)


def _fill(a: np.ndarray, fill: str | None, sid: str, names: list[str], wide: bool = False,
          ends: tuple[int, ...] = ()):
    """``a`` with its gaps filled by ``fill``, and how many cells were filled. ``ends``: the rows where
    a fit's training and validation parts end. The rows before each end are filled first from
    themselves alone, so a gap at the end of the training part is carried forward from the
    training part rather than interpolated toward (or filled back from) the validation part's values:
    the scaler, the seasonal indices and the choices measured on the training part read nothing of the
    parts after it. In the validation and test parts, which are scored, ``interpolate`` carries values
    forward too: a window's inputs there would otherwise be drawn toward the values after them, its own
    targets among them, which no forecast made at its origin could read."""
    bad = ~np.isfinite(a)
    if not bad.any():
        return a, 0
    if fill is None:
        cols = np.flatnonzero(bad.any(0))
        j = int(cols[0])
        where = f"column {names[j]!r}" + ("" if wide else f" of series {sid!r}")
        # of several targets (or inputs) each column with gaps: the first alone was named, and its repair
        # was followed by the next column's refusal
        also = "".join(f", {names[int(c)]!r} ({int(bad[:, c].sum())})" for c in cols[1:4])
        also += f" and {len(cols) - 4} more columns" if len(cols) > 4 else ""
        raise LstmkitError(f"empty or non-finite cells in {where} ({int(bad[:, j].sum())} of {len(a)} rows)"
                           + (f"; also in {also[2:]}" if also else ""),
                           "clean the data, or train with " + worded("--fill ffill|interpolate|zero",
                                                                     "fill='ffill' (or 'interpolate', 'zero')")
                           + " (its runs repair them at prediction too)")
    df = pd.DataFrame(a)
    if df.isna().all().any():
        j = int(np.flatnonzero(df.isna().all().to_numpy())[0])
        raise LstmkitError(f"column {names[j]!r} has no values in series {sid!r}", "supply values for every series")
    if fill == "zero":
        return df.fillna(0.0).to_numpy(), int(bad.sum())
    out = df.to_numpy(dtype=np.float64, copy=True)
    for k, end in enumerate((*ends, len(out))):    # a column empty throughout a part is filled from the next one
        part = pd.DataFrame(out[:end])
        if fill == "interpolate" and k == 0:
            part = part.interpolate(method="linear", limit_direction="both")
        out[:end] = part.ffill().bfill().to_numpy()
    return out, int(bad.sum())


def _infer_freq(index: pd.DatetimeIndex) -> str | None:
    try:
        return infer_freq(index)
    except (TypeError, ValueError):
        return None


def _parts_below_horizon(n: int, cfg) -> list[tuple[str, int, str]]:
    """``(part, points, fraction field)`` of each of a series' validation and test parts that its
    fractions make shorter than one horizon (``n`` points), when the training part still holds a window
    with each such part grown to a horizon; [] otherwise (then more data is what it takes). Half-hourly
    solar generation (sktime's, 289 points) with ``--horizon 48``: 15 % is 43 validation points, and the
    error said to shorten the lookback that the defaults had chosen."""
    sizes = {frac: round(n * getattr(cfg, frac)) for frac in ("val_frac", "test_frac")}
    grown = sum(max(k, cfg.horizon) if getattr(cfg, frac) > 0 else 0 for frac, k in sizes.items())
    if n - grown < cfg.lookback + cfg.horizon:
        return []
    return [(name, sizes[frac], frac) for name, frac in (("validation", "val_frac"), ("test", "test_frac"))
            if getattr(cfg, frac) > 0 and sizes[frac] < cfg.horizon]


def frac_for(horizon: int, n: int) -> str:
    """The smallest fraction in hundredths whose part of ``n`` points, rounded as the split rounds it
    (``windows.part_sizes``), holds ``horizon``: 60 points and a horizon of 10 take 16 % (9.6 points, split
    as 10), where the ceiling of 100 * 10 / 60 said 17 %."""
    k = max(1, 100 * (horizon - 1) // n)       # its part holds at most horizon - 1 points
    while round(n * (k / 100)) < horizon:
        k += 1
    return f"{k / 100:g}"

