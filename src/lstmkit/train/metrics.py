"""Classification metrics and their text report, shared by every task that predicts classes
(classify, speech ``--mode classify``); the confusion-matrix plot is :mod:`lstmkit.inspect.confusion`.

    accuracy  = share of correct predictions
    macro-F1  = mean over classes of F1_c = 2 P_c R_c / (P_c + R_c)
    P_c, R_c  = precision and recall of class c (0 when undefined; the text report shows "-")
    ROC-AUC   = area under the ROC curve of P(positive class), two classes only
    majority  = accuracy of always predicting the most frequent training class (the baseline)
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from lstmkit.errors import opt

__all__ = ["classification_metrics", "format_report", "never_predicted"]


def classification_metrics(y_true: Sequence[int], proba: np.ndarray, classes: Sequence[str],
                           majority: int | None = None, sample_weight: np.ndarray | None = None) -> dict[str, Any]:
    """Metrics of predicted class probabilities ``proba [N, C]`` against class indices ``y_true [N]``.

    ``majority`` (a class index) adds the majority-class baseline's accuracy beside the model's.
    Macro-F1 averages the classes that occur among the true or the predicted labels: a class with
    neither (its one example went to training) has no F1 to average, not an F1 of 0.
    ``sample_weight [N]`` (optional) weighs each example in accuracy, precision, recall, F1, ROC-AUC
    and the baseline, as scikit-learn's metrics do (``"weighted": true`` then); ``n``, ``support``
    and the confusion matrix stay counts of examples.
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score  # ~1 s: on use
    y = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape != (y.size, len(classes)):
        raise ValueError(f"Expected proba of shape [{y.size}, {len(classes)}], got {list(proba.shape)}")
    if y.size == 0:
        raise ValueError("Expected at least one example, got 0")
    pred = proba.argmax(axis=1)
    labels = np.arange(len(classes))
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    p, r, f1, weight = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0, sample_weight=w)
    support = np.bincount(y, minlength=len(classes))
    out: dict[str, Any] = {
        "n": int(y.size),
        "accuracy": float(np.average(pred == y, weights=w)),
        "macro_f1": float(f1[(weight > 0) | np.isin(labels, pred)].mean()),
    }
    if w is not None:
        out["weighted"] = True
    if len(classes) == 2:
        seen = y if w is None else y[w > 0]          # a class of weight 0 alone: no curve to draw
        out["roc_auc"] = float(roc_auc_score(y, proba[:, 1], sample_weight=w)) if len(set(seen.tolist())) == 2 else math.nan
    if majority is not None:
        out["majority_baseline_accuracy"] = float(np.average(y == majority, weights=w))
    out["per_class"] = {c: {"precision": float(p[k]), "recall": float(r[k]), "f1": float(f1[k]),
                            "support": int(support[k])} for k, c in enumerate(classes)}
    out["confusion"] = {"labels": list(classes),
                        "matrix": confusion_matrix(y, pred, labels=labels).tolist()}   # rows: true
    return out


MAX_IDLE_ROWS = 5        # rows of classes with no example and no prediction a report lists; more are counted


def format_report(m: dict[str, Any]) -> str:
    """Plain-text summary: headline numbers, then one line per class (more than :data:`MAX_IDLE_ROWS`
    classes with no example and no prediction, rows of dashes alone, counted in one line instead)."""
    head = [f"accuracy {m['accuracy']:.4f}", f"macro-F1 {m['macro_f1']:.4f}"]
    auc = m.get("roc_auc")             # NaN in memory, null once read back from metrics.json
    if isinstance(auc, (int, float)) and not math.isnan(auc):
        head.append(f"ROC-AUC {auc:.4f}")
    if "majority_baseline_accuracy" in m:
        head.append(f"(majority class {m['majority_baseline_accuracy']:.4f})")
    lines = [f"{m['n']} examples: " + "  ".join(head)]
    from rich.cells import cell_len           # a terminal's columns: 中 and 🙂 take two, a combining accent none
    # a score with nothing to divide by is '-', not the 0 metrics.json keeps for it: a class whose one example went
    # to training read "precision 0.0000 recall 0.0000 f1 0.0000 support 0", a failure on examples never shown
    predicted = np.asarray(m["confusion"]["matrix"]).sum(axis=0) if "confusion" in m else None
    # a class with no example here and never predicted is a row of dashes: past a few, one line counts them (200 of
    # 250 classes of two examples, none held out, were 200 such rows between the ones with scores)
    idle = {k for k, s in enumerate(m["per_class"].values()) if predicted is not None and not s["support"]
            and not predicted[k]}
    idle = idle if len(idle) > MAX_IDLE_ROWS else set()
    listed = [(k, c, s) for k, (c, s) in enumerate(m["per_class"].items()) if k not in idle]
    width = max(cell_len("class"), *(cell_len(c) for _, c, _ in listed))
    lines.append(f"{'class'.ljust(width)}  precision  recall      f1  support")
    for k, c, s in listed:
        shown = predicted is None or predicted[k] > 0
        cells = (f"{s['precision']:9.4f}" if shown else f"{'-':>9}", f"{s['recall']:6.4f}" if s["support"] else f"{'-':>6}",
                 f"{s['f1']:6.4f}" if shown or s["support"] else f"{'-':>6}")
        lines.append(f"{c}{' ' * (width - cell_len(c))}  {'  '.join(cells)}  {s['support']:7d}")
    if idle:
        lines.append(f"({len(idle)} more classes with no example here and never predicted: not listed; the "
                     "metrics' per_class, in metrics.json or --json, has every class)")
    return "\n".join(lines)


def never_predicted(m: dict[str, Any], counts: dict[str, int], weighted: bool, part: str) -> str | None:
    """What to say of classes the metrics ``m`` of ``part`` ("the validation part") hold but never
    predicted there (recall 0), or None: the first named with its share of ``counts`` (rows per
    class), and the remedy -- class weights for a class under half its even share while the loss
    is not ``weighted`` by class yet, else more examples or epochs."""
    missed = [c for c, s in m["per_class"].items() if s["support"] and not s["recall"]]
    if not missed:
        return None
    c, total = missed[0], sum(counts.values())
    share = counts.get(c, 0) / total if total else 1.0
    skewed = share < 0.5 / len(counts) and not weighted        # under half its even share
    fix = (f"with classes this skewed, weigh them: {opt('class_weight', 'balanced')}" if skewed
           else f"more examples of it, or more epochs ({opt('patience')}), may help")
    more = f"; {len(missed) - 1} more such classes" if len(missed) > 1 else ""
    return (f"class {c!r} ({share:.1%} of the rows) was never predicted on {part} (recall 0 of "
            f"{m['per_class'][c]['support']}){more}: {fix}")

