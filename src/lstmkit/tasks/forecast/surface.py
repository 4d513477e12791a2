"""The public surface a deploy adapter (export, int8, streaming, serving, online update) uses.

Mixed into :class:`~lstmkit.tasks.forecast.estimator.Forecaster`. Deployment feeds the network
windows of scaled input rows and reads its point forecast, one affine map on each side; that
holds for a run of one series with point forecasts, the direct strategy and no inputs over the
horizon. :meth:`deploy_problem` names what stands in the way for any other run.

=============================  ==================================================================
``deploy_problem()``           None, or why this run cannot be exported / streamed / updated
``check_deployable(what)``     the same as one LstmkitError line
``input_names_``               model input columns: targets, then covariates (``features``)
``input_affine()``             ``(scale, offset) [C]``: model input row = original row * scale + offset
``to_original(y)``             scaled point forecasts ``[..., H, T]`` -> original units
``model_inputs(data)``         scaled input rows ``[N, C]`` (float32) of the one series in ``data``
``model_windows(data)``        ``(X [n, L, C], Y [n, H, T])`` scaled windows of it, in time order
``point_forecast(X, net)``     the network's scaled point forecast ``[n, H, T]`` of windows ``X``
``test_windows(data=None)``    ``(X, y_true, y_train)`` of the test part (None: no data available)
=============================  ==================================================================
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.panel import read_panel
from lstmkit.tasks.forecast.pipeline import EVAL_BATCH as _BATCH
from lstmkit.tasks.forecast.windows import min_points, part_sizes, split_panel

__all__ = ["DeploySurface"]


class DeploySurface:
    """What an adapter needs from a fitted forecaster (see the module docstring)."""

    def deploy_problem(self) -> str | None:
        """Why this run cannot be exported, streamed or updated window by window (None: it can)."""
        self._check_fitted()
        cfg = self.config_
        if getattr(self, "combination_", None):
            return f"it blends the network's forecast with {self.combination_['baseline']}'s (--combine)"
        if len(self.series_ids_) != 1:
            return f"it was trained on {len(self.series_ids_)} series"
        if self.output_.kind != "point":
            return "it forecasts quantiles or a distribution"
        if cfg.strategy != "direct":
            return f"it uses the {cfg.strategy} strategy"
        if cfg.log:
            return "it models log values (--log)"
        if cfg.deseason:
            return "it removes seasonal indices (--deseason)"
        if (cfg.ensemble or 1) > 1:
            return f"it forecasts the median of {cfg.ensemble} seeds (--ensemble)"
        if self.n_future_:
            return "it reads future covariates or calendar features over the horizon"
        if cfg.id_embedding:
            return "it has a series embedding (--id-embedding)"
        return None

    def check_deployable(self, what: str) -> None:
        problem = self.deploy_problem()
        if problem is not None:
            raise LstmkitError(f"{what} supports single-series point-forecast runs with the direct strategy; "
                               f"this run cannot: {problem}", "use 'lstmkit forecast predict' with this run")

    def input_affine(self) -> tuple[np.ndarray, np.ndarray]:
        """``(scale, offset)``, each ``[C]``: a model input row is ``row * scale + offset``."""
        self.check_deployable("deployment")
        loc, sc = self.panel_scaler_.get(self.series_ids_[0])
        scale, offset = [1.0 / sc], [-loc / sc]
        if self.covariate_scaler_ is not None:
            n = self.n_past_
            zero = self.covariate_scaler_.transform(np.zeros((1, n)))[0]
            scale.append(self.covariate_scaler_.transform(np.ones((1, n)))[0] - zero)
            offset.append(zero)
        return np.concatenate(scale), np.concatenate(offset)

    def to_original(self, y) -> np.ndarray:
        """Scaled point forecasts ``[..., H, T]`` (network units) -> original units (float64)."""
        self.check_deployable("deployment")
        loc, sc = self.panel_scaler_.get(self.series_ids_[0])
        return np.asarray(y, dtype=np.float64) * sc + loc

    def model_inputs(self, data) -> np.ndarray:
        """Scaled network inputs ``[N, C]`` (float32, columns as ``input_names_``) of ``data``'s one series."""
        self._check_fitted()
        panel = read_panel(data, self.config_, need=None)
        if len(panel.ids) != 1:
            raise LstmkitError(f"the data holds {len(panel.ids)} series, and this takes one",
                               "pass the rows of one series")
        return self._panel_arrays(panel)["inputs"].numpy()

    def model_windows(self, data) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X [n, L, C], Y [n, H, T])``: every scaled window of ``data``'s one series, oldest first."""
        from lstmkit.data.windows import make_windows
        cfg = self.config_
        x = torch.from_numpy(self.model_inputs(data))
        return make_windows(x, x[:, :len(cfg.target)], cfg.lookback, cfg.horizon)

    def point_forecast(self, x: torch.Tensor, net=None) -> np.ndarray:
        """Scaled point forecasts ``[n, H, T]`` (float64) of ``net`` (default ``net_``) for windows ``x``."""
        self.check_deployable("deployment")
        net = self.net_ if net is None else net
        with torch.no_grad():
            out = [net(x[k:k + _BATCH]) for k in range(0, len(x), _BATCH)]
        if not out:
            return np.zeros((0, self.config_.horizon, len(self.config_.target)))
        return torch.cat([torch.as_tensor(o) for o in out]).numpy().astype(np.float64)

    def test_windows(self, data=None):
        """``(X [n, L, C], y_true [n, H, T], y_train [n_train, T])`` of the test part (original
        units for ``y``), or None when the run was trained on in-memory data and no ``data`` is given."""
        self._check_fitted()
        source = data if data is not None else (self.data_summary_ or {}).get("source")
        if source is None or (isinstance(source, (str, Path)) and not Path(source).is_file()):
            return None
        cfg = self.config_
        panel = read_panel(source, cfg, need=min_points(cfg))
        if len(panel.ids) != 1:
            raise LstmkitError(f"the data holds {len(panel.ids)} series, and this takes one",
                               "pass the rows of one series")
        rows, _ = split_panel(panel, cfg)["test"]
        X = self._panel_arrays(panel)["inputs"][rows[:, None] + torch.arange(cfg.lookback)]
        tgt = (rows.numpy() + cfg.lookback)[:, None] + np.arange(cfg.horizon)[None]
        return X, panel.values[tgt], panel.values[:part_sizes(int(panel.lengths[0]), cfg)[0]]
