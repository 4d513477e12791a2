"""Sequence classification: sentiment and topics from text, labels for numeric sequences.

The estimators load on first use (:mod:`lstmkit.lazy`), so ``lstmkit.tasks.classify.config``
and the CLI's ``--help`` do not import torch.
"""
from typing import TYPE_CHECKING

from lstmkit.lazy import lazy_room

if TYPE_CHECKING:                  # what type checkers and IDEs read; run time loads them on first use
    from lstmkit.tasks.classify.estimator import SequenceClassifier, TextClassifier, load_classifier

__all__ = ["TextClassifier", "SequenceClassifier", "load_classifier", "load"]
_HOMES = {"TextClassifier": "estimator", "SequenceClassifier": "estimator", "load_classifier": "estimator"}
__getattr__, load = lazy_room(__name__, _HOMES, loader="estimator:load_classifier")
