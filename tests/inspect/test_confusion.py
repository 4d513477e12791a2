"""The confusion-matrix plot."""
import numpy as np
import pytest

from lstmkit.inspect.confusion import plot_confusion


def test_confusion_plot_written(tmp_path):
    plot_confusion([[3, 1], [0, 4]], ["neg", "pos"], tmp_path / "plots" / "confusion.png", "t")
    assert (tmp_path / "plots" / "confusion.png").stat().st_size > 1000


def test_many_classes_name_every_kth_class_so_the_names_can_be_read(tmp_path, monkeypatch):
    """300 classes' names were drawn over each other on each side, none readable."""
    import lstmkit.inspect.plots as plots
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **_: seen.append(fig.axes[0]))
    classes = [f"class_{k}" for k in range(300)]
    plot_confusion(np.eye(300, dtype=int), classes, tmp_path / "confusion.png", "t")
    ax = seen[0]
    names = [t.get_text() for t in ax.get_xticklabels()]
    assert names == classes[::8] and [t.get_text() for t in ax.get_yticklabels()] == names      # 38 names a side
    plot_confusion([[3, 1], [0, 4]], ["neg", "pos"], tmp_path / "c.png", "t")
    assert [t.get_text() for t in seen[1].get_xticklabels()] == ["neg", "pos"]


def _axes(monkeypatch):
    import lstmkit.inspect.plots as plots
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **_: seen.append(fig.axes))
    return seen


def test_long_class_names_keep_their_start_and_end_and_are_slanted(tmp_path, monkeypatch):
    """Names of 80 characters took most of the figure (the matrix in a corner), and 2 classes' names,
    written level, ran into each other under the matrix."""
    seen = _axes(monkeypatch)
    names = ["customer complaint about the billing of the last quarter's invoices, refund asked",
             "customer complaint about the billing of the last quarter's invoices, refund given"]
    plot_confusion([[3, 1], [0, 4]], names, tmp_path / "confusion.png", "t")
    ax = seen[0][0]
    shown = [t.get_text() for t in ax.get_xticklabels()]
    assert shown == ["customer complaint…fund asked", "customer complaint…fund given"]
    assert all(len(s) <= 30 for s in shown) and [t.get_text() for t in ax.get_yticklabels()] == shown
    assert all(t.get_rotation() == 45 for t in ax.get_xticklabels())
    plot_confusion([[3, 1], [0, 4]], ["neg", "pos"], tmp_path / "c.png", "t")
    assert [(t.get_text(), t.get_rotation()) for t in seen[1][0].get_xticklabels()] == [("neg", 0), ("pos", 0)]


def test_every_matrix_reads_its_colours_on_one_bar_and_up_to_20_classes_has_counts_in_its_cells(
        tmp_path, monkeypatch):
    """The colours are each row's shares whatever the classes' count: up to 20 classes there was no bar, a
    line under the axis naming the shares and no scale for them (9 of 10 right and 800 of 900 were shades no
    share could be read from), over 20 a bar. Both have the bar now, and up to 20 the counts in the cells."""
    seen = _axes(monkeypatch)
    plot_confusion(np.eye(21, dtype=int), [f"c{k}" for k in range(21)], tmp_path / "confusion.png", "t")
    plot_confusion(np.eye(20, dtype=int), [f"c{k}" for k in range(20)], tmp_path / "confusion.png", "t")
    plot_confusion([[9, 1], [100, 800]], ["neg", "pos"], tmp_path / "confusion.png", "t")
    assert [len(axes) for axes in seen] == [2, 2, 2]
    for ax, bar in seen:
        assert bar.get_ylabel() == "share of the true class's samples" and bar.get_ylim() == (0.0, 1.0)
        assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    assert [len(ax.texts) for ax, _ in seen] == [0, 400, 4]
    assert [t.get_text() for t in seen[2][0].texts] == ["9", "1", "100", "800"]


def test_long_class_names_that_differ_in_their_middle_are_told_apart(tmp_path, monkeypatch):
    """Names shortened to their start and end read the same when they differ only in the middle
    (a path of categories): two rows and two columns of one name, which was which unknown."""
    seen = _axes(monkeypatch)
    names = ["support / europe / billing / refunds / ticket", "support / europe / shipping / refunds / ticket",
             "sales"]
    plot_confusion([[3, 1, 0], [0, 4, 0], [0, 0, 2]], names, tmp_path / "confusion.png", "t")
    shown = [t.get_text() for t in seen[0][0].get_xticklabels()]
    assert shown == ["…ope / billing / refunds / ti…", "…ope / shipping / refunds / t…", "sales"]
    assert all(len(s) <= 30 for s in shown) and [t.get_text() for t in seen[0][0].get_yticklabels()] == shown


def test_reliability_diagram_of_the_metrics_bins(tmp_path):
    """plots/reliability.png draws metrics.json's reliability bins: empty bins (null) are left out, not drawn at 0."""
    from lstmkit.inspect.confusion import plot_reliability
    from lstmkit.train.metrics import classification_metrics
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [1.0, 0.0], [0.55, 0.45]])
    rel = classification_metrics([0, 0, 0, 1], proba, ["a", "b"])["reliability"]
    assert rel["accuracy"].count(None) == 15 - 3            # 0.6 and 0.55 share (8/15, 9/15]
    plot_reliability(rel, tmp_path / "plots" / "reliability.png", "validation set: accuracy 0.500, ECE 0.300")
    assert (tmp_path / "plots" / "reliability.png").stat().st_size > 1000


def test_a_bin_all_right_has_its_dot_drawn_whole_at_the_top_edge(tmp_path, monkeypatch):
    """A bin whose examples were all right sits at accuracy 1, the plot's top edge: its dot was cut in half."""
    import lstmkit.inspect.plots as plots
    from lstmkit.inspect.confusion import plot_reliability
    from lstmkit.train.metrics import classification_metrics
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    proba = np.array([[0.95, 0.05], [0.97, 0.03], [0.6, 0.4], [0.4, 0.6]])
    plot_reliability(classification_metrics([0, 0, 1, 1], proba, ["a", "b"])["reliability"], tmp_path / "r.png", "t")
    top = seen[0].axes[0]
    dots = [c for c in top.collections if c.get_label() == "mean confidence"][0]
    assert 1.0 in dots.get_offsets()[:, 1] and top.get_ylim()[1] == 1.0 and not dots.get_clip_on()


def test_the_reliability_key_keeps_off_the_bars(tmp_path, monkeypatch):
    """A 10-class speech classifier after 3 epochs: every confidence under 0.35, the bin at 0.3 all right;
    the key, pinned to the upper left, covered that bar's top and its dot."""
    import lstmkit.inspect.plots as plots
    from lstmkit.inspect.confusion import plot_reliability
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    edges = list(np.linspace(0, 1, 16))
    count, accuracy, confidence = [0] * 15, [None] * 15, [None] * 15
    for k, n, a, c in ((1, 24, 0.25, 0.11), (2, 4, 0.0, 0.14), (4, 2, 1.0, 0.30)):
        count[k], accuracy[k], confidence[k] = n, a, c
    plot_reliability({"edges": edges, "count": count, "accuracy": accuracy, "confidence": confidence},
                     tmp_path / "r.png", "t")
    fig = seen[0]
    fig.canvas.draw()
    top = fig.axes[0]
    key = top.get_legend().get_window_extent()
    bars = [p.get_window_extent() for p in top.patches]
    assert bars and not any(key.overlaps(b) for b in bars)


def test_cells_are_coloured_by_their_rows_share_and_a_row_without_samples_is_empty(tmp_path, monkeypatch):
    """The colours are each true class's shares of its samples (rows sum to 1), on a fixed 0..1 scale; a
    class with no samples in the data (a row of 0) is drawn as 0s, not NaN; a count is written white on a
    cell over half its row, black otherwise."""
    seen = _axes(monkeypatch)
    plot_confusion([[3, 1, 0], [1, 1, 0], [0, 0, 0]], ["a", "b", "c"], tmp_path / "confusion.png", "t")
    ax = seen[0][0]
    image = ax.images[0]
    np.testing.assert_allclose(np.asarray(image.get_array()), [[0.75, 0.25, 0], [0.5, 0.5, 0], [0, 0, 0]])
    assert image.get_clim() == (0, 1)
    cells = {(t.get_position(), t.get_text(), t.get_color()) for t in ax.texts}
    assert cells == {((0, 0), "3", "white"), ((1, 0), "1", "black"), ((2, 0), "0", "black"),
                     ((0, 1), "1", "black"), ((1, 1), "1", "black"), ((2, 1), "0", "black"),
                     ((0, 2), "0", "black"), ((1, 2), "0", "black"), ((2, 2), "0", "black")}


def test_names_stay_level_for_four_short_names_at_most(tmp_path, monkeypatch):
    """Level names (4 classes or fewer, none over 8 characters) fit side by side; a fifth class or a
    ninth character and they are slanted."""
    seen = _axes(monkeypatch)
    for names in (["abcdefgh", "bcdefghi", "cdefghij", "d"], ["a", "b", "c", "d", "e"], ["abcdefghi", "b"]):
        plot_confusion(np.eye(len(names), dtype=int), names, tmp_path / "confusion.png", "t")
    assert [{t.get_rotation() for t in axes[0].get_xticklabels()} for axes in seen] == [{0}, {45}, {45}]


def test_the_figure_grows_with_the_classes_up_to_a_limit(tmp_path, monkeypatch):
    """2 + 0.7 inches a class wide, 1.6 + 0.6 high, at most 14 by 12 (300 classes were not a 212-inch figure)."""
    import lstmkit.inspect.plots as plots
    sizes = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **_: sizes.append(tuple(fig.get_size_inches())))
    for n in (2, 300):
        plot_confusion(np.eye(n, dtype=int), [f"c{k}" for k in range(n)], tmp_path / "confusion.png", "t")
    assert sizes == [pytest.approx((3.4, 2.8)), (14, 12)]


def test_a_name_of_30_characters_is_kept_and_one_of_31_is_shortened():
    from lstmkit.inspect.confusion import _short
    assert _short("abcdefghijklmnopqrstuvwxyz0123") == "abcdefghijklmnopqrstuvwxyz0123"
    assert _short("abcdefghijklmnopqrstuvwxyz01234") == "abcdefghijklmnopqrs…vwxyz01234"     # 19, '…', the last 10


def test_names_told_apart_end_in_an_ellipsis_only_where_they_go_on():
    """From 6 characters before where they differ, 28 characters: '…' after them only when the name goes on."""
    from lstmkit.inspect.confusion import _shorts
    fits = ["p" * 20 + x + "s" * 21 for x in "AB"]              # 42 characters: from 14 on, exactly 28
    assert _shorts(fits) == ["…" + "p" * 6 + x + "s" * 21 for x in "AB"]
    longer = [name + "t" for name in fits]
    assert _shorts(longer) == ["…" + "p" * 6 + x + "s" * 21 + "…" for x in "AB"]


def test_the_reliability_diagram_draws_a_bar_for_each_bin_with_examples_only(tmp_path, monkeypatch):
    """Bars of share right for the bins with examples (one example is enough), none for empty bins (no
    accuracy, drawn at 0 they would read as all wrong); the examples of every bin underneath; the diagonal
    from (0, 0) to (1, 1) on axes 0..1."""
    import lstmkit.inspect.plots as plots
    from lstmkit.inspect.confusion import plot_reliability
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    edges = [0, 0.25, 0.5, 0.75, 1.0]
    plot_reliability({"edges": edges, "count": [0, 0, 1, 3], "accuracy": [None, None, 1.0, 2 / 3],
                      "confidence": [None, None, 0.6, 0.9]}, tmp_path / "r.png", "t")
    top, bottom = seen[0].axes
    assert [(p.get_x(), p.get_width(), p.get_height()) for p in top.patches] == [
        (0.5, 0.25, 1.0), (0.75, 0.25, pytest.approx(2 / 3))]
    assert [p.get_height() for p in bottom.patches] == [0, 0, 1, 3]
    diagonal = [line for line in top.lines if line.get_label() == "calibrated"][0]
    assert np.asarray(diagonal.get_xydata()).tolist() == [[0, 0], [1, 1]]
    assert top.get_xlim() == (0, 1) and top.get_ylim() == (0, 1)
