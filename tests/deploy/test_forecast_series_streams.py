"""Streaming the forecasters whose answer needs more than the network and a fixed scaling
(lstmkit.tasks.forecast.streams): seasonal indices, quantiles, many series with an embedding, and
blends with ETS or seasonal naive. Each is fed a history value by value; in window mode every step
equals ``Forecaster.predict`` on the history so far (torch and ONNX engines), in state mode the
network reads the whole history, with the same scaling, quantiles and blend around it."""
import json

import numpy as np
import pandas as pd
import pytest
import torch

pytest.importorskip("onnxruntime")

from forecast_data import FAST, sine_frame  # noqa: E402
from lstmkit.deploy import export_onnx  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from lstmkit.tasks.forecast.deploy import ForecastAdapter  # noqa: E402
from lstmkit.tasks.forecast.estimator import Forecaster  # noqa: E402
from lstmkit.tasks.forecast.intervals import calibrated  # noqa: E402
from lstmkit.tasks.forecast.probabilistic import quantiles_of  # noqa: E402
from one_thread import one_thread_per_module  # noqa: E402,F401  (autouse: one torch thread, module fixtures too)

SEASON = 12
TINY = {**FAST, "hidden_size": 8, "max_epochs": 2, "lookback": 24, "horizon": 4, "relative": False}


def _fit(folder, frame=None, **params):
    folder.mkdir(parents=True, exist_ok=True)
    (sine_frame(n=168, period=SEASON) if frame is None else frame).to_csv(folder / "data.csv", index=False)
    extra = {"id": "id"} if frame is not None else {}
    return Forecaster(**{**TINY, **params}).fit(str(folder / "data.csv"), target="y", time="time",
                                                features="temp", run_dir=folder / "run", **extra)


def _obs(df):
    return [{"y": a, "temp": b} for a, b in df[["y", "temp"]].to_numpy()]


def _assert_window_is_predict(est, answers, df, every=1, levels=None):
    """Each step from the first full lookback on equals predict on the history up to it."""
    L = est.config_.lookback
    for t in range(L - 1, len(df), every):
        want = est.predict(df.iloc[:t + 1], engine="torch")
        got = answers[t] if levels is None else answers[t]["forecast"]
        np.testing.assert_allclose(got[:, 0], want["y"], rtol=1e-9, atol=0, err_msg=f"step {t + 1}")
        for k, level in enumerate(levels or ()):
            np.testing.assert_allclose(answers[t]["quantiles"][:, 0, k], want[f"y_q{level:g}"], rtol=1e-9, atol=0)


@pytest.fixture(scope="module")
def deseason_run(tmp_path_factory):
    """Logs, seasonal indices and a two-seed ensemble: streams through a window."""
    est = _fit(tmp_path_factory.mktemp("deseason"), log=True, deseason=SEASON, ensemble=2)
    export_onnx(est.run_dir_)
    return est


@pytest.fixture(scope="module")
def quantile_run(tmp_path_factory):
    est = _fit(tmp_path_factory.mktemp("quantiles"), quantiles=[0.1, 0.5, 0.9])
    export_onnx(est.run_dir_)
    return est


@pytest.fixture(scope="module")
def panel_run(tmp_path_factory):
    """Three series of different levels, a series embedding."""
    df = pd.concat([sine_frame(n=80, period=SEASON, seed=s).assign(id=f"s{s}", y=lambda f, s=s: f["y"] + 3 * s)
                    for s in range(3)])
    est = _fit(tmp_path_factory.mktemp("panel"), df, id_embedding=4)
    export_onnx(est.run_dir_)
    return est


# -- seasonal indices -----------------------------------------------------------------------------
def test_deseason_streams_every_step_as_predict(deseason_run):
    est = deseason_run
    with pytest.raises(LstmkitError, match="seasonal indices are re-estimated with every value"):
        est.stream(mode="state")
    s = est.stream(engine="torch")
    assert s.mode == "window" and ForecastAdapter(est).streams and "stream_refusal" not in ForecastAdapter(est).metadata()
    df = sine_frame(n=60, period=SEASON, seed=3)
    answers = s.run(_obs(df), id="a")
    _assert_window_is_predict(est, answers, df)
    o = est.stream(engine="onnx")                                        # the exported graph, same answers
    np.testing.assert_allclose(np.stack(o.run(_obs(df), id="a")), np.stack(answers), rtol=1e-5, atol=0)


def test_deseason_state_survives_json_and_bad_input_changes_nothing(deseason_run):
    est = deseason_run
    df = sine_frame(n=50, period=SEASON, seed=5)
    obs = _obs(df)
    s = est.stream(engine="torch")
    s.run(obs[:31], id="a")
    before = s.state_dict()
    for bad, words in (({"y": -1.0, "temp": 0.1}, "must be positive"), ({"y": 1.0}, "lacks column 'temp'"),
                       ([float("nan"), 0.1], "NaN")):
        with pytest.raises(LstmkitError, match=words):
            s.step(bad, id="a")
        assert s.state_dict() == before
    resumed = est.stream(engine="torch")
    resumed.load_state_dict(json.loads(json.dumps(before)))
    assert resumed.steps("a") == 31
    rest = resumed.run(obs[31:], id="a")
    np.testing.assert_array_equal(np.stack(rest), np.stack(s.run(obs[31:], id="a")))
    np.testing.assert_allclose(rest[-1][:, 0], est.predict(df, engine="torch")["y"], rtol=1e-9, atol=0)
    broken = json.loads(json.dumps(before))
    broken["streams"]["a"]["count"][0][0] += 1                           # sums that count another history
    with pytest.raises(LstmkitError, match="malformed .*seasonal sums"):
        est.stream(engine="torch").load_state_dict(broken)
    misspelt = json.loads(json.dumps(before))
    misspelt["streams"]["a"]["nonzro"] = misspelt["streams"]["a"].pop("nonzero")   # was read as a state before flags
    with pytest.raises(LstmkitError, match="malformed .*unknown field 'nonzro'; a stream's state holds steps, "
                                           "window, series, rows, nonzero, total, count"):
        est.stream(engine="torch").load_state_dict(misspelt)


# -- quantiles ------------------------------------------------------------------------------------
def test_quantile_window_steps_answer_the_quantiles_as_predict(quantile_run):
    est = quantile_run
    df = sine_frame(n=40, period=SEASON, seed=4)
    answers = est.stream(mode="window", engine="torch").run(_obs(df))
    assert answers[0]["levels"] == [0.1, 0.5, 0.9] and answers[0]["quantiles"].shape == (4, 1, 3)
    _assert_window_is_predict(est, answers, df, levels=[0.1, 0.5, 0.9])
    onnx = est.stream(mode="window", engine="onnx").run(_obs(df))
    np.testing.assert_allclose(np.stack([a["quantiles"] for a in onnx]),
                               np.stack([a["quantiles"] for a in answers]), rtol=1e-5, atol=0)


def test_quantile_state_steps_carry_the_whole_history(quantile_run, tmp_path):
    est = quantile_run
    s = est.stream(engine="torch")
    assert s.mode == "state"
    df = sine_frame(n=30, period=SEASON, seed=6)
    got = s.run(_obs(df), id="a")
    x = torch.from_numpy(est.model_inputs(df))[None]
    loc, sc = est.panel_scaler_.get(est.series_ids_[0])
    for t in range(len(df)):
        with torch.no_grad():
            y = est.net_(x[:, :t + 1]).numpy().astype(np.float64)          # [1, H, T, Q]
        params = est.original_params(y, np.broadcast_to(loc, (1, 4, 1)), sc[None])
        params = calibrated("quantile", params, [0.1, 0.5, 0.9], est.intervals_)     # the run's interval calibration
        np.testing.assert_allclose(got[t]["quantiles"], quantiles_of("quantile", params, [0.1, 0.5, 0.9])[0],
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(got[t]["forecast"], got[t]["quantiles"][..., 1])    # the median
    o = est.stream(engine="onnx")
    np.testing.assert_allclose(np.stack([a["quantiles"] for a in o.run(_obs(df), id="a")]),
                               np.stack([a["quantiles"] for a in got]), rtol=1e-4, atol=1e-5)
    path = s.save(tmp_path / "q.safetensors")
    r = est.stream(engine="torch")
    r.restore(path)
    np.testing.assert_array_equal(r.step(_obs(df)[0], "a")["quantiles"], s.step(_obs(df)[0], "a")["quantiles"])


# -- many series ------------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["torch", "onnx"])
def test_each_series_streams_under_its_id_as_predict(panel_run, engine):
    est = panel_run
    s = est.stream(mode="window", engine=engine)
    parts = {sid: sine_frame(n=40, period=SEASON, seed=10 + k).assign(id=sid, y=lambda f, k=k: f["y"] + 3 * k)
             for k, sid in enumerate(("s0", "s1", "s2"))}
    answers = {sid: [] for sid in parts}
    for t in range(40):                                                  # interleaved, one state per series
        for sid, part in parts.items():
            answers[sid].append(s.step(_obs(part.iloc[t:t + 1])[0], id=sid))
    for sid, part in parts.items():
        for t in [0, 5, *range(23, 40, 4)]:                             # short: the first value repeated, as predict
            want = est.predict(part.iloc[:t + 1], engine="torch")["y"]
            np.testing.assert_allclose(answers[sid][t][:, 0], want, rtol=1e-5 if engine == "onnx" else 1e-9, atol=0)
    assert sorted(s.ids) == ["s0", "s1", "s2"] and s.state_dict()["streams"]["s1"]["series"] == "s1"


def test_a_message_names_its_series_and_an_unknown_one_changes_nothing(panel_run):
    est = panel_run
    s = est.stream(engine="torch")
    assert s.mode == "state"
    part = sine_frame(n=10, period=SEASON, seed=1)
    named = [{"id": "s2", **o} for o in _obs(part)]
    a = s.run(named, id="ws-0")                                          # a WebSocket's id: the message names it
    np.testing.assert_array_equal(np.stack(a), np.stack(s.run(_obs(part), id="s2")))
    before = s.state_dict()
    with pytest.raises(LstmkitError, match="unknown series 's9'; this model was trained on 3 series"):
        s.step({"id": "s9", "y": 1.0, "temp": 0.0}, id="ws-1")
    with pytest.raises(LstmkitError, match="unknown series 'other'"):
        s.step(_obs(part)[0], id="other")
    with pytest.raises(LstmkitError) as info:                          # a trained id written otherwise: named
        s.step({"id": " S2", "y": 1.0, "temp": 0.0}, id="ws-1")
    assert ("unknown series ' S2'; it differs from the trained id 's2' only in case or spaces; this model was "
            "trained on 3 series") in str(info.value) and "write the id as the training data did: 's2'" in str(info.value)
    with pytest.raises(LstmkitError, match="stream 'ws-0' follows series 's2', not 's0'"):
        s.step({"id": "s0", "y": 1.0, "temp": 0.0}, id="ws-0")
    assert s.state_dict() == before
    s.step(_obs(part)[0], id="ws-0")                                     # it keeps its series
    assert s.steps("ws-0") == 11


# -- blends -----------------------------------------------------------------------------------------
BLEND = {"lookback": 12, "season": SEASON, "lr": 1e-4}                   # a poor network keeps the blend


@pytest.mark.parametrize("baseline, n, every", [("seasonal_naive", 40, 1), ("ets", 30, 6)])
def test_a_blended_run_streams_the_blend_as_predict(tmp_path, baseline, n, every):
    est = _fit(tmp_path, combine=baseline, max_epochs=1, **BLEND)
    assert est.combination_ is not None and est.combination_["baseline"] == baseline
    df = sine_frame(n=n, period=SEASON, seed=8, noise=0.2)
    for mode in ("window", "state"):
        s = est.stream(mode=mode, engine="torch")
        answers = s.run(_obs(df), id="a")
        if mode == "window":
            _assert_window_is_predict(est, answers, df, every=every)
        else:                                                            # the step the two modes read alike
            L = est.config_.lookback
            np.testing.assert_allclose(answers[L - 1][:, 0], est.predict(df.iloc[:L], engine="torch")["y"],
                                       rtol=1e-6, atol=0)
    assert s.state_dict()["streams"]["a"]["rows"] == df[["y", "temp"]].to_numpy()[-s.extra.keep:].tolist()


def test_past_its_history_bound_an_ets_stream_fits_the_newest_values(tmp_path):
    from lstmkit.tasks.forecast.baselines import ets_forecast
    est = _fit(tmp_path, combine="ets", max_epochs=1, **BLEND)
    assert est.combination_["history"] == 1000                          # recorded: max(1000, 4 seasons)
    est.combination_["history"] = 14                                 # the bound the run records
    df = sine_frame(n=20, period=SEASON, seed=9, noise=0.2)
    got = est.stream(mode="state", engine="torch").run(_obs(df))[-1][:, 0]
    window = est.stream(mode="window", engine="torch").run(_obs(df))[-1][:, 0]      # predict fits the same 14
    np.testing.assert_allclose(window, est.predict(df, engine="torch")["y"].to_numpy(), rtol=1e-6, atol=0)
    c, est.combination_ = est.combination_, None
    network = est.stream(mode="state", engine="torch").run(_obs(df))[-1][:, 0]     # the network alone
    est.combination_ = c
    y = df["y"].to_numpy()[-14:, None]
    base = ets_forecast(y, np.array([13]), 4, SEASON, 14)[0, :, 0]
    np.testing.assert_allclose(got, c["weight"] * network + (1 - c["weight"]) * base, rtol=1e-6, atol=0)


# -- the WebSocket ----------------------------------------------------------------------------------
def test_the_websocket_streams_quantiles_and_named_series(quantile_run, panel_run):
    pytest.importorskip("fastapi")
    ws_client = pytest.importorskip("websockets.sync.client")
    from serve_helpers import running_server
    df = sine_frame(n=6, period=SEASON, seed=2)
    want_q = quantile_run.stream(engine="onnx").run(_obs(df))
    want_s = panel_run.stream(engine="onnx").run(_obs(df), id="s1")
    with running_server("--run", f"quant={quantile_run.run_dir_}", "--run", f"panel={panel_run.run_dir_}") as (_, port):
        # the timeouts guard against a hang (10 s ran out when a loaded machine ran the service's handshake late)
        with ws_client.connect(f"ws://127.0.0.1:{port}/models/quant/stream", open_timeout=60) as ws:
            for k, o in enumerate(_obs(df)):
                ws.send(json.dumps(o))
                got = json.loads(ws.recv(timeout=30))
                assert got["step"] == k + 1 and got["levels"] == [0.1, 0.5, 0.9], got
                np.testing.assert_allclose(got["forecast"]["y"], want_q[k]["forecast"][:, 0], rtol=1e-6)
                np.testing.assert_allclose(got["quantiles"]["0.9"]["y"], want_q[k]["quantiles"][:, 0, 2], rtol=1e-6)
        with ws_client.connect(f"ws://127.0.0.1:{port}/models/panel/stream", open_timeout=60) as ws:
            ws.send(json.dumps(_obs(df)[0]))                             # no series named
            assert "unknown series" in json.loads(ws.recv(timeout=30))["error"]
            for k, o in enumerate(_obs(df)):
                ws.send(json.dumps({"id": "s1", **o} if k == 0 else o))  # named once, then kept
                got = json.loads(ws.recv(timeout=30))
                assert got["step"] == k + 1, got
                np.testing.assert_allclose(got["forecast"]["y"], want_s[k][:, 0], rtol=1e-6)
            ws.send(json.dumps({"op": "state"}))
            assert json.loads(ws.recv(timeout=30))["state"]["streams"]["this"]["series"] == "s1"


def test_a_net_that_reads_a_whole_window_streams_from_its_first_value(tmp_path):
    est = _fit(tmp_path, segment=12, max_epochs=1)                       # a plain run: the generic window
    assert ForecastAdapter(est).stream_extra("window") is None and ForecastAdapter(est).whole_window
    df = sine_frame(n=30, period=SEASON, seed=2)
    s = est.stream(engine="torch")
    assert s.mode == "window"
    answers = s.run(_obs(df))                                            # the first: its value repeated
    _assert_window_is_predict(est, answers, df, every=3)
    x = torch.from_numpy(est.model_inputs(df))[:1].repeat(24, 1)[None]  # [1, 24, C]
    with torch.no_grad():
        np.testing.assert_allclose(answers[0], est.to_original(est.net_(x)[0].numpy()), rtol=1e-6, atol=0)


def test_a_stream_that_names_no_series_says_the_id_is_the_streams_and_names_the_field(panel_run):
    """Over /stream a many-series run's first message without "id" was told "unknown series 'ws-0'
    ... name one of them as the stream id" with "field": "observation": the client chose neither."""
    pytest.importorskip("fastapi")
    from asgi_client import Client
    from lstmkit.deploy.server import create_app
    c = Client(create_app(panel_run.run_dir_, engine="torch"))
    ws = c.websocket()
    try:
        ws.send_text(json.dumps(_obs(sine_frame(n=1, period=SEASON))[0]))
        err = ws.receive_json()
        assert err["field"] == "id", err
        assert "(the stream's id: the message names no series in \"id\")" in err["error"], err
        ws.send_text(json.dumps({"id": "s9", "y": 1.0, "temp": 0.0}))
        assert ws.receive_json()["field"] == "id"
    finally:
        ws.close()
        c.close()


# -- a history of zeros -------------------------------------------------------------------------
def test_a_series_stream_of_zeros_forecasts_zero_as_predict_and_old_states_restore(quantile_run, panel_run):
    """predict forecasts 0 (every quantile) for a target 0 throughout its history; the stream keeps
    per target whether a value was ever nonzero (``nonzero`` in its state) and answers the same."""
    est, L = quantile_run, quantile_run.config_.lookback
    zeros = sine_frame(n=L, period=SEASON).assign(y=0.0)
    with pytest.warns(UserWarning, match="the series has only zeros in its history"):
        want = est.predict(zeros, engine="torch")
    for mode in ("window", "state"):
        s = est.stream(mode=mode, engine="torch")
        answers = s.run(_obs(zeros), id="a")
        assert all((a["forecast"] == 0).all() and (a["quantiles"] == 0).all() for a in answers), mode
        np.testing.assert_array_equal(answers[-1]["forecast"][:, 0], want["y"].to_numpy())
        state = s.state_dict()
        assert state["streams"]["a"]["nonzero"] == [0]
        t = est.stream(mode=mode, engine="torch")
        t.load_state_dict(json.loads(json.dumps(state)))
        assert (t.step({"y": 0.0, "temp": 0.1}, id="a")["forecast"] == 0).all()
        assert (t.step({"y": 0.5, "temp": 0.1}, id="a")["forecast"] != 0).all()
        del state["streams"]["a"]["nonzero"]              # saved before the flag: read from the rows kept
        t.load_state_dict(state)
        kept = len(state["streams"]["a"]["rows"])
        answer = t.step({"y": 0.0, "temp": 0.1}, id="a")["forecast"]
        assert (answer == 0).all() == (kept == L), (mode, kept)       # all L values kept: still only zeros
    s = panel_run.stream(mode="window", engine="torch")                # many series: its own flag each
    a = s.run([{"id": "s1", "y": 0.0, "temp": t} for t in zeros["temp"]], id="one")
    b = s.run([{"id": "s2", "y": 6.0 + v, "temp": t} for v, t in zip(np.sin(np.arange(L)), zeros["temp"])], id="two")
    assert (a[-1] == 0).all() and (b[-1] != 0).all()
