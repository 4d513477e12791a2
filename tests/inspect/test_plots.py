"""lstmkit.inspect.plots: figures written into run folders."""
import warnings

import pytest

from lstmkit.inspect.plots import plot_history, save_figure, subplots


def test_characters_the_font_lacks_are_one_warning_naming_them(tmp_path):
    """A label in Chinese or an emoji: matplotlib warned once per character, in words no user can act on."""
    fig, ax = subplots()
    ax.set_title("\ue000\ue001 \ue000")                # private-use characters: no font has them
    ax.set_xlabel("positive")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        save_figure(fig, tmp_path / "plot.png")
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"{tmp_path / 'plot.png'}: the plot's font has no \ue000 \ue001, drawn as empty boxes")
    assert (tmp_path / "plot.png").stat().st_size > 0


@pytest.mark.parametrize("losses, scale", [([0.5, 0.1], "log"), ([0.0, 0.0], "linear"), ([0.2, -0.1], "linear")])
def test_loss_curves_are_log_scaled_only_when_every_loss_is_positive(losses, scale, tmp_path, monkeypatch):
    """A constant series trains to loss 0: log scale made matplotlib warn 'Data has no positive values'."""
    import lstmkit.inspect.plots as plots
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: seen.append(fig.axes[0].get_yscale()))
    history = [{"epoch": k + 1, "train_loss": v, "val_loss": v} for k, v in enumerate(losses)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_history(history, tmp_path / "loss.png", best_epoch=1)
    assert seen == [scale]


def test_a_home_matplotlib_cannot_write_to_plots_without_a_word(tmp_path):
    """A read-only home (a container's, a service account's /nonexistent): matplotlib works from a
    temporary folder and logged 'mkdir -p failed …' and 'Matplotlib created a temporary cache
    directory …, it is highly recommended to set the MPLCONFIGDIR …' on every command that plots."""
    import os
    import subprocess
    import sys
    (tmp_path / "a-file").write_text("")
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    env["HOME"] = str(tmp_path / "a-file" / "home")          # no folder can be made there, not even by root
    probe = ("from lstmkit.inspect.plots import plot_history; import sys; "
             "plot_history([{'epoch': 1, 'train_loss': 0.5, 'val_loss': 0.6}], sys.argv[1])")
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "loss.png")], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert (tmp_path / "loss.png").stat().st_size > 0


def test_a_translations_attention_plot_in_characters_the_font_lacks_is_one_warning(tmp_path):
    """fig.tight_layout() drew the token labels before save_figure caught matplotlib's warnings: one
    'Glyph 57344 (\\N{...}) missing from font(s)' line came out beside lstmkit's own."""
    from lstmkit.tasks.translate.metrics import plot_attention
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plot_attention(["a", "b"], ["\ue000", "\ue001"], [[0.5, 0.5], [0.2, 0.8]], tmp_path / "attention.png")
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "the plot's font has no \ue000 \ue001, drawn as empty boxes" in messages[0], messages


def test_plotting_leaves_the_programs_backend_and_figures_alone(tmp_path):
    """In a notebook (``%matplotlib inline``) the first plot a fit drew called ``matplotlib.use("Agg")``:
    the session's backend switched for good, and the user's own ``plt.show()`` after the fit showed
    nothing; every figure also went through pyplot's registry."""
    import subprocess
    import sys
    probe = ("import warnings, matplotlib; matplotlib.use('svg'); import matplotlib.pyplot as plt; "
             "mine = plt.figure(); "
             "from lstmkit.inspect.plots import plot_history; "
             "warnings.simplefilter('error'); "
             "[plot_history([{'epoch': 1, 'train_loss': 0.5, 'val_loss': 0.6}], sys.argv[1]) for _ in range(25)]; "
             "print(matplotlib.get_backend(), plt.get_fignums())")
    done = subprocess.run([sys.executable, "-c", "import sys; " + probe, str(tmp_path / "loss.png")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["svg", "[1]"]
    assert (tmp_path / "loss.png").stat().st_size > 0


def _drawn_history(history, tmp_path, monkeypatch, best_epoch=1):
    import lstmkit.inspect.plots as plots
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: seen.append(fig.axes[0]))
    plot_history(history, tmp_path / "loss.png", best_epoch=best_epoch)
    return seen[0]


def test_a_one_epoch_runs_loss_is_a_dot_on_epoch_1(tmp_path, monkeypatch):
    """`--epochs 1`: the loss lines of one point each were drawn as nothing (an empty plot, a legend of
    lines not there) over an axis of epochs 0.96, 0.98, 1.00, 1.02, 1.04."""
    ax = _drawn_history([{"epoch": 1, "train_loss": 0.5, "val_loss": 0.6}], tmp_path, monkeypatch)
    lines = [line for line in ax.get_lines() if line.get_label() in ("train", "validation")]
    assert len(lines) == 2 and all(line.get_marker() == "o" for line in lines)
    assert list(ax.get_xticks()) == [1]
    many = _drawn_history([{"epoch": k, "train_loss": 1 / k, "val_loss": 1 / k} for k in range(1, 81)],
                          tmp_path, monkeypatch)
    assert all(line.get_marker() in (None, "None", "") for line in many.get_lines())
    assert all(float(t).is_integer() for t in many.get_xticks())


def test_epochs_whose_loss_is_not_finite_are_named_in_the_title(tmp_path, monkeypatch):
    """A NaN epoch is a gap in the line, and a run whose every loss was NaN an empty plot titled
    'Training curves': neither said why."""
    nan = float("nan")
    history = [{"epoch": k, "train_loss": nan if k in (3, 4) else 1 / k, "val_loss": nan if k == 4 else 1 / k}
               for k in range(1, 8)]
    title = _drawn_history(history, tmp_path, monkeypatch).get_title()
    assert "train loss not finite at epochs 3, 4" in title and "validation loss not finite at epoch 4" in title
    everything = [{"epoch": k, "train_loss": nan, "val_loss": nan} for k in (1, 2, 3)]
    title = _drawn_history(everything, tmp_path, monkeypatch, best_epoch=0).get_title()
    assert title == "Training curves\n(train loss not finite at all 3 epochs)"       # no validation: not named
    fine = [{"epoch": 1, "train_loss": 0.5, "val_loss": nan}]
    assert _drawn_history(fine, tmp_path, monkeypatch).get_title() == "Training curves"


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".PDF", b"%PDF")])
def test_a_plot_is_written_in_the_format_its_name_says(suffix, magic, tmp_path):
    """Every plot was PNG whatever its name: ``plot_attention(w, "attention.svg")`` wrote PNG bytes
    into a file no SVG viewer or LaTeX document could open."""
    import torch

    from lstmkit.inspect.attention import plot_attention
    path = tmp_path / f"attention{suffix}"
    plot_attention(torch.full((1, 1, 3, 3), 1 / 3), path)
    assert path.read_bytes().startswith(magic)


@pytest.mark.parametrize("name", ["attention.jpgg", "attention"])
def test_a_plot_named_with_another_suffix_is_refused_and_nothing_written(name, tmp_path):
    import torch

    from lstmkit.errors import LstmkitError
    from lstmkit.inspect.attention import plot_attention
    with pytest.raises(LstmkitError, match=r"cannot write a plot as .* — name the file \.png, \.svg or \.pdf"):
        plot_attention(torch.full((1, 1, 3, 3), 1 / 3), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("backend", ["nonsense", "svg"])
def test_an_mplbackend_matplotlib_does_not_know_is_one_warning_and_the_plot_is_drawn(backend, tmp_path):
    """MPLBACKEND=nonsense (a typo, 'inline'): `import matplotlib` raised 'Key backend: 'nonsense' is not a
    valid value for backend', and a training ended in that traceback after its epochs, its run folder
    left without the model. A name matplotlib knows is its backend, as before."""
    import os
    import subprocess
    import sys
    probe = ("import os, sys, warnings; warnings.simplefilter('always'); "
             "from lstmkit.inspect.plots import plot_history; "
             "plot_history([{'epoch': 1, 'train_loss': 0.5, 'val_loss': 0.6}], sys.argv[1]); "
             "import matplotlib; print(matplotlib.rcParams._get_backend_or_none(), os.environ['MPLBACKEND'])")
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "loss.png")], capture_output=True, text=True,
                          env={**os.environ, "MPLBACKEND": backend}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "loss.png").stat().st_size > 0
    if backend == "svg":
        assert done.stdout.split() == ["svg", "svg"] and done.stderr == ""
    else:
        assert done.stdout.split() == ["None", "nonsense"]           # matplotlib's own choice; the variable kept
        assert "MPLBACKEND='nonsense' names no backend matplotlib knows" in done.stderr
        assert done.stderr.count("UserWarning") == 1 and "Traceback" not in done.stderr


def test_a_loss_within_a_decade_is_labelled_in_plain_numbers(tmp_path, monkeypatch):
    """Losses from 0.013 to 0.026 on a log axis were labelled '2.6×10⁻²', '2.4×10⁻²', … down the side."""
    ax = _drawn_history([{"epoch": k, "train_loss": 0.026 / k ** 0.5, "val_loss": 0.016 + k / 1000} for k in range(1, 6)],
                        tmp_path, monkeypatch)
    ax.figure.canvas.draw()
    texts = [t.get_text() for t in ax.get_yticklabels(minor=True) + ax.get_yticklabels() if t.get_text()]
    assert len(texts) >= 3 and all("10" not in t and "$" not in t for t in texts), texts
    assert "0.02" in texts and all(float(t) for t in texts)


def test_the_test_parts_actual_values_go_on_from_the_last_point_before_it(tmp_path, monkeypatch):
    """The history line ended at February and the test part's began at March: a month's gap in the
    series, read as a missing value."""
    import numpy as np
    import lstmkit.inspect.plots as plots
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    x = np.arange(10)
    y = np.arange(10.0) * 3 - 40
    plots.plot_forecast(x[:6], y[:6], x[6:], y[6:], {"lstm": y[6:] + 1}, tmp_path / "f.png", "t", "y (kg)")
    ax = seen[0].axes[0]
    actual = next(line for line in ax.get_lines() if line.get_label() == "actual (test)")
    assert list(actual.get_xdata()) == [5, 6, 7, 8, 9] and list(actual.get_ydata()) == [-25, -22, -19, -16, -13]
    model = next(line for line in ax.get_lines() if line.get_label() == "lstm")
    assert list(model.get_xdata()) == [6, 7, 8, 9] and ax.get_ylabel() == "y (kg)"


def test_the_forecast_plots_key_sits_beside_the_series(tmp_path, monkeypatch):
    """At matplotlib's 'best' the key lay over the history's peaks (a monthly series' upper left)."""
    import numpy as np
    import lstmkit.inspect.plots as plots
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    x = np.arange(48)
    y = 300 + 100 * np.sin(2 * np.pi * x / 12) + 3 * x
    plots.plot_forecast(x[:36], y[:36], x[36:], y[36:], {"lstm": y[36:] + 5, "naive": y[35:-1]}, tmp_path / "f.png",
                        "y: one step ahead", "y")
    ax, renderer = seen[0].axes[0], seen[0].canvas.get_renderer()
    assert ax.get_legend().get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["history", "actual (test)", "lstm", "naive"]


def _labelled_y_ticks(ax):
    """The y ticks drawn with a label inside the axis's range (major and minor), and their texts."""
    ax.figure.canvas.draw()
    lo, hi = ax.get_ylim()
    ticks = [t for t in ax.get_yticklabels(minor=True) + ax.get_yticklabels()
             if t.get_text() and lo <= t.get_position()[1] <= hi]
    return ticks, [t.get_text() for t in ticks]


def test_a_narrow_loss_range_is_labelled_with_distinct_numbers(tmp_path, monkeypatch):
    """A speech classifier's cross-entropy from 2.19 to 2.32 over 3 epochs: its log axis read
    '2.3, 2.3, 2.3, 2.3, 2.2, 2.2, 2.2' from top to bottom, seven ticks, two numbers."""
    losses = [(2.3236, 2.2901), (2.3000, 2.2538), (2.2515, 2.1911)]
    ax = _drawn_history([{"epoch": k + 1, "train_loss": t, "val_loss": v} for k, (t, v) in enumerate(losses)],
                        tmp_path, monkeypatch, best_epoch=3)
    ticks, texts = _labelled_y_ticks(ax)
    assert len(texts) >= 3 and len(set(texts)) == len(texts), texts
    assert all(abs(float(t.get_text()) - t.get_position()[1]) < 0.01 for t in ticks), texts


def test_each_tick_label_reads_the_value_its_tick_stands_at(tmp_path, monkeypatch):
    """A study's losses from 0.0225 to 0.0284: ticks at 0.0225, 0.0255 and 0.0285 read '0.023', '0.026' and
    '0.029' (distinct at two digits, but not their values), a loss of 0.02552 drawn at the '0.026' line."""
    losses = [(0.02844, 0.02844), (0.02552, 0.02552), (0.02511, 0.02511), (0.02248, 0.02248)]
    ax = _drawn_history([{"epoch": k + 1, "train_loss": t, "val_loss": v} for k, (t, v) in enumerate(losses)],
                        tmp_path, monkeypatch)
    ticks, texts = _labelled_y_ticks(ax)
    assert len(texts) >= 3 and "0.0255" in texts, texts
    assert all(float(t.get_text()) == pytest.approx(t.get_position()[1], rel=1e-9) for t in ticks), texts


def test_a_loss_between_two_whole_numbers_gets_more_than_two_labels(tmp_path, monkeypatch):
    """A translation's cross-entropy from 4.93 to 6.45: its log axis was labelled '5' and '6' alone."""
    ax = _drawn_history([{"epoch": 1, "train_loss": 6.45, "val_loss": 5.50}, {"epoch": 2, "train_loss": 5.38,
                         "val_loss": 4.93}], tmp_path, monkeypatch, best_epoch=2)
    ticks, texts = _labelled_y_ticks(ax)
    assert len(texts) >= 4 and len(set(texts)) == len(texts), texts
    assert all(abs(float(t.get_text()) - t.get_position()[1]) < 0.01 for t in ticks), texts


def _formatted(ticks, view):
    """The labels ``_plain_formatter`` gives ``ticks`` (a linear axis's major ticks, none minor) in ``view``."""
    from matplotlib.ticker import FixedLocator, NullLocator

    from lstmkit.inspect.plots import _plain_formatter
    fig, ax = subplots()
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_ylim(*view)
    f = _plain_formatter()
    ax.yaxis.set_major_formatter(f)
    return f.format_ticks(ticks)


def test_plain_numbers_take_the_digits_every_tick_in_view_needs_and_a_whole_numbers_own():
    """Two digits name 0.024 and 0.026 but not 0.0225 at the view's bottom edge, nor 0.0285 at its top: three
    then, for every tick; 300 at two digits is '3e+02', so a whole number keeps its digits; 0 is '0'."""
    assert _formatted([0.0225, 0.024, 0.026], (0.0225, 0.026)) == ["0.0225", "0.024", "0.026"]
    assert _formatted([0.024, 0.026, 0.0285], (0.024, 0.0285)) == ["0.024", "0.026", "0.0285"]
    assert _formatted([100.0, 200.0, 300.0], (100.0, 300.0)) == ["100", "200", "300"]
    assert _formatted([0.0, 0.5, 1.0], (0.0, 1.0)) == ["0", "0.5", "1"]


def test_losses_alike_to_seven_digits_get_tick_labels_that_read_their_ticks():
    """A study whose trials all reached ln 2 (0.6931472) to seven digits: ticks 0.00000001 apart, from
    0.69314717 to 0.69314723, each read '0.6931472' (the digits stopped at seven). Eight name each one."""
    ticks = [0.69314717, 0.69314718, 0.69314719, 0.6931472, 0.69314721, 0.69314722, 0.69314723]
    assert _formatted(ticks, (ticks[0], ticks[-1])) == [
        "0.69314717", "0.69314718", "0.69314719", "0.6931472", "0.69314721", "0.69314722", "0.69314723"]


def test_the_key_beside_starts_just_right_of_the_axes_level_with_their_top():
    """loc 'upper left' anchored at (1.01, 1.0) of the axes with no pad: the key's left edge a hundredth of the
    axes' width past their right edge, its top at theirs, overlapping nothing drawn in them."""
    from lstmkit.inspect.plots import key_beside
    fig, ax = subplots()
    ax.bar([0, 1], [3, 1], label="bars")
    key = key_beside(ax)
    fig.canvas.draw()
    box, axes = key.get_window_extent(), ax.get_window_extent()
    assert box.x0 == pytest.approx(axes.x0 + 1.01 * axes.width)
    assert box.y1 == pytest.approx(axes.y1)


def test_the_weight_scale_runs_from_0_to_the_largest_weight():
    """0 to the largest finite weight (0.2 of 0.1, 0.2, 0.15, NaN); no weight to show, or only zeros or NaN,
    is 0 to 1e-6, a scale matplotlib can draw."""
    from lstmkit.inspect.plots import weight_scale
    nan = float("nan")
    assert weight_scale([[0.1, 0.2], [0.15, nan]]) == ({"vmin": 0.0, "vmax": 0.2}, "brightest: the largest here, 0.2")
    for none in ([], [[0.0, 0.0]], [[nan, nan]]):
        assert weight_scale(none) == ({"vmin": 0.0, "vmax": 1e-6}, "brightest: the largest here, 1e-06"), none


def test_plain_log_ticks_name_the_minor_ticks_matplotlib_labels_in_plain_numbers():
    """A latency axis from 0.5 to 3 ms, under a decade: matplotlib labels some minor ticks (0.6, 2, …) as well as
    1; each reads its value as a plain number, not '6×10⁻¹'."""
    from lstmkit.inspect.plots import plain_log_ticks
    fig, ax = subplots()
    ax.set_yscale("log")
    ax.set_ylim(0.5, 3)
    plain_log_ticks(ax)
    fig.canvas.draw()
    shown = {minor: [(t.get_position()[1], t.get_text()) for t in ax.get_yticklabels(minor=minor)
                     if t.get_text() and 0.5 <= t.get_position()[1] <= 3] for minor in (False, True)}
    assert shown[False] == [(1.0, "1")]
    assert len(shown[True]) >= 2 and all(text == f"{v:g}" for v, text in shown[True]), shown


@pytest.mark.parametrize("tokens", [1, 2, 3, 12])
def test_a_colour_bars_label_stays_within_its_bar_for_any_number_of_tokens(tokens, tmp_path, monkeypatch):
    """A translation's 2-token map has a bar 1.7 inches tall; its label, 'attention weight (rows sum to 1)'
    over 'brightest: …', was 2.4 inches long and ran past both ends of it."""
    import numpy as np
    import lstmkit.inspect.plots as plots
    from lstmkit.tasks.translate.metrics import plot_attention
    seen, save = [], plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: (save(fig, path, **kw), seen.append(fig)))
    src, tgt = [f"w{k}" for k in range(tokens + 1)], [f"t{k}" for k in range(tokens)]
    plot_attention(src, tgt, np.full((tokens, tokens + 1), 1 / (tokens + 1)), tmp_path / "a.png", title="t")
    fig = seen[0]
    renderer = fig.canvas.get_renderer()
    bar = fig.axes[1]
    label, box = bar.yaxis.label.get_window_extent(renderer), bar.get_window_extent(renderer)
    assert box.y0 - 1 <= label.y0 and label.y1 <= box.y1 + 1
    assert bar.get_ylabel().replace("\n", " ") == ("attention weight (rows sum to 1) brightest: the largest here, "
                                                   f"{1 / (tokens + 1):.2g}")
    # and within the figure as drawn (an axis label is placed at draw time: measured before one, a rewrapped
    # label read as 30 px past the figure's right edge, though the figure drawn holds it)
    fig.canvas.draw()
    label = bar.yaxis.label.get_window_extent(fig.canvas.get_renderer())
    assert fig.bbox.x0 <= label.x0 and label.x1 <= fig.bbox.x1 and fig.bbox.y0 <= label.y0 and label.y1 <= fig.bbox.y1


def test_a_loss_over_more_than_a_decade_is_labelled_in_plain_numbers(tmp_path, monkeypatch):
    """A forecaster's losses from 0.018 to 0.3 read '3×10⁻¹', '2×10⁻¹', '6×10⁻²' … down the side."""
    ax = _drawn_history([{"epoch": 1, "train_loss": 0.30, "val_loss": 0.018},
                         {"epoch": 2, "train_loss": 0.17, "val_loss": 0.019},
                         {"epoch": 3, "train_loss": 0.14, "val_loss": 0.020}], tmp_path, monkeypatch)
    ticks, texts = _labelled_y_ticks(ax)
    assert "0.1" in texts and "0.2" in texts, texts
    assert all("10" not in t and "$" not in t for t in texts), texts
    assert all(float(t.get_text()) == pytest.approx(t.get_position()[1]) for t in ticks), texts


def test_a_loss_over_a_decade_and_a_bit_is_labelled_between_its_decades(tmp_path, monkeypatch):
    """Losses from 0.011 to 0.16 read '0.1' and '0.01' alone: nothing to read a validation loss of 0.04 by."""
    ax = _drawn_history([{"epoch": 1, "train_loss": 0.16, "val_loss": 0.042},
                         {"epoch": 2, "train_loss": 0.07, "val_loss": 0.0115},
                         {"epoch": 3, "train_loss": 0.043, "val_loss": 0.011}], tmp_path, monkeypatch)
    ticks, texts = _labelled_y_ticks(ax)
    assert len(texts) >= 4 and {"0.01", "0.1"} < set(texts), texts
    assert all(float(t.get_text()) == pytest.approx(t.get_position()[1]) for t in ticks), texts


def test_a_bar_label_a_little_too_long_is_set_smaller_on_its_one_line():
    """A gate plot's 'candidate (tanh, -1 to 1)', a little longer than its bar, was rewrapped as
    'candidate (tanh, -1' over 'to 1'; a point or two smaller it fits on one line."""
    import numpy as np
    from lstmkit.inspect.plots import fit_bar_labels
    fig, ax = subplots(figsize=(3, 2.0))
    bar = fig.colorbar(ax.imshow(np.arange(16.0).reshape(4, 4)), ax=ax, label="candidate (tanh, -1 to 1)")
    fig.tight_layout()
    renderer = fig.canvas.get_renderer()
    room = bar.ax.get_window_extent(renderer).height
    assert bar.ax.yaxis.label.get_window_extent(renderer).height > room          # too long as it is
    assert fit_bar_labels(fig)
    assert bar.ax.get_ylabel() == "candidate (tanh, -1 to 1)" and 8 <= bar.ax.yaxis.label.get_fontsize() < 10
    assert bar.ax.yaxis.label.get_window_extent(renderer).height <= room
    assert not fit_bar_labels(fig)                                               # fitted: left as it is


def test_row_scale_divides_each_row_of_a_causal_map_by_its_own_largest():
    """Row t of a causal map shares 1 among steps 0..t: each row is drawn over its own largest (by hand:
    0.25 and 0.75 are 1/3 and 1), a row of zeros (padding) stays 0, and any map that is not causal,
    square and finite is left to weight_scale (None)."""
    import numpy as np
    from lstmkit.inspect.plots import row_scale
    drawn, scale, words = row_scale([[1.0, 0.0, 0.0], [0.25, 0.75, 0.0], [0.0, 0.0, 0.0]])
    assert drawn == pytest.approx(np.array([[1.0, 0.0, 0.0], [1 / 3, 1.0, 0.0], [0.0, 0.0, 0.0]]))
    assert scale == {"vmin": 0.0, "vmax": 1.0} and words.startswith("(causal")
    assert row_scale([[1.0, 0.0], [0.5, 0.5]])[0] == pytest.approx(np.array([[1.0, 0.0], [1.0, 1.0]]))
    for other in ([[0.5, 0.5], [0.5, 0.5]],                       # a later step read: not causal
                  [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]],             # not square
                  [[1.0, 0.0], [float("nan"), 0.5]],              # not finite
                  [1.0, 0.0]):                                    # not a map
        assert row_scale(other) is None, other


def _bar_of(orientation: str, label: str, figsize):
    import numpy as np
    fig, ax = subplots(figsize=figsize)
    bar = fig.colorbar(ax.imshow(np.arange(16.0).reshape(4, 4)), ax=ax, label=label, orientation=orientation)
    fig.tight_layout()
    return fig, bar


def _label_and_room(fig, bar, vertical: bool):
    renderer = fig.canvas.get_renderer()
    label, box = bar.ax.yaxis.label if vertical else bar.ax.xaxis.label, bar.ax.get_window_extent(renderer)
    extent = label.get_window_extent(renderer)
    return (extent.height, box.height) if vertical else (extent.width, box.width)


@pytest.mark.parametrize("orientation", ["vertical", "horizontal"])
def test_a_bar_label_far_too_long_for_one_line_is_rewrapped_at_its_words_near_its_size(orientation):
    """A label twice its bar's length: on more lines, each word whole and in order, at its size or up to 2
    points less (not shrunk to 6 points on one line), and within its bar, along a vertical bar or a
    horizontal one."""
    from lstmkit.inspect.plots import fit_bar_labels
    text = "attention weight (rows sum to 1) brightest: the largest here, 0.33"
    fig, bar = _bar_of(orientation, text, (3, 2.2) if orientation == "vertical" else (2.2, 3))
    vertical = orientation == "vertical"
    size = (bar.ax.yaxis.label if vertical else bar.ax.xaxis.label).get_fontsize()
    length, room = _label_and_room(fig, bar, vertical)
    assert length > 1.5 * room                                                   # far too long on one line
    assert fit_bar_labels(fig)
    label = bar.ax.yaxis.label if vertical else bar.ax.xaxis.label
    assert "\n" in label.get_text() and label.get_text().replace("\n", " ") == text
    assert size - 2 <= label.get_fontsize() <= size
    length, room = _label_and_room(fig, bar, vertical)
    assert length <= room


def test_a_bar_label_of_one_word_too_long_for_its_bar_is_set_no_smaller_than_6_points():
    """One word cannot be rewrapped: it is set smaller a point at a time, down to 6 points and no further,
    though at 6 it still runs past a bar this short."""
    from lstmkit.inspect.plots import fit_bar_labels
    fig, bar = _bar_of("vertical", "Donaudampfschifffahrtsgesellschaftskapitänswitwenrentenversicherung", (3, 1.2))
    assert fit_bar_labels(fig)
    assert bar.ax.yaxis.label.get_fontsize() == 6
    length, room = _label_and_room(fig, bar, True)
    assert length > room                                                         # still too long at 6 points


def test_save_figure_lays_out_only_a_figure_asked_to_be_tight_when_a_bar_label_is_fitted(tmp_path):
    """Fitting a bar's label lays the figure out again only where ``tight`` asked for a layout: axes placed
    by hand (the classification view's, filling its figure) stay where they were put."""
    import numpy as np
    fig, ax = subplots(figsize=(3, 2.2))
    ax.set_position((0.1, 0.1, 0.6, 0.8))
    cax = fig.add_axes((0.75, 0.1, 0.05, 0.8))
    bar = fig.colorbar(ax.imshow(np.arange(16.0).reshape(4, 4)), cax=cax,
                       label="attention weight (rows sum to 1) brightest: the largest here, 0.33")
    save_figure(fig, tmp_path / "hand.png")
    assert "\n" in bar.ax.get_ylabel()                                           # fitted
    assert tuple(ax.get_position(original=True).bounds) == pytest.approx((0.1, 0.1, 0.6, 0.8))
    assert tuple(cax.get_position(original=True).bounds) == pytest.approx((0.75, 0.1, 0.05, 0.8))



@pytest.mark.parametrize("layout", [None, "tight", "constrained"])
def test_a_short_horizontal_bars_label_lies_within_its_ends_as_drawn(tmp_path, layout):
    """A horizontal bar is as long as the image above it is wide, which an image of fixed aspect in a short
    figure is less than the room it was given: the label, fitted to that room before the drawing, ran past
    both ends of the bar (by 40-120 points), and rewrapped on more lines it took the image height, so width,
    again (a label of 10 lines left a bar 5 points long). As written, each label lies within its bar's ends, the
    bar no stub."""
    import numpy as np
    text = "attention weight (rows sum to 1) brightest: the largest here, 0.33"
    for width, count in ((6.0, 1), (4.0, 2)):
        fig, axes = subplots(1, count, figsize=(width, 1.6), squeeze=False,
                             layout="constrained" if layout == "constrained" else None)
        bars = [fig.colorbar(ax.imshow(np.arange(16.0).reshape(4, 4)), ax=ax, label=text, orientation="horizontal")
                for ax in axes[0]]
        save_figure(fig, tmp_path / "bar.png", tight=layout == "tight")
        renderer = fig.canvas.get_renderer()
        for bar in bars:
            label, box = bar.ax.xaxis.label, bar.ax.get_window_extent(renderer)
            extent = label.get_window_extent(renderer)
            assert box.x0 - 0.5 <= extent.x0 and extent.x1 <= box.x1 + 0.5, (layout, width, extent, box)
            assert box.width > 60 and label.get_fontsize() >= 6
            assert " ".join(label.get_text().split()) == text
