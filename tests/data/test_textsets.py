"""fastText lines and Zhang et al.'s class-index CSVs, read as texts and labels (small generated files)."""
import gzip
import warnings

import pytest

from lstmkit.data.textsets import class_index_csv, fasttext_lines, is_class_index_csv
from lstmkit.errors import LstmkitError


def test_fasttext_lines_give_the_name_after_the_prefix_and_the_text():
    read = fasttext_lines("__label__2 Great CD: loved it\n\n  __label__1\tDull , sadly\n", " in t.txt")
    assert read.texts == ["Great CD: loved it", "Dull , sadly"] and read.labels == ["2", "1"]
    assert read.lines == [1, 3]                                       # the blank line 2 skipped, counted


def test_a_file_without_labels_is_no_fasttext_file():
    assert fasttext_lines("a good film\nbad plot\n", " in t.txt") is None


def test_a_mixed_file_names_its_first_line_without_a_label():
    text = "__label__pos good\n__label__neg bad\nno label here\nalso none\n"
    with pytest.raises(LstmkitError, match=r"line 3 in t\.txt has no __label__ label \('no label here'\)"):
        fasttext_lines(text, " in t.txt")
    with pytest.raises(LstmkitError, match="line 1 in t.txt has no __label__"):   # the labelled line need not be first
        fasttext_lines("plain\n__label__pos good\n", " in t.txt", labels=False)


def test_several_labels_are_multi_label_data_refused_unless_labels_are_dropped():
    text = "__label__baking bread rises\n__label__sauce __label__cheese How much cheese?\n"
    with pytest.raises(LstmkitError, match=r"line 2 in t\.txt has 2 labels \(__label__sauce __label__cheese\): "
                                           "multi-label") as e:
        fasttext_lines(text, " in t.txt")
    assert "sed -E" in e.value.hint
    read = fasttext_lines(text, " in t.txt", labels=False)             # predict, a language model: texts only
    assert read.texts == ["bread rises", "How much cheese?"] and read.labels is None


def test_an_empty_label_is_named():
    with pytest.raises(LstmkitError, match="line 2 in t.txt has an empty label"):
        fasttext_lines("__label__a x\n__label__ y\n", " in t.txt")


def _zhang(folder, rows, classes=None, name="train.csv"):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text("".join(",".join(f'"{f}"' for f in r) + "\n" for r in rows))
    if classes is not None:
        (folder / "classes.txt").write_text("".join(c + "\n" for c in classes))
    return folder / name


AG = [("3", "Wall St. Bears", "Short-sellers, Wall Street's dwindling band"), ("1", "Talks end", "no deal\\nyet"),
      ("2", "Cup final", "")]


def test_class_index_csv_joins_the_text_fields_and_names_classes_from_classes_txt(tmp_path):
    path = _zhang(tmp_path / "ag", AG, ["World", "Sports", "Business"])
    assert is_class_index_csv(path)
    with pytest.warns(UserWarning, match="a class index and 2 text fields .*joined with a space") as w:
        read = class_index_csv(path)
    assert len(w) == 1
    assert read.texts == ["Wall St. Bears Short-sellers, Wall Street's dwindling band", "Talks end no deal\nyet",
                          "Cup final"]                                 # \n: the sets' escaped line break
    assert read.labels == ["Business", "World", "Sports"] and read.lines == [1, 2, 3]


def test_without_classes_txt_the_indices_are_the_labels_with_a_warning(tmp_path):
    path = _zhang(tmp_path / "ag", [(i, t) for i, t in [("1", "good film"), ("2", "bad film")] * 2])
    with pytest.warns(UserWarning, match=r"no classes\.txt beside .*class indices \(1, 2\) are the labels"):
        read = class_index_csv(path)
    assert read.labels == ["1", "2", "1", "2"] and read.texts[1] == "bad film"
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                 # texts only: no classes, nothing to warn
        assert class_index_csv(path, labels=False).labels is None


def test_an_index_outside_classes_txt_names_its_line(tmp_path):
    path = _zhang(tmp_path / "ag", [("1", "a"), ("2", "b"), ("5", "c")], ["World", "Sports"])
    with pytest.raises(LstmkitError, match=r"line 3 of .*train\.csv has class index 5, outside 1-2: the classes\.txt"):
        class_index_csv(path)
    _zhang(tmp_path / "ag", [("1", "a")], ["World", "", "Sports"])
    with pytest.raises(LstmkitError, match="line 2 of .*classes.txt is blank"):
        class_index_csv(path)


def test_a_row_that_breaks_the_layout_is_named(tmp_path):
    path = _zhang(tmp_path / "a", [("1", "t", "d"), ("2", "t", "d"), ("1", "t")])
    with pytest.raises(LstmkitError, match="line 3 of .* has 2 fields, the first row 3"):
        class_index_csv(path, labels=False)
    path = _zhang(tmp_path / "b", [("1", "t"), ("2", "t"), ("pos", "t")])
    with pytest.raises(LstmkitError, match=r"line 3 of .* starts with 'pos', not a class index"):
        class_index_csv(path, labels=False)


def test_row_ids_are_not_class_indices(tmp_path):
    path = _zhang(tmp_path / "ids", [(str(k), f"text {k}") for k in range(40)])
    with pytest.raises(LstmkitError, match="40 different numbers in 40 rows: row ids"):
        class_index_csv(path)


def test_which_csv_files_are_class_index_csvs(tmp_path):
    (tmp_path / "headed.csv").write_text("label,text\n1,good\n")
    (tmp_path / "numbers.csv").write_text("1,0.5,0.25\n2,0.1,0.3\n")   # a series table: not texts
    (tmp_path / "plain.txt").write_text('"1","good"\n')
    (tmp_path / "number_header.csv").write_text("1,review\n0.5,good\n")
    with gzip.open(tmp_path / "ag.csv.gz", "wt") as f:
        f.write('"1","good film"\n')
    names = ("headed.csv", "numbers.csv", "plain.txt", "number_header.csv", "ag.csv.gz")
    assert [is_class_index_csv(tmp_path / n) for n in names] == [False, False, False, False, True]
    assert class_index_csv(tmp_path / "ag.csv.gz", labels=False).texts == ["good film"]


def test_a_comma_after_the_label_ends_it_and_labels_after_the_text_are_read():
    read = fasttext_lines("__label__pos,great film\r\n__label__neg, dull\r\nsad ending __label__neg\r\n", " in t.txt")
    assert read.texts == ["great film", "dull", "sad ending"] and read.labels == ["pos", "neg", "neg"]
    only_last = fasttext_lines("great film __label__très-bon\nbad \t__label__nul\n", " in t.txt")
    assert only_last.texts == ["great film", "bad"] and only_last.labels == ["très-bon", "nul"]
    assert fasttext_lines("a __label__ in the middle is text\n", " in t.txt") is None
    with pytest.raises(LstmkitError, match="line 2 in t.txt has 2 labels"):
        fasttext_lines("good __label__a\nbad __label__a __label__b\n", " in t.txt")


def test_a_blank_classes_txt_is_named_as_the_class_names(tmp_path):
    path = _zhang(tmp_path / "ag", [("1", "a"), ("2", "b")])
    for blank in (b"", b"\n\n", b"\xef\xbb\xbf\r\n"):
        (tmp_path / "ag" / "classes.txt").write_bytes(blank)
        with pytest.raises(LstmkitError, match=r"classes\.txt is empty: beside train\.csv it names the classes"):
            class_index_csv(path)
    (tmp_path / "ag" / "classes.txt").write_bytes(b"\xef\xbb\xbfWorld\r\nSports\r\n\r\n")
    assert class_index_csv(path).labels == ["World", "Sports"]


def test_one_text_field_among_empty_or_number_fields_makes_a_class_index_csv(tmp_path):
    """AG News rows with an empty title, a Yelp row whose first text field is a number: one field of
    text in the first record is enough."""
    (tmp_path / "empty_title.csv").write_text('"3","","Short-sellers are back"\n"1","Talks","no deal"\n')
    (tmp_path / "number_first.csv").write_text('"2","5","great film"\n"1","1","dull"\n')
    assert is_class_index_csv(tmp_path / "empty_title.csv") and is_class_index_csv(tmp_path / "number_first.csv")


def test_a_record_of_empty_fields_is_passed_over_and_counted(tmp_path):
    path = _zhang(tmp_path / "gap", [("1", "good"), ("", ""), ("2", "bad")], ["pos", "neg"])
    read = class_index_csv(path)
    assert read.texts == ["good", "bad"] and read.labels == ["pos", "neg"] and read.lines == [1, 3]


@pytest.mark.parametrize("distinct, rows, ids", [(20, 20, False), (21, 42, False), (21, 41, True), (21, 21, True)])
def test_row_ids_are_more_than_20_numbers_in_more_than_half_the_rows(tmp_path, distinct, rows, ids):
    """The rule as its message says it: more than 20 different numbers, and more than half as many as the rows."""
    path = _zhang(tmp_path / "n", [(str(k % distinct + 1), f"text {k}") for k in range(rows)])
    if ids:
        with pytest.raises(LstmkitError, match=f"{distinct} different numbers in {rows} rows: row ids"):
            class_index_csv(path)
    else:
        with pytest.warns(UserWarning, match="no classes.txt"):
            assert class_index_csv(path).labels[:2] == ["1", "2"]


def test_a_repeated_class_name_is_named_by_its_second_line(tmp_path):
    path = _zhang(tmp_path / "rep", [("1", "good")], ["World", "Sports", "World"])
    with pytest.raises(LstmkitError, match=r"line 3 of .*classes.txt is a repeated name 'World'"):
        class_index_csv(path)
