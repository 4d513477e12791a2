"""Forecasting with the defaults only, on single series that ship inside well-kept packages.

Each series trains ``Forecaster(horizon=H)`` with nothing else set: lookback, seasonal adjustment,
log targets, segment length, scaler and the seed ensemble are chosen from the training part
(:mod:`lstmkit.tasks.forecast.auto`), and once trained the validation windows choose between the
network's forecast and its blend with ETS or seasonal naive (:mod:`lstmkit.tasks.forecast.combine`). Test part: the last 2 seasons of each series (20 % when it has
no season, or when 2 seasons would be more than a quarter of it), scored with rolling origins
(stride 1, every horizon step) beside naive, seasonal naive and ETS (damped Holt-Winters,
``tasks/forecast/baselines.py``) on the same points; validation: the default 15 % before it.

Targets: MASE below seasonal naive on every series, and at most 1.05x ETS's on >= 80 % of them.

``--cut validation`` (what the rules were tuned on) drops each series' test part first and applies
the same protocol to what is left, so tuning never sees a test point; ``--cut early`` drops the
validation cut's test part too (validation of the validation: a rule is developed on the early cut
and accepted only if it also holds on the validation cut); ``--cut test`` (default) is the
reported run, and writes the table into ``docs/benchmarks.md`` (section ``## Forecasting
defaults``); ``--cut earlier`` drops the early cut's test part as well, ``--cut earliest`` the earlier cut's (more
development data); ``--cut both`` runs validation then test, ``--cut all`` earliest to test.
Prints one JSON line per series and a summary line.

Data: statsmodels (co2, elec_equip, elnino, macrodata, nile, sunspots), sktime's shipped CSVs
(airline, lynx, seatbelts, shampoo, US change) and pmdarima's half-hourly Taylor demand:
``pip install -e '.[bench]'`` (sktime 1.2.0 and pmdarima 2.1.1, installed with ``--no-deps`` where their
pins would downgrade pandas or numpy: only their data files are read).

    OMP_NUM_THREADS=1 python benchmarks/forecast_defaults.py [--cut earliest|earlier|early|validation|test|both|all] [--series airline,nile]
"""
from __future__ import annotations

import argparse
import json
import re
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from _settings import parse_overrides
from lstmkit import Forecaster
from lstmkit.errors import LstmkitError

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
SECTION = "## Forecasting defaults"
CUTS = ("test", "validation", "early", "earlier", "earliest")   # each cut drops the test part of the one before it


# -- the suite ---------------------------------------------------------------------------------
def _sktime_csv(name: str) -> pd.DataFrame:
    import importlib.util
    spec = importlib.util.find_spec("sktime")
    if spec is None:
        raise SystemExit("sktime is not installed: pip install 'sktime==1.2.0' --no-deps (the bench extra)")
    root = Path(spec.submodule_search_locations[0]) / "datasets" / "data"
    return pd.read_csv(root / name / f"{name}.csv")


def _monthly(values, start: str) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=pd.date_range(start, periods=len(values), freq="MS"))


def _yearly(values, first_year: int) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float),
                     index=pd.date_range(f"{first_year}-01-01", periods=len(values), freq="YS"))


def _quarterly(values, start: str) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=pd.date_range(start, periods=len(values), freq="QS"))


def load_airline() -> pd.Series:
    return _monthly(_sktime_csv("Airline")["Passengers"], "1949-01-01")


def load_seatbelts() -> pd.Series:
    return _monthly(_sktime_csv("seatbelts")["KSI"], "1969-01-01")


def load_shampoo() -> pd.Series:
    return _monthly(_sktime_csv("ShampooSales")["Sales"], "1991-01-01")


def load_lynx() -> pd.Series:
    return _yearly(_sktime_csv("Lynx").iloc[:, 1], 1821)


def load_elec_equip() -> pd.Series:
    from statsmodels.datasets import elec_equip
    d = elec_equip.load().data
    return _monthly(d.iloc[:, 0], str(d.index[0].date()))


def load_uschange() -> pd.Series:
    return _quarterly(_sktime_csv("Uschange")["Consumption"], "1970-01-01")


def load_co2() -> pd.Series:
    import statsmodels.api as sm
    weekly = sm.datasets.co2.load_pandas().data["co2"]
    monthly = weekly.resample("MS").mean().interpolate()
    return _monthly(monthly.to_numpy(), str(monthly.index[0].date()))


def load_elnino() -> pd.Series:
    import statsmodels.api as sm
    wide = sm.datasets.elnino.load_pandas().data
    return _monthly(wide.drop(columns="YEAR").to_numpy().reshape(-1), f"{int(wide['YEAR'].iloc[0])}-01-01")


def load_realgdp() -> pd.Series:
    import statsmodels.api as sm
    d = sm.datasets.macrodata.load_pandas().data
    return _quarterly(d["realgdp"], f"{int(d['year'].iloc[0])}-01-01")


def load_nile() -> pd.Series:
    import statsmodels.api as sm
    d = sm.datasets.nile.load_pandas().data
    return _yearly(d["volume"], int(d["year"].iloc[0]))


def load_sunspots() -> pd.Series:
    import statsmodels.api as sm
    d = sm.datasets.sunspots.load_pandas().data
    return _yearly(d["SUNACTIVITY"], int(d["YEAR"].iloc[0]))


def load_taylor() -> pd.Series:
    """Half-hourly electricity demand in England and Wales, Monday 2000-06-05 to Sunday 2000-08-27
    (Taylor 2003; 4,032 values in MW), as pmdarima's wheel ships it: the array literal in its
    ``datasets/taylor.py``, read with ``ast`` (pmdarima itself is never imported)."""
    values = pmdarima_array("taylor")
    return pd.Series(values, index=pd.date_range("2000-06-05", periods=len(values), freq="30min"))


def pmdarima_array(module: str) -> np.ndarray:
    """The first array literal of pmdarima's ``datasets/<module>.py``, read with ``ast``
    (pmdarima itself is never imported)."""
    import ast
    import importlib.util
    spec = importlib.util.find_spec("pmdarima")
    if spec is None:
        raise SystemExit("pmdarima is not installed: pip install 'pmdarima==2.1.1' --no-deps (the bench extra)")
    tree = ast.parse((Path(spec.submodule_search_locations[0]) / "datasets" / f"{module}.py").read_text())
    values = next(ast.literal_eval(node.args[0]) for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "array")
    return np.asarray(values, dtype=float)


# name -> (loader, season, horizon); the season is the one the time column implies
SUITE = {
    "airline": (load_airline, 12, 12),       # monthly, multiplicative season, trend
    "elec_equip": (load_elec_equip, 12, 12), # monthly orders (euro area), seasonal, business cycle
    "seatbelts": (load_seatbelts, 12, 12),   # monthly UK road casualties, seasonal, a level shift
    "co2": (load_co2, 12, 12),               # monthly, additive season, trend
    "elnino": (load_elnino, 12, 12),         # monthly sea temperature, additive season
    "shampoo": (load_shampoo, 12, 3),        # 36 months, trend
    "realgdp": (load_realgdp, 4, 4),         # quarterly, seasonally adjusted, trend
    "uschange": (load_uschange, 4, 4),       # quarterly % change of consumption (negatives)
    "nile": (load_nile, 1, 5),               # yearly, level shift
    "lynx": (load_lynx, 1, 5),               # yearly, ~10-year cycle, spikes
    "sunspots": (load_sunspots, 1, 5),       # yearly, ~11-year cycle, zeros
    "taylor": (load_taylor, 48, 48),         # half-hourly electricity demand, daily and weekly cycles
}


def test_points(n: int, season: int) -> int:
    """The protocol's test part: 2 seasons, or 20 % without a season (or when 2 seasons > 25 %)."""
    return 2 * season if season > 1 and 2 * season <= 0.25 * n else int(round(0.2 * n))


# -- one series ----------------------------------------------------------------------------------
def network_windows(est, frame: pd.DataFrame, part: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(origins [n], forecasts [n, H, T], values [N, T])``: the network's own forecasts (no blend)
    of the run's ``part`` ("val" or "test") windows of its one series, and the series, in original units."""
    from lstmkit.tasks.forecast.panel import read_panel
    from lstmkit.tasks.forecast.windows import split_panel
    cfg = est.config_
    panel = read_panel(frame, cfg, need=None)
    arrays = est._panel_arrays(panel)
    rows, series = split_panel(panel, cfg)[part]
    blend, est.combination_ = est.combination_, None
    try:
        network = est.output_.point(torch.from_numpy(est._forecast_windows(arrays, rows, series,
                                                                           est._series_index(panel)))).numpy()
    finally:
        est.combination_ = blend
    return rows.numpy() + cfg.lookback - 1, network, panel.values


def candidate_test_mase(est, frame: pd.DataFrame) -> dict[str, float]:
    """Every combination candidate's MASE on the run's test windows (for tuning the rule on the
    validation cuts, whose test part is the tuning data; never asked for on the test cut)."""
    from lstmkit.tasks.forecast.combine import BASELINES, baseline_point, candidate_scores, ets_logs
    from lstmkit.tasks.forecast.metrics import forecast_metrics
    from lstmkit.tasks.forecast.windows import part_sizes
    cfg = est.config_
    origins, network, vals = network_windows(est, frame, "test")
    n_train, n_val, _ = part_sizes(len(vals), cfg)
    actual = vals[origins[:, None] + 1 + np.arange(cfg.horizon)]
    mase = lambda p: float(forecast_metrics(actual, p, vals[:n_train], season=est.season_)["MASE"])
    bases = {k: baseline_point(k, vals, origins, cfg.horizon, est.season_, n_train + n_val, ets_logs(cfg))
             for k in BASELINES}
    return {k: round(v[0], 4) for k, v in candidate_scores(network, bases, mase).items()}


def rule_without_pooling(est, frame: pd.DataFrame) -> dict:
    """The blend session 58's rule chooses for the same trained network (``combine.POOL_HORIZONS`` 0: the clear
    margin judged on the validation windows alone) and its test MASE, beside the run's own: the rules compared
    on one training per series. The run's choice and metrics are restored afterwards."""
    import dataclasses
    from lstmkit.tasks.forecast import combine
    from lstmkit.tasks.forecast.evaluation import panel_metrics
    from lstmkit.tasks.forecast.panel import read_panel
    from lstmkit.tasks.forecast.windows import split_panel
    if est.auto_.get("combine", {}).get("given") or est.config_.combine == "none" and "combine" not in est.auto_:
        return {}
    kept = est.combination_, est.config_, est.auto_, combine.POOL_HORIZONS
    try:
        combine.POOL_HORIZONS = 0
        est.config_ = dataclasses.replace(est.config_, combine=None)
        est.combination_ = None
        panel = read_panel(frame, est.config_, need=None)
        arrays = est._panel_arrays(panel)
        splits = split_panel(panel, est.config_)
        est._choose_combination(panel, arrays, splits["val"])
        mase = float(panel_metrics(est, panel, arrays, splits["test"])[0]["metrics"]["lstm"]["MASE"])
        return {"MASE": round(mase, 4), "combination": est.combination_}
    finally:
        est.combination_, est.config_, est.auto_, combine.POOL_HORIZONS = kept


def fit_series(name: str, cut: str, settings: dict | None = None) -> tuple[Forecaster, pd.DataFrame, float, float]:
    """The defaults trained on one series of the suite at ``cut``: ``(estimator, frame, seconds, CPU seconds)``."""
    loader, season, horizon = SUITE[name]
    y = loader()
    for _ in range(CUTS.index(cut)):               # the test part never reaches the tuning
        y = y.iloc[:-test_points(len(y), season)]
    frame = pd.DataFrame({"time": y.index, "y": y.to_numpy()})
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = Forecaster(horizon=horizon, test_frac=test_points(len(y), season) / len(y), progress="off",
                         tensorboard=False, doctor=False, **(settings or {})).fit(frame, target="y", time="time")
    return est, frame, time.perf_counter() - t0, time.process_time() - c0


def run_series(name: str, cut: str, settings: dict | None = None, candidates: bool = False) -> dict:
    return series_row(name, cut, *fit_series(name, cut, settings), candidates=candidates)


def series_row(name: str, cut: str, est: Forecaster, frame: pd.DataFrame, seconds: float, cpu: float,
               candidates: bool = False) -> dict:
    """One series' JSON line: its MASE beside the baselines and what was chosen."""
    _, season, horizon = SUITE[name]
    n = len(frame)
    n_test = test_points(n, season)
    m = est.metrics_["metrics"]
    mase = {k: round(float(m[k]["MASE"]), 4) for k in ("lstm", "naive", "seasonal_naive", "ets")}
    extra = {"candidates_test_mase": candidate_test_mase(est, frame)} if candidates and cut != "test" else {}
    extra["session58_rule"] = rule_without_pooling(est, frame)     # the same network, the clear margin unpooled
    return {"series": name, "cut": cut, "n": n, "season": est.season_, "horizon": horizon, "test": n_test,
            "MASE": mase, "vs_snaive": round(mase["lstm"] / mase["seasonal_naive"], 3),
            "vs_ets": round(mase["lstm"] / mase["ets"], 3),
            "chosen": {k: v["value"] for k, v in est.auto_.items() if k != "measured"},
            "combination": est.combination_,
            "validation_mase": est.auto_.get("combine", {}).get("validation_mase"),
            "epochs": est.result_.epochs_run, "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu, 1), **extra}


def summarize(rows: list[dict]) -> dict:
    beats = [r["vs_snaive"] < 1 for r in rows]
    near = [r["vs_ets"] <= 1.05 for r in rows]
    share = sum(near) / len(rows)
    return {"summary": True, "series": len(rows), "beats_seasonal_naive": f"{sum(beats)}/{len(rows)}",
            "within_1.05_ets": f"{sum(near)}/{len(rows)}", "share_within_1.05_ets": round(share, 3),
            "targets_met": all(beats) and share >= 0.8,
            "median_vs_ets": round(float(np.median([r["vs_ets"] for r in rows])), 3),
            "seconds": round(sum(r["seconds"] for r in rows), 1),
            "cpu_seconds": round(sum(r["cpu_seconds"] for r in rows), 1)}


def _table(rows: list[dict], summary: dict) -> list[str]:
    lines = ["| series | n | season | H | LSTM | naive | seasonal naive | ETS | LSTM / ETS | chosen | CPU s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        m, c = r["MASE"], r["chosen"]
        chosen = (f"lookback {c.get('lookback')}, deseason {c.get('deseason')}, log {c.get('log')}, "
                  f"{c.get('num_layers')}x{c.get('hidden_size')}, highway {c.get('highway')}, {c.get('ensemble')} seeds, "
                  + (" + ".join(f"{w:.3g} x {k}" for k, w in {"network": b["weight"],
                                                             **(b.get("shares") or {b["baseline"]: 1 - b["weight"]})}.items())
                     if (b := r["combination"]) else "network alone"))
        lines.append(f"| {r['series']} | {r['n']} | {r['season']} | {r['horizon']} | **{m['lstm']:.3f}** | "
                     f"{m['naive']:.3f} | {m['seasonal_naive']:.3f} | {m['ets']:.3f} | {r['vs_ets']:.2f} | {chosen} | "
                     f"{r['cpu_seconds']:.0f} |")
    lose_sn = [r["series"] for r in rows if r["vs_snaive"] >= 1]
    lose_ets = [r["series"] for r in rows if r["vs_ets"] > 1.05]
    return lines + ["", f"Below seasonal naive on {summary['beats_seasonal_naive']} series"
                    f"{' (not: ' + ', '.join(lose_sn) + ')' if lose_sn else ''}; within 1.05x ETS on "
                    f"{summary['within_1.05_ets']}{' (not: ' + ', '.join(lose_ets) + ')' if lose_ets else ''}; targets "
                    f"(every series below seasonal naive, >= 80 % within 1.05x ETS) "
                    f"{'met' if summary['targets_met'] else 'NOT met'}. Median LSTM / ETS {summary['median_vs_ets']}; "
                    f"{summary['cpu_seconds']:.0f} CPU seconds in all.", ""]


# each cut's table, in this order, under its caption
CAPTIONS = {
    "test": "Test cut:",
    "validation": "Validation cut (what the rules were tuned on; its test part is the 2 seasons / 20 % before the test "
                  "cut's):",
    "early": "Early cut (session 10's development cut: the validation cut without its own test part; its test part is "
             "the 2 seasons / 20 % before the validation cut's):",
    "earlier": "Earlier cut (added in session 11: the early cut without its own test part; airline's 72 points cannot "
               "hold a 12-step validation part at 15 %, so it is left out):",
    "earliest": "Earliest cut (added in session 11: the earlier cut without its own test part; airline and shampoo are "
                "too short):",
}
# the account written under the tables: what was tried, on which cut, with its numbers
ACCOUNT = Path(__file__).with_name("forecast_defaults_account.md")


def write_doc(cuts: dict[str, tuple[list[dict], dict]]) -> None:
    """The section of ``docs/benchmarks.md``: the test cut's table, then the development cuts' when run,
    then the account of what was tried (``forecast_defaults_account.md``)."""
    lines = [SECTION, "",
             "`python benchmarks/forecast_defaults.py --cut all` (one CPU thread): `Forecaster(horizon=H)` with every "
             "other setting left to `lstmkit.tasks.forecast.auto`, on single series shipped with statsmodels 0.15, "
             "sktime 1.2.0 and pmdarima 2.1.1 (Taylor's half-hourly demand, added in session 35; the daily season of "
             "sub-hourly steps was chosen on its validation cut, session 36's week of lookback on its development cuts, "
             "its test cut scored once after each). Test part: the last 2 seasons (20 % without a season), rolling origins, every horizon "
             "step; MASE in original units beside the baselines on the same points (ETS: damped Holt-Winters "
             "fitted on train + validation). LSTM is the run's forecast: the network's, its blend with ETS or "
             "seasonal naive, or the baseline alone, as chosen on the validation windows "
             "(`lstmkit.tasks.forecast.combine`: the even blend unless another candidate scores lower by a tolerance of "
             "10 % at 3 independent validation windows -- validation points / horizon -- scaled by their inverse, 30 % "
             "at one horizon or less; a blend so picked then shrunk toward the even ETS blend, keeping windows / "
             "(windows + 0.5) of its weights; where a baseline alone beats the network alone by the tolerance, on the "
             "validation windows or pooled with up to 3 horizons of origins before them, the network keeps at most "
             "0.25; the ETS partner fitted in logs for a multiplicative season). The choice rules "
             "were tuned on the validation cut (each series without its test part, same protocol: `--cut "
             "validation`); since session 10 a change is developed on the early cut (the validation cut without its "
             "own test part: `--cut early`; session 11 added the earlier and earliest cuts, each without the test part "
             "of the one before) and accepted only if it also holds on the validation cut; the test cut is scored once "
             "afterwards, for the record (session 11's rules were scored offline: `benchmarks/forecast_rules.py`).", ""]
    for cut, caption in CAPTIONS.items():
        if cut in cuts:
            lines += [caption, "", *_table(*cuts[cut])]
    lines += ACCOUNT.read_text().rstrip("\n").splitlines() + [""]
    text = DOC.read_text() if DOC.is_file() else "# Benchmarks\n\n"
    block = "\n".join(lines)
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: block + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(text)


def from_lines(path: Path) -> dict[str, tuple[list[dict], dict]]:
    """``{cut: (rows, summary)}`` of a run's JSON lines saved to ``path`` (the table without retraining)."""
    cuts: dict[str, tuple[list[dict], dict]] = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if "skipped" in r:
            continue
        rows = cuts.setdefault(r["cut"], ([], {}))
        rows[1].update(r) if r.get("summary") else rows[0].append(r)
    if "test" not in cuts or len(cuts["test"][0]) != len(SUITE) or not cuts["test"][1]:
        raise SystemExit(f"{path} is not a whole run of the suite's test cut ({len(SUITE)} series and a summary)")
    return cuts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cut", choices=(*CUTS, "both", "all"), default="test",
                    help="both: the validation cuts first, then the test cuts (the table notes both summaries); "
                         "all: earliest, earlier, early, validation, then test")
    ap.add_argument("--series", default=",".join(SUITE), help="comma-separated names: " + ", ".join(SUITE))
    ap.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks.md")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="explicit settings (experiments on the validation cut; the table is written without them)")
    ap.add_argument("--candidates", action="store_true",
                    help="on the early / validation cut: also score every combination candidate on its test part (tuning)")
    ap.add_argument("--from-lines", type=Path, metavar="FILE",
                    help="write docs/benchmarks.md from the JSON lines a full run printed (no training)")
    args = ap.parse_args()
    if args.from_lines:
        write_doc(from_lines(args.from_lines))
        return
    torch.set_num_threads(1)
    settings = parse_overrides(args.set)
    names = [s.strip() for s in args.series.split(",") if s.strip()]
    summaries, results = {}, {}
    order = {"both": ("validation", "test"), "all": ("earliest", "earlier", "early", "validation", "test")}
    for cut in order.get(args.cut, (args.cut,)):
        rows = []
        for name in names:
            try:
                rows.append(run_series(name, cut, settings, args.candidates))
            except LstmkitError as err:            # too short for this cut (airline at the earlier cut)
                print(json.dumps({"series": name, "cut": cut, "skipped": str(err)}), flush=True)
                continue
            print(json.dumps(rows[-1]), flush=True)
        summaries[cut] = summarize(rows)
        results[cut] = (rows, summaries[cut])
        print(json.dumps({**summaries[cut], "cut": cut}), flush=True)
    if "test" in summaries and not args.no_write and not settings and len(results["test"][0]) == len(SUITE):
        write_doc(results)


if __name__ == "__main__":
    main()
