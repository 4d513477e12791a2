"""The checks that open a resumed training, shared by the task estimators (a mixin of
:class:`~lstmkit.tasks._base.RunEstimator`).

    _check_resumable(run_dir)     ``fit(resume=True)``: an unfinished run of this task, recorded with this fit's settings
    _unfinished_meta(run_dir)     ``lstmkit.json`` of a run that may be resumed (finished or being trained: an error)
    _resume_start(...)            the start of ``resume()``: config, training data and the run's data summary
    _resume_source(...)           the training data of a resumed run: the data given, else the file it recorded
    _resume_file(...)             any file a resumed run reads: the one given, else the one it recorded, still there
    _resume_init_from(meta, run, given)  the run a resumed fine-tuning starts from: the place given (``--init-from``),
                                  else its recorded place; either checked by its weights
    _shown(shown)                 a resumed estimator with the settings of how its run shows (``progress=``, ...)
    ResumeShown                   those keywords of every task's ``resume()``, typed
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any, Literal, TypedDict

from lstmkit.config import flatten_config, start_record
from lstmkit.errors import LstmkitError, callers_level, opt, worded
from lstmkit.files import check_writable, path_exists, to_json
from lstmkit.run_lock import check_not_training
from lstmkit.run_status import resume_verdict
from lstmkit.runs import MEMORY_KEY, META_FILE, WEIGHTS_FILE, read_meta, weights_fingerprint
from lstmkit.version import __version__

__all__ = ["ResumeChecks", "ResumeShown", "STARTED_KEY", "recorded_file"]

PIPED_KEY = "piped"     # a run's data summary: {role: "standard input" or the pipe's name} (data.same_data.piped)
STARTED_KEY = "started_lstmkit_version"      # lstmkit.json: the version a run resumed by another began with


class ResumeShown(TypedDict, total=False):
    """The keywords of every task's ``resume()`` that change how the run shows and runs, not what it
    computes (:attr:`ResumeChecks._RESUME_FREE`); None (or left out): as the run recorded."""
    progress: Literal["auto", "bar", "log", "off"] | bool | None
    tensorboard: bool | None
    doctor: bool | None
    device: str | None


class ResumeChecks:
    """Resume checks of a run-folder estimator (``TASK``, ``config_`` and ``_from_config`` come from
    :class:`~lstmkit.tasks._base.RunEstimator`)."""

    # how a run shows and runs, not what it learns: a resume may change them
    _RESUME_FREE = frozenset({"progress", "tensorboard", "doctor", "device"})

    def _check_resumable(self, run_dir: str | Path | None) -> dict[str, Any]:
        """Refuse ``fit(resume=True)`` unless ``run_dir`` is an unfinished run of this task recorded with
        this fit's settings: the checkpoint continues that training (another ``lr`` or ``max_epochs``
        was taken silently, and ``lstmkit.json`` then recorded settings the run never trained with).
        Returns the run's ``lstmkit.json``."""
        name = type(self).__name__
        if run_dir is None:
            raise LstmkitError("resume=True needs run_dir, the folder of the run to continue",
                               f"pass run_dir=RUN (out= starts a new run), or call {name}.resume(RUN)")
        meta = self._unfinished_meta(run_dir)
        saved = flatten_config(meta.get("config") or {})
        mine = flatten_config(json.loads(to_json(self.config_.to_dict())))
        for key in sorted(set(saved) & set(mine) - self._RESUME_FREE):     # a setting newer than the run: not recorded
            if saved[key] != mine[key] and not (key == "init_from" and _same_start(meta, mine[key])):
                raise LstmkitError(f"{run_dir} was trained with {key}={saved[key]!r}, not {mine[key]!r}; a resumed run "
                                   "must keep its settings (the checkpoint continues that training)",
                                   f"resume with {name}.resume(RUN), or start a new run without resume")
        self._started_version = _started_version(meta, run_dir)
        return meta

    def _shown(self, shown: dict[str, Any]):
        """This estimator (the one a ``resume()`` rebuilt from its run's config) with ``shown``, the
        settings of how the run shows and runs (:data:`_RESUME_FREE`: ``progress``, ``tensorboard``,
        ``doctor``, ``device``; None: as recorded), checked as ``set_params`` checks them: a resume in
        a log file or CI turns the progress bar off. Any other keyword is a ``TypeError``, as Python's
        own for a keyword a function does not take. Returns the estimator."""
        for key in shown:
            if key not in ResumeChecks._RESUME_FREE:
                raise TypeError(f"{type(self).__name__}.resume() got an unexpected keyword argument {key!r}")
        given = {key: value for key, value in shown.items() if value is not None}
        return self.set_params(**given) if given else self

    @classmethod
    def _unfinished_meta(cls, run_dir: str | Path) -> dict[str, Any]:
        """``lstmkit.json`` of a run that may be resumed (a finished one, one being trained or one in a
        folder no file can be written to is an error)."""
        meta = read_meta(run_dir, cls.TASK)
        if meta.get("status") == "finished":
            raise LstmkitError(f"{run_dir} already finished training",
                               f"start a new run instead of {opt('resume', True)}")
        check_not_training(run_dir, worded("--resume", "resume"))
        refused = resume_verdict(run_dir, meta)        # a loss that diverged would diverge again
        if refused is not None:
            raise refused
        # a run folder on a read-only mount (a container's image, another user's folder): said before any
        # work; TensorBoard's writer thread failed first, an OSError traceback after the data was read
        check_writable(run_dir, "the resumed run's checkpoints and history",
                       f"copy the run folder where you can write (cp -r {run_dir} COPY) and resume the copy")
        return meta

    @classmethod
    def _resume_start(cls, run_dir, data, what: str, again: str,
                      init_from=None) -> tuple["RunEstimator", Any, dict[str, Any]]:
        """The start of ``resume()``: an estimator with the unfinished run's config (a fine-tuning's
        start found by :meth:`_resume_init_from`), its training data (:meth:`_resume_source`) and the
        run's data summary (the other files it recorded)."""
        meta = cls._unfinished_meta(run_dir)
        source = cls._resume_source(meta, run_dir, data, what, again)
        return cls._from_config(cls._resume_init_from(meta, run_dir, init_from)), source, meta.get("data", {})

    @staticmethod
    def _resume_source(meta: dict[str, Any], run_dir, data, what: str, again: str):
        """The training data of a resumed run: ``data`` if given, else the file the run recorded."""
        source = ResumeChecks._resume_file(meta, run_dir, "source", data, "--data")
        if source is None:
            raise LstmkitError(f"{run_dir} was trained on {what}", again)
        return source

    @staticmethod
    def _resume_file(meta: dict[str, Any], run_dir, key: str, given, flag: str, keyword: str | None = None):
        """The file a resumed run reads as ``key`` of its data summary (``source``, ``val_source``,
        ``files.src_file``): the one ``given`` (training then checks its SHA-256 against the one
        recorded), else the one recorded, which must still be there: a run moved with its data to
        another folder or machine was 'file not found: OLD PATH — check the path', and the fix
        (its new place) was not said. A file given where the run started without one (``--val`` for a
        run that split its validation part from ``--data``) is an error: it would change the training.
        ``flag`` names the file on the command line, ``keyword`` (else the flag's words) in ``resume()``."""
        named = worded(flag, (keyword or flag.lstrip("-").replace("-", "_")) + "=")
        if given is not None:
            recorded: Any = _recorded(meta.get("data") or {}, key)
            # None recorded: not given, or given in memory ("source" None: in memory), which
            # check_same_memory compares when training starts
            if (recorded is None and key != "source" and key not in ((meta.get("data") or {}).get(PIPED_KEY) or {})
                    and isinstance(given, (str, os.PathLike))):
                _refuse_file_for(meta, run_dir, key, flag, named)
            return given
        return recorded_file(meta.get("data") or {}, key, run_dir, named, resuming=True)

    @staticmethod
    def _resume_init_from(meta: dict[str, Any], run_dir, given=None) -> dict[str, Any]:
        """The config of an unfinished run, its ``init_from`` (the run a fine-tuning starts from) made
        the absolute path where that run is now: ``given`` (``--init-from NEW`` beside ``--resume``: the
        run moved; was refused as a setting that differs), else where it was when training started
        (recorded under ``data`` or ``preprocessing``), else the path as given then. ``config.init_from``
        is the path as typed, relative to the folder the training started in: a resume from another
        folder, or after the runs moved, was 'run folder not found: lmrun — pass the folder printed by
        train'. A run found with other weights than the start's is refused, not fine-tuned from."""
        config = dict(meta.get("config") or {})
        named = config.get("init_from")
        if given is not None and not (isinstance(named, str) and named):
            apply = worded("--init-from does not apply with --resume", "init_from= does not apply with resume()")
            raise LstmkitError(f"{apply}: {run_dir} did not start from another run",
                               f"drop {opt('init_from')} to resume, or start a new run without {opt('resume', True)}")
        if given is not None:
            return {**config, "init_from": _given_start(meta, run_dir, str(given), named)}
        if not isinstance(named, str) or not named:
            return config
        record = start_record(meta)
        want, was = record.get("fingerprint"), record.get("run") or named
        for place in dict.fromkeys(p for p in (record.get("run"), named) if isinstance(p, str)):
            if _is_run(place):
                if want is not None and weights_fingerprint(place) != want:
                    raise LstmkitError(f"{run_dir} fine-tunes the language model that was at {was}; {place} holds "
                                       "other weights", f"put that run back at {was} (or pass its new place with "
                                       f"{opt('init_from')}) to resume, or start a new run without {opt('resume', True)}")
                return {**config, "init_from": str(Path(place).resolve())}
        raise LstmkitError(f"{run_dir} fine-tunes the language model at {was}, which is not there any more (moved, "
                           "renamed or deleted)", f"pass its new place with {opt('init_from')} "
                           f"({worded('--resume', 'resume')} checks it holds the same weights), put it back at {was}, "
                           f"or start a new run without {opt('resume', True)}")


def recorded_file(summary: dict[str, Any], key: str, run_dir, named: str, resuming: bool = False) -> str | None:
    """The file ``key`` of a run's data summary names (``source``, ``val_source``, ``files.src_file``),
    for a command given none in its place (``--resume``, ``backtest`` without ``--data``): None where
    the run recorded none (data given in memory); one error naming the file and ``named``, the option
    that gives it, where the run read it from standard input or a pipe (nothing to read again:
    :data:`PIPED_KEY`) or where it is not there any more: a run moved with its data to another folder
    or machine said 'file not found: OLD PATH — check the path', of a path the user never gave, and
    not which option gives its new place. ``resuming``: the fix is a resume's
    (the file given is checked to hold the data recorded; else, a new run)."""
    recorded = _recorded(summary, key)
    new_run = f", or start a new run without {opt('resume', True)}" if resuming else ""
    pipe = (summary.get(PIPED_KEY) or {}).get(key)
    if recorded is None and isinstance(pipe, str):
        read = "data piped to standard input" if pipe == "standard input" else f"the pipe {pipe}"
        raise LstmkitError(f"{run_dir} was trained on {read}, which cannot be read again",
                           f"pass the data again with {named}{worded(' (its file, or a pipe of the same data)', '')}"
                           + new_run)
    if isinstance(recorded, str) and not path_exists(recorded):
        checked = f" ({worded('--resume', 'resume')} checks it holds the same data){new_run}" if resuming else ""
        raise LstmkitError(f"{run_dir} was trained on {recorded}, which is not there any more (moved, renamed "
                           "or deleted)", f"pass its new place with {named}{checked}")
    return recorded


def _recorded(summary: dict[str, Any], key: str) -> Any:
    """The value at ``key`` (dotted: ``files.src_file``) of a run's data summary (None: not there)."""
    recorded: Any = summary
    for part in key.split("."):
        recorded = recorded.get(part) if isinstance(recorded, dict) else None
    return recorded


def _started_version(meta: dict[str, Any], run_dir) -> str | None:
    """The lstmkit version ``meta``'s run began with, where it is not this one (None where it is):
    a warning, once, for a run this version continues, whose epochs then come from two versions'
    code (a resume is bit-identical only within one), recorded as :data:`STARTED_KEY` at its save."""
    first, last = meta.get(STARTED_KEY), meta.get("lstmkit_version")
    if isinstance(last, str) and last != __version__:
        warnings.warn(f"{run_dir} was trained so far by lstmkit {last}; this is {__version__}, which continues it: "
                      f"the run may differ from one trained whole by either version (its lstmkit.json will say "
                      f"{STARTED_KEY} {first or last})", UserWarning, stacklevel=callers_level())
    first = first or last
    return first if isinstance(first, str) and first != __version__ else None


def _is_run(place: str) -> bool:
    return (Path(place) / META_FILE).is_file() and (Path(place) / WEIGHTS_FILE).is_file()


def _given_start(meta: dict[str, Any], run_dir, place: str, named: str) -> str:
    """``place`` (``--init-from`` beside ``--resume``), absolute, when it holds the weights the
    fine-tuned run ``run_dir`` started from (a run that recorded no fingerprint: any run)."""
    record = start_record(meta)
    want, was = record.get("fingerprint"), record.get("run") or named
    if not _is_run(place):
        raise LstmkitError(f"{opt('init_from', place)} is not a run folder (no {META_FILE} and {WEIGHTS_FILE} there)",
                           f"pass the folder the run {run_dir} started from ({was}) moved to")
    got = weights_fingerprint(place)
    if want is not None and got != want:
        raise LstmkitError(f"{opt('init_from', place)} is not the run {run_dir} started from: it was at {was} with "
                           f"weights fingerprint {want}, {place} holds {got}", f"pass the folder that run moved to, "
                           f"or start a new run without {opt('resume', True)}")
    return str(Path(place).resolve())


def _refuse_file_for(meta: dict[str, Any], run_dir, key: str, flag: str, named: str) -> None:
    """The error for a file given to resume as ``key`` (``val_source``, ``test_source``) where the run
    recorded none: it started without that data, or with it given in memory (its fingerprint
    recorded under the fit argument's name, ``val`` or ``val_data``): that run was told it 'started
    without it', and to drop the flag, which would train on a split of the data instead."""
    part = key.rpartition(".")[2].removesuffix("_source")
    memory = (meta.get("data") or {}).get(MEMORY_KEY) or {}
    role = next((r for r in memory if r == part or r.startswith(part + "_")), None)
    apply = worded(f"{flag} does not apply with --resume", f"{named} does not apply with resume()")
    if role is None:
        raise LstmkitError(f"{apply}: {run_dir} started without it",
                           f"drop {named} to resume, or start a new run without {opt('resume', True)}")
    what = {"val": "validation", "test": "test"}.get(part, part)
    raise LstmkitError(f"{apply}: {run_dir} was started with its {what} data given in memory (to fit() in "
                       "Python), not as a file", f"resume in Python with the same data: "
                       f"resume(RUN, ..., {role}=THAT_DATA); or start a new run without {opt('resume', True)}")


def _same_start(meta: dict[str, Any], path: Any) -> bool:
    """Whether the run at ``path`` holds the weights a fine-tuned run (``meta``) started from: the
    same start at another path (it moved), which a resume may name."""
    want = start_record(meta).get("fingerprint")
    return (want is not None and isinstance(path, str) and (Path(path) / WEIGHTS_FILE).is_file()
            and weights_fingerprint(path) == want)
