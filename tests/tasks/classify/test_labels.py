"""The labels' checks and splits (lstmkit.tasks.classify.labels)."""
import numpy as np
import pytest

from lstmkit.errors import LstmkitError
from lstmkit.tasks.classify.labels import check_classes, check_known_labels, stratified_split, warn_label_spellings


def test_classes_and_unseen_labels():
    assert check_classes(["b", "a", "b"]) == ["a", "b"]
    with pytest.raises(LstmkitError, match="only one class"):
        check_classes(["a", "a"])
    with pytest.raises(LstmkitError, match=r"not seen in training: 'c' \(2 rows\)"):
        check_known_labels(["a", "c", "c"], ["a", "b"])


def test_one_class_written_two_ways_is_warned_about(recwarn):
    warn_label_spellings(["pos", "neg", "1", "x"] * 3 + ["Pos", "1.0", "NEG", "x"])
    (w,) = recwarn.list
    assert ("'1' (3 rows) and '1.0' (1 row); 'NEG' (1 row) and 'neg' (3 rows); 'Pos' (1 row) and 'pos' (3 rows); "
            "each is trained as a class of its own") in str(w.message), str(w.message)
    warn_label_spellings(["pos", "neg", "1", "10", "nan", "inf", "-inf"])      # distinct classes: no warning
    assert len(recwarn.list) == 1


def test_one_class_written_with_an_invisible_character_is_warned_about(recwarn):
    """'pos' and 'pos' + a zero-width space (or a direction mark, a byte-order mark) pasted with it were
    two classes without a word, printed alike in every report."""
    warn_label_spellings(["pos", "neg"] * 3 + ["pos\u200b", "\u200fneg", "\ufeffneg"])
    (w,) = recwarn.list
    assert ("differ only in case, invisible characters or in how a number is written: 'neg' (3 rows) and "
            "'\\u200fneg' (1 row) and '\\ufeffneg' (1 row); 'pos' (3 rows) and 'pos\\u200b' (1 row)") in str(w.message), str(w.message)
    with pytest.raises(LstmkitError, match=r"written 'pos' there, not 'pos\\u200b'"):
        check_known_labels(["pos\u200b"], ["neg", "pos"])


def test_an_unseen_label_written_as_a_known_class_is_pointed_at():
    """A model trained on a JSON file's 0.0 / 1.0 said only 'not seen in training: '1'' of a CSV's 1."""
    with pytest.raises(LstmkitError, match=r"not seen in training: '1' \(2 rows\), 'Pos' \(1 row\) — the model knows "
                                           r"only: 0.0, 1.0, pos \(written '1.0' there, not '1', 'pos' there, not "
                                           r"'Pos'\); drop or relabel"):
        check_known_labels(["1", "1", "Pos", "0.0"], ["0.0", "1.0", "pos"])


def test_stratified_split_keeps_shares_and_is_seeded():
    labels = ["a"] * 80 + ["b"] * 20
    tr, va = stratified_split(labels, 0.1, seed=0)
    assert len(va) == 10 and sorted(np.concatenate([tr, va]).tolist()) == list(range(100))
    assert sum(labels[i] == "b" for i in va) == 2
    assert stratified_split(labels, 0.1, seed=0)[1].tolist() == va.tolist()
    assert stratified_split(labels, 0.1, seed=1)[1].tolist() != va.tolist()


def test_a_class_of_one_example_stays_in_training_with_a_warning():
    labels = ["a"] * 10 + ["b"] * 10 + ["lone"]
    with pytest.warns(UserWarning, match=r"1 class with one example \('lone'\): kept for training.*add examples of it"):
        tr, va = stratified_split(labels, 0.2, seed=0)
    assert 20 in tr and len(va) == 4


# -- a spreadsheet's summary row under the data ------------------------------------------------
def test_a_summary_row_under_a_table_of_texts_or_series_is_refused(tmp_path):
    from lstmkit.tasks.classify.data import read_texts
    from lstmkit.tasks.classify.series import read_series
    texts = [f"text {k}" for k in range(12)]
    (tmp_path / "texts.csv").write_text("text,label\n" + "".join(f"{t},{'pos' if k % 2 else 'neg'}\n"
                                                                  for k, t in enumerate(texts)) + "Total,12\n,\n")
    # was read as the text 'Total' of a class '12', trained and scored (its F1 of 0 in the macro-F1), silently
    with pytest.raises(LstmkitError, match=r"^line 14 in .*texts.csv looks like a summary row \(Total\), not data: its "
                       r"label '12' would be trained and scored as a class of one example — delete that row"):
        read_texts(tmp_path / "texts.csv")
    rows = "".join(f"{'A' if k % 2 else 'B'},{k},{k + 1},{k + 2}\n" for k in range(10))
    (tmp_path / "series.csv").write_text("class,t1,t2,t3\n" + rows + "Average,4.5,5.5,6.5\n")
    with pytest.raises(LstmkitError, match=r"^line 12 in .*series.csv looks like a summary row \(Average\), not data: "
                       r"its label 'Average' would be"):
        read_series(tmp_path / "series.csv", label="class")


def test_a_summary_word_as_a_text_or_a_class_of_several_rows_is_data(tmp_path):
    from lstmkit.tasks.classify.data import read_texts
    # a review reading "Average" among others of its class, a class named "Total" of several rows: data
    (tmp_path / "texts.csv").write_text("text,label\n" + "".join(f"text {k},{'pos' if k % 2 else 'neg'}\n"
                                                                  for k in range(10)) + "Average,neg\n")
    assert read_texts(tmp_path / "texts.csv").texts[-1] == "Average"
    (tmp_path / "classes.csv").write_text("text,label\n" + "".join(f"text {k},{'Total' if k % 2 else 'Part'}\n"
                                                                    for k in range(10)))
    assert read_texts(tmp_path / "classes.csv").labels.count("Total") == 5


def test_a_spreadsheets_empty_rows_under_the_data_are_no_rows(tmp_path, recwarn):
    """Excel's ',,,' lines under the data: a wide table of series was 'line 12 has no values — remove
    the row', a table of texts warned that they had no label and asked to fill it in."""
    from lstmkit.tasks.classify.data import read_texts
    from lstmkit.tasks.classify.series import read_series
    rows = "".join(f"{'A' if k % 2 else 'B'},{k},{k + 1},{k + 2}\n" for k in range(10))
    (tmp_path / "series.csv").write_text("class,t1,t2,t3\n" + rows + ",,,\n,,,\n")
    assert len(read_series(tmp_path / "series.csv", label="class").seqs) == 10
    (tmp_path / "gap.csv").write_text("class,t1,t2,t3\n" + rows + ",,,\n" + rows)      # one inside: as it was
    with pytest.raises(LstmkitError, match=r"line 12 in .*gap.csv has no values"):
        read_series(tmp_path / "gap.csv", label="class")
    (tmp_path / "texts.csv").write_text("text,label\n" + "".join(f"text {k},{'pos' if k % 2 else 'neg'}\n"
                                                                  for k in range(10)) + ",\n,\n")
    assert len(read_texts(tmp_path / "texts.csv").texts) == 10 and not recwarn.list
    (tmp_path / "unlabelled.csv").write_text("text,label\ntext a,pos\ntext b,\ntext c,neg\n,\n")
    with pytest.warns(UserWarning, match=r"1 of 4 rows in .*unlabelled.csv has no label .*first: line 3"):
        assert read_texts(tmp_path / "unlabelled.csv").texts == ["text a", "text c"]


@pytest.mark.filterwarnings("ignore:one example of each of the 251 classes")      # the seeded repeats say it again
def test_many_classes_of_few_examples_hold_out_the_share_asked_for():
    """250 classes of 2 examples at val_frac=0.1 held out one of each: half the rows, each class
    trained on one example, without a word (the warning for a validation part larger than the
    training part needs more than half). val_frac of the rows are held out, shared by class size,
    every class keeps an example for training, and one warning says how many classes have none."""
    labels = [f"c{i // 2}" for i in range(500)] + ["big"] * 100
    with pytest.warns(UserWarning, match=r"^one example of each of the 251 classes \(2\.4 examples on average\) would "
                                         r"hold out 260 of 600 rows, not the --val-frac 0\.1 asked for: 60 are held out, "
                                         r"so 200 classes have no validation example; pass a --val file"):
        tr, va = stratified_split(labels, 0.1, seed=0)
    assert len(va) == 60 and sorted(np.concatenate([tr, va]).tolist()) == list(range(600))
    assert sum(labels[i] == "big" for i in va) == 10                     # its share: 100 / 600 of 60
    assert {labels[i] for i in tr} == set(labels)                        # every class still trained on
    assert stratified_split(labels, 0.1, seed=0)[1].tolist() == va.tolist()
    assert stratified_split(labels, 0.1, seed=1)[1].tolist() != va.tolist()
    few = ["a"] * 4 + ["b"] * 4 + ["c"] * 4                              # one of each is at most twice the share: as before
    assert len(stratified_split(few, 0.1, seed=0)[1]) == 3


def test_an_unseen_label_among_many_classes_lists_a_few_of_them():
    """With 250 classes of 50-character names the error listed every one: a line of 15,000 characters."""
    classes = sorted(f"class {k} with a long and descriptive name, number {k:03d}" for k in range(250))
    with pytest.raises(LstmkitError) as e:
        check_known_labels(["brand new"], classes)
    assert e.value.hint == f"the model knows only: {', '.join(classes[:12])}, … (250 classes); drop or relabel those rows"
    with pytest.raises(LstmkitError, match=r"knows only: a, b; drop"):
        check_known_labels(["c"], ["a", "b"])


def test_validation_and_test_data_without_a_training_class_are_warned_of():
    """A validation file without the rare class of a 95/5 set scored accuracy and macro-F1 1.0 (its
    row all dashes) and early stopping judged the common class alone, without a word."""
    from lstmkit import TextClassifier
    texts = [f"good film {k}" for k in range(19)] + ["bad film"]
    labels = ["pos"] * 19 + ["neg"]
    only_pos = (texts[:6], labels[:6])
    quiet = dict(max_epochs=1, hidden_size=4, embed_dim=4, min_freq=1, progress="off", tensorboard=False, doctor=False)
    with pytest.warns(UserWarning) as said:
        TextClassifier(**quiet).fit(texts, labels, val_data=only_pos, test_data=(texts[6:12], labels[6:12]))
    lines = [str(w.message) for w in said if "hold no example" in str(w.message)]
    assert lines == ["the validation data hold no example of 1 of the 2 classes: 'neg' (1 training row); its scores say "
                     "nothing of it: add examples of each class to it, or leave val_data out: val_frac=0.1 of the "
                     "training data is then held out, stratified by class",
                     "the test data hold no example of 1 of the 2 classes: 'neg' (1 training row); its scores say "
                     "nothing of it: add examples of each class to it to test the model on every class"]


def test_missing_classes_are_named_most_trained_first_and_counted_past_five():
    from lstmkit.tasks.classify.labels import warn_missing_classes
    train = [c for k, c in enumerate("abcdefgh") for _ in range(k + 1)]
    with pytest.warns(UserWarning, match=r"^the test data hold no example of 7 of the 8 classes: 'h' \(8 training "
                                         r"rows\), 'g' \(7 training rows\), 'f' .* 'd' \(4 training rows\), and 2 more; "
                                         r"its scores say nothing of them: fix$"):
        warn_missing_classes(["a"], train, "the test data", "fix")


def test_an_infinite_label_is_refused_not_trained_as_a_class_inf():
    """A float ``y`` or label column holding inf (a division by zero upstream) was read as a class
    'inf', trained on and answered; it is refused, naming where it is. The text 'inf' in a column of
    words stays a class."""
    import pandas as pd

    from lstmkit.tasks.classify.labels import label_cells, labels_from_y
    with pytest.raises(LstmkitError, match=r"label y\[2\] is -inf \(an infinite number\), not a class.*division by zero"):
        labels_from_y(np.array([0.0, 1.0, -np.inf, 1.0]), 4, "text")
    frame = pd.DataFrame({"label": [0.0, 1.0, 1.0, np.inf]})
    with pytest.raises(LstmkitError, match=r"label cell at data row 4 in t\.csv is inf"):
        label_cells(frame["label"], " in t.csv")
    assert label_cells(pd.Series(["info", "inf", "misc"]), " in t.csv") == ["info", "inf", "misc"]
