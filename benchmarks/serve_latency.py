"""HTTP latency of ``lstmkit serve`` on the tutorial forecaster, over loopback only.

Starts the real server (``python -m lstmkit serve --port 0``) in a subprocess for each engine,
sends ``--requests`` POST /predict requests (one 60-step window each) from ``--clients``
concurrent keep-alive clients, then a bounded run of WebSocket stream steps from one client,
and stops the server with SIGTERM. Prints one JSON line per engine (p50 / p99 latency, errors,
requests/s) and one per stream. Targets (issue 17, quiet machine): p99 <= 25 ms with 0 errors, both engines.

    python benchmarks/serve_latency.py [--requests 2000] [--clients 16] [--engines onnx,torch]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inference import LOOKBACK, make_series, tutorial_run  # noqa: E402

P99_TARGET_MS = 25.0     # issue 17: p99 <= 25 ms for 2,000 requests from 16 clients, on a quiet machine


def start_server(run: Path, engine: str) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    proc = subprocess.Popen([sys.executable, "-m", "lstmkit", "serve", "--run", str(run), "--port", "0",
                             "--engine", engine], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"server did not start: {line!r} {proc.stderr.read()[-2000:]}")
    return proc, int(line.split("http://127.0.0.1:")[1].split()[0])


def http_load(port: int, body: bytes, requests: int, clients: int, timeout: float = 10.0) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    share = [requests // clients + (1 if k < requests % clients else 0) for k in range(clients)]

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        mine, bad = [], []
        for _ in range(n):
            t = time.perf_counter()
            try:
                conn.request("POST", "/predict", body=body, headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    bad.append(str(resp.status))
            except (OSError, http.client.HTTPException) as e:
                bad.append(type(e).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            mine.append(time.perf_counter() - t)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client, args=(n,)) for n in share]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    ms = np.array(latencies) * 1e3
    return {"requests": len(latencies), "errors": len(errors), "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3), "max_ms": round(float(ms.max()), 3),
            "requests_per_s": round(len(latencies) / wall, 1)}


def stream_load(port: int, values: list[float], steps: int) -> dict:
    from websockets.sync.client import connect
    times = []
    with connect(f"ws://127.0.0.1:{port}/stream", open_timeout=10) as ws:
        for k in range(steps):
            t = time.perf_counter()
            ws.send(json.dumps({"y": values[k % len(values)]}))
            json.loads(ws.recv(timeout=10))
            times.append(time.perf_counter() - t)
    ms = np.array(times) * 1e3
    return {"steps": steps, "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--stream-steps", type=int, default=500)
    ap.add_argument("--engines", default="onnx,torch")
    args = ap.parse_args()
    from lstmkit.deploy.onnx import export_onnx

    series = make_series()
    body = json.dumps({"instances": [{"y": series[-LOOKBACK:].tolist()}]}).encode()
    with tempfile.TemporaryDirectory() as tmp:
        run = tutorial_run(Path(tmp), series)
        export_onnx(run)
        for engine in args.engines.split(","):
            proc, port = start_server(run, engine)
            try:
                http_load(port, body, 50, 4)                          # warm-up
                r = http_load(port, body, args.requests, args.clients)
                print(json.dumps({"bench": "serve_predict", "engine": engine, "clients": args.clients, **r,
                                  "target_ok": r["p99_ms"] <= P99_TARGET_MS and r["errors"] == 0}), flush=True)
                s = stream_load(port, series[:1000].tolist(), args.stream_steps)
                print(json.dumps({"bench": "serve_stream", "engine": engine, **s}), flush=True)
            finally:
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(timeout=30)
            if code != 0:
                print(json.dumps({"bench": "serve_shutdown", "engine": engine, "exit_code": code}), flush=True)
    print(json.dumps({"bench": "serve_note", "note": "client and server share one busy 2-core machine; "
                      "latencies include the Python clients' own time"}))


if __name__ == "__main__":
    main()
