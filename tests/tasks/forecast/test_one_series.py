"""One series is a panel of one: every forecasting option works on it as on many series."""
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast_data import FAST, sine_frame
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.estimator import Forecaster

TINY = {**FAST, "hidden_size": 8, "max_epochs": 2}
KEYS = {"MAE", "RMSE", "MAPE", "sMAPE", "MASE"}


def _fit(tmp_path=None, frame=None, **params):
    df = sine_frame() if frame is None else frame
    est = Forecaster(**{**TINY, **params}).fit(df, target="y", time="time", out=tmp_path)
    return est, df


def test_default_split_is_the_fraction_split_and_every_test_window_is_scored():
    est, df = _fit(horizon=3)
    assert est.data_summary_["split"] == {"train": 336, "val": 72, "test": 72}      # 70/15/15 of 480
    assert est.data_summary_["windows"]["test"] == 72 - 3 + 1                        # rolling origins, stride 1
    fc = est.test_forecasts(df)
    assert fc["actual"].shape == (70, 3, 1) and list(fc["origins"][:2]) == [407, 408]
    assert est.metrics_["test_points"] == 70 * 3 and est.metrics_["series"] == 1


def test_sizes_in_points_override_the_fractions_for_one_series_too():
    est, _ = _fit(horizon=3, val_size=24, test_size=12)
    assert est.data_summary_["split"] == {"train": 444, "val": 24, "test": 12}


def test_deseason_log_segment_highway_on_one_series_round_trip(tmp_path):
    est, df = _fit(tmp_path, horizon=6, lookback=48, deseason=24, log=True, segment=24, highway=48,
                   highway_hidden=16, scaler="mase")
    m = est.metrics_["metrics"]
    assert set(m) == {"lstm", "naive", "seasonal_naive", "ets"} and set(m["lstm"]) == KEYS
    assert np.isfinite(m["lstm"]["MASE"])
    pred = est.predict(df)
    assert list(pred.columns) == ["time", "step", "y"] and len(pred) == 6
    assert (pred["y"] > 0).all()                                      # exp of the log model
    again = Forecaster.load(est.run_dir_)
    assert again.predict(df)["y"].to_numpy().tobytes() == pred["y"].to_numpy().tobytes()
    s = est.stream()                                                  # seasonal indices: through a window
    assert s.mode == "window"
    np.testing.assert_allclose(s.run(df["y"].tolist())[-1][:, 0], pred["y"], rtol=1e-9, atol=0)


def test_quantiles_on_one_series():
    est, df = _fit(horizon=4, quantiles=[0.1, 0.5, 0.9])
    pred = est.predict(df)
    assert {"y_q0.1", "y_q0.5", "y_q0.9"} <= set(pred.columns)
    assert (pred["y_q0.1"] <= pred["y_q0.9"]).all()
    assert "coverage_80" in est.metrics_["metrics"]["lstm"] or any(
        k.startswith("coverage") for k in est.metrics_["metrics"]["lstm"])
    with pytest.raises(LstmkitError, match="ONNX engine needs a saved run"):    # exported, it predicts through ONNX
        est.predict(df, engine="onnx")
    last = est.stream(mode="window").run(df["y"].tolist())[-1]         # the quantiles of predict, streamed
    np.testing.assert_allclose(last["quantiles"][:, 0, 2], pred["y_q0.9"], rtol=1e-9, atol=0)
    np.testing.assert_allclose(last["forecast"][:, 0], pred["y"], rtol=1e-9, atol=0)


def test_a_likelihood_on_one_series():
    est, df = _fit(horizon=2, likelihood="gaussian")
    assert "CRPS" in est.metrics_["metrics"]["lstm"]
    fc = est.test_forecasts(df)
    assert fc["quantiles"].shape[:3] == fc["actual"].shape


def test_seq2seq_and_recursive_strategies_on_one_series():
    for strategy in ("seq2seq", "recursive"):
        est, df = _fit(horizon=4, strategy=strategy)
        assert est.metrics_["strategy"] == strategy and set(est.metrics_["metrics"]["lstm"]) == KEYS
        assert len(est.predict(df)) == 4


def test_future_covariates_and_calendar_on_one_series():
    df = sine_frame()
    df["promo"] = (np.arange(len(df)) % 24 < 6).astype(float)
    est = Forecaster(**{**TINY, "horizon": 3}, future_covariates=["promo"], calendar=["hour"]).fit(
        df, target="y", time="time")
    assert est.input_names_ == ["y", "promo", "hour_sin", "hour_cos"]
    ahead = pd.DataFrame({"time": pd.date_range(df["time"].iloc[-1], periods=4, freq="h")[1:],
                          "y": np.nan, "promo": [1.0, 0.0, 0.0]})
    pred = est.predict(pd.concat([df, ahead], ignore_index=True))
    assert list(pred["time"]) == list(ahead["time"])
    with pytest.raises(LstmkitError, match="cover 0 of the 3 horizon steps"):
        est.predict(df)


def test_backtest_of_one_series_with_a_log_model(tmp_path):
    res = Forecaster(**{**TINY, "horizon": 3, "log": True}, target="y", time="time").backtest(sine_frame(), folds=2, out=tmp_path)
    assert [r["fold"] for r in res["folds"] if r["model"] == "lstm"] == [1, 2]
    assert set(res["aggregate"]) == {"lstm", "naive", "seasonal_naive"}
    assert json.loads((tmp_path / "backtest.json").read_text())["settings"]["folds"] == 2


def test_a_backtest_interrupted_while_written_leaves_no_former_summary_beside_its_table(tmp_path, monkeypatch):
    """backtest.json is written last: an interrupt after the new backtest.csv left the former backtest's
    json (and plot) beside it, a folder describing two backtests."""
    est = Forecaster(**{**TINY, "horizon": 3}, target="y", time="time")
    est.backtest(sine_frame(), folds=2, out=tmp_path)
    assert (tmp_path / "backtest.json").is_file() and (tmp_path / "plots" / "backtest.png").is_file()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr("lstmkit.tasks.forecast.plots.plot_backtest", interrupted)
    with pytest.raises(KeyboardInterrupt):
        est.backtest(sine_frame(), folds=3, out=tmp_path)
    assert sorted(pd.read_csv(tmp_path / "backtest.csv")["fold"].unique()) == [1, 2, 3]     # the new table
    assert not (tmp_path / "backtest.json").exists() and not (tmp_path / "plots" / "backtest.png").exists()


def test_a_series_with_a_date_index_and_too_short_a_series():
    s = pd.Series(sine_frame()["y"].to_numpy(), index=sine_frame()["time"], name="y")
    est = Forecaster(**{**TINY, "horizon": 2}).fit(s, target="y")
    assert est.predict(s)["time"].iloc[0] == s.index[-1] + pd.Timedelta(hours=1)
    with pytest.raises(LstmkitError, match="need at least 24 rows \\(the lookback\\) to forecast, got 10"):
        est.predict(s.iloc[:10])
    with pytest.raises(LstmkitError, match="series too short: 30 rows, need at least") as e:
        Forecaster(**TINY).fit(sine_frame(n=30), target="y", time="time")
    assert "70/15/15 splits" in str(e.value)


@pytest.mark.parametrize("index_name", [None, "date"])
def test_a_model_fitted_on_a_date_index_orders_its_data_by_date_at_prediction(tmp_path, index_name):
    """A model fitted on a Series whose DatetimeIndex was its time recorded no time: given the same
    data as a frame with that time column in another row order (reversed, shuffled), it read the
    rows in the order given and forecast from the wrong end, without a word. It records the index
    as its time now, under the index's name, and sorts by it as training did."""
    frame = sine_frame(n=160)
    s = pd.Series(frame["y"].to_numpy(), index=pd.DatetimeIndex(frame["time"], name=index_name), name="y")
    est = Forecaster(**{**TINY, "horizon": 2, "max_epochs": 1}).fit(s, out=tmp_path)
    time = index_name or "time"
    assert est.config_.time == time and est.auto_["time"]["value"] == time and est.config.time is None
    saved = json.loads((est.run_dir_ / "lstmkit.json").read_text())
    assert saved["config"]["time"] == time and saved["auto"]["time"]["value"] == time
    want = est.predict(s)
    assert want["step"].tolist() == [1, 2] and want[time].iloc[0] == s.index[-1] + pd.Timedelta(hours=1)
    as_frame = s.rename_axis(time).reset_index()
    shuffled = np.random.default_rng(1).permutation(len(s))
    for given in (as_frame.iloc[::-1].reset_index(drop=True), as_frame.iloc[shuffled], s.iloc[::-1],
                  s.iloc[shuffled].rename_axis(None)):
        pd.testing.assert_frame_equal(est.predict(given), want)
    again = Forecaster.load(est.run_dir_)
    pd.testing.assert_frame_equal(again.predict(as_frame.iloc[::-1]), want)
    for plain in (s.to_numpy(), s.reset_index(drop=True), pd.DataFrame({"y": s.to_numpy()})):
        with pytest.raises(LstmkitError, match=f"trained on data ordered by its date index \\('{time}'\\).*"
                                               f"a DatetimeIndex, or a table with a '{time}' column"):
            again.predict(plain)


def test_a_run_fitted_on_a_date_index_before_it_was_recorded_reads_rows_in_order(tmp_path):
    """A run saved before the date index was recorded as its time (config.time null, no time in
    its choices) reads data as it did: rows in the order given, an array of values too."""
    s = pd.Series(sine_frame(n=160)["y"].to_numpy(), index=sine_frame(n=160)["time"].to_numpy(), name="y")
    est = Forecaster(**{**TINY, "horizon": 2, "max_epochs": 1}).fit(s, out=tmp_path)
    meta_file = est.run_dir_ / "lstmkit.json"
    meta = json.loads(meta_file.read_text())
    meta["config"]["time"] = None
    del meta["auto"]["time"]
    meta_file.write_text(json.dumps(meta))
    old = Forecaster.load(est.run_dir_)
    assert old.config_.time is None
    np.testing.assert_allclose(old.predict(s.to_numpy())["y"], est.predict(s)["y"], rtol=1e-6)
    np.testing.assert_allclose(old.predict(s)["y"], est.predict(s)["y"], rtol=1e-6)


def test_the_time_column_may_come_as_the_frames_date_index():
    """A model fitted on a ``time`` column refused the same frame indexed by it
    (``df.set_index("time")``), the shape pandas' resample and read_csv(index_col=...) give:
    "time column 'time' not found — available columns: y, temp"."""
    df = sine_frame(n=200)
    est = Forecaster(**{**TINY, "horizon": 2}).fit(df, target="y", time="time")
    by_index = df.set_index("time")
    pd.testing.assert_frame_equal(est.predict(by_index), est.predict(df))
    assert est.evaluate(by_index) == est.evaluate(df)
    again = Forecaster(**{**TINY, "horizon": 2}).fit(by_index, target="y", time="time")
    pd.testing.assert_frame_equal(again.predict(df), est.predict(df))
    with pytest.raises(LstmkitError, match="time column 'time' not found"):
        est.predict(by_index.rename_axis("when"))           # another date index: not silently the time


def test_settings_the_network_cannot_use_are_config_errors():
    with pytest.raises(LstmkitError, match="needs a recurrent encoder"):
        Forecaster(**TINY, strategy="seq2seq", model="tcn").fit(sine_frame(), target="y", time="time")
    with pytest.raises(LstmkitError, match="recursive strategy cannot use past-only covariates"):
        Forecaster(**TINY, strategy="recursive").fit(sine_frame(), target="y", time="time", features="temp")


@pytest.mark.parametrize("kind", ["series", "named series", "array", "list", "one-column frame", "column array"])
def test_data_that_is_one_series_needs_no_target(kind):
    """A pandas Series, a 1-D array or list, a one-column frame or array [N, 1] holds one series:
    it is the target without naming it, for fit, predict and evaluate alike."""
    y = sine_frame(n=160)["y"].to_numpy()
    data = {"series": pd.Series(y), "named series": pd.Series(y, name="sales"), "array": y, "list": list(y),
            "one-column frame": pd.DataFrame({"units": y}), "column array": y[:, None]}[kind]
    est = Forecaster(**{**TINY, "horizon": 3}).fit(data)
    assert est.config_.target == [{"named series": "sales", "one-column frame": "units",
                                   "column array": "y0"}.get(kind, "y")]
    assert len(est.predict(data)) == 3 and "MASE" in est.evaluate(data)["lstm"]


def test_data_of_several_columns_still_needs_a_named_target():
    with pytest.raises(LstmkitError, match=r"no target column given, and the table has 2 numeric columns: 'a', 'b' "
                                           r".*target='a' \(several: a list; .* go to features=\)"):
        Forecaster(**TINY).fit(pd.DataFrame({"a": np.arange(100.0), "b": np.arange(100.0)}))


def test_the_command_lines_named_target_is_quoted_for_a_shell(tmp_path, capsys):
    """A column name with a space and parentheses was offered as '--target Sunspots (count)': pasted, a bash syntax
    error. The command line's fix quotes it; Python's keeps its repr."""
    from cli_helpers import run_cli
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    pd.DataFrame({"day": days, "Sunspots (count)": np.arange(40.0), "temp °C": np.ones(40)}).to_csv(
        tmp_path / "s.csv", index=False)
    code, _, err = run_cli(["forecast", "train", "--data", tmp_path / "s.csv", "--out", tmp_path / "runs"], capsys)
    assert code == 2 and "name the series to forecast: --target 'Sunspots (count)' (several comma-separated" in err, err
    with pytest.raises(LstmkitError, match=re.escape("name the series to forecast: target='Sunspots (count)' (")):
        Forecaster(**TINY).fit(str(tmp_path / "s.csv"))
    pd.DataFrame({"order date": days, "ship date": days, "y": np.arange(40.0)}).to_csv(tmp_path / "d.csv", index=False)
    code, _, err = run_cli(["forecast", "train", "--data", tmp_path / "d.csv", "--out", tmp_path / "runs"], capsys)
    assert code == 2 and err.rstrip().endswith("name the one the series runs along: --time 'order date'"), err


def test_a_units_row_under_the_header_is_named_when_no_target_is_given(tmp_path):
    """A sheet's units under its names ('thousand shares' over 'volume'): was 'no target column
    given, and the table has 2 columns: 'date', 'volume' — name the series to forecast: --target date' (the
    units row's 'yyyy-mm-dd' kept 'date' from being found as the time column)."""
    days = pd.date_range("2024-01-01", periods=30, freq="D")
    (tmp_path / "units.csv").write_text("date,volume\nyyyy-mm-dd,thousand shares\n" + "".join(f"{t:%Y-%m-%d},{k}.5\n"
                                                                                    for k, t in enumerate(days)))
    with pytest.raises(LstmkitError, match=r"^no target column given, and no column holds only numbers: the first row "
                       r"under the header \(line 2\) holds 'thousand shares' over 'volume', whose other cells are "
                       r"numbers: a second header row \(units\?\) — make the header one row of names \(volume "
                       r"\(thousand shares\) in one cell\) and delete the row under it$"):
        Forecaster(**TINY).check(tmp_path / "units.csv")


def test_an_array_of_several_columns_names_them_and_one_of_more_dimensions_is_refused():
    """Both were 'no target column given — pass --target COLUMN', which named no column an
    array has, and hid that a 3-D array cannot be a table at all."""
    with pytest.raises(LstmkitError, match=r"the table has 2 numeric columns: 'y0', 'y1' .*target='y0'"):
        Forecaster(**TINY).check(np.zeros((100, 2)))
    assert Forecaster(**TINY).check(np.random.default_rng(0).normal(size=(100, 2)), target="y1") is None
    with pytest.raises(LstmkitError, match=r"Expected a 1-D or 2-D array, got shape \(5, 40, 2\)"):
        Forecaster(**TINY).check(np.zeros((5, 40, 2)))


def test_the_one_numeric_column_besides_named_inputs_is_the_target():
    """Text columns (notes, names) and the named features are not candidates; the choice is
    recorded with its reason. Two numeric columns still need --target, and the error lists only
    them."""
    frame = sine_frame(n=160)[["time", "y", "temp"]].assign(note="ok", shop="north", promo="no")
    est = Forecaster(**{**TINY, "horizon": 3}).fit(frame.drop(columns="temp"))
    assert est.config_.target == ["y"]
    assert est.auto_["target"] == {"value": "y", "why": "the table's one column of numbers ('note', 'shop', 'promo': text)"}
    assert Forecaster(**{**TINY, "horizon": 3}).fit(frame, features="temp").config_.target == ["y"]
    with pytest.raises(LstmkitError, match=r"the table has 2 numeric columns besides the time: 'y', 'temp' "
                                           r".*target='y'"):
        Forecaster(**TINY).fit(frame)
    wide = pd.DataFrame(np.ones((30, 5)), columns=[f"shop{k}" for k in range(5)])
    with pytest.raises(LstmkitError, match=r"5 numeric columns: 'shop0', .* target='shop0' .*many series side by side"
                                           r".*df.melt\(id_vars=\[time\], var_name='series'\), then id='series', "
                                           r"target='value'$"):
        Forecaster(**TINY).fit(wide)


def test_a_file_whose_one_column_besides_time_is_the_target(tmp_path, capsys):
    """The CLI reads it too: with --time given, the one other column is the target."""
    from cli_helpers import run_cli
    df = sine_frame(n=160)[["time", "y"]].rename(columns={"y": "units"})
    df.to_csv(tmp_path / "d.csv", index=False)
    code, out, err = run_cli(["forecast", "train", "--data", tmp_path / "d.csv", "--time", "time", "--horizon", "3",
                              "--max-epochs", "1", "--hidden-size", "8", "--ensemble", "1", "--progress", "off",
                              "--out", tmp_path / "runs"],
                             capsys)
    assert code == 0, err
    run = next((tmp_path / "runs").iterdir())
    assert json.loads((run / "lstmkit.json").read_text())["config"]["target"] == ["units"]


@pytest.mark.parametrize("target", [None, "units"])
def test_a_file_is_read_once_by_fit(tmp_path, monkeypatch, target):
    """Finding the implied target, choosing the auto settings and fitting share one reading of the
    file; the data summary still names the file."""
    from lstmkit.tasks.forecast import data as forecast_data
    reads = []
    read_file = forecast_data.read_frame
    monkeypatch.setattr(forecast_data, "read_frame", lambda path: reads.append(path) or read_file(path))
    sine_frame(n=160)[["y"]].rename(columns={"y": "units"}).to_csv(tmp_path / "one.csv", index=False)
    est = Forecaster(**{**TINY, "horizon": 3}).fit(str(tmp_path / "one.csv"), target=target)
    assert reads == [tmp_path / "one.csv"] and est.config_.target == ["units"]
    assert est.data_summary_["source"] == str((tmp_path / "one.csv").resolve())
    reads.clear()
    Forecaster(**{**TINY, "horizon": 3}).check(tmp_path / "one.csv")
    assert reads == [tmp_path / "one.csv"]


def test_the_cli_trains_on_a_one_column_file_with_no_target(tmp_path, capsys):
    from cli_helpers import run_cli
    sine_frame(n=160)[["y"]].rename(columns={"y": "units"}).to_csv(tmp_path / "one_column.csv", index=False)
    code, out, err = run_cli(["forecast", "train", "--data", tmp_path / "one_column.csv", "--horizon", "3",
                              "--max-epochs", "1", "--hidden-size", "8", "--ensemble", "1", "--progress", "off",
                              "--out", tmp_path / "runs"],
                             capsys)
    assert code == 0, err
    run = next((tmp_path / "runs").iterdir())
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["config"]["target"] == ["units"]


def test_a_table_s_one_date_column_is_its_time_when_none_is_named(tmp_path, capsys):
    """A file of dates and values in any row order trains as the sorted file does (the rows
    were read in file order before: a newest-first export trained on its series reversed), and
    needs no --target; the choice is recorded and printed."""
    from cli_helpers import run_cli
    df = sine_frame(n=160)[["time", "y"]].rename(columns={"time": "date"})
    df["date"] = df["date"].dt.strftime("%Y-%m-%d %H:%M")
    df.to_csv(tmp_path / "sorted.csv", index=False)
    df.iloc[::-1].to_csv(tmp_path / "newest_first.csv", index=False)
    fits = [Forecaster(**{**TINY, "horizon": 3}).fit(str(tmp_path / f)) for f in ("sorted.csv", "newest_first.csv")]
    for est in fits:
        assert est.config_.time == "date" and est.config_.target == ["y"]
        assert est.auto_["time"]["value"] == "date"
    assert fits[0].metrics_["metrics"] == fits[1].metrics_["metrics"]
    code, out, err = run_cli(["forecast", "train", "--data", tmp_path / "newest_first.csv", "--horizon", "3",
                              "--max-epochs", "1", "--hidden-size", "8", "--ensemble", "1", "--progress", "off",
                              "--out", tmp_path / "runs"],
                             capsys)
    assert code == 0, err
    assert "time column 'date' (the table's one date column" in out + err
    run = next((tmp_path / "runs").iterdir())
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["config"]["time"] == "date" and meta["auto"]["time"]["value"] == "date"


def test_a_table_of_two_date_columns_must_name_its_time():
    df = sine_frame(n=160)[["time", "y"]]
    df["shipped"] = df["time"] + pd.Timedelta(days=2)
    with pytest.raises(LstmkitError, match=r"2 date columns \('time', 'shipped'\).*time='time'$"):
        Forecaster(**{**TINY, "horizon": 3}).fit(df, target="y")
    est = Forecaster(**{**TINY, "horizon": 3}).fit(df, target="y", time="shipped")
    assert est.config_.time == "shipped" and "time" not in est.auto_


def test_repeated_times_with_no_id_column_suggest_naming_one():
    """Two series stacked in one file with no --id: the error says so (before: 'duplicate (id, time) pair')."""
    a, b = sine_frame(n=160)[["time", "y"]], sine_frame(n=160, seed=1)[["time", "y"]]
    with pytest.raises(LstmkitError, match=r"appears more than once in column 'time'.*apart with id=;"):
        Forecaster(**{**TINY, "horizon": 3}).fit(pd.concat([a, b]), target="y")


def test_rows_inserted_for_missing_dates_are_not_scored():
    """--fill inserts rows for the hours a series skips; they are no observations, so the test
    metrics score the observed points only (the inserted hours inside the test part are left out)."""
    from lstmkit.tasks.forecast.panel import read_panel
    from lstmkit.tasks.forecast.windows import split_panel
    frame = sine_frame(n=240)
    gapped = frame.drop(index=range(220, 226))                      # six hours missing, in the test part
    with pytest.warns(UserWarning, match="skips 6 steps of its regular grid"):
        est = Forecaster(**{**TINY, "horizon": 3}, fill="interpolate").fit(gapped, target="y", time="time")
        panel = read_panel(gapped, est.config_)
    rows, _ = split_panel(panel, est.config_)["test"]
    targets = (rows.numpy() + est.config_.lookback)[:, None] + np.arange(3)
    assert panel.unobserved.sum() == 6 and panel.unobserved[targets].any()
    assert est.metrics_["test_points"] == int((~panel.unobserved[targets]).sum()) < targets.size


def test_target_cells_filled_by_fill_are_not_scored():
    """Empty target cells in rows that are there are filled for training, but the filled values
    are no observations: the test metrics leave them out (before: scored as if they were
    measured -- with --fill zero, as zeros the forecast was blamed for missing)."""
    from lstmkit.tasks.forecast.panel import read_panel
    from lstmkit.tasks.forecast.windows import split_panel
    frame = sine_frame(n=240)
    frame.loc[[221, 224, 225], "y"] = np.nan                      # three empty cells in the test part
    est = Forecaster(**{**TINY, "horizon": 3}, fill="zero").fit(frame, target="y", time="time")
    panel = read_panel(frame, est.config_)
    assert panel.n_filled == 3 and panel.values[[221, 224, 225], 0].tolist() == [0.0, 0.0, 0.0]
    rows, _ = split_panel(panel, est.config_)["test"]
    targets = (rows.numpy() + est.config_.lookback)[:, None] + np.arange(3)
    assert np.flatnonzero(panel.unobserved).tolist() == [221, 224, 225]
    assert est.metrics_["test_points"] == int((~panel.unobserved[targets]).sum()) < targets.size



def test_a_test_windows_inputs_read_nothing_after_its_origin_and_evaluate_fills_as_fit_did():
    """--fill interpolate drew an empty input of a test window toward the next value, that window's own
    target: changing the target changed the forecast of it. In the scored parts gaps are carried forward,
    and evaluate (the data split as in training) fills them as the fit did, so it gives the fit's metrics."""
    frame = sine_frame(n=240)                                      # 168 / 36 / 36 points
    frame.loc[[190, 222], "y"] = np.nan                            # one empty cell in each scored part
    est = Forecaster(**{**TINY, "horizon": 3, "max_epochs": 1}, fill="interpolate").fit(frame, target="y", time="time")
    assert est.evaluate(frame) == est.metrics_["metrics"]
    moved = frame.copy()
    moved.loc[223, "y"] += 5.0                                    # the target after the empty cell 222
    before, after = est.test_forecasts(frame), est.test_forecasts(moved)
    at = np.flatnonzero(before["origins"] == 222)                  # the window whose last input is the empty cell
    assert len(at) == 1
    np.testing.assert_array_equal(before["forecast"][at], after["forecast"][at])



def test_a_fitted_runs_backtest_says_which_folds_forecast_points_it_trained_on():
    """A fixed run's backtest whose folds reach back before its test part scored the model on points it had
    trained or early-stopped on, and said so by nothing but a note backtest.json always carries."""
    import warnings
    frame = sine_frame(n=240)                                      # 168 / 36 / 36: the test part from point 204
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dated = Forecaster(**{**TINY, "horizon": 3, "max_epochs": 1}).fit(frame, target="y", time="time")
        steps = Forecaster(**{**TINY, "horizon": 3, "max_epochs": 1}).fit(frame["y"].to_numpy())
    assert dated.data_summary_["test_from"] == frame["time"][204].isoformat()
    for est, data in ((dated, frame), (steps, frame["y"].to_numpy())):
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            inside = est.backtest(data, folds=12)                     # the first fold forecasts points 204-206
        assert not [w for w in said if "test part" in str(w.message)]
        assert "folds_before_test_part" not in inside["settings"]
        with pytest.warns(UserWarning, match=r"^2 of the 14 folds \(folds 1, 2\) forecast points before the run's "
                                             r"test part.*trained or early-stopped on.*refit=True") as said:
            reaching = est.backtest(data, folds=14)
        assert reaching["settings"]["folds_before_test_part"] == [1, 2] and said[0].filename == __file__
    newer = sine_frame(n=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dated.update(newer.iloc[200:280], epochs=2)                # kept: it reads hours 200-279
    assert dated.last_update_["accepted"]
    with pytest.warns(UserWarning, match=r"^1 of the 7 folds \(fold 1\) forecast points before the run's test part "
                                         r"\(from [0-9T:-]+\) or read by an update it kept"):
        assert dated.backtest(newer, folds=7)["settings"]["folds_before_test_part"] == [1]    # fold 1: hours 279-281


def test_a_season_longer_than_the_training_part_is_refused_and_short_series_are_named():
    """--deseason 1000 on 200 rows measured no index and adjusted nothing, without a word. A Python
    caller is told its keyword (it read '--deseason 300 needs ...')."""
    with pytest.raises(LstmkitError, match=r"^deseason=300 needs 301 training points .* the training part has "
                                           r"\d+: nothing would be adjusted"):
        _fit(frame=sine_frame(n=200), lookback=12, deseason=300)
    long, short = sine_frame(n=200).assign(s="long"), sine_frame(n=24).assign(s="short")
    with pytest.warns(UserWarning, match=r"1 of 2 series have fewer than 25 training points \(e.g. 'short': \d+\): "
                                         r"deseason=24 leaves them unadjusted"):
        _fit(frame=pd.concat([long, short]), id="s", lookback=6, deseason=24)


def test_a_bare_series_is_the_target_of_a_one_input_model_whatever_its_name():
    """A model fitted on a named Series (df['units']) refused the same values as an array, a list, a
    tuple or a renamed Series ("target column 'units' not found — available columns: y"), and one
    fitted on an array refused a named Series; a table is still read by its column names."""
    values = np.sin(np.arange(100) / 4)
    est = Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(pd.Series(values, name="units"))
    want = est.predict(pd.Series(values, name="units"))
    for data in (values, list(values), tuple(values), pd.Series(values), pd.Series(values, name="sales")):
        pd.testing.assert_frame_equal(est.predict(data), want)
    assert est.evaluate(values)["lstm"] == est.evaluate(pd.Series(values, name="units"))["lstm"]
    plain = Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(values)
    pd.testing.assert_frame_equal(plain.predict(pd.Series(values, name="units")), plain.predict(values))
    with pytest.raises(LstmkitError, match="target column 'units' not found — available columns: sales"):
        est.predict(pd.DataFrame({"sales": values}))


def test_a_series_or_column_named_by_a_number_is_the_target_as_a_named_one_is():
    """A Series named 3 (``df[3]`` of a frame made from an array) or a frame's one column 0 was 'no
    target column given — pass --target COLUMN', though it holds the one series; it is the target
    now, by the name a table's integer columns are matched by."""
    values = np.sin(np.arange(100) / 4)
    est = Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(pd.Series(values, name=3))
    assert est.config_.target == ["3"]
    want = Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(pd.Series(values, name="3")).predict(values)
    np.testing.assert_array_equal(est.predict(pd.Series(values, name=3))["3"], want["3"])
    np.testing.assert_array_equal(est.predict(pd.DataFrame({3: values}))["3"], want["3"])
    frame = Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(pd.DataFrame(values[:, None]))
    assert frame.config_.target == ["0"] and len(frame.predict(pd.DataFrame(values[:, None]))) == 2


def test_a_named_index_of_years_is_the_time_as_the_column_it_was_is():
    """``df.set_index("year")`` of a table whose year column is its time: a model fitted on the
    column refused it ("time column 'year' not found — available columns: y"), and one fitted on it
    read the rows in the order given (a reversed frame was forecast from its first year, without a
    word). The index is the time now, as its column is; an unnamed one (a slice's 1000, 1001, …) is
    still the rows' numbers."""
    values = np.sin(np.arange(160) / 4) + np.arange(160) / 50
    table = pd.DataFrame({"year": np.arange(1900, 2060), "y": values})
    by_column = Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(table)
    want = by_column.predict(table)
    assert by_column.config_.time == "year" and want["year"].tolist() == list(pd.to_datetime(["2060", "2061"]))
    by_year = table.set_index("year")
    pd.testing.assert_frame_equal(by_column.predict(by_year), want)
    pd.testing.assert_frame_equal(by_column.predict(by_year.iloc[::-1]), want)
    series = by_year["y"]
    by_index = Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(series.iloc[::-1])
    assert by_index.config_.time == "year"
    pd.testing.assert_frame_equal(by_index.predict(series.iloc[::-1]), by_index.predict(table))
    pd.testing.assert_frame_equal(by_index.predict(series), by_index.predict(table))
    rows = Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(pd.Series(values, index=range(1000, 1160)))
    assert rows.config_.time is None


def test_a_pyarrow_table_reads_as_its_dataframe_and_a_dict_is_told_how():
    """A pyarrow Table (``pq.read_table``), which the text tasks read as its DataFrame, was
    'unsupported data type Table'; a dict of columns is told to make its DataFrame."""
    import pyarrow as pa
    df = sine_frame(n=160)[["time", "y"]]
    est = Forecaster(**{**TINY, "horizon": 2}).fit(pa.Table.from_pandas(df))
    assert est.config_.time == "time" and est.config_.target == ["y"]
    want = Forecaster(**{**TINY, "horizon": 2}).fit(df).predict(df)
    pd.testing.assert_frame_equal(est.predict(pa.Table.from_pandas(df)), want)
    assert est.evaluate(pa.Table.from_pandas(df)) == est.evaluate(df)
    with pytest.raises(LstmkitError, match=r"unsupported data type dict") as e:
        est.predict({"time": df["time"], "y": df["y"]})
    assert "pd.DataFrame(d)" in e.value.hint


def test_a_backtest_takes_numpy_numbers_as_pythons(tmp_path):
    """Was: backtest(folds=np.int64(2)) '`folds` must be a positive integer, got np.int64(2)'."""
    est = Forecaster(**{**TINY, "horizon": 2, "max_epochs": 1}).fit(sine_frame(n=200), target="y", time="time")
    want = est.backtest(sine_frame(n=200), folds=2, step=3)
    got = est.backtest(sine_frame(n=200), folds=np.int64(2), step=np.int32(3), out=tmp_path)
    assert got["aggregate"] == want["aggregate"]
    assert json.loads((tmp_path / "backtest.json").read_text())["settings"]["folds"] == 2
    with pytest.raises(LstmkitError, match="`folds` must be a positive integer, got 2.0"):
        est.backtest(sine_frame(n=200), folds=np.float64(2.0))


def test_records_ranges_generators_and_pandas_arrays_read_as_their_table_or_list():
    """A list of records (``df.to_dict("records")``, JSON rows) read as one column of dicts ("time
    column 'time' not found — available columns: y"); a range, a generator and a pandas array
    (``pd.array(values, dtype="Float64")``) were 'unsupported data type'."""
    df = sine_frame(n=160)[["time", "y"]]
    est = Forecaster(**{**TINY, "horizon": 2}).fit(df, target="y", time="time")
    pd.testing.assert_frame_equal(est.predict(df.to_dict("records")), est.predict(df))
    values = df["y"].to_numpy()
    plain = Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(list(values))
    want = plain.predict(values)
    for given in ((v for v in values), pd.array(values, dtype="Float64"), pd.array(values)):
        pd.testing.assert_frame_equal(plain.predict(given), want)
    from_generator = Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(v for v in values)
    pd.testing.assert_frame_equal(from_generator.predict(values), want)
    assert from_generator.evaluate(v for v in values) == plain.evaluate(values)
    steps = Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(np.arange(160))
    pd.testing.assert_frame_equal(steps.predict(range(160)), steps.predict(np.arange(160)))
    with pytest.raises(LstmkitError, match="empty or non-finite cells in column 'y'"):
        plain.predict(pd.array([*values[:-5], None, *values[-4:]], dtype="Float64"))


def test_a_numpy_matrix_of_one_row_or_column_is_the_one_series():
    """np.asmatrix(values) (1×N, how a matrix holds a vector) was read as N series of one step ('no target
    column given, and the table has 100 numeric columns'); a column (N×1) was the column y0, which
    predict of a model fitted on the values refused ("target column 'y' not found")."""
    values = np.sin(np.arange(100) / 4)
    est = Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(values)
    want = est.predict(values)
    for m in (np.asmatrix(values), np.asmatrix(values).T):
        pd.testing.assert_frame_equal(est.predict(m), want)
        got = Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(m)
        assert got.config_.target == ["y"]
        pd.testing.assert_frame_equal(got.predict(values), want)
    assert est.evaluate(np.asmatrix(values))["lstm"] == est.evaluate(values)["lstm"]


def test_a_one_column_array_is_the_one_series_of_a_model_fitted_on_its_values():
    """``values.reshape(-1, 1)`` (scikit-learn's X of one feature), ``[[v] for v in values]`` or a tensor
    column was the column ``y0``, which predict of a model fitted on the 1-D values (or a named
    Series) refused: "target column 'y' not found — available columns: y0"."""
    import torch
    values = np.sin(np.arange(100) / 4)
    for fitted_on in (values, pd.Series(values, name="units")):
        est = Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(fitted_on)
        want = est.predict(values)
        for data in (values[:, None], values[:, None].astype(">f8"), [[v] for v in values], torch.tensor(values)[:, None]):
            pd.testing.assert_frame_equal(est.predict(data), want)
        assert est.evaluate(values[:, None])["lstm"] == est.evaluate(values)["lstm"]
        with pytest.raises(LstmkitError, match="the array has 2 columns, the model was trained on one of 1|"
                                               "target column 'units' not found — available columns: y0, y1"):
            est.predict(np.c_[values, values])


def test_a_pyarrow_array_or_chunked_array_reads_as_its_series():
    """``pa.array(values)`` and a ChunkedArray (a Table's column, ``table["y"]``) were 'unsupported data
    type DoubleArray', while the Table itself and an Arrow-backed Series read."""
    import pyarrow as pa
    values = np.sin(np.arange(100) / 4)
    est = Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(pd.Series(values, name="units"))
    want = est.predict(values)
    for data in (pa.array(values), pa.chunked_array([values[:50], values[50:]])):
        pd.testing.assert_frame_equal(est.predict(data), want)
        got = Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(data)
        assert got.config_.target == ["y"]
        pd.testing.assert_frame_equal(got.predict(values), Forecaster(**{**TINY, "lookback": 8, "horizon": 2}).fit(values).predict(values))


def test_mape_of_intermittent_demand_says_it_left_out_the_zero_actuals(tmp_path):
    """Intermittent demand (about 80 % zeros): MAPE scored the few non-zero test points, and the table
    showed its number as if it were every point's percentage error, without a word."""
    import warnings
    rng = np.random.default_rng(1)
    df = sine_frame().assign(y=np.where(rng.random(480) < 0.2, rng.poisson(4, 480) + 1, 0).astype(float))
    with pytest.warns(UserWarning, match="MAPE leaves out the"):          # train's test metrics say it too
        est, _ = _fit(tmp_path, frame=df, horizon=3)
    zeros = int((est.test_forecasts(df)["actual"] == 0).sum())
    assert 100 < zeros < 210
    with pytest.warns(UserWarning, match=rf"^MAPE leaves out the {zeros} of 210 test points whose actual value is 0 "
                                         rf"\(a percentage of 0 is undefined\): it is the mean over the other "
                                         rf"{210 - zeros}; compare MAE or MASE \(sMAPE scores each of those points 200 "
                                         rf"unless its forecast is exactly 0\)$"):
        m = est.evaluate(df)
    assert np.isfinite(m["lstm"]["MAPE"])
    per = pd.read_csv(next(tmp_path.glob("*/metrics_per_series.csv")))
    assert set(per["MAPE_points"]) == {210 - zeros} and set(per["points"]) == {210}
    folds = df["y"].to_numpy()[-12:].reshape(4, 3)                        # a backtest's folds say it too
    folds = folds[(folds != 0).any(1)]
    assert 0 < (folds == 0).sum() < folds.size
    with pytest.warns(UserWarning, match=rf"^MAPE leaves out the {(folds == 0).sum()} of {folds.size} backtest points "
                                         rf"whose actual value is 0"):
        est.backtest(df, folds=4)
    with warnings.catch_warnings():                                        # no zero actual: no such warning
        warnings.filterwarnings("error", message="MAPE leaves out")
        _fit(horizon=3)[0].evaluate(sine_frame())


def test_a_training_part_that_never_moves_is_named():
    """A product launched after the training part (0 until 75 % of the series): every training window
    was the same, the network learned nothing, and the run said nothing of it (the doctor then advised
    training longer)."""
    import warnings
    df = sine_frame()
    df.loc[:359, "y"] = 0.0
    with pytest.warns(UserWarning, match=r"^the training part is 0 throughout its 336 points: every training window "
                                         r"is the same, so the network has nothing to learn from it — train on "
                                         r"history in which the series moves"):
        _fit(frame=df, horizon=3)
    many = pd.concat([df.assign(s="a"), df.assign(s="b", y=df["y"] + 5)])
    with pytest.warns(UserWarning, match=r"^every series' training part \(e.g. 'a''s\) is 0 throughout"):
        Forecaster(**TINY, horizon=3, val_size=72, test_size=72).fit(many, target="y", time="time", id="s")
    many.loc[many["s"] == "b", "y"] = sine_frame(seed=1)["y"].to_numpy()       # one series moves: the model learns
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*throughout")
        Forecaster(**TINY, horizon=3, val_size=72, test_size=72).fit(many, target="y", time="time", id="s")


def test_the_plot_reuses_the_test_forecasts_the_metrics_made(tmp_path, monkeypatch):
    """The one-series plot forecast every test window again after the metrics had (150,000 windows:
    36 s more): the test windows are forecast once, and the plot shows those forecasts, as before."""
    from lstmkit.inspect import plots
    made, drawn = [], {}
    forecast = Forecaster._forecast_windows

    def counted(self, arrays, rows, *args, **kw):
        made.append(len(rows))
        return forecast(self, arrays, rows, *args, **kw)
    monkeypatch.setattr(Forecaster, "_forecast_windows", counted)
    monkeypatch.setattr(plots, "plot_forecast", lambda *a, **kw: drawn.update(preds=a[4]))
    est, df = _fit(tmp_path, horizon=3, test_size=40)
    assert made.count(38) == 1, made                       # the 38 test windows: once
    again = est.test_forecasts(df)
    np.testing.assert_allclose(drawn["preds"]["lstm"], again["forecast"][:, 0, 0], rtol=1e-6)


def test_the_plot_of_a_long_test_part_shows_its_last_points_and_says_so(tmp_path, monkeypatch):
    """30,000 test points were drawn in a 10-inch plot: the model's and the baselines' lines over one
    another, one colour's band, titled 'one step ahead on the test part' as if it could be read."""
    from lstmkit.inspect import plots
    from lstmkit.tasks.forecast import evaluation
    drawn = []
    monkeypatch.setattr(plots, "plot_forecast", lambda *a, **kw: drawn.append((a, kw)))
    monkeypatch.setattr(evaluation, "PLOTTED_POINTS", 10)
    est, df = _fit(tmp_path, test_size=40)
    (x_hist, y_hist, x_test, y_test, preds, _), kw = drawn[0]
    assert len(x_test) == len(y_test) == 10 and all(len(v) == 10 for v in preds.values())
    assert len(x_hist) == 10 and x_hist[-1] < x_test[0]
    assert kw["title"] == "y: one step ahead on the last 10 of 40 test points"
    assert kw["history"] == "earlier points"                 # test points too: not the training history
    again = est.test_forecasts(df)
    np.testing.assert_allclose(preds["lstm"], again["forecast"][-10:, 0, 0], rtol=1e-6)      # the last ones
    np.testing.assert_array_equal(pd.to_datetime(x_test), pd.to_datetime(df["time"].to_numpy()[-10:]))
    monkeypatch.setattr(evaluation, "PLOTTED_POINTS", 1000)
    _fit(tmp_path, test_size=40)
    assert drawn[1][1]["title"] == "y: one step ahead on the test part" and len(drawn[1][0][2]) == 40
    assert drawn[1][1]["history"] == "history"


def test_a_long_tables_numeric_series_column_is_named_as_the_id_not_offered_as_the_target():
    """'store, date, sales' without --id or --target: the fix offered was '--target store', the store
    numbers forecast; it names the column that tells the series apart now, and both flags."""
    days = pd.date_range("2024-01-01", periods=30, freq="D").strftime("%Y-%m-%d")
    long = pd.DataFrame({"store": np.repeat([1, 2, 3], 30), "date": np.tile(days, 3), "sales": np.arange(90) * 0.5})
    with pytest.raises(LstmkitError, match=r"'store' tells apart the series of a long table: each 'date' comes once "
                                           r"per 'store' value — .* id='store', target='sales'$"):
        Forecaster(**TINY).check(long)
    assert Forecaster(**TINY).check(long, id="store", target="sales") is None


def test_a_column_counting_the_rows_is_named_as_the_time_not_offered_as_the_target():
    """'period, sales' (1, 2, 3, … beside the values): the fix offered was '--target period', the row
    numbers forecast; it names the counter as the steps now, and both flags."""
    table = pd.DataFrame({"period": np.arange(1, 41), "sales": np.sin(np.arange(40.0)) + 5})
    with pytest.raises(LstmkitError, match=r"'period' counts the rows \(1, 2, 3, …\): the steps, not a series — .* "
                                           r"time='period', target='sales'$"):
        Forecaster(**TINY).check(table)
    assert Forecaster(**TINY).check(table, time="period", target="sales") is None
    with pytest.raises(LstmkitError, match=r"2 numeric columns: 'a', 'b' .*target='a'"):     # no counter: as before
        Forecaster(**TINY).check(pd.DataFrame({"a": np.arange(40.0) * 2, "b": np.ones(40)}))


def test_a_fraction_beside_a_part_size_or_many_series_is_refused():
    """``val_size=48, val_frac=0.3``: the split took 48 validation points and the fraction changed nothing,
    without a word; ``test_size`` alone made the validation part one horizon whatever ``val_frac`` said."""
    with pytest.raises(LstmkitError, match=r"^val_frac=0.3 does not apply beside val_size=48: with a size given"):
        Forecaster(**TINY, val_size=48, val_frac=0.3).fit(sine_frame(), target="y")
    with pytest.raises(LstmkitError, match=r"^val_frac=0.2 does not apply beside test_size=24: .* drop val_frac="):
        Forecaster(**TINY).fit(sine_frame(), target="y", test_size=24, val_frac=0.2)
    many = pd.concat([sine_frame().assign(s="a"), sine_frame(seed=1).assign(s="b")])
    with pytest.raises(LstmkitError, match=r"^test_frac=0.1 does not apply beside id='s': the fractions split one "):
        Forecaster(**TINY, test_frac=0.1).fit(many, target="y", time="time", id="s")


def test_a_fixed_backtest_over_the_test_part_says_why_its_mase_is_not_metrics_json(tmp_path, capsys):
    """A run's fixed backtest whose fold is its test window scored the same forecasts as metrics.json, yet
    another MASE (7.654 there, 7.597 here), without a word why: a fold scales by the history before its
    cutoff, metrics.json by the training part alone. The CLI and backtest.json say so, and it is the whole
    difference: the ratio of the two MASEs is that of the two scales."""
    from cli_helpers import run_cli
    from lstmkit.tasks.forecast.metrics import mase_scale
    est, df = _fit(tmp_path, horizon=3, val_size=24, test_size=3)
    result = est.backtest(df, folds=1)
    fold = {r["model"]: r for r in result["folds"]}
    y, m = df["y"].to_numpy(), est.metrics_["metrics"]
    n_train, season = len(df) - 24 - 3, est.season_
    ratio = mase_scale(y[:n_train], season)[0] / mase_scale(y[:len(df) - 3], season)[0]
    for name in (est.config_.model, "naive"):
        assert fold[name]["MAE"] == pytest.approx(m[name]["MAE"], rel=1e-6)      # the same forecasts
        assert fold[name]["MASE"] == pytest.approx(m[name]["MASE"] * ratio, rel=1e-6) != pytest.approx(m[name]["MASE"])
    assert "metrics.json's test MASE scales by the training part alone" in result["settings"]["mase_scale"]
    df.to_csv(tmp_path / "d.csv", index=False)
    code, out, err = run_cli(["forecast", "backtest", "--run", est.run_dir_, "--data", tmp_path / "d.csv",
                              "--folds", 1, "--out", tmp_path / "bt"], capsys)
    assert code == 0, err
    assert ("(MASE here: each fold's error over the seasonal-naive error of the history before its cutoff; "
            "metrics.json's test MASE scales by the training part alone, so a fold over the test part scores a "
            "little differently)") in out


def test_a_fit_forecasts_its_validation_windows_once_for_the_doctor_and_the_blend(monkeypatch):
    """The doctor's comparison with the baselines and the choice of a blend each forecast the validation
    windows with the trained network (every member of a seed ensemble): once now, and the blend's record of
    the network alone is the doctor's score of it."""
    made = []
    forecast = Forecaster._forecast_windows

    def counted(self, arrays, rows, *args, **kw):
        made.append(int(rows[0]))
        return forecast(self, arrays, rows, *args, **kw)
    monkeypatch.setattr(Forecaster, "_forecast_windows", counted)
    est, _ = _fit(horizon=3, combine="ets", doctor=True)
    first = est.data_summary_["split"]["train"] - est.config_.lookback               # the first validation window
    k = est.auto_["combine"]["pooled"]["horizons_before"]      # the clear margin's earlier origins (session 59)
    assert k >= 1 and made == [first,                                                 # validation, once
                               first - k * est.config_.horizon,                       # the windows before it, once
                               est.data_summary_["split"]["train"] + est.data_summary_["split"]["val"]
                               - est.config_.lookback]
    doctor = est.result_.doctor["evidence"]["baselines"]
    assert doctor["metric"] == "MASE" and est.auto_["combine"]["validation_mase"]["network"] == float(
        f"{doctor['model']:.4g}")



def test_the_plot_of_a_quantile_run_shades_its_intervals_in_the_datas_units(tmp_path, monkeypatch):
    """forecast.png of a run trained with quantiles drew its median alone: the 80% interval it was
    trained for (and scored on: coverage_80) was nowhere in the plot."""
    from lstmkit.inspect import plots
    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: figures.append((fig, Path(path).name)))
    frame = sine_frame()
    frame["y"] = frame["y"] * 100 - 500                              # 400 to 600: far from the scaled units
    est, df = _fit(tmp_path, frame=frame, quantiles=(0.1, 0.5, 0.9), test_size=30)
    fig = next(f for f, name in figures if name == "forecast.png")
    ax = fig.axes[0]
    band = [c for c in ax.collections if c.get_label() == "80% interval"]
    assert len(band) == 1 and "80% interval" in [t.get_text() for t in ax.get_legend().get_texts()]
    q = est.test_forecasts(df)
    ys = band[0].get_paths()[0].vertices[:, 1]
    lo, hi = q["quantiles"][:, 0, 0, 0], q["quantiles"][:, 0, 0, -1]
    assert ys.min() == pytest.approx(lo.min(), rel=1e-4) and ys.max() == pytest.approx(hi.max(), rel=1e-4)
    assert 200 < ys.min() < ys.max() < 1000                           # the data's own units (400-600)


def test_a_flat_training_part_of_a_table_with_ids_names_the_sizes_that_split_it():
    """A table of series (an id column) flat up to its last 2 points, split one horizon each for
    validation and test: the warning said 'a smaller val_frac and test_frac', which split one series
    only. It names val_size and test_size, and the points they hold; of one series, the fractions."""
    from lstmkit.tasks.forecast.config import ForecastConfig
    from lstmkit.tasks.forecast.panel import read_panel
    from lstmkit.tasks.forecast.pipeline import _say_flat_training
    flat = np.r_[np.full(22, 5.0), 6.0, 7.0]
    cfg = ForecastConfig(target=["y"], id="s", horizon=1, lookback=2)
    panel = read_panel(pd.DataFrame({"s": ["a"] * 24 + ["b"] * 24, "y": np.r_[flat, flat]}), cfg)
    with pytest.warns(UserWarning, match="throughout") as caught:
        _say_flat_training(panel, cfg)
    said = str(caught[0].message)
    assert not re.search("val.frac|test.frac", said)
    assert re.search(r"a smaller (--val-size|val_size=) and (--test-size|test_size=) \(now 1 and 1 point per series\)$",
                     said)
    one = ForecastConfig(target=["y"], horizon=1, lookback=2, val_frac=0.05, test_frac=0.05)
    with pytest.warns(UserWarning, match=r"a smaller (--val-frac|val_frac=) and (--test-frac|test_frac=) "
                                         r"\(now 2 and 2 points\)$"):
        _say_flat_training(read_panel(pd.DataFrame({"y": np.r_[np.full(36, 5.0), 6.0, 7.0]}), one), one)
    none = ForecastConfig(target=["y"], id="s", horizon=1, lookback=2, val_size=0, test_size=0)
    with pytest.warns(UserWarning, match="throughout") as caught:    # no part to shrink: not offered
        _say_flat_training(read_panel(pd.DataFrame({"s": ["a"] * 24, "y": np.full(24, 5.0)}), none), none)
    assert "smaller" not in str(caught[0].message)


def _one_window_warnings(**params):
    """The warnings of fitting a sine of 240 hourly points with ``params`` (one epoch of a tiny network)."""
    import warnings
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        Forecaster(**{**TINY, "max_epochs": 1, "lookback": 24, "horizon": 12, **params}).fit(
            sine_frame(n=240), target="y", time="time")
    return [w for w in got if "validation part one horizon" in str(w.message)]


def test_test_size_alone_on_one_series_warns_that_validation_is_one_window():
    """--test-size 24 alone made the validation part one horizon (the rule's part not given), so early
    stopping and the blend were chosen on one window, without a word: session 57's held-out woolyrnq was
    1.06 x seasonal naive so, 0.99 with the default 15 %. The warning names the sizes and the fix."""
    (w,) = _one_window_warnings(test_size=24)
    assert str(w.message) == ("test_size=24 on one series leaves its validation part one horizon, 12 points "
                              "(one window): early stopping and the blend's weights are chosen on that one window; "
                              "pass val_size=36 (15% of its 240 points, as the default split makes it) to choose "
                              "them on more")
    assert w.filename == __file__                       # at the caller's line
    assert _one_window_warnings(test_size=24, val_size=36) == []        # the fix: no warning
    assert _one_window_warnings(test_size=24, val_size=12) == []        # one horizon asked for: the call's choice
    assert _one_window_warnings() == []                                 # the fractions: 36 points
