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
from translate_data import make_pairs

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


@pytest.mark.parametrize("name", ["TextClassifier", "LanguageModel"])
def test_resume_changes_how_the_run_shows_not_what_it_learns(name, tmp_path):
    """resume() took no progress=, tensorboard=, doctor= (Forecaster.resume alone did): a run begun
    quiet could not be watched when resumed, nor a run begun at a terminal be resumed in a log file."""
    run = _interrupted(name, tmp_path)
    before = read_meta(run)["config"]
    (data, *labels), _ = DATA[name]
    est = getattr(lstmkit, name).resume(run, data, progress="log", doctor=True, **({"y": labels[0]} if labels else {}))
    assert est.result_.epochs_run == 3 and (run / "doctor.json").exists()
    after = read_meta(run)
    assert after["status"] == "finished" and (after["config"]["train"]["progress"], after["config"]["train"]["doctor"]) \
        == ("log", True)
    assert {**after["config"], "train": {**after["config"]["train"], "progress": "off", "doctor": False}} == before


def test_a_run_begun_by_another_version_warns_at_the_callers_line(tmp_path):
    """The warning that another version began the run named a line of lstmkit's own (stacklevel 3
    from deep inside fit), not the user's fit() or resume() that continued it."""
    import json
    run = _interrupted("Forecaster", tmp_path)
    (y,), _ = DATA["Forecaster"]
    meta = json.loads((run / "lstmkit.json").read_text())
    (run / "lstmkit.json").write_text(json.dumps({**meta, "lstmkit_version": "0.0.1"}))
    with pytest.warns(UserWarning, match="trained so far by lstmkit 0.0.1") as said:
        lstmkit.Forecaster(**QUICK).fit(y, run_dir=run, resume=True)
    (said,) = [w for w in said if "trained so far" in str(w.message)]
    assert said.filename == __file__
    assert read_meta(run)["started_lstmkit_version"] == "0.0.1"


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


def _series(n=24, t=30, seed=0):
    rng = np.random.default_rng(seed)
    y = np.array(["up", "down"] * (n // 2))
    X = rng.normal(size=(n, t)) + np.where(y == "up", 1.0, -1.0)[:, None] * np.linspace(0, 1, t)
    return X, y


def _frame():
    import pandas as pd
    return pd.DataFrame({"y": np.sin(np.arange(80) / 4), "x": np.cos(np.arange(80) / 5)})


def _changed_frame():
    df = _frame()
    df.loc[40, "x"] += 0.5                  # one cell of a feature
    return df


X_SERIES, Y_SERIES = _series()
X_OTHER = X_SERIES.copy()
X_OTHER[3, 7] += 1.0
PAIRS = make_pairs(30)
# estimator, its extra settings, the fit's data, the same data changed in one value, and fit keywords
IN_MEMORY = {
    "forecast array": ("Forecaster", {}, (np.sin(np.arange(80) / 4),), (np.r_[np.sin(np.arange(79) / 4), 0.5],), {}),
    "forecast frame": ("Forecaster", {"target": "y"}, (_frame(),), (_changed_frame(),), {}),
    "text list": ("TextClassifier", {"min_freq": 1}, DATA["TextClassifier"][0],
                  (DATA["TextClassifier"][0][0][:-1] + ["the film was dull"], DATA["TextClassifier"][0][1]), {}),
    "series arrays": ("SequenceClassifier", {}, (X_SERIES, Y_SERIES), (X_OTHER, Y_SERIES), {}),
    "lm lines": ("LanguageModel", {}, DATA["LanguageModel"][0], (["the red dog runs", "the big cat runs"] * 15,), {}),
    "translate pairs": ("Translator", {"min_freq": 1, "beam": 1}, (), (), {"data": PAIRS}),
}


@pytest.mark.parametrize("case", list(IN_MEMORY))
def test_resume_refuses_other_data_given_in_memory(case, tmp_path):
    """Only a file's hash was checked: a DataFrame, array or list that differed from the one the
    run started on resumed silently, continuing the checkpoint on other data."""
    name, extra, args, other, kw = IN_MEMORY[case]
    other_kw = {"data": PAIRS[:-1] + [("the red cat .", "der rot Katze .")]} if kw else {}   # translate
    est = getattr(lstmkit, name)(**QUICK, **extra)
    with pytest.raises(TrainingInterrupted):
        est.fit(*args, **kw, out=tmp_path / "runs", callbacks=[_CtrlCAfterEpoch1()])
    run = est.run_dir_
    with pytest.raises(LstmkitError, match=r"the data changed since .* given as data is not the one it trained on"):
        getattr(lstmkit, name)(**QUICK, **extra).fit(*other, **other_kw, run_dir=run, resume=True)
    assert len(read_meta(run)["data"]["memory_sha256"]["data"]) == 64
    assert read_meta(run)["status"] == "interrupted"
    fitted = getattr(lstmkit, name)(**QUICK, **extra).fit(*args, **kw, run_dir=run, resume=True)
    assert fitted.result_.epochs_run == 3 and read_meta(run)["status"] == "finished"


def test_a_frame_whose_index_alone_changed_resumes(tmp_path):
    """The rows a filter left (index 20-99), given again after ``reset_index(drop=True)``: the values the
    model reads are the same, and the resume continues (it was refused: "their fingerprints differ")."""
    import pandas as pd
    df = pd.DataFrame({"y": np.sin(np.arange(100) / 4)}).iloc[20:]
    est = lstmkit.Forecaster(**QUICK, target="y")
    with pytest.raises(TrainingInterrupted):
        est.fit(df, out=tmp_path / "runs", callbacks=[_CtrlCAfterEpoch1()])
    fitted = lstmkit.Forecaster(**QUICK, target="y").fit(df.reset_index(drop=True), run_dir=est.run_dir_, resume=True)
    assert fitted.result_.epochs_run == 3 and read_meta(est.run_dir_)["status"] == "finished"


def test_in_memory_validation_data_left_out_of_a_resume_is_refused_and_old_runs_resume_unchecked(tmp_path):
    """Validation data given in memory and then not at all: the resume would split the data another way.
    A run written before the fingerprints has none to compare: it resumes as it did."""
    import json
    est = lstmkit.SequenceClassifier(**QUICK)
    with pytest.raises(TrainingInterrupted):
        est.fit(X_SERIES, Y_SERIES, val_data=_series(8, seed=1), out=tmp_path, callbacks=[_CtrlCAfterEpoch1()])
    with pytest.raises(LstmkitError, match=r"started with val_data given in memory; this resume gives none"):
        lstmkit.SequenceClassifier(**QUICK).fit(X_SERIES, Y_SERIES, run_dir=est.run_dir_, resume=True)
    meta = read_meta(est.run_dir_)
    del meta["data"]["memory_sha256"]
    (est.run_dir_ / "lstmkit.json").write_text(json.dumps(meta))
    fitted = lstmkit.SequenceClassifier(**QUICK).fit(X_OTHER, Y_SERIES, run_dir=est.run_dir_, resume=True)
    assert fitted.result_.epochs_run == 3


def test_resume_refuses_other_recordings_given_in_memory(tmp_path):
    """Speech takes (path, text) pairs in memory: another transcript in their place resumed silently."""
    from speech_data import write_manifest
    manifest = write_manifest(tmp_path, 12, seed=0)
    pairs = [(str(tmp_path / p), t) for p, t in (line.split(",") for line in manifest.read_text().splitlines()[1:])]
    tiny = dict(QUICK, n_mels=8, channels=8, subsample=1, batch_size=4)
    est = lstmkit.SpeechRecognizer(**tiny)
    with pytest.raises(TrainingInterrupted):
        est.fit(pairs, out=tmp_path / "runs", callbacks=[_CtrlCAfterEpoch1()])
    other = pairs[:-1] + [(pairs[-1][0], pairs[-1][1] + "a")]
    with pytest.raises(LstmkitError, match=r"the data changed since .* the list given as data is not the one"):
        lstmkit.SpeechRecognizer(**tiny).fit(other, run_dir=est.run_dir_, resume=True)
    assert lstmkit.SpeechRecognizer(**tiny).fit(pairs, run_dir=est.run_dir_, resume=True).result_.epochs_run == 3


def test_a_run_that_fingerprinted_its_frame_with_the_row_labels_resumes_with_that_frame(tmp_path):
    """A run started before row labels were left out of the fingerprint recorded one with them: the same
    frame still resumes it (and a changed one is still refused)."""
    import json

    import pandas as pd
    from lstmkit.data.fingerprint import fingerprint
    df = pd.DataFrame({"y": np.sin(np.arange(100) / 4)}).iloc[20:]
    est = lstmkit.Forecaster(**QUICK, target="y")
    with pytest.raises(TrainingInterrupted):
        est.fit(df, out=tmp_path / "runs", callbacks=[_CtrlCAfterEpoch1()])
    meta = read_meta(est.run_dir_)
    assert meta["data"]["memory_sha256"]["data"] != fingerprint(df, every_index=True)
    meta["data"]["memory_sha256"]["data"] = fingerprint(df, every_index=True)      # as such a run recorded it
    (est.run_dir_ / "lstmkit.json").write_text(json.dumps(meta))
    changed = df.assign(y=df["y"].where(df.index != 50, 0.5))
    with pytest.raises(LstmkitError, match=r"the data changed since .* given as data is not the one it trained on"):
        lstmkit.Forecaster(**QUICK, target="y").fit(changed, run_dir=est.run_dir_, resume=True)
    fitted = lstmkit.Forecaster(**QUICK, target="y").fit(df, run_dir=est.run_dir_, resume=True)
    assert fitted.result_.epochs_run == 3


@pytest.mark.parametrize("name", ["SequenceClassifier", "TextClassifier"])
def test_the_resume_classmethod_takes_the_labels_of_data_given_in_memory(name, tmp_path):
    """``resume(RUN, data=X)`` had no ``y``: sequences with their labels apart could not be given again
    (a tuple ``(X, y)`` was read as two sequences), and the hint said only ``--data``."""
    extra, (X, y) = ({}, (X_SERIES, Y_SERIES)) if name == "SequenceClassifier" else ({"min_freq": 1}, DATA[name][0])
    cls = getattr(lstmkit, name)
    est = cls(**QUICK, **extra)
    with pytest.raises(TrainingInterrupted):
        est.fit(X, y, out=tmp_path / "runs", callbacks=[_CtrlCAfterEpoch1()])
    with pytest.raises(LstmkitError, match=r"trained on in-memory data — .*resume\(RUN, data=X, y=y\)"):
        cls.resume(est.run_dir_)
    with pytest.raises(LstmkitError, match=r"the data changed since"):
        cls.resume(est.run_dir_, data=X, y=np.asarray(y)[::-1])
    fitted = cls.resume(est.run_dir_, data=X, y=y)
    assert fitted.result_.epochs_run == 3 and read_meta(est.run_dir_)["status"] == "finished"
    assert set(fitted.predict(X)) <= set(y)


def test_the_speech_resume_classmethod_takes_the_transcripts_of_files_given_in_memory(tmp_path):
    """Audio files with their transcripts apart (``fit(files, y)``) could not be given to ``resume`` again."""
    from speech_data import write_manifest
    manifest = write_manifest(tmp_path, 12, seed=0)
    files, texts = zip(*((str(tmp_path / p), t) for p, t in (line.split(",")
                                                             for line in manifest.read_text().splitlines()[1:])))
    tiny = dict(QUICK, n_mels=8, channels=8, subsample=1, batch_size=4)
    est = lstmkit.SpeechRecognizer(**tiny)
    with pytest.raises(TrainingInterrupted):
        est.fit(list(files), list(texts), out=tmp_path / "runs", callbacks=[_CtrlCAfterEpoch1()])
    with pytest.raises(LstmkitError, match=r"resume\(RUN, data=files, y=y\)"):
        lstmkit.SpeechRecognizer.resume(est.run_dir_)
    assert lstmkit.SpeechRecognizer.resume(est.run_dir_, data=list(files), y=list(texts)).result_.epochs_run == 3


def test_the_translate_resume_classmethod_takes_the_pairs_given_in_memory(tmp_path):
    """``Translator.resume(RUN, pairs)`` refused pairs given again ('cannot be resumed from the command line;
    call ...fit(..., run_dir=RUN, resume=True)'), where every other task's ``resume`` takes its in-memory data;
    the resumed run ends as one never interrupted."""
    pairs = make_pairs(30)
    whole = lstmkit.Translator(**QUICK).fit(pairs)
    est = lstmkit.Translator(**QUICK)
    with pytest.raises(TrainingInterrupted):
        est.fit(pairs, out=tmp_path / "runs", callbacks=[_CtrlCAfterEpoch1()])
    with pytest.raises(LstmkitError, match=r"in-memory data — pass the pairs again: resume\(RUN, data=PAIRS\)"):
        lstmkit.Translator.resume(est.run_dir_)
    with pytest.raises(LstmkitError, match=r"the data changed since"):
        lstmkit.Translator.resume(est.run_dir_, pairs[::-1])
    resumed = lstmkit.Translator.resume(est.run_dir_, pairs)
    assert resumed.result_.epochs_run == 3 and read_meta(est.run_dir_)["status"] == "finished"
    assert list(resumed.history_["val_loss"]) == list(whole.history_["val_loss"])
    src, tgt = map(list, zip(*pairs))      # fitted as fit(X, y): given again so
    apart = lstmkit.Translator(**QUICK)
    with pytest.raises(TrainingInterrupted):
        apart.fit(src, tgt, out=tmp_path / "apart", callbacks=[_CtrlCAfterEpoch1()])
    assert lstmkit.Translator.resume(apart.run_dir_, src, y=tgt).result_.epochs_run == 3


def test_a_resume_with_other_sample_weights_is_refused_naming_them(tmp_path):
    """Weights other than the run's said only 'the data changed' (their fingerprint was part of the
    data's): the weights are named, whether other, left out, or given to a run trained without; the
    same weights, given as a list now, resume."""
    w = np.linspace(0.5, 2.0, len(Y_SERIES))
    est = lstmkit.SequenceClassifier(**QUICK)
    with pytest.raises(TrainingInterrupted):
        est.fit(X_SERIES, Y_SERIES, sample_weight=w, out=tmp_path / "runs", callbacks=[_CtrlCAfterEpoch1()])
    run, cls = est.run_dir_, lstmkit.SequenceClassifier
    with pytest.raises(LstmkitError, match=r"^sample_weight differs from the one .* was trained with \(24 weights\)") as e:
        cls.resume(run, data=X_SERIES, y=Y_SERIES, sample_weight=w[::-1])
    assert e.value.hint.startswith("pass the same weights")
    with pytest.raises(LstmkitError, match=r"sample_weight differs .* \(24 then, 23 now\)"):
        cls(**QUICK).fit(X_SERIES[:-1], Y_SERIES[:-1], sample_weight=w[:-1], run_dir=run, resume=True)
    with pytest.raises(LstmkitError, match=r"was trained with sample_weight \(24 weights\), and this resume gives none"):
        cls.resume(run, data=X_SERIES, y=Y_SERIES)
    assert read_meta(run)["status"] == "interrupted"
    assert cls.resume(run, data=X_SERIES, y=Y_SERIES, sample_weight=list(w)).result_.epochs_run == 3

    plain = lstmkit.SequenceClassifier(**QUICK)
    with pytest.raises(TrainingInterrupted):
        plain.fit(X_SERIES, Y_SERIES, out=tmp_path / "runs", callbacks=[_CtrlCAfterEpoch1()])
    with pytest.raises(LstmkitError, match=r"was trained without sample_weight, and this resume gives 24 weights"):
        cls.resume(plain.run_dir_, data=X_SERIES, y=Y_SERIES, sample_weight=w)
