"""``fit(data, run_dir=RUN, resume=True)``, the Python way to continue an interrupted run: it
continues RUN only with the settings RUN recorded (the checkpoint is for that training), never a
finished run, and it needs the folder it continues."""
import numpy as np
import pytest

import lstmkit
from lstmkit.errors import LstmkitError, TrainingInterrupted
from lstmkit.runs import read_meta
from lstmkit.train.callbacks import Callback
from one_thread import one_thread_per_package  # noqa: F401  (autouse: one torch thread)

QUICK = dict(hidden_size=8, max_epochs=3, progress="off", tensorboard=False, doctor=False, seed=0)
TEXTS = [f"the film {i} was {'good great fine bad awful poor'.split()[i % 6]}" for i in range(40)]
DATA = {
    "Forecaster": ((np.sin(np.arange(80) / 4),), {}),
    "TextClassifier": ((TEXTS, ["pos" if i % 6 < 3 else "neg" for i in range(40)]), {"min_freq": 1}),
    "LanguageModel": ((["the red dog runs", "the big cat sits"] * 15,), {}),
}


class _CtrlCAfterEpoch1(Callback):
    def on_epoch_end(self, trainer, logs) -> None:
        raise KeyboardInterrupt


def _interrupted(name, tmp_path):
    args, extra = DATA[name]
    est = getattr(lstmkit, name)(**QUICK, **extra)
    with pytest.raises(TrainingInterrupted):
        est.fit(*args, out=tmp_path / "runs", callbacks=[_CtrlCAfterEpoch1()])
    return est.run_dir_


@pytest.mark.parametrize("name", list(DATA))
def test_resume_with_other_settings_is_refused_and_the_same_settings_continue(name, tmp_path):
    """lr, max_epochs or batch_size other than the run's were taken silently: the checkpoint's
    optimizer kept the old learning rate while lstmkit.json recorded the new one."""
    run = _interrupted(name, tmp_path)
    args, extra = DATA[name]
    before = (run / "lstmkit.json").read_bytes()
    for other in ({"lr": 0.5}, {"max_epochs": 5}, {"batch_size": 3}):
        (key,) = other
        with pytest.raises(LstmkitError, match=f"was trained with {key}="):
            getattr(lstmkit, name)(**{**QUICK, **extra, **other}).fit(*args, run_dir=run, resume=True)
        assert (run / "lstmkit.json").read_bytes() == before
    est = getattr(lstmkit, name)(**{**QUICK, **extra, "progress": "log"}).fit(*args, run_dir=run, resume=True)
    assert est.result_.epochs_run == 3 and read_meta(run)["status"] == "finished"
    with pytest.raises(LstmkitError, match="already finished"):
        getattr(lstmkit, name)(**QUICK, **extra).fit(*args, run_dir=run, resume=True)


def test_resume_needs_the_folder_of_the_run(tmp_path):
    """Without run_dir it was a ValueError; with out= a new empty folder, then 'not an lstmkit run folder'."""
    (y,), _ = DATA["Forecaster"]
    for where in ({}, {"out": tmp_path}):
        with pytest.raises(LstmkitError, match="run_dir"):
            lstmkit.Forecaster(**QUICK).fit(y, resume=True, **where)
    assert list(tmp_path.iterdir()) == []


def test_a_forecast_interrupted_while_scoring_resumes(monkeypatch, tmp_path):
    """Ctrl-C after the combination was chosen recorded it (combine='ets'), which the resumed fit
    chooses again: not a setting of its own."""
    import lstmkit.tasks.forecast.pipeline as pipeline
    y = np.sin(np.arange(200) / 4) + np.arange(200) * 0.01
    scores = pipeline.panel_metrics

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "panel_metrics", ctrl_c)
    est = lstmkit.Forecaster(**{**QUICK, "max_epochs": 2})
    with pytest.raises(TrainingInterrupted):
        est.fit(y, out=tmp_path)
    assert read_meta(est.run_dir_)["config"]["combine"] not in (None, "none")
    monkeypatch.setattr(pipeline, "panel_metrics", scores)
    assert lstmkit.Forecaster.resume(est.run_dir_, data=y).result_.epochs_run == 2
