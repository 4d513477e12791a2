"""The floor at 0 (:mod:`lstmkit.tasks.forecast.bounds`): a target never below 0 in a series'
data forecasts no less than 0, in predict, test windows, the service, streams and a loaded run."""
import json

import numpy as np
import pandas as pd
import pytest
import torch

from cli_helpers import run_cli
from lstmkit import Forecaster
from lstmkit.deploy.registry import adapter_class
from lstmkit.tasks.forecast.bounds import bounds_record, floor_mask, floor_values
from one_thread import one_thread_per_module  # noqa: F401  (autouse: one torch thread, module fixtures too)

QUICK = dict(lookback=8, horizon=3, hidden_size=8, num_layers=1, dropout=0.0, batch_size=64, lr=1e-2,
             progress="off", tensorboard=False, device="cpu", doctor=False, ensemble=1, max_epochs=1,
             samples_per_epoch=64, seed=0, combine="none")


def counts(n=80, seed=0, negative=False):
    """Intermittent Poisson demand (zeros in it: no logs), one value -1 when ``negative``."""
    y = np.random.default_rng(seed).poisson(0.4, n).astype(float)
    if negative:
        y[5] = -1.0
    return pd.DataFrame({"time": pd.date_range("2020-01-01", periods=n, freq="D"), "y": y})


def panel():
    return pd.concat([counts(seed=1).assign(item="a"), counts(seed=2).assign(item="b"),
                      counts(seed=3, negative=True).assign(item="neg")], ignore_index=True)


def pushed_down(est):
    """The network made to answer far below 0 (its last layer's bias lowered): what an
    unlucky fit on a series near 0 gives, here on every step."""
    last = [m for m in est.net_.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.bias -= 20.0
    return est


@pytest.fixture(scope="module", params=[{}, {"quantiles": [0.1, 0.5, 0.9]}, {"likelihood": "gaussian"}],
                ids=["point", "quantile", "gaussian"])
def run(request, tmp_path_factory):
    est = pushed_down(Forecaster(**QUICK, **request.param).fit(panel(), target="y", time="time", id="item"))
    return est, est.save(tmp_path_factory.mktemp("bounds") / "run")


def _values(frame):
    return frame.filter(regex=r"^y(_q|$)").to_numpy()


def test_a_series_never_below_zero_forecasts_no_less_than_zero_and_one_below_zero_is_left(run):
    est, path = run
    for model in (est, Forecaster.load(path)):                 # a loaded run floors the same way
        got = model.predict(panel())
        mine, other = got[got["item"] != "neg"], got[got["item"] == "neg"]
        assert (_values(mine) >= 0).all() and (_values(mine) == 0).any()
        assert (_values(other) < 0).all()                      # a negative in its data: unbounded
        if model.output_.kind != "point":
            q = mine.filter(like="_q").to_numpy()
            assert (np.diff(q, axis=1) >= 0).all()             # still non-crossing (ties at 0)
        tf = model.test_forecasts(panel())
        keep = tf["ids"] != "neg"
        assert (tf["forecast"][keep] >= 0).all() and (tf["forecast"][~keep] < 0).all()
        if "quantiles" in tf:
            assert (tf["quantiles"][keep] >= 0).all() and (np.diff(tf["quantiles"], axis=-1) >= 0).all()
    record = json.loads((path / "lstmkit.json").read_text())["preprocessing"]["bounds"]
    assert record["floor"] == 0.0 and record["targets"] == {"y": {"unbounded": ["neg"]}} and "never below 0" in record["rule"]


def test_the_service_and_streams_floor_as_predict(run):
    est, _ = run
    ad = adapter_class("forecast")(est)
    data = panel()
    inst = [{"id": k, "y": data.loc[data["item"] == k, "y"].tolist()[-20:]} for k in ("a", "b", "neg")]
    answer = ad.answer(est.net_, inst)
    want = est.predict(data)
    for k, (sid, p) in enumerate(zip(("a", "b", "neg"), answer["predictions"])):
        np.testing.assert_allclose(p["y"], want.loc[want["item"] == sid, "y"], rtol=1e-5, atol=1e-6)
    assert min(answer["predictions"][0]["y"]) >= 0 and max(answer["predictions"][2]["y"]) < 0
    for q in answer.get("quantiles", [])[:2]:
        assert min(v for lv in q.values() for v in lv["y"]) >= 0
    s = est.stream(engine="torch")
    for sid in ("a", "neg"):
        steps = s.run([{"y": v} for v in data.loc[data["item"] == sid, "y"].tolist()[-20:]], id=sid)
        last = steps[-1]
        point = last["forecast"] if isinstance(last, dict) else last
        assert ((point >= 0).all() if sid == "a" else (point < 0).all()), sid
        if isinstance(last, dict):
            assert (last["quantiles"] >= 0).all() == (sid == "a")


def test_a_plain_one_series_stream_the_one_window_lane_and_the_onnx_engine_floor_too(tmp_path):
    est = pushed_down(Forecaster(**QUICK).fit(counts()[["y"]], target="y"))
    assert (est.predict(counts()[["y"]])["y"] == 0).all()                 # the one-window lane
    answers = est.stream(engine="torch").run([{"y": v} for v in counts()["y"][-12:]])
    assert all((a == 0).all() for a in answers)
    assert any("floor at 0" in note for note in adapter_class("forecast")(est).around_graph)
    est.save(tmp_path / "run")
    est.export("onnx")
    onnx = Forecaster.load(tmp_path / "run")
    assert (onnx.predict(counts(), engine="onnx")["y"] == 0).all()


def test_a_run_saved_before_the_floor_answers_as_it_did(run, tmp_path):
    est, path = run
    meta = json.loads((path / "lstmkit.json").read_text())
    del meta["preprocessing"]["bounds"]
    old = tmp_path / "old"
    old.mkdir()
    for f in path.iterdir():
        if f.is_file():
            (old / f.name).write_bytes(f.read_bytes())
    (old / "lstmkit.json").write_text(json.dumps(meta))
    got = Forecaster.load(old).predict(panel())
    assert (got["y"] < 0).all()                                # the network's answer, unfloored


def test_cli_predict_floors_a_count_series(run, tmp_path, capsys):
    _, path = run
    panel().to_csv(tmp_path / "d.csv", index=False)
    code, out, err = run_cli(["forecast", "predict", "--run", path, "--data", tmp_path / "d.csv",
                              "--out", tmp_path / "f.csv"], capsys)
    assert code == 0, err
    got = pd.read_csv(tmp_path / "f.csv")
    assert (_values(got[got["item"] != "neg"]) >= 0).all() and (_values(got[got["item"] == "neg"]) < 0).all()


def test_a_backtest_scores_the_floored_forecasts(run, monkeypatch):
    """Actuals >= 0: the floor can only lower each absolute error; here the network's answers far
    below 0 become 0, the backtest's MAE that of forecasting 0."""
    est, _ = run
    data = panel()[lambda d: d["item"] != "neg"]
    floored = est.backtest(data, folds=2)["aggregate"][est.config_.model]
    monkeypatch.setattr(est, "bounds_", None)
    raw = est.backtest(data, folds=2)["aggregate"][est.config_.model]
    assert floored["MAE"] < raw["MAE"] and floored["MASE"] < raw["MASE"]
    assert floored["MAE"] <= data["y"].max()                     # forecasting 0 misses by at most the largest value


def test_the_record_floors_each_series_and_target_an_unseen_series_only_where_none_went_below():
    values = np.array([[0.0, 1.0], [2.0, -1.0], [0.0, 3.0], [1.0, 2.0]])       # a: rows 0-1, b: rows 2-3
    record = bounds_record(values, [0, 2], [2, 4], ["a", "b"], ["x", "z"])
    assert record["targets"] == {"x": {"unbounded": []}, "z": {"unbounded": ["a"]}}
    mask = floor_mask(record, ["a", "b", "new"], ["x", "z"], {"a", "b"})
    assert mask.tolist() == [[True, False], [True, True], [True, False]]
    assert not floor_mask(None, ["a"], ["x", "z"], {"a"}).any()                   # a run saved before: no floor
    q = np.array([[[[-3.0, -1.0, 2.0]], [[-2.0, -0.5, -0.1]]]])                  # [1, H=2, T=1, Q=3]
    floored = floor_values(q, np.array([[True]]))
    assert floored.tolist() == [[[[0.0, 0.0, 2.0]], [[0.0, 0.0, 0.0]]]] and (np.diff(floored, axis=-1) >= 0).all()
