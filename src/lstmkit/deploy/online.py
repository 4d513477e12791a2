"""Online learning: fine-tune a fitted forecaster on recent data, with a guard that rolls back.

The newest windows (those whose targets are the last points of ``new_data``) are held out; the
model trains a few epochs on the windows before them with a small learning rate (a tenth of the
training one by default) and keeps the new weights only if the error on the held-out newest
points went down. Scalers are kept as fitted: the update adapts the network, not the units.
"""
from __future__ import annotations

import copy
import time
from typing import Any

import torch

from lstmkit.errors import LstmkitError

__all__ = ["update_forecaster"]


def update_forecaster(est, new_data, epochs: int = 5, lr: float | None = None, holdout: float = 0.2,
                      batch_size: int | None = None, seed: int | None = None) -> dict[str, Any]:
    """Fine-tune ``est.net_`` in place on ``new_data``; returns the update report.

    ``holdout`` is the fraction of the newest windows (at least one) that judges the update.
    The report says ``accepted`` (weights changed) or not (weights restored bit for bit).
    """
    from lstmkit.train.trainer import make_loss
    est._check_fitted()
    if getattr(est, "quantization_", None):
        raise LstmkitError("an int8 model cannot be fine-tuned", "update the original float run, then export again")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise LstmkitError(f"`epochs` must be a positive integer, got {epochs!r}", "pass --epochs 5, say")
    if not 0 < holdout < 1:
        raise LstmkitError(f"`holdout` must be a fraction in (0, 1), got {holdout!r}", "use e.g. 0.2")
    cfg = est.config_
    lr = cfg.train.lr / 10 if lr is None else lr
    if not lr > 0:
        raise LstmkitError(f"`lr` must be positive, got {lr}", "pass --lr 1e-4, say")
    X, Y = est.model_windows(new_data)                   # scaled with the fitted scalers
    n = len(X)
    rows = n + cfg.lookback + cfg.horizon - 1
    n_val = max(1, round(n * holdout))
    n_train = n - n_val - (cfg.horizon - 1)              # no training target inside the held-out points
    if n_train < 1:
        need = cfg.lookback + cfg.horizon + n_val + cfg.horizon - 1
        raise LstmkitError(f"too little new data for an update: {rows} rows, need at least {need}",
                           f"pass more rows (lookback {cfg.lookback} + horizon {cfg.horizon} + held-out points)")

    net, loss_fn = est.net_, make_loss(cfg.train.loss)
    before_state = copy.deepcopy(net.state_dict())
    before = _loss(net, loss_fn, X[-n_val:], Y[-n_val:])
    torch.manual_seed(cfg.train.seed if seed is None else seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    bs = batch_size or cfg.train.batch_size
    t0 = time.perf_counter()
    net.train()
    for _ in range(epochs):
        for idx in torch.randperm(n_train).split(bs):
            opt.zero_grad()
            loss = loss_fn(net(X[idx]), Y[idx])
            loss.backward()
            if cfg.train.clip_norm:
                torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.train.clip_norm)
            opt.step()
    net.eval()
    after = _loss(net, loss_fn, X[-n_val:], Y[-n_val:])
    accepted = after < before
    if not accepted:
        net.load_state_dict(before_state)
    else:       # the weights no longer match the run folder (nor its model.onnx) until saved
        est.run_dir_ = None
    return {"accepted": bool(accepted), "val_loss_before": before, "val_loss_after": after,
            "loss": cfg.train.loss, "units": "scaled", "rows": int(rows),
            "train_windows": int(n_train), "val_windows": int(n_val), "epochs": epochs, "lr": lr,
            "seconds": round(time.perf_counter() - t0, 3), "source": _source(new_data),
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _loss(net, loss_fn, X, Y) -> float:
    net.eval()
    with torch.no_grad():
        return float(loss_fn(net(X), Y))


def _source(data) -> str | None:
    from pathlib import Path
    return str(Path(data).resolve()) if isinstance(data, (str, Path)) else None
