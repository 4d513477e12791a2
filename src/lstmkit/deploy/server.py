"""The HTTP service: ``lstmkit serve --run RUN [--run RUN2 ...]`` (FastAPI + uvicorn, the ``[serve]`` extra).

Each run is served under its name (its folder's name, or ``--run NAME=PATH``):

===============================  ===================================================================
``POST /models/{name}/predict``  the model's request (typed per task in ``/docs``):
                                 forecast ``{"instances": [{"y": [...history...], "temp": [...]}]}``
                                 -> ``{"predictions": [{"y": [h values]}, ...]}`` (each instance
                                 needs every input column with at least ``min_history`` values,
                                 see ``/model``; a probabilistic run adds ``"quantiles"``; an
                                 instance far outside its series' training range adds
                                 ``"warnings": ["instances[i]: ..."]``, as ``predict`` warns);
                                 classify ``{"texts": ["..."]}`` or ``{"series": [[step, ...]]}``
                                 -> ``{"predictions": [{"label", "probabilities"}, ...]}`` (a
                                 series far outside the training range adds ``"warnings"``); a task
                                 with its own request types it (translate, lm); a task that takes
                                 uploads (speech) reads a raw body of its content type
                                 (``Content-Type: audio/wav``). A body without a Content-Type, or of
                                 a type the route does not take, is a 415 naming the header to send
                                 (an audio file's: the type its first bytes tell) and every type the
                                 route takes; it is never read by that guess
``WS /models/{name}/stream``     one JSON message per step -> one answer: a numeric model takes an
                                 observation (number, list or ``{column: value}``) and answers
                                 ``{"step": n, "forecast": {...}}`` (with ``"warnings": [...]``
                                 when what it read lies far outside the training range); a
                                 task's own stream (lm tokens, speech audio chunks) answers
                                 ``{"step": n, ...}``; state
                                 lives as long as the connection; ``{"op": "reset"}``,
                                 ``{"op": "state"}``, ``{"op": "restore", "state": ...}``
``GET /models/{name}``           what the run is: task, columns, engine, limits, its headline
                                 metric from metrics.json (``metric``: name, value, part,
                                 higher_is_better, shown; null without one), ...
``GET /models``                  ``{"models": [{"name": NAME, ...the same...}, ...]}``; which model each
                                 serves: ``fingerprint``, ``run_id``, ``written``, ``reload``
``GET /health``                  ``{"status": "ok"}`` (with ``"warnings"`` while a run folder holds a
                                 newer model that was not served: see below)
``GET /docs``                    OpenAPI documentation (``/openapi.json``)
===============================  ===================================================================

``HEAD`` answers as ``GET`` does, without the body; ``OPTIONS`` is a 204 whose ``Allow`` header lists
the path's methods. A web page of another origin may call the service when it is started with
``--cors-origin ORIGIN`` (``create_app(..., cors_origins=[...])``; :mod:`lstmkit.deploy.cors`): the
browser's preflight is answered, and every answer to that origin, errors included, carries
``Access-Control-Allow-Origin``; a preflight from any other origin, or to a service started without
the flag, is a 403 saying which ``--cors-origin`` to start it with. Plain HTTP to a stream's path is
a 426 saying to connect with a WebSocket client (a WebSocket handshake that reaches it as HTTP, the service
lacking the websockets package, a 501 saying to install it there: ``NO_WEBSOCKETS``, warned of at start
too), and a WebSocket to a path that streams nothing is told so in one
``{"error": ..., "field": "path", "closed": true}`` message, then closed with code 1008 (policy violation):
an error that ends the stream says ``"closed": true`` (any other leaves the stream as it was).

With one run, ``POST /predict``, ``WS /stream`` and ``GET /model`` answer for it as well; with
several, they are a 404 naming the models, as is any unknown model name. Every refusal, whatever its
status (400, 403, 404, 405, 413, 415, 422, 426, 501), is "problem — fix".

Every number a client sends must be finite, not a boolean, and within float32 range
(``|x| <= 3.4e38``). Bad input is a 422 whose ``detail[].loc`` names the field and ``msg`` the
problem, then `` — `` and what to send instead (``beam`` 51: "... — send a beam from 1 to 50"; one entry,
at the first, for errors of one kind at the same place in many list items: "... (and 4,999 more like it) — ..."),
in the request's words, never a command-line flag (WebSocket: ``{"error": ..., "field": ...}``);
an answer the model cannot give in finite numbers is an error of the same kind, never a NaN
token: every body is standard JSON. The model runs in a worker thread, off the event loop (a task that answers requests together: on its batcher's
thread, awaited by the handler; any other: in the server's thread pool). A body over
``max_body`` bytes is a 413, a WebSocket message over it an error message, then the close code 1009 (message too
big; uvicorn closes a message over four times the limit without one); at most ``max_streams`` WebSockets are open at
once. A new one when every place is taken takes the place of the stream idle longest, if that one has had no message
for ``stream_idle`` seconds (it is told so, then closed with code 1001: a client that left without closing, or
never sends, cannot hold a place for ever); otherwise the new one is told so, then closed with code 1013.
The server listens on 127.0.0.1 unless told otherwise and stops cleanly on SIGTERM.

A model kept in a served run folder later (an update saved over it, files copied over it, a link turned to another
run) is served once it has loaded whole, the old one answering until then; one that does not load, or that takes
other requests than the routes made at start, is not (``watch``, :mod:`lstmkit.deploy.reload`).
"""
# No `from __future__ import annotations`: FastAPI must resolve the request models defined
# inside create_app at run time.
import asyncio
import contextlib
import errno
import functools
import gc
import importlib.util
import itertools
import json
import logging
import signal
import socket
import sys
import threading
import time
from typing import Annotated, Any, Iterator

from lstmkit.deploy.adapter import exact_bounds
from lstmkit.deploy.cors import allowed_origins, is_preflight, no_cross_origin, with_cors
from lstmkit.deploy.request_errors import (UNPARSED, UNREADABLE_BODY, BodyLimit, HeadAsGet, PlainBodies, allow_header,
                                           form_upload, json_only, json_type, looks_like_json, media_type, no_route,
                                           strict_json_route, unprocessable, unsupported_type, validated,
                                           validation_detail, wrong_method)
from lstmkit.deploy.reload import WATCH, ServedRun
from lstmkit.deploy.served import F32_MAX, ServedModel, named_runs, request_message, request_schemas
from lstmkit.errors import LstmkitError, MissingPackage, flag, opt, optional_import, stop_signals

__all__ = ["create_app", "serve", "named_runs", "MAX_BODY", "MAX_STREAMS", "STREAM_IDLE", "MAX_INSTANCES"]

MAX_BODY = 1_000_000          # bytes per request body / WebSocket message
MAX_STREAMS = 64              # open WebSocket streams at once
STREAM_IDLE = 300             # seconds without a message after which a stream may give its place to a new one
MAX_INSTANCES = 1024          # instances per /predict request

NO_WEBSOCKETS = ("this service cannot open WebSocket streams: the websockets package is not installed where it "
                 "runs — pip install 'lstmkit[serve]' there and start the service again")

_log = logging.getLogger(__name__)
_WINDOWS = sys.platform == "win32"


def _require_serve():
    for module in ("fastapi", "uvicorn"):
        optional_import(module, "the HTTP service", "serve")


def create_app(runs, engine: str = "auto", max_body: int = MAX_BODY, max_streams: int = MAX_STREAMS,
               max_instances: int = MAX_INSTANCES, cors_origins=None, stream_idle: float = STREAM_IDLE,
               watch: float = WATCH, say=None):
    """The FastAPI app serving finished runs (see the module docstring for the endpoints).

    ``runs``: one run folder, a list of them (each a path or ``NAME=PATH``) or ``{name: run}``;
    ``cors_origins``: the origins (``"http://localhost:3000"``, ``"*"``) whose web pages may call it;
    ``stream_idle``: seconds without a message after which a stream gives its place to a new one when
    every place is taken (0: never); ``watch``: seconds between looks at each run folder for a newer model,
    swapped in once loaded (0: never; :mod:`lstmkit.deploy.reload`); ``say(line, refused)``: where a swap
    or a refused model is told (default: the ``lstmkit.deploy.reload`` logger)."""
    origins = allowed_origins(cors_origins)
    _require_serve()
    from fastapi import FastAPI, HTTPException, WebSocket
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from pydantic import Field
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from lstmkit.version import __version__

    limits = {"max_body_bytes": max_body, "max_streams": max_streams, "stream_idle_s": stream_idle,
              "max_instances": max_instances}
    Finite = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-F32_MAX, le=F32_MAX)]
    named = named_runs(runs)

    def conflict(old: ServedModel, new: ServedModel) -> str | None:
        """Why ``new`` cannot answer on the routes built for ``old`` (None: it can)."""
        return _routes_conflict(old, new, lambda m: request_schemas(m, Finite, max_instances, len(named) > 1)[0])

    served = {name: ServedRun(name, run, functools.partial(ServedModel, name, run, engine, limits), conflict,
                              watch=_check_watch(watch), say=say) for name, run in named.items()}
    models = {name: r.model for name, r in served.items()}      # as loaded at start: what the routes are built for
    only = next(iter(models.values())) if len(models) == 1 else None

    if only is not None:
        what = f"{only.adapter.task} model from {only.run.name}: POST /predict" + (", WebSocket /stream" if only.stream else "")
    else:
        what = (", ".join(f"{m.name} ({m.adapter.task})" for m in models.values())
                + ": POST /models/{name}/predict, WebSocket /models/{name}/stream")
    app = FastAPI(title="lstmkit", version=__version__, description=what)
    app.router.route_class = strict_json_route()      # a JSON body's key given twice: a 422 (FastAPI kept the last)
    app.state.streams = {}                    # stream id -> _OpenStream, in the order they opened
    app.state.stream_ids = itertools.count()
    app.state.max_streams = max_streams
    app.state.stream_idle = stream_idle
    app.state.max_body = max_body
    extra_schemas: list = []                  # request models read by hand (uploads): listed in /docs
    request_models: dict[str, Any] = {}       # path -> its request model: a 422 says what to send instead

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer echoes the input, which may hold NaN / Infinity: not JSON.
        return JSONResponse({"detail": validation_detail(exc.errors(), request_models.get(request.scope.get("path")))},
                            status_code=422)

    if only is not None:
        public_routes = "POST /predict" + (", WebSocket /stream" if only.stream else "") + ", GET /model, GET /health"
    else:
        public_routes = ("POST /models/{name}/predict, WebSocket /models/{name}/stream, GET /models/{name}, "
                         "GET /models, GET /health")

    stream_paths = {p for m in models.values() if m.stream is not None
                    for p in ([f"/models/{m.name}/stream"] + (["/stream"] if m is only else []))}

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request, exc: StarletteHTTPException):
        # Starlette's own answers say only the status ("Not Found", "Method Not Allowed"), and FastAPI's
        # 400 for a body json.loads raised on with other than a JSON syntax error says no more
        method, path = request.method, request.scope.get("path", "")
        if exc.status_code == 400 and exc.detail == UNPARSED:
            return JSONResponse({"detail": UNREADABLE_BODY}, status_code=400)
        if exc.status_code == 404 and exc.detail == "Not Found" and path in stream_paths:
            if "websocket" in request.headers.get("upgrade", "").lower():
                # a WebSocket handshake answered as HTTP: uvicorn found no WebSocket library to take it
                # (fastapi and uvicorn installed by hand); the 426 told the client to use a WebSocket client
                return JSONResponse({"detail": NO_WEBSOCKETS}, status_code=501)
            # was "no route GET /stream — send to one of its routes: ..., WebSocket /stream"
            return JSONResponse({"detail": f"{path} is a WebSocket stream, not an HTTP route — connect to it with a "
                                           f"WebSocket client (ws://HOST{path}), one JSON message per step"},
                                status_code=426, headers={"Upgrade": "websocket"})
        if exc.status_code == 404 and exc.detail == "Not Found":
            return JSONResponse({"detail": no_route(method, path, public_routes)}, status_code=404)
        if exc.status_code == 405 and (exc.headers or {}).get("Allow") and method == "OPTIONS":
            if is_preflight(request.headers):  # reaches here only when no --cors-origin answered it
                return JSONResponse({"detail": no_cross_origin(request.headers["origin"],
                                                               request.headers["access-control-request-method"],
                                                               path)}, status_code=403)
            return Response(status_code=204, headers={"Allow": allow_header(exc.headers["Allow"])})
        if exc.status_code == 405 and (exc.headers or {}).get("Allow"):
            return JSONResponse({"detail": wrong_method(method, path, exc.headers["Allow"])}, status_code=405,
                                headers=exc.headers)
        return await http_exception_handler(request, exc)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        # still answering ("ok"), from the model loaded before where a newer one was refused: said, not hidden
        for r in served.values():
            r.current()                       # a look at its folder, when due
        said = [line for line in (r.warning() for r in served.values()) if line is not None]
        return {"status": "ok", **({"warnings": said} if said else {})}

    @app.get("/models")
    async def list_models() -> dict[str, Any]:
        for r in served.values():
            r.current()
        return {"models": [{"name": r.name, **r.describe()} for r in served.values()]}

    for m in models.values():                 # several models: their request schemas need their own names
        routes = _ModelRoutes(app, served[m.name], request_schemas(m, Finite, max_instances, only is None),
                              extra_schemas, request_models)
        routes.add(f"/models/{m.name}/predict", f"/models/{m.name}/stream", f"/models/{m.name}")
        if m is only:                         # one run: the plain routes answer for it, as they always did
            routes.add("/predict", "/stream", "/model")

    names = ", ".join(models)
    several = (f"this service serves several models ({names}) — name one in the path: "
               "POST /models/{name}/predict, WebSocket /models/{name}/stream, GET /models/{name}")

    async def no_model(name: str):
        raise HTTPException(404, detail=f"unknown model {name!r} — use one this service serves: {names} "
                                        "(GET /models lists them)")

    async def no_model_stream(ws: WebSocket, name: str):
        if name in served:                    # served, but it answers whole inputs only
            await _refuse_stream(ws, f"model {name!r} does not stream — send whole inputs to /models/{name}/predict")
        else:
            await _refuse_stream(ws, f"unknown model {name!r} — stream one this service serves: {names}")

    async def which_model():
        raise HTTPException(404, detail=several)

    async def which_model_stream(ws: WebSocket):
        await _refuse_stream(ws, f"this service serves several models ({names}) — use /models/{{name}}/stream")

    if only is None:
        app.post("/predict", include_in_schema=False)(which_model)
        app.get("/model", include_in_schema=False)(which_model)
        app.websocket("/stream")(which_model_stream)
    streaming = [m.name for m in models.values() if m.stream is not None]
    if not streaming:
        stream_routes = ("no model of this service streams — send whole inputs to "
                         + ("POST /predict" if only is not None else "POST /models/{name}/predict"))
    elif only is not None:
        stream_routes = f"connect to /stream (or /models/{only.name}/stream)"
    else:
        stream_routes = f"connect to /models/{{name}}/stream, naming one of: {', '.join(streaming)}"

    async def no_stream_route(ws: WebSocket, path: str):
        # Starlette closed it before accepting: the client saw only "HTTP 403", never why
        await _refuse_stream(ws, f"no WebSocket stream at /{path} on this service — {stream_routes}", "path")

    app.get("/models/{name}", include_in_schema=False)(no_model)
    app.post("/models/{name}/predict", include_in_schema=False)(no_model)
    app.websocket("/models/{name}/stream")(no_model_stream)
    app.websocket("/{path:path}")(no_stream_route)      # last: every other WebSocket path
    _document_schemas(app, extra_schemas)
    _exact_integer_bounds(app)
    app = HeadAsGet(PlainBodies(BodyLimit(app, max_body) if max_body else app))
    return with_cors(app, origins) if origins else app


class _ModelRoutes:
    """Adds one :class:`~lstmkit.deploy.served.ServedModel`'s routes to the app."""

    def __init__(self, app, served: ServedRun, schemas: tuple, extra_schemas: list, request_models: dict):
        self.app, self.served, self.schemas, self.extra_schemas = app, served, schemas, extra_schemas
        self.request_models = request_models

    def add(self, predict_path: str, stream_path: str, model_path: str) -> None:
        m = self.served.model                 # as loaded at start: the routes are built for it (not kept: a
        # newer model swapped in frees this one once its requests and streams are done)
        self.app.get(model_path, summary=f"What {m.name} is")(self._describe)
        Request, Response = self.schemas
        self.request_models[predict_path] = Request
        responses = {**({200: {"model": Response}} if Response is not None else {}), **_refusals(m.upload_types)}
        if m.upload_types:
            content = {t: {"schema": {"type": "string", "format": "binary"}} for t in m.upload_types}
            if Request is not None:
                content["application/json"] = {"schema": {"$ref": f"#/components/schemas/{Request.__name__}"}}
                self.extra_schemas.append(Request)
            self.app.post(predict_path, responses=responses, summary=f"{m.name}: {m.adapter.task}",
                          openapi_extra={"requestBody": {"required": True, "content": content}})(
                self._upload_handler(predict_path))
        else:
            self.app.post(predict_path, responses=responses, summary=f"{m.name}: {m.adapter.task}",
                          dependencies=[json_only(predict_path)])(self._predict_handler(Request))
        if m.stream is not None:              # a model that reads left to right
            self.app.websocket(stream_path)(self._stream_handler())

    async def _describe(self) -> dict[str, Any]:
        self.served.current()
        return self.served.describe()

    def _predict_handler(self, Request):
        from fastapi.responses import JSONResponse
        from starlette.concurrency import run_in_threadpool
        served = self.served

        # The answer is built from plain floats already: documented by the Response model, returned
        # as JSONResponse to skip re-validating it on every request. A task that answers requests
        # together awaits its batcher (the model runs on the batcher's thread); any other one runs in
        # the server's thread pool: the model never blocks the event loop. The model is read once: a
        # newer one swapped in meanwhile answers the next request.
        async def answer(request: dict[str, Any]) -> JSONResponse:
            m = served.current()
            try:
                out = await m.answer_async(request) if m.batcher is not None else await run_in_threadpool(m.answer,
                                                                                                          request)
            except LstmkitError as e:            # a BadRequest names its field (loc)
                raise _refused(e) from None
            return JSONResponse(out)

        async def predict(req: Request) -> JSONResponse:
            return await answer(req.model_dump(exclude_none=True))
        # a JSON body that Request takes is read and answered by the route itself (strict_json_route)
        predict.answers_json = (Request, answer)
        return predict

    def _upload_handler(self, path: str):
        from fastapi import HTTPException, Request as HttpRequest
        from fastapi.responses import JSONResponse
        from starlette.concurrency import run_in_threadpool
        served = self.served
        Request = self.schemas[0]
        accepted = served.model.accepted_types()

        async def predict(request: HttpRequest) -> JSONResponse:
            m = served.current()
            header = request.headers.get("content-type") or None
            kind, body = media_type(header), await request.body()
            try:
                if not body and header is None:
                    raise unprocessable([], "the body is empty — send a recording with the header Content-Type: "
                                            f"{m.upload_types[0]}" + (", or the request as JSON" if Request else ""))
                if kind in m.upload_types:
                    out = await run_in_threadpool(m.answer_upload, body, kind)
                elif Request is not None and json_type(kind):
                    told = m.upload_type_of(body)
                    if told is not None:          # was "the body is not valid JSON — send the body as JSON"
                        raise HTTPException(415, detail=f"the body is an upload ({told}, by its first bytes), not "
                                                        f"the JSON its Content-Type {kind!r} says — send it with the "
                                                        f"header Content-Type: {told} (curl: -H 'Content-Type: "
                                                        f"{told}')")
                    request = validated(Request, body)
                    out = (await m.answer_async(request) if m.batcher is not None
                           else await run_in_threadpool(m.answer, request))
                elif kind.startswith("multipart/"):   # curl -F: was told to send Content-Type: application/json
                    raise HTTPException(415, detail=form_upload(kind, path, accepted, m.upload_types[0]))
                else:                             # no header (was read as JSON), or curl -d's form type
                    told = m.upload_type_of(body)     # the header to send, by the body's first bytes
                    send = ([told] if told else [accepted[0]] if looks_like_json(body)
                            else [m.upload_types[0], *(["application/json"] if Request is not None else [])])
                    raise HTTPException(415, detail=unsupported_type(kind or None, path, accepted, send))
            except LstmkitError as e:
                raise _refused(e) from None
            return JSONResponse(out)
        return predict

    def _stream_handler(self):
        from fastapi import WebSocket
        from starlette.concurrency import run_in_threadpool
        app, served = self.app, self.served
        client_left = _client_left()

        async def stream_ws(ws: WebSocket):
            m = served.current()              # the stream's model for as long as it lives: its state is that model's

            def release(sid: str) -> None:
                """Give back the place of stream ``sid`` (once: its handler's end and an eviction both call it)."""
                if app.state.streams.pop(sid, None) is not None:
                    served.open_streams -= 1
                    m.end_stream(sid)

            await ws.accept()
            if len(app.state.streams) >= app.state.max_streams and not await _evict_idle(app):
                # was "— close one, or try again later": a client cannot close another's
                idle = app.state.stream_idle
                await ws.send_json({"error": f"too many open streams (limit {app.state.max_streams}): every "
                                          "place is taken" + (f" by a stream that had a message in the last "
                                                              f"{idle:g} s" if idle else "") +
                                          " — try again once a stream has closed, or start the "
                                          "service with a larger stream limit (GET /models shows it: "
                                          "limits.max_streams)", "closed": True})
                await ws.close(code=1013)
                return
            sid = f"ws-{next(app.state.stream_ids)}"
            here = app.state.streams[sid] = _OpenStream(ws, release, sid)
            served.open_streams += 1
            try:
                while True:
                    message = await ws.receive()
                    if message["type"] == "websocket.disconnect" or here.evicted:
                        break
                    here.busy = True
                    too_big = _too_big(message, app.state.max_body)
                    if too_big:                     # uvicorn closed it with 1009 and no word to the client
                        await ws.send_text(json.dumps({"error": too_big, "field": "message", "closed": True}))
                        await ws.close(code=1009)
                        break
                    if message.get("text") is None:
                        answer = {"error": "the message is a binary frame — send JSON in text frames", "field": "message"}
                    elif m.task_stream or m.slow_steps:  # a step that may take a while (an audio chunk, an ETS refit)
                        answer = await run_in_threadpool(m.stream_message, message["text"], sid)
                    else:                           # a numeric step is cheaper than a thread hop
                        answer = m.stream_message(message["text"], sid)
                    here.busy, here.last = False, time.monotonic()    # a busy stream is never evicted
                    await ws.send_text(json.dumps(answer, allow_nan=False))
            except client_left:                  # the client left before its answer: no fault of the service's
                pass                              # (was logged as a failure, with a traceback, and "answered")
            except Exception:                     # a bug, not bad input: log it, close properly
                _log.exception("WebSocket stream %s of %s failed", sid, m.name)
                try:
                    await ws.send_text(json.dumps({"error": "internal error; the stream was closed", "field": "server"}))
                    await ws.close(code=1011)
                except Exception:
                    pass
            finally:
                release(sid)
        return stream_ws


class _OpenStream:
    """One open WebSocket stream: when it last had a message, and whether a step of it is running."""

    def __init__(self, ws, release, sid: str):
        self.ws, self.release, self.sid = ws, release, sid
        self.last, self.busy, self.evicted = time.monotonic(), False, False


async def _evict_idle(app) -> bool:
    """Close the stream idle longest, if it has had no message for ``app.state.stream_idle`` seconds and
    no step of it is running, to give its place to a new stream; whether one was closed."""
    idle = app.state.stream_idle
    waiting = [s for s in app.state.streams.values() if not s.busy]
    if not idle or not waiting:
        return False
    oldest = min(waiting, key=lambda s: s.last)
    quiet = time.monotonic() - oldest.last
    if quiet < idle:
        return False
    oldest.evicted = True
    oldest.release(oldest.sid)                # the place is free now, before the awaits below
    try:
        await oldest.ws.send_text(json.dumps({
            "error": f"this stream had no message for {quiet:.0f} s (the service's limit is {idle:g} s) and every "
                     f"place ({app.state.max_streams}) was taken, so it was closed for a new stream — reconnect to "
                     "go on: the new stream starts from nothing (to carry the state over, send {\"op\": \"state\"} "
                     "now and then, and {\"op\": \"restore\", \"state\": S} on the new stream)",
            "closed": True}))
        await oldest.ws.close(code=1001)
    except Exception:                         # the client had gone already: its place is free all the same
        pass
    return True


def _refusals(uploads: tuple) -> dict[int, dict[str, Any]]:
    """The refusals a ``POST .../predict`` answers besides its 422, declared in ``/openapi.json`` (it listed
    200 and 422 only): each a ``{"detail": "problem — fix"}``."""
    said = {400: "the body is not readable JSON (not UTF-8, nested too deeply, a number of too many digits)",
            413: "the body is over the service's limit (GET /models: limits.max_body_bytes)",
            415: "a Content-Type the route does not take, or none"}
    out = {status: {"model": _problem(), "description": why} for status, why in said.items()}
    if uploads:                               # read by hand: FastAPI declared no 422 for them
        out[422] = {"model": _problem(invalid=True), "description": "an upload or a request the model cannot read"}
        out[501] = {"model": _problem(), "description": "a package the upload needs is not installed where the "
                                                       "service runs"}
    return out


@functools.cache
def _problem(invalid: bool = False) -> type:
    """``{"detail": str}``: the body of every refusal but a 422 (one schema, Problem, in ``/openapi.json``);
    ``invalid``: a 422's, ``{"detail": [{"loc", "msg", "type"}, ...]}`` (Invalid)."""
    from pydantic import BaseModel

    class Problem(BaseModel):
        detail: str

    class Where(BaseModel):
        loc: list[str | int]
        msg: str
        type: str

    class Invalid(BaseModel):
        detail: list[Where]
    return Invalid if invalid else Problem


def _refused(e: LstmkitError):
    """The HTTP error for ``e``, raised while answering a request: a 422 naming the field (the
    request's fault), or, for a package this machine lacks (an audio upload without soundfile), a
    501 saying what to install where the service runs: it was a 500 with no word, then a 422 that
    blamed the client's file."""
    if isinstance(e, MissingPackage):
        from fastapi import HTTPException
        return HTTPException(501, detail=f"{e.message} on the server — {e.hint} where the service runs")
    return unprocessable(getattr(e, "loc", []), request_message(e))


def _client_left() -> tuple[type[BaseException], ...]:
    """What sending to a WebSocket whose client has gone raises: starlette's WebSocketDisconnect, or (older
    starlette) the server's own, uvicorn's ClientDisconnected."""
    from starlette.websockets import WebSocketDisconnect
    try:
        from uvicorn.protocols.utils import ClientDisconnected
    except ImportError:
        return (WebSocketDisconnect,)
    return WebSocketDisconnect, ClientDisconnected


async def _refuse_stream(ws, why: str, field: str = "model") -> None:
    await ws.accept()
    await ws.send_text(json.dumps({"error": why, "field": field, "closed": True}))
    await ws.close(code=1008)


def _too_big(message: dict, limit: int | None) -> str | None:
    """What to tell the client of a WebSocket message over ``limit`` bytes (None: within it)."""
    text, data = message.get("text"), message.get("bytes")
    if not limit or (len(text) if text is not None else len(data or b"")) * 4 <= limit:
        return None                            # within the limit in any encoding: not encoded to count
    size = len(text.encode()) if text is not None else len(data)
    if size <= limit:
        return None
    return (f"the message is {size:,} bytes, over this service's limit of {limit:,} bytes per message — send less "
            "per message (one step, a shorter chunk), or start the service with a larger body limit (GET /models "
            "shows it: limits.max_body_bytes)")


def _ws_read_limit(max_body: int) -> int:
    """uvicorn's WebSocket message limit: four times the service's own, which the stream handler
    enforces with a message that says why; uvicorn closes a larger one (1009) without a word."""
    return 4 * max_body + 65_536


def _exact_integer_bounds(app) -> None:
    """``/openapi.json`` with each integer field's bounds the integers the service checks (``adapter.exact_bounds``:
    a seed's maximum was published as 2**63, one over the largest seed the service takes)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = exact_bounds(build())
        return app.openapi_schema

    app.openapi = openapi


def _document_schemas(app, schemas: list) -> None:
    """Put request models that routes read by hand into ``/openapi.json``'s components."""
    if not schemas:
        return
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            components = spec.setdefault("components", {}).setdefault("schemas", {})
            for cls in schemas:
                js = cls.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(js.pop("$defs", {}))
                components[cls.__name__] = js
        return app.openapi_schema

    app.openapi = openapi


def _routes_conflict(old: ServedModel, new: ServedModel, request_of) -> str | None:
    """Why the routes a service built for ``old`` cannot take ``new`` (None: they can): another task, a
    stream where there was none or none where there was one, other uploads, or another request (input columns,
    a horizon's future values): their handlers, schemas and ``/docs`` were made at start."""
    def told(m):
        Request = request_of(m)
        return {"task": m.adapter.task, "stream": m.stream is not None,
                "uploads": m.upload_types, "request": Request.model_json_schema() if Request is not None else None}
    was, now = told(old), told(new)
    differs = [k for k in was if was[k] != now[k]]
    if not differs:
        return None
    what = {"task": f"a {now['task']} model, where {old.name!r} served a {was['task']} one",
            "stream": "a model that streams otherwise", "uploads": "a model that takes other uploads",
            "request": "a model that takes other requests (other input columns or fields)"}[differs[0]]
    return f"it is {what}"


def _check_watch(watch) -> float:
    if isinstance(watch, bool) or not isinstance(watch, (int, float)) or not 0 <= watch < float("inf"):
        raise LstmkitError(f"{flag('watch')} must be a number of seconds of at least 0, got {watch!r}",
                           f"pass {opt('watch', 2)} (or 0: serve the model loaded at start for good)")
    return float(watch)


def _check_limits(port: int, max_body: int, max_streams: int, stream_idle: int = STREAM_IDLE) -> None:
    """The service's port and limits, checked before any run is loaded."""
    for name, value, low, high, example in (("port", port, 0, 65535, "8000 (or 0 for any free port)"),
                                            ("max-body", max_body, 1, None, "1000000"),
                                            ("max-streams", max_streams, 1, None, "64"),
                                            ("stream-idle", stream_idle, 0, None, "300 (or 0: never)")):
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise LstmkitError(f"--{name} must be a whole number {span}, got {value!r}", f"pass --{name} {example}")


def serve(runs, host: str = "127.0.0.1", port: int = 8000, engine: str = "auto",
          max_body: int = MAX_BODY, max_streams: int = MAX_STREAMS, log_level: str = "warning",
          cors_origins=None, stream_idle: int = STREAM_IDLE, watch: float = WATCH) -> None:
    """Serve ``runs`` (one run folder, a list of them, each a path or ``NAME=PATH``, or a dict
    ``{name: run}``) until SIGTERM / Ctrl-C, to web pages of ``cors_origins`` too, each run's newer model
    once its folder holds one (``watch``; see :func:`create_app`). Prints one line with the address once
    listening, and one on standard error for each model swapped in or refused."""
    _check_limits(port, max_body, max_streams, stream_idle)
    _check_watch(watch)
    origins = allowed_origins(cors_origins)
    _require_serve()
    import uvicorn
    named = named_runs(runs)
    app = create_app(named, engine, max_body, max_streams, cors_origins=origins, stream_idle=stream_idle,
                     watch=watch, say=_say)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if _WINDOWS:
        # Windows' SO_REUSEADDR lets a socket bind a port another one listens on (the busy port was
        # taken without a word, requests split between two services); its exclusive use refuses it
        exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
        if exclusive is not None:
            sock.setsockopt(socket.SOL_SOCKET, exclusive, 1)
    else:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)     # restart at once over a closing one's TIME_WAIT
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        if isinstance(e, socket.gaierror) or e.errno == errno.EADDRNOTAVAIL:     # the host, not the port
            raise LstmkitError(f"cannot listen on {host}:{port} ({e.strerror}): --host names no address of this machine",
                               "pass --host 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)") from None
        raise LstmkitError(f"cannot listen on {host}:{port} ({e.strerror})",
                           "pass another --port (or --port 0 for any free one)") from None
    sock.listen(2048)
    bound = sock.getsockname()[1]
    if not any(importlib.util.find_spec(library) for library in ("websockets", "wsproto")):    # uvicorn's
        print(f"warning: {NO_WEBSOCKETS.replace(' — ', '; /predict is served — ', 1)}", file=sys.stderr)
    config = uvicorn.Config(app, log_level=log_level, ws_max_size=_ws_read_limit(max_body),
                            timeout_graceful_shutdown=5, access_log=False, lifespan="off")
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {host}, reachable from other machines; there is no authentication",
              file=sys.stderr)
    what = str(next(iter(named.values()))) if len(named) == 1 else ", ".join(f"{k}={v}" for k, v in named.items())
    server = uvicorn.Server(config)
    main = threading.current_thread() is threading.main_thread()
    if main:
        # uvicorn shuts down gracefully on SIGTERM, then re-raises it with the handler that was there
        # before; one that asks the server to stop makes SIGTERM, the normal way to stop a service,
        # exit 0. Set before the 'serving' line: a SIGTERM right after it (before uvicorn's handler) met
        # the command's, whose KeyboardInterrupt, raised in the collection below, was lost (the service
        # went on).
        # Windows' SIGBREAK (a supervisor's CTRL_BREAK_EVENT) asks the same (errors.stop_signals); it ended
        # the service at once, in-flight requests cut.
        previous = {sig: signal.signal(sig, lambda *_: setattr(server, "should_exit", True))
                    for sig in stop_signals()}
    try:
        print(f"serving {what} on http://{host}:{bound} (docs: /docs); stop with Ctrl-C or SIGTERM", flush=True)
        # Everything loaded so far (torch, the models, the web stack) lives as long as the service:
        # kept out of the garbage collector's scans, the first full collection under load is not a
        # pause of hundreds of milliseconds for every request in flight (translate, 16 clients).
        gc.collect()
        gc.freeze()
        try:
            if _loop_running():
                _run_beside_loop(server, sock)
            else:
                server.run(sockets=[sock])
        finally:
            gc.unfreeze()                          # serve() called from Python: collect as before
    finally:
        if main:
            for sig, before in previous.items():
                signal.signal(sig, before if before is not None else signal.SIG_DFL)
    print("stopped", flush=True)


def _say(line: str, refused: bool) -> None:
    """A model swapped in or refused, told on the service's standard error (as its other warnings are)."""
    print(("warning: " if refused else "") + line, file=sys.stderr, flush=True)


def _loop_running() -> bool:
    """Whether an asyncio event loop runs in this thread: a Jupyter notebook's cell, an async program."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_beside_loop(server, sock: socket.socket) -> None:
    """``server`` run in a thread of its own while this thread waits, as :func:`serve` runs it
    elsewhere: uvicorn starts its loop with ``asyncio.run``, which a thread already running one
    refuses ('cannot be called from a running event loop': a notebook cell's ``serve(run)`` said
    'serving … on …', then failed). Ctrl-C (a notebook's interrupt) stops the service gracefully
    and is raised again once it stopped; SIGTERM stops it as elsewhere (:func:`serve`'s handler).
    The first Ctrl-C does, where the loop's own SIGINT handling is asyncio's (:func:`_ctrl_c_raises`)."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as e:            # raised again in the caller's thread
            failed.append(e)

    thread = threading.Thread(target=run, name="lstmkit-serve", daemon=True)
    thread.start()
    try:
        with _ctrl_c_raises():
            while thread.is_alive():
                thread.join(0.2)
    except KeyboardInterrupt:
        server.should_exit = True
        thread.join()
        raise
    if failed:
        raise failed[0]


@contextlib.contextmanager
def _ctrl_c_raises() -> Iterator[None]:
    """In the block, Ctrl-C (SIGINT) is Python's KeyboardInterrupt where the handler set was asyncio's,
    the caller's handler back afterwards. ``asyncio.run`` (and ``loop.add_signal_handler``) answer
    SIGINT through the event loop, which :func:`serve` blocks while the service runs beside it: the
    first Ctrl-C of a program whose ``asyncio.run(main())`` called serve() only asked the loop to
    cancel its task, later, and the service went on until a second one. A handler of the caller's
    own, an ignored SIGINT or its default action are left as they are, as in any thread but the main one."""
    handler = signal.getsignal(signal.SIGINT)
    func = handler.func if isinstance(handler, functools.partial) else handler     # asyncio.run's is a partial
    mine = threading.current_thread() is threading.main_thread() and \
        (getattr(func, "__module__", None) or "").startswith("asyncio")
    if mine:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if mine:
            signal.signal(signal.SIGINT, handler)
