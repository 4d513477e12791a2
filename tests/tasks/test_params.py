"""The scikit-learn protocol of every estimator: get_params, set_params, clone and repr."""
import inspect
import typing

import numpy as np
import pandas as pd
import pytest
import sklearn.base

import lstmkit
from lstmkit.errors import LstmkitError
from lstmkit.estimator_params import params_dict

NAMES = ["Forecaster", "TextClassifier", "SequenceClassifier", "Translator", "LanguageModel", "SpeechRecognizer"]


@pytest.mark.parametrize("name", NAMES)
def test_get_params_are_the_constructors_and_rebuild_the_estimator(name):
    cls = getattr(lstmkit, name)
    est = cls(hidden_size=16, lr=0.01)
    params = est.get_params()
    assert list(params) == list(inspect.signature(cls).parameters)[1:]        # all but ``config``
    assert params["hidden_size"] == 16 and params["lr"] == 0.01
    assert cls(**params).config == est.config
    assert est.get_params(deep=False) == params


@pytest.mark.parametrize("name", NAMES)
def test_the_typed_parameters_are_the_constructors(name):
    """``__init__`` took ``**overrides: Any``: mypy passed ``Forecaster(lokback=60)`` and IDEs completed no
    name. Each estimator's takes ``**params: Unpack[<Task>Params]`` (tests/test_typed.py: the checker's
    errors); its keys are the parameters (and ``train``, their block), and the signature shows their types."""
    cls = getattr(lstmkit, name)
    hint = typing.get_type_hints(cls.__init__)["params"]
    assert typing.get_origin(hint) is typing.Unpack
    (typed,) = typing.get_args(hint)
    assert typed is params_dict(cls) and typing.is_typeddict(typed) and not typed.__required_keys__
    assert set(typed.__annotations__) == {*cls.parameter_names(), "train"}
    shown = {n: p.annotation for n, p in inspect.signature(cls).parameters.items() if n != "config"}
    assert shown == {n: getattr(a, "__forward_arg__", a) for n, a in typed.__annotations__.items() if n != "train"}
    assert set(typing.get_type_hints(typed)) == set(typed.__annotations__)       # every one resolves
    with pytest.raises(LstmkitError, match=f"{name} has no parameter 'hiden_size' — did you mean 'hidden_size'"):
        cls(hiden_size=8)                 # still refused at run time, where no type checker looked
    assert sklearn.base.clone(cls(hidden_size=16)).get_params()["hidden_size"] == 16


@pytest.mark.parametrize("name", NAMES)
def test_the_signature_says_a_list_of_names_takes_comma_separated_text(name):
    """``target: 'list[str]'`` was shown for a setting that takes ``target="a,b"`` too."""
    cls = getattr(lstmkit, name)
    params = inspect.signature(cls).parameters
    listed = [p for p in params.values() if str(p.annotation).startswith("list[str]")]
    for p in listed:
        assert p.annotation.startswith("list[str] | str"), p
        assert cls(**{p.name: "a, b"}).get_params()[p.name] == ["a", "b"]
    if name in ("Forecaster", "SequenceClassifier"):
        assert params["features"].annotation.startswith("list[str] | str")
    if name == "Forecaster":              # a DataFrame's integer column, a time of two columns: as fit takes them
        assert params["target"].annotation == "list[str] | str | int"
        assert params["time"].annotation == "str | int | list[str] | None"
        assert params["id"].annotation == "str | int | None"
        got = cls(target=1, time=["Date", "Time"], id=0).get_params()
        assert (got["target"], got["time"], got["id"]) == (["1"], "Date,Time", "0")


@pytest.mark.parametrize("name", NAMES)
def test_repr_names_what_differs_from_the_defaults(name):
    cls = getattr(lstmkit, name)
    assert repr(cls()) == f"{name}()"
    assert repr(cls(hidden_size=16, lr=0.01)) == f"{name}(hidden_size=16, lr=0.01)"


@pytest.mark.parametrize("name", NAMES)
def test_set_params_checks_as_the_constructor_and_returns_the_estimator(name):
    cls = getattr(lstmkit, name)
    est = cls()
    assert est.set_params(hidden_size=24, max_epochs=2) is est
    assert (est.config.hidden_size, est.config.train.max_epochs) == (24, 2)
    with pytest.raises(LstmkitError, match=f"{name} has no parameter 'hiden_size' — did you mean 'hidden_size'"):
        est.set_params(hiden_size=8)
    with pytest.raises(LstmkitError, match="hidden_size"):
        est.set_params(hidden_size=16.5)
    # the fix in a Python caller's words, not --batch-size
    with pytest.raises(LstmkitError, match=r"`batch_size` must be a positive integer, got 0 — pass batch_size=1 or more$"):
        est.set_params(batch_size=0)
    assert est.config.hidden_size == 24                          # a refused change leaves the settings


@pytest.mark.parametrize("name", NAMES)
def test_a_refused_parameter_is_a_value_error_as_scikit_learns(name):
    """scikit-learn's set_params raises ValueError for a name the estimator lacks, and its parameter
    validation (InvalidParameterError) a ValueError for a value out of range: a search that catches
    ValueError around set_params(**candidate) let lstmkit's plain LstmkitError through. The
    constructor refuses the same way; the message and hint are unchanged."""
    cls = getattr(lstmkit, name)
    est = cls()
    for bad in ({"hiden_size": 8}, {"hidden_size": 16.5}, {"batch_size": 0}, {"dropout": 2.0}):
        with pytest.raises(ValueError) as caught:
            est.set_params(**bad)
        assert isinstance(caught.value, LstmkitError) and caught.value.exit_code == 2
        with pytest.raises(ValueError) as again:
            cls(**bad)
        assert str(again.value) == str(caught.value)
    with pytest.raises(ValueError, match=f"{name} has no parameter 'hiden_size' — did you mean 'hidden_size'"):
        est.set_params(hiden_size=8)


@pytest.mark.parametrize("name", NAMES)
def test_scikit_learns_random_state_is_told_the_seed(name):
    """``random_state=`` (scikit-learn's seed, a grid's key) named no close parameter, and the fix listed
    every one of them: the seed is ``seed=``, the constructor and set_params say so."""
    cls = getattr(lstmkit, name)
    for make in (lambda: cls(random_state=3), lambda: cls().set_params(random_state=3)):
        with pytest.raises(ValueError, match=f"^{name} has no parameter 'random_state' — did you mean 'seed'\\?$"):
            make()


@pytest.mark.parametrize("name", NAMES)
def test_sklearn_clone_is_an_unfitted_copy_of_the_settings(name):
    cls = getattr(lstmkit, name)
    est = cls(hidden_size=16, max_epochs=3)
    est.net_ = "fitted"                                           # as fit leaves it
    twin = sklearn.base.clone(est)
    assert type(twin) is cls and twin.config == est.config and twin.config is not est.config
    assert not hasattr(twin, "net_")
    twin.set_params(hidden_size=8)
    assert est.config.hidden_size == 16


def test_set_params_on_a_fitted_model_keeps_what_it_learned_until_the_next_fit():
    y = np.sin(np.arange(120) / 4)
    f = lstmkit.Forecaster(lookback=8, horizon=2, hidden_size=4, max_epochs=1, progress="off", tensorboard=False,
                           ensemble=1)
    f.fit(y)
    before = f.predict(y)
    f.set_params(hidden_size=8)
    assert f.config_.hidden_size == 4 and f.predict(y).equals(before)
    assert f.fit(y).config_.hidden_size == 8


@pytest.mark.parametrize("name", NAMES)
def test_sklearn_reads_the_kind_of_every_estimator(name):
    """scikit-learn ≥ 1.6 asks every estimator for its tags: is_classifier and cross_val_score
    raised AttributeError ('no attribute __sklearn_tags__')."""
    from sklearn.base import is_classifier
    est = getattr(lstmkit, name)()
    assert is_classifier(est) == name.endswith("Classifier")
    assert est.__sklearn_tags__().target_tags.required == name.endswith("Classifier")


def test_cross_validation_fits_clones_and_scores_accuracy():
    """A classifier is scored by its accuracy (``score``), in stratified folds."""
    from sklearn.model_selection import cross_val_score
    rng = np.random.default_rng(0)
    y = np.array(["slow", "fast"] * 12)
    X = np.stack([np.sin(np.arange(20) / (6 if c == "slow" else 2)) + rng.normal(0, 0.05, 20) for c in y])
    est = lstmkit.SequenceClassifier(model="lstm", hidden_size=8, max_epochs=1, progress="off", tensorboard=False)
    scores = cross_val_score(est, X, y, cv=2)
    assert scores.shape == (2,) and ((0 <= scores) & (scores <= 1)).all()
    fitted = sklearn.base.clone(est).fit(X, y)
    assert fitted.score(X, y) == pytest.approx(np.mean(fitted.predict(X) == y))
    assert not hasattr(est, "net_")


def _two_speeds(labels):
    """One noisy sine per label: a slow one for the first label, a fast one for the other."""
    rng = np.random.default_rng(0)
    first = labels[0]
    return np.stack([np.sin(np.arange(20) / (6 if v == first else 2)) + rng.normal(0, 0.05, 20) for v in labels])


def test_classes_are_the_labels_in_sklearns_order_so_its_scorers_find_the_positive_class():
    """classes_ was ['10', '9'] (strings, sorted as text) for labels 9 and 10: scikit-learn's
    probability scorers (roc_auc, neg_log_loss, average_precision) found no column for the
    positive class 10 and cross_val_score gave NaN for every fold, with only a warning."""
    from sklearn.metrics import get_scorer, log_loss, roc_auc_score
    from sklearn.model_selection import cross_val_score
    y = np.array([10, 9] * 12)
    X = _two_speeds(y)
    est = lstmkit.SequenceClassifier(model="lstm", hidden_size=8, max_epochs=2, progress="off", tensorboard=False)
    clf = sklearn.base.clone(est).fit(X, y)
    assert clf.classes_.tolist() == [9, 10] and clf.classes_.dtype.kind == "i" and clf.class_names_ == ["9", "10"]
    proba = clf.predict_proba(X)
    assert (clf.predict(X) == clf.classes_[proba.argmax(axis=1)]).all()
    assert get_scorer("roc_auc")(clf, X, y) == pytest.approx(roc_auc_score(y == 10, proba[:, 1]))
    assert get_scorer("neg_log_loss")(clf, X, y) == pytest.approx(-log_loss(y, proba, labels=[9, 10]))
    for scoring in ("roc_auc", "neg_log_loss"):
        scores = cross_val_score(est, X, y, cv=2, scoring=scoring, error_score="raise")
        assert np.isfinite(scores).all()
    flags = sklearn.base.clone(est).fit(X, y == 10)
    assert flags.classes_.tolist() == [False, True] and flags.predict(X[:2]).dtype == bool
    words = sklearn.base.clone(est).fit(X, np.where(y == 10, "fast", "slow"))
    assert words.classes_.tolist() == ["fast", "slow"] and isinstance(words.classes_, np.ndarray)
    assert not hasattr(est, "classes_")


def test_a_run_saved_with_numeric_classes_in_text_order_answers_in_number_order(tmp_path):
    """Runs saved before numeric labels were ordered as numbers recorded ``['10', '9']`` (text
    order) for ``int`` labels: classes_ came back ``[10, 9]``, and scikit-learn's roc_auc (which
    takes the greater label as positive) read the other column. Such a run's columns are put in
    number order; predictions and the CLI's labels are unchanged."""
    import json
    from sklearn.metrics import get_scorer, roc_auc_score
    y = np.array([10, 9] * 12)
    X = _two_speeds(y)
    est = lstmkit.SequenceClassifier(model="lstm", hidden_size=8, max_epochs=2, progress="off", tensorboard=False)
    text = est.fit(X, y.astype(str), out=tmp_path)                  # classes '10', '9': the net's order then
    assert text.class_names_ == ["10", "9"]
    meta_file = text.run_dir_ / "lstmkit.json"
    meta = json.loads(meta_file.read_text())
    meta["label_type"] = "int"                                        # as an older run fit on int labels wrote it
    meta_file.write_text(json.dumps(meta))
    old = lstmkit.SequenceClassifier.load(text.run_dir_)
    assert old.class_names_ == ["10", "9"] and old.classes_.tolist() == [9, 10]
    proba = old.predict_proba(X)
    assert np.allclose(proba, text.predict_proba(X)[:, ::-1])
    assert (old.predict(X).astype(str) == text.predict(X)).all()
    assert get_scorer("roc_auc")(old, X, y) == pytest.approx(roc_auc_score(y == 10, text.predict_proba(X)[:, 0]))


@pytest.mark.parametrize("name", NAMES)
def test_a_model_used_before_fit_raises_sklearns_not_fitted_error(name, tmp_path):
    """The not-fitted error was an LstmkitError only: ``except NotFittedError`` and scikit-learn's
    checks (check_estimator's check_estimators_unfitted) did not recognise it."""
    from sklearn.exceptions import NotFittedError
    est = getattr(lstmkit, name)()
    with pytest.raises(NotFittedError, match=f"this {name} is not fitted yet — call fit") as err:
        est.save(tmp_path / "run")
    assert isinstance(err.value, LstmkitError) and "\n" not in str(err.value)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("name", NAMES)
def test_check_is_fitted_asks_what_predict_asks(name):
    """scikit-learn's check_is_fitted guessed from any attribute ending in ``_``: an estimator
    holding one (``data_summary_``, ``auto_``) but no network passed it, while predict refused."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted
    est = getattr(lstmkit, name)()
    est.data_summary_ = {}
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    with pytest.raises(NotFittedError):
        est._check_fitted()
    est.net_ = "fitted"                                           # as fit and load leave it
    check_is_fitted(est)
    est._check_fitted()
    assert not sklearn.base.clone(est).__sklearn_is_fitted__()


@pytest.mark.parametrize("name", NAMES)
def test_set_params_of_get_params_changes_nothing(name):
    est = getattr(lstmkit, name)(hidden_size=16, lr=0.01)
    params = est.get_params()
    assert est.set_params(**params).get_params() == params and repr(est) == f"{name}(hidden_size=16, lr=0.01)"


def test_check_is_fitted_and_predict_before_fit_on_a_classifier():
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted
    clf = lstmkit.SequenceClassifier(model="lstm", hidden_size=4, max_epochs=1, progress="off", tensorboard=False)
    X, y = _two_speeds(["a", "b"] * 4), ["a", "b"] * 4
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    check_is_fitted(clf.fit(X, y))


@pytest.mark.parametrize("kw, shown", [
    (dict(model="gru", hidden_size=8), "model='gru', hidden_size=8"),
    (dict(model="lstm", max_epochs=2000), "model='lstm', max_epochs=2000"),
    (dict(max_epochs=3), "budget=None, max_epochs=3"),
])
def test_repr_of_a_sequence_classifier_rebuilds_it(kw, shown):
    """``model='gru'`` moves the defaults (hidden_size 8 -> 64, max_epochs 2000 -> 200, ...): the
    repr compared with LSTM-FCN's and left out hidden_size=8 (read back, the model had 64 cells),
    and listed each default the choice moved (embed_dim=64, dropout=0.1, ...)."""
    est = lstmkit.SequenceClassifier(**kw)
    assert repr(est) == f"SequenceClassifier({shown})"
    assert eval(repr(est), vars(lstmkit)).get_params() == est.get_params()


@pytest.mark.parametrize("copy_of", ["pickle", "joblib", "deepcopy"])
def test_a_fitted_classifier_copied_predicts_as_the_original(copy_of, tmp_path):
    import copy
    import pickle
    import joblib
    X, y = _two_speeds([0, 1] * 6), [0, 1] * 6
    clf = lstmkit.SequenceClassifier(model="lstm", hidden_size=4, max_epochs=1, progress="off", tensorboard=False)
    clf.fit(X, y)
    if copy_of == "pickle":
        twin = pickle.loads(pickle.dumps(clf))
    elif copy_of == "joblib":
        joblib.dump(clf, tmp_path / "clf.joblib")
        twin = joblib.load(tmp_path / "clf.joblib")
    else:
        twin = copy.deepcopy(clf)
    np.testing.assert_array_equal(twin.predict_proba(X), clf.predict_proba(X))
    assert twin.classes_.tolist() == [0, 1] and repr(twin) == repr(clf)


def test_sklearns_meta_estimators_read_the_classes():
    """cross_val_predict(method='predict_proba'), StackingClassifier and CalibratedClassifierCV
    read ``classes_`` as an array: with a list they raised AttributeError ('list' object has no
    attribute 'shape') or IndexError, whatever the labels."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import StackingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    y = np.array(["slow", "fast"] * 8)
    X = _two_speeds(y)
    est = lstmkit.SequenceClassifier(model="lstm", hidden_size=4, max_epochs=1, progress="off", tensorboard=False)
    proba = cross_val_predict(est, X, y, cv=2, method="predict_proba")
    assert proba.shape == (16, 2) and np.allclose(proba.sum(axis=1), 1)
    stack = StackingClassifier([("lstm", est), ("lr", LogisticRegression())], cv=2).fit(X, y)
    assert set(stack.predict(X)) <= {"slow", "fast"}
    calibrated = CalibratedClassifierCV(est, cv=2).fit(X, y)
    assert calibrated.predict_proba(X).shape == (16, 2)


# scikit-learn's checks that do not apply to a sequence classifier, and why (every other check must pass)
_NOT_FOR_SEQUENCES = {
    "check_do_not_raise_errors_in_init_or_set_params": "settings are checked eagerly, in the constructor (STYLE.md)",
    "check_set_params": "set_params checks values eagerly, and get_params copies list settings (equal, not identical)",
    "check_estimator_sparse_tag": "a sparse matrix is one LstmkitError naming X.toarray(), not a TypeError/ValueError",
    "check_estimator_sparse_array": "as check_estimator_sparse_tag",
    "check_estimator_sparse_matrix": "as check_estimator_sparse_tag",
    "check_classifier_data_not_an_array": "its y refuses np.ndim, which the labels' checks call",
    "check_classifiers_one_label": "one class is an LstmkitError naming the label column, not a ValueError",
    "check_classifiers_one_label_sample_weights": "as check_classifiers_one_label",
    "check_sample_weights_not_an_array": "as check_classifier_data_not_an_array (its y is such an object too)",
    "check_sample_weight_equivalence_on_dense_data": "minibatch SGD: a repeated row changes the batches and the "
                                                     "number of steps, so a weight equals repetition only in expectation",
    "check_fit2d_1sample": "one sample is one class: as check_classifiers_one_label",
    "check_class_weight_classifiers": "class_weight is 'balanced' or none, not a dict",
    "check_classifiers_train": "asks 83 % accuracy on blobs of one step each: meaningless for a 1-epoch LSTM",
}


def test_sklearns_estimator_checks_pass_where_they_apply():
    """check_estimator on a tiny SequenceClassifier: the checks above are expected to fail (each
    with its reason); predict before fit (NotFittedError) and the classes' type and order failed
    among the others. A TextClassifier reads 1-D strings (its tags say so): scikit-learn skips
    its numeric-matrix checks rather than failing every one."""
    import warnings
    from sklearn.utils.estimator_checks import check_estimator
    est = lstmkit.SequenceClassifier(model="lstm", hidden_size=4, max_epochs=1, progress="off", tensorboard=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(est, expected_failed_checks=_NOT_FOR_SEQUENCES, on_fail=None)
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    assert not failed
    ran = {r["check_name"] for r in results if r["status"] == "passed"}
    assert {"check_sample_weights_shape", "check_all_zero_sample_weights_error"} <= ran     # BadValue is a ValueError
    text = lstmkit.TextClassifier().__sklearn_tags__().input_tags
    assert text.string and text.one_d_array and not text.two_d_array
    assert lstmkit.SequenceClassifier().__sklearn_tags__().input_tags.three_d_array


def test_a_sequence_classifier_has_sklearns_n_features_in_and_feature_names_in():
    """n_features_in_ (the features per step) and feature_names_in_ (a table's named feature
    columns) were missing: scikit-learn's pipelines and users read them after fit."""
    rng = np.random.default_rng(0)
    y = np.array(["slow", "fast"] * 6)
    X = np.stack([np.stack([np.sin(np.arange(16) / (6 if c == "slow" else 2)), rng.normal(0, 1, 16)], 1) for c in y])
    est = lstmkit.SequenceClassifier(model="lstm", hidden_size=4, max_epochs=1, progress="off", tensorboard=False)
    assert not hasattr(est, "n_features_in_") and not hasattr(est, "feature_names_in_")
    clf = sklearn.base.clone(est).fit(X, y)                          # [N, T, 2]
    assert clf.n_features_in_ == 2 and not hasattr(clf, "feature_names_in_")      # an array names no feature
    with pytest.raises(LstmkitError, match="the data has 3 features per step, the model was trained on 2"):
        clf.predict(np.concatenate([X, X[:, :, :1]], 2))
    long = pd.DataFrame([{"sample": i, "t": t, "wave": X[i, t, 0], "noise": X[i, t, 1], "label": y[i]}
                         for i in range(len(X)) for t in range(X.shape[1])])
    named = sklearn.base.clone(est).fit(long)
    assert named.n_features_in_ == 2 and named.feature_names_in_.tolist() == ["wave", "noise"]
    assert named.feature_names_in_.dtype == object
    assert (named.predict(long[["noise", "wave", "sample", "t"]]) == named.predict(long)).all()    # found by name


FAST_FORECAST = dict(lookback=8, horizon=2, hidden_size=4, max_epochs=1, ensemble=1, doctor=False, progress="off",
                     tensorboard=False)


def test_a_forecaster_has_n_features_in_the_columns_it_reads_per_step():
    """The columns a forecaster reads at each step: targets, past then future covariates; not the
    time column nor the calendar features made from it."""
    t = pd.date_range("2020-01-01", periods=120, freq="D")
    df = pd.DataFrame({"date": t, "units": np.sin(np.arange(120) / 4) + 2, "temp": np.cos(np.arange(120) / 5),
                       "promo": (np.arange(120) % 7 == 0).astype(float), "note": "x"})
    est = lstmkit.Forecaster(calendar="weekday", **FAST_FORECAST)
    assert not hasattr(est, "n_features_in_")
    est.fit(df, target="units", time="date", features="temp", future_covariates="promo")
    assert est.n_features_in_ == 3 and est.feature_names_in_.tolist() == ["units", "temp", "promo"]
    assert len(est.input_names_) == 5                                 # + weekday_sin, weekday_cos


def test_a_forecaster_fitted_on_an_array_refuses_one_of_another_width():
    """An array's columns are read by position (``y0``, ``y1``, ...): a third column was left out
    without a word, and one column fewer said "target column 'y1' not found"."""
    X = np.stack([np.sin(np.arange(120) / 4), np.cos(np.arange(120) / 4)], 1)
    est = lstmkit.Forecaster(**FAST_FORECAST).fit(X, target="y0,y1")
    assert est.n_features_in_ == 2 and est.feature_names_in_.tolist() == ["y0", "y1"]
    for bad, width in ((np.c_[X, X[:, :1]], 3), (X[:, :1], 1), (X[:, 0], 1), (np.c_[X, X].tolist(), 4)):
        with pytest.raises(LstmkitError, match=f"the array has {width} columns?, the model was trained on one of 2 "
                                               r"\(an array's columns are read by position; its inputs: y0, y1\)"):
            est.predict(bad)
    with pytest.raises(LstmkitError, match="the array has 3 columns"):
        est.evaluate(np.c_[X, X[:, :1]])
    assert est.predict(X).shape == (2, 3) and est.predict(X.tolist()).equals(est.predict(X))
    wide = lstmkit.Forecaster(**FAST_FORECAST).fit(np.c_[X, X[:, :1]], target="y0")     # y1, y2 unread
    assert wide.n_features_in_ == 1 and wide.predict(np.c_[X, X[:, :1]]).shape == (2, 2)
    with pytest.raises(LstmkitError, match="the array has 2 columns, the model was trained on one of 3"):
        wide.predict(X)


def test_a_forecasters_score_is_minus_its_mase_on_the_test_part():
    """scikit-learn's ``score`` (greater is better) was missing on the forecaster."""
    from sklearn.exceptions import NotFittedError
    y = np.sin(np.arange(150) / 4)
    est = lstmkit.Forecaster(**FAST_FORECAST)
    with pytest.raises(NotFittedError):
        est.score(y)
    est.fit(y)
    mase = est.evaluate(y)["lstm"]["MASE"]
    assert est.score(y) == -mase and 0 < mase < 10
    flat = np.r_[np.ones(120), np.arange(30.0)]                      # a constant training part: MASE has no scale
    with pytest.raises(LstmkitError, match=r"MASE is undefined on this data.*evaluate\(data\)\['lstm'\]\['MAE'\]"):
        lstmkit.Forecaster(**FAST_FORECAST, scaler="minmax").fit(flat).score(flat)


def test_a_loaded_forecaster_keeps_the_columns_it_was_fitted_on_so_its_clone_refits(tmp_path):
    """A loaded forecaster's get_params holds the columns ``fit`` was given (``target``, ``time``,
    ``features``): its run records the one config it trained with, and settings are what a refit
    needs. ``clone(loaded)`` is unfitted with those settings and refits on the same data as it is;
    columns given to ``fit`` still win."""
    from forecast_data import sine_frame
    df = sine_frame(n=160)
    est = lstmkit.Forecaster(**FAST_FORECAST).fit(df, target="y", time="time", features="temp", out=tmp_path)
    assert (est.get_params()["target"], est.get_params()["time"]) == ([], None)          # given to fit, not to the constructor
    loaded = lstmkit.Forecaster.load(est.run_dir_)
    params = loaded.get_params()
    assert (params["target"], params["time"], params["features"]) == (["y"], "time", ["temp"])
    twin = sklearn.base.clone(loaded)
    assert not twin.__sklearn_is_fitted__() and twin.get_params() == params
    assert twin.fit(df).config_.target == ["y"] and twin.feature_names_in_.tolist() == ["y", "temp"]
    other = sklearn.base.clone(loaded).fit(df, target="temp", features=[])
    assert other.feature_names_in_.tolist() == ["temp"] and loaded.get_params() == params


def test_a_loaded_sequence_classifier_keeps_the_epochs_of_the_call_not_of_its_budget(tmp_path):
    """The budget caps the epochs by the data's size, and the run records the epochs it trained:
    loaded, a model's settings said max_epochs=42 where its call left 2000 (the default), so its
    clone, fitted on half the data, stopped at 42 instead of the budget's 83 for that data."""
    import json
    X, y = _two_speeds(["a", "b"] * 6), ["a", "b"] * 6
    est = lstmkit.SequenceClassifier(budget=0.01, progress="off", tensorboard=False).fit(X, y, out=tmp_path)
    assert est.config_.train.max_epochs == 42 and est.get_params()["max_epochs"] == 2000     # 1e4 / (12 × 20)
    meta = json.loads((est.run_dir_ / "lstmkit.json").read_text())
    assert meta["config"]["train"]["max_epochs"] == 42 and meta["call_settings"] == {"max_epochs": 2000, "budget": 0.01}
    loaded = lstmkit.SequenceClassifier.load(est.run_dir_)
    assert loaded.get_params() == {**est.get_params(), "progress": "auto"} and loaded.config_.train.max_epochs == 42
    assert repr(loaded) == "SequenceClassifier(budget=0.01, tensorboard=False)"
    assert loaded.n_features_in_ == 1 and not hasattr(loaded, "feature_names_in_")
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    refit = sklearn.base.clone(loaded).fit(X[:6], y[:6])
    assert refit.config_.train.max_epochs == 83                      # 1e4 / (6 × 20)
    given = lstmkit.SequenceClassifier(max_epochs=2, progress="off", tensorboard=False).fit(X, y, out=tmp_path)
    assert "call_settings" not in json.loads((given.run_dir_ / "lstmkit.json").read_text())    # nothing chosen


def test_sklearns_metadata_routing_routes_sample_weight_where_it_is_requested():
    """Under ``sklearn.set_config(enable_metadata_routing=True)`` a Pipeline ending in a classifier failed
    its ``score`` ('unexpected argument(s) {'sample_weight'}, which are not routed to any object'), given
    no weights, and ``set_fit_request`` was missing: no search could pass weights on. The requests
    travel with clone and pickle; unrequested weights are scikit-learn's error naming the fix."""
    import pickle
    from sklearn import config_context
    from sklearn.exceptions import UnsetMetadataPassedError
    from sklearn.model_selection import GridSearchCV, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer
    from lstmkit.errors import BadValue
    X, y = _two_speeds(["a", "b"] * 6), np.array(["a", "b"] * 6)
    est = lstmkit.SequenceClassifier(model="lstm", hidden_size=4, max_epochs=1, progress="off", tensorboard=False)
    with config_context(enable_metadata_routing=True):
        assert 0 <= make_pipeline(FunctionTransformer(None), est).fit(X, y).score(X, y) <= 1
        with pytest.raises(UnsetMetadataPassedError, match=r"SequenceClassifier.set_fit_request"):
            GridSearchCV(est, {"hidden_size": [4]}, cv=2).fit(X, y, sample_weight=np.ones(12))
        asked = sklearn.base.clone(est.set_fit_request(sample_weight=True).set_score_request(sample_weight="w"))
        assert pickle.loads(pickle.dumps(asked)).get_metadata_routing().fit.requests == {"sample_weight": True}
        with pytest.raises(BadValue, match="sample_weight"):            # the weights reach fit, which checks them
            cross_validate(asked, X, y, cv=2, params={"sample_weight": -np.ones(12), "w": np.ones(12)},
                           error_score="raise")
        scores = cross_validate(asked, X, y, cv=2, params={"sample_weight": np.ones(12), "w": np.ones(12)})["test_score"]
        assert np.isfinite(scores).all()
    assert repr(asked) == repr(est) and asked.get_params() == est.get_params()
    with pytest.raises(BadValue, match="set_fit_request's sample_weight must be True, False, None or the name"):
        est.set_fit_request(sample_weight=3)
    assert not hasattr(lstmkit.Forecaster(), "set_fit_request")             # its fit takes no weights


def test_a_classifier_has_predict_log_proba_as_scikit_learns_do():
    """``cross_val_predict(method="predict_log_proba")`` raised AttributeError: the method was missing."""
    from sklearn.model_selection import cross_val_predict
    X, y = _two_speeds(["a", "b"] * 6), np.array(["a", "b"] * 6)
    est = lstmkit.SequenceClassifier(model="lstm", hidden_size=4, max_epochs=1, progress="off", tensorboard=False)
    clf = sklearn.base.clone(est).fit(X, y)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X), rtol=1e-12)
    logs = cross_val_predict(est, X, y, cv=2, method="predict_log_proba")
    assert logs.shape == (12, 2) and np.allclose(np.exp(logs).sum(axis=1), 1)
    assert callable(lstmkit.TextClassifier().predict_log_proba) and callable(lstmkit.SpeechRecognizer().predict_log_proba)
