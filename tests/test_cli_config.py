"""Every config key of every task is a ``train`` flag of the same name, and a value given on the
command line is what the run records in lstmkit.json.

The path from argv to the recorded config is the real one (``lstmkit.cli.main``, the generated
options, ``--config`` merging, the estimator's constructor and its config dataclass); only the
estimator's ``fit`` is replaced by one that records ``estimator.config`` and stops, so the walk
over ~200 flags takes seconds.
"""
import dataclasses
import json
import re
import typing
from pathlib import Path
from typing import Literal

import pandas as pd
import pytest
import typer
import yaml

from cli_helpers import run_cli
from lstmkit.cli_config import ALIASES, field_help, option_specs
from lstmkit.config import TrainConfig, field_types
from lstmkit.errors import LstmkitError
from lstmkit.tasks.classify.config import ClassifyConfig
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks.lm.config import LMConfig
from lstmkit.tasks.speech.config import SpeechConfig
from lstmkit.tasks.translate.config import TranslateConfig

TASKS = {"forecast": ForecastConfig, "classify": ClassifyConfig, "translate": TranslateConfig, "lm": LMConfig,
         "speech": SpeechConfig}
ESTIMATORS = {"forecast": ["lstmkit.tasks.forecast.estimator.Forecaster"],
              "classify": ["lstmkit.tasks.classify.estimator.TextClassifier",
                           "lstmkit.tasks.classify.estimator.SequenceClassifier"],
              "translate": ["lstmkit.tasks.translate.estimator.Translator"],
              "lm": ["lstmkit.tasks.lm.estimator.LanguageModel"],
              "speech": ["lstmkit.tasks.speech.estimator.SpeechRecognizer"]}


def _fields(config_cls):
    """(task field or train field, section) pairs, train last."""
    return ([(f, "") for f in dataclasses.fields(config_cls) if f.name != "train"]
            + [(f, "train") for f in dataclasses.fields(TrainConfig)])


CASES = [(task, f.name, section) for task, cls in TASKS.items() for f, section in _fields(cls)]


def _other_value(config_cls, name: str, section: str):
    """``(argv words, expected recorded value)``: a valid value different from the task's default."""
    cls = TrainConfig if section else config_cls
    default = getattr(config_cls().train if section else config_cls(), name)
    tp = field_types(cls)[name]
    args = typing.get_args(tp)
    optional = type(None) in args
    if optional:
        tp = next(a for a in args if a is not type(None))
        if default is not None:
            return ["none"], None
    dash = name.replace("_", "-")
    if tp is bool:
        return ([f"--no-{dash}"], False) if default else ([f"--{dash}"], True)
    if typing.get_origin(tp) is Literal:
        value = next(c for c in typing.get_args(tp) if c != default)
        return [value], value
    if typing.get_origin(tp) is list:
        if typing.get_args(tp)[0] is float:
            return ["0.1,0.9"], [0.1, 0.9]
        return ["a1,b2"], ["a1", "b2"]
    if tp is int:
        value = 3 if default is None else default + 1
    elif tp is float:
        value = 0.5 if default is None else default / 2 if default else 0.25
    else:
        value = "xyz"
    return [str(value)], value


@pytest.fixture
def recorded(monkeypatch, tmp_path):
    """Replace every estimator's ``fit``: write the constructed config to lstmkit.json and stop."""
    out = tmp_path / "runs"

    class Stop(Exception):
        pass

    def fake_fit(self, *args, **kwargs):
        from lstmkit.runs import write_json
        run = out / "run"
        run.mkdir(parents=True, exist_ok=True)
        write_json(run / "lstmkit.json", {"config": self.config.to_dict()})
        raise Stop

    for paths in ESTIMATORS.values():
        for path in paths:
            monkeypatch.setattr(path + ".fit", fake_fit)

    def run(capsys, task, *words):
        with pytest.raises(Stop):
            run_cli([task, "train", "--data", tmp_path / "data.csv", *words, "--out", out], capsys)
        return json.loads((out / "run" / "lstmkit.json").read_text())["config"]
    return run


@pytest.mark.parametrize("task, name, section", CASES, ids=[f"{t}-{s + '.' if s else ''}{n}" for t, n, s in CASES])
def test_every_key_is_a_flag_and_reaches_lstmkit_json(task, name, section, recorded, capsys, tmp_path):
    from lstmkit.tasks.classify.config import NEEDS, SERIES_ONLY
    words, expected = _other_value(TASKS[task], name, section)
    lm = tmp_path / "lm"
    lm.mkdir()
    (lm / "lstmkit.json").write_text(json.dumps({"format_version": 1, "task": "lm", "status": "finished", "config": {
        "model": "lstm", "level": "word", "embed_dim": 8, "hidden_size": 8, "num_layers": 1}}))
    if (task, name) in (("classify", "init_from"), ("lm", "init_from")):   # the LM's settings are read when built
        words, expected = [str(lm)], str(lm)
    if (task, name) == ("speech", "sample_rate"):
        words, expected = ["16000"], 16000
    words = words if words[0].startswith("--") else ["--" + name.replace("_", "-"), *words]
    if task == "classify" and name in SERIES_ONLY:                       # numeric series only
        words = [*words, "--series"]
    if task == "classify" and NEEDS.get(name) in ("init_from", "vectors"):  # acts beside its partner only
        words = [*words, "--" + NEEDS[name].replace("_", "-"), str(lm) if NEEDS[name] == "init_from" else "v.txt"]
    if task == "speech":                                                 # a mode's own, or beside a partner
        from lstmkit.tasks.speech.config import MODE_ONLY, NEEDS as SPEECH_NEEDS
        words = [*words, *(["--mode", MODE_ONLY[name][-1]] if name in MODE_ONLY else []),
                 *({"lm": ["--lm", str(lm)], "features": ["--features", "mfcc"], "spec_augment": ["--spec-augment"]}
                   [SPEECH_NEEDS[name][0]] if name in SPEECH_NEEDS else [])]
    if (task, name) in (("classify", "ensemble"), ("classify", "crop")):  # options of LSTM-FCN only
        words = [*words, "--model", "lstm-fcn-ds"]
    if (task, name) == ("classify", "augment"):                          # numeric series only
        words = [*words, "--series"]
    if (task, name) == ("translate", "input_feed"):                      # Luong attention's only
        words = [*words, "--attention", "dot"]
    config = recorded(capsys, task, *words)
    value = (config["train"] if section else config)[name]
    assert value == expected, (words, value)


@pytest.mark.parametrize("task", TASKS)
def test_help_lists_every_flag_with_its_help(task, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    code, out, err = run_cli([task, "train", "--help"], capsys)
    assert code == 0, err
    for f, section in _fields(TASKS[task]):
        dash = f.name.replace("_", "-")
        assert f"--{dash}" in out, f.name
        first_words = " ".join(field_help(TrainConfig if section else TASKS[task])[f.name].split()[:3])
        assert first_words in " ".join(out.split()), (f.name, first_words)
    assert "[default: ]" not in " ".join(out.split())     # an empty list shows no default, not an empty one


@pytest.mark.parametrize("task", TASKS)
def test_train_help_fits_80_columns_and_speaks_cli(task, capsys, monkeypatch):
    """At 80 columns no option line runs over (``--model [lstm|gru|...|tcn]`` did: its metavar is
    now ``<model>``, the help lists the choices); a default shows once, as click shows one
    (``[default: ...]``, not also ``(default: ...)``); and the help speaks the command line's words:
    ``none`` and ``--flag`` / ``--no-flag``, not Python's None / True / False."""
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run_cli([task, "train", "--help"], capsys)
    assert code == 0, err
    assert [line for line in out.splitlines() if len(line) > 80] == []
    assert "(default:" not in out
    assert re.findall(r"\b(?:None|True|False)\b", out) == []
    model = next(line for line in out.splitlines() if line.startswith("  --model "))
    assert model.split()[1] == "<model>"
    helps = " ".join(out.split())
    assert all(name in helps for name in ("lstm-attention", "cnn-lstm", "transformer", "tcn"))   # the choices


def test_a_default_typed_as_none_is_shown_only_where_none_means_it(capsys, monkeypatch):
    """``--scaler none`` is "no scaling" while the default (unset) is "chosen", so the help shows no
    ``[default: none]`` there; ``--lookback none`` is the default, shown; an unset ``--ets/--no-ets``
    shows none either (the flag has no ``none``)."""
    monkeypatch.setenv("COLUMNS", "250")
    code, out, err = run_cli(["forecast", "train", "--help"], capsys)
    blocks = re.split(r"\n(?=  -)", out.split("Options:")[1])          # an option and its wrapped help
    lines = {block.split()[0]: " ".join(block.split()) for block in blocks if block.strip()}
    assert "[default:" not in lines["--scaler"] and "not given: chosen (standard)" in lines["--scaler"]
    assert "[default:" not in lines["--combine"] and "[default:" not in lines["--ets"]
    assert lines["--lookback"].endswith("[default: none]")
    assert lines["--relative"].endswith("[default: relative]") and lines["--strict"].endswith("[default: no-strict]")
    assert "--dropout <float>" in lines["--dropout"] and "--fill <ffill|interpolate|zero|none>" in lines["--fill"]


def test_the_command_params_are_the_config_keys():
    from lstmkit.cli import app
    group = typer.main.get_command(app)
    for task, cls in TASKS.items():
        train = group.commands[task].commands["train"]
        opts = {o for p in train.params for o in [*p.opts, *p.secondary_opts]}
        keys = {f.name for f, _ in _fields(cls)}
        assert {"--" + k.replace("_", "-") for k in keys} <= opts
        generated = {p.name for p in train.params} - {"data", "val", "test", "config", "out", "resume", "help",
                                                       "src_file", "tgt_file", "val_src_file", "val_tgt_file"}
        assert generated == keys, task


def test_aliases_and_yaml_under_flags(recorded, capsys, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("lookback: 12\nhorizon: 2\ntrain:\n  lr: 0.01\n  max_epochs: 9\n")
    config = recorded(capsys, "forecast", "--config", cfg, "--epochs", "3", "--layers", "1", "--horizon", "4")
    assert (config["lookback"], config["horizon"], config["num_layers"]) == (12, 4, 1)
    assert (config["train"]["lr"], config["train"]["max_epochs"]) == (0.01, 3)
    assert set(ALIASES) == {"max_epochs", "num_layers", "relative", "lowercase"}
    assert recorded(capsys, "forecast", "--absolute")["relative"] is False
    assert recorded(capsys, "lm", "--keep-case")["lowercase"] is False
    cfg.write_text("max_epochs: 9\nbatch_size: 5\n")         # trainer keys at the file's top level
    config = recorded(capsys, "forecast", "--config", cfg, "--epochs", "3")
    assert (config["train"]["max_epochs"], config["train"]["batch_size"]) == (3, 5)


def test_a_field_without_help_is_refused():
    @dataclasses.dataclass
    class Bad:
        size: int = 3
        train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

    with pytest.raises(TypeError, match="Bad.size has no comment"):
        option_specs(Bad)


def test_help_continues_on_indented_comment_lines():
    assert field_help(TrainConfig)["lr_schedule"].endswith("the last epochs average out the step noise; the default of "
                                                             "classify --series)")
    assert "many series" not in field_help(ForecastConfig)["fill"]     # a section comment is not help


def test_none_is_a_value_where_the_choices_hold_it():
    """``--scaler none`` / ``--combine none`` mean "no scaling" / "no blend", not "unset" (which a
    forecaster would fill from the data); elsewhere ``none`` is the value None."""
    from lstmkit.cli_config import _NONE, _parser
    choose, _ = _parser(Literal["minmax", "none"], optional=True)
    assert choose("none") == "none"
    number, _ = _parser(float, optional=True)
    assert number("none") is _NONE and number("2.5") == 2.5


@pytest.mark.parametrize("text", ["0.1,,0.9", "0.1,0.9,", ",0.5", "0.1, ,0.9"])
def test_a_list_with_an_empty_item_is_refused(text):
    """``--quantiles 0.1,,0.9`` trained on 0.1 and 0.9 alone: the empty item was dropped without a word."""
    from lstmkit.cli_config import _parser
    parse, _ = _parser(list[float], optional=False)
    with pytest.raises(typer.BadParameter, match=f"{re.escape(repr(text))} has an empty item"):
        parse(text)
    assert parse("0.1, 0.5,0.9") == [0.1, 0.5, 0.9] and parse("") == parse(" ") == []   # '': clears a --config list


@pytest.mark.parametrize("task", TASKS)
def test_a_run_folder_is_a_config_of_the_settings_it_recorded(task, recorded, capsys, tmp_path):
    """``train --config RUN`` (or RUN/lstmkit.json) trains with the settings RUN recorded; its
    other keys (format_version, data, ...) were 'unknown setting' errors. Flags still win."""
    config = TASKS[task]().to_dict()
    config["train"]["seed"], config["train"]["patience"] = 1234, 3
    run = tmp_path / "old-run"
    run.mkdir()
    (run / "lstmkit.json").write_text(json.dumps({"format_version": 1, "lstmkit_version": "0.1.0", "task": task,
                                                  "status": "finished", "config": config, "data": {"rows": 9}}))
    assert recorded(capsys, task, "--config", run) == config
    again = recorded(capsys, task, "--config", run / "lstmkit.json", "--epochs", "2")
    assert again["train"]["max_epochs"] == 2 and again["train"]["seed"] == 1234
    other = next(t for t in TASKS if t != task)
    code, _, err = run_cli([other, "train", "--data", tmp_path / "data.csv", "--config", run], capsys)
    assert code == 2 and f"is a {task} run: its settings are not {other}'s" in err, err


def test_a_forecast_run_trained_again_from_its_folder_has_the_same_weights(capsys, tmp_path):
    import numpy as np
    import pandas as pd
    t = np.arange(120)
    pd.DataFrame({"y": 5 + np.sin(t / 3) + np.random.default_rng(0).normal(0, 0.1, 120)}).to_csv(tmp_path / "s.csv",
                                                                                                 index=False)
    runs = []
    for out, more in (("a", ["--horizon", "2", "--epochs", "2", "--hidden-size", "8", "--ensemble", "1"]), ("b", [])):
        config = ["--config", runs[0]] if runs else []
        code, _, err = run_cli(["forecast", "train", "--data", tmp_path / "s.csv", *more, *config, "--out",
                                tmp_path / out, "--no-tensorboard", "--no-doctor", "--progress", "off"], capsys)
        assert code == 0, err
        runs.append(next((tmp_path / out).iterdir()))
    recorded = [json.loads((r / "lstmkit.json").read_text())["config"] for r in runs]
    assert recorded[0] == recorded[1] and recorded[1]["horizon"] == 2 and recorded[1]["hidden_size"] == 8
    assert (runs[0] / "model.safetensors").read_bytes() == (runs[1] / "model.safetensors").read_bytes()


@pytest.mark.parametrize("task, estimator, key, flag", [
    ("forecast", "lstmkit.tasks.forecast.estimator.Forecaster", "data", "data"),
    ("classify", "lstmkit.tasks.classify.estimator.TextClassifier", "test", "test_data"),
    ("translate", "lstmkit.tasks.translate.estimator.Translator", "tgt_file", "tgt_file"),
])
def test_data_paths_in_a_config_file_are_read_as_the_file_means_them(task, estimator, key, flag, monkeypatch,
                                                                       tmp_path, capsys):
    """``data: ~/sales.csv`` in a --config file was 'file not found: ~/sales.csv — the shell expands
    '~' only outside quotes' (no shell reads the file), and ``data: sales.csv`` beside the file was
    not found unless the command ran in the file's folder. A path found beside the file is read there
    from any working folder, also where the working folder has a file of that name (read instead,
    without a word, before: the same command from another folder trained on other data); one found
    only from the working folder is still read there."""
    seen = []

    class Stop(Exception):
        pass

    def fake_fit(self, *args, **kwargs):
        seen.append(kwargs.get(flag, args[0] if args and flag == "data" else None))
        raise Stop

    monkeypatch.setattr(estimator + ".fit", fake_fit)
    home, configs, work = tmp_path / "home", tmp_path / "configs", tmp_path / "work"
    for folder in (home, configs, work):
        folder.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    for place in (home / "in_home.csv", configs / "beside.csv", work / "beside.csv", work / "only_here.csv"):
        place.write_text("x\n")
    required = {"forecast": "", "classify": "data: d.csv\n", "translate": "src_file: a.en\n"}[task]
    for written, expected in [("~/in_home.csv", home / "in_home.csv"), ("only_beside.csv", configs / "only_beside.csv"),
                              ("beside.csv", configs / "beside.csv"),      # the working folder's too: warned
                              ("only_here.csv", "only_here.csv"),     # found from the working folder only: read there
                              (str(home / "in_home.csv"), home / "in_home.csv"), ("nowhere.csv", "nowhere.csv")]:
        (configs / "only_beside.csv").write_text("x\n")
        cfg = configs / "c.yaml"
        cfg.write_text(f"{required}{key}: {written}\n")
        with pytest.raises(Stop):
            run_cli([task, "train", "--config", cfg, "--out", tmp_path / "runs"], capsys)
        assert str(seen[-1]) == str(expected), written
        warned = capsys.readouterr().err
        assert ("read beside it" in warned) == (written == "beside.csv"), warned
        assert written != "beside.csv" or "not the beside.csv in the working folder" in warned, warned


def _bad_value(config_cls, name: str, section: str):
    """A value of the wrong type for the field, as a YAML file would hold it by mistake."""
    tp = field_types(TrainConfig if section else config_cls)[name]
    tp = next((a for a in typing.get_args(tp) if a is not type(None)), tp) if type(None) in typing.get_args(tp) else tp
    if tp is bool:
        return "maybe"
    if typing.get_origin(tp) is Literal:
        return "bogus-choice"
    if tp in (int, float):
        return "ten"
    return {"a": 1}                          # a list field, a text field: a mapping is neither


def _refused_in_the_file(task: str, name: str) -> bool:
    """Whether a wrong value of ``name`` in a ``task`` settings file is refused before the data is read
    (which these cases do not give): not a numeric series' setting in a text classifier's file (one file
    may serve both kinds, and the text classifier leaves them out), not ``init_from`` (a run folder's path,
    read when the model is built), not speech's ``lm`` (checked once the recordings are read)."""
    from lstmkit.tasks.classify.config import SERIES_ONLY
    return not (task == "classify" and name in SERIES_ONLY or name == "init_from" or (task, name) == ("speech", "lm"))


REFUSED = [c for c in CASES if _refused_in_the_file(c[0], c[1])]


@pytest.mark.parametrize("task, name, section", REFUSED, ids=[f"{t}-{s + '.' if s else ''}{n}" for t, n, s in REFUSED])
def test_a_refused_value_from_a_settings_file_is_named_there(task, name, section, capsys, tmp_path):
    """A value the --config file gave and the command refuses is named as the file's key
    ('lookback: 1' in cfg.yaml), never as a flag the user did not type: '— pass --lookback 1 or
    more', '— drop --attention'. The file's own key at the top level or in its train: block."""
    from estimator_data import labelled_texts
    from forecast_data import sine_frame
    data = tmp_path / "data.csv"                 # the checks a task makes once it has read its data too
    if task == "forecast":
        sine_frame(n=60).to_csv(data, index=False)
    elif task == "classify":
        pd.DataFrame(dict(zip(("text", "label"), labelled_texts()))).to_csv(data, index=False)
    cfg = tmp_path / "team.yaml"
    value = _bad_value(TASKS[task], name, section)
    body = {"train": {name: value}} if section else {name: value}
    if task == "forecast" and name != "target":
        body["target"] = "y"
    cfg.write_text(yaml.safe_dump(body))
    code, _, err = run_cli([task, "train", "--data", data, "--config", cfg, "--out", tmp_path / "runs"], capsys)
    line = err.strip().splitlines()[-1]
    assert code == 2 and line.startswith("error: "), err
    assert f"'{name}:" in line and "team.yaml" in line, line
    assert "--" + name.replace("_", "-") not in line, line


def test_numbers_in_exponent_form_are_numbers(recorded, capsys, tmp_path):
    """``lr: 1e-3`` (no dot: YAML 1.1 reads it as text) was '`lr` must be a number, got '1e-3''; YAML
    1.2 and JSON read it as the number. Quoted, it is still text."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("lr: 1e-3\ntrain:\n  weight_decay: 1E-5\n  min_delta: +2.5e-4\n")
    train = recorded(capsys, "forecast", "--config", cfg)["train"]
    assert (train["lr"], train["weight_decay"], train["min_delta"]) == (1e-3, 1e-5, 2.5e-4)
    cfg.write_text("lr: '1e-3'\n")
    code, _, err = run_cli(["forecast", "train", "--data", tmp_path / "d.csv", "--config", cfg], capsys)
    assert code == 2 and "`lr` must be a number, got '1e-3' — check 'lr:' in " in err, err


def test_a_run_trained_with_a_small_number_is_a_config_again(recorded, capsys, tmp_path):
    """A run trained with ``--weight-decay 1e-5`` records ``1e-05`` in lstmkit.json (JSON's way);
    ``train --config RUN`` read it as YAML 1.1 text and refused the run's own settings."""
    config = ForecastConfig().to_dict()
    config["train"]["weight_decay"], config["train"]["lr"] = 1e-5, 3e-4
    run = tmp_path / "run"
    run.mkdir()
    (run / "lstmkit.json").write_text(json.dumps({"format_version": 1, "task": "forecast", "status": "finished",
                                                  "config": config}))
    assert '"weight_decay": 1e-05' in (run / "lstmkit.json").read_text()
    assert recorded(capsys, "forecast", "--config", run) == config


@pytest.mark.parametrize("text, needle", [
    ("lookback: 12\nhorizon: 2\nlookback: 24\n", "gives 'lookback' twice (lines 1 and 3)"),
    ("train:\n  lr: 0.1\n  patience: 3\n  lr: 0.01\n", "gives 'lr' twice (lines 2 and 4)"),
])
def test_a_key_given_twice_is_refused(text, needle, recorded, capsys, tmp_path):
    """PyYAML keeps the last of two equal keys without a word: a file merged by hand ran with the
    value further down, whichever the team meant. A merge key's settings are defaults that its
    mapping's own keys override, as YAML means them: no key given twice."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    code, _, err = run_cli(["forecast", "train", "--data", tmp_path / "d.csv", "--config", cfg], capsys)
    assert code == 2 and needle in err and "keep one of them" in err, err
    cfg.write_text("train:\n  <<: {lr: 0.01, patience: 3}\n  patience: 5\nhidden_size: &h 8\nhighway_hidden: *h\n")
    config = recorded(capsys, "forecast", "--config", cfg)
    assert (config["train"]["lr"], config["train"]["patience"], config["highway_hidden"]) == (0.01, 5, 8)


@pytest.mark.parametrize("name, text, needle, fix", [
    ("tab.yaml", "lookback: 12\ntrain:\n\tlr: 0.1\n", "not valid YAML: found character '\\t' that cannot start any "
     "token (line 3, column 1)", "use spaces, not tabs"),
    ("open.yaml", "calendar: [month, weekday\n", "not valid YAML: expected ',' or ']'", "fix the syntax"),
    ("list.yaml", "- lookback: 12\n", "must hold a mapping of keys to values, not a list",
     "write it as 'key: value' lines"),
    ("bad.toml", "lookback = \n", "not valid TOML: Invalid value (at line 1, column 12)", "fix the syntax"),
    ("bad.json", '{"lookback": 12,}', "not valid JSON: ", "fix the syntax"),
    ("twice.json", '{"lookback": 12, "lookback": 24}', "gives 'lookback' twice in one object", "keep one"),
    ("latin1.yaml", b"target: caf\xe9\n", "is not UTF-8 text (byte 12)", "save it as UTF-8"),
])
def test_a_settings_file_that_does_not_read_says_where(name, text, needle, fix, capsys, tmp_path):
    """'not valid YAML (ScannerError)' named neither the line nor a tab; a TOML file was 'must hold a
    mapping ... write it as 'key: value' lines'; a Latin-1 file was a UnicodeDecodeError traceback."""
    cfg = tmp_path / name
    cfg.write_bytes(text) if isinstance(text, bytes) else cfg.write_text(text)
    code, _, err = run_cli(["forecast", "train", "--data", tmp_path / "d.csv", "--config", cfg], capsys)
    assert code == 2 and needle in err and f"— {fix}" in err and "Traceback" not in err, err


def test_toml_and_json_settings_files(recorded, capsys, tmp_path):
    """A ``.toml`` file (its ``[train]`` table the train: block) and a ``.json`` one read as YAML does."""
    (tmp_path / "c.toml").write_text('lookback = 12\ncalendar = ["month"]\n[train]\nlr = 1e-3\npatience = 2\n')
    (tmp_path / "c.json").write_text('{"lookback": 12, "calendar": ["month"], "train": {"lr": 1e-3, "patience": 2}}')
    for name in ("c.toml", "c.json"):
        config = recorded(capsys, "forecast", "--config", tmp_path / name)
        assert (config["lookback"], config["calendar"], config["train"]["lr"], config["train"]["patience"]) == (
            12, ["month"], 1e-3, 2), name


def test_a_setting_that_cannot_act_is_refused_as_the_files(capsys, tmp_path):
    """A file's setting refused once the data is read (by the estimator, where it changes nothing) is
    named as the file's: '— drop --unfreeze-epochs' named a flag the user never typed; a flag given
    beside the file is still named as a flag."""
    from estimator_data import labelled_texts
    data = tmp_path / "texts.csv"
    pd.DataFrame(dict(zip(("text", "label"), labelled_texts()))).to_csv(data, index=False)
    cfg = tmp_path / "team.yaml"
    cfg.write_text("unfreeze_epochs: 3\nmax_epochs: 1\n")
    code, _, err = run_cli(["classify", "train", "--data", data, "--config", cfg, "--out", tmp_path / "runs"], capsys)
    assert code == 2 and f"drop 'unfreeze_epochs:' in {cfg}" in err and "--unfreeze-epochs" not in err, err
    code, _, err = run_cli(["classify", "train", "--data", data, "--config", cfg, "--unfreeze-epochs", "2",
                            "--out", tmp_path / "runs"], capsys)
    assert code == 2 and "drop --unfreeze-epochs" in err and "team.yaml" not in err, err


@pytest.mark.parametrize("task", TASKS)
def test_a_runs_recorded_settings_pasted_into_a_settings_file_train_the_same(task, recorded, capsys, tmp_path):
    """A run's ``config`` block from lstmkit.json, kept in version control as a settings file (JSON is
    YAML: pasted as it is into ``team.yaml``, or dumped by ``yaml.safe_dump``), gives the run's settings
    back: ``weight_decay: 1e-05`` as JSON writes it was the text '1e-05' to YAML 1.1, refused."""
    config = TASKS[task]().to_dict()
    config["train"]["weight_decay"], config["train"]["min_delta"], config["train"]["seed"] = 1e-5, 1e-4, 7
    pasted, dumped = tmp_path / "team.yaml", tmp_path / "dumped.yaml"
    pasted.write_text(json.dumps(config, indent=2))
    dumped.write_text(yaml.safe_dump(config, sort_keys=False))
    assert recorded(capsys, task, "--config", pasted) == config
    assert recorded(capsys, task, "--config", dumped) == config


@pytest.mark.parametrize("text, needle", [
    ("series: 'no'\n", "`series` must be true or false, got 'no' — check 'series:' in "),   # text, true: series
    ("data: [a.csv, b.csv]\n", "'data:' in "),
])
def test_a_settings_files_value_of_the_wrong_kind_is_refused(text, needle, capsys, tmp_path):
    """``series: 'no'`` (quoted: text, which is true) trained a numeric-series classifier on a text
    table; ``data: [a.csv, b.csv]`` was 'file not found: ['a.csv', 'b.csv']'."""
    cfg = tmp_path / "team.yaml"
    cfg.write_text(text)
    code, _, err = run_cli(["classify", "train", "--config", cfg, "--out", tmp_path / "runs"]
                           + ([] if text.startswith("data") else ["--data", tmp_path / "t.csv"]), capsys)
    assert code == 2 and needle in err, err
    assert text.startswith("series") or "must be one file's path, got ['a.csv', 'b.csv']" in err, err


def test_tune_reads_a_settings_files_data_beside_it(monkeypatch, capsys, tmp_path):
    """``tune --config configs/t.yaml`` naming ``data: sales.csv`` beside it read the path from the
    working folder ('file not found'), where ``train --config`` reads it beside the file."""
    seen = []

    class Stop(Exception):
        pass

    def fake_tune(task, base, **kwargs):
        seen.append(base["data"])
        raise Stop

    monkeypatch.setattr("lstmkit.tune.tune", fake_tune)
    (tmp_path / "configs").mkdir()
    (tmp_path / "work").mkdir()
    (tmp_path / "configs" / "sales.csv").write_text("y\n1\n")
    (tmp_path / "configs" / "t.yaml").write_text("data: sales.csv\nnum_layers: 1\n")
    monkeypatch.chdir(tmp_path / "work")
    with pytest.raises(Stop):
        run_cli(["tune", "forecast", "--config", "../configs/t.yaml"], capsys)
    assert seen == [str(Path("../configs/sales.csv"))]


def test_flags_win_over_the_settings_file_key_by_key_and_none_typed_replaces_its_value(tmp_path):
    """``resolve_params``: a flag given replaces the file's key (``--scaler none`` too), a ``train:``
    block is merged key by key, and trainer keys at the file's top level join its ``train:`` block
    (over it: flat keys win, as :func:`lstmkit.config.split_train_params` says)."""
    from lstmkit.cli_config import resolve_params
    cfg = tmp_path / "c.yaml"
    cfg.write_text("lookback: 12\nhorizon: 2\nscaler: minmax\nlr: 0.5\ntrain:\n  lr: 0.01\n  max_epochs: 9\n")
    flags = {"lookback": 24, "scaler": None, "train": {"max_epochs": 3}}
    assert resolve_params(cfg, flags) == {"lookback": 24, "horizon": 2, "scaler": None,
                                          "train": {"lr": 0.5, "max_epochs": 3}}
    assert resolve_params(None, flags) == flags                               # no file: the flags alone
    assert resolve_params(cfg, {}) == {"lookback": 12, "horizon": 2, "scaler": "minmax",
                                       "train": {"lr": 0.5, "max_epochs": 9}}


def test_a_settings_files_data_path_is_read_beside_it_unless_only_the_working_folder_has_it(tmp_path, monkeypatch):
    from lstmkit.cli_config import config_file_path
    (tmp_path / "conf").mkdir()
    (tmp_path / "work").mkdir()
    cfg = tmp_path / "conf" / "c.yaml"
    monkeypatch.chdir(tmp_path / "work")
    (tmp_path / "work" / "here.csv").write_text("y\n1\n")
    assert config_file_path("here.csv", cfg) == "here.csv"                    # only the working folder has it
    (tmp_path / "conf" / "beside.csv").write_text("y\n1\n")
    assert config_file_path("beside.csv", cfg) == str(tmp_path / "conf" / "beside.csv")
    assert config_file_path("beside.csv", None) == "beside.csv"               # a flag: from the working folder
    assert config_file_path(str(tmp_path / "work" / "here.csv"), cfg) == str(tmp_path / "work" / "here.csv")
    (tmp_path / "conf" / "here.csv").write_text("y\n2\n")                     # both: beside the file, with a word
    with pytest.warns(UserWarning, match="read beside it"):
        assert config_file_path("here.csv", cfg) == str(tmp_path / "conf" / "here.csv")
    with pytest.raises(LstmkitError, match="'data:' in .* must be one file's path, got"):
        config_file_path(["a.csv", "b.csv"], cfg)


@dataclasses.dataclass
class _TwoKinds:
    size: int = 3                       # units
    both_ways: bool = False             # read the sequence both ways
    mode: Literal["auto", "none"] | None = None    # auto or none (not given: chosen from the data)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)


def test_the_help_shows_another_kinds_default_beside_where_it_differs():
    """``own``: the defaults shown over the config's; ``other``: a flag's defaults beside them where they differ,
    as typed (a switch by its flag's name); where the other kind leaves a setting unset (no value to type)
    or has the same default, nothing is said beside it."""
    specs = option_specs(_TwoKinds, own={"size": 64, "both_ways": True, "mode": "auto"},
                         other=("--series", {"size": 8, "both_ways": False, "mode": None, "lr": 2e-3}))
    shown = {s.name: re.search(r"\[default: (.*)\]$", s.parameter.default.help or "") for s in specs}
    shown = {k: m and m.group(1) for k, m in shown.items()}
    assert shown["size"] == "64; --series: 8"
    assert shown["both_ways"] == "both-ways; --series: no-both-ways"
    assert shown["mode"] == "auto"
    assert shown["lr"] == f"{TrainConfig().lr}; --series: 0.002"
