"""The adapter protocol: what a task room hands the deploy engines.

The engines (ONNX export, int8, streaming, the HTTP service, online updates) never import a
task. Each run names its task in ``lstmkit.json``; :mod:`lstmkit.deploy.registry` imports
``lstmkit/tasks/<task>/deploy.py`` by that name and takes its ``Adapter`` class, which must
follow :class:`DeployAdapter` below. A task without a ``deploy.py`` is refused in one line that
lists the tasks that have one.

What each engine uses:

========================  =====================================================================
ONNX (``onnx.py``)        ``task``, ``stateful()``, ``state_names``, ``state_shape``,
                          ``example_inputs()``, ``window``
int8 (``quantize.py``)    ``net``, ``example_inputs()``, ``test_metrics()``
streaming                 ``stateful()``, ``state_names``, ``state_shape``, ``state_refusal()``,
(``streaming.py``)        ``fast_step()``, ``encode_row()``, ``decode()``, ``input_size``,
                          ``window``, ``preferred_engine``
HTTP (``server.py``)      ``metadata()``, ``columns``, the task's own request: ``answer(net,
                          **request)`` with ``request_models()`` (every task), or a raw upload
                          (``answer_bytes``); ``/stream``: all of streaming, or ``streams = False``
optional hooks            ``extra_inputs(x, seed)`` (graph inputs after ``x``, e.g. ``lengths``),
                          ``quality_refusal(fp32_metrics, int8_metrics)`` (why an int8 model may
                          not become the engine; ``(None, None)``: the run has nothing to score),
                          ``quality_data_fix()`` (then what to pass, in the task's words: a
                          forecaster's series, a translator's pairs), ``streams`` (False: no ``/stream``),
                          ``run_files`` (state files an int8 run copies, e.g. ``vocab.json``),
                          ``int8_data_fix`` (what ``export int8 --data`` takes where the task's
                          reader named an option it lacks; default: the run's columns),
                          ``stream_graph()`` (a stateful torch graph for streaming when the
                          exported one carries no state), ``stream_key`` (the answer's name in
                          ``/stream`` messages, default ``forecast``), ``stream_extra(mode)``
                          (a ``streaming.StreamExtra``: the task's work around the network per
                          stream), ``stream_json(answer)`` (a step's ``/stream`` message fields),
                          ``slow_steps`` (True: the service runs stream steps off its event loop),
                          ``far_outside_notes(rows)`` (a step's warnings from the scaled rows
                          it read: the service's ``/stream`` ``warnings``, the stream's UserWarning),
                          ``stream_mark()`` (a plain stream's ``streaming.StreamMark``: what it
                          remembers of the values so far beside the state, e.g. a forecaster's
                          "ever nonzero"), ``stream_step_refusal(steps)`` (an LstmkitError
                          when a stream that has taken ``steps`` steps may take no more, else
                          None: a classifier's ``max_len``), ``around_graph`` (what lstmkit applies around the
                          exported graph, listed in ``onnx.json`` and ``export_report.json``)
several graphs            ``export_graphs(folder, fingerprint, tolerance)`` (writes the task's
(translate, seq2seq       graphs, returns ``onnx.json``), ``onnx_files``, ``onnx_net(run)`` (the
speech)                   module answering under ONNX), ``onnx_files_of(meta)`` (classmethod: the
                          files of a run whose graphs depend on its settings), optionally
                          ``graphs_alone`` (``export_graphs`` without the checks that drive
                          the graphs together: the float graphs int8 quantizes); for int8,
                          ``infer(net, x)`` (one inference call, default ``net(x)``),
                          ``speed_unit``, ``speed_batch``
update (``online.py``)    ``net``, ``train_config``, ``update_data()``, ``check_updatable()``,
                          ``updated()``
========================  =====================================================================

Task-owned hooks (optional): ``open_stream(engine, run, max_streams=None)`` (a stream whose messages are not one
numeric row, e.g. lm tokens or speech audio chunks: ``step(message, id) -> dict``, ``reset``,
``steps``, ``state_dict``/``load_state_dict``, ``mode``, ``fingerprint``), ``answer_bytes(net, body,
content_type)`` with ``upload_types`` (a raw upload, e.g. a WAV file) and ``upload_type(head)`` (the
content type a body sent without one should have had, told by its first bytes: the 415's fix; None:
not an upload), ``scorer(engine)`` (lm: a
:class:`~lstmkit.nn.scoring.TokenScorer` other rooms fuse with, reached through the registry),
``answer_many(net, requests) -> [answer or LstmkitError, ...]`` (several typed requests at once,
one entry each: the service then answers concurrent requests together through
:class:`~lstmkit.deploy.batching.RequestBatcher`; translate, classify), ``serve_check()`` (an
LstmkitError when the service cannot answer whatever a request holds, raised as it starts; speech: a
language model that can no longer be loaded), ``answering_graph(run)`` (an estimator adapter's: the run's graph(s)
with the calls of the estimator's ``net_``, which a loaded int8 run whose export chose ONNX Runtime answers its
Python calls with, :mod:`lstmkit.run_engine`; ``onnx_net(run)`` by default; lm and speech wrap their graph).

Every task room has an adapter: forecast (direct-strategy runs: one or many series, logs, seasonal
indices, seed ensembles, quantiles; the service's history request; state streaming), classify
(``x, lengths -> logits``; numeric left-to-right models stream), translate (an encoder graph and a
one-step decoder graph under the same beam search), lm (the step graph; token streams; score and
sample requests) and speech (the acoustic model ``x, lengths -> log-probs``; CTC decoding and LM
fusion outside the graph; seq2seq: translate's two graphs with features in; WAV uploads; audio
streamed chunk by chunk). What each refuses (e.g. a recursive-strategy forecaster, streaming a
seq2seq speech model) it refuses in one line naming why.
"""
from __future__ import annotations

import contextlib
import contextvars
import decimal
import json
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from lstmkit.config import TrainConfig
from lstmkit.data.arrays import plain_array
from lstmkit.errors import LstmkitError

__all__ = ["DeployAdapter", "EstimatorAdapter", "FastStep", "UpdateData", "BadRequest", "observation_row",
           "observation_mapping", "shown", "json_wording", "names_python_call"]


def observation_mapping(obs: Any) -> dict | None:
    """``obs`` as ``{column: value}`` when it is one: a dict, another mapping, or a pandas Series
    (a table's row, ``df.iloc[k]``: it was refused as "values must be numbers, got y 10.0 ...");
    None for anything else."""
    if isinstance(obs, dict):
        return obs
    if isinstance(obs, Mapping) or (hasattr(obs, "to_dict") and hasattr(obs, "index") and getattr(obs, "ndim", 0) == 1):
        return dict(obs.items())
    return None


def observation_row(obs: Any, columns: list[str]) -> np.ndarray:
    """One streamed observation (number, list in column order, or ``{column: value}``: a dict, a
    mapping or a pandas Series) -> finite ``[1, I]`` float64; anything else is an LstmkitError
    naming what to send."""
    obs = plain_array(obs)                       # a torch tensor (x[t], a model's output fed back): its numbers
    named = observation_mapping(obs)
    if named is not None:
        obs = named
        missing = [c for c in columns if c not in obs]
        if missing:
            raise LstmkitError(f"observation lacks column {missing[0]!r}",
                               f"send every input column: {', '.join(columns)}")
        extra = [c for c in obs if c not in columns]
        if extra:
            raise LstmkitError(f"observation has unknown column {extra[0]!r}",
                               f"send only the input columns: {', '.join(columns)}")
        row = [obs[c] for c in columns]
        bad = next((c for c in columns if not _numbers_only([obs[c]])), None)
        if bad is not None:                      # the column named: the service's error names it as the field
            raise LstmkitError(f"observation values must be numbers, got {shown(obs[bad])} in column {bad!r}",
                               f"send {len(columns)} numbers: {', '.join(columns)}")
    else:
        row = obs
    if not _numbers_only(row):                   # np.asarray would take True as 1.0, "1.0" as 1.0
        raise LstmkitError(f"observation values must be numbers, got {shown(row)}",
                           f"send {len(columns)} numbers: {', '.join(columns)}")
    try:
        a = np.asarray(row, dtype=np.float64).reshape(1, -1)
    except OverflowError:                        # an int beyond float64 (10**400)
        raise LstmkitError("observation holds a value beyond the float32 range (|x| <= 3.4e38)",
                           "send numbers the model can hold") from None
    except (TypeError, ValueError):
        raise LstmkitError(f"observation values must be numbers, got {shown(row)}",
                           f"send {len(columns)} numbers: {', '.join(columns)}") from None
    if a.shape[1] != len(columns):
        raise LstmkitError(f"Expected {len(columns)} values per observation ({', '.join(columns)}), "
                           f"got {a.shape[1]}", "send one value per input column")
    if not np.isfinite(a).all():
        raise LstmkitError("observation holds NaN or infinity", "send finite numbers")
    if (np.abs(a) > np.finfo(np.float32).max).any():
        raise LstmkitError("observation holds a value beyond the float32 range (|x| <= 3.4e38)",
                           "send numbers the model can hold")
    return a


_JSON_CLIENT = contextvars.ContextVar("lstmkit_json_client", default=False)


@contextlib.contextmanager
def json_wording():
    """Within it, :func:`shown` words a client's values as JSON: the service answering a JSON
    message (a ``/stream`` message) sets it; Python callers of the same code get Python's words."""
    token = _JSON_CLIENT.set(True)
    try:
        yield
    finally:
        _JSON_CLIENT.reset(token)


def shown(value: Any, limit: int = 80) -> str:
    """A value a caller sent, as an error message shows it: as JSON (``true``, ``null``, ``[1, 2]``)
    to a JSON client (within :func:`json_wording`; it was told "steps True is not a count"), else
    ``repr(value)``; text is quoted as ``repr`` quotes it either way. One line, cut to ``limit``
    characters (an error message is one line)."""
    text = None
    if _JSON_CLIENT.get() and not isinstance(value, str):
        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):          # not a value JSON holds (a numpy array): Python's words
            pass
    text = " ".join((repr(value) if text is None else text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _numbers_only(row: Any) -> bool:
    """True when ``row`` is a number, a flat list/tuple of numbers or a numeric array (no booleans,
    no text, no nested lists). A number is any real one: numpy's, a ``Decimal`` (a pyarrow decimal
    column's cell, as ``fit`` reads it) or a ``Fraction``; an object array (``df.to_numpy()`` of a
    frame with a text column) of them too. These were 'observation values must be numbers, got
    Decimal('5.1')'."""
    if isinstance(row, np.ndarray):
        return row.dtype.kind in "iuf" or (row.dtype.kind == "O" and row.ndim <= 1
                                            and all(_real(v) for v in row.ravel().tolist()))
    items = row if isinstance(row, (list, tuple)) else [row]
    return all(_real(v) for v in items)


def _real(v: Any) -> bool:
    """Whether ``v`` is one real number (not a boolean, whose True np.asarray reads as 1.0)."""
    return isinstance(v, (numbers.Real, decimal.Decimal)) and not isinstance(v, (bool, np.bool_))


_CLI_FLAG = re.compile(r"(?<![\w-])--[a-z][\w-]*")              # --time, --dates: the command line's words


def names_cli_flag(text: str | None) -> bool:
    """Whether ``text`` (an error's hint) names a command-line flag: a fix for the CLI, not for a request."""
    return bool(text) and _CLI_FLAG.search(text) is not None


_PYTHON_CALL = re.compile(r"(?<![\w.])[A-Za-z_][\w.]*\(\)")       # state_dict(), Stream.save(): Python's words


def names_python_call(text: str | None) -> bool:
    """Whether ``text`` (an error's hint) names a Python method (``state_dict()``): a fix for a
    Python caller, not for a JSON client, whose words are the service's (``{"op": "state"}``)."""
    return bool(text) and _PYTHON_CALL.search(text) is not None


# integer bounds a float does not hold (a seed's 2**63 - 1): FastAPI's OpenAPI model reads every bound as a float,
# so /openapi.json said 9.223372036854776e+18, which is 2**63, a seed the service refuses. whole_int writes such
# bounds into the field's own JSON schema under EXACT (a dict FastAPI keeps as it is), and exact_bounds puts them
# back in place of the floats: no state outside the schema, so two services in one process publish their own.
EXACT = "x-exact-bounds"
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_PYDANTIC_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def whole_int(**bounds: Any):
    """A request's integer field (pydantic, imported here: the serve extra): a JSON integer within ``bounds``
    (``ge``, ``le``), written ``9`` or ``9.0`` (the same number in JSON, and an integer to the JSON Schema the
    service publishes: ``9.0`` was refused, ``2.5``, ``"9"`` and ``true`` are). A bound a float does not hold
    is also kept in the field's schema under ``EXACT``, for :func:`exact_bounds`."""
    from typing import Annotated
    from pydantic import BeforeValidator, Field
    exact = {_PYDANTIC_BOUNDS[k]: b for k, b in bounds.items()
             if k in _PYDANTIC_BOUNDS and isinstance(b, int) and float(b) != b}

    def whole(value: Any) -> Any:
        return int(value) if type(value) is float and value.is_integer() else value
    return Annotated[int, Field(strict=True, json_schema_extra={EXACT: exact} if exact else None, **bounds),
                     BeforeValidator(whole)]


def exact_bounds(schema: Any) -> Any:
    """``schema`` (an OpenAPI document, changed in place) with each integer's bounds written as the integers
    they are (FastAPI wrote ``1000.0`` and, for :func:`whole_int`'s ``2**63 - 1``, ``9.223372036854776e+18``:
    the exact one is read from the field's own ``EXACT``, which is then dropped)."""
    if isinstance(schema, dict):
        if schema.get("type") == "integer":
            exact = schema.pop(EXACT, {})
            for key in _BOUNDS:
                value = schema.get(key)
                if isinstance(value, float) and value.is_integer():
                    schema[key] = exact.get(key, int(value))
        for value in schema.values():
            exact_bounds(value)
    elif isinstance(schema, list):
        for value in schema:
            exact_bounds(value)
    return schema


def one_of(branches: dict[str, list[str]]):
    """A request model's ``json_schema_extra``: the request sends exactly one of ``branches``' fields (not
    null), and with it none of the fields its list names (each absent or null), as the task's own checks
    refuse the others; ``/openapi.json`` said every field was optional."""
    def extra(schema: dict[str, Any]) -> None:
        schema["oneOf"] = [{"required": [key], "properties": {key: {"not": {"type": "null"}},
                                                               **{x: {"type": "null"} for x in without}}}
                           for key, without in branches.items()]
    return extra


NOT_BLANK = {"pattern": r"\S"}       # a text field's json_schema_extra: a text of only spaces is refused
MAX_TEXT = 100_000                   # the longest text a request's field takes (characters)


def text_field(blank: bool = False, max_length: int = MAX_TEXT):
    """A request's text field (pydantic, imported here: the serve extra): a string of at most ``max_length``
    characters; unless ``blank``, one of nothing but white space is refused, and the published schema says so
    (``NOT_BLANK``), as the task refuses it (a text to classify or a line to score). A blank sentence to
    translate is answered (its translation is empty): ``blank=True``."""
    from typing import Annotated
    from pydantic import Field

    return Annotated[str, Field(max_length=max_length, json_schema_extra=None if blank else NOT_BLANK)]


class BadRequest(LstmkitError):
    """Bad input in a service request, with the field it is about (``loc``, e.g. ``["texts", 2]``):
    the HTTP service answers it as a 422 whose ``detail[].loc`` is ``["body", *loc]`` and whose
    ``msg`` is the problem, `` — ``, then the hint: what to send instead."""

    def __init__(self, loc: list, message: str, hint: str | None = None):
        super().__init__(message, hint)
        self.loc = list(loc)

    @classmethod
    def of(cls, loc: list, e: LstmkitError, fix: str, message: str | None = None) -> BadRequest:
        """``e``, raised by code the CLI shares (reading dates, audio), as a request's refusal at
        ``loc``: its message (or ``message``), and its hint unless that was written for the command
        line (it names a ``--flag``); ``fix`` then, the service's words (the field to send)."""
        return cls(loc, e.message if message is None else message,
                   fix if names_cli_flag(e.hint) or not e.hint else e.hint)


@dataclass
class UpdateData:
    """New data for an online update, cut by the task (see :meth:`DeployAdapter.update_data`).

    ``train`` and ``holdout`` are iterables of ``(inputs, target)`` batches as the
    :class:`~lstmkit.train.Trainer` takes them; ``holdout`` holds the newest examples (they judge
    the update and are never trained on); ``report`` goes into the update report as it is
    (e.g. ``rows``, ``train_windows``, ``val_windows``, ``units``).
    """

    train: Iterable
    holdout: Iterable
    report: dict[str, Any] = field(default_factory=dict)


class FastStep(Protocol):
    """A task's shortcut for one state-mode streaming step with the torch engine.

    It computes exactly what the general path (the :class:`~lstmkit.deploy.stateful.StatefulNet`
    called on one step, then ``decode``) computes, only cheaper. Its per-stream state (``live``)
    is whatever suits it; :meth:`arrays` turns it into the general path's ``[L, 1, H]`` arrays.
    """

    def encode(self, x_t: Any) -> torch.Tensor:
        """One observation -> model input ``[1, I]`` (the same errors as ``encode_row``)."""

    def ready(self) -> bool:
        """False while the shortcut cannot reproduce the net (e.g. some part is in training mode)."""

    def live(self, state: list[np.ndarray]) -> Any:
        """The shortcut's state from the general path's arrays (zeros when empty)."""

    def arrays(self, live: Any) -> list[np.ndarray]:
        """The general path's ``[L, 1, H]`` arrays from the shortcut's state."""

    def step(self, x: torch.Tensor, live: Any) -> tuple[Any, Any]:
        """One step: ``(decoded answer, new live state)``."""


class EstimatorAdapter:
    """The part every estimator-backed adapter shares (subclassed by the classify, translate, lm and
    speech rooms): the fitted estimator ``est`` it wraps, ``load(run)`` through
    :func:`~lstmkit.deploy.quantize.load_estimator` (an int8 run rebuilds its quantized net), the
    estimator's net in eval mode, the engine its run prefers, its run folder, and the state shape of
    a net with one recurrent ``encoder``; online updates are refused in one line naming
    :attr:`models`. A room sets :attr:`estimator` (or overrides :meth:`estimator_for` when the run's
    metadata picks the class)."""

    task: str = ""                 # the room's name (the adapter protocol's ``task``)
    estimator: type = object       # the room's estimator class
    models = "these models"        # what the update refusal calls them ("classifiers")

    def __init__(self, est: Any) -> None:
        est._check_fitted()
        self.est = est

    @classmethod
    def estimator_for(cls, run: str | Path) -> type:
        """The estimator class that loads ``run``."""
        return cls.estimator

    @classmethod
    def load(cls, run: str | Path):
        from lstmkit.deploy.quantize import load_estimator      # int8 runs rebuild their quantized net
        return cls(load_estimator(cls.estimator_for(run), run))

    @property
    def net(self) -> nn.Module:
        return self.est.net_.eval()

    @property
    def preferred_engine(self) -> str | None:
        """``torch`` or ``onnx`` when the run says which (an int8 export), else None."""
        return getattr(self.est, "engine_", None)

    @property
    def run(self) -> Path | None:
        """The run folder whose weights this model has (None for a model not saved as it is, or whose run
        folder was saved over since: the estimator's ``_answering_run``)."""
        answering = getattr(self.est, "_answering_run", None)
        return answering() if answering is not None else getattr(self.est, "run_dir_", None)

    def answering_graph(self, run: Path) -> nn.Module:
        """``run``'s graph(s) as a network with the calls of the estimator's ``net_``, which its own methods
        answer with where the run is an int8 run whose export chose ONNX Runtime (the estimator's
        ``_answering_net``): the room's ``onnx_net(run)`` (a classifier's length-sorted graph, a translator's two)."""
        return self.onnx_net(run)

    @property
    def state_shape(self) -> tuple[int, int]:
        """``(layers, hidden)`` of the estimator's net's ``encoder`` state."""
        enc = self.est.net_.encoder
        return getattr(enc, "num_layers", 1), getattr(enc, "hidden_size", 0)

    # -- online update: not offered (an update never gets past check_updatable) ---------------
    @property
    def train_config(self) -> TrainConfig:
        return self.est.config_.train

    def check_updatable(self) -> None:
        raise LstmkitError(f"online updates are not available for {self.models}",
                           f"retrain with '{self.task} train'")

    def update_data(self, new_data, holdout: float, batch_size: int) -> UpdateData:
        self.check_updatable()

    def updated(self, net: nn.Module) -> None:
        self.est.run_dir_ = None
        self.est.net_ = net


@runtime_checkable
class DeployAdapter(Protocol):
    """What a task's ``deploy.py`` ``Adapter`` provides (an adapter wraps one fitted model)."""

    task: str                      # the task name, as in lstmkit.json
    columns: list[str]             # names of the values of one observation, in model input order
    input_size: int                # values per observation after encoding (I)
    window: int | None             # steps one answer reads (a forecaster's lookback)

    def __init__(self, model: Any) -> None:
        """The adapter around a fitted estimator of this task (how the estimator itself reaches
        the engines: ``registry.adapter_class(task)(self)``)."""

    @classmethod
    def load(cls, run: str | Path) -> DeployAdapter:
        """The adapter around a finished run folder."""

    # -- the model --------------------------------------------------------------------------
    @property
    def net(self) -> nn.Module:
        """The torch module that answers: ``x [B, T, I] -> y`` (eval mode, CPU)."""

    @property
    def preferred_engine(self) -> str | None:
        """``torch`` or ``onnx`` when the run says which (an int8 export), else None."""

    @property
    def state_names(self) -> tuple[str, ...]:
        """Recurrent state that can be carried between calls (``("h", "c")``, ``("h",)`` or ``()``)."""

    @property
    def state_shape(self) -> tuple[int, int]:
        """``(layers, hidden)`` of each state tensor (the batch is the middle axis)."""

    def stateful(self) -> nn.Module:
        """The net with its state as explicit inputs and outputs: ``(x, *state) -> (y, *state)``."""

    def example_inputs(self, batch: int, steps: int | None = None, seed: int = 0) -> torch.Tensor:
        """Random model inputs ``[batch, steps, I]`` (steps defaults to ``window``)."""

    def metadata(self) -> dict[str, Any]:
        """What the HTTP service's ``GET /model`` tells about the model (JSON-able)."""

    # -- int8 -------------------------------------------------------------------------------
    def test_metrics(self, net: nn.Module, data=None) -> dict[str, float] | None:
        """Metrics of ``net`` (same call as :attr:`net`) on the run's test data, None without data."""

    # -- streaming and serving --------------------------------------------------------------
    def state_refusal(self) -> str | None:
        """Why this model cannot stream by carrying state (None when it can)."""

    def fast_step(self) -> FastStep | None:
        """A :class:`FastStep` for the torch engine's state mode, or None (the general path runs)."""

    def encode_row(self, obs: Any) -> np.ndarray:
        """One observation (JSON value) -> model input ``[I]`` float32; bad input is an LstmkitError."""

    def encode_rows(self, rows: np.ndarray) -> np.ndarray:
        """Observations ``[N, I]`` in original units, ``columns`` order -> model inputs float32."""

    def decode(self, y: np.ndarray) -> np.ndarray:
        """Model outputs (batch axis first, or one answer) -> answers in original units."""

    def to_json(self, y: np.ndarray) -> dict[str, Any]:
        """One decoded answer -> the JSON the HTTP service returns."""

    # -- online update ----------------------------------------------------------------------
    @property
    def train_config(self) -> TrainConfig:
        """The run's training settings; an update trains with them (its own lr and epochs)."""

    def check_updatable(self) -> None:
        """Raise LstmkitError when this model cannot be fine-tuned (e.g. an int8 run)."""

    def update_data(self, new_data, holdout: float, batch_size: int) -> UpdateData:
        """Cut ``new_data`` into training batches and the newest ``holdout`` fraction (at least
        one example, none of it a training target); too little data is an LstmkitError."""

    def updated(self, net: nn.Module) -> None:
        """Called once an update was kept: ``net``, the trained copy, becomes the model's network
        (one assignment, after what it invalidates: the weights no longer match the run folder)."""
