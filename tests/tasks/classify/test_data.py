import json

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.classify.data import read_texts
from lstmkit.tasks.classify.series import read_series


def test_csv_tsv_jsonl_and_gz(tmp_path):
    df = pd.DataFrame({"review": ["good", "bad, really", "ok"], "y": [1, 0, 1]})
    df.to_csv(tmp_path / "d.csv", index=False)
    df.to_csv(tmp_path / "d.tsv", sep="\t", index=False)
    df.to_csv(tmp_path / "d.csv.gz", index=False)
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in df.to_dict("records")) + "\n")
    for name in ("d.csv", "d.tsv", "d.csv.gz", "d.jsonl"):
        d = read_texts(tmp_path / name, text="review", label="y")
        assert d.texts == ["good", "bad, really", "ok"] and d.labels == ["1", "0", "1"], name


def test_class_folders(tmp_path):
    for cls, texts in {"pos": ["great", "fine"], "neg": ["awful"], "unsup": ["?"]}.items():
        (tmp_path / cls).mkdir()
        for i, t in enumerate(texts):
            (tmp_path / cls / f"{i}_1.txt").write_text(t)
    d = read_texts(tmp_path)
    assert sorted(zip(d.labels, d.texts)) == [("neg", "awful"), ("pos", "fine"), ("pos", "great")]


def test_hidden_folders_and_files_beside_class_folders_are_no_class_and_no_text(tmp_path):
    # Jupyter's .ipynb_checkpoints/ was read as a class of its own, macOS's ._0.txt files as texts
    for cls in ("pos", "neg", ".ipynb_checkpoints", "__MACOSX"):
        (tmp_path / cls).mkdir()
        (tmp_path / cls / "0.txt").write_text(f"a {cls} text")
    (tmp_path / "pos" / "._0.txt").write_bytes(b"\x00\x05\x16\x07")
    d = read_texts(tmp_path)
    assert sorted(zip(d.labels, d.texts)) == [("neg", "a neg text"), ("pos", "a pos text")]


@pytest.mark.parametrize("parts, fix", [
    (("train", "test"), "pass --data {r}/train --test {r}/test to train and score on the test part (to evaluate a run: "
                        "--data {r}/test)"),
    (("train", "dev"), "pass one of them as --data ({r}/dev or {r}/train)"),
])
def test_a_downloads_top_folder_names_its_parts_to_pass(tmp_path, parts, fix):
    """``--data aclImdb`` (train/ and test/, each holding pos/ and neg/): was "sub-folders (test, train) hold no
    .txt files — put each class's texts in a sub-folder named by the class", which they are, one level down."""
    root = tmp_path / "aclImdb"
    for part in parts:
        for cls in ("pos", "neg", "unsup"):
            (root / part / cls).mkdir(parents=True)
            (root / part / cls / "0_9.txt").write_text(f"{cls} review")
    (root / "imdb.vocab").write_text("good\n")
    with pytest.raises(LstmkitError, match=r"aclImdb is the top folder of a data set in parts: its sub-folders "
                                           rf"{min(parts)}/ \(neg, pos\)") as e:
        read_texts(root)
    assert e.value.hint == fix.format(r=root)
    d = read_texts(root / parts[0])                      # the fix works
    assert sorted(d.labels) == ["neg", "pos"]


def test_labels_optional_for_prediction(tmp_path):
    pd.DataFrame({"text": ["a", "b"]}).to_csv(tmp_path / "d.csv", index=False)
    assert read_texts(tmp_path / "d.csv", require_label=False).labels is None
    with pytest.raises(LstmkitError, match="label column 'label' not found"):
        read_texts(tmp_path / "d.csv")


def test_empty_texts_counted_or_dropped():
    df = pd.DataFrame({"text": ["a", "  ", None, "b"], "label": ["x", "y", "x", "y"]})
    with pytest.raises(LstmkitError, match=r"2 of 4 rows .* empty or whitespace-only.*row 2.*--drop-empty"):
        read_texts(df)
    with pytest.warns(UserWarning, match=r"^2 of 4 rows of the data dropped for empty or whitespace-only text "
                                         r"\(first: data row 2\), as --drop-empty asks"):
        d = read_texts(df, drop_empty=True)
    assert d.texts == ["a", "b"] and d.labels == ["x", "y"] and d.n_dropped == 2


def test_non_utf8_names_the_line(tmp_path):
    p = tmp_path / "d.csv"
    p.write_bytes("text,label\ngood,1\ncaf\xe9 bad,0\n".encode("latin-1"))
    with pytest.raises(LstmkitError, match=r"line 3 is not valid utf-8.*--encoding"):
        read_texts(p)
    assert read_texts(p, encoding="latin-1").texts[1] == "café bad"


def test_a_class_folder_of_upper_case_txt_files_is_read(tmp_path):
    """neg/1.TXT was passed over: 'only one class ('pos') … check the --label column'."""
    for c, name in (("pos", "1.txt"), ("pos", "2.txt"), ("neg", "1.TXT"), ("neg", "2.Txt")):
        (tmp_path / c).mkdir(exist_ok=True)
        (tmp_path / c / name).write_text(f"{c} words {name}")
    (tmp_path / "neg" / "notes.md").write_text("not a text of the class")
    d = read_texts(tmp_path)
    assert sorted(zip(d.labels, d.texts)) == [("neg", "neg words 1.TXT"), ("neg", "neg words 2.Txt"),
                                              ("pos", "pos words 1.txt"), ("pos", "pos words 2.txt")]


def test_a_file_of_numbers_given_as_texts_points_at_series(tmp_path):
    """A UCR file without --series: 'add a header line naming the columns (this one 'text')', which
    would have trained a text model on the numbers."""
    p = tmp_path / "Gun_TRAIN.tsv"
    p.write_text("1\t0.5\t0.5\t-1.25\n2\t0.1\t0.2\t0.3\n")
    with pytest.raises(LstmkitError, match=r"Gun_TRAIN.tsv holds numbers, not texts \(its first line: 1, 0.5, 0.5.1, "
                                           r"-1.25, …\) — to classify numeric sequences add --series"):
        read_texts(p)


def test_a_folder_of_texts_reads_as_files_do(tmp_path):
    """A class folder's .txt files decode as a table does: the bad byte's line and --encoding,
    a UTF-8 byte-order mark dropped, a binary file named .txt refused."""
    for c in ("pos", "neg"):
        (tmp_path / c).mkdir()
        (tmp_path / c / "1.txt").write_text("fine words", encoding="utf-8-sig")
    d = read_texts(tmp_path)
    assert sorted(zip(d.labels, d.texts)) == [("neg", "fine words"), ("pos", "fine words")]   # no BOM left
    (tmp_path / "neg" / "2.txt").write_bytes("ok\ncaf\xe9".encode("latin-1"))
    with pytest.raises(LstmkitError, match=r"2.txt line 2 is not valid utf-8 \(byte 0xe9\).*--encoding"):
        read_texts(tmp_path)
    assert "ok\ncafé" in read_texts(tmp_path, encoding="latin-1").texts
    (tmp_path / "neg" / "2.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(LstmkitError, match="2.txt is not a text file"):
        read_texts(tmp_path)


def test_missing_column_lists_columns_and_empty_file(tmp_path):
    with pytest.raises(LstmkitError, match="text column 'text' not found.*review"):
        read_texts(pd.DataFrame({"review": ["a"], "label": ["b"]}))
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(LstmkitError, match="empty"):
        read_texts(tmp_path / "e.csv")
    (tmp_path / "h.csv").write_text("text,label\n")
    with pytest.raises(LstmkitError, match="no data rows"):
        read_texts(tmp_path / "h.csv")


def test_a_two_column_table_without_text_or_label_names_them_itself(tmp_path):
    """A reviews file 'review,sentiment' took two round trips of errors (--text, then --label)."""
    reviews = pd.DataFrame({"sentiment": ["pos", "neg", "pos", "neg"] * 3,
                            "review": [f"a film {w} number {i}" for i, w in enumerate(["good", "bad", "fine", "dull"] * 3)]})
    with pytest.warns(UserWarning, match="column 'review' as the texts and 'sentiment' as the labels"):
        d = read_texts(reviews)
    assert d.columns == ("review", "sentiment") and d.texts[0] == "a film good number 0" and d.labels[:2] == ["pos", "neg"]
    with pytest.warns(UserWarning, match="column 'review' as the texts and 'label' as the labels"):
        assert read_texts(reviews.rename(columns={"sentiment": "label"})).columns == ("review", "label")
    with pytest.warns(UserWarning, match="column 'text' as the texts and 'sentiment' as the labels"):
        assert read_texts(reviews.rename(columns={"review": "text"})).columns == ("text", "sentiment")
    for unclear in (reviews.assign(other=1), reviews.assign(sentiment=reviews.review + "!")):   # 3 columns; no classes
        with pytest.raises(LstmkitError, match="text column 'text' not found"):
            read_texts(unclear)
    assert read_texts(reviews, text="review", label="sentiment").columns is None     # named: nothing implied
    reviews.to_csv(tmp_path / "r.csv", index=False)                                  # the run keeps what it read
    from lstmkit import TextClassifier
    with pytest.warns(UserWarning, match="as the texts"):
        est = TextClassifier(max_epochs=1, hidden_size=4, embed_dim=4, progress="off").fit(tmp_path / "r.csv")
    assert (est.config_.text, est.config_.label) == ("review", "sentiment") and len(est.predict(tmp_path / "r.csv")) == 12


def test_prediction_reads_a_txt_file_of_lines_and_a_one_column_table(tmp_path):
    """'unknown file type .txt' for a file of texts to label, and 'text column review not found'
    for a table whose one column is the texts under another name."""
    (tmp_path / "new.txt").write_text("a good film\n\nbad plot\n")
    d = read_texts(tmp_path / "new.txt", text="review", require_label=False)
    assert d.texts == ["a good film", "bad plot"] and d.labels is None          # blank lines skipped, as stdin's
    with pytest.raises(LstmkitError, match=r"new\.txt is a \.txt file with no labels: no line starts with __label__"):
        read_texts(tmp_path / "new.txt")
    with pytest.warns(UserWarning, match="no column 'review'.*reading its one column 'sentence' as the texts"):
        d = read_texts(pd.DataFrame({"sentence": ["a", "b"]}), text="review", require_label=False)
    assert d.texts == ["a", "b"]
    with pytest.raises(LstmkitError, match="text column 'review' not found"):      # two columns: which is unclear
        read_texts(pd.DataFrame({"sentence": ["a"], "id": ["1"]}), text="review", require_label=False)


# -- numeric -------------------------------------------------------------------------------------------
def test_ucr_tsv_and_ragged_rows(tmp_path):
    p = tmp_path / "X_TRAIN.tsv"
    p.write_text("1\t0.1\t0.2\t0.3\n2\t1\t2\t3\n")
    d = read_series(p)
    assert d.labels == ["1", "2"] and d.seqs[1].shape == (3, 1) and d.seqs[1][:, 0].tolist() == [1, 2, 3]
    p.write_text("1\t0.1\t0.2\t0.3\n2\t1\t2\tNaN\n2\t5\n")
    with pytest.raises(LstmkitError, match=r"different lengths.*--unequal-length") as e:
        read_series(p)
    assert "padding" not in str(e.value)            # the note on an array's NaN padding: no array here
    d = read_series(p, unequal_length=True)
    assert [len(s) for s in d.seqs] == [3, 2, 1]
    p.write_text("1\t0.1\tx\n")
    with pytest.raises(LstmkitError, match="line 1: value 2 is not a number"):
        read_series(p)


def test_ucr_lines_with_spaces_beside_their_commas_and_tabs(tmp_path):
    """'1, 0.5, 0.7' (a comma and a space, as people and many tools write a CSV) is the label 1 and
    the series 0.5, 0.7: the space was split off as a cell of its own, and every such line was
    'a missing value at position 1'. Two commas or tabs in a row still hold an empty cell."""
    (tmp_path / "spaced.csv").write_text("1, 0.5, 0.7, 0.9\n2 ,0.1 , 0.2,0.4\n")
    (tmp_path / "spaced.tsv").write_text("1\t 0.5 \t0.7\t0.9\n2\t0.1\t0.2\t0.4\n")
    for name in ("spaced.csv", "spaced.tsv"):
        d = read_series(tmp_path / name)
        assert d.labels == ["1", "2"], name
        assert [s[:, 0].tolist() for s in d.seqs] == [[0.5, 0.7, 0.9], [0.1, 0.2, 0.4]], name
    (tmp_path / "gap.csv").write_text("1, 0.5,, 0.9\n")
    with pytest.raises(LstmkitError, match="line 1 has a missing value at position 2"):
        read_series(tmp_path / "gap.csv")


def test_a_first_line_of_a_name_then_the_steps_numbered_from_0_or_1_is_a_header():
    """'series,0,1,2' and 'series,1,2,3' (a frame's columns, numbered from 0 or from 1) name columns
    when no later line starts with 'series'; a first cell that later lines start with is a UCR label,
    and numbers rising from 2 are a series."""
    from lstmkit.tasks.classify.ucrfile import is_table_header

    later = {"a", "b"}
    assert is_table_header("series,0,1,2", ",", "label", later)
    assert is_table_header("series,1,2,3", ",", "label", later)
    assert not is_table_header("a,1,2,3", ",", "label", later)
    assert not is_table_header("series,2,3,4", ",", "label", later)


def test_long_csv_sorted_by_time_with_constant_labels(tmp_path):
    df = pd.DataFrame({"sample": [7, 7, 3, 3, 3], "t": [1, 0, 0, 2, 1], "a": [1.0, 0.0, 5, 7, 6],
                       "b": [0, 0, 0, 0, 0], "label": ["x", "x", "y", "y", "y"]})
    d = read_series(df, unequal_length=True)
    assert d.labels == ["x", "y"] and d.feature_names == ["a", "b"]
    assert d.seqs[0][:, 0].tolist() == [0.0, 1.0] and d.seqs[1][:, 0].tolist() == [5, 6, 7]
    with pytest.raises(LstmkitError, match="different lengths"):
        read_series(df)
    bad = df.assign(label=["x", "z", "y", "y", "y"])
    with pytest.raises(LstmkitError, match="sample '7'.*several labels"):
        read_series(bad, unequal_length=True)
    df.to_csv(tmp_path / "long.csv", index=False)
    assert len(read_series(tmp_path / "long.csv", unequal_length=True)) == 2


def test_long_csv_from_a_spreadsheet_reads_decimal_commas_and_utf16(tmp_path):
    df = pd.DataFrame({"sample": [1, 1, 2, 2], "t": [0, 1, 0, 1], "a": [0.5, 1.25, -2.0, 3.0], "label": ["x", "x", "y", "y"]})
    comma = df.assign(a=df["a"].map(lambda v: f"{v:g}".replace(".", ",")))
    comma.to_csv(tmp_path / "semi.csv", sep=";", index=False)        # the European spreadsheet export
    (tmp_path / "excel.csv").write_bytes(comma.to_csv(sep="\t", index=False).encode("utf-16"))
    df.to_csv(tmp_path / "points.csv", sep=";", index=False)         # a semicolon file with decimal points
    for name in ("semi.csv", "excel.csv", "points.csv"):
        d = read_series(tmp_path / name)
        assert d.labels == ["x", "y"] and d.seqs[0][:, 0].tolist() == [0.5, 1.25], name
        assert d.seqs[1][:, 0].tolist() == [-2.0, 3.0], name
    with pytest.raises(LstmkitError, match=r"time column 'T' not found.*did you mean 't'"):
        read_series(tmp_path / "semi.csv", time="T")


def test_a_semicolon_series_tables_thousands_dots_are_refused_as_forecast_refuses_them(tmp_path):
    """1.032 beside 976 in a semicolon file (a European spreadsheet's thousands dot) was read as
    1.032 and 976; now the two readings are named, long (per feature column) and wide (over all
    steps), also in a tab file whose other columns hold decimal commas. Decimal points that cannot
    be thousands (0.5, 1.25), and an English tab file's 1.032, read as before."""
    refused = {"long.csv": ("sample;t;x;label\n1;0;976;up\n1;1;1.032;up\n2;0;5;down\n2;1;7;down\n",
                            r"column 'x' holds numbers that read two ways: '1.032' in line 3 in .*long\.csv is 1032 "
                            r"with a thousands separator .* or 1.032 with a decimal point"),
               "wide.csv": ("label;t0;t1\nup;976;880\ndown;1.032;1.500\n",      # one step column all dots
                            r"column 't0' holds numbers that read two ways: '1.032' in line 3"),
               "tabs.tsv": ("sample\tt\tx\tw\tlabel\n1\t0\t1.032\t0,5\tup\n1\t1\t2.500\t1,5\tup\n",
                            r"column 'x' holds numbers that read two ways: '1.032'")}
    for name, (text, needle) in refused.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(LstmkitError, match=needle):
            read_series(tmp_path / name)
    (tmp_path / "english.tsv").write_text("sample\tt\tx\tlabel\n1\t0\t1.032\tup\n1\t1\t976\tup\n")
    assert read_series(tmp_path / "english.tsv").seqs[0][:, 0].tolist() == [1.032, 976]
    (tmp_path / "points.csv").write_text("label;t0;t1\nup;976;0.5\ndown;1.25;3\n")
    assert read_series(tmp_path / "points.csv").seqs[0][:, 0].tolist() == [976, 0.5]


def test_wide_csv_one_row_per_sample_and_headerless_ucr_csv(tmp_path):
    """The layouts a series file comes in besides UCR's .tsv and the long table: one row per
    sample (steps in columns, a label column anywhere, trailing empty cells a shorter series,
    a spreadsheet's decimal commas), and UCR's own layout with commas and no header."""
    (tmp_path / "wide.csv").write_text("t0,t1,t2,label\n0.5,1,2,up\n3,4,,down\n")
    d = read_series(tmp_path / "wide.csv", unequal_length=True)
    assert d.labels == ["up", "down"] and d.feature_names == ["value"]
    assert d.seqs[0][:, 0].tolist() == [0.5, 1, 2] and d.seqs[1][:, 0].tolist() == [3, 4]
    (tmp_path / "semi.csv").write_text("label;t0;t1\nup;0,5;1,25\ndown;-2;3\n")
    assert read_series(tmp_path / "semi.csv").seqs[0][:, 0].tolist() == [0.5, 1.25]
    unlabelled = read_series(pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}), require_label=False)
    assert unlabelled.labels is None and unlabelled.seqs[1][:, 0].tolist() == [2.0, 4.0]
    (tmp_path / "ucr.csv").write_text("1,0.1,0.2,0.3\n2,1,2,3\n")
    d = read_series(tmp_path / "ucr.csv")
    assert d.labels == ["1", "2"] and d.seqs[1][:, 0].tolist() == [1, 2, 3]
    (tmp_path / "hole.csv").write_text("t0,t1,t2,label\n1,,2,up\n")
    with pytest.raises(LstmkitError, match=r"line 2 in .*hole.csv has an empty cell in column 't1' before"):
        read_series(tmp_path / "hole.csv")
    (tmp_path / "cls.csv").write_text("t0,t1,class\n1,2,up\n")
    with pytest.raises(LstmkitError, match=r"neither long \(no sample column 'sample'\) nor wide \(no label "
                                           r"column 'label'\).*--sample and --time.*\(t0, t1, class\).*--label"):
        read_series(tmp_path / "cls.csv")
    assert read_series(tmp_path / "cls.csv", label="class").labels == ["up"]
    (tmp_path / "ids.csv").write_text("id,step,v,label\ns0,0,1,up\ns0,1,2,up\n")
    with pytest.raises(LstmkitError, match=r"nor wide \(column 'id' holds text: 's0'\)"):
        read_series(tmp_path / "ids.csv")


def test_arrays():
    d = read_series(np.zeros((4, 10)), y=[0, 1, 0, 1])
    assert d.seqs[0].shape == (10, 1) and d.labels == ["0", "1", "0", "1"]
    with pytest.raises(LstmkitError, match="different lengths"):
        read_series([np.zeros(3), np.zeros(4)])
    with pytest.raises(LstmkitError, match="2 sequences but 3 labels"):
        read_series(np.zeros((2, 3)), y=[1, 2, 3])


def test_labels_from_y_follow_dropped_texts():
    with pytest.warns(UserWarning, match="1 of 3 rows of the data dropped"):
        d = read_texts(["good", " ", "bad"], y=["p", "n", "n"], drop_empty=True)
    assert d.texts == ["good", "bad"] and d.labels == ["p", "n"]
    with pytest.raises(LstmkitError, match="3 texts but 2 labels"):
        read_texts(["a", "b", "c"], y=["p", "n"])


def test_labels_in_the_data_and_in_y_are_an_error_as_for_series(tmp_path):
    """``read_texts(df_with_a_label_column, y=…)`` silently took y and dropped the table's labels;
    now it is the error the series reader gives (one helper), for a table, a file and a layout that
    labels every text (class folders, fastText's marks). A table without the label column takes y."""
    df = pd.DataFrame({"text": ["good", "bad"], "label": ["pos", "neg"]})
    with pytest.raises(LstmkitError) as text_error:
        read_texts(df, y=["neg", "pos"])
    with pytest.raises(LstmkitError) as series_error:
        read_series(pd.DataFrame({"label": ["a", "b"], "v1": [1, 2], "v2": [3, 4]}), y=["a", "b"])
    said = "labels given twice: in the data's 'label' column and as y"
    assert text_error.value.message == series_error.value.message == said
    assert text_error.value.hint == series_error.value.hint == "pass only one of them (drop y, or the label column)"
    df.rename(columns={"label": "stars"}).to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(LstmkitError, match=r"^labels given twice: in the data's 'stars' column and as y — "):
        read_texts(tmp_path / "r.csv", label="stars", y=["neg", "pos"])
    d = read_texts(tmp_path / "r.csv", y=["neg", "pos"])           # no 'label' column: y is the labels
    assert (d.texts, d.labels) == (["good", "bad"], ["neg", "pos"])
    assert read_texts(df[["text"]], y=["neg", "pos"]).labels == ["neg", "pos"]
    for cls in ("pos", "neg"):
        (tmp_path / "tree" / cls).mkdir(parents=True)
        (tmp_path / "tree" / cls / "0.txt").write_text("good" if cls == "pos" else "bad")
    (tmp_path / "r.ft.txt").write_text("__label__pos good\n__label__neg bad\n")
    for path, own in ((tmp_path / "tree", "the class folders of"), (tmp_path / "r.ft.txt", "the __label__ marks of")):
        with pytest.raises(LstmkitError, match=rf"^labels given twice: in {own} .*{path.name} and as y — ") as e:
            read_texts(path, y=["neg", "pos"])
        assert e.value.hint == "pass only one of them (drop y, or pass the texts alone with y)"


def test_prediction_reads_a_file_whose_label_column_is_partly_empty(tmp_path):
    """Labels are optional for predict: a half-labelled file (new rows not yet rated) is predicted,
    not refused; training and evaluation leave the unlabelled rows out, with a warning naming them."""
    f = tmp_path / "new.csv"
    f.write_text("text,label\ngood film,pos\nnot yet rated,\n")
    d = read_texts(f, require_label=False)
    assert d.texts == ["good film", "not yet rated"] and d.labels is None
    with pytest.warns(UserWarning, match=r"1 of 2 rows in .* has no label \(empty, NA, N/A or NaN; first: line 3\)"):
        assert read_texts(f).texts == ["good film"]
    long = tmp_path / "long.csv"
    long.write_text("sample,t,x,label\na,0,1.0,up\na,1,2.0,up\nb,0,1.0,\nb,1,0.5,NA\nc,0,3.0,\nc,1,2.0,down\n")
    assert read_series(long, require_label=False).labels is None
    with pytest.warns(UserWarning, match=r"1 of 3 samples in .* has no label .*first: line 4\): left out"):
        d = read_series(long)
    assert d.ids == ["a", "c"] and d.labels == ["up", "down"]       # c: its one label serves its rows


@pytest.mark.parametrize("sep, mark", [(",", "','"), ("\t", "tab")])
def test_a_row_whose_separator_is_missing_is_named_so(tmp_path, sep, mark):
    """A text and its label with a space for the separator ('good film pos') read as one text
    without a label: it was left out with 'has no label (empty, NA, …)'. Ending in a known label, the
    line is an error naming the missing separator; the one row without a label, the warning asks
    whether its separator is missing; a quoted text over two lines is no such line."""
    f = tmp_path / ("reviews.csv" if sep == "," else "reviews.tsv")
    rows = ["good film", "pos"], ["bad film", "neg"], ["great plot", "very good"], ["awful acting", "neg"]
    head = f"text{sep}label\n" + "".join(f"{t}{sep}{lab}\n" for t, lab in rows)
    f.write_text(head + "seen it twice very good\nok\n")
    with pytest.raises(LstmkitError, match=rf"line 6 holds no {mark}: its text and its label read as one text "
                                           r"\('seen it twice very good', ending in the label 'very good'\)") as e:
        read_texts(f)
    assert e.value.hint == f"put a {mark} between the text and its label, as on the other lines"
    f.write_text(head + "seen it twice\n")
    with pytest.warns(UserWarning, match=rf"first: line 6, which holds no {mark}: is its separator missing\?\)"):
        assert read_texts(f).texts == [t for t, _ in rows]
    f.write_text(head + "seen it twice\nok\n")                    # two rows without: unlabelled rows, as before
    with pytest.warns(UserWarning, match=r"first: line 6\): left out"):
        read_texts(f)
    if sep == ",":                                                   # a quoted text's first line holds no comma
        f.write_text(head + '"it was\nneg",\n')
        with pytest.warns(UserWarning, match=r"first: line 6\): left out"):
            read_texts(f)


@pytest.mark.parametrize("mark", ["NA", "N/A", "", "NaN", "nan", "#N/A"])
def test_rows_without_a_label_are_left_out_with_one_warning(tmp_path, mark):
    """A label cell of NA, N/A, NaN or nothing was a class of its own ('NA': trained and predicted)
    or refused the whole file; now the row is left out, one warning says how many and the first
    file line, and a table with no label left is one error."""
    f = tmp_path / "reviews.csv"
    f.write_text(f"text,label\ngood film,pos\nbad film,neg\nseen it,{mark}\nawful,neg\nmeh,{mark}\n")
    with pytest.warns(UserWarning) as caught:
        d = read_texts(f)
    assert len(caught) == 1 and "2 of 5 rows in" in str(caught[0].message) and "first: line 4" in str(caught[0].message)
    assert d.texts == ["good film", "bad film", "awful"] and d.labels == ["pos", "neg", "neg"]
    frame = pd.DataFrame({"text": ["a", "b", "c"], "label": ["pos", None if mark == "" else mark, "neg"]})
    with pytest.warns(UserWarning, match=r"1 of 3 rows has no label .*first: data row 2"):
        assert read_texts(frame).labels == ["pos", "neg"]
    wide = tmp_path / "wide.csv"
    wide.write_text(f"label,s1,s2,s3\nup,1,2,3\n{mark},3,2,1\ndown,3,2,1\n")
    with pytest.warns(UserWarning, match=r"1 of 3 rows in .* has no label .*first: line 3"):
        assert read_series(wide).labels == ["up", "down"]
    f.write_text(f"text,label\ngood film,{mark}\nbad film,{mark}\n")
    with pytest.raises(LstmkitError, match=r"no row in .* has a label \(empty, NA, N/A or NaN in every label cell\)"):
        read_texts(f)


@pytest.mark.parametrize("dtype", ["float64", "Float64", "float64[pyarrow]"])
@pytest.mark.filterwarnings("ignore:1 of 4 rows has no label")
def test_a_frames_whole_number_labels_with_a_gap_read_as_the_file_and_y_read_them(tmp_path, dtype):
    """pd.read_csv of an integer label column with an empty cell gives floats: the frame's classes
    were '0.0' and '1.0' where the file itself, its Parquet copy and the same column as y give '0'
    and '1', and a model fit on one refused the other ('labels not seen in training')."""
    frame = pd.DataFrame({"text": ["good", "bad", "fine", "meh"], "label": pd.array([1, 0, 1, None], dtype=dtype)})
    assert read_texts(frame).labels == ["1", "0", "1"]
    assert read_texts(frame["text"], y=frame["label"]).labels == ["1", "0", "1"]
    (tmp_path / "a.csv").write_text("text,label\ngood,1\nbad,0\nfine,1\nmeh,\n")     # what pd.read_csv read
    assert read_texts(tmp_path / "a.csv").labels == ["1", "0", "1"]
    assert read_texts(pd.read_csv(tmp_path / "a.csv")).labels == ["1", "0", "1"]
    wide = pd.DataFrame({"s0": [1.0, 2.0, 3.0], "s1": [2.0, 1.0, 0.0], "label": pd.array([1, None, 0], dtype=dtype)})
    with pytest.warns(UserWarning, match="1 of 3 rows has no label"):
        assert read_series(wide).labels == ["1", "0"]
    halves = pd.DataFrame({"text": ["a", "b", "c"], "label": pd.array([0.5, 1, None], dtype=dtype)})
    with pytest.warns(UserWarning, match="1 of 3 rows has no label"):
        assert read_texts(halves).labels == ["0.5", "1.0"]                   # not whole: as written


def test_evaluate_scores_the_labelled_rows_and_says_how_many_it_left_out(tmp_path, tiny, texts):
    from lstmkit.tasks.classify.estimator import TextClassifier
    x, y = texts(40)
    est = TextClassifier(**tiny, max_epochs=1).fit(x, y)
    f = tmp_path / "test.csv"
    pd.DataFrame({"text": x[:6], "label": [*y[:4], "N/A", "N/A"]}).to_csv(f, index=False)
    with pytest.warns(UserWarning, match=r"2 of 6 rows in .* have no label .*first: line 6"):
        m = est.evaluate(f)
    assert m == est.evaluate(x[:4], y[:4])           # the four labelled rows, scored as those rows alone


def test_text_fit_with_missing_labels_in_y_trains_on_the_labelled_texts(tiny, texts):
    """A pandas y with NaN (and None) left those texts out with one warning (was an error)."""
    from lstmkit.tasks.classify.estimator import TextClassifier
    x, y = texts(30)
    holed = pd.Series([np.nan if i % 10 == 1 else v for i, v in enumerate(y)], dtype=object)
    holed[2] = None
    with pytest.warns(UserWarning, match=r"4 of 30 texts have no label .*first: y\[1\]\): left out"):
        est = TextClassifier(**tiny, max_epochs=1).fit(pd.Series(x), holed)
    assert est.data_summary_["rows"] == 26 and list(est.classes_) == ["neg", "pos"]


def test_long_csv_time_stamps_order_the_steps(tmp_path):
    """A logger writes date-times, not step numbers: they order the steps (rows out of order here);
    a cell that is neither a number nor a date-time is still the error."""
    f = tmp_path / "log.csv"
    f.write_text("sample,t,x,label\n"
                 "a,2024-01-01 10:02:00,3.0,up\na,2024-01-01 10:00:00,1.0,up\na,2024-01-01 10:01:00,2.0,up\n"
                 "b,2024-01-01T11:00:00+01:00,5.0,down\nb,2024-01-01T10:30:00Z,4.0,down\nb,2024-01-01T10:59:00Z,6.0,down\n")
    d = read_series(f)
    assert [s[:, 0].tolist() for s in d.seqs] == [[1.0, 2.0, 3.0], [5.0, 4.0, 6.0]] and d.labels == ["up", "down"]
    f.write_text("sample,t,x,label\na,0,1.0,up\na,soon,2.0,up\n")
    with pytest.raises(LstmkitError, match="time column 't' .* must hold numbers or date-times"):
        read_series(f)


def test_prediction_never_drops_empty_texts():
    """A run trained with --drop-empty predicted 2 rows for 3 (the empty one dropped), so every
    later answer sat beside the wrong row; a prediction now names the empty row instead."""
    texts = ["very good", "", "awful"]
    with pytest.warns(UserWarning, match="1 of 3 rows of the data dropped"):
        assert read_texts(texts, y=["pos", "neg", "neg"], drop_empty=True).texts == ["very good", "awful"]
    with pytest.raises(LstmkitError, match=r"1 of 3 rows have empty .*row 2.*one per input row"):
        read_texts(texts, drop_empty=True, require_label=False)


def test_prediction_says_when_blank_lines_between_rows_were_skipped(tmp_path):
    """pandas skips a CSV's blank lines: a one-column file of texts then gets fewer answers than
    lines, each later answer beside the line it belongs to only if the user knows."""
    p = tmp_path / "t.csv"
    p.write_text("text\n\ngood\n\nbad\nfine\n\n\n")
    with pytest.warns(UserWarning, match=r"2 blank lines in .*t.csv between the data rows skipped \(line 2, 4\)"):
        assert read_texts(p, require_label=False).texts == ["good", "bad", "fine"]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")             # trailing blank lines, and training: nothing to say
        read_texts(p.with_name("u.csv").write_text("text\ngood\nbad\n\n\n") and p.with_name("u.csv"),
                   require_label=False)
        read_texts(p.with_name("v.csv").write_text("text,label\na,x\n\nb,y\n") and p.with_name("v.csv"))


def test_texts_labels_and_series_in_two_columns_of_one_name_are_refused():
    texts = pd.DataFrame([["a", "b", "x"], ["c", "d", "y"]], columns=["text", "text", "label"])
    with pytest.raises(LstmkitError, match="2 columns are named 'text'"):
        read_texts(texts)
    with pytest.raises(LstmkitError, match="2 columns are named 'label'"):       # it was read as the class 'label'
        read_texts(texts.set_axis(["text", "label", "label"], axis=1))
    long = pd.DataFrame({"sample": [0, 0, 1, 1], "t": [0, 1, 0, 1], "v": [1.0, 2.0, 3.0, 4.0], "w": [0.0] * 4,
                         "label": ["x", "x", "y", "y"]}).set_axis(["sample", "t", "v", "v", "label"], axis=1)
    with pytest.raises(LstmkitError, match="2 columns of the DataFrame are named 'v'"):
        read_series(long)


def test_texts_of_bytes_in_a_frame_are_refused_as_in_a_list():
    with pytest.raises(LstmkitError, match="item 2 of column 'text' is bytes"):       # it read "b'bad'"
        read_texts(pd.DataFrame({"text": ["good", b"bad"], "label": ["p", "n"]}))


def test_a_wide_frames_missing_cells_of_pandas_nullable_dtypes_are_empty_cells_not_text():
    """A Float64 frame's pd.NA was 'column 3 holds text: nan', and the table called neither long nor wide."""
    frame = pd.DataFrame(np.arange(12.0).reshape(3, 4)).astype("Float64").assign(label=["a", "b", "a"])
    frame.iloc[1, 3] = pd.NA
    assert [len(s) for s in read_series(frame, unequal_length=True).seqs] == [4, 3, 4]      # trailing: shorter
    frame.iloc[1, 1] = pd.NA
    with pytest.raises(LstmkitError, match="data row 2 has an empty cell in column '1' before its last value"):
        read_series(frame, unequal_length=True)


@pytest.mark.parametrize("sep", [",", "\t"])
def test_a_table_without_a_header_line_reads_its_first_line_as_data(tmp_path, sep):
    """A headerless file of texts (or of texts and labels) lost its first line as column names:
    predict answered one row fewer than the file has, each answer beside the next text's line,
    and training left the first example out."""
    texts = ["the plot is thin but the acting is wonderful .", "a dull, lifeless film .",
             "one of the best films of the year .", "i wanted my money back ."]
    labels = ["pos", "neg", "pos", "neg"]
    one, two = tmp_path / f"new{sep == ',' and '.csv' or '.tsv'}", tmp_path / f"train{sep == ',' and '.csv' or '.tsv'}"
    pd.DataFrame({"t": texts}).to_csv(one, sep=sep, header=False, index=False)
    with pytest.warns(UserWarning, match="has no header line .* is a text.*column 1 the texts"):
        d = read_texts(one, text="review", require_label=False)
    assert d.texts == texts and d.labels is None
    pd.DataFrame({"l": labels, "t": texts}).to_csv(two, sep=sep, header=False, index=False)
    with pytest.warns(UserWarning, match=r"is a label and a text\): read as data, column 1 the labels and column 2 the "
                                         r"texts; add a header line \(label,text\)"):
        d = read_texts(two)
    assert d.texts == texts and d.labels == labels
    pd.DataFrame({"t": texts, "l": labels}).to_csv(two, sep=sep, header=False, index=False)
    with pytest.warns(UserWarning, match="is a text and its label"):
        assert read_texts(two).texts == texts
    with pytest.warns(UserWarning, match="has no header line"):
        assert read_texts(two, require_label=False).texts == texts        # predict reads the texts of such a file
    # a header line stays one: a name of a few words above longer texts, a text column's name and a label's
    pd.DataFrame({"Customer review text": texts}).to_csv(one, sep=sep, index=False)
    with pytest.warns(UserWarning, match="reading its one column 'Customer review text'"):
        assert read_texts(one, require_label=False).texts == texts
    question = "How would you describe your experience with the film overall?"      # a survey export's column
    pd.DataFrame({question: texts}).to_csv(one, sep=sep, index=False)
    with pytest.warns(UserWarning, match="reading its one column 'How would you"):
        assert read_texts(one, require_label=False).texts == texts
    pd.DataFrame({"review text": texts, "sentiment": labels}).to_csv(two, sep=sep, index=False)
    with pytest.warns(UserWarning, match="column 'review text' as the texts and 'sentiment' as the labels"):
        assert read_texts(two).texts == texts


def test_a_fasttext_file_under_another_name_is_read_as_one(tmp_path):
    """The fastText tutorial splits cooking.stackexchange.txt into cooking.train and cooking.valid:
    'unknown file type .train — use .csv, .tsv, .jsonl …, .xlsx or .parquet, or a folder of class
    folders', which named no layout the file is in."""
    (tmp_path / "cooking.train").write_text("__label__baking how do i rise bread ?\n__label__tea why is my tea bitter ?\n")
    d = read_texts(tmp_path / "cooking.train")
    assert d.texts == ["how do i rise bread ?", "why is my tea bitter ?"] and d.labels == ["baking", "tea"]
    assert read_texts(tmp_path / "cooking.train", require_label=False).texts == d.texts
    from lstmkit.tasks.classify.data import text_table
    assert len(text_table(tmp_path / "cooking.train")) == 2               # as a resume reads it again
    (tmp_path / "notes.dat").write_text("how do i rise bread\n")
    with pytest.raises(LstmkitError, match=r"unknown file type '\.dat': .*notes\.dat — classify reads a table .*, a "
                                           r"fastText file \(__label__NAME text, one a line\), a folder of class folders"):
        read_texts(tmp_path / "notes.dat")
    (tmp_path / "log.dat").write_text("text,label\ngood,pos\n")          # a table's text: the name to give it
    with pytest.raises(LstmkitError, match=r"log\.dat holds CSV text — rename it log\.csv"):
        read_texts(tmp_path / "log.dat")


def test_a_class_folder_without_txt_files_beside_the_others_is_an_error(tmp_path):
    """A class whose texts were saved as .text (or sat one folder deeper) was left out without a word:
    the model trained on the other classes."""
    for label, suffix in (("pos", ".txt"), ("neg", ".txt"), ("neutral", ".text")):
        (tmp_path / "reviews" / label).mkdir(parents=True)
        for k in range(3):
            (tmp_path / "reviews" / label / f"{k}{suffix}").write_text(f"a {label} film {k}")
    (tmp_path / "reviews" / ".ipynb_checkpoints").mkdir()                 # hidden and empty folders: no class
    (tmp_path / "reviews" / "empty").mkdir()
    with pytest.raises(LstmkitError, match=r"reviews/neutral holds no \.txt file \(3 entries: 0\.text, 1\.text, "
                                           r"2\.text\), beside the class folders neg, pos: its class would be left out "
                                           r"— give its texts the suffix \.txt"):
        read_texts(tmp_path / "reviews")
    for k in range(3):
        (tmp_path / "reviews" / "neutral" / f"{k}.text").rename(tmp_path / "reviews" / "neutral" / f"{k}.txt")
    assert sorted(set(read_texts(tmp_path / "reviews").labels)) == ["neg", "neutral", "pos"]
    for label in ("a", "b"):                 # 20 Newsgroups: files without a suffix; the fix renames them
        (tmp_path / "news" / label).mkdir(parents=True)
        (tmp_path / "news" / label / "49960").write_text("From: someone")
    with pytest.raises(LstmkitError, match=r"hold no \.txt files — .*\(files without a suffix, as 20 Newsgroups' .*"
                                           r"for f in \*/\*; do mv \"\$f\" \"\$f\.txt\"; done\)"):
        read_texts(tmp_path / "news")


def test_a_two_column_table_with_trailing_separators_is_still_read_as_texts_and_labels(tmp_path):
    """'review,stars,' over rows ending in a comma: pandas' empty 'Unnamed: 2' made three columns,
    and the two-column reading was 'text column 'text' not found'."""
    rows = "".join(f"review {k} of the film: {'fine' if k % 2 else 'bad'},{k % 2},\n" for k in range(12))
    (tmp_path / "r.csv").write_text("review,stars,\n" + rows)
    with pytest.warns(UserWarning, match=r"reading column 'review' as the texts and 'stars' as the labels"):
        d = read_texts(tmp_path / "r.csv")
    assert len(d.texts) == 12 and d.labels[:2] == ["0", "1"]
