"""say_far_outside's screen over many stacked windows (scalers._maybe_far): the same warning, word for
word, as checking every series one by one, on generated panels with series far outside, just inside and
just outside reach, missing values, flat ranges and series without a range."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from lstmkit.tasks.forecast import scalers
from lstmkit.tasks.forecast.scalers import PanelScaler, say_far_outside


def _panel(seed: int, n: int = 64, L: int = 12, T: int = 2):
    rng = np.random.default_rng(seed)
    sc = PanelScaler("minmax")
    sc.targets = [f"y{j}" for j in range(T)]
    ids = [f"s{k}" for k in range(n)]
    for sid in ids:
        sc.fit_one(sid, rng.normal(5, 2, (40, T)))
    z = rng.uniform(-0.2, 1.2, (n, L, T)).astype(np.float32)
    lo, hi = (np.array([sc.ranges[s][i] for s in ids]) for i in (0, 1))
    width = hi - lo
    z[3, 4, 0] = lo[3, 0] - 5 * width[3, 0]                    # far below
    z[7, 0, 1] = hi[7, 1] + 1.0001 * width[7, 1]              # just past reach
    z[8, 0, 1] = hi[8, 1] + 0.9999 * width[8, 1]              # just within reach
    z[9, 2, 0] = np.nan                                       # a missing value, the rest far above
    z[9, 3, 0] = hi[9, 0] + 3 * width[9, 0]
    z[11] = np.nan                                            # nothing but missing values
    z[12, 0, 0] = hi[12, 0] + 50 * width[12, 0] if seed % 2 else z[12, 0, 0]
    sc.ranges[ids[20]] = ([1.0, 1.0], [1.0, 1.0])             # a flat range: never far outside
    z[20] = 40.0
    del sc.ranges[ids[21]]                                    # no range: no check
    z[21] = 40.0
    raw = z.astype(np.float64) * 3 + 1
    return sc, ids, z, raw


def _said(sc, ids, z, raw):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        say_far_outside(sc, ids, z, raw, lambda v: v, False)
    return [str(x.message) for x in w]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_screened_warning_is_every_series_checked(seed, monkeypatch):
    sc, ids, z, raw = _panel(seed)
    screened = _said(sc, ids, z, raw)
    assert scalers._maybe_far(sc, ids, z) != list(range(len(ids)))          # the screen left series out
    monkeypatch.setattr(scalers, "_maybe_far", lambda scaler, ids, z: list(range(len(ids))))
    every = _said(sc, ids, z, raw)
    assert screened == every and len(every) == 1
    more = 4 if seed % 2 else 3                                              # s3, s7, s9 (s12 on odd seeds)
    assert "series 's3'" in every[0]                                          # the first named
    assert f"(and {more - 1} more series)" in every[0]


def test_screen_keeps_every_series_that_is_far_and_few_windows_unscreened():
    sc, ids, z, raw = _panel(5)
    kept = scalers._maybe_far(sc, ids, z)
    far = [k for k, sid in enumerate(ids) if sc.far_outside(sid, z[k]) is not None]
    assert set(far) <= set(kept) and {3, 7, 9} <= set(far) and 8 not in far and 11 in kept
    assert 20 not in kept and 21 not in kept
    assert scalers._maybe_far(sc, ids[:3], z[:3]) == [0, 1, 2]              # below _SCREEN_FROM: all checked
    assert scalers._maybe_far(sc, ids, list(z)) == list(range(len(ids)))    # windows of several lengths: all


def test_a_window_at_the_rounding_edge_of_reach_is_still_checked():
    # a range of -0.1 .. 0.1: 0.1 + 0.2 is 0.30000000000000004, which the exact check finds 1.0000000000000002
    # widths beyond the range (far), where 'hi + width' rounds to that value itself: the screen's margin of 1%
    # of the width sends it (and its mirror below) to the check
    rng = np.random.default_rng(3)
    sc = PanelScaler("minmax")
    sc.targets = ["y"]
    ids = [f"s{k}" for k in range(20)]
    for sid in ids:
        sc.fit_one(sid, rng.normal(5, 2, (40, 1)))
        sc.ranges[sid] = ([-0.1], [0.1])
    z = rng.uniform(-0.1, 0.1, (20, 6, 1))
    z[5, 2, 0], z[9, 1, 0] = 0.1 + (0.1 - -0.1), -0.1 - (0.1 - -0.1)
    far = [k for k, sid in enumerate(ids) if sc.far_outside(sid, z[k]) is not None]
    assert far == [5, 9] and set(far) <= set(scalers._maybe_far(sc, ids, z))
    (said,) = _said(sc, ids, z, z * 3 + 1)
    assert "series 's5'" in said and "(and 1 more series)" in said


@pytest.mark.parametrize("seed", [3, 4])
def test_the_screen_on_ranges_far_from_zero_warns_as_every_series_checked(seed, monkeypatch):
    # every range and window moved up by 10: minmax's ranges of 0 .. 1 are the one place where hi + lo is
    # the width hi - lo
    sc, ids, z, raw = _panel(seed)
    sc.ranges = {sid: ([v + 10 for v in lo], [v + 10 for v in hi]) for sid, (lo, hi) in sc.ranges.items()}
    z = z + np.float32(10)
    screened = _said(sc, ids, z, raw)
    monkeypatch.setattr(scalers, "_maybe_far", lambda scaler, ids, z: list(range(len(ids))))
    assert screened == _said(sc, ids, z, raw) and len(screened) == 1
    assert f"(and {3 if seed % 2 else 2} more series)" in screened[0] and "series 's3'" in screened[0]
