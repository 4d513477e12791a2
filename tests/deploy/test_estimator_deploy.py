"""``export()`` and ``stream()`` with the same names on every task's estimator (``RunEstimator``),
through the room's deploy adapter."""
import shutil

import numpy as np
import pytest

import lstmkit
from forecast_data import sine_frame
from lstmkit.errors import LstmkitError
from lstmkit.tasks._base import RunEstimator
from serve_helpers import ChunkStream, fake_rooms, tiny_text_classifier


@pytest.fixture()
def forecast_run(abs_forecaster, tmp_path):
    """A copy of the session's forecaster run (its exports stay in this test's folder)."""
    return shutil.copytree(abs_forecaster.run_dir_, tmp_path / "sales")


def test_export_onnx_then_stream_on_it(forecast_run):
    pytest.importorskip("onnxruntime")
    est = lstmkit.load(forecast_run)
    assert est.export("onnx") == forecast_run / "model.onnx" and (forecast_run / "onnx.json").is_file()
    df = sine_frame(n=10, seed=3)
    obs = [{"y": a, "temp": b} for a, b in df[["y", "temp"]].to_numpy()]
    got, want = est.stream(engine="onnx").run(obs), est.stream(engine="torch").run(obs)
    assert np.abs(np.asarray(got) - np.asarray(want)).max() < 1e-4


def test_export_int8_writes_a_new_run(forecast_run, tmp_path):
    pytest.importorskip("onnxruntime")
    import json
    from lstmkit.runs import weights_fingerprint
    est = lstmkit.load(forecast_run)
    target = est.export("int8", out=tmp_path / "sales-int8")
    assert target == tmp_path / "sales-int8" and (target / "export_report.json").is_file()
    int8 = lstmkit.load(target)                  # in the process that exported it: the engine its export chose
    assert int8.predict(sine_frame(n=30)).shape[0] == 3
    quantization = json.loads((target / "lstmkit.json").read_text())["quantization"]
    report = json.loads((target / "export_report.json").read_text())
    assert int8.engine_ == quantization["engine"] == report["engine"] and report["engine"] in report["candidates"]
    assert quantization["source_fingerprint"] == weights_fingerprint(forecast_run)
    assert report["source_run"] == quantization["source_run"] == str(forecast_run.resolve())
    # the float model exported is still the float run's, and a second export is refused, never written over
    assert est.engine_ is None and est.run_dir_ == forecast_run
    with pytest.raises(LstmkitError, match="sales-int8 already exists") as e:
        est.export("int8", out=target)
    assert "out=NEW_FOLDER" in e.value.hint
    with pytest.raises(LstmkitError, match="is already an int8 run"):
        int8.export("int8")


def test_export_refuses_bad_formats_and_unsaved_models(forecast_run, tmp_path):
    est = lstmkit.load(forecast_run)
    with pytest.raises(LstmkitError, match="unknown export format 'tflite'"):
        est.export("tflite")
    est.run_dir_ = None                         # e.g. after an online update: not the saved weights
    with pytest.raises(LstmkitError, match="not saved yet") as e:
        est.export("onnx")
    assert "save it first" in str(e.value)
    pytest.importorskip("onnxruntime")
    # as the message says: save, then export (save left the model without its folder: 'not saved yet' again)
    saved = est.save(tmp_path / "saved")
    assert est.export("onnx") == saved / "model.onnx" and (saved / "model.onnx").is_file()


def test_text_classifier_exports_and_says_why_it_does_not_stream(tmp_path):
    pytest.importorskip("onnxruntime")
    clf = tiny_text_classifier(tmp_path)
    assert clf.export("onnx").is_file()
    with pytest.raises(LstmkitError, match="a text classifier answers once per whole text"):
        clf.stream()


class _Bare(RunEstimator):
    """An estimator of a task whose room is given by the test."""

    def __init__(self, task: str):
        self.TASK = task
        self.net_ = object()
        self.run_dir_ = None

    def _write_meta(self, run_dir, status):
        pass


def test_a_task_without_deployment_is_refused_by_the_registry():
    for call in (lambda e: e.export("onnx"), lambda e: e.stream()):
        with pytest.raises(LstmkitError, match="deployment does not support 'nodeploy' runs yet") as e:
            call(_Bare("nodeploy"))
        assert "supported tasks:" in str(e.value) and "forecast" in str(e.value)


def test_a_task_with_its_own_stream_object():
    with fake_rooms():
        s = _Bare("fakespeech").stream()
        assert isinstance(s, ChunkStream) and s.engine == "torch"
        assert s.step([0.1, 0.2], id="a") == {"partial": "2 samples", "engine": "torch"} and s.steps("a") == 1
        with pytest.raises(LstmkitError, match="streams its own way; mode 'state'"):
            _Bare("fakespeech").stream(mode="state")
        with pytest.raises(LstmkitError, match="unknown stream mode"):
            _Bare("fakespeech").stream(mode="sideways")


def test_not_fitted_comes_first():
    bare = _Bare("forecast")
    del bare.net_
    with pytest.raises(LstmkitError, match="not fitted yet"):
        bare.stream()


def test_a_numeric_classifier_streams_through_the_same_method(tmp_path):
    from lstmkit.tasks.classify.estimator import SequenceClassifier
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(12, 2)) + (1 if k % 2 else -1) for k in range(24)]
    labels = ["up" if k % 2 else "down" for k in range(24)]
    clf = SequenceClassifier(model="lstm", hidden_size=4, pooling="last", unequal_length=True, max_epochs=1, progress="off", tensorboard=False,
                             seed=0).fit(seqs, labels, out=tmp_path)
    s = lstmkit.load(clf.run_dir_).stream()
    got = s.run([row.tolist() for row in seqs[0][:5]], id="a")
    want = clf.predict_proba([seqs[0][:t + 1] for t in range(5)])
    np.testing.assert_allclose(np.stack(got), want, atol=1e-5)
