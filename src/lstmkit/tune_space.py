"""Search spaces for ``lstmkit tune``: a YAML mapping of config keys to ranges, checked, and drawn
from by an optuna trial::

    hidden_size: {type: int, low: 16, high: 128, log: true}
    dropout: {type: float, low: 0.0, high: 0.5}
    lookback: [24, 48, 96]          # a list is a categorical choice
"""
from __future__ import annotations

import math
from typing import Any

from lstmkit.errors import LstmkitError

__all__ = ["parse_space", "suggest", "distribution", "describe_range"]

_KEYS = {"int": ("type", "low", "high", "log"), "float": ("type", "low", "high", "log"),
         "categorical": ("type", "choices")}        # what an entry of each type may hold


def parse_space(raw: dict[str, Any], known: set[str]) -> dict[str, dict[str, Any]]:
    """Validate a search space; every problem is an LstmkitError naming the key."""
    if not isinstance(raw, dict):
        raise LstmkitError(f"the search space must be a mapping of settings to ranges, got {type(raw).__name__}",
                           "write e.g. {'lr': {'type': 'float', 'low': 1e-4, 'high': 1e-2, 'log': True}}")
    if not raw:
        raise LstmkitError("the search space is empty",
                           "name at least one setting, e.g. 'lr: {type: float, low: 1e-4, high: 1e-2, log: true}'")
    space = {}
    for key, spec in raw.items():
        if key not in known:
            raise LstmkitError(f"search space: unknown setting {key!r}", f"known settings: {', '.join(sorted(known))}")
        if isinstance(spec, list):
            spec = {"type": "categorical", "choices": spec}
        if not isinstance(spec, dict) or spec.get("type") not in ("int", "float", "categorical"):
            raise LstmkitError(f"search space: {key!r} needs a type (int, float or categorical)",
                               "write e.g. '{type: int, low: 1, high: 3}' or a list of choices")
        allowed = _KEYS[spec["type"]]
        extra = [k for k in spec if k not in allowed]
        if extra:                             # a `step: 2` or a misspelt `lg: true` was dropped without a word
            raise LstmkitError(f"search space: {key!r} has {'an unknown key' if len(extra) == 1 else 'unknown keys'} "
                               f"{', '.join(map(repr, extra))} (an entry of type {spec['type']} holds {', '.join(allowed)})",
                               "remove it; for steps, list the values instead, e.g. '[16, 32, 64]'"
                               if "step" in extra else "remove it or correct its spelling")
        if spec["type"] == "categorical":
            # `choices: 16` was a traceback when the choices were checked; `choices: "24"` drew "2" and "4"
            if not isinstance(spec.get("choices", []), list):
                raise LstmkitError(f"search space: the choices of {key!r} must be a list, got {spec['choices']!r}",
                                   f"write them as a list, e.g. '{key}: [16, 32, 64]'")
            if not spec.get("choices"):
                raise LstmkitError(f"search space: {key!r} has no choices (an empty range)", "list at least one value")
        else:
            if "low" not in spec or "high" not in spec:
                raise LstmkitError(f"search space: {key!r} needs 'low' and 'high'", "give both bounds")
            low, high = spec["low"], spec["high"]
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
                raise LstmkitError(f"search space: bounds of {key!r} must be numbers, got {low!r} and {high!r}",
                                   "write numbers such as 1e-4")
            if not all(math.isfinite(v) for v in (low, high)):
                # YAML's .nan or .inf (or 1e999) passed every check here, then each trial was optuna's
                # OverflowError "Range exceeds valid bounds"
                raise LstmkitError(f"search space: bounds of {key!r} must be finite numbers, got {low!r} and {high!r}",
                                   "write numbers such as 1e-4")
            if low > high:
                raise LstmkitError(f"search space: {key!r} has an empty range (low {low} > high {high})",
                                   "make low <= high")
            if spec.get("log") and low <= 0:
                raise LstmkitError(f"search space: {key!r} is log-scaled but low is {low}", "use low > 0 or log: false")
            if spec["type"] == "int" and not (float(low).is_integer() and float(high).is_integer()):
                raise LstmkitError(f"search space: {key!r} is an int range with bounds {low}, {high}",
                                   "use whole numbers or type: float")
        space[key] = spec
    return space


def suggest(trial, space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One trial's settings, drawn by optuna's ``trial`` from ``space``."""
    out = {}
    for key, spec in space.items():
        if spec["type"] == "int":
            out[key] = trial.suggest_int(key, int(spec["low"]), int(spec["high"]), log=bool(spec.get("log")))
        elif spec["type"] == "float":
            out[key] = trial.suggest_float(key, float(spec["low"]), float(spec["high"]), log=bool(spec.get("log")))
        else:
            out[key] = trial.suggest_categorical(key, list(spec["choices"]))
    return out


def distribution(optuna, spec: dict[str, Any]):
    """The optuna distribution :func:`suggest` draws ``spec`` from."""
    d = optuna.distributions
    if spec["type"] == "int":
        return d.IntDistribution(int(spec["low"]), int(spec["high"]), log=bool(spec.get("log")))
    if spec["type"] == "float":
        return d.FloatDistribution(float(spec["low"]), float(spec["high"]), log=bool(spec.get("log")))
    return d.CategoricalDistribution(list(spec["choices"]))


def describe_range(dist) -> str:
    """An optuna distribution in words, for a message."""
    if hasattr(dist, "choices"):
        return "the choices " + ", ".join(map(str, dist.choices))
    kind = "int" if isinstance(dist.low, int) else "float"
    return f"{'log-scaled ' if dist.log else ''}{kind} values {dist.low}..{dist.high}"
