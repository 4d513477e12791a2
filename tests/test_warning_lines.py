"""Every warning lstmkit gives names the caller's line: its level is :func:`lstmkit.errors.callers_level`,
never a fixed count of frames, and the guard (``warning_lines``, on for every test) holds a warning that
names a line of lstmkit against the test that got it."""
from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import inspect
import os
import sys
import warnings
from pathlib import Path

import pytest

import lstmkit
import warning_lines
from lstmkit.errors import caller_wording

PACKAGE = Path(lstmkit.__file__).resolve().parent

# warnings.warn calls that keep another level, and why
KEPT = {
    ("serve.py", "ResourceWarning"): "a dropped stream's __del__: no caller's line, as Python's unclosed file",
}


def _warn_calls():
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # names bound to callers_level() (one level for several warnings: speech's audio notes)
        bound = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                 and ast.unparse(node.value) == "callers_level()" for t in node.targets if isinstance(t, ast.Name)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "warnings.warn":
                level = next((k.value for k in node.keywords if k.arg == "stacklevel"), None)
                yield path, node, bound, level


def test_every_warning_of_lstmkit_counts_its_level_with_callers_level():
    """A fixed ``stacklevel=N`` counts the frames of one call path: reached by another (``fit`` through
    ``_base`` to a data reader, where the command line called the reader itself) the warning named a
    line inside lstmkit, so ``-W error::UserWarning`` blamed lstmkit's frame and ``filterwarnings(module=
    ...)`` missed it (126 such warnings, and 8 helpers that took the level from their callers)."""
    wrong = []
    for path, node, bound, level in _warn_calls():
        said = ast.unparse(level) if level is not None else None
        if said == "callers_level()" or said in bound:
            continue
        category = next((ast.unparse(a) for a in node.args[1:2]), "")
        if (path.name, category) in KEPT:
            continue
        wrong.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: stacklevel={said}")
    assert wrong == []


def test_the_kept_levels_are_still_there():
    """Each exemption names a warning that exists (one removed leaves no stale entry behind)."""
    found = {(path.name, ast.unparse(node.args[1])) for path, node, _, _ in _warn_calls() if len(node.args) > 1}
    assert set(KEPT) <= found


def _warner(name: str, level: int):
    """A function whose code is a file of the lstmkit package, warning with a fixed ``level``."""
    code = compile(f"import warnings\ndef warner():\n    warnings.warn('probe', UserWarning, stacklevel={level})\n",
                   str(PACKAGE / "tasks" / name), "exec")
    scope: dict = {}
    exec(code, scope)
    return scope["warner"]


def _held_by_the_guard(run) -> list[str]:
    before = list(warning_lines._FOUND)
    try:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            run()
        return warning_lines._FOUND[len(before):]
    finally:
        warning_lines._FOUND[:] = before


def test_the_guard_holds_a_warning_of_lstmkit_that_names_its_own_line():
    held = _held_by_the_guard(_warner("_probe.py", 1))
    assert len(held) == 1 and held[0].startswith(f"tasks{os.sep}_probe.py:3: UserWarning: probe")


def test_the_guard_lets_a_warning_that_names_the_callers_line_pass():
    assert _held_by_the_guard(_warner("_probe.py", 2)) == []


def test_the_guard_exempts_the_command_lines_warnings():
    """Under the command line a warning of lstmkit names the command's line on purpose: the CLI prints
    it as one 'warning: ...' line, without a file."""
    def under_the_cli():
        with caller_wording(python=False):
            _warner("_probe.py", 1)()
    assert _held_by_the_guard(under_the_cli) == []
    assert _held_by_the_guard(_warner("cli_probe.py", 1)) == []        # a command's thread: under its cli*.py


@pytest.mark.parametrize("category", [ResourceWarning, DeprecationWarning])
def test_the_guard_holds_only_user_warnings(category):
    code = compile(f"import warnings\ndef warner():\n    warnings.warn('probe', {category.__name__})\n",
                   str(PACKAGE / "tasks" / "_probe.py"), "exec")
    scope: dict = {}
    exec(code, scope)
    assert _held_by_the_guard(scope["warner"]) == []


_IMPORTED = ("import warnings\nfrom lstmkit.errors import callers_level\n\n\n"
             "def _note():\n    warnings.warn('probe', UserWarning, stacklevel=callers_level())\n\n\n_note()\n")


class _ProbeModule(importlib.machinery.SourceFileLoader):
    """A module of the lstmkit package (its code a file there) that warns as it is imported: its text
    is ``_IMPORTED``, never written to disk."""

    def get_data(self, path):
        return _IMPORTED.encode()

    def path_stats(self, path):
        raise OSError("no file: nothing cached")


@pytest.mark.parametrize("how", ["statement", "import_module"])
def test_a_warning_given_as_a_module_of_lstmkit_is_imported_names_the_importing_line(how, monkeypatch):
    """callers_level stopped at the import system's first frame: the warning named
    '<frozen importlib._bootstrap>' (or importlib/__init__.py, warnings.warn stepping over the frozen
    frames uncounted) instead of the line that imported the module."""
    name, path = "lstmkit.tasks._fresh_probe", str(PACKAGE / "tasks" / "_fresh_probe.py")

    class Finder:
        @staticmethod
        def find_spec(fullname, target_path=None, target=None):
            return (importlib.util.spec_from_file_location(name, path, loader=_ProbeModule(name, path))
                    if fullname == name else None)

    monkeypatch.setattr(sys, "meta_path", [Finder, *sys.meta_path])
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.delitem(sys.modules, name, raising=False)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        if how == "statement":
            import lstmkit.tasks._fresh_probe  # noqa: F401
            line = inspect.currentframe().f_lineno - 1
        else:
            importlib.import_module(name)
            line = inspect.currentframe().f_lineno - 1
    monkeypatch.delitem(sys.modules, name, raising=False)
    assert [(w.filename, w.lineno) for w in got] == [(__file__, line)]


def test_a_warning_under_a_command_names_the_commands_own_line():
    """Under a command (a frame of one of lstmkit's ``cli*.py`` files, then lstmkit's own) callers_level
    names the command's line, one frame short of the first outside lstmkit: the CLI prints it as one
    'warning: ...' line, and typer's frame under it was printed file and line first."""
    helper = compile("import warnings\nfrom lstmkit.errors import callers_level\n\n\ndef helper():\n"
                     "    warnings.warn('probe', UserWarning, stacklevel=callers_level())\n",
                     str(PACKAGE / "tasks" / "_probe.py"), "exec")
    command = compile("def command(helper):\n    helper()\n", str(PACKAGE / "cli_probe.py"), "exec")
    scope: dict = {}
    exec(helper, scope)
    exec(command, scope)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        scope["command"](scope["helper"])
    assert [(w.filename, w.lineno) for w in got] == [(str(PACKAGE / "cli_probe.py"), 2)]
