"""The confusion-matrix and reliability plots of a classifier's run folder (``plots/confusion.png``,
``plots/reliability.png``)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["plot_confusion", "plot_reliability"]

MAX_TICKS = 40          # class names on a side; more are every k-th class (the matrix is in metrics.json)
COUNTED = 20            # classes up to which each cell's count is written in it
MAX_NAME = 30           # characters of a class name on an axis; a longer one keeps its start and end


def plot_confusion(matrix: Sequence[Sequence[int]], classes: Sequence[str], path: Path, title: str) -> None:
    """Confusion matrix (rows: true class, columns: predicted): row shares as colours, read on a colour
    bar from 0 to 1 whatever the classes' count, counts written in the cells up to 20 classes, long class
    names shortened (:func:`_shorts`). Up to 20 classes had no bar, a line under the axis saying the colours
    were row shares and none how large: a class's 9 of 30 right and another's 19 of 24 were two shades of blue
    no share could be read from; over 20 had the bar."""
    from lstmkit.inspect.plots import every_kth, save_figure, subplots
    cm = np.asarray(matrix, dtype=np.float64)
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    n = len(classes)
    fig, ax = subplots(figsize=(min(2.0 + 0.7 * n, 14), min(1.6 + 0.6 * n, 12)))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    # at most MAX_TICKS names a side: 300 classes' names were drawn over each other, none readable
    ticks, names = every_kth(_shorts([str(c) for c in classes]), MAX_TICKS)
    # names of 80 characters took most of the figure, the matrix a corner of it, and two of them
    # side by side (unrotated: 4 classes or fewer) ran into each other
    slant = n > 4 or max(map(len, names), default=0) > 8
    ax.set_xticks(ticks, labels=names, rotation=45 if slant else 0, ha="right" if slant else "center",
                  rotation_mode="anchor" if slant else "default")
    ax.set_yticks(ticks, labels=names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of the true class's samples")
    if n <= COUNTED:            # counts in the cells, the bar reading their colours
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center",
                        color="white" if share[i, j] > 0.5 else "black", fontsize=8)
    ax.set_title(title)
    save_figure(fig, Path(path))


def plot_reliability(reliability: dict, path: Path, title: str) -> None:
    """Reliability diagram from a metrics dict's ``reliability`` bins (:func:`lstmkit.train.metrics.calibration`):
    per confidence bin, the share right (bars) against the diagonal a calibrated model keeps to, bars below it
    over-confident; the examples per bin underneath."""
    from lstmkit.inspect.plots import save_figure, subplots
    edges = np.asarray(reliability["edges"], dtype=np.float64)
    count = np.asarray(reliability["count"], dtype=np.float64)
    acc = np.array([np.nan if a is None else a for a in reliability["accuracy"]], dtype=np.float64)
    conf = np.array([np.nan if c is None else c for c in reliability["confidence"]], dtype=np.float64)
    width, left = np.diff(edges), edges[:-1]
    fig, (top, bottom) = subplots(2, 1, figsize=(5.5, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    full = count > 0
    top.bar(left[full], acc[full], width=width[full], align="edge", color="#4c72b0", edgecolor="white",
            label="share right")
    # unclipped: a bin all right (accuracy 1) had its dot cut in half by the plot's top edge
    top.scatter(conf[full], acc[full], color="black", s=12, zorder=3, label="mean confidence", clip_on=False)
    top.plot([0, 1], [0, 1], "--", color="gray", label="calibrated")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.legend(loc="best", fontsize=8)          # upper left hid the tall low-confidence bars of an untrained model
    top.set_title(title)
    bottom.bar(left, count, width=width, align="edge", color="gray", edgecolor="white")
    bottom.set_xlabel("confidence (largest class probability)")
    bottom.set_ylabel("examples")
    save_figure(fig, Path(path), tight=True)


def _shorts(names: list[str]) -> list[str]:
    """Each of ``names`` shortened (:func:`_short`); names that read alike so, as they differ only in
    their middle ('support / EU / billing / … / ticket' and 'support / EU / shipping / … / ticket' were two
    axis names the same: which row was which?), each show the part from where they differ instead,
    between '…'."""
    shown = [_short(n) for n in names]
    alike: dict[str, list[int]] = {}
    for k, s in enumerate(shown):
        alike.setdefault(s, []).append(k)
    for same in (g for g in alike.values() if len(g) > 1):
        start = max(0, len(os.path.commonprefix([names[k] for k in same])) - 6)     # a little of what they share
        for k in same:
            end = start + MAX_NAME - 2
            shown[k] = ("…" if start else "") + names[k][start:end] + ("…" if end < len(names[k]) else "")
    return shown


def _short(name: str) -> str:
    """``name`` in at most :data:`MAX_NAME` characters: its start and its end around '…' (names that
    differ at either end, 'customer complaint about billing (…)', stay told apart)."""
    if len(name) <= MAX_NAME:
        return name
    head = (MAX_NAME - 1) * 2 // 3
    return f"{name[:head].rstrip()}…{name[head - MAX_NAME + 1:].lstrip()}"
