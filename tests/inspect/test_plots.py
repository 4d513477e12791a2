"""lstmkit.inspect.plots: figures written into run folders."""
import warnings

from lstmkit.inspect.plots import pyplot, save_figure


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
