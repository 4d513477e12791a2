"""The doctor: each pathology, provoked on purpose, yields exactly its finding; padding is measured
only where a batch declares its lengths; a forecaster that loses to naive is told so."""
import json
import os
import math
import time

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from lstmkit.config import TrainConfig
from lstmkit.run_lock import training_lock
from lstmkit.data.batching import BucketBatches, Padded
from lstmkit.errors import LstmkitError
from lstmkit.nn.lstm import LSTM
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.train import Trainer
from lstmkit.train.doctor import Doctor, format_report, read_report
from cli_helpers import run_cli as _cli


class Batches:
    """Re-iterable (x, y) batches; ``sleep`` seconds before each one plays a slow data loader."""

    def __init__(self, x, y, bs=16, shuffle=False, sleep=0.0):
        self.x, self.y, self.bs, self.shuffle, self.sleep = x, y, bs, shuffle, sleep

    def __len__(self):
        return math.ceil(len(self.x) / self.bs)

    def __iter__(self):
        order = torch.randperm(len(self.x)) if self.shuffle else torch.arange(len(self.x))
        for i in range(0, len(self.x), self.bs):
            if self.sleep:
                time.sleep(self.sleep)
            idx = order[i:i + self.bs]
            yield self.x[idx], self.y[idx]


def _cfg(**kw):
    base = dict(max_epochs=6, batch_size=16, lr=1e-2, progress="off", device="cpu", tensorboard=False,
                patience=100)
    base.update(kw)
    return TrainConfig(**base)


def _linear_data(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    return x, x.sum(1, keepdim=True)


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.1), nn.Linear(8, 1))


class DeepRNN(nn.Module):
    """A deep plain tanh RNN: the textbook case of vanishing gradients."""

    def __init__(self, layers=16, hidden=16):
        super().__init__()
        self.rnn = nn.RNN(1, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1])


class BigLSTM(nn.Module):
    def __init__(self, inputs=3, hidden=128):
        super().__init__()
        self.lstm = LSTM(inputs, hidden, num_layers=2)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])




def _kinds(result):
    return [f["kind"] for f in result.doctor["findings"]]


def test_healthy_run_has_no_findings():
    r = Trainer(_cfg(max_epochs=30, patience=3)).fit(_mlp(), Batches(*_linear_data(), shuffle=True), Batches(*_linear_data(48, 1)))
    assert _kinds(r) == []
    assert format_report(r.doctor).splitlines()[0] == "doctor: 0 findings — training looked healthy"
    assert r.doctor["unjudged"] == []


@pytest.mark.parametrize("epochs, with_val, unjudged", [
    (1, True, ["overfitting (needs 4 epochs with a validation loss)", "a training loss that does not fall (needs 3 epochs)"]),
    (3, True, ["overfitting (needs 4 epochs with a validation loss)"]),
    (6, False, ["overfitting (no validation loss)"]),
])
def test_a_run_too_short_to_judge_is_not_called_healthy(epochs, with_val, unjudged):
    """One epoch showed no problem, but overfitting needs 4 epochs of validation loss and a loss
    that does not fall 3 epochs: the report says what it could not judge instead of 'healthy'."""
    r = Trainer(_cfg(max_epochs=epochs, lr=1e-4)).fit(_mlp(), Batches(*_linear_data(), shuffle=True),   # barely moving
                                             Batches(*_linear_data(48, 1)) if with_val else None)
    assert _kinds(r) == [] and r.doctor["unjudged"] == unjudged
    head = format_report(r.doctor).splitlines()[0]
    assert head == (f"doctor: 0 findings in {epochs} epoch{'s' if epochs > 1 else ''} — not enough to judge: "
                    + ", ".join(unjudged)) and "healthy" not in head


def test_lr_10_is_exploding_gradients_and_nothing_else():
    r = Trainer(_cfg(lr=10.0)).fit(_mlp(), Batches(*_linear_data(), shuffle=True), Batches(*_linear_data(48, 1)))
    assert _kinds(r) == ["exploding_gradients"]
    (f,) = r.doctor["findings"]
    assert f["numbers"]["grad_norm_max"] > 1e3
    assert f["remedies"][0].startswith("lower the learning rate (now 10")


def test_deep_tanh_rnn_on_long_sequences_is_vanishing_gradients_and_nothing_else():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(128, 100, 1, generator=g)          # the answer sits at t = 0 of 100
    xv = torch.randn(64, 100, 1, generator=g)
    torch.manual_seed(0)
    r = Trainer(_cfg(lr=1e-3, max_epochs=3, batch_size=32)).fit(
        DeepRNN(), Batches(x, x[:, 0].sign(), 32, shuffle=True), Batches(xv, xv[:, 0].sign(), 64))
    assert _kinds(r) == ["vanishing_gradients"]
    (f,) = r.doctor["findings"]
    assert f["numbers"]["first_layer_ratio"] < 1e-3
    assert "flat_loss" in f["numbers"]
    assert f["remedies"][0].startswith("replace the plain RNN")


def test_gates_pinned_by_a_huge_learning_rate_are_told_to_lower_it():
    g = torch.Generator().manual_seed(0)
    x, xv = torch.randn(64, 10, 3, generator=g), torch.randn(32, 10, 3, generator=g)
    torch.manual_seed(0)
    r = Trainer(_cfg(lr=10.0, max_epochs=4, clip_norm=1.0)).fit(            # clipping: no explosion to see
        BigLSTM(hidden=16), Batches(x, x[:, -1, :1], 16, shuffle=True), Batches(xv, xv[:, -1, :1], 32))
    (f,) = [f for f in r.doctor["findings"] if f["kind"] == "vanishing_gradients"]
    assert f["numbers"]["saturated_gates"] > 0.6
    assert f["remedies"][0].startswith("lower the learning rate (now 10") and f["remedies"][0].endswith("--lr 0.001")
    assert not any("raise the learning rate" in x for x in f["remedies"])


def test_gates_pinned_by_a_huge_learning_rate_are_not_told_to_train_longer():
    """A word language model at lr 3, its gates 100 % saturated and its validation loss falling back
    from 4.27 to 2.14 at the limit, was told "lower the learning rate" and "train longer: --epochs 20"."""
    val = [3.0, 4.4, 4.27, 2.14]
    d = _epochs_from(val, val)
    d.start_losses, d.plain_rnn = [3.1], False
    for e in d.epochs:
        e["saturated_gates"] = 1.0
    assert [f["kind"] for f in d.report(TrainConfig(lr=3.0, max_epochs=4))["findings"]] == ["vanishing_gradients"]
    assert [f["kind"] for f in d.report(TrainConfig(lr=1e-3, max_epochs=4))["findings"]] == [
        "vanishing_gradients", "undertrained"]


def test_big_model_on_50_samples_is_overfitting_and_nothing_else():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(50, 10, 3, generator=g), torch.randn(50, 1, generator=g)
    xv, yv = torch.randn(50, 10, 3, generator=g), torch.randn(50, 1, generator=g)
    torch.manual_seed(0)
    r = Trainer(_cfg(lr=3e-3, max_epochs=30, batch_size=10)).fit(
        BigLSTM(), Batches(x, y, 10, shuffle=True), Batches(xv, yv, 50))
    assert _kinds(r) == ["overfitting"]
    (f,) = r.doctor["findings"]
    assert f["numbers"]["last_val_loss"] > f["numbers"]["best_val_loss"]
    assert any("200,321 parameters for 50 training samples" in e for e in f["evidence"])
    assert f["remedies"][0].startswith("use a smaller model")
    # gates were sampled on the epochs due (1-20, then every 10th), and a healthy LSTM is far from saturation
    sampled = [e["epoch"] for e in r.doctor["epochs"] if e["saturated_gates"] is not None]
    assert sampled == [e["epoch"] for e in r.doctor["epochs"] if Doctor.gates_due(e["epoch"])] and 20 in sampled
    assert all(e["saturated_gates"] < 0.1 for e in r.doctor["epochs"] if e["saturated_gates"] is not None)


def test_sleeping_data_loader_is_slow_training():
    r = Trainer(_cfg(max_epochs=4, lr=1e-4)).fit(_mlp(), Batches(*_linear_data(), shuffle=True, sleep=0.1),
                                        Batches(*_linear_data(48, 1)))
    # at lr 1e-4 its validation loss falls 0.24 % an epoch to the limit (5.426 -> 5.388): rightly undertrained too
    assert _kinds(r) == ["undertrained", "slow_training"]
    f = r.doctor["findings"][1]
    assert f["numbers"]["data_share"] > 0.5
    assert "waiting for data" in f["evidence"][0]


def test_a_wait_for_data_of_under_a_second_is_no_finding():
    """A 3-epoch run of 18 steps on a busy CI machine was told 'slow training: waiting for data' for a few
    hundredths of a second of scheduling: a share of almost nothing is no cure's worth."""
    d = _epochs_from([1.0, 0.5, 0.5], [1.0, 0.5, 0.5])
    d.start_losses, d.plain_rnn = [1.0], False
    for e in d.epochs:
        e.update(steps=6, data_seconds=0.03, compute_seconds=0.01)
    assert d.report(TrainConfig(max_epochs=3))["findings"] == []
    for e in d.epochs:
        e.update(data_seconds=0.4)                   # 1.2 s of waiting in all, 97 % of the time
    (f,) = d.report(TrainConfig(max_epochs=3))["findings"]
    assert f["kind"] == "slow_training" and f["numbers"]["data_share"] > 0.9


def test_saturated_gates_are_measured_with_record_gates():
    torch.manual_seed(0)
    lstm = LSTM(2, 8)
    with torch.no_grad():
        for p in lstm.parameters():
            p.mul_(60.0)                                # every gate pinned at 0/1
    doc = Doctor()
    doc.sample_gates(nn.Sequential(lstm), torch.randn(4, 12, 2))
    assert doc._cur["saturation"] > 0.9


def test_lstmkit_doctor_of_an_updated_run_says_its_report_is_of_the_weights_before(tmp_path, capsys):
    """A kept ``forecast update`` copies the training's doctor.json into the new run: its "the model" is the
    weights before the update, which the report printed without a word."""
    Trainer(_cfg(lr=10.0), run_dir=tmp_path).fit(_mlp(), Batches(*_linear_data(), shuffle=True))
    update = {"accepted": True, "when": "2026-12-06T08:45:33+00:00"}
    for lineage, said in (([], None), ([{**update, "accepted": False}], None),
                          ([update], "the weights were updated once since this training (2026-12-06T08:45:33+00:00)"),
                          ([update, update], "updated 2 times since this training (the newest 2026-12-06")):
        (tmp_path / "lstmkit.json").write_text(json.dumps({"format_version": 1, "task": "forecast", "lineage": lineage}))
        code, out, _ = _cli(["doctor", str(tmp_path)], capsys)
        assert code == 0 and out.startswith("doctor: 1 finding")
        assert (said in out and "lstmkit forecast evaluate" in out) if said else "updated" not in out


@pytest.mark.parametrize("python", [True, False], ids=["fitted from Python", "trained on the command line"])
def test_lstmkit_doctor_says_whose_words_the_remedies_are_in(python, tmp_path, capsys):
    """A run fitted from Python keeps remedies in keywords ('lr=0.001'), which `lstmkit doctor` printed
    without a word; one trained on the command line, flags, which Python's format_report printed so too."""
    from lstmkit.errors import caller_wording
    with caller_wording(python=python):
        Trainer(_cfg(lr=10.0), run_dir=tmp_path).fit(_mlp(), Batches(*_linear_data(), shuffle=True))
    (tmp_path / "lstmkit.json").write_text(json.dumps({"format_version": 1, "task": "forecast"}))
    report = read_report(tmp_path)
    assert report["worded_for"] == ("python" if python else "command line")
    said = " ".join(r for f in report["findings"] for r in f["remedies"])
    assert ("lr=1" in said and "--" not in said) if python else ("--lr 1" in said), said
    code, out, _ = _cli(["doctor", str(tmp_path)], capsys)
    note = ("(the run was fitted from Python: its remedies name the estimator's keywords, e.g. lr=0.0001 where the "
            "flag is --lr 0.0001)")
    assert code == 0 and (note in out) == python, out
    with caller_wording(python=True):
        shown = format_report(report)
    assert ("(the run was trained on the command line: its remedies name flags" in shown) != python, shown


def test_doctor_off_writes_no_report(tmp_path):
    r = Trainer(_cfg(max_epochs=1, doctor=False), run_dir=tmp_path).fit(_mlp(), Batches(*_linear_data()))
    assert r.doctor is None and not (tmp_path / "doctor.json").exists()


def test_lstmkit_doctor_prints_the_report_again(tmp_path, capsys):
    (tmp_path / "lstmkit.json").write_text(json.dumps({"format_version": 1, "task": "forecast"}))
    Trainer(_cfg(lr=10.0), run_dir=tmp_path).fit(_mlp(), Batches(*_linear_data(), shuffle=True))
    assert read_report(tmp_path)["findings"][0]["kind"] == "exploding_gradients"
    code, out, _ = _cli(["doctor", str(tmp_path)], capsys)
    assert code == 0
    assert out.startswith("doctor: 1 finding") and "exploding gradients" in out and "1. lower the learning rate" in out
    assert _cli(["doctor", "--run", str(tmp_path)], capsys)[:2] == (0, out)      # --run, as every other command
    code, _, err = _cli(["doctor"], capsys)
    assert code == 2 and "no run given" in err and "--run" in err
    code, _, err = _cli(["doctor", str(tmp_path), "--run", str(tmp_path / "other")], capsys)
    assert code == 2 and "two runs given" in err
    (tmp_path / "doctor.json").unlink()
    code, _, err = _cli(["doctor", str(tmp_path)], capsys)
    assert code == 2 and "has no doctor.json: it was trained with the doctor off" in err and "without --no-doctor" in err
    # a run still training has no report yet (it was 'trained with the doctor off'): its trainer holds the lock
    (tmp_path / "lstmkit.json").write_text(json.dumps({"format_version": 1, "task": "forecast", "status": "training"}))
    lock = training_lock(tmp_path)
    try:
        code, _, err = _cli(["doctor", str(tmp_path)], capsys)
    finally:
        os.close(lock)
    assert code == 2 and err.count("\n") == 1 and "no doctor.json yet: the run is still training" in err
    assert f"lstmkit forecast train --resume {tmp_path}" in err
    # no process holds it: the one that trained it is gone (kill -9), and the run is not 'still training'
    code, _, err = _cli(["doctor", str(tmp_path)], capsys)
    assert code == 2 and err.count("\n") == 1 and "its training process is gone (killed" in err
    assert "still training" not in err and f"continue the run with lstmkit forecast train --resume {tmp_path}" in err
    with pytest.raises(LstmkitError, match="run folder not found"):
        read_report(tmp_path / "nope")



def test_an_int8_run_names_the_float_run_whose_report_it_is(tmp_path, capsys):
    """`export int8` trains nothing and writes no doctor.json: 'lstmkit doctor INT8RUN' said it was
    'trained with the doctor off' and to train again without --no-doctor."""
    (tmp_path / "lstmkit.json").write_text(json.dumps({"format_version": 1, "task": "forecast", "status": "finished",
                                                       "quantization": {"source_run": "/runs/my run"}}))
    code, _, err = _cli(["doctor", str(tmp_path)], capsys)
    assert code == 2 and err.count("\n") == 1 and "is an int8 run" in err
    assert "— lstmkit doctor '/runs/my run' (the float run" in err


def _epochs_from(train, val):
    d = Doctor()
    for k, (t, v) in enumerate(zip(train, val), 1):
        d.end_epoch({"epoch": k, "train_loss": t, "val_loss": v, "lr": 1e-3})
    return d


def test_validation_wobbling_after_its_best_is_not_overfitting():
    # the CO2 demo's tail: val within +-12% of its best for 7 epochs, ending at the best again
    train = [1.0, 0.8, 0.6, 0.5, 0.49, 0.48, 0.47, 0.46, 0.45, 0.44]
    val = [1.0, 0.8, 0.6, 0.5, 0.56, 0.53, 0.54, 0.51, 0.55, 0.501]
    kinds = [f["kind"] for f in _epochs_from(train, val).report(TrainConfig())["findings"]]
    assert "overfitting" not in kinds
    # the same run whose validation loss keeps climbing is overfitting
    val_rising = val[:-4] + [0.6, 0.66, 0.7, 0.75]
    kinds = [f["kind"] for f in _epochs_from(train, val_rising).report(TrainConfig())["findings"]]
    assert "overfitting" in kinds


# -- padding: measured only on inputs that declare their lengths ---------------------------------
class TextNet(nn.Module):
    """Token ids and their lengths -> two classes (the LSTM packs the padded batch)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(40, 8, padding_idx=0)
        self.lstm = LSTM(8, 16)
        self.head = nn.Linear(16, 2)

    def forward(self, x, lengths):
        _, (h, _) = self.lstm(self.emb(x), lengths=lengths)
        return self.head(h[-1])


def _texts(n=192, seed=0):
    """Mostly short texts and a few long ones: unbucketed batches are mostly padding."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.where(torch.rand(n, generator=g) < 0.7, torch.randint(2, 4, (n,), generator=g),
                          torch.randint(58, 61, (n,), generator=g))
    seqs = [torch.randint(1, 40, (int(k),), generator=g) for k in lengths]
    return seqs, torch.tensor([int(s[0]) % 2 for s in seqs])


@pytest.mark.parametrize("bucket", [False, True])
def test_padded_text_batches_are_measured_and_bucketing_clears_the_finding(bucket):
    seqs, y = _texts()
    torch.manual_seed(0)
    r = Trainer(_cfg(max_epochs=2), loss_fn=nn.CrossEntropyLoss()).fit(
        TextNet(), BucketBatches(seqs, y, 16, shuffle=True, bucket=bucket))
    shares = [e["padding_share"] for e in r.doctor["epochs"]]
    padding = [f for f in r.doctor["findings"] if "padding_share" in f["numbers"]]
    if bucket:
        assert all(s is not None for s in shares)     # measured, under the finding's threshold
        assert padding == []
    else:
        assert all(s is not None and s > 0.4 for s in shares)
        (f,) = padding
        assert f["kind"] == "slow_training" and f["numbers"]["padding_share"] > 0.4
        assert any("of each batch is padding" in e for e in f["evidence"])
        assert any(rem.startswith("bucket sequences by length") for rem in f["remedies"])


def test_a_plain_tuple_is_not_read_as_padded_whatever_its_shapes():
    # the many-series forecast batch that once read as 88 % padding: a series id per row
    x, series = torch.randn(32, 24, 1), torch.randint(0, 3, (32,))
    doc = Doctor()
    doc.bind(nn.Linear(1, 1))
    doc.sample_gradients((x, series))
    assert doc._cur["padding"] == []
    padded = Padded((x, torch.full((32,), 6)))
    doc.sample_gradients(padded)
    assert doc._cur["padding"] == [pytest.approx(0.75)]
    # the trainer rebuilds inputs with type(x)(items) (to a device, a DDP shard): the declaration stays
    rebuilt = type(padded)(t[:8] for t in padded)
    assert isinstance(rebuilt, Padded) and rebuilt.padding_share() == pytest.approx(0.75)


FAST_FORECAST = dict(lookback=24, hidden_size=16, num_layers=1, batch_size=32, lr=5e-3, progress="off",
                     tensorboard=False, device="cpu",
                     segment=0, highway=0, scaler="minmax", ensemble=1,   # the former defaults, not chosen from the data
                     ets=False)     # beside naive and seasonal naive alone: ETS's own tests are below


def _panel(k=6, n=160, seed=0):
    """Sines of different periods, phases and levels, one per series (no time stamps: season 1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    wave = lambda i: 10 + i + (1 + 0.2 * i) * np.sin(2 * np.pi * t / (15 + i) + i)   # noqa: E731
    return pd.concat([pd.DataFrame({"id": f"s{i}", "t": t, "y": wave(i) + 0.05 * rng.standard_normal(n)})
                      for i in range(k)])


def test_a_many_series_forecast_run_has_no_finding(tmp_path, capsys):
    f = Forecaster(**FAST_FORECAST, max_epochs=6, horizon=6, val_size=24, test_size=12, deseason=0, log=False).fit(
        _panel(), target="y", id="id", time="t", out=tmp_path)
    report = f.result_.doctor
    assert report["findings"] == []
    assert all(e["padding_share"] is None for e in report["epochs"])       # forecast windows carry no padding
    cmp = report["evidence"]["baselines"]
    assert cmp["part"] == "validation" and cmp["metric"] == "MASE"
    assert cmp["model"] < min(cmp["scores"].values())
    code, out, _ = _cli(["doctor", str(f.run_dir_)], capsys)
    assert code == 0 and out.startswith("doctor: 0 findings")
    assert "validation MASE: the model" in out


# -- the model against naive baselines ------------------------------------------------------------
def _random_walk(n=300, seed=0):
    """A positive monthly random walk: nothing to learn, naive is the best forecast."""
    rng = np.random.default_rng(seed)
    y = 100 * np.exp(np.cumsum(0.02 * rng.standard_normal(n)))
    return pd.DataFrame({"time": pd.date_range("2000-01-01", periods=n, freq="MS"), "y": y})


def test_a_model_that_loses_to_naive_gets_the_finding_with_remedies_in_order(tmp_path, capsys):
    f = Forecaster(**{**FAST_FORECAST, "hidden_size": 8}, max_epochs=1, relative=False, deseason=0, log=False).fit(
        _random_walk(), target="y", time="time", out=tmp_path)
    report = read_report(f.run_dir_)
    assert report == json.loads(json.dumps(f.result_.doctor))
    finding = report["findings"][0]                 # the run's result comes before how training went
    assert finding["kind"] == "loses_to_baseline"
    n = finding["numbers"]
    assert n["metric"] == "MASE" and n["best_baseline"] == "naive" and n["model"] >= n["best_baseline_score"]
    assert finding["evidence"][0].startswith(f"MASE on {report['evidence']['baselines']['points']} validation points")
    assert [r.split(":")[0] for r in finding["remedies"]] == [
        "seasonal adjustment", "log targets", "a longer lookback", "more data per parameter",
        "train longer", "until the model wins, use naive"]
    # in the words of the fit's caller (Python here), which the run's doctor.json keeps
    assert "deseason=12" in finding["remedies"][0] and "log=True" in finding["remedies"][1]
    assert "lookback=48 (now 24)" in finding["remedies"][2] and "hidden_size=4" in finding["remedies"][3]
    code, out, _ = _cli(["doctor", str(f.run_dir_)], capsys)
    assert code == 0 and "the model does not beat the best baseline (naive)" in out
    assert "1. seasonal adjustment: deseason=12" in out and "2. log targets: log=True" in out


def test_remedies_already_in_use_are_not_offered():
    f = Forecaster(**{**FAST_FORECAST, "hidden_size": 4}, max_epochs=1, relative=False, deseason=12,
                   log=True).fit(_random_walk(), target="y", time="time")
    (finding,) = [x for x in f.result_.doctor["findings"] if x["kind"] == "loses_to_baseline"]
    assert [r.split(":")[0] for r in finding["remedies"]] == [      # no deseason=, log=, hidden_size=2
        "a longer lookback", "train longer", f"until the model wins, use {finding['numbers']['best_baseline']}"]


def test_a_season_measured_weak_is_the_last_remedy_not_the_first():
    """A series with no season (intermittent demand, a random walk) whose deseason was chosen 0 from
    the data ("weak season: strength 0.03") was told to try --deseason first, ahead of every remedy
    that could help."""
    f = Forecaster(**{**FAST_FORECAST, "hidden_size": 8}, max_epochs=1, relative=False, log=False).fit(
        _random_walk(), target="y", time="time")
    assert f.auto_["deseason"]["value"] == 0 and f.auto_["deseason"]["why"].startswith("weak season")
    (finding,) = [x for x in f.result_.doctor["findings"] if x["kind"] == "loses_to_baseline"]
    assert [r.split(":")[0] for r in finding["remedies"]] == [
        "log targets", "a longer lookback", "more data per parameter", "seasonal adjustment",
        "train longer", "until the model wins, use naive"]
    strength = f.auto_["measured"]["strength"]
    assert finding["remedies"][3] == (f"seasonal adjustment: deseason=12 (the network then learns what the season "
                                      f"leaves; this series' season measured weak, strength {strength:.2f} at period "
                                      f"12 (< 0.5), so less likely)")


def test_log_targets_over_a_narrow_range_are_a_late_remedy_not_an_early_one():
    """A positive series without a season spanning a factor 1.1 (Longley's employment) chose no logs
    ("positive, spanning a factor 1.1 only"), yet the doctor offered --log second, as likely, where a
    log is nearly a straight line and changes nothing."""
    f = Forecaster(**{**FAST_FORECAST, "hidden_size": 8}, max_epochs=1, relative=False, deseason=0).fit(
        _random_walk()[["y"]], target="y")
    why = f.auto_["log"]["why"]
    assert f.auto_["log"]["value"] is False and why.startswith("positive, spanning a factor") and why.endswith(" only")
    (finding,) = [x for x in f.result_.doctor["findings"] if x["kind"] == "loses_to_baseline"]
    assert [r.split(":")[0] for r in finding["remedies"]] == [
        "a longer lookback", "more data per parameter", "log targets", "train longer", "until the model wins, use naive"]
    assert finding["remedies"][2] == (f"log targets: log=True (a season or trend that grows with the level becomes "
                                      f"additive; this series spans {why.split('spanning ')[1]}, over which a log is "
                                      "nearly linear, so less likely)")


def test_a_seed_ensemble_counts_the_parameters_of_one_seed():
    """A median of 15 seeds of 1,489 parameters each, each trained on every window, was "22,335
    parameters for 253 training samples": a model 15 times the size any seed learns with."""
    f = Forecaster(**{**FAST_FORECAST, "hidden_size": 8, "ensemble": 3}, max_epochs=1, relative=False, deseason=0,
                   log=False).fit(_random_walk(), target="y", time="time")
    (finding,) = [x for x in f.result_.doctor["findings"] if x["kind"] == "loses_to_baseline"]
    one = sum(p.numel() for p in f.net_.members[0].parameters())
    assert 3 * one == f.result_.doctor["model"]["parameters"]
    assert finding["evidence"][1].startswith(f"the model is 3 seeds of {one:,} parameters each, each trained on ")
    assert finding["evidence"][1].endswith(" samples per epoch")
    (smaller,) = [r for r in finding["remedies"] if r.startswith("more data per parameter")]
    assert smaller.endswith(f"hidden_size=4 (now 8, 3 seeds of {one:,} parameters each)")


def test_a_model_that_beats_the_baselines_gets_no_such_finding():
    rng = np.random.default_rng(0)
    t = np.arange(400)            # no time column: season 1, seasonal naive is naive
    data = pd.DataFrame({"y": 10 + np.sin(2 * np.pi * t / 17.3) + 0.05 * rng.standard_normal(400)})
    f = Forecaster(**FAST_FORECAST, max_epochs=8, horizon=6, deseason=0, log=False).fit(data, target="y")
    report = f.result_.doctor
    assert "loses_to_baseline" not in [x["kind"] for x in report["findings"]]
    cmp = report["evidence"]["baselines"]
    assert cmp["model"] < 0.5 * cmp["scores"]["naive"]
    assert format_report(report).splitlines()[-1].startswith("  validation MASE: the model")


def test_an_all_zero_series_forecast_exactly_is_no_loss_to_naive():
    """A series 0 throughout forecasts 0, as naive does: MAE 0 against 0 was "the model does not beat
    the best baseline (naive)", its remedies "train longer" and "use naive"."""
    f = Forecaster(**FAST_FORECAST, max_epochs=1).fit(pd.DataFrame({"y": np.zeros(200)}), target="y")
    cmp = f.result_.doctor["evidence"]["baselines"]
    assert cmp["model"] == 0 and cmp["scores"]["naive"] == 0
    assert "loses_to_baseline" not in [x["kind"] for x in f.result_.doctor["findings"]]


def test_the_baseline_judge_reads_only_finite_numbers():
    d = _epochs_from([1.0, 0.9], [1.0, 0.9])
    judged = lambda cmp: [x["kind"] for x in d.report(TrainConfig(), evidence={"baselines": cmp})["findings"]]
    nan = float("nan")
    assert judged({"metric": "MAE", "model": 2.0, "scores": {"naive": 1.0, "mean": nan}}) == ["loses_to_baseline"]
    assert judged({"metric": "MAE", "model": 0.5, "scores": {"naive": 1.0}}) == []
    assert judged({"metric": "MAE", "model": nan, "scores": {"naive": 1.0}}) == []
    assert judged({"metric": "MAE", "model": 2.0, "scores": {"naive": None}}) == []
    assert judged({"metric": "MAE", "model": 0.0, "scores": {"naive": 0.0, "ets": 0.0}}) == []   # a perfect tie
    assert d.report(TrainConfig())["evidence"] == {}
    # ETS within 5 % of the model is a tie (the demo: 0.292 against ETS's 0.286); beyond it, or any naive, a loss
    assert judged({"metric": "MASE", "model": 0.292, "scores": {"naive": 0.35, "ets": 0.286}}) == []
    assert judged({"metric": "MASE", "model": 0.31, "scores": {"naive": 0.35, "ets": 0.286}}) == ["loses_to_baseline"]
    assert judged({"metric": "MASE", "model": 0.36, "scores": {"naive": 0.35, "ets": 0.345}}) == ["loses_to_baseline"]
    (lost,) = d.report(TrainConfig(), evidence={"baselines": {"metric": "MASE", "model": 0.36,
                                                              "scores": {"naive": 0.35, "ets": 0.345}}})["findings"]
    assert lost["title"] == "the model does not beat naive" and lost["numbers"]["best_baseline"] == "naive"
    assert lost["evidence"][1] == "ets scores lower, 0.345, but within 5% of the model: a tie, not a loss"


def test_train_longer_leads_only_when_training_ran_out_of_epochs_still_improving():
    """A forecaster trained with --epochs 1..3 that lost to naive was told seasonal adjustment, log
    targets, ... but never that its validation loss was still falling when the epochs ran out."""
    cmp = {"metric": "MAE", "model": 2.0, "scores": {"naive": 1.0}, "remedies": ["a longer lookback: ..."]}
    first = lambda val, **kw: _epochs_from([1.0] * len(val), val).report(   # noqa: E731
        TrainConfig(**kw), evidence={"baselines": cmp})["findings"][0]["remedies"][0]
    assert first([1.0, 0.9, 0.8], max_epochs=3).startswith("train longer: --epochs 20 (training stopped at its "
                                                          "limit of 3 epochs")
    assert first([1.0, 0.9, 0.95], max_epochs=3).startswith("a longer lookback")        # the best was earlier
    assert first([1.0, 0.9, 0.8], max_epochs=30).startswith("a longer lookback")       # stopped before its limit
    # one epoch, its limit: no trend to read, and one pass over the data is the likeliest cause (a language
    # model trained one epoch and losing to the unigram was told "train on more text" alone)
    last = lambda val, **kw: _epochs_from([1.0] * len(val), val).report(   # noqa: E731
        TrainConfig(**kw), evidence={"baselines": cmp})["findings"][0]["remedies"][-2]
    assert first([1.0], max_epochs=1).startswith("a longer lookback")       # the task's likeliest cause first,
    assert last([1.0], max_epochs=1) == "train longer: --epochs 20 (training stopped after its only epoch, its limit)"
    assert first([1.0], max_epochs=20).startswith("a longer lookback")                 # stopped early after one
    assert first([3.0 - 0.01 * k for k in range(60)], max_epochs=60).startswith("train longer: --epochs 120")


def test_the_trainer_hands_the_evidence_of_the_best_weights_to_the_doctor(tmp_path):
    seen = []

    def evidence(model):
        seen.append({k: v.clone() for k, v in model.state_dict().items()})
        return {"baselines": {"metric": "MAE", "model": 3.0, "scores": {"mean": 1.0}, "remedies": ["try this"]}}

    r = Trainer(_cfg(lr=1e-4), run_dir=tmp_path).fit(model := _mlp(), Batches(*_linear_data(), shuffle=True),
                                              Batches(*_linear_data(48, 1)), evidence=evidence)
    (weights,) = seen                                      # once, after the best epoch's weights came back
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    assert _kinds(r) == ["loses_to_baseline"]
    assert r.doctor["findings"][0]["remedies"] == [      # its validation loss fell to the last of its 6 epochs
        "train longer: --epochs 20 (training stopped at its limit of 6 epochs with the validation loss still falling)",
        "try this", "until the model wins, use mean: it is the better model on this data"]
    assert json.loads((tmp_path / "doctor.json").read_text())["evidence"]["baselines"]["model"] == 3.0
    Trainer(_cfg(doctor=False)).fit(_mlp(), Batches(*_linear_data()), evidence=evidence)
    assert len(seen) == 1                                  # doctor off: nothing to judge, nothing computed


def test_gates_are_sampled_on_the_first_20_epochs_then_every_10th():
    """A run of many short epochs pays for a gate sample on few of them; the finding names the
    epoch its sample came from."""
    assert [e for e in range(1, 61) if Doctor.gates_due(e)] == [*range(1, 21), 30, 40, 50, 60]
    doc = Doctor()
    doc.bind(nn.LSTM(2, 4))
    for epoch, sat in ((1, 0.95), (2, None)):
        doc._cur["saturation"] = sat
        doc.end_epoch({"epoch": epoch, "train_loss": 1.0, "val_loss": 1.0, "lr": 1e-3})
    from lstmkit.train.findings import judge
    evidence = [e for f in judge(doc, TrainConfig()) for e in f["evidence"]]
    assert any("saturated (pinned at 0/1 or ±1) at epoch 1" in e for e in evidence), evidence


def test_a_flat_loss_alone_is_a_finding_only_after_enough_steps():
    """A text classifier trained for 3 short epochs (36 steps) was told 'vanishing gradients' for a
    loss that had hardly begun to fall; a flat loss with no other sign waits for 100 steps."""
    def judged(steps_per_epoch):
        d = _epochs_from([1.0, 0.99, 0.98], [1.0, 0.99, 0.985])
        d.start_losses, d.plain_rnn = [1.0], False
        for e in d.epochs:
            e["steps"] = steps_per_epoch
        return d.report(TrainConfig(max_epochs=30))
    assert judged(6)["findings"] == []                        # 18 steps
    many = judged(34)
    assert [f["kind"] for f in many["findings"]] == ["vanishing_gradients"]     # 102 steps, the loss as it was
    assert "flat_loss" in many["findings"][0]["numbers"]
    # at a rate far too low, the rate is the cause, said at once: no wait for 100 steps
    few = Trainer(_cfg(lr=1e-7, max_epochs=3)).fit(_mlp(), Batches(*_linear_data(), shuffle=True),
                                                   Batches(*_linear_data(48, 1)))
    assert _kinds(few) == ["low_learning_rate"]


def test_saturated_gates_of_a_model_that_learned_are_no_finding():
    """FSDD's CTC model (WER 0.026, its loss a tenth of the start) was told 'vanishing gradients / not
    learning' for its 71 % saturated gates: a trained LSTM uses its gates as switches."""
    def judged(final_loss):
        d = _epochs_from([1.1, 1.0, final_loss], [1.1, 1.0, final_loss])
        d.start_losses, d.plain_rnn = [1.2, 1.1], False
        for e in d.epochs:
            e["saturated_gates"] = 0.71
        return [f["kind"] for f in d.report(TrainConfig())["findings"]]
    assert judged(0.1) == []                                    # learned: the gates are no evidence
    assert judged(0.9) == ["vanishing_gradients"]               # the loss stuck near its start: they are


# -- advice taken literally: each planted problem named, with the option and value that helps ------
def _report(train, val, evidence=None, **cfg):
    return _epochs_from(train, val).report(TrainConfig(**cfg), evidence=evidence)


def test_a_learning_rate_far_too_high_whose_train_loss_jumps_is_told_to_lower_it():
    """A forecaster at lr 0.1 (100x) scored a validation MASE of 0.83-0.88 against 0.76 at 0.001 and
    got no finding: its gates far from saturation, its train loss rising a third late in training."""
    train, val = [0.78, 0.35, 0.19, 0.10, 0.09, 0.068, 0.045, 0.059], [0.79, 0.27, 0.12, 0.12, 0.12, 0.14, 0.11, 0.12]
    (f,) = _report(train, val, lr=0.1)["findings"]
    assert f["kind"] == "high_learning_rate" and f["numbers"]["rise_epoch"] == 8
    assert f["remedies"] == ["lower the learning rate: --lr 0.001 (now 0.1)"]
    assert _report(train, val, lr=1e-3)["findings"] == []          # the same curve at Adam's usual rate: noise


def test_training_cut_off_while_validation_still_falls_is_undertrained():
    """Two epochs of a forecaster (validation loss 0.139 -> 0.124) had no finding; trained for 20 as
    told, its validation MASE went from 0.86 to 0.75."""
    (f,) = _report([0.106, 0.082], [0.139, 0.124], max_epochs=2)["findings"]
    assert f["kind"] == "undertrained"
    assert f["remedies"][0].startswith("train longer: --epochs 20 (training stopped at its limit of 2 epochs")
    assert _report([0.106, 0.082], [0.139, 0.124], max_epochs=30)["findings"] == []      # early-stopped, not cut off
    assert _report([0.1, 0.09, 0.08], [0.139, 0.124, 0.1235], max_epochs=3)["findings"] == []   # levelled off


def test_clipped_gradients_growing_from_a_tiny_start_are_no_explosion():
    """A classifier's first-epoch gradient norms (median 0.13) grew to 21 as it grew confident,
    clipped at 1 and its loss never jumping: "exploding gradients, lower the learning rate" was a
    false alarm. Unclipped, the same growth is still one."""
    d = _epochs_from([0.7, 0.5, 0.4, 0.3], [0.7, 0.5, 0.45, 0.44])
    d.epochs[0]["grad_norm_median"], d.epochs[-1]["grad_norm_max"] = 0.13, 21.0
    kinds = lambda clip: [f["kind"] for f in d.report(TrainConfig(clip_norm=clip))["findings"]]   # noqa: E731
    assert kinds(1.0) == [] and kinds(None) == ["exploding_gradients"]


def test_overfitting_remedies_name_the_option_and_the_value():
    train = [1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    val = [1.0, 0.8, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]
    (f,) = _report(train, val, patience=100)["findings"]
    assert f["kind"] == "overfitting"
    assert "add dropout: --dropout 0.3 (now 0; 0.2-0.5 is usual)" in f["remedies"]
    assert "add weight decay: --weight-decay 1e-4" in f["remedies"]
    assert f["remedies"][-1].startswith("stop sooner: --patience 5 (now 100; the best epoch's weights are kept")
    assert not any(r.startswith("stop sooner") for r in _report(train, val, patience=5)["findings"][0]["remedies"])


def test_a_task_reading_unscaled_values_leads_with_scaling_them():
    """A forecaster of values near 1e6 with --scaler none was told to lower the learning rate first
    (validation MASE 0.77 -> 0.89 when done); scaling, offered third as "(scaler minmax or standard)",
    gave 0.76. A task without a scaler (texts) is offered none."""
    from lstmkit.train.findings import scaling_evidence
    train, val = [1.0, 0.8, 12.0, 0.7], [1.0, 0.8, 0.9, 0.7]                # a loss spike: exploding
    (f,) = _report(train, val, scaling_evidence("targets", 1.2e6))["findings"]
    assert f["kind"] == "exploding_gradients"
    assert f["remedies"][0].startswith("scale the targets: --scaler standard (now none: the training targets reach 1.2e+06")
    (f,) = _report(train, val)["findings"]
    assert f["remedies"][0].startswith("lower the learning rate") and not any("scaler" in r for r in f["remedies"])


def _trend_season(n=240, scale=1.0, seed=0):
    """A monthly trend with a season and a little noise: ETS's home ground."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = scale * (10 + 0.02 * t + 2 * np.sin(2 * np.pi * t / 12) + 0.3 * rng.standard_normal(n))
    return pd.DataFrame({"time": pd.date_range("2000-01-01", periods=n, freq="MS"), "y": y})


def test_a_forecaster_reading_huge_unscaled_targets_is_told_to_scale_them():
    f = Forecaster(**{**FAST_FORECAST, "scaler": "none"}, max_epochs=3, deseason=0, log=False).fit(
        _trend_season(scale=1e6), target="y", time="time")
    (finding,) = [x for x in f.result_.doctor["findings"] if x["kind"] == "exploding_gradients"]
    assert finding["remedies"][0].startswith("scale the targets: scaler='standard' (now none: the training targets reach")


def test_a_sequence_classifier_reading_huge_unscaled_features_is_told_to_scale_them():
    from lstmkit.tasks.classify.series_estimator import SequenceClassifier
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 96)
    X = 1e5 * (rng.normal(0, 1, (96, 20, 1)) + np.where(y == 1, 0.5, -0.5)[:, None, None])
    f = SequenceClassifier(model="lstm", hidden_size=8, val_frac=0.25, max_epochs=4, scaler="none", progress="off",
                           tensorboard=False, device="cpu").fit(X, np.where(y == 1, "a", "b"))
    (finding,) = [x for x in f.result_.doctor["findings"] if x["kind"] == "vanishing_gradients"]
    assert finding["remedies"][0].startswith("scale the features: scaler='standard' (now none: the training features reach")
    # series of 20 steps: no "shorten the sequences" (the classifier's own max_len, never a forecaster's lookback)
    assert not any(r.startswith("shorten the sequences") or "lookback" in r for r in finding["remedies"])


def test_the_forecast_doctor_scores_ets_on_validation_and_names_the_blend_to_use():
    """The doctor compared the network with naive and seasonal naive only; the test metrics' ETS row
    beat it (0.58 against 0.60) unsaid. ETS now scores on the validation windows too, fitted on the
    training part: the finding names it and the option that uses it."""
    fast = {**FAST_FORECAST, "hidden_size": 2, "ets": None}
    f = Forecaster(**fast, max_epochs=2, deseason=0, log=False).fit(_trend_season(), target="y", time="time")
    cmp = f.result_.doctor["evidence"]["baselines"]
    assert set(cmp["scores"]) == {"naive", "seasonal_naive", "ets"}
    (finding,) = [x for x in f.result_.doctor["findings"] if x["kind"] == "loses_to_baseline"]
    assert finding["numbers"]["best_baseline"] == "ets"
    assert finding["remedies"][-1].startswith("blend with ETS: combine='ets' (the network's weight is chosen on "
                                              "validation after training, 0 included: ETS alone)")
    # never a test point: a test part ten times larger leaves every validation score as it was
    data = _trend_season()
    data.loc[data.index[-36:], "y"] *= 10
    g = Forecaster(**fast, max_epochs=2, deseason=0, log=False).fit(data, target="y", time="time")
    assert g.result_.doctor["evidence"]["baselines"] == cmp
    assert g.metrics_["metrics"]["ets"] != f.metrics_["metrics"]["ets"]     # the test rows did read it


def test_a_healthy_forecaster_that_beats_ets_has_no_finding():
    rng = np.random.default_rng(0)
    t = np.arange(400)            # no time column: season 1; ETS is damped Holt, no season
    data = pd.DataFrame({"y": 10 + np.sin(2 * np.pi * t / 17.3) + 0.05 * rng.standard_normal(400)})
    f = Forecaster(**{**FAST_FORECAST, "ets": None}, max_epochs=60, patience=2, horizon=6, deseason=0, log=False).fit(
        data, target="y")
    report = f.result_.doctor
    assert report["findings"] == [], format_report(report)
    cmp = report["evidence"]["baselines"]
    assert "ets" in cmp["scores"] and cmp["model"] < min(cmp["scores"].values())


def test_a_healthy_sequence_classifier_has_no_finding():
    from lstmkit.tasks.classify.series_estimator import SequenceClassifier
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 96)
    X = rng.normal(0, 1, (96, 20, 1)) + np.where(y == 1, 0.5, -0.5)[:, None, None]
    f = SequenceClassifier(model="lstm", hidden_size=8, val_frac=0.25, max_epochs=30, patience=2, lr=3e-3,
                           progress="off", tensorboard=False, device="cpu").fit(X, np.where(y == 1, "a", "b"))
    assert f.result_.doctor["findings"] == [], format_report(f.result_.doctor)
    cmp = f.result_.doctor["evidence"]["baselines"]          # beside the class prior, and well below it
    assert cmp["metric"] == "log loss" and cmp["model"] < 0.8 * cmp["scores"]["class_prior"]


# -- remedies in the run's own task's options --------------------------------------------------------

def _stuck(task_config):
    """A run whose gates are pinned and whose loss stays near its start: vanishing gradients."""
    d = _epochs_from([1.1, 1.0, 0.9], [1.1, 1.0, 0.9])
    d.start_losses, d.plain_rnn, d.task_config = [1.2, 1.1], False, task_config
    for e in d.epochs:
        e["saturated_gates"] = 0.71
    (f,) = d.report(TrainConfig())["findings"]
    return [r for r in f["remedies"] if r.startswith("shorten the sequences")]


def test_the_vanishing_remedy_names_only_the_run_s_own_task_s_length_option():
    """Every run was told "shorten the sequences (--lookback of a forecaster, --max-len of a
    classifier)", a speech run too, which has neither."""
    from lstmkit.tasks.classify.config import ClassifyConfig
    from lstmkit.tasks.forecast.config import ForecastConfig
    from lstmkit.tasks.lm.config import LMConfig
    from lstmkit.tasks.speech.config import SpeechConfig
    from lstmkit.tasks.translate.config import TranslateConfig
    assert _stuck(ForecastConfig(lookback=48)) == [
        "shorten the sequences: --lookback 24 (now 48), or summarise them first (cnn-lstm, attention)"]
    assert _stuck(ClassifyConfig()) == [
        "shorten the sequences: --max-len 200 (now 400), or summarise them first (cnn-lstm, attention)"]
    assert _stuck(ClassifyConfig(max_len=None))[0].startswith("shorten the sequences: --max-len, or")
    assert _stuck(LMConfig())[0].startswith("shorten the sequences: --max-len 128 (now 256)")
    assert _stuck(TranslateConfig())[0].startswith("shorten the sequences: --max-len 25 (now 50)")
    assert _stuck(SpeechConfig()) == []                              # no length option: no such remedy
    assert _stuck(None) == ["shorten the sequences or summarise them first (cnn-lstm, attention)"]   # no task


def test_a_model_with_more_parameters_than_samples_is_told_a_smaller_hidden_size():
    from lstmkit.tasks.classify.config import ClassifyConfig
    train, val = [1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1], [1.0, 0.8, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]

    def smaller(params, task_config):
        d = _epochs_from(train, val)
        d.n_parameters, d.task_config = params, task_config
        for e in d.epochs:
            e["mean_batch"], e["steps"] = 10.0, 5
        (f,) = d.report(TrainConfig())["findings"]
        return [r for r in f["remedies"] if r.startswith("use a smaller model")]
    assert smaller(200_000, ClassifyConfig(hidden_size=128)) == [
        "use a smaller model: --hidden-size 64 (now 128; about a quarter of the parameters) or fewer layers, "
        "or more training data"]
    assert smaller(200_000, None) == ["use a smaller model (fewer hidden units or layers) or more training data"]
    # no parameter/sample evidence (100 parameters for 50 samples): no number claimed
    assert smaller(100, ClassifyConfig(hidden_size=128)) == ["use a smaller model (fewer hidden units or layers)"]


def test_a_validation_loss_falling_slowly_but_steadily_at_the_limit_is_undertrained():
    """A sequence classifier (hidden 2) whose validation loss fell 0.3 % an epoch had no finding;
    given 20 epochs it went from 0.710 to 0.568."""
    val = [0.720, 0.716, 0.713, 0.7105, 0.7085]                       # each epoch ~0.3 % below the last
    (f,) = _report(val, val, max_epochs=5)["findings"]
    assert f["kind"] == "undertrained" and "each of the last 3 epochs improved" in f["evidence"][1]
    assert f["remedies"][0].startswith("train longer: --epochs 20")
    assert _report(val, val, max_epochs=30)["findings"] == []        # stopped early: not at its limit
    wobble = [0.720, 0.716, 0.717, 0.7105, 0.7085]                   # one epoch worse: no steady fall
    assert _report(wobble, wobble, max_epochs=5)["findings"] == []
    cosine_tail = [0.720, 0.7100, 0.70995, 0.70992, 0.70990]          # a schedule's near-zero last steps
    assert _report(cosine_tail, cosine_tail, max_epochs=5)["findings"] == []


def test_the_padding_remedy_names_only_the_run_s_own_task_s_options():
    """A language model's or a translator's run mostly padding was told "--bucket", which only the
    classifier has; a speech run, "--max-len", which it has not."""
    from lstmkit.tasks.classify.config import ClassifyConfig
    from lstmkit.tasks.lm.config import LMConfig
    from lstmkit.tasks.speech.config import SpeechConfig

    def report(task_config):
        d = _epochs_from([1.0, 0.9, 0.8], [1.0, 0.9, 0.85])
        d.task_config = task_config
        for e in d.epochs:
            e["padding_share"] = 0.6
        return d.report(TrainConfig())
    remedies = lambda task_config: report(task_config)["findings"][0]["remedies"]    # noqa: E731
    assert remedies(ClassifyConfig(bucket=False)) == ["bucket sequences by length (--bucket) or cap their length "
                                                      "(--max-len)"]
    assert remedies(LMConfig()) == ["cap their length (--max-len)"]
    assert remedies(SpeechConfig()) == []
    assert "what to try" not in format_report(report(SpeechConfig()))       # no empty list announced
    assert remedies(None) == ["bucket sequences by length (--bucket) or cap them (--max-len)"]    # no task


def test_a_bucketed_run_mostly_padding_is_told_smaller_batches_not_bucket():
    """A classifier (bucket=True, its default) at --batch-size 256 was 78% padding and told "bucket
    sequences by length (--bucket)", which it did: its batches mix lengths because they are large."""
    from lstmkit.tasks.classify.config import ClassifyConfig
    d = _epochs_from([1.0, 0.9, 0.8], [1.0, 0.9, 0.85])
    d.task_config = ClassifyConfig()
    for e in d.epochs:
        e["padding_share"] = 0.78
    remedies = d.report(TrainConfig(batch_size=256))["findings"][0]["remedies"]
    assert remedies == ["smaller batches, each of lengths closer together (--batch-size 64, now 256: bucketing is on, "
                        "and a batch still mixes short and long sequences) or cap their length (--max-len)"]
    assert d.report(TrainConfig(batch_size=8))["findings"][0]["remedies"] == ["cap their length (--max-len)"]


def test_a_loss_near_zero_still_creeping_down_at_the_limit_is_not_undertrained():
    """A text classifier at validation accuracy 1.0 (its validation loss 0.000664 -> 0.000494 over the
    last epochs, from 0.69 at the start) was told "train longer: --epochs 60": more epochs change nothing."""
    val = [0.69, 0.2, 0.01, 0.000664, 0.000596, 0.000503, 0.000494]
    assert _report(val, val, max_epochs=7)["findings"] == []
    d = _epochs_from(val, val)
    d.start_losses = [0.69]
    assert d.report(TrainConfig(max_epochs=7))["findings"] == []
    falling = [0.69, 0.2, 0.1, 0.05, 0.045, 0.04, 0.03]                # still gaining 1.4 % of the start
    assert [f["kind"] for f in _report(falling, falling, max_epochs=7)["findings"]] == ["undertrained"]


def test_the_shorten_remedy_reads_the_lengths_the_gates_saw():
    """A text classifier of 11-word reviews at lr 1 (its gates pinned) was told "shorten the
    sequences: --max-len 200 (now 400)", which cuts nothing: the sequences the gate samples read are
    what to halve, and a few dozen steps are not why gradients vanish."""
    from lstmkit.tasks.classify.config import ClassifyConfig

    def shorten(steps, task_config):
        d = _epochs_from([1.1, 1.0, 0.9], [1.1, 1.0, 0.9])
        d.start_losses, d.plain_rnn, d.task_config = [1.2, 1.1], False, task_config
        for e in d.epochs:
            e["saturated_gates"], e["sequence_steps"] = 0.71, steps
        (f,) = d.report(TrainConfig())["findings"]
        return [r for r in f["remedies"] if r.startswith("shorten the sequences")]
    assert shorten(11, ClassifyConfig()) == []
    assert shorten(11, None) == []
    assert shorten(300, ClassifyConfig()) == [
        "shorten the sequences: --max-len 150 (now 400; the sequences sampled reach 300 steps), or summarise them "
        "first (cnn-lstm, attention)"]
    assert shorten(300, ClassifyConfig(max_len=None)) == [
        "shorten the sequences: --max-len 150 (the sequences sampled reach 300 steps), or summarise them first "
        "(cnn-lstm, attention)"]


def test_the_gate_sample_records_the_longest_sequence_it_read():
    from lstmkit.nn.lstm import LSTM

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = LSTM(1, 4, batch_first=True)

        def forward(self, x, lengths=None):
            return self.lstm(x, lengths=lengths)[0]

    d = Doctor()
    net = Net()
    d.bind(net)
    d.sample_gates(net, (torch.zeros(3, 9, 1), torch.tensor([9, 4, 2])))
    d.end_epoch({"epoch": 1, "train_loss": 1.0, "val_loss": 1.0, "lr": 1e-3})
    assert d.epochs[0]["sequence_steps"] == 9


def test_a_learning_rate_far_too_low_whose_loss_does_not_move_is_told_to_raise_it():
    """A text classifier at lr 1e-6 kept its validation loss at 0.6810 for 6 epochs (30 steps, at
    chance) and was told "training looked healthy"."""
    val = [0.6810245, 0.6810225, 0.6810207, 0.6810197, 0.6810189, 0.6810182]
    train = [0.700, 0.687, 0.689, 0.693, 0.686, 0.685]
    (f,) = _report(train, val, lr=1e-6, max_epochs=6)["findings"]
    assert f["kind"] == "low_learning_rate" and f["numbers"]["lr"] == 1e-6
    assert f["remedies"] == ["raise the learning rate: --lr 0.001 (now 1e-06)"]
    assert "validation loss 0.681 after epoch 1, best 0.681 after 6 epochs: 0.001% lower" in f["evidence"][1]
    assert _report(train, val, lr=1e-3, max_epochs=6)["findings"] == []     # Adam's usual rate: no such finding
    moving = [0.69, 0.6, 0.5, 0.45, 0.42, 0.41]
    assert _report(moving, moving, lr=1e-5, max_epochs=30)["findings"] == []  # low, but it learns: a fine-tune's


def test_a_classifier_is_compared_with_the_class_prior():
    """Labels shuffled against the inputs: the classifier knew nothing the class frequencies do not, and
    the doctor said "training looked healthy" (no baseline was compared on classify runs)."""
    from lstmkit.tasks.classify.series_estimator import SequenceClassifier
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (120, 12, 1))
    y = np.where(rng.random(120) < 0.8, "a", "b")
    f = SequenceClassifier(model="lstm", hidden_size=8, val_frac=0.25, max_epochs=8, patience=2, lr=1e-2,
                           progress="off", tensorboard=False, device="cpu").fit(X, y)
    report = f.result_.doctor
    (found,) = [g for g in report["findings"] if g["kind"] == "loses_to_baseline"]
    assert found["numbers"]["best_baseline"] == "class_prior" and found["numbers"]["metric"] == "log loss"
    assert found["remedies"][-1].startswith("until the model wins, predict the majority class ('a', 78% of the training rows)")
    cmp = report["evidence"]["baselines"]          # 0.499 to 0.502: early stopping picked its luckiest epoch
    assert cmp["points"] == 30 and cmp["model"] >= 0.98 * cmp["scores"]["class_prior"]
    assert found["evidence"][1] == "the model is within 2% of class_prior: it learned next to nothing beyond it"


def test_the_class_prior_is_weighed_as_the_loss_weighs_rows():
    from lstmkit.tasks.classify.classifier import prior_comparison
    y_train, y_val = np.array([0, 0, 0, 1]), np.array([0, 1])
    proba = np.array([[0.9, 0.1], [0.2, 0.8]])
    cmp = prior_comparison(proba, y_val, None, y_train, None, None, ["a", "b"])
    assert cmp["model"] == pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2)
    assert cmp["scores"]["class_prior"] == pytest.approx(-(np.log(0.75) + np.log(0.25)) / 2)
    balanced = prior_comparison(proba, y_val, None, y_train, None, np.array([4 / 6, 2.0]), ["a", "b"])
    # balanced class weights: the best constant answer is 50/50; the rows weigh 2/3 and 2
    assert balanced["scores"]["class_prior"] == pytest.approx(np.log(2))
    assert balanced["model"] == pytest.approx(-(4 / 6 * np.log(0.9) + 2 * np.log(0.8)) / (4 / 6 + 2))
    # named apart from metrics.json's unweighted nll, in the report's line too
    assert cmp["metric"] == "log loss" and balanced["metric"] == "class-weighted log loss"
    from lstmkit.train.doctor import format_report
    line = format_report({"findings": [], "evidence": {"baselines": balanced}}).splitlines()[-1]
    assert line.startswith("  validation class-weighted log loss: the model "), line
    weighted = prior_comparison(proba, y_val, np.array([1.0, 0.0]), y_train, np.array([1, 1, 1, 3.0]), None,
                                ["a", "b"])
    assert weighted["scores"]["class_prior"] == pytest.approx(-np.log(0.5))        # only row 0 counts
    assert prior_comparison(proba, y_val, np.zeros(2), y_train, None, None, ["a", "b"]) is None
    # the majority class by training weight, as DummyClassifier('most_frequent') fits it: 'b' (5 of 8), not 'a'
    heavy = prior_comparison(np.array([[0.6, 0.4], [0.6, 0.4]]), y_val, None, y_train, np.array([1, 1, 1, 5.0]),
                             None, ["a", "b"])
    assert heavy["instead"]["class_prior"].startswith("until the model wins, predict the majority class ('b', 62% "
                                                      "of the training weight)")


def test_a_classifier_right_more_often_than_the_majority_class_is_ahead_of_the_prior():
    """A text classifier at lr 1e-6 scored validation accuracy 1.0 at a log loss of 0.690 (the class
    prior's 0.693) and was told it "does not beat the best baseline (class_prior)"."""
    from lstmkit.tasks.classify.classifier import prior_comparison
    y = np.array([0, 1, 0, 1])
    timid = prior_comparison(np.array([[0.51, 0.49], [0.49, 0.51]] * 2), y, None, y, None, None, ["a", "b"])
    assert timid["ahead"] == "accuracy 1, the majority class's 0.5"
    d = _epochs_from([0.7, 0.69, 0.69], [0.69, 0.69, 0.69])
    assert d.report(TrainConfig(), evidence={"baselines": timid})["findings"] == []
    lost = prior_comparison(np.array([[0.51, 0.49]] * 4), y, None, y, None, None, ["a", "b"])
    assert "ahead" not in lost
    assert [f["kind"] for f in d.report(TrainConfig(), evidence={"baselines": lost})["findings"]] == [
        "loses_to_baseline"]


def test_a_run_that_blew_up_and_loses_to_a_baseline_is_not_told_to_train_longer():
    """A forecaster at lr 1 (its gradient norm 4.4e6) losing to ETS was told "1. train longer:
    --epochs 20" above the exploding finding's "lower the learning rate"."""
    train, val = [1.0, 0.5, 8.0, 0.6], [1.0, 0.9, 0.8, 0.7]
    cmp = {"part": "validation", "metric": "MASE", "model": 4.89, "scores": {"ets": 0.676}}
    sick = _report(train, val, evidence={"baselines": cmp}, lr=1.0, max_epochs=4)["findings"]
    assert [f["kind"] for f in sick] == ["loses_to_baseline", "exploding_gradients"]
    assert not any(r.startswith("train longer") for f in sick for r in f["remedies"])
    healthy = _report([1.0, 0.8, 0.7, 0.6], val, evidence={"baselines": cmp}, max_epochs=4)["findings"]
    assert healthy[0]["remedies"][0].startswith("train longer")       # still falling, nothing blew up


def test_an_overfitting_seed_ensemble_counts_the_parameters_of_one_seed():
    """The default forecaster, 15 seeds of 2,296 parameters, was told "the model has 34,440 parameters
    for 197 training samples" by its overfitting finding (its baseline finding said 15 seeds of 2,296)."""
    train, val = [1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1], [1.0, 0.8, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]
    d = _epochs_from(train, val)
    d.n_parameters = 34_440
    for e in d.epochs:
        e["mean_batch"], e["steps"] = 197 / 7, 7
    cmp = {"model": 0.5, "scores": {"naive": 0.9}, "members": 15, "member_parameters": 2_296}
    (f,) = d.report(TrainConfig(), evidence={"baselines": cmp})["findings"]
    assert f["kind"] == "overfitting"
    assert "the model is 15 seeds of 2,296 parameters each, each trained on 197 samples" in f["evidence"]
    few = {**cmp, "member_parameters": 1_000}                    # each seed has fewer than 10x its samples
    (f,) = d.report(TrainConfig(), evidence={"baselines": few})["findings"]
    assert not any("parameters" in e for e in f["evidence"])


def test_a_score_higher_is_better_is_judged_the_right_way_round():
    """A translator's BLEU beside the source copied: the judge read every baseline score as an error."""
    cmp = {"part": "validation", "metric": "BLEU", "higher_is_better": True, "scores": {"copy_source": 1.4}}
    d = _epochs_from([1.0, 0.9, 0.8], [1.0, 0.9, 0.85])
    (f,) = d.report(TrainConfig(), evidence={"baselines": {**cmp, "model": 0.0}})["findings"]
    assert f["evidence"][0] == ("BLEU on the validation data: the model 0, the best baseline (copy_source) 1.4 "
                                "(higher is better; all baselines: copy_source 1.4)")
    won = d.report(TrainConfig(), evidence={"baselines": {**cmp, "model": 30.0}})
    assert won["findings"] == []
    assert "validation BLEU: the model 30, the best baseline (copy_source) 1.4" in format_report(won)


def test_a_tasks_own_train_longer_keeps_its_place_after_one_epoch_and_goes_when_the_run_blew_up():
    """A CTC recogniser trained one epoch and losing to the empty transcript was told "check that each
    transcript belongs to its recording" first, its task's "train longer (... a CTC model emits only
    blanks for its first epochs ...)" replaced by a bare one after it; and a run that blew up was still
    told its task's "train longer", the doctor's own being withheld."""
    from lstmkit.tasks.speech.estimator import silence_comparison
    one = silence_comparison(1.0, ["a b", "c d"], "ctc", 1)
    (f,) = _report([3.2], [3.0], evidence={"baselines": one}, max_epochs=1)["findings"]
    assert f["remedies"][:2] == one["remedies"]            # the task's, in its order, its reason kept
    assert sum(r.startswith("train longer") for r in f["remedies"]) == 1
    sick = _report([1.0, 0.5, 8.0, 0.6], [1.0, 0.9, 0.8, 0.7], lr=1.0, max_epochs=4,
                   evidence={"baselines": silence_comparison(1.0, ["a b", "c d"], "ctc", 4)})["findings"]
    assert [f["kind"] for f in sick] == ["loses_to_baseline", "exploding_gradients"]
    assert not any(r.startswith("train longer") for f in sick for r in f["remedies"])
    assert sick[0]["remedies"][0] == "check that each transcript belongs to its recording"


def _epochs_of(rows, val):
    """A run whose epochs each trained on ``rows`` samples (one step), with these validation losses."""
    d = Doctor()
    for k, v in enumerate(val, 1):
        d.step(k, 1.0, 1.0, 0.0, 0.01, rows)
        d.end_epoch({"epoch": k, "train_loss": 1.0, "val_loss": v, "lr": 1e-3})
    return d


def test_a_loss_to_the_baseline_on_a_handful_of_rows_asks_for_more_data_first():
    """Six texts (4 to train on, 2 to validate) lost to the class prior and were told "check that each
    label belongs to its row" first: on so few the loss is the data's size, not shuffled labels."""
    cmp = {"metric": "log loss", "model": 0.70, "scores": {"class_prior": 0.69}, "points": 2,
           "part": "validation", "unit": "rows", "remedies": ["check that each label belongs to its row: ..."]}
    remedies = lambda rows, **kw: _epochs_of(rows, [0.7, 0.71, 0.72]).report(   # noqa: E731
        TrainConfig(max_epochs=30), evidence={"baselines": {**cmp, **kw}})["findings"][0]["remedies"]
    assert remedies(4)[:2] == ["more data: 4 training samples per epoch are too few for a network to learn from "
                               "(hundreds at least), and 2 validation rows too few to tell it from class_prior",
                               "check that each label belongs to its row: ..."]
    assert not any(r.startswith("more data:") for r in remedies(500))                  # enough to learn from
    assert not any(r.startswith("more data:") for r in remedies(64, points=5000))      # a few drawn from many
    assert not any(r.startswith("more data:") for r in remedies(4, points=None))       # held-out size unknown


def test_a_classifier_losing_to_the_prior_on_skewed_classes_is_told_to_weigh_them():
    """A 95/5 classifier that answered the common class alone lost to the class prior and was told to
    train longer, check its labels or predict the majority class: never of class_weight, the
    remedy a skewed set needs (unweighted, the rare rows barely move the loss)."""
    from lstmkit.train.findings import prior_comparison
    y_train, y_val = np.array([0] * 19 + [1]), np.array([0] * 9 + [1])
    flat = np.tile([0.6, 0.4], (10, 1))
    said = prior_comparison(flat, y_val, None, y_train, None, None, ["common", "rare"])["remedies"]
    assert said[-1] == ("weigh the classes: --class-weight balanced (the rarest, 'rare', is 5.0% of the training rows: "
                        "unweighted, its rows barely move the loss)")
    assert len(prior_comparison(flat, y_val, None, y_train, None, np.array([0.5, 10.0]), ["common", "rare"])["remedies"]) == 1
    even = np.array([0, 1] * 10)
    assert len(prior_comparison(flat, y_val, None, even, None, None, ["common", "rare"])["remedies"]) == 1


def test_a_run_answering_with_a_blend_is_told_the_blends_score_beside_the_networks():
    """The doctor judged the network alone: ausbeer's run was told 'the model does not beat ETS' (the network
    0.851 on validation) while its forecast, a blend chosen on the same windows, was 0.97 x ETS (session 57).
    The finding names the blend and its score beside the network's and the baseline's, and says how much of
    the answer the network's remedies move."""
    d = _epochs_from([1.0, 0.9], [1.0, 0.9])
    cmp = {"metric": "MASE", "part": "validation", "model": 0.851, "scores": {"naive": 1.2, "ets": 0.78},
           "remedies": ["a longer lookback"],
           "answer": {"name": "0.26 x network + 0.74 x ETS", "score": 0.757, "network_share": 0.26}}
    (lost,) = d.report(TrainConfig(), evidence={"baselines": cmp})["findings"]
    assert lost["title"] == ("the network alone does not beat the best baseline (ets); the forecast answered, "
                             "a blend, scores 0.757 to ets's 0.78")
    assert lost["evidence"][:3] == [
        "MASE on the validation data: the network 0.851, the best baseline (ets) 0.78 (lower is better; all "
        "baselines: ets 0.78, naive 1.2)",
        "the forecast answered is a blend, 0.26 x network + 0.74 x ETS, chosen on these same windows (so its score "
        "flatters it): MASE 0.757, beside the network's 0.851 and ets's 0.78",
        "the network is 26% of the forecast answered: the remedies below improve the network, which is less than "
        "half of the answer (until a refit's validation gives it more weight)"]
    assert lost["numbers"]["answer"] == 0.757 and lost["numbers"]["network_share"] == 0.26
    even = {**cmp, "answer": {**cmp["answer"], "name": "0.5 x network + 0.5 x ETS", "network_share": 0.5}}
    (lost,) = d.report(TrainConfig(), evidence={"baselines": even})["findings"]
    assert lost["evidence"][2] == ("the network is 50% of the forecast answered: the remedies below improve the "
                                   "network, and so that part of the answer")
    healthy = {**cmp, "model": 0.7}         # the network wins: the report's last line names all three
    report = d.report(TrainConfig(), evidence={"baselines": healthy})
    assert not report["findings"]
    assert format_report(report).splitlines()[-1] == ("  validation MASE: the network 0.7, the best baseline (ets) "
                                                      "0.78, the forecast answered (0.26 x network + 0.74 x ETS) 0.757")


def _seasonal_walk(n=240):
    rng = np.random.default_rng(0)
    t = np.arange(n)
    y = 100 + 10 * np.sin(2 * np.pi * t / 12) + np.cumsum(rng.standard_normal(n))
    return pd.DataFrame({"time": pd.date_range("2000-01-01", periods=n, freq="MS"), "y": y})


def test_doctor_of_a_blended_run_and_of_a_run_with_its_network_alone(tmp_path, capsys):
    """`lstmkit doctor --run` on a run whose forecast is a blend with ETS names the blend, its validation MASE
    and the network's share, and offers no 'blend with ETS' it already is; on a run answering with its network
    alone, the report is as before."""
    settings = {**FAST_FORECAST, "hidden_size": 8, "ets": True}
    runs = {}
    for name, combine in (("blend", "ets"), ("alone", "none")):
        f = Forecaster(**settings, max_epochs=1, deseason=0, log=False, combine=combine).fit(
            _seasonal_walk(), target="y", time="time", out=tmp_path / name)
        runs[name] = f
    blend = runs["blend"]
    mix = blend.combination_
    assert mix is not None and mix["weight"] < 0.5
    code, out, _ = _cli(["doctor", "--run", str(blend.run_dir_)], capsys)
    (lost,) = [x for x in read_report(blend.run_dir_)["findings"] if x["kind"] == "loses_to_baseline"]
    share = lost["numbers"]["network_share"]
    assert code == 0 and share == mix["weight"]
    assert out.splitlines()[1].startswith("  the network alone does not beat the best baseline (ets); the forecast "
                                          "answered, a blend, scores ")
    assert f"x network + {mix['shares']['ets']:.3g} x ETS, chosen on these same windows" in out
    assert "which is less than half of the answer" in out and "blend with ETS: combine='ets'" not in out
    assert lost["remedies"][-1].startswith("keep the blend: the forecast answered already blends the network with ETS")
    # the blend's score is that of the forecast answered: its validation windows scored as the run answers them
    assert lost["numbers"]["answer"] < lost["numbers"]["model"]
    code, out, _ = _cli(["doctor", "--run", str(runs["alone"].run_dir_)], capsys)
    assert code == 0 and "the model does not beat the best baseline (ets):" in out
    assert "forecast answered" not in out and "blend with ETS: combine='ets'" in out


def test_doctor_of_a_run_whose_network_share_is_capped_names_the_baseline_and_what_to_try(tmp_path, capsys):
    """ETS alone beats the network alone by more than the tolerance (combine.clear_margin): the network keeps at
    most MARGIN_CAP of the blend. The doctor's finding names ETS as the baseline it loses to and, first, what makes
    the network worth more than that share: seasonal adjustment, log targets, a longer lookback (session 58's note)."""
    from lstmkit.tasks.forecast.combine import MARGIN_CAP
    # num_layers left to the data: the network's size not all given, so the blend is chosen on validation
    settings = {**FAST_FORECAST, "lookback": 12, "hidden_size": 8, "num_layers": None, "ets": True}
    f = Forecaster(**settings, max_epochs=1, deseason=0, log=False).fit(
        _seasonal_walk(), target="y", time="time", out=tmp_path)
    assert "the network keeps at most 0.25" in f.auto_["combine"]["why"]
    assert f.combination_["baseline"] == "ets" and f.combination_["weight"] <= MARGIN_CAP
    (lost,) = [x for x in read_report(f.run_dir_)["findings"] if x["kind"] == "loses_to_baseline"]
    assert lost["title"].startswith("the network alone does not beat the best baseline (ets)")
    assert lost["numbers"]["best_baseline"] == "ets" and lost["numbers"]["network_share"] <= MARGIN_CAP
    first = [r.split(":")[0] for r in lost["remedies"][:3]]
    assert first == ["seasonal adjustment", "log targets", "a longer lookback"]
    assert lost["remedies"][0].startswith("seasonal adjustment: deseason=12")
    assert lost["remedies"][1].startswith("log targets: log=True")
    assert lost["remedies"][2] == "a longer lookback: lookback=24 (now 12)"
    code, out, _ = _cli(["doctor", "--run", str(f.run_dir_)], capsys)
    assert code == 0 and "does not beat the best baseline (ets)" in out
    assert all(said in out for said in ("seasonal adjustment: ", "log targets: ", "a longer lookback: "))
