"""lstmkit.tune_storage.HeartbeatStorage on a study in a temporary SQLite file: which running trials it
names stale, and the worker each trial a worker asks for records (no training: trials made by hand)."""
import os
import socket
import subprocess
import sys
import warnings

import optuna
import pytest

from lstmkit.run_lock import this_process
from lstmkit.tune_storage import WORKER, HeartbeatStorage


@pytest.fixture
def storage(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return HeartbeatStorage(f"sqlite:///{tmp_path / 'study.db'}", heartbeat_interval=60, grace_period=120)


def _ended_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_trial_asked_for_records_this_process_as_its_worker(storage):
    study = optuna.create_study(storage=storage, study_name="s")
    trial = study.ask()
    assert storage.get_trial(trial._trial_id).system_attrs[WORKER] == this_process()
    assert this_process() == {"pid": os.getpid(), "host": socket.gethostname()}


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_only_running_trials_whose_worker_on_this_host_has_ended_are_stale_at_once(storage):
    """Within the grace period a running trial is stale only where its worker, on this host, has ended: not
    this (running) process's, not another host's (this host cannot tell), not a finished trial's."""
    study = optuna.create_study(storage=storage, study_name="s")
    sid = study._study_id
    here, ended = socket.gethostname(), _ended_pid()
    ids = {}
    for name, worker in [("alive", {"pid": os.getpid(), "host": here}), ("dead", {"pid": ended, "host": here}),
                         ("elsewhere", {"pid": ended, "host": here + "-other"}), ("none", None)]:
        trial = study.ask()
        ids[name] = trial._trial_id
        storage.set_trial_system_attr(trial._trial_id, WORKER, worker)
    done = study.ask()
    storage.set_trial_system_attr(done._trial_id, WORKER, {"pid": ended, "host": here})
    study.tell(done, 1.0)
    assert storage._get_stale_trial_ids(sid) == [ids["dead"]]
