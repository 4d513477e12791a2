import json

import numpy as np
import pytest
import torch

from forecast_data import sine_frame
from lstmkit.deploy import Stream
from lstmkit.errors import LstmkitError


def _history(est, n=50, seed=7):
    df = sine_frame(n=n, seed=seed)
    obs = [{"y": a, "temp": b} for a, b in df[["y", "temp"]].to_numpy()]
    x = torch.from_numpy(est.model_inputs(df))[None]                       # [1, n, 2] scaled
    return obs, x


def _original(est, y):
    return est.to_original(y.numpy())


def test_state_mode_equals_the_batch_forward_over_the_whole_history(abs_forecaster):
    est = abs_forecaster
    s = est.stream(engine="torch")
    assert isinstance(s, Stream) and s.mode == "state"
    obs, x = _history(est)
    got = s.run(obs, id="a")
    with torch.no_grad():
        want = [_original(est, est.net_(x[:, : t + 1])[0]) for t in range(x.shape[1])]
    for g, w in zip(got, want):
        assert g.shape == (3, 1)
        np.testing.assert_allclose(g, w, atol=1e-6, rtol=0)
    assert s.steps("a") == len(obs)


def test_window_mode_is_exact_for_relative_forecasters(rel_forecaster):
    est = rel_forecaster
    s = est.stream(engine="torch")
    assert s.mode == "window"
    with pytest.raises(LstmkitError, match="relative to the newest value"):
        est.stream(mode="state")
    obs, x = _history(est, n=40)
    got = s.run(obs)
    L = est.config_.lookback
    with torch.no_grad():
        for t in range(len(obs)):
            want = _original(est, est.net_(x[:, max(0, t + 1 - L): t + 1])[0])
            np.testing.assert_allclose(got[t], want, atol=1e-6, rtol=0)
    # once the window is full a step equals predict() on the same history
    df = sine_frame(n=40, seed=7)
    np.testing.assert_allclose(got[-1][:, 0], est.predict(df, engine="torch")["y"].to_numpy(), atol=1e-6)


def test_streams_are_independent_and_reset(abs_forecaster):
    s = abs_forecaster.stream()
    obs, _ = _history(abs_forecaster, n=10)
    a = s.run(obs, id="a")
    s.run(obs[:3], id="b")
    s.reset("a")
    assert s.ids == ["b"]
    np.testing.assert_array_equal(s.run(obs, id="a")[-1], a[-1])
    s.reset()
    assert s.ids == []


def test_repr_names_the_mode_and_the_streams_open(abs_forecaster, rel_forecaster):
    """It was ``<lstmkit.deploy.streaming.Stream object at 0x...>``."""
    s = abs_forecaster.stream(engine="torch", max_streams=4)
    assert repr(s) == "Stream(mode='state', streams=0, max_streams=4)"
    obs, _ = _history(abs_forecaster, n=2)
    s.run(obs, id="a")
    assert repr(s) == "Stream(mode='state', streams=1, max_streams=4)"
    window = rel_forecaster.stream(engine="torch")
    assert repr(window) == f"Stream(mode='window', window={rel_forecaster.config_.lookback}, streams=0)"


def test_a_none_id_is_the_default_stream(abs_forecaster):
    """``step(x, id=None)`` opened a stream named "None" beside the default one."""
    s = abs_forecaster.stream()
    obs, _ = _history(abs_forecaster, n=3)
    s.step(obs[0])
    s.step(obs[1], id=None)
    assert s.ids == ["default"] and s.steps() == 2 and s.steps(None) == 2
    np.testing.assert_array_equal(s.step(obs[2], None), abs_forecaster.stream().run(obs)[-1])


@pytest.mark.parametrize("suffix", [".json", ".safetensors"])
def test_state_round_trips(abs_forecaster, rel_forecaster, tmp_path, suffix):
    for est in (abs_forecaster, rel_forecaster):
        obs, _ = _history(est, n=30)
        s = est.stream()
        s.run(obs[:20], id="x")
        s.run(obs[:5], id="y")
        path = s.save(tmp_path / f"state{suffix}")
        if suffix == ".json":
            json.loads(path.read_text())
        t = est.stream()
        t.restore(path)
        assert t.ids == ["x", "y"] and t.steps("x") == 20
        for o in obs[20:]:
            np.testing.assert_array_equal(t.step(o, "x"), s.step(o, "x"))


def test_bad_input_and_foreign_state_are_refused(abs_forecaster, rel_forecaster, tmp_path):
    s = abs_forecaster.stream(max_streams=1)
    with pytest.raises(LstmkitError, match="lacks column 'temp'"):
        s.step({"y": 1.0})
    with pytest.raises(LstmkitError, match="Expected 2 values"):
        s.step([1.0])
    with pytest.raises(LstmkitError, match="NaN"):
        s.step([float("nan"), 0.0])
    s.step([1.0, 0.0], id="one")
    with pytest.raises(LstmkitError, match="too many open streams"):
        s.step([1.0, 0.0], id="two")
    other = rel_forecaster.stream().state_dict()
    with pytest.raises(LstmkitError, match="mode"):
        s.load_state_dict(other)
    state = s.state_dict()
    state["fingerprint"] = "0" * 16
    with pytest.raises(LstmkitError, match="other model weights"):
        s.load_state_dict(state)
    (tmp_path / "junk.safetensors").write_bytes(b"not a state")
    with pytest.raises(LstmkitError, match="not a readable stream state"):
        s.restore(tmp_path / "junk.safetensors")


@pytest.mark.parametrize("path", ["fast", "state", "window"])
def test_a_step_that_fails_opens_no_stream_and_moves_none(abs_forecaster, rel_forecaster, path, monkeypatch):
    """A step whose answer was not finite (or that Ctrl-C cut inside the network) opened its new stream id all the
    same: it was listed in ids, saved by state_dict, and took a place of max_streams, so the next new id was
    refused as 'too many open streams'."""
    est = rel_forecaster if path == "window" else abs_forecaster
    # the torch engine's fast path: with the session's onnx_run fixture exported into this run before (another test
    # file in this worker), 'auto' took the graph, which has no fast path
    s = est.stream(max_streams=2, engine="torch")
    obs, _ = _history(est, n=6)
    s.run(obs[:3], id="a")
    before = json.dumps(s.state_dict())
    nan = np.full((est.config_.horizon, 1), np.nan)
    if path == "fast":
        assert s._fast.ready()
        monkeypatch.setattr(s._fast, "step", lambda x, live: (nan, live))
    else:
        s._fast = None                                           # the general path (the onnx engine's)
        monkeypatch.setattr(s, "decode", lambda y: nan)
    for id in ("a", "new"):
        with pytest.raises(LstmkitError, match="not finite"):
            s.step(obs[3], id=id)
    assert s.ids == ["a"] and s.steps("new") == 0
    assert json.dumps(s.state_dict()) == before
    monkeypatch.undo()
    fresh = est.stream(engine="torch")
    fresh.run(obs[:3], id="a")
    np.testing.assert_array_equal(s.step(obs[3], "a"), fresh.step(obs[3], "a"))
    s.step(obs[0], id="b")                                       # the second place is free


def test_run_refusing_an_observation_leaves_the_stream_as_before_the_call(abs_forecaster, rel_forecaster):
    """run() over observations of which the fourth was refused left the stream moved on by the three before it
    (their answers lost with the error), so running the corrected list again answered from a later state."""
    for est in (abs_forecaster, rel_forecaster):
        s = est.stream()
        obs, _ = _history(est, n=8)
        s.run(obs[:2], id="a")
        before = json.dumps(s.state_dict())
        for bad in ([*obs[2:5], {"y": float("nan"), "temp": 0.0}, *obs[5:]], [obs[2], "x"]):
            with pytest.raises(LstmkitError):
                s.run(bad, id="a")
            with pytest.raises(LstmkitError):
                s.run(bad, id="new")
            assert json.dumps(s.state_dict()) == before and s.ids == ["a"]
        fresh = est.stream()
        np.testing.assert_array_equal(s.run(obs[2:], id="a")[-1], fresh.run(obs, id="a")[-1])


def test_onnx_engine_streams_the_same(onnx_run, abs_forecaster):
    from lstmkit.tasks.forecast.estimator import Forecaster
    est = Forecaster.load(onnx_run)
    obs, _ = _history(est, n=25)
    a = est.stream(engine="torch").run(obs)
    b = est.stream(engine="onnx").run(obs)
    np.testing.assert_allclose(np.array(b), np.array(a), atol=1e-4)


@pytest.fixture(scope="module")
def uni_forecaster(tmp_path_factory):
    """Univariate absolute LSTM: plain numbers in, the torch engine's scalar fast path."""
    from forecast_data import FAST
    from lstmkit.tasks.forecast.estimator import Forecaster
    d = tmp_path_factory.mktemp("uni")
    sine_frame()[["time", "y"]].to_csv(d / "series.csv", index=False)
    return Forecaster(**{**FAST, "max_epochs": 1, "num_layers": 2}, relative=False, horizon=2).fit(
        str(d / "series.csv"), target="y", time="time", out=d)


def test_torch_fast_step_equals_batch_forward_and_the_general_path(uni_forecaster, tmp_path):
    est = uni_forecaster
    df = sine_frame(n=40, seed=3)
    values = [float(v) for v in df["y"]]
    values[5] = int(round(values[5]))                  # ints take the scalar path too
    df.loc[5, "y"] = values[5]
    x = torch.from_numpy(est.model_inputs(df[["time", "y"]]))[None]
    fast = est.stream(engine="torch")
    assert fast._fast is not None
    got = fast.run(values[:25], id="a")
    path = fast.save(tmp_path / "mid.safetensors")     # state leaves the fast path's tensors
    got += fast.run(values[25:], id="a")
    general = est.stream(engine="torch")
    general._fast = None                               # the module path the fast one replaces
    want_general = general.run(values, id="a")
    with torch.no_grad():
        want = [_original(est, est.net_(x[:, : t + 1])[0]) for t in range(x.shape[1])]
    for g, w, wg in zip(got, want, want_general):
        assert g.shape == (2, 1) and g.dtype == np.float64
        np.testing.assert_allclose(g, w, atol=1e-6, rtol=0)
        np.testing.assert_array_equal(g, wg)
    resumed = est.stream(engine="torch")
    resumed.restore(path)
    np.testing.assert_array_equal(np.array(resumed.run(values[25:], id="a")), np.array(got[25:]))
    with pytest.raises(LstmkitError, match="NaN"):
        fast.step(float("inf"), id="b")
    assert fast.ids == ["a"]


def test_a_table_row_streams_as_its_columns_and_a_bad_one_is_named_on_one_line(abs_forecaster, tmp_path):
    """``s.step(df.iloc[k])`` (a pandas Series) was refused as "values must be numbers, got y 10.0
    <newline> temp ..."; it is an observation by column, as a dict is, on every kind of stream."""
    import pandas as pd
    from lstmkit.tasks.forecast.estimator import Forecaster
    df = sine_frame(n=12, seed=3)[["y", "temp"]]
    for mode in ("state", "window"):
        by_row = abs_forecaster.stream(mode=mode).run([df.iloc[k] for k in range(len(df))])
        by_dict = abs_forecaster.stream(mode=mode).run(df.to_dict("records"))
        np.testing.assert_array_equal(np.array(by_row), np.array(by_dict))
    with pytest.raises(LstmkitError, match=r"^observation values must be numbers, got +y +temp 0 ") as e:
        abs_forecaster.stream().step(df.head(30))                      # a whole table: named on one line, cut
    assert "\n" not in str(e.value) and len(str(e.value)) < 160
    panel = pd.concat([sine_frame(n=60, seed=s).assign(id=f"s{s}") for s in range(2)])
    many = Forecaster(lookback=12, hidden_size=4, max_epochs=1, progress="off", tensorboard=False, device="cpu",
                      ensemble=1).fit(panel, target="y", time="time", features="temp", id="id", out=tmp_path / "run")
    row = panel.iloc[-1][["id", "y", "temp"]]                     # names its series, as {"id": ...} does
    np.testing.assert_array_equal(many.stream(mode="window").step(row),
                                  many.stream(mode="window").step(row.to_dict()))


def test_a_stream_over_an_onnx_session_refuses_pickle_in_one_line_and_a_torch_one_copies(onnx_run):
    """pickle.dumps / copy.deepcopy of an ONNX stream raised TypeError ('cannot pickle
    onnxruntime...InferenceSession'); it is now one LstmkitError naming save/state_dict. A torch
    stream pickles and steps on as the original."""
    import copy
    import pickle
    from lstmkit.tasks.forecast.estimator import Forecaster
    est = Forecaster.load(onnx_run)
    obs, _ = _history(est, n=12)
    stream = est.stream(engine="onnx")
    stream.run(obs[:6])
    for copy_it in (pickle.dumps, copy.deepcopy):
        with pytest.raises(LstmkitError, match=r"^an ONNX Runtime session \(model.onnx\) cannot be pickled or copied "
                                               r"— keep the state instead: stream.save\(path\) or state_dict\(\)"):
            copy_it(stream)
    torch_stream = est.stream(engine="torch")
    torch_stream.run(obs[:6])
    twin = pickle.loads(pickle.dumps(torch_stream))
    np.testing.assert_allclose(np.array(twin.run(obs[6:])), np.array(torch_stream.run(obs[6:])), atol=1e-6)


def test_an_observation_in_a_torch_tensor_streams_as_its_numbers(abs_forecaster):
    """A tensor row (a model's output fed back, ``x[t]``) was 'observation values must be numbers,
    got tensor([...])'; a tensor of booleans is still not numbers."""
    rows = sine_frame(n=6, seed=4)[["y", "temp"]].to_numpy()
    want = abs_forecaster.stream().run([list(r) for r in rows])
    got = abs_forecaster.stream().run([torch.from_numpy(r) for r in rows])
    np.testing.assert_array_equal(np.array(got), np.array(want))
    with pytest.raises(LstmkitError, match="observation values must be numbers"):
        abs_forecaster.stream().step(torch.tensor([True, False]))


def test_decimal_fraction_and_object_array_observations_stream_as_their_numbers(abs_forecaster):
    """A pyarrow decimal column's cell (``Decimal('5.10')``, which fit reads as a number), a Fraction
    and an object array of numbers (``df.to_numpy()`` of a frame with a text column) were 'observation
    values must be numbers, got Decimal('5.10')'; an object array holding text still is not numbers."""
    import decimal
    import fractions
    import pandas as pd
    import pyarrow as pa
    rows = sine_frame(n=6, seed=4)[["y", "temp"]].round(2)
    want = abs_forecaster.stream().run(rows.to_dict("records"))
    exact = rows.astype(pd.ArrowDtype(pa.decimal128(12, 2)))
    assert isinstance(exact.iloc[0]["y"], decimal.Decimal)
    for given in ([exact.iloc[k] for k in range(len(rows))],
                  [[fractions.Fraction(str(v)) for v in r] for r in rows.to_numpy()],
                  [r.astype(object) for r in rows.to_numpy()]):
        np.testing.assert_allclose(np.array(abs_forecaster.stream().run(given)), np.array(want), rtol=1e-6)
    with pytest.raises(LstmkitError, match="observation values must be numbers"):
        abs_forecaster.stream().step(np.array([1.0, "x"], dtype=object))


def test_threads_opening_new_ids_at_once_open_no_more_than_max_streams():
    """A new id was checked against max_streams before its step and entered after it: eight threads
    stepping new ids at once each saw room, and a stream made with max_streams=2 held eight. The
    check is repeated with the entry, under one lock: two open, the other six are refused."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    inside = threading.Barrier(8, timeout=60)           # a guard: a busy machine starts the eight late

    def window_mean(x, state):               # every thread is past the check before its step ends
        inside.wait()
        return x.mean(axis=1), state

    s = Stream(window_mean, 1, mode="window", window=3, max_streams=2)

    def one(k):
        try:
            s.step([float(k)], id=f"id{k}")
            return "open"
        except LstmkitError as e:
            assert "too many open streams (2)" in e.message
            return "refused"

    with ThreadPoolExecutor(8) as pool:
        said = list(pool.map(one, range(8)))
    assert sorted(said) == ["open"] * 2 + ["refused"] * 6
    assert len(s.ids) == 2 and all(s.steps(i) == 1 for i in s.ids)
