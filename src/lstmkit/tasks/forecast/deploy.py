"""Forecasting's deploy adapter: the :class:`~lstmkit.deploy.adapter.DeployAdapter` of a
:class:`~lstmkit.tasks.forecast.estimator.Forecaster` (ONNX, int8, streaming, HTTP, update).

The graph is the network alone (``x [B, L, C] -> y [B, H, T]``, or ``[B, H, T, P]`` for
quantiles and distributions); logs and seasonal indices stay in Python around it
(:mod:`lstmkit.tasks.forecast.surface`), and so does a blend with a baseline (``--combine``,
:mod:`lstmkit.tasks.forecast.combine`), fitted on each forecast's history. A seed ensemble
exports as one graph (:class:`~lstmkit.tasks.forecast.export_graph.ForecastGraph`): every member
from its own state, then their median; a net with a series embedding takes the series index as a
second input, ``series [B]``. A net that rolls out
(recursive), decodes (seq2seq) or reads covariates over the horizon exports as
:class:`~lstmkit.tasks.forecast.graphs.HorizonGraph`, ``(x[, future][, series]) -> y`` without
carried state. The service's request and answer are in :mod:`lstmkit.tasks.forecast.serving`; a stream of a
run with many series, seasonal indices, quantiles or a blend keeps what ``predict`` reads around
the network per stream (:mod:`lstmkit.tasks.forecast.streams`, :meth:`ForecastAdapter.stream_extra`);
a plain LSTM run steps through :class:`~lstmkit.tasks.forecast.stream_step.TorchLstmStep` on the
torch engine, and the ONNX engine answers through
:class:`~lstmkit.tasks.forecast.export_graph.ForecastOnnxNet`.

:mod:`lstmkit.deploy.registry` finds it by the run's task name (``Adapter`` below); the
estimator reaches it the same way, so this module may import the estimator and not the reverse.
It is the one place where the deploy features touch the Forecaster's internals.
"""
from __future__ import annotations

import functools
import itertools
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lstmkit.config import TrainConfig
from lstmkit.data.windows import WindowBatches
from lstmkit.deploy.adapter import UpdateData, observation_row
from lstmkit.deploy.onnx_engine import load_runner
from lstmkit.deploy.int8_torch import swap_recurrent
from lstmkit.deploy.stateful import StatefulNet, recurrent_state_names
from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast import serving
from lstmkit.tasks.forecast.bounds import around_note
from lstmkit.tasks.forecast.combine import active_combination
from lstmkit.tasks.forecast.ensemble import SeedEnsemble
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.tasks.forecast.export_graph import ForecastGraph, ForecastOnnxNet
from lstmkit.tasks.forecast.graphs import HorizonGraph, reads_horizon
from lstmkit.tasks.forecast.metrics import forecast_metrics
from lstmkit.tasks.forecast.scalers import far_outside_note
from lstmkit.tasks.forecast.stream_step import TorchLstmStep
from lstmkit.tasks.forecast.times import time_text
from lstmkit.tasks.forecast.streams import SeriesStreams, ZeroHistory, needs_series_streams

__all__ = ["Adapter", "ForecastAdapter"]


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
        self._reach: dict = {}                                   # series -> PanelScaler.reach, for streams

    @classmethod
    def load(cls, run: str | Path) -> ForecastAdapter:
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

    @property
    def around_graph(self) -> list[str]:
        """What lstmkit applies around the exported graph, in every engine's ``predict``, ``evaluate``,
        service and stream, and the graph run on its own (onnxruntime by hand) does not: the graph
        reads one scaled window, so it cannot tell a history of zeros, nor its series' scale."""
        c = self.cfg
        return ["per-series scaling: the graph reads scaled windows and answers in scaled units",
                *(["logs: the graph reads and answers log values"] if c.log else []),
                *(["seasonal indices, estimated from the whole history given"] if c.deseason else []),
                *([f"the blend with {blend['baseline']} (weight {blend['weight']:.4g}), refitted on the history "
                   "given"] if (blend := active_combination(self.est)) else []),
                *([] if c.log else ["a target 0 throughout the history given forecasts 0 (as naive), not the "
                                    "graph's answer"]),
                *around_note(getattr(self.est, "bounds_", None))]

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

    def answer_many(self, net: nn.Module, requests: list[dict[str, Any]]) -> list[dict[str, Any] | LstmkitError]:
        """Several service requests answered together: one network call (see :mod:`.serving`)."""
        return serving.answer_many(self, net, requests)

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

    def stream_mark(self) -> ZeroHistory:
        """A plain run's stream keeps per target whether it was ever nonzero: a stream of zeros
        forecasts 0, as ``predict`` does (the other runs' :class:`SeriesStreams` keep it themselves)."""
        return ZeroHistory(self)

    def stream_json(self, answer) -> dict[str, Any]:
        """One stream step's answer -> the WebSocket message's fields: ``{"forecast": {target: [h]}}``,
        and for a probabilistic run ``"quantiles": {level: {target: [h]}}`` and ``"levels"``."""
        if not isinstance(answer, dict):
            return {"forecast": self.to_json(answer)}
        q = answer["quantiles"]
        return {"forecast": self.to_json(answer["forecast"]), "levels": answer["levels"],
                "quantiles": {f"{level:g}": self.to_json(q[:, :, k]) for k, level in enumerate(answer["levels"])}}

    def far_outside_notes(self, seen: np.ndarray, series=None, raw: np.ndarray | None = None) -> list[str]:
        """A stream step's warnings (``[]``: none): ``predict``'s far-outside warning of the scaled rows
        ``seen [k, I]`` its answer read (state mode: the observation; window mode: the window) of
        ``series`` (default: the run's one series); ``raw [k, T]``: their targets in original units
        (default: unscaled from ``seen``, a plain run's one affine map)."""
        est, T = self.est, len(self.cfg.target)
        sid = est.series_ids_[0] if series is None else series
        reach = self._reach.get(sid)
        if reach is None:
            low, high = est.panel_scaler_.reach(sid) or (np.full(T, -np.inf), np.full(T, np.inf))
            reach = self._reach[sid] = (low, high, float(low[0]), float(high[0]))
        if T == 1 and len(seen) == 1:                             # a streamed value: ~1 us (a step: ~100)
            if reach[2] < seen[0, 0].item() < reach[3]:
                return []
        elif not ((seen[:, :T] <= reach[0]) | (seen[:, :T] >= reach[1])).any():
            return []
        z = seen[:, :T]
        z = np.asarray(z, np.float64)
        if raw is None:
            loc, sc = est.panel_scaler_.get(sid)
            raw = est._original_units(loc + z * sc)
        subject = "the value just streamed" if len(z) == 1 else f"the last {len(z)} values streamed"
        note = far_outside_note(est.panel_scaler_, sid, z, raw, est._original_units, bool(self.cfg.deseason), subject)
        return [] if note is None else [note]

    def encode_row(self, obs: Any) -> np.ndarray:
        """One observation (number, list in column order, or ``{column: value}``) -> scaled ``[I]``."""
        a = observation_row(obs, self.columns)
        return self.encode_rows(a)[0]

    def encode_rows(self, rows: np.ndarray) -> np.ndarray:
        """Rows ``[N, I]`` in original units, columns in :attr:`columns` order -> scaled float32
        (the targets' logs with ``--log``: a value at or below zero is an LstmkitError)."""
        scale, offset = self.affine
        return (self.est.model_units_rows(rows) * scale + offset).astype(np.float32)

    def decode(self, y: np.ndarray) -> np.ndarray:
        """Scaled point outputs ``[..., H, T]`` -> original units (float64) of a plain run (one series,
        no seasonal indices; the others stream through :meth:`stream_extra`)."""
        T = len(self.cfg.target)
        scale, offset = self.affine
        y = (np.asarray(y, dtype=np.float64) - offset[:T]) / scale[:T]
        return np.exp(y) if self.cfg.log else y

    @functools.cached_property
    def affine(self) -> tuple[np.ndarray, np.ndarray]:
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
        cfg, est = self.cfg, self.est
        panel = est.one_series(new_data, bounded=True)      # outside the bounds the user gave: refused, as fit does
        rows = int(panel.lengths[0])
        n_val, n_train = _update_split(rows, cfg.lookback, cfg.horizon, holdout)
        if n_train < 1:                   # before the windows are cut: fewer rows than one was the windows' own error
            need = next(r for r in itertools.count(rows) if _update_split(r, cfg.lookback, cfg.horizon, holdout)[1] >= 1)
            raise LstmkitError(f"too little new data for an update: {rows} rows, need at least {need}",
                               f"pass more rows (lookback {cfg.lookback} + horizon {cfg.horizon} + held-out points)")
        X, Y = est.model_windows(panel)
        times = panel.times
        if times is not None and len(times):
            _check_newer(times, len(X) - n_val + cfg.lookback, _newest_read(est))
        z = torch.cat([X[0, :, :len(cfg.target)], Y[0], Y[1:, -1]]).numpy()    # every row as the network reads it
        note = far_outside_note(est.panel_scaler_, panel.ids[0], z, panel.values, est._original_units, False,
                                subject=f"the update data's {len(z)} values", answer="the updated model")
        if note is not None:
            warnings.warn(note, UserWarning, stacklevel=4)
        end = {} if times is None or not len(times) else {"end": time_text(times[-1])}
        return UpdateData(train=WindowBatches(X[:n_train], Y[:n_train], batch_size=batch_size, shuffle=True),
                          holdout=[(X[-n_val:], Y[-n_val:])],
                          report={"units": "scaled", "rows": int(rows),
                                  "train_windows": int(n_train), "val_windows": int(n_val), **end})

    def updated(self) -> None:
        self.est.run_dir_ = None     # the weights no longer match the run folder (nor its model.onnx)


def _update_split(rows: int, lookback: int, horizon: int, holdout: float) -> tuple[int, int]:
    """``(held-out, training)`` windows of an update on ``rows`` rows: the newest ``holdout`` of
    its windows (one at least) held out, and the ``horizon - 1`` before them left out, so no
    training target lies among the held-out points."""
    n = max(0, rows - lookback - horizon + 1)
    n_val = max(1, round(n * holdout))
    return n_val, n - n_val - (horizon - 1)


def _newest_read(est) -> tuple[str | int, str] | None:
    """The newest time the model has read, and where: its last update's data or its training data
    (``end``, recorded from this lstmkit on; None for a run recorded before, or without times)."""
    for i, update in enumerate(reversed(getattr(est, "lineage_", None) or [])):
        if update.get("end") is not None:
            return update["end"], f"update {len(est.lineage_) - i}'s data"
    end = (getattr(est, "data_summary_", None) or {}).get("end")
    return None if end is None else (end, "its training data")


def _check_newer(times: np.ndarray, first_held: int, newest: tuple[str | int, str] | None) -> None:
    """An update's data must end after the newest point the model has read (an error: it would be
    fine-tuned, and judged, on points it has read already); a warning when its held-out points,
    from row ``first_held`` on, start at or before it (the verdict reads some of those points)."""
    if newest is None:
        return
    seen, where = newest
    last = np.datetime64(seen) if isinstance(seen, str) else seen
    if isinstance(last, np.datetime64) != np.issubdtype(times.dtype, np.datetime64):
        return                                        # dates against step numbers: nothing to compare
    if times[-1] <= last:
        raise LstmkitError(f"the update data ends {time_text(times[-1])}, not after {seen}, the newest point the "
                           f"model has read ({where}): it would be fine-tuned and judged on points it has read already",
                           f"pass rows newer than {seen} (the data that arrived since), or train a new model on "
                           "this data")
    if times[first_held] <= last:
        warnings.warn(f"the update's held-out points start {time_text(times[first_held])}, not after {seen}, the "
                      f"newest point the model has read ({where}): the verdict reads points it has read already; "
                      "pass more rows newer than it, or a smaller holdout", UserWarning, stacklevel=5)


Adapter = ForecastAdapter          # what lstmkit.deploy.registry looks up
