"""The forecast service and the history's time stamps: optional for a run trained with a time
column (``"time"`` or that column's name), checked to increase by the run's step. Before, a
client sending its table's date column got one 'must be a number' per stamp, and a history sent
newest first or with a missing step was answered as if it were in order."""
import json

import pytest

pytest.importorskip("fastapi")

from asgi_client import Client  # noqa: E402
from forecast_data import FAST, sine_frame  # noqa: E402
from lstmkit import Forecaster  # noqa: E402
from one_thread import one_thread  # noqa: E402,F401  (autouse: one torch thread)


@pytest.fixture(scope="module")
def dated(tmp_path_factory):
    from lstmkit.deploy.server import create_app
    frame = sine_frame(n=200).drop(columns="temp").rename(columns={"time": "date"})
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d %H:%M")
    est = Forecaster(**{**FAST, "max_epochs": 1}, horizon=2).fit(frame, out=tmp_path_factory.mktemp("runs"))
    client = Client(create_app(est.run_dir_, engine="torch"))
    yield est, frame.tail(est.config_.lookback), client
    client.close()


def _ask(client, instance):
    code, body = client.run(client.arequest("POST", "/predict", json.dumps({"instances": [instance]}).encode()))
    return code, json.loads(body)


def test_stamps_are_optional_and_checked(dated):
    est, hist, client = dated
    values = {"y": hist["y"].tolist()}
    code, bare = _ask(client, values)
    assert code == 200
    for name in ("date", "time"):                        # the training column's name, or "time"
        code, body = _ask(client, {**values, name: hist["date"].tolist()})
        assert code == 200 and body.pop("times") and body == bare          # the forecast's stamps beside it
    code, body = _ask(client, {"y": values["y"][::-1], "date": hist["date"].tolist()[::-1]})
    assert code == 422 and body["detail"][0]["msg"] == ("time stamps must increase, newest last — "
                                                        "send each stamp once, oldest first")
    gapped = hist["date"].tolist()
    gapped[-1] = "2030-01-01 00:00"
    code, body = _ask(client, {**values, "date": gapped})
    assert code == 422 and "step by the run's frequency 'h' without gaps" in body["detail"][0]["msg"]
    assert body["detail"][0]["loc"] == ["body", "instances", 0, "time"]


@pytest.mark.parametrize("missing", ["", "NaT", "nan"])
def test_a_stamp_pandas_reads_as_no_date_is_a_422_naming_it(dated, missing):
    """Stamps that parse to NaT: every one was a 500 (pandas' date_range from NaT), one among dates
    was told 'after ... comes NaT'; now a 422 at the stamp itself."""
    est, hist, client = dated
    values = {"y": hist["y"].tolist()}
    for stamps, at in (([missing] * len(hist), 0), (hist["date"].tolist()[:-1] + [missing], len(hist) - 1)):
        code, body = _ask(client, {**values, "date": stamps})
        assert code == 422, body
        assert body["detail"][0]["loc"] == ["body", "instances", 0, "time", at]
        assert body["detail"][0]["msg"].startswith(f"{missing!r} is not a time stamp")


@pytest.fixture(scope="module")
def zoned(tmp_path_factory):
    """An hourly run trained on Berlin times across the spring change, with the hour of day."""
    from lstmkit.deploy.server import create_app
    import pandas as pd
    frame = sine_frame(n=120).drop(columns="temp").rename(columns={"time": "date"})
    frame["date"] = pd.date_range(end="2024-03-31 12:00", periods=len(frame), freq="h", tz="Europe/Berlin")
    est = Forecaster(**{**FAST, "max_epochs": 1}, horizon=3, calendar=["hour"]).fit(
        frame, out=tmp_path_factory.mktemp("runs"))
    client = Client(create_app(est.run_dir_, engine="torch"))
    yield est, frame.tail(est.config_.lookback), client
    client.close()


def test_the_answer_stamps_the_forecast_in_the_runs_zone_as_predict_does(zoned):
    """The answer held no times; now ``"times"``, ISO 8601 in the run's zone, and its forecast is
    predict's (the hour features on Berlin's clock, as the run was trained)."""
    import numpy as np
    est, hist, client = zoned
    want = est.predict(hist)
    stamps = [t.isoformat() for t in hist["date"]]                          # +01:00, then +02:00
    code, body = _ask(client, {"y": hist["y"].tolist(), "date": stamps})
    assert code == 200, body
    assert body["times"] == [[t.isoformat() for t in want["date"]]] == [["2024-03-31T13:00:00+02:00",
                                                                          "2024-03-31T14:00:00+02:00",
                                                                          "2024-03-31T15:00:00+02:00"]]
    assert np.allclose(body["predictions"][0]["y"], want["y"], atol=1e-5) and "warnings" not in body
    naive = [t.tz_localize(None).isoformat() for t in hist["date"]]         # the wall clock: read on the run's
    code, got = _ask(client, {"y": hist["y"].tolist(), "date": naive})
    assert code == 200 and got["times"] == body["times"] and np.allclose(got["predictions"][0]["y"],
                                                                           body["predictions"][0]["y"])
    assert got["warnings"] == ["instances[0]: time column 'time' has times without a UTC offset, and the run was "
                               "trained on times in Europe/Berlin: read as Europe/Berlin local time (forecasts in "
                               "it); write the times with their offset, or in UTC ending Z, to read them otherwise"]


def test_an_answer_without_stamps_has_no_times_as_before(dated):
    import pandas as pd
    est, hist, client = dated
    code, bare = _ask(client, {"y": hist["y"].tolist()})
    assert code == 200 and "times" not in bare
    code, body = _ask(client, {"y": hist["y"].tolist(), "date": hist["date"].tolist()})
    last = hist["date"].iloc[-1]
    assert body["times"] == [[(pd.Timestamp(last) + pd.Timedelta(hours=k)).isoformat() for k in (1, 2)]]


def test_integer_steps_are_answered_as_the_steps_after_them(tmp_path):
    """Steps numbered by 5 go on by 5 (they were answered as 696, 697: one more each)."""
    from lstmkit.deploy.server import create_app
    frame = sine_frame(n=120).drop(columns=["temp", "time"]).assign(t=lambda f: range(100, 100 + 5 * len(f), 5))
    est = Forecaster(**{**FAST, "max_epochs": 1}, horizon=2).fit(frame, target="y", time="t", out=tmp_path)
    client = Client(create_app(est.run_dir_, engine="torch"))
    try:
        hist = frame.tail(est.config_.lookback)
        code, body = _ask(client, {"y": hist["y"].tolist(), "t": hist["t"].tolist()})
    finally:
        client.close()
    assert code == 200 and body["times"] == [[700, 705]] == [est.predict(frame)["t"].tolist()]


def test_a_run_fitted_on_a_date_index_serves_requests_with_or_without_stamps(tmp_path):
    """A run fitted on a Series' DatetimeIndex records it as its time ('time'): the service's requests
    of values alone (as before) are answered as predict answers the Series, and stamps, optional,
    add the forecast's."""
    import numpy as np
    import pandas as pd
    from lstmkit.deploy.server import create_app
    frame = sine_frame(n=160)
    s = pd.Series(frame["y"].to_numpy(), index=pd.DatetimeIndex(frame["time"]), name="y")
    est = Forecaster(**{**FAST, "max_epochs": 1}, horizon=2).fit(s, out=tmp_path)
    client = Client(create_app(est.run_dir_, engine="torch"))
    try:
        tail = s.tail(est.config_.lookback)
        code, bare = _ask(client, {"y": tail.tolist()})
        assert code == 200 and "times" not in bare
        np.testing.assert_allclose(bare["predictions"][0]["y"], est.predict(s)["y"], rtol=1e-5)
        code, body = _ask(client, {"y": tail.tolist(), "time": [t.isoformat() for t in tail.index]})
        assert code == 200 and pd.Timestamp(body.pop("times")[0][0]) == s.index[-1] + pd.Timedelta(hours=1)
        assert body == bare
    finally:
        client.close()


def test_a_two_column_time_is_taken_by_its_column_names(tmp_path):
    """A run trained with --time Date,Time (or year,month): an instance sending its table's 'Date' and
    'Time' lists was told "must be a number — send Date as JSON numbers"; now they are read as the
    training reader reads them, answered as the joined stamps in 'time' are, and a half or
    unreadable pair is one 422 naming it."""
    import pandas as pd
    from lstmkit.deploy.server import create_app
    stamps = pd.date_range("2024-03-01", periods=72, freq="h")
    frame = pd.DataFrame({"Date": stamps.strftime("%d/%m/%Y"), "Time": stamps.strftime("%H:%M"),
                          "Value": sine_frame(n=72)["y"].round(3)})
    est = Forecaster(**{**FAST, "max_epochs": 1}, horizon=2).fit(frame, time=["Date", "Time"], target="Value",
                                                                 out=tmp_path)
    hist = frame.tail(est.config_.lookback)
    values = {"Value": hist["Value"].tolist()}
    client = Client(create_app(est.run_dir_, engine="torch"))
    try:
        code, bare = _ask(client, values)
        assert code == 200
        code, body = _ask(client, {**values, "Date": hist["Date"].tolist(), "Time": hist["Time"].tolist()})
        assert code == 200, body
        assert body.pop("times") == [["2024-03-04T00:00:00", "2024-03-04T01:00:00"]] and body == bare
        joined = (hist["Date"] + " " + hist["Time"]).tolist()
        code, same = _ask(client, {**values, "time": joined})
        assert code == 200 and same.pop("times") == [["2024-03-04T00:00:00", "2024-03-04T01:00:00"]]
        for instance, words in (
                ({**values, "Date": hist["Date"].tolist()}, "'Date' was sent without 'Time': this run's time is "
                 "the two columns 'Date,Time' — send both 'Date' and 'Time', or the history's time stamps in 'time'"),
                ({**values, "Date": hist["Date"].tolist(), "Time": hist["Time"].tolist()[1:]},
                 "'Date' and 'Time' must be two lists of the same length"),
                ({**values, "Date": hist["Date"].tolist(), "Time": ["24:00"] * len(hist)},
                 "time-of-day column 'Time' holds '24:00' (item 0), the end of a day"),
                ({**values, "Date": hist["Date"].tolist(), "Time": hist["Time"].tolist(), "time": joined},
                 "the time is sent twice")):
            code, body = _ask(client, instance)
            assert code == 422 and body["detail"][0]["msg"].startswith(words), body
            assert body["detail"][0]["loc"] == ["body", "instances", 0]
    finally:
        client.close()


@pytest.mark.parametrize("dates, new_year", [("excel", 45292), ("excel1904", 43830)])
def test_a_run_on_spreadsheet_serial_days_reads_the_requests_stamps_so(tmp_path, dates, new_year):
    """``--dates excel`` (``excel1904``: the 1904 date system's): the service reads the history's
    stamps as training read the column, serial days sent as numbers or as text, and answers with
    ISO stamps."""
    from lstmkit.deploy.server import create_app
    import pandas as pd
    frame = sine_frame(n=120).drop(columns="temp").rename(columns={"time": "date"})
    frame["date"] = (new_year + (frame["date"] - frame["date"].iloc[0]) / pd.Timedelta(days=1)).round(10)
    est = Forecaster(**{**FAST, "max_epochs": 1}, horizon=2, dates=dates).fit(frame, target="y", time="date",
                                                                            out=tmp_path)
    hist = frame.tail(est.config_.lookback)
    client = Client(create_app(est.run_dir_, engine="torch"))
    try:
        for stamps in (hist["date"].tolist(), [repr(v) for v in hist["date"]]):
            code, body = _ask(client, {"y": hist["y"].tolist(), "date": stamps})
            assert code == 200, body
            assert body["times"][0] == ["2024-01-06T00:00:00", "2024-01-06T01:00:00"]    # after hour 119
        for stamps, problem in ((["soon"] * len(hist), "holds 'soon' in data row 1, not a spreadsheet serial day"),
                                (["2024-01-05 16:00"] * len(hist), "holds dates already")):
            code, body = _ask(client, {"y": hist["y"].tolist(), "date": stamps})
            msg = body["detail"][0]["msg"]
            fix = f'send "time" as spreadsheet serial days, as the run was trained on (e.g. {new_year}.5 for 2024-01-01'
            assert code == 422 and problem in msg and fix in msg, body
            assert "--dates" not in json.dumps(body)
    finally:
        client.close()
