"""The shared train command's checks before anything is read (lstmkit.cli_train), on run folders and
YAML files written by hand: a resume flag that differs from the run's settings, a --config key that names
no setting."""
import json
import types

import pytest

from cli_helpers import assert_user_error, run_cli
from lstmkit.cli_train import check_config_keys, check_resume_flags
from lstmkit.errors import LstmkitError
from lstmkit.runs import FORMAT_VERSION, META_FILE
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.version import __version__


def _run(folder, status="interrupted"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / META_FILE).write_text(json.dumps({
        "format_version": FORMAT_VERSION, "task": "forecast", "status": status, "lstmkit_version": __version__,
        "config": {"hidden_size": 32, "train": {"lr": 0.01, "max_epochs": 5}}}))
    return folder


def test_a_resume_flag_equal_to_the_runs_setting_is_fine_and_one_that_differs_is_refused(tmp_path):
    run = _run(tmp_path / "run")
    assert check_resume_flags(run, {"hidden_size": 32, "train": {"lr": 0.01}}) == {}
    with pytest.raises(LstmkitError) as e:
        check_resume_flags(run, {"train": {"lr": 0.1}})
    assert str(e.value).startswith(f"{run} was trained with lr=0.01;") and "--lr 0.1" in str(e.value)
    with pytest.raises(LstmkitError, match="was trained with dropout=None"):      # a setting it never recorded
        check_resume_flags(run, {"dropout": 0.2})


def test_a_resume_passes_on_where_the_start_is_now_and_how_it_shows(tmp_path):
    run = _run(tmp_path / "run")
    flags = {"init_from": tmp_path / "moved", "train": {"progress": "log", "device": "cpu"}, "hidden_size": 32}
    assert check_resume_flags(run, flags) == {"init_from": str(tmp_path / "moved"), "progress": "log",
                                               "device": "cpu"}


@pytest.mark.parametrize("status", ["finished", None])
def test_a_finished_or_missing_run_is_left_to_the_resume_to_refuse(tmp_path, status):
    run = _run(tmp_path / "run", status) if status else tmp_path / "nothere"
    assert check_resume_flags(run, {"train": {"lr": 0.5, "progress": "off"}}) == {"progress": "off"}


class _Forecaster:
    TASK = "forecast"

    @staticmethod
    def parameter_names():
        return ["seed"]


def test_a_config_key_that_names_no_setting_is_refused_with_the_closest_name(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("hidden_size: 16\nseed: 1\ndata: x.csv\ntrain:\n  lr: 0.01\n")
    check_config_keys(good, ForecastConfig, _Forecaster, {"data": "help"})
    typo = tmp_path / "typo.yaml"
    typo.write_text("train:\n  lrr: 0.01\n")
    with pytest.raises(LstmkitError) as e:
        check_config_keys(typo, ForecastConfig, _Forecaster, {"data": "help"})
    assert e.value.message == f"{typo}: unknown setting 'lrr'" and e.value.hint == "did you mean 'lr'?"
    far = tmp_path / "far.yaml"
    far.write_text("zzzzzz: 1\n")
    with pytest.raises(LstmkitError) as e:
        check_config_keys(far, ForecastConfig, _Forecaster, {"data": "help"})
    assert e.value.hint.startswith("the settings: ") and "hidden_size" in e.value.hint


def test_a_config_that_is_another_tasks_run_is_refused(tmp_path):
    run = _run(tmp_path / "run")
    lm = types.SimpleNamespace(TASK="lm", parameter_names=lambda: [])
    with pytest.raises(LstmkitError, match=f"--config {run} is a forecast run: its settings are not lm's"):
        check_config_keys(run, ForecastConfig, lm, {})


# -- the train command's own checks, before any data is read -----------------------------------------------------------
def test_train_without_its_data_file_is_the_tasks_error_and_exit_2(capsys, tmp_path):
    code, _, err = run_cli(["lm", "train", "--out", tmp_path], capsys)
    assert_user_error(code, err, "no training text given", "--data corpus.txt")


def test_a_validation_file_and_val_frac_together_are_refused(capsys, tmp_path):
    code, _, err = run_cli(["lm", "train", "--data", tmp_path / "a.txt", "--val", tmp_path / "b.txt",
                            "--val-frac", "0.2", "--out", tmp_path], capsys)
    assert_user_error(code, err, "--val-frac applies without a validation file", f"--val {tmp_path / 'b.txt'}")


def test_a_resume_takes_neither_config_nor_another_out(capsys, tmp_path):
    run = _run(tmp_path / "runs" / "run")
    (tmp_path / "c.yaml").write_text("hidden_size: 8\n")
    code, _, err = run_cli(["forecast", "train", "--resume", run, "--config", tmp_path / "c.yaml"], capsys)
    assert_user_error(code, err, "--config does not apply with --resume")
    code, _, err = run_cli(["forecast", "train", "--resume", run, "--out", tmp_path / "elsewhere"], capsys)
    assert_user_error(code, err, "--out does not apply with --resume", str(tmp_path / "elsewhere"))


def test_a_resume_takes_its_own_out_and_leaves_a_missing_run_to_the_resume(capsys, tmp_path):
    """The run's own folder as --out (or none) is where it is continued: no --out error; a --resume that names no
    run gets resume's own error, not one about --out. The hand-made run has no data recorded: the resume asks for it."""
    run = _run(tmp_path / "runs" / "run")
    for out in (["--out", tmp_path / "runs"], []):
        code, _, err = run_cli(["forecast", "train", "--resume", run, *out], capsys)
        assert_user_error(code, err, f"{run} was trained on in-memory data", "--data")
    code, _, err = run_cli(["forecast", "train", "--resume", tmp_path / "nothere", "--out", tmp_path / "elsewhere"],
                           capsys)
    assert_user_error(code, err, f"run folder not found: {tmp_path / 'nothere'}")


def test_val_frac_alone_is_taken_and_the_data_file_is_looked_for(capsys, tmp_path):
    """Without a validation file --val-frac is the validation share: the checks pass and the fit looks for --data."""
    missing = tmp_path / "nothere.txt"
    code, _, err = run_cli(["lm", "train", "--data", missing, "--val-frac", "0.2", "--out", tmp_path], capsys)
    assert_user_error(code, err, f"file not found: {missing}", "--data")


def test_a_setting_the_config_file_gave_is_refused_naming_the_file(capsys, tmp_path):
    (tmp_path / "a.txt").write_text("the cat sat\n")
    (tmp_path / "c.yaml").write_text("hidden_size: -1\n")
    code, _, err = run_cli(["lm", "train", "--config", tmp_path / "c.yaml", "--data", tmp_path / "a.txt",
                            "--out", tmp_path], capsys)
    assert_user_error(code, err, "`hidden_size` must be a positive integer, got -1", f"in {tmp_path / 'c.yaml'}")
    assert "--hidden-size" not in err
    (tmp_path / "d.yaml").write_text("hidden_size: 8\n")                  # the flag given over the file's: the flag
    code, _, err = run_cli(["lm", "train", "--config", tmp_path / "d.yaml", "--hidden-size", "-1", "--data",
                            tmp_path / "a.txt", "--out", tmp_path], capsys)
    assert_user_error(code, err, "`hidden_size` must be a positive integer, got -1", "--hidden-size")
    assert "d.yaml" not in err
