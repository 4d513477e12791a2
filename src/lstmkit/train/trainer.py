"""The fit loop, shared by every task.

The trainer knows a model, two iterables of ``(inputs, target)`` batches, a loss and a
:class:`~lstmkit.config.TrainConfig`. Everything task-specific stays outside; reporting goes
through callbacks. Practice built in: Adam, gradient clipping, ReduceLROnPlateau, early stopping
that restores the best weights, seeded and resumable epochs, Ctrl-C that leaves a checkpoint.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import torch
from torch import nn

from lstmkit.config import TrainConfig
from lstmkit.errors import LstmkitError
from lstmkit.train.callbacks import (Callback, EarlyStopping, HistoryCSV, ProgressDisplay,
                                     TensorBoardLogger)
from lstmkit.train.checkpoint import load_checkpoint, save_checkpoint

__all__ = ["Trainer", "TrainResult", "TrainingInterrupted", "resolve_device", "make_loss"]

LOSSES: dict[str, Callable[[], nn.Module]] = {
    "mse": nn.MSELoss, "mae": nn.L1Loss, "huber": nn.HuberLoss,
}


class TrainingInterrupted(Exception):
    """Raised after Ctrl-C once the last finished epoch is safely checkpointed."""

    def __init__(self, run_dir: Path | None, epoch: int):
        super().__init__(f"training interrupted after epoch {epoch}")
        self.run_dir, self.epoch = run_dir, epoch


@dataclass
class TrainResult:
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0             # 1-based epoch whose weights the model now holds
    best_val_loss: float = math.nan
    stopped_early: bool = False
    epochs_run: int = 0


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise LstmkitError(f"unknown device {name!r}", "use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise LstmkitError("device 'cuda' requested but no CUDA GPU is available", "use --device cpu or auto")
    return dev


def make_loss(name: str) -> nn.Module:
    if name not in LOSSES:
        raise LstmkitError(f"unknown loss {name!r}", f"use one of: {', '.join(LOSSES)}")
    return LOSSES[name]()


class Trainer:
    """Fits a model. ``run_dir`` (optional) receives history.csv, tb/ and checkpoints/.

    Batches are ``(inputs, target)`` pairs; ``inputs`` may be a tensor or a tuple of tensors
    passed as separate arguments. ``loss_fn(prediction, target)`` defaults to ``config.loss``.
    """

    def __init__(self, config: TrainConfig, run_dir: Path | None = None,
                 callbacks: Iterable[Callback] = (), loss_fn: Callable | None = None):
        self.config = config
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.loss_fn = loss_fn or make_loss(config.loss)
        self.device = resolve_device(config.device)
        self.progress = ProgressDisplay(config.progress)
        self.callbacks: list[Callback] = [self.progress, *callbacks]
        if self.run_dir is not None:
            self.callbacks.append(HistoryCSV(self.run_dir / "history.csv"))
            if config.tensorboard:
                self.callbacks.append(TensorBoardLogger(self.run_dir / "tb"))
        self.history: list[dict[str, Any]] = []
        self.start_epoch = 0
        self.lr = config.lr

    # -- the loop ------------------------------------------------------------------------
    def fit(self, model: nn.Module, train_batches, val_batches=None, resume: bool = False) -> TrainResult:
        cfg = self.config
        model.to(self.device)
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay,
                                     **_fast_adam_kwargs(self.device))
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=cfg.lr_factor, patience=cfg.lr_patience)
        stopper = EarlyStopping(cfg.patience, cfg.min_delta)
        best_state: dict[str, torch.Tensor] | None = None

        if resume:
            best_state = self._restore(model, optimizer, scheduler, stopper)

        for cb in self.callbacks:
            cb.on_train_begin(self)
        epoch = self.start_epoch
        stopped = False
        try:
            for epoch in range(self.start_epoch, cfg.max_epochs):
                # Re-seeding per epoch makes shuffles and dropout masks a function of
                # (seed, epoch): a resumed run continues exactly as an uninterrupted one.
                torch.manual_seed(cfg.seed * 100_003 + epoch)
                logs = self._train_epoch(model, optimizer, params, train_batches, epoch)
                logs["val_loss"] = self._evaluate(model, val_batches) if val_batches is not None else math.nan
                monitor = logs["val_loss"] if not math.isnan(logs["val_loss"]) else logs["train_loss"]
                if not math.isfinite(monitor):
                    raise LstmkitError(
                        f"the loss became {monitor} at epoch {epoch + 1}",
                        "lower the learning rate (--lr), check the data for extreme values, or keep clipping on")
                scheduler.step(monitor)
                stopped = stopper.update(monitor, epoch + 1)
                if stopper.improved:
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                self.lr = optimizer.param_groups[0]["lr"]
                logs["seconds"] = time.perf_counter() - logs.pop("_t0")
                self.history.append(logs)
                self._checkpoint(model, optimizer, scheduler, stopper, best_state, epoch + 1)
                for cb in self.callbacks:
                    cb.on_epoch_end(self, logs)
                if stopped:
                    break
        except KeyboardInterrupt:
            for cb in self.callbacks:
                cb.on_train_end(self)
            raise TrainingInterrupted(self.run_dir, len(self.history)) from None
        for cb in self.callbacks:
            cb.on_train_end(self)

        if best_state is not None:
            model.load_state_dict(best_state)
        return TrainResult(history=list(self.history), best_epoch=stopper.best_epoch,
                           best_val_loss=stopper.best, stopped_early=stopped,
                           epochs_run=len(self.history))

    def _train_epoch(self, model, optimizer, params, batches, epoch) -> dict[str, Any]:
        cfg = self.config
        model.train()
        t0 = time.perf_counter()
        n_batches = len(batches)
        self.progress.on_epoch_begin(self, epoch, n_batches)
        total = torch.zeros((), device=self.device)
        grad_total = torch.zeros((), device=self.device)
        n = 0
        on_device = self.device.type != "cpu"
        for i, (xb, yb) in enumerate(batches):
            if on_device:
                xb, yb = _to(xb, self.device), _to(yb, self.device)
            optimizer.zero_grad(set_to_none=True)
            loss = self.loss_fn(_call(model, xb), yb)
            loss.backward()
            if cfg.clip_norm is not None:
                grad_total += torch.nn.utils.clip_grad_norm_(params, cfg.clip_norm, foreach=True)
            optimizer.step()
            loss = loss.detach()
            total += loss
            n += 1
            for cb in self.callbacks:
                cb.on_batch_end(self, i, n_batches, loss)
        if n == 0:
            raise LstmkitError("no training batches", "supply more data or shorten the lookback")
        return {"epoch": epoch + 1, "train_loss": (total / n).item(),
                "lr": optimizer.param_groups[0]["lr"],
                "grad_norm": (grad_total / n).item() if cfg.clip_norm is not None else math.nan,
                "_t0": t0}

    @torch.no_grad()
    def _evaluate(self, model: nn.Module, batches) -> float:
        model.eval()
        total, count = 0.0, 0
        for xb, yb in batches:
            xb, yb = _to(xb, self.device), _to(yb, self.device)
            pred = _call(model, xb)
            bs = yb.shape[0]
            total += self.loss_fn(pred, yb).item() * bs
            count += bs
        return total / count if count else math.nan

    # -- checkpoints ---------------------------------------------------------------------
    def _checkpoint(self, model, optimizer, scheduler, stopper, best_state, epoch: int) -> None:
        if self.run_dir is None:
            return
        save_checkpoint(self.run_dir / "checkpoints", model=model, optimizer=optimizer,
                        best_state=best_state,
                        extra={"epoch": epoch, "history": self.history,
                               "scheduler": _plain(scheduler.state_dict()),
                               "early_stopping": stopper.state_dict()})

    def _restore(self, model, optimizer, scheduler, stopper):
        if self.run_dir is None:
            raise ValueError("resume needs a run_dir")
        model_state, best_state, optim_state, extra = load_checkpoint(self.run_dir / "checkpoints")
        model.load_state_dict(model_state)
        optimizer.load_state_dict(optim_state)
        scheduler.load_state_dict(extra["scheduler"])
        stopper.load_state_dict(extra["early_stopping"])
        self.history = extra["history"]
        self.start_epoch = extra["epoch"]
        self.lr = optimizer.param_groups[0]["lr"]
        return best_state


def _call(model: nn.Module, inputs):
    """Batches are ``(inputs, target)``; a tuple of inputs is spread over the model's arguments
    (e.g. ``(tokens, lengths)``)."""
    return model(*inputs) if isinstance(inputs, (tuple, list)) else model(inputs)


def _to(x, device):
    if isinstance(x, (tuple, list)):
        return type(x)(_to(v, device) for v in x)
    return x.to(device, non_blocking=True)


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    """Scheduler state with tensors/numpy scalars turned into floats (for JSON)."""
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in d.items()}


def _fast_adam_kwargs(device: torch.device) -> dict[str, Any]:
    # The fused Adam kernel updates all parameters in one call: cheaper than the per-tensor
    # loop for the small recurrent models lstmkit trains (see benchmarks/train_throughput.py).
    return {"fused": True}
