"""The package's front door: the public names, imported lazily, and a start-up that stays light."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import lstmkit

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("torch", "pandas", "sklearn", "scipy", "statsmodels", "matplotlib", "optuna", "tensorboard")


def _modules_loaded_by(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code`` (this checkout's source first)."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_import_lstmkit_loads_no_heavy_module_and_no_task():
    loaded = _modules_loaded_by("import lstmkit")
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}
    assert not {m for m in loaded if m.startswith("lstmkit.tasks")}


def test_public_names_resolve_on_first_use():
    from lstmkit.nn.lstm import LSTM
    from lstmkit.tasks.forecast.estimator import Forecaster
    assert lstmkit.LSTM is LSTM and lstmkit.Forecaster is Forecaster
    assert set(lstmkit.__all__) <= set(dir(lstmkit))
    for name in lstmkit.__all__:
        assert getattr(lstmkit, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Forcaster'"):
        lstmkit.Forcaster  # noqa: B018


def test_the_lower_layers_on_the_cli_path_load_without_torch():
    # what the commands' modules import at module level from below (the CLI path stays light)
    loaded = _modules_loaded_by("import lstmkit.errors, lstmkit.config, lstmkit.runs, lstmkit.loading, "
                                "lstmkit.train, lstmkit.inspect.cli, lstmkit.inspect.plots, lstmkit.data.scaling\n"
                                "from lstmkit.train import TrainingInterrupted")
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_inspect_functions_stay_functions_whichever_import_comes_first():
    loaded = _modules_loaded_by("from lstmkit.inspect.gates import plot_gates\nimport lstmkit.inspect.attention\n"
                                "import lstmkit.inspect as i, types\n"
                                "assert callable(i.gates) and not isinstance(i.gates, types.ModuleType)\n"
                                "assert callable(i.attention) and not isinstance(i.attention, types.ModuleType)")
    assert "lstmkit.inspect.gates" in loaded


def test_help_loads_no_heavy_module_and_no_task_internals():
    # `lstmkit --help` needs the commands' names and help texts only: no torch, no estimator
    loaded = _modules_loaded_by("import runpy, sys\nsys.argv = ['lstmkit', '--help']\ntry:\n"
                                "    runpy.run_module('lstmkit', run_name='__main__')\nexcept SystemExit:\n    pass")
    assert "lstmkit.cli" in loaded
    assert not sorted({m.split(".")[0] for m in loaded} & set(HEAVY))
    internals = sorted(m for m in loaded if m.startswith("lstmkit.tasks.") and m.count(".") >= 3
                       and m.rsplit(".", 1)[-1] not in ("cli", "config"))
    assert not internals


@pytest.mark.parametrize("command", ["compare", "export", "export onnx", "serve"])
def test_the_help_of_a_command_mounted_by_name_loads_no_torch(command):
    """Their modules imported torch (and pandas) at the top: each --help took seconds."""
    loaded = _modules_loaded_by(f"from lstmkit.cli import main\ntry:\n    main({command.split() + ['--help']!r})\n"
                                "except SystemExit:\n    pass")
    assert not {m for m in loaded if m.split(".")[0] in ("torch", "pandas")}


# -- the public surface as tools see it: star import, docstrings, type checkers --------------------------
ROOMS = ("classify", "forecast", "lm", "speech", "translate")


def test_star_import_binds_exactly_the_public_names():
    space: dict = {}
    exec("from lstmkit import *", space)
    assert sorted(k for k in space if k != "__builtins__") == sorted(lstmkit.__all__)


def _type_checking_imports(path: Path) -> dict[str, str]:
    """name -> module of each ``from module import name`` under ``if TYPE_CHECKING:`` in ``path``."""
    import ast
    found = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom):
                    found.update({a.asname or a.name: stmt.module for a in stmt.names})
    return found


@pytest.mark.parametrize("package", ["lstmkit", "lstmkit.deploy", *(f"lstmkit.tasks.{room}" for room in ROOMS)])
def test_type_checkers_read_each_public_name_from_the_module_that_defines_it(package):
    """A type checker does not run the lazy ``__getattr__``: it reads the imports under ``if
    TYPE_CHECKING:``. Four of the six estimators were imported there from their room's package,
    whose names only its ``__getattr__`` gives: to mypy and IDEs they were Any, every method unchecked."""
    import importlib
    module = importlib.import_module(package)
    read = _type_checking_imports(Path(module.__file__))
    for name in module.__all__:
        value = getattr(module, name)
        if getattr(value, "__module__", package) == package:   # its own: __version__, a room's load, deploy's wrappers
            continue
        assert name in read, (package, name)
        home = importlib.import_module(read[name])
        assert name in vars(home) and vars(home)[name] is getattr(module, name), (package, name, read[name])


def _public_members(cls: type) -> dict[str, object]:
    """The public methods and properties ``cls`` has from lstmkit (torch.nn.Module's own left out)."""
    members = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith("lstmkit"):
            members.update({k: v for k, v in vars(klass).items() if not k.startswith("_")
                            and (callable(v) or isinstance(v, (property, classmethod, staticmethod)))})
    return members


@pytest.mark.parametrize("name", [n for n in lstmkit.__all__ if n != "__version__"])
def test_every_public_name_and_method_says_what_it_does(name):
    import inspect
    value = getattr(lstmkit, name)
    assert inspect.getdoc(value), name
    assert not value.__module__.split(".")[-1].startswith("_")         # imported from a public module too
    if not inspect.isclass(value):
        return
    undocumented = [k for k, v in _public_members(value).items()
                    if not (getattr(v, "fget", None) or getattr(v, "__func__", None) or v).__doc__]
    assert not undocumented, f"{name}: {undocumented}"     # LSTM.forward showed torch's 'Define the computation ...'


@pytest.mark.parametrize("name", ["Forecaster", "TextClassifier", "SequenceClassifier", "Translator", "LanguageModel",
                                  "SpeechRecognizer"])
def test_help_shows_an_estimators_description_unindented(name):
    """The generated Parameters section was appended to the class's indented docstring: help()
    then printed the whole description indented under its first line."""
    import inspect
    doc = inspect.getdoc(getattr(lstmkit, name))
    body = doc.split("\n\n")[1]
    assert not body.startswith(" "), body[:80]
    assert "\nParameters (fields of" in doc


def test_lstmkit_inspect_is_reached_from_import_lstmkit_alone():
    """The README's and the CLI's hint, 'lstmkit.inspect.gates(m, …)', after `import lstmkit` alone was
    'AttributeError: module lstmkit has no attribute inspect'."""
    loaded = _modules_loaded_by("import lstmkit\n"
                                "assert callable(lstmkit.inspect.gates) and callable(lstmkit.inspect.attention)")
    assert "lstmkit.inspect" in loaded
    assert not {m for m in _modules_loaded_by("import lstmkit") if m.startswith("lstmkit.inspect")}
