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
