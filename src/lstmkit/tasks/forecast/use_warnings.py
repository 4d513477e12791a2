"""Warnings a fitted forecaster's use gives when its answer covers less than was asked.

    say_left_out(skipped, need)        series left out: no target value, or too short to use
    say_rough(panel, lookback, ids)    series shorter than the lookback, or unknown to the run
    say_stale(ids, last, ahead)        series that end a horizon or more before the newest one
    alike_ids(unseen, trained)         the trained id each unknown one differs from only in case or spaces
    unknown_series(sid, trained)       the service's words for an unknown series id (its alike trained id)

Each is one warning naming how many series and one example, raised at the caller's caller (the
public ``predict`` / ``evaluate``), so the forecast or the metrics are never missing series, or
made from less than the run knows, without a word.  The last two are words, no warning: the
service's refusal of an unknown id (its 422, a stream's error) names the trained id as ``predict``'s
warning does.
"""
from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from lstmkit.errors import callers_level
from lstmkit.tasks.forecast.grid import time_text
from lstmkit.tasks.forecast.panel import Panel

__all__ = ["say_left_out", "say_rough", "say_stale", "alike_ids", "unknown_series"]


def say_left_out(skipped: list[dict[str, Any]], need: int | None) -> None:
    """A warning naming the series a fitted run's use leaves out (no target value; fewer points than
    ``need``), which would otherwise be missing from the forecast or the metrics without a word."""
    if not skipped:
        return
    s = skipped[0]
    why = "no target value" if s["reason"] == "no target values" else f"{s['length']} points, fewer than the {need} needed"
    warnings.warn(f"{len(skipped)} series left out (e.g. {s['id']!r}: {why}); the result covers the other "
                  f"series", UserWarning, stacklevel=callers_level())


def say_rough(panel: Panel, lookback: int, trained: list[str]) -> None:
    """A warning for each kind of many-series forecast made on less than the run knows: series
    shorter than the lookback (their window starts with their first value repeated) and series
    the run was not trained on (scaled from their own history, without learned settings)."""
    short = [(sid, int(n)) for sid, n in zip(panel.ids, panel.lengths) if n < lookback]
    if short:
        warnings.warn(f"{len(short)} series shorter than the lookback of {lookback} (e.g. {short[0][0]!r}: "
                      f"{short[0][1]} rows): their windows start with their first value repeated, so their "
                      f"forecasts are rough; send {lookback} rows each", UserWarning, stacklevel=callers_level())
    known = set(trained)
    unseen = [sid for sid in panel.ids if sid not in known]
    if unseen and len(trained) > 1:
        alike = alike_ids(unseen, trained)
        also = (f"; {len(alike)} of them differ from a trained id only in case or spaces (e.g. {alike[0][0]!r} for "
                f"{alike[0][1]!r}): write the ids as the training data did to forecast with what the run learned "
                "of them") if alike else ""
        warnings.warn(f"{len(unseen)} series not in the training data (e.g. {unseen[0]!r}; the run knows "
                      f"{', '.join(map(repr, trained[:3]))}{', ...' if len(trained) > 3 else ''}): forecast with "
                      f"their own history's scaling{also}", UserWarning, stacklevel=callers_level())


def say_stale(ids: list, last, ahead: list) -> None:
    """A warning naming the series of a many-series forecast whose whole horizon lies at or before the
    newest series' end: ``last[s]`` is series ``s``'s last time, ``ahead[s]`` its forecast's times
    (None: the data has no time column; both as the forecast writes them): dates, which every series
    shares, not step numbers, which may count each series from its own start (an M4 file's). A store
    that closed two years ago was forecast the steps after its own end, long past, among the others'
    next steps, without a word. The example is the series that ends first."""
    stale = [s for s in range(len(ids)) if ahead[s] is not None and len(ahead[s])]
    if len(ids) < 2 or not stale:
        return
    newest = max(stale, key=lambda s: last[s])
    stale = [s for s in stale if ahead[s][-1] <= last[newest]]
    if not stale:
        return
    first, one = min(stale, key=lambda s: last[s]), len(stale) == 1
    warnings.warn(f"{len(stale)} series {'ends' if one else 'end'} a horizon or more before the newest data "
                  f"({'' if one else 'e.g. '}{ids[first]!r}: last time {_shown(last[first])}, while {ids[newest]!r} runs "
                  f"to {_shown(last[newest])}): {'its forecast is' if one else 'their forecasts are'} the "
                  f"{len(ahead[first])} steps after {'its' if one else 'their'} own end, all at or before "
                  f"{_shown(last[newest])}; send {'its' if one else 'their'} recent rows, or leave "
                  f"{'it' if one else 'them'} out of the data", UserWarning, stacklevel=callers_level())


def _shown(t) -> str | int:
    """A time of a forecast as a message writes it: ISO 8601 (with its zone's offset), a step as its number."""
    return t.isoformat() if isinstance(t, pd.Timestamp) else time_text(t)


def alike_ids(unseen: list, trained: list[str]) -> list[tuple[str, str]]:
    """``(id, trained id)`` for each of ``unseen`` that differs from a trained id only in case or
    spaces (``'store a'`` for ``'Store A'``): an id mistyped, not a new series."""
    folded = {_folded(sid): sid for sid in trained}
    return [(sid, folded[_folded(sid)]) for sid in unseen if isinstance(sid, str) and _folded(sid) in folded]


def unknown_series(sid, trained: list[str]) -> tuple[str, str | None]:
    """What the service tells of a request's unknown series ``sid``: the trained id it differs from
    only in case or spaces, if one, and the ids the run knows; and that trained id (None: none)."""
    alike = alike_ids([sid], trained)
    hint = f"it differs from the trained id {alike[0][1]!r} only in case or spaces; " if alike else ""
    return (f"{hint}this model was trained on {len(trained)} series ({', '.join(map(repr, trained[:5]))}"
            f"{', ...' if len(trained) > 5 else ''})"), (alike[0][1] if alike else None)


def _folded(sid: str) -> str:
    """An id as a person reads it: case and spaces aside (' Store A' and 'store a' alike)."""
    return " ".join(sid.split()).casefold()
