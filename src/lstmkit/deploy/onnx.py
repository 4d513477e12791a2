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
:func:`export_onnx` and :mod:`~lstmkit.deploy.onnx_engine`'s ``resolve_engine`` and ``engine_net`` use
them when present.

The sessions over the written graphs and the engine choice (:class:`OnnxRunner`, :class:`OnnxNet`,
:class:`LengthSortedOnnxNet`, :func:`load_runner`, :func:`graph_files`, :func:`resolve_engine`,
:func:`engine_net`) live in :mod:`lstmkit.deploy.onnx_engine`.
"""
from __future__ import annotations

import contextlib
import json
import re
import shutil
import sys
import tempfile
import time
import warnings
from os import PathLike
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from lstmkit.deploy.onnx_engine import ONNX_FILE, OnnxRunner, graph_files, require_onnx
from lstmkit.deploy.registry import adapter_for, weights_fingerprint
from lstmkit.errors import EnvironmentProblem, LstmkitError, opt, os_reason, worded
from lstmkit.files import (check_out_path, check_writable, path_exists, replace_file, temp_prefix,
                           write_fix)
from lstmkit.runs import (META_FILE, ONNX_REPORT, SOURCE_KEY, WEIGHTS_FILE, atomic_write, export_source,
                          file_in_the_way, file_sha256, read_meta, write_json)
from lstmkit.stderr_lines import c_stderr_lines

__all__ = ["OPSET", "TOLERANCE", "export_onnx", "report_path", "side_files", "write_onnx", "write_graph",
           "extra_inputs", "around_graph", "set_metadata", "graph_signature", "check_against_torch", "ShapeRefusal"]

REPORT_FILE = ONNX_REPORT       # runs.export_source reads it too
OPSET = 17
TOLERANCE = 1e-4     # relative: the limit is TOLERANCE x max(1, the largest |output| PyTorch gave on the check)


def export_onnx(run: str | Path, out: str | Path | None = None, tolerance: float = TOLERANCE) -> Path:
    """Export a finished run's inference graph to ``RUN/model.onnx`` (or ``out``).

    The file appears only after ONNX Runtime reproduced PyTorch on fresh random inputs (a new batch size,
    sequence length and state) within ``tolerance`` times the outputs' size (at least 1: float32 differs by
    about 1e-7 of a value, so a graph answering 1e5 differs by ~1e-2 and is as right as one answering 1 to
    1e-7); ``RUN/onnx.json`` records the check (``max_abs_diff``, the ``output_scale`` and ``limit`` it was
    judged against) and the graph's signature (a graph written to ``out``: :func:`report_path`). Returns the
    path written. A task with several graphs (an adapter with ``export_graphs``) writes them into ``RUN`` (or
    the folder ``out``) and returns the folder. A graph written to ``out`` travels alone: the files its
    ``around_graph`` reads (``lstmkit.json``, a text model's ``vocab.json``) are copied beside it first
    (:func:`side_files`), and the report names them under ``run_files``. An export, into the run or
    elsewhere, is all or nothing (:func:`_write_staged`); an ``out`` folder that holds run folders is refused.
    """
    require_onnx()
    run = Path(run)
    if "quantization" in read_meta(run):
        raise LstmkitError(f"{run} is an int8 run; its ONNX graphs are already in it "
                           f"({', '.join(graph_files(run))})", "export ONNX from the original (float) run")
    if out is not None and not isinstance(out, (str, PathLike)):
        raise LstmkitError(f"out must be a path, got {type(out).__name__}",
                           "pass a file (or folder) path, e.g. out='exports/model.onnx'")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float, np.floating)) or not tolerance >= 0:
        raise LstmkitError(f"tolerance must be a number >= 0 (relative: times the graph's largest output, at least 1), "
                           f"got {tolerance!r}", f"pass e.g. tolerance={TOLERANCE:g}, the default")
    _check_utf8(Path(out) if out is not None else run)
    adapter = adapter_for(run)
    graphs = getattr(adapter, "export_graphs", None)
    _refuse_other_run(run, out, several=graphs is not None)
    if out is not None and graphs is None and not Path(out).is_dir():      # its report's name, before any work
        report = report_path(run, out, Path(out))
        for name in (report, *_copies(run, adapter, report).values()):     # and its copies of the run's files
            check_out_path(name)
    if out is None:                 # a read-only run folder: said before the graph is traced and checked
        check_writable(run, "the ONNX graph", f"pass {opt('out')} a file or folder you can write to, and "
                       + worded("run the command again", "call export again"))
    if graphs is not None:
        path = Path(out) if out is not None else run
        blocker = file_in_the_way(path)
        if blocker is not None:
            raise LstmkitError(f"{opt('out', str(path))}: {blocker} is a file, not a folder (this run exports "
                               "several graphs into a folder)",
                               f"pass a folder for {opt('out')} (it is created when missing)")
    else:
        path = Path(out) if out is not None else run / ONNX_FILE
        if path.is_dir():                                # a folder: the graph goes in it, by its usual name
            path = path / ONNX_FILE
        elif path.suffix.lower() != ".onnx":             # a data file named by mistake was overwritten
            raise LstmkitError(f"{opt('out', str(path))} is not a .onnx file name"
                               + (" (the file exists; it is left as it is)" if path.exists() else ""),
                               "name the graph's file e.g. model.onnx, or pass an existing folder (the graph goes "
                               "in it as model.onnx)")
    # a folder for several graphs is made by the export: its report goes in it all the same
    target = path / REPORT_FILE if graphs is not None else report_path(run, out, path)
    try:
        _write_staged(run, adapter, path, target, tolerance)
    except ShapeRefusal as e:
        raise _refusal(e, run) from None
    return path


def _write_export(run: Path, adapter, path: Path, target: Path, tolerance: float, source: str | None = None,
                  home: Path | None = None) -> None:
    """Write the graph(s) at ``path`` (a task with ``export_graphs``: into the folder ``path``), the
    run's files they read beside ``target`` (:func:`side_files`) and last the report ``target``.
    ``home``: the folder the files are moved into once written (the run itself: its own files are
    named, none copied)."""
    graphs = getattr(adapter, "export_graphs", None)
    if graphs is not None:
        path.mkdir(parents=True, exist_ok=True)
        report = {**graphs(path, weights_fingerprint(run), tolerance), **around_graph(adapter)}
    else:
        own = getattr(adapter, "export_net", None)       # a room's own arrangement of the same graph
        report = write_onnx(adapter, path, fingerprint=weights_fingerprint(run), tolerance=tolerance,
                            traced=own() if own is not None else None)
    report["run_files"] = side_files(run, adapter, target if home is None else home / target.name)
    if source is not None:        # the folder reads as a run: say which one it is not
        report[SOURCE_KEY] = source
    write_json(target, report)           # last: a report never names a file not yet there


def _write_staged(run: Path, adapter, path: Path, target: Path, tolerance: float) -> None:
    """:func:`_write_export`, all or nothing: every file is written into a hidden folder beside ``target``
    and moved into place only once all are there, the report last; a failure (a full disk, Ctrl-C, a
    translator's second graph or decoding check refused) leaves the folder as it was (a file it replaced
    is put back). Outside the run that is never a graph and ``lstmkit.json`` without their report, which
    read as a run that did not finish; inside it (no ``--out``), never a new ``model.onnx`` (or a
    translator's new encoder beside its old decoder) under the earlier export's report. The report of an
    earlier export of the same graph under the old name (``model.onnx.json`` beside ``onnx.json``) goes
    with what it described."""
    folder = target.parent
    inside = folder.resolve() == run.resolve()
    made = [p for p in (folder, *folder.parents) if not path_exists(p)]
    stage = None
    placed: list[tuple[Path, Path | None]] = []          # (file moved into place, the file it replaced)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=temp_prefix(target), dir=folder))
        staged_path = stage / path.name if path != folder else stage
        _write_export(run, adapter, staged_path, stage / target.name, tolerance,
                      source=None if inside else str(run.resolve()), home=folder if inside else None)
        report = stage / target.name
        names = sorted(p.name for p in stage.iterdir() if p != report) + [report.name]
        kept = stage / ".replaced"
        kept.mkdir()
        stale = _old_report(folder, path)
        for name in names:
            if name == report.name and stale is not None:       # the old layout's report goes with its graph
                stale.replace(kept / stale.name)
                placed.append((stale, kept / stale.name))
            old = folder / name
            prior = None
            if path_exists(old) and not old.is_file():     # moved aside, it went with the stage: refused
                raise LstmkitError(f"cannot write {old}: it is not a file (a folder of that name?)",
                                   f"pass a new folder for {opt('out')}, or move {old} aside")
            if path_exists(old):
                prior = kept / name
                old.replace(prior)
            placed.append((old, prior))
            replace_file(stage / name, old)
    except BaseException as e:
        for where, prior in reversed(placed):            # put back what was there, newest first
            with contextlib.suppress(OSError):
                if prior is None:
                    where.unlink()
                else:
                    prior.replace(where)
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
        for empty in made:                               # the folders this export made, innermost first
            with contextlib.suppress(OSError):
                empty.rmdir()
        if isinstance(e, OSError) or (isinstance(e, EnvironmentProblem) and stage is not None and str(stage) in str(e)):
            raise EnvironmentProblem(f"could not write {path} ({os_reason(e)}); nothing of the export was kept",
                                     f"{write_fix(e, folder)}, then run the command again",
                                     reason=os_reason(e)) from None
        raise
    shutil.rmtree(stage, ignore_errors=True)             # what the export replaced


def _old_report(folder: Path, path: Path) -> Path | None:
    """``model.onnx.json`` in an ``--out`` folder: the report an earlier export into the folder wrote
    there (its graph, now replaced, named in its ``file``), before reports in folders were named
    ``onnx.json``; None for any other file of that name (left as it is)."""
    old = folder / (ONNX_FILE + ".json")
    if path.name != ONNX_FILE or not old.is_file():
        return None
    try:
        report = json.loads(old.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return old if isinstance(report, dict) and report.get("file") == ONNX_FILE and "opset" in report else None


def side_files(run: Path, adapter, report: Path) -> dict[str, str]:
    """Copy the run's files that the graph's ``around_graph`` reads (``lstmkit.json``: scaling, classes,
    settings; the adapter's ``run_files``: a vocabulary) beside the export's ``report``, each
    atomically and checked against its source's SHA-256, so the exported folder is used without the
    run. Returns ``{run's name: copy's name beside the report}``: ``onnx.json`` in a folder gets the
    same names, ``sales.onnx.json`` gets ``sales.onnx.lstmkit.json`` (two graphs exported into one
    folder keep their own). A report inside the run names the run's own files."""
    copies = _copies(run, adapter, report)
    for name, copy in copies.items():
        if copy.parent.resolve() == run.resolve():
            continue                                 # the run's own file: nothing to copy
        source = run / name
        want = file_sha256(source)

        def write(tmp: str, source=source, want=want) -> None:
            shutil.copyfile(source, tmp)
            if file_sha256(tmp) != want:
                raise LstmkitError(f"the copy of {source} differs from it (it changed while it was copied, or the "
                                   "disk did not keep it)", "export again; nothing of it was kept")

        atomic_write(copy, write)
    return {name: copy.name for name, copy in copies.items()}


def _copies(run: Path, adapter, report: Path) -> dict[str, Path]:
    """``{run's file name: where its copy goes}`` for an export whose report is ``report`` (see
    :func:`side_files`); inside the run, the run's own files."""
    names = (META_FILE, *getattr(adapter, "run_files", ()))
    if report.parent.resolve() == run.resolve():
        return {name: run / name for name in names}
    prefix = "" if report.name == REPORT_FILE else report.name[: -len(".json")] + "."
    return {name: report.parent / (prefix + name) for name in names}


def report_path(run: str | Path, out: str | Path | None, path: Path) -> Path:
    """Where :func:`export_onnx` writes its report of the graph(s) at ``path``: ``RUN/onnx.json``, an
    ``out`` folder's ``onnx.json`` (the folder then reads as the run does: ``examples/onnx_by_hand.py``
    takes it), else the graph's file name with ``.json`` added (``sales.onnx.json``: two graphs
    exported into one folder under their own names keep a report each). A graph written to ``out`` had
    none, while its ``doc_string`` sent its reader to the report beside it."""
    if out is None:
        return Path(run) / REPORT_FILE
    return Path(out) / REPORT_FILE if Path(out).is_dir() else path.with_name(path.name + ".json")


def _check_utf8(path: Path) -> None:
    """The exporter and ONNX Runtime take file names as UTF-8 text; a folder name of other bytes
    (Linux allows any) failed inside the exporter as 'the exporter cannot trace it: TypeError'."""
    try:
        str(path.absolute()).encode("utf-8")
    except UnicodeEncodeError:
        raise LstmkitError(f"{path} has a name that is not UTF-8 text (its bytes are shown as \\u escapes); the ONNX "
                           "exporter and ONNX Runtime take UTF-8 names only",
                           f"rename the folder (or pass {opt('out')} with a UTF-8 name) and export again") from None


def _refuse_other_run(run: Path, out, several: bool) -> None:
    """``out`` may not put graphs into another run's folder: its own graph there (served, streamed)
    would be replaced by this run's, silently."""
    if out is None:
        return
    out = Path(out)
    check_out_path(out)                   # a name too long: is_dir() below raised the OSError, a traceback
    folder = out if several or out.is_dir() else out.parent
    if (several or out.is_dir()) and folder.resolve() != run.resolve():
        _refuse_folder_of_runs(run, out)
        _refuse_folder_of_other_files(run, out)
    if not (folder / META_FILE).is_file() or folder.resolve() == run.resolve():
        return
    source = export_source(folder)
    if source is None and not path_exists(folder / WEIGHTS_FILE) and _same_meta(folder, run):
        return                    # this run's export cut short before its report (older versions): completed now
    if source is None:
        raise LstmkitError(f"{opt('out', str(out))} is inside another run's folder ({folder}); its graphs would be "
                           f"replaced by {run.name}'s", f"pass a folder outside any run (or leave {opt('out')} out: "
                           "the graph goes into the run itself)")
    if source != str(run.resolve()) and not _same_meta(folder, run):
        raise LstmkitError(f"{opt('out', str(out))}: {folder} holds the ONNX export of another run ({source}); "
                           f"{run.name}'s graphs and files would be mixed with what is left of it",
                           f"pass a new folder (or remove {folder} first)")


def _same_meta(folder: Path, run: Path) -> bool:
    """Whether ``folder``'s ``lstmkit.json`` is the run's, byte for byte (a copy an export made)."""
    return file_sha256(folder / META_FILE) == file_sha256(run / META_FILE)


def _refuse_folder_of_runs(run: Path, out: Path) -> None:
    """An ``out`` folder that holds run folders (``runs/``, or ``.`` where the runs are): the export's
    ``lstmkit.json`` there made ``lstmkit list`` take the folder for one run, the export, and hide them."""
    try:
        held = sorted(p.name for p in out.iterdir() if p.is_dir() and (p / META_FILE).is_file())
    except OSError:              # not a folder, or one that cannot be listed: said where it is written
        return
    if held:
        shown = ", ".join(held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3 else "")
        raise LstmkitError(f"{opt('out', str(out))} holds run folders ({shown}); the export's {META_FILE} there "
                           f"would make 'lstmkit list' read {out} as one run and hide them",
                           f"pass a new folder for the export, e.g. {opt('out', str(out / (run.name + '-onnx')))}")


def _refuse_folder_of_other_files(run: Path, out: Path) -> None:
    """An ``out`` folder that holds files of its own and no earlier export (``--out .`` in a home or a
    project folder): the graph, ``onnx.json`` and ``lstmkit.json`` went in among them, and an earlier file
    of one of those names was replaced. An empty folder (hidden files aside), a folder holding an export's
    report (``onnx.json``, ``NAME.onnx.json``) and one holding this run's ``lstmkit.json`` (an export cut
    short) are taken; ``--out FILE.onnx`` names its files itself and is taken anywhere."""
    try:
        held = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    except OSError:              # not a folder, or one that cannot be listed: said where it is written
        return
    if not held or META_FILE in held or any(_is_graph_report(out / name) for name in held
                                                    if name == REPORT_FILE or name.endswith(".onnx.json")):
        return
    shown = ", ".join(held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3 else "")
    here = str(out)
    raise LstmkitError(f"{opt('out', here)} already holds files that are not an ONNX export ({shown}); "
                       f"the export's graph, {REPORT_FILE} and {META_FILE} would be written among them",
                       f"pass a new or empty folder, e.g. {opt('out', str(out / (run.name + '-onnx')))} (it is "
                       f"created), or a graph file name, e.g. {opt('out', str(out / (run.name + '.onnx')))}")


def _is_graph_report(path: Path) -> bool:
    """Whether ``path`` is the report of an lstmkit ONNX export (any version: each names its ``opset``)."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(report, dict) and "opset" in report


def around_graph(adapter) -> dict[str, Any]:
    """``{"around_graph": [...]}``: what lstmkit applies around the adapter's graph (its
    ``around_graph`` hook), which the graph run on its own gives none of; ``{}`` without the hook.
    An adapter whose graphs a search drives (a translator) adds its numbers as ``"decoding"`` (its
    ``decoding`` hook: the special ids and the bounds), for a program to read rather than parse."""
    notes = getattr(adapter, "around_graph", None)
    decoding = getattr(adapter, "decoding", None)
    return {**({"around_graph": list(notes)} if notes else {}), **({"decoding": dict(decoding)} if decoding else {})}


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
        _traced(lambda: _torch_export(graph if traced is None else traced, adapter, names, tmp))
        _checked(lambda: _settle_output_dims(tmp, adapter), tolerance)
        around = around_graph(adapter)
        notes = {k: v for k, v in around.items() if k == "around_graph"}
        set_metadata(tmp, {"lstmkit_fingerprint": fingerprint, "lstmkit_task": adapter.task,
                           "lstmkit_state": ",".join(names),
                           **({"lstmkit_window": str(adapter.window)} if adapter.window else {}),
                           **({"lstmkit_around_graph": "; ".join(notes["around_graph"])} if notes else {})},
                     doc=_doc(adapter.task, adapter.window, notes))
        check = _checked(lambda: _against_torch(OnnxRunner(tmp, quiet=True), graph, adapter), tolerance)
        report.update({"file": path.name, "opset": OPSET, "exporter": "torchscript (dynamo=False)",
                       "inputs": ["x", *extras, *(f"{n}0" for n in names)], "outputs": ["y", *(f"{n}n" for n in names)],
                       "dynamic_axes": ["batch", "steps"], **({"window": adapter.window} if adapter.window else {}),
                       "signature": graph_signature(tmp), **check, "tolerance": tolerance,
                       "fingerprint": fingerprint, "seconds": round(time.perf_counter() - t0, 3)})
        if traced is not None:
            report["traced"] = type(traced).__name__
        report.update(around)

    atomic_write(path, write)
    return report


def write_graph(graph: nn.Module, path: Path, example: dict[str, torch.Tensor], fresh: dict[str, torch.Tensor],
                outputs: Sequence[str], dynamic_axes: dict[str, dict[int, str]], metadata: dict[str, str],
                tolerance: float = TOLERANCE, around: Sequence[str] = ()) -> dict[str, Any]:
    """Export ``graph`` (called with ``example``'s values in order, named by its keys) to ``path`` atomically,
    once ONNX Runtime reproduced every output on ``fresh`` inputs (other batch size and lengths) within
    ``tolerance`` times the outputs' size (at least 1). ``metadata`` (e.g. ``lstmkit_fingerprint``) is stamped
    into the file; ``around`` (the adapter's ``around_graph``) too, as ``lstmkit_around_graph`` and in the
    ``doc_string``, as :func:`write_onnx` stamps a one-graph task's. Returns the graph's report (file, inputs,
    outputs, max_abs_diff, output_scale, limit, ...)."""
    report: dict[str, Any] = {}
    notes = {"around_graph": list(around)} if around else {}
    metadata = {**metadata, **({"lstmkit_around_graph": "; ".join(around)} if around else {})}

    def write(tmp: str) -> None:
        t0 = time.perf_counter()
        with _torch_notes_hushed():
            _traced(lambda: torch.onnx.export(graph, tuple(example.values()), tmp, input_names=list(example),
                                              output_names=list(outputs), dynamic_axes=dynamic_axes,
                                              opset_version=OPSET, dynamo=False))
        set_metadata(tmp, metadata, doc=_doc(metadata.get("lstmkit_task", ""), None, notes))
        check = _checked(lambda: _max_abs_diff(OnnxRunner(tmp, quiet=True), graph, fresh), tolerance)
        report.update({"file": path.name, "opset": OPSET, "exporter": "torchscript (dynamo=False)",
                       "inputs": list(example), "outputs": list(outputs), "signature": graph_signature(tmp),
                       **check, "tolerance": tolerance, "seconds": round(time.perf_counter() - t0, 3)})

    atomic_write(path, write)
    return report


class ShapeRefusal(LstmkitError):
    """A traced graph that does not run on a new batch size or length (or does not trace at all):
    :func:`export_onnx` names the run's model in it."""


def _checked(check, tolerance: float) -> dict[str, float]:
    """Run a graph check (ONNX Runtime vs PyTorch), which gives ``(max abs difference, largest |output|)``;
    ``{"max_abs_diff", "output_scale", "limit"}``, or one LstmkitError. The limit is relative,
    ``tolerance * max(1, output_scale)``: float32 is exact to about 1e-7 of a value, so a graph whose
    outputs are in the thousands (a forecaster without scaling, a large-scaled target) differs from
    PyTorch by more than 1e-4 while as exact as one answering in units of 1."""
    try:
        diff, scale = check()
    except LstmkitError:
        raise
    except Exception:     # onnxruntime's own errors: the traced graph froze some shape
        raise ShapeRefusal("the ONNX graph fails on a new batch size or length",
                           "this encoder does not export with dynamic shapes yet; nothing was written") from None
    limit = tolerance * max(1.0, scale)
    if not diff <= limit:
        raise LstmkitError(f"the ONNX graph differs from PyTorch by {diff:.2e} (limit {limit:.2e}: {tolerance:g} x "
                           f"max(1, its largest output {scale:.3g}))",
                           "report this model configuration as a bug; nothing was written")
    return {"max_abs_diff": diff, "output_scale": scale, "limit": limit}


def _refusal(e: ShapeRefusal, run: Path) -> LstmkitError:
    """``e`` as one line naming the run's task and model and what to do instead."""
    meta = read_meta(run)
    model = (meta.get("config") or {}).get("model")
    what = f"the {meta.get('task')} model" + (f" {model}" if model else "")
    return LstmkitError(f"{what} of {run} does not export to ONNX with dynamic batch and length ({e.message}); "
                        "nothing was written",
                        worded("keep it on the torch engine ('lstmkit serve --run RUN --engine torch')",
                               f"keep it on the torch engine ({opt('engine', 'torch')})")
                        + f", or train an encoder that exports ({opt('model', 'lstm')})")


def _traced(export) -> None:
    """Run a ``torch.onnx.export`` call; the tracer's or exporter's failure becomes a ShapeRefusal."""
    try:
        export()
    except (LstmkitError, OSError):     # writing the graph failed (a full disk, a file size limit): said as such
        raise
    except Exception as e:     # torch's tracer / exporter errors (an op ONNX lacks, a data-dependent shape)
        raise ShapeRefusal(f"the exporter cannot trace it: {type(e).__name__}",
                           "this encoder does not export yet; nothing was written") from None


def _max_abs_diff(runner: "OnnxRunner", graph: nn.Module, inputs: dict[str, torch.Tensor]) -> tuple[float, float]:
    """Max abs difference of every output of ``graph`` and ``runner`` on the same named inputs, and
    the largest finite |value| PyTorch gave (:func:`_checked` judges the one against the other)."""
    with torch.no_grad():
        ref = graph(*inputs.values())
    ref = list(ref) if isinstance(ref, (tuple, list)) else [ref]
    got = list(runner.feed(**{k: v.numpy() for k, v in inputs.items()}).values())
    if len(got) != len(ref):
        raise LstmkitError(f"the ONNX graph has {len(got)} outputs, PyTorch's {len(ref)}",
                           "report this model configuration as a bug; nothing was written")
    return _compared(got, [b.double().numpy() for b in ref])


def _compared(got: Sequence[np.ndarray], ref: Sequence[np.ndarray]) -> tuple[float, float]:
    """``(max |got - ref|, largest finite |ref|)`` over every output (0.0 for empty ones). Values that are
    the same (an infinity, NaN in both) agree; one that is not (NaN beside a number, an infinity beside
    another value) is an infinite difference: a NaN taken as a difference was passed over by ``max``
    where another output came before it, and refused where it came first."""
    def diff(a, b) -> float:
        a = np.asarray(a, np.float64)
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        with np.errstate(invalid="ignore"):              # inf - inf: NaN, where the two agree
            return float(np.nan_to_num(np.where(same, 0.0, np.abs(a - b)), nan=np.inf).max())
    diffs = [diff(a, b) if b.size else 0.0 for a, b in zip(got, ref)]
    finite = [np.abs(b[np.isfinite(b)]) for b in ref]
    return max(diffs, default=0.0), max((float(f.max()) for f in finite if f.size), default=0.0)


def _torch_export(graph: nn.Module, adapter, names: Sequence[str], path: str) -> None:
    x = adapter.example_inputs(2)
    extras = extra_inputs(adapter, x)
    state = _zero_state(adapter, 2)
    axes: dict[str, dict[int, str]] = {"x": {0: "batch", 1: "steps"}, "y": {0: "batch"}}
    axes.update({n: {0: "batch"} for n in extras})
    for n in names:
        axes[f"{n}0"] = {1: "batch"}
        axes[f"{n}n"] = {1: "batch"}
    with _torch_notes_hushed():
        torch.onnx.export(graph, (x, *extras.values(), *state), path,
                          input_names=["x", *extras, *(f"{n}0" for n in names)],
                          output_names=["y", *(f"{n}n" for n in names)], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)


# What torch says of every export of these graphs, in Python and in C++ (straight to standard error):
# harmless here, as each graph is run against PyTorch on another batch size and length before it is kept
_KNOWN_PY = ("You are using the legacy TorchScript-based ONNX export",     # dynamo=False: the exporter we chose
             "The feature will be removed",                                # the same deprecation, from its helpers
             "Exporting a model to ONNX with a batch_size other than 1",   # an LSTM with lengths: checked after
             "Constant folding - Only steps=1 can be constant folded",     # a reversed slice (bilstm) left as it is
             # pooling 'last' takes step lengths - 1, never negative: a sequence holds a step (an empty one is refused)
             "Exporting aten::index operator of advanced indexing")
_KNOWN_CPP = re.compile(r"Warning: The shape inference of prim::(PackPadded|PadPacked) type is missing")


@contextlib.contextmanager
def _torch_notes_hushed() -> Iterator[None]:
    """Around ``torch.onnx.export``: torch's known notes on it kept from the user's terminal (the
    tracer's notes on shapes frozen into the graph, the legacy exporter's deprecation, the C++
    shape-inference warnings on a classifier's packed sequences: ``_KNOWN_PY``, ``_KNOWN_CPP``),
    any other warning shown as ever (a warning, a line on standard error)."""
    caught: list[str] = []
    try:
        with warnings.catch_warnings(), c_stderr_lines(descriptor=True) as caught:
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            for start in _KNOWN_PY:
                warnings.filterwarnings("ignore", message=re.escape(start))
            yield
    finally:
        unknown = [line for line in caught if not _KNOWN_CPP.search(line)]
        if unknown and sys.stderr is not None:
            print("\n".join(unknown), file=sys.stderr, flush=True)


def _zero_state(adapter, batch: int) -> list[torch.Tensor]:
    if not adapter.state_names:
        return []
    layers, hidden = adapter.state_shape
    return [torch.zeros(layers, batch, hidden) for _ in adapter.state_names]


def set_metadata(path: str, props: dict[str, str], doc: str | None = None) -> None:
    """Stamp ``props`` into an ONNX file's metadata (e.g. ``lstmkit_fingerprint``), replacing
    entries of the same key; ``doc``: the model's ``doc_string`` too."""
    import onnx
    model = onnx.load(path)
    entries = {p.key: p for p in model.metadata_props}
    for k, v in props.items():
        entry = entries.get(k) or model.metadata_props.add()
        entry.key, entry.value = k, v
    if doc is not None:
        model.doc_string = doc
    onnx.save(model, path)


def _doc(task: str, window: int | None, notes: dict[str, list[str]]) -> str:
    """The graph's ``doc_string``: what it is, and where its inputs' meaning is written down."""
    from lstmkit.version import __version__
    return (f"lstmkit {__version__} {task} graph. Inputs and outputs: onnx.json beside it (a graph exported "
            "as a file of its own name: its file name + .json; int8: export_report.json); "
            "scaling, vocabulary and labels: lstmkit.json and vocab.json (copied beside it; a graph exported as "
            "a file: its file name + .lstmkit.json, .vocab.json)."
            + (f" x holds the last {window} steps." if window else "")
            + (" Around the graph: " + "; ".join(notes["around_graph"]) + "." if notes else ""))


def graph_signature(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """``{"inputs": [...], "outputs": [...]}`` of an ONNX file, each ``{"name", "dtype", "shape"}``
    (numpy's dtype name; a dimension's size, or its name where it is dynamic): what a caller
    without lstmkit feeds the graph and reads from it."""
    import onnx
    graph = onnx.load(str(path), load_external_data=False).graph

    def one(v) -> dict[str, Any]:
        t = v.type.tensor_type
        return {"name": v.name, "dtype": onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name,
                "shape": [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim]}

    stored = {i.name for i in graph.initializer}
    return {"inputs": [one(v) for v in graph.input if v.name not in stored], "outputs": [one(v) for v in graph.output]}


def _settle_output_dims(path: str, adapter) -> tuple[float, float]:
    """Give the exporter's made-up output dimensions (``Gathery_dim_1``) their meaning: a size where
    the graph answers the same size for every batch and length (a forecast's horizon and targets),
    ``steps`` where it is the input's length, ``y_steps`` where it changes with it otherwise (a speech
    graph's frames after subsampling). Run on two batch sizes and lengths; returns (0.0, 0.0) (for :func:`_checked`)."""
    import onnx
    runner = OnnxRunner(path, quiet=True)
    steps = adapter.example_inputs(1).shape[1]
    runs = []
    for batch, length in ((2, steps), (3, 2 * steps + 1)):
        x = adapter.example_inputs(batch, length)
        y, state = runner.run(x.numpy(), None, **{k: v.numpy() for k, v in extra_inputs(adapter, x).items()})
        runs.append((length, [np.shape(a) for a in (y, *state)]))
    model = onnx.load(path)
    for k, out in enumerate(model.graph.output):
        for j, d in enumerate(out.type.tensor_type.shape.dim):
            if d.HasField("dim_value") or d.dim_param in ("batch", "steps"):
                continue
            (s1, shapes1), (s2, shapes2) = runs
            if shapes1[k][j] == shapes2[k][j]:
                d.dim_value = int(shapes1[k][j])
            else:                 # the input's length, or one that follows it (speech's frames after subsampling)
                d.dim_param = "steps" if (shapes1[k][j], shapes2[k][j]) == (s1, s2) else f"{out.name}_steps"
    onnx.save(model, path)
    return 0.0, 0.0


def check_against_torch(runner: "OnnxRunner", graph: nn.Module, adapter, seed: int = 1) -> float:
    """Max abs difference of every output on fresh inputs: batch 3, window + 5 steps, random state."""
    return _against_torch(runner, graph, adapter, seed)[0]


def _against_torch(runner: "OnnxRunner", graph: nn.Module, adapter, seed: int = 1) -> tuple[float, float]:
    """:func:`check_against_torch`'s difference and PyTorch's largest |output| (:func:`_compared`)."""
    g = torch.Generator().manual_seed(seed)
    x = adapter.example_inputs(3, (adapter.window or 1) + 5, seed=seed)
    extras = extra_inputs(adapter, x, seed)
    state = [0.5 * torch.randn(s.shape, generator=g) for s in _zero_state(adapter, 3)]
    with torch.no_grad():
        ref = graph(x, *extras.values(), *state)
    ref = list(ref) if isinstance(ref, tuple) else [ref]
    y, out_state = runner.run(x.numpy(), [s.numpy() for s in state], **{k: v.numpy() for k, v in extras.items()})
    return _compared([y, *out_state], [b.double().numpy() for b in ref])
