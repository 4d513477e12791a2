import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.classify.view import attention_html, write_attention


def test_html_colours_tokens_by_weight_and_escapes():
    page = attention_html(["<b>", "good"], [0.25, 0.75], title="t")
    assert "&lt;b&gt;" in page and "<b>" not in page.split("<h3>")[1]
    assert "rgba(220, 40, 40, 1.000)" in page          # the largest weight is fully coloured
    assert "rgba(220, 40, 40, 0.333)" in page
    assert 'title="0.7500"' in page


def test_write_html_and_png(tmp_path):
    assert write_attention(["a", "b"], [0.5, 0.5], tmp_path / "v.html").read_text().startswith("<!doctype html>")
    assert write_attention(["a"] * 20, [0.05] * 20, tmp_path / "v.png").stat().st_size > 1000
    with pytest.raises(LstmkitError):
        write_attention(["a"], [1.0], tmp_path / "v.txt")


def test_the_view_is_a_vector_plot_for_svg_and_pdf_and_other_names_are_refused_naming_them(tmp_path):
    """A plot's .svg and .pdf are written as such (they were refused, the view offering only .png)."""
    assert write_attention(["a", "b"], [0.5, 0.5], tmp_path / "v.svg").read_bytes().startswith(b"<?xml")
    assert write_attention(["a", "b"], [0.5, 0.5], tmp_path / "v.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(LstmkitError, match=r"view\.png \(\.svg, \.pdf\)"):
        write_attention(["a"], [1.0], tmp_path / "v.txt")


def test_a_row_of_long_words_wraps_at_the_figures_edge(tmp_path, monkeypatch):
    """14 long words a row ran half as wide again as the figure; each row now ends inside it."""
    import lstmkit.inspect.plots as plots
    from lstmkit.tasks.classify.view import plot_attention
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    tokens = ("an extraordinarily overwrought melodramatic characterisation , notwithstanding "
              "incomprehensible screenwriting decisions , nevertheless").split() * 3
    plot_attention(tokens, [float(k % 5) for k in range(len(tokens))], tmp_path / "v.png", "t")
    ax = seen[0].axes[0]
    renderer = seen[0].canvas.get_renderer()
    texts = [t for t in ax.texts if t.get_text()]
    assert [t.get_text() for t in texts] == tokens
    right = max(t.get_window_extent(renderer).x1 for t in texts)
    assert right <= ax.get_window_extent(renderer).x1
    rows = sorted({t.get_position()[1] for t in texts})
    assert len(rows) > 3 and ax.get_ylim()[0] == rows[-1] + 0.5
    short = [str(k) for k in range(30)]                                   # short tokens: 14 a row as before
    plot_attention(short, [1.0] * 30, tmp_path / "v.png", "t")
    assert sorted({t.get_position()[1] for t in seen[1].axes[0].texts}) == [0, 1, 2]


def test_the_png_view_has_a_key_from_zero_to_the_largest_weight(tmp_path, monkeypatch):
    """`classify attention --out view.png` shaded tokens in reds with no key: a dark red could be weight 1
    or, in a long text, 0.12 (the shades are scaled to the text's largest weight)."""
    import lstmkit.inspect.plots as plots
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    write_attention(["a", "fine", "film"], [0.2, 0.12, 0.68], tmp_path / "v.png", "predicted 1")
    fig = seen[0]
    text_ax = fig.axes[0]
    bar = next(a for a in fig.axes + text_ax.child_axes if a is not text_ax)
    assert bar.get_xlabel() == "attention weight (darkest: this text's largest)"
    assert bar.get_xlim() == pytest.approx((0.0, 0.68))
    fig.canvas.draw()
    tokens = [t.get_window_extent() for t in text_ax.texts]
    assert bar.get_window_extent().y1 < min(t.y0 for t in tokens)          # under the text, not over it


def test_a_short_texts_view_is_as_wide_as_its_words_and_its_key_just_under_them(tmp_path, monkeypatch):
    """A 7-word text's view was 12 inches wide: its words at the left, the key under the far right end and
    a blank row's height below the words, most of the picture empty."""
    import lstmkit.inspect.plots as plots
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    write_attention("a wonderful film with a silly plot".split(), [0.2, 0.3, 0.1, 0.1, 0.1, 0.1, 0.1],
                    tmp_path / "v.png", "predicted 1")
    fig = seen[0]
    text_ax = fig.axes[0]
    bar = next(a for a in fig.axes + text_ax.child_axes if a is not text_ax)
    fig.canvas.draw()
    words = [t.get_window_extent() for t in text_ax.texts]
    key = bar.get_window_extent()
    inch = fig.dpi
    content = max(max(w.x1 for w in words), key.x1) - min(min(w.x0 for w in words), key.x0)
    assert fig.get_figwidth() * inch <= content + 0.1 * inch           # no empty width beside them
    assert abs(key.x0 - min(w.x0 for w in words)) <= 0.05 * inch        # the key from the words' left edge
    assert 0 < min(w.y0 for w in words) - key.y1 <= 0.2 * inch          # just under the words
    assert fig.get_figheight() * inch <= max(w.y1 for w in words) - min(w.y0 for w in words) + 0.2 * inch


@pytest.mark.parametrize("words", ["a fine film".split(),
                                   ("an extraordinarily overwrought melodramatic characterisation , notwithstanding "
                                    "incomprehensible screenwriting decisions , nevertheless").split() * 2])
def test_every_word_and_the_key_are_drawn_inside_the_figure_a_row_pitch_apart(words, tmp_path, monkeypatch):
    """The figure is as wide as its longest row or its key, and as tall as its rows: each word lies inside it,
    row k's words centred (k + 1/2) row pitches from its top edge, and the key (hung under it, where the
    saved picture's tight box takes it in) within its width."""
    import lstmkit.inspect.plots as plots
    from lstmkit.tasks.classify.view import ROW_PITCH
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    write_attention(words, [float(k % 4 + 1) for k in range(len(words))], tmp_path / "v.png", "predicted 0")
    fig = seen[0]
    text_ax = fig.axes[0]
    bar = next(a for a in fig.axes + text_ax.child_axes if a is not text_ax)
    fig.canvas.draw()
    page, texts = fig.bbox, [t for t in text_ax.texts if t.get_text()]
    for box in [t.get_window_extent() for t in texts]:
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1 and page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1
    key = bar.get_window_extent()
    assert page.x0 - 1 <= key.x0 and key.x1 <= page.x1 + 1
    for t in texts:
        box, row = t.get_window_extent(), t.get_position()[1]
        assert page.y1 - (box.y0 + box.y1) / 2 == pytest.approx((row + 0.5) * ROW_PITCH * fig.dpi, abs=2)


def test_each_row_holds_per_line_tokens_at_most_the_first_too(tmp_path, monkeypatch):
    """``per_line`` tokens a row: 28 short tokens at 14 a row are two full rows, the first as full as the
    second; at 10 a row, three rows of 10, 10 and 8."""
    import lstmkit.inspect.plots as plots
    from lstmkit.tasks.classify.view import plot_attention
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    for per_line, rows in ((14, [14, 14]), (10, [10, 10, 8])):
        plot_attention([str(k) for k in range(28)], [1.0] * 28, tmp_path / "v.png", "t", per_line=per_line)
        ys = [t.get_position()[1] for t in seen[-1].axes[0].texts if t.get_text()]
        assert [ys.count(y) for y in sorted(set(ys))] == rows
