"""Probabilistic forecasts: output parameterisations, their losses and their metrics.

An :class:`Output` turns the network's raw numbers ``[..., P]`` into forecast parameters:

* ``point``     P = 1: the value (trained with mse / mae / huber).
* ``quantile``  P = Q levels q_1 < … < q_Q. The level nearest 0.5 is predicted directly; the
  others are it plus (or minus) cumulative softplus increments, so the quantiles never cross:
  q̂_{k+1} = q̂_k + softplus(r_{k+1}) + 1e-4 > q̂_k. Trained with the pinball loss
  ρ_q(y, ŷ) = max(q (y - ŷ), (q - 1)(y - ŷ)). The point forecast is the median: the 0.5 level,
  or, of levels either side of 0.5 without it, the two nearest interpolated linearly at 0.5.
* ``gaussian``  P = 2: loc, scale = softplus(r) + 1e-4; trained by negative log-likelihood.
* ``studentt``  P = 3: loc, scale, df = 2 + softplus(r) (finite variance); NLL.

Metrics (original units): coverage of each central interval (q, 1 - q) (``coverage_80``), of each level in
no such pair (other than those the median is read from) the share of actual values at or below it
(``coverage_q0.9``: 0.9 when it is calibrated, as ``intervals.tails`` moves it), the weighted quantile
loss wQL = mean_q 2 Σ ρ_q(y, ŷ_q) / Σ |y| and the CRPS, exact for the Gaussian and otherwise
approximated by 2 · mean_q ρ_q over a grid of 100 levels, the midpoints of equal steps of probability
(CRPS = 2 ∫₀¹ ρ_τ(y, F⁻¹(τ)) dτ by the midpoint rule; for quantile models: over their levels).
Within a run's bounds they score what the user is shown: clipped quantiles, and a likelihood's
censored distribution (a Gaussian's CRPS still exact: :func:`censored_normal_crps`).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from lstmkit.errors import LstmkitError, opt
from lstmkit.nn.blocks import widened

__all__ = ["Output", "make_output", "check_quantiles", "LIKELIHOODS", "probabilistic_metrics", "pinball",
           "quantile_column", "median_pair", "unpaired_levels"]

LIKELIHOODS = ("gaussian", "studentt")
_REPORT = (0.1, 0.5, 0.9)            # interval levels reported for a likelihood without --quantiles
# the midpoints 0.005 .. 0.995: 0.01 .. 0.99 averaged took a width of 0.99 for 1 and left the tails out, a
# Student-t's CRPS 1 % high on every point beside a Gaussian's exact one
_GRID = (np.arange(100) + 0.5) / 100
_MIN_GAP = 1e-4                      # smallest step between neighbouring quantiles (scaled units)


def check_quantiles(qs) -> list[float]:
    """``"0.1,0.5,0.9"`` or a list -> sorted floats in (0, 1); anything else is an LstmkitError."""
    if qs is None:
        return []
    if isinstance(qs, str):
        try:
            qs = [float(s) for s in qs.split(",") if s.strip()]
        except ValueError:
            raise LstmkitError(f"quantiles must be numbers, got {qs!r}",
                               f"pass e.g. {opt('quantiles', [0.1, 0.5, 0.9])}") from None
    try:
        qs = [float(q) for q in qs]
    except (TypeError, ValueError):
        raise LstmkitError(f"quantiles must be numbers, got {qs!r}",
                           f"pass e.g. {opt('quantiles', [0.1, 0.5, 0.9])}") from None
    bad = [q for q in qs if not 0.0 < q < 1.0]
    if bad:
        raise LstmkitError(f"quantiles must lie strictly between 0 and 1, got {bad[0]:g}",
                           f"pass levels such as {opt('quantiles', [0.1, 0.5, 0.9])}")
    if any(b <= a for a, b in zip(qs, qs[1:])):
        raise LstmkitError(f"quantiles must be sorted ascending without repeats, got {','.join(f'{q:g}' for q in qs)}",
                           f"pass them as {opt('quantiles', [float(f'{q:g}') for q in sorted(set(qs))])}")
    _check_names(qs)
    return qs


def _check_names(qs: list[float]) -> None:
    """Levels are named by 6 significant digits (:func:`quantile_column`, the service's keys) and central
    intervals by their whole percent (``coverage_80``): 0.1 and 0.10000001 gave predict two ``y_q0.1``
    columns (one forecast overwrote the other), 0.9999999 a ``y_q1``, and 0.1-0.9 beside 0.102-0.898 one
    ``coverage_80``, each without a word."""
    named: dict[str, float] = {}
    for q in qs:
        name = f"{q:g}"
        if name in named or not 0 < float(name) < 1:
            other = f"{named[name]!r} and {q!r} both read" if name in named else f"{q!r} reads"
            raise LstmkitError(f"quantile levels are named by 6 significant digits: {other} {name} (forecast column "
                               f"<target>_q{name})", "pass levels that differ in their first 6 significant digits"
                               if name in named else "pass a level below 0.9999995")
        named[name] = q
    intervals: dict[int, float] = {}
    for lo in (q for q in qs if q < 0.5 and any(abs(h - (1 - q)) < 1e-9 for h in qs)):
        width = round(100 * (1 - 2 * lo))
        if width in intervals:
            a, b = intervals[width], lo
            raise LstmkitError(f"the central intervals {a:g}-{1 - a:g} and {b:g}-{1 - b:g} would both be scored as "
                               f"coverage_{width} (intervals are named by their whole percent)",
                               f"pass one pair of levels per interval width, e.g. {opt('quantiles', [0.1, 0.5, 0.9])}")
        intervals[width] = lo


class Output(nn.Module):
    """Raw ``[..., P]`` -> parameters ``[..., P]`` (point: ``[...]``), plus loss and quantiles."""

    def __init__(self, kind: str = "point", quantiles=(), point_loss: str = "mse"):
        super().__init__()
        self.kind = kind
        self.levels = list(quantiles) if kind == "quantile" else list(quantiles or _REPORT)
        if kind == "point":
            self.n_params = 1
        elif kind == "quantile":
            self.n_params = len(self.levels)
            self.anchor = int(np.argmin([abs(q - 0.5) for q in self.levels]))
            self.median = _median_pair(self.levels, self.anchor)
        elif kind in LIKELIHOODS:
            self.n_params = 2 if kind == "gaussian" else 3
        else:
            raise LstmkitError(f"unknown likelihood {kind!r}", f"use one of: {', '.join(LIKELIHOODS)}")
        from lstmkit.train.settings import make_loss
        self._point_loss = make_loss(point_loss) if kind == "point" else None
        self.register_buffer("_q", torch.tensor(self.levels, dtype=torch.float32), persistent=False)

    # -- parameters --------------------------------------------------------------------------
    def transform(self, raw: torch.Tensor) -> torch.Tensor:
        if self.kind == "point":
            return raw[..., 0]
        # in float32 under bf16 autocast too (CUDA's runs softplus and cumsum in float32, the CPU's did
        # not): in bf16 the 1e-4 gap between quantiles near 1 rounded away, and a likelihood's scale with it
        raw = widened(raw)
        if self.kind == "quantile":
            a = self.anchor
            mid = raw[..., a:a + 1]
            up = mid + torch.cumsum(F.softplus(raw[..., a + 1:]) + _MIN_GAP, -1)
            down = mid - torch.cumsum(F.softplus(raw[..., :a].flip(-1)) + _MIN_GAP, -1).flip(-1)
            return torch.cat([down, mid, up], -1)
        scale = F.softplus(raw[..., 1:2]) + 1e-4
        if self.kind == "gaussian":
            return torch.cat([raw[..., :1], scale], -1)
        return torch.cat([raw[..., :1], scale, 2.0 + F.softplus(raw[..., 2:3])], -1)

    def shift(self, params: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        """Add ``offset [..., T]`` to the location (relative models)."""
        if self.kind == "point":
            return params + offset
        if self.kind == "quantile":
            return params + offset.unsqueeze(-1)
        return torch.cat([params[..., :1] + offset.unsqueeze(-1), params[..., 1:]], -1)

    def point(self, params: torch.Tensor) -> torch.Tensor:
        """The point forecast: the value, the median (the 0.5 quantile, or interpolated at 0.5 between
        the levels either side: of 0.1, 0.9 the 0.1 quantile had been the forecast, and the MAE and a
        recursive roll-out read it), or the location."""
        if self.kind == "point":
            return params
        if self.kind == "quantile":
            i, j, w = self.median
            if i == j:
                return params[..., i]
            return params[..., i] + w * (params[..., j] - params[..., i])
        return params[..., 0]

    # -- training ----------------------------------------------------------------------------
    def loss(self, params: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.kind == "point":
            return self._point_loss(params, y)
        if self.kind == "quantile":
            return pinball(params, y.unsqueeze(-1), self._q.to(params.device)).mean()
        return -self.distribution(params).log_prob(y).mean()

    def distribution(self, params: torch.Tensor):
        loc, scale = params[..., 0], params[..., 1]
        if self.kind == "gaussian":
            return torch.distributions.Normal(loc, scale)
        return torch.distributions.StudentT(params[..., 2], loc, scale)


def median_pair(levels) -> tuple[int, int, float]:
    """``(i, j, w)`` of a quantile run's sorted ``levels``: its point forecast is ``q_i + w (q_j - q_i)``."""
    lv = [float(v) for v in levels]
    return _median_pair(lv, int(np.argmin([abs(q - 0.5) for q in lv])))


def _median_pair(levels: list[float], anchor: int) -> tuple[int, int, float]:
    """``(i, j, w)``: the median is ``q_i + w (q_j - q_i)``; ``i == j`` where a level is 0.5, or where
    every level lies on one side of it (the nearest then stands in)."""
    if abs(levels[anchor] - 0.5) < 1e-9 or levels[0] > 0.5 or levels[-1] < 0.5:
        return anchor, anchor, 0.0
    j = next(k for k, q in enumerate(levels) if q > 0.5)
    return j - 1, j, (0.5 - levels[j - 1]) / (levels[j] - levels[j - 1])


def quantile_column(target: str, level: float) -> str:
    """The column of ``target``'s quantile at ``level`` in predict's frame (and a backtest's reading of it): ``sales_q0.1``."""
    return f"{target}_q{level:g}"


def pinball(pred, y, q):
    """ρ_q(y, ŷ) elementwise (torch or numpy)."""
    d = y - pred
    if isinstance(d, torch.Tensor):
        return torch.maximum(q * d, (q - 1) * d)
    return np.maximum(q * d, (q - 1) * d)


def make_output(cfg) -> Output:
    if cfg.likelihood:
        return Output(cfg.likelihood, cfg.quantiles)
    if cfg.quantiles:
        return Output("quantile", cfg.quantiles)
    return Output("point", point_loss=cfg.train.loss)


# -- numpy side (original units) ------------------------------------------------------------------
def unscale(kind: str, params: np.ndarray, loc: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Per-target affine inverse of scaled parameters ``[..., T(, P)]``. Outputs that overflow come back
    inf or NaN, and the caller says so once; numpy's overflow warnings are silenced."""
    with np.errstate(over="ignore", invalid="ignore"):
        if kind == "point":
            return params * scale + loc
        if kind == "quantile":
            return params * scale[..., None] + loc[..., None]
        out = params.copy()
        out[..., 0] = params[..., 0] * scale + loc
        out[..., 1] = params[..., 1] * scale
        return out


def quantiles_of(kind: str, params: np.ndarray, levels) -> np.ndarray:
    """``[..., T, Q]`` quantiles at ``levels`` from original-unit parameters."""
    if kind == "quantile":
        return params
    from scipy import stats
    levels = np.asarray(levels, dtype=np.float64)
    loc, sc = params[..., 0:1], params[..., 1:2]
    if kind == "gaussian":
        return loc + sc * stats.norm.ppf(levels)
    return loc + sc * stats.t.ppf(levels, params[..., 2:3])


def censored_normal_crps(y: np.ndarray, loc: np.ndarray, scale: np.ndarray, low: np.ndarray,
                         high: np.ndarray) -> np.ndarray:
    """The CRPS of ``y`` under N(loc, scale) censored to [low, high] (the mass beyond a bound at it;
    -inf / inf: no bound there; scale 0: all the mass at the clipped loc), elementwise, in closed form
    (Jordan, Krüger and Lerch 2019, scoringRules' ``crps_cnorm``); unbounded, the Gaussian's own."""
    from scipy import stats
    mass = scale == 0
    sc = np.where(mass, 1.0, scale)
    z, lo, hi = (y - loc) / sc, (low - loc) / sc, (high - loc) / sc
    c = np.clip(z, lo, hi)
    below, above = stats.norm.cdf(lo), stats.norm.sf(hi)                       # the mass at each bound
    with np.errstate(invalid="ignore"):                                         # inf x 0 at an open side: 0
        ends = (np.where(np.isfinite(hi), hi * above ** 2 - 2 * stats.norm.pdf(hi) * above, 0.0)
                - np.where(np.isfinite(lo), lo * below ** 2 + 2 * stats.norm.pdf(lo) * below, 0.0))
    crps = (np.abs(z - c) + ends + c * (2 * stats.norm.cdf(c) - 1) + 2 * stats.norm.pdf(c)
            - (stats.norm.cdf(hi * math.sqrt(2)) - stats.norm.cdf(lo * math.sqrt(2))) / math.sqrt(math.pi))
    return np.where(mass, np.abs(y - np.clip(loc, low, high)), sc * crps)


def probabilistic_metrics(kind: str, params: np.ndarray, y: np.ndarray, levels, low: np.ndarray | None = None,
                          high: np.ndarray | None = None) -> dict[str, float]:
    """Coverage of each central interval, wQL and CRPS of original-unit ``params`` against ``y``,
    of the forecast the user is shown: within bounds ``low`` / ``high`` (arrays like ``y``, -inf / inf
    where none; None: unbounded) its quantiles are clipped, and a likelihood is its censored
    distribution (:mod:`~lstmkit.tasks.forecast.bounds`).
    wQL is NaN when every actual value is 0 (its weight, sum |y|, is 0: nothing to divide by)."""
    levels = list(levels)
    low = np.broadcast_to(-np.inf if low is None else low, y.shape)[..., None]     # [..., T, 1]
    high = np.broadcast_to(np.inf if high is None else high, y.shape)[..., None]
    q = np.clip(quantiles_of(kind, params, levels), low, high)                    # [..., T, Q]
    lv = np.asarray(levels)
    loss = pinball(q, y[..., None], lv)                                 # [..., T, Q]
    denom = float(np.abs(y).sum())
    wql = float(np.mean(2 * loss.reshape(-1, len(levels)).sum(0) / denom)) if denom > 0 else math.nan
    out: dict[str, float] = {"wQL": wql}
    if kind == "gaussian":
        # a series that never left 0 forecasts all its mass at 0 (scale 0, ahead.py)
        out["CRPS"] = float(censored_normal_crps(y, params[..., 0], params[..., 1], low[..., 0], high[..., 0]).mean())
    elif kind == "studentt":
        g = np.clip(quantiles_of(kind, params, _GRID), low, high)
        out["CRPS"] = float((2 * pinball(g, y[..., None], _GRID)).mean())
    else:
        out["CRPS"] = float((2 * loss).mean())
    for k, lo in enumerate(levels):
        hi = 1 - lo
        if lo < 0.5 and any(abs(h - hi) < 1e-9 for h in levels):
            j = int(np.argmin([abs(h - hi) for h in levels]))
            inside = (y >= q[..., k]) & (y <= q[..., j])
            out[f"coverage_{round(100 * (hi - lo)):d}"] = float(inside.mean())
    # a level in no pair (both ends of 0.05, 0.5, 0.9) has no interval to cover: the share of actual values at or
    # below it, its own level where it is calibrated (it was scored by nothing but wQL and CRPS)
    for k in unpaired_levels(levels):
        out[f"coverage_q{levels[k]:g}"] = float((y <= q[..., k]).mean())
    return out


def unpaired_levels(levels) -> list[int]:
    """Indices of the sorted ``levels`` in no pair ``q, 1 - q``, other than the levels the median is read from
    (0.5, or without it the two either side of 0.5): those calibrated each on its own (``intervals.tails``) and
    scored by the share of actual values at or below them."""
    lv = [float(v) for v in levels]
    paired = {k for i, a in enumerate(lv) if a < 0.5 for j, b in enumerate(lv) if abs(a + b - 1) < 1e-9
              for k in (i, j)}
    i, j, _ = median_pair(lv)
    return [k for k in range(len(lv)) if k not in paired and k not in (i, j)]
