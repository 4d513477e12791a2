"""The translate room's tune hooks: line-aligned files travel to check() and fit()."""
import pandas as pd
import pytest

from lstmkit import Translator
from lstmkit.errors import LstmkitError
from lstmkit.tasks.translate.bench import TranslateBench
from lstmkit.tune import TASKS as TUNABLE


def test_tune_translate_checks_line_aligned_files(tmp_path):
    (tmp_path / "a.en").write_text("a b\nc d\n")
    (tmp_path / "a.de").write_text("x y\nz w\n")
    plug = TUNABLE["translate"]
    plug.check({"src_file": tmp_path / "a.en", "tgt_file": tmp_path / "a.de", "hidden_size": 8})
    with pytest.raises(LstmkitError) as e:
        plug.check({"src_file": tmp_path / "a.en", "tgt_file": tmp_path / "missing.de"})
    assert "missing.de" in str(e.value)
    with pytest.raises(LstmkitError, match="Translator has no parameter 'lookback'"):
        plug.check({"src_file": tmp_path / "a.en", "tgt_file": tmp_path / "a.de", "lookback": 8})


def _table(path, rows):
    pd.DataFrame(rows, columns=["src", "tgt"]).to_csv(path, index=False)
    return path


def test_translate_bench_scores_pairs_neither_trained_on_nor_early_stopped_on(tmp_path, pairs, tiny):
    data = _table(tmp_path / "pairs.csv", pairs(60, seed=0))
    bench = TranslateBench(data, **tiny)
    rows = lambda p: set(zip(p.src, p.tgt))     # noqa: E731
    assert len(bench.test.src) == 6 and bench.describe_["scored_on"] == "0.1 of the pairs"
    assert rows(bench.test).isdisjoint(rows(bench.train) | rows(bench.val))
    assert len(bench.train.src) + len(bench.val.src) + len(bench.test.src) == 60
    trial = bench.run("lstm", 0, 1)
    est = Translator(**{**tiny, "model": "lstm", "seed": 0, "max_epochs": 1})
    est.fit(list(zip(bench.train.src, bench.train.tgt)), val_data=list(zip(bench.val.src, bench.val.tgt)))
    scores = est._score(bench.test, bench.options["beam"])
    assert trial.metrics == pytest.approx({"bleu": scores["bleu"], "chrf": scores["chrf"]})   # metrics.json's names
    with pytest.warns(UserWarning, match="60 of the 60 pairs of the test data occur in the training data too"):
        TranslateBench(data, test=data, **tiny)
