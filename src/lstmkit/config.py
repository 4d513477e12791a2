"""Typed configuration: the trainer's settings, the checks every config uses, YAML helpers.

Each task keeps its own dataclass in ``tasks/<task>/config.py`` (``ForecastConfig``,
``ClassifyConfig``, ...), built on :class:`TaskConfig` with a nested :class:`TrainConfig` under
``train``. YAML (``--config cfg.yaml``) and CLI flags only fill these objects (the flags are
generated from the fields by :mod:`lstmkit.cli_config`); the resolved object is what a run folder
records in ``lstmkit.json``. Every field carries its help as a trailing comment, and a config
checks its values in ``__post_init__``: a wrong type, range or choice is one
:class:`~lstmkit.errors.LstmkitError` naming the key and the fix.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, TypedDict

import yaml

from lstmkit.errors import LstmkitError, flag, missing_path_fix, opt, set_in_file, worded
from lstmkit.runs import META_FILE, check_written_by

__all__ = ["TrainConfig", "TrainParams", "EncoderParams", "TaskConfig", "train_field", "Encoder", "Pooling", "Attention", "load_yaml", "config_source", "merge",
           "split_train_params", "train_block", "flatten_config", "known_keys", "require_positive_int", "check_types",
           "check_positive", "check_non_negative", "check_range", "check_seed", "field_types", "flag", "MAX_SEED",
           "python_values", "check_plateau_given", "PLATEAU_ONLY", "lower_lr", "Headline", "HEADLINE_FUNCTION"]

# Choice sets shared by several tasks; tests keep them equal to the registries that implement them
# (lstmkit.nn.zoo.ENCODERS, the pooling and attention modules).
Encoder = Literal["lstm", "gru", "bilstm", "bigru", "lstm-attention", "cnn-lstm", "lstm-fcn", "transformer", "tcn"]
Pooling = Literal["last", "max", "mean", "max-mean", "concat", "attention"]
Attention = Literal["bahdanau", "dot", "general", "none"]


def lower_lr(lr: float | None) -> str:
    """How to lower the learning rate from the run's ``lr`` after its training diverged, in the
    caller's words: to a tenth of it, as the doctor's exploding-gradients remedy and a diverged run's
    resume refusal say (0.003 -> 0.0003). A fixed 'e.g. --lr 1e-4' told a run at 1e-5 to raise it, and
    '(--lr)' did not say from what; None (not recorded): the option alone."""
    if lr is None or not math.isfinite(lr) or lr <= 0:
        return f"lower the learning rate ({opt('lr')})"
    lower = f"{lr / 10:g}"
    return f"lower the learning rate from {lr:g} to {lower} ({opt('lr', lower, written=True)})"


@dataclass
class TrainConfig:
    """Settings of the task-agnostic trainer (:mod:`lstmkit.train`)."""

    max_epochs: int = 100           # upper bound on epochs; early stopping usually ends sooner
    max_minutes: float | None = None  # time budget: no epoch starts that would end past it
    batch_size: int = 32            # examples per mini-batch
    lr: float = 1e-3                # Adam learning rate
    weight_decay: float = 0.0       # Adam weight decay (L2 penalty)
    loss: Literal["mse", "mae", "huber", "auto"] = "mse"   # mse | mae | huber: the loss of a forecaster's point
                                    # forecasts (quantiles and likelihoods train on their own); auto: the task's
                                    # own loss, mse for a forecaster, the only choice of classify, translate, lm
                                    # and speech
    clip_norm: float | None = 1.0   # max global gradient norm; none disables clipping
    lr_schedule: Literal["plateau", "cosine"] = "plateau"  # plateau (ReduceLROnPlateau on the val loss) |
                                    # cosine (anneal to 0 over max_epochs: the last epochs average out the step noise;
                                    # the default of classify --series)
    lr_factor: float = 0.5          # factor that ReduceLROnPlateau multiplies the learning rate by
    lr_patience: int = 10           # epochs without val improvement that ReduceLROnPlateau lets pass: it lowers the
                                    # rate at the next one (so only below patience - 1 does a lowered rate train)
    patience: int = 7               # early stopping patience in epochs; the best weights are restored
    min_delta: float = 0.0          # an improvement of this much or less does not reset patience, nor the plateau
                                    # schedule's (the lowest loss's weights are still the ones kept)
    seed: int = 42                  # same seed, same data, same machine -> same metrics
    device: str = "auto"            # auto (CUDA when present) | cpu | cuda | cuda:N
    progress: Literal["auto", "bar", "log", "off"] = "auto"  # auto (bar on a terminal, log lines otherwise) |
                                    # bar | log | off
    tensorboard: bool = True        # write tb/ events into the run folder
    precision: Literal["fp32", "bf16"] = "fp32"  # fp32 | bf16 (autocast mixed precision, CPU and GPU; on a
                                    # CPU often slower than fp32: a warning says so, timed at the first batch)
    nan_retries: int = 3            # non-finite loss/gradient: skip, restore, halve lr; stop after this many
    checkpoint_every: int = 200     # steps between mid-epoch checkpoints (0: epoch ends only)
    doctor: bool = True             # training diagnostics -> doctor.json and a summary at the end

    def __post_init__(self) -> None:
        if isinstance(self.progress, bool):       # progress=False as scikit-learn's verbose=False reads
            self.progress = "auto" if self.progress else "off"
        check_positive(self, "max_epochs", "batch_size", "patience")     # the early stopper needs 1 or more
        check_non_negative(self, "lr_patience", "nan_retries", "checkpoint_every")
        budget = self.max_minutes
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float))
                                   or not math.isfinite(budget) or budget <= 0):
            raise LstmkitError(f"`max_minutes` must be a number > 0, got {budget!r}",
                               f"pass {opt('max_minutes', 30)}, say (minutes), or leave it out")
        check_types(self)
        check_seed(self.seed)
        check_range(self, "lr", 0, math.inf, "1e-3", low_open=True)
        check_range(self, "weight_decay", 0, math.inf, "1e-4")
        check_range(self, "lr_factor", 0, 1, "0.5", low_open=True, high_open=True)
        check_range(self, "min_delta", 0, math.inf, "0")
        if self.clip_norm is not None:
            check_range(self, "clip_norm", 0, math.inf, "1.0 (or none)", low_open=True)


class TrainParams(TypedDict, total=False):
    """The trainer's keyword parameters of every estimator (``Forecaster(lr=1e-3, max_epochs=50)``), each
    with what it takes, for type checkers and IDEs: a task's ``<Task>Params`` adds its own, and its
    estimator's ``__init__`` takes them as ``**params: Unpack[<Task>Params]`` (PEP 692), so a misspelt
    name is a type checker's error too. The defaults are :class:`TrainConfig`'s (and the task's
    ``train_field``); ``inspect.signature`` shows both (:func:`lstmkit.estimator_params.estimator_signature`).
    ``tests/tasks/test_params.py`` keeps the keys equal to the fields."""

    max_epochs: int
    max_minutes: float | None
    batch_size: int
    lr: float
    weight_decay: float
    loss: Literal["mse", "mae", "huber", "auto"]
    clip_norm: float | None
    lr_schedule: Literal["plateau", "cosine"]
    lr_factor: float
    lr_patience: int
    patience: int
    min_delta: float
    seed: int
    device: str
    progress: Literal["auto", "bar", "log", "off"] | bool
    tensorboard: bool
    precision: Literal["fp32", "bf16"]
    nan_retries: int
    checkpoint_every: int
    doctor: bool
    train: dict[str, Any] | TrainConfig | None      # the settings above as one block (flat ones win: split_train_params)


class EncoderParams(TypedDict, total=False):
    """The recurrent text encoder's keyword parameters that :class:`~lstmkit.tasks.lm.config.LMParams`
    and :class:`~lstmkit.tasks.translate.config.TranslateParams` share (each config has these fields)."""

    embed_dim: int
    model: Encoder
    hidden_size: int
    num_layers: int
    dropout: float


def train_field(**defaults: Any) -> Any:
    """The ``train`` field of a task config, with the task's own trainer defaults:
    ``train: TrainConfig = train_field(max_epochs=10, loss="auto")``."""
    return dataclasses.field(default_factory=functools.partial(TrainConfig, **defaults))


# the function each room's config.py defines, ``headline_metric(metrics, config) -> Headline | None``: the
# task's headline metric read from a run's metrics.json (``config``: its lstmkit.json's config), one place per task
HEADLINE_FUNCTION = "headline_metric"


@dataclass(frozen=True)
class Headline:
    """A run's headline metric, as its room's ``headline_metric`` reads it from ``metrics.json``: the
    number ``lstmkit list`` shows in its metric column (and sorts by) and the service's ``/models`` names."""

    name: str                   # as the run's own report names it: MASE, accuracy, BLEU, WER, perplexity
    value: float | None         # None: undefined for this run (a forecast's MASE of a series repeating itself)
    spec: str                   # the report's rounding, a format spec: ".4f"
    part: str                   # the metrics.json record it was read from: test, val, val_beam, train
    higher_is_better: bool
    # the split said in the text too: a task whose runs score one metric on different splits (a classifier's
    # accuracy of its test file, else of its validation part), whose numbers are not to be compared as alike
    split_shown: bool = False
    # an int8 run's number: its engine's score in export_report.json, where that is the float run's metric of the
    # same data (lstmkit.run_metric), said beside it
    int8: bool = False

    @property
    def split(self) -> str:
        """The split the number scored: ``test``, ``validation`` (``val``, ``val_beam``) or ``train``."""
        return {"val": "validation", "val_beam": "validation"}.get(self.part, self.part)

    @property
    def text(self) -> str:
        """``MASE 0.8123`` as the run's report rounds it; ``MASE n/a`` where it is undefined; ``accuracy 1.0000
        (train)`` scored on the data it trained on (nothing held out), which flatters it; ``accuracy 0.8750
        (test)`` and ``accuracy 0.9000 (val)`` where the task's runs score on either (:attr:`split_shown`);
        ``MASE 0.3107 (int8)``, ``accuracy 0.8700 (test, int8)`` of an int8 run's engine."""
        shown = f"{self.name} " + ("n/a" if self.value is None else format(self.value, self.spec))
        said = [*([("val" if self.split == "validation" else self.split)] if self.part == "train" or self.split_shown
                  else []), *(["int8"] if self.int8 else [])]
        return shown + f" ({', '.join(said)})" if said else shown

    def to_dict(self) -> dict[str, Any]:
        """As ``lstmkit list --json`` and ``/models`` give it: ``shown`` is :attr:`text`, ``split`` :attr:`split`."""
        return {"name": self.name, "value": self.value, "part": self.part, "split": self.split,
                "higher_is_better": self.higher_is_better, "shown": self.text, "int8": self.int8}

    @classmethod
    def read(cls, record: Any, key: str, name: str, spec: str, part: str, higher_is_better: bool, *,
             split_shown: bool = False) -> Headline | None:
        """``record[key]`` of a metrics.json record as the headline; None where ``record`` is no mapping or
        has no number under ``key`` (a file of another kind: text, true, an int past a float's range). A null
        (NaN as JSON writes it) is undefined."""
        if not isinstance(record, dict) or key not in record:
            return None
        value = record[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return None
        try:
            value = None if value is None or not math.isfinite(value) else float(value)
        except OverflowError:           # an int no float holds (1 and 400 zeros): no number of a run's report
            return None
        return cls(name, value, spec, part, higher_is_better, split_shown)


class TaskConfig:
    """What every task's config dataclass shares: ``to_dict`` and ``from_dict`` with a nested
    ``train`` block (the task's own trainer defaults, from the field's default factory); unknown
    keys are an error listing the known ones."""

    train: TrainConfig
    # the option that shortens the sequences the network reads (the doctor's remedy for vanishing
    # gradients names it); None: the task has none
    LENGTH_OPTION: ClassVar[str | None] = None
    # the loss the task trains on whatever ``train.loss`` says (its own: cross-entropy, CTC), in words;
    # None: the task trains on ``train.loss``. A fit given another loss than ``auto`` is refused
    OWN_LOSS: ClassVar[str | None] = None

    def loss_label(self) -> str:
        """The loss this config trains on as an axis names it, with its unit: the run's ``loss.png``
        and a study's ``history.png`` (``validation ...``) read it here, one place per task."""
        return "loss"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        """The config of nested ``d``; numpy's numbers in it (``np.int64`` from ``np.arange``, a
        grid search's values) read as Python's, which the checks and JSON take."""
        d = python_values(d)
        base = cls.__dataclass_fields__["train"].default_factory()
        train = dataclasses.replace(base, **known_keys(TrainConfig, d.pop("train", {}) or {}, "train"))
        return cls(train=train, **known_keys(cls, d, ""))


def python_values(d: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``d`` (and of a nested ``train`` mapping) with each of numpy's scalars, alone or
    in a list, as the Python int, float or bool it holds."""
    def plain(v: Any) -> Any:
        if type(v).__module__ == "numpy" and getattr(v, "ndim", None) == 0:
            return v.item()
        return [plain(x) for x in v] if isinstance(v, (list, tuple)) else v
    return {k: python_values(v) if k == "train" and isinstance(v, dict) else plain(v) for k, v in d.items()}


def known_keys(cls, d: dict[str, Any], section: str) -> dict[str, Any]:
    """``d`` unchanged when every key is a field of ``cls`` (``train`` aside); else a clear error."""
    names = {f.name for f in fields(cls)} - {"train"}
    unknown = sorted(set(d) - names)
    if unknown:
        where = f" in section '{section}'" if section else ""
        raise LstmkitError(
            f"unknown config key{'s' if len(unknown) > 1 else ''}{where}: {', '.join(unknown)}",
            f"known keys: {', '.join(sorted(names))}",
        )
    return d


# -- checks used in __post_init__ ----------------------------------------------------------------
@functools.cache
def field_types(cls) -> dict[str, Any]:
    """The resolved annotations of a config dataclass (its module's names, e.g. Literal aliases)."""
    return typing.get_type_hints(cls)


def check_types(cfg, skip: tuple[str, ...] = ()) -> None:
    """Every field's value against its annotation (int, float, str, bool, Literal, list, Optional),
    except the ``skip`` fields, which a task checks elsewhere with messages of their own.

    Comma-separated text for a list field becomes the list, so ``target="a,b"`` works."""
    hints = field_types(type(cfg))
    for f in fields(cfg):
        if f.name in skip:
            continue
        if f.name == "train":
            if not isinstance(cfg.train, TrainConfig):
                raise LstmkitError(f"`train` must be a TrainConfig, got {type(cfg.train).__name__}",
                                   "pass the trainer settings as a 'train:' mapping or as keywords")
            continue
        value = getattr(cfg, f.name)
        listed = _list_type(hints[f.name])
        if listed is not None and isinstance(value, str):          # comma text: quantiles="0.1,0.9", target="a,b"
            value = [_text_item(s.strip(), listed) for s in value.split(",") if s.strip()]
            setattr(cfg, f.name, value)
        elif isinstance(value, tuple) or (listed is not None and _one_d_array(value)):
            value = value.tolist() if _one_d_array(value) else list(value)     # df.columns[1:], np.array([0.1, 0.9])
            setattr(cfg, f.name, value)
        _check_value(f.name, value, hints[f.name])


def _list_type(tp: Any) -> Any:
    """The item type of a ``list[X]`` or ``list[X] | None`` field, else None."""
    if type(None) in typing.get_args(tp):
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    return typing.get_args(tp)[0] if typing.get_origin(tp) is list else None


def _text_item(text: str, tp: Any) -> Any:
    """One item of a comma list given as text, as the number a ``list[float]`` / ``list[int]`` field
    holds when it reads as one (else the text, which the type check then names)."""
    try:
        return float(text) if tp is float else int(text) if tp is int else text
    except ValueError:
        return text


def _one_d_array(value: Any) -> bool:
    """Whether ``value`` is a 1-D numpy array or pandas Index / Series (read as the list it holds)."""
    return hasattr(value, "tolist") and getattr(value, "ndim", None) == 1 and not isinstance(value, (str, bytes))


def _shown(value: Any) -> str:
    """``repr(value)`` cut to one short line: an array or Series given where a name goes printed whole."""
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else f"{text[:57]}..."


_IS = {bool: lambda v: isinstance(v, bool),
       int: lambda v: isinstance(v, int) and not isinstance(v, bool),
       float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
       str: lambda v: isinstance(v, str)}
_LIST_EXAMPLE = {float: [0.1, 0.5, 0.9], int: [1, 2, 3]}     # a list field's example in a hint, by its item type


def _check_value(name: str, value: Any, tp: Any) -> None:
    args = typing.get_args(tp)
    if type(None) in args:
        if value is None:
            return
        tp = next(a for a in args if a is not type(None))
        args = typing.get_args(tp)
    origin = typing.get_origin(tp)
    if origin is Literal:
        if value not in args:
            where = set_in_file(name)
            raise LstmkitError(f"unknown {name} {value!r}" + (f" ('{name}:' in {where})" if where else ""),
                               f"use one of: {', '.join(map(str, args))}")
        return
    if origin is list:
        if not isinstance(value, list):
            # one item given alone (quantiles=0.9) is shown as the list of it: the hint was ['a', 'b', 'c'],
            # text for a list of numbers
            example = [value] if args[0] in _IS and _IS[args[0]](value) else _LIST_EXAMPLE.get(args[0], ["a", "b", "c"])
            raise LstmkitError(f"`{name}` must be a list, got {_shown(value)}", f"pass {opt(name, example)}")
        for item in value:
            _check_value(name, item, args[0])
        return
    ok = _IS[tp](value)
    if not ok:
        what = {bool: "true or false", int: "an integer", float: "a number", str: "text"}[tp]
        raise LstmkitError(f"`{name}` must be {what}, got {_shown(value)}",
                           f"check {opt(name)}" if set_in_file(name) else
                           worded(f"check {flag(name)} (or '{name}:' in the config file)", f"check {opt(name)}"))


# Upper bounds of fields whose size alone builds a model no one trains: 100,000 recurrent layers
# would take minutes and gigabytes just to construct before a run folder's weights could refuse it.
UPPER_BOUNDS = {"num_layers": 64}


def check_positive(cfg, *names: str) -> None:
    """Each named field an int >= 1 (None allowed where the field is optional), and at most its
    :data:`UPPER_BOUNDS` entry where it has one."""
    for name in names:
        value = getattr(cfg, name)
        if value is not None or type(None) not in typing.get_args(field_types(type(cfg))[name]):
            require_positive_int(name, value)
            top = UPPER_BOUNDS.get(name)
            if top is not None and value > top:
                raise LstmkitError(f"`{name}` must be at most {top}, got {value}", f"pass {opt(name, top)} or fewer")


def check_non_negative(cfg, *names: str) -> None:
    """Each named field an int >= 0."""
    for name in names:
        v = getattr(cfg, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise LstmkitError(f"`{name}` must be a whole number >= 0, got {v!r}", f"pass {opt(name, 0)} or more")


def check_range(cfg, name: str, low: float, high: float, example: str, *, low_open: bool = False,
                high_open: bool = False) -> None:
    """A number within [low, high] (either end open on request), with an example in the hint (the
    value, then any words about it: ``"0.1 (or 0 to hold nothing out)"``)."""
    v = getattr(cfg, name)
    ok = (not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)
          and (v > low if low_open else v >= low) and (v < high if high_open else v <= high))
    if not ok:
        if high == math.inf:
            what = "positive" if low_open and low == 0 else f">= {low:g}" if not low_open else f"> {low:g}"
        else:
            what = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        value, _, words = example.partition(" ")
        raise LstmkitError(f"`{name}` must be {what}, got {v!r}",
                           f"pass {opt(name, value, written=True)}{' ' * bool(words)}{words}, say")


MAX_SEED = 2**32 - 1        # numpy's and torch's generators both take 0 .. 2**32 - 1 everywhere


def check_seed(seed: Any, name: str = "seed", most: int = MAX_SEED) -> None:
    """A random seed: a whole number in 0 .. ``most``, 2**32 - 1 unless said (numpy refuses negatives;
    torch overflows on very large numbers)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= most:
        raise LstmkitError(f"`{name}` must be a whole number from 0 to {most}, got {seed!r}",
                           f"pass {opt(name, 42)}, say")


def require_positive_int(name: str, value: Any) -> None:
    """A clear error unless ``value`` is an int >= 1 (bools are not counts); the hint names the
    setting ``name`` in the caller's words (:func:`~lstmkit.errors.opt`)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise LstmkitError(f"`{name}` must be a positive integer, got {value!r}", f"pass {opt(name, 1)} or more")


# -- keyword parameters and YAML -----------------------------------------------------------------
PLATEAU_ONLY = ("lr_factor", "lr_patience")      # ReduceLROnPlateau's own settings


def check_plateau_given(given: dict[str, Any], schedule: str, named: bool) -> None:
    """``lr_factor`` and ``lr_patience`` set ReduceLROnPlateau: among ``given`` (the settings a user
    gave: the command line's flags, or in Python those at other than the estimator's defaults) under the
    cosine ``schedule`` they changed nothing, without a word, and the run recorded them. ``named``: the
    schedule was given (else it is the run's default), as the message says."""
    name = next((name for name in PLATEAU_ONLY if name in given), None)
    if name is not None and schedule == "cosine":
        which = (opt("lr_schedule", "cosine") if named
                 else worded("the cosine schedule (this run's default)", "the cosine schedule (this estimator's default)"))
        shown = worded(flag(name), opt(name, given[name]))
        raise LstmkitError(f"{shown} applies to {opt('lr_schedule', 'plateau')}, not to {which}, which anneals "
                           f"the learning rate over {worded('--epochs', 'max_epochs')}",
                           f"drop {shown}, or pass {opt('lr_schedule', 'plateau')}")


def split_train_params(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Flat estimator keyword parameters -> ``(task params, train params)``.

    :class:`TrainConfig`'s keys go to the train part, merged over a nested ``train`` (flat keys
    win; see :func:`train_block`), so ``Forecaster(lr=1e-3)``, ``Forecaster(train={"lr": 1e-3})``
    and ``Forecaster(train=TrainConfig(lr=1e-3))`` agree.
    """
    params = dict(params)
    keys = {f.name for f in fields(TrainConfig)}
    train = {k: params.pop(k) for k in list(params) if k in keys}
    if "train" in params:
        train = {**train_block(params.pop("train")), **train}
    return params, train


def train_block(value: Any) -> dict[str, Any]:
    """A nested ``train`` setting as a dict: a dict of trainer keys, a :class:`TrainConfig` (all
    of its fields) or None (nothing); anything else is an error (it would be ignored)."""
    if value is None:
        return {}
    if isinstance(value, TrainConfig):
        return dataclasses.asdict(value)
    if not isinstance(value, dict):
        raise LstmkitError(f"`train` must be a mapping of trainer settings or a TrainConfig, got "
                           f"{type(value).__name__} {value!r}"[:200],
                           "pass train={'lr': 1e-3} (YAML: a 'train:' block of keys), or the settings flat (lr=1e-3)")
    return value


def flatten_config(config: dict[str, Any]) -> dict[str, Any]:
    """A config's ``to_dict()`` as flat keyword parameters (the inverse of :func:`split_train_params`)."""
    config = dict(config)
    return {**(config.pop("train", None) or {}), **config}


def load_yaml(path: str | Path, option: str = "--config", what: str = "config file") -> dict[str, Any]:
    """Read a YAML config file into a plain dict (validated later by ``from_dict``); ``option`` and
    ``what`` name it in the errors (``tune --space``'s search space said "check the --config path").
    A ``--config`` that is a run folder, or a run's ``lstmkit.json``, gives the settings that run
    recorded (its ``config``: :func:`config_source`)."""
    return config_source(path, option, what)[0]


def config_source(path: str | Path, option: str = "--config", what: str = "config file"
                  ) -> tuple[dict[str, Any], str | None]:
    """``(settings, task)`` of a ``--config``: a YAML file's mapping and None, or, for a run folder
    or its ``lstmkit.json`` (JSON is YAML), the ``config`` the run recorded, automatic choices
    fixed, and the run's task: ``train --config RUN`` trains as RUN did (on ``--data``, flags win)."""
    p = Path(path)
    if option == "--config" and p.is_dir() and (p / META_FILE).is_file():
        p = p / META_FILE
    if p.is_dir():              # it said 'config file not found: .' of a folder that is there
        run = " nor a run folder (it holds no lstmkit.json)" if option == "--config" else ""
        raise LstmkitError(f"{option} {p} is a folder, not a {what}{run}",
                           f"pass the YAML file inside it{', or a run folder' if run else ''}")
    if not p.is_file():
        raise LstmkitError(f"{what} not found: {p}", missing_path_fix(p, f"check the {option} path"))
    data = read_settings(p, what) or {}
    if not isinstance(data, dict):
        raise LstmkitError(f"{what} {p} must hold a mapping of keys to values, not {_kind(data)}",
                           {".toml": "write it as 'key = value' lines", ".json": 'write it as {"key": value, ...}'}.get(
                               p.suffix.lower(), "write it as 'key: value' lines"))
    if option == "--config" and {"format_version", "task", "config"} <= data.keys() and isinstance(
            data["config"], dict):
        check_written_by(data, p)              # a newer lstmkit's settings: 'unknown setting' named no version
        config = dict(data["config"])
        start = start_record(data).get("run")
        if isinstance(config.get("init_from"), str) and isinstance(start, str) and (Path(start) / META_FILE).is_file():
            # init_from as typed is relative to the folder that run was trained in: from another one it was
            # 'run folder not found: lmruns/lm-… — pass the folder printed by train', of a path never typed
            config["init_from"] = start
        return config, str(data["task"])
    return data, None


class _GivenTwice(Exception):
    """A key given twice in one mapping of a settings file: which, and where."""


class _SettingsLoader(yaml.SafeLoader):
    """PyYAML's safe loader as a settings file needs it: numbers in exponent form without a dot
    (``lr: 1e-3``, ``weight_decay: 1e-05`` as JSON writes it) are numbers, as YAML 1.2 and JSON read
    them (YAML 1.1 reads them as text: 'must be a number, got '1e-3''), and a key given twice in one
    mapping is an error (PyYAML kept the last without a word); a merge key's (``<<: *base``) keys are
    the mapping's defaults, which its own keys override."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = self.construct_object(key_node)
                if key in seen:
                    raise _GivenTwice(f"{key!r} twice (lines {seen[key] + 1} and {key_node.start_mark.line + 1}), "
                                      "of which YAML reads the last without a word")
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


_SettingsLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def read_settings(path: Path, what: str = "config file") -> Any:
    """What the settings file ``path`` holds, by its suffix: TOML (``.toml``), JSON (``.json``; a run's
    ``lstmkit.json`` too, whose ``1e-05`` YAML 1.1 read as text), else YAML (:class:`_SettingsLoader`).
    A file that does not parse is one error naming its line and column."""
    suffix = path.suffix.lower()
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise LstmkitError(f"{what} {path} is not UTF-8 text (byte {e.start + 1})",
                           "save it as UTF-8 (a settings file is text)") from None
    if suffix == ".toml":
        import tomllib
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise LstmkitError(f"{what} {path} is not valid TOML: {e}", "fix the syntax") from None
    if suffix == ".json":
        try:
            return json.loads(text, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as e:
            raise LstmkitError(f"{what} {path} is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})",
                               "fix the syntax") from None
        except _GivenTwice as e:
            raise LstmkitError(f"{what} {path} gives {e}", "keep one of them") from None
    try:
        return yaml.load(text, Loader=_SettingsLoader)
    except _GivenTwice as e:
        raise LstmkitError(f"{what} {path} gives {e}", "keep one of them") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        fix = ("use spaces, not tabs, to indent and after a colon: YAML takes no tabs there"
               if "\\t" in (e.problem or "") else "fix the syntax; see README for an example")
        raise LstmkitError(f"{what} {path} is not valid YAML: {e.problem}{where}", fix) from None
    except yaml.YAMLError as e:
        raise LstmkitError(f"{what} {path} is not valid YAML ({e.__class__.__name__})",
                           "fix the syntax; see README for an example") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict; a key given twice raises (``json`` keeps the last)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _GivenTwice(f"{key!r} twice in one object, of which JSON readers keep the last")
        out[key] = value
    return out


def _kind(value: Any) -> str:
    """What a settings file held instead of a mapping, in words: 'a list', 'the text 'hello''."""
    if isinstance(value, list):
        return "a list"
    return f"the text {str(value)[:40]!r}" if isinstance(value, str) else f"the value {str(value)[:40]}"


def start_record(meta: dict[str, Any]) -> dict[str, Any]:
    """What a fine-tuned run recorded about the run it started from (its absolute place, ``run``, and
    weights fingerprint): under ``data`` (lm) or ``preprocessing`` (classify); ``{}`` when none."""
    return next((section["init_from"] for section in (meta.get("data"), meta.get("preprocessing"))
                 if isinstance(section, dict) and isinstance(section.get("init_from"), dict)), {})


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict merge where ``override`` wins; None values in override are ignored."""
    out = dict(base)
    for k, v in override.items():
        if v is None:
            continue
        if isinstance(v, dict):
            out[k] = merge(out.get(k) if isinstance(out.get(k), dict) else {}, v)
        else:
            out[k] = v
    return out
