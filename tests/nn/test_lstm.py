"""LSTM and LSTMCell against torch.nn.LSTM / torch.nn.LSTMCell, in float64 with copied weights."""
from __future__ import annotations

import warnings

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstmkit.nn.lstm import LSTM, LSTMCell

ATOL = 1e-10


def _pair(input_size, hidden_size, seed=0, **kwargs):
    """Our LSTM and a torch.nn.LSTM holding the same random float64 weights."""
    torch.manual_seed(seed)
    ours = LSTM(input_size, hidden_size, **kwargs).double()
    batch_first = kwargs.pop("batch_first", True)
    ref = torch.nn.LSTM(input_size, hidden_size, batch_first=batch_first, **kwargs).double()
    ref.load_state_dict(ours.state_dict())
    return ours, ref


def _ref_forward(ref, x, state=None, lengths=None):
    if lengths is None:
        return ref(x, state)
    packed = pack_padded_sequence(
        x, torch.as_tensor(lengths), batch_first=ref.batch_first, enforce_sorted=False
    )
    out, (h, c) = ref(packed, state)
    steps = x.size(1) if ref.batch_first else x.size(0)
    out, _ = pad_packed_sequence(out, batch_first=ref.batch_first, total_length=steps)
    return out, (h, c)


def _loss(out, h, c, seed=1):
    """A scalar that weighs every element differently, so gradients see every position."""
    gen = torch.Generator().manual_seed(seed)
    return sum((t * torch.randn(t.shape, generator=gen, dtype=t.dtype)).sum() for t in (out, h, c))


def _grads(module):
    return {name: p.grad.clone() for name, p in module.named_parameters()}


CASES = [
    # batch, steps, input, hidden, layers, bidirectional, lengths
    (1, 1, 3, 4, 1, False, None),
    (1, 6, 2, 5, 1, False, None),
    (4, 1, 3, 4, 3, True, None),
    (3, 7, 4, 5, 1, True, None),
    (3, 5, 4, 3, 3, False, None),
    (3, 1, 4, 5, 3, False, None),      # one step, stacked: the per-layer cell loop
    (5, 6, 3, 4, 3, True, None),
    (1, 4, 3, 4, 1, False, [2]),
    (5, 6, 3, 4, 1, False, [3, 6, 1, 4, 2]),
    (5, 6, 3, 4, 1, True, [3, 6, 1, 4, 2]),
    (4, 5, 2, 3, 3, True, [5, 1, 3, 2]),
    (4, 5, 2, 3, 3, False, [2, 5, 5, 1]),
]


@pytest.mark.parametrize("record_gates", [False, True], ids=["fused", "gates"])
@pytest.mark.parametrize("batch,steps,inp,hidden,layers,bi,lengths", CASES)
def test_matches_torch_lstm_outputs_state_and_grads(
    batch, steps, inp, hidden, layers, bi, lengths, record_gates
):
    ours, ref = _pair(inp, hidden, num_layers=layers, bidirectional=bi)
    x = torch.randn(batch, steps, inp, dtype=torch.float64)
    x_ours = x.clone().requires_grad_()
    x_ref = x.clone().requires_grad_()

    result = ours(x_ours, lengths=lengths, record_gates=record_gates)
    out, (h, c) = result[:2]
    ref_out, (ref_h, ref_c) = _ref_forward(ref, x_ref, lengths=lengths)

    dirs = 2 if bi else 1
    assert out.shape == (batch, steps, dirs * hidden)
    assert h.shape == c.shape == (layers * dirs, batch, hidden)
    torch.testing.assert_close(out, ref_out, atol=ATOL, rtol=0)
    torch.testing.assert_close(h, ref_h, atol=ATOL, rtol=0)
    torch.testing.assert_close(c, ref_c, atol=ATOL, rtol=0)
    if lengths is not None:
        for b, n in enumerate(lengths):
            assert torch.count_nonzero(out[b, n:]) == 0
            assert torch.count_nonzero(out[b, :n]) == out[b, :n].numel()

    _loss(out, h, c).backward()
    _loss(ref_out, ref_h, ref_c).backward()
    ref_grads = _grads(ref)
    for name, grad in _grads(ours).items():
        if steps > 1 or "weight_hh" not in name:  # h_{-1} = 0 leaves W_hh no gradient at T=1
            assert grad.abs().max() > 0, name
        torch.testing.assert_close(grad, ref_grads[name], atol=ATOL, rtol=0, msg=name)
    torch.testing.assert_close(x_ours.grad, x_ref.grad, atol=ATOL, rtol=0)


@pytest.mark.parametrize("record_gates", [False, True], ids=["fused", "gates"])
@pytest.mark.parametrize("lengths", [None, [4, 2, 5]])
def test_time_major_layout_matches_torch(record_gates, lengths):
    ours, ref = _pair(3, 4, num_layers=2, bidirectional=True, batch_first=False)
    x = torch.randn(5, 3, 3, dtype=torch.float64)  # [T, B, I]
    out, (h, c) = ours(x, lengths=lengths, record_gates=record_gates)[:2]
    ref_out, (ref_h, ref_c) = _ref_forward(ref, x, lengths=lengths)
    assert out.shape == (5, 3, 8)
    torch.testing.assert_close(out, ref_out, atol=ATOL, rtol=0)
    torch.testing.assert_close(h, ref_h, atol=ATOL, rtol=0)
    torch.testing.assert_close(c, ref_c, atol=ATOL, rtol=0)


@pytest.mark.parametrize("record_gates", [False, True], ids=["fused", "gates"])
@pytest.mark.parametrize("lengths", [None, [3, 6, 1]])
def test_initial_state_is_used_like_torch(record_gates, lengths):
    ours, ref = _pair(2, 4, num_layers=2, bidirectional=True)
    x = torch.randn(3, 6, 2, dtype=torch.float64)
    h0 = torch.randn(4, 3, 4, dtype=torch.float64)
    c0 = torch.randn(4, 3, 4, dtype=torch.float64)
    out, (h, c) = ours(x, (h0, c0), lengths=lengths, record_gates=record_gates)[:2]
    ref_out, (ref_h, ref_c) = _ref_forward(ref, x, (h0, c0), lengths=lengths)
    torch.testing.assert_close(out, ref_out, atol=ATOL, rtol=0)
    torch.testing.assert_close(h, ref_h, atol=ATOL, rtol=0)
    torch.testing.assert_close(c, ref_c, atol=ATOL, rtol=0)
    zero_out, _ = ours(x, lengths=lengths)
    assert (out - zero_out).abs().max() > 1e-3


def test_bias_free_matches_torch():
    ours, ref = _pair(3, 4, num_layers=2, bias=False)
    assert not any("bias" in k for k in ours.state_dict())
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    ref_out, _ = ref(x)
    for record_gates in (False, True):
        out = ours(x, record_gates=record_gates)[0]
        torch.testing.assert_close(out, ref_out, atol=ATOL, rtol=0)


@pytest.mark.parametrize("layers,bi", [(1, False), (3, True)])
def test_state_dict_round_trip_both_ways(layers, bi):
    torch.manual_seed(3)
    ref = torch.nn.LSTM(3, 5, num_layers=layers, bidirectional=bi, batch_first=True).double()
    ours = LSTM(3, 5, num_layers=layers, bidirectional=bi).double()
    assert list(ours.state_dict()) == list(ref.state_dict())
    for key, value in ours.state_dict().items():
        assert value.shape == ref.state_dict()[key].shape, key

    ours.load_state_dict(ref.state_dict())  # torch -> ours
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    torch.testing.assert_close(ours(x)[0], ref(x)[0], atol=ATOL, rtol=0)

    fresh = torch.nn.LSTM(3, 5, num_layers=layers, bidirectional=bi, batch_first=True).double()
    assert (fresh(x)[0] - ours(x)[0]).abs().max() > 1e-3
    fresh.load_state_dict(ours.state_dict())  # ours -> torch
    torch.testing.assert_close(fresh(x)[0], ours(x)[0], atol=ATOL, rtol=0)


def test_init_is_uniform_within_torch_bound():
    torch.manual_seed(0)
    model = LSTM(6, 16, num_layers=2, bidirectional=True)
    bound = 1 / 16**0.5
    values = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert values.abs().max() <= bound
    assert values.abs().max() > 0.9 * bound
    assert abs(values.mean().item()) < 0.02


def _check_gate_recurrence(out, c0, h0, gates, layers, dirs, hidden, lengths, steps):
    """Rebuild h_t and c_t from the recorded gates alone and compare with what was returned."""
    i, f, g, o, c = (gates[k] for k in "ifgoc")
    batch = out.size(0)
    top = slice((layers - 1) * dirs, layers * dirs)
    for k in range(layers * dirs):
        reverse = k % dirs == 1
        for b in range(batch):
            n = steps if lengths is None else lengths[b]
            order = range(n - 1, -1, -1) if reverse else range(n)
            c_prev = c0[k, b]
            for t in order:
                c_t = f[k, b, t] * c_prev + i[k, b, t] * g[k, b, t]
                torch.testing.assert_close(c[k, b, t], c_t, atol=ATOL, rtol=0)
                h_t = o[k, b, t] * torch.tanh(c_t)
                if k in range(top.start, top.stop):
                    column = slice(hidden, 2 * hidden) if reverse else slice(0, hidden)
                    torch.testing.assert_close(out[b, t, column], h_t, atol=ATOL, rtol=0)
                c_prev = c_t
            for name in "ifgoc":
                assert torch.count_nonzero(gates[name][k, b, n:]) == 0
    for name in "ifo":
        valid = gates[name][gates[name] != 0]
        assert ((valid > 0) & (valid < 1)).all()
    assert (g.abs() < 1).all()


@pytest.mark.parametrize("layers,bi,lengths", [(1, False, None), (3, True, [5, 2, 4])])
def test_recorded_gates_reproduce_outputs(layers, bi, lengths):
    ours, _ = _pair(3, 4, num_layers=layers, bidirectional=bi)
    dirs = 2 if bi else 1
    x = torch.randn(3, 5, 3, dtype=torch.float64)
    h0 = torch.randn(layers * dirs, 3, 4, dtype=torch.float64)
    c0 = torch.randn(layers * dirs, 3, 4, dtype=torch.float64)
    out, (h_n, c_n), gates = ours(x, (h0, c0), lengths=lengths, record_gates=True)
    assert set(gates) == {"i", "f", "g", "o", "c"}
    for value in gates.values():
        assert value.shape == (layers * dirs, 3, 5, 4)
    _check_gate_recurrence(out, c0, h0, gates, layers, dirs, 4, lengths, 5)
    # The forward direction's final cell state is the recorded c at the last valid step.
    last = [4] * 3 if lengths is None else [n - 1 for n in lengths]
    for b, t in enumerate(last):
        torch.testing.assert_close(c_n[-dirs, b], gates["c"][-dirs, b, t], atol=ATOL, rtol=0)


@pytest.mark.parametrize("cell_loop", [True, False], ids=["cpu-cell-loop", "sequence-kernel"])
@pytest.mark.parametrize("layers", [1, 3])
def test_step_over_sequence_equals_forward(layers, cell_loop, monkeypatch):
    # off the CPU (cell_loop False) a step runs the sequence kernel over one time-major step
    if not cell_loop:
        monkeypatch.setattr(LSTM, "_cell_loop_applies", lambda self, x: False)
    ours, _ = _pair(3, 4, num_layers=layers)
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    h0 = torch.randn(layers, 2, 4, dtype=torch.float64)
    c0 = torch.randn(layers, 2, 4, dtype=torch.float64)
    out, (h_n, c_n) = ours(x, (h0, c0))
    state = (h0, c0)
    ys = []
    for t in range(6):
        y, state = ours.step(x[:, t], state)
        ys.append(y)
    torch.testing.assert_close(torch.stack(ys, dim=1), out, atol=ATOL, rtol=0)
    torch.testing.assert_close(state[0], h_n, atol=ATOL, rtol=0)
    torch.testing.assert_close(state[1], c_n, atol=ATOL, rtol=0)
    y0, _ = ours.step(x[:, 0])  # no state means zeros
    torch.testing.assert_close(y0, ours(x[:, :1])[0][:, 0], atol=ATOL, rtol=0)


def test_step_rejects_bidirectional_and_bad_shapes():
    model = LSTM(3, 4, bidirectional=True)
    with pytest.raises(ValueError, match="bidirectional"):
        model.step(torch.randn(2, 3))
    model = LSTM(3, 4)
    with pytest.raises(ValueError, match=r"Expected x_t of shape \[B, I\], got \[2, 1, 3\]"):
        model.step(torch.randn(2, 1, 3))
    with pytest.raises(ValueError, match="Expected input feature size 3, got 5"):
        model.step(torch.randn(2, 5))


@pytest.mark.parametrize("bias", [True, False])
def test_cell_matches_torch_lstm_cell(bias):
    torch.manual_seed(0)
    ours = LSTMCell(3, 5, bias=bias).double()
    ref = torch.nn.LSTMCell(3, 5, bias=bias).double()
    assert list(ours.state_dict()) == list(ref.state_dict())
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(4, 3, dtype=torch.float64)
    h0 = torch.randn(4, 5, dtype=torch.float64)
    c0 = torch.randn(4, 5, dtype=torch.float64)
    ref_h, ref_c = ref(x, (h0, c0))
    h, c = ours(x, (h0, c0))
    torch.testing.assert_close(h, ref_h, atol=ATOL, rtol=0)
    torch.testing.assert_close(c, ref_c, atol=ATOL, rtol=0)
    (h, c), gates = ours.forward_with_gates(x, (h0, c0))
    torch.testing.assert_close(h, ref_h, atol=ATOL, rtol=0)
    torch.testing.assert_close(c, ref_c, atol=ATOL, rtol=0)
    torch.testing.assert_close(gates["f"] * c0 + gates["i"] * gates["g"], c, atol=ATOL, rtol=0)
    torch.testing.assert_close(gates["o"] * torch.tanh(c), h, atol=ATOL, rtol=0)
    torch.testing.assert_close(ours(x)[0], ref(x)[0], atol=ATOL, rtol=0)


def test_cell_agrees_with_one_layer_lstm():
    torch.manual_seed(0)
    cell = LSTMCell(3, 4).double()
    lstm = LSTM(3, 4).double()
    lstm.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
    x = torch.randn(2, 3, 3, dtype=torch.float64)
    state = None
    for t in range(3):
        state = cell(x[:, t], state)
    out, (h_n, c_n) = lstm(x)
    torch.testing.assert_close(state[0], out[:, -1], atol=ATOL, rtol=0)
    torch.testing.assert_close(state[1], c_n[0], atol=ATOL, rtol=0)


def test_cell_shape_errors():
    cell = LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"Expected x_t of shape \[B, 3\], got \[2, 5\]"):
        cell(torch.randn(2, 5))
    bad_c = r"Expected LSTMCell state c of shape \[2, 4\], got \[2, 3\]"
    with pytest.raises(ValueError, match=bad_c):
        cell(torch.randn(2, 3), (torch.zeros(2, 4), torch.zeros(2, 3)))


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"dropout": -0.1}, ValueError, "dropout"),
        ({"dropout": 1.5}, ValueError, "dropout"),
        ({"dropout": True}, ValueError, "dropout"),
        ({"dropout": "0.2"}, ValueError, "dropout"),
        ({"hidden_size": 0}, ValueError, "hidden_size.*got 0"),
        ({"hidden_size": 4.0}, TypeError, "hidden_size"),
        ({"input_size": -1}, ValueError, "input_size"),
        ({"input_size": "3"}, TypeError, "input_size"),
        ({"num_layers": 0}, ValueError, "num_layers"),
        ({"num_layers": 2.5}, TypeError, "num_layers"),
        ({"bias": 1}, TypeError, "bias"),
        ({"batch_first": None}, TypeError, "batch_first"),
        ({"bidirectional": "yes"}, TypeError, "bidirectional"),
    ],
)
def test_constructor_validation(kwargs, error, match):
    args = {"input_size": 3, "hidden_size": 4, "num_layers": 2} | kwargs
    with pytest.raises(error, match=match):
        LSTM(**args)


def test_cell_constructor_validation():
    with pytest.raises(ValueError, match="hidden_size"):
        LSTMCell(3, 0)
    with pytest.raises(TypeError, match="input_size"):
        LSTMCell(3.0, 4)


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="num_layers=1"):
        LSTM(3, 4, dropout=0.5)


@pytest.mark.parametrize("kwargs", [{}, {"num_layers": 2, "dropout": 0.5}, {"num_layers": 1, "dropout": 0.0}])
def test_dropout_that_acts_or_no_dropout_does_not_warn(kwargs):
    # torch.nn.LSTM warns only for dropout > 0 with one layer: a plain one-layer LSTM, or
    # dropout between two layers, builds silently
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LSTM(3, 4, **kwargs)


def test_forward_shape_errors():
    model = LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"Expected a 3-D input \[B, T, I\], got 2-D"):
        model(torch.randn(5, 3))
    with pytest.raises(ValueError, match="Expected input feature size 3, got 2"):
        model(torch.randn(2, 5, 2))
    bad_h0 = r"Expected LSTM state h0 of shape \[2, 2, 4\], got \[1, 2, 4\]"
    with pytest.raises(ValueError, match=bad_h0):
        model(torch.randn(2, 5, 3), (torch.zeros(1, 2, 4), torch.zeros(2, 2, 4)))
    bad_c0 = r"Expected LSTM state c0 of shape \[2, 2, 4\], got \[2, 3, 4\]"
    with pytest.raises(ValueError, match=bad_c0):
        model(torch.randn(2, 5, 3), (torch.zeros(2, 2, 4), torch.zeros(2, 3, 4)))
    with pytest.raises(ValueError, match=r"Expected lengths of shape \[2\], got \[3\]"):
        model(torch.randn(2, 5, 3), lengths=[1, 2, 3])
    with pytest.raises(ValueError, match=r"Expected lengths in \[1, 5\]"):
        model(torch.randn(2, 5, 3), lengths=[0, 5])
    with pytest.raises(ValueError, match=r"Expected lengths in \[1, 5\]"):
        model(torch.randn(2, 5, 3), lengths=[6, 5])
    with pytest.raises(ValueError, match="Expected input dtype"):
        model(torch.randn(2, 5, 3, dtype=torch.float64))


F64_STATE = (torch.zeros(2, 2, 4, dtype=torch.float64), torch.zeros(2, 2, 4, dtype=torch.float64))


@pytest.mark.parametrize("call,match", [
    # a float64 state (torch.from_numpy of numpy's zeros) beside float32: the kernel's
    # "get_mkldnn_dtype: unsupported data type" / "mat1 and mat2 must have the same dtype"
    (lambda m, x: m(x, F64_STATE), r"state h0 of dtype torch.float32 \(the input's\), got torch.float64"),
    (lambda m, x: m(x, F64_STATE, lengths=[5, 3]), "state h0 of dtype torch.float32"),
    (lambda m, x: m(x, F64_STATE, record_gates=True), "state h0 of dtype torch.float32"),
    (lambda m, x: m(x[:, :1], F64_STATE), "state h0 of dtype torch.float32"),
    (lambda m, x: m.step(x[:, 0], F64_STATE), "state h0 of dtype torch.float32"),
    (lambda m, x: m(x, (F64_STATE[0].float(), F64_STATE[1])), "state c0 of dtype torch.float32"),
    (lambda m, x: m(x, tuple(s.numpy() for s in F64_STATE)), "state h0 as a torch.Tensor, got ndarray"),
    (lambda m, x: m(x, (F64_STATE[0].float(),)), r"as a pair \(h0, c0\), got a tuple of 1"),
    # no steps: the gate path's "stack expects a non-empty TensorList"
    (lambda m, x: m(x[:, :0], record_gates=True), "at least one time step, got an input of 0 steps"),
    (lambda m, x: m(x[:, :0]), "at least one time step"),
], ids=["fused", "lengths", "gates", "one-step", "step", "c0", "numpy", "one-tensor", "no-steps-gates", "no-steps"])
def test_a_state_of_another_dtype_or_kind_and_an_empty_input_are_named(call, match):
    model, x = LSTM(3, 4, num_layers=2), torch.randn(2, 5, 3)
    with pytest.raises(ValueError, match=match):
        call(model, x)


def test_cell_input_and_state_of_another_dtype_or_kind_are_named():
    cell, x = LSTMCell(3, 4), torch.randn(2, 3)
    for call in (cell, cell.forward_with_gates):
        with pytest.raises(ValueError, match="Expected x_t of dtype torch.float32, got torch.float64"):
            call(x.double())
        with pytest.raises(ValueError, match=r"state h of dtype torch.float32 \(the input's\), got torch.float64"):
            call(x, (torch.zeros(2, 4, dtype=torch.float64), torch.zeros(2, 4)))
        with pytest.raises(ValueError, match=r"state as a pair \(h, c\), got a Tensor"):
            call(x, torch.zeros(2, 4))       # unpacked along its rows: "state h of shape [2, 4], got [4]"


def test_dropout_applies_in_training_on_gate_path_only():
    ours, ref = _pair(3, 6, num_layers=3, dropout=0.5)
    x = torch.randn(4, 5, 3, dtype=torch.float64)
    ours.eval()
    ref.eval()
    eval_gates = ours(x, record_gates=True)[0]
    torch.testing.assert_close(eval_gates, ours(x)[0], atol=ATOL, rtol=0)
    torch.testing.assert_close(eval_gates, ref(x)[0], atol=ATOL, rtol=0)

    ours.train()
    torch.manual_seed(0)
    train_a = ours(x, record_gates=True)[0]
    torch.manual_seed(0)
    train_b = ours(x, record_gates=True)[0]
    torch.testing.assert_close(train_a, train_b, atol=0, rtol=0)  # seeded: reproducible
    assert (train_a - eval_gates).abs().max() > 1e-3
    assert (ours(x)[0] - eval_gates).abs().max() > 1e-3  # the fused path drops out too


def test_one_step_drops_out_between_layers_in_training_only():
    # A single step takes the per-layer cell loop; it must drop out like the sequence kernel.
    ours, ref = _pair(3, 6, num_layers=3, dropout=0.5)
    x = torch.randn(4, 1, 3, dtype=torch.float64)
    ours.eval()
    ref.eval()
    torch.testing.assert_close(ours(x)[0], ref(x)[0], atol=ATOL, rtol=0)
    ours.train()
    torch.manual_seed(0)
    a = ours(x)[0]
    torch.manual_seed(0)
    assert torch.equal(a, ours(x)[0])
    assert (a - ref(x)[0]).abs().max() > 1e-3
    ours.dropout = 1.0     # every input of layers 1 and 2 zero: the top layer sees only its biases
    h, c = torch.zeros(1, 4, 6, dtype=torch.float64), torch.zeros(1, 4, 6, dtype=torch.float64)
    top = torch._VF.lstm_cell(torch.zeros(4, 6, dtype=torch.float64), (h[0], c[0]), ours.weight_ih_l2,
                              ours.weight_hh_l2, ours.bias_ih_l2, ours.bias_hh_l2)[0]
    torch.testing.assert_close(ours(x)[0][:, 0], top, atol=ATOL, rtol=0)


def test_dropout_p1_silences_upper_layer_inputs():
    # With p=1 every input to layer 1 is zero in training, so layer 1 sees only its biases.
    torch.manual_seed(0)
    model = LSTM(3, 4, num_layers=2, dropout=1.0).double().train()
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    out = model(x, record_gates=True)[0]
    top = LSTM(8, 4).double()  # any input size: the input is all zero
    top.load_state_dict(
        {
            "weight_ih_l0": torch.zeros(16, 8, dtype=torch.float64),
            "weight_hh_l0": model.weight_hh_l1,
            "bias_ih_l0": model.bias_ih_l1,
            "bias_hh_l0": model.bias_hh_l1,
        }
    )
    expected = top(torch.zeros(2, 5, 8, dtype=torch.float64))[0]
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=0)


def test_extra_repr_shows_non_defaults_only():
    assert repr(LSTM(3, 4)) == "LSTM(3, 4)"
    model = LSTM(3, 4, num_layers=2, bias=False, batch_first=False, dropout=0.1, bidirectional=True)
    assert repr(model) == (
        "LSTM(3, 4, num_layers=2, bias=False, batch_first=False, dropout=0.1, bidirectional=True)"
    )
    assert repr(LSTMCell(3, 4, bias=False)) == "LSTMCell(3, 4, bias=False)"


def test_bf16_autocast_without_a_bf16_lstm_runs_the_lstm_in_float32(monkeypatch):
    """On a CPU whose oneDNN has no bf16 LSTM (AVX2: "could not create a primitive descriptor"),
    CPU autocast leaves the LSTM in float32 -- every path: fused, padded lengths, one step -- and
    it answers what it answers without autocast."""
    import lstmkit.nn.lstm_kernels as mod
    monkeypatch.setattr(mod, "_cpu_runs_bf16_lstm", lambda: False)
    torch.manual_seed(0)
    lstm = LSTM(3, 5, num_layers=2, batch_first=True)
    x, lengths = torch.randn(4, 7, 3), torch.tensor([7, 3, 5, 1])
    want = lstm(x)[0], lstm(x, lengths=lengths)[0], lstm.step(x[:, 0])[0]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = lstm(x.bfloat16())[0], lstm(x, lengths=lengths)[0], lstm.step(x[:, 0])[0]
        assert torch.nn.Linear(3, 2)(x).dtype == torch.bfloat16          # the layers around it keep bf16
    for g, w in zip(got, want):
        assert g.dtype == torch.float32
        torch.testing.assert_close(g, w, atol=0.02, rtol=0)             # the input was rounded to bf16 once
    with torch.autocast("cpu", dtype=torch.bfloat16):
        torch.testing.assert_close(lstm(x)[0], want[0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("bf16_lstm", [True, False])
def test_bf16_autocast_with_lengths_runs_the_fused_padded_kernel_in_float32(monkeypatch, bf16_lstm):
    """Sequences of several lengths under CPU bf16 autocast took torch's packed LSTM, which runs step
    by step (the padded kernel would turn bf16 there, the packed one keeps the input's dtype): speech
    and text batches trained 3x slower in bf16 than in fp32. They run fp32's fused padded kernel in
    float32 now, on every CPU, and answer what it answers."""
    import lstmkit.nn.lstm_kernels as mod
    monkeypatch.setattr(mod, "_cpu_runs_bf16_lstm", lambda: bf16_lstm)
    torch.manual_seed(0)
    lstm = LSTM(3, 5, num_layers=2, batch_first=True, bidirectional=True)
    x, lengths = torch.randn(4, 7, 3), torch.tensor([7, 3, 5, 1])
    want = lstm(x, lengths=lengths)[0]

    def packed(*args, **kwargs):
        raise AssertionError("the packed, step-by-step path")
    monkeypatch.setattr(LSTM, "_forward_packed", packed)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = lstm(x, lengths=lengths)[0]
        from_bf16 = lstm(x.bfloat16(), lengths=lengths)[0]              # a bf16 layer's output fed in
    assert got.dtype == from_bf16.dtype == torch.float32
    torch.testing.assert_close(got, want, atol=1e-6, rtol=0)
    torch.testing.assert_close(from_bf16, want, atol=0.02, rtol=0)      # the input was rounded to bf16 once
    got.sum().backward()                                                # it trains: gradients reach the weights
    assert lstm.weight_ih_l0.grad is not None
