import json
import math
import warnings

import numpy as np
import pytest

from lstmkit.train.metrics import classification_metrics, format_report


def test_known_values_binary():
    y = [0, 0, 1, 1]
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.8, 0.2]])   # predicts 0, 1, 1, 0
    m = classification_metrics(y, proba, ["neg", "pos"], majority=0)
    assert m["accuracy"] == pytest.approx(0.5)
    assert m["per_class"]["pos"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert m["macro_f1"] == 0.5
    assert m["roc_auc"] == pytest.approx(0.75)     # pairs (pos, neg) ranked right: 3 of 4
    assert m["confusion"]["matrix"] == [[1, 1], [1, 1]]
    assert m["majority_baseline_accuracy"] == 0.5
    text = format_report(m)
    assert "accuracy 0.5000" in text and "ROC-AUC 0.7500" in text and "pos" in text


def test_multiclass_has_no_auc_and_undefined_precision_is_zero():
    y = [0, 1, 2, 2]
    proba = np.eye(3)[[0, 0, 2, 2]]
    m = classification_metrics(y, proba, ["a", "b", "c"])
    assert "roc_auc" not in m
    assert m["per_class"]["b"]["precision"] == 0.0 and m["per_class"]["b"]["recall"] == 0.0
    assert m["accuracy"] == 0.75
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0 + 1) / 3)


def test_macro_f1_leaves_out_a_class_neither_true_nor_predicted():
    """A class with one example has none in validation: it has no F1 (it was averaged in as 0)."""
    m = classification_metrics([0, 1, 1], np.eye(3)[[0, 1, 1]], ["neg", "pos", "rare"])
    assert m["macro_f1"] == 1.0 and m["per_class"]["rare"]["support"] == 0
    m = classification_metrics([0, 1, 1], np.eye(3)[[0, 1, 2]], ["neg", "pos", "rare"])    # predicted: counts
    assert m["macro_f1"] == pytest.approx((1 + 2 / 3 + 0) / 3)


def test_auc_nan_with_one_true_class_and_shape_check():
    m = classification_metrics([1, 1], np.array([[0.2, 0.8], [0.6, 0.4]]), ["a", "b"])
    assert math.isnan(m["roc_auc"])
    # read back from metrics.json (or --json) the NaN is null: the report of it was a TypeError
    from lstmkit.files import to_json
    back = json.loads(to_json(m))
    assert back["roc_auc"] is None and format_report(back) == format_report(m) and "ROC-AUC" not in format_report(m)
    with pytest.raises(ValueError):
        classification_metrics([0], np.ones((1, 3)), ["a", "b"])


def test_the_report_lines_up_wide_characters():
    """中 and 🙂 take two columns of a terminal: the numbers after them were one column off."""
    m = classification_metrics([0, 1, 2], np.eye(3), ["négatif 中", "positif 🙂", "neutre"])
    lines = format_report(m).splitlines()[2:]            # after the headline and calibration lines
    from rich.cells import cell_len
    ends = {cell_len(line[:line.index(f"{1.0:9.4f}")]) for line in lines[1:]}
    assert len(ends) == 1 and ends == {cell_len(lines[0][:lines[0].index("precision")])}


def test_sample_weight_weighs_every_score_and_leaves_the_counts():
    """The validation metrics of a weighted validation part were unweighted: its accuracy said one
    thing and its weighted loss (what early stopping followed) another."""
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
    y = np.array([0, 0, 1, 1, 1, 0])
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8], [0.45, 0.55]])
    w = np.array([1.0, 0.0, 2.0, 0.5, 1.0, 3.0])
    m = classification_metrics(y, proba, ["a", "b"], majority=1, sample_weight=w)
    pred = proba.argmax(1)
    assert m["weighted"] and m["accuracy"] == pytest.approx(accuracy_score(y, pred, sample_weight=w))
    assert m["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro", sample_weight=w))
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, proba[:, 1], sample_weight=w))
    assert m["majority_baseline_accuracy"] == pytest.approx(w[y == 1].sum() / w.sum())
    assert m["n"] == 6 and [c["support"] for c in m["per_class"].values()] == [3, 3]
    assert sum(map(sum, m["confusion"]["matrix"])) == 6
    assert "weighted" not in classification_metrics(y, proba, ["a", "b"])
    # one class of weight 0 alone left: no ROC curve
    assert math.isnan(classification_metrics(y, proba, ["a", "b"], sample_weight=np.where(y == 1, 1.0, 0.0))["roc_auc"])


def test_the_report_shows_a_score_with_nothing_to_divide_by_as_a_dash():
    """A class whose one example went to training has no validation example and was never predicted:
    its row read "precision 0.0000 recall 0.0000 f1 0.0000 support 0", a failure on examples never shown."""
    m = classification_metrics([0, 1, 1], np.eye(3)[[0, 1, 0]], ["neg", "pos", "rare"])
    rows = {line.split()[0]: line.split()[1:] for line in format_report(m).splitlines()[2:]}
    assert rows["rare"] == ["-", "-", "-", "0"]
    assert rows["pos"] == ["1.0000", "0.5000", "0.6667", "2"]
    m = classification_metrics([0, 0, 1], np.eye(3)[[0, 0, 0]], ["neg", "pos", "rare"])
    rows = {line.split()[0]: line.split()[1:] for line in format_report(m).splitlines()[2:]}
    assert rows["pos"] == ["-", "0.0000", "0.0000", "1"]                 # never predicted: recall 0 is a score
    m = classification_metrics([0, 1], np.eye(3)[[2, 1]], ["neg", "pos", "rare"])
    rows = {line.split()[0]: line.split()[1:] for line in format_report(m).splitlines()[2:]}
    assert rows["rare"] == ["0.0000", "-", "0.0000", "0"]                # predicted, never true
    assert m["per_class"]["rare"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}   # the JSON as before


def test_many_classes_with_no_example_and_no_prediction_are_counted_not_listed():
    """200 of 250 classes with no validation example and never predicted were 200 rows of dashes
    among the 50 with scores; past 5 such classes one line counts them (the metrics keep every class)."""
    classes = [f"c{k:03d}" for k in range(250)]
    y = np.arange(0, 250, 5)                                  # 50 classes here, each predicted as itself
    m = classification_metrics(y, np.eye(250)[y], classes)
    lines = format_report(m).splitlines()
    assert len(lines) == 3 + 50 + 1 and lines[-1] == ("(200 more classes with no example here and never predicted: "
                                                     "not listed; the metrics' per_class, in metrics.json or --json, "
                                                     "has every class)")
    assert [line.split()[0] for line in lines[3:-1]] == [classes[k] for k in y] and len(m["per_class"]) == 250
    few = classification_metrics([0, 1], np.eye(7)[[0, 1]], [f"c{k}" for k in range(7)])      # 5 such rows: listed
    assert len(format_report(few).splitlines()) == 3 + 7


# -- calibration: nll, brier, ece beside accuracy, of the probabilities predict_proba returns ------------------

def _ece_by_hand(y, proba, bins=15):
    """The textbook definition, one bin at a time: (lo, hi] bins of the top probability."""
    conf, hit, total = proba.max(axis=1), proba.argmax(axis=1) == np.asarray(y), 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = (conf > lo) & (conf <= hi) if b else (conf <= hi)
        if inside.any():
            total += inside.sum() / len(y) * abs(hit[inside].mean() - conf[inside].mean())
    return total


def test_calibration_binary_against_hand_computation():
    y = [0, 0, 1, 1]
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.8, 0.2]])
    m = classification_metrics(y, proba, ["neg", "pos"])
    assert m["nll"] == pytest.approx(-(math.log(0.9) + math.log(0.4) + math.log(0.7) + math.log(0.2)) / 4)
    assert m["brier"] == pytest.approx((0.1 ** 2 + 0.6 ** 2 + 0.3 ** 2 + 0.8 ** 2) / 4)   # P(pos) against 0/1
    # confidences 0.9 (hit), 0.6 (miss), 0.7 (hit), 0.8 (miss): one per bin, each |hit - conf|
    assert m["ece"] == pytest.approx((0.1 + 0.6 + 0.3 + 0.8) / 4)
    rel = m["reliability"]
    assert len(rel["edges"]) == 16 and sum(rel["count"]) == 4
    assert rel["accuracy"][13] == 1.0 and rel["confidence"][13] == pytest.approx(0.9)       # (13/15, 14/15]
    assert rel["accuracy"][0] is None and rel["confidence"][0] is None
    text = format_report(m)
    assert f"NLL {m['nll']:.4f}" in text and f"Brier {m['brier']:.4f}" in text and f"ECE {m['ece']:.4f}" in text


def test_calibration_many_classes_sum_over_classes_brier():
    rng = np.random.default_rng(0)
    c, n = 12, 200
    logits = rng.normal(size=(n, c)) * 3
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, c, size=n)
    m = classification_metrics(y, proba, [f"c{k}" for k in range(c)])
    onehot = np.eye(c)[y]
    assert m["nll"] == pytest.approx(-np.log(proba[np.arange(n), y]).mean())
    assert m["brier"] == pytest.approx(((proba - onehot) ** 2).sum(axis=1).mean())
    assert m["ece"] == pytest.approx(_ece_by_hand(y, proba))
    assert sum(m["reliability"]["count"]) == n


def test_calibration_one_class_present_and_probabilities_of_zero_and_one():
    """Every example of one class, the model certain: right is 0 loss, a certain miss a finite NLL."""
    m = classification_metrics([1, 1], np.array([[0.0, 1.0], [0.0, 1.0]]), ["a", "b"])
    assert m["nll"] == pytest.approx(0.0, abs=1e-12) and m["brier"] == 0.0 and m["ece"] == 0.0
    assert m["reliability"]["count"][14] == 2        # a confidence of exactly 1 is the last bin's
    m = classification_metrics([0, 0, 0], np.array([[1.0, 0, 0], [0, 1.0, 0], [0.5, 0.25, 0.25]]), ["a", "b", "c"])
    eps = np.finfo(np.float64).eps
    assert m["nll"] == pytest.approx((0 - math.log(eps) - math.log(0.5)) / 3)        # clipped, not inf
    assert m["brier"] == pytest.approx((0 + 2 + (0.25 + 0.0625 + 0.0625)) / 3)
    assert m["ece"] == pytest.approx(_ece_by_hand([0, 0, 0], np.array([[1.0, 0, 0], [0, 1.0, 0], [0.5, 0.25, 0.25]])))
    assert m["ece"] == pytest.approx((2 * abs(0.5 - 1.0) + abs(1 - 0.5)) / 3)


def test_calibration_of_a_float32_softmax_warns_nothing():
    """A network's softmax in float32, widened to float64, sums to 1 within 1e-7, past scikit-learn's tolerance:
    every fit and evaluate of three or more classes printed "The y_prob values do not sum to one" twice."""
    import torch
    proba = torch.softmax(torch.randn(64, 5, generator=torch.Generator().manual_seed(0)) * 4, dim=-1).double().numpy()
    y = np.arange(64) % 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = classification_metrics(y, proba, list("abcde"))
    exact = proba / proba.sum(axis=1, keepdims=True)
    assert m["nll"] == pytest.approx(-np.log(exact[np.arange(64), y]).mean())


def test_calibration_confidence_on_a_bin_edge_and_weights():
    # 0.6 = 9/15 closes bin 8 ((8/15, 9/15]); equal weights give the unweighted numbers, weight 2 counts twice
    proba = np.array([[0.6, 0.4], [0.4, 0.6], [0.95, 0.05]])
    y = [0, 0, 0]
    m = classification_metrics(y, proba, ["a", "b"])
    assert m["reliability"]["count"][8] == 2
    assert m["ece"] == pytest.approx(_ece_by_hand(y, proba))
    same = classification_metrics(y, proba, ["a", "b"], sample_weight=np.array([3.0, 3.0, 3.0]))
    assert same["ece"] == pytest.approx(m["ece"]) and same["nll"] == pytest.approx(m["nll"])
    twice = classification_metrics(y + [0], np.vstack([proba, proba[2:]]), ["a", "b"])
    weighted = classification_metrics(y, proba, ["a", "b"], sample_weight=np.array([1.0, 1.0, 2.0]))
    for key in ("nll", "brier", "ece"):
        assert weighted[key] == pytest.approx(twice[key])



def test_calibration_confidence_on_every_bin_edge_is_the_bin_it_closes():
    edges = np.linspace(0, 1, 16)[8:]                 # confidences 8/15 .. 1: the larger of two classes
    proba = np.stack([edges, 1 - edges], axis=1)
    m = classification_metrics([0] * len(edges), proba, ["a", "b"])
    assert m["reliability"]["count"] == [0] * 7 + [1] * 8
    assert m["ece"] == pytest.approx(_ece_by_hand([0] * len(edges), proba))


def test_one_example_is_scored_and_none_is_an_error():
    m = classification_metrics([1], np.array([[0.2, 0.8]]), ["a", "b"], majority=0)
    assert m["accuracy"] == 1.0 and m["majority_baseline_accuracy"] == 0.0 and m["macro_f1"] == 1.0
    assert math.isnan(m["roc_auc"]) and m["confusion"]["matrix"] == [[0, 0], [0, 1]]
    with pytest.raises(ValueError, match="at least one example"):
        classification_metrics([], np.zeros((0, 2)), ["a", "b"])


def test_roc_auc_with_weights_below_one_and_no_warning_for_a_class_of_weight_zero():
    """The same weight on every example changes no ranking: the AUC is the unweighted one, however
    small the weight; a class whose every weight is 0 has no curve, said as NaN without the
    UndefinedMetricWarning scikit-learn would print."""
    import warnings
    y = np.array([0, 0, 1, 1, 1, 0])
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8], [0.45, 0.55]])
    pos = proba[:, 1]
    pairs = [(i, j) for i in np.flatnonzero(y == 1) for j in np.flatnonzero(y == 0)]
    by_hand = sum(pos[i] > pos[j] for i, j in pairs) / len(pairs)        # 7 of 9 pairs ranked right
    for weight in (0.5, 0.01):
        m = classification_metrics(y, proba, ["a", "b"], sample_weight=np.full(6, weight))
        assert m["roc_auc"] == pytest.approx(by_hand) and m["accuracy"] == pytest.approx(0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = classification_metrics(y, proba, ["a", "b"], sample_weight=np.where(y == 1, 1.0, 0.0))
    assert math.isnan(m["roc_auc"])
