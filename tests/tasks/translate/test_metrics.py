"""BLEU / chrF through sacrebleu, the per-sentence file, the attention plot."""
import numpy as np
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.translate.metrics import corpus_scores, plot_attention, write_sentences


def test_perfect_and_signature():
    m = corpus_scores(["a cat sits on the mat ."], ["a cat sits on the mat ."])
    assert m["bleu"] == 100.0 and m["chrf"] == 100.0
    assert "tok:13a" in m["bleu_signature"] and "version:" in m["chrf_signature"]


def test_known_bleu_value():
    import sacrebleu
    hyps, refs = ["the cat is on the mat", "a dog"], ["the cat sat on the mat", "a big dog"]
    assert corpus_scores(hyps, refs)["bleu"] == round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2)


def test_count_mismatch():
    with pytest.raises(LstmkitError, match="2 translations but 1 references"):
        corpus_scores(["a", "b"], ["a"])


def test_sentence_file_and_plot(tmp_path):
    p = write_sentences(tmp_path / "s.tsv", ["x y"], ["a b"], ["a b"])
    lines = p.read_text().splitlines()
    assert lines[0].split("\t") == ["line", "bleu", "source", "reference", "translation"]
    assert lines[1].split("\t")[1] == "100.0"
    png = plot_attention(["x", "y"], ["a", "<eos>"], [[0.9, 0.1], [0.2, 0.8]], tmp_path / "plots" / "a.png")
    assert png.stat().st_size > 1000


def test_bleu_on_chinese_and_japanese_reads_characters_not_whole_sentences():
    """13a would make each unspaced sentence one word, so any imperfect translation scores 0."""
    from lstmkit.tasks.translate.metrics import bleu_tokenizer
    zh = corpus_scores(["他们看猫和狗"], ["他们看猫和鱼"])
    assert "tok:zh" in zh["bleu_signature"] and zh["bleu"] > 50
    ja = corpus_scores(["わたしはねこです"], ["わたしはいぬです"])
    assert "tok:char" in ja["bleu_signature"] and ja["bleu"] > 30
    assert bleu_tokenizer(["a cat", "the dog"]) == "13a"


def test_ctrl_c_while_the_attention_plot_is_written_leaves_no_half_written_png(tmp_path, monkeypatch):
    """The plot was drawn straight into plots/attention.png: Ctrl-C there left a truncated PNG in
    the run folder. It is written beside it and renamed once whole."""
    from matplotlib.figure import Figure
    draw = Figure.savefig

    def cut_short(fig, fname, *args, **kwargs):
        draw(fig, fname, *args, **kwargs)
        with open(fname, "r+b") as f:          # half of it on disk, then Ctrl-C
            f.truncate(f.seek(0, 2) // 2)
        raise KeyboardInterrupt
    monkeypatch.setattr(Figure, "savefig", cut_short)
    with pytest.raises(KeyboardInterrupt):
        plot_attention(["x", "y"], ["a", "<eos>"], [[0.9, 0.1], [0.2, 0.8]], tmp_path / "plots" / "a.png")
    assert list((tmp_path / "plots").iterdir()) == []


def test_the_attention_plot_of_a_long_sentence_is_of_a_bounded_size_and_names_every_kth_token(tmp_path, monkeypatch):
    """A 300-token sentence's plot was 137 × 121 inches (15,059 × 13,353 pixels): about 2 minutes and
    10 GB of memory to draw at the end of a training, its 300 names a side drawn as they came."""
    import lstmkit.inspect.plots as plots
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **_: seen.append(fig))
    src, tgt = [f"s{k}" for k in range(300)], [f"t{k}" for k in range(280)]
    plot_attention(src, tgt, np.full((280, 300), 1 / 300), tmp_path / "attention.png")
    fig = seen[0]
    width, height = fig.get_size_inches()
    assert width <= 20 and height <= 16
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == src[::8]          # 38 names
    assert [t.get_text() for t in ax.get_yticklabels()] == tgt[::7]          # 40 names
    plot_attention(["x", "y"], ["a", "<eos>"], [[0.9, 0.1], [0.2, 0.8]], tmp_path / "a.png")
    assert [t.get_text() for t in seen[1].axes[0].get_xticklabels()] == ["x", "y"]
    assert tuple(seen[1].get_size_inches()) == (4, 3)
