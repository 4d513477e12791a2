"""The padded and packed kernels of lstmkit.nn.lstm_kernels agree, and the CPU picks the padded one."""
from __future__ import annotations

import pytest
import torch

from lstmkit.nn.lstm import LSTM


@pytest.mark.parametrize("layers,bi,batch_first", [(1, True, True), (2, True, False), (3, False, True)])
def test_padded_cpu_path_matches_the_packed_path_with_gradients(layers, bi, batch_first):
    # On the CPU, forward(lengths=...) runs the fused padded kernel in chunks cut at the
    # distinct lengths; outputs, final states and every gradient must match the packed path.
    torch.manual_seed(0)
    model = LSTM(5, 7, num_layers=layers, bidirectional=bi, batch_first=batch_first).train()
    lengths = torch.tensor([6, 3, 6, 1, 4])
    assert model._padded_kernel_applies(torch.randn(5, 6, 5), lengths)
    x = torch.randn(5, 6, 5) if batch_first else torch.randn(6, 5, 5)
    h0 = torch.randn(layers * (2 if bi else 1), 5, 7)
    c0 = torch.randn_like(h0)
    results = []
    for padded in (True, False):
        model.zero_grad()
        xx = x.clone().requires_grad_()
        run = model._forward_padded if padded else model._forward_packed
        out, (h, c) = run(xx, (h0, c0), lengths, 6)
        (out.square().sum() + h.sum() + 2 * c.sum()).backward()
        results.append([out, h, c, xx.grad, *(p.grad.clone() for p in model.parameters())])
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_padded_path_takes_long_batches_with_many_distinct_lengths():
    # One kernel call per distinct length: worth it once the steps far outnumber the calls
    # (a long-tailed text batch: 59 lengths in 500..800 ran 10x faster padded than packed).
    model = LSTM(3, 4, batch_first=True)
    x = torch.zeros(40, 100, 3)
    assert model._padded_kernel_applies(x, torch.arange(61, 101))            # 40 lengths, up to 100
    assert not model._padded_kernel_applies(x[:, :60], torch.arange(21, 61))  # 40 lengths, up to 60
    assert model._padded_kernel_applies(x[:, :60], torch.arange(29, 61))      # 32 lengths: always


def test_one_step_of_a_unidirectional_lstm_on_the_cpu_takes_the_cell_loop():
    # the per-layer fused cell is the CPU's one-step path; a bidirectional LSTM needs the sequence kernel
    x = torch.zeros(2, 1, 3)
    assert LSTM(3, 4, num_layers=2)._cell_loop_applies(x)
    assert not LSTM(3, 4, bidirectional=True)._cell_loop_applies(x)


def test_the_bf16_probe_answers_whether_the_kernel_ran(monkeypatch):
    # the probe is cached per process; its body runs the fused LSTM under bf16 autocast once and
    # answers False where oneDNN refuses ("could not create a primitive descriptor" on AVX2)
    import lstmkit.nn.lstm_kernels as mod

    class Refusing:
        @staticmethod
        def lstm(*args):
            raise RuntimeError("could not create a primitive descriptor for an LSTM forward propagation primitive")

    class Running:
        @staticmethod
        def lstm(*args):
            return args[0], args[1][0], args[1][1]

    monkeypatch.setattr(mod, "_VF", Refusing)
    assert mod._cpu_runs_bf16_lstm.__wrapped__() is False
    monkeypatch.setattr(mod, "_VF", Running)
    assert mod._cpu_runs_bf16_lstm.__wrapped__() is True


def test_a_state_that_is_not_a_pair_is_named_under_bf16_autocast_too(monkeypatch):
    # where autocast runs the LSTM in float32 the state is cast first; a lone tensor [L, B, H] (h
    # without c) must still be the pair error, not be iterated into a "pair" of its rows
    import lstmkit.nn.lstm_kernels as mod
    monkeypatch.setattr(mod, "_cpu_runs_bf16_lstm", lambda: False)
    lstm = LSTM(3, 5, num_layers=2)
    x, h = torch.randn(4, 7, 3), torch.zeros(2, 4, 5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        with pytest.raises(ValueError, match="Expected state as a pair"):
            lstm(x, h)
        with pytest.raises(ValueError, match="Expected state as a pair"):
            lstm.step(x[:, 0], h)
