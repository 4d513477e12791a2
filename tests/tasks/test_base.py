"""tasks._base: the one training path of every estimator, and loading another task's run by name."""
import dataclasses
import inspect
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from lstmkit.config import TrainConfig
from lstmkit.errors import LstmkitError
from lstmkit.runs import FORMAT_VERSION, META_FILE, read_meta, write_json
from lstmkit.tasks._base import load_run
from lstmkit.train import TrainingInterrupted
from lstmkit.train.callbacks import Callback
from line_estimator import _Line, _LineConfig


def _fake_run(folder, task):
    folder.mkdir()
    (folder / META_FILE).write_text(json.dumps({"format_version": FORMAT_VERSION, "task": task}))
    return folder


def test_load_run_refuses_a_run_of_another_task(tmp_path):
    run = _fake_run(tmp_path / "run", "classify")
    with pytest.raises(LstmkitError, match="is a 'classify' run, not a 'lm' run"):
        load_run(run, "lm")


def test_load_run_names_a_task_this_lstmkit_lacks(tmp_path):
    run = _fake_run(tmp_path / "run", "juggling")
    with pytest.raises(LstmkitError, match="no 'juggling' task"):
        load_run(run, "juggling")


# -- the one training path -------------------------------------------------------------------
class _CtrlC(Callback):
    def on_epoch_end(self, trainer, logs):
        raise KeyboardInterrupt


def test_train_and_save_writes_a_finished_run(tmp_path):
    est = _Line().fit(out=tmp_path)
    assert est.run_dir_.parent == tmp_path and est.run_dir_.name.startswith("line-")
    assert read_meta(est.run_dir_, "line")["status"] == "finished"
    assert json.loads((est.run_dir_ / "metrics.json").read_text()) == est.metrics_
    assert est.plotted == [est.run_dir_] and est.result_.epochs_run == 3 and est.train_seconds_ > 0
    assert read_meta(est.run_dir_, "line")["training"]["monitored"] == "val_loss"
    assert not est.net_.training and next(est.net_.parameters()).device.type == "cpu"


def test_train_and_save_marks_an_interrupted_run(tmp_path):
    with pytest.raises(TrainingInterrupted):
        _Line().fit(out=tmp_path, callbacks=[_CtrlC()])
    (run,) = tmp_path.iterdir()
    assert read_meta(run, "line")["status"] == "interrupted"
    assert not (run / "metrics.json").exists()


@pytest.mark.parametrize("cut", ["model.safetensors", "lstmkit.json"])
def test_a_save_that_fails_leaves_no_folder_it_made(cut, tmp_path, monkeypatch):
    """save() to a new folder that a full disk or Ctrl-C stopped left the folders it made, holding weights
    without lstmkit.json: a run that did not load. Folders that were there before stay."""
    est = _Line().fit()
    real = os.replace

    def full(src, dst, *a, **k):
        if os.path.basename(str(dst)) == cut:
            raise KeyboardInterrupt if cut == META_FILE else OSError(28, "No space left on device", str(dst))
        return real(src, dst, *a, **k)
    monkeypatch.setattr(os, "replace", full)
    (tmp_path / "there").mkdir()
    with pytest.raises((LstmkitError, KeyboardInterrupt)):
        est.save(tmp_path / "there" / "new" / "run")
    assert list(tmp_path.iterdir()) == [tmp_path / "there"] and not list((tmp_path / "there").iterdir())
    monkeypatch.undo()
    assert _Line.load(est.save(tmp_path / "there" / "new" / "run")).net_.weight == est.net_.weight


class _CtrlCAtStart(Callback):
    def on_train_begin(self, trainer):
        raise KeyboardInterrupt


def test_ctrl_c_before_the_first_step_marks_the_run_interrupted_too(tmp_path):
    """The trainer's set-up (TensorBoard's import, a restore) takes seconds: Ctrl-C there ended with a
    bare 'interrupted', the run left marked 'training' and no --resume line."""
    with pytest.raises(TrainingInterrupted) as e:
        _Line().fit(out=tmp_path, callbacks=[_CtrlCAtStart()])
    (run,) = tmp_path.iterdir()
    assert read_meta(run, "line")["status"] == "interrupted" and e.value.run_dir == run


class _CtrlCWhileScoring(_Line):
    def _train_and_save(self, *args, metrics, **kwargs):
        def scoring():
            raise KeyboardInterrupt
        return super()._train_and_save(*args, metrics=scoring, **kwargs)


def test_ctrl_c_while_scoring_the_trained_model_marks_the_run_interrupted(tmp_path):
    """Scoring (beam search, decoding) may take minutes: Ctrl-C there left the run marked 'training'."""
    with pytest.raises(TrainingInterrupted) as e:
        _CtrlCWhileScoring().fit(out=tmp_path)
    (run,) = tmp_path.iterdir()
    assert read_meta(run, "line")["status"] == "interrupted" and e.value.run_dir == run and e.value.epoch == 3
    assert (run / "checkpoints" / "last.safetensors").is_file() and not (run / "metrics.json").exists()


class _CtrlCAfterTheLastEpoch(Callback):
    def on_train_end(self, trainer):
        raise KeyboardInterrupt


def test_ctrl_c_after_the_last_epoch_names_the_epochs_the_checkpoint_holds(tmp_path):
    """Ctrl-C while the trainer closed (the doctor's evidence: a forecast's baselines) said
    'interrupted during the first epoch' after every epoch was trained and checkpointed."""
    with pytest.raises(TrainingInterrupted) as e:
        _Line().fit(out=tmp_path, callbacks=[_CtrlCAfterTheLastEpoch()])
    (run,) = tmp_path.iterdir()
    assert read_meta(run, "line")["status"] == "interrupted" and e.value.epoch == 3


@pytest.mark.parametrize("where", ["lstmkit.train.resume.load_checkpoint", "lstmkit.train.Trainer.__init__"])
def test_ctrl_c_while_a_resume_sets_up_names_the_epochs_its_checkpoint_holds(where, tmp_path, monkeypatch):
    """Before the resume had read the checkpoint (or made its trainer: TensorBoard's import) it said
    'interrupted during the first epoch' of a run whose checkpoint held every epoch."""
    with pytest.raises(TrainingInterrupted):
        _CtrlCWhileScoring().fit(run_dir=tmp_path / "run")
    with monkeypatch.context() as m:
        def ctrl_c(*args, **kwargs):
            raise KeyboardInterrupt
        m.setattr(where, ctrl_c)
        with pytest.raises(TrainingInterrupted) as e:
            _Line().fit(run_dir=tmp_path / "run", resume=True)
    assert read_meta(tmp_path / "run", "line")["status"] == "interrupted" and e.value.epoch == 3
    assert _Line().fit(run_dir=tmp_path / "run", resume=True).result_.epochs_run == 3


class _SlowSteps(Callback):
    def on_batch_end(self, trainer, batch, n_batches, loss):
        time.sleep(0.01)                # each epoch takes 40 ms at least


def test_a_resumed_run_counts_the_training_time_of_the_epochs_its_checkpoint_holds(tmp_path):
    """``train_seconds_`` (speech's metrics and report) was the resumed session's alone: resumed
    after its last epoch, a run that trained 0.12 s said a few milliseconds."""
    with pytest.raises(TrainingInterrupted):
        _CtrlCWhileScoring().fit(run_dir=tmp_path / "run", callbacks=[_SlowSteps()])
    est = _Line().fit(run_dir=tmp_path / "run", resume=True)
    assert est.train_seconds_ >= sum(h["seconds"] for h in est.result_.history) >= 0.12


class _CtrlCWhileSaving(_Line):
    def save(self, path):
        raise KeyboardInterrupt


def test_ctrl_c_while_saving_marks_the_run_interrupted(tmp_path):
    """Ctrl-C in the final save left the run marked 'training' and the CLI without its --resume line."""
    with pytest.raises(TrainingInterrupted) as e:
        _CtrlCWhileSaving().fit(out=tmp_path)
    (run,) = tmp_path.iterdir()
    assert read_meta(run, "line")["status"] == "interrupted" and e.value.epoch == 3


class _SigtermWhileScoring(_Line):
    def _train_and_save(self, *args, metrics, **kwargs):
        def scoring():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)                       # the handler runs before this ends
        return super()._train_and_save(*args, metrics=scoring, **kwargs)


def test_sigterm_while_scoring_ends_the_run_as_ctrl_c_does(tmp_path):
    """SIGTERM (kill, a batch scheduler) was an interrupt only inside the epoch loop: while scoring
    or saving it ended the process at once, no message, the run left marked 'training'. The fit takes
    SIGTERM over where it has its default action (a handler the program set stays in charge:
    tests/train/test_resume.py); were it not taken, the default action would end this test's process."""
    before = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with pytest.raises(TrainingInterrupted) as e:
            _SigtermWhileScoring().fit(out=tmp_path)
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, before)
    (run,) = tmp_path.iterdir()
    assert read_meta(run, "line")["status"] == "interrupted" and e.value.epoch == 3


def test_train_and_save_checks_the_config_before_creating_a_folder(tmp_path):
    with pytest.raises(LstmkitError, match="unknown device"):
        _Line().fit(out=tmp_path / "runs", device="tpu")
    assert not (tmp_path / "runs").exists()


# -- hyper-parameters ------------------------------------------------------------------------
def test_parameters_come_from_the_config_with_signature_and_doc():
    sig = inspect.signature(_Line)
    assert list(sig.parameters)[:3] == ["config", "slope", "max_epochs"]
    assert sig.parameters["slope"].default == 2.0 and sig.parameters["max_epochs"].default == 3
    assert sig.parameters["slope"].kind is inspect.Parameter.KEYWORD_ONLY
    assert "slope = 2.0  -- the line to learn" in _Line.__doc__
    assert "lr = 0.05  -- Adam learning rate" in _Line.__doc__


def test_overrides_apply_over_the_config_flat_or_nested_and_unknown_names_fail():
    est = _Line(_LineConfig(slope=3.0), lr=0.1, train={"max_epochs": 5})
    assert (est.config.slope, est.config.train.lr, est.config.train.max_epochs) == (3.0, 0.1, 5)
    assert est.config.train.batch_size == 8                 # not overridden: the config's value
    with pytest.raises(LstmkitError, match="_Line has no parameter 'slop' — did you mean 'slope'"):
        _Line(slop=1.0)
    with pytest.raises(LstmkitError, match="must be a _LineConfig, got dict"):
        _Line({"slope": 1.0})


def test_train_may_be_a_train_config_and_nothing_else():
    """``train=TrainConfig(...)`` sets every trainer field (it was ignored: the task's defaults
    trained); a value that is neither a mapping nor a TrainConfig is an error, not ignored."""
    est = _Line(train=TrainConfig(lr=0.5, max_epochs=2), max_epochs=4)
    assert (est.config.train.lr, est.config.train.max_epochs, est.config.train.batch_size) == (0.5, 4, 32)
    for bad in (5, [("lr", 0.5)], "lr=0.5"):
        with pytest.raises(LstmkitError, match="`train` must be a mapping of trainer settings or a TrainConfig"):
            _Line(train=bad)
    assert _Line(train=None).config == _Line().config


@pytest.mark.parametrize("name", ["Forecaster", "TextClassifier", "SequenceClassifier", "Translator",
                                  "LanguageModel", "SpeechRecognizer"])
def test_every_estimator_takes_a_train_config(name):
    import lstmkit
    cls = getattr(lstmkit, name)
    assert cls(train=TrainConfig(lr=0.25, max_epochs=3)).config.train.lr == 0.25
    with pytest.raises(LstmkitError, match="`train` must be a mapping"):
        cls(train=TrainConfig)                       # the class, not an instance


@pytest.mark.parametrize("name", ["Forecaster", "TextClassifier", "SequenceClassifier", "Translator",
                                  "LanguageModel", "SpeechRecognizer"])
def test_a_loaded_run_shows_progress_as_this_session_says_not_as_its_training_did(name):
    """``progress`` is the session's (a terminal's bar, a script's 'off'), not the model's: a run saved
    under 'off' was silent at every later predict and evaluate."""
    import lstmkit
    cls = getattr(lstmkit, name)
    meta = {"config": cls(progress="off").config.to_dict(), "classes": ["a", "b"]}
    est = cls._restored(meta)
    assert est._progress == "auto" and est.get_params()["progress"] == "auto"
    assert est.set_params(progress="log")._progress == "log"
    assert cls(progress=False)._progress == "off"            # fitted in this session: its own setting


@pytest.mark.parametrize("name", ["TextClassifier", "SequenceClassifier", "Translator", "LanguageModel",
                                  "SpeechRecognizer"])
def test_every_estimator_lists_every_config_field_with_its_default(name):
    import lstmkit
    from lstmkit.tasks.lm import LanguageModel
    cls = LanguageModel if name == "LanguageModel" else getattr(lstmkit, name)
    from lstmkit.tasks.classify.config import SERIES_ONLY, TEXT_ONLY
    params = inspect.signature(cls).parameters
    defaults = cls.default_config()
    other_kind = {"TextClassifier": SERIES_ONLY, "SequenceClassifier": TEXT_ONLY}.get(name, ())
    for f in dataclasses.fields(defaults):
        if f.name in ("train", "series"):
            continue
        if f.name in other_kind:                # refused by this class: neither listed nor documented
            assert f.name not in params and f"    {f.name} = " not in cls.__doc__, f.name
            continue
        assert params[f.name].default == getattr(defaults, f.name), f.name
        assert f"    {f.name} = " in cls.__doc__
    for f in dataclasses.fields(TrainConfig):
        assert params[f.name].default == getattr(defaults.train, f.name), f.name


def test_under_torchrun_only_rank_0_creates_and_writes_the_run_folder(tmp_path):
    """Two CPU processes train an lm through _train_and_save: one folder, written once, finished."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(["the cat sat", "a dog ran", "the dog sat", "a cat ran"] * 20) + "\n")
    flags = ["lm", "train", "--data", str(corpus), "--hidden-size", "8", "--embed-dim", "8", "--layers", "1",
             "--epochs", "2", "--batch-size", "16", "--progress", "off", "--device", "cpu",
             "--out", str(tmp_path / "runs")]
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                           "-m", "lstmkit", *flags], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run,) = (tmp_path / "runs").iterdir()
    assert read_meta(run, "lm")["status"] == "finished"
    for name in ("model.safetensors", "vocab.json", "metrics.json", "history.csv", "plots/loss.png"):
        assert (run / name).is_file(), name


LONG_TEXT = "the cat sat on the mat. " * 20          # longer than a file name may be (255 bytes)


@pytest.mark.parametrize("name", ["Forecaster", "TextClassifier", "SequenceClassifier", "Translator",
                                  "LanguageModel", "SpeechRecognizer"])
def test_a_text_passed_where_a_path_goes_is_one_error(name):
    """A long string given as data or as a run folder is a missing file (it was a bare
    ``OSError: File name too long`` from ``Path.exists``), in fit, load and ``lstmkit.load``."""
    import lstmkit
    cls = getattr(lstmkit, name)
    with pytest.raises(LstmkitError, match="not found|not a file|unknown file type"):
        cls(max_epochs=1, progress="off", tensorboard=False).fit(LONG_TEXT)
    with pytest.raises(LstmkitError, match="run folder not found"):
        cls.load(LONG_TEXT)
    with pytest.raises(LstmkitError, match="run folder not found"):
        lstmkit.load(LONG_TEXT)


@pytest.mark.parametrize("where", ["/proc/lstmkit-run", "/sys/kernel/lstmkit-run", "x" * 300])
def test_save_where_no_folder_can_be_made_is_one_error(tmp_path, where):
    """A read-only or virtual file system, or a name too long (mkdir's OSError was bare)."""
    import re
    est = _Line().fit()
    path = where if where.startswith("/") else str(tmp_path / where)
    with pytest.raises(LstmkitError, match=f"cannot save to {re.escape(path[:30])}.*the folder could not be made"):
        est.save(path)


def test_save_refuses_a_folder_holding_a_run_of_another_task(tmp_path):
    """Saving over another task's run replaced its lstmkit.json, weights and (shared-named) state
    files: the other model was lost without a word. A model's own folder is saved over."""
    other = _fake_run(tmp_path / "other", "classify")
    before = (other / META_FILE).read_bytes()
    est = _Line().fit()
    with pytest.raises(LstmkitError, match="holds another 'classify' run.* — pass save\\(\\) a new folder, or "
                                           "overwrite=True to delete that run's files first"):
        est.save(other)
    assert (other / META_FILE).read_bytes() == before and sorted(p.name for p in other.iterdir()) == [META_FILE]
    same = est.save(tmp_path / "mine")
    assert est.save(same) == same and read_meta(same, "line")["status"] == "finished"


def _tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_save_over_another_run_of_the_same_task_is_refused_unless_overwrite(tmp_path):
    """A fresh model saved over an old run's folder kept the old run's history, checkpoints and
    plots beside the new weights: the folder described two models. Refused; overwrite=True deletes
    what lstmkit wrote for the old run (lstmkit.json first) and keeps the user's own files."""
    old = _Line().fit(out=tmp_path)
    run = old.run_dir_
    (run / "plots").mkdir(exist_ok=True)
    (run / "plots" / "loss.png").write_bytes(b"old run's plot")
    (run / "notes.txt").write_text("mine")
    (run / "plots" / "mine.png").write_bytes(b"mine")
    before = _tree(run)
    assert {"history.csv", "checkpoints/last.safetensors", "doctor.json"} <= set(before)
    new = _Line(slope=-1.0).fit()
    with pytest.raises(LstmkitError, match=r"cannot save to .*: it holds another 'line' run \(written .*\), whose "
                                           r"history, plots, checkpoints and exports would stay"):
        new.save(run)
    assert _tree(run) == before
    assert new.save(run, overwrite=True) == run
    assert _tree(run) == sorted([META_FILE, "model.safetensors", "history.csv", "doctor.json", "metrics.json", "notes.txt",
                                 "plots", "plots/mine.png"])
    assert read_meta(run)["run_id"] == new.run_id_ != old.run_id_
    assert _Line.load(run).net_.weight.item() == pytest.approx(new.net_.weight.item())


def test_a_model_saves_over_its_own_run(tmp_path):
    """Its training folder (history kept), a folder it saved to before, the folder it was loaded
    from, in any session; a run written before runs were named: the folder it was loaded from."""
    est = _Line().fit(out=tmp_path / "runs")
    history = (est.run_dir_ / "history.csv").read_bytes()
    est.net_.weight.data.fill_(3.0)                    # an online update, say
    assert est.save(est.run_dir_) == est.run_dir_ and (est.run_dir_ / "history.csv").read_bytes() == history
    copy = est.save(tmp_path / "copy")
    est.save(copy)
    again = _Line.load(copy)
    again.save(copy)
    again.save(est.run_dir_)                          # the same run, saved elsewhere before
    meta = json.loads((copy / META_FILE).read_text())
    del meta["run_id"]                                 # written before runs had a name
    write_json(copy / META_FILE, meta)
    older = _Line.load(copy)
    assert older.run_id_ is None and older.save(copy) == copy and read_meta(copy)["run_id"] == older.run_id_
    with pytest.raises(LstmkitError, match="holds another 'line' run"):
        _Line().fit().save(est.run_dir_)


def test_training_into_a_folder_that_holds_a_run_is_refused(tmp_path):
    """fit(run_dir=FOLDER) on another run wrote its files over that run's, beside the ones it did not write."""
    run = _Line().fit(out=tmp_path).run_dir_
    before = (run / META_FILE).read_bytes()
    with pytest.raises(LstmkitError, match="holds a run already; training a new one there would mix the two runs' "
                                           "files — pass a new run_dir"):
        _Line().fit(run_dir=run)
    assert (run / META_FILE).read_bytes() == before
    assert _Line().fit(run_dir=tmp_path / "new").run_dir_ == tmp_path / "new"


@pytest.mark.parametrize("path", [None, "", "  ", 3])
def test_save_and_load_need_a_path_an_empty_one_is_not_the_working_folder(tmp_path, monkeypatch, path):
    """save(None) was a bare TypeError from pathlib; save("") wrote the run into the working
    folder, beside whatever it held (and load("") read it back from there)."""
    monkeypatch.chdir(tmp_path)
    est = _Line().fit()
    with pytest.raises(LstmkitError, match="save\\(\\) needs a folder's path, got .*model.save\\('runs/my-model'\\)"):
        est.save(path)
    assert list(tmp_path.iterdir()) == []
    est.save(".")                                            # the working folder, named, is a folder like any
    with pytest.raises(LstmkitError, match="loading needs a run folder's path"):
        read_meta(path, "line")
    assert read_meta(".", "line")["status"] == "finished"


def test_a_fit_callback_may_fit_other_models_here_or_in_a_thread_it_waits_for_and_the_fit_is_unchanged(tmp_path):
    """A callback that waited on a fit in another thread hung for ever (that fit waited for the random
    generators the first fit held), and one that fitted another model in its own thread reseeded the
    generator the first fit went on drawing from: it trained another model."""
    import threading

    import numpy as np

    from forecast_data import FAST, sine_frame
    from lstmkit import Forecaster
    frame = sine_frame(n=160)
    settings = {**FAST, "lookback": 12, "hidden_size": 4, "max_epochs": 2, "doctor": False, "seed": 5}

    def fit(callbacks=()):
        return Forecaster(**settings).fit(frame, target="y", time="time", out=None, callbacks=callbacks)

    finished = []

    class Nested(Callback):
        def on_epoch_end(self, trainer, logs):
            other = threading.Thread(target=lambda: finished.append(fit() is not None), daemon=True)
            other.start()
            other.join(60)
            finished.append(fit(callbacks=[Callback()]).predict(frame) is not None)

    alone = fit().predict(frame)
    nested = fit(callbacks=[Nested()]).predict(frame)
    assert finished == [True, True] * 2
    assert np.array_equal(alone["y"].to_numpy(), nested["y"].to_numpy())
