"""The scikit-learn protocol of every estimator: get_params, set_params, clone and repr."""
import inspect

import numpy as np
import pytest
import sklearn.base

import lstmkit
from lstmkit.errors import LstmkitError

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
    assert est.config.hidden_size == 24                          # a refused change leaves the settings


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
    f = lstmkit.Forecaster(lookback=8, horizon=2, hidden_size=4, max_epochs=1, progress="off", tensorboard=False)
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
