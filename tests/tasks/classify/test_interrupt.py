"""Ctrl-C after a text classifier's training, once the word-score mix was fitted into its head
(plots, saving): the run is left interrupted, and its resume ends with the weights and metrics of
a run never interrupted (the mix is fitted again on the checkpoint's weights, not on weights it
already moved)."""
import pandas as pd
import pytest

from interrupt_helpers import assert_same_outputs, ctrl_c_in, status
from lstmkit.tasks.classify.estimator import TextClassifier


@pytest.fixture(scope="module")
def data(texts, tmp_path_factory):
    x, y = texts(80, seed=1)
    path = tmp_path_factory.mktemp("texts") / "reviews.csv"
    pd.DataFrame({"text": x, "label": y}).to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("phase", ["_plots", "save"])
def test_ctrl_c_after_the_mix_was_fitted_resumes_as_an_uninterrupted_run(phase, data, tiny, tmp_path, monkeypatch):
    settings = {**tiny, "max_epochs": 2, "word_scores": True}
    straight = TextClassifier(**settings).fit(data, run_dir=tmp_path / "straight").run_dir_
    with ctrl_c_in(monkeypatch, TextClassifier, phase) as e:
        TextClassifier(**settings).fit(data, run_dir=tmp_path / "run")
    assert status(tmp_path / "run") == "interrupted" and e.value.epoch == 2
    TextClassifier.resume(tmp_path / "run")
    assert_same_outputs(tmp_path / "run", straight)
