"""The scorer inside the speech decoder's shallow fusion (tasks/speech/decode.py): the interface
the two tasks share, exercised end to end."""
import numpy as np
import pytest

from lstmkit import LanguageModel
from lstmkit.tasks.speech.decode import LMFusion, greedy_decode, prefix_beam_search

CHARS = ["a", "b", "c", " "]          # acoustic symbols; index k -> CHARS[k - 1], 0 is <blank>


def _frames(*rows):
    """Per-frame log-probabilities from {symbol: probability} rows (the rest spread on the blank)."""
    out = np.full((len(rows), len(CHARS) + 1), 1e-6)
    for t, row in enumerate(rows):
        for sym, p in row.items():
            out[t, 0 if sym == "_" else CHARS.index(sym) + 1] = p
        out[t, 0] += max(0.0, 1.0 - out[t].sum())
    return np.log(out / out.sum(axis=1, keepdims=True))


@pytest.fixture(scope="module")
def abc_lm(tiny):
    return LanguageModel(level="char", **tiny).fit(["abc"] * 100 + ["abc cab"] * 20)


def test_char_lm_fixes_an_ambiguous_frame(abc_lm):
    # 'a', then b or c (c slightly more likely to the acoustic model), then 'c'
    lp = _frames({"a": 0.9}, {"_": 0.9}, {"c": 0.5, "b": 0.45}, {"_": 0.9}, {"c": 0.9})
    assert "".join(CHARS[k - 1] for k in greedy_decode(lp)) == "acc"
    fusion = LMFusion(abc_lm.scorer(), CHARS, alpha=1.0, beta=0.5)
    best = prefix_beam_search(lp, beam=4, lm=fusion)
    assert "".join(CHARS[k - 1] for k in best) == "abc"
    assert "".join(CHARS[k - 1] for k in prefix_beam_search(lp, beam=4)) == "acc"


def test_word_lm_in_fusion(tiny):
    lm = LanguageModel(level="word", **{**tiny, "min_freq": 1}).fit(["ab ca"] * 60 + ["ca ab"] * 60)
    sc = lm.scorer()
    fusion = LMFusion(sc, CHARS, alpha=1.0, beta=0.0)
    ctx = fusion.start()
    for ch in "ab ":
        ctx = fusion.extend(ctx, CHARS.index(ch) + 1)
    assert ctx.tokens == 1
    assert ctx.logp == pytest.approx(sc.score(sc.initial(), "ab"))
    # after 'ab' the model has seen only 'ca' or the end: the fused final score says so
    assert fusion.final(ctx) > fusion.final(fusion.extend(ctx, CHARS.index("b") + 1))
