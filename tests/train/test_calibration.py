"""Temperature scaling: the T >= 1 whose softened logits have the lowest validation log loss."""
from __future__ import annotations

import math

import pytest
import torch

from lstmkit.train.calibration import MAX_TEMPERATURE, fit_temperature, log_losses


def _drawn(n: int, classes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits ``[N, C]`` (``[N]`` for two classes) and labels drawn from their own softmax: logits
    calibrated by construction, so ``k · logits`` are ``k`` times too sure and T = k undoes it."""
    g = torch.Generator().manual_seed(seed)
    z = 1.5 * torch.randn(n, classes, generator=g, dtype=torch.float64)
    y = torch.multinomial(torch.softmax(z, -1), 1, generator=g)[:, 0]
    if classes == 2:                                   # one logit: log p(1) - log p(0)
        z = z[:, 1] - z[:, 0]
    return z, y


@pytest.mark.parametrize("classes", [2, 3])
def test_an_over_confident_nets_temperature_is_how_much_too_sure_it_is(classes):
    z, y = _drawn(6000, classes, seed=1)
    t = fit_temperature(4.0 * z, y)
    assert t == pytest.approx(4.0, rel=0.12)
    zz = (4.0 * z)[:, None] if classes == 2 else 4.0 * z
    softened, raw = log_losses(torch.stack([zz / t, zz]), y)
    assert softened < raw


def test_a_calibrated_or_under_confident_net_is_left_as_it_is():
    # sharpening (T < 1) is never fitted: a validation part the net separates asks for T -> 0
    z, y = _drawn(6000, 3, seed=2)
    assert fit_temperature(0.3 * z, y) == 1.0
    separated = torch.tensor([[3.0, 0.0], [0.0, 3.0], [2.0, -1.0]])
    assert fit_temperature(separated, torch.tensor([0, 1, 0])) == 1.0


def test_the_temperature_stays_within_its_bound():
    z = torch.tensor([[5.0, 0.0], [5.0, 0.0], [0.0, 5.0], [0.0, 5.0]])
    y = torch.tensor([0, 1, 0, 1])                     # no better than a coin: the flattest allowed
    assert fit_temperature(z, y) == pytest.approx(MAX_TEMPERATURE, rel=1e-3)


def test_rows_weighted_zero_do_not_count_and_class_weights_weigh_each_class():
    z, y = _drawn(3000, 3, seed=3)
    z = 3.0 * z
    rows = torch.zeros(6000, dtype=torch.float64)
    rows[:3000] = 1.0
    doubled, doubled_y = torch.cat([z, 0.5 * z]), torch.cat([y, y])       # the second half: under-confident
    assert fit_temperature(doubled, doubled_y, rows=rows) == pytest.approx(fit_temperature(z, y), rel=1e-4)
    # a class weight of 0 for classes 1 and 2: only the rows of class 0 are fitted on
    only0 = fit_temperature(z, y, weights=torch.tensor([1.0, 0.0, 0.0]))
    assert only0 == pytest.approx(fit_temperature(z[y == 0], y[y == 0]), rel=1e-4)


def test_the_loss_is_the_mean_cross_entropy_by_hand():
    z = torch.tensor([[[math.log(3.0), 0.0], [0.0, 0.0]]], dtype=torch.float64)     # p(0) = 3/4, then 1/2
    assert float(log_losses(z, torch.tensor([0, 1]))[0]) == pytest.approx((math.log(4 / 3) + math.log(2)) / 2)
    one = torch.tensor([[[math.log(3.0)]]], dtype=torch.float64)                      # sigmoid: p(1) = 3/4
    assert float(log_losses(one, torch.tensor([0]))[0]) == pytest.approx(math.log(4))
