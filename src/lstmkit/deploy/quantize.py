"""int8: dynamic quantization of LSTM / GRU / Linear layers, saved as a run that loads like any other.

Two backends are measured side by side and the faster one at batch 1024 becomes the run's
engine (``"quantization": {"engine": ...}`` in ``lstmkit.json``):

* **torch** — ``torch.ao.quantization.quantize_dynamic``. Its packed parameters are not tensors,
  so they are unpacked into int8 tensors plus scales / zero points and stored in
  ``model.safetensors``; loading rebuilds the quantized modules from exactly those integers
  (no re-quantization, nothing unpickled).
* **onnx** — ONNX Runtime's ``quantize_dynamic`` on the exported graph (``DynamicQuantizeLSTM``,
  ``MatMulInteger``), stored as ``model.onnx`` in the same run. Weights use 7 of their 8 bits
  (``reduce_range``, as torch's x86 backend does): a CPU without VNNI (AVX2 only: older Intel,
  AMD before Zen 4) sums pairs of uint8 x int8 products in int16, which full-range weights can
  overflow -- a tiny seq2seq forecaster's int8 graph was 0.15 (in scaled units) off its fp32 answers
  on an AMD EPYC with full range and 0.003 with 7 bits. The run may be served on another machine
  than the one that quantized it, so the weights are always reduced. Each output channel gets its
  own scale (``per_channel``, recorded in the report), which wins the bit back: a tiny translator's
  BLEU fell 1.7 with 7 bits and one scale per tensor and held with one per channel; where ORT's
  per-channel graph does not run (some LSTM nodes), one scale per tensor.

``export_report.json`` holds file sizes, speeds and the test metrics of fp32 and both int8 models (and,
where the task says, which examples they were computed on: ``scored_on``).
A backend whose test metrics fall too far from the float model's (the adapter's ``quality_refusal``:
a forecaster's MASE more than 3 % higher, a classifier's accuracy 0.5 points lower, ...) is not made
the engine, its reason in the report as ``quality_refused``; with none left nothing is written.

A task whose model is not one ``net(x)`` call says how it runs with the adapter hook
``infer(net, x)`` (a translator: greedy decoding of a batch of source ids; its speed is in
``speed_unit``, at ``speed_batch`` sentences); a task with several ONNX graphs
(``export_graphs``, ``onnx_files``, ``onnx_net``) has each graph quantized (written by ``graphs_alone``
where the task has it: ``export_graphs`` without checks that drive the graphs together, as int8 scores its
quantized graphs itself).
"""
from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch import nn

from lstmkit.deploy.int8_torch import (TorchRNN, _quantized_modules, _trial, load_quantized, quantize_torch,
                                       quantized_tensors, swap_recurrent)
from lstmkit.deploy.onnx import TOLERANCE, around_graph, graph_signature, set_metadata, write_onnx
from lstmkit.deploy.onnx_engine import OnnxNet, OnnxRunner, require_onnx
from lstmkit.deploy.registry import adapter_for, weights_fingerprint
from lstmkit.errors import EnvironmentProblem, LstmkitError, MissingPackage, opt, os_reason, python_caller, worded
from lstmkit.files import check_writable, new_folder_mode, now_stamp, rename_when_let_go, temp_prefix, write_fix
from lstmkit import run_metric
from lstmkit.run_reuse import RUN_ID_KEY, new_run_id
from lstmkit.runs import META_FILE, WEIGHTS_FILE, check_out_folder, read_meta, save_tensors, write_json
from lstmkit.stderr_lines import c_stderr_lines

__all__ = ["export_int8", "quantize_torch", "swap_recurrent", "quantized_tensors", "load_quantized", "TorchRNN",
           "measure_speed", "load_estimator", "REPORT_FILE"]

REPORT_FILE = run_metric.REPORT_FILE      # where an int8 run's headline is read from (lstmkit list)
_AGREEMENT = 64          # the example inputs each backend's answers are compared with the float model's on
_ONNX_INT8 = "int8 quantization with ONNX Runtime"


def load_estimator(kind: type, run: str | Path):
    """A run's fitted estimator of class ``kind`` (a task's ``RunEstimator``): ``kind.load(run)``
    (an int8 run with torch weights rebuilds its quantized net from the stored integers), with
    ``quantization_`` (the run's record, or None) and ``engine_`` (the engine it chose) set."""
    est = kind.load(run)
    est.quantization_ = read_meta(run).get("quantization")
    est.engine_ = (est.quantization_ or {}).get("engine")
    return est


# -- measuring ---------------------------------------------------------------------------------
def measure_speed(fn: Callable[[Any], Any], x_batch, x_one, min_seconds: float = 0.3, *,
                  warm: bool = False) -> dict[str, float]:
    """``windows_per_s`` at ``x_batch``'s size and ``latency_ms`` at batch 1 (the fastest of the timed runs,
    after a warm-up: a stall of a busy machine only slows some runs, and the median of 3 runs, two of them
    stalled, had reported int8 1/1000 or 332x the float model's speed).
    ``warm``: ``fn(x_batch)`` has just run (the caller needed its answer), so it is not run again as
    the batch's warm-up."""
    def per_call(x, warmed=False) -> float:
        if not warmed:
            fn(x)                                           # warm-up
        runs, t0 = [], time.perf_counter()
        while time.perf_counter() - t0 < min_seconds or len(runs) < 3:
            t = time.perf_counter()
            fn(x)
            runs.append(time.perf_counter() - t)
        return min(runs)
    with torch.inference_mode():
        batch = per_call(x_batch, warm)
        one = per_call(x_one)
    # to significant digits: decimals rounded a slow batch's rate, or a fast call's time, to 0
    return {"windows_per_s": float(f"{len(x_batch) / batch:.6g}"), "latency_ms": float(f"{one * 1e3:.6g}")}


# -- the export ------------------------------------------------------------------------------
def export_int8(run: str | Path, out: str | Path | None = None, data=None, backends=("torch", "onnx"),
                batch: int | None = None, min_seconds: float = 0.3, log: Callable[[str], None] | None = None) -> Path:
    """Quantize a finished run to int8 and write a new run folder (default ``RUN-int8``).

    Both ``backends`` are tried and measured; the run keeps every one that worked and records
    the faster as its engine. ``data`` overrides the run's own data source for the test metrics.
    ``batch`` is the throughput batch (default: the adapter's ``speed_batch``, else 1024).
    ``log`` (the CLI: standard error) is told each stage as it starts: each one measures speed and
    scores the test data, so a stage can take a while and the progress bars under it look alike.
    """
    log = log or (lambda message: None)
    run = Path(run)
    meta = read_meta(run)
    if "quantization" in meta:
        raise LstmkitError(f"{run} is already an int8 run", "quantize the original float run")
    target = Path(out) if out is not None else run.parent / f"{run.name}-int8"
    check_out_folder(target)
    if target.exists():
        raise LstmkitError(f"{target} already exists", f"pass {_new_folder()} (runs are never overwritten)")
    # the default RUN-int8 beside a run on a read-only disk: said before the measurements, not after them
    check_writable(target.parent, f"the int8 run {target.name}", _writable_fix())
    if "torch" not in backends:      # onnx alone: its packages before any work ("no int8 backend could ...")
        require_onnx(_ONNX_INT8)
    adapter = adapter_for(run)
    fp32 = adapter.net
    batch = batch or getattr(adapter, "speed_batch", 1024)
    infer = _inference(adapter)
    x_batch, x_one = adapter.example_inputs(batch), adapter.example_inputs(1)
    reference = _reference(infer, fp32, x_batch)
    refusals: dict[str, str] = {}
    log("float32: scoring the test data")
    before = _own_test_metrics(adapter, fp32, data)
    judge = getattr(adapter, "quality_refusal", None)
    if before is None and judge is not None:       # no int8 model could be judged: say so before any work
        # the fix once, in the task's words (a forecaster's windows, a translator's pairs): the judge says the problem
        asks = getattr(adapter, "quality_data_fix", None)
        fix = asks() if asks is not None else f"pass {opt('data')} with the examples the quality is judged on"
        raise LstmkitError(f"cannot check an int8 model of {run.name}: {judge(None, None)}",
                           f"{fix}; nothing was written")

    check_out_folder(target.parent)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)         # as train's --out: created when missing
        tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(target), dir=target.parent))
    except OSError as e:
        raise EnvironmentProblem(f"could not create the int8 run {target} ({os_reason(e)}); nothing was written",
                                 _writable_fix(), reason=os_reason(e)) from None
    try:
        os.chmod(tmp, new_folder_mode())    # mkdtemp's 0700: a service run by another user could not read the run
        report: dict[str, Any] = {"source_run": str(run.resolve()), "batch": batch,
                                  "speed_unit": getattr(adapter, "speed_unit", "windows"),
                                  "threads": torch.get_num_threads(), **around_graph(adapter),
                                  **_scored_on(adapter), "fp32": {}}
        log("float32: measuring speed")
        if len(x_batch) <= _AGREEMENT:       # the answers each backend's are compared with: the batch's warm-up
            reference()
        report["fp32"] = {"bytes": os.path.getsize(run / WEIGHTS_FILE),
                          **measure_speed(lambda x: infer(fp32, x), x_batch, x_one, min_seconds,
                                          warm=len(x_batch) <= _AGREEMENT),
                          "metrics": before}
        candidates: dict[str, dict[str, Any]] = {}

        if "torch" in backends:
            try:
                log("int8 (torch): quantizing, measuring speed and quality")
                q = quantize_torch(fp32)
                _trial(q, x_one, infer)
                save_tensors(tmp / WEIGHTS_FILE, quantized_tensors(q), metadata={"format": "pt", "lstmkit": "int8"})
                candidates["torch"] = {"bytes": os.path.getsize(tmp / WEIGHTS_FILE),
                                       "layers": sorted(_quantized_modules(q)),
                                       "quantized_engine": torch.backends.quantized.engine,
                                       **_score(q, reference, adapter, x_batch, x_one, data, min_seconds)}
            except EnvironmentProblem:
                raise
            except LstmkitError as e:
                refusals["torch"] = str(e)
        if "torch" not in candidates:        # Forecaster.load still needs torch weights: keep fp32
            shutil.copyfile(run / WEIGHTS_FILE, tmp / WEIGHTS_FILE)
        fingerprint = weights_fingerprint(tmp)
        if "onnx" in backends:
            try:
                require_onnx(_ONNX_INT8)
                log("int8 (onnx): exporting, quantizing, measuring speed and quality")
                candidates["onnx"] = _quantize_onnx(adapter, tmp, fingerprint, reference, x_batch, x_one, data,
                                                    min_seconds)
            except MissingPackage as e:     # beside torch's: a refusal, as the report and the CLI list it
                refusals["onnx"] = str(e)
            except EnvironmentProblem:      # a full disk, a file size limit: no backend's refusal (it was one)
                raise
            except LstmkitError as e:
                refusals["onnx"] = str(e)
        if not candidates:
            raise LstmkitError("no int8 backend could quantize this model: " + "; ".join(refusals.values()),
                               "keep the float run")
        held = _quality(adapter, report["fp32"]["metrics"], candidates)
        if not held:
            why = "; ".join(f"{k}: {c['quality_refused']}" for k, c in candidates.items())
            report.update({"candidates": candidates, "refused": refusals, "engine": None})
            try:
                write_json(run / REPORT_FILE, report)
                kept = f"the measurements are in {run / REPORT_FILE}"
            except EnvironmentProblem as e:          # a read-only run: the refusal is still the answer
                kept = f"the measurements could not be written into the run ({e.reason})"
            raise LstmkitError(f"no int8 model keeps the quality of {run.name} ({why})",
                               f"keep the float run; {kept}")
        engine = _faster(held)
        for name in getattr(adapter, "run_files", ()):     # the task's own state (e.g. a vocabulary)
            shutil.copyfile(run / name, tmp / name)
        if (run / "history.csv").is_file():     # the epochs that trained these weights: the loaded model's history_,
            shutil.copyfile(run / "history.csv", tmp / "history.csv")    # as lstmkit.json's training block copied
        for name, c in candidates.items():
            c["size_ratio"] = _ratio(report["fp32"]["bytes"], c["bytes"])
            c["speed_ratio_batch"] = _ratio(c["windows_per_s"], report["fp32"]["windows_per_s"])
            c["speed_ratio_latency"] = _ratio(report["fp32"]["latency_ms"], c["latency_ms"])
            c["metric_change"] = _metric_change(report["fp32"]["metrics"], c["metrics"])
        report.update({"candidates": candidates, "refused": refusals, "engine": engine,
                       "chosen": candidates[engine],
                       # the float run's headline, by which lstmkit list shows this run's where that run has moved
                       run_metric.SOURCE_HEADLINE: run_metric.headline_record(run, meta)})
        meta = {**meta, "quantization": {"dtype": "qint8", "method": "dynamic", "engine": engine,
                                         "torch": "torch" in candidates, "onnx": "onnx" in candidates,
                                         "source_run": str(run.resolve()), "source_fingerprint": weights_fingerprint(run)},
                RUN_ID_KEY: new_run_id(), "written": now_stamp()}    # a run of its own
        write_json(tmp / REPORT_FILE, report)
        write_json(tmp / META_FILE, meta)
        try:
            rename_when_let_go(os.rename, tmp, target)      # the folder appears complete or not at all
        except OSError as e:
            if e.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise
            raise LstmkitError(f"{target} was written by another command while this export ran (two exports of "
                               f"{run.name} at once?); it is left as it is and nothing else was written",
                               f"pass {_new_folder()} (runs are never overwritten)") from None
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError) or (isinstance(e, EnvironmentProblem) and str(tmp) in str(e)):   # named by the
            # temporary folder, gone now
            raise EnvironmentProblem(f"could not write the int8 run {target} ({os_reason(e)}); nothing was written",
                                     f"{write_fix(e, target.parent)}, then run the command again",
                                     reason=os_reason(e)) from None
        raise
    return target


def _new_folder() -> str:
    """``--out NEW_FOLDER`` in the caller's words (``out=NEW_FOLDER`` from Python's ``export``)."""
    return opt("out", "NEW_FOLDER", written=True)


def _writable_fix() -> str:
    return f"pass {_new_folder()} in a folder you can write to, and " + worded("run the command again",
                                                                              "call export again")


def _own_test_metrics(adapter, fp32, data) -> dict | None:
    """The float model's test metrics; a ``data`` file the task cannot read is refused with a fix
    that applies here (the task's reader names its own column options, e.g. ``--text``, which
    ``export int8`` does not have: it reads ``data`` with the run's column names)."""
    try:
        return adapter.test_metrics(fp32, data)
    except LstmkitError as e:
        # the reader's options in the caller's words: --text on the command line, text= from Python
        named = r"\bpass ((?!data=)[a-z][a-z_]*=)" if python_caller() else r"(--(?!data\b)[a-z][a-z-]*)"
        flags = sorted(set(re.findall(named, e.hint or "")))
        if data is None or not flags:
            raise
        fix = getattr(adapter, "int8_data_fix", None)       # a task whose data are not a table's columns
        lacks = worded("export int8 has no", "export('int8') takes no") + f" {', '.join(flags)}"
        raise LstmkitError(e.message,
                           f"{fix} ({lacks}); nothing was written" if fix else
                           f"give {opt('data')} the columns the run was trained with ({lacks}: rename the "
                           "file's columns); nothing was written") from None


def _scored_on(adapter) -> dict[str, Any]:
    """``{"scored_on": {...}}``: which examples the test metrics (and so the quality gate) were computed on,
    where the task says (its adapter's ``scored_on``, set by ``test_metrics``: a forecaster's part, data,
    split, series and windows); ``{}`` otherwise."""
    scored = getattr(adapter, "scored_on", None)
    return {"scored_on": dict(scored)} if scored else {}


def _quality(adapter, before: dict | None, candidates: dict[str, dict]) -> dict[str, dict]:
    """The candidates that keep the task's quality (all, for a task with no ``quality_refusal``);
    each refused one gets ``quality_refused`` (the reason) in the report."""
    judge = getattr(adapter, "quality_refusal", None)
    if judge is None:
        return candidates
    held = {}
    for name, c in candidates.items():
        why = judge(before, c.get("metrics"))
        if why is None:
            held[name] = c
        else:
            c["quality_refused"] = why
    return held


def _faster(held: dict[str, dict]) -> str:
    """The engine among the kept candidates: the most windows per second at the throughput batch, and
    of two as fast, the one with the shorter single-call latency."""
    return max(held, key=lambda k: (held[k]["windows_per_s"], -held[k]["latency_ms"]))


def _inference(adapter) -> Callable[[nn.Module, Any], Any]:
    """How the task runs its net on example inputs: its ``infer`` hook, else ``net(x)``."""
    hook = getattr(adapter, "infer", None)
    return hook if hook is not None else (lambda net, x: net(x))


def _reference(infer, fp32, x_batch) -> Callable[[], Any]:
    """The float model's answers to the first ``_AGREEMENT`` example inputs, which each backend's are compared
    with (``max_abs_diff_scaled`` / ``same_answers``): computed on the first call and kept, as they
    are the same for every backend (a translator's greedy decoding of them ran once per backend)."""
    @functools.cache
    def answers():
        with torch.inference_mode():
            return infer(fp32, x_batch[:_AGREEMENT])
    return answers


def _score(net, reference: Callable[[], Any], adapter, x_batch, x_one, data, min_seconds) -> dict[str, Any]:
    """A backend's speed, agreement with the float model's answers (``reference()``) and test metrics."""
    infer = _inference(adapter)
    with torch.inference_mode():
        got = infer(net, x_batch[:_AGREEMENT])
    want = reference()
    if isinstance(got, torch.Tensor):
        agreement = {"max_abs_diff_scaled": float((got - want).abs().max())}
    else:                                 # answers that are not numbers (e.g. token ids): the share equal
        agreement = {"same_answers": sum(a == b for a, b in zip(got, want)) / max(len(want), 1)}
    return {**measure_speed(lambda x: infer(net, x), x_batch, x_one, min_seconds,
                            warm=len(x_batch) <= _AGREEMENT), **agreement,    # got: x_batch's own answers
            "metrics": adapter.test_metrics(net, data)}


def _quantize_onnx(adapter, tmp: Path, fingerprint: str, reference, x_batch, x_one, data,
                   min_seconds) -> dict[str, Any]:
    """Quantize the run's graph (or each of the task's ``onnx_files``) into ``tmp``, stamped with
    ``fingerprint`` (of the weights in ``tmp``), and score it (``reference``: as :func:`_score`)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    floats = tmp / ".float"
    floats.mkdir()
    own = getattr(adapter, "onnx_net", None)         # how the task answers with its graphs (several, or sorted)
    try:
        # the graphs each checked alone (a translator's decoding check drives both as export onnx reports)
        graphs = getattr(adapter, "graphs_alone", None) or getattr(adapter, "export_graphs", None)
        if graphs is not None:
            graphs(floats, "", TOLERANCE)
            files = list(adapter.onnx_files)
        else:
            files = ["model.onnx"]
            write_onnx(adapter, floats / files[0], fingerprint="")
    except BaseException:            # a graph that does not export (a refusal) left .float in the int8 run
        shutil.rmtree(floats, ignore_errors=True)
        raise
    try:
        for per_channel in (True, False):            # per tensor where ORT's per-channel graph does not run
            for name in files:
                with _ort_advice_hushed():
                    quantize_dynamic(str(floats / name), str(tmp / name), weight_type=QuantType.QInt8,
                                     reduce_range=True, per_channel=per_channel)
                set_metadata(str(tmp / name), {"lstmkit_fingerprint": fingerprint})
            net = own(tmp) if own is not None else OnnxNet(OnnxRunner(tmp / files[0]))
            if not per_channel or _runs(net, adapter, x_one):
                break
    except OSError:          # writing the quantized graph failed (a full disk, a file size limit): said as such
        raise
    except Exception as e:   # onnxruntime raises plain Exceptions for unsupported graphs
        raise LstmkitError(f"ONNX Runtime could not quantize this graph ({str(e).splitlines()[0][:200]})",
                           "use the torch backend") from None
    finally:
        shutil.rmtree(floats, ignore_errors=True)
    ops = sorted({n.op_type for name in files for n in _onnx_nodes(tmp / name)}
                 & {"DynamicQuantizeLSTM", "MatMulInteger", "DynamicQuantizeMatMul", "DynamicQuantizeLinear"})
    if not ops:
        raise LstmkitError("ONNX Runtime found no layer to quantize in this graph", "use the torch backend")
    return {"bytes": sum(os.path.getsize(tmp / name) for name in files), "quantized_ops": ops,
            "per_channel": per_channel, "graphs": {name: graph_signature(tmp / name) for name in files},
            **_score(net, reference, adapter, x_batch, x_one, data, min_seconds)}


@contextlib.contextmanager
def _ort_advice_hushed() -> Iterator[None]:
    """ONNX Runtime's quantizer logs advice on the root logger ('Please consider to run pre-processing
    before quantization', at WARNING; its parameters at INFO): kept from it for the block, its errors
    shown. The caller's logging is left as it was: the root logger's level was raised to ERROR for
    good (a program's own INFO and WARNING lines were lost after an ``export('int8')``), and
    ``logging.warning`` on a root logger without handlers installs ``basicConfig``'s."""
    root = logging.getLogger()

    def advice(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or "onnxruntime" not in record.pathname

    stand_in = logging.NullHandler() if not root.handlers else None
    root.addFilter(advice)
    if stand_in is not None:
        root.addHandler(stand_in)
    try:
        yield
    finally:
        root.removeFilter(advice)
        if stand_in is not None:
            root.removeHandler(stand_in)


def _runs(net, adapter, x_one) -> bool:
    """Whether a quantized graph answers at all: ORT's per-channel quantizer writes some LSTM nodes
    (a recursive forecaster's unrolled members) with weights of the wrong rank. The line ONNX Runtime
    logs on standard error for such a graph ('[E:onnxruntime:...] ... Input W must have shape') is
    kept from the terminal: the per-tensor graph tried next is the answer; lines of a graph that
    answers are printed as ever."""
    caught: list[str] = []
    try:
        with c_stderr_lines(descriptor=True) as caught, torch.inference_mode():
            _inference(adapter)(net, x_one)
    except Exception:        # onnxruntime's InvalidArgument / Fail are plain Exceptions too
        return False
    if caught and sys.stderr is not None:
        print("\n".join(caught), file=sys.stderr, flush=True)
    return True


def _onnx_nodes(path: Path):
    import onnx
    return onnx.load(str(path)).graph.node


def _metric_change(before: dict | None, after: dict | None) -> dict[str, float] | None:
    if not before or not after:
        return None
    return {k: after[k] - before[k] for k in before if k in after
            and isinstance(before[k], (int, float)) and isinstance(after[k], (int, float))}


def _ratio(a: float, b: float) -> float:
    """``a / b`` to 4 significant figures: a ratio far from 1 (a stalled timing on a busy machine)
    stays visible instead of rounding to 0.0."""
    return float(f"{a / b:.4g}")
