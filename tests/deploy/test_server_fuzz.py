"""Property-based fuzzing of the HTTP service in process: whatever JSON (or not-quite JSON) a
client sends, the answer is never a 5xx and its body is standard JSON (no NaN/Infinity tokens)."""
import json
import math

import pytest

pytest.importorskip("fastapi")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from asgi_client import Client, strict_json  # noqa: E402
from forecast_data import sine_frame  # noqa: E402

FUZZ = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# numbers a client may send, the awkward ones often
numbers = (st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10 ** 400, 10 ** 400)
           | st.sampled_from([3.4028234663852886e38, -3.4028234663852886e38, 3.5e38, 1e308, -1e308, 0.0, -0.0,
                              5e-324, 1e-45, 1e20]))
scalars = st.none() | st.booleans() | numbers | st.text(max_size=4)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=12)


@pytest.fixture(scope="module")
def client(abs_forecaster):
    from lstmkit.deploy.server import create_app
    c = Client(create_app(abs_forecaster.run_dir_, engine="torch", max_body=200_000))
    yield c
    c.close()


@pytest.fixture(scope="module")
def good_instance():
    df = sine_frame(n=26, seed=3)
    return {"y": df["y"].tolist(), "temp": df["temp"].tolist()}


def _check(status: int, body: bytes) -> None:
    assert status < 500, (status, body[:300])
    out = strict_json(body)                          # raises on NaN / Infinity tokens
    if status == 200:
        assert all(math.isfinite(v) for p in out["predictions"] for v in p["y"])
    else:
        assert "detail" in out


def _post(client, obj) -> None:
    # json.dumps writes NaN / Infinity tokens for non-finite floats, as a careless client would
    _check(*client.request("POST", "/predict", json.dumps(obj)))


@FUZZ
@given(body=json_values)
def test_any_json_body(client, body):
    _post(client, body)


@FUZZ
@given(instances=st.lists(st.dictionaries(st.sampled_from(["y", "temp", "x"]),
                                          st.lists(scalars, min_size=20, max_size=28), max_size=3),
                          max_size=3))
def test_instances_of_any_values(client, instances):
    _post(client, {"instances": instances})


@FUZZ
@given(column=st.sampled_from(["y", "temp"]), index=st.integers(0, 25), value=json_values,
       scale=st.sampled_from([1.0, 1e30, -1e38, 3.4e38]))
def test_a_good_instance_with_one_odd_value(client, good_instance, column, index, value, scale):
    inst = {k: [x * scale for x in v] for k, v in good_instance.items()}
    inst[column][index] = value
    _post(client, {"instances": [inst]})


@FUZZ
@given(data=st.binary(max_size=64))
def test_any_bytes(client, data):
    _check(*client.request("POST", "/predict", data))


@settings(FUZZ, max_examples=80)
@given(message=json_values | st.text(max_size=8))
def test_stream_answers_any_message_in_json(client, message):
    ws = client.websocket()
    try:
        ws.send_text(message if isinstance(message, str) else json.dumps(message))
        answer = ws.receive_json()                   # strict: no NaN token
        assert ("error" in answer) != ("forecast" in answer or "reset" in answer or "restored" in answer
                                       or "state" in answer), answer
    finally:
        ws.close()


@pytest.fixture(scope="module")
def real_state(client):
    ws = client.websocket()
    try:
        ws.send_text(json.dumps({"y": 1.0, "temp": 0.5}))
        ws.receive_json()
        ws.send_text(json.dumps({"op": "state"}))
        return ws.receive_json()["state"]
    finally:
        ws.close()


state_arrays = st.lists(st.lists(st.lists(numbers | scalars, max_size=17), max_size=2), max_size=3)


@settings(FUZZ, max_examples=80)
@given(record=st.fixed_dictionaries({}, optional={"steps": json_values, "h": state_arrays | json_values,
                                                  "c": state_arrays | json_values}),
       header_edit=st.dictionaries(st.sampled_from(["format", "mode", "input_size", "state", "window", "streams"]),
                                   json_values, max_size=2))
def test_stream_restore_of_any_state(client, real_state, record, header_edit):
    state = {**real_state, "streams": {"this": record}, **header_edit}
    ws = client.websocket()
    try:
        ws.send_text(json.dumps({"op": "restore", "state": state}))
        answer = ws.receive_json()
        assert ("error" in answer) != ("restored" in answer), answer
        ws.send_text(json.dumps({"y": 1.0, "temp": 0.5}))
        answer = ws.receive_json()                   # the stream still works, with finite answers
        assert "error" in answer or all(math.isfinite(v) for v in answer["forecast"]["y"]), answer
    finally:
        ws.close()
