"""A hint names an option in the caller's words (:func:`lstmkit.errors.opt`): a keyword argument
(``lookback=1``) to a Python caller of the estimators, a flag (``--lookback 1``) on the command line.
From Python the hints said '— pass --lookback 1 or more', a flag no Python caller can pass."""
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lstmkit
from lstmkit.errors import LstmkitError, caller_wording, opt, worded

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cli_helpers import run_cli  # noqa: E402
from estimator_data import QUICK, labelled_texts  # noqa: E402
from one_thread import one_thread_per_package  # noqa: F401,E402  (autouse: one torch thread)


def test_opt_words_an_option_for_its_caller():
    assert (opt("lookback", 24), opt("pooling", "attention"), opt("drop_empty", True), opt("target", ["a", "b"]),
            opt("lr", "1e-3", written=True), opt("label")) == (
        "--lookback 24", "--pooling attention", "--drop-empty", "--target a,b", "--lr 1e-3", "--label")
    with caller_wording(python=True):
        assert (opt("lookback", 24), opt("pooling", "attention"), opt("drop_empty", True), opt("target", ["a", "b"]),
                opt("lr", "1e-3", written=True), opt("label")) == (
            "lookback=24", "pooling='attention'", "drop_empty=True", "target=['a', 'b']", "lr=1e-3", "label=")
        assert worded("add --series", "use SequenceClassifier") == "use SequenceClassifier"
    assert worded("add --series", "use SequenceClassifier") == "add --series"


def test_the_outermost_caller_decides():
    """The CLI calls the estimators: their hints keep its flags."""
    with caller_wording(python=False):
        with caller_wording(python=True):
            assert opt("lookback", 1) == "--lookback 1"
        with pytest.raises(LstmkitError, match="— pass --lookback 1 or more$"):
            lstmkit.Forecaster(lookback=0)


def _hint(call) -> str:
    with pytest.raises(LstmkitError) as info:
        call()
    return info.value.hint


SINE = np.sin(np.arange(80) / 4)
RAGGED = [np.zeros(5), np.zeros(7)] * 5
TABLE = pd.DataFrame({"text": labelled_texts()[0], "label": labelled_texts()[1]})
# (what a Python caller does, the hint it reads)
PYTHON = [
    (lambda: lstmkit.Forecaster(lookback=0), "pass lookback=1 or more"),
    (lambda: lstmkit.Forecaster(dropout=1.5), "pass dropout=0.2, say"),
    (lambda: lstmkit.Forecaster().set_params(horizon=-1), "pass horizon=1 or more"),
    (lambda: lstmkit.Forecaster(**QUICK, lookback=200).fit(SINE), "shorten lookback= (or horizon=) or supply more data"),
    (lambda: lstmkit.Forecaster(**QUICK).fit(pd.DataFrame({"a": SINE, "b": SINE})),
     "name the series to forecast: target='a' (several: a list; inputs that are not forecast go to features=)"),
    (lambda: lstmkit.TextClassifier(**QUICK, min_freq=10**6).fit(*labelled_texts()),
     "pass min_freq=2 (rarer words become unknown)"),
    (lambda: lstmkit.TextClassifier(**QUICK, text="txt").fit(TABLE), "pass text= with one of: text, label"),
    (lambda: lstmkit.TextClassifier(**QUICK).fit(["a b", " "] * 10, ["x", "y"] * 10),
     "remove them, or pass drop_empty=True to skip them"),
    (lambda: lstmkit.TextClassifier(val_frac=1.5),
     "pass val_frac=0.1, val_data, or 0 to hold nothing out, say"),
    (lambda: lstmkit.SequenceClassifier(**QUICK).fit(RAGGED, ["a", "b"] * 5),
     "pass unequal_length=True if they are meant to differ, else fix the ragged rows"),
    (lambda: lstmkit.SequenceClassifier(**QUICK).fit(np.zeros((10, 5)), ["a"] * 10),
     "a classifier needs examples of at least two classes; check the labels (y, or the label= column)"),
]


@pytest.mark.parametrize("call, hint", PYTHON, ids=[h[:40] for _, h in PYTHON])
def test_a_python_caller_reads_keywords(call, hint):
    assert _hint(call) == hint


def test_a_fitted_models_hints_name_keywords_too():
    clf = lstmkit.TextClassifier(**QUICK, min_freq=1).fit(*labelled_texts())
    assert _hint(lambda: clf.attention("the film")) == "train with pooling='attention' to get the token-weight view"
    assert _hint(lambda: clf.token_inputs(" ")) == "pass some words"


def test_the_command_line_reads_flags(tmp_path, capsys):
    """The same hints as the CLI gives them (the catalogue pins more)."""
    data = tmp_path / "sine.csv"
    pd.DataFrame({"y": SINE}).to_csv(data, index=False)
    code, _, err = run_cli(["forecast", "train", "--data", data, "--target", "y", "--lookback", "200", "--epochs", "1",
                            "--out", tmp_path / "runs", "--progress", "off"], capsys)
    assert code == 2 and err.strip().endswith("— shorten --lookback (or --horizon) or supply more data"), err
    code, _, err = run_cli(["forecast", "train", "--data", data, "--target", "y", "--lookback", "0"], capsys)
    assert code == 2 and err.strip().endswith("— pass --lookback 1 or more"), err
