"""What a :class:`~lstmkit.config.TrainConfig` names, checked and resolved before training: the
loss by name, the device (``auto``: a GPU when there is one, this rank's under torchrun), the
precision and learning-rate schedule, the time budget and the counts. The trainer checks them in
:meth:`~lstmkit.train.trainer.Trainer.check_config`, before an estimator makes a run folder."""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from lstmkit.config import TrainConfig
from lstmkit.errors import LstmkitError, in_file, opt
from lstmkit.train import distributed as dist

__all__ = ["LOSSES", "PRECISIONS", "LR_SCHEDULES", "resolve_device", "device_label", "make_loss", "check_train_config"]

LOSSES: dict[str, Callable[[], nn.Module]] = {
    "mse": nn.MSELoss, "mae": nn.L1Loss, "huber": nn.HuberLoss,
}
PRECISIONS = ("fp32", "bf16")
LR_SCHEDULES = ("plateau", "cosine")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device(f"cuda:{dist.local_rank()}" if dist.is_distributed() else "cuda")
        return torch.device("cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise LstmkitError(f"unknown device {name!r}", "use auto, cpu, cuda or cuda:N") from None
    if dev.type not in ("cpu", "cuda"):
        _check_other_device(name, dev)
        return dev
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise LstmkitError("device 'cuda' requested but no CUDA GPU is available", f"use {opt('device', 'cpu')} or auto")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        # 'cuda:1' on a one-GPU machine was torch's 'invalid device ordinal' from deep inside the model's .to()
        count = torch.cuda.device_count()
        raise LstmkitError(f"device {name!r} requested but this machine has {count} CUDA GPU{'s' * (count != 1)} "
                           f"(cuda:0{f' to cuda:{count - 1}' if count > 1 else ''})",
                           f"use {opt('device', 'cuda:0')}, cuda or auto")
    if dev.type == "cuda" and dev.index is None and dist.is_distributed():
        dev = torch.device(f"cuda:{dist.local_rank()}")
    return dev


def _check_other_device(name: str, dev: torch.device) -> None:
    """A device torch names beside the CPU and CUDA (``mps``, ``xpu``, ``meta``), refused unless a
    tensor can be made on it: ``--device mps`` on a torch built without it was a RuntimeError traceback
    from deep inside the model's ``.to()``, and ``meta`` (which holds no values) torch's 'Cannot copy out
    of meta tensor' after the data was read."""
    if dev.type == "meta":
        raise LstmkitError("device 'meta' holds no values, so nothing can be trained on it",
                           f"use {opt('device', 'cpu')}, cuda or auto")
    try:
        torch.empty(1, device=dev)
    except Exception:      # RuntimeError, AssertionError ('not compiled with XPU'), ModuleNotFoundError (torch.hpu)
        raise LstmkitError(f"device {name!r} cannot be used: this PyTorch makes no tensors on {dev.type!r} (not "
                           "built with that backend, or no such hardware here)",
                           f"use {opt('device', 'cpu')}, cuda or auto") from None


def device_label(device: torch.device) -> str:
    """``cpu``, or the GPU's index and name (``cuda:0 (NVIDIA H200)``): what ``lstmkit.json`` records."""
    if device.type != "cuda":
        return device.type
    index = device.index if device.index is not None else torch.cuda.current_device()
    return f"cuda:{index} ({torch.cuda.get_device_name(index)})"

def make_loss(name: str) -> nn.Module:
    if name not in LOSSES:
        raise LstmkitError(f"unknown loss {name!r}", f"use one of: {', '.join(LOSSES)}")
    return LOSSES[name]()


def check_train_config(cfg: TrainConfig) -> None:
    """The settings ``TrainConfig`` leaves to the trainer: precision, schedule, time budget, counts."""
    if cfg.precision not in PRECISIONS:
        raise LstmkitError(f"unknown precision {cfg.precision!r}{in_file('precision')}",
                           f"use one of: {', '.join(PRECISIONS)}")
    if cfg.lr_schedule not in LR_SCHEDULES:
        raise LstmkitError(f"unknown lr_schedule {cfg.lr_schedule!r}", f"use one of: {', '.join(LR_SCHEDULES)}")
    budget = cfg.max_minutes
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float))
                               or not math.isfinite(budget) or budget <= 0):
        raise LstmkitError(f"`max_minutes` must be a number > 0, got {budget!r}",
                           f"pass {opt('max_minutes', 30)}, say (minutes), or leave it out")
    for name in ("nan_retries", "checkpoint_every"):
        v = getattr(cfg, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise LstmkitError(f"`{name}` must be a whole number >= 0, got {v!r}",
                               f"pass --{name.replace('_', '-')} 0 or more")
