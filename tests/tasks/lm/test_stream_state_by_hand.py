"""An LMStream over a step graph worked out by hand, whose answer depends on its state: the state
``h`` counts the ``a`` tokens read, and the next token is drawn from one of two fixed tables by
that count's parity. Every log-probability below is a sum of powers of two, so streamed pieces,
saved and restored streams and line ends are checked against the definitions, not against
another part of lstmkit."""
import json
import math

import numpy as np
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.lm.data import LMTokenizer
from lstmkit.tasks.lm.stream import LMStream

LN2 = math.log(2)
# P(next token) after an even / odd count of a's; every entry finite (pad and <bos> too)
EVEN = {"a": 1 / 2, "b": 1 / 4, "</s>": 1 / 8, "&": 1 / 16, " ": 1 / 32, "<unk>": 1 / 64, "<pad>": 1 / 128,
        "<bos>": 1 / 128}
ODD = {**EVEN, "a": 1 / 4, "b": 1 / 2}


@pytest.fixture(scope="module")
def tok():
    t = LMTokenizer("char").fit(["ab &"])
    assert sorted(t.itos) == sorted(EVEN)
    return t


class CountingGraph:
    """``(x [1, T], (h, c)) -> (logits [1, T, V], (h', c'))``: h += 1 for each ``a``; c counts the
    tokens read (never read by the answer). Calls are recorded."""

    def __init__(self, tok):
        self.a = tok.token_id("a")
        self.tables = [np.log([table[t] for t in tok.itos]) for table in (EVEN, ODD)]
        self.calls = 0

    def __call__(self, x, state):
        self.calls += 1
        h, c = (np.array(s, dtype=np.float32) for s in state)
        rows = []
        for t in np.asarray(x)[0]:
            h = h + (t == self.a)
            c = c + 1
            rows.append(self.tables[int(h[0, 0, 0]) % 2])
        return np.asarray(rows)[None], [h, c]


def make(tok, **kw):
    zero = [np.zeros((1, 1, 1), np.float32), np.zeros((1, 1, 1), np.float32)]
    return LMStream(CountingGraph(tok), tok, zero, ("h", "c"), top_k=2, **kw)


def test_state_shape_is_layers_and_hidden_size(tok):
    zero = [np.zeros((2, 1, 3), np.float32)] * 2
    assert LMStream(CountingGraph(tok), tok, zero, ("h", "c")).state_shape == (2, 3)


def test_pieces_sum_to_the_whole_line_s_log_probability(tok):
    """'aab</s>': a (1/2, even), a (1/4, odd), b (1/4, even), </s> (1/8, even): -8 ln 2 in all,
    whatever the pieces; </s> is counted among the steps."""
    for pieces in (["a", "a", "b", "</s>"], ["aab", "</s>"], ["a", "ab", "</s>"]):
        s = make(tok)
        got = [s.step(p) for p in pieces]
        assert sum(a["logprob"] for a in got) == pytest.approx(-8 * LN2, rel=1e-9)
        assert s.steps() == 4
    s = make(tok)
    assert s.step("a")["logprob"] == pytest.approx(-LN2, rel=1e-9)
    two = s.step("ab")
    assert two["tokens"] == ["a", "b"] and two["logprob"] == pytest.approx(-4 * LN2, rel=1e-9)
    # after 'aab' the count is even: a then b are the two likeliest
    assert [(n["token"], n["p"]) for n in two["next"]] == [("a", pytest.approx(0.5)), ("b", pytest.approx(0.25))]
    assert s.step("a")["next"][0] == {"token": "b", "p": pytest.approx(0.5)}     # odd now


def test_a_line_end_starts_the_next_line_afresh(tok):
    """After 'a</s>' (odd count) the next line's 'a' is read from the zero state: 1/2, not 1/4;
    a held '&' is read as written before the </s>."""
    s = make(tok)
    s.step("a")
    assert s.step("</s>")["logprob"] == pytest.approx(math.log(1 / 8), rel=1e-9)     # P(</s>) is 1/8 either way
    assert s.step("a")["logprob"] == pytest.approx(-LN2, rel=1e-9)
    t = make(tok)
    held = t.step("a&am")                                 # '&am' may still become '&amp;': held
    assert held["tokens"] == ["a"] and held["pending"] == "&am"
    end = t.step("</s>")                                  # & (1/16), a (1/4: odd), <unk> for m (1/64), </s> (1/8)
    assert end["tokens"] == ["&", "a", "<unk>", "</s>"]
    assert end["logprob"] == pytest.approx(-(4 + 2 + 6 + 3) * LN2, rel=1e-9)
    assert t.steps() == 5 and t.step("a")["logprob"] == pytest.approx(-LN2, rel=1e-9)


def test_a_restored_stream_goes_on_as_the_unbroken_one(tok):
    """Saved after 'a' (count 1) and restored into a new stream, 'a' is 1/4 and then 'b' 1/4,
    as in the stream never saved; the held text comes back too."""
    s = make(tok)
    s.step("a", id="x")
    s.step("ab&am", id="y")                                # count 1, '&am' held
    saved = json.loads(json.dumps(s.state_dict()))
    t = make(tok)
    t.load_state_dict(saved)
    assert t.steps("x") == 1 and t.steps("y") == 2
    for sid in ("x", "y"):
        np.testing.assert_allclose(t.log_probs(sid), s.log_probs(sid), rtol=1e-12)
    assert t.step("a", id="x")["logprob"] == pytest.approx(math.log(1 / 4), rel=1e-9)
    assert t.step("b", id="x")["logprob"] == pytest.approx(math.log(1 / 4), rel=1e-9)
    ended = t.step("p;", id="y")                                  # '&amp;' is '&': 1/16
    assert ended == s.step("p;", id="y") and ended["tokens"] == ["&"] and "pending" not in ended
    assert ended["logprob"] == pytest.approx(-4 * LN2, rel=1e-9)
    assert t.log_probs("y")[tok.token_id("a")] == pytest.approx(math.log(1 / 4))     # still one a: odd


def test_a_stream_saved_before_its_first_token_restores_as_a_fresh_line(tok):
    s = make(tok)
    s.step("a", id="x")
    s.load_state_dict({**s.state_dict(), "streams": {"x": {"steps": 0}}})
    assert s.steps("x") == 0 and s.step("a", id="x")["logprob"] == pytest.approx(-LN2, rel=1e-9)


def test_the_last_token_restored_must_be_a_model_id_other_than_pad(tok):
    """``last`` is the token whose step gives the next distribution: <pad> (0) is never read, the
    largest id (</s>... here vocab_size - 1) is one; vocab_size is none."""
    s = make(tok)
    s.step("b", id="x")
    saved = s.state_dict()
    rec = saved["streams"]["x"]
    for last in (0, tok.vocab_size, -1, 1.5):
        with pytest.raises(LstmkitError, match="malformed"):
            s.load_state_dict({**saved, "streams": {"x": {**rec, "last": last}}})
    for last in (1, tok.vocab_size - 1, float(tok.token_id("a"))):
        s.load_state_dict({**saved, "streams": {"x": {**rec, "last": last}}})
    # last 'a' read on h = 0: the state after it has h = 1 (odd)
    assert s.log_probs("x")[tok.token_id("a")] == pytest.approx(math.log(1 / 4))


def test_max_streams_bounds_new_ids_and_leaves_open_ones_stepping(tok):
    s = make(tok, max_streams=2)
    s.step("a", id="x")
    s.step("a", id="y")
    calls = s.graph.calls
    with pytest.raises(LstmkitError, match="too many open streams"):
        s.step("a", id="z")
    assert s.graph.calls == calls                         # refused before the model runs
    assert s.ids == ["x", "y"] and s.step("a", id="x")["logprob"] == pytest.approx(math.log(1 / 4))
    s.reset("y")
    assert s.step("a", id="z")["logprob"] == pytest.approx(-LN2)
    one = make(tok, max_streams=1)
    one.step("a", id="x")
    assert one.step("b", id="x")["logprob"] == pytest.approx(-1 * LN2)     # its own id again: not a new one


def test_state_of_another_model_or_vocabulary_is_refused(tok):
    s = make(tok, fingerprint="f" * 16)
    s.step("a")
    saved = s.state_dict()
    assert saved["fingerprint"] == "f" * 16
    for change, needle in (({"fingerprint": "0" * 16}, "other model weights"), ({"vocab_size": 3}, "vocab_size"),
                           ({"level": "word"}, "level"), ({"task": "classify"}, "task")):
        with pytest.raises(LstmkitError, match=needle):
            s.load_state_dict({**saved, **change})
    assert s.steps() == 1
    t = make(tok)                                         # no fingerprint of its own: takes any
    t.load_state_dict(saved)
    assert t.steps() == 1


def test_white_space_is_one_space_and_none_at_a_line_start_or_after_a_space(tok):
    """'a', ' ', 'b', '</s>': a (1/2), then on an odd count ' ' (1/32), b (1/2), </s> (1/8): 10 ln 2,
    however the white space is cut into messages; white space alone at a line's start or after a
    space reads nothing and is no error."""
    for pieces in (["a ", " ", "\tb", "</s>"], [" a", "\t", "  b", "</s>"], ["  ", "a \t b", "</s>"]):
        s = make(tok)
        got = [s.step(p) for p in pieces]
        assert sum((a["tokens"] for a in got), []) == ["a", " ", "b", "</s>"], pieces
        assert sum(a["logprob"] for a in got) == pytest.approx(-10 * LN2, rel=1e-9)
        assert s.steps() == 4


def test_a_message_of_no_token_is_refused_and_changes_nothing(tok):
    """A zero-width space is dropped as the tokenizer cleans text: the message holds no token (it
    is not white space either), so it is refused at a line start and mid-line alike."""
    s = make(tok)
    for _ in range(2):
        with pytest.raises(LstmkitError, match="holds no token"):
            s.step("\u200b\ufeff")
        s.step("a")
    assert s.steps() == 2 and s.step("a")["logprob"] == pytest.approx(-LN2, rel=1e-9)     # two a's: even


def test_a_step_after_which_one_next_token_is_not_finite_is_refused(tok):
    """After 'b' this graph's logit for <pad> is -inf (its log-probability too, every other one
    finite): one entry not finite is enough to refuse the step, the stream left as it was."""
    class BrokenAfterB(CountingGraph):
        def __call__(self, x, state):
            logits, after = super().__call__(x, state)
            logits[0, np.asarray(x)[0] == tok.token_id("b"), tok.token_id("<pad>")] = -np.inf
            return logits, after

    zero = [np.zeros((1, 1, 1), np.float32)] * 2
    s = LMStream(BrokenAfterB(tok), tok, zero, ("h", "c"))
    s.step("a")
    with pytest.raises(LstmkitError, match="not finite"):
        s.step("b")
    assert s.steps() == 1 and s.step("a")["logprob"] == pytest.approx(math.log(1 / 4), rel=1e-9)


def test_what_is_not_a_stream_state_or_not_a_count_of_steps_is_refused(tok):
    s = make(tok)
    s.step("a")
    saved = s.state_dict()
    for bad in ([], "state", {**saved, "format": "lstmkit-lm"}):
        with pytest.raises(LstmkitError, match="not an lstmkit stream state"):
            s.load_state_dict(bad)
    for steps in (-1, True, 1.0):
        with pytest.raises(LstmkitError, match="malformed"):
            s.load_state_dict({**saved, "streams": {"default": {**saved["streams"]["default"], "steps": steps}}})
    assert s.steps() == 1


def test_a_word_held_of_exactly_max_held_characters_is_saved_and_restored(tok):
    """A word model holds the word a reference starts in, up to MAX_HELD characters: a stream
    holding exactly that many restores (one more is not held at all)."""
    from lstmkit.tasks.lm.stream import MAX_HELD
    words = LMTokenizer("word").fit(["ab cd"])

    def uniform(x, state):
        return np.zeros((1, np.asarray(x).shape[1], words.vocab_size)), [np.array(s) for s in state]

    zero = [np.zeros((1, 1, 1), np.float32)] * 2
    word = "x" * (MAX_HELD - 5) + "&eacu"
    s = LMStream(uniform, words, zero, ("h", "c"))
    assert s.step("ab " + word)["pending"] == word and len(word) == MAX_HELD
    t = LMStream(uniform, words, zero, ("h", "c"))
    t.load_state_dict(json.loads(json.dumps(s.state_dict())))
    assert t.state_dict() == s.state_dict() and t.step("te; cd") == s.step("te; cd")
    assert "pending" not in LMStream(uniform, words, zero, ("h", "c")).step("ab x" + word)


def test_a_saved_state_with_one_array_wrong_is_refused(tok):
    """Each state array is checked on its own: h of the wrong shape or not finite beside a good c,
    and a last token of two ids, are malformed."""
    s = make(tok)
    s.step("a")
    saved = s.state_dict()
    rec = saved["streams"]["default"]
    for change in ({"h": [[[0.0, 0.0]]]}, {"h": [[[float("nan")]]]}, {"c": [[[float("inf")]]]},
                   {"last": [tok.token_id("a"), tok.token_id("b")]}):
        with pytest.raises(LstmkitError, match="malformed"):
            s.load_state_dict({**saved, "streams": {"default": {**rec, **change}}})
    assert s.steps() == 1 and s.step("a")["logprob"] == pytest.approx(math.log(1 / 4), rel=1e-9)
    wide = LMStream(CountingGraph(tok), tok, [np.zeros((1, 1, 2), np.float32)] * 2, ("h", "c"))
    wide.step("a")
    saved = wide.state_dict()
    with pytest.raises(LstmkitError, match="malformed"):                 # one value of two not finite
        wide.load_state_dict({**saved, "streams": {"default": {**saved["streams"]["default"],
                                                               "h": [[[1.0, float("nan")]]]}}})
