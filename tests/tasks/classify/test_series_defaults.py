"""`classify train --series` defaults: LSTM-FCN (lstm-fcn-ds) with its UCR protocol, an epoch
count capped by the series-step budget, and every setting the caller gives winning."""
import json

import numpy as np
import pytest

from cli_helpers import run_cli
from lstmkit import SequenceClassifier, TextClassifier
from lstmkit.errors import LstmkitError
from lstmkit.tasks.classify.estimator import load_classifier


def _tsv(path, seqs, labels):
    path.write_text("".join(f"{lab}\t" + "\t".join(f"{v:.4f}" for v in s[:, 0]) + "\n" for s, lab in zip(seqs, labels)))
    return path


def test_python_defaults_are_lstm_fcn_with_its_protocol():
    cfg = SequenceClassifier().config
    t = cfg.train
    assert (cfg.model, cfg.hidden_size, cfg.dropout, cfg.val_frac, cfg.budget) == ("lstm-fcn-ds", 8, 0.8, 0.0, 8.0)
    assert (t.max_epochs, t.batch_size, t.lr, t.lr_factor, t.lr_patience) == (2000, 16, 1e-3, 0.7937, 100)
    assert t.lr_schedule == "cosine" and TextClassifier().config.train.lr_schedule == "plateau"
    assert t.clip_norm is None                                         # as published; zoo encoders keep 1.0
    assert cfg.augment == "scale-warp"                                 # validated on ArrowHead's TRAIN file
    assert TextClassifier().config.model == "bilstm" and TextClassifier().config.budget is None


def test_choosing_a_zoo_encoder_brings_the_recurrent_defaults():
    cfg = SequenceClassifier(model="lstm", pooling="last").config
    assert (cfg.hidden_size, cfg.dropout, cfg.budget, cfg.train.max_epochs, cfg.train.lr_patience) == (64, 0.1, None,
                                                                                                     200, 15)


def test_changing_the_model_later_brings_that_models_defaults_too(tiny_series):
    """set_params(model="lstm") (or fit's override) on LSTM-FCN's defaults kept its 8 cells,
    dropout 0.8 and 2000 epochs for the LSTM; now it gives what SequenceClassifier(model="lstm")
    gives, either way round, and keeps what the caller set."""
    assert SequenceClassifier().set_params(model="lstm").get_params() == SequenceClassifier(model="lstm").get_params()
    assert SequenceClassifier(model="gru").set_params(model="lstm-fcn-ds").get_params() == SequenceClassifier().get_params()
    kept = SequenceClassifier(hidden_size=32, max_epochs=5).set_params(model="lstm").config
    assert (kept.hidden_size, kept.train.max_epochs, kept.dropout) == (32, 5, 0.1)
    assert SequenceClassifier().set_params(model="lstm", dropout=0.2).config.dropout == 0.2
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((12, 10)), ["a", "b"] * 6
    est = SequenceClassifier(**{k: v for k, v in tiny_series.items() if k != "hidden_size"})
    est.fit(x, y, model="lstm", max_epochs=1)
    assert (est.config_.model, est.config_.hidden_size, est.config_.dropout) == ("lstm", 64, 0.1)
    assert est.config.model == "lstm-fcn-ds"                           # the estimator's own settings stay


def test_epochs_follow_the_budget_unless_the_caller_sets_them():
    cfg = SequenceClassifier().config
    assert SequenceClassifier.epochs_for(cfg, 200, 427) == 94          # OSULeaf-sized: 8e6 / 85400
    assert SequenceClassifier.epochs_for(cfg, 67, 24) == 2000          # tiny data: max_epochs
    assert SequenceClassifier.epochs_for(cfg, 10_000, 5_000) == 20     # never fewer than 20
    given = SequenceClassifier(max_epochs=3).config
    assert given.budget is None and SequenceClassifier.epochs_for(given, 200, 427) == 3
    both = SequenceClassifier(max_epochs=3000, budget=1.0).config
    assert SequenceClassifier.epochs_for(both, 200, 100) == 50


def test_an_ensemble_shares_the_budget_and_is_not_the_default():
    cfg = SequenceClassifier().config
    assert cfg.ensemble == 1
    cfg.ensemble = 4
    assert SequenceClassifier.epochs_for(cfg, 36, 251) == 221          # ArrowHead: 8e6 / (4 x 36 x 251)
    assert SequenceClassifier.epochs_for(SequenceClassifier(max_epochs=5, ensemble=4).config, 36, 251) == 5


@pytest.mark.parametrize("bad", [0, 1.5, "two"])
def test_ensemble_must_be_a_count_and_lstm_fcn(bad):
    with pytest.raises(LstmkitError, match="ensemble"):
        SequenceClassifier(ensemble=bad)
    with pytest.raises(LstmkitError, match="lstm-fcn-ds only"):
        SequenceClassifier(model="lstm", ensemble=2)
    with pytest.raises(LstmkitError, match="ensemble is a setting of SequenceClassifier"):
        TextClassifier(ensemble=2)


def test_ensemble_learns_records_itself_and_round_trips(tmp_path, series):
    """ensemble=4: four LSTM-FCNs sharing the budget, recorded in the run, whose averaged
    probabilities a reloaded run reproduces."""
    x, y = series(16, unequal=False)
    clf = SequenceClassifier(ensemble=4, budget=0.0154, lr=1e-2, progress="off", tensorboard=False).fit(
        x, y, out=tmp_path)
    assert type(clf.net_).__name__ == "LSTMFCNEnsemble" and clf.net_.members == 4
    assert clf.config_.train.max_epochs == 20                                 # 0.0154e6 / (4 x 16 x 12)
    xt, yt = series(40, seed=9, unequal=False)
    assert (clf.predict(xt) == np.array(yt)).mean() >= 0.9
    meta = json.loads((clf.run_dir_ / "lstmkit.json").read_text())
    assert meta["config"]["ensemble"] == 4 and meta["model"]["class"] == "LSTMFCNEnsemble"
    again = load_classifier(clf.run_dir_)
    np.testing.assert_allclose(again.predict_proba(xt), clf.predict_proba(xt), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("bad", [0, -1.0, "many"])
def test_budget_must_be_a_positive_number(bad):
    with pytest.raises(LstmkitError, match="budget"):
        SequenceClassifier(budget=bad)


def test_lstm_fcn_reads_numbers_only(texts):
    x, y = texts(20)
    with pytest.raises(LstmkitError, match="numeric series only"):
        TextClassifier(model="lstm-fcn-ds", min_freq=1).fit(x, y)


def test_cli_series_defaults_pick_lstm_fcn_and_record_it(tmp_path, capsys, series):
    """No recipe flag but a small --budget (so the test is quick): the run records LSTM-FCN, the
    protocol, the epochs the budget gave and the LSTM's series length."""
    seqs, labels = series(24, unequal=False)
    p = _tsv(tmp_path / "S_TRAIN.tsv", seqs, labels)
    code, _, err = run_cli(["classify", "train", "--series", "--data", p, "--budget", "0.006", "--progress", "off",
                            "--no-tensorboard", "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    (run,) = (tmp_path / "runs").iterdir()
    meta = json.loads((run / "lstmkit.json").read_text())
    cfg = meta["config"]
    assert (cfg["model"], cfg["hidden_size"], cfg["dropout"], cfg["val_frac"], cfg["budget"]) == (
        "lstm-fcn-ds", 8, 0.8, 0.0, 0.006)
    assert cfg["train"]["max_epochs"] == round(0.006e6 / (24 * 12))            # 21, from the budget
    assert (cfg["train"]["batch_size"], cfg["train"]["lr_schedule"]) == (16, "cosine")
    assert meta["model"]["class"] == "LSTMFCNNet" and meta["preprocessing"]["steps"] == 12
    assert meta["data"]["split"] == {"train": 24, "val": 0, "test": 0}
    assert isinstance(load_classifier(run), SequenceClassifier)


def test_cli_flags_win_over_the_series_defaults(tmp_path, capsys, series):
    seqs, labels = series(24, unequal=False)
    p = _tsv(tmp_path / "S_TRAIN.tsv", seqs, labels)
    code, _, err = run_cli(["classify", "train", "--series", "--data", p, "--epochs", 2, "--batch-size", 8,
                            "--hidden-size", 4, "--dropout", 0.2, "--val-frac", 0.25, "--lr-schedule", "plateau",
                            "--progress", "off",
                            "--no-tensorboard", "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    (run,) = (tmp_path / "runs").iterdir()
    cfg = json.loads((run / "lstmkit.json").read_text())["config"]
    assert (cfg["model"], cfg["hidden_size"], cfg["dropout"], cfg["val_frac"], cfg["budget"]) == (
        "lstm-fcn-ds", 4, 0.2, 0.25, None)
    assert (cfg["train"]["max_epochs"], cfg["train"]["batch_size"], cfg["train"]["lr_schedule"]) == (2, 8, "plateau")


def test_defaults_learn_a_two_class_problem_and_round_trip(tmp_path, series):
    """Rising vs falling noisy ramps: the defaults, with a small budget, learn them; a reloaded run
    answers the same, also for series longer than any in training (the LSTM reads the first 12)."""
    x, y = series(60, unequal=False)
    clf = SequenceClassifier(budget=0.02, progress="off", tensorboard=False).fit(x, y, out=tmp_path)
    assert clf.config_.train.max_epochs == round(0.02e6 / (60 * 12))
    xt, yt = series(60, seed=9, unequal=False)
    assert (clf.predict(xt) == np.array(yt)).mean() >= 0.9
    again = load_classifier(clf.run_dir_)
    np.testing.assert_allclose(again.predict_proba(xt), clf.predict_proba(xt), rtol=1e-5, atol=1e-7)
    longer = [np.concatenate([s, s[:5]]) for s in xt[:3]]
    with pytest.warns(UserWarning, match="3 of 3 sequences are not 12 steps long"):
        np.testing.assert_allclose(again.predict_proba(longer).sum(axis=1), 1.0)


@pytest.mark.parametrize("settings, match", [({"crop": 0.0}, "crop"), ({"crop": 1.5}, "crop"), ({"crops": 0}, "crops"),
                                             ({"crop": 0.9, "model": "lstm"}, "lstm-fcn-ds only")])
def test_crop_is_a_checked_lstm_fcn_option(settings, match):
    with pytest.raises(LstmkitError, match=match):
        SequenceClassifier(**settings)


def test_cli_crop_trains_on_windows_records_them_and_round_trips(tmp_path, capsys, series):
    """--crop 0.75 --crops 3: the LSTM reads windows of 9 of the 12 steps; the run records both and
    a reloaded run answers the same."""
    seqs, labels = series(24, unequal=False)
    p = _tsv(tmp_path / "S_TRAIN.tsv", seqs, labels)
    code, _, err = run_cli(["classify", "train", "--series", "--data", p, "--budget", "0.006", "--crop", "0.75",
                            "--crops", "3", "--progress", "off", "--no-tensorboard", "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    (run,) = (tmp_path / "runs").iterdir()
    cfg = json.loads((run / "lstmkit.json").read_text())["config"]
    assert (cfg["crop"], cfg["crops"]) == (0.75, 3)
    clf = load_classifier(run)
    assert clf.net_.lstm.input_size == 9 and clf.net_.crops == 3
    proba = clf.predict_proba(seqs[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(load_classifier(run).predict_proba(seqs[:5]), proba, rtol=1e-6)
