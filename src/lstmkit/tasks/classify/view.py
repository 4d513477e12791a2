"""The token-weight view of attention pooling: each token of a text coloured by its weight.

    attention_html(tokens, weights, title)        a self-contained HTML snippet/page
    plot_attention(tokens, weights, path, title)  the same as a PNG (matplotlib)
    write_attention(tokens, weights, path, title) .html or .png (.svg, .pdf) by the file's suffix

``lstmkit classify attention --run RUN --text "…"`` (and ``lstmkit inspect attention``) call these.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Sequence

import numpy as np

from lstmkit.errors import LstmkitError, worded
from lstmkit.inspect.plots import FORMATS
from lstmkit.runs import atomic_write

__all__ = ["attention_html", "plot_attention", "write_attention"]


def _shades(weights: Sequence[float]) -> np.ndarray:
    """Weights scaled to [0, 1] by the largest, so the view's contrast does not fade with length."""
    w = np.asarray(weights, dtype=np.float64)
    return w / w.max() if w.size and w.max() > 0 else np.zeros_like(w)


def attention_html(tokens: Sequence[str], weights: Sequence[float], title: str = "") -> str:
    """An HTML page where each token's background is red in proportion to its attention weight
    (hover a token for the exact weight)."""
    spans = []
    for tok, w, s in zip(tokens, weights, _shades(weights)):
        spans.append(f'<span title="{w:.4f}" style="background: rgba(220, 40, 40, {s:.3f}); '
                     f'padding: 1px 2px; border-radius: 3px">{html.escape(tok)}</span>')
    return ("<!doctype html>\n<meta charset='utf-8'>\n"
            "<body style='font-family: sans-serif; line-height: 1.9; max-width: 60em'>\n"
            f"<h3>{html.escape(title)}</h3>\n<p>{' '.join(spans)}</p>\n</body>\n")


def plot_attention(tokens: Sequence[str], weights: Sequence[float], path: Path, title: str = "",
                   per_line: int = 14) -> None:
    """The coloured-token view as a PNG, ``per_line`` tokens a row at most, fewer where they would run past
    :data:`ROW_INCHES` (14 long words made a row half as wide again as the figure). The figure is as wide
    as its longest row (or the key) and as tall as its rows: a short text's was 12 inches wide, its words at
    the left, the key far to their right and a blank row's height below them."""
    from lstmkit.inspect.plots import colormap, save_figure, subplots
    shades = _shades(weights)
    fig, ax = subplots(figsize=(ROW_INCHES, 1.0))
    ax.set_position((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, ROW_INCHES)                     # x in inches from the left edge, whatever the figure's width
    ax.axis("off")
    cmap = colormap("Reds")
    renderer = fig.canvas.get_renderer()
    x, row, in_row, right = 0.0, 0, 0, 0.0
    for tok, s in zip(tokens, shades):
        t = ax.text(x, row, tok, fontsize=10, va="center",
                    bbox=dict(boxstyle="round,pad=0.15", fc=cmap(0.85 * s), ec="none"),
                    color="white" if s > 0.6 else "black")
        box = t.get_window_extent(renderer).transformed(ax.transData.inverted())
        if in_row and (in_row == per_line or box.x1 > ROW_INCHES):          # the next row
            x, row, in_row = 0.0, row + 1, 0
            t.set_position((x, row))
            box = t.get_window_extent(renderer).transformed(ax.transData.inverted())
        x, in_row, right = box.x1 + 0.1, in_row + 1, max(right, box.x1)
    width = max(right + 0.05, KEY_INCHES[0])
    fig.set_size_inches(width, ROW_PITCH * (row + 1))
    ax.set_xlim(0, width)
    ax.set_ylim(row + 0.5, -0.5)                   # the rows and no more
    ax.set_title(title, loc="left", fontsize=10)
    _key(fig, ax, cmap, float(np.max(weights, initial=0.0)))
    save_figure(fig, Path(path))


ROW_INCHES = 9.3                # the longest a row of tokens runs
ROW_PITCH = 0.34                # inches from one row of tokens to the next
KEY_INCHES = (3.6, 0.12)        # the view's colour bar, wide and tall
KEY_GAP = 0.1                   # inches between the last row of tokens and the colour bar


def _key(fig, ax, cmap, largest: float) -> None:
    """A colour bar just under the tokens, from their left edge, from weight 0 to the text's ``largest``: the
    shades are scaled to the largest weight, and the view had no key saying what a red meant."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize
    shades = ListedColormap(cmap(np.linspace(0.0, 0.85, 256)))
    wide, tall = fig.get_size_inches()          # the axes fill the figure
    height = KEY_INCHES[1] / tall
    cax = ax.inset_axes((0.0, -KEY_GAP / tall - height, KEY_INCHES[0] / wide, height))
    bar = fig.colorbar(ScalarMappable(Normalize(0.0, max(largest, 1e-12)), shades), cax=cax, orientation="horizontal")
    bar.set_label("attention weight (darkest: this text's largest)", fontsize=8)
    bar.ax.tick_params(labelsize=7)


def write_attention(tokens: Sequence[str], weights: Sequence[float], path: str | Path, title: str = "") -> Path:
    """Write the view to ``path``: HTML for ``.html``/``.htm``, a plot for ``.png``, ``.svg`` or ``.pdf``."""
    path = Path(path)
    if len(tokens) != len(weights):
        raise ValueError(f"Expected one weight per token, got {len(weights)} weights for {len(tokens)} tokens")
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        page = attention_html(tokens, weights, title)
        atomic_write(path, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    elif suffix in FORMATS:
        plot_attention(tokens, weights, path, title)
    else:
        raise LstmkitError(f"cannot write the attention view as {suffix or '(no extension)'!r}",
                           worded("pass --out view.html or --out view.png (.svg, .pdf)",
                                  "pass a path ending .html or .png (.svg, .pdf)"))
    return path
