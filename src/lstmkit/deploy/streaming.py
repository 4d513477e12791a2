"""Streaming inference: one observation in, one answer out, recurrent state kept per stream id.

>>> s = forecaster.stream()                  # lstmkit.deploy.Stream
>>> s.step(412.3, id="sensor-1")             # forecast [horizon, targets] after this observation
>>> s.save("state.safetensors"); s.reset(); s.restore("state.safetensors")

What ``y_t`` means for a window forecaster. Two modes, both exact:

* ``state`` — carry the encoder's ``(h, c)`` (GRU: ``h``). ``y_t`` is the forecast the network
  makes after reading the **whole history so far** from a zero state, i.e. ``net(x[:, :t+1])``;
  each step costs one recurrent step. Needs a one-directional LSTM/GRU encoder in absolute mode.
* ``window`` — keep the last ``lookback`` observations and run the network over them; ``y_t``
  equals ``predict()`` on that history (before ``lookback`` observations: on what there is).
  Any encoder works. A ``relative`` forecaster must use it: it subtracts the newest value from
  every input of the window, so the state of earlier steps cannot be carried forward.

``mode="auto"`` picks ``state`` where it applies and ``window`` otherwise.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch

from lstmkit.deploy.registry import weights_fingerprint
from lstmkit.errors import LstmkitError
from lstmkit.runs import atomic_write, write_json

__all__ = ["Stream", "TorchCore", "TorchLstmStep", "make_stream", "MODES"]

MODES = ("auto", "state", "window")
_FORMAT = "lstmkit-stream"


class TorchCore:
    """A :class:`~lstmkit.deploy.stateful.StatefulNet` as ``(x [B, T, I], state) -> (y, state)`` on numpy."""

    def __init__(self, graph: torch.nn.Module):
        self.graph = graph.eval()
        self.state_names = tuple(graph.state_names)

    def __call__(self, x: np.ndarray, state: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        with torch.inference_mode():
            out = self.graph(torch.from_numpy(x), *(torch.from_numpy(s) for s in state))
        if not self.state_names:
            return out.numpy(), []
        y, *st = out
        return y.numpy(), [s.numpy() for s in st]


class TorchLstmStep:
    """The torch engine's state-mode step for a forecaster with a one-directional LSTM encoder.

    Computes exactly what :class:`TorchCore` over the stateful graph computes for one step (the
    same per-layer ``lstm_cell`` calls, then the head), without the module calls, the stacking
    of ``[L, 1, H]`` state, the numpy round trips and the scaler arrays of the general path:
    the weights are looked up once, a scalar observation is scaled with two precomputed floats,
    and the state stays per-layer ``(h, c)`` tensors between steps (numpy only on save).
    :meth:`build` returns None for any net it does not reproduce exactly (use the general path).
    """

    def __init__(self, adapter, net: torch.nn.Module):
        enc = net.encoder
        self.encode_row, self.input_size = adapter.encode_row, adapter.input_size
        scale, offset = adapter._affine
        T = len(adapter.cfg.target)
        self._scale0, self._offset0 = float(scale[0]), float(offset[0])
        self._out_scale, self._out_offset = scale[:T].copy(), offset[:T].copy()
        self._out_shape = (net.horizon, T)
        self._layers = [enc._layer_weights(k, 0) for k in range(enc.num_layers)]
        head = net.head
        self._head = head if type(head) is not torch.nn.Linear else None
        self._head_wb = (head.weight, head.bias) if self._head is None else None
        self._modules = (enc, net.dropout, head)               # eval mode is checked per step (ready)
        self.layers, self.hidden = enc.num_layers, enc.hidden_size
        zero = torch.zeros(1, enc.hidden_size)
        self.zero_state = tuple((zero, zero) for _ in range(enc.num_layers))

    @classmethod
    def build(cls, adapter) -> "TorchLstmStep | None":
        from lstmkit.nn.lstm import LSTM
        from lstmkit.tasks.forecast.model import ForecastNet
        net = adapter.net
        if type(net) is not ForecastNet or net.relative or type(net.encoder) is not LSTM:
            return None
        enc = net.encoder
        if enc.bidirectional or type(net.dropout) is not torch.nn.Dropout or not hasattr(adapter, "_affine"):
            return None
        params = [p for w in (enc._layer_weights(k, 0) for k in range(enc.num_layers)) for p in w if p is not None]
        if any(p.device.type != "cpu" or p.dtype != torch.float32 for p in params):
            return None
        return cls(adapter, net)

    def encode(self, x_t: Any) -> torch.Tensor:
        """One observation -> model input ``[1, I]`` (errors as ``adapter.encode_row``)."""
        x = np.empty((1, self.input_size), np.float32)
        if (type(x_t) is float or type(x_t) is int) and self.input_size == 1 and math.isfinite(x_t):
            x[0, 0] = x_t * self._scale0 + self._offset0          # float64 multiply-add, float32 store
        else:
            x[0] = self.encode_row(x_t)
        return torch.from_numpy(x)

    def ready(self) -> bool:
        """False while any part of the net is in training mode (the general path then runs it)."""
        return not any(m.training for m in self._modules)

    def live(self, state: list[np.ndarray]) -> tuple:
        """Per-layer ``(h [1, H], c [1, H])`` from saved ``[L, 1, H]`` arrays (zeros if none)."""
        if not state:
            return self.zero_state
        h, c = (torch.from_numpy(np.array(a, dtype=np.float32)) for a in state)     # own, writable copies
        return tuple((h[k], c[k]) for k in range(self.layers))

    @staticmethod
    def arrays(live: tuple) -> list[np.ndarray]:
        """Per-layer state -> ``[h [L, 1, H], c [L, 1, H]]`` numpy arrays."""
        return [np.stack([s[j].numpy() for s in live]) for j in (0, 1)]

    def step(self, x: torch.Tensor, live: tuple) -> tuple[np.ndarray, tuple]:
        """One step: ``(forecast in original units, new state)``."""
        grad = torch.is_grad_enabled()
        torch._C._set_grad_enabled(False)
        try:
            inp, new = x, []
            for w, (h, c) in zip(self._layers, live):
                hc = _lstm_cell(inp, (h, c), *w)
                new.append(hc)
                inp = hc[0]
            y = _linear(inp, *self._head_wb) if self._head is None else self._head(inp)
        finally:
            torch._C._set_grad_enabled(grad)
        y = y.numpy().reshape(self._out_shape).astype(np.float64)
        return (y - self._out_offset) / self._out_scale, tuple(new)


_lstm_cell = torch._VF.lstm_cell
_linear = torch._C._nn.linear


@dataclass
class _Slot:
    steps: int = 0
    state: list[np.ndarray] = field(default_factory=list)     # state mode: [L, 1, H] each
    window: np.ndarray | None = None                          # window mode: [n <= window, I]
    live: tuple | None = None     # TorchLstmStep's per-layer (h, c); when set, `state` is stale


class Stream:
    """Step a model through observations, one stream id at a time.

    Args:
        core: ``(x [1, T, I] float32, state) -> (y [1, ...], state)``, e.g. :class:`TorchCore`
            or :class:`~lstmkit.deploy.onnx.OnnxRunner`.
        input_size: values per observation after ``encode``.
        encode: one observation -> ``[I]`` float32 model input (default: ``np.asarray``).
        decode: model output ``[...]`` for one stream -> the answer (default: identity).
        mode: ``state`` or ``window`` (see the module docstring).
        window: observations one forecast reads in ``window`` mode.
        state_shape: ``(layers, hidden)`` of each state tensor in ``state`` mode.
        fingerprint: the weights this state belongs to; restoring another model's state is refused.
        max_streams: bound on open stream ids (None: unbounded).
    """

    def __init__(self, core: Callable, input_size: int, *, encode: Callable | None = None,
                 decode: Callable | None = None, mode: str = "state", window: int | None = None,
                 state_shape: tuple[int, int] | None = None, fingerprint: str | None = None,
                 max_streams: int | None = None, fast: TorchLstmStep | None = None):
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
        self._slots: dict[str, _Slot] = {}
        self._zeros = [np.zeros((state_shape[0], 1, state_shape[1]), np.float32)
                       for _ in self.state_names] if mode == "state" else []
        self._fast = fast if mode == "state" else None

    # -- stepping ----------------------------------------------------------------------------
    def step(self, x_t: Any, id: str = "default") -> Any:
        """Feed one observation to stream ``id`` (created on first use); return its answer."""
        fast = self._fast
        if fast is not None and fast.ready():                    # torch engine, LSTM forecaster
            x = fast.encode(x_t)                                 # validates before a slot is made
            slot = self._slots.get(id) if type(id) is str else None
            if slot is None:
                slot = self._slot(str(id))
            live = slot.live
            y, slot.live = fast.step(x, live if live is not None else fast.live(slot.state))
            slot.steps += 1
            return y
        row = self.encode(x_t)                                   # [I]
        slot = self._slot(str(id))
        if self.mode == "state":
            if slot.live is not None:                            # the fast path ran this slot before
                slot.state, slot.live = fast.arrays(slot.live), None
            y, slot.state = self.core(row.reshape(1, 1, -1), slot.state or self._zeros)
        else:
            w = row.reshape(1, -1) if slot.window is None else np.concatenate([slot.window, row[None]])
            slot.window = w[-self.window:]
            y, _ = self.core(slot.window[None], [])
        slot.steps += 1
        return self.decode(y[0])

    def run(self, xs: Iterable[Any], id: str = "default") -> list[Any]:
        """:meth:`step` over a sequence of observations; returns every answer."""
        return [self.step(x, id) for x in xs]

    def _slot(self, id: str) -> _Slot:
        slot = self._slots.get(id)
        if slot is None:
            if self.max_streams is not None and len(self._slots) >= self.max_streams:
                raise LstmkitError(f"too many open streams ({self.max_streams})", "reset() finished streams")
            slot = self._slots[id] = _Slot()
        return slot

    def reset(self, id: str | None = None) -> None:
        """Forget stream ``id`` (its next step starts from a zero state), or every stream."""
        if id is None:
            self._slots.clear()
        else:
            self._slots.pop(str(id), None)

    @property
    def ids(self) -> list[str]:
        return list(self._slots)

    def steps(self, id: str = "default") -> int:
        slot = self._slots.get(str(id))
        return slot.steps if slot else 0

    # -- saving and restoring state -------------------------------------------------------------
    def _header(self) -> dict[str, Any]:
        return {"format": _FORMAT, "version": 1, "mode": self.mode, "fingerprint": self.fingerprint,
                "input_size": self.input_size, "state": list(self.state_names), "window": self.window}

    def _arrays(self, slot: _Slot) -> dict[str, np.ndarray]:
        if self.mode == "state":
            if slot.live is not None:
                slot.state, slot.live = self._fast.arrays(slot.live), None
            return dict(zip(self.state_names, slot.state))
        return {"window": slot.window} if slot.window is not None else {}

    def state_dict(self, ids: Iterable[str] | None = None) -> dict[str, Any]:
        """Plain JSON-able state of the given streams (default: all)."""
        chosen = self._slots if ids is None else {str(i): self._slots[str(i)] for i in ids if str(i) in self._slots}
        streams = {i: {"steps": s.steps, **{k: v.tolist() for k, v in self._arrays(s).items()}}
                   for i, s in chosen.items()}
        return {**self._header(), "streams": streams}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore streams from :meth:`state_dict` output (others are left as they are)."""
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise LstmkitError("not an lstmkit stream state", "pass what Stream.state_dict() or save() wrote")
        for key in ("mode", "input_size", "state", "window"):
            if state.get(key) != self._header()[key]:
                raise LstmkitError(f"stream state has {key} {state.get(key)!r}, this stream {self._header()[key]!r}",
                                   "restore state into a stream of the same model and mode")
        if state.get("fingerprint") and self.fingerprint and state["fingerprint"] != self.fingerprint:
            raise LstmkitError("this stream state belongs to other model weights",
                               "restore it into a stream of the model that saved it")
        slots = {}
        for id, rec in state.get("streams", {}).items():
            try:
                slots[str(id)] = self._slot_from(rec)
            except (KeyError, TypeError, ValueError) as e:
                raise LstmkitError(f"stream {id!r} in the state is malformed ({e})", "save the state again") from None
        self._slots.update(slots)

    def _slot_from(self, rec: dict[str, Any]) -> _Slot:
        slot = _Slot(steps=int(rec["steps"]))
        if self.mode == "state":
            slot.state = [np.asarray(rec[n], dtype=np.float32) for n in self.state_names]
            want = (self.state_shape[0], 1, self.state_shape[1])
            if any(s.shape != want for s in slot.state):
                raise ValueError(f"state shape {slot.state[0].shape}, expected {want}")
        elif "window" in rec:
            slot.window = np.asarray(rec["window"], dtype=np.float32).reshape(-1, self.input_size)[-self.window:]
        return slot

    def save(self, path: str | Path, ids: Iterable[str] | None = None) -> Path:
        """Write the streams' state to ``.json`` or ``.safetensors`` (atomically)."""
        path = Path(path)
        if path.suffix == ".json":
            write_json(path, self.state_dict(ids))
            return path
        if path.suffix != ".safetensors":
            raise LstmkitError(f"unknown state file type {path.suffix!r}", "use .json or .safetensors")
        from safetensors.numpy import save_file
        chosen = self.state_dict(ids)["streams"]
        header, tensors = {**self._header(), "streams": {}}, {}
        for k, (id, rec) in enumerate(chosen.items()):
            header["streams"][id] = {"steps": rec["steps"], "index": k}
            for name, value in self._arrays(self._slots[id]).items():
                tensors[f"{k}.{name}"] = np.ascontiguousarray(value, dtype=np.float32)
        atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata={"lstmkit_stream": json.dumps(header)}))
        return path

    def restore(self, path: str | Path) -> None:
        """Read streams saved by :meth:`save` (JSON or safetensors; nothing is unpickled)."""
        path = Path(path)
        if not path.is_file():
            raise LstmkitError(f"stream state file not found: {path}", "check the path")
        try:
            if path.suffix == ".json":
                state = json.loads(path.read_text())
            else:
                from safetensors import safe_open
                with safe_open(str(path), framework="numpy") as f:
                    state = json.loads((f.metadata() or {})["lstmkit_stream"])
                    for id, rec in state["streams"].items():
                        k = rec.pop("index")
                        rec.update({n.split(".", 1)[1]: f.get_tensor(n) for n in f.keys() if n.split(".")[0] == str(k)})
        except Exception as e:     # JSON, safetensors and key errors: the file is not ours or damaged
            raise LstmkitError(f"{path} is not a readable stream state ({type(e).__name__})",
                               "pass a file written by Stream.save()") from None
        self.load_state_dict(state)


def make_stream(adapter, mode: str = "auto", engine: str = "auto", run: str | Path | None = None,
                max_streams: int | None = None) -> Stream:
    """A :class:`Stream` over a task adapter (:mod:`lstmkit.deploy.adapter`)."""
    if mode not in MODES:
        raise LstmkitError(f"unknown stream mode {mode!r}", f"use one of: {', '.join(MODES)}")
    can_carry = bool(adapter.state_names) and not adapter.relative
    if mode == "auto":
        mode = "state" if can_carry else "window"
    if mode == "state" and not can_carry:
        why = ("it forecasts relative to the newest value, which shifts every earlier input"
               if adapter.relative else "its encoder has no one-directional LSTM/GRU state")
        raise LstmkitError(f"this model cannot stream by carrying state: {why}", "use mode='window' (exact, slower)")
    if engine == "auto":
        from lstmkit.deploy.onnx import resolve_engine
        engine = resolve_engine(run, "auto", getattr(adapter.est, "engine_", None))
    fast = None
    if engine == "onnx":
        from lstmkit.deploy.onnx import load_runner
        if run is None:
            raise LstmkitError("the ONNX engine needs a saved run", "save the model and export it first")
        core = load_runner(run)
    elif engine == "torch":
        core = TorchCore(adapter.stateful())
        fast = TorchLstmStep.build(adapter) if mode == "state" else None
    else:
        raise LstmkitError(f"unknown engine {engine!r}", "use auto, torch or onnx")
    return Stream(core, adapter.input_size, encode=adapter.encode_row, decode=adapter.decode, mode=mode,
                  window=adapter.window, state_shape=adapter.state_shape if mode == "state" else None,
                  fingerprint=weights_fingerprint(run) if run is not None else None, max_streams=max_streams,
                  fast=fast)
