"""Several runs in one service (``lstmkit serve --run A --run B``), and the service's dispatch of
the adapter hooks ``answer_bytes`` (raw uploads) and ``open_stream`` (a task's own stream)."""
import http.client
import json

import pytest

pytest.importorskip("fastapi")

from asgi_client import Client, strict_json  # noqa: E402
from cli_helpers import assert_user_error, run_cli  # noqa: E402
from forecast_data import sine_frame  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from serve_helpers import fake_rooms, fake_run, running_server, tiny_text_classifier, wav_bytes  # noqa: E402


def _instance(n=30, seed=0):
    df = sine_frame(n=n, seed=seed)
    return {"y": df["y"].tolist(), "temp": df["temp"].tolist()}


@pytest.fixture(scope="module")
def text_clf(tmp_path_factory):
    return tiny_text_classifier(tmp_path_factory.mktemp("multi_text"))


@pytest.fixture(scope="module")
def runs(abs_forecaster, text_clf, tmp_path_factory):
    root = tmp_path_factory.mktemp("fakes")
    return {"sales": abs_forecaster.run_dir_, "reviews": text_clf.run_dir_,
            "speech": fake_run(root / "speech", "fakespeech"), "typed": fake_run(root / "typed", "faketyped")}


@pytest.fixture(scope="module")
def client(runs):
    from lstmkit.deploy.server import create_app
    with fake_rooms():
        c = Client(create_app(runs, engine="torch"))
        yield c
        c.close()


def _json(client, method, path, body=None, content_type="application/json"):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body)
    status, raw = client.request(method, path, data, content_type=content_type)
    return status, strict_json(raw)


def test_models_lists_every_run_by_name(client):
    status, out = _json(client, "GET", "/models")
    assert status == 200
    assert [(m["name"], m["task"]) for m in out["models"]] == [
        ("sales", "forecast"), ("reviews", "classify"), ("speech", "fakespeech"), ("typed", "faketyped")]
    status, one = _json(client, "GET", "/models/reviews")
    assert status == 200 and one["classes"] == ["neg", "pos"] and one["engine"] == "torch"
    assert _json(client, "GET", "/models/speech")[1]["upload_types"] == ["audio/wav", "audio/x-wav", "audio/wave"]


def test_each_model_answers_its_own_request(client, abs_forecaster, text_clf):
    status, out = _json(client, "POST", "/models/sales/predict", {"instances": [_instance()]})
    want = abs_forecaster.predict(sine_frame(n=30), engine="torch")["y"]
    assert status == 200 and max(abs(a - b) for a, b in zip(out["predictions"][0]["y"], want)) < 1e-5
    status, out = _json(client, "POST", "/models/reviews/predict", {"texts": ["a good film", "awful and boring"]})
    assert status == 200 and [p["label"] for p in out["predictions"]] == list(text_clf.predict(["a good film",
                                                                                               "awful and boring"]))
    status, out = _json(client, "POST", "/models/reviews/predict", {"instances": [_instance()]})
    assert status == 422                        # the forecaster's request is not the classifier's


def test_unknown_names_and_the_plain_routes_name_the_models(client):
    for method, path in (("POST", "/models/nope/predict"), ("GET", "/models/nope")):
        status, out = _json(client, method, path, {} if method == "POST" else None)
        assert status == 404 and "nope" in out["detail"] and "sales, reviews, speech, typed" in out["detail"]
    for method, path in (("POST", "/predict"), ("GET", "/model")):
        status, out = _json(client, method, path, {} if method == "POST" else None)
        assert status == 404 and "several models" in out["detail"] and "sales" in out["detail"]
    for path in ("/models/nope/stream", "/stream"):
        ws = client.websocket(path)
        assert "sales, reviews, speech, typed" in ws.receive_json()["error"]
        assert ws.receive()["type"] == "websocket.close"
    assert _json(client, "GET", "/models/sales/predict")[0] == 405


def test_openapi_types_each_model(client):
    status, spec = _json(client, "GET", "/openapi.json")
    assert status == 200
    for name in ("sales", "reviews", "speech", "typed"):
        assert f"/models/{name}/predict" in spec["paths"]
    schemas = spec["components"]["schemas"]
    assert {"sales_PredictRequest", "reviews_ClassifyRequest", "typed_SamplesRequest"} <= set(schemas)
    upload = spec["paths"]["/models/typed/predict"]["post"]["requestBody"]["content"]
    assert set(upload) == {"audio/wav", "audio/x-wav", "application/json"}
    assert upload["application/json"]["schema"]["$ref"] == "#/components/schemas/typed_SamplesRequest"
    assert "/predict" not in spec["paths"]


def test_a_wav_upload_reaches_answer_bytes(client):
    wav = wav_bytes()
    status, out = _json(client, "POST", "/models/speech/predict", wav, content_type="audio/wav")
    assert status == 200 and out == {"transcript": f"{len(wav)} bytes of audio/wav", "engine": "torch"}
    status, out = _json(client, "POST", "/models/speech/predict", b"not a wav", content_type="audio/wav")
    assert status == 422 and "RIFF" in out["detail"][0]["msg"] and out["detail"][0]["loc"] == ["body"]
    status, out = _json(client, "POST", "/models/speech/predict", b"", content_type="audio/wav")
    assert status == 422 and "empty" in out["detail"][0]["msg"]
    for kind in ("text/plain", "application/json"):         # this room types no JSON request
        status, out = _json(client, "POST", "/models/speech/predict", wav, content_type=kind)
        assert status == 415 and "audio/wav, audio/x-wav, audio/wave" in out["detail"], out


def test_an_upload_room_with_a_json_request_takes_both(client):
    status, out = _json(client, "POST", "/models/typed/predict", wav_bytes(), content_type="audio/x-wav; rate=16000")
    assert status == 200 and out["transcript"].endswith("audio/x-wav")
    status, out = _json(client, "POST", "/models/typed/predict", {"samples": [0.1, 0.2, 0.3]})
    assert status == 200 and out == {"transcript": "3 samples", "engine": "torch"}
    status, out = _json(client, "POST", "/models/typed/predict", {"samples": [0.1, True]})
    assert status == 422 and out["detail"][0]["loc"] == ["body", "samples", 1]
    status, out = _json(client, "POST", "/models/typed/predict", b'{"samples": [NaN]}')
    assert status == 422 and "json" in out["detail"][0]["msg"].lower()
    status, out = _json(client, "POST", "/models/typed/predict", b"x", content_type="audio/mpeg")
    assert status == 415 and "application/json, audio/wav, audio/x-wav" in out["detail"]
    ws = client.websocket("/models/typed/stream")        # streams = False: no /stream
    assert ws.receive_json() == {"error": "model 'typed' does not stream — send whole inputs to "
                                          "/models/typed/predict", "field": "model", "closed": True}
    ws.close()


def test_a_task_stream_answers_through_its_own_step(client):
    ws = client.websocket("/models/speech/stream")
    ws.send_text("[0.1, 0.2]")
    assert ws.receive_json() == {"step": 1, "partial": "2 samples", "engine": "torch"}
    ws.send_text('"hello"')                             # bad input: the stream is as it was
    assert ws.receive_json() == {"error": "an audio chunk is a list of samples — send [sample, ...]",
                                 "field": "message"}
    ws.send_text("[1e39]")
    assert ws.receive_json()["field"] == "message"
    ws.send_text(json.dumps({"op": "state"}))
    state = ws.receive_json()["state"]
    assert state["streams"]["this"] == {"steps": 1, "samples": 2}
    other = client.websocket("/models/speech/stream")
    other.send_text(json.dumps({"op": "restore", "state": state}))
    assert other.receive_json() == {"restored": True, "step": 1}
    other.send_text("[0.5]")
    assert other.receive_json()["partial"] == "3 samples"
    other.send_text(json.dumps({"op": "reset"}))
    assert other.receive_json() == {"reset": True}
    other.send_text("[0.5]")
    assert other.receive_json()["step"] == 1
    for w in (ws, other):
        w.close()


def test_one_run_keeps_the_plain_routes_and_gets_its_name(abs_forecaster):
    from lstmkit.deploy.server import create_app
    c = Client(create_app(abs_forecaster.run_dir_, engine="torch"))
    try:
        name = abs_forecaster.run_dir_.name
        body = {"instances": [_instance()]}
        assert _json(c, "POST", "/predict", body) == _json(c, "POST", f"/models/{name}/predict", body)
        assert _json(c, "GET", "/model")[1]["task"] == "forecast"
        assert [m["name"] for m in _json(c, "GET", "/models")[1]["models"]] == [name]
        ws = c.websocket(f"/models/{name}/stream")
        ws.send_text(json.dumps({"y": 1.0, "temp": 0.5}))
        assert ws.receive_json()["step"] == 1
        ws.close()
    finally:
        c.close()


def test_run_names(tmp_path):
    from lstmkit.deploy.served import named_runs
    assert named_runs([tmp_path / "a", "b=" + str(tmp_path / "x"), tmp_path / "c/"]) == {
        "a": tmp_path / "a", "b": tmp_path / "x", "c": tmp_path / "c"}
    with pytest.raises(LstmkitError, match="two runs are named 'a'"):
        named_runs([tmp_path / "a", tmp_path / "other" / "a"])
    with pytest.raises(LstmkitError, match="cannot serve a model named"):
        named_runs({"no/slash": tmp_path})


def test_cli_refuses_duplicate_names_in_one_line(abs_forecaster, capsys):
    run = abs_forecaster.run_dir_
    code, _, err = run_cli(["serve", "--run", run, "--run", run, "--port", "0"], capsys)
    assert_user_error(code, err, "two runs are named", "NAME=PATH")


def _get(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    out = resp.status, json.loads(resp.read())
    conn.close()
    return out


def test_a_real_server_serves_two_runs(abs_forecaster, text_clf):
    with running_server("--run", f"sales={abs_forecaster.run_dir_}", "--run", text_clf.run_dir_,
                        "--engine", "torch") as (proc, port):
        status, out = _get(port, "GET", "/models")
        assert status == 200 and [m["name"] for m in out["models"]] == ["sales", text_clf.run_dir_.name]
        status, out = _get(port, "POST", f"/models/{text_clf.run_dir_.name}/predict", {"texts": ["loved it"]})
        assert status == 200 and out["predictions"][0]["label"] in ("pos", "neg")
        status, out = _get(port, "POST", "/models/sales/predict", {"instances": [_instance()]})
        assert status == 200 and len(out["predictions"][0]["y"]) == 3
        assert _get(port, "POST", "/predict", {"texts": ["x"]})[0] == 404


def test_a_new_streams_state_restores_and_starts_it_afresh(abs_forecaster):
    """{"op": "state"} before the first message gives {"steps": 0}; {"op": "restore"} of it was refused as
    'stream 'this' in the state is malformed ('h')', its fix saying to send the S that "state" returned."""
    from lstmkit.deploy.server import create_app
    c = Client(create_app(abs_forecaster.run_dir_, engine="torch"))
    try:
        ws = c.websocket("/stream")
        ws.send_text(json.dumps({"op": "state"}))
        state = ws.receive_json()["state"]
        assert state["streams"] == {"this": {"steps": 0}}
        ws.send_text(json.dumps({"y": 1.0, "temp": 0.5}))
        first = ws.receive_json()
        ws.send_text(json.dumps({"op": "restore", "state": state}))
        assert ws.receive_json() == {"restored": True, "step": 0}
        ws.send_text(json.dumps({"y": 1.0, "temp": 0.5}))
        assert ws.receive_json() == first                   # step 1 again, from a zero state
        ws.close()
    finally:
        c.close()
