"""Forecasting under ``lstmkit compare`` and ``lstmkit tune``."""
from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import torch

from lstmkit.config import TrainConfig
from lstmkit.tasks.forecast.checks import check_config
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks import no_study_data
from lstmkit.tasks.forecast.data import load_table
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.train.bench import (QUIET, VALIDATION_PART, Trial, ZooBench, choice, describe_source, float_range,
                                 int_range, make_trial, trial_shown)
from lstmkit.train.callbacks import Callback

__all__ = ["BENCH", "ForecastBench", "SEARCH_SPACE", "TUNE_SHARED", "tune_keys", "tune_check", "tune_trial",
           "tune_settings", "tune_loss_label"]


class ForecastBench(ZooBench):
    """Forecasting under ``compare``: :class:`~lstmkit.tasks.forecast.estimator.Forecaster` per
    model and seed, test metrics in original units, naive / seasonal-naive / ETS as references.

    ``options`` are Forecaster hyper-parameters (``lookback``, ``horizon``, ``hidden_size``, ...,
    and the data's ``id`` and ``format``) plus the data's ``target``, ``time``, ``features``.
    """

    name = "forecast"
    metrics = ("MASE", "MAE", "RMSE", "sMAPE")
    higher_is_better = False

    def __init__(self, data, target: str | list[str] | None = None, time: str | None = None,
                 features: str | list[str] | None = None, **options: Any):
        # an M4 file is read from its path (its wide rows become long there); any other table once, here
        self.frame = data if options.get("format") == "m4" else load_table(data)
        self.source = describe_source(data)
        self.columns = {"target": target, "time": time, "features": features}
        self.options = {k: v for k, v in options.items() if v is not None}
        self._references: dict[str, dict[str, float]] = {}
        # the columns and settings, checked before any model trains: a missing target column failed
        # each model's trial in turn, after the warm-up's training (and a `--text` read as a setting too)
        Forecaster(**{**self.options, **QUIET}).check(self.frame, **{k: v for k, v in self.columns.items()
                                                                     if v is not None})

    def run(self, model: str, seed: int, epochs: int) -> Trial:
        est = Forecaster(**{**self.options, "model": model, "seed": seed, "max_epochs": epochs, **trial_shown(self)})
        est.fit(self.frame, **self.columns)
        cfg, summary, history = est.config_, est.data_summary_, est.result_.history
        # the columns the first fit found (as `forecast train`: a table's one date column is its time,
        # its one value column the target), named for the models after it and the report
        self.columns.update(target=cfg.target, time=cfg.time)
        # what the data chose (as `forecast train` chooses it) and what the metrics rest on: the table
        # named neither, so a MASE over 2 test points read like one over 2,000
        self._chosen = {"lookback": cfg.lookback, "horizon": cfg.horizon, "test_points": est.metrics_.get("test_points")}
        metrics = est.metrics_["metrics"]
        if not self._references:
            self._references = {k: v for k, v in metrics.items() if k != model}
        net = est.net_.to("cpu").eval()
        n_inputs = len(cfg.target) + len(cfg.features)
        gen = torch.Generator().manual_seed(0)
        make = lambda b: torch.rand(b, cfg.lookback, n_inputs, generator=gen)  # noqa: E731
        return make_trial(model, seed, net, history, summary["windows"]["train"], make(1), make(256),
                          make(cfg.train.batch_size), {k: float(metrics[model][k]) for k in self.metrics},
                          # chosen per fit on validation, so per model and seed: which rows are the network
                          # alone and which a blend with a baseline (trials.json named neither)
                          {"best_epoch": est.result_.best_epoch, "combine": cfg.combine, "lr": cfg.train.lr})

    def reference_rows(self) -> dict[str, dict[str, float]]:
        return {k: {m: float(v[m]) for m in self.metrics} for k, v in self._references.items()}

    def describe(self) -> dict[str, Any]:
        rows = len(self.frame) if isinstance(self.frame, pd.DataFrame) else None
        return {"data": self.source, "rows": rows, **self.columns, **self.options, **getattr(self, "_chosen", {})}


BENCH = ForecastBench

# -- tune ---------------------------------------------------------------------------------------
SEARCH_SPACE: dict[str, Any] = {
    "hidden_size": int_range(16, 128, log=True), "num_layers": int_range(1, 3), "dropout": float_range(0.0, 0.5),
    "lr": float_range(1e-4, 1e-2, log=True), "lookback": choice(24, 48, 96), "batch_size": choice(16, 32, 64, 128)}

_UNITS = "the units the validation loss is measured in (the network's scaled, adjusted target)"
TUNE_SHARED = {"target": "what is forecast", "horizon": "how many steps each validation window is scored over",
               "likelihood": "the loss the validation loss is", "quantiles": "the loss the validation loss is",
               "scaler": _UNITS, "log": _UNITS, "deseason": _UNITS, "season": _UNITS, "relative": _UNITS,
               **dict.fromkeys(("val_frac", "val_size", "test_frac", "test_size", "fill", "strict"), VALIDATION_PART)}


def tune_keys() -> set[str]:
    """The settings a search space may name."""
    train = {f.name for f in dataclasses.fields(TrainConfig)}
    return {f.name for f in dataclasses.fields(ForecastConfig)} - {"train"} | train


def tune_check(params: dict[str, Any]) -> None:
    """Fail before the first trial on settings or data no trial could use."""
    params = dict(params)
    data = params.pop("data", None)
    if data is None:
        raise no_study_data("FILE.csv")
    Forecaster(**params).check(str(data))


def tune_settings(params: dict[str, Any]) -> None:
    """Check the settings in ``params`` as the Forecaster does, without reading the data: its config's
    checks, and those its fit makes before reading a file whose target is named."""
    cfg = Forecaster(**{k: v for k, v in params.items() if k != "data"}).config
    if cfg.format == "long" and cfg.target:
        check_config(cfg)


def tune_loss_label(params: dict[str, Any]) -> str:
    """The validation loss the trials of ``params`` report, as the config names it (history.png's axis)."""
    return Forecaster(**{k: v for k, v in params.items() if k != "data"}).config.loss_label()


def tune_trial(params: dict[str, Any], callback: Callback) -> float:
    """Train with ``params``; the best validation loss (``callback`` sees every epoch)."""
    params = dict(params)
    data = params.pop("data")
    est = Forecaster(**params).fit(str(data), callbacks=[callback])
    return est.result_.best_val_loss
