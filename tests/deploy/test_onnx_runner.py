"""``OnnxRunner.run`` on a graph written by hand (no exporter): the state and lengths it feeds
when the caller gives none, the inputs it refuses, and the zero state it keeps between calls."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from lstmkit.deploy.onnx_engine import OnnxRunner
from lstmkit.errors import LstmkitError


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    """y = lengths as floats ([batch]); h = h0 + 1 ([1, batch, 3])."""
    path = tmp_path_factory.mktemp("graph") / "g.onnx"
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "steps", 2]),
              helper.make_tensor_value_info("h0", TensorProto.FLOAT, [1, "batch", 3]),
              helper.make_tensor_value_info("lengths", TensorProto.INT64, ["batch"])]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch"]),
               helper.make_tensor_value_info("h", TensorProto.FLOAT, [1, "batch", 3])]
    nodes = [helper.make_node("Cast", ["lengths"], ["y"], to=TensorProto.FLOAT),
             helper.make_node("Add", ["h0", "one"], ["h"])]
    graph = helper.make_graph(nodes, "g", inputs, outputs,
                              initializer=[helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return OnnxRunner(path, threads=1)


X = np.zeros((4, 6, 2), np.float32)


def test_the_inputs_are_sorted_into_state_and_extras(runner):
    assert runner.state_inputs == ["h0"] and runner.state_names == ("h",) and runner.extra_inputs == ["lengths"]
    assert [z.shape for z in runner.zero_state(5)] == [(1, 5, 3)]


def test_no_state_is_zeros_and_no_lengths_is_every_row_full_length(runner):
    y, (h,) = runner.run(X)
    np.testing.assert_array_equal(y, [6, 6, 6, 6])
    np.testing.assert_array_equal(h, np.ones((1, 4, 3)))
    y, (h,) = runner.run(X, [], lengths=np.array([1, 2, 3, 4]))
    np.testing.assert_array_equal(y, [1, 2, 3, 4])
    np.testing.assert_array_equal(h, np.ones((1, 4, 3)))


def test_a_given_state_is_fed_as_it_is(runner):
    h0 = np.full((1, 4, 3), 2.5, np.float32)
    _, (h,) = runner.run(X, [h0])
    np.testing.assert_array_equal(h, np.full((1, 4, 3), 3.5))


def test_the_zero_state_kept_between_calls_is_read_only_and_bounded(runner):
    first = runner._zeros(4)
    assert runner._zeros(4) is first and not first[0].flags.writeable
    for batch in range(1, 20):
        z = runner._zeros(batch)
        assert z[0].shape == (1, batch, 3) and not z[0].any()
    assert len(runner._zero_cache) <= 8


def test_an_input_the_graph_does_not_have_or_needs_is_refused(runner):
    with pytest.raises(LstmkitError, match="no input 'mask'"):
        runner.run(X, mask=np.ones(4))
    with pytest.raises(LstmkitError, match="needs the input 'h0'"):
        runner.feed(x=X, lengths=np.ones(4, np.int64))
