"""Split-conformal calibration of the central intervals (:mod:`lstmkit.tasks.forecast.intervals`): the finite-sample
width, coverage on data of a known noise scale, order kept, and a run's calibration in every place a quantile is
answered, saved, loaded, and absent from a run saved before it."""
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cli_helpers import run_cli
from lstmkit import Forecaster
from lstmkit.deploy.registry import adapter_class
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.intervals import calibrated, fit_record, fit_tail, fit_widths, scores, widened
from lstmkit.tasks.forecast.probabilistic import quantiles_of
from one_thread import one_thread_per_module  # noqa: F401  (autouse: one torch thread, module fixtures too)

QUICK = dict(lookback=12, horizon=2, hidden_size=8, num_layers=1, dropout=0.0, batch_size=64, lr=1e-2,
             progress="off", tensorboard=False, device="cpu", doctor=False, ensemble=1, max_epochs=3,
             samples_per_epoch=0, seed=0, combine="none", val_frac=0.3, test_frac=0.3, ets=False)


def noise_grows(n=900, seed=0, period=12):
    """A sine plus Gaussian noise of scale 0.1 in the training part (the first 40 %) and 1.0 after it: the
    intervals the network learns are too narrow for the validation and test parts, which share one scale."""
    rng = np.random.default_rng(seed)
    sigma = np.where(np.arange(n) < 0.4 * n, 0.1, 1.0)
    return pd.DataFrame({"y": 10 + 2 * np.sin(np.arange(n) * 2 * np.pi / period) + rng.normal(0, 1, n) * sigma})


# -- the rule, on numbers ------------------------------------------------------------------------------------
def test_the_width_is_the_finite_sample_quantile_of_the_scaled_scores():
    rng = np.random.default_rng(0)
    y, lo, hi = rng.normal(size=(30, 2, 1)), np.full((30, 2, 1), -0.5), np.full((30, 2, 1), 0.5)
    e = scores(y, lo, hi)
    np.testing.assert_allclose(e, np.maximum(-0.5 - y, y - 0.5) / 1.0)
    k = math.ceil(31 * 0.8)                                            # the 25th smallest of 30
    np.testing.assert_allclose(fit_widths(y, lo, hi, 0.8), np.sort(e[:, :, 0], axis=0)[k - 1])
    assert fit_widths(y[:3], lo[:3], hi[:3], 0.8)[0] == np.max(e[:3, 0])     # ceil(4 * 0.8) > 3: the largest


@pytest.mark.parametrize("half", [0.3, 3.0], ids=["too-narrow", "too-wide"])
def test_an_interval_of_known_noise_covers_its_share_of_new_points_once_calibrated(half):
    rng = np.random.default_rng(1)
    fit, new = rng.normal(size=(500, 3, 1)), rng.normal(size=(20000, 3, 1))
    covered = lambda y, lo, hi: float(((y >= lo) & (y <= hi)).mean())
    lo, hi = np.full(fit.shape, -half), np.full(fit.shape, half)
    before = covered(new, -half, half)
    assert before < 0.3 if half < 1 else before > 0.99
    w = fit_widths(fit, lo, hi, 0.8)
    nlo, nhi = widened(np.full(new.shape, -half), np.full(new.shape, half), w)
    assert 0.77 < covered(new, nlo, nhi) < 0.84
    np.testing.assert_allclose(nhi[0, :, 0], stats.norm.ppf(0.9), atol=0.15)      # the true 80 % interval


def test_calibrated_quantiles_stay_in_order_around_an_unmoved_median():
    rng = np.random.default_rng(2)
    levels = [0.05, 0.1, 0.25, 0.3, 0.5, 0.75, 0.9, 0.95]              # 0.3 in no pair
    q = np.sort(rng.normal(size=(50, 3, 2, len(levels))), -1)
    record = {"widths": {"0.05": [-0.49, 0.0, 2.0], "0.1": [1.5, -0.45, 0.1], "0.25": [-0.4, 3.0, -0.2]}}
    out = calibrated("quantile", q, levels, record)
    assert (np.diff(out, axis=-1) >= 0).all()
    np.testing.assert_array_equal(out[..., 4], q[..., 4])
    assert not np.allclose(out, q)
    np.testing.assert_array_equal(calibrated("quantile", q, levels, None), q)          # a run without one


def test_a_likelihoods_scale_moves_its_interval_by_the_widths():
    rng = np.random.default_rng(3)
    params = np.stack([rng.normal(size=(40, 2, 1)), rng.uniform(0.5, 2, (40, 2, 1))], -1)
    y = params[..., 0] + 1.7 * params[..., 1] * rng.normal(size=(40, 2, 1))          # wider than the model says
    levels = [0.1, 0.5, 0.9]
    record, _ = fit_record("gaussian", levels, y, quantiles_of("gaussian", params, levels), 40)
    q = quantiles_of("gaussian", params, levels)
    lo, hi = widened(q[..., 0], q[..., 2], np.array(record["widths"]["0.1"]))
    got = quantiles_of("gaussian", calibrated("gaussian", params, levels, record), levels)
    np.testing.assert_allclose(got[..., 0], lo, rtol=1e-5)
    np.testing.assert_allclose(got[..., 2], hi, rtol=1e-5)
    np.testing.assert_allclose(got[..., 1], q[..., 1])


def test_too_few_validation_points_fit_nothing_and_say_why():
    y = np.zeros((5, 2, 1))
    record, why = fit_record("quantile", [0.1, 0.5, 0.9], y, np.zeros((5, 2, 1, 3)) + [-1, 0, 1], 5)
    assert record is None and "5 validation points" in why
    assert fit_record("quantile", [0.5, 0.9], y, np.zeros((5, 2, 1, 2)), 5)[0] is None
    assert fit_record("gaussian", [0.1, 0.5, 0.9], y[:0], np.zeros((0, 2, 1, 3)), 0) == (
        None, "no validation windows to fit the widths on")


# -- a run ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    data = noise_grows()
    out = {}
    for name, kw in (("on", {"quantiles": [0.1, 0.5, 0.9]}),
                     ("off", {"quantiles": [0.1, 0.5, 0.9], "calibrate_intervals": False}),
                     ("gaussian", {"likelihood": "gaussian"}),
                     ("asym", {"quantiles": [0.05, 0.5, 0.9]})):
        est = Forecaster(**QUICK, **kw).fit(data, target="y")
        out[name] = (est, est.save(tmp_path_factory.mktemp("intervals") / name))
    return data, out


def _coverage(est):
    return est.metrics_["metrics"][est.config_.model]["coverage_80"]


def test_a_run_whose_intervals_under_cover_covers_near_nominal_once_calibrated(runs):
    _, r = runs
    on, off, gaussian = r["on"][0], r["off"][0], r["gaussian"][0]
    assert _coverage(off) < 0.7                                        # learned on noise of a tenth the scale
    assert 0.72 < _coverage(on) < 0.92 and 0.72 < _coverage(gaussian) < 0.92
    assert min(on.intervals_["widths"]["0.1"]) > 0                      # widened at every step
    assert on.auto_["calibrate_intervals"]["value"] is True and "validation windows" in on.auto_["calibrate_intervals"]["why"]
    assert off.intervals_ is None and off.auto_["calibrate_intervals"] == {
        "value": False, "off": True, "why": "turned off (calibrate_intervals=False)", "given": True}
    assert "scale" in gaussian.intervals_


def test_the_calibration_leaves_training_and_the_point_forecast_alone(runs):
    data, r = runs
    a, b = r["on"][0].predict(data), r["off"][0].predict(data)
    np.testing.assert_array_equal(a["y"], b["y"])
    np.testing.assert_array_equal(a["y_q0.5"], b["y_q0.5"])
    assert ((a["y_q0.9"] - a["y_q0.1"]) > (b["y_q0.9"] - b["y_q0.1"])).all()
    assert (np.diff(a[["y_q0.1", "y_q0.5", "y_q0.9"]].to_numpy(), axis=1) >= 0).all()


@pytest.mark.parametrize("name", ["on", "gaussian"])
def test_a_saved_run_keeps_it_in_predict_evaluate_the_service_and_streams(runs, name):
    data, r = runs
    est, path = r[name]
    meta = json.loads((path / "lstmkit.json").read_text())
    assert meta["intervals"] == est.intervals_ and meta["auto"]["calibrate_intervals"]["value"] is True
    loaded = Forecaster.load(path)
    assert loaded.get_params()["calibrate_intervals"] is None          # chosen, as the call left it
    want = est.predict(data)
    pd.testing.assert_frame_equal(loaded.predict(data), want)
    assert loaded.evaluate(data)[est.config_.model]["coverage_80"] == pytest.approx(_coverage(est))
    answer = adapter_class("forecast")(loaded).answer(loaded.net_, [{"y": data["y"].tolist()[-30:]}])
    np.testing.assert_allclose(answer["quantiles"][0]["0.9"]["y"], want["y_q0.9"], rtol=1e-5)
    last = loaded.stream(engine="torch").run([{"y": v} for v in data["y"].tolist()[-30:]])[-1]
    np.testing.assert_allclose(last["quantiles"][:, 0, -1], want["y_q0.9"], rtol=1e-5)
    assert any("interval calibration" in note for note in adapter_class("forecast")(loaded).around_graph)


def _saved_before(path, to):
    """A copy in ``to`` of the run at ``path`` as a version before the calibration saved it."""
    meta = json.loads((path / "lstmkit.json").read_text())
    del meta["intervals"], meta["auto"]["calibrate_intervals"], meta["config"]["calibrate_intervals"]
    for f in path.iterdir():
        if f.is_file():
            (to / f.name).write_bytes(f.read_bytes())
    (to / "lstmkit.json").write_text(json.dumps(meta))
    return to


def test_a_run_saved_before_the_calibration_loads_and_answers_as_it_did(runs, tmp_path):
    data, r = runs
    old = Forecaster.load(_saved_before(r["on"][1], tmp_path))
    assert old.intervals_ is None
    pd.testing.assert_frame_equal(old.predict(data), r["off"][0].predict(data))       # the same weights, uncalibrated


def test_calibrating_a_point_forecast_is_refused(runs):
    with pytest.raises(LstmkitError, match="calibrates a probabilistic forecast's intervals"):
        Forecaster(**QUICK, calibrate_intervals=True).fit(runs[0], target="y")


@pytest.fixture(scope="module")
def cli_train(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "d.csv"
    noise_grows(400).to_csv(path, index=False)
    return ["forecast", "train", "--data", path, "--target", "y", "--lookback", "12", "--horizon", "2", "--epochs", "1",
            "--hidden-size", "8", "--num-layers", "1", "--quantiles", "0.1,0.5,0.9", "--no-tensorboard",
            "--progress", "off", "--no-doctor", "--ensemble", "1", "--combine", "none", "--no-ets"]


def test_train_says_how_far_it_moved_the_intervals(cli_train, tmp_path, capsys):
    code, out, err = run_cli([*cli_train, "--out", tmp_path], capsys)
    assert code == 0, err
    assert "intervals calibrated on 59 validation windows: the 80 % interval's ends moved" in out
    assert "--no-calibrate-intervals leaves them as the network answers" in out


def test_no_calibrate_intervals_turns_it_off(cli_train, tmp_path, capsys):
    code, out, err = run_cli([*cli_train, "--no-calibrate-intervals", "--out", tmp_path], capsys)
    assert code == 0, err
    meta = json.loads(next(tmp_path.glob("*/lstmkit.json")).read_text())
    assert "intervals" not in meta and meta["auto"]["calibrate_intervals"]["why"] == "turned off (--no-calibrate-intervals)"
    assert "intervals calibrated" not in out


def test_a_backtests_folds_answer_the_calibrated_quantiles_predict_shows(runs):
    from lstmkit.tasks.forecast.fastpath import fold_forecasts
    data, r = runs
    est = r["on"][0]
    n = len(data)
    folds = fold_forecasts(est, data, est.series_ids_, np.array([n]), np.array([[n - 6], [n - 4]]))     # [K, S, H, 1 + Q]
    for k, cut in enumerate((n - 6, n - 4)):
        want = est.predict(data.iloc[:cut])
        np.testing.assert_allclose(folds[k, 0, :, 1:], want[["y_q0.1", "y_q0.5", "y_q0.9"]], rtol=1e-5)
    assert est.backtest(data, folds=2)["aggregate"][est.config_.model]["coverage_80"] is not None


def test_a_run_interrupted_after_its_calibration_resumes_and_fits_it_again(runs, tmp_path, monkeypatch):
    from interrupt_helpers import ctrl_c_on_call
    from lstmkit.train import TrainingInterrupted
    data, r = runs
    with monkeypatch.context() as m:
        ctrl_c_on_call(m, "lstmkit.tasks.forecast.pipeline:panel_metrics")       # after the calibration was recorded
        with pytest.raises(TrainingInterrupted):
            Forecaster(**QUICK, quantiles=[0.1, 0.5, 0.9]).fit(data, target="y", run_dir=tmp_path / "run")
    est = Forecaster.resume(tmp_path / "run", data=data)
    assert est.intervals_ == r["on"][0].intervals_ and est.auto_["calibrate_intervals"]["value"] is True
    pd.testing.assert_frame_equal(est.predict(data), r["on"][0].predict(data))


# -- an update ----------------------------------------------------------------------------------------------
def test_a_kept_update_refits_the_intervals_on_its_held_out_windows(runs):
    import copy
    data, r = runs
    est = copy.deepcopy(r["on"][0])
    est.update(data.iloc[-300:], epochs=3, holdout=0.5)
    report = est.last_update_
    assert report["accepted"] and report["intervals"]["value"] is True
    assert report["intervals"]["why"].startswith("refitted: fitted on 144 held-out windows")
    assert est.intervals_["windows"] == report["val_windows"] == 144
    assert est.intervals_["widths"] != r["on"][0].intervals_["widths"]          # the new weights' own widths
    assert est.auto_["calibrate_intervals"] == {"value": True, "why": report["intervals"]["why"]}
    raw = copy.deepcopy(est)
    raw.intervals_ = None
    q = raw.predict(data)[["y_q0.1", "y_q0.5", "y_q0.9"]].to_numpy()[None, :, None]            # [1, H, 1, Q]
    want = calibrated("quantile", q, [0.1, 0.5, 0.9], est.intervals_)[0, :, 0]
    np.testing.assert_allclose(est.predict(data)[["y_q0.1", "y_q0.5", "y_q0.9"]], want, rtol=1e-6)


def test_a_predict_racing_a_kept_update_answers_with_the_old_net_and_the_old_nets_widths(runs, monkeypatch):
    # the update set the new widths before the new net, and predict read the widths after running the net: a
    # predict that ran the old net while an update was kept answered its quantiles with the new net's widths
    import copy
    import threading
    from lstmkit.tasks.forecast.model import ForecastNet
    data, r = runs
    est = copy.deepcopy(r["on"][0])
    want = est.predict(data, engine="torch")
    entered, go, forward = threading.Event(), threading.Event(), ForecastNet.forward

    def held(self, *a, **k):                  # the racing predict's network call waits while the update is kept
        if threading.current_thread().name == "racer" and not entered.is_set():
            entered.set()
            assert go.wait(60)
        return forward(self, *a, **k)

    monkeypatch.setattr(ForecastNet, "forward", held)
    got = {}
    racer = threading.Thread(target=lambda: got.update(frame=est.predict(data, engine="torch")), name="racer")
    racer.start()
    try:
        assert entered.wait(60)
        est.update(data.iloc[-300:], epochs=3, holdout=0.5)
    finally:
        go.set()
        racer.join(60)
    assert est.last_update_["accepted"] and est.intervals_["widths"] != r["on"][0].intervals_["widths"]
    pd.testing.assert_frame_equal(got["frame"], want)
    assert not est.predict(data, engine="torch").equals(want)          # the next predict: the new net and widths


def test_a_kept_update_with_too_few_held_out_points_drops_the_intervals_and_says_so(runs, tmp_path, capsys):
    data, r = runs
    data.iloc[-300:].to_csv(tmp_path / "new.csv", index=False)
    code, out, err = run_cli(["forecast", "update", "--run", r["on"][1], "--data", tmp_path / "new.csv",
                              "--epochs", "3", "--holdout", "0.05", "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    assert "update kept" in out
    assert ("intervals dropped: 14 held-out points at a horizon step, fewer than 20: too few to fit the widths on "
            "(the forecast's intervals are the network's own)") in out
    new = next((tmp_path / "runs").glob("*/lstmkit.json")).parent
    assert json.loads((new / "update.json").read_text())["intervals"]["value"] is False
    meta = json.loads((new / "lstmkit.json").read_text())
    assert "intervals" not in meta and meta["auto"]["calibrate_intervals"]["value"] is False
    assert Forecaster.load(new).intervals_ is None


# -- a record edited by hand ---------------------------------------------------------------------------------
def _edited_copy(path, to, edit):
    meta = json.loads((path / "lstmkit.json").read_text())
    edit(meta["intervals"])
    for f in path.iterdir():
        if f.is_file():
            (to / f.name).write_bytes(f.read_bytes())
    (to / "lstmkit.json").write_text(json.dumps(meta))
    return to


@pytest.mark.parametrize("name, edit, says", [
    ("on", lambda r: r["widths"].update({"0.1": [0.3]}), "intervals.widths['0.1'] = [0.3], not a list of 2 numbers"),
    ("on", lambda r: r["widths"].update({"0.1": [0.3, 0.2, 0.1]}), "not a list of 2 numbers of at least -0.5"),
    ("on", lambda r: r["widths"].update({"0.1": ["wide", 0.2]}), "intervals.widths['0.1'] = [\"wide\", 0.2]"),
    ("on", lambda r: r["widths"].update({"0.2": r["widths"].pop("0.1")}), "intervals.widths['0.2'] for no central"),
    ("on", lambda r: r.update(widths=None), "intervals.widths = null"),
    ("gaussian", lambda r: r.update(scale=[-1.0, 1.2]),
     "intervals.scale = [-1.0, 1.2], not a list of 2 numbers above 0"),
    ("gaussian", lambda r: r.pop("scale"), "intervals.scale = null"),
], ids=["short", "long", "text", "other-level", "no-widths", "negative-scale", "no-scale"])
def test_an_edited_record_that_does_not_fit_the_run_is_one_clear_error(runs, tmp_path, capsys, name, edit, says):
    data, r = runs
    run = _edited_copy(r[name][1], tmp_path, edit)
    with pytest.raises(LstmkitError, match="the file was edited or damaged") as e:
        Forecaster.load(run)
    assert says in str(e.value) and "delete its `intervals` entry" in e.value.hint
    data.to_csv(tmp_path / "d.csv", index=False)
    code, _, err = run_cli(["forecast", "predict", "--run", run, "--data", tmp_path / "d.csv"], capsys)
    assert code == 2 and says in err and "Traceback" not in err


def test_train_says_why_the_intervals_were_not_calibrated(cli_train, tmp_path, capsys):
    # 0.3 and 0.6: no pair, and the median is read between them, so neither moves
    code, out, err = run_cli([*[a if a != "0.1,0.5,0.9" else "0.3,0.6" for a in cli_train], "--out", tmp_path], capsys)
    assert code == 0, err
    assert ("intervals not calibrated: no level to calibrate (no pair q, 1 - q among the levels, and none beside the "
            "median's); they are as the network answers") in out


def test_train_says_how_far_each_end_without_a_pair_moved(cli_train, tmp_path, capsys):
    code, out, err = run_cli([*[a if a != "0.1,0.5,0.9" else "0.05,0.5,0.9" for a in cli_train], "--out", tmp_path],
                             capsys)
    assert code == 0, err
    assert "intervals calibrated on 59 validation windows: the 0.05 quantile moved " in out
    assert ", the 0.9 quantile moved " in out and "of its distance from the median, by horizon step; " in out
    # each end is scored by the share of the test points at or below it, as a pair by its coverage (none was)
    (line,) = [s for s in out.splitlines() if s.startswith("probabilistic: ")]
    assert re.fullmatch(r"probabilistic: wQL \S+, CRPS \S+, coverage_q0.05 \S+, coverage_q0.9 \S+", line), line
    meta = json.loads(next(tmp_path.glob("*/lstmkit.json")).read_text())
    assert meta["intervals"]["widths"] == {} and list(meta["intervals"]["tails"]) == ["0.05", "0.9"]


def test_points_of_an_interval_of_no_width_do_not_count_towards_the_minimum():
    rng = np.random.default_rng(4)
    y = np.zeros((30, 2, 1))                                          # 30 windows: 25 of a series of zeros
    q = np.zeros((30, 2, 1, 3))
    y[:5], q[:5] = rng.normal(size=(5, 2, 1)), np.array([-1.0, 0.0, 1.0])
    record, why = fit_record("quantile", [0.1, 0.5, 0.9], y, q, 30)
    assert record is None
    assert why == ("5 validation points at a horizon step (25 more whose interval has no width), fewer than 20: too "
                   "few to fit the widths on")
    y[5:25], q[5:25] = rng.normal(size=(20, 2, 1)), np.array([-1.0, 0.0, 1.0])
    record, why = fit_record("quantile", [0.1, 0.5, 0.9], y, q, 30)
    assert record["points_per_step"] == 25 and why == "fitted on 30 validation windows (25 points a horizon step)"


# -- every path, on a run of several targets, logs, seasonal indices, a seed ensemble and a ceiling that clips ------
@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    y = np.minimum(noise_grows(600)["y"].to_numpy(), 11.0)             # the ceiling reached: the upper ends clip
    data = pd.DataFrame({"y": y, "z": y - 1})
    est = Forecaster(**{**QUICK, "ensemble": 2}, quantiles=[0.1, 0.5, 0.9], log=True, deseason=12,
                     bounds=",11").fit(data, target=["y", "z"])
    return data, est, est.save(tmp_path_factory.mktemp("mixed") / "run")


def _by_hand(est, data):
    """The forecast's quantiles as the network answers them, with intervals.calibrated applied, then the ceiling."""
    import copy
    raw = copy.copy(est)
    raw.intervals_, raw.bounds_ = None, None
    frame = raw.predict(data)
    cols = [[f"{t}_q{v:g}" for v in (0.1, 0.5, 0.9)] for t in ("y", "z")]
    q = np.stack([frame[c].to_numpy() for c in cols], 1)[None]              # [1, H, T, Q]
    return {t: np.minimum(calibrated("quantile", q, [0.1, 0.5, 0.9], est.intervals_)[0, :, k], 11.0)
            for k, t in enumerate(("y", "z"))}, cols


@pytest.mark.filterwarnings("ignore:.*the network extrapolates")
def test_predict_of_several_targets_logs_seasons_an_ensemble_and_a_ceiling_is_calibrated_then_clipped(mixed):
    data, est, _ = mixed
    assert est.intervals_ is not None and est.intervals_["points_per_step"] == 2 * est.intervals_["windows"]
    want, cols = _by_hand(est, data)
    got = est.predict(data)
    for t, c in zip(("y", "z"), cols):
        np.testing.assert_allclose(got[c].to_numpy(), want[t], rtol=1e-6)
    assert (got["y_q0.9"] == 11.0).any()                                  # the ceiling clipped a calibrated end


@pytest.mark.filterwarnings("ignore:.*the network extrapolates")
def test_the_onnx_engine_answers_the_calibrated_quantiles(mixed):
    from lstmkit.deploy.onnx import export_onnx
    data, est, path = mixed
    export_onnx(path)
    want, cols = _by_hand(est, data)
    got = Forecaster.load(path).predict(data, engine="onnx")
    for t, c in zip(("y", "z"), cols):
        np.testing.assert_allclose(got[c].to_numpy(), want[t], rtol=1e-4)
    assert any("interval calibration" in n for n in json.loads((path / "onnx.json").read_text())["around_graph"])


def _refit_folds(monkeypatch, data, quantiles):
    """The models a refit backtest of 2 folds trained, and the frames each answered its fold with."""
    from lstmkit.tasks.forecast import backtest as bt
    models, train = [], bt._train
    monkeypatch.setattr(bt, "_train", lambda *a, **k: models.append(train(*a, **k)) or models[-1])
    answered, by_series = [], bt._forecast_by_series
    monkeypatch.setattr(bt, "_forecast_by_series",
                        lambda pred, *a, **k: answered.append(pred) or by_series(pred, *a, **k))
    Forecaster(**QUICK, quantiles=quantiles).backtest(data, folds=2, refit=True)
    return models, answered


def test_a_refit_backtests_folds_each_answer_their_own_models_calibration(monkeypatch):
    import copy
    data = noise_grows(500)
    models, answered = _refit_folds(monkeypatch, data, [0.1, 0.5, 0.9])
    assert len(models) == 2 and all(m.intervals_ for m in models)
    assert models[0].intervals_["widths"] != models[1].intervals_["widths"]          # each fold's own fit
    for m, pred in zip(models, answered):
        raw = copy.copy(m)
        raw.intervals_ = None
        cut = len(data) - (2 - models.index(m)) * m.config_.horizon
        q = raw.predict(data.iloc[:cut])[["y_q0.1", "y_q0.5", "y_q0.9"]].to_numpy()[None, :, None]
        want = np.maximum(calibrated("quantile", q, [0.1, 0.5, 0.9], m.intervals_), 0)[0, :, 0]      # the floor at 0
        np.testing.assert_allclose(pred[["y_q0.1", "y_q0.5", "y_q0.9"]].to_numpy(), want, rtol=1e-6)


def test_an_int8_export_keeps_the_calibration_and_answers_it(runs, tmp_path):
    import copy
    from lstmkit.deploy.quantize import export_int8
    data, r = runs
    est, path = r["on"]
    int8 = Forecaster.load(export_int8(path, out=tmp_path / "int8", data=data.iloc[-200:], backends=("torch",)))
    assert int8.quantization_ and int8.intervals_ == est.intervals_
    raw = copy.copy(int8)
    raw.intervals_ = None
    cols = ["y_q0.1", "y_q0.5", "y_q0.9"]
    q = raw.predict(data)[cols].to_numpy()[None, :, None]
    want = calibrated("quantile", q, [0.1, 0.5, 0.9], est.intervals_)[0, :, 0]
    np.testing.assert_allclose(int8.predict(data)[cols].to_numpy(), want, rtol=1e-6)


def test_a_likelihood_reporting_levels_without_a_central_pair_is_calibrated_on_its_80_interval(runs, tmp_path):
    data, r = runs
    est = Forecaster(**QUICK, likelihood="gaussian", quantiles=[0.05, 0.5, 0.9]).fit(data, target="y")
    assert est.auto_["calibrate_intervals"]["value"] is True and list(est.intervals_["widths"]) == ["0.1"]
    assert est.intervals_["scale"] == r["gaussian"][0].intervals_["scale"]         # the same network, seed and windows
    loaded = Forecaster.load(est.save(tmp_path / "run"))
    pd.testing.assert_frame_equal(loaded.predict(data), est.predict(data))


@pytest.mark.parametrize("widths, said", [
    ([0.1, 0.1, 0.1], "the 80 % interval's ends moved out by 0.10 of its width"),
    ([0.05, 0.2], "the 80 % interval's ends moved out by 0.05 .. 0.20 of its width"),
    ([-0.2, -0.05], "the 80 % interval's ends moved in by 0.05 .. 0.20 of its width"),
    ([-0.3, -0.3], "the 80 % interval's ends moved in by 0.30 of its width"),
    ([-0.05, 0.1], "the 80 % interval's ends moved by -0.05 (in) .. +0.10 (out) of its width"),
    ([0.0, 0.1], "the 80 % interval's ends moved out by 0.00 .. 0.10 of its width"),       # a step unmoved: none in
    ([-0.1, 0.0], "the 80 % interval's ends moved in by 0.00 .. 0.10 of its width"),
    ([0.104, 0.108], "the 80 % interval's ends moved out by 0.10 .. 0.11 of its width"),    # as each shows
    ([0.101, 0.104], "the 80 % interval's ends moved out by 0.10 of its width"),
])
def test_the_report_says_a_narrowed_interval_moved_in_not_out_by_a_negative(widths, said):
    from lstmkit.tasks.forecast.intervals import report_note
    note = report_note({"windows": 1200, "widths": {"0.1": widths}})
    assert note.startswith(f"intervals calibrated on 1,200 validation windows: {said}, by horizon step; ")


def test_each_pair_is_ranked_at_its_own_share_and_a_likelihood_scales_by_its_80_interval():
    rng = np.random.default_rng(5)
    levels = [0.05, 0.1, 0.5, 0.9, 0.95]
    y = rng.normal(size=(40, 1, 1))
    q = np.zeros((40, 1, 1, 5)) + [-2.0, -1.0, 0.0, 1.0, 2.0]
    e90 = np.sort((np.maximum(-2 - y, y - 2) / 4).ravel())
    e80 = np.sort((np.maximum(-1 - y, y - 1) / 2).ravel())
    for kind in ("quantile", "gaussian"):
        record, _ = fit_record(kind, levels, y, q, 40)
        assert record["widths"]["0.05"] == [pytest.approx(e90[math.ceil(41 * 0.9) - 1], abs=1e-6)]   # the 37th of 40
        assert record["widths"]["0.1"] == [pytest.approx(e80[math.ceil(41 * 0.8) - 1], abs=1e-6)]    # the 33rd
    # a symmetric distribution's 80 % interval moves by w widths a side when its scale is times 1 + 2 w
    assert record["scale"] == [pytest.approx(1 + 2 * e80[32], abs=1e-5)]
    q = np.zeros((40, 1, 1, 5)) + [-1.0, -0.5, 0.0, 0.5, 1.0]            # 0.1, 0.25, 0.5, 0.75, 0.9: the 80 % is wider
    record, _ = fit_record("gaussian", [0.1, 0.25, 0.5, 0.75, 0.9], y, q, 40)
    assert record["scale"] == [pytest.approx(1 + 2 * record["widths"]["0.1"][0], abs=1e-5)]
    assert record["widths"]["0.1"] != record["widths"]["0.25"]


def test_the_fewest_points_of_any_pair_and_step_decide_and_twenty_are_enough():
    levels = [0.1, 0.25, 0.5, 0.75, 0.9]
    y = np.linspace(-3, 3, 30).reshape(30, 1, 1).repeat(2, 1)
    q = np.zeros((30, 2, 1, 5)) + [-2.0, -1.0, 0.0, 1.0, 2.0]
    q[:11, 1, 0] = [-2.0, 0.0, 0.0, 0.0, 2.0]                        # the 50 % interval of no width at step 2
    record, why = fit_record("quantile", levels, y, q, 30)
    assert record is None
    assert why == ("19 validation points at a horizon step (11 more whose interval has no width), fewer than 20: too "
                   "few to fit the widths on")
    q[10, 1, 0] = [-2.0, -1.0, 0.0, 1.0, 2.0]                        # one more: 20, the minimum
    record, why = fit_record("quantile", levels, y, q, 30)
    assert record["points_per_step"] == 20 and why == "fitted on 30 validation windows (20 points a horizon step)"


def test_a_likelihood_without_a_central_pair_is_fitted_at_its_distributions_80_interval():
    from lstmkit.tasks.forecast.intervals import fitted_levels
    assert fitted_levels("gaussian", [0.05, 0.5, 0.9]) == [0.1, 0.5, 0.9]
    assert fitted_levels("gaussian", [0.2, 0.5, 0.8]) == [0.2, 0.5, 0.8]
    assert fitted_levels("quantile", [0.05, 0.5, 0.9]) == [0.05, 0.5, 0.9]     # a quantile run has no others


GOOD = {"windows": 30, "widths": {"0.1": [-0.5, 0.2]}, "scale": [1e-3, 1.4]}


@pytest.mark.parametrize("edit, says", [
    ({}, None),                                                                    # narrowed to the middle, at most
    ({"windows": None}, None),                                                      # dropped below: not required
    ({"widths": {"0.1": [-0.51, 0.2]}}, "intervals.widths['0.1'] = [-0.51, 0.2], not a list of 2 numbers of at least -0.5"),
    ({"widths": {"0.1": [0.1, float("nan")]}}, "intervals.widths['0.1'] = [0.1, NaN]"),
    ({"widths": {"0.1": [True, 0.2]}}, "intervals.widths['0.1'] = [true, 0.2]"),
    ({"widths": "0.1"}, "intervals.widths = \"0.1\", not a width list"),
    ({"widths": {}}, "intervals.widths = {}, not a width list"),
    ({"scale": [0.0, 1.4]}, "intervals.scale = [0.0, 1.4], not a list of 2 numbers above 0"),
    ({"scale": (1.0, 1.4)}, "intervals.scale = [1.0, 1.4], not a list"),
    ({"windows": True}, "intervals.windows = true, not a number of windows"),
    ({"windows": "30"}, "intervals.windows = \"30\", not a number of windows"),
], ids=["edges", "no-windows", "past-the-middle", "nan", "bool", "text-widths", "empty-widths", "zero-scale",
        "tuple-scale", "bool-windows", "text-windows"])
def test_a_saved_record_is_checked_at_each_fields_bounds(edit, says):
    from lstmkit.tasks.forecast.intervals import checked_record
    record = {**GOOD, **edit}
    record = {k: v for k, v in record.items() if v is not None}
    if says is None:
        assert checked_record(record, "gaussian", [0.1, 0.5, 0.9], 2, "x.json") is record
        return
    with pytest.raises(LstmkitError, match="the file was edited or damaged") as e:
        checked_record(record, "gaussian", [0.1, 0.5, 0.9], 2, "x.json")
    assert says in str(e.value)


@pytest.mark.parametrize("widths, want", [
    ({"0.1": [0.5], "0.25": [0.0]}, [-4.0, -1.0, 0.0, 1.0, 4.0]),      # 0.1 .. 0.9 out by half its width of 4 a side
    ({"0.1": [-0.5], "0.25": [1.0]}, [-3.0, -3.0, 0.0, 3.0, 3.0]),     # 0.1 .. 0.9 narrowed inside 0.25 .. 0.75: held at it
], ids=["out", "crossed"])
def test_calibrated_quantiles_by_hand(widths, want):
    q = np.array([-2.0, -1.0, 0.0, 1.0, 2.0]).reshape(1, 1, 1, 5)
    out = calibrated("quantile", q, [0.1, 0.25, 0.5, 0.75, 0.9], {"widths": widths})
    np.testing.assert_allclose(out[0, 0, 0], want)


def test_the_graph_note_names_what_was_calibrated():
    from lstmkit.tasks.forecast.intervals import around_note
    assert "a likelihood's scale multiplied" in around_note({"widths": {"0.1": [0.1]}, "scale": [1.2]})[0]
    assert "each central interval (q, 1 - q) moved out" in around_note({"widths": {"0.1": [0.1]}})[0]
    assert around_note(None) == []


def test_the_widths_are_fitted_on_each_windows_own_actuals():
    # a season of 7 against a lookback of 12: actuals taken from any other step than the forecast's own are a
    # season out of phase, and their scores would widen the intervals far past 80 %
    est = Forecaster(**QUICK, quantiles=[0.1, 0.5, 0.9]).fit(noise_grows(period=7), target="y")
    assert 0.72 < _coverage(est) < 0.92


def test_an_update_of_a_run_that_asked_for_the_calibration_refits_it_and_keeps_that_it_was_asked(runs):
    data, _ = runs
    est = Forecaster(**QUICK, quantiles=[0.1, 0.5, 0.9], calibrate_intervals=True).fit(data, target="y")
    assert est.auto_["calibrate_intervals"]["given"] is True
    before = est.intervals_
    est.update(data.iloc[-300:], epochs=3, holdout=0.5)
    assert est.last_update_["accepted"] and est.last_update_["intervals"]["value"] is True
    assert est.intervals_ is not None and est.intervals_ != before and est.config_.calibrate_intervals is True
    assert est.auto_["calibrate_intervals"]["given"] is True                   # a resume keeps the call's choice


def test_an_update_refits_a_calibration_the_call_asked_for_that_its_validation_windows_were_too_few_for(runs):
    data, _ = runs
    est = Forecaster(**{**QUICK, "val_frac": 0.015}, quantiles=[0.1, 0.5, 0.9], calibrate_intervals=True).fit(
        data, target="y")
    assert est.intervals_ is None and "fewer than 20" in est.auto_["calibrate_intervals"]["why"]
    est.update(data.iloc[-300:], epochs=3, holdout=0.5)
    assert est.last_update_["accepted"] and est.last_update_["intervals"]["value"] is True
    assert est.intervals_["windows"] == 144 and est.auto_["calibrate_intervals"]["given"] is True
    import copy
    off = copy.deepcopy(runs[1]["off"][0])                             # turned off by the call: stays off
    off.update(data.iloc[-300:], epochs=3, holdout=0.5)
    assert off.last_update_["accepted"] and off.last_update_.get("intervals") is None and off.intervals_ is None
    assert off.auto_["calibrate_intervals"]["why"] == "turned off (calibrate_intervals=False)"


def test_a_calibration_asked_for_but_too_few_points_to_fit_resumes_as_asked_not_as_turned_off(runs, tmp_path,
                                                                                                monkeypatch):
    """The run keeps the call's ``calibrate_intervals=True`` though its validation windows were too few to fit the
    widths: its config said False, which a resume read as the call's word, 'turned off (--no-calibrate-intervals)'."""
    from interrupt_helpers import ctrl_c_on_call
    from lstmkit.train import TrainingInterrupted
    data, _ = runs
    with monkeypatch.context() as m:
        ctrl_c_on_call(m, "lstmkit.tasks.forecast.pipeline:panel_metrics")       # after the calibration was recorded
        with pytest.raises(TrainingInterrupted):
            Forecaster(**{**QUICK, "val_frac": 0.015}, quantiles=[0.1, 0.5, 0.9], calibrate_intervals=True).fit(
                data, target="y", run_dir=tmp_path / "run")
    est = Forecaster.resume(tmp_path / "run", data=data)
    chosen = est.auto_["calibrate_intervals"]
    assert est.intervals_ is None and est.config_.calibrate_intervals is True
    assert chosen["value"] is False and "fewer than 20" in chosen["why"] and chosen["given"] is True
    assert "off" not in chosen


# -- each end on its own: levels in no pair (asymmetric conformalized quantile regression) -------------------------
def test_an_end_is_ranked_at_its_own_level_in_distances_from_the_median():
    rng = np.random.default_rng(6)
    y = rng.normal(size=(40, 1, 1))
    q = np.zeros((40, 1, 1, 3)) + [-1.0, 0.0, 2.0]                     # 0.05, 0.5, 0.9: no pair
    record, why = fit_record("quantile", [0.05, 0.5, 0.9], y, q, 40)
    up = np.sort(((y - 2) / 2).ravel())                                # (y - q) / |q - median|
    down = np.sort(((y + 1) / 1).ravel())
    assert record["widths"] == {} and why == "fitted on 40 validation windows (40 points a horizon step)"
    assert record["tails"]["0.9"] == [pytest.approx(up[math.ceil(41 * 0.9) - 1], abs=1e-6)]       # the 37th of 40
    assert record["tails"]["0.05"] == [pytest.approx(-down[math.floor(41 * 0.05) - 1], abs=1e-6)]  # the 2nd, outward
    # (n + 1) level read to 1e-9: 10 * 0.7 ranks the 7th (a float's 7.000000000000001 ranked the 8th), 100 * 0.29
    # the 29th (28.999999999999996 the 28th)
    e = np.arange(9.0).reshape(9, 1, 1)
    assert fit_tail(e, np.zeros((9, 1, 1)), np.full((9, 1, 1), -1.0), 0.7, True)[0] == 6.0
    e = np.arange(99.0).reshape(99, 1, 1)
    assert fit_tail(e, np.zeros((99, 1, 1)), np.full((99, 1, 1), 1000.0), 0.29, False)[0] == -0.028
    # moved in at most onto the median
    assert fit_tail(np.full((30, 1, 1), -5.0), np.ones((30, 1, 1)), np.zeros((30, 1, 1)), 0.9, True)[0] == -1.0


def test_an_end_past_its_points_ranks_the_extreme_score():
    # 30 points: 0.99 ranks ceil(31 * 0.99) = the 31st, past the 30th, so the largest score; 0.01 ranks
    # floor(31 * 0.01) = the 0th, before the 1st, so the smallest (moved out by minus it)
    y = np.arange(30.0).reshape(30, 1, 1)
    assert fit_tail(y, np.zeros((30, 1, 1)), np.full((30, 1, 1), -1.0), 0.99, True)[0] == 29.0      # scores y
    assert fit_tail(y - 5, np.zeros((30, 1, 1)), np.ones((30, 1, 1)), 0.01, False)[0] == 5.0       # scores y - 5


def test_an_end_is_ranked_on_its_observed_points_alone_and_a_step_with_none_is_not_moved():
    y = np.full((30, 2, 1), np.nan)
    y[:25, 0, 0] = np.arange(25.0)                            # step 0: 25 observed of 30; step 1: none
    q, median = np.zeros((30, 2, 1)), np.full((30, 2, 1), -1.0)   # scores y
    # 0.9 of the 25 observed: ceil(26 * 0.9) = the 24th smallest (of 30, NaN counted, the 28th: a NaN)
    np.testing.assert_array_equal(fit_tail(y, q, median, 0.9, True), [23.0, 0.0])


def test_an_interpolated_median_is_what_an_end_is_ranked_from():
    # 0.05, 0.3, 0.8: the median is read 0.4 of the way from 0.3 to 0.8 (0.4 here), so 0.05's distance is 1.4
    y = np.random.default_rng(9).normal(size=(40, 1, 1))
    q = np.zeros((40, 1, 1, 3)) + [-1.0, 0.0, 1.0]
    record, _ = fit_record("quantile", [0.05, 0.3, 0.8], y, q, 40)
    down = np.sort(((y + 1) / 1.4).ravel())
    assert record["widths"] == {} and list(record["tails"]) == ["0.05"]
    assert record["tails"]["0.05"] == [pytest.approx(-down[math.floor(41 * 0.05) - 1], abs=1e-6)]   # the 2nd


def test_the_notes_name_the_widths_and_the_ends_each_where_the_record_has_them():
    from lstmkit.tasks.forecast.intervals import around_note, report_note
    both = {"windows": 10, "widths": {"0.1": [0.1]}, "tails": {"0.9": [-0.05, 0.1]}}
    pair = ("each central interval (q, 1 - q) moved out per horizon step by intervals.widths[q] times its width")
    end = "each level q in no pair moved out per horizon step by intervals.tails[q] times its distance from the median"
    say = "the interval calibration on the validation windows: {} (lstmkit.json), before the bounds"
    assert around_note(both) == [say.format(f"{pair}; {end}")]
    assert around_note({**both, "widths": {}}) == [say.format(end)]
    assert around_note({"widths": {"0.1": [0.1]}}) == [say.format(pair)]
    assert report_note({**both, "widths": {}}).startswith(
        "intervals calibrated on 10 validation windows: the 0.9 quantile moved by -0.05 (in) .. +0.10 (out) of its "
        "distance from the median, by horizon step; ")


def test_points_of_an_end_on_the_median_or_not_observed_have_no_score_and_do_not_count_towards_the_minimum():
    import warnings
    from lstmkit.tasks.forecast.intervals import tail_scores
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # an end on the median is no score, not a division by 0 warned of
        e = tail_scores(np.array([3.0, np.nan, 2.0]), np.array([1.0, 1.0, 1.0]), np.array([0.0, 0.0, 1.0]))
    np.testing.assert_array_equal(e, [2.0, np.nan, np.nan])
    y, q = np.ones((30, 1, 1)), np.zeros((30, 1, 1, 3)) + [-1.0, 0.0, 1.0]      # 0.05, 0.5, 0.9
    q[:12, :, :, 0] = 0.0                                                       # 12 windows' 0.05 on the median
    y[12:15] = np.nan                                                           # 3 not observed
    record, why = fit_record("quantile", [0.05, 0.5, 0.9], y, q, 30)
    assert record is None and why == ("15 validation points at a horizon step (12 more whose interval has no width), "
                                      "fewer than 20: too few to fit the widths on")


def test_a_likelihoods_levels_in_no_pair_are_not_moved_on_their_own():
    # its one distribution moves by its scale; a tails record on it would not load (checked_record refuses it)
    from lstmkit.tasks.forecast.intervals import RULE, checked_record
    y = np.random.default_rng(8).normal(size=(30, 1, 1))
    q = np.zeros((30, 1, 1, 4)) + [-1.0, 0.0, 1.0, 1.5]
    record, _ = fit_record("gaussian", [0.1, 0.5, 0.9, 0.95], y, q, 30)
    assert "tails" not in record and record["rule"] == RULE
    assert checked_record(record, "gaussian", [0.1, 0.5, 0.9, 0.95], 1, "x.json") is record
    with pytest.raises(LstmkitError, match=r"intervals.tails\['0.95'\] on a run with no level calibrated on its own"):
        checked_record({**record, "tails": {"0.95": [0.1]}}, "gaussian", [0.1, 0.5, 0.9, 0.95], 1, "x.json")


@pytest.mark.parametrize("half", [0.3, 3.0], ids=["too-narrow", "too-wide"])
def test_an_end_of_known_noise_has_its_share_of_new_points_below_it_once_calibrated(half):
    rng = np.random.default_rng(7)
    fit, new = rng.normal(size=(2000, 2, 1)), rng.normal(size=(20000, 2, 1))
    q = lambda n: np.zeros((n, 2, 1, 3)) + [-half, 0.0, half]
    record, _ = fit_record("quantile", [0.05, 0.5, 0.9], fit, q(len(fit)), len(fit))
    out = calibrated("quantile", q(len(new)), [0.05, 0.5, 0.9], record)
    assert 0.88 < (new <= out[..., 2]).mean() < 0.92 and 0.035 < (new < out[..., 0]).mean() < 0.065
    np.testing.assert_allclose(out[0, :, 0, 2], stats.norm.ppf(0.9), atol=0.12)            # the true quantiles
    np.testing.assert_allclose(out[0, :, 0, 0], stats.norm.ppf(0.05), atol=0.15)
    np.testing.assert_array_equal(out[..., 1], 0.0)


@pytest.mark.parametrize("levels, record, q, want", [
    ([0.05, 0.1, 0.5, 0.9, 0.97], {"widths": {"0.1": [0.5]}, "tails": {"0.05": [1.0], "0.97": [-1.0]}},
     [-2.0, -1.0, 0.0, 1.0, 3.0], [-4.0, -2.0, 0.0, 2.0, 2.0]),        # 0.97 moved onto the median: held at 0.9
    ([0.05, 0.3, 0.8], {"widths": {}, "tails": {"0.05": [0.5]}},
     [-1.0, 0.0, 1.0], [-1.7, 0.0, 1.0]),                               # the median 0.4, read between 0.3 and 0.8
    ([0.1, 0.5, 0.9, 0.95], {"widths": {"0.1": [0.0]}}, [-1.0, 0.0, 1.0, 1.5], [-1.0, 0.0, 1.0, 1.5]),  # saved before
], ids=["pairs-and-ends", "interpolated-median", "record-without-tails"])
def test_ends_calibrated_by_hand(levels, record, q, want):
    out = calibrated("quantile", np.array(q).reshape(1, 1, 1, -1), levels, record)
    np.testing.assert_allclose(out[0, 0, 0], want)


@pytest.mark.parametrize("levels, alone", [
    ([0.05, 0.5, 0.9], [0, 2]), ([0.1, 0.25, 0.5, 0.9], [1]), ([0.05, 0.3, 0.8], [0]),   # 0.3, 0.8 read the median
    ([0.6, 0.7, 0.9], [1, 2]), ([0.1, 0.2, 0.4], [0, 1]), ([0.3, 0.6], []), ([0.1, 0.5, 0.9], [])])
def test_the_levels_moved_on_their_own_are_those_in_no_pair_that_the_median_is_not_read_from(levels, alone):
    from lstmkit.tasks.forecast.intervals import tails
    assert tails(levels) == alone


TAILED = {"windows": 30, "widths": {}, "tails": {"0.05": [-1.0, 0.3], "0.9": [0.1, 2.0]}}


@pytest.mark.parametrize("kind, edit, says", [
    ("quantile", {}, None),
    ("quantile", {"tails": {"0.05": [-1.01, 0.3]}}, "intervals.tails['0.05'] = [-1.01, 0.3], not a list of 2 numbers "
                                                    "of at least -1"),
    ("quantile", {"tails": {"0.5": [0.1, 0.1]}}, "intervals.tails['0.5'] for no level of the run calibrated on its "
                                                "own (0.05, 0.9)"),
    ("quantile", {"tails": {}}, "intervals.tails = {}, not a list of moves per level in no pair"),
    ("quantile", {"tails": ["0.05"]}, "intervals.tails = [\"0.05\"], not a list of moves"),
    ("quantile", {"tails": None}, "intervals.widths = {}, not a width list per central interval"),
    ("gaussian", {"widths": {"0.1": [0.0, 0.0]}, "scale": [1.0, 1.0]},
     "intervals.tails['0.05'] on a run with no level calibrated on its own"),
], ids=["edges", "past-the-median", "the-median", "empty", "text", "no-tails-nor-widths", "likelihood"])
def test_a_saved_records_ends_are_checked(kind, edit, says):
    from lstmkit.tasks.forecast.intervals import checked_record
    record = {k: v for k, v in {**TAILED, **edit}.items() if v is not None}
    levels = [0.05, 0.5, 0.9] if kind == "quantile" else [0.1, 0.5, 0.9]
    if says is None:
        assert checked_record(record, kind, levels, 2, "x.json") is record
        return
    with pytest.raises(LstmkitError, match="the file was edited or damaged") as e:
        checked_record(record, kind, levels, 2, "x.json")
    assert says in str(e.value)


ENDS = ["y_q0.05", "y_q0.5", "y_q0.9"]


def _ends_by_hand(est, frame):
    """``frame``'s (the network's own) 0.05, 0.5, 0.9 quantiles with ``est``'s tails applied by hand: each end moved
    out by its move times its distance from the median, held at the median, then the floor at 0."""
    q = frame[ENDS].to_numpy()
    t = {k: np.asarray(v)[: len(q)] for k, v in est.intervals_["tails"].items()}
    lo = np.minimum(q[:, 0] - t["0.05"] * np.abs(q[:, 0] - q[:, 1]), q[:, 1])
    hi = np.maximum(q[:, 2] + t["0.9"] * np.abs(q[:, 2] - q[:, 1]), q[:, 1])
    return np.maximum(np.stack([lo, q[:, 1], hi], 1), 0.0)


def _uncalibrated(est):
    import copy
    raw = copy.copy(est)
    raw.intervals_ = None
    return raw


def test_a_run_without_a_central_pair_has_its_share_below_each_end_once_calibrated(runs):
    from lstmkit.tasks.forecast.fastpath import fold_forecasts
    data, r = runs
    est = r["asym"][0]
    assert est.intervals_["widths"] == {} and min(est.intervals_["tails"]["0.9"]) > 0     # out at every step
    assert est.auto_["calibrate_intervals"]["value"] is True
    n, y = len(data), data["y"].to_numpy()
    cuts = np.arange(n - 270, n - 1, 2)                                    # the test part's windows
    actual = np.stack([y[c:c + 2] for c in cuts])

    def below(e):
        f = fold_forecasts(e, data, e.series_ids_, np.array([n]), cuts[:, None])          # [K, S, H, 1 + Q]
        return (actual <= f[:, 0, :, 3]).mean(), (actual < f[:, 0, :, 1]).mean()
    (up, down), (raw_up, raw_down) = below(est), below(_uncalibrated(est))
    assert raw_up < 0.8 and raw_down > 0.1                                 # learned on noise of a tenth the scale
    assert 0.85 < up < 0.95 and down < 0.09


def test_a_run_without_a_central_pair_reports_the_share_at_or_below_each_end(runs):
    """Its test metrics held wQL and CRPS alone (no pair, no coverage_80): each end reports the share of the test
    points at or below it, of the calibrated quantiles the user is shown, in metrics.json and evaluate alike."""
    data, r = runs
    est = r["asym"][0]
    m = est.metrics_["metrics"][est.config_.model]
    shown = est.test_forecasts(data)                                       # the quantiles the metrics scored
    actual, q = shown["actual"], shown["quantiles"]
    assert shown["levels"] == [0.05, 0.5, 0.9]
    assert m["coverage_q0.05"] == pytest.approx((actual <= q[..., 0]).mean())
    assert m["coverage_q0.9"] == pytest.approx((actual <= q[..., 2]).mean())
    assert 0.85 < m["coverage_q0.9"] < 0.95 and m["coverage_q0.05"] < 0.09 and "coverage_80" not in m
    said = est.evaluate(data)[est.config_.model]
    assert (said["coverage_q0.05"], said["coverage_q0.9"]) == (m["coverage_q0.05"], m["coverage_q0.9"])
    folds = est.backtest(data, folds=2)["aggregate"][est.config_.model]            # a backtest's folds as a pair's
    assert 0 <= folds["coverage_q0.05"] <= folds["coverage_q0.9"] <= 1


def test_a_run_without_a_central_pair_answers_its_ends_moved_by_hand_everywhere(runs, tmp_path):
    import shutil
    data, r = runs
    est, path = r["asym"]
    raw = _uncalibrated(est).predict(data)
    want = _ends_by_hand(est, raw)
    got = est.predict(data)
    np.testing.assert_allclose(got[ENDS].to_numpy(), want, rtol=1e-6)
    np.testing.assert_array_equal(got["y"], raw["y"])                       # the median stays
    assert not np.allclose(got[ENDS].to_numpy(), raw[ENDS].to_numpy())
    assert json.loads((path / "lstmkit.json").read_text())["intervals"] == est.intervals_
    run = shutil.copytree(path, tmp_path / "run")
    loaded = Forecaster.load(run)
    pd.testing.assert_frame_equal(loaded.predict(data), got)
    scored = loaded.evaluate(data)[est.config_.model]
    assert scored["wQL"] == pytest.approx(est.metrics_["metrics"][est.config_.model]["wQL"])     # the test metrics
    assert scored["wQL"] != pytest.approx(_uncalibrated(loaded).evaluate(data)[est.config_.model]["wQL"])
    answer = adapter_class("forecast")(loaded).answer(loaded.net_, [{"y": data["y"].tolist()[-30:]}])
    for k, level in ((0, "0.05"), (2, "0.9")):
        np.testing.assert_allclose(answer["quantiles"][0][level]["y"], want[:, k], rtol=1e-5)
    last = loaded.stream(engine="torch").run([{"y": v} for v in data["y"].tolist()[-30:]])[-1]
    np.testing.assert_allclose(last["quantiles"][:, 0, [0, 2]], want[:, [0, 2]], rtol=1e-5)
    assert any("intervals.tails[q] times its distance from the median" in note
               for note in adapter_class("forecast")(loaded).around_graph)


def test_the_onnx_and_int8_engines_answer_the_ends_moved_by_hand(runs, tmp_path):
    import shutil
    from lstmkit.deploy.onnx import export_onnx
    from lstmkit.deploy.quantize import export_int8
    data, r = runs
    est, path = r["asym"]
    run = shutil.copytree(path, tmp_path / "run")
    export_onnx(run)
    loaded = Forecaster.load(run)
    want = _ends_by_hand(est, _uncalibrated(loaded).predict(data, engine="onnx"))
    np.testing.assert_allclose(loaded.predict(data, engine="onnx")[ENDS].to_numpy(), want, rtol=1e-5)
    int8 = Forecaster.load(export_int8(path, out=tmp_path / "int8", data=data.iloc[-200:], backends=("torch",)))
    assert int8.intervals_ == est.intervals_
    want = _ends_by_hand(est, _uncalibrated(int8).predict(data))
    np.testing.assert_allclose(int8.predict(data)[ENDS].to_numpy(), want, rtol=1e-6)


def test_a_backtests_folds_and_refit_folds_answer_the_ends_moved_by_hand(runs, monkeypatch):
    from lstmkit.tasks.forecast.fastpath import fold_forecasts
    data, r = runs
    est = r["asym"][0]
    n = len(data)
    folds = fold_forecasts(est, data, est.series_ids_, np.array([n]), np.array([[n - 6], [n - 4]]))
    for k, cut in enumerate((n - 6, n - 4)):
        np.testing.assert_allclose(folds[k, 0, :, 1:], _ends_by_hand(est, _uncalibrated(est).predict(data.iloc[:cut])),
                                   rtol=1e-5)
    small = noise_grows(500)
    models, answered = _refit_folds(monkeypatch, small, [0.05, 0.5, 0.9])
    assert len(models) == 2 and models[0].intervals_["tails"] != models[1].intervals_["tails"]     # each its own
    for k, (m, pred) in enumerate(zip(models, answered)):
        cut = len(small) - (2 - k) * m.config_.horizon
        want = _ends_by_hand(m, _uncalibrated(m).predict(small.iloc[:cut]))
        np.testing.assert_allclose(pred[ENDS].to_numpy(), want, rtol=1e-6)


def test_a_kept_update_refits_the_ends_on_its_held_out_windows(runs):
    import copy
    data, r = runs
    est = copy.deepcopy(r["asym"][0])
    est.update(data.iloc[-300:], epochs=3, holdout=0.5)
    assert est.last_update_["accepted"] and est.last_update_["intervals"]["value"] is True
    assert est.intervals_["windows"] == 144 and est.intervals_["tails"] != r["asym"][0].intervals_["tails"]
    want = _ends_by_hand(est, _uncalibrated(est).predict(data))
    np.testing.assert_allclose(est.predict(data)[ENDS].to_numpy(), want, rtol=1e-6)


def test_a_run_without_a_central_pair_saved_before_loads_and_answers_as_the_network_does(runs, tmp_path):
    data, r = runs
    est, path = r["asym"]
    old = Forecaster.load(_saved_before(path, tmp_path))
    assert old.intervals_ is None
    pd.testing.assert_frame_equal(old.predict(data), _uncalibrated(est).predict(data))
