"""A small client for ``lstmkit serve``: the same calls for every task.

>>> from lstmkit.serve import Client
>>> c = Client("http://127.0.0.1:8000")
>>> c.health(), [m["name"] for m in c.models()]
>>> c.predict(model="reviews", texts=["a wonderful film"])        # any task's JSON request
>>> c.predict(instances=[{"units": history}])                     # one run served: no model name
>>> c.upload("hello.wav", model="speech")                         # a WAV file, as it is
>>> with c.stream(model="sales") as s:                            # the WebSocket /stream
...     s.send({"units": 412.3})                                  # -> {"step": 1, "forecast": {...}}

HTTP goes through the standard library; streams use ``websockets`` (the ``[serve]`` extra). A
service that cannot be reached, one that does not answer within ``timeout`` seconds, a server that
answers what no lstmkit service does (not JSON, not a JSON object), a 4xx / 5xx answer and a
stream's error answer are each one :class:`~lstmkit.errors.LstmkitError` naming the URL and the
field or problem. A 404 the service did not give (its own names the unknown model or path, "problem —
fix") says the URL may not be the service's, e.g. a reverse proxy's without its path prefix.
"""
from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path
from typing import Any

from lstmkit.errors import LstmkitError, optional_import

__all__ = ["Client", "ClientStream"]


class Client:
    """Calls an ``lstmkit serve`` service at ``url`` (``http://host:port``)."""

    def __init__(self, url: str = "http://127.0.0.1:8000", timeout: float = 30.0):
        parts = urllib.parse.urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise LstmkitError(f"not a service URL: {url!r}", "pass http://HOST:PORT, e.g. http://127.0.0.1:8000")
        self.url, self.timeout = str(url).rstrip("/"), _seconds(timeout, "timeout")

    def __repr__(self) -> str:
        return f"Client({self.url!r})"

    # -- HTTP -----------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """``{"status": "ok"}`` when the service answers."""
        return self._call("GET", "/health")

    def models(self) -> list[dict[str, Any]]:
        """What each served model is: ``name``, ``task``, ``engine``, its columns or classes, its headline
        metric from metrics.json (``metric``: ``{name, value, part, higher_is_better, shown}``, or None), ..."""
        answer = self._call("GET", "/models")
        if not isinstance(answer.get("models"), list):
            raise LstmkitError(f"GET {self.url}/models answered {_snippet(answer)}, no list of models", _NOT_LSTMKIT)
        return answer["models"]

    def model(self, model: str | None = None) -> dict[str, Any]:
        """What one model is (``model=None``: the only one served)."""
        return self._call("GET", _path(model, "") if model is not None else "/model")

    def predict(self, model: str | None = None, **request: Any) -> dict[str, Any]:
        """``POST /predict`` with the task's request as keyword arguments (``texts=[...]``,
        ``instances=[...]``, ...); numpy arrays are sent as lists. ``model``: the served name
        (None: the service's only model)."""
        body = _json(request, "request").encode()
        return self._call("POST", _path(model, "/predict"), body, "application/json")

    def upload(self, path: str | Path, model: str | None = None, content_type: str = "audio/wav") -> dict[str, Any]:
        """``POST /predict`` with a file's bytes as they are (a recording for a speech model: WAV, FLAC,
        OGG/Opus, MP3, AIFF, ..., told by its bytes whatever ``content_type`` says)."""
        if not isinstance(path, (str, os.PathLike)):
            raise LstmkitError(f"upload() takes a file path, got {type(path).__name__}",
                               "pass the path of a WAV file, e.g. c.upload('hello.wav')")
        path = Path(path)
        try:
            body = path.read_bytes()
        except OSError as e:
            raise LstmkitError(f"cannot read {path} ({e.strerror or e})", "pass the path of a WAV file") from None
        return self._call("POST", _path(model, "/predict"), body, content_type)

    def stream(self, model: str | None = None, open_timeout: float | None = None) -> ClientStream:
        """A WebSocket stream to ``model`` (None: the only one served); use it in a ``with``. ``open_timeout``:
        seconds the connection may take to open (None: the client's ``timeout``, as every request has)."""
        ws_url = "ws" + self.url[4:] + _path(model, "/stream")
        wait = self.timeout if open_timeout is None else _seconds(open_timeout, "open_timeout")
        return ClientStream(ws_url, self.timeout, wait, self._not_service())

    def _not_service(self) -> str:
        """The fix for a 404 the lstmkit service did not give (another server, or a reverse proxy's
        URL without its path prefix): the service answers an unknown model with its own problem."""
        return (f"is {self.url} the lstmkit service? behind a reverse proxy, give its path prefix too "
                "(Client('https://HOST/PREFIX')); the service answers GET /health with {\"status\": \"ok\"}")

    def _call(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None) -> Any:
        url = self.url + path
        req = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": content_type} if content_type else {})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                answer = json.loads(resp.read())
        except urllib.error.HTTPError as e:
            problem, fix = _problem(e)
            if e.code == 404 and fix is None:   # the service's 404 says "problem — fix" (an unknown model named)
                raise LstmkitError(f"{method} {url} answered 404 ({problem}), not as the lstmkit service answers",
                                   self._not_service()) from None
            raise LstmkitError(f"{method} {url} answered {e.code}: {problem}",
                               fix or _HINTS.get(e.code, "fix the request")) from None
        except TimeoutError:                    # connected, then no answer in time (it said "cannot reach")
            raise LstmkitError(f"no answer from {method} {url} within {self.timeout:g} s",
                               "is the service busy? wait longer: Client(url, timeout=120)") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", None) or e
            raise LstmkitError(f"cannot reach {url} ({reason})",
                               "is the service running? start it with: lstmkit serve --run RUN") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise LstmkitError(f"{method} {url} did not answer JSON", _NOT_LSTMKIT) from None
        if not isinstance(answer, dict):        # every answer of lstmkit serve is a JSON object
            raise LstmkitError(f"{method} {url} answered {_snippet(answer)}, not a JSON object", _NOT_LSTMKIT)
        return answer


class ClientStream:
    """One WebSocket ``/stream`` connection: :meth:`send` a message, get its answer."""

    def __init__(self, url: str, timeout: float, open_timeout: float, not_service: str | None = None):
        connect = optional_import("websockets.sync.client", "streaming", "serve", package="websockets").connect
        self.url, self.timeout = url, timeout
        self._cut = False                       # a message was cut (Ctrl-C) before its answer: the stream was closed
        try:
            self._ws = connect(url, open_timeout=open_timeout, max_size=None)
            self._ws.__enter__()                # websockets wants its context; close() ends it
        except Exception as e:                  # refused, handshake rejected, timed out
            if getattr(getattr(e, "response", None), "status_code", None) == 404:
                # the service accepts every WebSocket path, and answers one it does not stream with why
                raise LstmkitError(f"cannot open a stream at {url}: its server answered HTTP 404, which the lstmkit "
                                   "service never does to a WebSocket", not_service or _NOT_LSTMKIT) from None
            raise LstmkitError(f"cannot open a stream at {url} ({type(e).__name__}: {e})",
                               "is the service running, and does this model stream? see GET /models") from None

    def __enter__(self) -> ClientStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        # A stream dropped unclosed (``c.stream().send(x)`` in a loop) kept its connection and the thread
        # websockets reads it with until the program ended: the service held one of its --max-streams for
        # each, and refused every client once they were spent. Closed as Python closes a dropped file.
        ws = getattr(self, "_ws", None)             # None: the connection was never opened
        if ws is None or ws.close_code is not None:
            return
        if sys.is_finalizing():
            # the program is ending (a stream left open in a module's global): websockets' reader thread, a
            # daemon, runs no more, and close() waits for it -- the program hung at exit, for ever. The
            # process's exit closes the socket, which the service sees as the client leaving.
            return
        try:
            ws.close()
            warnings.warn(f"unclosed stream {self.url}: closed when dropped — close it (or use 'with "
                          "Client.stream(...) as s:')", ResourceWarning, source=self)
        except Exception:                           # interpreter shutdown, the connection already gone, or
            pass                                    # warnings as errors (nothing may raise out of __del__)

    def send(self, message: Any) -> dict[str, Any]:
        """Send one message (an observation, a token, an audio chunk: anything JSON) and return
        the answer; an error answer raises an LstmkitError naming its field."""
        text = _json(message, "message")
        answer = self._exchange(text)
        if "error" in answer:
            field = answer.get("field")
            # the service's "problem — fix": its fix leads the hint, as an HTTP answer's does (the message held
            # both, and the line read "problem — its fix — ours")
            problem, _, theirs = str(answer["error"]).partition(" — ")
            fix = ("Client.models() lists what is served and what streams" if field in ("model", "path")
                   else "the service closed this stream: open a new one (Client.stream(...)), and restore a state "
                        "saved before with restore()" if answer.get("closed")
                   else "the stream is as it was before this message")
            raise LstmkitError(f"{self.url}: {problem}" + (f" (field {field!r})" if field else ""),
                               f"{theirs}; {fix}" if theirs else fix)
        return answer

    def reset(self) -> None:
        """Forget this stream's state (the next step starts from zero)."""
        self.send({"op": "reset"})

    def state(self) -> dict[str, Any]:
        """This stream's state, for :meth:`restore` on another connection."""
        return self.send({"op": "state"})["state"]

    def restore(self, state: dict[str, Any]) -> int:
        """Continue from a :meth:`state`; returns the step count restored."""
        return self.send({"op": "restore", "state": state})["step"]

    def start(self, rate: int) -> dict[str, Any]:
        """A speech stream: declare that the chunks sent next come at ``rate`` Hz (before the first)."""
        return self.send({"op": "start", "rate": rate})

    def end(self) -> dict[str, Any]:
        """A speech stream: end the utterance; returns ``{"transcript", "seconds"}`` of all of it."""
        return self.send({"op": "end"})

    def close(self) -> None:
        """Close the connection (the service forgets this stream); ``with c.stream(...)`` closes it on leaving."""
        self._ws.close()

    def _exchange(self, text: str) -> dict[str, Any]:
        from websockets.exceptions import ConnectionClosed
        try:
            self._ws.send(text)
            raw = self._ws.recv(timeout=self.timeout)
        except ConnectionClosed as e:
            if self._cut:                       # what is left to read is the interrupted message's answer
                raise LstmkitError(f"the stream at {self.url} was closed when a message was interrupted before its "
                                   "answer came (that answer would have been taken for the next message's)",
                                   "open a new stream, and restore a state saved before with restore()") from None
            last = self._last_word()            # the service's reason, sent before it closed
            if last is not None:
                return last
            raise LstmkitError(f"the stream at {self.url} was closed ({e})", "open a new stream") from None
        except TimeoutError:
            # its late answer would be taken for the next message's, and every answer after one behind
            self._ws.close()
            raise LstmkitError(f"no answer from {self.url} within {self.timeout} s; the stream was closed (a late "
                               "answer would have been taken for the next message's)",
                               "open a new stream (with a larger timeout if the service is busy), and restore a "
                               "state saved before with restore()") from None
        except BaseException:
            # Ctrl-C while the answer was awaited: it would come as the next message's, every answer after one behind
            self._cut = True
            self._ws.close()
            raise
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
            problem = f"not JSON ({raw[:40]!r})"
        else:
            problem = f"not a JSON object ({_snippet(answer)})"
        if not isinstance(answer, dict):
            raise LstmkitError(f"the stream at {self.url} answered {problem}", _NOT_LSTMKIT)
        return answer


    def _last_word(self) -> dict[str, Any] | None:
        try:
            answer = json.loads(self._ws.recv(timeout=0))
        except Exception:                       # nothing was left to read
            return None
        return answer if isinstance(answer, dict) and "error" in answer else None


_NOT_LSTMKIT = "is this an lstmkit service? start one with: lstmkit serve --run RUN"
_HINTS = {404: "check the model name: Client.models() lists what is served",
          413: "send a smaller body (the service's max_body)",
          415: "send one of the content types named",
          422: "fix the field named"}


def _snippet(answer: Any) -> str:
    """The start of a JSON answer, for an error that shows what came instead of what was expected."""
    text = json.dumps(answer)
    return text if len(text) <= 60 else text[:57] + "..."


def _path(model: str | None, route: str) -> str:
    if model is not None and (isinstance(model, bool) or not isinstance(model, (str, int))):
        raise LstmkitError(f"model must be a served model's name (a string), got {type(model).__name__}",
                           "pass model='NAME' as Client.models() lists it, or leave it out when one model is served")
    return route if model is None else f"/models/{urllib.parse.quote(str(model), safe='')}{route}"


def _problem(e: urllib.error.HTTPError) -> tuple[str, str | None]:
    """The service's ``detail`` as ``(problem, fix)``: a text (a 404, 413, ...), or each field's
    ``loc`` and ``msg`` (a 422); the fixes (after `` — ``) become the error's hint (None: the detail
    says none)."""
    try:
        detail = json.loads(e.read()).get("detail")
    except (ValueError, AttributeError, OSError):
        return e.reason or "error", None
    if not isinstance(detail, list):
        problem, _, fix = str(detail).partition(" — ")
        return problem, fix or None
    problems, fixes = [], []
    for d in (d for d in detail if isinstance(d, dict)):
        problem, _, fix = str(d.get("msg")).partition(" — ")
        problems.append(f"{'.'.join(str(p) for p in d.get('loc', []) if p != 'body') or 'body'}: {problem}")
        if fix and fix not in fixes:
            fixes.append(fix)
    return "; ".join(problems), "; ".join(fixes) or None


def _json(value: Any, what: str) -> str:
    """``value`` as JSON text (numpy arrays and numbers as lists and numbers); what JSON cannot
    carry is one LstmkitError before anything is sent."""
    try:
        return json.dumps(value, allow_nan=False, default=_plain)
    except RecursionError:
        raise LstmkitError(f"the {what} is nested too deeply to write as JSON", "send flatter lists") from None
    except ValueError as e:             # NaN / infinity, or an int of more digits than Python writes
        if "integer string conversion" in str(e):
            raise LstmkitError(f"the {what} holds a number of more than 4300 digits, beyond what the service reads",
                               "send numbers within ±3.4e38") from None
        raise LstmkitError(f"the {what} holds NaN or infinity, which JSON cannot carry", "send finite numbers") from None
    except _NotJson as e:
        raise LstmkitError(f"the {what} holds a {e.args[0]}, which JSON cannot carry",
                           "send lists, numbers, strings, dicts (numpy arrays are sent as lists)") from None


class _NotJson(TypeError):
    """A value json.dumps was handed that has no JSON form."""


def _plain(value: Any) -> Any:
    """numpy arrays and numbers as JSON's lists and numbers."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise _NotJson(type(value).__name__)


def _seconds(value: Any, name: str) -> float:
    """A positive number of seconds, refused in one line otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise LstmkitError(f"`{name}` must be a positive number of seconds, got {value!r}", f"pass {name}=30, say")
    return float(value)
