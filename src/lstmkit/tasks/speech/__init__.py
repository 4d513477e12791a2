"""Speech: CTC or attention recognition over characters, and spoken-word classification.

The estimators load on first use (PEP 562), so ``lstmkit.tasks.speech.config`` and the CLI's
``--help`` do not import torch.
"""
import importlib

__all__ = ["SpeechRecognizer", "load"]
_HOMES = {"SpeechRecognizer": "estimator"}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load(run):
    """The fitted SpeechRecognizer saved in ``run`` (what :func:`lstmkit.load` calls)."""
    from lstmkit.tasks.speech.estimator import SpeechRecognizer
    return SpeechRecognizer.load(run)
