"""precision="bf16" on the CPU: its cost measured once, said when it is slower than fp32."""
import warnings

import pytest
import torch
from torch import nn

from lstmkit.config import TrainConfig
from lstmkit.nn.lstm import LSTM
from lstmkit.train import Trainer
from lstmkit.train import precision

from interrupt_helpers import KillAt


class _Net(nn.Module):
    """An LSTM with dropout and batch norm: draws from the random state and keeps buffers."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.lstm, self.drop, self.norm, self.head = LSTM(2, 8, batch_first=True), nn.Dropout(0.3), nn.BatchNorm1d(8), nn.Linear(8, 1)

    def forward(self, x):
        return self.head(self.norm(self.drop(self.lstm(x)[0][:, -1])))


def _batches():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(48, 6, 2, generator=g)
    y = x.sum((1, 2))[:, None]
    return [(x[i:i + 16], y[i:i + 16]) for i in range(0, 48, 16)]


def _fit(prec="bf16"):
    net = _Net()
    cfg = TrainConfig(max_epochs=1, batch_size=16, lr=1e-2, progress="off", device="cpu", tensorboard=False,
                      precision=prec, doctor=False)
    Trainer(cfg).fit(net, _batches())
    return net


@pytest.fixture
def unsaid(monkeypatch):
    monkeypatch.setattr(precision, "_said", False)


def test_bf16_slower_than_fp32_on_the_cpu_is_said_once_naming_both_times(unsaid, monkeypatch):
    calls = []

    def measured(model, step):
        calls.append(float(step(model).detach()))          # the step is the loop's: a loss of the batch
        return 0.01, 0.03
    monkeypatch.setattr(precision, "bf16_cost", measured)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _fit("fp32")
        assert not calls                                     # fp32 measures nothing
        _fit()
        _fit()                                               # a second fit in the process: said already
    said = [str(w.message) for w in caught if "bf16" in str(w.message)]
    assert len(calls) == 1 and len(said) == 1, said
    assert "3.0x slower than fp32" in said[0] and "30 ms a batch against 10 ms" in said[0]
    assert said[0].endswith("--precision fp32 trains faster here")       # the Trainer alone: the CLI's words


def test_bf16_about_as_fast_as_fp32_says_nothing(unsaid, monkeypatch):
    monkeypatch.setattr(precision, "bf16_cost", lambda model, step: (0.010, 0.011))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _fit()
    assert not [w for w in caught if "bf16" in str(w.message)]


def test_measuring_leaves_random_state_buffers_and_gradients_as_they_were():
    net = _Net()
    net.train()
    x, y = _batches()[0]
    net.head.weight.grad = torch.full_like(net.head.weight, 7.0)
    buffers = {k: v.clone() for k, v in net.named_buffers()}
    rng = torch.get_rng_state()
    fp32, bf16 = precision.bf16_cost(net, lambda m: nn.functional.mse_loss(m(x).float(), y))
    assert 0 < fp32 < float("inf") and 0 < bf16 < float("inf")
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(v, buffers[k]) for k, v in net.named_buffers())
    assert torch.equal(net.head.weight.grad, torch.full_like(net.head.weight, 7.0))
    assert net.lstm.weight_ih_l0.grad is None


def test_a_measured_bf16_fit_trains_the_numbers_of_one_unmeasured(unsaid, monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        measured = _fit()
        monkeypatch.setattr(precision, "_said", True)        # no measure
        plain = _fit()
    for a, b in zip(measured.state_dict().values(), plain.state_dict().values()):
        assert torch.equal(a, b)


def test_a_bf16_run_measured_in_each_part_resumes_to_the_bits_of_one_never_interrupted(monkeypatch, tmp_path):
    from lstmkit.train import TrainingInterrupted
    cfg = TrainConfig(max_epochs=2, batch_size=16, lr=1e-2, progress="off", device="cpu", tensorboard=False,
                      precision="bf16", doctor=False, checkpoint_every=2, patience=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        monkeypatch.setattr(precision, "_said", False)
        whole = _Net()
        Trainer(cfg).fit(whole, _batches())
        monkeypatch.setattr(precision, "_said", False)
        with pytest.raises(TrainingInterrupted):
            Trainer(cfg, run_dir=tmp_path, callbacks=[KillAt(5)]).fit(_Net(), _batches())
        monkeypatch.setattr(precision, "_said", False)         # the resumed part measures at its first batch
        resumed = _Net()
        Trainer(cfg, run_dir=tmp_path).fit(resumed, _batches(), resume=True)
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
