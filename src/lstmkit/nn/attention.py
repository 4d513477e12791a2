"""Attention layers.

:class:`SelfAttention` is multi-head self-attention over a sequence of encoder outputs with a
residual connection and layer norm, as used by the ``lstm-attention`` zoo entry::

    a   = MultiHead(q=h, k=h, v=h; causal mask, key padding mask)   # [B, T, D]
    out = LayerNorm(h + Dropout(a))                                  # [B, T, D]

Set ``record = True`` to keep the attention weights of the last call in ``last_weights``
(``[B, heads, T_query, T_key]``), which ``lstmkit inspect attention`` plots.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from lstmkit.nn.blocks import valid_mask, zero_padding

__all__ = ["SelfAttention", "causal_mask", "pick_heads"]


def causal_mask(steps: int, device=None) -> Tensor:
    """``[T, T]`` bool, True above the diagonal: query t may not attend to keys after t."""
    return torch.ones(steps, steps, dtype=torch.bool, device=device).triu(1)


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
        self.record = False
        self.last_weights: Tensor | None = None

    def extra_repr(self) -> str:
        return f"causal={self.causal}"

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        steps = x.shape[1]
        mask = causal_mask(steps, x.device) if self.causal else None
        pad = None
        if lengths is not None:
            pad = ~valid_mask(torch.as_tensor(lengths).to(x.device), steps)  # [B, T] True = padding
        a, w = self.attn(x, x, x, attn_mask=mask, key_padding_mask=pad,
                         need_weights=self.record, average_attn_weights=False)
        if self.record:
            self.last_weights = w.detach()                                  # [B, heads, T, T]
        return zero_padding(self.norm(x + self.dropout(a)), lengths)
