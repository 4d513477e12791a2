"""A setting of the other kind of classifier (texts vs numeric series) is refused by name in
Python, as its flag is on the command line; where one dict feeds either kind (a run's
lstmkit.json, a --config YAML shared by both kinds) the other kind's keys are left out."""
import json

import numpy as np
import pytest

from cli_helpers import run_cli
from lstmkit.errors import LstmkitError
from lstmkit.tasks.classify.config import SERIES_ONLY, TEXT_ONLY, ClassifyConfig
from lstmkit.tasks.classify.estimator import SequenceClassifier, TextClassifier, load_classifier

DEFAULTS = ClassifyConfig()
OTHER = [(TextClassifier, SequenceClassifier, name) for name in SERIES_ONLY] + \
        [(SequenceClassifier, TextClassifier, name) for name in TEXT_ONLY]


@pytest.mark.parametrize("cls, owner, name", OTHER, ids=[f"{c.__name__}-{n}" for c, _, n in OTHER])
def test_a_setting_of_the_other_kind_is_refused_naming_its_estimator(cls, owner, name):
    """Even at its default value: given to the wrong estimator, it could only be ignored."""
    with pytest.raises(LstmkitError, match=f"^{name} is a setting of {owner.__name__} .*{cls.__name__} does not "
                                           f"read it") as e:
        cls(**{name: getattr(DEFAULTS, name)})
    assert e.value.hint == f"drop {name}, or use {owner.__name__}"
    with pytest.raises(LstmkitError, match=f"^{name} is a setting of {owner.__name__}"):
        cls().fit(["a"], y=["b"], **{name: getattr(DEFAULTS, name)})        # fit's overrides: before reading


def test_a_config_object_with_the_other_kinds_setting_is_refused():
    with pytest.raises(LstmkitError, match=r"^min_freq=1 in `config` is a setting of TextClassifier") as e:
        SequenceClassifier(config=ClassifyConfig(min_freq=1))
    assert e.value.hint == "leave min_freq at 2, or use TextClassifier"
    with pytest.raises(LstmkitError, match=r"^budget=8.0 in `config` is a setting of SequenceClassifier"):
        TextClassifier(config=SequenceClassifier().config)          # a series config holds the LSTM-FCN budget
    for cls in (TextClassifier, SequenceClassifier):                 # one kind's own config, or the plain one
        assert cls(config=cls().config).config == cls().config
        assert cls(config=ClassifyConfig()).config.series == (cls is SequenceClassifier)


def _run_with_foreign_settings(run, **settings):
    """A run whose lstmkit.json records the other kind's settings away from their defaults, as
    runs saved before these were refused may (they were accepted and ignored)."""
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["config"].update(settings)
    (run / "lstmkit.json").write_text(json.dumps(meta))


def test_saved_runs_load_whatever_the_other_kinds_keys_hold(tmp_path, texts, series, tiny, tiny_series):
    x, y = texts(40)
    text = TextClassifier(**tiny, max_epochs=1).fit(x, y, out=tmp_path / "t")
    _run_with_foreign_settings(text.run_dir_, scaler="minmax", budget=3.0, crops=2, unequal_length=True)
    again = load_classifier(text.run_dir_)
    np.testing.assert_allclose(again.predict_proba(x), text.predict_proba(x))
    assert (again.config_.scaler, again.config_.budget) == (DEFAULTS.scaler, DEFAULTS.budget)
    s, lab = series(30)
    seq = SequenceClassifier(**tiny_series, max_epochs=1, unequal_length=True).fit(s, lab, out=tmp_path / "s")
    _run_with_foreign_settings(seq.run_dir_, min_freq=1, tokenizer="char", word_dropout=0.2)
    again = SequenceClassifier.load(seq.run_dir_)
    np.testing.assert_allclose(again.predict_proba(s), seq.predict_proba(s))
    assert again.config_.min_freq == DEFAULTS.min_freq and again.config_.budget is None    # max_epochs was given


def test_a_series_run_records_only_the_settings_it_reads_and_loads_as_it_was(tmp_path, texts, series, tiny_series):
    """A numeric-series run's lstmkit.json recorded every text setting (word_dropout, tokenizer, min_freq, ...) and,
    under LSTM-FCN, embed_dim and pooling, none of which it reads; now only what applies. It loads with the same
    settings and answers as before; a zoo encoder's run keeps embed_dim and pooling, which it reads."""
    s, lab = series(24, unequal=False)
    for model in ("lstm-fcn-ds", "lstm"):
        est = SequenceClassifier(**tiny_series, max_epochs=1, model=model).fit(s, lab, out=tmp_path / model)
        config = json.loads((est.run_dir_ / "lstmkit.json").read_text())["config"]
        assert not set(TEXT_ONLY) & set(config) and config["series"] is True and config["model"] == model
        assert {"scaler", "budget", "crop", "augment", "max_len", "hidden_size", "num_layers"} <= set(config)
        zoo = {"embed_dim", "pooling"}                          # each left out under LSTM-FCN, not one of them
        assert zoo & set(config) == (zoo if model == "lstm" else set())
        again = SequenceClassifier.load(est.run_dir_)
        assert again.config_.word_dropout == DEFAULTS.word_dropout and again.config_.model == model
        assert (again.config_.embed_dim == 8) == (model == "lstm")            # LSTM-FCN's is unread: the default
        np.testing.assert_allclose(again.predict_proba(s), est.predict_proba(s))
    x, y = texts(24)
    text = TextClassifier(**tiny_series, min_freq=1, max_epochs=1).fit(x, y, out=tmp_path / "t")
    config = json.loads((text.run_dir_ / "lstmkit.json").read_text())["config"]
    assert set(TEXT_ONLY) <= set(config) and config["embed_dim"] == 8          # a text run's as before


def test_cli_config_shared_by_both_kinds_trains_either(tmp_path, capsys, texts, series):
    """A --config YAML may hold both kinds' keys (flags of the other kind are refused): each kind
    takes its own."""
    x, y = texts(40)
    (tmp_path / "t.csv").write_text("text,label\n" + "".join(f"{a},{b}\n" for a, b in zip(x, y)))
    s, lab = series(20, unequal=False)
    (tmp_path / "s.tsv").write_text("".join(f"{b}\t" + "\t".join(f"{v:.3f}" for v in a[:, 0]) + "\n"
                                            for a, b in zip(s, lab)))
    shared = tmp_path / "shared.yaml"
    shared.write_text("min_freq: 1\nscaler: minmax\nhidden_size: 4\nembed_dim: 4\n"
                      "train: {max_epochs: 1, progress: 'off', tensorboard: false}\n")
    for data, kind, own, other in (("t.csv", [], "min_freq", "scaler"), ("s.tsv", ["--series"], "scaler", "min_freq")):
        out = tmp_path / f"runs-{data}"
        code, _, err = run_cli(["classify", "train", "--data", tmp_path / data, *kind, "--config", shared,
                                "--out", out], capsys)
        assert code == 0, err
        (run,) = out.iterdir()
        config = json.loads((run / "lstmkit.json").read_text())["config"]
        assert config[own] == {"min_freq": 1, "scaler": "minmax"}[own]
        if kind:                                  # a numeric-series run records no text setting
            assert other not in config
        else:
            assert config[other] == getattr(DEFAULTS, other)


def test_each_class_lists_its_own_settings_and_a_search_may_name_either_kinds():
    import inspect

    from lstmkit.tune import TASKS
    assert "crop" not in inspect.signature(TextClassifier).parameters and "crop = " not in TextClassifier.__doc__
    assert "min_freq" not in inspect.signature(SequenceClassifier).parameters
    assert {"crop", "budget", "min_freq", "word_dropout", "series"} <= TASKS["classify"].config_keys()
