"""Forecasting's deploy adapter: the :class:`~lstmkit.deploy.adapter.DeployAdapter` of a
:class:`~lstmkit.tasks.forecast.estimator.Forecaster` (ONNX, int8, streaming, HTTP, update).

The graph is the network alone (``x [B, L, C] -> y [B, H, T]``, or ``[B, H, T, P]`` for
quantiles and distributions); logs and seasonal indices stay in Python around it
(:mod:`lstmkit.tasks.forecast.surface`), and so does a blend with a baseline (``--combine``,
:mod:`lstmkit.tasks.forecast.combine`), fitted on each forecast's history. A seed ensemble
exports as one graph (:class:`ForecastGraph`): every member from its own state, then their median; a net with a
series embedding takes the series index as a second input, ``series [B]``. A net that rolls out
(recursive), decodes (seq2seq) or reads covariates over the horizon exports as
:class:`~lstmkit.tasks.forecast.graphs.HorizonGraph`, ``(x[, future][, series]) -> y`` without
carried state. The service's request and answer are in :mod:`lstmkit.tasks.forecast.serving`; a stream of a
run with many series, seasonal indices, quantiles or a blend keeps what ``predict`` reads around
the network per stream (:mod:`lstmkit.tasks.forecast.streams`, :meth:`ForecastAdapter.stream_extra`).

:mod:`lstmkit.deploy.registry` finds it by the run's task name (``Adapter`` below); the
estimator reaches it the same way, so this module may import the estimator and not the reverse.
It is the one place where the deploy features touch the Forecaster's internals.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lstmkit.config import TrainConfig
from lstmkit.data.windows import WindowBatches
from lstmkit.deploy.adapter import UpdateData, observation_row
from lstmkit.deploy.onnx_engine import OnnxRunner, load_runner
from lstmkit.deploy.quantize import swap_recurrent
from lstmkit.deploy.stateful import StatefulNet, recurrent_state_names
from lstmkit.errors import LstmkitError
from lstmkit.nn.lstm import LSTM
from lstmkit.tasks.forecast import serving
from lstmkit.tasks.forecast.combine import active_combination
from lstmkit.tasks.forecast.ensemble import SeedEnsemble
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.tasks.forecast.graphs import HorizonGraph, future_array, median_of, reads_horizon
from lstmkit.tasks.forecast.metrics import forecast_metrics
from lstmkit.tasks.forecast.model import ForecastNet
from lstmkit.tasks.forecast.streams import SeriesStreams, needs_series_streams

_FLOAT32_MAX = float(np.finfo(np.float32).max)   # finite and within float32: the fast path's only check

__all__ = ["Adapter", "ForecastAdapter", "TorchLstmStep", "ForecastGraph", "ForecastOnnxNet", "median_of"]


class ForecastAdapter:
    """Deploy hooks for :class:`~lstmkit.tasks.forecast.estimator.Forecaster`."""

    task = "forecast"

    def __init__(self, est):
        self.est = est
        est.check_deployable("deployment (export, serving)")   # every forecaster today (surface.deploy_problem)
        cfg = est.config_
        self.cfg = cfg
        self.columns = list(est.input_names_)                    # model input order
        self.input_size = len(self.columns)
        self.window = cfg.lookback                               # steps one forecast reads
        self.relative = cfg.relative                             # forecasts depend on the newest value

    @classmethod
    def load(cls, run: str | Path) -> "ForecastAdapter":
        return cls(Forecaster.load(run))

    @property
    def net(self) -> nn.Module:
        return self.est.net_

    @property
    def preferred_engine(self) -> str | None:
        return getattr(self.est, "engine_", None)

    @property
    def members(self) -> list[nn.Module]:
        """The networks the graph runs: a seed ensemble's members, else the one net."""
        net = self.net
        return list(net.members) if isinstance(net, SeedEnsemble) else [net]

    @property
    def state_names(self) -> tuple[str, ...]:
        net = self.members[0]
        if getattr(net, "highway", None) is not None or getattr(net, "segment", 0):
            return ()                                            # they read the whole window
        if reads_horizon(net):
            return ()                                            # a roll-out or a decoder per forecast
        return recurrent_state_names(net)

    @property
    def state_shape(self) -> tuple[int, int]:
        """``(layers, hidden)`` of each state tensor (batch is the middle axis); an ensemble's
        members' states are stacked along the layer axis, member after member."""
        enc = self.members[0].encoder
        return enc.num_layers * len(self.members), enc.hidden_size

    @property
    def embedding(self) -> bool:
        """True when the net reads each window's series index (``--id-embedding``)."""
        return getattr(self.members[0], "embedding", None) is not None

    def stateful(self) -> nn.Module:
        if reads_horizon(self.members[0]):
            members = self.members
            if self.cfg.strategy == "recursive":    # each roll-out step one ONNX LSTM op, not per-layer cells
                members = [swap_recurrent(m) for m in members]
            return HorizonGraph(members, future=bool(self.members[0].F), series=self.embedding).eval()
        if isinstance(self.net, SeedEnsemble) or self.embedding:
            return ForecastGraph(self.members, self.state_names, series=self.embedding).eval()
        return StatefulNet(self.net, self.state_names).eval()

    def extra_inputs(self, x: torch.Tensor, seed: int = 0) -> dict[str, torch.Tensor]:
        """The graph's inputs beside ``x``: ``future [B, H, F]`` (scaled future covariates over
        the horizon) of a net that reads them, then ``series [B]`` (int64) of a net with a series
        embedding; random here, for the export's check."""
        g = torch.Generator().manual_seed(seed)
        extra, F = {}, self.members[0].F
        if F:
            extra["future"] = torch.rand(x.shape[0], self.cfg.horizon, F, generator=g)
        if self.embedding:
            extra["series"] = torch.randint(0, len(self.est.series_ids_) + 1, (x.shape[0],), generator=g)
        return extra

    def onnx_net(self, run: Path) -> nn.Module:
        """The run's graph as the net ``predict`` and the service call (with the series index)."""
        return ForecastOnnxNet(load_runner(run))

    @property
    def streams(self) -> bool:
        """False for a run that cannot stream (see ``deploy_problem("stream")``): no ``/stream``."""
        return self.est.deploy_problem("stream") is None

    @property
    def slow_steps(self) -> bool:
        """Whether a stream step refits a model: a blend with ETS refits it on the stream's history
        (0.2-0.5 s), so the service runs such steps off its event loop."""
        blend = active_combination(self.est)
        return blend is not None and blend["baseline"] == "ets"

    def example_inputs(self, batch: int, steps: int | None = None, seed: int = 0) -> torch.Tensor:
        """Random scaled windows ``[batch, steps, I]`` (steps defaults to the lookback; a segmented
        encoder's, ``--segment S``, rounded up to whole segments: it reads nothing else)."""
        g = torch.Generator().manual_seed(seed)
        steps, S = steps or self.cfg.lookback, getattr(self.members[0], "segment", 0)
        return torch.rand(batch, -(-steps // S) * S if S else steps, self.input_size, generator=g)

    def metadata(self) -> dict[str, Any]:
        c, out = self.cfg, self.est.output_
        return {"task": self.task, "targets": list(c.target), "features": list(c.features),
                "series": len(self.est.series_ids_), "id": c.id, "embedding": self.embedding,
                "lookback": c.lookback, "horizon": c.horizon, "model": c.model, "relative": c.relative,
                "strategy": c.strategy, "future_covariates": list(c.future_covariates), "calendar": list(c.calendar),
                "state": list(self.state_names), "min_history": serving.min_history(self.est), "log": bool(c.log),
                "deseason": int(c.deseason or 0), "ensemble": len(self.members), "output": out.kind,
                **({"levels": list(out.levels)} if out.kind != "point" else {}),
                "combination": (dict(blend) if (blend := active_combination(self.est)) else None),
                **({"stream_refusal": why} if (why := self.est.deploy_problem("stream")) else {})}

    # -- the service -------------------------------------------------------------------------
    def request_models(self, Finite, max_instances: int) -> tuple[type, type]:
        return serving.request_models(self, Finite, max_instances)

    def answer(self, net: nn.Module, instances: list[dict[str, list[float]]]) -> dict[str, Any]:
        """``{"instances": [{column: history}]}`` -> ``{"predictions": [{target: forecast}], ...}``."""
        return serving.answer(self, net, instances)

    # -- data ------------------------------------------------------------------------------
    def test_metrics(self, net: nn.Module, data=None) -> dict[str, float] | None:
        """MAE / RMSE / MASE ... of ``net`` (any callable ``[B, L, I] -> [B, H, T]``) on the test part."""
        found = self.est.test_forecast(net, data)    # per series; None for in-memory training data
        if not found:
            return None
        each = [forecast_metrics(y_true, pred, y_train, season=self.est.season_) for y_true, pred, y_train in found]
        return {k: float(np.mean([m[k] for m in each])) for k in each[0]}   # many series: the mean over them

    # -- one observation at a time ---------------------------------------------------------
    def state_refusal(self) -> str | None:
        problem = self.est.deploy_problem("stream")
        if problem is not None:
            return problem
        if self.cfg.deseason:
            return "its seasonal indices are re-estimated with every value, which changes every earlier input"
        if self.relative:
            return "it forecasts relative to the newest value, which shifts every earlier input"
        if not self.state_names:
            return "its encoder has no one-directional LSTM/GRU state"
        return None

    def fast_step(self) -> "TorchLstmStep | None":
        return None if needs_series_streams(self.est) else TorchLstmStep.build(self)

    @property
    def whole_window(self) -> bool:
        """True when a window stream repeats its first row until a lookback is in: a net with
        segments or a highway reads exactly a lookback, and so does one of many series in ``predict``
        (a short one starts with its first row repeated)."""
        net = self.members[0]
        return bool(getattr(net, "highway", None) is not None or getattr(net, "segment", 0)
                    or len(self.est.series_ids_) > 1)

    def stream_extra(self, mode: str) -> SeriesStreams | None:
        """The work around the network of a run streamed with more than a fixed scaling (many series,
        an embedding, seasonal indices, quantiles, a blend: :mod:`lstmkit.tasks.forecast.streams`);
        None for a plain run (:meth:`encode_row` and :meth:`decode` then suffice)."""
        return SeriesStreams(self, mode) if needs_series_streams(self.est) else None

    def stream_json(self, answer) -> dict[str, Any]:
        """One stream step's answer -> the WebSocket message's fields: ``{"forecast": {target: [h]}}``,
        and for a probabilistic run ``"quantiles": {level: {target: [h]}}`` and ``"levels"``."""
        if not isinstance(answer, dict):
            return {"forecast": self.to_json(answer)}
        q = answer["quantiles"]
        return {"forecast": self.to_json(answer["forecast"]), "levels": answer["levels"],
                "quantiles": {f"{level:g}": self.to_json(q[:, :, k]) for k, level in enumerate(answer["levels"])}}

    def encode_row(self, obs: Any) -> np.ndarray:
        """One observation (number, list in column order, or ``{column: value}``) -> scaled ``[I]``."""
        a = observation_row(obs, self.columns)
        return self.encode_rows(a)[0]

    def encode_rows(self, rows: np.ndarray) -> np.ndarray:
        """Rows ``[N, I]`` in original units, columns in :attr:`columns` order -> scaled float32
        (the targets' logs with ``--log``: a value at or below zero is an LstmkitError)."""
        scale, offset = self._affine
        return (self.est.model_units_rows(rows) * scale + offset).astype(np.float32)

    def decode(self, y: np.ndarray) -> np.ndarray:
        """Scaled point outputs ``[..., H, T]`` -> original units (float64) of a plain run (one series,
        no seasonal indices; the others stream through :meth:`stream_extra`)."""
        T = len(self.cfg.target)
        scale, offset = self._affine
        y = (np.asarray(y, dtype=np.float64) - offset[:T]) / scale[:T]
        return np.exp(y) if self.cfg.log else y

    @functools.cached_property
    def _affine(self) -> tuple[np.ndarray, np.ndarray]:
        """Every scaler here is ``x * scale + offset`` per column; read once from the fitted
        scalers, it costs a multiply-add per step instead of a scikit-learn call."""
        return self.est.input_affine()

    def to_json(self, y: np.ndarray) -> dict[str, list[float]]:
        """One forecast ``[H, T]`` in original units -> ``{target: [h values]}``."""
        return {name: y[:, j].tolist() for j, name in enumerate(self.cfg.target)}

    # -- online update ---------------------------------------------------------------------
    @property
    def train_config(self) -> TrainConfig:
        return self.cfg.train

    def check_updatable(self) -> None:
        if getattr(self.est, "quantization_", None):
            raise LstmkitError("an int8 model cannot be fine-tuned", "update the original float run, then export again")

    def update_data(self, new_data, holdout: float, batch_size: int) -> UpdateData:
        """The newest windows (those whose targets are the last points of ``new_data``) are held
        out; training windows stop ``horizon - 1`` windows before them, so no training target
        lies inside the held-out points. Scaled with the fitted scalers."""
        cfg = self.cfg
        X, Y = self.est.model_windows(new_data)
        n = len(X)
        rows = n + cfg.lookback + cfg.horizon - 1
        n_val = max(1, round(n * holdout))
        n_train = n - n_val - (cfg.horizon - 1)
        if n_train < 1:
            need = cfg.lookback + cfg.horizon + n_val + cfg.horizon - 1
            raise LstmkitError(f"too little new data for an update: {rows} rows, need at least {need}",
                               f"pass more rows (lookback {cfg.lookback} + horizon {cfg.horizon} + held-out points)")
        return UpdateData(train=WindowBatches(X[:n_train], Y[:n_train], batch_size=batch_size, shuffle=True),
                          holdout=[(X[-n_val:], Y[-n_val:])],
                          report={"units": "scaled", "rows": int(rows),
                                  "train_windows": int(n_train), "val_windows": int(n_val)})

    def updated(self) -> None:
        self.est.run_dir_ = None     # the weights no longer match the run folder (nor its model.onnx)


class TorchLstmStep:
    """The torch engine's state-mode step (a :class:`~lstmkit.deploy.adapter.FastStep`) for a
    forecaster with a one-directional LSTM encoder.

    Computes exactly what :class:`~lstmkit.deploy.streaming.TorchCore` over the stateful graph computes for one step (the
    same per-layer ``lstm_cell`` calls, then the head), without the module calls, the stacking
    of ``[L, 1, H]`` state, the numpy round trips and the scaler arrays of the general path:
    the weights are looked up once, a scalar observation is scaled with two precomputed floats,
    and the state stays per-layer ``(h, c)`` tensors between steps (numpy only on save).
    :meth:`build` returns None for any net it does not reproduce exactly (use the general path).
    """

    def __init__(self, adapter, net: torch.nn.Module):
        enc = net.encoder
        self.encode_row, self.input_size = adapter.encode_row, adapter.input_size
        scale, offset = adapter._affine
        T = len(adapter.cfg.target)
        self._scale0, self._offset0 = float(scale[0]), float(offset[0])
        self._out_scale, self._out_offset = scale[:T].copy(), offset[:T].copy()
        self._out_shape = (net.horizon, T)
        self._layers = [enc.layer_weights(k, 0) for k in range(enc.num_layers)]
        head = net.head
        self._head = head if type(head) is not torch.nn.Linear else None
        self._head_wb = (head.weight, head.bias) if self._head is None else None
        self._modules = (enc, net.dropout, head)               # eval mode is checked per step (ready)
        self.layers, self.hidden = enc.num_layers, enc.hidden_size
        zero = torch.zeros(1, enc.hidden_size)
        self.zero_state = tuple((zero, zero) for _ in range(enc.num_layers))

    @classmethod
    def build(cls, adapter) -> "TorchLstmStep | None":
        net = adapter.net
        if type(net) is not ForecastNet or net.relative or type(net.encoder) is not LSTM or adapter.cfg.log:
            return None
        if (net.highway is not None or net.segment or net.strategy != "direct" or net.embedding is not None
                or net.F or net.output.kind != "point"):
            return None                                        # only the plain direct forecaster
        enc = net.encoder
        if enc.bidirectional or type(net.dropout) is not torch.nn.Dropout:
            return None
        params = [p for w in (enc.layer_weights(k, 0) for k in range(enc.num_layers)) for p in w if p is not None]
        if any(p.device.type != "cpu" or p.dtype != torch.float32 for p in params):
            return None
        return cls(adapter, net)

    def encode(self, x_t: Any) -> torch.Tensor:
        """One observation -> model input ``[1, I]`` (errors as ``adapter.encode_row``)."""
        x = np.empty((1, self.input_size), np.float32)
        if (type(x_t) is float or type(x_t) is int) and self.input_size == 1 and abs(x_t) <= _FLOAT32_MAX:
            x[0, 0] = x_t * self._scale0 + self._offset0          # float64 multiply-add, float32 store
        else:
            x[0] = self.encode_row(x_t)
        return torch.from_numpy(x)

    def ready(self) -> bool:
        """False while any part of the net is in training mode (the general path then runs it)."""
        return not any(m.training for m in self._modules)

    def live(self, state: list[np.ndarray]) -> tuple:
        """Per-layer ``(h [1, H], c [1, H])`` from saved ``[L, 1, H]`` arrays (zeros if none)."""
        if not state:
            return self.zero_state
        h, c = (torch.from_numpy(np.array(a, dtype=np.float32)) for a in state)     # own, writable copies
        return tuple((h[k], c[k]) for k in range(self.layers))

    @staticmethod
    def arrays(live: tuple) -> list[np.ndarray]:
        """Per-layer state -> ``[h [L, 1, H], c [L, 1, H]]`` numpy arrays."""
        return [np.stack([s[j].numpy() for s in live]) for j in (0, 1)]

    def step(self, x: torch.Tensor, live: tuple) -> tuple[np.ndarray, tuple]:
        """One step: ``(forecast in original units, new state)``."""
        grad = torch.is_grad_enabled()
        torch._C._set_grad_enabled(False)
        try:
            inp, new = x, []
            for w, (h, c) in zip(self._layers, live):
                hc = _lstm_cell(inp, (h, c), *w)
                new.append(hc)
                inp = hc[0]
            y = _linear(inp, *self._head_wb) if self._head is None else self._head(inp)
        finally:
            torch._C._set_grad_enabled(grad)
        y = y.numpy().reshape(self._out_shape).astype(np.float64)
        return (y - self._out_offset) / self._out_scale, tuple(new)


class ForecastGraph(nn.Module):
    """A seed ensemble, or a net with a series embedding, as one graph:
    ``(x[, series], *state) -> (y, *state)``.

    Each member runs as a :class:`~lstmkit.deploy.stateful.StatefulNet` from its own state (its
    encoder tapped; the net's own ``forward`` unchanged); the state tensors hold the members'
    states one after another along the layer axis (``[members * layers, B, H]``), so streaming
    and ONNX carry them like one model's. ``y`` is the members' median
    (:class:`~lstmkit.tasks.forecast.ensemble.SeedEnsemble`'s, in eval mode), in the graph.
    With ``series`` the graph takes each window's series index ``[B]`` (int64) for the embedding."""

    def __init__(self, members: list[nn.Module], state_names: tuple[str, ...], series: bool = False):
        super().__init__()
        self.state_names = tuple(state_names)
        self.members = nn.ModuleList([StatefulNet(m, self.state_names) for m in members])
        self.layers = members[0].encoder.num_layers if self.state_names else 0   # zoo encoders without state lack it
        self.series = series

    def forward(self, x: torch.Tensor, *inputs: torch.Tensor):
        series, state = (inputs[0], inputs[1:]) if self.series else (None, inputs)
        L, n, outs, states = self.layers, len(self.state_names), [], []
        for k, member in enumerate(self.members):
            tap = member.net.encoder                                   # StatefulNet.forward, with the series
            own = tuple(s[k * L:(k + 1) * L] for s in state)
            tap.state_in = None if not own else own if n == 2 else own[0]
            outs.append(member.net(x, None, series))
            states.append(tap.state_out if n == 2 else (tap.state_out,))
        y = outs[0] if len(outs) == 1 else median_of(torch.stack(outs))
        if not n:
            return y
        return (y, *(torch.cat([st[j] for st in states], 0) for j in range(n)))


class ForecastOnnxNet(nn.Module):
    """A forecaster's ONNX graph behind the net's call ``(x, future=None, series=None) -> y``
    (zero state; ``future`` defaults to zeros, ``series`` to index 0), for ``predict``, the
    service and int8 scoring."""

    reads_series = True

    def __init__(self, runner: OnnxRunner):
        super().__init__()
        self.runner = runner
        self.takes_series = "series" in runner.extra_inputs
        self.takes_future = "future" in runner.extra_inputs

    def forward(self, x: torch.Tensor, future=None, series=None) -> torch.Tensor:
        x = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
        extra = {}
        if self.takes_future:                                         # None: zeros, as the net itself
            extra["future"] = future_array(self.runner, x, future)
        if self.takes_series:
            extra["series"] = (np.zeros(len(x), np.int64) if series is None
                               else np.ascontiguousarray(torch.as_tensor(series).cpu().numpy(), dtype=np.int64))
        y, _ = self.runner.run(x, **extra)
        return torch.from_numpy(y)


_lstm_cell = torch._VF.lstm_cell
_linear = torch._C._nn.linear


Adapter = ForecastAdapter          # what lstmkit.deploy.registry looks up
