"""Attention weights of an ``lstm-attention`` or ``transformer`` model: record them for an input and plot them.

>>> w = lstmkit.inspect.attention(forecaster, window)      # [B, heads, T_query, T_key]
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from lstmkit.errors import LstmkitError
from lstmkit.inspect.inputs import network_batch
from lstmkit.nn.attention import SelfAttention
from lstmkit.inspect.gates import series_index
from lstmkit.nn.blocks import evaluating
from lstmkit.nn.seq2seq import Seq2Seq
from lstmkit.nn.zoo import TransformerEncoder

__all__ = ["attention", "attention_layers", "plot_attention"]


def attention(model: Any, x, lengths=None, series=None, layer: int = -1) -> Tensor:
    """Attention weights ``[B, heads, T, T]`` (rows: query steps, columns: key steps) of the first
    :class:`~lstmkit.nn.attention.SelfAttention` inside ``model`` (a module or a fitted estimator),
    or of layer ``layer`` (default: the last) of a ``transformer`` encoder's, for the model input
    ``x`` ``[B, T, F]`` or ``[T, F]``, or token ids ``[B, T]`` or ``[T]`` for a model that embeds
    them (a forecaster also takes its data: its last window; a text model a text); with
    ``lengths``, zero in the rows and columns past each sequence's length (its block ``[:n, :n]``
    what the sequence alone gets). An ensemble of networks (a seed ensemble) gives its first
    member's weights. ``series``: as in :func:`~lstmkit.inspect.gates.gates` (a forecaster's series
    embedding)."""
    net = getattr(model, "net_", model)
    modules = list(net.modules()) if isinstance(net, nn.Module) else []
    found = next((m for m in modules if isinstance(m, SelfAttention)), None)
    found = found or next((m for m in modules if isinstance(m, TransformerEncoder)), None)
    if found is None:
        kind = getattr(getattr(model, "config_", None), "model", None)     # a run's zoo name, else the module's
        raise LstmkitError(f"the model ({kind or type(net).__name__}) has no self-attention layer",
                           "train with --model lstm-attention or --model transformer to inspect attention")
    if isinstance(found, TransformerEncoder):
        _check_layer(layer, len(found.layers.layers))
    dtype = next(net.parameters()).dtype
    x, lengths = network_batch(model, net, x, lengths, dtype)
    index = series_index(model, series, x.shape[0])
    if isinstance(found, TransformerEncoder):
        with torch.no_grad(), evaluating(net):
            enc_x, enc_lengths = _encoder_input(net, found, x, lengths, index)
            return found.attention_weights(enc_x, enc_lengths)[layer]
    found.record = True                        # this thread's (nn.attention): threads may record side by side
    try:
        with torch.no_grad(), evaluating(net):
            _forward(net, x, lengths, index)
        return found.last_weights
    finally:
        found.record = False


def attention_layers(model: Any) -> int:
    """How many attention layers :func:`attention` can show of ``model``: a transformer's layers,
    1 for an ``lstm-attention`` model, 0 for a model without self-attention."""
    net = getattr(model, "net_", model)
    modules = list(net.modules()) if isinstance(net, nn.Module) else []
    if any(isinstance(m, SelfAttention) for m in modules):
        return 1
    enc = next((m for m in modules if isinstance(m, TransformerEncoder)), None)
    return 0 if enc is None else len(enc.layers.layers)


def _check_layer(layer: Any, layers: int) -> None:
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not -layers <= layer < layers:
        raise LstmkitError(f"`layer` must be an attention layer's index, 0..{layers - 1} (or -1 for the last), "
                           f"got {layer!r}", f"the transformer has {layers} layer(s)")


def _encoder_input(net: nn.Module, encoder: nn.Module, x: Tensor, lengths, series=None) -> tuple[Tensor, Any]:
    """What ``encoder`` receives when ``net`` runs on ``x`` (after a forecaster's relative transform,
    say): its input and lengths, captured by a pre-hook that stops the run (this thread's call alone)."""
    if net is encoder:
        return x, lengths
    captured: dict[str, Any] = {}
    caller = threading.get_ident()

    def hook(_module, args, kwargs):
        if threading.get_ident() != caller:     # the module is shared: another thread's call runs on
            return None
        captured.update(zip(("x", "state", "lengths"), args))
        captured.update({k: v for k, v in kwargs.items() if k in ("x", "lengths")})
        raise _Captured

    handle = encoder.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        _forward(net, x, lengths, series)
    except _Captured:
        pass
    finally:
        handle.remove()
    if "x" not in captured:
        raise LstmkitError(f"the model ({type(net).__name__}) did not run its transformer on this input",
                           "pass the input the model's forward takes")
    return captured["x"], captured.get("lengths")


def _forward(net: nn.Module, x: Tensor, lengths, series=None) -> None:
    """Run ``net`` on ``x`` as far as its encoder: an encoder-decoder (a translator) encodes the source
    alone (its forward wants the target too: a TypeError), as the gates do; ``series``: a panel
    forecaster's series index per window (its embedding)."""
    if isinstance(net, Seq2Seq):
        net.encode(x, torch.full((x.shape[0],), x.shape[1]) if lengths is None else torch.as_tensor(lengths))
    else:
        net(x, **({} if lengths is None else {"lengths": lengths}), **({} if series is None else {"series": series}))


class _Captured(Exception):
    """Stops the model's forward once the encoder's input is known."""


def plot_attention(weights: Tensor, path: str | Path, sample: int = 0, title: str | None = None,
                   steps: list[str] | None = None, axis: str = "step") -> None:
    """One heatmap per head of ``weights [B, heads, T, T]`` for one sample (query × key), steps
    numbered in whole numbers (a 1-step window's axes read -0.4, -0.2, 0.0 …), or named by ``steps``
    (a window's time stamps; of more than fit the axis every k-th); ``axis`` says what a step is. The
    heads are laid out :data:`HEADS_A_ROW` to a row (8 heads side by side made a picture 37 inches wide,
    each map a sliver of it on a screen); each colour bar says its colours are attention weights, from 0 to
    the head's largest (:func:`~lstmkit.inspect.plots.weight_scale`), or, of a causal head, each row from 0 to
    its own largest (:func:`~lstmkit.inspect.plots.row_scale`: its first row's one weight of 1 drew the rest black)."""
    from lstmkit.inspect.gates import NAMED_STEPS
    from lstmkit.inspect.plots import figure_format, names_that_fit, row_scale, save_figure, subplots, weight_scale

    figure_format(path)                         # a suffix no plot can have: said before the plot is drawn
    heads, n = weights.shape[1], weights.shape[-1]
    named = steps is not None and len(steps) == n
    cols = min(heads, HEADS_A_ROW)
    rows = -(-heads // cols)
    fig, axes = subplots(rows, cols, figsize=(4.6 * cols + 0.6, (4.2 + (1.2 if named else 0)) * rows), squeeze=False)
    from matplotlib.ticker import MaxNLocator          # after subplots(), which imports matplotlib quietly
    for ax in axes.flat[heads:]:                       # a row's places no head fills
        ax.set_axis_off()
    for h in range(heads):
        ax = axes.flat[h]
        drawn = weights[sample, h].numpy()
        by_row = row_scale(drawn)
        if by_row is None:
            scale, scale_words = weight_scale(drawn)
            label = f"attention weight (rows sum to 1)\n{scale_words}"
        else:
            drawn, scale, scale_words = by_row
            label = f"attention weight ÷ its row's largest\n{scale_words}"
        im = ax.imshow(drawn, aspect="auto", cmap="magma", interpolation="nearest", **scale)
        ax.set_title(f"head {h}")
        ax.set_xlabel(f"key {axis} (attended to)")
        ax.set_ylabel(f"query {axis}")
        if named:
            ax.set_xticks(*names_that_fit(ax, steps, "x", 7, NAMED_STEPS), rotation=90, fontsize=7)
            ax.set_yticks(*names_that_fit(ax, steps, "y", 7, NAMED_STEPS), fontsize=7)
        else:
            for a in (ax.xaxis, ax.yaxis):
                a.set_major_locator(MaxNLocator(nbins="auto", integer=True, min_n_ticks=1))
        fig.colorbar(im, ax=ax, fraction=0.046, label=label)
    if title:
        fig.suptitle(title)
    save_figure(fig, Path(path), tight=True)


HEADS_A_ROW = 4             # attention heads drawn side by side; more start a new row
