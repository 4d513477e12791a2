"""sample_text's rules worked out by hand on a scorer whose next-token distribution is fixed:
a step graph that answers the same logits whatever it reads, so each draw's probabilities are
known exactly and no model is trained."""
import math

import numpy as np
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.lm.data import LMTokenizer
from lstmkit.tasks.lm.scorer import GraphScorer, nucleus, sample_text


@pytest.fixture(scope="module")
def tok():
    return LMTokenizer("char").fit(["abc"])         # <pad> <unk> a b c <bos> </s>


def fixed_scorer(tok, probs: dict[str, float]) -> GraphScorer:
    """The next token is drawn from ``probs`` (token -> probability) after any prefix; tokens not
    named have probability 0."""
    logits = np.full(tok.vocab_size, -np.inf, dtype=np.float32)
    for token, p in probs.items():
        logits[tok.itos.index(token)] = math.log(p)

    def graph(x, state):
        return np.tile(logits, (1, x.shape[1], 1)), state
    return GraphScorer(graph, tok, [np.zeros((1, 1, 1), np.float32)])


def test_a_line_s_first_token_is_never_the_end_but_a_prefix_may_be_followed_by_it(tok):
    """</s> is the likeliest token (0.7) after any prefix. Greedy from nothing: the line's first
    token cannot be </s> (training has no empty line), so 'a' (0.2), then </s> ends the line.
    After the prefix 'ab' the line has begun: </s> at once, no token drawn. After a prefix that
    ends in a line break the new line is empty again: 'a' first."""
    sc = fixed_scorer(tok, {"</s>": 0.7, "a": 0.2, "b": 0.1})
    assert sample_text(sc, None, "", 0.0) == ("a", {"tokens": 1, "finished": True})
    assert sample_text(sc, None, "ab", 0.0) == ("ab", {"tokens": 0, "finished": True})
    assert sample_text(sc, None, "ab\n", 0.0) == ("ab\na", {"tokens": 1, "finished": True})
    # n tokens, not stopping at the end: each </s> a line break, each new line's first token 'a'
    assert sample_text(sc, 3, "", 0.0) == ("a\na\na", {"tokens": 3, "finished": False})
    assert sample_text(sc, 2, "ab", 0.0) == ("ab\na\na", {"tokens": 2, "finished": False})


def test_a_tiny_temperature_draws_the_likeliest_token(tok):
    """Temperature T divides the logits: p_i ** (1/T) renormalised. At T = 1e-3 the ratio of b to a
    is (0.3 / 0.5) ** 1000 ~ 1e-222, so every draw is 'a' (and no probability underflows to NaN)."""
    sc = fixed_scorer(tok, {"a": 0.5, "b": 0.3, "c": 0.2})
    for seed in range(5):
        assert sample_text(sc, 20, "", 1e-3, None, seed) == ("a" * 20, {"tokens": 20, "finished": False})


def test_top_k_draws_from_exactly_the_k_likeliest_renormalised(tok):
    """a 0.4, b 0.3, c 0.2, </s> 0.1. The first token of a line: </s> excluded, so with top_k=2
    a and b are drawn with 4/7 and 3/7; top_k=3: a, b, c with 4/9, 3/9, 2/9; T = 0.5 squares the
    probabilities: top_k=2 gives a 16/25."""
    sc = fixed_scorer(tok, {"a": 0.4, "b": 0.3, "c": 0.2, "</s>": 0.1})

    def shares(top_k, temperature=1.0):
        drawn = [sample_text(sc, 1, "", temperature, top_k, seed)[0] for seed in range(3000)]
        return {t: drawn.count(t) / len(drawn) for t in set(drawn)}

    got = shares(2)
    assert set(got) == {"a", "b"} and got["a"] == pytest.approx(4 / 7, abs=0.03)
    got = shares(3)
    assert set(got) == {"a", "b", "c"}
    assert [got["a"], got["b"], got["c"]] == pytest.approx([4 / 9, 3 / 9, 2 / 9], abs=0.03)
    assert set(shares(1)) == {"a"}
    got = shares(2, 0.5)
    assert set(got) == {"a", "b"} and got["a"] == pytest.approx(16 / 25, abs=0.03)


def test_nucleus_keeps_the_fewest_likeliest_tokens_reaching_top_p_renormalised():
    """Holtzman et al.'s nucleus of (0.5, 0.3, 0.15, 0.05): at p = 0.8 the first two reach it
    exactly (5/8, 3/8); just above 0.8 the third joins (0.5, 0.3, 0.15 over 0.95); at p = 0.3 the
    likeliest alone; at 1 every token. A token tied with the last one kept is kept too: (0.4, 0.3,
    0.3) at p = 0.5 keeps all three."""
    p = np.array([0.15, 0.5, 0.05, 0.3])
    assert nucleus(p, 0.8) == pytest.approx([0, 5 / 8, 0, 3 / 8])
    assert nucleus(p, 0.81) == pytest.approx([0.15 / 0.95, 0.5 / 0.95, 0, 0.3 / 0.95])
    assert nucleus(p, 0.3) == pytest.approx([0, 1, 0, 0])
    assert nucleus(p, 1.0) == pytest.approx(p)
    assert nucleus(np.array([0.3, 0.4, 0.3]), 0.5) == pytest.approx([0.3, 0.4, 0.3])
    # probabilities read back from logs sum a hair off: 0.8 is still reached by the first two
    q = np.exp(np.log(p))
    assert nucleus(q / q.sum(), 0.8) == pytest.approx([0, 5 / 8, 0, 3 / 8])


def test_top_p_draws_from_the_nucleus_of_the_tempered_distribution(tok):
    """a 0.4, b 0.3, c 0.2, </s> 0.1; a line's first token excludes </s>: a 4/9, b 3/9, c 2/9.
    top_p = 0.7 keeps a and b (7/9 >= 0.7), drawn 4/7 and 3/7; top_p = 0.4 keeps a alone (4/9).
    The nucleus is taken after the temperature: at T = 0.5 the squares 16, 9, 4 (of 29) put a at
    0.55, so top_p = 0.5 keeps a alone, where untempered it would keep a and b (4/9 < 0.5)."""
    sc = fixed_scorer(tok, {"a": 0.4, "b": 0.3, "c": 0.2, "</s>": 0.1})

    def shares(top_p, temperature=1.0):
        drawn = [sample_text(sc, 1, "", temperature, None, seed, top_p=top_p)[0] for seed in range(3000)]
        return {t: drawn.count(t) / len(drawn) for t in set(drawn)}

    got = shares(0.7)
    assert set(got) == {"a", "b"} and got["a"] == pytest.approx(4 / 7, abs=0.03)
    assert set(shares(0.4)) == {"a"}
    assert set(shares(0.5)) == {"a", "b"}
    assert set(shares(0.5, 0.5)) == {"a"}
    got = shares(1.0)
    assert set(got) == {"a", "b", "c"} and got["c"] == pytest.approx(2 / 9, abs=0.03)
    # top_p = 1 is no cut: the same draws, seed for seed, as no top_p at all
    assert [sample_text(sc, 5, "", 1.0, None, s, top_p=1.0) for s in range(20)] == \
        [sample_text(sc, 5, "", 1.0, None, s) for s in range(20)]


@pytest.fixture(scope="module")
def lm(tiny):
    from lstmkit import LanguageModel
    return LanguageModel(level="char", **{**tiny, "max_epochs": 1}).fit(["ab", "ba", "aab", "bba"] * 2)


@pytest.mark.parametrize("kwargs, word", [
    ({"n_tokens": True}, "n_tokens"), ({"n_tokens": 0}, "n_tokens"), ({"n_tokens": 2.0}, "n_tokens"), ({"n_tokens": -3}, "n_tokens"),
    ({"n_tokens": 1_000_001}, "`n_tokens` must be at most 1000000, got 1000001"),
    ({"temperature": float("nan")}, "temperature"), ({"temperature": float("inf")}, "temperature"),
    ({"temperature": -1e-9}, "temperature"), ({"temperature": "0.5"}, "temperature"),
    ({"top_k": True}, "top_k"), ({"top_k": 0}, "top_k"), ({"top_k": 2.0}, "top_k"), ({"top_k": -1}, "top_k"),
    ({"top_p": 0}, "top_p"), ({"top_p": 1.0000001}, "top_p"), ({"top_p": float("nan")}, "top_p"),
    ({"top_p": True}, "top_p"), ({"top_p": "0.9"}, "top_p"), ({"top_p": -0.5}, "top_p"),
    ({"seed": -1}, "seed"), ({"seed": 2**63}, "seed"), ({"seed": True}, "seed")])
def test_sample_refuses_each_setting_outside_its_documented_range(lm, kwargs, word):
    """n_tokens: a positive integer, at most 1,000,000; temperature: a finite number, 0 or above;
    top_k: a positive integer; top_p: a number above 0, at most 1; seed: a whole number from 0 to 2**63 - 1. Booleans are no numbers."""
    with pytest.raises(LstmkitError, match=word):
        lm.sample(**kwargs)


def test_sample_takes_each_setting_at_the_ends_of_its_range(lm, monkeypatch):
    """The smallest and largest values allowed pass the checks and reach the sampler as given
    (the sampler stubbed: a million tokens take minutes)."""
    import lstmkit.tasks.lm.estimator as est
    seen = []
    monkeypatch.setattr(est, "sample_text", lambda sc, n, prefix, t, k, seed, top_p=None, **kw:
                        seen.append((n, t, k, seed, top_p)) or ("", {}))
    for kwargs in ({"n_tokens": 1}, {"n_tokens": 1_000_000}, {"temperature": 0}, {"temperature": 1e308},
                   {"top_k": 1}, {"seed": 0}, {"seed": 2**63 - 1}, {"top_p": 1e-300}, {"top_p": 1}):
        lm.sample(**kwargs)
    assert seen == [(1, 1.0, None, None, None), (1_000_000, 1.0, None, None, None), (None, 0, None, None, None),
                    (None, 1e308, None, None, None), (None, 1.0, 1, None, None), (None, 1.0, None, 0, None),
                    (None, 1.0, None, 2**63 - 1, None), (None, 1.0, None, None, 1e-300), (None, 1.0, None, None, 1)]


def test_top_k_keeps_the_k_likeliest_of_a_large_vocabulary():
    """1,500 words whose probabilities together far outweigh the three likeliest (w7, w8, w9:
    6% of the mass): top_k=3 draws those three alone. numpy sorts a small array whole when it
    partitions it, so only a vocabulary this large shows that the cut is at the k-th largest."""
    words = [f"w{i}" for i in range(1500)]
    tok = LMTokenizer("word").fit([" ".join(words)])
    weights = dict(zip(words, np.random.default_rng(0).uniform(0.5, 1.5, len(words))))
    weights.update({"w7": 40.0, "w8": 30.0, "w9": 20.0})
    total = sum(weights.values())
    sc = fixed_scorer(tok, {w: v / total for w, v in weights.items()})
    drawn = {sample_text(sc, 1, "", 1.0, 3, seed)[0] for seed in range(300)}
    assert drawn == {"w7", "w8", "w9"}
