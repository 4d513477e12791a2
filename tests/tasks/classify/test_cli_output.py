"""What the classify commands print: predict's label and its probability, evaluate's report (JSON only
when asked), attention's most attended words, and train's note under scores of the training data."""
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from cli_helpers import run_cli
from lstmkit.cli import main

TINY = ["--embed-dim", "8", "--hidden-size", "8", "--min-freq", "1", "--epochs", "3", "--progress", "off"]


@pytest.fixture(scope="module")
def data(tmp_path_factory, texts):
    x, y = texts(60, classes=("neg", "pos", "meh"))
    path = tmp_path_factory.mktemp("data") / "reviews.csv"
    pd.DataFrame({"review": x, "sentiment": y}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def attention_run(tmp_path_factory, data):
    out = tmp_path_factory.mktemp("runs")
    try:
        main(["classify", "train", "--data", str(data), "--text", "review", "--label", "sentiment",
              "--pooling", "attention", *TINY, "--out", str(out)])
    except SystemExit as e:
        pytest.fail(f"train exited {e.code}")
    (run,) = out.iterdir()
    return run


def test_predict_gives_each_rows_most_likely_label_and_its_probability(attention_run, capsys, monkeypatch):
    from lstmkit.tasks.classify.estimator import load_classifier
    texts = ["great wonderful film", "awful boring plot", "fine okay average", "the film"]
    code, out, err = run_cli(["classify", "predict", "--run", attention_run, "--data", "-"], capsys,
                             stdin="\n".join(texts) + "\n", monkeypatch=monkeypatch)
    assert code == 0, err
    got = [line.split(",") for line in out.strip().splitlines()]
    assert got[0] == ["label", "probability"] and len(got) == 5
    model = load_classifier(attention_run)
    proba = model.predict_proba(texts)                      # [4, 3], columns in class_order()
    names = [model.class_names_[k] for k in model.class_order()]
    assert [row[0] for row in got[1:]] == [names[k] for k in proba.argmax(axis=1)]
    p = np.array([float(row[1]) for row in got[1:]])
    np.testing.assert_allclose(p, proba.max(axis=1), atol=1e-6)
    assert (p >= 1 / 3).all()                               # the most likely of three: at least a third


def test_evaluate_prints_a_report_and_json_only_when_asked(attention_run, data, capsys):
    code, out, err = run_cli(["classify", "evaluate", "--run", attention_run, "--data", data], capsys)
    assert code == 0, err
    assert out.startswith("60 examples: accuracy ") and "precision" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)
    code, out, err = run_cli(["classify", "evaluate", "--run", attention_run, "--data", data, "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["n"] == 60


def test_attention_names_the_five_most_attended_words_most_first(attention_run, tmp_path, capsys):
    from lstmkit.tasks.classify.estimator import load_classifier
    text = "the plot was great and the acting wonderful"
    code, out, err = run_cli(["classify", "attention", "--run", attention_run, "--text", text,
                              "--out", tmp_path / "v.html"], capsys)
    assert code == 0, err
    first, second = out.splitlines()
    assert second == f"wrote {tmp_path / 'v.html'}"
    named = first.split("most attended: ")[1].split(", ")
    assert len(named) == 5
    weights = [float(item.rsplit(" ", 1)[1]) for item in named]
    assert weights == sorted(weights, reverse=True)
    tokens, w, _, _ = load_classifier(attention_run).attention(text)
    assert weights[0] == pytest.approx(max(w), abs=0.005) and weights[-1] >= sorted(w)[-5] - 0.005


def _metrics(n):
    return {"accuracy": 0.5, "macro_f1": 0.5, "n": n,
            "per_class": {"a": {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": n}}}


def _est(**parts):
    return SimpleNamespace(metrics_={k: _metrics(n) for k, n in parts.items()}, run_dir_="RUN",
                           result_=SimpleNamespace(epochs_run=3, best_epoch=2, stopped_early=False),
                           config_=SimpleNamespace(train=SimpleNamespace(max_minutes=None)))


def test_train_notes_scores_of_the_training_data_under_them_alone(capsys):
    from lstmkit.tasks.classify.cli import _report
    _report(_est(train=40))
    out = capsys.readouterr().out.splitlines()
    at = out.index("Training metrics, 40 examples: accuracy 0.5000  macro-F1 0.5000")
    assert out[at + 3] == ("(scored on the data it trained on, none held out: they flatter the model; pass --test "
                           "FILE (or --val FILE) for scores on unseen data)")
    _report(_est(train=40, test=9))
    out = capsys.readouterr().out.splitlines()
    at = out.index("Training metrics, 40 examples: accuracy 0.5000  macro-F1 0.5000")
    assert out[at + 3] == ("(scored on the data it trained on, none held out: they flatter the model; the test "
                           "metrics below are on unseen data)")
    assert out[at + 5] == "Test metrics, 9 examples: accuracy 0.5000  macro-F1 0.5000"
    _report(_est(val=12, test=9))
    out = capsys.readouterr().out
    assert "flatter" not in out and "Validation metrics, 12 examples" in out
    assert out.splitlines()[-2:] == ["epochs 3, best epoch 2", "run folder: RUN"]


def test_predict_reads_piped_fasttext_lines_as_their_texts_whatever_their_labels(attention_run, capsys, monkeypatch):
    """Labels are not predict's business: a line with two labels, or an empty one, is a text to classify,
    each answered as its text alone."""
    piped = "__label__pos __label__meh great wonderful film\n__label__ awful boring plot\n"
    code, out, err = run_cli(["classify", "predict", "--run", attention_run, "--data", "-"], capsys, stdin=piped,
                             monkeypatch=monkeypatch)
    assert code == 0, err
    bare = "great wonderful film\nawful boring plot\n"
    code, alone, err = run_cli(["classify", "predict", "--run", attention_run, "--data", "-"], capsys, stdin=bare,
                               monkeypatch=monkeypatch)
    assert code == 0 and len(out.strip().splitlines()) == 3 and out == alone, err


@pytest.fixture(scope="module")
def ucr_run(tmp_path_factory, series):
    """A numeric model of 12 steps, trained on a UCR file (label, then 12 values, a line)."""
    seqs, labels = series(12, unequal=False)
    ucr = "".join(f"{1 if lab == 'up' else 2}\t" + "\t".join(f"{v:.4f}" for v in s[:, 0]) + "\n"
                  for s, lab in zip(seqs, labels))
    d = tmp_path_factory.mktemp("ucr")
    (d / "S_TRAIN.tsv").write_text(ucr)
    try:
        main(["classify", "train", "--series", "--data", str(d / "S_TRAIN.tsv"), "--epochs", "1", "--hidden-size", "4",
              "--progress", "off", "--out", str(d / "runs")])
    except SystemExit as e:
        pytest.fail(f"train exited {e.code}")
    (run,) = (d / "runs").iterdir()
    return run, ucr


def test_one_line_of_13_values_among_lines_of_12_is_no_labelled_ucr_file(ucr_run, capsys, monkeypatch):
    """Only when every piped line has one value more than the model's steps is the first a label; one
    long line among right ones is a ragged input, and the refusal names the lengths, not labels."""
    run, ucr = ucr_run
    lines = ucr.splitlines(keepends=True)
    mixed = lines[0] + "".join(line.split("\t", 1)[1] for line in lines[1:])
    code, out, err = run_cli(["classify", "predict", "--run", run, "--data", "-"], capsys, stdin=mixed,
                             monkeypatch=monkeypatch)
    assert code == 2 and out == "", err
    assert "different lengths" in err and "is the first a label" not in err
