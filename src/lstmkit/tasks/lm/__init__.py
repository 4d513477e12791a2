"""Language modelling: next-token LSTM models over lines of text, perplexity, sampling, and a
streaming scorer for shallow fusion in decoders.

The estimators load on first use (:mod:`lstmkit.lazy`), so ``lstmkit.tasks.lm.config``
and the CLI's ``--help`` do not import torch.
"""
from typing import TYPE_CHECKING

from lstmkit.lazy import lazy_room

if TYPE_CHECKING:                  # what type checkers and IDEs read; run time loads them on first use
    from lstmkit.tasks.lm.estimator import LanguageModel
    from lstmkit.tasks.lm.scorer import LMScorer

__all__ = ["LanguageModel", "LMScorer", "load"]
_HOMES = {"LanguageModel": "estimator", "LMScorer": "scorer"}
__getattr__, load = lazy_room(__name__, _HOMES, loader="estimator:LanguageModel.load")
