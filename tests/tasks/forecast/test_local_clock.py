"""Zoned times and the local clock: calendar features of hourly data trained on tz-aware times
follow the local clock (a store that opens at 09:00 in Berlin peaks at hour 9 in winter and
summer alike), recorded as ``data.calendar_clock`` in ``lstmkit.json``; a run saved before that
record reads its features from UTC as it did."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from lstmkit import Forecaster
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.calendar import calendar_features
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks.forecast.panel import read_panel
from lstmkit.tasks.forecast.times import time_values

TINY = dict(lookback=8, horizon=3, hidden_size=4, num_layers=1, max_epochs=1, ensemble=1,
            progress="off", tensorboard=False, device="cpu", doctor=False)


def _hourly(zone: str = "Europe/Berlin", end: str = "2024-03-31 12:00", n: int = 72) -> pd.DataFrame:
    """Hours across the spring change (31 March 2024 in Berlin), peaking at 09:00 local time."""
    times = pd.date_range(end=end, periods=n, freq="h", tz=zone)
    return pd.DataFrame({"date": times, "y": (times.hour == 9).astype(float) + np.sin(np.arange(n) / 3.0)})


def _hours(features: np.ndarray) -> np.ndarray:
    """The hour of day that a (sin, cos) pair of the hour feature encodes."""
    return np.round(np.arctan2(features[:, 0], features[:, 1]) * 24 / (2 * np.pi)).astype(int) % 24


def test_hour_features_follow_the_local_clock_across_daylight_saving():
    df = _hourly()
    cfg = ForecastConfig(target=["y"], time="date", calendar=["hour"])
    panel = read_panel(df, cfg)
    assert panel.calendar_zone == "Europe/Berlin"
    assert (_hours(panel.future) == df["date"].dt.hour.to_numpy()).all()        # 9 before and after the change
    utc = df["date"].dt.tz_convert("UTC").dt.hour.to_numpy()
    assert set(utc[df["date"].dt.hour == 9]) == {8, 7}                             # as UTC read them before
    old = read_panel(df, cfg, run={"time_zone": "Europe/Berlin", "time_clock": "utc"})    # no calendar_clock
    assert old.calendar_zone is None and (_hours(old.future) == utc).all()
    naive = df.assign(date=pd.date_range("2024-01-01", periods=len(df), freq="h"))    # naive: the clock it shows
    panel = read_panel(naive, cfg)
    assert panel.calendar_zone is None and (_hours(panel.future) == naive["date"].dt.hour.to_numpy()).all()


def test_calendar_features_read_naive_utc_times_on_a_zones_clock():
    times = pd.date_range("2024-10-26 22:00", periods=6, freq="h").to_numpy()     # UTC, over the autumn change
    local = pd.DatetimeIndex(times).tz_localize("UTC").tz_convert("Europe/Berlin")
    assert (_hours(calendar_features(times, ["hour"], "Europe/Berlin")) == local.hour).all()
    assert (_hours(calendar_features(times, ["hour"])) == pd.DatetimeIndex(times).hour).all()
    days = calendar_features(times, ["weekday"], "Europe/Berlin")                 # 22:00 UTC is 00:00 Sunday
    assert np.allclose(days[0], calendar_features(pd.DatetimeIndex(["2024-10-27"]), ["weekday"])[0])


def test_a_zoned_run_records_its_clock_and_an_old_run_reads_utc_as_before(tmp_path):
    df = _hourly()
    est = Forecaster(**TINY, calendar=["hour"]).fit(df, target="y", time="date", out=tmp_path)
    path = est.run_dir_ / "lstmkit.json"
    meta = json.loads(path.read_text())
    assert meta["data"]["calendar_clock"] == "local" and meta["data"]["time_zone"] == "Europe/Berlin"
    new = Forecaster.load(est.run_dir_)
    panel = new._read_for_use(df)
    assert panel.calendar_zone == "Europe/Berlin" and (_hours(panel.future) == df["date"].dt.hour.to_numpy()).all()
    local = new.predict(df)
    del meta["data"]["calendar_clock"]                                  # as lstmkit wrote runs before it did
    path.write_text(json.dumps(meta))
    before = path.read_bytes()
    old = Forecaster.load(est.run_dir_)
    panel = old._read_for_use(df)
    utc = pd.DatetimeIndex(panel.times)
    assert panel.calendar_zone is None and (_hours(panel.future) == utc.hour).all()
    got = old.predict(df)
    assert not np.allclose(got["y"], local["y"])                         # the features differ, and so does the forecast
    assert np.allclose(got["y"], old.predict(df)["y"]) and path.read_bytes() == before   # the old meta left as it was
    assert got["date"].equals(local["date"])


def test_naive_times_given_to_a_zoned_run_read_on_its_clock_with_one_warning(tmp_path):
    """Before, an hourly run trained on Berlin times given the same times without a zone (an .xlsx,
    which holds none) answered naive times silently; now it reads them as Berlin local time, says so
    once, and answers what the zoned times get."""
    df = _hourly()
    est = Forecaster(**TINY, calendar=["hour"]).fit(df, target="y", time="date", out=tmp_path)
    zoned = est.predict(df)
    naive = df.assign(date=df["date"].dt.tz_localize(None))             # the wall clock: 02:00 skipped on 31 March
    with pytest.warns(UserWarning, match="has times without a UTC offset, and the run was trained on times in "
                                         "Europe/Berlin: read as Europe/Berlin local time") as caught:
        got = est.predict(naive)
    assert sum("without a UTC offset" in str(w.message) for w in caught) == 1
    assert got["date"].equals(zoned["date"]) and np.allclose(got["y"], zoned["y"])
    with pytest.warns(UserWarning, match="without a UTC offset"):         # each fold reads the instants read once
        folds = est.backtest(naive, folds=2, step=5)["folds"]
    assert folds == est.backtest(df, folds=2, step=5)["folds"] and folds[0]["cutoff"].endswith("+02:00")


def test_naive_dates_given_to_a_zoned_daily_run_are_its_local_dates_without_a_warning(tmp_path):
    times = pd.date_range(end="2024-03-30", periods=60, freq="D", tz="Europe/Berlin")
    df = pd.DataFrame({"date": times, "y": np.sin(np.arange(60) / 3.0)})
    est = Forecaster(**TINY).fit(df, target="y", time="date", out=tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                    # a date is a date: nothing guessed
        got = est.predict(df.assign(date=times.tz_localize(None)))
    assert got["date"].equals(est.predict(df)["date"]) and str(got["date"].dt.tz) == "Europe/Berlin"


def test_zoned_times_given_to_a_run_trained_without_a_zone_keep_their_own(tmp_path):
    """A run trained on naive hours given Berlin times: forecasts in Berlin (they were naive UTC),
    its hour features on Berlin's clock, as the naive times it learned from showed theirs."""
    df = _hourly()
    est = Forecaster(**TINY, calendar=["hour"]).fit(df.assign(date=pd.date_range("2024-01-01", periods=len(df),
                                                                                  freq="h")),
                                                    target="y", time="date", out=tmp_path)
    assert "time_zone" not in est.data_summary_ and est.data_summary_["calendar_clock"] == "local"
    with pytest.warns(UserWarning, match="trained on times without a zone, and these are in Europe/Berlin"):
        got = est.predict(df)
    assert str(got["date"].dt.tz) == "Europe/Berlin" and got["date"].iloc[0] == df["date"].iloc[-1] + pd.Timedelta("1h")
    with pytest.warns(UserWarning, match="if those were UTC, give these in UTC too"):
        panel = est._read_for_use(df)
    assert (_hours(panel.future) == df["date"].dt.hour.to_numpy()).all()


def _changing_offsets(n: int = 72) -> pd.DataFrame:
    """Hours written with the offset of their day (+01:00 in winter, +02:00 in summer): a CSV's view."""
    df = _hourly(n=n)
    return df.assign(date=[t.isoformat() for t in df["date"]])


def test_offsets_that_change_name_no_zone_a_warning_says_so_and_time_zone_gives_one(tmp_path):
    df = _changing_offsets()
    with pytest.warns(UserWarning, match=r"writes UTC offsets that change \(\+01:00, \+02:00: daylight saving\).*"
                                         r"pass time_zone= with the zone they were written in \(e.g. 'Europe/Berlin'\)"):
        est = Forecaster(**TINY, calendar=["hour"]).fit(df, target="y", time="date")
    with pytest.warns(UserWarning, match="pass time_zone="):            # said at predict too
        got = est.predict(df)["date"]
    assert got.dt.tz is None and got.iloc[0] == pd.Timestamp("2024-03-31 11:00")        # 13:00 in Berlin, as UTC
    est = Forecaster(**TINY, calendar=["hour"], time_zone="Europe/Berlin").fit(df, target="y", time="date",
                                                                                 out=tmp_path)
    assert est.data_summary_["time_zone"] == "Europe/Berlin" and est.config_.time_zone == "Europe/Berlin"
    got = Forecaster.load(est.run_dir_).predict(df)["date"]
    assert str(got.dt.tz) == "Europe/Berlin" and got.dt.hour.tolist() == [13, 14, 15]
    assert (_hours(est._read_for_use(df).future) == _hourly()["date"].dt.hour.to_numpy()).all()


def test_time_zone_reads_naive_times_as_its_local_clock_and_converts_zoned_ones():
    zone = "America/New_York"
    local = pd.date_range("2024-11-02 20:00", periods=10, freq="h", tz=zone)   # clocks go back 3 Nov, 02:00
    values, info = time_values(pd.Series(local.tz_localize(None).strftime("%Y-%m-%d %H:%M")), "t", zone=zone)
    assert pd.DatetimeIndex(values).equals(local.tz_convert("UTC").tz_localize(None))     # 01:00 twice, in order
    assert info["time_zone"] == zone and "read as America/New_York local time" in info["time_note"]
    values, info = time_values(pd.Series(local.tz_convert("Europe/Berlin")), "t", zone=zone)
    assert pd.DatetimeIndex(values).equals(local.tz_convert("UTC").tz_localize(None)) and info["time_zone"] == zone
    with pytest.raises(LstmkitError, match=r"holds 2024-03-10 02:30:00, which America/New_York's clock skips"):
        time_values(pd.Series(["2024-03-10 01:30", "2024-03-10 02:30"]), "t", zone=zone)
    with pytest.raises(LstmkitError, match="unknown time zone 'Europe/Berln'"):
        Forecaster(time_zone="Europe/Berln").fit(_hourly(), target="y", time="date")


def _fall_back_long_table(ids=("a", "b"), n: int = 30) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """A long table, rows by time then id, of naive New York times across 3 Nov 2024 (01:00 twice)."""
    local = pd.date_range("2024-11-02 12:00", periods=n, freq="h", tz="America/New_York")
    text = local.tz_localize(None).strftime("%Y-%m-%d %H:%M")
    return pd.DataFrame({"t": np.repeat(text, len(ids)), "id": list(ids) * n,
                         "y": np.sin(np.arange(n * len(ids)) / 3.0)}), local


def test_the_hour_shown_twice_reads_per_series_in_a_long_table():
    # each series crosses 01:00 twice in order, but the column holds it four times: refused as 'shows twice'
    df, local = _fall_back_long_table()
    values, info = time_values(df["t"], "t", zone="America/New_York", groups=df["id"])
    utc = local.tz_convert("UTC").tz_localize(None)
    for series in ("a", "b"):
        assert pd.DatetimeIndex(values[(df["id"] == series).to_numpy()]).equals(utc)
    with pytest.raises(LstmkitError, match="shows twice"):            # one series, as the column was read
        time_values(df["t"], "t", zone="America/New_York")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = Forecaster(**TINY, time_zone="America/New_York").fit(df, target="y", time="t", id="id")
    assert est.data_summary_["time_zone"] == "America/New_York"
    with warnings.catch_warnings():                                   # a backtest reads the times alike
        warnings.simplefilter("ignore")
        assert {f["series"] for f in est.backtest(df, folds=1)["folds"]} == {2}


def test_a_series_whose_hour_shown_twice_is_ambiguous_is_still_refused():
    df, _ = _fall_back_long_table()
    once = ~((df["id"] == "b") & (df["t"] == "2024-11-03 01:00")) | ~df.duplicated(["id", "t"], keep="last")
    with pytest.raises(LstmkitError, match="holds 2024-11-03 01:00:00 in series 'b', which America/New_York's "
                                           "clock shows twice") as err:
        Forecaster(**TINY, time_zone="America/New_York").fit(df[once], target="y", time="t", id="id")
    assert "UTC offset (2024-11-03 01:00:00-04:00 or -05:00, say)" in err.value.hint      # New York's (was +01:00)


class _StopAt:
    """Ctrl-C at global step ``at`` (a callback)."""

    def __init__(self, at):
        self.at = at

    def __getattr__(self, name):                     # every other hook: nothing
        return lambda *a, **k: None

    def on_batch_end(self, trainer, batch, n_batches, loss):
        if trainer.global_step == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("started_before", [False, True])
def test_a_resumed_run_keeps_the_clock_its_checkpoint_was_trained_on(tmp_path, started_before):
    from lstmkit.train import TrainingInterrupted
    df = _hourly()
    run = tmp_path / "run"
    with pytest.raises(TrainingInterrupted):
        Forecaster(**{**TINY, "max_epochs": 3, "batch_size": 8}, calendar=["hour"]).fit(
            df, target="y", time="date", run_dir=run, callbacks=[_StopAt(2)])
    path = run / "lstmkit.json"
    meta = json.loads(path.read_text())
    assert meta["status"] != "finished" and meta["data"]["calendar_clock"] == "local"
    if started_before:                                  # as lstmkit wrote a run's start before the local clock
        del meta["data"]["calendar_clock"]
        path.write_text(json.dumps(meta))
    Forecaster.resume(run, data=df)
    data = json.loads(path.read_text())["data"]
    assert data.get("calendar_clock") == (None if started_before else "local")
    panel = Forecaster.load(run)._read_for_use(df)
    utc = pd.DatetimeIndex(panel.times).hour
    assert (_hours(panel.future) == (utc if started_before else df["date"].dt.hour.to_numpy())).all()
