"""The network a language model's ONNX step graph is traced from (``lstmkit export onnx``).

Same inputs, outputs and numbers as the stateful training network
(:class:`~lstmkit.deploy.stateful.StatefulNet`), arranged for ONNX Runtime::

    x [B, T] int64, h0 [L, B, H], c0 [L, B, H]  ->  y [B, T, V], hn, cn

* **Time-major inside.** The ids are transposed (``x.T``, int64, tiny) before the lookup and the
  logits after the output layer (``V`` wide), so no ``[T, B, E]`` or ``[T, B, H]`` float tensor is
  transposed: ONNX's ``LSTM`` op reads and writes time-major.
* **The first layer's input projection as a table** when the vocabulary is smaller than the
  embedding (a char-level model: ``V`` ~ 30, ``E`` = 64 or more). ``embedding(x) @ W_ih0.T`` only
  ever takes ``V`` values, ``E @ W_ih0.T`` (``[V, 4H]``, computed once in float64); the graph feeds
  the ``LSTM`` op one-hot rows of ``x`` with that table as its input weights, so the op's
  all-steps input GEMM has ``V`` columns to read instead of ``E``. A one-hot row picks one table
  row exactly (the other terms are zeros), so only the table's own rounding differs from torch.

``export onnx`` checks the traced graph against the stateful training network like any other;
int8 (``export int8``) quantizes the plain graph (ONNX Runtime's ``DynamicQuantizeLSTM``).
"""
from __future__ import annotations

import torch
from torch import nn

from lstmkit.memory import built_without_draws
from lstmkit.nn.lstm import LSTM

__all__ = ["TimeMajorLM", "time_major_net"]


class TimeMajorLM(nn.Module):
    """``(x [B, T], h0, c0) -> (logits [B, T, V], hn, cn)`` of an LSTM language model ``net``
    (its own head, never-mask included: pass the deployed net), time-major inside."""

    def __init__(self, net: nn.Module):
        super().__init__()
        enc: LSTM = net.encoder
        emb = net.embedding.weight.detach()                         # [V, E]
        vocab, width = emb.shape
        self.folded = vocab < width
        # its first weights, replaced below, drawn from no generator (a script's seeded torch.rand went on elsewhere)
        self.lstm = built_without_draws(lambda: nn.LSTM(vocab if self.folded else width, enc.hidden_size,
                                                        enc.num_layers, bias=enc.bias))
        with torch.no_grad():
            for k in range(enc.num_layers):
                w_ih, w_hh, b_ih, b_hh = enc.layer_weights(k, 0)           # gates i, f, g, o, as nn.LSTM
                if k == 0 and self.folded:                                  # one-hot row v picks E[v] @ W_ih0.T
                    w_ih = (w_ih.double() @ emb.double().T).float()        # [4H, V]
                for name, w in (("weight_ih", w_ih), ("weight_hh", w_hh), ("bias_ih", b_ih), ("bias_hh", b_hh)):
                    if w is not None:
                        getattr(self.lstm, f"{name}_l{k}").copy_(w)
        self.register_buffer("inputs", torch.eye(vocab) if self.folded else emb.clone(), persistent=False)
        self.net = net                                              # its head: proj, output layer, never-mask
        self.eval()

    def forward(self, x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor):
        rows = self.inputs[x.t()]                                   # [T, B, V or E]
        out, (h, c) = self.lstm(rows, (h0, c0))                     # [T, B, H]
        return self.net.head(out).transpose(0, 1), h, c             # [B, T, V]


def time_major_net(net: nn.Module) -> nn.Module | None:
    """:class:`TimeMajorLM` of ``net`` (eval mode), or None when its encoder is not a
    one-directional :class:`~lstmkit.nn.lstm.LSTM` (a GRU keeps the plain stateful graph)."""
    enc = getattr(net, "encoder", None)
    if type(enc) is not LSTM or enc.bidirectional or not hasattr(net, "embedding"):
        return None
    return TimeMajorLM(net)
