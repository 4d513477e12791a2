"""The storage a tune study lives in: optuna's RDB storage, whose heartbeat also loses a trial
whose worker died before the trial's first heartbeat.

Optuna's heartbeat (``RDBStorage(heartbeat_interval=..., grace_period=...)``) fails a running trial
once its heartbeat has been silent for the grace period, so a worker killed outright (kill -9, a
power cut) does not hold its trial's place in ``--trials`` for ever. A trial's first heartbeat is
recorded only after the trial exists: its worker creates it (``study.ask``), draws its first
settings, then starts the heartbeat thread. A worker killed in those milliseconds left a trial
with no heartbeat at all, which optuna's stale-trial check passes over (it compares heartbeats
only): running for ever, and a study of N trials ended one short. Here such a trial is lost too,
its start standing for its last heartbeat.

A trial records its worker as it is made (:data:`WORKER`, the process id and host
:func:`lstmkit.run_lock.this_process` gives), and is lost at once where that process ran on this host and
has ended: the same command run again right after a ``kill -9`` waited the grace period out, counting
the dead worker's trial as one another worker was running (``other workers are running 1``), and
ended the study one trial short with exit 0.

A trial asked for is also given, in the transaction that makes it, the system attributes :attr:`HeartbeatStorage.
propose` returns of the study's other trials (tune's seed index, ``lstmkit.tune._index_among``): the database
makes one trial at a time (optuna locks the study's row for its trial numbers), so two workers asking in the same
instant see each other's, where reading the trials after ``study.ask`` let both take one index.

A Ctrl-C that lands inside a statement on an SQLite study leaves no lock behind (:func:`_finish_interrupted`):
SQLAlchemy closes the connection of a statement an interrupt cut, and SQLite keeps a closed connection whose
statement is still open (a read that had read its first row) as a zombie, holding its shared lock, until the
statement is finalized; the interrupt's traceback, which optuna keeps while it records the trial's end, kept the
cursor alive. Every commit, this worker's heartbeat and tell and the other workers', waited out the busy timeout
and failed 'database is locked' (the cut worker ended with a traceback, exit 1). A heartbeat that fails on the
storage is skipped, not a traceback from its thread: the next one, an interval later, beats for it
(:meth:`HeartbeatStorage.record_heartbeat`).

That hook closed one way in: the same lock came back (session 57's CI) from a Ctrl-C landing between a
statement and the fetch of its rows, where no statement error is raised for the hook to see. So a Ctrl-C or
SIGTERM no longer lands inside a storage call at all: each of the storage's calls (:func:`_whole`) runs whole,
and the interrupt acts as it ends (:func:`lstmkit.errors.interrupts_after`; a second Ctrl-C acts at once). A call
that holds one for over a second (a locked study waits up to SQLite's 120 s busy timeout) says so on standard error
(:data:`HOLDING_LINE`), where the Ctrl-C was met with silence.
"""
from __future__ import annotations

import functools
import inspect
import json
import logging
from datetime import datetime, timedelta
from typing import Any, Callable

import optuna
import sqlalchemy
from optuna.storages._rdb import models
from optuna.storages._rdb.models import TrialHeartbeatModel
from optuna.trial import FrozenTrial, TrialState

from lstmkit.errors import interrupts_after
from lstmkit.run_lock import process_ended, this_process

__all__ = ["HeartbeatStorage", "WORKER", "HOLDING_LINE"]

WORKER = "lstmkit_worker"       # a trial's system attribute: {"pid": ..., "host": ...} of the worker running it
# standard error's line once a storage call has held a Ctrl-C or SIGTERM for a second
HOLDING_LINE = "finishing the study storage write before stopping — press Ctrl-C again to stop at once"

_log = logging.getLogger(__name__)


def _finish_interrupted(context) -> None:
    """SQLAlchemy's ``handle_error`` hook: the cursor of a statement Ctrl-C (or SystemExit) cut is closed, so
    SQLite finalizes its statement and drops its lock when SQLAlchemy closes the connection (left open, the
    closed connection lived on as SQLite's zombie, locking the study for as long as the traceback lived)."""
    if isinstance(context.original_exception, Exception):
        return
    # SQLAlchemy 2.1 declares the context's cursor but leaves it unset: the execution context's is the one
    cursor = getattr(context, "cursor", None) or getattr(context.execution_context, "cursor", None)
    if cursor is not None:
        try:
            cursor.close()
        except Exception:             # a cursor the driver cannot close: SQLAlchemy closes the connection anyway
            pass


class HeartbeatStorage(optuna.storages.RDBStorage):
    """``optuna.storages.RDBStorage`` whose stale trials (those :func:`optuna.storages.fail_stale_trials`
    fails) are optuna's (a heartbeat silent past the grace period), the running trials with no
    heartbeat that began longer than the grace period ago, and those whose worker on this host has ended."""

    #: ``(the study's other trials, the new trial's number) -> {key: value}``: system attributes a trial a worker
    #: asks for records as it is made, in the transaction that makes it (None: none)
    propose: Callable[[list[FrozenTrial], int], dict[str, Any]] | None = None

    def __init__(self, url: str, *args, **kwargs) -> None:
        super().__init__(url, *args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            sqlalchemy.event.listen(self.engine, "handle_error", _finish_interrupted)

    def record_heartbeat(self, trial_id: int) -> None:
        """Optuna's heartbeat; one the storage fails (locked past its busy timeout, a server gone a moment) is
        skipped with a log line, where it ended optuna's heartbeat thread with a traceback on standard error: the
        next one beats an interval later, and a storage that stays failed fails the worker's own next call."""
        try:
            super().record_heartbeat(trial_id)
        except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError) as e:
            _log.debug("heartbeat of trial %s skipped: %s", trial_id, e)

    def _create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> FrozenTrial:
        """A trial; one a worker asks for (optuna's ``study.ask``: no template) made recording this
        process as its worker in the same transaction, before its first settings and heartbeat.
        (Optuna's cache around the storage calls this, not ``create_new_trial``.)"""
        if template_trial is None:
            template_trial = FrozenTrial(number=0, state=TrialState.RUNNING, value=None, datetime_start=datetime.now(),
                                         datetime_complete=None, params={}, distributions={}, user_attrs={},
                                         system_attrs={WORKER: this_process()}, intermediate_values={}, trial_id=0)
        return super()._create_new_trial(study_id, template_trial)

    def _get_prepared_new_trial(self, study_id: int, template_trial: FrozenTrial | None, session) -> Any:
        """Optuna's new trial, in its transaction (the study's row locked); one a worker asked for
        (:meth:`_create_new_trial`'s template) records :attr:`propose`'s attributes of the trials made before it."""
        asked = template_trial is not None and WORKER in template_trial.system_attrs and self.propose is not None
        trial = super()._get_prepared_new_trial(study_id, template_trial, session)
        if not asked:
            return trial
        made = (session.query(models.TrialModel)
                .filter(models.TrialModel.study_id == study_id, models.TrialModel.trial_id != trial.trial_id)
                .order_by(models.TrialModel.trial_id).all())
        others = [self._build_frozen_trial_from_trial_model(t) for t in made]
        for key, value in self.propose(others, trial.number).items():     # a new trial's rows, not an upsert: optuna
            session.add(models.TrialSystemAttributeModel(                     # 4.1 renamed its own helper for these
                trial_id=trial.trial_id, key=key, value_json=json.dumps(value)))
            template_trial.system_attrs[key] = value    # the trial optuna hands back (and caches) is copied from it
        return trial

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        stale = super()._get_stale_trial_ids(study_id)
        grace = self.grace_period if self.grace_period is not None else 2 * self.heartbeat_interval
        # the start is the creating worker's clock (optuna's own datetime_start), read against this
        # worker's: a trial without a heartbeat is one at most milliseconds old unless its worker died
        began_before = datetime.now() - timedelta(seconds=grace)
        running = self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
        ended = [t._trial_id for t in running if t._trial_id not in stale and process_ended(t.system_attrs.get(WORKER))]
        stale = stale + ended
        old = {t._trial_id for t in running if t.datetime_start is not None and t.datetime_start < began_before}
        if not old:
            return stale
        with self.engine.connect() as connection:
            beating = set(connection.execute(sqlalchemy.select(TrialHeartbeatModel.trial_id)
                                             .where(TrialHeartbeatModel.trial_id.in_(old))).scalars())
        return stale + sorted(old - beating - set(stale))


def _whole(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` with Ctrl-C and SIGTERM acting as it ends, not inside it (:func:`lstmkit.errors.interrupts_after`)."""
    @functools.wraps(method)
    def whole(*args, **kwargs):
        with interrupts_after(say=HOLDING_LINE):
            return method(*args, **kwargs)
    return whole


# every call optuna makes on the storage (its cache calls some private ones: ``_create_new_trial``, ``_get_trials``)
for _name in sorted({name for klass in (optuna.storages.BaseStorage, optuna.storages.RDBStorage)
                     for name, value in vars(klass).items()
                     if inspect.isfunction(value) and not name.startswith("__")}):
    setattr(HeartbeatStorage, _name, _whole(getattr(HeartbeatStorage, _name)))
