"""Bad-input catalogue, every task's service at once: each refusal names the problem AND the fix.
One in-process app (tests/asgi_client.py) serves a tiny run of each task; each case sends one bad
request (``POST /models/{name}/predict``) or one bad stream message (``/models/{name}/stream``)
and asserts the 422's ``detail[].loc`` (or the stream error's ``field``; a 400, 404, 405, 413, 415
or 426's one ``detail`` text; a stream refused or ended: its one error message before the close) and a
message of the form
"problem — fix": both parts said, the fix in the service's words (a JSON field, a value), never a
command-line ``--flag``, which means nothing to an HTTP client. Before, a refusal raised by code the
CLI shares (reading time stamps, audio files) reached the client without its fix, and many
adapters' refusals had none ("field required", "the series is empty")."""
import gzip
import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("fastapi")

from asgi_client import DEEP, Client, strict_json  # noqa: E402
from catalogue_helpers import assert_problem_and_fix  # noqa: E402
from forecast_data import FAST, sine_frame  # noqa: E402
from one_thread import one_thread  # noqa: E402,F401  (autouse: one torch thread)
from serve_helpers import tiny_text_classifier, wav_bytes  # noqa: E402
from translate_data import TINY, make_pairs  # noqa: E402

MAX_LEN, LOOKBACK = 6, 8


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """One app: a dated forecaster with calendar features, a three-series forecaster, a text and a
    series classifier, a translator, a language model and a speech recogniser (each one epoch)."""
    from lstmkit import LanguageModel, SequenceClassifier
    from lstmkit.deploy.server import create_app
    from lstmkit.tasks.forecast.estimator import Forecaster
    from lstmkit.tasks.speech.synthetic import tiny_run
    from lstmkit.tasks.translate import Translator
    d = tmp_path_factory.mktemp("http_fixes")
    small = {**FAST, "max_epochs": 1, "hidden_size": 4, "lookback": LOOKBACK}
    frame = sine_frame(n=80).drop(columns="temp")
    frame["time"] = frame["time"].dt.strftime("%Y-%m-%d %H:%M")
    dated = Forecaster(**small, horizon=2, calendar=["hour"]).fit(frame, out=d / "dated")
    panel = pd.concat([sine_frame(n=60, seed=s).assign(id=f"s{s}") for s in range(3)])
    series = Forecaster(**small, horizon=2).fit(panel, target="y", time="time", id="id", features="temp",
                                                out=d / "series")
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(6, 2)) + (1 if k % 2 else -1) for k in range(12)]
    seq = SequenceClassifier(hidden_size=4, max_epochs=1, progress="off", tensorboard=False, seed=0).fit(
        seqs, ["up" if k % 2 else "down" for k in range(12)], out=d / "seq")
    tr = Translator(**{**TINY, "max_epochs": 1, "max_len": MAX_LEN}).fit(make_pairs(30, max_len=MAX_LEN - 1),
                                                                         out=d / "tr")
    lm = LanguageModel(level="char", embed_dim=4, hidden_size=4, max_epochs=1, progress="off", tensorboard=False,
                       doctor=False, seed=0).fit(["the cat runs", "a dog sits"] * 5, out=d / "lm")
    runs = {"dated": dated.run_dir_, "series": series.run_dir_, "text": tiny_text_classifier(d / "text").run_dir_,
            "seq": seq.run_dir_, "tr": tr.run_dir_, "lm": lm.run_dir_,
            "speech": tiny_run(d / "speech", n=12, max_epochs=1)}
    c = Client(create_app(runs, engine="torch"))
    yield c
    c.close()


def _dated(**fields):
    """A dated forecaster's instance: LOOKBACK hourly values and stamps, ``fields`` replacing them."""
    stamps = pd.date_range("2024-01-01", periods=LOOKBACK, freq="h").strftime("%Y-%m-%d %H:%M").tolist()
    return {"instances": [{"y": [0.5] * LOOKBACK, "time": stamps, **fields}]}


def _series(**fields):
    return {"instances": [{"id": "s0", "y": [0.5] * LOOKBACK, "temp": [0.1] * LOOKBACK, **fields}]}


def _clip(seconds=0.5):
    from lstmkit.tasks.speech.synthetic import tone_clip
    return tone_clip("ab", seconds=seconds).tolist()


def _stamps(*last):
    return _dated()["instances"][0]["time"][:LOOKBACK - len(last)] + list(last)


# (case, model, body, loc of the first detail)
CASES = [
    # forecast, one series with calendar features: the history's time stamps (read as the CLI reads a table)
    ("time-missing", "dated", {"instances": [{"y": [0.5] * LOOKBACK}]}, ["instances", 0, "time"]),
    ("time-too-few", "dated", _dated(time=_stamps()[:3]), ["instances", 0, "time"]),
    ("time-a-word", "dated", _dated(time=_stamps("soon")), ["instances", 0, "time"]),
    ("time-no-month", "dated", _dated(time=_stamps("32/13/2024")), ["instances", 0, "time"]),
    ("time-of-day-only", "dated", _dated(time=["12:00"] * LOOKBACK), ["instances", 0, "time"]),
    ("time-year-beyond", "dated", _dated(time=[f"2300-01-01 {h:02d}:00" for h in range(LOOKBACK)]),
     ["instances", 0, "time"]),
    ("time-offsets-mixed", "dated", _dated(time=_stamps("2024-01-01 07:00+01:00")), ["instances", 0, "time"]),
    ("time-a-fraction", "dated", _dated(time=[1.5] * LOOKBACK), ["instances", 0, "time", 0]),
    ("time-empty-stamp", "dated", _dated(time=_stamps("")), ["instances", 0, "time", LOOKBACK - 1]),
    ("time-backwards", "dated", _dated(time=_stamps()[::-1]), ["instances", 0, "time"]),
    ("time-gap", "dated", _dated(time=_stamps("2030-01-01 00:00")), ["instances", 0, "time"]),
    ("column-missing", "dated", {"instances": [{"time": _stamps()}]}, ["instances", 0, "y"]),
    ("column-unknown", "dated", _dated(tmep=[0.5] * LOOKBACK), ["instances", 0, "tmep"]),
    ("column-short", "dated", _dated(y=[0.5] * 3), ["instances", 0, "y"]),
    # forecast, many series
    ("series-unknown", "series", _series(id="s9"), ["instances", 0, "id"]),
    ("series-id-case", "series", _series(id=" S0"), ["instances", 0, "id"]),   # told: the trained id 's0'
    ("series-none", "series", {"instances": [{"y": [0.5] * LOOKBACK, "temp": [0.1] * LOOKBACK}]},
     ["instances", 0, "id"]),
    ("series-column-missing", "series", _series(temp=None), ["instances", 0, "temp"]),
    # classify: texts and series
    ("text-model-sent-series", "text", {"series": [[1.0, 2.0]]}, ["series"]),
    ("text-model-sent-both", "text", {"texts": ["ok"], "series": [[1.0]]}, ["texts"]),
    ("text-model-sent-nothing", "text", {}, ["texts"]),
    ("text-blank", "text", {"texts": ["ok", "   "]}, ["texts", 1]),
    ("text-empty-string", "text", {"texts": ["ok", ""]}, ["texts", 1]),
    ("text-blank-lines-only", "text", {"texts": ["\n\t\n"]}, ["texts", 0]),
    ("text-over-100000-chars", "text", {"texts": ["ok", "word " * 20_001]}, ["texts", 1]),
    ("series-model-sent-texts", "seq", {"texts": ["ok"]}, ["texts"]),
    ("series-empty", "seq", {"series": [[]]}, ["series", 0]),
    ("series-step-width", "seq", {"series": [[[1.0, 2.0, 3.0]] * 3]}, ["series", 0]),
    ("series-ragged-steps", "seq", {"series": [[[1.0, 2.0], [1.0]]]}, ["series", 0]),
    # translate
    ("sentences-none", "tr", {"sentences": []}, ["sentences"]),
    ("sentence-too-long", "tr", {"sentences": ["dog " * (MAX_LEN + 2)]}, ["sentences", 0]),
    ("beam-zero", "tr", {"sentences": ["a dog ."], "beam": 0}, ["beam"]),
    # language model
    ("lm-nothing", "lm", {}, ["texts"]),
    ("lm-both", "lm", {"texts": ["a"], "prefix": "a"}, ["prefix"]),
    ("lm-sampling-field-when-scoring", "lm", {"texts": ["a"], "top_k": 3}, ["top_k"]),
    ("lm-blank-text", "lm", {"texts": [" "]}, ["texts", 0]),
    ("lm-text-over-4096-tokens", "lm", {"texts": ["ok", "a" * 4097]}, ["texts", 1]),
    ("lm-max-tokens-zero", "lm", {"prefix": "a", "max_tokens": 0}, ["max_tokens"]),
    ("lm-temperature-negative", "lm", {"prefix": "a", "temperature": -1.0}, ["temperature"]),
    # speech (JSON samples)
    ("audio-none", "speech", {"audio": []}, ["audio"]),
    ("audio-empty-recording", "speech", {"audio": [[]]}, ["audio", 0]),
    ("audio-too-short", "speech", {"audio": [[0.1] * 3]}, ["audio", 0]),
    ("audio-rate-too-low", "speech", {"audio": [[0.1] * 400], "sample_rate": 500}, ["sample_rate"]),
    # a body that is no JSON object: was "Input should be a valid dictionary ... — send the value as a JSON object"
    ("body-null", "text", None, []),
    ("body-a-list", "series", [1.0, 2.0], []),
    ("body-a-string", "lm", "the cat", []),
    ("body-a-number", "tr", 3, []),
    ("body-a-boolean", "seq", True, []),
    ("speech-body-null", "speech", None, []),
]

# (case, model, content type, body): a speech upload
UPLOADS = [
    ("upload-empty", "audio/wav", b""),
    ("upload-not-audio", "audio/wav", b"hello, this is text"),
    ("upload-truncated-wav", "audio/wav", b"RIFF\x24\x00\x00\x00WAVEfmt "),
]

# (case, method, path, body, content type, status, a piece of the fix): a refusal before any field is
# read, whose ``detail`` is one text; before, these said only what was wrong ("Not Found", "Method Not
# Allowed", "request body larger than 1000000 bytes", "unknown model 'nope'; this service serves: ...")
REFUSALS = [
    ("body-latin-1", "POST", "/models/text/predict", b'{"texts": ["caf\xe9"]}', "application/json", 400, "UTF-8 JSON"),
    ("body-nested-too-deeply", "POST", "/models/text/predict", b'{"texts": ' + b"[" * DEEP + b"]" * DEEP + b"}",
     "application/json", 400, "nested less deeply"),
    ("unknown-model-predict", "POST", "/models/nope/predict", b'{"texts": ["a"]}', "application/json", 404,
     "dated, series, text, seq, tr, lm, speech"),
    ("unknown-model-described", "GET", "/models/nope", None, "application/json", 404, "GET /models"),
    ("several-models-plain-predict", "POST", "/predict", b'{"texts": ["a"]}', "application/json", 404,
     "/models/{name}/predict"),
    ("several-models-plain-model", "GET", "/model", None, "application/json", 404, "GET /models/{name}"),
    ("unknown-route", "GET", "/admin", None, "application/json", 404, "POST /models/{name}/predict"),
    ("unknown-route-under-a-model", "POST", "/models/text/predikt", b"{}", "application/json", 404, "GET /docs"),
    ("get-predict", "GET", "/models/text/predict", None, "application/json", 405, "send POST /models/text/predict"),
    ("put-predict", "PUT", "/models/text/predict", b"{}", "application/json", 405, "send POST /models/text/predict"),
    ("post-health", "POST", "/health", b"{}", "application/json", 405, "send GET /health"),
    ("delete-models", "DELETE", "/models", None, "application/json", 405, "send GET /models"),
    ("body-over-the-limit", "POST", "/models/text/predict", b'{"texts": ["' + b"a" * 1_000_001 + b'"]}',
     "application/json", 413, "larger body limit"),
    ("upload-of-another-type", "POST", "/models/speech/predict", b"hello", "text/plain", 415, "audio/wav"),
    ("upload-of-xml", "POST", "/models/speech/predict", b"<audio/>", "application/xml", 415, "application/json"),
    # a body without a Content-Type (None): the upload was read as JSON ("the body is not valid JSON"), a JSON
    # body was "Input should be a valid dictionary"; curl -d / --data-binary sends a form's type
    ("upload-without-content-type", "POST", "/models/speech/predict", wav_bytes(), None, 415,
     "Content-Type: audio/wav"),
    ("upload-as-curl-form-data", "POST", "/models/speech/predict", wav_bytes(), "application/x-www-form-urlencoded",
     415, "Content-Type: audio/wav"),
    ("upload-sent-as-json", "POST", "/models/speech/predict", wav_bytes(), "application/json", 415,
     "Content-Type: audio/wav"),                              # was "the body is not valid JSON"
    ("upload-json-without-content-type", "POST", "/models/speech/predict", b'{"audio": [[0.1]]}', None, 415,
     "Content-Type: application/json"),
    ("upload-of-neither-without-content-type", "POST", "/models/speech/predict", b"hello", None, 415,
     "Content-Type: audio/wav or Content-Type: application/json"),
    ("json-without-content-type", "POST", "/models/text/predict", b'{"texts": ["a"]}', None, 415,
     "Content-Type: application/json"),
    ("json-as-text-plain", "POST", "/models/series/predict", b'{"instances": []}', "text/plain", 415,
     "Content-Type: application/json"),
    ("json-as-curl-form-data", "POST", "/models/tr/predict", b'{"sentences": ["a dog ."]}',
     "application/x-www-form-urlencoded", 415, "Content-Type: application/json"),
    # plain HTTP to a stream: was "no route GET /models/series/stream — send to ... WebSocket /models/{name}/stream"
    ("http-get-of-a-stream", "GET", "/models/series/stream", None, "application/json", 426, "WebSocket client"),
    ("http-post-to-a-stream", "POST", "/models/lm/stream", b"{}", "application/json", 426, "WebSocket client"),
]

# (case, path, body, content type, loc): a JSON body giving a key twice in one object, a 422 at it; the last was
# read without a word ({"texts": ["a"], "texts": ["b"]} answered for ["b"] alone)
KEYS_TWICE = [
    ("texts-twice", "/models/text/predict", '{"texts": ["a good film"], "texts": ["hated it"]}', "application/json",
     ["texts"]),
    ("column-twice-in-an-instance", "/models/series/predict",
     '{"instances": [{"id": "s0", "y": [1.0], "temp": [0.5], "y": [2.0]}]}', "application/json", ["instances", 0, "y"]),
    ("beam-twice", "/models/tr/predict", '{"sentences": ["a dog ."], "beam": 1, "beam": 5}', "application/json",
     ["beam"]),
    ("audio-twice-by-hand", "/models/speech/predict", '{"audio": [[0.1]], "audio": [[0.2]]}', "application/json",
     ["audio"]),                                               # the upload route reads its JSON by hand
]

# (case, path with a query, body, content type, the parameter named): every field is in the body, and a query
# parameter was dropped without a word (POST /predict?beam=5 answered with the default beam)
QUERIES = [
    ("beam-in-the-query", "/models/tr/predict?beam=5", '{"sentences": ["a dog ."]}', "application/json", "beam"),
    ("model-in-the-query", "/models/text/predict?model=text&debug", '{"texts": ["a"]}', "application/json", "model"),
    ("rate-in-an-upload-query", "/models/speech/predict?sample_rate=16000", wav_bytes(), "audio/wav", "sample_rate"),
    ("a-blank-parameter", "/models/lm/predict?verbose", '{"texts": ["a"]}', "application/json", "verbose"),
]

# (case, path, body, content type, Content-Encoding): a 415 naming the encoding. The service reads bodies as they
# are: a gzipped JSON body was a 400 "not UTF-8 text", a gzipped upload "not valid JSON (NaN and Infinity ...)", and
# a plain body labelled gzip (or br) was read without a word
ENCODED = [
    ("json-gzipped", "/models/text/predict", gzip.compress(b'{"texts": ["a good film"]}'), "application/json", "gzip"),
    ("json-labelled-gzip", "/models/text/predict", b'{"texts": ["a good film"]}', "application/json", "gzip"),
    ("json-labelled-br", "/models/tr/predict", b'{"sentences": ["a dog ."]}', "application/json", "br"),
    ("upload-gzipped", "/models/speech/predict", gzip.compress(wav_bytes()), "audio/wav", "gzip"),
    ("upload-json-gzipped", "/models/speech/predict", gzip.compress(b'{"audio": [[0.1]]}'), "application/json",
     "GZIP"),
    ("upload-deflate", "/models/speech/predict", wav_bytes(), "audio/wav", "deflate"),
]

# (case, path, content type): an empty body, a 422 at ``body`` saying so (was "Field required — send the value")
EMPTY_BODIES = [
    ("empty-json", "/models/text/predict", "application/json"),
    ("empty-without-content-type", "/models/series/predict", None),
    ("empty-upload-without-content-type", "/models/speech/predict", None),
    ("empty-upload-as-json", "/models/speech/predict", "application/json"),
]

# (case, path, status): HEAD answers as GET does, without a body (each was a 405 "does not take HEAD")
HEADS = [
    ("head-health", "/health", 200),
    ("head-models", "/models", 200),
    ("head-a-model", "/models/text", 200),
    ("head-unknown-model", "/models/nope", 404),
    ("head-predict", "/models/text/predict", 405),
]

# (case, model, message, field)
STREAMS = [
    ("stream-not-json", "series", "{y: 1}", "message"),
    ("stream-nested", "series", "[" * 100_000 + "]" * 100_000, "message"),
    ("stream-a-boolean", "series", '{"id": "s0", "y": true, "temp": 0.5}', "y"),
    # a column of another JSON type was the field "observation": now the column it is in
    ("stream-an-object-in-a-column", "series", '{"id": "s0", "y": {}, "temp": 0.5}', "y"),
    ("stream-a-list-in-a-column", "series", '{"id": "s0", "y": 1.0, "temp": []}', "temp"),
    ("stream-a-string-in-a-column", "series", '{"id": "s0", "y": "1.0", "temp": 0.5}', "y"),
    ("stream-null-in-a-column", "series", '{"id": "s0", "y": 1.0, "temp": null}', "temp"),
    ("stream-unknown-series", "series", '{"id": "s9", "y": 1.0, "temp": 0.5}', "id"),
    ("stream-series-id-case", "series", '{"id": "S0", "y": 1.0, "temp": 0.5}', "id"),
    ("stream-no-series", "series", '{"y": 1.0, "temp": 0.5}', "id"),
    ("stream-column-missing", "series", '{"id": "s0", "y": 1.0}', "temp"),
    ("stream-column-unknown", "series", '{"id": "s0", "y": 1.0, "temp": 0.5, "tmep": 1}', "observation"),
    ("stream-unknown-op", "series", '{"op": "launch"}', "op"),
    # a key given twice: the last was read ({"op": "reset", "op": "state"} answered the state, untold)
    ("stream-key-twice", "series", '{"id": "s0", "y": 1.0, "y": 2.0, "temp": 0.5}', "y"),
    ("stream-op-twice", "series", '{"op": "reset", "op": "state"}', "op"),
    ("stream-lm-text-twice", "lm", '{"text": "a", "text": "b"}', "text"),
    # an lm reads text: a boolean or a number beyond float32 was told "send a number in its place" (field "message")
    ("stream-lm-a-boolean", "lm", "true", "text"),
    ("stream-lm-text-a-boolean", "lm", '{"text": false}', "text"),
    ("stream-lm-text-beyond-float32", "lm", '{"text": 1e39}', "text"),
    ("stream-restore-nothing", "series", '{"op": "restore"}', "state"),
    ("stream-restore-malformed", "series",
     '{"op": "restore", "state": {"format": "x", "streams": {"this": {"steps": -5}}}}', "state"),
    ("stream-model-that-does-not-stream", "seq", "[1.0, 2.0]", "model"),
    ("stream-unknown-model", "nope", "[1.0, 2.0]", "model"),
]

# (case, path, message (None: none sent), field, close code): a stream refused or ended, told why before the
# close; before, a path no route takes was closed unaccepted (a client saw "HTTP 403"), and a message over the
# limit closed with 1009 alone (uvicorn's)
STREAM_CLOSES = [
    ("stream-unknown-path", "/strem", None, "path", 1008),
    ("stream-path-under-a-model", "/models/series/stream/x", None, "path", 1008),
    ("stream-at-an-http-route", "/health", None, "path", 1008),
    ("stream-unknown-model-closed", "/models/nope/stream", None, "model", 1008),
    ("stream-message-over-the-limit", "/models/series/stream", '{"id": "s0", "y": 1.0, "temp": 0.5}' + " " * 1_000_000,
     "message", 1009),
    ("stream-binary-over-the-limit", "/models/lm/stream", b"a" * 1_000_001, "message", 1009),
]


@pytest.mark.parametrize("case,model,body,loc", CASES, ids=[c[0] for c in CASES])
def test_every_refused_request_names_the_problem_and_the_fix(client, case, model, body, loc):
    status, raw = client.request("POST", f"/models/{model}/predict", json.dumps(body))
    assert status == 422, raw[:300]
    detail = strict_json(raw)["detail"]
    assert detail[0]["loc"] == ["body", *loc], detail
    for d in detail:
        assert_problem_and_fix(d["msg"])


@pytest.mark.parametrize("case,content_type,body", UPLOADS, ids=[c[0] for c in UPLOADS])
def test_every_refused_upload_names_the_problem_and_the_fix(client, case, content_type, body):
    status, raw = client.request("POST", "/models/speech/predict", body, content_type)
    assert status == 422, raw[:300]
    for d in strict_json(raw)["detail"]:
        assert_problem_and_fix(d["msg"])


@pytest.mark.parametrize("case,model,message,field", STREAMS, ids=[c[0] for c in STREAMS])
def test_every_refused_stream_message_names_the_problem_and_the_fix(client, case, model, message, field):
    ws = client.websocket(f"/models/{model}/stream")
    ws.send_text(message)
    answer = ws.receive_json()
    ws.close()
    assert "error" in answer and answer.get("field") == field, answer
    assert_problem_and_fix(answer["error"])


@pytest.mark.parametrize("case,path,message,field,code", STREAM_CLOSES, ids=[c[0] for c in STREAM_CLOSES])
def test_every_closed_stream_is_told_why_and_others_go_on(client, case, path, message, field, code):
    other = client.websocket("/models/series/stream")        # a stream already under way
    step = '{"id": "s1", "y": 1.0, "temp": 0.5}'
    other.send_text(step)
    assert other.receive_json()["step"] == 1
    ws = client.websocket(path)
    if message is not None:
        ws.send_bytes(message) if isinstance(message, bytes) else ws.send_text(message)
    answer = ws.receive_json()
    assert "error" in answer and answer.get("field") == field, answer
    assert_problem_and_fix(answer["error"])
    closed = ws.receive()
    assert closed["type"] == "websocket.close" and closed["code"] == code, closed
    other.send_text(step)
    assert other.receive_json()["step"] == 2                  # its state untouched
    other.close()


@pytest.mark.parametrize("case,path,body,content_type,loc", KEYS_TWICE, ids=[c[0] for c in KEYS_TWICE])
def test_a_key_given_twice_is_a_422_at_it(client, case, path, body, content_type, loc):
    status, raw = client.request("POST", path, body, content_type)
    assert status == 422, raw[:300]
    (detail,) = strict_json(raw)["detail"]
    assert detail["loc"] == ["body", *loc] and f"the key {loc[-1]!r} twice" in detail["msg"], detail
    assert_problem_and_fix(detail["msg"])


@pytest.mark.parametrize("case,path,body,content_type,name", QUERIES, ids=[c[0] for c in QUERIES])
def test_a_query_parameter_on_a_predict_is_a_422_naming_it(client, case, path, body, content_type, name):
    status, raw = client.request("POST", path, body, content_type)
    assert status == 422, raw[:300]
    (detail,) = strict_json(raw)["detail"]
    assert detail["loc"] == ["query", name] and "in the JSON body" in detail["msg"], detail
    assert_problem_and_fix(detail["msg"])
    assert client.request("GET", "/models?verbose=1")[0] == 200          # a GET's query: harmless, as before


@pytest.mark.parametrize("case,path,body,content_type,coding", ENCODED, ids=[c[0] for c in ENCODED])
def test_a_body_with_a_content_encoding_is_a_415_naming_it(client, case, path, body, content_type, coding):
    status, raw = client.request("POST", path, body, content_type, headers={"Content-Encoding": coding})
    assert status == 415, raw[:300]
    detail = strict_json(raw)["detail"]
    assert f"Content-Encoding {coding!r}" in detail and "send the body uncompressed" in detail, detail
    assert_problem_and_fix(detail)
    plain = client.request("POST", path, body if not body.startswith(b"\x1f\x8b") else gzip.decompress(body),
                           content_type, headers={"Content-Encoding": "identity"})
    assert plain[0] != 415, plain                              # identity: the body as it is, read


@pytest.mark.parametrize("case,path,content_type", EMPTY_BODIES, ids=[c[0] for c in EMPTY_BODIES])
def test_an_empty_body_is_named(client, case, path, content_type):
    status, raw = client.request("POST", path, b"", content_type)
    assert status == 422, raw[:300]
    (detail,) = strict_json(raw)["detail"]
    assert detail["loc"] == ["body"] and detail["msg"].startswith("the body is empty — "), detail
    assert_problem_and_fix(detail["msg"])


@pytest.mark.parametrize("case,path,status", HEADS, ids=[c[0] for c in HEADS])
def test_head_answers_as_get_without_the_body(client, case, path, status):
    got, raw = client.request("HEAD", path)
    assert got == status and raw == b"", (got, raw[:300])
    assert client.request("GET", path)[0] == status


@pytest.mark.parametrize("case,method,path,body,content_type,status,fix", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_every_refusal_before_the_fields_names_the_problem_and_the_fix(client, case, method, path, body,
                                                                       content_type, status, fix):
    got, raw = client.request(method, path, body, content_type)
    assert got == status, raw[:300]
    detail = strict_json(raw)["detail"]
    assert isinstance(detail, str), detail
    assert_problem_and_fix(detail)
    assert fix in detail.partition(" — ")[2], detail


def test_a_json_body_in_utf_16_is_read_not_told_to_be_an_mp3(client):
    """JSON allows UTF-16: its byte-order mark (FF FE) reads as an MP3 frame's sync, and the speech service
    answered a 415 "the body is an upload (audio/mpeg, by its first bytes)"; it is read as the JSON it is."""
    body = json.dumps({"audio": [_clip()]}).encode("utf-16")
    assert body[:2] == b"\xff\xfe"
    status, raw = client.request("POST", "/models/speech/predict", body, "application/json")
    assert status == 200, raw[:300]
    assert "transcript" in strict_json(raw)["predictions"][0]
    status, raw = client.request("POST", "/models/speech/predict", body, None)    # no Content-Type: never "audio/mpeg"
    assert status == 415 and "Content-Type: audio/mpeg" not in strict_json(raw)["detail"], raw[:300]


def test_a_speech_stream_names_itself_as_the_state_op_does(client):
    """A speech stream's own errors and warnings named the connection's internal id ("stream 'ws-3' has
    begun at 8000 Hz", "stream 'ws-3' chunk 2: float samples reach 2"); they say 'this', as a restore's do."""
    ws = client.websocket("/models/speech/stream")
    try:
        ws.send_text(json.dumps([0.5] * 100))
        assert ws.receive_json()["step"] == 1
        ws.send_text(json.dumps([2.0] * 100))
        (warning,) = ws.receive_json()["warnings"]
        assert warning.startswith("stream 'this' chunk 2: float samples reach 2"), warning
        ws.send_text(json.dumps({"op": "start", "rate": 16000}))
        err = ws.receive_json()
        assert err["error"].startswith("stream 'this' has begun at 8000 Hz (2 chunks)") and err["field"] == "op", err
        assert "ws-" not in err["error"]
        assert_problem_and_fix(err["error"])
    finally:
        ws.close()


@pytest.mark.parametrize("other", ["series", "lm"])
def test_another_tasks_state_restored_into_a_speech_stream_is_named(client, other):
    """A forecaster's or lm's state restored into a speech stream was "saved from other weights — start the
    streams afresh"; it is named for what it is, and the speech stream goes on as it was."""
    ws = client.websocket(f"/models/{other}/stream")
    ws.send_text('{"id": "s0", "y": 1.0, "temp": 0.5}' if other == "series" else '"the"')
    assert ws.receive_json()["step"]
    ws.send_text('{"op": "state"}')
    state = ws.receive_json()["state"]
    ws.close()
    speech = client.websocket("/models/speech/stream")
    try:
        speech.send_text(json.dumps([0.1] * 100))
        assert speech.receive_json()["step"] == 1
        speech.send_text(json.dumps({"op": "restore", "state": state}))
        err = speech.receive_json()
        assert err["field"] == "state" and "not a speech stream's" in err["error"], err
        assert ("task 'lm'" if other == "lm" else "a forecaster's") in err["error"], err
        assert_problem_and_fix(err["error"])
        speech.send_text(json.dumps([0.1] * 100))
        assert speech.receive_json()["step"] == 2
    finally:
        speech.close()


@pytest.mark.parametrize("message", ["true", '{"text": false}', '{"text": 1e39}', "[1, 1e39]"])
def test_an_lm_stream_tells_a_number_or_boolean_to_be_text(client, message):
    """An lm's stream reads text: a boolean, or a number beyond float32, was told "is a boolean, not a number —
    send a number in its place" (or "send finite JSON numbers"); it is told to send text."""
    ws = client.websocket("/models/lm/stream")
    try:
        ws.send_text(message)
        err = ws.receive_json()
        assert err["field"] == "text" and "must be text" in err["error"] and "number" not in err["error"], err
        ws.send_text('"a"')
        assert ws.receive_json()["step"] == 1                    # nothing read
    finally:
        ws.close()


@pytest.mark.parametrize("model, first", [("lm", '"the"'), ("speech", json.dumps([0.1] * 300))])
def test_a_task_streams_state_with_a_field_it_does_not_hold_is_refused_naming_it(client, model, first):
    """A hand-edited state's misspelt or foreign field was passed over without a word (its value's default read
    in its place); it is named, and the stream goes on as it was."""
    ws = client.websocket(f"/models/{model}/stream")
    try:
        ws.send_text(first)
        assert ws.receive_json()["step"]
        ws.send_text('{"op": "state"}')
        state = ws.receive_json()["state"]
        state["streams"]["this"]["pendng"] = "&am"
        ws.send_text(json.dumps({"op": "restore", "state": state}))
        err = ws.receive_json()
        assert err["field"] == "state" and "unknown field 'pendng'" in err["error"], err
        assert_problem_and_fix(err["error"])
        ws.send_text('{"op": "state"}')
        assert "pendng" not in ws.receive_json()["state"]["streams"]["this"]
    finally:
        ws.close()
