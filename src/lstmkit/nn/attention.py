"""Attention layers.

:class:`SelfAttention` is multi-head self-attention over a sequence of encoder outputs with a
residual connection and layer norm, as used by the ``lstm-attention`` zoo entry::

    a   = MultiHead(q=h, k=h, v=h; causal mask, key padding mask)   # [B, T, D]
    out = LayerNorm(h + Dropout(a))                                  # [B, T, D]

Set ``record = True`` to keep the attention weights of the last call in ``last_weights``
(``[B, heads, T_query, T_key]``; zero in the rows and columns past each sequence's length),
which ``lstmkit inspect attention`` plots. Both are the calling
thread's own: two threads recording one model at once each get the weights of their own input,
and a thread predicting meanwhile neither records nor pays for the weights.

Under ONNX export (the TorchScript tracer) the attention runs through :func:`attend`, plain
matmul / softmax ops over ``nn.MultiheadAttention``'s own parameters: torch's attention, traced,
freezes the sequence length into its reshapes, so the graph would fail on any other length.
Training and eager inference keep ``nn.MultiheadAttention`` itself (the same numbers as before).
"""
from __future__ import annotations

import math
import threading
import weakref

import torch
from torch import Tensor, nn

from lstmkit.nn.blocks import exporting, valid_mask, zero_padding

__all__ = ["SelfAttention", "attend", "causal_mask", "pick_heads"]


_CALLS = threading.local()       # this thread's recording layers -> their last weights (None before a call)


def _recording() -> "weakref.WeakKeyDictionary[SelfAttention, Tensor | None]":
    layers = getattr(_CALLS, "layers", None)
    if layers is None:
        layers = _CALLS.layers = weakref.WeakKeyDictionary()
    return layers


def causal_mask(steps: int, device=None) -> Tensor:
    """``[T, T]`` bool, True above the diagonal: query t may not attend to keys after t."""
    return torch.ones(steps, steps, dtype=torch.bool, device=device).triu(1)


def attend(mha: nn.MultiheadAttention, x: Tensor, attn_mask: Tensor | None = None,
           key_padding_mask: Tensor | None = None) -> Tensor:
    """``mha``'s self-attention over ``x [B, T, D]`` (batch-first, eval: no dropout) in explicit
    ops whose shapes follow ``x``: ``attn_mask [T, T]`` and ``key_padding_mask [B, T]`` are bool,
    True = not attended. Equals ``mha(x, x, x, ...)[0]`` up to float rounding."""
    heads = mha.num_heads
    q, k, v = nn.functional.linear(x, mha.in_proj_weight, mha.in_proj_bias).chunk(3, dim=-1)
    q, k, v = (t.unflatten(-1, (heads, -1)).transpose(1, 2) for t in (q, k, v))     # [B, heads, T, d]
    scores = q @ k.transpose(-2, -1) / math.sqrt(mha.head_dim)                       # [B, heads, T, T]
    if attn_mask is not None:
        scores = scores.masked_fill(attn_mask, float("-inf"))
    if key_padding_mask is not None:
        scores = scores.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))
    out = (scores.softmax(dim=-1) @ v).transpose(1, 2).flatten(2)                    # [B, T, D]
    return mha.out_proj(out)


def pick_heads(d_model: int, preferred: tuple[int, ...] = (8, 4, 2)) -> int:
    """The largest preferred head count that divides ``d_model`` with heads of 8+ units, else 1."""
    for h in preferred:
        if d_model % h == 0 and d_model // h >= 8:
            return h
    return 1


class SelfAttention(nn.Module):
    """Multi-head self-attention + residual + LayerNorm over ``x [B, T, D]``.

    Args:
        d_model: feature size D (kept).
        num_heads: attention heads; must divide ``d_model``. None picks one (:func:`pick_heads`).
        dropout: on the attention weights and on the residual branch.
        causal: query step t attends to steps ``<= t`` only.

    ``forward(x, lengths=None) -> [B, T, D]``; keys past a sequence's length are masked and the
    outputs there are zero.
    """

    def __init__(self, d_model: int, num_heads: int | None = None, dropout: float = 0.0, causal: bool = True):
        super().__init__()
        num_heads = num_heads or pick_heads(d_model)
        if d_model % num_heads:
            raise ValueError(f"SelfAttention: num_heads ({num_heads}) must divide d_model ({d_model})")
        self.attn = nn.MultiheadAttention(d_model, num_heads, dropout=dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(d_model)
        self.causal = causal
        self.num_heads = num_heads

    @property
    def record(self) -> bool:
        """Whether this thread's calls keep their attention weights in ``last_weights``. The calling
        thread's own: as attributes of the shared layer, a thread recording read the weights of
        another thread's input, or None once the other had finished."""
        return self in _recording()

    @record.setter
    def record(self, on: bool) -> None:
        if on:
            _recording().setdefault(self, None)
        else:
            _recording().pop(self, None)

    @property
    def last_weights(self) -> Tensor | None:
        """The attention weights ``[B, heads, T, T]`` of this thread's last call while recording."""
        return _recording().get(self)

    def extra_repr(self) -> str:
        return f"causal={self.causal}"

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        steps = x.shape[1]
        mask = causal_mask(steps, x.device) if self.causal else None
        pad = None
        if lengths is not None:
            pad = ~valid_mask(torch.as_tensor(lengths).to(x.device), steps)  # [B, T] True = padding
        if exporting():
            return zero_padding(self.norm(x + attend(self.attn, x, mask, pad)), lengths)
        recording = _recording()
        record = self in recording
        a, w = self.attn(x, x, x, attn_mask=mask, key_padding_mask=pad,
                         need_weights=record, average_attn_weights=False)
        if record:
            w = w.detach()                                                  # [B, heads, T, T]
            # a padded step's own row is zero, as the outputs (and the gates recorded) are there:
            # torch answers its query too, a row summing to 1 that a plot showed as attention
            recording[self] = w if pad is None else w.masked_fill(pad[:, None, :, None], 0.0)
        return zero_padding(self.norm(x + self.dropout(a)), lengths)
