"""Property-based: every zoo encoder, in eval mode, answers each row of a batch as it answers that
row alone (no leakage across the batch through padding, attention or batch norm), with and without
lengths, for generated sizes, depths, batch sizes and sequence lengths down to one step."""
from __future__ import annotations

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstmkit.nn.zoo import ENCODERS, make_encoder
from one_thread import one_thread  # noqa: F401  (autouse: one torch thread)

FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@st.composite
def cases(draw):
    batch = draw(st.integers(1, 4))
    steps = draw(st.integers(1, 7))
    return {
        "name": draw(st.sampled_from(list(ENCODERS))),
        "input_size": draw(st.integers(1, 9)),
        "hidden_size": draw(st.integers(1, 9)),
        "num_layers": draw(st.integers(1, 3)),
        "dropout": draw(st.sampled_from([0.0, 0.3])),
        "causal": draw(st.booleans()),
        "batch": batch,
        "steps": steps,
        "lengths": draw(st.none() | st.lists(st.integers(1, steps), min_size=batch, max_size=batch)),
        "seed": draw(st.integers(0, 2**16)),
    }


def _encoder(case):
    torch.manual_seed(case["seed"])
    enc = make_encoder(case["name"], case["input_size"], case["hidden_size"], case["num_layers"],
                       case["dropout"], causal=case["causal"]).double()
    # batch norm with statistics of its own, so eval mode reads something other than 0 / 1
    for m in enc.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    return enc.eval()


@FUZZ
@given(case=cases())
def test_each_row_of_a_batch_equals_that_row_alone(case):
    enc = _encoder(case)
    gen = torch.Generator().manual_seed(case["seed"])
    x = torch.randn(case["batch"], case["steps"], case["input_size"], generator=gen, dtype=torch.float64)
    lengths = case["lengths"]
    padded = x.clone()
    if lengths is not None:
        for b, n in enumerate(lengths):
            padded[b, n:] = 1e3                      # padding that must never be read
    with torch.no_grad():
        out, _ = enc(padded, lengths=None if lengths is None else torch.tensor(lengths))
        assert out.shape == (case["batch"], case["steps"], enc.output_size)
        assert torch.isfinite(out).all()
        for b in range(case["batch"]):
            n = case["steps"] if lengths is None else lengths[b]
            alone, _ = enc(x[b:b + 1, :n])
            torch.testing.assert_close(out[b:b + 1, :n], alone, atol=1e-9, rtol=0)
            assert out[b, n:].abs().sum().item() == 0
