"""A hint names an option in the caller's words (:func:`lstmkit.errors.opt`): a keyword argument
(``lookback=1``) to a Python caller of the estimators, a flag (``--lookback 1``) on the command line.
From Python the hints said '— pass --lookback 1 or more', a flag no Python caller can pass."""
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lstmkit
from lstmkit.errors import LstmkitError, caller_wording, opt, worded

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cli_helpers import run_cli  # noqa: E402
from estimator_data import QUICK, labelled_texts  # noqa: E402
from speech_data import write_manifest  # noqa: E402
from translate_data import make_pairs  # noqa: E402
from one_thread import one_thread_per_package  # noqa: F401,E402  (autouse: one torch thread)


def test_opt_words_an_option_for_its_caller():
    assert (opt("lookback", 24), opt("pooling", "attention"), opt("drop_empty", True), opt("target", ["a", "b"]),
            opt("lr", "1e-3", written=True), opt("label")) == (
        "--lookback 24", "--pooling attention", "--drop-empty", "--target a,b", "--lr 1e-3", "--label")
    with caller_wording(python=True):
        assert (opt("lookback", 24), opt("pooling", "attention"), opt("drop_empty", True), opt("target", ["a", "b"]),
                opt("lr", "1e-3", written=True), opt("label")) == (
            "lookback=24", "pooling='attention'", "drop_empty=True", "target=['a', 'b']", "lr=1e-3", "label=")
        assert worded("add --series", "use SequenceClassifier") == "use SequenceClassifier"
    assert worded("add --series", "use SequenceClassifier") == "add --series"


def test_the_outermost_caller_decides():
    """The CLI calls the estimators: their hints keep its flags."""
    with caller_wording(python=False):
        with caller_wording(python=True):
            assert opt("lookback", 1) == "--lookback 1"
        with pytest.raises(LstmkitError, match="— pass --lookback 1 or more$"):
            lstmkit.Forecaster(lookback=0)


def _error(call) -> LstmkitError:
    with pytest.raises(LstmkitError) as info:
        call()
    return info.value


def _hint(call) -> str:
    return _error(call).hint


SINE = np.sin(np.arange(80) / 4)
RAGGED = [np.zeros(5), np.zeros(7)] * 5
TABLE = pd.DataFrame({"text": labelled_texts()[0], "label": labelled_texts()[1]})
# (what a Python caller does, the hint it reads)
PYTHON = [
    (lambda: lstmkit.Forecaster(lookback=0), "pass lookback=1 or more"),
    (lambda: lstmkit.Forecaster(dropout=1.5), "pass dropout=0.2, say"),
    (lambda: lstmkit.Forecaster().set_params(horizon=-1), "pass horizon=1 or more"),
    (lambda: lstmkit.Forecaster(**QUICK, lookback=200).fit(SINE), "shorten lookback= (or horizon=) or supply more data"),
    (lambda: lstmkit.Forecaster(**QUICK).fit(pd.DataFrame({"a": SINE, "b": SINE})),
     "name the series to forecast: target='a' (several: a list; inputs that are not forecast go to features=)"),
    (lambda: lstmkit.TextClassifier(**QUICK, min_freq=10**6).fit(*labelled_texts()),
     "pass min_freq=2 (rarer words become unknown)"),
    (lambda: lstmkit.TextClassifier(**QUICK, text="txt").fit(TABLE), "pass text= with one of: text, label"),
    (lambda: lstmkit.TextClassifier(**QUICK).fit(["a b", " "] * 10, ["x", "y"] * 10),
     "remove them, or pass drop_empty=True to skip them"),
    (lambda: lstmkit.TextClassifier(val_frac=1.5),
     "pass val_frac=0.1, val_data, or 0 to hold nothing out, say"),
    (lambda: lstmkit.SequenceClassifier(**QUICK).fit(RAGGED, ["a", "b"] * 5),
     "pass unequal_length=True if they are meant to differ, else fix the ragged rows"),
    (lambda: lstmkit.TextClassifier(**QUICK, drop_empty=True).fit(["", " "] * 10, ["a", "b"] * 10),
     "check the text= column"),
    (lambda: lstmkit.Forecaster(**QUICK).fit(pd.DataFrame({"y": ["1", "-", "3"] * 30})),
     "write 0 where it means zero, or leave the cell empty and train with fill='ffill' (or 'interpolate', 'zero')"),
    (lambda: lstmkit.SequenceClassifier(**QUICK).fit(np.zeros((10, 5)), ["a"] * 10),
     "a classifier needs examples of at least two classes; check the labels (y, or the label= column)"),
]


@pytest.mark.parametrize("call, hint", PYTHON, ids=[h[:40] for _, h in PYTHON])
def test_a_python_caller_reads_keywords(call, hint):
    assert _hint(call) == hint


def test_a_fitted_models_hints_name_keywords_too():
    clf = lstmkit.TextClassifier(**QUICK, min_freq=1).fit(*labelled_texts())
    assert _hint(lambda: clf.attention("the film")) == "train with pooling='attention' to get the token-weight view"
    assert _hint(lambda: clf.token_inputs(" ")) == "pass some words"
    with pytest.raises(LstmkitError, match=r"^the text is an int \('5'\), not a string — pass some words$"):
        clf.token_inputs(5)                                     # it said "the text is empty"
    with pytest.raises(LstmkitError, match=r"^the text is bytes \(b'the film'\), not a string — decode the bytes"):
        clf.token_inputs(b"the film")


def test_the_command_line_reads_flags(tmp_path, capsys):
    """The same hints as the CLI gives them (the catalogue pins more)."""
    data = tmp_path / "sine.csv"
    pd.DataFrame({"y": SINE}).to_csv(data, index=False)
    code, _, err = run_cli(["forecast", "train", "--data", data, "--target", "y", "--lookback", "200", "--epochs", "1",
                            "--out", tmp_path / "runs", "--progress", "off"], capsys)
    assert code == 2 and err.strip().endswith("— shorten --lookback (or --horizon) or supply more data"), err
    code, _, err = run_cli(["forecast", "train", "--data", data, "--target", "y", "--lookback", "0"], capsys)
    assert code == 2 and err.strip().endswith("— pass --lookback 1 or more"), err



# -- the translate, language-model and speech estimators ---------------------------------------------------
PAIRS = [("the red dog", "der rote Hund"), ("a cat", " ")] * 5
# (what a Python caller does, the hint it reads); the command line reads --drop-empty, --val, --subsample 2, ...
PYTHON_SEQ = [
    (lambda: lstmkit.Translator(**QUICK).fit(PAIRS), "fill them in or pass drop_empty=True to skip them"),
    (lambda: lstmkit.Translator(**QUICK).fit(5), "pass data=FILE or src_file=/tgt_file="),
    (lambda: lstmkit.Translator(**QUICK).fit(), "pass data=TABLE, or both src_file= and tgt_file="),
    (lambda: lstmkit.Translator(**QUICK).fit(src_file="a.txt"), "pass both (line-aligned files), or a table with data="),
    (lambda: lstmkit.LanguageModel(**QUICK).fit(["one line of text"]),
     "supply at least 2 lines (better: hundreds), one line of at least 1,000 characters, or a validation file with val_data="),
    (lambda: lstmkit.LanguageModel(max_size=2), "pass max_size=20000, say"),
    (lambda: lstmkit.LanguageModel(**QUICK, level="word").fit(["!!! ...", "?? ,,"] * 5),
     "pass level='char' (each character a token) or level='bpe'"),
    (lambda: lstmkit.SpeechRecognizer(subsample=9), "pass subsample=2, say"),
    (lambda: lstmkit.SpeechRecognizer(win_ms=10, hop_ms=20), "use win_ms=25, hop_ms=10, say"),
    (lambda: lstmkit.SpeechRecognizer(sample_rate=100), "pass sample_rate=16000 (or 8000 for telephone audio), or leave it out"),
]


@pytest.mark.parametrize("call, hint", PYTHON_SEQ, ids=[h[:40] for _, h in PYTHON_SEQ])
def test_the_sequence_estimators_hints_name_keywords(call, hint):
    assert _hint(call) == hint


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A Translator, a LanguageModel (its run folder finished) and a SpeechRecognizer fitted on tiny data."""
    tmp = tmp_path_factory.mktemp("fitted")
    manifest = write_manifest(tmp, 12, seed=0)
    return {"Translator": lstmkit.Translator(**QUICK).fit(make_pairs(30)),
            "LanguageModel": lstmkit.LanguageModel(**QUICK).fit(["the red dog runs", "the big cat sits"] * 15,
                                                                run_dir=tmp / "lm"),
            "SpeechRecognizer": lstmkit.SpeechRecognizer(**QUICK, n_mels=20, channels=8).fit(manifest),
            "lm_run": tmp / "lm", "wav": tmp / pd.read_csv(manifest)["path"][0]}


def test_a_fitted_sequence_models_hints_name_keywords(fitted, tmp_path):
    tr, lm, sr = fitted["Translator"], fitted["LanguageModel"], fitted["SpeechRecognizer"]
    assert _hint(lambda: tr.translate(["the red dog"], beam=0)) == "pass beam=5, say (1 = greedy)"
    assert _hint(lambda: tr.predict(["the red dog"], alpha=-1)) == \
        "pass alpha=1.0, say (0 ranks by the sum of log-probabilities)"
    assert _hint(lambda: lm.sample(n_tokens=0)) == "pass n_tokens=200, say"          # the CLI's --n
    assert str(_error(lambda: lm.token_inputs(None))) == "the text is missing (None), not a string — pass some words"
    assert str(_error(lambda: tr.token_inputs(["the", "red"]))) == \
        "the text is a list (\"['the', 'red']\"), not a string — pass a source sentence"
    assert _hint(lambda: lm.sample(top_k=0)) == "pass top_k=10, say"
    assert _hint(lambda: lm.sample(temperature=-1)) == ("pass temperature=0.8, say (lower is more conservative; 0 draws "
                                                        "the likeliest token each step)")
    assert _hint(lambda: lstmkit.LanguageModel.resume(fitted["lm_run"])) == "start a new run instead of resume=True"
    assert _hint(lambda: sr.transcribe([fitted["wav"]], beam=0)) == "pass beam=4, say (1 = greedy)"
    cp1252 = tmp_path / "caf\u00e9.txt"
    cp1252.write_bytes("caf\u00e9 au lait\n".encode("cp1252") * 20)
    assert _hint(lambda: lm.evaluate(cp1252)).startswith("pass encoding='cp1252' (every byte reads as Windows-1252")


def test_the_command_line_reads_the_sequence_tasks_flags(tmp_path, capsys):
    """The same hints as the CLI gives them: flags (the catalogue pins more)."""
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("src\ttgt\n" + "the red dog\tder rote Hund\na cat\t \n" * 5)
    code, _, err = run_cli(["translate", "train", "--data", pairs, "--epochs", "1", "--out", tmp_path / "t"], capsys)
    assert code == 2 and err.strip().endswith("— fill them in or pass --drop-empty to skip them"), err
    one = tmp_path / "one.txt"
    one.write_text("one line of text\n")
    code, _, err = run_cli(["lm", "train", "--data", one, "--epochs", "1", "--out", tmp_path / "l"], capsys)
    assert code == 2 and err.strip().endswith("or a validation file with --val"), err
    code, _, err = run_cli(["speech", "train", "--data", one, "--subsample", "9", "--out", tmp_path / "s"], capsys)
    assert code == 2 and err.strip().endswith("— pass --subsample 2, say"), err


# -- the forecast and classify hints that named flags to Python callers -----------------------------------
# Each case: (what a Python caller does, the hint it reads, the keyword it names; the command line's
# arguments for the same mistake, the hint it reads there). From Python these said '--ensemble 1',
# '--fill ffill|interpolate|zero', '--features', '--data X --test Y': flags a Python caller cannot pass.
HOURS = pd.date_range("2024-01-01", periods=80, freq="h")
TIMED = pd.DataFrame({"time": HOURS, "y": SINE})
GAP = TIMED.assign(y=np.where(np.arange(80) == 40, np.nan, SINE))
AMBIGUOUS = pd.DataFrame({"time": [f"{d:02d}/{m:02d}/2020" for m in range(1, 6) for d in range(1, 13)],
                          "y": SINE[:60]})
LONG = pd.DataFrame({"sample": np.repeat(np.arange(6), 5), "t": np.tile(np.arange(5), 6), "f": ["x"] + ["1"] * 29,
                     "label": np.repeat(["a", "b"], 15)})
NEITHER = pd.DataFrame({"a": ["x", "y"] * 5, "b": ["u", "v"] * 5})
FIT = ["--epochs", "1", "--progress", "off"]
CONVERTED = [
    ("ensemble", lambda d: lstmkit.Forecaster(**QUICK, ensemble=3, likelihood="gaussian").fit(SINE),
     "use quantiles=, or ensemble=1",
     ["forecast", "train", "--data", "sine.csv", "--target", "y", "--ensemble", "3", "--likelihood", "gaussian"],
     "use --quantiles, or --ensemble 1"),
    ("log", lambda d: lstmkit.Forecaster(**QUICK, log=True, likelihood="gaussian").fit(SINE),
     "use quantiles= with log=True, or drop log=True",
     ["forecast", "train", "--data", "sine.csv", "--target", "y", "--log", "--likelihood", "gaussian"],
     "use --quantiles with --log, or drop --log"),
    ("strategy", lambda d: lstmkit.Forecaster(**QUICK, strategy="recursive", model="bilstm").fit(SINE),
     "use model='lstm' or gru, or strategy='direct'",
     ["forecast", "train", "--data", "sine.csv", "--target", "y", "--strategy", "recursive", "--model", "bilstm"],
     "use --model lstm or gru, or --strategy direct"),
    ("highway", lambda d: lstmkit.Forecaster(**QUICK, highway=0, highway_hidden=8).fit(SINE),
     "add highway=24, say, or drop highway_hidden=",          # was '--highway None' on the command line too
     ["forecast", "train", "--data", "sine.csv", "--target", "y", "--highway", "0", "--highway-hidden", "8"],
     "add --highway 24, say, or drop --highway-hidden"),
    ("highway", lambda d: lstmkit.Forecaster(**QUICK, highway=-1).fit(SINE),        # was 'the lookback (None)' and
     "pass highway=24 (a season), say, or 0 to turn it off",                          # 'pass --highway None'
     ["forecast", "train", "--data", "sine.csv", "--target", "y", "--highway", "-1"],
     "pass --highway 24 (a season), say, or 0 to turn it off"),
    ("val_size", lambda d: lstmkit.Forecaster(**QUICK, val_size=1, horizon=3).fit(SINE),
     "pass val_size=3 or more (or 0 for no val part)",
     ["forecast", "train", "--data", "sine.csv", "--target", "y", "--val-size", "1", "--horizon", "3"],
     "pass --val-size 3 or more (or 0 for no val part)"),
    ("target", lambda d: lstmkit.Forecaster(**QUICK, format="wide").fit(TIMED, target="y"),
     "drop target= and id= (the table is read as id 'series', target 'value'), or drop the columns not to "
     "forecast from the table",
     ["forecast", "train", "--data", "sine.csv", "--target", "y", "--format", "wide"],
     "drop --target and --id (the table is read as id 'series', target 'value'), or drop the columns not to "
     "forecast from the table"),
    ("time", lambda d: lstmkit.Forecaster(**QUICK, calendar=["hour"]).fit(SINE),
     "pass time=COLUMN holding dates (e.g. 2024-01-31 12:00)",
     ["forecast", "train", "--data", "plain.csv", "--target", "y", "--calendar", "hour"],
     "pass --time COLUMN holding dates (e.g. 2024-01-31 12:00)"),
    ("future_covariates",
     lambda d: lstmkit.Forecaster(**QUICK, future_covariates=["y"]).fit(TIMED, target="y", time="time"),
     "drop it from future_covariates= (its past is already an input)",
     ["forecast", "train", "--data", "sine.csv", "--target", "y", "--future-covariates", "y"],
     "drop it from --future-covariates (its past is already an input)"),
    ("fill", lambda d: lstmkit.Forecaster(**QUICK).fit(GAP, target="y", time="time"),
     "clean the data, or train with fill='ffill' (or 'interpolate', 'zero') (its runs repair them at prediction too)",
     ["forecast", "train", "--data", "gap.csv", "--target", "y", "--time", "time"],
     "clean the data, or train with --fill ffill|interpolate|zero (its runs repair them at prediction too)"),
    ("dates", lambda d: lstmkit.Forecaster(**QUICK).fit(AMBIGUOUS, target="y", time="time"),
     "write ISO dates such as 2020-01-31 (or 2020-01-31 12:00), which read one way only, or pass dates='day-first' "
     "(or month-first)",
     ["forecast", "train", "--data", "amb.csv", "--target", "y", "--time", "time"],
     "write ISO dates such as 2020-01-31 (or 2020-01-31 12:00), which read one way only, or pass --dates day-first "
     "(or month-first)"),
    ("folds", lambda d: lstmkit.Forecaster(**QUICK, lookback=4).backtest(SINE, folds=100),
     "use fewer folds=, a smaller step=, or longer series", None, None),
    ("ensemble", lambda d: lstmkit.SequenceClassifier(ensemble=3, model="lstm"),
     "drop ensemble= (or use model='lstm-fcn-ds')",
     ["classify", "train", "--series", "--data", "long.csv", "--ensemble", "3", "--model", "lstm"],
     "drop --ensemble (or use --model lstm-fcn-ds)"),
    ("crop", lambda d: lstmkit.SequenceClassifier(crop=0.5, model="lstm"),
     "drop crop= (or use model='lstm-fcn-ds')",
     ["classify", "train", "--series", "--data", "long.csv", "--crop", "0.5", "--model", "lstm"],
     "drop --crop (or use --model lstm-fcn-ds)"),
    ("features", lambda d: lstmkit.SequenceClassifier(**QUICK, sample="sample", time="t").fit(LONG),
     "fill them, or pass features= with numeric columns only",
     ["classify", "train", "--series", "--data", "long.csv", "--sample", "sample", "--time", "t"],
     "fill them, or pass --features with numeric columns only"),
    ("sample", lambda d: lstmkit.SequenceClassifier(**QUICK).fit(NEITHER),
     "long: one row per step, pass sample= and time= with two of its columns (a, b); wide: one row per sample, its "
     "steps in numeric columns, pass label= with its label column",
     ["classify", "train", "--series", "--data", "neither.csv"],
     "long: one row per step, pass --sample and --time with two of its columns (a, b); wide: one row per sample, its "
     "steps in numeric columns, pass --label with its label column"),
    ("test_data", lambda d: lstmkit.TextClassifier(**QUICK).fit(str(d / "top")),
     "fit on '{d}/top/train' with test_data='{d}/top/test' to train and score on the test part (to evaluate a "
     "fitted model: evaluate('{d}/top/test'))",
     ["classify", "train", "--data", "top"],
     "pass --data top/train --test top/test to train and score on the test part (to evaluate a run: --data top/test)"),
    ("label", lambda d: lstmkit.TextClassifier(**QUICK).fit(labelled_texts()[0]),
     "pass the labels as y, or use a table with a label column (label='NAME')", None, None),
]


@pytest.fixture
def hint_files(tmp_path, monkeypatch):
    """The cases' data as files, in the working folder (the command line's paths are relative)."""
    TIMED.to_csv(tmp_path / "sine.csv", index=False)
    pd.DataFrame({"y": SINE}).to_csv(tmp_path / "plain.csv", index=False)
    GAP.to_csv(tmp_path / "gap.csv", index=False)
    AMBIGUOUS.to_csv(tmp_path / "amb.csv", index=False)
    LONG.to_csv(tmp_path / "long.csv", index=False)
    NEITHER.to_csv(tmp_path / "neither.csv", index=False)
    for part in ("train", "test"):
        for c in ("pos", "neg"):
            (tmp_path / "top" / part / c).mkdir(parents=True)
            (tmp_path / "top" / part / c / "a.txt").write_text(f"a {c} text\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("keyword, call, hint", [c[:3] for c in CONVERTED], ids=[c[0] for c in CONVERTED])
def test_a_python_caller_is_told_keywords_not_flags(keyword, call, hint, hint_files):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")           # the series' steps, a tiny fit's: not what is asked here
        said = _hint(lambda: call(hint_files))
    assert said == hint.format(d=hint_files)
    assert not re.search(r"(?<![\w-])--[a-z]", said) and f"{keyword}=" in said


@pytest.mark.parametrize("argv, hint", [c[3:] for c in CONVERTED if c[3]], ids=[c[0] for c in CONVERTED if c[3]])
def test_the_command_line_is_told_the_same_fixes_as_flags(argv, hint, hint_files, capsys):
    code, _, err = run_cli([*argv, *FIT, "--out", hint_files / "runs"], capsys)
    assert code == 2 and err.strip().endswith(f" — {hint}"), err


@pytest.mark.parametrize("setting", [{"highway": -1}, {"segment": -1}], ids=["highway", "segment"])
def test_a_lookback_still_to_be_chosen_is_not_named_none(setting):
    """A bad --highway or --segment before the lookback is chosen said "the lookback (None)"."""
    with pytest.raises(LstmkitError) as info:
        lstmkit.Forecaster(**QUICK, **setting).fit(SINE)
    assert "None" not in str(info.value) and "the lookback, got -1" in str(info.value), info.value


# -- a guard: no new hint that hard-codes a flag --------------------------------------------------------
# 'pass --x', 'use --x', 'drop --x', ... in a string of the package outside the command-line modules, a
# docstring and worded()'s command-line words: a Python caller would read a flag. Write opt() or worded()
# instead. What is left, and why (path under src/lstmkit, the words):
FLAG_HINTS_LEFT = {
    # only the command line says these: `lstmkit bench`, `compare`, `tune`, `serve`, a train command's
    # --config handling, or the option checks of flags given on the command line
    ("tasks/__init__.py", "pass --data"), ("tasks/classify/bench.py", "pass --data"),
    ("tasks/forecast/bench.py", "pass --data"), ("tasks/lm/bench.py", "pass --data"), ("tasks/lm/bench.py", "pass --test"),
    ("tasks/speech/bench.py", "pass --data"), ("tasks/speech/data.py", "pass --test"),
    ("compare.py", "pass --data"), ("compare.py", "pass --epochs"), ("compare.py", "pass --models"),
    ("compare.py", "pass --seeds"), ("compare.py", "pass --threads"), ("compare.py", "with --tgt-file"),
    ("compare.py", "with --resume"),
    ("tune.py", "pass --space"), ("tune.py", "pass --trials"), ("tune.py", "pass --config"), ("tune.py", "pass --epochs"),
    ("deploy/cors.py", "pass --cors-origin"), ("deploy/cors.py", "with --cors-origin"),
    ("deploy/served.py", "pass --run"), ("deploy/server.py", "pass --host"),
    # functions outside the estimators' methods (no caller's words to follow); onnx.py and quantize.py
    # say the Python keyword beside the flag already
    ("deploy/onnx.py", "pass --out"), ("deploy/quantize.py", "pass --out"),
    ("inspect/attention.py", "train with --model"), ("inspect/gates.py", "with --mode"),
}
# ... and a command that continues a run (`lstmkit TASK train --resume RUN`), which a Python caller reads as
# ``Forecaster.resume('RUN')`` (:func:`lstmkit.runs.resume_call`)
_FLAG_HINT = re.compile(r"\b(pass|use|drop|add|lower|raise|leave out|train with|train it with|name them|with)\s+"
                        r"(e\.g\.\s+)?--[a-z][a-z-]*|\btrain --resume\b")


def _flag_hints(path: Path) -> list[str]:
    """The flag hints in ``path``'s strings, leaving out docstrings and worded()'s first argument."""
    import ast
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body and \
                isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            skip.add(id(body[0].value))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "worded" and node.args:
            skip.update(id(n) for n in ast.walk(node.args[0]))
    return [m.group(0) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
            for m in _FLAG_HINT.finditer(node.value)]


def test_no_hint_outside_the_command_line_hard_codes_a_flag():
    root = Path(lstmkit.__file__).parent
    found = set()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == "cli.py" or rel.startswith("cli_") or rel.endswith("/cli.py"):
            continue
        found.update((rel, words) for words in _flag_hints(path))
    new = sorted(found - FLAG_HINTS_LEFT)
    assert not new, f"hints that name a flag to Python callers too (write opt() or worded()): {new}"
    assert not FLAG_HINTS_LEFT - found, f"allowed but gone (drop them from the list): {sorted(FLAG_HINTS_LEFT - found)}"


# -- continuing a run, the doctor's remedies and the scorer: Python callers read the Python way --------------
# From Python these said 'continue with: lstmkit forecast train --resume RUN', '--resume has to wait ...
# continue it with --resume', 'turn gradient clipping on (clip_norm: 1.0)' and, from scorer(), '--level char'.
def _fail_replace_onto(monkeypatch, name: str, nth: int) -> None:
    """os.replace onto a file called ``name`` fails (disk full) from its ``nth`` call on."""
    import errno
    import os
    real, calls = os.replace, {"n": 0}

    def replace(src, dst, *a, **k):
        if os.path.basename(str(dst)) == name:
            calls["n"] += 1
            if calls["n"] >= nth:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return real(src, dst, *a, **k)
    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("name, nth", [("last.safetensors", 2), ("history.csv", 2)], ids=["checkpoint", "history"])
def test_a_failed_write_in_a_python_fit_names_resume(name, nth, tmp_path, monkeypatch):
    _fail_replace_onto(monkeypatch, name, nth)
    est = lstmkit.Forecaster(**{**QUICK, "max_epochs": 2}, lookback=4)
    with pytest.raises(LstmkitError) as info:
        est.fit(SINE, run_dir=tmp_path / "run")
    assert info.value.hint.endswith(f", then continue with: Forecaster.resume({str(tmp_path / 'run')!r})"), info.value
    assert "--" not in info.value.hint


def test_an_unfinished_run_names_resume_to_a_python_caller(fitted, tmp_path):
    import fcntl
    import json
    import os
    import shutil
    run = tmp_path / "lm"
    shutil.copytree(fitted["lm_run"], run)
    meta = json.loads((run / "lstmkit.json").read_text())
    (run / "lstmkit.json").write_text(json.dumps({**meta, "status": "interrupted"}))
    assert _hint(lambda: lstmkit.LanguageModel.load(run)) == f"continue it with LanguageModel.resume({str(run)!r})"
    assert _hint(lambda: lstmkit.load(run)) == f"continue it with LanguageModel.resume({str(run)!r})"
    other = os.open(run, os.O_RDONLY)                 # another process training the run
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        with pytest.raises(LstmkitError) as info:
            lstmkit.LanguageModel.resume(run)
    finally:
        os.close(other)
    assert info.value.message.endswith("resume has to wait") and info.value.hint == (
        "try again once that training ends (its lstmkit.json then says \"finished\"), or stop it (Ctrl-C) and "
        "continue it with resume()")


def test_the_resume_call_in_each_callers_words():
    from lstmkit.runs import resume_call
    assert resume_call("runs/a", "classify", "series") == "lstmkit classify train --resume runs/a"
    with caller_wording(python=True):
        assert [resume_call("runs/a", task, kind) for task, kind in
                [("forecast", None), ("classify", "text"), ("classify", "series"), ("lm", None)]] == [
            "Forecaster.resume('runs/a')", "TextClassifier.resume('runs/a')", "SequenceClassifier.resume('runs/a')",
            "LanguageModel.resume('runs/a')"]


def test_the_doctors_remedies_name_keywords_to_python():
    from types import SimpleNamespace

    from lstmkit.train.findings import _exploding, _slow
    epoch = {"epoch": 1, "train_loss": 1.0, "grad_norm_max": 5e3, "grad_norm_max_step": 3, "grad_norm_median": 1.0,
             "data_seconds": 0.0, "compute_seconds": 1.0, "steps": 30, "mean_batch": 32, "padding_share": 0.9}
    doc = SimpleNamespace(events=[], epochs=[epoch])
    cfg = SimpleNamespace(lr=1e-3, clip_norm=None, batch_size=32)
    with caller_wording(python=True):
        said = _exploding(doc, cfg)["remedies"] + _slow(doc, cfg)["remedies"]
    assert {"turn gradient clipping on: clip_norm=1.0 (it is off in this run)",
            "lower the learning rate (now 0.001; try 0.0001): lr=0.0001",
            "bucket sequences by length (bucket=True) or cap them (max_len=)"} <= set(said), said
    with caller_wording(python=True):
        said = _exploding(doc, SimpleNamespace(lr=1e-3, clip_norm=1.0, batch_size=32),
                          {"unscaled": "scale the targets: scaler='standard'"})["remedies"]
    assert said[0] == "scale the targets: scaler='standard'" and "tighten gradient clipping: clip_norm=0.5 (now 1)" in said
    assert not any(re.search(r"(?<![\w-])--[a-z]", r) for r in said)


def test_an_lm_scorer_names_keywords(tmp_path):
    lm = lstmkit.LanguageModel(**QUICK, level="bpe").fit(["the red dog runs", "the big cat sits"] * 15)
    assert _hint(lm.scorer) == "train the language model with level='char' or level='word'"
