"""Sequence classification: sentiment and topics from text, labels for numeric sequences."""
from lstmkit.tasks.classify.estimator import SequenceClassifier, TextClassifier, load_classifier

__all__ = ["TextClassifier", "SequenceClassifier", "load_classifier", "load"]

load = load_classifier          # the room's entry point for loading a run (see tasks._base.load_run)
