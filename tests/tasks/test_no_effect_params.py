"""Settings given in Python that change nothing beside the others are refused at fit, as the command
line refuses their flags; a setting at its default is not, and neither is a resumed or loaded run."""
import numpy as np
import pytest

from lstmkit import SequenceClassifier, Translator
from lstmkit.errors import LstmkitError
from speech_data import write_manifest

SRC = ["a b c", "b c d", "c d e", "d e f"] * 4
TGT = ["x y", "y z", "z w", "w v"] * 4
X, Y = np.random.default_rng(0).random((16, 6)), np.array([0, 1] * 8)


@pytest.mark.parametrize("attention, feed", [("bahdanau", False), ("none", False)])
def test_translator_input_feed_beside_a_fixed_feed_is_refused(attention, feed):
    t = Translator(attention=attention, input_feed=feed, max_epochs=1)
    with pytest.raises(LstmkitError, match=rf"input_feed=False applies to attention='dot' or 'general', "
                                           rf"not attention='{attention}'") as e:
        t.fit(SRC, TGT)
    assert "drop input_feed=False" in e.value.hint
    assert not hasattr(t, "net_")                      # the fit left the estimator as it was


def test_translator_defaults_and_luong_feed_still_fit(tmp_path):
    Translator(max_epochs=1, progress="off").fit(SRC, TGT)                 # Bahdanau's default feed: no word
    Translator(attention="general", input_feed=False, max_epochs=1, progress="off").fit(SRC, TGT)


@pytest.mark.parametrize("params, said", [
    ({"lr_patience": 3}, "lr_patience=3 applies to lr_schedule='plateau', not to the cosine schedule (this "
                         "estimator's default)"),
    ({"model": "lstm", "lr_schedule": "cosine", "lr_factor": 0.3},
     "lr_factor=0.3 applies to lr_schedule='plateau', not to lr_schedule='cosine'")])
def test_plateau_settings_under_cosine_are_refused(params, said):
    with pytest.raises(LstmkitError) as e:
        SequenceClassifier(max_epochs=1, **params).fit(X, Y)
    assert said in e.value.message
    assert "lr_schedule='plateau'" in e.value.hint


@pytest.mark.parametrize("params", [{}, {"model": "lstm", "lr_patience": 3},
                                    {"lr_schedule": "plateau", "lr_patience": 3}])
def test_plateau_settings_where_they_act_or_at_their_default_fit(params):
    SequenceClassifier(max_epochs=1, progress="off", **params).fit(X, Y)


def test_a_run_trained_so_before_still_loads_and_resumes(tmp_path):
    # a run an earlier version trained under cosine with lr_patience=3 recorded it: loading checks nothing
    est = SequenceClassifier(max_epochs=1, progress="off", lr_schedule="plateau", lr_patience=3).fit(X, Y, out=tmp_path)
    run = next(tmp_path.iterdir())
    import json
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["config"]["train"]["lr_schedule"] = "cosine"
    (run / "lstmkit.json").write_text(json.dumps(meta))
    loaded = SequenceClassifier.load(run)
    assert loaded.get_params()["lr_patience"] == 3
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


TEXTS, LABELS = ["good film", "bad film", "great movie", "awful movie"] * 5, [1, 0, 1, 0] * 5


@pytest.mark.parametrize("name, value", [("unfreeze_epochs", 3), ("lr_layer_decay", 0.5)])
def test_text_settings_without_their_partner_are_refused(name, value):
    from lstmkit import TextClassifier
    with pytest.raises(LstmkitError) as e:
        TextClassifier(max_epochs=1, progress="off", **{name: value}).fit(TEXTS, LABELS)
    assert e.value.message == f"{name}={value} applies with init_from= only"
    assert e.value.hint == f"drop {name}={value} (or add init_from=)"


@pytest.mark.parametrize("params, said", [
    ({"mode": "ctc", "attention": "general"}, "attention='general' applies to mode='seq2seq', not mode='ctc'"),
    ({"lm_weight": 0.3}, "lm_weight=0.3 applies with lm= only")])
def test_speech_settings_that_cannot_act_are_refused(tmp_path, params, said):
    from lstmkit import SpeechRecognizer
    write_manifest(tmp_path, 20, seed=1)
    with pytest.raises(LstmkitError) as e:
        SpeechRecognizer(max_epochs=1, progress="off", hidden_size=8, num_layers=1, **params).fit(tmp_path / "manifest.csv")
    assert e.value.message == said
