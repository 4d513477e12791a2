"""Several workers on one study: real ``lstmkit tune`` processes on one --out at the same time.

--trials N counts the whole study (N counted trials, not 2N, none lost), trial numbers stay unique,
the outputs describe the whole study whichever worker stops last, a second worker opening a new
storage no longer fails, and Ctrl-C in one worker leaves the other running and the study continuable.
"""
import os
import signal
import subprocess
import sys
import time

import optuna
import pandas as pd
import pytest
import yaml

from cli_helpers import run_cli
from forecast_data import sine_frame
from interrupt_helpers import ctrl_c_reaches_the_child

SPACE = ("hidden_size: {type: int, low: 4, high: 12}\n"
         "lr: {type: float, low: 1.0e-3, high: 1.0e-2, log: true}\n"
         "lookback: [12, 24]\n"
         "batch_size: [32, 64]\n")

# a worker that says on stderr when a trial ends an epoch: the test's cue to press Ctrl-C inside a trial
MARKED_WORKER = """
import sys
import lstmkit.tune as tune
from lstmkit.cli import main
seen = tune._Pruning.on_epoch_end
def marked(self, trainer, logs):
    print(f"epoch {logs['epoch']} of trial {self.trial.number}", file=sys.stderr, flush=True)
    seen(self, trainer, logs)
tune._Pruning.on_epoch_end = marked
main(sys.argv[1:])
"""

# a worker that stops between creating its trial and recording the trial's first heartbeat, and says
# so on stderr: the test's cue to kill it there (kill -9)
STALLED_WORKER = """
import sys, time
import optuna
beat = optuna.storages.RDBStorage.record_heartbeat
def stall(self, trial_id):
    print(f"trial {trial_id} created", file=sys.stderr, flush=True)
    time.sleep(600)
optuna.storages.RDBStorage.record_heartbeat = stall
from lstmkit.cli import main
main(sys.argv[1:])
"""


@pytest.fixture
def command(tmp_path):
    """``lstmkit tune forecast`` args over a tiny series (its --out: tmp_path/study), --trials left out."""
    sine_frame(n=300).to_csv(tmp_path / "sine.csv", index=False)
    (tmp_path / "space.yaml").write_text(SPACE)
    (tmp_path / "base.yaml").write_text("num_layers: 1\nensemble: 1\ntrain:\n  device: cpu\n  doctor: false\n")
    return ["tune", "forecast", "--data", tmp_path / "sine.csv", "--target", "y", "--time", "time",
            "--config", tmp_path / "base.yaml", "--space", tmp_path / "space.yaml", "--epochs", "2",
            "--seed", "0", "--out", tmp_path / "study"]


def _worker(args, code=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}          # two workers share 2 cores
    start = ["-c", code] if code else ["-m", "lstmkit"]
    return subprocess.Popen([sys.executable, *start, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, preexec_fn=ctrl_c_reaches_the_child)


def _study(out):
    return optuna.load_study(study_name="forecast", storage=f"sqlite:///{out / 'study.db'}")


def _counted(study):
    from lstmkit.tune import _counts
    return [t for t in study.trials if _counts(t)]


def _announced(stderr):
    """The trials a worker's progress lines (on standard error) say it ran."""
    return [int(line.split()[1].rstrip(":")) for line in stderr.splitlines() if line.startswith("trial ")]


def _not_progress(stderr):
    """Standard error's lines that are not the study's progress lines (trials, what is searched, the study's count)."""
    return [line for line in stderr.splitlines() if not line.startswith(("trial ", "not searched", "the study "))]


def _check_outputs(out, study):
    """trials.csv lists every trial of the study but the surplus ones, best.yaml names its best, and no
    temp file is left."""
    assert list(pd.read_csv(out / "trials.csv")["number"]) == [t.number for t in study.trials
                                                               if not t.user_attrs.get("surplus")]
    best = yaml.safe_load((out / "best.yaml").read_text())
    header = (out / "best.yaml").read_text().splitlines()[0]
    assert f"(trial {study.best_trial.number}, val_loss {study.best_value:.6g})" in header
    assert best["hidden_size"] == study.best_params["hidden_size"]
    assert best["train"]["lr"] == study.best_params["lr"]
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_two_workers_started_together_fill_one_study_of_n_trials(tmp_path, command):
    """The second worker failed opening the new storage (UNIQUE constraint failed: alembic_version);
    both now run, and the study ends with --trials counted trials, each numbered once."""
    started = time.monotonic()
    workers = [_worker([*command, "--trials", "6"]) for _ in range(2)]
    results = [w.communicate(timeout=120) for w in workers]
    took = time.monotonic() - started
    for w, (stdout, stderr) in zip(workers, results):
        assert w.returncode == 0 and not _not_progress(stderr), stderr
        assert "best val_loss" in stdout and not _announced(stdout)          # the result alone
    ran = [_announced(stderr) for _, stderr in results]
    assert all(ran), ran                                    # each worker ran trials of its own
    study = _study(tmp_path / "study")
    counted = _counted(study)
    assert len(counted) == 6 and len({t.number for t in study.trials}) == len(study.trials)
    assert sorted(ran[0] + ran[1]) == [t.number for t in study.trials]      # each trial run by one worker
    assert all(t.user_attrs.get("surplus") for t in study.trials if t not in counted)
    params = pd.DataFrame([t.params for t in counted])
    assert not params.duplicated().any()                     # --seed did not give both workers one sequence
    _check_outputs(tmp_path / "study", study)
    print(f"two workers, 6 trials: {took:.1f} s; worker trials {ran}")


def test_ctrl_c_in_one_worker_leaves_the_other_running_and_the_study_continuable(tmp_path, command, capsys):
    args = [*command, "--trials", "4"]
    cut = _worker(args, MARKED_WORKER)
    other = _worker(args)
    while "epoch 1 of trial" not in (line := cut.stderr.readline()):     # inside its first trial
        assert line, cut.communicate()
    cut.send_signal(signal.SIGINT)
    _, cut_err = cut.communicate(timeout=120)
    stdout, stderr = other.communicate(timeout=120)
    assert cut.returncode == 130, cut_err
    assert [line for line in _not_progress(cut_err) if not line.startswith("epoch ")] == [
        f"interrupted; the study is saved in sqlite:///{tmp_path / 'study' / 'study.db'} — run the same command "
        "again to continue"]
    assert other.returncode == 0 and not _not_progress(stderr), stderr
    study = _study(tmp_path / "study")
    (interrupted,) = [t for t in study.trials if t.user_attrs.get("interrupted")]
    assert interrupted.state == optuna.trial.TrialState.FAIL and interrupted.number not in _announced(stderr)
    assert len(_counted(study)) == 4              # the other worker ran one more in place of the cut one
    _check_outputs(tmp_path / "study", study)
    # the same command continues the study: one more place, one more trial
    code, out, err = run_cli([*command, "--trials", "5"], capsys)
    assert code == 0, err
    study = _study(tmp_path / "study")
    assert len(_counted(study)) == 5 and len({t.number for t in study.trials}) == len(study.trials)
    _check_outputs(tmp_path / "study", study)


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
    assert code == 0 and not _not_progress(err) and len(calls) == 2, err
    assert len(_counted(_study(tmp_path / "study"))) == 1


def test_a_storage_locked_past_the_timeout_is_one_line(tmp_path, command, capsys, monkeypatch):
    import sqlite3
    from sqlalchemy.exc import OperationalError

    def locked(self, *args, **kwargs):
        raise OperationalError("INSERT INTO trials", {}, sqlite3.OperationalError("database is locked"))
    monkeypatch.setattr(optuna.study.Study, "ask", locked)
    code, out, err = run_cli([*command, "--trials", "1"], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "stayed locked by other workers for over 120 s" in err and "postgresql://" in err


def test_a_trial_two_workers_start_past_n_is_surplus_and_not_run(tmp_path, command, capsys, monkeypatch):
    """Both workers found one place left and each started a trial: the later-numbered one stops unrun."""
    code, _, err = run_cli([*command, "--trials", "1"], capsys)      # makes the study, 1 trial
    assert code == 0, err
    other, real = _study(tmp_path / "study"), optuna.study.Study.ask
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
    study = _study(tmp_path / "study")
    assert study.trials[2].user_attrs == {"surplus": True} and study.trials[1].state.name == "RUNNING"
    rows = pd.read_csv(tmp_path / "study" / "trials.csv")       # the surplus trial drew nothing and ran nothing:
    assert list(rows["number"]) == [0, 1] and list(rows["state"]) == ["COMPLETE", "RUNNING"]   # no row
    assert not [c for c in rows if "surplus" in c]
    assert len(_counted(study)) == 1
    # a worker started now finds the last place taken by the other worker's running trial
    monkeypatch.setattr(optuna.study.Study, "ask", real)
    code, out, err = run_cli([*command, "--trials", "2"], capsys)
    assert code == 0 and not fit_calls, err
    assert "holds 1 trial and other workers are running 1 (--trials 2 counts the whole study): none run here" in err
    assert len(_study(tmp_path / "study").trials) == 3
    other.tell(taken[0], 0.5)
    assert len(_counted(_study(tmp_path / "study"))) == 2


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
    study = _study(tmp_path / "study")
    assert study.trials[0].state.name == "FAIL" and study.trials[0].user_attrs == {}
    assert [t.number for t in _counted(study)] == [1]
    _check_lost(tmp_path / "study", [0])


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning", "ignore:Heartbeat of storage")
def test_a_worker_killed_before_its_trials_first_heartbeat_loses_the_trial(tmp_path, command, capsys, monkeypatch):
    """Optuna fails only a trial whose heartbeat went silent: a worker killed between creating its
    trial and the trial's first heartbeat left it running for ever, and the study ended a trial short."""
    monkeypatch.setattr("lstmkit.tune._HEARTBEAT_S", 1)
    monkeypatch.setattr("lstmkit.tune._GRACE_S", 1)
    args = [*command, "--trials", "2"]
    killed = _worker(args, STALLED_WORKER)
    while "created" not in (line := killed.stderr.readline()):
        assert line, killed.communicate()
    killed.kill()                                       # SIGKILL: no handler runs, no heartbeat recorded
    killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    (lost,) = _study(tmp_path / "study").trials
    assert lost.state.name == "RUNNING"
    time.sleep(1.5)                                     # past the grace period since the trial began
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    study = _study(tmp_path / "study")
    assert study.trials[0].state.name == "FAIL" and study.trials[0].user_attrs == {}
    assert [t.number for t in _counted(study)] == [1, 2] and _announced(err) == [1, 2]
    _check_outputs(tmp_path / "study", study)
    _check_lost(tmp_path / "study", [0])


def _check_lost(out, lost):
    """trials.csv marks the trials numbered ``lost`` as its worker's loss, as the interrupted ones are
    marked: a FAIL row with no reason read as a setting that failed."""
    rows = pd.read_csv(out / "trials.csv")
    assert rows["user_attrs_worker_lost"].eq(True).tolist() == [n in lost for n in rows["number"]]
    assert set(rows.loc[rows["number"].isin(lost), "state"]) == {"FAIL"}


def test_a_storage_that_fails_while_the_outputs_are_read_is_one_line(tmp_path, command, capsys, monkeypatch):
    """Outside the search itself (the study read for best.yaml) a locked database was a traceback."""
    import sqlite3
    from sqlalchemy.exc import OperationalError

    def locked(*args, **kwargs):
        raise OperationalError("SELECT trials", {}, sqlite3.OperationalError("database is locked"))
    monkeypatch.setattr("lstmkit.tune._write_outputs", locked)
    code, out, err = run_cli([*command, "--trials", "1"], capsys)
    assert code == 2 and len(_not_progress(err)) == 1 and "Traceback" not in err and "stayed locked" in err, err
