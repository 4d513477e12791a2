"""inspect.attention: the attention weights recorded for an input, one thread's call apart from another's;
every zoo encoder's gates and attention, or their refusal."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from lstmkit.inspect.attention import attention
from lstmkit.nn.attention import SelfAttention
from lstmkit.nn.zoo import ENCODERS, make_encoder


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


def test_a_transformers_attention_is_each_layers_softmax_and_each_sequence_alone_gets_its_own():
    """inspect.attention said a transformer 'has no self-attention layer'; it returns a layer's
    weights now: layer 0 is softmax(QK^T / sqrt(d)) over the causal steps, computed here by hand,
    and with lengths a padded sequence's block is what it gets alone, its padded rows zero."""
    import math

    from lstmkit.errors import LstmkitError
    torch.manual_seed(0)
    enc = make_encoder("transformer", 3, 8, num_layers=2, dropout=0.1).eval()
    x = torch.randn(2, 6, 3)
    w0 = attention(enc, x, layer=0)
    mha = enc.layers.layers[0].self_attn
    with torch.no_grad():
        h = enc.layers.layers[0].norm1(enc.positions(enc.proj(x)))
        q, k, _ = torch.nn.functional.linear(h, mha.in_proj_weight, mha.in_proj_bias).chunk(3, -1)
        q, k = (t.unflatten(-1, (mha.num_heads, -1)).transpose(1, 2) for t in (q, k))
        scores = (q @ k.transpose(-2, -1) / math.sqrt(mha.head_dim)).masked_fill(
            torch.ones(6, 6, dtype=torch.bool).triu(1), float("-inf"))
    torch.testing.assert_close(w0, scores.softmax(-1), atol=1e-6, rtol=1e-5)
    last = attention(enc, x)
    assert last.shape == (2, mha.num_heads, 6, 6) and torch.equal(last, attention(enc, x, layer=1))
    torch.testing.assert_close(last.sum(-1), torch.ones(2, mha.num_heads, 6))
    assert not last.triu(1).any()                                # causal: no step reads a later one
    padded = attention(enc, x, lengths=torch.tensor([6, 4]))
    torch.testing.assert_close(padded[1, :, :4, :4], attention(enc, x[1:, :4])[0], atol=1e-6, rtol=1e-5)
    assert not padded[1, :, 4:].any() and not padded[1, :, :, 4:].any()
    with pytest.raises(LstmkitError, match=r"`layer` must be .*0\.\.1.*got 2"):
        attention(enc, x, layer=2)


@pytest.mark.parametrize("name", list(ENCODERS))
def test_every_zoo_encoder_shows_its_gates_and_attention_or_is_refused_naming_why(name):
    """The zoo × inspect matrix: gates where the encoder has an LSTM or a GRU, attention where it has
    self-attention (lstm-attention, transformer: rows summing to 1); else one LstmkitError each."""
    from lstmkit.errors import LstmkitError
    from lstmkit.inspect.gates import gates
    from lstmkit.nn.gru_gates import find_gru
    from lstmkit.nn.zoo import find_lstm
    torch.manual_seed(0)
    enc = make_encoder(name, 3, 8, num_layers=2, dropout=0.0).eval()
    x = torch.randn(2, 7, 3)
    if find_lstm(enc) is not None or find_gru(enc) is not None:
        recorded = gates(enc, x)
        assert recorded["gates"]["f" if find_lstm(enc) is not None else "z"].shape[1:3] == (2, 7)
    else:
        with pytest.raises(LstmkitError, match="has no LSTM or GRU layer, so there are no gates"):
            gates(enc, x)
    if name in ("lstm-attention", "transformer"):
        w = attention(enc, x)
        assert w.shape[::2] == (2, 7) and w.shape[3] == 7
        torch.testing.assert_close(w.sum(-1), torch.ones(w.shape[:-1]))
    else:
        with pytest.raises(LstmkitError, match="has no self-attention layer"):
            attention(enc, x)


@pytest.mark.parametrize("encoder", ["lstm-attention", "transformer"])
def test_an_encoder_decoders_attention_is_its_encoders_over_the_source(encoder):
    """A translator's lstm-attention or transformer encoder: attention(model, src ids) was a TypeError
    (Seq2Seq.forward wants the target too); it encodes the source alone, as the gates do, and equals
    the encoder's own attention over the embedded source."""
    from lstmkit.nn.seq2seq import Seq2Seq
    torch.manual_seed(0)
    net = Seq2Seq(20, 20, embed_dim=8, hidden_size=8, num_layers=1, encoder=encoder, dropout=0.0).eval()
    src = torch.tensor([4, 7, 9, 3, 5])
    got = attention(net, src)
    with torch.no_grad():
        want = attention(net.encoder, net.src_embed(src[None]), lengths=torch.tensor([5]))
    assert got.shape[::2] == (1, 5) and torch.equal(got, want)


def test_many_heads_are_laid_out_in_rows_each_colour_bar_naming_attention_weights(tmp_path, monkeypatch):
    """8 heads were drawn side by side, a picture 37 inches wide whose maps were slivers on a screen, and
    no colour bar said what its colours were."""
    import lstmkit.inspect.plots as plots
    from lstmkit.inspect.attention import HEADS_A_ROW, plot_attention
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **_: seen.append(fig))
    plot_attention(torch.softmax(torch.randn(1, 8, 5, 5), -1), tmp_path / "attention.png")
    fig = seen[0]
    maps = [ax for ax in fig.axes if ax.get_images() and ax.get_title().startswith("head")]
    bars = [ax for ax in fig.axes if ax not in maps and ax.get_visible() and ax.axison]
    assert [ax.get_title() for ax in maps] == [f"head {h}" for h in range(8)]
    assert fig.get_figwidth() <= 4.6 * HEADS_A_ROW + 1 and len({ax.get_position().y0 for ax in maps}) == 2
    assert len(bars) == 8 and all(ax.get_ylabel().startswith("attention weight (rows sum to 1)\nbrightest: the "
                                                             "largest here, ") for ax in bars)


def test_each_heads_colours_run_from_0_to_its_largest_weight(tmp_path, monkeypatch):
    """matplotlib's own scale, least to largest, drew three equal weights of 0.3331-0.3335 (an untrained
    model's) as far apart as black and white: uniform attention looked sharply placed."""
    import lstmkit.inspect.plots as plots
    from lstmkit.inspect.attention import plot_attention
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **_: seen.append(fig))
    near_uniform = torch.tensor([[0.3331, 0.3334, 0.3335], [0.3333, 0.3332, 0.3335], [0.3334, 0.3331, 0.3335]])
    # the second head sharp and not causal (a causal one is coloured row by row)
    plot_attention(torch.stack([near_uniform, torch.eye(3).flip(0)])[None], tmp_path / "attention.png")
    maps = [ax for ax in seen[0].axes if ax.get_title().startswith("head")]
    assert [ax.images[0].get_clim() for ax in maps] == [(0.0, pytest.approx(0.3335)), (0.0, 1.0)]
    assert [ax.images[0].colorbar.ax.get_ylabel().split("\n")[1] for ax in maps] == [
        "brightest: the largest here, 0.33", "brightest: the largest here, 1"]


def test_a_causal_heads_rows_are_each_coloured_from_0_to_their_own_largest(tmp_path, monkeypatch):
    """A causal map's first row, one key of weight 1, set the scale of every row: the rows of a 36-step
    window, weights near 1/36, were all drawn black, where each query looked unseen."""
    import lstmkit.inspect.plots as plots
    from lstmkit.inspect.attention import plot_attention
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **_: seen.append(fig))
    w = torch.tril(torch.rand(12, 12) + 0.5)
    w = w / w.sum(-1, keepdim=True)                              # rows sum to 1 over steps 0..t
    plot_attention(w[None, None], tmp_path / "attention.png")
    image = next(ax for ax in seen[0].axes if ax.get_title() == "head 0").images[0]
    drawn = np.asarray(image.get_array())
    assert image.get_clim() == (0.0, 1.0)
    assert drawn == pytest.approx((w / w.max(-1, keepdim=True).values).numpy(), abs=1e-6)
    assert drawn[1:].max(axis=1) == pytest.approx(1.0)           # every row reaches the top of the scale
    assert image.colorbar.ax.get_ylabel().startswith("attention weight ÷ its row's largest\n(causal")
