"""A run folder's life told from its files alone: run folders built by hand (``lstmkit.json`` with the fields
the readers read, ``checkpoints/last.json``), and what ``lstmkit list``, the failure messages and the
resume checks say of each, worked out from what the folder holds. No training: each test is milliseconds."""
import json
import os
import socket
from pathlib import Path

import pytest

from lstmkit.errors import LstmkitError, TrainingDiverged
from lstmkit.run_list import format_runs, list_runs
from lstmkit.run_lock import training_lock
from lstmkit.run_reuse import is_own_run
from lstmkit.run_status import (checkpoint_epochs_said, failed_line, failure_fix, failure_record, not_finished,
                                resume_verdict, say_resuming_failed, unfinished_state)
from lstmkit.runs import FORMAT_VERSION, META_FILE
from lstmkit.version import __version__


def _run(folder: Path, checkpoint_epochs: int | None = None, **meta) -> Path:
    """A run folder holding ``lstmkit.json`` (``meta`` over the fields every run has) and, given
    ``checkpoint_epochs``, the checkpoint's readable copy that says how many epochs it holds."""
    folder.mkdir(parents=True)
    record = {"format_version": FORMAT_VERSION, "task": "forecast", "lstmkit_version": __version__, **meta}
    (folder / META_FILE).write_text(json.dumps(record))
    if checkpoint_epochs is not None:
        (folder / "checkpoints").mkdir()
        (folder / "checkpoints" / "last.json").write_text(json.dumps({"epoch": checkpoint_epochs}))
    return folder


# -- failure_record: what a failed run's lstmkit.json keeps of the error -------------------------------------------
def test_a_failure_message_is_kept_whole_up_to_500_characters_and_cut_to_500_past_them():
    whole = failure_record(RuntimeError("x" * 500), epoch=1, stage="training", checkpoint_epochs=0)
    assert whole["error"] == "RuntimeError: " + "x" * 500
    cut = failure_record(RuntimeError("y" * 501), epoch=1, stage="training", checkpoint_epochs=0)
    assert cut["error"] == "RuntimeError: " + "y" * 497 + "..."          # 500 characters of the message in all
    assert len(cut["error"]) - len("RuntimeError: ") == 500


@pytest.mark.parametrize("best, held, kept", [(1, 3, True), (3, 3, True), (4, 3, False), (0, 3, False),
                                              (None, 3, False), (1, 0, False)])
def test_the_best_epoch_is_recorded_only_where_the_checkpoint_holds_it(best, held, kept):
    """Epochs count from 1; the checkpoint holds epochs 1 .. held: a best epoch outside them is no epoch to name."""
    record = failure_record(RuntimeError("boom"), epoch=held + 1, stage="training", checkpoint_epochs=held,
                            best_epoch=best)
    assert ("best_epoch" in record) is kept
    if kept:
        assert record["best_epoch"] == best


def test_only_a_diverged_loss_is_recorded_as_diverged():
    assert failure_record(TrainingDiverged("the loss became nan at epoch 2"), epoch=2, stage="training",
                          checkpoint_epochs=1)["diverged"] is True
    assert "diverged" not in failure_record(RuntimeError("boom"), epoch=2, stage="training", checkpoint_epochs=1)


# -- failed_line: where a run failed, in words -----------------------------------------------------------------------
@pytest.mark.parametrize("failure, said", [
    ({"error": "E: x", "stage": "training", "epoch": 2}, " in epoch 2: E: x"),
    ({"error": "E: x", "stage": "training", "epoch": None, "checkpoint_epochs": 0}, " before its first epoch: E: x"),
    ({"error": "E: x", "stage": "after training", "epoch": 3},
     " after its last epoch (3), while scoring or saving: E: x"),
    ({"error": "E: x", "stage": "after training"}, " after its last epoch, while scoring or saving: E: x"),
    ({"error": "E: x", "stage": "setup", "epoch": None, "checkpoint_epochs": 2},
     " while a resume set up training after epoch 2: E: x"),
    ({"error": "E: x", "stage": "setup", "epoch": None, "checkpoint_epochs": 1},
     " while a resume set up training after epoch 1: E: x"),
    ({"error": "E: x", "stage": "setup", "epoch": None, "checkpoint_epochs": 0}, " before its first epoch: E: x"),
    ({"stage": "training", "epoch": 2}, ", with no record of why"),
    ({}, ", with no record of why"),
])
def test_a_failed_line_names_where_the_run_failed(failure, said):
    assert failed_line(failure) == said


# -- checkpoints/last.json: the epochs a checkpoint holds -----------------------------------------------------------
@pytest.mark.parametrize("epoch, said", [(0, 0), (1, 1), (5, 5), (-1, None), (True, None), (2.0, None), ("3", None)])
def test_the_checkpoint_says_its_epochs_only_as_a_count(tmp_path, epoch, said):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.json").write_text(json.dumps({"epoch": epoch}))
    assert checkpoint_epochs_said(tmp_path) == said


# -- resume_verdict: a diverged run is not resumed -------------------------------------------------------------------
def test_only_a_failed_run_whose_loss_diverged_is_refused_a_resume(tmp_path):
    diverged = {"error": "TrainingDiverged: the loss became inf", "stage": "training", "epoch": 2, "diverged": True}
    refused = resume_verdict(tmp_path, {"status": "failed", "failure": diverged, "config": {"train": {"lr": 0.01}}})
    assert isinstance(refused, LstmkitError) and "would diverge the same way" in refused.message
    assert "0.001" in refused.hint and "a tenth of this run's" in refused.hint     # 0.01 / 10
    assert resume_verdict(tmp_path, {"status": "failed", "failure": {**diverged, "diverged": False}}) is None
    assert resume_verdict(tmp_path, {"status": "interrupted", "failure": diverged}) is None
    # no positive learning rate recorded: no tenth of it to suggest
    for lr in (0, -1.0, None):
        hint = resume_verdict(tmp_path, {"status": "failed", "failure": diverged, "config": {"train": {"lr": lr}}}).hint
        assert "a tenth" not in hint
    # clipping turned off (clip_norm None) is the setting to turn on; a run that clipped keeps it
    off = resume_verdict(tmp_path, {"status": "failed", "failure": diverged, "config": {"train": {"clip_norm": None}}})
    kept = resume_verdict(tmp_path, {"status": "failed", "failure": diverged, "config": {"train": {"clip_norm": 1.0}}})
    assert "gradient clipping on" in off.hint and "gradient clipping kept on" in kept.hint


# -- lstmkit list: each run's state from its own files ---------------------------------------------------------------
def test_a_run_folder_a_kill_minus_9_left_before_its_first_record_is_listed_not_passed_over(tmp_path, monkeypatch):
    """A train command makes ``<task>-<stamp>`` and writes lstmkit.json once it has set up: a process killed in
    between (kill -9, the machine stopped) left an empty folder that 'lstmkit list' left out without a word,
    and a folder holding only such runs was 'holds no run folder'."""
    runs = tmp_path / "runs"
    (runs / "forecast-20260101-120000").mkdir(parents=True)
    (runs / "lm-20260101-130000-2").mkdir()
    (runs / "notes").mkdir()                             # not a run's name: not a run
    (runs / "backtest-20260101-140000").mkdir()          # backtest is no task: its folder is not a run
    rows = list_runs(runs)
    assert [(Path(r["run"]).name, r["task"], r["status"], r["epochs"]) for r in rows] == [
        ("forecast-20260101-120000", "forecast", None, None), ("lm-20260101-130000-2", "lm", None, None)]
    assert rows[0]["state"] == "no record: stopped before its first record (killed, or its machine stopped)"
    # one whose process holds it is still setting up, not stopped
    lock = training_lock(runs / "lm-20260101-130000-2")
    try:
        assert list_runs(runs)[1]["state"] == "no record yet: its process is setting up"
    finally:
        os.close(lock)
    monkeypatch.chdir(tmp_path)                              # a short path: the state begins on the run's line
    lines = format_runs(list_runs(Path("runs"))).splitlines()
    assert lines[1].split()[1:3] == ["forecast", "no"]         # task, then the state: no epochs
    # where the file system has no locks, nothing tells a killed process from one setting up
    import lstmkit.run_lock as run_lock
    monkeypatch.setattr(run_lock, "_lock_held", lambda run: None)
    assert list_runs(runs)[0]["state"] == ("no record: stopped before its first record, or still setting up "
                                           "(this machine cannot tell)")


def test_lstmkit_list_tells_each_hand_built_run_by_its_own_record(tmp_path):
    runs = tmp_path / "runs"
    _run(runs / "forecast-20260101-000001", 2, status="finished", training={"epochs_run": 7})
    _run(runs / "forecast-20260101-000002", 2, status="interrupted")
    _run(runs / "forecast-20260101-000003", 3, status="failed",
         failure={"error": "RuntimeError: boom", "stage": "training", "epoch": 4})
    _run(runs / "forecast-20260101-000004", status="failed", failure="not a record")
    rows = list_runs(runs)
    assert [(r["status"], r["epochs"], r["state"]) for r in rows] == [
        ("finished", 7, "finished"),                                   # a finished run: the epochs it ran
        ("interrupted", 2, "interrupted"),                             # else the epochs its checkpoint holds
        ("failed", 3, "failed in epoch 4: RuntimeError: boom"),
        ("failed", None, "failed, with no record of why")]
    # one run folder given is listed alone, not its sub-folders
    (one,) = list_runs(runs / "forecast-20260101-000002")
    assert one["state"] == "interrupted"


def test_format_runs_aligns_the_columns_to_the_longest_cell():
    rows = [{"run": "a", "task": "forecast", "epochs": 12, "state": "finished"},
            {"run": "runs/longer", "task": None, "epochs": None, "state": "unreadable: x"}]
    assert format_runs(rows).splitlines() == [
        "run          task      epochs  metric  state",
        "a            forecast  12              finished",
        "runs/longer  ?                         unreadable: x"]


# -- unfinished_state: a run marked training ---------------------------------------------------------------------------
def test_a_run_marked_training_that_no_process_holds_is_told_gone_and_one_held_still_training(tmp_path):
    meta = {"status": "training", "process": {"pid": 12345, "host": "elsewhere"}}
    assert unfinished_state(tmp_path, meta).startswith("its training process is gone")
    lock = training_lock(tmp_path)
    try:
        assert unfinished_state(tmp_path, meta) == "still training (process 12345 on elsewhere)"
        assert unfinished_state(tmp_path, {"status": "training"}) == "still training"
        assert unfinished_state(tmp_path, {"status": "training", "process": {"host": "h"}}) == "still training"
    finally:
        os.close(lock)
    assert unfinished_state(tmp_path, {"status": "interrupted"}) == "interrupted"
    failed = {"status": "failed", "failure": {"error": "E: x", "stage": "training", "epoch": 1}}
    assert unfinished_state(tmp_path, failed) == "its training failed in epoch 1: E: x"


# -- not_finished: what a reader that needs a finished run says ------------------------------------------------------
def test_a_reader_names_a_gone_trainer_only_for_a_run_marked_training(tmp_path):
    """No process holds any of these folders: a run marked 'training' was left by a process that is gone; one
    'interrupted' (Ctrl-C, SIGTERM) was marked so by its own process, and is said as such."""
    gone = _run(tmp_path / "gone", 2, status="training")
    error = not_finished(gone, {"status": "training"}, "RESUME")
    assert "the process that trained it is gone" in error.message
    assert error.hint == "its checkpoint holds 2 epochs; continue it with RESUME"
    one = _run(tmp_path / "one", 1, status="training")
    assert not_finished(one, {"status": "training"}, "R").hint == "its checkpoint holds 1 epoch; continue it with R"
    none = _run(tmp_path / "none", status="training")
    assert not_finished(none, {"status": "training"}, "RESUME").hint == "continue it with RESUME"
    stopped = _run(tmp_path / "stopped", 2, status="interrupted")
    error = not_finished(stopped, {"status": "interrupted"}, "RESUME")
    assert (error.message, error.hint) == (f"{stopped} holds an unfinished run (status: interrupted)",
                                           "continue it with RESUME")


@pytest.mark.parametrize("stage, held, best, hint", [
    ("after training", 3, None, "its checkpoint holds every epoch (3): fix the cause, then R scores and saves the "
                                "model without training again"),
    ("after training", None, None, "it failed before its first checkpoint, so nothing was trained to keep: fix the "
                                   "cause, then R trains it from the beginning"),
    ("training", 2, 1, "its checkpoint holds 2 epochs (the best so far is epoch 1's weights, kept in it): fix the "
                       "cause, then continue it with R"),
    ("training", 1, None, "its checkpoint holds 1 epoch: fix the cause, then continue it with R"),
])
def test_a_failed_runs_fix_follows_what_its_checkpoint_holds(tmp_path, stage, held, best, hint):
    failure = {"error": "E: x", "stage": stage, "epoch": 3, **({"best_epoch": best} if best else {})}
    run = _run(tmp_path / "run", held, status="failed", failure=failure)
    assert failure_fix(run, {"status": "failed", "failure": failure}, "R") == hint


# -- run_reuse: whose run a folder holds --------------------------------------------------------------------------
def test_a_run_without_a_name_is_not_the_models_when_its_training_folder_is_gone(tmp_path):
    """A run written before runs had a name is the model's only where the model was trained into (or loaded
    from) that very folder: with that folder deleted or moved nothing says so, and the run in the folder
    saved into is another's (saved over, its history and checkpoints would describe a model not there)."""
    folder = _run(tmp_path / "theirs", status="finished")
    assert is_own_run({"task": "forecast"}, "forecast", "mine", folder, folder)
    assert not is_own_run({"task": "forecast"}, "forecast", "mine", tmp_path / "deleted", folder)


# -- process_gone without locks: the process a run records ------------------------------------------------------------
@pytest.fixture
def no_locks(monkeypatch):
    """A file system without locks (some network mounts): the recorded process id and host are all that tell."""
    import lstmkit.run_lock as run_lock
    monkeypatch.setattr(run_lock, "_lock_held", lambda run: None)
    return run_lock


@pytest.mark.parametrize("pid", [0, -5, True, "123", 2.0, None])
def test_a_recorded_process_id_that_is_no_process_id_tells_nothing(tmp_path, no_locks, pid):
    """Process ids are positive integers: os.kill(0, 0) asks of this process group and kill(-5, 0) of group 5,
    which run, so 0 and negatives said a trainer 'still running'; True is no id (it is 1 to os.kill)."""
    assert no_locks.process_gone(tmp_path, {"process": {"pid": pid, "host": socket.gethostname()}}) is None


def test_a_recorded_process_this_user_may_not_signal_is_running(tmp_path, no_locks, monkeypatch):
    """EPERM: the process exists, another user's; ESRCH: there is none."""
    here = socket.gethostname()

    def kill(pid, sig, error=PermissionError):
        raise error(1, "Operation not permitted")
    monkeypatch.setattr(no_locks.os, "kill", kill)
    assert no_locks.process_gone(tmp_path, {"process": {"pid": 1, "host": here}}) is False
    monkeypatch.setattr(no_locks.os, "kill", lambda pid, sig: kill(pid, sig, ProcessLookupError))
    assert no_locks.process_gone(tmp_path, {"process": {"pid": 1, "host": here}}) is True
    monkeypatch.setattr(no_locks.os, "kill", lambda pid, sig: None)
    assert no_locks.process_gone(tmp_path, {"process": {"pid": 1, "host": here}}) is False


def test_an_empty_folder_of_the_run_that_cannot_be_deleted_is_an_error_and_one_holding_a_file_is_kept(
        tmp_path, monkeypatch):
    """clear_files deletes a folder once it is empty: one still holding the user's file is kept without a word
    (rmdir's 'not empty'), but an empty one that could not be deleted (no permission) is said, not passed over."""
    from lstmkit.errors import EnvironmentProblem
    from lstmkit.run_reuse import clear_files
    (tmp_path / "plots").mkdir()
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "mine.png").write_text("x")
    real = Path.rmdir

    def rmdir(self):
        if self.name == "plots":
            raise PermissionError(13, "Permission denied")
        return real(self)
    monkeypatch.setattr(Path, "rmdir", rmdir)
    clear_files(tmp_path, ("kept",))
    assert (tmp_path / "kept" / "mine.png").is_file()
    with pytest.raises(EnvironmentProblem, match=r"could not delete .*plots \(permission denied\)"):
        clear_files(tmp_path, ("plots",))


# -- run_resume: which run a resume continues, and with what ----------------------------------------------------------
def test_a_resume_continues_only_an_unfinished_run_with_its_own_settings(tmp_path):
    """A resume continues the checkpoint's training: another setting (the line's slope) would be taken silently
    while lstmkit.json recorded settings the run never trained with. How the run shows (progress) may change;
    a finished run has nothing to continue."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from line_estimator import _Line
    run = tmp_path / "run"
    _Line().fit(run_dir=run)
    with pytest.raises(LstmkitError, match="already finished training"):
        _Line().fit(run_dir=run, resume=True)
    meta = json.loads((run / META_FILE).read_text())
    (run / META_FILE).write_text(json.dumps({**meta, "status": "interrupted"}))
    with pytest.raises(LstmkitError, match=r"was trained with slope=2\.0, not 3\.0; a resumed run must keep its "):
        _Line().fit(run_dir=run, resume=True, slope=3.0)
    with pytest.raises(LstmkitError, match="resume=True needs run_dir"):
        _Line().fit(resume=True)
    resumed = _Line().fit(run_dir=run, resume=True, progress="log")
    assert json.loads((run / META_FILE).read_text())["status"] == "finished" and resumed.result_.epochs_run == 3


# -- say_resuming_failed: the one warning a resume of a failed run gives ----------------------------------------------
def test_a_resume_warns_once_of_a_failed_run_and_of_no_other(tmp_path, recwarn):
    failure = {"error": "RuntimeError: boom", "stage": "training", "epoch": 2}
    held = _run(tmp_path / "held", 1, status="failed", failure=failure)
    say_resuming_failed(held, {"status": "failed", "failure": failure})
    none = _run(tmp_path / "none", status="failed", failure=failure)
    say_resuming_failed(none, {"status": "failed", "failure": failure})
    say_resuming_failed(held, {"status": "interrupted"})          # not failed: resumed without a word
    assert [str(w.message) for w in recwarn] == [
        f"{held} failed in epoch 2: RuntimeError: boom; continuing from its checkpoint after epoch 1",
        f"{none} failed in epoch 2: RuntimeError: boom; it failed before its first checkpoint: training starts "
        "from the beginning"]
