"""``ForecastConfig``: everything that defines a forecasting run, defaults in one place.

Each field's trailing comment is its ``--flag``'s help (see :mod:`lstmkit.cli_config`); the
simple per-field checks run in ``__post_init__``, the checks that need the data or several
fields at once stay with the estimator.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from lstmkit.config import (Encoder, Headline, TaskConfig, TrainConfig, TrainParams, check_non_negative,
                            check_positive, check_range, check_types, train_field)
from lstmkit.errors import LstmkitError, opt

__all__ = ["ForecastConfig", "ForecastParams", "check_given", "headline_metric"]


@dataclass
class ForecastConfig(TaskConfig):
    """Everything that defines a forecasting run. Defaults follow the classic LSTM tutorial; the
    fields that default to None (``lookback``, ``deseason``, ``log``, ``segment``, ``highway``,
    ``hidden_size``, ``num_layers``, ``scaler``, ``ensemble``, ``combine``, ``samples_per_epoch``) are
    chosen from the training data when left unset (:mod:`lstmkit.tasks.forecast.auto`); set one and
    it is used as given. ``horizon`` left unset is a ``.tsf`` file's ``@horizon``, else 1. ``val_frac`` /
    ``test_frac`` left unset are 0.15 (:data:`~lstmkit.tasks.forecast.windows.DEFAULT_FRAC`), grown where that
    leaves one series' part under a horizon; a fraction given, 0.15 too, is used as given."""

    target: list[str] = field(default_factory=list)  # target column(s), comma-separated; not given: the table's one
                                    # column of numbers besides time, id and the inputs named
    time: str | None = None         # time column (parsed, sorted; duplicates are an error);
                                    # none: the table's one date column, if it has one
    features: list[str] = field(default_factory=list)  # extra input columns, comma-separated
    lookback: int | None = None     # past steps the model sees; none: chosen from the training data
                                    # (3 seasons, or 4 horizons without one; shorter for short series)
    horizon: int | None = None      # future steps predicted at once (direct multi-output); none: a .tsf
                                    # file's @horizon, else 1
    model: Encoder = "lstm"         # encoder from lstmkit.nn.zoo: lstm | gru | bilstm | bigru | lstm-attention
                                    # | cnn-lstm | lstm-fcn | transformer | tcn
    head: Literal["linear", "mlp"] = "linear"  # linear | mlp (Dense 25 -> Dense out, the tutorial's Keras head)
    hidden_size: int | None = None  # hidden units per recurrent layer; none: chosen (16 up to 1,000
                                    # training windows, else 50)
    num_layers: int | None = None   # recurrent layers; none: chosen (1 up to 1,000 training
                                    # windows, else 2)
    dropout: float = 0.2            # between recurrent layers and before the head
    relative: bool = True           # model the change from each window's last value (trends)
    scaler: Literal["minmax", "standard", "mase", "none"] | None = None  # minmax | standard | mase | none, per
                                    # series, on its training part only; not given: chosen (standard)
    val_frac: float | None = None   # one series (no id, no val/test_size): the fraction of it for validation;
                                    # none: 0.15, grown to the least that holds one horizon where 0.15 does not
    test_frac: float | None = None  # one series: the fraction of it for the test metrics; none: as val_frac's
    season: int | None = None       # seasonal period for baselines and MASE; none: inferred
    fill: Literal["ffill", "interpolate", "zero"] | None = None  # none (NaN is an error) | ffill | interpolate
                                    # | zero: repairs empty cells, and rows for steps missing from a regular
                                    # time grid (inserted, then filled); without it, those are read as they are
    dates: Literal["day-first", "month-first", "excel", "excel1904"] | None = None  # day-first | month-first:
                                    # how dates such as 01/02/2020 read; excel: the time column holds a
                                    # spreadsheet's serial days (45292.5: 2024-01-01 12:00); excel1904: those of
                                    # the 1904 date system (43830.5); none: the order every date fits (or the one
                                    # with regular steps); kept in the run for predict
    time_zone: str | None = None    # the IANA zone of the times (Europe/Berlin): times without an offset read
                                    # as its local clock, times with one converted to it; forecasts and calendar
                                    # features in it. none: the data's own (a tz-aware column, one offset), if any
    # -- many series, covariates, probabilistic output, strategies: for one series as for many --
    id: str | None = None           # series id column: one global model over every series
    format: Literal["long", "wide", "m4"] = "long"  # long (rows of id, time, values) | wide (a time column and
                                    # one column per series: id 'series', target 'value') | m4 (M4's files: a row
                                    # per series, id then ragged values; a file named Hourly-…,
                                    # Monthly-… gives the competition's season and horizon)
    past_covariates: list[str] = field(default_factory=list)    # known up to the forecast origin only
    future_covariates: list[str] = field(default_factory=list)  # known through the horizon too
    calendar: list[str] = field(default_factory=list)   # hour | weekday | month | holidays[:CC]
    id_embedding: int = 0           # width of a learned per-series embedding (0: none)
    strategy: Literal["direct", "recursive", "seq2seq"] = "direct"  # direct | recursive | seq2seq
    quantiles: list[float] = field(default_factory=list)  # e.g. 0.1,0.5,0.9: pinball loss (not given: point forecasts)
    likelihood: Literal["gaussian", "studentt"] | None = None  # none | gaussian | studentt (negative log-likelihood)
    calibrate_intervals: bool | None = None  # widen or narrow each central interval per horizon step so that
                                    # it covers its share of the validation windows (split-conformal, see
                                    # tasks/forecast/intervals.py); not given: on for quantile and likelihood runs
    bounds: str = "auto"            # LOW,HIGH: every forecast, quantile and interval end of every target clipped
                                    # into them (a percentage: 0,100; either side may be empty: 0, or ,100); the
                                    # data fit reads must lie inside. auto: a floor at 0 for a series whose
                                    # training part is never below 0. none: no bounds, not even that floor
    strict: bool = False            # a series too short for lookback + horizon is an error, not skipped
    val_size: int | None = None     # points per series for val / test (instead of the fractions; many
                                    # series without them: one horizon each)
    test_size: int | None = None    # points per series for the test part (instead of test_frac)
    ets: bool | None = None         # ETS baseline per series; not given: only for up to 20 series
    samples_per_epoch: int | None = None  # windows drawn per epoch (series uniform); 0: every window; none:
                                    # chosen (51,200 when training has more than 102,400 windows, else every one)
    log: bool | None = None         # model log(y) (multiplicative seasonality, errors relative
                                    # to the level, as sMAPE counts them); targets must be > 0; not given:
                                    # chosen (positive data with a multiplicative season or wide spread)
    highway: int | None = None      # LSTNet's autoregressive highway: a linear map from the last N scaled
                                    # values of each window straight to the horizon, added to the network's
                                    # forecast (strong seasonality: N = lookback); 0: off; none: chosen
    highway_hidden: int = 0         # > 0: the highway is an MLP (N units, ReLU) instead of linear
    segment: int | None = None      # the encoder reads the window this many steps at a time
                                    # (SegRNN; must divide the lookback); 0: one step at a time; none:
                                    # chosen (one season per step for lookbacks of 96 or more)
    deseason: int | None = None     # remove each series' seasonal indices of this period
                                    # (classical decomposition, after --log) before the network; 0: off;
                                    # none: chosen (the season when its strength is 0.5 or more)
    ensemble: int | None = None     # train this many seeds and forecast their median; none: chosen
                                    # (15 up to 2,000 training windows of point forecasts, else 1)
    combine: Literal["none", "ets", "seasonal_naive"] | None = None  # none | ets | seasonal_naive: the
                                    # forecast w x network + (1 - w) x this baseline, w chosen on validation
                                    # (lstmkit.tasks.forecast.combine); not given: chosen on validation (the
                                    # network alone unless a combination scores better)
    train: TrainConfig = train_field(lr_patience=5)

    def __post_init__(self) -> None:
        check_positive(self, "lookback", "horizon", "hidden_size", "num_layers", "season", "ensemble")
        check_non_negative(self, "id_embedding", "highway_hidden")
        # checked by tasks/forecast/checks.py (against the lookback, the data, each other), with messages of
        # their own
        check_types(self, skip=("highway", "segment", "deseason", "samples_per_epoch", "val_size", "test_size",
                                "fill", "scaler", "format", "val_frac", "test_frac", "bounds"))
        check_range(self, "dropout", 0, 1, "0.2", high_open=True)

    LENGTH_OPTION = "lookback"          # the doctor's "shorten the sequences" remedy

    def loss_label(self) -> str:
        return "loss (scaled units)"        # of the network's scaled, adjusted target


class ForecastFitParams(TrainParams, total=False):
    """The settings ``Forecaster.fit`` takes for one fit (``**overrides``): :class:`ForecastParams` but the
    columns, which it names as arguments of its own (``target``, ``time``, ``features``, ``id``)."""

    lookback: int | None
    horizon: int | None
    model: Encoder
    head: Literal["linear", "mlp"]
    hidden_size: int | None
    num_layers: int | None
    dropout: float
    relative: bool
    scaler: Literal["minmax", "standard", "mase", "none"] | None
    val_frac: float | None
    test_frac: float | None
    season: int | None
    fill: Literal["ffill", "interpolate", "zero"] | None
    dates: Literal["day-first", "month-first", "excel", "excel1904"] | None
    time_zone: str | None
    format: Literal["long", "wide", "m4"]
    past_covariates: list[str] | str
    future_covariates: list[str] | str
    calendar: list[str] | str
    id_embedding: int
    strategy: Literal["direct", "recursive", "seq2seq"]
    quantiles: list[float] | str
    likelihood: Literal["gaussian", "studentt"] | None
    calibrate_intervals: bool | None
    bounds: str | tuple[float | None, float | None] | list[float | None] | None
    strict: bool
    val_size: int | None
    test_size: int | None
    ets: bool | None
    samples_per_epoch: int | None
    log: bool | None
    highway: int | None
    highway_hidden: int
    segment: int | None
    deseason: int | None
    ensemble: int | None
    combine: Literal["none", "ets", "seasonal_naive"] | None


class ForecastParams(ForecastFitParams, total=False):
    """``Forecaster``'s keyword parameters with what each takes, beside :class:`~lstmkit.config.TrainParams`
    (defaults: :class:`ForecastConfig`'s; a field added there is added here)."""

    # columns named as fit names them (the estimator's _build_config): a DataFrame's integer columns, a
    # time of two columns
    target: list[str] | str | int
    time: str | int | list[str] | None
    features: list[str] | str | int
    id: str | int | None


def check_given(given: dict, settings: dict) -> None:
    """The settings a user gave (flat: the command line's flags, or in Python those at other than the
    Forecaster's defaults) against ``settings`` (all of them): ``val_frac`` / ``test_frac`` split one
    series only when no ``val_size`` / ``test_size`` is given (:func:`~lstmkit.tasks.forecast.windows.uses_fractions`);
    ``--val-size 48 --val-frac 0.3`` trained on 48 validation points and the fraction changed nothing, without
    a word (and ``--test-size`` alone made the validation part one horizon, whatever ``--val-frac`` said)."""
    frac = next((k for k in ("val_frac", "test_frac") if k in given), None)
    if frac is None:
        return
    sizes = [k for k in ("val_size", "test_size") if settings.get(k) is not None]
    if sizes:
        shown = " and ".join(opt(k, settings[k]) for k in sizes)
        raise LstmkitError(f"{opt(frac, given[frac])} does not apply beside {shown}: with a size given, each part is "
                           "a number of points per series (the part not given one horizon), and the fractions "
                           "split nothing", f"drop {opt(frac)} and give {opt('val_size')} / {opt('test_size')} "
                           f"in points, or drop {' and '.join(opt(k) for k in sizes)} to split by fractions")
    many = (opt("id", settings["id"]) if settings.get("id") is not None
            else opt("format", settings["format"]) if settings.get("format") in ("m4", "wide") else None)
    if many is not None:
        raise LstmkitError(f"{opt(frac, given[frac])} does not apply beside {many}: the fractions split one series; "
                           "many series have a validation and a test part of one horizon each",
                           f"drop {opt(frac)}, or give {opt('val_size')} / {opt('test_size')} in points per series")


def headline_metric(metrics: dict[str, Any], config: dict[str, Any]) -> Headline | None:
    """The model's test MASE (its row of ``metrics``, named by the config's ``model``), rounded as the metrics
    table rounds it (``.4g``): what ``lstmkit list`` shows and the service's ``/models`` names."""
    rows = metrics.get("metrics")
    row = rows.get(config.get("model")) if isinstance(rows, dict) and isinstance(config.get("model"), str) else None
    return Headline.read(row, "MASE", "MASE", ".4g", "test", higher_is_better=False)
