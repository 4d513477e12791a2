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

import copy
import functools
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lstmkit.errors import LstmkitError
from lstmkit.runs import WEIGHTS_FILE, read_meta

__all__ = ["ADAPTERS", "adapter_for", "ForecastAdapter", "StatefulNet", "weights_fingerprint"]


def weights_fingerprint(run: str | Path) -> str:
    """sha256 (16 hex digits) of a run's weights file: ties exports and saved stream states to it."""
    h = hashlib.sha256()
    with open(Path(run) / WEIGHTS_FILE, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


class _EncoderTap(nn.Module):
    """Stands in for an encoder: runs it from ``state_in`` and keeps the final ``state_out``."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.inner = encoder
        self.bidirectional = encoder.bidirectional
        self.output_size = encoder.output_size
        self.state_in: Any = None
        self.state_out: Any = None

    def forward(self, x, state=None, lengths=None):
        if x.shape[1] == 1 and lengths is None and not self.training and _is_lstm(self.inner):
            out, self.state_out = _lstm_single_step(self.inner, x, self.state_in)
        else:
            out, self.state_out = self.inner(x, self.state_in, lengths)
        return out, self.state_out


def _is_lstm(module: nn.Module) -> bool:
    from lstmkit.nn.lstm import LSTM
    return isinstance(module, LSTM) and not module.bidirectional and not torch.jit.is_tracing()


def _lstm_single_step(lstm, x: torch.Tensor, state):
    """One time step through per-layer LSTM cells: ``x [B, 1, I] -> (out [B, 1, H], (h, c))``.

    Same equations as the fused kernel; on the CPU the fused (oneDNN) kernel costs ~10x more
    than the cells for a single step, and streaming is all single steps."""
    inp = x[:, 0]                                                   # [B, I]
    if state is None:
        zeros = x.new_zeros(lstm.num_layers, x.shape[0], lstm.hidden_size)
        state = (zeros, zeros)
    hs, cs = [], []
    for layer in range(lstm.num_layers):
        h, c = torch._VF.lstm_cell(inp, (state[0][layer], state[1][layer]), *lstm._layer_weights(layer, 0))
        hs.append(h)
        cs.append(c)
        inp = h                                                     # dropout is off in eval mode
    return inp[:, None], (torch.stack(hs), torch.stack(cs))


class StatefulNet(nn.Module):
    """A task net whose ``encoder`` takes its recurrent state from explicit inputs.

    ``forward(x [B, T, I], *state) -> (y, *state_out)``; for an LSTM encoder the state is
    ``h, c`` each ``[L, B, H]``, for a GRU ``h``. The wrapped net's own ``forward`` runs
    unchanged (its parameters are shared, not copied), so this graph cannot drift from it.
    """

    def __init__(self, net: nn.Module, state_names: tuple[str, ...]):
        super().__init__()
        self.state_names = state_names
        self.net = copy.copy(net)                        # shallow: shares every parameter
        self.net._modules = {**net._modules, "encoder": _EncoderTap(net.encoder)}

    def forward(self, x: torch.Tensor, *state: torch.Tensor):
        tap = self.net.encoder
        if not state:
            tap.state_in = None                          # zeros, as the plain net starts
        else:
            tap.state_in = tuple(state) if len(self.state_names) == 2 else state[0]
        y = self.net(x)
        out = tap.state_out if len(self.state_names) == 2 else (tap.state_out,)
        return (y, *out) if self.state_names else y


def _state_names(net: nn.Module) -> tuple[str, ...]:
    """Recurrent state of a net's encoder that can be carried: LSTM (h, c), GRU (h), else none."""
    from lstmkit.deploy.quantize import TorchRNN
    from lstmkit.nn.lstm import LSTM
    from lstmkit.nn.zoo import GRU
    enc = getattr(net, "encoder", None)
    if enc is None or getattr(enc, "bidirectional", True):
        return ()
    if isinstance(enc, LSTM) or (isinstance(enc, TorchRNN) and enc.kind == "lstm"):
        return ("h", "c")
    if isinstance(enc, GRU) or (isinstance(enc, TorchRNN) and enc.kind == "gru"):
        return ("h",)
    return ()


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
        return _state_names(self.net)

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


ADAPTERS: dict[str, type] = {"forecast": ForecastAdapter}


def adapter_for(run: str | Path):
    """The adapter of a finished run folder; tasks without one are refused by name."""
    task = read_meta(run)["task"]
    if task not in ADAPTERS:
        raise LstmkitError(f"deployment does not support '{task}' runs yet",
                           f"supported tasks: {', '.join(ADAPTERS)}")
    return ADAPTERS[task].load(run)
