"""The text classifier on the layouts public sets ship in: fastText lines and Zhang et al.'s
class-index CSVs (small generated texts; the readers' own cases: tests/data/test_textsets.py)."""
import csv
import warnings

import numpy as np
import pandas as pd
import pytest

from cli_helpers import assert_user_error, run_cli
from lstmkit import TextClassifier
from lstmkit.errors import LstmkitError
from lstmkit.tasks.classify.data import read_texts

CLASSES = ["neg", "pos"]


@pytest.fixture(scope="module")
def sets(tmp_path_factory, texts):
    """One set of reviews written three ways: a table, fastText lines, a class-index CSV + classes.txt."""
    d = tmp_path_factory.mktemp("sets")
    x, y = texts(80)
    pd.DataFrame({"text": x, "label": y}).to_csv(d / "reviews.csv", index=False)
    (d / "reviews.ft.txt").write_text("".join(f"__label__{lab} {t}\n" for t, lab in zip(x, y)))
    (d / "ag").mkdir()
    for name, part in (("train.csv", slice(None)), ("test.csv", slice(0, 20))):
        with open(d / "ag" / name, "w", newline="") as f:      # title and body: the text cut in two fields
            csv.writer(f, quoting=csv.QUOTE_ALL).writerows(
                (CLASSES.index(lab) + 1, *t.split(" ", 1)) for t, lab in zip(x[part], y[part]))
    (d / "ag" / "classes.txt").write_text("\n".join(CLASSES) + "\n")
    return d, x, y


def test_each_layout_reads_the_same_texts_and_labels(sets):
    d, x, y = sets
    assert read_texts(d / "reviews.ft.txt").texts == x and read_texts(d / "reviews.ft.txt").labels == y
    with pytest.warns(UserWarning, match="2 text fields"):
        zhang = read_texts(d / "ag" / "train.csv")
    assert (zhang.texts, zhang.labels) == (x, y)
    with pytest.warns(UserWarning, match="class index \\(ignored\\)"):
        assert read_texts(d / "ag" / "test.csv", require_label=False).labels is None


def test_same_seed_same_model_from_a_table_fasttext_lines_and_a_class_index_csv(sets, tiny):
    d, x, y = sets
    probas = []
    for data in ("reviews.csv", "reviews.ft.txt", "ag/train.csv"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = TextClassifier(max_epochs=2, **tiny).fit(str(d / data))
            probas.append(est.predict_proba(x[:20]))
            assert list(est.classes_) == CLASSES
            # predict on each layout's own file reads its texts, its labels ignored
            assert len(est.predict(str(d / data))) == len(x)
            assert est.evaluate(str(d / "ag" / "test.csv"))["n"] == 20
    np.testing.assert_array_equal(probas[0], probas[1])
    np.testing.assert_array_equal(probas[0], probas[2])


def test_wrong_files_are_one_error(tmp_path):
    (tmp_path / "mixed.txt").write_text("__label__pos good\nbad, unlabelled\n")
    with pytest.raises(LstmkitError, match="line 2 in .*mixed.txt has no __label__ label"):
        read_texts(tmp_path / "mixed.txt")
    (tmp_path / "plain.ft").write_text("good\nbad\n")       # .ft names fastText: labels needed even to predict
    with pytest.raises(LstmkitError, match=r"plain\.ft is a \.ft file with no labels"):
        read_texts(tmp_path / "plain.ft", require_label=False)


def test_cli_train_predict_evaluate_on_a_class_index_csv(sets, tmp_path, capsys, monkeypatch):
    d, x, _ = sets
    tiny = ["--embed-dim", "8", "--hidden-size", "8", "--min-freq", "1", "--epochs", "2", "--progress", "off",
            "--no-tensorboard", "--device", "cpu"]
    code, out, err = run_cli(["classify", "train", "--data", d / "ag" / "train.csv", "--test", d / "ag" / "test.csv",
                              *tiny, "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    assert "Test metrics, 20 examples" in out and "joined with a space" in err
    run = next((tmp_path / "runs").iterdir())
    code, out, err = run_cli(["classify", "predict", "--run", run, "--data", d / "ag" / "test.csv"], capsys)
    assert code == 0, err
    rows = out.strip().splitlines()
    assert rows[0] == "label,probability" and len(rows) == 21 and {r.split(",")[0] for r in rows[1:]} <= set(CLASSES)
    code, out, err = run_cli(["classify", "evaluate", "--run", run, "--data", d / "reviews.ft.txt"], capsys)
    assert code == 0 and "80 examples" in out, err
    code, from_file, err = run_cli(["classify", "predict", "--run", run, "--data", d / "reviews.ft.txt"], capsys)
    assert code == 0, err
    piped = (d / "reviews.ft.txt").read_text()            # the labels dropped from stdin's lines too
    code, from_stdin, err = run_cli(["classify", "predict", "--run", run, "--data", "-"], capsys, stdin=piped,
                                    monkeypatch=monkeypatch)
    assert code == 0 and from_stdin == from_file, err
    code, with_labels, _ = run_cli(["classify", "predict", "--run", run, "--data", "-"], capsys,
                                   stdin=piped.replace("__label__", "label "), monkeypatch=monkeypatch)
    assert with_labels != from_file                        # what the test tells apart: labels read as words
    (tmp_path / "multi.txt").write_text("__label__pos good\n__label__pos __label__neg so-so\n")
    code, out, err = run_cli(["classify", "evaluate", "--run", run, "--data", tmp_path / "multi.txt"], capsys)
    assert_user_error(code, err, "line 2", "multi-label")
