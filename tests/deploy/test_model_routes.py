"""The routes the service builds for each model (``server._ModelRoutes`` and the wiring around it), in process
and in milliseconds once the forecaster is trained: what a client sees of each rule. Mutants of these rules
(session 57: the schema's minItems and required columns, the open-stream count, the close codes, the message
limit, the 422's fix, the several-models schema names) survived every test of the service but this file."""
import asyncio
import json

import jsonschema_rs
import pytest

pytest.importorskip("fastapi")

from asgi_client import Client, strict_json  # noqa: E402
from forecast_data import FAST, sine_frame  # noqa: E402


def _instance(n=30, seed=0):
    df = sine_frame(n=n, seed=seed)
    return {"y": df["y"].tolist(), "temp": df["temp"].tolist()}


def _app(run, **kw):
    from lstmkit.deploy.server import create_app
    return create_app(run, engine="torch", **kw)


@pytest.fixture(scope="module")
def client(abs_forecaster):
    c = Client(_app(abs_forecaster.run_dir_, max_body=2_000, max_streams=2, stream_idle=0))
    yield c
    c.close()


@pytest.fixture(scope="module")
def spec(client):
    status, body = client.request("GET", "/openapi.json")
    assert status == 200
    return strict_json(body)


def _valid(spec, name, body) -> bool:
    """Whether ``spec``'s component schema ``name`` allows ``body`` (its references resolved in ``spec``)."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    return jsonschema_rs.validator_for(schema).is_valid(body)


def test_the_published_request_names_every_column_with_the_lookback_as_its_least_length(spec, abs_forecaster):
    need = abs_forecaster.config_.lookback
    inst = spec["components"]["schemas"]["ForecastInstance"]
    assert set(inst["required"]) == {"y", "temp"} and inst["additionalProperties"] is False
    assert inst["properties"]["y"]["minItems"] == inst["properties"]["temp"]["minItems"] == need
    assert inst["properties"]["time"]["anyOf"][0]["minItems"] == need
    ok = {"y": [0.5] * need, "temp": [0.5] * need}
    assert _valid(spec, "PredictRequest", {"instances": [ok]})
    for bad in ({"y": [0.5] * (need - 1), "temp": [0.5] * need},       # one value short
                {"y": [0.5] * need},                                   # a column missing
                {**ok, "rain": [0.5] * need},                          # a column the model does not read
                {**ok, "time": list(range(need - 1))}):                # fewer stamps than values
        assert not _valid(spec, "PredictRequest", {"instances": [bad]}), bad
    assert not _valid(spec, "PredictRequest", {"instances": []})
    assert not _valid(spec, "PredictRequest", {"instances": [ok], "engine": "onnx"})
    assert spec["components"]["schemas"]["PredictRequest"]["properties"]["instances"]["maxItems"] == 1024


def test_the_service_refuses_what_the_published_request_forbids(client, abs_forecaster):
    need = abs_forecaster.config_.lookback
    ok = {"y": [0.5] * need, "temp": [0.5] * need}
    assert client.post_json({"instances": [ok]})[0] == 200
    for body, loc in [({"instances": []}, ["body", "instances"]),
                      ({"instances": [ok], "engine": "onnx"}, ["body", "engine"])]:
        status, out = client.post_json(body)
        assert status == 422 and out["detail"][0]["loc"] == loc, (body.keys(), out)
    few = Client(_app(abs_forecaster.run_dir_, max_instances=3))
    try:
        assert few.post_json({"instances": [ok] * 3})[0] == 200
        status, out = few.post_json({"instances": [ok] * 4})
        assert status == 422 and "at most 3 items" in out["detail"][0]["msg"], out
    finally:
        few.close()


def test_a_predict_route_publishes_its_answer_and_its_422_says_what_to_send(spec, client):
    ok = spec["paths"]["/predict"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/PredictResponse"}
    status, out = client.post_json({})
    assert status == 422 and "for columns ['y', 'temp'], at least 24 values each" in out["detail"][0]["msg"], out


def test_a_services_model_counts_its_open_streams(client):
    def open_streams():
        return strict_json(client.request("GET", "/model")[1])["open_streams"]
    assert open_streams() == 0
    ws = client.websocket("/stream")
    assert open_streams() == 1
    ws.close()
    assert open_streams() == 0


def test_a_stream_message_of_the_limit_is_read_and_one_byte_more_refused_with_1009(client):
    step = json.dumps({"y": 0.5, "temp": 0.5})
    ws = client.websocket("/stream")
    ws.send_text(step + " " * (2_000 - len(step)))                 # exactly --max-body bytes
    assert ws.receive_json()["step"] == 1
    ws.send_bytes(step.encode())
    assert "binary frame" in ws.receive_json()["error"]
    ws.send_text(step + " " * (2_001 - len(step)))
    err = ws.receive_json()
    assert err["closed"] is True and "2,001 bytes" in err["error"], err
    assert ws.receive() == {"type": "websocket.close", "code": 1009, "reason": ""}
    ws.close()


def test_a_stream_over_the_limit_is_closed_with_1013_and_a_failing_step_with_1011(client, monkeypatch):
    a, b = client.websocket("/stream"), client.websocket("/stream")
    c = client.websocket("/stream")                                # the third of max_streams 2, nothing evicted
    assert "too many open streams" in c.receive_json()["error"]
    assert c.receive()["code"] == 1013
    from lstmkit.deploy.served import ServedModel

    def fail(*args):
        raise RuntimeError("a bug")
    monkeypatch.setattr(ServedModel, "stream_message", fail)
    a.send_text(json.dumps({"y": 0.5, "temp": 0.5}))
    assert a.receive_json() == {"error": "internal error; the stream was closed", "field": "server"}
    assert a.receive()["code"] == 1011
    for ws in (a, b, c):
        ws.close()


def test_an_evicted_stream_is_the_one_idle_longest_and_gives_back_its_place_once(abs_forecaster):
    c = Client(_app(abs_forecaster.run_dir_, max_streams=2, stream_idle=0.01))
    try:
        old, other = c.websocket("/stream"), c.websocket("/stream")
        c.run(asyncio.sleep(0.05))
        old.send_text(json.dumps({"y": 0.5, "temp": 0.5}))       # a step: idle since, a while before `other`
        assert old.receive_json()["step"] == 1
        c.run(asyncio.sleep(0.05))
        other.send_text(json.dumps({"y": 0.5, "temp": 0.5}))
        assert other.receive_json()["step"] == 1
        c.run(asyncio.sleep(0.05))
        new = c.websocket("/stream")                               # takes the place of the one idle longest
        assert "closed for a new stream" in old.receive_json()["error"] and old.receive()["code"] == 1001
        old.close()
        assert strict_json(c.request("GET", "/model")[1])["open_streams"] == 2
        for ws in (new, other):
            ws.close()
        assert strict_json(c.request("GET", "/model")[1])["open_streams"] == 0
    finally:
        c.close()


def test_each_stream_keeps_its_own_state_on_both_of_a_models_paths(client, abs_forecaster):
    step = json.dumps({"y": 0.5, "temp": 0.5})
    a, b = client.websocket("/stream"), client.websocket(f"/models/{abs_forecaster.run_dir_.name}/stream")
    for k in (1, 2):
        a.send_text(step)
        assert a.receive_json()["step"] == k
    b.send_text(step)
    assert b.receive_json()["step"] == 1                         # a stream of its own, from nothing
    for ws in (a, b):
        ws.close()
    status, body = client.request("GET", f"/models/{abs_forecaster.run_dir_.name}")
    assert status == 200 and strict_json(body)["task"] == "forecast"


def test_a_predict_route_takes_json_only_and_answers_the_models_refusal_as_a_422(client, abs_forecaster):
    body = json.dumps({"instances": [_instance()]})
    status, out = client.request("POST", "/predict", body, content_type=None)
    assert status == 415 and "Content-Type: application/json" in strict_json(out)["detail"]
    status, out = client.post_json({"instances": [{"y": [0.5] * 23, "temp": [0.5] * 23}]})    # the model's check
    assert status == 422 and out["detail"][0]["loc"] == ["body", "instances", 0, "y"], out


def test_stream_paths_refused_say_why(client):
    status, out = client.post_json({}, path="/models/nope/predict")
    assert status == 404 and "unknown model 'nope'" in out["detail"]
    ws = client.websocket("/models/nope/stream")
    assert ws.receive_json()["error"].startswith("unknown model 'nope' — stream one this service serves")
    assert ws.receive()["code"] == 1008
    status, body = client.request("GET", "/stream")
    assert status == 426 and "WebSocket client" in strict_json(body)["detail"]
    status, body = client.request("OPTIONS", "/health")
    assert status == 204 and body == b""


def test_several_models_publish_a_request_schema_each(abs_forecaster):
    run = abs_forecaster.run_dir_
    c = Client(_app({"a": run, "b": run}))
    try:
        schemas = strict_json(c.request("GET", "/openapi.json")[1])["components"]["schemas"]
        assert {"a_PredictRequest", "b_PredictRequest", "a_PredictResponse", "b_PredictResponse"} <= set(schemas)
        assert c.post_json({"instances": [_instance()]}, path="/models/b/predict")[0] == 200
    finally:
        c.close()


def test_a_missing_package_on_the_server_is_a_501_not_the_clients_422():
    from lstmkit.deploy.server import _refused
    from lstmkit.errors import MissingPackage
    e = _refused(MissingPackage("reading audio needs soundfile", "pip install soundfile", package="soundfile"))
    assert e.status_code == 501
    assert e.detail == "reading audio needs soundfile on the server — pip install soundfile where the service runs"


@pytest.fixture(scope="module")
def calendar_run(tmp_path_factory):
    """A forecaster with calendar features, its time column named ``when``."""
    from lstmkit.tasks.forecast.estimator import Forecaster
    d = tmp_path_factory.mktemp("calendar")
    sine_frame(n=240).rename(columns={"time": "when"}).to_csv(d / "series.csv", index=False)
    return Forecaster(**{**FAST, "max_epochs": 1, "calendar": "hour"}).fit(
        str(d / "series.csv"), target="y", time="when", out=d).run_dir_


def test_a_calendar_runs_request_takes_its_stamps_by_either_name_at_least_a_lookback_of_them(calendar_run):
    """The stamps by the training data's name were answered, yet the schema required "time" (session 57)."""
    c = Client(_app(calendar_run))
    try:
        spec = strict_json(c.request("GET", "/openapi.json")[1])
        inst = spec["components"]["schemas"]["ForecastInstance"]
        assert inst["properties"]["when"] == inst["properties"]["time"] and inst["properties"]["time"]["minItems"] == 24
        stamps = [str(t) for t in sine_frame(n=24)["time"]]
        for name in ("time", "when"):
            body = {"instances": [{"y": [10.0] * 24, name: stamps}]}
            assert _valid(spec, "PredictRequest", body) and c.post_json(body)[0] == 200, name
            short = {"instances": [{"y": [10.0] * 24, name: stamps[1:]}]}
            assert not _valid(spec, "PredictRequest", short)
            status, out = c.post_json(short)
            assert status == 422 and "at least 24 items" in out["detail"][0]["msg"], out
        for body in ({"y": [10.0] * 24}, {"y": [10.0] * 24, "time": stamps, "when": stamps}):   # none, or both
            assert not _valid(spec, "PredictRequest", {"instances": [body]})
            assert c.post_json({"instances": [body]})[0] == 422
    finally:
        c.close()


def test_a_services_published_integer_bounds_are_the_integers_it_checks(abs_forecaster, monkeypatch):
    """A request's integer field (an lm's seed) published with FastAPI's float bounds said 2**63, a seed refused."""
    from typing import Optional
    from pydantic import create_model
    from lstmkit.deploy import server
    from lstmkit.deploy.adapter import whole_int
    real = server.request_schemas

    def with_a_seed(*args):
        Request, Response = real(*args)
        return create_model(Request.__name__, __base__=Request,
                            seed=(Optional[whole_int(ge=0, le=2**63 - 1)], None)), Response
    monkeypatch.setattr(server, "request_schemas", with_a_seed)
    c = Client(_app(abs_forecaster.run_dir_))
    try:
        spec = strict_json(c.request("GET", "/openapi.json")[1])
        seed = spec["components"]["schemas"]["PredictRequest"]["properties"]["seed"]["anyOf"][0]
        assert seed["maximum"] == 2**63 - 1 and type(seed["maximum"]) is int, seed
        assert c.post_json({"instances": [_instance()], "seed": 2**63 - 1})[0] == 200
    finally:
        c.close()


def test_a_run_without_time_publishes_its_columns_too(tmp_path_factory):
    """A run whose instance has no named field (no time, future covariates or series id) is a plain mapping of
    columns: its schema says each column is required with the lookback's values, as the typed instance's does."""
    from lstmkit.tasks.forecast.estimator import Forecaster
    d = tmp_path_factory.mktemp("plain")
    sine_frame(n=240).drop(columns="time").to_csv(d / "series.csv", index=False)
    run = Forecaster(**{**FAST, "max_epochs": 1}).fit(str(d / "series.csv"), target="y", features="temp",
                                                      out=d).run_dir_
    c = Client(_app(run))
    try:
        spec = strict_json(c.request("GET", "/openapi.json")[1])
        instance = spec["components"]["schemas"]["PredictRequest"]["properties"]["instances"]["items"]
        assert instance["required"] == ["y", "temp"] and instance["additionalProperties"] is False
        assert instance["properties"]["y"]["minItems"] == instance["properties"]["temp"]["minItems"] == 24
    finally:
        c.close()
