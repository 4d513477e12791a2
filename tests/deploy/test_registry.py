"""The registry finds a run's adapter by its task name; the deploy engines never import a task."""
import ast
import json
import sys
from pathlib import Path

import pytest

from cli_helpers import assert_user_error, run_cli
from lstmkit.deploy.adapter import DeployAdapter
from lstmkit.deploy.registry import adapter_class, adapter_for, supported_tasks
from lstmkit.errors import LstmkitError
from lstmkit.runs import FORMAT_VERSION
from lstmkit.tasks.forecast.deploy import ForecastAdapter

SRC = Path(__file__).resolve().parents[2] / "src" / "lstmkit"


def _fake_run(folder: Path, task: str) -> Path:
    folder.mkdir()
    (folder / "lstmkit.json").write_text(json.dumps({"format_version": FORMAT_VERSION, "task": task}))
    return folder


def test_supported_tasks_are_the_rooms_with_a_deploy_module():
    rooms = sorted(p.parent.name for p in (SRC / "tasks").glob("*/deploy.py"))
    assert "forecast" in rooms
    assert supported_tasks() == rooms
    assert adapter_class("forecast") is ForecastAdapter


def test_the_forecast_adapter_follows_the_protocol(abs_forecaster):
    adapter = adapter_for(abs_forecaster.run_dir_)
    assert type(adapter) is ForecastAdapter and isinstance(adapter, DeployAdapter)
    assert adapter.task == "forecast" and adapter.window == abs_forecaster.config_.lookback


def test_unsupported_task_is_refused_in_one_line_naming_the_supported_ones(tmp_path, capsys):
    run = _fake_run(tmp_path / "run", "weather")
    with pytest.raises(LstmkitError, match="deployment does not support 'weather' runs yet") as e:
        adapter_for(run)
    assert e.value.hint == f"supported tasks: {', '.join(supported_tasks())}"
    code, _, err = run_cli(["export", "int8", "--run", run], capsys)
    assert_user_error(code, err, "does not support 'weather'", "forecast")


@pytest.fixture
def extra_room(tmp_path, monkeypatch):
    """A task room 'demo' (with an Adapter) and 'bare' (deploy.py without one), on the tasks path."""
    import lstmkit.tasks as tasks_pkg
    rooms = tmp_path / "rooms"
    for name, body in [("demo", "class Adapter:\n    @classmethod\n    def load(cls, run):\n        return ('demo', run)\n"),
                       ("bare", "X = 1\n")]:
        (rooms / name).mkdir(parents=True)
        (rooms / name / "__init__.py").write_text("")
        (rooms / name / "deploy.py").write_text(body)
    path = [*tasks_pkg.__path__, str(rooms)]
    monkeypatch.setattr(tasks_pkg, "__path__", path)
    monkeypatch.setattr(tasks_pkg.__spec__, "submodule_search_locations", path)
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith(("lstmkit.tasks.demo", "lstmkit.tasks.bare"))]:
        del sys.modules[name]


def test_a_new_room_with_a_deploy_module_is_found_without_registering_it(extra_room):
    assert {"demo", "bare", "forecast"} <= set(supported_tasks())
    run = _fake_run(extra_room / "run", "demo")
    assert adapter_for(run) == ("demo", run)
    with pytest.raises(LstmkitError, match="lstmkit.tasks.bare.deploy defines no Adapter class"):
        adapter_for(_fake_run(extra_room / "bare-run", "bare"))


def test_no_deploy_module_imports_a_task():
    offenders = []
    for path in sorted((SRC / "deploy").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names if n == "lstmkit.tasks" or n.startswith("lstmkit.tasks.")]
    assert offenders == []
