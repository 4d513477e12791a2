"""Self-attention block: causal mask, padding mask, recorded weights."""
from __future__ import annotations

import torch

from lstmkit.nn.attention import SelfAttention, causal_mask, pick_heads


def test_causal_mask_and_heads():
    assert causal_mask(3).tolist() == [[False, True, True], [False, False, True], [False, False, False]]
    assert pick_heads(50) == 2 and pick_heads(64) == 8 and pick_heads(7) == 1
    # the most preferred heads of at least 8 units each: 16 -> 2 x 8 (not 4 x 4), 24 -> 2 x 12, 32 -> 4 x 8
    assert pick_heads(16) == 2 and pick_heads(24) == 2 and pick_heads(32) == 4


def test_recorded_weights_respect_causality_and_padding():
    torch.manual_seed(0)
    attn = SelfAttention(8, num_heads=2, causal=True).eval()
    attn.record = True
    x = torch.randn(2, 5, 8)
    out = attn(x, lengths=torch.tensor([5, 3]))
    w = attn.last_weights                                                   # [B, heads, T, T]
    assert w.shape == (2, 2, 5, 5)
    torch.testing.assert_close(w.sum(-1)[0], torch.ones(2, 5))
    assert w[0].triu(1).abs().max() == 0                                    # no attention to the future
    assert w[1, :, :, 3:].abs().max() == 0                                  # nor to padding
    assert out[1, 3:].abs().max() == 0
    # padded steps attend to nothing either: torch answers their queries too (rows summing to 1,
    # drawn as attention of steps the sequence does not have)
    assert w[1, :, 3:].abs().max() == 0
    attn(x[1:, :3])                                                         # the sequence alone
    torch.testing.assert_close(w[1, :, :3, :3], attn.last_weights[0])
