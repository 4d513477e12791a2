"""Bad-input catalogue, the WebSocket ``/stream``: each case sends one bad message on a fresh
connection (tests/asgi_client.py) and asserts a strict-JSON error naming the problem (a substring,
case-insensitive), no forecast, and a connection still usable: the next good observation is step 1
(the bad message did not count)."""
import json
import math

import pytest

pytest.importorskip("fastapi")

from asgi_client import Client  # noqa: E402
from catalogue_helpers import assert_problem_and_fix, tiny_forecaster  # noqa: E402

GOOD = json.dumps({"y": 1.0, "temp": 0.5})


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    """``{"state": client, "window": client}``: a state-mode and a window-mode stream."""
    from lstmkit.deploy.server import create_app
    out = {}
    for mode, relative in (("state", False), ("window", True)):
        est = tiny_forecaster(tmp_path_factory.mktemp(f"ws_{mode}"), relative=relative, horizon=2)
        out[mode] = Client(create_app(est.run_dir_, engine="torch", max_body=20_000))
    yield out
    for c in out.values():
        c.close()


def _state_of(ws, n):
    """The ``{"op": "state"}`` answer after ``n`` good steps on ``ws``."""
    for _ in range(n):
        ws.send_text(GOOD)
        ws.receive_json()
    ws.send_text(json.dumps({"op": "state"}))
    return ws.receive_json()["state"]


def _rec(state):
    return state["streams"]["this"]


def _nan_first(state, key):
    _rec(state)[key][0][0][0] = math.nan


def restore(edit, n=3):
    """A message builder: the connection's own state after ``n`` steps, ``edit``-ed, sent back."""
    def build(ws):
        state = _state_of(ws, n)
        edit(state)
        ws.send_text(json.dumps({"op": "restore", "state": state}).replace('"__NaN__"', "NaN"))
        return n
    return build


def send(text):
    def build(ws):
        ws.send_bytes(text) if isinstance(text, bytes) else ws.send_text(text)
        return 0
    return build


def after(n, text):
    """``text`` sent after ``n`` good steps: a refused op leaves those steps (a reset would start at 1)."""
    def build(ws):
        for _ in range(n):
            ws.send_text(GOOD)
            ws.receive_json()
        ws.send_text(text)
        return n
    return build


# (id, mode, message builder, words in the error)
CASES = [
    ("binary-frame", "state", send(b"\x00\x01binary"), "text frames"),
    ("binary-json", "state", send(GOOD.encode()), "text frames"),
    ("not-json", "state", send("not json"), "not valid json"),
    ("empty-text", "state", send(""), "not valid json"),
    ("truncated", "state", send('{"y": 1.0'), "not valid json"),
    ("nan-token", "state", send('{"y": NaN, "temp": 0.5}'), "not valid json"),
    ("infinity-list", "state", send("[Infinity, 0.5]"), "not valid json"),
    ("1e999", "state", send("1e999"), "not a finite number"),
    ("y-1e308", "state", send('{"y": 1e308, "temp": 0.5}'), "float32"),
    ("temp--1e39", "state", send('{"y": 1.0, "temp": -1e39}'), "float32"),
    ("y-true", "state", send('{"y": true, "temp": 0.5}'), "boolean"),
    ("list-false", "state", send("[false, 0.5]"), "boolean"),
    ("y-string", "state", send('{"y": "1.0", "temp": 0.5}'), "y"),
    ("y-null", "state", send('{"y": null, "temp": 0.5}'), "y"),
    ("y-list", "state", send('{"y": [1.0], "temp": 0.5}'), "y"),
    ("missing-temp", "state", send('{"y": 1.0}'), "temp"),
    ("extra-column", "state", send('{"y": 1.0, "temp": 0.5, "tmep": 1}'), "tmep"),
    ("list-too-short", "state", send("[1.0]"), "2"),
    ("list-too-long", "state", send("[1.0, 0.5, 3.0]"), "2"),
    ("bare-number", "state", send("1.0"), "observation"),
    ("bare-string", "state", send('"hello"'), "observation"),
    ("null", "state", send("null"), "observation"),
    ("deeply-nested", "state", send("[" * 9_000 + "]" * 9_000), "nested too deeply"),   # within max_body
    # was "not valid JSON (NaN and Infinity are not JSON)": it is JSON, with more digits than Python reads
    ("y-5000-digits", "state", send('{"y": 1' + "0" * 4999 + ', "temp": 0.5}'), "more than 4300 digits"),
    ("unknown-op", "state", send('{"op": "launch"}'), "unknown op"),
    # a key given twice was read as its last value, without a word
    ("key-twice", "state", send('{"y": 1.0, "temp": 0.5, "y": 2.0}'), "the key 'y' twice"),
    ("op-twice", "state", after(2, '{"op": "state", "op": "reset"}'), "the key 'op' twice"),
    ("op-not-a-string", "state", send('{"op": 5}'), "unknown op"),
    ("op-null", "state", send('{"op": null}'), "unknown op null"),
    # start and end are a speech stream's ops (its audio's rate): a forecaster's stream takes neither
    ("op-start-on-a-forecast-stream", "state", send('{"op": "start", "rate": 8000}'), "send one of: reset, state, restore"),
    # an op's other fields were dropped: {"op": "reset", "y": 3.0} reset and lost the observation
    ("op-reset-with-an-observation", "state", after(2, '{"op": "reset", "y": 3.0}'), "takes no other field, not 'y'"),
    ("op-state-with-a-field", "state", after(2, '{"op": "state", "ids": ["a"]}'), "not 'ids'"),
    ("op-restore-with-a-field", "state", after(2, '{"op": "restore", "state": {}, "steps": 3}'),
     'takes only "state", not \'steps\''),
    ("restore-no-state", "state", send('{"op": "restore"}'), "restore needs"),
    ("restore-state-a-list", "state", send('{"op": "restore", "state": [1]}'), "restore needs"),
    ("restore-two-streams", "state", send('{"op": "restore", "state": {"streams": {"a": {}, "b": {}}}}'),
     "restore needs"),
    ("restore-steps--5", "state", restore(lambda st: _rec(st).update(steps=-5)), "steps"),
    ("restore-steps-text", "state", restore(lambda st: _rec(st).update(steps="5")), "steps"),
    # a state's booleans are the stream's to check (a speech state's own "loud" was refused as "not a number")
    ("restore-steps-bool", "state", restore(lambda st: _rec(st).update(steps=True)), "steps true is not a count"),
    ("restore-mode-null", "state", restore(lambda st: st.update(mode=None)), "mode null"),
    ("restore-not-a-state", "state", send('{"op": "restore", "state": {"streams": {"a": {}}}}'), "not an lstmkit stream state"),
    ("restore-h-nan", "state", restore(lambda st: _nan_first(st, "h")), "not valid json"),
    ("restore-h-string-nan", "state", restore(lambda st: _rec(st)["h"][0][0].__setitem__(0, "nan")), "h"),
    ("restore-c-1e39", "state", restore(lambda st: _rec(st)["c"][0][0].__setitem__(0, 1e39)), "float32"),
    ("restore-c-missing", "state", restore(lambda st: _rec(st).pop("c")), "malformed"),
    # a misspelt field was passed over: "nonzro" restored as a state saved before the flags (every target nonzero)
    ("restore-nonzero-misspelt", "state", restore(lambda st: _rec(st).update(nonzro=[False])),
     "unknown field 'nonzro'"),
    ("restore-window-field-in-state-mode", "state", restore(lambda st: _rec(st).update(window=[[1.0, 0.5]])),
     "unknown field 'window'"),
    ("restore-h-wrong-shape", "state", restore(lambda st: _rec(st).update(h=[[1.0]])), "h"),
    ("restore-other-weights", "state", restore(lambda st: st.update(fingerprint="0" * 64)), "other model weights"),
    ("restore-window-short", "window", restore(lambda st: _rec(st).update(window=_rec(st)["window"][:7]), n=30),
     "rows"),
    ("restore-window-wide", "window",
     restore(lambda st: _rec(st).update(window=[r + [0.0] for r in _rec(st)["window"]]), n=30), "window"),
    ("restore-window-steps-fewer", "window", restore(lambda st: _rec(st).update(steps=3), n=30), "rows"),
]


@pytest.mark.parametrize("mode, build, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_message(clients, mode, build, words):
    ws = clients[mode].websocket()
    try:
        done = build(ws)
        err = ws.receive_json()                           # strict JSON: never a bare NaN
        assert "error" in err and "forecast" not in err, err
        assert words.lower() in err["error"].lower() or words == err.get("field"), err
        assert "()" not in err["error"], err              # a JSON client is told ops and fields, not Python's methods
        assert_problem_and_fix(err["error"])
        ws.send_text(GOOD)
        assert ws.receive_json()["step"] == done + 1      # still usable; the bad message changed nothing
    finally:
        ws.close()


RESTORES = [c for c in CASES if c[0].startswith("restore-") and c[3] != "not valid json"]


@pytest.mark.parametrize("mode, build", [c[1:3] for c in RESTORES], ids=[c[0] for c in RESTORES])
def test_a_bad_restore_names_the_state_not_the_observation(clients, mode, build):
    """A restore the stream refuses said ``"field": "observation"`` (the numeric stream's fallback)."""
    ws = clients[mode].websocket()
    try:
        build(ws)
        assert ws.receive_json()["field"] == "state"
    finally:
        ws.close()


# (id, path, message (None: none sent), words in the error, close code): a stream refused or ended, one error
# message before the close; before, an unknown path was closed unaccepted (the client saw "HTTP 403") and a message
# over max_body bytes was closed with 1009 alone (uvicorn's, without a word)
CLOSES = [
    ("unknown-path", "/strem", None, "no websocket stream at /strem", 1008),
    ("path-of-a-route", "/predict", None, "connect to /stream", 1008),
    ("unknown-model", "/models/nope/stream", None, "unknown model 'nope'", 1008),
    ("over-max-body", "/stream", GOOD + " " * 20_000, "over this service's limit of 20,000 bytes", 1009),
    ("over-max-body-in-utf-8", "/stream", '{"y": 1.0, "temp": 0.5, "note": "' + "é" * 10_000 + '"}',
     "over this service's limit", 1009),                     # 10,000 characters, 20,000 bytes
    ("binary-over-max-body", "/stream", b"\x00" * 20_001, "20,001 bytes", 1009),
]


@pytest.mark.parametrize("path, message, words, code", [c[1:] for c in CLOSES], ids=[c[0] for c in CLOSES])
def test_a_closed_stream_is_told_why(clients, path, message, words, code):
    other = clients["state"].websocket()
    try:
        assert _state_of(other, 2)["streams"]["this"]["steps"] == 2
        ws = clients["state"].websocket(path)
        if message is not None:
            ws.send_bytes(message) if isinstance(message, bytes) else ws.send_text(message)
        err = ws.receive_json()
        assert words.lower() in err["error"].lower(), err
        assert_problem_and_fix(err["error"])
        assert err["closed"] is True                      # an error that ends the stream says so
        closed = ws.receive()
        assert closed["type"] == "websocket.close" and closed["code"] == code, closed
        other.send_text(GOOD)
        assert other.receive_json()["step"] == 3          # the stream beside it: as it was
    finally:
        other.close()


def test_a_message_of_max_body_bytes_is_read(clients):
    """The limit is the service's max_body in bytes: a message of exactly that many is answered."""
    ws = clients["state"].websocket()
    try:
        ws.send_text(GOOD + " " * (20_000 - len(GOOD)))
        assert ws.receive_json()["step"] == 1
    finally:
        ws.close()


def test_too_many_streams_is_a_close_frame(clients):
    from lstmkit.deploy.server import MAX_STREAMS
    open_ = [clients["state"].websocket() for _ in range(MAX_STREAMS)]
    try:
        extra = clients["state"].websocket()
        said = extra.receive_json()["error"]
        assert "too many open streams" in said and "limits.max_streams" in said and "close one" not in said
        assert extra.receive()["type"] == "websocket.close"
    finally:
        for ws in open_:
            ws.close()


# A JSON client's values in JSON's words, and a restore's fix in the ops' words (it was told "steps True is not a
# count", "unknown op None" and "pass what Stream.state_dict() or save() wrote")
WORDED = [
    ("restore-steps-bool", "steps true is not a count", 'with the S that {"op": "state"} returned'),
    ("restore-mode-null", "mode null, this stream 'state'", "same model and mode"),
    ("restore-not-a-state", "not an lstmkit stream state", 'with the S that {"op": "state"} returned'),
    ("restore-c-missing", "stream 'this' in the state is malformed", 'with the S that {"op": "state"} returned'),
    ("op-null", "unknown op null", "send one of: reset, state, restore"),
]


@pytest.mark.parametrize("case, problem, fix", WORDED, ids=[w[0] for w in WORDED])
def test_a_json_client_is_told_json_values_and_ops(clients, case, problem, fix):
    mode, build = next(c[1:3] for c in CASES if c[0] == case)
    ws = clients[mode].websocket()
    try:
        build(ws)
        said = ws.receive_json()["error"]
        assert problem in said and said.endswith(fix), said       # case-sensitive: true, not True
    finally:
        ws.close()


@pytest.mark.parametrize("op, extra", [('"reset"', '"y": 3.0'), ('"state"', '"x": 1'),
                                       ('"restore"', '"state": {}, "audio": [0.1]')])
def test_an_op_with_a_field_it_does_not_take_names_it_and_changes_nothing(clients, op, extra):
    ws = clients["state"].websocket()
    try:
        before = _state_of(ws, 2)
        ws.send_text("{" + f'"op": {op}, {extra}' + "}")
        err = ws.receive_json()
        assert err["field"] == extra.split(", ")[-1].split(":")[0].strip('"') and "error" in err, err
        ws.send_text(json.dumps({"op": "state"}))
        assert ws.receive_json()["state"] == before               # not reset, nothing read
    finally:
        ws.close()


def test_a_client_that_leaves_before_its_answer_is_no_failure(clients, caplog):
    """A client gone before its answer (closed mid-message) was logged as the stream failing, with a traceback,
    and sent "internal error"; it ends the stream quietly, and the count of open streams goes back."""
    import asyncio
    import logging
    c = clients["state"]
    inbox = asyncio.Queue()
    for event in ({"type": "websocket.connect"}, {"type": "websocket.receive", "text": GOOD}):
        inbox.put_nowait(event)
    sent = []

    async def send(message):
        sent.append(message["type"])
        if message["type"] == "websocket.send":
            raise OSError("the client has gone")             # as a server's send to a closed connection fails

    scope = {"type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "path": "/stream", "raw_path": b"/stream",
             "query_string": b"", "root_path": "", "headers": [], "subprotocols": [], "client": ("127.0.0.1", 50002),
             "server": ("127.0.0.1", 80)}
    with caplog.at_level(logging.WARNING, logger="lstmkit"):
        c.run(c.app(scope, inbox.get, send))
    assert sent == ["websocket.accept", "websocket.send"], sent     # no "internal error", no close attempted
    assert not [r for r in caplog.records if "failed" in r.getMessage()], caplog.text
    status, raw = c.request("GET", "/model")
    assert status == 200 and json.loads(raw)["open_streams"] == 0
