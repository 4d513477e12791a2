"""``predict`` warns when a window lies far outside its series' training range (the network
extrapolates); the service and the streams give the same finding per request: a ``warnings`` field
in the ``/predict`` answer naming the instance and in the ``/stream`` message, a UserWarning from
the Python stream's ``step`` (``step_noted`` returns it as a list). A request within the range
carries no such field, and the forecasts are what they were."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("fastapi")

from asgi_client import Client  # noqa: E402
from forecast_data import FAST, sine_frame  # noqa: E402
from lstmkit.tasks.forecast.estimator import Forecaster  # noqa: E402


def _history(est, scale=1.0, n=None):
    df = sine_frame(n=n or est.config_.lookback, seed=3)
    return {"y": (df["y"] * scale).tolist(), "temp": df["temp"].tolist()}


@pytest.fixture(scope="module")
def client(abs_forecaster):
    from lstmkit.deploy.server import create_app
    c = Client(create_app(abs_forecaster.run_dir_, engine="torch"))
    yield c
    c.close()


def test_predict_answer_names_the_instance_far_outside_as_predict_warns(client, abs_forecaster):
    near, far = _history(abs_forecaster), _history(abs_forecaster, scale=1000.0)
    status, out = client.post_json({"instances": [near, far]})
    assert status == 200, out
    [note] = out["warnings"]
    assert note.startswith("instances[1]: the last 24 values of series") and "times the width of its training" in note
    with pytest.warns(UserWarning, match="times the width of its training range") as caught:
        want = abs_forecaster.predict(sine_frame(n=24, seed=3).assign(y=lambda f: f["y"] * 1000.0), engine="torch")
    assert note.split("series", 1)[1] == str(caught[0].message).split("series", 1)[1]   # the same finding
    np.testing.assert_allclose(out["predictions"][1]["y"], want["y"], rtol=1e-5)
    status, out = client.post_json({"instances": [near]})
    assert status == 200 and "warnings" not in out


def test_stream_message_carries_the_warning_and_the_python_stream_warns(client, abs_forecaster):
    ws = client.websocket()
    ws.send_text(json.dumps({"y": 10.0, "temp": 0.5}))
    assert "warnings" not in ws.receive_json()
    ws.send_text(json.dumps({"y": 9000.0, "temp": 0.5}))
    got = ws.receive_json()
    assert got["step"] == 2 and "the value just streamed of series" in got["warnings"][0]
    assert "(9000)" in got["warnings"][0] and "training range" in got["warnings"][0]
    ws.close()
    s = abs_forecaster.stream()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.step({"y": 10.0, "temp": 0.5})                        # within the range: no warning
    with pytest.warns(UserWarning, match=r"the value just streamed of series 'series' \(9000\) lies"):
        y = s.step({"y": 9000.0, "temp": 0.5})
    assert np.isfinite(y).all()
    answer, notes = abs_forecaster.stream(mode="window").step_noted({"y": 9000.0, "temp": 0.5})
    assert len(notes) == 1 and np.isfinite(answer).all()


def test_a_python_stream_warns_once_per_stream_id_until_reset(abs_forecaster):
    """A long stream that stays outside the range: each step's text names its value, so each was a
    warning of its own (printed every step, and a new key in the caller's ``__warningregistry__`` under
    Python's default filter: memory growing with the steps). One per stream id, until it is reset;
    ``step_noted`` still gives every step's."""
    s = abs_forecaster.stream()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(40):
            s.step({"y": 9000.0 + k, "temp": 0.5}, id="a")
        s.step({"y": 9000.0, "temp": 0.5}, id="b")                 # another stream warns of its own
        assert len(s.step_noted({"y": 9100.0, "temp": 0.5}, id="a")[1]) == 1
        s.reset("a")
        s.step({"y": 9000.0, "temp": 0.5}, id="a")                 # reset: it warns again
        s.reset()
        s.step({"y": 9000.0, "temp": 0.5}, id="b")
    said = [str(w.message) for w in caught]
    assert len(said) == 4, said
    assert "(9000) lies" in said[0] and "stream 'a' warns of this once, until it is reset" in said[0]
    assert "stream 'b'" in said[1] and "stream 'a'" in said[2] and "stream 'b'" in said[3]


def test_a_series_stream_names_its_series_in_the_warning(tmp_path):
    """Many series (the stream extra's path): the series is the one the stream follows."""
    df = pd.concat([sine_frame(n=80, seed=s).assign(id=f"s{s}", y=lambda f, s=s: f["y"] + 3 * s) for s in range(2)])
    est = Forecaster(**{**FAST, "hidden_size": 8, "max_epochs": 1, "horizon": 2}).fit(
        df, target="y", time="time", features="temp", id="id", out=tmp_path / "run")
    s = est.stream(mode="window")
    assert s.step_noted({"id": "s1", "y": 13.0, "temp": 0.1})[1] == []
    _, notes = s.step_noted({"id": "s1", "y": -500.0, "temp": 0.1})
    assert len(notes) == 1 and "the last 2 values streamed of series 's1' (-500 .. 13)" in notes[0]


def test_a_history_of_zeros_is_answered_zero_as_predict_forecasts_it(client, abs_forecaster):
    """A target 0 throughout the history sent (an item that never sold) forecasts 0, not the
    network's output for it, in the service's answer as in ``predict``."""
    zeros = {"y": [0.0] * 24, "temp": _history(abs_forecaster)["temp"]}
    status, out = client.post_json({"instances": [zeros, _history(abs_forecaster)]})
    assert status == 200, out
    assert out["predictions"][0]["y"] == [0.0] * 3 and all(v != 0 for v in out["predictions"][1]["y"])
    with pytest.warns(UserWarning, match="the series has only zeros in its history: forecast 0"):
        got = abs_forecaster.predict(sine_frame(n=24, seed=3).assign(y=0.0), engine="torch")
    assert got["y"].tolist() == [0.0] * 3
    ws = client.websocket()                               # the /stream WebSocket: zeros so far answer 0 too
    for temp in zeros["temp"][:3]:
        ws.send_text(json.dumps({"y": 0.0, "temp": temp}))
        assert ws.receive_json()["forecast"]["y"] == [0.0] * 3
    ws.send_text(json.dumps({"y": 10.0, "temp": 0.5}))
    assert all(v != 0 for v in ws.receive_json()["forecast"]["y"])
    ws.close()
