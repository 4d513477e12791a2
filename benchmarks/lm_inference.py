"""Inference speed of a small language model: PyTorch fp32 against ONNX Runtime on the step graph.

Workload: a char-level 2-layer LSTM(128), embeddings 64, trained for one epoch on generated
sentences (speed does not depend on how well it is trained), saved as a run folder and exported
with the same ``lstmkit export onnx`` code as a user's run. Measured, alternating engines in
rounds in this one process (the median round counts; the machine may be shared):

* ``tokens_per_s``: logits for a batch of 64 texts x 64 tokens (``net(x)`` / the graph);
* ``graph_step_ms``: one token at batch 1 through the step graph from a carried state;
* ``stream_step_ms``: the same through :class:`~lstmkit.tasks.lm.stream.LMStream` (what a
  WebSocket message costs: text in, state kept, log-probability and top 5 next tokens out).

``onnx`` is the run's exported graph (time-major, the first layer's input projection a table:
:mod:`lstmkit.tasks.lm.graph`); ``onnx-plain`` the stateful net traced as it is (the graph before
that, and the one int8 quantizes), timed on the batch and the step. Prints one JSON line per
engine, one ``profile`` line (ONNX Runtime's kernel time per op type on the batch, and PyTorch's
self CPU time per op on it: where each engine spends it), a summary line with the ratios
(ONNX / PyTorch) and a ``ceiling`` line: the tokens/s of the batch's matrix products alone at this
machine's measured product speed (:func:`ceiling`), what no fp32 engine can pass, and how far each
engine is from it. Where torch already runs within 1.25x of it, no fp32 engine can be 1.25x
torch. The line also gives ``graph_tokens_per_s``: the same sum with the exported graph's own
first-layer product (one-hot rows ``[B*T, V] @ [V, 4H]``, where the ceiling counts a table
lookup), what ONNX Runtime's ``LSTM`` ops would take were they nothing but their products
(``onnx_share_of_graph_products``).

    python benchmarks/lm_inference.py [--rounds 3] [--seconds 0.5] [--threads 1] [--clock wall|cpu]

``--clock cpu`` (one thread only) times each call by the calling thread's CPU time: on a shared
machine that leaves out the time other processes hold the core (ONNX Runtime and torch both run
a one-thread call on the calling thread).

:func:`small_lm_run` builds the run; ``benchmarks/inference.py`` may import it.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

BATCH, STEPS, SEED = 64, 64, 0


def sentences(n: int, seed: int = SEED) -> list[str]:
    """A toy language: 'the <adjective> <noun> <verb> <adverb>'."""
    rng = np.random.default_rng(seed)
    words = (["red", "big", "small", "old", "quick"], ["dog", "cat", "bird", "fish", "horse"],
             ["runs", "sits", "sleeps", "eats", "jumps"], ["today", "slowly", "again", "at home", "now"])
    return [" ".join(["the", *(str(rng.choice(w)) for w in words)]) for _ in range(n)]


def small_lm_run(folder: str | Path, level: str = "char", hidden_size: int = 128, num_layers: int = 2,
                 embed_dim: int = 64, lines: int = 400, export: bool = True, seed: int = SEED) -> Path:
    """A finished ``lm`` run folder (one epoch on generated sentences), with ``model.onnx`` when
    ``export``; returns the run folder."""
    from lstmkit import LanguageModel
    from lstmkit.deploy.onnx import export_onnx
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    text = folder / "sentences.txt"
    text.write_text("\n".join(sentences(lines, seed)) + "\n")
    lm = LanguageModel(level=level, hidden_size=hidden_size, num_layers=num_layers, embed_dim=embed_dim,
                       dropout=0.0, max_epochs=1, batch_size=32, seed=seed, min_freq=1, progress="off",
                       tensorboard=False, doctor=False).fit(str(text), out=folder)
    if export:
        export_onnx(lm.run_dir_)
    return lm.run_dir_


CLOCK = time.perf_counter


def _per_call(fn, seconds: float) -> float:
    fn()
    times, t0 = [], time.perf_counter()
    while time.perf_counter() - t0 < seconds or len(times) < 5:
        t = CLOCK()
        fn()
        times.append(CLOCK() - t)
    return float(np.median(times))


def measure(run: Path, rounds: int, seconds: float) -> dict[str, dict[str, float]]:
    from lstmkit.deploy.onnx import write_onnx
    from lstmkit.deploy.onnx_engine import OnnxRunner, load_runner
    from lstmkit.deploy.registry import adapter_for
    from lstmkit.deploy.streaming import TorchCore
    adapter = adapter_for(run)
    net, runner = adapter.net, load_runner(run)
    write_onnx(adapter, run / "plain.onnx", fingerprint="")
    plain = OnnxRunner(run / "plain.onnx")
    x = adapter.example_inputs(BATCH, STEPS, seed=1)
    x_np = x.numpy()
    streams = {e: adapter.open_stream(e) for e in ("torch", "onnx")}
    for s in streams.values():
        s.step("t")
    batch = {"torch": lambda: net(x), "onnx": lambda: runner.run(x_np), "onnx-plain": lambda: plain.run(x_np)}
    token, zero = np.array([[5]], np.int64), adapter.zero_state(1)
    graph = {"torch": TorchCore(adapter.stateful()), "onnx": runner, "onnx-plain": plain}
    state = {e: g(token, zero)[1] for e, g in graph.items()}
    step = {e: (lambda e=e, g=g: g(token, state[e])) for e, g in graph.items()}
    message = {e: (lambda s=s: s.step("e")) for e, s in streams.items()}
    got: dict[str, dict[str, list[float]]] = {e: {"tokens_per_s": [], "graph_step_ms": [], "stream_step_ms": []}
                                              for e in batch}
    with torch.inference_mode():
        for _ in range(rounds):
            for e in batch:
                got[e]["tokens_per_s"].append(BATCH * STEPS / _per_call(batch[e], seconds))
                got[e]["graph_step_ms"].append(1e3 * _per_call(step[e], seconds))
                if e in message:
                    got[e]["stream_step_ms"].append(1e3 * _per_call(message[e], seconds))
    return {e: {k: round(statistics.median(v), 1 if k == "tokens_per_s" else 4) for k, v in m.items() if v}
            for e, m in got.items()}


def profile(path: Path, x: np.ndarray, threads: int, calls: int = 20) -> dict[str, float]:
    """ONNX Runtime's kernel time per op type over ``calls`` runs of the graph at ``path`` on
    ``x`` (zero state), as shares of the total."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.log_severity_level, opts.enable_profiling = threads, 3, True
    opts.profile_file_prefix = str(path.parent / "ort_profile")
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    feeds = {i.name: (x if i.name == "x" else np.zeros((i.shape[0], len(x), i.shape[2]), np.float32))
             for i in session.get_inputs()}
    for _ in range(calls):
        session.run(None, feeds)
    events = json.loads(Path(session.end_profiling()).read_text())
    per_op: dict[str, float] = {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            op = e.get("args", {}).get("op_name", "?")
            per_op[op] = per_op.get(op, 0.0) + e["dur"]
    return _shares(per_op)


def _shares(per_op: dict[str, float]) -> dict[str, float]:
    """Each op's time as a share of the total, largest first, shares under 0.0005 left out."""
    total = sum(per_op.values()) or 1.0
    return {op: round(t / total, 3) for op, t in sorted(per_op.items(), key=lambda kv: -kv[1]) if t / total >= 5e-4}


def torch_profile(net, x: torch.Tensor, calls: int = 10) -> dict[str, float]:
    """PyTorch's self CPU time per op (``torch.profiler``) over ``calls`` runs of ``net`` on ``x``, as
    shares of the total: the torch engine's side of :func:`profile`."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profiler
    with torch.inference_mode():
        net(x)
        with torch_profiler(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(calls):
                net(x)
    return _shares({e.key: float(e.self_cpu_time_total) for e in prof.key_averages()})


def _matmul_seconds(m: int, k: int, n: int, threads: int, seconds: float = 0.3) -> float:
    """The fastest per-call time of an fp32 ``[m, k] @ [k, n]`` on ``threads`` threads, of torch's
    (oneDNN / MKL) and numpy's (OpenBLAS) products: the library speed an engine's LSTM could reach
    at that shape."""
    from threadpoolctl import threadpool_limits
    a, b = torch.rand(m, k), torch.rand(k, n)
    an, bn = a.numpy(), b.numpy()
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(threads, user_api="blas"):
            return min(_per_call(lambda: torch.matmul(a, b), seconds), _per_call(lambda: an @ bn, seconds))
    finally:
        torch.set_num_threads(before)


def ceiling(run: Path, threads: int) -> dict[str, float]:
    """The most tokens/s an fp32 engine could score ``BATCH x STEPS`` tokens at with this machine's
    matrix products, measured now: the LSTM's multiply-adds alone (every step's ``[B, H] @ [H, 4H]``,
    each layer's input projection as one product over all steps, the first layer's a table lookup
    when the vocabulary is smaller than the embedding, the output layer), each product's rows split
    evenly over ``threads`` cores at no cost, each share at the one-thread speed of the faster of
    torch's and numpy's products at its shape, and no time for the gates' activations, the cell
    update or anything between the products. ``peak`` puts every multiply-add at the one-thread
    speed of a 2048^3 product times ``threads`` instead (the machine's best rate: a looser bound)."""
    from lstmkit.deploy.registry import adapter_for
    net = adapter_for(run).est
    cfg, vocab = net.config_, net.tokenizer_.vocab_size
    B, T, H, E, L = BATCH, STEPS, cfg.hidden_size, cfg.embed_dim, cfg.num_layers
    products = [(T * L, (B, H, 4 * H))]                                   # each layer's recurrent step
    if vocab >= E:
        products.append((1, (B * T, E, 4 * H)))                          # the first layer's input projection
    products += [(L - 1, (B * T, H, 4 * H)), (1, (B * T, H, vocab))]      # the others' and the output layer
    # each thread takes its share of every product's rows on a core of its own, at no cost to share
    seconds = sum(count * _matmul_seconds(-(-m // threads), k, n, 1) for count, (m, k, n) in products if count)
    macs = sum(count * m * k * n for count, (m, k, n) in products)
    peak_gflops = threads * 2 * 2048 ** 3 / _matmul_seconds(2048, 2048, 2048, 1) / 1e9
    # the exported graph feeds the first layer one-hot rows (tasks/lm/graph.py): a product of V columns
    graph = seconds + (_matmul_seconds(-(-B * T // threads), vocab, 4 * H, 1) if vocab < E else 0.0)
    return {"tokens_per_s": round(B * T / seconds, 1), "peak_tokens_per_s": round(B * T / (2 * macs / peak_gflops / 1e9), 1),
            "graph_tokens_per_s": round(B * T / graph, 1),
            "gflop_per_call": round(2 * macs / 1e9, 3), "peak_gflops": round(peak_gflops, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=0.5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    a = p.parse_args()
    if a.clock == "cpu":
        if a.threads != 1:
            p.error("--clock cpu times one thread: use it with --threads 1")
        global CLOCK
        CLOCK = time.thread_time
    torch.set_num_threads(a.threads)
    with tempfile.TemporaryDirectory() as tmp:
        run = small_lm_run(tmp)
        res = measure(run, a.rounds, a.seconds)
        x = np.random.default_rng(1).integers(4, 20, (BATCH, STEPS))
        shares = {name: profile(run / name, x, a.threads) for name in ("model.onnx", "plain.onnx")}
        from lstmkit.deploy.registry import adapter_for
        shares["torch"] = torch_profile(adapter_for(run).net, torch.from_numpy(x))
        top = ceiling(run, a.threads)
    for engine, m in res.items():
        print(json.dumps({"task": "lm", "engine": engine, "batch": BATCH, "steps": STEPS, "threads": a.threads,
                          "clock": a.clock, **m}))
    print(json.dumps({"task": "lm", "profile": "share of ORT kernel time per op type (model.onnx, plain.onnx) and of "
                      "torch's self CPU time per op (torch), batch 64 x 64", **shares}))
    print(json.dumps({"task": "lm", "summary": True,
                      "onnx_over_torch_throughput": round(res["onnx"]["tokens_per_s"] / res["torch"]["tokens_per_s"], 3),
                      "onnx_plain_over_torch_throughput": round(res["onnx-plain"]["tokens_per_s"]
                                                                / res["torch"]["tokens_per_s"], 3),
                      "onnx_over_torch_graph_step_speed": round(res["torch"]["graph_step_ms"] / res["onnx"]["graph_step_ms"], 3),
                      "onnx_over_torch_stream_step_speed": round(res["torch"]["stream_step_ms"] / res["onnx"]["stream_step_ms"], 3),
                      "target_throughput_ratio": 1.25}))
    torch_tps = res["torch"]["tokens_per_s"]
    print(json.dumps({"task": "lm", "ceiling": "fp32 matrix products alone, at this machine's measured speed",
                      **top, "torch_share_of_ceiling": round(torch_tps / top["tokens_per_s"], 3),
                      "ceiling_over_torch": round(top["tokens_per_s"] / torch_tps, 3),
                      "peak_over_torch": round(top["peak_tokens_per_s"] / torch_tps, 3),
                      "onnx_share_of_ceiling": round(res["onnx"]["tokens_per_s"] / top["tokens_per_s"], 3),
                      "onnx_share_of_graph_products": round(res["onnx"]["tokens_per_s"]
                                                            / top["graph_tokens_per_s"], 3)}))


if __name__ == "__main__":
    main()
