"""Small generated data for the classification tests (never the shared data sets)."""
import numpy as np
import pytest
from one_thread import one_thread_per_package  # noqa: F401  (autouse: one torch thread)

POS = ["good", "great", "wonderful", "loved"]
NEG = ["bad", "awful", "boring", "hated"]
FILL = ["the", "film", "was", "and", "plot", "it", "acting", "a"]


def make_texts(n: int, seed: int = 0, classes=("neg", "pos")):
    """Reviews whose label is given away by one of a few sentiment words among filler."""
    rng = np.random.default_rng(seed)
    words = {"neg": NEG, "pos": POS, "meh": ["fine", "okay", "average", "so-so"]}
    texts, labels = [], []
    for i in range(n):
        c = classes[i % len(classes)]
        ws = list(rng.choice(FILL, rng.integers(2, 9))) + list(rng.choice(words[c], 2))
        texts.append(" ".join(rng.permutation(ws)).capitalize() + "!")
        labels.append(c)
    return texts, labels


def make_series(n: int, seed: int = 0, unequal: bool = True):
    """Rising vs falling noisy ramps ([T_i, 1]), lengths 8-20 when ``unequal``."""
    rng = np.random.default_rng(seed)
    seqs, labels = [], []
    for i in range(n):
        T = int(rng.integers(8, 21)) if unequal else 12
        sign = 1 if i % 2 else -1
        seqs.append((sign * np.linspace(0, 2, T) + 0.2 * rng.standard_normal(T))[:, None])
        labels.append("up" if sign > 0 else "down")
    return seqs, labels


TINY = dict(embed_dim=8, hidden_size=8, lr=2e-2, progress="off", tensorboard=False, min_freq=1, seed=0)


@pytest.fixture(scope="session")
def tiny():
    """Settings that make a text model train in a second or two."""
    return dict(TINY)


@pytest.fixture(scope="session")
def tiny_series():
    """``tiny`` for a SequenceClassifier: without ``min_freq``, a text setting it refuses."""
    return {k: v for k, v in TINY.items() if k != "min_freq"}


@pytest.fixture(scope="session")
def texts():
    """``texts(n, seed=0, classes=("neg", "pos")) -> (texts, labels)``."""
    return make_texts


@pytest.fixture(scope="session")
def series():
    """``series(n, seed=0, unequal=True) -> (seqs, labels)``."""
    return make_series
