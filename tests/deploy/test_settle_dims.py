"""``_settle_output_dims`` on a graph written by hand (no exporter): each output dimension the
exporter left unnamed is named by what it is -- a size that never changes, the input's length, or
a length that follows the input's by another rule."""
import onnx
import torch
from onnx import TensorProto, helper

from lstmkit.deploy.onnx import _settle_output_dims
from lstmkit.deploy.onnx_engine import OnnxRunner


class _Task:
    window = 4

    def example_inputs(self, batch, length=None, seed=0):
        return torch.randn(batch, length or self.window, 2, generator=torch.Generator().manual_seed(seed))


def _graph(path):
    """y = x summed over time ([batch, 2]); z = x ([batch, steps, 2]); w = every fourth step of x
    ([batch, ceil(steps / 4), 2], as a speech graph's frames after subsampling: the same for lengths
    1 to 4, so only lengths from the window up tell it from a fixed size); each output's middle size
    left as an exporter's made-up name."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "steps", 2])
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "Gathery_dim_1"]),
            helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", "Identityz_dim_1", 2]),
            helper.make_tensor_value_info("w", TensorProto.FLOAT, ["batch", "Slicew_dim_1", 2])]
    consts = [helper.make_tensor(n, TensorProto.INT64, [1], [v])
              for n, v in (("axes", 1), ("starts", 0), ("ends", 1 << 30), ("every", 4))]
    nodes = [helper.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=0),
             helper.make_node("Identity", ["x"], ["z"]),
             helper.make_node("Slice", ["x", "starts", "ends", "axes", "every"], ["w"])]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], outs, initializer=consts),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


def _dims(path):
    return {o.name: [d.dim_value if d.HasField("dim_value") else d.dim_param for d in o.type.tensor_type.shape.dim]
            for o in onnx.load(str(path)).graph.output}


def test_each_made_up_output_size_is_named_by_what_it_is(tmp_path):
    path = tmp_path / "g.onnx"
    _graph(path)
    assert _settle_output_dims(str(path), _Task()) == (0.0, 0.0)
    assert _dims(path) == {"y": ["batch", 2], "z": ["batch", "steps", 2], "w": ["batch", "w_steps", 2]}
    y, (z, w) = OnnxRunner(path).run(_Task().example_inputs(5, 7).numpy())     # the graph still answers
    assert y.shape == (5, 2) and z.shape == (5, 7, 2) and w.shape == (5, 2, 2)
