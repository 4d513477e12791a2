"""The ``lstmkit`` command's entry point (lstmkit.launch): Ctrl-C at any time is one line and exit 130.

A real SIGINT is sent at a chosen moment, deterministically: an import hook in the child process
signals the process itself when a given module is first imported, from code run by ``exec`` (as a
dataclass's generated ``__init__`` is, where Ctrl-C in the import of a task's config lands most often).
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest

# The child first takes Python's own Ctrl-C handler, as a process started from a terminal has it: a
# job a shell starts in the background (``cmd &``, CI runners) inherits SIGINT ignored, and Python
# then leaves it ignored, so the signal sent below did nothing there (status 0, no output).
_CHILD = """
import os, runpy, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == {module!r}:
            sys.meta_path.remove(self)
            if {in_exec}:
                exec("os.kill(os.getpid(), signal.SIGINT)\\nfor _ in range(10**7): pass", {{"os": os, "signal": signal}})
            else:
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(10**7): pass
sys.meta_path.insert(0, CtrlC())
sys.argv = ["lstmkit", *{argv!r}]
runpy.run_module("lstmkit", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("module, argv", [
    ("lstmkit.errors", ["--help"]),                         # while lstmkit.launch imports, before main()
    ("lstmkit.tasks.classify.config", ["--help"]),          # while lstmkit.cli imports the task CLIs
    ("torch", ["lm", "train", "--data", "{corpus}", "--epochs", "1", "--progress", "off", "--out", "{out}"]),
])
@pytest.mark.parametrize("in_exec", [False, True])
def test_ctrl_c_while_the_cli_imports_is_one_line_and_exit_130(module, argv, in_exec, tmp_path):
    """Was Python's traceback of the import and death by the signal (status -2) while lstmkit.cli
    imported; in a command, one line but status -2 when the interrupt left code run by exec."""
    (tmp_path / "corpus.txt").write_text("the cat sat\n" * 20)
    argv = [a.format(corpus=tmp_path / "corpus.txt", out=tmp_path / "runs") for a in argv]
    proc = subprocess.run([sys.executable, "-c", _CHILD.format(module=module, in_exec=in_exec, argv=argv)],
                          capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stderr) == (130, "interrupted\n"), proc.stderr[-2000:]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.parametrize("module", ["lstmkit.errors", "lstmkit.tasks.classify.config"])
def test_sigterm_while_the_command_imports_is_one_line_and_exit_130(module):
    """SIGTERM (a service manager's stop) while lstmkit.launch imported lstmkit.errors ended the process at
    once, silently (status -15); later, while lstmkit.cli imports, it was already Ctrl-C."""
    child = _CHILD.replace("getpid(), signal.SIGINT", "getpid(), signal.SIGTERM").format(
        module=module, in_exec=False, argv=["--help"])
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stderr) == (130, "interrupted\n"), proc.stderr[-2000:]



def test_ctrl_break_while_the_command_imports_is_one_line_and_exit_130_as_sigterm_is():
    """Windows' SIGBREAK (Ctrl-Break, a supervisor's CTRL_BREAK_EVENT) while lstmkit.launch imported lstmkit.errors
    ended the process at once (its default action), where SIGTERM was taken as Ctrl-C. SIGUSR2 stands in for it
    (``signal.SIGBREAK`` set to it in the child)."""
    child = _CHILD.replace("getpid(), signal.SIGINT", "getpid(), signal.SIGUSR2").replace(
        "import os, runpy, signal, sys\n", "import os, runpy, signal, sys\nsignal.SIGBREAK = signal.SIGUSR2\n")
    child = child.format(module="lstmkit.errors", in_exec=False, argv=["--help"])
    assert "signal.SIGBREAK = signal.SIGUSR2" in child
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stderr) == (130, "interrupted\n"), proc.stderr[-2000:]

def test_an_interrupted_exit_ends_with_130_after_every_other_exit_hook(tmp_path):
    """The handler directly (the case it is for, Ctrl-C inside a dataclass's generated code, lands by
    chance only: CPython then ended the process by SIGINT, status -2, after ``sys.exit(130)``): once
    the command exits as interrupted, the other exit hooks run, output is flushed, the status is 130."""
    code = ("import atexit, sys\nimport lstmkit.launch as launch\natexit.register(launch._exit_interrupted)\n"
            "atexit.register(print, 'a later hook ran')\nsys.stdout.write('unflushed')\n"
            "launch._ending.append(True)\nsys.exit(3)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (130, "unflusheda later hook ran\n", "")
    plain = subprocess.run([sys.executable, "-c", code.replace("launch._ending.append(True)", "")],
                           capture_output=True, text=True, timeout=60)
    assert plain.returncode == 3                   # a command not interrupted keeps its own status


def test_the_console_script_is_the_guarded_entry_point():
    text = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert re.search(r'^lstmkit = "lstmkit\.launch:main"$', text, re.M)
    assert (Path(__file__).parents[1] / "src/lstmkit/__main__.py").read_text().startswith("from lstmkit.launch import")


def test_an_unforeseen_error_prints_its_traceback_and_exits_3_not_the_environments_1(tmp_path):
    """A bug's traceback ended the process with Python's 1, the code of a full disk or a missing extra:
    a pipeline could not tell 'retry' from 'report it'."""
    code = ("import sys\nimport lstmkit.train.doctor as doctor\n"
            "def fail(run):\n    raise RuntimeError('a bug')\n"
            "doctor.read_report = fail\nsys.argv = ['lstmkit', 'doctor', {run!r}]\n"
            "from lstmkit.launch import main\nmain()\n").format(run=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3 and proc.stdout == "", proc.stderr[-2000:]
    assert "Traceback" in proc.stderr and "RuntimeError: a bug" in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("error: internal error in lstmkit (a bug")
