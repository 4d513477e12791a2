"""What a task's ``compare`` bench builds on: the :class:`Trial` record, the :class:`TaskBench`
protocol, and the measurements every bench takes the same way.

Each task room supplies its bench in ``tasks/<task>/bench.py``; :mod:`lstmkit.compare` finds it
by the task's name and runs it. The measurements:

* ``measure_latency_ms``: median wall time of one forward pass in eval mode without autograd;
* ``activation_bytes``: the bytes of the distinct tensors autograd keeps for the backward pass
  of one training-mode forward (parameters excluded), measured with
  ``torch.autograd.graph.saved_tensors_hooks``. Deterministic, unlike RSS deltas that depend on
  the allocator; it is what grows with sequence length (T² attention maps, per-step states).
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from lstmkit.errors import LstmkitError
from lstmkit.train.progress import trial_settings

__all__ = ["Trial", "TaskBench", "ZooBench", "QUIET", "trial_shown", "measure_latency_ms", "activation_bytes",
           "make_trial", "check_zoo_models", "describe_source", "majority_reference", "int_range", "float_range",
           "choice", "VALIDATION_PART", "SEEDED_SPLIT", "TOKENS"]

QUIET = {"progress": "off", "tensorboard": False}      # what every bench run passes to its estimator


def trial_shown(bench: Any) -> dict[str, Any]:
    """What a bench's trial estimator is shown with: :func:`~lstmkit.train.progress.trial_settings` with the
    progress its comparison asks for (``bench.progress``, which ``compare`` sets: a trial of many minutes
    showed nothing until its line)."""
    return trial_settings(getattr(bench, "progress", "off"))


@dataclass
class Trial:
    """One model trained with one seed."""

    model: str
    seed: int
    params: int
    metrics: dict[str, float]
    train_s: float
    epochs: int
    windows_per_s: float
    latency_b1_ms: float
    latency_b256_ms: float
    act_mem_mb: float
    extra: dict[str, Any] = field(default_factory=dict)


class TaskBench(Protocol):
    """What a task provides to ``compare``: data once, then one trained :class:`Trial` per call.

    A room's ``bench.py`` names its bench class ``BENCH``; ``BENCH(data, **options)`` reads the
    data and fixes the held-out part."""

    name: str
    metrics: tuple[str, ...]           # metric columns of the table, first = headline
    higher_is_better: bool             # direction of the metrics (optional; False when absent)

    def check_models(self, models: list[str]) -> None: ...
    def run(self, model: str, seed: int, epochs: int) -> Trial: ...
    def reference_rows(self) -> dict[str, dict[str, float]]: ...   # e.g. baselines; may be empty
    def describe(self) -> dict[str, Any]: ...


class ZooBench:
    """What most benches share: models from the zoo, no reference rows, and the settings a bench
    records in ``describe_`` when it reads its data."""

    higher_is_better = False
    describe_: dict[str, Any] = {}
    progress = "off"                   # each trial's training display (compare sets it)

    def check_models(self, models: list[str]) -> None:
        check_zoo_models(models)

    def reference_rows(self) -> dict[str, dict[str, float]]:
        return {}

    def describe(self) -> dict[str, Any]:
        return dict(self.describe_)


# -- tune's search spaces, written by a room ----------------------------------------------------
def int_range(low: int, high: int, log: bool = False) -> dict[str, Any]:
    """A search-space entry: a whole number in ``[low, high]`` (log-uniform with ``log``)."""
    return {"type": "int", "low": low, "high": high, "log": log}


def float_range(low: float, high: float, log: bool = False) -> dict[str, Any]:
    """A search-space entry: a number in ``[low, high]`` (log-uniform with ``log``)."""
    return {"type": "float", "low": low, "high": high, "log": log}


def choice(*values: Any) -> dict[str, Any]:
    """A search-space entry: one of ``values``."""
    return {"type": "categorical", "choices": list(values)}


# what a setting changes in the validation loss tune ranks trials by: a room's TUNE_SHARED names its settings
# with these (or its own words), and a search space drawing one is refused (lstmkit.tune._check_comparable)
VALIDATION_PART = "which examples are the validation part the loss is a mean over"
SEEDED_SPLIT = "the seed that draws which examples are the validation part"
TOKENS = "the vocabulary whose tokens the validation loss is a mean over (more <unk>, a smaller loss)"


def measure_latency_ms(net: nn.Module, x: torch.Tensor, min_reps: int = 5, min_seconds: float = 0.2) -> float:
    """Median milliseconds of ``net(x)`` in eval mode without autograd, after two warm-up calls."""
    net.eval()
    times: list[float] = []
    with torch.inference_mode():
        for _ in range(2):
            net(x)
        start = time.perf_counter()
        while len(times) < min_reps or (time.perf_counter() - start < min_seconds and len(times) < 200):
            t0 = time.perf_counter()
            net(x)
            times.append(time.perf_counter() - t0)
    return 1000.0 * statistics.median(times)


def activation_bytes(net: nn.Module, x: torch.Tensor | tuple) -> int:
    """Bytes of the distinct storages autograd saves for backward in one training-mode forward
    of ``net`` on ``x`` (a tuple: spread over its arguments), parameters excluded."""
    params = {p.untyped_storage().data_ptr() for p in net.parameters()}
    seen: dict[int, int] = {}
    alive: list[torch.Tensor] = []

    def pack(t: torch.Tensor) -> None:
        # nothing saved in the graph: it is never run backward. Returning ``t`` saved a layer's own output
        # in its node (oneDNN's LSTM saves its outputs): a cycle through C++ that Python's collector cannot
        # see, so each call kept the graph and the network's parameters alive for good (every fit checks
        # its batch with this: a notebook's or tuning loop's process grew by each model it trained). The
        # tensors are held here until the forward ends, as the graph held them: a storage freed early was
        # reused by the next one at its address, and the two counted once (a batch beyond memory passed)
        s = t.untyped_storage()
        if s.data_ptr() not in params:
            seen[s.data_ptr()] = s.nbytes()
            alive.append(t)

    was_training = net.training
    net.train()
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda _: None):
            net(*x) if isinstance(x, tuple) else net(x)
    finally:
        alive.clear()
        net.train(was_training)
    return sum(seen.values())


def majority_reference(classes: list[str], test_labels: list[Any], train_labels: list[Any],
                       majority: int) -> dict[str, dict[str, float]]:
    """The majority-class reference row of a classification comparison: the accuracy and macro-F1 of
    always answering ``majority`` (the fitted model's class index) on ``test_labels``, scored as a model
    is (its macro-F1 averaged over the classes the test part holds or the answer names), and the
    calibration (nll, brier, ece) of the training class shares as probabilities (scikit-learn's
    DummyClassifier 'prior'): a one-hot answer would cost 36 nats a miss, and the shares are the NLL a
    model has to beat to know more than them. ``classes``: the model's, in its order."""
    import numpy as np

    from lstmkit.train.metrics import calibration, classification_metrics
    index = {c: k for k, c in enumerate(classes)}
    y = [index[v] for v in test_labels]
    always = np.zeros((len(y), len(classes)))
    always[:, majority] = 1.0
    ref = classification_metrics(y, always, classes)
    shares = np.bincount([index[v] for v in train_labels], minlength=len(classes))
    prior = calibration(y, np.tile(shares / shares.sum(), (len(y), 1)))
    return {"majority": {"accuracy": ref["accuracy"], "macro_f1": ref["macro_f1"],
                         **{k: prior[k] for k in ("nll", "brier", "ece")}}}


def make_trial(model: str, seed: int, net: nn.Module, history: list[dict[str, Any]], n_train: int,
               x1: torch.Tensor, x256: torch.Tensor, xb: torch.Tensor, metrics: dict[str, float],
               extra: dict[str, Any] | None = None, latency_net: nn.Module | None = None) -> Trial:
    """The :class:`Trial` of a trained ``net``: its parameters, training speed from ``history``
    (``n_train`` windows per epoch), latency at batch 1 (``x1``) and 256 (``x256``) of
    ``latency_net`` (default ``net``), and the activation memory of a training batch ``xb``."""
    train_s = float(sum(h["seconds"] for h in history))
    lat = latency_net if latency_net is not None else net
    return Trial(model=model, seed=seed, params=sum(p.numel() for p in net.parameters()), metrics=metrics,
                 train_s=train_s, epochs=len(history),
                 windows_per_s=n_train * len(history) / train_s if train_s > 0 else float("nan"),
                 latency_b1_ms=measure_latency_ms(lat, x1), latency_b256_ms=measure_latency_ms(lat, x256),
                 act_mem_mb=activation_bytes(net, xb) / 2**20, extra=dict(extra or {}))


def check_zoo_models(models: list[str]) -> None:
    """A clear error naming every model that is not in the zoo."""
    from lstmkit.nn.zoo import ENCODERS
    unknown = [m for m in models if m not in ENCODERS]
    if unknown:
        raise LstmkitError(f"unknown model{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
                           f"use any of: {', '.join(ENCODERS)}")


def describe_source(data) -> str:
    """How a bench names its data in the table's settings: the path, or the object's type."""
    return str(data) if isinstance(data, (str, Path)) else type(data).__name__
