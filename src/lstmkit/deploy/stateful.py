"""A task net with its recurrent state as explicit inputs and outputs, for ONNX and streaming.

:class:`StatefulNet` wraps any net whose recurrent part is its ``encoder`` attribute (the
convention of every lstmkit task net): ``forward(x, *state) -> (y, *state_out)``. The wrapped
net's own ``forward`` runs unchanged, so the graph cannot drift from what ``predict`` computes.
"""
from __future__ import annotations

import copy
import threading
from typing import Any

import torch
from torch import nn

from lstmkit.deploy.int8_torch import TorchRNN
from lstmkit.nn.lstm import LSTM
from lstmkit.nn.zoo import GRU

__all__ = ["StatefulNet", "EncoderTap", "lstm_single_step", "recurrent_state_names"]


class EncoderTap(nn.Module):
    """Stands in for an encoder: runs it from ``state_in`` and keeps the final ``state_out``.

    Both are the calling thread's own: threads stepping one graph (a model's streams, the
    service's request threads) each run from the state they passed. As attributes of the shared
    tap, a thread's encoder ran from the state another thread had set meanwhile."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.inner = encoder
        self.bidirectional = encoder.bidirectional
        self.output_size = encoder.output_size
        self._calls = threading.local()

    state_in = property(lambda self: getattr(self._calls, "state_in", None),
                        lambda self, value: setattr(self._calls, "state_in", value))
    state_out = property(lambda self: getattr(self._calls, "state_out", None),
                         lambda self, value: setattr(self._calls, "state_out", value))

    def __getstate__(self) -> dict[str, Any]:          # copy.deepcopy, pickle: a thread-local does not copy
        return {k: v for k, v in self.__dict__.items() if k != "_calls"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._calls = threading.local()

    def forward(self, x, state=None, lengths=None):
        if x.shape[1] == 1 and lengths is None and not self.training and _is_lstm(self.inner):
            out, self.state_out = lstm_single_step(self.inner, x, self.state_in)
        else:
            out, self.state_out = self.inner(x, self.state_in, lengths)
        return out, self.state_out


def _is_lstm(module: nn.Module) -> bool:
    return isinstance(module, LSTM) and not module.bidirectional and not torch.jit.is_tracing()


def lstm_single_step(lstm, x: torch.Tensor, state):
    """One time step through per-layer LSTM cells: ``x [B, 1, I] -> (out [B, 1, H], (h, c))``.

    Same equations as the fused kernel; on the CPU the fused (oneDNN) kernel costs ~10x more
    than the cells for a single step, and streaming is all single steps."""
    inp = x[:, 0]                                                   # [B, I]
    if state is None:
        zeros = x.new_zeros(lstm.num_layers, x.shape[0], lstm.hidden_size)
        state = (zeros, zeros)
    hs, cs = [], []
    for layer in range(lstm.num_layers):
        h, c = torch._VF.lstm_cell(inp, (state[0][layer], state[1][layer]), *lstm.layer_weights(layer, 0))
        hs.append(h)
        cs.append(c)
        inp = h                                                     # dropout is off in eval mode
    return inp[:, None], (torch.stack(hs), torch.stack(cs))


class StatefulNet(nn.Module):
    """A task net whose ``encoder`` takes its recurrent state from explicit inputs.

    ``forward(x [B, T, I], *state) -> (y, *state_out)``; for an LSTM encoder the state is
    ``h, c`` each ``[L, B, H]``, for a GRU ``h``. The wrapped net's own ``forward`` runs
    unchanged (its parameters are shared, not copied), so this graph cannot drift from it.
    """

    def __init__(self, net: nn.Module, state_names: tuple[str, ...]):
        super().__init__()
        self.state_names = state_names
        self.net = copy.copy(net)                        # shallow: shares every parameter
        self.net._modules = {**net._modules, "encoder": EncoderTap(net.encoder)}

    def forward(self, x: torch.Tensor, *state: torch.Tensor):
        tap = self.net.encoder
        if not state:
            tap.state_in = None                          # zeros, as the plain net starts
        else:
            tap.state_in = tuple(state) if len(self.state_names) == 2 else state[0]
        y = self.net(x)
        out = tap.state_out if len(self.state_names) == 2 else (tap.state_out,)
        return (y, *out) if self.state_names else y


def recurrent_state_names(net: nn.Module) -> tuple[str, ...]:
    """Recurrent state of a net's encoder that can be carried: LSTM (h, c), GRU (h), else none."""
    enc = getattr(net, "encoder", None)
    if enc is None or getattr(enc, "bidirectional", True):
        return ()
    if isinstance(enc, LSTM) or (isinstance(enc, TorchRNN) and enc.kind == "lstm"):
        return ("h", "c")
    if isinstance(enc, GRU) or (isinstance(enc, TorchRNN) and enc.kind == "gru"):
        return ("h",)
    return ()
