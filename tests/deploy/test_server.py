"""The real server in a subprocess on a loopback port; every request loop is bounded."""
import http.client
import json
import math
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
ws_client = pytest.importorskip("websockets.sync.client")

from forecast_data import sine_frame  # noqa: E402
from interrupt_helpers import ctrl_c_reaches_the_child  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402

MAX_BODY, MAX_STREAMS = 20_000, 2
STREAM_IDLE = 3600       # not the default (300): the flag reaches the service, and no stream here is ever evicted
# seconds a stopped service may take to end: a guard against a hang, not a measure (20 s ran out where a loaded
# machine ran the service's shutdown 22 s late)
STOP_GUARD = 120


@pytest.fixture(scope="module")
def server(abs_forecaster):
    proc, port = _serve(abs_forecaster, "--max-body", str(MAX_BODY), "--max-streams", str(MAX_STREAMS),
                        "--stream-idle", str(STREAM_IDLE))
    yield proc, port
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def _serve(forecaster, *flags):
    """``lstmkit serve`` of ``forecaster``'s run with ``flags`` in a subprocess: (process, port)."""
    cmd = [sys.executable, "-m", "lstmkit", "serve", "--run", str(forecaster.run_dir_), "--port", "0",
           "--engine", "torch", *flags]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    line = proc.stdout.readline()           # "serving RUN on http://127.0.0.1:PORT ..."
    if "http://" not in line:
        proc.kill()
        pytest.fail(f"server did not start: {line!r} {proc.stderr.read()[-2000:]}")
    port = int(line.split("http://127.0.0.1:")[1].split()[0])
    return proc, port


def _request(port, method, path, body=None, raw=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    payload = resp.read()
    conn.close()
    return resp.status, json.loads(payload) if payload[:1] in (b"{", b"[") else payload


def _instance(n=30, seed=0):
    df = sine_frame(n=n, seed=seed)
    return {"y": df["y"].tolist(), "temp": df["temp"].tolist()}


def test_health_model_docs(server):
    _, port = server
    assert _request(port, "GET", "/health") == (200, {"status": "ok"})
    status, info = _request(port, "GET", "/model")
    assert status == 200 and info["task"] == "forecast" and info["lookback"] == 24 and info["horizon"] == 3
    assert info["targets"] == ["y"] and info["features"] == ["temp"] and info["stream_mode"] == "state"
    assert info["limits"]["stream_idle_s"] == STREAM_IDLE and info["limits"]["max_streams"] == MAX_STREAMS, info
    status, spec = _request(port, "GET", "/openapi.json")
    assert status == 200 and "/predict" in spec["paths"]
    assert _request(port, "GET", "/docs")[0] == 200


def test_predict_batch_equals_the_estimator(server, abs_forecaster):
    _, port = server
    instances = [_instance(seed=s) for s in range(3)]
    status, out = _request(port, "POST", "/predict", {"instances": instances})
    assert status == 200 and len(out["predictions"]) == 3 and out["horizon"] == 3
    for inst, pred in zip(instances, out["predictions"]):
        want = abs_forecaster.predict(sine_frame(n=30, seed=instances.index(inst)), engine="torch")["y"]
        assert max(abs(a - b) for a, b in zip(pred["y"], want)) < 1e-5


def test_concurrent_requests_are_answered_together_each_its_own(server, abs_forecaster):
    """16 clients at once: the service answers them through its request-batching queue (one network
    call for several requests); each good request gets the estimator's forecast, the bad one its own 422."""
    from concurrent.futures import ThreadPoolExecutor
    _, port = server
    bodies = [{"instances": [_instance(seed=k % 5)]} for k in range(15)]
    bodies.insert(6, {"instances": [_instance(seed=1), {"y": [1.0, 2.0], "temp": [0.0, 0.0]}]})   # too short
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda body: _request(port, "POST", "/predict", body), bodies))
    want = {s: abs_forecaster.predict(sine_frame(n=30, seed=s), engine="torch")["y"] for s in range(5)}
    for k, (status, out) in enumerate(answers):
        if k == 6:
            assert status == 422 and out["detail"][0]["loc"][:3] == ["body", "instances", 1]
        else:
            assert status == 200, out
            got = out["predictions"][0]["y"]
            assert max(abs(a - b) for a, b in zip(got, want[(k if k < 6 else k - 1) % 5])) < 1e-5
    batching = _request(port, "GET", "/model")[1]["batching"]
    assert batching["largest"] > 1 and batching["batches"] < len(bodies)


def test_answer_many_equals_each_request_alone(abs_forecaster):
    from lstmkit.deploy.registry import adapter_for
    adapter = adapter_for(abs_forecaster.run_dir_)
    net = adapter.net
    requests = [{"instances": [_instance(seed=0), _instance(seed=1)]}, {"instances": [{"y": [1.0], "temp": [0.0]}]},
                {"instances": [_instance(seed=2)]}]
    out = adapter.answer_many(net, requests)
    assert isinstance(out[1], LstmkitError) and out[1].loc[:2] == ["instances", 0]
    for k in (0, 2):
        alone = adapter.answer(net, **requests[k])
        assert out[k]["horizon"] == alone["horizon"] == 3
        assert np.allclose([p["y"] for p in out[k]["predictions"]], [p["y"] for p in alone["predictions"]],
                           rtol=1e-5, atol=1e-6)


def test_oversized_body_is_413(server):
    _, port = server
    status, _ = _request(port, "POST", "/predict", raw=b'{"instances": [' + b" " * (MAX_BODY + 10) + b"]}")
    assert status == 413
    assert _request(port, "GET", "/health")[0] == 200


def test_stream_keeps_state_per_connection(server, abs_forecaster):
    _, port = server
    df = sine_frame(n=12, seed=2)
    obs = [{"y": a, "temp": b} for a, b in df[["y", "temp"]].to_numpy()]
    want = abs_forecaster.stream().run(obs)
    url = f"ws://127.0.0.1:{port}/stream"
    with ws_client.connect(url, open_timeout=60) as a, ws_client.connect(url, open_timeout=60) as b:
        for k, o in enumerate(obs):
            a.send(json.dumps(o))
            got = json.loads(a.recv(timeout=60))
            assert got["step"] == k + 1
            assert max(abs(x - y) for x, y in zip(got["forecast"]["y"], want[k][:, 0])) < 1e-5
        b.send(json.dumps(obs[0]))                          # a fresh connection starts from zero
        assert json.loads(b.recv(timeout=60))["step"] == 1
        a.send(json.dumps({"op": "state"}))
        state = json.loads(a.recv(timeout=60))["state"]
        b.send(json.dumps({"op": "restore", "state": state}))
        assert json.loads(b.recv(timeout=60)) == {"restored": True, "step": 12}
        b.send(json.dumps({"y": 1.0}))
        err = json.loads(b.recv(timeout=60))
        assert err["field"] == "temp"
        b.send("not json")
        assert "error" in json.loads(b.recv(timeout=60))
        with ws_client.connect(url, open_timeout=60) as c:   # over the bound of 2 open streams
            assert "too many open streams" in json.loads(c.recv(timeout=60))["error"]


def test_the_real_server_says_why_it_refuses(server):
    """What uvicorn itself answered without a word: a WebSocket to a path that streams nothing ("HTTP 403"),
    a message over --max-body (close 1009 alone), HEAD (405), and a body without a Content-Type."""
    from websockets.exceptions import ConnectionClosed
    _, port = server
    base = f"ws://127.0.0.1:{port}"
    for path, message, code in [("/strem", None, 1008), ("/stream", " " * (MAX_BODY + 1), 1009)]:
        with ws_client.connect(base + path, open_timeout=60) as ws:
            if message is not None:
                ws.send(message)
            err = json.loads(ws.recv(timeout=60))
            assert " — " in err["error"], err
            with pytest.raises(ConnectionClosed):
                ws.recv(timeout=60)
            assert ws.close_code == code, (path, ws.close_code)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("HEAD", "/health")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read() == b"" and int(resp.getheader("content-length")) == 15
    conn.request("POST", "/predict", body=json.dumps({"instances": [_instance()]}).encode())   # no Content-Type
    resp = conn.getresponse()
    assert resp.status == 415 and "Content-Type: application/json" in json.loads(resp.read())["detail"]
    conn.close()


def test_an_idle_stream_gives_its_place_to_a_new_one(abs_forecaster, monkeypatch):
    """A client that leaves without closing (or never sends) held its place for ever: with every place
    taken, each new stream was refused until the service restarted. One idle for --stream-idle seconds
    now gives its place, and is told why; a stream with a recent message keeps its own.

    The service's clock is the test's (served in this process, ``time.monotonic`` of the server module
    patched): with a real one, 'a had a message just now' held only while b connected within 2 s of a's
    answer, which a loaded machine could miss (b was then given a's place, not refused)."""
    from types import SimpleNamespace

    from websockets.exceptions import ConnectionClosed

    from lstmkit.deploy import server as server_module
    from serve_helpers import uvicorn_here
    now = [1000.0]
    monkeypatch.setattr(server_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    obs = {"y": 0.5, "temp": 0.1}
    app = server_module.create_app(str(abs_forecaster.run_dir_), engine="torch", max_streams=1, stream_idle=2)
    with uvicorn_here(app) as port:
        url = f"ws://127.0.0.1:{port}/stream"
        with ws_client.connect(url, open_timeout=30) as a:
            a.send(json.dumps(obs))
            assert json.loads(a.recv(timeout=30))["step"] == 1
            now[0] += 1.9                                               # under 2 s since a's message
            with ws_client.connect(url, open_timeout=30) as b:          # a had a message just now: b is refused
                refused = json.loads(b.recv(timeout=30))
                assert refused["closed"] and "every place is taken by a stream that had a message in the last 2 s" \
                    in refused["error"], refused
            now[0] += 0.6                                               # 2.5 s since a's message
            with ws_client.connect(url, open_timeout=30) as c:          # a is idle now: c takes its place
                told = json.loads(a.recv(timeout=30))
                assert told["closed"] and re.match(r"this stream had no message for 2 s \(the service's limit "
                                                   r"is 2 s\)", told["error"]), told
                with pytest.raises(ConnectionClosed):
                    a.recv(timeout=30)
                assert a.close_code == 1001
                c.send(json.dumps(obs))
                assert json.loads(c.recv(timeout=30))["step"] == 1          # a stream of its own, from nothing
                status, info = _request(port, "GET", "/model")
                assert info["open_streams"] == 1 and info["limits"]["stream_idle_s"] == 2, info


def test_sigterm_stops_cleanly(server):
    proc, port = server
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=STOP_GUARD) == 0
    assert "Traceback" not in proc.stderr.read()



def test_ctrl_break_stops_the_service_as_sigterm_does(abs_forecaster):
    """Windows' SIGBREAK (a supervisor's CTRL_BREAK_EVENT; SIGUSR2 standing in, ``signal.SIGBREAK`` set to it in
    the program) ended the service at once, requests in flight cut (exit -12 here): it shuts down as on SIGTERM,
    exit 0, and the handler the program had is back afterwards."""
    program = ("import signal, sys\nsignal.SIGBREAK = signal.SIGUSR2\nfrom lstmkit.deploy import serve\n"
               "serve(sys.argv[1], port=0, engine='torch')\n"
               "print('default' if signal.getsignal(signal.SIGUSR2) is signal.SIG_DFL else 'kept', flush=True)\n")
    assert _serve_in_a_program_then(program, abs_forecaster.run_dir_, signal.SIGUSR2) == "stopped\ndefault\n"

def _serve_in_a_program_then(program: str, run, stop) -> str:
    """Run ``program`` (``sys.argv[1]``: ``run``), which serves; once it answers /health, send it ``stop``.
    It must end with 0, no traceback; returns what it wrote after the 'serving' line."""
    proc = subprocess.Popen([sys.executable, "-c", program, str(run)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
                            preexec_fn=ctrl_c_reaches_the_child)
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, proc.stderr.read()[-2000:] if proc.poll() is not None else line
        port = int(line.split("http://127.0.0.1:")[1].split()[0])
        assert _request(port, "GET", "/health") == (200, {"status": "ok"})
        proc.send_signal(stop)
        assert proc.wait(timeout=STOP_GUARD) == 0
        assert "Traceback" not in proc.stderr.read()
        return proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_called_where_an_event_loop_runs_serves_and_stops(abs_forecaster, stop):
    """A notebook cell runs inside ipykernel's event loop: ``serve(run)`` printed 'serving … on …',
    then failed ('cannot be called from a running event loop': uvicorn starts its own with asyncio.run).
    The cell here is a coroutine run as ipykernel runs one (no asyncio.run: its Ctrl-C handler is not
    the kernel's); the kernel's interrupt is SIGINT."""
    cell = ("import asyncio, sys\nfrom lstmkit.deploy import serve\n"
            "async def cell():\n    serve(sys.argv[1], port=0, engine='torch')\n"
            "try:\n    asyncio.new_event_loop().run_until_complete(cell())\n"
            "except KeyboardInterrupt:\n    print('interrupted', flush=True)\n")
    said = _serve_in_a_program_then(cell, abs_forecaster.run_dir_, stop)
    assert said == ("interrupted\n" if stop == signal.SIGINT else "stopped\n")


@pytest.mark.parametrize("loop", ["asyncio.run", "add_signal_handler"])
def test_one_ctrl_c_stops_serve_called_from_asyncio_run(abs_forecaster, loop):
    """A program's ``asyncio.run(main())`` whose main() calls serve(): asyncio.run answers Ctrl-C by asking
    its loop to cancel the task, and the loop waited on the service, which went on until a second
    Ctrl-C (with loop.add_signal_handler(SIGINT, ...) too). One stops it now: the service shuts down,
    KeyboardInterrupt reaches the program, and asyncio's handler is back."""
    program = ("import asyncio, signal, sys\nfrom lstmkit.deploy import serve\n"
               "async def main():\n"
               + ("    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, lambda: print('loop', flush=True))\n"
                  if loop == "add_signal_handler" else "") +
               "    before = signal.getsignal(signal.SIGINT)\n"
               "    try:\n        serve(sys.argv[1], port=0, engine='torch')\n"
               "    finally:\n        print('restored' if signal.getsignal(signal.SIGINT) is before else 'changed', flush=True)\n"
               "try:\n    asyncio.run(main())\n"
               "except KeyboardInterrupt:\n    print('interrupted', flush=True)\n")
    said = _serve_in_a_program_then(program, abs_forecaster.run_dir_, signal.SIGINT)
    # a handler set with add_signal_handler hears of the Ctrl-C once, when the loop runs again
    assert said.split() == ["restored", *(["loop"] if loop == "add_signal_handler" else []), "interrupted"]


# -- in process (tests/asgi_client.py); the bad-input cases are tests/catalogue/test_http.py, test_websocket.py
@pytest.fixture(scope="module")
def client(abs_forecaster):
    from asgi_client import Client
    from lstmkit.deploy.server import create_app
    c = Client(create_app(abs_forecaster.run_dir_, engine="torch", max_body=MAX_BODY, max_streams=MAX_STREAMS))
    yield c
    c.close()


def _raw_instance(y_last: str, temp_last: str = "0.5") -> str:
    """A /predict body as JSON text whose last y and temp values are written verbatim."""
    inst = _instance()
    ys = ", ".join(map(repr, inst["y"][:-1])) + ", " + y_last
    temps = ", ".join(map(repr, inst["temp"][:-1])) + ", " + temp_last
    return '{"instances": [{"y": [%s], "temp": [%s]}]}' % (ys, temps)


def test_predict_non_finite_output_is_an_error_not_a_500(client, abs_forecaster, monkeypatch):
    from asgi_client import Client, strict_json
    status, body = client.request("POST", "/predict", _raw_instance("3.4e38", "-3.4e38"))
    out = strict_json(body)                      # the float32 extremes: finite in, maybe inf out
    assert status in (200, 422), (status, out)
    assert status == 422 or all(math.isfinite(v) for v in out["predictions"][0]["y"])

    import lstmkit.deploy.onnx_engine as onnx_mod        # a model whose answer overflows
    from lstmkit.deploy.server import create_app
    real = onnx_mod.engine_net
    monkeypatch.setattr(onnx_mod, "engine_net", lambda *a: (lambda x: real(*a)(x) * float("inf")))
    c = Client(create_app(abs_forecaster.run_dir_, engine="torch"))
    try:
        status, body = c.request("POST", "/predict", json.dumps({"instances": [_instance(), _instance(seed=1)]}))
    finally:
        c.close()
    detail = strict_json(body)["detail"]
    assert status == 422 and detail[0]["loc"] == ["body", "instances", 0] and "not finite" in detail[0]["msg"]


def test_predict_runs_off_the_event_loop(abs_forecaster, monkeypatch):
    """While one /predict is inside the model, the loop still answers /health."""
    import asyncio
    import threading

    from asgi_client import Client
    import lstmkit.deploy.onnx_engine as onnx_mod
    from lstmkit.deploy.server import create_app
    real = onnx_mod.engine_net
    inside, release, waited = threading.Event(), threading.Event(), []

    def slow_engine_net(*args):
        net = real(*args)

        def blocking(x):
            inside.set()
            waited.append(release.wait(60))         # False: nobody released it (the loop was blocked)
            return net(x)
        return blocking

    monkeypatch.setattr(onnx_mod, "engine_net", slow_engine_net)
    c = Client(create_app(abs_forecaster.run_dir_, engine="torch"))

    async def both():
        predict = asyncio.ensure_future(c.arequest("POST", "/predict", json.dumps({"instances": [_instance()]}).encode()))
        while not inside.is_set():
            await asyncio.sleep(0.01)
        health = await asyncio.wait_for(c.arequest("GET", "/health"), 60)
        release.set()
        return health, await predict

    try:
        health, (status, _) = c.run(both(), 120)
    finally:
        release.set()
        c.close()
    assert health[0] == 200 and status == 200 and waited == [True]


def test_stream_never_sends_a_non_finite_forecast(client, monkeypatch):
    from lstmkit.tasks.forecast.stream_step import TorchLstmStep      # the server's state-mode step
    real = TorchLstmStep.step
    ws = client.websocket()
    try:
        ws.send_text(json.dumps({"y": 1.0, "temp": 0.5}))
        assert ws.receive_json()["step"] == 1
        monkeypatch.setattr(TorchLstmStep, "step", lambda self, x, live: (real(self, x, live)[0] * np.nan, live))
        ws.send_text(json.dumps({"y": 1.0, "temp": 0.5}))
        err = ws.receive_json()                               # strict JSON
        assert "not finite" in err["error"] and err["field"] == "observation"
        monkeypatch.setattr(TorchLstmStep, "step", real)
        ws.send_text(json.dumps({"y": 1.0, "temp": 0.5}))
        assert ws.receive_json()["step"] == 2                 # the refused step left the stream as it was
    finally:
        ws.close()


def test_requests_answered_side_by_side_leave_the_services_warning_filters(abs_forecaster, monkeypatch):
    """The service answers requests in threads, outside the estimators' public calls: two requests'
    ``warnings.catch_warnings`` blocks overlapping (a forecast's time stamps are read in one) undid each
    other, and the first one's ``ignore`` stayed: every later warning of the service went unseen."""
    import threading
    import warnings
    from lstmkit.deploy.served import ServedModel
    m = ServedModel("sales", abs_forecaster.run_dir_, "torch", {})
    monkeypatch.setattr(m, "batcher", None)
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def answer(net, first):
        if first:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                first_in.set()
                second_in.wait()
            first_out.set()
        else:
            first_in.wait()
            with warnings.catch_warnings():
                second_in.set()
                first_out.wait()
        return {}

    monkeypatch.setattr(m.adapter, "answer", answer)
    filters = list(warnings.filters)
    threads = [threading.Thread(target=m.answer, args=({"first": first},)) for first in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert warnings.filters == filters


def test_a_stream_step_beside_a_request_leaves_the_services_warning_filters(abs_forecaster, monkeypatch):
    """A ``/stream`` message's step hushes notes too (scikit-learn's ``check_array`` opens a
    ``warnings.catch_warnings`` in a window stream's scaling) but ran outside the caller-warnings count
    that requests run in: a request's hushing block that it overlapped stayed in force once the step left,
    and every later warning of the service went unseen."""
    import threading
    import warnings
    from lstmkit.deploy.served import ServedModel
    m = ServedModel("sales", abs_forecaster.run_dir_, "torch", {})
    monkeypatch.setattr(m, "batcher", None)
    request_in, step_in, request_out = threading.Event(), threading.Event(), threading.Event()

    def answer(net, **request):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            request_in.set()
            step_in.wait()
        return {}

    def step_noted(x_t, id="default"):
        request_in.wait()
        with warnings.catch_warnings():
            step_in.set()
            request_out.wait()
        return np.zeros(3, np.float32), []

    monkeypatch.setattr(m.adapter, "answer", answer)
    monkeypatch.setattr(m.stream, "step_noted", step_noted)
    monkeypatch.setattr(m.adapter, "stream_json", lambda y: {}, raising=False)
    filters = list(warnings.filters)

    def request():
        m.answer({})
        request_out.set()

    threads = [threading.Thread(target=request),
               threading.Thread(target=m.stream_message, args=(json.dumps({"y": 1.0, "temp": 0.5}), "s"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert warnings.filters == filters
