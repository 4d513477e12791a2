"""Several workers on one study: real ``lstmkit tune`` processes on one --out at the same time.

--trials N counts the whole study (N counted trials, not 2N, none lost), trial numbers stay unique,
the outputs describe the whole study whichever worker stops last, and a second worker opening a new
storage no longer fails. A worker cut short (Ctrl-C, kill -9): tests/test_tune_worker_loss.py.
"""
import time

import optuna
import pandas as pd
import pytest

from cli_helpers import run_cli
from tune_worker_helpers import (OVERLAPPING_WORKER, announced_trials, check_outputs, counted_trials,
                                 not_progress_lines, open_study, start_worker, tune_command)


@pytest.fixture
def command(tmp_path):
    return tune_command(tmp_path)


def test_two_workers_started_together_fill_one_study_of_n_trials(tmp_path, command):
    """The second worker failed opening the new storage (UNIQUE constraint failed: alembic_version);
    both now run, and the study ends with --trials counted trials, each numbered once. Each worker's first
    trial waits until the other's has started (OVERLAPPING_WORKER): left to chance, one worker could run all 6
    while the other was still starting on a loaded machine."""
    (tmp_path / "inside").mkdir()
    started = time.monotonic()
    workers = [start_worker([tmp_path / "inside", 2, *command, "--trials", "6"], OVERLAPPING_WORKER)
               for _ in range(2)]
    results = [w.communicate(timeout=600) for w in workers]     # a hang's guard: 120 s ran out on a busy machine
    took = time.monotonic() - started
    for w, (stdout, stderr) in zip(workers, results):
        assert w.returncode == 0 and not not_progress_lines(stderr), stderr
        assert "best val_loss" in stdout and not announced_trials(stdout)          # the result alone
    ran = [announced_trials(stderr) for _, stderr in results]
    assert all(ran), ran                                    # each worker ran trials of its own
    study = open_study(tmp_path / "study")
    counted = counted_trials(study)
    assert len(counted) == 6 and len({t.number for t in study.trials}) == len(study.trials)
    assert sorted(ran[0] + ran[1]) == [t.number for t in study.trials]      # each trial run by one worker
    assert all(t.user_attrs.get("surplus") for t in study.trials if t not in counted)
    params = pd.DataFrame([t.params for t in counted])
    assert not params.duplicated().any()                     # --seed did not give both workers one sequence
    check_outputs(tmp_path / "study", study)
    print(f"two workers, 6 trials: {took:.1f} s; worker trials {ran}")


def test_a_worker_that_loses_the_race_to_create_the_storage_opens_it_again(tmp_path, command, capsys, monkeypatch):
    from sqlalchemy.exc import IntegrityError
    real, calls = optuna.create_study, []

    def raced(*args, **kwargs):           # what the second of two new workers met: the first made the tables
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError("INSERT INTO alembic_version", {}, Exception("UNIQUE constraint failed"))
        return real(*args, **kwargs)
    monkeypatch.setattr(optuna, "create_study", raced)
    code, out, err = run_cli([*command, "--trials", "1"], capsys)
    assert code == 0 and not not_progress_lines(err) and len(calls) == 2, err
    assert len(counted_trials(open_study(tmp_path / "study"))) == 1


def test_a_storage_locked_past_the_timeout_is_one_line(tmp_path, command, capsys, monkeypatch):
    import sqlite3
    from sqlalchemy.exc import OperationalError

    def locked(self, *args, **kwargs):
        raise OperationalError("INSERT INTO trials", {}, sqlite3.OperationalError("database is locked"))
    monkeypatch.setattr(optuna.study.Study, "ask", locked)
    code, out, err = run_cli([*command, "--trials", "1"], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "stayed locked by other workers for over 120 s" in err and "postgresql://" in err


def test_a_tell_locked_past_the_timeout_is_one_line_not_optunas_assertion(tmp_path, command, capsys, monkeypatch):
    """Optuna raises a failed commit as its StorageInternalError, and a tell failing so in its ``_run_trial``
    as an AssertionError ('Should not reach'): both went out as a traceback, exit 1."""
    import sqlite3
    from sqlalchemy.exc import OperationalError

    from lstmkit.tune_storage import HeartbeatStorage
    real = HeartbeatStorage.set_trial_state_values

    def locked(self, trial_id, state, values=None):
        if not state.is_finished():
            return real(self, trial_id, state, values)
        try:
            raise OperationalError("UPDATE trials", {}, sqlite3.OperationalError("database is locked"))
        except OperationalError as e:       # as optuna's _create_scoped_session raises it
            raise optuna.exceptions.StorageInternalError("An exception is raised during the commit.") from e
    monkeypatch.setattr(HeartbeatStorage, "set_trial_state_values", locked)
    code, out, err = run_cli([*command, "--trials", "1"], capsys)
    assert code == 2 and len(not_progress_lines(err)) == 1 and "Traceback" not in err, err
    assert "stayed locked by other workers for over 120 s (" in err and "database is locked" in err, err


def test_a_trial_two_workers_start_past_n_is_surplus_and_not_run(tmp_path, command, capsys, monkeypatch):
    """Both workers found one place left and each started a trial: the later-numbered one stops unrun."""
    code, _, err = run_cli([*command, "--trials", "1"], capsys)      # makes the study, 1 trial
    assert code == 0, err
    other, real = open_study(tmp_path / "study"), optuna.study.Study.ask
    taken = []

    def other_worker_first(self, *args, **kwargs):
        if not taken:
            taken.append(real(other))        # the other worker's trial, numbered first
        return real(self, *args, **kwargs)
    monkeypatch.setattr(optuna.study.Study, "ask", other_worker_first)
    fit_calls = []
    monkeypatch.setattr("lstmkit.tasks.forecast.estimator.Forecaster.fit", lambda *a, **k: fit_calls.append(1))
    code, out, err = run_cli([*command, "--trials", "2"], capsys)
    assert code == 0, err
    assert "trial 2: not run: other workers have taken the study's last trials" in err and not fit_calls
    study = open_study(tmp_path / "study")
    assert study.trials[2].user_attrs == {"surplus": True} and study.trials[1].state.name == "RUNNING"
    rows = pd.read_csv(tmp_path / "study" / "trials.csv")       # the surplus trial drew nothing and ran nothing:
    assert list(rows["number"]) == [0, 1] and list(rows["state"]) == ["COMPLETE", "RUNNING"]   # no row
    assert not [c for c in rows if "surplus" in c]
    assert len(counted_trials(study)) == 1
    # a worker started now finds the last place taken by the other worker's running trial
    monkeypatch.setattr(optuna.study.Study, "ask", real)
    code, out, err = run_cli([*command, "--trials", "2"], capsys)
    assert code == 0 and not fit_calls, err
    assert "holds 1 trial and other workers are running 1 (--trials 2 counts the whole study): none run here" in err
    assert len(open_study(tmp_path / "study").trials) == 3
    other.tell(taken[0], 0.5)
    assert len(counted_trials(open_study(tmp_path / "study"))) == 2


def test_a_storage_that_fails_while_the_outputs_are_read_is_one_line(tmp_path, command, capsys, monkeypatch):
    """Outside the search itself (the study read for best.yaml) a locked database was a traceback."""
    import sqlite3
    from sqlalchemy.exc import OperationalError

    def locked(*args, **kwargs):
        raise OperationalError("SELECT trials", {}, sqlite3.OperationalError("database is locked"))
    monkeypatch.setattr("lstmkit.tune._write_outputs", locked)
    code, out, err = run_cli([*command, "--trials", "1"], capsys)
    assert code == 2 and len(not_progress_lines(err)) == 1 and "Traceback" not in err and "stayed locked" in err, err


def _raised(make):
    try:
        make()
    except BaseException as e:      # noqa: BLE001 (the error, its chain as Python built it)
        return e


def test_a_storage_error_is_found_by_the_error_raised_from_before_the_one_being_handled():
    """An error raised from a database error while another was being handled (optuna's commit failing in a
    clean-up): the storage line is the database's own words from its cause; a chain with no database error in it
    (a cause or a context, looping back on itself) is left as it is."""
    import sqlite3
    from sqlalchemy.exc import OperationalError

    from lstmkit.errors import LstmkitError
    from lstmkit.tune import _storage_errors

    locked = OperationalError("UPDATE trials", {}, sqlite3.OperationalError("database is locked"))

    def commit_failed_in_a_clean_up():
        try:
            raise ValueError("a trial's own error")
        except ValueError:
            raise optuna.exceptions.StorageInternalError("An exception is raised during the commit.") from locked
    error = _raised(commit_failed_in_a_clean_up)
    assert isinstance(error.__context__, ValueError) and error.__cause__ is locked

    def tell_failed_so():                   # optuna's _run_trial, its tell failed while handling that
        try:
            raise error
        except optuna.exceptions.StorageInternalError:
            raise AssertionError("Should not reach.")
    for chain in (error, _raised(tell_failed_so)):
        with pytest.raises(LstmkitError) as said:
            with _storage_errors("sqlite:///study.db"):
                raise chain
        assert "stayed locked by other workers for over 120 s ((sqlite3.OperationalError) database is locked" in str(
            said.value), said.value
    looped = ValueError("its own context")
    looped.__context__ = ValueError("and back")
    looped.__context__.__cause__ = looped
    with pytest.raises(ValueError, match="its own context"):
        with _storage_errors("sqlite:///study.db"):
            raise looped
