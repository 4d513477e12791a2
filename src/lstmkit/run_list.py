"""``lstmkit list [FOLDER]``: the run folders in a folder, one line each with its task, epochs, headline
metric and state.

    list_runs(folder)   one dict a run: run, task, status, state (a failed run's failure, a run whose
                        training process is gone, ...), epochs, written, metric (a finished run's headline
                        metric: name, value, part, split, higher_is_better, shown; else None), data (what
                        names the data it read: 12 hex digits of the SHA-256 of its recorded data digests)
    sort_by_metric(rows) each task's runs by their data, those of one data best first by their metric,
                        those without one after them
    format_runs(rows)   the lines the command prints

A run's metric is the one its room's ``config.headline_metric`` reads from ``metrics.json``
(:mod:`lstmkit.run_metric`): a forecast's test MASE, a classifier's accuracy, a translator's BLEU, a
recogniser's WER (a spoken-word classifier's accuracy), a language model's perplexity, shown as the run's
report rounds it; blank for a run that did not finish or whose ``metrics.json`` is missing or unreadable.

A run's state is :mod:`lstmkit.run_status`'s: ``finished``, ``interrupted``, ``failed in epoch 2:
RuntimeError: ...``, ``still training``, or ``its training process is gone``; a folder whose
``lstmkit.json`` cannot be read is listed with the reason, not skipped, and so is a folder named as a
train command names a run's (``<task>-<stamp>``) with no ``lstmkit.json``: its process was killed
before its first record (``no record: stopped before its first record``), or is still setting up.
"""
from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path
from typing import Any

from lstmkit.errors import LstmkitError
from lstmkit.runs import MEMORY_KEY, META_FILE, RECORDINGS_KEY, export_source, known_task, read_meta
from lstmkit.run_lock import process_gone
from lstmkit.run_metric import headline_of
from lstmkit.run_status import FAILURE_KEY, checkpoint_epochs_said, failed_line, unfinished_state

__all__ = ["list_runs", "format_runs", "sort_by_metric", "data_name", "WIDTH"]


def list_runs(folder: str | Path) -> list[dict[str, Any]]:
    """The runs in ``folder`` (a folder of run folders, as ``--out`` makes, or one run folder), in order
    of name: grouped by task, each task's oldest first (``<task>-<YYYYmmdd>-<HHMMSS>``). A missing
    folder, or one that holds no run, is an :class:`LstmkitError`."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "not found"
        raise LstmkitError(f"runs folder {what}: {folder}", "pass the folder a train command's --out wrote into "
                           "(runs/ by default)")
    runs = [folder] if (folder / META_FILE).is_file() else sorted(
        p for p in folder.iterdir() if p.is_dir() and ((p / META_FILE).is_file() or _named_task(p) is not None))
    if not runs:
        raise LstmkitError(f"{folder} holds no run folder (none of its folders has a {META_FILE})",
                           "pass the folder a train command's --out wrote into (runs/ by default)")
    return [_row(run) for run in runs]


# what new_run_dir names a run's folder: <task>-<YYYYmmdd>-<HHMMSS>, a suffix -1 ... -999 where that name was taken
_RUN_NAME = re.compile(r"([a-z][a-z0-9_]*)-\d{8}-\d{6}(?:-\d{1,3})?")


def _named_task(folder: Path) -> str | None:
    """The task of a folder named as a train command names a run's (``forecast-20260101-120000``), with no
    ``lstmkit.json`` (else None): made before its first record, which a ``kill -9`` then never wrote."""
    named = _RUN_NAME.fullmatch(folder.name)
    if named is None or not known_task(named.group(1)) or (folder / META_FILE).exists():
        return None
    return named.group(1)


def _row(run: Path) -> dict[str, Any]:
    task = _named_task(run)
    if task is not None:                  # left empty by a process killed while it set up: listed, not passed over
        gone = process_gone(run, {})      # the training lock: held from before the first record
        state = ("no record yet: its process is setting up" if gone is False else
                 "no record: stopped before its first record (killed, or its machine stopped)" if gone else
                 "no record: stopped before its first record, or still setting up (this machine cannot tell)")
        return {"run": str(run), "task": task, "status": None, "state": state, "epochs": None, "written": None,
                "metric": None, "data": None}
    try:
        meta = read_meta(run)
    except LstmkitError as e:             # a damaged or newer run is listed with why, not left out
        return {"run": str(run), "task": None, "status": None, "state": f"unreadable: {e.message}",
                "epochs": None, "written": None, "metric": None, "data": None}
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
    # a metrics.json beside an unfinished run's files (one that failed while it saved): of no weights it finished with
    metric = headline_of(run, meta) if status == "finished" else None
    return {"run": str(run), "task": meta.get("task"), "status": status, "state": state,
            "epochs": epochs if isinstance(epochs, int) else None, "written": meta.get("written"),
            "metric": None if metric is None else metric.to_dict(), "data": data_name(meta)}


# a run's data summary: {role: SHA-256} of its data files, {fit argument: fingerprint} of data given in memory
_DATA_DIGESTS = ("sha256", MEMORY_KEY)


def data_name(meta: dict[str, Any]) -> str | None:
    """What names the data a run read: the first 12 hex digits of the SHA-256 of the digests its data summary
    recorded (each data file's SHA-256 by its role, each in-memory argument's fingerprint, a speech run's
    recordings' SHA-256 by role: their paths inside the folder, transcripts, sizes and audio, as its resume
    compares them), the same for runs of the same files wherever they lie (or of the same data given in
    Python); None where it recorded none (data piped in, a run written before the digests were recorded)."""
    import hashlib
    import json
    summary = meta.get("data")
    digests = {key: summary.get(key) for key in _DATA_DIGESTS} if isinstance(summary, dict) else {}
    # a speech corpus is a folder, which data_hashes hashes to none: its recordings' record names it
    recordings = summary.get(RECORDINGS_KEY) if isinstance(summary, dict) else None
    digests[RECORDINGS_KEY] = {role: record.get("sha256") for role, record in recordings.items()
                               if isinstance(record, dict) and isinstance(record.get("sha256"), str)} \
        if isinstance(recordings, dict) else None
    digests = {key: value for key, value in digests.items() if isinstance(value, dict) and value}
    if not digests:
        return None
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode("utf-8")).hexdigest()[:12]


def sort_by_metric(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` of :func:`list_runs` with each task's runs grouped by their data (``data``: the same data
    files, by content, or the same data given in memory; the runs that recorded none a group of their own),
    each group's runs best first by their metric (lower first for MASE, WER and perplexity, higher first for
    accuracy and BLEU), in groups by the split that scored them: those scored on a test part first, then those
    scored on validation, then those scored on their training data; a speech task's WER runs apart from its
    accuracy ones; then the runs without a number in their order. The tasks keep their order, and a task's
    data groups the order of their first runs: a classifier of an easy dataset no longer ranks above one of
    a hard dataset by their accuracies alone.

    A classifier's accuracy is of its test file where it has one, else of its validation part: two numbers
    of different examples, so one run's validation accuracy of 0.95 is not ranked above another's test
    accuracy of 0.90 (validation chose the weights and flatters them); each split is ranked on its own."""
    # each its place of first showing, looked up by key: list.index per row made the sort quadratic in the runs
    # (10,000 runs of as many data files took 17 s)
    tasks = _first_places(r["task"] for r in rows)
    datas = _first_places((r["task"], r.get("data")) for r in rows)
    names: dict[Any, dict[str, int]] = {}      # each task's metric names, in the order its runs first show them
    for r in rows:
        if r.get("metric"):
            names.setdefault(r["task"], {}).setdefault(r["metric"]["name"], len(names[r["task"]]))

    def key(row: dict[str, Any]) -> tuple:
        m = row.get("metric")
        group = (tasks[row["task"]], datas[(row["task"], row.get("data"))])
        if not m or m["value"] is None:
            return (*group, len(_SPLITS), 0, 0.0)
        value = -m["value"] if m["higher_is_better"] else m["value"]
        split = m.get("split", m["part"])
        return (*group, _SPLITS.index(split) if split in _SPLITS else len(_SPLITS) - 1,
                names[row["task"]][m["name"]], value)
    return sorted(rows, key=key)          # stable: runs of one key keep their order (oldest first)


def _first_places(keys) -> dict[Any, int]:
    """Each of ``keys`` by the place of its first showing among them (0, 1, ...)."""
    places: dict[Any, int] = {}
    for k in keys:
        places.setdefault(k, len(places))
    return places


# the order of --sort metric's groups: held out and never chosen on, held out and chosen on (the best epoch's
# weights, a tuned setting), trained on (flattered most)
_SPLITS = ("test", "validation", "train")

WIDTH = 80                                # a terminal's: the widest line format_runs prints
_RUN_SHORTEST = 20                        # "…" and a run's stamp with the end of its task: "…ast-20260101-120000"
_STATE_KEPT = 16                          # the longest state the path is cut for: "still training"
_STATE_FIRST = 16                         # the fewest characters of a state begun on its run's line
_SEPARATORS = "/" + os.sep                # where a path is cut: before a folder's name
_UNDER = "    "                           # the indent of a state's lines that go on under its run's


def format_runs(rows: list[dict[str, Any]], width: int = WIDTH) -> str:
    """The rows of :func:`list_runs` as aligned columns: run, task, epochs, metric (its name and value as the
    run's report rounds it: ``MASE 0.8123``; blank where the run has none), state. No line is wider than
    ``width``: a run's path too long for it is cut at its start (``…/forecast-20261128-101500``, whose end
    names the run; ``--json`` gives it whole), and a state too long for the rest of the line (a failure's
    message) goes on in lines of its own under it, indented, cut at spaces: nothing of it is left out (a path in
    it longer than a line, whole on a line of its own, is the one line past ``width``). A terminal narrower than
    80 columns whose lines the columns do not fit (the run's cut to 20) gets one block a run instead
    (:func:`_run_blocks`): at 40 columns the table's lines were 53 wide and more, each wrapped into the next."""
    table = [("run", "task", "epochs", "metric", "state")] + [
        (r["run"], r["task"] or "?", "" if r["epochs"] is None else str(r["epochs"]),
         r["metric"]["shown"] if r.get("metric") else "", r["state"]) for r in rows]
    widths = [max(len(line[k]) for line in table) for k in range(4)]
    if width < WIDTH and min(widths[0], _RUN_SHORTEST) + sum(widths[1:]) + 2 * 3 > width:
        return _run_blocks(table[1:], width)
    rest = sum(widths[1:]) + 2 * 4                               # the columns after the run's and their gaps
    # the path is cut for the states that fit a line (finished, interrupted, still training); a longer one goes on
    # under its run's line whatever the path's width
    states = max(len(line[4]) if len(line[4]) <= _STATE_KEPT else 0 for line in table)
    widths[0] = max(min(widths[0], width - rest - states), min(widths[0], _RUN_SHORTEST))

    lines = []
    for line in table:
        start = "  ".join([_cut(line[0], widths[0]).ljust(widths[0]),
                           *(c.ljust(w) for c, w in zip(line[1:4], widths[1:]))])
        if len(start) + 2 + len(line[4]) <= width:
            lines.append(f"{start}  {line[4]}".rstrip())
            continue
        # the state's first words on its run's line where a few fit, the rest under it; a word longer than a line
        # (a path) is left whole, on a line of its own, to be copied
        room, words = width - len(start) - 2 if width - len(start) - 2 >= _STATE_FIRST else 0, line[4].split(" ")
        taken = next((k for k in range(len(words), 0, -1) if len(" ".join(words[:k])) <= room), 0)
        lines.append(f"{start}  {' '.join(words[:taken])}".rstrip())
        lines += _under(" ".join(words[taken:]), width)
    return "\n".join(lines)


def _cut(path: str, room: int) -> str:
    """``path`` within ``room`` columns: its leading folders left out (``…/runs/lm-20261128-101500``), else the
    start of its name (a long one: ``…sales-weekly-20261128-101500``)."""
    if len(path) <= room:
        return path
    seps = [k for k, c in enumerate(path) if c in _SEPARATORS]
    tail = next((path[k:] for k in seps if len(path) - k + 1 <= room), None)
    return "…" + (tail if tail is not None else path[len(path) - room + 1:])


def _under(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns under a run's line, indented, cut at spaces (a word longer
    than a line, a path, whole on a line of its own)."""
    return textwrap.wrap(text, width, initial_indent=_UNDER, subsequent_indent=_UNDER, break_on_hyphens=False,
                         break_long_words=False)


def _run_blocks(table: list[tuple[str, ...]], width: int) -> str:
    """:func:`format_runs`' rows (no header) one block a run, for a terminal too narrow for the columns: the run's
    path on a line of its own (cut at its start to ``width``, 20 at the least), then under it, indented, its task,
    epochs and metric (``lm, epochs 3, perplexity 10.363``) and its state."""
    lines = []
    for run, task, epochs, metric, state in table:
        lines.append(_cut(run, max(width, _RUN_SHORTEST)))
        lines += _under(", ".join([task, *([f"epochs {epochs}"] if epochs else []), *([metric] if metric else [])]),
                        width)
        lines += _under(state, width)
    return "\n".join(lines)
