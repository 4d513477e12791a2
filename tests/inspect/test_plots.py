"""Training-curve plots (lstmkit.inspect.plots)."""
import warnings

import pytest

from lstmkit.inspect.plots import plot_history


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
