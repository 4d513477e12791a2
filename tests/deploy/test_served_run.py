"""ServedRun on its own, with stand-in loaders and a stand-in folder stamp (no server, no training): when it looks at
the run folder, that one load at a time runs, what it loads once the folder holds still, what it lets go, what it
says; and what makes a newer model unfit for the routes built at start. (``test_serve_reload.py`` serves real runs.)"""
import contextlib
import logging
import os
import threading
import time
import types

import pytest

from lstmkit.deploy import reload
from lstmkit.runs import META_FILE, WEIGHTS_FILE
from serve_helpers import StandInModel as _Fake

pytest.importorskip("fastapi")


class _Folder:
    """A run folder's stamp as the test sets it: ``run_stamp`` of any path answers ``now`` (as its lstmkit.json and
    weights, no other file); while ``then`` holds stamps, each look moves ``now`` to the next of them after answering
    (a writer going on between looks)."""

    def __init__(self, now="A"):
        self.now, self.then, self.looks, self.meet = now, [], 0, None

    def __call__(self, run):
        self.looks += 1
        if self.meet is not None:           # a look waits a little for a second one to come in beside it
            with contextlib.suppress(threading.BrokenBarrierError):
                self.meet.wait(0.3)
        out = reload.RunStamp("folder", {name: self.now if name in (META_FILE, WEIGHTS_FILE) else None
                                         for name in reload.MODEL_FILES})      # run_stamp's shape
        if self.then:
            self.now = self.then.pop(0)
        return out


@pytest.fixture
def folder(monkeypatch):
    f = _Folder()
    monkeypatch.setattr(reload, "run_stamp", f)
    monkeypatch.setattr(reload, "SETTLE", 0.02)
    return f


def _served(load=None, conflict=lambda old, new: None, watch=0.01, say=None):
    made = []

    def default_load():
        made.append(_Fake(len(made)))
        return made[-1]
    served = reload.ServedRun("m", "/no/such/run", load or default_load, conflict, watch=watch,
                              say=say or (lambda line, refused: None))
    return served, made


def _settle(served, deadline_s=60.0):
    """Wait for the load a look started (the deadline guards against a hang: a busy machine is slow)."""
    deadline = time.monotonic() + deadline_s
    while served._loading:
        assert time.monotonic() < deadline, "the load never ended"
        time.sleep(0.005)


def test_the_folder_is_looked_at_once_per_watch_seconds_not_on_every_request(folder, monkeypatch):
    # the service's clock moves only as the test says: on the real one, a busy machine that held this test up
    # 0.5 s between the start and the first requests made them due (a look where the test wanted none)
    now = [1000.0]
    monkeypatch.setattr(reload, "time", types.SimpleNamespace(monotonic=lambda: now[0], sleep=time.sleep))
    served, _ = _served(watch=0.5)
    start = folder.looks                                # the stamp taken at start
    for _ in range(5):
        served.current()
    assert folder.looks == start                        # not due yet
    now[0] += 0.25
    served.current()
    assert folder.looks == start                        # half way: still not due
    now[0] += 0.25
    served.current()
    assert folder.looks == start + 1                    # watch seconds on: due, one look
    for _ in range(5):
        served.current()
    assert folder.looks == start + 1                    # the next one is watch seconds after it
    _settle(served)


def test_one_load_at_a_time_however_many_requests_look(folder):
    go, loads = threading.Event(), []

    def load():
        loads.append(_Fake(len(loads)))
        if len(loads) > 1:
            assert go.wait(60)                          # the new model loads slowly
        return loads[-1]
    served, _ = _served(load)
    folder.now = "B"
    assert served.check() is True                       # a load started
    barrier, said = threading.Barrier(8), []

    def look():
        barrier.wait()
        said.append(served.check())
    lookers = [threading.Thread(target=look) for _ in range(8)]
    for t in lookers:
        t.start()
    for t in lookers:
        t.join(60)
    assert said == [True] * 8                           # each told a load is under way, none started another
    go.set()
    _settle(served)
    assert len(loads) == 2 and served.model is loads[1] and served.reloads == 1
    assert served.check() is False                      # nothing new since


def test_two_requests_that_look_at_the_same_moment_start_one_load(folder):
    made = []

    def load():                                         # a model takes a while to load
        made.append(_Fake(len(made)))
        time.sleep(0.2 if len(made) > 1 else 0)
        return made[-1]
    served, _ = _served(load)
    folder.now, folder.meet = "B", threading.Barrier(2)
    lookers = [threading.Thread(target=served.check) for _ in range(2)]
    for t in lookers:
        t.start()
    for t in lookers:
        t.join(10)
    folder.meet.abort()                                 # the loads' own looks do not wait
    _settle(served)
    time.sleep(0.1)
    _settle(served)
    assert len(made) == 2 and served.model is made[1] and served.reloads == 1


def test_a_folder_changed_while_the_model_was_loading_at_start_is_loaded_again(folder):
    made = []

    def load():                                         # a save lands while the service starts
        made.append(_Fake(len(made)))
        if len(made) == 1:
            folder.now = "B"
        return made[-1]
    served, _ = _served(load)
    assert served.check() is True
    _settle(served)
    assert served.model is made[1] and served.reloads == 1


def test_a_folder_that_changes_and_changes_back_before_it_settles_is_not_loaded(folder):
    served, made = _served()
    folder.now, folder.then = "B", ["A"]                # the look sees B; once settled it is A again
    assert served.check() is True
    _settle(served)
    assert len(made) == 1 and served.model is made[0] and served.reloads == 0 and served.refused is None


def test_a_load_waits_for_the_folder_to_hold_still_and_loads_what_is_there_then(folder, monkeypatch):
    monkeypatch.setattr(reload, "SETTLE", 0.2)
    served, made = _served()
    folder.now, folder.then = "B", ["C"]                # the look sees B, the first look after it C: still written
    began = time.monotonic()
    served.check()
    _settle(served)
    assert time.monotonic() - began >= 2 * 0.2          # C held still for SETTLE before it was loaded
    assert len(made) == 2 and served.model is made[1] and served.reloads == 1


def test_a_model_loaded_while_the_folder_changed_again_is_let_go_and_the_newer_one_served(folder):
    made = []

    def load():
        made.append(_Fake(len(made)))
        if len(made) == 2:                              # written to again while this one loaded
            folder.now = "C"
        return made[-1]
    served, _ = _served(load)
    folder.now = "B"
    served.check()
    _settle(served)
    assert len(made) == 3 and served.model is made[2] and served.reloads == 1
    assert made[1].closed and made[0].closed and not made[2].closed


def test_a_conflict_check_that_fails_refuses_the_model_and_the_old_one_goes_on(folder):
    def conflict(old, new):
        raise RuntimeError("schemas went wrong")
    served, made = _served(conflict=conflict)
    folder.now = "B"
    served.check()
    _settle(served)
    assert served.model is made[0] and served.reloads == 0
    assert served.refused["problem"] == "RuntimeError: schemas went wrong"
    assert served.check() is False                      # the same folder is not loaded again


def test_the_conflict_check_is_asked_of_the_served_model_then_the_new_one(folder):
    asked = []
    served, made = _served(conflict=lambda old, new: asked.append((old, new)))
    folder.now = "B"
    served.check()
    _settle(served)
    assert asked == [(made[0], made[1])]


def test_describe_says_when_the_served_model_was_loaded_and_when_a_newer_one_was_refused(folder, monkeypatch):
    clock = iter(f"2026-12-07T09:0{k}:00+00:00" for k in range(10))
    monkeypatch.setattr(reload, "now_stamp", lambda: next(clock))
    refuse = [True]
    served, made = _served(conflict=lambda old, new: "it is a classify model" if refuse[0] else None)
    started = served.describe()["reload"]
    assert started == {"watch_s": 0.01, "loaded": "2026-12-07T09:00:00+00:00", "reloads": 0, "refused": None}
    folder.now = "B"
    served.check()
    _settle(served)
    refused = served.describe()["reload"]["refused"]
    assert refused == {"problem": "it is a classify model — restart the service to serve it",
                       "seen": "2026-12-07T09:01:00+00:00"}
    refuse[0], folder.now = False, "C"
    served.check()
    _settle(served)
    after = served.describe()
    assert after["fingerprint"] == "w2" and after["reload"] == {
        "watch_s": 0.01, "loaded": "2026-12-07T09:02:00+00:00", "reloads": 1, "refused": None}


def test_without_say_a_refusal_is_a_warning_and_a_swap_is_info(folder, caplog):
    refuse = [True]
    served = reload.ServedRun("m", "/no/such/run", lambda: _Fake(0),
                              lambda old, new: "it is a classify model" if refuse[0] else None, watch=0.01)
    caplog.set_level(logging.INFO, logger="lstmkit.deploy.reload")
    folder.now = "B"
    served.check()
    _settle(served)
    refuse[0], folder.now = False, "C"
    served.check()
    _settle(served)
    told = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "lstmkit.deploy.reload"]
    assert [level for level, _ in told] == [logging.WARNING, logging.INFO], told
    assert "was not loaded: it is a classify model" in told[0][1] and "serving the new model" in told[1][1]


def test_a_run_stamp_changes_with_each_file_rewritten_and_with_the_folder_a_link_names(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    (one / META_FILE).write_text("{}")
    (one / WEIGHTS_FILE).write_bytes(b"w")
    for name in (META_FILE, WEIGHTS_FILE):
        os.link(one / name, two / name)                 # cp -al: the very same files, in another run folder
    link = tmp_path / "current"
    link.symlink_to(one, target_is_directory=True)
    before = reload.run_stamp(link)
    assert before == reload.run_stamp(one) and before != reload.run_stamp(two)
    for name in (WEIGHTS_FILE, META_FILE, "vocab.json"):
        stamp = reload.run_stamp(one)
        tmp = one / f".{name}.tmp"
        tmp.write_bytes((one / name).read_bytes() if (one / name).exists() else b"v")
        mtime = (one / name).stat().st_mtime_ns if (one / name).exists() else None
        tmp.replace(one / name)                         # the same bytes, by rename: another inode
        if mtime is not None:
            os.utime(one / name, ns=(mtime, mtime))     # even within the clock's tick
        assert reload.run_stamp(one) != stamp, name
    stamp, mtime = reload.run_stamp(one), (one / WEIGHTS_FILE).stat().st_mtime_ns
    (one / WEIGHTS_FILE).write_bytes(b"other weights")  # written in place (cp -p), its time kept
    os.utime(one / WEIGHTS_FILE, ns=(mtime, mtime))
    assert reload.run_stamp(one) != stamp


def _routes_conflict(old, new):
    from lstmkit.deploy.server import _routes_conflict
    return _routes_conflict(old, new, lambda m: m.request)


def _model(task="forecast", stream=True, uploads=(), columns=("y",)):
    schema = {"properties": {c: {"type": "array"} for c in columns}}
    return types.SimpleNamespace(name="m", adapter=types.SimpleNamespace(task=task),
                                 stream=object() if stream else None, upload_types=uploads,
                                 request=types.SimpleNamespace(model_json_schema=lambda: schema))


@pytest.mark.parametrize("new, why", [
    (_model(), None),
    (_model(task="classify", stream=False, columns=("text",)),
     "it is a classify model, where 'm' served a forecast one"),
    (_model(stream=False), "it is a model that streams otherwise"),
    (_model(uploads=("audio/wav",)), "it is a model that takes other uploads"),
    (_model(columns=("y", "temp")), "it is a model that takes other requests (other input columns or fields)"),
], ids=["same", "task", "stream", "uploads", "request"])
def test_a_newer_model_for_other_routes_is_named_by_what_differs_first(new, why):
    assert _routes_conflict(_model(), new) == why


@pytest.mark.parametrize("watch", [float("inf"), -0.001, None])
def test_a_watch_of_no_finite_count_of_seconds_is_refused(watch):
    from lstmkit.deploy.server import _check_watch
    from lstmkit.errors import LstmkitError
    with pytest.raises(LstmkitError, match="watch must be a number of seconds"):
        _check_watch(watch)


@pytest.mark.parametrize("watch", [0, 0.25, 2])
def test_a_watch_of_zero_or_more_seconds_is_taken(watch):
    from lstmkit.deploy.server import _check_watch
    assert _check_watch(watch) == float(watch) and type(_check_watch(watch)) is float


def _mismatch():
    from lstmkit.runs import WeightsMismatch
    return WeightsMismatch("model.safetensors does not match the SHA-256 recorded in lstmkit.json", "wait")


def test_weights_that_do_not_match_lstmkit_json_yet_are_a_save_under_way_waited_for_quietly(folder, monkeypatch):
    # a save that pauses longer than SETTLE between its weights and its lstmkit.json (hashing large weights):
    # the weights alone do not match; once lstmkit.json lands the model is served, with no refusal said
    monkeypatch.setattr(reload, "PATIENCE", 120.0)         # a guard: the rest comes 0.2 s on, however slowly
    made, said = [], []

    def load():
        made.append(_Fake(len(made)))
        if len(made) == 2:                              # the weights written, lstmkit.json still the old one's
            threading.Timer(0.2, lambda: setattr(folder, "now", "C")).start()   # 10 x SETTLE later, the rest
            raise _mismatch()
        return made[-1]
    served, _ = _served(load, say=lambda line, refused: said.append((line, refused)))
    folder.now = "B"
    served.check()
    _settle(served)
    assert len(made) == 3 and served.model is made[2] and served.reloads == 1 and served.refused is None
    assert [refused for _, refused in said] == [False]          # no transient warning: one line, the swap


def test_weights_that_still_do_not_match_after_the_patience_are_refused_with_one_warning(folder, monkeypatch):
    monkeypatch.setattr(reload, "PATIENCE", 0.3)
    said, made = [], []

    def load():
        made.append(_Fake(len(made)))
        if len(made) > 1:
            raise _mismatch()
        return made[-1]
    served, _ = _served(load, say=lambda line, refused: said.append((line, refused)))
    folder.now = "B"
    began = time.monotonic()
    served.check()
    _settle(served)
    assert time.monotonic() - began >= 0.3                      # waited for a save that never went on
    assert len(made) == 2 and served.model is made[0] and served.reloads == 0
    assert "does not match the SHA-256" in served.refused["problem"]
    assert "held still 0.3 s more: not a save under way" in served.refused["problem"]
    (line, refused), = said
    assert refused and "held still 0.3 s more" in line
    assert served.check() is False                              # the same folder is not loaded again


@pytest.mark.parametrize("fault, want", [
    ("lstmkit", "lstmkit.json is not JSON — retrain"),
    ("other", "OSError: [Errno 5] torn by another writer"),       # not lstmkit's error: a torn file, the OS
    ("conflict", "it is a classify model — restart the service to serve it"),
], ids=["lstmkit-error", "other-error", "conflict"])
def test_any_other_load_error_is_refused_at_once_not_waited_for(folder, monkeypatch, fault, want):
    from lstmkit.errors import LstmkitError
    monkeypatch.setattr(reload, "PATIENCE", 600.0)         # waited for, the load outlasts _settle's deadline
    made = []

    def load():
        made.append(_Fake(len(made)))
        if len(made) > 1 and fault == "lstmkit":
            raise LstmkitError("lstmkit.json is not JSON", "retrain")
        if len(made) > 1 and fault == "other":
            raise OSError(5, "torn by another writer")
        return made[-1]
    served, _ = _served(load, conflict=lambda old, new: "it is a classify model" if fault == "conflict" else None)
    folder.now = "B"
    began = time.monotonic()
    served.check()
    _settle(served)
    assert time.monotonic() - began < 60 and served.refused["problem"] == want      # nowhere near PATIENCE


def test_a_description_taken_during_a_swap_is_of_one_model_whole(folder, monkeypatch):
    # the reload block read beside the served model: never the new model's weights with the old model's count
    seen = []
    served, made = _served()
    clock = iter(f"2026-12-07T09:0{k}:00+00:00" for k in range(10))

    def stamp_and_look():
        if len(made) > 1:                               # the swap asks the time: a request reads meanwhile
            seen.append(served.describe())
            seen.append(served.warning())
        return next(clock)
    monkeypatch.setattr(reload, "now_stamp", stamp_and_look)
    folder.now = "B"
    served.check()
    _settle(served)
    assert served.describe()["fingerprint"] == "w1" and served.describe()["reload"]["reloads"] == 1
    assert seen and all(d is None or d["fingerprint"] == "w0" and d["reload"]["reloads"] == 0 for d in seen)


def test_warning_names_the_refused_model_and_the_one_served(folder):
    served, _ = _served(conflict=lambda old, new: "it is a classify model")
    assert served.warning() is None
    folder.now = "B"
    served.check()
    _settle(served)
    line = served.warning()
    assert line.startswith("model 'm': the run folder holds a new model that was not loaded (it is a classify model")
    assert line.endswith(f"still serving the one loaded {served.loaded}")


def test_a_description_read_while_the_model_is_swapped_keeps_the_reload_count_of_the_model_it_describes(folder):
    # the swap lands while the served model describes itself (the loader's thread between two reads): the
    # reload block is of the model read first, never the old model's weights with the new model's count
    served, made = _served()
    old_describe = made[0].describe

    def describe_as_a_swap_lands():
        served._swap(_Fake(1), reload.RunStamp("folder", {META_FILE: "B", WEIGHTS_FILE: "B"}))
        return old_describe()
    made[0].describe = describe_as_a_swap_lands
    seen = served.describe()
    assert seen["fingerprint"] == "w0" and seen["reload"]["reloads"] == 0
    assert served.describe()["fingerprint"] == "w1" and served.describe()["reload"]["reloads"] == 1


def test_a_refused_model_taken_back_is_no_longer_said_to_be_refused(folder):
    # the folder turned back to the served model's (a link turned back): /health and /models stop warning
    served, _ = _served(conflict=lambda old, new: "it is a classify model")
    folder.now = "B"
    served.check()
    _settle(served)
    assert served.refused is not None and served.warning() is not None
    folder.now = "A"
    assert served.check() is False
    assert served.refused is None and served.warning() is None
    assert served.describe()["reload"]["refused"] is None


@pytest.mark.parametrize("order", ["as written", "reversed"])
def test_a_folder_whose_weights_went_is_half_gone_whatever_the_order_of_model_files(tmp_path, monkeypatch, order):
    """A run stamp names each file's part (it was a tuple read at MODEL_FILES' places, found by indices computed
    once, which a reordered MODEL_FILES would have pointed at other files)."""
    if order == "reversed":
        monkeypatch.setattr(reload, "MODEL_FILES", reload.MODEL_FILES[::-1])
    (tmp_path / META_FILE).write_text("{}")
    (tmp_path / WEIGHTS_FILE).write_bytes(b"w")
    (tmp_path / "export_report.json").write_text("{}")
    served = types.SimpleNamespace(_stamp=reload.run_stamp(tmp_path))
    assert served._stamp.files[WEIGHTS_FILE] is not None and served._stamp.files["vocab.json"] is None
    (tmp_path / "export_report.json").unlink()
    assert not reload.ServedRun._half_gone(served, reload.run_stamp(tmp_path))      # not one a save writes
    (tmp_path / WEIGHTS_FILE).unlink()
    assert reload.ServedRun._half_gone(served, reload.run_stamp(tmp_path))
