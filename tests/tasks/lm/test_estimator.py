import json

import numpy as np
import pytest

import lstmkit
from lstmkit import LanguageModel
from lstmkit.errors import LstmkitError

from safetensors.torch import load_file

PATTERN = "abcdefghij"


def test_pattern_perplexity_goes_near_one(pattern_lm):
    m = pattern_lm.metrics_["val"]
    assert m["perplexity"] < 1.05, m
    assert m["bits_per_char"] == pytest.approx(np.log2(m["perplexity"]))
    assert pattern_lm.perplexity([PATTERN]) < 1.05
    assert pattern_lm.perplexity(["jihgfedcba"]) > 10          # the pattern backwards is a surprise


def test_predict_scores_each_text_as_the_services_texts_request_does(pattern_lm):
    """LanguageModel had no predict (every other estimator has one): it answers per text what
    POST /predict {"texts": [...]} answers, log P(text) with </s>, its tokens and its perplexity."""
    import pandas as pd
    from lstmkit.tasks.lm.deploy import LMAdapter
    texts = [PATTERN, "jihgfedcba", "abc"]
    out = pattern_lm.predict(texts)
    adapter = LMAdapter(pattern_lm)
    served = adapter.score(adapter.net, texts)
    assert set(out) == set(served) == {"logprobs", "tokens", "perplexity"}
    assert out["tokens"] == served["tokens"] == [11, 11, 4]
    assert out["logprobs"] == pytest.approx(served["logprobs"], rel=1e-5)
    assert out["perplexity"] == pytest.approx([pattern_lm.perplexity([t]) for t in texts], rel=1e-9)
    assert out["perplexity"][0] < 1.05 < 10 < out["perplexity"][1]          # the pattern, then backwards
    assert pattern_lm.predict(PATTERN)["logprobs"] == out["logprobs"][:1]
    assert pattern_lm.predict(pd.Series(texts, index=[7, 8, 9])) == out
    with pytest.raises(LstmkitError, match="text 1 of the list holds no token to score"):
        pattern_lm.predict(["abc", "  "])
    with pytest.raises(LstmkitError, match=r"text 1 of the list is missing \(None\)"):
        pattern_lm.predict(["abc", None])
    # a DataFrame was refused ('got DataFrame — … df['text']', even one holding 'text', as evaluate reads it):
    # its column of texts, or its one column (df[["review"]], as scikit-learn's ColumnTransformer hands it on)
    assert pattern_lm.predict(pd.DataFrame({"n": [1, 2, 3], "text": texts})) == out
    with pytest.warns(UserWarning, match=r"no column 'text' in the DataFrame \(the model's text column\): reading "
                                         r"its one column 'review' as the texts") as said:
        assert pattern_lm.predict(pd.DataFrame({"review": texts})) == out
    assert [w.filename for w in said if "one column" in str(w.message)] == [__file__]   # the caller's line (was its caller's)
    with pytest.raises(LstmkitError, match=r"the DataFrame has no column 'text' .*; its columns: review, n — pass "
                                           r"the column of texts, e.g. df\['review'\]"):
        pattern_lm.predict(pd.DataFrame({"review": texts, "n": [1, 2, 3]}))
    with pytest.raises(LstmkitError, match="got set — "):          # no order to answer in
        pattern_lm.predict(set(texts))
    with pytest.raises(LstmkitError, match="not fitted"):
        LanguageModel().predict(texts)


def test_evaluate_and_perplexity_read_a_frames_one_column_as_predict_does(pattern_lm):
    """predict took df[["review"]]'s one column with a warning; evaluate still asked for text_column=
    and perplexity to rename the column."""
    import pandas as pd
    texts = [PATTERN, "jihgfedcba", "abc"]
    with pytest.warns(UserWarning, match=r"no column 'text' in the DataFrame .*its one column 'review' as the texts"):
        assert pattern_lm.evaluate(pd.DataFrame({"review": texts})) == pattern_lm.evaluate(texts)
    with pytest.warns(UserWarning, match=r"its one column 'review' as the texts"):
        assert pattern_lm.perplexity(pd.DataFrame({"review": texts})) == pattern_lm.perplexity(texts)
    assert pattern_lm.evaluate(pd.DataFrame({"n": [1, 2, 3], "text": texts})) == pattern_lm.evaluate(texts)
    assert pattern_lm.evaluate(pd.DataFrame({"review": texts, "n": [1, 2, 3]}), text_column="review") \
        == pattern_lm.evaluate(texts)
    for read in (pattern_lm.evaluate, pattern_lm.perplexity):       # several columns, none named text: which?
        with pytest.raises(LstmkitError, match=r"the DataFrame has no column 'text' .*; its columns: review, n — "
                                               r"pass the column of texts, e.g. df\['review'\]"):
            read(pd.DataFrame({"review": texts, "n": [1, 2, 3]}))


def test_random_text_stays_near_the_alphabet_size(tiny, random_lines):
    lm = LanguageModel(level="char", **tiny).fit(random_lines(300, seed=1))
    # 8 equally likely letters; only the end (after exactly 12 letters) can be learnt:
    # the best possible perplexity is 8 ** (12 / 13) = 6.8, with nothing learnt it is 8 to 10.
    ppl = lm.evaluate(random_lines(50, seed=2))["perplexity"]
    assert 6.5 < ppl < 10.5, ppl


def test_sampling_is_reproducible_with_a_seed(pattern_lm):
    a = pattern_lm.sample(40, seed=3, temperature=1.5)
    assert a == pattern_lm.sample(40, seed=3, temperature=1.5)
    assert len(a.replace("\n", "")) == 40
    assert {pattern_lm.sample(40, seed=s, temperature=3.0) for s in range(4)} != {a}
    one = pattern_lm.sample(prefix="abc", temperature=0.5, seed=0)       # until </s>: one line
    assert one.startswith("abc") and "\n" not in one
    assert pattern_lm.sample(prefix="abc", temperature=0.1, seed=0) == PATTERN
    assert pattern_lm.sample(30, top_k=1, seed=5) == "\n".join([PATTERN] * 3)
    # temperature 0: the likeliest token each step, no draw (the seed changes nothing)
    assert {pattern_lm.sample(30, temperature=0, seed=s) for s in (None, 1, 2)} == {"\n".join([PATTERN] * 3)}


def test_a_temperature_near_zero_draws_the_likeliest_token_as_zero_does(pattern_lm):
    """The logits were divided by the temperature before their largest was taken off: 1e-310 took
    every one to -inf, then -inf - -inf to NaN ("Probabilities contain NaN", a bare ValueError)."""
    greedy = pattern_lm.sample(30, temperature=0)
    for t in (1e-300, 1e-310, 5e-324):
        assert pattern_lm.sample(30, temperature=t, seed=1) == greedy


@pytest.fixture(scope="module")
def flat_lm(tiny, random_lines):
    """An undertrained char model: every token's probability well above 0 after any prefix."""
    return LanguageModel(level="char", **{**tiny, "max_epochs": 1}).fit(random_lines(60, alphabet="abcd"))


def test_temperature_and_top_k_draw_from_the_distribution_they_name(flat_lm):
    """2,000 seeded draws of the token after "a" from an undertrained model (flat, no token near 0):
    each token's share is its probability ``p ** (1 / T)`` renormalised, within 0.03, and ``top_k``
    draws only the k likeliest (``<unk>`` never: its tiny share is left out of ``want``)."""
    from lstmkit.tasks.lm.scorer import LMScorer, sample_text
    lm = flat_lm
    scorer = LMScorer(lm.net_, lm.tokenizer_)
    p = np.exp(scorer.log_probs(scorer.advance_id(scorer.initial(), lm.tokenizer_.token_id("a"))))
    tokens = [scorer.index(c) for c in [*"abcd", "</s>"]]
    for temperature, top_k in ((1.0, None), (0.5, None), (2.0, None), (1.0, 2)):
        drawn = [sample_text(scorer, 1, "a", temperature, top_k, seed)[0] for seed in range(2000)]
        shares = [sum(d == "a" + c for d in drawn) for c in "abcd"] + [sum(d[:2] == "a\n" for d in drawn)]
        want = p[tokens] ** (1 / temperature)             # </s>: a line break, then a token of the next line
        if top_k:
            want[np.argsort(want)[:-top_k]] = 0.0
        assert sum(shares) == len(drawn)
        np.testing.assert_allclose(np.array(shares) / len(drawn), want / want.sum(), atol=0.03)


def test_top_k_keeps_the_tokens_tied_with_the_kth_as_documented(flat_lm):
    """Two tokens with the same logit, far above the rest: ``top_k=1`` draws either (neither is
    "the" likeliest), each about half of 400 seeded draws; temperature 0 takes the first of them."""
    import copy
    import torch
    lm = copy.deepcopy(flat_lm)
    a, b = lm.tokenizer_.token_id("a"), lm.tokenizer_.token_id("b")
    with torch.no_grad():
        lm.net_.out.weight[b] = lm.net_.out.weight[a]
        lm.net_.out.bias[[a, b]] = lm.net_.out.bias[a] + 30.0
    drawn = [lm.sample(1, top_k=1, seed=seed) for seed in range(400)]
    assert set(drawn) == {"a", "b"} and 150 < drawn.count("a") < 250        # 200 +- 5 standard deviations
    assert lm.sample(1, top_k=2, temperature=0) == lm.sample(1, temperature=0)


def test_a_prefix_of_several_lines_is_continued_from_its_last_line_alone(flat_lm):
    """Each line starts afresh (training's lines, the sample's own line breaks): a prefix's line
    breaks were read as spaces, "dd\nab" as the one line "dd ab" (a character the model never
    saw, then ab), and "ab\n" as "ab " continued on its line, where a new line was asked for."""
    for seed in range(20):
        assert flat_lm.sample(3, prefix="dd\nab", temperature=1.5, seed=seed) == \
            "dd\n" + flat_lm.sample(3, prefix="ab", temperature=1.5, seed=seed)
        # ending in a line break (\r\n too): a new line, as a sample without a prefix starts one
        for prefix in ("ab\n", "cd\r\n", "c\nab\n"):
            assert flat_lm.sample(3, prefix=prefix, temperature=1.5, seed=seed) == \
                prefix + flat_lm.sample(3, temperature=1.5, seed=seed)
    assert flat_lm.sample(prefix="ab\n\n", temperature=0) == "ab\n\n" + flat_lm.sample(temperature=0)


def test_only_the_unseen_characters_of_the_line_read_are_warned_of(flat_lm, recwarn):
    """The prefix's earlier lines are not read, so their unseen characters change nothing: the
    warning that the model reads them as <unk> named them too."""
    assert flat_lm.sample(3, prefix="x€\nab", seed=0).startswith("x€\nab")
    assert not [w for w in recwarn if "never seen in training" in str(w.message)]
    flat_lm.sample(3, prefix="x€\nabz", seed=0)
    [w] = [w for w in recwarn if "never seen in training" in str(w.message)]
    assert "1 char token(s)" in str(w.message) and "('z')" in str(w.message)


def test_char_prefix_keeps_its_trailing_space(tiny):
    lm = LanguageModel(level="char", **{**tiny, "max_epochs": 20}).fit(["ab cd"] * 80)
    assert lm.sample(prefix="ab ", temperature=0.1, seed=0) == "ab cd"
    assert lm.sample(prefix="ab", temperature=0.1, seed=0) == "ab cd"


def test_a_prefix_of_unseen_characters_is_sampled_with_one_warning(pattern_lm, recwarn):
    text = pattern_lm.sample(5, prefix="ab€z", seed=0)
    assert text.startswith("ab€z")
    [w] = [w for w in recwarn if "never seen in training" in str(w.message)]
    assert "'z', '€'" in str(w.message) and "<unk>" in str(w.message)
    pattern_lm.sample(5, prefix="abc", seed=0)
    assert len([w for w in recwarn if "never seen" in str(w.message)]) == 1


def test_sample_rejects_bad_settings(pattern_lm):
    for kwargs, word in [({"n_tokens": 0}, "n_tokens"), ({"temperature": -0.1}, "temperature"),
                         ({"temperature": True}, "temperature"),
                         ({"top_k": 0}, "top_k"), ({"prefix": None}, "`prefix` must be text, got NoneType"),
                         ({"prefix": ["ab"]}, "got list")]:
        with pytest.raises(LstmkitError, match=word):
            pattern_lm.sample(**kwargs)


def test_sample_takes_numpy_numbers_as_the_constructor_does(pattern_lm):
    """Was: sample(np.int64(5)) 'n_tokens must be a positive integer, got np.int64(5)' (and so
    temperature, top_k, seed), while LanguageModel(max_epochs=np.int64(2)) reads them as Python's."""
    want = pattern_lm.sample(12, temperature=1.5, top_k=3, seed=4)
    got = pattern_lm.sample(np.int64(12), temperature=np.float32(1.5), top_k=np.int32(3), seed=np.uint32(4))
    assert got == want
    with pytest.raises(LstmkitError, match="n_tokens"):
        pattern_lm.sample(np.int64(0))
    with pytest.raises(LstmkitError, match="n_tokens"):
        pattern_lm.sample(np.float64(5.0))
    with pytest.raises(LstmkitError, match="temperature"):
        pattern_lm.sample(5, temperature=np.float64("nan"))


def test_save_load_gives_identical_perplexity(pattern_lm, tmp_path, sentences):
    pattern_lm.save(tmp_path / "run")
    assert not list(tmp_path.glob("run/*.pkl")) and not list(tmp_path.glob("run/*.pt"))
    meta = json.loads((tmp_path / "run" / "lstmkit.json").read_text())
    assert meta["task"] == "lm" and meta["status"] == "finished"
    assert set(load_file(str(tmp_path / "run" / "model.safetensors"))) >= {"embedding.weight", "out.weight"}
    fresh = LanguageModel.load(tmp_path / "run")
    texts = [PATTERN, "abcxyz", *sentences(3)]
    assert fresh.perplexity(texts) == pattern_lm.perplexity(texts)
    assert fresh.sample(25, seed=1) == pattern_lm.sample(25, seed=1)
    loaded = lstmkit.load(tmp_path / "run")
    assert isinstance(loaded, LanguageModel) and loaded.perplexity(texts) == pattern_lm.perplexity(texts)


def test_word_level_with_validation_file_and_tied_weights(tiny, sentences, tmp_path):
    (tmp_path / "val.txt").write_text("\n".join(sentences(20, seed=9)) + "\n")
    lm = LanguageModel(level="word", **{**tiny, "tie_weights": True, "max_epochs": 8}).fit(
        sentences(200), val=tmp_path / "val.txt", out=tmp_path / "runs")
    m = lm.metrics_["val"]
    # 'the' is certain, then 3 adjectives, 4 nouns, 3 verbs, the end certain: exp(ln 36 / 5) = 2.05
    assert m["level"] == "word" and "bits_per_char" not in m
    assert 1.9 < m["perplexity"] < 2.6, m
    run = lm.run_dir_
    assert {"lstmkit.json", "model.safetensors", "vocab.json", "metrics.json", "history.csv"} <= \
        {p.name for p in run.iterdir()}
    assert (run / "plots" / "loss.png").is_file()
    words = lm.sample(prefix="the red", seed=0).split()
    assert words[:2] == ["the", "red"] and len(words) >= 3


def test_bpe_level_trains_and_samples_text(tiny, sentences):
    lm = LanguageModel(level="bpe", **{**tiny, "min_freq": 1, "max_size": 40, "max_epochs": 6}).fit(sentences(150))
    text = lm.sample(seed=0, temperature=0.5)
    assert text and " " in text and "▁" not in text
    assert lm.metrics_["val"]["perplexity"] < 6


def test_a_bpe_sample_keeps_the_prefix_as_typed_and_names_unseen_characters(tiny, sentences, recwarn):
    """The prefix came back decoded: lower-cased, and '<unk>' for each unseen character (which the
    warning named only as '<unk>')."""
    lm = LanguageModel(level="bpe", **{**tiny, "min_freq": 1, "max_size": 40, "max_epochs": 1}).fit(sentences(60))
    text = lm.sample(5, prefix="The Zebra", seed=0)
    assert text.startswith("The Zebra") and "<unk>" not in text
    assert len(recwarn) == 1 and "('z')" in str(recwarn[0].message)
    spaced = lm.sample(5, prefix="The ", seed=0)
    assert spaced.startswith("The ") and not spaced.startswith("The  ")
    assert lm.sample(5, prefix="the ", seed=0) == "the " + spaced[len("The "):]      # same ids, same draw


def test_a_bpe_prefix_ending_in_a_space_goes_on_with_the_next_word(tiny, sentences):
    """"the big " encodes as "▁the ▁big ▁", whose lone word marker training text holds only before
    a word spelt in pieces: the model drew a verb next ("the big sits") in 9 samples of 10. The
    prefix's words alone are read now, the first token drawn beginning a word."""
    lm = LanguageModel(level="bpe", **{**tiny, "max_epochs": 8}).fit(sentences(300))
    assert lm.tokenizer_.pieces("the big ") == lm.tokenizer_.pieces("the big")     # no lone marker read (spaces)
    words = [lm.sample(prefix="the big ", seed=seed).split() for seed in range(40)]
    assert all(w[:2] == ["the", "big"] for w in words)
    assert sum(w[2:3] in (["dog"], ["cat"], ["bird"], ["fish"]) for w in words) >= 36
    adjectives = [lm.sample(prefix="the ", seed=seed).split()[1:2] for seed in range(40)]
    assert sum(a in (["red"], ["big"], ["small"]) for a in adjectives) >= 36


def test_long_lines_are_cut_for_training_but_scored_whole(tiny):
    lm = LanguageModel(level="char", **{**tiny, "max_len": 4, "max_epochs": 30}).fit([PATTERN] * 60)
    assert lm.data_summary_["train_sequences"] == 3 * lm.data_summary_["split"]["train"]
    assert lm.data_summary_["lines_cut"] == lm.data_summary_["split"]["train"]
    assert lm.metrics_["val"]["tokens"] == 11 * lm.metrics_["val"]["lines"]
    assert lm.perplexity([PATTERN]) < 1.3


def test_unfitted_and_bad_settings():
    with pytest.raises(LstmkitError, match="not fitted"):
        LanguageModel().perplexity(["abc"])
    with pytest.raises(LstmkitError, match="unknown level"):
        LanguageModel(level="byte").fit(["abc", "def"])
    with pytest.raises(LstmkitError, match="not causal"):
        LanguageModel(model="bilstm", progress="off").fit(["abc", "def"])
    with pytest.raises(LstmkitError, match="LanguageModel has no parameter .hidden. — did you mean .hidden_size"):
        LanguageModel(hidden=3)
    with pytest.raises(LstmkitError, match="1 line"):
        LanguageModel().fit(["just one line"])


def test_a_run_with_a_missing_state_file_is_one_clear_error(tmp_path, tiny, sentences):
    lm = LanguageModel(**{**tiny, "max_epochs": 1}).fit(sentences(40), out=tmp_path)
    (lm.run_dir_ / "vocab.json").unlink()
    with pytest.raises(LstmkitError, match="has no vocab.json: the run folder is incomplete") as e:
        LanguageModel.load(lm.run_dir_)        # was 'missing or malformed … ([Errno 2] No such file …)'
    assert "copy the whole run folder again" in e.value.hint and "retrain" in e.value.hint


def test_a_corpus_of_one_long_line_trains_without_a_validation_file(tiny):
    from lstmkit import LanguageModel
    lm = LanguageModel(**{**tiny, "max_epochs": 1, "max_len": 64}).fit(["abcdefghij " * 120])
    assert lm.data_summary_["val_is_tail"] and lm.data_summary_["split"] == {"train": 1, "val": 1}
    assert lm.metrics_["val"]["tokens"] > 100


def test_a_very_long_line_is_scored_in_pieces_with_the_same_result(tiny, monkeypatch):
    """A one-line corpus (text8: 100 M characters) cannot be scored as one sequence; pieces with
    the recurrent state carried give the whole line's number."""
    import lstmkit.tasks.lm.estimator as est_module
    lm = LanguageModel(**{**tiny, "max_epochs": 2}).fit(["abcdefghij " * 40] * 4)
    line = "abcdefghij " * 60 + "jihgfedcba " * 20
    whole = lm.perplexity([line, "abc def"])
    monkeypatch.setattr(est_module, "_EVAL_CHUNK", 50)
    assert lm.perplexity([line, "abc def"]) == pytest.approx(whole, rel=1e-5)
    assert lm.perplexity([line]) > 1                                    # every line long: no short batch at all


def test_a_long_line_of_a_model_without_state_is_scored_in_pieces_after_max_len_tokens(tiny, monkeypatch):
    """Non-recurrent models scored a long line whole: a transformer's held-out end of a one-line corpus
    past its 10,000 positions was a ValueError traceback once training had finished (and attention over
    a 100,000-character line a matrix of 10^10 scores). Each piece now reads the ``max_len`` tokens
    before it: a tcn, whose last step reads 125 tokens, scores as it does whole."""
    import lstmkit.tasks.lm.estimator as est_module
    small = {**tiny, "max_epochs": 1, "level": "char", "hidden_size": 8, "embed_dim": 8}
    tcn = LanguageModel(**{**small, "model": "tcn", "max_len": 128}).fit(["abcdefghij " * 20] * 4)
    line = "abcdefghij " * 60 + "jihgfedcba " * 20
    whole = tcn.perplexity([line])
    monkeypatch.setattr(est_module, "_EVAL_CHUNK", 200)
    assert tcn.perplexity([line]) == pytest.approx(whole, rel=1e-6)
    transformer = LanguageModel(**{**small, "model": "transformer", "max_len": 64}).fit(["abcdefghij " * 20] * 4)
    assert np.isfinite(transformer.perplexity(["abcdefghij " * 1000]))      # 11,000 positions


def test_scoring_long_lines_keeps_each_call_s_logits_within_the_bound(pattern_lm, monkeypatch):
    """64 lines of 2,700 words were one batch: its logits [64, 2,701, V] and their log-softmax took
    5.5 GB at a 3,688-word vocabulary (~45 GB at the default 30,000), in evaluate, predict, perplexity
    and the validation metrics at the end of training. Batches now stay within LOGIT_CELLS, as the
    service's already did, and each line's number is the one it has alone."""
    import lstmkit.tasks.lm.estimator as est_module
    net, vocab, shapes = pattern_lm.net_, pattern_lm.tokenizer_.vocab_size, []
    monkeypatch.setattr(est_module, "LOGIT_CELLS", 40 * vocab)          # 40 tokens of logits a call
    monkeypatch.setattr(net, "forward", lambda x, lengths=None: shapes.append(tuple(x.shape)) or
                        type(net).forward(net, x, lengths))
    texts = [PATTERN * 3, "abc", PATTERN * 2, "abcdef", PATTERN] * 3
    out = pattern_lm.predict(texts)
    assert max(b * t for b, t in shapes) <= 40 and len(shapes) > 3, shapes
    alone = [pattern_lm.predict(t)["logprobs"][0] for t in texts]
    assert out["logprobs"] == pytest.approx(alone, rel=1e-5)
    assert est_module.logit_batches([31, 4, 7], 1, 2) == [[1, 2], [0]]  # shortest first, at most 2 a batch
    assert est_module.logit_batches([100, 3], est_module.LOGIT_CELLS) == [[1], [0]]   # each over the bound: alone


@pytest.mark.parametrize("where", ["notes.txt", "notes.txt/run"])
def test_save_onto_a_file_is_one_error_and_leaves_the_file(pattern_lm, tmp_path, where):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(LstmkitError, match="is a file, not a folder"):
        pattern_lm.save(tmp_path / where)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_perplexity_of_a_frame_without_the_text_column_is_told_what_python_can_do(pattern_lm):
    """perplexity takes no text_column, yet its fix was "pass text_column with one of: body". A frame of
    one column is read as its texts (a warning names it), as predict reads one."""
    import pandas as pd
    frame = pd.DataFrame({"body": ["abcdef", "abc"], "n": [1, 2]})
    with pytest.raises(LstmkitError, match=r"^the DataFrame has no column 'text' \(the model's text column\) to read "
                                           r"the texts from; its columns: body, n — pass the column of texts, e.g. "
                                           r"df\['body'\]$"):
        pattern_lm.perplexity(frame)
    assert pattern_lm.perplexity(frame["body"]) == pattern_lm.perplexity(["abcdef", "abc"])


@pytest.mark.parametrize("level", ["char", "bpe"])
def test_lines_with_a_lone_surrogate_train_save_and_score(tiny, tmp_path, level):
    """A lone surrogate was a bare UnicodeEncodeError writing vocab.json after training (char) or in
    the BPE trainer (and a TypeError in BPE's predict)."""
    lines = [f"abc{'d' * (i % 5)} \ud83d" for i in range(40)]
    with pytest.warns(UserWarning, match="half of a UTF-16 surrogate pair"):
        lm = LanguageModel(level=level, **{**tiny, "max_epochs": 1}).fit(lines, out=tmp_path)
    with pytest.warns(UserWarning, match="half of a UTF-16 surrogate pair"):
        assert LanguageModel.load(lm.run_dir_).predict(lines[:3]) == lm.predict(lines[:3])


def test_perplexity_and_evaluate_read_every_line_or_refuse(pattern_lm):
    """perplexity skipped what was not a string (the number described less text than given) and
    raised a bare TypeError for None; a DataFrame is read by its text column."""
    import pandas as pd
    for bad in (["abc", 3], pd.Series(["abc", float("nan")]), None):
        with pytest.raises(LstmkitError, match="not a string|cannot read text from a NoneType"):
            pattern_lm.perplexity(bad)
    lines = [PATTERN, "abcde"]
    frame = pd.DataFrame({"text": lines, "label": [0, 1]})
    assert pattern_lm.perplexity(frame) == pattern_lm.perplexity(lines)
    assert pattern_lm.evaluate(frame) == pattern_lm.evaluate(lines)
    assert pattern_lm.evaluate(frame)["lines"] == 2


def test_a_model_that_favours_the_line_end_still_draws_the_tokens_asked_for(pattern_lm):
    """An undertrained model whose likeliest token after <bos> is </s> gave 120 empty lines and no
    token for sample(5): training has no empty line, so a line's first draw is never </s>."""
    import copy
    import torch
    lm = copy.deepcopy(pattern_lm)
    with torch.no_grad():
        lm.net_.out.bias[lm.tokenizer_.eos_id] += 50.0          # </s> far likelier than anything else
    text = lm.sample(5, seed=0)
    assert text.count("\n") == 4 and len(text.replace("\n", "")) == 5      # five one-token lines
    assert len(lm.sample(seed=0)) == 1                                       # one line: one token, then </s>
    assert lm.sample(3, prefix="ab", seed=0).startswith("ab\n")             # after a prefix the line may end at once


def test_training_text_mostly_below_min_freq_is_warned_of(tiny, sentences, recwarn):
    """A column of numbers or a small word corpus trained a model of <unk> without a word: the
    report showed only the validation <unk> share, and perplexity counted each <unk> as right."""
    lines = [f"n{k} n{k + 1000} the" for k in range(40)]     # two of three words seen once: 2 of 4 tokens with </s>
    with pytest.warns(UserWarning, match=r"50% of the training tokens are <unk> \(rarer than min_freq=2\).*"
                                         r"lower min_freq= .*level='char'"):
        LanguageModel(level="word", **{**tiny, "max_epochs": 1}).fit(lines, val=["the n1"])
    LanguageModel(level="word", **{**tiny, "max_epochs": 1}).fit(sentences(40))
    assert not [w for w in recwarn if "<unk>" in str(w.message)]            # a corpus of repeated words: none


def test_unknown_tokens_made_by_a_full_vocabulary_cap_name_the_cap_not_min_freq(tiny):
    """At min_freq=1 a vocabulary capped at 8 ids made most tokens <unk>, and the warning said
    'rarer than min_freq=1 ... lower min_freq= (1 keeps every token)': the value already given."""
    lines = [f"w{k} w{k + 1} w{k + 2} w{k + 3}" for k in range(40)]
    with pytest.warns(UserWarning, match="training tokens are <unk>") as caught:
        LanguageModel(level="word", min_freq=1, max_size=8, **{**tiny, "max_epochs": 1}).fit(lines)
    said = next(str(w.message) for w in caught if "<unk>" in str(w.message))
    assert "min_freq" not in said
    assert "(past the vocabulary cap, max_size=8)" in said and "raise max_size= (it is full)" in said


def test_validation_text_that_is_the_training_text_is_warned_of(tiny, sentences, recwarn):
    """--val given the training file trained without a word, its perplexity the training text's."""
    lines = sentences(40)
    with pytest.warns(UserWarning, match="40 of the 40 validation lines are training lines too"):
        LanguageModel(**{**tiny, "max_epochs": 1}).fit(lines, val=lines)
    LanguageModel(**{**tiny, "max_epochs": 1}).fit(lines, val=["a dog runs", lines[0]])      # one of two: fine
    assert not [w for w in recwarn if "training lines too" in str(w.message)]


def test_scoring_many_lines_shows_progress_and_the_same_perplexity(pattern_lm, monkeypatch, capsys):
    from lstmkit.train import progress
    lines = [PATTERN[:k] for k in range(1, 11)] * 13          # 130 lines: 3 batches of 64
    quiet = pattern_lm.perplexity(lines)
    assert capsys.readouterr().err == ""                     # the run's setting: progress off
    monkeypatch.setattr(pattern_lm.config.train, "progress", "log")
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)
    assert pattern_lm.perplexity(lines) == quiet
    err = capsys.readouterr().err.splitlines()
    assert [line.split(",")[0] for line in err] == [f"scoring: {k}/3 batches" for k in (1, 2, 3)]


def test_score_is_the_mean_log_likelihood_so_scikit_learn_can_cross_validate(pattern_lm, tiny):
    """LanguageModel had no score: cross_val_score and GridSearchCV without a scorer failed on it."""
    import math
    from sklearn.model_selection import cross_val_score
    lines = [PATTERN, "abcde"]
    assert pattern_lm.score(lines) == -pattern_lm.evaluate(lines)["cross_entropy"]
    assert math.exp(-pattern_lm.score(lines)) == pytest.approx(pattern_lm.perplexity(lines))
    assert pattern_lm.score([PATTERN]) > pattern_lm.score(["jihgfedcba"])          # the pattern is likelier
    scores = cross_val_score(LanguageModel(level="char", **{**tiny, "max_epochs": 2}), [PATTERN] * 40, cv=2)
    assert len(scores) == 2 and all(math.isfinite(s) and s < 0 for s in scores)


def test_the_doctor_compares_the_model_with_the_unigram(tiny, sentences):
    """A language model was compared with no baseline: at lr 1e-6 (validation cross-entropy 2.61 nats
    a token, the training words' frequencies alone 2.33) the doctor said nothing of it."""
    from lstmkit.train.doctor import format_report
    good = LanguageModel(**{**tiny, "doctor": True, "max_epochs": 6}, level="word").fit(sentences(300))
    cmp = good.result_.doctor["evidence"]["baselines"]
    assert cmp["model"] == pytest.approx(good.metrics_["val"]["cross_entropy"])
    assert cmp["model"] < 0.5 * cmp["scores"]["unigram"]
    assert "validation cross-entropy per token (nats): the model" in format_report(good.result_.doctor)
    stuck = LanguageModel(**{**tiny, "doctor": True, "max_epochs": 3, "lr": 1e-6}, level="word").fit(sentences(300))
    (lost,) = [f for f in stuck.result_.doctor["findings"] if f["kind"] == "loses_to_baseline"]
    assert lost["title"] == "the model does not beat the best baseline (unigram)"
    assert lost["remedies"][0].startswith("raise the learning rate (now 1e-06")
    assert lost["remedies"][1].startswith("model characters instead of words: level='char' (now level='word'); a "
                                          "word-level model picks each next token from ")


def test_the_doctors_remedy_names_a_bpe_runs_level_as_subwords_not_words():
    """At --level bpe the remedy read 'model characters: --level char (now bpe; a word-level model needs far
    more text ...)': the run was called word-level and the sentence did not say what to change from what."""
    from lstmkit.tasks.lm.estimator import unigram_comparison
    (said,) = unigram_comparison(5.0, [[3, 4]], [[3]], vocab_size=1200, eos_id=2, level="bpe")["remedies"]
    assert said == ("model characters instead of BPE subwords: --level char (now --level bpe); a subword-level "
                    "model picks each next token from 1,200, and needs far more text than a character-level one "
                    "to learn which subword follows which")
    assert " a word-level" not in said
    (said,) = unigram_comparison(5.0, [[3, 4]], [[3]], vocab_size=9, eos_id=2, level="char")["remedies"]
    assert said.startswith("train on more text")


def test_the_unigram_baseline_counts_line_ends_and_smooths_unseen_tokens():
    from lstmkit.tasks.lm.estimator import unigram_comparison
    # vocabulary of 5, </s> is 2: training targets 3 3 </s> 4 </s> -> counts [0, 0, 2, 2, 1], add-one over 10
    cmp = unigram_comparison(1.0, [[3, 3], [4]], [[3, 0]], vocab_size=5, eos_id=2, level="char")
    p = np.array([1, 1, 3, 3, 2]) / 10
    assert cmp["points"] == 3
    assert cmp["scores"]["unigram"] == pytest.approx(-(np.log(p[3]) + np.log(p[0]) + np.log(p[2])) / 3)


def test_a_text_mostly_of_tokens_the_model_never_saw_is_warned_of_at_evaluate(pattern_lm, tmp_path, capsys):
    """Every unknown token is the one token <unk>, easy to predict: German text scored perplexity 25 under an
    English word model whose own held-out English scored 163 (91% of the German tokens <unk>), and nothing
    said the number meant nothing. Text like the training text stays quiet."""
    import warnings
    from cli_helpers import run_cli
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pattern_lm.evaluate([PATTERN, PATTERN[:5]])
    other = ["абвгдежзик", "абвгд"]                                      # characters the model never saw
    with pytest.warns(UserWarning, match=r"^88% of the text's char tokens are <unk> \(of the training text's 0%\): "
                                         r"text in another language, script or domain\? The perplexity counts each "
                                         r"unknown char as the one token <unk>, so it flatters the model") as got:
        m = pattern_lm.evaluate(other)
    assert m["unk_rate"] == pytest.approx(15 / 17) and got[0].filename == __file__
    (tmp_path / "other.txt").write_text("\n".join(other) + "\n", encoding="utf-8")
    pattern_lm.save(tmp_path / "run")
    code, out, err = run_cli(["lm", "evaluate", "--run", tmp_path / "run", "--data", tmp_path / "other.txt"], capsys)
    assert code == 0 and "perplexity" in out, err
    assert err.startswith("warning: 88% of the text's char tokens are <unk>") and err.count("\n") == 1, err


def test_a_long_sample_shows_its_tokens_and_the_same_text(pattern_lm, monkeypatch, capsys):
    """lm sample --n 1000000 draws token by token for minutes, with no word on standard error until the
    text came. Its tokens show now, as evaluate's batches (a bar with ETA on a terminal, log lines
    elsewhere); a line without n_tokens, which ends at </s>, does not."""
    from lstmkit.train import progress
    quiet = pattern_lm.sample(5, seed=0)
    assert capsys.readouterr().err == ""                     # the run's setting: progress off
    monkeypatch.setattr(pattern_lm.config.train, "progress", "log")
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)
    assert pattern_lm.sample(5, seed=0) == quiet
    err = capsys.readouterr().err.splitlines()
    assert [line.split(",")[0] for line in err] == [f"sampling: {k}/5 tokens" for k in (1, 2, 3, 4, 5)]
    pattern_lm.sample(seed=0)
    assert capsys.readouterr().err == ""


def test_the_loss_plot_reads_perplexity_and_names_the_run(tiny, sentences, tmp_path, monkeypatch):
    """loss.png, titled 'Training curves', showed nats alone while the run printed its perplexity (69.7):
    the number the user compares was nowhere on the plot, nor which run and model it was of."""
    import lstmkit.inspect.plots as plots
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    lm = LanguageModel(level="word", **{**tiny, "max_epochs": 2}).fit(sentences(60), out=tmp_path / "runs")
    ax = seen[0].axes[0]
    assert ax.get_title().startswith(f"{lm.run_dir_.name}: lstm language model, word level")
    right = next(a for a in seen[0].axes[0].child_axes if a.get_ylabel() == "perplexity")
    seen[0].canvas.draw()
    nats = ax.get_lines()[1].get_ydata()[-1]                      # the validation loss at the last epoch
    assert nats == pytest.approx(np.log(lm.metrics_["val"]["perplexity"]), rel=0.05)
    lo, hi = ax.get_ylim()
    assert right.get_ylim() == pytest.approx((np.exp(lo), np.exp(hi)))
    texts = [t.get_text() for t in right.get_yticklabels() + right.get_yticklabels(minor=True) if t.get_text()]
    assert texts and all(float(t) > 0 and "e" not in t and "$" not in t for t in texts), texts
