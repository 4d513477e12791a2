"""Deployment: int8, ONNX with explicit state, streaming, online updates, the HTTP service.

The engines here work on any task's adapter (:class:`~lstmkit.deploy.adapter.DeployAdapter`);
:mod:`lstmkit.deploy.registry` finds a run's adapter by the task name in its ``lstmkit.json``
(``lstmkit/tasks/<task>/deploy.py``), so nothing here imports a task. Optional dependencies are
imported only when used: ``[export]`` (onnx, onnxruntime), ``[serve]`` (fastapi, uvicorn,
websockets). One service serves several runs under their names (:func:`serve`); a client for it
is :class:`lstmkit.serve.Client`.
"""
import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:      # what type checkers and IDEs read: each name from the module that defines it
    from lstmkit.deploy.adapter import DeployAdapter
    from lstmkit.deploy.onnx import export_onnx
    from lstmkit.deploy.onnx_engine import OnnxRunner
    from lstmkit.deploy.quantize import export_int8
    from lstmkit.deploy.registry import adapter_for, supported_tasks
    from lstmkit.deploy.server import create_app, serve
    from lstmkit.deploy.streaming import Stream

__all__ = ["Stream", "export_onnx", "export_int8", "OnnxRunner", "create_app", "serve", "DeployAdapter",
           "adapter_for", "supported_tasks"]

# each name's module, imported on first use (PEP 562): they import torch, and `lstmkit export --help`
# and `lstmkit serve --help` (lstmkit.deploy.cli, inside this package) took seconds for it; the server's
# functions need the serve extra only when called (so inspect.signature, help() and get_type_hints read
# their own parameters, not a wrapper's *args, **kwargs)
_HOMES = {"DeployAdapter": "adapter", "export_onnx": "onnx", "OnnxRunner": "onnx_engine", "export_int8": "quantize",
          "adapter_for": "registry", "supported_tasks": "registry", "Stream": "streaming", "create_app": "server",
          "serve": "server"}


# hidden from type checkers, which read the imports above (a module __getattr__ makes every name valid to
# them, typed Any)
if not TYPE_CHECKING:
    def __getattr__(name: str):
        if name in _HOMES:
            return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
