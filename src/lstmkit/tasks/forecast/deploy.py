"""What a task hands the deploy layer: one adapter per task, looked up by the run's task name.

The deploy features (ONNX, int8, streaming, HTTP) only talk to an adapter, so a new task plugs
in by writing one class with these members and registering it in :data:`ADAPTERS`:

=======================  =========================================================================
``load(run)``            classmethod: the adapter around a finished run folder
``net``                  the torch module used for inference (eval mode, CPU)
``stateful()``           the net with its recurrent state as explicit inputs and outputs:
                         ``(x, *state) -> (y, *state)``; ``state_names`` says which (may be empty)
``example_inputs(b, t)`` random model inputs ``[b, t, I]`` for ONNX checks and benchmarks
``test_metrics(net)``    metrics of ``net`` on the run's test data (None when it is not available)
``stream_codec()``       turns one observation into a model input row and an output into JSON
``predict_json(rows)``   the HTTP ``/predict`` answer for validated instances
=======================  =========================================================================

Today only forecasting is registered. The classifier (numeric sequences, ``pooling="last"``,
unidirectional) can stream the same way; text classifiers, translation (encoder + one-step
decoder) and speech need their own graphs with ``lengths`` and are refused by name until then.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lstmkit.deploy.stateful import StatefulNet, recurrent_state_names
from lstmkit.errors import LstmkitError

__all__ = ["Adapter", "ForecastAdapter"]


class ForecastAdapter:
    """Deploy hooks for :class:`~lstmkit.tasks.forecast.estimator.Forecaster`."""

    task = "forecast"

    def __init__(self, est):
        self.est = est
        cfg = est.config_
        if cfg.is_global:
            raise LstmkitError("export, serving and streaming support single-series point-forecast runs; this run "
                               "is many-series / covariate / probabilistic (GlobalForecastNet)",
                               "use 'lstmkit forecast predict' with this run, or train a single-series run to deploy")
        self.cfg = cfg
        self.columns = list(cfg.target) + list(cfg.features)     # model input order
        self.input_size = len(self.columns)
        self.window = cfg.lookback                               # steps one forecast reads
        self.relative = cfg.relative                             # forecasts depend on the newest value

    @classmethod
    def load(cls, run: str | Path) -> "ForecastAdapter":
        from lstmkit.tasks.forecast.estimator import Forecaster
        return cls(Forecaster.load(run))

    @property
    def net(self) -> nn.Module:
        return self.est.net_

    @property
    def state_names(self) -> tuple[str, ...]:
        return recurrent_state_names(self.net)

    @property
    def state_shape(self) -> tuple[int, int]:
        """``(layers, hidden)`` of each state tensor (batch is the middle axis)."""
        enc = self.net.encoder
        return enc.num_layers, enc.hidden_size

    def stateful(self) -> StatefulNet:
        return StatefulNet(self.net, self.state_names).eval()

    def example_inputs(self, batch: int, steps: int | None = None, seed: int = 0) -> torch.Tensor:
        """Random scaled windows ``[batch, steps, I]`` (steps defaults to the lookback)."""
        g = torch.Generator().manual_seed(seed)
        return torch.rand(batch, steps or self.cfg.lookback, self.input_size, generator=g)

    def metadata(self) -> dict[str, Any]:
        c = self.cfg
        return {"task": self.task, "targets": list(c.target), "features": list(c.features),
                "lookback": c.lookback, "horizon": c.horizon, "model": c.model, "relative": c.relative,
                "state": list(self.state_names)}

    # -- data ------------------------------------------------------------------------------
    def test_windows(self, data=None):
        """``(X [n, L, I], test_idx, y_true [n, H, T], y_train)`` of the run's test part, or None
        when the run was trained on in-memory data and no ``data`` is given."""
        from lstmkit.tasks.forecast.data import split_sizes, split_window_indices
        from lstmkit.tasks.forecast.estimator import _prepare
        est, cfg = self.est, self.cfg
        source = data if data is not None else (est.data_summary_ or {}).get("source")
        if source is None or (isinstance(source, (str, Path)) and not Path(source).is_file()):
            return None
        series = _prepare(source, cfg)
        n_train, n_val, _ = split_sizes(len(series.values), cfg.lookback, cfg.horizon, cfg.val_frac, cfg.test_frac)
        X, _ = est._windows(series, cfg)
        *_, test_idx = split_window_indices(len(series.values), cfg.lookback, cfg.horizon, n_train, n_val)
        steps = (test_idx.numpy() + cfg.lookback)[:, None] + np.arange(cfg.horizon)[None]
        return X, test_idx, series.values[steps], series.values[:n_train]

    def test_metrics(self, net: nn.Module, data=None) -> dict[str, float] | None:
        """MAE / RMSE / MASE ... of ``net`` (any callable ``[B, L, I] -> [B, H, T]``) on the test part."""
        from lstmkit.tasks.forecast.metrics import forecast_metrics
        found = self.test_windows(data)
        if found is None:
            return None
        X, idx, y_true, y_train = found
        saved, self.est.net_ = self.est.net_, net
        try:
            pred = self.est._predict_windows(X, idx)
        finally:
            self.est.net_ = saved
        return forecast_metrics(y_true, pred, y_train, season=self.est.season_)

    # -- one observation at a time ---------------------------------------------------------
    def encode_row(self, obs: Any) -> np.ndarray:
        """One observation (number, list in column order, or ``{column: value}``) -> scaled ``[I]``."""
        if isinstance(obs, dict):
            missing = [c for c in self.columns if c not in obs]
            if missing:
                raise LstmkitError(f"observation lacks column {missing[0]!r}",
                                   f"send every input column: {', '.join(self.columns)}")
            row = [obs[c] for c in self.columns]
        else:
            row = obs
        try:
            a = np.asarray(row, dtype=np.float64).reshape(1, -1)
        except (TypeError, ValueError):
            raise LstmkitError(f"observation values must be numbers, got {row!r}",
                               f"send {self.input_size} numbers: {', '.join(self.columns)}") from None
        if a.shape[1] != self.input_size:
            raise LstmkitError(f"Expected {self.input_size} values per observation ({', '.join(self.columns)}), "
                               f"got {a.shape[1]}", "send one value per input column")
        if not np.isfinite(a).all():
            raise LstmkitError("observation holds NaN or infinity", "send finite numbers")
        return self.encode_rows(a)[0]

    def encode_rows(self, rows: np.ndarray) -> np.ndarray:
        """Rows ``[N, I]`` in original units, columns in :attr:`columns` order -> scaled float32."""
        scale, offset = self._affine
        return (np.asarray(rows, dtype=np.float64) * scale + offset).astype(np.float32)

    def decode(self, y: np.ndarray) -> np.ndarray:
        """Scaled outputs ``[..., H, T]`` -> original units (float64)."""
        T = len(self.cfg.target)
        scale, offset = self._affine
        return (np.asarray(y, dtype=np.float64) - offset[:T]) / scale[:T]

    @functools.cached_property
    def _affine(self) -> tuple[np.ndarray, np.ndarray]:
        """Every scaler here (minmax, standard, none) is ``x * scale + offset`` per column; read
        once from the fitted scalers, it costs a multiply-add per step instead of a scikit-learn call."""
        T = len(self.cfg.target)
        scalers = [(self.est.target_scaler_, T)]
        if self.est.feature_scaler_ is not None:
            scalers.append((self.est.feature_scaler_, self.input_size - T))
        offsets = np.concatenate([s.transform(np.zeros((1, n)))[0] for s, n in scalers])
        ones = np.concatenate([s.transform(np.ones((1, n)))[0] for s, n in scalers])
        return ones - offsets, offsets

    def to_json(self, y: np.ndarray) -> dict[str, list[float]]:
        """One forecast ``[H, T]`` in original units -> ``{target: [h values]}``."""
        return {name: y[:, j].tolist() for j, name in enumerate(self.cfg.target)}


Adapter = ForecastAdapter          # what lstmkit.deploy.registry looks up
