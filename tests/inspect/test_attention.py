"""inspect.attention: the attention weights recorded for an input, one thread's call apart from another's."""
from __future__ import annotations

import threading

import torch

from lstmkit.inspect.attention import attention
from lstmkit.nn.attention import SelfAttention
from lstmkit.nn.zoo import make_encoder


def test_two_threads_recording_one_model_at_once_each_get_their_own_inputs_weights():
    """The recording was the shared layer's (``record``, ``last_weights``): with both threads inside
    the model at once, one read the weights of the other's input, or None once the other was done."""
    torch.manual_seed(0)
    enc = make_encoder("lstm-attention", 3, 8, 1, 0.0).eval()
    layer = next(m for m in enc.modules() if isinstance(m, SelfAttention))
    inputs = {"a": torch.randn(1, 5, 3), "b": torch.randn(2, 7, 3)}
    alone = {k: attention(enc, x) for k, x in inputs.items()}
    both_ran = threading.Barrier(2, timeout=30)      # each waits after its layer ran, until the other's has too
    handle = layer.register_forward_hook(lambda *_: both_ran.wait())
    got: dict[str, object] = {}

    def record(k):
        try:
            got[k] = attention(enc, inputs[k])
        except Exception as e:            # noqa: BLE001  (the assertion below names it)
            got[k] = e

    threads = [threading.Thread(target=record, args=(k,)) for k in inputs]
    try:
        [t.start() for t in threads]
        [t.join(60) for t in threads]
    finally:
        handle.remove()
    for k, want in alone.items():
        assert torch.is_tensor(got[k]) and torch.equal(got[k], want), (k, got[k])
    assert not layer.record and layer.last_weights is None         # nothing left recording in this thread


def test_a_thread_predicting_while_another_records_neither_records_nor_is_recorded():
    torch.manual_seed(0)
    enc = make_encoder("lstm-attention", 3, 8, 1, 0.0).eval()
    layer = next(m for m in enc.modules() if isinstance(m, SelfAttention))
    layer.record = True
    seen = {}

    def other():
        seen["record"] = layer.record
        with torch.no_grad():
            enc(torch.randn(1, 4, 3))
        seen["weights"] = layer.last_weights

    t = threading.Thread(target=other)
    t.start()
    t.join(60)
    assert seen == {"record": False, "weights": None}
    assert layer.record and layer.last_weights is None              # this thread's recording: nothing ran here yet
    layer.record = False


def test_a_one_step_windows_attention_is_drawn_on_whole_numbered_steps(tmp_path, monkeypatch):
    """lookback 1: the heatmap's axes read -0.4, -0.2, 0.0, 0.2, 0.4 for the one step 0."""
    import lstmkit.inspect.plots as plots
    from lstmkit.inspect.attention import plot_attention
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **_: seen.append(fig.axes[0]))
    plot_attention(torch.ones(1, 1, 1, 1), tmp_path / "attention.png")
    ax = seen[0]
    for ticks, limits in ((ax.get_yticks(), ax.get_ylim()), (ax.get_xticks(), ax.get_xlim())):
        assert [t for t in ticks if min(limits) <= t <= max(limits)] == [0]
