"""A kept update swaps a forecaster's net and the interval widths fitted for it as one pair; the service (on a real
loopback server), its ``/stream`` WebSocket and ``Forecaster.stream()`` answer from one pair, never the old net with
the new widths; evaluate and a fixed model's backtest score one pair too. Each race is forced with events: the
answering thread waits inside its network call (where the widths used to be read after it) while the main thread
keeps an update, and its answer is compared with the old and the new model's, each computed on a model of its own."""
import contextlib
import json
import threading

import numpy as np
import pandas as pd
import pytest

from lstmkit import Forecaster
from lstmkit.tasks.forecast.model import ForecastNet
from one_thread import one_thread_per_module  # noqa: F401  (autouse: one torch thread, module fixtures too)
from serve_helpers import uvicorn_here

QUICK = dict(lookback=12, horizon=2, hidden_size=8, num_layers=1, dropout=0.0, batch_size=64, lr=1e-2,
             progress="off", tensorboard=False, device="cpu", doctor=False, ensemble=1, max_epochs=3,
             samples_per_epoch=0, seed=0, combine="none", val_frac=0.3, test_frac=0.3, ets=False,
             quantiles=[0.1, 0.5, 0.9])
HISTORY = 30                                   # values one answer reads (the window streams keep the last 12)


def noise_grows(n=900, seed=0, period=12):
    """A sine with noise ten times larger after its first 40 %: the widths fitted on validation are far from 0,
    and those an update refits on the newest points are other widths."""
    rng = np.random.default_rng(seed)
    sigma = np.where(np.arange(n) < 0.4 * n, 0.1, 1.0)
    return pd.DataFrame({"y": 10 + 2 * np.sin(np.arange(n) * 2 * np.pi / period) + rng.normal(0, 1, n) * sigma})


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    data = noise_grows()
    est = Forecaster(**QUICK).fit(data, target="y")
    return data, est.save(tmp_path_factory.mktemp("snapshot") / "run")


def _keep_update(est, data):
    est.update(data.iloc[-300:], epochs=3, holdout=0.5)
    assert est.last_update_["accepted"]


def _quantiles(frame: pd.DataFrame) -> np.ndarray:
    return frame[["y_q0.1", "y_q0.5", "y_q0.9"]].to_numpy()                  # [H, 3]


def _old_and_new(run, history: list[float]):
    """The old model's and the updated model's quantiles after ``history``, each from a model of its own."""
    data, path = run
    old, new = Forecaster.load(path), Forecaster.load(path)
    _keep_update(new, data)
    frame = pd.DataFrame({"y": history})
    want_old, want_new = _quantiles(old.predict(frame)), _quantiles(new.predict(frame))
    assert new.intervals_["widths"] != old.intervals_["widths"]
    assert np.abs(want_old - want_new).max() > 0.05                            # the two states answer apart
    return want_old, want_new


@contextlib.contextmanager
def held_in_network(monkeypatch):
    """``(armed, entered, go)``: once ``armed`` is set, the first network call of a thread other than this one
    sets ``entered`` and waits for ``go`` (the racing answer, between its net and its widths)."""
    armed, entered, go, forward = threading.Event(), threading.Event(), threading.Event(), ForecastNet.forward
    main = threading.current_thread()

    def held(self, *a, **k):
        if armed.is_set() and threading.current_thread() is not main and not entered.is_set():
            entered.set()
            assert go.wait(60)
        return forward(self, *a, **k)

    monkeypatch.setattr(ForecastNet, "forward", held)
    try:
        yield armed, entered, go
    finally:
        go.set()


def test_a_kept_update_changes_the_net_and_its_widths_and_nothing_else_an_answer_reads(run):
    # what one pair must hold: the update keeps the scaling, bounds and blend as fitted (online.py), so the net and
    # its interval widths are all that a kept update changes of what predict, the service and streams read
    data, path = run
    est = Forecaster.load(path)
    before = dict(vars(est))
    _keep_update(est, data)
    changed = {k for k, v in vars(est).items() if k not in before or before[k] is not v}
    assert changed == {"net_", "intervals_", "config_", "auto_", "metrics_", "run_dir_", "lineage_", "last_update_"}
    assert est.config_ == before["config_"].__class__(**{**vars(before["config_"]), "calibrate_intervals": True})


def test_a_stream_step_racing_a_kept_update_answers_from_the_old_pair(run, monkeypatch):
    data, path = run
    history = data["y"].tolist()[-HISTORY:]
    want_old, want_new = _old_and_new(run, history)
    est = Forecaster.load(path)
    s = est.stream(engine="torch")
    s.run(history[:-1])
    got = {}
    with held_in_network(monkeypatch) as (armed, entered, go):
        armed.set()
        step = threading.Thread(target=lambda: got.update(last=s.step(history[-1])))
        step.start()
        assert entered.wait(60)
        _keep_update(est, data)                     # kept while the step is inside the old net
        go.set()
        step.join(60)
    np.testing.assert_allclose(got["last"]["quantiles"][:, 0], want_old, rtol=1e-5)
    # the stream goes on answering from the pair it was made with; one made now answers with the update's
    frame = pd.DataFrame({"y": history[1:] + [history[0]]})
    np.testing.assert_allclose(s.step(history[0])["quantiles"][:, 0], _quantiles(Forecaster.load(path).predict(frame)),
                               rtol=1e-5)
    np.testing.assert_allclose(est.stream(engine="torch").run(history)[-1]["quantiles"][:, 0], want_new, rtol=1e-5)


@pytest.mark.parametrize("hold", ["stateful", "stream_extra"])
def test_a_stream_made_while_an_update_is_kept_answers_from_one_pair(run, monkeypatch, hold):
    # the stream's net (its graph) and its widths are taken from the estimator at one moment, the adapter's pair: an
    # update kept while the stream is being made (held as it takes its graph, or before its work around the net,
    # SeriesStreams, is made, which read est.intervals_ itself then) leaves both the old model's
    from lstmkit.tasks.forecast.deploy import ForecastAdapter
    data, path = run
    history = data["y"].tolist()[-HISTORY:]
    want_old, _ = _old_and_new(run, history)
    est = Forecaster.load(path)
    entered, go, step = threading.Event(), threading.Event(), getattr(ForecastAdapter, hold)

    def held(self, *args):
        entered.set()
        assert go.wait(60)
        return step(self, *args)

    monkeypatch.setattr(ForecastAdapter, hold, held)
    got = {}
    making = threading.Thread(target=lambda: got.update(stream=est.stream(engine="torch")))
    making.start()
    try:
        assert entered.wait(60)
        _keep_update(est, data)
    finally:
        go.set()
        making.join(60)
    np.testing.assert_allclose(got["stream"].run(history)[-1]["quantiles"][:, 0], want_old, rtol=1e-5)


@contextlib.contextmanager
def served_here(path, monkeypatch):
    """``lstmkit serve`` of ``path`` (torch engine) by uvicorn on a free loopback port, in this process (so a
    test can hold its threads); yields ``(port, the served adapter)``."""
    from lstmkit.deploy import served
    from lstmkit.deploy.server import create_app
    made, adapter_for = [], served.adapter_for
    monkeypatch.setattr(served, "adapter_for", lambda r: made.append(adapter_for(r)) or made[-1])
    with uvicorn_here(create_app(path, engine="torch")) as port:
        yield port, made[0]


def _post(port: int, body) -> dict:
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/predict", body=json.dumps(body), headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    out = json.loads(resp.read())
    conn.close()
    assert resp.status == 200, out
    return out


def _answered(quantiles: dict) -> np.ndarray:
    return np.array([quantiles[q]["y"] for q in ("0.1", "0.5", "0.9")]).T      # [H, 3]


def test_a_service_request_racing_a_kept_update_answers_from_the_old_pair(run, monkeypatch):
    pytest.importorskip("uvicorn")
    data, path = run
    history = data["y"].tolist()[-HISTORY:]
    want_old, _ = _old_and_new(run, history)
    with served_here(path, monkeypatch) as (port, adapter), held_in_network(monkeypatch) as (armed, entered, go):
        body = {"instances": [{"y": history}]}
        got = {}
        armed.set()
        client = threading.Thread(target=lambda: got.update(answer=_post(port, body)))
        client.start()
        assert entered.wait(60)
        _keep_update(adapter.est, data)              # kept while the request is inside the served net
        go.set()
        client.join(60)
        np.testing.assert_allclose(_answered(got["answer"]["quantiles"][0]), want_old, rtol=1e-5)
        # the service answers from the pair it started with (its net is the one it loaded): still the old model
        np.testing.assert_allclose(_answered(_post(port, body)["quantiles"][0]), want_old, rtol=1e-5)


def test_a_websocket_stream_step_racing_a_kept_update_answers_from_the_old_pair(run, monkeypatch):
    pytest.importorskip("uvicorn")
    ws_client = pytest.importorskip("websockets.sync.client")
    data, path = run
    history = data["y"].tolist()[-HISTORY:]
    want_old, _ = _old_and_new(run, history)
    with served_here(path, monkeypatch) as (port, adapter), held_in_network(monkeypatch) as (armed, entered, go), \
            ws_client.connect(f"ws://127.0.0.1:{port}/stream", open_timeout=30) as ws:
        for v in history[:-1]:
            ws.send(json.dumps({"y": v}))
            assert "forecast" in json.loads(ws.recv(timeout=30))
        armed.set()
        ws.send(json.dumps({"y": history[-1]}))
        assert entered.wait(60)
        _keep_update(adapter.est, data)              # kept while the step is inside the stream's net
        go.set()
        answer = json.loads(ws.recv(timeout=60))
    assert answer["step"] == HISTORY
    np.testing.assert_allclose(_answered(answer["quantiles"]), want_old, rtol=1e-5)


@pytest.mark.parametrize("use", ["evaluate", "backtest"])
def test_an_evaluation_racing_a_kept_update_scores_one_pair(run, monkeypatch, use):
    # evaluate and a fixed model's backtest read the net and its widths as one pair too: their interval metrics
    # (wQL, CRPS, coverage) are the old model's, never the old net's quantiles moved by the new widths
    data, path = run
    part = data.iloc[-240:]
    scored = {"evaluate": lambda est: est.evaluate(part)["lstm"],
              "backtest": lambda est: est.backtest(part, folds=3)["aggregate"]["lstm"]}[use]
    old, new = Forecaster.load(path), Forecaster.load(path)
    _keep_update(new, data)
    want_old, want_new = scored(old), scored(new)
    assert abs(want_old["wQL"] - want_new["wQL"]) > 1e-4
    est, got = Forecaster.load(path), {}
    with held_in_network(monkeypatch) as (armed, entered, go):
        armed.set()
        scoring = threading.Thread(target=lambda: got.update(metrics=scored(est)))
        scoring.start()
        assert entered.wait(60)
        _keep_update(est, data)                     # kept while the scoring is inside the old net
        go.set()
        scoring.join(60)
    assert got["metrics"] == pytest.approx(want_old, rel=1e-6)


def _made_mid_swap(est, new, make, reached: threading.Event | None = None, wait: float = 1.0):
    """``make()``, called while another thread is halfway through swapping ``new``'s pair into ``est`` under SWAP
    (the new widths set, the net not yet), as a kept update swaps them; that thread ends the swap once ``reached``
    is set (by what ``make`` reached, had it not waited for SWAP), after ``wait`` seconds, or once ``make`` is done."""
    from lstmkit.tasks.forecast.intervals import SWAP
    inside, reached = threading.Event(), reached or threading.Event()

    def swap():
        with SWAP:
            est.intervals_ = new.intervals_
            inside.set()
            reached.wait(wait)
            est.net_ = new.net_

    swapping = threading.Thread(target=swap)
    swapping.start()
    try:
        assert inside.wait(60)
        return make()
    finally:
        reached.set()
        swapping.join(60)


def test_a_fixed_model_backtest_made_while_an_update_swaps_the_pair_scores_both_from_one_side_of_it(run, monkeypatch):
    # a backtest takes its net and the widths for it under SWAP (fastpath.fold_forecasts): one made while an update
    # is halfway through its swap (the new widths set, the net not yet) waits for it and scores the new pair; untaken,
    # it scored the old net's quantiles moved by the new widths (its engine's net cached from a backtest before)
    data, path = run
    part = data.iloc[-240:]
    scored = lambda est: est.backtest(part, folds=3)["aggregate"]["lstm"]     # noqa: E731
    est, new = Forecaster.load(path), Forecaster.load(path)
    _keep_update(new, data)
    want_old, want_new = scored(est), scored(new)          # est's engine net cached: read again without a lock
    assert abs(want_old["wQL"] - want_new["wQL"]) > 1e-4
    in_network, forward = threading.Event(), ForecastNet.forward

    def marked(self, *a, **k):
        in_network.set()
        return forward(self, *a, **k)

    monkeypatch.setattr(ForecastNet, "forward", marked)
    # a backtest that did not wait for the swap reaches its net before the swap ends
    got = _made_mid_swap(est, new, lambda: scored(est), reached=in_network, wait=2.0)
    assert got == pytest.approx(want_new, rel=1e-6)


def test_an_adapter_that_keeps_an_update_answers_and_updates_on_from_the_pair_it_kept_fitted_for_it(run):
    # the service and streams answer from their adapter's pair, and a further update through the same adapter
    # fine-tunes its net: after a kept update, that is the kept net with the widths refitted for it
    from lstmkit.deploy.online import fine_tune
    from lstmkit.tasks.forecast.deploy import ForecastAdapter
    data, path = run
    est = Forecaster.load(path)
    adapter = ForecastAdapter(est)
    old_net, old_widths = adapter.net, adapter.widths
    assert fine_tune(adapter, data.iloc[-300:], epochs=3, holdout=0.5)["accepted"]
    assert est.net_ is not old_net and est.intervals_ != old_widths
    assert adapter.net is est.net_ and adapter.widths is est.intervals_
    # the widths kept are the kept net's on the held-out windows, not the old net's there
    held_out = adapter._held_out
    assert est._interval_record(*held_out, net=est.net_, part="held-out")[0] == est.intervals_
    assert est._interval_record(*held_out, net=old_net, part="held-out")[0] != est.intervals_


def test_an_adapter_made_while_an_update_swaps_the_pair_takes_both_from_one_side_of_it(run):
    # an update halfway through its swap (the new widths set, the net not yet) holds SWAP: an adapter made then
    # waits for it and takes the new pair (untaken, it took the old net with the new net's widths)
    from lstmkit.tasks.forecast.deploy import ForecastAdapter
    data, path = run
    est, new = Forecaster.load(path), Forecaster.load(path)
    _keep_update(new, data)
    adapter = _made_mid_swap(est, new, lambda: ForecastAdapter(est))
    assert adapter.net is new.net_ and adapter.widths is new.intervals_
