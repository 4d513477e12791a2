"""Warnings a fitted forecaster's use gives when its answer covers less than was asked.

    say_left_out(skipped, need)        series left out: no target value, or too short to use
    say_rough(panel, lookback, ids)    series shorter than the lookback, or unknown to the run
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

from lstmkit.tasks.forecast.panel import Panel

__all__ = ["say_left_out", "say_rough", "alike_ids", "unknown_series"]


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
        alike = alike_ids(unseen, trained)
        also = (f"; {len(alike)} of them differ from a trained id only in case or spaces (e.g. {alike[0][0]!r} for "
                f"{alike[0][1]!r}): write the ids as the training data did to forecast with what the run learned "
                "of them") if alike else ""
        warnings.warn(f"{len(unseen)} series not in the training data (e.g. {unseen[0]!r}; the run knows "
                      f"{', '.join(map(repr, trained[:3]))}{', ...' if len(trained) > 3 else ''}): forecast with "
                      f"their own history's scaling{also}", UserWarning, stacklevel=4)


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
