"""Online learning: fine-tune a fitted model on recent data, with a guard that rolls back.

Works on any task's adapter (:class:`~lstmkit.deploy.adapter.DeployAdapter`). The task cuts the
new data into training batches and the newest examples (``holdout``); the model trains
``epochs`` epochs on the former through the :class:`~lstmkit.train.Trainer` (the run's
clipping, loss -- the adapter's ``loss_fn`` when it has one --, NaN guard, precision and seeding; a constant, small learning rate, a tenth of
the training one by default; no early stopping) and keeps the new weights only if the loss on
the held-out newest examples went down. The task's preprocessing is kept as fitted: the update
adapts the network, not the units.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import torch

from lstmkit.config import TrainConfig, python_values
from lstmkit.data.same_data import piped, source_path
from lstmkit.errors import LstmkitError, TrainingInterrupted, opt
from lstmkit.files import now_stamp
from lstmkit.random_state import held_random
from lstmkit.train.trainer import Trainer

__all__ = ["fine_tune", "fine_tune_config"]


def fine_tune(adapter, new_data, epochs: int = 5, lr: float | None = None, holdout: float = 0.2,
              batch_size: int | None = None, seed: int | None = None,
              run_dir: str | Path | None = None) -> dict[str, Any]:
    """Fine-tune a copy of ``adapter.net`` on ``new_data``; returns the update report.

    ``holdout`` is the fraction of the newest examples (at least one) that judges the update.
    The report says ``accepted`` (the trained copy handed to ``adapter.updated``, which makes it
    the model's network) or not (the model's network untouched); an error while training (e.g.
    the NaN guard's retries used up) leaves it untouched too, then raises. The copy is trained
    aside, so threads predicting with the model meanwhile answer with the weights it had, bit for
    bit, until the accepted network replaces it in one assignment (trained in place, they answered
    with half-trained weights and dropout on, and their eval mode turned the update's dropout off).
    ``run_dir`` (optional) receives the fit's history.csv and checkpoints.
    """
    adapter.check_updatable()
    epochs, lr, holdout, batch_size, seed = python_values(        # numpy's numbers (a grid's) as Python's
        {"epochs": epochs, "lr": lr, "holdout": holdout, "batch_size": batch_size, "seed": seed}).values()
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise LstmkitError(f"`epochs` must be a positive integer, got {epochs!r}", f"pass {opt('epochs', 5)}, say")
    if not (_number(holdout) and 0 < holdout < 1):
        raise LstmkitError(f"`holdout` must be a fraction in (0, 1), got {holdout!r}", f"pass {opt('holdout', 0.2)}, say")
    base = adapter.train_config
    lr = base.lr / 10 if lr is None else lr
    if not (_number(lr) and 0 < lr < math.inf):      # inf: every weight NaN after the first step
        raise LstmkitError(f"`lr` must be a positive number, got {lr!r}", f"pass {opt('lr', '1e-4', written=True)}, say")
    # gradients inside the caller's torch.no_grad() or torch.inference_mode() too, as a fit has them: its batches
    # no inference tensors (torch's 'element 0 of tensors does not require grad', 'Inference tensors cannot be
    # saved for backward')
    with torch.inference_mode(False), torch.enable_grad():
        return _fine_tune(adapter, new_data, epochs, lr, holdout, batch_size or base.batch_size, seed, run_dir, base)


def _fine_tune(adapter, new_data, epochs: int, lr: float, holdout: float, batch_size: int, seed: int | None,
               run_dir: str | Path | None, base: TrainConfig) -> dict[str, Any]:
    data = adapter.update_data(new_data, holdout, batch_size)

    live = adapter.net
    home = next(live.parameters()).device
    trainer = Trainer(fine_tune_config(base, lr, epochs, seed), run_dir=run_dir,
                      loss_fn=getattr(adapter, "loss_fn", None))      # the task's own (a seed ensemble's, say)
    before = holdout_loss(live, trainer.loss_fn, data.holdout)
    net = copy.deepcopy(live)           # trained aside: the model answers as it was until the verdict
    t0 = time.perf_counter()
    try:
        with held_random():             # fits in other threads take turns; the caller's generators come back
            result = trainer.fit(net, data.train, restore_best=False)
    except TrainingInterrupted:
        # Ctrl-C: an update has no run to resume (it said 'Continue with: lstmkit forecast train'); the model's
        # network is untouched, so it is a command interrupted, to be run again
        raise KeyboardInterrupt from None
    finally:
        net.to(home).eval()
    after = holdout_loss(net, trainer.loss_fn, data.holdout)
    accepted = after < before
    if accepted:
        adapter.updated(net)
    return {"accepted": bool(accepted), "val_loss_before": before, "val_loss_after": after,
            "loss": getattr(adapter, "loss_name", base.loss), **data.report, "epochs": epochs, "lr": lr,
            "nan_skips": sum(h.get("nan_skips", 0) for h in result.history),
            "seconds": round(time.perf_counter() - t0, 3), "source": source_path(new_data), **piped(source=new_data),
            "when": now_stamp()}


def fine_tune_config(base: TrainConfig, lr: float, epochs: int, seed: int | None = None) -> TrainConfig:
    """``base`` for a fine-tuning fit: exactly ``epochs`` epochs at a constant ``lr`` (no early
    stopping, no schedule, no time budget), quietly (no progress, TensorBoard or doctor)."""
    return dataclasses.replace(base, lr=lr, max_epochs=epochs, patience=epochs, lr_schedule="plateau",
                               lr_patience=epochs, max_minutes=None, progress="off", tensorboard=False,
                               doctor=False, seed=base.seed if seed is None else seed)


def holdout_loss(net: torch.nn.Module, loss_fn, batches) -> float:
    """Mean loss of ``net`` over ``(inputs, target)`` batches, weighted by batch rows (NaN if none)."""
    net.eval()
    device = next(net.parameters()).device
    total, count = 0.0, 0
    with torch.no_grad():
        for xb, yb in batches:
            xb = tuple(x.to(device) for x in xb) if isinstance(xb, (tuple, list)) else xb.to(device)
            pred = net(*xb) if isinstance(xb, tuple) else net(xb)
            total += float(loss_fn(pred, yb.to(device))) * len(yb)
            count += len(yb)
    return total / count if count else math.nan


def _number(v: Any) -> bool:
    """Whether ``v`` is a real number (a comparison with text or None raised a bare TypeError)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)
