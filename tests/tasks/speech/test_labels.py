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
    assert fit_classes(["yes", "no", "no", "yes"]) == ["no", "yes"]      # two classes, two of each: a yes/no model
    assert fit_classes(["b", "a", "a"]) == ["a", "b"]                    # one class of one recording is no refusal


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


def test_label_metrics_carry_the_majority_baseline():
    """A speech classifier's report had no majority-class baseline beside its accuracy (a text
    classifier's has): 0.67 read as a score where always answering 'a' scored as much."""
    m = label_metrics(["a", "b", "c"], ["a", "a", "b", "c", "a", "a"], ["a"] * 6, majority=0)
    assert m["majority_baseline_accuracy"] == pytest.approx(4 / 6) == m["accuracy"]
    assert "majority_baseline_accuracy" not in label_metrics(["a", "b"], ["a", "b"], ["a", "b"])


def _skewed_utterances():
    from lstmkit.tasks.speech.manifest import Utterances
    texts = ["a"] * 40 + ["b"] * 3 + ["c"] * 2
    order = np.random.default_rng(0).permutation(len(texts))
    return Utterances([f"clip{k}.wav" for k in range(len(texts))], [texts[k] for k in order])


def test_a_classify_runs_validation_part_holds_every_label_with_two_recordings():
    """The validation part of a classify run was a random draw of val_frac of the recordings: of
    40/3/2 recordings it held out 3 'a' and one 'b' and none of 'c' (seed 0), or 2, 1, 1 (seed 1);
    it keeps each label's share now, as a text classifier's split does."""
    from lstmkit.tasks.speech.config import SpeechConfig
    from lstmkit.tasks.speech.estimator import validation_split
    utts = _skewed_utterances()
    for seed in range(3):
        cfg = SpeechConfig.from_dict({"mode": "classify", "val_frac": 0.1, "train": {"seed": seed}})
        train, val = validation_split(utts, cfg)
        assert sorted(val.texts) == ["a"] * 4 + ["b", "c"] and sorted(train.paths + val.paths) == sorted(utts.paths)
        # a run recorded before the split kept labels (no 'val_split') redraws as it drew: at random
        old_train, old_val = validation_split(utts, cfg, {})
        assert (old_train, old_val) == utts.split(0.1, seed) and len(old_val) == 4
        assert validation_split(utts, cfg, {"val_split": "stratified"})[1] == val
    with pytest.warns(UserWarning, match=r"1 class with one example \('c'\): kept for training"):
        train, val = type(utts)(["x.wav", "y.wav", "z.wav"], ["a", "a", "c"]).split(0.1, 0, stratified=True)
    assert val.texts == ["a"] and sorted(train.texts) == ["a", "c"]
