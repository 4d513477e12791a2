"""The probabilistic scores against hand computation and numerical integration."""
import numpy as np
import pytest
from scipy import integrate, stats

from lstmkit.tasks.forecast.probabilistic import probabilistic_metrics


def _pinball(y: float, q: float, tau: float) -> float:
    return tau * (y - q) if y >= q else (1 - tau) * (q - y)


def test_wql_crps_and_coverage_of_quantiles_by_hand():
    """wQL = mean over levels of 2 Σ ρ / Σ |y|; a quantile model's CRPS 2 · mean ρ; coverage_80 the share of
    actual values in [q0.1, q0.9], both ends in."""
    levels, qs, ys = [0.1, 0.5, 0.9], [1.0, 2.0, 3.0], [1.0, 2.0, 4.0]
    params = np.broadcast_to(qs, (3, 1, 1, 3)).copy()                        # [n, horizon, T, Q]
    m = probabilistic_metrics("quantile", params, np.array(ys).reshape(3, 1, 1), levels)
    per_level = [sum(_pinball(y, q, tau) for y in ys) for q, tau in zip(qs, levels)]   # 0.4, 1.5, 1.2
    assert per_level == pytest.approx([0.4, 1.5, 1.2])
    assert m["wQL"] == pytest.approx(np.mean([2 * s / 7.0 for s in per_level]))
    assert m["CRPS"] == pytest.approx(2 * sum(per_level) / 9)
    assert set(m) == {"wQL", "CRPS", "coverage_80"} and m["coverage_80"] == pytest.approx(2 / 3)
    small = probabilistic_metrics("quantile", params / 100, np.array(ys).reshape(3, 1, 1) / 100, levels)
    assert small["wQL"] == pytest.approx(m["wQL"])                         # scale-free: Σ |y| of 0.07 as of 7


def test_a_coverage_is_reported_only_for_a_central_interval_whose_both_ends_are_levels():
    params = np.broadcast_to([1.0, 2.0, 3.0], (3, 1, 1, 3)).copy()
    y = np.array([1.0, 2.0, 4.0]).reshape(3, 1, 1)
    assert set(probabilistic_metrics("quantile", params, y, [0.1, 0.5, 0.8])) == {"wQL", "CRPS", "coverage_q0.1",
                                                                                   "coverage_q0.8"}
    assert set(probabilistic_metrics("quantile", params, y, [0.2, 0.5, 0.8])) == {"wQL", "CRPS", "coverage_60"}


@pytest.mark.parametrize("levels, want", [
    ([0.05, 0.5, 0.9], {"coverage_q0.05": 1 / 5, "coverage_q0.9": 4 / 5}),
    ([0.1, 0.5, 0.9, 0.95], {"coverage_80": 4 / 5, "coverage_q0.95": 5 / 5}),   # 0.95's share beside the pair's
    ([0.3, 0.4, 0.55], {"coverage_q0.3": 1 / 5}),                                # 0.4 and 0.55 read the median
])
def test_a_level_in_no_pair_reports_the_share_of_actual_values_at_or_below_it(levels, want):
    """A run of --quantiles 0.05,0.5,0.9 (calibrated each level on its own since `intervals.tails`) reported no
    score of either end but wQL and CRPS: each such level now reports the share of actual values at or below it,
    its own level when it is calibrated, beside the coverage of each central interval; the levels the median is
    read from report none."""
    qs = {0.05: 1.0, 0.1: 1.0, 0.3: 1.0, 0.4: 1.9, 0.5: 2.0, 0.55: 2.1, 0.9: 4.0, 0.95: 5.0}
    params = np.broadcast_to([qs[v] for v in levels], (5, 1, 1, len(levels))).copy()
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0]).reshape(5, 1, 1)                    # at the level counts as below it
    m = probabilistic_metrics("quantile", params, y, levels)
    assert {k: v for k, v in m.items() if k.startswith("coverage")} == pytest.approx(want)
    assert list(want) == [k for k in m if k.startswith("coverage")]


def _crps_by_integration(y: float, cdf) -> float:
    """CRPS(F, y) = ∫ (F(x) - 1{x >= y})² dx."""
    return (integrate.quad(lambda x: cdf(x) ** 2, -np.inf, y)[0]
            + integrate.quad(lambda x: (1 - cdf(x)) ** 2, y, np.inf)[0])


@pytest.mark.parametrize("df", [2.5, 4.0, 30.0])
def test_the_student_t_crps_is_the_integral_of_its_squared_cdf_error(df):
    """Scored on a grid of its quantiles: 99 levels 0.01 .. 0.99 averaged (a width of 0.99 divided as if
    it were 1, the tails left out) read 1 % high on every point, against a Gaussian's exact CRPS."""
    ys = np.array([0.0, 1.5, -4.0, 20.0])
    params = np.broadcast_to([2.0, 3.0, df], (4, 1, 1, 3)).copy()            # loc 2, scale 3
    got = probabilistic_metrics("studentt", params, ys.reshape(4, 1, 1), [0.1, 0.5, 0.9])["CRPS"]
    exact = np.mean([_crps_by_integration(y, lambda x: stats.t.cdf(x, df, 2.0, 3.0)) for y in ys])
    assert got == pytest.approx(exact, rel=3e-3)
    gauss = np.broadcast_to([2.0, 3.0], (4, 1, 1, 2)).copy()
    exact_gauss = np.mean([_crps_by_integration(y, lambda x: stats.norm.cdf(x, 2.0, 3.0)) for y in ys])
    assert probabilistic_metrics("gaussian", gauss, ys.reshape(4, 1, 1), [0.1, 0.9])["CRPS"] == pytest.approx(
        exact_gauss, rel=1e-6)


def test_wql_is_nan_where_every_actual_is_0_and_the_crps_still_scores_the_quantiles():
    """wQL divides by Σ |y|: nothing to divide by when every actual is 0 (NaN, not inf); the CRPS,
    2 · mean ρ, is ρ_0.1(0, -1) = 0.1, ρ_0.5(0, 0) = 0, ρ_0.9(0, 1) = 0.1 averaged, doubled."""
    params = np.broadcast_to([-1.0, 0.0, 1.0], (2, 1, 1, 3)).copy()
    m = probabilistic_metrics("quantile", params, np.zeros((2, 1, 1)), [0.1, 0.5, 0.9])
    assert np.isnan(m["wQL"]) and m["CRPS"] == pytest.approx(2 * 0.2 / 3)


def test_a_gaussians_interval_is_loc_plus_or_minus_its_scaled_normal_quantile():
    """N(10, 2)'s 80 % interval is 10 ± 2 · 1.28155 = [7.437, 12.563], both ends in: of 7.5, 12.5 and 10
    inside and 7.3, 12.7 outside, coverage 3 / 5."""
    ys = np.array([7.5, 12.5, 10.0, 7.3, 12.7]).reshape(5, 1, 1)
    params = np.broadcast_to([10.0, 2.0], (5, 1, 1, 2)).copy()
    assert probabilistic_metrics("gaussian", params, ys, [0.1, 0.9])["coverage_80"] == pytest.approx(0.6)
    t = np.broadcast_to([10.0, 2.0, 1e6], (5, 1, 1, 3)).copy()                     # a Student-t of df 1e6: the same
    assert probabilistic_metrics("studentt", t, ys, [0.1, 0.9])["coverage_80"] == pytest.approx(0.6)


@pytest.mark.parametrize("loc, low, high, ys, crps", [
    (-5.0, 0.0, np.inf, [0.0, 0.5], 0.25),        # floored at 0: (almost) all its mass at 0, CRPS |y - 0|
    (105.0, -np.inf, 100.0, [100.0, 99.0], 0.5),  # capped at 100: all at 100, CRPS |y - 100|
])
def test_a_likelihood_beyond_its_bound_is_a_point_mass_at_the_bound_in_every_score(loc, low, high, ys, crps):
    """Censored, N(loc, 1) five scales beyond a bound puts all but 3e-7 of its mass at the bound: both ends
    of its 80 % interval are the bound (an actual at it covered, one off it not) and its CRPS is
    |y - bound|, the score of that point."""
    y = np.array(ys).reshape(2, 1, 1)
    lo, hi = np.full(y.shape, low), np.full(y.shape, high)
    params = np.broadcast_to([loc, 1.0], (2, 1, 1, 2)).copy()
    m = probabilistic_metrics("gaussian", params, y, [0.1, 0.5, 0.9], lo, hi)
    assert m["coverage_80"] == 0.5
    assert m["CRPS"] == pytest.approx(crps, abs=1e-5)


def test_a_gaussian_of_scale_0_is_a_point_mass_whose_crps_is_the_absolute_error():
    """CRPS(δ_x, y) = |y - x| by definition; censored, the mass sits at the clipped location: loc 2 against
    5 scores 3, loc -1 floored at 0 against 2 scores 2, loc 7 capped at 4 against 1 scores 3."""
    from lstmkit.tasks.forecast.probabilistic import censored_normal_crps
    got = censored_normal_crps(np.array([5.0, 2.0, 1.0]), np.array([2.0, -1.0, 7.0]), np.zeros(3),
                               np.array([-np.inf, 0.0, -np.inf]), np.array([np.inf, np.inf, 4.0]))
    assert got.tolist() == [3.0, 2.0, 3.0]
