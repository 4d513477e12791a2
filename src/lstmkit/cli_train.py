"""A task's ``train`` command, declared once for every task (:func:`add_train_command`): its
data-file options, the options generated from its config (:mod:`lstmkit.cli_config`) and the
shared ``--config``, ``--out`` and ``--resume``; what it checks before anything is read (a
``--config`` key that names no setting, a resume flag that differs from the run's settings, a
``--val-frac`` beside a validation file); standard output whose reader may leave; and the lines
that end every ``train`` report (:func:`echo_run_end`). :func:`task_app` makes a task's command
group. Nothing here imports a task: the estimator is named as ``"module:Class"``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import difflib
import errno
import importlib
import inspect
import os
import sys
from pathlib import Path
from typing import Any, Callable, Optional

import typer

from lstmkit.cli_config import _DEFAULT_OUT, config_file_path, config_options, resolve_params
from lstmkit.config import TrainConfig, check_plateau_given, config_source, flag, flatten_config
from lstmkit.errors import LstmkitError, settings_file
from lstmkit.runs import META_FILE

__all__ = ["add_train_command", "check_config_keys", "check_resume_flags", "echo_run_end", "file_settings",
           "reader_may_leave", "task_app"]


def task_app(help: str) -> typer.Typer:
    """A task's sub-command group (``lstmkit lm ...``): bare, it prints its help."""
    return typer.Typer(help=help, no_args_is_help=True, add_completion=False)


def add_train_command(app: typer.Typer, config_cls: type, estimator: str, report: Callable[[Any], None], *,
                      doc: str, files: dict[str, str], required: tuple[str, str, str] | None = None,
                      keywords: dict[str, str] | None = None,
                      fit: Callable[[type, dict[str, str | None], dict[str, Any], Path], Any] | None = None,
                      resume: Callable[[type, Path, dict[str, str | None], dict[str, Any]], Any] | None = None,
                      check: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
                      schedule: Callable[[dict[str, Any]], str] | None = None,
                      defaults: dict[str, Any] | None = None, other: tuple[str, dict[str, Any]] | None = None,
                      ) -> Callable[..., None]:
    """Add the ``train`` command of a task to ``app`` and return it.

    ``estimator`` (``"module:Class"``) is imported when the command runs, not before. ``files``
    maps each data-file option (``data``, ``src_file``, ... -> ``--data``, ``--src-file``) to its
    help; a file is given as the flag or as the same key in the ``--config`` YAML (the flag wins)
    and reaches the task as a string (or None). ``doc`` is the command's help. With ``--resume RUN``
    the command calls ``resume(Class, RUN, files from the flags, flags)``, else ``fit(Class, files,
    settings, out)`` with the YAML-and-flags settings as flat keywords (file keys removed);
    ``report`` prints the estimator either returns. Without them it calls
    ``Class(**settings).fit(**files, out=out)`` and ``Class.resume(RUN, **files)``, the files named
    as in ``keywords`` (file key -> the estimator's keyword, e.g. ``{"val": "val_data"}``).
    ``required`` = (file key, message, hint): the :class:`LstmkitError` raised when that file is
    given neither way. ``check(flags, settings)`` (optional) sees the settings given as flags and
    all of them (YAML and flags), flat, before anything is read: a flag that cannot act raises there.
    ``schedule(settings)`` (optional) is the learning-rate schedule a run of those settings uses when
    they name none (classify ``--series``: cosine); without it the config's trainer default. A
    ``--lr-factor`` or ``--lr-patience`` flag under the cosine schedule is refused (:func:`check_schedule_flags`).
    ``defaults``: the estimator's own defaults over the config's, which its help shows (a text
    classifier's); ``other`` = (a flag, the defaults it brings), shown beside them (``--series``)."""
    names = keywords or {}
    own_schedule = config_cls.__dataclass_fields__["train"].default_factory().lr_schedule

    def default_fit(cls, paths, settings, out):
        return cls(**settings).fit(**{names.get(k, k): v for k, v in paths.items()}, out=out)

    def default_resume(cls, run, paths, flags):
        return cls.resume(run, **{names.get(k, k): v for k, v in paths.items()}, **check_resume_flags(run, flags))

    fit = fit or default_fit
    resume_run = resume or default_resume   # the command's own keyword ``resume`` is the --resume folder

    def train(*, config, out, resume: Path | None, flags: dict, **given: Path | None) -> None:
        module, _, name = estimator.partition(":")
        cls = getattr(importlib.import_module(module), name)
        given_str = {k: None if v is None else str(v) for k, v in given.items()}
        if resume is not None:
            if config is not None:
                raise LstmkitError(f"--config does not apply with --resume: {resume} continues with the settings it "
                                   "recorded", "drop --config to resume, or start a new run without --resume")
            # the run's own --out is fine; a --resume that names no run gets resume's own error (not found, not a run)
            if (out != _DEFAULT_OUT and Path(out).resolve() != Path(resume).resolve().parent
                    and (Path(resume) / META_FILE).is_file()):
                raise LstmkitError(f"--out does not apply with --resume: {resume} is continued where it is, "
                                   f"not in {out}", "drop --out to resume, or start a new run without --resume")
            with reader_may_leave():
                report(resume_run(cls, resume, given_str, flags))
            return
        if config is not None:
            check_config_keys(config, config_cls, cls, files)
        params = resolve_params(config, flags)
        from_yaml = {k: params.pop(k, None) for k in files}
        paths = {k: given_str[k] if given_str[k] is not None else None if from_yaml[k] is None
                 else config_file_path(from_yaml[k], config, k) for k in files}
        if required is not None and paths[required[0]] is None:
            raise LstmkitError(required[1], required[2])
        settings = flatten_config(params)
        held_out = next((k for k in files if k.startswith("val") and paths[k] is not None), None)
        if held_out is not None and "val_frac" in flatten_config(flags):    # the file is the validation part
            raise LstmkitError(f"--val-frac applies without a validation file: {flag(held_out)} {paths[held_out]} "
                               "is the validation part", "drop --val-frac (or the validation file)")
        check_schedule_flags(flatten_config(flags), settings,
                             schedule(settings) if schedule is not None else own_schedule)
        with file_settings(config, flags, files):
            if check is not None:
                check(flatten_config(flags), settings)
            with reader_may_leave():
                report(fit(cls, paths, settings, out))

    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter(name, keyword, default=typer.Option(None, help=text), annotation=Optional[Path])
              for name, text in files.items()]
    params += [inspect.Parameter(name, keyword) for name in ("config", "out", "resume")]
    params.append(inspect.Parameter("flags", keyword, annotation=dict))
    train.__signature__ = inspect.Signature(params)       # the typer options: one per data file
    train.__annotations__ = {p.name: p.annotation for p in params if p.annotation is not inspect.Parameter.empty}
    train.__doc__ = doc
    command = config_options(config_cls, run_options=True, own=defaults, other=other)(train)
    app.command()(command)
    return command


class _ReaderMayLeave:
    """Standard output whose reader may leave (``train … | head -3``): the rest of the output goes
    to /dev/null and training goes on. A broken pipe stopped training at the next progress line,
    with exit 1, no word, and the run left unfinished (status ``training``)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._guarded(self._stream.write, text) or len(text)

    def flush(self) -> None:
        self._guarded(self._stream.flush)

    def _guarded(self, call, *args):
        try:
            return call(*args)
        except OSError as e:
            if not _reader_left(e):
                raise
            null = os.open(os.devnull, os.O_WRONLY)       # the interpreter's last flush writes there too
            os.dup2(null, self._stream.fileno())
            os.close(null)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


_WINDOWS = os.name == "nt"


def _reader_left(e: OSError) -> bool:
    """Whether a write failed because the pipe's reader left: a broken pipe; on Windows EINVAL, what
    a write to a pipe whose reader closed raises there (training ended with its traceback)."""
    return isinstance(e, BrokenPipeError) or (_WINDOWS and e.errno == errno.EINVAL)


@contextlib.contextmanager
def reader_may_leave():
    """Around a command whose work is its files (train, tune, compare, backtest, demo): a reader of
    its standard output or error that leaves (``| head -3``, ``2>&1 | head -3``) does not stop the
    work (:class:`_ReaderMayLeave`); standard error's: a warning after the reader left ended training
    with exit 1 and the run unfinished. Not around one whose work is its standard output (predict,
    transcribe): that one stops, as Unix tools do."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _ReaderMayLeave(out), _ReaderMayLeave(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def check_schedule_flags(flags: dict[str, Any], settings: dict[str, Any], default: str) -> None:
    """``--lr-factor`` and ``--lr-patience`` (given as flags, flat ``flags``) set ReduceLROnPlateau: under
    the cosine schedule (``settings``' ``lr_schedule``, else ``default``) they changed nothing, without a
    word, and the run recorded them (:func:`~lstmkit.config.check_plateau_given`). Only flags count here:
    a ``--config RUN`` holds every setting (the fit compares them with the defaults)."""
    check_plateau_given(flags, settings.get("lr_schedule", default), named="lr_schedule" in settings)


def check_config_keys(config: Path, config_cls: type, cls: Any, files: dict[str, str]) -> None:
    """A ``--config`` key that names no setting of the command (its config's and the trainer's
    fields, the estimator's parameters, a data file) is an error naming the file (the estimator's
    own refusal names only its class)."""
    raw, task = config_source(config)
    if task is not None and task != cls.TASK:
        raise LstmkitError(f"--config {config} is a {task} run: its settings are not {cls.TASK}'s",
                           f"pass a {cls.TASK} run or a YAML file of {cls.TASK} settings")
    keys = [k for k in raw if k != "train"] + (list(raw["train"]) if isinstance(raw.get("train"), dict) else [])
    fields = [f.name for c in (config_cls, TrainConfig) for f in dataclasses.fields(c) if f.name != "train"]
    known = list(dict.fromkeys([*fields, *cls.parameter_names(), *files]))
    for key in keys:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, 1)
            raise LstmkitError(f"{config}: unknown setting {key!r}",
                               f"did you mean {close[0]!r}?" if close else f"the settings: {', '.join(known)}")


def file_settings(config: Path | None, flags: dict[str, Any], files: Any = ()) -> Any:
    """The block in which a refusal of a setting the ``--config`` YAML file ``config`` gave (and no
    flag in ``flags`` overrode) names the file and key, not a flag never typed
    (:class:`~lstmkit.errors.settings_file`); a run folder's settings are named as flags (a flag is
    how one is changed), and so is every setting without a file. ``files``: the data-file keys."""
    if config is None:
        return contextlib.nullcontext()
    raw, task = config_source(config)
    if task is not None:
        return contextlib.nullcontext()
    given = flatten_config(flags)
    keys = [k for k in flatten_config(raw) if k not in given and k not in files]   # its train: block read already
    return settings_file(config, keys)


def check_resume_flags(run: Path, flags: dict[str, Any]) -> dict[str, Any]:
    """``train --resume RUN`` continues RUN with the settings its ``lstmkit.json`` recorded (the
    checkpoint is for that model): a flag that differs from them is an error (one equal to them
    is fine). A finished or missing run is left to the resume itself to refuse. Returns, as
    ``resume()`` keywords, the flags that name where something the run started from is now
    (``--init-from``: the run a fine-tuning started from moved; the resume checks that place holds
    the same start) and those of how the run shows and runs (``--progress``, ``--no-tensorboard``,
    ``--no-doctor``, ``--device``: ``ResumeChecks._RESUME_FREE``), which the resume applies: a
    resume in a log file or CI turns the progress bar off."""
    from lstmkit.run_resume import ResumeChecks
    given = flatten_config(flags)
    passed: dict[str, Any] = {key: str(given.pop(key)) for key in _NEW_PLACES if given.get(key) is not None}
    passed.update({key: given.pop(key) for key in sorted(ResumeChecks._RESUME_FREE) if key in given})
    if not given:
        return passed
    from lstmkit.runs import read_meta
    try:
        meta = read_meta(run)
    except LstmkitError:
        return passed
    if meta.get("status") == "finished":
        return passed
    saved = flatten_config(meta.get("config") or {})
    for key, value in given.items():
        if key not in saved or saved[key] != value:
            raise LstmkitError(f"{run} was trained with {key}={saved.get(key)!r}; --resume continues it with its "
                               f"recorded settings, so {flag(key)} {value!r} would be ignored",
                               f"drop {flag(key)} to resume, or start a new run without --resume")
    return passed


# settings that name a place, not a value: given with --resume, where that thing is now
_NEW_PLACES = ("init_from",)


def echo_run_end(est, lead: str = "", extra: str = "") -> None:
    """The last lines of every ``train`` report: epochs run, the best epoch, early stop, run folder."""
    r = est.result_
    why = (f" (the time budget, --max-minutes {est.config_.train.max_minutes:g}, ended training)"
           if getattr(r, "out_of_time", False) else " (early stop)" if r.stopped_early else "")
    typer.echo(f"{lead}epochs {r.epochs_run}, best epoch {r.best_epoch}{why}{extra}")
    typer.echo(f"run folder: {est.run_dir_}")
