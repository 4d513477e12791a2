"""The request schemas a service publishes in ``/openapi.json``, piece by piece and without a trained run: a body
the schema allows is one the task's checks take, and one they refuse the schema forbids too (fuzz55 found the
schemas promising more). tests/deploy/test_schemathesis.py fuzzes whole services against them; these pin each
rule in milliseconds (mutants of whole_int, one_of, NOT_BLANK, the series and lm rules and the declared
refusals survived every test but those minutes-long fuzzing runs)."""
from types import SimpleNamespace
from typing import Annotated

import jsonschema_rs
import pytest
from pydantic import Field, TypeAdapter, ValidationError

from lstmkit.deploy.adapter import EXACT, NOT_BLANK, exact_bounds, one_of, text_field, whole_int
from lstmkit.deploy.server import _refusals
from lstmkit.tasks.classify.deploy import ClassifyAdapter
from lstmkit.tasks.lm.deploy import LMAdapter

Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]


def _allows(model, body) -> bool:
    """Whether ``model``'s published JSON Schema allows ``body``; one it allows, pydantic reads too."""
    allowed = jsonschema_rs.validator_for(model.model_json_schema()).is_valid(body)
    if allowed:
        model.model_validate(body)
    return allowed


@pytest.mark.parametrize("sent, read", [(9, 9), (9.0, 9), (1.0, 1), (64.0, 64)])
def test_an_integer_field_takes_a_whole_number_written_either_way(sent, read):
    value = TypeAdapter(whole_int(ge=1, le=64)).validate_python(sent)
    assert value == read and type(value) is int


@pytest.mark.parametrize("sent", [2.5, "9", True, 0, 65, 0.0, 65.0, None])
def test_an_integer_field_refuses_a_fraction_text_a_boolean_and_a_number_out_of_bounds(sent):
    with pytest.raises(ValidationError):
        TypeAdapter(whole_int(ge=1, le=64)).validate_python(sent)


def test_an_integer_field_is_published_as_a_json_schema_integer_with_its_bounds():
    assert TypeAdapter(whole_int(ge=1, le=64)).json_schema() == {"type": "integer", "minimum": 1, "maximum": 64}
    assert TypeAdapter(whole_int(ge=1, le=64)).validate_json(b"9.0") == 9


def test_exact_bounds_writes_an_integer_fields_bounds_as_the_integers_the_service_checks():
    field = TypeAdapter(whole_int(ge=0, le=2**63 - 1)).json_schema()     # a seed's: its exact bound kept in it
    assert field[EXACT] == {"maximum": 2**63 - 1}
    seed = {**field, "minimum": 0.0, "maximum": float(2**63 - 1)}    # what FastAPI's OpenAPI model wrote of it
    spec = {"paths": {"/predict": [{"schema": {"properties": {"seed": seed, "top_p": {
        "type": "number", "minimum": 0.0, "maximum": 1.0}, "odd": {"type": "integer", "maximum": 2.5}}}}]}}
    exact_bounds(spec)
    props = spec["paths"]["/predict"][0]["schema"]["properties"]
    assert props["seed"] == {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}       # not 2**63
    assert type(props["seed"]["minimum"]) is int and type(props["seed"]["maximum"]) is int
    assert type(props["top_p"]["maximum"]) is float and props["odd"]["maximum"] == 2.5    # left as they are


def test_exclusive_integer_bounds_a_float_does_not_hold_are_published_exact():
    """``gt`` and ``lt`` are JSON Schema's exclusiveMinimum and exclusiveMaximum: each kept exact under its own
    name, and written back in place of the float FastAPI's model made of it (``ge=1`` is a float's: not kept)."""
    top, bottom = 2**63 - 1, -(2**63 - 1)
    field = TypeAdapter(whole_int(gt=bottom, lt=top, ge=1)).json_schema()
    assert field[EXACT] == {"exclusiveMinimum": bottom, "exclusiveMaximum": top}
    spec = {"n": {**field, "exclusiveMinimum": float(bottom), "exclusiveMaximum": float(top), "minimum": 1.0}}
    exact_bounds(spec)
    assert spec == {"n": {"type": "integer", "exclusiveMinimum": bottom, "exclusiveMaximum": top, "minimum": 1}}
    assert all(type(v) is int for key, v in spec["n"].items() if key != "type")


def test_a_text_field_refuses_a_blank_text_unless_blank_and_a_text_over_its_length():
    assert TypeAdapter(text_field(max_length=5)).json_schema() == {"type": "string", "maxLength": 5, **NOT_BLANK}
    assert TypeAdapter(text_field(blank=True)).json_schema() == {"type": "string", "maxLength": 100_000}
    with pytest.raises(ValidationError):
        TypeAdapter(text_field(max_length=5)).validate_python("a long text")


def test_one_of_says_the_field_sent_is_not_null_and_the_ones_it_excludes_are():
    schema = {"type": "object"}
    one_of({"texts": ["prefix", "seed"], "prefix": ["texts"]})(schema)
    assert schema["oneOf"] == [
        {"required": ["texts"], "properties": {"texts": {"not": {"type": "null"}}, "prefix": {"type": "null"},
                                               "seed": {"type": "null"}}},
        {"required": ["prefix"], "properties": {"prefix": {"not": {"type": "null"}}, "texts": {"type": "null"}}}]


def test_not_blank_refuses_a_text_of_white_space_alone():
    check = jsonschema_rs.validator_for({"type": "string", **NOT_BLANK})
    assert check.is_valid("a") and check.is_valid(" a ") and check.is_valid("\t.\n")
    assert not check.is_valid("") and not check.is_valid(" \t\n")


def _classify(kind: str, input_size: int = 1):
    me = SimpleNamespace(kind=kind, input_size=input_size, columns=[f"c{j}" for j in range(input_size)])
    return ClassifyAdapter.request_models(me, Finite, 10)[0]


@pytest.mark.parametrize("body, allowed", [
    ({"texts": ["a good film"]}, True),
    ({"texts": ["a good film"], "series": None}, True),
    ({}, False),                                             # neither: the service refused it
    ({"texts": None}, False),
    ({"texts": ["fine", " \t"]}, False),                     # a blank text: 'the text is empty (no tokens)'
    ({"texts": []}, False),
    ({"series": [[1.0, 2.0]]}, False),                       # the one this model does not read
    ({"texts": ["a"], "series": [[1.0]]}, False),
])
def test_a_text_classifiers_request_schema_allows_what_it_reads(body, allowed):
    assert _allows(_classify("text"), body) is allowed


@pytest.mark.parametrize("body, allowed", [
    ({"series": [[[1.0, 2.0], [3.0, 4.0]]]}, True),
    ({"series": [[[1.0, 2.0]], [[3.0, 4.0], [5.0, 6.0]]]}, True),
    ({"series": [[]]}, False),                               # a series of no steps
    ({"series": [[1.0, 2.0]]}, False),                       # numbers alone: a series of two columns has rows
    ({"series": [[[1.0, 2.0], [3.0]]]}, False),              # a row of one value, not two
    ({"series": [[[1.0, 2.0], [3.0, 4.0, 5.0]]]}, False),    # a row of three
    ({"series": [[[1.0, 2.0], 3.0]]}, False),                # rows and numbers mixed
    ({"texts": ["a"]}, False),
    ({}, False),
])
def test_a_two_column_series_classifiers_request_schema_allows_rows_of_two(body, allowed):
    assert _allows(_classify("series", 2), body) is allowed


@pytest.mark.parametrize("body, allowed", [
    ({"series": [[1.0, 2.0, 3.0]]}, True),                   # one column: numbers ...
    ({"series": [[[1.0], [2.0]]]}, True),                    # ... or rows of one
    ({"series": [[1.0, [2.0]]]}, False),                     # not both in one series
    ({"series": [[]]}, False),
    ({"series": [[[1.0, 2.0]]]}, False),
])
def test_a_one_column_series_classifiers_request_schema_allows_numbers_or_rows_of_one(body, allowed):
    assert _allows(_classify("series", 1), body) is allowed


@pytest.mark.parametrize("body, allowed", [
    ({"texts": ["the cat sat"]}, True),
    ({"prefix": ""}, True),                                  # a new line
    ({"prefix": "the", "max_tokens": 5.0, "top_k": 3, "seed": 0, "temperature": 0.5, "top_p": 1.0}, True),
    ({}, False),
    ({"texts": ["the cat", "  "]}, False),                   # a blank line scores nothing
    ({"texts": ["the"], "prefix": "a"}, False),
    ({"texts": ["the"], "seed": 1}, False),                  # sampling fields go with a prefix only
    ({"texts": ["the"], "max_tokens": 5}, False),
    ({"texts": ["the"], "top_p": 0.5}, False),
    ({"prefix": "the", "max_tokens": 0}, False),
    ({"prefix": "the", "max_tokens": 2.5}, False),
    ({"prefix": "the", "seed": -1}, False),
])
def test_a_language_models_request_schema_allows_lines_to_score_or_a_prefix_to_continue(body, allowed):
    assert _allows(LMAdapter.request_models(SimpleNamespace(), Finite, 10)[0], body) is allowed


def test_every_predict_route_declares_400_413_and_415_and_an_upload_route_422_and_501_too():
    plain, upload = _refusals(()), _refusals(("audio/wav",))
    assert set(plain) == {400, 413, 415} and set(upload) == {400, 413, 415, 422, 501}
    for status, said in upload.items():
        assert said["description"], status
        body = {"detail": [{"loc": ["body"], "msg": "m", "type": "t"}]} if status == 422 else {"detail": "why — fix"}
        assert _allows(said["model"], body), status
        assert not _allows(said["model"], {"detail": "why — fix"} if status == 422 else {"detail": []}), status


def _service_of(top: int):
    """A FastAPI app with one route whose body's ``n`` is a :func:`whole_int` of at most ``top``, its
    ``/openapi.json`` built as the service's is (``server._exact_integer_bounds``)."""
    from fastapi import FastAPI
    from pydantic import BaseModel
    from lstmkit.deploy.server import _exact_integer_bounds

    class Body(BaseModel):
        n: whole_int(ge=1, le=top)
        k: whole_int(ge=1, le=64) = 3

    app = FastAPI()

    @app.post("/n")
    def take(body: Body) -> int:
        return body.n
    _exact_integer_bounds(app)
    return app


def test_two_services_built_in_one_process_each_publish_their_own_exact_bounds():
    """Both tops are the float 2**63: each service publishes its own, whichever was built last (the bounds
    were kept in one registry for the whole process, the last one built won), with no helper key left over."""
    first, second = _service_of(2**63 - 1), _service_of(2**63 - 2)
    for app, top in ((first, 2**63 - 1), (second, 2**63 - 2), (first, 2**63 - 1)):
        app.openapi_schema = None
        fields = app.openapi()["components"]["schemas"]["Body"]["properties"]
        assert fields["n"] == {"type": "integer", "minimum": 1, "maximum": top, "title": "N"}
        assert fields["k"] == {"type": "integer", "minimum": 1, "maximum": 64, "default": 3, "title": "K"}
        assert type(fields["n"]["maximum"]) is int and type(fields["k"]["maximum"]) is int
