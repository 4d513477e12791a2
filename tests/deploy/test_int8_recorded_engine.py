"""An int8 classifier run loaded in Python answers with the engine its export chose and recorded
(``quantization.engine`` in ``lstmkit.json``), as ``serve`` and a forecaster's ``predict`` do: with ``onnx`` its
quantized graph, not the int8 torch network saved beside it (``Classifier._answering_net``)."""
import warnings

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

import lstmkit  # noqa: E402
from estimator_data import fitted_per_name  # noqa: E402
from lstmkit.deploy import quantize  # noqa: E402
from lstmkit.deploy.onnx_engine import engine_net  # noqa: E402
from lstmkit.deploy.registry import adapter_class  # noqa: E402
from lstmkit.runs import read_meta  # noqa: E402
from lstmkit.tasks.classify.deploy import ClassifyAdapter  # noqa: E402

CLASSIFIERS = ["TextClassifier", "SequenceClassifier"]


@pytest.fixture(scope="module")
def int8_runs(tmp_path_factory):
    """name -> (an int8 run whose export chose onnx, with the int8 torch network kept beside it; predict input)."""
    def finish(est, args, x, folder):
        with pytest.MonkeyPatch.context() as mp:
            # both backends kept, whichever is faster here: the graph chosen (a tiny model's int8 accuracy on
            # 40 examples moves in steps of 2.5 points, past the gate's 0.5, so the gate is not what is tested)
            mp.setattr(quantize, "_faster", lambda held: "onnx")
            mp.setattr(ClassifyAdapter, "quality_refusal", lambda self, before, after: None)
            q = est.export("int8", out=folder / "int8", data=args)
        meta = read_meta(q)["quantization"]
        assert (meta["engine"], meta["torch"], meta["onnx"]) == ("onnx", True, True)
        return q, x
    return fitted_per_name(tmp_path_factory, finish)


def _graph_proba(run, x):
    """What the service answers for ``x``: the run's engine ``auto`` (its graph), through the estimator's own
    reading of ``x`` around it."""
    served = adapter_class("classify").load(run)
    net = engine_net(served, "auto", run)
    assert net is not served.net                        # the graph, not the torch network
    with served._answering_with(net):
        return served.est.predict_proba(x)


def _torch_int8_proba(est, x):
    with ClassifyAdapter(est)._answering_with(est.net_):
        return est.predict_proba(x)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_int8_classifier_answers_with_the_graph_its_export_chose(int8_runs, name):
    run, x = int8_runs(name)
    est = lstmkit.load(run)
    assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) or "quantized" in type(m).__module__
               for m in est.net_.modules())            # the int8 torch network is what the weights file holds
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = est.predict_proba(x)
    graph = _graph_proba(run, x)
    own = _torch_int8_proba(est, x)
    assert np.allclose(got, graph, rtol=0, atol=1e-6)
    assert np.abs(own - graph).max() > 1e-6            # the int8 torch network answers otherwise: it answered here
    assert list(est.predict(x)) == list(est.classes_[graph.argmax(axis=1)])


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_int8_classifier_whose_weights_file_changed_answers_with_torch_and_says_so(int8_runs, name, tmp_path):
    import shutil
    run, x = int8_runs(name)
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    est = lstmkit.load(copy)
    before = est.predict_proba(x)                       # the graph answers, kept
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1                                       # other weights (the last byte of the last tensor)
    other = copy / "other"
    other.write_bytes(bytes(data))
    other.replace(weights)
    with pytest.warns(UserWarning, match="holds other weights than this model's now") as said:
        got = est.predict_proba(x)
    assert len([w for w in said if "holds other weights" in str(w.message)]) == 1      # said once a call
    assert np.array_equal(got, _torch_int8_proba(est, x))     # the network it holds, not the folder's graph
    assert np.allclose(before, _graph_proba(run, x), rtol=0, atol=1e-6)


def test_int8_classifier_without_its_graph_says_so(int8_runs, tmp_path):
    import shutil
    from lstmkit.errors import LstmkitError
    run, x = int8_runs("TextClassifier")
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    (copy / "model.onnx").unlink()
    with pytest.raises(LstmkitError, match="has no model.onnx"):
        lstmkit.load(copy).predict_proba(x)           # not the torch network the export did not choose
