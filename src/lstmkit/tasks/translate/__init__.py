"""Translation: an LSTM encoder-decoder with attention, greedy and beam search, BLEU and chrF.

The estimators load on first use (PEP 562), so ``lstmkit.tasks.translate.config`` and the CLI's
``--help`` do not import torch.
"""
import importlib

__all__ = ["Translator", "load"]
_HOMES = {"Translator": "estimator"}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load(run):
    """The fitted Translator saved in ``run`` (what :func:`lstmkit.load` calls)."""
    from lstmkit.tasks.translate.estimator import Translator
    return Translator.load(run)
