"""``lstmkit.load(run)``: open any finished run folder with the estimator of its task."""
from __future__ import annotations

from pathlib import Path

from lstmkit.errors import LstmkitError
from lstmkit.runs import read_meta

__all__ = ["load"]


def load(run: str | Path):
    """Load a run folder written by any lstmkit task; returns the fitted estimator."""
    task = read_meta(run)["task"]
    if task == "forecast":
        from lstmkit.tasks.forecast.estimator import Forecaster
        return Forecaster.load(run)
    if task == "classify":
        from lstmkit.tasks.classify import load_classifier
        return load_classifier(run)
    if task == "translate":
        from lstmkit.tasks.translate.estimator import Translator
        return Translator.load(run)
    if task == "lm":
        from lstmkit.tasks.lm.estimator import LanguageModel
        return LanguageModel.load(run)
    if task == "speech":
        from lstmkit.tasks.speech.estimator import SpeechRecognizer
        return SpeechRecognizer.load(run)
    raise LstmkitError(f"{run} is a '{task}' run, which this version of lstmkit cannot load",
                       "upgrade lstmkit")
