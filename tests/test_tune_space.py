"""The search space of ``lstmkit tune`` from first principles: a range holds its bounds (low == high is
one value), a log scale needs low > 0, int ranges whole bounds; every drawn value lies in its range
on the scale the space names, and what a study recorded is compared with the same distribution."""
from __future__ import annotations

import math

import optuna
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tune_space import describe_range, distribution, parse_space, suggest

KNOWN = {"lr", "hidden_size", "dropout", "lookback"}


@pytest.mark.parametrize("spec", [
    {"type": "float", "low": 0.1, "high": 0.1},                  # one value: low == high is a range
    {"type": "int", "low": 4, "high": 4, "log": True},
    {"type": "float", "low": 1e-9, "high": 1.0, "log": True},    # any low above 0 has a logarithm
    {"type": "float", "low": 0.0, "high": 0.5, "log": False},    # 0 is a bound of a linear range
    {"type": "float", "low": -1.0, "high": 1.0},
    {"type": "int", "low": 4.0, "high": 8.0},                    # whole numbers written as floats
])
def test_a_range_holding_its_bounds_is_accepted_as_written(spec):
    assert parse_space({"lr": dict(spec)}, KNOWN) == {"lr": spec}


@pytest.mark.parametrize("spec, needle", [
    ({"type": "float", "low": 0.2, "high": 0.1}, "empty range (low 0.2 > high 0.1)"),
    ({"type": "float", "low": -0.1, "high": 0.1, "log": True}, "log-scaled but low is -0.1"),
    ({"type": "int", "low": 0, "high": 8, "log": True}, "log-scaled but low is 0"),
    ({"type": "int", "low": 1, "high": 8.5}, "int range with bounds 1, 8.5"),
    ({"type": "float", "low": True, "high": 2}, "bounds of 'lr' must be numbers"),
    ({"type": "float", "low": 0.1}, "needs 'low' and 'high'"),
    ({"type": "float", "low": 0.1, "high": 1, "step": 0.1}, "has an unknown key 'step'"),
    ({"type": "float", "low": 0.1, "high": 1, "lg": 1, "stp": 2}, "has unknown keys 'lg', 'stp'"),
    ({"type": "categorical", "choices": [], "log": True}, "has an unknown key 'log'"),
    ({"type": "choice", "choices": [1]}, "needs a type"),
])
def test_a_range_that_holds_nothing_or_more_than_a_range_is_refused(spec, needle):
    with pytest.raises(LstmkitError, match="^search space: .*" + needle.replace("(", r"\(").replace(")", r"\)")):
        parse_space({"lr": spec}, KNOWN)


def test_a_list_is_a_choice_and_an_unknown_setting_is_refused():
    assert parse_space({"lookback": [24, 48]}, KNOWN) == {"lookback": {"type": "categorical", "choices": [24, 48]}}
    with pytest.raises(LstmkitError, match="unknown setting 'layers'"):
        parse_space({"layers": [1, 2]}, KNOWN)


SPACE = {"hidden_size": {"type": "int", "low": 8, "high": 256, "log": True},
         "lookback": {"type": "int", "low": 2, "high": 5},
         "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
         "dropout": {"type": "float", "low": 0.0, "high": 0.5}}


def test_every_drawn_value_lies_in_its_range_on_the_scale_the_space_names():
    space = parse_space({**SPACE, "lookback": [24, 48, 96]}, KNOWN)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    drawn = []
    for _ in range(200):
        trial = study.ask()
        drawn.append(suggest(trial, space))
        study.tell(trial, 0.0)
    for d in drawn:
        assert isinstance(d["hidden_size"], int) and 8 <= d["hidden_size"] <= 256
        assert 1e-4 <= d["lr"] <= 1e-1 and 0.0 <= d["dropout"] <= 0.5 and d["lookback"] in (24, 48, 96)
    # log scale: log10(lr) is uniform on [-4, -1], so about a third of the draws fall below 1e-3;
    # drawn linearly fewer than 1% would. Linear dropout: about half below 0.25.
    assert 0.2 < sum(d["lr"] < 1e-3 for d in drawn) / len(drawn) < 0.5
    assert 0.35 < sum(d["dropout"] < 0.25 for d in drawn) / len(drawn) < 0.65
    assert 0.35 < sum(d["hidden_size"] < 45 for d in drawn) / len(drawn) < 0.65     # sqrt(8 * 256) ~ 45


def test_the_distribution_a_study_records_is_the_one_suggest_draws_from():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    trial = study.ask()
    suggest(trial, SPACE)
    for key, spec in SPACE.items():
        assert trial.distributions[key] == distribution(optuna, spec), key
    assert distribution(optuna, SPACE["hidden_size"]) == optuna.distributions.IntDistribution(8, 256, log=True)
    assert distribution(optuna, SPACE["dropout"]) == optuna.distributions.FloatDistribution(0.0, 0.5, log=False)
    assert distribution(optuna, {"type": "categorical", "choices": [1, 2]}).choices == (1, 2)


def test_a_range_reads_with_its_kind_and_scale():
    assert describe_range(distribution(optuna, SPACE["hidden_size"])) == "log-scaled int values 8..256"
    assert describe_range(distribution(optuna, SPACE["dropout"])) == "float values 0.0..0.5"
    assert describe_range(optuna.distributions.CategoricalDistribution([24, 48])) == "the choices 24, 48"
    assert math.isclose(distribution(optuna, SPACE["lr"]).low, 1e-4)


@pytest.mark.parametrize("low, high", [(math.nan, 1.0), (0.0, math.inf), (-math.inf, 0.0), (1.0, float("1e999"))])
def test_a_bound_that_is_no_finite_number_is_refused_before_any_trial(low, high):
    """YAML's .nan and .inf (or 1e999) passed the checks, then the first trial was a traceback from optuna:
    OverflowError: Range exceeds valid bounds."""
    for kind in ("float", "int"):
        with pytest.raises(LstmkitError, match="^search space: bounds of 'lr' must be finite numbers, got "):
            parse_space({"lr": {"type": kind, "low": low, "high": high}}, KNOWN)


def test_a_step_key_is_told_to_list_its_values_and_a_misspelt_one_to_be_corrected():
    with pytest.raises(LstmkitError) as step:
        parse_space({"lr": {"type": "float", "low": 0.1, "high": 1, "step": 0.1}}, KNOWN)
    assert step.value.hint.startswith("remove it; for steps, list the values instead")
    with pytest.raises(LstmkitError) as typo:
        parse_space({"lr": {"type": "float", "low": 0.1, "high": 1, "lg": True}}, KNOWN)
    assert typo.value.hint == "remove it or correct its spelling"
