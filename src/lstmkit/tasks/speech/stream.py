"""Streaming recognition: audio chunk by chunk in, the greedy transcript so far out.

A one-directional CTC model (``--model lstm|gru``, features normalised per frame: ``--normalize
global|none``) reads left to right, so nothing it has answered ever changes. Per stream id the
stream keeps exactly what the next chunk needs::

    samples   the audio after the last whole analysis window (less than one hop + FFT)
    frames    the features the conv subsampling has not consumed (less than its receptive field
              plus one stride)
    h, c      the encoder's recurrent state
    last, ids the greedy path's last symbol and the collapsed symbols so far
    log_probs the utterance's per-frame log-probabilities, which ``end`` decodes with the run's
              beam and language model, as ``transcribe`` decodes the whole recording (the
              partials are the greedy path: a beam's best text may change with later frames)

Each chunk's new frames (:func:`~lstmkit.tasks.speech.features.log_mel` over ``samples + chunk``)
go through the subsampling and the encoder from the carried state, so after the last chunk the
partial equals the greedy transcript of the whole utterance, wherever the chunks were cut, and
``end`` answers what ``transcribe`` gives it.
The torch engine runs the model's own layers; the ONNX engine runs the exported graph (which
takes ``h0, c0`` for such a model).

A chunk is a list of samples at the model's rate (JSON), ``{"audio": [...]}``, or in Python a
1-D float array; an integer or multi-channel array is refused with the conversion to make. Samples
beyond [-1, 1] are read as they are; the first chunk of a stream that holds one answers with the
``warnings`` the HTTP service gives a loud recording (:func:`~lstmkit.tasks.speech.audio.warned`).

Audio at another rate: ``start(rate, id)`` (``{"op": "start", "rate": 8000}`` on ``/stream``) before
a stream's first chunk declares its samples' rate. Each chunk is then resampled as it comes
(:class:`~lstmkit.tasks.speech.resampling.BlockResampler`, eager: scipy's ``resample_poly``, the
filter the CLI resamples a file with), the resampler's held input part of the stream's state;
``end(id)`` (``{"op": "end"}``) resamples what it still holds (the filter's reach past the last
sample) and answers the utterance's transcript, which equals the greedy transcript of the whole
recording resampled at once. A stream that ends starts its next utterance afresh at the rate declared;
reset forgets the rate too.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstmkit.data.arrays import tensor_as_array
from lstmkit.deploy.adapter import BadRequest, shown
from lstmkit.deploy.onnx_engine import load_runner, no_saved_graph, resolve_engine
from lstmkit.deploy.registry import weights_fingerprint
from lstmkit.deploy.stream_state import asked_ids, read_state_file, unknown_field
from lstmkit.deploy.streaming import keep_slot, stream_id, too_many_streams
from lstmkit.errors import LstmkitError, worded
from lstmkit.runs import write_json
from lstmkit.tasks.speech.audio import warned
from lstmkit.tasks.speech.config import MAX_RATE, MIN_RATE
from lstmkit.tasks.speech.decode import collapse, decode
from lstmkit.tasks.speech.features import frame_count, log_mel
from lstmkit.tasks.speech.resampling import BlockResampler

__all__ = ["SpeechStream", "MAX_CHUNK_SECONDS"]

MAX_CHUNK_SECONDS = 10.0


class _Live:
    """One stream's carried state (see the module docstring)."""

    def __init__(self, n_features: int, state: list[np.ndarray], rate: int, model_rate: int):
        self.rate = rate                 # the rate the stream's chunks come at (declared by start)
        self.resampler = BlockResampler(rate, model_rate, eager=True) if rate != model_rate else None
        self.samples = np.zeros(0, np.float32)
        self.frames = np.zeros((0, n_features), np.float32)
        self.state = state
        self.last = 0
        self.ids: list[int] = []
        self.log_probs: list[np.ndarray] | None = []   # the utterance's [T', V] so far, for end() (None: not kept)
        self.steps = 0
        self.seen = 0                    # samples received (at ``rate``)
        self.loud = False                # a sample beyond [-1, 1] has come (and been warned of)

    def to_dict(self) -> dict[str, Any]:
        out = {"steps": self.steps, "seen": self.seen, "samples": self.samples.tolist(),
               "frames": self.frames.tolist(), "state": [s.tolist() for s in self.state],
               "last": self.last, "ids": list(self.ids), "loud": self.loud, "rate": self.rate}
        if self.log_probs is not None:
            out["log_probs"] = np.concatenate(self.log_probs).tolist() if self.log_probs else []
        if self.resampler is not None:
            held = self.resampler.state()
            out["resampler"] = {**held, "held": held["held"].tolist()}
        return out


class SpeechStream:
    """``step(chunk, id)`` -> ``{"partial": transcript so far, "seconds": audio so far}``, with
    ``"warnings"`` once per stream, for its first chunk whose samples go beyond [-1, 1].

    A chunk is a JSON list of samples at the model's rate, or ``{"audio": [...]}``; ``start(rate, id)``
    first declares another rate, ``end(id)`` ends the utterance (see the module docstring). Bad input
    raises :class:`~lstmkit.errors.LstmkitError` and leaves that stream as it was. The streams'
    state: ``state_dict()`` / ``load_state_dict(d)``, or a ``.json`` file, ``save(path)`` / ``restore(path)``."""

    mode = "state"
    # the /stream ops of its own, with the fields each takes (deploy.served.OP_FIELDS has the others)
    ops = {"start": ("op", "rate"), "end": ("op",)}

    def __init__(self, adapter, engine: str = "auto", run: str | Path | None = None,
                 max_streams: int | None = None):
        why = adapter.state_refusal()
        if why is not None:
            raise LstmkitError(f"this speech model cannot stream: {why}",
                               worded("transcribe whole recordings with POST /predict instead",
                                      "pass whole recordings to predict(files) instead"))
        self.adapter, self.spec = adapter, adapter.spec
        self.engine = resolve_engine(run, engine, adapter.preferred_engine)
        self.fingerprint = weights_fingerprint(run) if run is not None else ""
        layers, hidden = adapter.state_shape
        self._state_shape = (layers, 1, hidden)
        self._n_states = len(adapter.state_names)
        subsample = adapter.config.subsample
        self._field, self._stride = adapter.min_frames, 2 ** subsample
        if self.engine == "onnx":
            if run is None:
                raise no_saved_graph()
            self._runner = load_runner(run)
        else:
            self._graph = adapter.net
        self._live: dict[str, _Live] = {}
        self.max_streams = max_streams           # bound on open stream ids (None: unbounded)

    def __repr__(self) -> str:
        """The engine, the stream ids open and the bound on them: ``SpeechStream(engine='torch', streams=1)``."""
        bound = f", max_streams={self.max_streams}" if self.max_streams is not None else ""
        return f"{type(self).__name__}(engine={self.engine!r}, streams={len(self._live)}{bound})"

    # -- the stream -------------------------------------------------------------------------
    def _fresh(self, rate: int | None = None) -> _Live:
        return _Live(self.spec.dim, [np.zeros(self._state_shape, np.float32) for _ in range(self._n_states)],
                     self.spec.rate if rate is None else rate, self.spec.rate)

    def _check_room(self) -> None:
        if self.max_streams is not None and len(self._live) >= self.max_streams:
            raise too_many_streams(self.max_streams)

    def start(self, rate: Any, id: str = "default") -> dict[str, Any]:
        """Declare that stream ``id``'s chunks come at ``rate`` Hz (before its first chunk, or after
        :meth:`end`); each is resampled to the model's rate as it comes. -> ``{"rate", "model_rate"}``."""
        rate, id = _stream_rate(rate), stream_id(id)
        live = self._live.get(id)
        if live is not None and live.seen:
            raise LstmkitError(f"stream {id!r} has begun at {live.rate} Hz ({live.steps} chunks): a rate is "
                               "declared before the first chunk", "end the utterance first (end, or reset to drop "
                               "it), then start again")
        if live is None:
            self._check_room()
        keep_slot(self._live, id, self._fresh(rate), self.max_streams)
        return {"rate": rate, "model_rate": self.spec.rate}

    def end(self, id: str = "default") -> dict[str, Any]:
        """End stream ``id``'s utterance: the audio its resampler still holds is heard, and the
        transcript answered, ``{"transcript", "seconds"}``; the next chunk starts a new utterance
        at the rate declared (a stream that never began ends as an empty transcript)."""
        id = stream_id(id)
        live = self._live.get(id)
        if live is None:
            return {"transcript": "", "seconds": 0.0}
        if live.resampler is not None:     # heard by a copy: a decode that fails leaves the stream as it was
            heard, live = self._heard(live, live.resampler.copy().flush()), copy.copy(live)
            live.samples, live.frames, live.state, live.last, live.ids, live.log_probs = heard
        answer = {"transcript": self.adapter.est.symbols_.decode(self._final_ids(live)),
                  "seconds": round(live.seen / live.rate, 4)}
        if live.rate == self.spec.rate:
            del self._live[id]
        else:
            self._live[id] = self._fresh(live.rate)
        return answer

    def _final_ids(self, live: _Live) -> list[int]:
        """The utterance's symbols as ``transcribe`` decodes the whole recording: the run's beam and
        language model over every log-probability heard (the partials are greedy: they never change,
        and the transcript at the end equalled ``transcribe(beam=1)`` alone, where the run's beam is 4)."""
        fusion = self.adapter.fusion(None)
        if live.log_probs is None or (self.adapter.config.beam == 1 and fusion is None):
            return live.ids                                   # greedy (a state saved before log-probs were kept)
        lp = (np.concatenate(live.log_probs) if live.log_probs
              else np.zeros((0, len(self.adapter.est.symbols_)), np.float32))
        return decode(lp, self.adapter.config.beam, fusion)

    def step(self, message: Any, id: str = "default") -> dict[str, Any]:
        id = stream_id(id)                                    # 3 and "3" are one stream, None the default
        live = self._live.get(id)
        chunk = self._chunk(message, self.spec.rate if live is None else live.rate)
        if live is None:
            self._check_room()
            live = self._fresh()
        resampler = live.resampler.copy() if live.resampler is not None else None
        heard = self._heard(live, resampler(chunk) if resampler is not None else chunk)
        # the new state replaces the old only now: a failure above leaves the stream as it was
        live.samples, live.frames, live.state, live.last, live.ids, live.log_probs = heard
        live.resampler = resampler
        live.steps += 1
        live.seen += chunk.size
        peak = float(np.abs(chunk).max())
        first_loud, live.loud = peak > 1.0 and not live.loud, live.loud or peak > 1.0
        keep_slot(self._live, id, live, self.max_streams)
        answer = {"partial": self.adapter.est.symbols_.decode(live.ids), "seconds": round(live.seen / live.rate, 4)}
        return warned(answer, f"stream {id!r} chunk {live.steps}", peak if first_loud else None)

    def _heard(self, live: _Live, audio: np.ndarray) -> tuple:
        """``(samples, frames, state, last, ids, log_probs)`` of ``live`` after ``audio`` at the model's
        rate (``live`` itself unchanged)."""
        samples = np.concatenate([live.samples, audio])
        n = frame_count(samples.size, self.spec)
        frames = live.frames
        if n:
            new = log_mel(samples[: (n - 1) * self.spec.hop + self.spec.n_fft], self.spec)
            frames = np.concatenate([frames, self.adapter.est.normalizer_(new)])
            samples = samples[n * self.spec.hop:]
        m = 0 if len(frames) < self._field else (len(frames) - self._field) // self._stride + 1
        state, last, ids, kept = live.state, live.last, live.ids, live.log_probs
        if m:
            log_probs, state = self._run(frames[None, : (m - 1) * self._stride + self._field], state)
            path = log_probs[0].argmax(axis=-1).tolist()
            ids = ids + collapse(path, last)
            last, frames = path[-1], frames[m * self._stride:]
            kept = None if kept is None else [*kept, np.asarray(log_probs[0], np.float32)]
        return samples, frames, state, last, ids, kept

    def _run(self, x: np.ndarray, state: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Features ``[1, L, F]`` from ``state`` -> (log-probabilities ``[1, T', V]``, new state)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if self.engine == "onnx":
            return self._runner.run(x, state, lengths=np.array([x.shape[1]], np.int64))
        given = tuple(torch.from_numpy(s) for s in state)
        with torch.inference_mode():
            y, out = self._graph.run(torch.from_numpy(x), None, given if len(given) == 2 else given[0])
        out = out if isinstance(out, tuple) else (out,)
        return y.numpy(), [s.numpy() for s in out]

    def _chunk(self, message: Any, rate: int) -> np.ndarray:
        """A chunk's samples (float32) at ``rate`` Hz, checked."""
        if isinstance(message, dict):
            if set(message) != {"audio"}:
                raise LstmkitError(f"a chunk object takes only 'audio', got {sorted(message)!r}",
                                   "send a list of samples, or {\"audio\": [samples...]}")
            message = message["audio"]
        message = _samples_array(message)
        if isinstance(message, np.ndarray):       # in Python, samples come as an array (a list in JSON)
            _check_array(message)
        elif not isinstance(message, (list, tuple)) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in message):
            raise LstmkitError("a chunk must be a list of numbers (audio samples)",
                               f"send samples at {rate} Hz: [0.01, -0.02, ...] or {{\"audio\": [...]}}")
        if not len(message):
            raise LstmkitError("the chunk is empty", "send at least one sample")
        if len(message) > MAX_CHUNK_SECONDS * rate:
            raise LstmkitError(f"the chunk holds {len(message)} samples, over {MAX_CHUNK_SECONDS:g} s at "
                               f"{rate} Hz", "send shorter chunks")
        try:
            chunk = np.asarray(message, dtype=np.float64)
        except OverflowError:
            chunk = np.array([np.inf])
        if not np.isfinite(chunk).all() or (np.abs(chunk) > np.finfo(np.float32).max).any():
            raise LstmkitError("the chunk holds a sample that is not a finite float32 number",
                               "send finite samples (in [-1, 1])")
        return chunk.astype(np.float32)

    # -- bookkeeping ------------------------------------------------------------------------
    def reset(self, id: str | None = None) -> None:
        """Forget stream ``id``, or every stream (as :meth:`lstmkit.deploy.Stream.reset`)."""
        if id is None:
            self._live.clear()
        else:
            self._live.pop(stream_id(id), None)

    def steps(self, id: str = "default") -> int:
        live = self._live.get(stream_id(id))
        return live.steps if live is not None else 0

    def state_dict(self, ids=None) -> dict[str, Any]:
        """Every (or the listed) stream's state as JSON-able data, tied to the weights."""
        asked = asked_ids(ids)                 # one id alone is that stream; one that has heard nothing is saved so
        chosen = self._live if asked is None else {i: self._live.get(i) for i in asked}
        return {"task": "speech", "mode": self.mode, "fingerprint": self.fingerprint,
                "streams": {i: live.to_dict() if live is not None else {"steps": 0} for i, live in chosen.items()}}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        """Restore streams saved by :meth:`state_dict` (all checked before any is replaced)."""
        if not isinstance(d, dict) or not isinstance(d.get("streams"), dict) or "fingerprint" not in d:
            # without a fingerprint it was told "saved from other weights — start the streams afresh"
            raise LstmkitError("not a speech stream's state (it holds its \"streams\" and the weights' \"fingerprint\")",
                               "pass the object state_dict() returned")
        if d.get("task") != "speech":          # a forecaster's or lm's state was "saved from other weights"
            whose = (f"a task {shown(d['task'])} stream's" if "task" in d else "a forecaster's or sequence classifier's"
                     if d.get("format") == "lstmkit-stream" else "another model's")
            raise LstmkitError(f"this stream state is {whose}, not a speech stream's",
                               "restore the object a speech stream's state_dict() returned")
        if d.get("fingerprint") != self.fingerprint:
            raise LstmkitError("this stream state was saved from other weights", "start the streams afresh")
        restored = {str(i): self._restored(s) for i, s in d["streams"].items()}
        self._live.update(restored)

    def save(self, path: str | Path, ids=None) -> Path:
        """Write every (or the listed) stream's state to a ``.json`` file (atomically), as a forecaster's
        or language model's stream saves (it was an AttributeError here)."""
        path = Path(path)
        if path.suffix != ".json":
            raise LstmkitError(f"unknown state file type {path.suffix or path.name!r} for a speech stream",
                               "use .json (a speech stream's state keeps its symbol ids and counts beside its arrays)")
        write_json(path, self.state_dict(ids))
        return path

    def restore(self, path: str | Path) -> None:
        """Read streams saved by :meth:`save` (checked as :meth:`load_state_dict` checks them)."""
        self.load_state_dict(read_state_file(path))

    def _restored(self, s: Any) -> _Live:
        live = self._fresh()
        if s == {"steps": 0}:                            # a stream that has seen nothing yet
            return live
        try:
            unknown_field(s, list(_FIELDS))
            rate = _whole(s.get("rate", self.spec.rate))     # states saved before rates: the model's
            if not MIN_RATE <= rate <= MAX_RATE or (rate == self.spec.rate and s.get("resampler") is not None):
                raise ValueError(f"rate {rate}")
            live = self._fresh(rate)
            if live.resampler is not None:
                live.resampler = BlockResampler.restored(rate, self.spec.rate, s["resampler"], eager=True)
            live.steps, live.seen, live.last = (_whole(s[k]) for k in ("steps", "seen", "last"))
            live.ids = [_whole(i) for i in s["ids"]]
            live.samples = np.asarray(s["samples"], np.float32)
            live.frames = np.asarray(s["frames"], np.float32).reshape(-1, self.spec.dim)
            live.state = [np.asarray(a, np.float32).reshape(self._state_shape) for a in s["state"]]
            live.loud = s.get("loud", False)             # states saved before it was kept: not warned yet
            kept = s.get("log_probs")                     # states saved before they were kept: end() is greedy
            live.log_probs = None if kept is None and live.steps else [] if not kept else [_log_probs(kept)]
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            said = f" ({e})" if str(e).startswith("unknown field") else ""
            raise LstmkitError(f"a stream state is malformed{said}",
                               "restore the object state_dict() returned") from None
        ok = (len(live.state) == self._n_states and isinstance(live.loud, bool) and live.samples.ndim == 1
              and live.samples.size < self.spec.n_fft + self.spec.hop
              and len(live.frames) < self._field + self._stride and min(live.steps, live.seen) >= 0
              and all(0 <= i < len(self.adapter.est.symbols_) for i in [live.last, *live.ids])
              and all(np.isfinite(a).all() for a in [live.samples, live.frames, *live.state]))
        if not ok:
            raise LstmkitError("a stream state is malformed", "restore the object state_dict() returned")
        return live


def _log_probs(kept: Any) -> np.ndarray:
    """A saved stream's log-probabilities ``[T', V]``; a ValueError when they are not a table of them."""
    a = np.asarray(kept, np.float32)
    if a.ndim != 2 or np.isnan(a).any() or (a > 0).any():
        raise ValueError("log_probs")
    return a


# what a stream's saved state holds (_Live.to_dict)
_FIELDS = ("steps", "seen", "samples", "frames", "state", "last", "ids", "loud", "rate", "resampler", "log_probs")


def _stream_rate(rate: Any) -> int:
    """A declared sample rate: a whole number of Hz (16000.0 is 16000) that holds speech and a recorder
    writes; else an LstmkitError naming the field (``rate``, for the service)."""
    whole = isinstance(rate, (int, np.integer, float, np.floating)) and not isinstance(rate, (bool, np.bool_)) \
        and np.isfinite(rate) and float(rate).is_integer()
    if not whole or not MIN_RATE <= rate <= MAX_RATE:
        raise BadRequest(["rate"], f"a stream's rate must be a whole number of Hz from {MIN_RATE} to {MAX_RATE}, got "
                           f"{shown(rate.item() if isinstance(rate, np.generic) else rate)}",
                           "declare the rate the samples were recorded at, in Hz (8000, 16000, 44100, ...)")
    return int(rate)


def _whole(value: Any) -> int:
    """A count or symbol id of a saved state: a JSON whole number (5.0, "5" and true were read as 5 and 1)."""
    if type(value) is not int:
        raise TypeError(f"{value!r} is not a whole number")
    return value


def _samples_array(message: Any) -> Any:
    """A chunk Python holds as samples as their array: a torch tensor, a pandas Series, or a list of
    numpy's scalars (``list(x)`` of an array), which keep their type (integer PCM is refused as an
    integer array is, not read as floats at full scale). Anything else (JSON's list of numbers) as it is."""
    if hasattr(message, "detach") and hasattr(message, "cpu"):
        return tensor_as_array(message)
    if hasattr(message, "to_numpy") and getattr(message, "ndim", 0) == 1:
        return message.to_numpy()
    if isinstance(message, (list, tuple)) and any(isinstance(v, np.generic) for v in message):
        return np.asarray(message)
    return message


def _check_array(a: np.ndarray) -> None:
    """A chunk array holds one channel of float samples; an integer array (PCM counts) or one of
    several channels is one error saying how to convert it."""
    if a.ndim != 1:
        raise LstmkitError(f"a chunk must be one channel of samples, got an array of shape {a.shape}",
                           "mix it down to one channel first (the mean over the channel axis)")
    if not np.issubdtype(a.dtype, np.floating):
        hint = (f"scale {a.dtype} PCM to floats in [-1, 1] first, e.g. x / {2 ** (8 * a.itemsize - 1)}"
                if np.issubdtype(a.dtype, np.signedinteger) else "send float samples in [-1, 1]")
        raise LstmkitError(f"a chunk array must hold float samples, got {a.dtype}", hint)
