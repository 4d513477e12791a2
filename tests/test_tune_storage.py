"""lstmkit.tune_storage.HeartbeatStorage on a study in a temporary SQLite file: which running trials it
names stale, and the worker each trial a worker asks for records (no training: trials made by hand)."""
import io
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import warnings

import optuna
import pytest

from lstmkit.errors import terminate_as_interrupt
from lstmkit.run_lock import this_process
from lstmkit.tune_storage import HOLDING_LINE, WORKER, HeartbeatStorage


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


def _interrupting_the_first_select(engine):
    """A Ctrl-C that lands just after SQLite ran the first SELECT on ``engine`` (its first row read, the
    statement still open), inside SQLAlchemy's execute: where a worker's pruning report is when the user
    presses it."""
    from sqlalchemy import event
    hit = []

    def interrupt(conn, cursor, statement, *args):
        if not hit and statement.lstrip().upper().startswith("SELECT"):
            hit.append(statement)
            raise KeyboardInterrupt
    event.listen(engine, "after_cursor_execute", interrupt)
    return hit


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_ctrl_c_inside_a_storage_read_leaves_the_study_unlocked(tmp_path):
    """The interrupted read's cursor, kept alive by the traceback (optuna's ``_run_trial`` keeps the
    trial's error to the end), held SQLite's lock: SQLAlchemy closed the connection, which SQLite then keeps
    as a zombie until the statement is finalized. Every other connection's commit, this worker's heartbeat
    and tell too, waited out the busy timeout (120 s) and failed 'database is locked': the cut worker ended
    with a traceback and exit 1, not 130. Here the busy timeout is 0.5 s."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    quick = {"connect_args": {"timeout": 0.5}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = HeartbeatStorage(url, engine_kwargs=quick, heartbeat_interval=60, grace_period=120)
        other = HeartbeatStorage(url, engine_kwargs=quick, heartbeat_interval=60, grace_period=120)
    study = optuna.create_study(storage=storage, study_name="s")
    trial = study.ask()
    storage.set_trial_intermediate_value(trial._trial_id, 0, 1.0)
    hit = _interrupting_the_first_select(storage.engine)
    with pytest.raises(KeyboardInterrupt) as cut:       # kept, as optuna keeps it while it tells the trial
        storage.get_trial(trial._trial_id)
    assert hit and cut.value.__traceback__ is not None
    other.record_heartbeat(trial._trial_id)                        # another worker writes
    storage.set_trial_user_attr(trial._trial_id, "interrupted", True)   # and this one marks its trial cut
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    assert other.get_trial(trial._trial_id).state == optuna.trial.TrialState.FAIL


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_heartbeat_the_locked_storage_fails_is_skipped_not_a_thread_traceback(tmp_path):
    """Locked past the busy timeout, optuna's heartbeat raised in its thread: a traceback on standard error
    in the middle of the trial lines. The next heartbeat, an interval later, records it."""
    import sqlite3
    url = f"sqlite:///{tmp_path / 'study.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = HeartbeatStorage(url, engine_kwargs={"connect_args": {"timeout": 0.2}}, heartbeat_interval=60)
    trial = optuna.create_study(storage=storage, study_name="s").ask()
    holder = sqlite3.connect(tmp_path / "study.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    storage.record_heartbeat(trial._trial_id)           # no error: skipped
    holder.execute("ROLLBACK")
    storage.record_heartbeat(trial._trial_id)
    with storage.engine.connect() as connection:
        beats = connection.exec_driver_sql("SELECT COUNT(*) FROM trial_heartbeats").scalar()
    assert beats == 1


def _signalling_in_the_first_select(engine, *numbers):
    """Each of ``numbers`` sent to this process just after SQLite ran the first SELECT on ``engine``, the
    statement still open (as a real Ctrl-C arrives: a signal, its handler run between two lines of Python)."""
    from sqlalchemy import event
    sent = []

    def send(conn, cursor, statement, *args):
        if not sent and statement.lstrip().upper().startswith("SELECT"):
            sent.append(statement)
            for number in numbers:
                signal.raise_signal(number)
    event.listen(engine, "after_cursor_execute", send)
    return sent


def _quick_pair(tmp_path):
    url, quick = f"sqlite:///{tmp_path / 'study.db'}", {"connect_args": {"timeout": 0.5}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return [HeartbeatStorage(url, engine_kwargs=quick, heartbeat_interval=60, grace_period=120)
                for _ in range(2)]


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_inside_a_storage_call_acts_once_the_call_has_ended(tmp_path, number, ctrl_c_handled):
    """Session 57's CI: a Ctrl-C cut a worker between a statement and its rows and left the study locked (the cut
    worker's tell failed after the busy timeout, exit 2). The call now runs whole, its write made, and the
    interrupt comes as it ends; the study is not locked; the handlers are the ones before. SIGTERM as the
    command takes it (:func:`lstmkit.errors.terminate_as_interrupt`: one more Ctrl-C)."""
    storage, other = _quick_pair(tmp_path)
    study = optuna.create_study(storage=storage, study_name="s")
    trial = study.ask()
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with terminate_as_interrupt():
        sent = _signalling_in_the_first_select(storage.engine, number)
        with pytest.raises(KeyboardInterrupt):
            storage.set_trial_user_attr(trial._trial_id, "cut", True)      # reads the trial's state, then writes
        assert sent
        assert signal.getsignal(signal.SIGTERM) is not before[1]           # terminate_as_interrupt's, as it was
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    assert other.get_trial(trial._trial_id).user_attrs == {"cut": True}
    other.record_heartbeat(trial._trial_id)                  # another worker writes, and this one tells
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    with other.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT COUNT(*) FROM trial_heartbeats").scalar() == 1
    assert other.get_trial(trial._trial_id).state == optuna.trial.TrialState.FAIL


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_second_ctrl_c_inside_a_storage_call_acts_at_once(tmp_path, ctrl_c_handled):
    """Pressed twice, Ctrl-C cuts the call where it is, as it did (the first alone waited, for up to the busy
    timeout on a locked study); no lock is left, and Ctrl-C has its handler back."""
    storage, other = _quick_pair(tmp_path)
    trial = optuna.create_study(storage=storage, study_name="s").ask()
    sent = _signalling_in_the_first_select(storage.engine, signal.SIGINT, signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        storage.set_trial_user_attr(trial._trial_id, "cut", True)
    assert sent and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert other.get_trial(trial._trial_id).user_attrs == {}           # cut before its write
    other.set_trial_user_attr(trial._trial_id, "other", 1)              # not locked
    assert storage.get_trial(trial._trial_id).user_attrs == {"other": 1}


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_storage_call_from_another_thread_leaves_the_handlers_alone(tmp_path, storage):
    """Optuna's heartbeat calls the storage from its own thread, where Python refuses to set a signal handler
    (ValueError): there the call runs as it is (signals reach the main thread only)."""
    trial = optuna.create_study(storage=storage, study_name="s").ask()
    errors = []

    def beat():
        try:
            storage.record_heartbeat(trial._trial_id)
            storage.set_trial_user_attr(trial._trial_id, "from", "thread")
        except BaseException as e:             # noqa: BLE001 (handed to the main thread's assert)
            errors.append(e)
    thread = threading.Thread(target=beat)
    thread.start()
    thread.join()
    assert errors == [] and storage.get_trial(trial._trial_id).user_attrs == {"from": "thread"}


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_heartbeat_failed_by_the_database_itself_is_skipped_too(storage, monkeypatch, caplog):
    """Optuna wraps a failed commit as its StorageInternalError, but an error of the database raised past that
    wrapper (a server gone, its rollback failing as well) is SQLAlchemy's own: skipped the same, with its log
    line; an error that is not the storage's is not swallowed."""
    import logging

    from sqlalchemy.exc import OperationalError
    trial = optuna.create_study(storage=storage, study_name="s").ask()

    def gone(self, trial_id):
        raise OperationalError("ROLLBACK", {}, Exception("server closed the connection unexpectedly"))
    monkeypatch.setattr(optuna.storages.RDBStorage, "record_heartbeat", gone)
    with caplog.at_level(logging.DEBUG, logger="lstmkit.tune_storage"):
        storage.record_heartbeat(trial._trial_id)
    assert f"heartbeat of trial {trial._trial_id} skipped" in caplog.text and "server closed" in caplog.text

    def broken(self, trial_id):
        raise TypeError("a bug, not the storage")
    monkeypatch.setattr(optuna.storages.RDBStorage, "record_heartbeat", broken)
    with pytest.raises(TypeError, match="a bug"):
        storage.record_heartbeat(trial._trial_id)


class _Stderr(io.StringIO):
    """Standard error that tells, as its first line is written (from any thread)."""

    def __init__(self):
        super().__init__()
        self.said = threading.Event()

    def write(self, text):
        written = super().write(text)
        if "\n" in text:
            self.said.set()
        return written


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_ctrl_c_a_locked_study_holds_is_answered_with_one_line_at_once(tmp_path, monkeypatch, ctrl_c_handled):
    """A Ctrl-C in a storage call waits for the call's end, on a study another worker holds locked up to SQLite's
    busy timeout (120 s), and nothing was said: the user pressed Ctrl-C and saw nothing happen. About a second
    into the hold, while the call still waits, one line says what it finishes and that a second Ctrl-C stops at
    once; the call then ends (its write made) and the Ctrl-C acts."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = HeartbeatStorage(url, engine_kwargs={"connect_args": {"timeout": 60}}, heartbeat_interval=60,
                                   grace_period=120)
    trial = optuna.create_study(storage=storage, study_name="s").ask()
    holder = sqlite3.connect(tmp_path / "study.db", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")               # another worker writing: reads go on, writes wait
    stderr = _Stderr()
    monkeypatch.setattr(sys, "stderr", stderr)

    def release_once_said():
        stderr.said.wait(timeout=60)
        holder.execute("ROLLBACK")
    releaser = threading.Thread(target=release_once_said)
    releaser.start()
    sent = _signalling_in_the_first_select(storage.engine, signal.SIGINT)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            storage.set_trial_user_attr(trial._trial_id, "held", True)     # reads the trial, then waits to write
    finally:
        stderr.said.set()
        releaser.join()
    waited = time.monotonic() - started
    assert sent and stderr.getvalue() == HOLDING_LINE + "\n"
    assert 0.9 < waited < 60 and "press Ctrl-C again to stop at once" in HOLDING_LINE
    assert storage.get_trial(trial._trial_id).user_attrs == {"held": True}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

