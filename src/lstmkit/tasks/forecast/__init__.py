"""Forecasting: one or many series, point or probabilistic, with baselines, backtests and M4."""
from __future__ import annotations

__all__ = ["load"]


def load(run):
    """The fitted :class:`~lstmkit.tasks.forecast.estimator.Forecaster` saved in ``run`` (what :func:`lstmkit.load` calls)."""
    from lstmkit.tasks.forecast.estimator import Forecaster
    return Forecaster.load(run)
