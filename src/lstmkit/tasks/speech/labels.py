"""The labels of a spoken-word classifier (``--mode classify``): its classes, found in the
training and validation texts, each recording's class index, the network's probabilities, and
the scores of predicted labels."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from lstmkit.errors import LstmkitError, opt
from lstmkit.train.metrics import classification_metrics

__all__ = ["fit_classes", "class_indices", "label_metrics", "class_probabilities"]


def fit_classes(texts: Sequence[str]) -> list[str]:
    """The classes of ``texts``, in ``np.unique``'s order (scikit-learn's; the code points' order
    ``sorted`` gives strings): the network's outputs, and what ``lstmkit.json`` records. Fewer than
    two classes, or one recording per class (a pattern that took the whole name), is refused."""
    classes = [str(c) for c in np.unique(np.asarray(list(texts), dtype=object))]
    if len(classes) < 2:
        raise LstmkitError(f"classification needs at least two labels, found only {classes[0]!r}",
                           f"check {opt('label_from_name')} or the manifest's text column")
    if len(classes) == len(texts):      # '{label}' alone takes the whole name: no label repeats
        raise LstmkitError(f"every one of the {len(texts)} recordings has a label of its own "
                           f"(e.g. {texts[0]!r}): no class has two examples to learn from",
                           f"check {opt('label_from_name')} (e.g. '{{label}}_{{speaker}}_{{take}}' takes the part before "
                           "the first '_') or the manifest's text column")
    return classes


def class_indices(classes: Sequence[str], paths: Sequence[str], texts: Sequence[str]) -> list[int]:
    """Each recording's class index in ``classes``; a label that is not one of them is refused."""
    index = {c: k for k, c in enumerate(classes)}
    for p, t in zip(paths, texts):
        if t not in index:
            raise LstmkitError(f"label {t!r} of {p} is not one of the model's classes",
                               f"the classes are: {', '.join(classes)}")
    return [index[t] for t in texts]


def label_metrics(classes: Sequence[str], texts: Sequence[str], hyps: Sequence[str],
                  weights: np.ndarray | None = None, majority: int | None = None,
                  proba: np.ndarray | None = None) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class scores and the confusion matrix of the predicted labels ``hyps``
    against ``texts``, and with ``proba [N, C]`` (the class probabilities ``predict_proba`` gives, in
    ``classes``' order; ``hyps`` their argmax) the calibration (NLL, Brier, ECE) and, of two classes,
    ROC-AUC of a text classifier's metrics; without it, one label each: no ROC-AUC and no calibration
    (a one-hot row read as certainty scored every miss 36 nats). ``weights``: each recording's
    sample weight (a validation part split off weighted data), which the scores weigh; ``majority``
    (a class index: the training data's commonest) adds the majority-class baseline's accuracy, as a
    text classifier's metrics have it (accuracy 0.9 reads differently beside a baseline of 0.9)."""
    index = {c: k for k, c in enumerate(classes)}
    given = proba is not None
    if not given:
        proba = np.zeros((len(hyps), len(classes)))
        proba[np.arange(len(hyps)), [index[h] for h in hyps]] = 1.0
    m = classification_metrics([index[t] for t in texts], proba, list(classes), majority=majority,
                               sample_weight=weights)
    if not given:
        for key in ("roc_auc", "nll", "brier", "ece", "reliability"):
            m.pop(key, None)
    return m


def class_probabilities(logits: torch.Tensor) -> torch.Tensor:
    """The network's logits ``[B, C]`` (``[B]``: two classes, one logit) -> probabilities ``[B, C]``."""
    if logits.dim() == 1:
        return torch.stack([1 - torch.sigmoid(logits), torch.sigmoid(logits)], -1)
    return torch.softmax(logits, -1)
