"""A fitted SequenceClassifier against data of another shape than its training data."""
import numpy as np
import pytest

from lstmkit import SequenceClassifier
from lstmkit.errors import LstmkitError

QUICK = dict(hidden_size=8, lr=2e-2, progress="off", tensorboard=False, seed=0, max_epochs=1)


def make_series(n, unequal=False):
    rng = np.random.default_rng(0)
    x = np.linspace(0, 2, 12) * np.where(np.arange(n) % 2, 1, -1)[:, None] + 0.2 * rng.standard_normal((n, 12))
    return list(x), ["up" if i % 2 else "down" for i in range(n)]


@pytest.fixture(scope="module")
def equal():
    """Trained on 12 equal-length series of 12 steps, one feature."""
    seqs, labels = make_series(12, unequal=False)
    return SequenceClassifier(**QUICK).fit(np.stack(seqs), labels)


def test_other_features_than_training_are_an_error_naming_them(equal):
    with pytest.raises(LstmkitError, match=r"the data has 3 features per step, the model was trained on 1 .*\(x0\)"):
        equal.predict(np.zeros((2, 12, 3)))


def test_other_lengths_than_training_are_read_with_one_warning(equal):
    for steps in (3, 20):
        with pytest.warns(UserWarning, match=rf"the data: 2 of 2 sequences are not 12 steps long .*lengths "
                                             rf"{steps}-{steps}.*first 12 steps, zero-padded"):
            assert len(equal.predict(np.zeros((2, steps)))) == 2
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # the training length: nothing to say
        equal.predict(np.zeros((2, 12)))


def test_a_test_file_of_another_shape_fails_before_training(tmp_path):
    seqs, labels = make_series(12, unequal=False)
    x = np.stack(seqs)
    with pytest.raises(LstmkitError, match=r"the test data has 2 features per step, the model was trained on 1"):
        SequenceClassifier(**QUICK).fit(x, labels, test_data=str(_long_csv(tmp_path)), out=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()          # was a run folder left after training, and a traceback


def test_refit_on_other_features_is_a_fresh_fit(equal):
    seqs, labels = make_series(12, unequal=False)
    again = SequenceClassifier(**QUICK).fit(np.stack(seqs), labels)
    again.fit(np.random.default_rng(0).normal(size=(12, 12, 3)), labels)     # was 'trained on 1' from the first fit
    assert again.scaler_.n_columns_ == 3


def _long_csv(tmp_path):
    rows = ["sample,t,a,b,label"] + [f"{i},{t},{t},{-t},{'up' if i % 2 else 'down'}" for i in range(4) for t in range(12)]
    p = tmp_path / "test.csv"
    p.write_text("\n".join(rows) + "\n")
    return p


def test_evaluate_takes_labels_as_y_like_fit(equal):
    seqs, labels = make_series(12)
    m = equal.evaluate(np.stack(seqs), labels)        # was: no y parameter, and 'the data has no labels'
    assert np.asarray(m["confusion"]["matrix"]).sum() == 12 and 0.0 <= m["accuracy"] <= 1.0
    with pytest.raises(LstmkitError, match="got 12 sequences but 3 labels"):
        equal.evaluate(np.stack(seqs), labels[:3])


def test_val_and_test_data_as_x_y_pairs():
    seqs, labels = make_series(12)
    x = np.stack(seqs)
    clf = SequenceClassifier(**QUICK).fit(x, labels, val_data=(x[:4], labels[:4]), test_data=(x[4:], labels[4:]))
    assert clf.data_summary_["split"] == {"train": 12, "val": 4, "test": 8} and set(clf.metrics_) == {"val", "test"}
    with pytest.raises(LstmkitError, match=r"val_data holds no labels \(it is a ndarray\).*val_data=\(X, y\)"):
        SequenceClassifier(**QUICK).fit(x, labels, val_data=x[:4])   # was 'pass labels as y' (fit has no y for it)


def test_a_crop_window_shorter_than_the_first_convolution_is_said(series, tiny_series):
    import warnings
    seqs, labels = series(20, unequal=False)                         # 12 steps each
    with pytest.warns(UserWarning, match=r"^crop=0.3 reads windows of 4 steps of the 12-step series: too short.*"
                                         r"pass crop=0.8 to 0.9$") as caught:
        SequenceClassifier(max_epochs=1, crop=0.3, **tiny_series).fit(seqs, labels)
    assert [w.filename for w in caught if "crop=" in str(w.message)] == [__file__]     # was 'sys': one frame too far
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SequenceClassifier(max_epochs=1, crop=0.7, **tiny_series).fit(seqs, labels)     # 8 steps: the kernel


def test_a_tables_features_are_found_by_name_not_by_column_order():
    """A prediction table with the training features in another column order was read in its
    own order (the features swapped: accuracy 0.0 where it was 1.0), and one with a feature
    renamed was read as if nothing had changed."""
    import pandas as pd
    rng = np.random.default_rng(0)
    labels = np.array(["up", "down"] * 8)
    a = np.where(labels == "up", 1.0, -1.0)[:, None] + 0.1 * rng.standard_normal((16, 10))
    long = pd.DataFrame({"sample": np.repeat(np.arange(16), 10), "t": np.tile(np.arange(10), 16), "a": a.ravel(),
                         "b": 0.1 * rng.standard_normal(160), "label": np.repeat(labels, 10)})
    est = SequenceClassifier(**{**QUICK, "model": "lstm", "max_epochs": 30, "lr": 0.05}).fit(long)
    assert est.feature_names_ == ["a", "b"]
    proba = est.predict_proba(long)
    np.testing.assert_allclose(est.predict_proba(long[["b", "label", "t", "a", "sample"]]), proba, rtol=1e-6)
    np.testing.assert_allclose(est.predict_proba(long.assign(note=1.0)), proba, rtol=1e-6)   # not a feature it knows
    assert est.evaluate(long[["sample", "t", "b", "a", "label"]])["accuracy"] == est.evaluate(long)["accuracy"] == 1.0
    with pytest.raises(LstmkitError, match=r"the data has no feature column 'a' \(the model was trained on a, b; "
                                           r"the data has z, b\) — pass data with the training features"):
        est.predict(long.rename(columns={"a": "z"}))
    assert len(est.predict(np.stack([a, np.zeros_like(a)], -1))) == 16          # arrays: by position, as before


def test_a_feature_constant_throughout_training_is_said_once_by_name():
    """1e30 + 1e15 * x differs only in float64's last digits and scaled to a constant silently; a
    feature of one value throughout was trained on without a word."""
    import warnings
    seqs, labels = make_series(12)
    x = np.stack(seqs)[:, :, None]
    both = np.concatenate([x, np.full_like(x, 7.0)], axis=2)                        # x0 moves, x1 is 7 throughout
    with pytest.warns(UserWarning, match=r"^feature 'x1' \(7\) is constant throughout the training data .* — leave it "
                                         r"out of the features") as caught:
        SequenceClassifier(**QUICK).fit(both, labels)
    (said,) = [w for w in caught if "constant" in str(w.message)]
    assert said.filename == __file__                                                 # at the caller's fit
    with pytest.warns(UserWarning, match=r"^the sequences' one feature 'x0' \(1e\+30\) is constant .* subtract their "
                                         r"common offset first$"):
        SequenceClassifier(**QUICK).fit(1e30 + 1e15 * x, labels)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SequenceClassifier(**QUICK).fit(1e-16 * x, labels)                          # tiny values that move: no word


@pytest.mark.parametrize("pooling,num_layers,warned", [("last", 1, True), ("last", 6, False), ("mean", 1, False)])
def test_a_tcn_answering_from_its_last_step_warns_of_series_longer_than_it_reads(pooling, num_layers, warned, recwarn):
    """``model="tcn", pooling="last"`` on series of 200 steps answered from the newest 125 (its receptive
    field) without a word: a change at the first step moves no probability."""
    import torch
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((8, 200, 1)), ["a", "b"] * 4
    clf = SequenceClassifier(**{**QUICK, "model": "tcn", "pooling": pooling, "num_layers": num_layers,
                                "val_frac": 0}).fit(x, labels)
    said = [str(w.message) for w in recwarn if "receptive field" in str(w.message)]
    assert said == ([("8 of 8 training series (100%) are longer than the 125 steps the tcn's last step reads (its "
                      "receptive field; the longest 200), and pooling='last' answers from that step alone: their "
                      "earlier steps never reach the answer; pass num_layers=6, or pooling='mean' (or max)")]
                    if warned else [])
    changed = x.copy()
    changed[:, 0] += 5.0
    moved = np.abs(clf.predict_proba(changed) - clf.predict_proba(x)).max()
    assert (moved == 0) == warned
