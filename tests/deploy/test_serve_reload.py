"""``lstmkit serve`` notices a new model kept in a run folder it serves (a ``load(run).update(new).save(run)``, files
copied over it, a link turned to another run) and swaps to it between requests, the old model answering until the
new one has loaded; a torn or corrupt model, or one of another kind, never replaces a good one (the old one goes on,
/health and /models say why); a stream opened before the swap keeps the model it opened with. A real loopback
server (uvicorn in a thread of this process), two tiny absolute-mode forecasters trained once for the module."""
import contextlib
import json
import os
import shutil
import signal
import time

import numpy as np
import pandas as pd
import pytest

from lstmkit import Forecaster
from lstmkit.deploy import reload
from lstmkit.errors import LstmkitError
from lstmkit.runs import META_FILE, WEIGHTS_FILE, weights_fingerprint
from one_thread import one_thread_per_module  # noqa: F401  (autouse: one torch thread, module fixtures too)
from serve_helpers import StandInModel as _Fake, call_json, running_server, uvicorn_here

pytest.importorskip("uvicorn")

QUICK = dict(lookback=12, horizon=2, hidden_size=8, num_layers=1, dropout=0.0, batch_size=64, lr=1e-2,
             progress="off", tensorboard=False, device="cpu", doctor=False, ensemble=1, max_epochs=3,
             samples_per_epoch=0, seed=0, combine="none", val_frac=0.3, test_frac=0.3, ets=False, relative=False,
             quantiles=[0.1, 0.5, 0.9], deseason=0, log=False, segment=0, highway=0)
WATCH = 0.1                                    # seconds between looks at the folder: the tests wait for little


def noise_grows(n=900, seed=0, period=12):
    """A sine with noise ten times larger after its first 40 %: an update on the newest points is kept."""
    rng = np.random.default_rng(seed)
    sigma = np.where(np.arange(n) < 0.4 * n, 0.1, 1.0)
    return pd.DataFrame({"y": 10 + 2 * np.sin(np.arange(n) * 2 * np.pi / period) + rng.normal(0, 1, n) * sigma})


HISTORY = noise_grows()["y"].tolist()[-30:]     # what each /predict sends: the data's newest 30 values


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """``(data, old run, other run of the same kind, run of another kind)``: two state-carrying forecasters of
    one series that answer apart (other seeds), and one that also reads a column ``temp``."""
    data, root = noise_grows(), tmp_path_factory.mktemp("reload")
    old = Forecaster(**QUICK).fit(data, target="y").save(root / "old")
    other = Forecaster(**{**QUICK, "seed": 1}).fit(data, target="y").save(root / "other")
    covariate = data.assign(temp=np.cos(np.arange(len(data)) / 5))
    wider = Forecaster(**QUICK).fit(covariate, target="y", features="temp").save(root / "wider")
    bigger = Forecaster(**{**QUICK, "hidden_size": 12, "max_epochs": 1}).fit(data, target="y").save(root / "bigger")
    return data, old, other, wider, bigger


@pytest.fixture(autouse=True)
def _quick_settle(monkeypatch):
    monkeypatch.setattr(reload, "SETTLE", 0.05)
    monkeypatch.setattr(reload, "PATIENCE", 0.3)     # weights that do not match lstmkit.json: no save follows here


@contextlib.contextmanager
def serving(path, watch=WATCH):
    """``lstmkit serve`` of ``path`` (torch engine) on a loopback port, in this process; yields the port and the
    lines the service said of swaps and refusals."""
    from lstmkit.deploy.server import create_app
    said: list[tuple[str, bool]] = []
    with uvicorn_here(create_app(path, engine="torch", watch=watch,
                                 say=lambda line, refused: said.append((line, refused)))) as port:
        yield port, said


def _call(port, path, body=None):
    """``GET path`` (``POST`` with a body): its JSON answer, a 200."""
    status, out = call_json(port, path, body)
    assert status == 200, out
    return out


def _forecast(port, history=None) -> list[float]:
    """The service's forecast after ``history`` (default: :data:`HISTORY`)."""
    return _call(port, "/predict", {"instances": [{"y": history or HISTORY}]})["predictions"][0]["y"]


def _until(what, deadline_s=120.0):
    """Call ``what()`` until it is truthy (each call a request, which is what makes the service look); the deadline
    is a guard against a hang, not a measure: a loaded CI machine takes many times as long to load a model."""
    deadline = time.monotonic() + deadline_s
    while True:
        got = what()
        if got:
            return got
        assert time.monotonic() < deadline, "the service never got there"
        time.sleep(0.05)


def _refused_then_served(port, path, other, before):
    """Once /health says the folder's model was refused, ``other``'s model copied over ``path`` is served."""
    _until(lambda: "warnings" in _call(port, "/health"))
    _write_over(other, path)
    _until(lambda: _forecast(port) != before)


@pytest.fixture
def path(runs, tmp_path):
    """A copy of the old run, which a test serves and writes over."""
    return shutil.copytree(runs[1], tmp_path / "served")


def _write_over(src, dst, names=(WEIGHTS_FILE, META_FILE)):
    """Copy ``src``'s model over ``dst``'s as lstmkit's save writes it: each file by rename, the weights first,
    ``lstmkit.json`` last (``names``: the files of it still to write)."""
    for name in names:
        _replace(src, dst, name)


def test_a_kept_update_saved_into_the_served_run_is_answered_after_the_next_look(runs, path):
    data = runs[0]
    with serving(path) as (port, said):
        before = _forecast(port)
        first = _call(port, "/model")
        assert first["reload"]["reloads"] == 0 and first["fingerprint"] == weights_fingerprint(path)
        est = Forecaster.load(path)                     # a model of its own: the service shares nothing with it
        est.update(data.iloc[-300:], epochs=3, holdout=0.5)
        assert est.last_update_["accepted"]
        est.save(path)                                   # what `load(run).update(new).save(run)` writes
        want = est.predict(pd.DataFrame({"y": HISTORY}))["y"].to_numpy()
        assert np.abs(want - before).max() > 1e-3       # the two models answer apart
        # every request meanwhile is answered (200: _call asserts it), by one model or the other
        after = _until(lambda: (lambda y: y if np.abs(np.subtract(y, before)).max() > 1e-6 else None)(
            _forecast(port)))
        np.testing.assert_allclose(after, want, rtol=1e-5)
        info = _call(port, "/model")
        assert info["fingerprint"] == weights_fingerprint(path) != first["fingerprint"]
        assert info["reload"]["reloads"] == 1 and info["reload"]["refused"] is None
        assert info["written"] == json.loads((path / META_FILE).read_text())["written"]
        assert _call(port, "/health") == {"status": "ok"}
    (line, refused), = said
    assert not refused and first["fingerprint"] in line and info["fingerprint"] in line


@pytest.mark.parametrize("damage", ["truncated weights", "not a run"])
def test_a_torn_or_corrupt_model_never_replaces_the_good_one(runs, path, damage):
    other = runs[2]
    with serving(path) as (port, said):
        before = _forecast(port)
        if damage == "truncated weights":       # the weights half written, lstmkit.json still the old one's
            body = (other / WEIGHTS_FILE).read_bytes()
            (path / WEIGHTS_FILE).write_bytes(body[: len(body) // 2])
        else:                                   # a writer's lstmkit.json torn mid-way
            text = (other / META_FILE).read_text()
            (path / META_FILE).write_text(text[: len(text) // 2])
        health = _until(lambda: (lambda h: h if "warnings" in h else None)(_call(port, "/health")))
        assert health["status"] == "ok" and "'served'" in health["warnings"][0]
        assert "still serving" in health["warnings"][0]
        refused = _call(port, "/model")["reload"]["refused"]
        assert refused["problem"] and refused["problem"] in health["warnings"][0]
        assert _forecast(port) == before            # the old model answers on
        assert len(said) == 1 and said[0][1] and "was not loaded" in said[0][0]
        # it is looked at again once the folder changes: a whole model copied over it is served
        _refused_then_served(port, path, other, before)
        info = _call(port, "/model")
        assert info["fingerprint"] == weights_fingerprint(other) and info["reload"]["refused"] is None
        assert _call(port, "/health") == {"status": "ok"}


@pytest.mark.parametrize("damage", ["header past the end", "header not JSON"])
def test_weights_whose_header_is_unreadable_are_refused_without_waiting_for_a_save(runs, path, monkeypatch, damage):
    """Weights that do not match lstmkit.json's checksum are waited for (PATIENCE: the rest of a save may come, and
    a save's new weights differ from damaged ones in no byte the service can tell apart), but a file whose
    safetensors header cannot be read is no save under way (every lstmkit writer writes a file whole, by rename):
    it is refused once the folder holds still, not PATIENCE later."""
    monkeypatch.setattr(reload, "PATIENCE", 600.0)      # far past the deadline below: waited for, it fails
    with serving(path) as (port, said):
        before = _forecast(port)
        body = (path / WEIGHTS_FILE).read_bytes()
        n = int.from_bytes(body[:8], "little")
        (path / WEIGHTS_FILE).write_bytes(b"\xff" * 8 + body[8:] if damage == "header past the end"
                                          else body[:8] + b"\xff" * n + body[8 + n:])
        health = _until(lambda: (lambda h: h if "warnings" in h else None)(_call(port, "/health")), deadline_s=120.0)
        assert "is corrupt or truncated" in health["warnings"][0] and "held still" not in health["warnings"][0]
        assert _forecast(port) == before and len(said) == 1 and said[0][1]


def test_the_description_routes_look_at_the_folder_themselves_no_predict_needed(runs, path):
    # GET /model (and /models/{name}, /models, /health) look when due, as /predict does: a client that only reads
    # the description sees the new model once it loaded, without a predict in between
    other = runs[2]
    with serving(path) as (port, said):
        first = _call(port, "/model")["fingerprint"]
        _write_over(other, path)
        info = _until(lambda: (lambda m: m if m["fingerprint"] != first else None)(_call(port, "/model")))
        assert info["fingerprint"] == weights_fingerprint(other) and info["reload"]["reloads"] == 1
        listed, = _call(port, "/models")["models"]
        assert listed["fingerprint"] == info["fingerprint"] == _call(port, "/models/served")["fingerprint"]
    assert [refused for _, refused in said] == [False]


def _replace(src, dst, name):
    """``src``'s file ``name`` put in ``dst`` by rename, as lstmkit writes a file."""
    tmp = dst / f".{name}.tmp"
    shutil.copyfile(src / name, tmp)
    os.replace(tmp, dst / name)


def _remove(src, dst, name):
    """``dst``'s file ``name`` gone for a while (a copy that deletes, then writes; ``src``: unused)."""
    (dst / name).unlink()


# a save that pauses 0.6 s (12 x SETTLE here) half way, as each writer can leave a folder, then goes on with the other
# run's model (runs[2]: the same shapes, runs[4]: another hidden size): lstmkit's save writes the weights, then
# lstmkit.json (hashing large weights takes a while), and the weights alone do not match the old lstmkit.json's
# checksum, or, of a retrain with another hidden size, its shapes (checked before the checksum); a copy that writes
# lstmkit.json first; a file deleted, then written. Each is a save under way, not a corrupt model
HALF_SAVES = {
    "weights first": (2, _replace, WEIGHTS_FILE),
    "weights of other shapes first": (4, _replace, WEIGHTS_FILE),
    "lstmkit.json of other shapes first": (4, _replace, META_FILE),
    "weights missing a while": (4, _remove, WEIGHTS_FILE),
    "lstmkit.json missing a while": (4, _remove, META_FILE),
}


@pytest.mark.parametrize("half", HALF_SAVES)
def test_a_save_that_pauses_half_way_is_served_without_a_warning(runs, path, monkeypatch, half):
    monkeypatch.setattr(reload, "PATIENCE", 120.0)     # a guard: the rest of the save comes 0.6 s on, however slowly
    source, write, name = HALF_SAVES[half]
    other = runs[source]
    with serving(path) as (port, said):
        before = _forecast(port)
        write(other, path, name)
        deadline = time.monotonic() + 0.6
        while time.monotonic() < deadline:             # requests meanwhile make the service look
            assert _call(port, "/health") == {"status": "ok"} and _forecast(port) == before
            time.sleep(0.05)
        # the rest of the save: the files not written yet, so that only its last write makes a whole model. Writing
        # both again made one whole after lstmkit.json's half ("lstmkit.json of other shapes first"): a look that
        # settled before the second rename (this process held up 0.05 s between the two on a busy machine) swapped
        # it in, and the second rename was a second swap
        _write_over(other, path, [n for n in (WEIGHTS_FILE, META_FILE) if write is _remove or n != name])
        _until(lambda: _forecast(port) != before)
        info = _call(port, "/model")
        assert info["fingerprint"] == weights_fingerprint(other) and info["reload"]["refused"] is None
    assert [refused for _, refused in said] == [False], said


@pytest.mark.parametrize("half", ["weights of other shapes", "weights missing"])
def test_a_folder_left_half_saved_past_the_patience_is_refused_with_one_warning(runs, path, half):
    # PATIENCE 0.3 s here: the folder holds still that long with files that do not make one model, which is no save
    bigger = runs[4]
    with serving(path) as (port, said):
        before = _forecast(port)
        (_replace if half == "weights of other shapes" else _remove)(bigger, path, WEIGHTS_FILE)
        health = _until(lambda: (lambda h: h if "warnings" in h else None)(_call(port, "/health")))
        warning = health["warnings"][0]
        assert "held still 0.3 s more" in warning and "still serving" in warning
        assert ("does not match the model in lstmkit.json" if half == "weights of other shapes"
                else "weights file missing") in warning
        assert _forecast(port) == before and len(said) == 1 and said[0][1]
        _refused_then_served(port, path, bigger, before)
    assert [refused for _, refused in said] == [True, False]


def test_a_stream_opened_before_the_swap_steps_the_model_it_opened_with(runs, path):
    ws_client = pytest.importorskip("websockets.sync.client")
    other, history = runs[2], HISTORY[-24:]

    def steps(ws, values):
        out = []
        for v in values:
            ws.send(json.dumps({"y": v}))
            answer = json.loads(ws.recv(timeout=30))
            assert "forecast" in answer, answer
            out.append(answer["forecast"]["y"])
        return out

    with serving(path) as (port, _), \
            ws_client.connect(f"ws://127.0.0.1:{port}/stream", open_timeout=30) as across, \
            ws_client.connect(f"ws://127.0.0.1:{port}/stream", open_timeout=30) as reference:
        assert _call(port, "/model")["stream_mode"] == "state"       # its state comes from the network
        want_old = steps(reference, history)                # the old model, all of it before the swap
        got = steps(across, history[:12])
        before = _forecast(port, history)
        _write_over(other, path)
        _until(lambda: _forecast(port, history) != before)  # swapped: /predict answers from the other model
        assert _call(port, "/model")["open_streams"] == 2
        got += steps(across, history[12:])                  # the stream opened before goes on with the old one
        with ws_client.connect(f"ws://127.0.0.1:{port}/stream", open_timeout=30) as fresh:
            want_new = steps(fresh, history)                # a stream opened after steps the new one
    assert got == want_old
    assert np.abs(np.subtract(want_new[-1], want_old[-1])).max() > 1e-4


def test_a_link_turned_to_another_run_is_served(runs, tmp_path):
    _, old, other, *_ = runs
    current = tmp_path / "current"
    current.symlink_to(old, target_is_directory=True)
    def turn(to):
        turning = tmp_path / "turning"
        turning.symlink_to(to, target_is_directory=True)
        os.replace(turning, current)                        # ln -sfn: the link changes at once

    with serving(current) as (port, said):
        before = _forecast(port)
        (tmp_path / "empty").mkdir()
        turn(tmp_path / "empty")                            # a folder holding no run: refused at once, said
        warning = _until(lambda: _call(port, "/health").get("warnings"))[0]
        assert _forecast(port) == before and "held still" not in warning      # no save under way: another folder
        turn(old)                                           # turned back: the model served is the folder's again
        _until(lambda: _call(port, "/health") == {"status": "ok"})
        assert _call(port, "/model")["reload"]["reloads"] == 0
        turn(other)
        _until(lambda: _forecast(port) != before)
        info = _call(port, "/model")
        assert info["fingerprint"] == weights_fingerprint(other) and info["run"] == str(other.resolve())
    assert [refused for _, refused in said] == [True, False]


def test_a_model_that_takes_other_requests_is_refused_until_a_restart(runs, path):
    wider = runs[3]
    with serving(path) as (port, said):
        before = _forecast(port)
        _write_over(wider, path)                            # reads a column 'temp' the routes do not take
        health = _until(lambda: (lambda h: h if "warnings" in h else None)(_call(port, "/health")))
        assert "takes other requests" in health["warnings"][0] and "restart the service" in health["warnings"][0]
        assert _forecast(port) == before
    assert [refused for _, refused in said] == [True]


def test_watch_0_serves_the_model_loaded_at_start_for_good(runs, path, monkeypatch):
    other = runs[2]
    looked = []
    monkeypatch.setattr(reload, "run_stamp", lambda run: looked.append(run) or ("never",))
    with serving(path, watch=0) as (port, _):
        before = _forecast(port)
        _write_over(other, path)
        for _ in range(3):
            assert _forecast(port) == before
            time.sleep(0.1)
        assert _call(port, "/model")["reload"]["watch_s"] == 0
    assert len(looked) == 1                                 # the stamp of the start, never a look after it


@pytest.mark.parametrize("watch", [-1, float("nan"), True, "2"])
def test_a_watch_that_is_no_count_of_seconds_is_refused_before_any_run_loads(tmp_path, watch):
    from lstmkit.deploy.server import serve
    with pytest.raises(LstmkitError, match="watch must be a number of seconds") as e:
        serve(tmp_path / "no_such_run", watch=watch)
    assert "watch" in e.value.hint


def test_lstmkit_serve_says_each_refused_and_each_served_model_in_one_line(runs, path):
    # the command line's --watch, and the lines an operator reads on the service's standard error
    other = runs[2]
    with running_server("--run", path, "--engine", "torch", "--watch", "0.1") as (proc, port):
        before = _forecast(port)
        (path / META_FILE).write_text("{")                  # torn (weights that do not match would be waited
                                                            # for PATIENCE, 30 s in this process of its own)
        _refused_then_served(port, path, other, before)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    lines = err.splitlines()
    assert proc.returncode == 0 and len(lines) == 2, err
    assert lines[0].startswith("warning: model 'served': the run folder ") and "was not loaded" in lines[0]
    assert lines[1].startswith("model 'served': serving the new model in ")
    assert weights_fingerprint(other) in lines[1]


def _fake_run(folder, load, conflict=lambda old, new: None):
    folder.mkdir(exist_ok=True)
    (folder / META_FILE).write_text("0")
    return reload.ServedRun("m", folder, load, conflict, watch=0.01, say=lambda line, refused: None)


def _saved_again(folder):
    """A new lstmkit.json in ``folder``, by rename as lstmkit writes it (another inode). Written in place, the same
    size, within a millisecond of the one before, it could keep the file's whole stamp: a kernel with coarse file
    times (most before Linux 6.13) gives both writes the clock tick's time, and no look can tell them apart."""
    tmp = folder / f".{META_FILE}.tmp"
    tmp.write_text("1")
    os.replace(tmp, folder / META_FILE)


def _loaded(served, deadline_s=60.0):
    """Look now, and wait for what the look started."""
    served.check()
    deadline = time.monotonic() + deadline_s
    while served._loading:
        assert time.monotonic() < deadline, "the load never ended"
        time.sleep(0.01)


def test_a_folder_written_while_its_model_loads_is_loaded_again_not_refused(tmp_path):
    # a save caught half way fails to load; the stamp moved meanwhile, so what is there once it holds still is loaded
    made = []

    def load():
        made.append(_Fake(len(made)))
        if len(made) == 2:                  # the first look: the writer goes on while it loads, and it fails
            (tmp_path / "m" / WEIGHTS_FILE).write_text("the rest of the save")
            raise LstmkitError("weights do not match lstmkit.json", "wait for the save")
        return made[-1]

    served = _fake_run(tmp_path / "m", load)
    _saved_again(tmp_path / "m")
    _loaded(served)
    assert len(made) == 3 and served.model is made[2] and served.refused is None and served.reloads == 1
    assert made[0].closed and not made[2].closed         # the replaced model let go (its batcher's thread)


def test_a_model_for_other_routes_is_refused_and_let_go(tmp_path):
    made = []
    served = _fake_run(tmp_path / "m", lambda: made.append(_Fake(len(made))) or made[-1],
                       conflict=lambda old, new: "it is a classify model")
    _saved_again(tmp_path / "m")
    _loaded(served)
    assert served.model is made[0] and made[1].closed and not made[0].closed
    assert served.refused["problem"] == "it is a classify model — restart the service to serve it"
    _loaded(served)                                       # the same folder: not loaded again
    assert len(made) == 2


def test_of_several_runs_only_the_one_whose_folder_changed_is_swapped(runs, path, tmp_path):
    from lstmkit.deploy.server import create_app
    other = runs[2]
    still = shutil.copytree(runs[1], tmp_path / "still")
    body = {"instances": [{"y": HISTORY}]}
    with uvicorn_here(create_app({"a": path, "b": still}, engine="torch", watch=WATCH)) as port:
        before = {name: _call(port, f"/models/{name}/predict", body)["predictions"] for name in "ab"}
        _write_over(other, path)
        _until(lambda: _call(port, "/models/a/predict", body)["predictions"] != before["a"])
        assert _call(port, "/models/b/predict", body)["predictions"] == before["b"]
        listed = {m["name"]: m for m in _call(port, "/models")["models"]}
    assert listed["a"]["reload"]["reloads"] == 1 and listed["a"]["fingerprint"] == weights_fingerprint(other)
    assert listed["b"]["reload"]["reloads"] == 0 and listed["b"]["reload"]["refused"] is None


def test_a_load_failing_outside_lstmkit_is_no_save_under_way(tmp_path):
    """A new model whose load fails with an error of its own (an OS error, a file torn by another writer) is no
    save between lstmkit's two writes: it is refused as it is, not waited for; only WeightsMismatch is waited for."""
    from lstmkit.runs import WeightsMismatch
    outcomes = iter([object(), OSError("torn"), LstmkitError("not a run", "pass a run"),
                     WeightsMismatch("weights differ", "wait")])

    def load():
        got = next(outcomes)
        if isinstance(got, Exception):
            raise got
        return got
    served = reload.ServedRun("m", tmp_path, load, lambda old, new: None, watch=0)
    assert served._try_load() == (None, "OSError: torn", False)
    assert served._try_load()[2] is False
    assert served._try_load()[2] is True
