"""The doctor: each pathology, provoked on purpose, yields exactly its finding."""
import json
import math
import time

import pytest
import torch
from torch import nn

from lstmkit.config import TrainConfig
from lstmkit.errors import LstmkitError
from lstmkit.nn.lstm import LSTM
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
    r = Trainer(_cfg()).fit(_mlp(), Batches(*_linear_data(), shuffle=True), Batches(*_linear_data(48, 1)))
    assert _kinds(r) == []
    assert format_report(r.doctor).startswith("doctor: 0 findings")


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
    # gates were sampled every epoch, and a healthy LSTM is far from saturation
    assert all(e["saturated_gates"] is not None and e["saturated_gates"] < 0.1 for e in r.doctor["epochs"])


def test_sleeping_data_loader_is_slow_training_and_nothing_else():
    r = Trainer(_cfg(max_epochs=4)).fit(_mlp(), Batches(*_linear_data(), shuffle=True, sleep=0.01),
                                        Batches(*_linear_data(48, 1)))
    assert _kinds(r) == ["slow_training"]
    (f,) = r.doctor["findings"]
    assert f["numbers"]["data_share"] > 0.5
    assert "waiting for data" in f["evidence"][0]


def test_saturated_gates_are_measured_with_record_gates():
    torch.manual_seed(0)
    lstm = LSTM(2, 8)
    with torch.no_grad():
        for p in lstm.parameters():
            p.mul_(60.0)                                # every gate pinned at 0/1
    doc = Doctor()
    doc.sample_gates(nn.Sequential(lstm), torch.randn(4, 12, 2))
    assert doc._cur["saturation"] > 0.9


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
    (tmp_path / "doctor.json").unlink()
    code, _, err = _cli(["doctor", str(tmp_path)], capsys)
    assert code == 2 and "has no doctor.json" in err
    with pytest.raises(LstmkitError, match="run folder not found"):
        read_report(tmp_path / "nope")


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
