"""Deployment of classifiers: ONNX with lengths, int8 with the accuracy gate, the HTTP service."""
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from asgi_client import Client  # noqa: E402
from lstmkit.data.batching import pad_batch  # noqa: E402
from lstmkit.deploy.onnx import export_onnx  # noqa: E402
from lstmkit.deploy.onnx_engine import OnnxNet, load_runner  # noqa: E402
from lstmkit.deploy.quantize import REPORT_FILE, export_int8  # noqa: E402
from lstmkit.deploy.registry import adapter_for, supported_tasks  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from lstmkit.tasks.classify.deploy import ClassifyAdapter  # noqa: E402
from lstmkit.tasks.classify.estimator import SequenceClassifier, TextClassifier, load_classifier  # noqa: E402


def _long_csv(path, seqs, labels):
    rows = [{"sample": i, "t": t, "x": float(v[0]), "label": lab}
            for i, (s, lab) in enumerate(zip(seqs, labels)) for t, v in enumerate(s)]
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def text_run(tmp_path_factory, texts, tiny):
    d = tmp_path_factory.mktemp("text")
    for name, (n, seed) in {"train": (120, 0), "test": (60, 1)}.items():
        t, lab = texts(n, seed=seed)
        pd.DataFrame({"text": t, "label": lab}).to_csv(d / f"{name}.csv", index=False)
    # the pre-issue-19 text settings: a two-epoch model that separates the tiny reviews (word dropout
    # would blur them, and the int8 check needs a confident model)
    clf = TextClassifier(**tiny, max_epochs=2, dropout=0.3, word_dropout=0.0, pooling="max").fit(
        str(d / "train.csv"), test_data=str(d / "test.csv"), out=d / "runs")
    export_onnx(clf.run_dir_)
    return clf.run_dir_


@pytest.fixture(scope="module")
def series_run(tmp_path_factory, series, tiny_series):
    d = tmp_path_factory.mktemp("series")
    train = _long_csv(d / "train.csv", *series(60, seed=0))
    test = _long_csv(d / "test.csv", *series(30, seed=1))
    clf = SequenceClassifier(**tiny_series, model="lstm", pooling="last", max_epochs=2, unequal_length=True)
    clf.fit(train, test_data=test, out=d / "runs")
    export_onnx(clf.run_dir_)
    return clf.run_dir_


def test_classify_is_a_deploy_task(text_run):
    assert "classify" in supported_tasks()
    assert isinstance(adapter_for(text_run), ClassifyAdapter)


def test_text_onnx_padded_batch_equals_each_alone_and_torch(text_run):
    report = json.loads((text_run / "onnx.json").read_text())
    assert report["inputs"] == ["x", "lengths"] and report["max_abs_diff"] <= 1e-4
    clf, onnx = load_classifier(text_run), OnnxNet(load_runner(text_run))
    words = ["good film", "the acting was awful and the plot boring", "wonderful", "it was a film"]
    seqs = [torch.tensor(clf.tokenizer_.encode(w)) for w in words]
    x, lengths = pad_batch(seqs)
    batch = onnx(x, lengths).numpy()
    alone = np.concatenate([onnx(s[None], torch.tensor([len(s)])).numpy() for s in seqs])
    with torch.no_grad():
        ref = clf.net_.eval()(x, lengths).numpy()
    np.testing.assert_allclose(batch, alone, atol=1e-5)
    np.testing.assert_allclose(batch, ref, atol=1e-4)
    # The same answer predict_proba gives, through the ONNX graph.
    p = ClassifyAdapter(clf).decode(batch)
    np.testing.assert_allclose(p, clf.predict_proba(words), atol=1e-4)


@pytest.mark.parametrize("which", ["series_run", "fcn_run", "fcn_ensemble_run", "fcn_crop_run"])
def test_numeric_onnx_equals_torch(which, series, request):
    """A recurrent classifier and an LSTM-FCN: ONNX with lengths answers as PyTorch, a padded batch
    as each series alone, a series longer than any in training included."""
    run = request.getfixturevalue(which)
    clf, onnx = load_classifier(run), OnnxNet(load_runner(run))
    seqs, _ = series(5, seed=3)
    seqs.append(np.concatenate([seqs[0], seqs[1]]))
    enc = [torch.from_numpy(clf.scaler_.transform(s).astype(np.float32)) for s in seqs]
    x, lengths = pad_batch(enc)
    with torch.no_grad():
        ref = clf.net_.eval()(x, lengths).numpy()
    np.testing.assert_allclose(onnx(x, lengths).numpy(), ref, atol=1e-4)
    alone = np.concatenate([onnx(s[None], torch.tensor([len(s)])).numpy() for s in enc])
    np.testing.assert_allclose(alone, ref, atol=1e-4)


@pytest.mark.parametrize("which", ["text_run", "series_run", "fcn_run"])
def test_onnx_engine_runs_rows_sorted_by_length_and_answers_as_the_whole_batch(which, texts, series, request):
    """The ONNX engine's net groups the rows by length (each group cut to its longest length, as
    torch's packed sequences stop each row at its own) and answers as the graph on the whole padded
    batch and as PyTorch, in the caller's order."""
    from lstmkit.deploy.onnx_engine import LengthSortedOnnxNet, engine_net
    run = request.getfixturevalue(which)
    clf, adapter = load_classifier(run), adapter_for(run)
    net = engine_net(adapter, "onnx", run)
    assert isinstance(net, LengthSortedOnnxNet)
    if which == "text_run":
        words, _ = texts(75, seed=4)
        seqs = [torch.tensor(clf.tokenizer_.encode(w)) for w in words]
    else:
        raw, _ = series(75, seed=4)
        seqs = [torch.from_numpy(clf.scaler_.transform(s).astype(np.float32)) for s in raw]
    x, lengths = pad_batch(seqs, 0)
    calls = []
    run_graph = net.runner.run
    net.runner.run = lambda xs, **kw: calls.append((xs.shape[1], kw["lengths"].copy())) or run_graph(xs, **kw)
    got = net(x, lengths).numpy()
    assert len(calls) >= 2 and sum(len(n) for _, n in calls) == len(seqs)
    assert all(steps == n.max() for steps, n in calls) and calls[0][0] < x.shape[1]
    whole = OnnxNet(net.runner)(x, lengths).numpy()
    with torch.no_grad():
        ref = clf.net_.eval()(x, lengths).numpy()
    np.testing.assert_allclose(got, whole, atol=1e-5)
    np.testing.assert_allclose(got, ref, atol=1e-4)
    equal = torch.full((len(seqs),), x.shape[1] - 1)            # one length: calls of at most 64 rows, cut to it
    calls.clear()
    # (float32: a few units in the last place; the blocked convolutions sum in another order when cut)
    np.testing.assert_allclose(net(x, equal).numpy(), OnnxNet(net.runner)(x, equal).numpy(), atol=1e-6, rtol=1e-6)
    assert [(steps, len(n)) for steps, n in calls] == [(x.shape[1] - 1, 64), (x.shape[1] - 1, 11), (x.shape[1], 75)]
    calls.clear()                                               # (the last is OnnxNet's own)
    net(x[:40], equal[:40])
    assert [(steps, len(n)) for steps, n in calls] == [(x.shape[1] - 1, 40)]


def test_onnx_graph_from_other_weights_is_refused(tmp_path, text_run):
    import shutil
    copy = tmp_path / "copy"
    shutil.copytree(text_run, copy)
    other = copy / "model.safetensors"
    other.write_bytes(other.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(LstmkitError, match="other weights"):
        load_runner(copy)


def test_int8_reports_accuracy_beside_fp32_and_loads(tmp_path, text_run):
    out = export_int8(text_run, tmp_path / "int8", batch=64, min_seconds=0.02)
    r = json.loads((out / REPORT_FILE).read_text())
    assert 0 <= r["fp32"]["metrics"]["accuracy"] <= 1
    for c in r["candidates"].values():
        assert "accuracy" in c["metrics"] and "accuracy" in c["metric_change"]
    held = {k for k, c in r["candidates"].items() if "quality_refused" not in c}
    assert r["engine"] in held
    assert r["fp32"]["metrics"]["accuracy"] - r["chosen"]["metrics"]["accuracy"] <= 0.005 + 1e-12
    adapter = adapter_for(out)                 # the int8 run loads, with its engine
    assert adapter.preferred_engine == r["engine"]
    assert adapter.test_metrics(adapter.net)["accuracy"] == pytest.approx(
        r["candidates"]["torch"]["metrics"]["accuracy"])
    from lstmkit.deploy.server import create_app
    client = Client(create_app(out))           # and serves with the engine it chose
    try:
        status, answer = _post(client, {"texts": ["a wonderful film", "hated it", "the plot"]})
        assert status == 200 and answer["engine"] == r["engine"] and len(answer["predictions"]) == 3
    finally:
        client.close()


def test_int8_quality_gate_refuses(monkeypatch, tmp_path, text_run):
    monkeypatch.setattr(ClassifyAdapter, "quality_refusal",
                        lambda self, before, after: "accuracy fell 3.00 points (limit 0.5)")
    with pytest.raises(LstmkitError, match="no int8 model keeps the quality"):
        export_int8(text_run, tmp_path / "bad", batch=16, min_seconds=0.01)
    assert not (tmp_path / "bad").exists()
    r = json.loads((text_run / REPORT_FILE).read_text())
    assert r["engine"] is None and all("3.00 points" in c["quality_refused"] for c in r["candidates"].values())


def test_int8_quality_gate_refuses_from_a_read_only_run_all_the_same(monkeypatch, tmp_path, text_run):
    """The refused measurements are written into the run: on a read-only run that write failed, and
    'could not write RUN/export_report.json' (exit 1) took the place of the refusal."""
    import shutil

    from catalogue_helpers import read_only
    run = tmp_path / "ro" / "run"
    shutil.copytree(text_run, run, ignore=shutil.ignore_patterns("tb", REPORT_FILE))     # another test's refusal
    monkeypatch.setattr(ClassifyAdapter, "quality_refusal",
                        lambda self, before, after: "accuracy fell 3.00 points (limit 0.5)")
    with read_only(tmp_path / "ro", monkeypatch):
        with pytest.raises(LstmkitError, match="no int8 model keeps the quality .*3.00 points") as e:
            export_int8(run, tmp_path / "bad", batch=16, min_seconds=0.01)
    assert e.value.exit_code == 2 and e.value.hint.startswith("keep the float run; the measurements could not be "
                                                                "written into the run")
    assert not (run / REPORT_FILE).exists() and not (tmp_path / "bad").exists()


def test_int8_without_test_data_says_why_not(tmp_path, texts, tiny):
    t, lab = texts(60)
    clf = TextClassifier(**tiny, max_epochs=1).fit(t, lab, out=tmp_path)
    with pytest.raises(LstmkitError, match="cannot check an int8 model .*no test data") as e:
        export_int8(clf.run_dir_, tmp_path / "q", batch=16, min_seconds=0.01, backends=("torch",))
    # the fix leads (was "keep the float run"), before any quantizing, and nothing is written
    assert e.value.hint.startswith("pass --data")
    assert not (clf.run_dir_ / REPORT_FILE).exists() and not (tmp_path / "q").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".q.")]


# -- the service ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def text_app(text_run):
    from lstmkit.deploy.server import create_app
    client = Client(create_app(text_run, engine="onnx"))
    yield client
    client.close()


def _post(client, body):
    status, raw = client.request("POST", "/predict", body if isinstance(body, str) else json.dumps(body))
    return status, json.loads(raw)


def test_service_answers_texts(text_app, text_run):
    status, out = _post(text_app, {"texts": ["a wonderful film", "boring and awful"]})
    assert status == 200 and out["engine"] == "onnx" and len(out["predictions"]) == 2
    clf = load_classifier(text_run)
    p = clf.predict_proba(["a wonderful film", "boring and awful"])
    for pred, row in zip(out["predictions"], p):
        assert pred["label"] == clf.classes_[int(row.argmax())]
        assert [pred["probabilities"][c] for c in clf.classes_] == pytest.approx(row.tolist(), abs=1e-4)
    assert text_app.request("GET", "/health") == (200, b'{"status":"ok"}')
    status, raw = text_app.request("GET", "/models")
    models = json.loads(raw)["models"]
    assert status == 200 and models[0]["task"] == "classify" and models[0]["classes"] == clf.class_names_


@pytest.mark.parametrize("body, where", [
    ({"texts": [""]}, ["body", "texts", 0]),
    ({"texts": ["   "]}, ["body", "texts", 0]),
    ({"texts": []}, ["body", "texts"]),
    ({"series": [[1.0, 2.0]]}, ["body", "series"]),
    ({}, ["body", "texts"]),
    ({"texts": ["ok"], "extra": 1}, ["body", "extra"]),
    ({"texts": [3]}, ["body", "texts", 0]),
])
def test_service_bad_requests_are_422(text_app, body, where):
    status, out = _post(text_app, body)
    assert status == 422, out
    assert out["detail"][0]["loc"][:len(where)] == where


def test_numeric_service_rejects_nan_and_wrong_shapes(series_run, series):
    from lstmkit.deploy.server import create_app
    client = Client(create_app(series_run, engine="torch"))
    try:
        seqs, labels = series(3, seed=4)
        status, out = _post(client, {"series": [s[:, 0].tolist() for s in seqs]})
        assert status == 200 and [p["label"] for p in out["predictions"]] == list(
            load_classifier(series_run).predict(seqs))
        for body in ('{"series": [[1.0, NaN]]}', {"series": [[[1.0, 2.0]]]}, {"series": [[]]},
                     {"texts": ["words"]}, {"series": [[1e39]]}, {"series": [[True]]}):
            status, out = _post(client, body)
            assert status == 422, (body, out)
            assert json.dumps(out, allow_nan=False)
    finally:
        client.close()


def test_a_value_the_scaling_takes_beyond_float32_is_refused_not_answered_nan(series, tiny_series, tmp_path):
    """3e38 is a float32, but to a model trained on values near 0.001 it is ~1e41 standard deviations: cast to
    the model's float32 it was inf, and ``predict`` answered a label with NaN probabilities, the service and a
    stream the same. Each now refuses it, naming the value; the stream answers on as before."""
    from lstmkit.deploy.server import create_app
    from lstmkit.deploy.streaming import make_stream
    seqs, labels = series(40, seed=0)
    clf = SequenceClassifier(**tiny_series, model="lstm", pooling="last", max_epochs=1, unequal_length=True)
    clf.fit([s * 1e-3 for s in seqs], labels, out=tmp_path)
    big = seqs[1][:6] * 1e-3
    big[3] = 3e38
    for method in (clf.predict, clf.predict_proba):
        with pytest.warns(UserWarning, match="outside it"), pytest.raises(LstmkitError) as e:
            method([seqs[0] * 1e-3, big])
        assert "sequence 2 holds 3e+38" in str(e.value) and "beyond float32" in str(e.value)
    app = Client(create_app(clf.run_dir_, engine="torch"))
    try:
        status, out = _post(app, {"series": [big[:, 0].tolist()]})
        assert status == 422 and "beyond float32" in json.dumps(out), out
    finally:
        app.close()
    stream = make_stream(adapter_for(clf.run_dir_))
    first = stream.step(float(big[0, 0]), id="a")
    with pytest.raises(LstmkitError, match="the step holds 3e\\+38"):
        stream.step(3e38, id="a")
    again = make_stream(adapter_for(clf.run_dir_))
    again.step(float(big[0, 0]), id="a")
    np.testing.assert_allclose(stream.step(float(big[1, 0]), id="a"), again.step(float(big[1, 0]), id="a"))
    assert np.isfinite(first).all()


def test_numeric_stream_equals_predict_on_each_prefix(series_run, series):
    from lstmkit.deploy.streaming import make_stream
    adapter = adapter_for(series_run)
    clf = adapter.est
    stream = make_stream(adapter)
    assert stream.mode == "state"
    seq, _ = series(1, seed=7)
    answers = stream.run([float(v) for v in seq[0][:, 0]], id="a")
    want = clf.predict_proba([seq[0][:t + 1] for t in range(len(seq[0]))])
    np.testing.assert_allclose(np.stack(answers), want, atol=1e-5)
    with pytest.raises(LstmkitError, match="NaN"):
        stream.step(float("nan"), id="a")
    with pytest.raises(LstmkitError, match="Expected 1 values"):
        stream.step([1.0, 2.0], id="a")


@pytest.fixture(scope="module")
def short_clf(tmp_path_factory, series, tiny_series):
    """A streaming numeric classifier that reads at most 6 steps of a series (max_len)."""
    seqs, labels = series(40, seed=0)
    return SequenceClassifier(**tiny_series, model="lstm", pooling="last", max_epochs=1, unequal_length=True,
                              max_len=6, truncate="both").fit(seqs, labels, out=tmp_path_factory.mktemp("short"))


def test_numeric_stream_stops_at_max_len_where_predict_cuts_the_series(short_clf, series):
    """Past ``max_len`` steps ``predict`` reads the series' first 3 and last 3: the stream read on and
    answered what ``predict`` never gives, without a word; it now refuses the step, as it was."""
    seq = series(1, seed=7)[0][0]
    assert len(seq) > 7
    stream = short_clf.stream()
    answers = stream.run([float(v) for v in seq[:6, 0]], id="a")
    np.testing.assert_allclose(np.stack(answers), short_clf.predict_proba([seq[:t + 1] for t in range(6)]), atol=1e-5)
    state = stream.state_dict()
    with pytest.raises(LstmkitError, match=r"stream 'a': it has read 6 steps, the most this model reads \(max_len=6\): "
                                           r"predict reads a longer series as its first 3 and last 3 steps.*reset"):
        stream.step(float(seq[6, 0]), id="a")
    assert stream.steps("a") == 6 and stream.state_dict() == state        # JSON-able: the stream as it was
    stream.reset("a")
    np.testing.assert_allclose(stream.step(float(seq[0, 0]), id="a"), answers[0])


def test_stream_refused_for_text_models(text_run, text_app):
    from lstmkit.deploy.streaming import make_stream
    with pytest.raises(LstmkitError, match="cannot stream: a text classifier"):
        make_stream(adapter_for(text_run))
    status, raw = text_app.request("GET", "/openapi.json")
    assert status == 200 and "/stream" not in json.loads(raw)["paths"] and "/predict" in json.loads(raw)["paths"]


def test_numeric_stream_over_websocket(series_run, series):
    from lstmkit.deploy.server import create_app
    client = Client(create_app(series_run))
    try:
        ws = client.websocket("/stream")
        seq, _ = series(1, seed=8)
        values = [float(v) for v in seq[0][:6, 0]]
        for v in values:
            ws.send_text(json.dumps(v))
            msg = ws.receive_json()
        want = load_classifier(series_run).predict_proba([seq[0][:6]])[0]
        assert msg["step"] == 6 and msg["prediction"]["probabilities"] == pytest.approx(
            dict(zip(["down", "up"], want.tolist())), abs=1e-5)
        ws.send_text("NaN")
        assert "error" in ws.receive_json()
        ws.close()
    finally:
        client.close()


def test_loopback_server(text_run):
    """The real ``lstmkit serve`` on a loopback port: answers, a bad request, SIGTERM."""
    pytest.importorskip("uvicorn")
    from loopback import served
    with served(text_run) as call:
        status, out = call({"texts": ["great great film", "hated it"]})
        assert status == 200 and len(out["predictions"]) == 2
        assert all(math.isclose(sum(p["probabilities"].values()), 1.0, abs_tol=1e-6) for p in out["predictions"])
        assert call({"texts": [""]})[0] == 422


def test_cli_exports_a_classify_run(tmp_path, text_run, capsys):
    import shutil
    from cli_helpers import run_cli
    run = tmp_path / "run"
    shutil.copytree(text_run, run, ignore=shutil.ignore_patterns("model.onnx", "onnx.json", REPORT_FILE))
    code, out, err = run_cli(["export", "onnx", "--run", run], capsys)
    assert code == 0 and "inputs x, lengths -> outputs y" in out and (run / "model.onnx").is_file(), err
    code, out, err = run_cli(["export", "int8", "--run", run, "--backend", "torch"], capsys)
    assert code == 0 and ", accuracy " in out and "kept as engine" in out, (out, err)


@pytest.mark.parametrize("model, pooling", [("bigru", "attention"), ("gru", "last"), ("lstm", "max-mean")])
def test_other_encoders_and_poolings_export_and_match(tmp_path, series, model, pooling, tiny_series):
    from lstmkit.deploy.onnx import write_onnx
    from lstmkit.deploy.onnx_engine import OnnxRunner
    from lstmkit.deploy.streaming import make_stream
    seqs, labels = series(40, seed=2)
    clf = SequenceClassifier(**tiny_series, model=model, pooling=pooling, max_epochs=1, unequal_length=True).fit(seqs, labels)
    adapter = ClassifyAdapter(clf)
    report = write_onnx(adapter, tmp_path / "m.onnx", fingerprint="test")
    assert report["max_abs_diff"] <= 1e-4
    onnx = OnnxNet(OnnxRunner(tmp_path / "m.onnx"))
    enc = [torch.from_numpy(clf.scaler_.transform(s).astype(np.float32)) for s in seqs[:4]]
    x, lengths = pad_batch(enc)
    alone = np.concatenate([onnx(s[None], torch.tensor([len(s)])).numpy() for s in enc])
    np.testing.assert_allclose(onnx(x, lengths).numpy(), alone, atol=1e-5)
    np.testing.assert_allclose(adapter.decode(alone), clf.predict_proba(seqs[:4]), atol=1e-4)
    if pooling == "last":                      # a GRU that reads left to right streams too
        answers = make_stream(adapter).run([float(v) for v in seqs[0][:, 0]])
        np.testing.assert_allclose(answers[-1], clf.predict_proba(seqs[:1])[0], atol=1e-5)
    else:
        assert "pooling 'last'" in adapter.state_refusal()


def test_numeric_int8_report(tmp_path, series_run):
    out = export_int8(series_run, tmp_path / "q", batch=64, min_seconds=0.02, backends=("torch",))
    r = json.loads((out / REPORT_FILE).read_text())
    assert r["engine"] == "torch" and "accuracy" in r["chosen"]["metric_change"]
    assert r["chosen"]["layers"]                # quantised LSTM / Linear layers are named
    assert adapter_for(out).state_refusal()     # an int8 run does not stream by carrying state


# -- LSTM-FCN (lstm-fcn-ds, the --series default): ONNX in test_numeric_onnx_equals_torch; int8 keeps
# its accuracy gate; streaming refuses it with the reason.
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


@pytest.fixture(scope="module")
def fcn_ensemble_run(tmp_path_factory, series):
    """Two LSTM-FCNs averaged (the --series default on small data)."""
    d = tmp_path_factory.mktemp("fcn_ensemble")
    train = _long_csv(d / "train.csv", *series(40, seed=0))
    test = _long_csv(d / "test.csv", *series(30, seed=1))
    clf = SequenceClassifier(max_epochs=3, ensemble=2, lr=2e-2, unequal_length=True, progress="off",
                             tensorboard=False, seed=0)
    clf.fit(train, test_data=test, out=d / "runs")
    assert type(clf.net_).__name__ == "LSTMFCNEnsemble"
    export_onnx(clf.run_dir_)
    return clf.run_dir_


@pytest.fixture(scope="module")
def fcn_crop_run(tmp_path_factory, series):
    """Window slicing (crop 0.8, 3 windows averaged): the windows are cut inside the graph."""
    d = tmp_path_factory.mktemp("fcn_crop")
    train = _long_csv(d / "train.csv", *series(40, seed=0))
    test = _long_csv(d / "test.csv", *series(30, seed=1))
    clf = SequenceClassifier(max_epochs=3, crop=0.8, crops=3, lr=2e-2, unequal_length=True, progress="off",
                             tensorboard=False, seed=0)
    clf.fit(train, test_data=test, out=d / "runs")
    assert clf.net_.crop == 0.8 and clf.net_.crops == 3
    export_onnx(clf.run_dir_)
    return clf.run_dir_


@pytest.mark.parametrize("which", ["fcn_run", "fcn_ensemble_run"])
def test_lstm_fcn_graph_convolves_in_2d_with_its_norms_folded(which, request, tmp_path):
    """The exported LSTM-FCN convolves in 2-D (height 1), the layout ONNX Runtime's CPU provider
    runs fastest, and each BatchNorm follows its convolution directly, so ONNX Runtime folds it
    into the convolution's weights (equality with PyTorch: test_numeric_onnx_equals_torch)."""
    import onnx
    import onnxruntime as ort
    path = request.getfixturevalue(which) / "model.onnx"
    model = onnx.load(str(path))
    weights = {t.name: list(t.dims) for t in model.graph.initializer}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    assert len(convs) == 3 * (2 if which == "fcn_ensemble_run" else 1)
    assert all(len(weights[n.input[1]]) == 4 and weights[n.input[1]][2] == 1 for n in convs)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    opts.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    optimized = onnx.load(opts.optimized_model_filepath).graph.node
    assert [n.op_type for n in optimized].count("Conv") == len(convs)
    assert not [n for n in optimized if n.op_type == "BatchNormalization"]


def test_lstm_fcn_streaming_refuses_with_the_reason(fcn_run):
    from lstmkit.deploy.streaming import make_stream
    adapter = adapter_for(fcn_run)
    assert not adapter.streams and "reads the whole series at once" in adapter.state_refusal()
    with pytest.raises(LstmkitError, match="reads the whole series at once"):
        make_stream(adapter)


@pytest.mark.parametrize("which", ["fcn_run", "fcn_ensemble_run", "series_run", "text_run"])
def test_lstm_fcn_onnx_workers_sleep_when_idle(which, request):
    """An LSTM-FCN's ONNX Runtime session does not spin its intra-op workers between pieces of work
    (a spinning worker holds a core: on a shared machine the graph ran at half its one-thread
    speed); the other classifiers keep ONNX Runtime's default."""
    from lstmkit.deploy.onnx_engine import engine_net
    run = request.getfixturevalue(which)
    options = engine_net(adapter_for(run), "onnx", run).runner.session.get_session_options()
    try:
        spinning = options.get_session_config_entry("session.intra_op.allow_spinning")
    except RuntimeError:                                     # not set: ONNX Runtime's default (spinning)
        spinning = None
    assert spinning == ("0" if which.startswith("fcn") else None)


@pytest.mark.parametrize("which", ["fcn_run", "fcn_ensemble_run", "fcn_crop_run"])
def test_lstm_fcn_int8_report(tmp_path, which, request):
    out = export_int8(request.getfixturevalue(which), tmp_path / "q", batch=64, min_seconds=0.02, backends=("torch",))
    r = json.loads((out / REPORT_FILE).read_text())
    assert "accuracy" in r["chosen"]["metric_change"] and r["chosen"]["layers"]


@pytest.mark.parametrize("engine", ["torch", "onnx"])
def test_answer_many_equals_each_request_alone(text_run, texts, engine):
    """The service's request-batching queue answers concurrent requests as one padded batch: the
    same labels and probabilities as each request alone, and a refused request gets its own error
    while the others are answered."""
    from lstmkit.deploy.adapter import BadRequest
    from lstmkit.deploy.onnx_engine import engine_net
    adapter = adapter_for(text_run)
    net = engine_net(adapter, engine, text_run)
    words, _ = texts(9, seed=7)
    requests = [{"texts": words[:3]}, {"texts": ["   "]}, {"texts": words[3:4]}, {"series": [[1.0]]},
                {"texts": words[4:9]}]
    out = adapter.answer_many(net, requests)
    assert len(out) == len(requests)
    assert isinstance(out[1], BadRequest) and out[1].loc == ["texts", 0]
    assert isinstance(out[3], BadRequest)
    for k in (0, 2, 4):
        alone = adapter.answer(net, **requests[k])["predictions"]
        assert [p["label"] for p in out[k]["predictions"]] == [p["label"] for p in alone]
        for got, want in zip(out[k]["predictions"], alone):
            assert got["probabilities"] == pytest.approx(want["probabilities"], abs=1e-5)


def test_an_int8_service_answers_each_request_as_it_answers_it_alone(tmp_path, text_run, texts):
    """Dynamic int8 scales the activations of a batch together: answered in one batch, concurrent
    requests moved each other's probabilities (by 2e-4 here). An int8 run's service answers each request
    on its own, so a client's answer is what it is alone, whatever other clients send beside it."""
    from concurrent.futures import ThreadPoolExecutor
    from lstmkit.deploy.served import ServedModel
    out = export_int8(text_run, tmp_path / "int8", batch=64, min_seconds=0.02)
    m = ServedModel("q", out, "auto", {})
    # texts without a sentiment word: probabilities away from 0 and 1, where a scale shows
    sentences = [*texts(6, seed=5)[0], "the film", "it was", "the plot and acting", "a film",
                 "the plot was awful and boring " * 30]
    requests = [{"texts": [t]} for t in sentences]
    with ThreadPoolExecutor(len(requests)) as pool:
        answers = list(pool.map(m.answer, requests))
    for request, answer in zip(requests, answers):
        alone = m.adapter.answer(m.net, **request)["predictions"]
        for got, want in zip(answer["predictions"], alone):
            assert got["label"] == want["label"]
            for k, p in want["probabilities"].items():
                assert got["probabilities"][k] == pytest.approx(p, rel=0, abs=1e-7)
