"""Restoring a stream's state: anything but what state_dict() wrote is one LstmkitError."""
import math

import pytest

from forecast_data import sine_frame
from lstmkit.errors import LstmkitError


def _obs(n):
    df = sine_frame(n=n, seed=4)
    return [{"y": a, "temp": b} for a, b in df[["y", "temp"]].to_numpy()]


def _nan_first(rec, key):
    rec[key][0][0][0] = math.nan


@pytest.mark.parametrize("edit, words", [
    (lambda st: st.update(streams=[]), "streams"),
    (lambda st: st.update(streams="x"), "streams"),
    (lambda st: st.update(streams=None), "streams"),
    (lambda st: st["streams"].update(a=[1, 2]), "malformed"),
    (lambda st: st["streams"]["a"].update(steps=-5), "steps"),
    (lambda st: st["streams"]["a"].update(steps="5"), "steps"),
    (lambda st: st["streams"]["a"].update(steps=True), "steps"),
    (lambda st: _nan_first(st["streams"]["a"], "h"), "finite"),
    (lambda st: _nan_first(st["streams"]["a"], "c"), "finite"),
    (lambda st: st["streams"]["a"]["c"][0][0].__setitem__(0, 1e39), "finite"),
    (lambda st: st["streams"]["a"].pop("c"), "malformed"),
], ids=["streams-list", "streams-text", "streams-null", "record-list", "steps-negative", "steps-text", "steps-bool",
        "h-nan", "c-nan", "c-beyond-float32", "c-missing"])
def test_bad_state_mode_states_are_refused(abs_forecaster, edit, words):
    s = abs_forecaster.stream()
    s.run(_obs(5), id="a")
    state = s.state_dict()
    edit(state)
    t = abs_forecaster.stream()
    with pytest.raises(LstmkitError, match=words):
        t.load_state_dict(state)
    assert t.ids == []                                  # nothing half-restored


@pytest.mark.parametrize("edit, words", [
    (lambda w: w["streams"]["a"]["window"][0].__setitem__(0, math.nan), "finite"),
    (lambda w: w["streams"]["a"].update(window=w["streams"]["a"]["window"][:7]), "rows"),
    (lambda w: w["streams"]["a"].update(steps=3), "rows"),
], ids=["window-nan", "window-short", "steps-fewer-than-rows"])
def test_bad_window_mode_states_are_refused(rel_forecaster, edit, words):
    s = rel_forecaster.stream()
    s.run(_obs(30), id="a")
    state = s.state_dict()
    edit(state)
    with pytest.raises(LstmkitError, match=words):
        rel_forecaster.stream().load_state_dict(state)


def test_a_good_state_still_restores(abs_forecaster, rel_forecaster):
    for est, n in ((abs_forecaster, 5), (rel_forecaster, 30), (rel_forecaster, 7)):
        s = est.stream()
        s.run(_obs(n), id="a")
        t = est.stream()
        t.load_state_dict(s.state_dict())
        assert t.steps("a") == n
