"""lstmkit.inspect.plots: figures written into run folders."""
import warnings

import pytest

from lstmkit.inspect.plots import plot_history, pyplot, save_figure


def test_characters_the_font_lacks_are_one_warning_naming_them(tmp_path):
    """A label in Chinese or an emoji: matplotlib warned once per character, in words no user can act on."""
    fig, ax = pyplot().subplots()
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
