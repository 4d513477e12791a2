"""Time zones of forecast times: which zone a run reads times in, answers in, and reads calendar
features on, and naive local times put on a zone's clock.

    localized(times, zone, groups)   naive local times on ``zone``'s clock (the hour shown twice by order,
                                     of each series when ``groups`` is given)
    zone_name(tz)                    a zone as a name pandas reads back (None: none)
    check_zone(zone)                 ``--time-zone`` checked
    in_zone(times, info, zone)       forecast times in the training data's zone
    reading_zone / forecast_zone / clock_zone   ``--time-zone``, the data's or a fitted run's zone, for
                                     reading, answering and calendar features

The readers of time columns are in :mod:`lstmkit.tasks.forecast.times`, which re-exports these.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from lstmkit.errors import LstmkitError

__all__ = ["TwiceInSeries", "localized", "zone_name", "in_zone", "check_zone", "reading_zone", "forecast_zone",
           "clock_zone"]


class TwiceInSeries(ValueError):
    """pandas' error on a time the clock shows twice, of the series ``series`` of a long table."""

    def __init__(self, message: str, series) -> None:
        super().__init__(message)
        self.series = series


def localized(times: pd.Series, zone: str, groups=None) -> pd.Series:
    """Naive local ``times`` on ``zone``'s clock. The hour it shows twice is told apart by its order
    (pandas' ``ambiguous="infer"``): of the whole column, or of each series that has it when
    ``groups`` (a long table's ids) is given, so series that each cross that hour in order, one
    after another in the table, read as they run (the column's order repeated it, and was refused)."""
    if groups is None:
        return times.dt.tz_localize(zone, ambiguous="infer", nonexistent="raise")
    aware = times.dt.tz_localize(zone, ambiguous="NaT", nonexistent="raise")
    twice = aware.isna().to_numpy()                 # no empty cell reaches here: NaT is the hour shown twice
    if twice.any():
        codes, ids = pd.factorize(pd.Series(np.asarray(groups, dtype=object)), use_na_sentinel=False)
        for code in np.unique(codes[twice]):
            rows = np.flatnonzero(codes == code)
            try:
                own = times.iloc[rows].dt.tz_localize(zone, ambiguous="infer", nonexistent="raise")
            except ValueError as e:
                raise TwiceInSeries(str(e), ids[code]) from None
            aware.iloc[rows] = own.array
    return aware


def zone_name(tz) -> str | None:
    """``tz`` as a name pandas reads back (``Europe/Berlin``, ``UTC+01:00``, ``UTC``), for the run to
    remember; None for a zone that has no such name."""
    name = str(tz)
    try:
        pd.DatetimeIndex([0]).tz_localize(name)
    except (ValueError, TypeError, KeyError):
        return None
    return name


def in_zone(times: np.ndarray, info: dict, zone: str | None):
    """Forecast times ``times`` (naive, as the panel read with ``info`` holds them) in ``zone``, the
    training data's: UTC times converted (absolute time: hourly steps stay an hour apart across
    daylight saving), local dates localized (a day is a calendar day, 23 or 25 hours at a change;
    a skipped midnight moves forward). ``times`` as they are when the run or the data has no zone."""
    clock, given = info.get("time_clock"), info.get("time_zone")
    if zone is None or given is None or not np.issubdtype(np.asarray(times).dtype, np.datetime64):
        return times
    index = pd.DatetimeIndex(times)
    if clock == "local":
        index = index.tz_localize(given, nonexistent="shift_forward", ambiguous=np.zeros(len(index), bool))
    else:
        index = index.tz_localize("UTC")
    return index.tz_convert(zone)


def check_zone(zone) -> str:
    """``zone`` (``--time-zone``) when pandas knows it (``Europe/Berlin``, ``UTC``, ``+01:00``); else an
    :class:`LstmkitError`."""
    if not isinstance(zone, str) or not zone.strip() or zone_name(zone.strip()) is None:
        raise LstmkitError(f"unknown time zone {zone!r}", "use an IANA name such as Europe/Berlin, "
                           "America/New_York or UTC (a fixed offset such as +01:00 also reads)")
    return zone.strip()


def same_zone(a: str | None, b: str | None) -> bool:
    """Whether zones ``a`` and ``b`` are one zone however written (``utc`` and ``UTC``, ``+01:00`` and
    ``+0100``): a resume given the run's zone in other letters continues it."""
    if a is None or b is None:
        return a == b
    return pd.DatetimeIndex([0]).tz_localize(a).tz == pd.DatetimeIndex([0]).tz_localize(b).tz


def reading_zone(cfg, run: dict | None = None) -> tuple[str | None, bool]:
    """``(zone, guessed)``: the zone a time column is read in (:func:`time_values`): ``--time-zone``,
    else a fitted run's (``run``: its data summary), whose times without an offset are then read on
    its clock, a guess (``guessed``) that a warning names. None for a run trained before runs read
    the local clock (no ``calendar_clock``): its times read as they did."""
    if getattr(cfg, "time_zone", None):
        return cfg.time_zone, False
    if run and run.get("calendar_clock") == "local" and run.get("time_zone"):
        return run["time_zone"], True
    return None, False


def forecast_zone(info: dict, run: dict | None = None) -> str | None:
    """The zone forecast times are given in, of times read with notes ``info``: a fitting's data's,
    a fitted run's (``run``: its data summary), else, for a run trained without one, the data's own
    (None for a run trained before runs read the local clock, which gave naive times)."""
    if run is None:
        return info.get("time_zone")
    return run.get("time_zone") or (info.get("time_zone") if run.get("calendar_clock") == "local" else None)


def clock_zone(info: dict, run: dict | None = None) -> str | None:
    """The zone on whose local clock calendar features read times that :func:`time_values` read
    with notes ``info`` (naive UTC for hourly data: ``time_clock`` ``utc``), for a run fitting
    (``run`` None) or fitted (``run``: its data summary): :func:`forecast_zone`. None where the times
    are on it already (naive, or local dates) and for a run trained before features followed the
    local clock (no ``calendar_clock`` recorded): UTC as it was."""
    if info.get("time_clock") != "utc" or (run is not None and run.get("calendar_clock") != "local"):
        return None
    return forecast_zone(info, run)
