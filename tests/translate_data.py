"""Small generated sentence pairs for the translation tests (never the shared data sets)."""
import numpy as np

WORDS = ["red", "blue", "dog", "cat", "runs", "sits", "big", "small", "the", "a"]
# A toy "language" pair: the target is the source with each word mapped and the order kept.
LEXICON = {"red": "rot", "blue": "blau", "dog": "Hund", "cat": "Katze", "runs": "rennt", "sits": "sitzt",
           "big": "groß", "small": "klein", "the": "der", "a": "ein"}


def make_pairs(n: int, seed: int = 0, min_len: int = 2, max_len: int = 6, copy: bool = False):
    """``n`` (source, target) pairs; ``copy`` makes the target equal to the source."""
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(n):
        ws = list(rng.choice(WORDS, int(rng.integers(min_len, max_len + 1))))
        src = " ".join(ws) + "."
        tgt = src if copy else " ".join(LEXICON[w] for w in ws) + "."
        pairs.append((src, tgt))
    return pairs


TINY = dict(embed_dim=16, hidden_size=24, num_layers=1, dropout=0.0, min_freq=1, lr=1e-2, progress="off",
            tensorboard=False, doctor=False, label_smoothing=0.0, batch_size=32, seed=0, beam=3)
