"""lstmkit beyond this Linux machine: Windows and macOS, simulated here by taking away what they lack
(``os.register_at_fork``, ``os.fchmod``, ``os.sysconf``, the ``resource`` module) or by giving what
they have (a Windows-1252 locale, ``\\r\\n`` as the line end)."""
import ast
import importlib.util
import io
import os
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

import lstmkit
from lstmkit import estimator_params, files, memory
from lstmkit.config import read_settings

SRC = Path(lstmkit.__file__).parent
POSIX_ONLY = {"fcntl", "resource", "termios", "tty", "pty", "pwd", "grp", "posix", "crypt", "readline"}


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_no_module_imports_a_posix_only_module_at_its_top():
    """Windows has no ``resource`` nor ``fcntl``: ``lstmkit.memory``'s ``import resource`` failed
    there, and with it every fit and every load. Such an import belongs in a function, in a ``try``."""
    found = [f"{path.relative_to(SRC)}:{node.lineno} imports {name}"
             for path, tree in _modules() for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
             for name in ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""])
             if name.split(".")[0] in POSIX_ONLY]
    assert not found


def _text_call_without_encoding(node: ast.Call) -> bool:
    fn = node.func
    name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
    if name not in ("open", "read_text", "write_text", "fdopen", "TextIOWrapper"):
        return False
    if any(k.arg == "encoding" for k in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args):
        return False
    modes = [k.value for k in node.keywords if k.arg == "mode"]
    if isinstance(fn, ast.Attribute) and name in ("open", "fdopen") and not (
            isinstance(fn.value, ast.Name) and fn.value.id in ("io", "os")):
        # a method: Path.open(mode) is text unless its mode says bytes; a zip member's open(name), libc's
        # fdopen(fd, b"w") take no text mode
        modes += node.args[:1]
        if not modes:
            return True                  # Path.open(): text
        return isinstance(modes[0], ast.Constant) and isinstance(modes[0].value, str) and "b" not in modes[0].value
    if name == "open" and isinstance(fn, ast.Attribute) and fn.value.id == "os":
        return False                     # os.open: a descriptor
    modes += node.args[1:2] * (name in ("open", "fdopen"))
    return not (modes and isinstance(modes[0], ast.Constant) and "b" in str(modes[0].value))


def test_every_text_file_lstmkit_reads_or_writes_names_its_encoding():
    """Without ``encoding=`` Python takes the locale's: Windows-1252 on most Windows machines, ASCII
    in a container without a locale. ``compare.md`` (its ``±``) and ``best.yaml`` (its folder's name)
    were written in it, and lstmkit reads its own files as UTF-8."""
    found = [f"{path.relative_to(SRC)}:{node.lineno}" for path, tree in _modules()
             for node in ast.walk(tree) if isinstance(node, ast.Call) and _text_call_without_encoding(node)]
    assert not found


@pytest.fixture
def windows_locale(monkeypatch):
    """Text files opened without an encoding get Windows-1252, as on a Western European Windows."""
    monkeypatch.setattr(io, "text_encoding", lambda encoding, stacklevel=2: encoding or "cp1252")


def test_tunes_best_config_under_a_windows_locale_is_utf8_that_train_config_reads(tmp_path, windows_locale):
    """``lstmkit tune --out C:\\Users\\José\\tune``: best.yaml's comment names its folder; written in
    Windows-1252 it was 'not UTF-8 text' to the ``--config`` it names."""
    import optuna

    from lstmkit.tune import _write_outputs
    study = optuna.create_study()
    study.add_trial(optuna.trial.create_trial(params={"lr": 0.01}, value=0.5,
                                              distributions={"lr": optuna.distributions.FloatDistribution(1e-4, 0.1)}))
    out = tmp_path / "José"
    out.mkdir()
    _write_outputs(study, "forecast", {}, out, [])
    assert "José" in (out / "best.yaml").read_bytes().decode("utf-8")
    assert read_settings(out / "best.yaml")["train"]["lr"] == 0.01


def test_public_methods_run_where_os_has_no_register_at_fork(monkeypatch):
    """Windows has no fork, nor ``os.register_at_fork``: the hook every public method registers once
    raised AttributeError there, so every fit, load and predict failed."""
    monkeypatch.delattr(os, "register_at_fork")
    monkeypatch.setattr(estimator_params, "_FORK_HOOK", [])
    with estimator_params.public_call():
        assert torch.get_default_dtype() == torch.float32


def test_memory_module_imports_without_the_resource_module(monkeypatch):
    monkeypatch.setitem(sys.modules, "resource", None)        # as on Windows: import resource fails
    spec = importlib.util.spec_from_file_location("lstmkit_memory_on_windows", memory.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    total, _, _ = module.memory_limit(torch.device("cpu"))
    assert total > 0


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_memory_limit_without_sysconf_or_resource_refuses_nothing_for_it(platform, monkeypatch):
    """Without ``os.sysconf`` (Windows) the RAM's size was an AttributeError; unread, it limits nothing
    (a container's cgroup limit, where there is one, still does)."""
    monkeypatch.setitem(sys.modules, "resource", None)
    monkeypatch.delattr(os, "sysconf")
    monkeypatch.setattr(sys, "platform", platform)      # Windows: kernel32 is not there to ask here either
    monkeypatch.setattr(memory, "_CGROUP_LIMITS", ())
    total, free, where = memory.memory_limit(torch.device("cpu"))
    assert total >= 2 ** 50 and where == "this machine's memory"
    assert free is None or free > 0


def test_memory_limit_reads_the_address_space_limit_where_there_is_one():
    resource = pytest.importorskip("resource")
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    assert memory._address_space_limit() == (None if soft == resource.RLIM_INFINITY else soft)


def test_atomic_writes_where_os_has_no_fchmod(tmp_path, monkeypatch):
    """Windows has no ``os.fchmod`` before Python 3.13: every atomic write (a run's lstmkit.json, a
    checkpoint, a prediction's ``--out``) raised AttributeError there."""
    from lstmkit.train.checkpoint import _durable_write
    monkeypatch.delattr(os, "fchmod")
    files.atomic_write(tmp_path / "a.json", lambda tmp: Path(tmp).write_text("{}\n", encoding="utf-8"))
    _durable_write(tmp_path / "b.bin", b"12", b"34")
    assert (tmp_path / "a.json").read_text(encoding="utf-8") == "{}\n"
    assert (tmp_path / "b.bin").read_bytes() == b"1234"
    assert {p.stat().st_mode & 0o777 for p in tmp_path.iterdir()} == {files.new_file_mode()}


def test_a_table_on_standard_output_ends_lines_as_the_stream_does(monkeypatch, capsys):
    """pandas ends CSV lines with ``os.linesep``; Windows' standard output turns each ``\\n`` into
    ``\\r\\n`` again: ``lstmkit forecast predict > out.csv`` wrote ``\\r\\r\\n``."""
    from lstmkit.table_out import echo_or_write_table
    monkeypatch.setattr(os, "linesep", "\r\n")
    echo_or_write_table(pd.DataFrame({"id": ["a", "b"], "y": [1.5, 2.0]}), None)
    assert capsys.readouterr().out == "id,y\na,1.5\nb,2.0\n"


def _replace_refused(times: int, monkeypatch):
    """``os.replace`` refused ``times`` times as Windows refuses a file another program has open."""
    real, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) <= times:
            e = PermissionError(13, "The process cannot access the file because it is being used by another process", str(dst))
            e.winerror = 32
            raise e
        real(src, dst)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(files, "_WINDOWS", True)
    monkeypatch.setattr(files.time, "sleep", lambda s: None)
    return calls


def test_a_file_a_scanner_holds_for_a_moment_on_windows_is_replaced_once_it_lets_go(tmp_path, monkeypatch):
    """A virus scanner or indexer opens a file just written; Windows refuses to replace it meanwhile."""
    calls = _replace_refused(2, monkeypatch)
    files.atomic_write(tmp_path / "out.csv", lambda tmp: Path(tmp).write_text("a\n1\n", encoding="utf-8"))
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == "a\n1\n" and len(calls) == 3


def test_a_file_open_in_another_program_on_windows_names_it_to_close(tmp_path, monkeypatch):
    """``predict --out preds.csv`` while Excel shows preds.csv: the fix was 'free space or fix permissions'."""
    (tmp_path / "preds.csv").write_text("old\n", encoding="utf-8")
    _replace_refused(99, monkeypatch)
    with pytest.raises(files.EnvironmentProblem) as e:
        files.atomic_write(tmp_path / "preds.csv", lambda tmp: Path(tmp).write_text("new\n", encoding="utf-8"))
    assert e.value.hint.startswith(f"close {tmp_path / 'preds.csv'} in the program that has it open")
    assert (tmp_path / "preds.csv").read_text(encoding="utf-8") == "old\n" and len(list(tmp_path.iterdir())) == 1


def test_a_studys_default_storage_on_windows_is_a_url_of_forward_slashes_naming_its_file():
    """``C:\\Users\\José\\runs\\tune-forecast\\study.db`` was ``sqlite:///C%3A%5CUsers%5CJos%C3%A9...``
    in every line naming the study, and 'free space ... on C%3A%5CUsers...' when its disk was full."""
    from pathlib import PureWindowsPath

    from sqlalchemy.engine import make_url

    from lstmkit.tune import _sqlite_url, _storage_problem

    class OnWindows:
        def resolve(self):
            return PureWindowsPath(r"C:\Users\José\runs\tune-forecast\study.db")
    url = _sqlite_url(OnWindows())
    assert url == "sqlite:///C%3A/Users/Jos%C3%A9/runs/tune-forecast/study.db"
    assert make_url(url).database == "C:/Users/José/runs/tune-forecast/study.db"
    assert "fix permissions on C:/Users/José/runs/tune-forecast," in _storage_problem(url, OSError("database or disk is full")).hint


POSIX_ONLY_PACKAGES = {"uvloop", "gunicorn", "uwsgi", "pexpect", "ptyprocess"}      # no Windows build or use


def test_no_dependency_that_installs_on_posix_alone_is_required_on_windows():
    """``pip install 'lstmkit[serve]'`` on Windows: uvloop has no Windows build, and a requirement of
    it without ``sys_platform != 'win32'`` made the whole install fail there."""
    import tomllib

    from packaging.requirements import Requirement
    project = tomllib.loads((SRC.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    every = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    windows = {"sys_platform": "win32", "os_name": "nt", "platform_system": "Windows", "extra": ""}
    required = [r for r in map(Requirement, every) if r.name in POSIX_ONLY_PACKAGES
                and (r.marker is None or r.marker.evaluate(windows))]
    assert not required


def test_a_name_windows_takes_is_measured_as_ntfs_counts_it(tmp_path, monkeypatch):
    """NTFS takes 255 UTF-16 units a name; counted in UTF-8 bytes, a folder named with 86 Chinese
    characters was refused there as 'longer than the file system allows'."""
    monkeypatch.setattr(files, "_WINDOWS", True, raising=False)
    monkeypatch.delattr(os, "pathconf")                       # Windows has none: the usual limits
    files.check_name_length(tmp_path / ("中" * 200) / "preds.csv", "--out")
    assert files.temp_prefix(tmp_path / ("中" * 255)) == "." + "中" * 241 + "."
    with pytest.raises(lstmkit.errors.LstmkitError, match="is 256 characters long; a file or folder name may have at most 255 characters"):
        files.check_name_length(tmp_path / ("中" * 256))


def test_windows_ctrl_break_stops_a_command_as_sigterm_does(monkeypatch):
    """Ctrl-Break, and the CTRL_BREAK_EVENT a Windows supervisor sends a console program to stop it,
    arrive as SIGBREAK, whose default ended Python at once: a training left without its interrupted
    mark, an export's temporary folder behind. Here SIGUSR2 stands in for Windows' SIGBREAK."""
    import signal

    from lstmkit.errors import terminate_as_interrupt
    monkeypatch.setattr(signal, "SIGBREAK", signal.SIGUSR2, raising=False)
    assert signal.getsignal(signal.SIGUSR2) is signal.SIG_DFL
    with pytest.raises(KeyboardInterrupt), terminate_as_interrupt():
        assert signal.getsignal(signal.SIGUSR2) is not signal.SIG_DFL     # else the signal below ends pytest
        signal.raise_signal(signal.SIGUSR2)
    assert signal.getsignal(signal.SIGUSR2) is signal.SIG_DFL


def test_an_error_in_a_piped_table_on_windows_names_standard_input_not_its_copy(monkeypatch):
    """``type data.csv | lstmkit ... --data -``: an error about a row of the copy lstmkit reads named
    ``C:\\...\\Temp\\lstmkit-pipe-...\\stdin.csv`` (the names were matched after a '/' alone)."""
    from lstmkit.data.tables import pipe_as_file
    from lstmkit.errors import LstmkitError
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"time,y\n1,2\n")))
    with pytest.raises(LstmkitError) as e, pipe_as_file(Path("-")) as copy:
        raise LstmkitError(f"{copy.parent}\\{copy.name}, line 2: no number", f"fix line 2 of {copy.parent}\\{copy.name}")
    assert (e.value.message, e.value.hint) == ("standard input, line 2: no number", "fix line 2 of standard input")


class _PipeReaderGoneOnWindows(io.StringIO):
    """Standard output piped to a reader that left, as Windows says it: EINVAL, not a broken pipe."""

    def __init__(self, fd: int):
        super().__init__()
        self.fd = fd

    def write(self, text):
        raise OSError(22, "Invalid argument")

    def fileno(self):
        return self.fd


def test_a_reader_that_leaves_on_windows_does_not_stop_training(tmp_path, monkeypatch):
    """``lstmkit forecast train ... | head -3`` in Git Bash: the write after the reader left raised
    OSError EINVAL there, and training ended with its traceback (a broken pipe is caught elsewhere)."""
    from lstmkit import cli_train
    monkeypatch.setattr(cli_train, "_WINDOWS", True, raising=False)
    with open(tmp_path / "out", "w", encoding="utf-8") as f:
        stream = cli_train._ReaderMayLeave(_PipeReaderGoneOnWindows(f.fileno()))
        assert stream.write("epoch 1/3\n") == len("epoch 1/3\n")
        os.write(f.fileno(), b"to the null device now")
    assert (tmp_path / "out").read_bytes() == b""
    with pytest.raises(OSError):                          # elsewhere EINVAL is no reader gone
        monkeypatch.setattr(cli_train, "_WINDOWS", False, raising=False)
        cli_train._ReaderMayLeave(_PipeReaderGoneOnWindows(1)).write("x")


@pytest.mark.parametrize("out, needle, fix", [
    ("runs/2024-01-06T10:30", "the name '2024-01-06T10:30' holds ':', which Windows takes in no file or folder name",
     "pass another name, e.g. 2024-01-06T10-30"),
    ('preds "final".csv', "holds '\"'", 'e.g. preds -final-.csv'),
    ("runs./x", "the name 'runs.' ends in a dot, which Windows drops", "pass runs or another name"),
    ("NUL.csv", "'NUL' is a device's name on Windows, not a file's", "pass another name"),
    ("out/com1", "'com1' is a device's name on Windows", "pass another name")])
def test_an_output_name_windows_takes_as_no_files_is_refused_before_the_work(out, needle, fix, monkeypatch):
    """``--out runs/10:30`` on Windows failed after the work ('the filename, directory name, or volume
    label syntax is incorrect'), or on NTFS wrote a hidden stream of a file ``runs/10``."""
    monkeypatch.setattr(files, "_WINDOWS", True, raising=False)
    with pytest.raises(lstmkit.errors.LstmkitError) as e:
        files.check_out_path(out)
    assert needle in e.value.message and fix in e.value.hint
    files.check_out_path("runs/2024-01-06T10-30/preds.final.csv")
    monkeypatch.setattr(files, "_WINDOWS", False)
    files.check_out_path(out)                                 # POSIX takes each of them


def test_an_int8_run_folder_a_scanner_holds_for_a_moment_on_windows_is_moved_into_place(tmp_path, monkeypatch):
    """``export int8`` makes its run folder whole beside its place and renames it there: on Windows a
    virus scanner looking into a file just written in it refused the rename ('access is denied')."""
    calls = _replace_refused(0, monkeypatch)
    real, refused = os.rename, []

    def rename(src, dst):
        if len(refused) < 2:
            refused.append(dst)
            raise PermissionError(13, "Access is denied", str(src))
        real(src, dst)
    monkeypatch.setattr(os, "rename", rename)
    (tmp_path / ".run-int8.x").mkdir()
    files.rename_when_let_go(os.rename, tmp_path / ".run-int8.x", tmp_path / "run-int8")
    assert (tmp_path / "run-int8").is_dir() and len(refused) == 2 and calls == []


def test_no_process_is_probed_with_signal_0():
    """``os.kill(pid, 0)`` asks POSIX whether a process exists; on Windows signal 0 is CTRL_C_EVENT:
    it sends Ctrl-C to the console process group ``pid`` (or fails with WinError 87), and says
    nothing of whether the process runs. There, ask kernel32 (OpenProcess, GetExitCodeProcess) instead."""
    found = [f"{path.relative_to(SRC)}:{node.lineno}" for path, tree in _modules() for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "kill"
             and isinstance(node.func.value, ast.Name) and node.func.value.id == "os" and len(node.args) == 2
             and isinstance(node.args[1], ast.Constant) and node.args[1].value == 0
             and not _under_a_posix_check(tree, node)]
    assert not found, f"os.kill(pid, 0) outside an `if os.name != 'nt'` (or sys.platform) branch: {found}"


def _under_a_posix_check(tree: ast.AST, call: ast.Call) -> bool:
    """Whether ``call`` sits in a branch of an ``if`` whose test reads ``os.name``, ``sys.platform`` or a
    module's ``_WINDOWS``."""
    def platform_test(n: ast.AST) -> bool:
        return (isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                and (n.value.id, n.attr) in (("os", "name"), ("sys", "platform"))) or \
            (isinstance(n, (ast.Name, ast.Attribute)) and getattr(n, "id", getattr(n, "attr", "")) == "_WINDOWS")
    return any(isinstance(node, ast.If) and any(call in ast.walk(b) for b in node.body + node.orelse)
               and any(platform_test(n) for n in ast.walk(node.test)) for node in ast.walk(tree))
