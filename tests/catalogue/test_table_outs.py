"""One rule for every command that writes a table (or metrics file) with ``--out``: ``-`` is standard
output (CSV, the report on standard error), and a folder, or a path under a file, is refused before any
work with one line naming the fix.

``--out -`` wrote a file named ``-``; a folder was refused only by ``forecast evaluate`` before its work,
by the others at the rename after it (its refusals came after the data was read: given a missing data
file, they said 'file not found', not that ``--out`` is a folder)."""
import io
import json

import pandas as pd
import pytest

from catalogue_helpers import check, forecast_run, train_once
from cli_helpers import run_cli

TINY = ["--hidden-size", "4", "--embed-dim", "4", "--min-freq", "1", "--epochs", "1", "--progress", "off",
        "--no-tensorboard", "--device", "cpu", "--out", "{out}"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("table_outs")
    forecast = forecast_run(d)
    (d / "reviews.csv").write_text("text,label\n" + "good film,pos\nbad film,neg\n" * 10)
    (d / "pairs.csv").write_text("src,tgt\n" + "the cat,die katze\na dog,ein hund\n" * 10)
    (d / "corpus.txt").write_text("the cat sat on the mat\n" * 20)
    classify = train_once(["classify", "train", "--data", "{d}/reviews.csv", *TINY], d, d / "classify")
    translate = train_once(["translate", "train", "--data", "{d}/pairs.csv", "--layers", "1", *TINY], d,
                           d / "translate")
    lm = train_once(["lm", "train", "--data", "{d}/corpus.txt", "--level", "char", "--no-doctor", *TINY[:4],
                     *TINY[6:]], d, d / "lm")
    return {"d": d, "forecast": forecast, "classify": classify, "translate": translate, "lm": lm}


# each command that writes a table, and its data option (a missing file: the work it would read)
COMMANDS = {
    "forecast predict": (["forecast", "predict"], "sine.csv"),
    "forecast evaluate": (["forecast", "evaluate"], "sine.csv"),
    "classify predict": (["classify", "predict"], "reviews.csv"),
    "translate evaluate": (["translate", "evaluate"], "pairs.csv"),
    "lm evaluate": (["lm", "evaluate"], "corpus.txt"),
}


def _argv(runs, name: str, data: str | None = None) -> list:
    command, file = COMMANDS[name]
    return [*command, "--run", runs[command[0]], "--data", runs["d"] / (data or file)]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_dash_is_standard_output_and_writes_no_file_named_dash(runs, name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli([*_argv(runs, name), "--out", "-"], capsys)
    assert code == 0, err
    assert not (tmp_path / "-").exists()
    if name == "lm evaluate":                       # its --out is the metrics' JSON: alone on standard output
        assert json.loads(out)["perplexity"] > 0 and "perplexity" in err
        return
    table = pd.read_csv(io.StringIO(out))           # the table alone there, as CSV
    assert len(table) > 0 and "Traceback" not in err
    if name == "forecast predict":                  # what predict writes with no --out at all
        assert run_cli(_argv(runs, name), capsys)[1] == out
    if name == "forecast evaluate":                 # the run's own file, the metrics on standard error
        assert table.equals(pd.read_csv(runs["forecast"] / "test_forecasts.csv"))
        assert "Test metrics" in err
    if name == "translate evaluate":
        assert list(table.columns) == ["line", "bleu", "source", "reference", "translation"] and "BLEU" in err
        assert "wrote the sentences to standard output" in err


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_folder_or_a_path_under_a_file_is_refused_before_any_work(runs, name, tmp_path, capsys):
    (tmp_path / "results").mkdir()
    check([*_argv(runs, name, "missing.csv"), "--out", tmp_path / "results"], 2,
          f"cannot write {tmp_path / 'results'}: it is a folder", tmp_path, capsys)
    assert not any((tmp_path / "results").iterdir())
    (tmp_path / "notes").write_text("x\n")
    check([*_argv(runs, name, "missing.csv"), "--out", tmp_path / "notes" / "t.json"], 2,
          f"{tmp_path / 'notes'} is a file, not a folder", tmp_path, capsys)


def test_forecast_predict_names_a_file_in_the_folder_as_its_fix(runs, tmp_path, capsys):
    (tmp_path / "next").mkdir()
    line = check([*_argv(runs, "forecast predict"), "--out", tmp_path / "next"], 2, "it is a folder", tmp_path,
                 capsys)
    assert line.endswith(f"— name a file, e.g. {tmp_path / 'next' / 'forecast.csv'}, or move {tmp_path / 'next'} "
                         "aside"), line


def test_translate_evaluate_from_python_refuses_a_folder_before_translating(runs, tmp_path, monkeypatch):
    from lstmkit import Translator
    from lstmkit.errors import LstmkitError
    est = Translator.load(runs["translate"])
    monkeypatch.setattr(Translator, "translate", lambda *a, **k: pytest.fail("translated before the refusal"))
    with pytest.raises(LstmkitError, match="it is a folder"):
        est.evaluate(str(runs["d"] / "pairs.csv"), out_file=tmp_path)


def test_translate_evaluate_from_python_writes_dash_to_standard_output(runs, tmp_path, capsys, monkeypatch):
    from lstmkit import Translator
    monkeypatch.chdir(tmp_path)
    Translator.load(runs["translate"]).evaluate(str(runs["d"] / "pairs.csv"), out_file="-")
    assert not (tmp_path / "-").exists()
    assert len(pd.read_csv(io.StringIO(capsys.readouterr().out))) == 20


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_data_file_itself_is_refused_as_out(runs, name, tmp_path, capsys):
    """``forecast predict --data sales.csv --out sales.csv`` replaced the data by its forecast, exit 0."""
    import shutil
    file = COMMANDS[name][1]
    data = tmp_path / (file.split(".")[0] if name == "lm evaluate" else file)     # lm's --out: JSON or no suffix
    shutil.copy(runs["d"] / file, data)
    before = data.read_bytes()
    command = COMMANDS[name][0]
    line = check([*command, "--run", runs[command[0]], "--data", data, "--out", data], 2,
                 f"cannot write {data}: it is the file read as --data", tmp_path, capsys)
    assert "write the table under another name" in line and data.read_bytes() == before


def test_translate_reference_file_is_refused_as_out(runs, tmp_path, capsys):
    (tmp_path / "src.txt").write_text("the cat\n")
    (tmp_path / "ref.txt").write_text("die katze\n")
    check(["translate", "evaluate", "--run", runs["translate"], "--src-file", tmp_path / "src.txt",
           "--ref-file", tmp_path / "ref.txt", "--out", tmp_path / "ref.txt"], 2,
          "it is the file read as --ref-file", tmp_path, capsys)
    assert (tmp_path / "ref.txt").read_text() == "die katze\n"


@pytest.mark.parametrize("name", ["translate evaluate", "lm evaluate"])
def test_dev_stdout_keeps_the_report_off_it(runs, name, capfd):
    """--out /dev/stdout wrote the table (lm: the metrics' JSON) and then the report into one stream."""
    code, out, err = run_cli([*_argv(runs, name), "--out", "/dev/stdout"], capfd)     # captured at descriptor 1
    assert code == 0, err
    if name == "lm evaluate":
        assert json.loads(out)["perplexity"] > 0 and "perplexity" in err
    else:
        assert len(pd.read_csv(io.StringIO(out), sep="\t")) == 20 and "BLEU" in err


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_trailing_slash_is_refused_before_any_work(runs, name, tmp_path, capsys):
    """``--out preds/`` where no folder ``preds`` was yet: the command got the path with its slash
    dropped and wrote a FILE named ``preds``. The text as typed is read, before the data is."""
    example = {"forecast predict": "forecast.csv", "forecast evaluate": "test_forecasts.csv",
               "classify predict": "predictions.csv", "translate evaluate": "sentences.tsv",
               "lm evaluate": "metrics.json"}[name]
    line = check([*_argv(runs, name, "missing.csv"), "--out", f"{tmp_path / 'preds'}/"], 2,
                 f"cannot write {tmp_path / 'preds'}/: it ends in a slash, naming a folder, where a file name is "
                 "wanted", tmp_path, capsys)
    assert line.endswith(f"— name the file, e.g. {tmp_path / 'preds' / example}"), line
    assert not (tmp_path / "preds").exists()


def test_translate_evaluate_from_python_refuses_a_trailing_slash(runs, tmp_path, monkeypatch):
    from lstmkit import Translator
    from lstmkit.errors import LstmkitError
    est = Translator.load(runs["translate"])
    monkeypatch.setattr(Translator, "translate", lambda *a, **k: pytest.fail("translated before the refusal"))
    with pytest.raises(LstmkitError, match="ends in a slash, naming a folder, where a file name is wanted"):
        est.evaluate(str(runs["d"] / "pairs.csv"), out_file=f"{tmp_path / 'sentences'}/")
    assert not (tmp_path / "sentences").exists()


def test_translate_evaluate_from_python_refuses_a_suffix_no_writer_has_before_translating(runs, tmp_path, monkeypatch):
    from lstmkit import Translator
    from lstmkit.errors import LstmkitError
    est = Translator.load(runs["translate"])
    monkeypatch.setattr(Translator, "translate", lambda *a, **k: pytest.fail("translated before the refusal"))
    with pytest.raises(LstmkitError, match=r"cannot write a table as '\.weird'.* — name the file \.csv, \.tsv"):
        est.evaluate(str(runs["d"] / "pairs.csv"), out_file=tmp_path / "sentences.weird")
    assert not (tmp_path / "sentences.weird").exists()


def test_translate_evaluate_from_python_names_the_input_it_would_replace_in_python_words(runs, tmp_path):
    """The file given as ``ref_file`` (it read 'the file read as ref_file=', the command line's words
    turned half into Python's)."""
    from lstmkit import Translator
    from lstmkit.errors import LstmkitError
    est = Translator.load(runs["translate"])
    (tmp_path / "src.txt").write_text("the cat\n")
    (tmp_path / "ref.txt").write_text("die katze\n")
    with pytest.raises(LstmkitError) as caught:
        est.evaluate(src_file=str(tmp_path / "src.txt"), ref_file=str(tmp_path / "ref.txt"),
                     out_file=str(tmp_path / "ref.txt"))
    assert f"cannot write {tmp_path / 'ref.txt'}: it is the file given as ref_file, which the table would " \
           "replace" in str(caught.value), str(caught.value)
