"""Speech: CTC or attention recognition over characters, and spoken-word classification.

The estimators load on first use (:mod:`lstmkit.lazy`), so ``lstmkit.tasks.speech.config``
and the CLI's ``--help`` do not import torch.
"""
from typing import TYPE_CHECKING

from lstmkit.lazy import lazy_room

if TYPE_CHECKING:                  # what type checkers and IDEs read; run time loads them on first use
    from lstmkit.tasks.speech.estimator import SpeechRecognizer

__all__ = ["SpeechRecognizer", "load"]
_HOMES = {"SpeechRecognizer": "estimator"}
__getattr__, load = lazy_room(__name__, _HOMES, loader="estimator:SpeechRecognizer.load")
