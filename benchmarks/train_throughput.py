"""Training throughput: lstmkit's Trainer vs a minimal hand-written PyTorch loop.

The tutorial workload (the same as ../shared/peers/common.py): a 20,000-point series (two sines,
trend, AR(1) noise), lookback 60, one feature, 2-layer LSTM(50) with dropout 0.2, linear head on
the last step, MSE, Adam 1e-3, batch 32, 2 threads.

- hand-written: ``torch.nn.LSTM`` + ``nn.Linear``, windows pre-materialised, ``randperm`` slices,
  ``zero_grad / backward / step`` and nothing else.
- lstmkit: ``ForecastNet`` (lstmkit.nn.LSTM, plain setup: ``relative=False``) trained by
  ``lstmkit.train.Trainer`` over ``WindowBatches`` views, with its defaults on: gradient
  clipping, ReduceLROnPlateau, early-stopping bookkeeping, a validation pass every epoch and the
  default progress display (log lines here, sent to stderr so stdout stays one JSON line).

Both train the same training windows for the same epochs; epoch 1 is warm-up, the median of
epochs 2-4 counts. The two are run alternately, twice each, in this one process, so the ratio is
robust to machine drift. Prints one JSON line; target: ratio >= 0.95.
"""
from __future__ import annotations

import contextlib
import json
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn

from lstmkit.config import TrainConfig
from lstmkit.data.windows import WindowBatches, make_windows
from lstmkit.tasks.forecast.model import ForecastNet
from lstmkit.train import Trainer

N, LOOKBACK, HIDDEN, LAYERS, DROPOUT, BATCH, LR, EPOCHS, SEED = 20_000, 60, 50, 2, 0.2, 32, 1e-3, 5, 42
TRAIN_FRAC, VAL_FRAC = 0.70, 0.15


def make_series(n: int = N, seed: int = SEED) -> np.ndarray:
    """Sum of two sines + linear trend + AR(1) noise (identical to the peers' common.py)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    s = np.sin(2 * np.pi * t / 50.0) + 0.5 * np.sin(2 * np.pi * t / 365.0) + 2.0 * t / n
    eps = rng.normal(0.0, 0.1, size=n)
    ar = np.empty(n)
    ar[0] = eps[0]
    for i in range(1, n):
        ar[i] = 0.8 * ar[i - 1] + eps[i]
    return s + ar


def data():
    s = make_series()
    n_train_pts = int(TRAIN_FRAC * N)
    lo, hi = s[:n_train_pts].min(), s[:n_train_pts].max()
    z = torch.from_numpy(((s - lo) / (hi - lo)).astype(np.float32))[:, None]    # [N, 1]
    X, Y = make_windows(z, z, LOOKBACK, 1)                                      # views
    n_train = n_train_pts - LOOKBACK
    n_val = int(VAL_FRAC * N)
    return X, Y, n_train, n_val


def hand_written(X, Y, n_train) -> list[float]:
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(1, HIDDEN, num_layers=LAYERS, dropout=DROPOUT, batch_first=True)
            self.head = nn.Linear(HIDDEN, 1)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1, :])

    torch.manual_seed(SEED)
    Xtr, ytr = X[:n_train].contiguous(), Y[:n_train, 0].contiguous()           # materialised
    model, loss_fn = Net(), nn.MSELoss()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    times = []
    for _ in range(EPOCHS):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(n_train)
        for i in range(0, n_train, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    return times


def lstmkit_trainer(X, Y, n_train, n_val) -> list[float]:
    torch.manual_seed(SEED)
    net = ForecastNet(1, 1, 1, "lstm", HIDDEN, LAYERS, DROPOUT, relative=False)
    cfg = TrainConfig(max_epochs=EPOCHS, batch_size=BATCH, lr=LR, patience=EPOCHS + 1,
                      seed=SEED, device="cpu", tensorboard=False)
    train = WindowBatches(X[:n_train], Y[:n_train], batch_size=BATCH, shuffle=True)
    val = WindowBatches(X[n_train:n_train + n_val], Y[n_train:n_train + n_val], batch_size=1024)
    with contextlib.redirect_stdout(sys.stderr):       # progress lines to stderr
        result = Trainer(cfg).fit(net, train, val)
    return [h["seconds"] for h in result.history]


def main() -> None:
    torch.set_num_threads(2)
    X, Y, n_train, n_val = data()
    runs = {"hand_written": [], "lstmkit": []}
    for _ in range(2):
        runs["hand_written"].append(hand_written(X, Y, n_train))
        runs["lstmkit"].append(lstmkit_trainer(X, Y, n_train, n_val))
    wps = {k: statistics.median(n_train / t for ts in v for t in ts[1:4]) for k, v in runs.items()}
    ratio = wps["lstmkit"] / wps["hand_written"]
    print(json.dumps({
        "benchmark": "train_throughput", "train_windows": n_train, "val_windows": n_val,
        "lookback": LOOKBACK, "batch": BATCH, "threads": torch.get_num_threads(),
        "hand_written_windows_per_s": round(wps["hand_written"], 1),
        "lstmkit_windows_per_s": round(wps["lstmkit"], 1),
        "ratio": round(ratio, 3), "target": ">= 0.95", "pass": ratio >= 0.95,
        "lstmkit_epoch_includes": "train + validation pass + clipping + scheduler + checkpoint-free bookkeeping",
        "epoch_seconds": {k: [[round(t, 2) for t in ts] for ts in v] for k, v in runs.items()},
    }))


if __name__ == "__main__":
    main()
