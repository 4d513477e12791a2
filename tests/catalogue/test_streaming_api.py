"""Bad-input catalogue, the Python streaming API (``Forecaster.stream()``, lstmkit.deploy.Stream):
each case makes one refused call and asserts ONE LstmkitError whose message names the problem (a
regular expression, case-insensitive) and a stream whose state is exactly what it was before."""
import math

import numpy as np
import pytest

from catalogue_helpers import tiny_forecaster
from forecast_data import sine_frame
from lstmkit.errors import LstmkitError


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """``{"state": estimator, "window": estimator}``: absolute (carries h, c) and relative mode."""
    return {"state": tiny_forecaster(tmp_path_factory.mktemp("sa_state"), relative=False, horizon=2),
            "window": tiny_forecaster(tmp_path_factory.mktemp("sa_window"), relative=True, horizon=2)}


def _obs(n):
    df = sine_frame(n=n, seed=4)
    return [{"y": a, "temp": b} for a, b in df[["y", "temp"]].to_numpy()]


def _stream(models, mode, n=30):
    s = models[mode].stream(engine="torch")
    s.run(_obs(n), id="a")
    return s


# -- step: (id, mode, observation, words) ----------------------------------------------------
STEPS = [
    ("nan", "state", {"y": math.nan, "temp": 0.5}, "NaN or infinity"),
    ("inf", "state", {"y": math.inf, "temp": 0.5}, "NaN or infinity"),
    ("-inf-list", "state", [-math.inf, 0.5], "NaN or infinity"),
    ("np-nan-array", "state", np.array([np.nan, 0.5]), "NaN or infinity"),
    ("beyond-float32", "state", {"y": 1e39, "temp": 0.5}, "float32"),
    ("1e308", "state", {"y": 1e308, "temp": 0.5}, "float32"),
    ("too-few-values", "state", [1.0], "Expected 2 values"),
    ("too-many-values", "state", [1.0, 0.5, 2.0], "Expected 2 values"),
    ("empty-list", "state", [], "Expected 2 values"),
    ("bare-number", "state", 1.0, "Expected 2 values"),
    ("bool", "state", {"y": True, "temp": 0.5}, "must be numbers"),
    ("np-bool", "state", [np.bool_(True), 0.5], "must be numbers"),
    ("string", "state", {"y": "1.0", "temp": 0.5}, "must be numbers"),
    ("string-list", "state", ["1.0", "0.5"], "must be numbers"),
    ("text-array", "state", np.array(["1.0", "0.5"]), "must be numbers"),
    ("object-array-text", "state", np.array([1.0, "0.5"], dtype=object), "must be numbers"),
    ("object-array-bool", "state", np.array([True, 0.5], dtype=object), "must be numbers"),
    ("decimal-nan", "state", [__import__("decimal").Decimal("NaN"), 0.5], "NaN or infinity"),
    ("none", "state", None, "must be numbers"),
    ("nested", "state", [[1.0], [0.5]], "must be numbers"),
    ("missing-column", "state", {"y": 1.0}, "lacks column 'temp'"),
    ("unknown-column", "state", {"y": 1.0, "temp": 0.5, "tmep": 1.0}, "unknown column 'tmep'"),
    ("window-nan", "window", {"y": math.nan, "temp": 0.5}, "NaN or infinity"),
    ("window-bool", "window", [True, 0.5], "must be numbers"),
    ("window-wrong-width", "window", [1.0], "Expected 2 values"),
    ("window-beyond-float32", "window", [1.0, -1e39], "float32"),
]


@pytest.mark.parametrize("mode, x, words", [c[1:] for c in STEPS], ids=[c[0] for c in STEPS])
def test_bad_step(models, mode, x, words):
    s = _stream(models, mode)
    before = s.state_dict()
    for id in ("a", "new"):                           # an open stream, and one not yet made
        with pytest.raises(LstmkitError, match=f"(?i){words}"):
            s.step(x, id=id)
        assert s.state_dict() == before and s.ids == ["a"]


# -- load_state_dict: (id, mode, edit of a good state, words) ---------------------------------
def _nan_first(rec, key):
    rec[key][0][0][0] = math.nan


def _a(st):
    return st["streams"]["a"]


LOADS = [
    ("not-a-dict", "state", lambda st: [st], "not an lstmkit stream state"),
    ("no-format", "state", lambda st: {k: v for k, v in st.items() if k != "format"}, "not an lstmkit stream state"),
    ("other-mode", "state", lambda st: {**st, "mode": "window"}, "mode"),
    ("other-input-size", "state", lambda st: {**st, "input_size": 3}, "input_size"),
    ("other-window", "window", lambda st: {**st, "window": 7}, "window"),
    ("other-weights", "state", lambda st: {**st, "fingerprint": "0" * 64}, "other model weights"),
    ("streams-list", "state", lambda st: {**st, "streams": []}, "streams"),
    ("streams-text", "state", lambda st: {**st, "streams": "x"}, "streams"),
    ("streams-null", "state", lambda st: {**st, "streams": None}, "streams"),
    ("record-list", "state", lambda st: _a(st).clear() or st["streams"].update(a=[1, 2]) or st, "malformed"),
    ("record-null", "state", lambda st: st["streams"].update(a=None) or st, "malformed"),
    ("steps-negative", "state", lambda st: _a(st).update(steps=-5) or st, "steps"),
    ("steps-text", "state", lambda st: _a(st).update(steps="5") or st, "steps"),
    ("steps-bool", "state", lambda st: _a(st).update(steps=True) or st, "steps"),
    ("steps-float", "state", lambda st: _a(st).update(steps=5.0) or st, "steps"),
    ("steps-missing", "state", lambda st: _a(st).pop("steps") and st, "malformed"),
    ("h-nan", "state", lambda st: _nan_first(_a(st), "h") or st, "finite"),
    ("c-nan", "state", lambda st: _nan_first(_a(st), "c") or st, "finite"),
    ("h-inf", "state", lambda st: _a(st)["h"][0][0].__setitem__(0, math.inf) or st, "finite"),
    ("c-beyond-float32", "state", lambda st: _a(st)["c"][0][0].__setitem__(0, 1e39) or st, "finite"),
    ("c-missing", "state", lambda st: _a(st).pop("c") and st, "malformed"),
    ("h-wrong-shape", "state", lambda st: _a(st).update(h=[[1.0]]) or st, "shape"),
    ("h-text", "state", lambda st: _a(st)["h"][0][0].__setitem__(0, "x") or st, "malformed"),
    ("window-nan", "window", lambda st: _a(st)["window"][0].__setitem__(0, math.nan) or st, "finite"),
    ("window-short", "window", lambda st: _a(st).update(window=_a(st)["window"][:7]) or st, "rows"),
    ("window-steps-fewer-than-rows", "window", lambda st: _a(st).update(steps=3) or st, "rows"),
    ("window-wrong-width", "window", lambda st: _a(st).update(window=[r[:1] for r in _a(st)["window"]]) or st,
     "rows"),
    ("window-missing-with-steps", "window", lambda st: _a(st).pop("window") and st, "no window rows"),
    ("window-text", "window", lambda st: _a(st)["window"][0].__setitem__(0, "x") or st, "malformed"),
    # the per-target "ever nonzero" flags (a stream of zeros forecasts 0): true/false, one per target
    ("nonzero-text", "state", lambda st: _a(st).update(nonzero=["x"]) or st,
     r"malformed \(nonzero flags \['x'\], expected 1 of true/false\)"),
    ("nonzero-two", "state", lambda st: _a(st).update(nonzero=[2]) or st, "nonzero flags"),
    ("nonzero-null", "window", lambda st: _a(st).update(nonzero=None) or st, "nonzero flags"),
    ("nonzero-two-targets", "window", lambda st: _a(st).update(nonzero=[True, False]) or st,
     r"nonzero flags \[True, False\], expected 1"),
]


@pytest.mark.parametrize("mode, edit, words", [c[1:] for c in LOADS], ids=[c[0] for c in LOADS])
def test_bad_state(models, mode, edit, words):
    state = edit(_stream(models, mode).state_dict())
    t = models[mode].stream(engine="torch")
    t.run(_obs(3), id="b")                            # a stream already open: left as it was
    before = t.state_dict()
    with pytest.raises(LstmkitError, match=f"(?i){words}"):
        t.load_state_dict(state)
    assert t.state_dict() == before and t.ids == ["b"]     # nothing half-restored


# -- making a stream, saving and restoring files -----------------------------------------------
def test_bad_stream_options(models, tmp_path):
    est = models["state"]
    for kwargs, words in (({"mode": "sideways"}, "unknown stream mode"), ({"engine": "gpu9"}, "unknown engine")):
        with pytest.raises(LstmkitError, match=words):
            est.stream(**kwargs)
    s = _stream(models, "state")
    before = s.state_dict()
    (tmp_path / "garbage.json").write_text("{not json")
    for call, words in ((lambda: s.save(tmp_path / "state.txt"), "unknown state file type"),
                        (lambda: s.restore(tmp_path / "missing.json"), "not found"),
                        (lambda: s.restore(tmp_path / "garbage.json"), "not a readable stream state")):
        with pytest.raises(LstmkitError, match=words):
            call()
        assert s.state_dict() == before
    assert not (tmp_path / "state.txt").exists()


# -- a one-column model: a plain number takes the fast path, which must refuse the same numbers --
@pytest.fixture(scope="module")
def one_column():
    from forecast_data import FAST, sine_frame
    from lstmkit.tasks.forecast.estimator import Forecaster
    df = sine_frame(n=120)[["time", "y"]]
    return df, Forecaster(**{**FAST, "max_epochs": 1, "hidden_size": 4, "relative": False}).fit(df, target="y",
                                                                                                 time="time")


@pytest.mark.parametrize("x", [math.nan, math.inf, -math.inf, 1e39, -1e308, 10 ** 400],
                         ids=["nan", "inf", "-inf", "1e39", "-1e308", "int-10^400"])
def test_bad_number_on_a_one_column_stream(one_column, x):
    df, est = one_column
    s = est.stream(engine="torch")
    s.run([float(v) for v in df["y"][:30]], id="a")
    before = s.state_dict()
    with pytest.raises(LstmkitError, match="(?i)finite|float32|number"):
        s.step(x, id="a")
    assert s.state_dict() == before
