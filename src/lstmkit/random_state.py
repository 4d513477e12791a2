"""The process's random generators: torch's (and CUDA's once it is initialised), numpy's global one
and Python's ``random``. Read, set, and held by a fit for its length.

    torch_rng_tensors()       torch's states as tensors (a checkpoint's safetensors)
    py_rng_state()            numpy's and Python's, JSON-able (a checkpoint's JSON)
    set_rng_state(saved)      all of them from ``{"tensors": ..., "python": ...}``
    seed_epoch(seed)          all of them seeded (the trainer, at each epoch's start)
    held_random(wait=True)    ``with``: the generators are this block's; the caller's states come back after it
    lent_random()             ``with``, inside a held block: lent to other threads (a fit's callback), then back

A fit seeds torch's generator (``seed``) and draws its shuffles, dropout masks and first weights
from it; loading a model draws nothing (its network is built with zeros where a fit draws, then
filled with the saved weights: :func:`lstmkit.memory.built_without_draws`), so a load beside a fit
does not shift it. The generators are the process's, not the thread's, so:

* the caller's states are given back when the block ends: after ``fit`` a script's
  ``torch.rand`` went on from the fit's seed, whatever seed the script had set (each of its
  ``torch.manual_seed(s)`` runs then drew the same numbers after a fit);
* fits in threads of one process take turns (the block holds a process-wide lock): side by side,
  each drew from the generator the other was seeding and drawing from, and neither trained the
  model it trains alone (2 forecasters fitted in two threads: both differed from the same fit alone).
  Processes train side by side (``multiprocessing``, ``joblib``'s default ``loky``);
* a fit's callbacks run with the generators lent (:func:`lent_random`): a callback that waited on
  a fit in another thread waited for ever (that fit waited for the generators the callback's fit
  held), and one that fitted another estimator reseeded the generator the fit went on drawing from.
"""
from __future__ import annotations

import contextlib
import random
import threading
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    import torch

__all__ = ["torch_rng_tensors", "py_rng_state", "set_rng_state", "seed_epoch", "held_random", "lent_random"]

_HELD = threading.RLock()            # held by the thread whose block owns the generators
_DEPTH = threading.local()           # blocks this thread has open (n; the outermost gives the states back) and
                                     # how many of them hold the lock (held)


def py_rng_state() -> dict[str, Any]:
    import numpy as np                  # numpy and torch load once something draws (the CLI's help stays light)
    version, state, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {"python": [version, list(state), gauss],
            "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)]}


def seed_epoch(seed: int) -> None:
    """Seed torch's, numpy's and Python's generators for one epoch of a fit (the trainer's
    ``seed * 100_003 + epoch``). lstmkit draws from torch's alone, but a checkpoint records all three:
    numpy's and Python's, left unseeded, were whatever the process held, so two runs of the same seed
    wrote checkpoints that differed in 1,240 numbers of ``last.json``, and a library drawing from
    numpy's global generator in a fit drew another stream in each process."""
    import numpy as np
    import torch
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def torch_rng_tensors() -> dict[str, "torch.Tensor"]:
    import torch
    out = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            out[f"rng.cuda.{i}"] = s
    return out


def set_rng_state(saved: dict[str, Any]) -> None:
    import numpy as np
    import torch
    tensors, py = saved["tensors"], saved["python"]
    torch.set_rng_state(tensors["rng.torch"])
    cuda = [tensors[k] for k in sorted((k for k in tensors if k.startswith("rng.cuda.")),
                                       key=lambda k: int(k.rsplit(".", 1)[1]))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    version, state, gauss = py["python"]
    random.setstate((version, tuple(state), gauss))
    kind, keys, pos, has_gauss, cached = py["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))


@contextlib.contextmanager
def held_random(wait: bool = True) -> Iterator[None]:
    """The process's random generators are this block's, and the caller's states come back when it
    ends (however it ends). ``wait``: wait while another thread's block holds them (a fit); without
    it (a load, which only draws weights it overwrites) the block runs at once, and gives the states
    back only when no other thread's block holds them (that block gives back the caller's)."""
    held = _HELD.acquire(blocking=wait)
    depth = getattr(_DEPTH, "n", 0)
    saved = {"tensors": torch_rng_tensors(), "python": py_rng_state()} if held and depth == 0 else None
    _DEPTH.n = depth + 1
    _DEPTH.held = getattr(_DEPTH, "held", 0) + held
    try:
        yield
    finally:
        _DEPTH.n = depth
        _DEPTH.held -= held
        try:
            if saved is not None:
                set_rng_state(saved)
        finally:
            if held:
                _HELD.release()


@contextlib.contextmanager
def lent_random() -> Iterator[None]:
    """Inside this thread's :func:`held_random` blocks (a fit), lend the generators for this block (the
    fit's callback, someone else's code): other threads' fits may take them meanwhile, and this
    thread's own fits and loads in the block run as they would outside any. When it ends this
    thread holds them again (waiting while another thread's fit has them) with the states it had,
    so the fit draws what it would have drawn without the block. Outside a held block: nothing."""
    times = getattr(_DEPTH, "held", 0)
    if not times:
        yield
        return
    mine = {"tensors": torch_rng_tensors(), "python": py_rng_state()}
    depth = _DEPTH.n
    _DEPTH.n = _DEPTH.held = 0
    for _ in range(times):
        _HELD.release()
    try:
        yield
    finally:
        for _ in range(times):
            _HELD.acquire()
        _DEPTH.n, _DEPTH.held = depth, times
        set_rng_state(mine)
