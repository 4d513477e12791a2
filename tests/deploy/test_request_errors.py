"""The service's 422 answers: every ``msg`` says what is wrong, then `` — `` and what to send
instead (the field's own range, type, size, the fields the request takes, its description),
in the service's ``detail`` format; on request models like the tasks' and through a served
forecaster (the in-process ASGI client, tests/asgi_client.py)."""
import json
from typing import Annotated, Optional, Union

import pytest

pytest.importorskip("fastapi")
from pydantic import BaseModel, ConfigDict, Field, ValidationError  # noqa: E402

from asgi_client import Client, strict_json  # noqa: E402
from forecast_data import sine_frame  # noqa: E402
from lstmkit.deploy.request_errors import validation_detail  # noqa: E402
from lstmkit.deploy.served import F32_MAX  # noqa: E402

Finite = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-F32_MAX, le=F32_MAX)]


class Item(BaseModel):
    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, list[Finite]]
    id: str = Field(description="the series")


class Request(BaseModel):
    """A request shaped as the tasks' are: bounds, optional fields, nested lists, unions, extras."""
    model_config = ConfigDict(extra="forbid")
    texts: list[Annotated[str, Field(max_length=5)]] = Field(min_length=1, max_length=3,
                                                            description="lines to score")
    beam: Optional[int] = Field(None, strict=True, ge=1, le=50)
    temperature: Optional[Annotated[Finite, Field(gt=0)]] = None
    top_k: Optional[Annotated[int, Field(strict=True)]] = Field(None, ge=1)
    series: Optional[list[list[Union[Finite, list[Finite]]]]] = None
    items: Optional[list[Item]] = None


def _messages(body: dict) -> dict[tuple, str]:
    with pytest.raises(ValidationError) as e:
        Request.model_validate(body)
    return {tuple(d["loc"]): d["msg"] for d in validation_detail(e.value.errors(), Request)}


OK = {"texts": ["a"]}


@pytest.mark.parametrize("body, loc, problem, fix", [
    ({**OK, "beam": 51}, ("beam",), "less than or equal to 50", "send a beam from 1 to 50"),
    ({**OK, "beam": 0}, ("beam",), "greater than or equal to 1", "send a beam from 1 to 50"),
    ({**OK, "beam": "5"}, ("beam",), "valid integer", "send beam as a whole number from 1 to 50"),
    ({**OK, "beam": 2.5}, ("beam",), "valid integer", "send beam as a whole number from 1 to 50"),
    ({**OK, "beam": True}, ("beam",), "valid integer", "send beam as a whole number from 1 to 50"),
    ({**OK, "temperature": 0}, ("temperature",), "greater than 0", "send a temperature greater than 0"),
    ({**OK, "top_k": 0}, ("top_k",), "greater than or equal to 1", "send a top_k of at least 1"),
    ({**OK, "temperature": 1e39}, ("temperature",), "float32 range", "send numbers within ±3.4e38"),
    ({**OK, "temperature": "hot"}, ("temperature",), "must be a number", "send temperature as JSON numbers"),
    # was "must be a number (not a string, boolean or null)": it is none of them
    ({**OK, "temperature": [0.5]}, ("temperature",), "must be a number, not a list", "send temperature as JSON"),
    ({**OK, "items": [{"id": "a", "y": [1.0, {"v": 2}]}]}, ("items", 0, "y", 1), "must be a number, not an object",
     "send y as JSON numbers"),
    ({"texts": []}, ("texts",), "at least 1 item", "send at least 1 item in texts"),
    ({"texts": ["a"] * 4}, ("texts",), "at most 3 items", "send at most 3 items in texts; split the rest"),
    ({"texts": ["abcdefg"]}, ("texts", 0), "at most 5 characters", "send at most 5 characters in texts"),
    ({"texts": "a"}, ("texts",), "valid list", "send texts as a JSON list"),
    ({"texts": [3]}, ("texts", 0), "valid string", 'send texts as a string'),
    ({}, ("texts",), "Field required", "send texts: lines to score"),
    ({**OK, "bem": 5}, ("bem",), "Extra inputs", "leave bem out; this request takes: texts, beam, temperature, "
                                                "top_k, series, items"),
    ({**OK, "series": [[1.0, "x"]]}, ("series", 0, 1, "constrained-float"), "must be a number",
     "send series as JSON numbers"),
    ({**OK, "items": [{"id": "a", "y": [1.0, 1e39]}]}, ("items", 0, "y", 1), "float32 range",
     "send numbers within ±3.4e38"),
    ({**OK, "items": [{"y": [1.0]}]}, ("items", 0, "id"), "Field required", "send id: the series"),
    # the whole body no JSON object: was "Input should be a valid dictionary ... — send the value as a JSON object"
    (None, (), "the body is null, not a JSON object", "send the body as a JSON object with this request's fields "
                                                      "(texts, beam, temperature, top_k, series, items;"),
    ([OK], (), "the body is a list, not a JSON object", "send the body as a JSON object with this request's"),
    (False, (), "the body is the boolean false, not", "send the body as a JSON object"),
])
def test_each_422_says_what_to_send_instead(body, loc, problem, fix):
    msg = _messages(body)[loc]
    text, _, instead = msg.partition(" — ")
    assert problem in text and instead.startswith(fix), msg


def test_without_the_request_model_a_fix_still_comes_from_the_error():
    with pytest.raises(ValidationError) as e:
        Request.model_validate({**OK, "beam": 51})
    (detail,) = validation_detail(e.value.errors())
    assert detail == {"loc": ["beam"], "type": "less_than_equal",
                      "msg": "Input should be less than or equal to 50 — send a beam of at most 50"}


def test_errors_alike_at_many_list_positions_are_one_entry_that_counts_them():
    """Each position was an entry of its own: a 1 MB body of strings for numbers was answered with
    36 MB of 422 (240,000 entries). Errors of one kind at the same place in each list item are one."""
    with pytest.raises(ValidationError) as e:
        Request.model_validate({"texts": ["a", 5, 6], "items": [{"id": "a", "y": ["x"] * 1000}, {"id": 1}] +
                               [{"id": "b", "y": [True] * 10}], "bem": 1})
    detail = {tuple(d["loc"]): d["msg"] for d in validation_detail(e.value.errors(), Request)}
    assert list(detail) == [("texts", 1), ("items", 0, "y", 0), ("items", 1, "id"), ("bem",)], detail
    assert detail[("texts", 1)].startswith("Input should be a valid string (and 1 more like it) — send texts as")
    assert detail[("items", 0, "y", 0)].startswith("must be a number (not a string, boolean or null) (and 1,009 "
                                                   "more like it) — send y as JSON numbers")
    assert "more like it" not in detail[("items", 1, "id")] + detail[("bem",)]


def test_a_real_server_answers_a_body_of_wrong_values_with_one_short_entry(abs_forecaster):
    from serve_helpers import call_json, running_server
    bad = {"instances": [{"y": [[1.0]] * 50_000, "temp": [0.5] * 50_000}]}      # one level too deep
    with running_server("--run", abs_forecaster.run_dir_, "--engine", "torch") as (_, port):
        status, answer = call_json(port, "/predict", bad)
    assert status == 422 and len(json.dumps(answer)) < 400, str(answer)[:300]
    (entry,) = answer["detail"]
    assert entry["loc"] == ["body", "instances", 0, "y", 0]
    assert entry["msg"].startswith("must be a number, not a list (and 49,999 more like it) — send y as JSON numbers")


@pytest.fixture(scope="module")
def client(abs_forecaster):
    from lstmkit.deploy.server import create_app
    c = Client(create_app({"f": abs_forecaster.run_dir_}, engine="torch", max_instances=4))
    yield c
    c.close()


def _instance():
    df = sine_frame(n=30, seed=0)
    return {"y": df["y"].tolist(), "temp": df["temp"].tolist()}


@pytest.mark.parametrize("body, loc, fix", [
    ({"instances": []}, ["body", "instances"], "send at least 1 item in instances"),
    ({"instances": [_instance()] * 5}, ["body", "instances"], "send at most 4 items in instances; split the rest"),
    ({"instances": [_instance()], "horizon": 3}, ["body", "horizon"], "leave horizon out; this request takes: instances"),
    ({}, ["body", "instances"], "send instances: each: {column: history} for columns ['y', 'temp']"),
    ({"instances": [{**_instance(), "temp": ["warm"] * 30}]}, ["body", "instances", 0, "temp", 0],
     "send temp as JSON numbers"),
])
def test_a_served_model_answers_the_fix_in_its_422(client, body, loc, fix):
    status, raw = client.request("POST", "/models/f/predict", json.dumps(body))
    detail = strict_json(raw)["detail"]
    assert status == 422 and detail[0]["loc"] == loc and set(detail[0]) == {"loc", "msg", "type"}, detail
    assert fix in detail[0]["msg"].partition(" — ")[2], detail


def test_the_fix_reaches_a_model_served_alone_too(abs_forecaster):
    """One run: ``/predict`` answers for it, with its own request model behind the fix."""
    from lstmkit.deploy.server import create_app
    c = Client(create_app(abs_forecaster.run_dir_, engine="torch", max_instances=2))
    try:
        status, out = c.post_json({"instances": [_instance()] * 3})
    finally:
        c.close()
    assert status == 422 and out["detail"][0]["msg"].endswith("send at most 2 items in instances; "
                                                             "split the rest into more requests")


def test_a_number_too_large_for_json_or_a_float_is_named_so():
    """10**400 is a JSON number (pydantic: "not a valid number"), and one of 5,000 digits valid JSON
    Python will not read: both were told they were not numbers / not JSON."""
    from fastapi import HTTPException
    from lstmkit.deploy.request_errors import validated
    with pytest.raises(ValidationError) as e:
        Item.model_validate({"id": "a", "y": [10 ** 400]})
    [d] = validation_detail(e.value.errors(), Item)
    assert d["msg"].startswith("must be within the float32 range") and "±3.4e38" in d["msg"], d
    with pytest.raises(HTTPException) as e:
        validated(Item, b'{"id": "a", "y": [1' + b"0" * 4999 + b"]}")
    assert "more than 4300 digits" in e.value.detail[0]["msg"], e.value.detail
    with pytest.raises(HTTPException) as e:            # JSON nested deeper than Python reads: a 400, not a 422
        validated(Item, b"[" * 100_000 + b"]" * 100_000)
    assert e.value.status_code == 400 and "nested too deeply" in e.value.detail, e.value.detail


def _through_body_limit(limit, chunks, content_length=None, respond_first=False):
    """``(status, body bytes the app read)`` of one POST through :class:`BodyLimit` whose body comes in
    ``chunks``; the app behind it reads the whole body and answers 200."""
    import asyncio
    from lstmkit.deploy.request_errors import BodyLimit
    read, sent = [], []

    async def app(scope, receive, send):
        if respond_first:                          # a streaming answer begun before the body is read
            await send({"type": "http.response.start", "status": 200, "headers": []})
        more = True
        while more:
            message = await receive()
            read.append(message.get("body", b""))
            more = message.get("more_body", False)
        if not respond_first:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    messages = [{"type": "http.request", "body": c, "more_body": k < len(chunks) - 1} for k, c in enumerate(chunks)]

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    headers = [] if content_length is None else [(b"content-length", str(content_length).encode())]
    scope = {"type": "http", "method": "POST", "path": "/predict", "headers": headers}
    asyncio.run(BodyLimit(app, limit)(scope, receive, send))
    starts = [m["status"] for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1, sent                  # one answer, never a second start
    return starts[0], b"".join(read)


@pytest.mark.parametrize("declared", [True, False])
def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_a_413(declared):
    """"Over ``limit`` bytes" is a 413: a body of ``limit`` bytes reaches the app whole, one of
    ``limit + 1`` does not, whether its Content-Length says so up front or it streams in chunks."""
    for chunks, status in (([b"a" * 6, b"b" * 4], 200), ([b"a" * 6, b"b" * 5], 413)):
        size = sum(map(len, chunks))
        got, read = _through_body_limit(10, chunks, size if declared else None)
        assert got == status, (size, declared)
        if status == 200:
            assert read == b"".join(chunks)
        elif declared:
            assert read == b""                     # refused before the app read a byte


class Sampling(BaseModel):
    """Bounds of a field's own that are floats, and exclusive on the upper side."""
    top_p: Optional[float] = Field(None, gt=0.0, le=1.0)
    window: Optional[int] = Field(None, ge=1, lt=10)


@pytest.mark.parametrize("body, want", [
    ({"top_p": 1.5}, "Input should be less than or equal to 1 — send a top_p greater than 0 and of at most 1"),
    ({"top_p": 0.0}, "Input should be greater than 0 — send a top_p greater than 0 and of at most 1"),
    ({"window": 10}, "Input should be less than 10 — send a window of at least 1 and less than 10"),
])
def test_a_fields_own_float_or_exclusive_bound_is_named_as_its_own(body, want):
    """Only the float32 range's ±3.4e38 is "the float32 range": a field's own float bound (``le=1.0``)
    is its own limit, and ``lt=10`` is an upper bound that excludes 10."""
    with pytest.raises(ValidationError) as e:
        Sampling.model_validate(body)
    [d] = validation_detail(e.value.errors(), Sampling)
    assert d["msg"] == want, d


def test_a_body_over_the_limit_after_the_answer_began_ends_it_without_a_second_answer():
    """An app that began its answer before reading the body cannot be given a 413 over it (ASGI
    allows one response start): the body over the limit stops the app, the 200 already sent stands."""
    assert _through_body_limit(10, [b"a" * 6, b"b" * 5], respond_first=True)[0] == 200
