"""Many series, covariates, probabilistic output, strategies, backtesting (issue 8)."""
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from cli_helpers import assert_user_error, run_cli
from interrupt_helpers import ctrl_c_on_call
from lstmkit import Forecaster
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.calendar import calendar_features
from lstmkit.tasks.forecast.evaluation import panel_metrics
from lstmkit.tasks.forecast.panel import read_panel
from lstmkit.tasks.forecast.windows import PanelBatches, min_points, split_panel
from lstmkit.tasks.forecast.probabilistic import Output, check_quantiles, probabilistic_metrics
from one_thread import one_thread_per_module  # noqa: F401  (autouse: one torch thread, module fixtures too)

# one network (ensemble=1): the default 15-seed median took 15x the time; every test on QUICK passes
# with seeds 0, 1 and 2 on one network but the log-growth one (it keeps the default)
QUICK = dict(hidden_size=16, num_layers=1, dropout=0.0, batch_size=64, lr=1e-2, progress="off",
             tensorboard=False, device="cpu", doctor=False, ensemble=1)
CLI_QUICK = ["--hidden-size", "8", "--layers", "1", "--epochs", "2", "--progress", "off", "--device", "cpu",
             "--no-doctor", "--ensemble", "1"]


def panel_frame(lengths=(160, 200, 240), period=12, seed=0, noise=0.02):
    """Sines of different levels/scales per store, hourly; store k has amplitude k + 1."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, n in enumerate(lengths):
        t = np.arange(n)
        y = 100 * k + (k + 1) * np.sin(2 * np.pi * (t + 3 * k) / period) + noise * rng.standard_normal(n)
        parts.append(pd.DataFrame({"store": f"s{k}", "time": pd.date_range("2024-01-01", periods=n, freq="h"),
                                   "y": y}))
    return pd.concat(parts, ignore_index=True)


# -- data: the concatenated panel and its windows ------------------------------------------------
def test_a_frame_indexed_by_series_and_date_is_the_panel_of_its_series():
    """df.set_index(['store', 'time']) (a groupby's frame) without id=: its times repeat once per
    series, and the fit refused it ('time ... appears more than once ... name the column that
    tells them apart with --id'), though the index names that column. The level beside the dates
    is the id now, recorded in auto_; the model is the one fit(df, id='store') trains."""
    df = panel_frame(lengths=(60, 72))
    settings = dict(lookback=8, horizon=2, max_epochs=1, **{**QUICK, "hidden_size": 8})
    named = Forecaster(**settings).fit(df, target="y", time="time", id="store")
    for indexed in (df.set_index(["store", "time"]), df.set_index(["time", "store"]).sort_index()):
        est = Forecaster(**settings).fit(indexed)
        assert (est.config_.id, est.config_.time, est.config_.target) == ("store", "time", ["y"])
        assert est.auto_["id"]["value"] == "store" and "beside its dates" in est.auto_["id"]["why"]
        pd.testing.assert_frame_equal(est.predict(indexed), named.predict(df))
    with pytest.raises(LstmkitError, match=r"time column 'store' could not be read as dates"):
        Forecaster(**settings).fit(df.set_index(["store", "time"]), time="store")   # the user's word stands


def test_a_series_that_never_left_zero_forecasts_zero_and_the_others_as_before():
    """An intermittent-demand item with no sales forecast the network's offset from 0 (0.05, say)
    where naive gives 0: a target whose whole history is 0 forecasts 0, with one warning; the other
    series' forecasts are the ones they get without it."""
    df = panel_frame(lengths=(60, 72, 60))
    df.loc[df["store"] == "s1", "y"] = 0.0                                      # an item that never sold
    settings = dict(lookback=8, horizon=2, max_epochs=1, **{**QUICK, "hidden_size": 8})
    for extra in ({}, {"quantiles": [0.1, 0.5, 0.9]}, {"likelihood": "gaussian"}):
        est = Forecaster(**settings, **extra).fit(df, target="y", time="time", id="store")
        with pytest.warns(UserWarning, match=r"series 's1' has only zeros in its history: forecast 0, as naive"):
            got = est.predict(df)
        assert (got[got["store"] == "s1"].filter(like="y").to_numpy() == 0).all(), extra
        pd.testing.assert_frame_equal(got[got["store"] != "s1"].reset_index(drop=True),
                                      est.predict(df[df["store"] != "s1"]))
        panel = est._read_for_use(df, need=min_points(est.config_))            # the test windows score 0 too
        per_series = panel_metrics(est, panel, est._panel_arrays(panel), split_panel(panel, est.config_)["test"])[1]
        assert per_series.query("id == 's1' and model == @est.config_.model")["MAE"].tolist() == [0.0]
        assert all(np.isfinite(v) for v in est.evaluate(df)[est.config_.model].values())   # CRPS of a point mass too
    flat = pd.DataFrame({"y": np.zeros(40)})                                   # one series, no time: the one-window lane
    est = Forecaster(**settings).fit(flat, target="y")
    with pytest.warns(UserWarning, match="the series has only zeros in its history: forecast 0"):
        assert (est.predict(flat)["y"] == 0).all()


def test_panel_windows_match_slices_of_each_series():
    df = panel_frame()
    f = Forecaster(lookback=10, horizon=3, id="store", time="time", target=["y"])
    cfg = f.config
    shuffled = df.sample(frac=1, random_state=0)                          # rows in any order
    panel = read_panel(shuffled, cfg, need=20)
    assert panel.ids == list(pd.unique(shuffled["store"]))                # series in order of first appearance
    assert dict(zip(panel.ids, panel.lengths)) == {"s0": 160, "s1": 200, "s2": 240}
    assert all((np.diff(panel.series_time(s).asi8) > 0).all() for s in range(3))   # each sorted by time
    splits = split_panel(panel, cfg)
    # per series: test = last horizon points, val = the horizon before; one test window each
    assert len(splits["test"][0]) == 3 and len(splits["val"][0]) == 3
    X = torch.from_numpy(panel.values.astype(np.float32))
    batches = PanelBatches(X, X, torch.zeros(len(X), 0), *splits["train"], 10, 3, batch_size=1000)
    (x, fut, s), y = next(iter(batches))
    for row, sid, xi, yi in zip(splits["train"][0][:5], s[:5], x[:5], y[:5]):
        series = panel.values[panel.rows(int(sid))]
        o = int(row) - int(panel.starts[int(sid)])
        assert np.allclose(xi.numpy()[:, 0], series[o:o + 10, 0], atol=1e-4)
        assert np.allclose(yi.numpy()[:, 0], series[o + 10:o + 13, 0], atol=1e-4)
    # training windows never reach the val/test points of their series
    for row, sid in zip(*splits["train"]):
        n = panel.lengths[int(sid)]
        assert int(row) - int(panel.starts[int(sid)]) + 13 <= n - 6



def test_batches_gather_the_same_windows_by_numpy_and_by_torch():
    """A CPU float tensor's windows are gathered by numpy's indexing, a bfloat16 one's (numpy has no such
    type) by torch's: each batch holds the rows each window starts at, in the order asked, either way."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=(50, 2)).round(2)
    rows, series = torch.tensor([7, 0, 31, 12, 40]), torch.tensor([1, 0, 2, 1, 2])
    future = torch.from_numpy(rng.normal(size=(50, 1)).astype(np.float32))
    got = {}
    for dtype in (torch.float32, torch.bfloat16):
        X = torch.from_numpy(values).to(dtype)
        (x, fut, s), y = next(iter(PanelBatches(X, X[:, :1], future, rows, series, 6, 3, batch_size=8)))
        assert x.dtype == dtype and x.shape == (5, 6, 2) and fut.shape == (5, 3, 1) and y.shape == (5, 3, 1)
        for k, r in enumerate(rows.tolist()):
            assert torch.equal(x[k], X[r:r + 6]) and torch.equal(y[k], X[r + 6:r + 9, :1])
            assert torch.equal(fut[k], future[r + 6:r + 9])
        assert torch.equal(s, series)
        got[dtype] = x.float()
    assert torch.allclose(got[torch.float32], got[torch.bfloat16], atol=0.02)

def test_sampled_epochs_weigh_every_series_the_same():
    panel = read_panel(panel_frame(lengths=(60, 600)), Forecaster(lookback=5, horizon=2, id="store",
                                                                      time="time", target="y").config, need=10)
    splits = split_panel(panel, Forecaster(lookback=5, horizon=2, id="store", time="time", target="y").config)
    X = torch.zeros(len(panel.values), 1)
    torch.manual_seed(0)
    b = PanelBatches(X, X, torch.zeros(len(X), 0), *splits["train"], 5, 2, batch_size=500, samples=4000)
    assert len(b) == 8
    series = torch.cat([s for (_, _, s), _ in b])
    share = float((series == 0).float().mean())
    assert 0.45 < share < 0.55            # all windows would give series 0 only ~9 %


def test_duplicate_id_time_pairs_are_an_error():
    df = panel_frame()
    df = pd.concat([df, df.iloc[[5]]])
    with pytest.raises(LstmkitError, match=r"duplicate \(id, time\) pair: series 's0'"):
        Forecaster(lookback=10, horizon=3, max_epochs=1, **QUICK).fit(df, target="y", time="time", id="store")


def test_id_cells_empty_or_made_float_by_pandas():
    """An empty id cell made pandas read store numbers as floats: the series were named '1.0', '2.0',
    and the rows without an id became a series of their own, reported under another series' name.
    Empty ids are an error; whole-number ids are named as written."""
    from lstmkit.tasks.forecast.config import ForecastConfig
    from lstmkit.tasks.forecast.pipeline import panel_season
    df = panel_frame().assign(store=lambda d: d["store"].str[1:].astype(int) + 1)
    cfg = ForecastConfig(target=["y"], time="time", id="store")
    assert read_panel(df.astype({"store": float}), cfg).ids == ["1", "2", "3"]
    with pytest.raises(LstmkitError, match="id column 'store' has 2 empty cells.*fill those cells or drop"):
        read_panel(df.astype({"store": float}).assign(store=lambda d: d["store"].mask(d.index.isin([7, 300]))), cfg)
    # the first series skips an hour: the season is the panel's (24 from the others), not 1
    gapped = df.drop(index=[20])
    with pytest.warns(UserWarning, match="skips 1 step"):
        panel = read_panel(gapped, cfg)
    assert panel.freq == "h" and panel_season(panel, cfg) == 24


def test_one_series_that_skips_steps_keeps_the_season_of_its_grid():
    """Hourly readings with 3 hours missing, read as they are (a warning, no --fill): the run took
    season 1 -- no seasonal naive, no seasonal adjustment, lookback 12 instead of 3 days."""
    from lstmkit.tasks.forecast.config import ForecastConfig
    from lstmkit.tasks.forecast.pipeline import panel_season
    t = pd.date_range("2024-01-01", periods=1000, freq="h")
    df = pd.DataFrame({"time": t, "y": np.sin(2 * np.pi * np.arange(1000) / 24)}).drop(index=[100, 101, 500])
    cfg = ForecastConfig(target=["y"], time="time")
    with pytest.warns(UserWarning, match="skips 3 steps"):
        panel = read_panel(df, cfg)
    assert panel.freq is None and panel_season(panel, cfg) == 24
    weekly = pd.DataFrame({"time": pd.date_range("2000-01-02", periods=300, freq="W"), "y": 1.0}).drop(index=[40])
    with pytest.warns(UserWarning, match="skips 1 step"):
        assert panel_season(read_panel(weekly, cfg), cfg) == 52


def test_a_wide_table_is_a_panel_of_its_columns(tmp_path, capsys):
    """``--format wide``: a time column, one column per series, a shared input: read as the long
    panel (id 'series', target 'value'), with the same forecasts from the wide file as from its
    long form; predict's frame names each series by its column."""
    long = panel_frame(lengths=(120, 120, 120))
    wide = long.pivot(index="time", columns="store", values="y").reset_index().rename_axis(columns=None)
    wide["temp"] = np.linspace(0.0, 1.0, len(wide))
    wide.to_csv(tmp_path / "wide.csv", index=False)
    code, out, err = run_cli(["forecast", "train", "--data", tmp_path / "wide.csv", "--format", "wide",
                              "--features", "temp", "--lookback", "24", "--horizon", "3", *CLI_QUICK,
                              "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    run = Path(out.strip().splitlines()[-1].split("run folder: ")[-1])
    f = Forecaster.load(run)
    assert (f.config_.id, f.config_.target, f.config_.format, f.config_.time) == ("series", ["value"], "wide", "time")
    a = f.predict(tmp_path / "wide.csv")
    assert a["series"].unique().tolist() == ["s0", "s1", "s2"] and len(a) == 9
    as_long = wide.melt(id_vars=["time", "temp"], var_name="series", value_name="value")
    np.testing.assert_array_equal(a["value"].to_numpy(), f.predict(as_long)["value"].to_numpy())
    for bad, words in ((wide.assign(note="x"), "'note' holds text"), (wide.assign(series=1.0), "a column 'series'")):
        with pytest.raises(LstmkitError, match=words):
            Forecaster(lookback=24, horizon=3, format="wide", **QUICK).fit(bad, features="temp")
    with pytest.raises(LstmkitError, match="format='wide' forecasts every column.* drop target= and id="):
        Forecaster(lookback=24, horizon=3, format="wide", **QUICK).fit(wide, target="s1")


def test_a_series_that_starts_late_in_a_wide_table_is_its_rows_from_its_first_value():
    """A shop that opened later has empty cells above its first value in a wide table: they were read as
    cells of its series, refused as '424 of 730 rows' empty with fill='ffill' (or 'zero') offered as the fix,
    and fill='zero' trained on zeros before the shop opened. They are no rows of it, as its long form has
    none; a gap inside a series is still an empty cell, and a column without a value is still skipped by name."""
    from lstmkit.tasks.forecast.config import ForecastConfig
    long = panel_frame(lengths=(120, 120, 120))
    long = long[~((long["store"] == "s1") & (long.index % 120 < 50))]     # s1 opens 50 hours late
    wide = long.pivot(index="time", columns="store", values="y").reset_index().rename_axis(columns=None)
    assert wide["s1"].isna().sum() == 50
    cfg = ForecastConfig(format="wide", time="time", horizon=3)
    panel = read_panel(wide, cfg)
    as_long = read_panel(long.rename(columns={"store": "series", "y": "value"}), ForecastConfig(
        time="time", id="series", target=["value"], horizon=3))
    assert panel.ids == ["s0", "s1", "s2"] and panel.lengths.tolist() == [120, 70, 120] and panel.n_filled == 0
    np.testing.assert_array_equal(panel.values, as_long.values)
    np.testing.assert_array_equal(panel.times, as_long.times)
    with pytest.raises(LstmkitError, match=r"empty or non-finite cells in column 's1' \(1 of 70 rows\)"):
        read_panel(wide.assign(s1=wide["s1"].where(wide.index != 80)), cfg)      # a gap inside: as before
    empty = read_panel(wide.assign(s3=np.nan), cfg)                              # a column without a value:
    assert empty.ids == ["s0", "s1", "s2"] and empty.skipped == [{"id": "s3", "length": 0,   # named, as before
                                                                  "reason": "no target values"}]


def test_a_bad_cell_of_a_wide_file_is_named_by_the_files_own_line(tmp_path):
    """A bad cell of a wide file (a series column or a shared input) was named as a row of the
    long table made from it ("data row 41", counted once per series); it is named by the file's
    line (CSV), its sheet row (Excel), or its row in a frame given in memory."""
    from lstmkit.tasks.forecast.config import ForecastConfig
    cfg = ForecastConfig(format="wide", time="time", features=["temp"])
    wide = panel_frame(lengths=(60, 60, 60)).pivot(index="time", columns="store", values="y").reset_index()
    wide = wide.rename_axis(columns=None).assign(temp=np.linspace(0.0, 1.0, 60)).astype({"s1": object, "temp": object})
    cases = [("s1", "oops", r"column 's1' is not numeric: found 'oops' in"),
             ("temp", "oops", r"column 'temp' is not numeric: found 'oops' in"),
             ("temp", 1e300, r"column 'temp' holds 1e\+300 in")]
    for column, cell, words in cases:
        bad = wide.assign(**{column: wide[column].where(wide.index != 40, cell)})
        bad.to_csv(tmp_path / "wide.csv", index=False)
        bad.to_excel(tmp_path / "wide.xlsx", index=False)
        for data, place in ((tmp_path / "wide.csv", "line 42"), (tmp_path / "wide.xlsx", "sheet row 42"),
                            (bad, "data row 41")):
            with pytest.raises(LstmkitError, match=rf"{words} {place}\b.*\b1 (non-numeric|such) cell\)"):
                read_panel(data, cfg)
    with pytest.raises(LstmkitError, match="'note' holds text"):       # a column of words is no series
        read_panel(wide.assign(note="x"), cfg)


# -- the global model: fit, report, predict, save/load ------------------------------------------
@pytest.fixture(scope="module")
def global_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    df = panel_frame(lengths=(160, 200, 240, 20))                     # s3 is too short: skipped
    with pytest.warns(UserWarning, match="1 series skipped"):
        f = Forecaster(lookback=24, horizon=4, max_epochs=25, id_embedding=4, **QUICK).fit(
            df, target="y", time="time", id="store", out=out)
    return f, df


def test_a_save_elsewhere_keeps_the_per_series_metrics_beside_metrics_json(global_run, tmp_path):
    """``load(run).save(other)`` (and the fitted model's own ``save``) wrote metrics.json and left out
    metrics_per_series.csv, the rows its means are taken over."""
    f, _ = global_run
    table = pd.read_csv(f.run_dir_ / "metrics_per_series.csv")
    for est, folder in ((Forecaster.load(f.run_dir_), tmp_path / "copy"), (f, tmp_path / "fitted")):
        est.save(folder)
        assert json.loads((folder / "metrics.json").read_text()) == json.loads((f.run_dir_ / "metrics.json").read_text())
        pd.testing.assert_frame_equal(pd.read_csv(folder / "metrics_per_series.csv"), table)


def test_global_model_learns_every_series_and_reports_the_skipped(global_run):
    f, df = global_run
    m = f.metrics_
    assert m["series"] == 3 and [s["id"] for s in m["skipped"]] == ["s3"]
    assert m["skipped"][0]["length"] == 20 and m["skipped"][0]["need"] == 24 + 4 + 4 + 4
    assert m["metrics"]["lstm"]["MASE"] < m["metrics"]["naive"]["MASE"]   # beats naive, averaged over series
    assert set(m["metrics"]) == {"lstm", "naive", "seasonal_naive", "ets"}
    per = pd.read_csv(f.run_dir_ / "metrics_per_series.csv")
    assert set(per["id"]) == {"s0", "s1", "s2"} and set(per["model"]) >= {"lstm", "naive"}
    meta = json.loads((f.run_dir_ / "lstmkit.json").read_text())
    scalers = meta["preprocessing"]["panel_scaler"]["series"]
    assert set(scalers) == {"s0", "s1", "s2"}
    # minmax per series on its own train part: level 100k, amplitude k + 1
    assert scalers["s2"]["loc"][0] == pytest.approx(200 - 3, abs=0.2)
    assert scalers["s2"]["scale"][0] == pytest.approx(6, abs=0.3)
    assert (f.run_dir_ / "plots" / "forecast.png").stat().st_size > 0


def test_ids_written_in_another_case_are_named_with_the_trained_id(global_run):
    """Next month's file writes the store ids in capitals: each is a series the run never saw (its
    learned embedding and scaling unused), which the warning said without the likely cause."""
    f, df = global_run
    shouted = df[df["store"] != "s3"].assign(store=df["store"].str.upper())
    with pytest.warns(UserWarning, match=r"^3 series not in the training data \(e\.g\. 'S0'; the run knows 's0', 's1', "
                                         r"'s2'\): forecast with their own history's scaling; 3 of them differ "
                                         r"from a trained id only in case or spaces \(e\.g\. 'S0' for 's0'\): write the "
                                         r"ids as the training data did"):
        f.predict(shouted)
    with pytest.warns(UserWarning) as said:
        f.predict(df.assign(store=df["store"].replace({"s0": "new"})))
    assert [str(w.message).endswith("history's scaling") for w in said if "not in the training" in str(w.message)] == [True]
    # evaluate's means took such series in without a word (a user comparing runs on next month's file)
    with pytest.warns(UserWarning, match=r"^3 series not in the training data \(e\.g\. 'S0'; .* 'S0' for 's0'"):
        f.evaluate(shouted)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f.evaluate(df[df["store"] != "s3"])                               # the trained series: nothing to say


def test_global_predict_one_forecast_per_series_in_each_series_units(global_run):
    f, df = global_run
    with pytest.warns(UserWarning) as said:            # the short series is forecast too, and is named as rough
        pred = f.predict(df)
    said = [str(w.message) for w in said]
    assert any(m.startswith("1 series shorter than the lookback of 24 (e.g. 's3': 20 rows)") for m in said)
    assert any(m.startswith("1 series not in the training data (e.g. 's3'") for m in said)   # skipped in training
    assert list(pred.columns) == ["store", "time", "step", "y"]
    assert list(pred.groupby("store").size()) == [4, 4, 4, 4]
    last = df.groupby("store")["time"].max()
    first = pred[pred["step"] == 1].set_index("store")["time"]
    assert all(first[k] == last[k] + pd.Timedelta(hours=1) for k in ["s0", "s1", "s2"])
    means = pred.groupby("store")["y"].mean()
    for k in range(3):                                                   # each series in its own range
        assert abs(means[f"s{k}"] - 100 * k) < k + 1.5
    again = Forecaster.load(f.run_dir_).predict(df)
    assert np.allclose(again["y"], pred["y"])


def test_a_series_that_ended_long_before_the_others_is_named_with_its_last_time(global_run):
    """A store that stopped long ago was forecast the steps after its own end, times the table is long
    past, among the others' next steps, without a word; series that end together, or a step or two apart
    (less than the horizon of 4), are forecast without one."""
    f, df = global_run
    df = df[df["store"] != "s3"]
    aligned = pd.concat([g.assign(time=g["time"] - g["time"].max() + df["time"].max()) for _, g in df.groupby("store")])
    ragged = aligned[~((aligned["store"] == "s0") & (aligned["time"] > aligned["time"].max() - pd.Timedelta(hours=3)))]
    for data in (aligned, ragged):
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            f.predict(data)
        assert not [w for w in said if "before the newest data" in str(w.message)]
    stopped = aligned[~((aligned["store"] == "s1") & (aligned["time"] > aligned["time"].max() - pd.Timedelta(days=2)))]
    with pytest.warns(UserWarning, match=r"^1 series ends a horizon or more before the newest data \('s1': last time "
                                         r"2024-01-08T23:00:00, while 's0' runs to 2024-01-10T23:00:00\): its forecast "
                                         r"is the 4 steps after its own end, all at or before 2024-01-10T23:00:00; send "
                                         r"its recent rows, or leave it out of the data$") as said:
        pred = f.predict(stopped)
    assert said[0].filename == __file__                       # the caller's line
    assert pred.groupby("store")["time"].max()["s1"] == pd.Timestamp("2024-01-09 03:00")    # forecast as before


def test_series_a_fitted_run_leaves_out_are_named_not_dropped_in_silence(global_run):
    """A series with no target value had no forecast row, and one too short for evaluate no metric, without a word."""
    f, df = global_run
    blank = df[df["store"] == "s0"].assign(store="blank", y=np.nan)
    with pytest.warns(UserWarning, match=r"1 series left out \(e.g. 'blank': no target value\)"):
        pred = f.predict(pd.concat([df[df["store"] != "s3"], blank]))
    assert set(pred["store"]) == {"s0", "s1", "s2"}
    with pytest.warns(UserWarning, match=r"1 series left out \(e.g. 's3': 20 points, fewer than the 36 needed\)"):
        f.evaluate(df)



def test_a_series_the_run_never_learned_is_scaled_on_its_training_part_when_its_test_part_is_scored(global_run):
    """evaluate and test_forecasts scaled a series the run had not learned on its whole history, test part
    included: its test values x1000 moved the forecast of a window whose inputs end before them. predict,
    which scores nothing, still scales such a series on all the history it is given."""
    f, df = global_run
    new = df[df["store"] == "s1"].assign(store="new")
    data = pd.concat([df[df["store"] == "s0"], new], ignore_index=True)
    n_train, n_val = 200 - 8, 4                                # an id column: a horizon each for val and test
    big = data.copy()
    big.loc[(big["store"] == "new") & (big.groupby("store").cumcount() >= n_train + n_val), "y"] *= 1000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before, after = f.test_forecasts(data), f.test_forecasts(big)
        predicted = [f.predict(d)["y"] for d in (data, big)]
    first = (before["ids"] == "new") & (before["origins"] == n_train + n_val - 1)   # inputs end before the test part
    assert first.sum() == 1
    np.testing.assert_array_equal(before["forecast"][first], after["forecast"][first])
    assert not np.allclose(*predicted)                                            # predict: the whole history


def test_a_metric_undefined_on_some_series_says_its_mean_leaves_them_out(global_run):
    """A constant series' MASE (inf) and a zero series' MAPE (NaN) left the means over series without a word."""
    f, df = global_run
    df = df[df["store"] != "s3"].copy()
    df.loc[df["store"] == "s1", "y"] = 5.0
    df.loc[df["store"] == "s2", "y"] = 0.0
    with pytest.warns(UserWarning) as said:
        m = f.evaluate(df)
    said = [str(w.message) for w in said]
    assert "MASE is undefined for 2 of 3 series (e.g. 's1': its training part repeats itself exactly); its mean is " \
           "over the other series" in said
    assert any(w.startswith("MAPE is undefined for 1 of 3 series (e.g. 's2': every actual value is 0)") for w in said)
    assert np.isfinite(m["lstm"]["MASE"]) and np.isfinite(m["lstm"]["MAPE"])


def test_global_runs_stream_each_series_under_its_id(global_run):
    f, df = global_run
    s = f.stream(mode="window")
    part = df[df["store"] == "s1"]
    last = s.run(part["y"].tolist(), id="s1")[-1]
    np.testing.assert_allclose(last[:, 0], f.predict(part)["y"], rtol=1e-9, atol=0)
    with pytest.raises(LstmkitError, match="unknown series 's3'"):    # skipped in training: not known
        s.step(1.0, id="s3")


# -- strategies on a pure sine -----------------------------------------------------------------
@pytest.mark.parametrize("strategy", ["direct", "recursive", "seq2seq"])
def test_every_strategy_forecasts_a_pure_sine_almost_exactly(strategy):
    t = np.arange(500)
    df = pd.DataFrame({"y": np.sin(2 * np.pi * t / 20)})
    # one network (ensemble=1): the default 15-seed median took 15x the time, and one seed is
    # already within 0.0004-0.0062 MAE for seeds 0-2 (the seed ensemble has tests of its own)
    f = Forecaster(lookback=20, horizon=5, hidden_size=32, num_layers=1, dropout=0.0, max_epochs=30,
                   batch_size=32, lr=1e-2, patience=30, strategy=strategy, relative=False, scaler="none",
                   ets=False, ensemble=1, progress="off", tensorboard=False, device="cpu",
                   doctor=False).fit(df, target="y")
    m = f.metrics_["metrics"]
    assert m["lstm"]["MAE"] < 0.02, m                                   # amplitude 1
    assert m["naive"]["MAE"] > 0.3


def test_recursive_strategy_refuses_past_only_covariates():
    df = panel_frame()
    df["promo"] = 1.0
    with pytest.raises(LstmkitError, match="recursive strategy cannot use past-only covariates"):
        Forecaster(lookback=10, horizon=3, strategy="recursive", past_covariates=["promo"], max_epochs=1,
                   **QUICK).fit(df, target="y", time="time", id="store")


# -- covariates --------------------------------------------------------------------------------
def _driven_frame(n=500, seed=1):
    """y_t = 3 x_t with x random but known in advance: only the future covariate can tell."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    return pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="D"), "x": x, "y": 3 * x})


@pytest.mark.parametrize("strategy", ["direct", "seq2seq"])
def test_future_covariates_carry_the_information_they_hold(strategy):
    df = _driven_frame()
    # one network per fit (QUICK): the ratio is ~0.01 for seeds 0-2
    kw = dict(QUICK, lookback=8, horizon=3, max_epochs=25, relative=False, ets=False, strategy=strategy,
              batch_size=16)
    with_x = Forecaster(future_covariates=["x"], **kw).fit(df, target="y", time="time")
    without = Forecaster(**kw, past_covariates=["x"]).fit(df, target="y", time="time")
    assert with_x.metrics_["metrics"]["lstm"]["MAE"] < 0.35 * without.metrics_["metrics"]["lstm"]["MAE"]
    # predict: the rows after the last target carry x for the horizon
    future = pd.DataFrame({"time": pd.date_range(df["time"].iloc[-1], periods=4, freq="D")[1:],
                           "x": [1.0, -1.0, 0.5], "y": np.nan})
    pred = with_x.predict(pd.concat([df, future], ignore_index=True))
    assert np.allclose(pred["y"], [3.0, -3.0, 1.5], atol=0.8)
    with pytest.raises(LstmkitError, match=r"cover 2 of the 3 horizon steps"):
        with_x.predict(pd.concat([df, future.iloc[:2]], ignore_index=True))


def test_calendar_features_from_the_time_index():
    times = pd.to_datetime(["2024-01-01 06:00", "2024-07-04 18:00", "2024-07-05 00:00"]).to_numpy()
    f = calendar_features(times, ["hour", "weekday", "month", "holidays:US"])
    assert f.shape == (3, 7)
    assert np.allclose(f[0, :2], [1.0, 0.0], atol=1e-12)                  # 06:00 -> sin 1, cos 0
    assert np.allclose(f[1, :2], [-1.0, 0.0], atol=1e-12)                 # 18:00
    assert f[0, 2:4] == pytest.approx([0.0, 1.0])                         # Monday
    assert list(f[:, 6]) == [1.0, 1.0, 0.0]                               # New Year, Independence Day


def test_calendar_features_reach_into_the_forecast():
    n = 24 * 40
    time = pd.date_range("2024-01-01", periods=n, freq="h")
    y = np.where(time.hour.to_numpy() == 7, 5.0, 0.0) + 0.01 * np.random.default_rng(0).standard_normal(n)
    df = pd.DataFrame({"time": time, "y": y})
    f = Forecaster(lookback=6, horizon=12, calendar=["hour"], max_epochs=25, relative=False, ets=False,
                   **QUICK).fit(df, target="y", time="time")
    pred = f.predict(df)                                                   # future times generated (hourly)
    peak = pred.loc[pred["y"].idxmax(), "time"]
    assert peak.hour == 7 and pred["y"].max() > 3


# -- probabilistic output ----------------------------------------------------------------------
def test_quantile_output_never_crosses():
    out = Output("quantile", [0.05, 0.1, 0.5, 0.9, 0.95])
    q = out.transform(10 * torch.randn(64, 6, 2, 5))
    assert torch.all(q[..., 1:] > q[..., :-1])
    assert out.point(q).shape == (64, 6, 2)


@pytest.mark.parametrize("levels, median", [([0.1, 0.9], [5.0]), ([0.25, 0.75], [5.0]), ([0.1, 0.3, 0.9], [5.0]),
                                            ([0.1, 0.5, 0.9], [3.0]), ([0.8, 0.9], [1.0]),
                                            ([0.25, 0.5], [9.0]), ([0.5], [1.0])])          # 0.5 the top or only level
def test_the_point_forecast_of_quantiles_is_their_median(levels, median):
    """Of levels 0.1, 0.9 the point forecast (predict's target column, the MAE's, a recursive roll-out's
    next input) was the 0.1 quantile, the level nearest 0.5 taken first; it is the median, interpolated at
    0.5 between the levels either side of it (levels all above 0.5: the nearest stands in)."""
    q = torch.tensor({1: [[1.0]], 2: [[1.0, 9.0]], 3: [[1.0, 3.0, 9.0]]}[len(levels)], dtype=torch.float64)
    assert Output("quantile", levels).point(q).tolist() == pytest.approx(median)


def test_pinball_and_crps_match_known_values():
    y = np.zeros((1000, 1, 1))
    rng = np.random.default_rng(0)
    y[:, 0, 0] = rng.standard_normal(1000)
    params = np.zeros((1000, 1, 1, 2))
    params[..., 1] = 1.0                                                   # N(0, 1), the true law
    m = probabilistic_metrics("gaussian", params, y, [0.1, 0.5, 0.9])
    assert m["coverage_80"] == pytest.approx(0.8, abs=0.04)
    # E CRPS(N(0,1), y ~ N(0,1)) = 1/sqrt(pi)
    assert m["CRPS"] == pytest.approx(1 / np.sqrt(np.pi), abs=0.03)
    q = np.broadcast_to(np.array([-1.2816, 0.0, 1.2816]), (1000, 1, 1, 3)).copy()
    mq = probabilistic_metrics("quantile", q, y, [0.1, 0.5, 0.9])
    assert mq["coverage_80"] == pytest.approx(m["coverage_80"])
    loss = Output("quantile", [0.1, 0.5, 0.9]).loss(torch.zeros(1, 1, 1, 3), torch.ones(1, 1, 1))
    assert float(loss) == pytest.approx((0.1 + 0.5 + 0.9) / 3)


def test_a_panels_probabilistic_scores_pool_every_test_point_and_its_record_says_so(tmp_path):
    """metrics.json said 'mean over series of each series' metric' beside a wQL, CRPS and coverage pooled
    over every test point: a user averaging each series' wQL by hand got another number."""
    df = panel_frame(lengths=(120, 200), noise=0.3)
    f = Forecaster(lookback=12, horizon=3, max_epochs=2, ets=False, combine="none", quantiles=[0.1, 0.5, 0.9],
                   **QUICK).fit(df, target="y", time="time", id="store", out=tmp_path)
    m, fc = f.metrics_, f.test_forecasts(df)
    a, q, lv = fc["actual"][..., 0], fc["quantiles"][..., 0, :], np.array(fc["levels"])
    pin = np.maximum(lv * (a[..., None] - q), (lv - 1) * (a[..., None] - q))        # [n, H, Q]
    lstm = m["metrics"]["lstm"]
    assert lstm["wQL"] == pytest.approx(np.mean(2 * pin.reshape(-1, 3).sum(0) / np.abs(a).sum()))
    assert lstm["CRPS"] == pytest.approx(2 * pin.mean())
    assert lstm["coverage_80"] == pytest.approx(np.mean((a >= q[..., 0]) & (a <= q[..., 2])))
    assert "coverage, wQL and CRPS pool every test point of every series" in m["aggregate"]


def test_a_probabilistic_backtest_scores_the_quantiles_predict_shows_in_every_fold(monkeypatch):
    """A quantile run's backtest gave MAE .. MASE only: no coverage, wQL or CRPS of its intervals in any fold.
    Each fold row now has them, of the quantiles predict shows from that fold's history, the one-pass lane
    and the fold-by-fold path alike; the aggregate is their mean over folds."""
    from lstmkit.tasks.forecast import backtest as backtest_module
    df = panel_frame(lengths=(90, 110), noise=0.3)
    f = Forecaster(lookback=12, horizon=3, max_epochs=1, ets=False, combine="none", quantiles=[0.1, 0.5, 0.9],
                   **QUICK).fit(df, target="y", time="time", id="store")
    res = f.backtest(df, folds=2)
    lstm = [r for r in res["folds"] if r["model"] == "lstm"]
    for k, row in enumerate(lstm):
        history, actual = [], []
        for _, g in df.groupby("store", sort=False):
            cut = len(g) - 3 - 3 * (1 - k)
            history.append(g.iloc[:cut])
            actual.append(g["y"].to_numpy()[cut:cut + 3])
        pred = f.predict(pd.concat(history))
        a, q = np.concatenate(actual), pred[["y_q0.1", "y_q0.5", "y_q0.9"]].to_numpy()
        lv = np.array([0.1, 0.5, 0.9])
        pin = np.maximum(lv * (a[:, None] - q), (lv - 1) * (a[:, None] - q))
        assert row["wQL"] == pytest.approx(np.mean(2 * pin.sum(0) / np.abs(a).sum()))
        assert row["CRPS"] == pytest.approx(2 * pin.mean())
        assert row["coverage_80"] == pytest.approx(np.mean((a >= q[:, 0]) & (a <= q[:, 2])))
    assert res["aggregate"]["lstm"]["wQL"] == pytest.approx(np.mean([r["wQL"] for r in lstm]))
    assert "wQL" not in next(r for r in res["folds"] if r["model"] == "naive")
    monkeypatch.setattr(backtest_module, "fold_forecasts", lambda *args: None)       # fold by fold, through predict
    slow = f.backtest(df, folds=2)
    scores = lambda rows: [[r[k] for k in ("wQL", "CRPS", "coverage_80")] for r in rows if r["model"] == "lstm"]
    np.testing.assert_allclose(scores(slow["folds"]), scores(res["folds"]), rtol=1e-6)


def test_wql_is_undefined_when_every_actual_value_is_zero():
    """Its weight sum |y| is 0: the unweighted pinball sum was reported as wQL (3.8 on a series of zeros)."""
    q = np.broadcast_to(np.array([-1.0, 0.1, 1.0]), (20, 1, 1, 3)).copy()
    m = probabilistic_metrics("quantile", q, np.zeros((20, 1, 1)), [0.1, 0.5, 0.9])
    assert np.isnan(m["wQL"]) and m["CRPS"] > 0 and m["coverage_80"] == 1.0
    y = np.zeros((20, 1, 1))
    y[3] = 2.0                                                             # one value: defined again
    assert np.isfinite(probabilistic_metrics("quantile", q, y, [0.1, 0.5, 0.9])["wQL"])


@pytest.mark.parametrize("kw", [dict(quantiles=[0.1, 0.5, 0.9]), dict(likelihood="gaussian"),
                                dict(likelihood="studentt")])
def test_probabilistic_models_report_calibrated_intervals(kw, tmp_path):
    rng = np.random.default_rng(3)
    n = 700
    t = np.arange(n)
    df = pd.DataFrame({"y": np.sin(2 * np.pi * t / 10) + 0.3 * rng.standard_normal(n)})
    f = Forecaster(lookback=10, horizon=2, max_epochs=20, relative=False, ets=False, **QUICK, **kw).fit(
        df, target="y", out=tmp_path)
    m = f.metrics_["metrics"]["lstm"]
    assert 0.6 < m["coverage_80"] < 0.95, m
    assert m["CRPS"] < 0.35 and m["wQL"] > 0
    pred = f.predict(df)
    assert list(pred.columns) == ["step", "y", "y_q0.1", "y_q0.5", "y_q0.9"]
    assert (pred["y_q0.1"] < pred["y_q0.5"]).all() and (pred["y_q0.5"] < pred["y_q0.9"]).all()
    width = (pred["y_q0.9"] - pred["y_q0.1"]).mean()
    assert 0.5 < width < 1.3                                               # 2 * 1.28 * 0.3 = 0.77
    assert Forecaster.load(f.run_dir_).predict(df).equals(pred)


@pytest.mark.parametrize("qs, words", [("0.1,1.5", "strictly between 0 and 1, got 1.5"),
                                       ("0.5,1", r"strictly between 0 and 1, got 1\b"), ("0,0.5", "got 0"),
                                       ("0.9,0.1", "sorted ascending"), ("0.5,0.5", "without repeats"),
                                       # levels that print alike shared one column (one forecast overwrote the other)
                                       ("0.1,0.10000001,0.9", r"^quantile levels are named by 6 significant digits: "
                                                              r"0.1 and 0.10000001 both read 0.1 \(forecast column "
                                                              r"<target>_q0.1\) — pass levels that differ in"),
                                       ("0.333333,0.3333334", "0.333333 and 0.3333334 both read 0.333333"),
                                       ("0.5,0.9999999", r"0.9999999 reads 1 \(forecast column <target>_q1\)"),
                                       ("0.1,0.102,0.898,0.9", r"^the central intervals 0.1-0.9 and 0.102-0.898 "
                                                               r"would both be scored as coverage_80")])
def test_bad_quantiles(qs, words):
    with pytest.raises(LstmkitError, match=words):
        check_quantiles(qs)


# -- backtesting -------------------------------------------------------------------------------
def test_backtest_fixed_and_refit(tmp_path):
    df = panel_frame(lengths=(150, 180))
    f = Forecaster(lookback=24, horizon=4, max_epochs=8, ets=False, target="y", **QUICK)
    told = []                                                             # what a user is told before each training
    res = f.backtest(df[df["store"] == "s0"][["y"]], folds=3, step=2, out=tmp_path / "bt",
                     log=told.append)                                     # unfitted: trained once
    assert told == ["training one model on the history before the first of 3 cutoffs"]
    bt = pd.read_csv(tmp_path / "bt" / "backtest.csv")
    assert sorted(bt["fold"].unique()) == [1, 2, 3] and set(bt["model"]) == {"lstm", "naive", "seasonal_naive"}
    assert (bt["series"] == 1).all()                                      # no id: one series
    assert (tmp_path / "bt" / "plots" / "backtest.png").stat().st_size > 0
    assert set(res["aggregate"]) == {"lstm", "naive", "seasonal_naive"}
    # with the id: per series folds; the naive baseline repeats the value at the cutoff
    g = Forecaster(lookback=24, horizon=4, max_epochs=8, ets=False, id="store", time="time", target="y", **QUICK)
    res = g.backtest(df, folds=2, refit=True, out=tmp_path / "bt2", log=told.append)
    # each fold after the first says how long the folds left take at the pace so far (a 10-fold refit said nothing)
    assert told[1] == "fold 1/2: training on the history before its cutoff"
    assert re.fullmatch(r"fold 2/2: training on the history before its cutoff \(ETA \d+ s for the 1 fold left\)",
                        told[2]), told
    rows = {(r["fold"], r["model"]): r for r in res["folds"]}
    assert rows[(1, "naive")]["series"] == 2
    s0 = df[df["store"] == "s0"]["y"].to_numpy()
    s1 = df[df["store"] == "s1"]["y"].to_numpy()
    mae = np.mean([np.abs(s[-4:] - s[-5]).mean() for s in (s0, s1)])   # fold 2: last 4 points
    assert rows[(2, "naive")]["MAE"] == pytest.approx(mae)
    assert json.loads((tmp_path / "bt2" / "backtest.json").read_text())["settings"]["refit"] is True


@pytest.mark.filterwarnings("ignore:.*forecast points before the run's test part:UserWarning")  # the folds it trained on
def test_a_series_too_short_for_the_folds_is_left_out_of_a_many_series_backtest_by_name(tmp_path):
    """One new store of 10 rows among many stopped the whole backtest with 'a series of 10 points is too
    short for 3 folds', naming neither the store nor the points it needed; evaluate leaves such a series
    out with a warning naming it, and the backtest now does too."""
    df = panel_frame(lengths=(150, 180, 10))
    f = Forecaster(lookback=24, horizon=4, max_epochs=1, ets=False, **QUICK).fit(
        df[df["store"] != "s2"], id="store", time="time", target="y")
    with pytest.warns(UserWarning, match=r"^1 series left out \(e.g. 's2': 10 points, fewer than the 14 needed\); "
                                         r"the result covers the other series$"):
        res = f.backtest(df, folds=3, out=tmp_path / "bt")
    assert {r["series"] for r in res["folds"]} == {2}
    assert res["skipped"] == [{"id": "s2", "length": 10, "need": 14, "reason": "shorter than needed"}]
    assert json.loads((tmp_path / "bt" / "backtest.json").read_text())["skipped"][0]["id"] == "s2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = f.backtest(df[df["store"] != "s2"], folds=3)
    assert alone["aggregate"] == res["aggregate"]                       # the others scored as without it
    with pytest.raises(LstmkitError, match=r"^every series is \(the longest, 's0', has 12 points\) too short for "
                                           r"3 folds of horizon 4 and step 4, which need 14 — use fewer folds="):
        f.backtest(df.groupby("store").head(12), folds=3)
    with pytest.raises(LstmkitError, match=r"^a series of 12 points is too short for 3 folds"):
        f.backtest(df[df["store"] == "s0"].head(12), folds=3)
    # a fold's cutoff (its first forecast time) was said of one series only; series that end together share it,
    # series that end at different times (s0 150 hours, s1 180) have none
    assert {r["cutoff"] for r in alone["folds"]} == {None}
    together = df[(df["store"] != "s2") & (df["time"] < pd.Timestamp("2024-01-01") + pd.Timedelta(hours=150))]
    cutoffs = [r["cutoff"] for r in f.backtest(together, folds=3)["folds"] if r["model"] == "lstm"]
    assert cutoffs == [(pd.Timestamp("2024-01-01") + pd.Timedelta(hours=h)).isoformat() for h in (138, 142, 146)]


# -- the CLI: many series and every bad input ---------------------------------------------------
@pytest.fixture
def panel_csv(tmp_path):
    path = tmp_path / "stores.csv"
    panel_frame(lengths=(120, 140, 15)).to_csv(path, index=False)
    return path


@pytest.mark.filterwarnings("ignore:1 series skipped")
def test_cli_train_many_series_reports_skips_and_predicts(panel_csv, tmp_path, capsys):
    code, out, err = run_cli(["forecast", "train", "--data", panel_csv, "--id", "store", "--time", "time",
                              "--target", "y", "--lookback", "12", "--horizon", "3", "--quantiles", "0.1,0.5,0.9",
                              "--out", tmp_path / "runs", *CLI_QUICK], capsys)
    assert code == 0, err
    assert "2 series" in out and "skipped 1 series" in out and "'s2'" in out and "coverage_80" in out
    run = next((tmp_path / "runs").iterdir())
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["skipped"][0]["id"] == "s2"
    code, out, err = run_cli(["forecast", "predict", "--run", run, "--data", panel_csv], capsys)
    assert code == 0, err
    assert ("warning: 2 series end a horizon or more before the newest data (e.g. 's2': last time 2024-01-01T14:00:00, "
            "while 's1' runs to 2024-01-06T19:00:00): their forecasts are the 3 steps after their own end") in err
    pred = pd.read_csv(pd.io.common.StringIO(out))
    assert list(pred.columns) == ["store", "time", "step", "y", "y_q0.1", "y_q0.5", "y_q0.9"] and len(pred) == 9
    code, out, err = run_cli(["forecast", "backtest", "--run", run, "--data", panel_csv, "--folds", "2"], capsys)
    assert code == 0, err
    assert "mean over 2 folds" in out and (run / "backtest" / "backtest.csv").exists()


def test_many_series_whose_steps_vary_are_one_warning_in_cli_and_python(tmp_path, capsys):
    parts = []
    for k in range(5):                       # three of five series step 1-3 days at random (median 2), two by 2
        steps = np.random.default_rng(k).integers(1, 4, 79) if k < 3 else np.full(79, 2)
        parts.append(pd.DataFrame({"store": f"s{k}", "time": pd.Timestamp("2024-01-01") + pd.to_timedelta(
            np.r_[0, np.cumsum(steps)], unit="D"), "y": np.sin(np.arange(80) / 4 + k)}))
    df = pd.concat(parts, ignore_index=True)
    df.to_csv(tmp_path / "uneven.csv", index=False)
    code, out, err = run_cli(["forecast", "train", "--data", tmp_path / "uneven.csv", "--id", "store", "--time", "time",
                              "--target", "y", "--lookback", "8", "--horizon", "2", "--out", tmp_path / "runs",
                              *CLI_QUICK], capsys)
    assert code == 0, err
    assert (err.count("warning: time column 'time' steps unevenly in 3 of 5 series ('s0': 1 day to 3 days, median 2 "
                      "days; 's1'") == 1), err
    with warnings.catch_warnings(record=True) as caught:       # Python: the table read for the choices says nothing
        warnings.simplefilter("always")
        Forecaster(lookback=8, horizon=2, max_epochs=1, **QUICK).fit(df, target="y", time="time", id="store",
                                                                     out=tmp_path / "py")
    said = [str(w.message) for w in caught if "steps unevenly" in str(w.message)]
    assert len(said) == 1 and "in 3 of 5 series" in said[0], said


def test_cli_m4_format(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = []
    for k, n in enumerate((60, 75, 90)):
        vals = 50 + 10 * k + np.cumsum(rng.standard_normal(n))
        rows.append(",".join([f'"W{k + 1}"'] + [f'"{v:.2f}"' for v in vals]))
    width = 91
    header = ",".join(f'"V{j}"' for j in range(1, width + 1))
    path = tmp_path / "Weekly-train.csv"
    path.write_text("\n".join([header] + [r + "," * (width - 1 - r.count(",")) for r in rows]) + "\n")
    code, out, err = run_cli(["forecast", "train", "--data", path, "--format", "m4", "--lookback", "13",
                              "--horizon", "4", "--season", "1", "--out", tmp_path / "runs", *CLI_QUICK], capsys)
    assert code == 0, err
    assert "3 series" in out
    run = next((tmp_path / "runs").iterdir())
    code, out, err = run_cli(["forecast", "predict", "--run", run, "--data", path], capsys)
    assert code == 0 and len(out.splitlines()) == 1 + 3 * 4, err
    assert "before the newest data" not in err             # each series' steps count from its own start
    # the run's test forecasts name the series' step numbers as predict does ('time' there, 't' here, before)
    assert out.splitlines()[0] == "id,t,step,value"
    assert list(pd.read_csv(run / "test_forecasts.csv").columns[:5]) == ["id", "origin", "step", "t", "actual"]


def _m4_file(path, lengths, season=12):
    """An M4 wide file of seasonal series at ``path`` (ragged rows, quoted cells, as the competition's)."""
    rng = np.random.default_rng(1)
    width = max(lengths) + 1
    rows = []
    for k, n in enumerate(lengths):
        t = np.arange(n)
        vals = 100 + 10 * k + 20 * np.sin(2 * np.pi * t / season) + rng.standard_normal(n)
        rows.append(",".join([f'"M{k + 1}"'] + [f'"{v:.2f}"' for v in vals]))
    header = ",".join(f'"V{j}"' for j in range(1, width + 1))
    path.write_text("\n".join([header] + [r + "," * (width - 1 - r.count(",")) for r in rows]) + "\n")
    return path


def test_m4_file_name_gives_season_and_horizon(tmp_path, capsys):
    # An M4 file's columns hold no time: its name is what says the series are monthly. Without it a
    # Monthly file ran at season 1 (seasonal naive = naive, MASE scaled by the last month) and horizon 1.
    path = _m4_file(tmp_path / "Monthly-train.csv", (130, 140, 150))
    code, out, err = run_cli(["forecast", "train", "--data", path, "--format", "m4", "--lookback", "24",
                              "--out", tmp_path / "runs", *CLI_QUICK], capsys)
    assert code == 0, err
    assert "horizon 18: the M4 competition's for the monthly file Monthly-train.csv" in err, err
    assert "horizon 18, season 12" in out, out
    run = next((tmp_path / "runs").iterdir())
    fitted = Forecaster.load(run)
    assert fitted.config_.season == 12 and fitted.config_.horizon == 18
    # A horizon of one's own is kept, with a word that scores will not compare with the competition's.
    with pytest.warns(UserWarning, match="differs from the M4 competition's 18"):
        f = Forecaster(format="m4", horizon=6, lookback=24, max_epochs=1, **QUICK).fit(path, out=tmp_path / "own")
    assert f.config_.season == 12 and f.config_.horizon == 6
    # So is a season of one's own; a file named otherwise says nothing and keeps the defaults.
    with pytest.warns(UserWarning, match="differs from the M4"):
        f = Forecaster(format="m4", season=6, horizon=4, lookback=24, max_epochs=1, **QUICK).fit(path,
                                                                                                 out=tmp_path / "s")
    assert f.config_.season == 6
    other = _m4_file(tmp_path / "mine.csv", (130, 140, 150))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        f = Forecaster(format="m4", lookback=24, max_epochs=1, **QUICK).fit(other, out=tmp_path / "mine")
    assert f.config_.season is None and f.config_.horizon == 1          # unset: measured from times, of which none


BAD = [
    # (flags, words of the one error line)
    (["--id", "store", "--time", "time", "--target", "y", "--quantiles", "0.1,1.2"], "strictly between 0 and 1"),
    (["--id", "store", "--time", "time", "--target", "y", "--quantiles", "0.9,0.5"], "sorted ascending"),
    (["--id", "store", "--time", "time", "--target", "y", "--strict"], "series 's2' has 15 points"),
    (["--id", "store", "--time", "time", "--target", "y", "--strategy", "sideways"], "unknown strategy"),
    (["--id", "store", "--time", "time", "--target", "y", "--likelihood", "poisson"], "gaussian, studentt"),
    (["--id", "store", "--time", "step", "--target", "y", "--calendar", "hour"], "--calendar needs dates"),
    (["--id", "store", "--time", "time", "--target", "y", "--calendar", "fortnight"], "unknown calendar feature"),
    (["--id", "shop", "--time", "time", "--target", "y"], "id column 'shop' not found"),
    (["--id", "store", "--time", "time", "--target", "y", "--lookback", "200"], "no series has the"),
    (["--id", "store", "--time", "time", "--target", "y", "--highway", "13"], "from 0 to the lookback (12)"),
    (["--id", "store", "--time", "time", "--target", "y", "--highway", "12", "--strategy", "recursive"],
     "cannot be combined with the recursive strategy"),
    (["--id", "store", "--time", "time", "--target", "y", "--deseason", "1"], "season length >= 2"),
    (["--id", "store", "--time", "time", "--target", "y", "--highway-hidden", "8"], "needs --highway"),
    (["--id", "store", "--time", "time", "--target", "y", "--lr-schedule", "step"], "unknown lr_schedule 'step'"),
]


@pytest.mark.parametrize("flags, words", BAD)
def test_cli_bad_many_series_input(flags, words, panel_csv, tmp_path, capsys):
    df = pd.read_csv(panel_csv)
    df["step"] = df.groupby("store").cumcount()                           # integer times: no calendar
    df.to_csv(tmp_path / "panel.csv", index=False)
    code, out, err = run_cli(["forecast", "train", "--data", tmp_path / "panel.csv", "--lookback", "12", "--horizon", "3",
                              "--out", tmp_path / "runs", *CLI_QUICK, *flags], capsys)
    assert_user_error(code, err, words)
    assert not (tmp_path / "runs").exists()                               # nothing half-written


@pytest.mark.filterwarnings("ignore:1 series skipped")
def test_cli_duplicate_pairs_and_short_future_covariates(panel_csv, tmp_path, capsys):
    df = pd.read_csv(panel_csv)
    pd.concat([df, df.iloc[[7]]]).to_csv(tmp_path / "dup.csv", index=False)
    code, _, err = run_cli(["forecast", "train", "--data", tmp_path / "dup.csv", "--id", "store", "--time", "time",
                            "--target", "y", *CLI_QUICK], capsys)
    assert_user_error(code, err, "duplicate (id, time) pair", "'s0'")
    df["price"] = np.arange(len(df), dtype=float)
    df.to_csv(tmp_path / "cov.csv", index=False)
    code, out, err = run_cli(["forecast", "train", "--data", tmp_path / "cov.csv", "--id", "store", "--time", "time",
                              "--target", "y", "--future-covariates", "price", "--lookback", "12", "--horizon", "3",
                              "--out", tmp_path / "runs", *CLI_QUICK], capsys)
    assert code == 0, err
    run = next((tmp_path / "runs").iterdir())
    code, _, err = run_cli(["forecast", "predict", "--run", run, "--data", tmp_path / "cov.csv"], capsys)
    assert_user_error(code, err, "future covariates price", "cover 0 of the 3 horizon steps")


def test_backtest_of_a_single_series_run_uses_its_fixed_model(tmp_path):
    n = 300
    t = np.arange(n)
    df = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h"),
                       "y": 5 + np.sin(2 * np.pi * t / 12)})
    f = Forecaster(lookback=24, horizon=3, max_epochs=3, **QUICK).fit(df, target="y", time="time", out=tmp_path)
    assert f.series_ids_ == ["series"]                                     # one series: a panel of one
    res = f.backtest(df, folds=2, step=5)
    cut = {r["fold"]: r["cutoff"] for r in res["folds"]}
    # written as lstmkit.json writes the data's times ('2024-01-13T09:00:00'; they were '2024-01-13 09:00:00')
    assert cut == {1: df["time"].iloc[n - 3 - 5].isoformat(), 2: df["time"].iloc[n - 3].isoformat()}
    end = json.loads((f.run_dir_ / "lstmkit.json").read_text())["data"]["end"]
    assert end == df["time"].iloc[-1].isoformat() and cut[2] == "2024-01-13T09:00:00"
    assert "fixed" in res["settings"]["model"]
    # the model's fold-2 forecast is its predict() from the history before the cut
    pred = f.predict(df.iloc[:n - 3])["y"].to_numpy()
    mae = np.abs(pred - df["y"].to_numpy()[n - 3:]).mean()
    assert {(r["fold"], r["model"]): r["MAE"] for r in res["folds"]}[(2, "lstm")] == pytest.approx(mae)


def test_test_forecasts_expose_every_test_window(global_run):
    f, df = global_run
    tf = f.test_forecasts(df)
    assert tf["actual"].shape == tf["forecast"].shape == (3, 4, 1)          # one test window per series
    assert list(tf["ids"]) == ["s0", "s1", "s2"]
    s2 = df[df["store"] == "s2"]["y"].to_numpy()
    assert np.allclose(tf["actual"][2, :, 0], s2[-4:]) and tf["origins"][2] == len(s2) - 5
    mae = np.mean([np.abs(tf["actual"][k] - tf["forecast"][k]).mean() for k in range(3)])
    assert mae == pytest.approx(f.metrics_["metrics"]["lstm"]["MAE"])


def test_panel_scalers_per_series_and_json_round_trip():
    from lstmkit.tasks.forecast.scalers import PanelScaler
    y = np.array([[1.0], [3.0], [2.0], [6.0]])
    s = PanelScaler("mase").fit_one("a", y).fit_one("flat", np.ones((5, 1)))
    loc, scale = s.get("a")
    assert loc[0] == pytest.approx(3.0) and scale[0] == pytest.approx((2 + 1 + 4) / 3)
    assert s.get("flat")[1][0] == 1.0                                    # constant: its size, not 0
    for kind in ("minmax", "standard", "mase"):                         # tiny units keep their own scale
        tiny = PanelScaler(kind).fit_one("a", y * 1e-15).fit_one("flat", np.full((5, 1), 0.1))
        assert tiny.get("a")[1][0] == pytest.approx(PanelScaler(kind).fit_one("a", y).get("a")[1][0] * 1e-15)
        assert tiny.get("flat")[1][0] == 0.1                             # 0.1's rounding is not a scale
        assert PanelScaler(kind).fit_one("zero", np.zeros((5, 1))).get("zero")[1][0] == 1.0
    m = PanelScaler.from_dict(json.loads(json.dumps(PanelScaler("minmax").fit_one("a", y).to_dict())))
    assert m.get("a")[0][0] == 1.0 and m.get("a")[1][0] == 5.0
    with pytest.raises(LstmkitError, match="unknown scaler kind"):
        PanelScaler("robust")


def test_mase_scaler_measures_the_seasonal_naive_error_before_adjustment():
    from lstmkit.tasks.forecast.scalers import PanelScaler
    t = np.arange(48.0)
    raw = (10 + np.sin(2 * np.pi * t / 4) + 0.5 * t)[:, None]        # season 4, trend 0.5 per step
    adjusted = raw - np.sin(2 * np.pi * t / 4)[:, None]
    s = PanelScaler("mase", lag=4).fit_one("a", adjusted, raw)
    loc, scale = s.get("a")
    assert loc[0] == pytest.approx(adjusted.mean())
    assert scale[0] == pytest.approx(2.0)                              # |y_t - y_{t-4}| = 4 x 0.5
    assert PanelScaler("mase", lag=1).fit_one("a", raw).get("a")[1][0] == pytest.approx(np.abs(np.diff(raw[:, 0])).mean())
    short = PanelScaler("mase", lag=24).fit_one("b", raw[:10]).get("b")[1][0]    # shorter than a season
    assert short == pytest.approx(np.abs(np.diff(raw[:10, 0])).mean())
    gap = raw.copy()
    gap[5] = np.nan                                                      # missing values are left out
    assert np.isfinite(PanelScaler("mase", lag=4).fit_one("c", gap).get("c")[1][0])
    back = PanelScaler.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back.lag == 4 and back.get("a") == s.get("a")



def test_minmax_and_standard_scalers_are_per_target_column_as_scikit_learns():
    """Only one-column series were checked, where a row's minimum and a column's could not be told apart."""
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    from lstmkit.tasks.forecast.scalers import PanelScaler
    y = np.array([[1.0, 10.0], [3.0, 40.0], [2.0, 20.0], [6.0, 30.0], [4.0, 50.0]])
    loc, scale = PanelScaler("minmax").fit_one("a", y).get("a")
    ref = MinMaxScaler().fit(y)
    assert loc.shape == scale.shape == (2,)
    assert np.allclose(loc, ref.data_min_) and np.allclose(scale, ref.data_range_)
    loc, scale = PanelScaler("standard").fit_one("a", y).get("a")
    ref = StandardScaler().fit(y)
    assert loc.shape == scale.shape == (2,)
    assert np.allclose(loc, ref.mean_) and np.allclose(scale, ref.scale_)


def test_mase_scale_of_a_series_one_season_long_and_of_changes_partly_missing():
    from lstmkit.tasks.forecast.scalers import PanelScaler
    one_season = np.array([[1.0], [4.0], [2.0], [8.0]])                 # no value a season (4) before another
    assert PanelScaler("mase", lag=4).fit_one("a", one_season).get("a")[1][0] == pytest.approx((3 + 2 + 6) / 3)
    gap = np.array([[1.0], [2.0], [np.nan], [5.0], [9.0]])               # changes measured: |2 - 1|, |9 - 5|
    assert PanelScaler("mase").fit_one("b", gap).get("b")[1][0] == pytest.approx((1 + 4) / 2)
    unmeasured = np.array([[2.0], [np.nan], [-3.0], [np.nan]])         # no two neighbours: no change, its size
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                    # not numpy's 0 / 0 warning on the way
        assert PanelScaler("mase").fit_one("c", unmeasured).get("c")[1][0] == 3.0


# -- autoregressive highway ---------------------------------------------------------------------
def _shapes_frame(n_series=4, period=24, n=24 * 14, seed=3):
    """Each series repeats its own random daily shape (not a sine) at its own level, with a little noise."""
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(n_series):
        shape = rng.uniform(0, 10, period)
        y = 50 * k + np.tile(shape, n // period) + 0.05 * rng.standard_normal(n)
        parts.append(pd.DataFrame({"id": f"s{k}", "t": np.arange(n), "y": y}))
    return pd.concat(parts, ignore_index=True)


def test_highway_starts_at_zero_and_learns_to_repeat_a_daily_shape(tmp_path):
    from lstmkit.tasks.forecast.model import ForecastNet
    torch.manual_seed(0)
    plain = ForecastNet(1, 1, 6, output=Output("point"), n_future=0, n_series=2, hidden_size=8, num_layers=1, dropout=0.0)
    torch.manual_seed(0)
    hw = ForecastNet(1, 1, 6, output=Output("point"), n_future=0, n_series=2, hidden_size=8, num_layers=1, dropout=0.0,
                           highway=12)
    x = torch.randn(5, 12, 1)
    assert torch.equal(plain(x), hw(x))                # zero-initialised: the untrained forecast is unchanged

    df = _shapes_frame()
    kw = dict(lookback=48, horizon=24, max_epochs=12, patience=12, scaler="standard", season=24, ets=False, **QUICK)
    with_hw = Forecaster(highway=48, **kw).fit(df, id="id", time="t", target="y", out=tmp_path)
    without = Forecaster(**kw).fit(df, id="id", time="t", target="y")
    mae_hw, mae_plain = with_hw.metrics_["metrics"]["lstm"]["MAE"], without.metrics_["metrics"]["lstm"]["MAE"]
    snaive = with_hw.metrics_["metrics"]["seasonal_naive"]["MAE"]
    assert mae_hw < 0.2 * mae_plain, (mae_hw, mae_plain)          # the copy is one linear map away
    assert mae_hw < 1.5 * snaive                                   # ~ the noise floor of repeating the last day
    again = Forecaster.load(with_hw.run_dir_)
    assert again.config_.highway == 48
    assert np.allclose(again.predict(df)["y"], with_hw.predict(df)["y"])


def test_mlp_highway_starts_at_zero_learns_the_shape_and_round_trips(tmp_path):
    from lstmkit.tasks.forecast.model import ForecastNet
    torch.manual_seed(0)
    plain = ForecastNet(1, 1, 6, output=Output("point"), n_future=0, n_series=2, hidden_size=8, num_layers=1, dropout=0.0)
    torch.manual_seed(0)
    mlp = ForecastNet(1, 1, 6, output=Output("point"), n_future=0, n_series=2, hidden_size=8, num_layers=1, dropout=0.0,
                            highway=12, highway_hidden=16)
    x = torch.randn(5, 12, 1)
    assert torch.equal(plain(x), mlp(x))
    assert mlp.highway.mlp is not None and mlp.highway.linear.in_features == 16

    df = _shapes_frame()
    kw = dict(lookback=48, horizon=24, max_epochs=12, patience=12, scaler="standard", season=24, ets=False, **QUICK)
    fitted = Forecaster(highway=48, highway_hidden=64, **kw).fit(df, id="id", time="t", target="y", out=tmp_path)
    mae, snaive = fitted.metrics_["metrics"]["lstm"]["MAE"], fitted.metrics_["metrics"]["seasonal_naive"]["MAE"]
    # the LSTM alone stays ~40x above seasonal naive here (see the test above); the MLP gets
    # within a few times of it in 12 epochs (the linear highway copies a day exactly, faster)
    assert mae < 5 * snaive, (mae, snaive)
    again = Forecaster.load(fitted.run_dir_)
    assert again.config_.highway_hidden == 64
    assert np.allclose(again.predict(df)["y"], fitted.predict(df)["y"])


@pytest.mark.parametrize("kw,msg", [({"highway": 48, "highway_hidden": -1}, "whole number >= 0"),
                                    ({"highway": 48, "highway_hidden": 2.5}, "whole number >= 0"),
                                    ({"highway_hidden": 16}, "^highway_hidden= needs highway= .* — add highway=48, say, or "
                                                                  "drop highway_hidden=$")])
def test_mlp_highway_bad_values(kw, msg):
    with pytest.raises(LstmkitError, match=msg):
        Forecaster(lookback=48, horizon=24, **kw, **QUICK).fit(_shapes_frame(), id="id", time="t", target="y")


# -- seasonal adjustment -----------------------------------------------------------------------
def test_seasonal_profile_is_classical_decomposition():
    from statsmodels.tsa.seasonal import seasonal_decompose
    from lstmkit.tasks.forecast.scalers import seasonal_profile
    rng = np.random.default_rng(0)
    for m in (24, 7):
        true = rng.normal(0, 1, m)
        true -= true.mean()
        n = m * 20
        x = 0.01 * np.arange(n) + np.tile(true, 20) + 0.1 * rng.standard_normal(n)
        got = seasonal_profile(x[:, None], m)[:, 0]
        np.testing.assert_allclose(got, seasonal_decompose(x, period=m).seasonal[:m], atol=1e-12)
        assert np.abs(got - true).max() < 0.1
        shifted = seasonal_profile(x[5:, None], m)[:, 0]              # phase 0 is the first value given
        assert np.abs(shifted - np.roll(true, -5)).max() < 0.1
    x = np.tile([1.0, 3.0, 2.0], 10)[:, None]
    x[4] = np.nan                                                     # a gap is left out, not spread
    np.testing.assert_allclose(seasonal_profile(x, 3)[:, 0], [-1, 1, 0], atol=1e-12)
    assert not seasonal_profile(np.ones((5, 1)), 24).any()           # shorter than a season: no adjustment


def test_deseason_lets_the_lstm_forecast_a_daily_shape_and_round_trips(tmp_path):
    # An LSTM alone forecasts these repeated random daily shapes badly (~40x seasonal naive, test
    # above); with their seasonal indices removed only the level and noise are left.
    df = _shapes_frame()
    kw = dict(lookback=48, horizon=24, max_epochs=12, patience=12, scaler="standard", season=24, ets=False, **QUICK)
    fitted = Forecaster(deseason=24, **kw).fit(df, id="id", time="t", target="y", out=tmp_path)
    mae, snaive = fitted.metrics_["metrics"]["lstm"]["MAE"], fitted.metrics_["metrics"]["seasonal_naive"]["MAE"]
    assert mae < 2 * snaive, (mae, snaive)
    pred = fitted.predict(df)
    last_day = df.groupby("id")["y"].apply(lambda v: v.to_numpy()[-24:])
    for sid, g in pred.groupby("id"):
        assert np.abs(g["y"].to_numpy() - last_day[sid]).mean() < 0.5     # the shape continues after the end
    again = Forecaster.load(fitted.run_dir_)
    assert again.config_.deseason == 24
    assert np.allclose(again.predict(df)["y"], pred["y"])
    # with --log the indices are multiplicative: a shape whose amplitude scales with the level
    rng = np.random.default_rng(5)
    shape = rng.uniform(0.5, 1.5, 24)
    mult = pd.concat([pd.DataFrame({"id": f"s{k}", "t": np.arange(24 * 14),
                                    "y": (10 + 40 * k) * np.tile(shape, 14) * (1 + 0.01 * rng.standard_normal(24 * 14))})
                      for k in range(4)], ignore_index=True)
    logged = Forecaster(deseason=24, log=True, **kw).fit(mult, id="id", time="t", target="y")
    m = logged.metrics_["metrics"]
    assert m["lstm"]["MAE"] < 2 * m["seasonal_naive"]["MAE"], m


@pytest.mark.parametrize("value", [1, -24, 2.5, True])
def test_deseason_bad_values(value):
    with pytest.raises(LstmkitError, match="season length >= 2"):
        Forecaster(lookback=48, horizon=24, deseason=value, **QUICK).fit(_shapes_frame(), id="id", time="t", target="y")


@pytest.mark.parametrize("value", [49, -1, 2.5])
def test_highway_longer_than_the_window_is_an_error(value):
    with pytest.raises(LstmkitError, match="from 0 to the lookback"):
        Forecaster(lookback=48, horizon=24, highway=value, **QUICK).fit(_shapes_frame(), id="id", time="t", target="y")


# -- log targets --------------------------------------------------------------------------------
def _growth_frame(n=160, rates=(0.01, 0.02, 0.03), seed=4):
    """Exponential growth with a multiplicative daily shape: straight lines plus a fixed pattern in log."""
    rng = np.random.default_rng(seed)
    shape = 1 + 0.3 * np.sin(2 * np.pi * np.arange(n) / 12)
    parts = [pd.DataFrame({"id": f"s{k}", "t": np.arange(n),
                           "y": (5 + k) * np.exp(r * np.arange(n)) * shape * np.exp(0.005 * rng.standard_normal(n))})
             for k, r in enumerate(rates)]
    return pd.concat(parts, ignore_index=True)


def test_log_targets_follow_multiplicative_growth(tmp_path):
    df = _growth_frame()
    kw = dict(lookback=24, horizon=6, max_epochs=15, patience=15, scaler="mase", season=12, ets=False,
              **{**QUICK, "ensemble": None})          # the 15-seed median: one network is 10.8 % off at seed 1
    logged = Forecaster(log=True, **kw).fit(df, id="id", time="t", target="y", out=tmp_path)
    plain = Forecaster(**kw).fit(df, id="id", time="t", target="y")
    m_log, m_plain = logged.metrics_["metrics"]["lstm"], plain.metrics_["metrics"]["lstm"]
    assert m_log["MAE"] < 0.5 * m_plain["MAE"], (m_log, m_plain)
    tf = logged.test_forecasts(df)
    assert (tf["forecast"] > 0).all()                                   # exp: never below zero
    assert np.abs(tf["forecast"] / tf["actual"] - 1).mean() < 0.1      # within 10 % of levels 17 to 1,000
    again = Forecaster.load(logged.run_dir_)
    assert np.allclose(again.predict(df)["y"], logged.predict(df)["y"])


def test_log_targets_refuse_zero_or_negative_values_and_likelihoods():
    df = _growth_frame()
    df.loc[(df["id"] == "s1") & (df["t"] == 40), "y"] = 0.0
    # named as the frame numbers its rows (was "series 's1' has 0 at its point 41", its place in the sorted series)
    with pytest.raises(LstmkitError, match=r"column 'y' holds 0 in data row 201 \(series 's1'\): the run models") as e:
        Forecaster(lookback=24, horizon=6, log=True, **QUICK).fit(df, id="id", time="t", target="y")
    assert "train with log=False" in e.value.hint          # was 'drop --log': wrong for logs chosen from the data
    with pytest.raises(LstmkitError, match="cannot be combined with the gaussian likelihood"):
        Forecaster(lookback=24, horizon=6, log=True, likelihood="gaussian", **QUICK).fit(
            _growth_frame(), id="id", time="t", target="y")


# -- segments (SegRNN) ---------------------------------------------------------------------------
def test_segment_encoder_reads_the_window_one_season_per_step():
    from lstmkit.tasks.forecast.model import ForecastNet
    from lstmkit.tasks.forecast.probabilistic import make_output
    from lstmkit.tasks.forecast.config import ForecastConfig
    torch.manual_seed(0)
    net = ForecastNet(2, 1, 6, output=make_output(ForecastConfig()), n_future=0, n_series=3, hidden_size=8, num_layers=1,
                            dropout=0.0, segment=24).eval()
    x = torch.randn(5, 48, 2)
    seen = []
    net.encoder.register_forward_hook(lambda m, args, out: seen.append(args[0].shape))
    y = net(x)
    assert y.shape == (5, 6, 1)
    assert seen == [torch.Size([5, 2, 48])]                   # 2 steps of 24 time steps x 2 channels
    # each step is one day: permuting time inside a day changes the forecast, days stay separate
    x2 = x.clone()
    x2[:, :24] = x[:, :24].flip(1)
    assert not torch.allclose(net(x2)[:, :, 0], y[:, :, 0])


def test_segment_lstm_learns_daily_shapes_fast_and_round_trips(tmp_path):
    df = _shapes_frame()
    kw = dict(lookback=48, horizon=24, max_epochs=12, patience=12, scaler="standard", season=24, ets=False,
              **{**QUICK, "hidden_size": 64})
    fitted = Forecaster(segment=24, **kw).fit(df, id="id", time="t", target="y", out=tmp_path)
    mae, snaive = fitted.metrics_["metrics"]["lstm"]["MAE"], fitted.metrics_["metrics"]["seasonal_naive"]["MAE"]
    # one step per day: the LSTM alone (no highway, no seasonal adjustment) gets within 3x of
    # seasonal naive (measured 1.4x); reading one hour at a time, a 32-unit LSTM measured ~35x
    # above it after these 12 epochs, taking ~4x as long as this run
    assert mae < 3 * snaive, (mae, snaive)
    again = Forecaster.load(fitted.run_dir_)
    assert again.config_.segment == 24
    assert np.allclose(again.predict(df)["y"], fitted.predict(df)["y"])


@pytest.mark.parametrize("kw,msg", [({"segment": 5}, "divides the lookback"), ({"segment": -24}, "divides the lookback"),
                                    ({"segment": 24, "strategy": "recursive"}, "recursive strategy")])
def test_segment_bad_values(kw, msg):
    with pytest.raises(LstmkitError, match=msg):
        Forecaster(lookback=48, horizon=24, **kw, **QUICK).fit(_shapes_frame(), id="id", time="t", target="y")


def test_a_target_given_as_a_future_covariate_is_refused():
    """--future-covariates y with target y was dropped without a word (the user meant an input)."""
    from lstmkit.tasks.forecast.config import ForecastConfig
    df = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=60, freq="D"), "y": np.arange(60.0),
                       "x": np.ones(60)})
    with pytest.raises(LstmkitError, match="'y' is a target and a future covariate.*drop it from --future-covariates"):
        read_panel(df, ForecastConfig(target=["y"], time="time", future_covariates=["x", "y"]))
    assert read_panel(df, ForecastConfig(target=["y"], time="time", future_covariates=["x"])).future_names == ["x"]


def test_an_id_is_read_without_the_spaces_around_it():
    """'A ' (a spreadsheet cell with a trailing space) was a series of its own beside 'A', and a
    blank id ' ' a series named ' ' (only truly empty cells were refused)."""
    from lstmkit.tasks.forecast.columns import series_labels
    assert series_labels(pd.Series(["A ", " A", "b"]), "store").tolist() == ["A", "A", "b"]
    assert series_labels(pd.Series([7.0, 8.0]), "store").tolist() == ["7", "8"]
    with pytest.raises(LstmkitError, match="id column 'store' has 2 empty cells"):
        series_labels(pd.Series(["A", " ", None]), "store")
    with pytest.raises(LstmkitError, match="id column 'store' has 1 empty cell"):
        series_labels(pd.Series([7.0, np.nan]), "store")


def test_cli_backtest_json_is_the_only_standard_output_while_fold_models_train(panel_csv, tmp_path, capsys):
    cfg = tmp_path / "c.yaml"            # training shows its epochs: as log lines, off a terminal
    cfg.write_text("target: y\nid: store\ntime: time\nlookback: 12\nhorizon: 3\nhidden_size: 8\nnum_layers: 1\n"
                   "ensemble: 1\ntrain:\n  max_epochs: 1\n  progress: log\n  device: cpu\n  doctor: false\n"
                   "  tensorboard: false\n")
    code, out, err = run_cli(["forecast", "backtest", "--config", cfg, "--data", panel_csv, "--folds", "2",
                              "--refit", "--json", "--out", tmp_path / "bt"], capsys)
    assert code == 0, err
    assert json.loads(out)["settings"]["refit"] is True
    assert err.count("epoch 1/1") == 2 and "fold 2/2: training" in err


def test_cli_backtest_interrupted_in_a_fold_model_keeps_the_folds_before_and_continues(panel_csv, tmp_path, capsys,
                                                                                       monkeypatch):
    """A refit backtest trains a model a fold: Ctrl-C or SIGTERM in fold 2's training lost fold 1 ('no fold
    model is kept, nothing was written — run the command again'). Fold 1's forecasts are kept in --out as it
    ends; the same command with that --out trains fold 2 alone, and the result is the uninterrupted one's.
    (It once said 'Continue with: lstmkit <task> train', a command that does not exist.)"""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("target: y\nid: store\ntime: time\nlookback: 12\nhorizon: 3\nhidden_size: 8\nnum_layers: 1\n"
                   "ensemble: 1\ntrain:\n  max_epochs: 2\n  progress: log\n  device: cpu\n  doctor: false\n"
                   "  tensorboard: false\n")
    argv = ["forecast", "backtest", "--config", cfg, "--data", panel_csv, "--folds", "2", "--refit", "--json"]
    bt = tmp_path / "bt"
    with monkeypatch.context() as m:
        ctrl_c_on_call(m, "lstmkit.train.trainer:Trainer._train_epoch", 3)      # fold 2's first epoch
        code, _, err = run_cli([*argv, "--out", bt], capsys)
    assert code == 130 and err.splitlines()[-1] == (
        f"interrupted while training fold 2/2's model; fold 1's forecasts are kept in {bt / 'backtest.folds.json'} — "
        f"run the same command with --out {bt} to continue from fold 2"), err
    code, out, err = run_cli([*argv, "--out", bt], capsys)
    assert code == 0, err
    assert f"fold 1/2: its forecasts kept from the interrupted backtest in {bt}" in err
    assert "fold 1/2: training" not in err and "fold 2/2: training" in err and err.count("epoch 1/2") == 1
    assert not (bt / "backtest.folds.json").exists()               # whole now: nothing left to continue
    code, whole, err = run_cli([*argv, "--out", tmp_path / "whole"], capsys)
    assert code == 0, err
    assert json.loads(out)["folds"] == json.loads(whole)["folds"]


def test_cli_backtest_interrupted_after_its_last_fold_says_the_folds_are_kept(panel_csv, tmp_path, capsys,
                                                                              monkeypatch):
    """Ctrl-C (or SIGTERM) once every fold had trained, while the plot or the files were written, said
    `interrupted` alone, though every fold's forecasts were kept in --out and the same command finishes from
    them (a kill driver sent SIGTERM there). It names the file and the --out, and the same command trains
    no fold again."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("target: y\nid: store\ntime: time\nlookback: 12\nhorizon: 3\nhidden_size: 4\nnum_layers: 1\n"
                   "ensemble: 1\ntrain:\n  max_epochs: 1\n  progress: log\n  device: cpu\n  doctor: false\n"
                   "  tensorboard: false\n")
    argv = ["forecast", "backtest", "--config", cfg, "--data", panel_csv, "--folds", "2", "--refit"]
    bt = tmp_path / "bt"
    with monkeypatch.context() as m:
        calls = ctrl_c_on_call(m, "lstmkit.tasks.forecast.plots:plot_backtest")
        code, _, err = run_cli([*argv, "--out", bt], capsys)
    assert calls and code == 130 and err.splitlines()[-1] == (
        f"interrupted with the forecasts of the folds that ended kept in {bt / 'backtest.folds.json'} — "
        f"run the same command with --out {bt} to finish the backtest from them"), err
    assert not (bt / "backtest.json").exists()
    code, _, err = run_cli([*argv, "--out", bt], capsys)
    assert code == 0, err
    assert "fold 2/2: its forecasts kept from the interrupted backtest" in err and "training" not in err
    assert (bt / "backtest.json").is_file() and not (bt / "backtest.folds.json").exists()


def test_backtest_interrupted_after_its_last_fold_in_python_names_the_call_again(panel_csv, tmp_path,
                                                                                 monkeypatch):
    settings = dict(target="y", id="store", time="time", lookback=12, horizon=3, hidden_size=4, num_layers=1,
                    ensemble=1, max_epochs=1, progress="off", device="cpu", doctor=False, tensorboard=False)
    ctrl_c_on_call(monkeypatch, "lstmkit.tasks.forecast.backtest:write_json",
                   when=lambda path, obj: path.name == "backtest.json")
    with pytest.raises(KeyboardInterrupt) as e:
        Forecaster(**settings).backtest(str(panel_csv), folds=2, refit=True, out=tmp_path / "bt")
    kept = tmp_path / "bt" / "backtest.folds.json"
    assert str(e.value) == (f"with the forecasts of the folds that ended kept in {kept}"
                            f" — backtest(..., out={str(tmp_path / 'bt')!r}) again finishes it from them")


def test_a_backtest_with_other_settings_does_not_reuse_kept_folds(panel_csv, tmp_path):
    """Kept folds rest on the settings, the data, the folds and the step: another backtest into the same --out
    trains its own, with a warning."""
    from lstmkit.tasks.forecast.backtest import KEPT_FOLDS
    settings = dict(target="y", id="store", time="time", lookback=12, horizon=3, hidden_size=4, num_layers=1,
                    ensemble=1, max_epochs=1, progress="off", device="cpu", doctor=False, tensorboard=False)
    bt = tmp_path / "bt"
    bt.mkdir()
    (bt / KEPT_FOLDS).write_text(json.dumps({"key": "another", "folds": {"0": {"forecasts": [], "present": [],
                                                                             "season": 1}}}))
    lines = []
    with pytest.warns(UserWarning, match="holds the folds of another backtest"):
        Forecaster(**settings).backtest(str(panel_csv), folds=2, refit=True, out=bt, log=lines.append)
    assert not any("kept from the interrupted backtest" in line for line in lines)
    assert (bt / "backtest.json").is_file() and not (bt / KEPT_FOLDS).exists()


def test_the_forecast_plot_of_many_series_shows_the_worst_and_the_report_names_them(tmp_path, monkeypatch, capsys):
    """500 series: the plot drew 4 of them, titled 'y: last test forecast (direct)' as if it were all; then
    the first 4 by id, and nothing but metrics_per_series.csv sorted by hand found the series the model
    fails on, which the mean over series hides. metrics.json names the worst 5 by MASE, the report and
    evaluate say them, and the plot shows the worst 4."""
    from lstmkit.tasks.forecast import plots
    titles = []
    monkeypatch.setattr(plots, "plot_panel_forecast", lambda shown, *a, title, **kw: titles.append(
        (title, [s["id"] for s in shown])))
    settings = dict(lookback=8, horizon=2, max_epochs=1, **{**QUICK, "hidden_size": 4})
    df = panel_frame(lengths=(60,) * 6)
    rng = np.random.default_rng(5)                                # s4's test part: far off its pattern
    df.loc[(df["store"] == "s4") & (df.groupby("store").cumcount() >= 56), "y"] += rng.normal(0, 40, 4)
    est = Forecaster(**settings).fit(df, target="y", time="time", id="store", out=tmp_path / "runs")
    table = pd.read_csv(est.run_dir_ / "metrics_per_series.csv")
    mase = table[table["model"] == "lstm"].set_index("id")["MASE"].sort_values(ascending=False)
    worst = est.metrics_["worst"]
    assert worst["metric"] == "MASE" and [w["id"] for w in worst["series"]] == mase.index[:5].tolist()
    assert worst["series"][0] == {"id": "s4", "value": pytest.approx(mase["s4"])}
    assert titles[0] == ("y: last test forecast (direct), the 4 of 6 series with the highest MASE",
                         mase.index[:4].tolist())
    Forecaster(**settings).fit(panel_frame(lengths=(60,) * 4), target="y", time="time", id="store", out=tmp_path)
    assert titles[1] == ("y: last test forecast (direct)", ["s0", "s1", "s2", "s3"])
    from lstmkit.tasks.forecast.cli import report
    capsys.readouterr()
    report(est)
    named = ", ".join(f"{w['id']!r} {w['value']:.4g}" for w in worst["series"])
    assert f"\nworst series by MASE: {named} (each series' metrics in metrics_per_series.csv)\n" in capsys.readouterr().out
    df.to_csv(tmp_path / "stores.csv", index=False)
    code, out, err = run_cli(["forecast", "evaluate", "--run", est.run_dir_, "--data", tmp_path / "stores.csv"], capsys)
    assert code == 0, err
    assert out.splitlines()[-1] == f"worst series by MASE: {named}"


def _ctrl_c_in_the_second_predict():
    """``Forecaster.predict`` that is Ctrl-C on its second call (fold 2's forecast in a refit backtest)."""
    calls, real = [], Forecaster.predict

    def predict(self, *a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, *a, **k)
    return predict


def test_ctrl_c_in_a_folds_forecast_says_what_is_kept_too(panel_csv, tmp_path, monkeypatch):
    """Ctrl-C while fold 2 forecasts (not in its training) is a bare KeyboardInterrupt: it said `interrupted`
    alone, with fold 1 kept."""
    settings = dict(target="y", id="store", time="time", lookback=12, horizon=3, hidden_size=4, num_layers=1,
                    ensemble=1, max_epochs=1, progress="off", device="cpu", doctor=False, tensorboard=False)
    monkeypatch.setattr(Forecaster, "predict", _ctrl_c_in_the_second_predict())
    with pytest.raises(KeyboardInterrupt) as e:
        Forecaster(**settings).backtest(str(panel_csv), folds=2, refit=True, out=tmp_path / "bt")
    assert str(e.value).startswith(f"in fold 2/2; fold 1's forecasts are kept in {tmp_path / 'bt' / 'backtest.folds.json'}")


def test_a_series_whose_forecast_is_not_finite_leaves_every_row_not_the_model_alone(global_run, monkeypatch):
    """The means over series skipped a non-finite forecast's metrics for the model only: its row was the mean
    over 2 series beside baselines over 3, and the warnings said 's1' repeats its training part and is all 0."""
    f, df = global_run
    df = df[df["store"] != "s3"]
    forecast = f._forecast_windows

    def overflowing(arrays, rows, series, *a, **k):          # the network's output overflows for s1 alone
        params = forecast(arrays, rows, series, *a, **k).copy()
        params[series.numpy() == 1] = np.inf
        return params

    monkeypatch.setattr(f, "_forecast_windows", overflowing)
    panel = f._read_for_use(df, need=min_points(f.config_))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        record, per_series = panel_metrics(f, panel, f._panel_arrays(panel), split_panel(panel, f.config_)["test"])
    said = [str(w.message) for w in said]
    assert "the lstm forecasts of 1 of 3 series are not finite numbers ('s1': the network's outputs overflowed or " \
           "are NaN); every row of the test metrics is the mean over the other 2 series: check those series' " \
           "values, or train again with a lower learning rate" in said
    assert not any("undefined" in w for w in said)                              # no repeated part, no zeros
    others = per_series[per_series["id"] != "s1"]
    for model, row in record["metrics"].items():
        expected = others[others["model"] == model]
        assert row["MAE"] == pytest.approx(expected["MAE"].mean()) and row["MASE"] == pytest.approx(expected["MASE"].mean())
    assert record["test_points"] == others.loc[others["model"] == "lstm", "points"].sum()
    assert not np.isfinite(per_series.loc[(per_series["id"] == "s1") & (per_series["model"] == "lstm"), "MAE"]).any()


def test_kept_folds_are_reused_under_another_progress_display(panel_csv, tmp_path):
    """A backtest begun at a terminal and run again in a log: how the folds' training shows is not what
    they computed, so its kept folds are reused (they were set aside as another backtest's)."""
    from lstmkit.tasks.forecast.backtest import KEPT_FOLDS
    settings = dict(target="y", id="store", time="time", lookback=12, horizon=3, hidden_size=4, num_layers=1,
                    ensemble=1, max_epochs=1, device="cpu", tensorboard=False)
    bt, lines = tmp_path / "bt", []
    with pytest.MonkeyPatch.context() as m:
        m.setattr(Forecaster, "predict", _ctrl_c_in_the_second_predict())
        with pytest.raises(KeyboardInterrupt):
            Forecaster(**settings, progress="off", doctor=False).backtest(str(panel_csv), folds=2, refit=True, out=bt)
    assert (bt / KEPT_FOLDS).is_file()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)          # not "the folds of another backtest"
        warnings.filterwarnings("ignore", message="(?!.*folds of another backtest)")
        Forecaster(**settings, progress="log", doctor=True).backtest(str(panel_csv), folds=2, refit=True, out=bt,
                                                                    log=lines.append)
    assert any("fold 1/2: its forecasts kept from the interrupted backtest" in line for line in lines)


@pytest.mark.filterwarnings("ignore:.*forecast points before the run's test part:UserWarning")  # the folds it trained on
def test_a_fixed_backtest_forecasting_fold_by_fold_shows_its_folds(tmp_path, monkeypatch, capsys):
    """A fixed model's backtest of series it never saw predicts fold by fold (no one-pass path): 15 folds
    of 5,000 series ran a minute and a half without a line on standard error. Its folds show as predict
    shows its batches (a bar with ETA on a terminal, a line every 10 s elsewhere)."""
    from lstmkit.train import progress
    df = panel_frame(lengths=(80, 90))
    f = Forecaster(lookback=12, horizon=3, max_epochs=1, ets=False, **QUICK).fit(
        df[df["store"] == "s0"], id="store", time="time", target="y")
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)          # a line a fold
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                         # s1 is not in the training data
        f.set_params(progress="log").backtest(df, folds=3, out=tmp_path / "bt")
    lines = [line.split(",")[0] for line in capsys.readouterr().err.splitlines()]
    assert lines == [f"backtest: {k}/3 folds" for k in (1, 2, 3)]
    f.backtest(df[df["store"] == "s0"], folds=3)           # a series it knows: one pass, no folds to show
    assert capsys.readouterr().err == ""


def test_a_folds_forecasts_are_split_by_series_at_once(monkeypatch):
    """Each fold's forecasts were split by series with a groupby and a sort a series: 9 s a fold of 5,000
    series, more than the fold's predict. One sort now, whatever the count of series; each series' rows
    still in step order, under its id as text."""
    from types import SimpleNamespace
    from lstmkit.tasks.forecast.backtest import _forecast_by_series
    rng = np.random.default_rng(0)
    ids = np.repeat(np.arange(400), 3)
    pred = pd.DataFrame({"store": ids, "horizon_step": np.tile([1, 2, 3], 400), "y": rng.normal(size=1200)})
    pred = pred.sample(frac=1.0, random_state=0).reset_index(drop=True)
    calls, real = [], pd.DataFrame.__getitem__
    monkeypatch.setattr(pd.DataFrame, "__getitem__", lambda self, k: calls.append(k) or real(self, k))
    by_id = _forecast_by_series(pred, SimpleNamespace(target=["y"], id="store", format="long"), "store")
    assert len(calls) < 10                                      # not a few a series
    monkeypatch.undo()
    assert list(by_id) == [str(i) for i in pred["store"].unique()]
    for i in (0, 17, 399):
        rows = pred[pred["store"] == i].sort_values("horizon_step")
        np.testing.assert_array_equal(by_id[str(i)], rows[["y"]].to_numpy())


def test_evaluating_many_series_shows_them_and_names_the_unknown_ones_at_the_callers_line(global_run, tmp_path,
                                                                                           monkeypatch, capsys):
    """forecast evaluate of 30,000 series scored them one by one for half a minute without a line; they
    show now as predict's batches do (--progress, set_params(progress=)). Its warning of series the run
    never learned named typer's own file under `lstmkit forecast evaluate` ('typer/main.py:1445:
    UserWarning: ...', with the source line): the CLI's one `warning:` line now, as in predict."""
    from lstmkit.train import progress
    f, df = global_run
    df = pd.concat([df[df["store"] != "s3"], df[df["store"] == "s2"].assign(store="new")])
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)
    monkeypatch.setattr(f.config.train, "progress", "log")
    with pytest.warns(UserWarning, match=r"^1 series not in the training data \(e\.g\. 'new'") as said:
        f.evaluate(df)
    assert said[0].filename == __file__
    lines = [line.split(",")[0] for line in capsys.readouterr().err.splitlines()]
    assert lines == [f"scoring: {k}/4 series" for k in (1, 2, 3, 4)]
    df.to_csv(tmp_path / "new.csv", index=False)
    code, out, err = run_cli(["forecast", "evaluate", "--run", f.run_dir_, "--data", tmp_path / "new.csv",
                              "--progress", "off"], capsys)
    assert code == 0, err
    assert err.startswith("warning: 1 series not in the training data (e.g. 'new'") and "typer" not in err


def test_series_too_short_at_lookback_and_horizon_one_do_not_ask_to_shorten_them():
    """Every series of 3 points at lookback 1 and horizon 1: the error said 'shorten lookback= or
    horizon=', neither of which goes below 1; and with strict=True 'drop strict=' when no series
    would be left to train on without it either."""
    df = pd.DataFrame({"id": list("aaabbb"), "y": [1.0, 2, 4, 1, 2, 3]})
    for strict in (False, True):
        with pytest.raises(LstmkitError, match="3") as e:
            Forecaster(id="id", lookback=1, horizon=1, max_epochs=1, strict=strict).fit(df)
        assert "shorten" not in e.value.hint and "strict" not in e.value.hint
        assert "supply series of at least 4 points (lookback and horizon are 1 already)" in e.value.hint
    one_long = pd.concat([df, pd.DataFrame({"id": ["c"] * 12, "y": np.arange(12.0)})])
    with pytest.raises(LstmkitError) as e:          # a series left to train on: dropping strict= would help
        Forecaster(id="id", lookback=1, horizon=1, max_epochs=1, strict=True).fit(one_long)
    assert "to skip short series with a report" in e.value.hint and "shorten" not in e.value.hint
    with pytest.raises(LstmkitError) as e:          # lookback 2: shortening it would help
        Forecaster(id="id", lookback=2, horizon=1, max_epochs=1).fit(df)
    assert "shorten lookback=" in e.value.hint
