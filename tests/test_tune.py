"""Tuning: a small study end to end, resumed, and its best config trains; bad spaces exit 2."""
import json
import re

import pandas as pd
import pytest
import yaml

from lstmkit.errors import LstmkitError
from lstmkit.tune import TASKS, _Pruning, parse_space, parse_timeout

from forecast_data import sine_frame
from cli_helpers import run_cli
from interrupt_helpers import ctrl_c_on_call, half_written

SPACE = ("hidden_size: {type: int, low: 4, high: 12}\n"
         "lr: {type: float, low: 1.0e-3, high: 1.0e-2, log: true}\n"
         "lookback: [12, 24]\n"
         "batch_size: [32, 64]\n")
OUTPUTS = ("trials.csv", "history.png", "best.yaml")      # as a worker writes them




@pytest.fixture
def files(tmp_path):
    data = tmp_path / "sine.csv"
    sine_frame(n=300).to_csv(data, index=False)
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    base = tmp_path / "base.yaml"
    base.write_text("num_layers: 1\nensemble: 1\ntrain:\n  device: cpu\n  doctor: false\n")   # 1: not 15 seeds a trial
    return data, space, base


def _after_progress(err):
    """Standard error's lines after the study's progress lines (its trials, what it searches)."""
    return [line for line in err.splitlines() if not line.startswith(("trial ", "not searched", "the study "))]


def _search(files, out):
    """``lstmkit tune forecast`` args over the tiny series of ``files``, 2 epochs a trial, --trials left out."""
    data, space, base = files
    return ["tune", "forecast", "--data", data, "--target", "y", "--time", "time", "--config", base,
            "--space", space, "--epochs", "2", "--seed", "0", "--out", out]


def test_tune_writes_best_config_trials_and_plot_and_resumes(tmp_path, capsys, files):
    data, space, base = files
    out = tmp_path / "study"
    args = _search(files, out)
    code, stdout, err = run_cli([*args, "--trials", "3"], capsys)
    assert code == 0, err
    assert err.count("trial ") >= 3 and "best val_loss" in stdout
    assert not [line for line in stdout.splitlines() if line.startswith("trial ")]      # progress: standard error
    assert len(pd.read_csv(out / "trials.csv")) == 3
    assert (out / "history.png").stat().st_size > 1000 and (out / "study.db").is_file()
    # the same command with more trials continues the stored study instead of starting over
    code, stdout, err = run_cli([*args, "--trials", "4"], capsys)
    assert code == 0, err
    trials = pd.read_csv(out / "trials.csv")
    assert list(trials["number"]) == [0, 1, 2, 3]
    best = yaml.safe_load((out / "best.yaml").read_text())
    assert best["data"] == str(data) and best["num_layers"] == 1
    assert 4 <= best["hidden_size"] <= 12 and best["lookback"] in (12, 24)
    assert best["train"]["batch_size"] in (32, 64) and 1e-3 <= best["train"]["lr"] <= 1e-2
    # the study's folder where a run goes names the command that trains its best settings (it was 'not an
    # lstmkit run folder' alone)
    code, _, err = run_cli(["doctor", "--run", out], capsys)
    assert code == 2 and err == (f"error: {out} is a tune study's folder, not a run folder (no lstmkit.json): a study "
                                 "keeps its trials' scores, not their models — train its best settings first (lstmkit "
                                 f"forecast train --config {out / 'best.yaml'}), then pass that run's folder\n"), err
    # best.yaml is a config 'train' accepts as it is
    code, stdout, err = run_cli(["forecast", "train", "--config", out / "best.yaml", "--epochs", "1",
                                 "--progress", "off", "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    run = stdout.strip().splitlines()[-1].split("run folder: ")[1]
    conf = json.loads(open(f"{run}/lstmkit.json").read())["config"]
    assert conf["hidden_size"] == best["hidden_size"] and conf["train"]["lr"] == best["train"]["lr"]


class _FakeTrial:
    def __init__(self, prune_at):
        self.prune_at, self.reports = prune_at, []

    def report(self, value, step):
        self.reports.append((step, value))

    def should_prune(self):
        return len(self.reports) >= self.prune_at


def test_pruner_is_fed_epoch_validation_losses():
    import optuna
    cb, trial = None, _FakeTrial(prune_at=2)
    cb = _Pruning(trial)
    cb.on_epoch_end(None, {"epoch": 1, "val_loss": 0.5, "train_loss": 0.4})
    with pytest.raises(optuna.TrialPruned):
        cb.on_epoch_end(None, {"epoch": 2, "val_loss": 0.7, "train_loss": 0.3})
    assert trial.reports == [(1, 0.5), (2, 0.7)]


@pytest.mark.parametrize("space, needle", [
    ("lr: {type: float, low: 0.1, high: 0.01}\n", "'lr' has an empty range (low 0.1 > high 0.01)"),
    ("lookback: []\n", "'lookback' has no choices (an empty range)"),
    ("hidden_size: {type: categorical, choices: 16}\n", "the choices of 'hidden_size' must be a list, got 16"),
    ("hidden_size: {low: 4, high: 8}\n", "'hidden_size' needs a type (int, float or categorical)"),
    ("hidden_size: {type: int, low: 4}\n", "'hidden_size' needs 'low' and 'high'"),
    ("lr: {type: float, low: small, high: 0.1}\n", "bounds of 'lr' must be numbers, got 'small' and 0.1"),
    ("hidden_size: {type: int, low: 4.5, high: 8}\n", "'hidden_size' is an int range with bounds 4.5, 8"),
    ("lookback: {type: categorical, choices: '24'}\n", "the choices of 'lookback' must be a list, got '24'"),
    ("hiden_size: [8, 16]\n", "unknown setting 'hiden_size'"),
    ("lr: {type: float, low: 0, high: 0.1, log: true}\n", "log-scaled but low is 0"),
    ("", "search space file"),
])
def test_bad_search_space_is_one_line_exit_2(tmp_path, capsys, files, space, needle):
    data, path, _ = files
    path.write_text(space)
    code, _, err = run_cli(["tune", "forecast", "--data", data, "--target", "y", "--space", path,
                            "--trials", "1", "--out", tmp_path / "s"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and needle in err
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("timeout, needle", [
    (0, r"^`timeout` must be a positive number of seconds, got 0 — pass timeout=1800, say, or text such as "
        r"timeout='30m'$"),
    (-5.0, "got -5.0"), (float("nan"), "got nan"), (True, "got True"), ("soon", "cannot read timeout 'soon'"),
])
def test_a_timeout_no_trial_could_run_under_is_refused_before_the_study(tmp_path, timeout, needle):
    """A timeout of 0 or less ran no trial, then said 'no trial completed — see trials.csv for the
    errors'; timeout='30m' (as --timeout takes it) was a TypeError from inside optuna."""
    from lstmkit.tune import tune
    with pytest.raises(LstmkitError, match=needle):
        tune("forecast", {"data": "nowhere.csv"}, timeout=timeout, out=tmp_path / "s")
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("base, space, needle", [
    (None, None, r"^`base` must be a mapping of the settings every trial shares, got NoneType — pass base="),
    ("sales.csv", None, r"^`base` must be a mapping of the settings every trial shares, got str"),
    ({"data": "sales.csv", "train": 5}, None, r"^`base`'s 'train' must be a mapping of trainer settings, got 5"),
    ({}, ["hidden_size"], r"^the search space must be a mapping of settings to ranges, got list"),
    ({}, "nowhere.yaml", r"^search space file not found: nowhere.yaml"),
    ({}, "{tmp}/empty.yaml", r"^search space file .*empty.yaml is empty"),
    ({}, "{tmp}/typo.yaml", r"^search space: unknown setting 'hiden_size'"),
])
def test_tune_in_python_refuses_a_base_or_space_it_cannot_read(tmp_path, base, space, needle):
    """base=None was an AttributeError, a 'train' that is no mapping a TypeError; a space given as a file's
    path (as --space takes it) was 'the search space is empty'; a file's path is now read as --space reads it."""
    from lstmkit.tune import tune
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "typo.yaml").write_text("hiden_size: [8]\n")
    space = space.format(tmp=tmp_path) if isinstance(space, str) else space
    with pytest.raises(LstmkitError, match=needle):
        tune("forecast", base, space=space, out=tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_a_timeout_is_seconds_or_text_as_the_command_takes_it():
    from lstmkit.tune import _timeout_seconds
    assert _timeout_seconds("30m") == 1800 and _timeout_seconds(90) == 90.0 and _timeout_seconds(None) is None
    assert _timeout_seconds(float("inf")) is None


@pytest.mark.parametrize("own_space", [True, False])
def test_a_run_folder_as_config_fixing_what_the_space_draws_names_the_fix(tmp_path, capsys, files, own_space):
    """A run records every setting, so `tune --config RUN` was 'both fixed and searched — remove it from
    one of them', or with the default space 'remove some from --config': nothing a run folder can do."""
    data, space, _ = files
    run = tmp_path / "run"
    run.mkdir()
    (run / "lstmkit.json").write_text(json.dumps({"format_version": 1, "task": "forecast", "status": "finished",
                                                  "config": {"hidden_size": 4, "lookback": 12, "train": {"lr": 0.01}}}))
    code, _, err = run_cli(["tune", "forecast", "--data", data, "--target", "y", "--config", run, "--trials", "1",
                            *(["--space", space] if own_space else []), "--out", tmp_path / "s"], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"error: --config {run} is a run folder, and a run records every setting: it fixes "
                          "hidden_size, lr, lookback, which the search space draws — pass --config a YAML file of "
                          "only the settings to keep fixed"), err
    assert not (tmp_path / "s").exists()


def test_other_bad_input():
    with pytest.raises(LstmkitError, match="not available for task 'juggling'"):
        from lstmkit.tune import tune
        tune("juggling", {})
    with pytest.raises(LstmkitError, match="cannot read timeout"):
        parse_timeout("soon")
    assert parse_timeout("30m") == 1800 and parse_timeout("2h") == 7200 and parse_timeout("45") == 45
    space = parse_space(TASKS["forecast"].default_space, TASKS["forecast"].config_keys())
    assert set(space) == {"hidden_size", "num_layers", "dropout", "lr", "lookback", "batch_size"}


def test_settings_fixed_in_the_config_are_not_searched(tmp_path, capsys, files):
    """The default space drew num_layers and lookback even when --config fixed them (the fixed value
    was silently ignored): now they are left out of the search, and the output says so."""
    data, _, _ = files
    base = tmp_path / "fixed.yaml"
    base.write_text("num_layers: 1\nlookback: 12\nensemble: 1\ntrain:\n  device: cpu\n  doctor: false\n")
    out = tmp_path / "study"
    code, stdout, err = run_cli(["tune", "forecast", "--data", data, "--target", "y", "--time", "time", "--config", base,
                                 "--epochs", "1", "--trials", "2", "--seed", "0", "--out", out], capsys)
    assert code == 0, err
    assert "not searched (fixed): num_layers (1), lookback (12); searched: hidden_size, dropout, lr, batch_size" in err
    trials = pd.read_csv(out / "trials.csv")
    assert not any(c.endswith(("num_layers", "lookback")) for c in trials.columns)
    assert any(c.endswith("hidden_size") for c in trials.columns)
    best = yaml.safe_load((out / "best.yaml").read_text())
    assert best["num_layers"] == 1 and best["lookback"] == 12


def test_tune_classify_comes_from_its_room(tmp_path, capsys):
    """A room with a bench is tunable with no code in tune.py: two trials on tiny texts, then
    best.yaml trains with ``lstmkit classify train --config``."""
    rows = [{"text": f"{w} film {k}", "label": "pos" if w == "great" else "neg"}
            for k in range(30) for w in ("great", "awful")]
    data = tmp_path / "texts.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    space = tmp_path / "space.yaml"
    space.write_text("hidden_size: [4, 8]\npooling: [max, mean]\n")
    base = tmp_path / "base.yaml"
    base.write_text("embed_dim: 8\nmin_freq: 1\ntrain:\n  device: cpu\n  doctor: false\n  batch_size: 32\n")
    out = tmp_path / "study"
    code, stdout, err = run_cli(["tune", "classify", "--data", data, "--config", base, "--space", space,
                                 "--epochs", "2", "--trials", "2", "--seed", "0", "--out", out], capsys)
    assert code == 0, err
    assert err.count("trial ") >= 2 and "best val_loss" in stdout
    assert len(pd.read_csv(out / "trials.csv")) == 2
    best = yaml.safe_load((out / "best.yaml").read_text())
    assert best["hidden_size"] in (4, 8) and best["pooling"] in ("max", "mean") and best["embed_dim"] == 8
    code, stdout, err = run_cli(["classify", "train", "--config", out / "best.yaml", "--epochs", "1",
                                 "--progress", "off", "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    (run,) = (tmp_path / "runs").iterdir()
    conf = json.loads((run / "lstmkit.json").read_text())["config"]
    assert conf["hidden_size"] == best["hidden_size"] and conf["pooling"] == best["pooling"]


def test_every_room_with_a_bench_is_tunable():
    assert set(TASKS) == {"forecast", "classify", "translate", "lm", "speech"}
    for task in TASKS:
        plug = TASKS[task]
        assert set(parse_space(plug.default_space, plug.config_keys())) == set(plug.default_space)
    with pytest.raises(LstmkitError, match="no data given"):
        TASKS["classify"].check({"hidden_size": 8})
    with pytest.raises(LstmkitError, match="TextClassifier has no parameter 'lookback'"):
        TASKS["classify"].check({"data": "x.csv", "lookback": 8})


@pytest.mark.parametrize("seed", [-1, 2**32])
def test_a_sampler_seed_outside_numpys_range_is_one_line(seed, tmp_path, capsys):
    from cli_helpers import assert_user_error, run_cli
    code, _, err = run_cli(["tune", "classify", "--data", tmp_path / "x.csv", "--seed", seed, "--out", tmp_path / "t"],
                           capsys)
    assert_user_error(code, err, "seed", "0 to 4294967295")
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize("storage, needle", [
    ("foo://x", "Can't load plugin"),
    ("not a url", "Could not parse"),
    ("sqlite:////{tmp}/missing/dir/study.db", "unable to open database file"),
])
def test_a_storage_that_cannot_be_opened_is_one_line_and_leaves_nothing(storage, needle, tmp_path, capsys, files):
    data, space, _ = files
    code, _, err = run_cli(["tune", "forecast", "--data", data, "--target", "y", "--space", space, "--trials", "1",
                            "--storage", storage.format(tmp=str(tmp_path).lstrip("/")), "--out", tmp_path / "s"],
                           capsys)
    assert code == 2 and err.count("\n") == 1 and "cannot open the study storage" in err and needle in err
    assert "--storage sqlite:///" in err
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("storage", ["sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?cache=shared"])
def test_an_in_memory_storage_is_refused_before_any_trial(storage, tmp_path, capsys, files):
    """``--storage sqlite://`` ran its trials, then said the same command continues a study that
    nothing kept."""
    data, space, _ = files
    code, _, err = run_cli(["tune", "forecast", "--data", data, "--target", "y", "--space", space, "--trials", "1",
                            "--storage", storage, "--out", tmp_path / "s"], capsys)
    assert code == 2 and err.count("\n") == 1 and "is an in-memory database: the study is lost when" in err, err
    assert "keep it in a file: --storage sqlite:///runs/study.db" in err and not (tmp_path / "s").exists()


def test_an_out_folder_a_file_blocks_is_one_line(tmp_path, capsys, files):
    data, space, _ = files
    (tmp_path / "taken").write_text("x")
    code, _, err = run_cli(["tune", "forecast", "--data", data, "--target", "y", "--space", space, "--trials", "1",
                            "--out", tmp_path / "taken" / "s"], capsys)
    assert code == 2 and err.count("\n") == 1 and "taken is a file, not a folder" in err


@pytest.mark.parametrize("change, flag, needle", [
    (("--epochs", "3"), "--epochs", "was run with max_epochs=2, not 3"),
    (("--data", "{other}"), "--data", "was run with data='{data}', not '{other}'"),
], ids=["epochs", "data"])
def test_a_study_continued_with_other_fixed_settings_is_refused(change, flag, needle, tmp_path, capsys, files):
    """The same --out with another --data or --epochs continued the study: trials on other data or
    budgets were ranked together, and best.yaml paired the old trials' best with the new settings."""
    import os
    import shutil
    data = files[0]
    other = tmp_path / "other.csv"
    shutil.copy(data, other)
    out = tmp_path / "study"
    args = _search(files, out)
    code, _, err = run_cli([*args, "--trials", "1"], capsys)
    assert code == 0, err
    k = args.index(change[0])
    changed = [*args[:k + 1], change[1].format(other=other), *args[k + 2:], "--trials", "2"]
    code, _, err = run_cli(changed, capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert needle.format(data=data, other=other) in err and f"continue it with the {flag} it began with" in err
    assert len(pd.read_csv(out / "trials.csv")) == 1
    here = os.getcwd()                        # the same file named from its folder: the same study, continued
    os.chdir(data.parent)
    try:
        code, _, err = run_cli([*args[:args.index("--data") + 1], data.name, *args[args.index("--data") + 2:],
                                "--trials", "2", "--device", "cpu"], capsys)
    finally:
        os.chdir(here)
    assert code == 0, err
    assert len(pd.read_csv(out / "trials.csv")) == 2


def test_ctrl_c_in_a_trial_stops_the_study_and_the_same_command_continues_it(tmp_path, capsys, files, monkeypatch):
    """The interrupted trial escaped as a failed trial counted in --trials (with optuna's traceback),
    and the rerun's sampler, seeded again, proposed the first trials' settings again."""
    from lstmkit.errors import TrainingInterrupted
    from lstmkit.tasks.forecast.estimator import Forecaster
    out = tmp_path / "study"
    args = [*_search(files, out), "--trials", "3"]
    real_fit, calls = Forecaster.fit, []

    def cut_in_the_second_trial(self, *a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise TrainingInterrupted(None, 1)
        return real_fit(self, *a, **k)

    monkeypatch.setattr(Forecaster, "fit", cut_in_the_second_trial)
    code, stdout, err = run_cli(args, capsys)
    said = _after_progress(err)                      # the first trial's line, then one line
    assert code == 130 and len(said) == 1 and said[0].startswith("interrupted; the study is saved in"), err
    assert "run the same command again to continue" in said[0]
    monkeypatch.setattr(Forecaster, "fit", real_fit)
    code, stdout, err = run_cli(args, capsys)
    assert code == 0, err
    trials = pd.read_csv(out / "trials.csv")
    complete = trials[trials["state"] == "COMPLETE"]
    assert len(trials) == 4 and len(complete) == 3 and trials["user_attrs_interrupted"].sum() == 1
    assert "user_attrs_worker_lost" not in trials                   # the cut trial is not read as a lost one
    assert not complete[[c for c in trials if c.startswith("params_")]].duplicated().any()


def test_ctrl_c_in_a_trial_outside_training_is_marked_interrupted_too(tmp_path, capsys, files, monkeypatch):
    """Ctrl-C while a trial read its data or built its model (a KeyboardInterrupt, not the trainer's
    TrainingInterrupted) failed the trial with no mark: trials.csv read it as a lost worker's."""
    from lstmkit.tasks.forecast.estimator import Forecaster

    def cut(self, *a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(Forecaster, "fit", cut)
    out = tmp_path / "study"
    code, _, err = run_cli([*_search(files, out), "--trials", "2"], capsys)
    assert code == 130 and err.count("\n") == 1 and err.startswith("interrupted; the study is saved in"), err
    trials = pd.read_csv(out / "trials.csv")
    assert trials[["number", "state", "user_attrs_interrupted"]].values.tolist() == [[0, "FAIL", True]]
    assert "user_attrs_worker_lost" not in trials


@pytest.mark.parametrize("where, when, new", [
    ("pandas:DataFrame.to_csv", lambda frame, path, **k: "trials.csv" in str(path), []),   # half written
    ("os:replace", lambda tmp, path: str(path).endswith("history.png"), ["trials.csv"]),
    ("os:replace", lambda tmp, path: str(path).endswith("best.yaml"), ["trials.csv", "history.png"]),
])
def test_ctrl_c_while_the_outputs_are_written_says_what_is_intact(where, when, new, tmp_path, capsys, files,
                                                                   monkeypatch):
    """Ctrl-C while a worker wrote trials.csv, history.png or best.yaml was a bare 'interrupted'."""
    out = tmp_path / "study"
    args = _search(files, out)
    code, _, err = run_cli([*args, "--trials", "1"], capsys)
    assert code == 0, err
    before = {name: (out / name).read_bytes() for name in OUTPUTS}
    with monkeypatch.context() as m:
        calls = ctrl_c_on_call(m, where, 1, when)
        code, stdout, err = run_cli([*args, "--trials", "2"], capsys)
    assert calls and code == 130 and len(_after_progress(err)) == 1 and "Traceback" not in err, err
    said = ", ".join(f"{name} {'new' if name in new else 'as before'}" for name in OUTPUTS)
    assert _after_progress(err) == [f"interrupted while writing the outputs in {out} ({said}); the study is saved in "
                                    f"sqlite:///{out / 'study.db'} — run the same command again to write them all"]
    assert not half_written(out)
    for name in OUTPUTS:                       # each file whole: this run's, or the one before
        assert ((out / name).read_bytes() == before[name]) == (name not in new), name
    assert len(pd.read_csv(out / "trials.csv")) == (2 if "trials.csv" in new else 1)
    code, stdout, err = run_cli([*args, "--trials", "2"], capsys)
    assert code == 0 and "already holds 2 trials" in err, (stdout, err)       # and writes them
    assert len(pd.read_csv(out / "trials.csv")) == 2 and "best of 2 completed trials" in (out / "best.yaml").read_text()


def _stored_study(tmp_path, task=None):
    """``tmp_path/old/study.db`` holding study 'forecast' with one finished trial that drew
    batch_size from [32, 64] (and, with ``task``, that task recorded)."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    (tmp_path / "old").mkdir()
    study = optuna.create_study(study_name="forecast", storage=f"sqlite:///{tmp_path / 'old' / 'study.db'}")
    if task:
        study.set_user_attr("task", task)
    study.add_trial(optuna.trial.create_trial(
        params={"batch_size": 32}, value=1.0,
        distributions={"batch_size": optuna.distributions.CategoricalDistribution([32, 64])}))
    return study


@pytest.mark.parametrize("space, task, needle", [
    ("batch_size: [16, 32]\n", None, "drew 'batch_size' from the choices 32, 64; this search space has the choices 16, 32"),
    ("batch_size: {type: int, low: 16, high: 64}\n", None, "this search space has int values 16..64"),
    ("batch_size: [32, 64]\n", "lm", "the study 'forecast' in sqlite:///"),
])
def test_a_study_this_search_cannot_continue_is_one_line_before_any_trial(space, task, needle, tmp_path, capsys, files):
    """Optuna raised a traceback in the first trial (a categorical setting's choices changed, a
    study of another task continued by name)."""
    data, _, base = files
    _stored_study(tmp_path, task)
    (tmp_path / "space2.yaml").write_text(space)
    code, out, err = run_cli(["tune", "forecast", "--data", data, "--target", "y", "--config", base, "--space",
                              tmp_path / "space2.yaml", "--trials", "2", "--out", tmp_path / "old"], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err and needle in err, err
    assert ("tunes lm, not forecast" in err) == (task == "lm") and "--study" in err
    import optuna
    assert len(optuna.load_study(study_name="forecast", storage=f"sqlite:///{tmp_path / 'old' / 'study.db'}").trials) == 1


def test_a_new_study_records_its_task(tmp_path, capsys, files):
    import optuna
    _stored_study(tmp_path)
    from lstmkit.tune import _check_continues
    tune_study = optuna.load_study(study_name="forecast", storage=f"sqlite:///{tmp_path / 'old' / 'study.db'}")
    _check_continues(optuna, tune_study, "forecast", {"batch_size": {"type": "categorical", "choices": [32, 64]}}, "s")
    assert optuna.load_study(study_name="forecast",
                             storage=f"sqlite:///{tmp_path / 'old' / 'study.db'}").user_attrs == {"task": "forecast"}


def test_an_out_folder_with_url_characters_keeps_its_own_study(tmp_path, capsys, files, monkeypatch):
    """'sqlite:///{out}/study.db' read a folder named 'tune #1 ?50%' as the file 'tune #1 ' and a query:
    the study went to a file beside the folder, and another --out 'tune #1 ?2' shared it."""
    data, space, base = files
    monkeypatch.chdir(tmp_path)
    for out in ("tune #1 ?50%é", "tune #1 ?2"):
        code, stdout, err = run_cli(["tune", "forecast", "--data", data, "--target", "y", "--time", "time", "--config",
                                     base, "--space", space, "--epochs", "1", "--seed", "0", "--trials", "1",
                                     "--out", tmp_path / out], capsys)
        assert code == 0, err
        assert (tmp_path / out / "study.db").is_file() and len(pd.read_csv(tmp_path / out / "trials.csv")) == 1
    assert not (tmp_path / "tune #1 ").exists()


def _refused_space(task, space, needle, tmp_path, capsys):
    """``lstmkit tune TASK --space`` over tiny data, refused with one line holding ``needle``: that line."""
    (tmp_path / "sine.csv").write_text(sine_frame(n=120).to_csv(index=False))
    (tmp_path / "texts.txt").write_text("hello world, a small text " * 40)
    (tmp_path / "texts.csv").write_text("text,label\n" + "good film,pos\nbad film,neg\n" * 20)
    data = {"forecast": ["--data", tmp_path / "sine.csv", "--target", "y", "--time", "time"],
            "lm": ["--data", tmp_path / "texts.txt"], "classify": ["--data", tmp_path / "texts.csv"]}[task]
    (tmp_path / "space.yaml").write_text(space)
    code, out, err = run_cli(["tune", task, *data, "--space", tmp_path / "space.yaml", "--trials", "3",
                              "--device", "cpu", "--out", tmp_path / "s"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err, err
    return err


@pytest.mark.parametrize("task, space, needle", [
    ("forecast", "model: [lstm, bogus]\n", "'model' choice 'bogus' cannot be used: unknown model 'bogus'"),
    ("forecast", "scaler: [standard, nope]\n",
     "unknown scaler kind 'nope' — remove 'nope' from the choices of 'scaler'"),
    ("forecast", "hidden_size: {type: int, low: 0, high: 8}\n", "'hidden_size' low 0 cannot be used"),
    ("forecast", "dropout: {type: float, low: 0.0, high: 1.5}\n", "change the range of 'dropout'"),
    ("lm", "level: [char, sentence]\n", "'level' choice 'sentence' cannot be used: unknown level"),
    ("classify", "pooling: [max, nope]\n", "use one of: last, max, mean"),
])
def test_a_value_no_trial_can_use_is_one_line_before_the_study_opens(task, space, needle, tmp_path, capsys):
    """Each trial that drew it failed with its own line, and the study kept the failures."""
    _refused_space(task, space, needle, tmp_path, capsys)
    assert not (tmp_path / "s").exists()


def test_a_value_another_entry_makes_usable_is_left_to_the_trials():
    """Over a config's `strategy: recursive` a transformer is refused, but the space draws the strategy too."""
    from lstmkit.tune import _check_values
    settings = TASKS["forecast"].settings
    fixed = {"target": "y", "strategy": "recursive"}
    with pytest.raises(LstmkitError, match="'model' choice 'transformer' cannot be used"):
        _check_values(settings, fixed, parse_space({"model": ["lstm", "transformer"]}, TASKS["forecast"].config_keys()))
    _check_values(settings, fixed, parse_space({"model": ["lstm", "transformer"], "strategy": ["direct", "recursive"]},
                                               TASKS["forecast"].config_keys()))


def test_a_space_of_usable_values_still_runs(tmp_path, capsys, files):
    data, space, base = files
    space.write_text("model: [lstm, gru]\nhead: [linear, mlp]\ndropout: {type: float, low: 0.0, high: 0.5}\n"
                     "hidden_size: {type: int, low: 4, high: 8}\nprecision: [fp32]\n")
    out = tmp_path / "study"
    code, stdout, err = run_cli(["tune", "forecast", "--data", data, "--target", "y", "--time", "time",
                                 "--config", base, "--space", space, "--epochs", "1", "--trials", "2",
                                 "--seed", "0", "--out", out], capsys)
    assert code == 0, err
    trials = pd.read_csv(out / "trials.csv")
    assert list(trials["state"]) == ["COMPLETE", "COMPLETE"]
    assert set(trials["params_model"]) <= {"lstm", "gru"} and (out / "best.yaml").is_file()


def test_a_one_trial_studys_history_numbers_its_trial_zero(tmp_path, monkeypatch):
    """One trial (--trials 1, or the first of a study looked at early): the trial axis read -0.04, -0.02,
    0.00, 0.02, 0.04 around the one dot."""
    import optuna

    import lstmkit.inspect.plots as plots
    from lstmkit import tune as tune_module
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **_: seen.append(fig.axes[0]))
    study = optuna.create_study(study_name="one")
    study.add_trial(optuna.trial.create_trial(value=0.5, params={}, distributions={}))
    tune_module._plot_history(study, tmp_path / "history.png")
    ax = seen[0]
    low, high = ax.get_xlim()
    assert [t for t in ax.get_xticks() if low <= t <= high] == [0]


def test_the_history_is_titled_by_the_tune_folder_its_task_data_and_study(tmp_path, monkeypatch):
    """Every history.png read 'Optimisation history: forecast' (the study's default name, the task): two
    tune folders' plots, open side by side, could not be told apart."""
    import optuna

    import lstmkit.inspect.plots as plots
    from lstmkit import tune as tune_module
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **_: seen.append(fig.axes[0].get_title()))
    for name in ("forecast", "airline-v2"):
        study = optuna.create_study(study_name=name)
        study.add_trial(optuna.trial.create_trial(value=0.5, params={}, distributions={}))
        tune_module._plot_history(study, tmp_path / "tune-air" / "history.png", "forecast", data="data/airline.csv")
    tune_module._plot_history(study, tmp_path / "tune-air" / "history.png", "forecast", data="x" * 60 + ".csv")
    assert seen == ["tune-air: forecast tuning on airline.csv", "tune-air: forecast tuning on airline.csv, study "
                    "'airline-v2'", f"tune-air: forecast tuning on {'x' * 39}…, study 'airline-v2'"]


def test_the_history_title_names_a_data_file_of_up_to_40_characters_whole():
    """A file name of 40 characters is named whole; of 41, by its first 39 and '…' (40 in all); a study without
    a task is 'tuning' alone, and a study named as its task is not named again."""
    from pathlib import Path
    from types import SimpleNamespace

    from lstmkit.tune import _history_title
    study = SimpleNamespace(study_name="forecast")
    at, past = "a" * 36 + ".csv", "b" * 37 + ".csv"
    assert _history_title(study, Path("t/history.png"), "forecast", at) == f"t: forecast tuning on {at}"
    assert _history_title(study, Path("t/history.png"), "forecast", past) == f"t: forecast tuning on {'b' * 37}.c…"
    assert _history_title(study, Path("t/history.png"), None) == "t: tuning, study 'forecast'"


def _history_axes(tmp_path, monkeypatch, name, values):
    """The drawn axes of tune's history plot of a study whose trials scored ``values``."""
    import optuna

    import lstmkit.inspect.plots as plots
    from lstmkit import tune as tune_module
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **_: seen.append(fig.axes[0]))
    study = optuna.create_study(study_name=name)
    for v in values:
        study.add_trial(optuna.trial.create_trial(value=v, params={}, distributions={}))
    tune_module._plot_history(study, tmp_path / "history.png")
    ax = seen[0]
    ax.figure.canvas.draw()
    return ax


def test_a_history_within_a_decade_is_labelled_in_plain_numbers(tmp_path, monkeypatch):
    """Validation losses from 0.31 to 0.52 on a log axis were labelled '3×10⁻¹', '4×10⁻¹' … down the side."""
    ax = _history_axes(tmp_path, monkeypatch, "near", (0.52, 0.44, 0.31, 0.37))
    texts = [t.get_text() for t in ax.get_yticklabels(minor=True) + ax.get_yticklabels() if t.get_text()]
    assert ax.get_yscale() == "log" and len(texts) >= 2 and all(float(t) for t in texts), texts


def test_a_history_over_more_than_a_decade_is_labelled_in_plain_numbers(tmp_path, monkeypatch):
    """Validation losses from 0.011 to 0.3 read '3×10⁻¹', '10⁻¹', '2×10⁻²' … down the side."""
    ax = _history_axes(tmp_path, monkeypatch, "wide", (0.3, 0.042, 0.011, 0.07))
    lo, hi = ax.get_ylim()
    ticks = [t for t in ax.get_yticklabels(minor=True) + ax.get_yticklabels()
             if t.get_text() and lo <= t.get_position()[1] <= hi]
    assert {"0.1", "0.01"} <= {t.get_text() for t in ticks}
    assert all(float(t.get_text()) == pytest.approx(t.get_position()[1]) for t in ticks)


@pytest.mark.parametrize("task, space, needle", [
    ("forecast", "scaler: [standard, minmax]\n", "'scaler' changes the units the validation loss is measured in"),
    ("forecast", "horizon: [1, 6]\n", "'horizon' changes how many steps each validation window is scored over"),
    ("forecast", "loss: [mse, mae]\n", "'loss' changes the loss the validation loss is"),
    ("lm", "min_freq: [1, 5]\n", "'min_freq' changes the vocabulary whose tokens"),
    ("classify", "seed: [0, 1]\n", "'seed' changes the seed that draws which examples are the validation part"),
    ("classify", "val_frac: [0.1, 0.3]\n", "'val_frac' changes which examples are the validation part"),
])
def test_a_space_drawing_what_the_validation_loss_rests_on_is_refused(task, space, needle, tmp_path, capsys):
    """Trials are ranked by their validation loss: `loss: [mse, mae]`, `scaler: [standard, minmax]`, a
    horizon, a vocabulary's min_freq or the validation split drawn by the search made the smallest
    number win (MAE under MSE, a shorter horizon, more <unk>), not the best model."""
    err = _refused_space(task, space, needle, tmp_path, capsys)
    assert "remove" in err and "set it in --config" in err
    assert not (tmp_path / "s").exists()


def test_no_default_space_draws_what_the_validation_loss_rests_on():
    """Translation's default space drew label_smoothing, which is part of its validation loss: the
    search favoured no smoothing, whatever the translations' quality."""
    for task in TASKS:
        plug = TASKS[task]
        assert not set(plug.default_space) & set(plug.shared), task
        assert set(plug.shared) <= plug.config_keys(), task          # every name a setting of the task
    assert "label_smoothing" in TASKS["translate"].shared and "loss" in TASKS["speech"].shared


def test_a_study_whose_data_file_changed_at_the_same_path_is_refused(tmp_path, capsys, files):
    """The same --data path with other contents (a value corrected, a month appended) continued the study:
    its new trials' losses were ranked with the old ones', and best.yaml could name a trial on the old data."""
    import optuna
    data = files[0]
    out = tmp_path / "study"
    args = _search(files, out)
    code, _, err = run_cli([*args, "--trials", "1"], capsys)
    assert code == 0, err
    kept = data.read_bytes()
    frame = pd.read_csv(data)
    frame.loc[len(frame) - 1, "y"] += 1.0                            # one value corrected
    frame.to_csv(data, index=False)
    code, out_text, err = run_cli([*args, "--trials", "2"], capsys)
    assert code == 2 and out_text == "" and err.count("\n") == 1, err
    assert "the --data file of the study 'forecast'" in err and "holds other contents than when the study began" in err
    assert "restore the file to continue the study, or start a new one" in err
    assert len(pd.read_csv(out / "trials.csv")) == 1
    data.write_bytes(kept)                                           # as it was: the study continues
    code, _, err = run_cli([*args, "--trials", "2"], capsys)
    assert code == 0, err
    assert len(pd.read_csv(out / "trials.csv")) == 2
    study = optuna.load_study(study_name="forecast", storage=f"sqlite:///{out / 'study.db'}")
    from lstmkit.runs import file_sha256
    assert study.user_attrs["data_sha256"] == {"data": file_sha256(data)}


def test_a_study_begun_before_the_data_was_recorded_records_it_and_continues(tmp_path):
    import optuna
    from lstmkit.tune import _check_continues
    _stored_study(tmp_path)
    study = optuna.load_study(study_name="forecast", storage=f"sqlite:///{tmp_path / 'old' / 'study.db'}")
    _check_continues(optuna, study, "forecast", {}, "s", None, {"data": "ab" * 32})
    assert study.user_attrs["data_sha256"] == {"data": "ab" * 32}
    with pytest.raises(LstmkitError, match="holds other contents than when the study began"):
        _check_continues(optuna, study, "forecast", {}, "s", None, {"data": "cd" * 32})


def test_each_trial_shows_its_training_as_progress_asks_and_no_doctor_report(tmp_path, capsys, files):
    """A trial of many minutes showed nothing until its line: `--progress` shows each trial's training (log lines
    on a terminal by default, which several workers on one terminal share whole; `log` its epoch lines), and the
    doctor, whose report on a trial went nowhere but between the trial lines, is off."""
    data, _, _ = files
    base = tmp_path / "doctor.yaml"
    base.write_text("num_layers: 1\nensemble: 1\ntrain:\n  device: cpu\n")       # the doctor left at its default
    args = [a if a != files[2] else base for a in _search(files, tmp_path / "a")]
    code, _, err = run_cli([*args, "--trials", "2", "--progress", "log"], capsys)
    assert code == 0, err
    assert err.count("epoch 1/2") == 2 and err.count("epoch 2/2") == 2 and "doctor" not in err.lower(), err
    args = [a if a != files[2] else base for a in _search(files, tmp_path / "b")]
    code, _, err = run_cli([*args, "--trials", "2"], capsys)                  # not a terminal: the trial lines
    assert code == 0 and "epoch" not in err and err.count("trial ") == 2 and _after_progress(err) == [], err
    code, _, err = run_cli([*_search(files, tmp_path / "c"), "--trials", "2", "--progress", "loud"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "unknown progress display 'loud' — use one of: auto, bar, log, off" in err
    assert not (tmp_path / "c").exists()


def test_tune_progress_auto_is_log_lines_on_a_terminal(tmp_path, capsys, files, monkeypatch):
    """Several workers on one terminal: their bars, each redrawing its line, would garble each other; auto shows
    each trial's epochs as whole log lines there instead."""
    import sys
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, _, err = run_cli([*_search(files, tmp_path / "a"), "--trials", "1"], capsys)
    assert code == 0 and err.count("epoch 1/2") == 1 and err.count("epoch 2/2") == 1, err
    assert "\r" not in err and "\x1b" not in err, err


def test_tune_leaves_the_programs_optuna_log_level_as_it_found_it(tmp_path, files):
    """tune quiets optuna's per-trial INFO lines while it runs; a notebook that had set INFO for its own
    studies had WARNING from then on (here a tune refused once optuna was quieted: every end restores it)."""
    import optuna

    from lstmkit.tune import tune
    data, _, _ = files
    base = {"data": str(data), "target": "y", "time": "time", "train": {"device": "cpu"}}
    was = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        with pytest.raises(LstmkitError, match="cannot open the study storage"):
            tune("forecast", base, trials=1, storage="not a url", out=tmp_path / "s", log=lambda _: None)
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
    finally:
        optuna.logging.set_verbosity(was)


def test_a_study_whose_trials_hold_nothing_out_is_refused_before_it_opens(tmp_path, capsys):
    """``tune classify`` with ``series: true`` (a sequence classifier holds nothing out by default) ranked
    every trial by its lowest training loss, printed as 'val_loss': the largest setting won."""
    import numpy as np
    rng = np.random.default_rng(0)
    labels = ["up", "down"] * 10
    frame = pd.DataFrame([np.linspace(0, 1 if c == "up" else -1, 8) + rng.normal(0, 0.1, 8) for c in labels],
                         columns=[f"t{i}" for i in range(8)])
    frame.insert(0, "label", labels)
    data = tmp_path / "series.csv"
    frame.to_csv(data, index=False)
    base = tmp_path / "base.yaml"
    base.write_text("series: true\ntrain:\n  device: cpu\n")
    args = ["tune", "classify", "--data", data, "--config", base, "--epochs", "1", "--trials", "1",
            "--out", tmp_path / "s"]
    code, _, err = run_cli(args, capsys)
    assert code == 2 and "val_frac: 0 holds nothing out, so each trial would be ranked by its training loss" in err
    assert "set val_frac: 0.2 in the --config file, or name a validation file (val_data: FILE)" in err
    assert not (tmp_path / "s").exists()
    base.write_text("series: true\nval_frac: 0.3\ntrain:\n  device: cpu\n  doctor: false\n")
    code, stdout, err = run_cli(args, capsys)
    assert code == 0, err
    assert "best val_loss" in stdout


def test_each_trial_line_says_how_many_of_the_trials_are_done_and_the_eta(tmp_path, capsys, files):
    """A study of 50 trials of a minute each said 'trial 17: val_loss ...' alone: how many were left, and
    for how long, was not said. Each trial line ends with the trials counted of --trials and, while no other
    worker runs one, the ETA of the rest at this worker's pace; a study continued counts from what it holds."""
    out = tmp_path / "study"
    code, stdout, err = run_cli([*_search(files, out), "--trials", "2"], capsys)
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("trial ")]
    assert re.search(r"  \[1/2; ETA \d+ s\]$", lines[0]) and lines[1].endswith("  [2/2]"), lines
    # the best trial's line and the 'best val_loss' line give one number alike (trial 1: 0.69256, best 0.692562)
    best = re.search(r"best val_loss (\S+) \(trial (\d+) ", stdout)
    assert best and f"trial {best.group(2)}: val_loss {best.group(1)}  " in err, (stdout, err)
    code, stdout, err = run_cli([*_search(files, out), "--trials", "3"], capsys)
    assert code == 0, err
    assert [line for line in err.splitlines() if line.startswith("trial ")][0].endswith("  [3/3]"), err


def test_the_history_names_the_loss_in_the_tasks_units_and_an_lms_perplexity(tmp_path, monkeypatch):
    """history.png's axis read 'validation loss' for every task: nats of a cross-entropy, scaled units of a
    forecaster; a language model's trials, printed as perplexities by its runs, had no perplexity on it."""
    import numpy as np
    import optuna

    import lstmkit.inspect.plots as plots
    from lstmkit import tune as tune_module
    seen = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **_: seen.append(fig.axes[0]))
    study = optuna.create_study(study_name="lm")
    for v in (5.54, 4.90, 6.21):
        study.add_trial(optuna.trial.create_trial(value=v, params={}, distributions={}))
    tune_module._plot_history(study, tmp_path / "history.png", "lm", tune_module._loss_label("lm", {}))
    tune_module._plot_history(study, tmp_path / "history.png", "forecast", tune_module._loss_label("forecast", {}))
    lm, forecast = seen
    assert lm.get_ylabel() == "validation cross-entropy per token (nats)"
    assert forecast.get_ylabel() == "validation loss (scaled units)" and not forecast.child_axes
    right = next(a for a in lm.child_axes if a.get_ylabel() == "perplexity")
    lm.figure.canvas.draw()
    low, high = lm.get_ylim()
    assert right.get_ylim() == pytest.approx((np.exp(low), np.exp(high)))
    texts = [t.get_text() for t in right.get_yticklabels() + right.get_yticklabels(minor=True) if t.get_text()]
    assert texts and all("e" not in t and "$" not in t for t in texts), texts


def test_a_studys_loss_is_named_by_its_tasks_config_as_its_runs_name_it():
    """tune kept its own table of the tasks' loss words: a speech study read 'loss (nats)' in every mode, and a
    translation study trained label-smoothed was not said to be. The study reads the name where each run's
    loss.png does (the task's config, for the study's settings)."""
    from lstmkit import tune as tune_module
    from lstmkit.tasks.speech.config import SpeechConfig
    from lstmkit.tasks.translate.config import TranslateConfig
    assert not hasattr(tune_module, "_LOSS_NAMES")
    assert tune_module._loss_label("speech", {}) == "CTC loss per character (nats)" == SpeechConfig().loss_label()
    assert tune_module._loss_label("speech", {"mode": "classify"}) == "cross-entropy (nats)"
    assert tune_module._loss_label("speech", {"mode": "seq2seq"}) == "cross-entropy per token (nats, label-smoothed)"
    assert tune_module._loss_label("translate", {"label_smoothing": 0.1}) == TranslateConfig(
        label_smoothing=0.1).loss_label() == "cross-entropy per token (nats, label-smoothed)"
    assert tune_module._loss_label("translate", {"label_smoothing": 0.0, "train": {"lr": 0.01}}) == (
        "cross-entropy per token (nats)")
    assert tune_module._loss_label("classify", {"series": True}) == "cross-entropy (nats)"
    assert tune_module._loss_label("lm", {"level": "word"}) == "cross-entropy per token (nats)"
    assert tune_module._loss_label("forecast", {"target": "y"}) == "loss (scaled units)"


def _berlin_offsets_csv(path):
    """Hours across Berlin's spring clock change written with their offsets (+01:00, then +02:00), which name
    no zone: the reader warns 'pass --time-zone'."""
    times = pd.date_range("2024-03-27", periods=160, freq="h", tz="Europe/Berlin")
    frame = sine_frame(n=160)
    pd.DataFrame({"time": [t.isoformat() for t in times], "y": frame["y"]}).to_csv(path, index=False)
    return path


def test_tune_takes_the_time_zone_its_readers_warning_asks_for(tmp_path, capsys, files):
    """The reader of forecast times whose offsets change told tune's user to 'pass --time-zone', a flag tune
    refused ('no such option'): tune passes it to each trial, as train and compare do, and best.yaml keeps it."""
    _, space, base = files
    data = _berlin_offsets_csv(tmp_path / "berlin.csv")
    common = ["tune", "forecast", "--data", data, "--target", "y", "--time", "time", "--config", base,
              "--space", space, "--epochs", "1", "--trials", "1", "--seed", "0"]
    code, _, err = run_cli([*common, "--time-zone", "Europe/Berlin", "--out", tmp_path / "zoned"], capsys)
    assert code == 0 and "--time-zone" not in err and "UTC offsets that change" not in err, err
    # the study's trials ran on Berlin's clock: its best settings train a run that reads the times so
    best = yaml.safe_load((tmp_path / "zoned" / "best.yaml").read_text())
    assert best["time_zone"] == "Europe/Berlin"
    # without the flag, the same study warns as before (the advice the flag answers)
    code, _, err = run_cli([*common, "--out", tmp_path / "plain"], capsys)
    assert code == 0 and "pass --time-zone with the zone they were written in" in err, err
    # once, as one 'warning:' line (a trial's was said again as Python prints optuna's, its file and line first)
    (said,) = [line for line in err.splitlines() if "UTC offsets that change" in line]
    assert said.startswith("warning: time column 'time' writes UTC offsets"), err


@pytest.mark.parametrize("args, needle", [
    (["lm", "--time-zone", "UTC"], "error: --time-zone is an option of tune forecast; tune lm does not read it — "
                                   "leave --time-zone out"),
    (["classify", "--time-zone", "Europe/Berlin"], "--time-zone is an option of tune forecast; tune classify"),
    (["lm", "--time", ""], "--time is an option of tune forecast and tune classify; tune lm"),   # given, if empty
    (["speech", "--target", "y"], "--target is an option of tune forecast; tune speech does not read it"),
    (["translate", "--time", "t"], "--time is an option of tune forecast and tune classify; tune translate"),
    (["forecast", "--target", "y", "--time", "time", "--time-zone", "Mars/Olympus"],
     "unknown time zone 'Mars/Olympus'"),
])
def test_tune_refuses_a_data_flag_it_cannot_use_before_any_trial(args, needle, tmp_path, capsys, files):
    """Another task's data flag failed as the estimator's parameter ("LanguageModel has no parameter 'target'");
    an unknown zone is refused before the study opens (no folder is left)."""
    from cli_helpers import assert_user_error
    data, _, _ = files
    out = tmp_path / "study"
    code, _, err = run_cli(["tune", args[0], "--data", data, *args[1:], "--trials", "1", "--out", out], capsys)
    assert_user_error(code, err, needle)
    assert not out.exists()
