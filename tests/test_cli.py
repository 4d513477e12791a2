"""The root ``lstmkit`` command: usage errors are one line on stderr and exit 2, never a traceback."""
import subprocess
import sys

import pytest

from cli_helpers import assert_user_error, run_cli

USAGE = [
    # (argv, words the one error line must hold)
    (["forecast", "train", "--lookback", "abc"], ["'--lookback'", "'abc' is not an integer", "forecast train --help"]),
    (["forecast", "train", "--bogus"], ["no such option", "--bogus"]),
    (["forecast", "predict", "--data", "x.csv"], ["missing option", "--run"]),
    (["foo"], ["no such command", "'foo'", "lstmkit --help"]),
    (["forecast"], ["missing command", "lstmkit forecast --help"]),
    (["classify", "train", "--dropout", "high"], ["'--dropout'", "'high' is not a number"]),
    (["translate", "train", "--relative"], ["no such option", "--relative"]),
    (["forecast", "train", "--data", "x.csv", "--epochs", "-1"], ["`max_epochs` must be a positive integer, got -1",
                                                                 "--max-epochs"]),
    (["lm", "train", "--data", "x.txt", "--batch-size", "0"], ["`batch_size` must be a positive integer, got 0"]),
    (["speech", "train", "--data", "x", "--mode", "ctx"], ["unknown mode 'ctx'", "ctc, classify, seq2seq"]),
]


@pytest.mark.parametrize("argv, words", USAGE, ids=[" ".join(a[:3]) for a, _ in USAGE])
def test_usage_errors_are_one_line_and_exit_2(argv, words, capsys):
    code, _, err = run_cli(argv, capsys)
    assert_user_error(code, err, *words)


def test_bare_group_prints_its_help_then_one_error_line(capsys):
    code, out, err = run_cli(["forecast"], capsys)
    assert code == 2 and "train" in out and "predict" in out
    assert err.count("\n") == 1


def test_version(capsys):
    from lstmkit import __version__
    code, out, err = run_cli(["--version"], capsys)
    assert (code, out.strip(), err) == (0, f"lstmkit {__version__}", "")


def test_usage_error_through_the_console_entry_has_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "lstmkit", "forecast", "train", "--lookback", "abc"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: invalid value for '--lookback'") and proc.stderr.count("\n") == 1
