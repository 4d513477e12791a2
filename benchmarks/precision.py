"""Mixed precision: the Trainer with ``precision="bf16"`` (autocast) against fp32.

Workload: the tutorial series of ``train_throughput.py`` (shortened to 6,000 points), lookback 60,
2-layer LSTM(50), dropout 0.2, linear head, MSE, Adam 1e-3, batch 32, the same seed for both.
Each precision trains the same epochs; windows/s is the median over epochs 2.., and the final
validation loss (fp32 evaluation of the trained weights) shows what the precision costs in
accuracy. On CPUs without native bf16 (no AVX512-BF16 / AMX) bf16 is expected to be slower; on
recent GPUs and Xeons it is faster. Prints one JSON line. ``--device cuda`` to run on a GPU.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys

import torch

from lstmkit.config import TrainConfig
from lstmkit.data.windows import WindowBatches, make_windows
from lstmkit.tasks.forecast.model import ForecastNet
from lstmkit.train import Trainer

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from train_throughput import make_series  # noqa: E402

N, LOOKBACK, HIDDEN, LAYERS, DROPOUT, BATCH, LR, SEED = 6_000, 60, 50, 2, 0.2, 32, 1e-3, 42


def run(precision: str, device: str, epochs: int, X, Y, n_train, n_val) -> dict:
    torch.manual_seed(SEED)
    net = ForecastNet(1, 1, 1, "lstm", HIDDEN, LAYERS, DROPOUT, relative=False)
    cfg = TrainConfig(max_epochs=epochs, batch_size=BATCH, lr=LR, patience=epochs + 1, seed=SEED, device=device,
                      tensorboard=False, progress="off", precision=precision, doctor=False)
    train = WindowBatches(X[:n_train], Y[:n_train], batch_size=BATCH, shuffle=True)
    val = WindowBatches(X[n_train:n_train + n_val], Y[n_train:n_train + n_val], batch_size=1024)
    with contextlib.redirect_stdout(sys.stderr):
        result = Trainer(cfg).fit(net, train, val)
    secs = [h["seconds"] for h in result.history][1:] or [result.history[0]["seconds"]]
    return {"windows_per_s": round(statistics.median(n_train / s for s in secs), 1),
            "final_val_loss": result.history[-1]["val_loss"], "best_val_loss": result.best_val_loss}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    s = make_series(N)
    n_train_pts = int(0.7 * N)
    lo, hi = s[:n_train_pts].min(), s[:n_train_pts].max()
    z = torch.from_numpy(((s - lo) / (hi - lo)).astype("float32"))[:, None]
    X, Y = make_windows(z, z, LOOKBACK, 1)
    n_train, n_val = n_train_pts - LOOKBACK, int(0.15 * N)
    fp32 = run("fp32", args.device, args.epochs, X, Y, n_train, n_val)
    bf16 = run("bf16", args.device, args.epochs, X, Y, n_train, n_val)
    print(json.dumps({
        "benchmark": "precision", "device": args.device, "threads": torch.get_num_threads(),
        "epochs": args.epochs, "train_windows": n_train, "fp32": fp32, "bf16": bf16,
        "bf16_speed_ratio": round(bf16["windows_per_s"] / fp32["windows_per_s"], 3),
        "bf16_val_loss_ratio": round(bf16["best_val_loss"] / fp32["best_val_loss"], 3),
    }))


if __name__ == "__main__":
    main()
