"""What a run folder's ``status`` says, and what each reader tells a user of a run that is not finished.

    STATUSES                          training, interrupted, failed, finished (``lstmkit.json``'s "status")
    failure_record(e, ...)            the ``failure`` block a fit that raised writes beside "failed"
    failed_line(failure)              " in epoch 2: RuntimeError: boom", to follow "failed" in messages
    checkpoint_epochs_said(run)       the epochs ``checkpoints/last.json`` says the checkpoint holds
    not_finished(run, meta, resume)   the error a reader that needs a finished run raises
    failure_fix(run, meta, resume)    what to do with a failed run: resume it from its checkpoint, or train anew
    resume_verdict(run, meta)         whether resuming a failed run makes sense: None, else the refusal
    say_resuming_failed(run, meta)    the warning a resume of a failed run gives: what failed, where it goes on
    unfinished_state(run, meta)       one phrase of an unfinished run's state, for the doctor and ``lstmkit list``

A run is marked ``training`` when it starts (with ``process``: the id and host of the process that
trains it), ``interrupted`` after Ctrl-C or SIGTERM, ``failed`` after any other exception in the fit
(a bug in the model or a callback, a loss that diverged, a full disk, out of memory; ``failure``:
the error's one-line message, its type, the epoch, the epochs the checkpoint holds), ``finished``
by the save that ends a fit. A run left ``training`` by a process that is gone (``kill -9``, a
crash, the machine stopped: nothing could be written) is told apart from one still training by
:func:`~lstmkit.run_lock.process_gone`.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from lstmkit.errors import LstmkitError, TrainingDiverged, callers_level, opt
from lstmkit.files import now_stamp, read_json
from lstmkit.run_lock import PROCESS_KEY, check_not_training, process_gone

__all__ = ["STATUSES", "FAILURE_KEY", "failure_record", "failed_line", "checkpoint_epochs_said", "not_finished",
           "resume_verdict", "say_resuming_failed", "unfinished_state", "failure_fix"]

STATUSES = ("training", "interrupted", "failed", "finished")
FAILURE_KEY = "failure"          # lstmkit.json of a failed run: what failed, where


def failure_record(e: BaseException, *, epoch: int | None, stage: str, checkpoint_epochs: int,
                   best_epoch: int | None = None) -> dict[str, Any]:
    """The ``failure`` block of a run whose fit raised ``e``: its one-line message (an lstmkit error's message
    without the hint), the type's name, ``stage`` (setup: before the first epoch of this try; training: in the
    epoch loop; after training: scoring, plots, the save), the ``epoch`` (from 1) it happened in, the epochs
    the checkpoint holds, the best epoch among them, whether the loss diverged (a resume would diverge again),
    and when."""
    text = e.message if isinstance(e, LstmkitError) else str(e)
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if len(line) > 500:
        line = line[:497] + "..."
    error = f"{type(e).__name__}: {line}" if line else type(e).__name__
    record: dict[str, Any] = {"error": error, "type": type(e).__name__, "stage": stage, "epoch": epoch,
                              "checkpoint_epochs": checkpoint_epochs, "when": now_stamp()}
    if best_epoch is not None and 0 < best_epoch <= checkpoint_epochs:
        record["best_epoch"] = best_epoch
    if isinstance(e, TrainingDiverged):
        record["diverged"] = True
    return record


def failed_line(failure: dict[str, Any]) -> str:
    """Where and how a run failed, from its ``failure`` block, to follow "failed": " in epoch 2:
    RuntimeError: boom", " before its first epoch: ...", " after its last epoch (3), while scoring or
    saving: ...", ", with no record of why"."""
    if not failure.get("error"):                # a failed run's lstmkit.json edited, or written by hand
        return ", with no record of why"
    stage, epoch, error = failure.get("stage"), failure.get("epoch"), failure["error"]
    if stage == "training" and isinstance(epoch, int):
        where = f"in epoch {epoch}"
    elif stage == "after training":
        where = "after its last epoch" + (f" ({epoch})" if isinstance(epoch, int) else "") + ", while scoring or saving"
    elif isinstance(failure.get("checkpoint_epochs"), int) and failure["checkpoint_epochs"] > 0:
        where = f"while a resume set up training after epoch {failure['checkpoint_epochs']}"
    else:
        where = "before its first epoch"
    return f" {where}: {error}"


def checkpoint_epochs_said(run: str | Path) -> int | None:
    """The epochs ``run``'s checkpoint holds, as its readable copy ``checkpoints/last.json`` says
    (None where there is none, or it cannot be read)."""
    try:
        state = read_json(Path(run) / "checkpoints" / "last.json", "")
    except (OSError, LstmkitError):
        return None
    epoch = state.get("epoch") if isinstance(state, dict) else None
    return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) and epoch >= 0 else None


def _failure(meta: dict[str, Any]) -> dict[str, Any]:
    failure = meta.get(FAILURE_KEY)
    return failure if isinstance(failure, dict) else {}


def _epochs(n: int) -> str:
    return f"{n} epoch{'s' * (n != 1)}"


def unfinished_state(run: str | Path, meta: dict[str, Any]) -> str:
    """One phrase of what an unfinished run's state is, for a reader that lists or explains it:
    'its training failed in epoch 2: RuntimeError: boom', 'interrupted', 'still training',
    'its training process is gone (killed, or its machine stopped): ...'."""
    status = meta.get("status")
    if status == "failed":
        return "its training failed" + failed_line(_failure(meta))
    if status == "training":
        gone = process_gone(run, meta)
        if gone:
            return "its training process is gone (killed, or its machine stopped): nothing marked it finished"
        if gone is None:
            return "training, or its process is gone (this machine cannot tell)"
        process = meta.get(PROCESS_KEY)
        if isinstance(process, dict) and process.get("pid") is not None:
            return f"still training (process {process['pid']} on {process.get('host')})"
        return "still training"
    return str(status)


def not_finished(run: str | Path, meta: dict[str, Any], resume: str, action: str = "loading it") -> LstmkitError:
    """The error a reader that needs a finished run (load, predict, export, serve, update) raises for
    ``run`` (``meta``: its ``lstmkit.json``, not finished); ``resume`` is the call that continues it.
    One still being trained by another process is :func:`~lstmkit.run_lock.check_not_training`'s error."""
    check_not_training(run, action)
    status = meta.get("status")
    if status == "failed":
        return LstmkitError(f"{run} holds a run whose training failed{failed_line(_failure(meta))}",
                            failure_fix(run, meta, resume))
    if status == "training" and process_gone(run, meta):
        held = checkpoint_epochs_said(run)
        message = (f"{run} holds an unfinished run: the process that trained it is gone (killed, or its machine "
                   "stopped) and never marked it finished")
        kept = f"its checkpoint holds {_epochs(held)}; " if held else ""
        return LstmkitError(message, f"{kept}continue it with {resume}")
    return LstmkitError(f"{run} holds an unfinished run (status: {status})", f"continue it with {resume}")


def failure_fix(run: str | Path, meta: dict[str, Any], resume: str) -> str:
    """What to do with the failed run ``run`` (``meta``: its ``lstmkit.json``): a new run where its loss
    diverged, else what its checkpoint holds and the ``resume`` that continues from it."""
    verdict = resume_verdict(run, meta)
    if verdict is not None:
        return verdict.hint or ""
    return _resume_hint(_failure(meta), checkpoint_epochs_said(run), resume)


def _resume_hint(failure: dict[str, Any], held: int | None, resume: str) -> str:
    if failure.get("stage") == "after training" and held:
        return (f"its checkpoint holds every epoch ({held}): fix the cause, then {resume} scores and saves the "
                "model without training again")
    if held:
        best = failure.get("best_epoch")
        kept = f" (the best so far is epoch {best}'s weights, kept in it)" if isinstance(best, int) else ""
        return f"its checkpoint holds {_epochs(held)}{kept}: fix the cause, then continue it with {resume}"
    return (f"it failed before its first checkpoint, so nothing was trained to keep: fix the cause, then {resume} "
            "trains it from the beginning")


def resume_verdict(run: str | Path, meta: dict[str, Any]) -> LstmkitError | None:
    """Whether resuming ``run`` makes sense: None, else the error that refuses it. A run whose loss
    diverged would diverge again (a resume keeps its settings, data and seed)."""
    failure = _failure(meta)
    if meta.get("status") != "failed" or not failure.get("diverged"):
        return None
    train = (meta.get("config") or {}).get("train") if isinstance(meta.get("config"), dict) else None
    train = train if isinstance(train, dict) else {}
    lr = train.get("lr")
    rate = (f"{opt('lr', f'{lr / 10:g}')}, a tenth of this run's" if isinstance(lr, (int, float)) and lr > 0
            else opt("lr"))
    clip = (f"gradient clipping on ({opt('clip_norm', 1.0)})" if "clip_norm" in train and train["clip_norm"] is None
            else "gradient clipping kept on")
    return LstmkitError(f"{run} failed{failed_line(failure)}; a resume keeps its settings, data and seed, "
                        "so it would diverge the same way",
                        f"train a new run with a lower learning rate ({rate}), {clip}, and the data checked for "
                        "NaN or extreme values")


def say_resuming_failed(run: str | Path, meta: dict[str, Any]) -> None:
    """The one warning a resume of a failed run gives before it trains (``meta``: the run's
    ``lstmkit.json`` as the failure left it): what failed, and what the resume continues from. It
    points at the caller's line, the first outside lstmkit (:func:`~lstmkit.errors.callers_level`)."""
    if meta.get("status") != "failed":
        return
    held = checkpoint_epochs_said(run)
    start = (f"continuing from its checkpoint after epoch {held}" if held else
             "it failed before its first checkpoint: training starts from the beginning")
    warnings.warn(f"{run} failed{failed_line(_failure(meta))}; {start}", UserWarning, stacklevel=callers_level())

