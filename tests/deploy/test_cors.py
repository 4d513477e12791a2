"""Web pages of other origins (``lstmkit serve --cors-origin ORIGIN``): the real server in a
subprocess on a loopback port, asked as a browser asks (a preflight ``OPTIONS``, then the request
with its ``Origin``); and ``OPTIONS`` without the flag."""
import http.client
import json

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
ws_client = pytest.importorskip("websockets.sync.client")

from lstmkit.deploy.cors import allowed_origins  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from serve_helpers import running_server, tiny_text_classifier  # noqa: E402

PAGE, OTHER_PAGE, STRANGER = "http://localhost:3000", "http://127.0.0.1:5173", "http://evil.example"
MAX_BODY = 2_000


@pytest.fixture(scope="module")
def text_clf(tmp_path_factory):
    return tiny_text_classifier(tmp_path_factory.mktemp("cors_text"))


@pytest.fixture(scope="module")
def cors_port(text_clf):
    with running_server("--run", f"reviews={text_clf.run_dir_}", "--engine", "torch", "--max-body", MAX_BODY,
                        "--cors-origin", PAGE, "--cors-origin", OTHER_PAGE) as (_, port):
        yield port


@pytest.fixture(scope="module")
def plain_port(text_clf):
    with running_server("--run", str(text_clf.run_dir_), "--engine", "torch") as (_, port):
        yield port


def _call(port, method, path, headers=None, body=None):
    """``(status, headers with lower-case names, JSON answer or raw bytes)``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(raw) if raw[:1] == b"{" else raw


def _preflight(port, path, origin=PAGE, method="POST", headers="content-type"):
    asked = {"Origin": origin, "Access-Control-Request-Method": method,
             **({"Access-Control-Request-Headers": headers} if headers else {})}
    return _call(port, "OPTIONS", path, asked)


def _post(port, body, origin=PAGE, path="/predict"):
    return _call(port, "POST", path, {"Origin": origin, "Content-Type": "application/json"},
                 body if isinstance(body, bytes) else json.dumps(body).encode())


@pytest.mark.parametrize("origin", [PAGE, OTHER_PAGE])
@pytest.mark.parametrize("path", ["/predict", "/models/reviews/predict"])
def test_a_listed_origins_preflight_is_answered(cors_port, origin, path):
    status, headers, _ = _preflight(cors_port, path, origin)
    assert status == 200, headers
    assert headers["access-control-allow-origin"] == origin
    assert {"GET", "HEAD", "POST"} <= {m.strip() for m in headers["access-control-allow-methods"].split(",")}
    assert "content-type" in headers["access-control-allow-headers"].lower()


def test_a_listed_origins_requests_carry_the_header_errors_too(cors_port, text_clf):
    status, headers, out = _post(cors_port, {"texts": ["a good film", "awful and boring"]})
    assert status == 200 and headers["access-control-allow-origin"] == PAGE and "Origin" in headers["vary"]
    assert [p["label"] for p in out["predictions"]] == list(text_clf.predict(["a good film", "awful and boring"]))
    # a browser shows a page the body of an error only with the header: each refusal carries it
    for status_wanted, (method, path, body) in {
            422: ("POST", "/predict", json.dumps({"texts": 3}).encode()),
            413: ("POST", "/predict", json.dumps({"texts": ["a" * MAX_BODY]}).encode()),
            404: ("GET", "/nope", None),
            405: ("GET", "/predict", None)}.items():
        status, headers, out = _call(cors_port, method, path,
                                     {"Origin": OTHER_PAGE, "Content-Type": "application/json"}, body)
        assert status == status_wanted, (status, out)
        assert headers.get("access-control-allow-origin") == OTHER_PAGE, (status, headers)
        assert " — " in (out["detail"] if status != 422 else out["detail"][0]["msg"]), out


def test_an_origin_not_listed_gets_no_cors_headers(cors_port):
    status, headers, out = _preflight(cors_port, "/predict", STRANGER)
    assert status == 403 and "access-control-allow-origin" not in headers
    assert out["detail"].endswith(f"— start the service with --cors-origin {STRANGER} as well"), out
    assert PAGE in out["detail"] and OTHER_PAGE in out["detail"]
    status, headers, out = _post(cors_port, {"texts": ["a good film"]}, STRANGER)
    assert status == 200 and "predictions" in out       # the server answers; the browser hides it from the page
    assert not [h for h in headers if h.startswith("access-control-")], headers


@pytest.mark.parametrize("method, headers, problem, fix", [
    ("DELETE", "content-type", "may not send DELETE /predict", "— send GET, HEAD, POST"),
    ("POST", "content-type, x-api-key", "may not send the header x-api-key", "— send only Content-Type"),
])
def test_a_preflight_asking_what_the_service_takes_not_says_what_to_send(cors_port, method, headers, problem, fix):
    status, got, out = _preflight(cors_port, "/predict", PAGE, method, headers)
    assert status == 403 and problem in out["detail"] and fix in out["detail"], out


def test_options_and_websockets_with_cors_on(cors_port):
    status, headers, body = _call(cors_port, "OPTIONS", "/health", {"Origin": PAGE})   # no preflight: HTTP's OPTIONS
    assert status == 204 and body == b"" and headers["access-control-allow-origin"] == PAGE
    # untouched by CORS. The timeouts guard against a hang: a loaded machine ran the service's handshake late
    with ws_client.connect(f"ws://127.0.0.1:{cors_port}/strem", open_timeout=60) as ws:
        assert " — " in json.loads(ws.recv(timeout=60))["error"]


def test_without_the_flag_options_lists_the_methods(plain_port):
    # was a 405 "/predict does not take OPTIONS"
    for path, allow in [("/predict", {"POST", "OPTIONS"}), ("/health", {"GET", "HEAD", "OPTIONS"}),
                        ("/models/nope", {"GET", "HEAD", "OPTIONS"})]:
        status, headers, body = _call(plain_port, "OPTIONS", path)
        assert status == 204 and body == b"", (path, status, body)
        assert {m.strip() for m in headers["allow"].split(",")} == allow, (path, headers)
    assert _call(plain_port, "OPTIONS", "/nope")[0] == 404


def test_without_the_flag_a_preflight_is_told_to_start_with_it(plain_port):
    status, headers, out = _preflight(plain_port, "/predict", PAGE)
    assert status == 403 and "access-control-allow-origin" not in headers
    problem, _, fix = out["detail"].partition(" — ")
    assert PAGE in problem and "POST /predict" in problem, out
    assert fix.startswith(f"start the service with --cors-origin {PAGE}"), out
    status, headers, out = _post(plain_port, {"texts": ["a good film"]})
    assert status == 200 and not [h for h in headers if h.startswith("access-control-")], headers


def test_any_origin(text_clf):
    with running_server("--run", str(text_clf.run_dir_), "--engine", "torch", "--cors-origin", "*") as (_, port):
        status, headers, _ = _preflight(port, "/predict", STRANGER)
        assert status == 200 and headers["access-control-allow-origin"] == "*"
        status, headers, _ = _post(port, {"texts": 3}, STRANGER)
        assert status == 422 and headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("given, origins", [
    (None, []),
    ("http://localhost:3000", ["http://localhost:3000"]),
    (["HTTP://LocalHost:3000", "http://localhost:3000"], ["http://localhost:3000"]),   # as a browser writes it
    (["http://example.com:80", "https://example.com:443", "https://example.com:8443"],
     ["http://example.com", "https://example.com", "https://example.com:8443"]),
    (["http://[::1]:3000", " * "], ["http://[::1]:3000", "*"]),
])
def test_origins_are_written_as_a_browser_sends_them(given, origins):
    assert allowed_origins(given) == origins


def test_create_app_checks_the_origins_before_loading_a_run(tmp_path):
    with pytest.raises(LstmkitError, match="has no scheme — pass --cors-origin http://localhost:3000"):
        from lstmkit.deploy import create_app
        create_app(tmp_path / "no_such_run", cors_origins=["localhost:3000"])
