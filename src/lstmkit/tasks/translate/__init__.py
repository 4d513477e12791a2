"""Translation: an LSTM encoder-decoder with attention, greedy and beam search, BLEU and chrF.

The estimators load on first use (:mod:`lstmkit.lazy`), so ``lstmkit.tasks.translate.config``
and the CLI's ``--help`` do not import torch.
"""
from typing import TYPE_CHECKING

from lstmkit.lazy import lazy_room

if TYPE_CHECKING:                  # what type checkers and IDEs read; run time loads them on first use
    from lstmkit.tasks.translate.estimator import Translator

__all__ = ["Translator", "load"]
_HOMES = {"Translator": "estimator"}
__getattr__, load = lazy_room(__name__, _HOMES, loader="estimator:Translator.load")
