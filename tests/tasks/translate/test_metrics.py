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
    with pytest.raises(LstmkitError, match="2 translations but 1 references") as e:
        corpus_scores(["a", "b"], ["a"])
    assert e.value.message == "2 translations but 1 references"          # the one set: no set number


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
    assert [a.get_ylabel() for a in seen[1].axes] == ["translation",
                                                      "attention weight (rows sum to 1)\nbrightest: the largest here, 0.9"]


def test_the_attention_plot_colours_weak_spread_attention_from_0_to_its_largest(tmp_path, monkeypatch):
    """On a fixed 0-1 scale weights of 0.1-0.15 over eight words (a young model's) were one pale colour,
    where the attention went unseen."""
    import lstmkit.inspect.plots as plots
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **_: seen.append(fig))
    w = np.array([[0.10, 0.11, 0.12, 0.15, 0.15, 0.12, 0.13, 0.12], [0.15, 0.15, 0.14, 0.12, 0.11, 0.11, 0.11, 0.11]])
    plot_attention(list("abcdefgh"), ["x", "<eos>"], w, tmp_path / "attention.png")
    ax, bar = seen[0].axes
    assert ax.images[0].get_clim() == (0.0, 0.15)
    assert bar.get_ylabel() == "attention weight (rows sum to 1)\nbrightest: the largest here, 0.15"


def test_a_further_reference_set_of_another_length_is_named():
    """Only a mismatch in every set was caught, and the message counted the first set: 2 and 2."""
    with pytest.raises(LstmkitError, match="2 translations but 1 references in reference set 2"):
        corpus_scores(["a b", "c d"], ["a b", "c d"], more_refs=[["a b"]])


def test_case_counts_unless_lowercase_and_both_scores_keep_two_decimals():
    import sacrebleu
    hyps, refs = ["The cat sat on a mat today", "A dog barked"], ["the cat sat on the mat", "a big dog barked"]
    m = corpus_scores(hyps, refs)
    assert m["bleu"] == round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2)
    assert m["chrf"] == round(sacrebleu.corpus_chrf(hyps, [refs]).score, 2)
    assert "lowercase" not in m and "case:mixed" in m["bleu_signature"]
    lc = corpus_scores(hyps, refs, lowercase=True)
    assert lc["lowercase"] is True and "case:lc" in lc["bleu_signature"]
    assert lc["bleu"] == round(sacrebleu.corpus_bleu(hyps, [refs], lowercase=True).score, 2) > m["bleu"]
    assert lc["chrf"] == round(sacrebleu.metrics.CHRF(lowercase=True).corpus_score(hyps, [refs]).score, 2) > m["chrf"]


def test_sentence_bleu_keeps_case_two_decimals_and_the_tokenizer_asked_for():
    import sacrebleu
    from lstmkit.tasks.translate.metrics import sentence_bleu
    hyps, refs = ["The cat sat on a mat today", "他们看猫和狗"], ["the cat sat on the mat", "他们看猫和鱼"]
    want = [round(sacrebleu.sentence_bleu(h, [r], tokenize=t).score, 2) for h, r, t in zip(hyps, refs, ("13a", "zh"))]
    assert sentence_bleu(hyps, refs) == want
    assert sentence_bleu(hyps[:1], refs[:1], lowercase=True) == [round(sacrebleu.sentence_bleu(
        hyps[0], [refs[0]], lowercase=True).score, 2)] != want[:1]
    char = sentence_bleu(hyps[:1], refs[:1], tokenize="char")            # asked for: not the 13a refs imply
    assert char == [round(sacrebleu.sentence_bleu(hyps[0], [refs[0]], tokenize="char").score, 2)] != want[:1]


def test_japanese_references_some_of_kanji_alone_are_read_by_character():
    from lstmkit.tasks.translate.metrics import bleu_tokenizer
    assert bleu_tokenizer(["東京大学", "わたしはねこです"]) == "char"             # any kana: Japanese
    assert bleu_tokenizer(["他们看猫", "东京大学"]) == "zh"


def test_an_unknown_tokenizer_names_the_nearest_and_a_missing_extra_is_named(monkeypatch):
    import sacrebleu

    from lstmkit.errors import BadValue, MissingPackage
    from lstmkit.tasks.translate.metrics import checked_tokenize
    with pytest.raises(BadValue, match=r"unknown BLEU tokenizer 'flores20' \(did you mean 'flores200'\?\)"):
        checked_tokenize("flores20")

    def no_mecab(**kwargs):
        raise ImportError("no MeCab")
    monkeypatch.setattr(sacrebleu.metrics, "BLEU", no_mecab)
    with pytest.raises(MissingPackage, match=r"ja-mecab tokenizer needs sacrebleu\[ja\]"):
        corpus_scores(["a"], ["a"], tokenize="ja-mecab")
    with pytest.raises(MissingPackage, match="13a tokenizer needs sacrebleu,"):
        corpus_scores(["a"], ["a"], tokenize="13a")


def test_the_sentence_file_is_written_in_the_type_its_name_asks_for(tmp_path):
    """``.csv`` is comma-separated, ``.jsonl`` one JSON record a line; a name without a table suffix (none,
    ``.txt``, anything else) is tab-separated."""
    import json

    import pandas as pd
    args = (["x, y"], ["a b"], ["a b"])
    csv = pd.read_csv(write_sentences(tmp_path / "s.csv", *args))
    assert list(csv.columns) == ["line", "bleu", "source", "reference", "translation"]
    assert csv.iloc[0].tolist() == [1, 100.0, "x, y", "a b", "a b"]
    rows = [json.loads(ln) for ln in write_sentences(tmp_path / "s.jsonl", *args).read_text().splitlines()]
    assert rows == [{"line": 1, "bleu": 100.0, "source": "x, y", "reference": "a b", "translation": "a b"}]
    for name in ("s", "s.txt", "s.out"):
        lines = write_sentences(tmp_path / name, *args).read_text().splitlines()
        assert lines == ["line\tbleu\tsource\treference\ttranslation", "1\t100.0\tx, y\ta b\ta b"], name
