"""A seed ensemble: several networks of one shape, trained together, forecasting their median.

On small data one LSTM's forecast depends on its seed as much as on its settings; the median of
a few seeds is steadier and costs little there (``--ensemble``, chosen by
:mod:`lstmkit.tasks.forecast.auto`). The members are trained side by side by one trainer run:
in training mode the forward pass returns every member's forecast stacked along the batch axis
(``[k * B, ...]``) and :func:`ensemble_loss` repeats the targets to match, so each member's
gradient is that of its own loss; in eval mode (validation, early stopping, forecasting) it
returns the element-wise median ``[B, ...]`` (:func:`median_of`: of an even count the mean of the two
middle values, as ``np.median``; quantiles stay in order, each level's median being monotone in it).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

__all__ = ["SeedEnsemble", "ensemble_loss", "median_of"]


def median_of(stacked: torch.Tensor) -> torch.Tensor:
    """The median over the first axis of ``stacked [k, ...]``: the middle value, or of an even ``k`` the
    mean of the two middle ones (torch's median, the lower one, made a 2-seed ensemble forecast the
    smaller member's value at every step and quantile level), by sorting: ONNX has no median operator,
    and a sort along the member axis exports as ``TopK``."""
    k = stacked.shape[0]
    s = torch.sort(stacked, 0).values
    return s[k // 2] if k % 2 else (s[k // 2 - 1] + s[k // 2]) / 2


class SeedEnsemble(nn.Module):
    """``members``: networks of one signature ``net(x, future, series) -> [B, ...]``, each from
    its own initial weights."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        if len(members) < 2:
            raise ValueError(f"Expected at least 2 members, got {len(members)}")
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor, future: torch.Tensor | None = None,
                series: torch.Tensor | None = None) -> torch.Tensor:
        outs = [m(x, future, series) for m in self.members]
        if self.training:
            return torch.cat(outs, 0)                              # [k * B, ...]
        return median_of(torch.stack(outs))                        # [B, ...]


def ensemble_loss(loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], k: int):
    """``loss`` for a :class:`SeedEnsemble` of ``k`` members: the mean of the members' losses in
    training mode (targets repeated), the loss of the median otherwise."""
    def fn(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if pred.shape[0] == k * y.shape[0] and k > 1:
            y = y.repeat(k, *([1] * (y.dim() - 1)))
        return loss(pred, y)
    return fn
