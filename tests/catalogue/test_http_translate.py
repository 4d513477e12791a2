"""Bad-input catalogue, the HTTP service of a translator: ``POST /predict`` reads
``{"sentences": [...], "beam": N}``; each case is a 422 whose ``detail[].loc`` names the field,
in strict JSON (tests/asgi_client.py, in-process)."""
import json

import pytest

pytest.importorskip("fastapi")

from asgi_client import Client, strict_json  # noqa: E402
from catalogue_helpers import assert_problem_and_fix  # noqa: E402
from translate_data import TINY, make_pairs  # noqa: E402

MAX_INSTANCES, MAX_LEN = 5, 6


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from lstmkit.deploy.server import create_app
    from lstmkit.tasks.translate import Translator
    tr = Translator(**{**TINY, "max_epochs": 1, "max_len": MAX_LEN}).fit(make_pairs(40, max_len=MAX_LEN - 1),
                                                                         out=tmp_path_factory.mktemp("http_tr"))
    c = Client(create_app(tr.run_dir_, engine="torch", max_instances=MAX_INSTANCES))
    yield c
    c.close()


def body(**fields) -> str:
    return json.dumps({"sentences": ["a dog runs ."], **fields})


CASES = [
    ("no-sentences", '{"sentences": []}', ("body", "sentences")),
    ("sentences-missing", "{}", ("body", "sentences")),
    ("sentences-null", '{"sentences": null}', ("body", "sentences")),
    ("sentences-a-string", '{"sentences": "a dog"}', ("body", "sentences")),
    ("sentences-an-object", '{"sentences": {"0": "a dog"}}', ("body", "sentences")),
    ("sentence-a-number", '{"sentences": ["a dog", 3]}', ("body", "sentences", 1)),
    ("sentence-null", '{"sentences": [null]}', ("body", "sentences", 0)),
    ("sentence-a-bool", '{"sentences": [true]}', ("body", "sentences", 0)),
    ("sentence-a-list", '{"sentences": [["a", "dog"]]}', ("body", "sentences", 0)),
    ("sentence-too-many-tokens", json.dumps({"sentences": ["ok", "dog " * (MAX_LEN + 1)]}), ("body", "sentences", 1)),
    ("sentence-over-100000-chars", json.dumps({"sentences": ["a" * 100_001]}), ("body", "sentences", 0)),
    ("too-many-sentences", json.dumps({"sentences": ["a dog"] * (MAX_INSTANCES + 1)}), ("body", "sentences")),
    ("beam-0", body(beam=0), ("body", "beam")),
    ("beam-negative", body(beam=-3), ("body", "beam")),
    ("beam-51", body(beam=51), ("body", "beam")),
    ("beam-huge", body(beam=10 ** 30), ("body", "beam")),
    ("beam-a-float", body(beam=2.5), ("body", "beam")),
    ("beam-a-string", body(beam="5"), ("body", "beam")),
    ("beam-a-bool", body(beam=True), ("body", "beam")),
    ("beam-null", body(beam=None), ("body", "beam")),
    ("beam-nan-token", '{"sentences": ["a dog"], "beam": NaN}', ("body",)),
    ("extra-field", body(alpha=0.5), ("body", "alpha")),
    ("texts-to-a-translator", '{"texts": ["a dog"]}', ("body", "sentences")),
    ("not-json", "sentences=a dog", ("body",)),
    ("body-a-list", '["a dog"]', ("body",)),
]


@pytest.mark.parametrize("data, where", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_translate_request(client, data, where):
    got, answer = client.request("POST", "/predict", data)
    assert got == 422, (got, answer[:300])
    detail = strict_json(answer)["detail"]
    assert any(tuple(d["loc"][:len(where)]) == where for d in detail), detail
    for d in detail:
        assert_problem_and_fix(d["msg"])


def test_a_good_request_still_answers(client):
    got, answer = client.post_json({"sentences": ["a dog runs .", ""], "beam": 3})
    assert got == 200 and len(answer["translations"]) == 2 and answer["translations"][1] == ""


@pytest.mark.parametrize("beam, needle", [(51, "less than or equal to 50"), (0, "greater than or equal to 1")])
def test_a_bound_is_named_as_it_is(client, beam, needle):
    """Every ``le`` / ``ge`` error read "must be within the float32 range (|x| <= 3.4e38)", beam 51 too."""
    got, answer = client.request("POST", "/predict", body(beam=beam))
    (detail,) = strict_json(answer)["detail"]
    assert got == 422 and needle in detail["msg"] and "float32" not in detail["msg"], detail
