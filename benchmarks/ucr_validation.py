"""Stratified k-fold cross-validation of LSTM-FCN training variants on a UCR set's TRAIN file only.

Chooses between candidate defaults for ``SequenceClassifier`` without looking at any TEST file:
each variant trains on k-1 folds and is scored on the held-out fold (accuracy and log loss pooled
over the folds). The loop mirrors the ``--series`` defaults (``LSTMFCNNet``, standard scaling fitted
on the training folds, Adam 1e-3 cosine-annealed to 0 over the epochs, batch 16, the epochs capped at
``--budget`` million series-steps, the lowest training loss picks the weights, early stop after 300
epochs without a lower one), with one change per variant:

- ``base``      the defaults as they are;
- ``h64``, ``h128``  LSTM of 64 / 128 cells instead of 8;
- ``ls``        label smoothing 0.1 (cross-entropy; more than two classes);
- ``swa``       stochastic weight averaging over the last quarter of the cosine schedule (the mean of
                each epoch's weights there, BatchNorm statistics recomputed) instead of the best epoch;
- ``aug``       training-time augmentation: each series scaled by ``1 + 0.1·N(0,1)`` and smoothly
                time-warped (speed ``1 + 0.2·N(0,1)`` at 4 knots), a new draw per batch.

Prints one JSON line per (variant, fold) and one summary line per variant, with the CPU seconds.

    python benchmarks/ucr_validation.py --set ArrowHead --variants base,h128 --folds 3 --budget 2
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ucr import DEFAULT_DATA, files  # noqa: E402

from lstmkit.nn.fcn import LSTMFCNNet  # noqa: E402

VARIANTS = ("base", "h64", "h128", "ls", "swa", "aug")


def read_tsv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A UCR .tsv of equal-length univariate series -> ``x [N, T]`` floats, ``y [N]`` label strings."""
    rows = [ln.split("\t") for ln in path.read_text().splitlines() if ln.strip()]
    return np.array([[float(v) for v in r[1:]] for r in rows]), np.array([r[0] for r in rows])


def stratified_folds(y: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """Indices of ``k`` folds, each class dealt round-robin after a seeded shuffle."""
    rng = np.random.default_rng(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    offset = 0
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        for j, i in enumerate(idx):
            folds[(j + offset) % k].append(int(i))
        offset += len(idx)
    return [np.array(sorted(f)) for f in folds]


def augment(x: torch.Tensor) -> torch.Tensor:
    """Random amplitude scaling and a smooth random time warp of ``x [B, T, 1]``."""
    b, t, _ = x.shape
    x = x * (1 + 0.1 * torch.randn(b, 1, 1))
    speed = (1 + 0.2 * torch.randn(b, 1, 4)).clamp(min=0.3)
    speed = F.interpolate(speed, size=t, mode="linear", align_corners=True)[:, 0]      # [B, T]
    pos = torch.cumsum(speed, 1) - speed[:, :1]
    pos = pos / pos[:, -1:] * (t - 1)                                                    # [B, T] in [0, T-1]
    lo = pos.floor().long().clamp(max=t - 2)
    frac = (pos - lo)[..., None]
    v = x[..., 0]
    return (torch.gather(v, 1, lo)[..., None] * (1 - frac) + torch.gather(v, 1, lo + 1)[..., None] * frac)


def train_eval(variant: str, xtr, ytr, xva, yva, n_classes: int, budget: float, seed: int) -> dict:
    mean, std = xtr.mean(), xtr.std() or 1.0
    xt = torch.tensor((xtr - mean) / std, dtype=torch.float32)[..., None]
    xv = torch.tensor((xva - mean) / std, dtype=torch.float32)[..., None]
    yt, yv = torch.tensor(ytr), torch.tensor(yva)
    n, steps = xt.shape[:2]
    epochs = min(2000, max(20, round(budget * 1e6 / (n * steps))))
    torch.manual_seed(seed)
    hidden = {"h64": 64, "h128": 128}.get(variant, 8)
    net = LSTMFCNNet(n_classes, n_features=1, steps=steps, hidden_size=hidden, dropout=0.8)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    smooth = 0.1 if variant == "ls" else 0.0

    def loss_fn(logits, y):
        if n_classes == 2:
            target = y.float() * (1 - smooth) + smooth / 2
            return F.binary_cross_entropy_with_logits(logits, target)
        return F.cross_entropy(logits, y, label_smoothing=smooth)

    best, best_state, since = math.inf, None, 0
    swa_from, swa_sum, swa_n = int(epochs * 0.75), None, 0
    for epoch in range(epochs):
        torch.manual_seed(seed * 100_003 + epoch)
        net.train()
        total, batches = 0.0, 0
        for idx in torch.randperm(n).split(16):
            xb = augment(xt[idx]) if variant == "aug" else xt[idx]
            loss = loss_fn(net(xb), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total, batches = total + loss.item(), batches + 1
        sched.step()
        if variant == "swa" and epoch >= swa_from:
            sd = {k: v.detach().clone().float() for k, v in net.state_dict().items()}
            swa_sum = sd if swa_sum is None else {k: swa_sum[k] + sd[k] for k in sd}
            swa_n += 1
        epoch_loss = total / batches
        if epoch_loss < best:
            best, since = epoch_loss, 0
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            since += 1
            if since >= 300 and variant != "swa":
                break
    if variant == "swa":
        avg = {k: (v / swa_n).to(net.state_dict()[k].dtype) for k, v in swa_sum.items()}
        net.load_state_dict(avg)
        for m in net.modules():                       # BatchNorm statistics of the averaged weights
            if isinstance(m, torch.nn.BatchNorm1d):
                m.reset_running_stats()
                m.momentum = None
        net.train()
        with torch.no_grad():
            for idx in torch.arange(n).split(16):
                net(xt[idx])
    else:
        net.load_state_dict(best_state)
    net.eval()
    with torch.no_grad():
        logits = net(xv)
    if n_classes == 2:
        p1 = torch.sigmoid(logits)
        proba = torch.stack([1 - p1, p1], 1)
    else:
        proba = torch.softmax(logits, -1)
    correct = int((proba.argmax(1) == yv).sum())
    logloss = float(-torch.log(proba[torch.arange(len(yv)), yv].clamp(min=1e-12)).sum())
    return {"correct": correct, "n": len(yv), "logloss_sum": logloss, "epochs": epochs, "epochs_run": epoch + 1}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="ArrowHead")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--variants", default="base", help=f"comma-separated, of: {', '.join(VARIANTS)}")
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--only-folds", default=None, help="comma-separated fold indices to run (default: all)")
    ap.add_argument("--budget", type=float, default=2.0, help="million series-steps per fit")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        train, _test, _ = files(args.set, args.data, Path(tmp))   # the TEST file is never read
        x, labels = read_tsv(train)
    classes = sorted(set(labels))
    y = np.array([classes.index(v) for v in labels])
    folds = stratified_folds(y, args.folds, args.seed)
    run = range(args.folds) if args.only_folds is None else [int(f) for f in args.only_folds.split(",")]
    for variant in args.variants.split(","):
        if variant not in VARIANTS:
            raise SystemExit(f"unknown variant {variant!r}; use one of {', '.join(VARIANTS)}")
        pooled = {"correct": 0, "n": 0, "logloss_sum": 0.0, "cpu_seconds": 0.0}
        for k in run:
            va = folds[k]
            tr = np.setdiff1d(np.arange(len(y)), va)
            c0 = time.process_time()
            r = train_eval(variant, x[tr], y[tr], x[va], y[va], len(classes), args.budget, args.seed + k)
            r["cpu_seconds"] = round(time.process_time() - c0, 1)
            print(json.dumps({"set": args.set, "variant": variant, "fold": k, **r}), flush=True)
            for key in pooled:
                pooled[key] += r[key]
        print(json.dumps({"set": args.set, "variant": variant, "summary": True, "folds": list(run),
                          "accuracy": round(pooled["correct"] / pooled["n"], 4),
                          "logloss": round(pooled["logloss_sum"] / pooled["n"], 4), **pooled}), flush=True)


if __name__ == "__main__":
    main()
