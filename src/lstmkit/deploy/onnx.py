"""ONNX export with explicit recurrent state, checked against PyTorch before it is written.

The graph is the task net with its state as inputs and outputs (LSTM encoders)::

    x [batch, steps, I], h0 [L, batch, H], c0 [L, batch, H]  ->  y, hn [L, batch, H], cn [L, batch, H]

(a GRU has only ``h``; encoders without carried state export ``x -> y``). An adapter with an
``extra_inputs(x, seed)`` hook adds named inputs after ``x`` (a classifier's ``lengths [batch]``, so
a padded batch answers as each sequence alone): ``x, lengths -> y``. Batch and sequence
length are dynamic. Export uses the TorchScript exporter (``dynamo=False``): torch 2.13's dynamo
exporter still fails on packed sequences, and the TorchScript one maps ``aten::lstm`` onto ONNX's
``LSTM`` op, which ONNX Runtime runs fused and can quantize (``DynamicQuantizeLSTM``).

A task whose deployment is more than one ``x -> y`` graph (translation: an encoder and a one-step
decoder) writes its own graphs through the adapter hooks ``export_graphs(folder, fingerprint,
tolerance)`` (each graph through :func:`write_graph`), ``onnx_files`` and ``onnx_net(run)``;
:func:`export_onnx`, :func:`resolve_engine` and :func:`engine_net` use them when present.
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from lstmkit.deploy.registry import adapter_class, adapter_for, weights_fingerprint
from lstmkit.errors import LstmkitError
from lstmkit.runs import atomic_write, read_meta, write_json

__all__ = ["ONNX_FILE", "OPSET", "TOLERANCE", "require_onnx", "export_onnx", "write_onnx", "write_graph", "extra_inputs",
           "OnnxRunner", "OnnxNet", "LengthSortedOnnxNet", "load_runner", "graph_files", "resolve_engine", "engine_net",
           "ENGINES", "set_metadata", "check_against_torch"]

ONNX_FILE = "model.onnx"
REPORT_FILE = "onnx.json"
OPSET = 17
TOLERANCE = 1e-4
ENGINES = ("auto", "torch", "onnx")


def require_onnx() -> None:
    """An LstmkitError naming the extra to install when onnx or onnxruntime is missing."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        raise LstmkitError("ONNX export needs the onnx and onnxruntime packages",
                           "pip install 'lstmkit[export]'") from None


def export_onnx(run: str | Path, out: str | Path | None = None, tolerance: float = TOLERANCE) -> Path:
    """Export a finished run's inference graph to ``RUN/model.onnx`` (or ``out``).

    The file appears only after ONNX Runtime reproduced PyTorch on fresh random inputs (a new
    batch size, sequence length and state) within ``tolerance``; ``RUN/onnx.json`` records the
    check. Returns the path written. A task with several graphs (an adapter with
    ``export_graphs``) writes them into ``RUN`` (or the folder ``out``) and returns the folder.
    """
    require_onnx()
    run = Path(run)
    if "quantization" in read_meta(run):
        raise LstmkitError(f"{run} is an int8 run; its ONNX graphs are already in it "
                           f"({', '.join(graph_files(run))})", "export ONNX from the original (float) run")
    adapter = adapter_for(run)
    graphs = getattr(adapter, "export_graphs", None)
    if graphs is not None:
        path = Path(out) if out is not None else run
        path.mkdir(parents=True, exist_ok=True)
        report = graphs(path, weights_fingerprint(run), tolerance)
    else:
        path = Path(out) if out is not None else run / ONNX_FILE
        own = getattr(adapter, "export_net", None)       # a room's own arrangement of the same graph
        report = write_onnx(adapter, path, fingerprint=weights_fingerprint(run), tolerance=tolerance,
                            traced=own() if own is not None else None)
    if out is None:
        write_json(run / REPORT_FILE, report)
    return path


def extra_inputs(adapter, x: torch.Tensor, seed: int = 0) -> dict[str, torch.Tensor]:
    """The adapter's graph inputs beside ``x`` and the state (e.g. ``{"lengths": [B]}``), or none."""
    hook = getattr(adapter, "extra_inputs", None)
    return dict(hook(x, seed)) if hook is not None else {}


def write_onnx(adapter, path: Path, fingerprint: str, tolerance: float = TOLERANCE,
               traced: nn.Module | None = None) -> dict[str, Any]:
    """Export ``adapter``'s stateful graph to ``path`` atomically, after the check passes.
    ``traced``: a module with the same inputs and outputs to trace instead (an adapter's
    ``export_net()``, e.g. lm's time-major graph); the check is still against the stateful net."""
    graph = adapter.stateful()
    names = adapter.state_names
    extras = list(extra_inputs(adapter, adapter.example_inputs(2)))
    report: dict[str, Any] = {}

    def write(tmp: str) -> None:
        t0 = time.perf_counter()
        _torch_export(graph if traced is None else traced, adapter, names, tmp)
        set_metadata(tmp, {"lstmkit_fingerprint": fingerprint, "lstmkit_task": adapter.task,
                           "lstmkit_state": ",".join(names)})
        diff = _checked(lambda: check_against_torch(OnnxRunner(tmp), graph, adapter), tolerance)
        report.update({"file": path.name, "opset": OPSET, "exporter": "torchscript (dynamo=False)",
                       "inputs": ["x", *extras, *(f"{n}0" for n in names)], "outputs": ["y", *(f"{n}n" for n in names)],
                       "dynamic_axes": ["batch", "steps"], "max_abs_diff": diff, "tolerance": tolerance,
                       "fingerprint": fingerprint, "seconds": round(time.perf_counter() - t0, 3)})
        if traced is not None:
            report["traced"] = type(traced).__name__

    atomic_write(path, write)
    return report


def write_graph(graph: nn.Module, path: Path, example: dict[str, torch.Tensor], fresh: dict[str, torch.Tensor],
                outputs: Sequence[str], dynamic_axes: dict[str, dict[int, str]], metadata: dict[str, str],
                tolerance: float = TOLERANCE) -> dict[str, Any]:
    """Export ``graph`` (called with ``example``'s values in order, named by its keys) to ``path``
    atomically, once ONNX Runtime reproduced every output on ``fresh`` inputs (other batch size
    and lengths) within ``tolerance``. ``metadata`` (e.g. ``lstmkit_fingerprint``) is stamped
    into the file. Returns the graph's report (file, inputs, outputs, max_abs_diff, ...)."""
    report: dict[str, Any] = {}

    def write(tmp: str) -> None:
        t0 = time.perf_counter()
        with warnings.catch_warnings():     # tracer notes about shape checks frozen into the graph
            warnings.simplefilter("ignore")
            torch.onnx.export(graph, tuple(example.values()), tmp, input_names=list(example),
                              output_names=list(outputs), dynamic_axes=dynamic_axes, opset_version=OPSET,
                              dynamo=False)
        set_metadata(tmp, metadata)
        diff = _checked(lambda: _max_abs_diff(OnnxRunner(tmp), graph, fresh), tolerance)
        report.update({"file": path.name, "opset": OPSET, "exporter": "torchscript (dynamo=False)",
                       "inputs": list(example), "outputs": list(outputs), "max_abs_diff": diff,
                       "tolerance": tolerance, "seconds": round(time.perf_counter() - t0, 3)})

    atomic_write(path, write)
    return report


def _checked(check, tolerance: float) -> float:
    """Run a graph check (ONNX Runtime vs PyTorch); its max abs difference, or one LstmkitError."""
    try:
        diff = check()
    except LstmkitError:
        raise
    except Exception as e:     # onnxruntime's own errors: the traced graph froze some shape
        first = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
        raise LstmkitError(f"the ONNX graph fails on a new batch size or length ({first})",
                           "this encoder does not export with dynamic shapes yet; nothing was written") from None
    if not diff <= tolerance:
        raise LstmkitError(f"the ONNX graph differs from PyTorch by {diff:.2e} (limit {tolerance:g})",
                           "report this model configuration as a bug; nothing was written")
    return diff


def _max_abs_diff(runner: "OnnxRunner", graph: nn.Module, inputs: dict[str, torch.Tensor]) -> float:
    """Max abs difference of every output of ``graph`` and ``runner`` on the same named inputs."""
    with torch.no_grad():
        ref = graph(*inputs.values())
    ref = list(ref) if isinstance(ref, (tuple, list)) else [ref]
    got = list(runner.feed(**{k: v.numpy() for k, v in inputs.items()}).values())
    if len(got) != len(ref):
        raise LstmkitError(f"the ONNX graph has {len(got)} outputs, PyTorch's {len(ref)}",
                           "report this model configuration as a bug; nothing was written")
    return max((float(np.abs(np.asarray(a, np.float64) - b.double().numpy()).max()) if b.numel() else 0.0)
               for a, b in zip(got, ref))


def _torch_export(graph: nn.Module, adapter, names: Sequence[str], path: str) -> None:
    x = adapter.example_inputs(2)
    extras = extra_inputs(adapter, x)
    state = _zero_state(adapter, 2)
    axes: dict[str, dict[int, str]] = {"x": {0: "batch", 1: "steps"}, "y": {0: "batch"}}
    axes.update({n: {0: "batch"} for n in extras})
    for n in names:
        axes[f"{n}0"] = {1: "batch"}
        axes[f"{n}n"] = {1: "batch"}
    with warnings.catch_warnings():     # tracer notes about shape checks frozen into the graph
        warnings.simplefilter("ignore")
        torch.onnx.export(graph, (x, *extras.values(), *state), path,
                          input_names=["x", *extras, *(f"{n}0" for n in names)],
                          output_names=["y", *(f"{n}n" for n in names)], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)


def _zero_state(adapter, batch: int) -> list[torch.Tensor]:
    if not adapter.state_names:
        return []
    layers, hidden = adapter.state_shape
    return [torch.zeros(layers, batch, hidden) for _ in adapter.state_names]


def set_metadata(path: str, props: dict[str, str]) -> None:
    """Stamp ``props`` into an ONNX file's metadata (e.g. ``lstmkit_fingerprint``), replacing
    entries of the same key."""
    import onnx
    model = onnx.load(path)
    entries = {p.key: p for p in model.metadata_props}
    for k, v in props.items():
        entry = entries.get(k) or model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(model, path)


def check_against_torch(runner: "OnnxRunner", graph: nn.Module, adapter, seed: int = 1) -> float:
    """Max abs difference of every output on fresh inputs: batch 3, window + 5 steps, random state."""
    g = torch.Generator().manual_seed(seed)
    x = adapter.example_inputs(3, (adapter.window or 1) + 5, seed=seed)
    extras = extra_inputs(adapter, x, seed)
    state = [0.5 * torch.randn(s.shape, generator=g) for s in _zero_state(adapter, 3)]
    with torch.no_grad():
        ref = graph(x, *extras.values(), *state)
    ref = list(ref) if isinstance(ref, tuple) else [ref]
    y, out_state = runner.run(x.numpy(), [s.numpy() for s in state], **{k: v.numpy() for k, v in extras.items()})
    got = [y, *out_state]
    return max(float(np.abs(a - b.numpy()).max()) for a, b in zip(got, ref))


class OnnxRunner:
    """An ONNX Runtime session over an lstmkit graph: ``run(x, state) -> (y, state)`` on numpy."""

    def __init__(self, path: str | Path, threads: int | None = None):
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or torch.get_num_threads()
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:     # onnxruntime raises its own exception types
            raise LstmkitError(f"could not load {path} ({str(e).splitlines()[0][:200]})",
                               "re-export it with 'lstmkit export onnx --run RUN'") from None
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        state_inputs = [i for i in self.session.get_inputs()[1:] if i.name.endswith("0")]   # h0, c0
        self.state_inputs = [i.name for i in state_inputs]
        self.extra_inputs = [n for n in self.inputs[1:] if n not in self.state_inputs]     # e.g. lengths
        self.state_names = tuple(n[:-1] for n in self.state_inputs)
        self._state_shapes = [tuple(i.shape) for i in state_inputs]

    def zero_state(self, batch: int) -> list[np.ndarray]:
        return [np.zeros((s[0], batch, s[2]), np.float32) for s in self._state_shapes]

    def run(self, x: np.ndarray, state: Sequence[np.ndarray] | None = None,
            **extra: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """``x [B, T, ...]`` and the state arrays (zeros if None) -> ``(y, state)``. A graph with a
        ``lengths`` input takes it as a keyword (every row full length when left out)."""
        if state is None or len(state) == 0:
            state = self.zero_state(x.shape[0])
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
    added); lengths outside ``[1, steps]`` go to the graph as one batch, as :class:`OnnxNet` does.
    """

    def __init__(self, runner: OnnxRunner, rows: int = 32):
        super().__init__(runner)
        self.rows = rows

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
        if ranked[min(self.rows, len(n)) - 1] == ranked[-1]:       # one group: the batch as it is, cut
            y, _ = self.runner.run(np.ascontiguousarray(x[:, :ranked[-1]]), lengths=n)
            return torch.from_numpy(y)
        y, start = None, 0
        while start < len(order):
            longest = ranked[min(start + self.rows, len(order)) - 1]
            end = int(np.searchsorted(ranked, longest, side="right"))
            rows = order[start:end]
            part, _ = self.runner.run(x[rows, :longest], lengths=ranked[start:end])
            if y is None:
                y = np.empty((len(order), *part.shape[1:]), part.dtype)
            y[rows] = part
            start = end
        return torch.from_numpy(y)


def load_runner(run: str | Path, threads: int | None = None, file: str = ONNX_FILE) -> OnnxRunner:
    """The ONNX graph ``file`` of a run, refused when missing or exported from other weights."""
    require_onnx()
    run = Path(run)
    path = run / file
    if not path.is_file():
        raise LstmkitError(f"{run} has no {file}", f"export it first: lstmkit export onnx --run {run}")
    runner = OnnxRunner(path, threads)
    if runner.metadata.get("lstmkit_fingerprint") != weights_fingerprint(run):
        raise LstmkitError(f"{path} was exported from other weights than {run}'s",
                           f"re-export it: lstmkit export onnx --run {run}")
    return runner


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
    try:
        for file in graph_files(run):
            load_runner(run, file=file)
        return True
    except LstmkitError:
        return False


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
        raise LstmkitError("the ONNX engine needs a saved run with an exported graph",
                           "save the model, then run 'lstmkit export onnx --run RUN'")
    hook = getattr(adapter, "onnx_net", None)
    return hook(Path(run)) if hook is not None else OnnxNet(load_runner(run))
