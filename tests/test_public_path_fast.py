"""The public paths' shortcuts (public58) give what the whole paths give, on generated data:
detokenize's ASCII path against every token weighed by its rules (detokenize_each), join_words' ASCII
path against its rules, and a panel's scale, far-outside screen and backtest frame against the per-series
code they replaced (written out here as it was)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.data import vocab
from lstmkit.data.vocab import SPACELESS, join_words
from lstmkit.tasks.forecast import backtest, scalers
from lstmkit.tasks.forecast.scalers import PanelScaler
from lstmkit.tasks.translate.data import _NO_SPACE_AROUND, detokenize, detokenize_each

_PIECES = ["the", "man", "A", "rides", ".", ",", "!", "?", "(", ")", "%", "$", "@-@", "@/@", '"', "'", "dogs",
           "s", "it", "-", ":", ";", "[", "]", "&", "#", "x", "1", "2", "我", "喜", "。", "“", "”", "„", "‚", "‘", "’",
           "¿", "¡", "é", "e\u0301", "👍", "🏽", "\u200d", "🇫", "🇷", "«", "»", ""]
_ASCII = [p for p in _PIECES if p.isascii()]


@pytest.mark.parametrize("pool", [_PIECES, _ASCII, [p for p in _ASCII if p and p not in ('"', "'", "@-@", "@/@")]])
def test_detokenize_is_each_token_weighed(pool):
    rng = np.random.default_rng(len(pool))
    lists = [list(rng.choice(pool, int(rng.integers(0, 12)))) for _ in range(3000)]
    assert [detokenize(t) for t in lists] == [detokenize_each(t) for t in lists]
    fast = [t for t in lists if all(t) and "".join(t).isascii() and not {'"', "'"} & set(t)
            and "@" not in "".join(t)]
    assert len(fast) > 100 or pool is _PIECES       # the shortcut itself was checked, many times over
    assert detokenize(["a", "man", "(", "tall", ")", ",", "rides", "."]) == "a man (tall), rides."


def _joined_each(words, no_space):
    """join_words as it was: each word weighed by its rules."""
    mark, attached, out = vocab._one_of(no_space), vocab._attached(), []
    for k, w in enumerate(words):
        before = words[k - 1][-1:] if k else ""
        if k and not (mark.match(w[:1]) or mark.match(before) or attached.match(w[:1]) or before == vocab._ZWJ
                      or vocab._REGIONAL.match(before) and vocab._REGIONAL.match(w[:1])):
            out.append(" ")
        out.append(w)
    return "".join(out)


@pytest.mark.parametrize("no_space", [SPACELESS, _NO_SPACE_AROUND, "a-z", "\\-"])
def test_join_words_is_each_word_weighed(no_space):
    rng = np.random.default_rng(7)
    lists = [list(rng.choice(_PIECES if k % 2 else _ASCII, int(rng.integers(0, 8)))) for k in range(2000)]
    assert [join_words(w, no_space) for w in lists] == [_joined_each(w, no_space) for w in lists]
    assert vocab._ascii_free(SPACELESS) and not vocab._ascii_free("a-z")


def _scaler(seed: int, n: int = 200, T: int = 2):
    rng = np.random.default_rng(seed)
    sc = PanelScaler("standard")
    ids = [f"s{k}" for k in range(n)]
    for sid in ids:
        sc.fit_one(sid, rng.normal(rng.uniform(-5, 5), rng.uniform(0.1, 3), (30, T)))
    return sc, ids, rng


def _screen_each(scaler, ids, z):
    """The screen's ranges as _maybe_far built them, a series at a time."""
    n, T = len(ids), z.shape[2]
    lo, hi, odd = np.full((n, T), np.nan), np.full((n, T), np.nan), np.zeros(n, bool)
    for k, sid in enumerate(ids):
        r = scaler.ranges.get(sid)
        if r is not None and len(r[0]) == len(r[1]) == T:
            lo[k], hi[k] = r
        elif r is not None:
            odd[k] = True
    return lo, hi, odd


@pytest.mark.parametrize("seed", [0, 1])
def test_far_outside_screen_reads_the_ranges_as_each_series_did(seed, monkeypatch):
    sc, ids, rng = _scaler(seed)
    del sc.ranges["s5"]                                   # no range
    sc.ranges["s9"] = ([0.0], [1.0])                      # a range of another width: checked by hand
    sc.ranges["s11"] = ([1, 2], [3, 4])                   # whole numbers, as a run file may hold them
    z = rng.normal(0, 2, (len(ids), 12, 2))
    z[40, 3, 1] = np.nan
    seen = {}
    real_flatnonzero = np.flatnonzero

    def caught(a):                                        # the screen's last step: its mask, kept to compare
        seen["mask"] = np.asarray(a).copy()
        return real_flatnonzero(a)
    monkeypatch.setattr(scalers.np, "flatnonzero", caught)
    kept = scalers._maybe_far(sc, ids, z)
    monkeypatch.setattr(scalers.np, "flatnonzero", real_flatnonzero)
    lo, hi, odd = _screen_each(sc, ids, z)
    width = np.where(hi - lo > 0, hi - lo, np.inf)
    zmin, zmax = z.min(1), z.max(1)
    with np.errstate(invalid="ignore"):
        near = (zmin < lo - 0.99 * scalers.FAR_OUTSIDE * width) | (zmax > hi + 0.99 * scalers.FAR_OUTSIDE * width)
    near |= (np.isnan(zmin) | np.isnan(zmax)) & ~np.isnan(lo)
    assert np.array_equal(seen["mask"], near.any(1) | odd)
    assert kept == np.flatnonzero(near.any(1) | odd).tolist() and 9 in kept and 40 in kept and 5 not in kept


def test_backtest_frame_keeps_the_rows_a_groupby_kept():
    rng = np.random.default_rng(3)
    rows = []
    for k in range(60):
        n = int(rng.integers(5, 30))
        y = rng.normal(size=n)
        if k % 3 == 0:
            y[int(rng.integers(1, n)):] = np.nan          # its future rows
        if k % 7 == 0:
            y[:] = np.nan                                 # a series with no value at all
        rows.append(pd.DataFrame({"id": f"id{k % 25}-{k}", "t": np.arange(n), "y": y}))
    df = pd.concat(rows).sample(frac=1, random_state=0).reset_index(drop=True)   # series not contiguous

    class Cfg:
        format, target, id, time, dates, fill = "long", ["y"], "id", "t", None, None
        time_zone = None
    frame, *_ = backtest._long_frame(df, Cfg())
    ordered = df.sort_values(["id", "t"], kind="stable")
    codes = pd.factorize(ordered["id"].astype(str).str.strip(), sort=False)[0]
    known = np.where(ordered["y"].notna().to_numpy(), np.arange(len(ordered)), -1)
    keep = np.arange(len(ordered)) <= pd.Series(known).groupby(codes).transform("max").to_numpy()
    expected = ordered[keep].reset_index(drop=True)
    assert frame["y"].equals(expected["y"]) and frame["id"].tolist() == expected["id"].tolist()
    assert len(frame) < len(df)                           # rows were left out: the rule was exercised
