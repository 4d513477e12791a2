"""Which run folder's exported engine may answer for a fitted model: the weights tie.

An exported graph (``model.onnx``, a translator's two, an int8 run's) is refused when its fingerprint is not that of
the weights file beside it (:func:`lstmkit.deploy.onnx_engine.load_runner`). That check reads the folder, not the
model in memory: a model loaded from a run whose folder another model was saved and exported over since (a retrain
saved with ``overwrite=True``, a copy over it) answered through the newer graph, weights it never had; a fit that
failed after building its network (a refusal of the data or batch size) left the old run folder named and its graph
answering. ``tie(est, run)`` records, when the model's weights are that run's (loaded, saved, fitted into it), the
run, its weights' fingerprint and the network that holds them; ``loose(est)`` says a fit is under way (the run it
names does not hold its weights yet); :func:`engine_run` is the run folder whose engine may answer, or None (torch
answers, with one warning saying why when a folder's weights or the network moved).

Both checks are kept cheap, as they run wherever an engine is resolved (each ``stream()``, a forecast ``predict`` whose
cache missed): the folder's fingerprint is read again only when the weights file's ``(st_dev, st_ino, st_size,
st_mtime_ns, st_ctime_ns)`` changed (a save writes a new file and renames it over: a new inode), not on every call
(a full read of a 50 MB file); the network's is computed again only when one of its tensors is not the one it was, or
was changed in place (its data pointer or torch's version counter moved): an optimizer's step on ``est.net_`` by
hand, which lstmkit's own code never does (a refit or an update builds a new network), answered through the old
graph without a word. What torch's counters do not see is not seen here: a write through ``p.data`` (``p.data.add_``,
``p.data.copy_``) bypasses them; write through the parameter under ``torch.no_grad()`` instead.
"""
from __future__ import annotations

import hashlib
import warnings
import weakref
from pathlib import Path
from typing import Any

from lstmkit.errors import callers_level
from lstmkit.runs import tensor_bytes, weights_fingerprint, weights_fingerprint_kept

__all__ = ["tie", "loose", "engine_run", "NetMarks"]

_KEY = "_weights_tie"       # the estimator's (run, fingerprint): pickled with it
MOVED = "moved"             # _net_print of a tied int8 network written in place since: no run's fingerprint
# network -> (its tensors' marks, the fingerprint of the weights they held then): when tied or last checked
_NETS: "weakref.WeakKeyDictionary[Any, tuple[NetMarks, str]]" = weakref.WeakKeyDictionary()


class NetMarks:
    """What a network's tensors (parameters and buffers) are now, cheaply: each one's identity (held weakly), data
    pointer and torch version counter, which every in-place write through the tensor moves (an optimizer's step, a
    ``copy_`` or ``load_state_dict``, ``add_`` under ``no_grad``). :meth:`holds` is whether they are still so: the
    same tensors, none written since. A write through ``tensor.data`` is not counted by torch, so not seen here."""

    __slots__ = ("refs", "marks")

    def __init__(self, net) -> None:
        tensors = _tensors(net)
        self.refs = [weakref.ref(t) for t in tensors]
        self.marks = [_mark(t) for t in tensors]

    def holds(self, net) -> bool:
        tensors = _tensors(net)
        return len(tensors) == len(self.refs) and all(
            r() is t and _mark(t) == m for r, t, m in zip(self.refs, tensors, self.marks))


def _tensors(net) -> list:
    """``[*net.parameters(), *net.buffers()]`` (the same tensors, in the same order), read from the module tables
    themselves: those two walk the tree through generators that build every module's name, most of a one-window
    forecast's engine check. Depth first, each module and tensor once (a shared one where it is first reached)."""
    modules, seen, stack = [], set(), [net]
    while stack:
        m = stack.pop()
        if id(m) not in seen:
            seen.add(id(m))
            modules.append(m)
            stack.extend(reversed([c for c in m._modules.values() if c is not None]))
    out, kept = [], set()
    for table in ("_parameters", "_buffers"):
        for m in modules:
            for t in getattr(m, table).values():
                if t is not None and id(t) not in kept:
                    kept.add(id(t))
                    out.append(t)
    return out


def _mark(t) -> tuple:
    try:
        return t.data_ptr(), t._version
    except RuntimeError:            # an inference tensor (made under inference_mode) keeps no version counter
        return t.data_ptr(), None


def tie(est, run: str | Path, fingerprint: str | None = None) -> None:
    """``est``'s network holds the weights of ``run``'s weights file now (``fingerprint``: theirs, when known)."""
    fingerprint = fingerprint or weights_fingerprint(run)
    setattr(est, _KEY, (Path(run), fingerprint))
    net = vars(est).get("net_")
    if net is not None:
        _NETS[net] = (NetMarks(net), fingerprint)


def loose(est, run: str | Path | None) -> None:
    """A fit into ``run`` (or into no folder) is under way: its folder does not hold the network's weights yet."""
    setattr(est, _KEY, (Path(run), None) if run is not None else None)


def engine_run(est) -> Path | None:
    """The run folder whose exported engine may answer for ``est``: its ``run_dir_`` while that folder's weights
    file and ``est``'s network are still the weights it was tied to; None (torch answers) when either moved. A model
    never tied (a run of an older session's pickle) keeps its ``run_dir_``, whose graphs the fingerprint check
    still refuses when they are not of the folder's weights."""
    run = getattr(est, "run_dir_", None)
    record = vars(est).get(_KEY)
    if run is None or record is None or record[0] != Path(run):
        return run
    if record[1] is None:           # a fit into it that has not finished
        return None
    try:
        now = weights_fingerprint_kept(run)
    except OSError:
        now = None
    if now != record[1]:
        _say(f"{run} holds other weights than this model's now (saved over since this model was loaded or saved)",
             "load the run again to answer with its new weights")
        return None
    if _net_print(est) not in (record[1], None):
        _say(f"this model's network is no longer the one saved in {run} (it was rebuilt or retrained since)",
             "save it to a folder and export that to answer with a graph")
        return None
    return run


def _net_print(est) -> str | None:
    """The fingerprint of ``est``'s network's weights as its save would write them (None: not known, e.g. an int8
    network, whose file holds its integers; :data:`MOVED`: such a network tied to a run and written in place since);
    kept per network and computed again when its tensors moved (:class:`NetMarks`): a network trained in place by
    hand answered through the graph of its old weights."""
    net = vars(est).get("net_")
    if net is None:
        return None
    known = _NETS.get(net)
    if known is not None and known[0].holds(net):
        return known[1]
    marks = NetMarks(net)
    fingerprint = None if getattr(est, "quantization_", None) else _state_print(est, net)
    if fingerprint is None:
        if known is None:           # never tied: nothing to tell it from
            return None
        # an int8 network (packed weights: what its file holds is not computed here) tied to a run and written in
        # place since (an optimizer's step on its float embeddings): not that run's weights any more. Its engine
        # answered, and the step raised AttributeError from the packed weights' state_dict, before
        fingerprint = MOVED
    _NETS[net] = (marks, fingerprint)
    return fingerprint


def _state_print(est, net) -> str | None:
    """The fingerprint of ``net``'s weights as ``est``'s save would write them; None where they cannot be read
    so (an int8 network's packed weights)."""
    try:
        data = tensor_bytes(net.state_dict(), metadata=est._weights_metadata())
    except (TypeError, ValueError, RuntimeError, AttributeError):     # packed int8 weights (torch's script objects)
        return None
    return hashlib.sha256(data).hexdigest()[:16]


def _say(why: str, fix: str) -> None:
    warnings.warn(f"{why}: the run's exported graphs are not this model's weights, so it answers with torch — {fix}",
                  UserWarning, stacklevel=callers_level())
