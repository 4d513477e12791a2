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


def test_series_scaled_at_once_are_scaled_as_one_by_one(ragged, tiny):
    seqs, labels = ragged
    clf = SequenceClassifier(**tiny, max_epochs=1, unequal_length=True, scaler="standard").fit(seqs, labels)
    encoded = clf._encode(clf._read(seqs, clf.config_, require_label=False))
    assert len(encoded) == len(seqs)
    for s, e in zip(seqs, encoded):
        assert torch.equal(e, torch.from_numpy(clf.scaler_.transform(s).astype(np.float32)))
    together = clf.predict_proba(seqs)
    alone = np.concatenate([clf.predict_proba([s]) for s in seqs[:10]])
    np.testing.assert_allclose(together[:10], alone, rtol=1e-5, atol=1e-6)   # padding and batch rounding only
