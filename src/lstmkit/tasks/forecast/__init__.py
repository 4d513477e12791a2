"""Forecasting: one or many series, point or probabilistic, with baselines, backtests and M4.

The estimators load on first use (:mod:`lstmkit.lazy`), so ``lstmkit.tasks.forecast.config``
and the CLI's ``--help`` do not import torch.
"""
from typing import TYPE_CHECKING

from lstmkit.lazy import lazy_room

if TYPE_CHECKING:                  # what type checkers and IDEs read; run time loads them on first use
    from lstmkit.tasks.forecast.estimator import Forecaster

__all__ = ["Forecaster", "load"]
_HOMES = {"Forecaster": "estimator"}
__getattr__, load = lazy_room(__name__, _HOMES, loader="estimator:Forecaster.load")
