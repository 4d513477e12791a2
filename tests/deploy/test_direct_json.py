"""A POST of JSON that the route's request model takes is read and answered by the route itself
(``request_errors.strict_json_route``), not by FastAPI's handler: the same answer, byte for byte
(status, headers, body), as FastAPI's handler gives; any other request is left to that handler."""
import asyncio
import json

import pytest

pytest.importorskip("fastapi")

import lstmkit.deploy.request_errors as request_errors  # noqa: E402
from forecast_data import sine_frame  # noqa: E402


def _instance(n=30, seed=0):
    df = sine_frame(n=n, seed=seed)
    return {"y": df["y"].tolist(), "temp": df["temp"].tolist()}


JSON = "application/json"
# (body, Content-Type, whether the route answers it itself)
CASES = [
    (json.dumps({"instances": [_instance()]}), JSON, True),
    (json.dumps({"instances": [_instance(), _instance(seed=1)]}), "application/json; charset=utf-8", True),
    (json.dumps({"instances": [_instance()]}), "Application/JSON", True),
    (json.dumps({"instances": [_instance(n=2)]}), JSON, True),                  # the model's refusal: a 422
    (json.dumps({"instances": [_instance()]}), "application/vnd.api+json", False),
    (json.dumps({"instances": [_instance()]}), "text/plain", False),
    (json.dumps({"instances": [_instance()]}), None, False),
    ('{"instances": [], "instances": []}', JSON, False),
    ('{"instances": [', JSON, False),
    ("", JSON, False),
    ("null", JSON, False),
    ('{"instances": [{"y": [NaN], "temp": [1.0]}]}', JSON, False),
    (json.dumps({"instances": [_instance()], "beam": 5}), JSON, False),
    ("[" * 100_000 + "]" * 100_000, JSON, False),
]


def _answer(app, body: str, content_type, path: str = "/predict") -> list[dict]:
    """Every message the app sends for one request."""
    raw = body.encode()
    pending = [{"type": "http.request", "body": raw, "more_body": False}]
    sent: list[dict] = []

    async def receive():
        if pending:
            return pending.pop()
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80),
             "headers": [(b"host", b"test"), (b"content-length", str(len(raw)).encode()),
                         *([(b"content-type", content_type.encode())] if content_type is not None else [])]}
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
    return sent


@pytest.fixture(scope="module")
def app(abs_forecaster):
    from lstmkit.deploy.server import create_app
    return create_app(abs_forecaster.run_dir_, engine="torch", watch=0)


def test_the_route_answers_plain_json_itself_byte_for_byte_as_fastapi(app, abs_forecaster, monkeypatch):
    real, taken = request_errors._plain_json_request, []

    async def watched(request, Request):
        checked = await real(request, Request)
        taken.append(checked is not None)
        return checked

    async def never(request, Request):         # every request through FastAPI's handler, as before
        return None

    for path in ("/predict", f"/models/{abs_forecaster.run_dir_.name}/predict"):
        for body, content_type, direct in CASES:
            monkeypatch.setattr(request_errors, "_plain_json_request", watched)
            taken.clear()
            answer = _answer(app, body, content_type, path)
            assert taken == [direct], (path, body[:40], content_type)
            monkeypatch.setattr(request_errors, "_plain_json_request", never)
            assert answer == _answer(app, body, content_type, path), (path, body[:40], content_type)
            assert answer[0]["status"] == (200 if direct and body != CASES[3][0] else answer[0]["status"])


def test_the_direct_answer_is_the_estimators_and_a_refusal_names_its_field(app, abs_forecaster):
    answer = _answer(app, json.dumps({"instances": [_instance(seed=2)]}), JSON)
    assert answer[0]["status"] == 200
    want = abs_forecaster.predict(sine_frame(n=30, seed=2), engine="torch")["y"]
    assert max(abs(a - b) for a, b in zip(json.loads(answer[1]["body"])["predictions"][0]["y"], want)) < 1e-5
    refused = _answer(app, json.dumps({"instances": [_instance(n=2)]}), JSON)
    detail = json.loads(refused[1]["body"])["detail"]
    assert refused[0]["status"] == 422 and detail[0]["loc"][:3] == ["body", "instances", 0]


def test_a_plain_json_post_skips_fastapis_request_handling_and_any_other_goes_through_it(app, monkeypatch):
    """The point of the direct route: FastAPI's body parsing, dependencies and endpoint call (about half the
    service's CPU per request) are not run for a JSON body the request model takes (the model's own refusal
    included); a body sent as text, or with a field the request model does not take, is FastAPI's to answer."""
    import fastapi.routing
    real, solved = fastapi.routing.solve_dependencies, []

    async def counted(*args, **kwargs):
        solved.append(1)
        return await real(*args, **kwargs)
    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counted)
    plain = json.dumps({"instances": [_instance()]})
    for body, content_type, through_fastapi in [(plain, JSON, False), (plain, "text/plain", True),
                                                (json.dumps({"instances": [_instance(n=2)]}), JSON, False),
                                                (json.dumps({"instances": [_instance()], "beam": 5}), JSON, True)]:
        solved.clear()
        answer = _answer(app, body, content_type)
        assert bool(solved) is through_fastapi, (body[:40], content_type)
        assert answer[0]["status"] == 200 or (body, content_type) != (plain, JSON)
