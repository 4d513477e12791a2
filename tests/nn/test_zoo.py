"""Every zoo encoder: the shared signature, lengths, causality, and that it learns."""
from __future__ import annotations

import warnings

import pytest
import torch

from lstmkit.errors import LstmkitError
from lstmkit.nn.attention import causal_mask
from lstmkit.nn.lstm import LSTM
from lstmkit.nn.zoo import (CNNLSTM, ENCODERS, LSTMFCN, TCN, LSTMAttention, TransformerEncoder, count_parameters,
                            find_lstm, make_encoder, tcn_blocks_for, tcn_reach)
from one_thread import one_thread  # noqa: F401  (autouse: one torch thread)

NAMES = list(ENCODERS)
ONE_WAY = [n for n in NAMES if not n.startswith("bi")]
# entries whose causality is a constructor option, checked both ways
WITH_OPTION = ["lstm-attention", "cnn-lstm", "lstm-fcn", "transformer"]
EXTRA_WIDTH = {"lstm-fcn": 128}    # the convolutional branch's channels beside the LSTM's
READS_AHEAD_IN_TRAINING = ["lstm-fcn"]   # BatchNorm's batch statistics span every step


def _encoder(name, causal=True, input_size=3, hidden=16, layers=2, seed=0):
    torch.manual_seed(seed)
    return make_encoder(name, input_size, hidden, layers, 0.0, causal=causal).double().eval()


def _x(b=4, t=10, i=3, seed=1):
    return torch.randn(b, t, i, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", NAMES)
def test_signature_and_attributes(name):
    enc = _encoder(name)
    out, _state = enc(_x())
    assert out.shape == (4, 10, enc.output_size)
    assert enc.bidirectional == name.startswith("bi")
    assert enc.output_size == 16 * (2 if enc.bidirectional else 1) + EXTRA_WIDTH.get(name, 0)
    assert enc.causal == (not enc.bidirectional and name not in READS_AHEAD_IN_TRAINING)


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("name", NAMES)
def test_lengths_match_each_sequence_alone(name, causal):
    enc = _encoder(name, causal=causal)
    x = _x()
    lengths = torch.tensor([10, 7, 3, 1])
    padded = x.clone()
    for b, n in enumerate(lengths):
        padded[b, n:] = 99.0                       # garbage that must never be read
    out, _ = enc(padded, lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        alone, _ = enc(x[b:b + 1, :n])
        torch.testing.assert_close(out[b, :n], alone[0], atol=1e-10, rtol=0)
        assert out[b, n:].abs().max().item() == 0 if n < 10 else True


@pytest.mark.parametrize("name", ONE_WAY)
def test_causal_encoders_do_not_look_ahead(name):
    enc = _encoder(name)
    x = _x()
    for t in (0, 4, 8):
        changed = x.clone()
        changed[:, t + 1:] = torch.randn_like(changed[:, t + 1:])
        torch.testing.assert_close(enc(changed)[0][:, :t + 1], enc(x)[0][:, :t + 1], atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_an_encoder_that_says_causal_reads_no_later_step_while_training(name):
    """What a language model trains on: outputs in training mode (dropout drawn alike) must not read
    later steps either. LSTM-FCN with causal convolutions said ``causal`` and did, through BatchNorm's
    batch statistics (a change of 1.1 at earlier steps for a batch of 4 x 16)."""
    torch.manual_seed(0)
    enc = make_encoder(name, 3, 16, 2, 0.3, causal=True).double().train()
    x = _x(t=16)
    changed = x.clone()
    changed[:, 8:] += torch.randn_like(changed[:, 8:])
    outs = []
    for seq in (x, changed):
        torch.manual_seed(5)
        outs.append(enc(seq)[0][:, :8])
    reads_ahead = (outs[0] - outs[1]).abs().max().item() > 0
    assert enc.causal == (not reads_ahead)
    assert reads_ahead == (name in READS_AHEAD_IN_TRAINING or name.startswith("bi"))


@pytest.mark.parametrize("name", WITH_OPTION + ["bilstm", "bigru"])
def test_non_causal_encoders_do_look_ahead(name):
    enc = _encoder(name, causal=False)
    assert not enc.causal
    x = _x()
    changed = x.clone()
    changed[:, 6:] += 1.0
    assert (enc(changed)[0][:, :6] - enc(x)[0][:, :6]).abs().max() > 1e-6


@pytest.mark.parametrize("name", NAMES)
def test_each_encoder_learns_a_small_task(name):
    """Predict the running mean of a noisy input from the last step; the loss must fall."""
    torch.manual_seed(0)
    enc = make_encoder(name, 1, 16, 2, 0.0)
    head = torch.nn.Linear(enc.output_size, 1)
    x = torch.randn(64, 12, 1, generator=torch.Generator().manual_seed(2))
    y = x.mean(dim=1)                                                # [64, 1]
    params = [*enc.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=1e-2)

    def loss():
        out, _ = enc(x)
        return torch.nn.functional.mse_loss(head(out[:, -1]), y)

    first = loss().item()
    for _ in range(40):
        opt.zero_grad()
        value = loss()
        value.backward()
        opt.step()
    assert loss().item() < 0.5 * first


def test_tcn_sees_its_context():
    tcn = TCN(1, 8, num_layers=1, context=64)
    assert tcn.receptive_field >= 64
    assert TCN(1, 8, num_layers=1, context=2).receptive_field == 5   # one block, kernel 3
    assert len(TCN(1, 8, num_layers=7, context=2).blocks) == 7        # num_layers is a minimum


@pytest.mark.parametrize("num_layers,kernel_size", [(1, 3), (6, 3), (2, 2)])
def test_tcn_reach_is_the_receptive_field_it_builds(num_layers, kernel_size):
    """``tcn_reach`` (what the forecaster's warning of a window longer than the reach counts) is the
    farthest step the last output reads: moving the step one further back changes nothing."""
    torch.manual_seed(0)
    tcn = TCN(1, 8, num_layers=num_layers, kernel_size=kernel_size).double().eval()
    reach = tcn_reach(num_layers, kernel_size)
    assert reach == tcn.receptive_field
    x = _x(b=4, t=reach + 1, i=1)
    moved = []
    for back in (reach - 1, reach):                       # the oldest step read, then one before it
        changed = x.clone()
        changed[:, -1 - back] += 3.0
        moved.append((tcn(changed)[0][:, -1] - tcn(x)[0][:, -1]).abs().max().item())
    assert moved[0] > 0 and moved[1] == 0
    assert tcn_reach(tcn_blocks_for(reach + 1, kernel_size), kernel_size) > reach
    assert tcn_blocks_for(reach, kernel_size) <= len(tcn.blocks)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(LstmkitError, match="transformer"):
        make_encoder("rnn", 1, 4, 1, 0.0)


def test_existing_positional_call_still_works():
    enc = make_encoder("lstm", 2, 8, 2, 0.2)
    assert isinstance(enc, LSTM) and enc.dropout == 0.2 and enc.output_size == 8


@pytest.mark.parametrize("name,has_lstm", [("lstm", True), ("cnn-lstm", True), ("lstm-attention", True),
                                           ("gru", False), ("tcn", False)])
def test_find_lstm(name, has_lstm):
    assert (find_lstm(make_encoder(name, 1, 4, 1, 0.0)) is not None) == has_lstm


def test_count_parameters_keras_biases():
    enc = make_encoder("bilstm", 3, 5, 2, 0.0)
    # two layers x two directions, each with a redundant 4H bias vector
    assert count_parameters(enc) - count_parameters(enc, keras_biases=True) == 2 * 2 * 4 * 5


@pytest.mark.parametrize("lengths,match", [
    ([5], r"Expected lengths of shape \[2\], got \[1\]"),       # a GRU answered one row of the two
    ([2.7, 5], "Expected integer lengths"),                      # a GRU read 2 steps of the first
    ([0, 5], r"Expected lengths in \[1, 5\], got min 0"),         # a transformer's row of no keys
    ([6, 5], r"Expected lengths in \[1, 5\], got min 5, max 6"),  # a TCN took it without a word
])
@pytest.mark.parametrize("name", NAMES)
def test_every_encoder_names_lengths_outside_the_shared_contract(name, lengths, match):
    with pytest.raises(ValueError, match=match):
        _encoder(name)(_x(b=2, t=5), lengths=torch.tensor(lengths))


@pytest.mark.filterwarnings("error::UserWarning")
def test_the_transformer_hides_only_torchs_nested_tensor_note(monkeypatch):
    """Building the transformer encoder ignored every UserWarning torch's ``TransformerEncoder`` gave;
    only its moot note on nested tensors (they are off) is hidden now, any other reaches the caller."""
    import warnings

    from lstmkit.nn.zoo import TransformerEncoder
    built = torch.nn.TransformerEncoder

    def noted(*args, note: str, **kwargs):
        warnings.warn(note, UserWarning)
        return built(*args, **kwargs)
    monkeypatch.setattr(torch.nn, "TransformerEncoder",
                        lambda *a, **k: noted(*a, note="enable_nested_tensor is True, but norm_first", **k))
    assert TransformerEncoder(3, 8).output_size == 8
    monkeypatch.setattr(torch.nn, "TransformerEncoder", lambda *a, **k: noted(*a, note="another note", **k))
    with pytest.raises(UserWarning, match="another note"):
        TransformerEncoder(3, 8)


def test_built_directly_the_zoo_models_take_their_documented_defaults():
    # CNNLSTM, LSTMAttention and TransformerEncoder are causal unless told otherwise: out[:, :t] never reads x[:, t:];
    # LSTMFCN (Karim et al. 2018): filters 128-256-128, kernels 8-5-3, "same" (non-causal) padding
    torch.manual_seed(0)
    cnn = CNNLSTM(2, 4).double().eval()
    x = _x(b=2, t=8, i=2)
    later = x.clone()
    later[:, 5:] += 1.0
    torch.testing.assert_close(cnn(later)[0][:, :5], cnn(x)[0][:, :5])
    assert cnn.causal and cnn.conv.conv.kernel_size == (3,)
    attention = LSTMAttention(2, 16).double().eval()
    torch.testing.assert_close(attention(later)[0][:, :5], attention(x)[0][:, :5])
    assert attention.causal
    transformer = TransformerEncoder(2, 16).double().eval()
    torch.testing.assert_close(transformer(later)[0][:, :5], transformer(x)[0][:, :5])
    assert transformer.causal
    fcn = LSTMFCN(2, 4)
    assert [(c.out_channels, c.kernel_size[0], c.causal) for c in fcn.convs] == [
        (128, 8, False), (256, 5, False), (128, 3, False)]
    assert fcn.output_size == 4 + 128


@pytest.mark.parametrize("num_layers", [1, 6])
def test_tcn_reach_with_its_defaults_is_the_zoos_tcn(num_layers):
    # the forecaster and the classifier call tcn_reach(num_layers) for the zoo's "tcn": kernel 3, 64 steps of context
    assert tcn_reach(num_layers) == make_encoder("tcn", 1, 8, num_layers, 0.0).receptive_field


@pytest.mark.parametrize("name", ["lstm-attention", "cnn-lstm", "transformer"])
def test_make_encoder_is_causal_unless_told_otherwise(name):
    # the forecaster builds its encoder without `causal`: make_encoder's documented default is True,
    # so out[:, :t] never reads x[:, t:]
    torch.manual_seed(0)
    enc = make_encoder(name, 3, 16, 1, 0.0).double().eval()
    assert enc.causal
    x = _x()
    later = x.clone()
    later[:, 6:] += 1.0
    torch.testing.assert_close(enc(later)[0][:, :6], enc(x)[0][:, :6], atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", ["lstm", "gru", "bilstm", "bigru", "lstm-attention", "cnn-lstm", "lstm-fcn"])
def test_recurrent_dropout_sits_between_stacked_layers_only(name):
    """A recurrent layer's dropout acts on its output before the next layer reads it, so one layer has
    nowhere to put it: the zoo passes 0 there (no 'has no effect' warning from torch's GRU or lstmkit's
    LSTM for the caller's dropout=0.3) and keeps it with two layers."""
    def recurrent(enc):
        return next(m for m in enc.modules() if isinstance(m, (LSTM, torch.nn.GRU)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = make_encoder(name, 3, 8, 1, 0.3)
    assert recurrent(one).dropout == 0.0
    assert recurrent(make_encoder(name, 3, 8, 2, 0.3)).dropout == 0.3


@pytest.mark.parametrize("kernel_size,table", [
    # R(L) = 1 + 2(k-1)(2^L - 1), two convolutions of dilation 2^b in block b: k=3 -> 5, 13, 29, 61, 125
    (3, [(1, 1), (5, 1), (6, 2), (13, 2), (14, 3), (29, 3), (30, 4), (61, 4), (62, 5), (64, 5), (125, 5)]),
    (2, [(1, 1), (3, 1), (4, 2), (7, 2), (8, 3)]),     # k=2 -> 3, 7, 15
])
def test_tcn_blocks_for_is_the_fewest_blocks_whose_receptive_field_covers_the_steps(kernel_size, table):
    assert [tcn_blocks_for(steps, kernel_size) for steps, _ in table] == [blocks for _, blocks in table]
    assert tcn_reach(1) == 125 and tcn_reach(6) == 1 + 2 * 2 * 63       # the zoo's tcn: 64 steps of context


def test_the_transformers_layers_are_pre_norm_with_a_feed_forward_of_four_times_the_width():
    # Vaswani et al. 2017: d_ff = 4 d_model (2048 for 512); the class docstring says so too
    enc = TransformerEncoder(3, 16, num_layers=2)
    for layer in enc.layers.layers:
        assert (layer.linear1.in_features, layer.linear1.out_features, layer.linear2.out_features) == (16, 64, 16)
        assert layer.norm_first


def test_each_layers_attention_weights_are_what_that_layer_attends_with():
    """``attention_weights`` follows each layer's input through the one before (residual, feed-forward);
    layer l's weights are softmax(QK^T/sqrt(d)) of the very queries that layer reads in the forward
    pass, caught here at its attention module."""
    torch.manual_seed(0)
    enc = TransformerEncoder(3, 8, num_layers=3, causal=True).double().eval()
    x = _x(b=2, t=6)
    seen = {}
    hooks = [layer.self_attn.register_forward_pre_hook(lambda m, args, k=k: seen.__setitem__(k, args[0].detach()))
             for k, layer in enumerate(enc.layers.layers)]
    enc.layers(enc.positions(enc.proj(x)), mask=causal_mask(6))      # torch's own pass, grad on: no fused path
    for hook in hooks:
        hook.remove()
    with torch.no_grad():
        got = enc.attention_weights(x)
    assert got.shape == (3, 2, enc.num_heads, 6, 6)
    for k, layer in enumerate(enc.layers.layers):
        q = seen[k]
        want = layer.self_attn(q, q, q, attn_mask=causal_mask(6), need_weights=True, average_attn_weights=False)[1]
        torch.testing.assert_close(got[k], want, atol=1e-10, rtol=0)
