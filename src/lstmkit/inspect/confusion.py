"""The confusion-matrix plot of a classifier's run folder (``plots/confusion.png``)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["plot_confusion"]

MAX_TICKS = 40          # class names on a side; more are every k-th class (the matrix is in metrics.json)


def plot_confusion(matrix: Sequence[Sequence[int]], classes: Sequence[str], path: Path, title: str) -> None:
    """Confusion matrix (rows: true class, columns: predicted), counts and row shares."""
    from lstmkit.inspect.plots import save_figure, subplots
    cm = np.asarray(matrix, dtype=np.float64)
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    n = len(classes)
    fig, ax = subplots(figsize=(min(2.0 + 0.7 * n, 14), min(1.6 + 0.6 * n, 12)))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    # at most MAX_TICKS names a side: 300 classes' names were drawn over each other, none readable
    step = -(-n // MAX_TICKS)
    ticks, names = range(0, n, step), list(classes)[::step]
    ax.set_xticks(ticks, labels=names, rotation=45 if n > 4 else 0, ha="right" if n > 4 else "center")
    ax.set_yticks(ticks, labels=names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 20:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center",
                        color="white" if share[i, j] > 0.5 else "black", fontsize=8)
    ax.set_title(title)
    save_figure(fig, Path(path))
