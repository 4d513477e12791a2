"""StatefulNet: a task net with its recurrent state as explicit inputs, called from several threads."""
import copy
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor

import torch
from torch import nn

from lstmkit.deploy.stateful import StatefulNet
from lstmkit.nn.zoo import make_encoder


class _Net(nn.Module):
    """The task-net convention: a recurrent ``encoder`` read by a head."""

    def __init__(self):
        super().__init__()
        self.encoder = make_encoder("lstm", input_size=2, hidden_size=4, num_layers=2, dropout=0.0)
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        out, _ = self.encoder(x)
        return self.head(out[:, -1])


def _graph():
    torch.manual_seed(0)
    return StatefulNet(_Net(), ("h", "c")).eval()


def _state(seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, 1, 4, generator=g), torch.randn(2, 1, 4, generator=g)


def test_two_threads_stepping_one_graph_each_run_from_their_own_state():
    """The state a call passes reaches the encoder of that call: two threads that set theirs before
    either's encoder ran (a barrier holds them there) each get the answer of their state run alone
    (the state was one attribute of the shared graph: both ran from the state set last)."""
    graph, x = _graph(), torch.ones(1, 1, 2)
    states = [_state(1), _state(2)]
    with torch.inference_mode():
        alone = [graph(x, *s) for s in states]
    both_set = threading.Barrier(2, timeout=10)

    def wait_for_both(*_):
        both_set.wait()

    graph.net.encoder.register_forward_pre_hook(wait_for_both)
    with torch.inference_mode(), ThreadPoolExecutor(2) as pool:
        together = list(pool.map(lambda s: graph(x, *s), states))
    for got, want in zip(together, alone):
        for a, b in zip(got, want):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_the_graph_still_copies_and_pickles_after_a_call():
    graph, x = _graph(), torch.ones(1, 3, 2)
    with torch.inference_mode():
        want = graph(x, *_state(1))
    for copied in (copy.deepcopy(graph), pickle.loads(pickle.dumps(graph))):
        with torch.inference_mode():
            got = copied(x, *_state(1))
        for a, b in zip(got, want):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
