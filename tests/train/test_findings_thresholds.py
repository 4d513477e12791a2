"""Each of the doctor's thresholds pinned from both sides on hand-built histories: a run just over
it gets its finding, with the remedy that fixes it first; one just under (or exactly at it, where the
bar is "above" or "below") gets none. The numbers are the documented bars of
:mod:`lstmkit.train.findings` (docs/architecture.md, the doctor), worked by hand."""
import math

import pytest
import torch
from torch import nn

from lstmkit.config import TrainConfig
from lstmkit.nn.lstm import LSTM
from lstmkit.train.doctor import Doctor
from lstmkit.train.findings import unjudged


def _run(train, val=None, start=None, **fields):
    """A Doctor fed one epoch per train loss (validation losses ``val``, else the same), each epoch's
    record updated with ``fields`` (a value, or a list of one per epoch)."""
    d = Doctor()
    for k, t in enumerate(train, 1):
        d.end_epoch({"epoch": k, "train_loss": t, "val_loss": (val or train)[k - 1], "lr": 1e-3})
    d.start_losses, d.plain_rnn = list(start or []), False
    for k, e in enumerate(d.epochs):
        e.update({name: v[k] if isinstance(v, list) else v for name, v in fields.items()})
    return d


def _found(d, evidence=None, **cfg):
    return {f["kind"]: f for f in d.report(TrainConfig(**cfg), evidence=evidence)["findings"]}


FALLING = [1.0, 0.9, 0.8, 0.75]           # a loss that falls, no other sign: no finding of its own


# -- exploding gradients -----------------------------------------------------------------------------
@pytest.mark.parametrize("peak, found", [(1001.0, True), (1000.0, False), (999.0, False)])
def test_a_gradient_norm_above_1000_is_an_explosion_even_clipped(peak, found):
    """Clipped at 1, the 100x-the-median rule is off: only a norm above 1e3 counts."""
    d = _run(FALLING, grad_norm_median=[500.0, None, None, None], grad_norm_max=[600.0, 700.0, peak, 800.0],
             grad_norm_max_step=5)
    f = _found(d, clip_norm=1.0)
    assert ("exploding_gradients" in f) == found
    if found:
        assert f["exploding_gradients"]["numbers"]["grad_norm_max"] == peak
        assert f["exploding_gradients"]["remedies"][0].startswith("lower the learning rate (now 0.001; try 0.0001)")


@pytest.mark.parametrize("median, peak, found", [
    (0.2, 20.1, True),          # 100.5x the first epoch's median
    (0.25, 25.0, False),        # exactly 100x: not above it
    (0.2, 19.9, False),         # 99.5x
    (0.05, 9.0, False),         # 180x, but a norm under 10 is no explosion
    (0.05, 10.0, False),        # 10 itself is not above it
    (0.05, 10.5, True),
])
def test_an_unclipped_norm_100x_the_first_median_is_an_explosion(median, peak, found):
    d = _run(FALLING, grad_norm_median=[median, None, None, None], grad_norm_max=[0.0, 0.0, 0.0, peak],
             grad_norm_max_step=7)
    f = _found(d, clip_norm=None)
    assert ("exploding_gradients" in f) == found
    if found:               # no clipping at all: turning it on leads
        assert f["exploding_gradients"]["remedies"][0] == "turn gradient clipping on: --clip-norm 1.0 (it is off in this run)"


@pytest.mark.parametrize("jump, found", [(5.01, True), (5.0, False), (4.99, False), (float("nan"), True)])
def test_a_train_loss_10x_its_best_before_is_an_explosion(jump, found):
    d = _run([1.0, 0.5, jump])
    f = _found(d)
    assert ("exploding_gradients" in f) == found
    if found:
        assert f["exploding_gradients"]["numbers"]["loss_spike_epoch"] == 3
        assert f["exploding_gradients"]["remedies"][1] == "tighten gradient clipping: --clip-norm 0.5 (now 1)"


@pytest.mark.parametrize("clip, told", [(5.0, "1.0 (now 5)"), (1.0, "0.5 (now 1)"), (0.5, "0.25 (now 0.5)"),
                                        (0.2, "0.1 (now 0.2)")])
def test_tighter_clipping_is_below_the_run_s_own(clip, told):
    """A run clipped at 0.5 was told to tighten clipping to 0.5, one clipped at 0.2 to loosen it to 0.5."""
    f = _found(_run([1.0, 0.5, 6.0]), clip_norm=clip)
    assert f["exploding_gradients"]["remedies"][1] == f"tighten gradient clipping: --clip-norm {told}"


# -- vanishing gradients -----------------------------------------------------------------------------
@pytest.mark.parametrize("first, found", [(0.0009, True), (0.001, False), (0.0011, False)])
def test_a_first_layer_gradient_under_a_thousandth_of_the_largest_is_vanishing(first, found):
    d = _run(FALLING, layer_grad_norms={"rnn.l0": first, "rnn.l1": 0.5, "head": 1.0})
    d.groups = {"rnn.l0": [0], "rnn.l1": [1], "head": [2]}
    f = _found(d)
    assert ("vanishing_gradients" in f) == found
    if found:
        assert f["vanishing_gradients"]["numbers"]["first_layer_ratio"] == first
        assert "first layer (rnn.l0) gradient norm is 0.0009 of head's" in f["vanishing_gradients"]["evidence"][0]


@pytest.mark.parametrize("share, found", [(0.61, True), (0.6, False), (0.59, False)])
def test_gates_more_than_60_percent_saturated_are_vanishing(share, found):
    d = _run([1.1, 1.0, 0.9], start=[1.2], saturated_gates=share)     # best 0.9: not half the start
    assert ("vanishing_gradients" in _found(d)) == found


@pytest.mark.parametrize("best, found", [(0.49, False), (0.51, True)])
def test_saturated_gates_are_no_finding_once_the_loss_fell_below_half_its_start(best, found):
    d = _run([0.9, 0.7, best], start=[1.0], saturated_gates=0.9)
    assert ("vanishing_gradients" in _found(d)) == found


@pytest.mark.parametrize("best, steps, found", [
    (0.951, [34, 33, 33], True),        # 95.1 % of the start after 100 steps
    (0.95, [34, 33, 33], True),         # at 95 %: still flat
    (0.949, [34, 33, 33], False),       # fell more than 5 %
    (0.951, [33, 33, 33], False),       # 99 steps: too early to say on a flat loss alone
])
def test_a_loss_within_95_percent_of_its_start_after_100_steps_is_not_learning(best, steps, found):
    d = _run([1.0, 0.99, best], start=[1.0], steps=steps)
    f = _found(d, max_epochs=30)
    assert ("vanishing_gradients" in f) == found
    if found:
        assert f["vanishing_gradients"]["numbers"]["flat_loss"] == best


@pytest.mark.parametrize("seen, shorten", [(49, False), (50, True)])
def test_sequences_of_50_steps_or_more_are_worth_shortening(seen, shorten):
    d = _run([1.1, 1.0, 0.9], start=[1.2], saturated_gates=0.71, sequence_steps=seen)
    remedies = _found(d)["vanishing_gradients"]["remedies"]
    assert any(r.startswith("shorten the sequences") for r in remedies) == shorten


# -- learning rate -----------------------------------------------------------------------------------
@pytest.mark.parametrize("lr, rise, found", [
    (0.031, 1.21, True),
    (0.03, 1.21, False),        # 0.03 itself is not above the bar
    (0.031, 1.19, False),       # a rise under 20 %: noise
    (0.031, 1.2, False),        # exactly 20 %: not above it
])
def test_a_rate_above_0_03_whose_loss_rises_20_percent_over_its_best_is_too_high(lr, rise, found):
    d = _run([1.0, 0.5, 0.5 * rise])
    f = _found(d, lr=lr)
    assert ("high_learning_rate" in f) == found
    if found:
        assert f["high_learning_rate"]["remedies"] == [f"lower the learning rate: --lr 0.001 (now {lr:g})"]
        assert f["high_learning_rate"]["numbers"]["rise_epoch"] == 3


@pytest.mark.parametrize("lr, best, found", [
    (9.9e-5, 0.991, True),
    (1e-4, 0.991, False),       # 1e-4 itself is not below the bar
    (9.9e-5, 0.989, False),     # moved more than 1 %
    (9.9e-5, 0.99, True),       # exactly 1 %: still within it
])
def test_a_rate_below_1e_4_whose_loss_moves_under_1_percent_is_too_low(lr, best, found):
    d = _run([1.0, 0.995, best])
    f = _found(d, lr=lr, max_epochs=30)
    assert ("low_learning_rate" in f) == found
    if found:
        assert f["low_learning_rate"]["remedies"] == [f"raise the learning rate: --lr 0.001 (now {lr:g})"]


@pytest.mark.parametrize("lr, told", [(0.031, False), (0.03, True)])
def test_vanishing_at_a_rate_above_0_03_is_told_to_lower_it_and_not_to_train_longer(lr, told):
    """Gates pinned by steps far too large: lowering the rate comes first, and the loss that still
    fell at the limit asks for no more epochs; at 0.03 (not above the bar) it does, and the rate is raised."""
    d = _run([1.1, 1.0, 0.9], start=[1.2], saturated_gates=0.71)
    f = _found(d, lr=lr, max_epochs=3)
    assert ("undertrained" in f) == told
    remedies = f["vanishing_gradients"]["remedies"]
    assert any(r.startswith("lower the learning rate") for r in remedies) != told
    assert remedies[0].startswith("lower the learning rate (now 0.031") != told
    assert any(r.startswith("raise the learning rate a little (now 0.03)") for r in remedies) == told


# -- overfitting -------------------------------------------------------------------------------------
@pytest.mark.parametrize("tail, found", [
    ([1.051, 1.06, 1.07], True),    # the last 3 epochs all over 5 % above the best
    ([1.051, 1.049, 1.07], False),  # one within 5 %: a wobble
    ([1.05, 1.06, 1.07], False),    # one exactly 5 % above: not more than 5 %
    ([1.06, 1.07], False),          # 2 epochs after the best: too few
])
def test_validation_5_percent_over_its_best_for_3_epochs_is_overfitting(tail, found):
    val = [2.0, 1.5, 1.0, *tail]
    train = [2.0 - 0.1 * k for k in range(len(val))]
    f = _found(_run(train, val), patience=5)
    assert ("overfitting" in f) == found
    if found:
        assert f["overfitting"]["numbers"]["best_epoch"] == 3
        assert f["overfitting"]["remedies"][0] == "add dropout: --dropout 0.3 (now 0; 0.2-0.5 is usual)"



@pytest.mark.parametrize("patience, sooner", [(6, True), (5, False)])
def test_stop_sooner_is_offered_only_to_a_patience_over_5(patience, sooner):
    f = _found(_run([2.0, 1.9, 1.8, 1.7, 1.6, 1.5], [2.0, 1.5, 1.0, 1.1, 1.2, 1.3]), patience=patience)
    assert any(r.startswith("stop sooner: --patience 5") for r in f["overfitting"]["remedies"]) == sooner


@pytest.mark.parametrize("dropout, offered", [(0.19, True), (0.2, False)])
def test_dropout_is_offered_only_under_0_2(dropout, offered):
    d = _run([2.0, 1.9, 1.8, 1.7, 1.6, 1.5], [2.0, 1.5, 1.0, 1.1, 1.2, 1.3])
    d.dropout = dropout
    remedies = _found(d, patience=5)["overfitting"]["remedies"]
    assert any(r.startswith("add dropout") for r in remedies) == offered


@pytest.mark.parametrize("params, smaller", [(1001, True), (1000, False)])
def test_more_than_10_parameters_a_sample_names_the_model_size(params, smaller):
    d = _run([2.0, 1.9, 1.8, 1.7, 1.6, 1.5], [2.0, 1.5, 1.0, 1.1, 1.2, 1.3], mean_batch=10.0, steps=10)
    d.n_parameters = params                                     # 100 samples an epoch
    f = _found(d, patience=5)["overfitting"]
    assert any(f"{params:,} parameters for 100 training samples" in e for e in f["evidence"]) == smaller
    assert (f["remedies"][0] == "use a smaller model (fewer hidden units or layers) or more training data") == smaller


# -- undertrained ------------------------------------------------------------------------------------
@pytest.mark.parametrize("last, found", [(0.979, True), (0.981, False)])
def test_a_last_epoch_2_percent_below_the_best_at_the_limit_is_undertrained(last, found):
    f = _found(_run([1.0, last]), max_epochs=2)
    assert ("undertrained" in f) == found
    if found:
        assert f["undertrained"]["remedies"][0].startswith("train longer: --epochs 20 (training stopped at its limit")


@pytest.mark.parametrize("third, last, found", [(0.9955, 0.9934, True), (0.9955, 0.9936, False),
                                                (0.997, 0.9934, False)])       # one epoch no better: no steady fall
def test_four_falling_epochs_down_half_a_percent_at_the_limit_are_undertrained(third, last, found):
    """The tail 0.9985 -> ``last``: 0.5 % in all is 0.9935075; the last step (from 0.9955) is far under 2 %."""
    f = _found(_run([1.0, 0.9985, 0.997, third, last]), max_epochs=5)
    assert ("undertrained" in f) == found
    if found:
        assert "each of the last 3 epochs improved on the one before" in f["undertrained"]["evidence"][1]


@pytest.mark.parametrize("last, found", [(0.0389, True), (0.0391, False)])
def test_a_last_gain_under_a_thousandth_of_the_start_is_not_worth_more_epochs(last, found):
    """Both still 2 % below 0.04; the gain, 0.0011 or 0.0009, is measured against the start loss, 1."""
    f = _found(_run([0.05, 0.04, last], start=[1.0]), max_epochs=3)
    assert ("undertrained" in f) == found


# -- slow training -----------------------------------------------------------------------------------
@pytest.mark.parametrize("data, compute, found", [
    (1.0, 0.99, True),          # 50.3 % of the time, a second in all
    (1.0, 1.01, False),         # 49.8 %
    (0.99, 0.1, False),         # 91 %, but under a second
    (1.0, 1.0, False),          # exactly half: not more than half
])
def test_waiting_for_data_over_half_the_time_and_a_second_is_slow(data, compute, found):
    d = _run(FALLING, data_seconds=[data, 0, 0, 0], compute_seconds=[compute, 0, 0, 0], steps=2, mean_batch=16.0)
    f = _found(d)
    assert ("slow_training" in f) == found
    if found:
        assert f["slow_training"]["remedies"][0].startswith("prepare the data once as tensors in memory")


@pytest.mark.parametrize("batch, steps, size, found", [
    (7.9, 5, 4, True),
    (8.0, 5, 4, False),
    (7.9, 4, 4, False),          # 16 steps in all: under 20
    (0.0, 5, 4, False),          # no rows counted: no batch size known
    (6.0, 5, 32, False),         # 6 samples in all at a batch size of 32: the data, not the batch size
])
def test_batches_under_8_samples_over_20_steps_are_slow(batch, steps, size, found):
    f = _found(_run(FALLING, mean_batch=batch, steps=steps), batch_size=size)
    assert ("slow_training" in f) == found
    if found:
        assert f["slow_training"]["numbers"]["mean_batch"] == pytest.approx(batch)
        assert f["slow_training"]["remedies"][0].startswith("raise the batch size (now 4; try 32-128)")


@pytest.mark.parametrize("share, found", [(0.41, True), (0.4, False), (0.39, False)])
def test_batches_over_40_percent_padding_are_slow(share, found):
    f = _found(_run(FALLING, padding_share=share))
    assert ("slow_training" in f) == found


# -- loses to a baseline -----------------------------------------------------------------------------
@pytest.mark.parametrize("name, model, lost", [
    ("naive", 1.0, True),           # a naive baseline is a bar to clear: a tie loses
    ("naive", 0.999, False),
    ("ets", 1.05, True),            # a fitted ETS within 5 % is a tie
    ("ets", 1.049, False),
    ("class_prior", 0.981, True),   # the class prior is a bar to clear by 2 %
    ("class_prior", 0.979, False),
])
def test_a_model_loses_to_a_baseline_it_does_not_clear_by_its_margin(name, model, lost):
    evidence = {"baselines": {"part": "validation", "metric": "MASE", "model": model, "scores": {name: 1.0}}}
    f = _found(_run(FALLING), evidence=evidence)
    assert ("loses_to_baseline" in f) == lost
    if lost:
        assert f["loses_to_baseline"]["numbers"]["best_baseline"] == name


@pytest.mark.parametrize("rows, points, more_data", [(99, 99, True), (100, 99, False), (99, 100, False)])
def test_a_loss_on_under_100_samples_each_side_asks_for_more_data(rows, points, more_data):
    evidence = {"baselines": {"model": 2.0, "scores": {"naive": 1.0}, "points": points}}
    d = _run(FALLING, mean_batch=float(rows), steps=1)
    remedies = _found(d, evidence=evidence)["loses_to_baseline"]["remedies"]
    assert remedies[0].startswith("more data") == more_data


# -- too short to judge ------------------------------------------------------------------------------
@pytest.mark.parametrize("epochs, said", [
    (2, ["overfitting (needs 4 epochs with a validation loss)", "a training loss that does not fall (needs 3 epochs)"]),
    (3, ["overfitting (needs 4 epochs with a validation loss)"]),
    (4, []),
])
def test_overfitting_needs_4_epochs_and_a_flat_loss_3(epochs, said):
    assert unjudged(_run(FALLING[:epochs])) == said


# -- what the doctor measures ------------------------------------------------------------------------
def test_an_epoch_records_the_first_5_finite_losses_and_the_first_step_of_its_largest_finite_norm():
    d = Doctor()
    for step, (loss, norm) in enumerate([(float("nan"), 1.0), (3.0, 5.0), (2.0, 5.0), (1.0, float("inf")),
                                         (0.5, 2.0), (0.4, 3.0), (0.3, 4.0)], 1):
        d.step(step, loss, norm, data_s=0.5, compute_s=0.25, rows=10 + step)
    d.end_epoch({"epoch": 1, "train_loss": 1.0, "val_loss": 1.0, "lr": 1e-3})
    (e,) = d.epochs
    assert d.start_losses == [3.0, 2.0, 1.0, 0.5, 0.4]
    assert (e["grad_norm_max"], e["grad_norm_max_step"]) == (5.0, 2)     # the first step that reached it
    assert e["grad_norm_median"] == 3.5                                   # of 1, 5, 5, 2, 3, 4: inf left out
    assert e["loss_max"] == 3.0 and e["steps"] == 7 and e["mean_batch"] == 14.0     # rows 11..17
    assert (e["data_seconds"], e["compute_seconds"]) == (3.5, 1.75)


def _gates(b_i, b_g, b_o):
    """A one-unit LSTM whose i, g, o gates are sigmoid(b_i), tanh(b_g), sigmoid(b_o) at every step."""
    lstm = LSTM(1, 1)
    with torch.no_grad():
        for p in lstm.parameters():
            p.zero_()
        lstm.bias_ih_l0.copy_(torch.tensor([b_i, 0.0, b_g, b_o]))      # torch's i, f, g, o order
    d = Doctor()
    d.sample_gates(nn.Sequential(lstm), torch.zeros(2, 5, 1))
    return d._cur["saturation"]


def _logit(p):
    return math.log(p / (1 - p))


def test_a_gate_within_0_02_of_its_limit_is_saturated():
    """A sigmoid gate below 0.02 or above 0.98, the tanh candidate beyond ±0.96."""
    assert _gates(_logit(0.981), math.atanh(0.961), _logit(0.979)) == pytest.approx(2 / 3)
    assert _gates(_logit(0.019), math.atanh(-0.959), _logit(0.021)) == pytest.approx(1 / 3)
    assert _gates(_logit(0.5), math.atanh(-0.961), _logit(0.5)) == pytest.approx(1 / 3)


@pytest.mark.parametrize("global_step, pos, due", [(51, 0, True), (50, 3, True), (51, 3, False), (25, 1, True)])
def test_per_layer_gradients_are_sampled_on_each_epoch_s_first_step_and_every_25th(global_step, pos, due):
    assert Doctor().wants_detail(global_step, pos) == due


def test_the_model_s_dropout_is_its_largest():
    d = Doctor()
    d.bind(nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.1), LSTM(2, 2, num_layers=2, dropout=0.3), nn.Dropout(0.2)))
    assert d.dropout == 0.3
