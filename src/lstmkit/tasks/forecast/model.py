"""The forecasting network: zoo encoder -> dropout -> head (linear or MLP) for all horizon steps."""
from __future__ import annotations

import torch
from torch import nn

from lstmkit.nn.blocks import make_head
from lstmkit.nn.zoo import make_encoder

__all__ = ["ForecastNet"]


class ForecastNet(nn.Module):
    """Direct multi-horizon forecaster.

    Inputs ``x [B, L, T + F]`` hold the scaled targets first, then the extra features.
    Output ``[B, horizon, T]``: every step of the horizon for every target at once.

    With ``relative=True`` the targets in each window are taken relative to the window's last
    observed value and the head predicts the change from it; a series that trends beyond the
    range seen in training then stays in the range the network knows.

    ``encoder`` is any :mod:`lstmkit.nn.zoo` name; the window is summarised by the last step's
    output (for bidirectional encoders: the forward half at the last step, the backward half at
    the first). ``head`` is ``linear`` or ``mlp`` (:func:`lstmkit.nn.blocks.make_head`): with
    ``encoder="lstm", hidden_size=50, num_layers=2, head="mlp"`` this is the tutorial's Keras
    model LSTM 50 -> Dropout -> LSTM 50 -> Dropout -> Dense 25 -> Dense 1.
    """

    def __init__(self, n_inputs: int, n_targets: int, horizon: int, encoder: str = "lstm",
                 hidden_size: int = 50, num_layers: int = 2, dropout: float = 0.2,
                 relative: bool = True, head: str = "linear"):
        super().__init__()
        self.n_targets, self.horizon, self.relative = n_targets, horizon, relative
        self.encoder = make_encoder(encoder, n_inputs, hidden_size, num_layers, dropout)
        self.dropout = nn.Dropout(dropout)
        self.head = make_head(head, self.encoder.output_size, horizon * n_targets)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = self.n_targets
        if self.relative:
            last = x[:, -1:, :T]                                            # [B, 1, T]
            x = x - last if x.shape[-1] == T else torch.cat([x[..., :T] - last, x[..., T:]], -1)
        out, _ = self.encoder(x)                                            # [B, L, D]
        if self.encoder.bidirectional:    # forward direction ends at L-1, backward at 0
            H = out.shape[-1] // 2
            summary = torch.cat([out[:, -1, :H], out[:, 0, H:]], -1)
        else:
            summary = out[:, -1]                                            # [B, D]
        y = self.head(self.dropout(summary)).view(-1, self.horizon, T)     # [B, horizon, T]
        return y + last if self.relative else y
