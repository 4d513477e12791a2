"""CTC decoding: greedy, prefix beam search, and shallow fusion with a language model."""
import itertools
import math

import numpy as np
import pytest

from lstmkit.tasks.speech.decode import (LMFusion, collapse, ctc_log_likelihood, decode_batch, greedy_decode,
                                        prefix_beam_search)
from lstmkit.tasks.speech.metrics import recognition_metrics

CHARS = [" ", "a", "b", "c", "d"]          # symbol k is CHARS[k - 1]; 0 is the blank


def test_collapse_merges_repeats_then_drops_blanks():
    assert collapse([0, 1, 1, 0, 1, 2, 2, 0]) == [1, 1, 2]
    assert greedy_decode(np.log(np.array([[0.1, 0.9], [0.2, 0.8], [0.9, 0.1], [0.3, 0.7]]))) == [1, 1]


def test_collapse_continues_from_the_previous_symbol():
    path = [1, 1, 0, 2, 2, 0, 0, 2, 3]
    for cut in range(len(path) + 1):             # a stream cut anywhere collapses to the whole path's ids
        head = collapse(path[:cut])
        assert head + collapse(path[cut:], path[cut - 1] if cut else None) == collapse(path)


def test_decode_batch_reads_each_row_to_its_length():
    rng = np.random.default_rng(1)
    rows = [_peaked(rng, n, 6, top=0.8) for n in (7, 3, 12)]
    padded = np.stack([np.pad(r, ((0, 12 - len(r)), (0, 0)), constant_values=math.log(1 / 6)) for r in rows])
    padded[1, 3:, 5] = 0.0                                            # padding that greedy would read as symbol 5
    for beam in (1, 3):
        expect = [prefix_beam_search(r, beam) if beam > 1 else greedy_decode(r) for r in rows]
        assert decode_batch(padded, [7, 3, 12], beam) == expect == decode_batch(rows, None, beam)


def _peaked(rng, frames: int, vocab: int, top: float) -> np.ndarray:
    best = rng.integers(0, vocab, frames)
    p = rng.dirichlet(np.ones(vocab), frames) * (1 - top)
    p[np.arange(frames), best] += top
    return np.log(p)


def test_beam_one_equals_greedy_on_peaked_posteriors():
    rng = np.random.default_rng(0)
    for _ in range(200):
        lp = _peaked(rng, int(rng.integers(1, 40)), 6, top=0.9)
        assert prefix_beam_search(lp, beam=1) == greedy_decode(lp)


def test_beam_search_sums_the_paths_greedy_ignores():
    # greedy's best path is blank-blank (0.36), but the three paths that spell "a" hold 0.64
    lp = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))
    assert greedy_decode(lp) == []
    assert prefix_beam_search(lp, beam=2) == [1]


def _every_transcript(lp):
    """Each transcript's log-probability by brute force: every frame path of ``lp [T, V]``, collapsed and summed."""
    total = {}
    for path in itertools.product(range(lp.shape[1]), repeat=len(lp)):
        key = tuple(collapse(path))
        total[key] = np.logaddexp(total.get(key, -np.inf), sum(lp[t, s] for t, s in enumerate(path)))
    return total


def test_ctc_log_likelihood_is_the_sum_over_every_path_that_spells_it():
    rng = np.random.default_rng(3)
    for _ in range(60):
        T, V = int(rng.integers(1, 6)), int(rng.integers(2, 4))
        x = rng.normal(size=(T, V)) * 2
        x[rng.integers(T), rng.integers(V)] = -np.inf                 # log 0 somewhere
        lp = x - np.logaddexp.reduce(x, axis=1, keepdims=True)
        for ids, want in _every_transcript(lp).items():
            assert ctc_log_likelihood(lp, list(ids)) == pytest.approx(want, abs=1e-9)
        assert ctc_log_likelihood(lp, [1] * (T + 1)) == -np.inf        # more symbols than frames
    assert ctc_log_likelihood(np.zeros((0, 3)), []) == 0.0


def test_a_narrow_beam_keeps_the_greedy_transcript_when_its_own_ends_less_probable():
    """Frame 2 ranks "a" (.27) and "" (.26) above "b" (.25), which frame 3 makes the likeliest:
    "b" .35 against "a" .19, every path summed. Beam 2 answered "a"; the greedy transcript now competes."""
    lp = np.log(np.array([[0.65, 0.22, 0.13], [0.4, 0.21, 0.39], [0.2, 0.3, 0.5]]))
    assert greedy_decode(lp) == [2]
    assert prefix_beam_search(lp, beam=2) == [2]
    assert decode_batch([lp], beam=2) == [[2]]


def test_the_check_against_greedy_is_skipped_where_it_would_cost_more_than_the_search(monkeypatch):
    """The check sums every path of both transcripts: frames x CTC states, quadratic in a recording's
    length (16,000 frames: 10 s a transcript, more than the search). Past CHECK_STATES the beam's
    winner is kept, and the recursion never runs."""
    import lstmkit.tasks.speech.decode as dec
    lp = np.log(np.array([[0.65, 0.22, 0.13], [0.4, 0.21, 0.39], [0.2, 0.3, 0.5]]))
    monkeypatch.setattr(dec, "CHECK_STATES", 3 * 3 - 1)                  # 3 frames x (2 x 1 + 1) states: over
    monkeypatch.setattr(dec, "ctc_log_likelihood", lambda *a: pytest.fail("the check ran past its budget"))
    assert prefix_beam_search(lp, beam=2) == [1]                        # the beam's own winner, unchecked


def test_the_beam_never_answers_below_greedy_and_a_wide_one_finds_the_best():
    """Against every frame path of tiny posteriors: the answer is at least as probable as greedy's
    transcript at any beam, and the likeliest of all once the beam holds every prefix."""
    rng = np.random.default_rng(1)
    for _ in range(150):
        T, V = int(rng.integers(2, 6)), int(rng.integers(2, 4))
        x = rng.normal(size=(T, V)) * rng.choice([1, 2, 4])
        lp = x - np.logaddexp.reduce(x, axis=1, keepdims=True)
        total = _every_transcript(lp)
        floor = total[tuple(greedy_decode(lp))]
        for beam in (1, 2, 3, 4):
            assert total[tuple(prefix_beam_search(lp, beam=beam))] >= floor - 1e-9
        assert total[tuple(prefix_beam_search(lp, beam=V ** T, prune=math.inf))] == pytest.approx(max(total.values()))


class BigramChars:
    """A character bigram LM over the scorer interface, estimated from ``texts`` (add-0.01)."""

    level = "char"

    def __init__(self, texts):
        self.vocab = ["<unk>", *CHARS, "</s>"]
        counts = {p: np.full(len(self.vocab), 0.01) for p in ["<s>", *CHARS]}
        for t in texts:
            prev = "<s>"
            for ch in [*t, "</s>"]:
                counts[prev][self.vocab.index(ch)] += 1
                prev = ch
        self.table = {p: np.log(c / c.sum()) for p, c in counts.items()}

    def initial(self):
        return "<s>"

    def log_probs(self, state):
        return self.table[state]

    def advance(self, state, token):
        return token


def test_a_fused_beam_never_answers_below_the_greedy_transcripts_fused_score():
    """With a language model the ranking is ``log P_ctc + alpha log P_lm + beta length``: beam 2 fell
    below the greedy transcript's on 30 of 1,500 random posteriors; the greedy one now competes."""
    scorer, rng = BigramChars(["a b", "ab", "ba", "cab", "dad"]), np.random.default_rng(0)
    lm = LMFusion(scorer, CHARS, alpha=0.5, beta=1.0)

    def fused(lp, ids):
        ctx = lm.start()
        for s in ids:
            ctx = lm.extend(ctx, s)
        return ctc_log_likelihood(lp, ids) + lm.final(ctx)

    for _ in range(300):
        x = rng.normal(size=(int(rng.integers(2, 7)), len(CHARS) + 1)) * 2
        lp = x - np.logaddexp.reduce(x, axis=1, keepdims=True)
        assert fused(lp, prefix_beam_search(lp, 2, lm)) >= fused(lp, greedy_decode(lp)) - 1e-9


class UnigramWords:
    level = "word"

    def __init__(self, words):
        self.vocab = ["<unk>", *words, "</s>"]
        self.lp = np.log(np.array([0.01, *[0.9 / len(words)] * len(words), 0.09]))

    def initial(self):
        return ()

    def log_probs(self, state):
        return self.lp

    def advance(self, state, token):
        return (*state, token)


def _ambiguous_posteriors(text: str, rng) -> np.ndarray:
    """Two frames per letter then a blank; 'b' and 'd' sound alike and the wrong one wins
    narrowly, so the acoustic model alone misreads every 'b' and 'd'."""
    twin = {"b": "d", "d": "b"}
    frames = []
    for ch in text:
        for _ in range(2):
            p = np.full(len(CHARS) + 1, 0.01)
            k = CHARS.index(ch) + 1
            if ch in twin:
                p[k], p[CHARS.index(twin[ch]) + 1] = 0.44, 0.51
            else:
                p[k] = 0.95
            frames.append(p / p.sum())
        blank = np.full(len(CHARS) + 1, 0.01)
        blank[0] = 0.95
        frames.append(blank / blank.sum())
    return np.log(np.array(frames))


def test_lm_fusion_lowers_the_error_where_the_acoustics_are_ambiguous():
    # in this "language" b follows a and d follows c
    rng = np.random.default_rng(0)
    words = ["ab", "cd", "cab", "acd"]
    texts = [" ".join(rng.choice(words, int(rng.integers(1, 4)))) for _ in range(40)]
    lm = LMFusion(BigramChars(texts[:20]), CHARS, alpha=1.0, beta=0.5)
    refs, plain, fused = [], [], []
    for t in texts[20:]:
        lp = _ambiguous_posteriors(t, rng)
        refs.append(t)
        plain.append("".join(CHARS[i - 1] for i in prefix_beam_search(lp, beam=4)))
        fused.append("".join(CHARS[i - 1] for i in prefix_beam_search(lp, beam=4, lm=lm)))
    without, with_lm = recognition_metrics(refs, plain)["cer"], recognition_metrics(refs, fused)["cer"]
    assert without > 0.2
    assert with_lm < 0.5 * without
    assert fused == refs


def test_word_lm_scores_whole_words_and_the_end():
    words = UnigramWords(["ab", "cd"])
    fusion = LMFusion(words, CHARS, alpha=1.0, beta=0.0)
    ctx = fusion.start()
    for ch in "ab c":
        ctx = fusion.extend(ctx, CHARS.index(ch) + 1)
    assert ctx.tokens == 1 and ctx.word == "c"
    assert ctx.logp == pytest.approx(math.log(0.45))
    # the unfinished word is scored at the end (as <unk>: "c" is not a word), then </s>
    assert fusion.final(ctx) == pytest.approx(math.log(0.45) + math.log(0.01) + math.log(0.09))
    lp = _ambiguous_posteriors("ab", np.random.default_rng(0))
    assert prefix_beam_search(lp, beam=4) == [2, 5]                     # "ad": the acoustics alone
    assert prefix_beam_search(lp, beam=4, lm=fusion) == [2, 3]          # "ab": the known word


def test_bpe_language_models_are_refused():
    class Bpe(UnigramWords):
        level = "bpe"
    from lstmkit.errors import LstmkitError
    with pytest.raises(LstmkitError, match="char"):
        LMFusion(Bpe(["ab"]), CHARS)


def test_capital_symbols_are_scored_as_the_lower_cased_lm_tokens():
    """LMs lower-case by default; transcripts may keep capitals. 'A' must get P('a'), not <unk>'s."""
    lm = BigramChars(["ab", "ab", "cd"])
    fusion = LMFusion(lm, [c.upper() for c in CHARS], alpha=1.0, beta=0.0)
    ctx = fusion.extend(fusion.start(), CHARS.index("a") + 1)
    assert ctx.logp == pytest.approx(lm.table["<s>"][lm.vocab.index("a")])
    assert ctx.logp > lm.table["<s>"][lm.vocab.index("<unk>")] + 1.0


@pytest.mark.parametrize("bad", [math.nan, math.inf])
@pytest.mark.parametrize("decode", [
    lambda lp: greedy_decode(lp),
    lambda lp: prefix_beam_search(lp, beam=4),
    lambda lp: prefix_beam_search(lp, beam=4, lm=LMFusion(BigramChars(["ab cd"]), CHARS)),
], ids=["greedy", "beam", "beam+lm"])
def test_non_finite_log_probabilities_are_one_error_naming_the_frame(decode, bad):
    """Greedy read NaN as the best symbol (a wrong text, no word); the beam search kept no prefix
    and raised ``max() arg is an empty sequence``, with an LM too."""
    from lstmkit.errors import LstmkitError
    lp = _ambiguous_posteriors("ab cd", np.random.default_rng(0))
    lp[4, 2] = bad
    with pytest.raises(LstmkitError, match=rf"^the acoustic model's log-probabilities are not finite \({bad} at "
                                           rf"frame 4 of {len(lp)}, symbol 2\): there is nothing to decode") as e:
        decode(lp)
    assert "retrain" in e.value.hint


def test_log_zero_is_a_legal_log_probability():
    lp = _ambiguous_posteriors("ab", np.random.default_rng(0))
    cut = lp.copy()
    cut[cut < math.log(0.02)] = -math.inf                  # symbols the model rules out entirely
    assert greedy_decode(cut) == greedy_decode(lp)
    assert prefix_beam_search(cut, beam=4) == prefix_beam_search(lp, beam=4)


def test_a_language_model_that_answers_nan_is_one_error():
    from lstmkit.errors import LstmkitError

    class Broken(BigramChars):
        def log_probs(self, state):
            return np.full(len(self.vocab), math.nan)
    lm = LMFusion(Broken(["ab"]), CHARS)
    with pytest.raises(LstmkitError, match=r"^the language model's log-probabilities are not finite"):
        prefix_beam_search(_ambiguous_posteriors("ab", np.random.default_rng(0)), beam=4, lm=lm)


def test_decode_batch_names_the_utterance_with_non_finite_log_probabilities():
    from lstmkit.errors import LstmkitError
    rng = np.random.default_rng(0)
    rows = [_ambiguous_posteriors("ab", rng), _ambiguous_posteriors("cd", rng)]
    rows[1][0, 0] = math.nan
    for beam in (1, 3):
        with pytest.raises(LstmkitError, match=r"^utterance 2 of 2: the acoustic model's log-probabilities are not "
                                               r"finite \(nan at frame 0"):
            decode_batch(rows, beam=beam)


def test_beam_search_work_per_frame_does_not_grow_with_the_transcript(monkeypatch):
    """Prefixes were tuple keys, hashed and copied whole at every frame: a long recording's transcript
    took time quadratic in its length (8,000 frames 59x the time of 1,000; hours for two hours). A prefix
    is a trie node now, a dict key by identity, extended in O(1), and its symbols are walked once, for
    the winner. Counted, not timed (benchmarks measure time)."""
    from lstmkit.tasks.speech import decode
    assert decode._Prefix.__hash__ is object.__hash__ and decode._Prefix.__eq__ is object.__eq__
    walked = []
    ids = decode._Prefix.ids
    monkeypatch.setattr(decode._Prefix, "ids", lambda self: walked.append(1) or ids(self))
    rng = np.random.default_rng(0)
    frames = 8000
    lp = np.full((frames, 6), -8.0)
    lp[np.arange(frames), rng.integers(0, 6, frames)] = -0.01
    assert prefix_beam_search(lp, beam=4) == greedy_decode(lp)
    assert len(walked) == 1


def test_one_long_recordings_beam_search_shows_its_frames(monkeypatch, capsys):
    """Progress counted utterances, and a job of one shows nothing: a 10-minute recording's beam search
    (6 s of 8 at beam 8, an hour's a minute) ran without a word under --progress log or a bar. One
    utterance shows its frames; many, the utterances; greedy decoding, nothing."""
    from lstmkit.tasks.speech.decode import decode_batch
    from lstmkit.train import progress
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)
    lp = np.log(np.random.default_rng(0).dirichlet(np.ones(4), 30))
    one = decode_batch([lp], beam=2, progress="log")
    err = [line.split(",")[0] for line in capsys.readouterr().err.splitlines()]
    assert err == [f"decoding: {k}/30 frames" for k in range(1, 31)] and one == decode_batch([lp], beam=2)
    decode_batch([lp, lp], beam=2, progress="log")
    assert [line.split(",")[0] for line in capsys.readouterr().err.splitlines()] == \
        ["decoding: 1/2 utterances", "decoding: 2/2 utterances"]
    decode_batch([lp], beam=1, progress="log")
    assert capsys.readouterr().err == ""


def test_a_prefix_is_ranked_by_alpha_lm_log_probability_plus_beta_per_token_and_a_finished_word_is_not_rescored():
    words = UnigramWords(["ab", "cd"])
    fusion = LMFusion(words, CHARS, alpha=0.7, beta=0.5)
    ctx = fusion.start()
    for ch in "ab cd ":
        ctx = fusion.extend(ctx, CHARS.index(ch) + 1)
    assert ctx.tokens == 2 and ctx.word == ""
    assert fusion.bonus(ctx) == pytest.approx(0.7 * 2 * math.log(0.45) + 0.5 * 2)
    assert fusion.final(ctx) == pytest.approx(0.7 * (2 * math.log(0.45) + math.log(0.09)) + 0.5 * 2)   # </s> only


def test_symbols_more_than_prune_below_a_frames_best_are_not_tried():
    lp = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))                  # "a" holds 0.64 over its three paths
    assert prefix_beam_search(lp, beam=2, prune=10.0) == [1]
    assert prefix_beam_search(lp, beam=2, prune=0.0) == []           # only the blank tried at each frame


def test_the_checks_budget_counts_the_longer_of_the_two_transcripts(monkeypatch):
    """The beam's "a" against greedy's "" (two frames): 2 x (2 x 1 + 1) = 6 frame-states, over a budget of 5."""
    import lstmkit.tasks.speech.decode as dec
    lp = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))
    monkeypatch.setattr(dec, "CHECK_STATES", 5)
    monkeypatch.setattr(dec, "ctc_log_likelihood", lambda *a: pytest.fail("the check ran past its budget"))
    assert prefix_beam_search(lp, beam=2) == [1]


def test_a_wide_beam_finds_the_best_transcript_of_repeated_symbols():
    """One symbol and the blank: "a", "aa", "aaa" differ only in where blanks split the repeats, which a
    prefix's blank-ending and symbol-ending probabilities keep apart; every frame path decides the best."""
    rng = np.random.default_rng(5)
    for _ in range(60):
        T = int(rng.integers(3, 7))
        x = rng.normal(size=(T, 2)) * 1.5
        lp = x - np.logaddexp.reduce(x, axis=1, keepdims=True)
        total = _every_transcript(lp)
        assert total[tuple(prefix_beam_search(lp, beam=2 ** T, prune=math.inf))] == pytest.approx(max(total.values()))
