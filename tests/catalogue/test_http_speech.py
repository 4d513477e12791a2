"""Bad-input catalogue, the HTTP service of a seq2seq speech recogniser under the ONNX engine:
``POST /predict`` takes a WAV upload (``Content-Type: audio/wav``) or JSON ``{"audio": [[...]],
"sample_rate": R, "beam": N}``; each bad one is a 4xx (never a 5xx) in strict JSON whose
``detail`` names the field or the problem (tests/asgi_client.py, in-process)."""
import io
import json

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("onnxruntime")

from asgi_client import Client, strict_json  # noqa: E402
from catalogue_helpers import assert_problem_and_fix  # noqa: E402
from speech_data import unfinished_wav  # noqa: E402

MAX_INSTANCES, MAX_BODY = 3, 400_000
RATE = 8000


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from lstmkit.deploy.onnx import export_onnx
    from lstmkit.deploy.server import create_app
    from lstmkit.tasks.speech.synthetic import tiny_run
    run = tiny_run(tmp_path_factory.mktemp("http_s2s"), mode="seq2seq", n=12, max_epochs=1)
    export_onnx(run)
    c = Client(create_app(run, engine="onnx", max_body=MAX_BODY, max_instances=MAX_INSTANCES))
    yield c
    c.close()


def _clip(seconds=0.5):
    from lstmkit.tasks.speech.synthetic import tone_clip
    return tone_clip("ab", seconds=seconds)


def body(**fields) -> str:
    return json.dumps({"audio": [_clip().tolist()], **fields})


def _wav(samples, rate=RATE, subtype="PCM_16", format="WAV") -> bytes:
    import soundfile as sf
    buf = io.BytesIO()
    sf.write(buf, np.asarray(samples, np.float32), rate, format=format, subtype=subtype)
    return buf.getvalue()


def _rate(wav: bytes, rate: int) -> bytes:
    """``wav`` whose header says ``rate`` Hz (a damaged header)."""
    at = wav.find(b"fmt ") + 12
    return wav[:at] + rate.to_bytes(4, "little") + wav[at + 4:]


def _cut(data: bytes) -> bytes:
    """``data`` cut off at three quarters (a copy or download cut short)."""
    return data[:len(data) * 3 // 4]


JSON_CASES = [
    ("no-audio", '{"audio": []}', ("body", "audio")),
    ("audio-missing", "{}", ("body", "audio")),
    ("audio-a-list-of-numbers", '{"audio": [0.1, 0.2]}', ("body", "audio", 0)),
    ("recording-empty", '{"audio": [[]]}', ("body", "audio", 0)),
    ("recording-too-short", '{"audio": [[0.0, 0.1, 0.2]]}', ("body", "audio", 0)),
    ("sample-a-string", '{"audio": [["0.1"]]}', ("body", "audio", 0)),
    ("sample-nan-token", '{"audio": [[NaN]]}', ("body",)),
    ("too-many-recordings", json.dumps({"audio": [[0.0] * 900] * (MAX_INSTANCES + 1)}), ("body", "audio")),
    ("sample-rate-0", body(sample_rate=0), ("body", "sample_rate")),
    ("sample-rate-under-1-khz", body(sample_rate=500), ("body", "sample_rate")),      # 7,919 Hz is resampled
    ("beam-0", body(beam=0), ("body", "beam")),
    ("beam-65", body(beam=65), ("body", "beam")),
    ("beam-a-string", body(beam="3"), ("body", "beam")),
    ("beam-a-bool", body(beam=True), ("body", "beam")),
    ("sample-rate-a-string", body(sample_rate="8000"), ("body", "sample_rate")),
    ("extra-field", body(lm="runs/lm"), ("body", "lm")),
    ("texts-to-a-recogniser", '{"texts": ["ab"]}', ("body", "audio")),
    ("not-json", "audio=1", ("body",)),
    # was "Field required — send the value" and "Input should be a valid dictionary ... — send the value as ..."
    ("body-empty", "", ("body",)),
    ("body-null", "null", ("body",)),
    ("body-a-list", "[[0.1, 0.2]]", ("body",)),
]


@pytest.mark.parametrize("data, where", [c[1:] for c in JSON_CASES], ids=[c[0] for c in JSON_CASES])
def test_bad_json_request(client, data, where):
    got, answer = client.request("POST", "/predict", data)
    assert got == 422, (got, answer[:300])
    detail = strict_json(answer)["detail"]
    assert any(tuple(d["loc"][:len(where)]) == where for d in detail), detail
    for d in detail:
        assert_problem_and_fix(d["msg"])


UPLOAD_CASES = [
    ("empty", lambda: b"", "audio/wav", 422, "empty"),
    ("not-an-mp3", lambda: b"ID3\x04 an mp3 file" * 4, "audio/mpeg", 422, "the upload is unreadable or corrupt"),
    ("json-as-audio", lambda: body().encode(), "audio/wav", 422, "the upload is not an audio file"),
    ("m4a-body", lambda: b"\0\0\0 ftypM4A " + bytes(200), "audio/wav", 422, "not an audio file (format not"),
    ("truncated", lambda: b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00", "audio/wav", 422,
     "the upload is unreadable or corrupt"),
    ("too-short", lambda: _wav(np.zeros(200)), "audio/wav", 422, "too short"),
    ("over-max-body", lambda: _wav(np.zeros(30 * RATE)), "audio/wav", 413, "larger than"),
    ("text-plain", lambda: _wav(_clip()), "text/plain", 415, "audio/wav"),
    ("one-sample", lambda: _wav([0.1]), "audio/wav", 422, "too short: 0.12 ms (1 sample)"),       # was '(0 ms)'
    ("cut-after-header", lambda: _wav(_clip())[:44], "audio/wav", 422, "truncated: its header promises 0.50 s"),
    ("unfinished", lambda: unfinished_wav(_wav(_clip())), "audio/wav", 422, "was never finished"),
    ("rate-2-ghz", lambda: _rate(_wav(_clip()), 2_000_000_000), "audio/wav", 422, "above the 768,000 hz of any"),
    ("cut-flac", lambda: _wav(np.tile(_clip(), 8), format="FLAC")[:3000], "audio/flac", 422,
     "the upload is damaged or cut short ("),     # the CLI's words for a cut file; libsndfile's (they vary) follow
    ("opus-cut-short", lambda: _cut(_wav(np.tile(_clip(), 4), subtype="OPUS", format="OGG")), "audio/ogg", 422,
     "the upload is cut short: its ogg stream stops before its end page"),       # was read as far as it went
    ("ogg-cut-in-its-headers", lambda: _wav(_clip(), subtype="VORBIS", format="OGG")[:200], "audio/ogg", 422,
     "the upload is unreadable or corrupt (supported file format but file is malformed)"),
    # no Content-Type (None) was read as JSON: "the body is not valid JSON"; the fix names the type the bytes tell
    ("wav-without-content-type", lambda: _wav(_clip()), None, 415,
     "send the body with the header content-type: audio/wav"),
    ("flac-without-content-type", lambda: _wav(_clip(), format="FLAC"), None, 415, "content-type: audio/flac"),
    ("ogg-without-content-type", lambda: _wav(_clip(), subtype="VORBIS", format="OGG"), None, 415,
     "content-type: audio/ogg"),
    ("wav-as-curl-form-data", lambda: _wav(_clip()), "application/x-www-form-urlencoded", 415,
     "content-type: audio/wav"),
    ("json-without-content-type", lambda: body().encode(), None, 415, "content-type: application/json"),
    ("empty-without-content-type", lambda: b"", None, 422, "the body is empty"),
    ("wav-sent-as-json", lambda: _wav(_clip()), "application/json", 415, "header content-type: audio/wav"),
    # curl -F file=@clip.wav: was told "send the body with the header Content-Type: application/json"
    ("wav-in-a-curl-form", lambda: b"--x\r\nContent-Disposition: form-data; name=file; filename=clip.wav\r\n"
     b"Content-Type: audio/wav\r\n\r\n" + _wav(_clip()) + b"\r\n--x--\r\n", "multipart/form-data; boundary=x", 415,
     "form (curl -f, a browser form), which post /predict does not read \\u2014 send the file's bytes themselves as "
     "the body, with the header content-type: audio/wav (curl: -t file -x post"),
]


@pytest.mark.parametrize("make, kind, status, needle", [c[1:] for c in UPLOAD_CASES],
                         ids=[c[0] for c in UPLOAD_CASES])
def test_bad_upload(client, make, kind, status, needle):
    got, answer = client.request("POST", "/predict", make(), content_type=kind)
    assert got == status, (got, answer[:300])
    detail = strict_json(answer)["detail"]
    assert needle in json.dumps(detail).lower()
    for msg in [d["msg"] for d in detail] if status == 422 else [detail]:    # the problem, then the fix
        assert_problem_and_fix(msg)


def test_good_requests_still_answer_on_onnx(client):
    got, answer = client.post_json({"audio": [_clip().tolist()], "beam": 2})
    assert got == 200 and answer["engine"] == "onnx" and isinstance(answer["predictions"][0]["transcript"], str)
    got, raw = client.request("POST", "/predict", _wav(_clip()), content_type="audio/wav")
    assert got == 200 and set(strict_json(raw)) == {"transcript", "engine"}
    # a FLAC or OGG body (whatever its Content-Type) and a rate with no exact ratio were 422s that the CLI read
    for data, kind in [(_wav(_clip(), format="FLAC"), "audio/wav"), (_wav(_clip(), subtype="VORBIS", format="OGG"),
                                                                     "audio/ogg"), (_wav(_clip(), 7919), "audio/wav")]:
        got, raw = client.request("POST", "/predict", data, content_type=kind)
        assert got == 200 and set(strict_json(raw)) == {"transcript", "engine"}, raw[:300]
    got, answer = client.post_json({"audio": [_clip().tolist()], "sample_rate": 7919})
    assert got == 200 and isinstance(answer["predictions"][0]["transcript"], str)
