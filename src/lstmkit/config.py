"""Typed configuration: one dataclass per concern, defaults in one place.

YAML (``--config cfg.yaml``) and CLI flags only fill these objects; the resolved object is what
a run folder records in ``lstmkit.json``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from lstmkit.errors import LstmkitError

__all__ = ["TrainConfig", "ForecastConfig", "load_yaml", "merge"]


@dataclass
class TrainConfig:
    """Settings of the task-agnostic trainer (:mod:`lstmkit.train`)."""

    max_epochs: int = 100           # upper bound; early stopping usually ends sooner
    batch_size: int = 32
    lr: float = 1e-3                # Adam learning rate
    weight_decay: float = 0.0
    loss: str = "mse"               # mse | mae | huber
    clip_norm: float | None = 1.0   # max global gradient norm; None disables clipping
    lr_factor: float = 0.5          # ReduceLROnPlateau factor ...
    lr_patience: int = 10           # ... and patience (epochs without val improvement)
    patience: int = 7               # early stopping patience; the best weights are restored
    min_delta: float = 0.0          # improvement smaller than this does not count
    seed: int = 42                  # same seed, same data, same machine -> same metrics
    device: str = "auto"            # auto (CUDA when present) | cpu | cuda | cuda:N
    progress: str = "auto"          # auto (bar on a terminal, log lines otherwise) | bar | log | off
    tensorboard: bool = True        # write tb/ events into the run folder


@dataclass
class ForecastConfig:
    """Everything that defines a forecasting run. Defaults follow the classic LSTM tutorial."""

    target: list[str] = field(default_factory=list)
    time: str | None = None
    features: list[str] = field(default_factory=list)
    lookback: int = 60              # past steps the model sees
    horizon: int = 1                # future steps predicted at once (direct multi-output)
    model: str = "lstm"             # encoder from lstmkit.nn.zoo: lstm | gru | bilstm
    hidden_size: int = 50
    num_layers: int = 2
    dropout: float = 0.2            # between recurrent layers and before the head
    relative: bool = True           # model the change from each window's last value (trends)
    scaler: str = "minmax"          # minmax | standard | none, fitted on the training part only
    val_frac: float = 0.15
    test_frac: float = 0.15
    season: int | None = None       # seasonal period for baselines and MASE; None -> inferred
    fill: str | None = None         # None (NaN is an error) | ffill | interpolate
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ForecastConfig":
        d = dict(d)
        train = TrainConfig(**_known(TrainConfig, d.pop("train", {}) or {}, "train"))
        return cls(train=train, **_known(cls, d, ""))


def _known(cls, d: dict[str, Any], section: str) -> dict[str, Any]:
    names = {f.name for f in fields(cls)} - {"train"}
    unknown = sorted(set(d) - names)
    if unknown:
        where = f" in section '{section}'" if section else ""
        raise LstmkitError(
            f"unknown config key{'s' if len(unknown) > 1 else ''}{where}: {', '.join(unknown)}",
            f"known keys: {', '.join(sorted(names))}",
        )
    return d


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a plain dict (validated later by ``from_dict``)."""
    p = Path(path)
    if not p.is_file():
        raise LstmkitError(f"config file not found: {p}", "check the --config path")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        raise LstmkitError(f"config file {p} is not valid YAML ({e.__class__.__name__})",
                           "fix the syntax; see README for an example") from None
    if not isinstance(data, dict):
        raise LstmkitError(f"config file {p} must hold a mapping of keys to values",
                           "write it as 'key: value' lines")
    return data


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict merge where ``override`` wins; None values in override are ignored."""
    out = dict(base)
    for k, v in override.items():
        if v is None:
            continue
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out
