"""The fast lanes of the public inference paths give the numbers of the general path."""
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from forecast_data import FAST, sine_frame
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.tasks.forecast.fastpath import engine_net_cached, one_window

TINY = {**FAST, "hidden_size": 8, "max_epochs": 2}


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """A saved single-series run on a table with no time column, one extra feature."""
    df = sine_frame().drop(columns="time")
    est = Forecaster(**TINY, horizon=3, relative=False).fit(df, target="y", features="temp",
                                                            out=tmp_path_factory.mktemp("plain"))
    return est, df


def _general(est, data):
    return est._forecast_ahead(data, net=engine_net_cached(est, "torch"))


def test_one_window_is_the_general_path_to_the_bit(plain):
    est, df = plain
    for window in (df.iloc[-24:], df.iloc[100:160], df):
        fast = est.predict(window)
        assert one_window(est, window, est.net_) is not None            # the lane was taken
        pd.testing.assert_frame_equal(fast, _general(est, window), check_exact=True)
    arr = df["y"].to_numpy()
    single = Forecaster.load(Forecaster(**TINY, horizon=2).fit(arr, target="y").save(
        est.run_dir_.parent / "array"))
    assert one_window(single, arr[-30:], single.net_) is not None
    pd.testing.assert_frame_equal(single.predict(arr[-30:]), _general(single, arr[-30:]), check_exact=True)
    assert list(single.predict(arr[-30:]).columns) == ["step", "y"]
    whole = pd.DataFrame({"y": np.round(arr[-30:] * 10)})            # the table's own block, float and int
    for table in (whole, whole.astype(np.int64)):
        kept = table.copy()
        assert one_window(single, table, single.net_) is not None
        pd.testing.assert_frame_equal(single.predict(table), _general(single, table), check_exact=True)
        pd.testing.assert_frame_equal(table, kept)                     # read, never written


def test_one_window_at_two_threads_is_the_general_path_to_the_bit(plain):
    est, df = plain
    before = torch.get_num_threads()
    torch.set_num_threads(2)                       # the lane's net runs on one thread, the general path on two
    try:
        for window in (df.iloc[-24:], df.iloc[50:90]):
            pd.testing.assert_frame_equal(est.predict(window), _general(est, window), check_exact=True)
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_one_window_follows_weights_changed_in_place_or_replaced(tmp_path):
    df = sine_frame().drop(columns="time")
    est = Forecaster(**TINY, horizon=2, relative=False).fit(df, target="y")
    window = df.iloc[-30:]
    first = est.predict(window)
    with torch.no_grad():
        for p in est.net_.parameters():
            p.mul_(1.5)                                               # what an update's optimizer does
    changed = est.predict(window)
    assert not np.allclose(changed["y"], first["y"])
    pd.testing.assert_frame_equal(changed, _general(est, window), check_exact=True)
    head = next(m for m in est.net_.modules() if isinstance(m, torch.nn.Linear))
    head.bias = torch.nn.Parameter(head.bias.detach() + 1.0)          # a new parameter object
    replaced = est.predict(window)
    np.testing.assert_allclose(replaced["y"], changed["y"] + 1.0 * est.panel_scaler_.get("series")[1][0])
    pd.testing.assert_frame_equal(replaced, _general(est, window), check_exact=True)
    est.net_.train()                                                 # dropout on: the net itself, not the trace
    torch.manual_seed(0)
    a = one_window(est, window, est.net_)
    torch.manual_seed(0)
    pd.testing.assert_frame_equal(a, _general(est, window), check_exact=True)


def test_one_thread_is_this_threads_setting_only():
    import threading
    from lstmkit.tasks.forecast.fastpath import one_thread
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    seen, inside, done = {}, threading.Event(), threading.Event()

    def other():
        torch.ones(4).sum()                                           # a server thread, started before
        inside.wait()
        seen["other"] = torch.get_num_threads()
        done.set()

    def late():                                                       # one that starts meanwhile
        torch.ones(4).sum()
        seen["late"] = torch.get_num_threads()
    try:
        t = threading.Thread(target=other)
        t.start()
        with one_thread():
            seen["inside"] = torch.get_num_threads()
            inside.set()
            done.wait(10)
            t2 = threading.Thread(target=late)
            t2.start()
            t2.join()
        t.join()
        with one_thread(False):
            seen["off"] = torch.get_num_threads()
        seen["after"] = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    assert seen == {"inside": 1, "other": 2, "late": 2, "off": 2, "after": 2}


def test_one_window_reads_column_labels_of_any_index_dtype(plain):
    est, df = plain
    window = df.iloc[-30:]
    as_object = window.set_axis(pd.Index(list(window.columns), dtype=object), axis=1)
    for table in (window, as_object):
        assert one_window(est, table, est.net_) is not None
        pd.testing.assert_frame_equal(est.predict(table), _general(est, table), check_exact=True)
    numbered = window.set_axis([0, 1], axis=1)                          # no column named y: the reader says so
    assert one_window(est, numbered, est.net_) is None


def test_one_window_matches_the_test_forecast_of_that_window(plain):
    est, df = plain
    fc = est.test_forecasts(df)
    for k in (0, len(fc["origins"]) - 1):
        origin = int(fc["origins"][k])                                  # last observed point
        pred = est.predict(df.iloc[origin + 1 - 24:origin + 1])
        np.testing.assert_allclose(pred["y"].to_numpy(), fc["forecast"][k, :, 0], rtol=1e-6)  # float32 batch rounding


def test_tables_the_lane_does_not_read_go_the_general_way_with_its_errors(plain):
    est, df = plain
    gap = df.iloc[-30:].copy()
    gap.iloc[5, 1] = np.nan
    assert one_window(est, gap, est.net_) is None
    with pytest.raises(LstmkitError, match="empty or non-finite cells in column 'temp'"):
        est.predict(gap)
    with pytest.raises(LstmkitError, match="need at least 24 rows"):
        est.predict(df.iloc[-10:])
    text = df.iloc[-30:].astype({"temp": str})
    text.iloc[3, 1] = "n/a"
    with pytest.raises(LstmkitError, match="column 'temp' is not numeric"):
        est.predict(text)
    with pytest.raises(LstmkitError, match="column.*'y'.* not found"):
        est.predict(df.rename(columns={"y": "z"}))
    dup = pd.concat([df.iloc[-30:], df.iloc[-30:][["y"]]], axis=1)      # two columns named y
    assert one_window(est, dup, est.net_) is None
    dated = df.iloc[-30:].set_index(pd.date_range("2024-01-01", periods=30, freq="D"))
    assert one_window(est, dated, est.net_) is None
    assert "time" in est.predict(dated).columns                        # the date index is the time column


def test_a_period_index_is_read_the_general_way_as_the_time(plain):
    """The reader (load_table) reads a PeriodIndex (statsmodels' datasets, resample's) as the time,
    as a DatetimeIndex: the forecast has time stamps. The lane read the block alone and gave a
    forecast without them."""
    est, df = plain
    table = df.iloc[-30:].set_axis(pd.period_range("2024-01", periods=30, freq="M"))
    assert one_window(est, table, est.net_) is None
    pred = est.predict(table)
    pd.testing.assert_frame_equal(pred, _general(est, table), check_exact=True)
    assert list(pred["time"]) == list(pd.date_range("2026-07-01", periods=3, freq="MS"))


def test_the_engine_is_resolved_again_when_the_run_files_change(plain):
    pytest.importorskip("onnxruntime")
    from lstmkit.deploy import export_onnx
    est, df = plain
    run = est.run_dir_
    assert engine_net_cached(est, "auto") is est.net_
    assert engine_net_cached(est, "auto") is engine_net_cached(est, "auto")
    before = est.predict(df)
    export_onnx(run)
    onnx = engine_net_cached(est, "auto")
    assert onnx is not est.net_ and engine_net_cached(est, "auto") is onnx
    np.testing.assert_allclose(est.predict(df)["y"], before["y"], rtol=1e-4)
    saved = {k: v.clone() for k, v in est.net_.state_dict().items()}
    with torch.no_grad():
        for p in est.net_.parameters():
            p.add_(0.01)
    est.save(run)                                     # other weights: the graph is no longer theirs
    assert engine_net_cached(est, "auto") is est.net_
    est.net_.load_state_dict(saved)
    est.save(run)                                     # the weights it was exported from again
    assert engine_net_cached(est, "auto") is not est.net_
    (run / "model.onnx").unlink()
    assert engine_net_cached(est, "auto") is est.net_
    with pytest.raises(LstmkitError, match="has no model.onnx"):
        est.predict(df, engine="onnx")
    with pytest.raises(LstmkitError, match="unknown engine"):
        est.predict(df, engine="gpu")


def test_one_window_through_the_onnx_graph_is_the_general_onnx_path(tmp_path):
    """The lane runs an exported graph on numpy in a one-thread session of it: the numbers of the
    general path through the same graph (its session on two threads)."""
    pytest.importorskip("onnxruntime")
    from lstmkit.deploy import export_onnx
    df = sine_frame().drop(columns="time")
    est = Forecaster(**TINY, horizon=3, relative=False).fit(df, target="y", features="temp", out=tmp_path)
    export_onnx(est.run_dir_)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        onnx = engine_net_cached(est, "onnx")
        assert onnx.runner.threads == 2 and onnx.runner.single_thread().threads == 1
        assert onnx.runner.single_thread() is onnx.runner.single_thread()          # made once
        for window in (df.iloc[-24:], df.iloc[100:160]):
            fast = one_window(est, window, onnx)
            assert fast is not None                                                  # the lane was taken
            pd.testing.assert_frame_equal(est.predict(window, engine="onnx"), fast, check_exact=True)
            general = est._forecast_ahead(window, net=onnx)
            pd.testing.assert_frame_equal(fast, general, check_exact=True)
            torch_answer = est.predict(window, engine="torch")
            np.testing.assert_allclose(fast["y"], torch_answer["y"], rtol=1e-4, atol=1e-5)
    finally:
        torch.set_num_threads(before)


def _answer_and_notes(fn, window):
    """``fn(window)``'s frame (or its error's text) and the warnings it gave, word for word."""
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            out = fn(window)
        except LstmkitError as e:
            out = str(e)
    return out, [str(x.message) for x in w]


def _same_as_general(est, window, net=None):
    net = est.net_ if net is None else net
    fast, fast_notes = _answer_and_notes(lambda t: one_window(est, t, net), window)
    general, notes = _answer_and_notes(lambda t: est._forecast_ahead(t, net=net), window)
    assert not isinstance(fast, type(None))                                    # the lane was taken
    if isinstance(general, str):
        assert fast == general
    else:
        pd.testing.assert_frame_equal(fast, general, check_exact=True)
    assert fast_notes == notes
    return notes


@pytest.fixture(scope="module")
def two_targets(tmp_path_factory):
    """A run of two targets (the second below 0 at times: one of them gets a floor at 0), no time column."""
    df = sine_frame(seed=3).drop(columns="time")
    df["y2"] = np.abs(df["temp"]) * 3 + 0.5
    est = Forecaster(**TINY, horizon=2, relative=False).fit(df[["y", "y2"]], target=["y", "y2"],
                                                            out=tmp_path_factory.mktemp("two"))
    return est, df[["y", "y2"]]


def test_one_window_warns_and_answers_as_the_general_path_on_awkward_windows(plain, two_targets):
    """The lane's own unscaling, bounds and far-outside screen: the general path's frame, error and warnings,
    word for word, on windows within, at the edge of, just past and far past the train range's reach, all-zero
    histories, values the floor clips, and a network answering inf."""
    for est, df in (plain, two_targets):
        T = len(est.config_.target)
        base = df.iloc[-40:].reset_index(drop=True)
        loc, scale = est.panel_scaler_.get("series")
        lo, hi = (np.asarray(v) for v in est.panel_scaler_.ranges["series"])
        width = hi - lo
        said = []
        for k in (0.45, 0.55, 0.9999, 1.0001, 1.5, 30.0):              # widths beyond the top of the range
            for j in range(T):
                window = base.copy()
                window.iloc[-3, j] = loc[j] + (hi[j] + k * width[j]) * scale[j]
                said += _same_as_general(est, window)
        assert sum("times the width" in n for n in said) >= 3 * T           # 1.0001, 1.5 and 30 widths said
        low = base.copy()
        low.iloc[-5:, :T] = loc + (lo - 5 * width) * scale                     # far below: the floor clips
        assert any("times the width" in n for n in _same_as_general(est, low))
        zero = base.copy()
        zero.iloc[:, T - 1] = 0.0
        assert any("only zeros" in n for n in _same_as_general(est, zero))
        _same_as_general(est, base.astype(np.float32))

    class Overflowing:
        def one(self, x):
            return np.full((1, est.config_.horizon, T), np.inf, np.float32)

        def __call__(self, x, future=None, series=None):
            return torch.from_numpy(self.one(x))

    out = _same_as_general(est, base, Overflowing())
    assert out == []
    with pytest.raises(LstmkitError, match="is not finite"):
        one_window(est, base, Overflowing())


def test_the_lanes_far_outside_screen_never_hides_a_finding():
    """fastpath._within_reach lets a window skip PanelScaler.far_outside only where the rule finds nothing:
    ranges of every size against floats at and one step past the screen's bounds, the rule's own bound, and
    ranges whose width is one unit in the last place (where rounding decides)."""
    from lstmkit.tasks.forecast.fastpath import _half_reach, _within_reach
    from lstmkit.tasks.forecast.scalers import PanelScaler
    rng = np.random.default_rng(0)
    ranges = [(-2.0, np.nextafter(-2.0, 0)), (1e20, np.nextafter(1e20, np.inf)), (0.0, 1.0), (3.0, 3.0),
              (-1e-300, 1e-300), (1.0, 2.0 ** 53)]
    ranges += [tuple(sorted(rng.normal(0, 10.0 ** rng.integers(-5, 15), 2))) for _ in range(200)]
    skipped = found = 0
    for lo, hi in ranges:
        sc = PanelScaler("minmax")
        sc.ranges["s"] = ([lo], [hi])
        low, high = _half_reach((lo,), (hi,))
        w = hi - lo
        for v in (lo, hi, (lo + hi) / 2, low[0], high[0], np.nextafter(low[0], -np.inf),
                  np.nextafter(high[0], np.inf), lo - w, hi + w, np.nextafter(lo - w, -np.inf),
                  np.nextafter(hi + w, np.inf), hi + 2 * w, np.nan, np.inf):
            z = np.array([[(lo + hi) / 2], [v]])
            far = sc.far_outside("s", z)
            found += far is not None
            if _within_reach(sc, "s", z):
                skipped += 1
                assert far is None, (lo, hi, v)
    assert skipped > 600 and found > 400                          # both sides were met
    sc = PanelScaler("minmax")
    assert not _within_reach(sc, "s", np.zeros((3, 1)))           # no range: the check (which says nothing) decides
    sc.ranges["s"] = ([0.0, 0.0], [1.0, 1.0])
    assert not _within_reach(sc, "s", np.zeros((3, 1)))           # a range of other targets: the check decides


# -- backtest: every fold of a fixed model in one pass ------------------------------------------
def _fold_by_fold(est, df, folds, step, id_col=None):
    """The backtest rows as the fold-by-fold definition gives them: predict on each fold's history,
    forecast_metrics per series, mean over series."""
    from lstmkit.tasks.forecast.baselines import naive_forecast
    from lstmkit.tasks.forecast.evaluation import snaive
    from lstmkit.tasks.forecast.metrics import forecast_metrics
    H = est.config_.horizon
    groups = [g for _, g in df.groupby(id_col, sort=False)] if id_col else [df]
    out = {}
    for k in range(folds):
        per = {}
        hist = []
        for g in groups:
            c = len(g) - H - step * (folds - 1 - k)
            h = g.iloc[:c + H].copy()
            h.iloc[c:, h.columns.get_loc("y")] = np.nan
            hist.append(h)
        pred = est.predict(pd.concat(hist))
        for j, g in enumerate(groups):
            c = len(g) - H - step * (folds - 1 - k)
            vals = g[["y"]].to_numpy(float)
            p = pred[pred[id_col] == g[id_col].iloc[0]] if id_col else pred
            fc = {"lstm": p["y"].to_numpy()[None, :, None], "naive": naive_forecast(vals[:c], np.array([c - 1]), H),
                  "seasonal_naive": snaive(vals[:c], np.array([c - 1]), H, est.season_)}
            for m, f in fc.items():
                per.setdefault(m, []).append(forecast_metrics(vals[c:c + H][None], f, vals[:c], est.season_))
        for m, rows in per.items():
            out[(k + 1, m)] = {key: np.mean([r[key] for r in rows]) for key in rows[0]}
    return out


def _assert_same_rows(res, ref):
    got = {(r["fold"], r["model"]): r for r in res["folds"]}
    assert set(got) == set(ref)
    for key, metrics in ref.items():
        for m, v in metrics.items():
            rtol = 1e-5 if key[1] == "lstm" else 1e-9          # the net's float32 rounding in other batches
            assert got[key][m] == pytest.approx(v, rel=rtol), (key, m)


@pytest.mark.filterwarnings("ignore:.*forecast points before the run's test part:UserWarning")  # the folds it trained on
def test_backtest_of_a_fixed_model_is_the_fold_by_fold_backtest(plain):
    from lstmkit.tasks.forecast.fastpath import fold_forecasts
    est, df = plain
    res = est.backtest(df, folds=40, step=3)
    _assert_same_rows(res, _fold_by_fold(est, df, 40, 3))
    for m, agg in res["aggregate"].items():                         # the mean over folds
        assert agg["MAE"] == pytest.approx(np.mean([r["MAE"] for r in res["folds"] if r["model"] == m]), rel=1e-12)
    n = len(df)
    assert fold_forecasts(est, df, ["series"], np.array([n]), [np.array([n - 3])]) is not None   # the lane
    assert fold_forecasts(est, df, ["series"], np.array([n]), [np.array([10])]) is None          # < lookback


def test_backtest_of_many_series_and_its_fold_by_fold_fallback(tmp_path):
    rng = np.random.default_rng(3)
    t = np.arange(90)
    df = pd.DataFrame({"store": np.repeat(["a", "b", "c"], 90),
                       "y": np.concatenate([5 + k + np.sin(2 * np.pi * t / 12) + 0.1 * rng.standard_normal(90)
                                            for k in range(3)])})
    est = Forecaster(**TINY, horizon=2, id="store", season=12).fit(df, target="y")
    res = est.backtest(df, folds=5, step=2)
    _assert_same_rows(res, _fold_by_fold(est, df, 5, 2, "store"))
    gap = df.copy()
    gap.loc[3, "y"] = np.nan                              # not a plain table: fold by fold, with its error
    with pytest.raises(LstmkitError, match="empty or non-finite cells"):
        est.backtest(gap, folds=2)


@pytest.fixture(scope="module")
def stores():
    rng = np.random.default_rng(3)
    t = np.arange(90)
    df = pd.DataFrame({"store": np.repeat(["a", "b", "c"], 90),
                       "y": np.concatenate([5 + 3 * k + np.sin(2 * np.pi * t / 12) + 0.1 * rng.standard_normal(90)
                                            for k in range(3)])})
    return Forecaster(**TINY, horizon=2, id="store", season=12).fit(df, target="y"), df


def test_a_backtest_where_one_series_starts_a_fold_short_of_the_lookback_is_the_fold_by_fold_backtest(stores):
    """Series c cut to 30 points: its first fold has 30 - 2 - 2·4 = 20 points before its cut, fewer than the
    lookback (24), while a's and b's folds have a whole window each. Every fold's forecast is still predict's of
    that fold's history (c's short history padded as predict pads it), never a window reaching into the series
    before it."""
    est, df = stores
    short = df[(df["store"] != "c") | (df.groupby("store").cumcount() < 30)].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                 # the folds inside the run's training part
        res = est.backtest(short, folds=5, step=2)
        _assert_same_rows(res, _fold_by_fold(est, short, 5, 2, "store"))


def test_a_forecast_not_finite_in_one_fold_of_one_series_stops_the_one_pass_backtest_naming_it(stores, monkeypatch):
    """The lane forecasts every fold at once: one network output that is not finite (series b's second step in
    fold 3) is the error predict gives of that fold, naming b, not a NaN scored or another fold's error."""
    est, df = stores
    real = type(est)._forecast_windows

    def overflow_b_in_fold_3(self, *args, **kwargs):
        params = real(self, *args, **kwargs).copy()
        params[2 * 3 + 1, 1] = np.inf                     # fold-major rows: fold 3 (index 2), series b (index 1)
        return params
    monkeypatch.setattr(type(est), "_forecast_windows", overflow_b_in_fold_3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(LstmkitError, match=r"^the forecast of series 'b' is not finite \(1 of 3 series\)"):
            est.backtest(df, folds=3, step=2)


def test_predict_over_many_series_is_each_series_predicted_alone():
    rng = np.random.default_rng(5)
    lengths = {"a": 80, "b": 60, "c": 15}                      # c: shorter than the lookback, padded
    df = pd.concat([pd.DataFrame({"store": sid, "y": 3 + k + np.sin(np.arange(n) / 3) + 0.1 * rng.standard_normal(n),
                                  "temp": rng.standard_normal(n)})
                    for k, (sid, n) in enumerate(lengths.items())], ignore_index=True)
    est = Forecaster(**TINY, horizon=3, id="store", test_size=3, val_size=3).fit(
        df[df["store"] != "c"], target="y", features="temp")
    together = est.predict(df)
    assert list(together["store"].unique()) == ["a", "b", "c"] and len(together) == 9
    for sid in lengths:
        alone = est.predict(df[df["store"] == sid])
        np.testing.assert_allclose(together.loc[together["store"] == sid, "y"], alone["y"], rtol=1e-6)


def test_frame_of_is_the_plain_frame():
    from lstmkit.tasks.forecast.fastpath import frame_of
    cols = {"store": np.repeat(np.asarray(["a", "b"], dtype=object), 2), "time": np.arange(4).astype("datetime64[h]"),
            "step": np.tile(np.arange(1, 3), 2), "y": np.linspace(0, 1, 4), "y_q0.1": np.zeros(4)}
    for keep in (["step", "y"], list(cols)):
        d = {k: cols[k] for k in keep}
        pd.testing.assert_frame_equal(frame_of(d), pd.DataFrame(d), check_exact=True)
        assert frame_of(d).columns.dtype == pd.DataFrame(d).columns.dtype


def test_a_masked_array_forecasts_as_missing_values_and_a_tensor_as_its_values():
    """predict(masked array) forecast from the values under the mask (one lane read the masked
    array's raw block, the other numpy's copy of it) without a word: now its masked cells are
    missing values, refused as any gap is (or filled: --fill), and a tensor (even one that needs
    gradients) forecasts as its array did. A meta tensor was a raw NotImplementedError."""
    y = sine_frame(n=120)["y"].to_numpy()
    est = Forecaster(**{**TINY, "max_epochs": 1}, horizon=2).fit(y)
    placeholder = np.ma.masked_array(np.where(np.arange(120) == 110, -999.0, y), mask=np.arange(120) == 110)
    with pytest.raises(LstmkitError, match=r"empty or non-finite cells in column 'y' .*\(1 of 120 rows\)"):
        est.predict(placeholder)
    pd.testing.assert_frame_equal(est.predict(np.ma.masked_array(y)), est.predict(y))      # nothing masked
    pd.testing.assert_frame_equal(est.predict(torch.tensor(y, requires_grad=True)), est.predict(y))
    with pytest.raises(LstmkitError, match=r"the meta tensor could not be copied to the CPU"):
        est.predict(torch.zeros(120, device="meta"))
    filled = Forecaster(**{**TINY, "max_epochs": 1}, horizon=2, fill="interpolate").fit(y)
    gap = y.copy()
    gap[110] = (y[109] + y[111]) / 2                                  # what interpolation puts in the masked cell
    pd.testing.assert_frame_equal(filled.predict(placeholder), filled.predict(gap))


@pytest.mark.filterwarnings("error::DeprecationWarning")
def test_tracing_for_one_window_hides_only_the_tracers_notes():
    """The trace of the one-window lane ignored every warning: torch's deprecation of ``torch.jit.trace``
    and the tracer's notes (for no caller to act on; under ``-W error`` they would send it down the slow
    path) are still not said, and the net is still traced; a warning of the net's own reaches the caller."""
    import warnings

    from lstmkit.tasks.forecast.fastpath import _batch1

    class Noted(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 1)

        def forward(self, x):
            warnings.warn("a note of the net's own", UserWarning)
            return self.lin(x[:, -1])

    net = Noted().eval()
    with pytest.warns(UserWarning, match="a note of the net's own"):
        run, _ = _batch1(net, torch.zeros(1, 4, 2))
    assert run is not net                      # a trace: torch's deprecation did not end it
