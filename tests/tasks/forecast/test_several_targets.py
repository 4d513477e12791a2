"""Several targets at once (``target=["sales", "returns"]``): each target's own metrics beside an
aggregate that says what it pools, every target drawn in forecast.png, a target held still named."""
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from lstmkit import Forecaster
from tests.forecast_data import FAST

SETTINGS = {**FAST, "lookback": 14, "horizon": 7, "max_epochs": 2, "hidden_size": 8, "doctor": False}


def two_scales(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Daily sales in the thousands beside returns in thousandths, both with a weekly season."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="D"),
                         "sales": 1000 + 200 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 20, n),
                         "returns": 0.002 + 0.0005 * np.cos(2 * np.pi * t / 7) + rng.normal(0, 5e-5, n)})


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    return Forecaster(**SETTINGS).fit(two_scales(), target=["sales", "returns"], time="date",
                                      out=tmp_path_factory.mktemp("runs"))


def test_each_target_has_its_own_metrics_beside_an_aggregate_that_says_what_it_pools(fitted):
    """The test table pooled sales and returns: its MAE was half the sales' (the returns' 0.0003 beside
    them), and no file held either target's own error."""
    m = fitted.metrics_
    per = m["per_target"]
    assert list(per) == ["sales", "returns"]
    for model in ("lstm", "naive", "seasonal_naive", "ets"):
        sales, returns = per["sales"][model], per["returns"][model]
        assert 1 < sales["MAE"] and returns["MAE"] < 0.01 and returns["RMSE"] < 0.01
        # one series, as many points of each target: the pooled MAE is the mean of the two
        assert m["metrics"][model]["MAE"] == pytest.approx((sales["MAE"] + returns["MAE"]) / 2)
        assert m["metrics"][model]["MASE"] == pytest.approx((sales["MASE"] + returns["MASE"]) / 2)
    assert "per_target" in m["aggregate"] and "own units" in m["aggregate"]
    record = fitted.run_dir_ / "metrics.json"
    assert "per_target" in pd.read_json(record, typ="series")
    table = pd.read_csv(fitted.run_dir_ / "metrics_per_target.csv")          # each series' rows of each target
    assert list(table.columns[:3]) == ["id", "target", "model"] and len(table) == 2 * 4
    row = table[(table["target"] == "returns") & (table["model"] == "lstm")].iloc[0]
    assert row["MAE"] == pytest.approx(per["returns"]["lstm"]["MAE"])


def test_evaluate_answers_each_targets_own_metrics_when_asked(fitted):
    """evaluate() answered the pooled table alone: in Python the returns' own error (in thousandths)
    was nowhere, the sales' MAE outweighing it. per_target=True answers metrics.json's per_target;
    one target's model answers its one table so."""
    from lstmkit.errors import LstmkitError
    data = two_scales()
    pooled, each = fitted.evaluate(data), fitted.evaluate(data, per_target=True)
    assert list(each) == ["sales", "returns"] and set(each["sales"]) == set(pooled)
    assert each["returns"]["lstm"]["MAE"] < 0.01 < each["sales"]["lstm"]["MAE"]
    assert pooled["lstm"]["MAE"] == pytest.approx((each["sales"]["lstm"]["MAE"] + each["returns"]["lstm"]["MAE"]) / 2)
    with pytest.raises(LstmkitError, match="per_target must be True or False, got 'yes'"):
        fitted.evaluate(data, per_target="yes")


def test_the_report_prints_each_targets_table_under_the_pooled_one(fitted, capsys):
    from lstmkit.tasks.forecast.cli import _say_per_target
    _say_per_target(fitted.metrics_)
    out = capsys.readouterr().out
    assert "the rows above pool the targets" in out
    assert "\nsales:\nmodel" in out and "\nreturns:\nmodel" in out
    returns_table = out.split("\nreturns:\n")[1]
    assert f"{fitted.metrics_['per_target']['returns']['lstm']['MAE']:.4g}" in returns_table


def test_the_forecast_plot_of_one_series_draws_every_target(fitted, monkeypatch):
    """forecast.png drew the first target alone, titled by it: the returns were never shown."""
    import lstmkit.inspect.plots as plots
    from lstmkit.tasks.forecast.evaluation import panel_plots
    from lstmkit.tasks.forecast.panel import read_panel
    from lstmkit.tasks.forecast.windows import split_panel
    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: figures.append(fig))
    panel = read_panel(two_scales(), fitted.config_)
    panel_plots(fitted, fitted.run_dir_, panel, fitted._panel_arrays(panel), split_panel(panel, fitted.config_)["test"])
    fig = figures[-1]
    assert [ax.get_ylabel() for ax in fig.axes] == ["sales", "returns"]
    # the loss plot names its run and model, as the other tasks' do (it read 'Training curves')
    assert figures[0].axes[0].get_title() == f"{fitted.run_dir_.name}: {fitted.config_.model} forecaster"
    actual = [ln for ln in fig.axes[1].get_lines() if ln.get_label() == "actual (test)"][0]
    assert np.nanmax(actual.get_ydata()) < 0.01          # the returns' own values, not the sales'


def test_the_forecast_plot_of_many_series_has_a_column_per_target(monkeypatch, tmp_path):
    import lstmkit.tasks.forecast.plots as forecast_plots
    from lstmkit.tasks.forecast.bounds import Limits
    from lstmkit.tasks.forecast.probabilistic import Output
    figures = []
    monkeypatch.setattr(forecast_plots, "save_figure", lambda fig, path, **kw: figures.append(fig))
    values = np.stack([np.arange(20.0) * 100, np.arange(20.0) / 1000], axis=1)          # [n, T]
    params = np.stack([np.full(3, 5000.0), np.full(3, 0.5)], axis=1)                   # [H, T]
    item = {"id": "a", "values": values, "origin": 16, "times": None, "params": params,
            "limits": Limits(np.full((1, 2), -np.inf), np.full((1, 2), np.inf))}
    forecast_plots.plot_panel_forecast([item], Output("point"), 3, tmp_path / "f.png", "t", targets=["sales", "returns"])
    axes = figures[0].axes
    assert [ax.get_title() for ax in axes] == ["a: sales", "a: returns"]
    line = [ln for ln in axes[1].get_lines() if ln.get_label() == "forecast"][0]
    assert line.get_ydata().tolist() == [0.5] * 3
    actual = [ln for ln in axes[0].get_lines() if ln.get_label() == "actual"][0]      # joined to the history
    assert actual.get_xdata().tolist() == [16, 17, 18, 19] and actual.get_ydata().tolist() == [1600, 1700, 1800, 1900]


def test_mase_of_several_targets_is_over_those_with_a_scale():
    """A target whose training part repeats itself exactly has no MASE scale: the MASE of every
    target was inf beside a target that has one, and the table said only 'MASE n/a'."""
    from lstmkit.tasks.forecast.metrics import forecast_metrics
    t = np.arange(40)
    train = np.stack([t % 5 * 1.0 + np.sin(t), np.full(40, 3.0)], axis=1)           # [N, T]
    true, pred = np.array([[1.0, 3.0], [2.0, 3.0]]), np.array([[1.5, 3.5], [2.5, 3.0]])
    alone = forecast_metrics(true[:, :1], pred[:, :1], train[:, :1], season=5)["MASE"]
    both = forecast_metrics(true, pred, train, season=5)["MASE"]
    assert math.isfinite(alone) and both == pytest.approx(alone)
    assert math.isinf(forecast_metrics(true[:, 1:], pred[:, 1:], train[:, 1:], season=5)["MASE"])


def test_a_target_held_still_in_training_beside_one_that_moves_is_named():
    """A target that is 5 throughout training beside sales that move: no word (the warning looked for
    a series every target of which holds still), and it forecast 6.6, 4.2, 3.8."""
    from lstmkit.tasks.forecast.config import ForecastConfig
    from lstmkit.tasks.forecast.panel import read_panel
    from lstmkit.tasks.forecast.pipeline import _say_flat_training
    cfg = ForecastConfig(target=["sales", "const"], time="date", lookback=14, horizon=7)
    panel = read_panel(two_scales().assign(const=5.0), cfg)
    with pytest.warns(UserWarning, match=r"target 'const' is 5 throughout the training part, 140 points"):
        _say_flat_training(panel, cfg)
    moving = ForecastConfig(target=["sales", "returns"], time="date", lookback=14, horizon=7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _say_flat_training(read_panel(two_scales(), moving), moving)


def test_a_backtest_gives_each_targets_own_metrics_too(fitted):
    result = fitted.backtest(two_scales(), folds=2)
    per = result["per_target"]
    assert list(per) == ["sales", "returns"]
    for model in ("lstm", "naive", "seasonal_naive"):
        assert per["returns"][model]["MAE"] < 0.01 < 1 < per["sales"][model]["MAE"]
        assert result["aggregate"][model]["MAE"] == pytest.approx((per["sales"][model]["MAE"]
                                                                   + per["returns"][model]["MAE"]) / 2)


def test_a_fill_runs_backtest_scores_each_target_on_its_observed_points(tmp_path):
    """A --fill run's backtest read the data's empty cells as they were: one in the history made every fold's
    MASE NaN (the scale of a history with a gap), and one after a cutoff the fold's MAE of every target NaN.
    The baselines and the scale read the history filled from before each gap; a gap is no point to score."""
    df = two_scales()
    df.loc[[50, 51, 196], "returns"] = np.nan           # two in the history, one in the last fold's week
    est = Forecaster(**{**SETTINGS, "max_epochs": 1, "fill": "ffill"}).fit(df, target=["sales", "returns"],
                                                                          time="date")
    result = est.backtest(df, folds=2)
    rows = {(r["fold"], r["model"]): r for r in result["folds"]}
    assert all(np.isfinite([r["MAE"], r["MASE"], r["sMAPE"]]).all() for r in result["folds"])
    assert all(np.isfinite(m["MASE"]) for t in result["per_target"].values() for m in t.values())
    # fold 2 forecasts rows 193..199 from row 192: naive's error over sales' 7 points and returns' 6
    y = df[["sales", "returns"]].to_numpy()
    err = np.abs(y[193:200] - y[192])
    assert rows[(2, "naive")]["MAE"] == pytest.approx(np.nansum(err) / 13)
    assert rows[(2, "naive")]["RMSE"] == pytest.approx(np.sqrt(np.nansum(err ** 2) / 13))


def with_gaps() -> pd.DataFrame:
    """two_scales with each target's gaps at other times: sales at rows 100 (training), 185, 193 and 197, returns
    at 180 and 190 (the test windows read rows 170..199)."""
    df = two_scales()
    df.loc[[100, 185, 193, 197], "sales"] = np.nan
    df.loc[[180, 190], "returns"] = np.nan
    return df


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    return Forecaster(**{**SETTINGS, "max_epochs": 1, "fill": "ffill", "quantiles": [0.1, 0.5, 0.9]}).fit(
        with_gaps(), target=["sales", "returns"], time="date", out=tmp_path_factory.mktemp("filled"))


def naive_by_hand(est, df: pd.DataFrame, targets: list[str]):
    """Each test window's naive forecast (the filled value at its origin) and the actual values, NaN where
    the data has none: ``[n, H, T]`` each."""
    origins = est.test_forecasts(df)["origins"]
    at = origins[:, None] + 1 + np.arange(est.config_.horizon)
    return df[targets].ffill().to_numpy()[origins][:, None], df[targets].to_numpy()[at]


def test_a_fill_runs_test_metrics_score_each_target_on_every_observed_point(filled):
    """A row where one target was filled left out the other's observed value there too: metrics.json, evaluate,
    the per-target tables and metrics_per_target.csv scored sales on fewer points than it has, and returns too."""
    from lstmkit.tasks.forecast.windows import part_sizes
    df, targets = with_gaps(), ["sales", "returns"]
    pred, actual = naive_by_hand(filled, df, targets)
    seen = np.isfinite(actual)
    err = np.abs(actual - pred)                                            # NaN at the gaps
    n_train = part_sizes(len(df), filled.config_)[0]
    train = df[targets].to_numpy()[:n_train]                                # each target's observed history
    scale = np.nanmean(np.abs(train[7:] - train[:-7]), 0)                   # season 7, the pairs observed
    m = filled.metrics_
    assert m["test_points"] == int(seen.sum())
    assert m["target_points"] == {t: int(seen[..., j].sum()) for j, t in enumerate(targets)}
    assert "each target is scored on its own observed points" in m["aggregate"]
    assert m["metrics"]["naive"]["MAE"] == pytest.approx(np.nansum(err) / seen.sum())
    mine = {t: np.nanmean(err[..., j]) for j, t in enumerate(targets)}
    assert m["metrics"]["naive"]["MASE"] == pytest.approx(np.mean([mine[t] / scale[j] for j, t in enumerate(targets)]))
    table = pd.read_csv(filled.run_dir_ / "metrics_per_target.csv").set_index(["target", "model"])
    each = filled.evaluate(df, per_target=True)
    for j, t in enumerate(targets):
        assert m["per_target"][t]["naive"]["MAE"] == pytest.approx(mine[t])
        assert m["per_target"][t]["naive"]["MASE"] == pytest.approx(mine[t] / scale[j])
        assert m["per_target"][t]["naive"]["RMSE"] == pytest.approx(np.sqrt(np.nanmean(err[..., j] ** 2)))
        assert each[t]["naive"]["MAE"] == pytest.approx(mine[t])
        assert table.loc[(t, "naive"), "points"] == seen[..., j].sum()
        assert table.loc[(t, "naive"), "MAE"] == pytest.approx(mine[t])
    assert filled.evaluate(df)["naive"]["MAE"] == pytest.approx(m["metrics"]["naive"]["MAE"])


def test_the_report_says_each_targets_points_where_they_differ(filled, capsys):
    from lstmkit.tasks.forecast.cli import _say_per_target
    _say_per_target(filled.metrics_)
    points = filled.metrics_["target_points"]
    out = capsys.readouterr().out
    assert points["sales"] != points["returns"]
    assert f"\nsales ({points['sales']:,} points):\nmodel" in out and f"\nreturns ({points['returns']:,} points):" in out


def test_a_fill_runs_probabilistic_metrics_score_each_target_on_every_observed_point(filled):
    """Coverage, wQL and CRPS pooled the rows every target was observed on, per target too; test_forecasts
    gave the filled values as actuals, for a user's own metrics to score as observations."""
    df, targets = with_gaps(), ["sales", "returns"]
    got = filled.test_forecasts(df)
    actual, q = got["actual"], got["quantiles"]                             # [n, H, T], [n, H, T, 3]
    _, by_hand = naive_by_hand(filled, df, targets)
    np.testing.assert_array_equal(actual, by_hand)                          # NaN at every gap, each target's own
    seen = np.isfinite(actual)
    inside = (actual >= q[..., 0]) & (actual <= q[..., 2])
    m = filled.metrics_
    assert m["metrics"]["lstm"]["coverage_80"] == pytest.approx(inside[seen].mean())
    levels = np.array([0.1, 0.5, 0.9])
    for j, t in enumerate(targets):
        y, qj = actual[..., j][seen[..., j]], q[..., j, :][seen[..., j]]     # [k], [k, 3]
        d = y[:, None] - qj
        loss = np.maximum(levels * d, (levels - 1) * d)
        assert m["per_target"][t]["lstm"]["coverage_80"] == pytest.approx(inside[..., j][seen[..., j]].mean())
        assert m["per_target"][t]["lstm"]["wQL"] == pytest.approx(np.mean(2 * loss.sum(0) / np.abs(y).sum()))
        assert m["per_target"][t]["lstm"]["CRPS"] == pytest.approx((2 * loss).mean())


def test_a_fill_runs_mase_scale_reads_each_targets_observed_history():
    """The MASE scale read the history filled: carried forward, a weekly series' tenth of gaps made its scale
    1.5x (a filled day beside the one a week before), filled with zeros 6.6x, and MASE as much smaller, in the
    test table and the backtest alike. It reads the differences of observed points, each target its own."""
    from lstmkit.tasks.forecast.metrics import mase_scale
    df = two_scales()
    gaps = np.random.default_rng(1).random(len(df)) < 0.1
    df.loc[gaps & (np.arange(len(df)) < 193), "sales"] = np.nan          # a tenth of sales' history
    y = df[["sales", "returns"]].to_numpy()
    np.testing.assert_allclose(mase_scale(y[:193], 7), np.nanmean(np.abs(y[7:193] - y[:186]), 0))
    est = Forecaster(**{**SETTINGS, "max_epochs": 1, "fill": "zero", "ets": False}).fit(
        df, target=["sales", "returns"], time="date")
    result = est.backtest(df, folds=2)
    naive = {(r["fold"]): r for r in result["folds"] if r["model"] == "naive"}
    # fold 2 forecasts rows 193..199 from row 192 (observed), scaled by the 193 points before it
    mae = np.abs(y[193:200] - y[192]).mean(0)
    scale = np.nanmean(np.abs(y[7:193] - y[:186]), 0)
    assert naive[2]["MASE"] == pytest.approx(np.mean(mae / scale))


def test_a_fill_run_of_one_target_scores_its_observed_points_only():
    """One target with gaps in its test part: every point scored is one the data holds."""
    df = with_gaps()[["date", "sales"]]
    est = Forecaster(**{**SETTINGS, "max_epochs": 1, "fill": "ffill", "ets": False}).fit(df, target="sales",
                                                                                        time="date")
    pred, actual = naive_by_hand(est, df, ["sales"])
    err = np.abs(actual - pred)
    assert est.metrics_["test_points"] == int(np.isfinite(actual).sum())
    assert est.metrics_["metrics"]["naive"]["MAE"] == pytest.approx(np.nanmean(err))


def test_forecast_metrics_leave_out_each_targets_own_gaps():
    """forecast_metrics, which evaluate scores each series with, and metric_rows, the backtest's, are one rule:
    an actual value NaN is no point, and leaves the other targets' values beside it scored."""
    from lstmkit.tasks.forecast.backtest import metric_rows
    from lstmkit.tasks.forecast.metrics import forecast_metrics
    y = np.array([[1.0, 10.0], [2.0, np.nan], [np.nan, 30.0]])               # [P, T]
    pred = y * 0 + np.array([2.0, 20.0])
    train = np.array([[0.0, 0.0], [1.0, 10.0], [2.0, 20.0]])                 # scales 1 and 10
    m = forecast_metrics(y, pred, train)
    assert m["MAE"] == pytest.approx((1 + 0 + 10 + 10) / 4)
    assert m["MASE"] == pytest.approx((0.5 / 1 + 10 / 10) / 2)
    rows = metric_rows(y[None], pred[None], np.array([[1.0, 10.0]]))
    assert {k: float(v[0]) for k, v in rows.items()} == pytest.approx(m, nan_ok=True)


def test_a_blend_of_several_targets_says_its_score_is_their_mean_and_its_weight_every_targets():
    """--combine with two targets: one weight, chosen on the mean of their MASEs, blends both, and the
    choice's words read as of one target's."""
    est = Forecaster(**{**SETTINGS, "max_epochs": 1, "combine": "seasonal_naive"}).fit(
        two_scales(), target=["sales", "returns"], time="date")
    assert est.auto_["combine"]["why"].endswith("; each MASE the mean of the targets' ('sales', 'returns'), "
                                                "one blend for every target")


def test_a_backtest_rows_mase_is_over_the_targets_with_a_scale():
    from lstmkit.tasks.forecast.backtest import metric_rows
    y = np.ones((2, 3, 2))
    pred = y + np.array([0.5, 0.25])                                  # [R, H, T]
    rows = metric_rows(y, pred, np.array([[1.0, 0.0], [2.0, 0.0]]))    # the second target held still
    assert rows["MASE"].tolist() == [0.5, 0.25]
    assert np.isinf(metric_rows(y, pred, np.zeros((2, 2)))["MASE"]).all()


def test_quantile_scores_of_each_target_and_their_columns_in_predict(tmp_path, capsys):
    """wQL divides by the sum of |y| over every target: the sales' alone. Each target has its own."""
    from lstmkit.tasks.forecast.cli import _say_per_target
    df = two_scales(120)
    est = Forecaster(**{**SETTINGS, "max_epochs": 1, "quantiles": [0.1, 0.5, 0.9]}).fit(
        df, target=["sales", "returns"], time="date", out=tmp_path)
    per = est.metrics_["per_target"]
    assert {"wQL", "CRPS", "coverage_80"} <= set(per["returns"]["lstm"]) and "wQL" not in per["returns"]["naive"]
    assert per["returns"]["lstm"]["CRPS"] < 0.01 < 1 < per["sales"]["lstm"]["CRPS"]
    _say_per_target(est.metrics_)
    assert capsys.readouterr().out.count("probabilistic: ") == 2
    assert list(est.predict(df).columns) == ["date", "step", "sales", "returns", "sales_q0.1", "sales_q0.5",
                                             "sales_q0.9", "returns_q0.1", "returns_q0.5", "returns_q0.9"]


def test_values_far_outside_training_name_their_target(fitted):
    """Returns given in per mille beside sales: 'the last 14 values of series 'series' (1.5 .. 2.6)'
    named no column, and the sales' range was as likely a reading."""
    df = two_scales()
    far = df.assign(returns=df["returns"] * 1000)
    with pytest.warns(UserWarning, match=r"the last 14 values of target 'returns' of series 'series' \(1\.\d+ \.\. 2\.\d+\)"):
        fitted.predict(far)
    stream = fitted.stream()
    with pytest.warns(UserWarning, match=r"target 'returns' of series"):
        for row in far.tail(14).itertuples():
            stream.step({"sales": row.sales, "returns": row.returns})


def test_a_row_with_one_target_empty_is_a_gap_not_the_start_of_the_future(fitted):
    """Returns empty in the last 3 rows, sales given: those rows were read as future rows, so the
    forecast started 3 days early, on dates the data held, the sales' newest values left out -- no word."""
    from lstmkit.errors import LstmkitError
    from lstmkit.tasks.forecast.config import ForecastConfig
    from lstmkit.tasks.forecast.panel import read_panel
    df = two_scales()
    gap = df.copy()
    gap.loc[gap.index[-3:], "returns"] = np.nan
    with pytest.raises(LstmkitError, match=r"empty or non-finite cells in column 'returns' .*\(3 of 200 rows\)"):
        fitted.predict(gap)
    both = gap.copy()
    both.loc[[4], "sales"] = np.nan             # each target with gaps named (the first alone was)
    with pytest.raises(LstmkitError, match=r"empty or non-finite cells in column 'sales' of series 'series' "
                                           r"\(1 of 200 rows\); also in 'returns' \(3\) — clean the data"):
        fitted.predict(both)
    panel = read_panel(gap, ForecastConfig(target=["sales", "returns"], time="date", fill="ffill"))
    assert panel.lengths.tolist() == [200]
    np.testing.assert_array_equal(panel.values[-1], [df["sales"].iloc[-1], df["returns"].iloc[-4]])
    future = pd.concat([df, pd.DataFrame({"date": pd.date_range("2024-07-19", periods=7)})], ignore_index=True)
    assert read_panel(future, ForecastConfig(target=["sales", "returns"], time="date")).lengths.tolist() == [200]


def test_test_forecasts_name_the_targets_along_their_last_axis(fitted):
    """[n, H, T] arrays with nothing saying which of T is which: a user indexing [..., 0] guessed."""
    got = fitted.test_forecasts(two_scales())
    assert got["targets"] == ["sales", "returns"]
    returns = got["actual"][..., got["targets"].index("returns")]
    assert np.abs(returns).max() < 0.01 < 1 < np.abs(got["actual"][..., 0]).min()


def test_a_target_zero_throughout_its_history_is_named_in_the_warning(fitted):
    """Returns 0 in every row given to predict: 'the series has only zeros in its history: forecast 0'
    read as if the sales were forecast 0 too."""
    df = two_scales().assign(returns=0.0)
    with pytest.warns(UserWarning, match=r"^target 'returns' has only zeros in the series' history: forecast 0"):
        got = fitted.predict(df)
    assert (got["returns"] == 0).all() and (got["sales"] > 100).all()


def test_the_backtest_plot_draws_every_target(fitted, monkeypatch, tmp_path):
    import lstmkit.tasks.forecast.plots as forecast_plots
    figures = []
    monkeypatch.setattr(forecast_plots, "save_figure", lambda fig, path, **kw: figures.append(fig))
    fitted.backtest(two_scales(), folds=2, out=tmp_path / "bt")
    axes = figures[-1].axes
    assert [ax.get_ylabel() for ax in axes] == ["sales", "returns"]
    assert axes[0].get_title().startswith("sales, returns")
    fold = [ln for ln in axes[1].get_lines() if ln.get_label() == "fold 2"][0]
    assert np.abs(fold.get_ydata()).max() < 0.01                  # the returns' forecast, in their units
