"""A language model whose answers are worked out by hand: every weight zero but the output bias,
so after any prefix the next token is ``a`` with probability 1/2, ``b`` 1/4, ``</s>`` 1/8 and
``<unk>`` 1/8 (an LSTM with zero weights outputs h = 0: its gates are 1/2, its cell input 0).
Perplexity, per-token log-probabilities, unseen tokens, temperature and top-k are checked
against their definitions on it, not against another part of lstmkit."""
import math

import numpy as np
import pytest
import torch

from lstmkit import LanguageModel

P = {"a": 1 / 2, "b": 1 / 4, "</s>": 1 / 8, "<unk>": 1 / 8}
LN2 = math.log(2)


@pytest.fixture(scope="module")
def fixed_lm(tiny):
    lm = LanguageModel(level="char", **{**tiny, "max_epochs": 1}).fit(["ab", "ba", "aab", "bba"] * 4)
    tok = lm.tokenizer_
    assert sorted(tok.itos) == sorted(["<pad>", "<unk>", "a", "b", "<bos>", "</s>"])
    with torch.no_grad():
        for p in lm.net_.parameters():
            p.zero_()
        for token, prob in P.items():
            lm.net_.out.bias[tok.itos.index(token)] = math.log(prob)
    return lm


def test_perplexity_is_exp_of_the_mean_negative_log_likelihood_per_token(fixed_lm):
    """'ab' is a, b, </s>: -ln P = ln 2 + ln 4 + ln 8 = 6 ln 2 over 3 tokens; 'aa' is ln 2 + ln 2
    + ln 8 = 5 ln 2 over 3. Together 11 ln 2 over 6 tokens: perplexity 2 ** (11 / 6), the pooled
    mean, not the mean of the two perplexities (4 and 2 ** (5 / 3))."""
    assert fixed_lm.perplexity(["ab"]) == pytest.approx(4.0, rel=1e-6)
    assert fixed_lm.perplexity(["ab", "aa"]) == pytest.approx(2 ** (11 / 6), rel=1e-6)
    assert fixed_lm.perplexity("ab\n\naa") == pytest.approx(2 ** (11 / 6), rel=1e-6)      # blank lines skipped
    m = fixed_lm.evaluate(["ab", "aa"])
    assert m["tokens"] == 6 and m["lines"] == 2
    assert m["cross_entropy"] == pytest.approx(11 / 6 * LN2, rel=1e-6)
    assert m["bits_per_token"] == pytest.approx(11 / 6, rel=1e-6) == m["bits_per_char"]
    assert m["perplexity"] == pytest.approx(2 ** (11 / 6), rel=1e-6)
    assert fixed_lm.score(["ab", "aa"]) == pytest.approx(-11 / 6 * LN2, rel=1e-6)


def test_predict_gives_each_text_s_log_probability_tokens_and_perplexity(fixed_lm):
    out = fixed_lm.predict(["ab", "aa", "b"])
    assert out["tokens"] == [3, 3, 2]
    assert out["logprobs"] == pytest.approx([-6 * LN2, -5 * LN2, -5 * LN2], rel=1e-6)
    assert out["perplexity"] == pytest.approx([4.0, 2 ** (5 / 3), 2 ** (5 / 2)], rel=1e-6)


def test_an_unseen_character_is_scored_as_unk(fixed_lm):
    """'z' is <unk> (1/8), then </s> (1/8): perplexity 8; the scorer gives it <unk>'s log-probability."""
    assert fixed_lm.perplexity(["z"]) == pytest.approx(8.0, rel=1e-6)
    assert fixed_lm.predict(["az"])["logprobs"] == pytest.approx([-7 * LN2], rel=1e-6)
    sc = fixed_lm.scorer()
    s = sc.advance(sc.initial(), "a")
    assert sc.index("z") == sc.index("<unk>")
    assert sc.score(s, "z") == pytest.approx(math.log(1 / 8), rel=1e-6)
    assert sc.advance(s, "z") is sc.advance(s, "<unk>")
    for token, prob in P.items():
        assert sc.score(s, token) == pytest.approx(math.log(prob), rel=1e-6)
    np.testing.assert_allclose(np.exp(sc.log_probs(s)), [P[t] for t in sc.vocab], rtol=1e-6)


@pytest.mark.parametrize("temperature", [1.0, 0.5, 2.0])
def test_temperature_draws_each_token_with_p_to_the_one_over_t(fixed_lm, temperature):
    """With ``top_k=2`` only a and b are drawn (</s> and <unk> are below the second likeliest),
    so the line never ends; P(a) = p_a ** (1/T) / (p_a ** (1/T) + p_b ** (1/T)) = 1 / (1 + 2 ** (-1/T)):
    2/3 at T = 1, 4/5 at T = 0.5, 0.586 at T = 2. 3,000 draws: a standard deviation under 0.01."""
    text = fixed_lm.sample(3000, temperature=temperature, top_k=2, seed=11)
    assert len(text) == 3000 and set(text) == {"a", "b"}
    assert text.count("a") / 3000 == pytest.approx(1 / (1 + 2 ** (-1 / temperature)), abs=0.04)


def test_top_k_keeps_the_k_likeliest(fixed_lm):
    """top_k=1: a alone. top_k=3: a, b and </s> (<unk> is never drawn), so lines end: after a
    line's first token (never </s>) each draw is </s> with P = (1/8) / (7/8) = 1/7."""
    assert fixed_lm.sample(50, top_k=1, seed=0) == "a" * 50
    assert fixed_lm.sample(50, temperature=0) == "a" * 50             # greedy: the likeliest
    text = fixed_lm.sample(3000, top_k=3, seed=3)
    lines = text.split("\n")
    assert set("".join(lines)) == {"a", "b"} and all(lines)
    ends = len(lines) - 1                                              # </s> drawn after each but the last line
    assert ends / (3000 - len(lines)) == pytest.approx(1 / 6, abs=0.03)   # odds of </s> against a or b: 1/8 : 6/8


def test_a_stream_s_log_probability_and_next_tokens_are_the_model_s(fixed_lm):
    s = fixed_lm.stream(engine="torch")
    out = s.step("ab")
    assert out["tokens"] == ["a", "b"]
    assert out["logprob"] == pytest.approx(math.log(1 / 2) + math.log(1 / 4), rel=1e-6)
    nxt = out["next"]
    assert [n["token"] for n in nxt[:2]] == ["a", "b"]
    assert [n["p"] for n in nxt] == pytest.approx([1 / 2, 1 / 4, 1 / 8, 1 / 8], rel=1e-6)
    assert "<pad>" not in [n["token"] for n in nxt] and "<bos>" not in [n["token"] for n in nxt]
    assert s.step("z")["logprob"] == pytest.approx(math.log(1 / 8), rel=1e-6)
    assert s.step("</s>")["logprob"] == pytest.approx(math.log(1 / 8), rel=1e-6)
    assert s.step("b")["logprob"] == pytest.approx(math.log(1 / 4), rel=1e-6)


def test_a_sample_says_whether_it_ended_at_the_line_end_or_at_n_tokens(fixed_lm):
    """``finished`` (the service's answer) is True only when </s> was drawn and ended the sample."""
    from lstmkit.tasks.lm.scorer import sample_text
    sc = fixed_lm.scorer()
    assert sample_text(sc, 5, "", 1.0, 1, 0)[1] == {"tokens": 5, "finished": False}
    assert sample_text(sc, 5, "a", 0.0, None, 0, stop_at_end=True)[1] == {"tokens": 5, "finished": False}
    text, info = sample_text(sc, None, "ab", 1.0, None, 0)          # P(</s>) = 1/8 after any token
    assert info["finished"] and info["tokens"] == len(text) - 2


def test_a_bpe_prefix_ending_in_a_space_is_continued_by_a_token_that_begins_a_word(tiny, sentences):
    """Every weight zero, the output bias favouring pieces that continue a word (+30) over '▁dog'
    (+10) and the rest (0): after "the big " the likeliest token that begins a word is '▁dog', so
    greedy sampling writes "the big dog", where the likeliest token of all would go on inside "big"."""
    lm = LanguageModel(level="bpe", **{**tiny, "max_epochs": 1, "max_size": 60}).fit(sentences(60))
    tok = lm.tokenizer_
    marker = tok.word_marker
    inner = [i for i, t in enumerate(tok.itos) if not t.startswith(marker) and t not in ("<pad>", "<unk>", "<bos>", "</s>")]
    assert inner and "▁dog" in tok.itos
    with torch.no_grad():
        for p in lm.net_.parameters():
            p.zero_()
        lm.net_.out.bias[inner] = 30.0
        lm.net_.out.bias[tok.itos.index("▁dog")] = 10.0
    assert lm.sample(1, prefix="the big ", temperature=0) == "the big dog"
    assert lm.sample(1, prefix="The big ", temperature=0) == "The big dog"    # the prefix as typed, not as read
    inner_text = lm.sample(1, prefix="the big", temperature=0)[len("the big"):]
    assert inner_text and not inner_text[0].isspace()                  # an inner piece goes on inside "big"
    with torch.no_grad():
        lm.net_.out.bias[tok.itos.index("▁dog")] = 40.0
    assert lm.sample(1, prefix="the big", temperature=0) == "the big dog"     # a word's piece after a word: one space


def test_a_stream_message_of_exactly_max_piece_characters_is_read(fixed_lm):
    """``MAX_PIECE`` is the most a message may hold: that many characters are read (each 'a' 1/2),
    one more is refused, the stream as it was."""
    from lstmkit.errors import LstmkitError
    from lstmkit.tasks.lm.stream import MAX_PIECE
    s = fixed_lm.stream(engine="torch")
    out = s.step("a" * MAX_PIECE)
    assert len(out["tokens"]) == MAX_PIECE
    assert out["logprob"] == pytest.approx(MAX_PIECE * math.log(1 / 2), rel=1e-6)
    with pytest.raises(LstmkitError, match=f"at most {MAX_PIECE}"):
        s.step("a" * (MAX_PIECE + 1), id="other")


def test_evaluate_counts_the_unk_share_and_warns_only_above_30_percent(fixed_lm):
    """The share is of the tokens the perplexity is over, each line's </s> counted (it left them out, a
    share of another count than the report's tokens): 'zzzaaaaaa' is 3 unknown of 10 tokens, 30%, not
    above the warning's bound; 'zzzza', 'aaaaa' 4 of 12, warned of (the training text had none unknown)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = fixed_lm.evaluate(["zzzaaaaaa"])
        assert m["unk_rate"] == pytest.approx(0.3) and m["tokens"] == 10
    with pytest.warns(UserWarning, match=r"^33% of the text's char tokens are <unk> \(of the training text's 0%\)"):
        assert fixed_lm.evaluate(["zzzza", "aaaaa"])["unk_rate"] == pytest.approx(4 / 12)


@pytest.mark.parametrize("chunk", [3, 4, 10])
def test_a_line_scored_in_pieces_counts_each_token_once(fixed_lm, monkeypatch, chunk):
    """A line of ``_EVAL_CHUNK`` tokens or more is scored in pieces: 'a' * 10 is ten tokens of 1/2
    and </s> of 1/8, 13 ln 2 over 11 tokens, and 'ab' (shorter: scored whole) 6 ln 2 over 3,
    whatever the pieces' size (10: </s> the target of a piece of its own)."""
    import lstmkit.tasks.lm.estimator as est
    monkeypatch.setattr(est, "_EVAL_CHUNK", chunk)
    assert fixed_lm.perplexity(["a" * 10, "ab"]) == pytest.approx(2 ** (19 / 14), rel=1e-6)
    assert fixed_lm.predict(["a" * 10])["logprobs"] == pytest.approx([-13 * LN2], rel=1e-6)


def test_a_stream_step_whose_next_token_distribution_is_not_finite_is_refused(fixed_lm):
    """'b''s embedding NaN: its own log-probability (1/4, read before it) is finite, the
    distribution after it is not; the step is refused and the stream left as it was."""
    import copy
    from lstmkit.errors import LstmkitError
    lm = copy.deepcopy(fixed_lm)
    with torch.no_grad():
        lm.net_.embedding.weight[lm.tokenizer_.token_id("b")] = float("nan")
    s = lm.stream(engine="torch")
    s.step("a")
    with pytest.raises(LstmkitError, match="not finite"):
        s.step("b")
    assert s.steps() == 1 and s.step("a")["logprob"] == pytest.approx(math.log(1 / 2), rel=1e-6)


def test_a_model_without_state_reads_at_most_a_piece_of_context_before_each_piece(tiny, monkeypatch):
    """Pieces of ``_EVAL_CHUNK`` tokens, each after ``min(max_len, _EVAL_CHUNK)`` tokens of context: with
    max_len 100 and pieces of 30, no call reads more than 60 tokens (max_len alone would be 130, and a
    max_len past a transformer's 10,000 positions a ValueError)."""
    import lstmkit.tasks.lm.estimator as est
    tcn = LanguageModel(level="char", **{**tiny, "max_epochs": 1, "hidden_size": 8, "embed_dim": 8, "model": "tcn",
                                         "max_len": 100}).fit(["abcdefghij"] * 8)
    monkeypatch.setattr(est, "_EVAL_CHUNK", 30)
    read = []
    hook = tcn.net_.encoder.register_forward_hook(lambda _m, args, _out: read.append(args[0].shape[1]))
    try:
        tcn.perplexity(["abcdefghij" * 20])
    finally:
        hook.remove()
    assert len(read) == 7 and max(read) == 60, read               # 201 inputs (<bos> and 200): 7 pieces


def test_a_text_is_called_unknown_only_above_twice_the_training_text_s_unk_share(fixed_lm):
    """The bound is max(30%, twice the training text's share): trained at 25%, a text at 50% is not
    warned of and one at 60% is; a share recorded as no number (a bool) counts as 0%."""
    import copy
    import warnings
    lm = copy.deepcopy(fixed_lm)
    lm.data_summary_ = {**(lm.data_summary_ or {}), "unk_rate_train": 0.25}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lm.evaluate(["zzzzzaaaa"])["unk_rate"] == pytest.approx(0.5)
    with pytest.warns(UserWarning, match=r"^60% of the text's char tokens are <unk> \(of the training text's 25%\)"):
        lm.evaluate(["zzzzzzaaa"])
    lm.data_summary_["unk_rate_train"] = True
    with pytest.warns(UserWarning, match=r"^40% .* \(of the training text's 0%\)"):
        lm.evaluate(["zzzzaaaaa"])


def test_a_sample_continues_its_prefix_as_typed(fixed_lm):
    """Greedy draws are 'a' after any token: a char prefix is followed by them directly; the lines
    before the last are kept as given, the draws continue the last."""
    assert fixed_lm.sample(3, prefix="ba", temperature=0) == "baaaa"
    assert fixed_lm.sample(2, prefix="bb\nb", temperature=0) == "bb\nbaa"
    with pytest.warns(UserWarning, match=r"1 char token\(s\) never seen in training \('z'\)"):
        assert fixed_lm.sample(2, prefix="zb", temperature=0) == "zbaa"        # 'z' read as <unk>, kept as typed


def test_a_word_sample_after_a_prefix_ending_in_a_space_adds_no_second_space(tiny, sentences):
    """Every weight zero, the output bias favouring 'dog': greedy draws are 'dog'. After "the big " the
    word follows the space the prefix ends in; after "the big" one space is put between them."""
    lm = LanguageModel(level="word", **{**tiny, "max_epochs": 1}).fit(sentences(40))
    with torch.no_grad():
        for p in lm.net_.parameters():
            p.zero_()
        lm.net_.out.bias[lm.tokenizer_.token_id("dog")] = 10.0
    assert lm.sample(1, prefix="the big ", temperature=0) == "the big dog"
    assert lm.sample(1, prefix="the big", temperature=0) == "the big dog"
    assert lm.sample(2, prefix="", temperature=0) == "dog dog"


def test_a_prefix_s_unseen_tokens_are_named_up_to_eight(fixed_lm):
    """Eight unseen characters are all named; a ninth is counted, and the list ends in '...'."""
    eight = "'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'"
    with pytest.warns(UserWarning, match=rf"^the prefix holds 8 char token\(s\) never seen in training \({eight}\);"):
        fixed_lm.sample(1, prefix="cdefghij", temperature=0)
    with pytest.warns(UserWarning, match=rf"^the prefix holds 9 char token\(s\) never seen in training \({eight}, \.\.\.\);"):
        fixed_lm.sample(1, prefix="cdefghijk", temperature=0)


def test_the_service_s_scores_are_the_definitions_worked_by_hand(fixed_lm, tmp_path):
    """POST /predict {"texts"}: 'ab' is 6 ln 2 over 3 tokens (perplexity 4), 'aab' 7 ln 2 over 4,
    'b' 5 ln 2 over 2 (perplexity 2 ** 2.5): scored in one padded batch, each line alone.
    The int8 check's perplexity of a file is the pooled one, 18 ln 2 over 9 tokens (2 ln 2 each: 4)."""
    from lstmkit.tasks.lm.deploy import LMAdapter
    adapter = LMAdapter(fixed_lm)
    out = adapter.score(adapter.net, ["ab", "aab", "b"])
    assert out["tokens"] == [3, 4, 2]
    assert out["logprobs"] == pytest.approx([-6 * LN2, -7 * LN2, -5 * LN2], rel=1e-6)
    assert out["perplexity"] == pytest.approx([4.0, 2 ** (7 / 4), 2 ** (5 / 2)], rel=1e-6)
    (tmp_path / "val.txt").write_text("ab\naab\nb\n")
    m = adapter.test_metrics(adapter.net, str(tmp_path / "val.txt"))
    assert m["perplexity"] == pytest.approx(4.0, rel=1e-6) and m["cross_entropy"] == pytest.approx(2 * LN2, rel=1e-6)
