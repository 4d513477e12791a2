import numpy as np
import pytest
import torch

from lstmkit import LanguageModel
from lstmkit.errors import LstmkitError
from lstmkit.nn.scoring import TokenScorer


def _teacher_forced(lm, text):
    """log-softmax of the full-sequence model at every position of <bos> text, restricted to the scorer's vocab."""
    tok = lm.tokenizer_
    x = torch.tensor([[tok.bos_id, *tok.encode(text)]])
    with torch.no_grad():
        logp = torch.log_softmax(lm.net_(x), dim=-1)[0]
    return logp[:, lm.scorer().ids].numpy()


@pytest.mark.parametrize("model", ["lstm", "gru", "tcn"])
def test_scorer_equals_the_full_sequence_model(model, tiny, sentences):
    lm = LanguageModel(level="char", **{**tiny, "max_epochs": 2, "num_layers": 2, "model": model}).fit(
        sentences(60))
    sc = lm.scorer()
    text = "the big cat runs"
    expected = _teacher_forced(lm, text)
    state = sc.initial()
    for t, ch in enumerate(["", *text]):
        if ch:
            state = sc.advance(state, ch)
        got = sc.log_probs(state)
        assert got.shape == (len(sc.vocab),)
        np.testing.assert_allclose(got, expected[t], atol=1e-5)
    assert abs(np.exp(sc.log_probs(state)).sum() - 1.0) < 1e-5


@pytest.fixture(scope="module")
def word_lm(tiny, sentences):
    return LanguageModel(level="word", **{**tiny, "max_epochs": 3, "min_freq": 1}).fit(sentences(80))


def test_word_scorer_interface(word_lm):
    sc = word_lm.scorer()
    assert isinstance(sc, TokenScorer) and sc.end == "</s>"               # the interface decoders fuse
    assert sc.level == "word" and "</s>" in sc.vocab and "<unk>" in sc.vocab
    assert "<pad>" not in sc.vocab and "<bos>" not in sc.vocab
    s = sc.advance(sc.initial(), "the")
    assert sc.advance(s, "Dog") is sc.advance(s, "dog")                    # lower-cased like the training text
    assert sc.advance(s, "zebra") is sc.advance(s, "<unk>")                 # unknown words are <unk>
    assert sc.advance(s, "</s>") is sc.initial()                            # the end starts a new line
    assert sc.score(s, "dog") == pytest.approx(float(sc.log_probs(s)[sc.vocab.index("dog")]))


def test_repr_names_the_level_and_the_vocabulary_size(word_lm):
    sc = word_lm.scorer()                  # was <lstmkit.tasks.lm.scorer.LMScorer object at 0x...>
    assert repr(sc) == f"LMScorer(level='word', vocab={len(sc.vocab)})"


def test_scorer_caches_states_and_log_probs(word_lm, monkeypatch):
    sc = word_lm.scorer()
    s = sc.advance(sc.initial(), "the")
    assert sc.log_probs(s) is sc.log_probs(s)                              # computed once
    net, calls = word_lm.net_, []
    for name in ("step", "head"):
        real = getattr(net, name)
        monkeypatch.setattr(net, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    hook = net.encoder.register_forward_hook(lambda *a: calls.append("whole sequence"))
    try:
        child = sc.advance(s, "big")
        sc.log_probs(child)
        assert calls == ["step", "head"]                                    # advancing is one step
        assert sc.advance(s, "big") is child
        sc.log_probs(child)
        assert calls == ["step", "head"]                                    # revisiting costs nothing
    finally:
        hook.remove()
    with pytest.raises(ValueError):
        sc.log_probs(s)[0] = 0.0                                            # callers cannot spoil the cache


def test_bpe_model_has_no_decoder_scorer(tiny, sentences):
    lm = LanguageModel(level="bpe", **{**tiny, "max_epochs": 1, "min_freq": 1, "max_size": 60}).fit(sentences(40))
    with pytest.raises(LstmkitError, match="level='char'"):        # a Python caller's words
        lm.scorer()


def test_a_long_prefix_takes_memory_in_proportion_to_its_length(word_lm):
    """Every state kept its whole prefix as a tuple: n steps held n²/2 ids (a 99,000-character
    prefix grew the service past 24 GB). 4,000 steps now hold a few MB of Python objects."""
    import tracemalloc
    sc = word_lm.scorer()
    state = sc.initial()
    tracemalloc.start()
    try:
        for _ in range(4000):
            state = sc.advance(state, "dog")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(state) == 4000
    assert peak < 40e6, peak                   # the tuples alone: 4000² / 2 ids of 8 bytes = 64 MB


def test_a_token_that_is_not_a_string_or_an_id_out_of_range_is_one_error(word_lm):
    """These were bare AttributeError ('int' object has no attribute 'lower'), IndexError from
    the embedding, or a RuntimeError about tensor dtypes."""
    sc = word_lm.scorer()
    s0 = sc.initial()
    for call in (lambda: sc.advance(s0, 3), lambda: sc.score(s0, None), lambda: sc.index(["the"])):
        with pytest.raises(LstmkitError, match="a token must be a string, got .* — pass one entry of scorer.vocab"):
            call()
    top = word_lm.tokenizer_.vocab_size - 1
    for bad in (top + 1, -1, 2.0, True):
        with pytest.raises(LstmkitError, match=rf"token id .* is not one of the model's ids \(whole numbers 0 to {top}"):
            sc.advance_id(s0, bad)
    known = sc.ids[2]
    assert np.array_equal(sc.log_probs(sc.advance_id(s0, np.int64(known))), sc.log_probs(sc.advance_id(s0, known)))


@pytest.mark.parametrize("model", ["transformer", "lstm"])
def test_a_sample_s_prefix_is_read_once_by_a_model_without_state(model, tiny, sentences):
    """A transformer (tcn, cnn-lstm, lstm-attention) LM read a sample's prefix token by token, each
    time from its start: a prefix of n tokens was n runs over up to n tokens, quadratic in its
    length (cubic in the transformer's attention). It is one run now, answering as the steps did."""
    from lstmkit.tasks.lm.scorer import _CachingScorer
    lm = LanguageModel(level="char", **{**tiny, "max_epochs": 1, "model": model}).fit(sentences(30))
    sc, ids = lm.scorer(), lm.tokenizer_.encode("the big cat runs and the small dog sits")
    runs = []
    hook = lm.net_.encoder.register_forward_hook(lambda *_: runs.append(1))
    try:
        at_once = sc.advance_ids(sc.initial(), ids)
        assert len(runs) == 1 or model == "lstm"       # an LSTM steps its cells, its state carried
        stepped = _CachingScorer.advance_ids(sc, sc.initial(), ids)
    finally:
        hook.remove()
    assert len(at_once) == len(stepped) == len(ids)
    np.testing.assert_allclose(sc.log_probs(at_once), sc.log_probs(stepped), atol=1e-6)
    assert lm.sample(n_tokens=4, prefix="the big cat", temperature=0).startswith("the big cat")


def _kept(state) -> int:
    """States cached under ``state``, itself included."""
    return 1 + sum(_kept(child) for child in state._children.values())


def test_a_sample_holds_only_the_state_it_is_at(word_lm):
    """Each state a sample drew its way through was cached as its parent's child, from the initial
    state on, so a long sample held them all: 190 MB for 20,000 tokens of a 2x1024 LSTM, some 9 GB
    for the million ``sample`` allows. The prefix's states stay cached, the drawn ones not."""
    from lstmkit.tasks.lm.scorer import sample_text
    sc = word_lm.scorer()
    text, info = sample_text(sc, 300, "the big", 1.0, None, 0)
    assert info["tokens"] == 300 and text.startswith("the big")
    assert _kept(sc.initial()) == 3                 # <bos>, "the", "the big"


@pytest.mark.parametrize("temperature, top_k", [(1.3, None), (0.7, 3)])
def test_a_long_sample_draws_as_a_rollout_of_the_full_sequence_model(word_lm, temperature, top_k):
    """300 tokens over many lines, redrawn by hand: at each step the full-sequence network's
    softmax over the line so far (``<unk>`` left out, ``</s>`` too as a line's first token; the
    top k kept) at the temperature, the same generator's draw; a ``</s>`` starts the next line
    from ``<bos>``. The stepped state carries what the whole line says: the texts are the same."""
    from lstmkit.tasks.lm.scorer import sample_text
    sc, tok = word_lm.scorer(), word_lm.tokenizer_
    text, _ = sample_text(sc, 300, "the big", temperature, top_k, 7)
    rng, line, lines, drawn = np.random.default_rng(7), tok.encode("the big"), [[]], 0
    while drawn < 300:
        with torch.no_grad():
            logits = word_lm.net_(torch.tensor([[tok.bos_id, *line]]))[0, -1]
        lp = torch.log_softmax(logits, -1)[sc.ids].double().numpy()
        lp[sc.index("<unk>")] = -np.inf
        if not line:
            lp[sc.index("</s>")] = -np.inf
        if top_k:
            lp[lp < np.sort(lp)[-top_k]] = -np.inf
        p = np.exp((lp - lp.max()) / temperature)
        k = sc.ids[rng.choice(len(p), p=p / p.sum())]
        if k == tok.eos_id:
            lines.append([])
            line = []
            continue
        lines[-1].append(k)
        line.append(k)
        drawn += 1
    assert len(lines) > 20
    assert text == "\n".join(["the big " + tok.decode(lines[0]), *(tok.decode(ids) for ids in lines[1:])])
