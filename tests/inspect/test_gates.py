"""Gate recording and statistics, checked against a hand computation on a tiny LSTM."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import lstmkit.inspect
from lstmkit.errors import LstmkitError
from lstmkit.inspect.gates import gate_statistics, gates, most_active_units, plot_gates
from lstmkit.nn.lstm import LSTM
from lstmkit.tasks.forecast.model import ForecastNet
from plot_checks import overlapping_labels
from one_thread import one_thread  # noqa: F401  (autouse: one torch thread)


def _sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def _tiny():
    """LSTM(1 input, 1 unit) with hand-picked weights, float64."""
    lstm = LSTM(1, 1).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.tensor([[2.0], [-1.0], [1.5], [0.5]], dtype=torch.float64))   # i, f, g, o
        lstm.weight_hh_l0.copy_(torch.tensor([[0.5], [1.0], [-0.5], [2.0]], dtype=torch.float64))
        lstm.bias_ih_l0.copy_(torch.tensor([0.1, 3.0, 0.0, -0.2], dtype=torch.float64))
        lstm.bias_hh_l0.zero_()
    return lstm


def _by_hand(xs):
    """The gate equations written out for the tiny LSTM: lists of i, f, g, o, c per step."""
    h = c = 0.0
    out = {k: [] for k in "ifgoc"}
    for x in xs:
        i = _sig(2.0 * x + 0.5 * h + 0.1)
        f = _sig(-1.0 * x + 1.0 * h + 3.0)
        g = math.tanh(1.5 * x - 0.5 * h)
        o = _sig(0.5 * x + 2.0 * h - 0.2)
        c = f * c + i * g
        h = o * math.tanh(c)
        for k, v in zip("ifgoc", (i, f, g, o, c)):
            out[k].append(v)
    return out


def test_gates_and_statistics_match_a_hand_computation():
    xs = [0.5, -1.0, 2.0, 3.0]
    result = gates(_tiny(), torch.tensor(xs, dtype=torch.float64)[:, None])   # [T, F] -> batch of 1
    hand = _by_hand(xs)
    for k in "ifgoc":
        np.testing.assert_allclose(result["gates"][k][0, 0, :, 0].numpy(), hand[k], atol=1e-12)
    stats = result["stats"]["l0"]
    for k in "ifgo":
        v = np.array(hand[k])
        assert stats[k]["mean"] == pytest.approx(v.mean(), abs=1e-12)
        assert stats[k]["std"] == pytest.approx(v.std(), abs=1e-12)
        assert stats[k]["frac_above_0.9"] == pytest.approx((v > 0.9).mean())
        assert stats[k]["frac_below_0.1"] == pytest.approx((v < 0.1).mean())
    # known values: f = 0.924, 0.986, 0.758, 0.653 (bias 3 keeps it open until x grows);
    # i = 0.750, 0.144, 0.985, 0.998
    assert stats["f"]["frac_above_0.9"] == pytest.approx(0.5)
    assert stats["i"]["frac_above_0.9"] == pytest.approx(0.5)
    assert stats["i"]["frac_below_0.1"] == 0.0
    assert stats["g"]["frac_abs_above_0.9"] == pytest.approx((np.abs(hand["g"]) > 0.9).mean())
    assert stats["g"]["frac_abs_below_0.1"] == pytest.approx((np.abs(hand["g"]) < 0.1).mean())
    assert stats["c"]["abs_max"] == pytest.approx(np.abs(hand["c"]).max(), abs=1e-12)
    assert result["layers"] == 1 and result["directions"] == 1 and result["hidden_size"] == 1


def test_statistics_skip_padding_and_name_layers_and_directions():
    torch.manual_seed(0)
    lstm = LSTM(2, 3, num_layers=2, bidirectional=True).double()
    x = torch.randn(2, 5, 2, dtype=torch.float64)
    result = gates(lstm, x, lengths=torch.tensor([5, 2]))
    assert set(result["stats"]) == {"l0", "l0_reverse", "l1", "l1_reverse"}
    f = result["gates"]["f"][3]                                                 # layer 1, reverse
    valid = torch.cat([f[0, :5], f[1, :2]])                                     # [7, H]
    assert result["stats"]["l1_reverse"]["f"]["mean"] == pytest.approx(valid.mean().item(), abs=1e-12)
    by_hand = gate_statistics(result["gates"], 2, 2, result["valid"])
    assert by_hand == result["stats"]


def test_forecastnet_gates_see_the_relative_input():
    torch.manual_seed(0)
    net = ForecastNet(1, 1, horizon=2, hidden_size=4, num_layers=1, dropout=0.0).double()
    x = torch.rand(3, 8, 1, dtype=torch.float64) + 5.0
    result = gates(net, x)
    _, _, expected = net.encoder(x - x[:, -1:], record_gates=True)             # what the encoder sees
    for k in "ifgoc":
        torch.testing.assert_close(result["gates"][k], expected[k])


def test_cnn_lstm_and_estimator_like_objects():
    from lstmkit.nn.zoo import make_encoder
    torch.manual_seed(0)
    enc = make_encoder("cnn-lstm", 1, 4, 1, 0.0).double()
    x = torch.randn(2, 6, 1, dtype=torch.float64)
    est = type("Fitted", (), {"net_": enc})()
    result = lstmkit.inspect.gates(est, x)
    _, _, expected = enc.lstm(enc.conv(x), record_gates=True)
    torch.testing.assert_close(result["gates"]["c"], expected["c"])


def test_models_without_lstm_are_a_clear_error():
    from lstmkit.nn.zoo import make_encoder
    with pytest.raises(LstmkitError, match="no LSTM or GRU layer"):
        gates(make_encoder("tcn", 1, 4, 1, 0.0), torch.zeros(1, 3, 1))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_gru_gates_follow_the_equations_and_give_torchs_outputs(bidirectional):
    """A GRU's r, z, n, h recorded by its equations on its own weights: the hidden states are torch's
    (lengths packed, the reverse direction from each sequence's end), and each h is
    (1 - z) * n + z * h_prev; padded steps record zeros."""
    from lstmkit.nn.gru_gates import gru_gates
    from lstmkit.nn.zoo import GRU
    torch.manual_seed(0)
    gru = GRU(3, 5, num_layers=2, bidirectional=bidirectional).eval()
    x, lengths = torch.randn(3, 6, 3), torch.tensor([6, 2, 4])
    with torch.no_grad():
        expected, h_n = gru(x, lengths=lengths)
        out, h_last, g = gru_gates(gru, x, lengths=lengths)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(h_last, h_n)
    D = 2 if bidirectional else 1
    assert set(g) == {"r", "z", "n", "h"} and g["h"].shape == (2 * D, 3, 6, 5)
    fwd = g["h"][0]                                                   # layer 0, forward: [B, T, H]
    prev = torch.cat([torch.zeros(3, 1, 5), fwd[:, :-1]], 1)
    torch.testing.assert_close(fwd[0], ((1 - g["z"][0]) * g["n"][0] + g["z"][0] * prev)[0])
    assert (g["r"][:, 1, 2:] == 0).all() and (g["h"][:, 1, 2:] == 0).all()


def test_a_time_major_grus_gates_and_outputs_are_torchs_in_its_layout():
    """A torch.nn.GRU with batch_first=False (a user's own module) reads x [T, B, I] and answers its
    outputs [T, B, D*H] as the module does, from a given initial state; the gates stay [L*D, B, T, H]."""
    from lstmkit.nn.gru_gates import gru_gates
    torch.manual_seed(0)
    gru = torch.nn.GRU(3, 4, num_layers=2, bidirectional=True).eval()     # batch_first=False
    x, h0 = torch.randn(5, 2, 3), torch.randn(4, 2, 4)                    # T=5, B=2
    with torch.no_grad():
        expected, h_n = gru(x, h0)
        out, h_last, g = gru_gates(gru, x, h0)
    assert out.shape == (5, 2, 8)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(h_last, h_n)
    assert g["h"].shape == (4, 2, 5, 4)
    torch.testing.assert_close(g["h"][2].transpose(0, 1), expected[..., :4])   # layer 1, forward


def test_a_gru_models_gates_are_recorded_summarised_and_drawn(tmp_path):
    """A GRU (the zoo's gru, bigru) was refused ('has no LSTM layer'); its r, z, n are heatmaps,
    h the state's trajectories, and the statistics read n as the tanh candidate."""
    from lstmkit.nn.zoo import make_encoder
    torch.manual_seed(0)
    enc = make_encoder("bigru", 2, 4, 1, 0.0).eval()
    result = gates(enc, torch.randn(2, 5, 2), lengths=torch.tensor([5, 3]))
    assert result["cell"] == "gru" and set(result["gates"]) == {"r", "z", "n", "h"}
    assert set(result["stats"]) == {"l0", "l0_reverse"}
    stats = result["stats"]["l0"]
    assert "frac_abs_above_0.9" in stats["n"] and "abs_max" in stats["h"] and "frac_above_0.9" in stats["z"]
    assert int(result["valid"].sum()) == 8
    assert gates(LSTM(2, 3), torch.randn(4, 2))["cell"] == "lstm"
    plot_gates(result, tmp_path / "gates.png", top=2)
    assert (tmp_path / "gates.png").stat().st_size > 10_000


def test_most_active_units_and_plot(tmp_path):
    c = torch.zeros(10, 3)
    c[:, 2] = torch.linspace(-1, 1, 10)
    c[:, 0] = torch.linspace(0, 0.5, 10)
    assert most_active_units(c, 2) == [2, 0]
    torch.manual_seed(0)
    result = gates(LSTM(1, 6, num_layers=2), torch.randn(2, 7, 1), lengths=torch.tensor([7, 4]))
    plot_gates(result, tmp_path / "plots" / "gates.png", top=3)
    assert (tmp_path / "plots" / "gates.png").stat().st_size > 10_000


def _top_hidden(result, layers: int, directions: int):
    """The top layer's hidden states from the recorded gates, ``h = o * tanh(c)``, directions
    concatenated: ``[B, T, D*H]``, what the fused LSTM outputs."""
    g = result["gates"]
    top = range((layers - 1) * directions, layers * directions)
    return torch.cat([g["o"][k] * torch.tanh(g["c"][k]) for k in top], -1)


def test_an_encoder_decoders_gates_are_its_encoders_over_the_source():
    """Translation: the encoder's gates over token ids; their hidden states equal the fused
    encoder's outputs at every valid step (padding excluded from the statistics)."""
    from lstmkit.nn.seq2seq import Seq2Seq
    torch.manual_seed(0)
    net = Seq2Seq(20, 20, embed_dim=6, hidden_size=5, num_layers=2, encoder="bilstm", dropout=0.0).double().eval()
    src, src_len = torch.randint(4, 20, (2, 7)), torch.tensor([7, 4])
    result = gates(net, src, src_len)
    with torch.no_grad():
        out, _ = net.encoder(net.src_embed(src), None, src_len)                    # [B, S, 2H], the fused path
    h = _top_hidden(result, 2, 2)
    torch.testing.assert_close(h[0], out[0])
    torch.testing.assert_close(h[1, :4], out[1, :4])
    assert result["valid"].sum().item() == 11 and set(result["stats"]) == {"l0", "l0_reverse", "l1", "l1_reverse"}


def test_decoder_gates_follow_the_decoder_step_by_step():
    """The decoder runs a step at a time; its recorded gates rebuild the hidden states each step
    produced (captured from the model's own decoding), for an output written after <bos>."""
    from lstmkit.inspect.gates import decoder_gates
    from lstmkit.nn.seq2seq import BOS_ID, Seq2Seq
    torch.manual_seed(1)
    net = Seq2Seq(20, 20, embed_dim=6, hidden_size=5, num_layers=2, encoder="lstm", attention="general",
                  dropout=0.0).double().eval()
    src, output = torch.randint(4, 20, (6,)), [5, 9, 11, 3]
    result = decoder_gates(net, src, output)
    tops = []
    with torch.no_grad():
        memory, state = net.encode(src[None], torch.tensor([6]))
        for y in [BOS_ID, *output[:-1]]:
            _, state, _ = net.step(torch.tensor([y]), state, memory)
            tops.append(state[0][-1])                                              # top layer's h [1, H]
    torch.testing.assert_close(_top_hidden(result, 2, 1)[0], torch.cat(tops))
    assert result["gates"]["i"].shape == (2, 1, 4, 5)
    with pytest.raises(LstmkitError, match="encoder-decoder"):
        decoder_gates(LSTM(2, 3), torch.zeros(3, 2), [4])
    with pytest.raises(LstmkitError, match="output is empty"):
        decoder_gates(net, src, [])


@pytest.mark.parametrize("mode", ["ctc", "seq2seq"])
def test_speech_gates_read_the_frames_after_subsampling(mode):
    """Speech: the acoustic model's recurrent layer over a clip's features, after the
    convolutions halve the frame rate; the hidden states equal the fused encoder's."""
    from lstmkit.tasks.speech.model import AcousticModel, SpeechSeq2Seq
    torch.manual_seed(2)
    net = (AcousticModel(8, 6, subsample=1, channels=4, hidden_size=3, num_layers=1, dropout=0.0) if mode == "ctc"
           else SpeechSeq2Seq(8, 9, subsample=1, channels=4, embed_dim=4, hidden_size=3, num_layers=1,
                              dropout=0.0)).double().eval()
    feats = torch.randn(21, 8, dtype=torch.float64)
    result = gates(net, feats, torch.tensor([21]))
    with torch.no_grad():
        h, lengths = net.subsample(feats[None], torch.tensor([21]))
        out, _ = net.encoder(h if mode == "ctc" else net.src_embed(h), None, lengths)
    assert result["gates"]["i"].shape[2] == int(lengths) == 10
    torch.testing.assert_close(_top_hidden(result, 1, 2), out)


def test_an_encoder_without_an_lstm_is_named():
    """An encoder-decoder whose encoder is a GRU records the GRU's gates over the source; one with
    neither LSTM nor GRU is named."""
    from lstmkit.nn.seq2seq import Seq2Seq
    net = Seq2Seq(10, 10, embed_dim=4, hidden_size=4, num_layers=1, encoder="gru", dropout=0.0)
    assert gates(net, torch.tensor([4, 5, 6]))["gates"]["z"].shape == (1, 1, 3, 4)
    net = Seq2Seq(10, 10, embed_dim=4, hidden_size=4, num_layers=1, encoder="tcn", dropout=0.0)
    with pytest.raises(LstmkitError, match=r"the encoder \(Seq2Seq\) has no LSTM or GRU layer"):
        gates(net, torch.tensor([4, 5, 6]))


def test_the_cell_state_panel_names_as_many_units_as_it_draws(tmp_path, monkeypatch):
    """A 3-unit layer's panel said '5 most active units' (the --top asked for), drawing 3."""
    import lstmkit.inspect.plots as plots
    from lstmkit.inspect.gates import plot_gates
    named = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **_: named.extend(
        (ax.get_title(), ax.get_legend().get_title().get_text()) for ax in fig.axes if ax.get_legend()))
    torch.manual_seed(0)
    result = gates(LSTM(2, 3), torch.randn(6, 2))
    plot_gates(result, tmp_path / "g.png", top=5)
    plot_gates(result, tmp_path / "g.png", top=2)
    assert named == [("layer 0: c", "all 3 units"), ("layer 0: c", "2 most active units")]


def test_the_cell_state_panels_title_fits_over_its_panel(tmp_path, monkeypatch):
    """A bilstm's 'layer 0 (reverse): cell state c, 5 most active units' ran past its panel on both sides,
    over the colour bar of the panel beside it."""
    figures = _drawn(monkeypatch)
    torch.manual_seed(0)
    plot_gates(gates(LSTM(2, 8, bidirectional=True), torch.randn(10, 2)), tmp_path / "g.png", top=5)
    fig = figures[0]
    renderer = fig.canvas.get_renderer()
    panels = [ax for ax in fig.axes if ax.get_ylabel() == "cell state c"]
    assert [ax.get_title() for ax in panels] == ["layer 0: c", "layer 0 (reverse): c"]
    for ax in panels:
        title, box = ax.title.get_window_extent(renderer), ax.get_window_extent(renderer)
        assert box.x0 <= title.x0 and title.x1 <= box.x1, ax.get_title()


def test_a_thread_calling_the_model_while_another_records_its_gates_runs_on_and_is_not_recorded():
    """gates() captures the LSTM's input with a hook on the shared module: another thread's call
    meanwhile (a predict) ended in its private _Captured exception, and its input could be the one
    recorded. Both threads are held inside the model at once here."""
    import threading

    from lstmkit.nn.zoo import make_encoder
    torch.manual_seed(0)
    enc = make_encoder("lstm-attention", 3, 8, 1, 0.0).eval()
    lstm = next(m for m in enc.modules() if isinstance(m, LSTM))
    mine, theirs = torch.randn(1, 5, 3), torch.randn(2, 7, 3)
    alone = gates(enc, mine)["gates"]
    want = enc(theirs)[0]
    both_in, arrived = threading.Barrier(2, timeout=30), set()

    def meet(_module, _args, _kwargs):                  # runs before gates()' hook: each thread's first call waits
        if threading.get_ident() not in arrived:
            arrived.add(threading.get_ident())
            both_in.wait()

    handle = lstm.register_forward_pre_hook(meet, with_kwargs=True)
    got: dict[str, object] = {}

    def run(name, call):
        try:
            got[name] = call()
        except BaseException as e:        # noqa: BLE001  (the assertion below names it)
            got[name] = e

    threads = [threading.Thread(target=run, args=("gates", lambda: gates(enc, mine)["gates"])),
               threading.Thread(target=run, args=("call", lambda: enc(theirs)[0]))]
    try:
        [t.start() for t in threads]
        [t.join(60) for t in threads]
    finally:
        handle.remove()
    assert torch.is_tensor(got["call"]) and torch.allclose(got["call"], want), got["call"]
    assert all(torch.equal(got["gates"][k], alone[k]) for k in alone), got["gates"]


def _drawn(monkeypatch):
    import lstmkit.inspect.plots as plots
    figures = []
    save = plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: (save(fig, path, **kw), figures.append(fig)))
    return figures


def test_a_one_step_inputs_gates_are_drawn_on_whole_numbered_axes_and_its_cell_states_as_dots(tmp_path, monkeypatch):
    """A 1-token text: the cell-state panel's lines of one point each were drawn as nothing (only the
    legend), its units picked as the first ones (every std 0), and a 1-unit layer's axes read
    -0.4, -0.2, 0.0, 0.2, 0.4 for unit 0 and step 0."""
    figures = _drawn(monkeypatch)
    torch.manual_seed(0)
    lstm = LSTM(2, 4)
    with torch.no_grad():
        lstm.bias_ih_l0[8:12] = torch.tensor([0.0, 0.0, 3.0, -3.0])      # g: units 2 and 3 hold the largest |c|
    plot_gates(gates(lstm, torch.zeros(1, 2)), tmp_path / "g.png", top=2)
    cell = next(ax for ax in figures[0].axes if ax.get_ylabel() == "cell state c")
    assert [line.get_marker() for line in cell.get_lines()] == ["o", "o"]
    assert sorted(line.get_label() for line in cell.get_lines()) == ["unit 2", "unit 3"]
    plot_gates(gates(LSTM(2, 1), torch.randn(1, 2)), tmp_path / "g.png")
    heat = figures[1].axes[0]
    for ticks, limits in ((heat.get_yticks(), heat.get_ylim()), (heat.get_xticks(), heat.get_xlim())):
        assert [t for t in ticks if min(limits) <= t <= max(limits)] == [0]


def test_the_title_of_a_three_layer_bidirectional_plot_is_above_the_first_rows_titles(tmp_path, monkeypatch):
    """tight_layout put the suptitle over the first row's titles once there were six rows."""
    figures = _drawn(monkeypatch)
    torch.manual_seed(0)
    plot_gates(gates(LSTM(2, 6, num_layers=3, bidirectional=True), torch.randn(50, 2)), tmp_path / "g.png",
               title="lstm: gates for the window starting at row 0")
    fig = figures[0]
    renderer = fig.canvas.get_renderer()
    top_titles = max(ax.title.get_window_extent(renderer).y1 for ax in fig.axes if ax.get_title())
    assert fig.get_suptitle() and fig._suptitle.get_window_extent(renderer).y0 >= top_titles


def test_the_steps_of_a_long_window_are_named_every_kth(tmp_path, monkeypatch):
    """Past 40 steps the names were dropped: a 50-hour window's axes read 0 … 40 under 'time'."""
    from lstmkit.inspect.attention import plot_attention
    from lstmkit.inspect.gates import plot_gates
    figures = _drawn(monkeypatch)
    torch.manual_seed(0)
    names = [f"2024-01-01 {h:02d}:00" if h < 24 else f"2024-01-02 {h - 24:02d}:00" for h in range(48)] + ["a", "b"]
    plot_gates(gates(LSTM(2, 3), torch.randn(50, 2)), tmp_path / "g.png", steps=names, axis="time")
    plot_attention(torch.softmax(torch.randn(1, 1, 50, 50), -1), tmp_path / "a.png", steps=names, axis="time")
    heat, attention = figures[0].axes[0], figures[1].axes[0]
    for labels, ticks in ((heat.get_xticklabels(), heat.get_xticks()), (attention.get_xticklabels(),
                          attention.get_xticks()), (attention.get_yticklabels(), attention.get_yticks())):
        k = int(ticks[1] - ticks[0])
        assert k > 1 and [t.get_text() for t in labels] == names[::k] and list(ticks) == list(range(0, 50, k))
    assert heat.get_xlabel() == "time"


def test_the_named_steps_of_a_heatmap_are_as_many_as_its_axis_has_room_for(tmp_path, monkeypatch):
    """36 monthly dates under a gate heatmap 2.3 inches wide were all named, drawn over one another: a
    grey block in which no date could be read (and 40 tokens down an attention map's side likewise);
    the colour bars beside the heatmaps said nothing of what their colours were."""
    import pandas as pd
    from lstmkit.inspect.attention import plot_attention
    figures = _drawn(monkeypatch)
    torch.manual_seed(0)
    months = list(pd.date_range("1958-01-01", periods=36, freq="MS").strftime("%Y-%m-%d"))
    plot_gates(gates(LSTM(2, 16), torch.randn(36, 2)), tmp_path / "g.png", steps=months, axis="time")
    words = [f"word{k}" for k in range(40)]
    plot_attention(torch.softmax(torch.randn(1, 2, 40, 40), -1), tmp_path / "a.png", steps=words, axis="token")
    gate_fig, attention_fig = figures
    renderer = gate_fig.canvas.get_renderer()
    heat = gate_fig.axes[0]
    shown = [t.get_text() for t in heat.get_xticklabels()]
    assert 4 <= len(shown) < 36 and shown == months[::int(heat.get_xticks()[1])]
    assert overlapping_labels(heat.get_xticklabels(), renderer, "x") == []
    bars = [ax.get_ylabel() for ax in gate_fig.axes if not ax.get_title()]      # each heatmap's colour bar says what it shows
    assert bars == ["gate (sigmoid, 0 to 1)", "gate (sigmoid, 0 to 1)", "candidate (tanh, -1 to 1)", "gate (sigmoid, 0 to 1)"]
    att = attention_fig.axes[0]
    renderer = attention_fig.canvas.get_renderer()
    assert 4 <= len(att.get_yticklabels()) < 40
    assert overlapping_labels(att.get_yticklabels(), renderer, "y") == []
    assert overlapping_labels(att.get_xticklabels(), renderer, "x") == []


def test_a_text_models_ids_outside_its_vocabulary_or_not_ids_are_one_error():
    """gates(model, ids) of a text model took any numbers to its embedding: an id past the vocabulary
    was torch's 'index out of range in self', floats and no ids its 'Expected tensor for argument #1
    'indices''; attention reads them through the same batch."""
    from lstmkit.nn.seq2seq import Seq2Seq
    torch.manual_seed(0)
    net = Seq2Seq(20, 30, embed_dim=6, hidden_size=5, num_layers=1, encoder="lstm", dropout=0.0).eval()
    est = type("Fitted", (), {"net_": net, "kind": "text", "token_inputs": lambda self, text: ([], [])})()
    assert set(gates(est, [4, 19, 7])["stats"]) == {"l0"}
    for ids, said in (([4, 20], "token id 20, outside the model's vocabulary of 20 ids \\(0 to 19\\)"),
                      ([-1, 4], "token id -1, outside the model.s vocabulary of 20 ids \\(0 to 19\\)"), ([], "no token ids"),
                      (np.array([4.0, 5.0]), "float64 values, where the model reads token ids \\(integers\\)")):
        with pytest.raises(LstmkitError, match=f"`x` holds {said} — pass one text as a string"):
            gates(est, ids)


def test_the_cell_state_key_sits_beside_the_lines_not_over_their_ends(tmp_path, monkeypatch):
    """The key, placed inside at matplotlib's 'best', covered the ends of the most active units' lines."""
    figures = _drawn(monkeypatch)
    torch.manual_seed(0)
    plot_gates(gates(LSTM(2, 6), torch.randn(12, 2)), tmp_path / "g.png", top=5)
    fig = figures[0]
    renderer = fig.canvas.get_renderer()
    cell = next(ax for ax in fig.axes if ax.get_ylabel() == "cell state c")
    key = cell.get_legend().get_window_extent(renderer)
    assert key.x0 >= cell.get_window_extent(renderer).x1
    assert [t.get_text() for t in cell.get_legend().get_texts()] == [line.get_label() for line in cell.get_lines()]
