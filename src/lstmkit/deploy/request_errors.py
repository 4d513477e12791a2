"""What the HTTP service (:mod:`lstmkit.deploy.server`) answers a request it cannot take, each
"problem — fix" as a 422's messages are: the 413 for a body over the limit (an ASGI middleware), the
400 for a body that is not UTF-8 JSON, the 404 / 405 for a path or method no route takes (``OPTIONS``:
a 204 whose ``Allow`` lists the route's methods), the 415 for a body of a Content-Type the route does
not take, and the 422 whose ``detail`` is a list of
``{"loc": [...], "msg": ..., "type": ...}``, built from pydantic's errors without echoing the input (it
may hold NaN, which is not JSON). ``HEAD`` is answered as ``GET`` is, without the body (it was a 405)."""
# No `from __future__ import annotations`, as in server.py: the app's modules resolve types at run time.
import functools
import json
from typing import Any
from urllib.parse import parse_qsl

from lstmkit.deploy.served import F32_MAX, JSON_TYPES, KeyTwice, json_problem, read_json

__all__ = ["BodyLimit", "HeadAsGet", "PlainBodies", "UNPARSED", "UNREADABLE_BODY", "no_route", "wrong_method",
           "allow_header", "validation_detail",
           "unprocessable", "validated", "media_type", "json_type", "unsupported_type", "form_upload", "json_only",
           "looks_like_json", "strict_json_route"]

UNPARSED = "There was an error parsing the body"      # FastAPI's words for a body json.loads failed on
UNREADABLE_BODY = (f"{UNPARSED}: it is not UTF-8 text, it is nested too deeply to read, or it holds a number of "
                   "more than 4300 digits — send the request as UTF-8 JSON (Content-Type: application/json), "
                   "lists nested less deeply, numbers within ±3.4e38")
_NUMBER_MESSAGES = {"finite_number": "must be a finite number (NaN and Infinity are not allowed)",
                    "less_than_equal": "must be within the float32 range (|x| <= 3.4e38)",
                    "greater_than_equal": "must be within the float32 range (|x| <= 3.4e38)",
                    "float_type": "must be a number (not a string, boolean or null)"}


class BodyLimit:
    """ASGI middleware: 413 for HTTP bodies over ``limit`` bytes (declared or streamed)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._reject(send)
        seen = 0
        started = False

        async def counting_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(send)

    async def _reject(self, send):
        await _answer(send, 413, f"request body larger than {self.limit} bytes — send less per request "
                                 "(fewer instances or texts, a shorter recording), or start the service with a "
                                 "larger body limit (GET /models shows it: limits.max_body_bytes)")


class _TooLarge(Exception):
    pass


async def _answer(send, status: int, detail: Any) -> None:
    """An ASGI middleware's own JSON answer ``{"detail": ...}``."""
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class PlainBodies:
    """ASGI middleware for requests that carry a body (POST, PUT, ...): one sent with a ``Content-Encoding``
    (gzip, br, ...) is a 415, and one with query parameters a 422 naming the first. The service reads bodies
    as they are: a gzipped JSON body was a 400 "not UTF-8 text", a plain body labelled gzip was read without
    a word; and every request field is in the body: ``POST /predict?beam=5`` was answered with the default beam."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            coding = dict(scope.get("headers") or []).get(b"content-encoding", b"").decode("latin-1").strip()
            if coding and coding.lower() != "identity":
                return await _answer(send, 415, f"the request body has Content-Encoding {coding!r}, which this "
                                                "service does not read — send the body uncompressed, without a "
                                                "Content-Encoding header")
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            if query:
                name = query[0][0]
                return await _answer(send, 422, [{
                    "loc": ["query", name], "type": "value_error",
                    "msg": f"{scope['method']} {scope['path']} reads no query parameters, got {name!r} — send every "
                           f"field in the JSON body (e.g. {{..., {json.dumps(name)}: ...}}), and nothing after '?'"}])
        return await self.app(scope, receive, send)


class HeadAsGet:
    """ASGI middleware: ``HEAD`` answered as ``GET`` is, headers only (FastAPI's GET routes took no
    HEAD: ``curl -I /health`` and a load balancer's HEAD check were a 405)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def headers_only(message):
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        # a copy: the server reads its own scope's method to leave out the body it is sent
        await self.app({**scope, "method": "GET"}, receive, headers_only)


def media_type(header: str | None) -> str:
    """A Content-Type header's media type in lower case, without its parameters ('' for none)."""
    return (header or "").split(";")[0].strip().lower()


def json_type(kind: str) -> bool:
    """Whether the media type ``kind`` is JSON (``application/json``, or any ``+json`` type)."""
    return kind in JSON_TYPES or kind.endswith("+json")


def looks_like_json(body: bytes) -> bool:
    """Whether ``body`` begins as a JSON text does (an object, list, string, number or literal)."""
    head = body.lstrip()[:1]
    return bool(head) and head in b'{["-0123456789tfn'


def unsupported_type(kind: str | None, path: str, accepted: list[str], send: list[str], what: str = "the body") -> str:
    """The 415 for a body whose Content-Type (``kind``; None: no header) the route does not take:
    the header to send ``what`` with (one of ``send``) and every type it takes. A body without the
    header is not guessed at: a web page may send one to a service on this machine without the
    browser asking it first (FastAPI's strict Content-Type check, on since 0.132, refuses it so)."""
    problem = (f"Content-Type {kind!r} is not a type POST {path} takes" if kind
               else f"the body of POST {path} comes without a Content-Type header")
    headers = " or ".join(f"Content-Type: {t}" for t in send)
    return (f"{problem} — send {what} with the header {headers} (curl: -H 'Content-Type: {send[0]}'); "
            f"this route takes: {', '.join(accepted)}")


def form_upload(kind: str, path: str, accepted: list[str], upload: str) -> str:
    """The 415 for a multipart form (``curl -F file=@clip.wav``, a browser form) to a route that takes
    uploads (``upload``: its first upload type) as the body itself; it was told to send
    ``Content-Type: application/json``. A form is never read: a web page may send one to a service
    on this machine without the browser asking it first."""
    return (f"the body is a {kind} form (curl -F, a browser form), which POST {path} does not read — send the "
            f"file's bytes themselves as the body, with the header Content-Type: {upload} (curl: -T FILE -X POST "
            f"-H 'Content-Type: {upload}'; Python: Client.upload(path)); this route takes: {', '.join(accepted)}")


def json_only(path: str):
    """A route dependency: a body without a Content-Type header, or of a type other than JSON, is a
    415 (FastAPI read it as bytes, then told a JSON object sent as text/plain "Input should be a valid
    dictionary"); an empty body is left to the 422 that says so."""
    from fastapi import Depends, HTTPException, Request

    async def check(request: Request) -> None:
        kind = media_type(request.headers.get("content-type"))
        if json_type(kind) or not await request.body():
            return
        detail = unsupported_type(kind or None, path, ["application/json"], ["application/json"], "the request as JSON")
        if kind.startswith("audio/"):         # Client.upload(wav, model=...) to a model that is no speech model
            detail += "; a recording is read by a speech model alone (GET /models names each model's task)"
        raise HTTPException(415, detail=detail)
    return Depends(check)


def no_route(method: str, path: str, routes: str) -> str:
    """The 404 for a path no route takes (Starlette's was "Not Found"); ``routes``: the service's."""
    return f"no route {method} {path} on this service — send to one of its routes: {routes} (GET /docs lists them all)"


def wrong_method(method: str, path: str, allow: str) -> str:
    """The 405 for a route that takes other methods (Starlette's was "Method Not Allowed");
    ``allow``: its ``Allow`` header ("POST", "GET, HEAD")."""
    methods = {m.strip().upper() for m in allow.split(",") if m.strip()}
    if "GET" in methods:                       # HEAD comes with every GET: no news to a client
        methods.discard("HEAD")
    methods = sorted(methods)
    return f"{path} does not take {method} — send {' or '.join(methods) or 'another method'} {path}"


def allow_header(allow: str) -> str:
    """The ``Allow`` header of a 204 to ``OPTIONS``: a route's (Starlette's: "POST", "GET"), with
    ``HEAD`` where it takes ``GET`` (:class:`HeadAsGet`) and ``OPTIONS`` itself."""
    methods = [m.strip().upper() for m in allow.split(",") if m.strip()]
    return ", ".join(dict.fromkeys([*methods, *(["HEAD"] if "GET" in methods else []), "OPTIONS"]))


def validation_detail(errors, Request=None) -> list[dict[str, Any]]:
    """pydantic's errors -> the service's 422 ``detail`` (no input echoed: it may hold NaN); each
    ``msg`` is the problem, then `` — `` and what to send instead (the field's range, type, size or
    description read from ``Request``, the route's request model, when it is known). Errors of one
    kind at places that differ only in their list positions are one entry, at the first place, that
    counts the rest (a body of 240,000 strings for numbers was answered with 240,000 entries, 36 MB)."""
    detail: list[dict[str, Any]] = []
    alike: dict[tuple, list[int]] = {}          # (type, loc less its positions) -> [its entry, how many more]
    for e in errors:
        loc = [p if isinstance(p, (int, str)) else str(p) for p in e.get("loc", ())]
        kind = str(e.get("type", "value_error"))
        key = (kind, *("[]" if isinstance(p, int) else p for p in loc))
        if key in alike:
            alike[key][1] += 1
            continue
        alike[key] = [len(detail), 0]
        detail.append({"loc": loc, "msg": _whole_body(e, Request) or f"{_message(e)} — {_fix(e, Request)}",
                       "type": kind})
    for at, more in alike.values():
        if more:
            problem, _, fix = detail[at]["msg"].partition(" — ")
            detail[at]["msg"] = f"{problem} (and {more:,} more like it) — {fix}"
    return detail


_BODY_TYPES = ("missing", "model_attributes_type", "model_type", "dict_type")


def _whole_body(error: dict, Request) -> str | None:
    """The message for a body that is empty or no JSON object (``null``, a list, a number): it was
    "Field required — send the value" and "Input should be a valid dictionary ... — send the value as a
    JSON object"; None for an error about a field inside the body."""
    if list(error.get("loc", ())) not in ([], ["body"]) or error.get("type") not in _BODY_TYPES:
        return None
    problem = ("the body is empty" if error.get("type") == "missing"
               else f"the body is {_json_kind(error.get('input'))}, not a JSON object")
    fields = list(_json_schema(Request).get("properties", {})) if Request is not None else []
    takes = f" with this request's fields ({', '.join(fields)}; GET /docs describes them)" if fields else ""
    return f"{problem} — send the body as a JSON object{takes}, Content-Type: application/json"


def _json_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "a value of another kind"


def _too_large_integer(error: dict) -> bool:
    """A JSON integer too large for a float (10**400): pydantic calls it "not a valid number"."""
    value = error.get("input")
    return error.get("type") == "float_type" and isinstance(value, int) and not isinstance(value, bool)


def _message(error: dict) -> str:
    """A pydantic error's message; a bound is named as the float32 range only where it is that range
    (``beam`` 51 was told "must be within the float32 range", not its own limit of 50)."""
    if _too_large_integer(error):
        return _NUMBER_MESSAGES["less_than_equal"]
    if error.get("type") == "float_type" and isinstance(error.get("input"), (list, dict)):
        return f"must be a number, not {_json_kind(error.get('input'))}"
    if error.get("type") in ("less_than_equal", "greater_than_equal") and not _float32_bound(error):
        return str(error.get("msg", "invalid value"))            # "Input should be less than or equal to 50"
    return _NUMBER_MESSAGES.get(error.get("type"), str(error.get("msg", "invalid value")))


def _float32_bound(error: dict) -> bool:
    return any(isinstance(b, float) and abs(b) == F32_MAX for b in (error.get("ctx") or {}).values())


def _fix(error: dict, Request) -> str:
    """What to send instead of the value ``error`` is about."""
    kind, ctx = str(error.get("type")), error.get("ctx") or {}
    loc = list(error.get("loc", ()))
    node, name, siblings = _field(Request, loc[1:] if loc[:1] == ["body"] else loc)
    name = name or next((p for p in reversed(loc) if isinstance(p, str) and p != "body"), "the value")
    low, high = _bounds(node)
    span = _span(low, high)
    if kind in ("less_than_equal", "greater_than_equal") and _float32_bound(error) or _too_large_integer(error):
        return "send numbers within ±3.4e38 (scale the data down if it is larger)"
    if kind in ("less_than_equal", "greater_than_equal", "less_than", "greater_than"):
        return f"send a {name} {span or _span(_ctx_bound(ctx, 'g'), _ctx_bound(ctx, 'l'))}"
    if kind == "finite_number":
        return "send finite numbers (fill or drop the missing values: NaN and Infinity are not JSON)"
    if kind.startswith("int_"):
        return f"send {name} as a whole number{' ' + span if span else ''} (not a string, a fraction or a boolean)"
    if kind.startswith("float_"):
        return f"send {name} as JSON numbers{' ' + span if span else ''}, e.g. 0.25"
    if kind.startswith("bool_"):
        return f"send {name} as true or false"
    if kind.startswith("string_") and kind not in ("string_too_long", "string_too_short"):
        return f'send {name} as a string ("...")'
    if kind == "list_type":
        return f"send {name} as a JSON list [...]"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"send {name} as a JSON object {{...}}"
    if kind == "too_short":
        return f"send at least {_count(ctx.get('min_length'), 'item')} in {name}"
    if kind == "too_long":
        return f"send at most {_count(ctx.get('max_length'), 'item')} in {name}; split the rest into more requests"
    if kind == "string_too_short":
        return f"send at least {_count(ctx.get('min_length'), 'character')} in {name}"
    if kind == "string_too_long":
        return f"send at most {_count(ctx.get('max_length'), 'character')} in {name}; split the text"
    if kind == "missing":
        about = (node or {}).get("description")
        return f"send {name}: {about}" if about else f"send {name} (its type is in /docs)"
    if kind == "extra_forbidden":
        return f"leave {name} out" + (f"; this request takes: {', '.join(siblings)}" if siblings else "")
    if ctx.get("hint"):                        # a task's own check, with its fix (PydanticCustomError)
        return str(ctx["hint"])
    if kind == "json_invalid":
        return "send the body as JSON (NaN and Infinity are not JSON)"
    return "see the request's fields in /docs"


def _ctx_bound(ctx: dict, side: str) -> tuple[float, bool] | None:
    """pydantic's ``ctx`` bound on one side ('g': lower, 'l': upper) as ``(value, exclusive)``."""
    for key, exclusive in ((f"{side}e", False), (f"{side}t", True)):
        if key in ctx:
            return ctx[key], exclusive
    return None


def _span(low, high) -> str:
    """"from 1 to 50", "of at least 1", "greater than 0", ... ('' with no bound)."""
    def num(v):
        return f"{v:g}" if isinstance(v, float) else str(v)
    if low and high and not low[1] and not high[1]:
        return f"from {num(low[0])} to {num(high[0])}"
    parts = ([f"greater than {num(low[0])}" if low[1] else f"of at least {num(low[0])}"] if low else []) + (
        [f"less than {num(high[0])}" if high[1] else f"of at most {num(high[0])}"] if high else [])
    return " and ".join(parts)


def _count(n, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def _field(Request, loc: list) -> tuple[dict | None, str | None, list[str] | None]:
    """``(schema, name, names its object takes)`` of the field at ``loc`` in ``Request``'s JSON
    schema; Nones where the walk cannot follow (no model known, a key the schema does not have)."""
    if Request is None:
        return None, None, None
    root = _json_schema(Request)
    defs = root.get("$defs", {})
    node, name, siblings = root, None, None
    for key in loc:
        if isinstance(key, int):
            holder = _branch(node, defs, "items")
            if holder is None:
                return None, name, siblings
            node = holder["items"]
            continue
        obj = _branch(node, defs, "properties") or _branch(node, defs, "additionalProperties")
        if obj is None:                        # a union member's tag ("constrained-float"): same field
            continue
        siblings = list(obj.get("properties", {}))
        if key in obj.get("properties", {}):
            node, name = obj["properties"][key], key
        elif isinstance(obj.get("additionalProperties"), dict):
            node, name = obj["additionalProperties"], key
        else:                                  # a key the request does not take
            return None, key, siblings
    return _resolve(node, defs), name, siblings


@functools.lru_cache(maxsize=64)                   # one schema per request model, not one per error
def _json_schema(Request) -> dict:
    return Request.model_json_schema()


def _resolve(node, defs: dict):
    while isinstance(node, dict) and "$ref" in node:
        node = defs.get(node["$ref"].rsplit("/", 1)[-1], {})
    return node


def _branch(node, defs: dict, keyword: str) -> dict | None:
    """``node`` itself, or the member of its union, that has ``keyword``."""
    node = _resolve(node, defs)
    if not isinstance(node, dict):
        return None
    if keyword in node:
        return node
    for member in node.get("anyOf", ()):
        member = _resolve(member, defs)
        if isinstance(member, dict) and keyword in member:
            return member
    return None


def _bounds(node) -> tuple:
    """``(low, high)`` of a numeric field, each ``(value, exclusive)`` or None (the float32 range
    is no bound of the field's own)."""
    low = high = None
    for n in ([node, *node.get("anyOf", ())] if isinstance(node, dict) else []):
        for key, exclusive, lower in (("minimum", False, True), ("exclusiveMinimum", True, True),
                                      ("maximum", False, False), ("exclusiveMaximum", True, False)):
            v = n.get(key)
            if v is None or (isinstance(v, float) and abs(v) == F32_MAX):
                continue
            if lower:
                low = (v, exclusive)
            else:
                high = (v, exclusive)
    return low, high


def unprocessable(loc: list, msg: str):
    from fastapi import HTTPException
    return HTTPException(422, detail=[{"loc": ["body", *loc], "msg": msg, "type": "value_error"}])


def validated(Request, body: bytes) -> dict[str, Any]:
    """A JSON body read by hand (an upload route's JSON branch), checked by ``Request``."""
    from fastapi import HTTPException
    from pydantic import ValidationError
    if not body.strip():                       # as FastAPI's JSON routes tell an empty body
        raise HTTPException(422, detail=validation_detail([{"loc": ("body",), "type": "missing"}], Request))
    try:
        data = read_json(body)
    except RecursionError:
        raise HTTPException(400, detail=UNREADABLE_BODY) from None
    except KeyTwice as e:
        raise key_twice(e) from None
    except ValueError as e:
        raise HTTPException(422, detail=[{"loc": ["body"], "msg": f"the body {json_problem(e)} — send the body as "
                                          "JSON, numbers finite and within ±3.4e38", "type": "json_invalid"}]) from None
    try:
        return Request.model_validate(data).model_dump(exclude_none=True)
    except ValidationError as e:
        detail = validation_detail(e.errors(), Request)
        raise HTTPException(422, detail=[{**d, "loc": ["body", *d["loc"]]} for d in detail]) from None


def key_twice(e: KeyTwice):
    """The 422 of a body whose JSON gives a key twice in one object, at the key."""
    from fastapi import HTTPException
    return HTTPException(422, detail=[{"loc": ["body", *e.path], "msg": f"the body {e} — send each field once "
                                       "(a JSON reader keeps only the last)", "type": "value_error"}])


def strict_json_route():
    """FastAPI's route class whose requests read a JSON body with :func:`~lstmkit.deploy.served.read_json`
    (NaN and Infinity left to the request's checks): a key given twice is a 422 at it (FastAPI kept the last)."""
    from fastapi.routing import APIRoute
    from starlette.requests import Request

    class _Request(Request):
        async def json(self):
            if not hasattr(self, "_json"):
                try:
                    self._json = read_json(await self.body(), strict=False)
                except KeyTwice as e:
                    raise key_twice(e) from None
            return self._json

    class StrictJsonRoute(APIRoute):
        def get_route_handler(self):
            handler = super().get_route_handler()
            direct = getattr(self.endpoint, "answers_json", None)      # (request model, answer of its dict)

            async def route(request):
                request = _Request(request.scope, request.receive)
                if direct is not None:
                    checked = await _plain_json_request(request, direct[0])
                    if checked is not None:
                        return await direct[1](checked)
                return await handler(request)
            return route
    return StrictJsonRoute


async def _plain_json_request(request, Request) -> dict[str, Any] | None:
    """The checked request (as the route's endpoint reads it) of a POST whose body is JSON that
    ``Request`` takes, read without FastAPI's request handling (its body parsing, dependencies and
    endpoint call were about half of the service's CPU per request); None for any other request, which
    FastAPI's handler answers as before (the body read here is kept on ``request``: read once)."""
    if request.method != "POST" or media_type(request.headers.get("content-type")) != "application/json":
        return None
    try:
        return Request.model_validate(await request.json()).model_dump(exclude_none=True)
    except Exception:                          # the handler answers it: its refusal, in its own words
        return None
