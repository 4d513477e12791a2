"""The config dataclasses: checks in __post_init__, the YAML round trip, shared choice sets."""
import dataclasses
import re
import typing

import pytest

from lstmkit.config import Attention, Encoder, Pooling, TrainConfig, flatten_config, lower_lr, merge, split_train_params
from lstmkit.errors import LstmkitError, caller_wording
from lstmkit.tasks.classify.config import ClassifyConfig
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks.lm.config import LMConfig
from lstmkit.tasks.speech.config import SpeechConfig
from lstmkit.tasks.translate.config import TranslateConfig

CONFIGS = [ForecastConfig, ClassifyConfig, TranslateConfig, LMConfig, SpeechConfig]


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: c.__name__)
def test_round_trip_through_a_dict_keeps_the_nested_train_block(cls):
    cfg = cls()
    d = cfg.to_dict()
    assert isinstance(d["train"], dict)
    assert cls.from_dict(d) == cfg
    again = cls.from_dict({"train": {"max_epochs": 3}})
    assert again.train.max_epochs == 3
    # the other train keys keep the task's own defaults, not TrainConfig's
    assert again.train.batch_size == cls().train.batch_size


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: c.__name__)
def test_unknown_keys_name_the_known_ones(cls):
    with pytest.raises(LstmkitError, match="unknown config key: hidden_sise.*known keys:.*hidden_size"):
        cls.from_dict({"hidden_sise": 3})
    with pytest.raises(LstmkitError, match="in section 'train': epochs"):
        cls.from_dict({"train": {"epochs": 3}})


BAD = [
    (TrainConfig, {"max_epochs": -1}, "`max_epochs` must be a positive integer, got -1 — pass --max-epochs 1"),
    (TrainConfig, {"batch_size": 0}, "`batch_size` must be a positive integer, got 0"),
    (TrainConfig, {"patience": -2}, "`patience` must be a positive integer, got -2"),
    # 0 passed every check, then training raised ValueError('patience must be >= 1') from the stopper
    (TrainConfig, {"patience": 0}, "`patience` must be a positive integer, got 0 — pass --patience 1 or more"),
    (TrainConfig, {"lr": 0.0}, "`lr` must be positive, got 0.0"),
    (TrainConfig, {"lr_factor": 1.5}, r"`lr_factor` must be in \(0, 1\), got 1.5"),
    (TrainConfig, {"precision": "fp16"}, "unknown precision 'fp16' — use one of: fp32, bf16"),
    (TrainConfig, {"progress": "loud"}, "unknown progress 'loud'"),
    (TrainConfig, {"seed": "42"}, "`seed` must be an integer, got '42'"),
    (TrainConfig, {"max_epochs": True}, "`max_epochs` must be a positive integer, got True"),
    (TrainConfig, {"clip_norm": -1.0}, "`clip_norm` must be positive"),
    (ForecastConfig, {"lookback": 0}, "`lookback` must be a positive integer, got 0"),
    (ForecastConfig, {"dropout": 1.0}, r"`dropout` must be in \[0, 1\), got 1.0"),
    (ForecastConfig, {"model": "lsmt"}, "unknown model 'lsmt' — use one of: lstm, gru"),
    (ForecastConfig, {"strategy": "sideways"}, "unknown strategy 'sideways' — use one of: direct, recursive"),
    (ForecastConfig, {"quantiles": ["a"]}, "`quantiles` must be a number, got 'a'"),
    (ForecastConfig, {"highway_hidden": 2.5}, "`highway_hidden` must be a whole number >= 0"),
    (ForecastConfig, {"season": 0}, "`season` must be a positive integer"),
    (ClassifyConfig, {"pooling": "sum"}, "unknown pooling 'sum'"),
    (ClassifyConfig, {"max_len": 0}, "`max_len` must be a positive integer"),
    (ClassifyConfig, {"val_frac": 1.0}, "`val_frac` must be in"),
    (TranslateConfig, {"teacher_forcing": 1.5}, r"`teacher_forcing` must be in \[0, 1\]"),
    (TranslateConfig, {"beam": 0}, "`beam` must be a positive integer"),
    (LMConfig, {"level": "byte"}, "unknown level 'byte' — use one of: char, word, bpe"),
    (LMConfig, {"max_size": 2}, "`max_size` must be an integer of at least 3"),
    (SpeechConfig, {"subsample": 5}, "`subsample` must be 0 to 4 conv layers"),
    (SpeechConfig, {"hop_ms": 30.0}, r"hop \(30.0 ms\) must be positive and at most the window"),
    (SpeechConfig, {"attention": "luong"}, "unknown attention 'luong'"),
]


@pytest.mark.parametrize("cls, kwargs, message", BAD, ids=[f"{c.__name__}-{next(iter(k))}" for c, k, _ in BAD])
def test_bad_values_are_one_clear_error(cls, kwargs, message):
    with pytest.raises(LstmkitError, match=message):
        cls(**kwargs)


def test_bad_train_values_are_caught_through_from_dict():
    with pytest.raises(LstmkitError, match="`max_epochs` must be a positive integer, got -1"):
        ClassifyConfig.from_dict({"train": {"max_epochs": -1}})


def test_values_are_normalised():
    cfg = ForecastConfig(target="a, b", quantiles=(0.1, 0.9))
    assert cfg.target == ["a", "b"] and cfg.quantiles == [0.1, 0.9]
    assert ClassifyConfig(class_weight="none").class_weight is None
    assert TrainConfig(lr=1).lr == 1                       # an int is a number


def test_choice_sets_match_the_registries_that_implement_them():
    from lstmkit.data.batching import TRUNCATE_MODES
    from lstmkit.data.vocab import TOKENIZERS
    from lstmkit.nn.zoo import ENCODERS
    from lstmkit.nn.classifier import POOLINGS
    from lstmkit.nn.seq2seq import ATTENTIONS
    from lstmkit.train.settings import LR_SCHEDULES, PRECISIONS
    assert set(typing.get_args(Encoder)) == set(ENCODERS)
    assert set(typing.get_args(Pooling)) == set(POOLINGS)
    assert set(typing.get_args(Attention)) == set(ATTENTIONS)
    hints = typing.get_type_hints(TrainConfig)
    assert set(typing.get_args(hints["precision"])) == set(PRECISIONS)
    assert set(typing.get_args(hints["lr_schedule"])) == set(LR_SCHEDULES)
    classify = typing.get_type_hints(ClassifyConfig)
    assert set(typing.get_args(classify["tokenizer"])) == set(TOKENIZERS)
    assert set(typing.get_args(classify["truncate"])) == set(TRUNCATE_MODES)


def test_flat_and_nested_train_parameters_agree():
    params, train = split_train_params({"lr": 0.1, "hidden_size": 3, "train": {"lr": 0.5, "seed": 1}})
    assert params == {"hidden_size": 3} and train == {"lr": 0.1, "seed": 1}
    assert flatten_config({"hidden_size": 3, "train": {"lr": 0.1}}) == {"lr": 0.1, "hidden_size": 3}
    assert merge({"a": 1, "train": {"lr": 1}}, {"a": None, "train": {"seed": 2}}) == {"a": 1, "train": {"lr": 1, "seed": 2}}


def test_configs_share_the_task_config_base():
    for cls in CONFIGS:
        assert dataclasses.is_dataclass(cls)
        assert cls.__dataclass_fields__["train"].default_factory().__class__ is TrainConfig


def test_numpy_numbers_are_settings_like_pythons():
    """np.arange's np.int64 (a grid search's values) was refused: '`hidden_size` must be a positive
    integer, got np.int64(16)'; now every estimator reads numpy's numbers as Python's, in keywords,
    set_params and nested train settings, and keeps them JSON-ready."""
    import json

    import numpy as np

    import lstmkit
    grid = {"hidden_size": np.int64(16), "dropout": np.float64(0.25), "seed": np.int64(7), "max_epochs": np.int32(3),
            "train": {"batch_size": np.int64(8)}}
    for name in ("Forecaster", "TextClassifier", "SequenceClassifier", "Translator", "LanguageModel", "SpeechRecognizer"):
        est = getattr(lstmkit, name)(**grid)
        params = est.get_params()
        assert [type(params[k]) for k in ("hidden_size", "dropout", "seed", "max_epochs", "batch_size")] == \
            [int, float, int, int, int], name
        assert (params["hidden_size"], params["batch_size"]) == (16, 8)
        json.dumps(est.set_params(hidden_size=np.int64(32)).config.to_dict())
    assert lstmkit.Forecaster(quantiles=list(np.array([0.1, 0.5, 0.9]))).config.quantiles == [0.1, 0.5, 0.9]


def test_list_settings_take_an_array_or_index_and_a_wrong_value_is_shown_short():
    """``features=df.columns[2:]`` and ``quantiles=np.array([...])`` were '`features` must be a
    list, got Index([...])'; a 1-D array, Index or Series is the list it holds (Python's numbers,
    JSON-ready). A Series where text goes (``text=df['text']``) printed every row in the error;
    the value is shown on one short line now."""
    import json

    import numpy as np
    import pandas as pd

    import lstmkit
    df = pd.DataFrame({"sample": [1], "t": [0], "a": [1.0], "b": [2.0], "label": ["x"]})
    est = lstmkit.SequenceClassifier(features=df.columns[2:4])
    assert est.config.features == ["a", "b"] == lstmkit.SequenceClassifier(features=np.array(["a", "b"])).config.features
    cfg = lstmkit.Forecaster(quantiles=np.array([0.1, 0.5, 0.9])).config
    assert cfg.quantiles == [0.1, 0.5, 0.9] and type(cfg.quantiles[0]) is float
    json.dumps(cfg.to_dict())
    # comma text, as the signature says a list setting takes: the numbers of a list of numbers were left
    # as texts ('`quantiles` must be a number, got '0.1'')
    assert lstmkit.Forecaster(quantiles="0.1, 0.5,0.9").config.quantiles == [0.1, 0.5, 0.9]
    with pytest.raises(LstmkitError, match=r"^`quantiles` must be a number, got 'half'"):
        lstmkit.Forecaster(quantiles="0.1,half").config
    with pytest.raises(LstmkitError, match=r"^`text` must be text, got 0 a good text 1 a good text .{20,40}\.\.\. — "
                                           r"check text=$") as err:
        lstmkit.TextClassifier(text=pd.Series(["a good text"] * 500))
    assert len(str(err.value)) < 200


def test_one_item_where_a_list_goes_is_shown_as_the_list_of_it():
    """``quantiles=0.9`` was told 'pass quantiles=['a', 'b', 'c']', a list of texts for a list of
    numbers; the hint is now the list of the one item given, and otherwise an example of the list's
    item type."""
    import lstmkit
    with pytest.raises(LstmkitError, match=r"^`quantiles` must be a list, got 0\.9 — pass quantiles=\[0\.9\]$"):
        lstmkit.Forecaster(quantiles=0.9)
    with pytest.raises(LstmkitError, match=r"— pass quantiles=\[0\.1, 0\.5, 0\.9\]$"):
        lstmkit.Forecaster(quantiles={"q": 0.9})
    with pytest.raises(LstmkitError, match=r"^`features` must be a list, got 3 — pass features=\['a', 'b', 'c'\]$"):
        lstmkit.SequenceClassifier(features=3)


def test_progress_takes_a_bool_as_verbose_does():
    """``progress=False`` (scikit-learn's ``verbose=False``) was 'unknown progress False'."""
    assert (TrainConfig(progress=False).progress, TrainConfig(progress=True).progress) == ("off", "auto")


@pytest.mark.parametrize("budget", [0, -1.0, float("inf"), float("nan"), True, "5"])
def test_a_time_budget_is_a_finite_number_of_minutes_above_0(budget):
    with pytest.raises(LstmkitError, match=f"`max_minutes` must be a number > 0, got {budget!r}"):
        TrainConfig(max_minutes=budget)
    assert TrainConfig(max_minutes=0.5).max_minutes == 0.5 and TrainConfig(max_minutes=2).max_minutes == 2
    assert TrainConfig(max_minutes=None).max_minutes is None                # no budget


def test_a_refused_time_budget_shows_a_budget_in_the_callers_words():
    """It said 'pass max_minutes= with a positive number of minutes' to a Python caller."""
    from lstmkit.errors import caller_wording
    with pytest.raises(LstmkitError, match="— pass --max-minutes 30, say \\(minutes\\), or leave it out$"):
        TrainConfig(max_minutes=0)
    with caller_wording(python=True), pytest.raises(LstmkitError, match="— pass max_minutes=30, say"):
        TrainConfig(max_minutes=0)


@pytest.mark.parametrize("seed", [-1, 2**32, True, 4.0, "42"])
def test_a_seed_is_a_whole_number_from_0_to_2_to_the_32_minus_1(seed):
    """numpy's and torch's generators both take 0 .. 2**32 - 1; a bool is no seed."""
    from lstmkit.config import check_seed
    with pytest.raises(LstmkitError, match=f"`seed` must be a whole number from 0 to 4294967295, got "
                                           f"{re.escape(repr(seed))}"):
        check_seed(seed)
    check_seed(0)
    check_seed(2**32 - 1)
    check_seed(7, "fold_seed", most=7)
    with pytest.raises(LstmkitError, match="`fold_seed` must be a whole number from 0 to 7, got 8"):
        check_seed(8, "fold_seed", most=7)


def test_config_source_reads_a_settings_file_or_the_settings_a_run_recorded(tmp_path):
    import json
    from lstmkit.config import config_source
    from lstmkit.runs import FORMAT_VERSION
    (tmp_path / "c.yaml").write_text("lookback: 12\n")
    assert config_source(tmp_path / "c.yaml") == ({"lookback": 12}, None)
    with pytest.raises(LstmkitError, match="config file not found: .*missing.yaml"):
        config_source(tmp_path / "missing.yaml")
    with pytest.raises(LstmkitError, match="is a folder, not a config file nor a run folder"):
        config_source(tmp_path)
    start, run = tmp_path / "start", tmp_path / "tuned"
    for folder in (start, run):
        folder.mkdir()
    (start / "lstmkit.json").write_text(json.dumps({"format_version": FORMAT_VERSION, "task": "lm", "config": {}}))
    (run / "lstmkit.json").write_text(json.dumps({
        "format_version": FORMAT_VERSION, "task": "lm", "config": {"init_from": "runs/start", "hidden_size": 8},
        "data": {"init_from": {"run": str(start)}}}))
    # init_from as typed was relative to where that run trained: the absolute place it recorded replaces it
    assert config_source(run) == ({"init_from": str(start), "hidden_size": 8}, "lm")
    assert config_source(run / "lstmkit.json") == config_source(run)


def test_lower_lr_is_a_tenth_of_a_rate_that_is_one_and_the_option_alone_otherwise():
    """A tenth of 0.003 is 0.0003, written as given in a Python call too (not as the text '0.0003'); a rate of
    0, or not finite, has no tenth to go to: the option alone, as for a rate not recorded."""
    assert lower_lr(0.003) == "lower the learning rate from 0.003 to 0.0003 (--lr 0.0003)"
    with caller_wording(python=True):
        assert lower_lr(0.003) == "lower the learning rate from 0.003 to 0.0003 (lr=0.0003)"
    for lr in (None, 0.0, -0.01, float("inf"), float("nan")):
        assert lower_lr(lr) == "lower the learning rate (--lr)", lr
