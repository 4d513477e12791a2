"""``lstmkit.serve.Client`` against a real ``lstmkit serve`` on a loopback port."""
import json
import socket

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("websockets.sync.client")

from forecast_data import sine_frame  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from serve_helpers import running_server, tiny_text_classifier  # noqa: E402


@pytest.fixture(scope="module")
def text_clf(tmp_path_factory):
    return tiny_text_classifier(tmp_path_factory.mktemp("client_text"))


@pytest.fixture(scope="module")
def service(abs_forecaster, text_clf):
    from lstmkit.serve import Client
    with running_server("--run", f"sales={abs_forecaster.run_dir_}", "--run", f"reviews={text_clf.run_dir_}",
                        "--engine", "torch", "--max-body", "20000") as (_, port):
        yield Client(f"http://127.0.0.1:{port}")


@pytest.fixture(scope="module")
def single(abs_forecaster):
    from lstmkit.serve import Client
    with running_server("--run", abs_forecaster.run_dir_, "--engine", "torch") as (_, port):
        yield Client(f"http://127.0.0.1:{port}/")


def test_health_and_models(service):
    assert service.health() == {"status": "ok"}
    assert [(m["name"], m["task"]) for m in service.models()] == [("sales", "forecast"), ("reviews", "classify")]
    assert service.model("reviews")["classes"] == ["neg", "pos"]


def test_predict_per_model_equals_the_estimators(service, abs_forecaster, text_clf):
    df = sine_frame(n=30)
    out = service.predict(model="sales", instances=[{"y": df["y"].to_numpy(), "temp": df["temp"].tolist()}])
    want = abs_forecaster.predict(df, engine="torch")["y"]
    assert np.abs(np.asarray(out["predictions"][0]["y"]) - want.to_numpy()).max() < 1e-5
    out = service.predict(model="reviews", texts=["a good film", "hated it"])
    assert [p["label"] for p in out["predictions"]] == list(text_clf.predict(["a good film", "hated it"]))


def test_errors_name_the_url_and_the_field(service, tmp_path):
    with pytest.raises(LstmkitError, match=r"/models/reviews/predict answered 422: texts\.0: the text is empty") as e:
        service.predict(model="reviews", texts=[""])
    assert " — " not in e.value.message and e.value.hint == "send text with at least one word"   # the service's fix
    with pytest.raises(LstmkitError, match="answered 404: unknown model 'nope' — use one") as e:
        service.predict(model="nope", texts=["x"])
    assert e.value.hint == "use one this service serves: sales, reviews (GET /models lists them)"   # the fix
    assert e.value.message.endswith("unknown model 'nope'")
    with pytest.raises(LstmkitError, match="several models") as e:
        service.predict(texts=["x"])
    assert "/models/{name}/predict" in e.value.hint and " — " not in e.value.message
    with pytest.raises(LstmkitError, match="NaN or infinity"):
        service.predict(model="sales", instances=[{"y": [float("nan")]}])
    with pytest.raises(LstmkitError, match="answered 413: request body larger than") as e:
        service.predict(model="reviews", texts=["x" * 30_000])
    assert "larger body limit" in e.value.hint
    with pytest.raises(LstmkitError, match="cannot read"):
        service.upload(tmp_path / "missing.wav", model="reviews")
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF....")
    with pytest.raises(LstmkitError, match="answered 415: Content-Type 'audio/wav' is not a type") as e:
        service.upload(wav, model="reviews")                        # a classifier reads JSON only (was a 422)
    assert e.value.hint.startswith("send the request as JSON with the header Content-Type: application/json")
    # a recording sent to a model that is no speech model: says so, not only to send JSON
    assert e.value.hint.endswith("; a recording is read by a speech model alone (GET /models names each model's task)")


def test_connection_refused_names_the_url():
    from lstmkit.serve import Client
    with socket.socket() as s:                  # a port nobody listens on (bound, so no other program takes it)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        c = Client(f"http://127.0.0.1:{port}", timeout=5)
        with pytest.raises(LstmkitError, match=f"cannot reach http://127.0.0.1:{port}/health") as e:
            c.health()
        assert "lstmkit serve" in e.value.hint
        with pytest.raises(LstmkitError, match=f"cannot open a stream at ws://127.0.0.1:{port}/stream"):
            c.stream()
    with pytest.raises(LstmkitError, match="not a service URL"):
        Client("127.0.0.1:8000")


@pytest.fixture
def other_server():
    """A loopback HTTP server that is no lstmkit service: ``GET /models`` answers a JSON list, ``GET /x/models``
    an object without ``models``, and ``POST`` answers only once the test has ended; yields its URL."""
    import http.server
    import json
    import threading

    ended = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, value):
            body = json.dumps(value).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self._answer([1, 2] if self.path == "/models" else {"status": "ok"})

        def do_POST(self):
            ended.wait(60)                  # late, however long the client waited (a sleep's answer may beat it)
            self._answer({"ok": 1})

        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):      # the client left before the late answer
            pass

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    ended.set()
    server.shutdown()
    server.server_close()


def test_a_server_that_is_no_lstmkit_service_or_answers_late_is_one_error_saying_so(other_server):
    """models() of another server was a TypeError or KeyError, and an answer later than the timeout
    was "cannot reach ... is the service running?" of a service that was reached."""
    from lstmkit.serve import Client
    c = Client(other_server)            # the answers that come at once: a 1 s timeout failed them on a busy machine
    with pytest.raises(LstmkitError, match=r"GET .*/models answered \[1, 2\], not a JSON object") as e:
        c.models()
    assert "is this an lstmkit service?" in e.value.hint
    with pytest.raises(LstmkitError, match=r"/x/models answered \{\"status\": \"ok\"\}, no list of models"):
        Client(other_server + "/x").models()
    with pytest.raises(LstmkitError, match=r"no answer from POST .*/predict within 1 s") as e:
        Client(other_server, timeout=1).predict(texts=["a"])
    assert "timeout=" in e.value.hint


def test_stream_send_returns_the_answer(service, abs_forecaster):
    df = sine_frame(n=6, seed=2)
    obs = [{"y": a, "temp": b} for a, b in df[["y", "temp"]].to_numpy()]
    want = abs_forecaster.stream(engine="torch").run(obs)
    with service.stream(model="sales") as s:
        for k, o in enumerate(obs):
            got = s.send(o)
            assert got["step"] == k + 1 and np.abs(np.asarray(got["forecast"]["y"]) - want[k][:, 0]).max() < 1e-5
        with pytest.raises(LstmkitError, match="'temp'"):          # bad input: named, state kept
            s.send({"y": 1.0})
        state = s.state()
    with service.stream(model="sales") as t:
        assert t.restore(state) == 6
        t.reset()
        assert t.send(obs[0])["step"] == 1
    with service.stream(model="nope") as u:
        with pytest.raises(LstmkitError, match="unknown model 'nope'"):
            u.send(obs[0])
    from lstmkit.serve import Client
    with Client(service.url + "/api").stream(model="sales") as v:   # a path that streams nothing: was "HTTP 403"
        with pytest.raises(LstmkitError, match="no WebSocket stream at /api/models/sales/stream") as e:
            v.send(obs[0])
        assert e.value.hint.endswith("Client.models() lists what is served and what streams")
    with service.stream(model="sales") as w:                           # over --max-body: told, then closed
        with pytest.raises(LstmkitError, match="over this service's limit of 20,000 bytes") as e:
            w.send({**obs[0], "pad": "x" * 30_000})
        assert "; the service closed this stream: open a new one" in e.value.hint   # was 'as it was'
        assert e.value.hint.startswith("send less per message")           # the service's own fix first
        assert " — " not in e.value.message
        with pytest.raises(LstmkitError, match="was closed"):
            w.send(obs[0])


def test_one_model_needs_no_name(single):
    assert single.model()["task"] == "forecast"
    df = sine_frame(n=30)
    assert len(single.predict(instances=[{"y": df["y"].tolist(), "temp": df["temp"].tolist()}])["predictions"]) == 1
    with single.stream() as s:
        assert s.send({"y": 1.0, "temp": 0.5})["step"] == 1


def test_a_stream_dropped_unclosed_is_closed_and_frees_its_place(single):
    """``c.stream().send(x)`` in a loop, never closed: each connection and the thread websockets reads it
    with lived until the program ended, and the service held one of its --max-streams for each (then
    refused every client). Dropped, a stream closes as a dropped file does, with a ResourceWarning."""
    import gc
    import threading
    import time
    import warnings
    threads = threading.active_count()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(5):
            assert single.stream().send({"y": 1.0, "temp": 0.5})["step"] == 1
        gc.collect()
    # a closed connection's keepalive thread ends a moment after close() returns (6 closes in 200 left it running
    # then, on a busy machine): waited for, as the service's places are (the deadline only guards a hang)
    deadline = time.monotonic() + 60
    while (single.model()["open_streams"] or threading.active_count() > threads) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert single.model()["open_streams"] == 0                  # was 5: the service's places, held
    assert threading.active_count() <= threads
    assert [w.category for w in caught] == [ResourceWarning] * 5
    assert "unclosed stream ws://" in str(caught[0].message)


def test_a_program_that_ends_with_a_stream_open_exits(single):
    """A script whose stream is a module global, never closed: at exit the stream's __del__ closed it and
    waited for websockets' reader thread, a daemon that no longer runs then -- the program never ended."""
    import os
    import subprocess
    import sys
    import time
    script = ("from lstmkit.serve import Client\n"
              f"s = Client({single.url!r}).stream()\n"
              "print(s.send({'y': 1.0, 'temp': 0.5})['step'])\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert (done.returncode, done.stdout.strip()) == (0, "1"), done.stderr
    deadline = time.monotonic() + 60                    # a guard: a loaded service closes it late
    while single.model()["open_streams"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert single.model()["open_streams"] == 0          # the process's exit closed the connection

def test_a_stream_over_the_services_limit_says_to_wait_not_to_close_another(abs_forecaster):
    """At --max-streams, a new stream was told "close one, or try again later — the service closed this
    stream: open a new one": a client cannot close another's, and the line held two fixes after two dashes."""
    from lstmkit.serve import Client
    with running_server("--run", abs_forecaster.run_dir_, "--engine", "torch", "--max-streams", "1") as (_, port):
        c = Client(f"http://127.0.0.1:{port}")
        with c.stream() as first:
            assert first.send({"y": 1.0, "temp": 0.5})["step"] == 1
            with c.stream() as second:
                with pytest.raises(LstmkitError, match=r"too many open streams \(limit 1\): every place is taken") as e:
                    second.send({"y": 1.0, "temp": 0.5})
        assert " — " not in e.value.message and "close one" not in str(e.value)
        assert e.value.hint.startswith("try again once a stream has closed, or start the service with a larger "
                                       "stream limit (GET /models shows it: limits.max_streams)")
        with c.stream() as third:                                   # the place is free again
            assert third.send({"y": 1.0, "temp": 0.5})["step"] == 1


def _nested(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("call, needle", [
    (lambda c: c.predict(model="reviews", texts={"a", "b"}), "the request holds a set, which JSON cannot carry"),
    (lambda c: c.predict(model="reviews", texts=[b"raw"]), "the request holds a bytes"),
    (lambda c: c.predict(model={"name": "reviews"}, texts=["x"]), "model must be a served model's name"),
    (lambda c: c.model(["sales"]), "model must be a served model's name"),
    (lambda c: c.upload(None, model="reviews"), "upload\\(\\) takes a file path, got NoneType"),
    (lambda c: c.stream(model="sales", open_timeout="soon"), "`open_timeout` must be a positive number"),
    # were "holds NaN or infinity" and a RecursionError traceback
    (lambda c: c.predict(model="sales", instances=[{"y": [10 ** 5000]}]), "a number of more than 4300 digits"),
    (lambda c: c.predict(model="reviews", texts=_nested(100_000)), "nested too deeply"),
])
def test_arguments_json_cannot_carry_are_refused_before_sending(call, needle):
    from lstmkit.serve import Client
    c = Client("http://127.0.0.1:9", timeout=5)     # nothing listens: a refusal here was never sent
    with pytest.raises(LstmkitError, match=needle) as e:
        call(c)
    assert e.value.hint and "cannot reach" not in str(e.value)


@pytest.mark.parametrize("timeout", ["30", 0, -1, True, float("inf")])
def test_a_timeout_that_is_not_a_positive_number_is_refused(timeout):
    from lstmkit.serve import Client
    with pytest.raises(LstmkitError, match="`timeout` must be a positive number of seconds"):
        Client("http://127.0.0.1:8000", timeout=timeout)


def test_stream_message_json_cannot_carry_leaves_the_stream_usable(service):
    with service.stream(model="sales") as s:
        with pytest.raises(LstmkitError, match="the message holds a set"):
            s.send({"y": {1.0}, "temp": 0.0})
        assert s.send({"y": 0.5, "temp": 0.0})["step"] == 1


@pytest.fixture
def not_found_server():
    """A loopback HTTP server that answers every path 404: an HTML page (nginx), or FastAPI's own JSON."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"          # a WebSocket client reads no HTTP/1.0 answer

        def _not_found(self):
            html = not self.path.startswith("/fastapi")
            body = b"<html><body>404 Not Found</body></html>" if html else b'{"detail": "Not Found"}'
            self.send_response(404)
            self.send_header("Content-Type", "text/html" if html else "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _not_found

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("prefix", ["", "/fastapi"])
def test_a_404_from_what_is_not_the_service_is_not_told_to_check_the_model_name(not_found_server, prefix, service):
    """A 404 from another server (a reverse proxy's URL without its prefix) was "check the model name"; the
    service's own 404 for an unknown model still names it and its fix."""
    from lstmkit.serve import Client
    c = Client(not_found_server + prefix, timeout=5)
    for call in (lambda: c.predict(model="sales", instances=[]), lambda: c.model("sales"), c.models):
        with pytest.raises(LstmkitError, match=r"answered 404 \(Not Found\), not as the lstmkit service answers") as e:
            call()
        assert "model name" not in e.value.hint and "path prefix" in e.value.hint and c.url in e.value.hint
    with pytest.raises(LstmkitError, match=r"answered HTTP 404, which the lstmkit service never does") as e:
        c.stream(model="sales", open_timeout=5)
    assert "path prefix" in e.value.hint
    with pytest.raises(LstmkitError, match="answered 404: unknown model 'nope'") as e:   # the service's own
        service.predict(model="nope", texts=["x"])
    assert e.value.hint.startswith("use one this service serves")


@pytest.fixture
def odd_stream_server():
    """A WebSocket server on a loopback port that answers as no lstmkit service does: its answer to a message
    "slow" comes late (just before its answer to the next message, however long that takes), to "text" not JSON,
    to "list" a JSON list, to "error" a JSON string holding the word; any other message is answered
    {"echo": message} at once."""
    import threading
    from websockets.sync.server import serve

    from websockets.exceptions import ConnectionClosed

    def handler(ws):
        late = []
        try:
            for message in ws:
                said = json.loads(message)
                while late:
                    ws.send(late.pop())
                odd = {"text": "hello", "list": "[1, 2]", "error": '"an error"'}
                answer = odd.get(said, json.dumps({"echo": said}))
                if said == "slow":
                    late.append(answer)
                else:
                    ws.send(answer)
        except ConnectionClosed:                # the client left before the late answer
            pass

    with serve(handler, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{server.socket.getsockname()[1]}"
        server.shutdown()


def test_a_stream_that_timed_out_is_closed_not_answered_with_the_late_answer(odd_stream_server):
    """A message not answered within ``timeout`` left its late answer waiting: the next message was answered
    with it ({"echo": "slow"} for "next"), every later answer one message behind. The stream is closed."""
    from lstmkit.serve import Client
    with Client(odd_stream_server, timeout=30).stream() as s:       # 0.3 s left "first" little room on a busy machine
        assert s.send("first") == {"echo": "first"}
        s.timeout = 1.0                 # "slow" is answered only with the next message: 1 s always runs out
        with pytest.raises(LstmkitError, match=r"no answer from .* within 1.0 s.*closed") as e:
            s.send("slow")
        assert "open a new stream" in e.value.hint
        with pytest.raises(LstmkitError, match="closed") as e:
            s.send("next")                                       # never the late {"echo": "slow"}
        assert "open a new stream" in e.value.hint


def test_a_stream_whose_answer_ctrl_c_cut_is_closed_not_answered_with_that_answer(odd_stream_server):
    """Ctrl-C while a message's answer was awaited left that answer waiting: the next message was answered with
    it ({"echo": "first"} for "next"), every later answer one message behind. The stream is closed, and says why."""
    from lstmkit.serve import Client
    with Client(odd_stream_server, timeout=5).stream() as s:
        wait = s._ws.recv

        def cut(timeout=None):                 # Ctrl-C while the answer is on its way
            raise KeyboardInterrupt
        s._ws.recv = cut
        with pytest.raises(KeyboardInterrupt):
            s.send("first")
        s._ws.recv = wait
        with pytest.raises(LstmkitError, match="closed when a message was interrupted before its answer") as e:
            s.send("next")                                       # never {"echo": "first"}
        assert "open a new stream" in e.value.hint


@pytest.mark.parametrize("message, said", [("text", "not JSON"), ("list", "not a JSON object"),
                                           ("error", "not a JSON object")])
def test_a_stream_answer_no_lstmkit_service_gives_is_one_error(odd_stream_server, message, said):
    """A stream's answer that is not JSON raised json's own JSONDecodeError, and a JSON string holding 'error'
    a TypeError (the answer was indexed as an object)."""
    from lstmkit.serve import Client
    with Client(odd_stream_server).stream() as s:
        with pytest.raises(LstmkitError, match=said) as e:
            s.send(message)
        assert "lstmkit service" in e.value.hint


@pytest.mark.parametrize("kwargs, waits", [({}, 30.0), ({"open_timeout": 4}, 4.0)])
@pytest.mark.parametrize("client_timeout", [None, 90])
def test_a_stream_opens_within_the_clients_timeout_unless_given_its_own(monkeypatch, kwargs, waits, client_timeout):
    """A stream's connection may take the client's ``timeout`` to open, as every request may (it had a fixed 10 s,
    so ``Client(url, timeout=120)`` on a busy service still gave up on a stream after 10 s); an ``open_timeout``
    given is kept."""
    import websockets.sync.client as ws_client

    from lstmkit.serve import Client
    seen = []

    def connect(url, **kw):
        seen.append((url, kw["open_timeout"]))
        raise TimeoutError("timed out during opening handshake")

    monkeypatch.setattr(ws_client, "connect", connect)
    c = Client("http://127.0.0.1:9", **({} if client_timeout is None else {"timeout": client_timeout}))
    with pytest.raises(LstmkitError):
        c.stream(model="sales", **kwargs)
    want = waits if kwargs or client_timeout is None else float(client_timeout)
    assert seen == [("ws://127.0.0.1:9/models/sales/stream", want)]
