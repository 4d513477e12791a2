"""The package's typing promise (PEP 561): ``py.typed`` ships in the wheel, so type checkers read
lstmkit's own annotations, and a user's script written from the README's Python API type-checks
against them with mypy (the dev extra pins it; skipped where it is not installed)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

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
from lstmkit import (LSTM, Forecaster, LanguageModel, LSTMCell, SequenceClassifier, SpeechRecognizer, TextClassifier,
                     Translator, load)
from lstmkit.deploy.streaming import StepStream
from lstmkit.tasks.lm.stream import LMStream
from lstmkit.tasks.speech.stream import SpeechStream
from lstmkit.tasks._base import RunEstimator
from lstmkit.tasks.lm.scorer import LMScorer, ScorerState
from lstmkit.tasks.classify.classifier import Classifier

f = Forecaster(lookback=60, horizon=12, max_epochs=50).fit("sales.csv", target="units", time="date", out="runs")
assert_type(f, Forecaster)
assert_type(f.evaluate("sales.csv"), dict[str, dict[str, float]])
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
assert_type(SequenceClassifier.resume("runs/x"), Classifier)   # the class that wrote the run: a TextClassifier or a SequenceClassifier
assert_type(Translator().fit("pairs.tsv", out="runs").translate(["hallo welt"]), list[str])
assert_type(SpeechRecognizer(mode="ctc").fit("train.csv", out="runs").transcribe(["a.wav"]), list[str])
assert_type(SpeechRecognizer.load("runs/asr").stream(), SpeechStream)
assert_type(tc.stream(), lstmkit.deploy.Stream)

m = load("runs/x")
assert_type(m, RunEstimator)
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
