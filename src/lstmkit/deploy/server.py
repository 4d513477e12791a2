"""The HTTP service: ``lstmkit serve --run RUN`` (FastAPI + uvicorn, the ``[serve]`` extra).

=====================  ============================================================================
``POST /predict``      ``{"instances": [{"y": [...history...], "temp": [...]}, ...]}`` ->
                       ``{"predictions": [{"y": [h values]}, ...]}``; each instance needs every
                       input column with at least ``lookback`` values (the last ones are used)
``WS /stream``         one JSON observation per message (number, list, or ``{column: value}``) ->
                       ``{"step": n, "forecast": {...}}``; state lives as long as the connection;
                       ``{"op": "reset"}``, ``{"op": "state"}``, ``{"op": "restore", "state": ...}``
``POST /predict``      (classify) ``{"texts": ["..."]}`` or ``{"series": [[step, ...], ...]}`` ->
                       ``{"predictions": [{"label": ..., "probabilities": {class: p}}, ...]}``
``GET /health``        ``{"status": "ok"}``
``GET /model``         what the run is: task, columns, lookback, horizon, engine, limits
``GET /models``        ``{"models": [{"name": RUN, ...the same...}]}``
``GET /docs``          OpenAPI documentation (``/openapi.json``)
=====================  ============================================================================

Every number a client sends must be finite, not a boolean, and within float32 range
(``|x| <= 3.4e38``). Bad input is a 422 whose ``detail[].loc`` names the field and ``msg`` the
problem (WebSocket: ``{"error": ..., "field": ...}``); an answer the model cannot give in finite
numbers is an error of the same kind, never a NaN token: every body is standard JSON. The model
runs in a worker thread, off the event loop. A body over ``max_body`` bytes is a
413; at most ``max_streams`` WebSockets are open at once (others are closed with code 1013).
The server listens on 127.0.0.1 unless told otherwise and stops cleanly on SIGTERM.
"""
# No `from __future__ import annotations`: FastAPI must resolve the request models defined
# inside create_app at run time.
import itertools
import json
import logging
import math
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch

from lstmkit.errors import LstmkitError

__all__ = ["create_app", "serve", "MAX_BODY", "MAX_STREAMS", "MAX_INSTANCES"]

MAX_BODY = 1_000_000          # bytes per request body / WebSocket message
MAX_STREAMS = 64              # open WebSocket streams at once
MAX_INSTANCES = 1024          # instances per /predict request
F32_MAX = float(np.finfo(np.float32).max)

_log = logging.getLogger(__name__)
_NUMBER_MESSAGES = {"finite_number": "must be a finite number (NaN and Infinity are not allowed)",
                    "less_than_equal": "must be within the float32 range (|x| <= 3.4e38)",
                    "greater_than_equal": "must be within the float32 range (|x| <= 3.4e38)",
                    "float_type": "must be a number (not a string, boolean or null)"}


def _require_serve():
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise LstmkitError("the HTTP service needs fastapi and uvicorn", "pip install 'lstmkit[serve]'") from None


class _BodyLimit:
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
        body = json.dumps({"detail": f"request body larger than {self.limit} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def create_app(run: str | Path, engine: str = "auto", max_body: int = MAX_BODY, max_streams: int = MAX_STREAMS,
               max_instances: int = MAX_INSTANCES):
    """The FastAPI app serving a finished run (see the module docstring for the endpoints)."""
    _require_serve()
    from fastapi import FastAPI, HTTPException, WebSocket
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, ConfigDict, Field

    from lstmkit.version import __version__
    from lstmkit.deploy.onnx import engine_net, resolve_engine
    from lstmkit.deploy.streaming import make_stream
    from lstmkit.deploy.registry import adapter_for, weights_fingerprint
    from lstmkit.runs import read_meta

    run = Path(run)
    adapter = adapter_for(run)
    chosen = resolve_engine(run, engine, adapter.preferred_engine)
    net = engine_net(adapter, chosen, run)
    stream = make_stream(adapter, "auto", chosen, run) if getattr(adapter, "streams", True) else None
    lookback = adapter.window
    stream_key = getattr(adapter, "stream_key", "forecast")     # the answer's name in /stream messages
    info = {**adapter.metadata(), "run": str(run.resolve()), "engine": chosen,
            "stream_mode": stream.mode if stream is not None else None,
            "quantization": read_meta(run).get("quantization"), "fingerprint": stream.fingerprint if stream is not None else weights_fingerprint(run),
            "lstmkit_version": __version__,
            "limits": {"max_body_bytes": max_body, "max_streams": max_streams, "max_instances": max_instances}}

    Finite = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-F32_MAX, le=F32_MAX)]

    class PredictRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        instances: list[dict[str, list[Finite]]] = Field(
            min_length=1, max_length=max_instances,
            description=f"each: {{column: history}} for columns {adapter.columns}, at least {lookback} values each")

    class PredictResponse(BaseModel):
        predictions: list[dict[str, list[float]]]
        horizon: int
        engine: str

    app = FastAPI(title="lstmkit", version=__version__,
                  description=f"{adapter.task} model from {run.name}: POST /predict"
                              + (", WebSocket /stream" if stream is not None else ""))
    app.state.open_streams = 0
    ids = itertools.count()

    def _unprocessable(loc: list, msg: str):
        return HTTPException(422, detail=[{"loc": ["body", *loc], "msg": msg, "type": "value_error"}])

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer echoes the input, which may hold NaN / Infinity: not JSON.
        detail = [{"loc": [p if isinstance(p, (int, str)) else str(p) for p in e.get("loc", ())],
                   "msg": _NUMBER_MESSAGES.get(e.get("type"), str(e.get("msg", "invalid value"))),
                   "type": str(e.get("type", "value_error"))} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/model")
    async def model() -> dict[str, Any]:
        return {**info, "open_streams": app.state.open_streams}

    @app.get("/models")
    async def models() -> dict[str, Any]:
        return {"models": [{"name": run.name, **info, "open_streams": app.state.open_streams}]}

    # The answer is built from plain floats already: documented by PredictResponse, returned as
    # JSONResponse to skip re-validating it on every request. A sync handler: FastAPI runs it
    # in its thread pool, so the model never blocks the event loop. (Registered below, unless
    # the task types its own request.)
    def predict(req: PredictRequest) -> JSONResponse:
        windows = []
        for i, inst in enumerate(req.instances):
            for col in inst:
                if col not in adapter.columns:
                    raise _unprocessable(["instances", i, col], f"unknown column; expected {adapter.columns}")
            for col in adapter.columns:
                if col not in inst:
                    raise _unprocessable(["instances", i, col], "field required")
                if len(inst[col]) < lookback:
                    raise _unprocessable(["instances", i, col],
                                         f"need at least {lookback} values (the lookback), got {len(inst[col])}")
            rows = np.stack([np.asarray(inst[c][-lookback:], dtype=np.float64) for c in adapter.columns], axis=1)
            window = adapter.encode_rows(rows)                              # [L, I]
            if not np.isfinite(window).all():
                col = adapter.columns[int(np.nonzero(~np.isfinite(window).all(axis=0))[0][0])]
                raise _unprocessable(["instances", i, col], "values too large for the model's scaling")
            windows.append(window)
        with torch.inference_mode():
            y = net(torch.from_numpy(np.stack(windows))).numpy()           # [B, H, T]
        values = adapter.decode(y)
        for i, v in enumerate(values):
            if not np.isfinite(v).all():
                raise _unprocessable(["instances", i], "the model's output is not finite for this input "
                                     "(values far outside the training data?)")
        return JSONResponse({"predictions": [adapter.to_json(v) for v in values], "horizon": int(y.shape[1]),
                             "engine": chosen})

    if hasattr(adapter, "answer"):             # a task with its own request (classify)
        _add_answer_route(app, adapter, net, chosen, Finite, max_instances, _unprocessable)
    else:
        app.post("/predict", responses={200: {"model": PredictResponse}})(predict)

    async def stream_ws(ws: WebSocket):
        await ws.accept()
        if app.state.open_streams >= max_streams:
            await ws.send_json({"error": f"too many open streams (limit {max_streams})"})
            await ws.close(code=1013)
            return
        app.state.open_streams += 1
        sid = f"ws-{next(ids)}"
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message.get("text") is None:
                    answer = {"error": "send JSON in text frames, not binary ones", "field": "message"}
                else:
                    answer = _answer(message["text"], sid)
                await ws.send_text(json.dumps(answer, allow_nan=False))
        except Exception:                     # a bug, not bad input: log it, close properly
            _log.exception("WebSocket stream %s failed", sid)
            try:
                await ws.send_text(json.dumps({"error": "internal error; the stream was closed", "field": "server"}))
                await ws.close(code=1011)
            except Exception:
                pass
        finally:
            app.state.open_streams -= 1
            stream.reset(sid)

    def _answer(text: str, sid: str) -> dict[str, Any]:
        try:
            msg = json.loads(text, parse_constant=_not_json)
            bad = _bad_number(msg)
        except RecursionError:
            return {"error": "message is nested too deeply", "field": "message"}
        except ValueError:                    # JSONDecodeError is one
            return {"error": "message is not valid JSON (NaN and Infinity are not JSON)", "field": "message"}
        if bad is not None:
            path, problem = bad
            where = "".join(f"[{p!r}]" for p in path)
            if isinstance(msg, dict) and "op" in msg:
                field = "state"
            elif isinstance(msg, dict) and path and path[0] in adapter.columns:
                field = path[0]
            elif isinstance(msg, list) and path and isinstance(path[0], int) and path[0] < len(adapter.columns):
                field = adapter.columns[path[0]]
            else:
                field = "observation"
            return {"error": f"message{where} {problem}", "field": field}
        try:
            if isinstance(msg, dict) and "op" in msg:
                return _operation(msg, sid)
            y = stream.step(msg, sid)                 # a non-finite answer is its LstmkitError
            return {"step": stream.steps(sid), stream_key: adapter.to_json(y)}
        except LstmkitError as e:
            field = next((c for c in adapter.columns if repr(c) in e.message), "observation")
            return {"error": str(e), "field": field}

    def _operation(msg: dict, sid: str) -> dict[str, Any]:
        op = msg["op"]
        if op == "reset":
            stream.reset(sid)
            return {"reset": True}
        if op == "state":
            state = stream.state_dict([sid])
            state["streams"] = {"this": state["streams"].get(sid, {"steps": 0})}
            return {"state": state}
        if op == "restore":
            state = msg.get("state")
            if not isinstance(state, dict) or not isinstance(state.get("streams"), dict) or len(state["streams"]) != 1:
                return {"error": "restore needs the object that {\"op\": \"state\"} returned", "field": "state"}
            stream.load_state_dict({**state, "streams": {sid: next(iter(state["streams"].values()))}})
            return {"restored": True, "step": stream.steps(sid)}
        return {"error": f"unknown op {op!r}; use reset, state or restore", "field": "op"}

    if stream is not None:                     # a model that reads left to right
        app.websocket("/stream")(stream_ws)
    return _BodyLimit(app, max_body) if max_body else app


def _add_answer_route(app, adapter, net, chosen: str, Finite, max_instances: int, unprocessable) -> None:
    """``POST /predict`` for a task whose adapter types its own request (``request_models``) and
    answers it (``answer``); its :class:`~lstmkit.deploy.adapter.BadRequest` is a 422."""
    from fastapi.responses import JSONResponse

    Request, Response = adapter.request_models(Finite, max_instances)

    @app.post("/predict", responses={200: {"model": Response}})
    def predict(req: Request) -> JSONResponse:
        try:
            out = adapter.answer(net, **req.model_dump(exclude_none=True))
        except LstmkitError as e:              # a BadRequest names its field (loc)
            raise unprocessable(getattr(e, "loc", []), e.message) from None
        return JSONResponse({**out, "engine": chosen})


def _not_json(name: str):
    raise ValueError(f"{name} is not JSON")


def _bad_number(value: Any, path: tuple = ()) -> tuple[tuple, str] | None:
    """``(path, problem)`` of the first number in a parsed JSON ``value`` that is a boolean,
    not finite, or beyond float32 range; None when every number is fine."""
    if isinstance(value, bool):
        return path, "is a boolean; send a number"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return path, "is not a finite number"
        if abs(value) > F32_MAX:
            return path, "is beyond the float32 range (|x| <= 3.4e38)"
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        bad = _bad_number(item, (*path, key))
        if bad is not None:
            return bad
    return None


def serve(run: str | Path, host: str = "127.0.0.1", port: int = 8000, engine: str = "auto",
          max_body: int = MAX_BODY, max_streams: int = MAX_STREAMS, log_level: str = "warning") -> None:
    """Serve ``run`` until SIGTERM / Ctrl-C. Prints one line with the address once listening."""
    _require_serve()
    import uvicorn
    app = create_app(run, engine, max_body, max_streams)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise LstmkitError(f"cannot listen on {host}:{port} ({e.strerror})",
                           "pass another --port (or --port 0 for any free one)") from None
    sock.listen(2048)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level=log_level, ws_max_size=max_body, timeout_graceful_shutdown=5,
                            access_log=False, lifespan="off")
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {host}, reachable from other machines; there is no authentication",
              file=sys.stderr)
    print(f"serving {Path(run)} on http://{host}:{bound} (docs: /docs); stop with Ctrl-C or SIGTERM", flush=True)
    server = uvicorn.Server(config)
    if threading.current_thread() is threading.main_thread():
        # uvicorn shuts down gracefully on SIGTERM, then re-raises it with the handler that was
        # there before; a no-op one makes SIGTERM, the normal way to stop a service, exit 0.
        previous = signal.signal(signal.SIGTERM, lambda *_: None)
        try:
            server.run(sockets=[sock])
        finally:
            signal.signal(signal.SIGTERM, previous)
    else:
        server.run(sockets=[sock])
    print("stopped", flush=True)
