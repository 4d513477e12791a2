"""Small series written as the files timeseriesclassification.com ships (sktime's .ts, Weka's
.arff), for the classify readers' tests."""
import json
from pathlib import Path

import numpy as np
from cli_helpers import assert_user_error, run_cli
from lstmkit.tasks.classify.estimator import load_classifier


def numbers(values) -> str:
    return ",".join(f"{v:.6f}" for v in values)


TS_HEAD = "# made by the test\n@problemName Ramps\n@timeStamps false\n@univariate true\n@equalLength true\n"


def ts_file(path, seqs, labels, header=TS_HEAD + "@classLabel true down up\n"):
    """``seqs`` ([T, F] each) as a .ts file: dimensions joined by ':', the label last."""
    rows = (":".join(numbers(s[:, d]) for d in range(s.shape[1])) + f":{lab}" for s, lab in zip(seqs, labels))
    path.write_text(header + "@data\n" + "\n".join(rows) + "\n")
    return path


def multivariate(n: int, seed: int = 0):
    """Three-dimensional series of 5-9 steps: rising or falling in every dimension."""
    rng = np.random.default_rng(seed)
    seqs = [np.round((1 if i % 2 else -1) * np.linspace(0, 1, T)[:, None] * [1, 2, 3] + rng.normal(0, 0.1, (T, 3)), 6)
            for i, T in enumerate(rng.integers(5, 10, n))]
    return seqs, ["up" if i % 2 else "down" for i in range(n)]


def refused_before_any_run(tmp_path, capsys, bad, *words):
    """``classify train --series`` on the file ``bad``: exit 2, one error line holding ``words``, no run folder."""
    code, _, err = run_cli(["classify", "train", "--series", "--data", bad, "--out", tmp_path / "runs"], capsys)
    assert_user_error(code, err, *words)
    assert not (tmp_path / "runs").exists()


def scored_alike(tmp_path, capsys, train, test, twin):
    """A tiny LSTM-FCN trained on ``train`` (tested on ``test``, 8 series) scores ``test`` and its
    ``twin`` (the same series in another format) alike: evaluate's JSON, predict's lines (CLI) and
    ``predict_proba`` (Python)."""
    code, text, err = run_cli(["classify", "train", "--series", "--data", train, "--test", test, "--epochs", 2,
                               "--hidden-size", 8, "--progress", "off", "--out", tmp_path / "runs"], capsys)
    assert code == 0 and "Test metrics, 8 examples" in text, err
    # the training scores' note told a user who had passed --test to pass one
    assert "none held out: they flatter the model; the test metrics below are on unseen data)" in text, text
    (run,) = (tmp_path / "runs").iterdir()
    scores = []
    for data in (test, twin):
        code, text, err = run_cli(["classify", "evaluate", "--run", run, "--data", data, "--json"], capsys)
        assert code == 0, err
        scores.append(json.loads(text))
    # each names the file it scored (evaluate --json's common keys); the rest alike
    assert [s.pop("data") for s in scores] == [str(Path(d).resolve()) for d in (test, twin)]
    assert scores[0] == scores[1] and scores[0]["n"] == 8
    code, text, err = run_cli(["classify", "predict", "--run", run, "--data", test], capsys)
    assert code == 0 and text.splitlines()[0] == "label,probability" and len(text.splitlines()) == 9, err
    model = load_classifier(run)
    np.testing.assert_array_equal(model.predict_proba(str(test)), model.predict_proba(str(twin)))
