"""The floor at 0 (:mod:`lstmkit.tasks.forecast.bounds`): a target never below 0 in a series'
data forecasts no less than 0, in predict, test windows, the service, streams and a loaded run."""
import json
import re

import numpy as np
import pandas as pd
import pytest
import torch

from cli_helpers import run_cli
from lstmkit import Forecaster
from lstmkit.deploy.registry import adapter_class
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.bounds import bounds_record, clip_values, limits_of, loaded_record, report_note
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
    assert record["floor"] == 0.0 and record["targets"] == {"y": {"unbounded": ["neg"], "near_zero": 2}} and "never below 0" in record["rule"]


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


def _copy_with_meta(path, dest, meta):
    """A copy of the run folder ``path`` at ``dest`` whose lstmkit.json is ``meta``."""
    dest.mkdir()
    for f in path.iterdir():
        if f.is_file():
            (dest / f.name).write_bytes(f.read_bytes())
    (dest / "lstmkit.json").write_text(json.dumps(meta))
    return dest


def test_a_run_saved_before_the_floor_answers_as_it_did(run, tmp_path):
    est, path = run
    meta = json.loads((path / "lstmkit.json").read_text())
    del meta["preprocessing"]["bounds"]
    old = _copy_with_meta(path, tmp_path / "old", meta)
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


@pytest.mark.filterwarnings("ignore:.*forecast points before the run's test part:UserWarning")  # the folds it trained on
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


def test_the_ets_row_and_the_doctors_baselines_are_floored_as_the_model_is():
    """A count series dying out before its test part: ETS's damped trend runs below 0 there, while the
    model's forecasts keep to the floor; the ETS row scored the unfloored trend (MAE 3.97 where the
    floored ETS is exact), so the floor alone read as the model beating ETS."""
    rng = np.random.default_rng(3)
    y = np.maximum(0.0, np.round(60 - 0.9 * np.arange(80) + rng.normal(0, 2, 80)))
    data = pd.DataFrame({"time": pd.date_range("2020-01-01", periods=80, freq="D"), "y": y})
    est = Forecaster(**QUICK, ets=True).fit(data, target="y", time="time")
    floored = est.evaluate(data)
    assert floored["ets"]["MAE"] == est.metrics_["metrics"]["ets"]["MAE"] == 0.0       # 0 forecast for 0 sold
    assert "floor at 0" in est.metrics_["baselines"]["bounds"]
    below = Forecaster(**QUICK, ets=True).fit(data.assign(y=data["y"] - 30), target="y", time="time")
    assert "bounds" not in below.metrics_["baselines"]                       # below 0 in training: nothing bounded
    est.bounds_ = None                                                        # unbounded: ETS as it answers
    assert est.evaluate(data)["ets"]["MAE"] > 1.0


def test_the_record_floors_each_series_and_target_an_unseen_series_only_where_none_went_below():
    values = np.array([[0.0, 1.0], [2.0, -1.0], [0.0, 3.0], [1.0, 2.0]])       # a: rows 0-1, b: rows 2-3
    record = bounds_record(values, [0, 2], [2, 4], ["a", "b"], ["x", "z"])
    assert record["targets"] == {"x": {"unbounded": [], "near_zero": 2}, "z": {"unbounded": ["a"], "near_zero": 0}}
    lim = limits_of(record, ["a", "b", "new"], ["x", "z"], {"a", "b"})
    assert (lim.low == 0).tolist() == [[True, False], [True, True], [True, False]] and np.isinf(lim.high).all()
    assert not limits_of(None, ["a"], ["x", "z"], {"a"}).any()                    # a run saved before: no floor
    q = np.array([[[[-3.0, -1.0, 2.0]], [[-2.0, -0.5, -0.1]]]])                  # [1, H=2, T=1, Q=3]
    floored = clip_values(q, limits_of(record, ["a"], ["x"], {"a"}))
    assert floored.tolist() == [[[[0.0, 0.0, 2.0]], [[0.0, 0.0, 0.0]]]] and (np.diff(floored, axis=-1) >= 0).all()


# -- bounds given (--bounds LOW,HIGH, bounds=(low, high)) and the censored distribution -------------------------
def percent(n=80, seed=0):
    """A utilisation in percent near its cap of 100 (never above it)."""
    y = np.clip(97 + np.random.default_rng(seed).normal(0, 2, n), 0, 100)
    return pd.DataFrame({"time": pd.date_range("2020-01-01", periods=n, freq="D"), "util": y})


def pushed_up(est):
    """The network made to answer far above its data, as :func:`pushed_down` below it."""
    last = [m for m in est.net_.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.bias += 20.0
    return est


def _util(frame):
    return frame.filter(regex=r"^util(_q|$)").to_numpy()


@pytest.fixture(scope="module", params=[{}, {"quantiles": [0.1, 0.5, 0.9]}, {"likelihood": "gaussian"}],
                ids=["point", "quantile", "gaussian"])
def capped(request, tmp_path_factory):
    """A run over a percentage near 100 given bounds=(0, 100), its network pushed above 100, saved."""
    est = pushed_up(Forecaster(**QUICK, bounds=(0, 100), **request.param).fit(percent(), target="util", time="time"))
    return est, est.save(tmp_path_factory.mktemp("capped") / "run")


def test_a_percentage_forecasts_above_100_without_bounds_and_within_0_100_with_them(capped, monkeypatch):
    est, path = capped
    assert est.config_.bounds == "0,100"
    record = json.loads((path / "lstmkit.json").read_text())
    assert record["config"]["bounds"] == "0,100"
    assert (record["preprocessing"]["bounds"]["floor"], record["preprocessing"]["bounds"]["ceiling"]) == (0, 100)
    for model in (est, Forecaster.load(path)):                 # a loaded run keeps its bounds
        got = _util(model.predict(percent()))
        assert got.max() == 100 and got.min() >= 0
        tf = model.test_forecasts(percent())
        assert tf["forecast"].max() <= 100 and tf.get("quantiles", tf["forecast"]).max() <= 100
    ad = adapter_class("forecast")(est)
    answer = ad.answer(est.net_, [{"util": percent()["util"].tolist()[-20:]}])
    assert max(answer["predictions"][0]["util"]) <= 100
    assert all(max(lv["util"]) <= 100 for lv in answer.get("quantiles", [{}])[0].values())
    last = est.stream(engine="torch").run([{"util": v} for v in percent()["util"][-12:]])[-1]
    assert np.asarray(last["forecast"] if isinstance(last, dict) else last).max() <= 100
    capped_mae = est.evaluate(percent())[est.config_.model]["MAE"]
    backtest = est.backtest(percent(), folds=2)["aggregate"][est.config_.model]["MAE"]
    monkeypatch.setattr(est, "bounds_", {**est.bounds_, "ceiling": None})   # the automatic floor alone: no cap
    assert _util(est.predict(percent())).max() > 100           # what a percentage forecast without bounds gives
    assert capped_mae < est.evaluate(percent())[est.config_.model]["MAE"]
    assert backtest < est.backtest(percent(), folds=2)["aggregate"][est.config_.model]["MAE"]


def _cli_trained(data, target, bounds, tmp_path, capsys) -> dict:
    """``lstmkit.json`` of ``lstmkit forecast train --bounds BOUNDS`` on ``data``, quickly."""
    code, _, err = run_cli(["forecast", "train", "--data", data, "--target", target, "--time", "time",
                            "--lookback", "8", "--horizon", "3", "--hidden-size", "4", "--layers", "1", "--epochs", "1",
                            "--ensemble", "1", "--progress", "off", "--device", "cpu", "--bounds", bounds,
                            "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    return json.loads((next((tmp_path / "runs").iterdir()) / "lstmkit.json").read_text())


def test_cli_train_records_the_bounds_given_and_predict_applies_them(capped, tmp_path, capsys):
    _, path = capped
    percent().to_csv(tmp_path / "p.csv", index=False)
    meta = _cli_trained(tmp_path / "p.csv", "util", ",100", tmp_path, capsys)
    assert meta["config"]["bounds"] == ",100" and meta["preprocessing"]["bounds"]["ceiling"] == 100
    assert meta["preprocessing"]["bounds"]["floor"] is None and "given" in meta["preprocessing"]["bounds"]["rule"]
    code, _, err = run_cli(["forecast", "predict", "--run", path, "--data", tmp_path / "p.csv",
                            "--out", tmp_path / "f.csv"], capsys)
    assert code == 0, err
    got = _util(pd.read_csv(tmp_path / "f.csv"))
    assert got.max() == 100 and got.min() >= 0


def test_bounds_none_turns_the_floor_at_0_off(tmp_path, capsys):
    est = pushed_down(Forecaster(**QUICK, bounds="none").fit(counts(), target="y", time="time"))
    assert (est.predict(counts())["y"] < 0).all()                  # a count series left as the network answers
    assert est.bounds_["floor"] is None and est.bounds_["ceiling"] is None
    assert not any("floor" in n or "bounds" in n for n in adapter_class("forecast")(est).around_graph)
    counts().to_csv(tmp_path / "c.csv", index=False)
    meta = _cli_trained(tmp_path / "c.csv", "y", "none", tmp_path, capsys)
    assert meta["config"]["bounds"] == "none" and meta["preprocessing"]["bounds"]["floor"] is None


@pytest.mark.parametrize("bounds, said", [
    ("auto", "forecasts floored at 0 (--bounds auto): the series was never below 0 in its training part, so "
             "forecasts and quantiles below 0 answer 0; --bounds none leaves them as the network answers"),
    ("none", None), ("0,", None)])
def test_the_training_report_says_a_count_series_is_floored_at_0(bounds, said, tmp_path, capsys):
    """A count series' forecasts of exactly 0 came with no word of the floor that made them, in the
    report or beside the metrics it changes; given bounds or none are the user's own words."""
    counts().to_csv(tmp_path / "c.csv", index=False)
    code, out, err = run_cli(["forecast", "train", "--data", tmp_path / "c.csv", "--lookback", "8", "--horizon", "3",
                              "--hidden-size", "4", "--layers", "1", "--epochs", "1", "--ensemble", "1", "--progress",
                              "off", "--bounds", bounds, "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    floored = [line for line in out.splitlines() if line.startswith("forecasts floored")]
    assert floored == ([said] if said else [])


def test_the_report_line_names_the_series_a_many_series_run_floors():
    values = np.array([[0.0, 1.0], [2.0, -1.0], [0.0, 3.0], [1.0, 2.0]])       # a: rows 0-1, b: rows 2-3
    assert report_note(bounds_record(values, [0, 2], [2, 4], ["a", "b"], ["x", "z"]), 2) == (
        "forecasts floored at 0 (--bounds auto) where a target was never below 0 in a series' training part ('x': 2 "
        "of 2 series, 'z': 1 of 2 series), so forecasts and quantiles below 0 answer 0 there; --bounds none leaves "
        "them as the network answers")
    assert report_note(bounds_record(values[:, 1:], [0], [4], ["a"], ["z"]), 1) is None      # nothing floored


def test_the_report_line_is_left_out_where_no_series_comes_near_0():
    """The demo's CO2 series (313 .. 372 ppm) was told its forecasts are floored at 0: a floor no forecast
    reaches. The line is said where a floored series came within its own training range's width of 0."""
    far = np.array([[313.0], [340.0], [372.0], [355.0]])
    record = bounds_record(far, [0], [4], ["a"], ["co2"])
    assert record["targets"]["co2"] == {"unbounded": [], "near_zero": 0} and record["floor"] == 0.0   # still floored
    assert report_note(record, 1) is None
    near = np.array([[3.0], [40.0], [12.0], [0.0]])                     # 2 .. 40 would be near too
    assert report_note(bounds_record(near, [0], [4], ["a"], ["y"]), 1).startswith("forecasts floored at 0")
    edge = np.array([[10.0], [20.0], [15.0], [12.0]])                   # 10 .. 20: one width (10) above 0 is within it
    assert bounds_record(edge, [0], [4], ["a"], ["y"])["targets"]["y"]["near_zero"] == 1
    assert bounds_record(edge + 0.5, [0], [4], ["a"], ["y"])["targets"]["y"]["near_zero"] == 0
    both = np.concatenate([far, near])                                  # one series near 0 of two: said
    assert "1 of 2 series" not in report_note(bounds_record(both, [0, 4], [4, 8], ["a", "b"], ["y"]), 2)
    saved_before = {**record, "targets": {"co2": {"unbounded": []}}}     # a run saved before the count: said
    assert report_note(saved_before, 1) is not None


@pytest.mark.parametrize("bounds, words", [
    ((100, 0), "the low bound must lie below the high one, got 100,0 — pass bounds=(0, 100)"),
    ((50, 50), "the low bound must lie below the high one, got 50,50 — pass two different numbers"),   # no room
    ((0, float("inf")), "bounds must be finite numbers, got inf — pass None for no bound on that side"),
    ((None, None), "bounds with neither side bound nothing — pass bounds='none'"),
    ("0-100", "bounds must be LOW,HIGH, auto or none, got '0-100' — pass bounds=(low, high)"),
    ((0, 50), "column 'util' holds 9"),
    ((0, 50), "and 79 more values outside bounds=(0.0, 50.0), which the data fit reads must lie within — fix those cells"),
])
def test_bad_bounds_are_one_error_before_training(bounds, words):
    for call in ("fit", "check"):                              # check: the errors fit would give, without training
        with pytest.raises(LstmkitError) as info:
            getattr(Forecaster(**QUICK, bounds=bounds), call)(percent(), target="util", time="time")
        assert words in str(info.value), str(info.value)


def test_the_onnx_engine_and_the_example_keep_the_bounds_through_save_load_and_export(tmp_path):
    from onnx_example import by_hand
    est = pushed_up(Forecaster(**QUICK, bounds=(0, 100)).fit(percent()[["util"]], target="util"))
    path = est.save(tmp_path / "run")
    est.export("onnx")
    onnx = json.loads((path / "onnx.json").read_text())
    assert any(n.startswith("the bounds: given") for n in onnx["around_graph"])
    loaded = Forecaster.load(path)
    torch_answer = loaded.predict(percent()[["util"]], engine="torch")["util"].to_numpy()
    assert (torch_answer == 100).all()
    np.testing.assert_allclose(loaded.predict(percent()[["util"]], engine="onnx")["util"], torch_answer)
    np.testing.assert_allclose(by_hand().forecast(path, percent()["util"].to_numpy())[:, 0], torch_answer)


def _loc_down_scale_up(est):
    """A Gaussian's location pushed far below 0 and its spread widened: its censored distribution at 0
    holds nearly all the mass, while the location floored at 0 with that spread would not."""
    head = est.net_.head if isinstance(est.net_.head, torch.nn.Linear) else \
        [m for m in est.net_.head.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        head.bias[0::2] -= 20.0
        head.bias[1::2] += 2.0
    return est


def test_a_gaussian_near_0_is_its_censored_distribution_in_quantiles_and_in_its_scores():
    est = _loc_down_scale_up(Forecaster(**QUICK, likelihood="gaussian", highway=0).fit(
        counts(200), target="y", time="time"))
    got = est.predict(counts(200))
    assert (got.filter(like="y_q").to_numpy() == 0).all() and (got["y"] == 0).all()   # not 0 plus the spread
    tf = est.test_forecasts(counts(200))
    actual = tf["actual"][..., 0]
    assert (tf["quantiles"] == 0).all()
    scores = est.evaluate(counts(200))[est.config_.model]
    np.testing.assert_allclose(scores["CRPS"], np.abs(actual).mean(), rtol=1e-4)   # all the mass at 0: |y|
    assert scores["coverage_80"] == pytest.approx((actual == 0).mean())           # the interval shown: [0, 0]


def test_censored_quantiles_are_the_clipped_ones_monotone_within_bounds_and_the_point_their_median():
    from lstmkit.tasks.forecast.bounds import Limits
    from lstmkit.tasks.forecast.probabilistic import quantiles_of
    rng = np.random.default_rng(0)
    est = Forecaster(**QUICK, likelihood="studentt", quantiles=[0.05, 0.25, 0.5, 0.75, 0.95], highway=0).fit(
        counts(), target="y", time="time")
    params = np.stack([rng.normal(0, 3, (50, 3, 1)), rng.uniform(0.1, 4, (50, 3, 1)), rng.uniform(2.5, 9, (50, 3, 1))], -1)
    limits = Limits(np.zeros((50, 1)), np.full((50, 1), 2.0))
    q = est._quantiles(params, limits)                                       # [50, 3, 1, 5]
    np.testing.assert_array_equal(q, np.clip(quantiles_of("studentt", params, est.output_.levels), 0, 2))
    assert (np.diff(q, axis=-1) >= 0).all() and q.min() >= 0 and q.max() <= 2
    assert (q == 0).any() and (q == 2).any() and ((q > 0) & (q < 2)).any()
    np.testing.assert_allclose(est._point(params, limits), q[..., 2])


@pytest.mark.parametrize("loc, scale, low, high, y", [(-1, 2, 0, np.inf, 0.0), (-1, 2, 0, np.inf, 1.5),
                                                     (95, 10, 0, 100, 100), (95, 10, 0, 100, 80), (0.3, 0.5, 0, 1, 1.2)])
def test_the_censored_gaussian_crps_is_the_sampled_one(loc, scale, low, high, y):
    from lstmkit.tasks.forecast.probabilistic import censored_normal_crps
    rng = np.random.default_rng(0)
    x, x2 = (np.clip(rng.normal(loc, scale, 1_000_000), low, high) for _ in range(2))
    sampled = np.abs(x - y).mean() - 0.5 * np.abs(x - x2).mean()
    exact = censored_normal_crps(*(np.array(v, float) for v in (y, loc, scale, low, high)))
    assert exact == pytest.approx(sampled, abs=3e-3 * scale)
    unbounded = censored_normal_crps(*(np.array(v, float) for v in (y, loc, scale, -np.inf, np.inf)))
    z = (y - loc) / scale
    from scipy import stats
    assert unbounded == pytest.approx(scale * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi)))


def _later(frame, start="2020-03-21"):
    """``frame`` moved to the days after the training data's (an update reads only newer points)."""
    return frame.assign(time=pd.date_range(start, periods=len(frame), freq="D"))


def test_an_update_refuses_data_outside_the_bounds_given_before_training_and_the_floor_refuses_nothing(tmp_path,
                                                                                                      capsys):
    from lstmkit.errors import LstmkitError
    est = Forecaster(**QUICK, bounds=(0, 100), deseason=0).fit(percent(), target="util", time="time")
    path = est.save(tmp_path / "run")
    above = _later(percent(seed=1)).assign(util=lambda f: f["util"] + 5)          # a percentage above 100
    before = {k: v.clone() for k, v in est.net_.state_dict().items()}
    with pytest.raises(LstmkitError) as info:
        est.update(above, epochs=1)
    assert "column 'util' holds 10" in str(info.value)
    assert "outside the run's bounds bounds=(0.0, 100.0), which the data an update reads must lie within — fix " \
           "those cells, or train a new run with wider bounds" in str(info.value), str(info.value)
    assert all(torch.equal(before[k], v) for k, v in est.net_.state_dict().items())   # refused before training
    above.to_csv(tmp_path / "above.csv", index=False)
    code, _, err = run_cli(["forecast", "update", "--run", path, "--data", tmp_path / "above.csv", "--epochs", "1"],
                           capsys)
    assert code == 2 and "outside the run's bounds --bounds 0,100, which the data an update reads" in err, err
    inside = _later(percent(seed=1))
    assert "accepted" in Forecaster.load(path).update(inside, epochs=1).last_update_          # inside: updated
    floored = Forecaster(**QUICK, deseason=0).fit(counts(), target="y", time="time")      # auto: a floor at 0
    assert floored.bounds_["floor"] == 0.0
    floored.update(_later(counts(seed=4, negative=True)), epochs=1)                  # below the floor: not refused
    assert "accepted" in floored.last_update_


@pytest.mark.parametrize("record, said", [
    (5, "preprocessing.bounds is a number (5)"),
    ({"floor": 0.0, "ceiling": None, "rule": "x"}, "preprocessing.bounds is an object, not a bounds record"),
    ({"floor": "0", "ceiling": None, "rule": "x", "targets": {}}, "preprocessing.bounds.floor is text"),
    ({"floor": 0.0, "ceiling": float("nan"), "rule": "x", "targets": {}}, "preprocessing.bounds.ceiling is a number"),
    ({"floor": 0.0, "ceiling": None, "targets": {}}, "preprocessing.bounds.rule is null"),
    ({"floor": 0.0, "ceiling": None, "rule": "x", "targets": {"y": 4}}, "preprocessing.bounds.targets.y is a number"),
    ({"floor": 0.0, "ceiling": None, "rule": "x", "targets": {"y": {"unbounded": [["a"]]}}},
     "preprocessing.bounds.targets.y is an object"),
])
def test_a_bounds_record_of_another_shape_is_a_value_error_naming_its_key(record, said):
    with pytest.raises(ValueError, match=re.escape(said)):
        loaded_record(record)


def test_a_bounds_record_as_written_and_none_load_as_they_are():
    record = bounds_record(np.array([[1.0], [2.0]]), [0], [2], ["s"], ["y"])
    assert loaded_record(record) is record
    assert loaded_record(None) is None and loaded_record({}) is None


def test_a_run_whose_bounds_were_edited_is_refused_at_load_not_at_the_first_forecast(run, tmp_path):
    """Found by coverage-guided fuzzing: ``"bounds": 5`` loaded, and predict ended in AttributeError."""
    est, path = run
    meta = json.loads((path / "lstmkit.json").read_text())
    meta["preprocessing"]["bounds"] = 5
    edited = _copy_with_meta(path, tmp_path / "edited", meta)
    with pytest.raises(LstmkitError, match=r"edited has a missing or malformed lstmkit.json .*\(preprocessing.bounds "
                                           r"is a number \(5\), not a bounds record"):
        Forecaster.load(edited)


@pytest.mark.parametrize("record, said", [
    ({"floor": True, "ceiling": None, "rule": "x", "targets": {}}, "preprocessing.bounds.floor is a boolean (True)"),
    ({"floor": 0.0, "ceiling": False, "rule": "x", "targets": {}}, "preprocessing.bounds.ceiling is a boolean (False)"),
    ({"floor": 0.0, "ceiling": None, "rule": "x", "targets": {"y": {"unbounded": ["a", {"id": "b"}]}}},
     "preprocessing.bounds.targets.y is an object"),
])
def test_an_edited_floor_of_true_and_a_series_id_of_an_object_are_refused(record, said):
    # mutants that let a JSON true through as the floor 1 (or ceiling 0), or an object as a series id, survived
    with pytest.raises(ValueError, match=re.escape(said)):
        loaded_record(record)


def test_an_edited_bounds_record_of_whole_numbers_and_a_target_without_an_entry_loads_as_it_is():
    # JSON's 0 and 100 are numbers as 0.0 is, a series id may be a number, a target of no entry is left open
    # (limits_of): mutants refusing an int floor or a null entry survived
    record = {"floor": 0, "ceiling": 100, "rule": "x", "targets": {"y": {"unbounded": ["a", 3]}, "z": None}}
    assert loaded_record(record) is record
