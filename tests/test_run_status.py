"""A run whose fit fails says so: lstmkit.json's status 'failed' with what failed and where, for every
task's fit (Python and command line), and every reader (load, predict, export, serve, resume, doctor)
names the failure and its fix; a run left 'training' by a process that is gone is told from one still
training. Failures are injected with monkeypatch on tiny data."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lstmkit
from lstmkit.errors import EnvironmentProblem, LstmkitError
from lstmkit.run_lock import training_lock
from lstmkit.runs import META_FILE, finished_meta, read_meta
from lstmkit.train.callbacks import Callback

sys.path.insert(0, str(Path(__file__).resolve().parent))
PROCESS_KEY = "process"          # lstmkit.json of a run marked 'training': its trainer's pid and host
from cli_helpers import assert_user_error, run_cli  # noqa: E402
from estimator_data import EXTRA, NAMES, QUICK, fit_data  # noqa: E402
from one_thread import one_thread_per_package  # noqa: F401,E402  (autouse: one torch thread)
from line_estimator import _Line  # noqa: E402


class _FailsAtEpochEnd(Callback):
    """A bug in a user's callback at the end of epoch ``epoch`` (after that epoch's checkpoint)."""

    def __init__(self, epoch: int = 2, error: BaseException | None = None):
        self.epoch, self.error = epoch, error or RuntimeError("boom in my callback\nits second line")

    def on_epoch_end(self, trainer, logs) -> None:
        if logs["epoch"] == self.epoch:
            raise self.error


class _FailsAtStart(Callback):
    def on_train_begin(self, trainer) -> None:
        raise MemoryError


def _meta(run) -> dict:
    return json.loads((Path(run) / META_FILE).read_text())


# -- every task's fit, through the Python API ------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_a_fit_that_raises_marks_its_run_failed_and_load_names_the_failure(name, tmp_path):
    """An exception in a fit (a callback's bug, the model's) left the run folder saying 'training' for ever:
    load said 'holds an unfinished run (status: training)', as of a run another process still trains."""
    est = getattr(lstmkit, name)(**{**QUICK, "max_epochs": 3}, **EXTRA.get(name, {}))
    args, _ = fit_data(name, tmp_path)
    with pytest.raises(RuntimeError, match="boom in my callback") as raised:
        est.fit(*args, out=tmp_path / "runs", callbacks=[_FailsAtEpochEnd()])
    (run,) = (tmp_path / "runs").iterdir()
    # the traceback's last line says where the run is and how it goes on
    assert raised.value.__notes__ == [f"{run} is marked failed: its checkpoint holds 2 epochs (the best so far is "
                                      f"epoch {_meta(run)['failure'].get('best_epoch')}'s weights, kept in it): fix "
                                      f"the cause, then continue it with {type(est).__name__}.resume({str(run)!r})"]
    meta = _meta(run)
    assert meta["status"] == "failed" and PROCESS_KEY not in meta
    failure = meta["failure"]
    assert failure["error"] == "RuntimeError: boom in my callback" and failure["type"] == "RuntimeError"
    assert (failure["stage"], failure["epoch"], failure["checkpoint_epochs"]) == ("training", 2, 2)
    with pytest.raises(LstmkitError) as e:
        lstmkit.load(run)
    cls = type(est).__name__
    assert e.value.message == f"{run} holds a run whose training failed in epoch 2: RuntimeError: boom in my callback"
    assert e.value.hint.startswith("its checkpoint holds 2 epochs") and f"{cls}.resume({str(run)!r})" in e.value.hint


# -- where and how it failed, on the smallest estimator -----------------------------------------------------------
def test_a_failure_before_the_first_epoch_says_nothing_was_trained(tmp_path):
    with pytest.raises(MemoryError):
        _Line().fit(out=tmp_path, callbacks=[_FailsAtStart()])
    (run,) = tmp_path.iterdir()
    meta = read_meta(run, "line")
    assert meta["status"] == "failed" and meta["failure"]["error"] == "MemoryError"
    assert (meta["failure"]["stage"], meta["failure"]["epoch"], meta["failure"]["checkpoint_epochs"]) == ("setup", None, 0)
    with pytest.raises(LstmkitError, match="failed before its first epoch: MemoryError — it failed before its first "
                                           "checkpoint, so nothing was trained to keep"):
        finished_meta(run, "line")


def test_a_diverged_loss_marks_the_run_failed_and_a_resume_is_refused(tmp_path, monkeypatch):
    """A loss that became infinite stopped the fit and left 'training'; a resume replays the same settings,
    data and seed, and would diverge again: it is refused, naming a new run's fix."""
    from lstmkit.errors import TrainingDiverged
    from lstmkit.train.trainer import Trainer
    evaluate = Trainer._evaluate
    monkeypatch.setattr(Trainer, "_evaluate", lambda self, model, batches: (
        float("inf") if len(self.history) == 1 else evaluate(self, model, batches)))
    with pytest.raises(TrainingDiverged, match="the loss became inf at epoch 2") as diverged:
        _Line().fit(out=tmp_path)
    assert diverged.value.hint == ("check the data for NaN or extreme values, or lower the learning rate from 0.05 "
                                   "to 0.005 (--lr 0.005)")
    monkeypatch.undo()
    (run,) = tmp_path.iterdir()
    failure = read_meta(run, "line")["failure"]
    assert failure["diverged"] is True and failure["error"] == "TrainingDiverged: the loss became inf at epoch 2"
    with pytest.raises(LstmkitError, match="would diverge the same way") as e:
        _Line().fit(run_dir=run, resume=True)
    assert e.value.hint == ("train a new run with a lower learning rate (--lr 0.005, a tenth of this run's), gradient "
                            "clipping kept on, and the data checked for NaN or extreme values")
    assert read_meta(run, "line")["status"] == "failed"
    with pytest.raises(LstmkitError, match="failed in epoch 2: .* — train a new run with a lower learning rate"):
        finished_meta(run, "line")


def test_a_full_disk_writing_a_checkpoint_marks_the_run_failed_and_resumable(tmp_path, monkeypatch):
    """A checkpoint that could not be written marked the run 'interrupted', as Ctrl-C does: nothing said it failed."""
    import lstmkit.train.resume as resume
    real, calls = resume.save_checkpoint, []

    def full(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise EnvironmentProblem("could not write the checkpoint: no space left on device",
                                     "free some space, then run the command again", reason="no space left on device")
        return real(*args, **kwargs)
    monkeypatch.setattr(resume, "save_checkpoint", full)
    with pytest.raises(EnvironmentProblem, match="no space left") as e:
        _Line().fit(out=tmp_path)
    monkeypatch.undo()
    (run,) = tmp_path.iterdir()
    assert "then continue with: " in e.value.hint
    failure = read_meta(run, "line")["failure"]
    assert read_meta(run, "line")["status"] == "failed" and failure["type"] == "EnvironmentProblem"
    assert (failure["epoch"], failure["checkpoint_epochs"]) == (2, 1)
    with pytest.warns(UserWarning, match=r"failed in epoch 2: EnvironmentProblem: could not write the checkpoint: no "
                                         r"space left on device; continuing from its checkpoint after epoch 1"):
        est = _Line().fit(run_dir=run, resume=True)
    meta = read_meta(run, "line")
    assert est.result_.epochs_run == 3 and meta["status"] == "finished"
    assert "failure" not in meta and PROCESS_KEY not in meta


def test_a_resume_that_fails_setting_up_says_so_and_not_before_the_first_epoch(tmp_path, monkeypatch):
    """A resume of a run that trained epochs and failed reading its checkpoint is no 'failure before its first epoch'."""
    from lstmkit.train import TrainingInterrupted
    with pytest.raises(TrainingInterrupted):
        _Line().fit(run_dir=tmp_path / "run", callbacks=[_FailsAtEpochEnd(1, KeyboardInterrupt())])
    assert read_meta(tmp_path / "run", "line")["status"] == "interrupted"

    def unreadable(*args, **kwargs):
        raise RuntimeError("a bug reading the checkpoint")
    monkeypatch.setattr("lstmkit.train.resume.load_checkpoint", unreadable)
    with pytest.raises(RuntimeError, match="a bug reading"):
        _Line().fit(run_dir=tmp_path / "run", resume=True)
    failure = read_meta(tmp_path / "run", "line")["failure"]
    assert (failure["stage"], failure["epoch"], failure["checkpoint_epochs"]) == ("setup", None, 1)
    with pytest.raises(LstmkitError, match="failed while a resume set up training after epoch 1: RuntimeError: a bug "
                                           "reading the checkpoint — its checkpoint holds 1 epoch"):
        finished_meta(tmp_path / "run", "line")


class _FailsWhileScoring(_Line):
    def _train_and_save(self, *args, metrics, **kwargs):
        def scoring():
            raise ValueError("a scorer's bug")
        return super()._train_and_save(*args, metrics=scoring, **kwargs)


def test_a_failure_after_the_last_epoch_says_a_resume_only_scores_and_saves(tmp_path):
    with pytest.raises(ValueError, match="a scorer's bug"):
        _FailsWhileScoring().fit(out=tmp_path)
    (run,) = tmp_path.iterdir()
    failure = read_meta(run, "line")["failure"]
    assert (failure["stage"], failure["epoch"], failure["checkpoint_epochs"]) == ("after training", 3, 3)
    with pytest.raises(LstmkitError, match=r"failed after its last epoch \(3\), while scoring or saving: ValueError: "
                                           r"a scorer's bug — its checkpoint holds every epoch \(3\)"):
        finished_meta(run, "line")
    with pytest.warns(UserWarning, match="while scoring or saving"):
        est = _Line().fit(run_dir=run, resume=True)
    assert est.result_.epochs_run == 3 and read_meta(run, "line")["status"] == "finished"


# -- a run left 'training': its process still at it, or gone -------------------------------------------------------
class _Snapshot(Callback):
    def on_epoch_end(self, trainer, logs) -> None:
        self.meta = _meta(trainer.run_dir)


def test_a_training_run_records_its_process_and_a_run_whose_process_is_gone_says_so(tmp_path):
    """A run a kill -9 left marked 'training' said 'holds an unfinished run (status: training)', as one another
    process was training; a run whose trainer still holds it is refused as being trained."""
    seen = _Snapshot()
    _Line().fit(run_dir=tmp_path / "run", callbacks=[seen])
    assert seen.meta["status"] == "training"
    assert seen.meta[PROCESS_KEY] == {"pid": os.getpid(), "host": socket.gethostname()}
    killed = tmp_path / "run"
    (killed / META_FILE).write_text(json.dumps(seen.meta))          # what a kill -9 mid-training leaves
    with pytest.raises(LstmkitError, match="the process that trained it is gone") as e:
        finished_meta(killed, "line")
    assert e.value.hint.startswith("its checkpoint holds 3 epochs; continue it with")
    from lstmkit.run_status import unfinished_state
    lock = training_lock(killed)
    try:
        with pytest.raises(EnvironmentProblem, match="is being trained by another process right now"):
            finished_meta(killed, "line")
        assert unfinished_state(killed, seen.meta) == f"still training (process {os.getpid()} on {socket.gethostname()})"
    finally:
        os.close(lock)


def test_without_locks_the_recorded_process_tells_a_dead_trainer_on_this_host(tmp_path, monkeypatch):
    """Where the file system has no locks (some network mounts), the process id and host recorded tell."""
    import lstmkit.run_lock as run_lock
    from lstmkit.run_lock import process_gone
    monkeypatch.setattr(run_lock, "_lock_held", lambda run: None)
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    here = socket.gethostname()
    assert process_gone(tmp_path, {PROCESS_KEY: {"pid": int(ended.stdout), "host": here}}) is True
    assert process_gone(tmp_path, {PROCESS_KEY: {"pid": os.getpid(), "host": here}}) is False
    assert process_gone(tmp_path, {PROCESS_KEY: {"pid": os.getpid(), "host": here + "-other"}}) is None
    assert process_gone(tmp_path, {}) is None


def test_on_windows_the_recorded_process_is_asked_of_kernel32_not_sent_signal_0(tmp_path, monkeypatch):
    """On Windows ``os.kill(pid, 0)`` sends CTRL_C_EVENT to a process group rather than asking whether
    it runs: there OpenProcess and GetExitCodeProcess tell (259, STILL_ACTIVE, while it runs)."""
    import lstmkit.run_lock as run_lock

    class Kernel32:
        def __init__(self, handle, code=0):
            self.handle, self.code, self.closed = handle, code, []

        def OpenProcess(self, access, inherit, pid):
            return self.handle

        def GetExitCodeProcess(self, handle, ref):
            ref._obj.value = self.code
            return 1

        def CloseHandle(self, handle):
            self.closed.append(handle)

    running = Kernel32(handle=7, code=259)
    assert run_lock._windows_process_gone(42, running, lambda: 0) is False and running.closed == [7]
    assert run_lock._windows_process_gone(42, Kernel32(handle=7, code=1), lambda: 0) is True
    assert run_lock._windows_process_gone(42, Kernel32(handle=0), lambda: 87) is True       # no such process
    assert run_lock._windows_process_gone(42, Kernel32(handle=0), lambda: 5) is False       # another user's
    # process_gone on Windows asks kernel32 and never signals
    monkeypatch.setattr(run_lock, "_lock_held", lambda run: None)
    monkeypatch.setattr(run_lock.os, "name", "nt")
    monkeypatch.setattr(run_lock.os, "kill", lambda *a: pytest.fail("os.kill on Windows"))
    monkeypatch.setattr(run_lock, "_windows_process_gone", lambda pid: pid == 42)
    here = socket.gethostname()
    assert run_lock.process_gone(tmp_path, {PROCESS_KEY: {"pid": 42, "host": here}}) is True
    assert run_lock.process_gone(tmp_path, {PROCESS_KEY: {"pid": 43, "host": here}}) is False


# -- the command line: train, doctor, resume, export ----------------------------------------------------------------
_TRAIN = ["forecast", "train", "--hidden-size", "8", "--max-epochs", "3", "--progress", "off", "--no-tensorboard",
          "--seed", "0"]


@pytest.fixture(scope="module")
def series_csv(tmp_path_factory):
    data = tmp_path_factory.mktemp("data") / "y.csv"
    data.write_text("y\n" + "\n".join(f"{np.sin(k / 4):.4f}" for k in range(80)) + "\n")
    return data


@pytest.fixture(scope="module")
def diverged_cli_run(tmp_path_factory, series_csv):
    """A forecast trained by the command line whose loss became infinite at its second epoch."""
    from lstmkit.cli import main
    from lstmkit.train.trainer import Trainer
    folder = tmp_path_factory.mktemp("cli")
    evaluate = Trainer._evaluate
    with pytest.MonkeyPatch.context() as m:
        m.setattr(Trainer, "_evaluate", lambda self, model, batches: (
            float("inf") if len(self.history) == 1 else evaluate(self, model, batches)))
        with pytest.raises(SystemExit) as e:
            main([*_TRAIN, "--data", str(series_csv), "--out", str(folder / "runs")])
    (run,) = (folder / "runs").iterdir()
    return e.value.code, run


def test_out_of_memory_in_a_command_line_fit_names_the_failed_run_and_its_resume(tmp_path, series_csv, capsys,
                                                                                monkeypatch):
    """'error: out of memory — use a smaller model' said nothing of the run left behind, nor of its --resume."""
    from lstmkit.train.trainer import Trainer
    end_epoch = Trainer._end_epoch

    def short_of_memory(self, model, logs, val_batches):
        if logs["epoch"] == 2:
            raise MemoryError
        return end_epoch(self, model, logs, val_batches)
    monkeypatch.setattr(Trainer, "_end_epoch", short_of_memory)
    code, _, err = run_cli([*_TRAIN, "--data", series_csv, "--out", tmp_path], capsys)
    (run,) = tmp_path.iterdir()
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: out of memory — use a smaller model")
    assert err.rstrip().endswith(f"; {run} is marked failed: its checkpoint holds 1 epoch (the best so far is epoch 1's "
                                 f"weights, kept in it): fix the cause, then continue it with lstmkit forecast train "
                                 f"--resume {run}")
    assert _meta(run)["failure"]["error"] == "MemoryError" and _meta(run)["failure"]["epoch"] == 2
    # its --resume says, in one warning line (not typer's file and line), what failed and where it goes on
    monkeypatch.undo()
    code, _, err = run_cli(["forecast", "train", "--resume", run], capsys)
    assert code == 0 and _meta(run)["status"] == "finished", err
    assert f"warning: {run} failed in epoch 2: MemoryError; continuing from its checkpoint after epoch 1\n" in err
    assert "UserWarning" not in err


def test_the_command_line_marks_a_diverged_run_failed_and_its_readers_say_so(diverged_cli_run, capsys):
    code, run = diverged_cli_run
    assert code == 2 and _meta(run)["status"] == "failed"
    code, out, err = run_cli(["doctor", run], capsys)
    assert code == 0 and "stopped: the loss became inf at epoch 2" in out
    lr = _meta(run)["config"]["train"]["lr"]
    assert out.rstrip().splitlines()[-1] == ("  its training failed in epoch 2: TrainingDiverged: the loss became inf at "
                                             f"epoch 2 — train a new run with a lower learning rate (--lr {lr / 10:g}, a "
                                             "tenth of this run's), gradient clipping kept on, and the data checked for "
                                             "NaN or extreme values")
    code, _, err = run_cli(["forecast", "train", "--resume", run], capsys)
    assert_user_error(code, err, f"{run} failed in epoch 2: TrainingDiverged: the loss became inf at epoch 2; a "
                                 "resume keeps its settings, data and seed, so it would diverge the same way", "--lr")
    for command in (["export", "onnx", "--run", run], ["serve", "--run", run]):
        code, _, err = run_cli(command, capsys)
        assert_user_error(code, err, f"{run} holds a run whose training failed in epoch 2")


def test_lstmkit_list_shows_each_run_with_how_it_ended(diverged_cli_run, tmp_path, capsys, monkeypatch):
    """No command listed a folder's runs: which had finished, failed (and why), or were left by a killed process."""
    import shutil
    _, failed = diverged_cli_run
    folder = tmp_path / "runs"
    shutil.copytree(failed, folder / "forecast-1-failed")
    meta = _meta(failed)
    for name, edit in (("forecast-2-killed", {"status": "training", PROCESS_KEY: {"pid": 1, "host": "elsewhere"}}),
                       ("forecast-3-done", {"status": "finished", "training": {"epochs_run": 3}})):
        shutil.copytree(failed, folder / name)
        changed = {k: v for k, v in {**meta, **edit}.items() if k != "failure"}
        (folder / name / META_FILE).write_text(json.dumps(changed))
    (folder / "forecast-4-broken").mkdir()
    (folder / "forecast-4-broken" / META_FILE).write_text("{not json")
    (folder / "notes").mkdir()
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["list", "runs"], capsys)
    assert code == 0, err
    # within 80 columns: a state too long for its run's line goes on under it, whole
    assert out.splitlines() == [
        "run                     task      epochs  metric  state",
        "runs/forecast-1-failed  forecast  1               failed in epoch 2:",
        "    TrainingDiverged: the loss became inf at epoch 2",
        "runs/forecast-2-killed  forecast  1               its training process is gone",
        "    (killed, or its machine stopped): nothing marked it finished",
        "runs/forecast-3-done    forecast  3               finished",      # a failed run's copy: no metrics.json
        "runs/forecast-4-broken  ?                         unreadable:",
        "    runs/forecast-4-broken/lstmkit.json is corrupt (not valid JSON)"]
    code, _, err = run_cli(["list", tmp_path / "nothere"], capsys)
    assert_user_error(code, err, "runs folder not found", "--out")
    code, _, err = run_cli(["list", folder / "notes"], capsys)
    assert_user_error(code, err, "holds no run folder")


def test_the_doctor_says_its_report_is_of_an_earlier_try_of_a_run_training_again(diverged_cli_run, tmp_path, capsys):
    """A failed run resumed, then killed (or still training), printed the failed try's report alone, as the run's."""
    import shutil
    _, failed = diverged_cli_run
    run = tmp_path / "run"
    shutil.copytree(failed, run)
    meta = {k: v for k, v in _meta(failed).items() if k != "failure"}
    (run / META_FILE).write_text(json.dumps({**meta, "status": "training"}))
    code, out, _ = run_cli(["doctor", run], capsys)
    assert code == 0 and out.rstrip().splitlines()[-1] == (
        "  this report is of the training before its last resume, whose process is gone (killed, or its machine "
        f"stopped) — continue it with lstmkit forecast train --resume {run}")
    lock = training_lock(run)
    try:
        code, out, _ = run_cli(["doctor", run], capsys)
    finally:
        os.close(lock)
    assert code == 0 and out.rstrip().splitlines()[-1] == ("  the run is being trained again (resumed): this report is "
                                                           "of its training before")


def _strict_json(text: str):
    """``text`` parsed as standard JSON: a NaN or Infinity token (which jq and JavaScript refuse) raises."""
    def refuse(token):
        raise AssertionError(f"{token} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_list_and_doctor_print_strict_json_for_scripts(diverged_cli_run, tmp_path, capsys):
    """'lstmkit list' and 'lstmkit doctor' had no --json: a CI job picking the newest finished run, or
    failing on the doctor's findings, parsed the aligned table or the report's prose."""
    import shutil
    _, failed = diverged_cli_run
    folder = tmp_path / "runs"
    shutil.copytree(failed, folder / "forecast-1-failed")
    (folder / "forecast-2-broken").mkdir()
    (folder / "forecast-2-broken" / META_FILE).write_text("{not json")
    code, out, err = run_cli(["list", folder, "--json"], capsys)
    assert code == 0, err
    rows = _strict_json(out)
    assert [(r["run"], r["task"], r["status"], r["epochs"]) for r in rows] == [
        (f"{folder}/forecast-1-failed", "forecast", "failed", 1), (f"{folder}/forecast-2-broken", None, None, None)]
    assert rows[0]["state"].startswith("failed in epoch 2: TrainingDiverged") and rows[1]["state"].startswith("unreadable")
    code, out, err = run_cli(["doctor", folder / "forecast-1-failed", "--json"], capsys)
    assert code == 0, err
    report = _strict_json(out)
    assert report["stopped"] == "the loss became inf at epoch 2" and report["epochs"][0]["epoch"] == 1
    (note,) = report["notes"]         # the line under the report: the run failed after the doctor wrote
    assert note.startswith("its training failed in epoch 2: TrainingDiverged") and "--lr" in note
