"""schemathesis against the service's own ``/openapi.json``, in process (ASGI), for each task's app and for one
app serving them all: whatever requests the published schema allows (and, negated, those it forbids), the answer
is never a 5xx, its status is one the schema declares, its body and headers match the schema declared for that
status, a request the schema allows is answered (2xx), and one it forbids is refused (4xx).

A small fixed budget of examples per operation, derandomized (no example database): the same requests each run,
a few seconds per task. The schema is the contract: each check that failed was fixed in the service, or in the
schema it publishes (docs/architecture.md, "The service's published schema")."""
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.config import ChecksConfig, SchemathesisConfig  # noqa: E402
from schemathesis.specs.openapi.checks import (content_type_conformance, missing_required_header,  # noqa: E402
                                               negative_data_rejection, positive_data_acceptance,
                                               response_headers_conformance, response_schema_conformance,
                                               status_code_conformance)

import lstmkit  # noqa: E402
from one_thread import one_thread_per_module  # noqa: E402,F401  (autouse: one torch thread)
from serve_helpers import tiny_text_classifier  # noqa: E402
from translate_data import TINY, make_pairs  # noqa: E402

EXAMPLES = 8                    # per operation and generation mode
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection, positive_data_acceptance, missing_required_header]
QUICK = dict(hidden_size=4, max_epochs=1, seed=0, progress="off", tensorboard=False, doctor=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, abs_forecaster):
    """One small finished run per task: {name: run folder}."""
    from lstmkit.tasks.speech.synthetic import tiny_run
    d = tmp_path_factory.mktemp("schemathesis")
    rng = np.random.default_rng(0)
    seqs = [(s * np.linspace(0, 1, 10) + 0.1 * rng.standard_normal(10))[:, None] for s in (1, -1) * 10]
    series = lstmkit.SequenceClassifier(**QUICK, model="lstm", pooling="last").fit(seqs, ["up", "down"] * 10,
                                                                                  out=d / "series")
    pd.DataFrame(make_pairs(60, seed=1), columns=["src", "tgt"]).to_csv(d / "pairs.csv", index=False)
    tr = lstmkit.Translator(**{**TINY, "max_epochs": 1, "max_len": 10}).fit(str(d / "pairs.csv"), out=d / "tr")
    lm = lstmkit.LanguageModel(**QUICK, level="char", embed_dim=4).fit(["the cat sat", "the dog ran"] * 10,
                                                                        out=d / "lm")
    return {"forecast": abs_forecaster.run_dir_, "text": tiny_text_classifier(d / "text").run_dir_,
            "series": series.run_dir_, "translate": tr.run_dir_, "lm": lm.run_dir_,
            "speech": tiny_run(d / "speech", n=12, max_epochs=1)}


# What a JSON Schema cannot say of a request, refused with a 422 the schema declares: so these routes are not held
# to "every schema-valid request is answered". forecast: time stamps that increase, in the training data's unit,
# and a history whose forecast is finite in float32 (3e38 everywhere is schema-valid); translate: a sentence of
# more tokens than the model reads; speech: a recording shorter than the model's window (at the rate it was sent);
# series: values so far from the training data's that scaled they overflow float32
NOT_EVERY_VALID = {"forecast", "translate", "speech", "series"}


# A request larger than the service's body limit is refused before it is read: 413, a refusal the schema declares,
# which schemathesis's negative-data check does not count among its rejections by default (its default list, read
# from the library's public ChecksConfig so that a change there carries over, with 413 added). A negative example
# can be that large: long sentences of characters sent as 6-byte escapes (CI drew one, a schema-violating beam
# beside them, answered 413 and reported as accepted).
REFUSED = [*ChecksConfig().negative_data_rejection.expected_statuses, "413"]
REJECTIONS = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": REFUSED}}})


def _fuzz(app, names) -> int:
    """Run every check over every operation of ``app``'s schema (serving ``names``), schema-valid requests and
    schema-invalid ones; the number of operations fuzzed (a failure raises, with the request to reproduce it)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=REJECTIONS)
    operations = [result.ok() for result in schema.get_all_operations()]
    for op in operations:
        takes = op.definition.raw.get("requestBody") or op.definition.raw.get("parameters")
        for mode in (GenerationMode.POSITIVE, *([GenerationMode.NEGATIVE] if takes else [])):
            @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                             HealthCheck.filter_too_much])
            @given(case=op.as_strategy(generation_mode=mode))
            def check(case):
                # an upload's bytes are schema-valid whatever they hold ("format: binary"): the schema cannot
                # say "a recording", so bytes that are none are refused (a 422 it declares), not accepted
                upload = case.media_type is not None and not case.media_type.endswith("json")
                lenient = upload or any(case.operation.path.startswith(f"/models/{name}/") or len(names) == 1
                                        for name in set(names) & NOT_EVERY_VALID)
                case.call_and_validate(checks=[c for c in CHECKS if not (lenient and c is positive_data_acceptance)])
            check()
    return len(operations)


@pytest.mark.parametrize("task", ["forecast", "text", "series", "translate", "lm", "speech"])
def test_each_task_keeps_the_schema_it_publishes(runs, task):
    from lstmkit.deploy.server import create_app
    # one run: its routes under /models/NAME and the plain ones (/predict, /model), /health, /models
    assert _fuzz(create_app({task: runs[task]}, engine="torch"), [task]) == 6


def test_a_service_of_every_task_keeps_the_schema_it_publishes(runs):
    from lstmkit.deploy.server import create_app
    # several runs: each one's routes under /models/NAME, its schemas named apart, /health, /models
    assert _fuzz(create_app(runs, engine="torch"), list(runs)) == 2 * len(runs) + 2


def test_the_published_schema_says_what_a_forecast_request_needs_and_each_refusal(runs, abs_forecaster):
    """What the fuzzing found missing, pinned: a forecast instance's columns (each required, with at least the
    lookback's values, no other key) and the refusals a ``POST .../predict`` answers besides 200 and 422."""
    from lstmkit.deploy.server import create_app
    from asgi_client import Client, strict_json
    client = Client(create_app({"forecast": runs["forecast"]}, engine="torch"))
    try:
        spec = strict_json(client.request("GET", "/openapi.json")[1])
    finally:
        client.close()
    instance = spec["components"]["schemas"]["ForecastInstance"]
    assert instance["required"] == ["y", "temp"] and instance["additionalProperties"] is False
    assert instance["properties"]["temp"]["minItems"] == abs_forecaster.config_.lookback == 24
    # the optional time stamps, when sent, at least as many (schemathesis's coverage phase: "time": [] was
    # schema-valid, answered a 422 "need at least 24 time stamps")
    assert instance["properties"]["time"]["anyOf"] == [
        {"items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}, "type": "array", "minItems": 24},
        {"type": "null"}]
    responses = spec["paths"]["/models/forecast/predict"]["post"]["responses"]
    assert set(responses) == {"200", "400", "413", "415", "422"}
    assert responses["413"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


@pytest.mark.parametrize("task, body, field", [("translate", {"sentences": ["the cat runs."]}, "beam"),
                                               ("lm", {"prefix": "the", "seed": 3, "temperature": 0}, "max_tokens")])
def test_an_integer_field_takes_a_whole_number_written_with_a_point(runs, task, body, field):
    """JSON Schema's integer is a value: ``4.0`` is the integer 4, answered as ``4`` is (it was a 422); ``4.5``,
    ``"4"`` and ``true`` are still refused, naming the field."""
    from lstmkit.deploy.server import create_app
    from asgi_client import Client
    client = Client(create_app({task: runs[task]}, engine="torch"))
    try:
        status, whole = client.post_json({**body, field: 4})
        assert status == 200, whole
        assert client.post_json({**body, field: 4.0}) == (200, whole)
        for bad in (4.5, "4", True):
            status, out = client.post_json({**body, field: bad})
            assert status == 422 and out["detail"][0]["loc"] == ["body", field], (bad, out)
    finally:
        client.close()



def test_an_integer_bound_is_published_as_the_integer_the_service_checks(runs):
    """FastAPI's OpenAPI model reads every bound as a float: a seed's maximum, 2**63 - 1, was published as
    9.223372036854776e+18, which is 2**63, a seed the service refuses (schemathesis's coverage phase drew it);
    each integer's bounds are now written as the integers they are, and the one past the maximum is refused."""
    from lstmkit.deploy.server import create_app
    from asgi_client import Client, strict_json
    client = Client(create_app({"lm": runs["lm"]}, engine="torch"))
    try:
        spec = strict_json(client.request("GET", "/openapi.json")[1])
        fields = spec["components"]["schemas"]["LMRequest"]["properties"]
        top = 2**63 - 1
        assert fields["seed"]["anyOf"][0] == {"type": "integer", "maximum": top, "minimum": 0}
        assert fields["max_tokens"]["anyOf"][0] == {"type": "integer", "maximum": 1000, "minimum": 1}
        body = {"prefix": "the", "max_tokens": 2}
        assert client.post_json({**body, "seed": top})[0] == 200
        status, out = client.post_json({**body, "seed": top + 1})
        assert status == 422 and out["detail"][0]["loc"] == ["body", "seed"], out
    finally:
        client.close()
