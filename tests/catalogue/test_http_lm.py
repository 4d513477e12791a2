"""Bad-input catalogue, the HTTP service of a language model: ``POST /predict`` scores
``{"texts": [...]}`` or samples after ``{"prefix": ...}``; every bad request is a 422 whose
``detail[].loc`` names the field, with a strict-JSON body."""
import json

import pytest

pytest.importorskip("fastapi")

from asgi_client import Client, strict_json  # noqa: E402
from catalogue_helpers import assert_problem_and_fix  # noqa: E402


@pytest.fixture(scope="module")
def lm_client(tmp_path_factory):
    from lstmkit import LanguageModel
    from lstmkit.deploy.server import create_app
    lines = ["the cat runs", "the dog sits", "a bird sleeps", "the fish swims"] * 5
    lm = LanguageModel(level="char", embed_dim=4, hidden_size=4, num_layers=1, max_epochs=1, progress="off",
                       tensorboard=False, doctor=False, seed=0).fit(lines, out=tmp_path_factory.mktemp("http_lm"))
    c = Client(create_app(lm.run_dir_, engine="torch"))
    yield c
    c.close()


CASES = [
    ("nothing", "{}", ("body", "texts")),
    ("both-shapes", '{"texts": ["a"], "prefix": "a"}', ("body", "prefix")),
    ("sampling-field-with-texts", '{"texts": ["a"], "temperature": 2.0}', ("body", "temperature")),
    ("no-texts", '{"texts": []}', ("body", "texts")),
    ("empty-text", '{"texts": [""]}', ("body", "texts", 0)),
    ("blank-text", '{"texts": ["ok", "  "]}', ("body", "texts", 1)),
    ("text-a-number", '{"texts": [3]}', ("body", "texts", 0)),
    ("text-null", '{"texts": [null]}', ("body", "texts", 0)),
    ("texts-a-string", '{"texts": "the cat"}', ("body", "texts")),
    ("prefix-a-number", '{"prefix": 7}', ("body", "prefix")),
    ("prefix-a-list", '{"prefix": ["a"]}', ("body", "prefix")),
    ("max-tokens-zero", '{"prefix": "a", "max_tokens": 0}', ("body", "max_tokens")),
    ("max-tokens-too-many", '{"prefix": "a", "max_tokens": 5000}', ("body", "max_tokens")),
    ("max-tokens-a-string", '{"prefix": "a", "max_tokens": "5"}', ("body", "max_tokens")),
    ("max-tokens-a-float", '{"prefix": "a", "max_tokens": 2.5}', ("body", "max_tokens")),
    ("max-tokens-a-bool", '{"prefix": "a", "max_tokens": true}', ("body", "max_tokens")),
    ("temperature-negative", '{"prefix": "a", "temperature": -0.5}', ("body", "temperature")),
    ("temperature-nan", '{"prefix": "a", "temperature": NaN}', ("body",)),
    ("temperature-infinity", '{"prefix": "a", "temperature": Infinity}', ("body",)),
    ("temperature-a-bool", '{"prefix": "a", "temperature": true}', ("body", "temperature")),
    ("temperature-a-string", '{"prefix": "a", "temperature": "1"}', ("body", "temperature")),
    ("top-k-zero", '{"prefix": "a", "top_k": 0}', ("body", "top_k")),
    ("top-p-zero", '{"prefix": "a", "top_p": 0}', ("body", "top_p")),
    ("top-p-above-one", '{"prefix": "a", "top_p": 1.5}', ("body", "top_p")),
    ("top-p-a-string", '{"prefix": "a", "top_p": "0.9"}', ("body", "top_p")),
    # read one step at a time, each state keeping its prefix: 99,000 characters held the service for
    # minutes and tens of GB, so a prefix is bounded as a scored text is
    ("prefix-too-many-tokens", json.dumps({"prefix": "a" * 4097}), ("body", "prefix")),
    ("seed-negative", '{"prefix": "a", "seed": -3}', ("body", "seed")),
    ("seed-too-big", '{"prefix": "a", "seed": 99999999999999999999}', ("body", "seed")),
    ("extra-field", '{"prefix": "a", "extra": 1}', ("body", "extra")),
    ("not-json", "prefix=a", ("body",)),
]


@pytest.mark.parametrize("data, where", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_lm_request(lm_client, data, where):
    got, answer = lm_client.request("POST", "/predict", data)
    assert got == 422, (got, answer[:300])
    detail = strict_json(answer)["detail"]
    assert any(tuple(d["loc"][:len(where)]) == where for d in detail), detail
    for d in detail:
        assert_problem_and_fix(d["msg"])


def test_good_lm_requests_still_answer(lm_client):
    got, answer = lm_client.request("POST", "/predict", '{"texts": ["the cat", "zzz"]}')
    out = strict_json(answer)
    assert got == 200 and out["tokens"] == [8, 4] and len(out["perplexity"]) == 2
    got, answer = lm_client.request("POST", "/predict", '{"prefix": "", "max_tokens": 3, "seed": 0}')
    assert got == 200 and strict_json(answer)["drawn"] <= 3
    greedy = [lm_client.request("POST", "/predict", '{"prefix": "the", "max_tokens": 5, "temperature": 0, "seed": %d}'
                                % s) for s in (0, 1)]       # 0: the likeliest token each step (was a 422)
    assert [g[0] for g in greedy] == [200, 200] and strict_json(greedy[0][1]) == strict_json(greedy[1][1])


@pytest.mark.parametrize("pending, words", [
    (7, "pending 7 is not text"), ("&" * 300, "at most 256 characters"),
    # text no message leaves held was read as the next message's first tokens: 'hello' + 'p;' gave 7 tokens
    ("hello", "pending 'hello' is not the start of a character reference"),
    ("&" + "a" * 60, "is not the start of a character reference"),           # no entity name is that long
    ("&amp; ", "is not the start of a character reference"),                 # a whole reference and a space
])
def test_a_restored_stream_holding_bad_pending_text_is_refused_and_changes_nothing(lm_client, pending, words):
    """The text a stream holds for its next message (the start of a character reference split across
    messages) travels in its state: a restore holding other than text of at most 256 characters is
    refused naming it, and the stream goes on holding what it held."""
    ws = lm_client.websocket("/stream")
    try:
        ws.send_text(json.dumps("the &am"))
        assert ws.receive_json()["pending"] == "&am"
        ws.send_text(json.dumps({"op": "state"}))
        state = ws.receive_json()["state"]
        next(iter(state["streams"].values()))["pending"] = pending
        ws.send_text(json.dumps({"op": "restore", "state": state}))
        said = ws.receive_json()                             # strict JSON
        assert words in said["error"] and "malformed" in said["error"]
        assert_problem_and_fix(said["error"])
        ws.send_text(json.dumps("p;"))
        answer = ws.receive_json()
        assert answer["step"] == 5 and "pending" not in answer
    finally:
        ws.close()
