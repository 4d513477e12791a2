"""Deployment of speech models: the acoustic model in ONNX (lengths, carried state), CTC decoding
over its output (greedy, prefix beam, LM fusion), int8 with the WER gate, WAV / JSON answers and
chunked audio streaming. Generated tone audio, tiny models (lstmkit.tasks.speech.synthetic)."""
import io
import json
import re

import numpy as np
import pytest
import soundfile as sf
import torch

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from asgi_client import Client  # noqa: E402
from lstmkit.data.batching import pad_batch  # noqa: E402
from lstmkit.deploy.adapter import BadRequest, DeployAdapter  # noqa: E402
from lstmkit.deploy.onnx import export_onnx  # noqa: E402
from lstmkit.deploy.onnx_engine import OnnxNet, load_runner  # noqa: E402
from lstmkit.deploy.quantize import REPORT_FILE, export_int8  # noqa: E402
from lstmkit.deploy.registry import adapter_class, adapter_for, supported_tasks  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from lstmkit.tasks.speech.estimator import SpeechRecognizer  # noqa: E402
from lstmkit.tasks.speech.audio_files import read_audio  # noqa: E402
from lstmkit.tasks.speech.decode import decode, lm_scorer  # noqa: E402
from lstmkit.tasks.speech.deploy import SpeechAdapter  # noqa: E402
from lstmkit.tasks.speech.synthetic import RATE, tiny_run, tone_clip  # noqa: E402
from one_thread import one_thread_per_package  # noqa: F401,E402
from speech_data import unfinished_wav  # noqa: E402


@pytest.fixture(scope="module")
def ctc(tmp_path_factory):
    """A one-directional LSTM CTC run (global normalisation: it streams), exported to ONNX."""
    run = tiny_run(tmp_path_factory.mktemp("ctc"), mode="ctc")
    export_onnx(run)
    return run


@pytest.fixture(scope="module")
def bi(tmp_path_factory):
    """A bidirectional CTC run with per-utterance normalisation over every frame, exported."""
    run = tiny_run(tmp_path_factory.mktemp("bi"), mode="ctc", model="bilstm", normalize="utterance", max_epochs=2)
    export_onnx(run)
    return run


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """A spoken-letter classifier (label: a clip's first letter), exported."""
    run = tiny_run(tmp_path_factory.mktemp("cls"), mode="classify", max_epochs=8, pooling="mean")
    export_onnx(run)
    return run


def _wavs(run, k=6):
    return sorted(str(p) for p in (run.parent.parent / "wavs").glob("*.wav"))[:k]


def _rate(wav: bytes, rate: int) -> bytes:
    """``wav`` whose header says ``rate`` Hz (a damaged header)."""
    at = wav.find(b"fmt ") + 12
    return wav[:at] + rate.to_bytes(4, "little") + wav[at + 4:]


def _wav_bytes(wave, rate=RATE, subtype="PCM_16", format="WAV"):
    buf = io.BytesIO()
    sf.write(buf, wave, rate, format=format, subtype=subtype)
    return buf.getvalue()


# -- ONNX --------------------------------------------------------------------------------------
def test_speech_is_a_deploy_task_and_follows_the_protocol(ctc):
    assert "speech" in supported_tasks()
    adapter = adapter_for(ctc)
    assert type(adapter) is SpeechAdapter and isinstance(adapter, DeployAdapter)
    meta = adapter.metadata()
    assert meta["mode"] == "ctc" and meta["sample_rate"] == RATE and meta["streams"] and meta["stream_refusal"] is None
    assert adapter.streams and "audio/wav" in adapter.upload_types


@pytest.mark.parametrize("which", ["ctc", "bi"])
def test_onnx_padded_batch_equals_each_alone_and_torch(which, request):
    run = request.getfixturevalue(which)
    report = json.loads((run / "onnx.json").read_text())
    carried = ["h0", "c0"] if which == "ctc" else []
    assert report["inputs"] == ["x", "lengths", *carried] and report["max_abs_diff"] <= 1e-4
    adapter, onnx = adapter_for(run), OnnxNet(load_runner(run))
    feats = adapter.est._features(_wavs(run))[0]
    x, lengths = pad_batch(feats)
    assert len(set(lengths.tolist())) > 1                       # a really padded batch
    with torch.no_grad():
        ref, ref_len = adapter.est.net_.eval()(x, lengths)       # the model's own forward
    batch = onnx(x, lengths).numpy()
    for b, f in enumerate(feats):
        n = int(ref_len[b])
        alone = onnx(f[None], torch.tensor([len(f)])).numpy()[0]
        assert alone.shape[0] == n
        np.testing.assert_allclose(batch[b, :n], alone, atol=1e-5)
        np.testing.assert_allclose(batch[b, :n], ref[b, :n].numpy(), atol=1e-4)


def test_onnx_report_says_the_frames_out_and_what_lstmkit_does_around_the_graph(bi):
    report = json.loads((bi / "onnx.json").read_text())
    # the exporter named the frames after subsampling LogSoftmaxy_dim_1; the symbols are a fixed size
    batch, frames, symbols = report["signature"]["outputs"][0]["shape"]
    assert (batch, frames) == ("batch", "y_steps") and isinstance(symbols, int)
    features, decoding = report["around_graph"]
    assert features.startswith(f"features: the audio as mono {RATE} Hz") and "normalised 'utterance'" in features
    assert decoding.startswith("decoding: CTC")


def test_ctc_decoding_over_onnx_equals_the_estimator(ctc):
    adapter, onnx = adapter_for(ctc), OnnxNet(load_runner(ctc))
    wavs = _wavs(ctc, 8)
    feats = adapter.est._features(wavs)[0]
    for beam in (1, 4):
        got = [a["transcript"] for a in adapter.predict(onnx, feats, beam=beam)]
        assert got == adapter.est.transcribe(wavs, beam=beam, lm=False)
    assert any(got)


def test_classify_onnx_answers_label_and_probabilities(digits):
    adapter, onnx = adapter_for(digits), OnnxNet(load_runner(digits))
    wavs = _wavs(digits, 5)
    feats = adapter.est._features(wavs)[0]
    x, lengths = pad_batch(feats)
    with torch.no_grad():
        np.testing.assert_allclose(onnx(x, lengths).numpy(), adapter.est.net_.eval()(x, lengths).numpy(), atol=1e-4)
    answers = adapter.predict(onnx, feats)
    assert [a["label"] for a in answers] == adapter.est.transcribe(wavs)
    one = adapter.answer_bytes(onnx, open(wavs[0], "rb").read(), "audio/wav")
    assert one["label"] == answers[0]["label"] and sum(one["probabilities"].values()) == pytest.approx(1.0)
    assert set(one["probabilities"]) == set(adapter.est.classes_) == set("abcd")


# -- int8 ----------------------------------------------------------------------------------------
def test_int8_reports_wer_beside_fp32_and_loads(tmp_path, ctc):
    out = export_int8(ctc, tmp_path / "int8", min_seconds=0.02)
    r = json.loads((out / REPORT_FILE).read_text())
    assert r["batch"] == 32 and r["speed_unit"] == "utterances"          # 1-s utterances per second
    assert set(r["fp32"]["metrics"]) == {"wer", "cer"}
    for c in r["candidates"].values():
        assert "wer" in c["metric_change"]
    assert r["chosen"]["metrics"]["wer"] - r["fp32"]["metrics"]["wer"] <= 0.005 + 1e-12
    adapter = adapter_for(out)
    assert adapter.preferred_engine == r["engine"]
    assert adapter.test_metrics(adapter.net)["wer"] == pytest.approx(r["candidates"]["torch"]["metrics"]["wer"])
    onnx8 = OnnxNet(load_runner(out))
    assert adapter.test_metrics(onnx8)["wer"] == pytest.approx(r["candidates"]["onnx"]["metrics"]["wer"])
    wav = _wavs(ctc, 1)[0]
    whole = adapter.answer_bytes(adapter.net, open(wav, "rb").read(), "audio/wav")["transcript"]
    assert whole == adapter.predict(onnx8, adapter.est._features([wav])[0], beam=1)[0]["transcript"]
    from lstmkit import SpeechRecognizer
    assert SpeechRecognizer.load(out).transcribe([wav], beam=1) == [whole]     # the estimator loads int8 too
    wave = sf.read(wav, dtype="float32")[0]
    for engine in ("torch", "onnx"):                   # the int8 nets stream too, with their state
        assert _stream_through(adapter.open_stream(engine, out), wave, 300)[-1] == whole


def test_quality_refusal_holds_wer_and_accuracy_to_half_a_point(ctc, digits):
    judge = adapter_for(ctc).quality_refusal
    assert judge({"wer": 0.100}, {"wer": 0.104}) is None
    assert "WER rose 0.60 points" in judge({"wer": 0.100}, {"wer": 0.106})
    assert "no recordings" in judge(None, {"wer": 0.1})
    judge = adapter_for(digits).quality_refusal
    assert judge({"accuracy": 0.9}, {"accuracy": 0.896}) is None
    assert "accuracy fell 1.00 points" in judge({"accuracy": 0.9}, {"accuracy": 0.89})


def test_int8_without_data_says_why_not(tmp_path, ctc):
    from lstmkit import SpeechRecognizer
    from lstmkit.tasks.speech.data import read_utterances
    src = SpeechRecognizer.load(ctc)
    utts = read_utterances(ctc.parent.parent / "manifest.csv")
    est = SpeechRecognizer(**{**src.config_.to_dict(), "max_epochs": 1}).fit(utts, out=tmp_path)   # in memory: no source
    with pytest.raises(LstmkitError, match="cannot check an int8 model .*no recordings with transcripts") as e:
        export_int8(est.run_dir_, tmp_path / "q", batch=8, min_seconds=0.01, backends=("torch",))
    assert "MANIFEST.csv listing recordings and their transcripts" in e.value.hint    # the fix said once
    assert "MANIFEST" not in e.value.message and "examples" not in str(e.value)


# -- serving -------------------------------------------------------------------------------------
def test_wav_upload_and_json_give_the_same_transcripts(ctc):
    adapter = adapter_for(ctc)
    wavs = _wavs(ctc, 3)
    expect = adapter.est.transcribe(wavs, beam=1, lm=False)
    uploads = [adapter.answer_bytes(adapter.net, open(w, "rb").read(), "audio/wav; codecs=1") for w in wavs]
    assert [u["transcript"] for u in uploads] == expect
    waves = [sf.read(w, dtype="float32")[0].tolist() for w in wavs]
    assert adapter.answer(adapter.net, audio=waves, sample_rate=RATE)["predictions"] == uploads
    stereo = np.stack([waves[0], waves[0]], axis=1).astype(np.float32)      # mixed down to the same mono
    assert adapter.answer_bytes(adapter.net, _wav_bytes(stereo, subtype="FLOAT"), "audio/x-wav") == uploads[0]
    up = adapter.answer_bytes(adapter.net, _wav_bytes(tone_clip("ab", rate=16000), 16000), "audio/wav")
    assert isinstance(up["transcript"], str)                                  # 16 kHz is resampled


# every container the CLI reads, each written by soundfile (lossy ones too: the CLI reads the same file)
FORMATS = [("flac", "FLAC", "PCM_16"), ("ogg", "OGG", "VORBIS"), ("opus", "OGG", "OPUS"),
           ("mp3", "MP3", "MPEG_LAYER_III"), ("aiff", "AIFF", "PCM_16"), ("caf", "CAF", "PCM_16"),
           ("w64", "W64", "PCM_16")]


@pytest.mark.parametrize("suffix, kind, subtype", FORMATS, ids=[f[0] for f in FORMATS])
def test_an_upload_in_any_format_the_cli_reads_is_answered_as_the_cli_transcribes_it(ctc, tmp_path, suffix, kind,
                                                                                    subtype):
    """A FLAC or OGG body was a 422 'not a WAV file (no RIFF/WAVE header)' that transcribe read: the
    format is told by the bytes, whatever the Content-Type says, and read by the CLI's own reader."""
    from lstmkit.tasks.speech.audio import upload_samples
    adapter = adapter_for(ctc)
    path = tmp_path / f"clip.{suffix}"
    sf.write(path, tone_clip("ab", seconds=0.5), RATE, format=kind, subtype=subtype)
    body = path.read_bytes()
    expect = adapter.est.transcribe([str(path)], beam=1, lm=False)[0]
    for content_type in ("audio/wav", "application/octet-stream", f"audio/{'mpeg' if suffix == 'mp3' else 'flac'}"):
        assert adapter.answer_bytes(adapter.net, body, content_type) == {"transcript": expect}
    assert np.array_equal(upload_samples(body, "audio/wav", RATE, 60)[0], read_audio(path, RATE)[0])


def test_a_damaged_mp3_upload_is_answered_with_the_warning_transcribe_gives(ctc, tmp_path):
    adapter = adapter_for(ctc)
    sf.write(tmp_path / "ok.mp3", tone_clip("ab cd", seconds=1.0, rate=16000), 16000, format="MP3")
    whole = (tmp_path / "ok.mp3").read_bytes()
    holed = whole[:len(whole) // 2] + bytes(500) + whole[len(whole) // 2 + 500:]
    up = adapter.answer_bytes(adapter.net, holed, "audio/mpeg")
    assert up["warnings"] == ["the upload: the MP3 decoder skipped damaged frames (read as far as it decodes, gaps "
                              "left out): download or export the file again"]
    assert "warnings" not in adapter.answer_bytes(adapter.net, whole, "audio/mpeg")


def test_an_upload_whose_channels_cancel_out_or_of_zeros_only_is_answered_with_the_warning_transcribe_gives(ctc,
                                                                                                           tmp_path):
    """A stereo upload with one channel phase-inverted was answered as silence, and a silent one (upload
    or JSON) as if it held speech, without a word."""
    adapter = adapter_for(ctc)
    wave = tone_clip("ab cd", seconds=1.0)
    sf.write(tmp_path / "mono.wav", wave, RATE, subtype="FLOAT")
    sf.write(tmp_path / "inverted.wav", np.stack([wave, -wave], 1), RATE, subtype="FLOAT")
    sf.write(tmp_path / "silent.wav", np.zeros(RATE), RATE)
    mono = adapter.answer_bytes(adapter.net, (tmp_path / "mono.wav").read_bytes(), "audio/wav")
    up = adapter.answer_bytes(adapter.net, (tmp_path / "inverted.wav").read_bytes(), "audio/wav")
    assert up == {**mono, "warnings": ["the upload: its 2 channels cancel out when mixed down to mono (one is another "
                                       "phase-inverted): read channel 1 alone; check the recording's wiring"]}
    silent = "holds only silence (every sample is 0): nothing in it to recognise; check the recording"
    up = adapter.answer_bytes(adapter.net, (tmp_path / "silent.wav").read_bytes(), "audio/wav")
    assert up["warnings"] == [f"the upload: {silent}"]
    answers = adapter.answer(adapter.net, audio=[[0.0] * RATE, wave.tolist()])["predictions"]
    assert answers[0]["warnings"] == [f"recording 0: {silent}"] and "warnings" not in answers[1]


def test_a_nearly_silent_off_centre_or_clipped_recording_is_answered_with_the_warning_transcribe_gives(ctc, tmp_path):
    """JSON samples at -120 dBFS, a click in silence, a DC offset or a clipped recording were answered
    as speech without a word (only zeros were told), uploads too; now each with transcribe's note."""
    from lstmkit.tasks.speech.audio_files import CLICK, CLIPPED, DC_OFFSET, NEARLY_SILENT
    adapter = adapter_for(ctc)
    wave = tone_clip("ab cd", seconds=1.0)
    clips = [1e-6 * wave, np.eye(1, RATE, 300, dtype=np.float32)[0], 0.3 * wave + 0.2, np.clip(4 * wave, -1, 1), wave]
    answers = adapter.answer(adapter.net, audio=[c.tolist() for c in clips])["predictions"]
    told = [NEARLY_SILENT, CLICK, DC_OFFSET, CLIPPED]
    assert [a.get("warnings") for a in answers] == [[f"recording {i}: {t}"] for i, t in enumerate(told)] + [None]
    sf.write(tmp_path / "dc.wav", clips[2], RATE, subtype="PCM_16")
    up = adapter.answer_bytes(adapter.net, (tmp_path / "dc.wav").read_bytes(), "audio/wav")
    assert up["warnings"] == [f"the upload: {DC_OFFSET}"]


@pytest.mark.parametrize("rate", [7919, 11127, 22254, 44100])
def test_a_rate_with_no_exact_ratio_is_resampled_as_the_cli_resamples_it(ctc, tmp_path, rate):
    """7,919 Hz or a Mac's 22,254 Hz to the model's 8 kHz was a 422 'cannot be resampled' (upload and
    JSON alike), where transcribe resamples it: both now go through the CLI's resampling."""
    from lstmkit.tasks.speech.audio import upload_samples
    adapter = adapter_for(ctc)
    wave = tone_clip("ab", seconds=0.5, rate=rate)
    path = tmp_path / "clip.wav"
    sf.write(path, wave, rate, subtype="FLOAT")
    got = upload_samples(path.read_bytes(), "audio/wav", RATE, 60)[0]
    assert np.array_equal(got, read_audio(path, RATE)[0]) and abs(got.size - RATE // 2) <= 1
    expect = adapter.est.transcribe([str(path)], beam=1, lm=False)[0]
    assert adapter.answer_bytes(adapter.net, path.read_bytes(), "audio/wav") == {"transcript": expect}
    assert adapter.answer(adapter.net, audio=[wave.tolist()], sample_rate=rate, beam=1)["predictions"] == [
        {"transcript": expect}]


def test_a_real_server_answers_flac_ogg_and_odd_rates_as_transcribe_and_names_a_damaged_file(ctc, tmp_path):
    from lstmkit.serve import Client
    from serve_helpers import running_server
    files = {"clip.flac": (RATE, "FLAC"), "clip.ogg": (RATE, "OGG"), "clip.aiff": (RATE, "AIFF"),
             "mac.wav": (22254, "WAV")}
    for name, (rate, kind) in files.items():
        sf.write(tmp_path / name, tone_clip("ab", seconds=0.5, rate=rate), rate, format=kind)
    whole = (tmp_path / "clip.flac").read_bytes()
    (tmp_path / "cut.flac").write_bytes(whole[:len(whole) // 2])
    expect = adapter_for(ctc).est.transcribe([str(tmp_path / n) for n in files])
    with running_server("--run", ctc, "--engine", "torch") as (_, port):
        client = Client(f"http://127.0.0.1:{port}")
        got = [client.upload(tmp_path / n)["transcript"] for n in files]        # sent as audio/wav, all of them
        assert got == expect
        assert client.upload(tmp_path / "clip.ogg", content_type="audio/ogg")["transcript"] == expect[1]
        with pytest.raises(LstmkitError, match=r"422: body: the upload is damaged or cut short \("):
            client.upload(tmp_path / "cut.flac", content_type="audio/flac")


def test_audio_beyond_full_scale_is_answered_as_it_is_with_a_warning(ctc):
    """A float WAV (or JSON samples) reaching 3 is transcribed as it is, as training reads it, and
    the answer carries the warning a training run gives (peak, dB, fix); audio in range has none."""
    adapter = adapter_for(ctc)
    wave = sf.read(_wavs(ctc, 1)[0], dtype="float32")[0]
    loud = 3 * wave / np.abs(wave).max()
    up = adapter.answer_bytes(adapter.net, _wav_bytes(loud, subtype="FLOAT"), "audio/wav")
    assert up["transcript"] == adapter.answer(adapter.net, audio=[loud.tolist()])["predictions"][0]["transcript"]
    assert up["warnings"] == ["the upload: float samples reach 3, beyond the [-1, 1] of audio: read as they are "
                              "(not clipped), 10 dB above a full-scale recording; normalise it to peak 1 (divide by "
                              "the peak, or 'sox IN OUT.wav gain -n')"]
    assert "warnings" not in adapter.answer_bytes(adapter.net, _wav_bytes(loud / 3, subtype="FLOAT"), "audio/wav")
    assert "warnings" not in adapter.answer_bytes(adapter.net, _wav_bytes(wave), "audio/wav")
    out = adapter.answer(adapter.net, audio=[wave.tolist(), loud.tolist()])["predictions"]
    assert "warnings" not in out[0] and re.match(r"recording 1: float samples reach 3, .* 10 dB", out[1]["warnings"][0])


@pytest.mark.parametrize("body, content_type, needle", [
    (b"", "audio/wav", "upload is empty"),
    (b"ID3\x04 an mp3 file, say" * 4, "audio/wav", "the upload is unreadable or corrupt (format not recognised)"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00", "audio/wav", "the upload is unreadable or corrupt"),
    (b'{"audio": [[0.1, 0.2]]}', "audio/wav", "the upload is not an audio file (format not recognised)"),
    ("short", "audio/wav", "too short"),
    ("silent", "audio/wav", "the upload holds no audio samples"),
    ("truncated", "audio/wav", "the upload is truncated: its header promises 0.50 s, the file holds 0.25 s"),
    ("long", "audio/wav", "limit is 2 s"),
    ("ok", "text/plain", "Content-Type 'text/plain' is not an audio upload"),
    ("one_sample", "audio/wav", "too short: 0.12 ms (1 sample); the model needs at least"),      # was '(0 ms)'
    ("cut_at_header", "audio/wav", "truncated: its header promises 0.50 s of audio, the file holds none"),
    ("unfinished", "audio/wav", "was never finished: its header says it holds no audio, yet the file is 8,044"),
    ("cut_flac", "audio/flac", "the upload is damaged or cut short ("),   # the CLI's words; libsndfile's (they vary) follow
    ("huge_rate", "audio/wav", "the upload says its sample rate is 2,000,000,000 Hz, above the 768,000 Hz"),
])
def test_bad_wav_upload_is_a_bad_request_naming_problem_and_fix(ctc, body, content_type, needle):
    adapter = adapter_for(ctc)
    adapter.max_seconds = 2.0
    body = {"short": lambda: _wav_bytes(np.zeros(200, np.float32)),
            "silent": lambda: _wav_bytes(np.zeros(0, np.float32)),
            "truncated": lambda: _wav_bytes(np.zeros(RATE // 2, np.float32))[: 44 + RATE // 2],   # read silently before
            "long": lambda: _wav_bytes(np.zeros(3 * RATE, np.float32)),
            "ok": lambda: _wav_bytes(tone_clip("ab")),
            "one_sample": lambda: _wav_bytes(np.full(1, 0.1, np.float32)),
            "cut_at_header": lambda: _wav_bytes(np.zeros(RATE // 2, np.float32))[:44],
            "unfinished": lambda: unfinished_wav(_wav_bytes(tone_clip("ab", seconds=0.5))),
            "cut_flac": lambda: _wav_bytes(np.tile(tone_clip("ab"), 8), subtype="PCM_16", format="FLAC")[:3000],
            "huge_rate": lambda: _rate(_wav_bytes(tone_clip("ab")), 2_000_000_000)}.get(body, lambda: body)()
    with pytest.raises(BadRequest, match=re.escape(needle)) as e:
        adapter.answer_bytes(adapter.net, body, content_type)
    assert e.value.hint and e.value.loc == [] and "BytesIO" not in str(e.value)


def test_json_request_errors_name_the_field(ctc):
    adapter = adapter_for(ctc)
    good = tone_clip("ab").tolist()
    for request, loc, needle in [({"audio": []}, ["audio"], "at least one recording"),
                                 ({"audio": [good, []]}, ["audio", 1], "empty"),
                                 ({"audio": [good[:100]]}, ["audio", 0], "too short"),
                                 ({"audio": [good], "sample_rate": 500}, ["sample_rate"], "cannot be resampled")]:
        with pytest.raises(BadRequest, match=needle) as e:
            adapter.answer(adapter.net, **request)
        assert e.value.loc == loc


@pytest.mark.parametrize("beam", [1, 4])
def test_a_net_whose_output_is_nan_is_one_error_in_the_answer(ctc, beam):
    """A network gone wrong in memory: beam 4 was a ValueError (a 500 from the service), beam 1 a wrong text."""
    import copy
    adapter = adapter_for(ctc)
    net = copy.deepcopy(adapter.net)
    with torch.no_grad():
        next(net.parameters()).view(-1)[0] = float("nan")
    with pytest.raises(BadRequest, match=r"^the acoustic model's log-probabilities are not finite") as e:
        adapter.answer(net, audio=[tone_clip("ab").tolist()], beam=beam)
    assert e.value.loc == ["audio", 0]


def test_the_service_names_the_recording_whose_log_probabilities_are_not_finite(ctc, monkeypatch):
    """The 422 said loc ["body"]: the decoder's refusal named no field, unlike every other bad recording."""
    import lstmkit.deploy.onnx_engine as onnx_mod
    from lstmkit.deploy.server import create_app
    short, long = tone_clip("ab"), tone_clip("ab cd ab")
    frames = adapter_for(ctc).features(long).shape[0]
    real = onnx_mod.engine_net

    def nan_for_the_long_one(*args):
        net = real(*args)

        def run(x, lengths):
            y = net(x, lengths).clone()
            y[lengths >= frames] = float("nan")
            return y
        return run
    monkeypatch.setattr(onnx_mod, "engine_net", nan_for_the_long_one)
    client = Client(create_app(ctc, engine="torch"))
    try:
        for beam in (1, 4):
            status, body = client.run(client.arequest("POST", "/predict", json.dumps(
                {"audio": [short.tolist(), long.tolist()], "beam": beam}).encode()))
            detail = json.loads(body)["detail"]
            assert status == 422 and detail[0]["loc"] == ["body", "audio", 1], (status, detail)
            assert detail[0]["msg"].startswith("the acoustic model's log-probabilities are not finite (nan at frame 0")
        status, body = client.run(client.arequest("POST", "/predict", json.dumps({"audio": [short.tolist()]}).encode()))
        assert status == 200 and "transcript" in json.loads(body)["predictions"][0]
    finally:
        client.close()


def test_the_service_answers_json_audio(bi):
    from lstmkit.deploy.server import create_app
    client = Client(create_app(bi))
    try:
        wave = tone_clip("ab cd")
        status, body = client.run(client.arequest("POST", "/predict", json.dumps(
            {"audio": [wave.tolist()], "sample_rate": RATE}).encode()))
        answer = json.loads(body)
        assert status == 200 and answer["engine"] == "onnx", answer
        adapter = adapter_for(bi)
        assert answer["predictions"] == adapter.answer(OnnxNet(load_runner(bi)), audio=[wave.tolist()])["predictions"]
        status, body = client.run(client.arequest("POST", "/predict", json.dumps({"audio": [[0.0] * 50]}).encode()))
        detail = json.loads(body)["detail"][0]
        assert status == 422 and detail["loc"] == ["body", "audio", 0] and "too short" in detail["msg"]
        status, body = client.run(client.arequest("POST", "/predict", json.dumps(     # read by hand: the fix too
            {"audio": [wave.tolist()], "beam": 65}).encode()))
        detail = json.loads(body)["detail"][0]
        assert status == 422 and detail["loc"] == ["body", "beam"] and detail["msg"].endswith(" — send a beam from 1 to 64")
        status, body = client.run(client.arequest("GET", "/model"))
        assert json.loads(body)["mode"] == "ctc"
    finally:
        client.close()


def test_a_classifier_services_request_has_no_beam_and_refuses_one_by_name(digits):
    # a spoken-word classifier's service took {"beam": 7} and answered without it (200), while its
    # transcribe(beam=...) refuses a beam, and /docs offered a beam to it
    from lstmkit.deploy.server import create_app
    client = Client(create_app(digits))
    try:
        wave = tone_clip("ab").tolist()
        status, body = client.run(client.arequest("POST", "/predict", json.dumps({"audio": [wave], "beam": 7}).encode()))
        detail = json.loads(body)["detail"][0]
        assert status == 422 and detail["loc"] == ["body", "beam"], body
        assert detail["msg"].endswith("leave beam out; this request takes: audio, sample_rate")
        status, body = client.run(client.arequest("POST", "/predict", json.dumps({"audio": [wave]}).encode()))
        assert status == 200 and "label" in json.loads(body)["predictions"][0]
        status, body = client.run(client.arequest("GET", "/openapi.json"))
        request = next(v for k, v in json.loads(body)["components"]["schemas"].items() if k.endswith("Request"))
        assert set(request["properties"]) == {"audio", "sample_rate"}
    finally:
        client.close()


# -- LM fusion -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lm_run(tmp_path_factory, ctc):
    from lstmkit.tasks.lm import LanguageModel
    lines = [ln.split(",", 1)[1] for ln in (ctc.parent.parent / "manifest.csv").read_text().splitlines()[1:]]
    lm = LanguageModel(level="char", hidden_size=16, embed_dim=8, num_layers=1, max_epochs=3, lr=0.01, batch_size=16,
                       progress="off", tensorboard=False, doctor=False)
    return lm.fit(lines * 3, out=tmp_path_factory.mktemp("lm")).run_dir_


def test_lm_fusion_over_onnx_output_equals_the_estimator(ctc, lm_run):
    adapter, onnx = adapter_for(ctc), OnnxNet(load_runner(ctc))
    wavs = _wavs(ctc, 5)
    feats = adapter.est._features(wavs)[0]
    adapter.lm_engine = "torch"
    got = [a["transcript"] for a in adapter.predict(onnx, feats, beam=4, lm=lm_run)]
    assert got == adapter.est.transcribe(wavs, beam=4, lm=lm_run)
    with pytest.raises(LstmkitError, match="is a 'speech' run, not a 'lm' run"):
        lm_scorer(ctc)


def test_lm_scorer_engine_is_reached_through_the_registry(ctc, lm_run):
    """With the lm room's deploy scorer the ONNX engine fuses to the same transcripts; without it
    the ONNX engine is refused in one line and torch answers."""
    adapter, wavs = adapter_for(ctc), _wavs(ctc, 4)
    feats = adapter.est._features(wavs)[0]
    expect = adapter.est.transcribe(wavs, beam=4, lm=lm_run)
    with pytest.raises(LstmkitError, match="unknown language-model engine"):
        lm_scorer(lm_run, "tpu")
    try:
        has_scorer = hasattr(adapter_class("lm"), "scorer")
    except LstmkitError:
        has_scorer = False
    adapter.lm_engine = "onnx"
    if has_scorer:
        from lstmkit.deploy.onnx import export_onnx as export_lm
        export_lm(lm_run)
        assert [a["transcript"] for a in adapter.predict(adapter.net, feats, beam=4, lm=lm_run)] == expect
    else:
        with pytest.raises(LstmkitError, match="cannot score with a language model's ONNX graph"):
            adapter.predict(adapter.net, feats, beam=4, lm=lm_run)
    adapter.lm_engine = "auto"
    assert [a["transcript"] for a in adapter.predict(adapter.net, feats, beam=4, lm=lm_run)] == expect


def test_a_service_fuses_the_runs_language_model_where_training_found_it_and_refuses_to_start_without_it(
        ctc, lm_run, tmp_path, monkeypatch):
    """The service read the run's --lm as typed (a path relative to the folder training ran in), where
    transcribe reads where training found it: started elsewhere, every request was refused. A
    language model moved away since refuses the service at its start, naming where to put it back:
    it started, and each request was refused with a fix ('lm=False') no client could apply."""
    import json
    import shutil

    from lstmkit.deploy.served import ServedModel
    run, lm = tmp_path / "ctc", tmp_path / "lm"
    shutil.copytree(ctc, run)
    shutil.copytree(lm_run, lm)
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["config"]["lm"] = "runs/lm-typed"                      # as typed, relative to where training ran
    meta.setdefault("data", {})["lm_run"] = str(lm)             # where training found it
    (run / "lstmkit.json").write_text(json.dumps(meta))
    monkeypatch.chdir(tmp_path)
    served = ServedModel("ctc", run, "torch", {})
    wavs = _wavs(ctc, 2)
    feats = served.adapter.est._features(wavs)[0]
    expect = served.adapter.est.transcribe(wavs, beam=4, lm=str(lm))
    assert [a["transcript"] for a in served.adapter.predict(served.net, feats, beam=4)] == expect
    shutil.move(lm, tmp_path / "moved")
    with pytest.raises(LstmkitError, match=r"the language model this run was trained with cannot be loaded.*put the "
                                           r"language model run back at .*lm and start the service again"):
        ServedModel("ctc", run, "torch", {})


# -- streaming -------------------------------------------------------------------------------------
def _stream_through(stream, wave, size, sid="s"):
    partials = []
    for k in range(0, len(wave), size):
        partials.append(stream.step(wave[k:k + size].tolist(), sid)["partial"])
    return partials


@pytest.mark.parametrize("engine, size", [("torch", 333), ("onnx", 517), ("torch", 37)])
def test_streamed_chunks_end_in_the_whole_utterance_greedy_transcript(ctc, engine, size):
    adapter = adapter_for(ctc)
    stream = adapter.open_stream(engine, ctc)
    assert stream.mode == "state" and stream.engine == engine and len(stream.fingerprint) == 16
    wavs = _wavs(ctc, 4)
    expect = adapter.est.transcribe(wavs, beam=1, lm=False)
    assert sum(map(len, expect)) > 4
    for sid, (path, text) in enumerate(zip(wavs, expect)):
        wave = sf.read(path, dtype="float32")[0]
        partials = _stream_through(stream, wave, size, str(sid))     # chunk sizes off the 80-sample hop
        assert partials[-1] == text
        assert all(text.startswith(p) for p in partials)                # left to right: never revised
        assert stream.steps(str(sid)) == len(partials)


def test_a_streams_transcript_at_the_end_is_the_runs_beam_over_the_whole_utterance(ctc):
    """end() answered the greedy path the partials follow, where transcribe and the service decode with the
    run's beam (4 by default): a frame path that is blank at every frame is greedy's '', while the symbol it is
    0.4 likely at each is the likelier text. It is now the beam over every log-probability heard, a saved
    state's too."""
    import dataclasses
    adapter = adapter_for(ctc)
    adapter.config = dataclasses.replace(adapter.config, beam=4)          # this adapter's: a run trained so
    stream = adapter.open_stream("torch", ctc)
    width = len(adapter.est.symbols_)
    # a letter: the first symbol is the space, whose text alone is '' as greedy's is (the test could not fail)
    letter = 1 + next(k for k, c in enumerate(adapter.est.symbols_.chars) if c.strip())

    def unsure(x, state):                 # every output frame: blank 0.6, a letter 0.4
        frames = (x.shape[1] - stream._field) // stream._stride + 1
        row = np.full(width, 1e-6)
        row[0], row[letter] = 0.6, 0.4
        return np.log(np.tile(row / row.sum(), (1, frames, 1))).astype(np.float32), state
    stream._run = unsure
    wave = sf.read(_wavs(ctc, 1)[0], dtype="float32")[0]
    partials = _stream_through(stream, wave[: wave.size // 2], 400)
    saved = json.loads(json.dumps(stream.state_dict(["s"])))
    other = adapter.open_stream("torch", ctc)
    other._run = unsure
    other.load_state_dict(saved)
    _stream_through(other, wave[wave.size // 2:], 400)
    heard = np.concatenate([np.asarray(saved["streams"]["s"]["log_probs"], np.float32),
                            np.asarray(other.state_dict()["streams"]["s"]["log_probs"], np.float32)[
                                len(saved["streams"]["s"]["log_probs"]):]])
    want = adapter.est.symbols_.decode(decode(heard, 4, None))
    assert partials[-1] == "" and set(want) == {adapter.est.symbols_.chars[letter - 1]}   # greedy: nothing; the beam: the letter
    assert other.end("s")["transcript"] == want


def test_a_speech_streams_repr_names_its_engine_and_streams(ctc):
    stream = adapter_for(ctc).open_stream("torch", ctc, max_streams=2)     # was <... SpeechStream object at 0x...>
    assert repr(stream) == "SpeechStream(engine='torch', streams=0, max_streams=2)"
    stream.step([0.0] * 400, "s")
    assert repr(stream) == "SpeechStream(engine='torch', streams=1, max_streams=2)"
    stream.end("s")                                                   # at the model's rate: its slot is free again
    assert repr(stream) == "SpeechStream(engine='torch', streams=0, max_streams=2)"


def test_a_bad_chunk_leaves_the_stream_as_it_was_and_state_round_trips(ctc):
    adapter = adapter_for(ctc)
    wave = sf.read(_wavs(ctc, 1)[0], dtype="float32")[0]
    whole = adapter.open_stream("torch", ctc)
    final = _stream_through(whole, wave, 250)[-1]
    stream = adapter.open_stream("torch", ctc)
    half = len(wave) // 2
    _stream_through(stream, wave[:half], 250)
    steps = stream.steps("s")
    for bad, needle in [("0.1", "list of numbers"), ([0.1, True], "list of numbers"), ([], "empty"),
                        ({"audio": [0.1], "rate": 8000}, "takes only 'audio', got \\['audio', 'rate'\\]"), ([1e39], "finite float32"),
                        ([0.0] * (11 * RATE), "over 10 s")]:
        with pytest.raises(LstmkitError, match=needle):
            stream.step(bad, "s")
    assert stream.steps("s") == steps
    assert stream.step([0.0] * (10 * RATE), "ten")["seconds"] == 10.0  # 10 s is not over 10 s
    saved = json.loads(json.dumps(stream.state_dict(["s"])))          # JSON-able
    assert stream.state_dict("s") == stream.state_dict(["s"])         # one id alone: that stream
    assert stream.state_dict(["t"])["streams"] == {"t": {"steps": 0}}  # one that heard nothing: saved as such
    again = adapter.open_stream("onnx", ctc)                         # same weights, other engine
    again.load_state_dict(saved)
    rest = wave[(half // 250) * 250 + (250 if half % 250 else 0):]
    assert _stream_through(again, rest, 400)[-1] == final
    assert _stream_through(stream, rest, 400)[-1] == final
    stream.reset("s")
    assert stream.steps("s") == 0 and stream.step({"audio": [0.0] * 10}, "s")["partial"] == ""
    with pytest.raises(LstmkitError, match="other weights"):
        again.load_state_dict({**saved, "fingerprint": "0" * 16})
    with pytest.raises(LstmkitError, match="not a speech stream.s state"):     # was "other weights"
        again.load_state_dict({"streams": saved["streams"]})
    broken = json.loads(json.dumps(saved))
    broken["streams"]["s"]["frames"] = [[0.0] * 5]
    with pytest.raises(LstmkitError, match="malformed"):
        again.load_state_dict(broken)


def test_an_end_that_fails_leaves_a_resampled_stream_as_it_was(ctc):
    """end() of a stream at another rate than the model's heard the audio its resampler held before decoding the
    transcript: a decode cut by Ctrl-C (a long beam with a language model) left that audio heard while the
    resampler still held it, so the end tried again heard it twice."""
    adapter = adapter_for(ctc)
    wave = sf.read(_wavs(ctc, 1)[0], dtype="float32")[0][::2]            # at half the model's rate

    def begun():
        stream = adapter.open_stream("torch", ctc)
        stream.start(RATE // 2, "s")
        _stream_through(stream, wave, 300)
        return stream

    want, stream = begun().end("s"), begun()
    before = json.dumps(stream.state_dict())

    def cut(live):
        raise KeyboardInterrupt
    stream._final_ids = cut
    with pytest.raises(KeyboardInterrupt):
        stream.end("s")
    assert json.dumps(stream.state_dict()) == before
    del stream._final_ids
    assert stream.end("s") == want


def test_a_stream_state_taken_over_the_websocket_restores_on_a_new_connection(ctc):
    """A client that lost its connection mid-utterance could not go on: the state {"op": "state"} gave
    was refused by {"op": "restore"} ("...['loud'] is a boolean, not a number"). Now it restores, the
    utterance ends in the transcript of one unbroken stream, and a tampered state is still refused."""
    from lstmkit.serve import Client
    from serve_helpers import running_server
    wave = sf.read(_wavs(ctc, 1)[0], dtype="float32")[0]
    want = _stream_through(adapter_for(ctc).open_stream("torch", ctc), wave, 400)[-1]
    half = (len(wave) // 800) * 400

    def sent(stream, part):                                   # the Client's stream takes messages
        return [stream.send(part[k:k + 400].tolist())["partial"] for k in range(0, len(part), 400)]
    with running_server("--run", ctc, "--engine", "torch") as (_, port):
        client = Client(f"http://127.0.0.1:{port}")
        with client.stream() as first:
            sent(first, wave[:half])
            saved = first.state()
        assert saved["streams"]["this"]["loud"] is False
        with client.stream() as again:
            assert again.restore(saved) == half // 400
            assert sent(again, wave[half:])[-1] == want
            for key, value in [("loud", "no"), ("steps", 3.0), ("last", True), ("samples", [[0.0]])]:
                tampered = json.loads(json.dumps(saved))
                tampered["streams"]["this"][key] = value
                with pytest.raises(LstmkitError, match="a stream state is malformed"):
                    again.restore(tampered)
            assert again.send([0.0] * 10)["step"] == len(range(0, len(wave), 400)) + 1    # as it was
            assert again.end()["seconds"] == round((len(wave) + 10) / RATE, 4)          # the Client's speech ops
            assert again.start(16000) == {"rate": 16000, "model_rate": RATE}


def test_a_speech_stream_saves_and_restores_a_file_as_other_streams_do(ctc, tmp_path):
    """save() / restore() of a forecaster's or language model's stream were an AttributeError here."""
    wave = sf.read(_wavs(ctc, 1)[0], dtype="float32")[0]
    adapter = adapter_for(ctc)
    want = _stream_through(adapter.open_stream("torch", ctc), wave, 400)[-1]
    first = adapter.open_stream("torch", ctc)
    _stream_through(first, wave[:1600], 400)
    assert first.save(tmp_path / "state.json") == tmp_path / "state.json"
    again = adapter.open_stream("onnx", ctc)
    again.restore(tmp_path / "state.json")
    assert again.steps("s") == 4 and _stream_through(again, wave[1600:], 400)[-1] == want
    (tmp_path / "garbage.json").write_text("{not json")
    before = again.state_dict()
    for call, words in ((lambda: first.save(tmp_path / "state.safetensors"), "unknown state file type '.safetensors'"),
                        (lambda: again.restore(tmp_path / "missing.json"), "not found"),
                        (lambda: again.restore(tmp_path / "garbage.json"), r"not a readable stream state \(JSONDecode")):
        with pytest.raises(LstmkitError, match=words):
            call()
    assert again.state_dict() == before and not (tmp_path / "state.safetensors").exists()


def test_a_chunk_may_be_a_float_array_and_other_arrays_say_how_to_convert(ctc):
    """In Python a chunk of samples is an array: every one, even float32, was 'must be a list of numbers'."""
    adapter = adapter_for(ctc)
    wave = sf.read(_wavs(ctc, 1)[0], dtype="float32")[0]
    as_list, as_array = adapter.open_stream("torch", ctc), adapter.open_stream("torch", ctc)
    for k in range(0, len(wave), 400):
        assert as_array.step(wave[k:k + 400]) == as_list.step(wave[k:k + 400].tolist())
    for bad, needle in [((wave[:400] * 32767).astype(np.int16), "got int16 — scale int16 PCM .* x / 32768"),
                        (np.stack([wave[:400]] * 2), r"one channel of samples, got an array of shape \(2, 400\)"),
                        (wave[:0], "the chunk is empty"), (np.full(400, np.nan, np.float32), "finite float32")]:
        with pytest.raises(LstmkitError, match=needle):
            as_array.step(bad)


def test_a_chunk_as_python_holds_samples_steps_as_its_array(ctc):
    """list(x) of an array (numpy's scalars), a torch tensor and a pandas Series of samples were 'a
    chunk must be a list of numbers'; they step as the array does, and integer items are PCM counts,
    refused as an integer array is (not read as floats 32767 times too loud)."""
    import pandas as pd
    wave = sf.read(_wavs(ctc, 1)[0], dtype="float32")[0]
    adapter = adapter_for(ctc)
    want, streams = adapter.open_stream("torch", ctc), [adapter.open_stream("torch", ctc) for _ in range(3)]
    for k in range(0, 1600, 400):
        chunk = wave[k:k + 400]
        answer = want.step(chunk)
        for stream, given in zip(streams, (list(chunk), torch.from_numpy(chunk.copy()), pd.Series(chunk))):
            assert stream.step(given) == answer
    with pytest.raises(LstmkitError, match="got int16 — scale int16 PCM"):
        streams[0].step(list((wave[:400] * 32767).astype(np.int16)))


def test_a_stream_warns_once_of_samples_beyond_full_scale_in_python_and_over_the_websocket(ctc):
    """A stream read samples beyond [-1, 1] without a word, where the HTTP service's answer warns;
    now the first loud chunk of each stream carries that warning (the same words), once."""
    from lstmkit.deploy.server import create_app
    wave = sf.read(_wavs(ctc, 1)[0], dtype="float32")[0][:1600]
    loud = (3 * wave / np.abs(wave[:400]).max()).tolist()        # every chunk beyond 1, the first reaching 3
    assert min(np.abs(loud[k:k + 400]).max() for k in range(0, 1600, 400)) > 1
    stream = adapter_for(ctc).open_stream("torch", ctc)
    answers = [stream.step(chunk, "a") for chunk in (wave[:400].tolist(), loud[:400], loud[400:800])]
    assert "warnings" not in answers[0] and "warnings" not in answers[2]
    assert answers[1]["warnings"] == ["stream 'a' chunk 2: float samples reach 3, beyond the [-1, 1] of audio: read "
                                      "as they are (not clipped), 10 dB above a full-scale recording; normalise it "
                                      "to peak 1 (divide by the peak, or 'sox IN OUT.wav gain -n')"]
    assert "warnings" in stream.step(loud[:400], "b")                     # each stream once
    full = wave[:400] / np.abs(wave[:400]).max()                           # peaks at 1 exactly: full scale
    assert np.abs(full).max() == 1 and "warnings" not in stream.step(full.tolist(), "c")
    assert "warnings" in stream.step(loud[:400], "c")                     # and the first beyond it still warns
    again = adapter_for(ctc).open_stream("torch", ctc)
    again.load_state_dict(json.loads(json.dumps(stream.state_dict(["a"]))))
    assert "warnings" not in again.step(loud[800:1200], "a")             # warned before it was saved
    client = Client(create_app(ctc, engine="torch"))
    ws = client.websocket()
    try:
        ws.send_text(json.dumps(wave[:400].tolist()))
        assert "warnings" not in ws.receive_json()
        ws.send_text(json.dumps({"audio": loud[:400]}))
        answer = ws.receive_json()
        assert answer["step"] == 2 and answer["warnings"][0].startswith("stream ") and "reach 3," in answer["warnings"][0]
        ws.send_text(json.dumps(loud[400:800]))
        assert "warnings" not in ws.receive_json()
    finally:
        ws.close()
        client.close()


def test_each_chunk_runs_the_encoder_over_every_output_frame_the_audio_so_far_makes(ctc):
    """n samples make F = 1 + (n - n_fft) // hop feature frames (none under one FFT), and the conv
    subsampling makes (F - field) // stride + 1 output frames of them once F reaches its receptive
    field (none before): after each chunk the stream has heard exactly those, the last one too."""
    adapter = adapter_for(ctc)
    stream = adapter.open_stream("torch", ctc)
    spec, field, stride = adapter.spec, adapter.min_frames, 2 ** adapter.config.subsample
    wave = sf.read(_wavs(ctc, 1)[0], dtype="float32")[0][:3000]
    heard = []
    for k in range(0, len(wave), 37):
        stream.step(wave[k:k + 37].tolist(), "s")
        n = min(k + 37, len(wave))
        frames = 0 if n < spec.n_fft else 1 + (n - spec.n_fft) // spec.hop
        heard.append((len(stream.state_dict(["s"])["streams"]["s"]["log_probs"]),
                      0 if frames < field else (frames - field) // stride + 1))
    assert heard[-1][1] > 3 and all(got == want for got, want in heard)


def test_a_none_id_is_the_default_stream_and_reset_none_forgets_every_stream(ctc):
    """``step(chunk, id=None)`` opened a stream keyed None beside the default one; ``reset(None)``
    forgets every stream, as a forecaster's or a language model's stream does."""
    wave = sf.read(_wavs(ctc, 1)[0], dtype="float32")[0]
    stream, whole = adapter_for(ctc).open_stream("torch", ctc), adapter_for(ctc).open_stream("torch", ctc)
    for k in range(0, len(wave), 400):
        assert stream.step(wave[k:k + 400], None if k % 800 else "default") == whole.step(wave[k:k + 400])
    assert list(stream.state_dict()["streams"]) == ["default"] and stream.steps(None) == whole.steps()
    stream.step(wave[:400], "b")
    stream.reset(None)
    assert stream.state_dict()["streams"] == {}


@pytest.mark.parametrize("which, needle", [("bi", "both directions"), ("digits", "once per whole clip")])
def test_models_that_cannot_stream_are_refused_with_the_reason(which, needle, request):
    run = request.getfixturevalue(which)
    adapter = adapter_for(run)
    assert needle in adapter.state_refusal() and not adapter.metadata()["streams"] and not adapter.streams
    with pytest.raises(LstmkitError, match=f"cannot stream: .*{needle}"):
        adapter.open_stream("auto", run)


@pytest.mark.parametrize("which", ["bi", "digits"])
def test_a_python_streams_refusal_names_predict_and_the_services_its_route(which, request):
    """``stream()`` in Python said 'transcribe whole recordings with POST /predict instead': the service's
    route, to a caller holding the model; the service's own refusal keeps it."""
    run = request.getfixturevalue(which)
    with pytest.raises(LstmkitError, match="cannot stream") as e:
        SpeechRecognizer.load(run).stream()
    assert e.value.hint == "pass whole recordings to predict(files) instead"
    with pytest.raises(LstmkitError, match="cannot stream") as e:
        adapter_for(run).open_stream("auto", run)
    assert "POST /predict" in e.value.hint


@pytest.mark.parametrize("norm", ["voiced", "utterance"])
def test_per_clip_normalisation_is_refused_for_streaming(ctc, norm):
    """Per-clip statistics (over its voiced frames, the default, or all of them) need the whole clip
    before the first frame: a stream's answers would change as it grew."""
    adapter = adapter_for(ctc)
    adapter.config.normalize = norm
    assert f"(--normalize {norm}); streaming needs --normalize global or none" in adapter.state_refusal()


def test_int8_of_a_run_whose_manifest_moved_asks_for_data(tmp_path):
    """The run's manifest moved since training: the int8 check asks for --data (it said "data not
    found: .../manifest.csv — pass a manifest CSV", a path the user never passed)."""
    run = tiny_run(tmp_path / "corpus", mode="ctc", n=16, max_epochs=1)
    manifest = tmp_path / "corpus" / "manifest.csv"
    manifest.rename(tmp_path / "moved.csv")
    with pytest.raises(LstmkitError, match="cannot check an int8 model .*no recordings with transcripts"):
        export_int8(run, tmp_path / "q", batch=8, min_seconds=0.01, backends=("torch",))


def test_a_recording_over_the_limit_is_told_to_stream_only_by_a_model_that_streams(ctc, digits):
    """A classifier's (a seq2seq or bidirectional model's) answer to a recording over a minute said 'or stream
    it', which its /stream refuses."""
    for run, streams in ((ctc, True), (digits, False)):
        adapter = adapter_for(run)
        long = np.zeros(int((adapter.max_seconds + 1) * RATE), np.float32)
        for call in (lambda: adapter.answer(adapter.net, audio=[long]),
                     lambda: adapter.answer_bytes(adapter.net, _wav_bytes(long), "audio/wav")):
            with pytest.raises(BadRequest, match="the limit is 60 s") as e:
                call()
            assert e.value.hint.startswith("split it into shorter clips")
            assert ("stream it" in e.value.hint) == streams, e.value.hint


def test_int8_given_a_folder_named_by_label_says_what_export_int8_takes_instead(digits, tmp_path):
    """A folder of recordings named by label needs --label-from-name, which export int8 lacks: its fix
    said "give --data the columns the run was trained with (...: rename the file's columns)", a table's fix."""
    (tmp_path / "clips").mkdir()
    for k, wav in enumerate(_wavs(digits, 2)):
        (tmp_path / "clips" / f"a_ann_{k}.wav").write_bytes(open(wav, "rb").read())
    with pytest.raises(LstmkitError) as e:
        export_int8(digits, tmp_path / "q", data=tmp_path / "clips", batch=8, min_seconds=0.01, backends=("torch",))
    assert "no --label-from-name pattern was given" in e.value.message
    assert e.value.hint == ("put each label's recordings in a folder of that name, or pass a manifest CSV (path,text) "
                            "(export int8 has no --label-from-name); nothing was written")
    assert not (tmp_path / "q").exists()


def test_an_op_carrying_audio_is_refused_naming_it_and_a_restore_is_told_the_ops_words(ctc):
    """``{"op": "reset", "audio": [...]}`` reset the stream and dropped the audio; a restore of a malformed
    state was told "restore the object state_dict() returned", Python's words, over the WebSocket."""
    from websockets.sync.client import connect
    from serve_helpers import running_server
    wave = sf.read(_wavs(ctc, 1)[0], dtype="float32")[0]
    with running_server("--run", ctc, "--engine", "torch") as (_, port), \
            connect(f"ws://127.0.0.1:{port}/stream") as ws:
        def said(message):
            ws.send(json.dumps(message))
            return json.loads(ws.recv())
        first = said(wave[:800].tolist())
        saved = said({"op": "state"})["state"]
        err = said({"op": "reset", "audio": wave[800:1600].tolist()})
        assert err["field"] == "audio" and "takes no other field, not 'audio'" in err["error"], err
        assert said({"op": "state"})["state"] == saved                      # not reset, the audio not read
        assert said(wave[800:1600].tolist())["step"] == first["step"] + 1
        tampered = json.loads(json.dumps(saved))
        tampered["streams"]["this"]["steps"] = True
        err = said({"op": "restore", "state": tampered})
        assert err["field"] == "state" and err["error"] == ('a stream state is malformed — send {"op": "restore", '
                                                            '"state": S} with the S that {"op": "state"} returned'), err
    python = adapter_for(ctc).open_stream("torch", ctc)                   # Python is told the method
    with pytest.raises(LstmkitError, match=r"restore the object state_dict\(\) returned"):
        python.load_state_dict(tampered)


# -- streaming audio at another rate ---------------------------------------------------------------
@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """A 16 kHz CTC run (trained on the 8 kHz corpus upsampled): 8 kHz audio is upsampled for it."""
    return tiny_run(tmp_path_factory.mktemp("wide"), mode="ctc", n=24, max_epochs=4, sample_rate=16000)


def _logged(stream):
    """``stream`` whose network outputs (log-probabilities ``[T', V]`` per call) are kept in a list."""
    seen, run = [], stream._run

    def kept(x, state):
        y, state = run(x, state)
        seen.append(y[0])
        return y, state
    stream._run = kept
    return seen


@pytest.mark.parametrize("which, rate, engine", [("wide", 8000, "torch"), ("ctc", 44100, "onnx"), ("ctc", 16000, "torch")])
def test_a_stream_started_at_another_rate_ends_in_what_predict_gives_the_whole_recording(which, rate, engine, request):
    """The stream took samples at the model's rate only. A client now declares its rate first
    ({"op": "start", "rate": R}, start(R)); chunks of random sizes are resampled as they come, the resampler's
    state travels with the stream's (restored here mid-utterance into a new stream), and end() hears the
    resampler's tail: the network's outputs are those of the whole recording resampled at once, and the
    transcript is what transcribe gives the recording at its rate."""
    from lstmkit.tasks.speech.resampling import resample
    run = request.getfixturevalue(which)
    adapter = adapter_for(run)
    model_rate = adapter.spec.rate
    wave = tone_clip("ab dc", seed=3, rate=rate)                   # the client's recording, at its own rate
    want = adapter.est.transcribe([wave], sample_rate=rate, beam=1, lm=False)[0]
    whole = adapter.outputs(adapter.net, [adapter.features(resample(wave, rate, model_rate))])[0]
    first = adapter.open_stream("torch", run)
    assert first.start(rate, "x") == {"rate": rate, "model_rate": model_rate}
    logs, partials, rng, k, stream = [_logged(first)], [], np.random.default_rng(rate), 0, first
    while k < wave.size:
        size = int(rng.integers(1, 3000))
        partials.append(stream.step(wave[k:k + size], "x")["partial"])
        k += size
        if stream is first and k > wave.size // 2:                  # the state as JSON, into another stream
            saved = json.loads(json.dumps(first.state_dict(["x"])))
            assert saved["streams"]["x"]["rate"] == rate and saved["streams"]["x"]["resampler"]["held"]
            stream = adapter.open_stream(engine, run)
            stream.load_state_dict(saved)
            logs.append(_logged(stream))
    answer = stream.end("x")
    assert answer == {"transcript": want, "seconds": round(wave.size / rate, 4)}
    assert len(want) > 1 or which == "wide"             # the 16 kHz run is barely trained: its outputs tell
    assert all(want.startswith(p) for p in partials)
    np.testing.assert_allclose(np.concatenate([y for log in logs for y in log]), whole, rtol=0, atol=1e-4)
    assert stream.steps("x") == 0 and stream.state_dict()["streams"]["x"]["rate"] == rate    # the next utterance


def test_the_websocket_starts_a_stream_at_the_clients_rate_and_its_state_goes_on_over_a_new_connection(ctc):
    """{"op": "start", "rate": R} before the first chunk, {"op": "end"} after the last: what a client that
    records at 16 kHz sends an 8 kHz model; the state {"op": "state"} gave, resampler included, restores on
    a new connection; a bad start is refused naming its field, the stream as it was."""
    from lstmkit.deploy.server import create_app
    from lstmkit.tasks.speech.resampling import resample
    wave = resample(sf.read(_wavs(ctc, 1)[0], dtype="float32")[0], RATE, 16000)
    want = adapter_for(ctc).est.transcribe([wave], sample_rate=16000, beam=1, lm=False)[0]
    client = Client(create_app(ctc, engine="torch"))

    def said(ws, message):
        ws.send_text(json.dumps(message))
        return ws.receive_json()
    chunks = [wave[k:k + 777].tolist() for k in range(0, wave.size, 777)]
    try:
        ws = client.websocket()
        assert said(ws, {"op": "start", "rate": 16000.0}) == {"rate": 16000, "model_rate": RATE}
        for chunk in chunks[:len(chunks) // 2]:
            answer = said(ws, chunk)
        assert answer["seconds"] == round(len(chunks) // 2 * 777 / 16000, 4)
        err = said(ws, {"op": "start", "rate": 8000})
        assert err["field"] == "op" and "has begun at 16000 Hz" in err["error"], err
        saved = said(ws, {"op": "state"})["state"]
        ws.close()
        ws = client.websocket()
        assert said(ws, {"op": "restore", "state": saved})["step"] == len(chunks) // 2
        for chunk in chunks[len(chunks) // 2:]:
            said(ws, chunk)
        assert said(ws, {"op": "end"}) == {"transcript": want, "seconds": round(wave.size / 16000, 4)}
        for bad, field, words in [({"op": "start", "rate": 500}, "rate", "from 1000 to 768000, got 500"),
                                  ({"op": "start", "rate": True}, "rate", "got true"),
                                  ({"op": "start", "rate": "8k"}, "rate", "got '8k'"),
                                  ({"op": "start"}, "rate", 'the op "start" needs "rate"'),
                                  ({"op": "start", "rate": 8000, "audio": [0.0]}, "audio", 'takes only "rate"'),
                                  ({"op": "end", "rate": 8000}, "rate", "takes no other field"),
                                  ({"op": "stop"}, "op", "send one of: reset, state, restore, start, end")]:
            err = said(ws, bad)
            assert err["field"] == field and words in err["error"] and " — " in err["error"], (bad, err)
        assert said(ws, {"op": "state"})["state"]["streams"]["this"]["rate"] == 16000     # as the end left it
        ws.close()
    finally:
        client.close()


def test_a_state_saved_before_streams_had_a_rate_restores_and_a_broken_resampler_is_refused(ctc):
    """A state without "rate" (saved before it was kept) goes on at the model's rate, as it did; a
    resampler's state whose counts no resampler holds is a malformed state, the streams as they were."""
    adapter = adapter_for(ctc)
    wave = sf.read(_wavs(ctc, 1)[0], dtype="float32")[0]
    want = _stream_through(adapter.open_stream("torch", ctc), wave, 400)[-1]
    stream = adapter.open_stream("torch", ctc)
    _stream_through(stream, wave[:1600], 400)
    old = json.loads(json.dumps(stream.state_dict(["s"])))
    assert old["streams"]["s"].pop("rate") == RATE and "resampler" not in old["streams"]["s"]
    again = adapter.open_stream("torch", ctc)
    again.load_state_dict(old)
    assert _stream_through(again, wave[1600:], 400)[-1] == want
    stream.start(22050, "r")
    stream.step(np.zeros(3000, np.float32), "r")
    good = json.loads(json.dumps(stream.state_dict(["r"])))
    for edit in [lambda r: r["resampler"].update(done=r["resampler"]["done"] + 1),
                 lambda r: r["resampler"].update(held=r["resampler"]["held"][1:]),
                 lambda r: r["resampler"].update(start=1.5), lambda r: r.pop("resampler"),
                 lambda r: r.update(rate=RATE), lambda r: r.update(rate=10 ** 9), lambda r: r.update(rate="22050")]:
        broken = json.loads(json.dumps(good))
        edit(broken["streams"]["r"])
        with pytest.raises(LstmkitError, match="a stream state is malformed"):
            again.load_state_dict(broken)
    assert again.steps("r") == 0
    again.load_state_dict(good)
    assert again.state_dict(["r"]) == stream.state_dict(["r"])


def test_a_restored_state_whose_log_probabilities_are_no_table_of_them_is_refused(ctc):
    """The log-probabilities a state keeps for end() are a [T', V] table of numbers <= 0 (logs of
    probabilities): one positive, one NaN, or a flat list is a malformed state, as is a symbol id
    past the V symbols; the streams as they were."""
    adapter = adapter_for(ctc)
    wave = sf.read(_wavs(ctc, 1)[0], dtype="float32")[0]
    stream = adapter.open_stream("torch", ctc)
    _stream_through(stream, wave[:1600], 400)
    saved = json.loads(json.dumps(stream.state_dict(["s"])))
    table = saved["streams"]["s"]["log_probs"]
    assert len(table) and all(v <= 0 for row in table for v in row)
    again = adapter.open_stream("torch", ctc)
    again.load_state_dict(saved)                                      # as saved: restored
    assert again.steps("s") == 4
    certain = json.loads(json.dumps(saved))                           # log(1) = 0: a symbol it is sure of
    certain["streams"]["s"]["log_probs"][0] = [0.0] + [-30.0] * (len(table[0]) - 1)
    again.load_state_dict(certain)
    positive = [row[:] for row in table]
    positive[0][0] = 0.5
    nan = [row[:] for row in table]
    nan[-1][-1] = float("nan")
    for key, bad in [("log_probs", positive), ("log_probs", nan), ("log_probs", table[0]),
                     ("ids", [len(adapter.est.symbols_)]), ("last", len(adapter.est.symbols_))]:   # ids 0..V-1
        tampered = json.loads(json.dumps(saved))
        tampered["streams"]["s"][key] = bad
        fresh = adapter.open_stream("torch", ctc)
        with pytest.raises(LstmkitError, match="a stream state is malformed"):
            fresh.load_state_dict(tampered)
        assert fresh.steps("s") == 0


def test_a_streams_first_symbol_is_kept_whatever_its_id(ctc):
    """Greedy CTC merges a frame's symbol with the same symbol in the frame before; a stream's first frame
    has none before it (only the blank, id 0, is dropped), so a first frame of symbol 1 is heard."""
    adapter = adapter_for(ctc)
    symbols = adapter.est.symbols_
    assert len(symbols) > 2
    stream = adapter.open_stream("torch", ctc)

    def ones(x, state):                               # every frame symbol 1: one symbol 1 in all
        log_probs = np.full((1, 2, len(symbols)), -20.0, np.float32)
        log_probs[..., 1] = 0.0
        return log_probs, state
    stream._run = ones
    wave = sf.read(_wavs(ctc, 1)[0], dtype="float32")[0]
    _stream_through(stream, wave, 400)
    saved = stream.state_dict("s")["streams"]["s"]
    assert saved["ids"] == [1] and saved["last"] == 1 and saved["steps"] > 1


def test_a_saved_stream_that_heard_nothing_restores_and_an_old_state_without_loud_still_warns(ctc):
    """state_dict saves a stream id that heard nothing as {"steps": 0}: it restores as a fresh stream. A state
    saved before "loud" was kept has not warned of a loud chunk yet: the first one after the restore warns."""
    adapter = adapter_for(ctc)
    stream = adapter.open_stream("torch", ctc)
    _stream_through(stream, np.zeros(800, np.float32), 400)
    saved = json.loads(json.dumps(stream.state_dict(["s", "t"])))
    assert saved["streams"]["t"] == {"steps": 0}
    again = adapter.open_stream("torch", ctc)
    again.load_state_dict(saved)
    assert again.steps("t") == 0 and again.steps("s") == 2
    assert again.step([0.1] * 400, "t")["seconds"] == round(400 / RATE, 4)
    del saved["streams"]["s"]["loud"]
    old = adapter.open_stream("torch", ctc)
    old.load_state_dict(saved)
    assert "warnings" in old.step([1.5] + [0.0] * 399, "s")


def test_a_stream_may_start_at_the_lowest_and_highest_rate_and_not_beyond(ctc):
    """start(rate) takes a whole number of Hz from MIN_RATE to MAX_RATE, both ends included; a stream started
    and saved before its first chunk restores at its rate."""
    from lstmkit.tasks.speech.config import MAX_RATE, MIN_RATE
    stream = adapter_for(ctc).open_stream("torch", ctc)
    for rate in (MIN_RATE, MAX_RATE):
        assert stream.start(rate, str(rate)) == {"rate": rate, "model_rate": RATE}
    for rate in (MIN_RATE - 1, MAX_RATE + 1, RATE + 0.5):
        with pytest.raises(LstmkitError, match=f"from {MIN_RATE} to {MAX_RATE}, got {rate:g}"):
            stream.start(rate, "x")
    assert stream.steps("x") == 0
    saved = json.loads(json.dumps(stream.state_dict()))          # started, no chunk yet: saved whole, rate and all
    assert saved["streams"][str(MIN_RATE)]["steps"] == 0 and saved["streams"][str(MAX_RATE)]["rate"] == MAX_RATE
    again = adapter_for(ctc).open_stream("torch", ctc)
    again.load_state_dict(saved)
    assert again.state_dict() == saved
    for key in ("steps", "seen"):                                  # a count below 0 is no count
        tampered = json.loads(json.dumps(saved))
        tampered["streams"][str(MIN_RATE)][key] = -1
        with pytest.raises(LstmkitError, match="a stream state is malformed"):
            again.load_state_dict(tampered)


def test_a_resampled_stream_restored_mid_utterance_goes_on_as_the_unbroken_one(ctc):
    """A state saved and restored between two chunks changes nothing: the restored resampler settles each
    chunk's samples at once as the stream's own did, so both hold the same state after the same chunks."""
    from lstmkit.tasks.speech.resampling import resample
    adapter = adapter_for(ctc)
    wave = resample(sf.read(_wavs(ctc, 1)[0], dtype="float32")[0], RATE, 16000)
    unbroken, first = adapter.open_stream("torch", ctc), adapter.open_stream("torch", ctc)
    for stream in (unbroken, first):
        stream.start(16000, "s")
    half = 5 * 701
    _stream_through(first, wave[:half], 701)
    again = adapter.open_stream("torch", ctc)
    again.load_state_dict(json.loads(json.dumps(first.state_dict())))
    want = _stream_through(unbroken, wave, 701)[5:]
    assert _stream_through(again, wave[half:], 701) == want
    assert again.state_dict() == unbroken.state_dict()
