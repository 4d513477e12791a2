"""A minimal in-process ASGI client for tests (httpx, which fastapi's TestClient needs, is not a
dependency): HTTP requests and WebSocket sessions on one event loop, no sockets.

An exception that escapes the app is reported the way a server would answer it: a 500 when no
response had started (``Client.request``), an ``{"type": "app.raised"}`` event (``Session.receive``).
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

# Lists nested this deep are too deep for json.loads on every Python lstmkit supports: it refuses from
# 996 levels on 3.10 and 3.11, from 1498 on 3.12 and only from 9999 on 3.13 (where 5000 levels parse)
DEEP = 100_000


class Client:
    def __init__(self, app):
        self.app = app
        self.loop = asyncio.new_event_loop()

    def close(self) -> None:
        self.loop.close()

    def run(self, coro, timeout: float = 120):        # a guard against a hang: a loaded machine is slow
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    async def arequest(self, method: str, path: str, body: bytes | None = None,
                       content_type: str | None = "application/json",
                       headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        body = body or b""
        path, _, query = path.partition("?")
        pending = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive():
            if pending:
                return pending.pop()
            await asyncio.Event().wait()                 # the client stays connected
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
                 "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80),
                 "headers": [(b"host", b"test"), (b"content-length", str(len(body)).encode()),
                             *([(b"content-type", content_type.encode())] if content_type is not None else []),
                             *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items())]}
        try:
            await self.app(scope, receive, send)
        except Exception:                                # what uvicorn turns into a 500
            if not any(m["type"] == "http.response.start" for m in sent):
                return 500, b""
        status = next((m["status"] for m in sent if m["type"] == "http.response.start"), 500)
        return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")

    def request(self, method: str, path: str, body: bytes | str | None = None,
                content_type: str | None = "application/json",
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """``content_type`` None: no Content-Type header (as a client that sets none sends); ``headers``: others."""
        return self.run(self.arequest(method, path, body.encode() if isinstance(body, str) else body, content_type,
                                      headers))

    def post_json(self, body, path: str = "/predict") -> tuple[int, Any]:
        """POST ``body`` (a JSON value, or raw JSON text) -> ``(status, parsed answer)``."""
        status, raw = self.request("POST", path, body if isinstance(body, str) else json.dumps(body))
        return status, json.loads(raw)

    def websocket(self, path: str = "/stream") -> "Session":
        return Session(self, path)


class Session:
    """One WebSocket connection: ``send_text``/``send_bytes``, ``receive`` the app's next event."""

    def __init__(self, client: Client, path: str):
        self.client = client
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.outbox: asyncio.Queue = asyncio.Queue()
        scope = {"type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "path": path,
                 "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": [],
                 "subprotocols": [], "client": ("127.0.0.1", 50001), "server": ("127.0.0.1", 80)}
        self.inbox.put_nowait({"type": "websocket.connect"})
        self.task = client.loop.create_task(client.app(scope, self.inbox.get, self.outbox.put))
        accepted = self.receive()
        assert accepted["type"] == "websocket.accept", accepted

    def send_text(self, text: str) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "text": text})

    def send_bytes(self, data: bytes) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "bytes": data})

    def receive(self, timeout: float = 60) -> dict[str, Any]:
        async def next_event():
            get = asyncio.ensure_future(self.outbox.get())
            done, _ = await asyncio.wait({get, self.task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if get in done:
                return get.result()
            get.cancel()
            if self.task in done:
                return {"type": "app.raised", "error": repr(self.task.exception())} if self.task.exception() \
                    else {"type": "app.returned"}
            raise TimeoutError("the app sent nothing")
        return self.client.run(next_event(), timeout + 5)

    def receive_json(self) -> Any:
        event = self.receive()
        assert event["type"] == "websocket.send", event
        return strict_json(event["text"] if event.get("text") is not None else event["bytes"])

    def close(self) -> None:
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
        if not self.task.done():
            self.client.run(asyncio.wait({self.task}, timeout=60))


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def strict_json(data: bytes | str) -> Any:
    """Parse ``data`` as standard JSON: NaN, Infinity and -Infinity tokens are errors."""
    return json.loads(data, parse_constant=_no_constant)
