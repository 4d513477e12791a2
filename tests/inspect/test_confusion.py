"""The confusion-matrix plot."""
from lstmkit.inspect.confusion import plot_confusion


def test_confusion_plot_written(tmp_path):
    plot_confusion([[3, 1], [0, 4]], ["neg", "pos"], tmp_path / "plots" / "confusion.png", "t")
    assert (tmp_path / "plots" / "confusion.png").stat().st_size > 1000
