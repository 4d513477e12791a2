"""How the paths around training grow with their input: each user-facing reader at a base size, 10x and 100x.

For each path the input grows by 10 and 100; each size runs in a fresh process (its data written
beforehand, by this one) that times the call and reads the resident memory it added (VmHWM reset
before the call, Linux; ru_maxrss elsewhere, a lifetime peak). A path that grows linearly takes about
10x the time at 10x the input; ``time_ratio`` far above ``size_ratio`` is a super-linear step (a
quadratic loop, per-row Python that slows with size, repeated concatenation). Time is disturbed by
other jobs on the machine, memory is not: compare the ratios of one run, and repeat (``--repeats``
keeps each size's fastest call).

Paths (base size; 10x and 100x follow):

* ``forecast_rows``  -- a one-series table of time,value rows read into a panel and split into its
  windows (``read_panel`` + ``split_panel``, what ``Forecaster.fit`` reads before training): 10,000 rows;
* ``forecast_panel`` -- a long table of 100-point series with an id column, the same calls: 100 series;
* ``classify``       -- a text,label CSV read (``read_texts``), a word vocabulary fitted on it and every
  text encoded: 1,000 lines (the vocabulary grows with the lines);
* ``translate``      -- two line-aligned files read as pairs (``read_pairs``), a tokenizer fitted on each
  side and every sentence encoded: 1,000 pairs;
* ``lm``             -- a plain-text corpus read (``read_corpus``), a word tokenizer fitted, each line encoded:
  1,000 lines;
* ``speech``         -- a path,text manifest read (``read_manifest``; empty files stand in for the audio,
  which it does not decode): 100 lines;
* ``list_sort``      -- ``lstmkit list --sort metric``'s ordering and table (``sort_by_metric`` +
  ``format_runs``) of runs each of its own data: 100 runs (it was quadratic: 10,000 runs took 17 s);
* ``write_json`` / ``write_csv`` -- a forecast table (time, id, three float columns) written by
  ``--out t.json`` / ``t.csv``'s writer: 10,000 rows.

Prints one JSON line per path: ``sizes``, ``seconds``, ``peak_mb``, ``size_ratio`` and ``time_ratio``
(each size's to the base's), ``mb_ratio``.

    python benchmarks/input_growth.py [--paths forecast_rows,classify] [--scale 100|10] [--repeats 2]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _memory import reset_peak, status_kib

BASE = {"forecast_rows": 10_000, "forecast_panel": 100, "classify": 1_000, "translate": 1_000, "lm": 1_000,
        "speech": 100, "list_sort": 100, "write_json": 10_000, "write_csv": 10_000}
PANEL_LENGTH = 100          # points per series of forecast_panel


def _sentence(rng: random.Random, vocab: int, words: int) -> str:
    """``words`` words of a Zipf-like vocabulary of ``vocab`` words (a few frequent, most rare)."""
    return " ".join("w%x" % int(vocab * rng.random() ** 2) for _ in range(words))


def make_data(path: str, n: int, d: Path) -> None:
    """Write the input of ``path`` at size ``n`` into the folder ``d``."""
    rng = random.Random(0)
    d.mkdir(parents=True, exist_ok=True)
    if path == "forecast_rows":
        t = np.arange(n)
        v = np.sin(t / 24) + np.random.default_rng(0).normal(0, 0.1, n)
        stamps = (np.datetime64("2000-01-01T00:00") + t.astype("timedelta64[h]")).astype(str)
        (d / "d.csv").write_text("time,value\n" + "".join(f"{a},{b:.4f}\n" for a, b in zip(stamps, v)))
    elif path == "forecast_panel":
        with open(d / "d.csv", "w") as f:
            f.write("id,time,value\n")
            for s in range(n):
                v = np.sin(np.arange(PANEL_LENGTH) / 7 + s) + s % 5
                f.write("".join(f"s{s},{i},{x:.4f}\n" for i, x in enumerate(v)))
    elif path == "classify":
        (d / "d.csv").write_text("text,label\n" + "".join(
            f"{_sentence(rng, n, 12)},{'pos' if rng.random() < 0.5 else 'neg'}\n" for _ in range(n)))
    elif path == "translate":
        (d / "src.txt").write_text("".join(_sentence(rng, n, 10) + "\n" for _ in range(n)))
        (d / "tgt.txt").write_text("".join(_sentence(rng, n, 11).upper() + "\n" for _ in range(n)))
    elif path == "lm":
        (d / "c.txt").write_text("".join(_sentence(rng, n, 15) + "\n" for _ in range(n)))
    elif path == "speech":
        (d / "a").mkdir(exist_ok=True)
        for i in range(n):
            (d / "a" / f"u{i}.wav").write_bytes(b"")
        (d / "m.csv").write_text("path,text\n" + "".join(f"a/u{i}.wav,{_sentence(rng, 50, 4)}\n" for i in range(n)))


def _call(path: str, n: int, d: Path):
    """The call measured: everything imported and its in-memory input made beforehand."""
    if path in ("forecast_rows", "forecast_panel"):
        from lstmkit.tasks.forecast.config import ForecastConfig
        from lstmkit.tasks.forecast.panel import read_panel
        from lstmkit.tasks.forecast.windows import split_panel
        cfg = (ForecastConfig(target=["value"], time="time", lookback=48, horizon=24) if path == "forecast_rows" else
               ForecastConfig(target=["value"], time="time", id="id", lookback=24, horizon=8))
        need = 200 if path == "forecast_rows" else 50
        return lambda: split_panel(read_panel(str(d / "d.csv"), cfg, need=need), cfg)
    if path == "classify":
        from lstmkit.data.vocab import WordTokenizer
        from lstmkit.tasks.classify.data import read_texts

        def classify():
            texts = read_texts(str(d / "d.csv")).texts
            WordTokenizer().fit(texts).encode_many(texts)
        return classify
    if path == "translate":
        from lstmkit.tasks.translate.data import SideTokenizer, read_pairs

        def translate():
            pairs = read_pairs(src_file=d / "src.txt", tgt_file=d / "tgt.txt")
            for side in (pairs.src, pairs.tgt):
                tok = SideTokenizer().fit(side)
                [tok.encode(s) for s in side]
        return translate
    if path == "lm":
        from lstmkit.tasks.lm.data import LMTokenizer, read_corpus

        def lm():
            lines = read_corpus(str(d / "c.txt")).lines
            tok = LMTokenizer(level="word").fit(lines)
            [tok.encode(s) for s in lines]
        return lm
    if path == "speech":
        from lstmkit.tasks.speech.manifest import read_manifest
        return lambda: read_manifest(d / "m.csv")
    if path == "list_sort":
        from lstmkit.run_list import format_runs, sort_by_metric
        rows = [{"run": f"runs/forecast-20260101-{i:06d}", "task": "forecast", "status": "finished",
                 "state": "finished", "epochs": 1, "written": None, "data": "%012x" % i,
                 "metric": {"name": "MASE", "value": (i * 7919) % 1000 / 1000, "higher_is_better": False,
                            "part": "test", "split": "test", "shown": "MASE 0.5"}} for i in range(n)]
        return lambda: format_runs(sort_by_metric(rows))
    if path in ("write_json", "write_csv"):
        import pandas as pd

        from lstmkit.table_out import write_table
        rng = np.random.default_rng(0)
        df = pd.DataFrame({"time": pd.date_range("2000-01-01", periods=n, freq="h"),
                           "id": [f"s{i % 100}" for i in range(n)], "forecast": rng.normal(size=n),
                           "q0.1": rng.normal(size=n), "q0.9": rng.normal(size=n)})
        out = d / ("t.json" if path == "write_json" else "t.csv")
        return lambda: write_table(df, out)
    raise SystemExit(f"unknown path {path!r}; known: {', '.join(BASE)}")


def measure_one(path: str, n: int, d: Path, repeats: int) -> dict:
    """In this process: the fastest of ``repeats`` calls and the most resident memory one added (MB)."""
    import warnings
    warnings.simplefilter("ignore")          # the generated data's repeated texts are warned about
    call = _call(path, n, d)
    best, peak = float("inf"), 0.0
    for _ in range(repeats):
        proc = reset_peak() and status_kib("VmHWM") is not None
        base = status_kib("VmRSS") if proc else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - t0)
        top = status_kib("VmHWM") if proc else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = max(peak, (top - base) / 1024)
    return {"seconds": best, "peak_mb": peak}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--paths", default=",".join(BASE))
    ap.add_argument("--scale", type=int, default=100, choices=(10, 100),
                    help="the largest size, as a multiple of the base")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--one", nargs=3, metavar=("PATH", "N", "DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one[0], int(args.one[1]), Path(args.one[2]), args.repeats)))
        return
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[1] / "src"),
                                                                     os.environ.get("PYTHONPATH")]))}
    factors = (1, 10) if args.scale == 10 else (1, 10, 100)
    with tempfile.TemporaryDirectory(prefix="lstmkit-growth-") as tmp:
        for path in args.paths.split(","):
            sizes = [BASE[path] * f for f in factors]
            results = []
            for n in sizes:
                d = Path(tmp) / f"{path}-{n}"
                make_data(path, n, d)
                out = subprocess.run([sys.executable, __file__, "--one", path, str(n), str(d), "--repeats",
                                      str(args.repeats)], env=env, capture_output=True, text=True, check=True)
                results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            first = results[0]
            print(json.dumps({
                "benchmark": "input_growth", "path": path, "sizes": sizes,
                "seconds": [round(r["seconds"], 4) for r in results],
                "peak_mb": [round(r["peak_mb"], 1) for r in results],
                "size_ratio": [n // sizes[0] for n in sizes],
                "time_ratio": [round(r["seconds"] / first["seconds"], 1) for r in results],
                "mb_ratio": [round(r["peak_mb"] / first["peak_mb"], 1) if first["peak_mb"] > 0.05 else None
                             for r in results],
            }), flush=True)


if __name__ == "__main__":
    main()
