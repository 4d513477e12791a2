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
    ("tasks/classify/bench.py", "pass --data"),
    ("tasks/lm/bench.py", "pass --data"), ("tasks/lm/bench.py", "pass --test"),
    ("tasks/speech/bench.py", "pass --data"), ("tasks/speech/data.py", "pass --test"),
    ("compare.py", "pass --data"), ("compare.py", "pass --seeds"), ("compare.py", "pass --threads"), ("compare.py", "with --tgt-file"),
    ("compare.py", "with --resume"),
    ("tune.py", "pass --config"), ("tune.py", "pass --epochs"), ("tune.py", "--epochs "), ("tune.py", "--config "),
    ("compare.py", "--task "),
    ("deploy/cors.py", "--cors-origin "),
    ("data/tables.py", "--data "),                      # '--data -' reads standard input: a command's only
    ("tasks/speech/deploy.py", "without --lm"),         # a service's language model
    ("train/doctor.py", "without --no-doctor"),         # `lstmkit doctor RUN`
    ("deploy/cors.py", "pass --cors-origin"), ("deploy/cors.py", "with --cors-origin"),
    ("deploy/served.py", "pass --run"), ("deploy/server.py", "pass --host"),
    # functions outside the estimators' methods (no caller's words to follow)
    ("inspect/attention.py", "train with --model"), ("inspect/gates.py", "with --mode"),
    # the command line's branch of a fix whose Python one is built apart (errors.python_caller())
    ("data/splits.py", "--data "),
}
# ... and a command that continues a run (`lstmkit TASK train --resume RUN`), which a Python caller reads as
# ``Forecaster.resume('RUN')`` (:func:`lstmkit.runs.resume_call`)
# A message that opens on a flag and its value ("--out X is a file", "--deseason 48 needs ...") names it too.
_FLAG_HINT = re.compile(r"\b(pass|use|drop|add|lower|raise|leave out|train with|train it with|name them|with|give|for|"
                        r"without|leave)\s+(e\.g\.\s+)?--[a-z][a-z-]*|\btrain --resume\b|^--[a-z][a-z-]* ")


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


# -- messages that named a flag to Python callers: paths, parts of a data set, exports, tune ------------------
# From Python these said '--out /x is a file ... pass a folder for --out', '--highway 100 needs ...',
# '--deseason 60 needs ...', '--val and --test are the same file', 'pass --data corpus/train (and score the test
# part with lm evaluate --run RUN --data corpus/test)', 'pass --out NEW_FOLDER', 'export it first: lstmkit export
# onnx --run RUN', 'pass the folder printed by 'train'' and, from lstmkit.tune.tune, 'pass --trials 30, say'.
# Each case: (name, what a Python caller does, the message it reads, the command line's arguments, its message);
# '{d}' is the working folder, where the command line's relative paths lie.
def _parts(d: Path) -> None:
    for part in ("train", "test"):
        (d / "corpus" / part).mkdir(parents=True)
        (d / "corpus" / part / "a.txt").write_text("the red dog runs\nthe big cat sits\n")
    (d / "seq").mkdir()
    for part in ("train", "test"):
        pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0], "label": ["x", "y"]}).to_csv(d / "seq" / f"{part}.csv",
                                                                                      index=False)


def _tune(d: Path, task: str = "forecast", base: dict | None = None, **kw):
    from lstmkit.tune import tune
    return tune(task, {"data": str(d / "plain.csv"), "target": "y"} if base is None else base, out=d / "study", **kw)


TRAIN_Y = ["forecast", "train", "--data", "plain.csv", "--target", "y", *FIT]
IN_CALLERS_WORDS = [
    ("out", lambda d: lstmkit.Forecaster(**QUICK).fit(SINE, out=d / "afile"),
     "out='{d}/afile' is a file, not a folder — pass a folder for out= (it is created when missing)",
     [*TRAIN_Y, "--out", "afile"], "--out afile is a file, not a folder — pass a folder for --out (it is created when "
                                   "missing)"),
    ("highway", lambda d: lstmkit.Forecaster(**QUICK, highway=100).fit(SINE),
     "highway=100 needs a lookback of 100 steps, and the training part has 56 points — pass a smaller highway= (or 0 "
     "to turn it off)",
     [*TRAIN_Y, "--highway", "100"], "--highway 100 needs a lookback of 100 steps, and the training part has 56 "
                                     "points — pass a smaller --highway (or 0 to turn it off)"),
    ("deseason", lambda d: lstmkit.Forecaster(**QUICK, lookback=4, deseason=60).fit(SINE),
     "deseason=60 needs 61 training points of a series to measure its seasonal indices, and the training part has "
     "56: nothing would be adjusted — pass the season length of the data (or leave deseason= out to choose it from "
     "the data)",
     [*TRAIN_Y, "--lookback", "4", "--deseason", "60"],
     "--deseason 60 needs 61 training points of a series to measure its seasonal indices, and the training part has "
     "56: nothing would be adjusted — pass the season length of the data (or leave --deseason out to choose it "
     "from the data)"),
    ("val_data", lambda d: lstmkit.TextClassifier(**QUICK).fit("texts.csv", val_data="texts.csv", test_data="texts.csv"),
     "val_data and test_data are the same file (texts.csv): early stopping would choose the weights on the test "
     "set, and the test scores would flatter them — pass val_data= a file kept apart from the test file, or leave "
     "val_data out to hold out val_frac of the data",
     ["classify", "train", "--data", "texts.csv", "--val", "texts.csv", "--test", "texts.csv", *FIT],
     "--val and --test are the same file (texts.csv): early stopping would choose the weights on the test set, and "
     "the test scores would flatter them — pass --val a file kept apart from the test file, or leave --val out to "
     "hold out --val-frac of --data"),
    ("corpus", lambda d: lstmkit.LanguageModel(**QUICK).fit("corpus"),
     "corpus holds a data set in parts (train, test): read as one corpus, its test part would be trained on — fit on "
     "'corpus/train' (and score the test part with evaluate('corpus/test'))",
     ["lm", "train", "--data", "corpus", *FIT],
     "corpus holds a data set in parts (train, test): read as one corpus, its test part would be trained on — pass "
     "--data corpus/train (and score the test part with lm evaluate --run RUN --data corpus/test)"),
    ("seq", lambda d: lstmkit.SequenceClassifier(**QUICK).fit("seq"),
     "seq is a folder of a data set in parts (train.csv, test.csv), not a table of sequences — fit on "
     "'seq/train.csv' with test_data='seq/test.csv' (to evaluate a fitted model: evaluate('seq/test.csv'))",
     ["classify", "train", "--series", "--data", "seq", *FIT],
     "seq is a folder of a data set in parts (train.csv, test.csv), not a table of sequences — pass --data "
     "seq/train.csv --test seq/test.csv (to evaluate a run: --data seq/test.csv)"),
    ("trials", lambda d: _tune(d, trials=0), "`trials` must be a positive integer, got 0 — pass trials=30, say",
     ["tune", "forecast", "--data", "plain.csv", "--target", "y", "--trials", "0"],
     "`trials` must be a positive integer, got 0 — pass --trials 30, say"),
    ("storage", lambda d: _tune(d, storage="sqlite://"),
     "the study storage 'sqlite://' is an in-memory database: the study is lost when the command ends, so it can be "
     "neither continued nor shared by other workers — keep it in a file: storage='sqlite:///runs/study.db' (or leave "
     "storage= out: OUT/study.db)",
     ["tune", "forecast", "--data", "plain.csv", "--target", "y", "--storage", "sqlite://", "--out", "study"],
     "the study storage 'sqlite://' is an in-memory database: the study is lost when the command ends, so it can be "
     "neither continued nor shared by other workers — keep it in a file: --storage sqlite:///runs/study.db (or "
     "leave --storage out: OUT/study.db)"),
    ("study_data", lambda d: _tune(d, base={"target": "y"}), "no data given — pass base={{'data': 'FILE.csv', ...}}",
     ["tune", "forecast", "--target", "y", "--out", "study"],
     "no data given — pass --data FILE.csv (or 'data:' in the --config file)"),
    ("val_frac", lambda d: _tune(d, "classify", {"data": "texts.csv", "val_frac": 0}),
     "val_frac=0 holds nothing out, so each trial would be ranked by its training loss (the largest, most "
     "overfitted setting wins) — set base['val_frac'] = 0.2, or name a validation file (base['val_data'])",
     ["tune", "classify", "--data", "texts.csv", "--config", "held.yaml", "--out", "study"],
     "val_frac: 0 holds nothing out, so each trial would be ranked by its training loss (the largest, most "
     "overfitted setting wins) — set val_frac: 0.2 in the --config file, or name a validation file (val_data: FILE)"),
]


@pytest.fixture
def words_files(hint_files):
    (hint_files / "afile").write_text("x")
    (hint_files / "held.yaml").write_text("val_frac: 0\n")
    pd.DataFrame({"text": labelled_texts()[0], "label": labelled_texts()[1]}).to_csv(hint_files / "texts.csv",
                                                                                     index=False)
    _parts(hint_files)
    return hint_files


@pytest.mark.parametrize("call, said", [c[1:3] for c in IN_CALLERS_WORDS], ids=[c[0] for c in IN_CALLERS_WORDS])
def test_a_python_caller_reads_its_own_arguments_in_the_message_too(call, said, words_files):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        error = _error(lambda: call(words_files))
    assert str(error) == said.format(d=words_files)
    assert not re.search(r"(?<![\w-])--[a-z]", str(error)), error


@pytest.mark.parametrize("argv, said", [c[3:] for c in IN_CALLERS_WORDS], ids=[c[0] for c in IN_CALLERS_WORDS])
def test_the_command_line_reads_the_same_messages_in_flags(argv, said, words_files, capsys):
    out = [] if "--out" in argv or argv[0] == "tune" else ["--out", "runs"]
    code, _, err = run_cli([*argv, *out], capsys)
    assert code == 2 and err.strip() == f"error: {said}", err
    assert not re.search(r"\b[a-z_]+=[^=]", said), said


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A forecaster and a text classifier fitted into run folders, and files for their refusals."""
    d = tmp_path_factory.mktemp("saved")
    pd.DataFrame({"y": SINE}).to_csv(d / "plain.csv", index=False)
    pd.DataFrame({"body": labelled_texts()[0], "label": labelled_texts()[1], "n": 1}).to_csv(d / "body.csv",
                                                                                          index=False)
    (d / "afile").write_text("x")
    (d / "taken").mkdir()
    return {"d": d, "forecast": lstmkit.Forecaster(**QUICK, lookback=4).fit(SINE, run_dir=d / "forecast"),
            "classify": lstmkit.TextClassifier(**QUICK, min_freq=1).fit(TABLE, run_dir=d / "classify")}


def test_a_fitted_models_exports_and_engines_name_its_methods(saved):
    d, f, clf = saved["d"], saved["forecast"], saved["classify"]
    assert _hint(lambda: f.export("int8", out=d / "taken")) == "pass out=NEW_FOLDER (runs are never overwritten)"
    assert str(_error(lambda: f.export("onnx", out=d / "x.csv"))).startswith(
        f"out={str(d / 'x.csv')!r} is not a .onnx file name — ")
    assert _hint(lambda: f.predict(SINE, engine="onnx")) == "export it first: export('onnx') on the fitted model"
    assert _hint(lambda: lstmkit.load(d / "afile")) == "pass the run folder a fit wrote (its run_dir_)"
    # a file without the text column: evaluate and export take no text= (it said 'pass text= with one of: …')
    for call in (lambda: clf.evaluate(d / "body.csv"), lambda: clf.export("int8", out=d / "c8", data=d / "body.csv")):
        hint = _hint(call)
        assert hint.startswith("the model reads column 'text' (as it was trained): rename the file's column to it"), hint
        assert "text=" not in hint and "--" not in hint, hint


def test_the_command_line_names_the_same_exports_and_engines_in_flags(saved, capsys):
    d = saved["d"]
    forecast, classify = d / "forecast", d / "classify"
    cases = [(["export", "int8", "--run", forecast, "--out", d / "taken"], "pass --out NEW_FOLDER (runs are never "
                                                                           "overwritten)"),
             (["forecast", "predict", "--run", forecast, "--data", d / "plain.csv", "--engine", "onnx"],
              f"export it first: lstmkit export onnx --run {forecast}"),
             (["forecast", "predict", "--run", d / "afile", "--data", d / "plain.csv"],
              "pass the folder printed by 'train'"),
             (["classify", "evaluate", "--run", classify, "--data", d / "body.csv"], "pass --text with one of: body, label, n"),
             (["export", "int8", "--run", classify, "--out", d / "c8", "--data", d / "body.csv"],
              "give --data the columns the run was trained with (export int8 has no --text: rename the file's columns); "
              "nothing was written")]
    for argv, hint in cases:
        code, _, err = run_cli(argv, capsys)
        assert code == 2 and err.strip().endswith(f" — {hint}"), (argv, err)
    code, _, err = run_cli(["export", "onnx", "--run", forecast, "--out", d / "x.csv"], capsys)
    assert code == 2 and err.startswith(f"error: --out {d / 'x.csv'} is not a .onnx file name — "), err


def test_an_encoder_that_does_not_export_names_the_engine_in_the_callers_words(saved):
    from lstmkit.deploy.onnx import ShapeRefusal, _refusal
    run = saved["d"] / "forecast"
    with caller_wording(python=True):
        assert _refusal(ShapeRefusal("x"), run).hint == ("keep it on the torch engine (engine='torch'), or train an "
                                                        "encoder that exports (model='lstm')")
    assert _refusal(ShapeRefusal("x"), run).hint == ("keep it on the torch engine ('lstmkit serve --run RUN --engine "
                                                    "torch'), or train an encoder that exports (--model lstm)")


def test_a_language_models_validation_file_is_named_by_its_keyword_and_a_path_is_no_text(tmp_path, capsys):
    """A fit given val_data= was told 'check the val= path' (val= is its older name); the command line was
    told 'a text itself goes in as a list of lines, e.g. [text]', which no command takes."""
    lines, missing = ["the red dog runs", "the big cat sits"] * 10, tmp_path / "missing.txt"
    assert _hint(lambda: lstmkit.LanguageModel(**QUICK).fit(lines, val_data=str(missing))) == (
        "check the val_data= path; a text itself goes in as a list of lines, e.g. [text]")
    (tmp_path / "empty").mkdir()
    assert _hint(lambda: lstmkit.LanguageModel(**QUICK).fit(lines, val_data=tmp_path / "empty")).endswith(
        "or one text file with val_data=")
    (tmp_path / "train.txt").write_text("\n".join(lines) + "\n")
    for flag, hint in (("--val", "check the --val path"), ("--data", "check the --data path")):
        argv = ["--data", tmp_path / "train.txt", "--val", missing] if flag == "--val" else ["--data", missing]
        code, _, err = run_cli(["lm", "train", *argv, *FIT, "--out", tmp_path / "runs"], capsys)
        assert code == 2 and err.strip() == f"error: file not found: {missing} — {hint}", err


def test_quantile_levels_are_written_as_the_caller_passes_them(tmp_path, capsys):
    """From Python the fixes read 'pass levels such as 0.1,0.5,0.9', the command line's comma list."""
    fits = [(lambda: lstmkit.Forecaster(**QUICK, quantiles=[0.1, 1.5]).fit(SINE), "pass levels such as "
             "quantiles=[0.1, 0.5, 0.9]"),
            (lambda: lstmkit.Forecaster(**QUICK, quantiles=[0.9, 0.1]).fit(SINE), "pass them as quantiles=[0.1, 0.9]"),
            (lambda: lstmkit.Forecaster(**QUICK, quantiles=[0.1, 0.102, 0.898, 0.9]).fit(SINE),
             "pass one pair of levels per interval width, e.g. quantiles=[0.1, 0.5, 0.9]")]
    for call, hint in fits:
        assert _hint(call) == hint
    data = tmp_path / "sine.csv"
    pd.DataFrame({"y": SINE}).to_csv(data, index=False)
    for levels, hint in (("0.1,1.5", "pass levels such as --quantiles 0.1,0.5,0.9"),
                         ("0.9,0.1", "pass them as --quantiles 0.1,0.9"),
                         ("0.1,0.102,0.898,0.9", "pass one pair of levels per interval width, e.g. --quantiles "
                                               "0.1,0.5,0.9")):
        code, _, err = run_cli(["forecast", "train", "--data", data, "--target", "y", "--quantiles", levels, *FIT,
                                "--out", tmp_path / "runs"], capsys)
        assert code == 2 and err.strip().endswith(f" — {hint}"), err
