"""Covariates as a demand planner gives them: a sales table of several stores with prices and promotions
known ahead, a temperature known only up to today, and the next horizon's rows appended to the history
(target empty, covariates filled) -- the table predict reads, which the other commands read too."""
import warnings

import numpy as np
import pandas as pd
import pytest

from cli_helpers import run_cli
from forecast_data import FAST
from lstmkit.deploy.registry import adapter_class
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.estimator import Forecaster
from one_thread import one_thread_per_module  # noqa: F401  (autouse: one torch thread, module fixtures too)

H = 4
TINY = {**FAST, "hidden_size": 8, "max_epochs": 1, "lookback": 14, "horizon": H, "ets": False, "doctor": False}


def sales_frame(n=90, stores=("north", "south"), seed=0):
    """Daily sales per store driven by price and promotion, with the day's temperature."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, store in enumerate(stores):
        price = 10 + k + 0.1 * rng.standard_normal(n).cumsum()
        promo = (rng.random(n) < 0.2).astype(float)
        temp = 15 + 8 * np.sin(np.arange(n) / 9) + rng.standard_normal(n)
        sales = 60 + 10 * k - 3 * (price - 10) + 20 * promo + 0.5 * temp + rng.standard_normal(n)
        parts.append(pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="D"), "store": store,
                                   "sales": sales, "price": price, "promo": promo, "temp": temp}))
    return pd.concat(parts, ignore_index=True)


def with_future(df, steps=H, start=1, skip=()):
    """``df`` and, per store, ``steps`` rows from ``start`` days after its last one (``skip``: days left out),
    sales and temperature empty, price and promotion filled."""
    rows = []
    for store, g in df.groupby("store", sort=False):
        days = [g["date"].iloc[-1] + pd.Timedelta(days=start + k) for k in range(steps + len(skip))]
        days = [d for k, d in enumerate(days) if k not in skip]
        rows.append(pd.DataFrame({"date": days, "store": store, "sales": np.nan, "price": g["price"].iloc[-1],
                                  "promo": [1.0, 0.0] * (len(days) // 2) + [1.0] * (len(days) % 2), "temp": np.nan}))
    return pd.concat([df, *rows], ignore_index=True)


@pytest.fixture(scope="module")
def planner():
    df = sales_frame()
    est = Forecaster(**TINY, future_covariates=["price", "promo"], past_covariates=["temp"]).fit(
        df, target="sales", time="date", id="store")
    return est, df


@pytest.mark.filterwarnings("ignore:.*forecast points before the run's test part:UserWarning")  # the folds it trained on
def test_a_backtest_of_the_table_with_the_horizons_rows_scores_the_observed_folds(planner):
    """The rows after each store's last sales (the table predict reads) were read as points of the
    series: the last fold scored forecasts against those empty cells, every model 'n/a' and called
    not finite (the network's outputs overflowed)."""
    est, df = planner
    plain = est.backtest(df, folds=2)
    ahead = est.backtest(with_future(df), folds=2)
    assert ahead["folds"] == plain["folds"]
    assert ahead["aggregate"] == plain["aggregate"]
    assert all(np.isfinite(r["MAE"]) for r in ahead["folds"])


def test_future_rows_that_leave_out_a_step_are_refused_not_read_at_the_wrong_steps(planner):
    """Row k after a series' end is read as horizon step k: rows that started two days late fed each
    day's price at the step two days before it and labelled the forecast with the rows' dates; a day left
    out shifted every covariate after it by one step. Both were forecast without a word."""
    est, df = planner
    good = est.predict(with_future(df))
    assert list(good["date"].iloc[:H]) == list(pd.date_range("2024-03-31", periods=H, freq="D"))
    with pytest.raises(LstmkitError, match=r"the future rows of series 'north' leave out 2 steps of the horizon after "
                                           r"its last target value \(2024-03-30T00:00:00\): no row for "
                                           r"2024-03-31T00:00:00"):
        est.predict(with_future(df, start=3))
    with pytest.raises(LstmkitError, match=r"leave out 1 step of the horizon .*no row for 2024-04-02T00:00:00"):
        est.predict(with_future(df, skip=(2,)))
    assert est.predict(with_future(df, steps=H + 3)).equals(good)           # rows beyond the horizon: not read


def test_an_empty_future_covariate_cell_is_named_by_its_column_and_step(planner):
    """Was 'future covariates price, promo of series 'north' cover 2 of the 4 horizon steps' for a table
    with all 4 rows there and one promotion cell left empty."""
    est, df = planner
    table = with_future(df)
    table.loc[(table["store"] == "south") & (table["date"] == "2024-04-02"), "promo"] = np.nan
    with pytest.raises(LstmkitError, match=r"future covariate 'promo' of series 'south' is empty at horizon step 3 "
                                           r"of 4 \(2024-04-02T00:00:00\); 1 of the 4 steps lack a covariate value"):
        est.predict(table)
    with pytest.raises(LstmkitError, match=r"cover 2 of the 4 horizon steps"):     # too few rows: as before
        est.predict(with_future(df, steps=2))
    zeros = with_future(df).fillna({"sales": 0.0, "temp": 20.0})       # a planning sheet's 0 in the empty cells
    with pytest.raises(LstmkitError, match=r"cover 0 of the 4 horizon steps after its last target value "
                                           r"\(2024-04-03T00:00:00\)"):   # the rows meant as the horizon's: history
        est.predict(zeros)


def test_the_training_report_says_which_covariates_the_model_reads_and_how(tmp_path, capsys):
    """The report named none: a covariate passed under the wrong option (a temperature as known ahead,
    which predict then asks for) was seen only at the first predict."""
    sales_frame().to_csv(tmp_path / "sales.csv", index=False)
    code, out, err = run_cli(["forecast", "train", "--data", tmp_path / "sales.csv", "--id", "store", "--time", "date",
                              "--target", "sales", "--future-covariates", "price,promo", "--past-covariates", "temp",
                              "--calendar", "weekday,holidays:US", "--lookback", "14", "--horizon", "4",
                              "--hidden-size", "4", "--layers", "1", "--epochs", "1", "--ensemble", "1",
                              "--progress", "off", "--device", "cpu", "--no-doctor", "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    assert ("inputs besides the target: past only (known up to each forecast origin): temp; known ahead (predict "
            "needs them for the 4 steps after each series' end): price, promo; calendar features of the times: "
            "weekday, holidays:US; covariates scaled minmax on the training part, one scaling for every series") in out
    sales_frame().to_csv(tmp_path / "plain.csv", index=False)
    code, out, err = run_cli(["forecast", "train", "--data", tmp_path / "plain.csv", "--id", "store", "--time", "date",
                              "--target", "sales", "--lookback", "14", "--horizon", "4", "--hidden-size", "4",
                              "--layers", "1", "--epochs", "1", "--ensemble", "1", "--progress", "off", "--device",
                              "cpu", "--no-doctor", "--out", tmp_path / "runs"], capsys)
    assert code == 0 and "inputs besides" not in out, err


def test_covariates_far_outside_their_training_range_are_warned_of_at_predict(planner, tmp_path):
    """A price given in cents to a model trained on prices in units: the forecast moved by thousands,
    and predict said nothing (only the target was compared with its training range)."""
    est, df = planner
    est.save(tmp_path / "run")
    rec = Forecaster.load(tmp_path / "run").covariate_range_           # every series' training rows, recorded
    train = df.groupby("store").head(90 - 2 * H)                        # the test and validation parts left out
    assert rec["lo"] == pytest.approx(train[["temp", "price", "promo"]].min().tolist())
    table = with_future(df)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.predict(table)                                              # the data trained on: no warning
    cents = table.assign(price=100 * table["price"])
    with pytest.warns(UserWarning, match=r"covariate 'price' of series 'north' \(\d+ \.\. \d+\) lies \d+ times the "
                                         r"width of its training range \(\S+ \.\. \S+\) outside it"):
        est.predict(cents)
    ahead = table["sales"].isna()
    table.loc[ahead, "promo"] = 40.0                                    # over the horizon alone
    with pytest.warns(UserWarning, match=r"covariate 'promo' of series 'north' \(0 \.\. 40\) lies"):
        est.predict(table)


def test_a_past_covariate_far_outside_is_warned_of_beside_as_many_future_ones():
    """One past covariate (temp) and one future covariate (price): the window's covariates are read for the
    warning as with any other count of them."""
    df = sales_frame()
    est = Forecaster(**TINY, future_covariates=["price"], past_covariates=["temp"]).fit(
        df, target="sales", time="date", id="store")
    table = with_future(df)
    with pytest.warns(UserWarning, match=r"covariate 'temp' of series 'north' \(\S+ \.\. \S+\) lies \d+ times the "
                                         r"width of its training range"):
        est.predict(table.assign(temp=100 * table["temp"] + 1000))


def test_evaluate_warns_of_a_test_file_far_outside_the_training_range_as_predict_does(planner, tmp_path, capsys):
    """Sales in thousands, or prices in cents, handed to evaluate: predict warned of the same file, evaluate
    printed metrics of a network extrapolating (MAPE 498 % on a run whose own test MAPE was 2.4 %) without a word.
    A file from the same source (another draw of the same stores) and the training file itself stay quiet."""
    est, df = planner
    est.save(tmp_path / "run")
    for quiet in (df, sales_frame(seed=1)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            est.evaluate(quiet)
            est.test_forecasts(quiet)
    thousands = df.assign(sales=df["sales"] / 1000)
    with pytest.warns(UserWarning, match=r"^the \d+ values the test windows read of series 'north' \(0\.0\d+ \.\. "
                                         r"0\.\d+\) lie \S+ times the width of its training range \(\S+ \.\. \S+\) "
                                         r"outside it: .* its test forecasts and the metrics scored on them may be far off; "
                                         r"check the data's units.* \(and 1 more series\)$") as caught:
        est.evaluate(thousands)
    assert caught[0].filename == __file__                               # the caller's line, as predict's
    cents = df.assign(price=100 * df["price"])
    with pytest.warns(UserWarning, match=r"^covariate 'price' of series 'north' \(\d+ \.\. \d+\) lies"):
        est.score(cents)
    with pytest.warns(UserWarning, match=r"covariate 'price' of series 'north'"):
        est.test_forecasts(cents)
    path = tmp_path / "cents.csv"
    cents.to_csv(path, index=False)
    code, out, err = run_cli(["forecast", "evaluate", "--run", tmp_path / "run", "--data", path], capsys)
    assert code == 0, err
    assert err.startswith("warning: covariate 'price' of series 'north' (") and err.count("\n") == 1, err
    assert out.startswith("Test metrics")


def test_a_covariate_constant_in_training_is_warned_of_and_an_empty_one_refused():
    df = sales_frame().assign(vat=0.19, missing=np.nan)
    with pytest.warns(UserWarning, match=r"covariate 'vat' is 0.19 in every training row: the model cannot learn what "
                                         r"it does.* drop it from future_covariates="):
        Forecaster(**TINY, future_covariates=["price", "vat"]).fit(df, target="sales", time="date", id="store")
    with pytest.raises(LstmkitError, match=r"covariate column 'missing' is empty in all 180 rows — drop it from "
                                           r"past_covariates=, or fill it"):
        Forecaster(**TINY, past_covariates=["missing"], fill="ffill").fit(df, target="sales", time="date", id="store")


def test_a_covariate_of_labels_is_refused_with_how_to_give_it_as_numbers():
    """Was "column 'weekday' is not numeric: found 'Mon' … — choose numeric columns for the target/features"."""
    df = sales_frame()
    df["weekday"] = df["date"].dt.day_name()
    with pytest.raises(LstmkitError, match=r"covariate column 'weekday' holds categories, not numbers: 'Monday', "
                                           r"'Tuesday', .*\(7 distinct values\).* — use calendar='weekday'"):
        Forecaster(**TINY, future_covariates=["weekday"]).fit(df, target="sales", time="date", id="store")
    df["region"] = df["store"].map({"north": "N", "south": "S"})
    with pytest.raises(LstmkitError, match=r"'region' holds categories.*\(pd.get_dummies\(df, columns=\['region'\], "
                                           r"dtype=float\).* id_embedding=4"):
        Forecaster(**TINY, past_covariates=["region"]).fit(df, target="sales", time="date", id="store")
    df["promo"] = df["promo"].map({1.0: "yes", 0.0: "no"})                  # yes/no stays 1 and 0, with its warning
    with pytest.warns(UserWarning, match="holds yes/no"):
        assert Forecaster(**TINY, future_covariates=["promo"]).fit(df, target="sales", time="date", id="store")


def test_the_exported_graphs_record_says_which_channels_are_covariates_and_how_they_are_scaled(planner):
    """``around_graph`` listed the per-series scaling of the target alone: a caller running model.onnx
    without lstmkit had no word of which channels of ``x`` and ``future`` were covariates, nor that
    they are scaled by the run's covariate scaler."""
    est, _ = planner
    notes = adapter_class("forecast")(est).around_graph
    assert ("covariates: x's channels after the target are temp, price, promo, and future's price, promo over the "
            "horizon; temp, price, promo scaled by lstmkit.json's preprocessing.covariate_scaler") in notes


def test_the_service_names_a_covariate_far_outside_its_training_range_in_its_answer(planner, tmp_path):
    """The service's ``warnings`` named a target far outside its range, never a covariate: a price sent
    in cents was answered without a word, as predict's was."""
    pytest.importorskip("fastapi")
    from asgi_client import Client
    from lstmkit.deploy.server import create_app
    est, df = planner
    est.save(tmp_path / "run")
    g = df[df["store"] == "south"].tail(est.config_.lookback)
    instance = {"id": "south", **{c: g[c].tolist() for c in ("sales", "temp", "price", "promo")},
                "future": {"price": [g["price"].iloc[-1]] * H, "promo": [1.0, 0.0, 0.0, 1.0]}}
    client = Client(create_app(tmp_path / "run", engine="torch"))
    try:
        status, out = client.post_json({"instances": [instance]})
        assert status == 200 and "warnings" not in out, out
        cents = {**instance, "future": {**instance["future"], "price": [100 * g["price"].iloc[-1]] * H}}
        status, out = client.post_json({"instances": [instance, cents]})
    finally:
        client.close()
    assert status == 200, out
    [note] = out["warnings"]
    assert note.startswith("covariate 'price' of instances[1] (") and "times the width of its training range" in note


def _stepping(freq, n=200):
    t = pd.date_range("2020-01-04", periods=n, freq=freq)
    return pd.DataFrame({"time": t, "y": 10 + np.sin(np.arange(n) / 3.0)})


@pytest.mark.parametrize("freq, calendar, said", [
    ("D", ["weekday", "hour"], "'hour' in calendar= adds a constant input: the data steps by 'D' (1 day), so the hour "
                               "of the day is the same at every time"),
    ("W-SAT", ["weekday"], "the data steps by 'W-SAT' (7 days), so the day of the week is the same at every time"),
    ("YS", ["month"], "the data steps by 'YS-JAN' (365 days), so the month is the same at every time")])
def test_a_calendar_feature_the_step_holds_still_is_refused(freq, calendar, said):
    # it was a constant input, added without a word (--calendar hour on daily data)
    with pytest.raises(LstmkitError) as e:
        Forecaster(**{**TINY, "horizon": 2, "lookback": 4}, calendar=calendar).fit(_stepping(freq, 60), target="y",
                                                                                  time="time")
    assert said in e.value.message
    assert e.value.hint.startswith(f"drop {calendar[-1]} from calendar=")


def test_a_calendar_feature_still_over_a_short_span_is_not_refused_and_old_runs_predict(monkeypatch):
    # daily data of a few weeks: the month does not change in it, but the step is finer than a month's
    f = Forecaster(**TINY, calendar=["weekday", "month"]).fit(_stepping("D", 60), target="y", time="time")
    assert len(f.predict(_stepping("D", 60))) == H
    # a run trained with hour on daily data before (the check bypassed) still predicts
    import lstmkit.tasks.forecast.panel as panel
    monkeypatch.setattr(panel, "check_calendar_varies", lambda *a: None)
    old = Forecaster(**TINY, calendar=["hour"]).fit(_stepping("D"), target="y", time="time")
    monkeypatch.undo()
    assert len(old.predict(_stepping("D"))) == H


def test_an_id_embedding_on_one_series_is_refused():
    # it learned a vector for the only series: a constant input, added without a word
    with pytest.raises(LstmkitError) as e:
        Forecaster(**TINY, id_embedding=4).fit(_stepping("h"), target="y", time="time")
    assert e.value.message == ("id_embedding=4 learns a vector per series to tell them apart, and the data has one "
                               "series: it would be a constant input")
    assert e.value.hint == "drop id_embedding=: it is for a table of several series (id= COLUMN)"
    # two series, one of them too short to train on
    two = pd.concat([_stepping("h").assign(id="long"), _stepping("h", 10).assign(id="short")], ignore_index=True)
    with pytest.raises(LstmkitError, match=r"the data has one series long enough to train on \(1 other too short, "
                                           r"skipped\)") as e:
        Forecaster(**TINY, id_embedding=4).fit(two, target="y", time="time", id="id")
    assert "give the short series more history" in e.value.hint


def test_an_id_embedding_on_several_series_fits():
    two = pd.concat([_stepping("h").assign(id="a"), _stepping("h").assign(id="b", y=lambda f: f["y"] + 3)],
                    ignore_index=True)
    f = Forecaster(**TINY, id_embedding=4).fit(two, target="y", time="time", id="id")
    assert f.series_ids_ == ["a", "b"]
