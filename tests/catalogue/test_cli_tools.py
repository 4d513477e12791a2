"""Bad-input catalogue, the tool commands `lstmkit compare`, `tune`, `inspect` and `doctor`: one line,
the right exit code, nothing left behind (no compare folder, no study folder)."""
import json
import shutil
import subprocess
import sys

import pytest

from catalogue_helpers import check, fake_run, forecast_run, train_once
from cli_helpers import run_cli
from forecast_data import sine_frame

FAST = ["--hidden-size", "4", "--layers", "1", "--device", "cpu"]
COMPARE = ["compare", "--data", "{d}/sine.csv", "--target", "y", "--time", "time", "--models", "lstm",
           "--seeds", "1", "--epochs", "1", "--ensemble", "1", *FAST, "--out", "{out}"]
CLASSIFY = ["compare", "--task", "classify", "--data", "{d}/reviews.csv", "--models", "lstm", "--seeds", "1",
            "--epochs", "1", *FAST, "--out", "{out}"]
TUNE = ["tune", "forecast", "--data", "{d}/sine.csv", "--target", "y", "--time", "time", "--config", "{d}/base.yaml",
        "--space", "{d}/space.yaml", "--trials", "1", "--epochs", "1", "--out", "{out}"]
GATES = ["inspect", "gates", "--run", "{d}/lstm_run", "--data", "{d}/sine.csv"]


# search spaces with a value no trial can use (file name: its text, the error's words)
UNUSABLE_VALUES = {
    "bad_model": ("model: [lstm, bogus]\n", "'model' choice 'bogus' cannot be used: unknown model"),
    "bad_scaler": ("scaler: [standard, nope]\n", "'scaler' choice 'nope' cannot be used"),
    "zero_hidden": ("hidden_size: {type: int, low: 0, high: 8}\n", "'hidden_size' low 0 cannot be used"),
    "big_dropout": ("dropout: {type: float, low: 0.0, high: 1.5}\n", "'dropout' high 1.5 cannot be used"),
    "bad_precision": ("precision: [fp32, fp8]\n", "'precision' choice 'fp8' cannot be used"),
    "bad_device": ("device: [cpu, tpu]\n", "'device' choice 'tpu' cannot be used: unknown device"),
    "bad_strategy": ("strategy: [direct, nope]\n", "use one of: direct, recursive, seq2seq"),
}


def _replace(argv, flag, value):
    """``argv`` with ``flag``'s value replaced."""
    k = argv.index(flag)
    return [*argv[:k + 1], value, *argv[k + 2:]]


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("tools_data")
    sine_frame(n=120).to_csv(d / "sine.csv", index=False)
    sine_frame(n=10).to_csv(d / "short.csv", index=False)
    rows = [("good film", "pos"), ("bad film", "neg"), ("great plot", "pos"), ("awful acting", "neg")] * 10
    (d / "reviews.csv").write_text("text,label\n" + "".join(f"{t},{l}\n" for t, l in rows))
    (d / "a_file").write_text("x\n")
    (d / "base.yaml").write_text("num_layers: 1\nensemble: 1\ntrain:\n  device: cpu\n  doctor: false\n")
    (d / "no_device.yaml").write_text("num_layers: 1\nensemble: 1\ntrain:\n  doctor: false\n")
    (d / "fp8.yaml").write_text("num_layers: 1\nensemble: 1\ntrain:\n  device: cpu\n  precision: fp8\n")
    (d / "lookback_0.yaml").write_text("num_layers: 1\nensemble: 1\nlookback: 0\ntrain:\n  device: cpu\n")
    (d / "lookbak.yaml").write_text("num_layers: 1\nensemble: 1\nlookbak: 12\n")
    (d / "space.yaml").write_text("hidden_size: {type: int, low: 4, high: 8}\n")
    (d / "fixed_too.yaml").write_text("hidden_size: {type: int, low: 4, high: 8}\nnum_layers: [1, 2]\n")
    (d / "all_fixed.yaml").write_text("hidden_size: 8\nnum_layers: 1\ndropout: 0.1\nlookback: 24\nensemble: 1\n"
                                      "train:\n  lr: 0.01\n  batch_size: 32\n  device: cpu\n")
    (d / "misspelt_key.yaml").write_text("hidden_size: {type: int, low: 4, high: 8, lg: true}\n")
    (d / "step.yaml").write_text("hidden_size: {type: int, low: 4, high: 8, step: 2}\n")
    (d / "unknown_setting.yaml").write_text("hiden_size: {type: int, low: 4, high: 8}\n")
    (d / "loss_searched.yaml").write_text("loss: [mse, mae]\n")
    for name, (text, _) in UNUSABLE_VALUES.items():
        (d / f"{name}.yaml").write_text(text)
    (d / "other_task").mkdir()                                      # a study of another task in --out's study.db
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(study_name="forecast", storage=f"sqlite:///{d / 'other_task' / 'study.db'}").set_user_attr(
        "task", "lm")
    runs = d / "trained"
    lstm = forecast_run(d)                                         # writes d/sine.csv again, the same rows
    shutil.move(lstm, d / "lstm_run")
    shutil.move(train_once(["forecast", "train", "--data", "{d}/sine.csv", "--target", "y", "--time", "time",
                            "--lookback", "12", *FAST, "--epochs", "1", "--ensemble", "1", "--model", "tcn",
                            "--progress", "off", "--no-tensorboard", "--out", "{out}"], d, runs), d / "tcn_run")
    shutil.move(train_once(["classify", "train", "--data", "{d}/reviews.csv", "--embed-dim", "4", *FAST,
                            "--min-freq", "1", "--epochs", "1", "--progress", "off", "--no-tensorboard",
                            "--out", "{out}"], d, runs), d / "text_run")
    int8 = d / "int8_run"                  # `export int8`'s metadata is what the commands read of such a run
    shutil.copytree(d / "lstm_run", int8)
    meta = json.loads((int8 / "lstmkit.json").read_text())
    meta["quantization"] = {"dtype": "qint8", "engine": "torch", "source_run": str(d / "lstm_run")}
    (int8 / "lstmkit.json").write_text(json.dumps(meta))
    (int8 / "doctor.json").unlink()
    failure = {"error": "RuntimeError: boom", "type": "RuntimeError", "stage": "training", "epoch": 2,
               "checkpoint_epochs": 1}
    for name, status in (("training_run", "training"), ("interrupted_run", "interrupted"), ("failed_run", "failed")):
        run = d / name
        run.mkdir()
        (run / "lstmkit.json").write_text(json.dumps({"format_version": 1, "task": "forecast", "status": status,
                                                      **({"failure": failure} if status == "failed" else {})}))
    _interrupted_comparisons(d)
    no_report = fake_run(d)
    corrupt = d / "corrupt_report_run"
    shutil.copytree(no_report, corrupt)
    (corrupt / "doctor.json").write_text("{findings: ")
    return d


def _interrupted_comparisons(d):
    """Folders `compare --resume` is given: an interrupted comparison's trials.json, read from other data or
    damaged, a finished one's."""
    from lstmkit.runs import file_sha256
    plan = {"task": "forecast", "models": ["lstm"], "seeds": 2, "epochs": 1, "seed": 42, "warmup": False}
    sine = {"path": str(d / "sine.csv"), "sha256": file_sha256(d / "sine.csv")}
    records = {"changed_data": {"data": {**sine, "sha256": "0" * 64}},
               "gone_data": {"data": {"path": str(d / "gone.csv")}},
               "memory_data": {"data": {"memory": "0" * 64, "kind": "DataFrame"}}}
    for name, given in records.items():
        (d / name).mkdir()
        (d / name / "trials.json").write_text(json.dumps({"state": "running", "plan": plan, "given": given,
                                                          "trials": [], "failed": {}}))
    (d / "finished").mkdir()
    (d / "finished" / "trials.json").write_text(json.dumps({"settings": {"task": "forecast"}, "trials": []}))
    (d / "torn").mkdir()
    (d / "torn" / "trials.json").write_text('{"state": "running", "plan": {"ta')
    (d / "foreign").mkdir()
    (d / "foreign" / "trials.json").write_text('[1, 2]')


CASES = [
    # compare --resume: a folder that holds no interrupted comparison, or whose data changed
    (["compare", "--resume", "{d}/a_file"], 2, "a_file is not a folder"),
    (["compare", "--resume", "{d}/nowhere"], 2, "nowhere does not exist"),
    (["compare", "--resume", "{d}/other_task"], 2, "holds no trials.json: it is not a comparison's folder"),
    (["compare", "--resume", "{d}/finished"], 2, "has finished: its table is"),
    (["compare", "--resume", "{d}/torn"], 2, "cannot be read as JSON"),
    (["compare", "--resume", "{d}/foreign"], 2, "is not the record of an interrupted comparison"),
    (["compare", "--resume", "{d}/changed_data"], 2, "holds other contents than when the comparison in"),
    (["compare", "--resume", "{d}/gone_data"], 2, "gone.csv, data of the comparison in"),
    (["compare", "--resume", "{d}/memory_data"], 2, "was given data in memory (a DataFrame), which is not saved"),
    (["compare", "--resume", "{d}/changed_data", "--seeds", "3"], 2, "--seeds with --resume: a resumed comparison"),
    # compare
    (_replace(COMPARE, "--models", "lstm,bogus"), 2, "unknown model: bogus"),
    (_replace(COMPARE, "--models", " , "), 2, "no models given"),
    # an empty item was dropped: lstm and gru trained, the model typed as a second comma missing without a word
    (_replace(COMPARE, "--models", "lstm,,gru"), 2, "--models 'lstm,,gru' has an empty item"),
    (_replace(COMPARE, "--seeds", "0"), 2, "`seeds` must be a positive integer"),
    (_replace(COMPARE, "--epochs", "-1"), 2, "`epochs` must be a positive integer"),
    ([*COMPARE, "--task", "juggling"], 2, "unknown task 'juggling' for compare"),
    (_replace(COMPARE, "--out", "{d}/a_file"), 2, "is a file, not a folder"),
    (_replace(COMPARE, "--data", "{d}/nope.csv"), 2, "file not found"),
    ([*COMPARE, "--threads", "0"], 2, "`threads` must be at least 1"),
    (["compare", "--models", "lstm", "--out", "{out}"], 2, "no data given"),
    # a missing column failed each model's trial in turn, after the warm-up had trained
    (_replace(COMPARE, "--target", "nope"), 2, "target column 'nope' not found"),
    # another task's option: "Forecaster has no parameter 'text'", "LanguageModel has no parameter 'series' —
    # did you mean 'seed'?", "TextClassifier has no parameter 'lookback' — its parameters: (40 names)"
    ([*COMPARE, "--text", "review"], 2, "--text is an option of --task classify; --task forecast does not read it"),
    (_replace([*CLASSIFY, "--series"], "--task", "lm"), 2, "--series is an option of --task classify"),
    ([*CLASSIFY, "--lookback", "5"], 2, "--lookback is an option of --task forecast; --task classify"),
    (_replace(CLASSIFY, "--data", "{d}/sine.csv"), 2, "text column 'text' not found"),
    # tune
    (_replace(TUNE, "--trials", "0"), 2, "`trials` must be a positive integer"),
    (["tune", "juggling", "--data", "{d}/sine.csv", "--out", "{out}"], 2, "tuning is not available for task"),
    ([*TUNE, "--timeout", "0"], 2, "cannot read timeout"),
    ([*TUNE, "--progress", "loud"], 2, "unknown progress display 'loud' — use one of: auto, bar, log, off"),
    # the trainer's refusal said 'pass --max-epochs 1 or more', a flag tune does not have
    (_replace(TUNE, "--epochs", "0"), 2, "--epochs must be a positive integer, got 0 — pass --epochs 20, say"),
    (_replace(TUNE, "--data", "{d}/nope.csv"), 2, "not found"),
    (_replace(TUNE, "--space", "{d}/unknown_setting.yaml"), 2, "search space: unknown setting 'hiden_size'"),
    # an entry's unknown keys were dropped without a word: `lg: true` searched linearly, `step: 2` every size
    (_replace(TUNE, "--space", "{d}/misspelt_key.yaml"), 2, "'hidden_size' has an unknown key 'lg'"),
    (_replace(TUNE, "--space", "{d}/step.yaml"), 2, "list the values instead"),
    # a setting fixed in --config and drawn by --space: the drawn value won, the fixed one was ignored
    (_replace(TUNE, "--space", "{d}/fixed_too.yaml"), 2, "num_layers (1) is both fixed (--config, --epochs or --device) and searched"),
    # --config fixing every setting of the default space (each was drawn anyway)
    ([*TUNE[:TUNE.index("--config")], "--config", "{d}/all_fixed.yaml", "--trials", "1", "--out", "{out}"], 2,
     "the fixed settings set every setting the default search space draws"),
    # a setting the validation loss rests on, searched: trials ranked by losses that do not compare (MAE under MSE)
    (_replace(TUNE, "--space", "{d}/loss_searched.yaml"), 2, "search space: 'loss' changes the loss the validation loss is"),
    # a missing --space file said "config file not found — check the --config path"
    (_replace(TUNE, "--space", "{d}/nope.yaml"), 2, "search space file not found"),
    (_replace(TUNE, "--space", "{d}"), 2, "is a folder, not a search space file — pass the YAML file inside it"),
    # trainer settings every trial shares: each trial failed with optuna's traceback, then 'no trial completed'
    # and a study of failures in --out
    ([*TUNE, "--device", "tpu"], 2, "unknown device 'tpu'"),
    (_replace(TUNE, "--config", "{d}/fp8.yaml"), 2, "unknown precision 'fp8' ('precision:' in "),
    # a value of the --config file refused as a flag tune does not have: '— pass --lookback 1 or more'
    (_replace(TUNE, "--config", "{d}/lookback_0.yaml"), 2, "lookback_0.yaml or more"),
    (_replace(TUNE, "--config", "{d}/lookbak.yaml"), 2, "lookbak.yaml: unknown setting 'lookbak' — did you mean "
     "'lookback'?"),
    (_replace(TUNE, "--out", "{d}/other_task"), 2, "tunes lm, not forecast"),
    # a choice or a range end no trial can use failed trial by trial, each with its line, and left a study of
    # failed trials (and a best.yaml from the trials that drew the good values) behind
    # (over a config that fixes no device: a space may not draw a setting the config fixes)
    *[(_replace(_replace(TUNE, "--space", f"{{d}}/{name}.yaml"), "--config", "{d}/no_device.yaml"), 2, needle)
      for name, (_, needle) in UNUSABLE_VALUES.items()],
    # inspect
    (_replace(GATES, "--run", "{d}/tcn_run"), 2, "the model (tcn) has no LSTM or GRU layer"),
    (["inspect", "attention", "--run", "{d}/lstm_run", "--data", "{d}/sine.csv"], 2, "has no self-attention layer"),
    # an int8 run said "the model (lstm) has no LSTM layer — train an LSTM-based model"
    (_replace(GATES, "--run", "{d}/int8_run"), 2, "is an int8 run (`lstmkit export int8`)"),
    (["inspect", "attention", "--run", "{d}/int8_run", "--data", "{d}/sine.csv"], 2, "inspect the float run"),
    # words the vocabulary lacks: the gates of <unk>, <unk>, ... plotted under the words as written
    (["inspect", "gates", "--run", "{d}/text_run", "--text", "zzz qqq"], 2, "none of the tokens of --text"),
    (["inspect", "gates", "--run", "{d}/text_run", "--text", "  "], 2, "the text is empty"),
    (["inspect", "gates", "--run", "{d}/text_run", "--data", "{d}/reviews.csv"], 2, "--data windows are a forecast"),
    (_replace(GATES, "--data", "{d}/reviews.csv"), 2, "target column 'y' not found"),
    (_replace(GATES, "--data", "{d}/short.csv"), 2, "fewer than the lookback"),
    ([*GATES, "--window", "500"], 2, "--window 500 is out of range"),
    ([*GATES, "--top", "0"], 2, "--top must be at least 1"),
    ([*GATES, "--text", "good"], 2, "pass one of --data and --text"),
    (GATES[:4], 2, "pass either --data"),
    # a study's folder (its study.db): it said only 'not an lstmkit run folder'
    (_replace(GATES, "--run", "{d}/other_task"), 2, "other_task is a tune study's folder, not a run folder (no "
     "lstmkit.json): a study keeps its trials' scores, not their models — let its search finish (it writes "),
    (_replace(GATES, "--run", "{d}/nope"), 2, "run folder not found"),
    (["inspect", "confusion", "--run", "{d}/text_run"], 2, "no such command 'confusion'"),
    # doctor
    (["doctor", "{d}/other_task"], 2, "other_task/best.yaml), train those settings, then pass that run's folder"),
    (["doctor", "{d}/a_file"], 2, "is a file"),
    (["doctor"], 2, "no run given"),
    (["doctor", "{d}/forecast_run"], 2, "has no doctor.json: it was trained with the doctor off"),
    # a run left 'training' whose process is gone (kill -9: no process holds its lock) said 'still training'
    (["doctor", "{d}/training_run"], 2, "has no doctor.json: its training process is gone (killed, or its machine stopped)"),
    (["doctor", "{d}/failed_run"], 2, "has no doctor.json: its training failed in epoch 2: RuntimeError: boom"),
    (["list", "{d}/nope"], 2, "runs folder not found"),
    (["list", "{d}/a_file"], 2, "runs folder is a file, not a folder"),
    (["list", "{d}", "--sort", "best"], 2, "--sort must be name or metric, got 'best'"),
    # an interrupted run without a report was "trained with the doctor off" (train again without --no-doctor)
    (["doctor", "{d}/interrupted_run"], 2, "its training was interrupted"),
    (["doctor", "{d}/int8_run"], 2, "is an int8 run"),
    (["doctor", "{d}/corrupt_report_run"], 2, "is corrupt"),
]


@pytest.mark.parametrize("argv, code, needle", CASES, ids=[f"{k}:{c[2]}" for k, c in enumerate(CASES)])
def test_tools_bad_input(argv, code, needle, d, tmp_path, capsys):
    check(argv, code, needle, tmp_path, capsys, d)


def test_a_missing_column_stops_compare_before_any_model_trains(d, tmp_path, capsys):
    """It printed 'lstm seed 42: failed, so its other seeds are skipped' for each model, after the warm-up."""
    code, out, err = run_cli([a.format(d=d, out=tmp_path) for a in _replace(COMPARE, "--target", "nope")], capsys)
    assert code == 2 and out == "" and "target column 'nope' not found" in err


def test_a_trial_an_error_fails_is_one_stdout_line_and_no_traceback(d, tmp_path):
    """Optuna logged two warnings and a traceback on stderr for every trial an LstmkitError failed
    (a lookback too long for the data); the trial's own line says why. In a process of its own: optuna's
    log handler writes to the stderr it found, which capsys does not replace."""
    (tmp_path / "long.yaml").write_text("lookback: [300]\n")
    argv = _replace(_replace(TUNE, "--space", str(tmp_path / "long.yaml")), "--trials", "2")
    proc = subprocess.run([sys.executable, "-m", "lstmkit", *[a.format(d=d, out=tmp_path / "study") for a in argv]],
                          capture_output=True, text=True)
    err = proc.stderr
    lines = err.strip().splitlines()              # the trials' progress lines, then the error
    assert proc.returncode == 2 and "no trial completed" in lines[-1] and "Traceback" not in err, err
    assert [line for line in lines[:-1] if not line.startswith(("trial ", "not searched"))] == [], err
    assert err.count("failed: series too short") == 2 and proc.stdout == ""


def test_a_study_already_complete_says_that_nothing_ran(d, tmp_path, capsys):
    """The same command again printed the old best as if it had searched."""
    argv = [a.format(d=d, out=tmp_path / "study") for a in TUNE]
    assert run_cli(argv, capsys)[0] == 0
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    assert "already holds 1 trial (--trials 1 counts the whole study): none run now" in err and "trial 0:" not in err
