"""Property-based equivalence of lstmkit's LSTM and LSTMCell with torch.nn.LSTM / torch.nn.LSTMCell
over generated configurations (sizes 1..9, 1..3 layers, both directions and layouts, batch 1 and
more, one step, given and omitted states, lengths, eval-mode dropout), in float64 with weights
copied both ways; and the paths inside lstmkit's LSTM against each other: the fused kernels, the
recorded gate equations, and ``step`` carried over a sequence."""
from __future__ import annotations

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstmkit.nn.lstm import LSTM, LSTMCell
from one_thread import one_thread  # noqa: F401  (autouse: one torch thread)

ATOL = 1e-10
FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@st.composite
def configs(draw, bidirectional=None):
    """One LSTM configuration and a batch for it: sizes, layout, lengths and initial state."""
    batch = draw(st.integers(1, 4))
    steps = draw(st.integers(1, 6))
    bi = draw(st.booleans()) if bidirectional is None else bidirectional
    return {
        "input_size": draw(st.integers(1, 9)),
        "hidden_size": draw(st.integers(1, 9)),
        "num_layers": draw(st.integers(1, 3)),
        "bias": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
        "bidirectional": bi,
        "dropout": draw(st.sampled_from([0.0, 0.5])),
        "batch": batch,
        "steps": steps,
        "lengths": draw(st.none() | st.lists(st.integers(1, steps), min_size=batch, max_size=batch)),
        "with_state": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


def _module_kwargs(cfg):
    keys = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "bidirectional")
    kwargs = {k: cfg[k] for k in keys}
    kwargs["dropout"] = cfg["dropout"] if cfg["num_layers"] > 1 else 0.0
    return kwargs


def _inputs(cfg):
    gen = torch.Generator().manual_seed(cfg["seed"])
    b, t, i = cfg["batch"], cfg["steps"], cfg["input_size"]
    x = torch.randn((b, t, i) if cfg["batch_first"] else (t, b, i), generator=gen, dtype=torch.float64)
    state = None
    if cfg["with_state"]:
        shape = (cfg["num_layers"] * (2 if cfg["bidirectional"] else 1), b, cfg["hidden_size"])
        state = tuple(torch.randn(shape, generator=gen, dtype=torch.float64) for _ in range(2))
    return x, state


def _ref_forward(ref, x, state, lengths):
    if lengths is None:
        return ref(x, state)
    packed = pack_padded_sequence(x, torch.as_tensor(lengths), batch_first=ref.batch_first, enforce_sorted=False)
    out, hc = ref(packed, state)
    steps = x.size(1) if ref.batch_first else x.size(0)
    out, _ = pad_packed_sequence(out, batch_first=ref.batch_first, total_length=steps)
    return out, hc


def _pair(cfg, torch_first):
    """Our LSTM and a torch.nn.LSTM with the same float64 weights, copied from torch into ours
    (``torch_first``) or from ours into torch."""
    torch.manual_seed(cfg["seed"])
    kwargs = _module_kwargs(cfg)
    ours = LSTM(**kwargs).double().eval()
    ref = torch.nn.LSTM(**kwargs).double().eval()
    assert list(ours.state_dict()) == list(ref.state_dict())
    if torch_first:
        ours.load_state_dict(ref.state_dict())
    else:
        ref.load_state_dict(ours.state_dict())
    return ours, ref


def _close(actual, expected, msg=""):
    torch.testing.assert_close(actual, expected, atol=ATOL, rtol=0, msg=msg or None)


@FUZZ
@given(cfg=configs(), torch_first=st.booleans(), record_gates=st.booleans())
def test_lstm_equals_torch_lstm(cfg, torch_first, record_gates):
    ours, ref = _pair(cfg, torch_first)
    x, state = _inputs(cfg)
    result = ours(x, state, lengths=cfg["lengths"], record_gates=record_gates)
    out, (h, c) = result[:2]
    ref_out, (ref_h, ref_c) = _ref_forward(ref, x, state, cfg["lengths"])
    assert out.shape == ref_out.shape
    _close(out, ref_out, "out")
    _close(h, ref_h, "h_n")
    _close(c, ref_c, "c_n")


@FUZZ
@given(cfg=configs())
def test_fused_and_recording_paths_agree_with_gradients(cfg):
    ours, _ = _pair(cfg, torch_first=False)
    x, state = _inputs(cfg)
    grads = []
    results = []
    for record_gates in (False, True):
        ours.zero_grad()
        xg = x.clone().requires_grad_()
        out, (h, c) = ours(xg, state, lengths=cfg["lengths"], record_gates=record_gates)[:2]
        gen = torch.Generator().manual_seed(1)
        loss = sum((t * torch.randn(t.shape, generator=gen, dtype=t.dtype)).sum() for t in (out, h, c))
        loss.backward()
        results.append((out, h, c))
        grads.append([xg.grad] + [p.grad.clone() for p in ours.parameters()])
    for a, b in zip(results[0], results[1]):
        _close(a, b)
    for a, b in zip(grads[0], grads[1]):
        _close(a, b)


@FUZZ
@given(cfg=configs())
def test_recorded_gates_reproduce_outputs(cfg):
    ours, _ = _pair(cfg, torch_first=False)
    x, state = _inputs(cfg)
    out, (h_n, c_n), gates = ours(x, state, lengths=cfg["lengths"], record_gates=True)
    layers, dirs, hidden = cfg["num_layers"], 2 if cfg["bidirectional"] else 1, cfg["hidden_size"]
    b_, t_ = cfg["batch"], cfg["steps"]
    for value in gates.values():
        assert value.shape == (layers * dirs, b_, t_, hidden)
    out_bt = out if cfg["batch_first"] else out.transpose(0, 1)
    c0 = torch.zeros(layers * dirs, b_, hidden, dtype=torch.float64) if state is None else state[1]
    h0 = torch.zeros_like(c0) if state is None else state[0]
    lengths = cfg["lengths"] or [t_] * b_
    i, f, g, o, c = (gates[k] for k in "ifgoc")
    for k in range(layers * dirs):
        reverse = k % dirs == 1
        layer = k // dirs
        w_ih, w_hh, b_ih, b_hh = ours.layer_weights(layer, k % dirs)
        for b in range(b_):
            n = lengths[b]
            c_prev, h_prev = c0[k, b], h0[k, b]
            for t in (range(n - 1, -1, -1) if reverse else range(n)):
                c_t = f[k, b, t] * c_prev + i[k, b, t] * g[k, b, t]
                _close(c[k, b, t], c_t, "c from the gates")
                h_t = o[k, b, t] * torch.tanh(c_t)
                if layer == layers - 1:
                    column = slice(hidden, 2 * hidden) if reverse else slice(0, hidden)
                    _close(out_bt[b, t, column], h_t, "h from the gates")
                c_prev, h_prev = c_t, h_t
            _close(h_n[k, b], h_prev, "h_n from the gates")
            _close(c_n[k, b], c_prev, "c_n from the gates")
            assert torch.count_nonzero(torch.stack([gates[name][k, b, n:] for name in "ifgoc"])) == 0


@FUZZ
@given(cfg=configs(bidirectional=False))
def test_step_carried_over_a_sequence_equals_forward(cfg):
    ours, _ = _pair(cfg, torch_first=False)
    x, state = _inputs(cfg)
    out, (h_n, c_n) = ours(x, state)
    xb = x if cfg["batch_first"] else x.transpose(0, 1)
    outs = []
    carried = state
    for t in range(cfg["steps"]):
        y, carried = ours.step(xb[:, t], carried)
        outs.append(y)
    _close(torch.stack(outs, dim=1), out if cfg["batch_first"] else out.transpose(0, 1))
    _close(carried[0], h_n)
    _close(carried[1], c_n)


@FUZZ
@given(cfg=configs())
def test_each_row_of_a_batch_equals_that_row_alone(cfg):
    ours, _ = _pair(cfg, torch_first=False)
    x, state = _inputs(cfg)
    lengths = cfg["lengths"]
    out, (h_n, c_n) = ours(x, state, lengths=lengths)
    time = 1 if cfg["batch_first"] else 0
    batch_dim = 1 - time
    for b in range(cfg["batch"]):
        n = cfg["steps"] if lengths is None else lengths[b]
        xb = x.narrow(batch_dim, b, 1).narrow(time, 0, n)
        sb = None if state is None else tuple(s[:, b:b + 1] for s in state)
        alone, (h, c) = ours(xb, sb)
        _close(out.narrow(batch_dim, b, 1).narrow(time, 0, n), alone)
        _close(h_n[:, b:b + 1], h)
        _close(c_n[:, b:b + 1], c)


@st.composite
def cell_cases(draw):
    return {
        "input_size": draw(st.integers(1, 9)),
        "hidden_size": draw(st.integers(1, 9)),
        "bias": draw(st.booleans()),
        "batch": draw(st.integers(1, 4)),
        "with_state": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
        "torch_first": draw(st.booleans()),
    }


@FUZZ
@given(case=cell_cases())
def test_cell_equals_torch_lstm_cell_both_paths(case):
    torch.manual_seed(case["seed"])
    ours = LSTMCell(case["input_size"], case["hidden_size"], bias=case["bias"]).double()
    ref = torch.nn.LSTMCell(case["input_size"], case["hidden_size"], bias=case["bias"]).double()
    assert list(ours.state_dict()) == list(ref.state_dict())
    if case["torch_first"]:
        ours.load_state_dict(ref.state_dict())
    else:
        ref.load_state_dict(ours.state_dict())
    gen = torch.Generator().manual_seed(case["seed"])
    x = torch.randn(case["batch"], case["input_size"], generator=gen, dtype=torch.float64)
    state = None
    if case["with_state"]:
        state = tuple(torch.randn(case["batch"], case["hidden_size"], generator=gen, dtype=torch.float64)
                      for _ in range(2))
    ref_h, ref_c = ref(x, state)
    h, c = ours(x, state)
    _close(h, ref_h)
    _close(c, ref_c)
    (h, c), gates = ours.forward_with_gates(x, state)
    _close(h, ref_h)
    _close(c, ref_c)
    c_prev = torch.zeros_like(c) if state is None else state[1]
    _close(gates["f"] * c_prev + gates["i"] * gates["g"], c)
    _close(gates["o"] * torch.tanh(c), h)
    # the cell is the one-layer LSTM's step
    lstm = LSTM(case["input_size"], case["hidden_size"], bias=case["bias"]).double()
    lstm.load_state_dict({k + "_l0": v for k, v in ours.state_dict().items()})
    s = None if state is None else tuple(t[None] for t in state)
    y, (hl, cl) = lstm.step(x, s)
    _close(y, h)
    _close(hl[0], h)
    _close(cl[0], c)


@FUZZ
@given(cfg=configs(), training=st.booleans())
def test_float32_padded_kernel_equals_torch_packed(cfg, training):
    """float32 with lengths on the CPU takes the padded oneDNN kernel (float64 the packed one)."""
    if cfg["lengths"] is None:
        cfg["lengths"] = [cfg["steps"]] * cfg["batch"]
    cfg["dropout"] = 0.0   # training mode without dropout: both deterministic
    ours, ref = _pair(cfg, torch_first=True)
    ours.float().train(training)
    ref.float().train(training)
    x, state = _inputs(cfg)
    x = x.float()
    state = None if state is None else tuple(s.float() for s in state)
    assert ours._padded_kernel_applies(x, torch.as_tensor(cfg["lengths"]))
    out, (h, c) = ours(x, state, lengths=cfg["lengths"])
    ref_out, (ref_h, ref_c) = _ref_forward(ref, x, state, cfg["lengths"])
    for a, b in ((out, ref_out), (h, ref_h), (c, ref_c)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@FUZZ
@given(cfg=configs())
def test_swapped_for_torchs_own_layer_answers_the_same(cfg):
    """``swap_recurrent`` (the int8 path and the exported classifier's graph) puts torch's own LSTM
    in place of lstmkit's: with every setting, ``bias=False`` (its copy failed on the missing bias
    keys), ``batch_first=False`` (its copy read the time axis as the batch), float64 (its copy was
    float32) and eval mode (its copy ran dropout between layers) among them."""
    from lstmkit.deploy.int8_torch import TorchRNN, swap_recurrent
    ours, _ = _pair(cfg, torch_first=False)
    swapped = swap_recurrent(torch.nn.Sequential(ours))[0]
    assert isinstance(swapped, TorchRNN)
    x, state = _inputs(cfg)
    for lengths in (None, cfg["lengths"]):
        out, (h, c) = ours(x, state, lengths=lengths)
        got, (gh, gc) = swapped(x, state, lengths=lengths)
        for a, b in ((got, out), (gh, h), (gc, c)):
            _close(a, b)
