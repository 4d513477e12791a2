"""Resume state in one self-contained file, written so that a crash never loses the last one.

``checkpoints/last.safetensors`` is the checkpoint: its tensors are the model weights, the best
weights so far, the optimizer moments and the torch RNG states; its safetensors header carries
the rest as JSON (epoch, batch position, history, scheduler, early stopping, Python and NumPy RNG
states, ...) together with a SHA-256 of the tensor bytes and one of that state JSON. Because tensors and state travel in
one file, one ``os.replace`` commits both: a process killed while writing leaves the previous
checkpoint whole, and a file damaged later is detected by the hash instead of being trusted.
``checkpoints/last.json`` is a readable copy of the state, written afterwards, for people and
tools; loading never needs it. Nothing here unpickles.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load, save as st_save

from lstmkit.errors import EnvironmentProblem, LstmkitError, os_reason
from lstmkit.files import give_new_file_mode, replace_file, temp_prefix, write_fix
from lstmkit.runs import META_FILE, resume_call, safetensors_header, write_json

__all__ = ["CHECKPOINT_FILE", "CHECKPOINT_VERSION", "save_checkpoint", "write_readable_state", "load_checkpoint",
           "read_checkpoint_bytes", "parse_checkpoint", "checkpoint_epochs", "optimizer_to_flat", "optimizer_from_flat"]

CHECKPOINT_FILE = "last.safetensors"
CHECKPOINT_VERSION = 1                 # the state's "version": a newer one is refused, not read as this one
_STATE_KEY = "lstmkit_state"
_HASH_KEY = "tensors_sha256"
_STATE_HASH_KEY = "state_sha256"       # absent in checkpoints written before it: not checked there


def optimizer_to_flat(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into tensors (for safetensors) and plain data (for JSON)."""
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, dict[str, Any]] = {}
    for pid, pstate in state["state"].items():
        for name, value in pstate.items():
            if torch.is_tensor(value):
                tensors[f"optim.{pid}.{name}"] = value
            else:
                plain.setdefault(str(pid), {})[name] = value
    return tensors, {"param_groups": state["param_groups"], "plain_state": plain}


def optimizer_from_flat(tensors: dict[str, torch.Tensor], data: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = value
    for pid, extra in data["plain_state"].items():
        state.setdefault(int(pid), {}).update(extra)
    return {"state": state, "param_groups": data["param_groups"]}


def save_checkpoint(folder: Path, *, model_state: dict[str, torch.Tensor],
                    optimizer: torch.optim.Optimizer, best_state: dict[str, torch.Tensor] | None,
                    rng_tensors: dict[str, torch.Tensor], state: dict[str, Any],
                    committed: Callable[[], None] | None = None) -> None:
    """Write ``folder/last.safetensors`` atomically and durably, then ``last.json``. ``committed()``
    is called between the two: from then on a resume continues from this checkpoint, even when
    Ctrl-C stops the readable copy's write."""
    tensors = {f"model.{k}": v for k, v in model_state.items()}
    if best_state is not None:
        tensors.update({f"best.{k}": v for k, v in best_state.items()})
    opt_tensors, opt_plain = optimizer_to_flat(optimizer.state_dict())
    tensors.update(opt_tensors)
    tensors.update(rng_tensors)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    state = {**state, "optimizer": opt_plain}
    # The tensor bytes do not depend on the metadata: serialised once, hashed, then given the header
    # that names their hash (serialising them again for it was half of each checkpoint's time)
    plain = st_save(tensors, metadata={"format": "pt"})
    text = json.dumps(state)
    parts = _with_metadata(plain, {_HASH_KEY: hashlib.sha256(_data_section(plain)).hexdigest(),
                                   _STATE_KEY: text, _STATE_HASH_KEY: _sha(text)})
    try:
        _durable_write(folder / CHECKPOINT_FILE, *parts)
    except OSError as e:
        raise _write_failed(folder, folder / CHECKPOINT_FILE, e, _previous_state(folder)) from None
    if committed is not None:
        committed()
    write_readable_state(folder, state)


def write_readable_state(folder: Path, state: dict[str, Any]) -> None:
    """``folder/last.json``: the checkpoint's state less the optimizer's, for people and tools (a
    resume rewrites it from the checkpoint, so one cut short before it was written is not left stale)."""
    try:
        write_json(folder / "last.json", {k: v for k, v in state.items() if k != "optimizer"})
    except (OSError, EnvironmentProblem) as e:       # the checkpoint itself is written: it is the intact one
        raise _write_failed(folder, folder / "last.json", e, state) from None


def checkpoint_epochs(folder: Path) -> int:
    """The epochs the checkpoint in ``folder`` holds, read from its header alone (the tensors are
    neither read nor checked): 0 when there is none or it cannot be read. What the line after
    Ctrl-C names before a resume has loaded the checkpoint."""
    try:
        with open(folder / CHECKPOINT_FILE, "rb") as f:
            size = f.read(8)
            (n,) = struct.unpack("<Q", size)
            header = _header(size + f.read(min(n, 1 << 26)))     # a header past 64 MiB: "longer than the file"
        epoch = json.loads(header["__metadata__"][_STATE_KEY])["epoch"]
    except (OSError, ValueError, KeyError, TypeError, struct.error, RecursionError):
        return 0
    return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) and epoch >= 0 else 0


def _previous_state(folder: Path) -> dict[str, Any] | None:
    """The state of the checkpoint already on disk (its readable copy), or None when there is none."""
    try:
        if not (folder / CHECKPOINT_FILE).is_file():
            return None
        state = json.loads((folder / "last.json").read_text(encoding="utf-8"))
        return state if isinstance(state, dict) else {}
    except (OSError, ValueError, RecursionError):
        return {}


def _write_failed(folder: Path, path: Path, e: BaseException, intact: dict[str, Any] | None) -> EnvironmentProblem:
    """One line: what failed, which checkpoint is intact, how to continue (exit 1)."""
    run = folder.parent
    try:
        meta = json.loads((run / META_FILE).read_text(encoding="utf-8"))
        task, kind = meta["task"], meta.get("kind")
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        task, kind = run.name.split("-", 1)[0] or "<task>", None
    if intact is None:
        kept, how = "no checkpoint was saved yet", f"{write_fix(e, folder)}, then train again"
    else:
        where = (f" (epoch {intact['epoch']}, step {intact['global_step']})"
                 if isinstance(intact.get("epoch"), int) and isinstance(intact.get("global_step"), int) else "")
        kept = f"the last good checkpoint {folder / CHECKPOINT_FILE}{where} is intact"
        how = f"{write_fix(e, folder)}, then continue with: {resume_call(run, task, kind)}"
    return EnvironmentProblem(f"could not write checkpoint {path} ({os_reason(e)}); {kept}", how)


def read_checkpoint_bytes(folder: Path) -> bytes | None:
    """The raw checkpoint, or None when the folder holds none (the run died before its first)."""
    path = Path(folder) / CHECKPOINT_FILE
    if not path.exists():
        return None
    if not path.is_file():
        raise LstmkitError(f"checkpoint {path} is not a file", "remove it, or start a new run")
    try:
        return path.read_bytes()
    except MemoryError:
        raise EnvironmentProblem(f"out of memory while reading checkpoint {path}; it is intact on disk",
                                 "free memory and resume again") from None
    except OSError as e:
        raise EnvironmentProblem(f"could not read checkpoint {path} ({os_reason(e)}); it is unchanged on disk",
                                 "fix the permissions or the disk, then resume again") from None


def parse_checkpoint(payload: bytes, where: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and state of a checkpoint; a damaged or foreign file is a clear LstmkitError."""
    corrupt = LstmkitError(f"checkpoint {where} is corrupt or truncated",
                           "start a new run (the checkpoint cannot be trusted)")
    try:
        header = _header(payload)
        tensors = st_load(payload)
    except (SafetensorError, ValueError, struct.error, json.JSONDecodeError, UnicodeDecodeError,
            RecursionError):                # a header nested past what the parser takes
        raise corrupt from None
    meta = header.get("__metadata__") or {}
    if _STATE_KEY not in meta or _HASH_KEY not in meta:
        raise LstmkitError(f"{where} is not an lstmkit checkpoint", "start a new run")
    if hashlib.sha256(_data_section(payload)).hexdigest() != meta[_HASH_KEY]:
        raise corrupt
    if _STATE_HASH_KEY in meta and _sha(meta[_STATE_KEY]) != meta[_STATE_HASH_KEY]:
        raise corrupt
    try:
        state = json.loads(meta[_STATE_KEY])
    except (json.JSONDecodeError, TypeError, RecursionError):
        raise corrupt from None
    if not isinstance(state, dict):
        raise corrupt
    return tensors, state


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_checkpoint(payload: bytes, where: Path) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor] | None,
                                                          dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
    """Returns (model_state, best_state or None, optimizer_state, rng_tensors, state)."""
    tensors, state = parse_checkpoint(payload, where)
    _check_state(state, where)
    model = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")} or None
    rng = {k: v for k, v in tensors.items() if k.startswith("rng.")}
    optim = optimizer_from_flat(tensors, state.pop("optimizer"))
    return model, best, optim, rng, state


_COUNTS = ("epoch", "pos", "global_step", "nan_used")
_OBJECTS = ("optimizer", "scheduler", "early_stopping", "acc", "model")


def _check_state(state: dict[str, Any], where: Path) -> None:
    """The trainer's state in a checkpoint: counts are non-negative integers, the parts it restores
    are there with their types (a hash proves the file is whole, not that its writer was lstmkit)."""
    def bad(key: str, what: str) -> LstmkitError:
        shown = repr(state[key]) if key in state else "missing"
        return LstmkitError(f"checkpoint {where} has a damaged state: {key!r} is {shown[:40]}, not {what}",
                            "start a new run (the checkpoint cannot be trusted)")
    version = state.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > CHECKPOINT_VERSION:
        raise LstmkitError(f"checkpoint {where} was written by a newer lstmkit (checkpoint format {version}, "
                           f"this one reads up to {CHECKPOINT_VERSION})",
                           "resume it with that lstmkit (pip install -U lstmkit), or start a new run")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise bad("version", "a format number")
    for key in _COUNTS:
        v = state.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise bad(key, "a count")
    for key in _OBJECTS:
        if not isinstance(state.get(key), dict):
            raise bad(key, "an object")
    history = state.get("history")
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise bad("history", "a list of epochs")
    if not isinstance(state.get("stopped"), bool):
        raise bad("stopped", "true or false")
    opt = state["optimizer"]
    if not isinstance(opt.get("param_groups"), list) or not isinstance(opt.get("plain_state"), dict):
        raise bad("optimizer", "an optimizer state")


def _header(payload: bytes) -> dict[str, Any]:
    return safetensors_header(payload)[0]


def _data_section(payload: bytes) -> memoryview:
    return memoryview(payload)[8 + safetensors_header(payload)[1]:]


def _with_metadata(payload: bytes, metadata: dict[str, str]) -> tuple[bytes, memoryview]:
    """The safetensors file ``payload`` with ``metadata`` added to its header's ``__metadata__``, as
    its two parts: the new header (its length first) and the tensors' bytes, a view of ``payload``'s,
    for :func:`_durable_write` to write one after the other (joined, every byte was copied once more).
    The tensors' offsets count from the end of the header, so their bytes follow the new one as they
    are; the header is padded with spaces to a multiple of 8 bytes, as safetensors pads it."""
    header = _header(payload)
    header["__metadata__"] = {**header.get("__metadata__", {}), **metadata}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text, _data_section(payload)


def _durable_write(path: Path, *payload: bytes | memoryview) -> None:
    """``payload``'s parts, one after the other, as the file ``path``: temp file in the same folder,
    fsync, rename: the old file stays whole until the rename, and the new one is on disk before it
    replaces the old (a power cut loses neither)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            give_new_file_mode(f.fileno(), tmp)          # mkstemp's 0600 -> what the umask allows
            for part in payload:
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
        replace_file(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
