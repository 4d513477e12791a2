"""Speech: CTC or attention recognition over characters, and spoken-word classification.

The estimators load on first use (:mod:`lstmkit.lazy`), so ``lstmkit.tasks.speech.config``
and the CLI's ``--help`` do not import torch.
"""
from lstmkit.lazy import lazy_room

__all__ = ["SpeechRecognizer", "load"]
_HOMES = {"SpeechRecognizer": "estimator"}
__getattr__, load = lazy_room(__name__, _HOMES, loader="estimator:SpeechRecognizer.load")
