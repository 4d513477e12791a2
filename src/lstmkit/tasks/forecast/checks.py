"""Checks of a :class:`~lstmkit.config.ForecastConfig`: every bad setting is one LstmkitError line.

``check_config(cfg)`` runs before any data is read or any network is built (the network only
raises ``ValueError`` for programming errors). It also normalises comma-separated strings given
for list settings (``quantiles``, ``calendar``, covariates) into lists, and ``bounds`` into its text.
"""
from __future__ import annotations

from lstmkit.errors import LstmkitError, in_file, opt, worded
from lstmkit.nn.blocks import HEADS
from lstmkit.nn.zoo import ENCODERS
from lstmkit.tasks.forecast.bounds import check_bounds
from lstmkit.tasks.forecast.model import STRATEGIES
from lstmkit.tasks.forecast.probabilistic import LIKELIHOODS, check_quantiles

__all__ = ["check_config", "check_part_sizes", "check_loss", "check_blend", "check_blend_series", "SCALERS",
           "RECURRENT", "FILL_MODES"]

SCALERS = ("minmax", "standard", "mase", "none")
FILL_MODES = ("ffill", "interpolate", "zero")
RECURRENT = ("lstm", "gru")          # encoders the recursive and seq2seq strategies can roll out


def _whole(v, low: int = 0) -> bool:
    return not isinstance(v, bool) and isinstance(v, int) and v >= low


def check_config(cfg) -> None:
    """Raise :class:`LstmkitError` for the first bad setting of ``cfg`` (a ForecastConfig). A field
    left to be chosen from the data (None, :mod:`~lstmkit.tasks.forecast.auto`) passes."""
    for name in ("lookback", "horizon", "hidden_size", "num_layers"):
        v = getattr(cfg, name)
        if v is None:                     # chosen from the data (the horizon: a .tsf file's @horizon, else 1)
            continue
        if not _whole(v, 1):
            raise LstmkitError(f"`{name}` must be a positive integer, got {v!r}", f"pass {opt(name, 1)} or more")
    if cfg.model not in ENCODERS:
        raise LstmkitError(f"unknown model {cfg.model!r}{in_file('model')}", f"use one of: {', '.join(ENCODERS)}")
    if cfg.head not in HEADS:
        raise LstmkitError(f"unknown head {cfg.head!r}{in_file('head')}", f"use one of: {', '.join(HEADS)}")
    if cfg.format not in ("long", "wide", "m4"):
        raise LstmkitError(f"unknown data format {cfg.format!r}{in_file('format')}", "use long, wide or m4")
    if cfg.format == "wide":            # read long: the column names become the series ids
        if cfg.target not in ([], ["value"]) or cfg.id not in (None, "series"):
            raise LstmkitError(f"{opt('format', 'wide')} forecasts every column besides the time (and inputs) as a series",
                               f"drop {opt('target')} and {opt('id')} (the table is read as id 'series', target 'value'), or "
                               "drop the columns not to forecast from the table")
        cfg.id = "series"
    if cfg.format in ("m4", "wide") and not cfg.target:
        cfg.target = ["value"]
    if not cfg.target:
        raise LstmkitError("no target column given", worded("pass --target COLUMN (or several, comma-separated)",
                                                                 "pass target='COLUMN' (or several, a list)"))
    twice = next((t for k, t in enumerate(cfg.target) if t in cfg.target[:k]), None)
    if twice is not None:
        raise LstmkitError(f"{opt('target')} names {twice!r} twice", "name each target column once")
    if not 0.0 <= cfg.dropout < 1.0:
        raise LstmkitError(f"`dropout` must be in [0, 1), got {cfg.dropout}", f"pass {opt('dropout', 0.2)}, say")
    t = cfg.train
    if t.max_epochs < 1 or t.batch_size < 1:
        raise LstmkitError("`max_epochs` and `batch_size` must be at least 1",
                           worded("pass --epochs N with N >= 1", "pass max_epochs=N and batch_size=N with N >= 1"))
    if not t.lr > 0:
        raise LstmkitError(f"`lr` must be positive, got {t.lr}", f"pass {opt('lr', '1e-3', written=True)}, say")
    if cfg.fill is not None and cfg.fill not in FILL_MODES:
        raise LstmkitError(f"unknown fill mode {cfg.fill!r}{in_file('fill')}", f"use one of: {', '.join(FILL_MODES)}")
    if cfg.scaler is not None and cfg.scaler not in SCALERS:
        raise LstmkitError(f"unknown scaler kind {cfg.scaler!r}{in_file('scaler')}",
                           f"use one of: {', '.join(SCALERS)}")
    _check_split(cfg)
    _check_inputs(cfg)
    _check_output_and_strategy(cfg)
    _check_shape_options(cfg)


def _check_split(cfg) -> None:
    from lstmkit.tasks.forecast.windows import fractions
    for name in ("val_frac", "test_frac"):
        frac = getattr(cfg, name)            # None: the default, which the fit may grow (windows.fractions)
        if frac is not None and (isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0 <= frac < 1):
            raise LstmkitError(f"`{name}` must be a fraction in [0, 1), got {frac!r}", f"pass {opt(name, 0.15)}, say")
    val_frac, test_frac = fractions(cfg)
    if val_frac + test_frac >= 1:
        raise LstmkitError(f"`val_frac` + `test_frac` must be below 1, got {val_frac} + {test_frac}",
                           "leave room for training data, e.g. 0.15 + 0.15")
    for key in ("val_size", "test_size"):
        v = getattr(cfg, key)
        if v is not None and not _whole(v):
            raise LstmkitError(f"`{key}` must be a whole number >= 0, got {v!r}", f"pass {opt(key, 24)}, say")
    if cfg.samples_per_epoch is not None and not _whole(cfg.samples_per_epoch):
        raise LstmkitError(f"`samples_per_epoch` must be a whole number >= 0, got {cfg.samples_per_epoch!r}",
                           f"pass {opt('samples_per_epoch', 20000)}, say, or 0 to use every window")


def check_part_sizes(cfg) -> None:
    """A val or test part of fewer points than a horizon holds no window (a window belongs to the part
    that holds all its targets): --test-size 1 with --horizon 40 trained, and its test metrics were
    empty under 'no test windows (test_size 0)'. Checked when fitting, not when a run is loaded."""
    for key in ("val_size", "test_size"):
        v = getattr(cfg, key)
        if v is not None and 0 < v < cfg.horizon:
            raise LstmkitError(f"{opt(key, v)} is shorter than {opt('horizon', cfg.horizon)}: a window belongs to the "
                               f"part that holds all its {cfg.horizon} targets, so the {key[:-5]} part would hold none",
                               f"pass {opt(key, cfg.horizon)} or more (or 0 for no {key[:-5]} part)")


def check_blend(cfg) -> None:
    """``--combine ets`` beside ``--no-ets`` (when fitting): the forecast was the blend with ETS, ETS
    fitted for it, but the test table left out the ETS row it should be read against (a blend 98% ETS
    scored beside naive and seasonal naive only)."""
    if cfg.combine == "ets" and cfg.ets is False:
        off, on = worded("--no-ets", "ets=False"), worded("--ets", "ets=True")
        raise LstmkitError(f"{opt('combine', 'ets')} blends the forecast with the ETS baseline, which {off} leaves "
                           "out of the test metrics the blend is read against",
                           f"pass {on} instead (the blend is then scored beside ETS alone), or "
                           f"{opt('combine', 'seasonal_naive')}")
    own = (opt("likelihood", cfg.likelihood) if cfg.likelihood is not None
           else opt("quantiles", cfg.quantiles) if cfg.quantiles else None)
    if cfg.combine in ("ets", "seasonal_naive") and own is not None:
        # the blend was chosen on validation and recorded ("on validation 0 x network + 1 x ETS"), and every
        # forecast was the network's distribution all the same: a blend weighs point forecasts only
        raise LstmkitError(f"{opt('combine', cfg.combine)} blends point forecasts with a baseline, and {own} "
                           "forecasts a distribution, which the blend would leave as the network's alone",
                           f"drop {opt('combine')} (a probabilistic run forecasts with its network), or drop "
                           f"{own} for point forecasts blended with the baseline")


def check_blend_series(cfg, n_series: int) -> None:
    """``--combine ets`` (or ``seasonal_naive``) on a table of several series: the blend is weighed on
    one series' validation windows (and a panel's own choice is the network alone), so a fit read the
    other series' windows as that one's and stopped after training on a bare ValueError."""
    if cfg.combine in ("ets", "seasonal_naive") and n_series > 1:
        raise LstmkitError(f"{opt('combine', cfg.combine)} blends one series' forecast with a baseline, weighed on "
                           f"its validation windows, and the data has {n_series} series",
                           f"drop {opt('combine')} (several series forecast with the network alone), or train "
                           "one run per series to blend each")


def check_loss(cfg) -> None:
    """The loss a fit trains on, checked (when fitting, not when a run is loaded): ``auto`` is the task's
    own, MSE, recorded as such; quantiles train on the pinball loss and a likelihood on its negative
    log-likelihood, so another point loss beside them is refused (``--quantiles ... --loss huber``
    trained on the pinball loss all the same, and the run recorded huber as its loss)."""
    t = cfg.train
    if t.loss == "auto":
        t.loss = "mse"
    if t.loss == "mse":               # the default: given or not, nothing it would change is ignored
        return
    own = ((opt("quantiles", cfg.quantiles), "the pinball loss of its quantiles") if cfg.quantiles and not cfg.likelihood
           else (opt("likelihood", cfg.likelihood), f"the {cfg.likelihood} negative log-likelihood") if cfg.likelihood
           else None)
    if own is not None:
        raise LstmkitError(f"{opt('loss', t.loss)} does not apply with {own[0]}: the forecaster trains on {own[1]}",
                           f"drop {opt('loss')}, or drop {own[0]} for point forecasts trained on {t.loss}")


def _check_inputs(cfg) -> None:
    from lstmkit.tasks.forecast.calendar import parse_calendar
    if isinstance(cfg.calendar, str):
        cfg.calendar = [s.strip() for s in cfg.calendar.split(",") if s.strip()]
    parse_calendar(cfg.calendar)
    if cfg.time_zone is not None:
        from lstmkit.tasks.forecast.times import check_zone
        cfg.time_zone = check_zone(cfg.time_zone)
    for key in ("past_covariates", "future_covariates"):
        v = getattr(cfg, key)
        if isinstance(v, str):
            setattr(cfg, key, [s.strip() for s in v.split(",") if s.strip()])
    if not _whole(cfg.id_embedding):
        raise LstmkitError(f"`id_embedding` must be a whole number >= 0, got {cfg.id_embedding!r}",
                           f"pass {opt('id_embedding', 8)}, say (0 turns it off)")


def _check_output_and_strategy(cfg) -> None:
    cfg.quantiles = check_quantiles(cfg.quantiles)
    cfg.bounds = check_bounds(cfg.bounds)
    if cfg.likelihood is not None and cfg.likelihood not in LIKELIHOODS:
        raise LstmkitError(f"unknown likelihood {cfg.likelihood!r}{in_file('likelihood')}",
                           f"use one of: {', '.join(LIKELIHOODS)}")
    if cfg.strategy not in STRATEGIES:
        raise LstmkitError(f"unknown strategy {cfg.strategy!r}{in_file('strategy')}",
                           f"use one of: {', '.join(STRATEGIES)}")
    if cfg.strategy != "direct" and cfg.model not in RECURRENT:
        raise LstmkitError(f"the {cfg.strategy} strategy needs a recurrent encoder, not {cfg.model!r}",
                           f"use {opt('model', 'lstm')} or gru, or {opt('strategy', 'direct')}")
    if cfg.strategy == "recursive" and (cfg.past_covariates or cfg.features):
        raise LstmkitError("the recursive strategy cannot use past-only covariates (they are unknown "
                           "in the future steps it feeds back)",
                           f"use {opt('strategy', 'direct')} or seq2seq, or pass them as {opt('future_covariates')}")
    if cfg.calibrate_intervals and not (cfg.quantiles or cfg.likelihood):
        raise LstmkitError(f"{opt('calibrate_intervals', True)} calibrates a probabilistic forecast's intervals, and "
                           "this run forecasts points",
                           f"pass {opt('quantiles', [0.1, 0.5, 0.9])} or {opt('likelihood', 'gaussian')} too, or drop "
                           f"{opt('calibrate_intervals', True)}")
    e = cfg.ensemble
    if e is not None and not _whole(e, 1):
        raise LstmkitError(f"`ensemble` must be a positive whole number of seeds, got {e!r}",
                           f"pass {opt('ensemble', 5)}, say, or 1 for one model")
    if e is not None and e > 1 and cfg.likelihood is not None:
        raise LstmkitError(f"{opt('ensemble', e)} cannot be combined with the {cfg.likelihood} likelihood (the median of "
                           "distribution parameters is no distribution's)", f"use {opt('quantiles')}, or {opt('ensemble', 1)}")
    if cfg.log and cfg.likelihood is not None:
        raise LstmkitError(f"{opt('log', True)} cannot be combined with the {cfg.likelihood} likelihood (its scale "
                           "parameter has no meaning after exp)",
                           f"use {opt('quantiles')} with {opt('log', True)}, or drop {opt('log', True)}")


def _of(lookback: int | None) -> str:
    """`` (168)`` after "the lookback" where one is set; nothing where it is still to be chosen (a
    message said "the lookback (None)", and its hint "pass --highway None")."""
    return "" if lookback is None else f" ({lookback})"


def _check_shape_options(cfg) -> None:
    if cfg.highway is not None and (not _whole(cfg.highway) or (cfg.lookback is not None and cfg.highway > cfg.lookback)):
        fix = (f"pass {opt('highway', 24)} (a season), say, or 0 to turn it off" if cfg.lookback is None else
               f"pass {opt('highway', cfg.lookback)} (the whole window), a season such as 24, or 0 to turn it off")
        raise LstmkitError(f"`highway` must be a whole number from 0 to the lookback{_of(cfg.lookback)}, got {cfg.highway!r}",
                           fix)
    if cfg.highway and cfg.strategy == "recursive":
        raise LstmkitError(f"{opt('highway')} cannot be combined with the recursive strategy (the roll-out feeds back "
                           "forecasts that would lack the highway's part)",
                           f"use {opt('strategy', 'direct')} or seq2seq with {opt('highway')}")
    d = cfg.deseason
    if d is not None and (not _whole(d) or d == 1):
        raise LstmkitError(f"`deseason` must be a season length >= 2 (or 0 for off), got {d!r}",
                           f"pass {opt('deseason', 24)} for hourly data with a daily cycle, 7 for daily data, say")
    hh = cfg.highway_hidden
    if not _whole(hh):
        raise LstmkitError(f"`highway_hidden` must be a whole number >= 0, got {hh!r}",
                           f"pass {opt('highway_hidden', 256)}, say, or 0 for the linear highway")
    if hh and cfg.highway is not None and not cfg.highway:
        raise LstmkitError(f"{opt('highway_hidden')} needs {opt('highway')} (the window the MLP reads)",
                           f"add {opt('highway', cfg.lookback or 24)}, say, or drop {opt('highway_hidden')}")
    sg = cfg.segment
    if sg is not None and (not _whole(sg) or (sg and cfg.lookback is not None and cfg.lookback % sg)):
        raise LstmkitError(f"`segment` must be a whole number >= 0 that divides the lookback{_of(cfg.lookback)}, got {sg!r}",
                           f"pass {opt('segment', 24)} with {opt('lookback', 168)} for hourly data, say, or 0 to read one "
                           "step at a time")
    if sg and cfg.strategy == "recursive":
        raise LstmkitError(f"{opt('segment')} cannot be combined with the recursive strategy (it feeds the encoder one "
                           "step at a time)", f"use {opt('strategy', 'direct')} or seq2seq with {opt('segment')}")
