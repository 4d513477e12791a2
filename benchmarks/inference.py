"""Inference speed of the tutorial forecaster: PyTorch fp32, int8 and ONNX Runtime; streaming steps.

Workload (as ANCHORS.md): 20,000-point series, lookback 60, one feature, 2-layer LSTM(50),
dropout 0.2, linear head, absolute mode; 2 threads. Speed does not depend on the weights, so the
net is freshly initialised (seed 42) and saved as a run folder, which then goes through the same
``lstmkit export onnx`` / ``export int8`` code as a user's run.

Prints one JSON line per engine (batch-1024 windows/s, batch-1 latency), one per streaming
engine (per-step latency), then a summary line with the targets: ONNX batch-1 <= 0.15 ms and
>= 1.25x PyTorch batch throughput, streaming step <= 0.1 ms. Engines are measured in rounds,
alternating, in this one process; the median round counts (the machine may be shared).

    python benchmarks/inference.py [--rounds 3] [--seconds 0.5] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

N, LOOKBACK, HIDDEN, LAYERS, DROPOUT, BATCH, SEED = 20_000, 60, 50, 2, 0.2, 1024, 42


def make_series(n: int = N, seed: int = SEED) -> np.ndarray:
    """Two sines + trend + AR(1) noise (the tutorial's shape of data)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    noise = np.zeros(n)
    for i in range(1, n):
        noise[i] = 0.6 * noise[i - 1] + rng.normal(0, 0.3)
    return 10 + 2 * np.sin(2 * np.pi * t / 50) + np.sin(2 * np.pi * t / 365) + 0.001 * t + noise


def tutorial_run(folder: Path, series: np.ndarray) -> Path:
    """A finished forecast run folder holding the (untrained) tutorial network."""
    from lstmkit.tasks.forecast.estimator import Forecaster
    from lstmkit.tasks.forecast.model import ForecastNet
    from lstmkit.tasks.forecast.probabilistic import Output
    from lstmkit.tasks.forecast.scalers import PanelScaler
    torch.manual_seed(SEED)
    est = Forecaster(target=["y"], lookback=LOOKBACK, hidden_size=HIDDEN, num_layers=LAYERS, dropout=DROPOUT,
                     relative=False)
    est.config_ = est.config
    est.net_ = ForecastNet(1, 1, 1, "lstm", HIDDEN, LAYERS, DROPOUT, relative=False).eval()
    est.output_, est.series_ids_, est.input_names_ = Output("point"), ["series"], ["y"]   # a panel of one
    est.panel_scaler_ = PanelScaler("minmax").fit_one("series", series[: int(0.7 * len(series)), None])
    est.covariate_scaler_, est.n_past_, est.n_future_ = None, 0, 0
    est.season_ = 50
    est.data_summary_ = {"rows": len(series), "source": None}
    return est.save(folder / "tutorial")


def _median_call(fn, x, seconds: float) -> float:
    fn(x)
    times, t0 = [], time.perf_counter()
    while time.perf_counter() - t0 < seconds or len(times) < 5:
        t = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=0.5, help="per engine, per measurement, per round")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")

    from lstmkit.data.windows import make_windows
    from lstmkit.deploy.onnx import OnnxNet, OnnxRunner, export_onnx
    from lstmkit.deploy.quantize import export_int8
    from lstmkit.tasks.forecast.estimator import Forecaster

    series = make_series()
    with tempfile.TemporaryDirectory() as tmp:
        run = tutorial_run(Path(tmp), series)
        export_onnx(run)
        int8 = export_int8(run, min_seconds=0.1)
        fp32 = Forecaster.load(run)
        scaled = torch.from_numpy(fp32.model_inputs(series))                   # [N, 1] scaled
        X, _ = make_windows(scaled, scaled, LOOKBACK, 1)                       # [N-60, 60, 1] views
        xb, x1 = X[:BATCH].contiguous(), X[BATCH:BATCH + 1].contiguous()
        engines = {
            "torch-fp32": fp32.net_,
            "torch-int8": Forecaster.load(int8).net_,
            "onnxruntime-fp32": OnnxNet(OnnxRunner(run / "model.onnx", args.threads)),
            "onnxruntime-int8": OnnxNet(OnnxRunner(int8 / "model.onnx", args.threads)),
        }
        streams = {"torch": fp32.stream(mode="state", engine="torch"),
                   "onnxruntime": fp32.stream(mode="state", engine="onnx")}
        values = series[:2000].tolist()
        rounds: dict[str, list[dict[str, float]]] = {k: [] for k in [*engines, *(f"stream-{s}" for s in streams)]}
        with torch.inference_mode():
            for _ in range(args.rounds):
                for name, net in engines.items():
                    rounds[name].append({"windows_per_s": BATCH / _median_call(net, xb, args.seconds),
                                         "latency_ms": 1e3 * _median_call(net, x1, args.seconds)})
                for name, s in streams.items():
                    s.reset()
                    k, times, t0 = 0, [], time.perf_counter()
                    while time.perf_counter() - t0 < args.seconds or len(times) < 200:
                        t = time.perf_counter()
                        s.step(values[k % len(values)])
                        times.append(time.perf_counter() - t)
                        k += 1
                    rounds[f"stream-{name}"].append({"step_ms": 1e3 * statistics.median(times),
                                                     "step_p99_ms": 1e3 * float(np.percentile(times, 99))})

    med = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in rounds.items()}
    base = med["torch-fp32"]
    for name in engines:
        m = med[name]
        print(json.dumps({"bench": "inference", "engine": name, "batch": BATCH,
                          "windows_per_s": round(m["windows_per_s"], 1), "latency_ms": round(m["latency_ms"], 4),
                          "throughput_ratio_vs_torch": round(m["windows_per_s"] / base["windows_per_s"], 3),
                          "latency_ratio_vs_torch": round(base["latency_ms"] / m["latency_ms"], 3),
                          "threads": args.threads, "rounds": args.rounds}))
    for name in streams:
        m = med[f"stream-{name}"]
        print(json.dumps({"bench": "stream_step", "engine": name, "mode": "state",
                          "step_ms": round(m["step_ms"], 4), "step_p99_ms": round(m["step_p99_ms"], 4)}))
    onnx = med["onnxruntime-fp32"]
    best_stream = min(med[f"stream-{s}"]["step_ms"] for s in streams)
    summary = {"bench": "inference_targets",
               "onnx_latency_ms": round(onnx["latency_ms"], 4), "onnx_latency_ok": onnx["latency_ms"] <= 0.15,
               "onnx_throughput_ratio": round(onnx["windows_per_s"] / base["windows_per_s"], 3),
               "onnx_throughput_ok": onnx["windows_per_s"] >= 1.25 * base["windows_per_s"],
               "stream_step_ms": round(best_stream, 4), "stream_step_ok": best_stream <= 0.1,
               "note": "shared 2-core machine; ratios are from one process, absolute numbers drift"}
    print(json.dumps(summary))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
