"""Hyperparameter search: ``lstmkit tune <task> --data ... --trials 30 [--timeout 30m]``.

Optuna drives it: a TPE sampler proposes settings, a median pruner stops trials whose epoch
validation loss trails the median of earlier trials at the same epoch. The study lives in a
storage (by default ``<out>/study.db``, SQLite), so a search can be interrupted and run again to
continue, and several workers — processes or machines given the same ``--storage`` URL (or the
same ``--out``) — can fill one study together. ``--trials N`` is the size of the whole study, not of
one worker's share: a worker starts no trial once the finished and running ones make N (a trial two
workers started at the same moment past N is marked ``surplus`` and stopped before it trains). A
trial cut short by Ctrl-C or SIGTERM is not one of the N (the same command runs another), nor is one
whose worker was killed outright (kill -9, a power cut): its heartbeat stops, and the next worker
to start a trial fails it once it has been silent :data:`_GRACE_S` seconds (one whose worker died
before its first heartbeat, once it began that long ago; one whose worker ran on this host, as soon
as that process has ended: :mod:`lstmkit.tune_storage`). With ``--seed``, the trial that takes a cut
or lost one's place draws its settings (:func:`_index_among`), so a study continued ends as the one
never interrupted. Each worker writes the outputs when it stops, holding a lock on ``<out>`` while it
reads the study and writes them, so the last one to stop leaves them describing the whole study.

Outputs in ``<out>/``: ``best.yaml`` (a full config for ``lstmkit <task> train --config``),
``trials.csv`` (one row per trial, but none for a surplus one: it drew no setting and trained nothing;
a trial cut by Ctrl-C is marked ``interrupted``, one whose worker was lost ``worker_lost``) and
``history.png`` (optimisation history).

A search space is a YAML mapping of config keys to ranges (:mod:`lstmkit.tune_space`)::

    hidden_size: {type: int, low: 16, high: 128, log: true}
    dropout: {type: float, low: 0.0, high: 0.5}
    lookback: [24, 48, 96]          # a list is a categorical choice

Each task room supplies, in ``tasks/<task>/bench.py``, its default space and a function that
trains one trial with a callback reporting the validation loss of each epoch; :data:`TASKS`
finds them by the task's name, so every room with a bench can be tuned.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import math
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from lstmkit.cli_config import config_file_path
from lstmkit.config import TrainConfig, check_seed, config_source, flatten_config, load_yaml, merge
from lstmkit.errors import (EnvironmentProblem, LstmkitError, TrainingInterrupted, caller_wording, opt, settings_file,
                            worded)
from lstmkit.run_lock import folder_lock, this_process
from lstmkit.files import check_writable, json_safe
from lstmkit.runs import atomic_write, check_out_folder
from lstmkit.tasks import RoomRegistry
from lstmkit.train.callbacks import Callback
from lstmkit.train.progress import trial_display, trial_settings
from lstmkit.tune_space import describe_range, distribution, parse_space, suggest

__all__ = ["TaskTuning", "TASKS", "parse_space", "parse_timeout", "tune"]

_TRAIN_KEYS = {f.name for f in dataclasses.fields(TrainConfig)}


@dataclass(frozen=True)
class TaskTuning:
    """What tuning needs from a task.

    ``config_keys``: the keys a search space may name (flat: train keys beside model keys).
    ``check(base)``: fail early (LstmkitError) on data or settings no trial could use.
    ``settings(params)``: check flat settings as the task's config does, reading no data.
    ``run_trial(params, epoch_callback) -> float``: train with flat ``params``, calling
    ``epoch_callback`` (a trainer Callback) each epoch; return the validation loss to minimise.
    ``shared``: the settings every trial of a study must share, each with what it changes in the
    validation loss (its units, the loss itself, the examples it is a mean over): a search space
    drawing one is refused (:func:`_check_comparable`). ``loss_label(params)``: that loss as the
    task's config names it (:meth:`~lstmkit.config.TaskConfig.loss_label`), history.png's axis.
    """
    default_space: dict[str, Any]
    config_keys: Callable[[], set[str]]
    check: Callable[[dict[str, Any]], None]
    settings: Callable[[dict[str, Any]], None]
    run_trial: Callable[[dict[str, Any], Callback], float]
    shared: dict[str, str] = dataclasses.field(default_factory=dict)
    loss_label: Callable[[dict[str, Any]], str] | None = None   # the validation loss's name and unit (history.png)


TASKS = RoomRegistry("bench", lambda room: TaskTuning(room.SEARCH_SPACE, room.tune_keys, room.tune_check,
                                                      room.tune_settings, room.tune_trial,
                                                      {**_SHARED, **getattr(room, "TUNE_SHARED", {})},
                                                      getattr(room, "tune_loss_label", None)))
"""Task -> :class:`TaskTuning`, from ``SEARCH_SPACE``, ``tune_keys``, ``tune_check``,
``tune_settings``, ``tune_trial``, ``TUNE_SHARED`` and ``tune_loss_label`` in ``tasks/<task>/bench.py``."""

# what every task's validation loss rests on (a room's TUNE_SHARED adds its own)
_SHARED = {"loss": "the loss the validation loss is"}


# -- the search -------------------------------------------------------------------------------
def parse_timeout(text: str | None) -> float | None:
    """``90``, ``90s``, ``30m``, ``2h`` -> seconds."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", str(text))
    if not m or float(m.group(1)) <= 0:
        raise LstmkitError(f"cannot read timeout {text!r}", "write it as 90s, 30m or 2h")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def _check_base(base: Any) -> None:
    """``tune``'s ``base``: a mapping of settings as a ``--config`` file holds them (its ``train:``
    block a mapping too); ``None`` or a data file's path was an AttributeError."""
    if not isinstance(base, dict):
        raise LstmkitError(f"`base` must be a mapping of the settings every trial shares, got {type(base).__name__}",
                           "pass base={'data': 'sales.csv', 'target': 'units'}, say (the keys of a --config file)")
    if base.get("train") is not None and not isinstance(base["train"], dict):
        raise LstmkitError(f"`base`'s 'train' must be a mapping of trainer settings, got {base['train']!r}"[:200],
                           "pass base={..., 'train': {'max_epochs': 20}}, or the settings flat")


def _timeout_seconds(timeout: Any) -> float | None:
    """``tune``'s ``timeout`` in seconds: a number, or text :func:`parse_timeout` reads. ``timeout="30m"``
    was a TypeError from inside optuna, and a timeout of 0 or less ran no trial, then said 'no trial
    completed — see trials.csv for the errors', of a file that held none."""
    if timeout is None or isinstance(timeout, str):
        return parse_timeout(timeout)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise LstmkitError(f"`timeout` must be a positive number of seconds, got {timeout!r}",
                           "pass timeout=1800, say, or text such as timeout='30m'")
    return None if math.isinf(timeout) else float(timeout)


class _Pruning(Callback):
    """Feeds each epoch's validation loss to Optuna and stops trials the pruner gives up on."""

    def __init__(self, trial):
        self.trial = trial

    def on_epoch_end(self, trainer, logs) -> None:
        import optuna
        value = logs["val_loss"] if math.isfinite(logs["val_loss"]) else logs["train_loss"]
        self.trial.report(value, logs["epoch"])
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {logs['epoch']}")


def _keeps_optuna_verbosity(fn):
    """optuna's log level is the whole process's: a notebook or program that set its own (INFO, to see each
    trial of its own studies) has it back once a tune ends, however it ends."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import optuna
        was = optuna.logging.get_verbosity()
        try:
            return fn(*args, **kwargs)
        finally:
            optuna.logging.set_verbosity(was)
    return wrapper


def _in_callers_words(fn):
    """A call of ``tune`` from Python is told keywords (``pass trials=30``, ``study_name='NAME'``), as
    an estimator's method is (:class:`~lstmkit.errors.caller_wording`); ``lstmkit tune``, which opened
    the command line's wording first, keeps its flags. It said '--trials 30' to a Python caller."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with caller_wording(python=True):
            return fn(*args, **kwargs)
    return wrapper


@_in_callers_words
@_keeps_optuna_verbosity
def tune(task: str, base: dict[str, Any], *, trials: int = 30, timeout: float | str | None = None,
         space: dict[str, Any] | None = None, out: str | Path = "runs/tune", storage: str | None = None,
         study_name: str | None = None, seed: int | None = None, log=print, progress: str = "auto") -> dict[str, Any]:
    """Run (or continue) a study; returns ``{"best_value", "best_params", "best_config", "out", ...}``.
    ``progress``: each trial's training display on standard error: ``auto``, log lines (one per epoch)
    on a terminal, where several workers' lines interleave whole (their bars redrawn over each other
    garbled), and nothing between the trial lines elsewhere; ``bar``, ``log`` or ``off``. ``timeout``:
    seconds, or text as ``--timeout`` takes it (``"30m"``)."""
    if task not in TASKS:
        raise LstmkitError(f"tuning is not available for task {task!r}", f"use one of: {', '.join(TASKS)}")
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise LstmkitError(f"`trials` must be a positive integer, got {trials!r}", f"pass {opt('trials', 30)}, say")
    if seed is not None:
        check_seed(seed)
    timeout = _timeout_seconds(timeout)
    display = trial_display(progress, on_a_terminal="log")
    plug = TASKS[task]
    _check_base(base)
    if isinstance(space, (str, os.PathLike)):       # a file, as --space names one: was 'the search space is empty'
        named, space = space, load_yaml(space, "space=", "search space file")
        if not space:
            raise LstmkitError(f"search space file {named} is empty", "name at least one setting to search")
    own_space = space is not None
    space = parse_space(space if own_space else plug.default_space, plug.config_keys())
    base = {k: v for k, v in base.items() if v is not None}
    flat_base = {**{k: v for k, v in base.items() if k != "train"}, **(base.get("train") or {})}
    space = _unfixed(space, flat_base, own_space, log)
    quiet = trial_settings(display)
    plug.check({**flat_base, **quiet})
    _check_trainer({**flat_base, **quiet}, space)
    _check_values(plug.settings, {**flat_base, **quiet}, space)
    _check_comparable(space, plug.shared)

    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = Path(out)
    check_out_folder(out)
    check_writable(out, "the study")
    made = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    storage = storage or _sqlite_url(out / "study.db")
    try:
        study = _open_study(optuna, storage, study_name or task, seed)
        with _storage_errors(storage):
            _check_continues(optuna, study, task, space, storage, _fixed(flat_base), _data_digests(flat_base))
    except LstmkitError:
        if made and not any(out.iterdir()):
            out.rmdir()                       # nothing left behind by a study that never opened
        raise
    quiet_interrupt = _DropInterruptWarning()

    def objective(trial):
        if _taken(optuna, study, below=trial.number) >= trials:   # another worker took the last place meanwhile
            trial.set_user_attr(_SURPLUS, True)
            quiet_interrupt.failed.add(trial.number)
            study.stop()
            raise _Surplus(f"the study holds --trials {trials} already")
        _seed_proposals(optuna, study, seed, trial)
        params = {**flat_base, **suggest(trial, space), **quiet}
        try:
            value = plug.run_trial(params, _Pruning(trial))
        except LstmkitError as e:          # e.g. a lookback too long for the data: this trial only
            trial.set_user_attr("error", str(e))
            quiet_interrupt.failed.add(trial.number)   # `announce` says why in one line; optuna's traceback goes
            raise
        except (TrainingInterrupted, KeyboardInterrupt):   # Ctrl-C or SIGTERM in a trial (in training, or
            trial.set_user_attr(_CUT, True)    # reading its data): the study stops, and the trial is not one
                                               # of --trials (the same command reruns it)
            quiet_interrupt.trial = trial.number
            raise KeyboardInterrupt from None
        if not math.isfinite(value):      # optuna fails it with no word: say why, and count it as failed
            trial.set_user_attr("error", f"the validation loss is {value}")
        return value

    pace = {"since": time.perf_counter(), "ran": 0}      # this worker's trials, for the ETA

    def announce(study_, frozen):
        shown = ", ".join(f"{k}={_short(v)}" for k, v in frozen.params.items())
        if frozen.user_attrs.get(_SURPLUS):
            log(f"trial {frozen.number}: not run: other workers have taken the study's last trials")
            return
        pace["ran"] += 1
        where = _how_far(optuna, study_, trials, (time.perf_counter() - pace["since"]) / pace["ran"])
        if frozen.state == optuna.trial.TrialState.COMPLETE:
            log(f"trial {frozen.number}: val_loss {frozen.value:.6g}  ({shown}){where}")   # as the best line says it
        elif frozen.state == optuna.trial.TrialState.PRUNED:
            log(f"trial {frozen.number}: pruned after epoch {frozen.last_step}  ({shown}){where}")
        else:
            log(f"trial {frozen.number}: failed: {frozen.user_attrs.get('error', 'error')}  ({shown}){where}")

    def enough(study_, frozen):           # optuna's MaxTrialsCallback, less the trials that do not count,
        if _taken(optuna, study_) >= trials:  # plus those other workers are running
            study_.stop()

    interrupted = False
    with _storage_errors(storage):       # locked past the timeout, or gone: one line, no traceback
        with warnings.catch_warnings():       # 'experimental' since optuna 2.9
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)   # a killed worker's trial: lost, not running
        held = _counted(optuna, study)
        running = _taken(optuna, study) - held
        study_holds = f"the study {study.study_name!r} {{}}holds {held} trial{'s' if held != 1 else ''}"
        if held >= trials:                    # the old results again, and no word that nothing ran
            log(f"{study_holds.format('already ')} ({opt('trials', trials)} counts the whole study): none run now; "
                f"pass a larger {opt('trials')} to continue it")
        elif held + running >= trials:        # the last places are other workers' running trials
            log(f"{study_holds.format('')} and other workers are running {running} ({opt('trials', trials)} counts "
                "the whole study): none run here")
        else:
            handlers = logging.getLogger("optuna").handlers
            for h in handlers:                 # on the handlers: records from optuna's modules skip a logger's filters
                h.addFilter(quiet_interrupt)
            try:
                with warnings.catch_warnings():   # optuna 3.4 warns of the stale-trial check it runs itself
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    study.optimize(objective, timeout=timeout, catch=(LstmkitError,), gc_after_trial=False,
                                   callbacks=[enough, announce])
            except KeyboardInterrupt:
                interrupted = True
            except Exception as e:
                if not _from_an_interrupt(e):
                    raise
                interrupted = True        # optuna's clean-up failed on Ctrl-C while it recorded a trial's end
            finally:
                for h in handlers:
                    h.removeFilter(quiet_interrupt)
            if interrupted:
                _cut_ours(optuna, study)
                _stop_heartbeats(optuna, study)
        written: list[str] = []
        try:
            with folder_lock(out):              # read the study and write, one worker at a time: the last one
                try:                          # to stop writes the whole study
                    summary = _write_outputs(study, task, base, out, written)
                except LstmkitError:
                    if not interrupted:       # Ctrl-C before any trial completed: said as an interruption
                        raise
                    summary = {}
        except KeyboardInterrupt:             # the study is whole; each output this run's or the one before
            raise KeyboardInterrupt(_outputs_cut(out, storage, written)) from None
    summary.update({"storage": storage, "study": study.study_name, "interrupted": interrupted})
    if interrupted:                       # the CLI's one line
        raise KeyboardInterrupt(f"interrupted; the study is saved in {storage} — run the same command again "
                                "to continue")
    return summary


_OUTPUTS = ("trials.csv", "history.png", "best.yaml")   # in the order :func:`_write_outputs` writes them


def _outputs_cut(out: Path, storage: str, written: list[str]) -> str:
    """The line for Ctrl-C while the outputs were written: each is whole (atomic writes), this run's
    (``written``) or the one before, and the study is saved; running the command again writes them all."""
    said = ", ".join(f"{name} {'new' if name in written else 'as before' if (out / name).exists() else 'not written'}"
                     for name in _OUTPUTS)
    return (f"interrupted while writing the outputs in {out} ({said}); the study is saved in {storage} — "
            "run the same command again to write them all")


def _unfixed(space: dict[str, Any], fixed: dict[str, Any], own_space: bool, log) -> dict[str, Any]:
    """The search space less the settings the fixed ones (``--config``, ``--epochs``, ``--device``)
    set: a setting fixed there is not searched (it was drawn anyway, the fixed value ignored). A
    ``--space`` of the user's own that draws a fixed setting is refused: one of the two is a mistake."""
    both = [k for k in space if k in fixed]
    if not both:
        return space
    named = ", ".join(f"{k} ({_short(fixed[k])})" for k in both)
    if own_space:
        raise LstmkitError(f"{named} {'is' if len(both) == 1 else 'are'} both fixed "
                           f"{worded('(--config, --epochs or --device)', '(base)')} and searched "
                           f"{worded('(--space)', '(space=)')}", "remove it from one of them: fixed, or searched")
    left = {k: v for k, v in space.items() if k not in fixed}
    if not left:
        raise LstmkitError(f"the fixed settings set every setting the default search space draws: {named}",
                           worded("remove some from --config, or pass --space with the settings to search",
                                  "remove some from base, or pass space= with the settings to search"))
    log(f"not searched (fixed): {named}; searched: {', '.join(left)}")
    return left


def _check_comparable(space: dict[str, Any], shared: dict[str, str]) -> None:
    """Refuse a search space that draws a setting the trials' validation losses rest on: trials
    are ranked by that loss, and one measured in other units, by another loss or over other
    examples is a smaller number without being a better model (translation's label smoothing,
    searched by default, is part of its validation loss: the search favoured none, whatever BLEU said)."""
    drawn = [k for k in space if k in shared]
    if drawn:
        key = drawn[0]
        raise LstmkitError(f"search space: {key!r} changes {shared[key]}, so trials with other values have "
                           "validation losses that do not compare (the smallest would win, not the best model)",
                           f"remove {key!r} from the search space and set it in {worded('--config', 'base')}; to "
                           f"choose it, run a study per value ({_another_study('NAME', out=False)}) and compare their "
                           "best models by a validation metric that does not depend on it")


def _check_trainer(flat: dict[str, Any], space: dict[str, Any]) -> None:
    """The trainer settings every trial shares (those the space does not draw), checked as the trainer
    checks them: a `--device tpu` or `precision: fp8` failed every trial, one by one, and left a study
    of failures behind."""
    from lstmkit.train.settings import check_train_config, resolve_device
    fixed = TrainConfig(**{k: v for k, v in flat.items() if k in _TRAIN_KEYS and k not in space})
    check_train_config(fixed)
    if "device" not in space:
        resolve_device(fixed.device)


def _check_values(settings: Callable[[dict[str, Any]], None], flat: dict[str, Any],
                  space: dict[str, dict[str, Any]]) -> None:
    """Each choice of the space, and each end of its ranges, over the fixed settings, checked as the
    task's config checks it (no data read): `model: [lstm, bogus]` or `dropout: {high: 1.5}` failed
    trial by trial, each with its line, and left a study of failed trials behind. A value refused
    beside the other settings' fixed values passes when one value another entry draws makes it
    usable (`model: [transformer]` beside `strategy: [direct]` over a config's `strategy: recursive`).
    What depends on the data (a lookback too long for the series) stays a failure of its trials."""
    from lstmkit.train.settings import check_train_config, resolve_device
    candidates = {key: _candidates(spec) for key, spec in space.items()}

    def check(params: dict[str, Any]) -> None:
        settings(params)
        check_train_config(TrainConfig(**{k: v for k, v in params.items() if k in _TRAIN_KEYS}))
        if "device" in space:
            resolve_device(params.get("device", "auto"))

    def usable(params: dict[str, Any]) -> bool:
        try:
            check(params)
        except LstmkitError:
            return False
        return True

    for key, values in candidates.items():
        for what, value in values:
            params = {**flat, key: value}
            try:
                check(params)
            except LstmkitError as e:
                if any(usable({**params, other: v}) for other, vs in candidates.items() if other != key
                       for _, v in vs):
                    continue
                fix = e.hint or "remove it from the search space"
                if what != "choice":
                    fix = f"change the range of {key!r} in the search space ({fix})"
                elif e.hint:
                    fix = f"remove {value!r} from the choices of {key!r} ({fix})"
                raise LstmkitError(f"search space: {key!r} {what} {value!r} cannot be used: {e.message}", fix) from None


def _candidates(spec: dict[str, Any]) -> list[tuple[str, Any]]:
    """The values :func:`_check_values` tries of an entry: its choices, or its range's two ends."""
    if spec["type"] == "categorical":
        return [("choice", v) for v in spec["choices"]]
    cast = int if spec["type"] == "int" else float
    return [("low", cast(spec["low"])), ("high", cast(spec["high"]))]


_CUT = "interrupted"          # user attribute of a trial that Ctrl-C or SIGTERM cut short
_SURPLUS = "surplus"          # ... of a trial started past --trials by two workers at once, stopped unrun
_LOST = "worker_lost"         # trials.csv's mark of a trial whose worker died (failed by the heartbeat)
_INDEX = "proposal_index"     # system attribute of a trial: the index its sampler was seeded by (_index_among)
_FIXED = "fixed"              # user attribute of a study: the settings every trial shares (see _fixed)
_DATA = "data_sha256"         # ... the SHA-256 of its data files, by setting (see _data_digests)
# how a trial shows and where it runs, not what it learns: a worker may set them its own way
_FREE = frozenset({"device", "progress", "tensorboard", "doctor"})
_FLAGS = {"data": "--data", "max_epochs": "--epochs", "target": "--target", "time": "--time"}   # the rest: --config


_SQLITE_EXAMPLE_URL = "sqlite:///runs/study.db"


def _another_study(name: str = "NAME", out: bool = True) -> str:
    """How the caller names another study (``--study NAME or another --out``; ``study_name='NAME'``
    and ``out=`` in Python's :func:`tune`)."""
    study = worded(f"--study {name}", f"study_name={name!r}")
    return study + (f" or another {opt('out')}" if out else "")


def _fixed(flat_base: dict[str, Any]) -> dict[str, Any]:
    """The settings every trial of a study shares, as the study records them (plain JSON; data given
    in memory by its type only): the data file by its absolute path (``sales.csv`` and
    ``./sales.csv`` are one file), less :data:`_FREE`."""
    fixed = {}
    for key, value in flat_base.items():
        if key in _FREE:
            continue
        if key == "data" and isinstance(value, (str, Path)):
            value = os.path.abspath(value)
        try:
            fixed[key] = json_safe(value)
        except TypeError:                    # a DataFrame, an array: not recorded by value
            fixed[key] = f"<{type(value).__name__}>"
    return fixed
_HEARTBEAT_S = 10             # a running trial's worker says it is alive this often (optuna's heartbeat);
_GRACE_S = 60                 # silent this long, its trial is lost (a killed worker): failed, not counted
_SQLITE_TIMEOUT_S = 120       # how long a worker waits for another's write to an SQLite study


class _Surplus(LstmkitError):
    """A trial two workers started at the same moment past --trials: stopped before it trains."""


def _counts(t) -> bool:
    """A finished trial counts towards --trials when it completed, was pruned, or failed on its own
    (it recorded why); not when Ctrl-C cut it, its worker was lost (failed by the heartbeat), or it
    was a surplus one."""
    return t.state.name in ("COMPLETE", "PRUNED") or (t.state.name == "FAIL" and "error" in t.user_attrs
                                                     and not t.user_attrs.get(_CUT) and not t.user_attrs.get(_SURPLUS))


def _lost(t) -> bool:
    """A trial its worker never finished: failed with no word of why. A trial that fails on its own
    records its error, a cut or surplus one its mark; a killed worker's trial is failed by the
    heartbeat of another (:mod:`lstmkit.tune_storage`), which cannot mark it (optuna refuses to
    change a finished trial), and so is one whose worker crashed out of it (a traceback)."""
    return t.state.name == "FAIL" and not {"error", _CUT, _SURPLUS} & t.user_attrs.keys()


def _how_far(optuna, study, trials: int, each: float) -> str:
    """What a trial line ends with: the trials of ``--trials`` counted so far and, while no other worker
    runs one, the ETA of the rest at this worker's pace (``each`` seconds a trial): 50 trials of a minute
    each showed only 'trial 17: ...', with no word of how many were left or for how long."""
    counted = _counted(optuna, study)
    if counted >= trials:
        return f"  [{counted}/{trials}]"
    others = _taken(optuna, study) - counted
    eta = f"; ETA {each * (trials - counted):.0f} s" if others == 0 else f"; {others} running in other workers"
    return f"  [{counted}/{trials}{eta}]"


def _counted(optuna, study) -> int:
    """Trials that count towards --trials (:func:`_counts`)."""
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.FAIL)
    return sum(_counts(t) for t in study.get_trials(deepcopy=False, states=states))


def _taken(optuna, study, below: int | None = None) -> int:
    """The counted trials and those running or waiting to run (in any worker), of the trials
    numbered below ``below`` (all without it): the places of --trials already taken."""
    pending = (optuna.trial.TrialState.RUNNING, optuna.trial.TrialState.WAITING)
    return sum(_counts(t) or t.state in pending for t in study.get_trials(deepcopy=False)
               if below is None or t.number < below)


def _seed_proposals(optuna, study, seed: int | None, trial) -> None:
    """With --seed, ``trial`` draws from a sampler seeded with ``seed + i``, ``i`` its proposal index
    (:func:`_index_among`, recorded as the trial's :data:`_INDEX`): one sampler seeded once proposed
    a continued study's first settings again (a study interrupted after 2 trials repeated those 2),
    and two workers started together with the same command proposed the same settings, trial for
    trial."""
    index = study._storage.get_trial_system_attrs(trial._trial_id)[_INDEX]   # recorded as the trial was made
    if seed is not None:
        study.sampler = optuna.samplers.TPESampler(seed=(seed + index) % 2**32)


def _index_among(trials: list, number: int) -> int:
    """The smallest index no other of ``trials`` that counts or runs holds (a trial that recorded none
    holds its number): trial ``number``'s seed. An uninterrupted study's trials hold their numbers; the
    trial after a cut, lost or surplus one takes the index that one left, so with the same history of
    finished trials it draws what the cut one drew, and the study resumed ends as the one never
    interrupted does (seeded by its number, the cut trial's settings were never tried, and every
    later trial drew others). Taken in the transaction that makes the trial
    (:attr:`lstmkit.tune_storage.HeartbeatStorage.propose`), of the trials made before it with their
    indices: two workers starting trials in the same instant after a cut took one index (each read
    the other's trial before it recorded its index), and in TPE's random start drew the same settings."""
    pending = ("RUNNING", "WAITING")
    held = {t.system_attrs.get(_INDEX, t.number) for t in trials
            if t.number != number and (_counts(t) or t.state.name in pending)}
    return next(i for i in range(len(held) + 1) if i not in held)


def _propose(trials: list, number: int) -> dict[str, int]:
    """What a trial records as it is made (:attr:`lstmkit.tune_storage.HeartbeatStorage.propose`): its
    proposal index (:data:`_INDEX`)."""
    return {_INDEX: _index_among(trials, number)}


def _from_an_interrupt(error: BaseException) -> bool:
    """Whether ``error`` was raised while Ctrl-C (or SIGTERM) was being handled: optuna's
    ``_run_trial`` reads a variable its tell never set when Ctrl-C lands in that tell, an
    UnboundLocalError whose context is the KeyboardInterrupt (a traceback and exit 3, the trial left
    running)."""
    return _in_chain(error, KeyboardInterrupt) is not None


def _in_chain(error: BaseException | None, kind) -> BaseException | None:
    """The first of ``error`` and the errors it was raised from or while handling (``__cause__``, else
    ``__context__``) that is a ``kind``; None when none is (a chain that loops back on itself included)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, kind):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def _cut_ours(optuna, study) -> None:
    """This worker's trials the interrupt left running (Ctrl-C after a trial's objective ended, while
    optuna recorded the end or stopped its heartbeat; or after it created the trial, before the
    objective began): marked cut and failed, as a trial Ctrl-C ends in training is. Left running, the
    same command run again counted each as another worker's, and ended the study a trial short."""
    from lstmkit.tune_storage import WORKER
    me, storage = this_process(), study._storage
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if trial.system_attrs.get(WORKER) == me:
            storage.set_trial_user_attr(trial._trial_id, _CUT, True)
            storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)


def _stop_heartbeats(optuna, study) -> None:
    """Stop the heartbeat threads an interrupt left beating for the study's finished trials: Ctrl-C
    while optuna started one (in ``Thread.start``'s wait for it) or before it asked it to stop left it
    beating for ever, and the process, having said ``interrupted``, waited for it at exit (not a daemon
    thread): a hang."""
    import threading

    from optuna.storages._heartbeat import HeartbeatThread
    running = {t._trial_id for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))}
    for thread in threading.enumerate():
        if getattr(thread, "_target", None) is HeartbeatThread._record_heartbeat:
            trial_id, storage, stop = thread._args       # optuna's _record_heartbeat(trial_id, heartbeat, stop_event)
            if storage is study._storage and trial_id not in running:
                stop.set()
                thread.join()


class _DropInterruptWarning(logging.Filter):
    """Optuna warns, with a traceback, about the trial a Ctrl-C ended and about each trial an
    LstmkitError failed (a lookback too long for the data: two warnings and a traceback on stderr per
    trial); the command says each in one line."""
    trial: int | None = None

    def __init__(self):
        super().__init__()
        self.failed: set[int] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.trial is not None and message.startswith(f"Trial {self.trial} "):
            return False
        return not any(message.startswith(f"Trial {n} failed") for n in self.failed)


def _open_study(optuna, storage: str, name: str, seed: int | None):
    """The study ``name`` in ``storage`` (created when new); one error naming the URL when it
    cannot be opened (an unknown database kind, a path that cannot be made, a server not there).

    Two workers that open a new storage at the same moment both create its tables: the one that
    loses that race (a duplicate row, a table that already exists) opens it again, once the other
    has made it. The storage has optuna's heartbeat on (a killed worker's trial is failed, not left
    running for ever, even one killed before the trial's first heartbeat: :mod:`lstmkit.tune_storage`),
    and a worker waits up to :data:`_SQLITE_TIMEOUT_S` for another's write to an SQLite study
    (sqlite3's own wait is 5 s)."""
    from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
    sqlite = storage.startswith("sqlite")
    if sqlite and _in_memory(storage):      # it ran, then said the same command continues a study nothing kept
        raise LstmkitError(f"the study storage {storage!r} is an in-memory database: the study is lost when the "
                           "command ends, so it can be neither continued nor shared by other workers",
                           f"keep it in a file: {opt('storage', _SQLITE_EXAMPLE_URL)} (or leave {opt('storage')} "
                           "out: OUT/study.db)")
    for attempt in range(3):
        try:
            with warnings.catch_warnings():       # the heartbeat is 'experimental' since optuna 2.9
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                from lstmkit.tune_storage import HeartbeatStorage
                rdb = HeartbeatStorage(
                    storage, engine_kwargs={"connect_args": {"timeout": _SQLITE_TIMEOUT_S}} if sqlite else None,
                    heartbeat_interval=_HEARTBEAT_S, grace_period=_GRACE_S)
                rdb.propose = _propose
            return optuna.create_study(
                study_name=name, storage=rdb, load_if_exists=True, direction="minimize",
                sampler=optuna.samplers.TPESampler(seed=seed),
                pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2))
        except (IntegrityError, OperationalError) as e:
            raced = isinstance(e, IntegrityError) or "already exists" in str(e)
            if not raced or attempt == 2:
                raise _storage_problem(storage, e) from None
            time.sleep(0.2 * (attempt + 1))
        except (SQLAlchemyError, optuna.exceptions.OptunaError, ValueError, ImportError) as e:
            raise _storage_problem(storage, e) from None


def _in_memory(storage: str) -> bool:
    """Whether the SQLite URL ``storage`` names an in-memory database (``sqlite://``,
    ``sqlite:///:memory:``, ``sqlite:///file::memory:?cache=shared``, ``?mode=memory``)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError
    try:
        url = make_url(storage)
    except (ArgumentError, ValueError):
        return False
    database = url.database or ""
    return database in ("", ":memory:") or database.startswith("file::memory:") or url.query.get("mode") == "memory"


# what SQLite says when its file cannot be written: a full disk, a file size limit (a disk I/O error), read-only
_UNWRITABLE = ("disk i/o error", "database or disk is full", "readonly database")


def _storage_problem(storage: str, e: BaseException) -> LstmkitError:
    """The one line for a storage that cannot be opened, or that failed under a search (the database's own
    words, not optuna's wrapper around them: :func:`_storage_cause`)."""
    e = _storage_cause(e) or e
    reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
    if "locked" in reason:
        return LstmkitError(f"the study storage {storage!r} stayed locked by other workers for over "
                            f"{_SQLITE_TIMEOUT_S} s ({reason})",
                            "run fewer workers on one SQLite file, or give them a server database "
                            f"({opt('storage', 'postgresql://...')}); the same "
                            + worded("command", "call") + " continues the study")
    if any(words in reason.lower() for words in _UNWRITABLE):     # SQLite's words for the disk, not the URL
        where = (f"on {Path(_sqlite_file(storage)).parent}" if storage.startswith("sqlite:///")
                 else "on the database's disk")
        return EnvironmentProblem(f"could not write the study storage {storage!r} ({reason}): a full disk, a file "
                                  "size limit (`ulimit -f`) or a folder that cannot be written",
                                  f"free space or fix permissions {where}, then run the same command again (the "
                                  "study continues from its last trial)")
    return LstmkitError(f"cannot open the study storage {storage!r} ({reason})",
                        f"pass an SQLAlchemy URL that can be opened, e.g. {opt('storage', _SQLITE_EXAMPLE_URL)} "
                        f"(or leave {opt('storage')} out: OUT/study.db)")


def _storage_cause(error: BaseException) -> BaseException | None:
    """The SQLAlchemy error ``error`` is, or was raised from or while handling (None: none): optuna raises a
    failed commit as its StorageInternalError from it, and a tell that failed so in ``_run_trial`` as an
    AssertionError ('Should not reach') while handling that."""
    from sqlalchemy.exc import SQLAlchemyError
    return _in_chain(error, SQLAlchemyError)


@contextlib.contextmanager
def _storage_errors(storage: str):
    """An error of the storage under a search (a database locked past the timeout, a server gone) as the
    one line of :func:`_storage_problem`: SQLAlchemy's own, and those optuna raised from it (a commit's
    StorageInternalError, which went out as a traceback, and the 'Should not reach' AssertionError of
    optuna's ``_run_trial`` when its tell failed so: a traceback and exit 1)."""
    try:
        yield
    except Exception as e:
        if _storage_cause(e) is None:
            raise
        raise _storage_problem(storage, e) from None


def _check_continues(optuna, study, task: str, space: dict[str, dict[str, Any]], storage: str,
                     fixed: dict[str, Any] | None = None, digests: dict[str, str] | None = None) -> None:
    """Refuse to continue a study of another task, one whose trials drew a setting from a range
    this space cannot continue (optuna raised a traceback in the first trial: a categorical
    setting's choices changed, an int range became a float one, a log scale a linear one), or one
    run with other ``fixed`` settings (:func:`_fixed`: another --data, --epochs or --config value,
    whose trials' losses do not compare with the study's: they were mixed in, and best.yaml named
    the old trials' best with the new settings), or one whose data file, at the same path, holds
    other contents now (``digests``: :func:`_data_digests`; a series with a month appended was tuned
    on as the same study); a new study records its task, fixed settings and data files' SHA-256."""
    recorded = study.user_attrs.get("task")
    if recorded not in (None, task):
        raise LstmkitError(f"the study {study.study_name!r} in {storage} tunes {recorded}, not {task}",
                           f"name another study for {task} ({_another_study(task, out=False)}) or pass another "
                           f"{opt('out')}")
    before = study.user_attrs.get(_FIXED)
    if isinstance(before, dict) and fixed is not None and before != fixed:
        key = next(k for k in sorted(set(before) | set(fixed)) if before.get(k) != fixed.get(k))
        raise LstmkitError(f"the study {study.study_name!r} in {storage} was run with {key}={before.get(key)!r}, "
                           f"not {fixed.get(key)!r}: its trials' losses compare only under the same fixed settings",
                           f"continue it with the {worded(_FLAGS.get(key, key + ' in --config'), f'{key!r} of base')} "
                           f"it began with, or start a new study ({_another_study()})")
    if before is None and fixed is not None:
        study.set_user_attr(_FIXED, fixed)
    _check_same_data(study, storage, digests)
    drawn = {}
    for trial in study.get_trials(deepcopy=False):
        drawn.update(trial.distributions)
    for key, spec in space.items():
        if key in drawn:
            try:
                optuna.distributions.check_distribution_compatibility(drawn[key], distribution(optuna, spec))
            except ValueError:
                here = describe_range(distribution(optuna, spec))
                raise LstmkitError(f"the study {study.study_name!r} in {storage} drew {key!r} from "
                                   f"{describe_range(drawn[key])}; this search space has {here}",
                                   "continue it with the search space it began with, or start a new study "
                                   f"({_another_study()})") from None
    if recorded is None:
        study.set_user_attr("task", task)


def _data_digests(flat_base: dict[str, Any]) -> dict[str, str]:
    """The SHA-256 of each data file the trials read (``data``, a validation file, translate's line
    files), by setting; folders are not hashed (a class-folder corpus: its path alone is compared)."""
    from lstmkit.runs import file_sha256
    digests = {}
    for key, value in flat_base.items():
        if key in _FREE or not isinstance(value, (str, Path)):
            continue
        try:
            if Path(value).is_file():
                digests[key] = file_sha256(value)
        except OSError:                  # a value too long to be a path: no file
            continue
    return digests


def _check_same_data(study, storage: str, digests: dict[str, str] | None) -> None:
    """Refuse a study whose data file holds other contents than it did when the study began (same
    path, so :func:`_fixed` cannot tell); a study that recorded none records them now."""
    if digests is None:
        return
    before = study.user_attrs.get(_DATA)
    if not isinstance(before, dict):
        if digests:
            study.set_user_attr(_DATA, digests)
        return
    changed = [k for k in sorted(set(before) & set(digests)) if before[k] != digests[k]]
    if changed:
        key = changed[0]
        named = worded(_FLAGS.get(key, f"{key} (--config)"), key)
        raise LstmkitError(f"the {named} file of the study {study.study_name!r} in {storage} holds other contents "
                           f"than when the study began (SHA-256 {before[key][:12]}… then, {digests[key][:12]}… now): "
                           "its trials' losses do not compare with trials on this data",
                           f"restore the file to continue the study, or start a new one for this data "
                           f"({_another_study()})")


def _short(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _write_outputs(study, task: str, base: dict[str, Any], out: Path, written: list[str]) -> dict[str, Any]:
    """Write :data:`_OUTPUTS` in order, adding each one's name to ``written`` once it is in place."""
    import optuna
    frame = study.trials_dataframe(attrs=("number", "value", "state", "params", "duration", "user_attrs"))
    if f"user_attrs_{_SURPLUS}" in frame:     # no row for a surplus trial: it drew no setting and trained nothing,
        frame = frame[~frame.pop(f"user_attrs_{_SURPLUS}").eq(True)]   # a FAIL row read as a failed setting
    lost = {t.number for t in study.get_trials(deepcopy=False) if _lost(t)}
    if lost:                                  # said as the interrupted mark is: not a setting that failed
        frame[f"user_attrs_{_LOST}"] = [True if n in lost else None for n in frame["number"]]
    atomic_write(out / "trials.csv", lambda tmp: frame.to_csv(tmp, index=False))
    written.append("trials.csv")
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    _plot_history(study, out / "history.png", task, _loss_label(task, base), base.get("data"))
    written.append("history.png")
    if not complete:
        running = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)))
        if running:                       # a worker with no place left, while the others' trials run
            raise LstmkitError(f"no trial has completed yet; other workers are running {running}",
                               f"the last worker to stop writes {out / 'best.yaml'}: wait for it")
        raise LstmkitError("no trial completed", f"see {out / 'trials.csv'} for the errors; widen the search space or the data")
    best = study.best_trial
    config = merge(base, {"train": {}})
    for key, value in best.params.items():
        if key in _TRAIN_KEYS:
            config.setdefault("train", {})[key] = value
        else:
            config[key] = value
    config.get("train", {}).pop("progress", None)
    text = (f"# best of {len(complete)} completed trials (trial {best.number}, val_loss {best.value:.6g})\n"
            f"# train with: lstmkit {task} train --config {out / 'best.yaml'}\n"
            + yaml.safe_dump(_plain(config), sort_keys=False))
    atomic_write(out / "best.yaml", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    written.append("best.yaml")
    return {"best_value": best.value, "best_params": best.params, "best_trial": best.number,
            "best_config": config, "completed": len(complete), "trials": len(frame), "out": out}


def _plain(obj):
    """YAML-safe: paths as strings, numpy scalars as Python numbers."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj.item() if hasattr(obj, "item") else obj


def _loss_label(task: str, base: dict[str, Any]) -> str:
    """The validation loss a study's trials report, as the task's config names it for the ``base``
    settings (a speech study's in its mode: CTC loss per character, or cross-entropy), the words each
    run's loss.png uses; 'loss' for a task that names none. A table in tune.py repeated the tasks' words
    (a speech study's read 'loss (nats)' whatever its mode)."""
    named = TASKS[task].loss_label
    if named is None:
        return "loss"
    flat = {**{k: v for k, v in base.items() if k != "train"}, **(base.get("train") or {})}
    try:
        return named(flat)
    except LstmkitError:                 # settings the study's own checks refused first
        return "loss"


def _plot_history(study, path: Path, task: str | None = None, loss: str = "loss", data: Any = None) -> None:
    """Each trial's validation loss and the best so far, the axis named ``validation <loss>`` in the
    task's units (:func:`_loss_label`; it read 'validation loss' alone); a language model's with its
    perplexity on the right, as its runs print it; titled by :func:`_history_title`."""
    import optuna

    from lstmkit.inspect.plots import PERPLEXITY, plain_log_labels, plain_log_ticks, save_figure, second_axis, subplots
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED and t.intermediate_values]
    fig, ax = subplots(figsize=(7, 4))
    if done:
        ax.scatter([t.number for t in done], [t.value for t in done], s=18, label="completed trial")
        best, xs, ys = math.inf, [], []
        for t in sorted(done, key=lambda t: t.number):
            best = min(best, t.value)
            xs.append(t.number)
            ys.append(best)
        ax.step(xs, ys, where="post", color="C3", label="best so far")
    if pruned:
        ax.scatter([t.number for t in pruned], [t.intermediate_values[max(t.intermediate_values)] for t in pruned],
                   marker="x", color="0.5", s=18, label="pruned (last epoch reported)")
    if done and all(t.value > 0 for t in done):
        ax.set_yscale("log")
        last = [t.intermediate_values[max(t.intermediate_values)] for t in pruned]     # a pruned trial's last report
        plain_log_ticks(ax)                 # over more than a decade: '3×10⁻¹', '6×10⁻²', as loss.png read
        plain_log_labels(ax, [t.value for t in done] + last)
    from matplotlib.ticker import MaxNLocator          # after subplots(), which imports matplotlib quietly
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))    # a 1-trial study's read -0.04 … 0.04
    ax.set_xlabel("trial")
    ax.set_ylabel(f"validation {loss}")
    if task == "lm" and done:
        second_axis(ax, PERPLEXITY, [t.value for t in done], ax.get_yscale() == "log")
    ax.set_title(_history_title(study, path, task, data), fontsize=10)
    ax.grid(alpha=0.3)
    if done or pruned:
        ax.legend()
    save_figure(fig, path, tight=True)


def _history_title(study, path: Path, task: str | None, data: Any = None, most: int = 40) -> str:
    """What the user ran: the tune folder, the task and the data file tuned on (its first ``most``
    characters), and the study's name where it is not the task's own (every study's read 'Optimisation
    history: forecast', two folders' plots open side by side alike)."""
    folder = Path(path).resolve().parent.name
    title = f"{folder}: " + (f"{task} tuning" if task else "tuning")
    if isinstance(data, (str, os.PathLike)):
        name = Path(data).name
        title += f" on {name if len(name) <= most else name[:most - 1] + '…'}"
    if study.study_name != task:
        title += f", study {study.study_name!r}"
    return title


# -- the command ------------------------------------------------------------------------------
def tune_command(
    task: str,
    data: Path | None = None, target: str | None = None, time: str | None = None, time_zone: str | None = None,
    config: Path | None = None, space: Path | None = None, trials: int = 30,
    timeout: str | None = None, epochs: int | None = None, out: Path | None = None,
    storage: str | None = None, study: str | None = None, seed: int | None = None, device: str | None = None,
    progress: str = "auto",
) -> None:
    if epochs is not None and epochs < 1:      # the trainer's check said 'pass --max-epochs', no flag of tune's
        raise LstmkitError(f"--epochs must be a positive integer, got {epochs}",
                           "pass --epochs 20, say, or leave it out for the task's own maximum")
    _check_task_flags(task, {"target": target, "time": time, "time_zone": time_zone})
    raw, of_run = config_source(config) if config else ({}, None)
    if data is None and raw.get("data") is not None:      # read beside the file, as train reads it
        raw = {**raw, "data": config_file_path(raw["data"], config)}
    flags = {"data": data, "target": target, "time": time, "time_zone": time_zone, "max_epochs": epochs,
             "device": device}
    base = merge(raw, {"data": str(data) if data else None, "target": target, "time": time, "time_zone": time_zone,
                       "train": {"max_epochs": epochs, "device": device}})
    # a refusal of a setting the file gave names the file and key ('--lookback' is no flag of tune's)
    named = (settings_file(config, [k for k in flatten_config(raw) if flags.get(k) is None and k != "data"])
             if config and of_run is None else contextlib.nullcontext())
    raw_space = load_yaml(space, "--space", "search space file") if space else None
    if space and not raw_space:
        raise LstmkitError(f"search space file {space} is empty", "name at least one setting to search")
    if of_run is not None and task in TASKS:
        _check_run_leaves_some(config, raw, raw_space if isinstance(raw_space, dict) else TASKS[task].default_space)
    try:
        with named:
            result = tune(task, base, trials=trials, timeout=parse_timeout(timeout), space=raw_space,
                          out=out or Path("runs") / f"tune-{task}", storage=storage, study_name=study, seed=seed,
                          progress=progress,
                          log=lambda line: print(line, file=sys.stderr, flush=True))   # progress; the result below
    except KeyboardInterrupt as e:        # one line, saying where the study is (typer would drop the message)
        print(str(e) or "interrupted", file=sys.stderr, flush=True)
        sys.exit(130)
    o = result["out"]
    print(f"\nbest val_loss {result['best_value']:.6g} (trial {result['best_trial']} of {result['trials']}): "
          + ", ".join(f"{k}={_short(v)}" for k, v in result["best_params"].items()))
    print(f"best config: {o / 'best.yaml'}  (lstmkit {task} train --config {o / 'best.yaml'})")
    print(f"trials: {o / 'trials.csv'}  history: {o / 'history.png'}  study: {result['storage']}")
    sys.stdout.flush()


# tune's data flags -> the built-in tasks that read them (a task registered from outside reads what it reads)
_BUILT_IN = ("forecast", "classify", "translate", "lm", "speech")
_TASK_FLAGS = {"target": ("--target", ("forecast",)), "time": ("--time", ("forecast", "classify")),
               "time_zone": ("--time-zone", ("forecast",))}


def _check_task_flags(task: str, given: dict[str, Any]) -> None:
    """A data flag of another task is named as such, before anything is read: `tune lm --time-zone UTC`
    failed as the estimator's parameter ("LanguageModel has no parameter 'time_zone'")."""
    if task not in _BUILT_IN:
        return
    for key, value in given.items():
        flag, tasks = _TASK_FLAGS[key]
        if value is not None and task not in tasks:
            raise LstmkitError(f"{flag} is an option of {' and '.join(f'tune {t}' for t in tasks)}; "
                               f"tune {task} does not read it", f"leave {flag} out")


def _check_run_leaves_some(run: Path, raw: dict[str, Any], space: dict[str, Any]) -> None:
    """Refuse ``--config RUN`` (a run folder) whose settings fix those the search space draws: a run
    records every setting, so each was 'both fixed and searched', and the fix said was to remove it
    from --config, which a run folder cannot do (the default space: 'remove some from --config')."""
    recorded = flatten_config(raw)
    drawn = [k for k in space if k in recorded]
    if drawn:
        raise LstmkitError(f"--config {run} is a run folder, and a run records every setting: it fixes "
                           f"{', '.join(drawn)}, which the search space draws",
                           "pass --config a YAML file of only the settings to keep fixed (a run's are under "
                           "\"config\" in its lstmkit.json), and --space the settings to search")


def _sqlite_file(url: str) -> str:
    """The file an ``sqlite:///`` URL names, its escapes read (``C%3A/Users/Jos%C3%A9`` is ``C:/Users/José``)."""
    from sqlalchemy.engine import make_url
    try:
        return make_url(url).database or "."
    except Exception:                 # sqlalchemy's ArgumentError: not a URL it reads
        return url.split(":///", 1)[1] or "."


def _sqlite_url(path: Path) -> str:
    """The SQLite URL of the file ``path``, its characters escaped: ``sqlite:///{path}`` read a folder
    named ``tune ?2`` as the file ``tune `` and a query, so the study went to another file, which a
    second study's ``--out`` could share. With forward slashes, which SQLite takes on Windows too: its
    backslashes were escaped, ``sqlite:///C%3A%5CUsers%5C...``, in every line naming the study."""
    from sqlalchemy.engine import URL              # optuna's own dependency: there whenever optuna is
    return URL.create("sqlite", database=path.resolve().as_posix()).render_as_string(hide_password=False)
