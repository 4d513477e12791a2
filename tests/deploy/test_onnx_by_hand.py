"""The exported graphs run without lstmkit: ONNX Runtime, numpy and the run's JSON files give
``predict``'s answer (examples/onnx_by_hand.py), and every graph passes ONNX's own checks and says
its inputs' and outputs' shapes."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import lstmkit
from estimator_data import QUICK, labelled_texts

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "onnx_by_hand.py"


def _example():
    spec = importlib.util.spec_from_file_location("onnx_by_hand", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _graph_checks(path: Path) -> None:
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    onnx.shape_inference.infer_shapes(model, strict_mode=True, check_type=True)
    assert model.doc_string.startswith("lstmkit ")


@pytest.fixture(scope="module")
def forecast_runs(tmp_path_factory):
    """A forecaster (default highway, no blend) exported to ONNX and to int8, and its history."""
    d = tmp_path_factory.mktemp("by_hand")
    y = np.sin(np.arange(80) / 4) * 3 + 5
    est = lstmkit.Forecaster(**QUICK, horizon=3, lookback=12, combine="none", ensemble=1).fit(y)
    est.save(d / "f")
    est.export("onnx")
    int8 = est.export("int8")
    return d / "f", Path(int8), y


def test_forecast_by_hand_equals_predict(forecast_runs):
    run, int8, y = forecast_runs
    by_hand = _example().forecast
    want = lstmkit.load(run).predict(y, engine="onnx")["y"].to_numpy()
    np.testing.assert_allclose(by_hand(run, y)[:, 0], want, rtol=1e-5, atol=1e-5)
    want8 = lstmkit.load(int8).predict(y, engine="onnx")["y"].to_numpy()
    np.testing.assert_allclose(by_hand(int8, y)[:, 0], want8, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(by_hand(run, np.zeros(20)), np.zeros((3, 1)))      # the all-zero rule


def test_forecast_graph_says_its_shapes_and_window(forecast_runs):
    run, int8, _ = forecast_runs
    report = json.loads((run / "onnx.json").read_text())
    # the exporter named the horizon and target dimensions Gathery_dim_1 / _2: their sizes now
    assert report["signature"] == {"inputs": [{"name": "x", "dtype": "float32", "shape": ["batch", "steps", 1]}],
                                   "outputs": [{"name": "y", "dtype": "float32", "shape": ["batch", 3, 1]}]}
    assert report["window"] == 12
    model = onnx.load(str(run / "model.onnx"))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["lstmkit_window"] == "12" and props["lstmkit_around_graph"].startswith("per-series scaling")
    assert "last 12 steps" in model.doc_string
    quantized = json.loads((int8 / "export_report.json").read_text())["candidates"]["onnx"]
    assert quantized["graphs"]["model.onnx"]["outputs"][0]["shape"] == ["batch", 3, 1]
    for path in (run / "model.onnx", int8 / "model.onnx"):
        _graph_checks(path)


def test_text_classification_by_hand_equals_predict(tmp_path):
    x, labels = labelled_texts()
    est = lstmkit.TextClassifier(**QUICK, min_freq=1).fit(x, labels)
    est.save(tmp_path / "c")
    est.export("onnx")
    texts = ["the film 3 was good", "The film was AWFUL!", "a word never seen", "good " * 500]
    model = lstmkit.load(tmp_path / "c")
    got_labels, got = _example().classify_texts(tmp_path / "c", texts)
    np.testing.assert_allclose(got, model.predict_proba(texts), atol=1e-5)
    assert got_labels == list(model.predict(texts))
    report = json.loads((tmp_path / "c" / "onnx.json").read_text())
    assert report["signature"]["inputs"] == [{"name": "x", "dtype": "int64", "shape": ["batch", "steps"]},
                                             {"name": "lengths", "dtype": "int64", "shape": ["batch"]}]
    assert report["signature"]["outputs"] == [{"name": "y", "dtype": "float32", "shape": ["batch"]}]
    ids, answer = report["around_graph"]        # what the example does around the graph, written down
    assert "vocab.json's itos" in ids and "cut to 400 (both)" in ids
    assert answer == "probabilities: sigmoid(y), that of classes[1] (lstmkit.json's classes)"
    _graph_checks(tmp_path / "c" / "model.onnx")


@pytest.mark.parametrize("model, state", [("lstm", "h0 = c0 = 0 ([2, batch, 8])"), ("gru", "h0 = 0 ([2, batch, 8])")])
def test_language_model_by_hand_equals_its_perplexity(tmp_path, model, state):
    lines = [f"the {a} dog {b}" for a in ("red", "big", "old") for b in ("runs", "sits", "sleeps")] * 8
    (tmp_path / "t.txt").write_text("\n".join(lines) + "\n")
    lm = lstmkit.LanguageModel(**QUICK, level="char", model=model, num_layers=2, embed_dim=16).fit(
        str(tmp_path / "t.txt"), out=tmp_path / "runs")
    lm.export("onnx")
    run = lm.run_dir_
    read, answer = json.loads((run / "onnx.json").read_text())["around_graph"]   # what the example follows
    specials = json.loads((run / "vocab.json").read_text())["specials"]
    assert "base.itos" in read and f"after <bos> ({specials['bos']}" in read and state in read
    assert answer.startswith("log-probabilities: log_softmax(y)") and f"</s> ({specials['eos']})" in answer
    for text in ("the old dog sits", "The Red Dog!"):            # '!' is unknown: <unk>
        got = _example().lm_log_prob(run, text)
        assert got == pytest.approx(-(len(text) + 1) * np.log(lm.perplexity([text])), rel=1e-5)
    _graph_checks(run / "model.onnx")
