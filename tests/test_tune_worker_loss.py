"""A worker cut short on a study that several ``lstmkit tune`` workers share: Ctrl-C in one leaves the
other running and the study continuable; the trial of one killed outright (kill -9) is lost, not counted, and
another worker runs one in its place. Workers started together: tests/test_tune_workers.py.
"""
import signal
import time

import optuna
import pytest

from cli_helpers import run_cli
from tune_worker_helpers import (OVERLAPPING_WORKER, STALLED_WORKER, WAITING_WORKER, announced_trials,
                                 check_lost, check_outputs, counted_trials, ended_at_the_end, not_progress_lines,
                                 open_study, start_worker, tune_command)


@pytest.fixture
def command(tmp_path):
    return tune_command(tmp_path)


def test_ctrl_c_in_one_worker_leaves_the_other_running_and_the_study_continuable(tmp_path, command, capsys):
    """The other worker's first trial waits until the cut one is inside a trial (OVERLAPPING_WORKER): left to
    chance, on a loaded machine the other could run all 4 trials while the cut one was still starting, which
    then ran none and never reached its cue. The cut one waits at its cue for the Ctrl-C (WAITING_WORKER): sent
    as the test's process next ran, it landed wherever the worker had got to (between two trials: none cut).
    The other's first trial waits for the cut one's end too: counting the cut trial as one of the 4 while it ran, the
    other could end its last trial first and stop, the study a trial short. Ctrl-C at a random moment of a
    worker's life: benchmarks/tune_interrupt_stress.py."""
    args, inside = [*command, "--trials", "4"], tmp_path / "inside"
    inside.mkdir()
    cut = start_worker([inside, *args], WAITING_WORKER)
    other = start_worker([inside, 3, *args], OVERLAPPING_WORKER)      # 3: the two workers' files and 'cut-ended'
    with ended_at_the_end(cut, other):
        while "epoch 1 of trial" not in (line := cut.stderr.readline()):     # inside its first trial, waiting
            assert line, cut.communicate()
        cut.send_signal(signal.SIGINT)
        _, cut_err = cut.communicate(timeout=600)           # a hang's guard: 120 s ran out on a busy machine
        (inside / "cut-ended").touch()
        stdout, stderr = other.communicate(timeout=600)
    assert cut.returncode == 130, cut_err
    assert [line for line in not_progress_lines(cut_err) if not line.startswith("epoch ")] == [
        f"interrupted; the study is saved in sqlite:///{tmp_path / 'study' / 'study.db'} — run the same command "
        "again to continue"]
    assert other.returncode == 0 and not not_progress_lines(stderr), stderr
    study = open_study(tmp_path / "study")
    (interrupted,) = [t for t in study.trials if t.user_attrs.get("interrupted")]
    assert interrupted.state == optuna.trial.TrialState.FAIL and interrupted.number not in announced_trials(stderr)
    assert len(counted_trials(study)) == 4              # the other worker ran one more in place of the cut one
    check_outputs(tmp_path / "study", study)
    # the same command continues the study: one more place, one more trial
    code, out, err = run_cli([*command, "--trials", "5"], capsys)
    assert code == 0, err
    study = open_study(tmp_path / "study")
    assert len(counted_trials(study)) == 5 and len({t.number for t in study.trials}) == len(study.trials)
    check_outputs(tmp_path / "study", study)


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning", "ignore:Heartbeat of storage")
def test_a_killed_workers_trial_is_lost_not_counted(tmp_path, command, capsys, monkeypatch):
    """A worker killed outright (kill -9, a power cut) left its trial running for ever: with the
    heartbeat another worker fails it once it is silent past the grace period, and runs one in its place."""
    monkeypatch.setattr("lstmkit.tune._HEARTBEAT_S", 1)
    monkeypatch.setattr("lstmkit.tune._GRACE_S", 1)
    (tmp_path / "study").mkdir()
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'study' / 'study.db'}", heartbeat_interval=1,
                                         grace_period=1)
    killed = optuna.create_study(study_name="forecast", storage=storage).ask()
    storage.record_heartbeat(killed._trial_id)          # its last sign of life
    time.sleep(2.5)                                     # SQLite's clock counts whole seconds
    code, out, err = run_cli([*command, "--trials", "1"], capsys)
    assert code == 0, err
    study = open_study(tmp_path / "study")
    assert study.trials[0].state.name == "FAIL" and study.trials[0].user_attrs == {}
    assert [t.number for t in counted_trials(study)] == [1]
    check_lost(tmp_path / "study", [0])


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning", "ignore:Heartbeat of storage")
def test_a_worker_killed_before_its_trials_first_heartbeat_loses_the_trial(tmp_path, command, capsys, monkeypatch):
    """Optuna fails only a trial whose heartbeat went silent: a worker killed between creating its
    trial and the trial's first heartbeat left it running for ever, and the study ended a trial short."""
    monkeypatch.setattr("lstmkit.tune._HEARTBEAT_S", 1)
    monkeypatch.setattr("lstmkit.tune._GRACE_S", 1)
    args = [*command, "--trials", "2"]
    killed = start_worker(args, STALLED_WORKER)
    while "created" not in (line := killed.stderr.readline()):
        assert line, killed.communicate()
    killed.kill()                                       # SIGKILL: no handler runs, no heartbeat recorded
    killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    (lost,) = open_study(tmp_path / "study").trials
    assert lost.state.name == "RUNNING"
    time.sleep(1.5)                                     # past the grace period since the trial began
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    study = open_study(tmp_path / "study")
    assert study.trials[0].state.name == "FAIL" and study.trials[0].user_attrs == {}
    assert [t.number for t in counted_trials(study)] == [1, 2] and announced_trials(err) == [1, 2]
    check_outputs(tmp_path / "study", study)
    check_lost(tmp_path / "study", [0])
