"""ForecastNet with every zoo encoder and both heads; the tutorial's Keras model's size."""
from __future__ import annotations

import pytest
import torch

from lstmkit.errors import LstmkitError
from lstmkit.nn.zoo import ENCODERS, count_parameters
from lstmkit.tasks.forecast.model import ForecastNet


def _keras_lstm(units, inputs):
    """Keras LSTM parameters: kernel [I, 4H] + recurrent kernel [H, 4H] + ONE bias [4H]."""
    return 4 * (units * (inputs + units) + units)


def _keras_dense(units, inputs):
    return inputs * units + units


def test_tutorial_keras_model_parameter_count():
    """LSTM 50 -> Dropout -> LSTM 50 -> Dropout -> Dense 25 -> Dense 1, one input feature.

    Keras: 10,400 + 20,200 + 1,275 + 26 = 31,901. torch (and lstmkit) keep two bias vectors
    per LSTM layer (b_ih and b_hh; only their sum enters the equations), 4·50 = 200 more per
    layer: 32,301 trainable. Counting the two biases as one gives Keras' number exactly.
    """
    keras = _keras_lstm(50, 1) + _keras_lstm(50, 50) + _keras_dense(25, 50) + _keras_dense(1, 25)
    assert keras == 31_901
    net = ForecastNet(1, 1, horizon=1, encoder="lstm", hidden_size=50, num_layers=2, dropout=0.2, head="mlp")
    assert count_parameters(net) == 32_301 == keras + 2 * 4 * 50
    assert count_parameters(net, keras_biases=True) == keras


def test_heads():
    linear = ForecastNet(2, 1, horizon=3, hidden_size=8, num_layers=1, dropout=0.0)
    mlp = ForecastNet(2, 1, horizon=3, hidden_size=8, num_layers=1, dropout=0.0, head="mlp")
    assert isinstance(linear.head, torch.nn.Linear)                    # old run folders still load
    assert [m.out_features for m in mlp.head if isinstance(m, torch.nn.Linear)] == [25, 3]
    with pytest.raises(LstmkitError, match="mlp"):
        ForecastNet(2, 1, horizon=3, head="deep")


@pytest.mark.parametrize("encoder", list(ENCODERS))
def test_every_encoder_fits_the_forecaster(encoder):
    torch.manual_seed(0)
    net = ForecastNet(3, 2, horizon=4, encoder=encoder, hidden_size=8, num_layers=1, dropout=0.1).eval()
    x = torch.rand(5, 12, 3)
    assert net(x).shape == (5, 4, 2)


def _oldest_step_moves_forecast(net, lookback):
    x = torch.randn(4, lookback, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    changed = x.clone()
    changed[:, 0] += 3.0
    with torch.no_grad():
        return (net(changed) - net(x)).abs().max().item() > 0


@pytest.mark.parametrize("lookback,segment,num_layers,short", [
    (200, 0, 2, True),         # 5 blocks reach 125 steps: the window's oldest 75 were never read
    (200, 0, 6, False),        # the num_layers the warning names
    (125, 0, 1, False),
    (200, 25, 1, False),       # 8 segments
])
def test_a_tcn_shorter_than_its_window_is_warned_of(lookback, segment, num_layers, short, recwarn):
    """``--model tcn --lookback 200`` forecast from the newest 125 steps of the window without a word: its
    blocks are added up to a reach of 64 steps, ``--num-layers`` only their least number."""
    from lstmkit.tasks.forecast.config import ForecastConfig
    from lstmkit.tasks.forecast.pipeline import _say_short_reach
    cfg = ForecastConfig(target=["y"], model="tcn", lookback=lookback, segment=segment, num_layers=num_layers)
    _say_short_reach(cfg)
    said = [str(w.message) for w in recwarn if "tcn" in str(w.message)]
    assert bool(said) == short
    if short:
        assert said[0].startswith("--model tcn with --lookback 200: the forecast reads only the newest 125 of the "
                                  "window's 200 steps") and said[0].endswith("pass --num-layers 6 to read the whole window")
    torch.manual_seed(0)
    net = ForecastNet(1, 1, horizon=1, encoder="tcn", hidden_size=8, num_layers=num_layers, dropout=0.0,
                      relative=False, segment=segment).double().eval()
    assert _oldest_step_moves_forecast(net, lookback) == (not short)


@pytest.mark.parametrize("kind", ["quantile", "gaussian", "studentt"])
def test_probabilistic_parameters_are_float32_from_bf16_outputs(kind):
    """Under CPU bf16 autocast the network's raw outputs are bf16: softplus and the quantiles' cumulative
    steps ran in bf16, where the 1e-4 gap between levels near 1 rounded away (0.1 and 0.5 answered alike)."""
    from lstmkit.tasks.forecast.probabilistic import Output
    out = Output(kind, [0.1, 0.5, 0.9] if kind == "quantile" else None)
    raw = torch.full((2, 3, out.n_params), 1.0)
    if kind == "quantile":
        raw[..., 0] = raw[..., 2] = -30.0                      # increments of softplus(-30) + 1e-4 ≈ 1e-4
    params = out.transform(raw.bfloat16())
    assert params.dtype == torch.float32
    torch.testing.assert_close(params, out.transform(raw.bfloat16().float()), atol=0, rtol=0)
    if kind == "quantile":
        assert bool((params[..., 1:] > params[..., :-1]).all())  # the levels keep apart
