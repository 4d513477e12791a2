"""StatefulNet: a task net with its recurrent state as explicit inputs, called from several threads."""
import copy
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from torch import nn

from lstmkit.deploy.stateful import StatefulNet, recurrent_state_names
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
    both_set = threading.Barrier(2, timeout=60)          # a guard against a hang, however slow the machine

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


class _AnyNet(_Net):
    def __init__(self, encoder):
        nn.Module.__init__(self)
        self.encoder = make_encoder(encoder, input_size=2, hidden_size=4, num_layers=2, dropout=0.0)
        self.head = nn.Linear(self.encoder.output_size, 1)


def test_stepping_one_row_at_a_time_carrying_h_c_equals_the_plain_nets_whole_sequence_forward():
    """The single-step cell path is the fused kernel's equations: after each step t the graph's answer
    is the plain net's (its own forward, no tap) over rows 0..t from a zero state."""
    torch.manual_seed(0)
    net = _AnyNet("lstm").eval()
    graph = StatefulNet(net, ("h", "c")).eval()
    x = torch.randn(1, 6, 2, generator=torch.Generator().manual_seed(3))
    state = ()
    with torch.inference_mode():
        for t in range(6):
            y, *state = graph(x[:, t:t + 1], *state)
            torch.testing.assert_close(y, net(x[:, :t + 1]), rtol=1e-5, atol=1e-6)


def test_a_bidirectional_encoder_reading_one_row_answers_as_the_plain_net():
    """One row through a bidirectional LSTM (a window-mode stream's first step) is the fused forward
    of both directions: the one-direction cell shortcut does not apply to it."""
    torch.manual_seed(0)
    net = _AnyNet("bilstm").eval()
    x = torch.randn(1, 1, 2, generator=torch.Generator().manual_seed(4))
    with torch.inference_mode():
        torch.testing.assert_close(StatefulNet(net, ()).eval()(x), net(x), rtol=0, atol=0)


@pytest.mark.parametrize("encoder, names", [("lstm", ("h", "c")), ("gru", ("h",)), ("bilstm", ()), ("bigru", ()),
                                            ("lstm-attention", ()), ("tcn", ())])
def test_only_a_one_directional_lstm_or_gru_has_state_to_carry(encoder, names):
    """A bidirectional encoder's answer after step t reads the steps after t too: carrying its
    ``(h, c)`` forward cannot give it, so it has no state to carry (a stream of it reads a window);
    nor has an encoder that is no plain LSTM/GRU, or a net without an encoder."""
    assert recurrent_state_names(_AnyNet(encoder)) == names
    assert recurrent_state_names(nn.Linear(2, 1)) == ()


@pytest.mark.parametrize("encoder, torch_rnn", [("lstm", nn.LSTM), ("gru", nn.GRU)])
@pytest.mark.parametrize("batch", [1, 3])
def test_a_whole_sequence_from_a_given_state_is_torchs_own_layer_from_that_state(batch, encoder, torch_rnn):
    """Several rows in one call (a stream's warm-up history, a batch of windows) run the whole
    sequence from the state passed: the answer and the final state are torch's own ``nn.LSTM`` /
    ``nn.GRU`` (the same weights) run from that state, for one sequence as for several; one row from
    the zero state too. The LSTM's one-step cell shortcut is for one row only: taken for a longer
    input it read its first row alone."""
    torch.manual_seed(0)
    net = _AnyNet(encoder).eval()
    names = recurrent_state_names(net)
    graph = StatefulNet(net, names).eval()
    ref = torch_rnn(2, 4, num_layers=2, batch_first=True).eval()
    ref.load_state_dict(net.encoder.state_dict())
    g = torch.Generator().manual_seed(5)
    x = torch.randn(batch, 5, 2, generator=g)
    state = [torch.randn(2, batch, 4, generator=g) for _ in names]
    with torch.inference_mode():
        y, *state_out = graph(x, *state)
        out, want_state = ref(x, tuple(state) if len(state) == 2 else state[0])
        pairs = [(y, net.head(out[:, -1])), *zip(state_out, want_state if len(state) == 2 else [want_state])]
        pairs.append((graph(x)[0], net.head(ref(x)[0][:, -1])))                 # from the zero state
        pairs.append((graph(x[:, :1])[0], net.head(ref(x[:, :1])[0][:, -1])))   # one row from the zero state
    for got, want in pairs:
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("encoder, names", [("lstm", ("h", "c")), ("gru", ("h",)), ("bilstm", ()), ("bigru", ())])
def test_an_encoder_swapped_for_torchs_own_layer_carries_the_same_state(encoder, names):
    """An int8 net's encoder is torch's own layer behind lstmkit's call (``TorchRNN``, which dynamic
    quantization keeps around the quantized LSTM / GRU): its state is the layer's own, ``(h, c)``
    for an LSTM, ``h`` for a GRU, none for a bidirectional one."""
    from lstmkit.deploy.int8_torch import TorchRNN, quantize_torch
    net = quantize_torch(_AnyNet(encoder))
    assert isinstance(net.encoder, TorchRNN) and recurrent_state_names(net) == names
