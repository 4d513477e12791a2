"""Restoring a stream's state (the bad states are tests/catalogue/test_streaming_api.py); a non-finite
answer is one LstmkitError."""

import numpy as np

import pytest

from forecast_data import sine_frame
from lstmkit.errors import LstmkitError


def _obs(n):
    df = sine_frame(n=n, seed=4)
    return [{"y": a, "temp": b} for a, b in df[["y", "temp"]].to_numpy()]


def test_a_good_state_still_restores(abs_forecaster, rel_forecaster):
    for est, n in ((abs_forecaster, 5), (rel_forecaster, 30), (rel_forecaster, 7)):
        s = est.stream()
        s.run(_obs(n), id="a")
        t = est.stream()
        t.load_state_dict(s.state_dict())
        assert t.steps("a") == n


class _OverflowCore:
    """A core whose answer is finite until ``bad`` is set (a model overflowing on some input)."""
    state_names = ("h",)

    def __init__(self):
        self.bad = False

    def __call__(self, x, state):
        y = np.full((1, 2), np.inf if self.bad else 1.0, np.float32)
        return y, [s + 1 for s in state]


@pytest.mark.parametrize("mode", ["state", "window"])
def test_a_step_whose_answer_is_not_finite_is_an_error_and_changes_nothing(mode):
    from lstmkit.deploy import Stream
    core = _OverflowCore()
    s = Stream(core, 1, mode=mode, window=3, state_shape=(1, 2))
    s.run([1.0, 2.0], id="a")
    before = s.state_dict()
    core.bad = True
    with pytest.raises(LstmkitError, match="not finite"):
        s.step(3.0, id="a")
    assert s.state_dict() == before


def test_the_fast_step_checks_its_answer_too(abs_forecaster, monkeypatch):
    s = abs_forecaster.stream(engine="torch")        # "auto" picks ONNX once another test exported it
    assert s._fast is not None
    s.run(_obs(3), id="a")
    before = s.state_dict()
    monkeypatch.setattr(s._fast, "step", lambda x, live: (np.full((3, 1), np.nan), live))
    with pytest.raises(LstmkitError, match="not finite"):
        s.step(_obs(1)[0], id="a")
    assert s.state_dict() == before
