import json
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.estimator import Forecaster

from forecast_data import FAST, sine_frame


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    est = Forecaster(horizon=3, **FAST).fit(sine_frame(), target="y", time="time", out=out)
    return est


def test_fit_writes_a_complete_run_folder(fitted):
    run = fitted.run_dir_
    for name in ["lstmkit.json", "model.safetensors", "history.csv", "metrics.json",
                 "plots/loss.png", "plots/forecast.png", "checkpoints/last.safetensors"]:
        assert (run / name).is_file(), name
    assert list((run / "tb").glob("events.*")) == []         # tensorboard=False
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["task"] == "forecast" and meta["status"] == "finished"
    assert meta["config"]["horizon"] == 3 and meta["config"]["target"] == ["y"]
    assert meta["data"]["split"] == {"train": 336, "val": 72, "test": 72}
    assert meta["season"] == 24                                  # inferred from the hourly index
    assert meta["preprocessing"]["panel_scaler"]["kind"] == "minmax"          # one series: a panel of one
    assert list(meta["preprocessing"]["panel_scaler"]["series"]) == ["series"]
    assert meta["forecast_format"] == 2 and meta["model"]["class"] == "ForecastNet"
    # a point forecast: no levels ([0.1, 0.5, 0.9], a likelihood's defaults, said it had them)
    assert meta["model"]["output"] == "point" and "levels" not in meta["model"]


def test_metrics_json_says_what_each_baseline_row_is_and_none_reads_a_point_it_is_scored_on(fitted, monkeypatch):
    """The reference rows are scored on the test windows, as the model: ETS is fitted on the points
    before the first test origin (training + validation), naive and seasonal naive read each origin's
    past; metrics.json says so. The doctor's comparison is on the validation windows, against naive,
    seasonal naive and ETS (fitted on the training part) from the same origins."""
    report = json.loads((fitted.run_dir_ / "metrics.json").read_text())
    rows = report["baselines"]
    assert rows["part"].startswith("test: every origin of the test windows, as the model")
    assert rows["naive"] == "the last value at each origin"
    assert rows["seasonal_naive"].startswith("the value one season (24 steps) before each step")
    assert "fitted once per series on its training and validation parts (the points before its first test " \
           "origin)" in rows["ets"]
    assert set(report["metrics"]) == {"lstm", "naive", "seasonal_naive", "ets"}
    import lstmkit.tasks.forecast.evaluation as evaluation
    seen = []
    real = evaluation.ets_forecast
    monkeypatch.setattr(evaluation, "ets_forecast", lambda vals, origins, H, m, n_fit: seen.append(
        (origins.min(), n_fit)) or real(vals, origins, H, m, n_fit))
    fitted.evaluate(sine_frame())
    assert seen == [(336 + 72 - 1, 336 + 72)]          # the fit part ends at the first origin: no point scored
    doctor = json.loads((fitted.run_dir_ / "doctor.json").read_text())
    compared = doctor["evidence"]["baselines"]
    assert compared["part"] == "validation" and set(compared["scores"]) == {"naive", "seasonal_naive", "ets"}
    assert compared["points"] == (72 - 3 + 1) * 3                # every validation window, as the model's


def test_a_format_1_single_series_run_fails_with_one_line_naming_its_format(fitted, tmp_path):
    import shutil
    run = tmp_path / "old"
    shutil.copytree(fitted.run_dir_, run)
    meta = json.loads((run / "lstmkit.json").read_text())
    del meta["forecast_format"]                                  # what runs before the one pipeline wrote
    meta["preprocessing"] = {"target_scaler": {"kind": "minmax"}, "feature_scaler": None}
    meta["model"] = {"class": "ForecastNet", "n_inputs": 1, "n_targets": 1}
    (run / "lstmkit.json").write_text(json.dumps(meta))
    with pytest.raises(LstmkitError, match="format-1 single-series forecast run") as e:
        Forecaster.load(run)
    assert "\n" not in str(e.value) and "retrain" in e.value.hint
    meta["forecast_format"] = 3
    (run / "lstmkit.json").write_text(json.dumps(meta))
    with pytest.raises(LstmkitError, match="format 3, newer"):
        Forecaster.load(run)


@pytest.mark.parametrize("fmt", [None, "2", 2.0, True])
def test_a_forecast_format_that_is_no_whole_number_is_one_line_naming_it(fitted, tmp_path, fmt):
    """Found by coverage-guided fuzzing: '"forecast_format": null' ended in TypeError ('>' not supported)."""
    import shutil
    run = tmp_path / "edited"
    shutil.copytree(fitted.run_dir_, run)
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["forecast_format"] = fmt
    (run / "lstmkit.json").write_text(json.dumps(meta))
    with pytest.raises(LstmkitError, match=r'lstmkit.json: "forecast_format" is .*, not a format number') as e:
        Forecaster.load(run)
    assert "\n" not in str(e.value) and "retrain" in e.value.hint


def test_a_format_1_many_series_run_still_loads(fitted, tmp_path):
    import shutil
    run = tmp_path / "old-global"
    shutil.copytree(fitted.run_dir_, run)
    meta = json.loads((run / "lstmkit.json").read_text())
    del meta["forecast_format"]
    meta["model"]["class"] = "GlobalForecastNet"                 # same modules, same state_dict keys
    (run / "lstmkit.json").write_text(json.dumps(meta))
    again = Forecaster.load(run)
    assert again.predict(sine_frame())["y"].to_numpy().tobytes() == fitted.predict(sine_frame())["y"].to_numpy().tobytes()


def test_metrics_are_in_original_units_beside_the_baselines(fitted):
    m = fitted.metrics_["metrics"]
    assert set(m) == {"lstm", "naive", "seasonal_naive", "ets"}
    for row in m.values():
        assert set(row) == {"MAE", "RMSE", "MAPE", "sMAPE", "MASE"}
    # a clean sine: the trained LSTM beats repeating the last value, by a wide margin
    assert m["lstm"]["MAE"] < 0.6 * m["naive"]["MAE"]
    # original units: errors are a fraction of the sine's amplitude (1), not of the scaled [0,1] range
    assert 0.01 < m["lstm"]["MAE"] < 0.5
    again = fitted.evaluate(sine_frame())
    assert {k: pytest.approx(v) for k, v in again.items()} == m


def test_predict_returns_future_timestamps(fitted):
    df = sine_frame()
    pred = fitted.predict(df)
    assert list(pred.columns) == ["time", "step", "y"]
    assert list(pred["step"]) == [1, 2, 3]
    assert pred["time"].iloc[0] == df["time"].iloc[-1] + pd.Timedelta(hours=1)
    assert pred["time"].iloc[2] == df["time"].iloc[-1] + pd.Timedelta(hours=3)
    expected = 10 + np.sin(2 * np.pi * np.arange(480, 483) / 24)
    assert np.abs(pred["y"].to_numpy() - expected).max() < 0.5


def test_data_at_another_frequency_than_the_training_data_is_refused(fitted):
    """An hourly model does not forecast daily rows as if they were hours: predict, evaluate and
    test_forecasts refuse them; rows of the run's step, however labelled, are read."""
    daily = sine_frame().assign(time=pd.date_range("2024-01-01", periods=480, freq="D"))
    for use in (fitted.predict, fitted.evaluate, fitted.test_forecasts):
        with pytest.raises(LstmkitError, match=r"steps by 'D' but the run was trained on 'h' steps.*resample\('h'\)"):
            use(daily)
    shifted = sine_frame().assign(time=pd.date_range("2024-03-05 00:30", periods=480, freq="h"))
    assert len(fitted.predict(shifted)) == 3                        # the same step from another start


def test_steps_of_one_length_under_other_anchors_agree():
    from lstmkit.tasks.forecast.times import check_same_step
    for a, b in (("MS", "ME"), ("W-SUN", "W-MON"), ("QS-JAN", "QE-DEC"), ("D", None), (None, "h")):
        check_same_step(a, b)                                       # no error
    with pytest.raises(LstmkitError, match="steps by 'B' but the run was trained on 'D'"):
        check_same_step("B", "D")


def test_same_seed_gives_the_same_metrics():
    a = Forecaster(**{**FAST, "max_epochs": 3}).fit(sine_frame(), target="y", time="time")
    b = Forecaster(**{**FAST, "max_epochs": 3}).fit(sine_frame(), target="y", time="time")
    for name in a.metrics_["metrics"]:
        for k, v in a.metrics_["metrics"][name].items():
            assert abs(b.metrics_["metrics"][name][k] - v) <= 1e-6


def test_features_multiple_targets_and_gru(tmp_path):
    df = sine_frame()
    df["y2"] = 2 * df["y"]
    est = Forecaster(model="gru", horizon=2, **{**FAST, "max_epochs": 2}).fit(
        df, target="y,y2", time="time", features="temp")
    assert est.net_.encoder.input_size == 3
    pred = est.predict(df)
    assert list(pred.columns) == ["time", "step", "y", "y2"]
    assert set(est.evaluate(df)) == {"gru", "naive", "seasonal_naive", "ets"}


def test_save_load_in_a_fresh_process_is_bit_identical(fitted, tmp_path):
    data = tmp_path / "data.csv"
    sine_frame().to_csv(data, index=False)
    here = fitted.predict(str(data))
    code = ("import sys; from lstmkit.tasks.forecast.estimator import Forecaster; "
            "Forecaster.load(sys.argv[1]).predict(sys.argv[2]).to_csv(sys.argv[3], index=False)")
    out = tmp_path / "pred.csv"
    subprocess.run([sys.executable, "-c", code, str(fitted.run_dir_), str(data), str(out)], check=True)
    there = pd.read_csv(out)
    assert there["y"].to_numpy().tobytes() == here["y"].to_numpy().tobytes()


def test_loading_never_unpickles(fitted, monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("unpickling attempted")
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    est = Forecaster.load(fitted.run_dir_)
    assert len(est.predict(sine_frame())) == 3


def test_weights_that_do_not_match_the_metadata(fitted, tmp_path):
    import shutil
    run = tmp_path / "run"
    shutil.copytree(fitted.run_dir_, run)
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["config"]["hidden_size"] = 32
    (run / "lstmkit.json").write_text(json.dumps(meta))
    with pytest.raises(LstmkitError, match="does not match the model"):
        Forecaster.load(run)


def test_unfitted_and_bad_parameters():
    with pytest.raises(LstmkitError, match="not fitted"):
        Forecaster().predict(sine_frame())
    with pytest.raises(LstmkitError, match="Forecaster has no parameter 'lookbak' — did you mean 'lookback'"):
        Forecaster(lookbak=3)
    with pytest.raises(LstmkitError, match="`lookback` must be a positive integer, got 0"):
        Forecaster(lookback=0).fit(sine_frame(), target="y")
    with pytest.raises(LstmkitError, match="unknown model 'lstmm'"):
        Forecaster(model="lstmm").fit(sine_frame(), target="y")


def test_relative_mode_extrapolates_a_trend_beyond_the_training_range():
    df = sine_frame(trend=0.02, noise=0.02)           # test values lie above anything seen in training
    kw = {**FAST, "max_epochs": 25}
    rel = Forecaster(relative=True, **kw).fit(df, target="y", time="time").metrics_["metrics"]["lstm"]
    absolute = Forecaster(relative=False, **kw).fit(df, target="y", time="time").metrics_["metrics"]["lstm"]
    assert rel["MAE"] < absolute["MAE"]


def test_fit_takes_settings_as_keyword_overrides_as_the_other_estimators_do(tmp_path):
    """``fit(data, max_epochs=1, lookback=12)`` trains with those for this fit (it was a TypeError);
    the estimator's own settings stay; a misspelt one names the near name, as the constructor does."""
    est = Forecaster(horizon=3, **FAST)
    est.fit(sine_frame(), target="y", time="time", max_epochs=1, lookback=12, out=tmp_path)
    assert (est.config_.lookback, est.config_.train.max_epochs, len(est.result_.history)) == (12, 1, 1)
    assert (est.get_params()["lookback"], est.get_params()["max_epochs"]) == (FAST["lookback"], FAST["max_epochs"])
    with pytest.raises(LstmkitError, match="Forecaster has no parameter 'lookbak' — did you mean 'lookback'"):
        est.fit(sine_frame(), target="y", lookbak=12)
    with pytest.raises(LstmkitError, match="Forecaster has no parameter 'lookbak' — did you mean 'lookback'"):
        est.check(sine_frame(), lookbak=12)
    with pytest.raises(LstmkitError, match="lookback"):
        est.fit(sine_frame(), target="y", lookback=0)        # the constructor's check of the value


def test_an_integer_names_an_integer_column_as_its_text_does():
    """``pd.DataFrame(array)`` has columns 0, 1, ...: ``target=1`` said "`target` must be a list,
    got 1" while ``target="1"`` and ``target=[1]`` worked; an int (numpy's too) names the column for
    ``target``, ``features``, ``time`` and ``id`` alike, and gives the config the text does."""
    df = sine_frame().set_axis([0, 1, 2], axis=1)                        # time, y, temp
    by_text = Forecaster(target="1", time="0", features="2").config
    for kw in (dict(target=1, time=0, features=2), dict(target=[1], time=np.int64(0), features=[df.columns[2]])):
        cfg = Forecaster(**kw).config
        assert (cfg.target, cfg.time, cfg.features) == (by_text.target, by_text.time, by_text.features) == (["1"], "0", ["2"])
    est = Forecaster(horizon=2, **{**FAST, "max_epochs": 1}).fit(df, target=1, time=0, features=2)
    assert est.input_names_ == ["1", "2"] and len(est.predict(df)) == 2
    panel = pd.concat([df.assign(s="a"), df.assign(s="b")], ignore_index=True).set_axis([0, 1, 2, 3], axis=1)
    Forecaster(horizon=2, **FAST).check(panel, target=1, time=0, id=3)
    with pytest.raises(LstmkitError, match="`target` must be a list, got True"):
        Forecaster(target=True)                                           # a bool names no column


def test_columns_named_by_an_index_or_array_and_values_given_as_a_column_name():
    """``target=df.columns[1:]`` (an Index of names) and numpy arrays of names were "`target` must
    be a list"; they name the columns as a list does. A Series or an array of values given where a
    column name goes (scikit-learn's ``fit(X, y)``, ``time=df["time"]``) printed the whole series
    in that error: it is one error now saying that the setting names a column, and how to pass it."""
    df = sine_frame()                                                       # time, y, temp
    by_list = Forecaster(target=["y"], features=["temp"]).config
    for kw in (dict(target=df.columns[1:2], features=np.array(["temp"])), dict(target=pd.Index(["y"]),
                                                                               features=df.columns[[2]])):
        cfg = Forecaster(**kw).config
        assert (cfg.target, cfg.features) == (by_list.target, by_list.features) == (["y"], ["temp"])
    assert Forecaster(time=np.array(["time"])).config.time == "time"
    assert Forecaster(target=df.set_axis([0, 1, 2], axis=1).columns[1:2]).config.target == ["1"]
    Forecaster(horizon=2, **FAST).check(df, target=df.columns[1:2], time=df.columns[0])
    for call, named in ((lambda e: e.fit(df[["time", "temp"]], df["y"]), "target='y'"),
                        (lambda e: e.fit(df[["temp"]].to_numpy(), df["y"].to_numpy()), "target='column'"),
                        (lambda e: e.check(df, target="y", time=df["time"]), "time='time'")):
        with pytest.raises(LstmkitError, match=r"= names a column of the data, got a (pandas Series|numpy array) of "
                                               rf"480 values: .* — pass the column's name, {named}") as err:
            call(Forecaster(horizon=2, **FAST))
        assert len(str(err.value)) < 400                                   # not the series printed whole


TINY = dict(lookback=8, horizon=3, hidden_size=4, num_layers=1, max_epochs=1, ensemble=1,
            progress="off", tensorboard=False, device="cpu")


def _zoned(freq: str, zone: str, last: str, n: int = 60) -> pd.DataFrame:
    times = pd.date_range(end=last, periods=n, freq=freq, tz=zone)
    return pd.DataFrame({"date": times, "y": np.sin(np.arange(n) / 3.0)})


def _next(df: pd.DataFrame, freq: str, h: int = 3) -> pd.DatetimeIndex:
    """The ``h`` steps after the frame's last time, as pandas continues them in the frame's zone."""
    return pd.date_range(df["date"].iloc[-1], periods=h + 1, freq=freq)[1:]


def test_forecast_times_keep_a_tz_aware_columns_zone_across_save_and_load(tmp_path):
    """Daily data at Berlin midnight: the steps continue the local calendar over the spring change
    (31 March 2024), never naive UTC dates of the evening before; a saved run gives the same."""
    df = _zoned("D", "Europe/Berlin", "2024-03-30")
    est = Forecaster(**TINY).fit(df, target="y", time="date", out=tmp_path)
    got = est.predict(df)["date"]
    assert str(got.dt.tz) == "Europe/Berlin" and pd.DatetimeIndex(got).equals(_next(df, "D"))
    assert got.dt.hour.tolist() == [0, 0, 0] and got.iloc[1] - got.iloc[0] == pd.Timedelta("23h")
    meta = json.loads((est.run_dir_ / "lstmkit.json").read_text())
    assert meta["data"]["time_zone"] == "Europe/Berlin" and meta["data"]["time_clock"] == "local"
    loaded = Forecaster.load(est.run_dir_)
    assert loaded.predict(df)["date"].equals(got)
    df.to_parquet(tmp_path / "d.parquet")                                 # a Parquet file's tz-aware timestamps
    assert loaded.predict(str(tmp_path / "d.parquet"))["date"].equals(got)
    cut = {r["fold"]: r["cutoff"] for r in loaded.backtest(df, folds=2, step=5)["folds"]}    # in the zone too
    assert cut == {1: df["date"].iloc[-8].isoformat(), 2: df["date"].iloc[-3].isoformat()}   # as lstmkit.json writes times
    assert cut[2].endswith("T00:00:00+01:00")


def test_forecast_times_keep_a_tz_aware_indexs_zone_in_absolute_hours():
    """Hourly data indexed by Berlin times across the autumn change: the clock shows 02:00 twice."""
    df = _zoned("h", "Europe/Berlin", "2024-10-27 01:00")
    frame = df.set_index("date")
    got = Forecaster(**TINY).fit(frame, target="y").predict(frame)
    stamps = pd.DatetimeIndex(got.iloc[:, 0])
    assert stamps.equals(_next(df, "h")) and stamps.strftime("%H:%M%z").tolist() == ["02:00+0200", "02:00+0100",
                                                                                      "03:00+0100"]


def test_a_run_saved_without_a_zone_gives_its_naive_times_as_before(tmp_path):
    df = _zoned("D", "Europe/Berlin", "2024-03-30")
    est = Forecaster(**TINY).fit(df, target="y", time="date", out=tmp_path)
    path = est.run_dir_ / "lstmkit.json"
    meta = json.loads(path.read_text())
    for key in ("time_zone", "time_clock", "calendar_clock"):      # as lstmkit wrote runs before it recorded them
        del meta["data"][key]
    path.write_text(json.dumps(meta))
    got = Forecaster.load(est.run_dir_).predict(df)["date"]
    assert got.dt.tz is None and pd.DatetimeIndex(got).equals(_next(df, "D").tz_localize(None))


def test_an_unfitted_backtest_chooses_the_time_and_target_fit_would(tmp_path):
    """A ``date,y`` table needs no target or time to train; its backtest with settings alone
    (``lstmkit forecast backtest --config``) had no target: an IndexError with ``out``, folds of
    no metrics without. Now the columns are chosen as fit chooses them."""
    df = _zoned("h", "Europe/Berlin", "2024-03-31 12:00", n=72)
    settings = dict(TINY, doctor=False)
    got = Forecaster(**settings).backtest(df, folds=2, step=5, out=tmp_path / "bt")
    named = Forecaster(**settings, target="y", time="date").backtest(df, folds=2, step=5)
    assert [r["cutoff"] for r in got["folds"]] == [r["cutoff"] for r in named["folds"]]
    assert got["folds"][0]["cutoff"].endswith("+02:00") and np.isfinite(got["folds"][0]["MAE"])
    assert (tmp_path / "bt" / "plots" / "backtest.png").is_file()


def test_a_time_column_named_step_keeps_its_times_in_the_forecast():
    """The forecast's horizon column ``step`` wrote over a time column of that name: the times were
    lost (1, 2, 3 in their place). Now the horizon's column is ``horizon_step`` there."""
    df = pd.DataFrame({"step": np.arange(100, 160), "y": np.sin(np.arange(60) / 3.0)})
    est = Forecaster(**TINY, doctor=False).fit(df, target="y", time="step")
    got = est.predict(df)
    assert got["step"].tolist() == [160, 161, 162] and got["horizon_step"].tolist() == [1, 2, 3]
    folds = est.backtest(df, folds=2, step=3)["folds"]
    assert [r["cutoff"] for r in folds if r["model"] == "lstm"] == [154, 157]
    other = Forecaster(**TINY, doctor=False).fit(df.rename(columns={"step": "t"}), target="y", time="t")
    assert list(other.predict(df.rename(columns={"step": "t"})).columns) == ["t", "step", "y"]   # as before


def test_a_loaded_model_keeps_the_call_that_trained_it_so_clone_and_refit_choose_again(tmp_path):
    """Loaded, a model's settings were the values chosen from the training data (lookback,
    deseason, log, scaler, ...): its repr listed them, and clone(loaded) or loaded.fit(other)
    reused them on other data, where the fitted model itself chooses again. Now only the values
    used (``config_``) hold them, as for the fitted model; predictions are unchanged."""
    import sklearn.base
    df = sine_frame(n=240)
    est = Forecaster(horizon=2, hidden_size=4, max_epochs=1, ensemble=1, progress="off", tensorboard=False)
    est.fit(df, target="y", time="time", out=tmp_path)
    loaded = Forecaster.load(est.run_dir_)
    chosen = {k for k in loaded.auto_ if k in loaded.get_params()}
    assert {"lookback", "scaler", "deseason"} <= chosen
    assert all(loaded.get_params()[k] is None for k in chosen)
    assert {k: getattr(loaded.config_, k) for k in chosen} == {k: getattr(est.config_, k) for k in chosen}
    data_names = {"target", "time", "progress"}        # fit's arguments, recorded in the run; the display
    twin, other = sklearn.base.clone(loaded).get_params(), sklearn.base.clone(est).get_params()
    assert {k: v for k, v in twin.items() if k not in data_names} == {k: v for k, v in other.items() if k not in data_names}
    assert repr(loaded) == "Forecaster(target=['y'], time='time', horizon=2, hidden_size=4, ensemble=1, max_epochs=1, " \
                           "tensorboard=False)"
    pd.testing.assert_frame_equal(loaded.predict(df), est.predict(df))


# -- the loss: auto is MSE; beside quantiles or a likelihood no other point loss -------------------
def test_loss_auto_trains_on_mse_and_the_run_records_it(tmp_path):
    # --help lists auto ("the task's own loss") for every task: a forecaster refused it as an unknown loss
    est = Forecaster(**{**FAST, "max_epochs": 1}, horizon=2, loss="auto").fit(
        sine_frame(n=160), target="y", time="time", run_dir=tmp_path / "run")
    assert est.config_.train.loss == "mse"
    assert json.loads((tmp_path / "run" / "lstmkit.json").read_text())["config"]["train"]["loss"] == "mse"


@pytest.mark.parametrize("settings, own", [({"quantiles": [0.1, 0.9], "loss": "huber"}, "the pinball loss"),
                                           ({"likelihood": "studentt", "loss": "mae"}, "the studentt negative log")])
def test_a_point_loss_beside_quantiles_or_a_likelihood_is_refused_before_reading(settings, own, tmp_path):
    # it was accepted, ignored (the output's own loss trained) and recorded in lstmkit.json as the run's loss
    with pytest.raises(LstmkitError, match=f"loss='{settings['loss']}' does not apply with .*: the forecaster trains "
                                           f"on {own}") as e:
        Forecaster(**settings).fit(tmp_path / "not_read.csv", target="y", time="time", out=tmp_path)
    assert "drop loss=" in e.value.hint and not list(tmp_path.iterdir())


def test_a_run_that_recorded_a_point_loss_beside_quantiles_still_loads(tmp_path):
    # runs trained before the refusal recorded the loss given: loading one checks no fit-time setting
    Forecaster(**{**FAST, "max_epochs": 1}, horizon=2, quantiles=[0.1, 0.9]).fit(
        sine_frame(n=160), target="y", time="time", run_dir=tmp_path / "run")
    meta_file = tmp_path / "run" / "lstmkit.json"
    meta = json.loads(meta_file.read_text())
    assert meta["model"]["output"] == "quantile" and meta["model"]["levels"] == [0.1, 0.9]
    meta["config"]["train"]["loss"] = "huber"
    meta_file.write_text(json.dumps(meta))
    assert list(Forecaster.load(tmp_path / "run").predict(sine_frame(n=160)).columns[-2:]) == ["y_q0.1", "y_q0.9"]


def test_a_blend_with_ets_is_refused_without_the_ets_row_to_read_it_against(tmp_path):
    # combine='ets', ets=False trained a forecast 98% ETS and scored it beside naive and seasonal naive only
    with pytest.raises(LstmkitError, match=r"combine='ets' blends the forecast with the ETS baseline, which ets=False "
                                           r"leaves out of the test metrics") as e:
        Forecaster(combine="ets", ets=False).fit(tmp_path / "not_read.csv", target="y", time="time", out=tmp_path)
    assert e.value.hint.startswith("pass ets=True instead") and not list(tmp_path.iterdir())


def test_a_loaded_model_updated_and_saved_keeps_the_history_and_training_record_of_its_run(fitted, tmp_path):
    """``update()`` unsets ``run_dir_`` (the weights are no longer the folder's): the updated model's
    ``history_`` said 'this Forecaster is not fitted yet', and its saved run had no history.csv nor
    ``training`` block, only the lineage of the update."""
    later = sine_frame(n=600).iloc[480:].reset_index(drop=True)
    later["time"] = pd.date_range(sine_frame()["time"].iloc[-1] + pd.Timedelta("1h"), periods=len(later), freq="h")
    trained = Forecaster.load(fitted.run_dir_)
    updated = Forecaster.load(fitted.run_dir_).update(later, epochs=1)
    assert updated.run_dir_ is None
    pd.testing.assert_frame_equal(updated.history_, trained.history_)
    saved = Forecaster.load(updated.save(tmp_path / "updated"))
    pd.testing.assert_frame_equal(saved.history_, trained.history_)
    meta = json.loads((tmp_path / "updated" / "lstmkit.json").read_text())
    assert meta["training"] == json.loads((fitted.run_dir_ / "lstmkit.json").read_text())["training"]
    assert len(meta["lineage"]) == 1 and saved.lineage_ == meta["lineage"]


def test_a_loaded_forecaster_has_the_settings_of_the_fitted_one_horizon_left_unset_too(tmp_path):
    """``horizon`` left unset (1, or a .tsf file's @horizon) came back as horizon=1 from load: get_params,
    repr and clone differed from the fitted model's, and a clone of the loaded model fitted on a .tsf
    file forecast 1 step, not its @horizon."""
    from sklearn.base import clone
    fitted = Forecaster(target="y", time="time", **{**FAST, "max_epochs": 1}).fit(sine_frame(n=200))
    assert fitted.config_.horizon == 1 and fitted.get_params()["horizon"] is None
    loaded = Forecaster.load(fitted.save(tmp_path / "run"))
    assert loaded.config_.horizon == 1
    shown = lambda est: {k: v for k, v in est.get_params().items() if k != "progress"}   # noqa: E731 (a session's)
    assert shown(loaded) == shown(fitted) and shown(clone(loaded)) == shown(fitted)
    assert repr(loaded) == repr(fitted.set_params(progress="auto"))


def test_the_doctors_ets_is_fitted_on_the_training_part_and_the_tests_on_training_and_validation(monkeypatch, tmp_path):
    """480 rows split 336 / 72 / 72: the validation windows' first origin is the training part's last
    point (335), so the doctor's ETS fits on the 336 training points and reads no validation point; the
    test windows' ETS on the 408 before the first test origin."""
    import lstmkit.tasks.forecast.evaluation as evaluation
    seen = []
    real = evaluation.ets_forecast
    monkeypatch.setattr(evaluation, "ets_forecast", lambda vals, origins, H, m, n_fit: seen.append(
        (int(origins.min()), n_fit)) or real(vals, origins, H, m, n_fit))
    Forecaster(horizon=3, **{**FAST, "max_epochs": 1}).fit(sine_frame(), target="y", time="time",
                                                               out=tmp_path / "run")
    assert seen == [(335, 336), (407, 408)]
