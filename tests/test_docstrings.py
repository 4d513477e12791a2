"""The public Python API's docstrings say what each parameter is.

Every function and method of the names ``lstmkit`` exports (``lstmkit.__all__``) names each of its
parameters in its docstring (as ``name``, ``name=`` or ``**name``), so ``help()`` and an IDE's
tooltip explain every argument; a parameter added without a word fails here. The ones not yet
described are listed in KNOWN_GAPS, which must shrink, never grow: a gap closed and left on the list
fails too. An estimator's constructor is documented by the ``Parameters`` section generated from its
config: the names and defaults it lists are the signature's.
"""
from __future__ import annotations

import inspect
import re

import pytest

import lstmkit

ESTIMATORS = ["Forecaster", "TextClassifier", "SequenceClassifier", "Translator", "LanguageModel", "SpeechRecognizer"]

# function (module.qualname) -> parameters its docstring does not name yet
KNOWN_GAPS: dict[str, list[str]] = {}


def public_functions() -> dict[str, object]:
    """Each public function and method of lstmkit's exports, once each, by where it is defined."""
    found: dict[str, object] = {}
    for name in lstmkit.__all__:
        if name == "__version__":
            continue
        value = getattr(lstmkit, name)
        if not inspect.isclass(value):
            found[f"{value.__module__}.{value.__qualname__}"] = value
            continue
        for attr in dir(value):
            member = inspect.getattr_static(value, attr)
            function = getattr(member, "__func__", member)
            if attr.startswith("_") or not inspect.isfunction(function):
                continue
            if not function.__module__.startswith("lstmkit"):
                continue
            found[f"{function.__module__}.{function.__qualname__}"] = function
    return found


def unnamed_parameters(function) -> list[str]:
    """The parameters of ``function`` its docstring does not name (``x``, ``x=``, ``*x``, ``**x``)."""
    doc = inspect.getdoc(function) or ""
    missing = []
    for name, parameter in inspect.signature(function).parameters.items():
        if name in ("self", "cls"):
            continue
        if not re.search(r"(`\**|\b)" + re.escape(name) + r"(`|=)", doc):
            missing.append(name)
    return missing


def all_gaps() -> dict[str, list[str]]:
    gaps = {key: unnamed_parameters(f) for key, f in public_functions().items()}
    return {key: names for key, names in gaps.items() if names}


def test_every_public_parameter_is_named_in_its_docstring():
    gaps = all_gaps()
    new = {key: sorted(set(names) - set(KNOWN_GAPS.get(key, []))) for key, names in gaps.items()}
    assert not {k: v for k, v in new.items() if v}, "say what each of these parameters is, in its docstring"
    closed = {key: sorted(set(names) - set(gaps.get(key, []))) for key, names in KNOWN_GAPS.items()}
    assert not {k: v for k, v in closed.items() if v}, "documented now: take them off KNOWN_GAPS"


def test_the_checker_finds_an_unnamed_parameter_and_accepts_each_way_of_naming_one():
    def f(data, lookback=3, *args, out=None, **overrides):
        """Read ``data`` with ``lookback=``; ``*args`` go on; ``**overrides`` are settings."""
    assert unnamed_parameters(f) == ["out"]
    assert public_functions()["lstmkit.tasks._base.RunEstimator.stream"] is lstmkit.Forecaster.stream
    assert "lstmkit.tasks.forecast.estimator.Forecaster.update" in public_functions()


@pytest.mark.parametrize("name", ESTIMATORS)
def test_the_parameters_section_lists_the_signatures_names_and_defaults(name):
    estimator = getattr(lstmkit, name)
    doc = inspect.getdoc(estimator)
    section = doc[doc.index("Parameters (fields of"):]
    listed = dict(re.findall(r"^    (\w+) = (.*?)  -- ", section, flags=re.M))
    signature = inspect.signature(estimator).parameters
    assert set(listed) == set(signature) - {"config"}
    assert {key: repr(signature[key].default) for key in listed} == listed
