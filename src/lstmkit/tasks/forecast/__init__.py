"""Forecasting: one or many series, point or probabilistic, with baselines, backtests and M4.

The estimators load on first use (:mod:`lstmkit.lazy`), so ``lstmkit.tasks.forecast.config``
and the CLI's ``--help`` do not import torch.
"""
from lstmkit.lazy import lazy_room

__all__ = ["Forecaster", "load"]
_HOMES = {"Forecaster": "estimator"}
__getattr__, load = lazy_room(__name__, _HOMES, loader="estimator:Forecaster.load")
