"""Translation: an LSTM encoder-decoder with attention, greedy and beam search, BLEU and chrF.

The estimators load on first use (:mod:`lstmkit.lazy`), so ``lstmkit.tasks.translate.config``
and the CLI's ``--help`` do not import torch.
"""
from lstmkit.lazy import lazy_room

__all__ = ["Translator", "load"]
_HOMES = {"Translator": "estimator"}
__getattr__, load = lazy_room(__name__, _HOMES, loader="estimator:Translator.load")
