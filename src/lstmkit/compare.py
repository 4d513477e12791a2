"""``lstmkit compare``: train several zoo models on one task under one budget, one table + plot.

>>> table = compare("forecast", "co2.csv", models=["lstm", "gru", "tcn"], seeds=3, epochs=30,
...                 target="co2", time="date", fill="interpolate")
>>> compare("classify", "reviews.csv", models=["lstm", "gru"], text="review", label="sentiment")
>>> compare("translate", None, src_file="train.en", tgt_file="train.de", test_src_file="test.en",
...         test_tgt_file="test.de")
>>> compare("lm", "corpus.txt", models=["lstm", "gru", "transformer"], level="char")

Every model gets the same data, split, lookback, hidden size, layers, optimiser, epoch budget
and early stopping; only the encoder differs. Each runs with ``seeds`` seeds; a row reports

* ``params``: trainable parameters;
* test metrics as mean ± std over seeds (the task's metrics; forecasting adds its baselines,
  classification the majority class as reference rows): forecast MASE/MAE/RMSE/sMAPE, classify
  accuracy/macro-F1 and the calibration of its probabilities, nll/brier/ece (the majority row's are the
  training class shares'), translate BLEU/chrF of greedy decoding, lm perplexity and bits per token;
* ``train_s``: seconds in the training loop (epochs incl. validation, without data preparation
  or test evaluation), ``epochs``: epochs run before early stopping ended them,
  ``windows_per_s``: training windows (sequences, sentence pairs) processed per second;
* ``latency_b1_ms`` / ``latency_b256_ms``: median wall time of one forward pass in eval mode on
  the CPU, batch 1 and batch 256 (translation: greedy decoding);
* ``act_mem_mb``: activation memory of one training step: the bytes of the distinct tensors
  autograd keeps for the backward pass of one training batch (parameters excluded), measured with
  ``torch.autograd.graph.saved_tensors_hooks``. It is deterministic, unlike RSS deltas that depend
  on the allocator; it is what grows with sequence length (T² attention maps, per-step states).

Each task room supplies its bench as ``BENCH`` in ``tasks/<task>/bench.py`` (a factory of a
:class:`~lstmkit.train.bench.TaskBench`); :data:`TASKS` finds it by the task's name, and
:func:`register_task` adds one from outside. The measurements are :mod:`lstmkit.train.bench`'s.
"""
from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import warnings
from collections import Counter, abc
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional

import typer

from lstmkit.cli_train import reader_may_leave
from lstmkit.config import lower_lr
from lstmkit.errors import LstmkitError, TrainingInterrupted, caller_wording, callers_level, opt, worded
from lstmkit.files import check_writable, remove_left_temps
from lstmkit.runs import atomic_write, check_out_folder, new_run_dir, write_json
from lstmkit.tasks import RoomRegistry
from lstmkit.train.progress import trial_display

if TYPE_CHECKING:        # numpy, pandas and torch load where they are used: `lstmkit compare --help` took seconds
    import pandas as pd

    from lstmkit.train.bench import TaskBench, Trial

__all__ = ["TASKS", "register_task", "compare", "resume_compare", "summarise", "to_markdown", "seed_noise", "compare_command"]

DEFAULT_MODELS = ("lstm", "gru", "transformer", "tcn")


def _trial_errors() -> tuple[type[BaseException], ...]:
    """What ends one model's trial and not the comparison: a bad setting for that model, a
    diverged loss, memory that model alone needs (torch is imported here, not with the module)."""
    import torch
    return (LstmkitError, torch.OutOfMemoryError)


TASKS = RoomRegistry("bench", lambda room: room.BENCH)   # task -> bench factory, from tasks/<task>/bench.py


def register_task(name: str, factory: Callable[..., TaskBench]) -> None:
    """Make ``lstmkit compare --task name`` available; ``factory(data, **options)`` -> TaskBench."""
    TASKS.register(name, factory)


# ------------------------------------------------------------------------------- compare
def compare(task: str, data, models: Iterable[str] = DEFAULT_MODELS, seeds: int = 3, epochs: int = 30,
            out: str | Path | None = "runs", seed: int = 42, log: Callable[[str], None] | None = print,
            warmup: bool = True, show: Callable[[str], None] | None = None, progress: str = "auto",
            **options: Any) -> pd.DataFrame:
    """Train every model with ``seeds`` seeds (``seed``, ``seed + 1``, ...) and return one row per
    model (then the task's reference rows). With ``out``, a folder ``out/compare-<task>-<stamp>``
    receives trials.json (every single run), written as each trial ends, then compare.csv,
    compare.md and compare.png; its path is in ``table.attrs["out"]``. A comparison interrupted
    (Ctrl-C) keeps its finished trials there: :func:`resume_compare` runs the rest. ``warmup``
    first trains the first model for one epoch and discards it, so that one-time start-up costs do
    not count against it. ``log`` gets a line per trial as it ends, ``show`` the table and where it
    was written (``log`` when None; the CLI's ``log`` writes to standard error, its ``show`` to
    standard output). ``progress``: each trial's training display on standard error: ``auto``, a bar
    on a terminal and nothing between the trial lines elsewhere; ``bar``, ``log`` (a line every 10 s)
    or ``off``."""
    models = _plan_models(task, models, seeds, epochs)
    _check_seeds(seed, seeds)
    if out is not None:
        check_out_folder(out)
        check_writable(out, "the comparison")     # before the models train, not after
    display = trial_display(progress)
    plan = {"task": task, "models": models, "seeds": seeds, "epochs": epochs, "seed": seed, "warmup": warmup}
    given = _given(data, options)                  # read before the bench: a file changed while it trains
    bench = TASKS[task](data, **options)
    bench.check_models(models)
    progress = _Progress(plan, given, out=out)
    return _run(bench, progress, log, show, display)


def _plan_models(task: str, models: Any, seeds: Any, epochs: Any) -> list[str]:
    """``compare``'s task, models, seeds and epochs checked, the models as a list (each once). Its fixes are
    worded for the caller (:class:`~lstmkit.errors.caller_wording`): a Python call of compare() was
    told to 'pass --seeds 3', a flag it cannot pass; the command's ``main`` keeps its flags."""
    with caller_wording(python=True):
        if task not in TASKS:
            raise LstmkitError(f"unknown task {task!r} for compare", f"available: {', '.join(TASKS)}")
        names = (models.split(",") if isinstance(models, str) else
                 list(models) if isinstance(models, abc.Iterable) else None)
        if names is None or not all(isinstance(m, str) for m in names):   # [1] was an AttributeError, None a TypeError
            raise LstmkitError(f"`models` must be zoo model names, a list or text with commas, got {models!r}"[:200],
                               "pass models=['lstm', 'gru'] or models='lstm,gru'")
        items = {m.strip() for m in names} if isinstance(models, str) else set()
        if "" in items and items != {""}:
            # 'lstm,,gru' trained lstm and gru without a word: a model typed as a second comma went missing
            raise LstmkitError(f"{worded('--models', '`models`')} {models!r} has an empty item (two commas in "
                               "a row, or one at an end)", "write one model between each two commas: " +
                               worded("--models lstm,gru,tcn", "models='lstm,gru,tcn'"))
        models = [m.strip() for m in names if m.strip()]
        if not models:
            raise LstmkitError("no models given",
                               "pass " + worded("--models lstm,gru,...", "models=['lstm', 'gru', ...]"))
        if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
            raise LstmkitError(f"`seeds` must be a positive integer, got {seeds!r}", f"pass {opt('seeds', 3)}, say")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise LstmkitError(f"`epochs` must be a positive integer, got {epochs!r}", f"pass {opt('epochs', 30)}, say")
        repeated = [m for m, n in Counter(models).items() if n > 1]
        if repeated:
            warnings.warn(f"{', '.join(repeated)} named more than once in {worded('--models', '`models`')}: each "
                          "model is trained once", UserWarning, stacklevel=callers_level())
    return list(dict.fromkeys(models))


def _check_seeds(seed: Any, seeds: int) -> None:
    """``seed`` and the last seed a comparison trains (``seed + seeds - 1``) must be seeds: a ``seed='7'``
    was a bare TypeError, a negative one failed every model's trial in turn, each with the same error."""
    from lstmkit.config import MAX_SEED, check_seed
    with caller_wording(python=True):        # compare() alone takes a seed: the command has no --seed
        check_seed(seed)
    if seed + seeds - 1 > MAX_SEED:
        raise LstmkitError(f"`seed` {seed} with {seeds} seeds trains up to seed {seed + seeds - 1}, past the "
                           f"largest one ({MAX_SEED})", f"pass seed={MAX_SEED - seeds + 1} or less")


def resume_compare(folder: str | Path, data: Any = None, log: Callable[[str], None] | None = print,
                   show: Callable[[str], None] | None = None, progress: str = "auto", **options: Any) -> pd.DataFrame:
    """Run the trials an interrupted comparison in ``folder`` (``compare-<task>-<stamp>``) has not run,
    with the settings it began with, and write its table there. ``data`` and ``options``: only what it
    was given in memory (a DataFrame), to give again; files are read from where they were, and a file
    whose content changed is refused (the finished trials were measured on the old one). ``progress``:
    as :func:`compare`'s (how it shows, not what it computes)."""
    display = trial_display(progress)
    folder = Path(folder)
    record = _read_progress(folder)
    check_writable(folder, "the comparison")     # before the models train, not after
    plan = record["plan"]
    if plan["task"] not in TASKS:
        raise LstmkitError(f"{folder} compares the task {plan['task']!r}, which this lstmkit has not",
                           f"available: {', '.join(TASKS)}")
    progress = _Progress(plan, record["given"], folder=folder, record=record)
    progress.hold()
    remove_left_temps(folder)      # a kill -9 left them mid-write; held now: no write is in flight
    try:
        data, options = _given_again(record["given"], folder, data, options)
        bench = TASKS[plan["task"]](data, **options)
        bench.check_models(plan["models"])
    except BaseException:
        progress.release()
        raise
    return _run(bench, progress, log, show, display)


def _run(bench: TaskBench, progress: _Progress, log: Callable[[str], None] | None,
         show: Callable[[str], None] | None, display: str = "off") -> pd.DataFrame:
    """Train the trials ``progress`` has not, keeping each as it ends, each shown as ``display`` says;
    then the table and its files."""
    try:
        return _compared(bench, progress, log, show, display)
    finally:
        progress.release()


def _compared(bench: TaskBench, progress: _Progress, log: Callable[[str], None] | None,
              show: Callable[[str], None] | None, display: str) -> pd.DataFrame:
    plan = progress.plan
    trials, failed = progress.trials, progress.failed   # those a resumed comparison kept: not run again
    done = {(t.model, t.seed) for t in trials}
    todo = [(m, plan["seed"] + k) for m in plan["models"] if m not in failed for k in range(plan["seeds"])
            if (m, plan["seed"] + k) not in done]
    trial_errors = _trial_errors()
    try:       # Ctrl-C in training (TrainingInterrupted) or between (timing, saving): what is kept, and how to go on
        first_error = _run_trials(bench, progress, todo, trial_errors, log, display)
    except (TrainingInterrupted, KeyboardInterrupt):
        raise KeyboardInterrupt(progress.lost()) from None
    import torch
    if not trials:                       # nothing to compare (and nothing was written): the first model's error is the answer
        raise first_error or LstmkitError(f"every model of the comparison failed ({'; '.join(f'{m}: {w}' for m, w in failed.items())})",
                                          "start a new comparison with other settings")
    references = bench.reference_rows() or progress.references
    table = summarise(trials, bench.metrics, references, failed)
    settings = {**{k: v for k, v in plan.items() if k != "warmup"}, **progress.described, **bench.describe(),
                "torch": torch.__version__, "threads": torch.get_num_threads(),
                **({"failed": failed} if failed else {}),
                **({"resumed": progress.resumed} if progress.resumed else {})}
    table.attrs["settings"] = settings
    if progress.folder is not None or progress.out is not None:
        folder = progress.make_folder()
        try:
            _write(folder, table, trials, bench.metrics, settings, getattr(bench, "higher_is_better", False),
                   progress.kept_record(bench, references))
        except KeyboardInterrupt:        # trials.json, marked complete, is written last
            raise KeyboardInterrupt(f"while writing the table; the {len(trials)} trials are kept in {folder} — "
                                    f"continue with: lstmkit compare --resume {folder}") from None
        table.attrs["out"] = folder
    show = show or log
    if show:
        show("\n" + to_markdown(table, bench.metrics))
        note = seed_noise(table, bench.metrics, getattr(bench, "higher_is_better", False))
        if note:
            show("\n" + note)
        if progress.folder is not None:
            show(f"\nwritten to {table.attrs['out']}")
    return table


def _run_trials(bench: TaskBench, progress: _Progress, todo: list[tuple[str, int]],
                trial_errors: tuple[type[BaseException], ...], log: Callable[[str], None] | None,
                display: str = "off") -> BaseException | None:
    """Run the ``todo`` trials (model, seed) after a warm-up, keeping each as it ends (``progress``).
    Returns the first trial error."""
    plan, trials, failed = progress.plan, progress.trials, progress.failed
    if plan["warmup"] and todo:   # one-time costs (kernel selection, allocator growth) would otherwise land on the first model
        try:
            bench.run(todo[0][0], plan["seed"], 1)
        except trial_errors:
            pass     # its own trial says why
    setattr(bench, "progress", display)      # the trials' training shown (the warm-up's is not); see trial_shown
    first_error, ran, started = None, 0, time.perf_counter()
    for model, s in todo:
        if model in failed:                  # an earlier seed of it failed: its other seeds are not run
            continue
        total = progress.total()
        t0 = time.perf_counter()
        try:
            trial = bench.run(model, s, plan["epochs"])
            _check_finite(trial, bench.metrics)
        except trial_errors as e:
            failed[model], first_error = _reason(e), first_error or e
            progress.save(bench)
            if log:
                log(f"{model:>15s} seed {s}: failed, so its other seeds are skipped: {failed[model]}")
            continue
        trials.append(trial)
        ran += 1
        progress.save(bench)
        if log:
            head, count = bench.metrics[0], len(trials)
            left = (time.perf_counter() - started) / ran * (total - count)     # the mean trial run so far
            # the table's rounding: one seed's MASE read 0.9204 on its line and 0.92 in the table
            log(f"[{count}/{total}] {model:>15s} seed {s}: {head} {_fmt(trial.metrics[head])}, "
                f"{trial.epochs} epochs, {trial.train_s:.1f} s training, {time.perf_counter() - t0:.1f} s "
                f"with testing and timing" + (f"; ETA {left:.0f} s" if count < total else ""))
    return first_error


# Ctrl-C before a trial ended, or with no --out: nothing of the comparison is kept to resume
_LOST = ("after {} of {} trials; the table is written when every trial has run — run the command again "
         "(fewer --models or --seeds take less time)")
_PROGRESS = "trials.json"      # a comparison's trials, written as each ends: what --resume continues
_PATH_KEYS = frozenset({"data", "test", "val", "src_file", "tgt_file", "test_src_file", "test_tgt_file"})


# translate's metrics as its trials.json named them before they took metrics.json's names
_OLD_NAMES = {"BLEU": "bleu", "chrF": "chrf"}


def _renamed(metrics: dict[str, float]) -> dict[str, float]:
    """A recorded trial's metrics under today's names: a comparison interrupted before the renaming resumes
    with its finished trials' numbers (a column of NaN otherwise)."""
    return {_OLD_NAMES.get(k, k): v for k, v in metrics.items()} if isinstance(metrics, dict) else metrics


class _Progress:
    """The trials of one comparison, kept in its folder's trials.json as each ends (state
    ``running``), so an interrupted comparison can be resumed; the folder is made when the first
    trial ends (nothing to keep before)."""

    def __init__(self, plan: dict[str, Any], given: dict[str, Any], out: str | Path | None = None,
                 folder: Path | None = None, record: dict[str, Any] | None = None) -> None:
        from lstmkit.train.bench import Trial
        self.plan, self.given, self.out, self.folder = plan, given, out, folder
        record = record or {}
        self.trials = [Trial(**{**t, "metrics": _renamed(t["metrics"])}) for t in record.get("trials", [])]
        self.failed: dict[str, str] = dict(record.get("failed") or {})
        self.references: dict[str, dict[str, float]] = record.get("references") or {}
        self.described: dict[str, Any] = record.get("described") or {}
        self.resumed = int(record.get("resumed", 0)) + 1 if record else 0

    def make_folder(self) -> Path:
        if self.folder is None:
            assert self.out is not None
            self.folder = new_run_dir(self.out, f"compare-{self.plan['task']}")
            self.hold()
        return self.folder

    def hold(self) -> None:
        """Hold the folder while this process compares into it: a second `--resume` of it (the first still
        running in another terminal) wrote its trials.json in turn; released however the process ends."""
        from lstmkit.errors import EnvironmentProblem
        from lstmkit.run_lock import training_lock
        assert self.folder is not None
        busy = EnvironmentProblem(f"the comparison in {self.folder} is running in another process right now",
                                  "let it finish, or stop it (Ctrl-C) and run: lstmkit compare --resume "
                                  f"{self.folder}")
        self._lock = training_lock(self.folder, busy)

    def release(self) -> None:
        fd, self._lock = getattr(self, "_lock", None), None
        if fd is not None:
            os.close(fd)

    def kept_record(self, bench: TaskBench, references: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
        return {"plan": self.plan, "given": self.given, "trials": [asdict(t) for t in self.trials],
                "failed": self.failed, "references": references or bench.reference_rows() or self.references,
                "described": {**self.described, **bench.describe()}, "resumed": self.resumed}

    def save(self, bench: TaskBench) -> None:
        if (self.folder is None and self.out is None) or not self.trials:   # compare(out=None), or nothing to keep yet
            return
        write_json(self.make_folder() / _PROGRESS, {"state": "running", **self.kept_record(bench)})

    def total(self) -> int:
        """The trials the comparison will have: every seed of each model, but the trials kept of a
        model that failed (its other seeds are not run)."""
        seeds = self.plan["seeds"]
        return sum(sum(t.model == m for t in self.trials) if m in self.failed else seeds for m in self.plan["models"])

    def lost(self) -> str:
        """What Ctrl-C leaves: the trials kept and how to continue, or what is lost."""
        n, total = len(self.trials), self.total()
        if self.folder is None or not n:
            return _LOST.format(n, total)
        return (f"after {n} of {total} trials; {'the 1 finished is' if n == 1 else f'the {n} finished are'} kept in "
                f"{self.folder} — continue with: lstmkit compare --resume {self.folder}")


def _given(data: Any, options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What a comparison was given, as its resume finds it again: a file or folder by its absolute path
    (a file with its SHA-256, a folder with the fingerprint of its listing, :func:`_listing`), a plain
    value as it is, data in memory by its fingerprint."""
    from lstmkit.data.fingerprint import fingerprint
    from lstmkit.files import json_safe
    from lstmkit.runs import file_sha256
    given: dict[str, dict[str, Any]] = {}
    for key, value in {"data": data, **options}.items():
        if isinstance(value, Path) or (isinstance(value, str) and key in _PATH_KEYS):
            path = os.path.abspath(value)
            given[key] = {"path": path, **({"sha256": file_sha256(path)} if os.path.isfile(path) else
                                           _listing(path) if os.path.isdir(path) else {})}
        elif _plain(value):
            given[key] = {"value": json_safe(value)}
        else:
            given[key] = {"memory": fingerprint(value), "kind": type(value).__name__}
    return given


def _listing(folder: str) -> dict[str, Any]:
    """A data folder's files and the fingerprint of their names, sizes and modification times (its
    recordings, its split files): ``{"files": n, "listing": sha256}``. Reading every byte of a corpus of
    recordings would cost minutes at each start and resume; a file added, removed, rewritten or
    touched changes the listing."""
    import hashlib
    digest, files = hashlib.sha256(), 0
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            try:
                st = os.stat(path)
            except OSError:                    # a link to nothing: its name alone
                st = None
            digest.update(f"{os.path.relpath(path, folder)}\0{st.st_size if st else -1}\0"
                          f"{st.st_mtime_ns if st else -1}\n".encode("utf-8", "surrogateescape"))
            files += 1
    return {"files": files, "listing": digest.hexdigest()}


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return isinstance(value, dict) and all(isinstance(k, str) and _plain(v) for k, v in value.items())


def _given_again(given: dict[str, dict[str, Any]], folder: Path, data: Any,
                 options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The data and options of a comparison to resume: its files, checked unchanged, its values, and
    what it was given in memory, given again (``data``, ``options``) and checked by fingerprint."""
    from lstmkit.data.fingerprint import fingerprint
    from lstmkit.runs import file_sha256
    again = {"data": data, **options}
    extra = [k for k, v in again.items() if v is not None and "memory" not in given.get(k, {})]
    if extra:
        raise LstmkitError(f"{extra[0]}: a resumed comparison keeps what it began with and reads its files from where "
                           "they were; only data it was given in memory is given again",
                           f"leave {extra[0]} out, or start a new comparison with compare()")
    values: dict[str, Any] = {}
    for key, entry in given.items():
        name = "data" if key == "data" else f"the {key} option's data"
        if "path" in entry:
            path = entry["path"]
            if not os.path.exists(path):
                raise LstmkitError(f"{path}, {name} of the comparison in {folder}, is gone",
                                   "put it back at that path, or start a new comparison")
            if "sha256" in entry and file_sha256(path) != entry["sha256"]:
                raise LstmkitError(f"{path} holds other contents than when the comparison in {folder} began: its "
                                   "finished trials were measured on what it held then",
                                   "put the file back as it was, or start a new comparison")
            if "listing" in entry and (now := _listing(path))["listing"] != entry["listing"]:
                count = (f"{entry['files']:,} files then, {now['files']:,} now" if now["files"] != entry["files"]
                         else f"{now['files']:,} files, one or more of them rewritten since")
                raise LstmkitError(f"the folder {path}, {name} of the comparison in {folder}, holds other files than "
                                   f"when the comparison began ({count}): its finished trials were measured on what "
                                   "it held then", "put the folder back as it was, or start a new comparison")
            values[key] = path
        elif "memory" in entry:
            here = again.get(key)
            if here is None:
                raise LstmkitError(f"the comparison in {folder} was given {name} in memory (a {entry.get('kind')}), "
                                   "which is not saved", f"give it again: lstmkit.compare.resume_compare("
                                                         f"{str(folder)!r}, {key}=...)")
            if entry["memory"] is not None and fingerprint(here) != entry["memory"]:
                raise LstmkitError(f"the {type(here).__name__} given as {key} is not the {entry.get('kind')} the comparison "
                                   f"in {folder} began with: its finished trials were measured on that one",
                                   "give the same data, or start a new comparison with compare()")
            values[key] = here
        else:
            values[key] = entry.get("value")
    return values.pop("data", None), values


def _read_progress(folder: Path) -> dict[str, Any]:
    """The record of an interrupted comparison in ``folder``; one error for anything else."""
    import json
    what = "the compare-<task>-<stamp> folder an interrupted comparison wrote"
    if not folder.is_dir():
        raise LstmkitError(f"{folder} is not a folder" if folder.exists() else f"{folder} does not exist",
                           f"pass {what}")
    path = folder / _PROGRESS
    if not path.is_file():
        raise LstmkitError(f"{folder} holds no {_PROGRESS}: it is not a comparison's folder (one interrupted before "
                           "its first trial ended keeps nothing)", f"pass {what}, or start a new comparison")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:                   # nested past what the parser takes: a traceback
        raise LstmkitError(f"{path} cannot be read as JSON (nested deeper than any file lstmkit writes)",
                           "start a new comparison") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LstmkitError(f"{path} cannot be read as JSON ({e})",
                           "start a new comparison") from None
    if isinstance(record, dict) and (record.get("state") == "complete" or ("settings" in record and "plan" not in record)):
        raise LstmkitError(f"the comparison in {folder} has finished: its table is {folder / 'compare.md'}",
                           "start a new one")
    plan = record.get("plan") if isinstance(record, dict) else None
    if not (isinstance(plan, dict) and isinstance(record.get("given"), dict) and isinstance(record.get("trials"), list)
            and isinstance(plan.get("task"), str) and isinstance(plan.get("models"), list)
            and all(isinstance(plan.get(k), int) for k in ("seeds", "epochs", "seed"))):
        raise LstmkitError(f"{path} is not the record of an interrupted comparison", f"pass {what}")
    from lstmkit.train.bench import Trial
    try:
        [Trial(**t) for t in record["trials"]]
    except TypeError:                    # not a mapping, or other fields
        raise LstmkitError(f"{path} holds a trial that is not one lstmkit records", f"pass {what}") from None
    return record


def _check_finite(trial: Trial, metrics: tuple[str, ...]) -> None:
    """A trial whose every test metric is NaN or infinite failed: its outputs on the test part were not
    finite (weights that overflowed). Its row read `nan ± nan`, hiding the other seeds, and not failed,
    where a loss that diverged in training is. The fix lowers the trial's learning rate (its bench's
    ``extra["lr"]``), which 'e.g. --lr 1e-4' did not read."""
    values = [trial.metrics.get(m) for m in metrics]
    if not all(v is None or not math.isfinite(v) for v in values):
        return
    shown = ", ".join(f"{m} {v}" for m, v in zip(metrics, values))
    raise LstmkitError(f"seed {trial.seed}: every test metric is NaN or infinite ({shown}): its outputs on the "
                       "test part are not finite (the training diverged)",
                       lower_lr(trial.extra.get("lr")))


def _reason(error: BaseException) -> str:
    """An error as one line (an LstmkitError's message — hint)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def summarise(trials: list[Trial], metrics: tuple[str, ...],
              references: dict[str, dict[str, float]] | None = None,
              failed: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per model: means and stds over seeds; a row per failed model with its reason in
    ``failed``; reference rows carry metrics only."""
    import pandas as pd
    rows = []
    for model in dict.fromkeys(t.model for t in trials):
        group = [t for t in trials if t.model == model]
        row: dict[str, Any] = {"model": model, "params": group[0].params, "seeds": len(group)}
        for m in metrics:
            # a metric a trial kept before lstmkit scored it (a resumed comparison's) is NaN, not a KeyError
            row[f"{m}_mean"], row[f"{m}_std"] = _mean_std([t.metrics.get(m, math.nan) for t in group])
        for col in ("train_s", "epochs", "windows_per_s", "latency_b1_ms", "latency_b256_ms", "act_mem_mb"):
            row[f"{col}_mean"], row[f"{col}_std"] = _mean_std([getattr(t, col) for t in group])
        rows.append(row)
    rows += [{"model": name, "failed": why} for name, why in (failed or {}).items()]
    for name, values in (references or {}).items():
        rows.append({"model": name, **{f"{m}_mean": values.get(m, math.nan) for m in metrics}})
    table = pd.DataFrame(rows)
    # counts stay whole numbers beside the empty cells of failed and reference rows: compare.csv read 19050.0
    return table.astype({c: "Int64" for c in ("params", "seeds") if c in table})


def _mean_std(values: list[float]) -> tuple[float, float]:
    import numpy as np
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def to_markdown(table: pd.DataFrame, metrics: tuple[str, ...]) -> str:
    """The comparison as a Markdown table; metrics as mean ± std."""
    import pandas as pd
    cols = ["model", "params", *metrics, "epochs", "train s", "windows/s", "latency b1 ms",
            "latency b256 ms", "act. mem MB"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join(["---"] + ["---:"] * (len(cols) - 1)) + "|"]
    for _, r in table.iterrows():
        if isinstance(r.get("failed"), str):
            lines.append("| " + " | ".join([str(r["model"]), "—", f"failed: {r['failed']}"]
                                           + ["—"] * (len(cols) - 3)) + " |")
            continue
        trained = not pd.isna(r.get("params"))
        spread = trained and r.get("seeds", 2) > 1          # one seed has no spread to show (not '± 0')
        cells = [str(r["model"]), f"{int(r['params']):,}" if trained else "—"]
        for m in metrics:
            std = r.get(f"{m}_std")
            cells.append(_fmt(r[f"{m}_mean"]) + (f" ± {_fmt(std)}" if spread else ""))
        if trained:
            cells += [f"{r['epochs_mean']:.1f}",
                      f"{r['train_s_mean']:.1f}" + (f" ± {r['train_s_std']:.1f}" if spread else ""),
                      f"{r['windows_per_s_mean']:,.0f}", f"{r['latency_b1_ms_mean']:.2f}",
                      f"{r['latency_b256_ms_mean']:.1f}", f"{r['act_mem_mb_mean']:.2f}"]
        else:
            cells += ["—"] * 6
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def seed_noise(table: pd.DataFrame, metrics: tuple[str, ...], higher_is_better: bool = False) -> str | None:
    """Which models the seeds cannot tell from the best on the headline metric (the first one any
    model has a number for): those whose mean differs from the best's by at most two standard errors
    of the difference over the seeds (a tie too, when neither varies). The table showed means ± std and left the reader to judge,
    where 0.629 ± 0.034 against 0.649 ± 0.014 over 2 seeds reads as a ranking. A baseline row (ETS, naive, …)
    better than the best model is named after it: 'gru has the best MASE' stood alone above ETS's lower one."""
    import numpy as np
    trained = table[table["params"].notna()] if "params" in table else table.iloc[:0]
    head = next((m for m in metrics if trained[f"{m}_mean"].notna().any()), None) if len(trained) else None
    if head is None:
        return None
    rows = trained[trained[f"{head}_mean"].notna()]
    if len(rows) < 2:
        return None
    best = rows.loc[rows[f"{head}_mean"].idxmax() if higher_is_better else rows[f"{head}_mean"].idxmin()]
    shown = lambda r: f"{r['model']} ({_fmt(r[f'{head}_mean'])} ± {_fmt(r[f'{head}_std'])})"  # noqa: E731
    baseline = _better_baselines(table, head, best[f"{head}_mean"], higher_is_better)
    if (rows["seeds"] < 2).any():
        return (f"{best['model']} has the best {head}, but a model trained with one seed has no spread to tell its "
                "difference from seed noise: pass --seeds 3 or more." + baseline)
    within = [r for _, r in rows.iterrows() if r["model"] != best["model"]
              and abs(r[f"{head}_mean"] - best[f"{head}_mean"])       # a tie (1 ± 0 beside 1 ± 0) is one
              <= 2 * np.sqrt(best[f"{head}_std"] ** 2 / best["seeds"] + r[f"{head}_std"] ** 2 / r["seeds"])]
    if not within:
        return (f"{shown(best)} has the best {head}; every other model's difference from it is over two standard "
                "errors of the seeds." + baseline)
    return (f"{shown(best)} has the best {head}; within seed noise of it (a difference of at most two standard "
            f"errors of the seeds): {', '.join(shown(r) for r in within)}. More --seeds may tell them apart." + baseline)


def _better_baselines(table: pd.DataFrame, head: str, best: float, higher_is_better: bool) -> str:
    """'' or a sentence naming the baseline rows whose ``head`` beats ``best``, the best model's mean."""
    refs = table[table["params"].isna() & (table["failed"].isna() if "failed" in table else True)]
    beat = [(r["model"], r[f"{head}_mean"]) for _, r in refs.iterrows()
            if r[f"{head}_mean"] == r[f"{head}_mean"] and (r[f"{head}_mean"] > best if higher_is_better
                                                           else r[f"{head}_mean"] < best)]
    if not beat:
        return ""
    named = " and ".join(f"{name} ({_fmt(v)})" for name, v in beat)
    return f" The baseline{'s' if len(beat) > 1 else ''} {named} {'are' if len(beat) > 1 else 'is'} better than every model trained."


def _fmt(v: float) -> str:
    import pandas as pd
    if v is None or pd.isna(v):
        return "nan"
    # past a billion in powers of ten: an overflowed model's MAE ran to 130 digits across the table
    # from 999.5 three digits round up to '1e+03' (an MAE of 999.7 read so beside 1,001): whole numbers
    return f"{v:.3g}" if abs(v) < 999.5 or abs(v) >= 1e9 else f"{v:,.0f}"


def _write(folder: Path, table: pd.DataFrame, trials: list[Trial], metrics: tuple[str, ...],
           settings: dict[str, Any], higher_is_better: bool = False, record: dict[str, Any] | None = None) -> None:
    atomic_write(folder / "compare.csv", lambda tmp: table.to_csv(tmp, index=False))
    lines = [f"# lstmkit compare: {settings['task']}", ""]
    lines += [f"- {k}: {v}" for k, v in settings.items() if k != "task"]
    note = seed_noise(table, metrics, higher_is_better)
    lines += ["", to_markdown(table, metrics), "", *([note, ""] if note else []),
              "Metrics: mean ± std over seeds on the test part. train s: seconds in the training loop; "
              "latency: median CPU forward pass in eval mode; act. mem: bytes autograd saves for backward "
              "in one training batch (parameters excluded)."
              + (" nll, brier, ece: calibration of the predicted probabilities (log loss, Brier score, expected "
                 "calibration error), lower is better; the majority row's are those of the training class shares."
                 if "ece" in metrics else ""), ""]
    atomic_write(folder / "compare.md", lambda tmp: Path(tmp).write_text("\n".join(lines), encoding="utf-8"))
    _plot(table, metrics, folder / "compare.png", higher_is_better)
    # the trials with what a resume read (plan, given), last: complete once every file is written
    write_json(folder / _PROGRESS, {**(record or {}), "state": "complete", "settings": settings,
                                    "trials": [asdict(t) for t in trials]})


def _plot(table: pd.DataFrame, metrics: tuple[str, ...], path: Path, higher_is_better: bool = False) -> None:
    import numpy as np

    from lstmkit.inspect.plots import key_beside, plain_log_ticks, save_figure, subplots

    trained = table[table["params"].notna()]
    # the first metric any model has a number for: MASE of a series that never changes is NaN for every
    # model (its scale, the naive error, is 0), and its panel was empty
    headline = next((m for m in metrics if trained[f"{m}_mean"].notna().any()), metrics[0])
    undefined = f"; {metrics[0]} is undefined here (NaN for every model)" if headline != metrics[0] else ""
    refs = table[table["params"].isna() & (table["failed"].isna() if "failed" in table else True)]
    names = trained["model"].tolist()
    pos = np.arange(len(names))
    fig, axes = subplots(2, 2, figsize=(11, 7))
    ax = axes[0, 0]
    ax.bar(pos, trained[f"{headline}_mean"], yerr=trained[f"{headline}_std"], capsize=4, color="tab:blue")
    for k, (_, r) in enumerate(refs.iterrows()):
        ax.axhline(r[f"{headline}_mean"], ls=["--", ":", "-."][k % 3], color="0.4", lw=1,
                   label=f"{r['model']} {r[f'{headline}_mean']:.3g}")
    if len(refs):
        key_beside(ax, fontsize=7, title="baseline", title_fontsize=7)
    ax.set_title(f"test {headline} (mean ± std over seeds, {'higher' if higher_is_better else 'lower'} is better"
                 f"{undefined})", fontsize=10 if undefined else None)
    panels = [(axes[0, 1], "train_s", "training time, s"),
              (axes[1, 1], "act_mem_mb", "activation memory per training batch, MB")]
    for ax, col, title in panels:
        ax.bar(pos, trained[f"{col}_mean"], yerr=trained[f"{col}_std"], capsize=4, color="tab:orange")
        ax.set_title(title)
    ax = axes[1, 0]
    ax.bar(pos - 0.2, trained["latency_b1_ms_mean"], 0.4, label="batch 1")
    ax.bar(pos + 0.2, trained["latency_b256_ms_mean"], 0.4, label="batch 256")
    ax.set_yscale("log")
    plain_log_ticks(ax)                                 # 0.6 and 2 ms read '6×10⁻¹' and '2×10⁰'
    ax.set_title("inference latency, ms (CPU, log scale)")
    key_beside(ax, fontsize=7)
    for ax in axes.flat:
        ax.set_xticks(pos, names, rotation=20, fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    save_figure(fig, path, tight=True)


# ------------------------------------------------------------------------------------ CLI
_SERIES = ("forecast", "classify")            # classify --series reads a long table's time and feature columns
_TASK_OPTIONS = {                             # option -> (its flag, the built-in tasks that read it)
    "target": ("--target", ("forecast",)), "time": ("--time", _SERIES), "features": ("--features", _SERIES),
    "id": ("--id", ("forecast",)), "format": ("--format", ("forecast",)), "lookback": ("--lookback", ("forecast",)),
    "horizon": ("--horizon", ("forecast",)), "fill": ("--fill", ("forecast",)),
    "time_zone": ("--time-zone", ("forecast",)), "ensemble": ("--ensemble", _SERIES),
    "test": ("--test", ("classify", "translate", "lm", "speech")), "text": ("--text", ("classify",)),
    "label": ("--label", ("classify",)), "series": ("--series", ("classify",)),
    "unequal_length": ("--unequal-length", ("classify",)),
    "mode": ("--mode", ("speech",)), "label_from_name": ("--label-from-name", ("speech",)),
    **{k: (f"--{k.replace('_', '-')}", ("translate",))
       for k in ("src", "tgt", "src_file", "tgt_file", "test_src_file", "test_tgt_file")}}


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """torch's thread count ``threads`` in the block, the process's given back after it: a program
    running the command in-process (a notebook's ``lstmkit.cli.main([...])``) kept ``--threads``
    for every torch call after it."""
    import torch
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def _check_task_options(task: str, given: dict[str, Any]) -> None:
    """An option of another task is named as such: it failed as the estimator's parameter (`--series`
    with `--task lm`: "LanguageModel has no parameter 'series' — did you mean 'seed'?"), for forecast
    only after the warm-up had trained. A task registered from outside reads what it reads."""
    builtin = {t for _, tasks in _TASK_OPTIONS.values() for t in tasks}
    if task not in builtin:
        return
    for key in given:
        flag, tasks = _TASK_OPTIONS.get(key, (None, (task,)))
        if task not in tasks:
            raise LstmkitError(f"{flag} is an option of {' and '.join(f'--task {t}' for t in tasks)}; "
                               f"--task {task} does not read it", f"leave {flag} out")


def compare_command(
    ctx: typer.Context,
    task: str = typer.Option("forecast", help=f"Task: {', '.join(TASKS)}."),
    data: Optional[Path] = typer.Option(None, help="Data file of the task (forecast: CSV, Excel, JSON or Parquet; classify: "
                                        "CSV/TSV/JSONL texts, class folders, UCR .tsv or long .csv series; "
                                        "translate: table with source and target columns; lm: text, one "
                                        "sentence a line; speech: a manifest CSV (path,text) or an audio folder, as "
                                        "'speech train' reads them)."),
    models: str = typer.Option(",".join(DEFAULT_MODELS), help="Comma-separated zoo models."),
    seeds: int = typer.Option(3, help="Seeds per model (mean ± std over them)."),
    epochs: int = typer.Option(30, help="Epoch budget per run (early stopping may end sooner)."),
    target: Optional[str] = typer.Option(None, help="forecast: target column(s)."),
    time_col: Optional[str] = typer.Option(None, "--time", help="forecast: time column; classify --series: time-step column of a long CSV."),
    time_zone: Optional[str] = typer.Option(None, "--time-zone", help="forecast: the IANA zone the times were "
                                            "written in (Europe/Berlin): times without an offset read as its local "
                                            "clock, times with offsets converted to it, as 'forecast train "
                                            "--time-zone' reads them."),
    features: Optional[str] = typer.Option(None, help="forecast: extra input columns; classify --series: feature columns."),
    id_col: Optional[str] = typer.Option(None, "--id", help="forecast: series id column (many series, one model each run)."),
    data_format: Optional[str] = typer.Option(None, "--format", help="forecast: long, wide (a column per series) or m4.  [default: long]"),
    lookback: Optional[int] = typer.Option(None, help="forecast: past steps seen.  [default: chosen from the training data: 3 seasons, or 4 horizons]"),
    horizon: Optional[int] = typer.Option(None, help="forecast: steps predicted.  [default: a .tsf file's @horizon, else 1]"),
    fill: Optional[str] = typer.Option(None, help="forecast: repair NaN cells and missing dates (ffill, interpolate, zero)."),
    ensemble: Optional[int] = typer.Option(None, help="forecast: seeds each run trains, its forecast their median "
                                           "(by default chosen from the data: 15 when at most 2,000 training windows, "
                                           "else 1); classify --series: nets side by side (lstm-fcn-ds only; by "
                                           "default 1)."),
    test: Optional[Path] = typer.Option(None, help="classify, translate, lm, speech: test file or folder (a folder's "
                                        "test part).  [default: classify: a stratified 20% of --data; translate, lm: "
                                        "10% of the pairs / lines; speech: --data's own test part, else 20%]"),
    text: Optional[str] = typer.Option(None, help="classify: text column.  [default: text]"),
    label: Optional[str] = typer.Option(None, help="classify: label column.  [default: label]"),
    series: bool = typer.Option(False, "--series", help="classify: numeric sequences instead of texts."),
    unequal_length: bool = typer.Option(False, "--unequal-length",
                                        help="classify --series: sequences of different lengths are allowed."),
    max_len: Optional[int] = typer.Option(None, help="classify, translate: longest sequence kept."),
    mode: Optional[str] = typer.Option(None, help="speech: ctc, classify (one label per clip, scored by accuracy) "
                                       "or seq2seq.  [default: ctc]"),
    label_from_name: Optional[str] = typer.Option(None, help="speech: a folder of audio files whose names hold "
                                                  "their labels, e.g. '{label}_{speaker}_{take}'."),
    src: Optional[str] = typer.Option(None, help="translate: source column.  [default: src]"),
    tgt: Optional[str] = typer.Option(None, help="translate: target column.  [default: tgt]"),
    src_file: Optional[Path] = typer.Option(None, help="translate: source sentences, one a line (with --tgt-file)."),
    tgt_file: Optional[Path] = typer.Option(None, help="translate: target sentences, line-aligned."),
    test_src_file: Optional[Path] = typer.Option(None, help="translate: test source sentences."),
    test_tgt_file: Optional[Path] = typer.Option(None, help="translate: test reference sentences."),
    hidden_size: Optional[int] = typer.Option(None, help="Hidden size of every model.  [default: the task's; forecast: "
                                              "chosen from the data, 16 up to 1,000 training windows, else 50]"),
    layers: Optional[int] = typer.Option(None, help="Layers of every model.  [default: the task's; forecast: chosen "
                                         "from the data, 1 up to 1,000 training windows, else 2]"),
    batch_size: Optional[int] = typer.Option(None, help="Mini-batch size.  [default: the task's]"),
    lr: Optional[float] = typer.Option(None, help="Adam learning rate.  [default: the task's]"),
    patience: Optional[int] = typer.Option(None, help="Early-stopping patience.  [default: the task's]"),
    device: Optional[str] = typer.Option(None, help="Training device: auto, cpu, cuda.  [default: auto]"),
    threads: Optional[int] = typer.Option(None, help="CPU threads for torch.  [default: torch's default]"),
    out: Path = typer.Option(Path("runs"), help="Folder that receives compare-<task>-<stamp>/."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue the interrupted comparison in this "
                                          "compare-<task>-<stamp> folder: the trials it has not run, with the "
                                          "settings it began with (no other option but --threads and --progress)."),
    progress: str = typer.Option("auto", help="Each trial's training on standard error: auto (a bar on a terminal, "
                                 "else the trial lines alone), bar, log (a line every 10 s) or off."),
):
    """Train several zoo models under one budget; table of accuracy, speed and memory."""
    if resume is not None:
        # by the source's name: typer's context is not click's own (its ParameterSource another enum)
        given = [p for p in ctx.command.params if p.name and p.name not in ("resume", "threads", "progress")
                 and getattr(ctx.get_parameter_source(p.name), "name", None) in ("COMMANDLINE", "ENVIRONMENT")]
        if given:
            name = given[0].opts[0]
            raise LstmkitError(f"{name} with --resume: a resumed comparison keeps the settings it began with",
                               f"leave {name} out (start a new comparison to change it)")
    if threads is not None and threads < 1:
        raise LstmkitError(f"`threads` must be at least 1, got {threads}", "pass --threads 1, say")
    options = {"target": target, "time": time_col, "time_zone": time_zone, "features": features,
               "id": id_col, "format": data_format,
               "lookback": lookback,
               "horizon": horizon, "fill": fill, "ensemble": ensemble, "hidden_size": hidden_size, "num_layers": layers,
               "batch_size": batch_size, "lr": lr, "patience": patience, "device": device,
               "test": test, "text": text, "label": label, "series": series or None,
               "unequal_length": unequal_length or None, "max_len": max_len,
               "mode": mode, "label_from_name": label_from_name,
               "src": src, "tgt": tgt, "src_file": src_file, "tgt_file": tgt_file,
               "test_src_file": test_src_file, "test_tgt_file": test_tgt_file}
    if data is None and task != "translate" and resume is None:
        raise LstmkitError("no data given", "pass --data FILE")
    _check_task_options(task, {k: v for k, v in options.items() if v is not None})
    try:
        # reader_may_leave: `| head -1` stopped it after the first model, nothing written
        with reader_may_leave(), _torch_threads(threads):
            if resume is not None:
                resume_compare(resume, log=lambda line: typer.echo(line, err=True), show=typer.echo, progress=progress)
                return
            compare(task, str(data) if data is not None else None, models=models, seeds=seeds, epochs=epochs, out=out,
                    log=lambda line: typer.echo(line, err=True), show=typer.echo, progress=progress,
                    **{k: v for k, v in options.items() if v is not None})
    except KeyboardInterrupt as e:        # one line saying what was lost (typer would drop the message)
        print("interrupted" + (f" {e}" if str(e) else ""), file=sys.stderr, flush=True)
        sys.exit(130)
