"""``lstmkit list [FOLDER]``: the run folders in a folder, one line each with its task, its state and epochs.

    list_runs(folder)   one dict a run: run, task, status, state (a failed run's failure, a run whose
                        training process is gone, ...), epochs, written
    format_runs(rows)   the lines the command prints

A run's state is :mod:`lstmkit.run_status`'s: ``finished``, ``interrupted``, ``failed in epoch 2:
RuntimeError: ...``, ``still training``, or ``its training process is gone``; a folder whose
``lstmkit.json`` cannot be read is listed with the reason, not skipped.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from lstmkit.errors import LstmkitError
from lstmkit.runs import META_FILE, export_source, read_meta
from lstmkit.run_status import FAILURE_KEY, checkpoint_epochs_said, failed_line, unfinished_state

__all__ = ["list_runs", "format_runs"]


def list_runs(folder: str | Path) -> list[dict[str, Any]]:
    """The runs in ``folder`` (a folder of run folders, as ``--out`` makes, or one run folder), oldest
    first by name. A missing folder, or one that holds no run, is an :class:`LstmkitError`."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "not found"
        raise LstmkitError(f"runs folder {what}: {folder}", "pass the folder a train command's --out wrote into "
                           "(runs/ by default)")
    runs = [folder] if (folder / META_FILE).is_file() else sorted(
        p for p in folder.iterdir() if p.is_dir() and (p / META_FILE).is_file())
    if not runs:
        raise LstmkitError(f"{folder} holds no run folder (none of its folders has a {META_FILE})",
                           "pass the folder a train command's --out wrote into (runs/ by default)")
    return [_row(run) for run in runs]


def _row(run: Path) -> dict[str, Any]:
    try:
        meta = read_meta(run)
    except LstmkitError as e:             # a damaged or newer run is listed with why, not left out
        return {"run": str(run), "task": None, "status": None, "state": f"unreadable: {e.message}",
                "epochs": None, "written": None}
    status = meta.get("status")
    training = meta.get("training")
    training = training if isinstance(training, dict) else {}
    epochs = training.get("epochs_run") if status == "finished" else checkpoint_epochs_said(run)
    if status == "failed":
        failure = meta.get(FAILURE_KEY)
        state = "failed" + failed_line(failure if isinstance(failure, dict) else {})
    else:
        state = "finished" if status == "finished" else unfinished_state(run, meta)
    source = export_source(run)
    if source is not None:             # its lstmkit.json is the run's copy: the graphs are here, not the run
        state = f"ONNX export of {source} (no weights)"
    return {"run": str(run), "task": meta.get("task"), "status": status, "state": state,
            "epochs": epochs if isinstance(epochs, int) else None, "written": meta.get("written")}


def format_runs(rows: list[dict[str, Any]]) -> str:
    """The rows of :func:`list_runs` as aligned columns: run, task, epochs, state."""
    table = [("run", "task", "epochs", "state")] + [
        (r["run"], r["task"] or "?", "" if r["epochs"] is None else str(r["epochs"]), r["state"]) for r in rows]
    widths = [max(len(line[k]) for line in table) for k in range(3)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(line[:3], widths)), line[3]]).rstrip()
                     for line in table)
