"""An int8 language-model, speech or translator run loaded in Python answers with the engine its export chose and
recorded (``quantization.engine`` onnx: its quantized graph), as ``serve`` does, through the answering-engine cache
every room shares (``lstmkit/run_engine.py``); the int8 torch network saved beside the graph answered before. A
network trained in place after loading (an optimizer's step on ``net_``, an int8 one's float embeddings) answers with
torch and says so, for every room (an int8 classifier's check raised AttributeError from its packed weights)."""
import warnings

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

import lstmkit  # noqa: E402
from estimator_data import fitted_per_name  # noqa: E402
from lstmkit import run_engine  # noqa: E402
from lstmkit.deploy import quantize  # noqa: E402
from lstmkit.deploy.onnx_engine import engine_net, load_runner  # noqa: E402
from lstmkit.deploy.registry import adapter_class  # noqa: E402
from lstmkit.runs import read_meta  # noqa: E402
from one_thread import one_thread  # noqa: E402,F401  (autouse: one torch thread)


@pytest.fixture(scope="module")
def int8_runs(tmp_path_factory):
    """name -> (an int8 run whose export chose onnx, the int8 torch network kept beside it; what predict takes)."""
    def finish(est, args, x, folder):
        with pytest.MonkeyPatch.context() as mp:
            # both backends kept and the graph chosen, whichever is faster here (a tiny model's int8 quality moves
            # in steps past the gate's, so the gate is not what is tested)
            mp.setattr(quantize, "_faster", lambda held: "onnx")
            mp.setattr(adapter_class(est.TASK), "quality_refusal", lambda self, before, after: None)
            q = est.export("int8", out=folder / "int8", data=args if len(args) > 1 else args[0])
        meta = read_meta(q)["quantization"]
        assert (meta["engine"], meta["torch"], meta["onnx"]) == ("onnx", True, True)
        if x is None:                                   # speech: the manifest's recordings
            x = [str(args[0].parent / line.split(",")[0]) for line in args[0].read_text().splitlines()[1:5]]
        return q, x
    return fitted_per_name(tmp_path_factory, finish)


def _served(run):
    """The run as the service answers: its adapter and the network its engine ``auto`` resolves (the graph)."""
    served = adapter_class(read_meta(run)["task"]).load(run)
    net = engine_net(served, "auto", run)
    assert net is not served.net                        # the graph, not the int8 torch network
    return served, net


def _quantized(net) -> bool:
    return any("quantized" in type(m).__module__ for m in net.modules())


def _step_in_place(net) -> None:
    """One optimizer step on the network's last float parameter (an int8 network's are its embeddings or convs)."""
    last = [p for p in net.parameters() if p.requires_grad][-1]
    opt = torch.optim.SGD([last], lr=5.0)
    last.grad = torch.ones_like(last)
    opt.step()


# -- language model ------------------------------------------------------------------------------------------------
def test_int8_language_model_scores_with_the_graph_its_export_chose(int8_runs):
    run, lines = int8_runs("LanguageModel")
    texts = lines[:4]
    est = lstmkit.load(run)
    assert _quantized(est.net_)                         # the int8 torch network is what the weights file holds
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = est.predict(texts)
        perplexity = est.perplexity(texts)
    served, graph = _served(run)
    want = served.score(graph, texts)
    own = served.score(served.net, texts)               # the int8 torch network's answer
    assert np.allclose(got["logprobs"], want["logprobs"], rtol=0, atol=1e-5)
    assert got["tokens"] == want["tokens"]
    assert np.abs(np.subtract(own["logprobs"], want["logprobs"])).max() > 1e-4     # torch answered here before
    assert perplexity == pytest.approx(np.exp(-sum(want["logprobs"]) / sum(want["tokens"])), rel=1e-6)


def test_int8_language_model_reads_a_long_line_in_pieces_through_its_graph(int8_runs):
    """A line of 4,096 tokens or more is read in pieces, the graph's state carried between them: it scores as the
    graph reading it whole."""
    run, _ = int8_runs("LanguageModel")
    est = lstmkit.load(run)
    line = " ".join(["the red dog runs the big cat sits"] * 130)          # 4,419 characters
    ids = est.tokenizer_.encode(line)
    assert len(ids) > 4096
    served, graph = _served(run)
    whole, _ = served.line_log_probs(graph, [ids])
    got = est.predict(line)["logprobs"][0]
    assert got == pytest.approx(float(whole[0]), rel=1e-5)


def test_int8_language_model_samples_and_scores_tokens_with_its_graph(int8_runs, monkeypatch):
    from lstmkit.tasks.lm import estimator as lm_estimator
    from lstmkit.tasks.lm.scorer import GraphScorer, LMScorer, sample_text
    run, _ = int8_runs("LanguageModel")
    est = lstmkit.load(run)
    used, draw = [], lm_estimator.sample_text
    monkeypatch.setattr(lm_estimator, "sample_text", lambda scorer, *a, **k: used.append(scorer) or draw(scorer, *a,
                                                                                                           **k))
    text = est.sample(n_tokens=12, prefix="the ", seed=3)
    assert [type(s) for s in used] == [GraphScorer]
    runner = load_runner(run)
    assert text == sample_text(GraphScorer(runner, est.tokenizer_, runner.zero_state(1)), 12, "the ", 1.0, None, 3,
                               progress="off")[0]
    scorer = est.scorer()
    assert isinstance(scorer, GraphScorer)
    graph_lp = scorer.log_probs(scorer.initial())
    torch_scorer = LMScorer(est.net_, est.tokenizer_)
    assert np.allclose(graph_lp, served_scorer_log_probs(run), rtol=0, atol=1e-6)
    assert np.abs(graph_lp - torch_scorer.log_probs(torch_scorer.initial())).max() > 1e-5


def served_scorer_log_probs(run):
    scorer = adapter_class("lm").load(run).scorer("auto")       # the fusion scorer the run's engine gives
    return scorer.log_probs(scorer.initial())


def test_int8_language_model_graph_is_built_once_and_kept(int8_runs, monkeypatch):
    from lstmkit.tasks.lm.deploy import LMAdapter
    run, lines = int8_runs("LanguageModel")
    est = lstmkit.load(run)
    built, build = [], LMAdapter.answering_graph
    monkeypatch.setattr(LMAdapter, "answering_graph", lambda self, r: built.append(r) or build(self, r))
    first = est.predict(lines[:2])
    assert est.predict(lines[:2]) == first and est.perplexity(lines[:3]) > 1
    assert len(built) == 1 and run_engine._ANSWERING[est][2] is est._answering_net()


def test_int8_language_model_trained_in_place_answers_with_torch_and_says_so(int8_runs):
    run, lines = int8_runs("LanguageModel")
    est = lstmkit.load(run)
    graph = est.predict(lines[:3])["logprobs"]
    _step_in_place(est.net_)
    with pytest.warns(UserWarning, match="no longer the one saved"):
        got = est.predict(lines[:3])["logprobs"]
    served = adapter_class("lm")(est)
    own = served.score(served.net, lines[:3])["logprobs"]
    assert np.allclose(got, own, rtol=0, atol=1e-9)
    assert np.abs(np.subtract(got, graph)).max() > 1e-3


# -- speech (CTC) --------------------------------------------------------------------------------------------------
def test_int8_ctc_speech_model_answers_with_the_graph_its_export_chose(int8_runs):
    run, paths = int8_runs("SpeechRecognizer")
    est = lstmkit.load(run)
    assert est.config_.mode == "ctc" and _quantized(est.net_)
    served, graph = _served(run)
    feats = est._features(paths)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = est._outputs(feats)                       # what transcribe, predict and evaluate decode
        texts = est.transcribe(paths, beam=1)
    want = served.outputs(graph, feats)
    own = served.outputs(served.net, feats)             # the int8 torch network's log-probabilities
    assert [g.shape for g in got] == [w.shape for w in want]
    assert max(np.abs(g - w).max() for g, w in zip(got, want)) < 1e-5
    assert max(np.abs(o - w).max() for o, w in zip(own, want)) > 1e-4
    assert texts == [a["transcript"] for a in served.predict(graph, feats, beam=1, lm=False)]


def test_int8_ctc_speech_model_trained_in_place_answers_with_torch_and_says_so(int8_runs):
    run, paths = int8_runs("SpeechRecognizer")
    est = lstmkit.load(run)
    feats = est._features(paths)[0]
    assert est._answering_net() is not est.net_
    _step_in_place(est.net_)
    with pytest.warns(UserWarning, match="no longer the one saved"):
        got = est._outputs(feats)
    own = adapter_class("speech")(est)
    assert all(np.array_equal(g, o) for g, o in zip(got, own.outputs(own.net, feats)))


# -- translator and classifier: trained in place after loading -------------------------------------------------------
def test_int8_translator_trained_in_place_translates_with_torch_and_says_so(int8_runs):
    run, sources = int8_runs("Translator")
    est = lstmkit.load(run)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.translate(sources)                          # its graphs answer, kept
    assert est._answering_net() is not est.net_
    _step_in_place(est.net_)                            # the int8 network's float embeddings
    with pytest.warns(UserWarning, match="no longer the one saved"):
        est.translate(sources)
    with pytest.warns(UserWarning, match="no longer the one saved"):
        assert est._answering_net() is est.net_        # the graphs of the weights before the step answered


def test_int8_classifier_trained_in_place_predicts_with_torch_and_says_so(int8_runs):
    from lstmkit.tasks.classify.deploy import ClassifyAdapter
    run, x = int8_runs("TextClassifier")
    est = lstmkit.load(run)
    graph = est.predict_proba(x)
    _step_in_place(est.net_)
    with pytest.warns(UserWarning, match="no longer the one saved"):
        got = est.predict_proba(x)                      # an AttributeError from the packed weights' state_dict
    with ClassifyAdapter(est)._answering_with(est.net_):
        own = est.predict_proba(x)
    assert np.array_equal(got, own) and np.abs(got - graph).max() > 1e-6


# -- speech (classify, seq2seq) --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def speech_int8(tmp_path_factory):
    """mode -> (an int8 speech run of that mode whose export chose onnx, a few of its recordings)."""
    from lstmkit.tasks.speech.synthetic import tiny_run
    made = {}

    def get(mode):
        if mode not in made:
            folder = tmp_path_factory.mktemp(mode)
            run = tiny_run(folder, mode=mode, n=16, max_epochs=1)
            est = lstmkit.load(run)
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(quantize, "_faster", lambda held: "onnx")
                mp.setattr(adapter_class("speech"), "quality_refusal", lambda self, before, after: None)
                q = est.export("int8", out=folder / "int8", data=str(folder / "manifest.csv"))
            assert read_meta(q)["quantization"]["engine"] == "onnx"
            made[mode] = q, sorted(str(p) for p in (folder / "wavs").glob("*.wav"))[:4]
        return made[mode]
    return get


def test_int8_speech_classifier_answers_with_the_graph_its_export_chose(speech_int8):
    run, paths = speech_int8("classify")
    est = lstmkit.load(run)
    served, graph = _served(run)
    feats = est._features(paths)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = est.predict_proba(paths)
        labels = est.transcribe(paths)
    want = np.stack(served.outputs(graph, feats))
    own = np.stack(served.outputs(served.net, feats))       # the int8 torch network's probabilities
    assert np.allclose(got, want, rtol=0, atol=1e-6)
    assert np.abs(own - want).max() > 1e-6
    assert labels == [a["label"] for a in served.predict(graph, feats)]


def test_int8_seq2seq_speech_model_decodes_over_the_graphs_its_export_chose(speech_int8, monkeypatch):
    from lstmkit.deploy.seq2seq import OnnxSeq2Seq
    from lstmkit.tasks.speech.estimator import SpeechRecognizer
    run, paths = speech_int8("seq2seq")
    est = lstmkit.load(run)
    served, graphs = _served(run)
    feats = est._features(paths)[0]
    nets, decode = [], SpeechRecognizer._hypotheses
    monkeypatch.setattr(SpeechRecognizer, "_hypotheses", lambda self, f, net, beam: nets.append(net) or
                        decode(self, f, net, beam))
    texts = est.transcribe(paths, beam=2)
    assert [type(n) for n in nets] == [OnnxSeq2Seq]
    assert texts == [a["transcript"] for a in served.predict(graphs, feats, beam=2)]
