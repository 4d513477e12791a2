"""The fit loop, shared by every task.

The trainer knows a model, two iterables of ``(inputs, target)`` batches, a loss and a
:class:`~lstmkit.config.TrainConfig`. Everything task-specific stays outside; reporting goes
through callbacks. Practice built in: Adam, gradient clipping, ReduceLROnPlateau or cosine
annealing, early stopping that restores the best weights, and what keeps long runs alive:

- the **doctor** (:mod:`lstmkit.train.doctor`) watches losses, gradients, gates and timings and
  writes ``doctor.json`` with findings and remedies;
- the **NaN guard**: a non-finite loss or gradient skips the step, restores the last good
  weights and optimizer state, halves the learning rate and goes on, at most ``nan_retries``
  times;
- **crash-proof resume** (:mod:`lstmkit.train.resume`): every ``checkpoint_every`` steps and at
  each epoch end a checkpoint holds weights, optimizer, scheduler, early stopping, every RNG state
  and the position in the epoch, so a run killed at any moment continues bit-identically with
  ``resume=True``;
- **mixed precision** (``precision="bf16"``, autocast) and **DDP** under torchrun
  (:mod:`lstmkit.train.distributed`).
"""
from __future__ import annotations

import contextlib
import copy
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import torch
from torch import nn

from lstmkit.config import TrainConfig, lower_lr
from lstmkit.errors import LstmkitError, TrainingDiverged, TrainingInterrupted, opt
from lstmkit.random_state import lent_random, seed_epoch, set_rng_state
from lstmkit.runs import write_json
from lstmkit.train import distributed as dist
from lstmkit.train.callbacks import (Callback, EarlyStopping, HistoryCSV, ProgressDisplay,
                                     TensorBoardLogger)
from lstmkit.train.doctor import DOCTOR_FILE, Doctor, format_report
from lstmkit.train.precision import say_bf16_cost
from lstmkit.train.resume import Position, ResumeState, terminate_as_interrupt
from lstmkit.train.settings import PRECISIONS, check_train_config, device_label, make_loss, resolve_device

__all__ = ["Trainer", "TrainResult", "TrainingInterrupted", "resolve_device", "make_loss", "PRECISIONS"]

@dataclass
class TrainResult:
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0             # 1-based epoch whose weights the model now holds
    best_val_loss: float = math.nan
    # the loss early stopping, the schedule and best_val_loss followed: "train_loss" where nothing was held out
    # (best_val_loss is then the lowest training loss; lstmkit.json said best_val_loss with no word of it)
    monitored: str = "val_loss"
    stopped_early: bool = False
    out_of_time: bool = False       # stopped by the time budget (max_minutes), not by early stopping
    epochs_run: int = 0
    doctor: dict[str, Any] | None = None    # the doctor's report (findings, events, stats)
    device: str = "cpu"             # where it trained: "cpu", or e.g. "cuda:0 (NVIDIA H200)"
    threads: int = 1                # torch's CPU threads: the same run on another count rounds otherwise

    def __repr__(self) -> str:
        """The outcome on one line, ``history`` and ``doctor`` by their size: the generated repr printed
        both whole (17 kB for 20 epochs, 13 kB of it the doctor's statistics) where a notebook shows
        ``est.result_``. The fields hold them in full."""
        doctor = "None" if self.doctor is None else f"[{len(self.doctor.get('findings', []))} findings]"
        return (f"TrainResult(epochs_run={self.epochs_run}, best_epoch={self.best_epoch}, "
                f"best_val_loss={self.best_val_loss:.6g}, stopped_early={self.stopped_early}, "
                f"out_of_time={self.out_of_time}, device={self.device!r}, threads={self.threads}, history=[{len(self.history)} epochs], "
                f"doctor={doctor})")


class Trainer(ResumeState):
    """Fits a model. ``run_dir`` (optional) receives history.csv, doctor.json, tb/ and checkpoints/.

    Batches are ``(inputs, target)`` pairs; ``inputs`` may be a tensor or a tuple of tensors
    passed as separate arguments. ``loss_fn(prediction, target)`` defaults to ``config.loss``.
    Under torchrun the model is wrapped in DDP and each rank trains on its share of every
    batch; only rank 0 writes and prints.
    """

    def __init__(self, config: TrainConfig, run_dir: Path | None = None,
                 callbacks: Iterable[Callback] = (), loss_fn: Callable | None = None, task_config: Any = None):
        self.device = self.check_config(config, loss_fn)
        self.config = config
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.loss_fn = loss_fn or make_loss(config.loss)
        self.is_main = dist.is_main()
        self.progress = ProgressDisplay(config.progress if self.is_main else "off")
        # the ones given from outside (a user's, tuning's pruner) run with the random generators lent
        self.callbacks: list[Callback] = [self.progress, *(_Lent(cb) for cb in callbacks)]
        if self.run_dir is not None and self.is_main:
            self.callbacks.append(HistoryCSV(self.run_dir / "history.csv"))
            if config.tensorboard:
                self.callbacks.append(TensorBoardLogger(self.run_dir / "tb"))
        # the task's config (when a task trains): the doctor's remedies name its own options
        self.doctor = Doctor(task_config=task_config) if config.doctor else None
        self.history: list[dict[str, Any]] = []
        self.start_epoch = 0
        self.epoch_now: int | None = None     # the epoch (from 1) the loop is in: where a failure happened
        self.lr = config.lr
        self.global_step = 0

    @staticmethod
    def check_config(config: TrainConfig, loss_fn: Callable | None = None) -> torch.device:
        """Check ``config`` as the constructor does and return the training device.

        Settings, device and bf16 support are checked, and ``config.loss`` too unless a
        ``loss_fn`` is given; under torchrun the process group is joined. Nothing else is built,
        so an estimator calls this before it creates a run folder."""
        check_train_config(config)
        if loss_fn is None:
            make_loss(config.loss)
        dist.setup(config.device)
        device = resolve_device(config.device)
        if config.precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise LstmkitError("this GPU does not support bf16", f"use {opt('precision', 'fp32')}")
        return device

    # -- the loop ------------------------------------------------------------------------
    def fit(self, model: nn.Module, train_batches, val_batches=None, resume: bool = False,
            restore_best: bool = True, evidence: Callable[[nn.Module], dict] | None = None) -> TrainResult:
        """Train ``model`` in place. At the end it holds the best epoch's weights (by validation
        loss, else training loss), or with ``restore_best=False`` the last epoch's (fine-tuning
        for a fixed number of epochs, judged by the caller).

        ``evidence(model)``, called on the trained model when the doctor is on, returns what the
        task measured on it for the doctor to judge (e.g. ``{"baselines": ...}``: see
        :meth:`~lstmkit.train.doctor.Doctor.report`)."""
        cfg = self.config
        model.to(self.device)
        params = [p for p in model.parameters() if p.requires_grad]
        groups = getattr(model, "param_groups", None)     # per-layer learning rates (classify --init-from)
        optimizer = torch.optim.Adam(groups(cfg.lr) if callable(groups) else params, lr=cfg.lr,
                                     weight_decay=cfg.weight_decay, **_fast_adam_kwargs(self.device))
        if cfg.lr_schedule == "cosine":   # stepped once per epoch: the last epoch runs at lr * (1 - cos(pi/N))/2
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.max_epochs)
        else:
            # an improvement as early stopping counts one, by min_delta (it counted any by 0.01 %, so a loss
            # that early stopping saw stall kept the rate); unset, torch's relative 0.01 %, as runs trained before
            by = {"threshold": cfg.min_delta, "threshold_mode": "abs"} if cfg.min_delta else {}
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode="min", factor=cfg.lr_factor, patience=cfg.lr_patience, **by)
        stopper = EarlyStopping(cfg.patience, cfg.min_delta)
        self._parts = (model, optimizer, scheduler, stopper)
        self._out_of_budget = False
        self._best_state: dict[str, torch.Tensor] | None = None
        self._where = Position()
        self._first_on: dict[str, Any] | None = None    # where a resumed run's first part trained
        # bf16 on the CPU is often slower than fp32: measured on the first batch, said when so
        self._cost_due = cfg.precision == "bf16" and self.device.type == "cpu" and not dist.is_distributed()
        if self.doctor is not None:
            self.doctor.bind(model)
        resume_rng = self._restore() if resume else None
        self._saved_epochs = self._where.epoch          # the epochs the checkpoint on disk holds
        self._remember_good()

        step_model = model
        if dist.is_distributed():
            from torch.nn.parallel import DistributedDataParallel
            step_model = DistributedDataParallel(model)
            train_batches = dist.ShardedBatches(train_batches, dist.rank(), dist.world_size())
            if val_batches is not None:
                val_batches = dist.ShardedBatches(val_batches, dist.rank(), dist.world_size(), skip_small=False)

        w = self._where
        begun: list[Callback] = []        # the callbacks whose begin ran: the ones whose end must run
        try:
            with terminate_as_interrupt():
                for cb in self.callbacks:
                    cb.on_train_begin(self)
                    begun.append(cb)
                for epoch in range(w.epoch, cfg.max_epochs):
                    if w.stopped:
                        break
                    # Re-seeding per epoch makes shuffles and dropout masks a function of
                    # (seed, epoch); mid-epoch, the saved RNG state takes over after the skip.
                    seed_epoch(cfg.seed * 100_003 + epoch)
                    self.epoch_now = epoch + 1
                    logs = self._train_epoch(step_model, model, optimizer, params, train_batches, epoch, resume_rng)
                    resume_rng = None
                    self._end_epoch(model, logs, val_batches)
                    if w.stopped:
                        break
        except KeyboardInterrupt:
            with contextlib.suppress(Exception):     # the interrupt is what the caller is told
                _end_all(begun, self)
            self._write_doctor("interrupted")
            # the epochs the checkpoint holds: Ctrl-C while it was written said one more than a resume continues from
            saved = self._saved_epochs if self.run_dir is not None and self.is_main else len(self.history)
            raise TrainingInterrupted(self.run_dir, saved, best_epoch=self._keep_best(model, restore_best)) from None
        except Exception as e:          # the run is marked failed by its estimator; this closes what training opened
            self._close_after(e, begun)
            raise
        self.epoch_now = None
        _end_all(begun, self)
        if self._best_state is not None and restore_best:
            model.load_state_dict(self._best_state)
        found = evidence(model) if evidence is not None and self.doctor is not None and self.is_main else None
        report = self._write_doctor(None, found)
        if report is not None and self.progress.mode != "off":
            print(format_report(report), file=self.progress.stream, flush=True)
        return TrainResult(history=list(self.history), best_epoch=stopper.best_epoch,
                           best_val_loss=stopper.best, monitored=_monitored(self.history),
                           stopped_early=w.stopped and not self._out_of_budget,
                           out_of_time=self._out_of_budget, epochs_run=len(self.history), doctor=report,
                           device=device_label(self.device), threads=torch.get_num_threads())

    def _keep_best(self, model: nn.Module, restore_best: bool) -> int | None:
        """After Ctrl-C: the best epoch's weights put back into ``model``, as a finished fit ends, and that
        epoch (None where no epoch ended, or with ``restore_best=False``: the model is as training left it).
        The weights were those of the interrupted epoch's last step, half an epoch past the checkpoint: a
        notebook's interrupted cell went on predicting with a model that no epoch, run or resume held."""
        best = self._best_state
        if best is None or not restore_best:
            return None
        model.load_state_dict(best)
        return self._parts[3].best_epoch

    def _close_after(self, e: Exception, begun: list[Callback]) -> None:
        """After ``e`` ended the epoch loop: the end of each callback ``begun`` (the progress bar stopped,
        history.csv and TensorBoard's events written out) and the doctor's report, saying what stopped training
        (a diverged loss wrote its own). A failure of these is dropped: ``e`` is what the caller is told."""
        with contextlib.suppress(Exception):
            _end_all(begun, self)
        if isinstance(e, TrainingDiverged):
            return
        line = next((ln.strip() for ln in str(getattr(e, "message", e)).splitlines() if ln.strip()), "")
        where = f"in epoch {self.epoch_now}" if self.epoch_now is not None else "before its first epoch"
        with contextlib.suppress(Exception):
            self._write_doctor(f"training failed {where}: {type(e).__name__}" + (f": {line}" if line else ""))

    def _train_epoch(self, step_model, model, optimizer, params, batches, epoch, resume_rng) -> dict[str, Any]:
        cfg, w, doc = self.config, self._where, self.doctor
        model.train()
        t0 = time.perf_counter()
        n_batches = len(batches)
        self.progress.on_epoch_begin(self, epoch, n_batches)
        on_device = self.device.type != "cpu"
        autocast = _autocast(cfg.precision, self.device)
        it = iter(batches)
        self._gate_sample = None
        if resume_rng is not None and w.pos:
            for k in range(w.pos):           # replay the data order up to the checkpoint ...
                xb, _ = next(it)
                if k == 0:
                    self._gate_sample = _head(xb)
            set_rng_state(resume_rng)       # ... then continue from its RNG state
        else:
            w.pos, w.acc = 0, Position().acc
        t_fetch = time.perf_counter()
        weigh = getattr(self.loss_fn, "batch_weight", None)
        for xb, yb in it:
            weight = _rows(yb) if weigh is None else weigh(yb)      # what it weighs, as in _evaluate
            if on_device:
                xb, yb = _to(xb, self.device), _to(yb, self.device)
            if w.pos == 0:
                self._gate_sample = _head(xb)
            if self._cost_due:
                self._cost_due = False
                say_bf16_cost(model, lambda m: self.loss_fn(_float(_call(m, xb)), yb))
            t_ready = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            with autocast:
                pred = _call(step_model, xb)
            loss = self.loss_fn(_float(pred), yb)
            loss.backward()
            detail = doc is not None and doc.wants_detail(w.global_step, w.pos)
            if detail:
                doc.sample_gradients(xb)
            if cfg.clip_norm is not None:
                norm = torch.nn.utils.clip_grad_norm_(params, cfg.clip_norm, foreach=True)
            else:
                norm = torch.nn.utils.get_total_norm([p.grad for p in params if p.grad is not None], foreach=True)
            # one sync per step: the guard must know before the optimizer touches the weights
            loss_v, norm_v = torch.stack([loss.detach().float(), norm.detach().float()]).tolist()
            if math.isfinite(loss_v) and math.isfinite(norm_v):
                before = doc.weights_before_step() if detail else None
                optimizer.step()
                if detail:
                    doc.weights_after_step(before)
                w.acc["loss"] += loss_v
                w.acc["grad"] += norm_v
                w.acc["n"] += 1
                w.acc["weighted"] += loss_v * weight
                w.acc["weight"] += weight
            else:
                self._nan_guard(epoch, loss_v, norm_v, optimizer)
            w.global_step += 1
            w.pos += 1
            self.global_step = w.global_step
            t_done = time.perf_counter()
            if doc is not None:
                doc.step(w.global_step, loss_v, norm_v, t_ready - t_fetch, t_done - t_ready, _rows(yb))
            for cb in self.callbacks:
                cb.on_batch_end(self, w.pos - 1, n_batches, loss.detach())
            if cfg.checkpoint_every and w.global_step % cfg.checkpoint_every == 0 and w.pos < n_batches:
                self._remember_good()
                self._checkpoint()
            t_fetch = time.perf_counter()
        if w.pos == 0:
            raise LstmkitError("no training batches", "supply more data or shorten the lookback")
        total, n, grad, skips, weighted, weight = dist.all_reduce_sum(
            [w.acc["loss"], float(w.acc["n"]), w.acc["grad"], float(w.acc["skips"]), w.acc["weighted"],
             w.acc["weight"]], self.device)
        return {"epoch": epoch + 1, "train_loss": _epoch_loss(total, n, weighted, weight, bool(w.acc.get("unweighed"))),
                "lr": optimizer.param_groups[0]["lr"],
                "grad_norm": grad / n if n else math.nan,
                "nan_skips": int(w.acc["skips"]), "_t0": t0}

    def _end_epoch(self, model, logs, val_batches) -> None:
        w = self._where
        _, optimizer, scheduler, stopper = self._parts
        if self.doctor is not None and self.is_main and self.doctor.gates_due(logs["epoch"]):
            self.doctor.sample_gates(model, self._gate_sample)
        logs["val_loss"] = self._evaluate(model, val_batches) if val_batches is not None else math.nan
        monitor = logs["val_loss"] if not math.isnan(logs["val_loss"]) else logs["train_loss"]
        if not math.isfinite(monitor):
            self._write_doctor(f"the loss became {monitor} at epoch {logs['epoch']}")
            raise TrainingDiverged(
                f"the loss became {monitor} at epoch {logs['epoch']}",
                f"check the data for NaN or extreme values, or {lower_lr(self.config.lr)}")
        if self.config.lr_schedule == "plateau":
            scheduler.step(monitor)
        else:
            scheduler.step()
        w.stopped = stopper.update(monitor, logs["epoch"])
        logs["seconds"] = time.perf_counter() - logs.pop("_t0")
        if not w.stopped and self._out_of_time(logs["seconds"]):
            w.stopped = self._out_of_budget = True
        if stopper.improved:
            self._best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.lr = optimizer.param_groups[0]["lr"]
        self.history.append(logs)
        if self.doctor is not None:
            self.doctor.end_epoch(logs)
        w.epoch, w.pos, w.acc = logs["epoch"], 0, Position().acc
        self._remember_good()
        self._checkpoint()
        for cb in self.callbacks:
            cb.on_epoch_end(self, logs)

    def _out_of_time(self, last_epoch_seconds: float) -> bool:
        """True when one more epoch, as long as the mean so far, would end past ``max_minutes``
        (the epochs of an interrupted run count, so a resumed run keeps the same budget)."""
        budget = self.config.max_minutes
        if budget is None:
            return False
        seconds = [h["seconds"] for h in self.history] + [last_epoch_seconds]
        spent = sum(seconds)
        return spent + spent / len(seconds) > budget * 60

    @torch.no_grad()
    def _evaluate(self, model: nn.Module, batches) -> float:
        """The loss over ``batches``: each batch's mean weighed by its rows, or by what the loss says
        a batch weighs (``loss_fn.batch_weight(target)``: a classifier's sample weights, a language model's
        or a translator's target tokens), so the result is the mean over every row (or token) as the loss
        weighs them, whatever the batches."""
        model.eval()
        total, count = 0.0, 0.0
        weigh = getattr(self.loss_fn, "batch_weight", None)
        with _autocast(self.config.precision, self.device):
            for xb, yb in batches:
                bs = _rows(yb)
                if bs == 0:
                    continue
                xb, yb = _to(xb, self.device), _to(yb, self.device)
                weight = bs if weigh is None else weigh(yb)
                if weight == 0:          # nothing the loss counts (its mean over none is NaN)
                    continue
                pred = _call(model, xb)
                total += self.loss_fn(_float(pred), yb).item() * weight
                count += weight
        total, count = dist.all_reduce_sum([total, float(count)], self.device)
        return total / count if count else math.nan

    # -- the NaN guard -------------------------------------------------------------------
    def _nan_guard(self, epoch: int, loss: float, norm: float, optimizer) -> None:
        cfg, w = self.config, self._where
        model = self._parts[0]
        lr_before = optimizer.param_groups[0]["lr"]
        lrs_before = [g["lr"] for g in optimizer.param_groups]
        good_model, good_optim, good_step = self._good
        model.load_state_dict(good_model)
        optimizer.load_state_dict(copy.deepcopy(good_optim))
        for g, before in zip(optimizer.param_groups, lrs_before):
            g["lr"] = before * 0.5
        optimizer.zero_grad(set_to_none=True)
        w.nan_used += 1
        w.acc["skips"] += 1
        self.lr = lr_before * 0.5
        event = {"epoch": epoch + 1, "step": w.global_step + 1, "batch": w.pos + 1,
                 "loss": _num(loss), "grad_norm": _num(norm), "lr_before": lr_before, "lr_after": lr_before * 0.5,
                 "restored_step": good_step, "action": "skipped the step, restored the last good "
                 "weights and optimizer state, halved the learning rate"}
        if self.doctor is not None:
            self.doctor.nan_event(event)
        if w.nan_used > cfg.nan_retries:
            msg = (f"training stopped: the loss or gradients became non-finite {w.nan_used} times "
                   f"(last at epoch {epoch + 1}, step {w.global_step + 1}; nan_retries is {cfg.nan_retries})")
            self._write_doctor(msg)
            raise TrainingDiverged(msg, f"{lower_lr(cfg.lr)}, keep clipping on, and check the "
                                        "data for NaN or extreme values")

    def _write_doctor(self, stopped: str | None, evidence: dict[str, Any] | None = None) -> dict[str, Any] | None:
        if self.doctor is None:
            return None
        report = self.doctor.report(self.config, stopped, evidence)
        if self.run_dir is not None and self.is_main:
            write_json(self.run_dir / DOCTOR_FILE, report)
        return report


def _monitored(history: list[dict[str, Any]]) -> str:
    """Which loss :meth:`Trainer._end_epoch` followed: the validation loss where an epoch had one."""
    return "val_loss" if any(not math.isnan(h.get("val_loss", math.nan)) for h in history) else "train_loss"


def _num(x: float) -> float | str:
    """Non-finite numbers as text ('nan', 'inf'): doctor.json stays strict JSON."""
    return x if math.isfinite(x) else str(x)


def _autocast(precision: str, device: torch.device):
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _float(pred):
    """Losses are computed in float32 whatever precision the forward pass ran in."""
    if torch.is_tensor(pred) and pred.is_floating_point() and pred.dtype != torch.float32:
        return pred.float()
    return pred


def _head(x, rows: int = 16):
    """The first rows of a batch (views), for the doctor's once-per-epoch gate sample."""
    if isinstance(x, (tuple, list)):
        return type(x)(_head(v, rows) for v in x)
    return x[:rows] if torch.is_tensor(x) and x.dim() > 0 else x


def _epoch_loss(total: float, n: float, weighted: float, weight: float, unweighed: bool = False) -> float:
    """An epoch's ``train_loss``: the mean over the rows (or the tokens of a token-level loss) its
    batches trained on, each batch's loss weighed as :meth:`Trainer._evaluate` weighs it, so a ragged
    last batch of one row counts as one row (the mean of the batch losses made 65 rows in batches of
    64 and 1 read 0.545 where every row's loss averaged 0.599, and ``train_loss`` picks the best epoch
    of a run that holds nothing out). An epoch resumed from a checkpoint written before the weights
    were counted (``unweighed``) is the mean of its batch losses, as it was then."""
    if unweighed:
        return total / n if n else math.nan
    return weighted / weight if weight else math.nan


def _rows(y) -> int:
    if isinstance(y, (tuple, list)):
        return _rows(y[0])
    return int(y.shape[0]) if torch.is_tensor(y) and y.dim() > 0 else 1


def _end_all(callbacks: list[Callback], trainer: Trainer) -> None:
    """``on_train_end`` of every callback, then the first one's error: one that raised (a user's, or
    Ctrl-C in it) left those after it open, TensorBoard's writer and its thread among them (one more
    thread and open events file for every such fit of a notebook's or a tuning loop's process)."""
    first: BaseException | None = None
    for cb in callbacks:
        try:
            cb.on_train_end(trainer)
        except BaseException as e:      # noqa: BLE001  (raised below, once the others have ended)
            first = first or e
    if first is not None:
        raise first


class _Lent(Callback):
    """A callback given to the trainer from outside, its events run with the process's random
    generators lent (:func:`lstmkit.random_state.lent_random`): a user's callback may fit or load
    another model, or wait on another thread's fit, without a deadlock or a shift in this fit's draws.
    Events the callback does not define (``Callback``'s own no-ops) are not called."""

    def __init__(self, inner):
        self.inner = inner

    def _run(self, name: str, *args) -> None:
        method = getattr(self.inner, name, None)
        if method is None or getattr(type(self.inner), name, None) is getattr(Callback, name):
            return
        with lent_random():
            method(*args)

    def on_train_begin(self, trainer) -> None:
        self._run("on_train_begin", trainer)

    def on_batch_end(self, trainer, batch: int, n_batches: int, loss) -> None:
        self._run("on_batch_end", trainer, batch, n_batches, loss)

    def on_epoch_end(self, trainer, logs: dict[str, Any]) -> None:
        self._run("on_epoch_end", trainer, logs)

    def on_train_end(self, trainer) -> None:
        self._run("on_train_end", trainer)


def _call(model: nn.Module, inputs):
    """Batches are ``(inputs, target)``; a tuple of inputs is spread over the model's arguments
    (e.g. ``(tokens, lengths)``)."""
    return model(*inputs) if isinstance(inputs, (tuple, list)) else model(inputs)


def _to(x, device):
    if isinstance(x, (tuple, list)):
        return type(x)(_to(v, device) for v in x)
    return x.to(device, non_blocking=True)


def _fast_adam_kwargs(device: torch.device) -> dict[str, Any]:
    # The fused Adam kernel updates all parameters in one call: cheaper than the per-tensor
    # loop for the small recurrent models lstmkit trains (see benchmarks/train_throughput.py).
    return {"fused": True}
