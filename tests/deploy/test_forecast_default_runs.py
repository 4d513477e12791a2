"""Deployment of the runs the forecasting defaults choose (issue 19) and of probabilistic runs:
logs, seasonal indices and a seed ensemble (one graph, every member, their median), and
quantiles -- exported, quantised, predicted through ONNX, served on a real loopback server,
and streamed (tests/deploy/test_forecast_series_streams.py steps them as predict)."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

pytest.importorskip("onnxruntime")

from forecast_data import FAST, sine_frame  # noqa: E402
from serve_helpers import call_json  # noqa: E402
from lstmkit.deploy import export_onnx  # noqa: E402
from lstmkit.deploy.quantize import REPORT_FILE, export_int8  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from lstmkit.tasks.forecast.deploy import ForecastAdapter  # noqa: E402
from lstmkit.tasks.forecast.estimator import Forecaster  # noqa: E402
from lstmkit.tasks.forecast.export_graph import ForecastGraph  # noqa: E402
from lstmkit.tasks.forecast.graphs import median_of  # noqa: E402

TINY = {**FAST, "hidden_size": 8, "max_epochs": 2, "lookback": 24, "horizon": 4}
SEASON = 12


def _frame(n=168, seed=0):
    """A positive series with a season of 12 (and a covariate), hourly stamps."""
    return sine_frame(n=n, period=SEASON, seed=seed)


def _fit(folder, **params):
    folder.mkdir(parents=True, exist_ok=True)
    _frame().to_csv(folder / "series.csv", index=False)
    return Forecaster(**{**TINY, **params}).fit(str(folder / "series.csv"), target="y", time="time",
                                                features="temp", run_dir=folder / "run")


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """What the defaults pick for a short seasonal positive series: log, deseason, an ensemble."""
    est = _fit(tmp_path_factory.mktemp("defaults"), log=True, deseason=SEASON, ensemble=3, relative=False)
    export_onnx(est.run_dir_)
    return est


@pytest.fixture(scope="module")
def log_ensemble(tmp_path_factory):
    """Logs and an ensemble, no seasonal indices: streams by carrying every member's state."""
    return _fit(tmp_path_factory.mktemp("logens"), log=True, ensemble=3, relative=False)


@pytest.fixture(scope="module")
def panel_run(tmp_path_factory):
    """Three series of different levels, a series embedding and a two-seed ensemble."""
    d = tmp_path_factory.mktemp("panel")
    df = pd.concat([_frame(n=80, seed=s).assign(id=f"s{s}", y=lambda f, s=s: f["y"] + 3 * s) for s in range(3)])
    df.to_csv(d / "panel.csv", index=False)
    est = Forecaster(**{**TINY, "id_embedding": 4, "ensemble": 2, "relative": False}).fit(
        str(d / "panel.csv"), target="y", time="time", id="id", features="temp", run_dir=d / "run")
    export_onnx(est.run_dir_)
    return est, df


@pytest.fixture(scope="module")
def quantile_run(tmp_path_factory):
    est = _fit(tmp_path_factory.mktemp("quantiles"), log=True, deseason=SEASON, quantiles=[0.1, 0.5, 0.9])
    export_onnx(est.run_dir_)
    return est


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def _instance(df):
    return {"y": df["y"].tolist(), "temp": df["temp"].tolist()}


# -- the graph -------------------------------------------------------------------------------------
def test_ensemble_graph_is_the_ensembles_median_with_every_members_state(log_ensemble):
    net = log_ensemble.net_
    graph = ForecastAdapter(log_ensemble).stateful()
    assert isinstance(graph, ForecastGraph) and len(graph.members) == 3
    x = torch.rand(5, 30, 2)
    with torch.no_grad():
        y, h, c = graph(x)
        assert torch.equal(y, net(x))                                    # SeedEnsemble's median, in eval mode
        assert h.shape == (3 * 1, 5, 8)                                  # members x layers, batch, hidden
        y1, h1, c1 = graph(x[:, :20])                                    # carrying the state = reading on
        y2, *_ = graph(x[:, 20:], h1, c1)
    torch.testing.assert_close(y2, y, atol=1e-6, rtol=0)
    even = torch.randn(4, 3, 2)
    torch.testing.assert_close(median_of(even), torch.from_numpy(np.median(even.numpy(), 0)))   # np.median's


def test_onnx_export_equals_torch_for_the_default_run(default_run):
    est, df = default_run, _frame()
    report = read_json(est.run_dir_ / "onnx.json")
    assert report["max_abs_diff"] <= report["tolerance"] and report["inputs"] == ["x", "h0", "c0"]
    torch_ = est.predict(df, engine="torch")
    onnx = est.predict(df, engine="onnx")
    assert len(onnx) == 4 and (onnx["y"] > 0).all()
    np.testing.assert_allclose(onnx["y"], torch_["y"], rtol=1e-5, atol=0)
    short = df.iloc[:60]                                                 # another history, another phase
    np.testing.assert_allclose(est.predict(short, engine="onnx")["y"], est.predict(short, engine="torch")["y"],
                               rtol=1e-5, atol=0)
    again = Forecaster.load(est.run_dir_)                                # auto: the current graph
    np.testing.assert_allclose(again.predict(df)["y"], torch_["y"], rtol=1e-5, atol=0)


def test_int8_export_of_the_default_run(default_run, tmp_path):
    est = default_run
    out = export_int8(est.run_dir_, tmp_path / "int8", min_seconds=0.02, batch=64)
    report = read_json(out / REPORT_FILE)
    assert report["engine"] in ("torch", "onnx") and set(report["candidates"]) == {"torch", "onnx"}
    fp32 = report["fp32"]["metrics"]
    for c in report["candidates"].values():                              # test metrics through logs and seasons
        assert abs(c["metrics"]["MAE"] - fp32["MAE"]) < 0.1 * fp32["MAE"] + 1e-3
    q = Forecaster.load(out)
    got, want = q.predict(_frame())["y"].to_numpy(), est.predict(_frame())["y"].to_numpy()
    assert np.abs(got - want).max() < 0.05 * np.abs(want).max()


def test_quantiles_through_onnx_equal_torch(quantile_run):
    est, df = quantile_run, _frame()
    torch_, onnx = est.predict(df, engine="torch"), est.predict(df, engine="onnx")
    cols = ["y", "y_q0.1", "y_q0.5", "y_q0.9"]
    assert list(onnx.columns[-4:]) == cols
    np.testing.assert_allclose(onnx[cols].to_numpy(), torch_[cols].to_numpy(), rtol=1e-5, atol=0)
    assert est.stream().mode == "window"                                 # seasonal indices: through a window


# -- streaming -----------------------------------------------------------------------------------
def test_log_ensemble_streams_by_state_like_the_batch_forward(log_ensemble):
    est = log_ensemble
    s = est.stream(engine="torch")
    assert s.mode == "state"
    df = _frame(n=30, seed=3)
    got = s.run([{"y": a, "temp": b} for a, b in df[["y", "temp"]].to_numpy()], id="a")
    x = torch.from_numpy(est.model_inputs(df))[None]
    with torch.no_grad():
        want = [est.to_original(est.net_(x[:, :t + 1])[0].numpy()) for t in range(len(df))]
    np.testing.assert_allclose(np.stack(got), np.stack(want), rtol=1e-5, atol=0)
    assert (np.stack(got) > 0).all()                                     # exp of the log model
    with pytest.raises(LstmkitError, match="must be positive"):
        s.step({"y": 0.0, "temp": 0.1}, id="a")
    assert s.steps("a") == len(df)                                       # the refused step left it as it was
    export_onnx(est.run_dir_)
    o = est.stream(engine="onnx")
    np.testing.assert_allclose(np.stack(o.run([{"y": a, "temp": b} for a, b in df[["y", "temp"]].to_numpy()])),
                               np.stack(got), rtol=1e-5, atol=0)


def test_deseason_runs_refuse_carrying_state_in_one_line(default_run):
    with pytest.raises(LstmkitError, match="seasonal indices are re-estimated with every value") as e:
        default_run.stream(mode="state")
    assert "\n" not in str(e.value.message)
    assert default_run.stream().mode == "window"


def test_update_fine_tunes_these_runs_too(default_run, quantile_run):
    # refused before ("update supports single-series point-forecast runs without --deseason, ..."); the
    # whole behaviour is in tests/deploy/test_forecast_update_any_run.py
    for run in (default_run, quantile_run):
        est = Forecaster.load(run.run_dir_)
        new = _frame(n=80, seed=4)
        est.update(new.assign(time=new["time"] + pd.Timedelta(hours=168)), epochs=1)
        assert est.last_update_["val_windows"] > 0


# -- the service ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(default_run, quantile_run, panel_run):
    pytest.importorskip("fastapi")
    from serve_helpers import running_server
    with running_server("--run", f"defaults={default_run.run_dir_}", "--run", f"quant={quantile_run.run_dir_}",
                        "--run", f"panel={panel_run[0].run_dir_}") as (_, port):
        yield port


def test_served_default_run_answers_as_predict(server, default_run):
    status, info = call_json(server, "/models/defaults")
    assert status == 200 and info["engine"] == "onnx" and info["stream_mode"] == "window"
    assert info["min_history"] == 24 and info["log"] and info["deseason"] == SEASON and info["ensemble"] == 3
    assert "stream_refusal" not in info
    df1, df2 = _frame(n=100, seed=1), _frame(n=53, seed=2)              # two histories, two phases
    status, out = call_json(server, "/models/defaults/predict", {"instances": [_instance(df1), _instance(df2)]})
    assert status == 200 and out["engine"] == "onnx" and out["horizon"] == 4 and "quantiles" not in out
    for got, df in zip(out["predictions"], (df1, df2)):
        np.testing.assert_allclose(got["y"], default_run.predict(df, engine="torch")["y"], rtol=1e-5, atol=0)


def test_served_quantiles(server, quantile_run):
    df = _frame(n=90, seed=4)
    status, out = call_json(server, "/models/quant/predict", {"instances": [_instance(df)]})
    assert status == 200 and out["levels"] == [0.1, 0.5, 0.9]
    want = quantile_run.predict(df, engine="torch")
    np.testing.assert_allclose(out["predictions"][0]["y"], want["y"], rtol=1e-5, atol=0)
    for level in ("0.1", "0.5", "0.9"):
        np.testing.assert_allclose(out["quantiles"][0][level]["y"], want[f"y_q{level}"], rtol=1e-5, atol=0)
    status, spec = call_json(server, "/openapi.json")
    assert "quantiles" in spec["components"]["schemas"]["quant_PredictResponse"]["properties"]


@pytest.mark.parametrize("case, change, loc, words", [
    ("short-history", lambda i: {k: v[-20:] for k, v in i.items()}, ["instances", 0, "y"], "at least 24 values"),
    ("not-positive", lambda i: {**i, "y": i["y"][:-1] + [0.0]}, ["instances", 0, "y"], "positive"),
    ("uneven-columns", lambda i: {**i, "temp": i["temp"][1:]}, ["instances", 0, "temp"], "same history"),
    ("unknown-column", lambda i: {**i, "tmep": i["temp"]}, ["instances", 0, "tmep"], "unknown column"),
])
def test_bad_requests_are_422_naming_the_field(server, case, change, loc, words):
    status, out = call_json(server, "/models/defaults/predict", {"instances": [change(_instance(_frame(n=40)))]})
    assert status == 422, case
    assert out["detail"][0]["loc"] == ["body", *loc] and words in out["detail"][0]["msg"], out


def test_two_seasons_are_needed_when_the_season_is_longer_than_half_the_lookback(tmp_path):
    est = _fit(tmp_path, deseason=SEASON, lookback=12, max_epochs=1)
    adapter = ForecastAdapter(est)
    assert adapter.metadata()["min_history"] == 24
    from lstmkit.deploy.adapter import BadRequest
    df = _frame(n=20)
    with pytest.raises(BadRequest, match="at least 24 values .*two seasons") as e:
        adapter.answer(est.net_, [_instance(df)])
    assert e.value.loc == ["instances", 0, "y"]
    df = _frame(n=30)
    got = adapter.answer(est.net_, [_instance(df)])["predictions"][0]["y"]
    np.testing.assert_allclose(got, est.predict(df)["y"], rtol=1e-6, atol=0)


# -- many series ---------------------------------------------------------------------------------
def test_many_series_graph_takes_the_series_index(panel_run):
    est, df = panel_run
    report = read_json(est.run_dir_ / "onnx.json")
    assert report["inputs"] == ["x", "series", "h0", "c0"]
    torch_, onnx = est.predict(df, engine="torch"), est.predict(df, engine="onnx")
    assert sorted(set(onnx["id"])) == ["s0", "s1", "s2"]
    np.testing.assert_allclose(onnx["y"], torch_["y"], rtol=1e-5, atol=0)
    adapter = ForecastAdapter(est)
    fp32 = adapter.test_metrics(est.net_)
    assert fp32["MAE"] == pytest.approx(adapter.test_metrics(adapter.onnx_net(est.run_dir_))["MAE"], rel=1e-5)
    assert est.stream().mode == "state"                                  # one state per series


def test_int8_of_many_series_scores_every_series(panel_run, tmp_path):
    est, df = panel_run
    out = export_int8(est.run_dir_, tmp_path / "int8", min_seconds=0.02, batch=64)
    report = read_json(out / REPORT_FILE)
    assert set(report["candidates"]) == {"torch", "onnx"}
    fp32 = report["fp32"]["metrics"]["MAE"]
    assert all(abs(c["metrics"]["MAE"] - fp32) < 0.1 * fp32 for c in report["candidates"].values())
    got = Forecaster.load(out).predict(df)
    np.testing.assert_allclose(got["y"], est.predict(df)["y"], rtol=0.05)


def test_served_many_series_name_their_series(server, panel_run):
    est, df = panel_run
    status, info = call_json(server, "/models/panel")
    assert info["series"] == 3 and info["id"] == "id" and info["embedding"] and info["stream_mode"] == "state"
    parts = [df[df["id"] == sid] for sid in ("s2", "s0")]
    body = {"instances": [{"id": sid, **_instance(part)} for sid, part in zip(("s2", "s0"), parts)]}
    status, out = call_json(server, "/models/panel/predict", body)
    assert status == 200, out
    for got, part in zip(out["predictions"], parts):
        np.testing.assert_allclose(got["y"], est.predict(part, engine="torch")["y"], rtol=1e-5, atol=0)
    status, out = call_json(server, "/models/panel/predict", {"instances": [{"id": "s9", **_instance(parts[0])}]})
    assert status == 422 and out["detail"][0]["loc"] == ["body", "instances", 0, "id"]
    assert "unknown series 's9'" in out["detail"][0]["msg"]
    status, out = call_json(server, "/models/panel/predict", {"instances": [{"id": "S0 ", **_instance(parts[0])}]})
    assert status == 422 and out["detail"][0]["msg"].startswith(       # as predict's warning names it
        "unknown series 'S0 '; it differs from the trained id 's0' only in case or spaces; this model was trained on 3")
    assert "write the id as the training data did: 's0'" in out["detail"][0]["msg"]
    status, out = call_json(server, "/models/panel/predict", {"instances": [_instance(parts[0])]})
    assert status == 422 and out["detail"][0]["loc"] == ["body", "instances", 0, "id"]


def test_refusals_that_remain_name_why(tmp_path, monkeypatch):
    # one series, an embedding: a fit now refuses it (a constant input), a run trained so before is served
    monkeypatch.setattr("lstmkit.tasks.forecast.pipeline._check_id_embedding", lambda cfg, panel: None)
    est = _fit(tmp_path / "emb", id_embedding=2, relative=False, max_epochs=1)
    monkeypatch.undo()
    export_onnx(est.run_dir_)                                                    # exports, serves and
    assert est.stream(engine="onnx").mode == "state" and ForecastAdapter(est).streams   # streams its series
