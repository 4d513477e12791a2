import json
import re
import warnings

import numpy as np
import pytest

from lstmkit import SequenceClassifier, TextClassifier
from lstmkit.errors import LstmkitError
from lstmkit.tasks.classify.estimator import load_classifier
from lstmkit.train.callbacks import Callback



@pytest.fixture(scope="module")
def text_run(tmp_path_factory, texts, tiny):
    x, y = texts(160)
    return TextClassifier(max_epochs=6, **tiny).fit(x, y, out=tmp_path_factory.mktemp("runs"))


def test_text_classifier_learns_and_writes_a_run_folder(text_run, texts):
    clf = text_run
    x, y = texts(60, seed=5)
    assert list(clf.classes_) == ["neg", "pos"]
    assert clf.evaluate(pd_frame(x, y))["accuracy"] >= 0.85
    run = clf.run_dir_
    for name in ("lstmkit.json", "model.safetensors", "vocab.json", "metrics.json", "history.csv",
                 "plots/loss.png", "plots/confusion.png"):
        assert (run / name).is_file(), name
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["task"] == "classify" and meta["kind"] == "text" and meta["status"] == "finished"
    assert json.loads((run / "vocab.json").read_text())["itos"][:2] == ["<pad>", "<unk>"]
    assert set(json.loads((run / "metrics.json").read_text())["val"]) >= {"accuracy", "macro_f1", "roc_auc"}


def test_evaluate_and_metrics_json_report_the_calibration_of_predict_proba(text_run, texts):
    """Accuracy alone said nothing of whether P(neg) > 0.9 is right 9 times in 10: the metrics carry NLL,
    Brier score and ECE of the very probabilities predict_proba returns, and the run a reliability diagram."""
    from lstmkit.train.metrics import classification_metrics
    x, y = texts(60, seed=7)
    m = text_run.evaluate(pd_frame(x, y))
    classes = list(text_run.classes_)
    ref = classification_metrics([classes.index(v) for v in y], text_run.predict_proba(x), classes)
    for key in ("nll", "brier", "ece"):
        assert m[key] == pytest.approx(ref[key], abs=1e-9)
    assert m["reliability"] == ref["reliability"]
    saved = json.loads((text_run.run_dir_ / "metrics.json").read_text())["val"]
    assert {"nll", "brier", "ece", "reliability"} <= set(saved) and 0 <= saved["ece"] <= 1
    assert (text_run.run_dir_ / "plots" / "reliability.png").is_file()


def pd_frame(texts, labels):
    import pandas as pd
    return pd.DataFrame({"text": texts, "label": labels})


def test_predict_and_load_round_trip(text_run):
    texts = ["I loved it, great film", "Boring and bad"]
    proba = text_run.predict_proba(texts)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert list(text_run.predict(texts)) == ["pos", "neg"]
    again = TextClassifier.load(text_run.run_dir_)
    np.testing.assert_allclose(again.predict_proba(texts), proba, rtol=1e-6)
    assert isinstance(load_classifier(text_run.run_dir_), TextClassifier)
    with pytest.raises(LstmkitError, match="SequenceClassifier|TextClassifier.load"):
        SequenceClassifier.load(text_run.run_dir_)


def test_labels_given_as_numbers_come_back_as_numbers(texts, tiny, tmp_path):
    """y of 0/1 came back from predict as '0'/'1': predict(X) == y was False everywhere, an
    accuracy of 0 without a word."""
    import pandas as pd
    x, y = texts(60)
    stars = pd.Series([5 if lab == "pos" else 1 for lab in y], index=range(100, 160))
    clf = TextClassifier(max_epochs=4, **tiny).fit(x, stars, out=tmp_path)
    got = clf.predict(x)
    assert got.dtype.kind == "i" and (got == stars.to_numpy()).mean() > 0.8
    assert clf.classes_.tolist() == [1, 5] and clf.class_names_ == ["1", "5"] and clf.evaluate(x, stars)["accuracy"] == (got == stars.to_numpy()).mean()
    assert TextClassifier.load(clf.run_dir_).predict(x[:3]).tolist() == got[:3].tolist()
    flags = TextClassifier(max_epochs=1, **tiny).fit(x, np.array([lab == "pos" for lab in y])).predict(x[:2])
    assert flags.dtype == bool


def test_a_frames_label_column_of_numbers_or_booleans_comes_back_so(texts, tiny, tmp_path):
    """A frame's int label column (a Hugging Face dataset's to_pandas) came back from predict as
    '0'/'1': predict(df) == df['label'] was False everywhere, as it was for y before."""
    import pandas as pd
    x, y = texts(20)
    frame = pd.DataFrame({"text": x, "label": [int(lab == "pos") for lab in y]})
    clf = TextClassifier(max_epochs=1, **tiny).fit(frame)
    got = clf.predict(frame)
    assert got.dtype.kind == "i" and (got == frame["label"].to_numpy()).mean() == clf.score(frame)
    assert TextClassifier.load(clf.save(tmp_path / "run")).predict(frame[:3]).tolist() == got[:3].tolist()
    holed = frame.assign(label=frame["label"].astype(float).where(frame.index != 3))      # pd.read_csv's ints
    with pytest.warns(UserWarning, match="1 of 20 rows has no label"):
        assert TextClassifier(max_epochs=1, **tiny).fit(holed).predict(x[:2]).dtype.kind == "i"
    flags = TextClassifier(max_epochs=1, **tiny).fit(frame.assign(label=frame["label"] == 1)).predict(x[:2])
    assert flags.dtype == bool
    wide = pd.DataFrame(np.tile([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]], (10, 1))).assign(label=[1, 0] * 10)
    series = SequenceClassifier(max_epochs=1, hidden_size=8, progress="off", tensorboard=False).fit(wide)
    assert series.predict(wide.drop(columns="label")).dtype.kind == "i"


def test_labels_scored_in_another_type_than_predict_answers_are_refused(texts, tiny):
    """score(X, ['1', '0']) of a model fitted on y = [1, 0] was 1.0: the strings were matched to the
    classes as text, where predict(X) == y is all False (scikit-learn's accuracy_score refuses the mix);
    numbers scored against string classes likewise. The error names the type and the conversion, for
    texts, numeric sequences, and a DataFrame's label column."""
    import pandas as pd
    x, y = texts(20)
    ints = [int(lab == "pos") for lab in y]
    clf = TextClassifier(max_epochs=1, **tiny).fit(x, ints)
    assert clf.score(x, ints) == clf.score(x, np.array(ints, dtype=np.int8)) == np.mean(clf.predict(x) == ints)
    for given in ([str(v) for v in ints], np.array(ints).astype(str), pd.Series(ints).astype("string")):
        with pytest.raises(LstmkitError, match=r"^y holds strings \('[01]'\) but the model was fitted on integers: "
                                               r"predict answers integers, which never equal a string — ") as e:
            clf.score(x, given)
        assert "[int(v) for v in y]" in e.value.hint and "y.astype(int)" in e.value.hint
    with pytest.raises(LstmkitError, match=r"^y holds strings"):
        clf.evaluate(x, [str(v) for v in ints])
    # whole floats (a label column pandas made float once a NaN row was dropped) were "label '1.0' of text 0 is
    # not one of the model's classes — the classes are: 0, 1": the conversion is named
    for given in (np.array(ints, dtype=float), pd.Series(ints, dtype="Float64"), pd.Series(ints, dtype="float32[pyarrow]")):
        with pytest.raises(LstmkitError, match=r"^y holds floats \([01]\.0\) but the model was fitted on integers: its "
                                               r"labels are read as written, and '[01]\.0' is no class \(they are 0, 1\) "
                                               r"— pass the labels as integers, as fit had them .*y\.astype\(int\)"):
            clf.score(x, given)
    with pytest.raises(LstmkitError, match=r"^the data's 'label' column holds floats \([01]\.0\)"):
        clf.evaluate(pd.DataFrame({"text": x, "label": np.array(ints, dtype=float)}))
    with pytest.raises(LstmkitError, match=r"^the data's 'label' column holds strings \('[01]'\)"):
        clf.evaluate(pd.DataFrame({"text": x, "label": [str(v) for v in ints]}))
    named = TextClassifier(max_epochs=1, **tiny).fit(x, [str(v) for v in ints])        # string classes '0', '1'
    assert named.score(x, [str(v) for v in ints]) == np.mean(named.predict(x) == np.array([str(v) for v in ints]))
    with pytest.raises(LstmkitError, match=r"^y holds integers \([01]\) but the model's classes are strings \('0', '1'\): "
                                           r"predict answers strings, which never equal integers — ") as e:
        named.score(x, ints)
    assert "[str(v) for v in y]" in e.value.hint
    wide = pd.DataFrame(np.tile([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]], (10, 1)))
    series = SequenceClassifier(max_epochs=1, hidden_size=8, progress="off", tensorboard=False).fit(wide, [1, 0] * 10)
    assert 0 <= series.score(wide, [1, 0] * 10) <= 1
    with pytest.raises(LstmkitError, match=r"^y holds strings \('1'\) but the model was fitted on integers"):
        series.score(wide, ["1", "0"] * 10)


@pytest.mark.parametrize("make, dtype", [
    (lambda v: np.asarray(v, dtype=np.int8), "int8"),
    (lambda v: np.asarray(v, dtype=np.uint16), "uint16"),
    (lambda v: np.asarray(v, dtype=np.float32), "float32"),
    (lambda v: __import__("pandas").array(v, dtype="Int16"), "int16"),              # pandas' nullable ints
    (lambda v: __import__("pandas").Series(v, dtype="float32[pyarrow]"), "float32"),
    (list, "int64"),
])
def test_labels_come_back_in_the_dtype_of_y(texts, tiny, tmp_path, make, dtype):
    """classes_ and predict were int64 / float64 whatever y's dtype (y of int8 answered int64), where
    scikit-learn's classifiers answer in y's own dtype; a saved run keeps it."""
    x, y = texts(20)
    given = make([int(lab == "pos") + 2 for lab in y])
    clf = TextClassifier(max_epochs=1, **tiny).fit(x, given, out=tmp_path)
    assert clf.classes_.dtype == dtype and clf.classes_.tolist() == [2, 3]
    got = clf.predict(x)
    assert got.dtype == dtype and (got == np.asarray(given)).mean() == clf.score(x, given)
    assert TextClassifier.load(clf.run_dir_).predict(x).dtype == dtype


def test_numbers_scored_against_booleans_or_floats_name_the_conversion(texts, tiny):
    """A model fitted on True/False scored with 0/1 (or on floats, scored with ints) said "labels not
    seen in training: '1' (20 rows) — the model knows only: False, True": the labels are there, in
    another type; the error names it and the conversion, as floats for an integer model do."""
    x, y = texts(20)
    flags = [lab == "pos" for lab in y]
    clf = TextClassifier(max_epochs=1, val_frac=0, **tiny).fit(x, flags)
    with pytest.raises(LstmkitError, match=r"^y holds integers \([01]\) but the model was fitted on booleans: predict "
                                           r"answers booleans, and integers are read as written \('[01]' is no class; "
                                           r"they are False, True\) — pass the labels as booleans.*y == 'True'"):
        clf.score(x, [int(v) for v in flags])
    halves = TextClassifier(max_epochs=1, val_frac=0, **tiny).fit(x, [1.5 if v else 2.0 for v in flags])
    with pytest.raises(LstmkitError, match=r"^y holds integers \(2\) but the model was fitted on floats: .*"
                                           r"they are 1\.5, 2\.0\) — pass the labels as floats.*y\.astype\(float\)"):
        halves.evaluate(x, [2] * 20)
    ints = TextClassifier(max_epochs=1, val_frac=0, **tiny).fit(x, [int(v) for v in flags])
    with pytest.raises(LstmkitError, match=r"^y holds booleans \((True|False)\) but the model was fitted on integers"):
        ints.score(x, flags)
    assert ints.score(x, [int(v) for v in flags]) == np.mean(ints.predict(x) == [int(v) for v in flags])


@pytest.mark.parametrize("given, dtype", [(np.array([2**64 - 1, 7], dtype=np.uint64), "uint64"),   # hashed ids
                                          ([10**30, 7], "object")])                                # Python's ints
def test_integer_labels_beyond_int64_come_back_as_the_same_integers(texts, tiny, tmp_path, given, dtype):
    """uint64 labels from 2**63 on came back from classes_ and predict as float64 (18446744073709551615 as
    1.8446744073709552e+19, which equals no label of y); Python ints beyond int64 as the strings '7' and
    '1000…'. Integers they stay, in y's dtype, through a saved run too."""
    x, y = texts(20)
    labels = np.array([given[0] if lab == "pos" else given[1] for lab in y], dtype=getattr(given, "dtype", object))
    clf = TextClassifier(max_epochs=1, val_frac=0, **tiny).fit(x, labels, out=tmp_path)
    assert clf.classes_.dtype == dtype and clf.classes_.tolist() == sorted(int(v) for v in given)
    got = clf.predict(x)
    assert got.dtype == dtype and all(v in {int(g) for g in given} for v in got.tolist())
    assert (got == labels).mean() == clf.score(x, labels)
    assert TextClassifier.load(clf.run_dir_).classes_.tolist() == clf.classes_.tolist()


@pytest.mark.parametrize("one, other", [(1, 1.0), (-0.0, 0.0)])
def test_one_number_written_two_ways_is_one_class_as_np_unique_has_it(texts, tiny, one, other):
    """y = [1, 1.0, 2, ...] (a JSON list, a column of ints and floats) was trained as the classes '1'
    and '1.0', with a warning that they differ 'in how a number is written', and classes_ held 1.0
    twice: two columns of predict_proba for one label. -0.0 and 0.0 likewise. np.unique has one."""
    import pandas as pd
    x, y = texts(24)
    given = [(one if i % 4 == 1 else other) if lab == "pos" else 2.5 for i, lab in enumerate(y)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)            # no 'written two ways' warning: they are one number
        clf = TextClassifier(max_epochs=1, val_frac=0, **tiny).fit(x, given)
    assert clf.classes_.tolist() == np.unique(given).tolist() == [other, 2.5]
    assert clf.predict_proba(x[:2]).shape == (2, 2) and clf.score(x, given) == np.mean(clf.predict(x) == given)
    for column in (pd.Series(given, dtype=object), pd.Series(given, dtype=float)):       # a frame's column
        frame = pd.DataFrame({"text": x, "label": column})
        assert TextClassifier(max_epochs=1, val_frac=0, **tiny).fit(frame).classes_.tolist() == [other, 2.5]


@pytest.mark.parametrize("make, dtype", [
    (lambda d: np.asarray(d, dtype="datetime64[ns]"), "datetime64[ns]"),      # were ints: 1704067200000000000
    (lambda d: np.asarray(d, dtype="datetime64[D]"), "datetime64[D]"),        # were the strings '2024-01-01'
    (lambda d: __import__("pandas").Series(__import__("pandas").to_datetime(d)), "own"),      # pandas' unit
    (lambda d: list(__import__("pandas").to_datetime(d)), object),            # Timestamps, as np.unique holds them
    (lambda d: __import__("pandas").Series(__import__("pandas").to_datetime(d)).dt.tz_localize("Europe/Berlin"), object),
    (lambda d: np.asarray(d, dtype="datetime64[D]") - np.datetime64("2024-01-01"), "timedelta64[D]"),
])
def test_labels_given_as_times_come_back_as_times_through_a_saved_run(texts, tiny, tmp_path, make, dtype):
    """Timestamps in y came back from classes_ and predict as their strings ('2024-01-01 00:00:00'),
    and numpy's nanosecond times as ints: predict(X) == y was False everywhere. They keep y's type now
    (a zone too), through lstmkit.json (label_type 'datetime', label_dtype)."""
    import json
    import pandas as pd
    x, y = texts(20)
    given = make(["2024-01-01" if lab == "pos" else "2024-06-30" for lab in y])
    dtype = given.dtype if dtype == "own" else dtype
    clf = TextClassifier(max_epochs=1, **tiny).fit(x, given, out=tmp_path)
    assert clf.classes_.dtype == dtype and len(clf.classes_) == 2 and clf.classes_[0] < clf.classes_[1]
    got = clf.predict(x)
    assert got.dtype == dtype and (got == np.asarray(given)).mean() == clf.score(x, given) > 0
    if dtype is object:
        assert [getattr(c, "tz", None) for c in clf.classes_] == [getattr(given[0], "tz", None)] * 2
    meta = json.loads((clf.run_dir_ / "lstmkit.json").read_text())
    assert meta["label_type"] in ("datetime", "timedelta")
    loaded = TextClassifier.load(clf.run_dir_)
    assert loaded.classes_.dtype == dtype and pd.Series(loaded.classes_).equals(pd.Series(clf.classes_))
    assert (loaded.predict(x) == got).all()


def test_labels_given_as_decimals_come_back_as_decimals(texts, tiny, tmp_path):
    """y of decimal.Decimal (a database's NUMERIC column) came back from classes_ and predict as the
    strings '0'/'1': predict(X) == y was False everywhere. classes_ holds them as np.unique has them."""
    from decimal import Decimal
    from lstmkit.tasks.classify.fit_checks import label_type
    assert label_type([Decimal("1"), Decimal("0"), None, Decimal("NaN")]) == "decimal"
    assert label_type([Decimal("1"), Decimal("1.0")]) is None          # one number written two ways: as written
    x, y = texts(40)
    given = [Decimal("1") if lab == "pos" else Decimal("0") for lab in y]
    clf = TextClassifier(max_epochs=1, **tiny).fit(x, given, out=tmp_path)
    assert clf.classes_.tolist() == np.unique(np.asarray(given, dtype=object)).tolist() == [Decimal("0"), Decimal("1")]
    assert all(isinstance(c, Decimal) for c in clf.classes_)
    got = clf.predict(x)
    assert (got == np.asarray(given, dtype=object)).mean() == clf.score(x, given)
    assert TextClassifier.load(clf.run_dir_).predict(x[:4]).tolist() == got[:4].tolist()


def test_labels_mixing_booleans_and_numbers_come_back_as_written(texts, tiny, tmp_path):
    """numpy reads [True, 0] as integers, but the labels were written 'True' and '0': predict
    raised ValueError (int('True')) after a fit that had gone well."""
    from lstmkit.tasks.classify.fit_checks import label_type
    assert label_type([True, 0, 1]) is None and label_type([False, 0.5]) is None
    assert label_type([1, 0, None]) == "int" and label_type([True, False]) == "bool"
    x, y = texts(40)
    mixed = [True if lab == "pos" else 0 for lab in y]
    clf = TextClassifier(max_epochs=1, **tiny).fit(x, mixed, out=tmp_path)
    got = clf.predict(x[:4])
    assert list(clf.classes_) == ["0", "True"] and set(got) <= {"0", "True"}
    assert TextClassifier.load(clf.run_dir_).predict(x[:4]).tolist() == got.tolist()


def test_score_takes_sample_weight_as_scikit_learns_score_does(text_run, texts):
    """score(X, y, sample_weight=w) was a TypeError ('unexpected keyword argument'): scikit-learn's
    classifiers weigh each row's hit by it (accuracy_score's sample_weight)."""
    from sklearn.metrics import accuracy_score
    x, y = texts(30, seed=9)
    w = np.random.default_rng(0).uniform(0.1, 3.0, len(y))
    assert text_run.score(x, y, sample_weight=w) == pytest.approx(accuracy_score(y, text_run.predict(x), sample_weight=w))
    assert text_run.score(x, y, sample_weight=np.ones(len(y))) == pytest.approx(text_run.score(x, y))
    with pytest.raises(LstmkitError, match=r"^got 29 sample weights for 30 labelled rows"):
        text_run.score(x, y, sample_weight=w[:-1])
    with pytest.raises(LstmkitError, match=r"^sample_weight holds a negative or missing weight"):
        text_run.score(x, y, sample_weight=np.r_[w[:-1], np.nan])


def test_fit_takes_sample_weight_as_scikit_learns_classifiers_do(series, tiny_series, tmp_path):
    """fit(X, y, sample_weight=w) was 'has no parameter sample_weight — did you mean class_weight?'.
    Each example's loss weighs w_i (their weighted mean): equal weights train the same model as none
    (same seed), and heavy weights on one class make it predicted more."""
    seqs, labels = series(60, unequal=False)
    X = np.stack([s[:, 0] for s in seqs])
    y = np.array([int(v == "up") for v in labels])
    X = X * 0.15 + np.random.default_rng(1).standard_normal(X.shape)       # the classes overlap: weights decide
    settings = {**tiny_series, "max_epochs": 15, "val_frac": 0, "doctor": False}
    plain = SequenceClassifier(**settings).fit(X, y)
    # np.ones(n)[::-1]: a reversed view was a ValueError from torch ('negative strides are not currently supported')
    for w in (np.ones(len(y)), np.full(len(y), 3.0), list(np.full(len(y), 0.5)), np.ones(len(y))[::-1]):
        same = SequenceClassifier(**settings).fit(X, y, sample_weight=w)
        np.testing.assert_allclose(same.predict_proba(X), plain.predict_proba(X), rtol=0, atol=1e-6)
    heavy = SequenceClassifier(**settings).fit(X, y, sample_weight=np.where(y == 1, 20.0, 1.0), out=tmp_path)
    assert (heavy.predict(X) == 1).mean() > (plain.predict(X) == 1).mean()
    assert heavy.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean()
    meta = json.loads((heavy.run_dir_ / "lstmkit.json").read_text())
    assert "sample_weight" not in json.dumps(meta["config"])                        # no setting: an argument of fit
    assert meta["data"]["sample_weight"]["rows"] == 60 and meta["data"]["sample_weight"]["val_loss"] is None
    assert SequenceClassifier.load(heavy.run_dir_).predict(X).tolist() == heavy.predict(X).tolist()


def test_the_majority_baseline_with_sample_weight_is_scikit_learns_most_frequent_dummy(series, tiny_series):
    """The baseline was the class of the most training rows, scored weighted: with 40 'up' rows of weight
    5 beside 60 'down' rows of weight 1 it answered 'down', right on 0.23 of the held-out weight, where
    DummyClassifier('most_frequent') fitted with the weights answers 'up', right on 0.77."""
    from sklearn.dummy import DummyClassifier
    from lstmkit.tasks.classify.labels import stratified_split
    seqs, labels = series(100, unequal=False)
    X = np.stack([s[:, 0] for s in seqs])
    y = np.array(["up"] * 40 + ["down"] * 60)
    w = np.where(y == "up", 5.0, 1.0)
    clf = SequenceClassifier(**tiny_series, max_epochs=1, val_frac=0.3, doctor=False).fit(X, y, sample_weight=w)
    tr, va = stratified_split(list(y), 0.3, 0)
    dummy = DummyClassifier(strategy="most_frequent").fit(X[tr], y[tr], sample_weight=w[tr])
    assert clf.class_names_[clf.majority_] == dummy.predict(X[:1])[0] == "up"
    assert clf.metrics_["val"]["majority_baseline_accuracy"] == pytest.approx(
        dummy.score(X[va], y[va], sample_weight=w[va]))
    plain = SequenceClassifier(**tiny_series, max_epochs=1, val_frac=0.3, doctor=False).fit(X, y)
    assert plain.class_names_[plain.majority_] == "down"                     # no weights: the commonest row's


class _EachEpochsWeights(Callback):
    """Keeps the net's weights at the end of every epoch."""

    def __init__(self, net_of):
        self.net_of, self.states = net_of, []

    def on_epoch_end(self, trainer, logs) -> None:
        self.states.append({k: v.detach().clone() for k, v in self.net_of().state_dict().items()})


def test_the_validation_loss_is_weighted_by_the_held_out_rows_weights(series, tiny_series, tmp_path):
    """The validation part split off the data was scored unweighted: early stopping and the restored
    weights followed a loss that ignored sample_weight, where scikit-learn and Keras weigh the
    held-out score. Each epoch's val_loss is now the weighted mean of the held-out rows' losses,
    over batches of unequal weight (300 held out: two evaluation batches), and the run says so. Here
    the two losses are lowest at different epochs (weighted: 2, unweighted: 8): the weighted one decides."""
    from lstmkit.tasks.classify.labels import stratified_split
    seqs, labels = series(1500, unequal=False)
    X = np.stack([s[:, 0] for s in seqs]) + np.random.default_rng(2).normal(0, 1.5, (1500, 12))   # the classes overlap
    y = np.array([int(v == "up") for v in labels])
    rng = np.random.default_rng(3)
    w = np.where(rng.random(1500) < 0.3, 0.0, rng.uniform(0.2, 5.0, 1500))
    w[:600] *= 6.0                                    # unequal totals in the evaluation batches
    clf = SequenceClassifier(**tiny_series, max_epochs=12, patience=20, val_frac=0.2, doctor=False)
    keep = _EachEpochsWeights(lambda: clf.net_)
    clf.fit(X, y, sample_weight=w, out=tmp_path, callbacks=[keep])
    _, val_idx = stratified_split([str(v) for v in y], 0.2, 0)
    assert len(val_idx) == 300
    Xv, yv, wv = X[val_idx], y[val_idx], w[val_idx]
    best = clf.net_.state_dict()
    weighted, plain = [], []
    for state in keep.states:
        clf.net_.load_state_dict(state)
        p = np.clip(clf.predict_proba(Xv)[np.arange(300), yv], 1e-12, 1)
        weighted.append(float((wv * -np.log(p)).sum() / wv.sum()))
        plain.append(float(-np.log(p).mean()))
    clf.net_.load_state_dict(best)
    got = [h["val_loss"] for h in clf.result_.history]
    np.testing.assert_allclose(got, weighted, rtol=1e-4)
    assert not np.allclose(got, plain, rtol=1e-2)
    assert clf.result_.best_epoch == int(np.argmin(weighted)) + 1 != int(np.argmin(plain)) + 1
    record = json.loads((clf.run_dir_ / "lstmkit.json").read_text())["data"]["sample_weight"]
    assert record["rows"] == 1500 and record["val_loss"] == "weighted"
    unweighted = SequenceClassifier(**tiny_series, max_epochs=1, doctor=False).fit(
        X[:200], y[:200], sample_weight=w[:200], val_data=(X[200:260], y[200:260]), out=tmp_path)
    assert json.loads((unweighted.run_dir_ / "lstmkit.json").read_text())["data"]["sample_weight"]["val_loss"] \
        == "unweighted"                               # validation data given apart carries no weights


def test_validation_data_given_with_weights_weighs_its_loss_and_its_accuracy(series, tiny_series, tmp_path):
    """fit(..., val_data=(X, y, w)) was refused ('holds no labels'/an unknown data type), so validation
    data given apart was always scored unweighted; and the validation metrics (accuracy, macro-F1)
    were unweighted even for a part split off weighted data. Each epoch's val_loss is now the weighted
    mean over the given rows, the metrics weigh them, and the run records the weights."""
    from sklearn.metrics import accuracy_score, f1_score
    seqs, labels = series(400, unequal=False)
    X = np.stack([s[:, 0] for s in seqs]) + np.random.default_rng(2).normal(0, 1.5, (400, 12))   # the classes overlap
    y = np.array([int(v == "up") for v in labels])
    wv = np.where(np.random.default_rng(3).random(150) < 0.3, 0.0, np.random.default_rng(4).uniform(0.2, 5.0, 150))
    Xv, yv = X[250:], y[250:]
    clf = SequenceClassifier(**tiny_series, max_epochs=4, patience=20, doctor=False)
    keep = _EachEpochsWeights(lambda: clf.net_)
    clf.fit(X[:250], y[:250], val_data=(Xv, yv, list(wv)), out=tmp_path, callbacks=[keep])
    best = clf.net_.state_dict()
    weighted = []
    for state in keep.states:
        clf.net_.load_state_dict(state)
        p = np.clip(clf.predict_proba(Xv)[np.arange(150), yv], 1e-12, 1)
        weighted.append(float((wv * -np.log(p)).sum() / wv.sum()))
    clf.net_.load_state_dict(best)
    np.testing.assert_allclose([h["val_loss"] for h in clf.result_.history], weighted, rtol=1e-4)
    m = clf.metrics_["val"]
    pred = clf.predict(Xv)
    assert m["weighted"] and m["accuracy"] == pytest.approx(accuracy_score(yv, pred, sample_weight=wv))
    assert m["macro_f1"] == pytest.approx(f1_score(yv, pred, average="macro", sample_weight=wv))
    assert m["n"] == 150 and sum(c["support"] for c in m["per_class"].values()) == 150
    record = json.loads((clf.run_dir_ / "lstmkit.json").read_text())["data"]["sample_weight"]
    assert record["rows"] is None and record["val_loss"] == "weighted" and record["val_rows"] == 150
    # with training weights too; the part split off weighted data is scored weighted as well
    both = SequenceClassifier(**tiny_series, max_epochs=1, doctor=False).fit(
        X[:250], y[:250], sample_weight=np.ones(250), val_data=(Xv, yv, wv))
    assert both.data_summary_["sample_weight"]["rows"] == 250 and both.metrics_["val"]["weighted"]
    split = SequenceClassifier(**tiny_series, max_epochs=1, doctor=False, val_frac=0.2).fit(
        X, y, sample_weight=np.r_[wv, wv, wv[:100]])
    assert split.metrics_["val"]["weighted"] and "weighted" not in SequenceClassifier(
        **tiny_series, max_epochs=1, doctor=False).fit(X[:250], y[:250], val_data=(Xv, yv)).metrics_["val"]


def test_text_validation_weights_weigh_the_word_score_mix_too(texts, tiny):
    """With word scores on (the default), training weights stay refused (the naive-Bayes tables count
    texts), but validation weights are taken: the mix of word scores is fitted on the validation part,
    weighted as early stopping's loss is (weights of 1 fit the mix fitted without them)."""
    x, y = texts(80, seed=3)
    xv, yv = texts(30, seed=4)
    plain = TextClassifier(max_epochs=2, **tiny).fit(x, y, val_data=(xv, yv))
    ones = TextClassifier(max_epochs=2, **tiny).fit(x, y, val_data=(xv, yv, np.ones(30)))
    assert ones.data_summary_["word_score_mix"] == plain.data_summary_["word_score_mix"]
    assert ones.data_summary_["word_score_bias"] == plain.data_summary_["word_score_bias"]
    assert ones.metrics_["val"]["accuracy"] == plain.metrics_["val"]["accuracy"] and ones.metrics_["val"]["weighted"]


def test_a_resume_given_other_validation_weights_is_refused_by_name(tmp_path):
    from lstmkit.data.sample_weight import check_same_weights, weights_record
    w, v = np.ones(5), np.arange(1.0, 4.0)
    was = {"sample_weight": weights_record(w, "weighted", v)}
    check_same_weights(was, {"sample_weight": weights_record(w, "weighted", v.copy())}, tmp_path)
    for now, said in ((weights_record(w, "unweighted"), r"was trained with weights in val_data \(3\), and this "
                       "resume gives none"),
                      (weights_record(w, "weighted", v[::-1]), "val_data's weights differ from those"),
                      (weights_record(None, "weighted", v), "sample_weight \\(5 weights\\), and this resume gives none")):
        with pytest.raises(LstmkitError, match=said):
            check_same_weights(was, {"sample_weight": now}, tmp_path)
    with pytest.raises(LstmkitError, match="was trained with val_data unweighted, and this resume gives 3 weights"):
        check_same_weights({"sample_weight": None}, {"sample_weight": weights_record(None, "weighted", v)}, tmp_path)


def test_held_out_rows_of_weight_0_alone_are_refused(series, tiny_series, tmp_path):
    """The weighted validation loss of a validation part whose every weight is 0 is 0/0: named before
    any run folder, as a training part of weight 0 is."""
    from lstmkit.tasks.classify.labels import stratified_split
    seqs, labels = series(40, unequal=False)
    _, val_idx = stratified_split(labels, 0.2, 0)
    w = np.ones(40)
    w[val_idx] = 0.0
    with pytest.raises(LstmkitError, match=r"^sample_weight gives every row of the validation part weight 0 "
                                           r"\(8 rows; its others went to the training part\)") as e:
        SequenceClassifier(**tiny_series, max_epochs=1, val_frac=0.2).fit(seqs, labels, sample_weight=w,
                                                                          out=tmp_path / "runs")
    assert "val_data or val_frac=0" in e.value.hint and not (tmp_path / "runs").exists()
    w = np.zeros(40)
    w[val_idx] = 1.0
    with pytest.raises(LstmkitError, match=r"^sample_weight gives every row of the training part weight 0"):
        SequenceClassifier(**tiny_series, max_epochs=1, val_frac=0.2).fit(seqs, labels, sample_weight=w,
                                                                          out=tmp_path / "runs")


@pytest.mark.parametrize("w, words", [
    (lambda n: np.ones(n - 1), r"^got {less} {named} for {n} labelled rows"),
    (lambda n: np.r_[np.ones(n - 1), np.nan], r"^{what} holds a negative or missing weight \(nan at row {n}\)"),
    (lambda n: np.r_[-1.0, np.ones(n - 1)], r"^{what} holds a negative or missing weight \(-1.0 at row 1\)"),
    (lambda n: np.r_[np.ones(n - 1), np.inf], r"^{what} holds an infinite weight \(inf at row {n}\)"),
    (lambda n: np.zeros(n), r"^{what} holds only zeros \({n} rows\)"),
    (lambda n: ["a"] * n, r"^{what} holds values that are not numbers"),
])
@pytest.mark.parametrize("given", ["sample_weight", "val_data"])
def test_a_bad_sample_weight_is_one_error_before_any_run_folder(series, tiny_series, tmp_path, w, words, given):
    """fit's sample_weight, and the weights of val_data=(X, y, w) (which fit did not take), checked alike."""
    from lstmkit.errors import BadValue
    seqs, labels = series(60, unequal=False)
    if given == "sample_weight":
        n, what, named, args = 60, "sample_weight", "sample weights", dict(sample_weight=w(60))
    else:
        n, what, named = 20, r"val_data\[2\]", r"weights in val_data\[2\]"
        seqs, labels, args = seqs[:40], labels[:40], dict(val_data=(seqs[40:], labels[40:], w(20)))
    with pytest.raises(BadValue, match=words.format(less=n - 1, n=n, what=what, named=named)) as e:
        SequenceClassifier(**tiny_series, max_epochs=1).fit(seqs, labels, out=tmp_path / "runs", **args)
    assert e.value.hint and not (tmp_path / "runs").exists()


def test_sample_weight_on_texts_needs_the_word_scores_off(texts, tiny):
    """The naive-Bayes tables count texts: a weight cannot scale them, so the pairing is refused by name."""
    x, y = texts(20)
    with pytest.raises(LstmkitError, match="naive-Bayes word scores .* count texts unweighted") as e:
        TextClassifier(max_epochs=1, **tiny).fit(x, y, sample_weight=np.ones(20))
    assert "word_scores=False" in e.value.hint
    clf = TextClassifier(max_epochs=1, word_scores=False, **tiny).fit(x, y, sample_weight=np.r_[np.ones(10), np.zeros(10)])
    assert clf.classes_.tolist() == ["neg", "pos"]


def test_unseen_labels_at_evaluate(text_run):
    with pytest.raises(LstmkitError, match="not seen in training: 'meh'"):
        text_run.evaluate(pd_frame(["good", "fine"], ["pos", "meh"]))


def test_attention_needs_attention_pooling(text_run):
    with pytest.raises(LstmkitError, match="pooling='attention'"):
        text_run.attention("great")


@pytest.mark.filterwarnings("ignore:.*longer than max_len")      # cut on purpose
def test_multiclass_attention_and_class_weights(tmp_path, texts, tiny):
    x, y = texts(150, classes=("neg", "pos", "meh"))
    clf = TextClassifier(max_epochs=5, pooling="attention", class_weight="balanced", model="lstm",
                         max_len=6, truncate="tail", **tiny).fit(x, y)
    assert list(clf.classes_) == ["meh", "neg", "pos"] and clf.predict_proba(x[:4]).shape == (4, 3)
    assert "roc_auc" not in clf.metrics_["val"] and clf.class_weights_ is not None
    tokens, weights, label, p = clf.attention("The plot was long, and dull but the acting great")
    assert tokens == ["long", "and", "dull", "but", "the", "acting", "great"][-6:]    # tail kept
    assert len(weights) == len(tokens) and weights.sum() == pytest.approx(1.0)
    assert label in clf.classes_ and 0 < p <= 1
    assert "<span" in clf.write_attention("great film", tmp_path / "a.html").read_text()


def test_sequence_classifier_unequal_lengths_round_trip(tmp_path, series, tiny_series):
    seqs, labels = series(120)
    clf = SequenceClassifier(max_epochs=15, unequal_length=True, **tiny_series).fit(seqs, labels, out=tmp_path)
    test_seqs, test_labels = series(40, seed=9)
    assert (clf.predict(test_seqs) == np.array(test_labels)).mean() >= 0.9
    again = load_classifier(clf.run_dir_)
    assert isinstance(again, SequenceClassifier)
    np.testing.assert_allclose(again.predict_proba(test_seqs), clf.predict_proba(test_seqs), rtol=1e-6)
    with pytest.raises(LstmkitError, match="different lengths"):
        SequenceClassifier(**tiny_series).fit(seqs, labels)


def test_lstm_fcn_without_holdout_follows_the_training_loss(tmp_path, series, tiny_series):
    """val_frac=0 (LSTM-FCN's UCR protocol): every example trains, the training loss picks the
    weights, metrics and the confusion plot come from the training set."""
    seqs, labels = series(60, unequal=False)
    clf = SequenceClassifier(model="lstm-fcn", pooling="mean", val_frac=0, max_epochs=8, **tiny_series)
    clf.fit(seqs, labels, out=tmp_path)
    assert clf.data_summary_["split"] == {"train": 60, "val": 0, "test": 0}
    assert set(clf.metrics_) == {"train"} and clf.metrics_["train"]["n"] == 60
    losses = [row["train_loss"] for row in clf.result_.history]
    assert clf.result_.best_epoch == 1 + int(np.argmin(losses))
    assert all(np.isnan(row["val_loss"]) for row in clf.result_.history)
    test_seqs, test_labels = series(40, seed=9, unequal=False)
    assert (clf.predict(test_seqs) == np.array(test_labels)).mean() >= 0.9
    assert (clf.run_dir_ / "plots" / "confusion.png").is_file()
    again = load_classifier(clf.run_dir_)
    np.testing.assert_allclose(again.predict_proba(test_seqs), clf.predict_proba(test_seqs), rtol=1e-6)


@pytest.mark.parametrize("frac", [-0.1, 1.0])
def test_val_frac_outside_zero_one(frac, series, tiny_series):
    seqs, labels = series(20)
    with pytest.raises(LstmkitError, match=r"val_frac.*\[0, 1\)"):
        SequenceClassifier(val_frac=frac, unequal_length=True, **tiny_series).fit(seqs, labels)


def test_a_validation_part_larger_than_the_training_part_is_said(texts, tiny):
    x, y = texts(40)
    x = [f"{t} {k}" for k, t in enumerate(x)]
    with pytest.warns(UserWarning, match=r"^val_frac=0.9 holds out 36 of 40 rows for validation and trains on 4.*"
                                         r"pass val_frac=0.1 to 0.2$"):
        TextClassifier(max_epochs=1, val_frac=0.9, **tiny).fit(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TextClassifier(max_epochs=1, val_frac=0.5, **tiny).fit(x, y)


def test_series_defaults_never_override_the_callers_settings(tmp_path, series, tiny_series):
    seqs, labels = series(40)
    given = {"max_epochs": 1, "batch_size": 64, "patience": 2}
    for clf in (SequenceClassifier(train=given, unequal_length=True, **tiny_series),      # nested, as the CLI passes
                SequenceClassifier(**given, unequal_length=True, **tiny_series)):        # flat keywords
        t = clf.config.train
        assert (t.max_epochs, t.batch_size, t.patience) == (1, 64, 2)
        assert t.lr_patience == 100 and clf.config.dropout == 0.8      # left out: the series defaults (LSTM-FCN)
    clf.fit(seqs, labels, out=tmp_path)
    assert clf.result_.epochs_run == 1
    saved = json.loads((clf.run_dir_ / "lstmkit.json").read_text())["config"]["train"]
    assert (saved["max_epochs"], saved["batch_size"], saved["patience"]) == (1, 64, 2)
    t = SequenceClassifier().config.train
    assert (t.max_epochs, t.batch_size, t.patience) == (2000, 16, 300)
    assert TextClassifier().config.train.batch_size == 64            # text keeps ClassifyConfig's defaults


@pytest.mark.filterwarnings("ignore:.* texts of the validation part occur in the training data too")
def test_texts_cut_by_max_len_are_counted_and_said(tiny):
    """A cap that cuts texts is said once, with how many and what is read; none cut, no warning."""
    x = ["good " * 30 + "great", "bad " * 30 + "awful", "good film", "bad film"] * 10
    y = ["pos", "neg", "pos", "neg"] * 10
    with pytest.warns(UserWarning, match=r"of \d+ training texts \([\d.]+%\) are longer than max_len=8 tokens "
                                         r"\(the longest 31\): only their first 4 and last 4 tokens are read"):
        clf = TextClassifier(max_epochs=1, max_len=8, **tiny).fit(x, y)
    cut = clf.data_summary_["truncated"]
    assert cut["longest"] == 31 and 0 < cut["count"] < cut["of"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", ".* texts of the validation part occur in the training data too")  # x repeats
        assert TextClassifier(max_epochs=1, max_len=40, **tiny).fit(x, y).data_summary_["truncated"]["count"] == 0


def test_a_small_share_of_texts_cut_is_no_zero_percent():
    """3 of 1,359 training texts cut was "(0%)": a share that reads as none."""
    from lstmkit.tasks.classify.config import ClassifyConfig
    from lstmkit.tasks.classify.fit_checks import warn_truncated
    with pytest.warns(UserWarning, match=r"^3 of 1359 training texts \(0.22%\) are longer than max_len=400 tokens "
                                         r"\(the longest 44974\)"):
        warn_truncated({"count": 3, "of": 1359, "longest": 44974}, ClassifyConfig(), "text")


def test_a_tiny_share_of_texts_cut_is_written_as_a_plain_percentage():
    """1 of 2,000,000 training texts (a Wikipedia-sized corpus with one long line) is 0.00005%: it
    was written "(5e-05%)", as ``.2g`` turns to an exponent below 0.0001."""
    from lstmkit.tasks.classify.config import ClassifyConfig
    from lstmkit.tasks.classify.fit_checks import warn_truncated
    with pytest.warns(UserWarning, match=r"^1 of 2000000 training texts \(0\.00005%\) are longer than"):
        warn_truncated({"count": 1, "of": 2_000_000, "longest": 900}, ClassifyConfig(), "text")
    with pytest.warns(UserWarning, match=r"^3 of 20000000 training texts \(0\.000015%\) are longer than"):
        warn_truncated({"count": 3, "of": 20_000_000, "longest": 900}, ClassifyConfig(), "text")


def test_one_class_written_two_ways_is_said_at_fit(texts, tiny):
    """'Pos ' and 'pos' were two classes without a word (the model split one class in two)."""
    x, y = texts(40)
    y = ["Pos " if lab == "pos" and k % 4 == 1 else lab for k, lab in enumerate(y)]
    with pytest.warns(UserWarning, match=r"differ only in case, .*'Pos' \(10 rows\) and 'pos' \(10 rows\)"):
        clf = TextClassifier(max_epochs=1, **tiny).fit(x, y)
    assert list(clf.classes_) == ["Pos", "neg", "pos"]


def test_texts_scored_that_training_holds_too_are_said(texts, tiny, recwarn):
    """Duplicate rows split between training and validation (or copied into the test file) made the
    scores flatter the model without a word."""
    x, y = texts(40)
    x = [f"{t} {k}" for k, t in enumerate(x)]                  # every text its own
    TextClassifier(max_epochs=1, **tiny).fit(x, y, test_data=(x[:5] + ["a new text"], y[:6]))
    (w,) = [w for w in recwarn.list if "training data too" in str(w.message)]
    assert str(w.message).startswith("5 of the 6 texts of the test data occur in the training data too")
    assert w.filename == __file__                               # the caller's fit, not a line of lstmkit
    recwarn.clear()
    TextClassifier(max_epochs=1, **tiny).fit(x * 2, y * 2)
    (w,) = [w for w in recwarn.list if "training data too" in str(w.message)]
    assert re.match(r"[1-8] of the 8 texts of the validation part occur in the training data too", str(w.message))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TextClassifier(max_epochs=1, **tiny).fit(x, y)



def test_the_columns_a_validation_table_implies_are_not_the_runs(texts, tiny, tmp_path):
    """A two-column validation table without a 'text' column was read by its columns, and its text
    column became the run's: predict on a table like the training one was 'text column 'review' not found'."""
    import pandas as pd
    x, y = texts(40)
    val = pd.DataFrame({"review": x[:8], "label": y[:8]})
    est = TextClassifier(max_epochs=1, **tiny).fit(pd.DataFrame({"text": x, "label": y}), val_data=val,
                                                   out=tmp_path)
    assert (est.config_.text, est.config_.label) == ("text", "label")
    assert len(load_classifier(est.run_dir_).predict(pd.DataFrame({"text": x[:3], "label": y[:3]}))) == 3
    with pytest.raises(LstmkitError, match=r"text column 'text' not found — name the columns of the validation data "
                                           r"as the training data's: .* \(its columns: id, review, label\)"):
        est.fit(pd.DataFrame({"text": x, "label": y}), val_data=val.assign(id=1)[["id", "review", "label"]])

def test_the_columns_a_scored_table_implies_are_not_the_models(text_run, texts):
    """evaluate (and score) on a two-column table without a 'text' column read it by its columns, as
    it should, but kept its text column as the model's: predict on a table like the training one was
    then "text column 'review' not found", and a save wrote 'review'."""
    import pandas as pd
    x, y = texts(12, seed=3)
    before = (text_run.config_.text, text_run.config_.label)
    assert text_run.score(pd.DataFrame({"review": x, "label": y})) == text_run.score(x, y)
    assert (text_run.config_.text, text_run.config_.label) == before == ("text", "label")
    assert list(text_run.predict(pd.DataFrame({"text": x, "id": 1}))) == list(text_run.predict(x))


def test_a_frame_without_the_models_column_is_told_what_python_can_do(text_run, texts):
    """predict and evaluate take no column names, yet a DataFrame without the model's text column was
    told the command line's "pass --text with one of: …"."""
    import pandas as pd
    x, y = texts(4, seed=3)
    with pytest.raises(LstmkitError, match=r"text column 'text' not found \(did you mean 'txt'\?\) — the model reads "
                                           r"column 'text' \(as it was trained\): rename the DataFrame's to it, e.g. "
                                           r"df.rename\(columns=\{'txt': 'text'\}\), or pass the texts alone, "
                                           r"df\['txt'\] \(its columns: txt, id\)$"):
        text_run.predict(pd.DataFrame({"txt": x, "id": 1}))
    # a frame without the label column: its labels may come as y (the fix was to rename a column to 'label': the
    # text column itself, df.rename(columns={'text': 'label'}), where the texts were the frame's only column)
    with pytest.raises(LstmkitError, match=r"label column 'label' not found — pass the labels as y \(its columns: "
                                           r"text, y, id\)$"):
        text_run.evaluate(pd.DataFrame({"text": x, "y": y, "id": 1}))
    with pytest.raises(LstmkitError, match=r"label column 'label' not found — pass the labels as y \(its columns: text\)$"):
        text_run.score(pd.DataFrame({"text": x}))
    with pytest.raises(LstmkitError, match=r"label column 'label' not found \(did you mean 'Label'\?\) — pass the "
                                           r"labels as y, or rename its 'Label' column to it, df.rename\(columns="
                                           r"\{'Label': 'label'\}\) \(its columns: text, Label, id\)$"):
        text_run.evaluate(pd.DataFrame({"text": x, "Label": y, "id": 1}))
    assert len(text_run.predict(pd.DataFrame({"txt": x, "id": 1})["txt"])) == 4      # the fix works
    assert 0 <= text_run.score(pd.DataFrame({"text": x}), y) <= 1


def test_a_wide_frame_of_steps_without_labels_is_told_to_pass_y(series, tiny_series):
    """A numeric classifier scored on a wide frame of its steps alone was told "the table is neither
    long nor wide … pass label= with its label column", a setting score and evaluate do not take."""
    import pandas as pd
    steps = pd.DataFrame(np.tile([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]], (10, 1)))
    clf = SequenceClassifier(max_epochs=1, val_frac=0, **tiny_series).fit(steps.assign(label=[1, 0] * 10))
    with pytest.raises(LstmkitError, match=r"^label column 'label' not found — pass the labels as y \(its columns: "
                                           r"0, 1, 2\)$"):
        clf.score(steps)
    assert clf.score(steps, [1, 0] * 10) == clf.score(steps.assign(label=[1, 0] * 10))


@pytest.mark.parametrize("tokenizer", ["char", "bpe"])
def test_texts_with_a_lone_surrogate_train_save_and_predict(texts, tiny, tmp_path, tokenizer):
    """A lone surrogate (JSON's cut emoji) was a bare UnicodeEncodeError: writing vocab.json after
    training (char), or in the BPE trainer (and a TypeError in BPE's predict)."""
    x, y = texts(30)
    x = [t + (" \ud83d" if i % 3 == 0 else "") for i, t in enumerate(x)]
    with pytest.warns(UserWarning, match="half of a UTF-16 surrogate pair"):
        est = TextClassifier(max_epochs=1, tokenizer=tokenizer, **tiny).fit(x, y, out=tmp_path)
    with pytest.warns(UserWarning, match="half of a UTF-16 surrogate pair"):
        np.testing.assert_allclose(load_classifier(est.run_dir_).predict_proba(x[:4]), est.predict_proba(x[:4]))


@pytest.mark.parametrize("cls, data", [(TextClassifier, ["good film"]), (SequenceClassifier, [np.zeros((5, 1))])])
@pytest.mark.parametrize("method", ["predict", "predict_proba", "evaluate"])
def test_an_unfitted_classifier_says_so(cls, data, method):
    with pytest.raises(LstmkitError, match=f"this {cls.__name__} is not fitted yet"):
        getattr(cls(), method)(data)


def test_a_min_freq_above_every_words_count_is_refused_before_training(texts, tiny, tmp_path):
    """--min-freq 1000 on a small file kept no word: every text read as <unk>, and training went on to
    chance accuracy without a word."""
    x, y = texts(40)
    with pytest.raises(LstmkitError, match=r"min_freq=1000 keeps no word of the training texts \(the most "
                                           r"frequent is seen \d+ times\).*pass min_freq=[12]"):
        TextClassifier(max_epochs=1, **{**tiny, "min_freq": 1000}).fit(x, y, out=tmp_path)
    assert not list(tmp_path.iterdir())                           # no run folder begun


def test_a_vocabulary_that_misses_most_words_is_said(tiny):
    x = [" ".join(f"w{k}x{j}" for j in range(10)) + " common" for k in range(100)]   # 10 words seen once, 1 kept
    y = ["a", "b"] * 50
    with pytest.warns(UserWarning, match=r"91% of the training texts' words are unknown to the vocabulary "
                                         r"\(min_freq=2, max_size=\d+; the most frequent word is seen 90 times\).*lower min_freq=$"):
        TextClassifier(max_epochs=1, **{**tiny, "min_freq": 2}).fit(x, y)


def test_a_full_vocabulary_cap_at_min_freq_one_says_to_raise_it_not_to_lower_min_freq(tiny):
    """At min_freq=1 a max_size of 6 left 90% of the words unknown, and the warning said 'lower
    min_freq=', the lowest value, given: the cap had left them out."""
    x = [" ".join(f"w{k}x{j}" for j in range(10)) + " common" for k in range(100)]
    y = ["a", "b"] * 50
    with pytest.warns(UserWarning, match=r"words are unknown to the vocabulary \(min_freq=1, max_size=6;.*"
                                         r"raise max_size= \(the vocabulary is full\)$") as caught:
        TextClassifier(max_epochs=1, **{**tiny, "min_freq": 1, "max_size": 6}).fit(x, y)
    assert not [w for w in caught if "lower min_freq" in str(w.message)]


def test_the_text_column_as_label_is_refused(tmp_path, tiny):
    import pandas as pd
    path = tmp_path / "t.csv"
    pd.DataFrame({"text": ["good film", "bad film"] * 10, "label": ["pos", "neg"] * 10}).to_csv(path, index=False)
    with pytest.raises(LstmkitError, match="the text and the label column are the same column, 'text'") as e:
        TextClassifier(max_epochs=1, **tiny).fit(str(path), label="text")
    # in a Python caller's words (it said 'pass the column of class names as label=')
    assert e.value.hint == "name the column of class names with label='NAME' and the texts' with text='NAME'"


@pytest.mark.filterwarnings("ignore:.*occur in the training data with different labels")
def test_texts_given_as_the_labels_are_said_without_a_validation_split(texts, tiny):
    """The text and label columns swapped (label= naming the texts) was refused with a validation
    split ('each of the 20 classes has one example'), but with val_frac=0 or val_data a class per row
    was trained without a word."""
    import pandas as pd
    x, y = texts(20)
    swapped = pd.DataFrame({"text": y, "label": x})
    for settings in ({"val_frac": 0}, {"val_data": swapped.iloc[:4]}):
        with pytest.warns(UserWarning, match=r"^20 of the 20 rows are the only example of their class \(first: '.+'\): "
                                             r"a class is learnt from several examples; check the label column \(label=: "
                                             r"does it hold the texts, or ids\?\)"):
            TextClassifier(max_epochs=1, **tiny).fit(swapped, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        TextClassifier(max_epochs=1, val_frac=0, **tiny).fit(x, y)               # labels as they should be: no word


def test_classifying_many_texts_shows_progress_and_the_same_probabilities(text_run, texts, monkeypatch, capsys):
    from lstmkit.train import progress
    x, _ = texts(600, seed=8)                                 # 3 batches of 256
    quiet = text_run.predict_proba(x)
    assert capsys.readouterr().err == ""                     # the run's setting: progress off
    monkeypatch.setattr(text_run.config.train, "progress", "log")
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)
    assert (text_run.predict_proba(x) == quiet).all()
    err = capsys.readouterr().err.splitlines()
    assert [line.split(",")[0] for line in err] == [f"classifying: {k}/3 batches" for k in (1, 2, 3)]


def test_fit_encodes_the_training_texts_once_and_trains_as_with_a_second_encoding(tiny, texts, monkeypatch):
    """The training part encoded for the vocabulary check and the word scores is the one training
    reads (encoding 200,000 texts took 7-10 s, done twice before), and the vocabulary is counted on
    the same cut texts (fitting cut each text again, one at a time)."""
    from lstmkit.data.vocab import WordTokenizer
    x, y = texts(60, seed=2)
    settings = {**tiny, "max_epochs": 1, "word_scores": True}
    calls, one_at_a_time = [], []
    cut = WordTokenizer.tokens_many
    monkeypatch.setattr(WordTokenizer, "tokens_many", lambda self, t: calls.append(len(t)) or cut(self, t))
    alone = WordTokenizer.tokens
    monkeypatch.setattr(WordTokenizer, "tokens", lambda self, t: one_at_a_time.append(t) or alone(self, t))
    once = TextClassifier(**settings).fit(x, y)
    assert calls[0] == once.data_summary_["split"]["train"] == 54 and calls.count(54) == 1     # validation: 6
    assert one_at_a_time == []
    fit_preprocessing = TextClassifier._fit_preprocessing
    monkeypatch.setattr(TextClassifier, "_fit_preprocessing", lambda self, *a: fit_preprocessing(self, *a) and None)
    twice = TextClassifier(**settings).fit(x, y)                       # the training part encoded anew
    assert calls.count(54) == 3
    assert (once.predict_proba(x) == twice.predict_proba(x)).all()


def test_a_one_column_frame_of_texts_with_y_is_read_as_the_texts(texts, tiny):
    """fit(df[["review"]], df["label"]), scikit-learn's X and y, was refused: "text column 'text' not
    found — pass --text with one of: review", though the one column can only be the texts
    (predict read such a frame already)."""
    import pandas as pd
    x, y = texts(40)
    with pytest.warns(UserWarning, match="reading its one column 'review' as the texts"):
        clf = TextClassifier(max_epochs=1, **tiny).fit(pd.DataFrame({"review": x}), y)
    np.testing.assert_array_equal(TextClassifier(max_epochs=1, **tiny).fit(x, y).predict_proba(x), clf.predict_proba(x))
    with pytest.raises(LstmkitError, match="text column 'text' not found"):     # two columns: say which
        TextClassifier(max_epochs=1, **tiny).fit(pd.DataFrame({"review": x, "id": range(40)}), y)


def test_labels_in_the_table_and_in_y_are_refused_as_the_series_classifier_does(text_run, texts, series, tiny,
                                                                                tiny_series):
    """``TextClassifier().fit(df_with_a_label_column, y)`` trained on y and ignored the table's labels
    (evaluate and score too) while ``SequenceClassifier`` refused them; now both give one error."""
    import pandas as pd
    x, y = texts(12, seed=3)
    flipped = ["pos" if v == "neg" else "neg" for v in y]
    table = pd.DataFrame({"text": x, "label": y})
    seqs, s_labels = series(6)
    s_table = pd.DataFrame([{"sample": i, "t": t, "x": v, "label": lab}
                            for i, (s, lab) in enumerate(zip(seqs, s_labels)) for t, v in enumerate(s.ravel())])
    with pytest.raises(LstmkitError) as series_error:
        SequenceClassifier(max_epochs=1, unequal_length=True, **tiny_series).fit(s_table, s_labels)
    clf = TextClassifier(max_epochs=1, **tiny)
    said = "labels given twice: in the data's 'label' column and as y — pass only one of them (drop y, or the label column)"
    for call in (lambda: clf.fit(table, flipped), lambda: text_run.evaluate(table, flipped),
                 lambda: text_run.score(table, flipped),
                 lambda: text_run.score(table, flipped, sample_weight=[1] * 12)):
        with pytest.raises(LstmkitError) as text_error:
            call()
        assert str(text_error.value) == str(series_error.value) == said
    assert not hasattr(clf, "net_")                                # the refused fit left nothing behind
    assert text_run.score(table[["text"]], flipped) == text_run.score(x, flipped) != text_run.score(table)


@pytest.mark.parametrize("good, bad, fill, sep", [
    ("ดี", "แย่", ["กิน", "ข้าว", "ไป", "บ้าน", "เรา", "วัน", "คน", "รถ"], ""),       # Thai, written without spaces
    ("😀", "😡", ["the", "film", "was", "and", "plot", "it"], " "),                     # the label in an emoji alone
])
def test_a_label_given_by_one_thai_word_or_one_emoji_is_learnt(good, bad, fill, sep, tiny):
    """A Thai sentence was one word (each text its own token, every new text unknown) and emoji were
    dropped: both classifiers stayed near chance (0.50-0.57 on these texts), without a word."""
    rng = np.random.default_rng(0)

    def make(n):
        x, y = [], []
        for i in range(n):
            words = list(rng.choice(fill, rng.integers(3, 8)))
            words.insert(int(rng.integers(0, len(words) + 1)), good if i % 2 else bad)
            x.append(sep.join(words))
            y.append("pos" if i % 2 else "neg")
        return x, y
    x, y = make(200)
    clf = TextClassifier(max_epochs=5, **tiny).fit(x, y)
    assert {*clf.tokenizer_.tokens(good), *clf.tokenizer_.tokens(bad)} <= set(clf.tokenizer_.vocab.itos)
    x_new, y_new = make(60)
    assert np.mean(clf.predict(x_new) == np.array(y_new)) >= 0.9


def test_equal_texts_or_series_with_different_labels_are_said_once(texts, series, tiny, tiny_series):
    """Duplicates that disagree were trained on without a word: no model can tell them apart."""
    x, y = texts(40)
    x, y = [*x, "dup text", " dup text", "dup again", "dup again"], [*y, "pos", "neg", "neg", "pos"]
    with pytest.warns(UserWarning, match=r"^2 text\(s\) occur in the training data with different labels \(first: "
                                         r"'dup text' as 'neg' and 'pos'\): no model can tell them apart; check those "
                                         r"labels, or keep one label for each$") as caught:
        TextClassifier(max_epochs=1, **tiny).fit(x, y)
    assert [w.filename for w in caught if "different labels" in str(w.message)] == [__file__]   # the caller's line
    seqs, labels = series(30, unequal=False)
    seqs, labels = [*seqs, seqs[3]], [*labels, "down" if labels[3] == "up" else "up"]
    with pytest.warns(UserWarning, match=r"^1 series occur in the training data with different labels \(first: "
                                         r"row 4: 'down' and 'up'\)"):
        SequenceClassifier(max_epochs=1, **tiny_series).fit(seqs, labels)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", ".* occur in the training data too")       # the validation part's repeats
        x, y = texts(40)
        TextClassifier(max_epochs=1, **tiny).fit([*x, "dup text", "dup text"], [*y, "pos", "pos"])   # agreeing: no warning


def test_html_in_reviews_is_read_as_text_and_an_old_run_reads_it_as_it_was_trained(tmp_path, tiny):
    """IMDB-style reviews: '&amp;', '&eacute;', '&#39;' were words of their own ('amp', 'eacute',
    '39'), and so were inline tags ('<i>': 'i'). A new run decodes them and drops those (vocab.json
    records html: 2); a run saved before reads them as its vocabulary was counted."""
    import hashlib
    x = [t for k in range(20) for t in (f"caf&eacute; was <i>great</i> &amp; fun<br /><br />it&#39;s good {k}",
                                        f"awful &quot;film&quot;<p>bad</p> {k}")]
    y = ["pos", "neg"] * 20
    run = TextClassifier(max_epochs=1, **tiny).fit(x, y, out=tmp_path).run_dir_
    state = json.loads((run / "vocab.json").read_text())
    assert state["html"] == 2 and {"café", "it's", "film"} <= set(state["itos"])
    assert not {"amp", "eacute", "39", "quot", "p", "i"} & set(state["itos"])        # '<i>' was the word 'i'
    assert TextClassifier.load(run).tokenizer_.tokens("<em>so</em> &amp;") == ["so"]
    old = {k: v for k, v in state.items() if k != "html"}
    (run / "vocab.json").write_text(json.dumps(old))
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["weights_sha256"]["vocab.json"] = hashlib.sha256((run / "vocab.json").read_bytes()).hexdigest()
    (run / "lstmkit.json").write_text(json.dumps(meta))
    assert TextClassifier.load(run).tokenizer_.tokens("caf&eacute; &amp; fun") == ["caf", "eacute", "amp", "fun"]


def test_a_loaded_classifier_keeps_the_column_names_of_the_call_not_those_the_table_named(texts, tiny, tmp_path):
    """A two-column table without a 'text' column names its columns (review, sentiment): load gave
    get_params text='review', so the loaded model's clone, fitted on another table (sentence, y),
    looked for 'review' where the fitted model's clone reads that table's two columns."""
    import pandas as pd
    from sklearn.base import clone
    x, y = texts(40)
    fitted = TextClassifier(max_epochs=1, **tiny).fit(pd.DataFrame({"review": x, "sentiment": y}))
    assert (fitted.config_.text, fitted.config_.label) == ("review", "sentiment")
    loaded = TextClassifier.load(fitted.save(tmp_path / "run"))
    assert (loaded.config_.text, loaded.config_.label) == ("review", "sentiment")
    assert {k: loaded.get_params()[k] for k in ("text", "label")} == {"text": "text", "label": "label"}
    other = clone(loaded).fit(pd.DataFrame({"sentence": x, "y": y}))
    assert (other.config_.text, other.config_.label) == ("sentence", "y")
    assert list(loaded.predict(pd.DataFrame({"review": x[:3]}))) == list(fitted.predict(x[:3]))


@pytest.mark.parametrize("kind", ["text", "series"])
def test_a_fit_classifies_its_validation_part_once_for_the_doctor_and_the_metrics(kind, texts, series, tiny, tiny_series):
    """The doctor's comparison with the class prior and metrics.json's validation scores read one pass over the
    validation part (a fit made two after training, each as long as an epoch's validation)."""
    from unittest import mock
    from lstmkit.tasks.classify.classifier import Classifier
    est, (x, y) = ((TextClassifier(max_epochs=1, **tiny), texts(80)) if kind == "text"
                   else (SequenceClassifier(max_epochs=1, val_frac=0.1, **tiny_series), series(80, unequal=False)))
    real = Classifier._proba
    with mock.patch.object(Classifier, "_proba", autospec=True, side_effect=real) as proba:
        est.fit(x, y)
    assert proba.call_count == 1
    assert est.result_.doctor["evidence"]["baselines"]["part"] == "validation" and est.metrics_["val"]["n"] == 8
