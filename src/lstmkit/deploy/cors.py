"""Cross-origin requests to the HTTP service (:mod:`lstmkit.deploy.server`): ``lstmkit serve
--cors-origin ORIGIN`` lets a web page from ORIGIN call it (a demo UI on http://localhost:3000
calling the service on :8000).

Starlette's ``CORSMiddleware`` answers the browser's preflight (``OPTIONS`` with ``Origin`` and
``Access-Control-Request-Method``) and adds ``Access-Control-Allow-Origin`` to every answer an
allowed origin gets, errors included (a browser hides the body of a 4xx without it). What this
module adds: the origins checked when the service starts (one "problem — fix" line for a value no
browser would ever send as its ``Origin``), and a refused preflight answered as every other refusal
of the service is, ``{"detail": "problem — fix"}``, instead of the plain text "Disallowed CORS origin".
Without ``--cors-origin``, the server refuses a preflight with :func:`no_cross_origin`."""
# No `from __future__ import annotations`, as in server.py.
from urllib.parse import urlsplit

from lstmkit.errors import LstmkitError

__all__ = ["allowed_origins", "with_cors", "no_cross_origin", "is_preflight", "CORS_METHODS", "CORS_HEADERS"]

CORS_METHODS = ("GET", "HEAD", "POST")        # every method a route of the service takes
CORS_HEADERS = ("Content-Type",)              # a JSON body's or an upload's type; Starlette adds the other safelisted
_DEFAULT_PORTS = {"http": 80, "https": 443}
_EXAMPLE = "--cors-origin http://localhost:3000 (the web page's scheme, host and port), or --cors-origin '*' for any"


def allowed_origins(values) -> list[str]:
    """``values`` (an origin, or a list of them; None: none) checked and written as a browser sends
    its ``Origin`` header: scheme and host in lower case, no default port (``http://Example.com:80``
    -> ``http://example.com``), since Starlette compares the header with each one as text."""
    if values is None:
        return []
    return list(dict.fromkeys(_origin(v) for v in ([values] if isinstance(values, str) else values)))


def _origin(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LstmkitError(f"--cors-origin must name a web page's origin, got {value!r}", f"pass {_EXAMPLE}")
    value = value.strip()
    if value == "*":
        return value
    if "://" not in value:
        guess = f"http://{value.rstrip('/')}"
        raise LstmkitError(f"--cors-origin {value!r} has no scheme", f"pass --cors-origin {guess} (or https://...)")
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise LstmkitError(f"--cors-origin {value!r} is not an http or https origin",
                           f"pass the origin of the web page that calls the service: {_EXAMPLE}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    host = parts.hostname
    if not host or port == -1:
        raise LstmkitError(f"--cors-origin {value!r} names no host, or a port outside 0-65535", f"pass {_EXAMPLE}")
    origin = f"{scheme}://{f'[{host}]' if ':' in host else host}"
    origin += f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else ""
    if parts.path or parts.query or parts.fragment or parts.username is not None:
        # the browser's Origin header never holds them: the origin would match no page at all
        raise LstmkitError(f"--cors-origin {value!r} holds more than an origin (a path, query or user name)",
                           f"pass the scheme, host and port alone: --cors-origin {origin}")
    return origin


def is_preflight(headers) -> bool:
    """Whether a request with these headers (an ``OPTIONS``) is a browser's CORS preflight."""
    return "origin" in headers and "access-control-request-method" in headers


def no_cross_origin(origin: str, method: str, path: str) -> str:
    """The 403 for a preflight to a service started without ``--cors-origin``."""
    return (f"this service takes no requests from web pages of other origins: a page from {origin} asked to send "
            f"{method} {path} (a CORS preflight) — start the service with --cors-origin {origin} (repeat the flag "
            "for more origins; in Python, create_app(..., cors_origins=[...]))")


def with_cors(app, origins: list[str]):
    """``app`` behind Starlette's ``CORSMiddleware`` for ``origins`` (outermost, so that the body
    limit's 413 and every error carry the headers too); a refused preflight is a 403 "problem — fix"."""
    from starlette.datastructures import Headers
    from starlette.middleware.cors import CORSMiddleware
    from starlette.responses import JSONResponse

    class Cors(CORSMiddleware):
        async def __call__(self, scope, receive, send):
            headers = Headers(scope=scope) if scope["type"] == "http" and scope["method"] == "OPTIONS" else {}
            if not is_preflight(headers):
                return await super().__call__(scope, receive, send)
            answer = self.preflight_response(request_headers=headers)
            if answer.status_code >= 400:         # Starlette's is plain text: "Disallowed CORS origin"
                answer = JSONResponse({"detail": self.refusal(headers, scope["path"])}, status_code=403,
                                      headers={"Vary": answer.headers["vary"]})
            await answer(scope, receive, send)

        def refusal(self, headers, path: str) -> str:
            """What the preflight asks that ``origins`` do not allow, the first such thing."""
            origin, method = headers["origin"], headers["access-control-request-method"]
            if not self.is_allowed_origin(origin):
                return (f"this service takes requests from web pages of {', '.join(origins)}, not from {origin} "
                        f"(a CORS preflight for {method} {path}) — start the service with --cors-origin {origin} "
                        "as well")
            if method not in self.allow_methods:
                return f"a web page may not send {method} {path} to this service — send {', '.join(CORS_METHODS)}"
            asked = [h.strip() for h in headers.get("access-control-request-headers", "").split(",") if h.strip()]
            refused = [h for h in asked if h.lower() not in self.allow_headers]
            if not refused:                         # what Starlette refuses besides (a private network's page)
                return (f"a web page may not send {method} {path} to this service from where it is (a CORS "
                        "preflight) — call the service from a page on the same network")
            return (f"a web page may not send the header{'s' * (len(refused) > 1)} {', '.join(refused)} to this "
                    f"service (a CORS preflight for {method} {path}) — send only Content-Type and the headers every "
                    "page may send (Accept, Accept-Language, Content-Language)")

    return Cors(app, allow_origins=origins, allow_methods=CORS_METHODS, allow_headers=CORS_HEADERS)
