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


def _zeros(n):
    return [{"y": 0.0, "temp": o["temp"]} for o in _obs(n)]


@pytest.mark.parametrize("which, mode", [("abs", "state"), ("abs", "window"), ("rel", "window")])
def test_a_stream_of_zeros_forecasts_zero_as_predict_and_keeps_its_flag_in_its_state(
        which, mode, abs_forecaster, rel_forecaster, monkeypatch):
    """A series 0 throughout its history forecasts 0 in predict; a plain run's stream (the fast step,
    the general state path, a window) fed only zeros forecast the network's offset from 0 instead.
    It keeps per target whether a value was ever nonzero, through save and restore."""
    est = abs_forecaster if which == "abs" else rel_forecaster
    monkeypatch.setattr(est, "bounds_", None)       # the network's own answer after zeros (the floor: test_bounds)
    L = est.config_.lookback
    s = est.stream(mode=mode, engine="torch")
    answers = s.run(_zeros(L), id="a")
    assert all((a == 0).all() for a in answers)
    with pytest.warns(UserWarning, match="the series has only zeros in its history: forecast 0"):
        want = est.predict(sine_frame(n=L, seed=4).assign(y=0.0), engine="torch")
    np.testing.assert_array_equal(answers[-1][:, 0], want["y"].to_numpy())
    t = est.stream(mode=mode, engine="torch")
    t.load_state_dict(s.state_dict())
    assert s.state_dict()["streams"]["a"]["nonzero"] == [False]
    assert (t.step(_zeros(1)[0], id="a") == 0).all()                 # still only zeros
    y = t.step(_obs(1)[0], id="a")
    assert (y != 0).all()                                            # a value: the network's answer
    assert (t.step(_zeros(1)[0], id="a") != 0).all()                 # ever nonzero: zeros after it are not 0
    old = s.state_dict()
    del old["streams"]["a"]["nonzero"]                               # a state saved before the flag
    u = est.stream(mode=mode, engine="torch")
    u.load_state_dict(old)
    assert (u.step(_zeros(1)[0], id="a") != 0).all()                 # answers as it did when saved


def test_a_stream_saved_before_its_first_step_restores_as_a_fresh_one(abs_forecaster, rel_forecaster, tmp_path):
    """The service's {"op": "state"} of a new stream is {"steps": 0}: given back by {"op": "restore"} it was
    refused as malformed ('h'), though the fix said to send just that. Python's state_dict(ids) of such a
    stream left it out, so a restore left the stream as it had moved on."""
    obs = _obs(4)
    for est in (abs_forecaster, rel_forecaster):
        s = est.stream()
        saved = s.state_dict(["a"])
        assert saved["streams"] == {"a": {"steps": 0}}
        first = s.step(obs[0], id="a")
        s.run(obs[1:], id="a")
        s.load_state_dict(saved)
        assert s.steps("a") == 0 and s.ids == []
        assert np.array_equal(s.step(obs[0], id="a"), first)     # from the start again
        for path in (tmp_path / "s.json", tmp_path / "s.safetensors"):
            s.save(path, ids=["b"])
            s.step(obs[0], id="b")
            s.restore(path)
            assert s.steps("b") == 0


def test_one_id_given_alone_saves_that_stream_not_its_characters(abs_forecaster, tmp_path):
    """``save(path, ids="sensor-1")`` iterated the id's characters and saved no stream at all; an id given
    as the step took it (an int) is keyed as the step keyed it."""
    s = abs_forecaster.stream()
    s.run(_obs(3), id="sensor-1")
    s.run(_obs(2), id=7)
    assert list(s.state_dict("sensor-1")["streams"]) == ["sensor-1"]
    assert s.state_dict([7])["streams"]["7"]["steps"] == 2
    s.save(tmp_path / "one.json", ids="sensor-1")
    t = abs_forecaster.stream()
    t.restore(tmp_path / "one.json")
    assert (t.ids, t.steps("sensor-1")) == (["sensor-1"], 3)
