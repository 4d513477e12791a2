"""The lm room's bench: ``lstmkit compare --task lm`` and ``lstmkit tune lm``, found by name."""
import warnings

import pytest

from lstmkit.compare import compare
from lstmkit.errors import LstmkitError
from lstmkit.tune import TASKS as TUNABLE

TINY = dict(embed_dim=8, hidden_size=8, num_layers=1, batch_size=16, lr=1e-2, doctor=False)


@pytest.fixture
def corpus(tmp_path, sentences):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(sentences(80)) + "\n")
    return path


def test_compare_lm_scores_every_model_on_the_same_held_out_lines(corpus):
    table = compare("lm", corpus, models=["lstm", "gru"], seeds=1, epochs=2, out=None, log=None, warmup=False,
                    **TINY)
    assert table["model"].tolist() == ["lstm", "gru"]
    assert (table["perplexity_mean"] > 1).all() and (table["bits_per_token_mean"] > 0).all()
    assert (table["latency_b1_ms_mean"] > 0).all() and (table["act_mem_mb_mean"] > 0).all()
    assert table.attrs["settings"]["test_lines"] == 8


def test_compare_lm_refuses_a_model_that_reads_the_future(corpus):
    with pytest.raises(LstmkitError, match="not causal"):
        compare("lm", corpus, models=["lstm", "bilstm"], out=None, log=None, **TINY)


def test_tune_lm_trains_one_trial_and_checks_first(corpus):
    from lstmkit.tune import _Pruning

    class _Trial:
        def report(self, value, step):
            self.last = (step, value)

        def should_prune(self):
            return False

    plug = TUNABLE["lm"]
    params = {"data": corpus, **TINY, "max_epochs": 2, "progress": "off", "tensorboard": False}
    plug.check(params)
    trial = _Trial()
    loss = plug.run_trial(params, _Pruning(trial))
    assert trial.last[0] == 2 and loss <= trial.last[1]          # the best epoch's, reported each epoch
    with pytest.raises(LstmkitError, match="unknown level"):
        plug.check({**params, "level": "byte"})


def test_lm_bench_warns_when_the_test_lines_are_training_lines(corpus, tmp_path, sentences):
    from lstmkit.tasks.lm.bench import LanguageModelBench
    with pytest.warns(UserWarning, match="80 of the 80 test lines are training lines too: the test perplexity"):
        LanguageModelBench(corpus, test=corpus, **TINY)
    other = tmp_path / "other.txt"
    other.write_text("\n".join(f"line {k} of text kept apart" for k in range(10)) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(LanguageModelBench(corpus, test=other, **TINY).test.lines) == 10
