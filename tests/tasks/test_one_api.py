"""One Python API across the tasks: a user who learned one estimator calls another's the same way.

Another task's method (``update`` of a classifier, ``predict_proba`` of a translator) is one error naming
whose it is and what to call instead (it was Python's bare AttributeError); the validation data is
``val_data=`` for every ``fit`` and ``resume`` (a LanguageModel's ``val=`` still works), every ``resume``
takes the data first, and every ``score`` names its data ``data=`` (a SpeechRecognizer's ``X=`` still works).
"""
import inspect

import pytest

import lstmkit
from lstmkit.errors import LstmkitError, NotThisTask
from one_thread import one_thread  # noqa: F401  (autouse: one torch thread)

NAMES = ["Forecaster", "TextClassifier", "SequenceClassifier", "Translator", "LanguageModel", "SpeechRecognizer"]
ELSEWHERE = {"update": "Forecaster", "backtest": "Forecaster", "predict_proba": "classifier",
             "predict_log_proba": "classifier", "translate": "Translator", "transcribe": "SpeechRecognizer",
             "sample": "LanguageModel", "perplexity": "LanguageModel", "scorer": "LanguageModel"}
# what each says to call instead
ANSWERS = {"Forecaster": "predict(data)", "TextClassifier": "predict(texts)", "SequenceClassifier": "predict(X)",
           "Translator": "translate(sentences)", "LanguageModel": "perplexity(texts)",
           "SpeechRecognizer": "transcribe(files)"}


@pytest.mark.parametrize("name", NAMES)
def test_another_tasks_method_is_one_error_naming_whose_it_is_and_what_to_call(name):
    cls = getattr(lstmkit, name)
    est = cls()
    missing = [m for m in ELSEWHERE if not hasattr(cls, m)]
    assert missing                                         # every task lacks some
    for method in missing:
        with pytest.raises(NotThisTask) as e:
            getattr(est, method)
        err = e.value
        assert isinstance(err, LstmkitError) and isinstance(err, AttributeError), method
        assert err.message.startswith(f"{name} has no {method}(): it is ") and ELSEWHERE[method] in err.message
        if method == "update":
            assert err.hint == f"fit(new_data) trains a new {name}; {name}.resume(run) continues an unfinished run"
        else:
            assert ANSWERS[name] in err.hint, (method, err.hint)
        assert not hasattr(est, method)                    # scikit-learn's duck typing reads it as absent


@pytest.mark.parametrize("name", NAMES)
def test_any_other_missing_attribute_stays_pythons_own(name):
    est = getattr(lstmkit, name)()
    with pytest.raises(AttributeError) as e:
        est.no_such_thing
    assert not isinstance(e.value, LstmkitError) and "no_such_thing" in str(e.value)
    assert getattr(est, "net_", None) is None              # an unfitted model's fitted attributes: plain


def test_a_propertys_own_attribute_error_keeps_its_message():
    """Python calls ``__getattr__`` when a property raises AttributeError: its message must survive it."""
    with pytest.raises(AttributeError, match="^this TextClassifier is not fitted yet, so it has no classes_$"):
        lstmkit.TextClassifier().classes_
    with pytest.raises(AttributeError, match="^this SequenceClassifier is not fitted yet, so it has no n_features_in_$"):
        lstmkit.SequenceClassifier().n_features_in_


def test_a_classifiers_predict_proba_is_still_found_by_scikit_learn():
    from sklearn.utils.validation import _check_response_method
    assert _check_response_method(lstmkit.TextClassifier(), "predict_proba") is not None
    with pytest.raises(AttributeError, match="predict_proba"):
        _check_response_method(lstmkit.Translator(), "predict_proba")


@pytest.mark.parametrize("name", ["TextClassifier", "SequenceClassifier", "Translator", "SpeechRecognizer"])
def test_val_the_command_lines_name_is_told_to_be_val_data(name):
    with pytest.raises(LstmkitError) as e:
        getattr(lstmkit, name)().fit(["a b"], val=["c d"])
    assert str(e.value) == f"{name} has no parameter 'val' — pass the validation data to fit() as val_data="


def _lines(tmp_path):
    train, held = tmp_path / "train.txt", tmp_path / "held.txt"
    train.write_text("the cat sat\nthe dog ran\na cat ran\n" * 10)
    held.write_text("a dog sat\nthe cat ran\n")
    return train, held


def _lm():
    return lstmkit.LanguageModel(level="char", embed_dim=8, hidden_size=8, max_epochs=1, progress="off",
                                 tensorboard=False, doctor=False, seed=0)


def test_a_language_model_takes_val_data_as_every_fit_does(tmp_path):
    """LanguageModel.fit named it ``val=`` alone: ``val_data=`` was 'no parameter val_data — did you mean val_frac?'."""
    train, held = _lines(tmp_path)
    new = _lm().fit(str(train), val_data=str(held))
    old = _lm().fit(str(train), str(held))
    assert new.data_summary_["split"] == old.data_summary_["split"] == {"train": 30, "val": 2}
    assert new.data_summary_["val_source"] == str(held) and new.metrics_ == old.metrics_
    with pytest.raises(LstmkitError, match="both val and val_data") as e:
        _lm().fit(str(train), str(held), val_data=str(held))
    assert e.value.hint == "pass it once, as val_data= (val= is its older name)"
    with pytest.raises(LstmkitError, match="resume\\(\\) got both val and val_data"):
        lstmkit.LanguageModel.resume(tmp_path / "run", val=str(held), val_data=str(held))


@pytest.mark.parametrize("name", NAMES)
def test_every_resume_takes_the_data_first(name):
    """Translator.resume took its data by keyword only: ``Translator.resume(run, "pairs.tsv")`` was a TypeError."""
    params = list(inspect.signature(getattr(lstmkit, name).resume).parameters.values())
    assert [p.name for p in params[:2]] == ["run_dir", "data"]
    assert params[1].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    if name != "Forecaster":                               # a forecaster splits its series in time
        assert "val_data" in [p.name for p in params]


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    pytest.importorskip("soundfile")
    from lstmkit.tasks.speech.synthetic import tiny_run
    run = tiny_run(tmp_path_factory.mktemp("spoken"), mode="classify", n=16, max_epochs=1)
    return lstmkit.SpeechRecognizer.load(run), run.parent.parent / "manifest.csv"


def test_a_speech_score_names_its_data_data_as_every_score_does(spoken):
    model, manifest = spoken
    first = model.score(manifest)
    assert model.score(data=manifest) == model.score(X=manifest) == first == model.evaluate(manifest)["accuracy"]
    with pytest.raises(LstmkitError, match="both data and X"):
        model.score(manifest, X=manifest)
    with pytest.raises(LstmkitError, match="score\\(\\) needs the data to score"):
        model.score()
    for name in NAMES:
        assert list(inspect.signature(getattr(lstmkit, name).score).parameters)[1] == "data", name


def test_every_estimator_has_its_training_history_after_fit_and_after_load(tmp_path):
    """No estimator had ``history_``: a loaded model's epochs were only in its folder's history.csv."""
    import pandas as pd
    train, held = _lines(tmp_path)
    fitted = _lm().set_params(max_epochs=2).fit(str(train), out=tmp_path / "runs")
    assert list(fitted.history_["epoch"]) == [1, 2] and {"train_loss", "val_loss", "lr"} <= set(fitted.history_)
    pd.testing.assert_frame_equal(lstmkit.load(fitted.run_dir_).history_, fitted.history_, check_dtype=False)
    with pytest.raises(AttributeError, match="^this LanguageModel is not fitted yet, so it has no history_$"):
        _lm().history_
    copy = fitted.save(tmp_path / "copy")
    (copy / "history.csv").unlink()
    with pytest.raises(AttributeError, match=f"loaded from {copy}, which holds no history.csv"):
        lstmkit.load(copy).history_
    for name in NAMES:
        assert not hasattr(getattr(lstmkit, name)(), "history_")


def test_a_saved_model_keeps_its_history_and_training_record_through_load_and_a_second_save(tmp_path):
    """``save()`` wrote no history.csv nor doctor.json: a model fitted in memory, saved and loaded had no
    ``history_`` (the README promises it to every fitted or loaded estimator) and ``lstmkit doctor`` said
    it was trained with the doctor off; a loaded model saved again (a copy, an update) dropped both files
    and lstmkit.json's ``training`` block."""
    import json
    import pandas as pd
    from lstmkit.train.doctor import read_report
    train, held = _lines(tmp_path)
    fitted = _lm().set_params(max_epochs=2, doctor=True).fit(str(train))     # in memory: no run folder
    first = fitted.save(tmp_path / "first")
    loaded = lstmkit.load(first)
    pd.testing.assert_frame_equal(loaded.history_, fitted.history_, check_dtype=False)
    second = loaded.save(tmp_path / "second")
    again = lstmkit.load(second)
    pd.testing.assert_frame_equal(again.history_, fitted.history_, check_dtype=False)
    recorded = [json.loads((run / "lstmkit.json").read_text()).get("training") for run in (first, second)]
    assert recorded[0] is not None and recorded[0]["epochs_run"] == 2 and recorded[1] == recorded[0]
    report = read_report(first)
    assert report["findings"] == json.loads(json.dumps(fitted.result_.doctor["findings"])) and read_report(second) == report


def test_a_forecasters_score_and_evaluate_refuse_y_naming_the_table_to_pass(tmp_path):
    """``score(X, y)``, as scikit-learn and every other task call it, was a TypeError ('takes 2 positional
    arguments but 3 were given'); scikit-learn's ``y=None`` is taken."""
    from forecast_data import FAST, sine_frame
    df = sine_frame(n=200)
    model = lstmkit.Forecaster(**{**FAST, "max_epochs": 1}).fit(df, target="y", time="time")
    assert model.score(df, None) == model.score(df)
    for method in ("score", "evaluate"):
        with pytest.raises(LstmkitError) as e:
            getattr(model, method)(df.drop(columns="y"), df["y"])
        assert str(e.value) == (f"Forecaster.{method}(data) reads the target from the data, so it takes no y (a "
                                f"classifier's {method}(X, y) does) — pass one table holding the target column 'y': "
                                f"{method}(X.assign(y=y))")


def test_another_tasks_run_names_its_estimator_to_a_python_caller(tmp_path):
    """``Translator.load(lm_run)`` from Python was told "use 'lstmkit lm ...' with this run": the command to type."""
    from lstmkit.runs import read_meta
    train, _ = _lines(tmp_path)
    run = _lm().fit(str(train), out=tmp_path / "runs").run_dir_
    for call in (lambda: lstmkit.Translator.load(run), lambda: lstmkit.Forecaster.resume(run)):
        with pytest.raises(LstmkitError, match="is a 'lm' run, not a '") as e:
            call()
        assert e.value.hint == ("use LanguageModel with it (LanguageModel.load(run), LanguageModel.resume(run)); "
                                "lstmkit.load(run) opens a run of any task")
    with pytest.raises(LstmkitError) as e:                  # the command line keeps its words
        read_meta(run, "translate")
    assert e.value.hint == "use 'lstmkit lm ...' with this run (in Python, lstmkit.load(run) opens a run of any task)"
