"""Callbacks: what the trainer reports to, without knowing the model or the task.

Events, in order: ``on_train_begin(trainer)``, ``on_batch_end(trainer, batch, n_batches, loss)``
(``loss`` a 0-d tensor; call ``.item()`` sparingly), ``on_epoch_end(trainer, logs)`` and
``on_train_end(trainer)``.
"""
from __future__ import annotations

import csv
import io
import math
import sys
import time
from pathlib import Path
from typing import Any

from lstmkit.runs import atomic_write
from lstmkit.train.progress import chosen_mode

__all__ = ["Callback", "EarlyStopping", "ProgressDisplay", "HistoryCSV", "TensorBoardLogger"]


class Callback:
    def on_train_begin(self, trainer) -> None: ...
    def on_batch_end(self, trainer, batch: int, n_batches: int, loss) -> None: ...
    def on_epoch_end(self, trainer, logs: dict[str, Any]) -> None: ...
    def on_train_end(self, trainer) -> None: ...


class EarlyStopping:
    """Tracks the best validation loss; ``update`` returns True when training should stop.

    The caller keeps a copy of the weights whenever ``update`` reports a new lowest loss
    (``improved`` is True), and restores them at the end. ``min_delta`` governs patience alone: a
    loss lower than every one before it by less than ``min_delta`` is kept as the best (the weights
    restored are those of the lowest loss, the epoch ``history.csv`` shows it at) but does not reset
    patience, which counts from the last loss that beat the one before it by more than ``min_delta``
    (``counted``; a fall of exactly ``min_delta`` is none, as torch's ``ReduceLROnPlateau`` counts it
    with ``threshold_mode="abs"``, the plateau schedule beside it). A loss equal to the best is no
    improvement: the first epoch to reach it stays the best. (The best and the patience's mark were
    one number: with ``min_delta`` a lower loss was not kept, and the run restored an epoch its own
    history showed beaten.)
    """

    def __init__(self, patience: int = 7, min_delta: float = 0.0):
        if patience < 1:
            raise ValueError(f"patience must be >= 1, got {patience}")
        self.patience, self.min_delta = patience, min_delta
        self.best = math.inf
        self.best_epoch = -1
        self.counted = math.inf          # the loss an improvement must beat by more than min_delta to reset patience
        self.wait = 0
        self.improved = False

    def update(self, value: float, epoch: int) -> bool:
        self.improved = value < self.best
        if self.improved:
            self.best, self.best_epoch = value, epoch
        if value < self.counted - self.min_delta:
            self.counted, self.wait = value, 0
        else:
            self.wait += 1
        return self.wait >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait, "counted": self.counted}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.wait = d["best"], d["best_epoch"], d["wait"]
        self.counted = d.get("counted", d["best"])      # a checkpoint from before: its best was the mark


def _fmt(v: float | None) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.5g}"


class ProgressDisplay(Callback):
    """A live bar (epoch, loss, val loss, lr, ETA) on a terminal; one log line per epoch elsewhere,
    and within an epoch that runs longer a line every :attr:`EPOCH_NOTE_S` seconds with its batches
    done and the run's ETA (``epoch 1/20  batch 3/40  loss 2.31  61s  ETA <= 16200s``): an epoch of
    100 series of 100,000 steps, or of a 1 MB line of text, took an hour before its first line said
    that the run would take many more.

    On standard error (``stream``, by default), as every progress and log line: standard output
    carries a command's results (its report, tables, JSON), which ``train ... > out.txt`` or
    ``| jq`` read without the epoch lines between them.

    ``mode``: ``auto`` picks ``bar`` when the stream is a terminal that can redraw a line, else ``log``
    (:func:`lstmkit.train.progress.shows_a_bar`); ``off`` prints nothing; ``bar`` in a Jupyter notebook
    without ipywidgets is ``log`` (:func:`lstmkit.train.progress.chosen_mode`).
    """

    EPOCH_NOTE_S = 60.0     # log mode: a line within an epoch at most this often (a shorter epoch: none)

    def __init__(self, mode: str = "auto", stream=None):
        self.stream = stream or sys.stderr
        self.mode = chosen_mode(mode, self.stream)
        self._bar = None
        self._last_refresh = 0.0
        self._epoch, self._first_batch = 0, None
        self._epoch_t0 = self._noted = time.perf_counter()

    def on_train_begin(self, trainer) -> None:
        self._t0 = time.perf_counter()
        self._epoch_t0 = self._noted = self._t0
        if self.mode == "bar":
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)
            self._bar = Progress(
                TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}  val {task.fields[val]}  lr {task.fields[lr]}"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                console=Console(file=self.stream), transient=False)
            self._bar.start()
            self._task = self._bar.add_task("train", total=None, epoch="-", loss="-", val="-", lr="-")

    def on_epoch_begin(self, trainer, epoch: int, n_batches: int) -> None:
        self._epoch_t0 = self._noted = time.perf_counter()
        self._epoch, self._first_batch = epoch, None
        if self._bar is not None:
            last = trainer.history[-1] if trainer.history else {}
            # reset() replaces every field, so all of them are passed each time
            self._bar.reset(self._task, total=n_batches,
                            epoch=f"{epoch + 1}/{trainer.config.max_epochs}",
                            loss=_fmt(last.get("train_loss")), val=_fmt(last.get("val_loss")),
                            lr=f"{trainer.lr:.2g}")

    def on_batch_end(self, trainer, batch, n_batches, loss) -> None:
        if self._bar is None:
            if self.mode == "log":
                self._note_within_epoch(trainer, batch, n_batches, loss)
            return
        now = time.perf_counter()
        if now - self._last_refresh > 0.25:     # .item() and text formatting 4x a second, not per batch
            self._last_refresh = now
            self._bar.update(self._task, completed=batch + 1, loss=_fmt(loss.item()))
        else:
            self._bar.update(self._task, completed=batch + 1)

    def _note_within_epoch(self, trainer, batch: int, n_batches: int, loss) -> None:
        """A log line when :attr:`EPOCH_NOTE_S` passed since the epoch began or its last line; the ETA is
        the rest of this epoch and the epochs after it at this pace (batches a resume replayed not counted)."""
        if self._first_batch is None:
            self._first_batch = batch
        now = time.perf_counter()
        if now - self._noted < self.EPOCH_NOTE_S:
            return
        self._noted = now
        elapsed = now - self._epoch_t0
        per_batch = elapsed / (batch - self._first_batch + 1)
        left = per_batch * ((n_batches - batch - 1) + (trainer.config.max_epochs - self._epoch - 1) * n_batches)
        print(f"epoch {self._epoch + 1}/{trainer.config.max_epochs}  batch {batch + 1}/{n_batches}  "
              f"loss {_fmt(loss.item())}  {elapsed:.0f}s  ETA <= {left:.0f}s", file=self.stream, flush=True)

    def on_epoch_end(self, trainer, logs) -> None:
        if self.mode == "off":
            return
        if self._bar is not None:
            self._bar.update(self._task, loss=_fmt(logs["train_loss"]), val=_fmt(logs["val_loss"]))
            return
        done = logs["epoch"]
        elapsed = time.perf_counter() - self._t0
        left = (trainer.config.max_epochs - done) * elapsed / max(done - trainer.start_epoch, 1)
        print(f"epoch {done}/{trainer.config.max_epochs}  loss {_fmt(logs['train_loss'])}  "
              f"val_loss {_fmt(logs['val_loss'])}  lr {logs['lr']:.2g}  {logs['seconds']:.1f}s  "
              f"ETA <= {left:.0f}s", file=self.stream, flush=True)

    def on_train_end(self, trainer) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


class HistoryCSV(Callback):
    """Rewrites ``history.csv`` after every epoch (atomically, so it is always complete)."""

    COLUMNS = ["epoch", "train_loss", "val_loss", "lr", "grad_norm", "seconds", "nan_skips"]

    def __init__(self, path: Path):
        self.path = Path(path)

    def on_epoch_end(self, trainer, logs) -> None:
        self.write(trainer.history)

    def on_train_end(self, trainer) -> None:
        # again at the end: a run killed between an epoch's checkpoint and this file resumes with
        # nothing left to train, and the epoch's row would be missing
        self.write(trainer.history)

    def write(self, history) -> None:
        """Write ``history`` (one dict an epoch) as the file, atomically (also ``save()``'s)."""
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=self.COLUMNS, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(history)
        atomic_write(self.path, lambda tmp: Path(tmp).write_text(buf.getvalue(), encoding="utf-8"))


class TensorBoardLogger(Callback):
    """Scalars per epoch into ``tb/`` for ``tensorboard --logdir runs``."""

    def __init__(self, logdir: Path):
        from torch.utils.tensorboard import SummaryWriter   # imported only when used
        self._writer_class, self.logdir = SummaryWriter, logdir
        self.writer = None          # open from on_train_begin to on_train_end: a thread and a file

    def on_train_begin(self, trainer) -> None:
        self.writer = self._writer_class(log_dir=str(self.logdir))

    def on_epoch_end(self, trainer, logs) -> None:
        for key in ("train_loss", "val_loss", "lr", "grad_norm"):
            v = logs.get(key)
            if v is not None and not (isinstance(v, float) and math.isnan(v)):
                self.writer.add_scalar(key, v, logs["epoch"])
        self.writer.flush()

    def on_train_end(self, trainer) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
