"""The torch engine's exact shortcut for one streamed step of a plain LSTM forecaster
(:class:`TorchLstmStep`, a :class:`~lstmkit.deploy.adapter.FastStep`).

:meth:`ForecastAdapter.fast_step <lstmkit.tasks.forecast.deploy.ForecastAdapter.fast_step>` builds
it; :class:`~lstmkit.deploy.streaming.Stream` runs it in ``state`` mode in place of the general
path (the stateful graph through :class:`~lstmkit.deploy.streaming.TorchCore`), whose answers it
reproduces exactly, and falls back to that path whenever :meth:`TorchLstmStep.ready` says no.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lstmkit.nn.lstm import LSTM
from lstmkit.tasks.forecast.model import ForecastNet

__all__ = ["TorchLstmStep"]

_FLOAT32_MAX = float(np.finfo(np.float32).max)   # finite and within float32: the fast path's only check


class TorchLstmStep:
    """The torch engine's state-mode step (a :class:`~lstmkit.deploy.adapter.FastStep`) for a
    forecaster with a one-directional LSTM encoder.

    Computes exactly what :class:`~lstmkit.deploy.streaming.TorchCore` over the stateful graph computes for one step (the
    same per-layer ``lstm_cell`` calls, then the head), without the module calls, the stacking
    of ``[L, 1, H]`` state, the numpy round trips and the scaler arrays of the general path:
    the weights are looked up once, a scalar observation is scaled with two precomputed floats,
    and the state stays per-layer ``(h, c)`` tensors between steps (numpy only on save).
    :meth:`build` returns None for any net it does not reproduce exactly (use the general path).
    """

    def __init__(self, adapter, net: torch.nn.Module):
        enc = net.encoder
        self.encode_row, self.input_size = adapter.encode_row, adapter.input_size
        scale, offset = adapter.affine
        T = len(adapter.cfg.target)
        self._scale0, self._offset0 = float(scale[0]), float(offset[0])
        self._out_scale, self._out_offset = scale[:T].copy(), offset[:T].copy()
        self._out_shape = (net.horizon, T)
        self._layers = [enc.layer_weights(k, 0) for k in range(enc.num_layers)]
        head = net.head
        self._head = head if type(head) is not torch.nn.Linear else None
        self._head_wb = (head.weight, head.bias) if self._head is None else None
        self._modules = (enc, net.dropout, head)               # eval mode is checked per step (ready)
        self.layers, self.hidden = enc.num_layers, enc.hidden_size
        zero = torch.zeros(1, enc.hidden_size)
        self.zero_state = tuple((zero, zero) for _ in range(enc.num_layers))

    @classmethod
    def build(cls, adapter) -> "TorchLstmStep | None":
        net = adapter.net
        if type(net) is not ForecastNet or net.relative or type(net.encoder) is not LSTM or adapter.cfg.log:
            return None
        if (net.highway is not None or net.segment or net.strategy != "direct" or net.embedding is not None
                or net.F or net.output.kind != "point"):
            return None                                        # only the plain direct forecaster
        enc = net.encoder
        if enc.bidirectional or type(net.dropout) is not torch.nn.Dropout:
            return None
        params = [p for w in (enc.layer_weights(k, 0) for k in range(enc.num_layers)) for p in w if p is not None]
        if any(p.device.type != "cpu" or p.dtype != torch.float32 for p in params):
            return None
        return cls(adapter, net)

    def encode(self, x_t: Any) -> torch.Tensor:
        """One observation -> model input ``[1, I]`` (errors as ``adapter.encode_row``)."""
        x = np.empty((1, self.input_size), np.float32)
        if (type(x_t) is float or type(x_t) is int) and self.input_size == 1 and abs(x_t) <= _FLOAT32_MAX:
            x[0, 0] = x_t * self._scale0 + self._offset0          # float64 multiply-add, float32 store
        else:
            x[0] = self.encode_row(x_t)
        return torch.from_numpy(x)

    def ready(self) -> bool:
        """False while any part of the net is in training mode (the general path then runs it)."""
        return not any(m.training for m in self._modules)

    def live(self, state: list[np.ndarray]) -> tuple:
        """Per-layer ``(h [1, H], c [1, H])`` from saved ``[L, 1, H]`` arrays (zeros if none)."""
        if not state:
            return self.zero_state
        h, c = (torch.from_numpy(np.array(a, dtype=np.float32)) for a in state)     # own, writable copies
        return tuple((h[k], c[k]) for k in range(self.layers))

    @staticmethod
    def arrays(live: tuple) -> list[np.ndarray]:
        """Per-layer state -> ``[h [L, 1, H], c [L, 1, H]]`` numpy arrays."""
        return [np.stack([s[j].numpy() for s in live]) for j in (0, 1)]

    def step(self, x: torch.Tensor, live: tuple) -> tuple[np.ndarray, tuple]:
        """One step: ``(forecast in original units, new state)``."""
        grad = torch.is_grad_enabled()
        torch._C._set_grad_enabled(False)
        try:
            inp, new = x, []
            for w, (h, c) in zip(self._layers, live):
                hc = _lstm_cell(inp, (h, c), *w)
                new.append(hc)
                inp = hc[0]
            y = _linear(inp, *self._head_wb) if self._head is None else self._head(inp)
        finally:
            torch._C._set_grad_enabled(grad)
        y = y.numpy().reshape(self._out_shape).astype(np.float64)
        return (y - self._out_offset) / self._out_scale, tuple(new)


_lstm_cell = torch._VF.lstm_cell
_linear = torch._C._nn.linear
