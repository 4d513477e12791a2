"""Property-based fuzzing of the WebSocket ``/stream`` of every task that streams (a forecaster, a numeric
series classifier, a language model token by token, a CTC speech model chunk by chunk), in process over the
real app: a drawn sequence of messages, valid steps and ops among refused ones (wrong shapes, NaN and infinity
tokens, binary and empty frames, unknown keys and ops, a key twice, deep nesting, a frame over the body limit,
messages after the service closed the stream).

Each message is sent to the fuzzed stream; each one answered (not refused) is sent to a second stream of the
same app too, which never sees a refused one. The properties: every message gets one JSON answer in time, never
the internal error (1011); a refusal is one ``{"error": "problem — fix", "field": ...}`` and ``"closed": true``
only for a frame over the limit, after which the service closes with 1009 and answers nothing more; a message
known valid is answered, one known invalid refused; every answer equals the second stream's (a refusal changed
nothing, the state and its warnings included); and what was streamed equals the batch model on the same prefix
(the classifier's ``predict_proba``, the language model's line log-probability, the forecaster's forward over
the whole history, the speech model's greedy transcript of the audio heard).

Derandomized, a few examples per task: the same sequences each run, a few seconds per task."""
import json

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import lstmkit  # noqa: E402
from asgi_client import Client, strict_json  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from one_thread import one_thread_per_module  # noqa: E402,F401  (autouse: one torch thread)

MAX_BODY = 30_000                   # bytes per message: a frame over it is cheap to draw
HUGE_FRAME = "[" + ", ".join(["0.25"] * (MAX_BODY // 5)) + "]"
QUICK = dict(hidden_size=4, max_epochs=1, seed=0, progress="off", tensorboard=False, doctor=False)
FUZZ = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


# -- what is sent: (kind, frame) with kind "valid" (answered), "invalid" (refused) or "any" (either) -----------
def text(obj) -> str:
    return obj if isinstance(obj, str) else json.dumps(obj)   # json.dumps writes NaN / Infinity tokens


# refused by every task's stream, whatever it reads
COMMON_INVALID = st.sampled_from([
    "", " ", "nul", "{", "[1,", '"\\ud800', "NaN", "Infinity", "-Infinity", "[NaN]", "{}", "[]", "[[]]",
    '{"op": "nope"}', '{"op": 3}', '{"op": null}', '{"op": "reset", "x": 1}', '{"op": "state", "state": {}}',
    '{"op": "restore"}', '{"op": "restore", "state": 5}', '{"op": "restore", "state": {"streams": {}}}',
    '{"op": "restore", "state": {"streams": {"a": {"steps": 1}, "b": {"steps": 1}}}}',
    '{"op": "reset", "op": "reset"}', "[" * 10_000 + "]" * 10_000, '{"a": ' * 3000 + "1" + "}" * 3000,
]).map(lambda t: ("invalid", t))
BINARY = st.sampled_from([b"", b"\x00\xff", b'{"op": "reset"}', b"[0.5]", b"1.0"]).map(lambda b: ("invalid", b))
OPS = st.sampled_from(['{"op": "reset"}', '{"op": "state"}', "roundtrip"]).map(lambda t: ("any", t))
finite = st.floats(-3.0, 3.0, allow_nan=False, width=32)
nonfinite = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e39", "-1e400", "true", "null", '"1.0"'])


# -- one fuzzed stream beside its shadow ------------------------------------------------------------------------
class Pair:
    """The fuzzed stream and its shadow, a second stream of the same app fed only the answered messages."""

    def __init__(self, client: Client):
        self.fuzzed, self.shadow = client.websocket(), client.websocket()
        self.closed = False

    def _answer(self, ws, frame) -> dict:
        ws.send_bytes(frame) if isinstance(frame, bytes) else ws.send_text(frame)
        event = ws.receive()
        assert event["type"] == "websocket.send", event            # an answer, in time (not a close, no raise)
        answer = strict_json(event["text"])                        # standard JSON: no NaN token
        assert isinstance(answer, dict), answer
        assert answer.get("field") != "server" and "internal error" not in answer.get("error", ""), answer
        return answer

    def send(self, kind: str, frame) -> dict:
        if frame == "roundtrip":                                   # state out, restored on the same stream
            state = self.send("any", '{"op": "state"}')
            if "error" in state:
                return state
            return self.send("any", json.dumps({"op": "restore", **state}))
        answer = self._answer(self.fuzzed, frame)
        if kind == "huge":
            assert answer.get("closed") is True and answer.get("field") == "message", answer
            event = self.fuzzed.receive()
            assert event == {"type": "websocket.close", "code": 1009, "reason": ""}, event
            self.fuzzed.send_text('{"op": "state"}')               # a message after the close: nothing answers
            assert self.fuzzed.receive()["type"] == "app.returned"
            self.closed = True
            return answer
        assert "closed" not in answer, answer
        if "error" in answer:
            assert kind != "valid", (frame, answer)
            error, field = answer["error"], answer["field"]
            assert isinstance(field, str) and field and isinstance(error, str) and " — " in error, answer
            assert "Traceback" not in error and "ws-" not in error, answer    # one line, the stream named 'this'
            return answer
        assert kind != "invalid", (frame, answer)
        assert self._answer(self.shadow, frame) == answer, frame   # a refusal before changed nothing
        return answer

    def close(self) -> None:
        for ws in (self.fuzzed, self.shadow):
            ws.close()
            assert ws.task.done() and ws.task.exception() is None


def fuzz(client: Client, messages) -> list[tuple[str, object, dict]]:
    """Send ``messages`` over a Pair; ``(kind, frame, answer)`` of each, up to the close of a huge frame."""
    pair, out = Pair(client), []
    try:
        for kind, frame in messages:
            out.append((kind, frame, pair.send(kind, frame)))
            if pair.closed:
                break
        if not pair.closed:                                        # the two states agree at the end
            assert pair.send("any", '{"op": "state"}') == pair._answer(pair.shadow, '{"op": "state"}')
    finally:
        pair.close()
    return out


def since_reset(sent):
    """The answered valid steps after the last reset: ``[(frame, answer)]``."""
    kept = []
    for kind, frame, answer in sent:
        if "error" in answer:
            continue
        if "reset" in answer:
            kept = []
        elif kind == "valid":
            kept.append((frame, answer))
    return kept


def with_huge(messages_and_flag):
    messages, huge = messages_and_flag
    return messages + [("huge", HUGE_FRAME)] if huge else messages


def drawn(valid, invalid, extra=st.nothing()):
    """Up to 10 messages: valid steps most often, refused ones, ops, ``extra``; one in six ends with a frame
    over the limit."""
    one = st.one_of(valid, valid, COMMON_INVALID, BINARY, invalid, OPS, extra)
    return st.tuples(st.lists(one, min_size=1, max_size=10), st.integers(0, 5).map(lambda n: n == 0)).map(with_huge)


def app_client(run) -> Client:
    from lstmkit.deploy.server import create_app
    return Client(create_app(run, engine="torch", max_body=MAX_BODY))


# -- the numeric series classifier ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def series_clf(tmp_path_factory):
    rng = np.random.default_rng(0)
    seqs = [(s * np.linspace(0, 1, 10) + 0.1 * rng.standard_normal(10))[:, None] for s in (1, -1) * 10]
    return lstmkit.SequenceClassifier(**QUICK, model="lstm", pooling="last", max_len=12).fit(
        seqs, ["up", "down"] * 10, out=tmp_path_factory.mktemp("series") / "run")


@pytest.fixture(scope="module")
def series_client(series_clf):
    client = app_client(series_clf.run_dir_)
    yield client
    client.close()


SERIES_VALID = st.one_of(finite.map(lambda v: ("valid", text(v))), finite.map(lambda v: ("valid", text([v]))))
SERIES_INVALID = st.one_of(
    nonfinite.map(lambda t: ("invalid", t)), nonfinite.map(lambda t: ("invalid", f"[{t}]")),
    st.lists(finite, min_size=2, max_size=3).map(lambda v: ("invalid", text(v))),
    st.sampled_from(['"0.5"', '{"x": 0.5}', '{"op": "start", "rate": 8000}', '{"op": "end"}', "[[0.5]]",
                     '{"audio": [0.5]}', '"t"']).map(lambda t: ("invalid", t)))


def _series_value(frame: str) -> float:
    v = json.loads(frame)
    return float(v[0] if isinstance(v, list) else v)


@FUZZ
@given(messages=drawn(SERIES_VALID, SERIES_INVALID))
def test_a_series_classifier_stream_refuses_cleanly_and_equals_predict(series_client, series_clf, messages):
    sent = fuzz(series_client, messages)
    steps = since_reset(sent)
    max_len = series_clf.config_.max_len
    for t, (frame, answer) in enumerate(steps[:max_len]):
        prefix = np.asarray([_series_value(f) for f, _ in steps[:t + 1]], np.float32)[:, None]
        want = series_clf.predict_proba([prefix])[0]
        got = [answer["prediction"]["probabilities"][c] for c in series_clf.class_names_]
        np.testing.assert_allclose(got, want, atol=1e-5)
        assert answer["step"] == t + 1


# -- the forecaster (absolute: state mode, each step the network's forward over the whole history) --------------
@pytest.fixture(scope="module")
def forecast_client(abs_forecaster):
    client = app_client(abs_forecaster.run_dir_)
    yield client
    client.close()


FORECAST_VALID = st.tuples(finite, finite).map(lambda v: ("valid", text({"y": v[0], "temp": v[1]})))
FORECAST_INVALID = st.one_of(
    st.tuples(nonfinite, st.sampled_from(["y", "temp"])).map(
        lambda t: ("invalid", '{"y": 1.0, "temp": 0.5}'.replace(f'"{t[1]}": ' + ("1.0" if t[1] == "y" else "0.5"),
                                                                  f'"{t[1]}": {t[0]}'))),
    st.sampled_from(['{"y": 1.0}', '{"temp": 0.5}', '{"y": 1.0, "temp": 0.5, "zzz": 1}', '{"y": [1.0], "temp": 0.5}',
                     '{"y": 1.0, "temp": 0.5, "y": 2.0}', '{"y": {"v": 1}, "temp": 0.5}', '"t"', "[[1.0, 0.5]]",
                     '{"op": "start", "rate": 8000}', '{"op": "end"}', '{"text": "t"}', "[1.0, 0.5, 0.2]"]
                    ).map(lambda t: ("invalid", t)))


@FUZZ
@given(messages=drawn(FORECAST_VALID, FORECAST_INVALID,
                      st.tuples(finite, finite).map(lambda v: ("any", text([v[0], v[1]])))))
def test_a_forecast_stream_refuses_cleanly_and_equals_the_forward_over_its_history(forecast_client, abs_forecaster,
                                                                                  messages):
    import pandas as pd
    import torch
    est = abs_forecaster
    sent = fuzz(forecast_client, messages)
    steps = since_reset(sent)
    if not steps or any(kind == "any" and not frame.startswith("{") and "error" not in answer
                        for kind, frame, answer in sent):
        return                                          # a list step answered: its history is the list's
    df = pd.DataFrame([json.loads(f) for f, _ in steps]).assign(
        time=pd.date_range("2024-01-01", periods=len(steps), freq="h"))
    x = torch.from_numpy(est.model_inputs(df))[None]
    with torch.no_grad():
        want = est.to_original(est.net_(x)[0].numpy())[:, 0]
    if not df["y"].any():                               # a stream of zeros forecasts 0, as predict does (README)
        want = np.zeros_like(want)
    np.testing.assert_allclose(steps[-1][1]["forecast"]["y"], want, atol=1e-5, rtol=1e-5)
    assert steps[-1][1]["step"] == len(steps)


# -- the language model, a text piece a message ----------------------------------------------------------------
@pytest.fixture(scope="module")
def char_lm(tmp_path_factory):
    return lstmkit.LanguageModel(**QUICK, level="char", embed_dim=4).fit(
        ["the cat sat", "the dog ran", "a cat ran"] * 6, out=tmp_path_factory.mktemp("lm") / "run")


@pytest.fixture(scope="module")
def lm_client(char_lm):
    client = app_client(char_lm.run_dir_)
    yield client
    client.close()


piece = st.text(alphabet="the catsdogrn", min_size=1, max_size=4).filter(lambda t: not t.isspace())
LM_VALID = st.one_of(piece.map(lambda t: ("valid", json.dumps(t))), piece.map(lambda t: ("valid", text({"text": t}))),
                     st.just(("valid", '"</s>"')), st.just(("valid", '{"text": "</s>"}')))
LM_INVALID = st.one_of(
    st.sampled_from(["1.5", "true", "null", '["t"]', '{"text": 3}', '{"text": "t", "x": 1}', '{"texts": ["t"]}',
                     '""', '{"text": ""}', '{"op": "start", "rate": 8000}', '{"op": "end"}', '{"y": 1.0}']
                    ).map(lambda t: ("invalid", t)),
    st.just(("invalid", text("a" * 10_001))))
LM_ANY = st.sampled_from(['" "', '"\\ud83d"', '"&am"', '"p;"', '" \\t "', '"THE"', '"\\u00a0"']).map(
    lambda t: ("any", t))


def _lines(sent):
    """The lines a stream ended with "</s>" since its last reset: ``(text, summed logprob)``, those of
    plain pieces only (a space ending a line reads otherwise than ``predict``: the module's docstring)."""
    lines, pieces, total, plain = [], [], 0.0, True
    for kind, frame, answer in sent:
        if "error" in answer:
            continue
        if "reset" in answer:
            pieces, total, plain = [], 0.0, True
            continue
        if "tokens" not in answer:
            continue
        value = json.loads(frame)
        piece_text = value["text"] if isinstance(value, dict) else value
        total += answer["logprob"]
        plain = plain and kind == "valid"
        if piece_text.strip() == "</s>":
            line = "".join(pieces)
            if plain and line and line.strip() == line:
                lines.append((line, total))
            pieces, total, plain = [], 0.0, True
        else:
            pieces.append(piece_text)
    return lines


@FUZZ
@given(messages=drawn(LM_VALID, LM_INVALID, LM_ANY))
def test_a_language_model_stream_refuses_cleanly_and_scores_each_line_as_predict(lm_client, char_lm, messages):
    sent = fuzz(lm_client, messages)
    for line, total in _lines(sent):
        assert total == pytest.approx(char_lm.predict([line])["logprobs"][0], abs=1e-4), line


# -- the CTC speech model, an audio chunk a message ---------------------------------------------------------------
@pytest.fixture(scope="module")
def speech_run(tmp_path_factory):
    from lstmkit.tasks.speech.synthetic import tiny_run
    return tiny_run(tmp_path_factory.mktemp("speech"), n=12, max_epochs=1)


@pytest.fixture(scope="module")
def speech_client(speech_run):
    client = app_client(speech_run)
    yield client
    client.close()


def _chunk(spec):
    n, freq, amp = spec
    return (amp * np.sin(np.arange(n) * freq)).astype(np.float32).round(4).tolist()


chunks = st.tuples(st.integers(1, 1200), st.floats(0.01, 1.0), st.floats(0.0, 0.9)).map(_chunk)
SPEECH_VALID = st.one_of(chunks.map(lambda c: ("valid", text(c))), chunks.map(lambda c: ("valid", text({"audio": c}))))
SPEECH_INVALID = st.one_of(
    st.sampled_from(["[NaN]", "[0.1, Infinity]", "[1e39]", "[true]", '["a"]', "[[0.1]]", "[null]", '"t"', "0.5",
                     '{"audio": [0.1], "x": 1}', '{"audio": []}', '{"op": "start"}', '{"op": "start", "rate": 10}',
                     '{"op": "start", "rate": 8000.5}', '{"op": "start", "rate": true}', '{"op": "end", "x": 1}',
                     '{"op": "start", "rate": 8000, "audio": [0.1]}', '{"text": "t"}']).map(lambda t: ("invalid", t)),
    st.just(("any", "[" + ",".join(["0"] * 12_000) + "]")))
SPEECH_ANY = st.sampled_from(['{"op": "end"}', '{"op": "start", "rate": 8000}', '{"op": "start", "rate": 16000}',
                              '{"op": "start", "rate": 22050.0}', "[2.5, -3.0]"]).map(lambda t: ("any", t))


@FUZZ
@given(messages=drawn(SPEECH_VALID, SPEECH_INVALID, SPEECH_ANY))
def test_a_speech_stream_refuses_cleanly_and_ends_as_transcribe(speech_client, speech_run, messages):
    from lstmkit.tasks.speech.estimator import SpeechRecognizer
    sent = fuzz(speech_client, messages)
    est = SpeechRecognizer.load(speech_run)
    model_rate = json.loads(speech_client.request("GET", "/model")[1])["sample_rate"]
    heard, rate = [], None
    for kind, frame, answer in sent:
        if "error" in answer:
            continue
        if "reset" in answer:
            heard, rate = [], None
        elif "rate" in answer:
            rate = answer["rate"]
        elif "transcript" in answer:
            if heard and rate is None:
                audio = np.concatenate(heard)
                try:
                    want = est.transcribe(audio, beam=1, lm=False, sample_rate=model_rate)
                except LstmkitError:
                    want = None                    # shorter than the model's window: transcribe refuses it
                if want is not None:
                    assert answer["transcript"] == want[0]
            heard = []
        elif "partial" in answer:
            value = json.loads(frame)
            heard.append(np.asarray(value["audio"] if isinstance(value, dict) else value, np.float32))
