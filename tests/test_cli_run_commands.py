"""'lstmkit list' and 'lstmkit doctor' on run folders written by hand, and the checks the command line makes
before any command runs: an empty path option, a failed allocation, exit 0 or 2."""
import json

import pytest

from cli_helpers import assert_user_error, run_cli
from lstmkit import cli
from lstmkit.errors import LstmkitError
from lstmkit.runs import META_FILE


def _run(folder, **meta):
    folder.mkdir(parents=True)
    (folder / META_FILE).write_text(json.dumps({"format_version": 1, "task": "forecast", **meta}))
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Made in an order that is not their names': 'list' sorts by name (the stamp: oldest first)."""
    folder = tmp_path_factory.mktemp("runs")
    _run(folder / "lm-20260102-000000", task="lm", status="interrupted", written="2026-01-02T00:00:00+0000")
    _run(folder / "forecast-20260101-000000", status="finished", training={"epochs_run": 12},
         written="2026-01-01T00:00:00+0000")
    return folder


def test_list_prints_one_aligned_line_a_run_oldest_first(runs, capsys, monkeypatch):
    monkeypatch.chdir(runs.parent)                  # paths that fit 80 columns whole
    code, out, err = run_cli(["list", runs.name], capsys)
    assert code == 0 and err == ""
    first, second = f"{runs.name}/forecast-20260101-000000", f"{runs.name}/lm-20260102-000000"
    width = len(first)
    assert out.splitlines() == ["run".ljust(width) + "  task      epochs  metric  state",
                                first + "  forecast  12              finished",
                                second.ljust(width) + "  lm                        interrupted"]


def test_list_json_is_one_object_a_run_with_null_where_unknown(runs, capsys):
    code, out, err = run_cli(["list", runs, "--json"], capsys)
    assert code == 0 and err == ""
    assert json.loads(out) == [
        {"run": f"{runs}/forecast-20260101-000000", "task": "forecast", "status": "finished", "state": "finished",
         "epochs": 12, "written": "2026-01-01T00:00:00+0000", "metric": None, "data": None},
        {"run": f"{runs}/lm-20260102-000000", "task": "lm", "status": "interrupted", "state": "interrupted",
         "epochs": None, "written": "2026-01-02T00:00:00+0000", "metric": None, "data": None}]


def test_list_of_one_run_folder_lists_that_run(runs, capsys):
    code, out, _ = run_cli(["list", runs / "lm-20260102-000000", "--json"], capsys)
    assert code == 0 and [row["task"] for row in json.loads(out)] == ["lm"]


def test_doctor_takes_one_run_and_exits_2_for_none_or_two(runs, capsys):
    code, _, err = run_cli(["doctor"], capsys)
    assert_user_error(code, err, "no run given", "--run")
    a, b = runs / "lm-20260102-000000", runs / "forecast-20260101-000000"
    code, _, err = run_cli(["doctor", a, "--run", b], capsys)
    assert_user_error(code, err, "two runs given", str(a), str(b))


@pytest.mark.parametrize("argv", [["forecast", "train", "--data", ""], ["forecast", "train", "--data="],
                                  ["lm", "train", "--data", "x.txt", "--out", "  "]])
def test_an_empty_path_option_is_one_error_line_and_exit_2(argv, capsys):
    code, _, err = run_cli(argv, capsys)
    name = "--out" if "--out" in argv else "--data"
    assert_user_error(code, err, f"{name} is empty", "shell variable")


@pytest.mark.parametrize("argv", [["--data", "x"], ["--data"], ["--", "--data", ""], ["--datas", ""], ["--", "--out="],
                                  ["--horizon", ""]])
def test_only_an_empty_value_of_a_path_option_before_double_dash_is_refused(argv):
    cli._check_no_empty_path(argv)          # each: no empty path option (a last flag is typer's to say)


@pytest.mark.parametrize("error, said", [
    (RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: you tried to "
                  "allocate 2500000000 bytes. Error code 12"), "torch could not allocate 2.5 GB for one tensor"),
    (RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB"), "torch could not allocate a tensor"),
    (RuntimeError("shape mismatch"), None),
    (ValueError("out of memory"), None)])
def test_only_torchs_allocator_failure_is_called_out_of_memory(error, said):
    assert cli._allocation_failed(error) == said


@pytest.fixture(scope="module")
def doctored(runs):
    """A finished run with a hand-written doctor.json: no finding, three epochs."""
    run = runs / "forecast-20260101-000000"
    (run / "doctor.json").write_text(json.dumps({"findings": [], "epochs": [{"epoch": k} for k in (1, 2, 3)]}))
    return run


@pytest.mark.parametrize("how", ["argument", "option", "both"])
def test_doctor_prints_the_report_of_the_run_given_either_way(doctored, how, capsys):
    args = {"argument": [doctored], "option": ["--run", doctored], "both": [doctored, "--run", doctored]}[how]
    code, out, err = run_cli(["doctor", *args], capsys)
    assert code == 0, err
    assert out.splitlines() == ["doctor: 0 findings — training looked healthy"]     # the report, not JSON


def test_doctor_json_is_the_report_with_its_notes(doctored, capsys):
    code, out, err = run_cli(["doctor", doctored, "--json"], capsys)
    assert code == 0, err
    assert json.loads(out) == {"findings": [], "epochs": [{"epoch": 1}, {"epoch": 2}, {"epoch": 3}], "notes": [],
                               "run": str(doctored), "task": "forecast"}     # named as list's and evaluate's JSON


@pytest.mark.parametrize("epochs, said", [(0, "--epochs must be a positive integer, got 0"), (1, "demo ran: 1")])
def test_demo_takes_one_epoch_or_more(epochs, said, capsys, monkeypatch):
    from lstmkit.tasks.forecast import demo

    def ran(out, max_epochs):
        raise LstmkitError(f"demo ran: {max_epochs}", "a stand-in")
    monkeypatch.setattr(demo, "run_demo", ran)
    code, _, err = run_cli(["demo", "--epochs", epochs], capsys)
    assert_user_error(code, err, said)


def test_a_command_that_succeeds_returns_to_a_caller_in_process(runs, capsys):
    """``main([...])`` in a notebook or a script: a command that ends well returns, no SystemExit to catch."""
    assert cli.main(["list", str(runs)]) is None
    assert "forecast-20260101-000000" in capsys.readouterr().out
    assert cli.main(["--version"]) is None and capsys.readouterr().out.startswith("lstmkit ")


def test_end_of_input_in_a_command_is_exit_130_without_a_traceback(runs, capsys, monkeypatch):
    """Ctrl-D at a prompt (EOFError) ends the command as Ctrl-C does."""
    from lstmkit import run_list

    def eof(folder):
        raise EOFError
    monkeypatch.setattr(run_list, "list_runs", eof)
    code, _, err = run_cli(["list", runs], capsys)
    assert code == 130 and "Traceback" not in err


def test_a_folder_named_like_an_option_is_named_in_the_usage_error_of_the_command_line(tmp_path, capsys,
                                                                                       monkeypatch):
    """Run as a program (``main()`` reads ``sys.argv``): ``lstmkit list -runs`` where -runs is a folder here."""
    (tmp_path / "-runs").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli.sys, "argv", ["lstmkit", "list", "-runs"])
    with pytest.raises(SystemExit) as e:
        cli.main()
    err = capsys.readouterr().err
    assert e.value.code == 2 and "'-runs' is a file or folder here" in err and "pass it as ./-runs" in err
