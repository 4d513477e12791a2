"""``lstmkit export onnx|int8 --run RUN`` and ``lstmkit serve --run RUN [--run RUN2 ...]``.

Heavy imports (onnx, onnxruntime, fastapi, uvicorn) happen inside the commands, so the CLI starts
without the optional extras installed.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import List, Optional

import typer

__all__ = ["export_app", "serve_command"]

export_app = typer.Typer(help="Export a run: ONNX graph with explicit state, or an int8 run.",
                         no_args_is_help=True, add_completion=False)


@export_app.command("onnx")
def export_onnx_command(run: Path = typer.Option(..., help="Run folder from 'train'."),
                        out: Optional[Path] = typer.Option(None, help="Write here instead of RUN/model.onnx.")):
    """ONNX graph (dynamic batch and length; h0, c0 -> hn, cn), checked against PyTorch first."""
    from lstmkit.deploy.onnx import export_onnx, report_path
    path = export_onnx(run, out)
    report = report_path(run, out, path)
    r: dict = {}
    if report.is_file():
        r = json.loads(report.read_text(encoding="utf-8"))
        for name, g in (r.get("graphs") or {"": r}).items():      # a translator: encoder and decoder
            typer.echo(f"{name + ': ' if name else ''}inputs {', '.join(g['inputs'])} -> outputs "
                       f"{', '.join(g['outputs'])}; max abs diff vs PyTorch {g['max_abs_diff']:.1e}"
                       + (f" (limit {g['limit']:.1e})" if "limit" in g else ""))
        check = r.get("decoding_check")         # a translator's two graphs driven together
        if check:
            typer.echo(f"decoding: {check['sentences']} random sources, beam {' and '.join(map(str, check['beams']))}: "
                       f"{check['same_tokens']}/{check['searches']} searches wrote PyTorch's tokens")
    copies = ", ".join((r.get("run_files") or {}).values())      # what the graphs read, copied from the run
    typer.echo(f"wrote {path}" + (f" (its report: {report}; the run's files it reads: {copies})" if out is not None
                                  else ""))


@export_app.command("int8")
def export_int8_command(run: Path = typer.Option(..., help="Run folder from 'train'."),
                        out: Optional[Path] = typer.Option(None, help="New run folder.  [default: RUN-int8]"),
                        data: Optional[Path] = typer.Option(None, help="Data for the test metrics, which decide "
                                                            "whether int8 may be the engine.  [default: the run's own test part]"),
                        backend: str = typer.Option("auto", help="torch, onnx, or auto (measure both, keep the faster).")):
    """Dynamic int8 quantization into a new run folder, with export_report.json."""
    from lstmkit.deploy.quantize import REPORT_FILE, export_int8
    from lstmkit.errors import LstmkitError
    backends = {"auto": ("torch", "onnx"), "torch": ("torch",), "onnx": ("onnx",)}.get(backend)
    if backends is None:
        raise LstmkitError(f"unknown backend {backend!r}", "use torch, onnx or auto")
    target = export_int8(run, out, data=str(data) if data else None, backends=backends,
                         log=(lambda stage: typer.echo(stage, err=True)) if sys.stderr.isatty() else None)
    # the stages are progress: on a terminal; a script's standard error keeps one line for an error
    r = json.loads((target / REPORT_FILE).read_text(encoding="utf-8"))
    for name, c in r["candidates"].items():
        change = c.get("metric_change") or {}
        mark = "  <- kept as engine" if name == r["engine"] else ""
        typer.echo(f"{name:5s}: {size_change(c['size_ratio'])}, {times(c['speed_ratio_batch'])} batch speed, "
                   f"{times(c['speed_ratio_latency'])} batch-1 speed"
                   + metric_words(change, r["fp32"].get("metrics"))
                   + (f" (not the engine: {c['quality_refused']})" if "quality_refused" in c else "") + mark)
    for name, why in r["refused"].items():
        typer.echo(f"{name:5s}: refused: {why}")
    for note in (slower_note(r), stalled_note(r)):
        if note:
            typer.echo(note)
    typer.echo(f"wrote {target}")


def slower_note(report: dict) -> str | None:
    """A line for an int8 engine slower than the float run both in batches and one at a time (a CPU
    without fast int8 kernels, a model too small for them to pay): it was only "0.37x batch speed <-
    kept as engine", and int8 is usually taken for speed. None when it is faster either way."""
    chosen = report.get("chosen") or {}
    batch, one = chosen.get("speed_ratio_batch"), chosen.get("speed_ratio_latency")
    if batch is None or one is None or batch >= 1 or one >= 1:
        return None
    return (f"note: the int8 engine ({report['engine']}) is slower than the float run on this machine ({times(batch)} "
            f"batch speed, {times(one)} batch-1 speed): serve the float run where speed matters; the int8 run is "
            f"{size_change(chosen['size_ratio'])}")


_POINTS = ("accuracy", "wer")    # shares of 1 in export_report.json, said in points (x 100) as the int8 gates say them


def metric_words(change: dict, before: dict | None) -> str:
    """The test metrics' changes int8 made, each after a comma. A forecaster's MAE is in the data's
    units, so its change is said as a share of the float run's too: "MAE +123.4" of sales in the
    millions (or "+4.9e-11" of prices near 1e-4) said nothing of whether it mattered; its MASE, which
    the int8 gate judges as a share (at most +3 %), likewise (the line left it out). A change with no
    value (``null`` in export_report.json: the MASE of a series that repeats itself, n/a in train's
    table) is ``n/a``: its format was a TypeError after the int8 run was written. Accuracy and WER, shares
    in the JSON, are said in points as the int8 gate and its refusal say them: one line read "accuracy
    -0.006667 (not the engine: accuracy fell 0.67 points ...)" of one change; perplexity, which the gate
    judges as a share (at most +1 %), as a share of the float run's too."""
    words = ""
    for m in ("MAE", "MASE", "accuracy", "bleu", "perplexity", "wer"):
        if m in change and not (isinstance(change[m], (int, float)) and math.isfinite(change[m])):
            words += f", {m} n/a"
        elif m in change and m in _POINTS:
            words += f", {m} {100 * change[m]:+.2f} points"
        elif m in change:
            words += f", {m} {change[m]:+.4g}"
            base = (before or {}).get(m) if m in ("MAE", "MASE", "perplexity") else None
            if isinstance(base, (int, float)) and math.isfinite(base) and base > 0:
                words += f" ({100 * change[m] / base:+.2g} % of {base:.4g})"
    return words


def times(ratio: float) -> str:
    """A speed ratio as the summary says it: '1.07x', '0.37x'; one under 0.1 with two significant
    digits, '0.0013x' (``.2f`` printed '0.00x batch-1 speed', as if int8 never answered); one of 100
    or more whole, '15,910x'."""
    if ratio >= 100:
        return f"{ratio:,.0f}x"
    return f"{ratio:.2f}x" if ratio >= 0.1 or ratio == 0 else f"{ratio:.2g}x"


_STALLED = 100          # a speed ratio this far from 1 (either way) is seldom the engines' own difference


def stalled_note(report: dict) -> str | None:
    """A line for a speed ratio of 100x or more, or 1/100 or less: int8 does not change a model's speed
    that much, a timing that stalled (a busy machine, another process woken) does; the summary printed
    such a ratio like any other. None when every ratio is nearer 1."""
    far = [f"{name} {what} {times(c[key])}" for name, c in (report.get("candidates") or {}).items()
           for key, what in (("speed_ratio_batch", "batch"), ("speed_ratio_latency", "batch-1"))
           if isinstance(c.get(key), (int, float)) and c[key] > 0 and not 1 / _STALLED < c[key] < _STALLED]
    if not far:
        return None
    return (f"note: {', '.join(far)}: a speed this far from the float run's is most likely a timing that stalled "
            "(a busy machine); export again on an idle one to measure it")


def size_change(ratio: float) -> str:
    """fp32 bytes / candidate bytes as words: '1.78x smaller', or '1.54x larger' (not '0.65x smaller')."""
    return f"{ratio:.2f}x smaller" if ratio >= 1 else f"{1 / ratio:.2f}x larger"


def serve_command(run: List[str] = typer.Option(..., metavar="<run>", help="Run folder to serve; repeat for several runs, each "
                                                "served under its folder's name (or NAME=PATH)."),
                  host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
                  port: int = typer.Option(8000, help="TCP port (0: any free port)."),
                  engine: str = typer.Option("auto", help="torch, onnx, or auto."),
                  max_body: int = typer.Option(1_000_000, help="Largest request body / message in bytes."),
                  max_streams: int = typer.Option(64, help="Most WebSocket streams open at once."),
                  stream_idle: int = typer.Option(300, metavar="<seconds>", help="When every stream place is taken, "
                                                  "a new stream takes the place of the one idle longest if it has "
                                                  "had no message for this long (0: never)."),
                  cors_origin: List[str] = typer.Option([], metavar="<origin>", help="Let web pages of this origin "
                                                         "call the service (http://localhost:3000, or * for any); "
                                                         "repeat for several."),
                  watch: float = typer.Option(2.0, metavar="<seconds>", help="Look at each run folder this often "
                                              "(on the next request) and serve its new model once it is kept there "
                                              "and loads whole; the old one answers meanwhile (0: never).")):
    """HTTP service: POST /models/NAME/predict, WebSocket /models/NAME/stream, GET /health, /models,
    /models/NAME, /docs (one run: POST /predict, WebSocket /stream, GET /model too)."""
    from lstmkit.deploy.server import serve
    serve(run, host=host, port=port, engine=engine, max_body=max_body, max_streams=max_streams,
          cors_origins=cors_origin, stream_idle=stream_idle, watch=watch)
