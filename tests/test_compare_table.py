"""The comparison table's claims, from trials built by hand: which row is best (lower-is-better MASE,
higher-is-better accuracy), means and sample spreads over seeds, which differences the seeds can tell,
which baselines beat every model, and how many trials a comparison has."""
from __future__ import annotations

import math

import numpy as np
import pytest

from lstmkit.compare import _check_finite, _fmt, _Progress, seed_noise, summarise, to_markdown
from lstmkit.errors import LstmkitError
from lstmkit.train.bench import Trial


def _trial(model, seed, metrics, params=100, train_s=1.0, epochs=2, wps=10.0, b1=0.1, b256=1.0, mem=0.5):
    return Trial(model, seed, params, metrics, train_s, epochs, wps, b1, b256, mem)


def _table(values, metric="MASE", refs=None, failed=None):
    """One trial per (model, seed) with ``metric`` as given: {'lstm': (seed 0's, seed 1's), ...}."""
    trials = [_trial(m, s, {metric: v}) for m, vs in values.items() for s, v in enumerate(vs)]
    return summarise(trials, (metric,), refs, failed)


def test_each_column_is_the_mean_and_sample_std_of_its_own_field_over_the_seeds():
    """Two seeds: mean (a+b)/2, sample std |a-b|/sqrt(2) — for the metrics and every measured column."""
    trials = [_trial("gru", 1, {"MAE": 2.0, "RMSE": 4.0}, params=7, train_s=10.0, epochs=3, wps=100.0, b1=1.0,
                     b256=20.0, mem=2.0),
              _trial("lstm", 1, {"MAE": 9.0, "RMSE": 9.0}, params=5),
              _trial("gru", 2, {"MAE": 4.0, "RMSE": 10.0}, params=7, train_s=30.0, epochs=5, wps=300.0, b1=3.0,
                     b256=60.0, mem=6.0)]
    table = summarise(trials, ("MAE", "RMSE"))
    assert table["model"].tolist() == ["gru", "lstm"]              # in the order the models first ran
    gru = table.set_index("model").loc["gru"]
    assert (gru["params"], gru["seeds"]) == (7, 2)
    expected = {"MAE": (2, 4), "RMSE": (4, 10), "train_s": (10, 30), "epochs": (3, 5), "windows_per_s": (100, 300),
                "latency_b1_ms": (1, 3), "latency_b256_ms": (20, 60), "act_mem_mb": (2, 6)}
    for col, (a, b) in expected.items():
        assert gru[f"{col}_mean"] == pytest.approx((a + b) / 2), col
        assert gru[f"{col}_std"] == pytest.approx(abs(a - b) / math.sqrt(2)), col
    lstm = table.set_index("model").loc["lstm"]
    assert (lstm["seeds"], lstm["MAE_mean"], lstm["MAE_std"]) == (1, 9.0, 0.0)    # one seed: no spread


def test_reference_and_failed_rows_carry_no_model_columns():
    table = _table({"lstm": (1.0, 2.0)}, refs={"naive": {"MASE": 1.0}, "ets": {}}, failed={"tcn": "diverged"})
    rows = table.set_index("model")
    assert rows.loc["tcn", "failed"] == "diverged" and np.isnan(rows.loc["tcn", "MASE_mean"])
    assert rows.loc["naive", "MASE_mean"] == 1.0 and np.isnan(rows.loc["ets", "MASE_mean"])   # a metric it lacks
    assert rows[["params", "seeds"]].loc[["tcn", "naive", "ets"]].isna().all().all()


@pytest.mark.parametrize("higher, best, other", [(False, "low", "high"), (True, "high", "low")])
def test_the_best_model_is_the_lowest_mean_or_the_highest_as_the_metric_reads(higher, best, other):
    # far apart: 'high' beats 'low' only when higher is better; the means, not single seeds, rank them
    table = _table({"high": (0.90, 0.92), "low": (0.10, 0.12)})
    note = seed_noise(table, ("MASE",), higher_is_better=higher)
    assert note.startswith(f"{best} (") and f"{other} (" not in note
    assert "every other model's difference from it is over two standard errors" in note


def test_within_seed_noise_is_at_most_two_standard_errors_of_the_difference():
    """The best: 1 every seed (std 0). A rival with seeds x-d, x+d has std d*sqrt(2), standard error
    sqrt(std**2 / 2) = d: it is within noise when |x - 1| <= 2d."""
    d = 0.5
    near = seed_noise(_table({"best": (1.0, 1.0), "rival": (1.0 + 1.9 * d - d, 1.0 + 1.9 * d + d)}), ("MASE",))
    far = seed_noise(_table({"best": (1.0, 1.0), "rival": (1.0 + 2.1 * d - d, 1.0 + 2.1 * d + d)}), ("MASE",))
    assert "within seed noise of it" in near and "rival (" in near
    assert "rival (" not in far and "over two standard errors" in far
    # the rival's spread counts as much as the best's, each over its own number of seeds
    swapped = seed_noise(_table({"best": (1.0 - d, 1.0 + d), "rival": (1.0 + 1.9 * d, 1.0 + 1.9 * d)}), ("MASE",))
    assert "within seed noise of it" in swapped and "rival (" in swapped
    apart = seed_noise(_table({"best": (1.0 - d, 1.0 + d), "rival": (1.0 + 2.5 * d, 1.0 + 2.5 * d)}), ("MASE",))
    assert "rival (" not in apart
    three = seed_noise(_table({"best": (1.0, 1.0, 1.0), "rival": (1.9, 2.1, 2.6)}), ("MASE",))
    # rival: mean 2.2, std sqrt(0.13) ~ 0.3606, standard error over 3 seeds 0.2082: 2 se 0.416 < 1.2
    assert "rival (" not in three


def test_a_one_seed_model_is_named_as_having_no_spread_whichever_is_best():
    note = seed_noise(_table({"a": (0.5, 0.6), "b": (0.9,)}), ("MASE",))
    assert note.startswith("a has the best MASE, but a model trained with one seed has no spread")


def test_the_one_seed_note_ends_its_sentence_before_the_better_baseline():
    """'... pass --seeds 3 or more The baseline ets (0.557) is better ...' ran the two sentences together."""
    note = seed_noise(_table({"a": (0.5,), "b": (0.9,)}, refs={"ets": {"MASE": 0.1}}), ("MASE",))
    assert note.endswith("pass --seeds 3 or more. The baseline ets (0.1) is better than every model trained.")


@pytest.mark.parametrize("higher, refs, named", [
    (False, {"naive": 0.2, "ets": 0.9}, ["naive (0.2)"]),           # lower than the best mean 0.35
    (True, {"naive": 0.2, "ets": 0.9}, ["ets (0.9)"]),              # higher than the best mean 0.55
    (False, {"naive": 0.35}, []),                                  # equal to the best: not better
    (False, {"naive": math.nan}, []),                              # no number: not better
    (False, {"naive": 0.1, "ets": 0.2}, ["naive (0.1)", "ets (0.2)"]),
])
def test_only_baselines_better_than_the_best_model_are_named(higher, refs, named):
    table = _table({"a": (0.3, 0.4), "b": (0.5, 0.6)}, refs={k: {"MASE": v} for k, v in refs.items()},
                   failed={"tcn": "diverged"})
    note = seed_noise(table, ("MASE",), higher_is_better=higher)
    tail = note.split("The baseline")[1] if "The baseline" in note else ""
    assert [n for n in ("naive", "ets", "tcn") if n in tail] == [n.split(" ")[0] for n in named]
    for n in named:
        assert n in tail
    if len(named) > 1:
        assert tail.startswith("s ") and "are better than every model trained." in tail
    elif named:
        assert tail.endswith("is better than every model trained.")


def test_the_headline_is_the_first_metric_a_model_has_a_number_for():
    trials = [_trial(m, s, {"MASE": math.nan, "MAE": v}) for m, vs in {"a": (3.0, 3.1), "b": (1.0, 1.1)}.items()
              for s, v in enumerate(vs)]
    note = seed_noise(summarise(trials, ("MASE", "MAE")), ("MASE", "MAE"))
    assert note.startswith("b (1.05 ± 0.0707) has the best MAE")
    assert seed_noise(_table({"a": (math.nan, math.nan), "b": (math.nan, math.nan)}), ("MASE",)) is None


def test_the_markdown_table_shows_spreads_and_the_measured_columns_of_each_trained_row():
    trials = [_trial("gru", s, {"MAE": v}, params=1234, train_s=t, epochs=e, wps=w, b1=1.25, b256=20.0, mem=2.5)
              for s, v, t, e, w in ((1, 1.0, 10.0, 3, 1000.0), (2, 3.0, 20.0, 4, 3000.0))]
    md = to_markdown(summarise(trials, ("MAE",), {"naive": {"MAE": 2.5}}, {"tcn": "diverged"}), ("MAE",))
    head, rule, gru, tcn, naive = md.splitlines()
    assert tcn == "| tcn | — | failed: diverged | — | — | — | — | — | — |"        # as many cells as the header
    assert head == ("| model | params | MAE | epochs | train s | windows/s | latency b1 ms | latency b256 ms "
                    "| act. mem MB |")
    assert rule == "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    assert gru == "| gru | 1,234 | 2 ± 1.41 | 3.5 | 15.0 ± 7.1 | 2,000 | 1.25 | 20.0 | 2.50 |"
    assert naive == "| naive | — | 2.5 | — | — | — | — | — | — |"


@pytest.mark.parametrize("value, shown", [(999.0, "999"), (999.4, "999"), (999.7, "1,000"), (-999.7, "-1,000"),
                                          (1000.0, "1,000"), (1500.0, "1,500"),
                                          (-2500.0, "-2,500"), (999_999_999.0, "999,999,999"), (1e9, "1e+09"),
                                          (0.000123, "0.000123"), (None, "nan"), (math.nan, "nan")])
def test_numbers_read_plainly_between_a_thousand_and_a_billion(value, shown):
    assert _fmt(value) == shown


def test_a_trial_fails_only_when_every_test_metric_is_not_finite():
    ok = _trial("a", 0, {"MASE": math.inf, "MAE": 0.5})
    _check_finite(ok, ("MASE", "MAE"))
    _check_finite(_trial("a", 0, {"MAE": 0.5}), ("MASE", "MAE"))        # one it lacks, one finite
    for bad in ({"MASE": math.nan, "MAE": -math.inf}, {}):
        with pytest.raises(LstmkitError, match="every test metric is NaN or infinite"):
            _check_finite(_trial("a", 0, bad), ("MASE", "MAE"))


def test_the_trial_count_is_every_seed_but_a_failed_models_kept_ones(tmp_path):
    plan = {"task": "forecast", "models": ["lstm", "gru", "tcn"], "seeds": 3, "epochs": 1, "seed": 0}
    record = {"trials": [vars(_trial("lstm", 0, {"MASE": 1.0})), vars(_trial("lstm", 1, {"MASE": 1.0})),
                         vars(_trial("gru", 0, {"MASE": 1.0}))],
              "failed": {"gru": "diverged"}}          # gru failed at its second seed: its first is kept
    progress = _Progress(plan, {}, folder=tmp_path, record=record)
    assert progress.total() == 3 + 1 + 3 and progress.resumed == 1
    assert progress.lost().startswith("after 3 of 7 trials; the 3 finished are kept in")
    one = _Progress(plan, {}, folder=tmp_path, record={"trials": record["trials"][:1]})
    assert one.lost().startswith("after 1 of 9 trials; the 1 finished is kept in")
    fresh = _Progress(plan, {}, out=tmp_path)
    assert fresh.resumed == 0 and fresh.lost().startswith("after 0 of 9 trials; the table is written")


def test_a_translation_trial_recorded_as_bleu_and_chrf_resumes_under_metrics_json_names(tmp_path):
    """compare's translate columns are metrics.json's bleu and chrf (they read BLEU and chrF); a comparison
    interrupted before keeps its finished trials' numbers, not a column of NaN."""
    from lstmkit.tasks.translate.bench import TranslateBench
    plan = {"task": "translate", "models": ["lstm", "gru"], "seeds": 1, "epochs": 1, "seed": 0}
    record = {"trials": [vars(_trial("lstm", 0, {"BLEU": 12.5, "chrF": 40.0}))]}
    progress = _Progress(plan, {}, folder=tmp_path, record=record)
    assert TranslateBench.metrics == ("bleu", "chrf")
    row = summarise(progress.trials, TranslateBench.metrics).iloc[0]
    assert (row["bleu_mean"], row["chrf_mean"]) == (12.5, 40.0)


def test_the_last_seed_trained_may_be_the_largest_seed_and_no_more():
    """``seeds`` seeds from ``seed`` train seed .. seed + seeds - 1: that last one must be a seed."""
    from lstmkit.compare import _check_seeds
    from lstmkit.config import MAX_SEED
    _check_seeds(MAX_SEED - 2, 3)                    # trains MAX_SEED - 2, MAX_SEED - 1, MAX_SEED
    _check_seeds(MAX_SEED, 1)
    with pytest.raises(LstmkitError, match=f"trains up to seed {MAX_SEED + 1}, past the largest one"):
        _check_seeds(MAX_SEED - 1, 3)
