"""``lstmkit export int8 --run RUN --data FILE`` with a file the run cannot read: one line naming
the problem and a fix that ``export int8`` accepts (it has no column options), exit 2, nothing written."""
import pandas as pd
import pytest

pytest.importorskip("onnxruntime")

from cli_helpers import assert_user_error, run_cli  # noqa: E402
from lstmkit import SequenceClassifier, TextClassifier  # noqa: E402
from one_thread import one_thread_per_package  # noqa: F401,E402  (autouse: one torch thread)

QUICK = dict(embed_dim=8, hidden_size=8, lr=2e-2, max_epochs=1, seed=0, progress="off", tensorboard=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("int8data")
    texts = pd.DataFrame({"text": ["good film", "bad film", "great plot", "awful plot"] * 5,
                          "label": ["pos", "neg"] * 10})
    text = TextClassifier(**QUICK, min_freq=1).fit(texts, out=d / "text").run_dir_
    steps = pd.DataFrame([{"sample": i, "t": t, "x": float(t * (1 if i % 2 else -1)), "label": "ud"[i % 2]}
                          for i in range(12) for t in range(6)])
    series = SequenceClassifier(**QUICK).fit(steps, out=d / "series").run_dir_
    (d / "ab.csv").write_text("a,b\n1,2\n3,4\n")
    texts.to_csv(d / "texts.csv", index=False)
    return {"text": text, "series": series, "ab": d / "ab.csv", "texts": d / "texts.csv"}


@pytest.mark.parametrize("run, data, words", [
    ("text", "ab", ["text column 'text' not found", "no --text", "rename the file's columns"]),
    ("series", "texts", ["neither long", "no --label, --sample, --time", "rename the file's columns"]),
])
def test_unreadable_data_names_a_fix_export_int8_accepts(runs, tmp_path, capsys, run, data, words):
    out = tmp_path / "int8"
    code, _, err = run_cli(["export", "int8", "--run", runs[run], "--data", runs[data], "--out", out], capsys)
    assert_user_error(code, err, *words)
    assert "pass --" not in err                      # a flag this command would refuse
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_data_with_the_runs_columns_is_read(runs, tmp_path, capsys):
    code, out, err = run_cli(["export", "int8", "--run", runs["text"], "--data", runs["texts"],
                              "--out", tmp_path / "int8", "--backend", "torch"], capsys)
    assert code == 0, err
    assert "accuracy" in out and (tmp_path / "int8" / "lstmkit.json").is_file()


def test_a_test_file_that_moved_with_the_run_asks_for_data(runs, tmp_path, capsys):
    """A run copied to another machine without its --test file: the int8 check said 'file not found:
    OLD PATH — check the path' of a path `export int8` was never given; it asks for --data, as lm's,
    speech's and translate's runs do."""
    import json
    import shutil
    run = tmp_path / "copied run"
    shutil.copytree(runs["text"], run)
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["data"]["test_source"] = str(tmp_path / "gone" / "test.csv")
    (run / "lstmkit.json").write_text(json.dumps(meta))
    out = tmp_path / "int8"
    code, _, err = run_cli(["export", "int8", "--run", run, "--out", out], capsys)
    assert_user_error(code, err, "cannot check an int8 model of copied run: no test data to check the accuracy — "
                      "pass --data with labelled test examples; nothing was written")
    assert err.count("--data") == 1
    assert not out.exists()
    code, text, err = run_cli(["export", "int8", "--run", run, "--data", runs["texts"], "--out", out,
                               "--backend", "torch"], capsys)
    assert code == 0, err


def test_a_run_whose_name_nearly_fills_the_file_systems_limit_exports(runs, tmp_path, capsys):
    """RUN-int8 of a 250-byte RUN is 255 bytes, a name the file system takes; the temporary folder it is
    made in (``.RUN-int8.`` + 8 characters) was not: 'could not create the int8 run … (file name too
    long) … in a folder you can write to', after the float model was scored and timed."""
    import shutil
    run = tmp_path / ("r" * 250)
    shutil.copytree(runs["text"], run)
    code, _, err = run_cli(["export", "int8", "--run", run, "--data", runs["texts"], "--backend", "torch"], capsys)
    assert code == 0, err
    assert (tmp_path / ("r" * 250 + "-int8") / "lstmkit.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [run.name, run.name + "-int8"]


def test_a_classifiers_int8_export_scores_on_x_and_y_as_evaluate_does(runs, tmp_path):
    """``export('int8', data=(X, y))``, scikit-learn's pair, as translate's data= takes (sources,
    references): it read as a list of two texts and said 'text 0 of the list is a list'. The
    float model's recorded accuracy is evaluate(X, y)'s."""
    import json

    import lstmkit
    est = lstmkit.load(runs["text"])
    texts = pd.read_csv(runs["texts"])
    X, y = texts["text"].tolist(), texts["label"].tolist()
    target = est.export("int8", out=tmp_path / "xy", data=(X, y))
    report = json.loads((target / "export_report.json").read_text())
    assert report["fp32"]["metrics"]["accuracy"] == pytest.approx(est.evaluate(X, y)["accuracy"])
