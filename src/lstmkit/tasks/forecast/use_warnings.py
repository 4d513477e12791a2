"""Warnings a fitted forecaster's use gives when its answer covers less than was asked.

    say_left_out(skipped, need)        series left out: no target value, or too short to use
    say_rough(panel, lookback, ids)    series shorter than the lookback, or unknown to the run

Each is one warning naming how many series and one example, raised at the caller's caller (the
public ``predict`` / ``evaluate``), so the forecast or the metrics are never missing series, or
made from less than the run knows, without a word.
"""
from __future__ import annotations

import warnings
from typing import Any

from lstmkit.tasks.forecast.panel import Panel

__all__ = ["say_left_out", "say_rough"]


def say_left_out(skipped: list[dict[str, Any]], need: int | None) -> None:
    """A warning naming the series a fitted run's use leaves out (no target value; fewer points than
    ``need``), which would otherwise be missing from the forecast or the metrics without a word."""
    if not skipped:
        return
    s = skipped[0]
    why = "no target value" if s["reason"] == "no target values" else f"{s['length']} points, fewer than the {need} needed"
    warnings.warn(f"{len(skipped)} series left out (e.g. {s['id']!r}: {why}); the result covers the other "
                  f"series", UserWarning, stacklevel=4)


def say_rough(panel: Panel, lookback: int, trained: list[str]) -> None:
    """A warning for each kind of many-series forecast made on less than the run knows: series
    shorter than the lookback (their window starts with their first value repeated) and series
    the run was not trained on (scaled from their own history, without learned settings)."""
    short = [(sid, int(n)) for sid, n in zip(panel.ids, panel.lengths) if n < lookback]
    if short:
        warnings.warn(f"{len(short)} series shorter than the lookback of {lookback} (e.g. {short[0][0]!r}: "
                      f"{short[0][1]} rows): their windows start with their first value repeated, so their "
                      f"forecasts are rough; send {lookback} rows each", UserWarning, stacklevel=4)
    known = set(trained)
    unseen = [sid for sid in panel.ids if sid not in known]
    if unseen and len(trained) > 1:
        folded = {_folded(sid): sid for sid in trained}
        alike = [(sid, folded[_folded(sid)]) for sid in unseen if _folded(sid) in folded]
        also = (f"; {len(alike)} of them differ from a trained id only in case or spaces (e.g. {alike[0][0]!r} for "
                f"{alike[0][1]!r}): write the ids as the training data did to forecast with what the run learned "
                "of them") if alike else ""
        warnings.warn(f"{len(unseen)} series not in the training data (e.g. {unseen[0]!r}; the run knows "
                      f"{', '.join(map(repr, trained[:3]))}{', ...' if len(trained) > 3 else ''}): forecast with "
                      f"their own history's scaling{also}", UserWarning, stacklevel=4)


def _folded(sid: str) -> str:
    """An id as a person reads it: case and spaces aside (' Store A' and 'store a' alike)."""
    return " ".join(sid.split()).casefold()
