import pytest

import lstmkit
from lstmkit.errors import LstmkitError
from lstmkit.runs import FORMAT_VERSION, write_json

from forecast_data import FAST, sine_frame


def test_load_dispatches_on_the_task(tmp_path):
    est = lstmkit.Forecaster(**{**FAST, "max_epochs": 1}).fit(sine_frame(), target="y", time="time")
    est.save(tmp_path / "run")
    loaded = lstmkit.load(tmp_path / "run")
    assert isinstance(loaded, lstmkit.Forecaster)
    assert loaded.predict(sine_frame()).equals(est.predict(sine_frame()))


def test_load_refuses_an_unknown_task(tmp_path):
    write_json(tmp_path / "lstmkit.json", {"format_version": FORMAT_VERSION, "task": "weather"})
    with pytest.raises(LstmkitError, match="'weather' run"):
        lstmkit.load(tmp_path)


@pytest.mark.parametrize("name", ["TextClassifier", "SequenceClassifier", "Translator", "LanguageModel",
                                  "SpeechRecognizer"])
def test_a_class_loading_another_tasks_run_names_lstmkit_load(tmp_path, name):
    write_json(tmp_path / "lstmkit.json", {"format_version": FORMAT_VERSION, "task": "forecast", "status": "finished"})
    with pytest.raises(LstmkitError, match=r"is a 'forecast' run, not a '\w+' run — .*lstmkit.load\(run\)"):
        getattr(lstmkit, name).load(tmp_path)


def test_public_api():
    for name in ["Forecaster", "TextClassifier", "SequenceClassifier", "LSTM", "LSTMCell", "load"]:
        assert name in lstmkit.__all__ and hasattr(lstmkit, name)


@pytest.mark.parametrize("task, said", [("forecast.estimator", "cannot load"), ("_base", "cannot load"),
                                        ("../forecast", "cannot load"), ("Forecast", "cannot load"),
                                        (3, r'"task" is 3, not a task name \(the file was edited or damaged\)')])
def test_load_refuses_a_task_that_names_no_room(tmp_path, task, said):
    write_json(tmp_path / "lstmkit.json", {"format_version": FORMAT_VERSION, "task": task})
    with pytest.raises(LstmkitError, match=said):
        lstmkit.load(tmp_path)


@pytest.mark.parametrize("load", ["lstmkit.load", "serve"])
def test_a_task_name_with_a_line_break_is_shown_escaped(tmp_path, load):
    """A stranger's lstmkit.json names the task: a line break or a terminal escape in it was printed
    as it was, making the one-line error several lines (and colouring the terminal)."""
    from lstmkit.deploy.registry import adapter_for
    write_json(tmp_path / "lstmkit.json", {"format_version": FORMAT_VERSION, "task": "we\nather\x1b[31m",
                                           "status": "finished"})
    with pytest.raises(LstmkitError) as e:
        (lstmkit.load if load == "lstmkit.load" else adapter_for)(tmp_path)
    assert "'we\\nather\\x1b[31m' run" in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_every_room_provides_load():
    from lstmkit.loading import task_room
    for task in ["forecast", "classify", "translate", "lm", "speech"]:
        assert callable(task_room(task).load)
    assert task_room("weather") is None


@pytest.mark.parametrize("run", [None, 3, ["runs/x"]])
def test_load_of_something_not_a_path_is_one_error(run):
    from lstmkit import SequenceClassifier
    for load in (lstmkit.load, SequenceClassifier.load):
        with pytest.raises(LstmkitError, match=f"needs a run folder's path, got {type(run).__name__}"):
            load(run)                         # was a TypeError from pathlib


def test_any_seed_fit_accepts_saves_and_loads_and_a_larger_one_is_refused_at_fit(tmp_path):
    """The largest seed numpy and torch both take (2**32 - 1) trains, saves and loads (a seed
    ensemble's members included); 2**32 is one error at construction, set_params and fit alike,
    before any run folder exists, so no saved run holds a seed that load would refuse."""
    est = lstmkit.Forecaster(**{**FAST, "max_epochs": 1, "seed": 2**32 - 1, "ensemble": 2})
    est.fit(sine_frame(), target="y", time="time", out=tmp_path / "runs")
    assert lstmkit.load(est.run_dir_).config_.train.seed == 2**32 - 1
    refused = "`seed` must be a whole number from 0 to 4294967295, got 4294967296 — pass seed=42, say"   # Python's words
    for attempt in (lambda: lstmkit.Forecaster(seed=2**32), lambda: est.set_params(seed=2**32),
                    lambda: est.fit(sine_frame(), target="y", time="time", seed=2**32, out=tmp_path / "more")):
        with pytest.raises(LstmkitError) as e:
            attempt()
        assert str(e.value) == refused
    assert not (tmp_path / "more").exists()


def test_a_load_while_another_thread_fits_draws_nothing_from_the_fits_generators(tmp_path):
    """A fit holds the process's random generators (random_state.held_random); a load in another
    thread runs at once beside it. Its network's first weights (then overwritten by the run's) were
    drawn from those generators, and its meta-device probe set them back to what they were when it
    began: either way the fit drew other numbers, and trained another model than the same seeded
    fit alone. Now the load leaves them exactly as they are."""
    import random
    import threading

    import numpy as np
    import torch

    from lstmkit.random_state import held_random

    rows = [("good film", "pos"), ("bad film", "neg"), ("great plot", "pos"), ("awful acting", "neg")] * 4
    texts, labels = zip(*rows)
    runs = [lstmkit.Forecaster(**{**FAST, "max_epochs": 1, "ensemble": 2}).fit(
                sine_frame(), target="y", time="time", out=tmp_path / "f").run_dir_,
            lstmkit.TextClassifier(hidden_size=4, embed_dim=4, min_freq=1, max_epochs=1, progress="off",
                                   tensorboard=False, doctor=False, device="cpu").fit(
                list(texts), list(labels), out=tmp_path / "c").run_dir_]
    holding, done = threading.Event(), threading.Event()

    def fit():                      # what a fit in another thread does: holds the generators while it trains
        with held_random():
            holding.set()
            done.wait(60)

    other = threading.Thread(target=fit)
    other.start()
    try:
        assert holding.wait(30)
        for run in runs:
            torch.manual_seed(7), np.random.seed(7), random.seed(7)
            lstmkit.load(run)
            assert torch.equal(torch.get_rng_state(), torch.manual_seed(7).get_state()), run
            assert np.random.randint(1 << 30) == np.random.RandomState(7).randint(1 << 30), run
            assert random.random() == random.Random(7).random(), run
    finally:
        done.set()
        other.join()


def test_load_hands_the_run_to_its_tasks_room_and_refuses_a_room_without_load(tmp_path, monkeypatch):
    import sys
    import types
    room = types.ModuleType("lstmkit.tasks.handmade")                # a task's room, found by the run's task name
    monkeypatch.setitem(sys.modules, "lstmkit.tasks.handmade", room)
    write_json(tmp_path / "lstmkit.json",
               {"format_version": FORMAT_VERSION, "task": "handmade", "status": "finished"})
    with pytest.raises(LstmkitError, match="is a 'handmade' run, which this version of lstmkit cannot load"):
        lstmkit.load(tmp_path)                                         # the room has no load()
    room.load = lambda run: ("loaded by its room", run)
    assert lstmkit.load(tmp_path) == ("loaded by its room", tmp_path)
