"""Calendar features and future time stamps of a forecast.

    parse_calendar(spec)           "hour,weekday,holidays:US" -> [(name, arg), ...]
    calendar_features(times, spec, zone)  hour / weekday / month (sin, cos) and holiday flags, on zone's clock
    check_calendar_varies(...)     a feature the data's step holds still (hour of daily data) refused
    future_times(last, freq, H)    the horizon's time stamps after a series' last one
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from lstmkit.errors import LstmkitError, flag, opt, worded
from lstmkit.tasks.forecast.grid import _DAY, _business_days, _mean_step, _month_step

__all__ = ["CALENDAR", "parse_calendar", "calendar_names", "calendar_features", "check_calendar_varies", "future_times"]

CALENDAR = ("hour", "weekday", "month", "holidays")
_PERIODS = {"hour": 24, "weekday": 7, "month": 12}


def parse_calendar(spec) -> list[tuple[str, str | None]]:
    """``"hour,weekday,holidays:US"`` or a list -> ``[("hour", None), ..., ("holidays", "US")]``."""
    if spec is None:
        return []
    items = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else [str(s).strip() for s in spec]
    out = []
    for item in filter(None, items):
        name, _, arg = item.partition(":")
        name = name.strip().lower()
        if name not in CALENDAR:
            raise LstmkitError(f"unknown calendar feature {item!r}", f"use any of: {', '.join(CALENDAR)} "
                               "(holidays:CC for a country code, e.g. holidays:US)")
        if name == "holidays":
            arg = (arg.strip() or "US").upper()
            import holidays
            if arg not in holidays.list_supported_countries():
                raise LstmkitError(f"unknown holiday country {arg!r}", "use an ISO code such as US, GB, DE, FR")
        out.append((name, arg or None))
    return out


def calendar_names(calendar: list[tuple[str, str | None]]) -> list[str]:
    names = []
    for name, arg in calendar:
        names += [f"holiday_{arg}"] if name == "holidays" else [f"{name}_sin", f"{name}_cos"]
    return names


def calendar_features(times, calendar, zone: str | None = None) -> np.ndarray:
    """``[N, K]`` features of datetime64 ``times``: sin/cos of hour, weekday, month; 0/1 holidays.
    ``zone``: the clock they follow, naive ``times`` being UTC (a store that opens at 09:00 in
    Berlin peaks at hour 9 in winter and summer alike, at 8 and 7 UTC); None: ``times`` as they are."""
    if isinstance(calendar, (str, list)) and calendar and not isinstance(calendar[0], tuple):
        calendar = parse_calendar(calendar)
    idx = pd.DatetimeIndex(times if times is not None else [])
    if zone is not None:
        idx = (idx.tz_localize("UTC") if idx.tz is None else idx).tz_convert(zone)
    cols = []
    for name, arg in calendar:
        if name == "holidays":
            import holidays
            years = sorted(set(idx.year)) or [2000]
            days = holidays.country_holidays(arg, years=years)
            cols.append(np.array([d in days for d in idx.date], dtype=np.float64))
            continue
        v = {"hour": idx.hour, "weekday": idx.day_of_week, "month": idx.month - 1}[name].to_numpy(dtype=np.float64)
        angle = 2 * np.pi * v / _PERIODS[name]
        cols += [np.sin(angle), np.cos(angle)]
    return np.stack(cols, 1) if cols else np.zeros((len(idx), 0))


# each cyclic feature: the span (in days) a step must reach for it to stay still, that span in words, and what it reads
_STILL_FROM = {"hour": (1, "day", "hour of the day"), "weekday": (7, "week", "day of the week"),
               "month": (365, "year", "month")}


def check_calendar_varies(features: np.ndarray, calendar, times, freq: str | None) -> None:
    """A fit's calendar ``features`` (of ``times``, :func:`calendar_features`) are refused where one is
    the same at every time because the data steps by its period or more (``freq``, else the median step):
    ``--calendar hour`` on daily data, ``weekday`` on weekly, ``month`` on yearly added a constant input,
    without a word. A feature that stays still over a short span of finer data is not judged here."""
    if features.shape[0] < 2:
        return
    if freq:
        days = _mean_step(freq)
    else:
        steps = np.diff(np.asarray(times, dtype="datetime64[ns]").astype(np.int64))
        steps = steps[steps > 0]
        days = float(np.median(steps)) / 86400e9 if len(steps) else None
    if days is None:
        return
    col = 0
    for name, arg in calendar:
        width = 1 if name == "holidays" else 2
        block, col = features[:, col:col + width], col + width
        if name not in _STILL_FROM or days < 0.95 * _STILL_FROM[name][0] or np.ptp(block, axis=0).max() > 1e-9:
            continue
        span, what = _STILL_FROM[name][1:]
        length = f"{days:.3g} day" + ("" if round(days, 3) == 1 else "s")
        step = f"{freq!r} ({length})" if freq else length
        shown = worded(f"{flag('calendar')} {name}", f"{name!r} in calendar=")
        raise LstmkitError(f"{shown} adds a constant input: the data steps by {step}, so the {what} is the same at "
                           "every time", f"drop {name} from {opt('calendar')}: it is for data that steps by less "
                           f"than a {span}")


def future_times(last, freq: str | None, horizon: int, history=None) -> np.ndarray:
    """The ``horizon`` time stamps after ``last``. Datetime: by ``freq``; without one, by the calendar
    months ``history`` steps by when every time falls on one day of the month (:func:`_month_step`),
    else by business days where it is days closed at weekends (:func:`_closed_weekends`: a trading
    calendar, whose holidays leave pandas no frequency), else by its usual step, else a day. Int: by the
    usual step of the integer ``history``, else 1
    (steps numbered 0, 7, 14 go on at 21, not 15). The usual step is one the history takes, its lower
    median: 0, 5, 15 go on at 20 and 25 (the median of 5 and 10 is 7.5, and stamps 22, 29 were none of its steps)."""
    if isinstance(last, (np.integer, int)):
        step = _usual_step(np.asarray(history, dtype=np.int64)) if history is not None else None
        return np.arange(1, horizon + 1, dtype=np.int64) * max(step or 1, 1) + int(last)
    last = pd.Timestamp(last)
    try:
        if freq is not None:
            return pd.date_range(last, periods=horizon + 1, freq=freq)[1:].as_unit("ns").to_numpy()
        months = _month_step(history)
        if months:
            ahead = [last + pd.DateOffset(months=months * k) for k in range(1, horizon + 1)]
        elif _closed_weekends(history):
            return pd.date_range(last, periods=horizon + 1, freq="B")[1:].as_unit("ns").to_numpy()
        else:
            ns = _usual_step(pd.DatetimeIndex(history).as_unit("ns").asi8) if history is not None else None
            step = pd.Timedelta(ns, "ns") if (ns or 0) > 0 else pd.Timedelta(1, "D")     # none, or a repeated stamp
            ahead = [last + step * k for k in range(1, horizon + 1)]
        return pd.DatetimeIndex(ahead).as_unit("ns").to_numpy()
    except (pd.errors.OutOfBoundsDatetime, OverflowError):
        raise LstmkitError(f"the {horizon} steps after {last} run past 2262-04-11, the last date lstmkit computes in",
                           f"the run's horizon ({horizon} steps) is fixed when it is trained: train it again with a "
                           f"smaller {opt('horizon')}, or with the rows read as steps (the table without its time "
                           f"column, and no {opt('time')}); a forecast of this run cannot leave out the "
                           "dates") from None


def _closed_weekends(history) -> bool:
    """Whether dated ``history`` is days closed at weekends: weekdays only, a day apart as a rule (a
    trading day's one stamp: its date, its open or close), across at least one weekend. An exchange's
    trading days with their holidays infer no frequency, and their usual step, a day, dated a Friday's
    forecast Saturday and Sunday."""
    if history is None or len(history) < 3:
        return False
    index = pd.DatetimeIndex(history).as_unit("ns")
    if not (index.day_of_week < 5).all() or _usual_step(index.asi8) != _DAY:
        return False
    return _business_days(index)[1]


def _usual_step(ticks: np.ndarray) -> int | None:
    """The lower median of the steps between sorted ``ticks`` (int64): a step the series takes; None for under two."""
    steps = np.sort(np.diff(ticks))
    return int(steps[(len(steps) - 1) // 2]) if len(steps) else None
