"""Ctrl-C in every phase of a forecaster's training after the first epoch: the run folder is left
marked ``interrupted`` with its checkpoint (never ``finished`` before every file is written), and
its resume ends with the same weights and metrics as a run never interrupted."""
import json
import shutil

import numpy as np
import pytest

from cli_helpers import run_cli
from forecast_data import FAST, sine_frame
from interrupt_helpers import CtrlCAfterTheLastEpoch, ctrl_c_on_call, half_written
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.train import TrainingInterrupted

TINY = {**FAST, "lookback": 12, "hidden_size": 8, "max_epochs": 2, "target": "y", "time": "time",
        "combine": "ets"}           # the combination with ETS is chosen on validation after training


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("interrupt") / "sine.csv"
    sine_frame(n=240)[["time", "y"]].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def straight(data, tmp_path_factory):
    """The run never interrupted."""
    return Forecaster(**TINY).fit(str(data), run_dir=tmp_path_factory.mktemp("straight") / "run").run_dir_


# each phase after the first epoch, as (where Ctrl-C lands, which call of it, which calls count)
PHASES = {
    "validation": ("lstmkit.train.trainer:Trainer._evaluate", 2, None),
    "checkpoint": ("lstmkit.train.resume:save_checkpoint", 2, None),
    "choosing the combination": ("lstmkit.tasks.forecast.pipeline:choose_combination", 1, None),
    "test scoring": ("lstmkit.tasks.forecast.pipeline:panel_metrics", 1, None),
    "ETS baseline": ("lstmkit.tasks.forecast.evaluation:ets_forecast", 1, None),
    "plots": ("lstmkit.tasks.forecast.pipeline:panel_plots", 1, None),
    "per-series table": ("lstmkit.tasks._base:atomic_write", 1, lambda path, *a: path.name.startswith("metrics_per_")),
    "model.safetensors": ("lstmkit.tasks._base:save_tensors", 1, None),
    "metrics.json": ("lstmkit.tasks._base:write_json", 1, lambda path, obj: path.name == "metrics.json"),
    "lstmkit.json finished": ("lstmkit.tasks._base:write_json", 1,
                              lambda path, obj: obj.get("status") == "finished" if isinstance(obj, dict) else False),
}


def _files_match(run, straight):
    assert (run / "model.safetensors").read_bytes() == (straight / "model.safetensors").read_bytes()
    got, want = (json.loads((r / "metrics.json").read_text()) for r in (run, straight))
    assert got.keys() == want.keys()
    for model, scores in want["metrics"].items():
        np.testing.assert_allclose([got["metrics"][model][k] for k in scores], list(scores.values()), rtol=1e-6)


@pytest.mark.parametrize("phase", [*PHASES, "restoring the best weights"])
def test_ctrl_c_in_every_phase_leaves_a_run_whose_resume_ends_as_an_uninterrupted_run(
        phase, data, straight, tmp_path, monkeypatch):
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        callbacks = []
        if phase in PHASES:
            target, nth, when = PHASES[phase]
            calls = ctrl_c_on_call(m, target, nth, when)
        else:
            callbacks, calls = [CtrlCAfterTheLastEpoch()], [1]
        with pytest.raises(TrainingInterrupted) as e:
            Forecaster(**TINY).fit(str(data), run_dir=run, callbacks=callbacks)
        assert calls, f"Ctrl-C never landed in {phase}"
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["status"] == "interrupted" and e.value.run_dir == run
    assert e.value.epoch == (1 if phase in ("validation", "checkpoint") else 2)
    assert (run / "checkpoints" / "last.safetensors").is_file()
    assert not half_written(run)      # no half-written file left
    Forecaster.resume(run)
    assert json.loads((run / "lstmkit.json").read_text())["status"] == "finished"
    _files_match(run, straight)


def test_ctrl_c_while_scoring_the_test_part_says_how_to_resume(data, tmp_path, monkeypatch, capsys):
    """The command's one line names --resume RUN, exit 130, no traceback."""
    ctrl_c_on_call(monkeypatch, "lstmkit.tasks.forecast.pipeline:panel_metrics")
    run = tmp_path / "runs"
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items() if not isinstance(v, bool)]
    code, _, err = run_cli(["forecast", "train", "--data", data, "--out", run, *flags,
                            "--no-tensorboard"], capsys)
    (folder,) = run.iterdir()
    assert code == 130 and "Traceback" not in err
    assert err.strip().splitlines() == [f"interrupted after epoch 2; checkpoint saved. Continue with: "
                                        f"lstmkit forecast train --resume {folder}"]


def test_a_loaded_run_keeps_the_baseline_its_call_named(straight):
    """``combine='ets'`` named by the call: its weight is chosen on validation, the baseline is the
    call's own, which a loaded model's settings (and so a resume, a clone, a refit) keep."""
    est = Forecaster.load(straight)
    assert est.get_params()["combine"] == "ets" and est.auto_["combine"]["given"] is True


GIVEN_AS_TEXT = {"quantiles": "0.1,0.5,0.9", "bounds": (0, None), "calendar": "hour", "time_zone": "utc"}


@pytest.fixture(scope="module")
def interrupted_with_text_settings(data, tmp_path_factory):
    """A run interrupted after its first epoch, fitted with settings given in the forms a fit
    normalises (comma-separated text, a tuple of bounds), which its lstmkit.json records as lists."""
    run = tmp_path_factory.mktemp("text-settings") / "run"
    settings = {**FAST, "lookback": 12, "hidden_size": 8, "max_epochs": 2, "ets": False, **GIVEN_AS_TEXT}
    with pytest.raises(TrainingInterrupted):
        Forecaster(**settings).fit(str(data), target="y", time="time", run_dir=run,
                                   callbacks=[CtrlCAfterTheLastEpoch()])
    return run


@pytest.mark.parametrize("key", GIVEN_AS_TEXT)
def test_resume_takes_a_setting_given_as_the_fit_was_given_it(key, interrupted_with_text_settings, tmp_path):
    """``resume(RUN, quantiles="0.1,0.5,0.9")`` for a run fitted with that text resumes: the value is
    compared as the run records it (it was refused, 'trained with quantiles=[0.1, 0.5, 0.9], not
    '0.1,0.5,0.9''); a value that differs is still refused."""
    run = tmp_path / "run"
    shutil.copytree(interrupted_with_text_settings, run)
    with pytest.raises(LstmkitError, match=r"trained with quantiles=\[0.1, 0.5, 0.9\], not \[0.1, 0.9\]"):
        Forecaster.resume(run, quantiles="0.1,0.9")
    Forecaster.resume(run, **{key: GIVEN_AS_TEXT[key]})
    assert json.loads((run / "lstmkit.json").read_text())["status"] == "finished"


def test_resume_names_a_keyword_it_does_not_take(interrupted_with_text_settings):
    """An unknown keyword was 'unknown setting 'val' — check the spelling', naming neither a close name
    nor what resume takes."""
    with pytest.raises(LstmkitError, match=r"^Forecaster.resume\(\) has no parameter 'lookbak' — did you mean "
                                           r"'lookback'\?$"):
        Forecaster.resume(interrupted_with_text_settings, lookbak=12)
    with pytest.raises(LstmkitError, match=r"^Forecaster.resume\(\) has no parameter 'val' — it takes data= and the "
                                           r"settings the run recorded"):
        Forecaster.resume(interrupted_with_text_settings, val="v.csv")


@pytest.mark.parametrize("zone", ["UTC", "+00:00"])
def test_resume_takes_the_runs_zone_however_it_is_written(zone, interrupted_with_text_settings, tmp_path):
    """A run fitted with ``time_zone='utc'`` resumes given 'UTC' or '+00:00', one zone to pandas (it was
    refused, 'trained with time_zone='utc', not 'UTC''); another zone is still refused."""
    run = tmp_path / "run"
    shutil.copytree(interrupted_with_text_settings, run)
    with pytest.raises(LstmkitError, match=r"trained with time_zone='utc', not 'Europe/Berlin'"):
        Forecaster.resume(run, time_zone="Europe/Berlin")
    Forecaster.resume(run, time_zone=zone)
    assert json.loads((run / "lstmkit.json").read_text())["status"] == "finished"
