"""The catalogue's environment cases for standard input, output and error: a stream the shell
closed (``<&-``, ``2>&-``) or bytes on standard input outside the run's encoding. One error line
(or the right answer), never a traceback, and never an error line in the data on standard output."""
import pytest

from catalogue_helpers import check, train_once
from cli_helpers import run_cli


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("streams")
    rows = [("très bon film", "pos"), ("mauvais film", "neg"), ("superbe", "pos"), ("nul", "neg")] * 10
    (d / "reviews.csv").write_text("text,label\n" + "".join(f"{t},{l}\n" for t, l in rows))
    (d / "a.fr").write_text("le chien\nun chat\n" * 10)
    (d / "a.en").write_text("the dog\na cat\n" * 10)
    tiny = ["--hidden-size", "4", "--embed-dim", "4", "--min-freq", "1", "--epochs", "1", "--progress", "off",
            "--no-tensorboard", "--device", "cpu", "--out", "{out}"]
    classify = train_once(["classify", "train", "--data", "{d}/reviews.csv", "--text", "text", "--label", "label",
                           *tiny], d, d / "classify")
    translate = train_once(["translate", "train", "--src-file", "{d}/a.fr", "--tgt-file", "{d}/a.en", "--layers", "1",
                            *tiny], d, d / "translate")
    return d, classify, translate


def test_classify_predict_with_standard_input_closed(runs, tmp_path, capsys, monkeypatch):
    d, classify, _ = runs
    monkeypatch.setattr("sys.stdin", None)          # what Python makes of `<&-`: was an AttributeError
    check(["classify", "predict", "--run", classify, "--data", "-"], 2, "no input on standard input", tmp_path, capsys)


def test_translate_run_with_standard_input_closed(runs, tmp_path, capsys, monkeypatch):
    """Was a TypeError traceback, then nothing written and exit 0; now as classify predict answers."""
    _, _, translate = runs
    monkeypatch.setattr("sys.stdin", None)
    check(["translate", "run", "--run", translate], 2, "no input on standard input", tmp_path, capsys)


def test_an_error_with_standard_error_closed_stays_out_of_standard_output(runs, capsys, monkeypatch):
    d, classify, _ = runs
    monkeypatch.setattr("sys.stderr", None)         # `2>&-`: print(file=None) wrote the line into `> out.csv`
    code, out, _ = run_cli(["classify", "predict", "--run", classify, "--data", d / "nope.csv"], capsys)
    assert code == 2 and out == ""


def test_standard_input_is_read_in_the_runs_encoding(runs, tmp_path, capsys, monkeypatch):
    d, classify, _ = runs
    latin1 = "très bon film\n".encode("latin-1")
    check(["classify", "predict", "--run", classify, "--data", "-"], 2, "standard input line 1 is not valid utf-8",
          tmp_path, capsys, stdin=latin1, monkeypatch=monkeypatch)
    code, out, err = run_cli(["classify", "predict", "--run", classify, "--data", "-", "--encoding", "latin-1"],
                             capsys, stdin=latin1, monkeypatch=monkeypatch)
    code_utf8, out_utf8, _ = run_cli(["classify", "predict", "--run", classify, "--data", "-"], capsys,
                                     stdin="très bon film\n", monkeypatch=monkeypatch)
    assert code == code_utf8 == 0 and out == out_utf8, err           # --encoding was ignored: 'tr\udce8s'
