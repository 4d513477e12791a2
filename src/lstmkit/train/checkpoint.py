"""Resume state: model, optimizer, scheduler and early-stopping state in two files.

``checkpoints/last.safetensors`` holds every tensor (weights, best weights, Adam moments);
``checkpoints/last.json`` holds the rest (epoch, history, scheduler state). Both are written
atomically, the JSON last, so a crash mid-write leaves the previous complete checkpoint in force.
Nothing here unpickles.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from lstmkit.errors import LstmkitError
from lstmkit.runs import load_tensors, save_tensors, write_json

__all__ = ["save_checkpoint", "load_checkpoint", "optimizer_to_flat", "optimizer_from_flat"]


def optimizer_to_flat(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into tensors (for safetensors) and plain data (for JSON)."""
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, dict[str, Any]] = {}
    for pid, pstate in state["state"].items():
        for name, value in pstate.items():
            if torch.is_tensor(value):
                tensors[f"optim.{pid}.{name}"] = value
            else:
                plain.setdefault(str(pid), {})[name] = value
    return tensors, {"param_groups": state["param_groups"], "plain_state": plain}


def optimizer_from_flat(tensors: dict[str, torch.Tensor], data: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = value
    for pid, extra in data["plain_state"].items():
        state.setdefault(int(pid), {}).update(extra)
    return {"state": state, "param_groups": data["param_groups"]}


def save_checkpoint(folder: Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    best_state: dict[str, torch.Tensor] | None, extra: dict[str, Any]) -> None:
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    if best_state is not None:
        tensors.update({f"best.{k}": v for k, v in best_state.items()})
    opt_tensors, opt_plain = optimizer_to_flat(optimizer.state_dict())
    tensors.update(opt_tensors)
    save_tensors(folder / "last.safetensors", tensors)
    write_json(folder / "last.json", {"optimizer": opt_plain, **extra})


def load_checkpoint(folder: Path) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor] | None,
                                            dict[str, Any], dict[str, Any]]:
    """Returns (model_state, best_state or None, optimizer_state, extra)."""
    meta_path = folder / "last.json"
    if not meta_path.is_file():
        raise LstmkitError(f"no checkpoint in {folder}", "this run cannot be resumed; start a new one")
    try:
        extra = json.loads(meta_path.read_text())
    except json.JSONDecodeError:
        raise LstmkitError(f"checkpoint {meta_path} is corrupt", "start a new run") from None
    tensors = load_tensors(folder / "last.safetensors")
    model = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")} or None
    optim = optimizer_from_flat(tensors, extra.pop("optimizer"))
    return model, best, optim, extra
