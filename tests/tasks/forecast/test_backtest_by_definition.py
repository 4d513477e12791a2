"""The rolling-origin backtest on series whose folds are known by definition: of K folds with horizon H and
step s, fold k cuts a series of n points at n - H - s·(K - 1 - k) and scores the H points after the cut. On
clean trends y = a + b·t a forecaster that extends the history's last value by b a step is exact exactly when
it reads the history up to the cut and is scored on the points right after it; the naive forecast misses step
h by b·h, the seasonal naive one (season 4) by 4b, and the MASE scale (seasonal differences before the cut) is 4b.
The model's forecasts come from a stand-in predict that records what each fold showed it."""
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lstmkit import Forecaster
from lstmkit.tasks.forecast import backtest as backtest_module
from one_thread import one_thread_per_module  # noqa: F401  (autouse: one torch thread, module fixtures too)

QUICK = dict(lookback=4, horizon=2, season=4, hidden_size=8, num_layers=1, dropout=0.0, batch_size=64, lr=1e-2,
             progress="off", tensorboard=False, device="cpu", doctor=False, ensemble=1, max_epochs=1,
             samples_per_epoch=32, seed=0, combine="none", ets=False, val_size=2, test_size=2)
SLOPES = {"b": (100.0, 3.0, 23), "a": (10.0, 2.0, 20)}        # id: (start, slope, length); not in sorted order
K, H, STEP = 3, 2, 3


def trends() -> pd.DataFrame:
    parts = [pd.DataFrame({"store": sid, "time": pd.date_range("2021-01-01", periods=n, freq="D"),
                           "y": a + b * np.arange(n)}) for sid, (a, b, n) in SLOPES.items()]
    return pd.concat(parts, ignore_index=True)


def cuts_of(n: int) -> list[int]:
    return [n - H - STEP * (K - 1 - k) for k in range(K)]


@pytest.fixture(scope="module")
def fitted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Forecaster(**QUICK).fit(trends(), target="y", time="time", id="store")


def drift(seen: list, H: int = H):
    """A predict that extends each series' last observed value by its slope, recording the rows it was given."""
    def predict(history: pd.DataFrame) -> pd.DataFrame:
        seen.append(history.copy())
        out = []
        for sid, g in history.groupby("store", sort=False):
            y = g["y"].dropna().to_numpy()
            out.append(pd.DataFrame({"store": sid, "step": np.arange(1, H + 1),
                                     "y": y[-1] + SLOPES[sid][1] * np.arange(1, H + 1)}))
        return pd.concat(out, ignore_index=True)
    return predict


def naive_rows(k: int) -> dict[str, float]:
    """Fold k's naive MAE, MAPE and MASE, the means over the two series, from the definition."""
    mae, mape, mase = [], [], []
    for a, b, n in SLOPES.values():
        c = cuts_of(n)[k]
        actual = a + b * (c + np.arange(H))
        err = b * np.arange(1, H + 1)
        mae.append(err.mean())
        mape.append(100 * np.mean(err / actual))
        mase.append(err.mean() / (4 * b))
    return {"MAE": np.mean(mae), "MAPE": np.mean(mape), "MASE": np.mean(mase)}


def check_result(res, seen, columns=("store", "time", "y")):
    rows = {(r["fold"], r["model"]): r for r in res["folds"]}
    assert sorted({r["fold"] for r in res["folds"]}) == [1, 2, 3]
    for k in range(K):
        assert rows[(k + 1, "lstm")]["MAE"] == 0.0 and rows[(k + 1, "lstm")]["RMSE"] == 0.0
        assert rows[(k + 1, "lstm")]["series"] == 2
        want = naive_rows(k)
        for metric, value in want.items():
            assert rows[(k + 1, "naive")][metric] == pytest.approx(value), (k, metric)
        assert rows[(k + 1, "seasonal_naive")]["MAE"] == pytest.approx(4 * 2.5)   # 4 steps of the slope
        assert rows[(k + 1, "seasonal_naive")]["MASE"] == pytest.approx(1.0)
        assert rows[(k + 1, "seasonal_naive")]["RMSE"] == pytest.approx(4 * 2.5)  # of each series its MAE
    # fold k's history of each series: its points before the cut, then H rows with the target blanked
    assert len(seen) == K
    for k, history in enumerate(seen):
        for sid, (a, b, n) in SLOPES.items():
            assert list(history.columns) == list(columns)               # the table's columns, no others
            g = history[history["store"] == sid]
            c = cuts_of(n)[k]
            assert len(g) == c + H and g["y"].iloc[c:].isna().all()
            np.testing.assert_array_equal(g["y"].iloc[:c].to_numpy(), a + b * np.arange(c))
    assert res["aggregate"]["naive"]["MAE"] == pytest.approx(np.mean([naive_rows(k)["MAE"] for k in range(K)]))
    assert res["aggregate"]["naive"]["MAPE"] == pytest.approx(np.mean([naive_rows(k)["MAPE"] for k in range(K)]))


def test_a_fixed_models_folds_cut_each_series_at_its_own_end_and_score_the_points_after(fitted, monkeypatch):
    seen = []
    monkeypatch.setattr(backtest_module, "fold_forecasts", lambda *args: None)     # fold by fold, through predict
    monkeypatch.setattr(fitted, "predict", drift(seen))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                     # the run trained on points inside the folds
        res = fitted.backtest(trends(), folds=K, step=STEP)
    check_result(res, seen)
    assert res["settings"]["model"] == "the given run (fixed)"


def test_each_refit_fold_model_trains_on_the_history_before_its_cut_alone(fitted, monkeypatch):
    seen, trained = [], []
    monkeypatch.setattr(fitted, "predict", drift(seen))
    monkeypatch.setattr(backtest_module, "_train", lambda cls, cfg, history, *a: trained.append(history) or fitted)
    res = Forecaster(**QUICK, target="y", time="time", id="store").backtest(trends(), folds=K, step=STEP, refit=True)
    check_result(res, seen)
    assert len(trained) == K
    for k, history in enumerate(trained):
        assert history["y"].notna().all()                  # no blanked rows: every training point is observed
        for sid, (a, b, n) in SLOPES.items():
            assert len(history[history["store"] == sid]) == cuts_of(n)[k]


def test_an_unfitted_fixed_backtest_trains_once_on_the_history_before_the_first_cut(fitted, monkeypatch):
    seen, trained = [], []
    monkeypatch.setattr(fitted, "predict", drift(seen))
    monkeypatch.setattr(backtest_module, "fold_forecasts", lambda *args: None)
    monkeypatch.setattr(backtest_module, "_train", lambda cls, cfg, history, *a: trained.append(history) or fitted)
    res = Forecaster(**QUICK, target="y", time="time", id="store").backtest(trends(), folds=K, step=STEP)
    check_result(res, seen)
    assert len(trained) == 1
    for sid, (a, b, n) in SLOPES.items():
        assert len(trained[0][trained[0]["store"] == sid]) == cuts_of(n)[0]


@pytest.mark.parametrize("n, kept", [(10, True), (9, False)])
def test_a_series_of_exactly_the_points_the_folds_need_is_backtested(fitted, n, kept, monkeypatch):
    """3 folds of horizon 2 and step 3 need 2 + 3·2 + 2 = 10 points: the first fold's history is then 2 points
    (the least a naive forecast and a MASE scale are read from); 9 leave the series out by name."""
    seen = []
    monkeypatch.setattr(fitted, "predict", drift(seen))
    monkeypatch.setattr(backtest_module, "fold_forecasts", lambda *args: None)
    df = trends()
    df = df[(df["store"] == "b") | (df.groupby("store").cumcount() < n)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fitted.backtest(df, folds=K, step=STEP)
    assert res["skipped"] == ([] if kept else [{"id": "a", "length": 9, "need": 10, "reason": "shorter than needed"}])
    assert [r["series"] for r in res["folds"] if r["model"] == "lstm"] == [2 if kept else 1] * K
    if kept:        # the first fold reads a's 2 points: naive misses by 2 and 4 of 10 + 2·2 and 10 + 2·3
        g = seen[0][seen[0]["store"] == "a"]
        assert g["y"].tolist()[:2] == [10.0, 12.0] and g["y"].iloc[2:].isna().all()


def test_a_short_series_left_out_leaves_the_others_scored_as_they_are(fitted, monkeypatch):
    """A short series first in the table, the others after it in no sorted order of ids: they are still
    each cut at its own end and scored on its own points."""
    seen = []
    monkeypatch.setattr(fitted, "predict", drift(seen))
    monkeypatch.setattr(backtest_module, "fold_forecasts", lambda *args: None)
    short = pd.DataFrame({"store": "c", "time": pd.date_range("2021-01-01", periods=5, freq="D"), "y": 1.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fitted.backtest(pd.concat([short, trends()], ignore_index=True), folds=K, step=STEP)
    assert [s["id"] for s in res["skipped"]] == ["c"]
    check_result(res, seen)
    # without a time column the series stay in the table's order (b before a), each read as itself
    seen.clear()
    monkeypatch.setattr(backtest_module, "_train", lambda cls, cfg, history, *a: SimpleNamespace(
        predict=drift(seen), config_=cfg, season_=4))
    untimed = pd.concat([short, trends()], ignore_index=True).drop(columns="time")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = Forecaster(**QUICK, target="y", id="store").backtest(untimed, folds=K, step=STEP, refit=True)
    assert [s["id"] for s in res["skipped"]] == ["c"]
    check_result(res, seen, columns=("store", "y"))


def test_a_backtest_without_a_horizon_forecasts_one_step(monkeypatch):
    """Settings with no horizon (fit's default: 1) backtest folds of one step each."""
    seen = []
    monkeypatch.setattr(backtest_module, "_train", lambda cls, cfg, history, *a: SimpleNamespace(
        predict=drift(seen, H=1), config_=cfg, season_=4))
    settings = {k: v for k, v in QUICK.items() if k != "horizon"}
    res = Forecaster(**settings, target="y", time="time", id="store").backtest(trends(), folds=K, refit=True)
    assert res["settings"]["horizon"] == 1 and res["settings"]["step"] == 1
    for k, history in enumerate(seen):
        for sid, (a, b, n) in SLOPES.items():
            assert len(history[history["store"] == sid]) == n - 1 - (K - 1 - k) + 1
    naive = [r["MAE"] for r in res["folds"] if r["model"] == "naive"]
    assert naive == pytest.approx([np.mean([b for a, b, n in SLOPES.values()])] * K)   # one step: the slope


def test_a_folds_mean_over_series_is_of_the_finite_values_and_undefined_without_any():
    """Fold means of a metric over its series: of the finite values alone, NaN for a fold with none (a MAPE
    of series that are 0 throughout), never 0."""
    from lstmkit.tasks.forecast.backtest import _group_mean, _mean
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # no numpy 'invalid value' of the empty folds either
        got = _group_mean(np.array([1.0, np.nan, 3.0, np.inf, 5.0]), np.array([0, 1, 0, 2, 2]), 4)
    np.testing.assert_array_equal(got, [2.0, np.nan, 5.0, np.nan])
    assert _mean([1.0, np.nan, 2.0]) == 1.5 and np.isnan(_mean([np.nan, np.inf]))


@pytest.mark.parametrize("cut", range(2, 11))
def test_a_folds_mase_scale_is_the_seasonal_difference_before_its_cut_and_lag_1_up_to_one_season(cut):
    """y = t²: its lag-1 differences are 2t - 1, its lag-4 ones 8t - 16; a history of no more than one season
    (4 points) is scaled by the lag-1 differences, a longer one by the seasonal ones."""
    from lstmkit.tasks.forecast.backtest import _mase_scales, _Series
    t = np.arange(12.0)
    ser = _Series(pd.DataFrame({"y": t ** 2}), ["y"], np.zeros(12, dtype=np.intp), pd.Index(["s"]))
    want = np.mean(2 * t[1:cut] - 1) if cut <= 4 else np.mean(8 * t[4:cut] - 16)
    assert _mase_scales(ser, np.array([0]), np.array([cut]), 4)[0, 0] == pytest.approx(want)


def score(values_by_series: list, cuts: list, season: int = 4, h: int = 2):
    """_score of one fold of the given series, each cut at ``cuts[s]``, the model forecasting 0."""
    from lstmkit.tasks.forecast.backtest import _score, _Series
    values = np.concatenate(values_by_series)
    codes = np.repeat(np.arange(len(values_by_series)), [len(v) for v in values_by_series])
    ser = _Series(pd.DataFrame({"y": values}), ["y"], codes, pd.Index([f"s{i}" for i in range(len(codes))][:len(
        values_by_series)]))
    S = len(values_by_series)
    return _score(ser, np.array([cuts]), np.zeros((1, S, h, 1)), np.ones((1, S), bool), np.array([season]), h, "m")


def test_the_seasonal_naive_forecast_needs_one_season_before_the_cut_and_falls_back_to_naive_series_by_series():
    """y = 10 + 2t cut after 4 points (season 4) forecasts y[0], y[1]: misses 8 and 8; cut after 3 it is the
    naive forecast y[2], missing 2 and 4. In one fold the two series are each forecast their own way."""
    from lstmkit.tasks.forecast.metrics import METRIC_NAMES
    y = 10 + 2 * np.arange(8.0)
    mae = METRIC_NAMES.index("MAE")
    means, count, _ = score([y, y], [4, 3])
    assert count.tolist() == [2]
    assert means["naive"][0, mae] == pytest.approx(3.0)
    assert means["seasonal_naive"][0, mae] == pytest.approx((8.0 + 3.0) / 2)
    assert score([y], [4])[0]["seasonal_naive"][0, mae] == pytest.approx(8.0)
    assert score([y], [3])[0]["seasonal_naive"][0, mae] == pytest.approx(3.0)


def test_the_zero_warning_names_other_folds_only_when_some_have_no_mape():
    """A fold whose actual values after the cut are 10 and 0: MAPE leaves out the 0, and every series' fold has
    a MAPE, so the warning names no others."""
    y = np.array([10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 0.0])
    with pytest.warns(UserWarning, match=r"^MAPE leaves out the 1 of 2 backtest points whose actual value is 0 "
                                         r"\(a percentage of 0 is undefined\): it is the mean over the other 1"):
        score([y], [5])
    with pytest.warns(UserWarning, match=r"the 2 are those of the 1 series' folds not 0 throughout, the other 1 "
                                         r"having no MAPE\)"):
        score([y, np.zeros(7)], [5, 5])


def test_an_infinite_value_before_the_cut_makes_the_scale_infinite_and_no_observed_difference_nan():
    from lstmkit.tasks.forecast.backtest import _mase_scales, _Series
    y = np.array([1.0, 2.0, 4.0, np.inf, 5.0, np.nan, 7.0, np.nan, 9.0])
    ser = _Series(pd.DataFrame({"y": y}), ["y"], np.zeros(len(y), dtype=np.intp), pd.Index(["s"]))
    assert _mase_scales(ser, np.array([0]), np.array([4]), 1)[0, 0] == np.inf       # one pair with inf: inf
    assert _mase_scales(ser, np.array([0]), np.array([3]), 1)[0, 0] == 1.5          # |2 - 1|, |4 - 2|
    assert np.isnan(_mase_scales(ser, np.array([5]), np.array([3]), 1)[0, 0])    # nan, 7, nan: no pair seen


def test_small_actual_values_beside_a_large_series_are_not_zeros_of_the_mape():
    """A series of values 1e-9 whose fold scores 1e-9 and 0, in the fold of a series of 1e6: each series' points
    are read beside its own scale, as the MAPE reads them; of the 4 points only the 0 is left out. A fold whose
    one observed actual value is 0 (the other a gap) has no MAPE, and leaves out no point."""
    small, large = np.array([1e-9] * 6 + [0.0]), np.full(7, 1e6)
    with pytest.warns(UserWarning, match=r"^MAPE leaves out the 1 of 4 backtest points whose actual value is 0 "
                                         r"\(a percentage of 0 is undefined\): it is the mean over the other 3"):
        score([small, large], [5, 5])
    gap = np.array([1.0] * 5 + [0.0, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score([gap], [5])
    # a fold with a gap is still a fold with a MAPE when an observed point of it is not 0
    with pytest.warns(UserWarning, match=r"^MAPE leaves out the 1 of 3 backtest points whose actual value is 0 "
                                         r"\(a percentage of 0 is undefined\): it is the mean over the other 2"):
        score([np.array([1.0] * 5 + [5.0, np.nan]), np.array([1.0] * 5 + [5.0, 0.0])], [5, 5])


@pytest.mark.parametrize("fill, a, b_cut, b_whole", [
    ("ffill", [2, 2, 2, 8, 8], [5, 5, 5], [5, 5, 5, 9, 9]),
    ("interpolate", [2, 4, 6, 8, 8], [5, 5, 5], [5, 5, 7, 9, 9]),
    ("zero", [2, 0, 0, 8, 0], [0, 5, 0], [0, 5, 0, 9, 0]),
])
def test_a_folds_history_is_filled_from_its_own_points_before_the_cut(fill, a, b_cut, b_whole):
    """Series a = 2, ·, ·, 8, ·, 14, 16, · cut after 5 points; b = ·, 5, ·, 9, · cut after 3, and whole. A gap
    reads the points of its own series before the cut alone: never a's 16 before b's first point, nor b's 9
    after its cut (ffill: the value before, a first cell the first after; interpolate: linear between, carried
    forward after the last one before the cut and back before the first)."""
    from lstmkit.tasks.forecast.backtest import _Series
    nan = np.nan
    y = np.array([2, nan, nan, 8, nan, 14, 16, nan, nan, 5, nan, 9, nan])
    ser = _Series(pd.DataFrame({"y": y}), ["y"], np.repeat([0, 1], [8, 5]), pd.Index(["a", "b"]), fill)
    got = lambda at, first, end: ser.before_cut(np.array([at]), np.array([first]), np.array([end]))[0, :, 0].tolist()
    assert got(list(range(5)), 0, 5) == a
    assert got([8, 9, 10], 8, 11) == b_cut
    assert got(list(range(8, 13)), 8, 13) == b_whole


def test_differences_within_a_billionth_of_the_level_are_a_scale_of_zero():
    """A series at 1e6 whose one point is 1e-4 off: its mean difference 5e-5 is 5e-11 of its level, float
    rounding of 0 by the metric's definition (ZERO_SCALE 1e-9 of the level): scale 0, as mase_scale gives it."""
    from lstmkit.tasks.forecast.backtest import _mase_scales, _Series
    from lstmkit.tasks.forecast.metrics import mase_scale
    y = np.full(5, 1e6)
    y[2] += 1e-4
    ser = _Series(pd.DataFrame({"y": y}), ["y"], np.zeros(5, dtype=np.intp), pd.Index(["s"]))
    assert _mase_scales(ser, np.array([0]), np.array([5]), 1)[0, 0] == 0.0 == mase_scale(y, 1)[0]
    y[2] += 1.0                                            # 1 off: 4e-7 of the level, a scale
    ser = _Series(pd.DataFrame({"y": y}), ["y"], np.zeros(5, dtype=np.intp), pd.Index(["s"]))
    assert _mase_scales(ser, np.array([0]), np.array([5]), 1)[0, 0] == pytest.approx((2 * (1 + 1e-4)) / 4)


def test_a_backtest_of_two_targets_scores_each_in_its_own_units():
    """Targets y and z = 3y: the naive forecast misses step h by b·h and 3b·h, so each target's naive MAE is
    its mean over series of 1.5b (3.75) and 4.5b (11.25); the pooled aggregate is their mean."""
    seen = []

    def predict(history):
        seen.append(history)
        out = []
        for sid, g in history.groupby("store", sort=False):
            b, last = SLOPES[sid][1], g[["y", "z"]].dropna().to_numpy()[-1]
            step = np.arange(1, H + 1)
            out.append(pd.DataFrame({"store": sid, "step": step, "y": last[0] + b * step, "z": last[1] + 3 * b * step}))
        return pd.concat(out, ignore_index=True)
    data = trends().assign(z=lambda d: 3 * d["y"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(backtest_module, "_train", lambda cls, cfg, history, *a: SimpleNamespace(
            predict=predict, config_=cfg, season_=4))
        res = Forecaster(**QUICK, target=["y", "z"], time="time", id="store").backtest(
            data, folds=K, step=STEP, refit=True)
    mean_b = np.mean([b for a, b, n in SLOPES.values()])
    assert res["per_target"]["y"]["naive"]["MAE"] == pytest.approx(1.5 * mean_b)
    assert res["per_target"]["z"]["naive"]["MAE"] == pytest.approx(4.5 * mean_b)
    assert res["per_target"]["z"]["lstm"]["MAE"] == 0.0
    assert res["aggregate"]["naive"]["MAE"] == pytest.approx(3 * mean_b)


@pytest.mark.parametrize("kind", ["float64", "int64", "Float64"])
def test_a_fold_s_history_is_the_rows_before_each_cut_and_the_horizon_s_rows_with_the_targets_blank(kind):
    """What each fold's predict reads: per series the rows before its cut, then ``ahead`` rows whose targets are
    blank (their covariates and times kept); a float64 target blanked an array at a time, another dtype by .loc
    (integers become floats, a nullable column's blanks NA), every row renumbered from 0."""
    from lstmkit.tasks.forecast.backtest import _history, _Series
    lengths = [6, 4]
    frame = pd.DataFrame({"t": np.r_[np.arange(6), np.arange(4)], "y": pd.array(np.arange(10) * 10, dtype=kind),
                          "z": pd.array(np.arange(10) + 100, dtype=kind), "x": np.arange(10) / 2,
                          "__id": np.repeat(["a", "b"], lengths)})
    codes = np.repeat([0, 1], lengths)
    ser = _Series(frame, ["y", "z"], codes, pd.Index(["a", "b"]))
    got = _history(frame, ser, np.array([3, 1]), ["y", "z"], 2)
    rows = [0, 1, 2, 3, 4, 6, 7, 8]                        # a: 3 before its cut, 2 ahead; b: 1 before, 2 ahead
    blank = np.array([0, 0, 0, 1, 1, 0, 1, 1], dtype=bool)
    expected = frame.drop(columns="__id").iloc[rows].reset_index(drop=True)
    for t in ("y", "z"):
        column = expected[t].astype("float64" if kind == "int64" else kind)
        expected[t] = column.mask(blank)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got["x"].tolist() == [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 3.5, 4.0] and got.index.tolist() == list(range(8))
    assert frame["y"].notna().all()                        # the backtest's own frame untouched
    pd.testing.assert_frame_equal(_history(frame, ser, np.array([3, 1]), ["y", "z"], 0),
                                  frame.drop(columns="__id").iloc[[0, 1, 2, 6]].reset_index(drop=True))


def test_a_fold_s_history_blanks_targets_of_mixed_dtypes_each_as_its_own_kind():
    """Targets of different dtypes (a float64 one beside an integer one) are blanked together by .loc: the
    integer one becomes float64 and neither keeps a horizon value (the array path is for all-float64 targets)."""
    from lstmkit.tasks.forecast.backtest import _history, _Series
    frame = pd.DataFrame({"t": np.arange(5), "y": np.arange(5) * 1.5, "z": np.arange(5) + 100,
                          "__id": ["a"] * 5})
    ser = _Series(frame, ["y", "z"], np.zeros(5, dtype=int), pd.Index(["a"]))
    got = _history(frame, ser, np.array([3]), ["y", "z"], 2)
    assert got["y"].dtype == np.float64 and got["z"].dtype == np.float64
    assert got["y"].tolist()[:3] == [0.0, 1.5, 3.0] and got["z"].tolist()[:3] == [100.0, 101.0, 102.0]
    assert got[["y", "z"]].iloc[3:].isna().all().all() and got["t"].tolist() == [0, 1, 2, 3, 4]
