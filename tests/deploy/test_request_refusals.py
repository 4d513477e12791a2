"""Each way a request body can be wrong gets its own 4xx with its own "problem — fix" message, checked on the
service's request layer alone (``lstmkit/deploy/request_errors.py``: its middlewares, the JSON-only route check
and the hand-read JSON of upload routes) without a fitted model: a compressed body, query parameters, HEAD,
a body of another Content-Type or of a recording, an empty body, a body that is not JSON, a key given twice,
a field of the wrong type."""
import asyncio
import json
from typing import Optional

import pytest

pytest.importorskip("fastapi")
from fastapi import FastAPI, HTTPException  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field  # noqa: E402

from asgi_client import Client  # noqa: E402
from lstmkit.deploy import request_errors as re_  # noqa: E402


class Ask(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: list[str] = Field(min_length=1, description="lines to score")
    beam: Optional[int] = Field(None, strict=True, ge=1, le=50)


def _through(middleware, method="POST", path="/predict", query=b"", headers=()):
    """``(status, detail or None, what the app behind saw)`` of one request through ``middleware(app)``."""
    seen, sent = [], []

    async def app(scope, receive, send):
        seen.append(scope["method"])
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-app", b"1")]})
        await send({"type": "http.response.body", "body": b"answer"})

    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "query_string": query, "headers": list(headers)}
    asyncio.run(middleware(app)(scope, receive, send))
    [start] = [m for m in sent if m["type"] == "http.response.start"]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    detail = json.loads(body)["detail"] if start["status"] != 200 else None
    return start["status"], detail, seen, body, dict(start["headers"])


@pytest.mark.parametrize("coding", ["gzip", "br", " GZIP "])
def test_a_compressed_body_is_a_415_that_says_send_it_uncompressed(coding):
    status, detail, seen, _, _ = _through(re_.PlainBodies, headers=[(b"content-encoding", coding.encode())])
    assert status == 415 and seen == []
    assert f"Content-Encoding {coding.strip()!r}" in detail and "send the body uncompressed" in detail, detail


@pytest.mark.parametrize("method, coding", [("POST", "identity"), ("POST", " Identity "), ("POST", ""),
                                            ("GET", "gzip"), ("HEAD", "gzip"), ("OPTIONS", "gzip")])
def test_an_uncompressed_body_or_a_request_without_one_reaches_the_service(method, coding):
    status, _, seen, _, _ = _through(re_.PlainBodies, method, headers=[(b"content-encoding", coding.encode())])
    assert (status, seen) == (200, [method])


@pytest.mark.parametrize("query, name", [(b"beam=5", "beam"), (b"beam", "beam"), (b"a=1&b=2", "a")])
def test_query_parameters_on_a_post_are_a_422_naming_the_first(query, name):
    status, detail, seen, _, _ = _through(re_.PlainBodies, query=query)
    assert status == 422 and seen == []
    [entry] = detail
    assert entry["loc"] == ["query", name]
    assert entry["msg"].startswith(f"POST /predict reads no query parameters, got {name!r} — send every field in "
                                   f"the JSON body"), entry


def test_a_get_may_carry_a_query():
    assert _through(re_.PlainBodies, "GET", query=b"verbose=1")[:3] == (200, None, ["GET"])


def test_head_is_answered_as_get_without_the_body():
    status, _, seen, body, headers = _through(re_.HeadAsGet, "HEAD", "/health")
    assert (status, seen, body, headers[b"x-app"]) == (200, ["GET"], b"", b"1")
    assert _through(re_.HeadAsGet, "GET", "/health")[2:4] == (["GET"], b"answer")     # a GET as it was
    assert _through(re_.HeadAsGet, "POST")[2:4] == (["POST"], b"answer")


@pytest.fixture(scope="module")
def client():
    """A service of one JSON-only route and one route reading its JSON body by hand (as an upload route's)."""
    from fastapi import Request
    app = FastAPI()

    @app.post("/predict", dependencies=[re_.json_only("/predict")])
    def predict(body: Ask):
        return {"ok": body.texts}

    @app.post("/upload")
    async def upload(request: Request):
        return {"ok": re_.validated(Ask, await request.body())["texts"]}
    c = Client(app)
    yield c
    c.close()


def _detail(client, path, body, content_type="application/json"):
    status, raw = client.request("POST", path, body, content_type)
    return status, json.loads(raw)["detail"]


@pytest.mark.parametrize("kind, problem", [
    ("text/plain", "Content-Type 'text/plain' is not a type POST /predict takes"),
    (None, "the body of POST /predict comes without a Content-Type header"),
])
def test_a_json_route_refuses_a_body_of_another_type_with_a_415(client, kind, problem):
    status, detail = _detail(client, "/predict", '{"texts": ["a"]}', kind)
    assert status == 415 and detail.startswith(problem), detail
    assert "Content-Type: application/json" in detail and "recording" not in detail


def test_a_recording_sent_to_a_json_route_is_told_only_speech_models_read_one(client):
    status, detail = _detail(client, "/predict", b"RIFF\x00\x00", "audio/wav")
    assert status == 415 and detail.endswith("a recording is read by a speech model alone (GET /models names each "
                                             "model's task)"), detail


@pytest.mark.parametrize("kind", ["application/json", "application/vnd.api+json", "application/json; charset=utf-8"])
def test_a_json_route_reads_any_json_type(client, kind):
    assert client.request("POST", "/predict", '{"texts": ["a"]}', kind) == (200, b'{"ok":["a"]}')


@pytest.mark.parametrize("content_type", ["application/json", None])
def test_an_empty_body_is_a_422_saying_it_is_empty(client, content_type):
    """Not a 415 for its missing Content-Type: the JSON route leaves it to the 422 (the service's handler words it
    as :func:`validated` does for a body read by hand)."""
    assert _detail(client, "/predict", b"", content_type)[0] == 422
    status, detail = _detail(client, "/upload", b" \n", content_type)
    assert status == 422, detail
    [entry] = detail
    assert entry["msg"].startswith("the body is empty — send the body as a JSON object with this request's "
                                   "fields (texts, beam;"), entry


@pytest.mark.parametrize("body, loc, problem, fix", [
    (b'{"texts": ["a"]', ["body"], "the body ", "send the body as JSON, numbers finite"),
    (b'{"texts": ["a"], "texts": ["b"]}', ["body", "texts"], "the body ", "send each field once"),
    (b'{"texts": "a"}', ["body", "texts"], "Input should be a valid list", "send texts as a JSON list [...]"),
    (b'{"texts": ["a"], "beam": "5"}', ["body", "beam"], "Input should be a valid integer",
     "send beam as a whole number from 1 to 50"),
    (b'{"texts": []}', ["body", "texts"], "List should have at least 1 item", "send at least 1 item in texts"),
    (b'[1, 2]', ["body"], "the body is a list, not a JSON object", "send the body as a JSON object"),
])
def test_a_hand_read_body_gets_a_422_at_its_problem(client, body, loc, problem, fix):
    status, detail = _detail(client, "/upload", body)
    assert status == 422, detail
    [entry] = detail
    assert entry["loc"] == loc and entry["msg"].startswith(problem), entry
    assert fix in entry["msg"].partition(" — ")[2], entry


def test_a_hand_read_body_nested_too_deeply_is_a_400():
    with pytest.raises(HTTPException) as e:
        re_.validated(Ask, b"[" * 100_000 + b"]" * 100_000)
    assert (e.value.status_code, e.value.detail) == (400, re_.UNREADABLE_BODY)


def test_a_hand_read_body_that_is_right_is_its_fields_without_those_left_out():
    assert re_.validated(Ask, b' {"texts": ["a"]} ') == {"texts": ["a"]}
