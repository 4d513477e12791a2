"""torch's dynamic int8 for lstmkit nets, checked in memory (no run folder, no export): the stored
integers rebuild the very net that was quantized, its answers stay near the float net's, and a net
the quantizer cannot cover is refused."""
import pytest
import torch
from torch import nn

from lstmkit.deploy.int8_torch import (TorchRNN, _restore_tensor, load_quantized, quantize_torch,
                                       quantized_tensors)
from lstmkit.errors import LstmkitError
from lstmkit.nn.zoo import make_encoder


class _Net(nn.Module):
    """An encoder, a float layer the quantizer leaves alone (LayerNorm) and a Linear head."""

    def __init__(self, encoder, seed):
        super().__init__()
        torch.manual_seed(seed)
        self.encoder = make_encoder(encoder, input_size=3, hidden_size=8, num_layers=2, dropout=0.0)
        self.norm = nn.LayerNorm(self.encoder.output_size)
        with torch.no_grad():                        # not the default ones, so a skipped copy shows
            self.norm.weight.uniform_(0.5, 1.5)
            self.norm.bias.uniform_(-0.5, 0.5)
        self.head = nn.Linear(self.encoder.output_size, 2)

    def forward(self, x):
        out, _ = self.encoder(x)
        return self.head(self.norm(out[:, -1]))


X = torch.randn(5, 7, 3, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("encoder", ["lstm", "gru", "bilstm"])
def test_the_stored_integers_rebuild_the_quantized_net_exactly(encoder):
    float_net = _Net(encoder, seed=0).eval()
    q = quantize_torch(float_net)
    assert isinstance(q.encoder, TorchRNN)
    tensors = quantized_tensors(q)
    assert not any(t.is_quantized for t in tensors.values())         # plain tensors for safetensors
    weights = [k for k in tensors if k + ".__scale" in tensors]
    assert any(k.startswith("encoder.") for k in weights) and "head.weight" in weights
    assert all(tensors[k].dtype == torch.int8 for k in weights)
    assert torch.equal(tensors["norm.weight"], float_net.norm.weight.detach())    # the float layer as it was
    rebuilt = load_quantized(_Net(encoder, seed=1).eval(), tensors)   # other weights in the skeleton
    with torch.inference_mode():
        want, got, exact = q(X), rebuilt(X), float_net(X)
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    scale = exact.abs().max().item()
    assert (got - exact).abs().max().item() < 0.05 * scale            # int8 error: a few per cent at most
    assert not torch.equal(got, _Net(encoder, seed=1).eval()(X))      # not the skeleton's own answers


def test_a_per_channel_weight_comes_back_with_its_scales_and_axis():
    w = torch.randn(4, 3, generator=torch.Generator().manual_seed(2))
    scales = w.abs().amax(dim=1).double() / 127
    qw = torch.quantize_per_channel(w, scales, torch.zeros(4, dtype=torch.long), 0, torch.qint8)
    stored = {"w": qw.int_repr(), "w.__scale": scales.float(), "w.__zero_point": torch.zeros(4, dtype=torch.long),
              "w.__axis": torch.tensor(0)}
    back = _restore_tensor(stored, "w")
    assert back.qscheme() == torch.per_channel_affine and back.q_per_channel_axis() == 0
    torch.testing.assert_close(back.dequantize(), qw.dequantize())


def test_a_stored_weight_the_net_does_not_have_is_refused():
    q = quantize_torch(_Net("lstm", seed=0).eval())
    tensors = quantized_tensors(q)
    with pytest.raises(RuntimeError, match="unexpected weight 'norm.weight'"):
        load_quantized(_Net("lstm", seed=0).eval(), {**tensors, "norm.weight": torch.ones(3)})
    with pytest.raises(RuntimeError, match="unexpected weight 'extra'"):
        load_quantized(_Net("lstm", seed=0).eval(), {**tensors, "extra": torch.ones(3)})


def test_a_net_with_no_layer_int8_covers_is_refused():
    net = nn.Sequential(nn.Conv1d(3, 4, 2), nn.ReLU())
    with pytest.raises(LstmkitError, match="no layer that dynamic int8 quantization covers"):
        quantize_torch(net)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_a_bare_lstm_swapped_says_the_width_and_causality_of_what_it_returns(bidirectional):
    """lstmkit's own LSTM used as it is (not through ``make_encoder``) carries no ``output_size``:
    its swapped copy works it out, as wide as the output it returns."""
    from lstmkit.deploy.int8_torch import swap_recurrent
    from lstmkit.nn.lstm import LSTM
    layer = LSTM(3, 5, num_layers=1, batch_first=True, bidirectional=bidirectional)
    assert not hasattr(layer, "output_size")
    swapped = swap_recurrent(nn.Sequential(layer))[0]
    out, _ = swapped(X)
    assert swapped.output_size == out.shape[-1] == (10 if bidirectional else 5)
    assert swapped.causal is (not bidirectional)
