"""A fit that fails leaves the estimator as it was (scikit-learn's convention: fitted
attributes change only when a fit succeeds)."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import lstmkit
from lstmkit.errors import LstmkitError
from lstmkit.train.callbacks import Callback

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from estimator_data import EXTRA, NAMES, QUICK, fit_data, labelled_texts  # noqa: E402
from one_thread import one_thread_per_package  # noqa: F401,E402  (autouse: one torch thread)


class Fails(Callback):
    """A failure once the network is built, as an out-of-memory error at the first step would be."""

    def on_train_begin(self, trainer) -> None:
        raise RuntimeError("out of memory")


@pytest.mark.parametrize("name", NAMES)
def test_a_fit_that_fails_leaves_an_unfitted_estimator_unfitted(name, tmp_path):
    """A fit that failed once the network was built left that untrained network behind: predict
    then answered from random weights, without a word, as though the fit had worked."""
    est = getattr(lstmkit, name)(**QUICK, **EXTRA.get(name, {}))
    args, _ = fit_data(name, tmp_path)
    with pytest.raises(RuntimeError, match="out of memory"):
        est.fit(*args, callbacks=[Fails()])
    assert not hasattr(est, "net_")
    assert not [k for k in vars(est) if k.endswith("_")]
    with pytest.raises(LstmkitError, match="not fitted yet"):
        est.save(tmp_path / "run")


def test_a_refit_refused_keeps_the_model_fitted_before():
    """A refit on three classes, refused after its classes were read, left the new classes over
    the old two-class network: predict_proba raised numpy's 'shape mismatch' from inside."""
    x, y = labelled_texts()
    clf = lstmkit.TextClassifier(**QUICK, min_freq=1).fit(x, y)
    before = clf.predict_proba(x)
    more = ["so-so film" if i % 3 == 0 else t for i, t in enumerate(x)]
    labels = ["meh" if i % 3 == 0 else c for i, c in enumerate(y)]
    with pytest.raises(LstmkitError, match="min_freq="):
        clf.fit(more, labels, min_freq=10**6)
    assert list(clf.classes_) == ["neg", "pos"]
    np.testing.assert_array_equal(clf.predict_proba(x), before)


def test_ctrl_c_keeps_the_partly_trained_model_for_resume(tmp_path):
    """Ctrl-C is not a failure: the run is marked interrupted and the model trained so far stays."""
    from lstmkit.train import TrainingInterrupted

    class Stop(Callback):
        def on_epoch_end(self, trainer, logs) -> None:
            raise KeyboardInterrupt

    y = np.sin(np.arange(80) / 4)
    est = lstmkit.Forecaster(**{**QUICK, "max_epochs": 3})
    with pytest.raises(TrainingInterrupted) as e:
        est.fit(y, out=tmp_path, callbacks=[Stop()])
    assert hasattr(est, "net_") and est.run_dir_.is_dir()
    # a notebook shows the message alone: it said 'training interrupted after epoch 1', not what to do next
    assert str(e.value) == (f"training interrupted after epoch 1; the model of its best epoch so far, epoch 1, is kept "
                            f"(predict answers with it); Forecaster.resume({str(est.run_dir_)!r}) continues the run")


@pytest.mark.parametrize("name", NAMES)
def test_ctrl_c_mid_epoch_leaves_a_model_that_predicts_as_a_fitted_one(name, tmp_path):
    """A notebook's interrupted cell goes on with the model trained so far: it was left in training mode
    (dropout on, so each predict answered differently; a forecaster's seed ensemble failed in predict with
    pandas' 'All arrays must be of the same length')."""
    from lstmkit.train import TrainingInterrupted

    class Stop(Callback):
        def on_batch_end(self, trainer, batch, n_batches, loss) -> None:
            raise KeyboardInterrupt

    est = getattr(lstmkit, name)(**{**QUICK, "max_epochs": 2, "dropout": 0.5}, **EXTRA.get(name, {}))
    args, given = fit_data(name, tmp_path)
    with pytest.raises(TrainingInterrupted) as e:
        est.fit(*args, callbacks=[Stop()])
    assert str(e.value).endswith("the model trained so far is kept (predict answers with it); fit(..., out=FOLDER) "
                                 "keeps a checkpoint that a later resume continues from")
    assert not [m for m in est.net_.modules() if m.training]
    given = sorted(map(str, (tmp_path / "wavs").glob("*.wav")))[:3] if given is None else given   # speech: its audio
    first, again = est.predict(given), est.predict(given)
    if hasattr(first, "equals"):
        assert first.equals(again)
    else:
        np.testing.assert_array_equal(np.asarray(first, dtype=object), np.asarray(again, dtype=object))


class SecondEpochCtrlC(Callback):
    """Ctrl-C at the end of the second epoch's first step, keeping the weights the first epoch ended with
    (its best, the only one ended) and those the step left."""

    def on_epoch_end(self, trainer, logs) -> None:
        self.first = {k: v.detach().clone() for k, v in trainer._parts[0].state_dict().items()}

    def on_batch_end(self, trainer, batch, n_batches, loss) -> None:
        if trainer.epoch_now == 2:
            self.stepped = {k: v.detach().clone() for k, v in trainer._parts[0].state_dict().items()}
            raise KeyboardInterrupt


@pytest.mark.parametrize("name", NAMES)
def test_ctrl_c_mid_epoch_gives_back_the_best_epochs_model(name, tmp_path):
    """A notebook's cell interrupted in epoch 2 went on with the weights of that epoch's last step, which
    no epoch, checkpoint or resume held (a finished fit ends on its best epoch's): now the best epoch's,
    which the message names, and history_ holds the epochs that ended (it said 'not fitted yet')."""
    import torch

    from lstmkit.train import TrainingInterrupted
    est = getattr(lstmkit, name)(**{**QUICK, "max_epochs": 3}, **EXTRA.get(name, {}))
    args, _ = fit_data(name, tmp_path)
    stop = SecondEpochCtrlC()
    with pytest.raises(TrainingInterrupted) as e:
        est.fit(*args, callbacks=[stop])
    assert e.value.best_epoch == 1 and "the model of its best epoch so far, epoch 1, is kept" in str(e.value)
    now = est.net_.state_dict()
    assert all(torch.equal(now[k], v) for k, v in stop.first.items())
    assert not all(torch.equal(now[k], v) for k, v in stop.stepped.items())    # the step did move them
    assert est.history_["epoch"].tolist() == [1]


@pytest.mark.parametrize("loaded", [False, True], ids=["fitted", "loaded"])
def test_an_interrupted_refit_keeps_nothing_of_the_model_before(loaded, tmp_path):
    """A notebook's fit cell run again and interrupted kept the first fit's history_, metrics_ and training
    record beside the new network, and save() wrote them, its metrics.json and test tables, as the new
    model's (a loaded run's too: its files were copied beside the new weights)."""
    from lstmkit.train import TrainingInterrupted

    class Stop(Callback):
        def on_epoch_end(self, trainer, logs) -> None:
            if logs["epoch"] == 2:
                raise KeyboardInterrupt

    y = np.sin(np.arange(80) / 4)
    est = lstmkit.Forecaster(**{**QUICK, "max_epochs": 3}).fit(y, out=tmp_path / "runs")
    assert est.history_.shape[0] == 3 and (est.run_dir_ / "metrics.json").is_file()
    if loaded:
        est = lstmkit.Forecaster.load(est.run_dir_)
    columns = list(est.history_.columns)                # a finished fit's, as history.csv holds them
    with pytest.raises(TrainingInterrupted):
        est.fit(y, callbacks=[Stop()])
    assert est.history_["epoch"].tolist() == [1, 2] and list(est.history_.columns) == columns
    assert not hasattr(est, "metrics_") and not hasattr(est, "result_") and not hasattr(est, "train_seconds_")
    est.save(tmp_path / "saved")
    saved = sorted(p.name for p in (tmp_path / "saved").iterdir())
    assert saved == ["history.csv", "lstmkit.json", "model.safetensors"]
    assert lstmkit.Forecaster.load(tmp_path / "saved").history_["epoch"].tolist() == [1, 2]
    assert "training" not in json.loads((tmp_path / "saved" / "lstmkit.json").read_text())
    est.fit(y)                                       # the next fit ends as any fit does
    assert est.history_["epoch"].tolist() == [1, 2, 3] and est.metrics_


def test_a_warning_of_fit_still_points_at_the_callers_line():
    """Making fit all-or-nothing must not move where its warnings point (a notebook filters and
    shows them by the caller's file and line)."""
    x, y = labelled_texts()
    with pytest.warns(UserWarning, match="holds out") as record:
        lstmkit.TextClassifier(**QUICK, min_freq=1, val_frac=0.6).fit(x, y)
    assert [w.filename for w in record if "holds out" in str(w.message)] == [__file__]


@pytest.fixture
def float64_default():
    """torch's default dtype float64 for the test, as a notebook sets it for its own numerics."""
    import torch
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("name", NAMES)
def test_a_float64_default_dtype_still_fits_and_loads_a_float32_model(name, tmp_path, float64_default):
    """Under ``torch.set_default_dtype(torch.float64)`` SequenceClassifier and Forecaster failed in
    fit, and their saved runs in predict after ``lstmkit.load``, with torch's 'LSTM: Expected input
    dtype torch.float64, got torch.float32'; the other tasks trained a float64 network and saved it
    at twice the size. The model is float32 under either default, and the default is left as it was."""
    import torch
    est = getattr(lstmkit, name)(**QUICK, **EXTRA.get(name, {}))
    args, X = fit_data(name, tmp_path)
    est.fit(*args, out=tmp_path / "runs")
    assert {p.dtype for p in est.net_.parameters()} == {torch.float32}
    assert torch.get_default_dtype() == torch.float64
    loaded = lstmkit.load(est.run_dir_)
    assert {p.dtype for p in loaded.net_.parameters()} == {torch.float32}
    if X is not None:
        loaded.predict(X)
        est.predict(X)


@pytest.mark.parametrize("context", ["no_grad", "inference_mode"])
@pytest.mark.parametrize("name", NAMES)
def test_a_fit_inside_no_grad_or_inference_mode_still_trains(name, context, tmp_path):
    """A fit called inside the caller's ``torch.no_grad()`` or ``torch.inference_mode()`` (left
    open around an evaluation cell) failed with torch's 'element 0 of tensors does not require grad
    and does not have a grad_fn'. It trains as anywhere else, and the caller's mode is left on."""
    import torch
    est = getattr(lstmkit, name)(**QUICK, **EXTRA.get(name, {}))
    args, X = fit_data(name, tmp_path)
    with getattr(torch, context)():
        est.fit(*args)
        assert not torch.is_grad_enabled()
        if X is not None:
            est.predict(X)
    assert est.result_.epochs_run == 1


def test_a_fit_that_fails_before_its_first_record_leaves_a_run_marked_failed(tmp_path, monkeypatch):
    """A failure after the run folder was made but before its first lstmkit.json (a full disk while the
    vocabulary was written) left an empty folder: 'lstmkit list' passed over it and nothing said why."""
    from lstmkit.run_list import list_runs

    def full_disk(self, run_dir):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lstmkit.TextClassifier, "_write_state", full_disk)
    x, y = labelled_texts()
    with pytest.raises(OSError, match="No space left"):
        lstmkit.TextClassifier(**QUICK, min_freq=1).fit(x, y, out=tmp_path)
    [row] = list_runs(tmp_path)
    assert row["status"] == "failed" and "OSError: [Errno 28] No space left on device" in row["state"]
    assert "before its first epoch" in row["state"]


def test_ctrl_c_while_a_finished_fit_is_scored_keeps_that_fits_results(tmp_path, monkeypatch):
    """Ctrl-C after the last epoch, while the fit scores or saves its model: what this fit found (result_,
    history_, train_seconds_) is its own and stays; only what an earlier fit found is dropped."""
    from lstmkit.train import TrainingInterrupted

    def ctrl_c(self, path):
        raise KeyboardInterrupt
    y = np.sin(np.arange(80) / 4)
    est = lstmkit.Forecaster(**{**QUICK, "max_epochs": 2}).fit(y)
    first = est.result_
    monkeypatch.setattr(lstmkit.Forecaster, "save", ctrl_c)
    with pytest.raises(TrainingInterrupted):
        est.fit(y, out=tmp_path)
    assert est.result_ is not first and est.result_.epochs_run == 2 and est.train_seconds_ > 0
    assert est.history_["epoch"].tolist() == [1, 2]


class CtrlCAtTheStart(Callback):
    """Ctrl-C once the network is built and the trainer set up, before its first step (TensorBoard's start,
    a checkpoint's restore: the set-up's slow parts)."""

    def on_train_begin(self, trainer) -> None:
        raise KeyboardInterrupt


@pytest.fixture(scope="module")
def loaded_run(tmp_path_factory):
    """A forecaster's run whose forecast is a blend with ETS (one series: chosen on validation)."""
    y = 10 + np.sin(np.arange(120) / 4)
    est = lstmkit.Forecaster(**{**QUICK, "max_epochs": 2}, combine="ets").fit(y, out=tmp_path_factory.mktemp("runs"))
    return est.run_dir_, y


@pytest.mark.parametrize("late", ["bad value", "Ctrl-C"])
def test_a_loaded_forecasters_refit_that_fails_late_answers_exactly_as_before(late, loaded_run):
    """A refit that fails after its network and scalers were built (a setting refused once the windows are
    counted; Ctrl-C before the first training step) kept nothing of itself: after Ctrl-C the new, untrained
    network stayed beside the new scalers ('the model trained so far is kept'), and predict answered from
    random weights."""
    from lstmkit.train import TrainingInterrupted
    run, y = loaded_run
    est = lstmkit.Forecaster.load(run)
    before, net = est.predict(y[:100]), est.net_
    assert est.combination_["weight"] < 1                 # the answer is a blend: its partner's history counts too
    with pytest.raises(LstmkitError if late == "bad value" else TrainingInterrupted) as e:
        if late == "bad value":
            est.fit(y[:110] * 3, samples_per_epoch=10 ** 15)
        else:
            est.fit(y[:110] * 3, callbacks=[CtrlCAtTheStart()])
    if late == "Ctrl-C":
        assert "no training step was taken, so nothing of this fit is kept" in str(e.value)
    assert est.net_ is net and est.run_dir_ == run
    assert before.equals(est.predict(y[:100]))


def test_ctrl_c_before_the_first_step_leaves_an_unfitted_forecaster_unfitted():
    """Its untrained network was kept as 'the model trained so far', and predict answered from it."""
    from lstmkit.train import TrainingInterrupted
    est = lstmkit.Forecaster(**QUICK)
    with pytest.raises(TrainingInterrupted):
        est.fit(np.sin(np.arange(80) / 4), callbacks=[CtrlCAtTheStart()])
    assert not [k for k in vars(est) if k.endswith("_")]
    with pytest.raises(LstmkitError, match="not fitted yet"):
        est.predict(np.sin(np.arange(40) / 4))
