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


def test_a_model_that_needs_exactly_what_the_machine_holds_or_has_free_is_built_without_a_word(monkeypatch, recwarn):
    """Refused when it needs *more* than the machine holds, warned of when more than is free: no more is neither."""
    cfg = types.SimpleNamespace(embed_dim=3, hidden_size=5, num_layers=1)
    need = training_bytes(nn.LSTM(3, 5, 1))
    _limit(monkeypatch, need, need)
    assert isinstance(built_within_memory(_builder(cfg, []), "cpu", cfg, ("hidden_size",)), nn.LSTM)
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]
    _limit(monkeypatch, need - 1, need - 1)
    with pytest.raises(LstmkitError, match="too large to train here"):
        built_within_memory(_builder(cfg, []), "cpu", cfg, ("hidden_size",))


class _OnceABatch(nn.Module):
    """Autograd keeps exp(w) once a batch (256 x 256 float32: 256 KiB) and x per example (256 float32: 1 KiB)."""
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(256, 256))

    def forward(self, x):
        return x @ torch.exp(self.w)


def test_what_a_batch_keeps_once_counts_beside_the_weights_and_each_example(monkeypatch):
    """fixed = 1 MiB of training state (65,536 parameters x 16 bytes) + 256 KiB kept once; 1 KiB an
    example: a limit of exactly fixed + 100 examples takes 100 and refuses 101, saying 100 fit."""
    net = _OnceABatch()
    make = lambda n: (torch.ones(n, 256),)                                          # noqa: E731
    fixed = 65536 * TRAINING_BYTES_PER_PARAMETER + 256 * 256 * 4
    _limit(monkeypatch, fixed + 100 * 1024)
    for k in (1, 2):                                                                 # k = 1: measured on 1 and 2
        check_batch_fits(net, make, k, 100, "cpu", lambda most: f"use {most}")
        with pytest.raises(LstmkitError, match=r"of 101 examples .* \(1 KiB an example\).* — use 100$"):
            check_batch_fits(net, make, k, 101, "cpu", lambda most: f"use {most}")


def test_a_batch_no_larger_than_the_measure_or_of_one_step_sequences_is_not_measured(monkeypatch):
    """Measuring runs k and 2 k examples: a batch of 2 k or fewer is no larger than the measure, and
    one-step sequences have no half to measure on (k = 0)."""
    _limit(monkeypatch, 1)
    calls = []
    make = lambda n: calls.append(n) or (torch.ones(n, 256),)                        # noqa: E731
    check_batch_fits(_OnceABatch(), make, 2, 4, "cpu", str)
    check_batch_fits(_OnceABatch(), make, 0, 1000, "cpu", str)
    memory.check_sequence_batch(_OnceABatch(), [torch.ones(1, 256)] * 5, 1000, "cpu", lambda most, longest: "",
                                make=make)
    assert calls == []


def test_the_fix_names_the_settings_whose_halving_saves_a_tenth_or_more(monkeypatch):
    """Two bias-free layers of 1,000 outputs: hidden_size + embed_dim = 100 inputs a row. Halving
    embed_dim 20 saves 10 of 100: a tenth, named; halving 16 saves 8 of 100: not named."""
    _limit(monkeypatch, 1)

    def hint(hidden, embed):
        cfg = types.SimpleNamespace(hidden_size=hidden, embed_dim=embed)
        build = lambda: nn.ModuleList([nn.Linear(cfg.hidden_size, 1000, bias=False),          # noqa: E731
                                       nn.Linear(cfg.embed_dim, 1000, bias=False)])
        with pytest.raises(LstmkitError) as e:
            built_within_memory(build, "cpu", cfg, ("hidden_size", "embed_dim"))
        return e.value.hint

    assert hint(80, 20) == "lower --hidden-size (80) or --embed-dim (20)"
    assert hint(84, 16) == "lower --hidden-size (84)"


def test_batch_fix_says_the_batch_size_that_fits_or_else_what_shortens_sequences():
    shorter = lambda most: f"pass --max-len {most} or less" if most else "a smaller --max-len"        # noqa: E731
    assert memory.batch_fix(1000, 300, shorter) == "pass --batch-size 3 or less, or a smaller --max-len"
    assert memory.batch_fix(300, 300, shorter) == "pass --batch-size 1, or a smaller --max-len"
    assert memory.batch_fix(299, 300, shorter) == "pass --max-len 299 or less"


def test_a_sequence_batch_is_measured_as_the_batch_its_longest_falls_in(monkeypatch):
    """Lengths 10, 3, 7, 200 in batches of 2: the longest's batch holds it and the next longest, 10;
    padded to 200 that is 400 steps, packed 210. Measured on 32 and 64 steps (at most half the longest)."""
    got = []
    monkeypatch.setattr(memory, "check_batch_fits", lambda net, make, k, steps, *a, **kw: got.append((k, steps)))
    seqs = [torch.ones(n, 3) for n in (10, 3, 7, 200)]
    memory.check_sequence_batch(None, seqs, 2, "cpu", str)
    memory.check_sequence_batch(None, seqs, 2, "cpu", str, padded=False)
    memory.check_sequence_batch(None, seqs, 50, "cpu", str)                      # more than there are: all 4
    memory.check_sequence_batch(None, seqs[:3], 2, "cpu", str)                   # longest 10: 5 and 10 steps
    memory.check_sequence_batch(None, [], 2, "cpu", str)                         # nothing to measure
    assert got == [(32, 400), (32, 210), (32, 800), (5, 20)]


def test_training_bytes_counts_buffers_at_their_own_size():
    """BatchNorm1d(4): 8 parameters (16 bytes each) and its running mean and variance (4 float32 each)
    and batch count (one int64): 128 + 16 + 16 + 8 bytes."""
    assert training_bytes(nn.BatchNorm1d(4)) == 168


def test_the_cpu_limit_is_the_ram_where_nothing_lower_limits_it(monkeypatch):
    monkeypatch.setattr(device_memory, "_machine_memory", lambda: (2**33, 2**32))
    monkeypatch.setattr(device_memory, "_read_number", lambda path: None)
    monkeypatch.setattr(device_memory, "_address_space_limit", lambda: None)
    assert memory_limit(torch.device("cpu")) == (2**33, 2**32, "this machine's memory")


def test_size_text_stays_in_plain_figures_just_below_the_next_unit():
    """'.3g' of 1,023 is '1.02e+03': 1,023 bytes read '1.02e+03 B', 1,048,000 bytes '1.02e+03 KiB'."""
    assert [device_memory.size_text(n) for n in (0, 1023, 1024, 1536, 1_048_000, 2**20, 1023 * 2**30, 5000 * 2**40)] \
        == ["0 B", "1023 B", "1 KiB", "1.5 KiB", "1023 KiB", "1 MiB", "1023 GiB", "5000 TiB"]
