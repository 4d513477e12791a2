"""The exported graphs run without lstmkit: ONNX Runtime, numpy and the run's JSON files give
``predict``'s answer (examples/onnx_by_hand.py), and every graph passes ONNX's own checks and says
its inputs' and outputs' shapes."""
import json
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import lstmkit
from estimator_data import QUICK, labelled_texts
from onnx_example import by_hand, exported_forecaster

def _graph_checks(path: Path) -> None:
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    onnx.shape_inference.infer_shapes(model, strict_mode=True, check_type=True)
    assert model.doc_string.startswith("lstmkit ")


@pytest.fixture(scope="module")
def forecast_runs(tmp_path_factory):
    """A forecaster (default highway, no blend) exported to ONNX and to int8, and its history."""
    d = tmp_path_factory.mktemp("by_hand")
    est, y = exported_forecaster(d)
    int8 = est.export("int8", data=y)          # trained in memory: the series its MASE gate is judged on
    return d / "f", Path(int8), y


def test_forecast_by_hand_equals_predict(forecast_runs):
    run, int8, y = forecast_runs
    forecast = by_hand().forecast
    want = lstmkit.load(run).predict(y, engine="onnx")["y"].to_numpy()
    np.testing.assert_allclose(forecast(run, y)[:, 0], want, rtol=1e-5, atol=1e-5)
    want8 = lstmkit.load(int8).predict(y, engine="onnx")["y"].to_numpy()
    np.testing.assert_allclose(forecast(int8, y)[:, 0], want8, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(forecast(run, np.zeros(20)), np.zeros((3, 1)))      # the all-zero rule


def test_forecast_graph_says_its_shapes_and_window(forecast_runs):
    run, int8, _ = forecast_runs
    report = json.loads((run / "onnx.json").read_text())
    # the exporter named the horizon and target dimensions Gathery_dim_1 / _2: their sizes now
    assert report["signature"] == {"inputs": [{"name": "x", "dtype": "float32", "shape": ["batch", "steps", 1]}],
                                   "outputs": [{"name": "y", "dtype": "float32", "shape": ["batch", 3, 1]}]}
    assert report["window"] == 12
    model = onnx.load(str(run / "model.onnx"))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["lstmkit_window"] == "12" and props["lstmkit_around_graph"].startswith("per-series scaling")
    assert "last 12 steps" in model.doc_string
    quantized = json.loads((int8 / "export_report.json").read_text())["candidates"]["onnx"]
    assert quantized["graphs"]["model.onnx"]["outputs"][0]["shape"] == ["batch", 3, 1]
    for path in (run / "model.onnx", int8 / "model.onnx"):
        _graph_checks(path)


def test_text_classification_by_hand_equals_predict(tmp_path):
    x, labels = labelled_texts()
    est = lstmkit.TextClassifier(**QUICK, min_freq=1).fit(x, labels)
    est.save(tmp_path / "c")
    est.export("onnx")
    texts = ["the film 3 was good", "The film was AWFUL!", "a word never seen", "good " * 500]
    model = lstmkit.load(tmp_path / "c")
    got_labels, got = by_hand().classify_texts(tmp_path / "c", texts)
    np.testing.assert_allclose(got, model.predict_proba(texts), atol=1e-5)
    assert got_labels == list(model.predict(texts))
    report = json.loads((tmp_path / "c" / "onnx.json").read_text())
    assert report["signature"]["inputs"] == [{"name": "x", "dtype": "int64", "shape": ["batch", "steps"]},
                                             {"name": "lengths", "dtype": "int64", "shape": ["batch"]}]
    assert report["signature"]["outputs"] == [{"name": "y", "dtype": "float32", "shape": ["batch"]}]
    ids, answer = report["around_graph"]        # what the example does around the graph, written down
    assert "vocab.json's itos" in ids and "cut to 400 (both)" in ids
    assert answer == "probabilities: sigmoid(y), that of classes[1] (lstmkit.json's classes)"
    _graph_checks(tmp_path / "c" / "model.onnx")


@pytest.mark.parametrize("model, state", [("lstm", "h0 = c0 = 0 ([2, batch, 8])"), ("gru", "h0 = 0 ([2, batch, 8])")])
def test_language_model_by_hand_equals_its_perplexity(tmp_path, model, state):
    lines = [f"the {a} dog {b}" for a in ("red", "big", "old") for b in ("runs", "sits", "sleeps")] * 8
    (tmp_path / "t.txt").write_text("\n".join(lines) + "\n")
    lm = lstmkit.LanguageModel(**QUICK, level="char", model=model, num_layers=2, embed_dim=16).fit(
        str(tmp_path / "t.txt"), out=tmp_path / "runs")
    lm.export("onnx")
    run = lm.run_dir_
    read, answer = json.loads((run / "onnx.json").read_text())["around_graph"]   # what the example follows
    specials = json.loads((run / "vocab.json").read_text())["specials"]
    assert "base.itos" in read and f"after <bos> ({specials['bos']}" in read and state in read
    assert answer.startswith("log-probabilities: log_softmax(y)") and f"</s> ({specials['eos']})" in answer
    for text in ("the old dog sits", "The Red Dog!"):            # '!' is unknown: <unk>
        got = by_hand().lm_log_prob(run, text)
        assert got == pytest.approx(-(len(text) + 1) * np.log(lm.perplexity([text])), rel=1e-5)
    _graph_checks(run / "model.onnx")


@pytest.fixture(scope="module")
def translator(tmp_path_factory):
    """A word-level translator with Luong attention (input feeding: the decoder is fed back feed_next)
    whose names, each seen once, are <unk> on both sides (it learns to write <unk> for them), exported."""
    import torch
    from translate_data import TINY, make_pairs
    pairs = make_pairs(300, seed=1, max_len=5)
    pairs += [(f"x{k}q {s}", f"x{k}q {t}") for k, (s, t) in enumerate(pairs[:120])]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tr = lstmkit.Translator(**{**TINY, "attention": "general", "max_epochs": 8, "patience": 8, "max_len": 10,
                                   "min_freq": 2}).fit([s for s, _ in pairs], [t for _, t in pairs],
                                                       out=tmp_path_factory.mktemp("translate"))
        tr.export("onnx")
    finally:
        torch.set_num_threads(threads)
    return tr


@pytest.mark.parametrize("beam", [1, 3])
def test_translation_by_hand_equals_translate(translator, beam):
    """onnx.json's around_graph and decoding, vocab.json and the two graphs are all a caller with
    ONNX Runtime alone needs: its greedy and beam translations are translate's, word for word, for
    sentences with an unknown name (copied by attention), longer than max_len, or of no token."""
    import warnings
    from translate_data import make_pairs
    sentences = ([s for s, _ in make_pairs(12, seed=3, max_len=9)]
                 + ["zorro the dog runs .", "y55 red cat sits .", "dog " * 12, "\ufeff", "", "the&nbsp;dog &amp; cat"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)          # longer than trained, unknown words: said, not checked
        want = translator.translate(sentences, beam=beam)
    assert want[12:14] == ["zorro der Hund rennt.", "y55 rot Katze sitzt."]     # the names copied from <unk>
    assert by_hand().translate(translator.run_dir_, sentences, beam) == want


def test_both_translation_graphs_say_what_is_around_them(translator):
    run = translator.run_dir_
    report = json.loads((run / "onnx.json").read_text())
    ids, decoding, words = report["around_graph"]
    assert "cut to its first 10" in ids and "is the empty translation, not run through the graphs" in ids
    steps = translator.decode_steps()
    assert f"at most min(ceil(2 x src_len) + 2, {steps}) tokens" in decoding and "feed_next as feed" in decoding
    assert "the greedy path's among them" in decoding and "memory, mask and keys as they are" in decoding
    assert "each <unk> (1) written is the source word" in words
    assert report["decoding"] == {"pad": 0, "unk": 1, "bos": 2, "eos": 3, "beam": 3, "length_penalty": 1.0,
                                  "max_len_ratio": 2.0, "max_len": 10, "max_output_tokens": steps}
    for name in ("encoder", "decoder"):         # either file, taken alone, says how the two are driven
        model = onnx.load(str(run / f"{name}.onnx"))
        props = {p.key: p.value for p in model.metadata_props}
        assert props["lstmkit_graph"] == name and props["lstmkit_around_graph"] == "; ".join(report["around_graph"])
        assert "Around the graph: ids: each sentence's words" in model.doc_string
        _graph_checks(run / f"{name}.onnx")


def test_an_int8_translator_by_hand_equals_its_translate(translator, tmp_path, monkeypatch):
    """An int8 run whose export chose ONNX Runtime: its export_report.json (around_graph, decoding) and
    quantized graphs translate by hand as the loaded run does (which answers with those graphs)."""
    import warnings
    import pandas as pd
    from lstmkit.deploy.quantize import export_int8
    from lstmkit.tasks.translate.deploy import TranslateAdapter
    from translate_data import make_pairs
    monkeypatch.setattr(TranslateAdapter, "quality_refusal", lambda self, before, after: None)  # not the gate's test
    test = pd.DataFrame(make_pairs(8, seed=9, max_len=5), columns=["src", "tgt"])
    out = export_int8(translator.run_dir_, tmp_path / "int8", data=test, backends=("onnx",), min_seconds=0.01)
    sentences = [s for s, _ in make_pairs(12, seed=4, max_len=8)] + ["zorro the dog runs ."]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        want = lstmkit.load(out).translate(sentences, beam=3)
    assert by_hand().translate(out, sentences, 3) == want
