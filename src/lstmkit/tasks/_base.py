"""What the task estimators share around their run folders.

Each estimator still owns what differs: its data, its network, the JSON state beside the weights
(``_write_state``) and the body of ``_write_meta``. This base holds the rest (the checks that
open ``resume()`` and ``fit(resume=True)`` are :class:`~lstmkit.run_resume.ResumeChecks`): the one training
path (``_train_and_save``: run folder, config check, training, interruption, save), the
not-fitted error, ``save()``, ``export()`` and ``stream()`` (through the room's deploy adapter),
the strict weight load and
metrics read that close ``load()`` and the ``training`` block of ``lstmkit.json``.
:func:`load_run`, :class:`RoomRegistry` and :class:`TuneHooks` (reaching rooms by name) live in
:mod:`lstmkit.tasks` and are re-exported here.
"""
from __future__ import annotations

import dataclasses
import difflib
import hashlib
import inspect
import os
import shutil
import time
import weakref
from abc import ABC, abstractmethod
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Self

from lstmkit.config import TaskConfig, TrainConfig, check_plateau_given, flatten_config, split_train_params
from lstmkit.deploy.step_stream import StepStream
from lstmkit.errors import (ColumnNotFound, EnvironmentProblem, LstmkitError, NotThisTask, opt, parameter_check,
                             os_reason, python_caller, set_in_file)
from lstmkit.estimator_params import EstimatorParams, estimator_signature, parameters_doc, params_dict, public_call
from lstmkit.files import atomic_write, now_stamp, path_exists, remove_left_temps
from lstmkit.random_state import held_random
from lstmkit.run_lock import PROCESS_KEY, check_not_training, this_process, training_lock
from lstmkit.run_reuse import RUN_ID_KEY, clear_files, clear_run, is_own_run, new_run_id, other_run_named, run_here
from lstmkit.runs import HASHES_KEY as WEIGHT_HASHES_KEY
from lstmkit.runs import (FORMAT_VERSION, META_FILE, WEIGHTS_FILE, build_checked, declared_weights, file_in_the_way,
                          finished_meta, load_weights, new_run_dir, read_meta, read_metrics,
                          read_weights, resume_call, save_tensors, tensor_bytes, weights_refused, write_json)
from lstmkit.tasks import RoomRegistry, TuneHooks, load_run
from lstmkit.run_engine import answering_net, note_loaded
from lstmkit.run_tie import engine_run, loose, tie
from lstmkit.run_resume import STARTED_KEY, ResumeChecks
# how a fit's run says it failed (what, where): run_status.py
from lstmkit.run_status import FAILURE_KEY, failure_fix, failure_record, say_resuming_failed
from lstmkit.data.sample_weight import check_same_weights
from lstmkit.data.same_data import (HASHES_KEY, LAYOUT_KEY, MEMORY_KEY, TABLES_KEY, check_changed_tables,
                                    check_same_classes, check_same_data, check_same_kind, check_same_memory,
                                    data_hashes, memory_hashes, memory_layouts, table_records)
from lstmkit.train import TrainingInterrupted
from lstmkit.version import __version__

__all__ = ["RunEstimator", "RoomRegistry", "TuneHooks", "load_run"]

_EXPORT_FORMATS = ("onnx", "int8")
# the tables beside metrics.json (a forecast's rows per series and per target, and the test forecasts they were
# scored from), written by every save that writes it
METRIC_TABLES = ("metrics_per_series.csv", "metrics_per_target.csv", "test_forecasts.csv")
# the tables metrics.json was scored from, which a save elsewhere carries over from the run the model was fitted
# into or loaded from: the forecast's and a translator's validation sentences (line, bleu, source, reference, translation)
BESIDE_METRICS = (*METRIC_TABLES, "val_translations.tsv")
# the test metrics' files and their plot, which a save of a model without test metrics (an updated one) removes
STALE_WITHOUT_METRICS = ("metrics.json", *METRIC_TABLES, "plots/forecast.png")
# what else a run says of its weights, which an updated model saved over its own run removes before it writes a file:
# the backtest, the recorded gates, the last checkpoint (a resume went on from it), the ONNX graph exported from them
# and the report of the update that made them (`forecast update`'s; lineage_ keeps every update's)
STALE_AFTER_UPDATE = (*STALE_WITHOUT_METRICS, "update.json", "gates.json", "plots/gates.png", "backtest/backtest.csv",
                      "backtest/backtest.json", "backtest/plots/backtest.png", "backtest/plots", "backtest",
                      "checkpoints/last.safetensors", "checkpoints/last.json", "checkpoints", "model.onnx", "onnx.json")
_FIRST_WEIGHT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # network -> its first weight (_check_float32)
_CLASSIFIERS = "a classifier's method (TextClassifier, SequenceClassifier, SpeechRecognizer(mode='classify'))"
# methods one task's estimator has and the others lack: whose each is (RunEstimator.__getattr__)
_OTHER_TASKS_METHODS = {"update": "a Forecaster's method (it fine-tunes a forecaster on new rows)",
                        "backtest": "a Forecaster's method (rolling-origin evaluation of a series)",
                        "predict_proba": _CLASSIFIERS, "predict_log_proba": _CLASSIFIERS,
                        "translate": "a Translator's method", "transcribe": "a SpeechRecognizer's method",
                        "sample": "a LanguageModel's method", "perplexity": "a LanguageModel's method",
                        "scorer": "a LanguageModel's method"}
CALL_KEY = "call_settings"   # lstmkit.json: settings fit chose from the data, with the call's values


class RunEstimator(ResumeChecks, EstimatorParams, ABC):
    """Base of the run-folder estimators; subclasses set ``TASK`` and ``CONFIG`` and implement
    ``_write_meta``.

    Hyper-parameters: ``Estimator(config=None, **overrides)``. ``config`` is the task's config
    object (``CONFIG``; :meth:`default_config` when omitted); ``overrides`` are any of its fields
    or of :class:`~lstmkit.config.TrainConfig`'s, flat (``lr=1e-3``) or as ``train={...}``. An
    unknown name is an error naming the estimator. Each subclass gets a signature and a
    ``Parameters`` section generated from its config, so ``help()`` and ``inspect.signature``
    list every parameter with its default; ``get_params``, ``set_params``, ``sklearn.base.clone``
    and ``repr`` follow scikit-learn (:class:`~lstmkit.estimator_params.EstimatorParams`). A task's
    estimator types its parameters for type checkers and IDEs with an ``__init__`` that passes them on,
    ``def __init__(self, config: ForecastConfig | None = None, **params: Unpack[ForecastParams])``
    (PEP 692; the TypedDict beside the config, whose annotations the signature shows too).
    """

    TASK: str = ""
    CONFIG: type | None = None              # the task's config dataclass, with a nested ``train``
    _ANSWERS: str = "predict(data)"        # what this estimator answers with: the fix of another task's method
    _NOT_PARAMETERS: frozenset[str] = frozenset()   # config fields the estimator sets itself

    def __init__(self, config: TaskConfig | None = None, **overrides: Any) -> None:
        with parameter_check():          # a bad setting's hint names the keyword, not the CLI's flag; a ValueError
            self.config = self._resolve_config(config, overrides)

    if TYPE_CHECKING:
        # every task's estimator has these, each with its own arguments and answer: declared for type checkers
        # only (never run), so that a RunEstimator is an lstmkit.Estimator (what lstmkit.load() returns) to them
        def fit(self, *args: Any, **kwargs: Any) -> Self: ...
        def predict(self, *args: Any, **kwargs: Any) -> Any: ...
        def evaluate(self, *args: Any, **kwargs: Any) -> dict[str, Any]: ...
        def score(self, *args: Any, **kwargs: Any) -> float: ...

    if not TYPE_CHECKING:       # hidden from type checkers: to them every attribute would be valid, typed Any
        def __getattr__(self, name: str) -> Any:
            """Another task's method (``update`` of a classifier, ``predict_proba`` of a translator): one
            :class:`~lstmkit.errors.NotThisTask` naming whose it is and what this estimator answers with
            (it was Python's bare ``AttributeError``); an ``AttributeError`` too, so ``hasattr`` stays False.
            Called only when the attribute is not found; any other name is the plain ``AttributeError``, and a
            property's (``classes_`` of an unfitted model) its own message, which Python would replace by this one's."""
            owner = _OTHER_TASKS_METHODS.get(name)
            if owner is None:
                if hasattr(type(self), name):   # a property that raised AttributeError (an unfitted classes_): its own
                    return object.__getattribute__(self, name)
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}", name=name, obj=self)
            cls = type(self).__name__
            if name == "update":
                fix = f"fit(new_data) trains a new {cls}; {cls}.resume(run) continues an unfinished run"
            else:
                fix = f"a {cls} answers with {self._ANSWERS}"
            raise NotThisTask(f"{cls} has no {name}(): it is {owner}", fix)

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        # a task's own __init__ only types its parameters (``**params: Unpack[<Task>Params]``, which the
        # signature's annotations come from); another one's parameters are its own
        if cls.CONFIG is not None and ("__init__" not in cls.__dict__ or params_dict(cls) is not None):
            cls.__signature__ = estimator_signature(cls)
            # cleaned first: the class's lines are indented, the section's are not, and help() would
            # show the description indented under its first line
            cls.__doc__ = inspect.cleandoc(cls.__doc__ or "") + "\n\n" + parameters_doc(cls)

    # -- hyper-parameters -----------------------------------------------------------------------
    @classmethod
    def default_config(cls):
        """The config this estimator starts from when none is given."""
        return cls.CONFIG()

    @classmethod
    def parameter_names(cls) -> list[str]:
        """Every keyword parameter: the config's fields, then the train config's."""
        own = [f.name for f in dataclasses.fields(cls.CONFIG) if f.name not in {"train", *cls._NOT_PARAMETERS}]
        return own + [f.name for f in dataclasses.fields(TrainConfig)]

    @classmethod
    def _resolve_config(cls, config, overrides: dict[str, Any]):
        """``config`` (or the defaults) with ``overrides`` applied; settings not overridden keep
        the config's values, so a task's own defaults never replace what the caller gave."""
        if config is None:
            config = cls.default_config()
        elif not isinstance(config, cls.CONFIG):
            name = cls.CONFIG.__name__
            raise LstmkitError(f"`config` of {cls.__name__} must be a {name}, got {type(config).__name__}",
                               f"pass {name}(...) or keyword arguments")
        known = cls.parameter_names()
        for name in overrides:
            if name not in known and name != "train":
                if name == "val" and "val_data" in inspect.signature(cls.fit).parameters:
                    # the command line's --val (and a LanguageModel's older val=): every fit names it val_data=
                    raise LstmkitError(f"{cls.__name__} has no parameter 'val'",
                                       "pass the validation data to fit() as val_data=")
                # scikit-learn's name for the seed: difflib finds nothing close to it, and the fix listed every name
                close = ["seed"] if name == "random_state" else difflib.get_close_matches(name, known, 1)
                where = set_in_file(name)      # a --config file's key (tune's): named there, as train names it
                raise LstmkitError(f"{where}: unknown setting {name!r}" if where else
                                   f"{cls.__name__} has no parameter {name!r}",
                                   f"did you mean {close[0]!r}?" if close else f"its parameters: {', '.join(known)}")
        task, train = split_train_params(overrides)
        base = config.to_dict()
        return cls._build_config({**base, **task, "train": {**base.pop("train"), **train}})

    @classmethod
    def _build_config(cls, params: dict[str, Any]):
        """The config object of nested ``params`` (a task may convert values first)."""
        return cls.CONFIG.from_dict(params)

    # -- construction from a run's lstmkit.json ------------------------------------------------
    @staticmethod
    def _params_from_config(config: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments that rebuild an estimator from a saved ``config`` block."""
        return flatten_config(config)

    @classmethod
    def _from_config(cls, config: dict[str, Any]) -> Self:
        return cls(**cls._params_from_config(config))

    @classmethod
    def _restored(cls, meta: dict[str, Any]) -> Self:
        """The start of ``load()``: an estimator with the run's config (less its ``progress``: the
        training session's display, ``off`` in a script, is not a later session's) and data summary."""
        est = cls._from_config(meta["config"])
        est.config.train.progress = TrainConfig.progress
        est.config_ = est.config
        est.data_summary_ = meta.get("data", {})
        est._training_record = meta.get("training")      # written again by a later save (an update, a copy)
        call = meta.get(CALL_KEY)
        if call:                         # settings fit chose from the data: the call's own, as the fitted model has them
            est.config = est._resolve_config(est.config, call)
            est._call_settings = dict(call)          # kept by a later save (an update, an export)
        return est

    def _chose_from_data(self, **call: Any) -> None:
        """Note settings that ``fit`` chose from the data (a sample rate, a budget's epochs), with the
        value the call had for each (``None``: left unset). ``lstmkit.json`` records them, and a loaded
        model's settings (``get_params``, ``clone``, a refit) go back to them, as a fitted model's are:
        a clone fitted on other data chooses again instead of reusing this data's choice."""
        self._call_settings = {**getattr(self, "_call_settings", {}), **call}

    @property
    def _progress(self) -> str:
        """How predict and evaluate show progress: the current setting (``set_params``), not the fitted one."""
        return self.config.train.progress

    @staticmethod
    @contextmanager
    def _frame_columns(data: Any, alone: str | None = None, labels: str | None = None):
        """Around predict's or evaluate's reading of ``data``: a DataFrame (only Python passes one)
        without a column the model reads is told to rename it, as predict and evaluate take no
        column names (the fix was the command line's 'pass --text with one of: …'); ``alone``
        (``"the texts"``) adds that the column may be passed by itself. ``labels``: the label column
        a scoring method reads when given no ``y``; a frame without it is told to pass ``y`` (a frame of
        the texts alone was told to rename its text column to the label's, ``df.rename(columns={'text':
        'label'})``), or to rename a column of a close name."""
        try:
            yield
        except ColumnNotFound as e:
            if e.name is None:
                raise
            columns = f" (its columns: {', '.join(e.columns) or 'none'})"
            if e.renames:        # a translator's table without either column (the fix named the source's alone)
                reads = " and ".join(repr(v) for v in e.renames.values())
                rename = f"df.rename(columns={e.renames!r})"
                if not python_caller():
                    raise                # the command line's --src, --tgt name this file's columns
                how = (f"the DataFrame's columns to them, e.g. {rename}" if hasattr(data, "iloc") else
                       f"the {'file' if isinstance(data, (str, os.PathLike)) else 'table'}'s columns to them, or pass "
                       f"the table as a DataFrame with them renamed, {rename}")
                raise LstmkitError(e.message, f"the model reads columns {reads} (as it was trained): rename {how}"
                                   + columns) from None
            if not (hasattr(data, "columns") and hasattr(data, "iloc")):
                if not python_caller():
                    raise                # the command line's --text, --label name this file's columns
                # a file (or a table other than a DataFrame: pyarrow's) from Python: the reader's 'pass text= with
                # one of: …' (a translator's 'pass src= and tgt=') named a keyword these methods lack
                whose = "file's" if isinstance(data, (str, os.PathLike)) else "table's"
                other = e.close or (e.columns[0] if len(e.columns) == 1 else "COLUMN")
                raise LstmkitError(e.message, f"the model reads column {e.name!r} (as it was trained): rename the "
                                   f"{whose} column to it, or pass the table as a DataFrame with it renamed, "
                                   f"df.rename(columns={{{other!r}: {e.name!r}}})" + columns) from None
            if labels is not None and e.name == labels:
                rename = f", or rename its {e.close!r} column to it, df.rename(columns={{{e.close!r}: {e.name!r}}})"
                raise LstmkitError(e.message, f"pass the labels as y{rename if e.close else ''}" + columns) from None
            other = e.close or (e.columns[0] if len(e.columns) == 1 else "COLUMN")
            rename = f"df.rename(columns={{{other!r}: {e.name!r}}})"
            raise LstmkitError(e.message, f"the model reads column {e.name!r} (as it was trained): rename the "
                               f"DataFrame's to it, e.g. {rename}" + (f", or pass {alone} alone, df[{other!r}]"
                                                                   if alone else "") + columns) from None

    # -- training ------------------------------------------------------------------------------
    @contextmanager
    def _reading_resumed(self, run_dir: str | Path | None, files: dict[str, Any], read_table: Callable[[Path], Any]):
        """Around a fit's reading of its data when it resumes ``run_dir`` (None: no resume): a read
        that fails on a table file changed since the run started (the column ``--text`` names was
        renamed: 'column not found — pass --text', a flag a resume does not take) is told what
        changed in it instead, as :meth:`_train_and_save` tells a table read
        (:func:`~lstmkit.data.same_data.check_changed_tables`; ``files``: ``{role: data given}``,
        ``read_table(path)``: the table as the fit reads it). Otherwise the read's own error.

        Before the read: a class-index CSV whose ``classes.txt`` names other classes than when the
        run started is refused, naming them (:func:`~lstmkit.data.same_data.check_same_classes`; its
        own SHA-256 is the same, and the resume trained under the classes renamed)."""
        if run_dir is not None:
            try:
                started = self._unfinished_meta(run_dir).get("data") or {}
            except LstmkitError:                     # not resumable: said where the resume checks it
                started = {}
            check_same_classes(started, files, Path(run_dir))
        try:
            yield
        except LstmkitError:
            if run_dir is not None:
                try:
                    started = self._unfinished_meta(run_dir).get("data") or {}
                except LstmkitError:                 # not resumable: the read's own error stands
                    started = {}
                check_changed_tables(started, files, read_table, Path(run_dir))
            raise

    def _train_and_save(self, train_config, train_batches, val_batches=None, *, loss_fn: Callable | None = None,
                        out: str | Path | None = None, run_dir: str | Path | None = None, resume: bool = False,
                        callbacks: Iterable = (), metrics: Callable[[], dict[str, Any]],
                        plots: Callable[[Path], None] | None = None,
                        evidence: Callable[[Any], dict[str, Any]] | None = None, data: dict[str, Any] | None = None,
                        tables: dict[str, Any] | None = None) -> Self:
        """Train ``self.net_`` the one way every task does, after its data and network are ready.

        1. check ``train_config`` (:meth:`Trainer.check_config`): a bad setting fails before any
           folder exists; under torchrun this joins the process group;
        2. with ``out``, create ``out/<task>-<stamp>`` on rank 0 and share its name with every
           rank (``run_dir`` names the folder exactly instead; ``resume`` continues it);
        3. on rank 0 write the task's state and ``lstmkit.json`` with status ``training``;
        4. train; Ctrl-C marks the run ``interrupted`` and re-raises
           :class:`~lstmkit.train.TrainingInterrupted` (the last checkpoint resumes it);
        5. ``self.metrics_ = metrics()`` on the trained network (moved to the CPU, eval mode);
        6. on rank 0 draw ``plots(run_dir)``, then save: ``finished`` in ``lstmkit.json`` means the
           folder is complete. Every rank waits for it before going on.

        ``evidence(net)`` (optional) is what the task measured on the trained network for the
        doctor to judge (:meth:`lstmkit.train.Trainer.fit`), e.g. a forecast against its naive baselines.
        ``data``: the fit's data arguments by name (``{"data": df, "val_data": None}``); those given in
        memory are fingerprinted into the data summary, and a resume given other data is refused.
        ``tables``: ``{role: DataFrame}``, the tables read for the data summary's file roles
        (``{"source": table}``), from a file or given in memory: a file's is recorded
        (:func:`~lstmkit.data.same_data.table_records`), and a resume on a changed file is told what
        changed in it (or resumes when the table read is the same), or on data of the other kind
        (memory for a file, or a file for memory) resumes only when it is the same.

        Sets ``run_dir_``, ``result_``, ``train_seconds_`` (every session's: a resumed run counts the
        epochs its checkpoint holds) and ``metrics_``; returns ``self``.
        """
        from lstmkit.train import Trainer, distributed      # torch: only once something trains
        if not resume:                                       # a run that began so goes on as it began
            self._check_own_loss(train_config)
            self._check_changed_act(getattr(self, "config_", None))
        device = Trainer.check_config(train_config, loss_fn)
        recorded = {}                                        # the resumed run's lstmkit.json
        self._started_version = None                         # set by a resume of a run another version began
        summary = getattr(self, "data_summary_", None)
        hashes = prints = None
        if not isinstance(summary, dict) or (run_dir is None and out is None):
            summary = None                                   # no run folder keeps it
        else:
            hashes, prints, tables = data_hashes(summary), memory_hashes(data or {}), tables or {}
        if resume:
            if summary is not None and run_dir is not None:
                # the data before the settings: a setting chosen from the data (a forecast's log) differs
                # when the data does, and 'was trained with log=True, not False' blamed the settings.
                # Every rank checks: one refusing alone would leave the others waiting
                started = self._unfinished_meta(run_dir).get("data") or {}
                check_same_weights(started, summary, Path(run_dir))    # before the data's, whose fingerprint holds them
                check_same_data(started, hashes, Path(run_dir), summary, tables)
                check_same_memory(started, data or {}, prints, Path(run_dir))
                check_same_kind(started, hashes, prints, data or {}, tables, summary, Path(run_dir))
            recorded = self._check_resumable(run_dir)
            # the resumed fit reads the settings the run chose as given: the run's call is the one recorded
            self._call_settings = {**getattr(self, "_call_settings", {}), **(recorded.get(CALL_KEY) or {})}
        elif run_dir is not None and run_here(run_dir) is not None:
            raise LstmkitError(f"{run_dir} holds a run already; training a new one there would mix the two runs' "
                               "files", "pass a new run_dir (or out=FOLDER: a new run folder inside it), or "
                               "resume=True to continue that run if it is unfinished")
        self.run_id_ = recorded.get(RUN_ID_KEY) or new_run_id()
        main = distributed.is_main()
        if run_dir is None and out is not None:
            run_dir = distributed.broadcast_str(str(new_run_dir(out, self.TASK)) if main else None, device)
        self.run_dir_ = Path(run_dir) if run_dir is not None else None
        loose(self, self.run_dir_)                           # its folder holds these weights once trained
        writes = self.run_dir_ is not None and main
        try:
            self._start_and_train(train_config, train_batches, val_batches, loss_fn, resume, callbacks, metrics,
                                  plots, evidence, writes, summary, (hashes, prints, tables, data))
        except Exception as e:
            # before its first lstmkit.json (the data's records, the lock, the task's state files): the folder was
            # left empty, which 'lstmkit list' passed over, and nothing said the run had failed, or why
            if writes and not resume and not (self.run_dir_ / META_FILE).is_file():
                self._mark_failed(e, None, writes)
            raise
        distributed.barrier()
        if self.run_dir_ is not None and (self.run_dir_ / WEIGHTS_FILE).is_file():
            tie(self, self.run_dir_)
        return self

    def _start_and_train(self, train_config, train_batches, val_batches, loss_fn, resume, callbacks, metrics, plots,
                         evidence, writes: bool, summary, recorded_data) -> None:
        """Steps 3 to 6 of :meth:`_train_and_save` once ``run_dir_`` is chosen: the data summary's records
        (``recorded_data``: its file hashes, memory fingerprints, tables read and data arguments), the run
        folder's lock, then :meth:`_train_locked`."""
        from lstmkit.train.resume import terminate_as_interrupt
        hashes, prints, tables, data = recorded_data
        if summary is not None:
            summary[HASHES_KEY], summary[MEMORY_KEY] = hashes, prints
            records = table_records({role: table for role, table in tables.items() if role in hashes})
            if records:
                summary[TABLES_KEY] = records
            layouts = memory_layouts(data or {})
            if layouts:
                summary[LAYOUT_KEY] = layouts
        lock = training_lock(self.run_dir_) if writes else None
        if writes and resume:            # held now: what a killed process's atomic writes left there is no one's
            remove_left_temps(self.run_dir_)
        try:
            with terminate_as_interrupt():       # SIGTERM while setting up, scoring or saving too, not only in the loop
                self._train_locked(train_config, train_batches, val_batches, loss_fn, resume, callbacks, metrics,
                                   plots, evidence, writes)
        finally:
            if lock is not None:
                os.close(lock)

    def _check_changed_act(self, cfg) -> None:
        """The settings of the fit's config ``cfg`` that the caller changed from the estimator's defaults
        (of its model's family: :meth:`_defaults_beside`) are refused where they change nothing beside the
        others, as the command line refuses their flags: ``lr_patience`` or ``lr_factor`` under the cosine
        schedule (:func:`~lstmkit.config.check_plateau_given`), and the task's own (:meth:`_check_given`: a
        Translator's ``input_feed=False`` beside Bahdanau attention). A setting at its default is never
        refused, and neither is a resumed run's (loading a run checks nothing)."""
        if cfg is None:
            return
        flat = flatten_config(cfg.to_dict())
        params = {name: flat[name] for name in self.parameter_names()}
        base = self._defaults_beside(params)[1]
        given = {k: v for k, v in params.items() if v != base[k]}
        check_plateau_given(given, cfg.train.lr_schedule, named="lr_schedule" in given)
        self._check_given(given, params)

    @classmethod
    def _check_given(cls, given: dict[str, Any], settings: dict[str, Any]) -> None:
        """The task's check of the settings a caller changed from the defaults (``given``, flat) against all
        of them: raises where one changes nothing beside the others (the check its ``train`` command runs on
        the flags given: a Translator's ``input_feed=False`` beside Bahdanau attention). None here."""

    def _check_own_loss(self, train_config) -> None:
        """A task that trains on its own loss (``CONFIG.OWN_LOSS``: a classifier's cross-entropy) refuses
        another ``loss`` than ``auto``: ``--loss mae`` trained on cross-entropy all the same, and the run
        recorded ``mae`` as its loss."""
        own = getattr(self.CONFIG, "OWN_LOSS", None)
        if own is not None and train_config.loss != "auto":
            raise LstmkitError(f"{opt('loss', train_config.loss)} does not apply to {self.TASK}: it trains on {own}",
                               f"drop {opt('loss')} (or pass {opt('loss', 'auto')}, that loss)")

    def _train_locked(self, train_config, train_batches, val_batches, loss_fn, resume, callbacks, metrics, plots,
                      evidence, writes: bool) -> None:
        """Steps 3 to 6 of :meth:`_train_and_save`, while this process holds the run folder."""
        from lstmkit.train import Trainer
        if writes:          # a resume too: a failure record of an earlier try no longer says what this run is doing
            if not resume:
                self._write_state(self.run_dir_)
            else:
                say_resuming_failed(self.run_dir_, read_meta(self.run_dir_))
            self._write_meta_with(status="training", **{PROCESS_KEY: this_process()})
        t0 = time.perf_counter()
        trainer = None
        try:
            trainer = Trainer(train_config, run_dir=self.run_dir_, callbacks=callbacks, loss_fn=loss_fn,
                              task_config=getattr(self, "config_", None) or self.config)
            self.result_ = trainer.fit(self.net_, train_batches, val_batches, resume=resume, evidence=evidence)
        except EnvironmentProblem as e:      # a checkpoint's says how to resume; history.csv's said 'run again'
            self._mark_failed(e, trainer, writes)
            raise self._stopped_by(e, writes, "") from None
        except (TrainingInterrupted, KeyboardInterrupt) as e:
            # the model trained so far, kept (a notebook's interrupted cell goes on with it), answers as a
            # fitted one does: it was left in training mode (dropout on; a seed ensemble's predict failed
            # with pandas' 'All arrays must be of the same length') and on the training device
            self.net_.to("cpu").eval()
            # its epochs, as history_ (the fit's result_ is never made: history_ said 'not fitted yet')
            self._history_so_far = list(trainer.history) if trainer is not None else []
            if writes:
                self._write_meta(self.run_dir_, status="interrupted")
            # no step taken (Ctrl-C in the trainer's set-up, or in the first step): the network is as it was
            # built, untrained; a refit of a loaded forecaster kept it, with the new scalers, and predict
            # answered from random weights. Nothing of this fit is kept then (_fit_or_unchanged)
            untrained = trainer is None or trainer.global_step == 0
            if isinstance(e, TrainingInterrupted):
                stop = TrainingInterrupted(e.run_dir, e.epoch, self._after_interrupt(e.best_epoch, untrained),
                                           best_epoch=e.best_epoch)
            else:
                # outside the loop: the trainer's set-up (TensorBoard, the restore) or its close (the doctor's
                # evidence): the epochs the checkpoint holds, which a resume that has not read it yet does not
                # know (it said 'during the first epoch')
                from lstmkit.train.checkpoint import checkpoint_epochs
                epochs = (checkpoint_epochs(self.run_dir_ / "checkpoints") if writes
                          else len(trainer.history) if trainer is not None else 0)
                stop = TrainingInterrupted(self.run_dir_, epochs, self._after_interrupt(untrained=untrained))
            stop.untrained = untrained
            raise stop from None
        except Exception as e:               # a bug in the model or a callback, a diverged loss, out of memory
            self._mark_failed(e, trainer, writes)
            raise
        # this session's time, and a resumed run's epochs trained before it (the checkpoint's history holds their times)
        earlier = sum(h.get("seconds", 0.0) for h in self.result_.history[:trainer.start_epoch])
        self.train_seconds_ = earlier + time.perf_counter() - t0
        self.net_.to("cpu").eval()
        try:                    # scoring (beam search, decoding) may take minutes; the checkpoint holds the weights
            self.metrics_ = metrics()
            if writes and plots is not None:
                plots(self.run_dir_)
            if writes:
                self.save(self.run_dir_)
        except KeyboardInterrupt:
            if writes:
                self._write_meta(self.run_dir_, status="interrupted")
            raise TrainingInterrupted(self.run_dir_, self.result_.epochs_run, self._after_interrupt()) from None
        except EnvironmentProblem as e:     # a full disk, a file size limit: every epoch is in the checkpoint
            self._mark_failed(e, trainer, writes, after=True)
            raise self._stopped_by(e, writes, " (its checkpoint holds every epoch)") from None
        except Exception as e:              # scoring or plotting failed: the checkpoint holds every epoch
            self._mark_failed(e, trainer, writes, after=True)
            raise

    def _write_meta_with(self, status: str, **fields: Any) -> None:
        """``_write_meta(run_dir_, status)`` with ``fields`` added to ``lstmkit.json`` (a failed run's
        ``failure``, a training run's ``process``)."""
        self._meta_fields = fields
        try:
            self._write_meta(self.run_dir_, status=status)
        finally:
            del self._meta_fields

    def _mark_failed(self, e: BaseException, trainer, writes: bool, after: bool = False) -> None:
        """Mark the run ``failed`` after ``e`` ended its fit (``after``: once every epoch was trained),
        with ``e``'s one-line message, the epoch it happened in and the epochs the checkpoint holds;
        it said ``training`` with no process training it. A write that fails too (the same full disk)
        leaves the run as it was: ``e`` is what the caller is told."""
        if not writes:
            return
        from lstmkit.train.checkpoint import checkpoint_epochs
        held = checkpoint_epochs(self.run_dir_ / "checkpoints")
        epoch = getattr(trainer, "epoch_now", None)
        stopper = getattr(trainer, "_parts", (None,) * 4)[3]
        if after:
            stage, epoch = "after training", held or None
        else:
            stage = "training" if epoch is not None else "setup"
        record = failure_record(e, epoch=epoch, stage=stage, checkpoint_epochs=held,
                                best_epoch=getattr(stopper, "best_epoch", None))
        try:
            self._write_meta_with(status="failed", **{FAILURE_KEY: record})
        except Exception:                    # the same full disk, or memory still short: e is the error to tell
            return
        if not isinstance(e, LstmkitError):  # its own hint says what to do; a traceback's last line says it here
            fix = failure_fix(self.run_dir_, {"status": "failed", FAILURE_KEY: record}, self._resume_call())
            e.add_note(f"{self.run_dir_} is marked failed: {fix}")

    def _after_interrupt(self, best_epoch: int | None = None, untrained: bool = False) -> str:
        """What a Python caller can do after Ctrl-C stopped a fit (the message said only 'training
        interrupted after epoch 3'; a notebook cell shows it as the last line of the traceback), and which
        model it holds: ``best_epoch``'s weights, given back by the trainer, else the model trained so far;
        ``untrained`` (no step taken): none of this fit's, the estimator is as it was before the fit."""
        kept = ("no training step was taken, so nothing of this fit is kept (the estimator is as it was before "
                "it)" if untrained else
                "the model trained so far is kept (predict answers with it)" if best_epoch is None else
                f"the model of its best epoch so far, epoch {best_epoch}, is kept (predict answers with it)")
        if self.run_dir_ is None:
            return f"{kept}; fit(..., out=FOLDER) keeps a checkpoint that a later resume continues from"
        return f"{kept}; {self._resume_call()} continues the run"

    def _stopped_by(self, e: EnvironmentProblem, writes: bool, note: str) -> EnvironmentProblem:
        """After ``e`` in training or saving (the run marked ``failed`` by :meth:`_mark_failed`, which a
        resume continues): ``e`` with a file's 'run the command again', which trains anew, made the
        run's ``--resume`` (``note`` added)."""
        if not writes:
            return e
        again = ", then run the command again"
        if not (e.hint or "").endswith(again):
            return e
        return EnvironmentProblem(e.message, f"{e.hint.removesuffix(again)}, then continue with: "
                                  f"{self._resume_call()}{note}", reason=e.reason)

    def _resume_call(self) -> str:
        """How to continue this estimator's run, in the caller's words (:func:`~lstmkit.runs.resume_call`)."""
        return resume_call(str(self.run_dir_), self.TASK, getattr(self, "kind", None))

    # -- fitted state --------------------------------------------------------------------------
    @property
    def history_(self):
        """Each epoch's ``train_loss``, ``val_loss``, ``lr``, ... as a pandas DataFrame, one row an epoch
        (``history.csv``'s columns): this session's fit, else the run folder's ``history.csv`` (a loaded model).
        An ``AttributeError`` before ``fit`` or for a run folder without one (``save()`` writes it)."""
        import pandas as pd
        from lstmkit.train.callbacks import HistoryCSV
        result = vars(self).get("result_")
        if result is not None:               # as history.csv holds it: its columns, in its order
            return pd.DataFrame(result.history).reindex(columns=HistoryCSV.COLUMNS)
        so_far = vars(self).get("_history_so_far")
        if so_far is not None:               # an interrupted fit's epochs
            return pd.DataFrame(so_far).reindex(columns=HistoryCSV.COLUMNS)
        # the loaded run's file, kept by name: an update() (the weights no longer the folder's) leaves run_dir_ unset
        loaded = vars(self).get("_loaded_from")
        if loaded is not None and (loaded / "history.csv").is_file():
            return pd.read_csv(loaded / "history.csv")
        where = "is not fitted yet" if loaded is None else f"was loaded from {loaded}, which holds no history.csv"
        raise AttributeError(f"this {type(self).__name__} {where}, so it has no history_")

    def __sklearn_is_fitted__(self) -> bool:
        """Whether ``fit`` or ``load`` gave this estimator a network: the test :meth:`_check_fitted`
        makes, so ``sklearn.utils.validation.check_is_fitted`` and ``predict`` answer alike (without
        it scikit-learn guesses from whether any attribute's name ends in ``_``)."""
        return hasattr(self, "net_")

    def _check_fitted(self) -> None:
        """Refuse a model before ``fit`` or ``load``: an LstmkitError that is also scikit-learn's
        ``NotFittedError`` (:mod:`lstmkit.not_fitted`, imported only here: it loads scikit-learn)."""
        if not self.__sklearn_is_fitted__():
            from lstmkit.not_fitted import NotFittedError
            name = type(self).__name__
            raise NotFittedError(f"this {name} is not fitted yet", f"call fit(...) or {name}.load(run)")
        self._check_float32()

    def _check_float32(self) -> None:
        """Refuse a network whose weights the caller moved to another dtype (``model.net_.double()``,
        ``.to(torch.float16)``): lstmkit feeds its models float32 and its run folders hold float32.
        ``predict`` failed with torch's 'LSTM: Expected input dtype torch.float64, got torch.float32',
        and ``save`` wrote a run that ``load`` refused as edited."""
        import torch                       # loaded already: the estimator holds a network
        net = vars(self).get("net_")
        if not isinstance(net, torch.nn.Module):
            return
        # .to(dtype) moves every weight, each Parameter kept with its data converted: the first tells. Every
        # predict pays this check, and net.parameters() walks the modules (40 us of a 0.5 ms predict): the
        # first weight is found once per network and kept beside it (not in the estimator: predict changes
        # nothing of it, as scikit-learn's checks ask)
        try:
            first = _FIRST_WEIGHT[net]
        except KeyError:
            first = _FIRST_WEIGHT[net] = next(net.parameters(), None)
        if first is None or first.dtype == torch.float32:
            return
        odd = sorted({str(p.dtype).removeprefix("torch.") for p in net.parameters()
                      if p.is_floating_point() and p.dtype != torch.float32})
        if odd:
            raise LstmkitError(f"this {type(self).__name__}'s network holds {' and '.join(odd)} weights (moved with "
                               f"net_.to(torch.{odd[0]})?); lstmkit runs and saves its models in float32",
                               "move it back with model.net_.float()")

    # -- deployment (lstmkit.deploy, through the room's adapter) ------------------------------
    def check_deployable(self, what: str) -> None:
        """Refuse ``what`` (export, stream, ...) when this model cannot be deployed; a task whose
        models are not all deployable overrides it. Every fitted model may by default."""

    def export(self, format: str = "onnx", out: str | Path | None = None, *, data=None) -> Path:
        """Export the saved run as ``format``: ``onnx`` (the graph beside the weights, or ``out``, with copies of the
        run's ``lstmkit.json`` and ``vocab.json`` beside it: ``onnx.json``'s ``run_files``) or ``int8``
        (a new run folder, default ``RUN-int8``, with its measurements; ``data`` for the test
        metrics, as ``evaluate`` reads it; a classifier's may be ``(X, y)``). The same as ``lstmkit
        export onnx|int8 --run RUN``; returns the path written (the graph file; the folder holding the
        graphs for a task with several, e.g. translate)."""
        with public_call():           # its refusals name data=, as export() takes it
            if format not in _EXPORT_FORMATS:
                raise LstmkitError(f"unknown export format {format!r}", f"use one of: {', '.join(_EXPORT_FORMATS)}")
            self._deploy_adapter("export")
            run = getattr(self, "run_dir_", None)
            if run is None:
                raise LstmkitError(f"this {type(self).__name__} is not saved yet (export reads its run folder)",
                                   f"save it first: model.save(folder), then model.export({format!r})")
            if format == "onnx":
                if data is not None:      # the ONNX check uses fresh random inputs, never data: say so
                    raise LstmkitError("data applies to export('int8') only (its test metrics)",
                                       "drop data for export('onnx'): the graph is checked on random inputs")
                from lstmkit.deploy.onnx import export_onnx
                return export_onnx(run, out)
            from lstmkit.deploy.quantize import export_int8
            return export_int8(run, out, data=data)

    def stream(self, mode: str = "auto", engine: str = "auto", max_streams: int | None = None) -> StepStream:
        """A stream over this model, one step per call: ``s.step(x, id)``, ``reset``,
        ``state_dict``/``load_state_dict``, ``save``/``restore`` where the task has them.

        A numeric model gives a :class:`lstmkit.deploy.Stream`: a forecaster's step answers the
        forecast ``[horizon, targets]``, a numeric classifier's (left to right) the probabilities;
        ``mode``: ``state`` (carry (h, c): the whole history), ``window`` (the last lookback steps,
        exact for relative forecasters) or ``auto``. A task with its own kind of step (a language
        model: a token; a speech model: an audio chunk) gives its own stream object, whose ``step``
        answers a dict. ``engine``: ``torch``, ``onnx`` or ``auto`` (as in ``predict``). ``max_streams``
        bounds the stream ids open at once (a new id past it is refused; None: no bound).
        """
        from lstmkit.deploy.streaming import stream_for
        with public_call():           # a refusal's fix names predict(...), not the service's POST /predict
            adapter = self._deploy_adapter("stream")
            run = getattr(self, "run_dir_", None) if engine == "torch" else self._answering_run()
            return stream_for(adapter, mode, engine, run, max_streams)

    def _answering_run(self) -> Path | None:
        """The run folder whose exported engine may answer for this model (None: torch answers): ``run_dir_``
        while its weights file and this model's network are the weights they were when tied (``run_tie.py``)."""
        return engine_run(self)

    def _answering_net(self):
        """The network this model's own methods answer with (a classifier's ``predict_proba``, a translator's
        ``translate``, a language model's scores and samples, a speech model's transcripts): ``net_``, or the
        graph(s) of the int8 run it was loaded from where that run's export chose ONNX Runtime (``quantization.engine``
        onnx), as ``serve`` answers. The weights file beside such graphs holds the int8 torch network measured with
        them, or the float weights: another model than the one the run's report stands for, which answered here
        whatever the export had chosen. Kept per network and run folder, and checked on every call, in the cache
        every room shares (:func:`lstmkit.run_engine.answering_net`): a folder saved over since or a network trained
        in place by hand answers with torch, as it says."""
        return answering_net(self, self._answering_graph)

    def _answering_graph(self, run: Path):
        """The room's network over ``run``'s graph(s), with ``net_``'s calls (its deploy adapter's
        ``answering_graph``)."""
        from lstmkit.deploy.registry import adapter_class       # the engines, loaded once a graph answers
        return adapter_class(self.TASK)(self).answering_graph(run)

    def _deploy_adapter(self, what: str):
        """The room's deploy adapter around this model (the registry refuses a task without one)."""
        from lstmkit.deploy.registry import adapter_class
        self._check_fitted()
        cls = adapter_class(self.TASK)
        self.check_deployable(what)
        return cls(self)

    # -- persistence ---------------------------------------------------------------------------
    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write ``model.safetensors``, the task's JSON state, ``metrics.json`` and ``lstmkit.json`` into
        the folder ``path`` (created when missing); returns it.

        A folder holding this model's own run is saved over; one holding another run is refused (its
        history, plots, checkpoints and exports would stay beside these weights) unless ``overwrite``,
        which deletes that run's files first (:func:`lstmkit.run_reuse.clear_run`: only lstmkit's).
        """
        self._check_fitted()
        if not isinstance(path, (str, os.PathLike)) or not str(path).strip():   # Path("") is the working folder
            shown = repr(path) if isinstance(path, str) else type(path).__name__
            raise LstmkitError(f"save() needs a folder's path, got {shown}",
                               "pass a folder, e.g. model.save('runs/my-model') (it is created when missing)")
        path = Path(path)
        blocker = file_in_the_way(path)
        if blocker is not None:
            raise LstmkitError(f"cannot save to {path}: {blocker} is a file, not a folder",
                               "pass save() a folder (it is created when missing)")
        here = run_here(path)
        if here is not None and not is_own_run(here, self.TASK, getattr(self, "run_id_", None),
                                               getattr(self, "run_dir_", None), path):
            if not overwrite:
                raise LstmkitError(f"cannot save to {path}: it holds {other_run_named(here)}, whose history, plots, "
                                   "checkpoints and exports would stay beside this model's weights",
                                   "pass save() a new folder, or overwrite=True to delete that run's files first")
            check_not_training(path, "overwriting it")
            clear_run(path)
        if here is not None and self._updated_since(here):
            # this model's own run, saved after an update: what its folder says of the weights before it goes
            # first, so that an interruption leaves those weights with less said of them, never these with it
            clear_files(path, STALE_AFTER_UPDATE)
        elif not getattr(self, "metrics_", None):
            clear_files(path, STALE_WITHOUT_METRICS)    # they loaded as this model's metrics_
        made = next((p for p in reversed([path, *path.parents]) if not path_exists(p)), None)   # the first folder made
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise EnvironmentProblem(f"cannot save to {path}: the folder could not be made ({os_reason(e)}); nothing "
                                     "was written", "pass save() a folder you can write to") from None
        try:
            save_tensors(path / WEIGHTS_FILE, self.net_.state_dict(), metadata=self._weights_metadata())
            self._write_state(path)
            self._write_training_files(path)
            if getattr(self, "metrics_", None):
                write_json(path / "metrics.json", self.metrics_)
                self._write_metric_tables(path)
            self._write_meta(path, status="finished")
        except BaseException:
            # a full disk, a file size limit, Ctrl-C: the folders this save made go again (they held weights and no
            # lstmkit.json, a run that did not load; a save to it again is then no other run's folder either)
            if made is not None:
                shutil.rmtree(made, ignore_errors=True)
            raise
        if getattr(self, "run_dir_", None) is None:     # a model fitted in memory now has a run folder: export's,
            self.run_dir_ = path                         # as the error before saving promises
        if self.run_dir_ == path:                        # its folder holds these weights (saved over its own run)
            tie(self, path)
        return path

    def _weights_metadata(self) -> dict[str, str]:
        return {"format": "pt", "task": self.TASK}

    def _updated_since(self, meta: dict[str, Any]) -> bool:
        """Whether this model was updated (``lineage_``) to weights other than those of the run ``meta``
        recorded: a save over that run leaves nothing of the weights before beside these."""
        if not any(isinstance(u, dict) and u.get("accepted") for u in vars(self).get("lineage_") or ()):
            return False
        recorded = (meta.get(WEIGHT_HASHES_KEY) or {}).get(WEIGHTS_FILE)
        data = tensor_bytes(self.net_.state_dict(), metadata=self._weights_metadata())
        return recorded != hashlib.sha256(data).hexdigest()

    def _write_state(self, run_dir: Path) -> None:
        """JSON files beside the weights (vocabularies, scalers); none by default."""

    def _write_training_files(self, path: Path) -> None:
        """``history.csv`` and ``doctor.json`` beside the weights, so that the model loaded from ``path``
        has the ``history_`` this one has and ``lstmkit doctor`` reads its report: this session's fit's,
        else the loaded run's files (copied when saved elsewhere). Without them a model fitted in memory,
        or loaded and saved to another folder, lost its epochs, and its folder said it was trained with
        the doctor off."""
        from lstmkit.train.callbacks import HistoryCSV
        from lstmkit.train.doctor import DOCTOR_FILE
        result = vars(self).get("result_")
        if result is not None:
            HistoryCSV(path / "history.csv").write(result.history)
            if result.doctor is not None:
                write_json(path / DOCTOR_FILE, result.doctor)
            return
        so_far = vars(self).get("_history_so_far")
        if so_far is not None:               # an interrupted fit's model: the epochs it was trained for
            HistoryCSV(path / "history.csv").write(so_far)
            return
        loaded = vars(self).get("_loaded_from")
        for name in ("history.csv", DOCTOR_FILE) if loaded is not None else ():
            if (loaded / name).is_file() and (loaded / name).resolve() != (path / name).resolve():
                atomic_write(path / name, partial(shutil.copyfile, loaded / name))

    def _write_metric_tables(self, path: Path) -> None:
        """The tables beside ``metrics.json``: a forecaster's (:data:`METRIC_TABLES`) from this session's
        fit (``_metric_tables``, ``{file name: DataFrame}``); else those of :data:`BESIDE_METRICS` in the
        run this model was fitted into or loaded from, copied when saved elsewhere. A model saved to
        another folder kept its ``metrics.json`` and lost them: its means, or its BLEU, then the only
        trace of the rows they were taken over."""
        kept = vars(self).get("_metric_tables")
        if kept is not None:
            for name in METRIC_TABLES:
                if kept.get(name) is not None:
                    atomic_write(path / name, partial(self._write_table, name, kept[name]))
                else:                                        # a table an earlier fit into this folder wrote
                    (path / name).unlink(missing_ok=True)
            return
        source = vars(self).get("_loaded_from") if vars(self).get("result_") is None else self.run_dir_
        for name in BESIDE_METRICS if source is not None else ():
            if (source / name).is_file() and (source / name).resolve() != (path / name).resolve():
                atomic_write(path / name, partial(shutil.copyfile, source / name))

    def _write_table(self, name: str, table, tmp) -> None:
        """Write the table ``name`` of :data:`METRIC_TABLES` (a DataFrame) to the temporary file ``tmp``."""
        table.to_csv(tmp, index=False)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Load the finished run folder ``path``: weights from safetensors, the task's state from JSON (nothing
        is unpickled). A missing or malformed entry is one error naming the folder. The network is
        float32 on the CPU whatever torch's default dtype and device, and its tensors are no inference
        tensors inside a ``torch.inference_mode()`` block: the model loaded there can be updated after it."""
        return cls._load_read(path, None)

    @classmethod
    def _load_read(cls, path: str | Path, meta: dict[str, Any] | None) -> Self:
        """:meth:`load` of a run whose :func:`~lstmkit.runs.finished_meta` the caller has read already (None:
        read here): ``translate run --data`` reads the run's encoding before its input, and read the run's
        ``lstmkit.json`` (and hashed its vocabularies) a second time to load it."""
        import torch
        # the float32 CPU network that was saved, under a float64 or meta default too; it draws nothing from
        # the random generators (a fit in another thread may be drawing from them: runs.build_checked);
        # under inference mode its weights were inference tensors, and update() failed on them ('Inference
        # tensors cannot be saved for backward')
        with public_call(), held_random(wait=False), torch.inference_mode(False):
            meta = finished_meta(path, cls.TASK) if meta is None else meta
            declared = declared_weights(path)          # the weights' names, shapes and dtypes, none of them read
            path = Path(path)
            cls._check_run(meta, path)
            quantized = bool((meta.get("quantization") or {}).get("torch"))     # an int8 run's stored integers
            try:
                try:
                    est = cls._restored(meta)
                except LstmkitError as e:       # its fix named a train flag ('pass --lookback 1 or more') to predict
                    raise LstmkitError(f"{path / META_FILE} holds a config that does not load: {e.message} (the "
                                       "file was edited or damaged)", "restore the run folder or retrain the model"
                                       ) from None
                est._load_state(path, meta)
                est.net_ = build_checked(est._build_net, declared, path, exact=not quantized)   # checked before allocating
            except (KeyError, TypeError, ValueError, OSError) as e:
                raise LstmkitError(f"{path} has a missing or malformed {META_FILE} or state file ({e})",
                                   "the run folder was edited or damaged; retrain the model") from None
            weights = read_weights(path, meta)
            est._attach_weights(path, weights, quantized)
            note_loaded(est, path, meta)           # an int8 run's recorded engine: what _answering_net answers with
            est.run_id_ = meta.get(RUN_ID_KEY)
            recorded = (meta.get(WEIGHT_HASHES_KEY) or {}).get(WEIGHTS_FILE)
            tie(est, path, recorded[:16] if isinstance(recorded, str) else None)
            return est

    @classmethod
    def _check_run(cls, meta: dict[str, Any], path: Path) -> None:
        """Refuse a run this class cannot load before reading it (e.g. another kind); none by default."""

    def _load_state(self, run_dir: Path, meta: dict[str, Any]) -> None:
        """Restore what ``_write_state`` wrote and the fitted attributes in ``meta``; none by default."""

    @abstractmethod
    def _write_meta(self, run_dir: Path, status: str) -> None:
        """Write ``lstmkit.json`` (the task's config, preprocessing, model shape, data summary)."""

    def _attach_weights(self, path: Path, weights, quantized: bool = False) -> None:
        """The end of ``load()``: the strict weight load (an int8 run from ``lstmkit export int8``
        rebuilds its quantized net from the stored integers), the run folder and its ``metrics.json``."""
        if not quantized:
            load_weights(self.net_, weights, path)
        else:
            from lstmkit.deploy.quantize import load_quantized       # the engines layer, below this one
            try:
                self.net_ = load_quantized(self.net_, weights).eval()
            except (RuntimeError, KeyError) as e:
                raise weights_refused(path, e) from None
        self.run_dir_ = Path(path)
        self._loaded_from = Path(path)        # its history.csv and doctor.json: history_, and a later save's
        metrics = read_metrics(path)
        if metrics is not None:
            self.metrics_ = metrics

    def _write_run_meta(self, run_dir: Path, status: str, *, model: dict[str, Any], **fields: Any) -> None:
        """Write ``lstmkit.json``: what every run records (format, lstmkit version, task, status,
        time written, config), the task's ``fields``, ``model`` with the network's parameter
        count, the data summary and, once trained, the ``training`` block."""
        if getattr(self, "run_id_", None) is None:         # loaded from a run written before runs had one
            self.run_id_ = new_run_id()
        meta = {"format_version": FORMAT_VERSION, "lstmkit_version": __version__, "task": self.TASK,
                RUN_ID_KEY: self.run_id_, "status": status, "written": now_stamp(),
                "config": self._config_record(), **fields,
                "model": {**model, "parameters": sum(p.numel() for p in self.net_.parameters())},
                "data": self.data_summary_}
        training = self._training_meta()
        if training is not None:
            meta["training"] = training
        if getattr(self, "_call_settings", None):
            meta[CALL_KEY] = self._call_settings
        if getattr(self, "_started_version", None):         # resumed by this version, begun by another
            meta[STARTED_KEY] = self._started_version
        meta.update(getattr(self, "_meta_fields", {}))     # a failed run's failure, a training run's process
        write_json(run_dir / META_FILE, meta)

    def _config_record(self) -> dict[str, Any]:
        """The ``config`` block of ``lstmkit.json``: the config's settings (a task leaves out those its run
        does not read: a numeric-series classifier's text settings). A run loads its config from the block,
        the settings left out at their defaults."""
        return self.config_.to_dict()

    def _training_meta(self) -> dict[str, Any] | None:
        """The ``training`` block of ``lstmkit.json`` (None before training)."""
        result = getattr(self, "result_", None)
        if result is None:                  # a loaded model's: the run it was loaded from trained it
            return vars(self).get("_training_record")
        return {"epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
                "best_val_loss": result.best_val_loss, "monitored": getattr(result, "monitored", "val_loss"),
                "stopped_early": result.stopped_early,
                "out_of_time": getattr(result, "out_of_time", False),
                "seconds": float(sum(h.get("seconds", 0.0) for h in result.history)),
                "device": getattr(result, "device", None), "threads": getattr(result, "threads", None)}
