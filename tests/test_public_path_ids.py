"""A panel read as whole arrays (public59) gives what it gave read a row or a series at a time:
``series_codes`` (the id column read a distinct value at a time) against ``pd.factorize(series_labels(...))``
on generated columns of every kind an id comes in (the empty-cell error included); ``read_panel`` (its
series loop skipped for a table with no time column and no empty cell, ``_whole_series``) and the
backtest frame against the same functions with the row-at-a-time and series-at-a-time code swapped back in."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast import backtest, columns, panel
from lstmkit.tasks.forecast.columns import series_codes, series_labels
from lstmkit.tasks.forecast.config import ForecastConfig


def _row_at_a_time(col, name):
    """The reading before public59: each row written as text, stripped, then numbered."""
    return pd.factorize(series_labels(col, name), sort=False)


def _columns(rng, n: int = 3000) -> dict[str, pd.Series]:
    words = np.array(["a", "b ", " b", "c", "Store 7", "  d  ", "é", "x y", "1", "01"])
    ints = rng.integers(-5, 40, n)
    return {
        "text (object)": pd.Series(words[rng.integers(0, len(words), n)].tolist(), dtype=object),
        "text (string)": pd.Series(words[rng.integers(0, len(words), n)], dtype="string"),
        "text (str)": pd.Series(words[rng.integers(0, len(words), n)]).astype(str),
        "int64": pd.Series(ints),
        "Int64 with no NA": pd.Series(ints, dtype="Int64"),
        "whole floats": pd.Series(ints.astype(float)),
        "uint8": pd.Series(ints.clip(0).astype(np.uint8)),
        "floats (not whole)": pd.Series(rng.integers(0, 5, n) / 4),
        "1 and 1.0 and '1' (object)": pd.Series(rng.choice(np.array([1, 1.0, "1", 2, True], dtype=object), n)),
        "bools": pd.Series(rng.integers(0, 2, n).astype(bool)),
        "categories": pd.Series(words[rng.integers(0, 4, n)]).astype("category"),
        "dates": pd.Series(pd.date_range("2024-01-01", periods=7)[rng.integers(0, 7, n)]),
        "empty": pd.Series([], dtype=object),
    }


@pytest.mark.parametrize("kind", list(_columns(np.random.default_rng(0))))
def test_series_codes_are_the_row_at_a_time_numbers(kind):
    col = _columns(np.random.default_rng(3))[kind]
    codes, uniq = series_codes(col, "store")
    old_codes, old_uniq = _row_at_a_time(col, "store")
    assert codes.dtype == old_codes.dtype and np.array_equal(codes, old_codes)
    assert [str(u) for u in uniq] == [str(u) for u in old_uniq]
    assert str(uniq.dtype) == str(old_uniq.dtype)


def test_ids_that_hash_alike_but_write_apart_are_kept_apart():
    codes, uniq = series_codes(pd.Series([1, 1.0, "1", " 1", True], dtype=object), "id")
    assert list(uniq) == ["1", "1.0", "True"] and codes.tolist() == [0, 1, 0, 0, 2]


@pytest.mark.parametrize("col, k", [
    (pd.Series(["a", None, "b", " ", "", np.nan], dtype=object), 4),
    (pd.Series(["a", pd.NA, "  "], dtype="string"), 2),
    (pd.Series([1, pd.NA, 2], dtype="Int64"), 1),
    (pd.Series([1.0, np.nan, 2.0]), 1),
    (pd.Series([" "], dtype=object), 1),
])
def test_an_empty_id_is_refused_as_before(col, k):
    with pytest.raises(LstmkitError) as new:
        series_codes(col, "store")
    with pytest.raises(LstmkitError) as old:
        series_labels(col, "store")
    assert str(new.value) == str(old.value)
    assert re.search(rf"id column 'store' has {k} empty cells?", new.value.message)
    assert "fill those cells or drop those rows" in new.value.hint


def _panel_table(seed: int, ids, with_time: bool, gap: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_series, length = len(ids), 40
    y = rng.normal(10, 2, (n_series, length))
    if gap:
        y[1, 5] = np.nan                           # one unobserved cell: the panel says where
    df = pd.DataFrame({"store": np.repeat(np.asarray(ids, dtype=object), length), "sales": y.reshape(-1)})
    if with_time:
        df["day"] = np.tile(pd.date_range("2024-01-01", periods=length, freq="D"), n_series)
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)    # rows in no order


def _fields(p):
    return {k: v for k, v in vars(p).items()}


def _same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return a is None and b is None or np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    if isinstance(a, list) and a and isinstance(a[0], np.ndarray):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("ids", [[f"s{k}" for k in range(12)], [" a", "b ", " c ", "7", "x y", "é"],
                                 [3, 1, 2, 10], [1.0, 2.0, 5.0]])
@pytest.mark.parametrize("with_time, gap", [(False, False), (True, False), (True, True)])
def test_read_panel_is_what_the_row_at_a_time_reading_gave(ids, with_time, gap, monkeypatch):
    cfg = ForecastConfig(target=["sales"], id="store", time="day" if with_time else None, lookback=5, horizon=2,
                         fill="interpolate" if gap else None)
    df = _panel_table(len(ids), ids, with_time, gap)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new = panel.read_panel(df, cfg, need=None, run={}, fitting=False)
        with monkeypatch.context() as m:
            m.setattr(panel, "series_codes", _row_at_a_time)
            m.setattr(panel, "_whole_series", lambda *args: None)         # the series loop, a series a turn
            m.setattr(panel, "_unobserved", lambda parts, lengths, t: (
                np.concatenate([u if u is not None else np.zeros((n, t), bool) for u, n in zip(parts, lengths)])
                if any(u is not None for u in parts) else None))
            old = panel.read_panel(df, cfg, need=None, run={}, fitting=False)
    assert (new.unobserved is not None) == gap
    for key, value in _fields(old).items():
        assert _same(_fields(new)[key], value), key


def _old_read_panel(df, cfg, monkeypatch, **kw):
    with monkeypatch.context() as m:
        m.setattr(panel, "series_codes", _row_at_a_time)
        m.setattr(panel, "_whole_series", lambda *args: None)
        return panel.read_panel(df, cfg, **kw)


@pytest.mark.parametrize("need, strict", [(None, False), (30, False), (30, True), (90, False)])
def test_whole_series_skip_and_refuse_as_the_loop_did(need, strict, monkeypatch):
    rng = np.random.default_rng(11)
    lengths = [40, 25, 40, 31, 5]                  # some under 30: skipped (an error with strict; all under 90)
    ids = np.repeat(["b", "a", "c", "d", "e"], lengths)
    df = pd.DataFrame({"store": ids, "sales": rng.normal(size=len(ids)), "price": rng.normal(size=len(ids))})
    cfg = ForecastConfig(target=["sales"], id="store", past_covariates=["price"], lookback=5, horizon=2,
                         strict=strict)
    try:
        old = _old_read_panel(df, cfg, monkeypatch, need=need)
    except LstmkitError as e:
        with pytest.raises(LstmkitError) as new:
            panel.read_panel(df, cfg, need=need)
        assert str(new.value) == str(e) and (strict or need == 90)
        return
    new = panel.read_panel(df, cfg, need=need)
    assert not strict and new.skipped == old.skipped and len(new.skipped) == (0 if need is None else 2)
    for key, value in _fields(old).items():
        assert _same(_fields(new)[key], value), key


@pytest.mark.parametrize("ids", [[f"s{k}" for k in range(9)], [" a", "b ", "7"], [3, 1, 2]])
@pytest.mark.parametrize("with_time", [False, True])
def test_backtest_frame_is_what_the_row_at_a_time_reading_gave(ids, with_time, monkeypatch):
    cfg = ForecastConfig(target=["sales"], id="store", time="day" if with_time else None, lookback=5, horizon=2)
    df = _panel_table(7, ids, with_time, gap=False)
    df.loc[df.index[:3], "sales"] = np.nan          # a series' newest rows may hold no value: left out
    new = backtest._long_frame(df, cfg)
    with monkeypatch.context() as m:
        m.setattr(columns, "series_codes", _row_at_a_time)
        old = backtest._long_frame(df, cfg)
    pd.testing.assert_frame_equal(new[0], old[0])
    assert new[1:4] == old[1:4] and np.array_equal(new[4], old[4])
    assert list(new[5]) == list(old[5]) and _same(new[6], old[6])
    with pytest.raises(LstmkitError, match="id column 'store' has 1 empty cell"):
        backtest._long_frame(df.assign(store=df["store"].where(df.index != 4, None)), cfg)
