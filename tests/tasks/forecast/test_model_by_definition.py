"""ForecastNet's forward pass held to its definitions on tiny hand-made inputs, without training:
the highway's linear map over the window's newest values, relative inputs (a forecast moves with
the level it starts from), a recursive roll-out feeding its own forecasts back (the same as
reading the window extended by them), a seq2seq decoder that reads step k's covariates for step
k only, a bidirectional summary (each direction's final state), segments (S steps per encoder
step) and the defaults of ``future`` and ``series``."""
from __future__ import annotations

import pytest
import torch

from lstmkit.tasks.forecast.model import ForecastNet, Highway
from lstmkit.tasks.forecast.probabilistic import Output


def _net(**kw) -> ForecastNet:
    torch.manual_seed(0)
    kw = {"hidden_size": 6, "num_layers": 1, "dropout": 0.0, **kw}
    return ForecastNet(**kw).eval()


def _x(B: int, L: int, C: int) -> torch.Tensor:
    return torch.randn(B, L, C, generator=torch.Generator().manual_seed(1))


def test_the_highway_is_a_linear_map_of_each_targets_newest_values():
    hw = Highway(window=3, horizon=2)
    with torch.no_grad():     # step 1: the newest value + 0.5; step 2: the mean of the newest three
        hw.linear.weight.copy_(torch.tensor([[0.0, 0.0, 1.0], [1 / 3, 1 / 3, 1 / 3]]))
        hw.linear.bias.copy_(torch.tensor([0.5, 0.0]))
    # one window of 5 steps and 2 targets: target 0 is 1..5, target 1 is 10, 20, ..., 50
    y = torch.tensor([[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0], [5.0, 50.0]]])
    out = hw(y)
    assert out.shape == (1, 2, 2)                                     # [B, H, T]
    assert torch.allclose(out[0], torch.tensor([[5.5, 50.5], [4.0, 40.0]]))


def test_an_mlp_highway_reads_the_window_through_its_hidden_layer():
    hw = Highway(window=2, horizon=1, hidden=2)
    assert hw.linear.in_features == 2 and hw.mlp[0].in_features == 2
    assert torch.equal(hw(torch.ones(1, 4, 1)), torch.zeros(1, 1, 1))      # output layer starts at zero
    with torch.no_grad():     # hidden units relu(newest - older) and relu(older - newest); out = their sum
        hw.mlp[0].weight.copy_(torch.tensor([[-1.0, 1.0], [1.0, -1.0]]))
        hw.mlp[0].bias.zero_()
        hw.linear.weight.copy_(torch.tensor([[1.0, 1.0]]))
        hw.linear.bias.zero_()
    y = torch.tensor([[[9.0], [2.0], [7.0]]])                   # window of 2: [2, 7] -> |7 - 2| = 5
    assert torch.allclose(hw(y), torch.tensor([[[5.0]]]))
    assert Highway(window=3, horizon=2).linear.in_features == 3 and Highway(3, 2).mlp is None


@pytest.mark.parametrize("relative", [True, False])
def test_a_net_whose_recurrent_part_says_nothing_forecasts_its_highway_in_original_units(relative):
    """A zero head leaves the highway's map: seasonal naive at lag 2 (step h: the value 2 - h steps before the end)."""
    net = _net(n_inputs=1, n_targets=1, horizon=2, relative=relative, highway=3)
    with torch.no_grad():
        net.head.weight.zero_(), net.head.bias.zero_()
        net.highway.linear.weight.copy_(torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    x = torch.tensor([[[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]]])
    assert torch.allclose(net(x)[0, :, 0], torch.tensor([5.0, 6.0]))


@pytest.mark.parametrize("strategy", ["direct", "recursive", "seq2seq"])
def test_a_relative_net_is_the_plain_net_on_the_window_less_its_last_value_plus_that_value(strategy):
    """relative=True: targets relative to the window's last value, the forecast that value plus the change;
    covariates as they are. So raising the whole window's targets by c raises the forecast by c."""
    kw = dict(n_inputs=3, n_targets=2, horizon=3, n_future=1, strategy=strategy)
    rel, plain = _net(relative=True, **kw), _net(relative=False, **kw)
    plain.load_state_dict(rel.state_dict())
    x, fut = _x(4, 5, 3), _x(4, 3, 1)
    last = x[:, -1:, :2]
    shifted = torch.cat([x[..., :2] - last, x[..., 2:]], -1)
    with torch.no_grad():
        assert torch.allclose(rel(x, fut), plain(shifted, fut) + last, atol=1e-5)
        raised = torch.cat([x[..., :2] + 100.0, x[..., 2:]], -1)
        assert torch.allclose(rel(raised, fut), rel(x, fut) + 100.0, atol=1e-4)
        assert not torch.allclose(plain(raised, fut), plain(x, fut) + 100.0, atol=1e-2)


@pytest.mark.parametrize("kind", ["point", "quantile"])
def test_a_recursive_roll_out_is_the_one_step_forecast_of_the_window_extended_by_its_own_forecasts(kind):
    """Step k+1 reads step k's point forecast (a quantile net's median) and step k's future covariates:
    the same as the first step's forecast of the window with those rows appended, for each series'
    embedding too."""
    output = Output(kind, (0.1, 0.5, 0.9) if kind == "quantile" else ())
    H = 4
    net = _net(n_inputs=3, n_targets=2, horizon=H, n_future=1, strategy="recursive", relative=False,
               id_embedding=2, n_series=3, output=output)
    x, fut, series = _x(2, 5, 3), _x(2, H, 1) * 3, torch.tensor([1, 2])
    with torch.no_grad():
        rolled = net(x, fut, series)
        window, by_hand = x, []
        for k in range(H):
            step = net(window, fut, series)[:, 0]                      # [B, T(, Q)]: the next step's forecast
            by_hand.append(step)
            y_k = output.point(step)                                   # [B, T]
            window = torch.cat([window, torch.cat([y_k, fut[:, k]], -1)[:, None]], 1)
        assert torch.allclose(rolled, torch.stack(by_hand, 1), atol=1e-5)
        # the last step's covariates are read by no step (nothing follows it); earlier ones by the next step only
        later = fut.clone()
        later[:, H - 1] += 5.0
        assert torch.equal(net(x, later, series), rolled)
        earlier = fut.clone()
        earlier[:, 1] += 5.0
        moved = net(x, earlier, series)
        assert torch.equal(moved[:, :2], rolled[:, :2]) and not torch.allclose(moved[:, 2:], rolled[:, 2:])


def test_a_seq2seq_decoder_reads_each_steps_covariates_at_that_step_and_the_steps_after():
    H = 4
    net = _net(n_inputs=2, n_targets=1, horizon=H, n_future=1, strategy="seq2seq", relative=False)
    x, fut = _x(2, 6, 2), _x(2, H, 1)
    with torch.no_grad():
        base = net(x, fut)
        changed = fut.clone()
        changed[:, 2] += 5.0
        moved = net(x, changed)
    assert torch.equal(moved[:, :2], base[:, :2])
    assert not torch.allclose(moved[:, 2], base[:, 2])


@pytest.mark.parametrize("strategy", ["direct", "recursive", "seq2seq"])
def test_no_future_is_zeros_over_the_horizon_and_no_series_is_series_0(strategy):
    net = _net(n_inputs=2, n_targets=1, horizon=3, n_future=1, strategy=strategy, id_embedding=2, n_series=3)
    x = _x(2, 5, 2)
    with torch.no_grad():
        assert torch.equal(net(x), net(x, torch.zeros(2, 3, 1), torch.zeros(2, dtype=torch.long)))
        assert not torch.allclose(net(x), net(x, None, torch.ones(2, dtype=torch.long)))


def test_a_bidirectional_summary_is_each_directions_final_state():
    """The forward half at the window's last step and the backward half at its first: both read all of it."""
    net = _net(n_inputs=1, n_targets=1, horizon=2, encoder="bilstm", relative=False)
    x = _x(3, 7, 1)
    seen = []
    net.dropout.register_forward_hook(lambda m, args, out: seen.append(args[0]))
    with torch.no_grad():
        net(x)
        _, (h, _) = net.encoder(x)
    assert torch.allclose(seen[0], torch.cat([h[-2], h[-1]], -1))


def test_segments_are_read_as_consecutive_steps_side_by_side():
    """segment=S: encoder step j reads window steps jS .. jS+S-1, their channels one after another."""
    net = _net(n_inputs=2, n_targets=1, horizon=1, segment=3, relative=False)
    assert net.encoder.input_size == 6
    x = torch.arange(2 * 6 * 2, dtype=torch.float32).reshape(2, 6, 2)
    seen = []
    net.encoder.register_forward_hook(lambda m, args, out: seen.append(args[0]))
    with torch.no_grad():
        net(x)
    assert seen[0].shape == (2, 2, 6)
    assert seen[0][0, 1].tolist() == [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]     # steps 3, 4, 5 of series 0
    with_embedding = _net(n_inputs=2, n_targets=1, horizon=1, segment=3, id_embedding=4, n_series=2)
    assert with_embedding.encoder.input_size == (2 + 4) * 3


def test_past_only_covariates_are_read_by_the_direct_and_seq2seq_strategies_not_the_recursive_one():
    """A recursive roll-out has no value of a past-only covariate to feed at the steps it forecasts."""
    for strategy in ("direct", "seq2seq"):
        net = _net(n_inputs=3, n_targets=1, horizon=2, n_past=2, strategy=strategy)
        assert net(_x(2, 4, 3)).shape == (2, 2, 1)
    with pytest.raises(ValueError, match="past-only covariates"):
        _net(n_inputs=3, n_targets=1, horizon=2, n_past=2, strategy="recursive")
    with pytest.raises(ValueError, match="recurrent encoder"):
        _net(n_inputs=1, n_targets=1, horizon=2, strategy="seq2seq", encoder="tcn")
    assert _net(n_inputs=1, n_targets=1, horizon=2, strategy="seq2seq", encoder="gru").decoder.input_size == 8
