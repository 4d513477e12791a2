"""Deployment of language models: the ONNX step graph, int8 with the perplexity gate, the ONNX
scorer other rooms fuse with, the service's score / sample requests and token streams."""
import json
import math

import numpy as np
import pytest
import torch

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from one_thread import one_thread  # noqa: E402,F401  (autouse: one torch thread)
from lstmkit import LanguageModel  # noqa: E402
from lstmkit.deploy.adapter import BadRequest, DeployAdapter  # noqa: E402
from lstmkit.deploy.onnx import export_onnx  # noqa: E402
from lstmkit.deploy.onnx_engine import engine_net, load_runner  # noqa: E402
from lstmkit.deploy.quantize import REPORT_FILE, export_int8  # noqa: E402
from lstmkit.deploy.registry import adapter_for, supported_tasks  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from lstmkit.nn.scoring import TokenScorer  # noqa: E402
from lstmkit.tasks.lm.deploy import LMAdapter  # noqa: E402
from lstmkit.tasks.lm.scorer import GraphScorer, LMScorer  # noqa: E402

TINY = dict(embed_dim=16, hidden_size=24, dropout=0.0, lr=1e-2, batch_size=16, seed=0, progress="off",
            tensorboard=False, doctor=False, max_epochs=2)


def sentences(n, seed=0):
    rng = np.random.default_rng(seed)
    adj, noun, verb = ["red", "big", "small"], ["dog", "cat", "bird", "fish"], ["runs", "sits", "sleeps"]
    return [f"the {rng.choice(adj)} {rng.choice(noun)} {rng.choice(verb)}" for _ in range(n)]


def _fit(tmp_path_factory, name, **params):
    d = tmp_path_factory.mktemp(name)
    (d / "train.txt").write_text("\n".join(sentences(120)) + "\n")
    lm = LanguageModel(**{**TINY, **params}).fit(str(d / "train.txt"), out=d / "runs")
    export_onnx(lm.run_dir_)
    return lm


@pytest.fixture(scope="module")
def char_lm(tmp_path_factory):
    """A 2-layer char LSTM, its run exported to ONNX (embeddings wider than its ~23 symbols: the
    graph's first layer reads the folded input table)."""
    return _fit(tmp_path_factory, "char", level="char", num_layers=2, embed_dim=32)


@pytest.fixture(scope="module")
def word_lm(tmp_path_factory):
    """A 1-layer word GRU (state h only), exported."""
    return _fit(tmp_path_factory, "word", level="word", model="gru", num_layers=1, min_freq=1)


def _ids(lm, text):
    return [lm.tokenizer_.bos_id, *lm.tokenizer_.encode(text)]


# -- the ONNX step graph -----------------------------------------------------------------------
def test_lm_is_a_deploy_task(char_lm):
    assert "lm" in supported_tasks()
    adapter = adapter_for(char_lm.run_dir_)
    assert type(adapter) is LMAdapter and isinstance(adapter, DeployAdapter)


@pytest.mark.parametrize("which, names", [("char_lm", ["h", "c"]), ("word_lm", ["h"])])
def test_onnx_logits_equal_torch_and_state_carries_over_calls(which, names, request):
    lm = request.getfixturevalue(which)
    report = json.loads((lm.run_dir_ / "onnx.json").read_text())
    assert report["inputs"] == ["x", *(f"{n}0" for n in names)] and report["outputs"] == ["y", *(f"{n}n" for n in names)]
    runner = load_runner(lm.run_dir_)
    texts = ["the big cat runs", "the dog sits", "the small fish sleeps"]
    rows = [_ids(lm, t)[:4] for t in texts]                     # [3, 4] int64: a new batch size and length
    x = np.array(rows, dtype=np.int64)
    y, state = runner.run(x)
    with torch.no_grad():
        ref = lm.net_.eval()(torch.from_numpy(x)).numpy()
    keep = np.isfinite(ref)                                      # <pad> and <bos>: -inf in torch, -1e30 here
    assert keep.sum() == ref.size - 2 * ref.shape[0] * ref.shape[1] and (y[~keep] <= -1e29).all()
    np.testing.assert_allclose(y[keep], ref[keep], atol=1e-4)
    # Two calls carrying (h, c) equal one call over the concatenation.
    y1, s1 = runner.run(x[:, :2])
    y2, s2 = runner.run(x[:, 2:], s1)
    np.testing.assert_allclose(np.concatenate([y1, y2], axis=1), y, atol=1e-5)
    for a, b in zip(s2, state):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # Each row alone (batch 1) answers as in the batch.
    alone, _ = runner.run(x[1:2])
    np.testing.assert_allclose(alone, y[1:2], atol=1e-5)


def test_an_lstm_graph_is_time_major_with_its_input_projection_as_a_table(char_lm, word_lm):
    import onnx
    vocab, hidden = char_lm.tokenizer_.vocab_size, char_lm.config_.hidden_size
    assert vocab < char_lm.config_.embed_dim
    assert json.loads((char_lm.run_dir_ / "onnx.json").read_text())["traced"] == "TimeMajorLM"
    graph = onnx.load(str(char_lm.run_dir_ / "model.onnx")).graph
    weights = {t.name: t for t in graph.initializer}
    lstms = [n for n in graph.node if n.op_type == "LSTM"]
    assert len(lstms) == 2 and list(weights[lstms[0].input[1]].dims) == [1, 4 * hidden, vocab]   # one-hot in
    floats = [n for n in graph.node if n.op_type == "Transpose"]                 # ids and logits only
    assert len(floats) == 2 and floats[0].input[0] == "x" and floats[-1].output[0] == "y"
    # The table's rows are embedding @ W_ih0.T: the first layer's gates equal torch's own.
    adapter = adapter_for(char_lm.run_dir_)
    x = adapter.example_inputs(2, 5)
    with torch.no_grad():
        ref = adapter.stateful()(x)
        got = adapter.export_net()(x, *(torch.zeros(2, 2, hidden) for _ in range(2)))
    for a, b in zip(got, ref):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    # A GRU keeps the plain stateful graph.
    assert adapter_for(word_lm.run_dir_).export_net() is None
    assert "traced" not in json.loads((word_lm.run_dir_ / "onnx.json").read_text())


def test_a_model_without_recurrent_state_has_no_step_graph(tmp_path):
    lm = LanguageModel(**{**TINY, "max_epochs": 1, "num_layers": 1, "model": "tcn"}).fit(sentences(30))
    adapter = LMAdapter(lm)
    assert "does not step with a recurrent state alone" in adapter.state_refusal()
    assert "(it reads the tokens its receptive field spans again at each step)" in adapter.state_refusal()   # not every
    with pytest.raises(LstmkitError, match="no step graph"):
        adapter.stateful()
    with pytest.raises(LstmkitError, match="no step graph"):
        adapter.export_net()
    net = adapter.net                                            # serving still works, on torch
    assert adapter.score(net, ["the cat runs"])["perplexity"][0] == pytest.approx(lm.perplexity(["the cat runs"]))


# -- the scorer other rooms fuse with -----------------------------------------------------------
@pytest.mark.parametrize("which, text", [("char_lm", "the cat runs"), ("word_lm", "the big fish sleeps zebra")])
def test_onnx_scorer_answers_as_the_torch_scorer(which, text, request):
    lm = request.getfixturevalue(which)
    adapter = adapter_for(lm.run_dir_)                            # how speech reaches it, without tasks.lm
    torch_sc, onnx_sc = adapter.scorer("torch"), adapter.scorer("onnx")
    assert type(torch_sc) is LMScorer and type(onnx_sc) is GraphScorer
    assert type(adapter.scorer("auto")) is GraphScorer            # a fresh graph is there
    assert isinstance(onnx_sc, TokenScorer) and onnx_sc.vocab == torch_sc.vocab and onnx_sc.level == lm.config_.level
    tokens = list(text) if lm.config_.level == "char" else text.split()
    s_t, s_o = torch_sc.initial(), onnx_sc.initial()
    for token in [*tokens, "</s>", tokens[0]]:
        np.testing.assert_allclose(onnx_sc.log_probs(s_o), torch_sc.log_probs(s_t), atol=1e-5)
        s_t, s_o = torch_sc.advance(s_t, token), onnx_sc.advance(s_o, token)
    # LMScorer's caching: one child per (state, token), log_probs computed once, </s> -> initial.
    s = onnx_sc.advance(onnx_sc.initial(), tokens[0])
    assert onnx_sc.advance(onnx_sc.initial(), tokens[0]) is s and onnx_sc.log_probs(s) is onnx_sc.log_probs(s)
    assert onnx_sc.advance(s, "</s>") is onnx_sc.initial()
    assert onnx_sc.score(s, "</s>") == pytest.approx(torch_sc.score(torch_sc.advance(torch_sc.initial(), tokens[0]), "</s>"),
                                                     abs=1e-5)


def test_the_onnx_scorer_needs_an_exported_graph(char_lm, tmp_path):
    import shutil
    copy = tmp_path / "no-graph"
    shutil.copytree(char_lm.run_dir_, copy, ignore=shutil.ignore_patterns("model.onnx"))
    with pytest.raises(LstmkitError, match="lstmkit export onnx"):
        adapter_for(copy).scorer("onnx")
    assert type(adapter_for(copy).scorer("auto")) is LMScorer
    unsaved = LanguageModel.load(char_lm.run_dir_)
    unsaved.run_dir_ = None
    with pytest.raises(LstmkitError, match="needs a saved run"):
        LMAdapter(unsaved).scorer("onnx")


# -- int8 -----------------------------------------------------------------------------------------
def test_int8_reports_perplexity_and_keeps_the_engine_within_one_percent(char_lm):
    target = export_int8(char_lm.run_dir_, batch=64, min_seconds=0.02)
    report = json.loads((target / REPORT_FILE).read_text())
    fp32 = report["fp32"]["metrics"]
    assert fp32["perplexity"] == pytest.approx(char_lm.evaluate(_held_out(char_lm))["perplexity"], rel=1e-6)
    for name, c in report["candidates"].items():
        rise = c["metrics"]["perplexity"] / fp32["perplexity"] - 1
        assert ("quality_refused" in c) == (rise > 0.01), (name, rise)
        assert c["metric_change"]["perplexity"] == pytest.approx(c["metrics"]["perplexity"] - fp32["perplexity"])
    assert report["engine"] in report["candidates"] and "quality_refused" not in report["chosen"]
    adapter = adapter_for(target)                                 # the int8 run serves, scores and streams
    assert adapter.preferred_engine == report["engine"]
    for engine in ("torch", "onnx"):
        net = engine_net(adapter, engine, target)
        ppl = adapter.score(net, ["the cat runs"])["perplexity"][0]
        assert ppl == pytest.approx(char_lm.perplexity(["the cat runs"]), rel=0.02)
        assert adapter.open_stream(engine).step("t")["tokens"] == ["t"]
        assert adapter.scorer(engine).log_probs(adapter.scorer(engine).initial()).shape == (len(adapter.scorer(engine).vocab),)


def _held_out(lm):
    from lstmkit.tasks.lm.data import read_corpus, split_lines
    full = read_corpus(lm.data_summary_["source"])
    return full.subset(split_lines(len(full), lm.config_.val_frac, lm.config_.train.seed)[1]).lines


def test_quality_refusal_is_one_percent_of_perplexity(char_lm):
    judge = LMAdapter(char_lm).quality_refusal
    assert judge({"perplexity": 10.0}, {"perplexity": 10.09}) is None
    assert judge({"perplexity": 10.0}, {"perplexity": 9.0}) is None
    assert "perplexity rose 2.00 %" in judge({"perplexity": 10.0}, {"perplexity": 10.2})
    assert "no validation text" in judge(None, None)


def test_quality_refusal_without_either_perplexity_says_there_is_no_validation_text(char_lm):
    """One side unscored (None or empty) is no comparison: refused with the reason, not a KeyError/TypeError."""
    judge = LMAdapter(char_lm).quality_refusal
    for before, after in (({"perplexity": 10.0}, None), (None, {"perplexity": 10.0}), ({}, {"perplexity": 10.0})):
        assert "no validation text" in judge(before, after)


def test_test_metrics_is_exp_of_the_mean_negative_log_likelihood_per_token(char_lm):
    """A net whose logits ignore the context (``w`` at every step) gives each target token ``t`` the
    log-probability ``w[t] - logsumexp(w)``; the targets of a line are its ids and ``</s>``. Perplexity
    is exp of the mean negative log-likelihood over all targets, cross-entropy that mean (nats)."""
    adapter = LMAdapter(char_lm)
    tok = char_lm.tokenizer_
    w = np.linspace(-2.0, 3.0, tok.vocab_size)
    net = lambda x: torch.tensor(w, dtype=torch.float32).expand(*x.shape, -1)   # noqa: E731  [B, T, V]
    lines = ["the cat", "a big dog runs", "b"]
    logp = w - math.log(np.exp(w).sum())
    targets = [t for ln in lines for t in [*tok.encode(ln), tok.eos_id]]
    mean_nll = -sum(logp[t] for t in targets) / len(targets)
    m = adapter.test_metrics(net, lines)
    assert m["cross_entropy"] == pytest.approx(mean_nll, rel=1e-6)
    assert m["perplexity"] == pytest.approx(math.exp(mean_nll), rel=1e-6)


def test_a_rise_of_exactly_one_percent_is_within_the_gate(char_lm):
    """README: int8 may raise the perplexity by at most 1 %: 1.00 -> 1.01 is a rise of 1 % (in floats
    1.01 / 1.0 - 1 is 0.010000000000000009, above 0.01: the gate allows for rounding)."""
    judge = LMAdapter(char_lm).quality_refusal
    assert judge({"perplexity": 1.0}, {"perplexity": 1.01}) is None
    assert judge({"perplexity": 200.0}, {"perplexity": 202.0}) is None
    assert "perplexity rose 1.01 %" in judge({"perplexity": 200.0}, {"perplexity": 202.02})


def test_a_model_fitted_on_lines_in_memory_has_no_test_metrics_unless_given_data(tmp_path):
    lm = LanguageModel(**{**TINY, "max_epochs": 1, "num_layers": 1}).fit(sentences(30))
    adapter = LMAdapter(lm)
    assert adapter.test_metrics(adapter.net) is None
    m = adapter.test_metrics(adapter.net, sentences(10, seed=3))
    assert m["perplexity"] == pytest.approx(lm.perplexity(sentences(10, seed=3)), rel=1e-6)


# -- the service's requests -------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["torch", "onnx"])
def test_score_equals_the_estimators_perplexity(char_lm, engine):
    adapter = adapter_for(char_lm.run_dir_)
    texts = ["the cat runs", "the small bird sleeps", "a"]
    out = adapter.answer(engine_net(adapter, engine, char_lm.run_dir_), texts=texts)
    assert out["tokens"] == [len(t) + 1 for t in texts]
    for t, lp, n, ppl in zip(texts, out["logprobs"], out["tokens"], out["perplexity"]):
        assert ppl == pytest.approx(char_lm.perplexity([t]), rel=1e-5)
        assert lp == pytest.approx(-n * math.log(ppl), rel=1e-9)


def test_score_names_texts_mostly_of_unknown_tokens_as_evaluate_warns(word_lm):
    """evaluate warns that a text mostly of <unk> has a perplexity that flatters the model; the service
    scored such texts with no word."""
    adapter = adapter_for(word_lm.run_dir_)
    assert "warnings" not in adapter.answer(adapter.net, texts=["the red dog runs", "the cat sits"])
    out = adapter.answer(adapter.net, texts=["the cat sits", "der Hund runs", "ein cat"])
    assert out["warnings"] == [
        "texts[1] 50%, texts[2] 33% of their word tokens are <unk> (of the training text's 0%): "
        "text in another language, script or domain? The perplexity counts each unknown word as the one token "
        "<unk>, so it flatters the model and compares with no other text's; send text like the training text"]
    assert len(out["perplexity"]) == 3


def test_sample_equals_the_estimators_and_is_repeatable(char_lm):
    adapter = adapter_for(char_lm.run_dir_)
    torch_net, onnx_net = (engine_net(adapter, e, char_lm.run_dir_) for e in ("torch", "onnx"))
    for seed in range(3):
        a = adapter.answer(torch_net, prefix="the ", seed=seed, max_tokens=1000, temperature=0.8)
        assert a["text"] == char_lm.sample(prefix="the ", seed=seed, temperature=0.8) and a["finished"]
        assert adapter.answer(onnx_net, prefix="the ", seed=seed, max_tokens=1000, temperature=0.8) == a
    greedy = adapter.answer(torch_net, prefix="the ", seed=0, max_tokens=1000, temperature=0)
    assert greedy["text"] == char_lm.sample(prefix="the ", seed=1, temperature=0)
    assert adapter.answer(onnx_net, prefix="the ", seed=2, max_tokens=1000, temperature=0) == greedy
    # nucleus sampling as Python's, on either engine; a nucleus of a hair's mass is the likeliest token alone
    a = adapter.answer(torch_net, prefix="the ", seed=4, max_tokens=1000, temperature=0.8, top_p=0.9)
    assert a["text"] == char_lm.sample(prefix="the ", seed=4, temperature=0.8, top_p=0.9)
    assert adapter.answer(onnx_net, prefix="the ", seed=4, max_tokens=1000, temperature=0.8, top_p=0.9) == a
    for net in (torch_net, onnx_net):
        assert adapter.answer(net, prefix="the ", seed=5, max_tokens=1000, top_p=1e-9) == greedy
    short = adapter.answer(torch_net, prefix="", seed=0, max_tokens=2, temperature=50.0)
    assert short["drawn"] <= 2 and (short["drawn"] == 2 or short["finished"])


def test_a_seed_the_service_takes_draws_the_same_text_from_python(char_lm):
    """The service takes seeds up to 2**63 - 1 (JSON's signed 64-bit integers), ``sample`` refused
    any above 2**32 - 1, so a served sample drawn with a large seed could not be drawn again from
    Python or the command line."""
    adapter = adapter_for(char_lm.run_dir_)
    for seed in (2**32, 2**63 - 1):
        served = adapter.answer(adapter.net, prefix="the ", seed=seed, max_tokens=1000)
        assert served["finished"] and served["text"] == char_lm.sample(prefix="the ", seed=seed)
    with pytest.raises(LstmkitError, match="`seed` must be a whole number from 0 to 9223372036854775807, got 9223"):
        char_lm.sample(5, seed=2**63)


def test_a_sample_s_prefix_is_bounded_by_its_last_line_the_one_the_model_reads(char_lm):
    """Only the prefix's last line is read (each line starts afresh): a prefix of many short lines
    over 4,096 tokens in all was refused, though it cost no more than its last line."""
    adapter = adapter_for(char_lm.run_dir_)
    earlier = "the dog sits\n" * 400                                   # 4,800 characters
    alone = adapter.answer(adapter.net, prefix="the ", seed=3, max_tokens=5)
    assert adapter.answer(adapter.net, prefix=earlier + "the ", seed=3, max_tokens=5) == \
        {**alone, "text": earlier + alone["text"]}
    with pytest.raises(BadRequest, match="the prefix's last line has 4801 tokens; at most 4096"):
        adapter.answer(adapter.net, prefix="a" * 10 + "\n" + "ab" * 2400 + "a", max_tokens=5)


@pytest.mark.parametrize("request_, loc", [
    ({}, ["texts"]),
    ({"texts": ["a"], "prefix": "a"}, ["prefix"]),
    ({"texts": []}, ["texts"]),
    ({"texts": ["the cat", ""]}, ["texts", 1]),
    ({"texts": ["   "]}, ["texts", 0]),
    ({"texts": [3]}, ["texts", 0]),
    ({"texts": ["a"], "seed": 1}, ["seed"]),
    ({"prefix": 5}, ["prefix"]),
    ({"prefix": "a", "max_tokens": 0}, ["max_tokens"]),
    ({"prefix": "a", "max_tokens": 1001}, ["max_tokens"]),
    ({"prefix": "a", "max_tokens": True}, ["max_tokens"]),
    ({"prefix": "a", "max_tokens": 2.5}, ["max_tokens"]),
    ({"prefix": "a", "temperature": -1.0}, ["temperature"]),
    ({"prefix": "a", "temperature": float("nan")}, ["temperature"]),
    ({"prefix": "a", "temperature": float("inf")}, ["temperature"]),
    ({"prefix": "a", "temperature": "1"}, ["temperature"]),
    ({"prefix": "a", "top_k": 0}, ["top_k"]),
    ({"prefix": "a", "top_p": 0}, ["top_p"]),
    ({"prefix": "a", "top_p": 1.5}, ["top_p"]),
    ({"prefix": "a", "top_p": float("nan")}, ["top_p"]),
    ({"prefix": "a", "top_p": True}, ["top_p"]),
    ({"texts": ["a"], "top_p": 0.9}, ["top_p"]),
    ({"prefix": "a", "seed": -1}, ["seed"]),
], ids=lambda v: json.dumps(v) if isinstance(v, dict) else None)
def test_bad_requests_name_their_field(char_lm, request_, loc):
    adapter = LMAdapter(char_lm)
    with pytest.raises(BadRequest) as e:
        adapter.answer(adapter.net, **request_)
    assert e.value.loc == loc


# -- token streams ------------------------------------------------------------------------------------
def _teacher_forced(lm, text):
    """log P(each next id) of ``<bos> text </s>`` from the whole-sequence model."""
    ids = _ids(lm, text)
    with torch.no_grad():
        logp = torch.log_softmax(lm.net_(torch.tensor([ids])), dim=-1)[0]
    targets = [*ids[1:], lm.tokenizer_.eos_id]
    return [float(logp[t, k]) for t, k in enumerate(targets)], logp[-1]


@pytest.mark.parametrize("pieces", [["the  cat\tsits"], ["  the ", " cat", "\u00a0", "\t", "sits"], list(" the  cat sits")])
def test_a_char_stream_reads_white_space_as_predict_does(char_lm, pieces):
    # each white-space character was a space: 'the  cat' in one message scored a text the model never read
    s = adapter_for(char_lm.run_dir_).open_stream("torch")
    answers = [s.step({"text": p}) for p in pieces]
    assert "".join(t for a in answers for t in a["tokens"]) == "the cat sits"
    total = sum(a["logprob"] for a in answers) + s.step("</s>")["logprob"]
    assert total == pytest.approx(char_lm.predict(["the  cat\tsits"])["logprobs"][0], abs=1e-4)


@pytest.mark.parametrize("engine", ["torch", "onnx"])
def test_stream_logprobs_equal_the_whole_sequence_model(char_lm, engine):
    adapter = adapter_for(char_lm.run_dir_)
    s = adapter.open_stream(engine, top_k=3)
    assert s.mode == "state" and s.fingerprint == json.loads((char_lm.run_dir_ / "onnx.json").read_text())["fingerprint"]
    text = "the cat sits"
    expected, _ = _teacher_forced(char_lm, text)
    got = [s.step(ch, id="u")["logprob"] for ch in text] + [s.step("</s>", id="u")["logprob"]]
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert s.steps("u") == len(text) + 1
    # Several characters in one message: their summed log-probability, the same next tokens.
    t = adapter.open_stream(engine, top_k=3)
    whole = t.step({"text": "the ca"}, id="u")
    assert whole["tokens"] == list("the ca") and whole["logprob"] == pytest.approx(sum(expected[:6]), abs=1e-5)
    t.step("t", id="u")
    answer = t.step(" sits", id="u")
    _, last = _teacher_forced(char_lm, text)
    top = torch.topk(last, 3)
    assert [n["token"] for n in answer["next"]] == [char_lm.tokenizer_.itos[i] for i in top.indices]
    np.testing.assert_allclose([n["p"] for n in answer["next"]], top.values.exp().numpy(), atol=1e-5)
    # After </s> the next line starts afresh.
    s.step("t", id="u")
    fresh = adapter.open_stream(engine).step("t")
    assert s.step("h", id="u")["logprob"] == pytest.approx(adapter.open_stream(engine).run(["t", "h"])[1]["logprob"])
    assert fresh["tokens"] == ["t"]


def test_stream_state_round_trips_through_json_and_bad_input_changes_nothing(char_lm):
    adapter = adapter_for(char_lm.run_dir_)
    s = adapter.open_stream("torch")
    s.run(["t", "h", "e", " "], id="a")
    s.step("</s>", id="b")
    saved = json.loads(json.dumps(s.state_dict()))              # JSON-able
    for bad in [5, None, "", {"txt": "a"}, {"text": 3}, "x" * 20_000, ["a"]]:
        with pytest.raises(LstmkitError):
            s.step(bad, id="a")
    assert s.state_dict() == saved and s.steps("a") == 4
    assert s.step("a  ", id="z")["tokens"] == ["a", " "]          # char level: a run of white space is one space
    s.reset("z")
    restored = adapter.open_stream("onnx")                        # another engine, the same weights
    restored.load_state_dict(saved)
    assert restored.steps("a") == 4 and restored.steps("b") == 1
    for sid in ("a", "b"):
        np.testing.assert_allclose(restored.log_probs(sid), s.log_probs(sid), atol=1e-5)
        assert restored.step("c", id=sid)["logprob"] == pytest.approx(s.step("c", id=sid)["logprob"], abs=1e-5)
    restored.load_state_dict({**saved, "streams": {"new": {"steps": 0}}})    # a stream that had not started
    np.testing.assert_allclose(restored.log_probs("new"), s.log_probs("never-seen"), atol=1e-5)
    s.reset("a")
    assert s.steps("a") == 0 and "a" not in s.ids


@pytest.mark.parametrize("suffix", [".json", ".safetensors"])
def test_stream_save_and_restore_files(char_lm, tmp_path, suffix):
    adapter = adapter_for(char_lm.run_dir_)
    s = adapter.open_stream("onnx")
    s.run(["the", " c"], id="a")
    path = s.save(tmp_path / f"state{suffix}")
    t = adapter.open_stream("onnx")
    t.restore(path)
    assert t.steps("a") == 5 and t.step("a", id="a") == s.step("a", id="a")


@pytest.mark.parametrize("change, needle", [
    ({"fingerprint": "0" * 16}, "other model weights"),
    ({"vocab_size": 3}, "vocab_size"),
    ({"format": "lstmkit-lm"}, "not an lstmkit stream state"),
    ({"task": "forecast"}, "task"),
    ({"state": ["h"]}, "state"),
    ({"streams": {"a": {"steps": 1, "last": 10**6, "h": [], "c": []}}}, "malformed"),
    ({"streams": {"a": {"steps": -1}}}, "malformed"),
    ({"streams": {"a": {"steps": 1, "last": 3, "h": [[[0.0]]], "c": [[[0.0]]]}}}, "malformed"),
    ({"streams": []}, "not an object"),
])
def test_bad_stream_states_are_refused(char_lm, change, needle):
    s = adapter_for(char_lm.run_dir_).open_stream("torch")
    s.step("t")
    with pytest.raises(LstmkitError, match=needle):
        s.load_state_dict({**s.state_dict(), **change})
    assert s.steps() == 1


def test_a_none_id_is_the_default_stream_as_in_every_task(char_lm):
    """``step(piece, id=None)`` opened a stream named "None" beside the default one."""
    s = adapter_for(char_lm.run_dir_).open_stream("torch")
    s.step("t")
    s.step("h", id=None)
    assert s.ids == ["default"] and s.steps() == 2 and s.steps(None) == 2
    np.testing.assert_array_equal(s.log_probs(None), s.log_probs())
    whole = adapter_for(char_lm.run_dir_).open_stream("torch")
    assert s.step("e", None)["logprob"] == pytest.approx(whole.run(["t", "h", "e"])[-1]["logprob"], abs=1e-6)


def test_an_lm_streams_repr_names_its_streams(char_lm):
    s = char_lm.stream()                   # was <lstmkit.tasks.lm.stream.LMStream object at 0x...>
    s.step("t", id="a")
    assert repr(s) == "LMStream(mode='state', streams=1)"


def test_word_stream_reads_words(word_lm):
    s = adapter_for(word_lm.run_dir_).open_stream("onnx", top_k=2)
    expected, _ = _teacher_forced(word_lm, "the big dog zebra")
    got = [s.step(w)["logprob"] for w in ["The", "big", {"text": "dog zebra"}]]
    np.testing.assert_allclose([got[0], got[1], got[2]], [expected[0], expected[1], expected[2] + expected[3]], atol=1e-5)
    assert s.step("dog!")["tokens"] == ["dog"] and len(s.step("</s>")["next"]) == 2
    with pytest.raises(LstmkitError, match="no token"):
        s.step("!!")


def test_a_character_reference_split_across_messages_is_read_as_one(char_lm, word_lm, monkeypatch):
    """'&am' then 'p;' were read as they came: the characters '&', 'a', 'm' (the word 'am') then 'p', ';',
    where the text they split reads '&' (the tokenizer decodes references). The tail that may still
    become a reference is held for the next message (a word model: its word), '</s>' reads it as written."""
    char = adapter_for(char_lm.run_dir_)
    whole = char.open_stream("torch").run(["the &amp; caf&eacute; cat", "</s>"])
    s = char.open_stream("torch")
    got = s.run(["the &am", "p; caf&", "eacu", "te; cat", "</s>"])
    assert [a.get("pending") for a in got] == ["&am", "&", "&eacu", None, None]
    assert got[2]["tokens"] == [] and got[2]["logprob"] == 0.0 and got[2]["next"] == got[1]["next"]
    assert sum((a["tokens"] for a in got), []) == sum((a["tokens"] for a in whole), [])
    assert "a" not in got[0]["tokens"][-1:] and got[1]["tokens"][0] == char_lm.tokenizer_.itos[
        char_lm.tokenizer_.token_id("&")]
    assert sum(a["logprob"] for a in got) == pytest.approx(sum(a["logprob"] for a in whole), abs=1e-5)
    assert s.steps() == sum(len(a["tokens"]) for a in whole)
    # what is held at the end of the line is read as written
    t = char.open_stream("torch")
    t.step("the cat &am")
    read = [char_lm.tokenizer_.itos[char_lm.tokenizer_.token_id(c)] for c in "&am"]      # '&' unknown: <unk>
    assert t.step("</s>")["tokens"] == [*read, "</s>"] and t.steps() == 12
    # a word model holds the word the reference is in
    w = adapter_for(word_lm.run_dir_).open_stream("torch")
    said = w.run(["the big caf&eacu", "te; dog", "&", "</s>"])
    once = adapter_for(word_lm.run_dir_).open_stream("torch").step("the big caf&eacute; dog")
    assert [a["tokens"] for a in said] == [["the", "big"], once["tokens"][2:], [], ["</s>"]]
    assert said[1]["logprob"] + said[0]["logprob"] == pytest.approx(once["logprob"], abs=1e-5)
    assert word_lm.tokenizer_.base.tokens("caf&eacute;") == ["café"]
    assert said[0]["pending"] == "caf&eacu" and said[2]["pending"] == "&"
    with pytest.raises(LstmkitError, match="no token"):
        w.step("!!")
    # a model saved before references were decoded (no html) reads each message as it comes
    old = char.open_stream("torch")
    monkeypatch.setattr(old.tokenizer.base, "html", False)
    assert old.step("&am")["tokens"] == read and "pending" not in old.step("x")


@pytest.mark.parametrize("suffix", [".json", ".safetensors"])
def test_the_text_a_stream_holds_is_saved_and_restored_with_it(char_lm, tmp_path, suffix):
    adapter = adapter_for(char_lm.run_dir_)
    s = adapter.open_stream("torch")
    s.step("the caf&eacu", id="a")
    s.step("&", id="b")                                       # held whole: no token read yet
    assert s.state_dict()["streams"]["a"]["pending"] == "&eacu" and s.state_dict()["streams"]["b"]["pending"] == "&"
    t = adapter.open_stream("torch")
    t.restore(s.save(tmp_path / f"state{suffix}"))
    saved = s.state_dict()
    for sid in ("a", "b"):
        assert t.step("te; cat", id=sid) == s.step("te; cat", id=sid)
    assert "pending" not in s.state_dict()["streams"]["a"]
    for bad in (7, "&" * 300):                              # held text is text, at most MAX_HELD characters
        with pytest.raises(LstmkitError, match="malformed"):
            t.load_state_dict({**saved, "streams": {"a": {**saved["streams"]["a"], "pending": bad}}})


# -- through the HTTP service ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def lm_client(char_lm):
    pytest.importorskip("fastapi")
    from asgi_client import Client
    from lstmkit.deploy.server import create_app
    c = Client(create_app(char_lm.run_dir_, engine="onnx"))
    yield c
    c.close()


def test_service_scores_and_samples(lm_client, char_lm):
    got, answer = lm_client.request("POST", "/predict", json.dumps({"texts": ["the cat runs"]}))
    assert got == 200, answer
    out = json.loads(answer)
    assert out["engine"] == "onnx" and out["perplexity"][0] == pytest.approx(char_lm.perplexity(["the cat runs"]), rel=1e-5)
    got, answer = lm_client.request("POST", "/predict", json.dumps({"prefix": "the ", "seed": 1, "max_tokens": 1000}))
    assert got == 200 and json.loads(answer)["text"] == char_lm.sample(prefix="the ", seed=1)
    got, answer = lm_client.request("GET", "/model")
    assert json.loads(answer)["task"] == "lm"


def test_websocket_streams_tokens_through_the_service(char_lm):
    """/stream of an lm run: token answers equal the stream object's, bad input is an error
    message that leaves the state as it was, and reset starts the line afresh."""
    from asgi_client import Client
    from lstmkit.deploy.server import create_app
    client = Client(create_app(char_lm.run_dir_, engine="torch"))
    expected = adapter_for(char_lm.run_dir_).open_stream("torch").run(["t", "h", "e"])
    ws = client.websocket("/stream")
    try:
        got = []
        for ch in "th":
            ws.send_text(json.dumps(ch))
            got.append(ws.receive_json())
        ws.send_text(json.dumps({"text": 7}))
        bad = ws.receive_json()
        assert "error" in bad and bad.get("field")
        ws.send_text(json.dumps("e"))
        got.append(ws.receive_json())
        assert [g["step"] for g in got] == [1, 2, 3]
        np.testing.assert_allclose([g["logprob"] for g in got], [e["logprob"] for e in expected], atol=1e-5)
        ws.send_text(json.dumps({"op": "reset"}))
        assert ws.receive_json() == {"reset": True}
        ws.send_text(json.dumps("t"))
        assert ws.receive_json()["logprob"] == pytest.approx(expected[0]["logprob"], abs=1e-5)
        # a character reference split across two messages is read once it is whole
        ws.send_text(json.dumps(" &am"))
        held = ws.receive_json()
        assert held["tokens"] == [" "] and held["pending"] == "&am" and held["step"] == 2
        ws.send_text(json.dumps({"text": "p;"}))
        done = ws.receive_json()
        assert "pending" not in done and done["step"] == 3 and len(done["tokens"]) == 1
    finally:
        ws.close()


def test_held_out_lines_of_a_table_run_with_a_token_cap_are_those_fit_held_out(tmp_path):
    """int8's quality gate scores the lines ``fit`` held out: a CSV's ``--text-column`` read, the
    ``--max-tokens`` cut made, then the same seeded split (it read column 'text' and skipped the cut)."""
    import pandas as pd
    pd.DataFrame({"review": sentences(200, seed=3), "stars": 1}).to_csv(tmp_path / "t.csv", index=False)
    lm = LanguageModel(**{**TINY, "text_column": "review", "max_tokens": 400}).fit(str(tmp_path / "t.csv"),
                                                                                   out=tmp_path / "runs")
    adapter = adapter_for(lm.run_dir_)
    held = adapter._held_out_lines(None)
    assert len(held) == lm.data_summary_["split"]["val"]
    assert adapter.test_metrics(adapter.net)["perplexity"] > 1


def test_the_quality_check_reads_a_very_long_line_in_pieces(monkeypatch):
    """A one-line corpus's held-out end (text8: 10 M characters) is scored in pieces, not as one
    [1, 10 M, V] call; lines shorter than a piece are scored whole, as before."""
    import lstmkit.tasks.lm.deploy as lm_deploy
    lm = LanguageModel(**{**TINY, "max_epochs": 1, "num_layers": 1}).fit(sentences(30))
    adapter = LMAdapter(lm)
    calls = []
    net = lambda x: calls.append(x.shape[1]) or adapter.net(x)          # noqa: E731
    monkeypatch.setattr(lm_deploy, "QUALITY_PIECE", 16)
    line = " ".join(sentences(20, seed=4))
    m = adapter.test_metrics(net, [line, "the cat"])
    assert max(calls) <= 17 and math.isfinite(m["perplexity"]) and m["perplexity"] > 1


def test_int8_of_a_run_whose_text_moved_asks_for_data(tmp_path):
    """The run's --data file moved since training: the int8 check asks for --data, as it does for
    translate and forecast runs (it said "file not found: ... check the the run's --data file path;
    a text itself goes in as a list of lines")."""
    (tmp_path / "train.txt").write_text("\n".join(sentences(60)) + "\n")
    lm = LanguageModel(**{**TINY, "max_epochs": 1}).fit(str(tmp_path / "train.txt"), out=tmp_path / "runs")
    (tmp_path / "train.txt").rename(tmp_path / "moved.txt")
    with pytest.raises(LstmkitError, match="cannot check an int8 model .*no validation text.*pass --data"):
        export_int8(lm.run_dir_, tmp_path / "q", batch=8, min_seconds=0.01, backends=("torch",))
    assert not (tmp_path / "q").exists()
