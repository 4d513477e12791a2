"""Language modelling: next-token LSTM models over lines of text, perplexity, sampling, and a
streaming scorer for shallow fusion in decoders.

The estimators load on first use (PEP 562), so ``lstmkit.tasks.lm.config`` and the CLI's
``--help`` do not import torch.
"""
import importlib

__all__ = ["LanguageModel", "LMScorer", "load"]
_HOMES = {"LanguageModel": "estimator", "LMScorer": "scorer"}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load(run):
    """The fitted LanguageModel saved in ``run`` (what :func:`lstmkit.load` calls)."""
    from lstmkit.tasks.lm.estimator import LanguageModel
    return LanguageModel.load(run)
