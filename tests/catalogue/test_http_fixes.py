"""Bad-input catalogue, every task's service at once: each refusal names the problem AND the fix.
One in-process app (tests/asgi_client.py) serves a tiny run of each task; each case sends one bad
request (``POST /models/{name}/predict``) or one bad stream message (``/models/{name}/stream``)
and asserts the 422's ``detail[].loc`` (or the stream error's ``field``; a 400, 404, 405, 413 or
415's one ``detail`` text) and a message of the form
"problem — fix": both parts said, the fix in the service's words (a JSON field, a value), never a
command-line ``--flag``, which means nothing to an HTTP client. Before, a refusal raised by code the
CLI shares (reading time stamps, audio files) reached the client without its fix, and many
adapters' refusals had none ("field required", "the series is empty")."""
import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("fastapi")

from asgi_client import Client, strict_json  # noqa: E402
from catalogue_helpers import assert_problem_and_fix  # noqa: E402
from forecast_data import FAST, sine_frame  # noqa: E402
from one_thread import one_thread  # noqa: E402,F401  (autouse: one torch thread)
from serve_helpers import tiny_text_classifier  # noqa: E402
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
    ("series-none", "series", {"instances": [{"y": [0.5] * LOOKBACK, "temp": [0.1] * LOOKBACK}]},
     ["instances", 0, "id"]),
    ("series-column-missing", "series", _series(temp=None), ["instances", 0, "temp"]),
    # classify: texts and series
    ("text-model-sent-series", "text", {"series": [[1.0, 2.0]]}, ["series"]),
    ("text-model-sent-both", "text", {"texts": ["ok"], "series": [[1.0]]}, ["texts"]),
    ("text-model-sent-nothing", "text", {}, ["texts"]),
    ("text-blank", "text", {"texts": ["ok", "   "]}, ["texts", 1]),
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
    ("lm-max-tokens-zero", "lm", {"prefix": "a", "max_tokens": 0}, ["max_tokens"]),
    ("lm-temperature-negative", "lm", {"prefix": "a", "temperature": -1.0}, ["temperature"]),
    # speech (JSON samples)
    ("audio-none", "speech", {"audio": []}, ["audio"]),
    ("audio-empty-recording", "speech", {"audio": [[]]}, ["audio", 0]),
    ("audio-too-short", "speech", {"audio": [[0.1] * 3]}, ["audio", 0]),
    ("audio-rate-too-low", "speech", {"audio": [[0.1] * 400], "sample_rate": 500}, ["sample_rate"]),
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
    ("body-nested-too-deeply", "POST", "/models/text/predict", b'{"texts": ' + b"[" * 5000 + b"]" * 5000 + b"}",
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
]

# (case, model, message, field)
STREAMS = [
    ("stream-not-json", "series", "{y: 1}", "message"),
    ("stream-nested", "series", "[" * 100_000 + "]" * 100_000, "message"),
    ("stream-a-boolean", "series", '{"id": "s0", "y": true, "temp": 0.5}', "y"),
    ("stream-unknown-series", "series", '{"id": "s9", "y": 1.0, "temp": 0.5}', "id"),
    ("stream-no-series", "series", '{"y": 1.0, "temp": 0.5}', "id"),
    ("stream-column-missing", "series", '{"id": "s0", "y": 1.0}', "temp"),
    ("stream-column-unknown", "series", '{"id": "s0", "y": 1.0, "temp": 0.5, "tmep": 1}', "observation"),
    ("stream-unknown-op", "series", '{"op": "launch"}', "op"),
    ("stream-restore-nothing", "series", '{"op": "restore"}', "state"),
    ("stream-restore-malformed", "series",
     '{"op": "restore", "state": {"format": "x", "streams": {"this": {"steps": -5}}}}', "state"),
    ("stream-model-that-does-not-stream", "seq", "[1.0, 2.0]", "model"),
    ("stream-unknown-model", "nope", "[1.0, 2.0]", "model"),
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


@pytest.mark.parametrize("case,method,path,body,content_type,status,fix", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_every_refusal_before_the_fields_names_the_problem_and_the_fix(client, case, method, path, body,
                                                                       content_type, status, fix):
    got, raw = client.request(method, path, body, content_type)
    assert got == status, raw[:300]
    detail = strict_json(raw)["detail"]
    assert isinstance(detail, str), detail
    assert_problem_and_fix(detail)
    assert fix in detail.partition(" — ")[2], detail
