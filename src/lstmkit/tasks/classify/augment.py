"""Training-time augmentation of numeric series (``SequenceClassifier(augment=...)``).

``scale-warp``: every training series, at every batch, is multiplied by ``1 + scale·N(0,1)`` (one
draw per series) and read at a smoothly warped clock: the playback speed is ``1 + speed·N(0,1)``
at ``knots`` evenly spaced points of the series (at least 0.3), linear between them, and the
warped clock is rescaled to start at the first step and end at the last valid one, so a series
keeps its length, its first and last values, and is never stretched into its padding (nor padding
into it). The draws come from torch's generator, which the trainer re-seeds every epoch, so a fit
is a function of its seed. Only the training batches are augmented: evaluation, prediction and the
training-loss metrics read the series as they are.

``scale-warp-2x``: the same with twice the magnitudes (``1 + 0.2·N(0,1)`` gain, speed
``1 + 0.4·N(0,1)``).
"""
from __future__ import annotations

from functools import partial
from typing import Iterable, Iterator

import torch
from torch import Tensor

from lstmkit.data.batching import Padded

__all__ = ["AUGMENTS", "scale_warp", "AugmentedBatches"]


def scale_warp(x: Tensor, lengths: Tensor, *, scale: float = 0.1, speed: float = 0.2, knots: int = 4,
               generator: torch.Generator | None = None) -> Tensor:
    """Random amplitude scaling and a smooth random time warp of padded series.

    ``x [B, T, F]`` floats (all features of a series share its warp and its gain), ``lengths [B]``
    the valid steps of each row -> ``[B, T, F]``: each row's valid steps resampled (linear
    interpolation) from its own valid steps only; padded positions are returned unchanged.
    """
    if knots < 2:
        raise ValueError(f"knots must be >= 2, got {knots}")
    b, t, _ = x.shape
    gain = 1 + scale * torch.randn(b, 1, 1, generator=generator).to(x.dtype)               # [B, 1, 1]
    rates = (1 + speed * torch.randn(b, knots, generator=generator)).clamp(min=0.3).to(x.dtype)  # [B, K]
    lengths = lengths.to(torch.long).clamp(min=1, max=t)
    last = (lengths - 1)[:, None]                                                       # [B, 1] last valid step
    span = last.clamp(min=1).to(x.dtype)
    steps = torch.arange(t, dtype=x.dtype)[None]                                        # [1, T]
    u = (steps / span).clamp(max=1.0) * (knots - 1)                                    # [B, T] in knot units
    k = u.floor().long().clamp(max=knots - 2)
    w = u - k
    rate = rates.gather(1, k) * (1 - w) + rates.gather(1, k + 1) * w                    # [B, T] speed at each step
    valid = torch.arange(t)[None] < lengths[:, None]                                    # [B, T]
    clock = torch.cumsum(rate * valid, 1) - rate[:, :1]                                 # 0 at the first step
    end = clock.gather(1, last)                                                         # at the last valid step
    pos = (clock / end.clamp(min=torch.finfo(x.dtype).tiny) * span).clamp(min=0)
    pos = torch.minimum(pos, last.to(x.dtype))                                          # [B, T] source position
    lo = torch.minimum(pos.floor().long(), (last - 1).clamp(min=0))
    hi = torch.minimum(lo + 1, last)
    frac = (pos - lo)[..., None]
    f = x.shape[2]
    warped = (x.gather(1, lo[..., None].expand(-1, -1, f)) * (1 - frac)
              + x.gather(1, hi[..., None].expand(-1, -1, f)) * frac) * gain
    return torch.where(valid[..., None], warped, x)


class AugmentedBatches:
    """``batches`` (pairs ``(Padded((x, lengths)), y)``, e.g. a shuffled
    :class:`~lstmkit.data.batching.BucketBatches`) with each ``x`` replaced by ``augment(x, lengths)``."""

    def __init__(self, batches: Iterable, augment=scale_warp):
        self.batches, self.augment = batches, augment

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator:
        for xb, yb in self.batches:
            x, lengths, *more = xb
            yield Padded((self.augment(x, lengths), lengths, *more)), yb


# ClassifyConfig.augment's names, "none" aside
AUGMENTS = {"scale-warp": scale_warp, "scale-warp-2x": partial(scale_warp, scale=0.2, speed=0.4)}
