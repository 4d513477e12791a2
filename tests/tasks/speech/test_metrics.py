"""WER / CER with jiwer on hand-checked examples."""
import numpy as np
import pytest

from lstmkit.tasks.speech.metrics import format_recognition, plot_ctc_posteriors, plot_spectrogram, recognition_metrics


def test_wer_and_cer_known_values():
    m = recognition_metrics(["one two three", "four"], ["one too three", "four five"])
    assert m["wer"] == pytest.approx(2 / 4)          # one substitution, one insertion, 4 reference words
    assert m["word_errors"] == {"substitutions": 1, "deletions": 0, "insertions": 1, "reference_words": 4}
    assert m["sentence_accuracy"] == 0.0
    assert recognition_metrics(["ab"], ["ab"])["cer"] == 0.0
    assert recognition_metrics(["abcd"], ["abd"])["cer"] == pytest.approx(0.25)
    assert recognition_metrics(["a b"], [""])["wer"] == 1.0
    assert "WER 0.5000" in format_recognition(m)


def test_references_are_scored_with_words_one_space_apart_as_the_model_writes_them():
    """A reference typed with a double space (or one at an end) is the transcript the model writes
    with one: the decoder cannot write two spaces, so CER counted an error no model could avoid."""
    import jiwer
    from lstmkit.tasks.speech.data import Symbols
    sym = Symbols([" ", "o", "t", "w"])
    written = sym.decode([2, 1, 0, 1, 3, 0, 0, 1])              # 'o', ' ', blank, ' ', 't', ... ' ': 'o t'
    assert written == "o t"
    m = recognition_metrics(["o  t", " two  words "], [written, "two words"])
    assert m["cer"] == 0.0 and m["wer"] == 0.0 and m["sentence_accuracy"] == 1.0
    refs, hyps = ["a  b c", "", "ab  ", "x y"], ["a b  d", "q r", "", "  x y"]
    m = recognition_metrics(refs, hyps)
    one = lambda ts: [" ".join(t.split()) for t in ts]          # noqa: E731  the reference's spacing, by jiwer
    assert m["cer"] == pytest.approx(jiwer.cer(one(refs), one(hyps)))
    assert m["wer"] == pytest.approx(jiwer.wer(one(refs), one(hyps)))
    assert m["cer"] == pytest.approx((1 + 3 + 2) / (5 + 0 + 2 + 3))   # c->d; 'q r' inserted; 'ab' deleted


def test_plots_are_written(tmp_path):
    rng = np.random.default_rng(0)
    plot_spectrogram(rng.standard_normal((50, 20)), tmp_path / "s.png", "x", 10.0)
    lp = np.log(rng.dirichlet(np.ones(4), 30))
    plot_ctc_posteriors(lp, ["<blank>", "a", "b", "c"], tmp_path / "p.png", "x", 20.0)
    assert (tmp_path / "s.png").stat().st_size > 1000 and (tmp_path / "p.png").stat().st_size > 1000


def test_check_references_warns_once_naming_the_unknown_characters_and_refuses_only_when_none_is_left():
    from lstmkit.errors import LstmkitError
    from lstmkit.tasks.speech.metrics import check_references
    chars = [" ", "a", "b"]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_references(chars, ["x.wav"], ["ab ba"])             # all known: silent
    with pytest.warns(UserWarning) as caught:
        check_references(chars, ["x.wav", "y.wav", "z.wav"], ["ab", "Ab é", "ééé"])
    (w,) = [str(c.message) for c in caught]
    assert w.startswith("2 of 3 reference transcripts (first: y.wav) hold characters the model cannot write: 'é', 'A'")
    assert "the model writes only ' ab'" in w and "it knows 'A' only in the other case" in w
    with pytest.raises(LstmkitError, match=r"none of the 2 reference transcripts holds a character the model writes "
                                           r"\(they hold 'é'\): there is nothing to score") as e:
        check_references(chars, ["x.wav", "y.wav"], ["é é", "é"])          # a space alone is nothing to score
    assert "' ab'" in e.value.hint


def test_the_warning_names_up_to_ten_unknown_characters_and_says_when_there_are_more():
    from lstmkit.tasks.speech.metrics import check_references
    ten, eleven = "ABCDEFGHIJ", "ABCDEFGHIJK"
    with pytest.warns(UserWarning) as caught:
        check_references([" ", "a"], ["x.wav"], ["a " + ten])
    assert "'J'" in str(caught[0].message) and "..." not in str(caught[0].message)
    with pytest.warns(UserWarning) as caught:
        check_references([" ", "a"], ["x.wav"], ["a " + eleven])
    said = str(caught[0].message).split("cannot write: ")[1].split(";")[0]     # the list, not the case note
    assert sum(f"'{c}'" in said for c in eleven) == 10 and "..." in said
    assert said == "'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', ..."   # ties in one order every run


def test_reference_words_are_the_wers_n_and_exact_means_scored_without_an_error():
    """'two<TAB>words' is one word to the WER (words are split at spaces, as the model writes them):
    the model's 'two words' is one substitution and one insertion over 3 reference words (2/3), so
    the counts say 3 reference words and only 'a b' (1 of 2) is exact."""
    m = recognition_metrics(["two\twords", "a b"], ["two words", "a b"])
    assert m["wer"] == pytest.approx(2 / 3)
    assert m["word_errors"] == {"substitutions": 1, "deletions": 0, "insertions": 1, "reference_words": 3}
    assert m["sentence_accuracy"] == 0.5
    e = m["word_errors"]
    assert m["wer"] == pytest.approx((e["substitutions"] + e["deletions"] + e["insertions"]) / e["reference_words"])


def test_each_colour_bar_says_what_its_colours_are(tmp_path, monkeypatch):
    """spectrogram.png's and attention.png's colour bars were bare scales: colours of what?"""
    import lstmkit.inspect.plots as plots
    from lstmkit.tasks.speech.metrics import plot_decoder_attention
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    rng = np.random.default_rng(0)
    plot_spectrogram(rng.standard_normal((50, 20)), tmp_path / "s.png", "x", 10.0)
    plot_spectrogram(rng.standard_normal((50, 13)), tmp_path / "m.png", "x", 10.0, kind="mfcc")
    plot_decoder_attention(rng.dirichlet(np.ones(30), 4), list("ab c"), tmp_path / "a.png", "x", 40.0)
    top = f"{seen[2].axes[0].images[0].get_clim()[1]:.2g}"
    assert [fig.axes[1].get_ylabel() for fig in seen] == ["log mel energy", "coefficient",
                                                          f"attention weight\nbrightest: the largest here, {top}"]


def test_a_seq2seq_model_that_wrote_only_the_end_says_so_in_its_attention_plots_title(tmp_path, monkeypatch):
    """An untrained model's attention.png was one row named '</s>', titled 'attention of 0_george_10.wav':
    it read as a transcript, not as a model that writes nothing yet."""
    import lstmkit.inspect.plots as plots
    from lstmkit.tasks.speech.metrics import plot_decoder_attention
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: seen.append(fig))
    plot_decoder_attention(np.full((1, 17), 1 / 17), ["</s>"], tmp_path / "a.png", "attention of a.wav", 40.0)
    plot_decoder_attention(np.full((2, 17), 1 / 17), ["7", "</s>"], tmp_path / "a.png", "attention of a.wav", 40.0)
    plot_decoder_attention(np.full((1, 17), 1 / 17), ["</s>"], tmp_path / "a.png", "pooling of a.wav", 40.0,
                           axis="label answered")
    assert [fig.axes[0].get_title() for fig in seen] == [
        "attention of a.wav\n(the model wrote no character, only the end '</s>': it writes nothing yet)",
        "attention of a.wav", "pooling of a.wav"]
