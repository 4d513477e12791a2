"""Finds a run's deploy adapter by the task name in its ``lstmkit.json``, without importing tasks.

A task supports deployment when its room holds a ``deploy.py`` whose ``Adapter`` class follows
:class:`lstmkit.deploy.adapter.DeployAdapter`. The rooms are found on disk
(``lstmkit/tasks/*/deploy.py``) and the module is imported by name only when a run of that
task is deployed, so the engines here never depend on a task (the import layers stay one way).
"""
from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from lstmkit.errors import LstmkitError
from lstmkit.runs import read_meta, weights_fingerprint   # weights_fingerprint: re-exported

__all__ = ["ADAPTER_ATTRIBUTE", "supported_tasks", "adapter_class", "adapter_for", "weights_fingerprint"]

ADAPTER_ATTRIBUTE = "Adapter"           # the class a room's deploy.py exposes
_TASKS_PACKAGE = "lstmkit.tasks"        # a name to look up, never an import of this module


def supported_tasks() -> list[str]:
    """Task rooms that hold a ``deploy.py``, sorted."""
    spec = importlib.util.find_spec(_TASKS_PACKAGE)
    folders = spec.submodule_search_locations if spec is not None else None
    return sorted({p.parent.name for folder in folders or () for p in Path(folder).glob("*/deploy.py")})


def adapter_class(task: str) -> type:
    """The ``Adapter`` class of ``task``'s room; a task without one is refused in one line."""
    name, module = f"{_TASKS_PACKAGE}.{task}.deploy", None
    if isinstance(task, str) and task.isidentifier():
        try:
            module = importlib.import_module(name)   # called on every predict / stream: no folder scan
        except ModuleNotFoundError as e:
            if e.name not in (name, f"{_TASKS_PACKAGE}.{task}"):
                raise
    if module is None:
        raise LstmkitError(f"deployment does not support {task!r} runs yet",
                           f"supported tasks: {', '.join(supported_tasks()) or 'none'}")
    cls = getattr(module, ADAPTER_ATTRIBUTE, None)
    if cls is None:
        raise LstmkitError(f"{module.__name__} defines no {ADAPTER_ATTRIBUTE} class",
                           "a task room's deploy.py must expose its adapter as `Adapter`")
    return cls


def adapter_for(run: str | Path):
    """The adapter of a finished run folder (``Adapter.load(run)`` of the run's task)."""
    return adapter_class(read_meta(run)["task"]).load(run)
