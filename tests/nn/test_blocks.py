"""Blocks: masks, causal convolutions, positional encoding, heads."""
from __future__ import annotations

import warnings

import pytest
import torch

from lstmkit.errors import LstmkitError
from lstmkit.nn.blocks import CausalConv1d, ConvFrontEnd, conv1d, PositionalEncoding, TemporalBlock, make_head, valid_mask, zero_padding


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


@pytest.mark.parametrize("kernel_size,dilation", [(3, 1), (4, 1), (4, 2)])
def test_same_padding_keeps_the_length_and_splits_the_reach(kernel_size, dilation):
    # "same" padding: (k-1)·d steps in all, half before (the extra one of an even reach after), so
    # the output at t reads t - floor(r/2) .. t + ceil(r/2), r = (k-1)·d, and has as many steps as x
    torch.manual_seed(0)
    conv = CausalConv1d(1, 1, kernel_size=kernel_size, dilation=dilation, causal=False)
    x = torch.randn(1, 9, 1)
    y = conv(x)
    assert y.shape == (1, 9, 1)
    reach = (kernel_size - 1) * dilation
    for step in (4 - reach // 2, 4 + reach - reach // 2):       # the first and last steps out[4] reads
        changed = x.clone()
        changed[:, step] += 1
        assert not torch.allclose(conv(changed)[:, 4], y[:, 4])


def test_conv_front_end_reads_the_two_steps_before_by_default():
    # kernel 3, causal: out[t] reads x[t-2 .. t]
    front = ConvFrontEnd(1, 4)
    with torch.no_grad():
        front.conv.weight.fill_(1.0)
        front.conv.bias.fill_(0.0)
    x = torch.zeros(1, 8, 1)
    x[0, 2] = 1.0
    out = front(x)[0, :, 0]
    assert out.tolist() == [0, 0, 1, 1, 1, 0, 0, 0]


def test_positional_encoding_values():
    pe = PositionalEncoding(4)
    out = pe(torch.zeros(1, 3, 4))
    t = torch.arange(3.0)
    torch.testing.assert_close(out[0, :, 0], torch.sin(t))
    torch.testing.assert_close(out[0, :, 1], torch.cos(t))
    torch.testing.assert_close(out[0, :, 2], torch.sin(t / 100.0))


@pytest.mark.parametrize("d_model", [4, 5])
def test_positional_encoding_goes_on_past_its_table(d_model):
    """A sequence longer than the table (a 12,000-token text to a transformer classifier of max_len
    none) was 'ValueError: PositionalEncoding: Expected at most 10000 steps', a traceback: its rows
    are those of a longer table."""
    x = torch.randn(2, 7, d_model)
    torch.testing.assert_close(PositionalEncoding(d_model, max_len=3)(x), PositionalEncoding(d_model, max_len=16)(x))
    assert PositionalEncoding(d_model)(torch.zeros(1, 10_001, d_model)).shape == (1, 10_001, d_model)


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


@pytest.mark.parametrize("stride, dilation, norm", [(1, 1, False), (2, 1, False), (1, 3, True)])
def test_conv1d_traces_as_a_2d_convolution_with_the_same_answer(stride, dilation, norm):
    """While traced (ONNX export), ``conv1d`` runs the convolution in 2-D with a height of 1 and
    the BatchNorm after it, answering as the eager 1-D convolution and norm do."""
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(3, 5, 4, stride=stride, dilation=dilation, padding=1)
    bn = torch.nn.BatchNorm1d(5) if norm else None
    if bn is not None:
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.eval()
    x = torch.randn(2, 3, 17)
    eager = conv1d(conv, x, bn)
    assert eager.shape == (2, 5, (17 + 2 - dilation * 3 - 1) // stride + 1)
    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn = conv, bn

        def forward(self, t):
            return conv1d(self.conv, t, self.bn)

    with warnings.catch_warnings():             # torch 2.13 deprecates jit.trace (the exporter's tracer)
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(Block().eval(), x)
    assert "aten::conv2d" in str(traced.graph) or "aten::_convolution" in str(traced.graph)
    assert not torch.jit.is_tracing()
    torch.testing.assert_close(traced(x), eager, atol=1e-5, rtol=1e-5)
    other = torch.randn(3, 3, 25)
    torch.testing.assert_close(traced(other), conv1d(conv, other, bn), atol=1e-5, rtol=1e-5)


def test_another_threads_onnx_export_leaves_this_threads_models_in_their_eager_form(tmp_path):
    """torch's 'in ONNX export' flag is the process's: while one thread exported a model, every
    other thread's transformer ran its export form (other numbers in the 8th digit) and its
    attention recorded nothing. The tracing thread's own tracer state decides now."""
    import threading

    from lstmkit.nn.attention import SelfAttention
    from lstmkit.nn.blocks import exporting
    from lstmkit.nn.zoo import make_encoder

    inside, release = threading.Event(), threading.Event()

    class Holding(torch.nn.Module):          # an export that stays inside the tracer until released
        def forward(self, x):
            inside.set()
            release.wait(120)
            return x + 1

    torch.manual_seed(0)
    enc = make_encoder("transformer", 3, 16, 2, 0.0, causal=False).eval()
    x, lengths = torch.randn(4, 9, 3), torch.tensor([9, 7, 5, 2])
    with torch.no_grad():
        alone = enc(x, lengths=lengths)[0]
    attn = next(m for m in make_encoder("lstm-attention", 3, 8, 1, 0.0).eval().modules() if isinstance(m, SelfAttention))
    t = threading.Thread(target=lambda: torch.onnx.export(Holding(), (torch.ones(1),), str(tmp_path / "h.onnx"),
                                                          dynamo=False))
    t.start()
    try:
        assert inside.wait(120)                 # a guard: torch.onnx's first import, on a loaded machine
        flagged = exporting()
        with torch.no_grad():
            during = enc(x, lengths=lengths)[0]
            attn.record = True
            attn(torch.randn(4, 9, 8))
        recorded = attn.last_weights
    finally:
        release.set()
        t.join()
    assert recorded is not None and recorded.shape == (4, attn.num_heads, 9, 9)
    assert torch.equal(during, alone)
    assert not flagged
