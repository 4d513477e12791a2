"""Reading pairs, cleaning, tokenisation per side, detokenisation."""
import copy
import json
import pickle
import unicodedata
import warnings

import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.translate.data import (BOS_ID, EOS_ID, PAD_ID, UNK_ID, SideTokenizer, clean_pairs, detokenize,
                                          pair_table,
                                          read_pairs, split_pairs, written_without_spaces)


def test_read_aligned_files_ignores_a_trailing_empty_line(tmp_path):
    (tmp_path / "a.en").write_text("a dog.\nthe cat.\n\n")
    (tmp_path / "a.de").write_text("ein Hund.\nder Katze.\n")
    p = read_pairs(src_file=tmp_path / "a.en", tgt_file=tmp_path / "a.de")
    assert p.src == ["a dog.", "the cat."] and p.tgt == ["ein Hund.", "der Katze."]


def test_read_table_columns_and_missing_column(tmp_path):
    f = tmp_path / "p.tsv"
    f.write_text('en\tde\na "dog"\tein Hund\nthe cat\tdie Katze\n')
    p = read_pairs(f, src="en", tgt="de")
    assert p.src == ['a "dog"', "the cat"] and p.tgt == ["ein Hund", "die Katze"]
    with pytest.raises(LstmkitError, match="column 'fr' not found"):
        read_pairs(f, src="en", tgt="fr")


def test_empty_sides_are_counted_or_dropped():
    data = [("a", "b"), ("", "c"), ("d", "  "), ("e", "f")]
    with pytest.raises(LstmkitError, match="2 pair"):
        read_pairs(data)
    p = read_pairs(data, drop_empty=True)
    assert p.src == ["a", "e"] and p.report == {"read": 4, "empty": 2}


def test_clean_pairs_filters_length_and_reports_duplicates():
    p = read_pairs([("a b", "x"), ("a b", "x"), ("a b c d", "y"), ("c", "z")])
    lens = [len(s.split()) for s in p.src]
    out, kept = clean_pairs(p, lens, [1] * 4, max_len=3, dedup=True)
    assert out.src == ["a b", "c"] and kept == [0, 3] and out.report["too_long"] == 1 and out.report["duplicates"] == 1
    assert clean_pairs(p, lens, [1, 1, 1, 4], max_len=3, dedup=False)[1] == [0, 1]     # a long target drops its pair


def test_clean_pairs_keeps_a_side_of_exactly_max_len_tokens():
    """``max_len`` is the most tokens a side may have: a side of exactly ``max_len`` is kept, one more is
    dropped, on either side of the pair."""
    p = read_pairs([("a b c", "x"), ("a", "x y z"), ("a b c d", "x"), ("a", "w x y z")])
    out, kept = clean_pairs(p, [3, 1, 4, 1], [1, 3, 1, 4], max_len=3, dedup=False)
    assert kept == [0, 1] and out.report["too_long"] == 2 and out.report["kept"] == 2


def test_split_is_seeded_and_disjoint():
    tr, va = split_pairs(100, 0.1, seed=3)
    assert len(va) == 10 and set(tr).isdisjoint(va) and len(tr) + len(va) == 100
    assert (split_pairs(100, 0.1, seed=3)[1] == va).all()


def test_split_holds_out_at_least_one_pair_and_leaves_at_least_one_for_training():
    """Two pairs are enough, one a side; a share that rounds to every pair (or to none) still leaves
    one pair on the other side; one pair is refused."""
    assert [len(part) for part in split_pairs(2, 0.1, seed=0)] == [1, 1]
    assert [len(part) for part in split_pairs(5, 0.99, seed=0)] == [1, 4]       # round(4.95) = 5 of 5
    assert [len(part) for part in split_pairs(5, 0.01, seed=0)] == [4, 1]       # round(0.05) = 0
    with pytest.raises(LstmkitError, match="1 sentence pair is too few"):
        split_pairs(1, 0.5, seed=0)


@pytest.mark.parametrize("kind", ["word", "bpe"])
def test_tokenizer_round_trip_and_specials(kind):
    texts = ["A dog runs in the park.", "Two dogs (big ones) sit, don't they?"] * 5
    tok = SideTokenizer(kind, min_freq=1, max_size=200).fit(texts)
    ids = tok.encode(texts[1])
    assert min(ids) > EOS_ID                  # no special in ordinary text
    assert tok.decode(ids + [EOS_ID, 7, 8]) == texts[1]
    assert tok.decode([BOS_ID] + ids + [PAD_ID]) == texts[1]
    again = SideTokenizer.from_dict(tok.to_dict())
    assert again.encode(texts[0]) == tok.encode(texts[0])
    assert (PAD_ID, UNK_ID) == (0, 1)


@pytest.mark.parametrize("min_freq, max_size, words", [
    (1, 6, ["the", "cat"]),                 # 4 specials + the 2 commonest words
    (1, 7, ["the", "cat", "a"]),            # 'a' and 'dog' once each: the tie goes by spelling
    (2, None, ["the", "cat"]),              # words seen at least twice, no cap
    (3, None, ["the"]),
])
def test_a_word_vocabulary_keeps_the_commonest_words_up_to_max_size_specials_included(min_freq, max_size, words):
    """``max_size`` caps the vocabulary with the 4 specials counted; ``min_freq`` keeps the words seen
    at least that often; the commonest first."""
    tok = SideTokenizer("word", min_freq=min_freq, max_size=max_size).fit(["the cat", "the dog", "the cat a"])
    assert tok.vocab.itos == ["<pad>", "<unk>", "<bos>", "<eos>", *words]
    assert tok.vocab_size == 4 + len(words)


def test_empty_vocabulary_is_an_error():
    with pytest.raises(LstmkitError, match="vocabulary is empty"):
        SideTokenizer("word", min_freq=5).fit(["a b", "c d"])


def test_detokenize_punctuation():
    assert detokenize(["Hello", ",", "world", "(", "yes", ")", "!"]) == "Hello, world (yes)!"


def test_a_mark_inside_a_word_or_number_is_a_joiner_and_decodes_without_spaces():
    """'T-shirt', '3.50', '10:30', 'km/h' were cut as separate marks and decoded 'T - shirt', '3. 50',
    '10: 30', 'km / h': sacrebleu's 13a keeps a hyphen or a decimal point inside its word, so a
    perfect translation of 'A man in a T-shirt.' scored BLEU 42 and Multi30k's test2016 references,
    decoded, scored 98.4 (en), 97.2 (de), 95.6 (fr) against themselves."""
    import sacrebleu
    texts = ["A well-known man wears a T-shirt.", "It costs 3.50 dollars, or 1,000 yen at 10:30.",
             "Die 2-jährige Frau läuft 5 km/h.", "Qui est-ce? C'est l'homme.", "हिन्दी-भाषा में", "他们-我们。",
             'He said "hello" to the U.S. team.']
    tok = SideTokenizer("word", min_freq=1).fit(texts)
    assert tok.pieces("a T-shirt at 3.50") == ["a", "T", "@-@", "shirt", "at", "3", "@.@", "50"]
    assert tok.pieces("C'est l'homme - ici") == ["C'est", "l'homme", "-", "ici"]     # apostrophes in the word; '-' alone
    for t in texts:
        out = tok.decode(tok.encode(t))
        assert out == t and round(sacrebleu.sentence_bleu(out, [t]).score, 2) == 100.0
    again = SideTokenizer.from_dict(tok.to_dict())
    assert again.joined and again.encode(texts[0]) == tok.encode(texts[0])
    # a vocabulary saved before (no 'joined' in its state) was counted on the marks cut apart
    old = SideTokenizer.from_dict({k: v for k, v in tok.to_dict().items() if k != "joined"})
    assert not old.joined and old.pieces("T-shirt") == ["T", "-", "shirt"]
    with pytest.raises(LstmkitError, match="joined"):
        SideTokenizer.from_dict({**tok.to_dict(), "joined": "yes"})


def test_straight_double_quotes_open_and_close_without_inner_spaces():
    assert detokenize(["He", "said", '"', "hello", '"', "to", '"', "you", '"', "."]) == 'He said "hello" to "you".'
    assert detokenize(["a", "@-@", "@-@", "b", "@-@"]) == "a--b-"


def test_a_tsv_without_a_header_is_read_as_pairs_and_said_so(tmp_path):
    """Tatoeba's pair files: source<TAB>target<TAB>attribution per line, no header line."""
    f = tmp_path / "fra.txt"
    f.write_text("Go.\tVa !\tCC-BY 2.0 #1\nI won!\tJ'ai gagné !\tCC-BY 2.0 #2\nRun.\tCours !\tCC-BY 2.0 #3\n")
    with pytest.warns(UserWarning, match="no src/tgt header.*1 more field"):
        p = read_pairs(f)
    assert p.src == ["Go.", "I won!", "Run."] and p.tgt == ["Va !", "J'ai gagné !", "Cours !"]
    # the table a resume compares: the pairs read (the attribution left out), its warning not said again
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = pair_table(f)
    assert list(table.columns) == ["src", "tgt"] and table["tgt"].tolist() == p.tgt and p.tables["data"] is not None
    f.write_text("Go.\tVa !\nI won!\t \nRun.\tCours !\n")                 # line 2 has an empty side
    with pytest.warns(UserWarning), pytest.raises(LstmkitError, match="first at line 2"):
        read_pairs(f)
    f.write_text("Go.\tVa !\nI won!\nRun.\tCours !\n")
    with pytest.raises(LstmkitError, match="line 2 of .* has no tab"):
        read_pairs(f)


def test_a_csv_without_a_header_is_read_as_pairs_and_said_so(tmp_path):
    """A two-column CSV whose first line is a pair: its first pair was read as column names ('pass --src
    a dog --tgt un chien'); now each line a pair, quoted cells by CSV rules, said in one warning."""
    f = tmp_path / "pairs.csv"
    f.write_text('a dog,un chien\n"Hello, you",Bonjour toi\nthe red car,la voiture rouge\n')
    with pytest.warns(UserWarning, match="no src,tgt header"):
        p = read_pairs(f)
    assert p.src == ["a dog", "Hello, you", "the red car"] and p.tgt == ["un chien", "Bonjour toi", "la voiture rouge"]
    f.write_text("a dog,un chien\nthe cat, \nthe red car,la voiture rouge\n")       # line 2's target is empty
    with pytest.warns(UserWarning), pytest.raises(LstmkitError, match="first at line 2"):
        read_pairs(f)
    f.write_text("english,french\nGo.,Va !\n")                     # a header of names stays one
    with pytest.raises(LstmkitError, match="--src and --tgt"):
        read_pairs(f)


def test_a_header_of_column_names_is_never_read_as_a_pair(tmp_path):
    f = tmp_path / "p.tsv"
    f.write_text("english\tfrench\nGo.\tVa !\n")
    with pytest.raises(LstmkitError, match="column 'src' not found .* one of: english, french"):
        read_pairs(f)
    f.write_text("src\ttgt\nGo.\tVa !\nRun.\t\n")              # a headed table counts the header line too
    with pytest.raises(LstmkitError, match="first at line 3"):
        read_pairs(f)


def test_tables_are_read_as_forecast_and_classify_read_theirs(tmp_path):
    """A spreadsheet's semicolon CSV, Excel's UTF-16 "Unicode text", a tab file named .csv, a
    gzipped TSV and JSON Lines all read; quotes inside a TSV's sentences stay text."""
    import gzip
    import json
    want = (['He said "go".', "Run."], ["Er sagte „geh“.", "Lauf."])
    files = {"semi.csv": 'en;de\n"He said ""go"".";Er sagte „geh“.\nRun.;Lauf.\n'.encode(),
             "excel.tsv": 'en\tde\r\nHe said "go".\tEr sagte „geh“.\r\nRun.\tLauf.\r\n'.encode("utf-16"),
             "tab.csv": 'en\tde\nHe said "go".\tEr sagte „geh“.\nRun.\tLauf.\n'.encode(),
             "pairs.tsv.gz": gzip.compress('en\tde\nHe said "go".\tEr sagte „geh“.\nRun.\tLauf.\n'.encode()),
             "pairs.jsonl": "".join(json.dumps({"en": a, "de": b}) + "\n" for a, b in zip(*want)).encode()}
    for name, raw in files.items():
        (tmp_path / name).write_bytes(raw)
        p = read_pairs(tmp_path / name, src="en", tgt="de")
        assert (p.src, p.tgt) == want, name


def test_a_tsv_of_pairs_is_read_quoted_or_not_as_it_was_written(tmp_path):
    """A quoted export's pairs (a line break in a cell, quote marks doubled) were read line by line:
    '2 pair(s) have an empty side'; an unquoted one keeps its quote marks, one pair per line."""
    import pandas as pd
    pairs = pd.DataFrame({"src": ["two\nlines", 'he said "hi"', "Run."], "tgt": ["deux\nlignes", 'il a dit "salut"',
                                                                                  "Cours."]})
    pairs.to_csv(tmp_path / "quoted.tsv", sep="\t", index=False)
    p = read_pairs(tmp_path / "quoted.tsv")
    assert (p.src, p.tgt) == (pairs["src"].tolist(), pairs["tgt"].tolist())
    (tmp_path / "plain.tsv").write_text('src\ttgt\n"Hello!\t"Bonjour !"\nOK.\tD\'accord.\n"Bye"\tSalut"\n')
    p = read_pairs(tmp_path / "plain.tsv")
    assert (p.src, p.tgt) == (['"Hello!', "OK.", '"Bye"'], ['"Bonjour !"', "D'accord.", 'Salut"'])


def test_a_wrong_column_gets_a_did_you_mean_hint(tmp_path):
    import pandas as pd
    f = tmp_path / "p.csv"
    f.write_text("English;German\nGo.;Geh.\n")
    with pytest.raises(LstmkitError, match=r"source column 'english' not found in .*p.csv \(did you mean 'English'\?\)"
                                           r".*--src with one of: English, German"):
        read_pairs(f, src="english", tgt="German")
    with pytest.raises(LstmkitError, match=r"target column 'Germna' not found in the DataFrame \(did you mean 'German'"):
        read_pairs(pd.DataFrame({"English": ["Go."], "German": ["Geh."]}), src="English", tgt="Germna")


def test_an_empty_cell_of_a_dataframe_is_an_empty_side_not_the_word_nan():
    import pandas as pd
    df = pd.DataFrame({"src": ["Go.", "Run."], "tgt": ["Geh.", None]})
    with pytest.raises(LstmkitError, match="1 pair\\(s\\) have an empty side \\(first at row 2\\)"):
        read_pairs(df)
    assert read_pairs(df, drop_empty=True).tgt == ["Geh."]


def test_a_missing_side_of_a_list_of_pairs_is_empty_not_the_word_none():
    """(source, None) trained on the target sentence 'None' without a word, as a DataFrame's NaN once did."""
    pairs = [("Go.", "Geh."), ("Run.", None), ("Stop.", float("nan")), ("Wait.", "Warte.")]
    with pytest.raises(LstmkitError, match="2 pair\\(s\\) have an empty side \\(first at row 2\\)"):
        read_pairs(pairs)
    assert read_pairs(pairs, drop_empty=True).tgt == ["Geh.", "Warte."]
    assert read_pairs(iter([("Go.", "Geh.")])).tgt == ["Geh."]          # a generator is read once


def test_tatoebas_numbered_export_reads_the_sentences_not_the_ids(tmp_path):
    """Tatoeba's "sentence pairs" download: id<TAB>sentence<TAB>id<TAB>sentence, no header."""
    f = tmp_path / "Sentence pairs in English-French.tsv"
    f.write_text("1276\tLet's try something.\t6121\tEssayons quelque chose !\n"
                 "1277\tI have to go to sleep.\t6122\tJe dois aller dormir.\n\n"
                 "1280\tToday is June 18th.\t6123\tNous sommes le 18 juin.\n")
    with pytest.warns(UserWarning, match="Tatoeba"):
        p = read_pairs(f, drop_empty=True)
    assert p.src == ["Let's try something.", "I have to go to sleep.", "Today is June 18th."]
    assert p.tgt == ["Essayons quelque chose !", "Je dois aller dormir.", "Nous sommes le 18 juin."]
    assert p.report["empty"] == 1


def test_four_fields_are_tatoebas_numbered_export_only_where_every_line_is_number_text_number_text(tmp_path):
    """Lines of four fields whose first and third are not numbers (attribution fields), or a file where
    only some lines are numbered, are pairs in their first two fields, the rest left out and said."""
    attributed = tmp_path / "attributed.txt"
    attributed.write_text("Go.\tVa !\tCC-BY 2.0\t#1\nRun.\tCours !\tCC-BY 2.0\t#3\n")
    mixed = tmp_path / "mixed.txt"
    mixed.write_text("1\tGo.\t2\tVa !\nRun.\tCours !\tCC-BY 2.0\t#3\n")
    for f, src, tgt in ((attributed, ["Go.", "Run."], ["Va !", "Cours !"]),
                        (mixed, ["1", "Run."], ["Go.", "Cours !"])):
        with pytest.warns(UserWarning, match="no src/tgt header.*2 more field") as said:
            p = read_pairs(f)
        assert (p.src, p.tgt) == (src, tgt) and not any("Tatoeba" in str(w.message) for w in said)


def test_scripts_without_spaces_are_cut_into_characters_and_joined_back():
    """A Chinese, Japanese or Thai sentence is one "word" between spaces: the word tokenizer cuts
    it into characters (else each sentence is one token), and decoding writes it without spaces."""
    texts = ["他们看猫。", "我喜欢iPhone和茶。", "わたしはねこです。", "ฉันชอบแมว", "He said: don't."] * 2
    tok = SideTokenizer("word", min_freq=1).fit(texts)
    assert tok.pieces("他们看猫。") == ["他", "们", "看", "猫", "。"]
    assert tok.pieces("我喜欢iPhone和茶。")[3:5] == ["iPhone", "和"]
    assert written_without_spaces(texts) and len(tok.pieces("ฉันชอบแมว")) == len("ฉันชอบแมว")
    for t in texts:
        assert tok.decode(tok.encode(t)) == t
    latin = SideTokenizer("word", min_freq=1).fit(["a dog runs.", "the cat."])
    assert not written_without_spaces(["a dog runs."]) and latin.pieces("don't go") == ["don't", "go"]
    again = SideTokenizer.from_dict(tok.to_dict())
    assert again.char_split and again.encode(texts[0]) == tok.encode(texts[0])


def test_a_vocabulary_saved_before_character_splitting_keeps_its_tokens():
    state = {"kind": "word", "min_freq": 1, "max_size": None, "lowercase": False,
             "itos": ["<pad>", "<unk>", "<bos>", "<eos>", "他们看猫", "。"]}
    old = SideTokenizer.from_dict(state)
    assert old.encode("他们看猫。") == [4, 5] and not old.char_split
    assert old.decode([4, 5]) == "他们看猫。"


@pytest.mark.parametrize("char_split", [True, False])
def test_a_words_combining_marks_stay_in_it_and_decoding_writes_it_back(char_split):
    """Python's \\w leaves combining marks out: 'हिन्दी' was six tokens ('ह', 'ि', 'न', '्', 'द', 'ी')
    and its decoding 'ह ि न ् द ी'; Hebrew's points and Arabic's harakat likewise. Every
    translation into Hindi, Tamil, pointed Hebrew or vocalised Arabic came out with spaces inside
    its words (and BLEU scored that). A decomposed accent (NFD) is the composed one (NFC)."""
    texts = ["हिन्दी में नमस्ते", "வணக்கம் உலகம்", "שָׁלוֹם עוֹלָם", "مَرْحَبًا بِالْعَالَمِ", "Tiếng Việt, don't!", "café"]
    tok = SideTokenizer("word", min_freq=1, char_split=char_split).fit(texts)
    assert tok.pieces("हिन्दी में नमस्ते") == ["हिन्दी", "में", "नमस्ते"]
    assert tok.pieces("שָׁלוֹם עוֹלָם") == ["שָׁלוֹם", "עוֹלָם"] and tok.pieces("don't!") == ["don't", "!"]
    for t in texts:
        assert tok.decode(tok.encode(t)) == t
    assert tok.encode(unicodedata.normalize("NFD", "café")) == tok.encode("café") != [UNK_ID]
    again = SideTokenizer.from_dict(tok.to_dict())
    assert again.marks and again.encode(texts[0]) == tok.encode(texts[0]) != [UNK_ID] * 3
    # a vocabulary saved before (no 'marks' in its state) was counted on the pieces cut at the marks
    old = SideTokenizer.from_dict({k: v for k, v in tok.to_dict().items() if k != "marks"})
    assert not old.marks and old.pieces("हिन्दी") == ["ह", "ि", "न", "्", "द", "ी"]


def test_every_target_the_same_as_its_source_is_said(tmp_path):
    """--src-file a.en --tgt-file a.en trained a copier without a word."""
    (tmp_path / "a.en").write_text("the dog runs\na cat sits\n")
    with pytest.warns(UserWarning, match=r"every target in .*a\.en / .*a\.en is the same as its source \(2 pairs\): "
                                         r"the model learns to copy"):
        read_pairs(src_file=tmp_path / "a.en", tgt_file=tmp_path / "a.en")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_pairs([("the dog runs", "the dog runs"), ("a cat sits", "eine Katze sitzt")])     # one alike: fine


def test_a_pairs_csv_with_excels_sep_line(tmp_path):
    f = tmp_path / "pairs.csv"
    f.write_text("sep=;\nsrc;tgt\nHello, you.;Hallo, du.\nGo.;Geh.\n")
    assert read_pairs(f).tgt == ["Hallo, du.", "Geh."]


def _pipe(tmp_path, name: str, text: str):
    """A named pipe at ``tmp_path / name`` and the thread writing ``text`` into it."""
    import os
    import threading
    pipe = tmp_path / name
    os.mkfifo(pipe)
    writer = threading.Thread(target=lambda: pipe.write_text(text), daemon=True)    # no hang if it is never read
    writer.start()
    return pipe, writer


def test_pipes_read_as_files_and_a_device_is_refused(tmp_path):
    """``--data <(cat pairs.tsv)``, ``/dev/stdin`` and ``--src-file <(…)`` were 'file not found';
    a device is refused by name rather than read (``/dev/zero`` never ends)."""
    table, writer = _pipe(tmp_path, "table", "src\ttgt\na dog\tein Hund\nthe cat\tdie Katze\n")
    p = read_pairs(table)
    writer.join()
    assert p.src == ["a dog", "the cat"] and p.tgt == ["ein Hund", "die Katze"]
    src, w1 = _pipe(tmp_path, "src", "a dog\nthe cat\n")
    tgt, w2 = _pipe(tmp_path, "tgt", "ein Hund\ndie Katze\n")
    p = read_pairs(src_file=src, tgt_file=tgt)
    w1.join(), w2.join()
    assert p.src == ["a dog", "the cat"] and p.tgt == ["ein Hund", "die Katze"]
    with pytest.raises(LstmkitError, match="/dev/zero is not a file but a device or socket — pass a CSV/TSV"):
        read_pairs("/dev/zero")
    with pytest.raises(LstmkitError, match="/dev/zero is not a file but a device or socket — pass a text file"):
        read_pairs(src_file="/dev/zero", tgt_file=tgt)


def test_a_side_in_two_columns_of_one_name_is_refused():
    import pandas as pd
    df = pd.DataFrame([["a", "b", "c"]], columns=["src", "tgt", "tgt"])
    with pytest.raises(LstmkitError, match="2 columns in the DataFrame are named 'tgt'"):
        read_pairs(df)


def test_a_side_of_bytes_is_refused_not_trained_as_its_repr():
    with pytest.raises(LstmkitError, match=r"bytes \(b'ein Hund'\), not text"):
        read_pairs([("a dog", b"ein Hund"), ("the cat", "die Katze")])


@pytest.mark.parametrize("min_freq, max_size", [(1, None), (2, 9)])
def test_a_word_tokenizer_fitted_on_pieces_is_the_one_fitted_on_the_texts(min_freq, max_size):
    """``fit_pieces`` takes the texts already cut (the estimator cuts each training sentence once):
    the same vocabulary as ``fit(texts)``, the same ids as ``encode`` of each text."""
    import numpy as np
    rng = np.random.default_rng(1)
    words = ["A", "dog", "runs", ".", "don't", "café", "我们", "ไป", ",", "Hund", "l'eau"]
    texts = [" ".join(rng.choice(words, int(rng.integers(1, 10)))) for _ in range(300)]
    before = SideTokenizer("word", min_freq, max_size).fit(texts)
    pieces = [SideTokenizer("word").pieces(t) for t in texts]
    after = SideTokenizer("word", min_freq, max_size).fit_pieces(pieces)
    assert after.to_dict() == before.to_dict()
    assert [after.vocab.encode(p) for p in pieces] == [before.encode(t) for t in texts]
    with pytest.raises(LstmkitError, match="the vocabulary is empty"):
        SideTokenizer("word", min_freq=500).fit_pieces(pieces)


def test_a_form_feed_or_line_separator_inside_a_sentence_keeps_the_files_aligned(tmp_path):
    """'a.en has 4 lines but a.de has 3': a page break (pdftotext's form feed), U+2028 or U+0085
    (cp1252's '…' read as latin-1) inside a sentence ended a line; an old Mac file's CR ends one."""
    (tmp_path / "a.en").write_text("a dog\x0cruns\nthe cat\u2028sits\nwait\x85 what\n", encoding="utf-8")
    (tmp_path / "a.de").write_bytes("ein Hund läuft\rdie Katze sitzt\rwarte, was\r".encode())
    p = read_pairs(src_file=tmp_path / "a.en", tgt_file=tmp_path / "a.de")
    assert p.src == ["a dog\x0cruns", "the cat\u2028sits", "wait\x85 what"]
    assert p.tgt == ["ein Hund läuft", "die Katze sitzt", "warte, was"]


def test_a_translation_is_one_line_whatever_line_breaks_its_training_targets_held(tmp_path):
    """A CSV cell of two lines (a spreadsheet's Alt+Enter) is read as it is: a BPE target learnt
    its line break inside a token ('▁Hund\nläuft.') and wrote it inside a translation, so `translate
    run` wrote two output lines for one input line and every later line was misaligned."""
    f = tmp_path / "pairs.csv"
    f.write_text('src,tgt\n"the dog\nruns.","der Hund\r\nläuft."\nthe cat sits.,"die Katze\u2028sitzt."\n')
    pairs = read_pairs(f)
    assert pairs.tgt == ["der Hund\r\nläuft.", "die Katze\u2028sitzt."]           # read as written
    bpe = SideTokenizer("bpe", min_freq=1, max_size=60).fit(pairs.tgt * 3)     # a line break read as a space
    before = SideTokenizer("bpe", min_freq=1, max_size=60, spaces=False).fit(pairs.tgt * 3)  # a state saved before
    for text, one in zip(pairs.tgt, ["der Hund läuft.", "die Katze sitzt."]):
        ids = bpe.encode(text)
        assert not any("\n" in p or "\u2028" in p for p in bpe.id_to_piece(ids)) and bpe.decode(ids) == one
        ids = before.encode(text)
        assert any("\n" in p or "\u2028" in p for p in before.id_to_piece(ids)) and before.decode(ids) == one


def test_sources_and_targets_given_as_two_columns_are_paired_row_by_row():
    """``(sources, targets)``: two lists of two sentences were read as two pairs, (source, source) and
    (target, target), training on a wrong 'translation' without a word; longer ones were an error
    calling them 'not pairs'. Two columns of different lengths name both lengths."""
    import numpy as np
    import pandas as pd
    src, tgt = ["Go.", "Run."], ["Geh.", "Lauf."]
    for given in ((src, tgt), (pd.Series(src), pd.Series(tgt, index=[7, 3])), (np.array(src), tgt)):
        pairs = read_pairs(given)
        assert (pairs.src, pairs.tgt) == (src, tgt)
    assert read_pairs((("Go.", "Geh."), ("Run.", "Lauf."))).tgt == tgt          # a tuple of pairs stays pairs
    with pytest.raises(LstmkitError, match="got 3 source sentences but 2 targets"):
        read_pairs((pd.Series([*src, "Stop."]), pd.Series(tgt)))
    with pytest.raises(LstmkitError, match=r"1 pair\(s\) have an empty side \(first at row 2\)"):
        read_pairs((pd.Series(src), pd.Series(["Geh.", None])))


def test_what_is_not_pairs_is_named_with_its_type():
    with pytest.raises(LstmkitError, match=r"not a dict — .*list\(d.items\(\)\).*pd.DataFrame\(d\)"):
        read_pairs({"Go.": "Geh."})
    with pytest.raises(LstmkitError, match="not a list of strs \\('Go.', …\\)"):
        read_pairs(["Go.", "Run!"])
    with pytest.raises(LstmkitError, match="^the pairs hold no sentence pairs"):
        read_pairs([])


def test_a_string_or_a_dict_among_pairs_is_not_unpacked_into_a_pair():
    """A sentence of two characters unpacked as a pair: ['你好', '谢谢'] trained the 'translations'
    你 → 好 and 谢 → 谢 without a word, as did a two-character string among pairs, and a dict of two
    keys gave its keys."""
    with pytest.raises(LstmkitError, match=r"not a list of strs \('你好', …\)"):
        read_pairs(["你好", "谢谢", "再见"])
    with pytest.raises(LstmkitError, match=r"^item 2 of the pairs is a str \('hi'\), not a \(source, target\) pair — "):
        read_pairs([("a cat", "un chat"), "hi"])
    with pytest.raises(LstmkitError, match=r"^item 1 of the pairs is a dict \(.*\), not a \(source, target\) pair"):
        read_pairs([{"a cat": 1, "x": 2}, ("a", "b")])
    assert read_pairs(iter([["Go.", "Geh."], ("Run.", "Lauf.")])).tgt == ["Geh.", "Lauf."]      # lists and tuples


def test_sentences_in_memory_given_as_files_name_the_keyword_to_use():
    """``src_file=a_series`` was a bare TypeError from pathlib."""
    import pandas as pd
    with pytest.raises(LstmkitError, match=r"src_file is a Series, not a file's path — pass sentences in memory "
                                           r"as data=\(sources, targets\)"):
        read_pairs(src_file=pd.Series(["Go."]), tgt_file=pd.Series(["Geh."]))
    with pytest.raises(LstmkitError, match="ref_file is a list"):
        read_pairs(src_file="a.txt", tgt_file=["Geh."], flags=("--data", "--src-file", "--ref-file"))


def test_pairs_in_a_pyarrow_table_or_two_pyarrow_arrays():
    """A pyarrow Table was read as a DataFrame whose column names are its Arrow arrays ('its first
    line reads as data'); two pyarrow arrays were 'not pairs'."""
    import pyarrow as pa
    src, tgt = ["Go.", "Run."], ["Geh.", "Lauf."]
    for given in (pa.table({"src": src, "tgt": tgt, "id": [1, 2]}), (pa.array(src), pa.chunked_array([tgt]))):
        pairs = read_pairs(given)
        assert (pairs.src, pairs.tgt) == (src, tgt)


@pytest.mark.parametrize("kind", ["word", "bpe"])
def test_html_character_references_are_decoded_on_both_sides_and_an_old_state_keeps_them(kind):
    """IWSLT/TED-style corpora ship '&amp;', '&#39;', '&quot;' escaped: the word tokenizer cut '&amp;'
    into '&', 'amp', ';' (and decoded it back as '& amp;'), BPE learnt 'amp' pieces."""
    texts = ["Tom &amp; Jerry don&#39;t run.", "She said &quot;hello&quot; &amp; left.", "A &lt;b&gt; tag."] * 4
    tok = SideTokenizer(kind, min_freq=1, max_size=200).fit(texts)
    pieces = {p for t in texts for p in tok.pieces(t)}
    assert not any(w in p for p in pieces for w in ("amp", "quot", "#39", "&lt"))
    assert tok.decode(tok.encode(texts[0])) == "Tom & Jerry don't run."
    assert tok.encode("Tom & Jerry") == tok.encode("Tom &amp; Jerry")
    assert tok.to_dict()["html"] is True and SideTokenizer.from_dict(tok.to_dict()).encode(texts[1]) == tok.encode(texts[1])
    assert tok.unescape("a &amp; b &#39;c&#39;") == "a & b 'c'"
    # a state saved before (no 'html') reads the references as its vocabulary was counted
    old = SideTokenizer.from_dict({k: v for k, v in tok.to_dict().items() if k != "html"})
    assert not old.html and old.unescape("a &amp; b") == "a &amp; b"
    if kind == "word":
        assert old.pieces("Tom &amp; Jerry") == ["Tom", "&", "amp", ";", "Jerry"]


def test_hugging_face_translation_records_read_by_their_languages(tmp_path):
    """{"translation": {"en": …, "fr": …}}, as a Hugging Face translation set exports to JSON lines or
    Parquet (a struct column) or hands over as to_pandas(): 'source column 'en' not found — pass --src
    with one of: id, translation'."""
    import json
    import pandas as pd
    from lstmkit.errors import ColumnNotFound
    rows = [{"id": "0", "translation": {"fr": "Va !", "en": "Go."}},
            {"id": "1", "translation": {"en": "Hi.", "fr": "Salut !"}}]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    pd.DataFrame(rows).to_parquet(tmp_path / "train.parquet")
    for data in (tmp_path / "train.jsonl", tmp_path / "train.parquet", pd.DataFrame(rows)):
        p = read_pairs(data, src="en", tgt="fr")
        assert p.src == ["Go.", "Hi."] and p.tgt == ["Va !", "Salut !"]
        assert read_pairs(data, src="fr", tgt="en").src == ["Va !", "Salut !"]
    with pytest.raises(ColumnNotFound, match=r"column 'translation' in .*train\.jsonl holds each pair as a record of "
                                             r"languages \({'fr': …, 'en': …}, Hugging Face's translation layout\).* — "
                                             r"pass --src fr --tgt en \(fr to en; swap them"):
        read_pairs(tmp_path / "train.jsonl")


def test_a_table_with_neither_column_names_both_options(tmp_path):
    """'source column 'src' not found — pass --src with one of: en, fr', and once --src was passed the
    same error for --tgt."""
    from lstmkit.errors import ColumnNotFound
    (tmp_path / "p.csv").write_text("en,fr\nGo.,Va !\nHi.,Salut !\n")
    with pytest.raises(ColumnNotFound, match=r"no source column 'src' nor target column 'tgt' in .*p\.csv — pass "
                                             r"--src and --tgt with two of its columns: en, fr \(e\.g\. --src en --tgt "
                                             r"fr: en to fr\)"):
        read_pairs(tmp_path / "p.csv")
    with pytest.raises(ColumnNotFound, match=r"target column 'tgt' not found .* pass --tgt with one of: en, fr"):
        read_pairs(tmp_path / "p.csv", src="en")             # one of them found: the other's error, as before


def test_a_carriage_return_inside_a_line_is_named_when_the_files_differ_in_lines(tmp_path):
    """'a.en has 4 lines but a.de has 3', where wc -l counts 3 in each: a lone CR inside a sentence
    ends a line as an old Mac file's do (a stray \\r of a copy and paste, common in crawled corpora)."""
    (tmp_path / "a.en").write_bytes(b"a dog runs\r\nthe cat\rsits\r\nwait\r\n")
    (tmp_path / "a.de").write_text("ein Hund läuft\ndie Katze sitzt\nwarte\n")
    for files in (("a.en", "a.de"), ("a.de", "a.en")):
        with pytest.raises(LstmkitError, match=r"a\.en holds a carriage return \(\\r\) inside its line 2 \('the cat\\rsits"
                                               r"'\), which ends a line here \(as in an old Mac file\) but not for wc -l "
                                               r"or paste: read so, it has 4 lines and .*a\.de 3 — replace each such "
                                               r"\\r with a space: sed -i"):
            read_pairs(src_file=tmp_path / files[0], tgt_file=tmp_path / files[1])
    (tmp_path / "a.en").write_bytes(b"a dog runs\r\nthe cat sits\r\nwait\r\n")       # CR LF line ends: aligned
    assert read_pairs(src_file=tmp_path / "a.en", tgt_file=tmp_path / "a.de").src[1] == "the cat sits"


def test_bpe_reads_special_tokens_written_in_a_sentence_as_text():
    # a source quoting '<eos>' was the end-of-sentence id mid-sentence; a target's cut the reference there
    pytest.importorskip("tokenizers")
    tok = SideTokenizer("bpe", min_freq=1, max_size=80).fit(["the tag eos bos unk and pad of a page <b>"] * 5)
    again = SideTokenizer.from_dict(json.loads(json.dumps(tok.to_dict())))
    copies = [again, pickle.loads(pickle.dumps(tok)), copy.deepcopy(tok)]
    for text in ("the <eos> tag", "a <pad> page", "a <bos> page", "the <unk> tag"):
        ids = tok.encode(text)
        assert not {PAD_ID, UNK_ID, BOS_ID, EOS_ID} & set(ids), (text, tok.pieces(text))
        assert all(c.encode(text) == ids for c in copies)
        assert tok.decode(ids) == text
    # the model's own <unk> is one word, one space each side (it was glued to the word before, then spaced twice)
    assert tok.decode([*tok.encode("the"), UNK_ID, *tok.encode("tag")]) == "the <unk> tag"
    assert tok.decode([UNK_ID, *tok.encode("tag"), UNK_ID]) == "<unk> tag <unk>"


@pytest.mark.parametrize("kind", ["word", "bpe"])
def test_a_side_state_without_its_specials_or_kind_is_refused(kind):
    # <eos> and <bos> swapped: every translation was empty, and no error; kind 'xx' said 'use word or bpe'
    pytest.importorskip("tokenizers")
    state = json.loads(json.dumps(SideTokenizer(kind, min_freq=1).fit(["the cat sat on the mat"] * 3).to_dict()))
    if kind == "word":
        itos = state["itos"]
        damaged = {**state, "itos": [*itos[:2], itos[3], itos[2], *itos[4:]]}
    else:
        vocab = dict(state["tokenizer"]["model"]["vocab"])
        vocab["<bos>"], vocab["<eos>"] = vocab["<eos>"], vocab["<bos>"]
        damaged = {**state, "tokenizer": {**state["tokenizer"], "added_tokens": [],
                                          "model": {**state["tokenizer"]["model"], "vocab": vocab}}}
    with pytest.raises(LstmkitError, match="vocabulary state") as e:
        SideTokenizer.from_dict(damaged)
    assert "<bos>" in e.value.message and "retrain the model" in e.value.hint
    with pytest.raises(LstmkitError, match="vocabulary state has kind 'xx', not 'word' or 'bpe'"):
        SideTokenizer.from_dict({**state, "kind": "xx"})


def test_a_bpe_side_reads_a_tab_or_line_break_as_the_space_it_stands_for():
    # Metaspace marks only ' ': 'dog\tsits' was 'dog', '<unk>', 'si', 't', 's' where 'dog sits' is '▁dog', '▁sits'
    pytest.importorskip("tokenizers")
    tok = SideTokenizer("bpe", min_freq=1, max_size=80).fit(["the dog sits", "the cat sits"] * 5)
    want = tok.encode("the dog sits")
    for text in ("the dog\tsits", "the dog\r\nsits", "the  dog sits ", " the dog\u00a0sits"):
        assert tok.encode(text) == want, tok.pieces(text)
    again = SideTokenizer.from_dict(json.loads(json.dumps(tok.to_dict())))
    assert again.spaces and again.encode("the dog\tsits") == want
    old = SideTokenizer.from_dict({k: v for k, v in tok.to_dict().items() if k != "spaces"})
    assert old.encode("the dog\tsits") != want                          # a state saved before reads as it did


@pytest.mark.parametrize("text", [
    "I said 'hi' to him.", "'Yes', he said.", "the dogs' bones and 'that' thing", "James’ book",
    "He said “yes” to ‘them’ today.", "Er sagte „ja“ heute, ‚so‘.", "¿Qué pasa? ¡Hola!",
])
def test_a_word_side_writes_quotation_marks_back_as_they_were(text):
    # 'I said' hi'', '“ yes ”', '„ ja “', '¿ Qué?': sacrebleu's 13a keeps a curly quote on its word, so each was a miss
    tok = SideTokenizer("word", min_freq=1).fit([text])
    assert tok.decode(tok.encode(text)) == text


def test_decode_writes_the_given_word_for_each_unknown_and_drops_the_specials():
    """``unknown`` maps a position of ``ids`` to the word written for the ``<unk>`` there (the source word the
    decoder attended to); without it a ``<unk>`` is written as '<unk>'; ``<pad>``/``<bos>`` are dropped, and
    nothing after ``<eos>`` is read."""
    tok = SideTokenizer("word", min_freq=1).fit(["we like tea"])
    we, tea = tok.vocab.stoi["we"], tok.vocab.stoi["tea"]
    ids = [BOS_ID, we, UNK_ID, PAD_ID, tea, EOS_ID, UNK_ID]
    assert tok.decode(ids, unknown={2: "coffee", 6: "never"}) == "we coffee tea"
    assert tok.decode(ids, unknown={0: "x"}) == tok.decode(ids) == "we <unk> tea"


def test_detokenize_writes_a_leading_joiner_as_its_mark_and_a_lone_single_quote_as_an_apostrophe():
    # a joiner token first (a translation may start anywhere) is its mark, never '@-@'
    assert detokenize(["@-@", "shirt"]) == "-shirt"
    # one single quote with none after it closes onto the word before, as an apostrophe
    assert detokenize(["rock", "'", "n", "roll"]) == "rock' n roll"


def test_a_side_state_without_lowercase_keeps_case_as_a_side_tokenizer_always_did():
    state = SideTokenizer("word", min_freq=1).fit(["The cat"]).to_dict()
    old = SideTokenizer.from_dict({k: v for k, v in state.items() if k != "lowercase"})
    assert old.lowercase is False and old.pieces("The cat") == ["The", "cat"]


def test_sentences_with_a_tab_or_commas_are_read_as_sentences_and_a_table_of_pairs_is_refused():
    """``translate run --data`` reads one sentence a line: a file is refused as a table of pairs when every
    line holds a tab, or when it is a ``.csv`` under a header of two or more one-word names over rows
    of as many cells (two lines are enough); a tab in some lines, or a first line of more than names,
    is text."""
    from pathlib import Path

    from lstmkit.tasks.translate.data import check_sources
    check_sources(Path("some.txt"), ["a dog\truns", "a cat sleeps"])             # one line of two has a tab
    check_sources(Path("answers.csv"), ["Yes, I do", "No, he did not"])         # 'I do' is no column name
    check_sources(Path("one.csv"), ["en,de"])                                    # a header alone: no rows
    check_sources(Path("notes.csv"), ["Yes,no", "I said yes, then no, then yes", "maybe, later"])   # rows of 3 and 2
    with pytest.raises(LstmkitError, match=r"pairs.tsv is a table of source<TAB>target pairs \(line 2: 'a\\tb'\)"):
        check_sources(Path("pairs.tsv"), ["", "a\tb", "c\td"])
    for lines in (["en,de", "a dog,ein Hund"], ["id,en,de", "1,a,b", "2,c,d"]):
        with pytest.raises(LstmkitError, match=r"pairs.csv is a CSV table \(its header, line 1"):
            check_sources(Path("pairs.csv"), lines)
