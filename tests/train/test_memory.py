"""lstmkit.train.memory and lstmkit.memory: a network too large to train is refused from its shapes, before allocating."""
import subprocess
import sys
import types

import pytest
import torch
from torch import nn

from lstmkit.errors import LstmkitError, caller_wording
from lstmkit import memory as device_memory
from lstmkit.train import memory
from lstmkit.memory import TRAINING_BYTES_PER_PARAMETER, memory_limit, training_bytes
from lstmkit.train.memory import built_within_memory, check_batch_fits


def _builder(cfg, devices):
    def build():
        devices.append(torch.empty(0).device.type)        # where this build allocates
        return nn.LSTM(cfg.embed_dim, cfg.hidden_size, cfg.num_layers)
    return build


def _limit(monkeypatch, total, free=None):
    monkeypatch.setattr(memory, "memory_limit", lambda device: (total, free, "this machine's memory"))


def test_training_bytes_counts_weights_gradients_and_adam():
    net = nn.Linear(10, 3)                                   # 33 parameters
    assert training_bytes(net) == 33 * TRAINING_BYTES_PER_PARAMETER == 33 * 4 * 4


def test_too_large_is_refused_naming_the_settings_that_size_it(monkeypatch):
    _limit(monkeypatch, 2**20)
    cfg, devices = types.SimpleNamespace(embed_dim=8, hidden_size=256, num_layers=2), []
    with pytest.raises(LstmkitError) as e:
        built_within_memory(_builder(cfg, devices), "cpu", cfg, ("hidden_size", "num_layers", "embed_dim"))
    n = sum(p.numel() for p in nn.LSTM(8, 256, 2).parameters())
    assert e.value.message == (f"the model is too large to train here: about {n:,} parameters need about "
                               f"{n * 16 / 2**20:.3g} MiB (weights, gradients and Adam's two averages), more than "
                               "the 1 MiB of this machine's memory")
    # the embedding's width is a small share of it: no fix
    assert e.value.hint == "lower --hidden-size (256) or --num-layers (2)"
    assert set(devices) == {"meta"}                          # never built for real
    assert (cfg.embed_dim, cfg.hidden_size, cfg.num_layers) == (8, 256, 2)     # the halved probes undone


def test_a_python_caller_is_told_keywords(monkeypatch):
    _limit(monkeypatch, 2**20)
    cfg = types.SimpleNamespace(embed_dim=8, hidden_size=256, num_layers=1)
    with caller_wording(python=True), pytest.raises(LstmkitError, match=r"— lower hidden_size \(256\)$"):
        built_within_memory(_builder(cfg, []), "cpu", cfg, ("hidden_size", "num_layers", "embed_dim"))


def test_within_memory_builds_it_with_the_random_state_of_a_build_alone(monkeypatch):
    _limit(monkeypatch, 2**40, 2**40)
    cfg, devices = types.SimpleNamespace(embed_dim=3, hidden_size=5, num_layers=1), []
    torch.manual_seed(0)
    net = built_within_memory(_builder(cfg, devices), "cpu", cfg, ("hidden_size",))
    torch.manual_seed(0)
    alone = nn.LSTM(3, 5, 1)
    assert devices == ["meta", "cpu"]
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), alone.parameters()))


def test_more_than_is_free_is_a_warning(monkeypatch):
    _limit(monkeypatch, 2**40, 2**10)
    cfg = types.SimpleNamespace(embed_dim=3, hidden_size=5, num_layers=1)
    with pytest.warns(UserWarning, match="only 1 KiB of this machine's memory is free now"):
        built_within_memory(_builder(cfg, []), "cpu", cfg, ("hidden_size",))


def test_the_cpu_limit_is_the_least_of_ram_and_ulimit(monkeypatch):
    resource = pytest.importorskip("resource")              # POSIX only (lstmkit.memory imports it where there is one)
    monkeypatch.setattr(resource, "getrlimit", lambda what: (2**30, resource.RLIM_INFINITY))
    total, free, where = memory_limit(torch.device("cpu"))
    assert (total, where) == (2**30, "the address-space limit (ulimit -v)")


def test_a_meta_build_leaves_initialisers_out():
    """torch's meta normal_ (an embedding's initialiser) imported torch._dynamo: 2.4 s of each fit's
    probe and each load's shape check. The shapes are the same."""
    code = ("import sys, torch; from torch import nn; from lstmkit.memory import built_on_meta; "
            "net = built_on_meta(lambda: nn.Sequential(nn.Embedding(50, 4), nn.LSTM(4, 8)));"
            "print(sorted((k, tuple(v.shape), v.device.type) for k, v in net.state_dict().items()) == "
            "sorted((k, tuple(v.shape), 'meta') for k, v in nn.Sequential(nn.Embedding(50, 4), nn.LSTM(4, 8))"
            ".state_dict().items()), 'torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False"]


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 16, batch_first=True, dropout=0.0)

    def forward(self, x, scale):
        return self.lstm(x)[0] * scale


def test_a_batch_whose_activations_exceed_memory_is_refused_with_the_largest_that_fits(monkeypatch):
    """Measured on 2 and 4 examples: what autograd keeps once a batch is not counted per example."""
    from lstmkit.train.bench import activation_bytes
    net, x = _Net(), torch.randn(4, 50, 3)
    make = lambda n: (x[:n], 2.0)                                                    # noqa: E731
    each = (activation_bytes(net, make(4)) - activation_bytes(net, make(2))) / 2
    fixed = training_bytes(net) + activation_bytes(net, make(2)) - 2 * each
    _limit(monkeypatch, int(fixed + 100.5 * each))
    check_batch_fits(net, make, 2, 100, "cpu", lambda most: f"use {most}")          # fits: nothing said
    with pytest.raises(LstmkitError, match=r"^one training batch of 1,000 examples is too large to train here: "
                                           r"its activations need about .* an example\), more than .* — use 100$"):
        check_batch_fits(net, make, 2, 1000, "cpu", lambda most: f"use {most}")
    check_batch_fits(net, make, 2, 4, "cpu", lambda most: "")        # no more than measured: not measured again


def test_measuring_a_batch_leaves_the_network_and_the_random_state_as_they_were(monkeypatch):
    _limit(monkeypatch, 2**40)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    torch.manual_seed(0)
    x = torch.randn(8, 3) * 5 + 3
    check_batch_fits(net, lambda n: (x[:n],), 4, 1000, "cpu", str)
    drawn = torch.rand(3)
    torch.manual_seed(0)
    torch.randn(8, 3)
    assert torch.equal(drawn, torch.rand(3))
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
