"""Classification metrics and their text report, shared by every task that predicts classes
(classify, speech ``--mode classify``); the confusion-matrix plot is :mod:`lstmkit.inspect.confusion`.

    accuracy  = share of correct predictions
    macro-F1  = mean over classes of F1_c = 2 P_c R_c / (P_c + R_c)
    P_c, R_c  = precision and recall of class c (0 when undefined; the text report shows "-")
    ROC-AUC   = area under the ROC curve of P(positive class), two classes only
    majority  = accuracy of always predicting the most frequent training class (the baseline)

Calibration, of the same probabilities ``predict_proba`` returns (p_ic: example i, class c; y_i its class):

    nll       = mean_i -log p_i,y_i (scikit-learn's ``log_loss``: a probability of 0 clipped to float64's
                machine epsilon, so a confident miss costs 36.04 nats, not infinity)
    brier     = scikit-learn's ``brier_score_loss``: two classes, mean_i (p_i,pos - [y_i = pos])^2 (0 to 1);
                more, mean_i sum_c (p_ic - [y_i = c])^2 (0 to 2)
    ece       = expected calibration error, 15 equal-width bins of confidence conf_i = max_c p_ic
                ((0, 1/15], (1/15, 2/15], ... (14/15, 1]): sum_b |B_b|/N |acc(B_b) - conf(B_b)|, acc the
                share of B_b's examples whose argmax is right, conf their mean confidence
    reliability = those bins: ``edges`` [16], and per bin ``count``, ``confidence`` and ``accuracy``
                (null in an empty bin), what ``plots/reliability.png`` draws
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from lstmkit.errors import opt

__all__ = ["classification_metrics", "calibration", "format_report", "never_predicted", "ECE_BINS"]

ECE_BINS = 15           # equal-width confidence bins of the expected calibration error (Guo et al., 2017)


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
    out.update(calibration(y, proba, w))
    if majority is not None:
        out["majority_baseline_accuracy"] = float(np.average(y == majority, weights=w))
    out["per_class"] = {c: {"precision": float(p[k]), "recall": float(r[k]), "f1": float(f1[k]),
                            "support": int(support[k])} for k, c in enumerate(classes)}
    out["confusion"] = {"labels": list(classes),
                        "matrix": confusion_matrix(y, pred, labels=labels).tolist()}   # rows: true
    return out


def calibration(y: np.ndarray, proba: np.ndarray, sample_weight: np.ndarray | None = None,
                bins: int = ECE_BINS) -> dict[str, Any]:
    """``nll``, ``brier``, ``ece`` and the ``reliability`` bins (the module's docstring defines them) of
    ``proba [N, C]`` against class indices ``y [N]``; ``sample_weight [N]`` weighs each example in
    every one (a bin's ``count`` stays a count of examples)."""
    from sklearn.metrics import brier_score_loss, log_loss
    y = np.asarray(y, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    # a float32 softmax sums to 1 within 1e-7, past scikit-learn's float64 tolerance: every fit and evaluate of three
    # or more classes printed "UserWarning: The y_prob values do not sum to one" twice; rows are rescaled to sum to 1
    total = proba.sum(axis=1, keepdims=True)
    proba = np.divide(proba, total, out=proba.copy(), where=total > 0)
    labels = np.arange(proba.shape[1])
    w = np.ones(y.size) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    conf = proba.max(axis=1)
    hit = (proba.argmax(axis=1) == y).astype(np.float64)
    # bin b holds (edges[b], edges[b+1]]: a confidence of exactly 1 is the last bin's, an edge the bin it closes
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)
    weight = np.bincount(which, weights=w, minlength=bins)
    conf_sum = np.bincount(which, weights=w * conf, minlength=bins)
    hit_sum = np.bincount(which, weights=w * hit, minlength=bins)
    full = weight > 0
    gap = np.abs(hit_sum[full] - conf_sum[full]).sum()        # sum_b W_b |acc_b - conf_b|, acc_b = hits_b / W_b
    mean = lambda sums: [float(s / t) if t > 0 else None for s, t in zip(sums, weight)]
    return {
        "nll": float(log_loss(y, proba, labels=labels, sample_weight=w)),
        "brier": float(brier_score_loss(y, proba, labels=labels, sample_weight=w)),
        "ece": float(gap / w.sum()) if w.sum() > 0 else math.nan,
        "reliability": {"edges": edges.tolist(),
                        "count": np.bincount(which, minlength=bins).tolist(),
                        "confidence": mean(conf_sum), "accuracy": mean(hit_sum)},
    }


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
    if "ece" in m:          # of the probabilities predict_proba returns: are they as sure as they are right?
        lines.append(f"calibration: NLL {m['nll']:.4f}  Brier {m['brier']:.4f}  ECE {m['ece']:.4f} "
                     f"({ECE_BINS} bins; lower is better)")
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

