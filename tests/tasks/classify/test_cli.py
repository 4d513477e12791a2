"""The classify CLI, in-process: success paths and every bad input of the issue (exit 2, one line)."""
import json
import os

import numpy as np
import pandas as pd
import pytest

from cli_helpers import assert_evaluated_keys, assert_user_error, run_cli
from lstmkit.cli import main
from lstmkit.tasks.classify.series import read_series


def cli(capsys, *args, stdin: str | bytes | None = None, monkeypatch=None):
    return run_cli(args, capsys, stdin=stdin, monkeypatch=monkeypatch)


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "tiny.yaml"
    path.write_text("embed_dim: 8\nhidden_size: 8\nmin_freq: 1\nword_dropout: 0.0\ntrain:\n  lr: 0.02\n  tensorboard: false\n"
                    "  progress: 'off'\n  max_epochs: 4\n")
    return path


@pytest.fixture(scope="module")
def text_csv(tmp_path_factory, texts):
    x, y = texts(120)
    path = tmp_path_factory.mktemp("data") / "reviews.csv"
    pd.DataFrame({"review": x, "sentiment": y}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def text_run(tmp_path_factory, text_csv, cfg):
    out = tmp_path_factory.mktemp("runs")
    try:
        main(["classify", "train", "--data", str(text_csv), "--text", "review", "--label", "sentiment",
              "--config", str(cfg), "--out", str(out)])
    except SystemExit as e:
        pytest.fail(f"train exited {e.code}")
    (run,) = out.iterdir()
    return run


def test_train_predict_stdin_evaluate(text_run, text_csv, capsys, monkeypatch):
    meta = json.loads((text_run / "lstmkit.json").read_text())
    assert meta["config"]["text"] == "review" and meta["config"]["train"]["max_epochs"] == 4
    code, out, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", "-",
                         stdin="Great, I loved it\n\nAwful and boring\n", monkeypatch=monkeypatch)
    assert code == 0, err
    rows = out.strip().splitlines()
    assert rows[0] == "label,probability" and len(rows) == 3
    assert rows[1].startswith("pos,") and rows[2].startswith("neg,")
    code, out, err = cli(capsys, "classify", "evaluate", "--run", text_run, "--data", text_csv, "--json")
    assert code == 0, err
    assert json.loads(out)["accuracy"] > 0.8
    assert_evaluated_keys(json.loads(out), text_run, "classify", "accuracy", json.loads(out)["accuracy"])
    code, out, err = cli(capsys, "classify", "evaluate", "--run", text_run, "--data", "-",   # texts, no labels
                         stdin="Great, I loved it\n", monkeypatch=monkeypatch)
    assert_user_error(code, err, "the data has no labels", "--label NAME")      # was 'pass labels as y'



def test_a_table_piped_in_reads_as_its_file_does(text_run, capsys, monkeypatch):
    """``cat test.csv | lstmkit classify predict --data -`` read each line as a text: the header was
    predicted as one, and each row's label was read as a word of its text. A header line naming the
    model's text column (CSV or TSV) makes it a table, as the file is; evaluate then finds the labels."""
    for table in ("review,sentiment\n\"Great, I loved it\",pos\nAwful and boring,neg\n",
                  "sentiment\treview\npos\tGreat, I loved it\nneg\tAwful and boring\n", "review\nGreat\nAwful\n",
                  "ids,review\n7,Great\n8,Awful\n"):          # a column 'ids' is a column, not the rows' ids
        code, out, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", "-", stdin=table,
                             monkeypatch=monkeypatch)
        assert code == 0, err
        assert [r.split(",")[0] for r in out.strip().splitlines()] == ["label", "pos", "neg"], (table, out)
    code, out, err = cli(capsys, "classify", "evaluate", "--run", text_run, "--data", "-", "--json",
                         stdin="review,sentiment\nGreat, I loved it,pos\n", monkeypatch=monkeypatch)
    assert code == 2 and "line 2 has 3 cells" in err, err           # read as a table: its rows' cells are counted
    code, out, err = cli(capsys, "classify", "evaluate", "--run", text_run, "--data", "-", "--json",
                         stdin="review,sentiment\nGreat and loved,pos\nAwful and boring,neg\n", monkeypatch=monkeypatch)
    assert code == 0 and json.loads(out)["accuracy"] == 1.0, err
    code, out, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", "-",   # a space after each comma:
                         stdin="sentiment, review\npos, Great\n", monkeypatch=monkeypatch)   # a table, as its file is
    # not 2 texts predicted; the file's error and fix, where it told a DataFrame's ('rename the DataFrame's to it')
    assert_user_error(code, err, "text column 'review' not found on standard input (did you mean ' review'?)",
                      "--text with one of: sentiment,  review")
    code, out, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", "-", "--text", " review",
                         stdin="sentiment, review\npos, Great\nneg, Awful and boring\n", monkeypatch=monkeypatch)
    assert code == 0 and [r.split(",")[0] for r in out.strip().splitlines()] == ["label", "pos", "neg"], err
    code, out, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", "-", stdin="review\n",
                         monkeypatch=monkeypatch)          # one line alone: a text, as before
    assert code == 0 and len(out.strip().splitlines()) == 2, err


def test_predict_answers_each_line_once_whatever_is_inside_it(text_run, tmp_path, capsys, monkeypatch):
    """A form feed or U+2028 inside a text ended its line: a line of a .txt file or of standard
    input had two answers, and every answer after it was one line off."""
    lines = "Great,\x0cI loved it\nAwful\u2028and boring\n"
    (tmp_path / "texts.txt").write_text(lines, encoding="utf-8")
    for data, stdin in ((tmp_path / "texts.txt", None), ("-", lines)):
        code, out, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", data, stdin=stdin,
                             monkeypatch=monkeypatch)
        assert code == 0, err
        assert [r.split(",")[0] for r in out.strip().splitlines()] == ["label", "pos", "neg"]


def test_blank_lines_between_texts_are_said_as_a_tables_are(text_run, tmp_path, capsys, monkeypatch):
    """A .txt file's or standard input's blank line was skipped without a word: the answers (no
    text beside them) came one line above their texts from there on. Blank lines at the end shift nothing."""
    lines = "Great, I loved it\n\n  \nAwful and boring\n\n"
    (tmp_path / "texts.txt").write_text(lines)
    for data, stdin, where in ((tmp_path / "texts.txt", None, f"in {tmp_path / 'texts.txt'}"),
                               ("-", lines, "on standard input")):
        code, out, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", data, stdin=stdin,
                             monkeypatch=monkeypatch)
        assert code == 0 and len(out.strip().splitlines()) == 3, err
        assert f"2 blank lines {where} between the texts skipped (line 2, 3)" in err, err
    code, _, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", "-", stdin="Great\nAwful\n\n\n",
                       monkeypatch=monkeypatch)
    assert code == 0 and "blank" not in err, err

def test_a_tsv_of_sentences_is_one_row_a_line_and_a_quoted_one_reads_as_written(text_run, texts, cfg, tmp_path,
                                                                                   capsys):
    """GLUE's SST-2 quotes nothing: '"Awful and boring' ran on to the next quote mark and made three
    lines one text, so train learnt from fewer rows, evaluate scored fewer and predict gave one answer
    for the three, every answer after them one line off. A quoted export (pandas', a spreadsheet's)
    still reads by CSV rules, its line breaks inside cells."""
    x, y = texts(40, seed=1)
    rows = [f"{t}\t{label}" for t, label in zip(x, y)]
    rows[3:3] = ['"Awful and boring\tneg', "Great, I loved it\tpos", 'Awful and boring"\tneg']
    path = tmp_path / "sst.tsv"
    path.write_text("review\tsentiment\n" + "\n".join(rows) + "\n")
    code, out, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", path)
    assert code == 0 and len(out.strip().splitlines()) == 1 + len(rows), err
    assert f"{path} line 5: its quote mark is read as text and each line as one row" in err, err
    code, out, err = cli(capsys, "classify", "evaluate", "--run", text_run, "--data", path, "--json")
    assert code == 0 and json.loads(out)["n"] == len(rows), err
    code, out, err = cli(capsys, "classify", "train", "--data", path, "--text", "review", "--label", "sentiment",
                         "--config", cfg, "--out", tmp_path / "runs")
    assert code == 0, err
    (run,) = (tmp_path / "runs").iterdir()
    assert json.loads((run / "lstmkit.json").read_text())["data"]["rows"] == len(rows)
    quoted = pd.DataFrame({"review": ["Great,\nI loved it", 'Awful "and" boring', "Great\tI loved it"]})
    quoted.to_csv(tmp_path / "quoted.tsv", sep="\t", index=False)
    code, out, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", tmp_path / "quoted.tsv")
    assert code == 0 and len(out.strip().splitlines()) == 4 and not err, err


def test_predict_and_evaluate_read_a_file_with_other_column_names(text_run, tmp_path, capsys, monkeypatch):
    """The missing-column error says 'pass --text …' / '--label …': predict and evaluate take them."""
    p = tmp_path / "other.csv"
    pd.DataFrame({"body": ["Great, I loved it", "Awful and boring"], "stars": ["pos", "neg"]}).to_csv(p, index=False)
    code, _, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", p)
    assert_user_error(code, err, "text column 'review' not found", "--text with one of: body, stars")
    code, out, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", p, "--text", "body")
    assert code == 0, err
    assert [r.split(",")[0] for r in out.strip().splitlines()] == ["label", "pos", "neg"]
    code, _, err = cli(capsys, "classify", "evaluate", "--run", text_run, "--data", p, "--text", "body")
    assert_user_error(code, err, "label column 'sentiment' not found", "--label with one of: body, stars")
    code, out, err = cli(capsys, "classify", "evaluate", "--run", text_run, "--data", p, "--text", "body",
                         "--label", "stars", "--json")
    assert code == 0, err
    assert json.loads(out)["accuracy"] == 1.0
    code, _, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", "-", "--text", "body",
                       stdin="Great, I loved it\n", monkeypatch=monkeypatch)
    assert_user_error(code, err, "--text names a column of a table; standard input holds lines of text, no header "
                      "naming 'body'", "drop --text, or pipe a table whose first line names its columns")
    code, out, err = cli(capsys, "classify", "evaluate", "--run", text_run, "--data", "-", "--text", "body",
                         "--label", "stars", "--json", stdin="body,stars\nGreat and loved,pos\nAwful and boring,neg\n",
                         monkeypatch=monkeypatch)           # a piped table takes the flags its file takes
    assert code == 0 and json.loads(out)["accuracy"] == 1.0, err


def test_train_predict_evaluate_read_workbooks_and_parquet(text_run, text_csv, cfg, tmp_path, capsys):
    """``.xlsx`` and ``.parquet`` tables read as the CSV does, text and --series alike (they were
    'unknown file type')."""
    book, table = tmp_path / "reviews.xlsx", tmp_path / "reviews.parquet"
    frame = pd.read_csv(text_csv)
    frame.to_excel(book, index=False)
    frame.to_parquet(table)
    code, out, err = cli(capsys, "classify", "train", "--data", book, "--text", "review", "--label", "sentiment",
                         "--epochs", 1, "--config", cfg, "--out", tmp_path / "r")
    assert code == 0, err
    code, out, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", table)
    assert code == 0, err
    want = cli(capsys, "classify", "predict", "--run", text_run, "--data", text_csv)[1]
    assert out == want and len(out.splitlines()) == len(frame) + 1
    code, out, err = cli(capsys, "classify", "evaluate", "--run", text_run, "--data", book, "--json")
    assert code == 0, err
    assert json.loads(out)["accuracy"] > 0.8
    long = pd.DataFrame([{"sample": k, "t": t, "x": (t if k % 2 else -t) + 0.1 * k, "label": "up" if k % 2 else "down"}
                         for k in range(12) for t in range(6)])
    long.to_excel(tmp_path / "long.xlsx", index=False)
    code, out, err = cli(capsys, "classify", "train", "--series", "--data", tmp_path / "long.xlsx", "--epochs", 1,
                         "--hidden-size", 8, "--progress", "off", "--no-tensorboard", "--out", tmp_path / "s")
    assert code == 0, err


def test_attention_command_needs_attention_pooling(text_run, capsys):
    code, _, err = cli(capsys, "classify", "attention", "--run", text_run, "--text", "great film")
    assert_user_error(code, err, "--pooling attention")


def test_attention_command_writes_view(tmp_path, text_csv, cfg, capsys):
    code, _, err = cli(capsys, "classify", "train", "--data", text_csv, "--text", "review", "--label", "sentiment",
                       "--pooling", "attention", "--epochs", 1, "--config", cfg, "--out", tmp_path / "r")
    assert code == 0, err
    (run,) = (tmp_path / "r").iterdir()
    code, out, err = cli(capsys, "classify", "attention", "--run", run, "--text", "a great film",
                         "--out", tmp_path / "v.html")
    assert code == 0, err
    assert "most attended" in out and "great" in (tmp_path / "v.html").read_text()


def test_unseen_labels_at_evaluate(text_run, tmp_path, capsys):
    p = tmp_path / "new.csv"
    pd.DataFrame({"review": ["good", "fine"], "sentiment": ["pos", "neutral"]}).to_csv(p, index=False)
    code, _, err = cli(capsys, "classify", "evaluate", "--run", text_run, "--data", p)
    assert_user_error(code, err, "not seen in training", "'neutral'")


# -- bad training inputs: exit 2, one line, no run folder -----------------------------------------------
def _bad(tmp_path, kind):
    p = tmp_path / "d.csv"
    good = "text,label\ngood film,pos\nbad film,neg\ngreat,pos\nawful,neg\n"
    if kind == "empty":
        p.write_text("")
    elif kind == "no_text":                             # three columns: which holds the texts is not implied
        p.write_text(_with_ids(good).replace("text,", "review,"))
    elif kind == "no_label":
        p.write_text(_with_ids(good).replace(",label", ",sentiment"))
    elif kind == "two_columns":                         # two columns: the longer cells are the texts
        p.write_text(good.replace("text,label", "review,sentiment").replace("film,", "film and more,"))
    elif kind == "one_class":
        p.write_text("text,label\ngood,pos\ngreat,pos\n")
    elif kind == "blank_texts":
        p.write_text(good + '"   ",pos\n,neg\n')
    elif kind == "latin1":
        p.write_bytes((good + "caf\xe9 film,pos\n").encode("latin-1"))
    return p


def _with_ids(table: str) -> str:
    return "".join(f"{line},{'id' if i == 0 else i}\n" for i, line in enumerate(table.splitlines()))


@pytest.mark.parametrize("kind,words", [
    ("empty", ["empty"]),
    ("no_text", ["text column 'text' not found", "review"]),
    ("no_label", ["label column 'label' not found", "sentiment"]),
    ("one_class", ["only one class", "'pos'"]),
    ("blank_texts", ["2 of 6 rows", "empty or whitespace-only", "--drop-empty"]),
    ("latin1", ["line 6", "utf-8", "--encoding"]),
])
def test_bad_text_input(tmp_path, capsys, cfg, kind, words):
    out = tmp_path / "runs"
    code, _, err = cli(capsys, "classify", "train", "--data", _bad(tmp_path, kind), "--config", cfg, "--out", out)
    assert_user_error(code, err, *words)
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("kind,flags", [("blank_texts", ["--drop-empty"]), ("latin1", ["--encoding", "latin-1"]),
                                        ("two_columns", []), ("no_text", ["--text", "review"])])
def test_the_suggested_fix_works(tmp_path, capsys, cfg, kind, flags):
    code, out, err = cli(capsys, "classify", "train", "--data", _bad(tmp_path, kind), "--config", cfg,
                         "--epochs", 1, "--val-frac", 0.5, "--out", tmp_path / "runs", *flags)
    assert code == 0, err
    assert "run folder:" in out


def test_drop_empty_says_how_many_rows_of_which_file_it_dropped(tmp_path, capsys, cfg):
    """--drop-empty recorded ``dropped_empty`` in lstmkit.json and printed nothing."""
    data = _bad(tmp_path, "blank_texts")
    code, out, err = cli(capsys, "classify", "train", "--data", data, "--config", cfg, "--epochs", 1,
                         "--val-frac", 0.5, "--out", tmp_path / "runs", "--drop-empty")
    assert code == 0, err
    said = [line for line in err.splitlines() if "dropped for empty" in line]
    assert said == [f"warning: 2 of 6 rows in {data} dropped for empty or whitespace-only text (first: line 6), "
                    "as --drop-empty asks: they are neither trained on nor scored"], err


def test_numeric_ragged_rows_then_unequal_length(tmp_path, capsys, cfg, series):
    seqs, labels = series(40)
    p = tmp_path / "S_TRAIN.tsv"
    p.write_text("".join(f"{lab}\t" + "\t".join(f"{v:.4f}" for v in s[:, 0]) + "\n" for s, lab in zip(seqs, labels)))
    out = tmp_path / "runs"
    code, _, err = cli(capsys, "classify", "train", "--series", "--data", p, "--config", cfg, "--out", out)
    assert_user_error(code, err, "different lengths", "--unequal-length")
    assert not out.exists() or not any(out.iterdir())
    code, text, err = cli(capsys, "classify", "train", "--series", "--unequal-length", "--data", p, "--config", cfg,
                          "--epochs", 2, "--out", out)
    assert code == 0, err
    (run,) = out.iterdir()
    code, text, err = cli(capsys, "classify", "evaluate", "--run", run, "--data", p)
    assert code == 0 and "accuracy" in text, err


def test_data_errors_name_the_flags_a_command_line_user_types(text_run, text_csv, tmp_path, capsys, monkeypatch):
    """A --data path that is not there was told Python's way ('a single string is read as a file's path — to label
    texts pass a list of them, e.g. ['nosuch']'), and the label column named as the text column 'pass the column of
    class names as label=' from Python: each in the caller's words."""
    monkeypatch.chdir(tmp_path)
    for command in (["train"], ["predict", "--run", text_run], ["evaluate", "--run", text_run]):
        code, _, err = cli(capsys, "classify", *command, "--data", "nosuch")
        assert_user_error(code, err, "file not found: nosuch — check the path")
        assert "list" not in err and "single string" not in err
    # a quoted '~' the shell left alone: the path with the home folder, as every --data path is told
    code, _, err = cli(capsys, "classify", "train", "--data", "~/nosuch-lstmkit-data")
    assert_user_error(code, err, "file not found: ~/nosuch-lstmkit-data — the shell expands '~' only outside quotes",
                      f"pass {os.path.expanduser('~/nosuch-lstmkit-data')}")
    code, _, err = cli(capsys, "classify", "train", "--data", text_csv, "--text", "review", "--label", "review",
                       "--out", tmp_path / "runs")
    assert_user_error(code, err, "the text and the label column are the same column, 'review'",
                      "— name the column of class names with --label NAME and the texts' with --text NAME")
    assert not (tmp_path / "runs").exists()


def test_wrong_task_run_folder(tmp_path, capsys):
    run = tmp_path / "r"
    run.mkdir()
    (run / "lstmkit.json").write_text(json.dumps({"format_version": 1, "task": "forecast", "status": "finished"}))
    code, _, err = cli(capsys, "classify", "predict", "--run", run, "--data", "-")
    assert_user_error(code, err, "'forecast' run")


def test_series_flags_beat_the_series_defaults(tmp_path, capsys, series):
    """`--series --epochs 1 --batch-size 64 --patience 2` records and trains exactly that (the
    numeric-sequence defaults, LSTM-FCN's protocol, fill only what is not given)."""
    seqs, labels = series(24, unequal=False)
    p = tmp_path / "S_TRAIN.tsv"
    p.write_text("".join(f"{lab}\t" + "\t".join(f"{v:.4f}" for v in s[:, 0]) + "\n" for s, lab in zip(seqs, labels)))
    out = tmp_path / "runs"
    code, text, err = cli(capsys, "classify", "train", "--data", p, "--series", "--epochs", 1, "--batch-size", 64,
                          "--patience", 2, "--hidden-size", 8, "--progress", "off", "--no-tensorboard", "--out", out)
    assert code == 0, err
    # no holdout (LSTM-FCN's protocol): the scores printed are on the training data, and say so
    assert "Training metrics, 24 examples" in text and "Validation metrics" not in text
    assert "scored on the data it trained on" in text and "--test FILE" in text
    (run,) = out.iterdir()
    train = json.loads((run / "lstmkit.json").read_text())["config"]["train"]
    assert (train["max_epochs"], train["batch_size"], train["patience"]) == (1, 64, 2)
    assert train["lr_patience"] == 100                    # not given: the series default
    assert len(pd.read_csv(run / "history.csv")) == 1     # one epoch trained


@pytest.mark.parametrize("flag, series", [("--epochs", "--series"), ("--batch-size", "--series"),
                                          ("--patience", "--series"), ("--hidden-size", "--series"),
                                          ("--min-freq", "--no-series")])     # --min-freq reads texts only
def test_negative_counts_are_one_line(tmp_path, capsys, flag, series):
    code, _, err = cli(capsys, "classify", "train", "--data", tmp_path / "x.tsv", series, flag, -1,
                       "--out", tmp_path / "runs")
    assert_user_error(code, err, "must be", "got -1")
    assert not (tmp_path / "runs").exists()


def test_series_predict_of_a_long_table_names_each_sample(tmp_path, capsys, series):
    """One row per sample, in first-appearance order: without its id a user could not tell which
    (the rows of a long table are steps, not samples)."""
    seqs, labels = series(12, unequal=False)
    rows = [f"{sid},{t},{v:.4f},{lab}" for sid, s, lab in zip(range(100, 112), seqs, labels)
            for t, v in enumerate(s[:, 0])]
    train = tmp_path / "long.csv"
    train.write_text("id,t,x,label\n" + "\n".join(rows) + "\n")
    out = tmp_path / "runs"
    code, _, err = cli(capsys, "classify", "train", "--series", "--data", train, "--sample", "id", "--epochs", 1,
                       "--hidden-size", 8, "--progress", "off", "--out", out)
    assert code == 0, err
    (run,) = out.iterdir()
    new = tmp_path / "new.csv"
    new.write_text("id,t,x\n" + "\n".join(r.rsplit(",", 1)[0] for r in rows if r.startswith(("107,", "103,"))) + "\n")
    code, text, err = cli(capsys, "classify", "predict", "--run", run, "--data", new)
    lines = text.strip().splitlines()
    assert code == 0 and lines[0] == "id,label,probability", err       # was label,probability only
    assert [ln.split(",")[0] for ln in lines[1:]] == ["103", "107"]
    code, _, err = cli(capsys, "classify", "predict", "--run", run, "--data", new, "--text", "x")
    assert_user_error(code, err, "--text names the text column of a text model's data", "drop --text")


def test_a_wide_tables_id_column_names_its_rows_and_is_no_step(tmp_path, capsys, series):
    """``id,label,t0,…`` (one row per sample): the id column was read as every series' first step."""
    seqs, labels = series(8, unequal=False)
    rows = [f"{sid},{lab}," + ",".join(f"{v:.4f}" for v in s[:, 0]) for sid, s, lab in zip(range(100, 108), seqs, labels)]
    train = tmp_path / "wide.csv"
    train.write_text("id,label," + ",".join(f"t{j}" for j in range(len(seqs[0]))) + "\n" + "\n".join(rows) + "\n")
    d = read_series(train)
    assert d.ids == [str(k) for k in range(100, 108)] and d.id_name == "id"
    np.testing.assert_allclose(d.seqs[3][:, 0], seqs[3][:, 0], atol=1e-4)       # the steps alone
    (tmp_path / "named.csv").write_text("case_id,label,t0,t1\nA,up,1,2\nB,down,3,4\n")
    assert read_series(tmp_path / "named.csv").seqs[1][:, 0].tolist() == [3, 4]
    out = tmp_path / "runs"
    code, _, err = cli(capsys, "classify", "train", "--series", "--data", train, "--epochs", 1, "--hidden-size", 8,
                       "--progress", "off", "--out", out)
    assert code == 0, err
    (run,) = out.iterdir()
    new = tmp_path / "new.csv"
    new.write_text("id," + ",".join(f"t{j}" for j in range(len(seqs[0]))) + "\n"
                   + "\n".join(r.split(",", 2)[0] + "," + r.split(",", 2)[2] for r in rows[5:]) + "\n")
    code, text, err = cli(capsys, "classify", "predict", "--run", run, "--data", new)
    lines = text.strip().splitlines()
    assert code == 0 and lines[0] == "id,label,probability", err
    assert [ln.split(",")[0] for ln in lines[1:]] == ["105", "106", "107"]


def test_series_predict_stdin_of_a_labelled_ucr_file_is_an_error(tmp_path, capsys, series, monkeypatch):
    """Lines of label + 12 values to a model of 12 steps: the label was read as the first value."""
    seqs, labels = series(12, unequal=False)
    ucr = "".join(f"{lab}\t" + "\t".join(f"{v:.4f}" for v in s[:, 0]) + "\n"
                  for s, lab in zip(seqs, [1 if lab == "up" else 2 for lab in labels]))
    (tmp_path / "S_TRAIN.tsv").write_text(ucr)
    out = tmp_path / "runs"
    code, _, err = cli(capsys, "classify", "train", "--series", "--data", tmp_path / "S_TRAIN.tsv", "--epochs", 1,
                       "--hidden-size", 8, "--progress", "off", "--out", out)
    assert code == 0, err
    (run,) = out.iterdir()
    code, _, err = cli(capsys, "classify", "predict", "--run", run, "--data", "-", stdin=ucr, monkeypatch=monkeypatch)
    assert_user_error(code, err, "13 values, the model reads series of 12", "cut -f2-")
    values = "".join(line.split("\t", 1)[1] for line in ucr.splitlines(keepends=True))
    code, text, err = cli(capsys, "classify", "predict", "--run", run, "--data", "-", stdin=values, monkeypatch=monkeypatch)
    assert code == 0 and len(text.strip().splitlines()) == 13, err


def test_a_run_trained_without_progress_shows_it_at_evaluate_unless_told_off(text_run, tmp_path, texts, capsys,
                                                                              monkeypatch):
    """text_run was trained under progress 'off' (a script's setting, saved in its run): evaluate showed
    nothing on any terminal since. It shows this command's progress now (auto: log lines off a terminal)."""
    from lstmkit.train import progress
    x, y = texts(300, seed=5)                               # 2 batches of 256
    p = tmp_path / "more.csv"
    pd.DataFrame({"review": x, "sentiment": y}).to_csv(p, index=False)
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)       # a line per batch
    code, _, err = cli(capsys, "classify", "evaluate", "--run", text_run, "--data", p)
    assert code == 0, err
    assert "classifying: 1/2 batches" in err and "classifying: 2/2 batches" in err
    for command in ("evaluate", "predict"):
        code, _, err = cli(capsys, "classify", command, "--run", text_run, "--data", p, "--progress", "off")
        assert code == 0 and "classifying" not in err, err
    code, _, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", p, "--progress", "loud")
    assert_user_error(code, err, "progress", "auto")


def test_train_refuses_the_test_file_as_the_validation_file(text_csv, cfg, tmp_path, capsys):
    held = tmp_path / "held.csv"
    held.write_bytes(text_csv.read_bytes())
    same = ["classify", "train", "--data", text_csv, "--text", "review", "--label", "sentiment", "--config", cfg,
            "--out", tmp_path / "runs", "--val", held, "--test", tmp_path / "." / "held.csv"]
    assert_user_error(*cli(capsys, *same)[::2], "--val and --test are the same file", "test set")
    assert not (tmp_path / "runs").exists()


def test_series_test_file_repeating_the_training_series_is_warned_of(tmp_path, capsys, series):
    """`--series --data S.tsv --test S.tsv` (or a copy holding some of its series) warns as the text
    task does: the test scores are on series the model learned (before: no word, and the scores
    printed as "on unseen data")."""
    seqs, labels = series(24, unequal=False)
    lines = [f"{lab}\t" + "\t".join(f"{v:.4f}" for v in s[:, 0]) + "\n" for s, lab in zip(seqs, labels)]
    p, test, fresh = tmp_path / "S_TRAIN.tsv", tmp_path / "S_TEST.tsv", tmp_path / "S_NEW.tsv"
    p.write_text("".join(lines))
    test.write_text("".join(lines[:5]) + "".join(f"{lab}\t" + "\t".join(f"{v + 0.5:.4f}" for v in s[:, 0]) + "\n"
                                                 for s, lab in zip(seqs[5:8], labels[5:8])))
    fresh.write_text("".join(f"{lab}\t" + "\t".join(f"{v + 0.5:.4f}" for v in s[:, 0]) + "\n"
                             for s, lab in zip(seqs, labels)))
    flags = ["classify", "train", "--series", "--epochs", 1, "--hidden-size", 8, "--progress", "off",
             "--no-tensorboard", "--out", tmp_path / "runs"]
    code, _, err = cli(capsys, *flags, "--data", p, "--test", p)
    assert code == 0, err
    assert ("warning: 24 of the 24 series of the test data occur in the training data too (duplicate rows): its scores "
            "flatter the model on them; drop the repeated series from one side") in err
    code, _, err = cli(capsys, *flags, "--data", p, "--test", test, "--val", p)
    assert code == 0, err
    assert "5 of the 8 series of the test data occur in the training data too" in err
    assert "24 of the 24 series of the validation data occur in the training data too" in err
    code, _, err = cli(capsys, *flags, "--data", p, "--test", fresh)
    assert code == 0 and "occur in the training data" not in err, err


@pytest.mark.parametrize("settings, schedule", [({}, "plateau"), ({"series": True}, "cosine"),
                                                ({"series": True, "model": "lstm-fcn-ds"}, "cosine"),
                                                ({"series": True, "model": "lstm"}, "plateau")])
def test_the_schedule_a_train_command_checks_plateau_flags_against(settings, schedule):
    # --series' LSTM-FCN trains with cosine unless told otherwise: --lr-patience there changed nothing;
    # a zoo encoder's defaults (and a text model's) keep the plateau schedule, where it acts
    from lstmkit.tasks.classify.cli import _schedule
    from lstmkit.tasks.classify.series_estimator import SequenceClassifier
    assert _schedule(settings) == schedule
    if settings.get("series"):
        model = settings.get("model", "lstm-fcn-ds")
        assert SequenceClassifier(model=model).config.train.lr_schedule == schedule


def test_train_says_its_validation_nll_is_the_word_score_mix_and_val_loss_the_network_alone(text_csv, cfg, tmp_path,
                                                                                            capsys):
    """The validation NLL (metrics.json, the report) is of the answers predict_proba gives, the network
    mixed with the word scores after training; history.csv's val_loss is the network's alone. They
    disagreed (0.6514 beside a best val_loss of 0.6926) with no word of why: a line under the
    validation metrics now says which is which, with the numbers in the run's files."""
    from sklearn.metrics import log_loss

    from lstmkit import load
    from lstmkit.tasks.classify.labels import stratified_split
    code, out, err = cli(capsys, "classify", "train", "--data", text_csv, "--text", "review", "--label", "sentiment",
                         "--config", cfg, "--out", tmp_path)
    assert code == 0, err
    (run,) = tmp_path.iterdir()
    meta = json.loads((run / "lstmkit.json").read_text())
    a, w = meta["data"]["word_score_mix"]
    assert w > 0
    history = pd.read_csv(run / "history.csv")
    best = int(out.split("best epoch ")[1].split()[0])
    val_loss = float(history.loc[history["epoch"] == best, "val_loss"].iloc[0])
    note = next(line for line in out.splitlines() if line.startswith("(the NLL above"))
    assert f"{a:g} x network + {w:g} x word scores" in note and f"val_loss, {val_loss:.4f} at the best epoch" in note
    nll = json.loads((run / "metrics.json").read_text())["val"]["nll"]
    assert f"NLL {nll:.4f}" in out.split("Validation metrics")[1].split("(the NLL above")[0]
    frame = pd.read_csv(text_csv)                         # the validation part, split as training split it
    clf = load(run)
    _, val = stratified_split(frame["sentiment"].tolist(), clf.config_.val_frac, clf.config_.train.seed)
    proba = clf.predict_proba(frame["review"].iloc[val].tolist())
    assert log_loss(frame["sentiment"].iloc[val], proba, labels=list(clf.classes_)) == pytest.approx(nll, abs=1e-6)


def test_predict_probabilities_give_evaluates_metrics_again(text_run, text_csv, tmp_path, capsys):
    """predict wrote the predicted label's probability alone: evaluate's nll, brier and roc_auc could not be
    computed again from its file (a wrong row's true-class probability is not there). --probabilities adds
    a p_<class> column per class, and scikit-learn on that file gives evaluate's numbers."""
    from sklearn.metrics import accuracy_score, brier_score_loss, f1_score, log_loss, roc_auc_score
    code, out, err = cli(capsys, "classify", "evaluate", "--run", text_run, "--data", text_csv, "--json")
    assert code == 0, err
    m = json.loads(out)
    code, out, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", text_csv, "--probabilities",
                         "--out", tmp_path / "p.csv")
    assert code == 0, err
    p, y = pd.read_csv(tmp_path / "p.csv"), pd.read_csv(text_csv)["sentiment"]
    classes = [c[2:] for c in p.columns if c.startswith("p_")]
    assert list(p.columns[:2]) == ["label", "probability"] and sorted(classes) == sorted(set(y))
    proba = p[[f"p_{c}" for c in classes]].to_numpy()
    assert np.allclose(proba.max(axis=1), p["probability"]) and (p["label"] == np.array(classes)[proba.argmax(1)]).all()
    assert accuracy_score(y, p["label"]) == pytest.approx(m["accuracy"])
    assert f1_score(y, p["label"], average="macro") == pytest.approx(m["macro_f1"])
    assert log_loss(y, proba, labels=classes) == pytest.approx(m["nll"], rel=1e-12)
    assert brier_score_loss(y, proba, labels=classes) == pytest.approx(m["brier"], rel=1e-12)
    assert roc_auc_score(y == classes[1], proba[:, 1]) == pytest.approx(m["roc_auc"], rel=1e-12)
    # predict_proba's numbers as they are: rounded to 6 decimals, a confident miss's 1e-9 read 0
    from lstmkit.tasks.classify.estimator import load_classifier
    clf = load_classifier(text_run)
    given = clf.predict_proba(pd.read_csv(text_csv)["review"].tolist())
    np.testing.assert_array_equal(proba, given[:, [list(clf.classes_).index(c) for c in classes]])


def _mixed(mix, monitored="val_loss", best_epoch=2, class_weights=None):
    """What _mix_note reads of a fitted text classifier: its data summary's mix, its history and best epoch."""
    from types import SimpleNamespace
    history = [{"epoch": 1, "val_loss": 0.91234}, {"epoch": 2, "val_loss": 0.69264}, {"epoch": 3, "val_loss": 0.7}]
    result = SimpleNamespace(history=history, best_epoch=best_epoch, monitored=monitored)
    return SimpleNamespace(data_summary_={"word_score_mix": mix}, result_=result, class_weights_=class_weights)


def test_the_mix_note_names_the_mix_and_the_best_epochs_val_loss_and_is_left_out_without_a_mix():
    """The note under the validation metrics gives the mix's weights and history.csv's val_loss of the best epoch
    (0.6926 at epoch 2, not the first's 0.9123 nor the last's); nothing where there is no mix to tell apart: word
    scores off, a weight of 0 on them, nothing held out (training loss monitored) or no val_loss at the best epoch."""
    from lstmkit.tasks.classify.cli import _mix_note
    note = _mix_note(_mixed([0.75, 0.25]))
    assert "0.75 x network + 0.25 x word scores" in note and "val_loss, 0.6926 at the best epoch" in note
    assert note.endswith("is the network's alone)")
    assert _mix_note(_mixed([0.75, 0.25], class_weights=[1.0, 3.0])).endswith(
        "is the network's alone, weighted by the class weights)")
    assert "val_loss, 0.9123 at the best epoch" in _mix_note(_mixed([0.5, 0.5], best_epoch=1))
    for est in (_mixed(None), _mixed([1.0, 0.0]), _mixed([0.75, 0.25], monitored="loss"),
                _mixed([0.75, 0.25], best_epoch=9)):
        assert _mix_note(est) is None
    est = _mixed([0.75, 0.25])
    est.data_summary_ = None                     # a run of numeric sequences: no text, no word scores
    assert _mix_note(est) is None


def test_predict_probabilities_are_each_classs_unrounded_and_sum_to_1(text_run, tmp_path, capsys, monkeypatch):
    """p_<class> is the model's probability of that class (a column per class, in predict_proba's order), as it
    is: evaluate's nll and brier computed again from the file. A tiny model's answers near 0 and 1 hid a rounding
    to 3 places; these are answers given by hand, 0.1234567 of the first class and so on."""
    from lstmkit.tasks.classify.estimator import TextClassifier
    given = np.array([[0.1234567, 0.8765433], [2 / 3, 1 / 3], [0.25, 0.75]])
    monkeypatch.setattr(TextClassifier, "predict_proba", lambda self, x: given[:len(x)])
    data = tmp_path / "three.csv"
    pd.DataFrame({"review": ["one text", "another text", "a third"]}).to_csv(data, index=False)
    code, _, err = cli(capsys, "classify", "predict", "--run", text_run, "--data", data, "--probabilities",
                       "--out", tmp_path / "p.csv")
    assert code == 0, err
    p = pd.read_csv(tmp_path / "p.csv")
    from lstmkit import load
    clf = load(text_run)
    names = [clf.class_names_[k] for k in clf.class_order()]
    proba = p[[f"p_{name}" for name in names]].to_numpy()
    assert np.abs(proba - given).max() <= 1e-15                    # 0.1234567 and 2/3 as they are, not 0.666667
    assert np.abs(proba.sum(axis=1) - 1).max() <= 1e-15
    assert p["label"].tolist() == [names[1], names[0], names[1]]
    assert np.abs(p["probability"].to_numpy() - [0.8765433, 2 / 3, 0.75]).max() <= 5e-7   # shown to 6 places


def _help_defaults(command) -> dict[str, str]:
    """Each generated option's ``[default: ...]`` as ``train --help`` prints it, by its config key."""
    import re
    import typer.main
    from lstmkit.tasks.classify.cli import app
    train = typer.main.get_command(app).commands[command]
    return {p.name: m.group(1) for p in train.params if (m := re.search(r"\[default: (.*)\]$", getattr(p, "help", "") or ""))}


def _typed(key: str, value) -> str:
    """``value`` as the help writes a default: a switch by its flag, None as none."""
    if isinstance(value, bool):
        return key.replace("_", "-") if value else "no-" + key.replace("_", "-")
    return "none" if value is None else ",".join(map(str, value)) if isinstance(value, list) else str(value)


def test_train_help_shows_the_defaults_each_kind_trains_with():
    """The help showed ClassifyConfig's defaults, which neither kind trains with: 'hidden units per layer
    [default: 128]', '--no-word-scores', 10 epochs, where a text run trains 64 units, word scores on, up to
    30 epochs; and '--augment [default: none]' of an option for numeric series, whose default is scale-warp."""
    from lstmkit.config import flatten_config
    from lstmkit.tasks.classify.config import SERIES_DEFAULTS
    from lstmkit.tasks.classify.estimator import SequenceClassifier, TextClassifier
    text = flatten_config(TextClassifier.default_config().to_dict())
    series = flatten_config(SequenceClassifier.default_config().to_dict())
    shown = _help_defaults("train")
    assert shown["hidden_size"] == "64; --series: 8" and shown["word_scores"] == "word-scores"
    assert shown["augment"] == "none; --series: scale-warp"
    for key, said in shown.items():
        mine, _, theirs = said.partition("; --series: ")
        assert mine == _typed(key, text[key]), key
        assert theirs == (_typed(key, series[key]) if "; --series: " in said else ""), key
    differ = {k for k in shown if k in SERIES_DEFAULTS and series[k] != text[k]}
    assert differ == {k for k, said in shown.items() if "; --series: " in said}


def test_train_help_names_the_defaults_of_a_zoo_encoder_on_series():
    """'--series --model lstm' trains 64 units at dropout 0.1 for up to 200 epochs (ENCODER_DEFAULTS),
    where the help's '--series:' defaults (8 units, 0.8, 2000 epochs, a budget, scale-warp) are LSTM-FCN's
    alone: the help's paragraph names each setting of theirs that differs, and the rest are LSTM-FCN's."""
    import re
    import typer.main
    from lstmkit.config import flatten_config
    from lstmkit.tasks.classify.cli import app
    from lstmkit.tasks.classify.estimator import SequenceClassifier
    doc = " ".join(typer.main.get_command(app).commands["train"].help.split())
    said = re.search(r"--series with a zoo encoder \(--model lstm, \.\.\.\) trains with (.*), and the rest as LSTM-FCN",
                     doc)
    assert said, doc
    named = dict(part.split(" ", 1) for part in said.group(1).split(", "))
    zoo = flatten_config(SequenceClassifier._resolve_config(None, {"model": "lstm"}).to_dict())
    fcn = flatten_config(SequenceClassifier.default_config().to_dict())
    expected = {"--hidden-size": "64", "--dropout": "0.1", "--max-epochs": "200", "--budget": "none"}
    assert expected.items() <= named.items()
    for key in zoo:
        if key not in ("model", "series"):
            assert named.get("--" + key.replace("_", "-"), _typed(key, fcn[key])) == _typed(key, zoo[key]), key
