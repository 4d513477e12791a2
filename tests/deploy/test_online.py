import csv
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from forecast_data import sine_frame
from lstmkit.config import TrainConfig
from lstmkit.data.windows import WindowBatches
from lstmkit.deploy.adapter import UpdateData
from lstmkit.deploy.online import fine_tune
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.estimator import Forecaster


def _newer(df):
    """Rows after the fixtures' training data (480 hours from 2024-01-01): what an update reads."""
    return df.assign(time=df["time"] + pd.Timedelta(hours=480))


def _weights(est):
    return {k: v.clone() for k, v in est.net_.state_dict().items()}


def test_update_improves_on_new_data_and_is_saved_as_a_new_version(abs_forecaster, tmp_path):
    est = Forecaster.load(abs_forecaster.run_dir_)
    before = _weights(est)
    new = _newer(sine_frame(n=200, seed=11, trend=0.002))
    est.update(new, epochs=5, lr=5e-3)
    r = est.last_update_
    assert r["accepted"] and r["val_loss_after"] < r["val_loss_before"] and r["nan_skips"] == 0
    assert any(not torch.equal(before[k], v) for k, v in est.net_.state_dict().items())
    assert est.run_dir_ is None          # an exported graph of the old weights is not used any more
    saved = est.save(tmp_path / "v2")
    again = Forecaster.load(saved)
    assert again.lineage_[-1]["accepted"] is True
    assert json.loads((saved / "lstmkit.json").read_text())["lineage"][0]["train_windows"] == r["train_windows"]


def test_an_updated_model_saved_over_its_own_run_leaves_no_test_metrics_of_the_weights_before(abs_forecaster,
                                                                                             tmp_path):
    """``load(run).update(new)`` then ``save(run)``: the run kept the metrics.json (and per-series table) of the
    weights before the update, and the model loaded from it had them as its ``metrics_``."""
    import shutil
    run = shutil.copytree(abs_forecaster.run_dir_, tmp_path / "run")
    assert (run / "metrics.json").is_file() and Forecaster.load(run).metrics_ is not None
    assert (run / "plots" / "forecast.png").is_file()
    est = Forecaster.load(run)
    est.update(_newer(sine_frame(n=200, seed=11, trend=0.002)), epochs=5, lr=5e-3)
    assert est.last_update_["accepted"] and est.metrics_ is None
    est.save(run)
    assert not (run / "metrics.json").exists() and not (run / "metrics_per_series.csv").exists()
    assert not (run / "plots" / "forecast.png").exists()        # the test forecasts of the weights before
    assert (run / "plots" / "loss.png").is_file()                # the training's, as history.csv is
    again = Forecaster.load(run)
    assert getattr(again, "metrics_", None) is None and again.lineage_[-1]["accepted"] is True


def _beside_the_weights(run):
    """The files a run keeps of its weights besides the test metrics: a backtest, recorded gates, an
    ONNX export and the last checkpoint (what lstmkit writes there; their contents do not matter here)."""
    for name in ("update.json", "backtest/backtest.csv", "backtest/backtest.json", "backtest/plots/backtest.png",
                 "gates.json", "plots/gates.png", "model.onnx", "onnx.json", "checkpoints/last.safetensors",
                 "checkpoints/last.json"):
        (run / name).parent.mkdir(parents=True, exist_ok=True)
        (run / name).write_text("of the weights before")
    (run / "backtest" / "notes.txt").write_text("mine")          # a user's own file is never deleted


def test_an_updated_model_saved_over_its_own_run_leaves_no_backtest_gates_checkpoint_or_export_of_the_weights_before(
        abs_forecaster, tmp_path):
    """The backtest, gates.json, checkpoints/ and model.onnx of the weights before an update stayed beside the
    updated weights saved over their run, describing a model no longer there."""
    import shutil
    run = shutil.copytree(abs_forecaster.run_dir_, tmp_path / "run")
    _beside_the_weights(run)
    Forecaster.load(run).save(run)                      # not updated: the same weights, nothing of them removed
    assert (run / "backtest" / "backtest.json").is_file() and (run / "gates.json").is_file()
    est = Forecaster.load(run)
    est.update(_newer(sine_frame(n=200, seed=11, trend=0.002)), epochs=5, lr=5e-3)
    assert est.last_update_["accepted"]
    est.save(run)
    left = sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file() and p.parts[-2] != "tb")
    assert left == ["backtest/notes.txt", "doctor.json", "history.csv", "lstmkit.json", "model.safetensors",
                    "plots/loss.png"]
    (run / "gates.json").write_text("of the updated weights")      # recorded after the update's save
    Forecaster.load(run).save(run)
    assert (run / "gates.json").is_file()


def test_update_that_hurts_is_rolled_back(abs_forecaster):
    est = Forecaster.load(abs_forecaster.run_dir_)
    before = _weights(est)
    noise = np.random.default_rng(0).standard_normal(200) * 5 + 10
    df = _newer(sine_frame(n=200, seed=12))
    df["y"] = noise                                  # nothing to learn: a huge lr only hurts
    est.update(df, epochs=3, lr=1.0)
    assert not est.last_update_["accepted"]
    for k, v in est.net_.state_dict().items():
        assert torch.equal(before[k], v)


def test_update_refuses_too_little_data_and_bad_settings(abs_forecaster):
    est = Forecaster.load(abs_forecaster.run_dir_)
    with pytest.raises(LstmkitError, match="too little new data"):
        est.update(sine_frame(n=27))
    with pytest.raises(LstmkitError, match="epochs"):
        est.update(sine_frame(n=200), epochs=0)
    with pytest.raises(LstmkitError, match="holdout"):
        est.update(sine_frame(n=200), holdout=1.5)


# -- the generic update (lstmkit.deploy.online) on a task-free adapter ------------------------------
class _LinearAdapter:
    """The update half of the adapter protocol around ``y = x @ w`` (no task involved)."""

    def __init__(self, batches, holdout, **train):
        torch.manual_seed(0)
        self.net = torch.nn.Linear(3, 1)
        self.train_config = TrainConfig(**{"device": "cpu", "progress": "off", "lr": 1e-2, **train})
        self.batches, self.holdout, self.was_updated = batches, holdout, False

    def check_updatable(self):
        pass

    def update_data(self, new_data, holdout, batch_size):
        return UpdateData(train=self.batches, holdout=self.holdout, report={"rows": 99})

    def updated(self, net):
        self.net, self.was_updated = net, True


def _linear_data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    return x, x @ torch.tensor([[1.0], [-2.0], [0.5]])


def _batches(x, y, size=16):
    return [(x[i:i + size], y[i:i + size]) for i in range(0, len(x), size)]


def test_a_nan_batch_is_skipped_by_the_trainers_guard_and_the_update_still_learns():
    x, y = _linear_data()
    batches = _batches(x, y)
    batches[1] = (batches[1][0].clone(), batches[1][1].clone())
    batches[1][0][0, 0] = float("nan")                     # one poisoned batch per epoch
    adapter = _LinearAdapter(batches, [_linear_data(16, seed=1)])
    report = fine_tune(adapter, "new data", epochs=3, lr=1e-2)
    assert report["nan_skips"] == 3 and report["accepted"] and adapter.was_updated
    assert report["rows"] == 99 and report["epochs"] == 3 and report["loss"] == "mse"
    assert all(torch.isfinite(p).all() for p in adapter.net.parameters())


def test_guard_giving_up_restores_the_weights_bit_for_bit_and_raises():
    x, y = _linear_data()
    poisoned = [(torch.full_like(xb, float("nan")), yb) for xb, yb in _batches(x, y)]
    adapter = _LinearAdapter(poisoned, [_linear_data(16, seed=1)], nan_retries=2)
    before = {k: v.clone() for k, v in adapter.net.state_dict().items()}
    with pytest.raises(LstmkitError, match="non-finite 3 times"):
        fine_tune(adapter, "new data", epochs=2)
    assert all(torch.equal(before[k], v) for k, v in adapter.net.state_dict().items())
    assert not adapter.was_updated


def test_ctrl_c_while_the_update_is_judged_restores_the_weights_bit_for_bit():
    """Ctrl-C (or any error) while the trained weights' loss on the held-out examples was measured left
    those weights in the model, neither kept nor rolled back, with no report of the update."""
    x, y = _linear_data()

    class CutOnSecondRead:                  # the loss before training is read; the loss after it is cut
        reads = 0

        def __iter__(self):
            self.reads += 1
            if self.reads == 2:
                raise KeyboardInterrupt
            return iter([_linear_data(16, seed=1)])

    adapter = _LinearAdapter(_batches(x, y), CutOnSecondRead())
    before = {k: v.clone() for k, v in adapter.net.state_dict().items()}
    with pytest.raises(KeyboardInterrupt):
        fine_tune(adapter, "new data", epochs=2, lr=1e-2)
    assert all(torch.equal(before[k], v) for k, v in adapter.net.state_dict().items())
    assert not adapter.was_updated and not adapter.net.training


def test_ctrl_c_while_fine_tuning_is_an_interrupted_command_with_the_weights_as_before(monkeypatch):
    """Ctrl-C inside the update's training raised the trainer's TrainingInterrupted, which the command line told
    as a run to resume ('Continue with: lstmkit forecast train'): an update has none, and its weights come back."""
    from interrupt_helpers import ctrl_c_on_call
    x, y = _linear_data()
    adapter = _LinearAdapter(_batches(x, y), [_linear_data(16, seed=1)])
    before = {k: v.clone() for k, v in adapter.net.state_dict().items()}
    calls = ctrl_c_on_call(monkeypatch, "lstmkit.train.trainer:Trainer._train_epoch", nth=2)
    with pytest.raises(KeyboardInterrupt):
        fine_tune(adapter, "new data", epochs=3, lr=1e-2)
    assert len(calls) == 2
    assert all(torch.equal(before[k], v) for k, v in adapter.net.state_dict().items()) and not adapter.was_updated


def test_the_runs_clipping_applies_to_every_update_step(monkeypatch):
    calls = []
    clip = torch.nn.utils.clip_grad_norm_

    def spy(params, max_norm, *args, **kwargs):
        calls.append(max_norm)
        return clip(params, max_norm, *args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    x, y = _linear_data()
    adapter = _LinearAdapter(_batches(x, y), [_linear_data(16, seed=1)], clip_norm=0.25)
    fine_tune(adapter, "new data", epochs=2)
    assert calls == [0.25] * 8                               # 4 batches x 2 epochs


def test_fixed_epochs_constant_lr_checkpoints_and_the_trainers_seeding(tmp_path):
    x, y = _linear_data()
    shuffled = WindowBatches(x, y, batch_size=8, shuffle=True)
    holdout = [(x[:8], -y[:8])]          # gets worse as the model learns: early stopping would cut in
    adapter = _LinearAdapter(shuffled, holdout, patience=1, lr_schedule="cosine", max_epochs=100)
    report = fine_tune(adapter, "new data", epochs=4, lr=1e-2, run_dir=tmp_path / "update")
    assert not report["accepted"]
    with open(tmp_path / "update" / "history.csv") as f:
        history = list(csv.DictReader(f))
    assert len(history) == 4 and {float(h["lr"]) for h in history} == {1e-2}   # every epoch, constant lr
    assert (tmp_path / "update" / "checkpoints").is_dir()

    def trained(seed):
        a = _LinearAdapter(shuffled, [_linear_data(16, seed=1)])
        fine_tune(a, "new data", epochs=2, seed=seed)
        return a.net.weight.detach().clone()
    assert torch.equal(trained(1), trained(1)) and not torch.equal(trained(1), trained(2))


def test_numpy_numbers_update_as_pythons_and_settings_of_no_number_are_named():
    """Was: update(epochs=np.int64(3)) 'epochs must be a positive integer, got np.int64(3)' (a
    grid's values), and holdout='0.2', holdout=None or lr='1e-3' a bare TypeError from a comparison."""
    x, y = _linear_data()

    def updated(**settings):
        a = _LinearAdapter(_batches(x, y), [_linear_data(16, seed=1)])
        report = fine_tune(a, "new data", **settings)
        json.dumps(report)                               # the report goes to lstmkit.json as it is
        return a.net.weight.detach().clone(), report["epochs"]
    want = updated(epochs=3, lr=1e-2, holdout=0.25, seed=2)
    got = updated(epochs=np.int64(3), lr=np.float32(1e-2).item(), holdout=np.float64(0.25), seed=np.int32(2))
    assert torch.equal(got[0], want[0]) and got[1] == want[1] == 3
    for settings, word in [({"holdout": "0.2"}, "`holdout` must be a fraction in (0, 1), got '0.2'"),
                           ({"holdout": None}, "`holdout` must be a fraction in (0, 1), got None"),
                           ({"lr": "1e-3"}, "`lr` must be a positive number, got '1e-3'"),
                           ({"epochs": np.float64(2.0)}, "`epochs` must be a positive integer")]:
        with pytest.raises(LstmkitError, match=word.replace("(", r"\(").replace(")", r"\)")):
            fine_tune(_LinearAdapter(_batches(x, y), [_linear_data(16, seed=1)]), "new data", **settings)


@pytest.mark.parametrize("lr", [math.inf, math.nan, 0.0, -1.0])
def test_an_update_refuses_a_learning_rate_that_is_no_positive_finite_number(lr):
    """``lstmkit forecast update --lr inf`` passed the check (inf > 0) and fine-tuned every weight to NaN."""
    x, y = _linear_data()
    with pytest.raises(LstmkitError, match=f"`lr` must be a positive number, got {lr!r}"):
        fine_tune(_LinearAdapter(_batches(x, y), [_linear_data(16, seed=1)]), "new data", lr=lr)


def test_an_updates_bad_settings_are_hinted_in_the_callers_words(abs_forecaster):
    """``Forecaster.update(data, epochs=0)`` from Python was told 'pass --epochs 5' (``--lr``, and 'use e.g.
    0.2' for ``holdout``): the hints now name the keyword, as the command line's name its flag."""
    from lstmkit.errors import caller_wording
    est = Forecaster.load(abs_forecaster.run_dir_)
    for settings, hint in [({"epochs": 0}, "pass epochs=5, say"), ({"lr": -1.0}, "pass lr=1e-4, say"),
                           ({"holdout": 1.0}, "pass holdout=0.2, say")]:
        with pytest.raises(LstmkitError) as e:
            est.update(sine_frame(n=200, seed=11), **settings)
        assert e.value.hint == hint
    with caller_wording(python=False), pytest.raises(LstmkitError) as e:     # the command line's
        est.update(sine_frame(n=200, seed=11), epochs=0)
    assert e.value.hint == "pass --epochs 5, say"


def test_an_update_must_read_points_newer_than_the_model_has_read(abs_forecaster, tmp_path):
    """Next month's data: training records the newest time it read (``data.end``), each update its
    own (``end``); data ending no later (last month's file again, a file out of order) was
    fine-tuned on and judged on points the model had read, and kept, without a word."""
    est = Forecaster.load(abs_forecaster.run_dir_)
    assert est.data_summary_["end"] == "2024-01-20T23:00:00"                 # sine_frame(): 480 hours
    before = _weights(est)
    with pytest.raises(LstmkitError, match=r"^the update data ends 2024-01-09T07:00:00, not after 2024-01-20T23:00:00, "
                                           r"the newest point the model has read \(its training data\)"):
        est.update(sine_frame(n=200, seed=11))
    assert all(torch.equal(before[k], v) for k, v in est.net_.state_dict().items()) and not est.lineage_
    new = _newer(sine_frame(n=200, seed=11))
    est.update(new, epochs=1)
    assert est.last_update_["end"] == "2024-01-29T07:00:00"
    again = Forecaster.load(est.save(tmp_path / "v2"))
    with pytest.raises(LstmkitError, match=r"not after 2024-01-29T07:00:00, the newest point the model has read "
                                           r"\(update 1's data\).* — pass rows newer than 2024-01-29T07:00:00"):
        again.update(new)
    # overlapping the training data is fine while the held-out points are new; else a warning
    overlap = sine_frame(n=600, seed=11).iloc[400:]                          # 80 hours read, 120 new
    again_old = Forecaster.load(abs_forecaster.run_dir_)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again_old.update(overlap, epochs=1)
    with pytest.warns(UserWarning, match=r"^the update's held-out points start 2024-01-20T19:00:00, not after "
                                         r"2024-01-20T23:00:00, the newest point the model has read"):
        Forecaster.load(abs_forecaster.run_dir_).update(sine_frame(n=490, seed=11).iloc[400:], epochs=1)   # 10 new


def test_an_update_on_data_far_outside_the_training_range_warns(abs_forecaster):
    """A new file in other units (thousands, a percent read as a number): the update fine-tuned on
    it and was kept without a word, where predict warns of such a window."""
    new = _newer(sine_frame(n=200, seed=11))
    new["y"] *= 1000
    with pytest.warns(UserWarning, match=r"^the update data's 200 values of series 'series' \([\d.e+]+ \.\. "
                                         r"[\d.e+]+\) lie [\d.e+]+ times the width of its training range .* so the "
                                         r"updated model may be far off"):
        Forecaster.load(abs_forecaster.run_dir_).update(new, epochs=1)


def test_an_update_on_fewer_rows_than_a_window_names_the_rows_it_needs(abs_forecaster):
    """Was: 'series too short for one window … — shorten the lookback or horizon', a fix a trained
    run cannot take, and a count one short of what the held-out windows need."""
    est = Forecaster.load(abs_forecaster.run_dir_)          # lookback 24, horizon 3, holdout 0.2
    for n in (10, 29):
        with pytest.raises(LstmkitError, match=rf"^too little new data for an update: {n} rows, need at least 30 — "):
            est.update(_newer(sine_frame(n=n)))
    est.update(_newer(sine_frame(n=30)), epochs=1)
    assert est.last_update_["train_windows"] == 1 and est.last_update_["rows"] == 30


def test_an_updates_filled_gaps_read_no_held_out_point():
    """--fill interpolate filled the update data's empty cells just before its held-out points toward them,
    so the update trained on (and its verdict's inputs read) the values it is judged on: held-out values x1000
    moved the training inputs. The gaps before them are now carried forward from the rows before them."""
    from lstmkit.deploy.registry import adapter_class
    from forecast_data import FAST
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = Forecaster(**{**FAST, "max_epochs": 1, "horizon": 3}, fill="interpolate").fit(
            sine_frame(n=200), target="y", time="time")
    new = _newer(sine_frame(n=120, seed=3))
    new.loc[[97, 98], "y"] = np.nan            # 94 windows, the newest 19 held out: held-out points from row 99
    big = new.copy()
    big.loc[99:, "y"] *= 1000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = [adapter_class("forecast")(est).update_data(d, 0.2, 32) for d in (new, big)]
    assert got[0].report["val_windows"] == 19
    torch.testing.assert_close(got[0].train.inputs[:99], got[1].train.inputs[:99], rtol=0, atol=0)
    assert float(got[0].train.inputs[97, 0]) == float(got[0].train.inputs[96, 0])    # carried forward


def test_threads_predicting_during_an_update_answer_as_before_it_and_leave_it_as_it_trains_alone(abs_forecaster):
    """A web app predicts while a background thread updates the model. The update trained the
    model's own network in place: a predict meanwhile answered with half-trained weights (and
    dropout on), and its eval mode turned the update's dropout off. A copy trains now, and
    replaces the network once the update is accepted."""
    import threading
    data, new = sine_frame(), _newer(sine_frame(n=200, seed=11, trend=0.002))
    alone = Forecaster.load(abs_forecaster.run_dir_).update(new, epochs=2, lr=1e-2)
    assert alone.last_update_["accepted"]
    est = Forecaster.load(abs_forecaster.run_dir_)
    before = est.predict(data, engine="torch")
    inside, release, steps = threading.Event(), threading.Event(), []

    def pause_mid_training(module, _args):   # the update's third training batch (the copy keeps the hook)
        if module.training and torch.is_grad_enabled():
            steps.append(1)
            if len(steps) == 3:
                inside.set()
                assert release.wait(30)

    est.net_.register_forward_pre_hook(pause_mid_training)
    updating = threading.Thread(target=est.update, args=(new,), kwargs={"epochs": 2, "lr": 1e-2})
    updating.start()
    try:
        assert inside.wait(30)
        during = est.predict(data, engine="torch")
    finally:
        release.set()
        updating.join()
    pd.testing.assert_frame_equal(during, before, check_exact=True)
    assert est.last_update_["accepted"] and not est.net_.training
    for k, v in alone.net_.state_dict().items():
        assert torch.equal(est.net_.state_dict()[k], v), k
    pd.testing.assert_frame_equal(est.predict(data, engine="torch"), alone.predict(data, engine="torch"), check_exact=True)


def test_a_stream_opened_before_an_accepted_update_goes_on_with_the_weights_it_opened_with(abs_forecaster):
    """``update`` trains a copy and puts it in place once accepted: a stream opened before steps on with
    the weights its carried state came from (a model never updated answers alike), one opened after
    steps the updated weights."""
    est, kept = Forecaster.load(abs_forecaster.run_dir_), Forecaster.load(abs_forecaster.run_dir_)
    df = sine_frame(n=30, seed=7)
    obs = [{"y": a, "temp": b} for a, b in df[["y", "temp"]].to_numpy()]
    before, alike = est.stream(engine="torch"), kept.stream(engine="torch")
    before.run(obs[:10], id="a")
    alike.run(obs[:10], id="a")
    est.update(_newer(sine_frame(n=200, seed=11, trend=0.002)), epochs=5, lr=5e-3)
    assert est.last_update_["accepted"]
    np.testing.assert_array_equal(np.stack(before.run(obs[10:], id="a")), np.stack(alike.run(obs[10:], id="a")))
    after, unchanged = est.stream(engine="torch"), kept.stream(engine="torch")
    assert not np.allclose(np.stack(after.run(obs, id="b")), np.stack(unchanged.run(obs, id="b")))


def _zero_net_adapter(train, holdout):
    """:class:`_LinearAdapter` whose net answers 0 for every input (weights and bias zero)."""
    adapter = _LinearAdapter(train, holdout)
    with torch.no_grad():
        adapter.net.weight.zero_()
        adapter.net.bias.zero_()
    return adapter


def test_the_held_out_loss_is_the_mean_over_every_held_out_row():
    """The verdict's loss is the MSE over the held-out rows, each row counted once whatever batch it
    came in: a net answering 0 on targets 1, 1, 1 (one batch) and 3 (another) has (1+1+1+9)/4 = 3,
    not the batches' mean (1+9)/2 = 5. No training batch moves it (their targets are its answers)."""
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    holdout = [(x[:3], torch.ones(3, 1)), (x[3:], torch.full((1, 1), 3.0))]
    adapter = _zero_net_adapter([(x, torch.zeros(4, 1))], holdout)
    report = fine_tune(adapter, "new data", epochs=1, lr=1e-2)
    assert report["val_loss_before"] == report["val_loss_after"] == 3.0


def test_an_update_that_leaves_the_held_out_loss_as_it_was_is_not_kept():
    """Weights are kept "only if the loss on the held-out newest examples went down": a fit with
    nothing to learn (the training targets are the net's own answers, so every gradient is 0) leaves
    the held-out loss equal, and the model's network is not replaced."""
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(1))
    adapter = _zero_net_adapter([(x, torch.zeros(8, 1))], [(x, torch.ones(8, 1))])
    live = adapter.net
    report = fine_tune(adapter, "new data", epochs=2, lr=1e-2)
    assert report["val_loss_before"] == report["val_loss_after"] == 1.0
    assert not report["accepted"] and not adapter.was_updated and adapter.net is live


@pytest.mark.parametrize("settings, word", [({"holdout": 0.0}, "`holdout` must be a fraction in (0, 1), got 0.0"),
                                            ({"holdout": 1.0}, "`holdout` must be a fraction in (0, 1), got 1.0"),
                                            ({"holdout": True}, "`holdout` must be a fraction in (0, 1), got True"),
                                            ({"lr": True}, "`lr` must be a positive number, got True"),
                                            ({"epochs": True}, "`epochs` must be a positive integer, got True")])
def test_an_updates_settings_at_and_beyond_their_edges_are_refused(settings, word):
    """``holdout`` is an open interval: 0 holds nothing out to judge by, 1 trains on nothing; a boolean
    is no number (``lr=True`` was a learning rate of 1)."""
    x, y = _linear_data()
    with pytest.raises(LstmkitError, match=word.replace("(", r"\(").replace(")", r"\)")):
        fine_tune(_LinearAdapter(_batches(x, y), [_linear_data(16, seed=1)]), "new data", **settings)


def test_an_update_is_judged_on_its_last_epochs_weights_not_its_best_training_epochs(tmp_path):
    """``epochs`` epochs, and the weights they end with: a fit's usual return to its best epoch (by
    training loss, with no validation data) would hand back the first epoch's weights of an update
    whose training loss then rose, and judge those. A net at the optimum of near-zero targets, moved
    by Adam at lr 1, overshoots: epoch 2's loss is above epoch 1's, yet the two-epoch update's weights
    are not the one-epoch update's."""
    x, y = _linear_data()

    def update(epochs, run_dir=None):
        a = _zero_net_adapter(_batches(x, 1e-3 * y), [_linear_data(16, seed=1)])
        return fine_tune(a, "new data", epochs=epochs, lr=1.0, seed=0, run_dir=run_dir)
    two = update(2, tmp_path / "two")
    with open(tmp_path / "two" / "history.csv") as f:
        losses = [float(h["train_loss"]) for h in csv.DictReader(f)]
    assert losses[1] > losses[0]                          # the first epoch is the best by training loss
    assert two["val_loss_after"] != update(1)["val_loss_after"]
