"""ONNX Runtime under a run's exported graphs, and the engine a deployed model answers with.

    OnnxRunner(path)                    a session over an lstmkit graph: run(x, state, **extra) -> (y, state)
    OnnxNet(runner)                     the session behind a torch module's call (a drop-in for a task's net)
    LengthSortedOnnxNet(runner)         the same, rows run in length-sorted groups (a classifier's)
    load_runner(run, file=...)          a run's graph, refused when missing or exported from other weights
    graph_files(run)                    the ONNX files a run's task deploys with
    resolve_engine(run, engine)         ``torch`` or ``onnx`` (``auto``: ONNX when the run's graphs are fresh)
    engine_net(adapter, engine, run)    the network a model answers with under that engine

Writing and checking the graphs is :mod:`lstmkit.deploy.onnx`, which re-exports these names (the
public ONNX names stay importable from there; the service looks :func:`engine_net` up there).
"""
from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Sequence

import numpy as np
import torch
from torch import nn

from lstmkit.deploy.registry import adapter_class
from lstmkit.errors import LstmkitError, MissingPackage, callers_level, opt, optional_import, worded
from lstmkit.files import check_writable
from lstmkit.runs import read_meta, weights_fingerprint_kept

__all__ = ["ONNX_FILE", "ENGINES", "require_onnx", "import_onnxruntime", "OnnxRunner", "OnnxNet", "LengthSortedOnnxNet", "load_runner",
           "no_saved_graph", "graph_files", "resolve_engine", "engine_net"]

ONNX_FILE = "model.onnx"
ENGINES = ("auto", "torch", "onnx")


def require_onnx(needed_for: str = "ONNX export") -> None:
    """A :class:`~lstmkit.errors.MissingPackage` naming the extra to install when onnx or onnxruntime
    is missing (writing a graph needs both); ONNX Runtime's telemetry quiet where its id cannot be kept
    (:func:`_no_telemetry_where_unwritable`)."""
    optional_import("onnx", needed_for, "export")
    import_onnxruntime(needed_for)


def import_onnxruntime(needed_for: str = "the ONNX engine", otherwise: str | None = None) -> ModuleType:
    """The ``onnxruntime`` module, all that running an exported graph needs (a deployment may install
    it without ``onnx``: the ONNX engine was refused there for want of the exporter), or a
    :class:`~lstmkit.errors.MissingPackage` naming the extra (``otherwise``: another way out); imported
    with its telemetry quiet where its id cannot be kept."""
    _no_telemetry_where_unwritable()
    return optional_import("onnxruntime", needed_for, "export", otherwise=otherwise)


def _no_telemetry_where_unwritable() -> None:
    """Before ONNX Runtime is first imported: where its telemetry id cannot be written (a read-only
    home, a container's read-only file system), ``ORT_DISABLE_TELEMETRY=1``, as a user may set it. It
    printed "Failed to persist telemetry device ID" on standard error for every process that made a
    session: every predict of a read-only deployment. A value the user set is kept."""
    if "onnxruntime" in sys.modules or "ORT_DISABLE_TELEMETRY" in os.environ:
        return
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    try:
        check_writable(Path(cache) / "Microsoft" / "DeveloperTools" / ".onnxruntime", "ONNX Runtime's telemetry id")
    except LstmkitError:
        os.environ["ORT_DISABLE_TELEMETRY"] = "1"


class OnnxRunner:
    """An ONNX Runtime session over an lstmkit graph: ``run(x, state) -> (y, state)`` on numpy."""

    def __init__(self, path: str | Path, threads: int | None = None, quiet: bool = False,
                 config: dict[str, str] | None = None):
        ort = import_onnxruntime()
        self.path, self.config, self.threads = path, config, threads or torch.get_num_threads()
        self._single: OnnxRunner | None = None
        self._zero_cache: dict[int, list[np.ndarray]] = {}
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 4 if quiet else 3      # quiet: a failing check raises, ORT need not print
        for key, value in (config or {}).items():        # session config entries, e.g. a graph's spinning
            opts.add_session_config_entry(key, value)
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:     # onnxruntime raises its own exception types
            raise LstmkitError(f"could not load {path} ({str(e).splitlines()[0][:200]})",
                               f"re-export it: {_export_call('RUN')}") from None
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        state_inputs = [i for i in self.session.get_inputs()[1:] if i.name.endswith("0")]   # h0, c0
        self.state_inputs = [i.name for i in state_inputs]
        self.extra_inputs = [n for n in self.inputs[1:] if n not in self.state_inputs]     # e.g. lengths
        self.state_names = tuple(n[:-1] for n in self.state_inputs)
        self._state_shapes = [tuple(i.shape) for i in state_inputs]

    def __reduce__(self):
        """Refuse pickle and ``copy.deepcopy`` in one line: ONNX Runtime's session cannot be pickled,
        and a stream or net holding it raised TypeError ('cannot pickle ... InferenceSession')."""
        raise LstmkitError(f"an ONNX Runtime session ({Path(self.path).name}) cannot be pickled or copied",
                           "keep the state instead: stream.save(path) or state_dict(), restored on a new "
                           "model.stream(...); a model's save(folder) and load(folder); or use engine='torch'")

    def single_thread(self) -> OnnxRunner:
        """This graph in a session of one intra-op thread (this runner when it is one; made once):
        a batch-1 call of a small graph is a few thousand multiply-adds, less than handing half
        of it to a second thread costs (the tutorial forecaster: 0.27 ms on one, 0.31 ms on two)."""
        if self.threads == 1:
            return self
        if self._single is None:
            self._single = OnnxRunner(self.path, 1, quiet=True, config=self.config)
        return self._single

    def zero_state(self, batch: int) -> list[np.ndarray]:
        """The graph's initial state for ``batch`` sequences: zeros, one ``[layers, batch, hidden]`` array per state input."""
        return [np.zeros((s[0], batch, s[2]), np.float32) for s in self._state_shapes]

    def _zeros(self, batch: int) -> list[np.ndarray]:
        """:meth:`zero_state` of ``batch`` rows, read-only and kept for the next call of that size
        (ONNX Runtime reads its inputs only; a batch-1 forecast made new ones every call)."""
        cached = self._zero_cache.get(batch)
        if cached is None:
            cached = self.zero_state(batch)
            for a in cached:
                a.flags.writeable = False
            if len(self._zero_cache) < 8:
                self._zero_cache[batch] = cached
        return cached

    def run(self, x: np.ndarray, state: Sequence[np.ndarray] | None = None,
            **extra: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """``x [B, T, ...]`` and the state arrays (zeros if None) -> ``(y, state)``. A graph with a
        ``lengths`` input takes it as a keyword (every row full length when left out)."""
        if state is None or len(state) == 0:
            state = self._zeros(x.shape[0])
        feeds = {"x": x, **dict(zip(self.state_inputs, state))}
        unknown = sorted(set(extra) - set(self.extra_inputs))
        if unknown:
            raise LstmkitError(f"this ONNX graph has no input {unknown[0]!r}",
                               f"its inputs are: {', '.join(self.inputs)}")
        for name in self.extra_inputs:
            value = extra.get(name)
            if value is None and name == "lengths":
                value = np.full(x.shape[0], x.shape[1], np.int64)
            if value is None:
                raise LstmkitError(f"this ONNX graph needs the input {name!r}", f"pass {name}=... to run()")
            feeds[name] = np.ascontiguousarray(value, dtype=np.int64 if name == "lengths" else None)
        y, *out = self.session.run(self.outputs, feeds)
        return y, out

    __call__ = run

    def feed(self, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        """Run with every graph input by name (the inputs the graph does not declare are left
        out); the outputs by name, in the graph's order."""
        missing = [n for n in self.inputs if n not in inputs]
        if missing:
            raise LstmkitError(f"this ONNX graph needs the input {missing[0]!r}",
                               f"its inputs are: {', '.join(self.inputs)}")
        out = self.session.run(self.outputs, {n: inputs[n] for n in self.inputs})
        return dict(zip(self.outputs, out))


class OnnxNet(nn.Module):
    """An :class:`OnnxRunner` behind a torch module's call: ``x [B, L, I] -> y`` (or
    ``(x, lengths) -> y`` for a graph with lengths), zero state.

    A drop-in for a task's net at inference (it has no parameters to train or save)."""

    def __init__(self, runner: OnnxRunner):
        super().__init__()
        self.runner = runner

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        x = x.detach().cpu().numpy()
        x = np.ascontiguousarray(x, dtype=x.dtype if x.dtype == np.int64 else np.float32)
        extra = {"lengths": torch.as_tensor(lengths).cpu().numpy()} if lengths is not None else {}
        y, _ = self.runner.run(x, **extra)
        return torch.from_numpy(y)


class LengthSortedOnnxNet(OnnxNet):
    """An :class:`OnnxNet` over a graph ``(x, lengths) -> y`` whose answer for a row does not
    depend on the steps past its length (a classifier's): the rows run sorted by length, in
    groups of about ``rows``, each group cut to its longest length, and the answers come back in
    the caller's order.

    ONNX Runtime's LSTM steps every row of a batch to the batch's longest length (``sequence_lens``
    only masks), while torch's packed sequences stop each row at its own; grouped, the two engines
    compute about the same steps. Rows as long as a group's longest join that group (no padding
    added) up to ``most`` rows a call (twice ``rows`` by default): larger calls ran slower per row
    (LSTM-FCN's convolutions over 256 full-length rows: 2.8k rows/s in one call, 4.3k in calls of
    32-128). Lengths outside ``[1, steps]`` go to the graph as one batch, as :class:`OnnxNet` does.
    """

    def __init__(self, runner: OnnxRunner, rows: int = 32, most: int | None = None):
        super().__init__(runner)
        self.rows = rows
        self.most = most or 2 * rows

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is None:
            return super().forward(x)
        n = np.asarray(torch.as_tensor(lengths).cpu().numpy(), dtype=np.int64)
        if x.shape[0] <= 1 or n.ndim != 1 or len(n) != x.shape[0] or n.min() < 1 or n.max() > x.shape[1]:
            return super().forward(x, lengths)
        x = x.detach().cpu().numpy()
        x = np.ascontiguousarray(x, dtype=x.dtype if x.dtype == np.int64 else np.float32)
        order = np.argsort(n, kind="stable")
        ranked = n[order]
        if len(n) <= self.most and ranked[min(self.rows, len(n)) - 1] == ranked[-1]:   # one group: as it is, cut
            y, _ = self.runner.run(np.ascontiguousarray(x[:, :ranked[-1]]), lengths=n)
            return torch.from_numpy(y)
        y, start = None, 0
        while start < len(order):
            longest = ranked[min(start + self.rows, len(order)) - 1]
            end = min(int(np.searchsorted(ranked, longest, side="right")), start + self.most)
            rows = order[start:end]
            part, _ = self.runner.run(x[rows, :longest], lengths=ranked[start:end])
            if y is None:
                y = np.empty((len(order), *part.shape[1:]), part.dtype)
            y[rows] = part
            start = end
        return torch.from_numpy(y)


def load_runner(run: str | Path, threads: int | None = None, file: str = ONNX_FILE,
                config: dict[str, str] | None = None) -> OnnxRunner:
    """The ONNX graph ``file`` of a run, refused when missing or exported from other weights
    (``config``: ONNX Runtime session config entries, see :class:`OnnxRunner`). ONNX Runtime is
    imported once a graph is there: the engine ``auto`` asks every run, and importing it writes a
    telemetry id under ``~/.cache`` (with a read-only home, a warning on every predict)."""
    run = Path(run)
    path = run / file
    if not path.is_file():
        raise LstmkitError(f"{run} has no {file}", f"export it first: {_export_call(run)}")
    import_onnxruntime(otherwise=f"answer with {opt('engine', 'torch')}")     # the same numbers, from the weights
    runner = OnnxRunner(path, threads, config=config)
    if "lstmkit_fingerprint" not in runner.metadata:      # another tool's graph: not "other weights"
        raise LstmkitError(f"{path} is not a graph lstmkit exported (it carries no lstmkit weights fingerprint)",
                           f"export the run's own: {_export_call(run)}")
    if runner.metadata.get("lstmkit_fingerprint") != weights_fingerprint_kept(run):   # read again once changed
        raise LstmkitError(f"{path} was exported from other weights than {run}'s",
                           f"re-export it: {_export_call(run)}")
    return runner


def _export_call(run: str | Path) -> str:
    """How the caller exports a run's graph: the command on the command line, the model's method from
    Python (a predict(engine='onnx') was told to run 'lstmkit export onnx --run RUN')."""
    return worded(f"lstmkit export onnx --run {run}", "export('onnx') on the fitted model")


def graph_files(run: str | Path) -> tuple[str, ...]:
    """The ONNX files a run's task deploys with: its adapter's ``onnx_files_of(meta)`` (files that
    depend on the run's settings, e.g. a seq2seq speech model's two graphs) or ``onnx_files``,
    else ``model.onnx``."""
    try:
        meta = read_meta(run)
        cls = adapter_class(meta["task"])
    except (LstmkitError, KeyError):
        return (ONNX_FILE,)
    of_run = getattr(cls, "onnx_files_of", None)
    return tuple(of_run(meta) if of_run is not None else getattr(cls, "onnx_files", (ONNX_FILE,)))


def _has_fresh_onnx(run: Path) -> bool:
    """Whether the run's graphs are there and answer for its weights. A graph that is there and cannot
    (exported from other weights -- a model updated and saved over its run --, cut short by a copy, another
    tool's) is passed over with one warning saying why: ``auto`` answered with torch without a word, and
    the service's ``engine`` said only "torch". Without onnxruntime the run answers with torch, as said."""
    files = graph_files(run)
    try:
        for file in files:
            load_runner(run, file=file)
        return True
    except MissingPackage:
        return False
    except LstmkitError as e:
        if any((run / file).is_file() for file in files):
            warnings.warn(f"engine auto answers with torch: {e.message} — {e.hint} (or pass "
                          f"{opt('engine', 'torch')} to say so)", UserWarning, stacklevel=callers_level())
        return False


def no_saved_graph() -> LstmkitError:
    """The error for the ONNX engine asked of a model with no saved run, in the caller's words."""
    return LstmkitError("the ONNX engine needs a saved run with an exported graph",
                        worded("save the model, then run 'lstmkit export onnx --run RUN'",
                               "save the model, then export its graph: model.save(folder); model.export('onnx')"))


def resolve_engine(run: str | Path | None, engine: str = "auto", preferred: str | None = None) -> str:
    """``torch`` or ``onnx``. ``auto``: the engine an int8 export chose (``preferred``), else ONNX
    when the run holds its graphs exported from its current weights, else torch."""
    if engine not in ENGINES:
        raise LstmkitError(f"unknown engine {engine!r}", f"use one of: {', '.join(ENGINES)}")
    if engine != "auto":
        return engine
    if preferred in ("torch", "onnx"):
        return preferred
    return "onnx" if run is not None and _has_fresh_onnx(Path(run)) else "torch"


def engine_net(adapter, engine: str = "auto", run: str | Path | None = None) -> nn.Module:
    """The network an adapter's model answers with under ``engine``: its own net, or ``run``'s
    ONNX graph (see :func:`resolve_engine`; ``run`` is None for a model not saved as it is).
    A task with several graphs answers through its adapter's ``onnx_net(run)``."""
    chosen = resolve_engine(run, engine, adapter.preferred_engine)
    if chosen == "torch":
        return adapter.net
    if run is None:
        raise no_saved_graph()
    hook = getattr(adapter, "onnx_net", None)
    return hook(Path(run)) if hook is not None else OnnxNet(load_runner(run))
