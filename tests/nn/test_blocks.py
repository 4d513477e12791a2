"""Blocks: masks, causal convolutions, positional encoding, heads."""
from __future__ import annotations

import pytest
import torch

from lstmkit.errors import LstmkitError
from lstmkit.nn.blocks import CausalConv1d, PositionalEncoding, TemporalBlock, make_head, valid_mask, zero_padding


def test_valid_mask_and_zero_padding():
    mask = valid_mask(torch.tensor([3, 1]), 4)
    assert mask.tolist() == [[True, True, True, False], [True, False, False, False]]
    x = torch.ones(2, 4, 2)
    assert zero_padding(x, torch.tensor([3, 1])).sum().item() == 2 * (3 + 1)
    assert zero_padding(x, None) is x


@pytest.mark.parametrize("dilation", [1, 3])
def test_causal_conv_reads_only_the_past(dilation):
    conv = CausalConv1d(2, 3, kernel_size=3, dilation=dilation)
    x = torch.randn(1, 12, 2)
    y = conv(x)
    assert y.shape == (1, 12, 3)
    changed = x.clone()
    changed[:, 7:] += 1
    torch.testing.assert_close(conv(changed)[:, :7], y[:, :7])
    # the output at t reads t - 2·dilation: changing that step changes it
    earlier = x.clone()
    earlier[:, 6 - 2 * dilation] += 1
    assert not torch.allclose(conv(earlier)[:, 6], y[:, 6])


def test_same_padding_when_not_causal():
    conv = CausalConv1d(1, 1, kernel_size=3, causal=False)
    x = torch.randn(1, 6, 1)
    changed = x.clone()
    changed[:, 4] += 1
    assert not torch.allclose(conv(changed)[:, 3], conv(x)[:, 3])      # sees one step ahead
    torch.testing.assert_close(conv(changed)[:, :3], conv(x)[:, :3])


def test_positional_encoding_values():
    pe = PositionalEncoding(4)
    out = pe(torch.zeros(1, 3, 4))
    t = torch.arange(3.0)
    torch.testing.assert_close(out[0, :, 0], torch.sin(t))
    torch.testing.assert_close(out[0, :, 1], torch.cos(t))
    torch.testing.assert_close(out[0, :, 2], torch.sin(t / 100.0))
    with pytest.raises(ValueError, match="at most"):
        PositionalEncoding(4, max_len=2)(torch.zeros(1, 3, 4))


def test_temporal_block_residual_and_shape():
    block = TemporalBlock(2, 5, kernel_size=3, dilation=2)
    assert block(torch.randn(3, 9, 2)).shape == (3, 9, 5)
    assert isinstance(TemporalBlock(5, 5, 3, 1).residual, torch.nn.Identity)


def test_make_head():
    assert make_head("linear", 8, 2)(torch.zeros(4, 8)).shape == (4, 2)
    mlp = make_head("mlp", 8, 2)
    assert sum(p.numel() for p in mlp.parameters()) == 8 * 25 + 25 + 25 * 2 + 2
    with pytest.raises(LstmkitError, match="linear, mlp"):
        make_head("wide", 8, 2)
