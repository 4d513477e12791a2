"""Sequence classification: sentiment and topics from text, labels for numeric sequences."""
from lstmkit.tasks.classify.estimator import SequenceClassifier, TextClassifier, load_classifier

__all__ = ["TextClassifier", "SequenceClassifier", "load_classifier"]
