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

import dataclasses
import functools
import itertools
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lstmkit.config import TrainConfig
from lstmkit.deploy.adapter import UpdateData, observation_row
from lstmkit.deploy.onnx_engine import load_runner
from lstmkit.deploy.int8_torch import swap_recurrent
from lstmkit.deploy.stateful import StatefulNet, recurrent_state_names
from lstmkit.errors import LstmkitError, callers_level, first_of, opt
from lstmkit.tasks.forecast import serving
from lstmkit.tasks.forecast.bounds import around_note
from lstmkit.tasks.forecast.intervals import SWAP, around_note as intervals_note, turned_off
from lstmkit.tasks.forecast.combine import GIVEN, active_combination
from lstmkit.tasks.forecast.ensemble import SeedEnsemble, ensemble_loss
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.tasks.forecast.export_graph import ForecastGraph, ForecastOnnxNet
from lstmkit.tasks.forecast.graphs import HorizonGraph, reads_horizon
from lstmkit.tasks.forecast.metrics import forecast_metrics
from lstmkit.tasks.forecast.scalers import far_outside_note, seasonal_profile, trend_weights
from lstmkit.tasks.forecast.stream_step import TorchLstmStep
from lstmkit.tasks.forecast.times import time_text
from lstmkit.tasks.forecast.windows import EVAL_BATCH, PanelBatches, part_sizes, uses_fractions
from lstmkit.tasks.forecast.streams import SeriesStreams, ZeroHistory, needs_series_streams

MASE_LIMIT = 0.03                # int8 may raise the test MASE (MAE) by at most 3 % to become the engine

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
        # the net and the interval widths fitted for it, taken as one pair: the service and the streams made from
        # this adapter answer from it (a kept update swaps both on the estimator; took apart, an answer paired the
        # old net with the new net's widths)
        self._net, self.widths = est._answering()

    @classmethod
    def load(cls, run: str | Path) -> ForecastAdapter:
        return cls(Forecaster.load(run))

    @property
    def net(self) -> nn.Module:
        """The net this adapter answers with: the estimator's when the adapter was made (its pair with
        :attr:`widths`), or the one an update through this adapter kept."""
        return self._net

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
                *self._covariates_note(),
                *(["logs: the graph reads and answers log values"] if c.log else []),
                *(["seasonal indices, estimated from the whole history given"] if c.deseason else []),
                *([f"the blend with {blend['baseline']} (weight {blend['weight']:.4g}), refitted on the history "
                   "given"] if (blend := active_combination(self.est)) else []),
                *([] if c.log else ["a target 0 throughout the history given forecasts 0 (as naive), not the "
                                    "graph's answer"]),
                *intervals_note(self.widths),
                *around_note(getattr(self.est, "bounds_", None))]

    def _covariates_note(self) -> list[str]:
        """The covariates' part of :attr:`around_graph`: which channels of ``x`` and ``future`` they are,
        and how they are scaled (none without covariates)."""
        est, T = self.est, len(self.cfg.target)
        names = list(est.input_names_)
        if len(names) <= T:
            return []
        user = len(self.cfg.future_covariates)
        future = names[T + est.n_past_:]
        return [f"covariates: x's channels after the target{'s' * (T > 1)} are {', '.join(names[T:])}"
                + (f", and future's {', '.join(future)} over the horizon" if future else "")
                + (f"; {', '.join(names[T:T + est.n_past_] + future[:user])} scaled by lstmkit.json's "
                   "preprocessing.covariate_scaler" if est.n_past_ + user else "")
                + ("; the calendar features made from the times (sin/cos pairs, 0/1 holidays)"
                   if len(future) > user else "")]

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
        """MAE / RMSE / MASE ... of ``net`` (any callable ``[B, L, I] -> [B, H, T]``) on the test part (the
        validation part of a run with none, ``test_size=0``: :attr:`scored_part` says which); None when
        the run was trained on in-memory data and no ``data`` is given (the int8 check then asks for it)."""
        found = self.est.test_forecast(net, data)    # per series; None for in-memory training data
        self.scored_part = "test"
        if found == []:
            found, self.scored_part = self.est.test_forecast(net, data, part="val"), "validation"
        if not found:
            return None
        self.scored_on = self._scored_on(found, data)
        each = [forecast_metrics(y_true, pred, y_train, season=self.est.season_) for y_true, pred, y_train, _ in found]
        return {k: float(np.mean([m[k] for m in each])) for k in each[0]}   # many series: the mean over them

    def _scored_on(self, found: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]], data) -> dict[str, Any]:
        """What :meth:`test_metrics` scored, for the int8 report's ``scored_on``: the part, the data, the
        split rule that cut it, the series and windows, and ``first_point`` (each series' first scored
        value, counted from its first point; ``[min, max]`` where the series differ), so the gate's
        number can be computed again."""
        cfg = self.est.config_
        source = data if data is not None else (self.est.data_summary_ or {}).get("source")
        n_val, n_test = part_sizes(0, cfg)[1:]
        rule = ({"val_frac": cfg.val_frac, "test_frac": cfg.test_frac} if uses_fractions(cfg)
                else {"val_size": n_val, "test_size": n_test})
        firsts = sorted({first for *_, first in found})
        return {"part": self.scored_part,
                "data": str(source) if isinstance(source, (str, Path)) else "data passed to export",
                "split": rule, "series": len(found), "windows": int(sum(len(y) for y, *_ in found)),
                "horizon": cfg.horizon, "first_point": firsts[0] if len(firsts) == 1 else [firsts[0], firsts[-1]]}

    def quality_data_fix(self) -> str:
        """What the int8 check asks for when the run has no series to score
        (:func:`~lstmkit.deploy.quantize.export_int8`)."""
        return f"pass {opt('data')} with the series the run was trained on (the MASE is judged on their test windows)"

    def quality_refusal(self, before: dict | None, after: dict | None) -> str | None:
        """Why an int8 model may not become the engine (None: its MASE is at most 3 % above the float
        model's; MAE where the MASE has no scale, a series held still in its training part). Relative:
        MASE and MAE are in no common units across runs, and int8 error grows with the forecast's."""
        part = getattr(self, "scored_part", "test")
        if not before or not after:
            return "no series to check the MASE on"
        key = "MASE" if np.isfinite(before.get("MASE", np.nan)) and before["MASE"] > 0 else "MAE"
        b, a = before[key], after.get(key, np.nan)
        rise = a / b - 1.0 if b > 0 else (0.0 if a == b else np.inf)
        if not rise <= MASE_LIMIT + 1e-12:                  # NaN (an int8 forecast that overflowed) is refused too
            return (f"{part} {key} rose {100 * rise:.2f} % ({b:.4g} -> {a:.4g}; limit {100 * MASE_LIMIT:.0f} %)")
        return None

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

    @property
    def loss_fn(self):
        """The loss the run was trained with: its output's (squared error, pinball, a likelihood's),
        over every member of a seed ensemble."""
        k = self.cfg.ensemble or 1
        return ensemble_loss(self.est.output_.loss, k) if k > 1 else self.est.output_.loss

    @property
    def loss_name(self) -> str:
        """What :attr:`loss_fn` is, as the update report names it."""
        kind = self.est.output_.kind
        return self.cfg.train.loss if kind == "point" else "pinball" if kind == "quantile" else f"{kind} NLL"

    def check_updatable(self) -> None:
        if getattr(self.est, "quantization_", None):
            raise LstmkitError("an int8 model cannot be fine-tuned", "update the original float run, then export again")

    def update_data(self, new_data, holdout: float, batch_size: int) -> UpdateData:
        """Windows of every series of ``new_data`` the model was trained on, cut as training cuts
        them (:class:`~lstmkit.tasks.forecast.windows.PanelBatches`: covariates over the horizon, the
        series index of an embedding) and scaled with the fitted scalers; logs as trained, and seasonal
        indices measured as ``predict`` measures them, on the series' own rows (those before its
        held-out points). Per series, the newest windows (those whose targets are its last points) are
        held out; its training windows stop ``horizon - 1`` windows before them, so no training
        target lies inside the held-out points."""
        cfg, est = self.cfg, self.est
        L, H = cfg.lookback, cfg.horizon
        # outside the bounds the user gave: refused, as fit does; gaps filled before the held-out points from
        # the points before them, so neither the update's training nor its verdict reads a held-out value early
        panel = est._read_for_use(new_data, bounded=True, split=lambda n: _held_out_from(n, L, H, holdout))
        index, new = _model_series(est, panel)
        cuts = {s: _update_split(int(panel.lengths[s]), L, H, holdout) for s in index}
        short = [s for s in index if cuts[s][1] < 1]
        if len(short) == len(index):      # before the windows are cut: fewer rows than one was the windows' own error
            longest = max(short, key=lambda s: int(panel.lengths[s]))
            rows = int(panel.lengths[longest])
            need = next(r for r in itertools.count(rows) if _update_split(r, L, H, holdout)[1] >= 1)
            of = "" if len(est.series_ids_) == 1 else f" of any series (the longest, {panel.ids[longest]!r})"
            fits = [f for f in (0.2, 0.1, 0.05) if f < holdout and _update_split(rows, L, H, f)[1] >= 1]
            smaller = f", or a smaller holdout ({opt('holdout', fits[0])})" if fits else ""   # the holdout took them
            raise LstmkitError(f"too little new data for an update: {rows} rows{of}, need at least {need}",
                               f"pass more rows (lookback {L} + horizon {H} + held-out points){smaller}")
        left_out = {"new": list(new), "too_short": [panel.ids[s] for s in short]}   # the report's, by id
        if short:
            warnings.warn(f"{len(short)} series have too few rows for an update (e.g. {panel.ids[short[0]]!r}: "
                          f"{int(panel.lengths[short[0]])}) and are left out of it; pass more rows of them",
                          UserWarning, stacklevel=callers_level())
            index = {s: k for s, k in index.items() if s not in short}
        first_held = {s: int(panel.lengths[s]) - H + 1 - cuts[s][0] for s in index}   # its first held-out point
        arrays = est._panel_arrays(panel, _update_profiles(est, panel, first_held))
        parts = {"train": ([], []), "holdout": ([], [])}
        for s, k in index.items():
            n_val, n_train = cuts[s]
            start, n_windows = int(panel.starts[s]), int(panel.lengths[s]) - L - H + 1
            for part, offsets in (("train", np.arange(n_train)), ("holdout", np.arange(n_windows - n_val, n_windows))):
                parts[part][0].append(offsets + start)
                parts[part][1].append(np.full(len(offsets), k))
        batches = {part: PanelBatches(arrays["inputs"], arrays["targets"], arrays["future"],
                                      torch.from_numpy(np.concatenate(r).astype(np.int64)),
                                      torch.from_numpy(np.concatenate(e).astype(np.int64)), L, H,
                                      batch_size if part == "train" else EVAL_BATCH, part == "train")
                   for part, (r, e) in parts.items()}
        # each series against its own newest time: series end at different times (a store's rows a week behind the
        # others' were refused as 'not after' the newest store's end), and step numbers of many series may count
        # each from its own start (an M4 file's: series A's new steps 121-180 were refused as 'not after 400')
        end = _check_newer(panel, first_held, _newest_read(est), getattr(est, "data_summary_", None) or {},
                           many=len(est.series_ids_) > 1)
        self._say_far_outside(panel, arrays, index)
        # the held-out windows by panel series (the batches' are the model's): a kept update refits the
        # intervals on them
        held = torch.from_numpy(np.concatenate(parts["holdout"][0]).astype(np.int64))
        self._held_out = (panel, arrays, held, torch.from_numpy(np.concatenate(
            [np.full(cuts[s][0], s) for s in index]).astype(np.int64)))
        return UpdateData(train=batches["train"], holdout=batches["holdout"],
                          report={"units": "scaled", "rows": int(sum(panel.lengths[s] for s in index)),
                                  **({"series": len(index), "model_series": len(est.series_ids_),
                                      "left_out": {k: v for k, v in left_out.items() if v}}
                                     if len(est.series_ids_) > 1 else {}),
                                  "train_windows": batches["train"].n_samples,
                                  "val_windows": batches["holdout"].n_samples, **end})

    def _say_far_outside(self, panel, arrays, index) -> None:
        """One warning for the first series whose update values lie far outside its training range
        (another unit), as ``predict`` warns of it; how many more, if any."""
        est, notes = self.est, []
        for s in index:
            r = panel.rows(s)
            note = far_outside_note(est.panel_scaler_, panel.ids[s], arrays["targets"][r].numpy(), panel.values[r],
                                    est._original_units, bool(self.cfg.deseason),
                                    subject=f"the update data's {int(panel.lengths[s])} values",
                                    answer="the updated model")
            if note is not None:
                notes.append(note)
        if notes:
            more = f" (and {len(notes) - 1} more series)" if len(notes) > 1 else ""
            warnings.warn(notes[0] + more, UserWarning, stacklevel=callers_level())

    def updated(self, net: nn.Module) -> None:
        self.intervals_note, fields = self._refit_intervals(net) or (None, {})   # fitted aside, set with the net
        self.est.run_dir_ = None     # the weights no longer match the run folder (nor its model.onnx),
        self.est.metrics_ = None     # nor its test metrics: the updated run writes no metrics.json of them
        with SWAP:                   # a predict meanwhile answers with the old net and the old net's widths
            for name, value in fields.items():
                setattr(self.est, name, value)
            self.est.net_ = net
            self._net, self.widths = self.est._answering()      # this adapter answers with the pair kept

    def _refit_intervals(self, net: nn.Module) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The interval calibration of the kept ``net``, refitted on the update's held-out windows (those that
        kept it), or dropped with the reason when they hold too few points: the widths fitted for the old
        weights are not theirs. ``({"value", "why"} for the update's report, the estimator's fields to set with the
        net)``; None when the run has no calibration to refit (point forecasts, turned off, a run saved before it)."""
        est = self.est
        chosen = (getattr(est, "auto_", None) or {}).get("calibrate_intervals")
        # None where turned off by the call (its record says so); one the call asked for that its validation
        # windows were too few to fit is refitted like any other
        if est.output_.kind == "point" or not isinstance(chosen, dict) or turned_off(chosen):
            return None
        record, why = est._interval_record(*self._held_out, net=net, part="held-out")
        note = {"value": record is not None, "why": ("refitted: " if record else "dropped: ") + why}
        said = {**note, **({GIVEN: True} if chosen.get(GIVEN) else {})}
        return note, {"intervals_": record,
                      "config_": est.config_ if chosen.get(GIVEN) else      # the call's word kept, as at fit
                      dataclasses.replace(est.config_, calibrate_intervals=record is not None),
                      "auto_": {**est.auto_, "calibrate_intervals": said}}


def _model_series(est, panel) -> tuple[dict[int, int], list[str]]:
    """``({panel series: the model's series index}, ids new to the model)``: the update data's series
    the model was trained on, and those left out with a warning (their scaler would come from these
    very rows, and an embedding has no row for them); data holding none of its series is an error."""
    if len(est.series_ids_) == 1 and est.config_.id is None:
        return {0: 0}, []                               # one series, read without an id column
    known = {sid: k for k, sid in enumerate(est.series_ids_)}
    index = {s: known[sid] for s, sid in enumerate(panel.ids) if sid in known}
    new = [sid for sid in panel.ids if sid not in known]
    if not index:
        raise LstmkitError(f"the update data holds none of the {len(known)} series the model was trained on "
                           f"({first_of(est.series_ids_, 3, repr)}); it holds {first_of(panel.ids, 3, repr)}",
                           "pass new rows of the model's series (the same ids), or train a new model on this data")
    if new:
        warnings.warn(f"{len(new)} series of the update data are new to the model ({first_of(new, 3, repr)}): left out of the "
                      "update (predict still forecasts them from their own history); train a new model to learn them",
                      UserWarning, stacklevel=callers_level())
    return index, new


def _update_profiles(est, panel, first_held: dict[int, int]) -> list[np.ndarray] | None:
    """Seasonal indices ``[m, T]`` of each series of ``panel`` (``--deseason m``; None when off),
    measured as ``predict`` measures them, on the series' own rows: those before its held-out
    points, so the verdict reads none of its own points through them. Too few such rows to measure
    every phase's index (one season's moving average, then a season) is an error."""
    m = est.config_.deseason
    if not m:
        return None
    need = len(trend_weights(m)) + m - 1
    out = []
    for s in range(len(panel.ids)):
        n = first_held.get(s, int(panel.lengths[s]))
        if s in first_held and n < need:
            raise LstmkitError(f"too little new data for an update of a run with seasonal indices ({opt('deseason', m)}): "
                               f"series {panel.ids[s]!r} has {n} rows before its held-out points, and measuring "
                               f"the index of every phase takes {need}",
                               f"pass at least {need + int(panel.lengths[s]) - n} rows of it")
        out.append(seasonal_profile(est._model_units(panel.values[panel.rows(s)][:n], panel, s), m))
    return out


def _held_out_from(rows: int, lookback: int, horizon: int, holdout: float) -> tuple[int, ...]:
    """The row of a series of ``rows`` rows where an update's held-out points begin (none: too short)."""
    n_val, n_train = _update_split(rows, lookback, horizon, holdout)
    first = rows - horizon + 1 - n_val
    return (first,) if n_train >= 1 and 0 < first < rows else ()


def _update_split(rows: int, lookback: int, horizon: int, holdout: float) -> tuple[int, int]:
    """``(held-out, training)`` windows of an update on ``rows`` rows: the newest ``holdout`` of
    its windows (one at least) held out, and the ``horizon - 1`` before them left out, so no
    training target lies among the held-out points."""
    n = max(0, rows - lookback - horizon + 1)
    n_val = max(1, round(n * holdout))
    return n_val, n - n_val - (horizon - 1)


def _newest_read(est) -> tuple[dict[str, tuple[str | int, str]], tuple[str | int, str] | None]:
    """The newest time the model has read, and where (its training data or a kept update's): per series
    (``{id: (time, where)}``, recorded as ``ends`` from this lstmkit on for many series), and of all its data
    (``end``: a series without its own record is compared with it; None for a run recorded before it, without
    times, or of many series numbered by steps). A rolled-back update left the weights as they were, so its
    data is not read: a retry may pass it again."""
    summary = getattr(est, "data_summary_", None) or {}
    by_id = {sid: (t, "its training data") for sid, t in (summary.get("ends") or {}).items()}
    overall = None if summary.get("end") is None else (summary["end"], "its training data")
    for i, update in enumerate(getattr(est, "lineage_", None) or []):
        if update.get("accepted"):
            where = f"update {i + 1}'s data"
            by_id.update({sid: (t, where) for sid, t in (update.get("ends") or {}).items()})
            overall = (update["end"], where) if update.get("end") is not None else overall
    return by_id, overall


def _check_newer(panel, first_held: dict[int, int],
                 newest: tuple[dict[str, tuple[str | int, str]], tuple[str | int, str] | None],
                 run: dict[str, Any] | None = None, many: bool = False) -> dict[str, Any]:
    """What the update records of its data's times: ``end``, its newest time (of one series, or of many
    by dates), and, of a many-series model (``many``), ``ends``, each series' own; ``{}`` without times.
    Each series is compared with the newest point the model has read of it (``newest``, from
    :func:`_newest_read`): data none of whose series ends after it is an error (it would be fine-tuned, and
    judged, on points it has read already); a warning when a series' held-out points, from its row
    ``first_held[s]`` on, start at or before it (the verdict reads some of those points). Times are said
    on the clock of the run's data (``run``, its data summary): its UTC offset written, as the file wrote
    them."""
    if panel.times is None or not len(panel.times):
        return {}
    shown = functools.partial(_on_its_clock, run=run or {})
    times = {s: panel.times[panel.rows(s)] for s in first_held}
    newest_row = max(t[-1] for t in times.values())
    record: dict[str, Any] = {"end": time_text(newest_row)} if not many or panel.is_datetime else {}
    if many:
        record["ends"] = panel.ends(first_held)
    by_id, overall = newest
    seen = {}                                         # series: (the newest time the model has read of it, where)
    for s in first_held:
        got = by_id.get(panel.ids[s], overall)
        last = None if got is None else np.datetime64(got[0]) if isinstance(got[0], str) else got[0]
        if last is not None and isinstance(last, np.datetime64) == panel.is_datetime:   # else dates against steps
            seen[s] = (last, got[1])
    if not seen:
        return record
    if len(seen) == len(first_held) and all(times[s][-1] <= last for s, (last, _) in seen.items()):
        s = max(seen, key=lambda s: times[s][-1])
        last, where = seen[s]
        if len({last for last, _ in seen.values()}) == 1:        # one newest time for all: the data's end says it
            raise LstmkitError(f"the update data ends {shown(newest_row)}, not after {shown(last)}, the newest point "
                               f"the model has read ({where}): it would be fine-tuned and judged on points it has "
                               "read already", f"pass rows newer than {shown(last)} (the data that arrived since), "
                               "or train a new model on this data")
        raise LstmkitError(f"no series of the update data ends after the newest point the model has read of it: "
                           f"series {panel.ids[s]!r} ends {shown(times[s][-1])}, not after {shown(last)} ({where})"
                           + (f", and {len(seen) - 1} more series alike" if len(seen) > 1 else "") +
                           ": it would be fine-tuned and judged on points it has read already",
                           "pass each series' rows newer than the model has read of it (the data that arrived "
                           "since), or train a new model on this data")
    early = [s for s, (last, _) in seen.items() if times[s][first_held[s]] <= last]
    if early:
        s = early[0]
        last, where = seen[s]
        which = "" if len(panel.ids) == 1 else f"series {panel.ids[s]!r}'s " + (
            f"(and {len(early) - 1} more series') " if len(early) > 1 else "")
        warnings.warn(f"the update's {which}held-out points start {shown(times[s][first_held[s]])}, not after "
                      f"{shown(last)}, the newest point the model has read of it ({where}): the verdict reads "
                      "points it has read already; pass more rows newer than it, or a smaller holdout",
                      UserWarning, stacklevel=callers_level())
    return record


def _on_its_clock(t, run: dict[str, Any]) -> str | int:
    """A panel time as a message says it: a date of data read in UTC (times written with an offset) on
    the zone's clock with its offset (``2024-03-31T03:00:00+02:00``; it read ``2024-03-31T01:00:00``, a
    time the user's file never wrote); local dates, step numbers and a run without a zone as they are."""
    zone = run.get("time_zone")
    if zone and run.get("time_clock") == "utc" and isinstance(t, np.datetime64):
        import pandas as pd
        return pd.Timestamp(t).tz_localize("UTC").tz_convert(zone).isoformat()
    return time_text(t)


Adapter = ForecastAdapter          # what lstmkit.deploy.registry looks up
