"""Time zones of a run: the zone it reads times in, answers in and reads calendar features on."""
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.zones import check_zone, clock_zone, forecast_zone, in_zone, reading_zone, same_zone

BERLIN = "Europe/Berlin"
OLD_RUN = {"time_zone": None}                                  # trained before runs read the local clock
LOCAL_RUN = {"calendar_clock": "local", "time_zone": BERLIN}


def test_check_zone_takes_names_pandas_reads_and_refuses_others():
    assert check_zone(" Europe/Berlin ") == BERLIN
    assert check_zone("+01:00") == "+01:00"
    for bad in (5, None, "", "   ", "Mars/Olympus"):
        with pytest.raises(LstmkitError, match="unknown time zone"):
            check_zone(bad)


def test_same_zone_is_one_zone_however_written():
    assert same_zone("utc", "UTC") and same_zone("+01:00", "+0100") and same_zone(None, None)
    assert not same_zone(BERLIN, "UTC") and not same_zone(None, "UTC") and not same_zone("UTC", None)
    assert not same_zone("+01:00", BERLIN)                         # Berlin's offset changes; a fixed one does not


def test_in_zone_keeps_local_dates_on_the_calendar_and_utc_hours_an_hour_apart():
    # clocks in Berlin go from 02:00 to 03:00 on 31 March 2024
    days = pd.DatetimeIndex(["2024-03-30", "2024-03-31", "2024-04-01"]).to_numpy()
    local = in_zone(days, {"time_clock": "local", "time_zone": BERLIN}, BERLIN)
    assert [str(t) for t in local] == ["2024-03-30 00:00:00+01:00", "2024-03-31 00:00:00+01:00",
                                       "2024-04-01 00:00:00+02:00"]          # midnights: a 23-hour day
    hours = pd.date_range("2024-03-31 00:00", periods=3, freq="h").to_numpy()     # naive UTC
    zoned = in_zone(hours, {"time_clock": "utc", "time_zone": BERLIN}, BERLIN)
    assert [str(t) for t in zoned] == ["2024-03-31 01:00:00+01:00", "2024-03-31 03:00:00+02:00",
                                       "2024-03-31 04:00:00+02:00"]          # 02:00 never shows
    assert in_zone(hours, {"time_clock": "utc", "time_zone": BERLIN}, "UTC")[0] == pd.Timestamp("2024-03-31", tz="UTC")
    for info, zone in (({"time_clock": "utc", "time_zone": BERLIN}, None), ({}, BERLIN)):
        assert in_zone(hours, info, zone) is hours                       # no zone to answer in: as they are
    steps = np.arange(3, dtype=np.int64)
    assert in_zone(steps, {"time_clock": "utc", "time_zone": BERLIN}, BERLIN) is steps


def test_the_reading_zone_is_the_users_else_a_local_clock_runs_as_a_guess():
    assert reading_zone(SimpleNamespace(time_zone="UTC"), LOCAL_RUN) == ("UTC", False)
    assert reading_zone(SimpleNamespace(time_zone=None), LOCAL_RUN) == (BERLIN, True)
    no_zone = {"calendar_clock": "local", "time_zone": None}
    assert reading_zone(SimpleNamespace(time_zone=None), no_zone) == (None, False)
    assert reading_zone(SimpleNamespace(time_zone=None), {"time_zone": BERLIN}) == (None, False)    # an old run
    assert reading_zone(SimpleNamespace(time_zone=None), None) == (None, False)


def test_forecast_and_clock_zones_of_a_fit_a_fitted_run_and_an_old_run():
    data = {"time_zone": "America/New_York", "time_clock": "utc"}
    assert forecast_zone(data) == "America/New_York"                          # fitting: the data's
    assert forecast_zone(data, LOCAL_RUN) == BERLIN                           # fitted: the run's
    assert forecast_zone(data, {"calendar_clock": "local", "time_zone": None}) == "America/New_York"
    assert forecast_zone(data, OLD_RUN) is None
    assert clock_zone(data) == "America/New_York"
    assert clock_zone(data, LOCAL_RUN) == BERLIN
    assert clock_zone(data, OLD_RUN) is None                                 # its features read UTC
    assert clock_zone({"time_zone": BERLIN, "time_clock": "local"}) is None  # local dates: on the clock already
    assert clock_zone({"time_zone": BERLIN, "time_clock": "local"}, LOCAL_RUN) is None
