"""Small generated texts for the language-model tests (never the shared data sets)."""
import numpy as np
import pytest
from one_thread import one_thread_per_package  # noqa: F401  (autouse: one torch thread)

PATTERN = "abcdefghij"            # every character fixes the next one, and the end after 'j'
TINY = dict(embed_dim=16, hidden_size=32, num_layers=1, dropout=0.0, lr=1e-2, batch_size=16, seed=0,
            progress="off", tensorboard=False, doctor=False, max_epochs=12, patience=20)


def random_lines(n: int, length: int = 12, alphabet: str = "abcdefgh", seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list(alphabet), length)) for _ in range(n)]


def sentences(n: int, seed: int = 0) -> list[str]:
    """A toy word language: 'the <adj> <noun> <verb>' with a few adjectives, nouns and verbs."""
    rng = np.random.default_rng(seed)
    adj, noun, verb = ["red", "big", "small"], ["dog", "cat", "bird", "fish"], ["runs", "sits", "sleeps"]
    return [f"the {rng.choice(adj)} {rng.choice(noun)} {rng.choice(verb)}" for _ in range(n)]


@pytest.fixture(scope="session")
def tiny():
    return dict(TINY)


@pytest.fixture(scope="session", name="sentences")
def _sentences():
    """``sentences(n, seed=0) -> [line, …]``."""
    return sentences


@pytest.fixture(scope="session", name="random_lines")
def _random_lines():
    """``random_lines(n, length=12, alphabet="abcdefgh", seed=0) -> [line, …]``."""
    return random_lines


@pytest.fixture(scope="session")
def pattern_lm():
    """A char model trained on the repeated pattern (shared: training is the slow part)."""
    from lstmkit import LanguageModel
    return LanguageModel(level="char", **TINY).fit([PATTERN] * 160)
