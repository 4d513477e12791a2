"""Plots written into run folders (matplotlib, off screen).

matplotlib is imported on the first plot, not with this module (it costs ~0.2 s, and most
commands never plot). Plotting code elsewhere takes its figure from ``subplots()`` and writes it
with ``save_figure``.

The figures are matplotlib's object-oriented ``Figure`` on an Agg canvas of their own, never
pyplot's: ``matplotlib.use("Agg")`` on the first plot switched a notebook's backend (``%matplotlib
inline``) for the rest of the session, and the user's own ``plt.show()`` after a fit showed
nothing; pyplot also keeps each figure until it is closed (one a failed write left open counted
towards its 'More than 20 figures' warning).
"""
from __future__ import annotations

import functools
import math
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from lstmkit.errors import BadValue, callers_level, first_of, warnings_caught
from lstmkit.runs import atomic_write

__all__ = ["plot_history", "plot_forecast", "save_figure", "figure_format", "subplots", "colormap", "every_kth",
           "names_that_fit", "zoned_times", "date_axis", "step_axis",
           "plain_log_labels", "plain_log_ticks", "second_axis", "key_beside", "weight_scale",
           "row_scale", "fit_bar_labels", "PERPLEXITY", "FORMATS"]


@functools.cache
def _matplotlib():
    """``matplotlib``, imported on first use, its backend left as the program set it.

    With a home whose config folder cannot be written (read-only, a service account's
    ``/nonexistent``) matplotlib works from a temporary folder, as it should, and logged two
    lines about it on every plotting command ('mkdir -p failed …', 'Matplotlib created a
    temporary cache directory …'): advice to a matplotlib user, which an lstmkit user never
    asked for; those two are dropped.

    ``MPLBACKEND`` naming no backend matplotlib knows (a typo, ``inline``) made ``import matplotlib``
    raise: a training ended in that traceback after its epochs, the run folder left without its
    model. lstmkit's figures are drawn off screen and need no backend: such a name is one warning,
    and matplotlib is imported without it (a name it knows is set as matplotlib sets it)."""
    import logging
    log = logging.getLogger("matplotlib")
    log.addFilter(_temporary_folder_notice)
    backend = None if "matplotlib" in sys.modules else os.environ.pop("MPLBACKEND", None)
    try:
        import matplotlib
    finally:
        log.removeFilter(_temporary_folder_notice)
        if backend is not None:
            os.environ["MPLBACKEND"] = backend
    if backend:
        try:
            matplotlib.rcParams["backend"] = backend
        except ValueError:
            warnings.warn(f"MPLBACKEND={backend!r} names no backend matplotlib knows: lstmkit's plots, drawn off "
                          "screen, do without one; correct or unset it for matplotlib's own windows "
                          "(e.g. MPLBACKEND=Agg)", UserWarning, stacklevel=callers_level())
    return matplotlib


def _temporary_folder_notice(record) -> bool:
    """False (drop it) for matplotlib's words on a config or cache folder it could not use."""
    return not str(record.msg).startswith(("mkdir -p failed for path", "Matplotlib created a temporary cache directory",
                                           "%s is not a writable directory"))


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None,
             layout: str | None = None, **kwargs: Any):
    """``(figure, axes)`` as ``plt.subplots`` gives them (``kwargs``: ``squeeze``, ``sharex``, …), on
    an Agg canvas of the figure's own (``fig.canvas.get_renderer()`` works) outside pyplot: no
    backend is chosen or switched, and no figure is kept once ``save_figure`` wrote it. ``layout``:
    matplotlib's (``"constrained"``: laid out as it is written, suptitle and colorbars included;
    ``save_figure`` without ``tight`` then)."""
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=figsize, layout=layout)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def every_kth(names: Sequence[str], most: int) -> tuple[range, list[str]]:
    """``(positions, names)`` of every k-th of ``names``, k the least that names at most ``most``: the
    ticks of an axis of many classes or tokens (all of them were drawn over one another, none readable)."""
    step = max(1, -(-len(names) // most))
    return range(0, len(names), step), list(names)[::step]


def names_that_fit(ax, names: Sequence[str], along: str = "x", fontsize: float = 7.0,
                   most: int | None = None) -> tuple[range, list[str]]:
    """:func:`every_kth` of ``names``, as many as the ``along`` axis of ``ax`` has room for side by side at
    ``fontsize`` (a line of text each, with a little space between; ``most`` at most): 36 monthly dates
    under a gate heatmap 2.3 inches wide were drawn over one another, a grey block no date could be read in."""
    fig, box = ax.get_figure(), ax.get_position()
    inches = box.width * fig.get_figwidth() if along == "x" else box.height * fig.get_figheight()
    room = max(1, int(inches * 72 // (TICK_SPACING * fontsize)))
    return every_kth(names, room if most is None else min(room, most))


TICK_SPACING = 1.5          # the room a name on an axis takes, in its font's size (a line and the space between)


def key_beside(ax, **kwargs: Any):
    """The legend of ``ax`` outside it, to its right and level with its top (``kwargs``: ``fontsize``,
    ``ncol``, …), where it covers none of what is drawn: inside, matplotlib's 'best' place, which weighs a
    bar it covers no more than a line it crosses, put a comparison's baseline key over the first bar's
    foot, and a cell-state plot's key over the ends of its lines. ``save_figure`` (tight, or a
    constrained layout) makes room for it."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)


def weight_scale(weights) -> tuple[dict[str, float], str]:
    """``(imshow's vmin and vmax, the colour bar's words for them)`` of attention ``weights``: 0 to the
    largest drawn, so that weak attention spread over many steps shows where it goes (on a fixed 0-1 scale
    a translation's weights of 0.1-0.2 were one pale colour, on matplotlib's own, least to largest, three
    equal weights of 0.3331-0.3335 looked as far apart as 0 and 1), said on the bar as a text's attention
    view says it."""
    w = np.asarray(weights, dtype=float)
    top = float(np.nanmax(w)) if w.size and np.isfinite(w).any() else 0.0
    top = max(top, 1e-6)                        # all zeros (a sequence's padding): a scale matplotlib can draw
    return {"vmin": 0.0, "vmax": top}, f"brightest: the largest here, {top:.2g}"


def row_scale(weights) -> tuple[np.ndarray, dict[str, float], str] | None:
    """``(weights drawn, imshow's vmin and vmax, the colour bar's words)``, each row of a causal map
    ``weights [T, T]`` (nothing above its diagonal: query step t sees steps 0..t) divided by its own
    largest; ``None`` for any other map, which :func:`weight_scale` colours. A causal row t shares 1 among
    t + 1 steps: the first row's one weight of 1 set the scale of every row, and a 36-step window's rows,
    of weights near 1/36, were all drawn black. A row of zeros (padding) stays 0."""
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2 or w.shape[0] != w.shape[1] or w.shape[0] < 2 or not np.isfinite(w).all() \
            or np.triu(w, 1).any():
        return None
    largest = w.max(axis=1, keepdims=True)
    drawn = np.divide(w, largest, out=np.zeros_like(w), where=largest > 0)
    return drawn, {"vmin": 0.0, "vmax": 1.0}, "(causal: row t shares 1 among steps 0..t)"


def colormap(name: str):
    """matplotlib's colormap ``name`` (``plt.get_cmap`` without pyplot)."""
    return _matplotlib().colormaps[name]


FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}     # a plot's file suffix -> matplotlib's format


def figure_format(path: str | Path) -> str:
    """matplotlib's format for a plot written to ``path``, by its suffix (``.png``, ``.svg``, ``.pdf``).
    Any other suffix is refused: every plot was written as PNG whatever the name, so ``attention.svg``
    held PNG bytes no SVG viewer or LaTeX document could open."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise BadValue(f"cannot write a plot as {suffix or '(no extension)'!r} ({path})",
                       "name the file .png, .svg or .pdf")
    return FORMATS[suffix]


def save_figure(fig, path: Path, tight: bool = False) -> None:
    """Write ``fig`` to ``path`` atomically, as PNG, SVG or PDF by its suffix (:func:`figure_format`;
    another is refused, nothing written). Characters the font lacks
    (a label in Chinese, an emoji) are one warning naming them and the plot, not matplotlib's
    ``Glyph 20013 (\\N{CJK UNIFIED IDEOGRAPH-4E2D}) missing from font(s) DejaVu Sans.`` for each.
    ``tight``: ``fig.tight_layout()`` first, here, as it draws the text too (a translation's
    attention plot let one such line through before the warning). Each colour bar's label is fitted to its
    bar (:func:`fit_bar_labels`)."""
    kind = figure_format(path)
    with warnings_caught(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        if tight:
            fig.tight_layout()
        fit_bar_labels(fig, tight)
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=kind, dpi=110, bbox_inches="tight"))
    missing = []
    for w in caught:
        glyph = _MISSING_GLYPH.match(str(w.message))
        if glyph is None:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        elif chr(int(glyph.group(1))) not in missing:
            missing.append(chr(int(glyph.group(1))))
    if missing:
        warnings.warn(f"{path}: the plot's font has no {' '.join(missing)}, drawn as empty boxes; install a font "
                      "that has them (e.g. Noto Sans CJK, Noto Color Emoji) for readable plots; nothing else is "
                      "affected", UserWarning, stacklevel=callers_level())


_MISSING_GLYPH = re.compile(r"Glyph (\d+) .*missing from")


def fit_bar_labels(fig, tight: bool = False) -> bool:
    """Each colour bar's label of ``fig`` within the length of its bar, as the figure will be drawn: a point or
    two smaller, rewrapped at its words on more lines, smaller still (down to 6 points) where a word alone is
    longer (a translation's two-token map is a bar 1.7 inches tall, its two-line label 2.4 inches long, past
    both ends). The bars are measured drawn, their layout made (``tight``: by ``fig.tight_layout()``, made again
    after a change) and each image's aspect applied, and measured again after each change, up to
    :data:`FIT_ROUNDS` times: a horizontal bar under an image as long as the image is wide, and a label
    rewrapped on more lines leaves the image less height, so a narrower bar (a bar measured before the drawing
    was the room the image was given, wider than the image drawn in it: the label, fitted to that, ran past the
    bar's ends). True where a label changed."""
    labels = {}
    for cax in _all_axes(fig):
        bar = getattr(cax, "_colorbar", None)            # set by matplotlib on each colour bar's axes
        if bar is not None:
            label = (cax.yaxis if bar.orientation == "vertical" else cax.xaxis).label
            if label.get_text():
                labels[label] = (cax, bar.orientation == "vertical", label.get_text(), label.get_fontsize())
    for _ in range(FIT_ROUNDS if labels else 0):
        fig.draw_without_rendering()       # the layout made and each image's aspect applied, as savefig draws them
        renderer = fig.canvas.get_renderer()
        refitted = False
        for label, (cax, vertical, text, size) in labels.items():
            box = cax.get_window_extent(renderer)
            room = box.height if vertical else box.width

            def length(label=label, vertical=vertical):
                extent = label.get_window_extent(renderer)
                return extent.height if vertical else extent.width

            if length() <= room:
                continue
            refitted = True               # from its own words and size, for the room it has now
            if not _fit_label(label, text, size, length, room):
                while length() > room and label.get_fontsize() > 6:
                    label.set_fontsize(label.get_fontsize() - 1)
        if not refitted:
            break
        if tight:
            fig.tight_layout()
    return any(label.get_text() != text or label.get_fontsize() != size
               for label, (_, _, text, size) in labels.items())


FIT_ROUNDS = 4          # colour-bar labels fitted, the figure drawn again, at most this many times


def _fit_label(label, text: str, size: float, length, room: float) -> bool:
    """``label`` set to ``text``, words whole, so that its ``length()`` is ``room`` or less: on the fewest lines
    up to :data:`FEW_LINES` at ``size`` or up to 2 points less (a point smaller rather than 'candidate (tanh, -1'
    over 'to 1'), else on as few smaller still (down to 6 points), else on more lines; False, left on one word
    a line at ``size``, where none is. Lines are the last resort: a horizontal bar's label on more of them
    leaves its image less height, and an image of fixed aspect, so its bar, less width (a label of 10 lines, a
    word each, left a bar 5 points long under it)."""
    import textwrap
    lines = text.split("\n")
    wrappings: dict[int, str] = {}              # the widest wrapping of each count of lines
    for width in range(max(map(len, lines)), 0, -1):
        wrapped = "\n".join(textwrap.fill(line, width, break_long_words=False) for line in lines)
        wrappings.setdefault(wrapped.count("\n") + 1, wrapped)
    near = [size, size - 1, size - 2]
    small = [size - k for k in range(3, int(size)) if size - k >= 6]
    few = [w for count, w in sorted(wrappings.items()) if count <= max(FEW_LINES, len(lines))]
    for choices, sizes in ((few, near), (few, small), ([w for _, w in sorted(wrappings.items())], near + small)):
        for wrapped in choices:
            label.set_text(wrapped)
            for smaller in sizes:
                label.set_fontsize(smaller)
                if length() <= room:
                    return True
    label.set_fontsize(size)
    return False


FEW_LINES = 4           # a colour bar's label on up to this many lines before it is set smaller than 2 points less


def _all_axes(fig) -> list:
    """The axes of ``fig`` and those inset in them (a colour bar drawn with ``inset_axes``)."""
    found = []
    for ax in fig.axes:
        found += [ax, *(a for a in ax.child_axes if a not in fig.axes)]
    return found


def plot_history(history: Sequence[dict[str, Any]], path: Path, best_epoch: int | None = None,
                 loss: str = "loss", title: str = "Training curves", right: tuple | None = None) -> None:
    """Train and validation loss per epoch, the y axis named ``loss`` (each task says which: a
    classifier's was labelled 'loss (scaled units)', a forecaster's, of its cross-entropy) (log scale; linear when a loss is 0 or below, as on a
    constant series: matplotlib warned that it could not log-scale it), the restored best epoch marked.
    Up to :data:`MARKED_EPOCHS` epochs each is a dot (a 1-epoch run's line of one point was drawn as
    nothing, an empty plot) and named on the axis (0.96, 0.98, 1.00 … for one epoch); epochs whose loss
    is not finite, which the line skips, are named in the title. ``title``: the run and model it is of (every
    run's plot was titled 'Training curves', a row of them open side by side alike); ``right``: ``(label,
    forward, inverse)``, a second y axis on the right reading the loss in the task's own measure (a language
    model's perplexity: the run printed 69.7, the plot had only nats)."""
    epochs = [h["epoch"] for h in history]
    fig, ax = subplots(figsize=(7, 4))
    marker = dict(marker="o", ms=3) if len(epochs) <= MARKED_EPOCHS else {}
    train = [h["train_loss"] for h in history]
    ax.plot(epochs, train, label="train", **marker)
    val = [h["val_loss"] for h in history]
    has_val = not all(np.isnan(v) for v in val)
    if has_val:
        ax.plot(epochs, val, label="validation", **marker)
    if best_epoch and best_epoch > 0:
        ax.axvline(best_epoch, color="grey", ls="--", lw=1, label=f"best (epoch {best_epoch})")
    shown = np.asarray(train + val, dtype=float)
    shown = shown[np.isfinite(shown)]
    log = shown.size and (shown > 0).all()
    ax.set_yscale("log" if log else "linear")
    if log:
        plain_log_ticks(ax)                     # over more than a decade: '3×10⁻¹', '6×10⁻²' down the side
        plain_log_labels(ax, shown)
    if len(epochs) <= MARKED_EPOCHS:
        ax.set_xticks(epochs)
    else:
        from matplotlib.ticker import MaxNLocator          # after subplots(), which imports matplotlib quietly
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(loss)
    gaps = [f"{name} loss not finite at {_epochs_named(epochs, losses)}"
            for name, losses in (("train", train), ("validation", val if has_val else []))
            if not np.isfinite(np.asarray(losses, dtype=float)).all()]
    if right is not None:
        second_axis(ax, right, shown, log)
    ax.set_title(title + "".join(f"\n({gap})" for gap in gaps), fontsize=None if not gaps else 10)
    ax.legend()
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def second_axis(ax, right: tuple, shown, log: bool) -> None:
    """A y axis on the right of ``ax`` reading its values through ``right``, ``(label, forward,
    inverse)`` (:data:`PERPLEXITY`: a loss in nats as perplexity); on a ``log`` axis labelled in plain
    numbers over ``shown``, the values drawn."""
    label, forward, inverse = right
    second = ax.secondary_yaxis("right", functions=(forward, inverse))
    second.set_ylabel(label)
    if log:
        plain_log_labels(second, forward(np.asarray(shown, dtype=float)))


def _perplexity(nats):
    """``exp(nats)``; capped short of overflow (matplotlib also maps the axis's far edges through it)."""
    return np.exp(np.minimum(nats, 700.0))


def _nats(perplexity):
    """``log(perplexity)``, :func:`_perplexity` undone; 0 (an axis edge matplotlib tries) kept finite."""
    return np.log(np.maximum(perplexity, np.finfo(float).tiny))


PERPLEXITY = ("perplexity", _perplexity, _nats)     # a cross-entropy in nats read as perplexity (lm, its studies)


def plain_log_labels(ax, values) -> None:
    """Plain numbers (0.026, 0.024 …) on the log-scaled y axis of ``ax`` when ``values`` span less than a
    decade: matplotlib then names its minor ticks '2.6×10⁻²', '2.4×10⁻²' … down the side; where fewer than
    four of its 1-9×10ᵏ ticks fall among them (a loss from 4.9 to 6.5 read '5' and '6' alone), about five
    evenly spaced ones instead."""
    values = np.asarray(values, dtype=float)
    if values.size and values.min() > 0 and values.max() < 10 * values.min():
        from matplotlib.ticker import MaxNLocator           # after subplots(), which imports matplotlib quietly
        low, high = values.min(), values.max()
        scale = 10.0 ** np.floor(np.log10(low))
        own = [d * s for s in (scale, 10 * scale) for d in range(1, 10) if low <= d * s <= high]
        if len(own) < 4:                                  # the log axis's own: 5 and 6 of 4.9 … 6.5
            ax.yaxis.set_minor_locator(MaxNLocator(nbins=5))
        ax.yaxis.set_minor_formatter(_plain_formatter())
        ax.yaxis.set_major_formatter(_plain_formatter())


def plain_log_ticks(ax) -> None:
    """The ticks matplotlib names on the log-scaled y axis of ``ax`` (which of them it chooses, by the
    axis's span; some between the decades up to two decades), in plain numbers: 0.6 and 2 read '6×10⁻¹' and
    '2×10⁰' (an ``e`` form, '6e-01', from matplotlib's own plain ``LogFormatter``)."""
    from matplotlib.ticker import LogFormatter           # after subplots(), which imports matplotlib quietly

    class Plain(LogFormatter):
        def __call__(self, value, pos=None):
            return f"{value:g}" if super().__call__(value, pos) else ""

    ax.yaxis.set_major_formatter(Plain())
    # some of the 2-9s labelled up to two decades (matplotlib's own: up to one): losses from 0.011 to 0.16 read
    # '0.1' and '0.01' alone, nothing to read 0.04 by
    ax.yaxis.set_minor_formatter(Plain(labelOnlyBase=False, minor_thresholds=(2, 0.5)))


def _plain_formatter():
    """Tick labels with as few significant digits (2 or more) as name every tick shown, major and minor,
    as it is: at two a loss from 2.17 to 2.32 was labelled '2.2, 2.2, 2.2, 2.2, 2.3, 2.3 …' up the side, and
    ticks at 0.0225, 0.0255 and 0.0285 read '0.023', '0.026' and '0.029' (a trial of 0.02552 drawn on the
    '0.026' line)."""
    from matplotlib.ticker import Formatter              # after subplots(), which imports matplotlib quietly

    class PlainDistinct(Formatter):
        digits = 2

        def set_locs(self, locs):
            super().set_locs(locs)
            lo, hi = sorted(self.axis.get_view_interval())
            shown = {float(v) for v in (*self.axis.get_majorticklocs(), *self.axis.get_minorticklocs())
                     if lo <= v <= hi}
            # up to 17, at which every float reads back as itself: at most 7, ticks 1e-8 apart all read '0.6931472'
            self.digits = next((d for d in range(2, 17) if all(math.isclose(float(f"{v:.{d}g}"), v, rel_tol=1e-9)
                                                               for v in shown)), 17)

        def __call__(self, value, pos=None):       # 300 whole: '3e+02' at 2 digits
            whole = int(np.log10(abs(value))) + 1 if abs(value) >= 1 else 0
            return f"{value:.{max(self.digits, whole)}g}"

    return PlainDistinct()


MARKED_EPOCHS = 30          # up to this many epochs: a dot and an axis tick each


def zoned_times(times) -> tuple[np.ndarray, Any]:
    """``(x, tz)``: the points of an axis of ``times`` as matplotlib draws them, and the zone whose clock
    its labels read (:func:`date_axis`). Times with a zone (a run trained with ``--time-zone Europe/Berlin``)
    are drawn at their instants (naive UTC) with ``tz`` their zone: drawn as the naive UTC times a run
    holds, a Berlin run's forecast.png read an hour or two off its test_forecasts.csv, and drawn as the
    local clock's naive times, a line went back an hour where the clock does. Other times (naive ones,
    step numbers) as they are, ``tz`` None."""
    import pandas as pd
    if isinstance(times, (pd.Series, pd.Index)) and isinstance(times.dtype, pd.DatetimeTZDtype):
        index = pd.DatetimeIndex(times)
        return index.tz_convert("UTC").tz_localize(None).to_numpy(), index.tz
    return np.asarray(times), None


def date_axis(ax, x, tz=None, label: bool = True) -> bool:
    """Dates on the x axis of ``ax`` (``x``: the points drawn) with their labels on ``tz``'s clock
    (:func:`zoned_times`; None: as drawn), the axis named by its zone ('time (Europe/Berlin)') where
    ``label``: matplotlib's concise dates, a few ticks that name what changes ('06:00', '12:00', 'Jan-20'),
    the rest once at the axis's end (the default labels of an hourly series, '01-19 18', '01-19 21' …, were
    drawn over one another in a 6-inch panel, and named no year). False, the axis left as it is, where ``x``
    are no dates (step numbers: :func:`step_axis`)."""
    if not len(x) or not np.issubdtype(np.asarray(x).dtype, np.datetime64):
        return False
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    locator = AutoDateLocator(minticks=3, maxticks=7, tz=tz)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=tz))
    if tz is not None and label:
        ax.set_xlabel(f"time ({tz})")
    return True


def step_axis(ax, x) -> None:
    """The step numbers ``x`` on the x axis of ``ax`` whole and as they are, as many as have room side by side:
    the last 50 points of a 100,050-step series read '0', '10' … beside a '+1e5' offset at the axis's end.
    The room is measured when the axis is drawn (:func:`_step_locator`): labels of 6+ digits on an axis 3
    inches wide or less ran into one another, where their width was guessed from their digits."""
    x = np.asarray(x)
    if not len(x) or not np.issubdtype(x.dtype, np.number):       # dates matplotlib reads itself (datetime.date)
        return
    from matplotlib.ticker import ScalarFormatter          # after subplots(), which imports matplotlib quietly
    ax.xaxis.set_major_locator(_step_locator())
    plain = ScalarFormatter(useOffset=False)
    plain.set_scientific(False)
    ax.xaxis.set_major_formatter(plain)


def _step_locator():
    """A locator of round step numbers (1, 2 or 5 times a power of ten apart, at most :data:`STEP_TICKS`)
    that, each time the axis is drawn, keeps as many as its labels leave a font size's space between
    (each label measured as the axis's formatter writes it, at the axis's width then): one label alone,
    the one nearest the middle, where two have no room."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import MaxNLocator

    class StepLocator(MaxNLocator):
        def __init__(self):
            super().__init__(nbins=STEP_TICKS, steps=[1, 2, 5, 10], integer=True, min_n_ticks=2)

        def __call__(self):
            vmin, vmax = self.axis.get_view_interval()
            axes = getattr(self.axis, "axes", None)
            if axes is None or vmin == vmax:
                return super().__call__()
            lo, hi = sorted((float(vmin), float(vmax)))
            width = axes.bbox.width * 72 / axes.get_figure().dpi           # the axis's length in points
            font = FontProperties(size=_matplotlib().rcParams["xtick.labelsize"])
            measure = RendererAgg(1, 1, 72)                                 # a text's width in points
            gap = font.get_size_in_points()
            for n in range(STEP_TICKS, 0, -1):
                self.set_params(nbins=n)
                ticks = super().tick_values(vmin, vmax)
                shown = [t for t in ticks if lo <= t <= hi]
                texts = self.axis.major.formatter.format_ticks(shown)
                sizes = [measure.get_text_width_height_descent(t, font, ismath=False)[0] for t in texts]
                at = [(t - lo) / (hi - lo) * width for t in shown]
                if len(shown) > 1 and all(b - a >= (wa + wb) / 2 + gap
                                          for a, b, wa, wb in zip(at, at[1:], sizes, sizes[1:])):
                    return ticks
            return [min(shown or ticks, key=lambda t: abs(t - (lo + hi) / 2))]

    return StepLocator()


STEP_TICKS = 8              # step numbers named on an axis at most (as many dates as a concise date axis names)


def _epochs_named(epochs: Sequence[int], losses: Sequence[float]) -> str:
    """'epoch 3', 'epochs 3, 4' or 'all 3 epochs', at most five named, of the losses not finite."""
    bad = [e for e, v in zip(epochs, losses) if not np.isfinite(v)]
    if len(bad) == len(epochs):
        return f"all {len(bad)} epochs" if len(bad) > 1 else f"epoch {bad[0]}, the only one"
    named = first_of(bad)
    return f"epoch{'s' if len(bad) > 1 else ''} {named}"


def plot_forecast(x_hist, y_hist, x_test, y_test, forecasts: dict[str, np.ndarray], path: Path,
                  title: str, ylabel: str | list[str], history: str = "history",
                  bands: Sequence[tuple[np.ndarray, np.ndarray, str]] = ()) -> None:
    """History (the points before the test ones shown, named ``history``), test actuals and
    one-step-ahead-of-origin forecasts of each model. Several targets (``ylabel`` a list of their
    names; ``y_hist``, ``y_test`` and each forecast ``[n, T]``) get a panel each, on its own scale.
    ``bands``: ``(low, high, label)`` of the first model's intervals, shaded in its colour (a quantile
    run's plot drew its median alone: the intervals it was trained for were nowhere to be seen)."""
    (x_hist, tz), (x_test, _) = zoned_times(x_hist), zoned_times(x_test)
    names = [ylabel] if isinstance(ylabel, str) else list(ylabel)
    column = (lambda a, j: np.asarray(a)) if isinstance(ylabel, str) else (lambda a, j: np.asarray(a)[:, j])
    fig, axes = subplots(len(names), 1, figsize=(10, 4.5 if len(names) == 1 else 3.2 * len(names)),
                         squeeze=False, sharex=True)
    styles = {0: dict(lw=1.6), 1: dict(lw=1, ls="--"), 2: dict(lw=1, ls=":"), 3: dict(lw=1, ls="-.")}
    for j, (ax, name) in enumerate(zip(axes[:, 0], names)):
        ax.plot(x_hist, column(y_hist, j), color="0.55", lw=1, label=history)
        # from the last point before the test part on: the two lines ended a step apart, a gap in the series
        # that read as a missing value
        joined = len(x_hist) > 0
        ax.plot(np.concatenate([np.asarray(x_hist)[-1:], np.asarray(x_test)]) if joined else x_test,
                np.concatenate([column(y_hist, j)[-1:], column(y_test, j)]) if joined else column(y_test, j),
                color="black", lw=1.4, label="actual (test)")
        for low, high, label in bands:
            ax.fill_between(x_test, column(low, j), column(high, j), color="C0", alpha=0.2, lw=0, label=label)
        for k, (model, yhat) in enumerate(forecasts.items()):
            ax.plot(x_test, column(yhat, j), label=model, **styles.get(k, {}))
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    # concise dates on the run's clock, as test_forecasts.csv's times (matplotlib's own, slanted, ran into one
    # another on 20 weeks, and named no year on a day of hours); steps as whole numbers, no offset
    shown = np.concatenate([x_hist, x_test])
    if not date_axis(axes[-1, 0], shown, tz):
        step_axis(axes[-1, 0], shown)
    axes[0, 0].set_title(title)
    key_beside(axes[0, 0], fontsize=8)          # at 'best' it lay over the history's peaks
    save_figure(fig, path)
