"""Data with no rows, given to any estimator's fit, predict, predict_proba, evaluate or score, is a
``ValueError`` as scikit-learn's estimators answer it (``check_array``'s 'Found array with 0
sample(s)'), and still lstmkit's one line 'problem — fix' (:class:`~lstmkit.errors.BadValue`).
It was a plain LstmkitError (a classifier's ``score([], [])``: Python's IndexError from inside)."""
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lstmkit
from lstmkit.errors import LstmkitError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from estimator_data import EXTRA, NAMES, QUICK, fit_data  # noqa: E402
from speech_data import write_digits  # noqa: E402
from one_thread import one_thread_per_module  # noqa: F401,E402  (autouse: one torch thread, module fixtures too)

NO_SEQUENCES = np.zeros((0, 12))
# name -> (method, its arguments) with no rows; Translator and LanguageModel predict([]) answer [] (documented)
EMPTY = {
    "Forecaster": [("predict", (np.array([]),)), ("predict", (pd.DataFrame({"y": []}),)),
                   ("evaluate", ([],)), ("score", (np.array([]),)), ("fit", (np.array([]),))],
    "TextClassifier": [("predict", ([],)), ("predict_proba", (pd.DataFrame({"text": []}),)),
                       ("evaluate", ([], [])), ("score", ([], [])), ("score", (np.array([], dtype=object), [])),
                       ("fit", ([], []))],
    "SequenceClassifier": [("predict", (NO_SEQUENCES,)), ("predict_proba", (np.zeros((0, 12, 1)),)),
                           ("evaluate", (NO_SEQUENCES, [])), ("score", (NO_SEQUENCES, [])),
                           ("fit", (NO_SEQUENCES, []))],
    "Translator": [("evaluate", ([],)), ("score", ([],)), ("fit", ([],))],
    "LanguageModel": [("perplexity", ([],)), ("evaluate", ([],)), ("score", ([],)), ("fit", ([],))],
    "SpeechRecognizer": [("predict", ([],)), ("evaluate", ([],)), ("score", ([],)), ("fit", ([],))],
}
CASES = [(name, method, args) for name in NAMES for method, args in EMPTY[name]]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """Each estimator fitted on its small data, fitted once on first use."""
    models = {}

    def get(name):
        if name not in models:
            args, _ = fit_data(name, tmp_path_factory.mktemp(name))
            models[name] = getattr(lstmkit, name)(**QUICK, **EXTRA.get(name, {})).fit(*args)
        return models[name]
    return get


def _assert_bad_value(err: BaseException) -> None:
    assert isinstance(err, ValueError) and isinstance(err, LstmkitError), type(err).__mro__
    assert "\n" not in str(err) and " — " in str(err), str(err)


@pytest.mark.parametrize("name,method,args", CASES, ids=[f"{n}.{m}-{i}" for i, (n, m, _) in enumerate(CASES)])
def test_no_rows_is_a_value_error(fitted, name, method, args):
    est = getattr(lstmkit, name)(**QUICK, **EXTRA.get(name, {})) if method == "fit" else fitted(name)
    with pytest.raises(ValueError) as info:
        getattr(est, method)(*args)
    _assert_bad_value(info.value)


def test_a_speech_classifiers_predict_proba_of_no_recordings_is_a_value_error(tmp_path):
    clf = lstmkit.SpeechRecognizer(**QUICK, **EXTRA["SpeechRecognizer"], mode="classify",
                                   label_from_name="{label}_{speaker}_{take}")
    clf.fit(write_digits(tmp_path, digits=range(2), takes=3))
    with pytest.raises(ValueError) as info:
        clf.predict_proba([])
    _assert_bad_value(info.value)
