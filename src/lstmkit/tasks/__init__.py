"""The task rooms (``tasks/<task>/``), and how code outside a room reaches them by the task's name
without importing one.

:func:`load_run` opens another task's run (speech fusing an ``lm`` run); :class:`RoomRegistry`
lists what each room's ``tasks/<task>/<module>.py`` supplies (``compare.TASKS``, ``tune.TASKS``);
:class:`TuneHooks` is what a room's ``bench.py`` hands to ``tune``, made from its estimator.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from lstmkit.errors import LstmkitError, worded
from lstmkit.runs import read_meta

__all__ = ["load_run", "RoomRegistry", "TuneHooks", "no_study_data"]


def no_study_data(file: str = "FILE") -> LstmkitError:
    """The error for a study given no data: ``--data`` to ``lstmkit tune``, the ``'data'`` key of
    :func:`lstmkit.tune.tune`'s ``base`` from Python (it read '--data', a flag tune() has not)."""
    return LstmkitError("no data given", worded(f"pass --data {file} (or 'data:' in the --config file)",
                                                f"pass base={{'data': {file!r}, ...}}"))


def load_run(run: str | Path, task: str):
    """The fitted estimator of a finished ``task`` run, through the room's ``load`` found by name.

    A task that needs another task's run (speech fusing an ``lm`` run) loads it here, so that no
    task imports another. A run of another task is an error naming both."""
    read_meta(run, task)
    try:
        room = importlib.import_module(f"lstmkit.tasks.{task}")
    except ModuleNotFoundError:
        raise LstmkitError(f"this lstmkit has no {task!r} task", "upgrade lstmkit, or do without that run") from None
    return room.load(run)


class RoomRegistry(Mapping):
    """Task name -> what each room's ``tasks/<task>/<module>.py`` supplies, found by name.

    The rooms are listed from the files on disk (nothing is imported until a task is looked
    up), so ``compare`` and ``tune`` know every task without importing one. ``build(module)``
    turns a room's module into the entry; ``register(name, entry)`` adds one from outside.
    """

    def __init__(self, module: str, build: Callable[[Any], Any]):
        self.module, self.build = module, build
        self.extra: dict[str, Any] = {}
        self._found: list[str] | None = None

    def _rooms(self) -> list[str]:
        if self._found is None:            # the rooms on disk do not change while we run: scan once
            self._found = sorted(p.parent.name for p in Path(__file__).parent.glob(f"*/{self.module}.py"))
        return self._found

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._rooms(), *self.extra]))

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __contains__(self, name: object) -> bool:
        return name in self.extra or name in self._rooms()

    def __getitem__(self, name: str) -> Any:
        if name in self.extra:
            return self.extra[name]
        if name not in self._rooms():
            raise KeyError(name)
        return self.build(importlib.import_module(f"lstmkit.tasks.{name}.{self.module}"))

    def register(self, name: str, entry: Any) -> None:
        self.extra[name] = entry


class TuneHooks:
    """A room's ``tune_keys``, ``tune_check``, ``tune_settings`` and ``tune_trial`` (see
    :mod:`lstmkit.tune`), made from its estimator.

    A trial's flat ``params`` hold the data under ``data`` and the keyword arguments of ``fit``
    named in ``files`` (e.g. ``val_data``); the rest are the estimator's parameters. ``data_keys``
    name the files that may stand in for ``data`` (translate's ``src_file``). ``choose``
    (optional) picks the estimator class from ``params`` and removes what it reads.
    """

    def __init__(self, estimator: type, files: tuple[str, ...] = (), check_files: tuple[str, ...] = (),
                 choose: Callable[[dict[str, Any]], type] | None = None, extra_keys: tuple[str, ...] = (),
                 data_keys: tuple[str, ...] = ()):
        self.estimator, self.files, self.check_files = estimator, files, check_files
        self.choose, self.extra_keys, self.data_keys = choose, extra_keys, data_keys

    def keys(self) -> set[str]:
        """The settings a search space may name."""
        return set(self.estimator.parameter_names()) | set(self.extra_keys)

    def _split(self, params: dict[str, Any]):
        params = dict(params)
        data = params.pop("data", None)
        files = {k: str(v) for k, v in ((k, params.pop(k, None)) for k in self.files) if v is not None}
        if data is None and all(files.get(k) is None for k in self.data_keys):
            raise no_study_data()
        cls = self.choose(params) if self.choose is not None else self.estimator
        return cls(**params), None if data is None else str(data), files

    def settings(self, params: dict[str, Any]) -> None:
        """Check the settings in ``params`` as the estimator does (its config's checks), without
        reading any data: a search-space value no trial could use fails before the study opens."""
        params = {k: v for k, v in params.items() if k != "data" and k not in self.files}
        cls = self.choose(params) if self.choose is not None else self.estimator
        cls(**params)

    def loss_label(self, params: dict[str, Any]) -> str:
        """The validation loss the trials of ``params`` report, as the task's config names it
        (:meth:`~lstmkit.config.TaskConfig.loss_label`): a study's history axis."""
        params = {k: v for k, v in params.items() if k != "data" and k not in self.files}
        cls = self.choose(params) if self.choose is not None else self.estimator
        return cls(**params).config.loss_label()

    def check(self, params: dict[str, Any]) -> None:
        """Fail before the first trial on settings or data no trial could use."""
        est, data, files = self._split(params)
        self._check_held_out(est, files)
        est.check(data, **{k: v for k, v in files.items() if k in self.check_files})

    def _check_held_out(self, est, files: dict[str, Any]) -> None:
        """Refuse a study whose trials hold nothing out (``val_frac`` 0, a sequence classifier's default, and
        no validation file): each trial's number was then its lowest training loss, printed as its
        ``val_loss``, and the largest, most overfitted setting won the search."""
        vals = [k for k in self.files if k.startswith("val")]
        if any(files.get(k) is not None for k in vals):
            return
        cfg = est.config
        size = getattr(cfg, "val_size", None)
        if (size if size is not None else getattr(cfg, "val_frac", None)) != 0:
            return
        key, value, why = (("val_size", "N", ", the points each series holds out,") if size is not None
                           else ("val_frac", "0.2", ""))
        fix = worded(f"set {key}: {value}{why} in the --config file", f"set base[{key!r}] = {value}{why}")
        file = f", or name a validation file ({worded(f'{vals[0]}: FILE', f'base[{vals[0]!r}]')})" if vals else ""
        raise LstmkitError(f"{worded(f'{key}: 0', f'{key}=0')} holds nothing out, so each trial would be ranked by "
                           "its training loss (the largest, most overfitted setting wins)", f"{fix}{file}")

    def trial(self, params: dict[str, Any], callback) -> float:
        """Train with ``params``; the best validation loss (``callback`` sees every epoch)."""
        est, data, files = self._split(params)
        return est.fit(data, callbacks=[callback], **files).result_.best_val_loss
