import math

import numpy as np
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.m4 import (m4_scores, mase, mase_scale, naive2, read_m4_test, read_m4_wide,
                                       seasonal_indices, seasonality_test, smape)


# -- reader ----------------------------------------------------------------------------------
def _write(tmp_path, text, name="w.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


WIDE = ('"V1","V2","V3","V4","V5"\n'
        '"W1","10","11.5","12",""\n'
        '"W2","3","4","5","6"\n'
        '"W3","7","","",""\n')


def test_reader_long_format_with_ragged_rows(tmp_path):
    df = read_m4_wide(_write(tmp_path, WIDE))
    assert list(df.columns) == ["id", "t", "value"]
    assert df["id"].tolist() == ["W1"] * 3 + ["W2"] * 4 + ["W3"]
    assert df["t"].tolist() == [0, 1, 2, 0, 1, 2, 3, 0]
    assert df["value"].tolist() == [10, 11.5, 12, 3, 4, 5, 6, 7]
    assert df["t"].dtype == np.int64 and df["value"].dtype == np.float64


def test_test_reader_continues_time_and_follows_train_order(tmp_path):
    train = read_m4_wide(_write(tmp_path, WIDE))
    test = read_m4_test(_write(tmp_path, '"V1","V2","V3"\n"W2","7","8"\n"W1","13","14"\n"W3","8","9"\n', "t.csv"),
                        train)
    assert test["id"].tolist() == ["W1", "W1", "W2", "W2", "W3", "W3"]
    assert test["t"].tolist() == [3, 4, 4, 5, 1, 2]
    assert test["value"].tolist() == [13, 14, 7, 8, 8, 9]
    # without train: plain long format
    assert read_m4_test(tmp_path / "t.csv")["t"].tolist() == [0, 1] * 3


def test_test_reader_rejects_unpaired_ids(tmp_path):
    train = read_m4_wide(_write(tmp_path, WIDE))
    with pytest.raises(LstmkitError, match="does not pair.*'H9'"):
        read_m4_test(_write(tmp_path, '"V1","V2"\n"W1","1"\n"W2","1"\n"H9","1"\n', "t.csv"), train)


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ('"V1"\n"W1"\n', "needs the id"),
    ('"V1","V2"\n', "no series"),
    ('"V1","V2","V3"\n"W1","1","abc"\n', "non-numeric value 'abc'"),
    ('"V1","V2","V3","V4"\n"W1","1","","3"\n', "empty cell before column 'V4'"),
    ('"V1","V2","V3"\n"W1","1","2"\n"W1","3","4"\n', "'W1' appears more than once"),
    ('"V1","V2","V3"\n"W1","1","2"\n"W2","",""\n', "'W2' has no values"),
    ('"V1","V2"\n"W1","1"\n\n"","1"\n', "series on line 4 has no id"),     # was 'data row 2'
    ('"V1","V2"\n"W1","inf"\n', "non-numeric"),
])
def test_reader_bad_files(tmp_path, text, words):
    with pytest.raises(LstmkitError, match=words):
        read_m4_wide(_write(tmp_path, text))


def test_reader_missing_file(tmp_path):
    with pytest.raises(LstmkitError, match="not found"):
        read_m4_wide(tmp_path / "nope.csv")


# -- metrics ---------------------------------------------------------------------------------
def test_smape_hand_checked():
    assert smape([5.0, 5.0], [4.0, 6.0]) == pytest.approx(200 * (1 / 9 + 1 / 11) / 2)
    assert smape([2.0, 0.0], [2.0, 0.0]) == 0.0            # 0/0 counts 0
    assert smape([1.0], [-1.0]) == pytest.approx(200.0)   # the sMAPE maximum


def test_mase_scale_and_mase_hand_checked():
    x = [1.0, 5.0, 2.0, 7.0, 4.0, 8.0]
    assert mase_scale(x, 1) == pytest.approx(np.mean([4, 3, 5, 3, 4]))
    assert mase_scale(x, 2) == pytest.approx(np.mean([1, 2, 2, 1]))
    assert mase(x, [10.0, 10.0], [8.0, 11.0], m=2) == pytest.approx(1.5 / 1.5)
    assert math.isinf(mase([3.0, 3.0, 3.0], [4.0], [3.0], m=1))   # constant history: scale 0
    with pytest.raises(LstmkitError, match="more than m=2"):
        mase_scale([1.0, 2.0], 2)


def test_scores_owa_against_naive2_on_dataset_means():
    hist = [np.array([1.0, 2.0, 4.0]), np.array([10.0, 10.0, 12.0, 14.0])]
    actual = np.array([[5.0, 5.0], [14.0, 16.0]])
    fc = np.array([[4.0, 6.0], [15.0, 15.0]])
    s = m4_scores(hist, actual, fc, m=1)
    # Naive2 with m = 1 is the last value: [4, 4] and [14, 14]
    s1, s2 = 200 * (1 / 9 + 1 / 11) / 2, 200 * (1 / 29 + 1 / 31) / 2
    n1, n2 = 200 * (1 / 9 + 1 / 9) / 2, 200 * (0 + 2 / 30) / 2
    q1, q2 = 1 / 1.5, 1 / (4 / 3)
    r1, r2 = 1 / 1.5, 1 / (4 / 3)
    assert s["sMAPE"] == pytest.approx((s1 + s2) / 2)
    assert s["sMAPE_naive2"] == pytest.approx((n1 + n2) / 2)
    assert s["MASE"] == pytest.approx((q1 + q2) / 2)
    assert s["MASE_naive2"] == pytest.approx((r1 + r2) / 2)
    assert s["OWA"] == pytest.approx(0.5 * ((s1 + s2) / (n1 + n2) + 1.0))
    # Naive2 itself scores OWA 1
    assert m4_scores(hist, actual, np.array([[4.0, 4.0], [14.0, 14.0]]), m=1)["OWA"] == pytest.approx(1.0)
    with pytest.raises(LstmkitError, match="differ in shape"):
        m4_scores(hist, actual, fc[:, :1], m=1)


# -- Naive2 ----------------------------------------------------------------------------------
@pytest.mark.parametrize("m", [24, 7])
def test_naive2_recovers_exact_multiplicative_seasonality(m):
    rng = np.random.default_rng(0)
    pattern = rng.uniform(0.5, 1.5, m)
    n, h = 12 * m + 5, 2 * m + 3     # m=24: n >= 252 so R's acf window reaches lag 24
    x = 50.0 * pattern[np.arange(n) % m]
    idx = seasonal_indices(x, m)
    np.testing.assert_allclose(idx, pattern[np.arange(n) % m] / pattern.mean(), rtol=1e-12)
    assert seasonality_test(x, m)
    np.testing.assert_allclose(naive2(x, h, m), 50.0 * pattern[np.arange(n, n + h) % m], rtol=1e-12)


def test_naive2_on_trended_seasonal_series_reseasonalises_the_last_adjusted_value():
    m = 12
    t = np.arange(120)
    season = 1 + 0.3 * np.sin(2 * np.pi * t / m)
    x = (100 + 0.5 * t) * season
    f = naive2(x, 24, m)
    idx = seasonal_indices(x, m)
    np.testing.assert_allclose(f, x[-1] / idx[-1] * np.resize(idx[-m:], 24))
    assert abs(f[0] / f[6] - season[120 % m] / season[126 % m]) < 0.05   # shape of the cycle kept


def _limit_by_hand(x, m):
    n, d = len(x), x - x.mean()
    r = [sum(d[k:] * d[:n - k]) / sum(d * d) for k in range(1, m + 1)]
    return abs(r[m - 1]), 1.645 * math.sqrt((1 + 2 * sum(v * v for v in r[:m - 1])) / n)


def test_seasonality_test_matches_the_90_percent_acf_limit():
    rng = np.random.default_rng(3)
    m = 4
    seen = set()
    for amp in (0.0, 0.2, 0.4, 0.8, 2.0):
        x = 10 + amp * np.tile([1.0, -1.0, 0.5, -0.5], 10) + rng.normal(size=40)
        r, limit = _limit_by_hand(x, m)
        assert seasonality_test(x, m) == (r > limit)
        seen.add(r > limit)
    assert seen == {True, False}


def test_seasonality_test_short_series_and_m1():
    m = 24
    x = np.tile(np.r_[np.ones(12), 3 * np.ones(12)], 3)           # 72 points: 3m, but R's acf stops at lag 18
    assert not seasonality_test(x, m)
    assert not seasonality_test(np.tile(x, 3)[:251], m)            # 251 points: floor(10 log10 n) = 23
    assert seasonality_test(np.tile(x, 4)[:252], m)                # 252 points reach lag 24
    assert not seasonality_test(x[:71], m)                          # < 3m
    assert not seasonality_test(x, 1)
    np.testing.assert_array_equal(naive2(x, 5, m), np.full(5, x[-1]))   # not seasonal -> plain naive


@pytest.mark.parametrize("m, n", [(24, 300), (7, 53), (12, 30)])
def test_seasonal_indices_agree_with_statsmodels_classical_decomposition(m, n):
    from statsmodels.tsa.seasonal import seasonal_decompose
    rng = np.random.default_rng(m)
    x = (20 + 0.1 * np.arange(n)) * (1 + 0.2 * np.sin(2 * np.pi * np.arange(n) / m)) * rng.uniform(0.9, 1.1, n)
    ref = seasonal_decompose(x, model="multiplicative", period=m, two_sided=True).seasonal
    np.testing.assert_allclose(seasonal_indices(x, m), ref, rtol=1e-10)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_naive2_of_seasons_with_zeros_is_finite_and_quiet():
    """Intermittent data in the M4 layout: a season of zeros made the moving average 0, and its ratio
    0/0 a RuntimeWarning (an error under ``-W error``); a last point at a position where every value
    is 0 has seasonal index 0, and its 0/0 made every Naive2 forecast NaN, OWA NaN for the whole set.
    Naive2 reseasonalises the newest adjusted value whose index is not 0."""
    m, pattern = 12, np.r_[np.arange(1, 12.0), 30.0]
    late = np.r_[np.zeros(26), np.tile(pattern, 5)]              # a season of zeros, then the pattern
    idx = seasonal_indices(late, m)
    assert np.isfinite(idx).all() and idx[:m].mean() == pytest.approx(1.0)
    ends_at_zero = np.tile(np.r_[np.arange(1, 12.0), 0.0], 5) * np.linspace(1, 1.5, 60)  # every 12th 0, the last too
    assert seasonality_test(ends_at_zero, m)
    f = naive2(ends_at_zero, 4, m)
    idx = seasonal_indices(ends_at_zero, m)
    assert idx[-1] == 0 and np.isfinite(f).all()
    np.testing.assert_allclose(f, ends_at_zero[-2] / idx[-2] * idx[-m:][:4])
    s = m4_scores([ends_at_zero], np.full((1, 4), 2.0), np.ones((1, 4)), m)
    assert np.isfinite(s["OWA"])
    perfect = m4_scores([ends_at_zero], f[None], np.ones((1, 4)), m)    # Naive2 scores 0: OWA inf, as in R
    assert perfect["sMAPE_naive2"] == 0 and perfect["OWA"] == np.inf
