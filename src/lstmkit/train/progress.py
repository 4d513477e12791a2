"""Progress of the long jobs that are not training: predicting, evaluating, decoding.

``track(items, total, what)`` yields ``items`` unchanged and shows how far it got, on standard
error (standard output carries the job's results: a CSV, transcripts):

* ``bar``: a rich bar with the count, elapsed time and ETA, removed when the job ends (so a
  finished command prints only its results); stopped cleanly on Ctrl-C;
* ``log``: a line every ``every`` seconds (``translating: 400/1000 batches, 12s, ETA 18s``), so a
  job run under nohup or a scheduler shows it is alive while a quick one prints nothing;
* ``auto`` (the default): ``bar`` when standard error is a terminal that can redraw a line, else
  ``log`` (:func:`shows_a_bar`); ``off``: nothing.

In a Jupyter notebook rich draws its bar as a widget, through ipywidgets; without ipywidgets ``bar``
is ``log``, with one warning saying so (:func:`chosen_mode`).

A job of one batch (a served request, a single sentence) shows nothing in any mode.

Prediction batches come shortest first (bucketed by length), so the first half of the batches is
far less than half the work: with ``work`` (each item's cost, e.g. its padded steps) the ETA is of
the work left, not of the items left, which said 3 s where 5 remained.

Training's own display is :class:`lstmkit.train.callbacks.ProgressDisplay` (the same modes).
"""
from __future__ import annotations

import os
import sys
import time
import warnings
from typing import Any, Iterable, Iterator, Sequence, TypeVar

from lstmkit.errors import callers_level

__all__ = ["track", "shows_a_bar", "chosen_mode", "trial_display", "trial_settings", "TRIAL_DISPLAYS", "LOG_EVERY_S"]

T = TypeVar("T")

LOG_EVERY_S = 10.0        # a log line at most this often: a job under ten seconds stays quiet
_TOLD_NO_WIDGETS: list[bool] = []     # [True] once progress='bar' was said to need ipywidgets in a notebook


def track(items: Iterable[T], total: int | None, what: str, mode: str = "auto", stream=None,
          unit: str = "batches", every: float | None = None, work: Sequence[float] | None = None) -> Iterator[T]:
    """``items``, one by one, with progress shown as ``mode`` says (see the module docstring);
    ``work``: each of the ``total`` items' cost, which the ETA and the bar's fill follow."""
    stream = sys.stderr if stream is None else stream
    mode = chosen_mode(mode, stream)
    if mode == "off" or (total is not None and total <= 1):     # one batch (a served request): nothing to show
        yield from items
        return
    done = _work_done(work, total)
    if mode == "bar":
        yield from _bar(items, total, what, stream, unit, done)
    else:
        yield from _log(items, total, what, stream, unit, LOG_EVERY_S if every is None else every, done)


def _work_done(work: Sequence[float] | None, total: int | None) -> list[float] | None:
    """The share of the work done after each item (``[k]``: after ``k + 1`` items); None without
    ``work``, or with work that cannot weigh the items (another count, none at all)."""
    if work is None or total is None or len(work) != total or not sum(work) > 0:
        return None
    done, whole = [], float(sum(work))
    for w in work:
        done.append((done[-1] if done else 0.0) + w / whole)
    done[-1] = 1.0                            # whole, not a rounding short of it (the bar filled to its last half-cell)
    return done


def shows_a_bar(stream) -> bool:
    """``auto``'s choice for ``stream``: a live bar on a terminal, log lines elsewhere (a pipe, a file,
    ``nohup``, a scheduler's log) and on a terminal that cannot redraw a line (``TERM=dumb``: Emacs'
    shell, some CI consoles), where rich draws a bar only when it stops: a training showed nothing
    until its end, a transient bar nothing at all. Not rich's own ``is_terminal``: it takes
    ``FORCE_COLOR`` (set in CI for colours) as a terminal, and a bar would redraw into the log."""
    if not getattr(stream, "isatty", lambda: False)():
        return False
    return os.environ.get("TERM", "").lower() not in {"dumb", "unknown"}      # rich's dumb terminals


def chosen_mode(mode: str, stream) -> str:
    """What ``mode`` shows on ``stream``: ``auto`` as :func:`shows_a_bar` chooses, and ``bar`` as ``log``
    in a Jupyter notebook without ipywidgets, with one warning a session: rich draws a notebook's bar as a
    widget, and without ipywidgets it warned 'install "ipywidgets" for Jupyter support' (from its own
    file, ``rich/live.py``) and showed nothing while the job ran. A bad ``mode`` is a ValueError."""
    if mode not in {"auto", "bar", "log", "off"}:
        raise ValueError(f"progress must be auto, bar, log or off, got {mode!r}")
    if mode == "auto":
        return "bar" if shows_a_bar(stream) else "log"
    if mode == "bar" and _notebook_without_widgets(stream):
        if _TOLD_NO_WIDGETS:
            return "log"
        _TOLD_NO_WIDGETS.append(True)        # once a session: each fit and predict said it again
        warnings.warn("progress='bar' in a Jupyter notebook needs ipywidgets, which is not installed: progress is "
                      "shown as log lines instead — pip install ipywidgets for a live bar",
                      UserWarning, stacklevel=callers_level())
        return "log"
    return mode


TRIAL_DISPLAYS = ("auto", "bar", "log", "off")


def trial_display(progress: str, on_a_terminal: str = "bar") -> str:
    """Each trial's training display in ``lstmkit compare`` and ``lstmkit tune`` (``--progress``): a
    display not in :data:`TRIAL_DISPLAYS` is one error line; ``auto`` is ``on_a_terminal`` when standard
    error is a terminal and ``off`` elsewhere, where the trial lines are the log (a line every 10 s of
    each trial's training among them read as noise). The others are as they are."""
    from lstmkit.errors import LstmkitError
    if progress not in TRIAL_DISPLAYS:
        raise LstmkitError(f"unknown progress display {progress!r}", f"use one of: {', '.join(TRIAL_DISPLAYS)}")
    if progress != "auto":
        return progress
    return on_a_terminal if sys.stderr.isatty() else "off"


def trial_settings(progress: str = "off") -> dict[str, Any]:
    """What a compare or tune trial's estimator is shown with: training as ``progress`` says (a display
    :func:`trial_display` chose), no TensorBoard, and no doctor: its report on each trial went nowhere but
    standard error, between the trial lines, and its hooks were timed as training (metrics are the same)."""
    return {"progress": progress, "tensorboard": False, "doctor": False}


def _notebook_without_widgets(stream) -> bool:
    """Whether rich would draw on ``stream`` in a Jupyter notebook (its own test), where ipywidgets is missing."""
    from rich.console import Console
    if not Console(file=stream).is_jupyter:
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return True
    return False


def _bar(items, total, what, stream, unit, shares) -> Iterator:
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)
    # weighed by work, the bar fills by thousandths of it, and the count of items is a field beside
    count = MofNCompleteColumn() if shares is None else TextColumn(f"{{task.fields[items]:>{len(str(total))}}}/{total}")
    columns = [TextColumn(what), BarColumn(), count, TextColumn(unit), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn()]
    # the context manager stops the bar on Ctrl-C too, so the "interrupted" line starts on a clean line
    with Progress(*columns, console=Console(file=stream), transient=True) as bar:
        task = bar.add_task(what, total=total if shares is None else 1000, items=0)
        for done, item in enumerate(items, 1):
            yield item
            if shares is None:
                bar.advance(task)
            else:
                bar.update(task, completed=1000 * shares[min(done, total) - 1], items=done)


def _log(items, total, what, stream, unit, every, shares) -> Iterator:
    t0 = last = time.perf_counter()
    first = None           # (time, share of the work) when the first item was done
    for done, item in enumerate(items, 1):
        yield item
        now = time.perf_counter()
        share = done / total if shares is None and total else shares[min(done, total) - 1] if shares else None
        first = first or (now, share)
        if now - last >= every:
            last = now
            elapsed = now - t0
            of = f"/{total}" if total else ""
            # the pace since the first item, as rich's bar measures it: the first carries the start (threads,
            # buffers), and a first batch of 3 s, the shortest of 16, made the ETA 317 s where 25 remained
            eta = (f", ETA {(now - first[0]) * (1 - share) / (share - first[1]):.0f}s"
                   if share is not None and share > first[1] else "")
            print(f"{what}: {done}{of} {unit}, {elapsed:.0f}s{eta}", file=stream, flush=True)
