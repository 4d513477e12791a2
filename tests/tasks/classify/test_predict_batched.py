"""Predictions in large length-sorted batches are each sequence's own prediction."""
import numpy as np
import pytest
import torch

from lstmkit.tasks.classify.estimator import SequenceClassifier


@pytest.fixture(scope="module")
def ragged():
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(int(n), 2)) + (k % 2) for k, n in enumerate(rng.integers(5, 40, 80))]
    return seqs, [str(k % 2) for k in range(80)]


def test_series_scaled_at_once_are_scaled_as_one_by_one(ragged, tiny_series):
    seqs, labels = ragged
    clf = SequenceClassifier(**tiny_series, max_epochs=1, unequal_length=True, scaler="standard").fit(seqs, labels)
    encoded = clf._encode(clf._read(seqs, clf.config_, require_label=False))
    assert len(encoded) == len(seqs)
    for s, e in zip(seqs, encoded):
        assert torch.equal(e, torch.from_numpy(clf.scaler_.transform(s).astype(np.float32)))
    together = clf.predict_proba(seqs)
    alone = np.concatenate([clf.predict_proba([s]) for s in seqs[:10]])
    np.testing.assert_allclose(together[:10], alone, rtol=1e-5, atol=1e-6)   # padding and batch rounding only


@pytest.mark.filterwarnings("ignore:.*longer than max_len")      # cut on purpose
@pytest.mark.parametrize("max_len,keep", [(None, "both"), (6, "both"), (5, "tail")])
def test_texts_encoded_end_to_end_are_each_texts_own_ids_and_answers(tiny, texts, max_len, keep):
    """TextClassifier encodes all texts at once (Ragged): the ids must be each text's own,
    truncated, and the probabilities those of the batches of one tensor per text."""
    from lstmkit.data.batching import truncate
    from lstmkit.tasks.classify.estimator import TextClassifier
    train, labels = texts(60)
    clf = TextClassifier(**tiny, max_epochs=1, max_len=max_len, truncate=keep).fit(train, labels)
    new = [*train[:20], "Don't <br /> 'stop' café", "!!!  ", "good " * 9]
    encoded = clf._encode(clf._read(new, clf.config_, require_label=False))
    one_by_one = [torch.tensor(truncate(clf.tokenizer_.encode(t), max_len, keep)) for t in new]
    assert len(encoded) == len(new) and all(torch.equal(a, b) for a, b in zip(encoded, one_by_one))
    assert np.array_equal(clf.predict_proba(new), clf._proba(one_by_one))


@pytest.mark.filterwarnings("ignore:.*longer than max_len")      # cut on purpose
def test_series_truncated_end_to_end_are_each_series_own(ragged, tiny_series):
    from lstmkit.data.batching import truncate
    seqs, labels = ragged
    clf = SequenceClassifier(**tiny_series, max_epochs=1, unequal_length=True, max_len=12, truncate="both").fit(seqs, labels)
    encoded = clf._encode(clf._read(seqs, clf.config_, require_label=False))
    for s, e in zip(seqs, encoded):
        assert torch.equal(e, truncate(torch.from_numpy(clf.scaler_.transform(s).astype(np.float32)), 12, "both"))
    assert np.array_equal(clf.predict_proba(seqs), clf._proba(list(encoded)))
