"""What the HTTP service (:mod:`lstmkit.deploy.server`) answers a request it cannot take: the 413
for a body over the limit (an ASGI middleware), the 400 for a body that is not UTF-8 JSON, and the
422 whose ``detail`` is a list of ``{"loc": [...], "msg": ..., "type": ...}``, built from pydantic's
errors without echoing the input (it may hold NaN, which is not JSON)."""
# No `from __future__ import annotations`, as in server.py: the app's modules resolve types at run time.
import json
from typing import Any

from lstmkit.deploy.served import F32_MAX, not_json

__all__ = ["BodyLimit", "UNPARSED", "UNREADABLE_BODY", "validation_detail", "unprocessable", "validated"]

UNPARSED = "There was an error parsing the body"      # FastAPI's words for a body json.loads failed on
UNREADABLE_BODY = (f"{UNPARSED}: it is not UTF-8 text, or it is nested too deeply to read; "
                   "send the request as UTF-8 JSON (Content-Type: application/json)")
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
        body = json.dumps({"detail": f"request body larger than {self.limit} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def validation_detail(errors) -> list[dict[str, Any]]:
    """pydantic's errors -> the service's 422 ``detail`` (no input echoed: it may hold NaN)."""
    return [{"loc": [p if isinstance(p, (int, str)) else str(p) for p in e.get("loc", ())],
             "msg": _message(e), "type": str(e.get("type", "value_error"))} for e in errors]


def _message(error: dict) -> str:
    """A pydantic error's message; a bound is named as the float32 range only where it is that range
    (``beam`` 51 was told "must be within the float32 range", not its own limit of 50)."""
    kind, bounds = error.get("type"), (error.get("ctx") or {}).values()
    if kind in ("less_than_equal", "greater_than_equal") and not any(
            isinstance(b, float) and abs(b) == F32_MAX for b in bounds):
        return str(error.get("msg", "invalid value"))            # "Input should be less than or equal to 50"
    return _NUMBER_MESSAGES.get(kind, str(error.get("msg", "invalid value")))


def unprocessable(loc: list, msg: str):
    from fastapi import HTTPException
    return HTTPException(422, detail=[{"loc": ["body", *loc], "msg": msg, "type": "value_error"}])


def validated(Request, body: bytes) -> dict[str, Any]:
    """A JSON body read by hand (an upload route's JSON branch), checked by ``Request``."""
    from fastapi import HTTPException
    from pydantic import ValidationError
    try:
        data = json.loads(body, parse_constant=not_json)
    except RecursionError:
        raise HTTPException(400, detail=UNREADABLE_BODY) from None
    except ValueError:
        raise HTTPException(422, detail=[{"loc": ["body"], "msg": "the body is not valid JSON "
                                          "(NaN and Infinity are not JSON)", "type": "json_invalid"}]) from None
    try:
        return Request.model_validate(data).model_dump(exclude_none=True)
    except ValidationError as e:
        raise HTTPException(422, detail=[{**d, "loc": ["body", *d["loc"]]} for d in validation_detail(e.errors())]) from None
