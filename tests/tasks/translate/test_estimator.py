"""The Python API: fit, translate, evaluate, save / load round trip, the run folder."""
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from lstmkit import Translator, load
from lstmkit.data.vocab import UNK_ID
from lstmkit.errors import LstmkitError


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, pairs, tiny):
    out = tmp_path_factory.mktemp("runs")
    tr = Translator(**{**tiny, "max_epochs": 8, "patience": 8, "max_len": 8}).fit(pairs(300, seed=1), out=out)
    return tr


def test_run_folder_contents(fitted):
    run = fitted.run_dir_
    for name in ("lstmkit.json", "model.safetensors", "vocab.json", "metrics.json", "history.csv",
                 "val_translations.tsv", "plots/loss.png", "plots/attention.png"):
        assert (run / name).is_file(), name
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["task"] == "translate" and meta["status"] == "finished"
    assert meta["data"]["characters"] == {"src": False, "tgt": False}     # Latin script: words
    m = json.loads((run / "metrics.json").read_text())
    assert {"val", "val_beam"} <= set(m) and "tok:13a" in m["val"]["bleu_signature"]
    assert m["val"]["bleu"] > 30


def test_translate_and_save_load_round_trip(fitted, tmp_path, pairs):
    src = [s for s, _ in pairs(10, seed=5)] + [""]
    out = fitted.translate(src, beam=3)
    assert len(out) == len(src) and out[-1] == ""
    fitted.save(tmp_path / "copy")
    again = Translator.load(tmp_path / "copy")
    assert again.translate(src, beam=3) == out
    # the validation sentences metrics.json's BLEU was scored on go with it (a save elsewhere left them out)
    again.save(tmp_path / "copy2")
    for folder in (tmp_path / "copy", tmp_path / "copy2"):
        assert (folder / "val_translations.tsv").read_bytes() == (fitted.run_dir_ / "val_translations.tsv").read_bytes()
    assert load(fitted.run_dir_).translate(src[:2], beam=1) == fitted.translate(src[:2], beam=1)


def test_a_loaded_run_translates_reading_its_lstmkit_json_once(fitted, pairs, monkeypatch):
    """Loading a run and translating with it (``translate run``) reads its lstmkit.json once: the engine an int8 run
    chose is known from the read that loaded it (it was read again to choose the network); the translations are
    the same."""
    import lstmkit.runs
    reads, read_json = [], lstmkit.runs.read_json
    monkeypatch.setattr(lstmkit.runs, "read_json", lambda path, *a, **k: reads.append(Path(path).name) or
                        read_json(path, *a, **k))
    src = [s for s, _ in pairs(4, seed=7)]
    loaded = Translator.load(fitted.run_dir_)
    out = loaded.translate(src, beam=2)
    assert reads.count("lstmkit.json") == 1, reads
    assert out == fitted.translate(src, beam=2)


def test_a_loaded_translator_copied_after_translating_keeps_the_engine_it_read_and_translates_the_same(
        fitted, pairs, monkeypatch):
    """The engine the load read is kept on the translator (``run_engine.note_loaded``), the network that answers in
    the rooms' shared cache: a pickled or deep-copied translator keeps that engine (lstmkit.json is not read again)
    and resolves its own network."""
    import copy
    import pickle
    import lstmkit.runs
    src = [s for s, _ in pairs(3, seed=8)]
    loaded = Translator.load(fitted.run_dir_)
    out = loaded.translate(src)
    reads, read_json = [], lstmkit.runs.read_json
    monkeypatch.setattr(lstmkit.runs, "read_json", lambda path, *a, **k: reads.append(Path(path).name) or
                        read_json(path, *a, **k))
    for twin in (pickle.loads(pickle.dumps(loaded)), copy.deepcopy(loaded)):
        assert twin.translate(src) == out
    assert loaded.translate(src) == out and reads.count("lstmkit.json") == 0, reads


def test_predict_is_translate_as_every_estimator_has_predict(fitted, pairs):
    """README: every estimator has fit / predict / evaluate; Translator().predict was an AttributeError,
    then a list where every other estimator's predict gives a numpy array."""
    src = [s for s, _ in pairs(6, seed=7)] + [""]
    for beam in (1, 3):
        said = fitted.predict(src, beam=beam)
        assert isinstance(said, np.ndarray) and said.dtype == object and said.shape == (7,)
        assert said.tolist() == fitted.translate(src, beam=beam)
    assert fitted.predict(src[0], beam=3, alpha=0.0).tolist() == fitted.translate(src[0], beam=3, alpha=0.0)
    with pytest.raises(LstmkitError, match="sentences must be a string or a list of strings"):
        fitted.predict(None)
    with pytest.raises(LstmkitError, match="not fitted"):
        Translator().predict(src)


def test_translate_takes_sentences_as_users_hold_them(fitted, pairs):
    """A pandas Series with its own index was a KeyError, [] 'cannot pad an empty batch', a
    generator a TypeError; None or a number among the sentences a TypeError from unicodedata."""
    import numpy as np
    import pandas as pd
    src = [s for s, _ in pairs(3, seed=5)]
    want = fitted.translate(src, beam=1)
    assert fitted.translate(pd.Series(src, index=[10, 11, 12]), beam=1) == want
    assert fitted.translate(np.array(src), beam=1) == want
    assert fitted.translate((s for s in src), beam=1) == want
    assert fitted.translate([], beam=1) == []
    import pyarrow as pa          # Arrow arrays iterate as Arrow scalars: 'is a StringScalar, not a string'
    assert fitted.translate(pa.chunked_array([src[:1], src[1:]]), beam=1) == want
    assert fitted.translate(np.array([src]).T, beam=1) == want                # one column [N, 1]
    with pytest.raises(LstmkitError, match=r"got ndarray of shape \(1, 3\) — pass a list or 1-D array"):
        fitted.translate(np.array([src]))
    with pytest.raises(LstmkitError, match=r"sentence 1 of the list is missing \(NaN\), not a string"):
        fitted.translate([src[0], float("nan")])
    with pytest.raises(LstmkitError, match=r"sentences must be a string or a list of strings, got NoneType"):
        fitted.translate(None)
    # iterated, a dict gives its keys: 'src' was translated without a word; a set has no order to answer in
    for given in ({"src": src}, set(src)):
        with pytest.raises(LstmkitError, match=f"got {type(given).__name__} — "):
            fitted.translate(given)


def test_a_dataframe_is_its_source_column_or_its_one_column(fitted, pairs):
    """A DataFrame was refused ('got DataFrame — … df['src']', even one holding 'src'), where a text
    classifier reads one: df[["en"]] is how scikit-learn's ColumnTransformer hands a column on, and a
    polars or pyarrow table is a frame too."""
    import pandas as pd
    import pyarrow as pa
    src = [s for s, _ in pairs(3, seed=5)]
    want = fitted.translate(src, beam=1)
    assert fitted.translate(pd.DataFrame({"n": [1, 2, 3], "src": src}), beam=1) == want
    assert fitted.translate(pa.table({"src": src}), beam=1) == want
    with pytest.warns(UserWarning, match=r"no column 'src' in the DataFrame \(the model's source column\): reading "
                                         r"its one column 'en' as the texts") as said:
        assert list(fitted.predict(pd.DataFrame({"en": src}), beam=1)) == want
        assert fitted.translate(pd.DataFrame({"en": src}), beam=1) == want
    # the caller's line, from predict and translate alike (was a line of estimator.py)
    assert [w.filename for w in said if "one column" in str(w.message)] == [__file__] * 2
    with pytest.raises(LstmkitError, match=r"the DataFrame has no column 'src' \(the model's source column\) to read "
                                           r"the texts from; its columns: en, de — pass the column of texts, e.g. "
                                           r"df\['en'\]"):
        fitted.translate(pd.DataFrame({"en": src, "de": src}))


def test_evaluate_names_its_own_arguments(fitted, tmp_path):
    """evaluate(src_file=…) alone said 'pass --data TABLE, or both --src-file and --tgt-file'."""
    (tmp_path / "a.en").write_text("the dog runs\n")
    with pytest.raises(LstmkitError, match=r"nothing to evaluate on: no ref_file with src_file — pass src_file= and "
                                           r"ref_file="):
        fitted.evaluate(src_file=tmp_path / "a.en")
    with pytest.raises(LstmkitError, match=r"no data given — pass src_file= and ref_file="):
        fitted.evaluate()


def test_fit_names_its_own_arguments_for_the_files_it_was_given(tmp_path):
    """fit(src_file=…) alone said '--src-file without --tgt-file', and a table beside the files
    'both --data and --src-file/--tgt-file given': flags the Python caller never typed."""
    (tmp_path / "a.en").write_text("the dog runs\n")
    with pytest.raises(LstmkitError, match=r"^src_file without tgt_file — pass both"):
        Translator().fit(src_file=tmp_path / "a.en")
    with pytest.raises(LstmkitError, match=r"^val_tgt_file without val_src_file — pass both"):
        Translator().fit(src_file=tmp_path / "a.en", tgt_file=tmp_path / "a.en", val_tgt_file=tmp_path / "a.en")
    with pytest.raises(LstmkitError, match=r"^both data and src_file/tgt_file given"):
        Translator().fit(tmp_path / "a.tsv", src_file=tmp_path / "a.en")


def test_numpy_beams_are_read_and_a_bad_beam_is_refused_by_every_method(fitted, pairs):
    """A grid's np.int64(2) was 'must be a positive integer' in translate, evaluate and score, and
    attention / output_tokens took any beam to torch: beam=0 an IndexError, 2.5 a TypeError."""
    src = ["the dog runs ."]
    assert fitted.translate(src, beam=np.int64(2), alpha=np.float32(0.5)) == fitted.translate(src, beam=2, alpha=0.5)
    m = fitted.evaluate(pairs(4, seed=9), beam=np.int64(1))
    assert m["beam"] == 1 and type(m["beam"]) is int
    assert fitted.attention(src[0], beam=np.int64(2))[1] == fitted.attention(src[0], beam=2)[1]
    for call in (fitted.attention, fitted.output_tokens):
        for bad in (0, -1, 2.5):
            with pytest.raises(LstmkitError, match=rf"`beam` must be a positive integer, got {bad}"):
                call(src[0], beam=bad)


def test_evaluate_writes_sentences(fitted, tmp_path, pairs):
    data = pairs(20, seed=6)
    m = fitted.evaluate(data, beam=2, out_file=tmp_path / "s.tsv")
    assert m["beam"] == 2 and 0 <= m["bleu"] <= 100 and m["sentences"] == 20
    assert len((tmp_path / "s.tsv").read_text().splitlines()) == 21


def test_long_sources_are_said_once_with_which_and_what_is_translated(fitted):
    """Each long sentence was its own "a source sentence has 18 tokens, more than the model's maximum of
    8; it was truncated": 1,000 of them 1,000 warnings, none saying which sentence, nor that its
    translation leaves the rest out; the note of sentences longer than any trained on gave their cut
    length (8 tokens) for a sentence of 18. One warning now counts them and names the first."""
    long, longer = "the dog runs " * 6, "the cat sleeps " * 10
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = fitted.translate(["the dog runs.", long, longer], beam=1)
    said = [str(w.message) for w in caught]
    cut = [m for m in said if "max_len" in m and "left out" in m]
    assert cut == ["2 source sentence(s) longer than the model's max_len=8 tokens (first: sentence 2, 18 tokens; the "
                   "longest 30): only their first 8 tokens are translated, the rest is left out of the translation; "
                   "split them into sentences, or retrain with a larger max_len="], said
    assert any(m.startswith("2 source sentence(s) longer than any the model was trained on (30 tokens;") for m in said)
    first8 = fitted.src_tokenizer_.decode(fitted.src_tokenizer_.encode(long)[:8])
    assert got[1] == fitted.translate([first8], beam=1)[0]                 # what is translated: the first 8 tokens


def test_attention_names_source_words_outside_the_vocabulary_as_written(fitted):
    """attention() (and so plots/attention.png) labelled a word the vocabulary lacks '<unk>', which
    word unsaid; it is the word as written, marked as what the model read."""
    src, out, w = fitted.attention("the zebraquux runs")
    assert src[:3] == ["the", "zebraquux (<unk>)", "runs"]
    assert w.shape == (len(out), len(src))
    assert fitted.token_inputs("the zebraquux runs")[0][:3] == ["the", "zebraquux", "runs"]


def test_attention_none_bpe_tied_and_shared(pairs, tiny, tmp_path):
    tr = Translator(**{**tiny, "max_epochs": 1, "attention": "none", "tokenizer": "bpe", "max_size": 60,
                       "shared_vocab": True, "tie_embeddings": True, "embed_dim": 24}).fit(pairs(60, seed=2),
                                                                                          out=tmp_path)
    assert tr.src_tokenizer_ is tr.tgt_tokenizer_
    assert len(tr.translate(["the dog runs."], beam=2)) == 1
    # the tied matrix is stored once (checkpoints and model.safetensors), and loads back tied
    again = Translator.load(tr.run_dir_)
    assert again.net_.out.weight is again.net_.tgt_embed.weight
    assert again.translate(["the dog runs."], beam=2) == tr.translate(["the dog runs."], beam=2)
    with pytest.raises(LstmkitError, match="^this model was trained with attention='none' — "):
        tr.attention("the dog")


def test_unfitted_and_bad_params():
    with pytest.raises(LstmkitError, match="not fitted"):
        Translator().translate(["a"])
    with pytest.raises(LstmkitError, match="unknown attention"):
        Translator(attention="luong-ish").fit([("a b", "c d")] * 4)
    with pytest.raises(LstmkitError, match="Translator has no parameter .colour."):
        Translator(colour="blue")


@pytest.mark.parametrize("size", [1, 3, 4])
def test_a_vocabulary_cap_with_no_room_for_a_word_is_refused_up_front(size):
    """``--max-size 4`` kept the four specials alone and said 'no token occurs at least 2 times — lower
    --min-freq' of pairs whose every word repeats."""
    with pytest.raises(LstmkitError, match=rf"`max_size` must be an integer of at least 5 .*, got {size} — pass max_size="):
        Translator(max_size=size)
    assert Translator(max_size=5).get_params()["max_size"] == 5


def test_fit_on_sentences_given_as_files_is_one_error_and_writes_no_run(tmp_path):
    """It was a bare TypeError from pathlib, raised while fit prepared to compare files on a resume."""
    import pandas as pd
    with pytest.raises(LstmkitError, match="src_file is a Series, not a file's path"):
        Translator().fit(src_file=pd.Series(["Go."]), tgt_file=pd.Series(["Geh."]), out=tmp_path)
    assert not list(tmp_path.iterdir())


def test_evaluate_on_a_frame_without_the_models_columns_is_told_to_rename_them(fitted, pairs):
    """evaluate takes no column names; its fix was the command line's 'pass --src with one of: en, de',
    then a rename of the source column alone, the target's missing too."""
    import pandas as pd
    frame = pd.DataFrame(pairs(3, seed=4), columns=["en", "de"])
    with pytest.raises(LstmkitError, match=r"no source column 'src' nor target column 'tgt' in the DataFrame — the "
                                           r"model reads columns 'src' and 'tgt' \(as it was trained\): rename the "
                                           r"DataFrame's columns to them, e.g. df.rename\(columns=\{'en': 'src', "
                                           r"'de': 'tgt'\}\) \(its columns: en, de\)$"):
        fitted.evaluate(frame)
    assert fitted.evaluate(frame.rename(columns={"en": "src", "de": "tgt"}))["bleu"] >= 0


@pytest.mark.parametrize("given", ["file", "arrow"])
def test_evaluate_on_a_file_or_arrow_table_without_the_models_columns_names_no_keyword_it_lacks(fitted, pairs,
                                                                                                tmp_path, given):
    """A pyarrow table was told 'pass src= and tgt= with two of its columns', keywords evaluate and
    score do not take; a file (and the table) now name both columns to rename."""
    import pandas as pd
    frame = pd.DataFrame(pairs(3, seed=4), columns=["en", "de"])
    if given == "file":
        data = tmp_path / "pairs.csv"
        frame.to_csv(data, index=False)
    else:
        pa = pytest.importorskip("pyarrow")
        data = pa.Table.from_pandas(frame)
    for method in (fitted.evaluate, fitted.score):
        with pytest.raises(LstmkitError) as e:
            method(data)
        assert "src=" not in e.value.hint and f"rename the {given if given == 'file' else 'table'}'s columns" \
            in e.value.hint and "df.rename(columns={'en': 'src', 'de': 'tgt'})" in e.value.hint


@pytest.mark.parametrize("tokenizer", ["word", "bpe"])
def test_pairs_with_a_lone_surrogate_train_save_and_translate(pairs, tiny, tmp_path, tokenizer):
    """A lone surrogate was a bare UnicodeEncodeError writing vocab.json after training (word) or in
    the BPE trainer."""
    data = [(s + " \ud83d", t + " x\udc80") for s, t in pairs(30)]
    with pytest.warns(UserWarning, match="half of a UTF-16 surrogate pair"):
        tr = Translator(**{**tiny, "max_epochs": 1, "beam": 1, "tokenizer": tokenizer}).fit(data, out=tmp_path)
    with pytest.warns(UserWarning, match="half of a UTF-16 surrogate pair"):
        assert list(load(tr.run_dir_).predict([s for s, _ in data[:3]])) == list(tr.predict([s for s, _ in data[:3]]))


def test_one_sentence_with_a_lone_surrogate_reads_as_u_fffd_in_the_inspect_methods(pairs, tiny, tmp_path):
    """Found by tools/fuzz/fuzz_tokenizers.py: token_inputs, attention and output_tokens of a BPE model
    (inspect --text: the command line holds bytes that are not UTF-8 as surrogates) were a bare TypeError
    ('TextInputSequence must be str'); they read a lone half as U+FFFD, said, as translate does."""
    pytest.importorskip("tokenizers")
    tr = Translator(**{**tiny, "max_epochs": 1, "beam": 1, "tokenizer": "bpe"}).fit(pairs(30), out=tmp_path)
    for method in (tr.token_inputs, tr.attention, tr.output_tokens):
        with pytest.warns(UserWarning, match="half of a UTF-16 surrogate pair"):
            got = method("the red \ud83d dog")
        assert str(got[:2]) == str(method("the red \ufffd dog")[:2])


@pytest.mark.parametrize("side", ["src", "tgt"])
def test_a_vocab_json_whose_side_is_not_an_object_is_one_error_at_load(fitted, tmp_path, side):
    """Found by tools/fuzz/fuzz_text_runs.py: a vocab.json whose src (or tgt) was edited to a string was an
    AttributeError traceback at load ('str' object has no attribute 'get')."""
    import hashlib
    import shutil
    run = shutil.copytree(fitted.run_dir_, tmp_path / "run")
    state = json.loads((run / "vocab.json").read_text())
    (run / "vocab.json").write_bytes(raw := json.dumps({**state, side: "word"}).encode())
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["weights_sha256"]["vocab.json"] = hashlib.sha256(raw).hexdigest()        # the state itself is read
    (run / "lstmkit.json").write_text(json.dumps(meta))
    with pytest.raises(LstmkitError) as e:
        load(run)
    assert "has a side of str, not an object" in e.value.message and "retrain the model" in e.value.hint


def test_fit_evaluate_and_score_take_sources_and_targets_as_x_and_y(fitted, pairs, tiny):
    """scikit-learn's fit(X, y) / score(X, y) were a bare TypeError ('takes from 1 to 2 positional
    arguments'), and Translator had no score for GridSearchCV or cross_val_score."""
    import pandas as pd
    data = pairs(6, seed=7)
    src, tgt = [s for s, _ in data], [t for _, t in data]
    bleu = fitted.evaluate(data)["bleu"]
    assert fitted.evaluate(pd.Series(src), pd.Series(tgt))["bleu"] == bleu
    assert fitted.score(src, tgt) == fitted.score(data) == bleu
    with pytest.raises(LstmkitError, match="got 6 source sentences but 5 targets"):
        fitted.score(src, tgt[:5])
    with pytest.raises(LstmkitError, match=r"y \(the references\) given with a table or a path as data"):
        fitted.score(pd.DataFrame(data, columns=["src", "tgt"]), tgt)
    with pytest.raises(LstmkitError, match="y is a str, not a list of sentences"):
        fitted.score(src[:1], tgt[0])
    # one sentence each, as bare strings: was 'y given with a table or a path as data' (X read as a path)
    for call in (fitted.score, fitted.evaluate, Translator(**tiny).fit):
        with pytest.raises(LstmkitError, match=rf"^X is a single string \('{re.escape(src[0][:20])}.*\), not a list of "
                                               rf"source sentences — pass lists, one sentence each: \(\['{re.escape(src[0][:20])}"):
            call(src[0], tgt[0])
    tr = Translator(**{**tiny, "max_epochs": 1}).fit(src * 4, tgt * 4)
    assert tr.data_summary_["pairs"] == 24


def test_copy_task_learns_to_exact_match(pairs, tiny):
    from lstmkit import Translator
    data = pairs(400, seed=1, copy=True)
    with pytest.warns(UserWarning, match="the same as its source .* the model learns to copy"):
        tr = Translator(**{**tiny, "max_epochs": 20, "patience": 20, "hidden_size": 32, "attention": "bahdanau"}).fit(
            data, val_data=pairs(30, seed=2, copy=True))
    test = [s for s, _ in pairs(50, seed=3, copy=True)]
    assert tr.translate(test, beam=1) == test
    assert tr.translate(test, beam=3) == test


def test_a_chinese_side_is_read_by_character_and_said_per_side(tiny):
    """lstmkit.json names the side in a script without spaces; a shared vocabulary does not make
    the English side one too."""
    en = ["i see tea .", "he likes fish .", "we see fish .", "they like tea ."] * 10
    zh = ["我看茶。", "他喜欢鱼。", "我们看鱼。", "他们喜欢茶。"] * 10
    tr = Translator(**{**tiny, "max_epochs": 1, "shared_vocab": True, "min_freq": 1}).fit(list(zip(en, zh)))
    assert tr.data_summary_["characters"] == {"src": False, "tgt": True}
    assert "喜" in tr.tgt_tokenizer_.vocab.itos and "喜欢" not in tr.tgt_tokenizer_.vocab.itos


@pytest.mark.parametrize("alpha", [-1.0, float("nan"), float("inf"), "1"])
def test_a_length_penalty_outside_the_config_range_is_refused(fitted, alpha, capsys, monkeypatch):
    """--alpha at run time obeys the range --length-penalty has at training (was: any value, even
    NaN, silently ranked the beam's hypotheses)."""
    with pytest.raises(LstmkitError, match="alpha"):
        fitted.translate(["the dog runs."], beam=2, alpha=alpha)
    from cli_helpers import assert_user_error, run_cli
    if isinstance(alpha, float):
        code, _, err = run_cli(["translate", "run", "--run", fitted.run_dir_, "--alpha", alpha], capsys, stdin="a b\n",
                               monkeypatch=monkeypatch)
        assert_user_error(code, err, "--alpha")


def test_a_validation_part_larger_than_the_training_part_is_said(pairs, tiny):
    from lstmkit import Translator
    with pytest.warns(UserWarning, match=r"^val_frac=0.8 holds out 48 of 60 pairs for validation and trains on 12.*"
                                         r"pass val_frac=0.05 to 0.1$"):
        Translator(**{**tiny, "max_epochs": 1, "val_frac": 0.8, "min_freq": 1}).fit(pairs(60, seed=1))



def test_validation_pairs_training_holds_too_are_said(pairs, tiny):
    """De-duplication drops repeats within training only: a file of repeated pairs was scored on
    pairs it trained on (its validation BLEU flattering it) without a word, where classify warns."""
    from lstmkit import Translator
    est = Translator(**{**tiny, "max_epochs": 1})
    with pytest.warns(UserWarning, match=r"2 of the 2 pairs of the validation part occur in the training data too"):
        est.fit(pairs(8, seed=1) * 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # distinct pairs: nothing to say
        est.fit(pairs(40, seed=1), val_data=pairs(5, seed=2))
    with pytest.warns(UserWarning, match=r"2 of the 5 pairs of the validation data occur in the training data too"):
        est.fit(pairs(40, seed=1), val_data=pairs(40, seed=1)[:2] + pairs(3, seed=2))

def test_translating_many_sentences_shows_progress_and_the_same_output(fitted, pairs, monkeypatch, capsys):
    from lstmkit.train import progress
    src = [s for s, _ in pairs(40, seed=7)]
    quiet = fitted.translate(src, beam=2, batch_size=8)
    assert capsys.readouterr().err == ""                    # the run's setting: progress off
    monkeypatch.setattr(fitted.config.train, "progress", "log")
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)
    assert fitted.translate(src, beam=2, batch_size=8) == quiet
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("translating: 1/5 batches") and err[-1].startswith("translating: 5/5 batches")


def test_encoding_a_large_input_shows_progress(pairs, tiny, capsys, monkeypatch):
    """Encoding 190,000 pairs took 26 s before training's first line: it shows as training does."""
    from lstmkit.train import progress
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)        # a line per pair
    Translator(**{**tiny, "max_epochs": 1, "progress": "log"}).fit(pairs(40, seed=3))
    err = capsys.readouterr().err
    shown = re.findall(r"^encoding: (\d+)/(\d+) pairs", err, re.M)        # the training part, then validation's
    assert len(shown) == 40 and shown[-1][0] == shown[-1][1]
    Translator(**{**tiny, "max_epochs": 1}).fit(pairs(40, seed=3))
    assert "encoding" not in capsys.readouterr().err            # progress off


@pytest.mark.parametrize("tokenizer, max_len, dedup", [("word", 6, True), ("bpe", 6, False), ("word", None, True)])
def test_the_training_ids_are_those_of_tokenizing_each_kept_pair_again(pairs, tiny, monkeypatch, tokenizer, max_len,
                                                                        dedup):
    """Each pair is tokenized once, for the length filter and the ids both: the tensors equal those
    of the path that filtered on one tokenization and encoded the kept pairs anew (sources and
    targets over ``max_len``, a pair repeated, a long target, validation cut rather than dropped)."""
    import torch
    from lstmkit.tasks.translate import estimator
    from lstmkit.tasks.translate.data import clean_pairs, read_pairs
    train = pairs(60, seed=4, max_len=9) + pairs(60, seed=4, max_len=9)[:5] + [("dog.", "a b c d e f g h i.")]
    val = pairs(12, seed=9, max_len=9)
    seen = []
    monkeypatch.setattr(estimator, "_pair_batches", lambda x, y, *a: seen.append((x, y)))
    monkeypatch.setattr(estimator.Translator, "_train_and_save", lambda self, *a, **k: self)
    tr = Translator(**{**tiny, "tokenizer": tokenizer, "max_len": max_len, "dedup": dedup}).fit(train, val_data=val)

    def tokenized_twice(data, clean):
        p = read_pairs(data)
        if clean:
            p, _ = clean_pairs(p, [len(tr.src_tokenizer_.encode(s)) for s in p.src],
                               [len(tr.tgt_tokenizer_.encode(t)) for t in p.tgt], max_len, dedup)
        return ([torch.tensor(tr._src_ids(s, warn=False)) for s in p.src],
                [torch.tensor(tr.tgt_tokenizer_.encode(t)[:max_len]) for t in p.tgt])

    dropped = tr.data_summary_["dropped_too_long"] + tr.data_summary_["duplicates"]
    assert (dropped > 0) == (max_len is not None or dedup)
    for got, want in zip(seen, (tokenized_twice(train, True), tokenized_twice(val, False))):
        for side, expected in zip(got, want):
            assert len(side) == len(expected) and all(a.dtype == torch.long and torch.equal(a, b)
                                                       for a, b in zip(side, expected))


@pytest.mark.parametrize("shared", [False, True])
def test_word_vocabularies_counted_on_the_pieces_cut_once_are_those_of_the_texts(pairs, tiny, monkeypatch, shared):
    """fit cuts each training sentence once, counts the vocabularies on the pieces and looks the
    same pieces up: the vocabularies equal those fitted on the texts, the ids those of encoding each
    sentence (shared and separate vocabularies)."""
    from lstmkit.tasks.translate import estimator
    from lstmkit.tasks.translate.data import SideTokenizer
    seen = []
    tensors = estimator.Translator._pair_tensors
    monkeypatch.setattr(estimator.Translator, "_pair_tensors",
                        lambda self, src, tgt: seen.append((src, tgt)) or tensors(self, src, tgt))
    monkeypatch.setattr(estimator.Translator, "_train_and_save", lambda self, *a, **k: self)
    train = pairs(80, seed=5, max_len=9) + [("Ein Hund, café.", "我们 走 l'eau")]
    settings = {**tiny, "min_freq": 2, "shared_vocab": shared, "max_len": None, "dedup": False}
    tr = Translator(**settings).fit(train, val_data=pairs(5, seed=6))
    src, tgt = [s for s, _ in train], [t for _, t in train]
    make = lambda: SideTokenizer("word", 2, tr.config_.max_size, tr.config_.lowercase)  # noqa: E731
    want_src, want_tgt = (make().fit(src + tgt),) * 2 if shared else (make().fit(src), make().fit(tgt))
    assert tr.src_tokenizer_.to_dict() == want_src.to_dict() and tr.tgt_tokenizer_.to_dict() == want_tgt.to_dict()
    assert seen[0] == ([want_src.encode(s) for s in src], [want_tgt.encode(t) for t in tgt])


def test_a_source_longer_than_any_in_training_is_said_once(fitted, pairs):
    """Trained on sentences of at most 7 words, a 40-word one came back as 13 characters, without a word."""
    longest = fitted.data_summary_["longest_source"]
    within = [s for s, _ in pairs(300, seed=1) if len(fitted.src_tokenizer_.encode(s)) <= longest][:3]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted.translate(within, beam=1)
    longer = " ".join(["the dog runs"] * 3)
    with pytest.warns(UserWarning, match=rf"^2 source sentence\(s\) longer than any the model was trained on \(\d+ "
                                         rf"tokens; the longest training source {longest}\): it never learned to "
                                         rf"translate sentences that long, and writes at most {fitted.decode_steps()} "
                                         "tokens, so expect them cut short or garbled; split such sentences"):
        fitted.translate([longer, within[0], longer + " fast"], beam=1)


def test_sentences_of_words_the_model_never_read_are_said_once(fitted, pairs):
    """'鬼龍院' to a model trained on other words came back as 'we', without a word."""
    known = pairs(300, seed=1)[0][0]
    with pytest.warns(UserWarning, match=r"^2 source sentence\(s\) hold no word the model knows \(first: sentence 2, "
                                         r"'xyzzy plugh'\): their translations are guesses; pass sentences in the "
                                         r"language and script the model was trained on$"):
        out = fitted.translate([known, " xyzzy plugh", "鬼龍院", ""], beam=1)
    assert len(out) == 4 and out[3] == ""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted.translate([known, known + " xyzzy", ""], beam=1)       # a known word, or nothing: no warning


def test_sentences_mostly_of_words_the_model_never_read_are_said_once(fitted, pairs):
    """Sentences in another language share a full stop and a few short words with the training side, so the
    'no word it knows' rule was silent on a whole French file fed to an English model (9 of Multi30k's 1,014
    validation sentences named, 78% of the words unknown). Held-out sentences of the training's kind stay quiet."""
    known = [s for s, _ in pairs(300, seed=2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted.translate(known[:40], beam=1)
        fitted.evaluate(pairs(20, seed=3))
    french = ["un chien court dans le parc.", "le chat dort sur la table.", ""]
    assert all(int((torch.tensor(fitted.src_tokenizer_.encode(s)) != UNK_ID).sum()) for s in french[:2])   # the '.'
    with pytest.warns(UserWarning, match=r"^\d+% of the source sentences' words are unknown to the model's vocabulary "
                                         r"\(2 sentence\(s\) mostly so, first: sentence 1, 'un chien court dans le "
                                         r"parc\.', \d of its \d words\): another language or domain\? it reads little "
                                         r"of them, so their translations are guesses; pass sentences in the language "
                                         r"and script the model was trained on$") as got:
        fitted.translate(french, beam=1)
    assert len(got) == 1
    with pytest.warns(UserWarning, match=r"of the source sentences' words are unknown"):
        fitted.evaluate([(s, t) for s, t in zip(french[:2], ["a.", "b."])])
    with pytest.warns(UserWarning, match=r"^1 source sentence\(s\) hold no word the model knows \(first: sentence 2, "
                                         r"'xyzzy plugh'; \d+% of all their words are unknown to its vocabulary\)"):
        fitted.translate([french[0], "xyzzy plugh"], beam=1)


def test_references_are_scored_in_the_unicode_form_the_translations_are_written_in(fitted, pairs, tmp_path):
    """Every sentence is read NFKC-normalised, so a model writes '...' and one 'é' where a reference holds
    '…' and 'e' + a combining accent (subtitles, text saved on a Mac): those reference words were misses no
    translation could avoid (a word-for-word right 'Ein Mann… läuft' scored BLEU 9.7, not 100)."""
    import sacrebleu
    from lstmkit.tasks.translate.metrics import corpus_scores
    plain = [(s, t[:-1] + " café ...") for s, t in pairs(6, seed=7)]
    odd = [(s, t.replace("é", "e\u0301").replace("...", "\u2026")) for s, t in plain]
    assert [t for _, t in odd] != [t for _, t in plain]
    said, want = fitted.evaluate(odd, out_file=tmp_path / "s.tsv"), fitted.evaluate(plain)
    assert (said["bleu"], said["chrf"]) == (want["bleu"], want["chrf"]) and said["references_normalised"] == 6
    assert "references_normalised" not in want and "references_unescaped" not in said
    assert "\u2026" not in (tmp_path / "s.tsv").read_text()
    refs = [t for _, t in odd]                       # the translations a model that writes them right gives
    right = [fitted.tgt_tokenizer_.written(r) for r in refs]
    assert corpus_scores(right, fitted.references(refs)[0])["bleu"] == 100.0
    assert sacrebleu.corpus_bleu(right, [refs]).score < 60                     # scored against them as written


def test_escaped_training_text_gives_no_entity_tokens_and_escaped_references_are_scored_unescaped(
        fitted, pairs, tiny, tmp_path):
    """A TED-style corpus escapes '&' as '&amp;': its vocabulary held 'amp' and ';', its translations
    wrote '& amp;', and an escaped reference ('don&#39;t') was scored against the model's "don't"."""
    data = [(s.replace(" the ", " the &amp; "), t.replace(" der ", " der &amp; ")) for s, t in pairs(80, seed=4)]
    tr = Translator(**{**tiny, "max_epochs": 1}).fit(data, out=tmp_path)
    for tok in (tr.src_tokenizer_, tr.tgt_tokenizer_):
        assert "&" in tok.vocab.stoi and not {"amp", ";", "&amp;"} & set(tok.vocab.stoi)
    state = json.loads((tr.run_dir_ / "vocab.json").read_text())
    assert state["src"]["html"] is state["tgt"]["html"] is True
    # references escaped as the corpus ships them score as the same references written plainly
    plain = [(s, t[:-1] + " don't.") for s, t in pairs(6, seed=7)]
    escaped = [(s, t.replace("'", "&#39;")) for s, t in plain]
    said, want = fitted.evaluate(escaped, out_file=tmp_path / "s.tsv"), fitted.evaluate(plain)
    assert (said["bleu"], said["chrf"]) == (want["bleu"], want["chrf"]) and said["references_unescaped"] == 6
    assert "references_unescaped" not in want
    assert "&#39;" not in (tmp_path / "s.tsv").read_text()
    # a model saved before (no 'html' in vocab.json) scores its references as written
    fitted.tgt_tokenizer_.html = False
    try:
        assert fitted.evaluate(escaped)["chrf"] != want["chrf"]
    finally:
        fitted.tgt_tokenizer_.html = True


def test_the_doctor_compares_a_translator_with_the_source_copied():
    """A translator one epoch in wrote nothing of the references (validation BLEU 0, the source copied
    as it is 1.4) and the doctor compared it with nothing; trained on, it beats the copy."""
    from lstmkit.train.doctor import format_report
    from translate_data import TINY, make_pairs
    early = Translator(**{**TINY, "doctor": True, "max_epochs": 1}).fit(make_pairs(300))
    (lost,) = early.result_.doctor["findings"]
    assert lost["kind"] == "loses_to_baseline" and lost["numbers"]["best_baseline"] == "copy_source"
    assert lost["evidence"][0].startswith("BLEU on 15 validation sentences: the model 0, the best baseline "
                                          "(copy_source) 1.4 (higher is better")
    assert lost["remedies"][0].startswith("train longer: max_epochs=20 (now 1;")
    trained = Translator(**{**TINY, "doctor": True, "max_epochs": 10}).fit(make_pairs(300))
    assert trained.result_.doctor["findings"] == []
    assert "validation BLEU: the model 85.9, the best baseline (copy_source) 1.4" in format_report(
        trained.result_.doctor)


def test_a_vocabulary_that_leaves_most_words_unknown_is_said(tiny):
    """A first try on a few dozen real sentence pairs: the default min_freq 2 kept a third of the
    words, <unk> was the commonest target token, and the model translated every sentence as
    '<unk> <unk> …' without a word said. Now a warning names the share and the fix."""
    from lstmkit import Translator
    rng = np.random.default_rng(0)
    words = [f"w{k}" for k in range(400)]                  # most words seen once in 40 pairs
    data = [(" ".join(rng.choice(words, 5)) + " .", " ".join(rng.choice(words, 5)).upper() + " .") for _ in range(40)]
    params = {**tiny, "max_epochs": 1, "min_freq": 2}
    with pytest.warns(UserWarning, match=r"^\d+% of the targets' and \d+% of the sources' training words are <unk> "
                                         r"\(min_freq=2 keeps the words seen 2 times or more in 38 training pairs\): "
                                         r"the model learns to write <unk> .*; pass min_freq=1, or train on more pairs$") as got:
        Translator(**params).fit(data)
    # the validation part's unknown source words are that warning's news: not said again by its scoring
    assert not [w for w in got if "of the source sentences' words are unknown" in str(w.message)], got
    with pytest.warns(UserWarning, match=r"training words are <unk> \(max_size=10\).*raise it, or train on more pairs$"):
        Translator(**{**params, "min_freq": 1, "max_size": 10}).fit(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # every word kept: nothing to say
        Translator(**{**params, "min_freq": 1}).fit(data)


def test_a_lower_casing_model_is_scored_case_insensitively(tmp_path, pairs, tiny):
    """A model trained with lowercase=True writes no capital: against cased references each 'Hund' and
    'Katze' it wrote as 'hund', 'katze' was a miss, and its validation BLEU, evaluate's and the
    doctor's copy baseline said so (word-for-word right, scored far below 100). Both are scored
    case-insensitively now, and the signature says case:lc."""
    import sacrebleu
    tr = Translator(**{**tiny, "max_epochs": 8, "patience": 8, "max_len": 8, "lowercase": True}).fit(
        pairs(300, seed=1), out=tmp_path)
    test = pairs(40, seed=9)
    src, refs = [s for s, _ in test], [t for _, t in test]
    m = tr.evaluate(test, beam=1, out_file=tmp_path / "s.tsv")
    hyps = tr.translate(src, beam=1)
    assert all(h == h.lower() for h in hyps) and any(r != r.lower() for r in refs)
    assert "case:lc" in m["bleu_signature"] and "case:lc" in m["chrf_signature"] and m["lowercase"] is True
    assert m["bleu"] == round(sacrebleu.corpus_bleu(hyps, [refs], lowercase=True).score, 2)
    assert m["bleu"] > sacrebleu.corpus_bleu(hyps, [refs]).score + 15          # 55.1 against 35.2
    assert "case:lc" in tr.metrics_["val"]["bleu_signature"]
    cased = Translator(**{**tiny, "max_epochs": 1, "max_len": 8}).fit(pairs(60, seed=1))
    assert "case:mixed" in cased.evaluate(test, beam=1)["bleu_signature"]


def _named_pairs(make_pairs, n, seed):
    """Toy pairs with a made-up name in both sentences, at the start or the end ('Zpro the dog.' ->
    'Zpro der Hund.'): each name too rare for the vocabularies, <unk> on both sides."""
    rng = np.random.default_rng(seed)
    out = []
    for s, t in make_pairs(n, seed=seed, max_len=4):
        name = "".join(rng.choice(list("bcdfgklmnprstvz"), 3)).capitalize() + "o"
        first = bool(rng.integers(0, 3))
        out.append((f"{name} {s}", f"{name} {t}") if first else (f"{s[:-1]} {name}.", f"{t[:-1]} {name}."))
    return out


def test_an_unknown_word_the_decoder_writes_is_the_source_word_it_attends_to(pairs, tiny):
    """The decoder writes <unk> for a name neither vocabulary holds: translations showed '<unk> rennt
    der.' to users, and BLEU scored each as three tokens ('<', 'unk', '>') no reference holds (32.2 on
    these pairs). Each <unk> is now the unknown source word attended to most (93.6)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tr = Translator(**{**tiny, "max_epochs": 12, "patience": 12, "max_len": 8, "min_freq": 2}).fit(
            _named_pairs(pairs, 400, 1))
    test = _named_pairs(pairs, 40, 7)
    for beam in (1, 3):
        out = tr.translate([s for s, _ in test], beam=beam)
        assert not any("<unk>" in o for o in out)
        copied = sum(t.split()[0] in o.split()[:1] or t.split()[-1] in o.split()[-1:] for (_, t), o in zip(test, out))
        assert copied >= 36, list(zip(test, out))
    assert "<unk>" in tr.output_tokens(test[0][0])[0]          # the model's own tokens still say what it wrote
    assert tr.evaluate(test, beam=3)["bleu"] > 80


def test_evaluate_takes_the_case_and_the_bleu_tokenizer_to_score_with(fitted, pairs, monkeypatch):
    import sacrebleu
    import lstmkit.tasks.translate.metrics as metrics
    from lstmkit.errors import MissingPackage
    test = pairs(30, seed=9)
    lower = [(s, t.lower()) for s, t in test]
    with pytest.warns(UserWarning, match="no reference holds a capital letter") as caught:
        cased = fitted.evaluate(lower, beam=1)
    assert caught[0].filename == __file__                   # said at the caller's line
    hyps = fitted.translate([s for s, _ in test], beam=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = fitted.evaluate(lower, beam=1, lowercase=True, tokenize="intl")
    assert "case:lc" in m["bleu_signature"] and "tok:intl" in m["bleu_signature"] and m["bleu"] > cased["bleu"]
    assert m["bleu"] == round(sacrebleu.corpus_bleu(hyps, [[t for _, t in lower]], lowercase=True,
                                                    tokenize="intl").score, 2)
    with pytest.raises(LstmkitError, match="unknown BLEU tokenizer 'mecab'.*one of: 13a"):
        fitted.evaluate(test, beam=1, tokenize="mecab")
    with pytest.raises(LstmkitError, match="lowercase must be True, False or None"):
        fitted.evaluate(test, beam=1, lowercase="yes")

    def no_mecab(*args, **kwargs):          # sacrebleu's own way of saying MeCab is missing
        raise RuntimeError("Japanese tokenization requires extra dependencies")
    monkeypatch.setattr(sacrebleu.metrics, "BLEU", no_mecab)
    with pytest.raises(MissingPackage, match=r"ja-mecab tokenizer needs sacrebleu\[ja\]"):
        metrics.corpus_scores(["a"], ["a"], tokenize="ja-mecab")


def test_evaluate_takes_several_reference_files(fitted, pairs, tmp_path):
    import sacrebleu
    test = pairs(12, seed=9)
    (tmp_path / "t.en").write_text("\n".join(s for s, _ in test) + "\n")
    (tmp_path / "a.de").write_text("\n".join(t for _, t in test) + "\n")
    hyps = fitted.translate([s for s, _ in test], beam=1)
    other = [h.replace("Hund", "Köter") for h in hyps]                # the model's own wording, nearly
    (tmp_path / "b.de").write_text("\n".join(other) + "\n")
    m = fitted.evaluate(src_file=tmp_path / "t.en", ref_file=[tmp_path / "a.de", tmp_path / "b.de"], beam=1)
    assert "nrefs:2" in m["bleu_signature"]
    assert m["bleu"] == round(sacrebleu.corpus_bleu(hyps, [[t for _, t in test], other]).score, 2)
    one = fitted.evaluate(src_file=tmp_path / "t.en", ref_file=[tmp_path / "a.de"], beam=1)
    alone = fitted.evaluate(src_file=tmp_path / "t.en", ref_file=tmp_path / "a.de", beam=1)
    assert one["bleu_signature"] == alone["bleu_signature"] and one["bleu"] == alone["bleu"] < m["bleu"]


def test_evaluate_from_threads_leaves_the_process_warning_filters_and_says_its_notes(fitted, pairs):
    """evaluate caught translate's notes with catch_warnings(record=True), which swaps the process's
    filters: four threads evaluating at once left its 'always' filter behind for good. The notes are
    kept per thread now, and a call still says them as its caller's."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    data = [(s + " x" * 12, t) for s, t in pairs(6, seed=3)]        # over max_len: a note of sources cut
    with pytest.warns(UserWarning, match="max_len") as said:
        alone = fitted.evaluate(data)["bleu"]
    assert said[0].filename == __file__
    filters, show = list(warnings.filters), warnings.showwarning
    start = threading.Barrier(4)

    def one(_):
        start.wait(120)             # the second four wait for the slowest of the first: a loaded machine is slow
        return fitted.evaluate(data)["bleu"]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        filters, show = list(warnings.filters), warnings.showwarning
        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(one, range(8)))
        assert warnings.filters == filters and warnings.showwarning is show
    assert got == [alone] * 8


def test_a_source_of_exactly_max_len_or_of_the_longest_trained_length_is_not_said():
    """A source of ``max_len`` tokens is translated whole, and one as long as the longest training
    source is within what the model learned: neither is told; one token more is."""
    from lstmkit.tasks.translate.estimator import cut_sources, longer_than_trained
    assert cut_sources([[5] * 8], 8) is None and cut_sources([[5] * 8, [6] * 3], 8) is None
    assert cut_sources([[5] * 9], 8).startswith("the source sentence has 9 tokens, more than the model's max_len=8")
    assert cut_sources([[5] * 9], None) is None                         # --max-len none: nothing is cut
    assert longer_than_trained([[5] * 7, [6] * 2], 7, 16) is None
    assert longer_than_trained([[5] * 8, [6] * 7], 7, 16).startswith("1 source sentence(s) longer than any the model "
                                                                    "was trained on (8 tokens; the longest training "
                                                                    "source 7)")
    assert longer_than_trained([[5] * 80], None, 16) is None             # a run that recorded none


def test_a_length_penalty_of_zero_ranks_by_the_sum_of_log_probabilities(fitted):
    """``alpha`` 0 is the plain sum (a length penalty of 1 whatever the length), accepted like any
    number >= 0: the translation is the search's own at alpha 0."""
    from lstmkit.nn.seq2seq import beam_search
    for alpha in (0, 0.0, 0.5):
        hyp = fitted.translate(["the dog runs ."], beam=3, alpha=alpha)[0]
        ids = fitted.src_tokenizer_.encode("the dog runs .")
        want = beam_search(fitted.net_, torch.tensor([ids]), torch.tensor([len(ids)]), 3, float(alpha),
                           fitted.config_.max_len_ratio, fitted.decode_steps())[0]
        assert hyp == fitted._written("the dog runs .", want)


def test_an_unknown_word_without_attention_weights_to_copy_by_stays_unknown(fitted):
    """A hypothesis without attention rows (``attention='none'``) gives no source word to copy for its
    <unk>: the translation says <unk> rather than failing."""
    from lstmkit.nn.seq2seq import EOS_ID, Hypothesis
    assert fitted._written("the dog runs .", Hypothesis([UNK_ID, EOS_ID], 0.0, None)) == "<unk>"
