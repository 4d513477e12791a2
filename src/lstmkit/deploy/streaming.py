"""Streaming inference: one observation in, one answer out, recurrent state kept per stream id.

>>> s = forecaster.stream()                  # lstmkit.deploy.Stream
>>> s.step(412.3, id="sensor-1")             # forecast [horizon, targets] after this observation
>>> s.save("state.safetensors"); s.reset(); s.restore("state.safetensors")

The engine works on a task's adapter (:class:`~lstmkit.deploy.adapter.DeployAdapter`). What
``y_t`` means for a model that reads a window (a forecaster). Two modes, both exact:

* ``state`` — carry the encoder's ``(h, c)`` (GRU: ``h``). ``y_t`` is the answer the network
  gives after reading the **whole history so far** from a zero state, i.e. ``net(x[:, :t+1])``;
  each step costs one recurrent step. Needs a one-directional LSTM/GRU encoder, and a model whose
  earlier inputs do not change with later ones (``adapter.state_refusal()`` says why not: e.g. a
  ``relative`` forecaster subtracts the newest value from every input of the window).
* ``window`` — keep the last ``adapter.window`` observations and run the network over them;
  ``y_t`` equals ``predict()`` on that history (before a full window: on what there is, or, for a
  net that reads a whole window (``adapter.whole_window``), on it with its first row repeated in
  front). Any encoder works.

``mode="auto"`` picks ``state`` where it applies and ``window`` otherwise. With the torch engine
in state mode a task may supply a faster exact step (``adapter.fast_step()``).

A task whose answer needs more than the network and a fixed per-column scaling (a forecaster with
many series, seasonal indices, quantiles or a blend with a baseline) supplies a
:class:`StreamExtra` (``adapter.stream_extra(mode)``): it turns each message into the network's
input and its own per-stream data (``aux``: the series, the history it keeps), and the network's
output into the answer. The stream commits the new state and ``aux`` only once the answer is
good, and saves ``aux`` with the state.

A model whose streamed input is not one numeric row per step (a language model: a token per
message; a CTC speech model: an audio chunk) brings its own stream object through the adapter's
``open_stream(engine, run)`` hook; :func:`stream_for` returns either kind.

A plain stream (no :class:`StreamExtra`) may carry a task's :class:`StreamMark` (``adapter.stream_mark()``):
a small JSON-able memo of the observations so far that changes the answer (a forecaster: which
targets have ever been nonzero, so a stream of zeros forecasts 0 as ``predict`` does), saved with
the state; a state saved before the task had one restores the mark's default.

What a stream keeps per id, and its saving and restoring (``state_dict`` / ``load_state_dict``,
``save`` / ``restore``), are :mod:`lstmkit.deploy.stream_state` (:class:`Stream`'s base class).
"""
from __future__ import annotations

import dataclasses
import threading
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

import numpy as np
import torch

from lstmkit.config import python_values
from lstmkit.deploy.adapter import FastStep
from lstmkit.deploy.step_stream import StepStream
from lstmkit.deploy.onnx_engine import ENGINES, load_runner, resolve_engine
from lstmkit.runs import weights_fingerprint_kept
from lstmkit.deploy.stream_state import SavedStreams, StreamSlot, stream_id
from lstmkit.errors import LstmkitError, callers_level

__all__ = ["Stream", "StepStream", "StreamExtra", "StreamMark", "TorchCore", "make_stream", "stream_for", "stream_id",
           "keep_slot", "too_many_streams", "MODES"]

MODES = ("auto", "state", "window")


class TorchCore:
    """A :class:`~lstmkit.deploy.stateful.StatefulNet` as ``(x [B, T, I], state, **inputs) -> (y, state)``
    on numpy; ``inputs`` are the graph's inputs between ``x`` and the state (e.g. ``series [B]``),
    in the order given, as :class:`~lstmkit.deploy.onnx_engine.OnnxRunner` takes them by name."""

    def __init__(self, graph: torch.nn.Module):
        self.graph = graph.eval()
        self.state_names = tuple(graph.state_names)

    def __call__(self, x: np.ndarray, state: list[np.ndarray],
                 **inputs: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        with torch.inference_mode():
            out = self.graph(torch.from_numpy(x), *(torch.from_numpy(v) for v in inputs.values()),
                             *(torch.from_numpy(s) for s in state))
        if not self.state_names:
            return out.numpy(), []
        y, *st = out
        return y.numpy(), [s.numpy() for s in st]


class StreamExtra(Protocol):
    """What a task adds around the network for each stream (see the module docstring). ``aux`` is
    the extra's own per-stream data (None before a stream's first step); nothing here changes it."""

    keys: tuple[str, ...]          # the names :meth:`arrays` and :meth:`fields` give (others in a saved stream are refused)

    def header(self) -> dict[str, Any]:
        """What a saved state must match (e.g. the series and history kept), JSON-able."""

    def begin(self, x_t: Any, id: str, aux: Any, steps: int) -> tuple[np.ndarray, dict[str, np.ndarray], Any]:
        """One message of stream ``id`` -> ``(x, inputs, pending)``: the network input (state mode:
        one row ``[I]``; window mode: the whole window ``[n, I]``), the graph's other inputs
        (e.g. ``series``), and what :meth:`finish` needs, the new ``aux`` among it. Bad input is
        an LstmkitError."""

    def finish(self, y: np.ndarray, pending: Any) -> tuple[Any, Any]:
        """The network's output for one stream -> ``(answer, new aux)``; an answer that is not
        finite is an LstmkitError."""

    def notes(self, x: np.ndarray, pending: Any) -> list[str]:
        """Optional: what the step's warnings say of its network input ``x`` (as :meth:`begin`
        gave it) once its answer is good, e.g. values far outside the training range."""

    def arrays(self, aux: Any) -> dict[str, np.ndarray]:
        """The numbers of ``aux`` by name (saved in their own dtype)."""

    def fields(self, aux: Any) -> dict[str, Any]:
        """The rest of ``aux``, JSON-able (e.g. ``{"series": "s1"}``)."""

    def restore(self, rec: dict[str, Any], steps: int) -> Any:
        """``aux`` from a saved stream's record (:meth:`arrays` as lists or arrays, and :meth:`fields`);
        a malformed record is a ValueError, KeyError or TypeError."""


class StreamMark(Protocol):
    """What a task remembers of a plain stream's observations besides the network's state, and how
    it changes the answer (see the module docstring). A mark is JSON-able; None before the first step."""

    keys: tuple[str, ...]          # the names :meth:`fields` gives (a saved stream's other names are refused)

    def seen(self, x_t: Any, mark: Any) -> Any:
        """The mark once observation ``x_t`` (as sent; already checked by the encoder) is in."""

    def answer(self, answer: Any, mark: Any) -> Any:
        """The decoded answer as the mark changes it."""

    def fields(self, mark: Any) -> dict[str, Any]:
        """The mark as a saved stream's fields (JSON-able)."""

    def restore(self, rec: dict[str, Any], steps: int) -> Any:
        """The mark from a saved stream's record; its default when the record has none (saved
        before the task kept it). A malformed one is a ValueError."""


class Stream(SavedStreams):
    """Step a model through observations, one stream id at a time.

    Args:
        core: ``(x [1, T, I] float32, state) -> (y [1, ...], state)``, e.g. :class:`TorchCore`
            or :class:`~lstmkit.deploy.onnx_engine.OnnxRunner`.
        input_size: values per observation after ``encode``.
        encode: one observation -> ``[I]`` float32 model input (default: ``np.asarray``).
        decode: model output ``[...]`` for one stream -> the answer (default: identity).
        mode: ``state`` or ``window`` (see the module docstring).
        window: observations one forecast reads in ``window`` mode.
        state_shape: ``(layers, hidden)`` of each state tensor in ``state`` mode.
        fingerprint: the weights this state belongs to; restoring another model's state is refused.
        max_streams: bound on open stream ids (None: unbounded).
        fast: a task's exact shortcut for one state-mode step (:class:`~lstmkit.deploy.adapter.FastStep`).
        extra: the task's :class:`StreamExtra` (then ``encode``, ``decode`` and ``fast`` are unused).
        whole_window: window mode, before a full window: repeat the first row in front (a net
            that cannot read fewer rows) instead of reading the rows there are.
        watch: the scaled rows ``[k, I]`` a step's answer read (state mode: the observation;
            window mode: the window) -> the step's warnings (a forecaster's ``far_outside_notes``).
        mark: the task's :class:`StreamMark` of a plain stream (unused with ``extra``).
        step_refusal: ``steps -> LstmkitError | None``: why a stream that has taken ``steps`` steps
            may take no more (a classifier's ``max_len``: ``predict`` cuts a longer series); the
            step is refused naming the stream, which stays as it was.
    """

    extra: StreamExtra | None = None      # (a subclass with its own __init__, e.g. lm's, has none)
    watch: Callable[[np.ndarray], list[str]] | None = None
    mark: StreamMark | None = None
    step_refusal: Callable[[int], LstmkitError | None] | None = None

    def __init__(self, core: Callable, input_size: int, *, encode: Callable | None = None,
                 decode: Callable | None = None, mode: str = "state", window: int | None = None,
                 state_shape: tuple[int, int] | None = None, fingerprint: str | None = None,
                 max_streams: int | None = None, fast: FastStep | None = None, extra: StreamExtra | None = None,
                 whole_window: bool = False, watch: Callable[[np.ndarray], list[str]] | None = None,
                 mark: StreamMark | None = None, step_refusal: Callable[[int], LstmkitError | None] | None = None):
        if mode not in ("state", "window"):
            raise LstmkitError(f"unknown stream mode {mode!r}", "use state or window")
        if mode == "state" and not (getattr(core, "state_names", ()) and state_shape):
            raise LstmkitError("this model has no recurrent state to carry", "use mode='window'")
        if mode == "window" and not (isinstance(window, int) and window > 0):
            raise LstmkitError(f"`window` must be a positive integer, got {window!r}", "pass the lookback")
        self.core, self.input_size, self.mode, self.window = core, input_size, mode, window
        self.state_names = tuple(getattr(core, "state_names", ())) if mode == "state" else ()
        self.state_shape = tuple(state_shape) if state_shape else None
        self.fingerprint, self.max_streams = fingerprint, max_streams
        self.encode = encode or (lambda x: np.asarray(x, dtype=np.float32).reshape(-1))
        self.decode = decode or (lambda y: y)
        self._slots: dict[str, StreamSlot] = {}
        self._zeros = [np.zeros((state_shape[0], 1, state_shape[1]), np.float32)
                       for _ in self.state_names] if mode == "state" else []
        self._fast = fast if mode == "state" and extra is None else None
        self.extra, self.whole_window, self.watch = extra, whole_window, watch
        self.mark = mark if extra is None else None
        self.step_refusal = step_refusal
        self._warned: set[str] = set()        # the stream ids whose step has warned (once each, until reset)

    # -- stepping ----------------------------------------------------------------------------
    def step(self, x_t: Any, id: str = "default") -> Any:
        """Feed one observation to stream ``id`` (created on first use); return its answer. What
        the task would warn about (a forecaster: values far outside the training range) is a
        UserWarning, as ``predict`` gives it, once per stream id until it is reset: the text names
        the values, so each step of a stream that stays outside was a warning of its own, printed
        every step and kept in the caller's ``__warningregistry__`` (memory growing with the
        steps). :meth:`step_noted` returns every step's."""
        answer, notes = self.step_noted(x_t, id)
        key = stream_id(id)
        if notes and key not in self._warned:
            self._warned.add(key)
            for note in notes:
                warnings.warn(f"{note} (stream {key!r} warns of this once, until it is reset; step_noted() "
                              "returns every step's warnings)", UserWarning, stacklevel=callers_level())
        return answer

    def step_noted(self, x_t: Any, id: str = "default") -> tuple[Any, list[str]]:
        """:meth:`step`, with its warnings as a list of text instead (``[]``: none): the service's
        ``/stream`` message carries them in its ``warnings`` field."""
        id = stream_id(id)
        if self.step_refusal is not None:
            slot = self._slots.get(id)
            refusal = self.step_refusal(slot.steps if slot is not None else 0)
            if refusal is not None:
                raise LstmkitError(f"stream {id!r}: {refusal.message}", refusal.hint)
        if self.extra is not None:
            return self._extra_step(x_t, id)
        fast = self._fast
        # a stream id's slot is opened, and its state advanced, only once the step's answer is good: a step that
        # fails (a non-finite answer, Ctrl-C inside the network) leaves every stream as it was, a new id unopened
        if fast is not None and fast.ready():                    # the task's shortcut (torch engine)
            x = fast.encode(x_t)                                 # validates before a slot is made
            slot = self._open(id)
            live = slot.live
            y, live = fast.step(x, live if live is not None else fast.live(slot.state))
            y, mark = self._marked(x_t, slot, _check_finite_answer(y))
            slot.live, slot.mark, slot.steps = live, mark, slot.steps + 1
            keep_slot(self._slots, id, slot, self.max_streams)
            return y, self._notes(x.numpy())
        row = self.encode(x_t)                                   # [I]
        slot = self._open(id)
        if self.mode == "state":
            before = fast.arrays(slot.live) if slot.live is not None else slot.state   # the fast path ran this slot before
            y, state = self.core(row.reshape(1, 1, -1), before or self._zeros)
            answer, mark = self._marked(x_t, slot, _check_finite_answer(self.decode(y[0])))
            slot.state, slot.live = state, None
            seen = row[None]
        else:
            w = row.reshape(1, -1) if slot.window is None else np.concatenate([slot.window, row[None]])
            y, _ = self.core(self._filled(w[-self.window:])[None], [])
            answer, mark = self._marked(x_t, slot, _check_finite_answer(self.decode(y[0])))
            slot.window = seen = w[-self.window:]
        slot.mark, slot.steps = mark, slot.steps + 1
        keep_slot(self._slots, id, slot, self.max_streams)
        return answer, self._notes(seen)

    def _marked(self, x_t: Any, slot: StreamSlot, answer: Any) -> tuple[Any, Any]:
        """``(answer as the task's :attr:`mark` changes it once x_t is in, the slot's new mark)``;
        the caller keeps the mark with the slot's other state, once the whole step is good."""
        if self.mark is None:
            return answer, slot.mark
        mark = self.mark.seen(x_t, slot.mark)
        return self.mark.answer(answer, mark), mark

    def _notes(self, seen: np.ndarray) -> list[str]:
        """What :attr:`watch` says of the scaled rows ``seen [k, I]`` the step's answer read."""
        return [] if self.watch is None else self.watch(seen)

    def _extra_step(self, x_t: Any, id: str) -> tuple[Any, list[str]]:
        """:meth:`step_noted` through the task's :class:`StreamExtra`; the stream changes only at the end."""
        slot = self._slots.get(id)
        if slot is None:
            self._check_room()
        x, inputs, pending = self.extra.begin(x_t, id, slot.aux if slot else None, slot.steps if slot else 0)
        if self.mode == "state":
            y, state = self.core(x.reshape(1, 1, -1), (slot.state if slot else None) or self._zeros, **inputs)
        else:
            y, state = self.core(self._filled(x)[None], [], **inputs)
        answer, aux = self.extra.finish(y[0], pending)
        slot = slot or StreamSlot()
        slot.aux, slot.steps = aux, slot.steps + 1
        if self.mode == "state":
            slot.state = state
        keep_slot(self._slots, id, slot, self.max_streams)
        notes = getattr(self.extra, "notes", None)
        return answer, (notes(x, pending) if notes is not None else [])

    def _filled(self, w: np.ndarray) -> np.ndarray:
        """A window ``[n, I]`` as the network reads it: with :attr:`whole_window`, ``window`` rows,
        the first repeated in front (as ``predict`` fills a short series among many)."""
        if not self.whole_window or len(w) >= self.window:
            return w
        return np.concatenate([np.repeat(w[:1], self.window - len(w), 0), w])

    def run(self, xs: Iterable[Any], id: str = "default") -> list[Any]:
        """:meth:`step` over a sequence of observations; returns every answer. All or nothing: an
        observation refused (or Ctrl-C) leaves stream ``id`` as it was before the call, not moved on
        by the steps before it, whose answers the error took with it."""
        id = stream_id(id)
        slot, warned = self._slots.get(id), id in self._warned
        kept = dataclasses.replace(slot) if slot is not None else None   # a step rebinds a slot's fields, never edits them
        try:
            return [self.step(x, id) for x in xs]
        except BaseException:
            if kept is None:
                self._slots.pop(id, None)
            else:
                self._slots[id] = kept
            if not warned:
                self._warned.discard(id)
            raise

    def _open(self, id: str) -> StreamSlot:
        """Stream ``id``'s slot, or a new one (checked against :attr:`max_streams`) that the step
        that asked for it adds to the streams once it has succeeded."""
        slot = self._slots.get(id)
        if slot is None:
            self._check_room()
            slot = StreamSlot()
        return slot

    def _check_room(self) -> None:
        if self.max_streams is not None and len(self._slots) >= self.max_streams:
            raise too_many_streams(self.max_streams)

    def reset(self, id: str | None = None) -> None:
        """Forget stream ``id`` (its next step starts from a zero state), or every stream."""
        if id is None:
            self._slots.clear()
            self._warned.clear()
        else:
            self._slots.pop(str(id), None)
            self._warned.discard(str(id))

    @property
    def ids(self) -> list[str]:
        """The ids of the streams open, in the order they were opened."""
        return list(self._slots)

    def steps(self, id: str = "default") -> int:
        """How many steps stream ``id`` has taken (0 for one not open)."""
        slot = self._slots.get(stream_id(id))
        return slot.steps if slot else 0


_ROOM = threading.Lock()     # a new stream id's check against max_streams and its entry, as one step


def keep_slot(slots: dict, id: str, slot: Any, max_streams: int | None) -> None:
    """``slots[id] = slot`` once a step has succeeded; a new ``id`` only while fewer than ``max_streams``
    are open. The check before the step refuses early; this one, with the entry under one lock, holds
    the bound for threads stepping new ids at once (each saw room before the others' steps ended, and
    eight threads opened eight streams of a stream made with ``max_streams=2``). One lock for every
    stream: a lock of its own would stop a torch stream from being pickled or copied."""
    with _ROOM:
        if id not in slots and max_streams is not None and len(slots) >= max_streams:
            raise too_many_streams(max_streams)
        slots[id] = slot


def too_many_streams(max_streams: int) -> LstmkitError:
    """What every task's stream raises for a new stream id over its ``max_streams`` (the open ones unchanged)."""
    # the fix was "reset() finished streams": reset() without an id forgets every stream, the live ones too
    return LstmkitError(f"too many open streams ({max_streams}): a new stream id is one over the stream's "
                        "max_streams", "reset(id) each stream that has finished (reset() forgets them all), or "
                        "make the stream with a larger max_streams")


def _check_finite_answer(y: Any) -> Any:
    """``y`` when every number in it is finite; else the step is refused (its stream unchanged)."""
    try:
        finite = bool(np.isfinite(np.asarray(y, dtype=np.float64)).all())
    except (TypeError, ValueError):                 # a custom decode's own kind of answer
        return y
    if not finite:
        raise LstmkitError("the model's output is not finite for this observation (far outside the "
                           "training data?); the stream is as it was before it",
                           "send values in the range the model was trained on")
    return y


def make_stream(adapter, mode: str = "auto", engine: str = "auto", run: str | Path | None = None,
                max_streams: int | None = None) -> Stream:
    """A :class:`Stream` over a task adapter (:mod:`lstmkit.deploy.adapter`)."""
    _check_stream_settings(engine, max_streams)
    if mode not in MODES:
        raise LstmkitError(f"unknown stream mode {mode!r}", f"use one of: {', '.join(MODES)}")
    refusal = adapter.state_refusal()
    if mode == "auto":
        mode = "window" if refusal else "state"
    if mode == "state" and refusal:
        raise LstmkitError(f"this model cannot stream by carrying state: {refusal}", "use mode='window' (exact, slower)")
    if mode == "window" and not adapter.window:
        raise LstmkitError(f"this model cannot stream: {refusal or 'it reads no fixed window'}",
                           "send whole sequences to predict instead")
    extra_of = getattr(adapter, "stream_extra", None)      # the task's own work around the network
    extra = extra_of(mode) if extra_of is not None else None
    stream_graph = getattr(adapter, "stream_graph", None)   # the exported graph carries no state
    if stream_graph is not None:
        engine = "torch"
    if engine == "auto":
        engine = resolve_engine(run, "auto", adapter.preferred_engine)
    fast = None
    if engine == "onnx":
        if run is None:
            raise LstmkitError("the ONNX engine needs a saved run", "save the model and export it first")
        core = load_runner(run)
    elif engine == "torch":
        core = TorchCore(stream_graph() if stream_graph is not None else adapter.stateful())
        fast = adapter.fast_step() if mode == "state" and extra is None else None
    else:
        raise LstmkitError(f"unknown engine {engine!r}", "use auto, torch or onnx")
    return Stream(core, adapter.input_size, encode=None if extra else adapter.encode_row,
                  decode=None if extra else adapter.decode, mode=mode, window=adapter.window,
                  state_shape=adapter.state_shape if mode == "state" else None,
                  fingerprint=weights_fingerprint_kept(run) if run is not None else None, max_streams=max_streams,
                  fast=fast, extra=extra, whole_window=bool(getattr(adapter, "whole_window", False)),
                  watch=None if extra else getattr(adapter, "far_outside_notes", None),
                  mark=None if extra or not hasattr(adapter, "stream_mark") else adapter.stream_mark(),
                  step_refusal=getattr(adapter, "stream_step_refusal", None))


def stream_for(adapter, mode: str = "auto", engine: str = "auto", run: str | Path | None = None,
               max_streams: int | None = None) -> StepStream:
    """The stream of any task's model: the task's own object (``adapter.open_stream(engine, run,
    max_streams)``, whose ``step(message, id)`` answers JSON) or a :class:`Stream` (:func:`make_stream`)."""
    max_streams = python_values({"max_streams": max_streams})["max_streams"]        # a grid's np.int64: an int
    _check_stream_settings(engine, max_streams)
    hook = getattr(adapter, "open_stream", None)
    if hook is None:
        return make_stream(adapter, mode, engine, run, max_streams)
    if mode not in MODES:
        raise LstmkitError(f"unknown stream mode {mode!r}", f"use one of: {', '.join(MODES)}")
    if mode != "auto":
        raise LstmkitError(f"a {adapter.task} model streams its own way; mode {mode!r} does not apply",
                           "drop mode (or pass mode='auto')")
    chosen = resolve_engine(run, engine, getattr(adapter, "preferred_engine", None))
    where = Path(run) if run is not None else None
    stream = hook(chosen, where) if max_streams is None else hook(chosen, where, max_streams=max_streams)
    if stream is None:
        raise LstmkitError(f"this {adapter.task} model does not stream", "send whole inputs to predict instead")
    return stream


def _check_stream_settings(engine: Any, max_streams: Any) -> None:
    """Refuse an unknown engine or a ``max_streams`` that is not a positive integer before any work
    (a model that streams through torch only would otherwise take ``engine="bogus"`` without a word)."""
    if engine not in ENGINES:
        raise LstmkitError(f"unknown engine {engine!r}", f"use one of: {', '.join(ENGINES)}")
    if max_streams is not None and (isinstance(max_streams, bool) or not isinstance(max_streams, int)
                                    or max_streams < 1):
        raise LstmkitError(f"`max_streams` must be a positive integer or None, got {max_streams!r}",
                           "pass max_streams=64, say (None: no bound)")
