"""``Forecaster``: the scikit-learn-style Python API for time-series forecasting.

>>> f = Forecaster(lookback=24, horizon=6, max_epochs=20).fit("sales.csv", target="units", time="date")
>>> f.evaluate("sales.csv")["lstm"]["MASE"]           # test part, original units, with baselines
>>> f.predict("sales.csv")                            # the next 6 steps after the data's end
>>> f.save("runs/sales"); Forecaster.load("runs/sales")
"""
from __future__ import annotations

import copy
import difflib
import numbers
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Self, Unpack, overload

import numpy as np
import pandas as pd

from lstmkit.config import flatten_config as _flatten
from lstmkit.data.textfile import row_place
from lstmkit.estimator_params import public_call
from lstmkit.errors import BadValue, LstmkitError, named_opt, opt, worded
from lstmkit.runs import META_FILE
from lstmkit.tasks._base import RunEstimator
from lstmkit.tasks.forecast.auto import AUTO_FIELDS, auto_defaults
from lstmkit.tasks.forecast.checks import check_blend, check_config, check_loss, check_part_sizes
from lstmkit.tasks.forecast.columns import dated, index_time
from lstmkit.tasks.forecast.combine import GIVEN
from lstmkit.tasks.forecast.config import ForecastConfig, ForecastFitParams, ForecastParams, check_given
from lstmkit.tasks.forecast.data import load_table, numbers_or_none, plain_data
from lstmkit.tasks.forecast.evaluation import panel_metrics
from lstmkit.tasks.forecast.fastpath import engine_net_cached, one_window
from lstmkit.tasks.forecast.intervals import SWAP, checked_record
from lstmkit.tasks.forecast.panel import read_panel
from lstmkit.tasks.forecast.pipeline import PanelPipeline
from lstmkit.tasks.forecast.surface import DeploySurface
from lstmkit.tasks.forecast.integer_times import month_number, period_columns, period_time
from lstmkit.tasks.forecast.m4 import m4_settings
from lstmkit.tasks.forecast.times import date_columns
from lstmkit.tasks.forecast.tsffile import is_tsf, tsf_settings
from lstmkit.tasks.forecast.use_warnings import say_rough
from lstmkit.tasks.forecast.windows import min_points, split_panel
from lstmkit.tasks.forecast.zones import same_zone

if TYPE_CHECKING:
    from lstmkit.deploy.streaming import Stream

__all__ = ["Forecaster"]

TASK = "forecast"
RUN_FORMAT = 2        # forecast run folders: 1 = separate single-series ForecastNet, 2 = one pipeline


class Forecaster(PanelPipeline, DeploySurface, RunEstimator):
    """Train an LSTM-family forecaster on a table and compare it with naive, seasonal-naive and ETS.

    Hyper-parameters: a :class:`~lstmkit.tasks.forecast.config.ForecastConfig` and/or any of its
    fields and :class:`~lstmkit.config.TrainConfig`'s as keyword arguments (listed below;
    ``target`` and ``features`` may be comma-separated strings).

    One pipeline for one series and for many (a single series is a panel of one): every option
    -- ``deseason``, ``log``, ``highway``, ``segment``, the ``mase`` scaler, covariates
    (``features`` / ``past_covariates``, ``future_covariates``, ``calendar``), probabilistic output
    (``quantiles``, ``likelihood``), the ``direct`` / ``recursive`` / ``seq2seq`` strategies, the
    ``bounds`` forecasts keep to (``(0, 100)``, ``(0, None)``, ``"auto"``: a floor at 0 for a target never
    below 0, ``"none"``; :mod:`lstmkit.tasks.forecast.bounds`) -- works the same for both. The split
    rule is in :mod:`lstmkit.tasks.forecast.windows` (one series: ``val_frac`` / ``test_frac``; many:
    one horizon each, or ``val_size`` / ``test_size``).

    Fitted attributes: ``config_``, ``net_`` (:class:`~lstmkit.tasks.forecast.model.ForecastNet`),
    ``panel_scaler_`` (per-series scaling), ``covariate_scaler_``, ``series_ids_``, ``output_``, ``bounds_``,
    ``input_names_`` (model input columns), ``n_features_in_`` / ``feature_names_in_`` (the columns
    it reads per step: targets, past and future covariates; not time, id or calendar features; an
    array's are ``y`` or ``y0``, ``y1``, ..., read by position), ``result_`` (training history), ``metrics_`` (test
    metrics beside baselines), ``data_summary_``, ``auto_`` (the settings chosen from the data,
    each ``{"value", "why"}``, and what was measured; see :mod:`lstmkit.tasks.forecast.auto`).

    scikit-learn's protocol: ``score(data)`` is minus the test part's MASE. A loaded model's
    settings (``get_params``, ``clone``) are the call that trained it, as its run records one
    config: the columns given to ``fit`` (``target``, ``time``, ``features``, ...) are settings
    there, so ``clone(loaded).fit(data)`` trains on the same columns; the settings chosen from the
    data are left unset (chosen again).
    """

    _ANSWERS = ("predict(data), its forecasts of the steps ahead (quantiles=[0.1, 0.5, 0.9] trains interval "
                "forecasts), scored by evaluate(data)")
    TASK = TASK
    _INPUT_TAGS = {"one_d_array": True}     # a series (1-D) or a table
    CONFIG = ForecastConfig
    # combine is chosen after training (on the validation windows): a run interrupted while
    # scoring recorded the choice, and its resume chooses again; the intervals are calibrated after
    # training too, so a resume may turn that on or off
    _RESUME_FREE = RunEstimator._RESUME_FREE | {"combine", "calibrate_intervals"}

    if TYPE_CHECKING:   # for type checkers only: RunEstimator.stream runs, and gives this kind of stream here
        def stream(self, mode: str = "auto", engine: str = "auto", max_streams: int | None = None) -> Stream: ...

    def __init__(self, config: ForecastConfig | None = None, **params: Unpack[ForecastParams]) -> None:
        super().__init__(config, **params)     # here to type the parameters (RunEstimator's docstring)

    if TYPE_CHECKING:   # set_params (EstimatorParams') takes the constructor's keywords, typed as it types them
        def set_params(self, **params: Unpack[ForecastParams]) -> Self: ...

    @classmethod
    def _check_given(cls, given, settings) -> None:
        check_given(given, settings)        # val_frac beside val_size, or beside many series

    @classmethod
    def _build_config(cls, params: dict[str, Any]) -> ForecastConfig:
        params = {k: _column_name(_names_given(k, v)) if k in ("target", "features", "time", "id") else v
                  for k, v in params.items()}
        for key in ("target", "features"):
            if isinstance(params.get(key), (str, list, tuple)):
                params[key] = _names(params[key])
        if isinstance(params.get("time"), (list, tuple)):   # two columns: ["Date", "Time"], ["year", "month"]
            params["time"] = _time_pair(params["time"])
        return ForecastConfig.from_dict(params)

    # -- fitting -------------------------------------------------------------------------
    def fit(self, data, target: str | int | list | None = None, time: str | int | list | None = None,
            features: str | int | list | None = None, out: str | Path | None = None,
            run_dir: str | Path | None = None, resume: bool = False, callbacks=(),
            id: str | int | None = None, **overrides: Unpack[ForecastFitParams]) -> Forecaster:
        """Train on ``data`` (path, DataFrame or array).

        ``target`` and ``features`` are column names (a list, or one text with commas); an integer
        names a DataFrame's integer column (``pd.DataFrame(array)``), as its text does (``target=1``
        is ``target="1"``), for ``time`` and ``id`` too. ``time`` may name two columns read as one
        time: a date and a time of day (``["Date", "Time"]``), or a year and a month or quarter.

        ``overrides`` are settings for this fit (``lookback=``, ``max_epochs=``, …), checked as
        the constructor checks them; the estimator's own settings (``get_params``) stay as they are.
        With ``out`` a new run folder ``out/forecast-<timestamp>`` is created once the data has
        passed every check (``run_dir`` names the folder exactly instead); it receives history,
        checkpoints and TensorBoard events while training, then model, metrics and plots.
        Ctrl-C raises :class:`~lstmkit.train.TrainingInterrupted` after the last finished epoch
        is checkpointed; ``Forecaster.resume(run_dir)`` (or ``fit`` with ``resume=True`` and that
        ``run_dir``) continues from there. ``callbacks`` are :class:`~lstmkit.train.callbacks.Callback`
        objects handed to the trainer (e.g. tuning's pruner).
        """
        with self._fit_or_unchanged():        # a failed fit leaves the estimator as it was
            columns = {"target": target, "time": time, "features": features, "id": id}
            given = {k: v for k, v in columns.items() if v is not None}
            cfg = self._resolve_config(self.config, {**given, **overrides})
            # the fractions left unset (None) are the fit's to settle, and to grow to hold a horizon; a loaded
            # model (its clone, a refit) leaves them unset again, as this call did: lstmkit.json's call settings
            left = {k: None for k in ("val_frac", "test_frac") if getattr(cfg, k) is None}
            with self._reading_resumed(run_dir if resume else None, {"source": data}, load_table):
                cfg, table, auto = self._with_auto(cfg, data)
            if left:
                self._chose_from_data(**left)
            if auto or not resume:           # a resumed run keeps the choices it recorded when none is made again
                self.auto_ = auto
            return self._fit_panel(table, cfg, out=out, run_dir=run_dir, resume=resume, callbacks=callbacks,
                                   source=data)

    def check(self, data, **overrides: Any) -> None:
        """Check the settings (``overrides``, as :meth:`fit` takes them) and read ``data`` as :meth:`fit`
        would, without training (same errors)."""
        with public_call():
            cfg = self._resolve_config(self.config, overrides)
            cfg, table, _ = self._with_auto(cfg, data)
            read_panel(table, cfg, need=min_points(cfg), bounds=cfg.bounds)

    def _with_auto(self, cfg: ForecastConfig, data) -> tuple[ForecastConfig, Any, dict[str, Any]]:
        """``cfg`` checked, with the settings left unset chosen from the training part of ``data``
        (:mod:`lstmkit.tasks.forecast.auto`).

        Returns the config, the data to go on with (a file in the long format is read here, once,
        and its table serves the implied target, the choices and the fit) and the choices with
        their reasons (``auto_`` once fitted: a refit's own, never a loaded run's)."""
        if cfg.format == "long" and cfg.target:
            check_config(cfg)              # before the file is read when the target is named, as the fit did
            check_loss(cfg)
            check_blend(cfg)
        found = {}
        if cfg.format in ("long", "wide"):
            index_id = implied_index_id(data, cfg) if cfg.format == "long" else {}
            data = _read_once(data)
            found = tsf_settings(cfg, data)            # a .tsf file names its columns, horizon and frequency
            if found is None:
                found = {}
                if index_id:                   # before the time and the target: neither is the id
                    cfg.id, found = index_id["id"]["value"], dict(index_id)
                if cfg.time is None:
                    cfg.time, named = implied_time(data, cfg)
                    if cfg.time is None:       # a date index: named and recorded, so predict orders by it too
                        cfg.time, named = index_time(data)
                    found = {**found, **named}
                if not cfg.target and cfg.format == "long":
                    cfg.target, named = implied_target(data, cfg)
                    found = {**found, **named}
        elif cfg.format == "m4":
            found = m4_settings(cfg, data)             # the file's name gives its season and horizon
        if cfg.horizon is None:
            cfg.horizon = 1
            # recorded as a choice, so that a loaded model's settings leave it unset as the fitted one's do
            # (get_params, repr, clone: a clone fitted on a .tsf file takes its @horizon, not this 1)
            found = {**found, "horizon": {"value": 1, "why": "left unset: one step ahead"}}
        check_config(cfg)
        check_part_sizes(cfg)
        check_loss(cfg)
        check_blend(cfg)
        cfg, auto = auto_defaults(cfg, data)
        check_config(cfg)
        return cfg, data, {**found, **auto}

    @classmethod
    def resume(cls, run_dir: str | Path, data=None, **overrides: Any) -> Forecaster:
        """Continue the interrupted or killed run ``run_dir`` from its last checkpoint (same config, same
        data: the file it recorded, or ``data`` again, which data given in memory needs).

        ``overrides`` may change how the run is shown, not what it computes: ``progress``,
        ``tensorboard``, ``doctor``; any other setting that differs from the run's is an error.
        """
        with public_call():
            meta = cls._unfinished_meta(run_dir)
            saved = _flatten(meta["config"])
            for key, value in overrides.items():
                if value is None or key in RunEstimator._RESUME_FREE:
                    continue
                if key not in saved:             # it said 'check the spelling', naming no close name and no choice
                    close = difflib.get_close_matches(key, [*saved, *RunEstimator._RESUME_FREE], 1)
                    raise LstmkitError(f"Forecaster.resume() has no parameter {key!r}",
                                       f"did you mean {close[0]!r}?" if close else
                                       "it takes data= and the settings the run recorded (its lstmkit.json's \"config\")")
                value = _as_recorded(saved, key, value)
                if saved[key] != value and not (key == "time_zone" and same_zone(saved[key], value)):
                    raise LstmkitError(
                        f"{run_dir} was trained with {key}={saved[key]!r}, not {value!r}; a resumed run "
                        f"must keep its settings (the checkpoint is for that model)",
                        f"drop {opt(key)} to resume, or start a new run "
                        + worded("without --resume", "with fit(...)"))
            # the settings chosen from the data are chosen again (same data, same choice): left unset as the
            # original call left them, so that the choices made after training (--combine) see the same call
            chosen = _chosen_from_data(meta)
            free = {k: v for k, v in overrides.items() if k in RunEstimator._RESUME_FREE and v is not None}
            est = cls(**{**saved, **chosen, **free})
            est.auto_ = meta.get("auto") or {}
            est._resumed_data_ = meta.get("data") or {}      # its calendar features' clock is the checkpoint's
            source = cls._resume_source(meta, run_dir, data, "in-memory data",
                                        worded("pass the data again with --data", "pass the data again: resume(RUN, data=...)"))
            return est.fit(source, run_dir=run_dir, resume=True)

    # -- using a fitted model -----------------------------------------------------------
    def predict(self, data, engine: str = "auto") -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the end of ``data`` (original units).

        ``engine``: ``torch``, ``onnx`` (the run's exported graph, via onnxruntime) or ``auto``
        (the engine an int8 export chose, else a current ``model.onnx`` if any, else torch).

        Returns one row per future step: ``step``, the timestamp (when the data has a time
        column) and one column per target.
        """
        with public_call():
            self._check_fitted()                        # every forecaster exports: each engine predicts
            with SWAP:                                  # the net and its interval widths, as one (a kept update's)
                net, widths = engine_net_cached(self, engine), getattr(self, "intervals_", None)
            self._check_array_width(data)               # before the one-window lane, which reads columns by name
            fast = one_window(self, data, net)          # None unless the one-window lane applies (fastpath.py)
            return fast if fast is not None else self._forecast_ahead(data, net=net, widths=widths)

    @overload
    def evaluate(self, data, y=None, *, per_target: Literal[False] = False) -> dict[str, dict[str, float]]: ...

    @overload
    def evaluate(self, data, y=None, *, per_target: Literal[True]) -> dict[str, dict[str, dict[str, float]]]: ...

    def evaluate(self, data, y=None, *, per_target: bool = False) -> dict[str, Any]:
        """Test-part metrics of this model beside naive, seasonal-naive and ETS, on the same points:
        ``{model: {metric: value}}``.

        ``data`` is split by the rule used in training (:mod:`lstmkit.tasks.forecast.windows`). The target
        is read from ``data``: ``y`` (every other task's labels or references) is refused, naming the fix.
        Several targets' metrics pool them (MAE and RMSE in each one's units); ``per_target=True``
        answers each target's own, ``{target: {model: {metric: value}}}`` (``metrics.json``'s
        ``per_target``; of one target, its one table).
        """
        with public_call():
            self._check_fitted()
            _no_y(y, "evaluate", self.config_.target[0])
            if not isinstance(per_target, (bool, np.bool_)):
                raise BadValue(f"per_target must be True or False, got {per_target!r}",
                               "pass per_target=True for each target's own metrics")
            record = self._evaluated(data)
            if not per_target:
                return record["metrics"]
            return record.get("per_target") or {self.config_.target[0]: record["metrics"]}

    def _evaluated(self, data, kept: dict | None = None) -> dict[str, Any]:
        """:meth:`evaluate`'s whole record, as ``metrics.json`` keeps it: the metrics and what they
        were scored on (``test_points``, ``series``, ``horizon``, ``season``), which the CLI's table says.
        Its warnings name the user's line (the CLI's own, which prints them as ``warning: ...``). ``kept``:
        :func:`~lstmkit.tasks.forecast.evaluation.panel_metrics`' (``evaluate --out``: the test forecasts' table)."""
        self._check_fitted()
        panel = self._read_for_use(data, need=min_points(self.config_), split=True)
        # series the run never learned, scored in the means: said, as predict says them
        say_rough(panel, self.config_.lookback, self.series_ids_)
        test, arrays = split_panel(panel, self.config_)["test"], self._panel_arrays(panel, split=True)
        self._say_windows_far_outside(arrays, *test)
        return panel_metrics(self, panel, arrays, test, kept=kept, progress=self._progress)[0]

    def score(self, data, y=None) -> float:
        """scikit-learn's ``score``, greater is better: minus this model's MASE on the test part of
        ``data`` (split as in training; :meth:`evaluate`'s ``[model]["MASE"]``). Scale-free, so each
        series of a panel counts alike; -1 is as far off as the one-step seasonal naive forecast is
        on the training part. The target comes from ``data``: a ``y`` given is refused (scikit-learn's
        ``None`` is taken), as :meth:`evaluate` refuses it."""
        with public_call():
            self._check_fitted()
            _no_y(y, "score", self.config_.target[0])
            mase = self._evaluated(data)["metrics"][self.config_.model]["MASE"]
        if mase is None or not np.isfinite(mase):
            raise LstmkitError("the model's MASE is undefined on this data: a series' training part repeats itself "
                               "exactly, so the seasonal naive scale is 0",
                               f"score it by another metric: evaluate(data)[{self.config_.model!r}]['MAE']")
        return -float(mase)

    def test_forecasts(self, data) -> dict[str, Any]:
        """Every test window's forecast of ``data`` in original units, for your own metrics.

        Returns a dict of ``n`` test windows, ``H`` steps ahead, ``T`` targets:

        - ``"actual"`` ``[n, H, T]``: the observed values at those steps (NaN on a cell the data had no value for,
          which ``--fill`` filled: no observation, which ``evaluate`` leaves out);
        - ``"forecast"`` ``[n, H, T]``: the point forecasts;
        - ``"origins"`` ``[n]``: each window's last observed point, its index within its series;
        - ``"ids"`` ``[n]``: the series of each window;
        - ``"targets"`` ``[T]``: the target columns along the last axis, in order;
        - probabilistic runs also ``"quantiles"`` ``[n, H, T, Q]`` and their ``"levels"`` ``[Q]``.
        """
        with public_call():
            self._check_fitted()
            cfg = self.config_
            panel = self._read_for_use(data, need=min_points(cfg), split=True)
            arrays = self._panel_arrays(panel, split=True)
            rows, series = split_panel(panel, cfg)["test"]
            self._say_windows_far_outside(arrays, rows, series)
            params = self._forecast_windows(arrays, rows, series, self._series_index(panel))
            tgt = (rows.numpy() + cfg.lookback)[:, None] + np.arange(cfg.horizon)[None]
            s = series.numpy()
            limits = self._window_limits(panel, s)
            out = {"actual": panel.actual(tgt), "forecast": self._point(params, limits),
                   "origins": rows.numpy() - panel.starts[s] + cfg.lookback - 1,
                   "ids": np.asarray(panel.ids, dtype=object)[s], "targets": list(cfg.target)}
            if self.output_.kind != "point":
                out["quantiles"] = self._quantiles(params, limits)
                out["levels"] = list(self.output_.levels)
            return out

    def backtest(self, data, folds: int = 3, step: int | None = None, refit: bool = False,
                 out: str | Path | None = None, log: Callable[[str], None] | None = None) -> dict[str, Any]:
        """Rolling-origin evaluation of ``data`` (:mod:`lstmkit.tasks.forecast.backtest`): ``folds`` cutoffs
        ``step`` points apart (default: the horizon) at the end of every series.

        A fitted Forecaster forecasts every fold with its weights unless ``refit``; an unfitted one
        trains once before the first cutoff (or per fold with ``refit``). With ``out`` the folder
        receives ``backtest.csv``, ``backtest.json`` and ``plots/backtest.png``; ``log`` is told
        before each model is trained.
        """
        with public_call():
            from lstmkit.tasks.forecast.backtest import backtest
            model = self
            if not hasattr(self, "net_") and self.config.format == "long" and not is_tsf(data) and (
                    self.config.time is None or not self.config.target):     # chosen from the data, as fit chooses them
                data, model = _read_once(data), copy.copy(self)
                model.config = cfg = copy.deepcopy(self.config)
                if cfg.time is None:
                    cfg.time = implied_time(data, cfg)[0]
                if not cfg.target:
                    cfg.target = implied_target(data, cfg)[0]
            return backtest(model, data, folds=folds, step=step, refit=refit, out=out, log=log)

    # -- deployment (lstmkit.deploy) -----------------------------------------------------
    def update(self, new_data, epochs: int = 5, lr: float | None = None, holdout: float = 0.2) -> Forecaster:
        """Fine-tune on ``new_data`` for ``epochs`` epochs at ``lr`` (default: a tenth of the run's rate);
        rolled back if the error on the newest points (the ``holdout`` fraction of the new examples, at least one)
        gets worse. The report is ``last_update_`` (and ``lineage_`` once saved); a kept update of a calibrated run
        refits its intervals on the held-out windows, or drops them when those hold too few points
        (``last_update_["intervals"]`` says which).
        """
        with public_call():
            from lstmkit.deploy.online import fine_tune
            from lstmkit.deploy.registry import adapter_class
            adapter = adapter_class(TASK)(self)
            report = fine_tune(adapter, new_data, epochs=epochs, lr=lr, holdout=holdout)
            # a kept update's interval calibration, refitted on its held-out windows or dropped (deploy.py)
            note = getattr(adapter, "intervals_note", None)
            self.last_update_ = {**report, "intervals": note} if note else report
            self.lineage_ = [*getattr(self, "lineage_", []), self.last_update_]
            return self

    # -- persistence (the rest is RunEstimator's) --------------------------------------------
    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the run folder ``path``: ``model.safetensors``, ``metrics.json`` and ``lstmkit.json``; an
        int8 model is written by ``lstmkit export int8`` only. A folder holding another run is refused
        unless ``overwrite`` (as :meth:`RunEstimator.save`)."""
        if getattr(self, "quantization_", None):
            raise LstmkitError("an int8 model is written by 'lstmkit export int8', not saved",
                               "save the float model, then export it again")
        return super().save(path, overwrite)

    @classmethod
    def _check_run(cls, meta: dict[str, Any], path: Path) -> None:
        fmt, cls_name = meta.get("forecast_format", 1), (meta.get("model") or {}).get("class")
        if type(fmt) is not int:         # null or text ended in TypeError ('>' not supported ...)
            raise LstmkitError(f"{path / META_FILE}: \"forecast_format\" is {fmt!r}, not a format number (the file "
                               "was edited or damaged)", "restore the run folder or retrain the model")
        if fmt > RUN_FORMAT:
            raise LstmkitError(f"{path} is a forecast run of format {fmt}, newer than this lstmkit reads "
                               f"({RUN_FORMAT})", "upgrade lstmkit to load it")
        if fmt < 2 and cls_name != "GlobalForecastNet":   # format 1's many-series net is today's ForecastNet
            raise LstmkitError(f"{path} is a format-1 single-series forecast run (its own ForecastNet and "
                               "scalers), which this lstmkit no longer reads",
                               "retrain it with 'lstmkit forecast train' (same data and settings)")
        config = meta.get("config") or {}
        missing = [k for k in ("target", "lookback", "horizon", "model", "hidden_size", "num_layers")
                   if k not in config]
        if missing:                  # a default would silently give another model's forecasts
            raise LstmkitError(f"{path}/{META_FILE} has no config.{missing[0]} (the file was edited or damaged)",
                               "restore the run folder from a backup or retrain the model")
        unset = [k for k in (*AUTO_FIELDS, "horizon") if k not in ("ensemble", "combine", "samples_per_epoch")
                 and k in config and config[k] is None]        # samples_per_epoch None: every window
        if unset:                    # a trained run records the value it used, never "choose from the data"
            raise LstmkitError(f"{path}/{META_FILE} has config.{unset[0]} = null, not the value the run was trained "
                               "with (the file was edited or damaged)",
                               "restore the run folder from a backup or retrain the model")

    def _load_state(self, run_dir: Path, meta: dict[str, Any]) -> None:
        check_config(self.config)
        self._load_pipeline(meta)
        self.quantization_ = meta.get("quantization")
        self.engine_ = (self.quantization_ or {}).get("engine")
        self.lineage_ = meta.get("lineage", [])
        self.auto_ = meta.get("auto") or {}
        self.combination_ = meta.get("combination")
        # a run saved before the calibration has none: as it was; an edited one that does not fit the run: an error
        self.intervals_ = checked_record(meta.get("intervals"), self.output_.kind, self.output_.levels,
                                         self.config_.horizon, f"{run_dir}/{META_FILE}")
        # the settings: the call that trained the run, as a fitted model keeps them (config_ holds the values
        # used): those chosen from the data left unset, so that clone, repr and a new fit match the fitted one's
        self.config = self._resolve_config(self.config, _chosen_from_data(meta))

    # -- internals ---------------------------------------------------------------------
    def _write_meta(self, run_dir: Path, status: str) -> None:
        extra = {"lineage": self.lineage_} if getattr(self, "lineage_", None) else {}   # online updates since training
        if getattr(self, "auto_", None):                  # the settings chosen from the data, and why
            extra["auto"] = self.auto_
        if getattr(self, "combination_", None):           # the baseline blended in, and the network's weight
            extra["combination"] = self.combination_
        if getattr(self, "intervals_", None):             # the interval calibration fitted on validation
            extra["intervals"] = self.intervals_
        self._write_run_meta(run_dir, status, forecast_format=RUN_FORMAT, season=self.season_, **self._pipeline_meta(),
                             **extra)


def _chosen_from_data(meta: dict[str, Any]) -> dict[str, None]:
    """The settings a run chose from its data (its ``auto`` block), unset: how the call that trained it
    left them. A refit (resume, or a fit of a loaded model or its clone) chooses them again; a
    combination whose baseline the call named (its weight alone chosen) keeps that baseline."""
    auto = meta.get("auto") or {}
    return {k: None for k, record in auto.items()
            if k in (*AUTO_FIELDS, "time", "id", "horizon", "season", "calibrate_intervals", "val_frac", "test_frac")
            and not (isinstance(record, dict) and record.get(GIVEN))}


def _read_once(data):
    """The table of a file or pandas object (read here, so that the steps after share one reading:
    periods as timestamps, an (id, date) index as columns; a pyarrow Table's DataFrame, a generator's
    list: :func:`~lstmkit.tasks.forecast.data.plain_data`); other data as it is."""
    data = plain_data(data)
    return load_table(data) if isinstance(data, (str, os.PathLike, pd.DataFrame, pd.Series)) else data


def implied_index_id(data, cfg: ForecastConfig) -> dict[str, dict[str, Any]]:
    """The id of a DataFrame indexed by (series, date), as a groupby or ``set_index([id, time])``
    gives a panel, when no id is named: the index's level beside its dates (the reader makes
    both levels columns), with the record of that choice; else nothing. Without it the panel's
    times repeated, one per series, and the fit said to name an id the frame already names."""
    if cfg.id is not None or not isinstance(data, pd.DataFrame) or not isinstance(data.index, pd.MultiIndex):
        return {}
    names, levels = list(data.index.names), list(data.index.levels)
    dates = [isinstance(level, (pd.DatetimeIndex, pd.PeriodIndex)) for level in levels]
    if len(names) != 2 or None in names or sum(dates) != 1:
        return {}
    time, other = str(names[dates.index(True)]), str(names[dates.index(False)])
    if (cfg.time is not None and str(cfg.time) != time) or other in map(str, data.columns):
        return {}
    return {"id": {"value": other, "why": f"the index's level beside its dates ({time}): one series per {other}"}}


def implied_time(data, cfg: ForecastConfig) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """The time column of a table that names none: its one column of dates
    (:func:`~lstmkit.tasks.forecast.times.date_columns`) besides the target, id, feature and
    covariate columns, and the record of that choice; None when it has none (rows are then the
    series in file order; a pandas date index is :func:`~lstmkit.tasks.forecast.columns.index_time`). Several date
    columns are an error: which one orders the rows is the user's to say."""
    if not isinstance(data, pd.DataFrame) or dated(data.index):
        return None, {}
    skip = {*cfg.target, *cfg.features, *cfg.past_covariates, *cfg.future_covariates, cfg.id}
    found = date_columns(data, skip)
    if len(found) > 1:
        raise LstmkitError(f"the table has {len(found)} date columns ({', '.join(map(repr, found))}) and no "
                           f"time column was named",
                           f"name the one the series runs along: {named_opt('time', found[0])}")
    if not found:
        pair = period_columns([c for c in data.columns if c not in skip])
        if pair is None:
            return None, {}
        try:
            period_time(data, pair)
        except LstmkitError:                 # not whole years and months: no time
            return None, {}
        return pair, {"time": {"value": pair, "why": f"the table's {pair.split(',')[1].lower()} and year columns"}}
    return found[0], {"time": {"value": found[0], "why": "the table's one date column: the rows are read in its order"}}


def implied_target(data, cfg: ForecastConfig) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The target of data that holds one series: the one column of the table
    (:func:`~lstmkit.tasks.forecast.data.load_table`'s reading: a pandas Series is its name, else
    ``y``; a 1-D array or list ``y``, a 2-D one ``y0``, ``y1``, …) besides the time, id, feature
    and covariate columns, or the one of those that holds numbers (the others text: notes, names, categories), with the record
    of that choice; else none. Several numeric columns are an error that lists them: which one
    to forecast is the user's to say."""
    frame = data if isinstance(data, pd.DataFrame) else load_table(data)     # an array of 3-D or ragged rows: its error
    named = {cfg.time, cfg.id, *cfg.features, *cfg.past_covariates, *cfg.future_covariates,
             *(_names(cfg.time) if cfg.time else [])}                   # a two-column time: year,month
    rest = [c for c in frame.columns if c not in named]
    if len(rest) == 1 and isinstance(_column_name(rest[0]), str):     # a Series named 3: its column '3'
        return [_column_name(rest[0])], {}
    if len(rest) <= 1 or not all(isinstance(c, str) for c in rest):
        return [], {}
    numeric = [c for c in rest if (v := numbers_or_none(frame[c], yes_no=False)) is not None and v.notna().any()]
    if len(numeric) == 1:
        text = ", ".join(map(repr, [c for c in rest if c != numeric[0]][:4]))
        return numeric, {"target": {"value": numeric[0], "why": f"the table's one column of numbers ({text}: text)"}}
    if not numeric:
        _check_second_header(frame, rest)
    shown = ", ".join(map(repr, (numeric or rest)[:8])) + (", ..." if len(numeric or rest) > 8 else "")
    besides = " and ".join(n for n, c in (("time", cfg.time), ("id", cfg.id)) if c)
    part = _period_grid(numeric)
    if part is not None and cfg.time and "," not in str(cfg.time) and not cfg.id:
        raise LstmkitError(f"no target column given, and the table has a row per {cfg.time!r} and its {len(numeric)} "
                           f"{part}s in columns ({numeric[0]!r} … {numeric[-1]!r}): one {part}ly series laid out as "
                           f"a grid, not {len(numeric)} series", "make it one column of values, a row per "
                           f"{part}: df.melt(id_vars=[{str(cfg.time)!r}], var_name='{part}') (the {part}s may stay "
                           f"names), then {opt('time', [str(cfg.time), part])}{worded(' ', ', ')}{opt('target', 'value')}")
    ids = _id_like(frame, cfg.time, numeric) if not cfg.id else None
    if ids is not None:                  # its fix was --target store: the store numbers forecast
        values = [c for c in numeric if c != ids]
        raise LstmkitError(f"no target column given, and the table has {len(numeric)} numeric columns besides the "
                           f"time ({shown}), of which {ids!r} tells apart the series of a long table: each "
                           f"{cfg.time!r} comes once per {ids!r} value", f"name the series' column and the values to "
                           f"forecast: {named_opt('id', ids)}{worded(' ', ', ')}{named_opt('target', values[0])}")
    counter = _row_counter(frame, numeric) if not cfg.time else None
    if counter is not None:              # its fix was --target period: the row numbers forecast
        values = [c for c in numeric if c != counter]
        raise LstmkitError(f"no target column given, and the table has {len(numeric)} numeric columns ({shown}), of "
                           f"which {counter!r} counts the rows ({', '.join(map(str, frame[counter].iloc[:3]))}, …): "
                           f"the steps, not a series", f"name it the time and the values to forecast: "
                           f"{named_opt('time', counter)}{worded(' ', ', ')}{named_opt('target', values[0])}")
    raise LstmkitError(f"no target column given, and the table has {len(numeric or rest)} "
                       f"{'numeric ' if numeric else ''}columns{' besides the ' + besides if besides else ''}: {shown}",
                       f"name the series to forecast: {named_opt('target', (numeric or rest)[0])} "
                       f"({worded('several comma-separated', 'several: a list')}; inputs that are not forecast go to "
                       f"{opt('features')})" + (
                           "; for many series side by side, one model over them all reads the table long: "
                           f"df.melt(id_vars=[time], var_name='series'), then {opt('id', 'series')}"
                           f"{worded(' ', ', ')}{opt('target', 'value')}" if len(numeric) > 3 else ""))


def _row_counter(frame: pd.DataFrame, numeric: list) -> str | None:
    """The one numeric column of whole numbers rising by exactly one a row (``period``: 1, 2, 3, …),
    when there is one and other numeric columns beside it."""
    if len(numeric) < 2 or len(frame) < 3:
        return None
    found = []
    for c in numeric:
        v = numbers_or_none(frame[c], yes_no=False)
        if v is not None and v.notna().all() and (v.diff().iloc[1:] == 1).all() and (v == v.round()).all():
            found.append(c)
    return found[0] if len(found) == 1 else None


def _id_like(frame: pd.DataFrame, time: Any, numeric: list) -> str | None:
    """The numeric column that tells apart a long table's series (``store`` of ``store, date,
    sales``): whole numbers, fewer distinct ones than rows, each time once per value, when the
    time repeats; None otherwise or when several columns could be it."""
    if not time or "," in str(time) or time not in frame.columns or len(numeric) < 2 or frame[time].is_unique:
        return None
    found = []
    for c in numeric:
        v = numbers_or_none(frame[c], yes_no=False)
        if (v is not None and v.notna().all() and (v == v.round()).all() and 1 < v.nunique() < len(v)
                and not pd.DataFrame({"id": v, "t": frame[time]}).duplicated().any()):
            found.append(c)
    return found[0] if len(found) == 1 else None


def _check_second_header(frame: pd.DataFrame, columns: list) -> None:
    """An :class:`LstmkitError` when of ``columns`` (none a column of numbers) some hold numbers under
    their first row, which holds text: a second header row (units: ``EUR``, ``thousand shares``),
    with which no column reads as numbers to be the target (it was 'no target column given … --target
    date', the time column)."""
    if len(frame) < 3:
        return
    under = [c for c in columns if (v := numbers_or_none(frame[c].iloc[1:], yes_no=False)) is not None
             and v.notna().any() and isinstance(frame[c].iloc[0], str)]
    if under:
        cells = ", ".join(f"{str(frame[c].iloc[0])!r} over {str(c)!r}" for c in under[:3])
        raise LstmkitError(f"no target column given, and no column holds only numbers: the first row under the header "
                           f"({row_place(frame, 0)}) holds {cells}, whose other cells are numbers: a second header row "
                           "(units?)", f"make the header one row of names ({str(under[0])} "
                           f"({str(frame[under[0]].iloc[0]).strip()}) in one cell) and delete the row under it")


def _period_grid(columns: list) -> str | None:
    """``"month"`` when ``columns`` are the twelve months by name in calendar order (``JAN`` … ``DEC``:
    statsmodels' elnino, a statistics office's year-by-month table), ``"quarter"`` for ``Q1`` … ``Q4``;
    else None."""
    names = [str(c).strip() for c in columns]
    if len(names) == 12 and [month_number(c) for c in names] == list(range(1, 13)):
        return "month"
    return "quarter" if [c.upper() for c in names] == ["Q1", "Q2", "Q3", "Q4"] else None


def _no_y(y, method: str, target: str) -> None:
    """Refuse ``y`` given to ``evaluate`` or ``score`` (a classifier's labels, scikit-learn's ``score(X, y)``): a
    forecaster reads its target (column ``target``) from the data, as its ``fit`` does (it was a TypeError,
    'takes 2 positional arguments but 3 were given')."""
    if y is not None:
        use = f"X.assign({target}=y)" if target.isidentifier() else f"X.assign(**{{{target!r}: y}})"
        raise LstmkitError(f"Forecaster.{method}(data) reads the target from the data, so it takes no y (a "
                           f"classifier's {method}(X, y) does)", f"pass one table holding the target column "
                           f"{target!r}: {method}({use})")


def _names_given(key: str, v):
    """The column names of ``target`` / ``features`` given as an array or index of names
    (``df.columns[1:]``: it was '`target` must be a list'), as a list; the column *values* given
    instead of a name (scikit-learn's ``fit(X, y)``, ``time=df["date"]``) are an error saying that
    the setting names a column (it printed the whole series as the value it did not accept)."""
    if not isinstance(v, (pd.Series, pd.Index, np.ndarray)):
        return v
    values = list(v.tolist()) if v.ndim == 1 else None
    names = values is not None and all(isinstance(x, str) or (isinstance(v, pd.Index) and isinstance(x, int)
                                                              and not isinstance(x, bool)) for x in values)
    if isinstance(v, pd.Series) or not names or (key in ("time", "id") and len(values) != 1):
        kind = {"Series": "pandas Series", "Index": "pandas Index", "ndarray": "numpy array"}.get(type(v).__name__, "array")
        what = f"a {kind} of {v.size} value{'s' * (v.size != 1)}"
        named = getattr(v, "name", None)
        use = f"{key}={named!r}" if isinstance(named, str) and named else f"{key}='column'"
        raise LstmkitError(f"{key}= names a column of the data, got {what}: the values go in the data, not here "
                           "(Forecaster.fit(data, target=...) is not scikit-learn's fit(X, y))",
                           f"pass the column's name, {use}, with a table that holds it: fit(X.assign(y=y), target='y'); "
                           "or one series alone: fit(y)")
    values = [_column_name(x) for x in values]                    # a default frame's columns 0, 1, ...
    return values[0] if key in ("time", "id") else values


def _time_pair(v) -> str:
    """A time given as a list of column names (``["Date", "Time"]``) as the setting it is recorded as
    (``"Date,Time"``); a list of other than two names is an error."""
    names = [str(_column_name(n)).strip() for n in v]
    if len(names) != 2 or not all(names):
        raise LstmkitError(f"time= names one column, or two read as one time (a date and a time of day, or a year "
                           f"and a month), got {len(names)}: {names!r}",
                           "pass time='date' or time=['Date', 'Time']")
    return ",".join(names)


def _column_name(v):
    """A column named by an integer (a DataFrame's default columns 0, 1, ...) as its name in text,
    as the table's columns are matched; anything else as it is."""
    return str(v) if isinstance(v, numbers.Integral) and not isinstance(v, bool) else v


def _as_recorded(saved: dict[str, Any], key: str, value):
    """``value`` given to ``resume()`` for setting ``key`` as the run records it: checked and normalised
    as a fit does (``quantiles="0.1,0.9"`` is ``[0.1, 0.9]``, ``bounds=(0, None)`` is ``'0,'``, ``target="y"``
    is ``['y']``), so a setting given as it was given to the fit resumes (each was refused, 'trained with
    quantiles=[0.1, 0.9], not '0.1,0.9'')."""
    import json

    from lstmkit.files import to_json
    cfg = Forecaster(**{**saved, key: value}).config
    check_config(cfg)
    check_loss(cfg)
    return _flatten(json.loads(to_json(cfg.to_dict())))[key]


def _names(v: str | int | list[str]) -> list[str]:
    v = _column_name(v)                                   # resume compares target=1 with its saved ["1"]
    names = [s.strip() for s in v.split(",")] if isinstance(v, str) else [str(s) for s in v]
    return [n for n in names if n]
