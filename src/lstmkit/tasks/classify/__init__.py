"""Sequence classification: sentiment and topics from text, labels for numeric sequences.

The estimators load on first use (PEP 562), so ``lstmkit.tasks.classify.config`` and the CLI's
``--help`` do not import torch.
"""
import importlib

__all__ = ["TextClassifier", "SequenceClassifier", "load_classifier", "load"]
_HOMES = {"TextClassifier": "estimator", "SequenceClassifier": "estimator", "load_classifier": "estimator"}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load(run):
    """The fitted TextClassifier or SequenceClassifier saved in ``run`` (what :func:`lstmkit.load` calls)."""
    from lstmkit.tasks.classify.estimator import load_classifier
    return load_classifier(run)
