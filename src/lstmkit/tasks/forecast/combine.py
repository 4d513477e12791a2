"""The network's forecast combined with a classical one, the weight chosen on validation.

On a short series the LSTM often loses to ETS or to seasonal naive, and the field's steadiest
remedy is a combination: the average of two forecasts that err differently beats either more often
than not (the M3/M4 competitions). ``--combine`` (``ForecastConfig.combine``):

    none                      the network's forecast alone
    ets | seasonal_naive      ``w * network + (1 - w) * baseline``, ``w`` (the network's share)
                              chosen on the validation windows from :data:`WEIGHTS`
    None (default)            chosen after training: both baselines and every weight are scored
                              on the validation windows (one series with point forecasts, when the
                              network's size is chosen from the data; :mod:`~lstmkit.tasks.forecast.auto`)

Where the candidates are scored: the run's network early-stopped on its validation windows, so
its own score there flatters it. Probes answer that (an inner validation inside the data the run
trained on, never the test part): a probe is a network of the run's shape (at most
:data:`PROBE_SEEDS` seeds) trained on the training part without its last ``n_val`` points and
early-stopped on them, then scored on the validation windows; a second probe, one ``n_val``
earlier, is scored on those last training points. Each probe forecasts windows it never saw nor
stopped on, and the candidates are scored on both cuts together (twice the windows, a longer
stretch of the series). A training part too short for a probe (fewer than
:data:`PROBE_MIN_WINDOWS` or two horizons of training windows) falls back to the run's own
validation scores.

The choice leans on equal weights: the even blend with the baseline that suits it best is taken
unless another candidate (the network alone, another weight, or the baseline alone -- weight 0,
when the network adds nothing) scores a MASE more than :data:`TOLERANCE` lower. A few windows
weigh noisily; equal weights are the field's robust answer to that (the "forecast combination
puzzle", Smith & Wallis 2009).

The baseline is computed from the history the forecast starts from: seasonal naive from the last
season, ETS (damped Holt-Winters, :func:`~lstmkit.tasks.forecast.baselines.ets_forecast`; on logs
when the run models logs and removes a season, :func:`ets_logs`: a multiplicative season) fitted
on the points before the first forecast origin -- on the training part when the weight is chosen,
on training + validation for the test windows, on the whole history the caller passes for
``predict`` and for the service's request. The combination lives outside the network graph: the
exported ONNX / int8 graph is the network, and the blend is applied around it in Python from the
history given, by every engine alike. Streaming and online updates refuse such a run
(``deploy_problem``): the baseline is refit on the whole history of each forecast.

    choose_combination(est, panel, arrays, val)    ({"baseline", "weight"} or None, the record)
    probe_forecasts(est, panel, arrays, end, ...)   one probe's forecasts of the windows after ``end``
    active_combination(est)                         the run's blend in force, or None
    combine_windows(est, params, panel, rows, series)   the blend on windows (original units)
    combine_ahead(est, params, panel)                   the blend after each series' end
    combine_history(est, params, values)                the blend after one history's end
    baseline_history(est)                           values a history needs for the baseline, and why
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import torch

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.baselines import ets_forecast
from lstmkit.tasks.forecast.ensemble import ensemble_loss
from lstmkit.tasks.forecast.evaluation import snaive
from lstmkit.tasks.forecast.metrics import forecast_metrics
from lstmkit.tasks.forecast.windows import PanelBatches, part_sizes

__all__ = ["BASELINES", "WEIGHTS", "TOLERANCE", "NAMES", "PROBE", "choose_combination", "probe_forecasts", "offsets_in", "candidate_scores", "pick", "active_combination",
           "combine_windows", "combine_ahead", "combine_history", "baseline_history", "baseline_point", "ets_logs"]

BASELINES = ("ets", "seasonal_naive")
WEIGHTS = (1.0, 0.75, 0.5, 0.25, 0.0)  # the network's share; 1: the network alone, 0: the baseline alone
TOLERANCE = 0.10                      # how much lower another candidate must score to beat the even blend
PROBE = True                          # weigh the candidates on probe networks' forecasts of windows new to them
PROBE_SEEDS = 5                       # a probe's seed ensemble: at most this many members
PROBE_MIN_WINDOWS = 8                 # training windows a probe needs (and two horizons)
NAMES = {"ets": "ETS", "seasonal_naive": "seasonal naive"}


def baseline_point(kind: str, values: np.ndarray, origins: np.ndarray, horizon: int, season: int,
                   n_fit: int, log: bool = False) -> np.ndarray:
    """The ``kind`` baseline's forecast ``[O, H, T]`` from each origin of ``values [N, T]``;
    ETS is fitted on ``values[:n_fit]`` (every origin at least ``n_fit - 1``), on their logs with
    ``log`` (a run that models logs: a multiplicative season) when every value is positive."""
    if kind == "seasonal_naive":
        return snaive(values, origins, horizon, season)
    logs = log and bool(np.all(values[:int(np.max(origins)) + 1] > 0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if logs:
            return np.exp(ets_forecast(np.log(values), origins, horizon, season, max(2, int(n_fit))))
        return ets_forecast(values, origins, horizon, season, max(2, int(n_fit)))


def ets_logs(cfg) -> bool:
    """Whether the ETS baseline is fitted on logs: the run models logs and removes a season (a
    multiplicative season, which additive Holt-Winters fits in logs); without a season the logs
    tame spikes, and exponentiating a trend fitted on them can run away."""
    return bool(cfg.log) and bool(cfg.deseason)


def _blend(network: np.ndarray, base: np.ndarray, weight: float) -> np.ndarray:
    return weight * network + (1.0 - weight) * base


def active_combination(est) -> dict[str, Any] | None:
    """``{"baseline", "weight"}`` when the run's forecasts are blended (a weight below 1 on point
    forecasts), else None."""
    c = getattr(est, "combination_", None)
    return c if c and c["weight"] < 1 and est.output_.kind == "point" else None


def combine_windows(est, params: np.ndarray, panel, rows: torch.Tensor, series: torch.Tensor) -> np.ndarray:
    """``params [n, H, T]`` (original units) of the windows starting at ``rows`` of ``series``,
    blended with the run's baseline (unchanged when the run has none). ETS is fitted per series on
    its training + validation part, or on the points before its first origin when that is earlier."""
    c = active_combination(est)
    if c is None or panel is None or len(params) == 0:
        return params
    cfg = est.config_
    out = params.copy()
    s_all, r_all = series.numpy(), rows.numpy()
    for s in np.unique(s_all):
        sel = np.flatnonzero(s_all == s)
        r = panel.rows(int(s))
        origins = r_all[sel] - r.start + cfg.lookback - 1
        n_train, n_val, _ = part_sizes(int(panel.lengths[s]), cfg)
        n_fit = min(n_train + n_val, int(origins.min()) + 1)
        base = baseline_point(c["baseline"], panel.values[r], origins, cfg.horizon, est.season_, n_fit, ets_logs(cfg))
        out[sel] = _blend(params[sel], base, c["weight"])
    return out


def combine_ahead(est, params: np.ndarray, panel) -> np.ndarray:
    """``params [S, H, T]`` (original units) of the steps after each series' end, blended with the
    run's baseline computed from each series' whole history."""
    if active_combination(est) is None:
        return params
    return np.stack([combine_history(est, params[s], panel.values[panel.rows(s)])
                     for s in range(len(panel.ids))])


def combine_history(est, params: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``params [H, T]`` (original units) of the steps after the history ``values [N, T]`` (original
    units, N >= 2), blended with the run's baseline from that whole history (ETS fitted on all of
    it); unchanged when the run has no blend. What ``predict`` does on a table of those values."""
    c = active_combination(est)
    if c is None:
        return params
    n = len(values)
    base = baseline_point(c["baseline"], values, np.array([n - 1]), est.config_.horizon, est.season_, n,
                          ets_logs(est.config_))
    return _blend(params, base[0], c["weight"])


def baseline_history(est) -> tuple[int, str] | None:
    """``(values, why)``: the history a forecast needs for its baseline to be the one chosen on
    validation -- ETS is seasonal from two seasons on (fewer: a non-seasonal fit), seasonal naive
    repeats the last season (fewer: the naive forecast); None when the run has no blend."""
    c = active_combination(est)
    if c is None:
        return None
    m = int(est.season_)
    if m <= 1:                                                      # no season: ETS needs two values
        return 2, f"two values for the {NAMES[c['baseline']]} baseline it blends with"
    if c["baseline"] == "ets":
        return max(2, 2 * m), f"two seasons of {m} to fit the ETS baseline it blends with"
    return m, f"a season of {m} for the seasonal naive baseline it blends with"


def offsets_in(first: int, end: int, lookback: int, horizon: int) -> np.ndarray:
    """Window offsets whose targets lie in ``[first, end)`` (the split rule of ``windows.split_panel``)."""
    return np.arange(max(first - lookback, 0), max(end - lookback - horizon + 1, 0), dtype=np.int64)


def probe_forecasts(est, panel, arrays, end: int, n_stop: int, n_score: int) -> tuple[np.ndarray, np.ndarray, dict] | None:
    """A probe: a network of the run's shape (at most :data:`PROBE_SEEDS` seeds) trained on the
    series' first ``end - n_stop`` points and early-stopped on the next ``n_stop``; its point
    forecasts ``[n, H, T]`` (original units) on the windows whose targets lie in the ``n_score``
    points after ``end`` -- new to it, as the run's validation windows are not to the run's own
    network (it early-stopped on them) -- with their offsets in the series and what the probe was.
    None when the points before ``end`` leave too few training windows."""
    from lstmkit.train import Trainer                      # torch training: only when a probe trains
    cfg = est.config_
    L, H = cfg.lookback, cfg.horizon
    inner = end - n_stop
    fit_o, stop_o, score_o = (offsets_in(0, inner, L, H), offsets_in(inner, end, L, H),
                              offsets_in(end, end + n_score, L, H))
    if len(fit_o) < max(2 * H, PROBE_MIN_WINDOWS) or len(stop_o) == 0 or len(score_o) == 0:
        return None
    start = int(panel.starts[0])
    X, Y, Fut = arrays["inputs"], arrays["targets"], arrays["future"]
    zeros = lambda o: torch.zeros(len(o), dtype=torch.long)
    batches = lambda o, bs, shuffle, n=None: PanelBatches(X, Y, Fut, torch.from_numpy(o + start), zeros(o), L, H,
                                                          bs, shuffle, n)
    torch.manual_seed(cfg.train.seed + end)
    k = min(cfg.ensemble or 1, PROBE_SEEDS)
    probe_cfg = dataclasses.replace(cfg, ensemble=k)
    net = est._build_net(probe_cfg)
    loss = ensemble_loss(est.output_.loss, k) if k > 1 else est.output_.loss
    train_cfg = dataclasses.replace(cfg.train, doctor=False, tensorboard=False, progress="off")
    result = Trainer(train_cfg, loss_fn=loss).fit(net, batches(fit_o, cfg.train.batch_size, True, cfg.samples_per_epoch),
                                                  batches(stop_o, 1024, False))
    net.to("cpu").eval()
    own, est.net_ = est.net_, net                          # the run's own forward path, with the probe's weights
    try:
        params = est._forecast_windows(arrays, torch.from_numpy(score_o + start), zeros(score_o),
                                       est._series_index(panel))
    finally:
        est.net_ = own
    point = est.output_.point(torch.from_numpy(params)).numpy()
    return point, score_o, {"train_points": int(inner), "stop_points": int(n_stop), "scored_points": int(n_score),
                            "seeds": k, "epochs": int(result.epochs_run)}


def candidate_scores(network: np.ndarray, bases: dict[str, np.ndarray], mase) -> dict[str, tuple[float, str, float]]:
    """Every candidate's MASE: ``{label: (score, baseline or "none", network weight)}``."""
    out = {"network": (mase(network), "none", 1.0)}
    for kind, base in bases.items():
        for w in WEIGHTS[1:]:
            label = kind if w == 0 else f"{w:g} network + {1 - w:g} {kind}"
            out[label] = (mase(_blend(network, base, w)), kind, w)
    return out


def pick(scores: dict[str, tuple[float, str, float]], tolerance: float = TOLERANCE) -> tuple[float, str, float]:
    """The candidate the rule takes: the best-scoring even blend unless another candidate scores
    more than ``tolerance`` lower."""
    finite = [v for v in scores.values() if np.isfinite(v[0])]
    best = min(finite, default=scores["network"])
    even = min((v for v in finite if v[2] == 0.5), default=(np.inf, "none", 1.0))
    return best if best[0] * (1 + tolerance) < even[0] else even


def choose_combination(est, panel, arrays, val) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The combination of one series' network with a baseline chosen on the validation windows
    ``val`` (rows, series) by the rule of the module docstring; and the record
    ``{"value", "weight", "why", "validation_mase", ...}`` for ``lstmkit.json``'s ``auto``.

    ``est.config_.combine`` None tries both baselines, a baseline name only that one. The scores
    the rule reads are probes' (:func:`probe_forecasts`) where the training part leaves room for
    them: one scored on the validation part, one on the last ``n_val`` points of the training part
    (windows new to each); else the run's own network's on the validation windows."""
    cfg = est.config_
    rows, series = val
    kinds = BASELINES if cfg.combine is None else (cfg.combine,)
    if len(rows) == 0:
        return None, {"value": "none", "weight": 1.0, "why": "no validation windows to weigh a combination on"}
    vals = panel.values[panel.rows(0)]
    n_train, n_val, _ = part_sizes(int(panel.lengths[0]), cfg)
    mase_of = lambda actual: lambda p: float(forecast_metrics(actual, p, vals[:max(n_train, 2)],
                                                              season=est.season_)["MASE"])

    def scored(network: np.ndarray, origins: np.ndarray, n_fit: int):     # (network, bases, actual) of windows
        actual = vals[origins[:, None] + 1 + np.arange(cfg.horizon)]        # [n, H, T]
        bases = {kind: baseline_point(kind, vals, origins, cfg.horizon, est.season_, min(n_fit, int(origins.min()) + 1),
                                     ets_logs(cfg)) for kind in kinds}
        return network, bases, actual

    network = est.output_.point(torch.from_numpy(est._forecast_windows(arrays, rows, series,
                                                                       est._series_index(panel)))).numpy()
    origins = rows.numpy() - int(panel.starts[0]) + cfg.lookback - 1
    net, bases, actual = scored(network, origins, n_train)
    own = candidate_scores(net, bases, mase_of(actual))
    cuts, probes, failed = [], [], None
    for end in ((n_train, n_train - n_val) if PROBE else ()):
        try:
            probe = probe_forecasts(est, panel, arrays, end, n_val, n_val)
        except LstmkitError as err:               # e.g. a probe that diverged: the trained run stands
            cuts, probes, failed = [], [], err.message
            break
        if probe is not None:
            cuts.append(scored(probe[0], probe[1] + cfg.lookback - 1, end))
            probes.append(probe[2])
    if cuts:
        cat = lambda i: np.concatenate([c[i] for c in cuts])
        scores = candidate_scores(cat(0), {k: np.concatenate([c[1][k] for c in cuts]) for k in kinds}, mase_of(cat(2)))
    else:
        scores = own
    score, kind, w = pick(scores)
    record = {"validation_mase": {k: round(v[0], 4) for k, v in scores.items()}}
    if failed:
        record["probe_failed"] = failed
    if cuts:
        record["probes"] = probes
        record["own_validation_mase"] = {k: round(v[0], 4) for k, v in own.items()}
    who = f"{len(cuts)} probe network{'s' * (len(cuts) > 1)} (on windows new to them)" if cuts else "the network"
    alone = scores["network"][0]
    if kind == "none":
        return None, {"value": "none", "weight": 1.0, **record,
                      "why": f"on validation {who} alone scores best (MASE {alone:.3f}), over "
                             f"{TOLERANCE:.0%} below an even blend with a baseline"}
    why = (f"on validation {w:g} x network + {1 - w:g} x {NAMES[kind]} scores MASE {score:.3f}, {who} "
           f"alone {alone:.3f}, {NAMES[kind]} alone {scores[kind][0]:.3f}")
    return {"baseline": kind, "weight": w}, {"value": kind, "weight": w, "why": why, **record}
