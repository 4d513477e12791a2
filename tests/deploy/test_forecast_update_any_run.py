"""Online updates of every forecaster (issue 18): the runs the defaults choose for a short
seasonal series (logs, seasonal indices, a seed ensemble, a blend with ETS), many series with a
series embedding, and quantiles fine-tune as they were trained -- their windows cut by the
training's own batches, their own loss. Before, each was refused ("update supports single-series
point-forecast runs without --deseason, --combine, --id-embedding, --log or --ensemble"), so the
run ``forecast train`` makes with its defaults on a monthly sales series could not be updated."""
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from cli_helpers import run_cli
from forecast_data import FAST, sine_frame
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.estimator import Forecaster

SEASON = 12
TINY = {**FAST, "hidden_size": 8, "max_epochs": 2, "lookback": 24, "horizon": 4, "relative": False}


def _frame(n=168, seed=0, after=0):
    """A positive series with a season of 12 and a covariate, hourly stamps from ``after`` hours
    past 2024-01-01 (an update reads rows newer than the training's)."""
    df = sine_frame(n=n, period=SEASON, seed=seed)
    return df.assign(time=df["time"] + pd.Timedelta(hours=after))


def _weights(est):
    return {k: v.clone() for k, v in est.net_.state_dict().items()}


@pytest.fixture(scope="module")
def defaults(tmp_path_factory):
    """What the defaults pick for a short seasonal positive series: logs, seasonal indices, three
    seeds and a blend with ETS."""
    return Forecaster(**{**TINY, "log": True, "deseason": SEASON, "ensemble": 3, "combine": "ets"}).fit(
        _frame(), target="y", time="time", features="temp", run_dir=tmp_path_factory.mktemp("defaults") / "run")


def test_the_defaults_run_updates_every_member_and_predict_reads_the_new_weights(defaults, tmp_path):
    est = Forecaster.load(defaults.run_dir_)
    history = pd.concat([_frame(), _frame(n=120, seed=1, after=168)], ignore_index=True)
    before_w, before = _weights(est), est.predict(history)["y"].to_numpy()
    est.update(_frame(n=120, seed=1, after=168), epochs=3, lr=5e-3)
    r = est.last_update_
    assert r["accepted"] and r["val_loss_after"] < r["val_loss_before"], r
    assert r["loss"] == "mse" and r["end"] == "2024-01-12T23:00:00"
    for m in range(3):                              # every seed fine-tuned, not the first alone
        assert any(not torch.equal(before_w[k], v) for k, v in est.net_.state_dict().items()
                   if k.startswith(f"members.{m}."))
    after = est.predict(history)["y"].to_numpy()
    assert not np.allclose(after, before)
    again = Forecaster.load(est.save(tmp_path / "v2"))
    np.testing.assert_allclose(again.predict(history)["y"].to_numpy(), after, rtol=1e-6)
    assert again.combination_ == defaults.combination_ and again.lineage_[-1]["accepted"] is True


def test_an_update_that_hurts_restores_every_member_bit_for_bit(defaults):
    est = Forecaster.load(defaults.run_dir_)
    before = _weights(est)
    noisy = _frame(n=120, seed=2, after=168)       # noise to train on (positive: the run reads logs), then
    noisy.loc[:95, "y"] = 10 + 3 * np.random.default_rng(0).standard_normal(96) ** 2      # the series it knows
    with pytest.warns(UserWarning, match="outside it"):       # squares of noise: far above the training range
        est.update(noisy, epochs=3, lr=1.0)
    assert not est.last_update_["accepted"]
    assert all(torch.equal(before[k], v) for k, v in est.net_.state_dict().items())



def test_a_rolled_back_update_may_be_retried_on_the_same_data():
    """A rolled-back update leaves the weights as they were, yet its ``end`` counted as read: the
    retry with a smaller learning rate on the same file was refused ("not after ..., the newest point
    the model has read (update 1's data)"). A kept update's end still refuses the data again."""
    est = Forecaster(**TINY).fit(_frame(), target="y", time="time", features="temp")
    new = _frame(n=120, seed=1, after=168)
    est.update(new, epochs=3, lr=5.0)                     # far too large a step: rolled back
    assert not est.last_update_["accepted"]
    est.update(new, epochs=3, lr=5e-3)
    assert est.last_update_["accepted"] and len(est.lineage_) == 2
    with pytest.raises(LstmkitError, match=r"not after 2024-01-12T23:00:00, the newest point the model has read "
                                           r"\(update 2's data\)"):
        est.update(new, epochs=1)

def test_an_in_memory_model_predicts_with_its_updated_weights():
    """A model fitted from a DataFrame (no run folder): predict's engine cache keyed on the run's
    files must not keep answering with the weights from before the update."""
    est = Forecaster(**TINY).fit(_frame(), target="y", time="time", features="temp")
    history = pd.concat([_frame(), _frame(n=120, seed=1, after=168)], ignore_index=True)
    before = est.predict(history)["y"].to_numpy()
    est.update(_frame(n=120, seed=1, after=168), epochs=3, lr=5e-3)
    assert est.last_update_["accepted"]
    x = est.predict(history)["y"].to_numpy()
    assert not np.allclose(x, before)
    np.testing.assert_allclose(x, est.predict(history, engine="torch")["y"].to_numpy(), rtol=1e-5)


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    """Three series of different levels, a series embedding and two seeds."""
    df = pd.concat([_frame(n=100, seed=s).assign(id=f"s{s}", y=lambda f, s=s: f["y"] + 3 * s) for s in range(3)])
    est = Forecaster(**{**TINY, "ensemble": 2, "id_embedding": 4}).fit(
        df, target="y", time="time", id="id", features="temp", run_dir=tmp_path_factory.mktemp("panel") / "run")
    return est, df


def _newer_panel(ids, n=90, after=100):
    return pd.concat([_frame(n=n, seed=10 + s, after=after).assign(id=f"s{s}", y=lambda f, s=s: f["y"] + 3 * s)
                      for s in ids])


def test_many_series_update_together_and_a_new_series_is_left_out_with_a_warning(panel):
    trained, _ = panel
    est = Forecaster.load(trained.run_dir_)
    assert est.data_summary_["end"] == "2024-01-05T03:00:00"          # the newest point of any series
    new = pd.concat([_newer_panel([0, 1]), _frame(n=90, seed=7, after=100).assign(id="s9")])
    with pytest.warns(UserWarning, match=r"1 series of the update data are new to the model \('s9'\)"):
        est.update(new, epochs=2, lr=5e-3)
    r = est.last_update_
    assert r["series"] == 2 and r["rows"] == 180
    n_windows = 90 - 24 - 4 + 1                                 # per series: 13 held out, 3 left out between
    assert r["val_windows"] == 2 * round(n_windows * 0.2) and r["train_windows"] == 2 * (n_windows - 13 - 3)


def test_update_data_holding_none_of_the_models_series_or_no_newer_rows_is_refused(panel):
    trained, df = panel
    est = Forecaster.load(trained.run_dir_)
    with pytest.raises(LstmkitError, match=r"holds none of the 3 series the model was trained on \('s0', 's1', "
                                           r"'s2'\); it holds 'x'") as e:
        est.update(_frame(n=90, after=100).assign(id="x"))
    assert "\n" not in e.value.message
    with pytest.raises(LstmkitError, match="the update data ends 2024-01-05T03:00:00, not after 2024-01-05T03:00:00"):
        est.update(df)                                          # the training data again


def test_a_series_too_short_for_an_update_is_left_out_and_all_too_short_is_refused(panel):
    trained, _ = panel
    est = Forecaster.load(trained.run_dir_)
    new = pd.concat([_newer_panel([0]), _newer_panel([1], n=30)])
    with pytest.warns(UserWarning, match=r"1 series have too few rows for an update \(e.g. 's1': 30\)"):
        est.update(new, epochs=1)
    assert est.last_update_["series"] == 1
    with pytest.raises(LstmkitError, match=r"too little new data for an update: 30 rows of any series "
                                           r"\(the longest, 's1'\), need at least"):
        est.update(_newer_panel([1], n=30))
    with pytest.raises(LstmkitError, match=r"need at least 144 — pass more rows \(lookback 24 \+ horizon 4 \+ "
                                           r"held-out points\), or a smaller holdout \(holdout=0.2\)$"):
        est.update(_newer_panel([0, 1], n=80), holdout=0.97)   # 80 rows suffice, but 0.97 holds out nearly all



def test_the_cli_and_update_json_say_which_of_the_models_series_were_updated(panel, tmp_path, capsys):
    """A many-series update named only its held-out windows: a user could not tell that one of the
    model's series had too few rows, one was new and one had no rows at all, none of them updated."""
    trained, _ = panel
    new = pd.concat([_newer_panel([2]), _newer_panel([0], n=30), _frame(n=90, seed=7, after=100).assign(id="s9")])
    new.to_csv(tmp_path / "new.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code, out, _ = run_cli(["forecast", "update", "--run", trained.run_dir_, "--data", tmp_path / "new.csv",
                                "--epochs", "1", "--out", tmp_path / "v"], capsys)
    assert code == 0, out
    assert ("1 of the model's 3 series updated; left out: 1 new to the model ('s9'), 1 with too few rows ('s0'), "
            "1 without rows in the data") in out
    report = json.loads(next((tmp_path / "v").glob("*/update.json")).read_text())
    assert report["series"] == 1 and report["model_series"] == 3
    assert report["left_out"] == {"new": ["s9"], "too_short": ["s0"]}


def test_a_kept_update_writes_no_test_metrics_of_the_weights_before_it(panel, tmp_path):
    """The updated run's metrics.json was the parent's, copied: test metrics of weights it no
    longer has, which est.metrics_ and anything listing runs read as the updated model's."""
    trained, _ = panel
    assert (trained.run_dir_ / "metrics.json").exists()
    est = Forecaster.load(trained.run_dir_).update(_newer_panel([0, 1, 2]), epochs=2, lr=5e-3)
    assert est.last_update_["accepted"] and est.metrics_ is None
    assert not (est.save(tmp_path / "v2") / "metrics.json").exists()
    kept = Forecaster.load(trained.run_dir_)
    kept.update(_newer_panel([0, 1, 2]), epochs=3, lr=5.0)        # far too large a step: rolled back
    assert not kept.last_update_["accepted"] and kept.metrics_ == trained.metrics_

def test_a_quantile_run_updates_with_its_pinball_loss(tmp_path):
    est = Forecaster(**TINY, quantiles=[0.1, 0.5, 0.9]).fit(_frame(), target="y", time="time", features="temp")
    est.update(_frame(n=120, seed=1, after=168), epochs=2, lr=5e-3)
    r = est.last_update_
    assert r["loss"] == "pinball" and np.isfinite([r["val_loss_before"], r["val_loss_after"]]).all()
    assert 0 < r["val_loss_before"] < 1           # a pinball loss of scaled values, not a squared error of 3 columns


def test_seasonal_indices_need_enough_rows_before_the_held_out_points():
    est = Forecaster(**{**TINY, "lookback": 8, "deseason": SEASON, "max_epochs": 1}).fit(
        _frame(), target="y", time="time", features="temp")
    # 30 rows: 19 windows, the newest 4 held out, so 23 rows before them; a moving average of 13
    # and then a season of 12 measure every phase's index
    with pytest.raises(LstmkitError, match=r"seasonal indices \(deseason=12\): series .* has 23 rows before its "
                                           r"held-out points, and measuring the index of every phase takes 24") as e:
        est.update(_frame(n=30, after=168))
    assert e.value.hint == "pass at least 31 rows of it"
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # 31 rows: enough, and nothing to warn of
        est.update(_frame(n=31, after=168), epochs=1)


def test_series_numbered_by_their_own_steps_update_each_after_its_own_end():
    """An M4 file's step numbers count each series from its own start: series A's new steps 101-190 were
    refused as 'the update data ends 190, not after 300', series B's last training step, and a second
    update was judged against the first one's steps of another series."""
    def numbered(sid, n, start=1, seed=0):
        t = np.arange(start, start + n)
        y = 10 + np.sin(2 * np.pi * t / SEASON) + np.random.default_rng(seed).normal(0, 0.1, n)
        return pd.DataFrame({"id": sid, "t": t, "y": y})
    est = Forecaster(**TINY).fit(pd.concat([numbered("A", 100), numbered("B", 300, seed=1)]),
                                 target="y", time="t", id="id")
    assert "end" not in est.data_summary_                   # no step of one series dates another's
    est.update(numbered("B", 90, start=301, seed=2), epochs=1)
    est.update(numbered("A", 90, start=101, seed=3), epochs=1)     # after B's update, ending at step 390
    assert [u["series"] for u in est.lineage_] == [1, 1] and "end" not in est.last_update_


def test_series_ending_at_different_times_update_each_after_its_own_end():
    """A many-series run kept one newest time for all: a store whose rows ran two days behind the others'
    (s1 ending 48 hours before s0) was refused its newly arrived rows as 'the update data ends …, not after'
    s0's end, and its held-out points were compared with s0's end, not its own."""
    df = pd.concat([_frame(n=100, seed=0).assign(id="s0"), _frame(n=52, seed=1).assign(id="s1")])
    fit = lambda: Forecaster(**TINY).fit(df, target="y", time="time", id="id", features="temp")
    est = fit()
    assert est.data_summary_["ends"] == {"s0": "2024-01-05T03:00:00", "s1": "2024-01-03T03:00:00"}
    assert est.data_summary_["end"] == "2024-01-05T03:00:00"
    caught = _frame(n=100, seed=1).iloc[10:].assign(id="s1")     # s1's rows to s0's end: its last 48 are new
    with warnings.catch_warnings():
        warnings.simplefilter("error")                           # its held-out points are after its own end
        est.update(caught, epochs=2, lr=5e-3)
    assert est.last_update_["accepted"] and est.last_update_["series"] == 1
    assert est.last_update_["ends"] == {"s1": "2024-01-05T03:00:00"}
    with pytest.raises(LstmkitError, match=r"^the update data ends 2024-01-05T03:00:00, not after "
                                           r"2024-01-05T03:00:00, the newest point the model has read \(update 1's "):
        est.update(caught)                                       # the same rows again: s1 is read to them now
    fresh = fit()
    with pytest.raises(LstmkitError, match=r"^no series of the update data ends after the newest point the model "
                                           r"has read of it: series 's0' ends 2024-01-05T03:00:00, not after "
                                           r"2024-01-05T03:00:00 \(its training data\), and 1 more series alike"):
        fresh.update(df)                                         # the training data again, each series to its end
    behind = _frame(n=100, seed=2).iloc[:60].assign(id="s1")      # s1's rows to 2024-01-03T11:00: 8 new hours
    with pytest.warns(UserWarning, match=r"^the update's held-out points start 2024-01-03T02:00:00, not after "
                                         r"2024-01-03T03:00:00, the newest point the model has read of it"):
        fresh.update(behind, epochs=1)


def test_an_update_of_a_zoned_run_says_its_times_as_the_file_wrote_them(tmp_path):
    """Times written with an offset are read in UTC: 'the update data ends 2024-01-07T15:00:00' named
    a time the user's file (…T00:00:00+09:00) never wrote, unlabelled."""
    df = _frame()
    df["time"] = (df["time"].dt.tz_localize("Asia/Tokyo")).map(lambda t: t.isoformat())
    est = Forecaster(**TINY).fit(df, target="y", time="time", features="temp", run_dir=tmp_path / "run")
    assert est.data_summary_["time_zone"] == "UTC+09:00"
    last = df["time"].iloc[-1]
    assert last.endswith("+09:00")
    with pytest.raises(LstmkitError, match="^" + re.escape(f"the update data ends {last}, not after {last}, the newest")):
        est.update(df)
