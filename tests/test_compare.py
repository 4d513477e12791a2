"""``lstmkit compare`` on a tiny generated series: 2 models, 2 seeds, 2 epochs."""
from __future__ import annotations

import json
import warnings
from functools import partial

import numpy as np
import pandas as pd
import pytest

from lstmkit.cli import main
from lstmkit.compare import TASKS, _fmt, compare, summarise, to_markdown
from lstmkit.train.bench import Trial
from lstmkit.errors import LstmkitError
from one_thread import one_thread  # noqa: F401  (autouse: one torch thread)

# one network per run (ensemble=1): the default 15-seed median made every compare run 15 trainings
TINY = dict(target="y", lookback=8, hidden_size=6, num_layers=1, batch_size=16, ensemble=1)


@pytest.fixture(autouse=True)
def _latency_over_its_least_passes(monkeypatch):
    """Each trial's latency over its 5 timed passes, not 0.2 s of them at batch 1 and 256: these
    tests check that it is measured and reported (tests/train/test_bench.py checks the measure),
    and the passes that fill 0.2 s took about 3 of this file's 24 CPU seconds."""
    import lstmkit.train.bench as bench
    monkeypatch.setattr(bench, "measure_latency_ms", partial(bench.measure_latency_ms, min_seconds=0.0))


@pytest.fixture
def series_csv(tmp_path):
    t = np.arange(160)
    y = np.sin(2 * np.pi * t / 12) + 0.01 * t + 0.05 * np.random.default_rng(0).standard_normal(len(t))
    path = tmp_path / "s.csv"
    pd.DataFrame({"y": y}).to_csv(path, index=False)
    return path


def test_compare_writes_one_row_per_model(series_csv, tmp_path):
    table = compare("forecast", series_csv, models="lstm,tcn", seeds=2, epochs=2, out=tmp_path / "runs",
                    log=None, warmup=False, **TINY)
    trained = table[table["params"].notna()]
    assert trained["model"].tolist() == ["lstm", "tcn"]
    assert (trained["seeds"] == 2).all() and (trained["epochs_mean"] <= 2).all()
    assert (trained["MASE_std"] >= 0).all() and (trained["MASE_mean"] > 0).all()
    for col in ("train_s_mean", "windows_per_s_mean", "latency_b1_ms_mean", "latency_b256_ms_mean", "act_mem_mb_mean"):
        assert (trained[col] > 0).all(), col
    assert {"naive", "ets"} <= set(table["model"])                        # baselines as reference rows
    folder = table.attrs["out"]
    for name in ("compare.csv", "compare.md", "compare.png", "trials.json"):
        assert (folder / name).is_file(), name
    csv = pd.read_csv(folder / "compare.csv")
    assert csv["model"].tolist() == table["model"].tolist()
    assert "| lstm | " in (folder / "compare.md").read_text()


def test_the_settings_name_the_lookback_the_data_chose_and_the_test_points(series_csv, tmp_path):
    """compare.md named neither: a MASE over 2 test points read like one over 2,000, and a lookback chosen
    from the data could not be given again."""
    from lstmkit.tasks.forecast.estimator import Forecaster
    options = {k: v for k, v in TINY.items() if k != "lookback"}
    table = compare("forecast", series_csv, models="lstm", seeds=1, epochs=1, out=tmp_path / "runs",
                    log=None, warmup=False, **options)
    est = Forecaster(**{k: v for k, v in options.items() if k != "target"}, max_epochs=1, progress="off",
                     tensorboard=False).fit(str(series_csv), target="y")
    settings = table.attrs["settings"]
    assert (settings["lookback"], settings["horizon"], settings["test_points"]) == (
        est.config_.lookback, est.config_.horizon, est.metrics_["test_points"])
    assert f"- lookback: {est.config_.lookback}\n" in (table.attrs["out"] / "compare.md").read_text()


def test_compare_reads_a_table_as_forecast_train_does(tmp_path):
    """No --target or --time: a newest-first ``date,sales`` file is compared on its series in time
    order, as ``forecast train`` reads it (compare asked for --target)."""
    t = np.arange(160)
    df = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=160, freq="D").strftime("%Y-%m-%d"),
                       "sales": 10 + np.sin(2 * np.pi * t / 7)})
    df.iloc[::-1].to_csv(tmp_path / "newest_first.csv", index=False)
    df.to_csv(tmp_path / "sorted.csv", index=False)
    tiny = {k: v for k, v in TINY.items() if k != "target"}
    tables = [compare("forecast", tmp_path / f, models="lstm", seeds=1, epochs=1, out=None, log=None, warmup=False,
                      **tiny) for f in ("newest_first.csv", "sorted.csv")]
    assert tables[0]["MAE_mean"].tolist() == tables[1]["MAE_mean"].tolist()      # (MASE: NaN, an exact season)


def test_cli_compares_a_wide_table_and_a_long_one_alike(tmp_path, capsys):
    """``compare --format wide`` (a column per shop) and ``--id`` (the same shops stacked) compare
    on the same panel: the same scores (compare had neither flag, so neither table could be compared)."""
    t = np.arange(120)
    wide = pd.DataFrame({"date": pd.date_range("2021-01-01", periods=120, freq="D").strftime("%Y-%m-%d"),
                         **{f"shop{k}": 10 + k + np.sin(2 * np.pi * t / 7 + k) for k in range(3)}})
    wide.to_csv(tmp_path / "wide.csv", index=False)
    long = wide.melt(id_vars="date", var_name="series", value_name="value")
    long.to_csv(tmp_path / "long.csv", index=False)
    common = ["compare", "--models", "lstm", "--seeds", "1", "--epochs", "1", "--lookback", "8",
              "--hidden-size", "4", "--layers", "1", "--out", str(tmp_path / "runs")]
    main([*common, "--data", str(tmp_path / "wide.csv"), "--format", "wide"])
    main([*common, "--data", str(tmp_path / "long.csv"), "--id", "series"])
    tables = [pd.read_csv(p / "compare.csv") for p in sorted((tmp_path / "runs").iterdir())]
    assert len(tables) == 2 and tables[0]["MAE_mean"].tolist() == tables[1]["MAE_mean"].tolist()
    assert "| lstm |" in capsys.readouterr().out


def test_same_seed_same_result(series_csv):
    a = compare("forecast", series_csv, models=["gru"], seeds=1, epochs=1, out=None, log=None, warmup=False, **TINY)
    b = compare("forecast", series_csv, models=["gru"], seeds=1, epochs=1, out=None, log=None, warmup=False, **TINY)
    assert a["MASE_mean"][0] == b["MASE_mean"][0]                          # same seed, same result


def test_unknown_task_lists_the_available_ones(series_csv):
    with pytest.raises(LstmkitError, match="available: classify, forecast, lm, speech, translate"):
        compare("juggling", series_csv)
    assert "forecast" in TASKS


@pytest.mark.parametrize("models", [[1], None, 7])
def test_models_that_are_not_names_fail_in_one_line(series_csv, models):
    """models=[1] was an AttributeError ('int' object has no attribute 'strip'), None a TypeError."""
    with pytest.raises(LstmkitError, match=r"^`models` must be zoo model names, a list or text with commas, got "
                                           r".* — pass models=\['lstm', 'gru'\] or models='lstm,gru'$"):
        compare("forecast", series_csv, models=models, out=None, log=None, **TINY)


def test_unknown_model_fails_before_training(series_csv):
    with pytest.raises(LstmkitError, match="unknown model: rnn"):
        compare("forecast", series_csv, models="lstm,rnn", out=None, log=None, **TINY)


@pytest.mark.parametrize("seed, seeds, needle", [
    ("7", 1, r"^`seed` must be a whole number from 0 to 4294967295, got '7' — pass seed=42, say$"),
    (-1, 1, r"^`seed` must be a whole number from 0 to 4294967295, got -1"),
    (2**32 - 2, 3, r"^`seed` 4294967294 with 3 seeds trains up to seed 4294967296, past the largest one "
                   r"\(4294967295\) — pass seed=4294967293 or less$"),
])
def test_a_bad_seed_fails_before_any_training(series_csv, monkeypatch, seed, seeds, needle):
    """A text seed was a bare TypeError; a negative one failed every model's trial in turn."""
    import lstmkit.compare as module
    monkeypatch.setattr(module, "TASKS", {"forecast": lambda *a, **k: pytest.fail("the data was read")})
    with pytest.raises(LstmkitError, match=needle):
        compare("forecast", series_csv, models="lstm,gru", seeds=seeds, seed=seed, out=None, log=None, **TINY)


def test_an_out_folder_a_file_blocks_fails_before_training(series_csv, tmp_path, monkeypatch):
    (tmp_path / "taken").write_text("x")
    import lstmkit.compare as module
    monkeypatch.setattr(module, "TASKS", {"forecast": lambda *a, **k: pytest.fail("the data was read")})
    with pytest.raises(LstmkitError, match=r"--out .*taken is a file, not a folder"):
        compare("forecast", series_csv, models="lstm", out=tmp_path / "taken" / "runs", log=None, **TINY)


def test_a_python_call_is_told_its_own_arguments_and_the_command_its_flags(series_csv, capsys):
    """compare(seeds=0) from Python was told to 'pass --seeds 3, say', compare(models='lstm,,gru') to write
    '--models lstm,gru,tcn': flags a Python caller cannot pass. The command keeps its flags."""
    from cli_helpers import run_cli
    for given, hint in (({"seeds": 0}, "pass seeds=3, say"), ({"epochs": 0}, "pass epochs=30, say"),
                        ({"models": "lstm,,gru"}, "write one model between each two commas: models='lstm,gru,tcn'"),
                        ({"models": " "}, "pass models=['lstm', 'gru', ...]")):
        with pytest.raises(LstmkitError) as e:
            compare("forecast", series_csv, out=None, log=None, **{**TINY, **given})
        assert e.value.hint == hint
    code, _, err = run_cli(["compare", "--data", str(series_csv), "--seeds", "0"], capsys)
    assert code == 2 and err.strip().endswith("— pass --seeds 3, say"), err
    code, _, err = run_cli(["compare", "--data", str(series_csv), "--models", "lstm,,gru"], capsys)
    assert code == 2 and err.strip().endswith("— write one model between each two commas: --models lstm,gru,tcn"), err


def test_the_plan_refuses_what_is_no_count_of_seeds_or_epochs_or_no_list_of_names():
    """True is an int to Python but no count of seeds or epochs; a list with one name in it is not names; a
    value too long to show whole is shown by its first 200 characters of the message. 'lstm, gru' is two
    names (spaces stripped), a name given twice is kept once, in the order first given."""
    from lstmkit.compare import _plan_models
    for seeds, epochs, name in ((True, 2, "seeds"), (2, True, "epochs")):
        with pytest.raises(LstmkitError, match=rf"^`{name}` must be a positive integer, got True — "):
            _plan_models("forecast", "lstm", seeds, epochs)
    with pytest.raises(LstmkitError, match=r"must be zoo model names, a list or text with commas, got \['lstm', 1\]"):
        _plan_models("forecast", ["lstm", 1], 1, 1)
    with pytest.raises(LstmkitError) as e:
        _plan_models("forecast", [0] * 200, 1, 1)
    said = "`models` must be zoo model names, a list or text with commas, got " + repr([0] * 200)
    assert e.value.message == said[:200]
    with pytest.warns(UserWarning, match="gru named more than once"):
        assert _plan_models("forecast", " gru, lstm ,gru", 1, 1) == ["gru", "lstm"]


def test_a_model_named_twice_is_trained_once(series_csv):
    with pytest.warns(UserWarning, match="lstm named more than once in `models`: each model is trained once"):
        table = compare("forecast", series_csv, models="lstm,gru,lstm", seeds=1, epochs=1, out=None, log=None,
                        warmup=False, **TINY)
    trained = table[table["params"].notna()]
    assert trained["model"].tolist() == ["lstm", "gru"] and (trained["seeds"] == 1).all()


def test_cli_one_line_error_for_unknown_task(series_csv, capsys):
    with pytest.raises(SystemExit) as e:
        main(["compare", "--task", "juggling", "--data", str(series_csv)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "available: classify, forecast, lm, speech, translate" in err


def test_cli_runs(series_csv, tmp_path, capsys):
    """The table and where it went on standard output (`> table.md`); each trial's line on standard error."""
    main(["compare", "--data", str(series_csv), "--target", "y", "--models", "gru", "--seeds", "1",
          "--epochs", "1", "--lookback", "8", "--hidden-size", "4", "--layers", "1", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert "| gru |" in out and "compare-forecast-" in out
    assert "[1/1]" in err and "[1/1]" not in out and "| gru |" not in err


def test_a_trials_warning_is_one_line_as_every_commands(tmp_path, capsys):
    """A warning of a trial's training (MAPE leaving out the zeros of a demand series) was printed as Python
    prints another package's, under typer's file and line: compare's command is not in a cli.py."""
    t = np.arange(160)
    pd.DataFrame({"y": np.maximum(0.0, np.sin(t / 3.0) * 5).round(2)}).to_csv(tmp_path / "z.csv", index=False)
    main(["compare", "--data", str(tmp_path / "z.csv"), "--models", "lstm", "--seeds", "1", "--epochs", "1",
          "--lookback", "8", "--hidden-size", "4", "--layers", "1", "--ensemble", "1", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert "warning: MAPE leaves out the " in err and "UserWarning" not in err and "typer" not in err, err


def test_summarise_and_markdown():
    trials = [Trial("m", s, 10, {"MAE": v}, 1.0, 2, 100.0, 0.1, 1.0, 0.5) for s, v in ((1, 1.0), (2, 3.0))]
    table = summarise(trials, ("MAE",), {"naive": {"MAE": 2.5}})
    assert table.loc[0, "MAE_mean"] == 2.0 and table.loc[0, "MAE_std"] == pytest.approx(np.sqrt(2))
    md = to_markdown(table, ("MAE",))
    assert "| m | 10 | 2 ± 1.41 |" in md and "| naive | — | 2.5 |" in md
    one = to_markdown(summarise(trials[:1], ("MAE",)), ("MAE",))      # one seed: no '± 0'
    assert "| m | 10 | 1 | 2.0 | 1.0 |" in one and "±" not in one


# ------------------------------------------------------------------- classify and translate
TINY_CLS = dict(hidden_size=8, embed_dim=8, batch_size=16, min_freq=1, patience=5)


@pytest.fixture
def texts_csv(tmp_path):
    rng = np.random.default_rng(0)
    words = "the a film plot actor scene music long short story".split()
    rows = []
    for k in range(60):
        label = "pos" if k % 2 else "neg"
        body = list(rng.choice(words, 5))
        body.insert(int(rng.integers(0, 5)), "great" if label == "pos" else "awful")
        rows.append({"text": " ".join(body), "label": label})
    path = tmp_path / "texts.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_compare_classify_text(texts_csv, tmp_path):
    table = compare("classify", texts_csv, models=["lstm", "gru"], seeds=1, epochs=2, out=tmp_path / "runs",
                    log=None, warmup=False, **TINY_CLS)
    csv = pd.read_csv(table.attrs["out"] / "compare.csv")
    assert csv["model"].tolist() == ["lstm", "gru", "majority"]
    assert "accuracy_mean" in csv and "macro_f1_mean" in csv
    trained = csv[csv["params"].notna()]
    assert trained["accuracy_mean"].between(0, 1).all()
    for col in ("train_s_mean", "windows_per_s_mean", "latency_b1_ms_mean", "act_mem_mb_mean"):
        assert (trained[col] > 0).all(), col
    assert csv.loc[2, "accuracy_mean"] == pytest.approx(0.5)               # 6 vs 6 in the test part
    assert table.attrs["settings"]["test_rows"] == 12


def test_compare_classify_series(tmp_path):
    rng = np.random.default_rng(1)
    y = np.array(["up", "down"] * 20)
    x = rng.standard_normal((40, 12)) * 0.1 + np.where(y == "up", 1.0, -1.0)[:, None] * np.linspace(0, 1, 12)
    path = tmp_path / "s_TRAIN.tsv"
    path.write_text("\n".join("\t".join([lab, *map(str, row)]) for lab, row in zip(y, x)) + "\n")
    table = compare("classify", path, models=["gru"], seeds=1, epochs=1, out=None, log=None, warmup=False,
                    series=True, **{k: v for k, v in TINY_CLS.items() if k != "min_freq"})   # a text setting
    assert table["model"].tolist() == ["gru", "majority"] and 0 <= table.loc[0, "accuracy_mean"] <= 1


def test_cli_classify_series_of_different_lengths(tmp_path, capsys):
    """UCR's unequal-length files: the error asked for --unequal-length, a flag compare did not have
    ('no such option'), so ragged series could not be compared at all."""
    rng = np.random.default_rng(1)
    lines = [f"{lab}\t" + "\t".join(str(v) for v in rng.standard_normal(10 + k % 4) + (lab == "up"))
             for k, lab in enumerate(["up", "down"] * 15)]
    (tmp_path / "r_TRAIN.tsv").write_text("\n".join(lines) + "\n")
    argv = ["compare", "--task", "classify", "--series", "--data", str(tmp_path / "r_TRAIN.tsv"), "--models", "gru",
            "--seeds", "1", "--epochs", "1", "--hidden-size", "4", "--out", str(tmp_path / "runs")]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and "pass --unequal-length" in capsys.readouterr().err
    main([*argv, "--unequal-length"])
    assert "| gru |" in capsys.readouterr().out


def test_compare_translate_copy_task(tmp_path):
    rng = np.random.default_rng(2)
    vocab = "a b c d e f g h".split()
    pairs = [" ".join(rng.choice(vocab, int(rng.integers(2, 5)))) for _ in range(40)]
    path = tmp_path / "pairs.csv"
    pd.DataFrame({"src": pairs, "tgt": pairs}).to_csv(path, index=False)
    table = compare("translate", path, models=["lstm"], seeds=1, epochs=1, out=tmp_path / "runs", log=None,
                    warmup=False, embed_dim=8, hidden_size=8, num_layers=1, min_freq=1, batch_size=8,
                    val_frac=0.2)
    csv = pd.read_csv(table.attrs["out"] / "compare.csv")
    # the names metrics.json and evaluate --json give them (it read BLEU_mean, chrF_mean)
    assert csv["model"].tolist() == ["lstm"] and "bleu_mean" in csv and "chrf_mean" in csv
    assert csv.loc[0, "bleu_mean"] >= 0 and csv.loc[0, "latency_b256_ms_mean"] > 0


def test_cli_classify(texts_csv, tmp_path, capsys):
    main(["compare", "--task", "classify", "--data", str(texts_csv), "--text", "text", "--label", "label",
          "--models", "gru", "--seeds", "1", "--epochs", "1", "--hidden-size", "4", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "| gru |" in out and "| majority |" in out and "compare-classify-" in out


def test_cli_ensemble_sets_the_seeds_each_forecaster_trains(series_csv, tmp_path):
    """``forecast train --ensemble`` had no ``compare`` twin: on a small series every compared run
    trained the chosen 15-seed median, and the CLI could not make it one network."""
    import json
    common = ["compare", "--data", str(series_csv), "--target", "y", "--models", "lstm", "--seeds", "1",
              "--epochs", "1", "--lookback", "8", "--hidden-size", "4", "--layers", "1"]
    for k in (1, 2):
        main([*common, "--ensemble", str(k), "--out", str(tmp_path / f"e{k}")])
    trials = [json.loads(next((tmp_path / f"e{k}").iterdir()).joinpath("trials.json").read_text()) for k in (1, 2)]
    assert [t["settings"]["ensemble"] for t in trials] == [1, 2]
    assert trials[1]["trials"][0]["params"] == 2 * trials[0]["trials"][0]["params"]      # two members, one graph


def test_each_trial_line_counts_the_trials_and_says_what_is_left(series_csv):
    lines = []
    compare("forecast", series_csv, models="lstm,gru", seeds=2, epochs=1, out=None, log=lines.append, warmup=False,
            **TINY)
    trial_lines = [line for line in lines if line.startswith("[")]
    assert [line.split("]")[0] + "]" for line in trial_lines] == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]
    assert all("; ETA " in line for line in trial_lines[:3]) and "ETA" not in trial_lines[3]


def test_a_one_seed_trial_line_shows_its_metric_as_the_table_does(series_csv, tmp_path):
    """One seed: the row's mean is the trial's number, and both read alike (the line said MASE 0.9204 where
    the table said 0.92); both are the number trials.json holds."""
    lines = []
    table = compare("forecast", series_csv, models="lstm,gru", seeds=1, epochs=1, out=tmp_path, log=lines.append,
                    warmup=False, **TINY)
    md = (table.attrs["out"] / "compare.md").read_text()
    trials = json.loads((table.attrs["out"] / "trials.json").read_text())["trials"]
    for t in trials:
        shown = next(line for line in lines if f"{t['model']} seed {t['seed']}: MASE " in line)
        number = shown.split(": MASE ")[1].split(",")[0]
        assert number == _fmt(t["metrics"]["MASE"])
        assert f"| {t['model']} | {t['params']:,} | {number} |" in md


def test_a_model_that_fails_is_a_row_saying_why_and_the_others_are_compared(series_csv, tmp_path, monkeypatch):
    """A model whose training failed (here: a diverged loss) ended the whole comparison, with
    nothing written for the models before it."""
    bench = TASKS["forecast"]
    real_run = bench.run

    def run(self, model, seed, epochs):
        if model == "gru":
            raise LstmkitError("training stopped: the loss became non-finite", "lower the learning rate (--lr)")
        return real_run(self, model, seed, epochs)

    monkeypatch.setattr(bench, "run", run)
    lines = []
    table = compare("forecast", series_csv, models="gru,lstm", seeds=2, epochs=1, out=tmp_path / "runs",
                    log=lines.append, **TINY)
    assert table[table["params"].notna()]["model"].tolist() == ["lstm"]
    row = table.set_index("model").loc["gru"]
    assert row["failed"] == "training stopped: the loss became non-finite — lower the learning rate (--lr)"
    assert sum("gru seed 42: failed, so its other seeds are skipped" in line for line in lines) == 1
    assert not any("gru seed 43" in line for line in lines)
    md = (table.attrs["out"] / "compare.md").read_text()
    assert "| gru | — | failed: training stopped: the loss became non-finite" in md and "| lstm | " in md
    assert (table.attrs["out"] / "compare.png").is_file()


def test_when_every_model_fails_the_first_error_is_the_answer(series_csv, tmp_path, capsys):
    """Each trial's line (progress, on standard error), then the first model's error as the one error line."""
    from cli_helpers import assert_user_error, run_cli
    code, out, err = run_cli(["compare", "--data", series_csv, "--target", "y", "--models", "gru,lstm", "--seeds",
                              "1", "--epochs", "2", "--lookback", "8", "--hidden-size", "4", "--ensemble", "1",
                              "--lr", "1e30", "--device", "cpu", "--out", tmp_path / "out"], capsys)
    lines = err.strip().splitlines()
    assert [line.split(":")[0].strip() for line in lines[:-1]] == ["gru seed 42", "lstm seed 42"], err
    assert_user_error(code, lines[-1], "non-finite")
    assert out == "" and not (tmp_path / "out").exists()


def test_classify_bench_warns_when_the_test_texts_are_training_texts(texts_csv):
    from lstmkit.tasks.classify.bench import ClassifyBench
    with pytest.warns(UserWarning, match="60 of the 60 texts of the test data occur in the training data too"):
        bench = ClassifyBench(texts_csv, test=texts_csv, **TINY_CLS)
    assert len(bench.test.texts) == 60


def test_classify_bench_warns_when_its_held_out_texts_are_training_texts(texts_csv, tmp_path):
    """Duplicate rows split apart by the bench's own held-out part scored the models on texts they trained
    on without a word (the fit says it of its validation part, translate's bench of its test part)."""
    from lstmkit.tasks.classify.bench import ClassifyBench
    doubled = tmp_path / "doubled.csv"
    pd.concat([pd.read_csv(texts_csv)] * 2).to_csv(doubled, index=False)
    with pytest.warns(UserWarning, match=r"of the 24 texts of the held-out test part \(0.2 of --data\) occur in "
                                         r"the training data too"):
        ClassifyBench(doubled, **TINY_CLS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ClassifyBench(texts_csv, **TINY_CLS)                   # no duplicates: nothing said


def test_ctrl_c_before_a_trial_ends_says_what_is_lost(series_csv, tmp_path, capsys, monkeypatch):
    """Ctrl-C in the first trial: nothing to keep, nothing written. (It said "no checkpoint yet (resuming
    starts from the beginning). Continue with: lstmkit <task> train": a comparison is no run.)"""
    from cli_helpers import run_cli
    from lstmkit.errors import TrainingInterrupted
    monkeypatch.setattr(TASKS["forecast"], "run", lambda self, model, seed, epochs: (_ for _ in ()).throw(
        TrainingInterrupted(None, 1)))
    code, _, err = run_cli(["compare", "--data", series_csv, "--target", "y", "--models", "lstm,gru", "--seeds", "1",
                            "--epochs", "1", "--lookback", "8", "--hidden-size", "4", "--ensemble", "1", "--device",
                            "cpu", "--out", tmp_path / "runs"], capsys)
    assert code == 130 and err.strip() == ("interrupted after 0 of 2 trials; the table is written when every trial "
                                           "has run — run the command again (fewer --models or --seeds take less time)")
    assert not (tmp_path / "runs").exists()


RESUMABLE = ["--target", "y", "--models", "lstm,gru", "--seeds", "2", "--epochs", "2", "--lookback", "8",
             "--hidden-size", "4", "--layers", "1", "--batch-size", "16", "--ensemble", "1", "--device", "cpu"]


def test_an_interrupted_comparison_resumes_where_it_stopped(series_csv, tmp_path, capsys, monkeypatch):
    """Ctrl-C in the third of four trials lost the two finished ones ("run the command again"): a comparison
    is a long job. Its finished trials are kept in its folder as each ends; `compare --resume FOLDER` runs
    the other two with the settings it began with, and the table equals an uninterrupted comparison's."""
    from cli_helpers import run_cli
    from lstmkit.errors import TrainingInterrupted
    bench = TASKS["forecast"]
    real_run = bench.run
    ran = []

    def run(self, model, seed, epochs):
        if (model, seed) == ("gru", 42) and not any(r[0] == "gru" for r in ran) and interrupt:
            raise TrainingInterrupted(None, 1)
        ran.append((model, seed, epochs))
        return real_run(self, model, seed, epochs)

    monkeypatch.setattr(bench, "run", run)
    interrupt = True
    code, _, err = run_cli(["compare", "--data", series_csv, *RESUMABLE, "--out", tmp_path / "runs"], capsys)
    (folder,) = (tmp_path / "runs").iterdir()
    assert code == 130, err
    assert err.strip().splitlines()[-1] == (f"interrupted after 2 of 4 trials; the 2 finished are kept in {folder} — "
                                            f"continue with: lstmkit compare --resume {folder}")
    assert [p.name for p in folder.iterdir()] == ["trials.json"]
    interrupt, ran[:] = False, []
    code, out, err = run_cli(["compare", "--resume", folder], capsys)
    assert code == 0, err
    assert ran == [("gru", 42, 1), ("gru", 42, 2), ("gru", 43, 2)]       # the warm-up, then only what was left
    lines = err.strip().splitlines()
    assert lines[0].startswith("[3/4]             gru seed 42") and lines[1].startswith("[4/4]             gru seed 43")
    assert f"written to {folder}" in out
    resumed = pd.read_csv(folder / "compare.csv")
    code, _, _ = run_cli(["compare", "--data", series_csv, *RESUMABLE, "--out", tmp_path / "whole"], capsys)
    whole = pd.read_csv(next((tmp_path / "whole").iterdir()) / "compare.csv")
    cols = ["model", "seeds", "params", "MASE_mean", "MASE_std", "MAE_mean", "epochs_mean"]
    pd.testing.assert_frame_equal(resumed[cols], whole[cols])
    record = json.loads((folder / "trials.json").read_text())
    assert record["state"] == "complete" and record["settings"]["resumed"] == 1
    code, _, err = run_cli(["compare", "--resume", folder], capsys)           # finished: nothing to resume
    assert code == 2 and "has finished: its table is" in err


def test_ctrl_c_outside_training_keeps_the_finished_trials_too(series_csv, tmp_path, monkeypatch):
    """Ctrl-C while a trial is timed or its trials.json written is a bare KeyboardInterrupt, not the
    trainer's: the command said `interrupted` alone, not what was kept."""
    bench = TASKS["forecast"]
    real_run = bench.run

    def run(self, model, seed, epochs):
        if model == "gru":
            raise KeyboardInterrupt
        return real_run(self, model, seed, epochs)

    monkeypatch.setattr(bench, "run", run)
    with pytest.raises(KeyboardInterrupt) as e:
        compare("forecast", series_csv, models="lstm,gru", seeds=1, epochs=1, out=tmp_path / "runs", log=None,
                warmup=False, **TINY)
    (folder,) = (tmp_path / "runs").iterdir()
    assert str(e.value) == (f"after 1 of 2 trials; the 1 finished is kept in {folder} — continue with: "
                            f"lstmkit compare --resume {folder}")


def test_a_resumed_comparison_refuses_a_data_file_that_changed(series_csv, tmp_path, monkeypatch):
    """The finished trials were measured on the file as it was: a month appended would mix two tables in one."""
    bench = TASKS["forecast"]
    real_run = bench.run

    def run(self, model, seed, epochs):
        if model == "gru":
            raise TrainingInterrupted(None, 1)
        return real_run(self, model, seed, epochs)

    from lstmkit.compare import resume_compare
    from lstmkit.errors import TrainingInterrupted
    monkeypatch.setattr(bench, "run", run)
    with pytest.raises(KeyboardInterrupt, match="the 1 finished is kept in"):
        compare("forecast", series_csv, models="lstm,gru", seeds=1, epochs=1, out=tmp_path / "runs", log=None,
                warmup=False, **TINY)
    (folder,) = (tmp_path / "runs").iterdir()
    with open(series_csv, "a") as f:
        f.write("0.5\n")
    with pytest.raises(LstmkitError, match="holds other contents than when the comparison in"):
        resume_compare(folder, log=None)


def _cut_after_its_first_model(series_csv, tmp_path, monkeypatch, restore: bool = True):
    """The folder of a forecast comparison of lstm and gru interrupted (Ctrl-C) as its gru trial began; its
    trials run as before again where ``restore``."""
    from lstmkit.errors import TrainingInterrupted
    bench = TASKS["forecast"]
    real_run = bench.run
    monkeypatch.setattr(bench, "run", lambda self, model, seed, epochs: real_run(self, model, seed, epochs)
                        if model == "lstm" else (_ for _ in ()).throw(TrainingInterrupted(None, 1)))
    with pytest.raises(KeyboardInterrupt):
        compare("forecast", series_csv, models="lstm,gru", seeds=1, epochs=1, out=tmp_path / "runs", log=None,
                warmup=False, **TINY)
    if restore:
        monkeypatch.setattr(bench, "run", real_run)
    (folder,) = (tmp_path / "runs").iterdir()
    return folder


def test_a_resumed_comparison_removes_the_temporary_files_a_kill_9_left(series_csv, tmp_path, monkeypatch):
    """A comparison killed at once (kill -9, the OOM killer) while it wrote compare.png left its atomic write's
    temporary file, and `compare --resume` finished beside it: a stray `.compare.png.*.tmp` in the finished
    folder (a kill driver found it). The resume removes such files, not another file that ends in .tmp."""
    from lstmkit.compare import resume_compare
    folder = _cut_after_its_first_model(series_csv, tmp_path, monkeypatch)
    left = folder / ".compare.png.k2x9_abq.tmp"           # atomic_write's name: ".NAME." + 8 characters + ".tmp"
    left.write_bytes(b"\x89PNG half")
    (folder / "notes.tmp").write_text("mine\n")
    resume_compare(folder, log=None)
    assert (folder / "compare.csv").is_file() and not left.exists() and (folder / "notes.tmp").is_file()


def test_a_comparison_running_in_another_process_is_not_resumed_beside_it(series_csv, tmp_path, monkeypatch):
    """`compare --resume` in a second terminal while the first still ran: both wrote its trials.json in turn."""
    import fcntl
    import os

    from lstmkit.compare import resume_compare
    from lstmkit.errors import EnvironmentProblem
    folder = _cut_after_its_first_model(series_csv, tmp_path, monkeypatch, restore=False)
    fd = os.open(folder, os.O_RDONLY)          # the other process's hold (a lock of another open file)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(EnvironmentProblem, match="is running in another process right now"):
            resume_compare(folder, log=None)
    finally:
        os.close(fd)
    with pytest.raises(KeyboardInterrupt):     # free again: it resumes (and gru is cut again)
        resume_compare(folder, log=None)


def test_a_comparison_given_a_frame_resumes_with_the_same_frame_given_again(series_csv, tmp_path, monkeypatch):
    """A DataFrame is not saved with the trials: resume_compare asks for it again and checks it is the same."""
    from lstmkit.compare import resume_compare
    from lstmkit.errors import TrainingInterrupted
    bench = TASKS["forecast"]
    real_run = bench.run
    interrupt = [True]

    def run(self, model, seed, epochs):
        if model == "gru" and interrupt[0]:
            raise TrainingInterrupted(None, 1)
        return real_run(self, model, seed, epochs)

    monkeypatch.setattr(bench, "run", run)
    frame = pd.read_csv(series_csv)
    with pytest.raises(KeyboardInterrupt):
        compare("forecast", frame, models="lstm,gru", seeds=1, epochs=1, out=tmp_path / "runs", log=None,
                warmup=False, **TINY)
    (folder,) = (tmp_path / "runs").iterdir()
    interrupt[0] = False
    with pytest.raises(LstmkitError, match=r"was given data in memory \(a DataFrame\), which is not saved"):
        resume_compare(folder, log=None)
    with pytest.raises(LstmkitError, match="is not the DataFrame the comparison"):
        resume_compare(folder, data=frame.iloc[:-1], log=None)
    with pytest.raises(LstmkitError, match="lookback: a resumed comparison keeps what it began with"):
        resume_compare(folder, data=frame, lookback=4, log=None)
    table = resume_compare(folder, data=frame, log=None)
    assert table[table["params"].notna()]["model"].tolist() == ["lstm", "gru"]


def test_a_headline_metric_no_model_has_plots_the_next_one(tmp_path, monkeypatch):
    """A series that never changes has no MASE (its scale, the naive error, is 0): the headline panel was empty."""
    import lstmkit.inspect.plots as plots
    path = tmp_path / "flat.csv"
    pd.DataFrame({"y": [5.0] * 100}).to_csv(path, index=False)
    titles = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, p, **_: titles.append(fig.axes[0].get_title()))
    table = compare("forecast", path, models="lstm", seeds=1, epochs=1, out=tmp_path / "runs", log=None,
                    warmup=False, **TINY)
    assert table["MASE_mean"].isna().all() and table["MAE_mean"].notna().all()
    assert titles == ["test MAE (mean ± std over seeds, lower is better; MASE is undefined here (NaN for every model))"]


def test_a_seed_whose_test_outputs_are_not_finite_fails_its_model_row(series_csv, tmp_path, monkeypatch):
    """A transformer at --lr 50 trained to a finite loss, then forecast inf (its log target overflowed):
    its MASE was NaN, its row `nan ± nan` beside the other models, not marked failed, and its other
    seed's score lost in the mean."""
    bench = TASKS["forecast"]
    real_run = bench.run

    def run(self, model, seed, epochs):
        trial = real_run(self, model, seed, epochs)
        if model == "gru":
            trial.metrics = {k: float("nan") for k in trial.metrics}
        return trial

    monkeypatch.setattr(bench, "run", run)
    lines = []
    table = compare("forecast", series_csv, models="gru,lstm", seeds=2, epochs=1, out=tmp_path / "runs",
                    log=lines.append, warmup=False, **TINY)
    assert table[table["params"].notna()]["model"].tolist() == ["lstm"]
    why = table.set_index("model").loc["gru", "failed"]
    assert why.startswith("seed 42: every test metric is NaN or infinite (MASE nan, MAE nan, RMSE nan, sMAPE nan)")
    assert why.endswith("the training diverged) — lower the learning rate from 0.001 to 0.0001 (--lr 0.0001)")
    assert sum("gru seed 42: failed, so its other seeds are skipped" in line for line in lines) == 1
    md = (table.attrs["out"] / "compare.md").read_text()
    assert "| gru | — | failed: seed 42: every test metric is NaN" in md and "nan ± nan" not in md
    csv = pd.read_csv(table.attrs["out"] / "compare.csv")
    assert csv.set_index("model").loc["gru", "failed"] == why


def test_a_seed_not_finite_is_told_to_lower_its_own_learning_rate():
    """'lower the learning rate, e.g. --lr 1e-4' read no rate: a trial at 1e-5 was told to raise it. The fix names
    the trial's rate (its bench records it) and a tenth of it; a trial recorded before, the option alone."""
    from lstmkit.compare import _check_finite
    nan = {"MASE": float("nan"), "MAE": float("nan")}
    for lr, said in ((0.003, "lower the learning rate from 0.003 to 0.0003 (--lr 0.0003)"),
                     (1e-5, "lower the learning rate from 1e-05 to 1e-06 (--lr 1e-06)"),
                     (None, "lower the learning rate (--lr)")):
        trial = Trial("lstm", 0, 10, dict(nan), 1.0, 1, 1.0, 1.0, 1.0, 1.0, extra={"lr": lr} if lr else {})
        with pytest.raises(LstmkitError) as e:
            _check_finite(trial, ("MASE", "MAE"))
        assert e.value.hint == said


def test_a_metric_undefined_for_the_data_alone_is_no_failure():
    """A series that never changes has no MASE (NaN for every model) but a finite MAE: a result."""
    from lstmkit.compare import _check_finite
    trial = Trial("lstm", 0, 10, {"MASE": float("nan"), "MAE": 0.5}, 1.0, 1, 1.0, 1.0, 1.0, 1.0)
    _check_finite(trial, ("MASE", "MAE"))
    trial.metrics["MAE"] = float("inf")
    with pytest.raises(LstmkitError, match="every test metric is NaN or infinite"):
        _check_finite(trial, ("MASE", "MAE"))


def _noise_table(values: dict[str, tuple[float, ...]], refs=None):
    trials = [Trial(m, s, 10, {"MASE": v, "MAE": 1.0}, 1.0, 2, 100.0, 0.1, 1.0, 0.5)
              for m, vs in values.items() for s, v in enumerate(vs)]
    return summarise(trials, ("MASE", "MAE"), refs)


def test_the_models_seed_noise_cannot_tell_from_the_best_are_named():
    """The table gave means ± std and no word on which differences the seeds can tell apart: lstm
    0.629 ± 0.034 against gru 0.649 ± 0.014 over 2 seeds read as lstm winning."""
    from lstmkit.compare import seed_noise
    table = _noise_table({"lstm": (0.605, 0.653), "gru": (0.639, 0.659), "tcn": (0.90, 0.91)},
                         {"ets": {"MASE": 0.1, "MAE": 0.1}})               # a reference row is no model
    note = seed_noise(table, ("MASE", "MAE"))
    assert note.startswith("lstm (0.629 ± 0.0339) has the best MASE; within seed noise of it")
    assert "gru (0.649 ± 0.0141)" in note and "tcn" not in note and "ets" not in note.split("More --seeds")[0]
    assert note.endswith("More --seeds may tell them apart. The baseline ets (0.1) is better than every model trained.")
    clear = seed_noise(_noise_table({"lstm": (0.60, 0.61), "tcn": (0.90, 0.91)}, {"naive": {"MASE": 1.0, "MAE": 1.0}}),
                       ("MASE", "MAE"))
    assert clear.endswith("every other model's difference from it is over two standard errors of the seeds.")
    higher = seed_noise(_noise_table({"a": (0.80, 0.81), "b": (0.60, 0.61)}), ("MASE",), higher_is_better=True)
    assert higher.startswith("a (0.805")
    one = seed_noise(_noise_table({"a": (0.80,), "b": (0.60,)}), ("MASE",))
    assert one.startswith("b has the best MASE, but a model trained with one seed has no spread")
    assert seed_noise(_noise_table({"a": (0.80, 0.81)}), ("MASE",)) is None      # one model: nothing to tell
    tie = seed_noise(_noise_table({"a": (1.0, 1.0), "b": (1.0, 1.0), "c": (0.9, 0.9)}), ("MASE",), True)
    assert tie.startswith("a (1 ± 0) has the best MASE; within seed noise of it") and "b (1 ± 0)" in tie
    assert "c (" not in tie                        # 0.9 every seed: told apart from 1.0 every seed


def test_compare_md_and_the_shown_table_say_what_seed_noise_cannot_tell(series_csv, tmp_path):
    shown = []
    table = compare("forecast", series_csv, models="lstm,gru", seeds=2, epochs=1, out=tmp_path / "runs",
                    log=None, show=shown.append, warmup=False, **TINY)
    from lstmkit.compare import seed_noise
    note = seed_noise(table, TASKS["forecast"].metrics)
    assert note and note.split(" (")[0] in ("lstm", "gru")
    assert any(note in line for line in shown)
    assert note in (table.attrs["out"] / "compare.md").read_text()


def test_trials_json_names_each_forecast_trials_blend(series_csv, tmp_path):
    """`combine` is chosen per fit on validation: one seed's score was the network alone, another's a
    blend with ETS (airline: transformer seed 42 'ets', seed 43 'none'), and trials.json said neither."""
    import json
    table = compare("forecast", series_csv, models="lstm", seeds=1, epochs=1, out=tmp_path / "runs", log=None,
                    warmup=False, **TINY)
    (trial,) = json.loads((table.attrs["out"] / "trials.json").read_text())["trials"]
    assert trial["extra"]["combine"] in ("none", "ets", "seasonal_naive")


def test_counts_stay_whole_numbers_beside_reference_and_failed_rows(tmp_path):
    """params and seeds read 19050.0 and 2.0 in compare.csv: the empty cells of reference rows made
    the columns floats."""
    trials = [Trial("m", s, 19050, {"MAE": 1.0}, 1.0, 2, 100.0, 0.1, 1.0, 0.5) for s in (1, 2)]
    table = summarise(trials, ("MAE",), {"naive": {"MAE": 2.5}}, {"tcn": "diverged"})
    assert str(table["params"].dtype) == "Int64" and str(table["seeds"].dtype) == "Int64"
    path = tmp_path / "compare.csv"
    table.to_csv(path, index=False)
    lines = path.read_text().splitlines()
    assert lines[1].startswith("m,19050,2,") and "19050.0" not in lines[1]
    back = pd.read_csv(path, dtype_backend="numpy_nullable")
    assert back["params"].tolist()[0] == 19050 and str(back["params"].dtype) == "Int64"
    assert to_markdown(table, ("MAE",)).count("| m | 19,050 | 1 ± 0 |") == 1


def test_huge_metrics_read_in_powers_of_ten():
    """An overflowed model's MAE of 1.1e+125 filled its cell with 130 digits and commas."""
    from lstmkit.compare import _fmt
    assert (_fmt(1.1015e125), _fmt(12345.6), _fmt(0.25), _fmt(float("inf"))) == ("1.1e+125", "12,346", "0.25", "inf")


def test_a_model_whose_outputs_overflow_fails_its_row_without_numpy_warnings(tmp_path, monkeypatch):
    """A network at --lr 50 whose log-scale outputs overflowed printed a screen of numpy RuntimeWarnings
    (overflow in exp, in square, invalid value in divide and multiply) before compare's own line."""
    import warnings

    from lstmkit.tasks.forecast.estimator import Forecaster
    t = np.arange(160)
    path = tmp_path / "growing.csv"                       # positive, growing 25-fold: the run models logs
    pd.DataFrame({"y": np.exp(0.02 * t) * (2 + np.sin(2 * np.pi * t / 12))}).to_csv(path, index=False)
    real = Forecaster._engine_run
    monkeypatch.setattr(Forecaster, "_engine_run",
                        lambda self, net: lambda *a: real(self, net)(*a) * 0 + 1e3)    # exp(1e3 x scale): inf
    with warnings.catch_warnings(record=True) as caught, \
            pytest.raises(LstmkitError, match="seed 42: every test metric is NaN or infinite"):
        warnings.simplefilter("always")
        compare("forecast", path, models="lstm", seeds=1, epochs=1, out=None, log=None, warmup=False, **TINY)
    assert [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)] == []


def test_each_trial_shows_its_training_as_progress_asks_and_no_doctor_report(series_csv, tmp_path, capsys):
    """A trial of many minutes showed nothing until its line: `--progress` shows each trial's training (a bar on
    a terminal by default; `log` its epoch lines), and the doctor, whose advice on a trial went nowhere, is off
    (shown, it printed a report after every trial)."""
    from cli_helpers import run_cli
    argv = ["compare", "--data", series_csv, "--target", "y", "--models", "lstm,gru", "--seeds", "1", "--epochs", "2",
            "--lookback", "8", "--hidden-size", "4", "--ensemble", "1", "--device", "cpu"]
    code, _, err = run_cli([*argv, "--progress", "log", "--out", tmp_path / "a"], capsys)
    assert code == 0, err
    assert err.count("epoch 1/2") == 2 and err.count("epoch 2/2") == 2 and "doctor" not in err, err
    code, _, err = run_cli([*argv, "--out", tmp_path / "b"], capsys)          # not a terminal: the trial lines
    assert code == 0 and "epoch 1/2" not in err and len(err.strip().splitlines()) == 2, err
    code, _, err = run_cli([*argv, "--progress", "loud", "--out", tmp_path / "c"], capsys)
    assert code == 2 and "unknown progress display 'loud' — use one of: auto, bar, log, off" in err


def test_compare_classify_majority_row_is_scored_as_the_models_are(tmp_path):
    """The majority row's macro-F1 was 2p / (1 + p) / c over all c classes; the models' is the mean over the
    classes the test part holds or they predict (scikit-learn's): a test file without one class gave 0.25 for 0.375."""
    from sklearn.metrics import accuracy_score, f1_score
    rng = np.random.default_rng(0)
    words = {"pos": "great", "neg": "awful", "mid": "fine"}

    def texts(labels):
        return pd.DataFrame({"text": [f"{words[y]} film {rng.integers(9)}" for y in labels], "label": labels})
    texts(["pos"] * 18 + ["neg"] * 12 + ["mid"] * 10).to_csv(tmp_path / "train.csv", index=False)
    test = texts(["pos"] * 6 + ["neg"] * 4)                                # no 'mid' in the test file
    test.to_csv(tmp_path / "test.csv", index=False)
    table = compare("classify", tmp_path / "train.csv", models=["gru"], seeds=1, epochs=1, out=None, log=None,
                    warmup=False, test=tmp_path / "test.csv", **TINY_CLS)
    majority = table.set_index("model").loc["majority"]
    always = ["pos"] * len(test)
    assert majority["accuracy_mean"] == pytest.approx(accuracy_score(test["label"], always))
    assert majority["macro_f1_mean"] == pytest.approx(f1_score(test["label"], always, average="macro"))   # 0.375


def test_compare_classify_shows_calibration_and_the_majority_row_scores_the_class_shares(tmp_path, capsys):
    """compare.csv and the printed table held accuracy and macro-F1 alone: two models of one accuracy, one sure of
    its misses, read alike. The majority row's probabilities are the training class shares (0.45 / 0.3 / 0.25),
    scored by the same NLL, Brier and ECE as the models (not the one-hot answer, 36 nats a miss)."""
    from sklearn.metrics import brier_score_loss, log_loss
    rng = np.random.default_rng(0)
    words = {"pos": "great", "neg": "awful", "mid": "fine"}

    def texts(labels):
        return pd.DataFrame({"text": [f"{words[y]} film {rng.integers(9)}" for y in labels], "label": labels})
    texts(["pos"] * 18 + ["neg"] * 12 + ["mid"] * 10).to_csv(tmp_path / "train.csv", index=False)
    test = texts(["pos"] * 6 + ["neg"] * 3 + ["mid"] * 1)
    test.to_csv(tmp_path / "test.csv", index=False)
    main(["compare", "--task", "classify", "--data", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv"),
          "--text", "text", "--label", "label", "--models", "gru", "--seeds", "1", "--epochs", "1",
          "--hidden-size", "4", "--out", str(tmp_path / "runs")])
    out = capsys.readouterr().out
    assert "| nll | brier | ece |" in out, out
    folder = next((tmp_path / "runs").glob("compare-classify-*"))
    assert "nll, brier, ece: calibration of the predicted probabilities" in (folder / "compare.md").read_text()
    csv = pd.read_csv(folder / "compare.csv").set_index("model")
    for m in ("nll", "brier", "ece"):
        assert csv.loc["gru", f"{m}_mean"] >= 0, m
    shares = np.tile([10 / 40, 12 / 40, 18 / 40], (len(test), 1))          # mid, neg, pos
    y = test["label"].map({"mid": 0, "neg": 1, "pos": 2})
    majority = csv.loc["majority"]
    assert majority["nll_mean"] == pytest.approx(log_loss(y, shares, labels=[0, 1, 2]))             # 1.06, not 14.4
    assert majority["brier_mean"] == pytest.approx(brier_score_loss(y, shares, labels=[0, 1, 2]))
    assert majority["ece_mean"] == pytest.approx(abs(0.6 - 18 / 40))       # one bin: confidence 0.45, 6 of 10 right
    assert majority["accuracy_mean"] == pytest.approx(0.6)


def test_a_comparison_kept_before_calibration_resumes_with_those_cells_empty():
    """A trials.json written before compare scored a classifier's nll/brier/ece: its trials and its majority
    reference row hold accuracy and macro-F1 alone, and the resumed table raised KeyError: 'nll'."""
    metrics = ("accuracy", "macro_f1", "nll", "brier", "ece")
    old = Trial("gru", 0, 10, {"accuracy": 0.8, "macro_f1": 0.7}, 1.0, 2, 100.0, 0.1, 1.0, 0.5)
    new = Trial("gru", 1, 10, {"accuracy": 0.9, "macro_f1": 0.8, "nll": 0.3, "brier": 0.1, "ece": 0.05},
                1.0, 2, 100.0, 0.1, 1.0, 0.5)
    table = summarise([old, new], metrics, {"majority": {"accuracy": 0.5, "macro_f1": 0.33}})
    assert table.loc[0, "accuracy_mean"] == pytest.approx(0.85) and np.isnan(table.loc[0, "nll_mean"])
    assert table.loc[1, "model"] == "majority" and np.isnan(table.loc[1, "ece_mean"])
    assert "| majority | — | 0.5 | 0.33 | nan | nan | nan |" in to_markdown(table, metrics)


def test_a_resumed_comparison_refuses_a_data_folder_that_changed(tmp_path):
    """A folder of recordings was checked by its path alone: recordings added before the resume would
    have mixed two corpora in one table."""
    from lstmkit.compare import _given, _given_again
    data = tmp_path / "recordings"
    (data / "train").mkdir(parents=True)
    for k in range(3):
        (data / "train" / f"{k}.wav").write_bytes(bytes(100 + k))
    given = _given(str(data), {"test": None})
    assert given["data"]["files"] == 3
    assert _given_again(given, tmp_path / "cmp", None, {}) == (str(data), {"test": None})    # unchanged: as it was
    (data / "train" / "3.wav").write_bytes(bytes(10))
    with pytest.raises(LstmkitError, match=r"holds other files than when the comparison began \(3 files then, 4 now\)"):
        _given_again(given, tmp_path / "cmp", None, {})
    (data / "train" / "3.wav").unlink()
    (data / "train" / "0.wav").write_bytes(bytes(7))                                      # rewritten in place
    with pytest.raises(LstmkitError, match=r"\(3 files, one or more of them rewritten since\)") as e:
        _given_again(given, tmp_path / "cmp", None, {})
    assert e.value.hint == "put the folder back as it was, or start a new comparison"


def test_a_comparison_folder_of_nested_json_is_one_error(tmp_path):
    """A trials.json nested past what the parser takes was a RecursionError traceback."""
    from lstmkit.compare import resume_compare
    (tmp_path / "trials.json").write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(LstmkitError, match="cannot be read as JSON \\(nested deeper than any file lstmkit writes\\)"):
        resume_compare(tmp_path, log=None)


def test_cli_threads_are_given_back_after_the_command(series_csv, tmp_path, capsys):
    """``--threads`` set torch's thread count for the process for good: a notebook running the
    command in-process (``lstmkit.cli.main``) trained and predicted on that count ever after, here
    after a comparison that failed (its data missing) as after one that ran."""
    import torch
    before = torch.get_num_threads()
    with pytest.raises(SystemExit):
        main(["compare", "--target", "y", "--models", "gru", "--threads", str(before + 1),
              "--data", str(tmp_path / "missing.csv"), "--out", str(tmp_path)])
    assert torch.get_num_threads() == before


def test_the_keys_of_compare_png_cover_no_bar_and_latencies_read_as_numbers(tmp_path, monkeypatch):
    """The baseline key, inside the headline panel at matplotlib's 'best', sat over the first bar's foot
    (three baseline lines across the panel left no place free of them, and a bar counted no more)."""
    import lstmkit.inspect.plots as plots
    from lstmkit.compare import _plot
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, p, **_: seen.append(fig))
    rows = [dict(model=m, params=p, MASE_mean=v, MASE_std=0.05, train_s_mean=3.0, train_s_std=0.1, act_mem_mb_mean=1.0,
                 act_mem_mb_std=0.0, latency_b1_ms_mean=0.2, latency_b256_ms_mean=b)
            for m, p, v, b in (("lstm", 1864, 1.3, 0.7), ("gru", 1560, 1.2, 2.0), ("tcn", 900, 2.4, 0.4))]
    rows += [dict(model=m, params=None, MASE_mean=v) for m, v in (("naive", 2.6), ("seasonal_naive", 1.8),
                                                                   ("ets", 0.8))]
    _plot(pd.DataFrame(rows), ("MASE",), tmp_path / "compare.png")
    fig = seen[0]
    renderer = fig.canvas.get_renderer()
    headline, latency = fig.axes[0], fig.axes[2]
    assert [t.get_text() for t in headline.get_legend().get_texts()] == ["naive 2.6", "seasonal_naive 1.8", "ets 0.8"]
    for ax in (headline, latency):
        key = ax.get_legend().get_window_extent(renderer)
        assert key.x0 >= ax.get_window_extent(renderer).x1
        assert not any(key.overlaps(bar.get_window_extent(renderer)) for bar in ax.patches)
    fig.canvas.draw()                           # latencies of 0.2-2 ms were labelled '2×10⁻¹' … '2×10⁰'
    low, high = latency.get_ylim()
    named = [(t.get_position()[1], t.get_text()) for t in latency.get_yticklabels() + latency.get_yticklabels(minor=True)
             if t.get_text() and low <= t.get_position()[1] <= high]
    assert len(named) >= 3 and all(float(text) == pytest.approx(at) for at, text in named), named


def test_a_comparison_kept_before_translates_columns_were_renamed_resumes_with_their_numbers():
    """trials.json of a translate comparison interrupted before its columns became bleu and chrf (as metrics.json
    names them) holds BLEU and chrF: the resumed table read a column of NaN for its finished trials."""
    from lstmkit.compare import _Progress
    old = {"model": "lstm", "seed": 0, "params": 10, "metrics": {"BLEU": 12.5, "chrF": 40.25, "loss": 1.5},
           "train_s": 1.0, "epochs": 2, "windows_per_s": 100.0, "latency_b1_ms": 0.1, "latency_b256_ms": 1.0,
           "act_mem_mb": 0.5}
    progress = _Progress({"task": "translate"}, {}, record={"trials": [old], "resumed": 0})
    assert progress.trials[0].metrics == {"bleu": 12.5, "chrf": 40.25, "loss": 1.5}
    assert progress.trials[0].model == "lstm" and progress.resumed == 1
    table = summarise(progress.trials, ("bleu", "chrf"), {})
    assert table.loc[0, "bleu_mean"] == 12.5 and table.loc[0, "chrf_mean"] == 40.25


def _berlin_offsets_csv(path):
    """Hours across Berlin's spring clock change written with their offsets (+01:00, then +02:00), which name
    no zone: the reader warns 'pass --time-zone'."""
    times = pd.date_range("2024-03-27", periods=160, freq="h", tz="Europe/Berlin")
    y = np.sin(2 * np.pi * np.arange(160) / 24) + 0.05 * np.random.default_rng(0).standard_normal(160)
    pd.DataFrame({"time": [t.isoformat() for t in times], "y": y}).to_csv(path, index=False)
    return path


def test_compare_takes_the_time_zone_its_readers_warning_asks_for(tmp_path, capsys):
    """The reader of forecast times whose offsets change told compare's user to 'pass --time-zone', a flag
    compare refused ('No such option'): compare passes it to each trial, as train does, and records it."""
    data = _berlin_offsets_csv(tmp_path / "berlin.csv")
    common = ["compare", "--data", str(data), "--target", "y", "--time", "time", "--models", "lstm", "--seeds", "1",
              "--epochs", "1", "--lookback", "8", "--hidden-size", "4", "--layers", "1", "--ensemble", "1"]
    main([*common, "--out", str(tmp_path / "plain")])
    err = capsys.readouterr().err
    assert "warning: " in err and "pass --time-zone with the zone they were written in" in err, err
    main([*common, "--time-zone", "Europe/Berlin", "--out", str(tmp_path / "zoned")])
    err = capsys.readouterr().err
    assert "--time-zone" not in err and "UTC offsets that change" not in err, err
    (folder,) = (tmp_path / "zoned").iterdir()
    assert json.loads((folder / "trials.json").read_text())["settings"]["time_zone"] == "Europe/Berlin"


@pytest.mark.parametrize("args, needle", [(["--task", "lm", "--time-zone", "UTC"], "--time-zone is an option of "
                                           "--task forecast"),
                                          (["--time-zone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'")])
def test_compare_refuses_a_time_zone_it_cannot_use_before_training(series_csv, capsys, args, needle):
    from cli_helpers import assert_user_error, run_cli
    code, out, err = run_cli(["compare", "--data", str(series_csv), "--models", "lstm", "--seeds", "1", *args], capsys)
    assert_user_error(code, err, needle)
