"""Deployment of translators: encoder + one-step decoder ONNX graphs under the same beam search,
int8 with the BLEU gate, the HTTP service (in-process and a real loopback server), the CLI."""
import json
import shutil

import pandas as pd
import pytest
import torch

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from asgi_client import Client  # noqa: E402
from cli_helpers import run_cli  # noqa: E402
from lstmkit.data.batching import pad_batch  # noqa: E402
from lstmkit.deploy.adapter import BadRequest  # noqa: E402
from lstmkit.deploy.onnx import export_onnx  # noqa: E402
from lstmkit.deploy.onnx_engine import engine_net, resolve_engine  # noqa: E402
from lstmkit.deploy.quantize import REPORT_FILE, export_int8  # noqa: E402
from lstmkit.deploy.registry import adapter_for, supported_tasks  # noqa: E402
from lstmkit.deploy.seq2seq import OnnxSeq2Seq  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from lstmkit.nn.seq2seq import beam_search  # noqa: E402
from lstmkit.tasks.translate import Translator  # noqa: E402
from lstmkit.tasks.translate.deploy import BLEU_LIMIT, TranslateAdapter  # noqa: E402
from translate_data import TINY, make_pairs  # noqa: E402
from seq2seq_helpers import two_workers  # noqa: E402

SENTENCES = [s for s, _ in make_pairs(12, seed=5, max_len=8)] + ["dog", "the big red cat sits ."]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("translate")
    pd.DataFrame(make_pairs(300, seed=1), columns=["src", "tgt"]).to_csv(d / "train.csv", index=False)
    pd.DataFrame(make_pairs(40, seed=9), columns=["src", "tgt"]).to_csv(d / "test.csv", index=False)
    return d


@pytest.fixture(scope="module")
def run(folder):
    """A tiny trained translator (bi-LSTM, Bahdanau attention) with its graphs exported."""
    tr = Translator(**{**TINY, "max_epochs": 6, "patience": 6, "max_len": 10}).fit(str(folder / "train.csv"),
                                                                                     out=folder / "runs")
    export_onnx(tr.run_dir_)
    return tr.run_dir_


@pytest.fixture(scope="module")
def adapter(run):
    return adapter_for(run)


def _ids(adapter, sentences):
    seqs = [torch.tensor(adapter.est.src_tokenizer_.encode(s)) for s in sentences]
    return pad_batch(seqs)


def test_translate_is_a_deploy_task_with_two_checked_graphs(run, adapter):
    assert "translate" in supported_tasks() and isinstance(adapter, TranslateAdapter)
    report = json.loads((run / "onnx.json").read_text())
    assert set(report["graphs"]) == {"encoder", "decoder"} and report["max_abs_diff"] <= 1e-4
    assert report["graphs"]["encoder"]["inputs"] == ["src", "src_len"]
    assert report["graphs"]["decoder"]["inputs"][:3] == ["y_prev", "h", "c"]
    assert "logits" in report["graphs"]["decoder"]["outputs"] and "attention" in report["graphs"]["decoder"]["outputs"]
    assert report["graphs"]["encoder"]["signature"]["inputs"][0] == {"name": "src", "dtype": "int64",
                                                                     "shape": ["batch", "steps"]}
    ids, decoding, words = report["around_graph"]     # what a caller without lstmkit does around the graphs
    assert "vocab.json's src.itos" in ids
    assert decoding.startswith(f"decoding: beam search (beam {adapter.est.config_.beam};")
    assert "vocab.json's tgt.itos" in words and report["decoding"] == adapter.decoding
    # the two graphs driven together as translate drives them, greedy and with the run's beam (3)
    assert report["decoding_check"] == {"sentences": 8, "beams": [1, 3], "searches": 16, "same_tokens": 16}
    assert resolve_engine(run) == "onnx" and isinstance(engine_net(adapter, "auto", run), OnnxSeq2Seq)


@pytest.mark.parametrize("beam", [1, 5])
def test_onnx_translations_equal_torch(adapter, run, beam):
    onnx = adapter.onnx_net(run)
    src, lengths = _ids(adapter, SENTENCES)
    want = beam_search(adapter.net, src, lengths, beam)
    got = beam_search(onnx, src, lengths, beam)
    assert [h.ids for h in got] == [h.ids for h in want]
    assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-3)
    torch.testing.assert_close(got[0].attention, want[0].attention, atol=1e-4, rtol=0)
    # The service's answer, through both engines, is the estimator's own translation.
    tr = Translator.load(run)
    expected = tr.translate(SENTENCES + [""], beam=beam)
    assert adapter.answer(onnx, SENTENCES + [""], beam)["translations"] == expected
    assert adapter.answer(adapter.net, SENTENCES + [""], beam)["translations"] == expected


@pytest.mark.parametrize("beam", [1, 5])
def test_onnx_batches_decoded_side_by_side_answer_as_one_batch(adapter, run, beam):
    """The ONNX engine's workers (one per torch thread; forced to 2 here) decode a call's sentences
    as two halves at once: the same translations as one batch on one thread, and as torch's."""
    sentences = SENTENCES * 3                                       # 42: two batches of 21
    one = adapter.onnx_net(run)
    assert one.workers == torch.get_num_threads() == 1
    two = adapter.onnx_net(run)
    threads = two_workers(two)
    want = adapter.answer(adapter.net, sentences, beam)["translations"]
    assert adapter.answer(one, sentences, beam)["translations"] == want
    assert adapter.answer(two, sentences, beam)["translations"] == want
    assert sorted(n for _, n in threads) == [21, 21]
    assert all(name.startswith("lstmkit-decode_") for name, _ in threads)      # the pool's, not the caller's


@pytest.mark.parametrize("engine", ["torch", "onnx"])
@pytest.mark.parametrize("beam", [1, 5])
def test_padded_batch_equals_each_sentence_alone(adapter, run, engine, beam):
    net = adapter.onnx_net(run) if engine == "onnx" else adapter.net
    src, lengths = _ids(adapter, SENTENCES)
    assert int(lengths.min()) < src.shape[1]                  # the batch really is padded
    batch = [h.ids for h in beam_search(net, src, lengths, beam)]
    alone = [beam_search(net, s[None, :n], lengths[i:i + 1], beam)[0].ids
             for i, (s, n) in enumerate(zip(src, lengths.tolist()))]
    assert batch == alone


@pytest.mark.parametrize("engine", ["torch", "onnx"])
def test_answer_many_equals_each_request_alone(adapter, run, engine):
    """The service's request-batching queue answers requests together: the same translations as
    each request alone, and a refused request gets its own error while the others are answered."""
    net = adapter.onnx_net(run) if engine == "onnx" else adapter.net
    requests = [{"sentences": SENTENCES[:3], "beam": 5}, {"sentences": ["dog"], "beam": 1},
                {"sentences": ["ok", "dog " * 11], "beam": 5}, {"sentences": SENTENCES[3:9] + [""], "beam": 5},
                {"sentences": [SENTENCES[9]]}, {"sentences": ["a dog"], "beam": 0}]
    out = adapter.answer_many(net, requests)
    assert len(out) == len(requests)
    for k in (2, 5):
        assert isinstance(out[k], BadRequest)
    assert out[2].loc == ["sentences", 1] and out[5].loc == ["beam"]
    for k in (0, 1, 3, 4):
        assert out[k] == adapter.answer(net, **requests[k])
    assert out[3]["translations"][-1] == ""


@pytest.mark.parametrize("engine", ["torch", "onnx"])
def test_a_sentence_of_no_token_is_the_empty_translation_not_decoded(adapter, run, engine, monkeypatch):
    """A sentence the tokenizer reads nothing of (a byte-order mark, a soft hyphen, a word joiner) is
    the empty translation, as a blank one is: it was decoded from <eos> alone ('\ufeff' -> 'groß
    groß.' where '' was ''), by either engine, the service too."""
    net = adapter.onnx_net(run) if engine == "onnx" else adapter.net
    encoded = []
    encode = net.encode
    monkeypatch.setattr(net, "encode", lambda src, src_len: encoded.append(src.shape[0]) or encode(src, src_len))
    empty = ["\ufeff", "\u00ad\u2060", "", "  "]
    for beam in (1, 3):
        assert adapter.answer(net, empty, beam) == {"translations": ["", "", "", ""]}
        assert encoded == []
        mixed = adapter.answer(net, ["\ufeff", SENTENCES[0], "\u00ad"], beam)["translations"]
        assert mixed == ["", adapter.answer(net, [SENTENCES[0]], beam)["translations"][0], ""]
        encoded.clear()
    assert Translator.load(run).translate(empty) == ["", "", "", ""]


def test_stale_or_missing_graphs_are_refused(tmp_path, run, adapter):
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(LstmkitError, match="other weights"):
        adapter.onnx_net(copy)
    with pytest.warns(UserWarning, match="engine auto answers with torch: .*other weights"):
        assert resolve_engine(copy) == "torch"                # auto falls back to the torch model, saying why
    missing = tmp_path / "missing"
    shutil.copytree(run, missing)
    (missing / "decoder.onnx").unlink()
    assert resolve_engine(missing) == "torch"
    with pytest.raises(LstmkitError, match="no decoder.onnx") as e:
        engine_net(adapter, "onnx", missing)
    assert "lstmkit export onnx --run" in e.value.hint


def test_bad_python_requests_name_the_field(adapter):
    for sentences, beam, loc in ((["a dog"], 0, ["beam"]), (["a dog"], 51, ["beam"]), (["a dog"], True, ["beam"]),
                                 ([], 5, ["sentences"]), ("a dog", 5, ["sentences"]), (["ok", 3], 5, ["sentences", 1]),
                                 (["dog " * 11], 5, ["sentences", 0])):
        with pytest.raises(LstmkitError) as e:
            adapter.answer(adapter.net, sentences, beam)
        assert e.value.loc == loc, (sentences, beam)


# -- int8 ----------------------------------------------------------------------------------
def test_int8_reports_bleu_beside_fp32_and_serves(tmp_path, run, folder):
    out = export_int8(run, tmp_path / "int8", data=str(folder / "test.csv"), min_seconds=0.02)
    r = json.loads((out / REPORT_FILE).read_text())
    assert r["speed_unit"] == "sentences" and r["batch"] == 64 and r["fp32"]["windows_per_s"] > 0
    assert set(r["candidates"]) == {"torch", "onnx"}
    for c in r["candidates"].values():
        assert "bleu" in c["metrics"] and "bleu" in c["metric_change"] and 0 <= c["same_answers"] <= 1
    assert "DynamicQuantizeLSTM" in r["candidates"]["onnx"]["quantized_ops"]
    held = {k for k, c in r["candidates"].items() if "quality_refused" not in c}
    assert r["engine"] in held
    assert r["fp32"]["metrics"]["bleu"] - r["chosen"]["metrics"]["bleu"] <= BLEU_LIMIT + 1e-9
    assert (out / "encoder.onnx").is_file() and (out / "decoder.onnx").is_file() and (out / "vocab.json").is_file()
    assert r["decoding"]["eos"] == 3 and len(r["around_graph"]) == 3    # what a caller does around the int8 graphs
    import onnx
    for name in ("encoder.onnx", "decoder.onnx"):
        props = {p.key: p.value for p in onnx.load(str(out / name)).metadata_props}
        assert props["lstmkit_around_graph"] == "; ".join(r["around_graph"])
    q = adapter_for(out)                                      # the int8 run loads with its engine ...
    assert q.preferred_engine == r["engine"]
    for engine in ("torch", "onnx"):                          # ... and translates with both
        assert q.test_metrics(engine_net(q, engine, out), str(folder / "test.csv"))["bleu"] == pytest.approx(
            r["candidates"][engine]["metrics"]["bleu"])
    from lstmkit.deploy.server import create_app
    client = Client(create_app(out))
    try:
        status, answer = client.post_json({"sentences": SENTENCES[:3], "beam": 2})
        assert status == 200 and answer["engine"] == r["engine"] and len(answer["translations"]) == 3
    finally:
        client.close()


def test_an_int8_run_of_onnx_graphs_translates_and_evaluates_with_them(tmp_path, run, folder, monkeypatch):
    """Loaded, an int8 run whose export chose ONNX Runtime translates with its quantized graphs, as its
    service does: 'translate run' and 'evaluate' of it answered with the float weights saved beside
    them, and evaluate's BLEU was the float model's, not the int8 model's export_report.json gave."""
    out = export_int8(run, tmp_path / "int8", data=str(folder / "test.csv"), backends=("onnx",), min_seconds=0.01)
    r = json.loads((out / REPORT_FILE).read_text())
    assert r["engine"] == "onnx"
    steps = []
    step = OnnxSeq2Seq.step
    monkeypatch.setattr(OnnxSeq2Seq, "step", lambda self, *a: steps.append(1) or step(self, *a))
    tr = Translator.load(out)
    q = adapter_for(out)
    assert tr.translate(SENTENCES, beam=2) == q.answer(engine_net(q, "onnx", out), SENTENCES, 2)["translations"]
    assert steps                                               # the int8 graphs answered
    assert tr.evaluate(str(folder / "test.csv"))["bleu"] == pytest.approx(r["chosen"]["metrics"]["bleu"])
    # its attention and output pieces were the float weights' (saved beside the graphs), which need not be its
    # translation's: they are the graphs' now
    steps.clear()
    _, pieces, weights = tr.attention(SENTENCES[0])
    assert steps and weights.shape[0] == len(pieces)
    assert tr.output_tokens(SENTENCES[0])[0] == pieces


def test_int8_quantizes_graphs_checked_alone_without_export_onnxs_decoding_check(tmp_path, run, folder, monkeypatch):
    """int8 exports the float graphs only to quantize them, and scores the quantized graphs on the test
    pairs itself: export onnx's decoding check (beam searches of random sources through PyTorch and both
    graphs) ran there too, 6 s of a tiny translator's export, its numbers dropped."""
    checks = []
    check = TranslateAdapter.decoding_check
    monkeypatch.setattr(TranslateAdapter, "decoding_check", lambda self, *a: checks.append(1) or check(self, *a))
    out = export_int8(run, tmp_path / "int8", data=str(folder / "test.csv"), backends=("onnx",), min_seconds=0.01)
    r = json.loads((out / REPORT_FILE).read_text())
    assert r["engine"] == "onnx" and set(r["candidates"]["onnx"]["graphs"]) == {"encoder.onnx", "decoder.onnx"}
    assert checks == []
    export_onnx(run, tmp_path / "float")                       # export onnx still drives the graphs together
    assert checks == [1]


def test_int8_bleu_gate_refuses(monkeypatch, tmp_path, run):
    monkeypatch.setattr(TranslateAdapter, "quality_refusal",
                        lambda self, before, after: "BLEU fell 2.00 (limit 0.3)")
    with pytest.raises(LstmkitError, match="no int8 model keeps the quality"):
        export_int8(run, tmp_path / "bad", backends=("torch",), min_seconds=0.01)
    assert not (tmp_path / "bad").exists()
    r = json.loads((run / REPORT_FILE).read_text())
    assert r["engine"] is None and r["candidates"]["torch"]["quality_refused"] == "BLEU fell 2.00 (limit 0.3)"
    # Without --data the run's own validation pairs (read again from its file) are scored.
    assert r["fp32"]["metrics"]["bleu"] == pytest.approx(adapter_for(run).test_metrics(adapter_for(run).net)["bleu"])


def test_quality_refusal_limits():
    judge = TranslateAdapter.quality_refusal
    assert judge(None, {"bleu": 30.0}, {"bleu": 29.71}) is None
    assert "BLEU fell 0.40" in judge(None, {"bleu": 30.0}, {"bleu": 29.6})
    assert judge(None, None, None) == "no validation or test pairs to check BLEU"      # the fix is said once, after it
    assert "source and target sentence pairs" in TranslateAdapter.quality_data_fix(None)


# -- the service ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(run):
    from lstmkit.deploy.server import create_app
    client = Client(create_app(run, engine="onnx", max_instances=20))
    yield client
    client.close()


def test_service_translates_with_beam(app, run):
    status, out = app.post_json({"sentences": SENTENCES, "beam": 5})
    assert status == 200 and out["engine"] == "onnx"
    assert out["translations"] == Translator.load(run).translate(SENTENCES, beam=5)
    status, out = app.post_json({"sentences": ["a dog runs ."]})               # the run's beam by default
    assert status == 200 and out["translations"] == Translator.load(run).translate(["a dog runs ."])
    status, raw = app.request("GET", "/model")
    info = json.loads(raw)
    assert info["task"] == "translate" and info["engine"] == "onnx" and info["max_beam"] == 50
    spec = json.loads(app.request("GET", "/openapi.json")[1])
    assert "/predict" in spec["paths"] and "/stream" not in spec["paths"]


def test_service_warns_per_request_naming_the_sentences(app, adapter):
    """A sentence longer than any trained on, or holding no word the model knows, is named in the
    answer's ``warnings`` (typed in OpenAPI); a request without one answers as before, without them."""
    longest = adapter.est.data_summary_["longest_source"]
    long = " ".join(["dog"] * (longest + 1))
    assert longest < len(adapter.est.src_tokenizer_.encode(long)) <= adapter.est.source_limit()
    status, raw = app.request("POST", "/predict", json.dumps({"sentences": ["a dog runs .", long, "鬼龍院 xyzzy"]}))
    out = json.loads(raw)
    assert status == 200 and len(out["translations"]) == 3 and len(out["warnings"]) in (2, 3), out
    assert "longer than any the model was trained on (sentences[1];" in out["warnings"][0]
    assert "hold no word the model knows (sentences[2]; first '鬼龍院 xyzzy')" in out["warnings"][1]
    # the long one's translation may also run to the longest output this model writes, cut there
    assert all("translation(s) (sentences[1]) reached the longest output" in w for w in out["warnings"][2:]), out
    status, raw = app.request("POST", "/predict", json.dumps({"sentences": ["un chien court .", "le chat dort ."]}))
    out = json.loads(raw)                 # another language: a known full stop, its words unknown
    assert status == 200 and out["warnings"][0].endswith(
        "of the source sentences' words are unknown to the model's vocabulary (2 sentence(s) mostly so, sentences[0], "
        "sentences[1]; first 'un chien court .', 3 of its 4 words): another language or domain? it reads little of "
        "them, so their translations are guesses; pass sentences in the language and script the model was trained on"), out
    status, raw = app.request("POST", "/predict", json.dumps({"sentences": ["a dog runs .", ""]}))
    assert status == 200 and b"warnings" not in raw and set(json.loads(raw)) == {"translations", "engine"}
    # Batched together, each request hears only of its own sentences.
    requests = [{"sentences": ["a dog runs ."], "beam": 3}, {"sentences": ["xyzzy", "a dog"], "beam": 3}]
    quiet, noisy = adapter.answer_many(adapter.net, requests)
    assert "warnings" not in quiet and noisy["warnings"] == adapter.answer(adapter.net, **requests[1])["warnings"]
    assert "(sentences[0]; first 'xyzzy')" in noisy["warnings"][0]
    schema = json.loads(app.request("GET", "/openapi.json")[1])["components"]["schemas"]["TranslateResponse"]
    assert "warnings" in schema["properties"] and "warnings" not in schema["required"]
    assert "absent when none" in schema["properties"]["warnings"]["description"]


@pytest.mark.parametrize("body, where", [
    ({"sentences": []}, ["body", "sentences"]),
    ({}, ["body", "sentences"]),
    ({"sentences": [3]}, ["body", "sentences", 0]),
    ({"sentences": "a dog"}, ["body", "sentences"]),
    ({"sentences": ["a dog"], "beam": 0}, ["body", "beam"]),
    ({"sentences": ["a dog"], "beam": 51}, ["body", "beam"]),
    ({"sentences": ["a dog"], "beam": "5"}, ["body", "beam"]),
    ({"sentences": ["a dog"], "beam": 2.5}, ["body", "beam"]),
    ({"sentences": ["a dog"], "beam": True}, ["body", "beam"]),
    ({"sentences": ["a dog"] * 21}, ["body", "sentences"]),
    ({"sentences": ["ok", "dog " * 11]}, ["body", "sentences", 1]),
    ({"sentences": ["a dog"], "extra": 1}, ["body", "extra"]),
])
def test_service_bad_requests_are_422(app, body, where):
    status, out = app.post_json(body)
    assert status == 422, out
    assert out["detail"][0]["loc"][:len(where)] == where


def test_service_answers_a_blank_sentence_and_its_schema_says_it_may(app):
    """A blank sentence ('' or spaces: a blank line of a document) is answered with the empty translation, and the
    published schema takes it (no ``pattern``), where a text to classify or a line to score must hold a word and
    says so: schema and service agree, and a client validating against /openapi.json sends it."""
    status, out = app.post_json({"sentences": ["", "   ", "a dog runs ."]})
    assert status == 200 and out["translations"][:2] == ["", ""] and out["translations"][2], out
    schemas = json.loads(app.request("GET", "/openapi.json")[1])["components"]["schemas"]
    sentence = schemas["TranslateRequest"]["properties"]["sentences"]["items"]
    assert sentence == {"type": "string", "maxLength": 100_000}, sentence


@pytest.fixture(scope="module")
def call(run):
    """``POST /predict`` on one real ``lstmkit serve`` of ``run`` on a loopback port, shared by the
    loopback tests (its start-up was most of each test's time); SIGTERM and exit 0 at the end."""
    pytest.importorskip("uvicorn")
    from loopback import served
    with served(run) as post:
        yield post


def test_loopback_server(run, call):
    """The real ``lstmkit serve`` on a loopback port: a translation, a bad request (SIGTERM: ``call``)."""
    status, out = call({"sentences": SENTENCES[:4], "beam": 5})
    assert status == 200 and out["engine"] == "onnx"
    assert out["translations"] == Translator.load(run).translate(SENTENCES[:4], beam=5)
    status, out = call({"sentences": ["a dog"], "beam": 99})
    assert status == 422 and out["detail"][0]["loc"] == ["body", "beam"]
    assert out["detail"][0]["msg"] == "Input should be less than or equal to 50 — send a beam from 1 to 50"


@pytest.fixture(scope="module")
def endless_run(folder):
    """A run whose model never writes ``<eos>``: a source longer than its targets is translated up to
    the longest output it writes, and cut there."""
    from lstmkit.nn.seq2seq import EOS_ID
    tr = Translator(**{**TINY, "max_epochs": 1, "max_len": 10}).fit(str(folder / "train.csv"), out=folder / "endless")
    with torch.no_grad():
        tr.net_.out.bias[EOS_ID] = -1e9
    tr.save(tr.run_dir_)
    return tr.run_dir_


def test_loopback_server_names_the_translations_cut_at_the_longest_output(endless_run):
    """``translate`` and ``translate run`` warn of a translation cut at the longest output the model
    writes; the service's answer said nothing of it."""
    pytest.importorskip("uvicorn")
    from loopback import served
    tr = Translator.load(endless_run)
    long = "dog " * 10                                   # 10 tokens, more than any target: its output is cut
    from lstmkit.errors import caller_wording
    with pytest.warns(UserWarning, match="reached the longest output") as said, caller_wording(python=False):
        tr.translate([long])                             # in the command line's words, as the service says it
    want = [str(w.message) for w in said if "reached the longest output" in str(w.message)][0]
    with served(endless_run) as post:
        status, out = post({"sentences": ["a dog runs .", long, "", long], "beam": 2})
        assert status == 200 and len(out["translations"]) == 4 and out["translations"][2] == "", out
        cut = [w for w in out["warnings"] if "reached the longest output" in w]
        assert cut == [want.replace("1 translation(s)", "2 translation(s) (sentences[1], sentences[3])")], out
        status, out = post({"sentences": ["a dog runs ."]})
        assert status == 200 and "warnings" not in out, out


def test_served_model_merges_concurrent_requests(run):
    from concurrent.futures import ThreadPoolExecutor
    from lstmkit.deploy.served import ServedModel
    m = ServedModel("tr", run, "onnx", {})
    requests = [{"sentences": [SENTENCES[k]], "beam": 5} for k in range(12)]
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(m.answer, requests))
    tr = Translator.load(run)
    assert [a["translations"] for a in answers] == [tr.translate(r["sentences"], beam=5) for r in requests]
    info = m.describe()["batching"]
    assert info["largest"] > 1 and info["batches"] < 12          # some requests were answered together


def test_loopback_server_answers_concurrent_requests_each_its_own(run, call):
    """16 clients at once through the request-batching queue: every good request gets its own
    translations (equal to the estimator's), the one bad request its own 422."""
    from concurrent.futures import ThreadPoolExecutor
    bodies = [{"sentences": [SENTENCES[k % len(SENTENCES)]], "beam": 5 if k % 3 else 2} for k in range(15)]
    bodies.insert(7, {"sentences": ["a dog", "dog " * 11], "beam": 5})
    tr = Translator.load(run)
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(call, bodies))
    for k, (body, (status, out)) in enumerate(zip(bodies, answers)):
        if k == 7:
            assert status == 422 and out["detail"][0]["loc"] == ["body", "sentences", 1]
        else:
            assert status == 200 and out["translations"] == tr.translate(body["sentences"], beam=body["beam"])


# -- the CLI -------------------------------------------------------------------------------
def test_cli_exports_onnx_and_int8(tmp_path, run, folder, capsys):
    copy = tmp_path / "run"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("*.onnx", "onnx.json", REPORT_FILE))
    code, out, err = run_cli(["export", "onnx", "--run", copy], capsys)
    assert code == 0, err
    assert "encoder: inputs src, src_len -> outputs memory" in out and "decoder: inputs y_prev" in out
    assert "decoding: 8 random sources, beam 1 and 3: 16/16 searches wrote PyTorch's tokens" in out
    assert (copy / "encoder.onnx").is_file() and (copy / "decoder.onnx").is_file()
    code, out, err = run_cli(["export", "int8", "--run", copy, "--data", folder / "test.csv", "--backend", "onnx"],
                             capsys)
    assert code == 0, err
    assert "onnx :" in out and "bleu" in out and (tmp_path / "run-int8" / "decoder.onnx").is_file()
    code, _, err = run_cli(["export", "onnx", "--run", tmp_path / "run-int8"], capsys)
    assert code == 2 and "encoder.onnx, decoder.onnx" in err


def test_deploy_speed_lines(run):
    from lstmkit.tasks.translate.bench import deploy_speed
    lines = deploy_speed(run, batch=8, seconds=0.05, requests=5)
    assert [line.get("engine") for line in lines] == ["torch", "onnx", None]
    assert all(line["sentences_per_s"] > 0 and 0 < line["latency_p50_ms"] <= line["latency_p99_ms"]
               for line in lines[:2])
    assert lines[2]["onnx_vs_torch"] == pytest.approx(lines[1]["sentences_per_s"] / lines[0]["sentences_per_s"],
                                                      rel=1e-2)
    json.dumps(lines, allow_nan=False)


@pytest.mark.parametrize("where", ["afile", "afile/sub"])
def test_export_onnx_out_onto_a_file_is_one_error(run, tmp_path, capsys, where):
    """The translator's graphs go into a folder: --out naming a file (or a path under one) is one
    line, the file untouched (was FileExistsError / NotADirectoryError)."""
    from cli_helpers import assert_user_error, run_cli
    (tmp_path / "afile").write_text("mine")
    code, _, err = run_cli(["export", "onnx", "--run", run, "--out", tmp_path / where], capsys)
    assert_user_error(code, err, "is a file, not a folder")
    assert (tmp_path / "afile").read_text() == "mine"
