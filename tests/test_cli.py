"""The root ``lstmkit`` command: usage errors are one line on stderr and exit 2, never a traceback."""
import ast
import re
import subprocess
import sys
from pathlib import Path

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
    (["inspect", "gates", "--bogus"], ["no such option", "lstmkit inspect gates --help"]),   # mounted lazily
    (["export"], ["missing command", "lstmkit export --help"]),
    (["compare", "--seeds", "many"], ["'--seeds'", "'many' is not an integer", "lstmkit compare --help"]),
    # a plain typer option's bad number said pydantic's "Input should be a valid integer, unable to parse
    # string as an integer", naming neither the value nor its fault
    (["forecast", "backtest", "--run", "r", "--folds", "2.5"], ["'--folds'", "'2.5' is not an integer"]),
    (["forecast", "update", "--run", "r", "--data", "x.csv", "--holdout", "abc"], ["'--holdout'", "'abc' is not a number"]),
    (["serve", "--run", "r", "--port", ""], ["'--port'", "'' is not an integer"]),
    # an empty item in a comma list was dropped: 0.1,,0.9 trained on two quantiles
    (["forecast", "train", "--quantiles", "0.1,,0.9"], ["'--quantiles'", "'0.1,,0.9' has an empty item"]),
    (["forecast", "train", "--target", "sales,"], ["'--target'", "'sales,' has an empty item"]),
    # the trainer's refusal named --max-epochs, a flag demo does not have
    (["demo", "--epochs", "0"], ["--epochs must be a positive integer, got 0", "pass --epochs 100"]),
    # another task's word for a command: the group's command of that kind (was 'no such command' alone)
    (["translate", "predict"], ["no such command 'predict'", "lstmkit translate run does this",
                                "'lstmkit translate run --help'"]),
    (["speech", "predict"], ["lstmkit speech transcribe does this"]),
    (["lm", "generate"], ["lstmkit lm sample does this (generate text"]),
    (["forecast", "fit"], ["lstmkit forecast train does this"]),
    (["classify", "test"], ["lstmkit classify evaluate does this"]),
    (["train", "--data", "x.csv"], ["no such command 'train'", "name the task first: lstmkit forecast train",
                                    "tasks: forecast, classify, translate, lm, speech"]),
    (["run"], ["name the task first: lstmkit forecast predict"]),
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


def test_lazily_mounted_commands_show_their_own_help(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run_cli(["compare", "--help"], capsys)
    assert code == 0 and "lstmkit compare [OPTIONS]" in out and "--models" in out, err
    code, out, _ = run_cli(["--help"], capsys)
    assert code == 0 and all(name in out for name in ("forecast", "compare", "export", "serve", "inspect", "tune"))


LIGHT = ("typer", "lstmkit.cli_config", "lstmkit.cli_train", "lstmkit.table_out", "lstmkit.config", "lstmkit.errors")


@pytest.mark.parametrize("task", ["forecast", "classify", "translate", "lm", "speech"])
def test_task_cli_modules_import_only_light_things_at_module_level(task):
    """`lstmkit --help` must not pay for torch: estimators are imported inside the commands."""
    import lstmkit
    path = Path(lstmkit.__file__).parent / "tasks" / task / "cli.py"
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module]
        else:
            continue
        for name in names:
            light = (name in sys.stdlib_module_names or name == "__future__" or name in LIGHT
                     or name.split(".")[0] in sys.stdlib_module_names or name == f"lstmkit.tasks.{task}.config")
            assert light, f"{path.name} of {task} imports {name} at module level"


def test_lstmkit_warnings_are_one_line_and_others_keep_their_form(tmp_path, capsys):
    """A warning of lstmkit's (here: days missing from the time column) is one ``warning: ...``
    line, printed once though the file is read twice, without Python's file, line and source;
    another package's warning keeps Python's form. ``--fill`` inserts the missing days."""
    import json
    import numpy as np
    import pandas as pd
    times = pd.date_range("2024-01-01", periods=130, freq="D").delete(range(60, 64))
    pd.DataFrame({"date": times, "y": np.sin(np.arange(126) / 5)}).to_csv(tmp_path / "gap.csv", index=False)
    args = ["forecast", "train", "--data", tmp_path / "gap.csv", "--target", "y", "--time", "date", "--horizon", "3",
            "--max-epochs", "1", "--hidden-size", "4", "--ensemble", "1", "--progress", "off",
            "--out", tmp_path / "runs"]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    lines = [ln for ln in err.splitlines() if "regular grid" in ln]
    assert lines == ["warning: time column 'date' skips 4 steps of its regular grid, the first 2024-03-01T00:00:00: "
                     "windows span the gaps, so lags and seasons read out of phase; insert the missing steps with "
                     "--fill interpolate (or --fill zero where a missing row means nothing happened)"], err
    assert "UserWarning" not in err and ".py:" not in err
    code, out, err = run_cli([*args, "--fill", "interpolate"], capsys)
    assert code == 0 and "rows were inserted for them and filled (interpolate)" in err, err
    run = Path(out.strip().splitlines()[-1].split("run folder: ")[-1])
    assert json.loads((run / "lstmkit.json").read_text())["data"]["n_inserted"] == 4
    code, out, err = run_cli(["forecast", "predict", "--run", run, "--data", tmp_path / "gap.csv"], capsys)
    assert code == 0, err
    assert out.splitlines()[1].startswith("2024-05-10,1,")           # the day after the last, on the daily grid
    from lstmkit.cli import _one_line_warning
    _one_line_warning(UserWarning("from elsewhere"), UserWarning, "/elsewhere/mod.py", 3)
    assert "/elsewhere/mod.py:3: UserWarning: from elsewhere" in capsys.readouterr().err


@pytest.mark.parametrize("argv, shown", [
    (["export", "int8", "--help"], "[default: the run's own test part]"),
    (["translate", "run", "--help"], "[default: as trained, 5]"),
    (["translate", "run", "--help"], "[default: as trained (--length-penalty), 1.0]"),   # said 1.0 of every run
    (["forecast", "update", "--help"], "at least lookback + 2 x horizon rows"),     # said lookback + horizon
    (["forecast", "backtest", "--help"], "[default: the run's data, or 'data:' in --config]"),
    (["classify", "predict", "--help"], "[default: as in training]"),
    (["tune", "--help"], "[default: the task's, in tasks/<task>/bench.py]"),
])
def test_help_shows_the_bracketed_defaults(argv, shown, capsys, monkeypatch):
    """A default written ``[as trained]`` in a help text is printed, not read as rich markup and dropped."""
    monkeypatch.setenv("COLUMNS", "250")
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    assert shown in " ".join(out.split()), out


HELP_COMMANDS = [[t, "train"] for t in ("forecast", "classify", "translate", "lm", "speech")] + [
    ["forecast", c] for c in ("predict", "evaluate", "backtest", "update")] + [
    ["classify", c] for c in ("predict", "evaluate", "attention")] + [
    ["translate", "run"], ["translate", "evaluate"], ["lm", "sample"], ["lm", "evaluate"], ["speech", "transcribe"],
    ["speech", "evaluate"], ["serve"], ["export", "onnx"], ["export", "int8"], ["compare"], ["tune"],
    ["inspect", "gates"], ["inspect", "attention"], ["doctor"], ["demo"]]


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=" ".join)
def test_help_has_one_metavar_style_and_one_default_style(command, capsys, monkeypatch):
    """Every option's value is named as typer names its own (``<int>``, ``<path>``, ``<a|b>``):
    the generated train flags said ``INTEGER`` / ``TEXT,...`` / ``[a|b]`` beside typer's ``<int>``,
    and serve said ``RUN``. Every default reads ``[default: ...]``, not ``[auto]`` / ``(default: x)``."""
    monkeypatch.setenv("COLUMNS", "250")
    code, out, err = run_cli([*command, "--help"], capsys)
    assert code == 0, err
    options = out.split("Options:")[1]
    for line in options.splitlines():
        if not line.startswith("  -"):
            continue
        names = re.split(r"\s{2,}", line.strip())[0]
        metavars = [w for w in names.split() if not w.startswith("-") and w != "/"]
        assert all(re.fullmatch(r"<[^<>\s]+>", m) for m in metavars), line
    assert "(default:" not in out
    bracketed = re.findall(r"(?:^|\s)\[([^\[\]]*)\]", options)          # (not holidays[:CC])
    assert all(b.startswith(("default:", "required")) for b in bracketed), bracketed


def test_help_reads_in_an_80_column_terminal(capsys, monkeypatch):
    """typer's rich options table gave every column its longest entry's width, so at 80 columns
    ``forecast train --help`` (40 options) had its help texts in an 18-character column, 443 lines
    long; and a group cut each command's summary to '...'. Now: lines within 80 columns, help
    texts wrapped at least 40 wide, and a group's summaries whole."""
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run_cli(["forecast", "train", "--help"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert max(len(line) for line in lines if not line.startswith("  --")) <= 80, out   # a name may run over
    continued = [line.strip() for line in lines if line.startswith(" " * 20) and line.strip()]
    assert continued and max(map(len, continued)) >= 40, out
    assert "--lookback" in out and "--relative / --no-relative" in out, out
    code, out, err = run_cli(["--help"], capsys)
    assert code == 0, err
    listed = out.split("Commands:")[1]
    assert "..." not in listed and "speed and memory" in listed, out          # compare's summary, whole


@pytest.mark.parametrize("args", [["forecast", "train", "--help"], ["--help"], ["serve", "--help"]])
def test_help_reads_in_a_40_column_terminal(capsys, monkeypatch, args):
    """click laid help out 50 columns wide at the least, help texts from column 32: at COLUMNS=40
    515 of the 553 lines of ``forecast train --help`` ran past the terminal's edge and wrapped into
    the next. Now every line fits, but an option's name too long for any column, alone on its line."""
    monkeypatch.setenv("COLUMNS", "40")
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    over = [line for line in out.splitlines() if len(line) > 40]
    assert all(re.fullmatch(r"  -\S+( \S+)*", line) for line in over), over
    assert "Options:" in out and not err, err


def test_help_reads_in_a_30_column_terminal_too(capsys, monkeypatch):
    """The width is the terminal's down to 20 columns, not click's 50 nor a 40-column floor: at COLUMNS=30
    every line of ``forecast train --help`` fits, but an option's name too long for any column."""
    monkeypatch.setenv("COLUMNS", "30")
    code, out, err = run_cli(["forecast", "train", "--help"], capsys)
    assert code == 0 and "Options:" in out and not err, err
    over = [line for line in out.splitlines() if len(line) > 30]
    assert all(re.fullmatch(r"  -\S+( \S+)*", line) for line in over), over


@pytest.mark.parametrize("failure, said", [
    (RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you "
                  "tried to allocate 160000000000 bytes. Error code 12 (Cannot allocate memory)"),
     "out of memory: torch could not allocate 160 GB for one tensor"),
    (MemoryError(), "out of memory"),
])
def test_an_allocation_torch_cannot_make_is_one_line(failure, said, capsys, monkeypatch, tmp_path):
    """--hidden-size 100000 asked torch for 160 GB: a RuntimeError traceback from its allocator."""
    import lstmkit.train.doctor as doctor

    def fail(run):
        raise failure
    monkeypatch.setattr(doctor, "read_report", fail)
    code, _, err = run_cli(["doctor", tmp_path], capsys)
    assert code == 1 and err.count("\n") == 1 and err.startswith(f"error: {said}") and "--hidden-size" in err


def test_other_runtime_errors_are_not_called_out_of_memory(capsys, monkeypatch, tmp_path):
    import lstmkit.train.doctor as doctor

    def fail(run):
        raise RuntimeError("a bug")
    monkeypatch.setattr(doctor, "read_report", fail)
    with pytest.raises(RuntimeError, match="a bug"):
        run_cli(["doctor", tmp_path], capsys)


@pytest.mark.parametrize("argv, target", [
    (["forecast", "predict", "--run", "r", "--data", "x.csv"], "lstmkit.tasks.forecast.estimator.Forecaster.load"),
    (["export", "int8", "--run", "r"], "lstmkit.deploy.quantize.export_int8"),          # mounted lazily
], ids=["forecast predict", "export int8"])
def test_ctrl_c_in_a_command_that_is_not_training_exits_130_with_one_line(argv, target, capsys, monkeypatch):
    # typer turns KeyboardInterrupt into Exit(130) and, without standalone mode, returns the code:
    # dropped, a Ctrl-C while predicting ended with status 0 and said nothing
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(target, interrupted)
    code, out, err = run_cli(argv, capsys)
    assert code == 130 and err.strip() == "interrupted" and "Traceback" not in err


def test_ctrl_c_in_the_cli_run_in_process_leaves_the_callers_handlers(capsys, monkeypatch):
    """A notebook cell's lstmkit.cli.main([...]) interrupted (the kernel's interrupt is SIGINT) handed Ctrl-C
    and SIGTERM to their default actions, as the command's own process does before it exits: the cell
    went on, and a second interrupt in it ended the kernel (at a Python prompt, Python)."""
    import signal

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr("lstmkit.tasks.forecast.estimator.Forecaster.load", interrupted)
    signal.signal(signal.SIGINT, signal.default_int_handler)          # the kernel's (the conftest puts it back)
    term = signal.signal(signal.SIGTERM, lambda *_: None)              # a program's own
    try:
        code, _, err = run_cli(["forecast", "predict", "--run", "r", "--data", "x.csv"], capsys)
        assert code == 130 and err.strip() == "interrupted"
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, term)


def test_ctrl_c_outside_training_exits_130(capsys, monkeypatch):
    """typer turns a KeyboardInterrupt into Exit(130) and, without standalone mode, returns it: it ended 0."""
    import lstmkit.tune

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lstmkit.tune, "tune", interrupted)
    code, _, err = run_cli(["tune", "forecast", "--data", "x.csv", "--target", "y"], capsys)
    assert code == 130 and err.strip() == "interrupted"
