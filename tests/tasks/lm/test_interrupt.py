"""Ctrl-C after a language model's last epoch (while the validation perplexity is scored or the
model saved): the run is left interrupted, and its resume ends with an uninterrupted run's weights."""
import pytest

from interrupt_helpers import assert_same_outputs, ctrl_c_in, status
from lstmkit import LanguageModel


@pytest.mark.parametrize("phase", ["_metrics", "save"])
def test_ctrl_c_after_the_last_epoch_resumes_as_an_uninterrupted_run(phase, sentences, tiny, tmp_path, monkeypatch):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(sentences(60)) + "\n")
    settings = {**tiny, "max_epochs": 2, "level": "word"}
    straight = LanguageModel(**settings).fit(str(corpus), run_dir=tmp_path / "straight").run_dir_
    with ctrl_c_in(monkeypatch, LanguageModel, phase) as e:
        LanguageModel(**settings).fit(str(corpus), run_dir=tmp_path / "run")
    assert status(tmp_path / "run") == "interrupted" and e.value.epoch == 2
    LanguageModel.resume(tmp_path / "run")
    assert_same_outputs(tmp_path / "run", straight)
