"""Deployment of forecasters that roll out, decode or read the horizon: the recursive strategy
(its loop over the horizon unrolled into the graph), the seq2seq strategy (encoder and decoder
in one graph) and runs with future covariates and calendar features (the graph's ``future``
input) -- exported and checked against PyTorch, quantised, predicted through ONNX and served
on a real loopback server, with the horizon's values typed in the request."""
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

pytest.importorskip("onnxruntime")

from forecast_data import FAST, sine_frame  # noqa: E402
from serve_helpers import call_json, running_server  # noqa: E402
from lstmkit.deploy import export_onnx  # noqa: E402
from lstmkit.deploy.quantize import REPORT_FILE, export_int8  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from lstmkit.tasks.forecast.deploy import ForecastAdapter  # noqa: E402
from lstmkit.tasks.forecast.graphs import HorizonGraph  # noqa: E402
from lstmkit.tasks.forecast.estimator import Forecaster  # noqa: E402

H = 4
TINY = {**FAST, "hidden_size": 8, "max_epochs": 2, "lookback": 24, "horizon": H}
PRICE = [1.0, 1.5, 2.0, 2.5]


def _series(n=160, seed=0, level=0.0):
    df = sine_frame(n=n, period=12, seed=seed)
    return df.assign(y=df["y"] + level, price=np.cos(np.arange(n) / 5.0) + seed)


def _with_future(df, price=PRICE):
    """``df`` and ``horizon`` rows after it: time stamps and the future covariate, no target."""
    t = pd.date_range(df["time"].iloc[-1] + pd.Timedelta("1h"), periods=H, freq="h")
    return pd.concat([df, pd.DataFrame({"time": t, "price": price})], ignore_index=True)


@pytest.fixture(scope="module")
def recursive(tmp_path_factory):
    """A recursive two-seed ensemble forecasting quantiles: every step's median fed back, in the graph."""
    d = tmp_path_factory.mktemp("recursive")
    _series().to_csv(d / "series.csv", index=False)
    est = Forecaster(**{**TINY, "ensemble": 2}, strategy="recursive", quantiles=[0.1, 0.5, 0.9]).fit(
        str(d / "series.csv"), target="y", time="time", run_dir=d / "run")
    export_onnx(est.run_dir_)
    return est, _series()


@pytest.fixture(scope="module")
def seq2seq(tmp_path_factory):
    """An encoder-decoder over two series (an embedding) with a past covariate, a future one and the hour."""
    d = tmp_path_factory.mktemp("seq2seq")
    df = pd.concat([_series(seed=s, level=2.0 * s).assign(id=f"s{s}") for s in range(2)], ignore_index=True)
    df.to_csv(d / "panel.csv", index=False)
    est = Forecaster(**TINY, strategy="seq2seq", id_embedding=2, future_covariates=["price"], calendar=["hour"]).fit(
        str(d / "panel.csv"), target="y", time="time", id="id", features="temp", run_dir=d / "run")
    export_onnx(est.run_dir_)
    ahead = pd.concat([_with_future(df[df["id"] == f"s{s}"]).assign(id=f"s{s}") for s in range(2)], ignore_index=True)
    return est, ahead


@pytest.fixture(scope="module")
def direct_future(tmp_path_factory):
    """The direct strategy reading a future covariate over the horizon."""
    d = tmp_path_factory.mktemp("future")
    _series().to_csv(d / "series.csv", index=False)
    est = Forecaster(**TINY, future_covariates=["price"]).fit(str(d / "series.csv"), target="y", time="time",
                                                              features="temp", run_dir=d / "run")
    export_onnx(est.run_dir_)
    return est, _with_future(_series())


RUNS = ["recursive", "seq2seq", "direct_future"]


def _run(request, name):
    return request.getfixturevalue(name)


# -- the graph -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, inputs", [("recursive", ["x"]), ("seq2seq", ["x", "future", "series"]),
                                          ("direct_future", ["x", "future"])])
def test_onnx_predict_equals_torch(request, name, inputs):
    est, df = _run(request, name)
    report = json.loads((est.run_dir_ / "onnx.json").read_text())
    assert report["inputs"] == inputs and report["outputs"] == ["y"]               # no state: a roll-out per forecast
    assert report["max_abs_diff"] <= report["tolerance"]
    torch_, onnx = est.predict(df, engine="torch"), est.predict(df, engine="onnx")
    cols = [c for c in torch_.columns if c.startswith("y")]
    assert list(onnx.columns) == list(torch_.columns) and len(onnx) == H * len(set(df.get("id", ["one"])))
    np.testing.assert_allclose(onnx[cols].to_numpy(), torch_[cols].to_numpy(), rtol=1e-5, atol=1e-6)
    adapter = ForecastAdapter(est)                                                 # the test part, window by window
    assert adapter.test_metrics(adapter.onnx_net(est.run_dir_))["MAE"] == pytest.approx(
        adapter.test_metrics(est.net_)["MAE"], rel=1e-5)


def test_the_future_covariates_reach_the_graph(direct_future):
    est, df = direct_future
    changed = _with_future(_series(), price=[5.0, -5.0, 5.0, -5.0])
    a, b = est.predict(df, engine="onnx")["y"].to_numpy(), est.predict(changed, engine="onnx")["y"].to_numpy()
    assert not np.allclose(a, b)                                                   # other prices, another forecast
    np.testing.assert_allclose(b, est.predict(changed, engine="torch")["y"], rtol=1e-5, atol=1e-6)


def test_the_horizon_graph_is_the_nets_forward(seq2seq, recursive):
    for est in (seq2seq[0], recursive[0]):
        adapter = ForecastAdapter(est)
        graph = adapter.stateful()
        assert isinstance(graph, HorizonGraph) and adapter.state_names == ()
        x = adapter.example_inputs(3, 30)
        f = torch.rand(3, H, est.n_future_) if graph.future else None
        s = torch.tensor([0, 1, 1]) if graph.series else None
        with torch.no_grad():                  # recursive: torch's own LSTM layers, each step the fused kernel
            torch.testing.assert_close(graph(x, *[a for a in (f, s) if a is not None]), est.net_(x, f, s),
                                       atol=1e-6, rtol=0)


@pytest.mark.parametrize("settings", [{"strategy": "seq2seq", "segment": 12}, {"segment": 12},
                                      {"strategy": "recursive", "model": "gru"}], ids=["s2s-segment", "segment", "gru"])
def test_segmented_and_gru_runs_export_equal_to_torch(tmp_path, settings):
    """A segmented encoder is checked on whole segments (the lookback + 5 steps would split one)."""
    _series().to_csv(tmp_path / "series.csv", index=False)
    est = Forecaster(**{**TINY, "max_epochs": 1, **settings}).fit(str(tmp_path / "series.csv"), target="y",
                                                                   time="time", run_dir=tmp_path / "run")
    export_onnx(est.run_dir_)
    np.testing.assert_allclose(est.predict(_series(), engine="onnx")["y"], est.predict(_series(), engine="torch")["y"],
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["recursive", "seq2seq"])
def test_int8_of_each_strategy_keeps_the_test_metrics(request, name, tmp_path, capfd):
    est, df = _run(request, name)
    capfd.readouterr()
    out = export_int8(est.run_dir_, tmp_path / "int8", min_seconds=0.02, batch=64)
    # the per-channel graph tried first and refused by ONNX Runtime (the recursive one's) logged
    # '[E:onnxruntime:...] Non-zero status code ... Input W must have shape' on a successful export
    assert "onnxruntime" not in capfd.readouterr().err
    report = json.loads((out / REPORT_FILE).read_text())
    assert set(report["candidates"]) == {"torch", "onnx"} and report["engine"] in ("torch", "onnx")
    assert "DynamicQuantizeLSTM" in report["candidates"]["onnx"]["quantized_ops"]
    # a scale per channel, except where ORT's per-channel LSTM nodes do not run (the recursive graph's)
    assert report["candidates"]["onnx"]["per_channel"] is (name == "seq2seq")
    fp32 = report["fp32"]["metrics"]["MAE"]
    assert all(abs(c["metrics"]["MAE"] - fp32) < 0.1 * fp32 for c in report["candidates"].values())
    got = Forecaster.load(out).predict(df)["y"].to_numpy()
    want = est.predict(df, engine="torch")["y"].to_numpy()
    assert np.abs(got - want).max() < 0.05 * np.abs(want).max()


def test_cli_exports_and_predicts_with_each_engine(direct_future, tmp_path, capsys):
    from cli_helpers import run_cli
    est, df = direct_future
    run = tmp_path / "run"
    shutil.copytree(est.run_dir_, run, ignore=shutil.ignore_patterns("model.onnx", "onnx.json"))
    df.to_csv(tmp_path / "ahead.csv", index=False)                      # the horizon's prices in rows after the end
    code, out, _ = run_cli(["export", "onnx", "--run", run], capsys)
    assert code == 0 and "x, future" in out
    outs = {}
    for engine in ("torch", "onnx"):
        code, out, err = run_cli(["forecast", "predict", "--run", run, "--data", tmp_path / "ahead.csv",
                                  "--engine", engine], capsys)
        assert code == 0, err
        outs[engine] = [float(line.split(",")[-1]) for line in out.strip().splitlines()[1:]]
    assert len(outs["onnx"]) == H
    np.testing.assert_allclose(outs["onnx"], outs["torch"], rtol=1e-5)


def test_python_export_and_client(seq2seq, server):
    import lstmkit
    from lstmkit.serve import Client
    est, ahead = seq2seq
    assert Path(lstmkit.load(est.run_dir_).export("onnx")).name == "model.onnx"    # again, from Python
    part = ahead[ahead["id"] == "s0"]
    hist = part.iloc[:-H][["time", "y", "temp", "price"]]
    out = Client(f"http://127.0.0.1:{server}").predict(
        model="s2s", instances=[{"id": "s0", **_instance(hist, part["price"].iloc[-H:], time=True)}])
    np.testing.assert_allclose(out["predictions"][0]["y"], est.predict(part, engine="torch")["y"], rtol=1e-5, atol=1e-6)


def test_streaming_still_refuses_in_one_line_and_updates_read_the_covariates_over_the_horizon(
        recursive, direct_future, tmp_path):
    with pytest.raises(LstmkitError, match="stream supports .*this run cannot: it uses the recursive strategy") as e:
        recursive[0].stream()
    assert "\n" not in e.value.message
    est = Forecaster.load(direct_future[0].run_dir_)      # refused before: "it reads future covariates"
    new = _series(n=80, seed=5)
    est.update(new.assign(time=new["time"] + pd.Timedelta(hours=160)), epochs=2, lr=5e-3)
    r = est.last_update_
    assert np.isfinite(r["val_loss_before"]) and r["train_windows"] > 0
    ahead = _with_future(_series(n=80, seed=5))
    assert np.isfinite(est.predict(ahead)["y"]).all()


# -- the service ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(recursive, seq2seq, direct_future):
    """One service for the three runs, each under its kind's name."""
    pytest.importorskip("fastapi")
    runs = {"rec": recursive, "s2s": seq2seq, "fut": direct_future}
    args = [a for name, (est, _) in runs.items() for a in ("--run", f"{name}={est.run_dir_}")]
    with running_server(*args) as (_, port):
        yield port


def _instance(hist, price=PRICE, time=False):
    inst = {c: hist[c].tolist() for c in ("y", "temp", "price") if c in hist}
    if price is not None:
        inst["future"] = {"price": list(price)}
    if time:
        inst["time"] = hist["time"].astype(str).tolist()
    return inst


def test_served_recursive_run_answers_as_predict(server, recursive):
    est, df = recursive
    status, info = call_json(server, "/models/rec")
    assert status == 200 and info["engine"] == "onnx" and info["strategy"] == "recursive"
    assert info["stream_mode"] is None and info["state"] == []
    hist = df.iloc[-60:]
    status, out = call_json(server, "/models/rec/predict", {"instances": [{"y": hist["y"].tolist()}]})
    assert status == 200 and out["levels"] == [0.1, 0.5, 0.9], out
    want = est.predict(hist[["time", "y"]], engine="torch")
    np.testing.assert_allclose(out["predictions"][0]["y"], want["y"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["quantiles"][0]["0.9"]["y"], want["y_q0.9"], rtol=1e-5, atol=1e-6)


def test_served_seq2seq_run_reads_the_future_and_the_time(server, seq2seq):
    est, ahead = seq2seq
    body, wants = [], []
    for sid in ("s1", "s0"):
        part = ahead[ahead["id"] == sid]
        hist, fut = part.iloc[:-H], part.iloc[-H:]
        body.append({"id": sid, **_instance(hist[["time", "y", "temp", "price"]], fut["price"], time=True)})
        wants.append(est.predict(part, engine="torch")["y"].to_numpy())
    status, out = call_json(server, "/models/s2s/predict", {"instances": body})
    assert status == 200 and out["engine"] == "onnx", out
    for got, want in zip(out["predictions"], wants):
        np.testing.assert_allclose(got["y"], want, rtol=1e-5, atol=1e-6)
    status, spec = call_json(server, "/openapi.json")
    fields = json.dumps(spec["components"]["schemas"])
    assert "the future covariates over the 4 forecast steps" in fields and "time stamps" in fields


def test_served_direct_run_with_future_covariates(server, direct_future):
    est, df = direct_future
    hist = df.iloc[:-H]
    status, out = call_json(server, "/models/fut/predict", {"instances": [_instance(hist.iloc[-30:])]})
    assert status == 200, out
    np.testing.assert_allclose(out["predictions"][0]["y"], est.predict(df, engine="torch")["y"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case, change, loc, words", [
    ("no-future", lambda i: {k: v for k, v in i.items() if k != "future"}, ["future"], "required"),
    ("short-future", lambda i: {**i, "future": {"price": PRICE[:3]}}, ["future", "price"], "exactly 4 values"),
    ("unknown-future", lambda i: {**i, "future": {"price": PRICE, "prize": PRICE}}, ["future", "prize"], "unknown"),
    ("missing-covariate", lambda i: {**i, "future": {}}, ["future", "price"], "field required"),
    ("not-numbers", lambda i: {**i, "future": {"price": ["a"] * 4}}, ["future", "price", 0], ""),
    ("beyond-float32", lambda i: {**i, "future": {"price": [1.0, 1e39, 1.0, 1.0]}}, ["future", "price", 1], ""),
    ("future-a-list", lambda i: {**i, "future": PRICE}, ["future"], ""),
    ("no-history", lambda i: {k: v for k, v in i.items() if k != "price"}, ["price"], "field required"),
])
def test_bad_future_covariates_are_422_naming_the_field(server, case, change, loc, words):
    body = {"instances": [change(_instance(direct_future_history()))]}
    status, out = call_json(server, "/models/fut/predict", body)
    assert status == 422, case
    detail = out["detail"][0]
    assert detail["loc"][:3 + len(loc)] == ["body", "instances", 0, *loc] and words in detail["msg"], out


def direct_future_history():
    return _series().iloc[-30:][["y", "temp", "price"]]


@pytest.mark.parametrize("case, change, words", [
    ("no-time", lambda i: {k: v for k, v in i.items() if k != "time"}, "required"),
    ("short-time", lambda i: {**i, "time": i["time"][-10:]}, "at least 24"),
    ("bad-time", lambda i: {**i, "time": i["time"][:-1] + ["soon"]}, "could not be read as dates"),
    ("backwards", lambda i: {**i, "time": i["time"][::-1]}, "increase"),
    ("numbers", lambda i: {**i, "time": list(range(len(i["time"])))}, ""),
])
def test_bad_time_stamps_are_422_naming_the_field(server, seq2seq, case, change, words):
    est, ahead = seq2seq
    hist = ahead[ahead["id"] == "s0"].iloc[:-H].iloc[-30:]
    inst = {"id": "s0", **_instance(hist, time=True)}
    status, out = call_json(server, "/models/s2s/predict", {"instances": [change(inst)]})
    assert status == 422, case
    assert out["detail"][0]["loc"][:4] == ["body", "instances", 0, "time"] and words in out["detail"][0]["msg"], out

