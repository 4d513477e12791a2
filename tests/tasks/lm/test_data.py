import re

import numpy as np
import pytest
import torch

from lstmkit.data.vocab import PAD_ID, UNK_ID
from lstmkit.errors import LstmkitError
from lstmkit.tasks.lm.data import (EOS, LMTokenizer, corpus_pieces, line_pieces, read_corpus, split_corpus,
                                  split_lines)


def test_read_corpus_skips_blank_lines_and_counts_them(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("first line\n\n   \nsecond line\n")
    c = read_corpus(p)
    assert c.lines == ["first line", "second line"]
    assert c.report == {"read": 4, "blank": 2}
    assert read_corpus(["a\nb", "c"]).lines == ["a", "b", "c"]


def test_read_corpus_errors(tmp_path):
    with pytest.raises(LstmkitError, match="file not found"):
        read_corpus(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("\n  \n")
    with pytest.raises(LstmkitError, match="empty"):
        read_corpus(tmp_path / "empty.txt")
    (tmp_path / "latin.txt").write_bytes(b"fine\nalso fine\ncaf\xe9\n")
    with pytest.raises(LstmkitError, match="line 3 is not valid utf-8.*--encoding"):
        read_corpus(tmp_path / "latin.txt")
    assert read_corpus(tmp_path / "latin.txt", encoding="latin-1").lines[2] == "café"
    with pytest.raises(LstmkitError, match="not a string"):
        read_corpus(["ok", 3])


@pytest.mark.parametrize("level", ["char", "word", "bpe"])
def test_tokenizer_specials_and_round_trip(level):
    lines = ["the cat sat on the mat", "the dog sat on the log"] * 5
    tok = LMTokenizer(level, min_freq=1, max_size=60 if level == "bpe" else None).fit(lines)
    assert tok.itos[PAD_ID] == "<pad>" and tok.itos[UNK_ID] == "<unk>"
    assert tok.itos[tok.bos_id] == "<bos>" and tok.itos[tok.eos_id] == EOS == "</s>"
    ids = tok.encode("the cat sat on the log")
    assert tok.decode(ids) == "the cat sat on the log"
    assert tok.decode([tok.bos_id, *ids, tok.eos_id]) == "the cat sat on the log"
    again = LMTokenizer.from_dict(tok.to_dict())
    assert again.itos == tok.itos and again.encode("the dog sat") == tok.encode("the dog sat")


def test_token_id_lowercases_and_maps_unknown_to_unk():
    tok = LMTokenizer("char").fit(["abc"])
    assert tok.token_id("A") == tok.token_id("a") != UNK_ID
    assert tok.token_id("z") == UNK_ID and tok.token_id("ab") == UNK_ID


def test_word_vocabulary_can_be_empty():
    with pytest.raises(LstmkitError, match="vocabulary is empty.*--min-freq"):
        LMTokenizer("word", min_freq=2).fit(["one two three"])


@pytest.mark.parametrize("level, lines, min_freq, said", [
    ("word", ["!!!", "?? ..."], 1, "the text holds no word (letters, digits or emoji): punctuation only"),
    # some words, each below min_freq, beside a line of punctuation: words there are, too rare
    ("word", ["one two", "!!!"], 3, "the vocabulary is empty: no word occurs at least 3 times"),
    ("char", ["ab", "cd"], 2, "the vocabulary is empty: no character occurs at least 2 times"),
    ("char", ["!!", "?"], 3, "the vocabulary is empty: no character occurs at least 3 times")])
def test_an_empty_vocabulary_says_whether_the_text_has_no_word_or_only_rare_ones(level, lines, min_freq, said):
    """Punctuation alone is no word at word level (the fix: char or bpe); anything else without a
    token kept has its tokens below ``min_freq`` (the fix: lower it). A char-level text of
    punctuation has characters, only rare ones."""
    with pytest.raises(LstmkitError, match=re.escape(said)):
        LMTokenizer(level, min_freq=min_freq).fit(lines)


def test_line_pieces_predict_every_token_once():
    pieces = line_pieces([5, 6, 7, 8, 9], bos_id=10, eos_id=11, max_len=4)
    inp = torch.cat([p[0] for p in pieces]).tolist()
    tgt = torch.cat([p[1] for p in pieces]).tolist()
    assert inp == [10, 5, 6, 7, 8, 9] and tgt == [5, 6, 7, 8, 9, 11]
    assert [len(p[0]) for p in pieces] == [4, 2]
    assert pieces[1][0].tolist() == [8, 9]       # the second piece reads the true previous token


@pytest.mark.parametrize("max_len", [1, 3, 7])
def test_a_corpus_is_cut_as_each_line_on_its_own(max_len):
    """Built end to end in one go: every line's pieces, in order, as cutting ``<bos> ids`` and
    ``ids </s>`` line by line gives them (empty lines, lines shorter, as long as and longer than
    ``max_len``)."""
    rng = np.random.default_rng(max_len)
    lines = [rng.integers(4, 50, int(n)).tolist() for n in rng.integers(0, 12, 40)] + [[], [9] * (max_len - 1)]
    expected = [(inp[k:k + max_len], tgt[k:k + max_len]) for ids in lines
                for inp, tgt in [([2, *ids], [*ids, 3])] for k in range(0, len(ids) + 1, max_len)]
    got = corpus_pieces(lines, 2, 3, max_len)
    assert [(a.tolist(), b.tolist()) for a, b in got] == expected and {a.dtype for p in got for a in p} == {torch.long}
    assert corpus_pieces([], 2, 3, max_len) == []


def test_split_lines():
    tr, va = split_lines(20, 0.1, seed=0)
    assert len(va) == 2 and sorted([*tr, *va]) == list(range(20))
    assert split_lines(20, 0.1, seed=0)[1].tolist() == va.tolist()
    with pytest.raises(LstmkitError, match="1 line.*--val"):
        split_lines(1, 0.1, seed=0)
    # at least one line each side: 2 lines are one and one, whatever the share asked for
    for n, frac, held in ((2, 0.1, 1), (2, 0.9, 1), (10, 0.01, 1), (10, 0.95, 9), (10, 0.25, 2)):
        tr, va = split_lines(n, frac, seed=0)
        assert (len(tr), len(va)) == (n - held, held) and sorted([*tr, *va]) == list(range(n))


def test_read_corpus_takes_the_text_column_of_a_gzipped_table(tmp_path):
    import gzip

    import pandas as pd
    df = pd.DataFrame({"label": [1, 0, 1], "text": ["Great film.<br /><br />Loved it", "  ", "dull\nand long"]})
    path = tmp_path / "reviews.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        df.to_csv(f, index=False)
    c = read_corpus(path)                                       # column "text" by default; labels ignored
    assert c.lines == ["Great film.<br /><br />Loved it", "dull and long"] and c.report == {"read": 3, "blank": 1}
    tok = LMTokenizer("word", min_freq=1).fit(c.lines)
    assert tok.pieces(c.lines[0]) == ["great", "film", "loved", "it"]     # <br /> cleaned as classify does
    (tmp_path / "r.jsonl").write_text('{"review": "one line"}\n{"review": "two"}\n')
    assert read_corpus(tmp_path / "r.jsonl", text_column="review").lines == ["one line", "two"]
    with pytest.raises(LstmkitError, match="text column 'body' not found.*--text-column with one of: label, text"):
        read_corpus(path, text_column="body")
    (tmp_path / "plain.txt").write_text("a line\n")
    with pytest.raises(LstmkitError, match="--text-column 'text' needs a table"):
        read_corpus(tmp_path / "plain.txt", text_column="text")
    with gzip.open(tmp_path / "plain.txt.gz", "wt") as f:
        f.write("first\nsecond\n")
    assert read_corpus(tmp_path / "plain.txt.gz").lines == ["first", "second"]


def test_cap_tokens_keeps_a_seeded_share_of_about_that_many_words():
    from lstmkit.tasks.lm.data import Corpus, cap_tokens
    corpus = Corpus([f"w{i} " * 10 for i in range(100)], "x", {"read": 100, "blank": 0})
    assert cap_tokens(corpus, None, 0) is corpus and cap_tokens(corpus, 5000, 0) is corpus
    kept = cap_tokens(corpus, 205, 0)
    assert len(kept.lines) == 20 and kept.report["kept"] == 20
    assert kept.lines == sorted(kept.lines, key=corpus.lines.index)                  # original order
    assert kept.lines == cap_tokens(corpus, 205, 0).lines != cap_tokens(corpus, 205, 1).lines
    assert len(cap_tokens(corpus, 3, 0).lines) == 2          # fewer words than one line: 2 lines, to hold one out


def test_a_one_line_corpus_holds_out_its_end():
    """A book or text8 without line breaks is one line: its last val_frac is the validation text,
    cut at white space; a one-line corpus too short for that is still the error naming --val."""
    words = [f"w{i % 7}" for i in range(600)]
    train, held = split_corpus(read_corpus([" ".join(words)]), 0.1, seed=0)
    assert held.report["tail"] and len(train.lines) == len(held.lines) == 1
    assert train.lines[0].split() + held.lines[0].split() == words
    assert abs(len(held.lines[0]) / len(" ".join(words)) - 0.1) < 0.01
    head, tail = (c.lines[0] for c in split_corpus(read_corpus(["字" * 1000]), 0.2, seed=0))
    assert (len(head), len(tail)) == (800, 200)
    with pytest.raises(LstmkitError, match="1 line.*1,000 characters.*--val"):
        split_corpus(read_corpus(["a single sentence"]), 0.1, seed=0)
    lines = split_corpus(read_corpus(["a b", "c d", "e f"]), 0.1, seed=0)
    assert "tail" not in lines[1].report and sorted(lines[0].lines + lines[1].lines) == ["a b", "c d", "e f"]


def test_word_level_text_in_chinese_decodes_without_spaces():
    """The word tokenizer cuts Chinese one character each; joined back with spaces a sample read
    '他 们 看 猫'. Latin words keep their spaces, and a mix joins as written."""
    tok = LMTokenizer("word", min_freq=1).fit(["他们看猫", "我喜欢茶", "the cat sat", "我喜欢tea"])
    assert tok.decode(tok.encode("他们看猫")) == "他们看猫"
    assert tok.decode(tok.encode("the cat sat")) == "the cat sat"
    assert tok.decode(tok.encode("我喜欢tea")) == "我喜欢tea"


def test_read_corpus_takes_a_dataframes_text_column_not_its_column_names():
    """Iterated, a DataFrame gives its column names: fit read one line, 'text', and evaluate
    scored that word as if it were the data."""
    import pandas as pd
    frame = pd.DataFrame({"id": [1, 2, 3], "review": ["Good  film", None, "bad\nplot"]})
    corpus = read_corpus(frame, text_column="review")
    assert corpus.lines == ["Good film", "bad plot"] and corpus.report == {"read": 3, "blank": 1}
    with pytest.raises(LstmkitError, match="text column 'text' not found in the DataFrame — pass text_column"):
        read_corpus(frame)


def test_read_corpus_reads_a_pipe_and_refuses_a_device(tmp_path):
    """A pipe (``--data <(zcat corpus.gz)``, ``/dev/stdin``) was 'a folder, not a text file'; a
    device is refused by name rather than read (``/dev/zero`` never ends)."""
    import os
    import threading
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    writer = threading.Thread(target=lambda: pipe.write_text("ab cd\n\nef\n"))
    writer.start()
    corpus = read_corpus(pipe)
    writer.join()
    assert corpus.lines == ["ab cd", "ef"] and corpus.report == {"read": 3, "blank": 1}
    with pytest.raises(LstmkitError, match="/dev/zero is not a file but a device or socket — pass a text file"):
        read_corpus("/dev/zero")


def test_validation_lines_in_memory_are_named_as_validation():
    """fit(lines, val=[]) said 'the lines given hold no text', as if the training lines were empty."""
    import pandas as pd
    with pytest.raises(LstmkitError, match="^the validation lines given hold no text"):
        read_corpus(["  "], what="--val")
    with pytest.raises(LstmkitError, match="^line 2 of the validation text is an int, not a string"):
        read_corpus(["ab", 3], what="--val")
    with pytest.raises(LstmkitError, match="^the DataFrame given holds no text"):
        read_corpus(pd.DataFrame({"text": ["", None]}))
    with pytest.raises(LstmkitError, match="^the lines given hold no text"):
        read_corpus([""])


def test_read_corpus_takes_the_texts_of_fasttext_lines_and_class_index_csvs(tmp_path):
    """The labelled layouts public sets ship in give their texts, labels dropped (multi-label too)."""
    (tmp_path / "train.ft.txt").write_text("__label__2 Great CD\n\n__label__baking __label__bread Why does it not rise?\n")
    c = read_corpus(tmp_path / "train.ft.txt")
    assert c.lines == ["Great CD", "Why does it not rise?"]
    (tmp_path / "mixed.txt").write_text("__label__2 Great CD\nno label\n")
    with pytest.raises(LstmkitError, match="line 2 in .*mixed.txt has no __label__ label"):
        read_corpus(tmp_path / "mixed.txt")
    (tmp_path / "train.csv").write_text('"3","Wall St. Bears","Short-sellers\\nare back"\n"1","Talks","end"\n')
    with pytest.warns(UserWarning, match=r"class index \(ignored\) and 2 text fields"):
        assert read_corpus(tmp_path / "train.csv").lines == ["Wall St. Bears Short-sellers are back", "Talks end"]


def test_a_missing_line_of_a_pandas_column_is_named_missing_with_a_fix():
    """It was "line 2 of the text is a float, not a string" for pandas' NaN (a None in a text column)."""
    import pandas as pd
    for given, shown in ((pd.Series(["ab", None]), "NaN"), (pd.Series(["ab", None], dtype="string[pyarrow]"), "pd.NA"),
                         (["ab", None], "None")):
        with pytest.raises(LstmkitError, match=rf"^line 2 of the text is missing \({shown}\), not a string — drop the "
                                               r"missing lines \(pandas: s.dropna\(\)\), or fill them with ''"):
            read_corpus(given)
    assert read_corpus(pd.Series(["ab", None]).fillna("")).lines == ["ab"]      # the fix works: blank lines are skipped


def test_lines_in_pyarrow_arrays_and_tables_are_read_as_a_list_is():
    """They were 'line 1 of the text is a StringScalar, not a string' and 'cannot read text from a Table'."""
    import pyarrow as pa
    lines = ["ab", "cd"]
    for given in (pa.array(lines), pa.chunked_array([lines[:1], lines[1:]]), pa.table({"text": lines, "n": [1, 2]})):
        assert read_corpus(given).lines == lines, type(given).__name__


def test_a_dict_of_columns_is_told_to_become_a_dataframe():
    with pytest.raises(LstmkitError, match=r"^cannot read text from a dict — .*\(a dict of columns: pd.DataFrame\(d\)"):
        read_corpus({"text": ["ab", "cd"]})


def test_a_set_of_lines_is_refused_for_its_order_and_bytes_are_told_to_decode():
    """A set trained in the order string hashing gives it, which changes from one Python process to
    the next: the seeded split and batches differed between two runs of the same script. Bytes were
    'cannot read text from a bytes — pass a path … or a list of strings', which said nothing of decoding."""
    for given in ({"ab", "cd"}, frozenset({"ab", "cd"})):
        with pytest.raises(LstmkitError, match=r"^the text is a set, which has no order") as e:
            read_corpus(given)
        assert "sorted(texts)" in e.value.hint
    for given in (b"ab\ncd", [b"ab", b"cd"], bytearray(b"ab")):
        with pytest.raises(LstmkitError, match="bytes") as e:
            read_corpus(given)
        assert ".decode('utf-8')" in e.value.hint


@pytest.mark.parametrize("level", ["char", "word", "bpe"])
def test_html_references_are_decoded_and_a_state_from_before_reads_them_as_counted(level):
    """Web text: '&amp;' was the word 'amp' (the characters '&', 'a', 'm', 'p', ';'); now it is '&'."""
    from lstmkit.tasks.lm.stream import encode_piece
    lines = ["rock &amp; roll caf&eacute;<p>it&#39;s fine</p>", "a caf&eacute; &amp; a bar"] * 5
    tok = LMTokenizer(level, min_freq=1, max_size=200).fit(lines)
    assert tok.to_dict()["base"]["html"] == 2
    text = "".join(tok.pieces("caf&eacute; &amp;")).replace("▁", " ")
    assert "é" in text and "amp" not in text and ";" not in text
    old_state = tok.to_dict()
    del old_state["base"]["html"]
    old = LMTokenizer.from_dict(old_state)
    assert "amp" in "".join(old.pieces("caf&eacute; &amp;"))
    if level == "char":         # a stream's message is read as the model's lines were
        assert encode_piece(tok, "&amp;") == [tok.token_id("&")]
        assert len(encode_piece(old, "&amp;")) == 5


def test_bpe_reads_special_tokens_written_in_a_line_as_text():
    # '<pad>' in a line was the padding id (never predicted, dropped from the decoded text)
    pytest.importorskip("tokenizers")
    tok = LMTokenizer("bpe", min_freq=1, max_size=80).fit(["the pad and unk of a line x < y > z"] * 5)
    again = LMTokenizer.from_dict(tok.to_dict())
    for text in ("the <pad> line", "a <unk> line"):
        ids = tok.encode(text)
        assert PAD_ID not in ids and UNK_ID not in ids, (text, tok.pieces(text))
        assert again.encode(text) == ids
        assert tok.decode(ids) == text


@pytest.mark.parametrize("edit", [{"level": "xx"}, {"level": "char"}])
def test_a_state_whose_level_is_not_its_tokenizers_is_refused(edit):
    # 'unknown level … use char, word or bpe' asked the user to choose; a word base under 'char' read as words
    state = LMTokenizer("word", min_freq=1).fit(["the cat sat", "the dog ran"]).to_dict()
    with pytest.raises(LstmkitError, match=f"vocabulary state has level '{edit['level']}' over a tokenizer of kind 'word'"):
        LMTokenizer.from_dict({**state, **edit})


def test_a_bpe_line_reads_a_tab_or_line_break_as_the_space_it_stands_for():
    # Metaspace marks only ' ': 'dog\tsits' was 'dog', '<unk>', 'si', 't', 's', scored as text never trained on
    pytest.importorskip("tokenizers")
    tok = LMTokenizer("bpe", min_freq=1, max_size=80).fit(["the dog sits", "the cat sits"] * 5)
    want = tok.encode("the dog sits")
    for text in ("the dog\tsits", "the dog\r\nsits", "the  dog sits ", " the dog\u00a0sits"):
        assert tok.encode(text) == want, tok.pieces(text)
    assert LMTokenizer.from_dict(tok.to_dict()).encode("the dog\tsits") == want
    assert tok.decode(want) == "the dog sits"


@pytest.mark.parametrize("held, shared", [(["a", "b", "x"], 2), (["a", "b", "c"], 3), (["a", "x", "y", "z"], None),
                                          (["a", "b", "x", "y"], None), (["x"], None)])
def test_a_warning_only_when_more_than_half_the_held_out_lines_are_training_lines(held, shared):
    """2 of 3 and 3 of 3 are most of them; 1 of 4 is not, nor 2 of 4 (half, not more)."""
    import warnings
    from lstmkit.tasks.lm.data import warn_shared_lines
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_shared_lines(["a", "b", "c"], held, "validation", "")
    said = [str(w.message) for w in caught]
    assert said == ([] if shared is None else
                    [f"{shared} of the {len(held)} validation lines are training lines too: the validation "
                     "perplexity flatters the model"])
