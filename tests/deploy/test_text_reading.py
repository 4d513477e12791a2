"""How a text model's run reads a text, said for a caller without lstmkit (``around_graph``), and
read the same by every path: the estimator, the saved run loaded again, the service and its streams."""
import json
import re
import warnings

import pytest

import lstmkit
from estimator_data import QUICK, labelled_texts
from lstmkit.deploy.registry import adapter_class

pytest.importorskip("tokenizers")

LINES = [f"the {a} dog {b}" for a in ("red", "big", "old") for b in ("runs", "sits", "sleeps")] * 8
SRC = [f"the {a} dog" for a in ("red", "big", "old")] * 10
TGT = [f"le chien {a}" for a in ("rouge", "grand", "vieux")] * 10


def _fit(task: str, kind: str, out):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task == "classify":
            return lstmkit.TextClassifier(**QUICK, min_freq=1, tokenizer=kind).fit(*labelled_texts(), out=out)
        if task == "lm":
            return lstmkit.LanguageModel(**QUICK, level=kind, min_freq=1).fit(LINES, out=out)
        return lstmkit.Translator(**QUICK, tokenizer=kind, min_freq=1).fit(SRC, TGT, out=out)


RUNS = [("classify", "word"), ("classify", "char"), ("classify", "bpe"), ("lm", "char"), ("lm", "word"),
        ("lm", "bpe"), ("translate", "word"), ("translate", "bpe")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return {run: _fit(*run, out) for run in RUNS}


@pytest.mark.parametrize("task, kind", RUNS)
def test_around_graph_names_the_vocabulary_the_run_holds(runs, task, kind):
    # every run's text was 'words … as their index in vocab.json's itos': a character run's are
    # characters, and a BPE run's vocab.json holds no itos (its subwords are a Hugging Face tokenizer's)
    est = runs[task, kind]
    notes = adapter_class(task)(est).around_graph
    vocab = json.loads((est.run_dir_ / "vocab.json").read_text())
    named = re.findall(r"vocab\.json's ((?:\w+\.)*\w+)", " ".join(notes))
    assert named
    for path in named:
        node = vocab
        for key in path.split("."):
            assert isinstance(node, dict) and key in node, (path, notes)
            node = node[key]
    unit = {"word": "words", "char": "characters", "bpe": "subwords"}[kind]
    assert re.match(rf"ids: each \w+'s {unit} ", notes[0]), notes[0]


# one text written every way the same text reaches a model: NFC and NFD 'é', full-width letters, a
# non-breaking space, a tab, CRLF, runs of spaces, a soft hyphen; and special tokens written in the text
FORMS = ["the caf\u00e9 {}", "the cafe\u0301 {}", "ｔｈｅ café {}", "the\u00a0café\t{}", "the café\r\n{} ",
         "the  ca\u00adfé {}"]


def variants(rest: str) -> list[str]:
    return [form.format(rest) for form in FORMS]


VARIANTS = variants("film was good")
LITERAL = ["the <pad> film was <unk>", "the </s> film <eos> was <bos> good"]


def _ids(ragged):
    return [ids.tolist() for ids in ragged]


@pytest.mark.parametrize("kind", ["word", "char", "bpe"])
def test_a_classifier_reads_a_text_the_same_by_every_path(runs, kind):
    est = runs["classify", kind]
    loaded = lstmkit.load(est.run_dir_)
    service = adapter_class("classify")(loaded)
    texts = VARIANTS + LITERAL
    want = _ids(est.encode_texts(texts))
    assert _ids(loaded.encode_texts(texts)) == want
    assert _ids(service.encode_request(texts, None)) == want
    assert [est.token_inputs(t)[1] for t in texts] == want
    assert all(ids == want[0] for ids in want[:len(VARIANTS)]), want        # one text, however written
    for ids in want[len(VARIANTS):]:
        assert 0 not in ids                                                  # never the padding id


@pytest.mark.parametrize("kind", ["char", "word", "bpe"])
def test_a_language_model_reads_a_line_the_same_by_every_path(runs, kind):
    est = runs["lm", kind]
    loaded = lstmkit.load(est.run_dir_)
    adapter = adapter_class("lm")(loaded)
    texts = variants("dog runs") + ["the <pad> dog runs"]
    want = est.predict(texts)
    for got in (loaded.predict(texts), adapter.score(adapter.net, texts)):
        assert got["tokens"] == want["tokens"]
        assert got["logprobs"] == pytest.approx(want["logprobs"], abs=1e-5)
    assert len(set(want["tokens"][:len(VARIANTS)])) == 1
    assert want["logprobs"][:len(VARIANTS)] == pytest.approx([want["logprobs"][0]] * len(VARIANTS), abs=1e-5)
    assert est.tokenizer_.encode(texts[-1]).count(0) == 0                      # '<pad>' is text, not padding
    if kind == "char":                                                         # a stream of the line, whole
        for text, lp in zip(texts, want["logprobs"]):
            s = adapter.open_stream("torch")
            total = s.step({"text": text.strip()})["logprob"] + s.step("</s>")["logprob"]
            assert total == pytest.approx(lp, abs=1e-4), text


@pytest.mark.parametrize("kind", ["word", "bpe"])
def test_a_translator_reads_a_sentence_the_same_by_every_path(runs, kind):
    est = runs["translate", kind]
    loaded = lstmkit.load(est.run_dir_)
    adapter = adapter_class("translate")(loaded)
    texts = variants("dog") + ["the <eos> dog"]
    want = [est._src_ids(t, warn=False) for t in texts]
    assert [loaded._src_ids(t, warn=False) for t in texts] == want
    assert adapter.check_request(texts, 1) == want
    assert all(ids == want[0] for ids in want[:len(VARIANTS)]), want
    assert 3 not in want[-1]                                                   # '<eos>' is text, not the end
    assert est.translate(texts) == loaded.translate(texts) == adapter.answer(adapter.net, texts)["translations"]


@pytest.mark.parametrize("kind", ["char", "bpe"])
def test_a_stream_reads_a_lone_surrogate_as_predict_does(runs, kind):
    # JSON's '\ud83d' (an emoji cut in two): a BPE model's stream was a bare TypeError
    est = runs["lm", kind]
    text = "the dog \ud83d runs"
    s = adapter_class("lm")(est).open_stream("torch")
    with pytest.warns(UserWarning, match="half of a UTF-16 surrogate pair"):
        total = s.step({"text": text})["logprob"] + s.step("</s>")["logprob"]
    with pytest.warns(UserWarning, match="half of a UTF-16 surrogate pair"):
        assert total == pytest.approx(est.predict([text])["logprobs"][0], abs=1e-4)
