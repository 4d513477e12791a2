"""The checks that need a GPU (CI has none; run this where ``torch.cuda.is_available()``).

    python benchmarks/gpu_check.py [--device cuda] [--out DIR] [--skip-speed]

1. ``lstm``: :class:`lstmkit.LSTM` against ``torch.nn.LSTM`` (cuDNN) on the device, float64 and
   float32, one and two layers, one and two directions, with and without ``lengths``, with the
   fused kernel and with ``record_gates`` (the gate equations step by step), outputs and gradients.
2. ``train``: every task trains on the device through its Python estimator with ``device="auto"``
   (what a user gets on a GPU machine): forecast (LSTM, and bf16 autocast), text and numeric
   classification, translation, the language model, speech (CTC, classify, seq2seq). Each run is
   then loaded, predicted, exported to ONNX and to int8 **in a process that sees no GPU**
   (``CUDA_VISIBLE_DEVICES=""``), and its predictions compared with the ones the training process
   made: a run trained on a GPU must serve on a laptop.
3. ``seeds``: the same forecaster trained twice on the device with one seed (the largest weight
   difference: cuDNN's kernels need not be bit-deterministic); ``resume``: ``lstmkit forecast
   train --device DEV`` stopped by Ctrl-C after its second epoch and resumed finishes, its weights
   beside an uninterrupted run's.
4. ``speed`` (unless ``--skip-speed``): one forecast training epoch of the tutorial forecaster
   (``benchmarks/inference.py``'s 20,000-point series, lookback 60, 2-layer LSTM(50)), device
   against CPU, same process.

One line per check, ``PASS``/``FAIL`` and the numbers; exit 1 when any check failed. With
``--device cpu`` everything but the CPU-only process runs on the CPU (a dry run of the script).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
FAILED: list[str] = []


def report(name: str, ok: bool, **numbers) -> None:
    if not ok:
        FAILED.append(name)
    print(f"{'PASS' if ok else 'FAIL'} {name} " + json.dumps(numbers, default=str), flush=True)


# -- data ------------------------------------------------------------------------------------
def series_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 10 + 3 * np.sin(2 * np.pi * t / 24) + 0.01 * t + rng.normal(0, 0.3, n)
    return pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h"), "y": y})


def texts(n: int = 120) -> tuple[list[str], list[str]]:
    good, bad = ["good", "great", "loved", "fine"], ["bad", "awful", "hated", "poor"]
    xs, ys = [], []
    for i in range(n):
        words = good if i % 2 else bad
        xs.append(f"the film was {words[i % 4]} and {words[(i // 2) % 4]} number {i % 7}")
        ys.append("pos" if i % 2 else "neg")
    return xs, ys


def numeric_series(n: int = 80, steps: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 4 * np.pi, steps)
    labels = np.arange(n) % 2
    x = np.stack([np.sin(t * (1 + k)) + rng.normal(0, 0.2, steps) for k in labels]).astype(np.float32)
    return x, np.array(["slow", "fast"])[labels]


def pairs(n: int = 300, seed: int = 0) -> pd.DataFrame:
    lexicon = {"red": "rot", "blue": "blau", "dog": "Hund", "cat": "Katze", "runs": "rennt", "sits": "sitzt",
               "big": "groß", "small": "klein", "the": "der", "a": "ein"}
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        ws = list(rng.choice(list(lexicon), int(rng.integers(2, 7))))
        rows.append((" ".join(ws) + ".", " ".join(lexicon[w] for w in ws) + "."))
    return pd.DataFrame(rows, columns=["en", "de"])


QUIET = dict(progress="off", tensorboard=False, seed=0)
SENTENCES = ["the red dog runs.", "a small cat sits.", "the big blue cat runs."]


# -- per task: train on the device (returns the run and what it predicts), predict from a loaded run --
def train_forecast(d: Path, **kw):
    from lstmkit import Forecaster
    est = Forecaster(lookback=48, horizon=12, hidden_size=32, max_epochs=4, ensemble=1, **QUIET, **kw)
    est.fit(series_frame(), target="y", time="time", out=d)
    return est.run_dir_


def predict_forecast(run: Path):
    import lstmkit
    return lstmkit.load(run).predict(series_frame())["y"].tolist()


def train_classify_text(d: Path):
    from lstmkit import TextClassifier
    x, y = texts()
    return TextClassifier(embed_dim=16, hidden_size=16, max_epochs=4, min_freq=1, **QUIET).fit(x, y, out=d).run_dir_


def test_classify_text(folder: Path) -> Path:
    x, y = texts(40)
    pd.DataFrame({"text": x, "label": y}).to_csv(folder / "test.csv", index=False)
    return folder / "test.csv"


def predict_classify_text(run: Path):
    import lstmkit
    return lstmkit.load(run).predict_proba(texts(10)[0]).tolist()


def train_classify_series(d: Path):
    from lstmkit import SequenceClassifier
    x, y = numeric_series()
    return SequenceClassifier(max_epochs=4, batch_size=16, **QUIET).fit(x, y, out=d).run_dir_


def test_classify_series(folder: Path) -> Path:
    x, y = numeric_series(20, seed=2)
    (folder / "test.tsv").write_text("".join("\t".join([label, *(f"{v:g}" for v in row)]) + "\n" for label, row in zip(y, x)))
    return folder / "test.tsv"


def predict_classify_series(run: Path):
    import lstmkit
    return lstmkit.load(run).predict_proba(numeric_series(10, seed=1)[0]).tolist()


def train_translate(d: Path):
    from lstmkit import Translator
    (d / "src").mkdir(parents=True, exist_ok=True)
    pairs().to_csv(d / "src" / "pairs.csv", index=False)
    return Translator(src="en", tgt="de", embed_dim=16, hidden_size=32, num_layers=1, min_freq=1, lr=1e-2, max_epochs=4, beam=3,
                      max_len=12, **QUIET).fit(str(d / "src" / "pairs.csv"), out=d).run_dir_


def predict_translate(run: Path):
    import lstmkit
    return lstmkit.load(run).translate(SENTENCES, beam=3)


def train_lm(d: Path):
    from lstmkit import LanguageModel
    (d / "src").mkdir(parents=True, exist_ok=True)
    (d / "src" / "lines.txt").write_text("the cat sat on the mat\nthe dog ran to the cat\n" * 60)
    return LanguageModel(level="char", embed_dim=16, hidden_size=32, max_epochs=3, **QUIET).fit(
        str(d / "src" / "lines.txt"), out=d).run_dir_


def predict_lm(run: Path):
    import lstmkit
    out = lstmkit.load(run).predict(["the cat sat", "a dog ran"])
    return [float(v) for v in out["perplexity"]]


def _speech(mode: str):
    def train(d: Path):
        from lstmkit.tasks.speech.synthetic import tiny_run
        return tiny_run(d, mode=mode, n=40, max_epochs=4, device="auto")
    return train


def predict_speech(run: Path):
    import soundfile as sf
    import lstmkit
    from lstmkit.tasks.speech.synthetic import RATE, tone_clip
    folder = Path(tempfile.mkdtemp())
    files = []
    for k, text in enumerate(["ab", "cd a", "bad"]):
        files.append(folder / f"{k}.wav")
        sf.write(files[-1], tone_clip(text, seed=k), RATE, subtype="PCM_16")
    est = lstmkit.load(run)
    if est.config_.mode == "classify":
        return est.predict_proba([str(f) for f in files]).tolist()
    return est.transcribe([str(f) for f in files], beam=1)


TASKS = {
    "forecast": (train_forecast, predict_forecast),
    "forecast-bf16": (lambda d: train_forecast(d, precision="bf16"), predict_forecast),
    "classify-text": (train_classify_text, predict_classify_text),
    "classify-series": (train_classify_series, predict_classify_series),
    "translate": (train_translate, predict_translate),
    "lm": (train_lm, predict_lm),
    "speech-ctc": (_speech("ctc"), predict_speech),
    "speech-classify": (_speech("classify"), predict_speech),
    "speech-seq2seq": (_speech("seq2seq"), predict_speech),
}


# the test examples export int8 judges quality on, for runs fitted on in-memory data (no test part of their own)
TEST_DATA = {"classify-text": test_classify_text, "classify-series": test_classify_series}


def close(a, b) -> float:
    """The largest difference between two predictions (numbers), or 0/inf for equal/unequal text."""
    if isinstance(a, list) and a and isinstance(a[0], str):
        return 0.0 if a == b else float("inf")
    return float(np.max(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))))


# -- the CPU-only side ---------------------------------------------------------------------------
def cpu_side(runs: dict[str, str]) -> dict:
    """Load, predict and export each run with no GPU in sight (this process's CUDA_VISIBLE_DEVICES="")."""
    import torch
    assert not torch.cuda.is_available()
    import lstmkit
    out = {}
    for name, run in runs.items():
        got: dict = {}
        try:
            got["predictions"] = TASKS[name][1](Path(run))
            t0 = time.perf_counter()
            got["onnx"] = str(lstmkit.load(run).export("onnx"))
            test = TEST_DATA.get(name)
            got["int8"] = str(lstmkit.load(run).export("int8", data=test(Path(tempfile.mkdtemp())) if test else None))
            got["export_s"] = round(time.perf_counter() - t0, 2)
            got["onnx_predictions"] = TASKS[name][1](Path(run))      # served by the exported graph now
        except Exception as e:                                       # noqa: BLE001 (reported, not hidden)
            got["error"] = f"{type(e).__name__}: {e}"
            got["trace"] = traceback.format_exc()[-1500:]
        out[name] = got
    return out


# -- the checks ------------------------------------------------------------------------------------
def check_lstm(device: str) -> None:
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    from lstmkit import LSTM
    for dtype, tol in ((torch.float64, 1e-9), (torch.float32, 2e-5)):
        worst = {"out": 0.0, "grad": 0.0}
        for layers, bi, with_lengths, gates in [(1, False, False, False), (2, True, False, False), (2, False, True, False),
                                                (2, True, True, False), (1, False, False, True), (2, True, True, True)]:
            torch.manual_seed(layers + 2 * bi)
            ours = LSTM(5, 8, num_layers=layers, bidirectional=bi, batch_first=True).to(device, dtype)
            ref = torch.nn.LSTM(5, 8, num_layers=layers, bidirectional=bi, batch_first=True).to(device, dtype)
            ref.load_state_dict(ours.state_dict())
            x = torch.randn(4, 9, 5, device=device, dtype=dtype)
            lengths = torch.tensor([9, 3, 7, 1]) if with_lengths else None
            x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
            res = ours(x1, lengths=lengths, record_gates=gates)
            y = res[0]
            if with_lengths:
                packed = pack_padded_sequence(x2, lengths, batch_first=True, enforce_sorted=False)
                r, _ = ref(packed)
                r, _ = pad_packed_sequence(r, batch_first=True, total_length=9)
            else:
                r, _ = ref(x2)
            w = torch.randn_like(r)
            (y * w).sum().backward()
            (r * w).sum().backward()
            worst["out"] = max(worst["out"], float((y - r).detach().abs().max()))
            worst["grad"] = max(worst["grad"], float((x1.grad - x2.grad).abs().max()))
        tf32 = torch.backends.cudnn.allow_tf32 if device != "cpu" else None
        report(f"lstm-{str(dtype)[6:]}", max(worst.values()) <= tol, device=device, tol=tol, cudnn_tf32=tf32, **worst)


def check_tasks(device: str, out: Path) -> None:
    import torch
    trained: dict[str, str] = {}
    here: dict = {}
    for name, (train, predict) in TASKS.items():
        if name == "forecast-bf16" and device != "cpu" and not torch.cuda.is_bf16_supported():
            continue
        t0 = time.perf_counter()
        try:
            run = train(out / name)
            trained[name] = str(run)
            here[name] = predict(Path(run))
            where = json.loads((Path(run) / "lstmkit.json").read_text())["training"]["device"]
            # device "auto" (the default) must have trained on the GPU, and the run must say so
            report(f"train-{name}", where.startswith(device), seconds=round(time.perf_counter() - t0, 1),
                   run=Path(run).name, trained_on=where)
        except Exception as e:                                        # noqa: BLE001
            report(f"train-{name}", False, error=f"{type(e).__name__}: {e}", trace=traceback.format_exc()[-1500:])
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, __file__, "--cpu-side", json.dumps(trained)], env=env,
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        report("cpu-side", False, rc=proc.returncode, stderr=proc.stderr[-2000:])
        return
    there = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, got in there.items():
        if "error" in got:
            report(f"cpu-{name}", False, error=got["error"], trace=got["trace"])
            continue
        diff = close(here[name], got["predictions"])
        onnx_diff = close(got["predictions"], got["onnx_predictions"])
        # the exported graph beside torch: equal text, or numbers within float32 noise
        report(f"cpu-{name}", diff <= 1e-5 and onnx_diff <= 1e-3, loaded_vs_trained=diff, onnx_vs_torch=onnx_diff,
               export_s=got["export_s"])


def check_seeds(device: str, out: Path) -> None:
    import torch
    from safetensors.torch import load_file
    a = train_forecast(out / "seed-a", device=device)
    b = train_forecast(out / "seed-b", device=device)
    wa, wb = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    diff = max(float((wa[k] - wb[k]).abs().max()) for k in wa)
    pa, pb = predict_forecast(a), predict_forecast(b)
    report("seeds", diff <= 1e-4, weight_diff=diff, prediction_diff=close(pa, pb),
           cudnn_deterministic=torch.backends.cudnn.deterministic)


def check_resume(device: str, out: Path) -> None:
    """``lstmkit forecast train --device DEV`` interrupted (SIGINT) after its second epoch, then
    ``--resume``d: it finishes its epochs, and its weights beside an uninterrupted run's."""
    import signal
    from safetensors.torch import load_file
    out.mkdir(parents=True, exist_ok=True)
    series_frame(1500).to_csv(out / "series.csv", index=False)
    base = [sys.executable, "-m", "lstmkit", "forecast", "train", "--data", str(out / "series.csv"), "--target", "y",
            "--time", "time", "--lookback", "48", "--horizon", "12", "--hidden-size", "64", "--epochs", "12",
            "--patience", "100", "--ensemble", "1", "--device", device, "--progress", "off", "--no-tensorboard", "--seed", "0"]
    whole = subprocess.run([*base, "--out", str(out / "whole")], capture_output=True, text=True, timeout=600)
    proc = subprocess.Popen([*base, "--out", str(out / "cut")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        last = list((out / "cut").glob("*/checkpoints/last.json"))
        if last and json.loads(last[0].read_text()).get("epoch", 0) >= 2:
            proc.send_signal(signal.SIGINT)
            break
        time.sleep(0.05)
    _, err = proc.communicate(timeout=120)
    runs = list((out / "cut").iterdir())
    resumed = subprocess.run([sys.executable, "-m", "lstmkit", "forecast", "train", "--resume", str(runs[0])],
                             capture_output=True, text=True, timeout=600)
    meta = json.loads((runs[0] / "lstmkit.json").read_text())
    a = load_file(next((out / "whole").iterdir()) / "model.safetensors")
    b = load_file(runs[0] / "model.safetensors")
    diff = max(float((a[k] - b[k]).abs().max()) for k in a)
    report("resume", whole.returncode == 0 and proc.returncode == 130 and resumed.returncode == 0
           and meta["training"]["epochs_run"] == 12, interrupted_rc=proc.returncode, resumed_rc=resumed.returncode,
           epochs_run=meta["training"]["epochs_run"], trained_on=meta["training"]["device"],
           weight_diff_vs_uninterrupted=diff, stderr=(err + resumed.stderr + whole.stderr)[-600:])


def check_speed(device: str, out: Path) -> None:
    sys.path.insert(0, str(HERE))
    from inference import LOOKBACK, make_series
    from lstmkit import Forecaster
    frame = pd.DataFrame({"y": make_series()})
    seconds = {}
    for dev in (device, "cpu"):
        est = Forecaster(lookback=LOOKBACK, horizon=1, hidden_size=50, num_layers=2, dropout=0.2, max_epochs=2,
                         relative=False, deseason=0, log=False, ensemble=1, segment=0, highway=0, doctor=False,
                         device=dev, **QUIET).fit(frame, target="y", out=out / f"speed-{dev}")
        seconds[dev] = round(min(h["seconds"] for h in est.result_.history), 3)
    report("speed", True, epoch_seconds=seconds, speedup=round(seconds["cpu"] / seconds[device], 2))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--cpu-side", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cpu_side:
        print(json.dumps(cpu_side(json.loads(args.cpu_side)), default=str))
        return 0
    import torch
    if args.device != "cpu" and not torch.cuda.is_available():
        print("no CUDA GPU here: run this on a GPU machine, or pass --device cpu for a dry run", file=sys.stderr)
        return 2
    print(json.dumps({"torch": torch.__version__, "cuda": torch.version.cuda,
                      "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}), flush=True)
    out = args.out or Path(tempfile.mkdtemp(prefix="gpu_check_"))
    check_lstm(args.device)
    check_tasks(args.device, out)
    check_seeds(args.device, out)
    check_resume(args.device, out / "resume")
    if not args.skip_speed:
        check_speed(args.device, out)
    print(f"{len(FAILED)} failed" + (f": {', '.join(FAILED)}" if FAILED else ""), flush=True)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
