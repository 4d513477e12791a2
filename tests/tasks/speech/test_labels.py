"""A spoken-word classifier's classes: np.unique's order, refusals, indices, probabilities."""
import numpy as np
import pytest
import torch

from lstmkit.errors import LstmkitError
from lstmkit.tasks.speech.labels import class_indices, class_probabilities, fit_classes, label_metrics


def test_classes_are_in_np_uniques_order():
    texts = ["yes", "No", "über", "up", "No", "yes", "über", "up", "10", "9", "10", "9"]
    assert fit_classes(texts) == ["10", "9", "No", "up", "yes", "über"] == list(np.unique(texts))


def test_one_class_or_one_recording_per_class_is_refused():
    with pytest.raises(LstmkitError, match="at least two labels, found only 'yes'"):
        fit_classes(["yes", "yes"])
    with pytest.raises(LstmkitError, match="every one of the 3 recordings has a label of its own"):
        fit_classes(["a", "b", "c"])


def test_indices_name_an_unknown_label():
    assert class_indices(["no", "yes"], ["a.wav", "b.wav"], ["yes", "no"]) == [1, 0]
    with pytest.raises(LstmkitError, match="label 'up' of b.wav is not one of the model's classes") as err:
        class_indices(["no", "yes"], ["a.wav", "b.wav"], ["yes", "up"])
    assert err.value.hint == "the classes are: no, yes"


def test_probabilities_of_one_logit_and_of_several():
    two = class_probabilities(torch.tensor([0.0, 2.0]))
    torch.testing.assert_close(two[:, 1], torch.sigmoid(torch.tensor([0.0, 2.0])))
    torch.testing.assert_close(two.sum(-1), torch.ones(2))
    torch.testing.assert_close(class_probabilities(torch.zeros(1, 4)), torch.full((1, 4), 0.25))


def test_label_metrics_score_the_predicted_labels():
    m = label_metrics(["no", "yes"], ["yes", "no", "yes"], ["yes", "yes", "yes"])
    assert m["accuracy"] == pytest.approx(2 / 3) and "roc_auc" not in m
    assert m["confusion"]["matrix"] == [[0, 1], [0, 2]]
