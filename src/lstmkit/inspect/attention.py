"""Attention weights of an ``lstm-attention`` model: record them for an input and plot them.

>>> w = lstmkit.inspect.attention(forecaster, window)      # [B, heads, T_query, T_key]
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from lstmkit.errors import LstmkitError
from lstmkit.nn.attention import SelfAttention
from lstmkit.inspect.gates import series_index
from lstmkit.nn.blocks import evaluating

__all__ = ["attention", "plot_attention"]


def attention(model: Any, x, lengths=None, series=None) -> Tensor:
    """Attention weights ``[B, heads, T, T]`` (rows: query steps, columns: key steps) of the first
    :class:`~lstmkit.nn.attention.SelfAttention` inside ``model`` (a module or a fitted estimator)
    for the model input ``x`` ``[B, T, F]`` or ``[T, F]``; with ``lengths``, zero in the rows and
    columns past each sequence's length (its block ``[:n, :n]`` what the sequence alone gets).
    An ensemble of networks (a seed ensemble) gives its first member's weights.
    ``series``: as in :func:`~lstmkit.inspect.gates.gates` (a forecaster's series embedding)."""
    net = getattr(model, "net_", model)
    layer = next((m for m in net.modules() if isinstance(m, SelfAttention)), None) if isinstance(net, nn.Module) else None
    if layer is None:
        kind = getattr(getattr(model, "config_", None), "model", None)     # a run's zoo name, else the module's
        raise LstmkitError(f"the model ({kind or type(net).__name__}) has no self-attention layer",
                           "train with --model lstm-attention to inspect attention")
    dtype = next(net.parameters()).dtype
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x).to(dtype)
    if x.dim() == 2:
        x = x.unsqueeze(0)
    index = series_index(model, series, x.shape[0])
    layer.record = True                        # this thread's (nn.attention): threads may record side by side
    try:
        with torch.no_grad(), evaluating(net):
            net(x, **({} if lengths is None else {"lengths": lengths}), **({} if index is None else {"series": index}))
        return layer.last_weights
    finally:
        layer.record = False


def plot_attention(weights: Tensor, path: str | Path, sample: int = 0, title: str | None = None,
                   steps: list[str] | None = None, axis: str = "step") -> None:
    """One heatmap per head of ``weights [B, heads, T, T]`` for one sample (query × key), steps
    numbered in whole numbers (a 1-step window's axes read -0.4, -0.2, 0.0 …), or named by ``steps``
    (a window's time stamps; of more than 40 every k-th); ``axis`` says what a step is."""
    from lstmkit.inspect.gates import NAMED_STEPS
    from lstmkit.inspect.plots import every_kth, figure_format, save_figure, subplots

    figure_format(path)                         # a suffix no plot can have: said before the plot is drawn
    heads, n = weights.shape[1], weights.shape[-1]
    named = steps is not None and len(steps) == n
    fig, axes = subplots(1, heads, figsize=(4.6 * heads + 0.6, 4.2 + (1.2 if named else 0)), squeeze=False)
    from matplotlib.ticker import MaxNLocator          # after subplots(), which imports matplotlib quietly
    for h in range(heads):
        ax = axes[0, h]
        im = ax.imshow(weights[sample, h].numpy(), aspect="auto", cmap="magma", interpolation="nearest")
        ax.set_title(f"head {h}")
        ax.set_xlabel(f"key {axis} (attended to)")
        ax.set_ylabel(f"query {axis}")
        if named:
            ax.set_xticks(*every_kth(steps, NAMED_STEPS), rotation=90, fontsize=7)
            ax.set_yticks(*every_kth(steps, NAMED_STEPS), fontsize=7)
        else:
            for a in (ax.xaxis, ax.yaxis):
                a.set_major_locator(MaxNLocator(nbins="auto", integer=True, min_n_ticks=1))
        fig.colorbar(im, ax=ax, fraction=0.046)
    if title:
        fig.suptitle(title)
    save_figure(fig, Path(path), tight=True)
