"""A ``--fill`` run's backtest: the model and the naive baselines beside it read each fold's history filled
the same way, from the points before the cut alone, as ``predict`` fills a history it is given."""
import numpy as np
import pandas as pd
import pytest

import lstmkit
from forecast_data import FAST, sine_frame

H, N = 6, 240
GAPS = [205, 206, 215, 227]        # in the season seasonal naive reads, and fold 1's origin (its cut is 228)


@pytest.fixture(scope="module")
def gappy():
    df = sine_frame(n=N)[["time", "y"]]
    df.loc[GAPS, "y"] = np.nan
    est = lstmkit.Forecaster(**{**FAST, "max_epochs": 1}, horizon=H, fill="interpolate", relative=False).fit(
        df, target="y", time="time")
    return df, est, est.backtest(df, folds=2)


def _mae(rows, model):
    return next(r["MAE"] for r in rows if r["model"] == model)


def _fold(result, k):
    return [r for r in result["folds"] if r["fold"] == k]


def test_the_baselines_read_the_history_interpolated_as_the_model_does(gappy):
    """Under --fill interpolate the baselines read every gap carried forward (ffill) while the model read it
    interpolated: seasonal naive's error was that of another history than the model's."""
    df, est, result = gappy
    season = est.season_
    for k, cut in ((1, N - 2 * H), (2, N - H)):
        history = df["y"].iloc[:cut].interpolate(method="linear", limit_direction="both").to_numpy()
        actual = df["y"].iloc[cut:cut + H].to_numpy()
        seasonal = history[cut - season + np.arange(H) % season]
        seen = np.isfinite(actual)
        assert _mae(_fold(result, k), "seasonal_naive") == pytest.approx(np.abs(seasonal - actual)[seen].mean())
        assert _mae(_fold(result, k), "naive") == pytest.approx(np.abs(history[-1] - actual)[seen].mean())


def test_the_models_fold_forecast_is_predict_of_the_history_before_the_cut(gappy):
    """The one-pass lane filled the whole table: a gap just before a cut was interpolated toward the value
    after it, the first one the fold scores. Each fold's forecast is now predict's of its history alone."""
    df, est, result = gappy
    cut = N - 2 * H
    forecast = est.predict(df.iloc[:cut])["y"].to_numpy()
    actual = df["y"].iloc[cut:cut + H].to_numpy()
    assert _mae(_fold(result, 1), "lstm") == pytest.approx(np.abs(forecast - actual).mean(), rel=1e-5)
