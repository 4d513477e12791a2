"""Deployment of seq2seq speech models: the encoder graph (conv subsampling inside, features in)
and the one-step decoder graph under the same beam search as torch, int8 with the WER gate, WAV /
JSON answers from a real loopback server, the CLI, and the one-line streaming refusal. Generated
tone audio, a tiny model (lstmkit.tasks.speech.synthetic)."""
import json
import shutil

import pytest
import soundfile as sf
import torch

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import lstmkit  # noqa: E402
from cli_helpers import run_cli  # noqa: E402
from lstmkit.data.batching import pad_batch  # noqa: E402
from lstmkit.deploy.onnx import export_onnx  # noqa: E402
from lstmkit.deploy.onnx_engine import engine_net, graph_files, resolve_engine  # noqa: E402
from lstmkit.deploy.quantize import REPORT_FILE  # noqa: E402
from lstmkit.deploy.registry import adapter_for  # noqa: E402
from lstmkit.deploy.seq2seq import GRAPH_FILES, OnnxSeq2Seq  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from lstmkit.nn.seq2seq import beam_search  # noqa: E402
from lstmkit.tasks.speech.deploy import ORT_THREADS, WER_LIMIT, SpeechAdapter  # noqa: E402
from lstmkit.tasks.speech.model import SpeechSeq2Seq  # noqa: E402
from lstmkit.tasks.speech.synthetic import RATE, tiny_run, tone_clip  # noqa: E402
from one_thread import one_thread_per_package  # noqa: F401,E402
from seq2seq_helpers import two_workers  # noqa: E402


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny seq2seq recogniser (bi-LSTM encoder, Bahdanau attention, beam 3), exported through
    ``lstmkit.load(run).export("onnx")``."""
    run = tiny_run(tmp_path_factory.mktemp("s2s"), mode="seq2seq", model="bilstm", n=40, max_epochs=8, beam=3)
    assert lstmkit.load(run).export("onnx") == run
    return run


@pytest.fixture(scope="module")
def adapter(run):
    return adapter_for(run)


def _wavs(run, k=8):
    return sorted(str(p) for p in (run.parent.parent / "wavs").glob("*.wav"))[:k]


def test_exports_an_encoder_and_a_decoder_graph_checked_against_torch(run, adapter):
    report = json.loads((run / "onnx.json").read_text())
    assert set(report["graphs"]) == {"encoder", "decoder"} and report["max_abs_diff"] <= 1e-4
    assert report["graphs"]["encoder"]["inputs"] == ["src", "src_len"]
    assert "attention" in report["graphs"]["decoder"]["outputs"]
    import onnx
    for name in GRAPH_FILES:                  # each graph says what lstmkit does around the two, as onnx.json does
        props = {p.key: p.value for p in onnx.load(str(run / name)).metadata_props}
        assert props["lstmkit_around_graph"] == "; ".join(report["around_graph"])
    assert graph_files(run) == GRAPH_FILES and adapter.onnx_files == GRAPH_FILES
    assert resolve_engine(run) == "onnx" and isinstance(engine_net(adapter, "auto", run), OnnxSeq2Seq)
    assert adapter.onnx_net(run).src_dtype.__name__ == "float32"                # features, not ids
    with pytest.raises(LstmkitError, match="encoder and a one-step decoder graph"):
        adapter.stateful()


@pytest.mark.parametrize("beam", [1, 5])
def test_onnx_decoding_equals_torch(run, adapter, beam):
    onnx, wavs = adapter.onnx_net(run), _wavs(run)
    feats = adapter.est._features(wavs)[0]
    x, lengths = pad_batch(feats)
    assert len(set(lengths.tolist())) > 1                                        # a really padded batch
    ratio = adapter.config.max_len_ratio
    want, got = beam_search(adapter.net, x, lengths, beam, 0.0, ratio), beam_search(onnx, x, lengths, beam, 0.0, ratio)
    assert [h.ids for h in got] == [h.ids for h in want]
    assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-3)
    torch.testing.assert_close(got[0].attention, want[0].attention, atol=1e-4, rtol=0)
    expected = adapter.est.transcribe(wavs, beam=beam)
    assert [a["transcript"] for a in adapter.predict(onnx, feats, beam)] == expected
    assert [a["transcript"] for a in adapter.predict(adapter.net, feats, beam)] == expected
    assert sum(map(len, expected)) > 4                                           # the model writes something
    alone = [beam_search(onnx, f[None], torch.tensor([len(f)]), beam, 0.0, ratio)[0].ids for f in feats]
    assert alone == [h.ids for h in got]                                         # padding changes nothing


@pytest.mark.parametrize("beam", [1, 5])
def test_onnx_batches_decoded_side_by_side_answer_as_one_batch(run, adapter, beam):
    """The ONNX engine's workers (one per torch thread; forced to 2 here) decode a call's
    recordings as two halves at once, each graph on one thread: the same transcripts as one batch
    on one thread, and as torch's."""
    feats = adapter.est._features(_wavs(run, 40))[0]                      # 40: two batches of 20
    one = adapter.onnx_net(run)
    assert one.workers == torch.get_num_threads() == 1
    assert one.encoder.threads == one.decoder.threads == ORT_THREADS == 1
    two = adapter.onnx_net(run)
    threads = two_workers(two)
    want = [a["transcript"] for a in adapter.predict(adapter.net, feats, beam)]
    assert sum(map(len, want)) > 4                                               # the model writes something
    assert [a["transcript"] for a in adapter.predict(one, feats, beam)] == want
    assert [a["transcript"] for a in adapter.predict(two, feats, beam)] == want
    assert sorted(n for _, n in threads) == [20, 20]
    assert all(name.startswith("lstmkit-decode_") for name, _ in threads)      # the pool's, not the caller's


def test_the_engine_follows_the_graphs_of_the_runs_mode(tmp_path, run, adapter):
    """``auto`` picks ONNX only while both graphs are there (a CTC run of the same task needs
    model.onnx instead); a missing one is named with the command that writes it."""
    missing = tmp_path / "missing"
    shutil.copytree(run, missing, ignore=shutil.ignore_patterns("encoder.onnx"))
    assert resolve_engine(missing) == "torch" and isinstance(engine_net(adapter, "auto", missing), SpeechSeq2Seq)
    with pytest.raises(LstmkitError, match="no encoder.onnx") as e:
        engine_net(adapter, "onnx", missing)
    assert "lstmkit export onnx --run" in e.value.hint
    meta = json.loads((run / "lstmkit.json").read_text())
    assert SpeechAdapter.onnx_files_of(meta) == GRAPH_FILES
    assert SpeechAdapter.onnx_files_of({**meta, "config": {**meta["config"], "mode": "ctc"}}) == ("model.onnx",)


def test_streaming_stays_refused_with_its_reason(run, adapter):
    assert not adapter.streams and not adapter.metadata()["streams"]
    assert "attends over the whole utterance" in adapter.metadata()["stream_refusal"]
    with pytest.raises(LstmkitError, match="cannot stream: a seq2seq model attends over the whole utterance"):
        adapter.open_stream("onnx", run)


# -- int8 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("faster", ["torch", "onnx"])
def test_int8_reports_wer_beside_fp32_and_keeps_the_gate(tmp_path, run, monkeypatch, faster):
    """Both int8 backends are scored by WER on the run's validation recordings; one becomes the
    engine only within 0.5 WER points, else the report says why. Of those kept, the faster is the
    engine, and what answers under ``auto`` follows it. The speeds are given (fp32, then the torch
    and the ONNX candidate, in the order the export measures them): measured, the winner changes
    with the machine's load."""
    import lstmkit.deploy.quantize as quantize
    rates = iter([100.0, 300.0 if faster == "torch" else 200.0, 300.0 if faster == "onnx" else 200.0])
    monkeypatch.setattr(quantize, "measure_speed", lambda *a, **k: {"windows_per_s": next(rates), "latency_ms": 1.0})
    out = tmp_path / "int8"
    try:
        lstmkit.load(run).export("int8", out)
    except LstmkitError as e:                                   # the gate refused every candidate
        assert "no int8 model keeps the quality" in e.message and "WER rose" in e.message
        r = json.loads((run / REPORT_FILE).read_text())
        assert all("WER rose" in c["quality_refused"] for c in r["candidates"].values())
        return
    r = json.loads((out / REPORT_FILE).read_text())
    assert r["speed_unit"] == "utterances" and set(r["fp32"]["metrics"]) == {"wer", "cer"}
    assert set(r["candidates"]) == {"torch", "onnx"}
    assert "DynamicQuantizeLSTM" in r["candidates"]["onnx"]["quantized_ops"]
    for c in r["candidates"].values():
        assert "wer" in c["metric_change"] and 0 <= c["same_answers"] <= 1
    assert r["chosen"]["metrics"]["wer"] - r["fp32"]["metrics"]["wer"] <= WER_LIMIT + 1e-12
    assert sorted(p.name for p in out.glob("*.onnx")) == sorted(GRAPH_FILES)
    held = [k for k, c in r["candidates"].items() if "quality_refused" not in c]
    assert r["engine"] == (faster if faster in held else held[0])
    assert r["fp32"]["windows_per_s"] == 100.0 and r["chosen"]["windows_per_s"] == max(
        r["candidates"][k]["windows_per_s"] for k in held)
    q = adapter_for(out)
    assert q.preferred_engine == r["engine"] and resolve_engine(out, "auto", q.preferred_engine) == r["engine"]
    answering = engine_net(q, "auto", out)                  # the int8 choice, not the graphs' presence
    assert isinstance(answering, OnnxSeq2Seq) if r["engine"] == "onnx" else answering is q.net
    assert q.test_metrics(q.net)["wer"] == pytest.approx(r["candidates"]["torch"]["metrics"]["wer"])
    assert q.test_metrics(q.onnx_net(out))["wer"] == pytest.approx(r["candidates"]["onnx"]["metrics"]["wer"])
    wavs = _wavs(run, 4)
    answers = q.predict(q.net, q.est._features(wavs)[0], 1)
    assert lstmkit.load(out).transcribe(wavs, beam=1) == [a["transcript"] for a in answers]


# -- serving -------------------------------------------------------------------------------------
def test_a_real_server_answers_a_wav_upload_and_json_samples(tmp_path, run):
    from lstmkit.serve import Client
    from serve_helpers import running_server
    wave = tone_clip("ab cd", seconds=1.0)
    wav = tmp_path / "clip.wav"
    sf.write(wav, wave, RATE, subtype="PCM_16")
    est = lstmkit.load(run)
    with running_server("--run", run) as (_, port):
        client = Client(f"http://127.0.0.1:{port}")
        info = client.models()[0]
        assert info["engine"] == "onnx" and info["mode"] == "seq2seq" and not info["streams"]
        uploaded = client.upload(wav)
        assert uploaded == {"transcript": est.transcribe([str(wav)])[0], "engine": "onnx"}     # the run's beam (3)
        samples = sf.read(wav, dtype="float32")[0].tolist()
        out = client.predict(audio=[samples, tone_clip("b").tolist()], sample_rate=RATE, beam=1)
        assert out["engine"] == "onnx"
        assert [p["transcript"] for p in out["predictions"]] == est._decode(
            est._features([str(wav)])[0] + [adapter_for(run).features(tone_clip("b"))], 1, None)
        with pytest.raises(LstmkitError, match="beam"):
            client.predict(audio=[samples], beam=0)
        sf.write(wav, 2 * wave / abs(wave).max(), RATE, subtype="FLOAT")     # beyond full scale: read as it is, told
        with pytest.warns(UserWarning, match="clip.wav: float samples reach 2, beyond") as said:
            expect = est.transcribe([str(wav)])[0]
        loud = client.upload(wav)
        told = str(said[0].message).replace("clip.wav", "the upload")      # the same text as the run's warning
        assert loud["transcript"] == expect and loud["warnings"] == [told]


def test_cli_exports_the_graphs_and_prints_each(run, capsys):
    code, out, err = run_cli(["export", "onnx", "--run", run], capsys)
    assert code == 0, err
    assert "encoder: inputs src, src_len -> outputs memory, mask, h, c, keys" in out
    assert "decoder: inputs y_prev, h, c, memory, mask, keys -> outputs logits" in out
    assert resolve_engine(run) == "onnx"
