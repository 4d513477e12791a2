import json
import math

import numpy as np
import pytest

from lstmkit.train.metrics import classification_metrics, format_report


def test_known_values_binary():
    y = [0, 0, 1, 1]
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.8, 0.2]])   # predicts 0, 1, 1, 0
    m = classification_metrics(y, proba, ["neg", "pos"], majority=0)
    assert m["accuracy"] == 0.5
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
    lines = format_report(m).splitlines()[1:]
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
    assert len(lines) == 2 + 50 + 1 and lines[-1] == ("(200 more classes with no example here and never predicted: "
                                                     "not listed; the metrics' per_class, in metrics.json or --json, "
                                                     "has every class)")
    assert [line.split()[0] for line in lines[2:-1]] == [classes[k] for k in y] and len(m["per_class"]) == 250
    few = classification_metrics([0, 1], np.eye(7)[[0, 1]], [f"c{k}" for k in range(7)])      # 5 such rows: listed
    assert len(format_report(few).splitlines()) == 2 + 7
