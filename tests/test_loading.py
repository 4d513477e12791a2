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
