"""Split every series in time and draw its windows.

    part_sizes(n, cfg)             per-series (n_train, n_val, n_test) -- the one split rule
    min_points(cfg)                observed points a series needs
    split_panel(panel, cfg)        (row, series) index of the train / val / test windows
    PanelBatches                   mini-batches gathered from the concatenated arrays

The split rule, the same for one series and for many::

    val_size / test_size given      that many points per series (the one not given: one horizon)
    else an id column, or M4 input  one horizon each (the M4 protocol)
    else (one series, no id)        round(n * val_frac), round(n * test_frac): 70/15/15 by default

A window belongs to the part that holds all of its ``horizon`` targets (its inputs may reach
back into earlier parts), so every window whose targets lie in the test part is scored: rolling
origins with stride 1.
"""
from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["part_sizes", "min_points", "split_panel", "PanelBatches", "uses_fractions", "fractions", "DEFAULT_FRAC",
           "EVAL_BATCH"]

EVAL_BATCH = 1024          # windows a fitted model reads at once (validation, metrics, forecasts)
DEFAULT_FRAC = 0.15        # val_frac / test_frac left unset (None): before auto.py grows it to hold a horizon


def fractions(cfg) -> tuple[float, float]:
    """``(val_frac, test_frac)`` of ``cfg``, each left unset (None) read as :data:`DEFAULT_FRAC`. A fit
    settles them (:func:`~lstmkit.tasks.forecast.auto.auto_defaults`): None marks a fraction the caller
    did not give, which the fit may grow, where a fraction given, 0.15 too, is kept."""
    return tuple(DEFAULT_FRAC if f is None else f for f in (cfg.val_frac, cfg.test_frac))


def uses_fractions(cfg) -> bool:
    """True when the split is by ``val_frac`` / ``test_frac`` (one series, no id, no sizes given)."""
    return cfg.val_size is None and cfg.test_size is None and cfg.id is None and cfg.format != "m4"


def part_sizes(n: int, cfg) -> tuple[int, int, int]:
    """Per-series ``(n_train, n_val, n_test)`` by the split rule of this module."""
    if uses_fractions(cfg):
        n_val, n_test = (round(n * f) for f in fractions(cfg))
    else:
        n_val = cfg.horizon if cfg.val_size is None else int(cfg.val_size)
        n_test = cfg.horizon if cfg.test_size is None else int(cfg.test_size)
    return n - n_val - n_test, n_val, n_test


def min_points(cfg) -> int:
    """Observed points a series needs: one training window plus its val and test parts (with
    fractions, each part that is not empty holds at least one horizon)."""
    if not uses_fractions(cfg):
        n_val, n_test = part_sizes(0, cfg)[1:]
        return cfg.lookback + cfg.horizon + n_val + n_test
    return _min_length(cfg.lookback, cfg.horizon, *fractions(cfg))


def _split_ok(ns: np.ndarray, lookback: int, horizon: int, val_frac: float, test_frac: float) -> np.ndarray:
    # np.rint rounds half to even, exactly like the built-in round() used in part_sizes.
    n_val, n_test = np.rint(ns * val_frac), np.rint(ns * test_frac)
    ok = ns - n_val - n_test >= lookback + horizon
    if val_frac > 0:
        ok &= n_val >= horizon
    if test_frac > 0:
        ok &= n_test >= horizon
    return ok


def _min_length(lookback: int, horizon: int, val_frac: float, test_frac: float) -> int:
    """Smallest M such that every n >= M splits (rounding makes passing non-monotone in n)."""
    bounds = [(lookback + horizon + 1) / (1 - val_frac - test_frac)]
    bounds += [(horizon + 0.5) / f for f in (val_frac, test_frac) if f > 0]
    upper = int(np.ceil(max(bounds))) + 2  # every n above this passes
    ns = np.arange(1, upper + 1)
    failing = ns[~_split_ok(ns, lookback, horizon, val_frac, test_frac)]
    return int(failing[-1]) + 1 if failing.size else 1


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
    """Mini-batches ``((x, future, series), y)`` gathered from the concatenated arrays.

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
            x, future = _gather(self.inputs, r, self._ar_l), _gather(self.future, r, self._ar_h)
            yield (x, future, s), _gather(self.targets, r, self._ar_h)    # x [B, L, C], future [B, H, F], y [B, H, T]


def _gather(a: torch.Tensor, rows: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """``a[rows[:, None] + offsets]`` (``[B, len(offsets), C]``), of a CPU tensor by numpy's indexing: torch's
    indexing kernel took 10-60 ms for the 61,440 rows of 1,024 windows on a busy machine, numpy 2 ms."""
    if a.device.type == "cpu" and rows.device.type == "cpu" and not a.requires_grad and a.dtype in _NUMPY_GATHERS:
        return torch.from_numpy(a.numpy()[rows.numpy()[:, None] + offsets.numpy()])
    return a[rows[:, None] + offsets]


_NUMPY_GATHERS = (torch.float32, torch.float64, torch.int64)
