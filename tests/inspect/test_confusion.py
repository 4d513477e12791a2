"""The confusion-matrix plot."""
import numpy as np

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
