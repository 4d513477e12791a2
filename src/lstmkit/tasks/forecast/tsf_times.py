"""The time stamps of a ``.tsf`` file's points (:mod:`~lstmkit.tasks.forecast.tsffile`): its
``@frequency`` as a step, each series' start date stepped by it.

    frequency_step(values, at)          ``@frequency monthly`` -> (1, None); ``10_minutes`` -> (0, 10 minutes)
    point_times(starts, lengths, step)  every point's time (months on the calendar), None beyond pandas' years
"""
from __future__ import annotations

import re
from datetime import datetime

import numpy as np
import pandas as pd

from lstmkit.errors import LstmkitError

__all__ = ["FREQUENCIES", "frequency_step", "point_times"]

#: The archive's frequency names and the step each is: (months, fixed time); ``N_minutes`` etc. as well.
FREQUENCIES: dict[str, tuple[int, pd.Timedelta | None]] = {
    "yearly": (12, None), "quarterly": (3, None), "monthly": (1, None), "weekly": (0, pd.Timedelta(weeks=1)),
    "daily": (0, pd.Timedelta(days=1)), "hourly": (0, pd.Timedelta(hours=1)),
    "half_hourly": (0, pd.Timedelta(minutes=30)), "minutely": (0, pd.Timedelta(minutes=1))}
_MULTIPLE = re.compile(r"(\d+)_(second|minute|hour|day|week|month|quarter|year)s?")
_UNIT_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_SPAN_MONTHS = 584 * 12                    # the years pandas' nanosecond time stamps span


def frequency_step(values: list[str], at: str) -> tuple[int, pd.Timedelta | None]:
    """The step of a ``@frequency`` (months, or a fixed time); an unknown one is an error."""
    name = values[0].lower() if len(values) == 1 else ""
    if name in FREQUENCIES:
        return FREQUENCIES[name]
    many = _MULTIPLE.fullmatch(name)
    if many and int(many[1]) > 0:
        k, unit = int(many[1]), many[2]
        try:
            step = (k * _UNIT_MONTHS[unit], None) if unit in _UNIT_MONTHS else (0, pd.Timedelta(**{f"{unit}s": k}))
        except (OverflowError, ValueError):
            step = (_SPAN_MONTHS + 1, None)
        if step[0] > _SPAN_MONTHS:
            raise LstmkitError(f"{at} is a step of {many[1][:20]} {unit}s, longer than the 584 years that pandas' "
                               "time stamps span", "check the number (e.g. '@frequency 10_minutes')")
        return step
    raise LstmkitError(f"{at} names an unknown frequency {' '.join(values)!r}",
                       f"use one of {', '.join(FREQUENCIES)}, or N_seconds / N_minutes / N_hours / N_days / "
                       f"N_weeks / N_months / N_years (e.g. 10_minutes, 4_seconds)")


def point_times(starts: list[datetime], lengths: np.ndarray,
                step: tuple[int, pd.Timedelta | None]) -> np.ndarray | None:
    """Every point's time: its series' start plus its place times the step (months counted on the
    calendar: a series from 31 January is on 28/29 February, 31 March, …); None beyond pandas' years."""
    k = np.concatenate([np.arange(n, dtype=np.int64) for n in lengths])
    try:
        start = pd.DatetimeIndex(np.repeat(pd.to_datetime(starts).to_numpy(), lengths))
        months, fixed = step
        if fixed is not None:
            times = start + pd.to_timedelta(k * fixed.value, unit="ns")
        else:
            total = start.year.to_numpy() * 12 + start.month.to_numpy() - 1 + k * months
            first = pd.to_datetime(pd.DataFrame({"year": total // 12, "month": total % 12 + 1, "day": 1}))
            day = np.minimum(start.day.to_numpy(), first.dt.days_in_month.to_numpy())
            times = pd.DatetimeIndex(first) + pd.to_timedelta(day - 1, unit="D") + (start - start.normalize())
        return times.as_unit("ns").to_numpy()     # nanoseconds, as the time columns of a table read; raises beyond
    except (OverflowError, pd.errors.OutOfBoundsDatetime, ValueError):
        return None
