"""Deployment: int8, ONNX with explicit state, streaming, online updates, the HTTP service.

The engines here work on any task's adapter (:class:`~lstmkit.deploy.adapter.DeployAdapter`);
:mod:`lstmkit.deploy.registry` finds a run's adapter by the task name in its ``lstmkit.json``
(``lstmkit/tasks/<task>/deploy.py``), so nothing here imports a task. Optional dependencies are
imported only when used: ``[export]`` (onnx, onnxruntime), ``[serve]`` (fastapi, uvicorn,
websockets). One service serves several runs under their names (:func:`serve`); a client for it
is :class:`lstmkit.serve.Client`.
"""
from lstmkit.deploy.adapter import DeployAdapter
from lstmkit.deploy.onnx import export_onnx
from lstmkit.deploy.onnx_engine import OnnxRunner
from lstmkit.deploy.quantize import export_int8
from lstmkit.deploy.registry import adapter_for, supported_tasks
from lstmkit.deploy.streaming import Stream

__all__ = ["Stream", "export_onnx", "export_int8", "OnnxRunner", "create_app", "serve", "DeployAdapter",
           "adapter_for", "supported_tasks"]


def create_app(*args, **kwargs):
    """See :func:`lstmkit.deploy.server.create_app` (imported on use: needs the serve extra)."""
    from lstmkit.deploy.server import create_app as _create_app
    return _create_app(*args, **kwargs)


def serve(*args, **kwargs):
    """See :func:`lstmkit.deploy.server.serve`."""
    from lstmkit.deploy.server import serve as _serve
    return _serve(*args, **kwargs)
