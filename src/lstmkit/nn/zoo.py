"""Encoders by name. Every encoder maps ``x [B, T, I]`` to ``(out [B, T, D], state)`` and has
``output_size`` (D) and ``bidirectional``.
"""
from __future__ import annotations

from typing import Callable

from torch import nn

from lstmkit.errors import LstmkitError
from lstmkit.nn.lstm import LSTM

__all__ = ["ENCODERS", "make_encoder", "GRU"]


class GRU(nn.GRU):
    """``torch.nn.GRU`` with lstmkit's recurrent signature (batch-first, ``lengths`` accepted)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 dropout: float = 0.0, bidirectional: bool = False):
        super().__init__(input_size, hidden_size, num_layers=num_layers, batch_first=True,
                         dropout=dropout, bidirectional=bidirectional)

    def forward(self, x, state=None, lengths=None):
        if lengths is None:
            return super().forward(x, state)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, h = super().forward(packed, state)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out, h


def _lstm(i, h, layers, dropout):
    return LSTM(i, h, num_layers=layers, dropout=dropout if layers > 1 else 0.0, batch_first=True)


def _bilstm(i, h, layers, dropout):
    return LSTM(i, h, num_layers=layers, dropout=dropout if layers > 1 else 0.0, batch_first=True,
                bidirectional=True)


def _gru(i, h, layers, dropout):
    return GRU(i, h, num_layers=layers, dropout=dropout if layers > 1 else 0.0)


ENCODERS: dict[str, Callable[[int, int, int, float], nn.Module]] = {
    "lstm": _lstm, "gru": _gru, "bilstm": _bilstm,
}


def make_encoder(name: str, input_size: int, hidden_size: int, num_layers: int, dropout: float) -> nn.Module:
    """Build encoder ``name``; unknown names raise an error listing the known ones."""
    if name not in ENCODERS:
        raise LstmkitError(f"unknown model {name!r}", f"use one of: {', '.join(ENCODERS)}")
    enc = ENCODERS[name](input_size, hidden_size, num_layers, dropout)
    enc.output_size = hidden_size * (2 if enc.bidirectional else 1)
    return enc
