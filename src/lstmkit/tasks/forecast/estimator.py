"""``Forecaster``: the scikit-learn-style Python API for time-series forecasting.

>>> f = Forecaster(lookback=24, horizon=6, max_epochs=20).fit("sales.csv", target="units", time="date")
>>> f.evaluate("sales.csv")["lstm"]["MASE"]           # test part, original units, with baselines
>>> f.predict("sales.csv")                            # the next 6 steps after the data's end
>>> f.save("runs/sales"); Forecaster.load("runs/sales")
"""
from __future__ import annotations

import dataclasses
import time as _time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from lstmkit import __version__
from lstmkit.config import ForecastConfig, flatten_config as _flatten, split_train_params
from lstmkit.data.scaling import Scaler
from lstmkit.data.windows import WindowBatches, make_windows
from lstmkit.errors import LstmkitError
from lstmkit.inspect.plots import plot_forecast, plot_history
from lstmkit.nn.blocks import HEADS
from lstmkit.nn.zoo import ENCODERS
from lstmkit.runs import (FORMAT_VERSION, META_FILE, WEIGHTS_FILE, new_run_dir, read_meta, read_run,
                          save_tensors, write_json)
from lstmkit.tasks.forecast.baselines import baseline_forecasts, infer_season
from lstmkit.tasks.forecast.data import Series, load_table, prepare_series, split_sizes, split_window_indices
from lstmkit.tasks.forecast.metrics import forecast_metrics
from lstmkit.tasks.forecast.model import ForecastNet
from lstmkit.tasks.forecast.panel_estimator import GlobalMixin, validate_global
from lstmkit.train import Trainer, TrainingInterrupted, TrainResult, distributed

__all__ = ["Forecaster"]

TASK = "forecast"
_RESUME_FREE = {"progress", "tensorboard", "doctor", "device"}   # how it runs and shows, not what it learns
_EVAL_BATCH = 1024


class Forecaster(GlobalMixin):
    """Train an LSTM-family forecaster on a table and compare it with naive, seasonal-naive and ETS.

    Hyper-parameters are those of :class:`~lstmkit.config.ForecastConfig` and
    :class:`~lstmkit.config.TrainConfig` (``lookback``, ``horizon``, ``model``, ``hidden_size``,
    ``max_epochs``, ``lr``, ``seed``, ...), passed as keyword arguments.

    Fitted attributes: ``config_``, ``net_``, ``target_scaler_``, ``feature_scaler_``,
    ``result_`` (training history), ``metrics_`` (test metrics beside baselines), ``data_summary_``.

    Many series (``id="store"``, or ``format="m4"``), covariates (``past_covariates``,
    ``future_covariates``, ``calendar``), probabilistic output (``quantiles``, ``likelihood``) and the
    ``recursive`` / ``seq2seq`` strategies train one global network over every series instead
    (:mod:`lstmkit.tasks.forecast.panel_estimator`); fitted state then adds ``panel_scaler_``
    (per-series scaling), ``series_ids_`` and ``output_``.
    """

    def __init__(self, **params: Any):
        self.config = _config_from_params(params)

    # -- fitting -------------------------------------------------------------------------
    def fit(self, data, target: str | list[str] | None = None, time: str | None = None,
            features: str | list[str] | None = None, out: str | Path | None = None,
            run_dir: str | Path | None = None, resume: bool = False, callbacks=(),
            id: str | None = None) -> "Forecaster":
        """Train on ``data`` (path, DataFrame or array).

        With ``out`` a new run folder ``out/forecast-<timestamp>`` is created once the data has
        passed every check (``run_dir`` names the folder exactly instead); it receives history,
        checkpoints and TensorBoard events while training, then model, metrics and plots.
        Ctrl-C raises :class:`~lstmkit.train.TrainingInterrupted` after the last finished epoch
        is checkpointed; ``Forecaster.resume(run_dir)`` continues from there. ``callbacks`` are
        :class:`~lstmkit.train.callbacks.Callback` objects handed to the trainer (e.g. tuning's pruner).
        """
        cfg = dataclasses.replace(self.config, train=dataclasses.replace(self.config.train))
        if target is not None:
            cfg.target = _names(target)
        if time is not None:
            cfg.time = time
        if features is not None:
            cfg.features = _names(features)
        if id is not None:
            cfg.id = id
        if cfg.is_global:
            validate_global(cfg)
            _validate(cfg)
            return self._fit_global(data, cfg, out=out, run_dir=run_dir, resume=resume, callbacks=callbacks)
        _validate(cfg)
        series = _prepare(data, cfg)
        n_train, n_val, n_test = split_sizes(len(series.values), cfg.lookback, cfg.horizon,
                                             cfg.val_frac, cfg.test_frac)
        self.target_scaler_ = Scaler(cfg.scaler).fit(series.values[:n_train])
        self.feature_scaler_ = Scaler(cfg.scaler).fit(series.features[:n_train]) if series.features.shape[1] else None
        X, Y = self._windows(series, cfg)
        train_idx, val_idx, _ = split_window_indices(len(series.values), cfg.lookback, cfg.horizon, n_train, n_val)

        torch.manual_seed(cfg.train.seed)
        self.net_ = ForecastNet(X.shape[-1], Y.shape[-1], cfg.horizon, cfg.model, cfg.hidden_size,
                                cfg.num_layers, cfg.dropout, cfg.relative, cfg.head)
        self.config_ = cfg
        self.season_ = cfg.season or infer_season(series.time, len(series.values))
        self.data_summary_ = {**series.summary(), "source": _source(data),
                              "split": {"train": n_train, "val": n_val, "test": n_test}}
        trainer = Trainer(cfg.train)     # validates device and loss (and joins DDP) before any folder exists
        main = distributed.is_main()     # under torchrun only rank 0 writes the run folder
        if run_dir is None and out is not None:
            run_dir = distributed.broadcast_str(str(new_run_dir(out, TASK)) if main else None, trainer.device)
        self.run_dir_ = Path(run_dir) if run_dir is not None else None
        trainer = Trainer(cfg.train, run_dir=self.run_dir_, callbacks=callbacks)
        if self.run_dir_ is not None and not resume and main:
            self._write_meta(self.run_dir_, status="training")

        train_batches = WindowBatches(*_rows(X, Y, train_idx), batch_size=cfg.train.batch_size, shuffle=True)
        val_batches = WindowBatches(*_rows(X, Y, val_idx), batch_size=_EVAL_BATCH, shuffle=False)
        try:
            self.result_: TrainResult = trainer.fit(self.net_, train_batches, val_batches, resume=resume)
        except TrainingInterrupted:
            if self.run_dir_ is not None and main:
                self._write_meta(self.run_dir_, status="interrupted")
            raise
        self.net_.to("cpu").eval()
        self.metrics_ = self._test_metrics(series, n_train, n_val)
        if self.run_dir_ is not None and main:
            self._plots(self.run_dir_, series, n_train, n_val)
            self.save(self.run_dir_)     # last: "finished" in lstmkit.json means the folder is complete
        distributed.barrier()            # the run folder is complete before any rank moves on
        return self

    @classmethod
    def resume(cls, run_dir: str | Path, data=None, **overrides: Any) -> "Forecaster":
        """Continue an interrupted or killed run from its last checkpoint (same config, same data).

        ``overrides`` may change how the run is shown, not what it computes: ``progress``,
        ``tensorboard``, ``doctor``; any other setting that differs from the run's is an error.
        """
        meta = read_meta(run_dir, TASK)
        if meta.get("status") == "finished":
            raise LstmkitError(f"{run_dir} already finished training", "start a new run instead of --resume")
        saved = _flatten(meta["config"])
        for key, value in overrides.items():
            if value is None or key in _RESUME_FREE:
                continue
            if key not in saved:
                raise LstmkitError(f"unknown setting {key!r}", "check the spelling")
            if saved[key] != value and not (key in ("target", "features") and _names(value) == saved[key]):
                raise LstmkitError(
                    f"{run_dir} was trained with {key}={saved[key]!r}, not {value!r}; a resumed run "
                    f"must keep its settings (the checkpoint is for that model)",
                    f"drop --{key.replace('_', '-')} to resume, or start a new run without --resume")
        est = cls(**{**saved, **{k: v for k, v in overrides.items() if k in _RESUME_FREE and v is not None}})
        source = data if data is not None else meta["data"].get("source")
        if source is None:
            raise LstmkitError(f"{run_dir} was trained on in-memory data", "pass the data again with --data")
        return est.fit(source, run_dir=run_dir, resume=True)

    # -- using a fitted model -----------------------------------------------------------
    def predict(self, data, engine: str = "auto") -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the end of ``data`` (original units).

        ``engine``: ``torch``, ``onnx`` (the run's exported graph, via onnxruntime) or ``auto``
        (the engine an int8 export chose, else a current ``model.onnx`` if any, else torch).

        Returns one row per future step: ``step``, the timestamp (when the data has a time
        column) and one column per target.
        """
        self._check_fitted()
        cfg = self.config_
        if cfg.is_global:
            if engine not in ("auto", "torch"):
                raise LstmkitError("many-series / probabilistic runs predict with the torch engine only",
                                   "drop --engine or pass --engine torch")
            return self._predict_global(data)
        series = _prepare(data, cfg)
        if len(series.values) < cfg.lookback:
            raise LstmkitError(f"need at least {cfg.lookback} rows (the lookback) to forecast, got {len(series.values)}",
                               "pass more history")
        inputs = self._inputs(series)[-cfg.lookback:]                    # [L, T+F]
        from lstmkit.deploy.onnx import engine_net
        from lstmkit.deploy.registry import adapter_class
        net = engine_net(adapter_class(TASK)(self), engine, getattr(self, "run_dir_", None))
        with torch.no_grad():
            y = net(torch.from_numpy(inputs).unsqueeze(0))[0].numpy()  # [H, T]
        values = self.target_scaler_.inverse_transform(y.astype(np.float64))
        out = pd.DataFrame({"step": np.arange(1, cfg.horizon + 1)})
        if series.time is not None:
            out.insert(0, series.time_name or "time", _future_times(series.time, series.freq, cfg.horizon))
        for j, name in enumerate(cfg.target):
            out[name] = values[:, j]
        return out

    def evaluate(self, data) -> dict[str, dict[str, float]]:
        """Test-part metrics of this model beside naive, seasonal-naive and ETS, on the same points.

        ``data`` is split chronologically with the fractions used in training.
        """
        self._check_fitted()
        cfg = self.config_
        if cfg.is_global:
            return self._evaluate_global(data)
        series = _prepare(data, cfg)
        n_train, n_val, _ = split_sizes(len(series.values), cfg.lookback, cfg.horizon, cfg.val_frac, cfg.test_frac)
        return self._test_metrics(series, n_train, n_val)["metrics"]

    def test_forecasts(self, data) -> dict[str, Any]:
        """Every test window's forecast in original units, for your own metrics.

        Returns ``{"actual": [n, H, T], "forecast": [n, H, T], "origins": [n]`` (index of the last
        observed point within its series) ``, "ids": [n]}`` (series of each window; many-series
        runs) and, for probabilistic runs, ``"quantiles": [n, H, T, Q]`` with ``"levels"``.
        """
        self._check_fitted()
        cfg = self.config_
        if cfg.is_global:
            return self._test_forecasts_global(data)
        series = _prepare(data, cfg)
        n_train, n_val, _ = split_sizes(len(series.values), cfg.lookback, cfg.horizon, cfg.val_frac, cfg.test_frac)
        origins, y_true, preds = self._test_predictions(series, n_train, n_val)
        return {"actual": y_true, "forecast": preds[cfg.model], "origins": origins,
                "ids": np.array(["series"] * len(origins), dtype=object)}

    def backtest(self, data, folds: int = 3, step: int | None = None, refit: bool = False,
                 out: str | Path | None = None) -> dict[str, Any]:
        """Rolling-origin evaluation (:mod:`lstmkit.tasks.forecast.backtest`): ``folds`` cutoffs
        ``step`` points apart (default: the horizon) at the end of every series.

        A fitted Forecaster forecasts every fold with its weights unless ``refit``; an unfitted one
        trains once before the first cutoff (or per fold with ``refit``). With ``out`` the folder
        receives ``backtest.csv``, ``backtest.json`` and ``plots/backtest.png``.
        """
        from lstmkit.tasks.forecast.backtest import backtest
        fitted = hasattr(self, "net_")
        params = None if fitted else {**_flatten(self.config.to_dict())}
        return backtest(self if fitted else None, data, folds=folds, step=step, refit=refit, out=out, params=params)

    # -- deployment (lstmkit.deploy) -----------------------------------------------------
    def stream(self, mode: str = "auto", engine: str = "auto", max_streams: int | None = None):
        """A :class:`lstmkit.deploy.Stream`: ``step(x_t, id)`` -> forecast ``[horizon, targets]``.

        ``mode``: ``state`` (carry (h, c): the whole history), ``window`` (the last lookback
        steps, exact for relative models) or ``auto``; ``engine`` as in :meth:`predict`."""
        from lstmkit.deploy.registry import adapter_class
        from lstmkit.deploy.streaming import make_stream
        self._check_fitted()
        self._check_single("stream")
        return make_stream(adapter_class(TASK)(self), mode, engine, getattr(self, "run_dir_", None), max_streams)

    def update(self, new_data, epochs: int = 5, lr: float | None = None, holdout: float = 0.2) -> "Forecaster":
        """Fine-tune on recent data with a small learning rate; rolled back if the error on the
        newest points gets worse. The report is ``last_update_`` (and ``lineage_`` once saved)."""
        from lstmkit.deploy.online import fine_tune
        from lstmkit.deploy.registry import adapter_class
        self._check_single("update")
        self.last_update_ = fine_tune(adapter_class(TASK)(self), new_data, epochs=epochs, lr=lr, holdout=holdout)
        self.lineage_ = [*getattr(self, "lineage_", []), self.last_update_]
        return self

    # -- persistence ---------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the run folder: ``model.safetensors`` then ``lstmkit.json`` (and metrics, history)."""
        self._check_fitted()
        if getattr(self, "quantization_", None):
            raise LstmkitError("an int8 model is written by 'lstmkit export int8', not saved",
                               "save the float model, then export it again")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        save_tensors(path / WEIGHTS_FILE, self.net_.state_dict(), metadata={"format": "pt"})
        if getattr(self, "metrics_", None):
            write_json(path / "metrics.json", self.metrics_)
        self._write_meta(path, status="finished")
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Forecaster":
        """Load a finished run folder. Nothing is unpickled: weights come from safetensors."""
        meta, weights = read_run(path, TASK)
        try:
            est = cls(**_flatten(meta["config"]))
            cfg = est.config
            if meta["model"].get("class") == "GlobalForecastNet":
                est._load_global(meta)
                return est._finish_load(path, meta, weights)
            pre = meta["preprocessing"]
            est.config_ = cfg
            est.target_scaler_ = Scaler.from_dict(pre["target_scaler"])
            est.feature_scaler_ = Scaler.from_dict(pre["feature_scaler"]) if pre.get("feature_scaler") else None
            est.season_ = meta["season"]
            est.data_summary_ = meta["data"]
            shapes = meta["model"]
            est.net_ = ForecastNet(shapes["n_inputs"], shapes["n_targets"], cfg.horizon, cfg.model,
                                   cfg.hidden_size, cfg.num_layers, cfg.dropout, cfg.relative, cfg.head)
        except (KeyError, TypeError) as e:
            raise LstmkitError(f"{path}/{META_FILE} is missing or has a malformed entry ({e})",
                               "the file was edited or damaged; retrain the model") from None
        return est._finish_load(path, meta, weights)

    def _finish_load(self, path, meta, weights) -> "Forecaster":
        est = self
        try:
            if meta.get("quantization", {}).get("torch"):       # int8 run from lstmkit.deploy
                from lstmkit.deploy.quantize import load_quantized
                est.net_ = load_quantized(est.net_, weights)
            else:
                est.net_.load_state_dict(weights, strict=True)
        except (RuntimeError, KeyError) as e:
            first = str(e).splitlines()[0]
            raise LstmkitError(f"{path}/{WEIGHTS_FILE} does not match the model in {META_FILE} ({first})",
                               "the two files come from different runs; retrain the model") from None
        est.net_.eval()
        est.run_dir_ = Path(path)
        est.quantization_ = meta.get("quantization")
        est.engine_ = (est.quantization_ or {}).get("engine")
        est.lineage_ = meta.get("lineage", [])
        return est

    # -- internals ---------------------------------------------------------------------
    def _check_single(self, what: str) -> None:
        self._check_fitted()
        if self.config_.is_global:
            raise LstmkitError(f"{what} supports single-series point-forecast runs only, and this run is "
                               "many-series / probabilistic", "use predict on the full history instead")

    def _check_fitted(self) -> None:
        if not hasattr(self, "net_"):
            raise LstmkitError("this Forecaster is not fitted yet", "call fit(...) or Forecaster.load(run)")

    def _inputs(self, series: Series) -> np.ndarray:
        """Scaled model inputs [N, T+F] (targets first), float32."""
        parts = [self.target_scaler_.transform(series.values)]
        if self.feature_scaler_ is not None:
            parts.append(self.feature_scaler_.transform(series.features))
        return np.concatenate(parts, axis=1).astype(np.float32)

    def _windows(self, series: Series, cfg: ForecastConfig):
        inputs = torch.from_numpy(self._inputs(series))
        targets = inputs[:, : len(cfg.target)]
        return make_windows(inputs, targets, cfg.lookback, cfg.horizon)

    def _predict_windows(self, X: torch.Tensor, idx: torch.Tensor) -> np.ndarray:
        out = []
        with torch.no_grad():
            for s in range(0, len(idx), _EVAL_BATCH):
                out.append(self.net_(X[idx[s:s + _EVAL_BATCH]]))
        y = torch.cat(out).numpy().astype(np.float64)                   # [n, H, T] scaled
        return self.target_scaler_.inverse_transform(y)

    def _test_predictions(self, series: Series, n_train: int, n_val: int):
        cfg = self.config_
        X, _ = self._windows(series, cfg)
        *_, test_idx = split_window_indices(len(series.values), cfg.lookback, cfg.horizon, n_train, n_val)
        origins = test_idx.numpy() + cfg.lookback - 1                   # last observed point
        steps = origins[:, None] + np.arange(1, cfg.horizon + 1)[None]  # [n, H]
        y_true = series.values[steps]                                   # [n, H, T]
        preds = {cfg.model: self._predict_windows(X, test_idx)}
        preds.update(baseline_forecasts(series.values, origins, cfg.horizon, self.season_, n_train + n_val))
        return origins, y_true, preds

    def _test_metrics(self, series: Series, n_train: int, n_val: int) -> dict[str, Any]:
        origins, y_true, preds = self._test_predictions(series, n_train, n_val)
        y_train = series.values[:n_train]
        metrics = {name: forecast_metrics(y_true, p, y_train, season=self.season_) for name, p in preds.items()}
        return {"metrics": metrics, "horizon": self.config_.horizon, "season": self.season_,
                "test_points": int(y_true.shape[0] * y_true.shape[1]), "targets": self.config_.target,
                "units": "original"}

    def _plots(self, run_dir: Path, series: Series, n_train: int, n_val: int) -> None:
        plots = run_dir / "plots"
        plot_history(self.result_.history, plots / "loss.png", self.result_.best_epoch)
        origins, y_true, preds = self._test_predictions(series, n_train, n_val)
        x = series.time if series.time is not None else np.arange(len(series.values))
        first = origins[0] + 1
        hist_from = max(0, first - max(len(origins), self.config_.lookback))   # as much history as test
        name = self.config_.target[0]
        plot_forecast(x[hist_from:first], series.values[hist_from:first, 0], x[origins + 1], y_true[:, 0, 0],
                      {k: v[:, 0, 0] for k, v in preds.items()}, plots / "forecast.png",
                      title=f"{name}: one step ahead on the test part", ylabel=name)

    def _write_meta(self, run_dir: Path, status: str) -> None:
        cfg = self.config_
        meta = {
            "format_version": FORMAT_VERSION, "lstmkit_version": __version__, "task": TASK,
            "status": status, "written": _time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "config": cfg.to_dict(),
            "season": self.season_,
            "data": self.data_summary_,
        }
        if cfg.is_global:
            meta.update(self._global_meta())
        else:
            meta.update(self._single_meta())
        if getattr(self, "lineage_", None):          # online updates since training
            meta["lineage"] = self.lineage_
        result = getattr(self, "result_", None)
        if result is not None:
            meta["training"] = {"epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
                                "best_val_loss": result.best_val_loss, "stopped_early": result.stopped_early}
        write_json(run_dir / META_FILE, meta)

    def _single_meta(self) -> dict[str, Any]:
        cfg = self.config_
        return {
            "preprocessing": {
                "target_scaler": self.target_scaler_.to_dict(),
                "feature_scaler": self.feature_scaler_.to_dict() if self.feature_scaler_ is not None else None,
            },
            "model": {"class": "ForecastNet", "n_inputs": len(cfg.target) + len(cfg.features),
                      "n_targets": len(cfg.target),
                      "parameters": sum(p.numel() for p in self.net_.parameters())},
        }


def _rows(X: torch.Tensor, Y: torch.Tensor, idx: torch.Tensor):
    """The windows of one split as views (split indices are contiguous), so shuffling needs
    only a permutation of the split, not an index tensor per window."""
    lo, hi = (int(idx[0]), int(idx[-1]) + 1) if len(idx) else (0, 0)
    return X[lo:hi], Y[lo:hi]


def _names(v: str | list[str]) -> list[str]:
    names = [s.strip() for s in v.split(",")] if isinstance(v, str) else [str(s) for s in v]
    return [n for n in names if n]


def _config_from_params(params: dict[str, Any]) -> ForecastConfig:
    params, train = split_train_params(params)
    for key in ("target", "features"):
        if isinstance(params.get(key), str):
            params[key] = _names(params[key])
    return ForecastConfig.from_dict({**params, "train": train})


def _validate(cfg: ForecastConfig) -> None:
    for name in ("lookback", "horizon", "hidden_size", "num_layers"):
        v = getattr(cfg, name)
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise LstmkitError(f"`{name}` must be a positive integer, got {v!r}", f"pass --{name.replace('_', '-')} 1 or more")
    if cfg.model not in ENCODERS:
        raise LstmkitError(f"unknown model {cfg.model!r}", f"use one of: {', '.join(ENCODERS)}")
    if cfg.head not in HEADS:
        raise LstmkitError(f"unknown head {cfg.head!r}", f"use one of: {', '.join(HEADS)}")
    if not cfg.target:
        raise LstmkitError("no target column given", "pass --target COLUMN (or several, comma-separated)")
    if not 0.0 <= cfg.dropout < 1.0:
        raise LstmkitError(f"`dropout` must be in [0, 1), got {cfg.dropout}", "pass --dropout 0.2, say")
    t = cfg.train
    if t.max_epochs < 1 or t.batch_size < 1:
        raise LstmkitError("`max_epochs` and `batch_size` must be at least 1", "pass --epochs N with N >= 1")
    if not t.lr > 0:
        raise LstmkitError(f"`lr` must be positive, got {t.lr}", "pass --lr 1e-3, say")


def _prepare(data, cfg: ForecastConfig) -> Series:
    df = load_table(data)
    return prepare_series(df, cfg.target, time=cfg.time, features=cfg.features or None, fill=cfg.fill)


def _source(data) -> str | None:
    return str(Path(data).resolve()) if isinstance(data, (str, Path)) else None


def _future_times(index: pd.DatetimeIndex, freq: str | None, horizon: int) -> pd.DatetimeIndex:
    if freq is not None:
        return pd.date_range(index[-1], periods=horizon + 1, freq=freq)[1:]
    step = pd.Series(index).diff().median()       # irregular series: the typical step
    return pd.DatetimeIndex([index[-1] + step * k for k in range(1, horizon + 1)])
