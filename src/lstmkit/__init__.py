"""lstmkit: LSTM-family sequence models, from the gate equations to deployment.

The names below are imported on first use (PEP 562), so ``import lstmkit`` and ``lstmkit --help``
stay fast: ``lstmkit.Forecaster`` loads the forecasting room, ``lstmkit.LSTM`` only ``lstmkit.nn``.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lstmkit.version import __version__

if TYPE_CHECKING:      # what type checkers and IDEs read: each name from the module that defines it
    from lstmkit import serve
    from lstmkit.loading import Estimator, load
    from lstmkit.nn.lstm import LSTM, LSTMCell
    from lstmkit.tasks.classify.estimator import TextClassifier
    from lstmkit.tasks.classify.series_estimator import SequenceClassifier
    from lstmkit.tasks.forecast.estimator import Forecaster
    from lstmkit.tasks.lm.estimator import LanguageModel
    from lstmkit.tasks.speech.estimator import SpeechRecognizer
    from lstmkit.tasks.translate.estimator import Translator

__all__ = ["Forecaster", "TextClassifier", "SequenceClassifier", "Translator", "LanguageModel", "SpeechRecognizer", "LSTM", "LSTMCell", "Estimator", "load",
           "__version__"]

# public name -> the module that defines it
_HOMES = {
    "Forecaster": "lstmkit.tasks.forecast.estimator",
    "TextClassifier": "lstmkit.tasks.classify",
    "SequenceClassifier": "lstmkit.tasks.classify",
    "Translator": "lstmkit.tasks.translate",
    "LanguageModel": "lstmkit.tasks.lm",
    "SpeechRecognizer": "lstmkit.tasks.speech",
    "LSTM": "lstmkit.nn.lstm",
    "LSTMCell": "lstmkit.nn.lstm",
    "Estimator": "lstmkit.loading",
    "load": "lstmkit.loading",
}


# imported on first use: lstmkit.serve (the service's client), lstmkit.inspect (gates, attention)
_SUBMODULES = {"serve", "inspect"}


# hidden from type checkers, which read the imports above: a misspelt name is their error, as it is
# an AttributeError here (a module __getattr__ would make every name valid to them, typed Any)
if not TYPE_CHECKING:
    def __getattr__(name: str) -> Any:
        if name in _SUBMODULES:
            return importlib.import_module(f"lstmkit.{name}")
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module 'lstmkit' has no attribute '{name}'")
        value = getattr(importlib.import_module(home), name)
        globals()[name] = value           # later lookups skip __getattr__
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
