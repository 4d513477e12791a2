"""The network a loaded int8 run answers with in Python: the engine its export chose, in one cache for every task.

``lstmkit export int8`` measures torch's int8 network and ONNX Runtime's int8 graph side by side and records the
one that becomes the run's engine (``quantization.engine`` in ``lstmkit.json``): ``serve`` answers with it, and so
does the run loaded in Python, through :func:`answering_net` -- the classifiers' ``predict_proba``, a translator's
``translate``, a language model's scores and samples, a speech model's transcripts and probabilities. The weights
file beside such a graph holds the int8 torch network measured with it (or the float weights, where torch's was not
kept): another model than the one the report and the service stand for, which answered in Python whatever the
export had chosen (the classifier until session 58, the language model and speech until 59).

:func:`note_loaded` keeps, when a run is loaded, its folder and the engine it recorded. :func:`answering_net`
returns ``net_`` or the task's graph network of that run (``graph(run)``, built once per estimator, network and run
folder, and kept here: one cache for the rooms, weakly keyed by the estimator, never pickled), re-checked on every
call by :func:`lstmkit.run_tie.engine_run`: the run folder's weights file (its stat, then its fingerprint) and the
estimator's network (:class:`~lstmkit.run_tie.NetMarks`: an optimizer's step on ``net_`` by hand, int8 networks'
included) are still the weights the graph was exported from; otherwise torch answers, with one warning saying why.
A refit, a resume or a model saved into another folder answers with its own network (its ``run_dir_`` is no longer
the folder loaded). The forecaster keeps its own (``tasks/forecast/fastpath.engine_net_cached``): its engine is
asked per call (``engine='torch'|'onnx'|'auto'``) and its one-window lane checks no more than it must.

Only ``errors`` and ``run_tie`` are imported (the base layer); how a room's graph is built (the engines layer) is the
``graph`` callable it passes.
"""
from __future__ import annotations

import warnings
import weakref
from pathlib import Path
from typing import Any, Callable

from lstmkit.errors import MissingPackage, callers_level
from lstmkit.run_tie import engine_run

__all__ = ["note_loaded", "recorded_engine", "answering_net"]

_KEY = "_loaded_engine"     # the estimator's (run folder, its recorded engine): pickled with it
# estimator -> (its net_, run folder, the network that answers for it): not pickled (a session's)
_ANSWERING: "weakref.WeakKeyDictionary[Any, tuple[Any, str, Any]]" = weakref.WeakKeyDictionary()


def note_loaded(est, run: str | Path, meta: dict[str, Any]) -> None:
    """``est`` was loaded from ``run``, whose ``lstmkit.json`` is ``meta``: the engine an int8 export recorded in it
    (None for any other run) is what :func:`answering_net` answers with while ``est`` stands for that run."""
    setattr(est, _KEY, (str(run), (meta.get("quantization") or {}).get("engine")))
    _ANSWERING.pop(est, None)


def recorded_engine(est) -> str | None:
    """The engine the int8 run ``est`` was loaded from recorded (``onnx``, ``torch``), while ``est``'s
    ``run_dir_`` is still that folder; None otherwise (not an int8 run, refitted, never loaded)."""
    loaded, run = vars(est).get(_KEY), getattr(est, "run_dir_", None)
    if loaded is None or run is None or str(run) != loaded[0]:
        return None
    return loaded[1]


def answering_net(est, graph: Callable[[Path], Any]) -> Any:
    """The network ``est`` answers with: ``net_``, or ``graph(run)`` where ``est`` was loaded from an int8 run whose
    export chose ONNX Runtime and the run still holds ``est``'s weights (:func:`lstmkit.run_tie.engine_run`, checked
    on every call: a folder saved over or a network trained in place answers with torch, as it says). ``graph``
    builds the room's network over the run's graph(s), with ``net_``'s call signature; without onnxruntime,
    ``net_`` answers, with one warning naming the package to install."""
    if recorded_engine(est) != "onnx":
        return est.net_
    run = engine_run(est)
    if run is None:                     # the folder's weights or the network moved since: torch answers, as said
        return est.net_
    own, hit = est.net_, _ANSWERING.get(est)
    if hit is not None and hit[0] is own and hit[1] == str(run):
        return hit[2]
    try:
        net = graph(Path(run))
    except MissingPackage as e:
        warnings.warn(f"{Path(run).name} is an int8 run whose model is its ONNX graph, and {e.message}: answering "
                      f"with the torch network saved beside it; {e.hint}", UserWarning, stacklevel=callers_level())
        net = own
    _ANSWERING[est] = (own, str(run), net)
    return net
