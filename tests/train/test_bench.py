"""train.bench: the measurements every compare bench takes, and the Trial they make."""
import torch

from lstmkit.train.bench import activation_bytes, make_trial, measure_latency_ms


def test_measurements():
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    assert measure_latency_ms(net, torch.zeros(2, 4), min_seconds=0.0) > 0
    # Linear saves its input [32, 4]; tanh saves its output [32, 8]; the second Linear reuses it
    assert activation_bytes(net, torch.zeros(32, 4)) == 32 * (4 + 8) * 4


def test_activation_bytes_counts_each_saved_storage_though_a_layer_frees_its_own():
    """Storages saved for backward and then freed by the layers after them (an LSTM's per-layer states):
    a hook that held nothing let them go, the next took the address, and the two counted as one (a
    speech batch beyond memory passed the check). The count equals the graph's own, which holds every
    saved tensor until the forward ends."""
    from lstmkit.nn.lstm import LSTM

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.head = LSTM(8, 32, num_layers=2, batch_first=True), torch.nn.Linear(32, 4)

        def forward(self, x):
            return self.head(self.lstm(x)[0]).log_softmax(-1)

    torch.manual_seed(0)
    net, x = Net(), torch.zeros(16, 50, 8)
    params = {p.untyped_storage().data_ptr() for p in net.parameters()}
    held: dict[int, int] = {}

    def pack(t):
        if t.untyped_storage().data_ptr() not in params:
            held[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = net(x)
    del out
    assert activation_bytes(net, x) == sum(held.values())


def test_make_trial_counts_parameters_and_speed():
    net = torch.nn.Linear(3, 2)
    history = [{"seconds": 0.5}, {"seconds": 1.5}]
    x = torch.zeros(4, 3)
    t = make_trial("lin", 7, net, history, 100, x[:1], x, x, {"acc": 1.0}, {"best_epoch": 2})
    assert (t.model, t.seed, t.params, t.epochs, t.train_s) == ("lin", 7, 8, 2, 2.0)
    assert t.windows_per_s == 100.0 and t.extra == {"best_epoch": 2} and t.act_mem_mb > 0


def test_activation_bytes_leaves_no_graph_holding_the_network():
    """Its saved-tensor hook returned each tensor as saved: oneDNN's LSTM saves its own outputs, a cycle
    through C++ that the garbage collector cannot see, so every call (every fit checks its batch with
    it) kept the graph and the network's weights alive for good in a long-lived process."""
    import gc
    import weakref
    from lstmkit.nn.lstm import LSTM
    weights = []
    for seed in range(3):
        torch.manual_seed(seed)
        net = LSTM(4, 8, batch_first=True)
        assert activation_bytes(net, torch.randn(1, 8, 4)) > 0
        weights.append(weakref.ref(next(net.parameters())))
        del net
    gc.collect()
    assert [w() for w in weights] == [None, None, None]
