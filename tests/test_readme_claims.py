"""What the README's prose says of defaults and choices is what the code does. Each claim pairs the
README's own words (which must still be there, whitespace aside) with the value they state and the
value the code has: a default changed in a config dataclass, a CLI option or a module constant fails
here, naming the sentence to update. tests/test_readme.py checks that the flags exist;
tests/test_readme_python.py runs the Python examples."""
import importlib
import inspect
import pkgutil
import re
import typing
from pathlib import Path

import pytest
from test_readme import resolve

from lstmkit.config import Encoder, TrainConfig
from lstmkit.tasks.classify.config import ClassifyConfig
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks.forecast.windows import fractions
from lstmkit.tasks.lm.config import LMConfig
from lstmkit.tasks.speech.config import SpeechConfig
from lstmkit.tasks.translate.config import TranslateConfig

ROOT = Path(__file__).resolve().parents[1]


def prose(name: str = "README.md") -> str:
    """A markdown file's text, every run of whitespace one space."""
    return re.sub(r"\s+", " ", (ROOT / name).read_text(encoding="utf-8"))


def project_file(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def cli_default(command: str, option: str):
    """The default of ``--option`` of ``lstmkit COMMAND``."""
    cmd, _, path = resolve(command.split())
    (param,) = [p for p in cmd.params if option in p.opts]
    return param.default


def choices(annotation) -> set[str]:
    """The strings a ``Literal[...]`` annotation allows, through ``| None``."""
    if typing.get_origin(annotation) is typing.Literal:
        return set(typing.get_args(annotation))
    return {value for arg in typing.get_args(annotation) for value in choices(arg)}


def field_choices(config, name: str) -> set[str]:
    return choices(typing.get_type_hints(config)[name])


def forecast_constant(module: str, name: str):
    return getattr(importlib.import_module(f"lstmkit.tasks.forecast.{module}"), name)


# (the README's words, the value they state, the code's value)
CLAIMS = [
    ("Needs Python ≥ 3.11", ">=3.11", lambda: re.search(r'requires-python = "(.*?)"', project_file("pyproject.toml"))[1]),
    ("CI installs the exact versions in `constraints.txt` (CPU build of torch 2.13.0)", "2.13.0",
     lambda: re.search(r"^torch==(\S+)", project_file("constraints.txt"), flags=re.M)[1]),
    ("splits the series in time (70/15/15 by default)", (0.15, 0.15),
     lambda: fractions(ForecastConfig())),
    ("`--strategy`): `direct` (default)", "direct", lambda: ForecastConfig().strategy),
    ("(`--bounds auto`, the default)", "auto", lambda: ForecastConfig().bounds),
    ("K rolling origins `step` points apart (default: the horizon)", None,
     lambda: cli_default("forecast backtest", "--step")),
    ("per series (ETS too for up to 20 series, or with `--ets`)", 20, lambda: forecast_constant("evaluation", "ETS_AUTO_MAX")),
    ("and for big data (more than 102,400 training windows, one series or many) 51,200 windows drawn per epoch",
     (102_400, 51_200), lambda: (forecast_constant("auto", "MANY_WINDOWS"), forecast_constant("auto", "EPOCH_WINDOWS"))),
    ("ETS on its newest 1,000 values at most", 1000, lambda: forecast_constant("combine", "ETS_HISTORY")),
    ("their newest 10,000 at most", 10_000, lambda: forecast_constant("baselines", "ETS_FIT_POINTS")),
    ("(`--engine auto`, the default) then runs it", "auto", lambda: cli_default("forecast predict", "--engine")),
    ("A non-finite loss skips the step, restores the last good weights, halves the learning rate and carries on "
     "(`--nan-retries 3`)", 3, lambda: TrainConfig().nan_retries),
    ("Checkpoints are written every `--checkpoint-every 200` steps", 200, lambda: TrainConfig().checkpoint_every),
    ("(`lr_schedule: plateau`, the default)", "plateau", lambda: TrainConfig().lr_schedule),
    ("as at every task's defaults (a forecaster's `--lr-patience 5`, `--patience 7`: the rate halves at the 6th stalled",
     (5, 7), lambda: (ForecastConfig().train.lr_patience, ForecastConfig().train.patience)),
    ("(the seed among them: `--seed`, `seed=` in Python, 42 unless given)", 42, lambda: TrainConfig().seed),
    ("every task trained with the default `device auto`", "auto", lambda: TrainConfig().device),
    ('`progress="auto"` (the default)', "auto", lambda: TrainConfig().progress),
    ("Lines longer than `--max-len` (256) are trained in pieces", 256, lambda: LMConfig().max_len),
    ("Without `--val` a seeded 10% of the lines is held out", 0.1, lambda: LMConfig().val_frac),
    ("--crop 0.9 # also window slicing: trains on random 90 % windows, averages 5 at prediction", 5,
     lambda: ClassifyConfig().crops),
    ("normalised per utterance over its voiced frames (`--normalize voiced`", "voiced", lambda: SpeechConfig().normalize),
    ("The acoustic model is 2 stride-2 convolutions (receptive field 7 frames) → a zoo encoder (BiLSTM)", "bilstm",
     lambda: SpeechConfig().model),
    ("`lstmkit translate train`'s defaults (a 2-layer BiLSTM encoder, a 2-layer LSTM decoder with Bahdanau attention, "
     "256 units, label smoothing 0.1)", ("bilstm", 2, "bahdanau", 256, 0.1),
     lambda: (TranslateConfig().model, TranslateConfig().num_layers, TranslateConfig().attention,
              TranslateConfig().hidden_size, TranslateConfig().label_smoothing)),
    ("with 8k BPE per side (`--tokenizer bpe --max-size 8000`; the default is words, 16k per side)", ("word", 16000),
     lambda: (TranslateConfig().tokenizer, TranslateConfig().max_size)),
    ("the zoo side by side (lstm, gru, bilstm, bigru, lstm-attention, cnn-lstm, lstm-fcn, transformer, tcn)",
     {"lstm", "gru", "bilstm", "bigru", "lstm-attention", "cnn-lstm", "lstm-fcn", "transformer", "tcn"},
     lambda: choices(Encoder)),
    ("(`--combine none|ets|seasonal_naive`", {"none", "ets", "seasonal_naive"},
     lambda: field_choices(ForecastConfig, "combine")),
    ("`--fill ffill|interpolate|zero`", {"ffill", "interpolate", "zero"},
     lambda: field_choices(ForecastConfig, "fill")),
    ("`--likelihood gaussian|studentt`", {"gaussian", "studentt"},
     lambda: field_choices(ForecastConfig, "likelihood")),
    ("At most every `--watch` seconds (default 2;", (2, 2),
     lambda: (cli_default("serve", "--watch"), importlib.import_module("lstmkit.deploy.reload").WATCH)),
    ("weights that do not match are first waited for up to 30 s", 30,
     lambda: importlib.import_module("lstmkit.deploy.reload").PATIENCE),
    ("`--scaler minmax|standard|mase|none` (left unset, chosen from the training data)",
     ({"minmax", "standard", "mase", "none"}, None),
     lambda: (field_choices(ForecastConfig, "scaler"), ForecastConfig().scaler)),
    ("`recursive` and `seq2seq` need `--model lstm|gru`", ("lstm", "gru"),
     lambda: forecast_constant("checks", "RECURRENT")),
    ("A stream without a message for `--stream-idle` seconds (default 300; 0: never)", (300, 300),
     lambda: (cli_default("serve", "--stream-idle"), importlib.import_module("lstmkit.deploy.server").STREAM_IDLE)),
    ("ece (expected calibration error, 15 equal-width bins", 15,
     lambda: importlib.import_module("lstmkit.train.metrics").ECE_BINS),
    ("vocab.json records html: 2", 2, lambda: importlib.import_module("lstmkit.data.vocab").HTML_INLINE),
    ("a sentence over --max-len (50) tokens is translated by its first 50", 50, lambda: TranslateConfig().max_len),
    ("a first try on a few dozen pairs warns when --min-freq 2 leaves over 30% of a side's training words <unk>",
     (2, 0.3), lambda: (TranslateConfig().min_freq,
                        importlib.import_module("lstmkit.tasks.translate.estimator").UNKNOWN_SHARE)),
    ("rise 3 % (validation part without a test part;", 0.03,
     lambda: importlib.import_module("lstmkit.tasks.forecast.deploy").MASE_LIMIT),
    ("accuracy / WER 0.5 points, perplexity 1 %, BLEU 0.3", (0.005, 0.005, 0.005, 0.01, 0.3),
     lambda: tuple(getattr(importlib.import_module(f"lstmkit.tasks.{room}.deploy"), name) for room, name in (
         ("classify", "ACCURACY_LIMIT"), ("speech", "ACCURACY_LIMIT"), ("speech", "WER_LIMIT"),
         ("lm", "PERPLEXITY_LIMIT"), ("translate", "BLEU_LIMIT")))),
    ("a whole number of Hz from 1000 to 768000", (1000, 768_000),
     lambda: (importlib.import_module("lstmkit.tasks.speech.config").MIN_RATE,
              importlib.import_module("lstmkit.tasks.speech.config").MAX_RATE)),
    ("`lstmkit list [FOLDER]` (`runs/` by default)", "runs", lambda: str(cli_default("list", "folder"))),
    ("(--tokenize: sacrebleu's 13a, intl, zh, char, ja-mecab, ko-mecab, flores101, flores200, none; default 13a",
     ({"13a", "intl", "zh", "char", "ja-mecab", "ko-mecab", "flores101", "flores200", "none"}, "13a"),
     lambda: (set(importlib.import_module("lstmkit.tasks.translate.metrics").TOKENIZERS),
              importlib.import_module("lstmkit.tasks.translate.metrics").bleu_tokenizer(["a b"]))),
]


@pytest.mark.parametrize("words, stated, code", CLAIMS, ids=[c[0][:50] for c in CLAIMS])
def test_the_readme_states_the_default_the_code_has(words, stated, code):
    assert words in prose(), f"README.md no longer says {words!r}: update CLAIMS in tests/test_readme_claims.py"
    value = code()
    assert value == stated, f"README.md says {words!r} ({stated!r}); the code has {value!r}: update one of them"


def test_the_serve_examples_call_the_default_port():
    text = prose()
    assert "lstmkit serve --run sales=runs/forecast-…" in text and "curl -s localhost:8000/models/sales/predict" in text
    assert cli_default("serve", "--port") == 8000


def test_a_claim_that_drifts_fails():
    words, stated, code = CLAIMS[0]
    with pytest.raises(AssertionError, match="update one of them"):
        test_the_readme_states_the_default_the_code_has(words, (0.2, 0.1), code)
    with pytest.raises(AssertionError, match="no longer says"):
        test_the_readme_states_the_default_the_code_has("(80/10/10 by default)", stated, code)


# (what the README's prose shows, the callable it names, a keyword it passes: None when it passes none)
PYTHON_NAMES = [
    ("`Forecaster.resume('runs/forecast-…')`", "lstmkit.Forecaster.resume", None),
    ("`fit(..., resume=True)`", "lstmkit.Forecaster.fit", "resume"),
    ("# a folder holding another run: refused, or save(…, overwrite=True)", "lstmkit.Forecaster.save", "overwrite"),
    ("`lstmkit.deploy.serve(run)`", "lstmkit.deploy.serve", None),
    ('`lstmkit.cli.main(["forecast", "train", ...])`', "lstmkit.cli.main", None),
    ("`lstmkit.inspect.gates`", "lstmkit.inspect.gates", None),
    ("`lstmkit.inspect.attention`", "lstmkit.inspect.attention", None),
    ("`lstmkit.errors.TrainingInterrupted`", "lstmkit.errors.TrainingInterrupted", None),
    ('`lstmkit.serve.Client("http://127.0.0.1:8000")` with `.models()`', "lstmkit.serve.Client.models", None),
    ('`.predict(model="reviews", texts=[…])`', "lstmkit.serve.Client.predict", "model"),
    ('`.upload("hello.wav", model="asr")`', "lstmkit.serve.Client.upload", "model"),
    ('`with c.stream(model="sales") as s:', "lstmkit.serve.Client.stream", "model"),
    ("`create_app(..., cors_origins=[...])`", "lstmkit.deploy.server.create_app", "cors_origins"),
    ("`serve(watch=)`", "lstmkit.deploy.server.serve", "watch"),
    ("`create_app(watch=)`", "lstmkit.deploy.server.create_app", "watch"),
    ("(`step_noted(x)` returns `(answer, warnings)`)", "lstmkit.deploy.streaming.Stream.step_noted", None),
    ("`f.test_forecasts(df)` returns every test window's actuals and forecasts", "lstmkit.Forecaster.test_forecasts", None),
    ("`lstmkit.tasks.forecast.config.ForecastParams`", "lstmkit.tasks.forecast.config.ForecastParams", None),
    ("`fit(X, y, sample_weight=w)`", "lstmkit.TextClassifier.fit", "sample_weight"),
    ("`val_data=(X, y, w)`", "lstmkit.TextClassifier.fit", "val_data"),
    ("`score(files, y, sample_weight=w)`", "lstmkit.SpeechRecognizer.score", "sample_weight"),
    ("with `sample_rate=`", "lstmkit.SpeechRecognizer.predict", "sample_rate"),
    ("Each classifier has `predict_log_proba` too", "lstmkit.SequenceClassifier.predict_log_proba", None),
    ("`SpeechRecognizer(mode=\"ctc\").fit(\"train.csv\", out=\"runs\").transcribe([\"a.wav\"])`",
     "lstmkit.SpeechRecognizer.transcribe", None),
    ("`lstmkit.load(run).export(\"onnx\")`", "lstmkit.Estimator.export", None),
]


@pytest.mark.parametrize("words, dotted, keyword", PYTHON_NAMES, ids=[n[1] for n in PYTHON_NAMES])
def test_the_python_the_readme_prose_names_exists(words, dotted, keyword):
    assert words in prose(), f"README.md no longer says {words!r}: update PYTHON_NAMES in tests/test_readme_claims.py"
    obj = pkgutil.resolve_name(dotted)
    if keyword is not None:
        assert keyword in inspect.signature(obj).parameters, f"README.md shows {words}; {dotted} takes no {keyword}="


def test_a_python_name_that_drifts_fails():
    with pytest.raises(AttributeError):
        test_the_python_the_readme_prose_names_exists("with `sample_rate=`", "lstmkit.SpeechRecognizer.predikt", None)
    with pytest.raises(AssertionError, match="takes no rate="):
        test_the_python_the_readme_prose_names_exists("with `sample_rate=`", "lstmkit.SpeechRecognizer.predict", "rate")


def test_every_estimators_plateau_defaults_let_a_halved_rate_train():
    """The README: a halved rate trains only where lr_patience <= patience - 2, as at every task's defaults (the
    plateau lowers the rate at the (lr_patience + 1)th stalled epoch, early stopping ends at the patience-th; a
    forecaster's lr_patience 10 beside patience 7 trained at one rate throughout until session 44)."""
    import lstmkit
    for name in ["Forecaster", "TextClassifier", "SequenceClassifier", "Translator", "LanguageModel",
                 "SpeechRecognizer"]:
        p = getattr(lstmkit, name)().get_params()
        if p["lr_schedule"] != "plateau":
            continue
        assert p["lr_patience"] <= p["patience"] - 2, (name, p["lr_patience"], p["patience"])
