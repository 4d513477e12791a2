"""Deployment of a run that blends its network with a baseline (``--combine``, issue 19's default on
seasonal series): the ONNX / int8 graph is the network, and the blend is applied around it in
Python from the history given -- by predict, by the int8 quality gate and by the service alike.
An online update fine-tunes the network and keeps the blend; streaming keeps the history the baseline is refit on
(tests/deploy/test_forecast_series_streams.py)."""
import http.client
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

pytest.importorskip("onnxruntime")

from forecast_data import FAST, sine_frame  # noqa: E402
from lstmkit.deploy import export_onnx  # noqa: E402
from lstmkit.deploy.adapter import BadRequest  # noqa: E402
from lstmkit.deploy.quantize import REPORT_FILE, export_int8  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from lstmkit.tasks.forecast.baselines import ets_forecast  # noqa: E402
from lstmkit.tasks.forecast.deploy import ForecastAdapter  # noqa: E402
from lstmkit.tasks.forecast.estimator import Forecaster  # noqa: E402
from lstmkit.tasks.forecast.evaluation import snaive  # noqa: E402

SEASON = 12
# lookback 12 < two seasons: the service's minimum history comes from the ETS baseline;
# a tiny learning rate keeps the network poor, so validation keeps a blend (weight below 1)
TINY = {**FAST, "hidden_size": 8, "max_epochs": 2, "lr": 1e-4, "lookback": 12, "horizon": 4,
        "season": SEASON, "relative": False}


def _frame(n=150, seed=0):
    """A positive series with a season of 12 and a covariate, hourly stamps."""
    return sine_frame(n=n, period=SEASON, seed=seed, noise=0.2)


def _fit(folder: Path, **params) -> Forecaster:
    folder.mkdir(parents=True, exist_ok=True)
    _frame().to_csv(folder / "series.csv", index=False)
    est = Forecaster(**{**TINY, **params}).fit(str(folder / "series.csv"), target="y", time="time",
                                               features="temp", run_dir=folder / "run")
    assert est.combination_ is not None and est.combination_["weight"] < 1, est.auto_.get("combine")
    return est


@pytest.fixture(scope="module")
def blended(tmp_path_factory):
    est = _fit(tmp_path_factory.mktemp("blend"), combine="ets")
    export_onnx(est.run_dir_)
    return est


def _ets_blend(est, network: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The blend predict must give: ETS fitted on the whole history ``y [N]``, the run's weight."""
    w = est.combination_["weight"]
    base = ets_forecast(y[:, None], np.array([len(y) - 1]), est.config_.horizon, SEASON, len(y))[0, :, 0]
    return w * network + (1 - w) * base


def test_a_blended_run_exports_streams_and_updates(blended):
    assert blended.deploy_problem() is None and blended.deploy_problem("export") is None
    assert blended.deploy_problem("stream") is None and ForecastAdapter(blended).streams is True
    assert ForecastAdapter(blended).slow_steps is True          # each step refits ETS: off the event loop
    assert blended.deploy_problem("update") is None          # refused before: "it blends ... (--combine)"
    est = Forecaster.load(blended.run_dir_)
    new = _frame(n=80, seed=3)
    est.update(new.assign(time=new["time"] + pd.Timedelta(hours=150)), epochs=2, lr=1e-2)
    assert est.combination_ == blended.combination_           # the blend chosen on validation stays
    assert np.isfinite([est.last_update_["val_loss_before"], est.last_update_["val_loss_after"]]).all()


def test_predict_through_onnx_equals_torchs_blend(blended):
    est = blended
    report = json.loads((est.run_dir_ / "onnx.json").read_text())
    assert report["max_abs_diff"] <= report["tolerance"]
    for df in (_frame(), _frame(n=40, seed=5)):                         # two histories, two ETS fits
        torch_ = est.predict(df, engine="torch")["y"].to_numpy()
        onnx = est.predict(df, engine="onnx")["y"].to_numpy()
        np.testing.assert_allclose(onnx, torch_, rtol=1e-6, atol=0)
        w = est.history_window(df[["y", "temp"]].to_numpy())           # the graph alone is the network
        graph = ForecastAdapter(est).onnx_net(est.run_dir_)
        network = est.original_params(graph(torch.from_numpy(w["x"][None])), w["loc"][None], w["scale"][None])[0, :, 0]
        np.testing.assert_allclose(onnx, _ets_blend(est, network, df["y"].to_numpy()), rtol=1e-6, atol=0)
        assert np.abs(onnx - network).max() > 1e-4                      # the blend moved the forecast
    again = Forecaster.load(est.run_dir_)                               # auto: the current graph, blended
    assert again.combination_ == est.combination_
    np.testing.assert_allclose(again.predict(_frame())["y"], est.predict(_frame(), engine="torch")["y"],
                               rtol=1e-6, atol=0)


def test_int8_scores_the_blended_forecast_and_keeps_the_blend(blended, tmp_path):
    est = blended
    out = export_int8(est.run_dir_, tmp_path / "int8", min_seconds=0.02, batch=64)
    report = json.loads((out / REPORT_FILE).read_text())
    assert report["engine"] in ("torch", "onnx") and set(report["candidates"]) == {"torch", "onnx"}
    fp32 = report["fp32"]["metrics"]
    assert fp32["MAE"] == pytest.approx(est.evaluate(est.data_summary_["source"])["lstm"]["MAE"], rel=1e-6)
    for c in report["candidates"].values():
        assert abs(c["metrics"]["MAE"] - fp32["MAE"]) < 0.1 * fp32["MAE"]
    q = Forecaster.load(out)
    assert q.combination_ == est.combination_
    got, want = q.predict(_frame())["y"].to_numpy(), est.predict(_frame())["y"].to_numpy()
    assert np.abs(got - want).max() < 0.05 * np.abs(want).max()


def test_seasonal_naive_blend_answers_as_predict(tmp_path):
    est = _fit(tmp_path, combine="seasonal_naive", max_epochs=1)
    adapter = ForecastAdapter(est)
    assert adapter.metadata()["min_history"] == 12                      # the lookback covers one season
    assert adapter.slow_steps is False                                  # the last season, no refit
    df = _frame(n=30, seed=7)
    got = adapter.answer(est.net_, [{"y": df["y"].tolist(), "temp": df["temp"].tolist()}])["predictions"][0]["y"]
    np.testing.assert_allclose(got, est.predict(df)["y"], rtol=1e-9, atol=0)
    w, y = est.combination_["weight"], df["y"].to_numpy()[:, None]
    est.combination_ = None                                             # the network alone
    network = est.predict(df)["y"].to_numpy()
    est.combination_ = {"baseline": "seasonal_naive", "weight": w}
    base = snaive(y, np.array([len(y) - 1]), 4, SEASON)[0, :, 0]
    np.testing.assert_allclose(got, w * network + (1 - w) * base, rtol=1e-9, atol=0)
    with pytest.raises(BadRequest, match="same history"):
        adapter.answer(est.net_, [{"y": df["y"].tolist(), "temp": df["temp"].tolist()[1:]}])


# -- the service ---------------------------------------------------------------------------------
def _call(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    data = None if body is None else json.dumps(body).encode()
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    out = resp.status, json.loads(resp.read())
    conn.close()
    return out


def _instance(df):
    return {"y": df["y"].tolist(), "temp": df["temp"].tolist()}


@pytest.fixture(scope="module")
def server(blended):
    pytest.importorskip("fastapi")
    from serve_helpers import running_server
    with running_server("--run", f"blend={blended.run_dir_}") as (_, port):
        yield port


def test_the_service_answers_the_blended_forecast(server, blended):
    status, info = _call(server, "GET", "/models/blend")
    assert status == 200 and info["engine"] == "onnx" and info["stream_mode"] == "state"
    assert info["combination"] == blended.combination_ and info["combination"]["baseline"] == "ets"
    assert info["min_history"] == 2 * SEASON and "stream_refusal" not in info
    df1, df2 = _frame(n=100, seed=1), _frame(n=24, seed=2)              # the second: exactly the minimum
    status, out = _call(server, "POST", "/models/blend/predict", {"instances": [_instance(df1), _instance(df2)]})
    assert status == 200 and out["engine"] == "onnx", out
    for got, df in zip(out["predictions"], (df1, df2)):
        np.testing.assert_allclose(got["y"], blended.predict(df, engine="torch")["y"], rtol=1e-6, atol=0)


def test_a_history_too_short_for_the_baseline_is_a_422_naming_the_field_and_the_minimum(server):
    df = _frame(n=20)                                                   # above the lookback, under two seasons
    status, out = _call(server, "POST", "/models/blend/predict", {"instances": [_instance(df)]})
    assert status == 422 and out["detail"][0]["loc"] == ["body", "instances", 0, "y"]
    assert "need at least 24 values" in out["detail"][0]["msg"] and "ETS baseline" in out["detail"][0]["msg"]


def test_backtest_of_a_blended_run_is_predict_fold_by_fold(blended, monkeypatch):
    """The one-pass fold lane would fit ETS on the training + validation part only; predict fits it
    on each fold's whole history, so a blended run's backtest goes fold by fold."""
    import lstmkit.tasks.forecast.backtest as backtest
    df = _frame()
    lane = blended.backtest(df, folds=3)["aggregate"]["lstm"]
    monkeypatch.setattr(backtest, "fold_forecasts", lambda *args: None)
    by_fold = blended.backtest(df, folds=3)["aggregate"]["lstm"]
    assert lane == pytest.approx(by_fold, rel=1e-9)
