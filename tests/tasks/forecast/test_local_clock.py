"""Zoned times and the local clock: calendar features of hourly data trained on tz-aware times
follow the local clock (a store that opens at 09:00 in Berlin peaks at hour 9 in winter and
summer alike), recorded as ``data.calendar_clock`` in ``lstmkit.json``; a run saved before that
record reads its features from UTC as it did."""
import json

import numpy as np
import pandas as pd

from lstmkit import Forecaster
from lstmkit.tasks.forecast.calendar import calendar_features
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks.forecast.panel import read_panel

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
