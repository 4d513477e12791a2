"""Per-series scaling of the targets and the seasonal indices removed before the network.

    PanelScaler                    per-series loc/scale of the targets, fitted on each train part
    seasonal_profile(values, m)    additive seasonal indices by classical decomposition
    trend_weights(m)               its centred moving average's weights
    centred_indices(total, count)  its indices from per-phase sums (a stream keeps the sums)

A single series is a panel of one: it gets the same scaler (one entry) as each of many series.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from lstmkit.data.ranges import FAR_OUTSIDE, far_outside, far_outside_words, reach, read_range
from lstmkit.data.scaling import spread_or_size
from lstmkit.errors import LstmkitError, callers_level, opt, warnings_caught
from lstmkit.tasks.forecast.checks import SCALERS

__all__ = ["PanelScaler", "seasonal_profile", "trend_weights", "centred_indices", "check_season_measured",
           "say_far_outside", "far_outside_note", "say_covariates_far_outside",
           "covariates_far_outside_note"]

class PanelScaler:
    """Per-series, per-target affine scaling ``(y - loc) / scale`` fitted on each train part.

    ``kind``: ``minmax`` (loc = min, scale = max - min), ``standard`` (mean, std), ``mase``
    (mean, and the series' MASE scale: the mean absolute change over ``lag`` steps, the
    in-sample seasonal naive error -- with ``relative`` inputs the loss is then in the units of
    the metric, the same for every series whatever its level) or ``none``.
    A constant series (its scale 0, or below 1e-12 of its largest magnitude: rounding) is scaled
    by that magnitude (an all-zero one by 1); a series of tiny values (say 1e-15 A) keeps its own (:func:`~lstmkit.data.scaling.spread_or_size`). ``to_dict`` is plain JSON keyed by series id.
    Each series also keeps the range of its scaled train part (``lo``, ``hi``; runs saved before
    have none), so that a window far outside it can be told (:meth:`far_outside`).
    """

    def __init__(self, kind: str = "minmax", lag: int = 1):
        if kind not in SCALERS:
            raise LstmkitError(f"unknown scaler kind {kind!r}", f"use one of: {', '.join(SCALERS)}")
        self.kind, self.lag = kind, int(lag)
        self.params: dict[str, tuple[list[float], list[float]]] = {}
        self.ranges: dict[str, tuple[list[float], list[float]]] = {}
        self.targets: list[str] = []          # the target columns, in order: a warning names the one far outside

    def fit_one(self, sid: str, train: np.ndarray, unadjusted: np.ndarray | None = None) -> PanelScaler:
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
        size = np.nanmax(np.abs(t), axis=0, initial=0.0) if t.size else np.zeros(t.shape[1])
        # a constant series by its own size, as any other is: the network's small offset from 0 is then a
        # share of its level (a flat 2e-6 was forecast as 2e-6 + 0.0003, in units of 1); an all-zero one by 1
        scale = spread_or_size(scale, size) if self.kind != "none" else np.ones(t.shape[1])
        self.params[sid] = ([float(v) for v in loc], [float(v) for v in scale])
        z = (t - loc) / scale
        if np.isfinite(z).any(0).all():
            self.ranges[sid] = ([float(v) for v in np.nanmin(z, 0)], [float(v) for v in np.nanmax(z, 0)])
        return self

    def far_outside(self, sid: str, z: np.ndarray) -> tuple[int, float] | None:
        """``(target, distance)`` of the first target whose scaled values ``z [n, T]`` reach more than
        :data:`~lstmkit.data.ranges.FAR_OUTSIDE` times the width of series ``sid``'s scaled train range
        beyond that range (the network extrapolates there); None when none does, or the range is
        unknown or has no width."""
        r = self.ranges.get(sid)
        if r is None:
            return None
        zmin, zmax = z.min(0), z.max(0)          # a few calls: it runs on predict's one-window lane too
        if np.isnan(zmin).any():                  # missing values: the others decide (none: NaN, no finding)
            with warnings_caught():
                warnings.simplefilter("ignore", RuntimeWarning)
                zmin, zmax = np.nanmin(z, 0), np.nanmax(z, 0)
        return far_outside(r[0], r[1], zmin, zmax)

    def reach(self, sid: str) -> tuple[np.ndarray, np.ndarray] | None:
        """``(low, high)`` per target: scaled values outside them may be :meth:`far_outside` series
        ``sid``'s range, values within never are (a one-comparison screen for a stream's every step);
        None when its range is unknown."""
        r = self.ranges.get(sid)
        return None if r is None else reach(r[0], r[1])

    def get(self, sid: str) -> tuple[np.ndarray, np.ndarray]:
        loc, scale = self.params[sid]
        return np.asarray(loc), np.asarray(scale)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "lag": self.lag,
                "series": {k: {"loc": v[0], "scale": v[1], **_range_dict(self.ranges.get(k))}
                           for k, v in self.params.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PanelScaler:
        s = cls(d["kind"], d.get("lag", 1))
        s.params = {k: (_numbers(v["loc"], f"loc of series {k!r}", 0), _numbers(v["scale"], f"scale of series {k!r}",
                                                                             1e-300))
                    for k, v in d["series"].items()}
        s.ranges = {k: (v["lo"], v["hi"]) for k, v in d["series"].items() if _finite_lists(v.get("lo"), v.get("hi"))}
        return s


def say_far_outside(scaler: PanelScaler, ids, z: np.ndarray, raw: np.ndarray, to_original, adjusted: bool,
                    subject=None, answer: str = "the forecast") -> None:
    """A warning for the first series ``ids[k]`` whose scaled window ``z[k] [L, T]`` lies
    :meth:`PanelScaler.far_outside` its train range: a forecast from values the network never saw
    (other units, a level far beyond training) is finite, and may be far off. ``raw [S, L, T]``:
    the windows in original units (or lists of ``[n_k, T]`` arrays); ``to_original`` maps model units
    to original ones (``exp`` after ``--log``); ``adjusted``: the range is of seasonally adjusted values
    (``--deseason``); ``subject(k)``, ``answer``: as :func:`far_outside_note` words them. How many more
    series are so is said too."""
    ids = list(ids)
    notes = [note for k in _maybe_far(scaler, ids, z)
             if (note := far_outside_note(scaler, ids[k], z[k], raw[k], to_original, adjusted,
                                          None if subject is None else subject(k), answer)) is not None]
    if notes:
        warnings.warn(notes[0] + _more(len(notes) - 1), UserWarning, stacklevel=callers_level())


def _maybe_far(scaler: PanelScaler, ids, z) -> list[int]:
    """The places ``k`` of the series whose windows ``z[k]`` :func:`say_far_outside` must check: of many
    windows stacked in one array ``[S, L, T]`` (a panel's predict), only those reaching near or past
    :func:`~lstmkit.data.ranges.reach` of their range (or holding a missing value), found for all at
    once; the check itself then decides. 1,024 series in range: 3.5 ms, where checking each took 55 ms."""
    n = len(ids)
    if n < _SCREEN_FROM or not isinstance(z, np.ndarray) or z.ndim != 3 or len(z) != n:
        return list(range(n))
    T = z.shape[2]
    lo, hi = np.full((n, T), np.nan), np.full((n, T), np.nan)
    odd = np.zeros(n, bool)                            # a range not the targets' width: the check itself says
    ranges = [scaler.ranges.get(sid) for sid in ids]
    fit = [k for k, r in enumerate(ranges) if r is not None and len(r[0]) == len(r[1]) == T]
    odd[[k for k, r in enumerate(ranges) if r is not None]] = True
    odd[fit] = False
    if fit:                                           # one array of the lists, not a row assigned a series
        lo[fit] = np.asarray([ranges[k][0] for k in fit], dtype=np.float64)
        hi[fit] = np.asarray([ranges[k][1] for k in fit], dtype=np.float64)
    width = np.where(hi - lo > 0, hi - lo, np.inf)    # no width (or no range: NaN) never far outside
    zmin, zmax = z.min(1), z.max(1)                   # [S, T]; NaN where a value is missing
    with np.errstate(invalid="ignore"):
        # a margin of 1% of the width: values near the edge of reach go to the exact check, which decides
        near = (zmin < lo - 0.99 * FAR_OUTSIDE * width) | (zmax > hi + 0.99 * FAR_OUTSIDE * width)
    near |= (np.isnan(zmin) | np.isnan(zmax)) & ~np.isnan(lo)
    return np.flatnonzero(near.any(1) | odd).tolist()


_SCREEN_FROM = 16          # fewer windows: each checked (predict's one-window lane keeps its one call)


def _more(n: int) -> str:
    return f" (and {n} more series)" if n else ""


def far_outside_note(scaler: PanelScaler, sid, z: np.ndarray, raw: np.ndarray, to_original, adjusted: bool,
                     subject: str | None = None, answer: str = "the forecast") -> str | None:
    """What :func:`say_far_outside` says of series ``sid``'s values ``z [n, T]`` (scaled) and ``raw
    [n, T]`` (original units), or None when they lie within reach of its train range. ``subject``
    names the values (default "the last n values"; a service answer adds which instance or step),
    ``answer`` what may be far off."""
    found = scaler.far_outside(sid, z)
    if found is None:
        return None
    j, dist = found
    loc, scale = (v[j] for v in scaler.get(sid))
    lo, hi = (float(to_original(loc + v[j] * scale)) for v in scaler.ranges[sid])
    n, low, high = len(z), np.nanmin(raw[:, j]), np.nanmax(raw[:, j])
    seen = f"{low:.4g}" if n == 1 else f"{low:.4g} .. {high:.4g}"
    # of several targets, which one (returns given in per mille beside sales: 'of series' alone named neither)
    which = f"target {scaler.targets[j]!r} of " if len(scaler.targets) > 1 else ""
    return far_outside_words(f"{subject or f'the last {n} values'} of {which}series {sid!r} ({seen})", n > 1, dist,
                             f"its training range ({'about ' * adjusted}{lo:.4g} .. {hi:.4g})", answer)


def say_covariates_far_outside(record, names: list[str], ids, values: list[np.ndarray],
                               answer: str = "the forecast") -> None:
    """A warning for the first series ``ids[k]`` whose covariate values ``values[k]`` lie far outside
    their training range (:func:`covariates_far_outside_note`), and how many more series are so. A price
    given in cents to a model trained on prices in units is forecast from without a word otherwise."""
    notes = [note for sid, v in zip(ids, values)
             if (note := covariates_far_outside_note(record, names, v, f"of series {sid!r}", answer)) is not None]
    if notes:
        warnings.warn(notes[0] + _more(len(notes) - 1), UserWarning, stacklevel=callers_level())


def covariates_far_outside_note(record, names: list[str], values: np.ndarray, whose: str,
                                answer: str = "the forecast") -> str | None:
    """What is said of covariate values ``values [n, C]`` (original units, columns ``names``: past
    covariates, then the user's future ones; the window's rows and the horizon's, NaN where a row gives
    none) whose first column far outside its training range ``record`` (the ``range_state`` of every
    series' training rows) is named, ``whose``: the series or instance they are of; None when every
    column lies within reach, or without a record (a run saved before it: no check)."""
    found_range = read_range(record, len(names))
    if found_range is None or not len(values):
        return None
    lo, hi = found_range
    with warnings_caught():                  # a column without values here: NaN, no finding
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanmin(values, 0), np.nanmax(values, 0)
    found = far_outside(lo, hi, low, high)
    if found is None:
        return None
    j, dist = found
    seen = f"{low[j]:.4g}" if low[j] == high[j] else f"{low[j]:.4g} .. {high[j]:.4g}"
    return far_outside_words(f"covariate {names[j]!r} {whose} ({seen})", False, dist,
                             f"its training range ({lo[j]:.4g} .. {hi[j]:.4g})", answer)


def _range_dict(r: tuple[list[float], list[float]] | None) -> dict[str, list[float]]:
    return {} if r is None else {"lo": r[0], "hi": r[1]}


def _finite_lists(*values: Any) -> bool:
    """Saved ranges to use: lists of finite numbers (absent in older runs: no range check)."""
    return all(isinstance(v, list) and v and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                   and np.isfinite(x) for x in v) for v in values)


def _numbers(values: Any, what: str, low: float) -> list[float]:
    """A saved scaler's loc/scale: a list of finite numbers (scales > 0); else the run is damaged."""
    ok = isinstance(values, list) and values and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) and (low <= 0 or v >= low)
        for v in values)
    if not ok:
        raise LstmkitError(f"the saved scaler's {what} is {values!r}, not a list of finite"
                           f"{' positive' if low > 0 else ''} numbers (lstmkit.json was edited or damaged)",
                           "restore the run folder from a backup or retrain the model")
    return [float(v) for v in values]


def seasonal_profile(values: np.ndarray, m: int) -> np.ndarray:
    """Additive seasonal indices ``[m, T]`` of ``values [n, T]`` by classical decomposition.

    The trend is the centred moving average over one season (2 x m for even m, as in
    ``statsmodels.tsa.seasonal_decompose``); the index of phase k is the mean of the detrended
    values at positions ``k, k + m, ...`` (phase 0 is the first value), centred to sum to zero.
    Missing values are left out; a phase with no detrended value, or a series shorter than
    ``m + 1`` points, gets 0 (no seasonal adjustment)."""
    x = np.asarray(values, dtype=np.float64)
    n, T = x.shape
    w = trend_weights(m)
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
        out[:, j] = centred_indices(total, count)
    return out


def trend_weights(m: int) -> np.ndarray:
    """The centred moving average over one season: ``[m]`` (odd m) or ``[m + 1]`` (even: 2 x m)."""
    w = np.full(m + 1, 1.0 / m) if m % 2 == 0 else np.full(m, 1.0 / m)
    if m % 2 == 0:
        w[0] = w[-1] = 0.5 / m
    return w


def centred_indices(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Seasonal indices ``[m]`` from the sum ``total`` and number ``count`` of detrended values at
    each phase: their means (0 where there is none), centred to sum to zero over the phases seen."""
    idx = np.divide(total, count, out=np.zeros(len(total)), where=count > 0)
    if (count > 0).any():
        idx[count > 0] -= idx[count > 0].mean()
    return idx


def check_season_measured(train_sizes, ids, m: int) -> None:
    """``--deseason m`` measures each series' seasonal indices on its training part (``train_sizes``
    points), which takes one centred moving average of a season (:func:`trend_weights`); shorter
    series keep their values unadjusted. An error when no series is long enough (nothing would be
    adjusted), a warning naming how many are not."""
    need, train = len(trend_weights(m)), np.asarray(train_sizes)
    short = train < need
    if short.all():
        raise LstmkitError(f"{opt('deseason', m)} needs {need} training points of a series to measure its seasonal "
                           f"indices, and the training part has {int(train.max())}: nothing would be adjusted",
                           f"pass the season length of the data (or leave {opt('deseason')} out to choose it from the data)")
    if short.any():
        warnings.warn(f"{int(short.sum())} of {len(short)} series have fewer than {need} training points (e.g. "
                      f"{ids[int(np.argmax(short))]!r}: {int(train[short][0])}): {opt('deseason', m)} leaves them "
                      "unadjusted",
                      UserWarning, stacklevel=callers_level())
