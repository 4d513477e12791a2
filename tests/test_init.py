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
