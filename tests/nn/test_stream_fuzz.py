"""Property-based: a net whose recurrent ``encoder`` is an LSTM or GRU of generated size and depth,
streamed one step at a time with its state carried (torch's stateful graph, and the ONNX graph
lstmkit exports of it), answers at each step what the net gives over the whole history so far."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from lstmkit.deploy.stateful import StatefulNet, recurrent_state_names
from lstmkit.deploy.streaming import Stream, TorchCore
from lstmkit.nn.zoo import make_encoder
from one_thread import one_thread  # noqa: F401  (autouse: one torch thread)

FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


class _Net(nn.Module):
    """The task-net convention: a recurrent ``encoder`` whose last step a head reads."""

    def __init__(self, kind, input_size, hidden_size, layers, outputs):
        super().__init__()
        self.encoder = make_encoder(kind, input_size, hidden_size, layers, 0.0)
        self.head = nn.Linear(hidden_size, outputs)

    def forward(self, x):
        out, _ = self.encoder(x)
        return self.head(out[:, -1])


class _Adapter:
    """What the ONNX export reads of a task adapter, for :class:`_Net`."""

    task, window = "forecast", None

    def __init__(self, net):
        self.net = net
        self.state_names = recurrent_state_names(net)
        self.state_shape = (net.encoder.num_layers, net.encoder.hidden_size)
        self.input_size = net.encoder.input_size

    def stateful(self):
        return StatefulNet(self.net, self.state_names).eval()

    def example_inputs(self, batch, steps=None, seed=0):
        g = torch.Generator().manual_seed(seed)
        return torch.randn(batch, steps or 4, self.input_size, generator=g)


@st.composite
def cases(draw):
    return {
        "kind": draw(st.sampled_from(["lstm", "gru"])),
        "input_size": draw(st.integers(1, 9)),
        "hidden_size": draw(st.integers(1, 9)),
        "layers": draw(st.integers(1, 3)),
        "outputs": draw(st.integers(1, 3)),
        "steps": draw(st.integers(1, 8)),
        "seed": draw(st.integers(0, 2**16)),
    }


def _net_and_history(case):
    torch.manual_seed(case["seed"])
    net = _Net(case["kind"], case["input_size"], case["hidden_size"], case["layers"], case["outputs"]).eval()
    g = torch.Generator().manual_seed(case["seed"])
    x = torch.randn(1, case["steps"], case["input_size"], generator=g)
    with torch.no_grad():
        want = np.stack([net(x[:, :t + 1])[0].numpy() for t in range(case["steps"])])
    return net, x, want


def _streamed(core, adapter, x):
    s = Stream(core, adapter.input_size, mode="state", state_shape=adapter.state_shape)
    return np.stack(s.run(list(x[0].numpy())))


@FUZZ
@given(case=cases())
def test_torch_stream_carrying_state_equals_the_whole_history(case):
    net, x, want = _net_and_history(case)
    adapter = _Adapter(net)
    assert adapter.state_names == (("h", "c") if case["kind"] == "lstm" else ("h",))
    got = _streamed(TorchCore(adapter.stateful()), adapter, x)
    np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)


@settings(FUZZ, max_examples=10)
@given(case=cases())
def test_onnx_stream_carrying_state_equals_the_whole_history(case, tmp_path_factory):
    pytest.importorskip("onnxruntime")
    from lstmkit.deploy.onnx import write_onnx
    from lstmkit.deploy.onnx_engine import OnnxRunner
    net, x, want = _net_and_history(case)
    adapter = _Adapter(net)
    path = tmp_path_factory.mktemp("graph") / "model.onnx"
    write_onnx(adapter, path, "0" * 16)
    got = _streamed(OnnxRunner(path, quiet=True), adapter, x)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)
    y, _ = OnnxRunner(path, quiet=True).run(x.numpy())     # the whole history in one call too
    np.testing.assert_allclose(y[0], want[-1], atol=1e-5, rtol=0)
