"""Forecast defaults chosen from the data: what the user left unset is measured, then chosen.

    measure(train, season)          what the training part of one series shows (length, season
                                    strength, multiplicative or additive, positivity, spread)
    choose(cfg, profile, ...)       lookback, deseason, log, segment, scaler and the seed ensemble,
                                    each with the reason: ``{"lookback": {"value": 36, "why": ...}}``
    auto_defaults(cfg, data)        both, for a config whose auto fields are None (what ``fit`` calls)

A field the user set (flag, YAML key or keyword argument) is never touched: only the fields left at
None -- the config's "choose from the data" -- are filled. Everything is measured on the TRAINING
part of the series only (the split rule of :mod:`~lstmkit.tasks.forecast.windows`), so the choice
never sees the validation or test points. Many series (an id column, M4 input) keep the fixed
defaults of :data:`FIXED`: the measurements describe one series. For one series or many,
``samples_per_epoch`` is chosen from the number of training windows (below).

The rules (tuned on validation cuts of the benchmark suite, ``benchmarks/forecast_defaults.py``):

* season strength ``F = max(0, 1 - Var(remainder) / Var(detrended))`` of a classical
  decomposition at the period ``m`` (from ``--season`` or the time column's frequency);
* multiplicative: positive, and the seasonal swing of each full cycle grows with its level
  (correlation > 0.5 over a level that moves by more than 20 %), measured with isolated spikes
  replaced by the moving median (:func:`~lstmkit.tasks.forecast.baselines.without_spikes`: one
  spike had made a flat season read as "multiplicative", correlation 0.98);
* ``log``: positive and multiplicative, or spanning more than a factor 20 (spikes, e.g. lynx);
* ``deseason m``: F >= 0.5 (in the chosen units) and two full seasons in the training part;
* ``lookback``: 3 seasons (1 or 2 when the training part is short), or 4 horizons (at least 12)
  without a season; a week when the season is the day of steps shorter than a day (hourly: 168,
  half-hourly: 336) and the training part holds two weeks of windows; never more than half of what
  the training part leaves after one horizon;
* ``segment``: the season when the lookback is long (>= 96 steps) and a whole number of seasons;
* ``highway``: the lookback (a linear autoregression beside the network; off for the recursive strategy);
* ``hidden_size`` / ``num_layers``: one layer of 16 units up to 1,000 training windows, else 2 of 50;
* ``scaler``: ``standard`` (z-scores of the training part);
* ``ensemble``: the median of 15 seeds when training is cheap (<= 2,000 training windows);
* ``combine``: left to validation once trained (:mod:`~lstmkit.tasks.forecast.combine`: the network
  alone, blended with ETS or seasonal naive, or the baseline alone, as scored on the validation
  windows; the even blend unless another candidate scores lower by a tolerance that grows as the
  validation part's independent windows shrink, recorded as ``tolerance`` and
  ``independent_windows``; a blend so picked is then shrunk toward the even ETS blend by the same
  evidence, recorded as ``shares``; where a baseline alone beats the network alone by that tolerance, on the
  validation windows or pooled with up to 3 horizons of origins before them (recorded as ``pooled``), the
  network keeps at most 0.25); the network alone for probabilistic output or when the user
  sized the network (``hidden_size``, ``num_layers`` and ``ensemble`` all given);
* ``val_frac`` / ``test_frac`` left unset (15 %) that leave one series' validation or test part
  under one horizon: that part grown to the least fraction in hundredths holding one, when the training
  part then still holds a window (of the given lookback, or of one horizon when the lookback is chosen
  here), said in the line of choices; a fraction the user gave (not None, the default's value too) is refused
  as before (:func:`_fitting_parts`);
* ``samples_per_epoch``: 51,200 windows drawn per epoch (a series uniformly, then one of its
  windows) when the training part holds more than twice that (102,400), else left unset: every
  window each epoch, as before (0 asks for that explicitly). On M4 Weekly (332,900 windows with
  the fixed lookback 60) an epoch of every window took 217 s. On its validation cut
  (``benchmarks/m4.py --validation --defaults``, one seed) the fixed defaults scored OWA 0.984 with
  12,800 an epoch (the tuned recipe's number: early stopping ends them after ~40k windows), 0.976
  with 25,600, 0.902 with 51,200 (19 epochs) and 0.884 with 102,400 (20 epochs, at 2.2x the time);
  every window: 0.923 after one epoch, 0.862 after three. Every single series of
  ``benchmarks/forecast_defaults.py`` and the demo (a few thousand windows at most) stay below
  the threshold, and so would an ETTm1-sized one (~49,000).
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np

from lstmkit.errors import LstmkitError, opt, warnings_caught
from lstmkit.tasks.forecast.baselines import without_spikes

__all__ = ["AUTO_FIELDS", "FIXED", "EPOCH_WINDOWS", "MANY_WINDOWS", "measure", "choose", "auto_defaults",
           "summary_line"]

AUTO_FIELDS = ("lookback", "deseason", "log", "segment", "highway", "hidden_size", "num_layers", "scaler", "ensemble",
               "combine", "samples_per_epoch")
# the values of the auto fields where nothing is measured (many series): the former defaults
FIXED: dict[str, Any] = {"lookback": 60, "deseason": 0, "log": False, "segment": 0, "highway": 0, "hidden_size": 50,
                         "num_layers": 2, "scaler": "minmax", "ensemble": 1, "combine": "none"}

STRONG_SEASON = 0.5          # season strength from which the seasonal indices are removed
MULT_CORR = 0.5              # swing-level correlation that makes a season multiplicative
WIDE_SPREAD = 20.0           # max / min of a positive series from which logs tame its spikes
SEGMENT_FROM = 96            # lookback from which the encoder reads one season per step
CHEAP_WINDOWS = 2000         # training windows up to which a seed ensemble is cheap
ENSEMBLE_SEEDS = 15
SMALL_WINDOWS = 1000         # training windows up to which the network is one layer of 16 units
SMALL_NET, LARGE_NET = (16, 1), (50, 2)
EPOCH_WINDOWS = 51_200       # windows drawn per epoch when there are many more (M4 Weekly validation, below)
MANY_WINDOWS = 2 * EPOCH_WINDOWS   # training windows above which an epoch draws EPOCH_WINDOWS of them


# -- measuring ------------------------------------------------------------------------------------
def _centred_trend(x: np.ndarray, m: int) -> tuple[np.ndarray, int]:
    """The centred moving average over one season (2 x m for even m) and its offset in ``x``."""
    w = np.full(m + 1 if m % 2 == 0 else m, 1.0 / m)
    if m % 2 == 0:
        w[0] = w[-1] = 0.5 / m
    return np.convolve(x, w, mode="valid"), (len(w) - 1) // 2


def _strength(x: np.ndarray, m: int) -> float:
    """Season strength of ``x`` at period ``m`` (0: none, 1: all of the detrended variation)."""
    if m < 2 or len(x) < 2 * m + 1:
        return 0.0
    trend, off = _centred_trend(x, m)
    d = x[off:off + len(trend)] - trend
    phase = (np.arange(len(d)) + off) % m
    idx = np.bincount(phase, d, minlength=m) / np.maximum(np.bincount(phase, minlength=m), 1)
    rest = d - (idx - idx.mean())[phase]
    var = d.var()
    return float(max(0.0, 1.0 - rest.var() / var)) if var > 0 else 0.0


def _swing_level_corr(x: np.ndarray, m: int) -> tuple[float, float]:
    """Correlation of each full cycle's seasonal swing with its level, and how far the level moves
    (max / min of the cycle means); (0, 1) when fewer than 3 full cycles are detrended."""
    if m < 2 or len(x) < 4 * m:
        return 0.0, 1.0
    trend, off = _centred_trend(x, m)
    d = x[off:off + len(trend)] - trend
    k = len(d) // m
    cycles, levels = d[:k * m].reshape(k, m), trend[:k * m].reshape(k, m).mean(1)
    swing = cycles.std(1)
    ratio = float(levels.max() / levels.min()) if levels.min() > 0 else 1.0    # a level at or below 0: no ratio
    if k < 3 or swing.std() == 0 or levels.std() == 0:
        return 0.0, ratio
    return float(np.corrcoef(swing, levels)[0, 1]), ratio


def measure(train: np.ndarray, season: int) -> dict[str, Any]:
    """What the training part ``train [n]`` (original units, finite) of one series shows."""
    x = np.asarray(train, dtype=np.float64)
    x = x[np.isfinite(x)]
    m = int(season) if season and season > 1 and len(x) >= 2 * season + 1 else 1
    positive = bool(len(x) and x.min() > 0)
    corr, level_ratio = _swing_level_corr(without_spikes(x, len(x), m), m)   # one spike is no growing swing
    return {
        "length": int(len(x)), "season": m, "positive": positive,
        "spread": float(x.max() / x.min()) if positive else None,
        "strength": round(_strength(x, m), 3),
        "strength_log": round(_strength(np.log(x), m), 3) if positive else None,
        "swing_level_corr": round(corr, 3), "level_ratio": round(level_ratio, 3),
    }


# -- choosing ---------------------------------------------------------------------------------------
def _pick(auto: dict, name: str, value: Any, why: str) -> Any:
    auto[name] = {"value": value, "why": why}
    return value


def _lookback(cfg, p: dict[str, Any], horizon: int, period: int, windows_room: int) -> tuple[int, str]:
    room = max(1, windows_room // 2)            # at least half of the training part left as windows
    need = max(cfg.highway or 0, 1)              # a given highway reads that many steps
    week = p.get("week", 0)
    if period > 1 and week and week % period == 0 and room >= week:
        value, why = week, f"a week ({week // period} seasons of {period}): steps shorter than a day repeat by the weekday too"
    elif period > 1:
        k = min(3, room // period)
        if k >= 1:
            value, why = k * period, f"{k} season{'s' * (k > 1)} of {period}"
            if k < 3:
                why += f" (the training part has {p['length']} points)"
        else:
            value, why = max(room, 2), f"half of the {p['length']} training points left after one horizon (< 1 season)"
    else:
        want = max(4 * horizon, 12)
        value = min(want, room)
        why = "4 horizons (at least 12) without a season" if value == want else \
            f"half of the {p['length']} training points left after one horizon"
    chosen = value
    value = max(value, need)
    s = cfg.segment
    if s:                                       # the user's segment must divide it
        value = -(-value // s) * s
        why += f", a multiple of the segment {s}"
    if value > chosen and value >= windows_room:      # the user's highway or segment asks for more than there is
        asked = [name for name, on in (("highway", cfg.highway and cfg.highway > chosen), ("segment", s)) if on]
        given = " and ".join(opt(name, getattr(cfg, name)) for name in asked)
        raise LstmkitError(f"{given} need{'s' * (len(asked) == 1)} a lookback of {value} steps, and "
                           f"the training part has {p['length']} points",
                           f"pass a smaller {' and '.join(map(opt, asked))} (or 0 to turn it off)")
    return int(value), why


def choose(cfg, profile: dict[str, Any], train_windows_of) -> tuple[Any, dict[str, dict[str, Any]]]:
    """``cfg`` with each auto field that is None filled from ``profile`` (:func:`measure`), and the
    record ``{field: {"value", "why"}}`` of what was chosen. ``train_windows_of(lookback)`` is the
    number of training windows a lookback leaves."""
    p, auto, set_ = profile, {}, {}
    m_data = p["season"]
    if cfg.log is None:
        if cfg.likelihood is not None:
            set_["log"] = _pick(auto, "log", False, f"the {cfg.likelihood} likelihood models original units")
        elif p["positive"] and p.get("nonpositive_at"):
            set_["log"] = _pick(auto, "log", False, f"a value at or below 0 after the training part (point "
                                                    f"{p['nonpositive_at']}), which logs cannot model")
        elif p["positive"] and m_data > 1 and p["swing_level_corr"] > MULT_CORR and p["level_ratio"] > 1.2:
            why = (f"positive, multiplicative season: the seasonal swing grows with the level "
                   f"(correlation {p['swing_level_corr']:.2f})")
            if max(p["strength"], p["strength_log"] or 0) < STRONG_SEASON:    # no season to call multiplicative
                why = (f"positive, multiplicative: the swing within each cycle of {m_data} grows with the level "
                       f"(correlation {p['swing_level_corr']:.2f}; the season itself is weak)")
            set_["log"] = _pick(auto, "log", True, why)
        elif p["positive"] and p["spread"] > WIDE_SPREAD:
            set_["log"] = _pick(auto, "log", True, f"positive and spanning a factor {p['spread']:.0f} (> {WIDE_SPREAD:g})")
        elif not p["positive"]:
            set_["log"] = _pick(auto, "log", False, "the training part is not all positive")
        else:
            set_["log"] = _pick(auto, "log", False, "additive: the seasonal swing does not grow with the level"
                                if m_data > 1 else f"positive, spanning a factor {p['spread']:.1f} only")
    log = set_.get("log", cfg.log)
    strength = p["strength_log"] if log and p["strength_log"] is not None else p["strength"]
    if cfg.deseason is None:
        if m_data < 2:
            set_["deseason"] = _pick(auto, "deseason", 0, "no season (period 1 or fewer than 2 seasons of data)")
        elif strength >= STRONG_SEASON:
            set_["deseason"] = _pick(auto, "deseason", m_data, f"season strength {strength:.2f} at period {m_data}"
                                     f"{' (in logs)' if log else ''}")
        else:
            set_["deseason"] = _pick(auto, "deseason", 0, f"weak season: strength {strength:.2f} at period {m_data} "
                                     f"(< {STRONG_SEASON})")
    period = set_.get("deseason", cfg.deseason) or m_data
    if cfg.lookback is None:
        room = p["length"] - cfg.horizon
        value, why = _lookback(cfg, p, cfg.horizon, period, room)
        set_["lookback"] = _pick(auto, "lookback", value, why)
    lookback = set_.get("lookback", cfg.lookback)
    if cfg.segment is None:
        if lookback >= SEGMENT_FROM and period > 1 and lookback % period == 0 and cfg.strategy != "recursive":
            set_["segment"] = _pick(auto, "segment", period, f"a long lookback ({lookback}): one season per encoder step")
        else:
            set_["segment"] = _pick(auto, "segment", 0, f"lookback {lookback} is short enough to read step by step")
    if cfg.highway is None:
        if cfg.strategy == "recursive":
            set_["highway"] = _pick(auto, "highway", 0, "the recursive strategy feeds back forecasts without it")
        else:
            set_["highway"] = _pick(auto, "highway", lookback, "a linear map from the whole window to the horizon "
                                    "beside the network (an autoregression a small series can fit)")
    n_win = train_windows_of(lookback)
    small = n_win <= SMALL_WINDOWS
    size, layers = SMALL_NET if small else LARGE_NET
    why = (f"small data ({n_win} training windows): more data per parameter" if small else
           f"{n_win} training windows: room for the larger network")
    if cfg.hidden_size is None:
        set_["hidden_size"] = _pick(auto, "hidden_size", size, why)
    if cfg.num_layers is None:
        set_["num_layers"] = _pick(auto, "num_layers", layers, why)
    if cfg.scaler is None:
        set_["scaler"] = _pick(auto, "scaler", "standard", "z-scores of the training part: a trending level may "
                               "leave minmax's training range")
    if cfg.ensemble is None:
        if n_win <= CHEAP_WINDOWS and not cfg.quantiles and cfg.likelihood is None:
            set_["ensemble"] = _pick(auto, "ensemble", ENSEMBLE_SEEDS,
                                     f"small data ({n_win} training windows): the median of {ENSEMBLE_SEEDS} seeds, "
                                     f"cheap at this size")
        else:
            set_["ensemble"] = _pick(auto, "ensemble", 1, f"{n_win} training windows: one model"
                                     if n_win > CHEAP_WINDOWS else "probabilistic output: one model")
    if cfg.combine is None:         # left None: chosen on validation once trained (combine.py)
        if cfg.quantiles or cfg.likelihood is not None:
            set_["combine"] = _pick(auto, "combine", "none", "probabilistic output: the network's distribution alone")
        elif all(getattr(cfg, k) is not None for k in ("hidden_size", "num_layers", "ensemble")):
            set_["combine"] = _pick(auto, "combine", "none", "the network's size was given: its forecast alone")
    return dataclasses.replace(cfg, **set_), auto


def _fixed(cfg, why: str) -> tuple[Any, dict[str, dict[str, Any]]]:
    auto = {k: {"value": v, "why": why} for k, v in FIXED.items() if getattr(cfg, k) is None}
    return dataclasses.replace(cfg, **{k: a["value"] for k, a in auto.items()}), auto


def _fitting_lookback(cfg, auto: dict[str, dict[str, Any]], panel) -> tuple[Any, dict[str, dict[str, Any]]]:
    """A panel's fixed lookback, or, when it leaves most series too short to train on (monthly
    series of five years were skipped or refused with 60), the one-series choice for the median
    series (3 seasons, or 4 horizons; half its training part at most)."""
    if "lookback" not in auto:
        return cfg, auto
    from lstmkit.tasks.forecast.pipeline import panel_season
    from lstmkit.tasks.forecast.windows import min_points, part_sizes
    if 2 * int((panel.lengths >= min_points(cfg)).sum()) >= len(panel.lengths):
        return cfg, auto
    n_train = part_sizes(int(np.median(panel.lengths)), cfg)[0]
    value, why = _lookback(cfg, {"length": n_train}, cfg.horizon, panel_season(panel, cfg),
                           max(n_train - cfg.horizon + 1, 0))
    auto = {**auto, "lookback": {"value": value, "why": f"many series, most too short for {cfg.lookback}: for the "
                                                        f"median series, {why}"}}
    return dataclasses.replace(cfg, lookback=value), auto


def _epoch_size(cfg, auto: dict[str, dict[str, Any]], panel) -> tuple[Any, dict[str, dict[str, Any]]]:
    """``samples_per_epoch`` of a run whose training part holds more than :data:`MANY_WINDOWS`
    windows: :data:`EPOCH_WINDOWS` drawn per epoch (a series uniformly, then one of its windows);
    otherwise left unset, which trains on every window each epoch as before."""
    if cfg.samples_per_epoch is not None:
        return cfg, auto
    from lstmkit.tasks.forecast.windows import split_panel
    n_win = len(split_panel(panel, cfg)["train"][0])
    if n_win <= MANY_WINDOWS:
        return cfg, auto
    auto = dict(auto)
    value = _pick(auto, "samples_per_epoch", EPOCH_WINDOWS, f"{n_win:,} training windows, more than {MANY_WINDOWS:,}: "
                  f"each epoch draws {EPOCH_WINDOWS:,} of them, a series uniformly then one of its windows")
    return dataclasses.replace(cfg, samples_per_epoch=value), auto


def auto_defaults(cfg, data) -> tuple[Any, dict[str, dict[str, Any]]]:
    """``cfg`` with every auto field the user left unset (None) chosen from ``data``, and the
    record of the choices (empty when every field was set: nothing is read then)."""
    if all(getattr(cfg, k) is not None for k in AUTO_FIELDS):
        return _settled_fractions(cfg), {}
    from lstmkit.tasks.forecast.panel import read_panel
    with warnings_caught():      # a look at the data: the fit reads it again, and says what it finds once
        warnings.simplefilter("ignore")
        panel = read_panel(data, cfg, need=None)
    if cfg.id is not None or cfg.format != "long":
        out, auto = _fixed(cfg, "many series: the fixed defaults; the choice from the data measures one series")
        out, auto = _fitting_lookback(out, auto, panel)
    elif len(panel.ids) != 1 or len(cfg.target) != 1:
        out, auto = _fixed(cfg, "several series or targets: the fixed defaults; the choice from the data measures "
                                "one target")
    else:
        cfg, parts = _fitting_parts(cfg, panel)
        out, auto = (_one_series(cfg, panel) if any(getattr(cfg, k) is None for k in AUTO_FIELDS
                                                    if k != "samples_per_epoch") else (cfg, {}))
        auto = {**parts, **auto}
    return _epoch_size(_settled_fractions(out), auto, panel)


def _settled_fractions(cfg):
    """``cfg`` with ``val_frac`` / ``test_frac`` left unset (None) at their default where the fit splits by them
    (:func:`~lstmkit.tasks.forecast.windows.fractions`), so the run records the value it used; left unset
    where it splits by sizes (many series, ``val_size`` / ``test_size``), which the fractions do not split."""
    from lstmkit.tasks.forecast.windows import fractions, uses_fractions
    if (cfg.val_frac is not None and cfg.test_frac is not None) or not uses_fractions(cfg):
        return cfg
    return dataclasses.replace(cfg, **dict(zip(("val_frac", "test_frac"), fractions(cfg))))


def _fitting_parts(cfg, panel) -> tuple[Any, dict[str, dict[str, Any]]]:
    """One series split by the default fractions (``val_frac`` / ``test_frac`` left unset: None, read as
    :data:`~lstmkit.tasks.forecast.windows.DEFAULT_FRAC`) that leave its validation or test part under one
    horizon: each such part grown to the least fraction (in hundredths) that holds one, when the training
    part then still holds a window -- of the given lookback, or of a lookback of one horizon when the
    lookback is left to the data (so a series of a lookback + 3 horizons always splits). Returns the config
    and the record of each fraction so chosen. A fraction the user gave (a flag, a YAML key, a keyword
    argument: not None) is never changed, whatever its value: a part it leaves under a horizon is refused,
    as before (panel.py), naming the fraction that would fit. Session 58 told "given" by the value, so an
    explicit ``--val-frac 0.15`` (the default's value) was grown all the same. Half-hourly solar generation
    (sktime's, 289 points) with ``--horizon 48``: the default 15 % is 43 validation points, and a new user's
    first run was refused."""
    from lstmkit.tasks.forecast.panel import frac_for
    from lstmkit.tasks.forecast.windows import fractions, uses_fractions
    if not uses_fractions(cfg):
        return cfg, {}
    n, h = int(panel.lengths[0]), cfg.horizon
    share = dict(zip(("val_frac", "test_frac"), fractions(cfg)))
    grown = {}
    for frac in ("val_frac", "test_frac"):
        if getattr(cfg, frac) is None and 0 < share[frac] and round(n * share[frac]) < h:
            grown[frac] = float(frac_for(h, n))
    if not grown:
        return cfg, {}
    new = {**share, **grown}
    n_train = n - sum(round(n * v) for v in new.values())
    if n_train < (cfg.lookback if cfg.lookback is not None else h) + h or sum(new.values()) >= 1:
        return cfg, {}                           # too short all the same: refused as before, naming the parts
    part = {"val_frac": "validation", "test_frac": "test"}
    return dataclasses.replace(cfg, **grown), {
        frac: {"value": v, "why": f"the default {100 * share[frac]:g} % of {n} points is {round(n * share[frac])}, "
                                  f"less than one horizon of {h}: {100 * v:g} % = {round(n * v)} points, the least "
                                  f"{part[frac]} part that holds one; {opt(frac)} chooses another"}
        for frac, v in grown.items()}


def _one_series(cfg, panel) -> tuple[Any, dict[str, dict[str, Any]]]:
    from lstmkit.tasks.forecast.pipeline import panel_season, panel_week
    from lstmkit.tasks.forecast.windows import part_sizes
    n_train = part_sizes(int(panel.lengths[0]), cfg)[0]
    season = panel_season(panel, cfg)
    profile = measure(panel.values[:n_train, 0], season)
    if profile["season"] > 1 and (week := panel_week(panel, profile["season"])):
        profile["week"] = week
    later = np.flatnonzero(panel.values[n_train:, 0] <= 0)        # NaN compares False
    if len(later):               # a point logs cannot take: a fact of the data, not a score, so no peek at the test
        profile["nonpositive_at"] = int(n_train + later[0] + 1)
    out, auto = choose(cfg, profile, lambda L: max(n_train - L - cfg.horizon + 1, 0))
    auto["measured"] = profile
    return out, auto


def summary_line(auto: dict[str, dict[str, Any]]) -> str:
    """One line of the choices: ``auto: lookback 36 (3 seasons of 12); log (...); ...``."""
    parts = [f"{key} column {auto[key]['value']!r} ({auto[key]['why']})" for key in ("time", "target", "id")
             if key in auto]
    parts += [f"season {auto['season']['value']} ({auto['season']['why']})"] if "season" in auto else []
    parts += [f"{key} {auto[key]['value']:g} ({auto[key]['why']})" for key in ("val_frac", "test_frac") if key in auto]
    groups: dict[str, list[str]] = {}            # choices with one reason are said once (many series: all of them)
    for name in AUTO_FIELDS:
        if name in auto:
            v = auto[name]["value"]
            groups.setdefault(auto[name]["why"], []).append(name if v is True else f"no {name}" if v is False
                                                            else f"{name} {v}")
    parts += [f"{', '.join(shown)} ({why})" for why, shown in groups.items()]
    return "chosen from the training data: " + "; ".join(parts) if parts else ""
