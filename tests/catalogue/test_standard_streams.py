"""The catalogue's environment cases for standard input, output and error: a stream the shell
closed (``<&-``, ``2>&-``) or bytes on standard input outside the run's encoding. One error line
(or the right answer), never a traceback, and never an error line in the data on standard output."""
import io
import os
import subprocess
import sys

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


# standard output in an encoding without every character: PYTHONIOENCODING=ascii, a Windows console's
# cp1252 redirected to a file. Each such character is written as a Python escape, said once on stderr.

@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    d = tmp_path_factory.mktemp("lm")
    (d / "lm.txt").write_text("the dog runs . a cat sleeps .\n" * 20)
    return train_once(["lm", "train", "--data", "{d}/lm.txt", "--level", "char", "--embed-dim", "4", "--hidden-size",
                       "4", "--epochs", "1", "--progress", "off", "--no-tensorboard", "--device", "cpu",
                       "--out", "{out}"], d, d / "runs")


def _stdout_in(encoding: str, monkeypatch) -> io.BytesIO:
    """Standard output as Python opens it in ``encoding`` (strict); returns the bytes it receives."""
    raw = io.BytesIO()
    monkeypatch.setattr("sys.stdout", io.TextIOWrapper(raw, encoding=encoding, write_through=True))
    return raw


def _one_escape_warning(err: str, encoding: str) -> None:
    said = [line for line in err.splitlines() if "standard output's encoding" in line]
    assert len(said) == 1 and said[0].startswith(f"warning: standard output's encoding ({encoding})"), err
    assert "PYTHONIOENCODING=utf-8" in said[0] and "Traceback" not in err, err


def test_a_training_report_in_ascii_writes_its_dash_escaped(tmp_path, capsys, monkeypatch):
    """lm train's doctor line (``—``) was a UnicodeEncodeError traceback once the model was trained.
    It is on standard error now, with the epoch lines, which Python opens with escapes for what its
    encoding lacks; the report on standard output is written whole."""
    (tmp_path / "lm.txt").write_text("the dog runs . a cat sleeps .\n" * 20)
    raw = _stdout_in("ascii", monkeypatch)
    raw_err = io.BytesIO()
    monkeypatch.setattr("sys.stderr", io.TextIOWrapper(raw_err, encoding="ascii", errors="backslashreplace",
                                                       write_through=True))
    # trained to beat the unigram (one epoch of a tiny model loses to it, a finding without a dash)
    code, _, _ = run_cli(["lm", "train", "--data", tmp_path / "lm.txt", "--level", "char", "--embed-dim", "8",
                          "--hidden-size", "16", "--epochs", "60", "--lr", "0.03", "--progress", "log",
                          "--no-tensorboard", "--device", "cpu", "--out", tmp_path / "runs"], capsys)
    assert code == 0, raw_err.getvalue()
    doctor = next(line for line in raw_err.getvalue().splitlines() if line.startswith(b"doctor: "))
    assert b" \\u2014 training looked healthy" in doctor and b"Traceback" not in raw_err.getvalue()
    assert raw.getvalue().splitlines()[-1].startswith(b"run folder: ")


def test_a_sample_in_cp1252_writes_what_cp1252_lacks_escaped(lm, capsys, monkeypatch):
    raw = _stdout_in("cp1252", monkeypatch)
    code, _, err = run_cli(["lm", "sample", "--run", lm, "--prefix", "好 café", "--n", "3", "--seed", "1"], capsys)
    assert code == 0, err
    assert raw.getvalue().startswith("\\u597d café".encode("cp1252")), raw.getvalue()     # é is cp1252's
    _one_escape_warning(err, "cp1252")


def test_an_in_process_command_gives_standard_output_its_error_handler_back(lm, capsys, monkeypatch):
    """``lstmkit.cli.main([...])`` run in-process (a notebook, a test) left standard output with its own
    error handler for the rest of the process: the program's own print of a character its encoding
    lacks wrote an escape, where it raised before. It escapes while the command runs, on an error's
    exit too, and the stream's 'strict' comes back when it returns."""
    raw = _stdout_in("cp1252", monkeypatch)
    code, _, err = run_cli(["lm", "sample", "--run", lm, "--prefix", "好", "--n", "2", "--seed", "1"], capsys)
    assert code == 0 and raw.getvalue().startswith(b"\\u597d"), err
    assert sys.stdout.errors == "strict"
    code, _, err = run_cli(["lm", "sample", "--run", lm, "--n", "0"], capsys)
    assert code == 2 and sys.stdout.errors == "strict", err
    with pytest.raises(UnicodeEncodeError):
        print("好")
    sys.stdout.reconfigure(errors="replace")          # the caller's own handler is left as it is
    run_cli(["lm", "sample", "--run", lm, "--prefix", "好", "--n", "2", "--seed", "1"], capsys)
    assert sys.stdout.errors == "replace"


def test_help_in_a_narrow_encoding_is_written(tmp_path):
    """Help holding what the terminal's encoding lacks (rich's '…' once; translate's 'Chinese,
    Thai…') was a traceback under PYTHONIOENCODING=ascii. (Under ascii, click now writes UTF-8,
    taking the locale for misconfigured; cp437, an old Windows console's, still lacks '…'.)"""
    env = {**os.environ, "PYTHONIOENCODING": "cp437", "COLUMNS": "100"}
    proc = subprocess.run([sys.executable, "-m", "lstmkit", "translate", "train", "--help"], capture_output=True,
                          env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Usage: lstmkit translate train" in proc.stdout and b"Thai\\u2026" in proc.stdout
    _one_escape_warning(proc.stderr.decode(), "cp437")


def test_a_path_not_utf8_is_written_as_its_bytes_under_pythonioencoding_utf8(runs, tmp_path, capsys, monkeypatch):
    """PYTHONIOENCODING=utf-8 (strict: what the warning above advises) and an --out folder whose name is
    not UTF-8: 'wrote ... to' was a UnicodeEncodeError traceback, the table already written."""
    d, classify, _ = runs
    folder = tmp_path / "caf\udce9"                 # b"caf\xe9": a Latin-1 name, as Python holds it
    folder.mkdir()
    raw = _stdout_in("utf-8", monkeypatch)
    code, _, err = run_cli(["classify", "predict", "--run", classify, "--data", d / "reviews.csv",
                            "--out", folder / "p.csv"], capsys)
    assert code == 0 and err == "", err
    assert raw.getvalue() == b"wrote 40 rows to " + os.fsencode(folder / "p.csv") + b"\n"


@pytest.mark.parametrize("progress", ["log", "bar"])
def test_training_progress_is_on_standard_error_and_the_report_on_standard_output(runs, tmp_path, capsys, progress,
                                                                                  monkeypatch):
    """`train ... > out.txt` or `| jq` read the report alone: the epoch lines (or bar) and the doctor's
    summary were on standard output, between the results."""
    d, _, _ = runs
    monkeypatch.setenv("COLUMNS", "120")     # rich fits the bar to the width: at 40 columns 'epoch 2/2' was 'epoch…'
    code, out, err = run_cli(["classify", "train", "--data", d / "reviews.csv", "--hidden-size", "4", "--embed-dim",
                              "4", "--min-freq", "1", "--epochs", "2", "--progress", progress, "--no-tensorboard",
                              "--device", "cpu", "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    assert "epoch 2/2" in err and "doctor:" in err
    assert "epoch 2/2" not in out and "doctor:" not in out and "ETA" not in out
    assert "Validation metrics" in out and out.rstrip().splitlines()[-1].startswith("run folder: ")
