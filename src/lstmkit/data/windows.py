"""Lookback/horizon windows over a series, as strided views.

Window ``i`` pairs ``lookback`` input steps with the ``horizon`` target steps that follow::

    X[i] = inputs[i : i + lookback]                          # [lookback, F]
    Y[i] = targets[i + lookback : i + lookback + horizon]    # [horizon, T]

``make_windows`` returns both stacks as views of the original tensors, so memory stays at the
size of the series rather than ``lookback`` times it. ``WindowBatches`` gathers one mini-batch
at a time from those views; only the batch is ever copied.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from numbers import Integral

import torch
from torch import Tensor

from lstmkit.errors import LstmkitError

__all__ = ["make_windows", "n_windows", "WindowBatches", "positive_int"]


def positive_int(name: str, value: object) -> int:
    """``value`` as an int when it is a whole number ≥ 1 (not a bool); else an LstmkitError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value <= 0:
        raise LstmkitError(
            f"`{name}` must be a positive integer, got {value!r}",
            f"pass a whole number ≥ 1 for `{name}`",
        )
    return int(value)


def n_windows(n: int, lookback: int, horizon: int) -> int:
    """Number of complete windows in a series of ``n`` points (may be ≤ 0 if too short)."""
    return n - lookback - horizon + 1


def make_windows(inputs: Tensor, targets: Tensor, lookback: int, horizon: int) -> tuple[Tensor, Tensor]:
    """All windows of a series as strided views (no copy).

    Args:
        inputs: ``[N, F]`` model inputs per time step.
        targets: ``[N, T]`` values to forecast per time step.
        lookback: input steps per window.
        horizon: target steps per window.

    Returns:
        ``X [n, lookback, F]`` and ``Y [n, horizon, T]`` with ``n = N - lookback - horizon + 1``;
        both share storage with ``inputs`` / ``targets``.
    """
    lookback = positive_int("lookback", lookback)
    horizon = positive_int("horizon", horizon)
    for name, t in (("inputs", inputs), ("targets", targets)):
        if not isinstance(t, Tensor) or t.dim() != 2:
            shape = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
            raise LstmkitError(f"Expected `{name}` as a 2-D tensor [N, C], got {shape}",
                               "reshape a single series to [N, 1]")
    if inputs.shape[0] != targets.shape[0]:
        raise LstmkitError(
            f"`inputs` and `targets` must have the same length, got {inputs.shape[0]} and {targets.shape[0]}",
            "pass inputs and targets that cover the same time steps",
        )
    n_points = inputs.shape[0]
    n = n_windows(n_points, lookback, horizon)
    if n < 1:
        raise LstmkitError(
            f"series too short for one window: {n_points} points, need at least {lookback + horizon} "
            f"for lookback {lookback} + horizon {horizon}",
            "shorten the lookback or horizon, or supply more data",
        )
    # unfold(0, size, 1) puts the window axis last: [n, C, size]; transposing is also a view.
    x = inputs.unfold(0, lookback, 1)[:n].transpose(1, 2)  # [n, lookback, F]
    y = targets[lookback:].unfold(0, horizon, 1).transpose(1, 2)  # [n, horizon, T]
    return x, y


class WindowBatches:
    """Mini-batches ``(X[idx], Y[idx])`` drawn from window views.

    Args:
        x: ``[n, lookback, F]`` windows, usually from :func:`make_windows`.
        y: ``[n, horizon, T]`` targets aligned with ``x``.
        indices: optional 1-D integer tensor of window indices to draw from (a split);
            all windows when ``None``.
        batch_size: windows per batch.
        shuffle: draw in a fresh random order on every iteration.
        generator: ``torch.Generator`` that makes the shuffles repeatable.
        drop_last: skip a final batch smaller than ``batch_size``.

    Each batch is one ``index_select`` per tensor, so the cost per batch does not grow with
    Python work per sample and only the batch is materialised.
    """

    def __init__(self, x: Tensor, y: Tensor, indices: Tensor | None = None, batch_size: int = 64,
                 shuffle: bool = False, generator: torch.Generator | None = None, drop_last: bool = False):
        if x.shape[0] != y.shape[0]:
            raise LstmkitError(f"`x` and `y` must hold the same number of windows, got {x.shape[0]} and {y.shape[0]}",
                               "pass the pair returned by make_windows")
        self.batch_size = positive_int("batch_size", batch_size)
        if indices is not None:
            if indices.dim() != 1 or indices.dtype not in (torch.int32, torch.int64):
                raise LstmkitError(f"Expected `indices` as a 1-D integer tensor, got {indices.dtype} {tuple(indices.shape)}",
                                   "pass window indices such as those from split_window_indices")
            if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= x.shape[0]):
                raise LstmkitError(f"`indices` must lie in [0, {x.shape[0]}), got "
                                   f"[{int(indices.min())}, {int(indices.max())}]",
                                   "build the indices for the same series and lookback/horizon")
        self.x, self.y, self.indices = x, y, indices
        self.shuffle, self.generator, self.drop_last = shuffle, generator, drop_last

    @property
    def n_samples(self) -> int:
        return self.x.shape[0] if self.indices is None else self.indices.numel()

    def __len__(self) -> int:
        if self.drop_last:
            return self.n_samples // self.batch_size
        return math.ceil(self.n_samples / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        m, bs = self.n_samples, self.batch_size
        perm = None
        if self.shuffle:
            # int32 halves the permutation's memory; index_select takes it directly.
            perm = torch.randperm(m, generator=self.generator, dtype=_perm_dtype(m))
        for start in range(0, min(len(self) * bs, m), bs):
            idx = self._batch_index(start, start + bs, perm)
            if idx is None:
                # Sequential over all windows: slice the view, then copy just this batch.
                yield (self.x[start:start + bs].clone(memory_format=torch.contiguous_format),
                       self.y[start:start + bs].clone(memory_format=torch.contiguous_format))
            else:
                yield self.x.index_select(0, idx), self.y.index_select(0, idx)

    def _batch_index(self, start: int, stop: int, perm: Tensor | None) -> Tensor | None:
        """Window indices of one batch, or None when a plain slice of all windows will do."""
        if perm is not None:
            p = perm[start:stop]
            return p if self.indices is None else self.indices.index_select(0, p)
        return None if self.indices is None else self.indices[start:stop]

    def __repr__(self) -> str:
        return (f"WindowBatches(n_samples={self.n_samples}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")


def _perm_dtype(m: int) -> torch.dtype:
    """The integer type of a permutation of ``m`` windows: int32 (half the memory) while its
    largest index, ``m - 1``, fits in it."""
    return torch.int32 if m - 1 <= torch.iinfo(torch.int32).max else torch.int64
