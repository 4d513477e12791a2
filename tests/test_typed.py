"""The package's typing promise (PEP 561): ``py.typed`` ships in the wheel, so type checkers read
lstmkit's own annotations, and a user's script written from the README's Python API type-checks
against them with mypy (the dev extra pins it; skipped where it is not installed)."""
from __future__ import annotations

import importlib
import inspect
import os
import shutil
import subprocess
import sys
import textwrap
import typing
import zipfile
from pathlib import Path

import pytest

import lstmkit
import lstmkit.deploy
from lstmkit.tasks.forecast.config import ForecastParams

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

# What a user writes (README: Forecasting, The LSTM itself, Language models, Classification...), with
# what a type checker must make of it. The `type: ignore` lines are errors it must report: mypy is
# told to flag an ignore it does not need, so each fails the test once the checker stops seeing it.
USER_SCRIPT = '''
from pathlib import Path
from typing import Any, assert_type

import numpy as np
import torch

import lstmkit
from lstmkit import *
from lstmkit import (LSTM, Estimator, Forecaster, LanguageModel, LSTMCell, SequenceClassifier, SpeechRecognizer,
                     TextClassifier, Translator, load)
from lstmkit.deploy.streaming import StepStream
from lstmkit.tasks.lm.stream import LMStream
from lstmkit.tasks.speech.stream import SpeechStream
from lstmkit.tasks.lm.scorer import LMScorer, ScorerState
from lstmkit.tasks.classify.classifier import Classifier

# the constructors' keyword parameters, typed (PEP 692): a misspelt name or a wrong type is the checker's error
Forecaster(lokback=60)  # type: ignore[call-arg]
Forecaster(lookback="60")  # type: ignore[arg-type]
Forecaster(model="lsmt")  # type: ignore[arg-type]
SequenceClassifier(tokenizer="char")  # type: ignore[call-arg]
TextClassifier(augment="scale-warp")  # type: ignore[call-arg]
Forecaster(target="a,b", quantiles=[0.1, 0.9], progress=False, train={"lr": 0.1}, lr=1)
TextClassifier(init_from="runs/lm", train=None)
Translator(attention="dot", beam=5)
SpeechRecognizer(mode="classify", hidden_size=64)
LanguageModel(level="word", max_epochs=2).set_params(level="bpe")
# fit's settings for this fit and set_params take the constructor's keywords, typed the same (they were Any)
Forecaster().fit("sales.csv", lokback=3)  # type: ignore[call-arg]
Forecaster().fit("sales.csv", target="units", lookback="3")  # type: ignore[arg-type]
Forecaster().set_params(lokback=3)  # type: ignore[call-arg]
Forecaster().set_params(model="lsmt")  # type: ignore[arg-type]
TextClassifier().fit("reviews.csv", augment="scale-warp")  # type: ignore[call-arg]
TextClassifier().set_params(augment="scale-warp")  # type: ignore[call-arg]
SequenceClassifier().fit([[0.0, 1.0]], ["a"], tokenizer="char")  # type: ignore[call-arg]
SequenceClassifier().set_params(tokenizer="char")  # type: ignore[call-arg]
LanguageModel().fit("corpus.txt", levle="char")  # type: ignore[call-arg]
LanguageModel().set_params(level="chars")  # type: ignore[arg-type]
Translator().fit("pairs.tsv", bem=5)  # type: ignore[call-arg]
Translator().set_params(bem=5)  # type: ignore[call-arg]
SpeechRecognizer().fit("train.csv", mode="ctx")  # type: ignore[arg-type]
SpeechRecognizer().set_params(mod="ctc")  # type: ignore[call-arg]
assert_type(Forecaster().fit("sales.csv", target="units", time="date", id="store", features="price", lookback=3,
                             lr=1e-3, train={"patience": 2}), Forecaster)
assert_type(TextClassifier().fit("reviews.csv", min_freq=2, max_epochs=3), TextClassifier)
assert_type(SequenceClassifier().fit([[0.0, 1.0]], ["a"], model="lstm", augment="none"), SequenceClassifier)
assert_type(SequenceClassifier().set_params(model="gru"), SequenceClassifier)
Translator().fit("pairs.tsv", beam=5, embed_dim=32)
SpeechRecognizer().fit("train.csv", mode="ctc", hidden_size=64).set_params(n_mels=40)

f = Forecaster(lookback=60, horizon=12, max_epochs=50).fit("sales.csv", target="units", time="date", out="runs")
assert_type(f, Forecaster)
assert_type(f.evaluate("sales.csv"), dict[str, dict[str, float]])
assert_type(f.evaluate("sales.csv", per_target=True), dict[str, dict[str, dict[str, float]]])
assert_type(f.save("runs/sales"), Path)
assert_type(Forecaster.load("runs/sales"), Forecaster)
assert_type(Forecaster.resume("runs/sales"), Forecaster)
assert_type(f.set_params(lookback=30), Forecaster)
assert_type(f.score("sales.csv"), float)
assert_type(f.backtest("sales.csv", folds=4), dict[str, Any])
assert_type(f.export("onnx"), Path)
s = f.stream()
assert_type(s, lstmkit.deploy.Stream)
assert_type(s.step_noted(412.3), tuple[Any, list[str]])
assert_type(s.save("state.json"), Path)


def every_estimator_is_an_estimator(a: Forecaster, b: TextClassifier, c: SequenceClassifier, d: Translator,
                                     e: LanguageModel, g: SpeechRecognizer) -> list[Estimator]:
    return [a, b, c, d, e, g]


def every_tasks_stream_is_a_step_stream(a: lstmkit.deploy.Stream, b: LMStream, c: SpeechStream) -> list[StepStream]:
    return [a, b, c]

lm = LanguageModel(level="char", hidden_size=256, num_layers=2).fit("corpus.txt", out="runs")
assert_type(lm, LanguageModel)
assert_type(lm.perplexity(["a held-out sentence"]), float)
assert_type(lm.sample(200, prefix="the ", temperature=0.8, seed=0), str)
sc = lm.scorer()
assert_type(sc, LMScorer)
assert_type(sc.advance(sc.initial(), "t"), ScorerState)
assert_type(sc.vocab, list[str])
assert_type(lm.stream(), LMStream)

tc = TextClassifier().fit("reviews.csv", out="runs")
assert_type(tc, TextClassifier)
assert_type(tc.predict(["a fine film"]), np.ndarray)
assert_type(tc.predict_log_proba(["a fine film"]), np.ndarray)
assert_type(tc.set_fit_request(sample_weight=True), TextClassifier)
assert_type(TextClassifier.load("runs/x"), TextClassifier)
assert_type(SequenceClassifier().fit([[0.0, 1.0], [1.0, 0.0]], ["a", "b"]), SequenceClassifier)
assert_type(TextClassifier.resume("runs/x", progress="off", tensorboard=False), Classifier)
TextClassifier.resume("runs/x", progres="off")  # type: ignore[call-arg]
LanguageModel.resume("runs/x", progress="quiet")  # type: ignore[arg-type]
assert_type(Translator.resume("runs/x", src_file="a.en", doctor=None), Translator)
assert_type(SpeechRecognizer.resume("runs/x", device="cpu"), SpeechRecognizer)
assert_type(SequenceClassifier.resume("runs/x"), Classifier)   # the class that wrote the run: a TextClassifier or a SequenceClassifier
assert_type(Translator().fit("pairs.tsv", out="runs").translate(["hallo welt"]), list[str])
assert_type(SpeechRecognizer(mode="ctc").fit("train.csv", out="runs").transcribe(["a.wav"]), list[str])
assert_type(SpeechRecognizer.load("runs/asr").stream(), SpeechStream)
assert_type(tc.stream(), lstmkit.deploy.Stream)
# one name for one idea across the tasks: val_data=, resume(RUN, data), score(data=...)
assert_type(LanguageModel().fit("corpus.txt", val_data="held.txt"), LanguageModel)
assert_type(LanguageModel.resume("runs/x", val_data="held.txt"), LanguageModel)
assert_type(Translator.resume("runs/x", "pairs.tsv", "val.tsv"), Translator)
assert_type(SpeechRecognizer.load("runs/asr").score(data="test.csv"), float)
# another task's method is still no attribute to a type checker (at run time: lstmkit.errors.NotThisTask)
Translator().predict_proba(["hallo"])  # type: ignore[attr-defined]
TextClassifier().update(["good"])  # type: ignore[attr-defined]

m = load("runs/x")
assert_type(m, Estimator)
assert_type(m.stream(), StepStream)
m.predict("sales.csv")
assert_type(m.evaluate("sales.csv"), dict[str, Any])
assert_type(lstmkit.load("runs/x").export("int8"), Path)
assert_type(lstmkit.__version__, str)
lstmkit.Forcaster  # type: ignore[attr-defined]
import lstmkit.deploy
from lstmkit.deploy import Stream, serve
assert_type(lstmkit.deploy.Stream, type[Stream])
lstmkit.deploy.Strem  # type: ignore[attr-defined]
serve("runs/x", port="8000")  # type: ignore[arg-type]

x = torch.zeros(2, 5, 8)
lstm = LSTM(input_size=8, hidden_size=32, num_layers=2, bidirectional=True)
out, (h, c) = lstm.forward(x, lengths=[5, 3])
out, (h, c), gates = lstm.forward(x, record_gates=True)
assert_type(gates, dict[str, torch.Tensor])
out, (h, c) = lstm.forward(x, record_gates=True)  # type: ignore[misc]
assert_type(lstm.step(x[:, 0]), tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]])
assert_type(LSTMCell(8, 16).forward(x[:, 0]), tuple[torch.Tensor, torch.Tensor])
'''

# lstmkit is read whole (its errors not reported: `silent`); the libraries below it are skipped, their
# names Any, which keeps a cold run near 10 s instead of 40 s reading torch and pandas
THIRD_PARTY = ("torch numpy pandas sklearn scipy statsmodels matplotlib optuna tensorboard onnx onnxruntime tokenizers "
               "sacrebleu typer click rich pyarrow safetensors yaml holidays fastapi uvicorn starlette pydantic jiwer "
               "soundfile threadpoolctl httpx websockets openpyxl zstandard polars").split()
MYPY_INI = f"""
[mypy]
warn_unused_ignores = True
follow_imports = silent
[mypy-{",".join(f"{name}.*" for name in THIRD_PARTY)}]
follow_imports = skip
ignore_missing_imports = True
"""


def test_py_typed_ships_in_the_wheel(tmp_path):
    pytest.importorskip("setuptools")
    tree = tmp_path / "tree"          # a copy: a build writes build/ and *.egg-info beside the sources
    shutil.copytree(SRC, tree / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    out = subprocess.run([sys.executable, "-c", "from setuptools import build_meta as b; print(b.build_wheel('dist'))"],
                         cwd=tree, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    names = zipfile.ZipFile(tree / "dist" / out.stdout.split()[-1]).namelist()
    assert "lstmkit/py.typed" in names


def test_a_users_script_type_checks_against_the_annotations(tmp_path):
    pytest.importorskip("mypy")
    (tmp_path / "user.py").write_text(textwrap.dedent(USER_SCRIPT))
    (tmp_path / "mypy.ini").write_text(MYPY_INI)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--cache-dir", "cache",
                          "--no-error-summary", "user.py"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stdout + out.stderr


# -- the annotations at run time: what typing.get_type_hints (pydantic, typer, sphinx-autodoc) and inspect.signature read
PUBLIC_MODULES = ["lstmkit", "lstmkit.serve", "lstmkit.deploy", "lstmkit.nn"]


def _own(obj) -> bool:
    return getattr(obj, "__module__", "").partition(".")[0] == "lstmkit"


def _named_classes(hint, found: set) -> None:
    """The lstmkit classes a resolved hint names, however deep (``list[StepStream] | None``, ``Unpack[ForecastParams]``)."""
    if isinstance(hint, type) and _own(hint):
        found.add(hint)
    for arg in typing.get_args(hint):
        _named_classes(arg, found)


def _public_api() -> dict[str, object]:
    """Every public class and function of PUBLIC_MODULES (their ``__all__``), every public method of those
    classes (``__init__`` too; inherited ones from lstmkit's own bases), and so on for every lstmkit class
    their resolved annotations name (``Estimator``, ``StepStream``, ``ForecastParams``, ``ForecastConfig``, ...)."""
    todo = [getattr(importlib.import_module(m), name) for m in PUBLIC_MODULES
            for name in importlib.import_module(m).__all__ if name != "__version__"]
    seen: dict[str, object] = {}
    while todo:
        obj = todo.pop()
        if not callable(obj) or f"{obj.__module__}.{obj.__qualname__}" in seen:
            continue
        seen[f"{obj.__module__}.{obj.__qualname__}"] = obj
        targets = [obj]
        if isinstance(obj, type):
            for name in dir(obj):
                if name.startswith("_") and name != "__init__":
                    continue
                raw = inspect.getattr_static(obj, name)
                raw = raw.fget if isinstance(raw, property) else getattr(raw, "__func__", raw)
                if inspect.isfunction(raw) and _own(raw):
                    seen[f"{obj.__module__}.{obj.__qualname__}.{name}"] = raw
                    targets.append(raw)
        named: set = set()
        for target in targets:
            try:
                hints = typing.get_type_hints(target)
            except Exception:             # noqa: BLE001 (the test names it)
                continue
            for hint in hints.values():
                _named_classes(hint, named)
        todo += sorted(named, key=lambda c: c.__qualname__)
    return seen


def test_get_type_hints_resolves_every_public_annotation():
    """``typing.get_type_hints`` raised NameError on 13 public methods (a name imported for type checkers
    only: ``Forecaster.stream``'s StepStream, ``predict_log_proba``'s np, ``get_metadata_routing``'s
    MetadataRequest, ``lstmkit.load``'s RunEstimator); it resolves every one, without importing torch or
    scikit-learn where the annotating module does not (module_on_use)."""
    failures = {}
    api = _public_api()
    for name, obj in api.items():
        try:
            typing.get_type_hints(obj)
        except Exception as e:            # noqa: BLE001
            failures[name] = repr(e)
    assert not failures, failures
    assert len(api) > 200                 # the walk reaches the estimators' methods and the types they name
    for name in ("lstmkit.loading.Estimator", "lstmkit.deploy.step_stream.StepStream",
                 "lstmkit.tasks.forecast.config.ForecastParams", "lstmkit.tasks.classify.config.SequenceClassifierParams"):
        assert name in api
    hints = typing.get_type_hints(lstmkit.load)
    assert hints["return"] is lstmkit.Estimator
    assert typing.get_type_hints(lstmkit.Forecaster.__init__)["params"] == typing.Unpack[ForecastParams]


def test_every_public_callable_has_a_readable_signature_and_help():
    """``inspect.signature`` and ``help()`` on each public callable show its own parameters:
    ``lstmkit.deploy.serve`` and ``create_app`` were wrappers reading ``(*args, **kwargs)``."""
    import pydoc
    for name, obj in _public_api().items():
        if typing.is_typeddict(obj) or getattr(obj, "_is_protocol", False):     # types to annotate with, not to call
            continue
        sig = inspect.signature(obj)
        kinds = [p.kind for p in sig.parameters.values()]
        assert kinds != [inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD] or name.endswith(
            ("fit", "predict", "evaluate", "score", "predict_log_proba")), f"{name}{sig}"
        assert "'\"" not in str(sig) and "\"'" not in str(sig), f"{name}{sig}"     # a quoted name quoted again
    assert str(inspect.signature(lstmkit.deploy.serve)).startswith("(runs, host: str = '127.0.0.1', port: int = 8000")
    for name in lstmkit.__all__[:-1]:
        shown = pydoc.render_doc(getattr(lstmkit, name), renderer=pydoc.plaintext)
        assert name in shown
    forecaster = pydoc.render_doc(lstmkit.Forecaster, renderer=pydoc.plaintext)
    assert "Forecaster(config: 'ForecastConfig | None' = None, *, target: 'list[str] | str | int' = []" in forecaster
    assert "lookback = None  -- past steps the model sees" in forecaster
