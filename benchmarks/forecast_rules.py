"""Choice rules for the forecast blend, scored offline from one training per series and cut.

The networks of ``benchmarks/forecast_defaults.py`` are fixed by their seeds, so the rule that
chooses the run's forecast after training (``lstmkit.tasks.forecast.combine``) can be compared with
others without retraining: ``dump`` trains the suite once at a cut and saves each network's own
forecasts of its validation and test windows; ``score`` applies every rule to them and prints, per
rule and cut, how many series it takes below seasonal naive and within 1.05x ETS (the targets of
forecast_defaults.py), the median and the geometric mean of LSTM / ETS. ``session10`` is session
10's rule; ``shrink0.5_blends``, kept in session 11, is the rule in ``combine.py`` and reproduces the
cut's table of forecast_defaults.py.

Method (sessions 10-11): develop a rule on the development cuts (early; earlier and earliest drop one
and two more test parts), keep it only if it also holds on the validation cut, and score the test
cut once afterwards, with the rule fixed (``score --cut test`` takes exactly one rule).

    OMP_NUM_THREADS=1 python benchmarks/forecast_rules.py dump --cut early --out /tmp/fc
    python benchmarks/forecast_rules.py score --out /tmp/fc --cut early [--rules session10,inverse1]
"""
from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import torch

from forecast_defaults import CUTS, SUITE, fit_series, network_windows, series_row
from lstmkit.tasks.forecast.baselines import naive_forecast
from lstmkit.tasks.forecast.combine import baseline_point, candidate_scores, ets_logs, pick, tolerance
from lstmkit.tasks.forecast.metrics import forecast_metrics
from lstmkit.tasks.forecast.windows import part_sizes


def dump(cut: str, names: list[str], out: Path) -> None:
    from lstmkit.errors import LstmkitError
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        try:
            est, frame, seconds, cpu = fit_series(name, cut)
        except LstmkitError as err:                 # e.g. the earlier cut of a short series
            print(json.dumps({"series": name, "cut": cut, "skipped": str(err)}), flush=True)
            continue
        row = series_row(name, cut, est, frame, seconds, cpu)
        cfg = est.config_
        vo, vn, vals = network_windows(est, frame, "val")
        to, tn, _ = network_windows(est, frame, "test")
        n_train, n_val, _ = part_sizes(len(vals), cfg)
        np.savez(out / f"{cut}-{name}.npz", values=vals, val_origins=vo, val_net=vn, test_origins=to, test_net=tn)
        row.update(n_train=n_train, n_val=n_val, ets_logs=ets_logs(cfg))
        (out / f"{cut}-{name}.json").write_text(json.dumps(row))
        print(json.dumps(row), flush=True)


def ets_aic(vals: np.ndarray, origins: np.ndarray, horizon: int, season: int, n_fit: int, logs: bool) -> np.ndarray:
    """Holt-Winters of the form with the lowest AICc on ``vals[:n_fit]`` (trend none / additive /
    damped; season none / additive / multiplicative when positive; in logs with ``logs``), its
    parameters fitted once and its recursions run on to each origin: ``[O, H, 1]``."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    y = vals[:int(origins.max()) + 1, 0].astype(float)
    logs = logs and bool(np.all(y > 0))
    y = np.log(y) if logs else y
    seasons = [None]
    if season > 1 and n_fit >= 2 * season:
        seasons += ["add"] + (["mul"] if not logs and np.all(y > 0) else [])
    best = None
    for trend, damped in ((None, False), ("add", False), ("add", True)):
        for seas in seasons:
            try:
                fit = ExponentialSmoothing(y[:n_fit], trend=trend, damped_trend=damped, seasonal=seas,
                                           seasonal_periods=season if seas else None,
                                           initialization_method="estimated").fit()
            except (ValueError, ArithmeticError, np.linalg.LinAlgError):
                continue
            if np.isfinite(fit.aicc) and (best is None or fit.aicc < best[0]):
                best = (fit.aicc, trend, damped, seas, fit.params)
    if best is None:                                # no form fits: the naive forecast
        return naive_forecast(vals, origins, horizon)
    _, trend, damped, seas, p = best
    filt = ExponentialSmoothing(
        y, trend=trend, damped_trend=damped, seasonal=seas, seasonal_periods=season if seas else None,
        initialization_method="known", initial_level=p["initial_level"],
        initial_trend=p["initial_trend"] if trend else None, initial_seasonal=p["initial_seasons"] if seas else None,
    ).fit(smoothing_level=p["smoothing_level"], smoothing_trend=p["smoothing_trend"] if trend else None,
          smoothing_seasonal=p["smoothing_seasonal"] if seas else None,
          damping_trend=p["damping_trend"] if damped else None, optimized=False)
    phi = float(p["damping_trend"]) if damped else 1.0
    steps = np.cumsum(phi ** np.arange(1, horizon + 1)) if trend else np.zeros(horizon)
    level = np.asarray(filt.level)[origins][:, None]
    out = level + steps[None] * (np.asarray(filt.trend)[origins][:, None] if trend else 0.0)
    if seas:
        k = np.arange(1, horizon + 1)
        s = np.asarray(filt.season)[origins[:, None] + (k - season * -(-k // season))[None]]
        out = out * s if seas == "mul" else out + s
    out = np.exp(out) if logs else out
    return out[:, :, None]


# -- the parts a rule sees ----------------------------------------------------------------------------
class Part:
    """One part's windows (validation or test): the network's forecasts, the baselines' and the scorer."""

    def __init__(self, vals, origins, net, horizon, season, n_fit, n_scale, logs):
        self.net, self.actual = net, vals[origins[:, None] + 1 + np.arange(horizon)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.bases = {"ets": baseline_point("ets", vals, origins, horizon, season, n_fit, logs),
                          "seasonal_naive": baseline_point("seasonal_naive", vals, origins, horizon, season, n_fit),
                          "naive": naive_forecast(vals, origins, horizon),
                          "ets_aic": ets_aic(vals, origins, horizon, season, n_fit, logs)}
        self.scale_part, self.season = vals[:max(n_scale, 2)], season

    def mase(self, p: np.ndarray) -> float:
        return float(forecast_metrics(self.actual, p, self.scale_part, season=self.season)["MASE"])


def load(out: Path, cut: str, name: str) -> tuple[dict, Part, Part]:
    row = json.loads((out / f"{cut}-{name}.json").read_text())
    a = np.load(out / f"{cut}-{name}.npz")
    vals, H, m, n_train, n_val = a["values"], row["horizon"], row["season"], row["n_train"], row["n_val"]
    val = Part(vals, a["val_origins"], a["val_net"], H, m, min(n_train, int(a["val_origins"].min()) + 1), n_train,
               row["ets_logs"])
    test = Part(vals, a["test_origins"], a["test_net"], H, m, n_train + n_val, n_train, row["ets_logs"])
    return row, val, test


# -- the rules: (row, validation part, test part) -> the test forecast -------------------------------
def _mix(part: Part, weights: dict[str, float]) -> np.ndarray:
    return sum(w * (part.net if k == "network" else part.bases[k]) for k, w in weights.items())


def _picked(row, val, kinds=("ets", "seasonal_naive"), scale=1.0) -> tuple[float, str, float]:
    scores = candidate_scores(val.net, {k: val.bases[k] for k in kinds}, val.mase)
    tol, _ = tolerance(row["n_val"], row["horizon"])
    return pick(scores, tol * scale)


def _as_weights(choice) -> dict[str, float]:
    _, kind, w = choice
    return {"network": 1.0} if kind == "none" else {"network": w, kind: 1 - w}


def session10(row, val, test):
    """The even blend unless another candidate scores lower by the tolerance (``pick``)."""
    return _mix(test, _as_weights(_picked(row, val)))


def naive_partner(row, val, test):
    """Naive (the last value) a third partner and candidate (the idea came from the test cut's realgdp)."""
    return _mix(test, _as_weights(_picked(row, val, ("ets", "seasonal_naive", "naive"))))


def inverse(row, val, test, kinds=("network", "ets", "seasonal_naive"), power=1.0):
    """Weights proportional to the inverse validation MASE (to a power) of each forecast."""
    s = {k: val.mase(val.net if k == "network" else val.bases[k]) for k in kinds}
    w = {k: 1 / max(v, 1e-9) ** power for k, v in s.items()}
    total = sum(w.values())
    return _mix(test, {k: v / total for k, v in w.items()})


def shrink(row, val, test, k=3.0, target="ets", blends_only=False):
    """The picked candidate shrunk toward the even ETS blend by the validation's independent windows:
    ``lambda = windows / (windows + k)`` of the pick, the rest the even ETS blend (``blends_only``:
    a pick of the network alone stays as it is)."""
    _, windows = tolerance(row["n_val"], row["horizon"])
    lam = windows / (windows + k)
    pw = _as_weights(_picked(row, val))
    if blends_only and pw == {"network": 1.0}:
        return test.net
    if target == "best":                        # the best-scoring even blend instead of the ETS one
        scores = candidate_scores(val.net, {b: val.bases[b] for b in ("ets", "seasonal_naive")}, val.mase)
        even = _as_weights(min(v for v in scores.values() if v[2] == 0.5))
    else:
        even = {"network": 0.5, "ets": 0.5}
    keys = set(pw) | set(even)
    return _mix(test, {key: lam * pw.get(key, 0) + (1 - lam) * even.get(key, 0) for key in keys})


def ets_anchor(row, val, test):
    """The even ETS blend unless another candidate (the even seasonal naive blend too) scores lower by the tolerance."""
    scores = candidate_scores(val.net, {k: val.bases[k] for k in ("ets", "seasonal_naive")}, val.mase)
    tol, _ = tolerance(row["n_val"], row["horizon"])
    even = scores["0.5 network + 0.5 ets"]
    best = min(v for v in scores.values() if np.isfinite(v[0]))
    return _mix(test, _as_weights(best if best[0] * (1 + tol) < even[0] else even))


def _window_loss(part: Part, p: np.ndarray) -> np.ndarray:
    return np.abs(part.actual - p).reshape(len(p), -1).mean(1)


def _dm_stat(d: np.ndarray, lag: int) -> float:
    """Mean of ``d`` over its Newey-West standard error (``lag`` autocovariances): overlapping windows."""
    n = len(d)
    if n < 2:
        return 0.0
    e = d - d.mean()
    var = e @ e / n
    for j in range(1, min(lag, n - 1) + 1):
        var += 2 * (1 - j / (lag + 1)) * (e[j:] @ e[:-j]) / n
    return float(d.mean() / np.sqrt(var / n)) if var > 0 else 0.0


def dm(row, val, test, z=1.0, anchor=False):
    """The best candidate whose validation loss is significantly below the even blend's (a
    Diebold-Mariano statistic above ``z``, Newey-West over the windows' overlap); else the even blend
    (the best-scoring one, or the ETS one with ``anchor``)."""
    scores = candidate_scores(val.net, {k: val.bases[k] for k in ("ets", "seasonal_naive")}, val.mase)
    evens = [v for v in scores.values() if v[2] == 0.5]
    even = scores["0.5 network + 0.5 ets"] if anchor else min(evens)
    base = _window_loss(val, _mix(val, _as_weights(even)))
    ok = [v for v in scores.values() if v != even and
          _dm_stat(base - _window_loss(val, _mix(val, _as_weights(v))), row["horizon"] - 1) > z]
    return _mix(test, _as_weights(min(ok) if ok else even))


def ets_aic_partner(row, val, test):
    """Session 10's rule with the AICc-chosen Holt-Winters as the ETS partner."""
    return _mix(test, _as_weights(_picked(row, val, ("ets_aic", "seasonal_naive"))))


def shrunk_weight(row, val, test, k=1.0):
    """The network's validation-optimal share (grid of 0.05, best partner) shrunk toward one half:
    ``0.5 + (w - 0.5) * windows / (windows + k)`` (Stock & Watson's shrinkage toward equal weights)."""
    grid = np.linspace(0, 1, 21)
    best = min((val.mase(w * val.net + (1 - w) * val.bases[b]), b, w) for b in ("ets", "seasonal_naive") for w in grid)
    _, windows = tolerance(row["n_val"], row["horizon"])
    w = 0.5 + (best[2] - 0.5) * windows / (windows + k)
    return _mix(test, {"network": w, best[1]: 1 - w})


def handicap(row, val, test, bias=0.1):
    """Session 10's rule with each candidate's validation MASE raised by ``bias`` times the network's
    share: the network early-stopped on the validation windows, so its score there flatters it."""
    scores = candidate_scores(val.net, {k: val.bases[k] for k in ("ets", "seasonal_naive")}, val.mase)
    scores = {k: (v[0] * (1 + bias * v[2]), v[1], v[2]) for k, v in scores.items()}
    tol, _ = tolerance(row["n_val"], row["horizon"])
    return _mix(test, _as_weights(pick(scores, tol)))


def inverse_pair(row, val, test):
    """The network and the partner of the best even blend, weighted by their inverse validation MASE."""
    _, kind, _ = min(v for v in candidate_scores(val.net, {k: val.bases[k] for k in ("ets", "seasonal_naive")},
                                                 val.mase).values() if v[2] == 0.5)
    return inverse(row, val, test, ("network", kind))


def wider(row, val, test, c=0.4):
    """Session 10's rule at a tolerance of ``c / windows`` (the current ``c`` is 0.3)."""
    return _mix(test, _as_weights(_picked(row, val, scale=c / 0.3)))


def clear_margin(row, val, test, cap=0.25):
    """Session 58 (issue 19), written down before any scoring: session 11's rule (``shrink0.5_blends``),
    except where the best baseline alone beats the network alone on validation by the tolerance
    (``baseline * (1 + tol) < network``, the margin the rule already asks of any candidate over the even
    blend): there the network keeps at most ``cap`` -- the candidates are the blends with either
    baseline at a network share of ``cap`` or 0, the best-scoring taken, with no anchor on the even
    blend -- and the pick is shrunk toward the even ETS blend as before."""
    scores = candidate_scores(val.net, {k: val.bases[k] for k in ("ets", "seasonal_naive")}, val.mase)
    tol, windows = tolerance(row["n_val"], row["horizon"])
    alone = min(scores[k][0] for k in ("ets", "seasonal_naive"))
    if not alone * (1 + tol) < scores["network"][0]:
        return shrink(row, val, test, 0.5, blends_only=True)
    best = min(v for v in scores.values() if v[2] <= cap and v[1] != "none")
    lam = windows / (windows + 0.5)
    pw, even = _as_weights(best), {"network": 0.5, "ets": 0.5}
    return _mix(test, {key: lam * pw.get(key, 0) + (1 - lam) * even.get(key, 0) for key in set(pw) | set(even)})


def _each(fn, key: str, values) -> dict:
    return {f"{fn.__name__}{v:g}": (lambda v: lambda r, val, t: fn(r, val, t, **{key: v}))(v) for v in values}


# every rule tried in session 11 (docs/benchmarks.md, ## Forecasting defaults), in the order of its account
RULES = {
    "session10": session10,
    **_each(wider, "c", (0.2, 0.35, 0.4, 0.5)),
    **_each(handicap, "bias", (0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2)),
    **_each(shrink, "k", (0.5, 1.0, 2.0, 3.0, 10.0)),
    "shrink1_best": lambda r, v, t: shrink(r, v, t, 1.0, "best"),
    **{f"shrink{k:g}_blends": (lambda k: lambda r, v, t: shrink(r, v, t, k, blends_only=True))(k) for k in (0.5, 1.0)},
    **_each(shrunk_weight, "k", (0.3, 1.0, 3.0)),
    **_each(inverse, "power", (1.0, 2.0)),
    "inverse_naive": lambda r, v, t: inverse(r, v, t, ("network", "ets", "seasonal_naive", "naive")),
    "inverse_pair": inverse_pair,
    **_each(dm, "z", (1.0, 1.645)),
    **{f"dm{z:g}_anchor": (lambda z: lambda r, v, t: dm(r, v, t, z, True))(z) for z in (1.0, 1.645)},
    "ets_anchor": ets_anchor,
    "ets_aic_partner": ets_aic_partner,
    "naive_partner": naive_partner,
    "clear_margin": clear_margin,
}


def score(out: Path, cut: str, rules: list[str], names: list[str]) -> None:
    if cut == "test" and len(rules) != 1:
        raise SystemExit("the test cut is scored once, with the one rule fixed on the earlier cuts: --rules NAME")
    loaded = [load(out, cut, n) for n in names if (out / f"{cut}-{n}.json").is_file()]
    for rule in rules:
        per = {}
        for row, val, test in loaded:
            mase, ref = test.mase(RULES[rule](row, val, test)), row["MASE"]
            per[row["series"]] = (round(mase, 4), round(mase / ref["ets"], 3), mase < ref["seasonal_naive"],
                                  round(mase / ref["seasonal_naive"], 3))
        ratios = [v[1] for v in per.values()]
        print(json.dumps({"rule": rule, "cut": cut, "below_snaive": f"{sum(v[2] for v in per.values())}/{len(per)}",
                          "within_1.05_ets": f"{sum(r <= 1.05 for r in ratios)}/{len(per)}",
                          "median_vs_ets": round(float(np.median(ratios)), 3),
                          "geomean_vs_ets": round(float(np.exp(np.mean(np.log(ratios)))), 4),
                          "misses": [n for n, v in per.items() if not v[2] or v[1] > 1.05],
                          "vs_ets": {n: v[1] for n, v in per.items()},
                          "vs_snaive": {n: v[3] for n, v in per.items()}, "mase": {n: v[0] for n, v in per.items()}}),
              flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=("dump", "score"))
    ap.add_argument("--cut", default="early", choices=CUTS)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--series", default=",".join(SUITE))
    ap.add_argument("--rules", default=",".join(RULES), help="comma-separated: " + ", ".join(RULES))
    args = ap.parse_args()
    names = [s.strip() for s in args.series.split(",") if s.strip()]
    if args.mode == "dump":
        torch.set_num_threads(1)
        dump(args.cut, names, args.out)
    else:
        score(args.out, args.cut, [r.strip() for r in args.rules.split(",")], names)


if __name__ == "__main__":
    main()
