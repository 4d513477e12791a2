"""An LSTM-FCN (the --series default) deploys: ONNX with lengths equals PyTorch (a padded batch
answers as each series alone, series longer than in training included), int8 keeps its accuracy
gate, and streaming refuses it with the reason."""
import json

import numpy as np
import pandas as pd
import pytest
import torch

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from lstmkit.data.batching import pad_batch  # noqa: E402
from lstmkit.deploy.onnx import OnnxNet, export_onnx, load_runner  # noqa: E402
from lstmkit.deploy.quantize import REPORT_FILE, export_int8  # noqa: E402
from lstmkit.deploy.registry import adapter_for  # noqa: E402
from lstmkit.deploy.streaming import make_stream  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from lstmkit.tasks.classify.estimator import SequenceClassifier, load_classifier  # noqa: E402


def _long_csv(path, seqs, labels):
    rows = [{"sample": i, "t": t, "x": float(v[0]), "label": lab}
            for i, (s, lab) in enumerate(zip(seqs, labels)) for t, v in enumerate(s)]
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def fcn_run(tmp_path_factory, series):
    d = tmp_path_factory.mktemp("fcn")
    train = _long_csv(d / "train.csv", *series(40, seed=0))
    test = _long_csv(d / "test.csv", *series(30, seed=1))
    clf = SequenceClassifier(max_epochs=3, lr=2e-2, unequal_length=True, progress="off", tensorboard=False, seed=0)
    clf.fit(train, test_data=test, out=d / "runs")
    assert clf.config_.model == "lstm-fcn-ds"
    export_onnx(clf.run_dir_)
    return clf.run_dir_


def test_onnx_with_lengths_equals_torch(fcn_run, series):
    clf, onnx = load_classifier(fcn_run), OnnxNet(load_runner(fcn_run))
    seqs, _ = series(5, seed=3)
    seqs.append(np.concatenate([seqs[0], seqs[1]]))            # longer than any training series
    enc = [torch.from_numpy(clf.scaler_.transform(s).astype(np.float32)) for s in seqs]
    x, lengths = pad_batch(enc)
    with torch.no_grad():
        ref = clf.net_.eval()(x, lengths).numpy()
    np.testing.assert_allclose(onnx(x, lengths).numpy(), ref, atol=1e-4)
    alone = np.concatenate([onnx(s[None], torch.tensor([len(s)])).numpy() for s in enc])
    np.testing.assert_allclose(alone, ref, atol=1e-4)


def test_streaming_refuses_with_the_reason(fcn_run):
    adapter = adapter_for(fcn_run)
    assert not adapter.streams and "reads the whole series at once" in adapter.state_refusal()
    with pytest.raises(LstmkitError, match="reads the whole series at once"):
        make_stream(adapter)


def test_int8_report(tmp_path, fcn_run):
    out = export_int8(fcn_run, tmp_path / "q", batch=64, min_seconds=0.02, backends=("torch",))
    r = json.loads((out / REPORT_FILE).read_text())
    assert "accuracy" in r["chosen"]["metric_change"] and r["chosen"]["layers"]
