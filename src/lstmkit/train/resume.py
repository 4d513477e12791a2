"""Crash-proof resume for :class:`~lstmkit.train.trainer.Trainer`: where the loop is, the
checkpoint that records it, and the restore that continues a run bit-identically.

Every ``checkpoint_every`` steps and at each epoch end the trainer's checkpoint holds weights,
optimizer, scheduler, early stopping, the doctor's state, every RNG state and the position in
the epoch (:class:`Position`); :class:`ResumeState` (mixed into the trainer) writes it and reads
it back, and keeps the NaN guard's in-memory fallback taken at the same points.
"""
from __future__ import annotations

import copy
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lstmkit.errors import LstmkitError, callers_level, terminate_as_interrupt
from lstmkit.random_state import py_rng_state, torch_rng_tensors
from lstmkit.train import distributed as dist
from lstmkit.train.checkpoint import (CHECKPOINT_FILE, CHECKPOINT_VERSION, load_checkpoint, read_checkpoint_bytes,
                                      save_checkpoint, write_readable_state)
from lstmkit.train.settings import device_label

__all__ = ["Position", "ResumeState", "terminate_as_interrupt"]


@dataclass
class Position:
    """Where the loop is: what a checkpoint must carry besides tensors."""
    epoch: int = 0                  # epochs finished
    pos: int = 0                    # batches done in the current epoch
    global_step: int = 0
    stopped: bool = False
    nan_used: int = 0
    # the epoch so far: its batch losses' sum and count (n), their sum weighed by what each batch weighs
    # (weighted, weight: Trainer._evaluate's weights, the epoch's train_loss), gradient norms, skips
    acc: dict[str, float] = field(default_factory=lambda: {"loss": 0.0, "n": 0, "grad": 0.0, "skips": 0,
                                                           "weighted": 0.0, "weight": 0.0})


class ResumeState:
    """The trainer's checkpoint, restore and NaN-guard fallback (uses its ``_parts``, ``_where``,
    ``history``, ``doctor``, ``run_dir``, ``is_main``, ``device`` and ``lr``)."""

    def _remember_good(self) -> None:
        """Keep the current weights and optimizer state (in memory) as the NaN guard's fallback.
        Taken at the same points as checkpoints, so a resumed run falls back to the same state."""
        model, optimizer, *_ = self._parts
        self._good = ({k: v.detach().clone() for k, v in model.state_dict().items()},
                      copy.deepcopy(optimizer.state_dict()), self._where.global_step)

    def _checkpoint(self) -> None:
        if self.run_dir is None or not self.is_main:
            return
        model, optimizer, scheduler, stopper = self._parts
        w = self._where
        state = {"version": CHECKPOINT_VERSION, "epoch": w.epoch, "pos": w.pos, "global_step": w.global_step,
                 "stopped": w.stopped, "nan_used": w.nan_used, "acc": w.acc, "lr": self.lr,
                 "history": self.history, "scheduler": _plain(scheduler.state_dict()),
                 "early_stopping": stopper.state_dict(),
                 "doctor": self.doctor.state_dict() if self.doctor is not None else None,
                 "model": {"class": type(model).__name__,
                           "shapes": {k: list(v.shape) for k, v in model.state_dict().items()}},
                 "rng": py_rng_state(), "trained_on": self._first_on or _trained_on(self.device)}
        def committed() -> None:            # the epochs a resume continues from, before last.json is written
            self._saved_epochs = w.epoch
        save_checkpoint(self.run_dir / "checkpoints", model_state=model.state_dict(), optimizer=optimizer,
                        best_state=self._best_state, rng_tensors=torch_rng_tensors(), state=state,
                        committed=committed)

    def _restore(self) -> dict[str, Any] | None:
        """Load the last checkpoint; returns the RNG state to apply mid-epoch (or None)."""
        if self.run_dir is None:
            raise ValueError("resume needs a run_dir")
        model, optimizer, scheduler, stopper = self._parts
        folder = self.run_dir / "checkpoints"
        payload = dist.broadcast_bytes(read_checkpoint_bytes(folder) if self.is_main else None, self.device)
        if payload is None:
            # killed before the first checkpoint: starting over is exactly what that run did
            if self.is_main:
                print(f"note: {folder} holds no checkpoint yet; training starts from the beginning",
                      file=sys.stderr)
            return None
        where = folder / CHECKPOINT_FILE
        model_state, best, optim, rng, state = load_checkpoint(payload, where)
        _check_shapes(model, state["model"], where)
        try:
            model.load_state_dict(model_state)
            optimizer.load_state_dict(optim)
            scheduler.load_state_dict(state["scheduler"])
            stopper.load_state_dict(state["early_stopping"])
        except (RuntimeError, ValueError, KeyError) as e:
            raise LstmkitError(f"checkpoint {where} does not fit this model or optimizer ({str(e).splitlines()[0]})",
                               "resume with the settings the run was started with, or start a new run") from None
        if self.is_main:        # Ctrl-C between the checkpoint and its readable copy left the copy an epoch behind
            write_readable_state(folder, state)
        self._best_state = best
        self.history = state["history"]
        self.start_epoch = state["epoch"]
        self.lr = optimizer.param_groups[0]["lr"]
        self.global_step = state["global_step"]
        self._where = Position(epoch=state["epoch"], pos=state["pos"], global_step=state["global_step"],
                                stopped=state["stopped"], nan_used=state["nan_used"], acc=_epoch_so_far(state["acc"]))
        if self.doctor is not None and state.get("doctor"):
            self.doctor.load_state_dict(state["doctor"])
        was = state.get("trained_on")
        if isinstance(was, dict):          # kept: a run resumed elsewhere is told so once, not again at its next resume
            self._first_on = was
            if self.is_main:
                _say_other_arithmetic(self.run_dir, was, _trained_on(self.device))
        return {"tensors": rng, "python": state["rng"]} if state["pos"] else None


def _trained_on(device: torch.device) -> dict[str, Any]:
    """What a run's float arithmetic depends on besides its settings and data: the device, torch's CPU
    threads (a sum split over 2 threads rounds otherwise than over 1) and the DDP processes."""
    return {"device": device_label(device), "threads": torch.get_num_threads(), "processes": dist.world_size()}


def _say_other_arithmetic(run_dir: Path, was: dict[str, Any], now: dict[str, Any]) -> None:
    """One warning when a resume runs where the checkpoint's training did not (``was``: its
    :func:`_trained_on`, as the run's first part recorded it): the run goes on, equal to one never
    interrupted only to float rounding, not bit for bit."""
    fixes = {"threads": lambda n: f"{n} torch thread{'s' * (n != 1)} (OMP_NUM_THREADS={n}, or torch.set_num_threads({n}) "
                                  "in Python)",
             "device": lambda d: f"the device {d}", "processes": lambda n: f"{n} processes (torchrun --nproc-per-node {n})"}
    changed = [k for k in fixes if k in was and was[k] != now[k]]
    if not changed:
        return
    what = ", ".join(f"{k} {was[k]} (here {now[k]})" for k in changed)
    fix = " and ".join(fixes[k](was[k]) for k in changed)
    warnings.warn(f"{run_dir} trained so far with {what}: the resumed run matches a run never interrupted only to "
                  f"float rounding, not bit for bit — resume on {fix} for the same bits",
                  UserWarning, stacklevel=callers_level())


def _check_shapes(model: nn.Module, saved: dict[str, Any], where: Path) -> None:
    here = {k: list(v.shape) for k, v in model.state_dict().items()}
    there = saved.get("shapes", {})
    if here == there:
        return
    diff = next((k for k in sorted(set(here) | set(there)) if here.get(k) != there.get(k)), "?")
    raise LstmkitError(
        f"checkpoint {where} was written for another model ({saved.get('class')}: {diff} is "
        f"{there.get(diff, 'absent')} there, {here.get(diff, 'absent')} here)",
        "resume with the settings the run was started with, or start a new run")


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    """Scheduler state with tensors/numpy scalars turned into floats (for JSON)."""
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in d.items()}


def _epoch_so_far(acc: dict[str, float]) -> dict[str, float]:
    """A checkpoint's ``acc``; one written before the batches' weights were counted gets them, and
    past an epoch's start ``unweighed`` (that epoch's ``train_loss`` is the mean of its batch losses)."""
    if "weighted" in acc:
        return acc
    return {**acc, "weighted": 0.0, "weight": 0.0, **({"unweighed": 1} if acc.get("n") else {})}
