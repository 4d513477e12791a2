"""One run behind the HTTP service (:mod:`lstmkit.deploy.server`): its adapter, engine, network,
stream, and the answers to its requests and stream messages, apart from the web framework.

What a request meets depends on the task's adapter (:mod:`lstmkit.deploy.adapter`):

* ``answer(net, **request)`` with ``request_models`` — the task types its own ``POST /predict``
  body (forecast ``{"instances": [...]}``, classify, translate, lm); with ``answer_many(net, requests)``
  as well (forecast, classify, translate), concurrent requests go through a
  :class:`~lstmkit.deploy.batching.RequestBatcher` and are answered together, each on its own;
* ``answer_bytes(net, body, content_type)`` — a raw upload (speech: a WAV file sent with
  ``Content-Type: audio/wav``); the types it takes are the adapter's ``upload_types``
  (default :data:`UPLOAD_TYPES`); no header, or any other type, is a 415 naming them and the header
  to send, for an upload the type the adapter's ``upload_type(head)`` tells by its first bytes;
* ``open_stream(engine, run)`` — the task's own stream object for ``/stream`` (lm: a token per
  message; speech: an audio chunk), whose ``step(message, id)`` returns the JSON answer;
  otherwise a :class:`~lstmkit.deploy.streaming.Stream` of one numeric row per message.
"""
from __future__ import annotations

import json
import math
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from lstmkit.deploy.adapter import BadRequest, json_wording, names_cli_flag, names_python_call, shown
from lstmkit.deploy.batching import RequestBatcher
from lstmkit.deploy.registry import adapter_for, weights_fingerprint
from lstmkit.deploy.streaming import make_stream
from lstmkit.errors import LstmkitError
from lstmkit.estimator_params import caller_warnings
from lstmkit.run_metric import headline_of
from lstmkit.runs import read_meta

__all__ = ["ServedModel", "named_runs", "request_schemas", "bad_number", "not_json", "json_problem", "UPLOAD_TYPES",
           "JSON_TYPES", "F32_MAX", "request_message"]

F32_MAX = float(np.finfo(np.float32).max)
UPLOAD_TYPES = ("audio/wav", "audio/x-wav", "audio/wave")     # an upload adapter's default
JSON_TYPES = ("application/json",)             # and any type ending "+json"; no header is none (a 415)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# the fields each /stream op takes: any other is refused, not dropped ({"op": "reset", "audio": [...]} lost the audio);
# a task's stream may add ops of its own (``ops``, the same shape: speech's start and end), called as its methods
OP_FIELDS = {"reset": ("op",), "state": ("op",), "restore": ("op", "state")}
_RESTORE = 'send {"op": "restore", "state": S} with the S that {"op": "state"} returned'


def named_runs(runs) -> dict[str, Path]:
    """``{name: run folder}`` from one run, a list of runs (each a path or ``NAME=PATH``) or a
    dict; a run's name is its folder's name unless given. Two runs of one name are refused."""
    if isinstance(runs, dict):
        items = [(str(k), Path(v)) for k, v in runs.items()]
    else:
        items = [_named(r) for r in ([runs] if isinstance(runs, (str, Path)) else list(runs))]
    if not items:
        raise LstmkitError("no run to serve", "pass --run RUN (repeat it for several runs)")
    out: dict[str, Path] = {}
    for name, path in items:
        if not _NAME.fullmatch(name):
            raise LstmkitError(f"cannot serve a model named {name!r} (it must be letters, digits, '.', '_' or '-')",
                               "name it: --run NAME=PATH")
        if name in out:
            raise LstmkitError(f"two runs are named {name!r} ({out[name]} and {path})",
                               "name them apart: --run NAME=PATH")
        out[name] = path
    return out


def _named(run) -> tuple[str, Path]:
    """``NAME=PATH`` or a path (which may hold '='); ``a/b=PATH`` that names no folder is a name
    with a '/' (it was read as the path ``a/b=PATH``, then "not found")."""
    text = str(run)
    name, eq, path = text.partition("=")
    if eq and not isinstance(run, Path) and _NAME.fullmatch(name) and path:
        return name, Path(path)
    if eq and not isinstance(run, Path) and "/" in name and path and not Path(text).exists():
        example = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._")
        raise LstmkitError(f"cannot serve --run {text}: it names no path, and as NAME=PATH its name {name!r} holds "
                           "a '/', which names may not", "name it with letters, digits, '.', '_' or '-': "
                           f"--run {example if _NAME.fullmatch(example) else 'sales'}={path}")
    path = Path(text)
    return (path.name or path.resolve().name), path


def _metric(run: Path, meta: dict[str, Any]) -> dict[str, Any] | None:
    """The run's headline metric from its ``metrics.json`` (an int8 run's: its ``export_report.json``, where it is
    the same metric of the same data) (:mod:`lstmkit.run_metric`: name, value, part, split, higher_is_better,
    shown, int8), for ``/models`` and ``/model``; None where it has none (an export's folder)."""
    headline = headline_of(run, meta)
    return None if headline is None else headline.to_dict()


class ServedModel:
    """A run served under ``name``: what ``/models/{name}/...`` answers with."""

    def __init__(self, name: str, run: str | Path, engine: str, limits: dict[str, int]):
        from lstmkit.deploy.onnx_engine import engine_net, resolve_engine     # looked up on use (tests patch it)
        self.name, self.run = name, Path(run)
        adapter = self.adapter = adapter_for(self.run)
        check = getattr(adapter, "serve_check", None)                # what the task needs that no request can give
        if check is not None:
            check()
        self.engine = resolve_engine(self.run, engine, getattr(adapter, "preferred_engine", None))
        self.net = engine_net(adapter, self.engine, self.run)
        self.task_stream = hasattr(adapter, "open_stream")           # the task's own stream object
        self.slow_steps = bool(getattr(adapter, "slow_steps", False))  # numeric steps that refit a model
        if not getattr(adapter, "streams", True):
            self.stream = None
        elif self.task_stream:                                       # None: this model does not stream
            self.stream = adapter.open_stream(self.engine, self.run)
        else:
            self.stream = make_stream(adapter, "auto", self.engine, self.run)
        self._lock = threading.Lock()                                # a task stream steps one message at a time
        self.columns = list(getattr(adapter, "columns", None) or [])
        self.stream_key = getattr(adapter, "stream_key", "forecast")   # a numeric stream's answer name
        self.typed = hasattr(adapter, "answer")                      # the task types its own request
        # concurrent requests answered together (translate: one batched beam search); an int8 run's each
        # alone: dynamic int8 scales a batch's activations together, so one client's answer moved with what
        # another sent beside it (a forecast by 0.2%, a probability by 1e-3)
        meta = read_meta(self.run)
        quantization = meta.get("quantization")
        self.batcher = (RequestBatcher(lambda requests: adapter.answer_many(self.net, requests))
                        if self.typed and hasattr(adapter, "answer_many") and not quantization else None)
        self.upload_types = (tuple(getattr(adapter, "upload_types", UPLOAD_TYPES))
                             if hasattr(adapter, "answer_bytes") else ())
        from lstmkit.version import __version__
        stream = self.stream
        self.info = {**adapter.metadata(), "run": str(self.run.resolve()), "engine": self.engine,
                     "stream_mode": getattr(stream, "mode", None) if stream is not None else None,
                     "quantization": quantization,
                     "fingerprint": getattr(stream, "fingerprint", None) or weights_fingerprint(self.run),
                     "run_id": meta.get("run_id"), "written": meta.get("written"),    # which model: /models
                     "lstmkit_version": __version__, "limits": limits, "metric": _metric(self.run, meta)}
        if self.upload_types:
            self.info["upload_types"] = list(self.upload_types)

    def describe(self) -> dict[str, Any]:
        """What ``/model`` and ``/models/{name}`` answer (the service adds ``open_streams`` and ``reload``:
        :class:`~lstmkit.deploy.reload.ServedRun`)."""
        out = dict(self.info)
        if self.batcher is not None:
            b = self.batcher
            out["batching"] = {"window_ms": b.window_s * 1e3, "max_requests": b.max_requests, "batches": b.batches,
                               "largest": b.largest}
        return out

    def close(self) -> None:
        """Let go of what outlives a request (the batcher's thread, which holds the network): the service
        serves a newer model of the run. A request or stream still answered by this one goes on."""
        if self.batcher is not None:
            self.batcher.close()

    def upload_type_of(self, body: bytes) -> str | None:
        """The content type an upload sent without one (or with another) should have come with, told
        by its first bytes (speech: a WAV's ``RIFF....WAVE``); None when the body is none this model
        reads (or the task tells none). Only a 415's fix uses it: a body is never read by a guess."""
        told = getattr(self.adapter, "upload_type", None)
        kind = told(body[:64]) if told is not None and body else None
        if kind in self.upload_types and _is_json(body):    # UTF-16 JSON's BOM (FF FE) reads as an MP3 frame's sync
            return None
        return kind if kind in self.upload_types else None

    def accepted_types(self) -> list[str]:
        """The content types ``POST /predict`` takes."""
        return [*(["application/json"] if self.typed or not self.upload_types else []), *self.upload_types]

    # -- POST /predict ------------------------------------------------------------------------
    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        """A typed request (the task's ``request_models``) -> the task's answer; through the
        request-batching queue when the task answers several requests at once (``answer_many``)."""
        with caller_warnings():     # requests side by side: their hushed notes must not stay hushed
            out = self.batcher.submit(request) if self.batcher is not None else self.adapter.answer(self.net, **request)
        return {**out, "engine": self.engine}

    async def answer_async(self, request: dict[str, Any]) -> dict[str, Any]:
        """:meth:`answer` of a task that answers requests together, awaited on the event loop
        (no thread of the server's pool waits for the batch)."""
        out = await self.batcher.submit_async(request)
        return {**out, "engine": self.engine}

    def answer_upload(self, body: bytes, content_type: str) -> dict[str, Any]:
        """A raw upload of an accepted content type (a WAV file) -> the task's answer."""
        if not body:
            raise BadRequest([], "the upload is empty", f"send the file's bytes as the body ({content_type})")
        with caller_warnings():
            return {**self.adapter.answer_bytes(self.net, body, content_type), "engine": self.engine}

    # -- WebSocket /stream --------------------------------------------------------------------
    def stream_message(self, text: str, sid: str) -> dict[str, Any]:
        """One text message of stream ``sid`` -> the JSON answer (an error answer names its field)."""
        try:
            msg = read_json(text)
            # a restore's state is the stream's own answer, whose flags are booleans: the stream checks its types;
            # a stream that reads text (an lm's) says what to send in place of a number (was "send a number")
            op = isinstance(msg, dict) and "op" in msg
            bad = bad_number(msg, booleans=not op) if op or getattr(self.stream, "reads_numbers", True) else None
        except RecursionError:
            return {"error": "message is nested too deeply — send a flat JSON message "
                             f"({self._what_to_send()})", "field": "message"}
        except KeyTwice as e:
            return {"error": f"message {e} — send each field once", "field": str(e.path[-1])}
        except ValueError as e:               # JSONDecodeError is one
            return {"error": f"message {json_problem(e)} — send each message as JSON "
                             f"({self._what_to_send()})", "field": "message"}
        if bad is not None:
            path, problem = bad
            where = "".join(f"[{p!r}]" for p in path)
            fix = ("send a number in its place" if "boolean" in problem
                   else "send finite JSON numbers within ±3.4e38 (fill or drop the missing values)")
            return {"error": f"message{where} {problem} — {fix}", "field": self._field_of(msg, path)}
        try:
            # a step hushes notes too (scikit-learn's check_array in a window's scaling): in the count requests run in
            with caller_warnings(), self._lock, json_wording():   # a client's values shown as JSON (true, null)
                if isinstance(msg, dict) and "op" in msg:
                    return self._operation(msg, sid)
                if self.task_stream:
                    answer = self.stream.step(msg, sid)        # the task's JSON answer
                    if answer.get("warnings"):                 # "stream 'this' chunk 2: ..." (was 'ws-0')
                        answer = {**answer, "warnings": [_this(w, sid) for w in answer["warnings"]]}
                    return {"step": self.stream.steps(sid), **answer}
                y, notes = self.stream.step_noted(msg, sid)     # a non-finite answer is its LstmkitError
                fields = getattr(self.adapter, "stream_json", None)    # the task's own answer fields
                return {"step": self.stream.steps(sid),
                        **(fields(y) if fields is not None else {self.stream_key: self.adapter.to_json(y)}),
                        **({"warnings": notes} if notes else {})}
        except LstmkitError as e:
            # the stream by the name {"op": "state"} gives it: the connection's own id ('ws-1') means nothing
            loc, said = getattr(e, "loc", None), _this(request_message(e), sid)
            if loc:
                return {"error": said, "field": str(loc[0])}
            if isinstance(msg, dict) and "op" in msg:          # a restore's state (it said "observation")
                return {"error": said, "field": "state" if msg["op"] == "restore" else "op"}
            fallback = "message" if self.task_stream else "observation"
            return {"error": said, "field": next((c for c in self.columns if repr(c) in e.message), fallback)}

    def _what_to_send(self) -> str:
        if self.task_stream:
            return "what this model's stream reads: see GET /model"
        return "an observation, {" + ", ".join(f'"{c}": number' for c in self.columns) + "}"

    def _field_of(self, msg: Any, path: tuple) -> str:
        if isinstance(msg, dict) and "op" in msg:              # a restore's state, a start's rate
            return str(path[0]) if path else "op"
        if isinstance(msg, dict) and path and path[0] in self.columns:
            return path[0]
        if isinstance(msg, list) and path and isinstance(path[0], int) and path[0] < len(self.columns):
            return self.columns[path[0]]
        return "message" if self.task_stream else "observation"

    def _operation(self, msg: dict, sid: str) -> dict[str, Any]:
        op, stream = msg["op"], self.stream
        fields = {**OP_FIELDS, **getattr(stream, "ops", {})}      # the ops this model's stream takes
        if not isinstance(op, str) or op not in fields:
            return {"error": f"unknown op {shown(op)} — send one of: {', '.join(fields)}", "field": "op"}
        extra = [k for k in msg if k not in fields[op]]
        takes = " and ".join(f'"{k}"' for k in fields[op][1:])
        form = "{" + ", ".join(['"op": "' + op + '"', *(f'"{k}": ...' for k in fields[op][1:])]) + "}"
        if extra:                              # refused whole: the stream is as it was
            return {"error": f'the op "{op}" takes {("only " + takes) if takes else "no other field"}, '
                             f"not {shown(extra[0])} (nothing was done) — send {form} alone, and what else it held "
                             "as a message of its own", "field": extra[0]}
        if op not in OP_FIELDS:                # the stream's own op: its method, given the op's fields
            missing = [k for k in fields[op][1:] if k not in msg]
            if missing:
                return {"error": f'the op "{op}" needs {takes} (nothing was done) — send {form}', "field": missing[0]}
            return getattr(stream, op)(**{k: msg[k] for k in fields[op][1:]}, id=sid)
        if op == "reset":
            stream.reset(sid)
            return {"reset": True}
        if op == "state":
            state = stream.state_dict([sid])
            if not isinstance(state.get("streams"), dict):
                return {"error": "this stream cannot report its state — send observations, or "
                                 "{\"op\": \"reset\"}", "field": "op"}
            state["streams"] = {"this": state["streams"].get(sid, {"steps": 0})}
            return {"state": state}
        if op == "restore":
            state = msg.get("state")
            if not isinstance(state, dict) or not isinstance(state.get("streams"), dict) or len(state["streams"]) != 1:
                return {"error": f"restore needs a stream state — {_RESTORE}", "field": "state"}
            try:
                stream.load_state_dict({**state, "streams": {sid: next(iter(state["streams"].values()))}})
            except LstmkitError as e:          # its fix in Python's words ("state_dict()") told in the op's
                e.hint = _RESTORE if names_python_call(e.hint) else e.hint
                raise
            return {"restored": True, "step": stream.steps(sid)}
        raise AssertionError(op)               # every op of OP_FIELDS is answered above

    def end_stream(self, sid: str) -> None:
        with self._lock:
            self.stream.reset(sid)


def request_schemas(m: ServedModel, Finite, max_instances: int, named: bool) -> tuple:
    """``(Request, Response)`` pydantic models of ``m``'s ``POST /predict`` (None: a raw upload),
    renamed ``<name>_...`` when ``named`` (several models: one schema name each in ``/docs``)."""
    if m.typed:
        Request, Response = m.adapter.request_models(Finite, max_instances)
    else:
        Request, Response = None, None
    if named:
        tag = re.sub(r"[^0-9A-Za-z]+", "_", m.name).strip("_")
        Request, Response = (type(f"{tag}_{c.__name__}", (c,), {"__module__": c.__module__}) if c is not None else None
                             for c in (Request, Response))
    return Request, Response


def _this(text: str, sid: str) -> str:
    """``text`` with stream ``sid`` (a connection's own id) named as ``{"op": "state"}`` names it: 'this'."""
    return text.replace(f"stream {sid!r}", "stream 'this'")


def _is_json(body: bytes) -> bool:
    """Whether ``body`` is a JSON text (in any encoding JSON allows: UTF-8, -16 or -32)."""
    try:
        json.loads(body, parse_constant=not_json)
    except (ValueError, RecursionError):
        return False
    return True


class _Twice(dict):
    """A parsed JSON object that held key ``twice`` more than once (``json.loads`` keeps the last)."""

    twice: str = ""


def read_json(text: str | bytes, strict: bool = True) -> Any:
    """``json.loads`` as the service reads a body or a message: NaN and Infinity refused (``strict``;
    False leaves them to the request's checks), and a key given twice in one object a
    :class:`KeyTwice` naming where (JSON readers keep the last value silently: a client's
    ``{"texts": ["a"], "texts": ["b"]}`` was answered for ``["b"]`` alone)."""
    found = False

    def pairs(items: list) -> dict:
        nonlocal found
        d = dict(items)
        if len(d) == len(items):
            return d
        found, seen, out = True, set(), _Twice(d)
        out.twice = next(k for k, _ in items if k in seen or seen.add(k))
        return out

    data = json.loads(text, object_pairs_hook=pairs, **({"parse_constant": not_json} if strict else {}))
    if found:
        raise KeyTwice(_twice_at(data))
    return data


class KeyTwice(ValueError):
    """A JSON object with a key given twice; ``path`` leads to the key (the last item)."""

    def __init__(self, path: tuple):
        self.path = path
        where = "".join(f"[{p!r}]" for p in path[:-1])
        super().__init__(f"holds the key {path[-1]!r} twice in one object{' at ' + where if where else ''}")


def _twice_at(value: Any, path: tuple = ()) -> tuple | None:
    if isinstance(value, _Twice):
        return (*path, value.twice)
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(item, (dict, list)):
            found = _twice_at(item, (*path, key))
            if found is not None:
                return found
    return None


def not_json(name: str):
    """``json.loads``' ``parse_constant``: NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not JSON")


def request_message(e: LstmkitError) -> str:
    """What the service answers for an :class:`LstmkitError` raised while answering a request (a
    422's ``msg``, a stream's ``error``): the problem, `` — ``, and its fix. A fix written for the
    command line (it names a ``--flag``) means nothing to an HTTP client: it is left out, and the
    raising site or the task's adapter (which knows the request's fields) words one for the service."""
    if e.hint and not names_cli_flag(e.hint):
        return str(e)
    return e.message


def json_problem(e: ValueError) -> str:
    """What ``json.loads`` refused, after "the body" / "message": a number of more digits than Python
    reads (4,300: its guard against slow conversions) is valid JSON, and was called invalid JSON."""
    if "integer string conversion" in str(e):
        return "holds a number of more than 4300 digits, beyond the float32 range (|x| <= 3.4e38)"
    return "is not valid JSON (NaN and Infinity are not JSON)"


def bad_number(value: Any, path: tuple = (), booleans: bool = True) -> tuple[tuple, str] | None:
    """``(path, problem)`` of the first number in a parsed JSON ``value`` that is a boolean (unless
    ``booleans`` is False: then a boolean is left to the reader), not finite, or beyond float32
    range; None when every number is fine."""
    if isinstance(value, bool):
        return (path, "is a boolean, not a number") if booleans else None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return path, "is not a finite number"
        if abs(value) > F32_MAX:
            return path, "is beyond the float32 range (|x| <= 3.4e38)"
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        bad = bad_number(item, (*path, key), booleans)
        if bad is not None:
            return bad
    return None
