"""``run_tie.NetMarks``: whether a network still holds the tensors it held, none written since. Its walk of the
module tables (``run_tie._tensors``, what a one-window forecast's engine check pays each call) finds the tensors
``parameters()`` and ``buffers()`` find, in their order, and every change those would show is still seen."""
import weakref

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from lstmkit.run_tie import NetMarks, _tensors


class _Twice(nn.Module):
    """One submodule under two names, a weight tied to another module's, an empty slot and a buffer."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3)
        self.b = self.a                                # the same module twice
        self.c = nn.Sequential(nn.Linear(3, 2), nn.LSTM(2, 4, num_layers=2), nn.BatchNorm1d(4))
        self.d = nn.Linear(3, 3, bias=False)
        self.d.weight = self.a.weight                  # tied
        self.register_parameter("nothing", None)
        self.register_buffer("count", torch.zeros(2))
        self.empty = None


def _nets():
    loop = nn.Sequential(nn.Linear(2, 2))
    loop.add_module("back", loop[0])                   # reached again: read once
    param = nn.Linear(4, 4)
    parametrize.register_parametrization(param, "weight", _Sym())
    return [_Twice(), nn.LSTM(3, 5, num_layers=3), nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.GRU(3, 3)), loop,
            param, nn.ReLU()]


class _Sym(nn.Module):
    def forward(self, w):
        return w + w.T


@pytest.mark.parametrize("k", range(6))
def test_the_walk_finds_what_parameters_and_buffers_find(k):
    net = _nets()[k]
    want = [*net.parameters(), *net.buffers()]
    got = _tensors(net)
    assert len(got) == len(want)
    assert all(g is w for g, w in zip(got, want))


def _changes():
    def replace_param(n):
        n.c[0].weight = nn.Parameter(n.c[0].weight.detach().clone())

    def write_in_place(n):
        with torch.no_grad():
            n.c[1].weight_hh_l1.add_(1.0)

    def delete_param(n):
        del n.c[0].bias

    def replace_module(n):
        n.c[2] = nn.BatchNorm1d(4)

    def add_buffer(n):
        n.c[0].register_buffer("extra", torch.ones(1))

    def replace_buffer(n):
        n.count = torch.ones(2)

    def step_buffer(n):
        n.c[2].num_batches_tracked += 1

    def untie(n):
        n.d.weight = nn.Parameter(n.a.weight.detach().clone())

    def load_state(n):
        state = {k: v + 1 for k, v in n.state_dict().items()}
        n.load_state_dict(state)

    return [replace_param, write_in_place, delete_param, replace_module, add_buffer, replace_buffer, step_buffer,
            untie, load_state]


@pytest.mark.parametrize("change", _changes(), ids=lambda f: f.__name__)
def test_marks_see_every_change_of_the_tensors(change):
    net = _Twice()
    marks = NetMarks(net)
    assert marks.holds(net)
    change(net)
    assert not marks.holds(net)
    assert NetMarks(net).holds(net)                    # marked again: what it holds now


def test_marks_hold_while_nothing_changed_and_keep_no_tensor_alive():
    net = _Twice().eval()
    marks = NetMarks(net)
    with torch.no_grad():
        net.c[2](net.c[0](torch.zeros(2, 3)) @ torch.ones(2, 4))   # an eval-mode forward pass writes nothing
    assert marks.holds(net)
    old = weakref.ref(net.c[0].weight)
    net.c[0].weight = nn.Parameter(torch.zeros(2, 3))
    assert old() is None                               # the marks hold the replaced weight weakly
    assert not marks.holds(net)
