"""Forecast defaults chosen from the training data (lstmkit.tasks.forecast.auto)."""
import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.tasks.forecast.auto import EPOCH_WINDOWS, MANY_WINDOWS, auto_defaults, measure, summary_line
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.checks import check_config
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks.forecast.ensemble import SeedEnsemble, ensemble_loss
from lstmkit.tasks.forecast.graphs import median_of
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.tasks.forecast.windows import part_sizes
from lstmkit.train.callbacks import Callback


def _monthly(y) -> pd.DataFrame:
    return pd.DataFrame({"time": pd.date_range("2000-01-01", periods=len(y), freq="MS"), "y": y})


def _multiplicative(n=144, seed=0) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return (100 + 2 * t) * (1 + 0.25 * np.sin(2 * np.pi * t / 12)) * np.exp(0.01 * rng.standard_normal(n))


def _additive(n=240, seed=0) -> np.ndarray:
    t = np.arange(n)
    return 300 + 0.1 * t + 3 * np.sin(2 * np.pi * t / 12) + 0.2 * np.random.default_rng(seed).standard_normal(n)


def _random_walk(n=200, seed=0) -> np.ndarray:
    return np.cumsum(np.random.default_rng(seed).standard_normal(n))


def _choose(y, **given):
    cfg = ForecastConfig(target=["y"], time="time", horizon=given.pop("horizon", 12), **given)
    return auto_defaults(cfg, _monthly(y))


def test_a_multiplicative_seasonal_positive_series_gets_logs_and_seasonal_adjustment():
    cfg, auto = _choose(_multiplicative())
    assert cfg.log is True and cfg.deseason == 12
    assert "multiplicative" in auto["log"]["why"] and auto["deseason"]["value"] == 12
    assert auto["measured"]["season"] == 12 and auto["measured"]["strength_log"] > 0.9
    assert cfg.lookback == 36 and auto["lookback"]["why"] == "3 seasons of 12"
    assert cfg.segment == 0 and cfg.scaler == "standard" and cfg.ensemble == 15 and cfg.highway == 36
    assert (cfg.hidden_size, cfg.num_layers) == (16, 1) and "more data per parameter" in auto["hidden_size"]["why"]


def test_logs_for_noise_that_grows_with_a_rising_level_do_not_claim_a_multiplicative_season():
    """Exponential growth with 2 % noise and no season: logs (the swing grows with the level), but the
    reason read 'multiplicative season' beside 'deseason 0 (weak season ...)' in the same line."""
    t = np.arange(240)
    y = np.exp(t / 60) * (1 + 0.02 * np.random.default_rng(0).standard_normal(240))
    cfg, auto = _choose(y)
    assert cfg.log is True and cfg.deseason == 0 and "weak season" in auto["deseason"]["why"]
    assert "multiplicative season" not in auto["log"]["why"] and "the season itself is weak" in auto["log"]["why"]


def test_one_spike_in_an_additive_season_is_not_called_multiplicative():
    """One reading of 100x the level made each cycle's swing 'grow with the level' (correlation
    0.98): logs were chosen as 'multiplicative'; the spike's spread is the reason they are taken."""
    y = _additive()
    y[100] = 100 * y[100]
    cfg, auto = _choose(y)
    assert auto["measured"]["swing_level_corr"] < 0.5
    assert cfg.log is True and "multiplicative" not in auto["log"]["why"] and "spanning a factor" in auto["log"]["why"]
    y[100] = 3 * _additive()[100]                 # a spike within a factor 20: no logs, an additive season
    cfg, auto = _choose(y)
    assert cfg.log is False and "additive" in auto["log"]["why"]


@pytest.mark.parametrize("later", [0.0, -3.0])
def test_logs_are_not_chosen_when_a_value_after_the_training_part_cannot_take_them(later):
    """A positive multiplicative training part chose logs, and a 0 or a negative value in the test part then
    stopped training with 'drop --log' (a flag the user never passed)."""
    y = _multiplicative()
    y[-5] = later
    cfg, auto = _choose(y)
    assert cfg.log is False and auto["log"]["why"] == ("a value at or below 0 after the training part (point 140), "
                                                       "which logs cannot model")
    assert cfg.deseason == 12                                             # the season is still removed


def test_an_additive_season_is_adjusted_without_logs():
    cfg, auto = _choose(_additive())
    assert cfg.deseason == 12 and cfg.log is False
    assert "additive" in auto["log"]["why"]
    assert cfg.lookback == 36 and auto["lookback"]["why"] == "3 seasons of 12"


def test_a_random_walk_has_no_season_to_remove():
    cfg, auto = _choose(_random_walk(), horizon=5)
    assert cfg.deseason == 0 and cfg.log is False            # not all positive
    assert "weak season" in auto["deseason"]["why"] or "no season" in auto["deseason"]["why"]
    yearly = pd.DataFrame({"time": pd.date_range("1800-01-01", periods=120, freq="YS"),
                           "y": 50 + _random_walk(120)})
    cfg, auto = auto_defaults(ForecastConfig(target=["y"], time="time", horizon=5), yearly)
    assert cfg.deseason == 0 and auto["measured"]["season"] == 1 and cfg.lookback == 20


def test_a_short_series_gets_a_shorter_lookback():
    long_cfg, _ = _choose(_multiplicative(240))
    short_cfg, auto = _choose(_multiplicative(60), horizon=6)
    assert short_cfg.lookback < long_cfg.lookback
    assert short_cfg.lookback + short_cfg.horizon <= auto["measured"]["length"]
    assert "training part has" in auto["lookback"]["why"] or "half of" in auto["lookback"]["why"]


@pytest.mark.parametrize("freq, days, lookback, segment", [
    ("h", 42, 168, 24),         # hourly, six weeks: a week of lookback, read a day per encoder step
    ("30min", 42, 336, 48),     # half-hourly (Taylor's demand): a week
    ("h", 10, 72, 0),           # too short to hold two weeks of windows: 3 days, as before
    ("D", 400, 21, 0),          # daily: the week is the season itself, 3 of them
])
@pytest.mark.filterwarnings("error::DeprecationWarning")   # pandas 3.1 deprecates DatetimeIndex.dayofweek
def test_steps_shorter_than_a_day_look_back_a_week(freq, days, lookback, segment):
    """Sub-daily data repeat by the weekday as well as by the hour. With the day as the season the
    defaults read 3 days, so a Monday's forecast looked back at a weekend. On Taylor's half-hourly demand
    (benchmarks/forecast_defaults.py, horizon 48) a week of lookback gave MASE 0.251 / 0.164 / 0.194 / 0.199
    on the earliest / earlier / early / validation cuts, where 3 days gave 0.567 / 0.278 / 0.237 / 0.449."""
    t = pd.date_range("2024-01-01", pd.Timestamp("2024-01-01") + pd.Timedelta(days=days), freq=freq, inclusive="left")
    hours = (t - t[0]) / pd.Timedelta("1h")
    y = 100 + 10 * np.sin(2 * np.pi * hours / 24) + 5 * (t.day_of_week >= 5) + np.random.default_rng(0).normal(0, 1, len(t))
    cfg = ForecastConfig(target=["y"], time="time", horizon=24)
    out, auto = auto_defaults(cfg, pd.DataFrame({"time": t, "y": y}))
    assert (out.lookback, out.segment) == (lookback, segment), auto["lookback"]
    assert ("a week" in auto["lookback"]["why"]) == (freq != "D" and days > 14)
    check_config(out)


def test_explicit_values_are_untouched_and_nothing_is_read_when_all_are_set():
    cfg, auto = _choose(_multiplicative(), lookback=60, log=False, deseason=0, scaler="minmax")
    assert (cfg.lookback, cfg.log, cfg.deseason, cfg.scaler) == (60, False, 0, "minmax")
    assert set(auto) == {"segment", "highway", "hidden_size", "num_layers", "ensemble", "measured"}   # only the unset
    assert cfg.highway == 60                                       # the given lookback, not a chosen one
    full = ForecastConfig(target=["y"], lookback=60, log=False, deseason=0, segment=0, highway=0, hidden_size=50,
                          num_layers=2, scaler="minmax", ensemble=1, combine="none", samples_per_epoch=0)
    # the fractions left unset are settled at the default (nothing read: not grown), as the run records them
    assert auto_defaults(full, "no such file.csv") == (dataclasses.replace(full, val_frac=0.15, test_frac=0.15), {})


def test_a_given_segment_makes_the_chosen_lookback_a_multiple_of_it():
    cfg, auto = _choose(_additive(), segment=10)
    assert cfg.lookback % 10 == 0 and "multiple of the segment 10" in auto["lookback"]["why"]


@pytest.mark.parametrize("given, said", [
    ({"segment": 500}, r"--segment 500 needs a lookback of 500 steps"),
    ({"highway": 400}, r"--highway 400 needs a lookback of 400 steps"),
])
def test_a_given_segment_or_highway_longer_than_the_data_names_itself(given, said):
    """--segment 1000 on 200 rows was told 'series too short ... for lookback 1000 — shorten --lookback',
    a flag the user had not passed."""
    with pytest.raises(LstmkitError, match=said + r", and the training part has \d+ points — pass a smaller --"):
        _choose(_additive(), **given)


def test_many_series_keep_the_fixed_defaults():
    y = _additive(120)
    df = pd.concat([_monthly(y).assign(id="a"), _monthly(y + 1).assign(id="b")])
    cfg, auto = auto_defaults(ForecastConfig(target=["y"], time="time", id="id", horizon=3), df)
    assert (cfg.lookback, cfg.log, cfg.deseason, cfg.scaler, cfg.ensemble) == (60, False, 0, "minmax", 1)
    assert (cfg.highway, cfg.hidden_size, cfg.num_layers, cfg.segment) == (0, 50, 2, 0)
    assert cfg.combine == "none"                                   # the blend is weighed for one series only
    assert "many series" in auto["lookback"]["why"]
    line = summary_line(auto)                       # one reason, said once (it was repeated for all 11 choices)
    assert line.count("many series") == 1 and "lookback 60, deseason 0, no log, segment 0" in line
    assert cfg.samples_per_epoch is None and "samples_per_epoch" not in auto     # few windows: every one each epoch


def _wide_panel(n_series=110, n=1000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    t = np.arange(n)
    return pd.concat([pd.DataFrame({"id": f"s{k}", "t": t, "y": 10 + np.sin(t / 7 + k) + 0.1 * rng.standard_normal(n)})
                      for k in range(n_series)])


class _Batches(Callback):
    def __init__(self):
        self.per_epoch = []

    def on_batch_end(self, trainer, batch, n_batches, loss):
        self.per_epoch.append(n_batches)


@pytest.mark.parametrize("given, drawn", [(None, EPOCH_WINDOWS), (0, "all"), (10240, 10240)])
def test_many_windows_draw_a_sample_per_epoch_unless_the_user_says_otherwise(given, drawn):
    df = _wide_panel()                              # 110 series x (1000 - 3 horizons - 8 + 1) = 108,570 windows
    n_win = 110 * (1000 - 3 * 2 - 8 + 1)
    assert n_win > MANY_WINDOWS
    quick = dict(horizon=2, lookback=8, hidden_size=4, num_layers=1, batch_size=5120, max_epochs=1,
                 progress="off", tensorboard=False, doctor=False, device="cpu")
    seen = _Batches()
    est = Forecaster(**quick, samples_per_epoch=given).fit(df, id="id", time="t", target="y", callbacks=[seen])
    assert est.data_summary_["windows"]["train"] == n_win
    assert seen.per_epoch[0] == -(-(n_win if drawn == "all" else drawn) // 5120)
    if given is None:
        assert est.config_.samples_per_epoch == EPOCH_WINDOWS == est.auto_["samples_per_epoch"]["value"]
        assert est.auto_["samples_per_epoch"]["why"].startswith(f"{n_win:,} training windows")
        assert f"samples_per_epoch {EPOCH_WINDOWS} ({n_win:,} training windows" in summary_line(est.auto_)
    else:
        assert est.config_.samples_per_epoch == given and "samples_per_epoch" not in est.auto_


def test_a_negative_samples_per_epoch_is_one_clear_error():
    with pytest.raises(LstmkitError, match=r"`samples_per_epoch` must be a whole number >= 0, got -1 .*0 to use every"):
        check_config(ForecastConfig(target=["y"], samples_per_epoch=-1))


def test_a_small_panel_trains_on_every_window_as_before():
    y = _additive(120)
    df = pd.concat([_monthly(y).assign(id="a"), _monthly(y + 1).assign(id="b")])
    quick = dict(horizon=3, lookback=12, max_epochs=2, progress="off", tensorboard=False, doctor=False, device="cpu")
    chosen = Forecaster(**quick).fit(df, id="id", time="time", target="y")
    every = Forecaster(**quick, samples_per_epoch=0).fit(df, id="id", time="time", target="y")
    assert chosen.config_.samples_per_epoch is None and "samples_per_epoch" not in chosen.auto_
    assert np.array_equal(chosen.predict(df)["y"].to_numpy(), every.predict(df)["y"].to_numpy())


def test_measure_reads_strength_and_positivity():
    p = measure(_additive(), 12)
    assert p["positive"] and p["strength"] > 0.9 and p["season"] == 12
    q = measure(_random_walk(), 12)
    assert not q["positive"] and q["strength_log"] is None and q["strength"] < 0.5
    assert measure(_additive(20), 12)["season"] == 1                 # under 2 seasons: none measured


@pytest.mark.parametrize("level", [0.0, -5.0])
def test_a_series_whose_cycle_levels_reach_zero_or_below_is_measured_without_numpy_warnings(level):
    """One spike in zeros (a cycle whose level is 0) printed numpy's 'divide by zero' to the terminal."""
    y = np.full(120, level)
    y[60] = 100.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = measure(y, 7)
    assert p["level_ratio"] == 1.0 and not p["positive"]


def test_the_seed_ensemble_trains_every_member_and_forecasts_their_median():
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)
    ens = SeedEnsemble([_Wrap(3), _Wrap(3), _Wrap(3)])
    x = torch.randn(4, 5, 3)
    ens.train()
    assert ens(x).shape == (12, 2)
    ens.eval()
    stacked = torch.stack([m(x) for m in ens.members])
    assert torch.equal(ens(x), stacked.median(0).values)
    loss = ensemble_loss(torch.nn.functional.mse_loss, 3)
    y = torch.zeros(4, 2)
    ens.train()
    out = ens(x)
    assert torch.isclose(loss(out, y), torch.stack([torch.nn.functional.mse_loss(m(x), y) for m in ens.members]).mean())
    ens.eval()                                     # validation: the loss of the median forecast, targets as given
    assert torch.isclose(loss(ens(x), y), torch.nn.functional.mse_loss(stacked.median(0).values, y))
    with pytest.raises(ValueError, match="at least 2"):
        SeedEnsemble([net])


def test_an_even_seed_ensemble_forecasts_the_mean_of_its_two_middle_members_in_order():
    """torch's median is the lower middle value: a 2-seed ensemble forecast the smaller member's value at
    every step and quantile level (biased low, its 0.9 quantile the narrower member's); it is np.median's,
    and each level's median of non-crossing members keeps the levels in order."""
    torch.manual_seed(0)
    ens = SeedEnsemble([_Wrap(3), _Wrap(3)]).eval()
    x = torch.randn(4, 5, 3)
    a, b = (m(x) for m in ens.members)
    torch.testing.assert_close(ens(x), (a + b) / 2)
    levels = torch.sort(torch.randn(4, 6, 2, 3), -1).values                   # [k, B, H, Q], each member in order
    levels[1] += 5 * torch.randn(6, 2, 1)
    q = median_of(levels)
    torch.testing.assert_close(q, torch.from_numpy(np.median(levels.numpy(), 0)))
    assert bool((q[..., 1:] >= q[..., :-1]).all())


class _Wrap(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.lin = torch.nn.Linear(c, 2)

    def forward(self, x, future=None, series=None):
        return self.lin(x[:, -1])


def test_fit_records_the_choices_in_the_run_and_keeps_them_on_load(tmp_path):
    df = _monthly(_multiplicative(96))
    est = Forecaster(horizon=6, max_epochs=2, progress="off", tensorboard=False,
                     device="cpu").fit(df, target="y", time="time", out=tmp_path)
    cfg = est.config_
    assert cfg.log is True and cfg.deseason == 12 and cfg.ensemble == 15
    assert len(est.net_.members) == 15
    meta = json.loads((est.run_dir_ / "lstmkit.json").read_text())
    assert meta["auto"]["lookback"]["value"] == cfg.lookback == meta["config"]["lookback"]
    assert meta["auto"]["ensemble"]["why"].startswith("small data")
    again = Forecaster.load(est.run_dir_)
    assert again.auto_ == est.auto_
    assert np.array_equal(again.predict(df)["y"].to_numpy(), est.predict(df)["y"].to_numpy())
    line = summary_line(est.auto_)
    assert line.startswith("chosen from the training data: ") and "log (" in line and "lookback" in line
    assert "\n" not in line


def test_a_loaded_forecaster_fitted_again_records_no_choices_it_did_not_make(tmp_path):
    """Refitting a loaded run kept that run's auto block, reasons measured on the old data, and
    wrote it into the new run as 'chosen from the training data'. A loaded model's settings are the
    call that trained it (the choices left unset), so a refit chooses again on its own data and
    records those choices, as a new model fitted there does; check() leaves a fitted model's record alone."""
    quick = dict(horizon=2, max_epochs=1, progress="off", tensorboard=False, device="cpu")
    first = Forecaster(**quick).fit(_monthly(_additive(120)), target="y", time="time", out=tmp_path)
    assert {"lookback", "measured"} <= set(first.auto_)
    again = Forecaster.load(first.run_dir_)
    again.check(_monthly(_additive(90, seed=1)))
    assert again.auto_ == first.auto_
    again.fit(_monthly(_additive(90, seed=1)), out=tmp_path)
    recorded = json.loads((again.run_dir_ / "lstmkit.json").read_text())["auto"]
    fresh = Forecaster(**quick).fit(_monthly(_additive(90, seed=1)), target="y", time="time", out=tmp_path)
    assert recorded == json.loads((fresh.run_dir_ / "lstmkit.json").read_text())["auto"]
    assert recorded["measured"] != first.auto_["measured"]           # measured on the new data, not the old


@pytest.mark.parametrize("scaler", ["standard", "minmax", "mase"])
def test_a_constant_series_forecasts_its_level_in_any_units(scaler):
    """A flat 2e-6 was forecast as 2e-6 + the network's offset from 0 in units of 1 (-3e-4 after 30
    epochs: 170 times its level, negative), as its scale fell back to 1: now its own size."""
    quick = dict(horizon=2, lookback=6, hidden_size=4, max_epochs=1, ensemble=1, combine="none", log=False,
                 deseason=0, seed=0, progress="off", tensorboard=False, doctor=False, device="cpu", scaler=scaler)
    df = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=60, freq="D"), "y": 5.0})
    base = Forecaster(**quick).fit(df, time="time", target="y").predict(df)["y"].to_numpy()
    for unit in (1e-6, 1e6):
        moved = df.assign(y=df.y * unit)
        got = Forecaster(**quick).fit(moved, time="time", target="y").predict(moved)["y"].to_numpy()
        np.testing.assert_allclose(got / unit, base, rtol=1e-5)


@pytest.mark.parametrize("unit", [1e-15, 1e15])
def test_a_series_in_tiny_or_huge_units_forecasts_as_in_ordinary_ones(unit):
    """Scaling is relative: the same series in other units gives the same forecast in those units
    (a std below 1e-12 used to count as constant, so femto-units forecast ~1e-3)."""
    quick = dict(horizon=3, lookback=12, hidden_size=8, max_epochs=2, ensemble=1, combine="none", log=False,
                 deseason=0, seed=0, progress="off", tensorboard=False, doctor=False, device="cpu")
    df = _monthly(_additive(96))
    base = Forecaster(**quick).fit(df, time="time", target="y").predict(df)
    moved = Forecaster(**quick).fit(df.assign(y=df.y * unit), time="time", target="y").predict(df.assign(y=df.y * unit))
    np.testing.assert_allclose(moved["y"].to_numpy() / unit, base["y"].to_numpy(), rtol=1e-5)


def _profile(**kw):
    """A measured training part (auto.measure's keys), every rule's input given by hand."""
    return {"length": 240, "season": 12, "positive": True, "spread": 2.0, "strength": 0.2, "strength_log": 0.2,
            "swing_level_corr": 0.0, "level_ratio": 1.0, **kw}


def _chosen(windows=500, horizon=12, **kw):
    from lstmkit.tasks.forecast.auto import choose
    cfg = ForecastConfig(target=["y"], time="time", horizon=horizon)
    return choose(cfg, _profile(**kw), lambda lookback: windows)[0]


def test_each_rule_takes_its_documented_side_at_its_threshold():
    """The module's rules at their edges, as the docstring states them: a season strength F >= 0.5 is
    removed; logs for a span of more than a factor 20, or a swing-level correlation above 0.5 over a
    level that moves by more than 20 %; one layer of 16 units up to 1,000 training windows; 15 seeds up
    to 2,000."""
    assert _chosen(strength=0.5, strength_log=0.5).deseason == 12
    assert _chosen(strength=0.49, strength_log=0.49).deseason == 0
    assert _chosen(spread=20.0).log is False and _chosen(spread=20.5).log is True
    assert _chosen(swing_level_corr=0.9, level_ratio=1.2).log is False             # the level moved by 20 %, not more
    assert _chosen(swing_level_corr=0.9, level_ratio=1.25).log is True
    assert _chosen(swing_level_corr=0.5, level_ratio=2.0).log is False
    assert _chosen(swing_level_corr=0.51, level_ratio=2.0).log is True
    assert (_chosen(windows=1000).hidden_size, _chosen(windows=1000).num_layers) == (16, 1)
    assert (_chosen(windows=1001).hidden_size, _chosen(windows=1001).num_layers) == (50, 2)
    assert _chosen(windows=2000).ensemble == 15 and _chosen(windows=2001).ensemble == 1
    # the reasons said with them: a swing growing with the level over a season of strength 0.5 is a
    # multiplicative season, over a weaker one a swing only; a positive series without a season has no swing
    from lstmkit.tasks.forecast.auto import choose
    cfg = ForecastConfig(target=["y"], time="time", horizon=12)
    why = lambda **kw: choose(cfg, _profile(**kw), lambda lookback: 500)[1]["log"]["why"]
    assert why(swing_level_corr=0.9, level_ratio=2.0, strength=0.5).startswith("positive, multiplicative season")
    assert "the season itself is weak" in why(swing_level_corr=0.9, level_ratio=2.0, strength=0.49, strength_log=0.49)
    assert why(season=1) == "positive, spanning a factor 2.0 only"


def test_the_lookback_is_three_seasons_or_four_horizons_within_half_the_room():
    # 3 seasons of 12 when half of what the training part leaves after one horizon holds them, else fewer
    assert _chosen(length=240).lookback == 36
    assert _chosen(length=12 + 72).lookback == 36                  # half of 72 is 36: just room for 3 seasons
    assert _chosen(length=12 + 70).lookback == 24                  # half of 70 is 35: 2 seasons
    assert _chosen(length=12 + 30).lookback == 12
    # no season: 4 horizons, at least 12, at most half the room
    assert _chosen(season=1, horizon=5, length=400).lookback == 20
    assert _chosen(season=1, horizon=2, length=400).lookback == 12
    assert _chosen(season=1, horizon=10, length=10 + 60).lookback == 30


# -- default fractions grown to a horizon (auto._fitting_parts) ------------------------------------
def _half_hourly(n):
    t = np.arange(n)
    return pd.DataFrame({"time": pd.date_range("2020-01-01", periods=n, freq="30min"),
                         "y": 5 * np.maximum(0.0, np.sin(2 * np.pi * t / 48)) + 0.01 * t})


def test_default_validation_fraction_grows_to_one_horizon_and_says_so():
    # sktime's solar shape: 289 half-hourly points, horizon 48, the test part 2 days: 15 % is 43 validation
    # points, and the first run of a new user was refused
    df = _half_hourly(289)
    cfg = ForecastConfig(target=["y"], time="time", horizon=48, test_frac=96 / 289)
    out, auto = auto_defaults(cfg, df)
    assert out.val_frac == 0.17 and round(289 * out.val_frac) >= 48 and out.test_frac == cfg.test_frac
    assert auto["val_frac"]["value"] == 0.17 and "test_frac" not in auto
    line = summary_line(auto)
    assert "val_frac 0.17 (the default 15 % of 289 points is 43, less than one horizon of 48: 17 % = 49" in line
    Forecaster(horizon=48, test_frac=96 / 289).check(df)          # the fit reads it with that split


def test_default_fractions_both_grow_and_a_given_one_is_refused_as_before():
    df = _half_hourly(250)                                        # 15 % = 38 points, both parts under 48
    out, auto = auto_defaults(ForecastConfig(target=["y"], time="time", horizon=48), df)
    # the least fractions whose parts the split holds a horizon in: 19 % of 250 is 47.5, split as 48 (18 %: 45)
    assert (out.val_frac, out.test_frac) == (0.19, 0.19) and set(auto) >= {"val_frac", "test_frac"}
    n_train, n_val, n_test = part_sizes(250, out)
    assert n_val == n_test == 48 and n_train >= out.lookback + 48      # a training window of the chosen lookback
    with pytest.raises(LstmkitError, match=r"validation part \(14 % = 35 points\) holds less than one horizon"):
        Forecaster(horizon=48, val_frac=0.14).check(df)           # the user's own fraction: not changed
    _, auto = auto_defaults(ForecastConfig(target=["y"], time="time", horizon=48, val_frac=0.14), df)
    assert "val_frac" not in auto and "test_frac" in auto


def test_default_fractions_not_grown_when_the_series_is_too_short_all_the_same():
    df = _half_hourly(180)                                        # 3 horizons + 36: no room for a lookback of 48
    out, auto = auto_defaults(ForecastConfig(target=["y"], time="time", horizon=48), df)
    assert (out.val_frac, out.test_frac) == (0.15, 0.15) and "val_frac" not in auto
    with pytest.raises(LstmkitError, match="series too short"):
        Forecaster(horizon=48).check(df)
    solar = _half_hourly(289)            # grown parts of 49 + 49 leave 191 training points: a lookback of 100 fits,
    with pytest.raises(LstmkitError, match="series too short"):       # one of 150 does not and is refused
        Forecaster(horizon=48, lookback=150).check(solar)
    _, auto = auto_defaults(ForecastConfig(target=["y"], time="time", horizon=48, lookback=150), solar)
    assert "val_frac" not in auto
    out, auto = auto_defaults(ForecastConfig(target=["y"], time="time", horizon=48, lookback=100), solar)
    assert (out.val_frac, out.test_frac, out.lookback) == (0.17, 0.17, 100)


QUICK = dict(lookback=24, hidden_size=8, num_layers=1, ensemble=1, max_epochs=1, progress="off", tensorboard=False,
             doctor=False, device="cpu")


def test_a_fraction_given_at_the_default_value_is_not_grown_in_python():
    """Session 58 told a fraction given from one left unset by its value: ``val_frac=0.15`` (the default's value)
    was grown to 0.19 without a word, where any other value too small was refused. Given in the constructor, to
    fit, or by set_params, it is now refused as any given fraction is, naming the one that fits."""
    df = _half_hourly(250)                                        # 15 % = 38 points, under the horizon of 48
    Forecaster(horizon=48).check(df)                              # left unset: grown, the split holds a horizon
    refused = r"validation part \(15 % = 38 points\) holds less than one horizon.* pass val_frac= ?0.19"
    with pytest.raises(LstmkitError, match=refused):
        Forecaster(horizon=48, val_frac=0.15).check(df)
    with pytest.raises(LstmkitError, match=refused):
        Forecaster(horizon=48).set_params(val_frac=0.15).check(df)
    with pytest.raises(LstmkitError, match=r"test part \(15 % = 38 points\) holds less than one horizon"):
        Forecaster(**QUICK, horizon=48).fit(df, test_frac=0.15)
    _, auto = auto_defaults(ForecastConfig(target=["y"], time="time", horizon=48, val_frac=0.15), df)
    assert "val_frac" not in auto and auto["test_frac"]["value"] == 0.19     # only the one left unset grows
    assert Forecaster().get_params()["val_frac"] is None and Forecaster(val_frac=0.15).get_params()["val_frac"] == 0.15


def test_fractions_left_unset_stay_unset_in_a_fitted_and_a_loaded_model(tmp_path):
    """The run records the fractions it split by (config_), and its settings (get_params, clone, a refit) leave
    them unset as the call did, so a refit on other data grows them for that data, or not at all."""
    from sklearn.base import clone
    df = _half_hourly(250)
    est = Forecaster(**QUICK, horizon=48).fit(df, run_dir=tmp_path / "run")
    assert (est.config_.val_frac, est.config_.test_frac) == (0.19, 0.19)
    assert (est.get_params()["val_frac"], est.get_params()["test_frac"]) == (None, None)
    loaded = Forecaster.load(tmp_path / "run")
    assert (loaded.config_.val_frac, loaded.get_params()["val_frac"], loaded.get_params()["test_frac"]) == (0.19, None,
                                                                                                           None)
    longer = _half_hourly(600)                                    # 15 % = 90 points: a horizon, so not grown
    refit = clone(loaded).set_params(max_epochs=1).fit(longer)
    assert (refit.config_.val_frac, refit.config_.test_frac) == (0.15, 0.15) and "val_frac" not in refit.auto_
    Forecaster(**QUICK, horizon=48, val_frac=0.3).fit(longer, run_dir=tmp_path / "given")
    assert Forecaster.load(tmp_path / "given").get_params()["val_frac"] == 0.3    # a given fraction stays given


def test_a_fraction_given_at_the_default_value_is_not_grown_on_the_command_line(tmp_path, capsys):
    """``--val-frac 0.15`` (or ``val_frac: 0.15`` in --config) typed by the user is theirs: refused where its part
    is under a horizon, naming the fraction that fits; left out, the default grows and the report says so."""
    from cli_helpers import assert_user_error, run_cli
    data = tmp_path / "solar.csv"
    _half_hourly(250).to_csv(data, index=False)
    fast = ["--lookback", "24", "--hidden-size", "8", "--layers", "1", "--epochs", "1", "--ensemble", "1",
            "--progress", "off", "--device", "cpu", "--no-doctor", "--no-tensorboard"]
    base = ["forecast", "train", "--data", data, "--target", "y", "--time", "time", "--horizon", "48", *fast]
    code, _, err = run_cli([*base, "--val-frac", "0.15", "--out", tmp_path / "flag"], capsys)
    assert_user_error(code, err, "validation part (15 % = 38 points) holds less than one horizon", "--val-frac 0.19")
    assert not (tmp_path / "flag").exists()
    settings = tmp_path / "settings.yaml"
    settings.write_text("test_frac: 0.15\n")
    code, _, err = run_cli([*base, "--config", settings, "--out", tmp_path / "yaml"], capsys)
    assert_user_error(code, err, "test part (15 % = 38 points) holds less than one horizon", "'test_frac:' in", "0.19")
    code, out, err = run_cli([*base, "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    assert "val_frac 0.19 (the default 15 % of 250 points is 38" in out and "test_frac 0.19 (" in out
