"""Saving and restoring the streams of a :class:`~lstmkit.deploy.streaming.Stream`: what each
stream id keeps (:class:`StreamSlot`) and that as plain data.

    state_dict(ids) / load_state_dict(d)    JSON-able: a header, then each stream's steps and arrays
    save(path, ids) / restore(path)         the same as ``.json`` or ``.safetensors`` (written
                                            atomically; nothing is unpickled)

The header (mode, input size, state names, window, a :class:`~lstmkit.deploy.streaming.StreamExtra`'s
own header) must match the stream restoring it, and so must the weights' fingerprint; a malformed
stream record is refused whole, the streams already open are left as they were. A task's own stream
(lm's ``LMStream``) keeps its own slots and overrides ``_header``, ``_arrays``, ``_slot_from`` and
``load_state_dict`` (its own header checks first).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from lstmkit.deploy.adapter import shown
from lstmkit.errors import LstmkitError
from lstmkit.runs import atomic_write, write_json

__all__ = ["StreamSlot", "SavedStreams", "read_state_file", "unknown_field", "stream_id", "asked_ids"]

_FORMAT = "lstmkit-stream"
_VERSION = 1                 # the stream-state layout this lstmkit writes and reads (older ones, when there are)


def stream_id(id: Any) -> str:
    """The key of stream ``id`` in every task's stream: ``None`` is the default stream, as leaving
    ``id`` out is (it opened a separate stream named ``"None"``); else its text (``1`` is ``"1"``)."""
    return "default" if id is None else str(id)


def asked_ids(ids: Any) -> list[str] | None:
    """The stream keys a ``state_dict(ids)`` / ``save(path, ids)`` names (None: every stream): one id
    given alone (``ids="sensor-1"``) is that stream, not its characters' (which saved none of them,
    silently), and each id is keyed as :func:`stream_id` keys a step's (``None``, ``1``)."""
    if ids is None:
        return None
    if isinstance(ids, (str, bytes, int)) or not hasattr(ids, "__iter__"):
        ids = [ids]
    return [stream_id(i) for i in ids]


@dataclass
class StreamSlot:
    """What a :class:`~lstmkit.deploy.streaming.Stream` keeps for one stream id."""

    steps: int = 0
    state: list[np.ndarray] = field(default_factory=list)     # state mode: [L, 1, H] each
    window: np.ndarray | None = None                          # window mode: [n <= window, I]
    live: Any = None              # the fast step's own state; when set, `state` is stale
    aux: Any = None               # a StreamExtra's own data
    mark: Any = None              # a plain stream's StreamMark (JSON-able)


class SavedStreams:
    """The saving half of :class:`~lstmkit.deploy.streaming.Stream` (its base class). It reads the
    stream's ``mode``, ``input_size``, ``window``, ``state_names``, ``state_shape``, ``fingerprint``,
    ``extra``, its slots by id (``_slots``) and its fast step (``_fast``, whose live state is turned
    back into arrays before saving)."""

    def __repr__(self) -> str:
        """The mode, the stream ids open and the bound on them: ``Stream(mode='state', streams=2)``."""
        shown_window = f", window={self.window}" if self.mode == "window" else ""
        bound = f", max_streams={self.max_streams}" if self.max_streams is not None else ""
        return f"{type(self).__name__}(mode={self.mode!r}{shown_window}, streams={len(self._slots)}{bound})"

    def _header(self) -> dict[str, Any]:
        return {"format": _FORMAT, "version": _VERSION, "mode": self.mode, "fingerprint": self.fingerprint,
                "input_size": self.input_size, "state": list(self.state_names), "window": self.window,
                **({"extra": self.extra.header()} if self.extra is not None else {})}

    def _arrays(self, slot: StreamSlot) -> dict[str, np.ndarray]:
        """A stream's state arrays (float32) by name; a StreamExtra's own are :meth:`_extra_arrays`."""
        if self.mode == "state":
            if slot.live is not None:
                slot.state, slot.live = self._fast.arrays(slot.live), None
            return dict(zip(self.state_names, slot.state))
        return {"window": slot.window} if slot.window is not None else {}

    def _extra_arrays(self, slot: StreamSlot) -> dict[str, np.ndarray]:
        return self.extra.arrays(slot.aux) if self.extra is not None and slot.aux is not None else {}

    def _fields(self, slot: StreamSlot) -> dict[str, Any]:
        if getattr(self, "mark", None) is not None and slot.mark is not None:
            return self.mark.fields(slot.mark)
        return self.extra.fields(slot.aux) if self.extra is not None and slot.aux is not None else {}

    def state_dict(self, ids: Iterable[str] | None = None) -> dict[str, Any]:
        """Plain JSON-able state of the given streams (default: all)."""
        asked = asked_ids(ids)
        chosen = self._slots if asked is None else {i: self._slots[i] for i in asked if i in self._slots}
        streams = {i: {"steps": s.steps, **self._fields(s),
                       **{k: v.tolist() for k, v in {**self._arrays(s), **self._extra_arrays(s)}.items()}}
                   for i, s in chosen.items()}
        # a stream asked for that has read nothing is saved as such, as the service's {"op": "state"} saves it,
        # so that restoring it starts that stream afresh (it was left out: a restore left the stream as it was)
        fresh = {i: {"steps": 0} for i in asked or () if i not in chosen}
        return {**self._header(), "streams": {**streams, **fresh}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore streams from :meth:`state_dict` output (others are left as they are)."""
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise LstmkitError("not an lstmkit stream state", "pass what Stream.state_dict() or save() wrote")
        # a newer lstmkit's layout was read as this one's (its "version" was written and never read back)
        version = state.get("version", _VERSION)
        if type(version) is not int or version < 1:
            raise LstmkitError(f"stream state has version {shown(version)}, not a positive whole number (damaged)",
                               "take the state again with state_dict() or save()")
        if version > _VERSION:
            from lstmkit.version import __version__
            raise LstmkitError(f"this stream state was written by a newer lstmkit (stream state version {version}); "
                               f"this is lstmkit {__version__}, which restores version {_VERSION}",
                               "upgrade lstmkit (pip install -U lstmkit) to restore it, or start the streams afresh")
        header = self._header()
        for key in ("mode", "input_size", "state", "window", "extra"):
            if state.get(key) != header.get(key):
                raise LstmkitError(f"stream state has {key} {shown(state.get(key))}, this stream {shown(header.get(key))}",
                                   "restore state into a stream of the same model and mode")
        if state.get("fingerprint") and self.fingerprint and state["fingerprint"] != self.fingerprint:
            raise LstmkitError("this stream state belongs to other model weights",
                               "restore it into a stream of the model that saved it")
        streams = state.get("streams", {})
        if not isinstance(streams, dict):
            raise LstmkitError(f"stream state has streams {type(streams).__name__}, not an object of stream ids",
                               "pass what Stream.state_dict() or save() wrote")
        slots = {}
        for id, rec in streams.items():
            try:
                slots[str(id)] = self._slot_from(rec)
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                raise LstmkitError(f"stream {id!r} in the state is malformed ({e})",
                                   "take the state again with state_dict() or save()") from None
        for id, slot in slots.items():
            if slot is None:                          # a stream saved before its first step: it starts afresh
                self._slots.pop(id, None)
                self._warned.discard(id)
            else:
                self._slots[id] = slot

    def _slot_from(self, rec: dict[str, Any]) -> StreamSlot | None:
        """A saved stream's slot; None for one saved before its first step (``{"steps": 0}``, what the
        service's ``{"op": "state"}`` gives a new stream, which was refused as malformed: 'h' missing)."""
        steps = rec["steps"]
        if type(steps) is not int or steps < 0:
            raise ValueError(f"steps {shown(steps)} is not a count")
        if rec == {"steps": 0}:
            return None
        # a misspelt "nonzero" was read as a state saved before the flags, a misspelt field of a series'
        # stream passed over: every field is one the stream writes
        mark = getattr(self, "mark", None) if self.extra is None else self.extra
        unknown_field(rec, ["steps", *(self.state_names if self.mode == "state" else ["window"]),
                            *(mark.keys if mark is not None else [])])
        slot = StreamSlot(steps=steps)
        if self.extra is not None and steps:
            slot.aux = self.extra.restore(rec, steps)
        if getattr(self, "mark", None) is not None and steps:     # a state saved before marks: their default
            slot.mark = self.mark.restore(rec, steps)
        if self.mode == "state":
            with np.errstate(over="ignore"):          # beyond float32 becomes inf, refused below
                slot.state = [np.asarray(rec[n], dtype=np.float32) for n in self.state_names]
            want = (self.state_shape[0], 1, self.state_shape[1])
            if any(s.shape != want for s in slot.state):
                raise ValueError(f"state shape {slot.state[0].shape}, expected {want}")
            arrays = slot.state
        elif "window" in rec and self.extra is None:
            with np.errstate(over="ignore"):
                window = np.asarray(rec["window"], dtype=np.float32)
            window = window.reshape(0, self.input_size) if window.size == 0 else window
            # rows of another width were re-cut silently (2 rows of 3 values read as 3 rows of 2), as
            # state mode refuses an array of another shape
            if window.ndim != 2 or window.shape[1] != self.input_size:
                raise ValueError(f"window of shape {window.shape}, expected rows of {self.input_size} values")
            if len(window) != min(steps, self.window):
                raise ValueError(f"{len(window)} window rows after {steps} steps, expected {min(steps, self.window)}")
            slot.window, arrays = window, [window]
        else:
            if steps and self.extra is None:
                raise ValueError(f"no window rows after {steps} steps")
            arrays = []
        if not all(np.isfinite(a).all() for a in arrays):
            raise ValueError("values that are not finite float32 numbers")
        return slot

    def save(self, path: str | Path, ids: Iterable[str] | None = None) -> Path:
        """Write the streams' state to ``.json`` or ``.safetensors`` (atomically)."""
        path = Path(path)
        if path.suffix == ".json":
            write_json(path, self.state_dict(ids))
            return path
        if path.suffix != ".safetensors":
            raise LstmkitError(f"unknown state file type {path.suffix!r}", "use .json or .safetensors")
        from safetensors.numpy import save
        chosen = self.state_dict(ids)["streams"]
        header, tensors = {**self._header(), "streams": {}}, {}
        for k, (id, rec) in enumerate(chosen.items()):
            slot = self._slots.get(id)
            if slot is None:                          # asked for, and has read nothing
                header["streams"][id] = {**rec, "index": k}
                continue
            header["streams"][id] = {"steps": rec["steps"], "index": k, **self._fields(slot)}
            for name, value in self._arrays(slot).items():
                tensors[f"{k}.{name}"] = np.ascontiguousarray(value, dtype=np.float32)
            for name, value in self._extra_arrays(slot).items():     # in their own dtype (float64 history)
                tensors[f"{k}.{name}"] = np.ascontiguousarray(value)
        data = save(tensors, metadata={"lstmkit_stream": json.dumps(header)})
        # bytes into the file atomic_write made: safetensors' save_file re-creates it 0600 (the
        # .json state and every run file get the umask's mode, 0644 under the usual 022)
        atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
        return path

    def restore(self, path: str | Path) -> None:
        """Read streams saved by :meth:`save` (JSON or safetensors; nothing is unpickled)."""
        self.load_state_dict(read_state_file(path))


def unknown_field(rec: dict[str, Any], known: list[str]) -> None:
    """A ValueError naming the first field of a saved stream's record ``rec`` that is none of ``known``
    (a hand-edited state's misspelt field was passed over, its value's default read in its place)."""
    unknown = [k for k in rec if k not in known]
    if unknown:
        raise ValueError(f"unknown field {shown(unknown[0])}; a stream's state holds {', '.join(known)}")


def read_state_file(path: str | Path) -> Any:
    """The state a stream's ``save`` wrote to ``path`` (``.json``, else safetensors; nothing is
    unpickled), for its ``load_state_dict``; a missing, damaged or foreign file is one error."""
    path = Path(path)
    if not path.is_file():
        raise LstmkitError(f"stream state file not found: {path}", "check the path")
    try:
        if path.suffix == ".json":
            return json.loads(path.read_text(encoding="utf-8"))
        from safetensors import safe_open
        with safe_open(str(path), framework="numpy") as f:
            state = json.loads((f.metadata() or {})["lstmkit_stream"])
            for id, rec in state["streams"].items():
                k = rec.pop("index")
                rec.update({n.split(".", 1)[1]: f.get_tensor(n) for n in f.keys() if n.split(".")[0] == str(k)})
        return state
    except Exception as e:     # JSON, safetensors and key errors: the file is not ours or damaged
        raise LstmkitError(f"{path} is not a readable stream state ({type(e).__name__})",
                           "pass a file written by Stream.save()") from None
