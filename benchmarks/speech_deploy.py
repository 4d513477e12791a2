"""Speech deployment speed: the acoustic model under torch and ONNX Runtime, side by side.

    python benchmarks/speech_deploy.py [--threads 1] [--min-seconds 1.0] [--out DIR]

Trains a tiny CTC recogniser on generated tones (:func:`lstmkit.tasks.speech.synthetic.tiny_run`;
a one-directional LSTM and a bidirectional one of the same size), exports it, and prints one
JSON line per model and engine: utterances/s at batch 32 of 1-s utterances (features computed
once, outside the timing: the graph starts at the features) and batch-1 latency, with ONNX's
ratio against torch measured in the same run. A last line per model times the whole answer
to one WAV upload (WAV parsing, features, model, greedy decoding).

A seq2seq recogniser (bi-LSTM encoder, attention decoder) then transcribes 64 generated recordings
per call at beam 1 and 5 (``adapter.predict``: its beam search over the graphs), engines alternating
in rounds, median of the rounds: torch, the ONNX engine as served (each graph on one ONNX Runtime
thread, ``--threads`` batches decoded side by side), and both graphs on ``--threads`` threads with
one batch at a time (the engine before). Pass ``--threads 2`` (or more) for the comparison to mean
anything; on 2 busy cores, beam 1 and 5: 6.0 and 15.5 ms a call served, 11.5 and 90.5 ms the way
before, torch 9.9 and 20.8 ms (hidden 32; the way before spins threads, slow whenever a core is taken).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from lstmkit.data.batching import pad_batch
from lstmkit.deploy.onnx import export_onnx
from lstmkit.deploy.onnx_engine import OnnxNet, load_runner
from lstmkit.deploy.seq2seq import onnx_seq2seq
from lstmkit.deploy.quantize import measure_speed
from lstmkit.deploy.registry import adapter_for
from lstmkit.tasks.speech.synthetic import RATE, tone_clip, tiny_run


def _wav(wave: np.ndarray) -> bytes:
    import io
    import soundfile as sf
    buf = io.BytesIO()
    sf.write(buf, wave, RATE, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--min-seconds", type=float, default=1.0)
    ap.add_argument("--out", type=Path, default=None, help="folder for the runs [a temporary one]")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = args.out or Path(tempfile.mkdtemp(prefix="speech-bench-"))
    texts = ["ab cd", "abc", "d ca", "bad cab"]
    for model in ("lstm", "bilstm"):
        run = tiny_run(out / model, mode="ctc", model=model)
        export_onnx(run)
        adapter = adapter_for(run)
        waves = [tone_clip(texts[i % len(texts)], seconds=1.0, seed=i) for i in range(32)]
        feats = [adapter.features(w) for w in waves]
        batch, one = pad_batch(feats), pad_batch(feats[:1])
        nets = {"torch": adapter.net, "onnx": OnnxNet(load_runner(run, threads=args.threads))}
        speed = {}
        for engine, net in nets.items():
            s = measure_speed(lambda xl, net=net: net(*xl), batch, one, args.min_seconds)
            speed[engine] = {"utterances_per_s": s["windows_per_s"], "latency_ms": s["latency_ms"]}
        ratio = {"throughput_ratio_onnx_vs_torch": round(speed["onnx"]["utterances_per_s"]
                                                         / speed["torch"]["utterances_per_s"], 3),
                 "latency_ratio_torch_vs_onnx": round(speed["torch"]["latency_ms"] / speed["onnx"]["latency_ms"], 3)}
        base = {"model": model, "hidden_size": 32, "layers": 1, "frames_per_utterance": int(feats[0].shape[0]),
                "batch": 32, "threads": args.threads}
        for engine in nets:
            print(json.dumps({**base, "engine": engine, **speed[engine], **(ratio if engine == "onnx" else {})}))
        body = _wav(waves[0])
        for engine, net in nets.items():
            runs = []
            for _ in range(20):
                t = time.perf_counter()
                adapter.answer_bytes(net, body, "audio/wav")
                runs.append(time.perf_counter() - t)
            print(json.dumps({**base, "engine": engine, "what": "answer_bytes (1-s WAV, greedy)",
                              "median_ms": round(1e3 * float(np.median(runs)), 3)}))
    _seq2seq(out / "seq2seq", args.threads)


def _seq2seq(folder: Path, threads: int, rounds: int = 9) -> None:
    """One JSON line per beam and engine: ms per call of 64 recordings (see the module docstring)."""
    run = tiny_run(folder, mode="seq2seq", model="bilstm", n=64, max_epochs=8, beam=3)
    export_onnx(run)
    adapter = adapter_for(run)
    feats = adapter.est._features(sorted(str(p) for p in (folder / "wavs").glob("*.wav")))[0]
    nets = {"torch": adapter.net, "onnx": adapter.onnx_net(run),
            f"onnx ({threads} threads a graph, one batch at a time)": onnx_seq2seq(run, threads, workers=1)}
    for beam in (1, 5):
        want = [a["transcript"] for a in adapter.predict(adapter.net, feats, beam)]
        ms: dict[str, list[float]] = {}
        for net in nets.values():
            assert [a["transcript"] for a in adapter.predict(net, feats, beam)] == want    # and warmed up
        for r in range(rounds):
            for engine in (list(nets) if r % 2 == 0 else list(nets)[::-1]):
                best = []
                for _ in range(3):
                    t = time.perf_counter()
                    adapter.predict(nets[engine], feats, beam)
                    best.append(time.perf_counter() - t)
                ms.setdefault(engine, []).append(1e3 * min(best))
        for engine, times in ms.items():
            print(json.dumps({"model": "bilstm seq2seq", "hidden_size": 32, "recordings": len(feats), "beam": beam,
                              "threads": threads, "engine": engine, "median_ms": round(float(np.median(times)), 2),
                              "rounds_ms": [round(t, 1) for t in times]}))


if __name__ == "__main__":
    main()
