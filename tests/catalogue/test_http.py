"""Bad-input catalogue, the HTTP service: each case sends one request to the in-process app
(tests/asgi_client.py) and asserts the status (a 4xx, never a 5xx), a body that parses as strict
JSON (no NaN / Infinity tokens) and a message naming the field or the problem (a substring of the
answer, compared case-insensitively)."""
import json

import pytest

pytest.importorskip("fastapi")

from asgi_client import DEEP, Client, strict_json  # noqa: E402
from catalogue_helpers import assert_problem_and_fix, tiny_forecaster  # noqa: E402
from forecast_data import sine_frame  # noqa: E402

MAX_BODY, LOOKBACK = 250_000, 24     # the body limit lets DEEP's 200 kB through


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from lstmkit.deploy.server import create_app
    est = tiny_forecaster(tmp_path_factory.mktemp("http"), relative=False, horizon=3)
    c = Client(create_app(est.run_dir_, engine="torch", max_body=MAX_BODY))
    yield c
    c.close()


def _instance(n=30):
    df = sine_frame(n=n)
    return {"y": df["y"].tolist(), "temp": df["temp"].tolist()}


def body(**inst):
    """A /predict body: one good instance with ``inst``'s columns replaced (None: removed)."""
    good = {**_instance(), **inst}
    return json.dumps({"instances": [{k: v for k, v in good.items() if v is not None}]})


def raw(y_last: str, temp_last: str = "0.5") -> str:
    """A /predict body as JSON text whose last y and temp values are written verbatim."""
    inst = _instance()
    ys = ", ".join(map(repr, inst["y"][:-1])) + ", " + y_last
    temps = ", ".join(map(repr, inst["temp"][:-1])) + ", " + temp_last
    return '{"instances": [{"y": [%s], "temp": [%s]}]}' % (ys, temps)


# a value written verbatim as the last y: every one is a 422 naming instances/0/y
BAD_VALUES = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e308", "-1e308", "3.5e38", "-3.5e38",
              "true", "false", "null", '"1.0"', '"abc"', '""', "[1.0]", "[]", "{}", '{"v": 1}', str(10 ** 400),
              "-" + str(10 ** 400)]
VALUE_CASES = [(f"y-last={v}", "POST", "/predict", raw(v), 422, ("body", "instances", 0, "y")) for v in BAD_VALUES]
VALUE_CASES += [("temp-last=NaN", "POST", "/predict", raw("0.5", "NaN"), 422, ("body", "instances", 0, "temp")),
                ("temp-last=-1e39", "POST", "/predict", raw("0.5", "-1e39"), 422, ("body", "instances", 0, "temp")),
                ("temp-last=true", "POST", "/predict", raw("0.5", "true"), 422, ("body", "instances", 0, "temp"))]

CASES = VALUE_CASES + [
    # tokens that are not even Python's JSON
    ("y-last=-NaN", "POST", "/predict", raw("-NaN"), 422, "json"),
    ("y-last=nan-lowercase", "POST", "/predict", raw("nan"), 422, "json"),
    ("y-last=inf-lowercase", "POST", "/predict", raw("inf"), 422, "json"),
    ("y-last=0x10", "POST", "/predict", raw("0x10"), 422, "json"),
    # the shape of the body
    ("missing-column", "POST", "/predict", body(temp=None), 422, ("body", "instances", 0, "temp")),
    ("extra-column", "POST", "/predict", body(tmep=[0.0] * 30), 422, ("body", "instances", 0, "tmep")),
    ("too-few-rows", "POST", "/predict", body(y=[1.0] * 5), 422, ("body", "instances", 0, "y")),
    ("one-row-short", "POST", "/predict", body(y=[1.0] * (LOOKBACK - 1)), 422, "lookback"),
    ("empty-column", "POST", "/predict", body(y=[]), 422, "lookback"),
    ("text-in-column", "POST", "/predict", body(y=[1.0] * 29 + ["x"]), 422, ("body", "instances", 0, "y")),
    ("nested-lists", "POST", "/predict", body(y=[[1.0]] * 30), 422, ("body", "instances", 0, "y")),
    ("column-a-number", "POST", "/predict", body(y=1.0), 422, ("body", "instances", 0, "y")),
    ("column-a-string", "POST", "/predict", body(y="1,2,3"), 422, ("body", "instances", 0, "y")),
    ("column-an-object", "POST", "/predict", body(y={"0": 1.0}), 422, ("body", "instances", 0, "y")),
    ("column-null", "POST", "/predict", json.dumps({"instances": [{**_instance(), "y": None}]}), 422,
     ("body", "instances", 0, "y")),
    ("no-instances", "POST", "/predict", '{"instances": []}', 422, ("body", "instances")),
    ("instances-missing", "POST", "/predict", '{"rows": []}', 422, ("body", "instances")),
    ("instances-an-object", "POST", "/predict", '{"instances": {"y": [1.0]}}', 422, "instances"),
    ("instances-a-string", "POST", "/predict", '{"instances": "all"}', 422, "instances"),
    ("instances-null", "POST", "/predict", '{"instances": null}', 422, "instances"),
    ("instance-a-list", "POST", "/predict", '{"instances": [[1.0, 2.0]]}', 422, "instances"),
    ("instance-a-number", "POST", "/predict", '{"instances": [1]}', 422, "instances"),
    ("body-a-list", "POST", "/predict", "[1, 2, 3]", 422, "body"),
    ("body-a-number", "POST", "/predict", "42", 422, "body"),
    ("body-a-string", "POST", "/predict", '"instances"', 422, "body"),
    ("body-null", "POST", "/predict", "null", 422, "body"),
    ("not-json", "POST", "/predict", "instances=1", 422, "json"),
    ("truncated-json", "POST", "/predict", '{"instances": [', 422, "json"),
    ("empty-body", "POST", "/predict", "", 422, "body"),
    ("binary-body", "POST", "/predict", b"\xff\xfe\x00\x01", 422, "json"),
    # latin-1 text: FastAPI's 400 said only "There was an error parsing the body"
    ("latin-1-body", "POST", "/predict", b'{"instances": [{"y": [1.0], "caf\xe9": [1.0]}]}', 400, "not utf-8 text"),
    ("deeply-nested", "POST", "/predict", '{"instances": ' + "[" * DEEP + "]" * DEEP + "}", 400, "parsing the body"),
    # a JSON integer too large for a float was "must be a number (not a string, boolean or null)"
    ("y-last=10**400-named-as-too-large", "POST", "/predict", raw(str(10 ** 400)), 422, "float32 range"),
    # more digits than Python reads was "not UTF-8 text, or nested too deeply"
    ("y-last=5000-digits", "POST", "/predict", raw("1" + "0" * 4999), 400, "more than 4300 digits"),
    ("huge-body", "POST", "/predict", b'{"instances": [' + b" " * (MAX_BODY + 10) + b"]}", 413,
     f"larger than {MAX_BODY} bytes"),
    # routes and methods
    ("unknown-route", "POST", "/predikt", body(), 404, "no route"),
    ("unknown-get-route", "GET", "/admin", None, 404, "no route"),
    ("get-predict", "GET", "/predict", None, 405, "does not take"),
    ("put-predict", "PUT", "/predict", body(), 405, "does not take"),
    ("delete-predict", "DELETE", "/predict", None, 405, "does not take"),
    ("post-health", "POST", "/health", "{}", 405, "does not take"),
    ("post-model", "POST", "/model", "{}", 405, "does not take"),
]


@pytest.mark.parametrize("method, path, data, status, needle", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_request(client, method, path, data, status, needle):
    got, answer = client.request(method, path, data)
    assert got == status, (got, answer[:300])
    parsed = strict_json(answer)                     # never a NaN / Infinity token, never a traceback
    text = json.dumps(parsed).lower()
    if isinstance(needle, tuple):                    # the field, as FastAPI's detail[].loc names it
        detail = parsed["detail"]
        assert any(tuple(d["loc"][:len(needle)]) == needle for d in detail), detail
    else:
        assert needle.lower() in text, text[:500]
    if status == 422:                                # each refusal: the problem, then the fix
        for d in parsed["detail"]:
            assert_problem_and_fix(d["msg"])
    else:                                            # a 400, 404, 405, 413: one text, the same form
        assert_problem_and_fix(parsed["detail"])
    assert "traceback" not in text


# (content type of a good JSON body (None: no header), status): a type that is not JSON was a 422 "Input should be
# a valid dictionary — send the value as a JSON object" for a body that was one; now a 415 naming the header
CONTENT_TYPES = [("text/plain", 415), (None, 415), ("application/x-www-form-urlencoded", 415),
                 ("application/octet-stream", 415), ("application/json; charset=utf-8", 200),
                 ("application/vnd.api+json", 200)]


@pytest.mark.parametrize("content_type, status", CONTENT_TYPES, ids=[str(c[0]) for c in CONTENT_TYPES])
def test_content_type_is_not_json(client, content_type, status):
    got, answer = client.request("POST", "/predict", body(), content_type=content_type)
    assert got == status, (got, answer[:300])
    if status == 415:
        detail = strict_json(answer)["detail"]
        assert_problem_and_fix(detail)
        assert "send the request as JSON with the header Content-Type: application/json" in detail, detail


def test_a_good_request_still_answers(client):
    got, answer = client.request("POST", "/predict", body())
    assert got == 200 and len(strict_json(answer)["predictions"][0]["y"]) == 3


# -- a classify run: POST /predict reads {"texts": [...]} ---------------------------------------
@pytest.fixture(scope="module")
def text_client(tmp_path_factory):
    from lstmkit.deploy.server import create_app
    from lstmkit.tasks.classify.estimator import TextClassifier
    texts = ["a good film", "great acting", "loved it", "the plot was bad", "awful and boring", "hated it"] * 4
    labels = ["pos", "pos", "pos", "neg", "neg", "neg"] * 4
    clf = TextClassifier(embed_dim=4, hidden_size=4, max_epochs=1, progress="off", tensorboard=False, min_freq=1,
                         seed=0).fit(texts, labels, out=tmp_path_factory.mktemp("http_text"))
    c = Client(create_app(clf.run_dir_, engine="torch"))
    yield c
    c.close()


TEXT_CASES = [
    ("empty-text", '{"texts": [""]}', ("body", "texts", 0)),
    ("blank-text", '{"texts": ["   "]}', ("body", "texts", 0)),
    ("no-texts", '{"texts": []}', ("body", "texts")),
    ("texts-missing", "{}", ("body", "texts")),
    ("text-a-number", '{"texts": [3]}', ("body", "texts", 0)),
    ("text-null", '{"texts": [null]}', ("body", "texts", 0)),
    ("text-a-bool", '{"texts": [true]}', ("body", "texts", 0)),
    ("texts-a-string", '{"texts": "a good film"}', ("body", "texts")),
    ("extra-field", '{"texts": ["ok"], "extra": 1}', ("body", "extra")),
    ("series-to-a-text-model", '{"series": [[1.0, 2.0]]}', ("body", "series")),
    ("nan-token", '{"texts": ["ok"], "series": [[NaN]]}', ("body",)),
    ("not-json", "texts=ok", ("body",)),
]


@pytest.mark.parametrize("data, where", [c[1:] for c in TEXT_CASES], ids=[c[0] for c in TEXT_CASES])
def test_bad_classify_request(text_client, data, where):
    got, answer = text_client.request("POST", "/predict", data)
    assert got == 422, (got, answer[:300])
    detail = strict_json(answer)["detail"]
    assert any(tuple(d["loc"][:len(where)]) == where for d in detail), detail
    for d in detail:
        assert_problem_and_fix(d["msg"])


# -- a run trained with a two-column time (--time Date,Time): the columns sent by name -----------
@pytest.fixture(scope="module")
def logger_client(tmp_path_factory):
    """Each case was "must be a number — send Date as JSON numbers" (the columns taken for values)."""
    import pandas as pd
    stamps = pd.date_range("2024-03-01", periods=60, freq="h")
    frame = pd.DataFrame({"Date": stamps.strftime("%d/%m/%Y"), "Time": stamps.strftime("%H:%M"),
                          "Value": sine_frame(n=60)["y"]})
    yield from _two_column_time_client(frame, ["Date", "Time"], tmp_path_factory.mktemp("logger"))


def _two_column_time_client(frame, time, out):
    """A client of a tiny run trained on ``frame`` with the two-column ``time``, and the history to send."""
    from lstmkit import Forecaster
    from lstmkit.deploy.server import create_app
    est = Forecaster(lookback=6, horizon=2, hidden_size=4, num_layers=1, max_epochs=1, ensemble=1, combine="none",
                     progress="off", tensorboard=False).fit(frame, time=time, target=frame.columns[-1], out=out)
    c = Client(create_app(est.run_dir_, engine="torch"))
    yield c, frame.tail(6)
    c.close()


LOGGER_CASES = [
    ("date-without-time", lambda h: {"Date": h["Date"].tolist()}, "'date' was sent without 'time'"),
    ("time-without-date", lambda h: {"Time": h["Time"].tolist()}, "'time' was sent without 'date'"),
    ("lengths-differ", lambda h: {"Date": h["Date"].tolist(), "Time": h["Time"].tolist()[1:]},
     "must be two lists of the same length"),
    ("end-of-day", lambda h: {"Date": h["Date"].tolist(), "Time": ["24:00"] * len(h)}, "holds '24:00'"),
    ("not-a-clock", lambda h: {"Date": h["Date"].tolist(), "Time": ["noon"] * len(h)}, "not a time of day"),
    ("sent-twice", lambda h: {"Date": h["Date"].tolist(), "Time": h["Time"].tolist(),
                              "time": (h["Date"] + " " + h["Time"]).tolist()}, "the time is sent twice"),
    # their fixes named the CLI flag ('pass it alone as --time Date', 'name the date column first: --time Time,Date')
    ("dates-with-times", lambda h: {"Date": (h["Date"] + " " + h["Time"]).tolist(), "Time": h["Time"].tolist()},
     "holds times of day already"),
    ("swapped", lambda h: {"Date": h["Time"].tolist(), "Time": h["Date"].tolist()}, "named in the wrong order"),
]


@pytest.mark.parametrize("make, needle", [c[1:] for c in LOGGER_CASES], ids=[c[0] for c in LOGGER_CASES])
def test_bad_two_column_time(logger_client, make, needle):
    client, hist = logger_client
    inst = {"Value": hist["Value"].tolist(), **make(hist)}
    got, answer = client.request("POST", "/predict", json.dumps({"instances": [inst]}))
    assert got == 422, (got, answer[:300])
    detail = strict_json(answer)["detail"]
    assert detail[0]["loc"] == ["body", "instances", 0] and needle in detail[0]["msg"].lower(), detail
    assert " — " in detail[0]["msg"]                 # the problem, then what to send
    assert "--time" not in detail[0]["msg"], detail  # a CLI flag means nothing to an HTTP client


@pytest.fixture(scope="module")
def monthly_client(tmp_path_factory):
    """A run trained with --time year,month."""
    import pandas as pd
    months = pd.date_range("2015-01-01", periods=60, freq="MS")
    frame = pd.DataFrame({"year": months.year, "month": months.month, "sales": sine_frame(n=60)["y"]})
    yield from _two_column_time_client(frame, ["year", "month"], tmp_path_factory.mktemp("monthly"))


MONTHLY_CASES = [      # the fix was 'fix that cell, or pass one date column as --time', and 'time' was "e.g. '2024-03-01 13:00'"
    ("month-13", lambda h: {"year": h["year"].tolist(), "month": [13] * len(h)}, "holds 13, not a month (1-12)",
     "send whole years in 'year' (e.g. 2024) and months 1-12 in 'month'"),
    ("two-digit-year", lambda h: {"year": [19] * len(h), "month": h["month"].tolist()}, "holds 19, not a year",
     "send whole years in 'year'"),
    ("year-alone", lambda h: {"year": h["year"].tolist()}, "'year' was sent without 'month'",
     "in 'time' (the first day of each month, e.g. '2024-03-01')"),
]


@pytest.mark.parametrize("make, needle, fix", [c[1:] for c in MONTHLY_CASES], ids=[c[0] for c in MONTHLY_CASES])
def test_bad_year_and_month_time(monthly_client, make, needle, fix):
    client, hist = monthly_client
    got, answer = client.request("POST", "/predict", json.dumps({"instances": [{"sales": hist["sales"].tolist(),
                                                                                  **make(hist)}]}))
    assert got == 422, (got, answer[:300])
    (detail,) = strict_json(answer)["detail"]
    problem, _, hint = detail["msg"].partition(" — ")
    assert needle in problem and fix in hint and "--time" not in hint, detail
