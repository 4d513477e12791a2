"""The forecasting defaults on held-out series: single series shipped inside installed packages that
were never used to choose the defaults (none of them is in ``forecast_defaults.py``'s suite).

Each series is written to a CSV file (``time,y``) and trained as a new user would, from the command
line with the defaults only: ``lstmkit forecast train --data FILE --horizon H --test-frac N/n`` (the
protocol's horizon and test part, exactly as the suite's: the last 2 seasons, or 20 % when the series
has no season or 2 seasons would be more than a quarter of it, given as the fraction the suite gives
so that the validation part stays the default 15 %: ``--test-size N`` would make it one horizon;
``--progress off`` only quiets the log). Recorded per series: the MASE of the run's forecast beside
naive, seasonal naive and ETS on the same test points (the run's ``metrics.json``), wall and CPU time
of the command, the line it printed about the defaults it chose, and what ``lstmkit doctor`` says.
The test part is only reported, never used to choose anything.

Data: pmdarima's wheel (wineind, woolyrnq, ausbeer, austres, heartrate: the array literals of its
``datasets/*.py``, read with ``ast``), sktime's shipped CSVs (PBS_dataset, solar) and statsmodels
(macrodata's unemployment rate, interest_inflation's inflation, fertility's rate for Japan):
``pip install -e '.[bench]'``.

    OMP_NUM_THREADS=1 python benchmarks/forecast_heldout.py [--series wineind,solar] [--no-write] [--keep DIR]
    python benchmarks/forecast_heldout.py --from-lines LINES.jsonl   # the doc table from a saved run
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from forecast_defaults import (DOC, _monthly, _quarterly, _sktime_csv, _table, _yearly, pmdarima_array, summarize,
                               test_points)

SECTION = "## Forecasting defaults, held out"
ACCOUNT = Path(__file__).with_name("forecast_heldout_account.md")   # what the table shows, written under it


def load_wineind() -> pd.Series:
    return _monthly(pmdarima_array("wineind"), "1980-01-01")


def load_woolyrnq() -> pd.Series:
    return _quarterly(pmdarima_array("woolyrnq"), "1965-01-01")


def load_ausbeer() -> pd.Series:
    return _quarterly(pmdarima_array("ausbeer"), "1956-01-01")


def load_austres() -> pd.Series:
    return _quarterly(pmdarima_array("austres"), "1971-01-01")


def load_heartrate() -> pd.Series:
    values = pmdarima_array("heartrate")       # 150 readings, 0.5 seconds apart
    return pd.Series(values, index=pd.date_range("2000-01-01", periods=len(values), freq="500ms"))


def load_pbs() -> pd.Series:
    d = _sktime_csv("PBS_dataset")             # monthly prescriptions of one drug: small counts, many zeros
    return _monthly(d["Scripts"], str(pd.Period(d["Month"].iloc[0], freq="M").start_time.date()))


def load_solar() -> pd.Series:
    d = _sktime_csv("solar")                   # half-hourly solar generation, 0 every night
    t = pd.to_datetime(d["datetime_gmt"], utc=True).dt.tz_localize(None)
    return pd.Series(d["solar_gen"].to_numpy(dtype=float), index=pd.DatetimeIndex(t))


def load_unemp() -> pd.Series:
    import statsmodels.api as sm
    d = sm.datasets.macrodata.load_pandas().data
    return _quarterly(d["unemp"], f"{int(d['year'].iloc[0])}-01-01")


def load_inflation() -> pd.Series:
    import statsmodels.api as sm
    d = sm.datasets.interest_inflation.load_pandas().data
    return _quarterly(d["Dp"], f"{int(d['year'].iloc[0])}-{3 * int(d['quarter'].iloc[0]) - 2:02d}-01")


def load_fertility() -> pd.Series:
    import statsmodels.api as sm
    d = sm.datasets.fertility.load_pandas().data
    row = d.loc[d["Country Name"] == "Japan"].iloc[0]
    years = [c for c in d.columns if c.isdigit() and pd.notna(row[c])]
    return _yearly(row[years].to_numpy(dtype=float), int(years[0]))


# name -> (loader, season, horizon, what it is); the season is the one the time column implies,
# the horizon the suite's for that season (12 monthly, 4 quarterly, 5 without a season, 48 half-hourly)
HELDOUT = {
    "wineind": (load_wineind, 12, 12, "monthly Australian wine sales (pmdarima), seasonal"),
    "woolyrnq": (load_woolyrnq, 4, 4, "quarterly woollen yarn production (pmdarima), seasonal, falling"),
    "ausbeer": (load_ausbeer, 4, 4, "quarterly beer production (pmdarima), strong season, level turns"),
    "austres": (load_austres, 4, 4, "quarterly Australian residents (pmdarima), smooth trend, no season"),
    "heartrate": (load_heartrate, 1, 5, "heart rate every 0.5 s (pmdarima), no season"),
    "pbs": (load_pbs, 12, 12, "monthly prescriptions of one drug (sktime PBS_dataset), counts 0-14, 44 % zeros"),
    "solar": (load_solar, 48, 48, "half-hourly solar generation, 6 days (sktime), 0 every night"),
    "unemp": (load_unemp, 4, 4, "quarterly US unemployment rate (statsmodels macrodata), cycles"),
    "inflation": (load_inflation, 4, 4, "quarterly German inflation (statsmodels interest_inflation), negatives"),
    "fertility": (load_fertility, 1, 5, "yearly fertility rate of Japan (statsmodels fertility), decline, a 1966 dip"),
}


def _lstmkit(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "lstmkit", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})


def _ratio(a: float, b: float) -> float:
    """``a / b``, rounded; a baseline that scored 0 (a test part it repeats exactly: pbs's zeros) is
    beaten by nothing above 0 (inf) and tied by 0 (1)."""
    return round(a / b, 3) if b else (float("inf") if a else 1.0)


def run_series(name: str, workdir: Path) -> dict:
    """One series through ``lstmkit forecast train`` (defaults) and ``lstmkit doctor``: its JSON line."""
    loader, season, horizon, _ = HELDOUT[name]
    y = loader()
    n, n_test = len(y), test_points(len(y), season)
    data = workdir / f"{name}.csv"
    pd.DataFrame({"time": y.index, "y": y.to_numpy()}).to_csv(data, index=False)
    out = workdir / name
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    train = _lstmkit("forecast", "train", "--data", str(data), "--horizon", str(horizon),
                     "--test-frac", repr(n_test / n), "--progress", "off", "--out", str(out))
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = train.stdout + train.stderr
    if train.returncode != 0:
        return {"series": name, "n": n, "failed": train.returncode, "output": text[-2000:]}
    run = next(out.iterdir())
    metrics, record = (json.loads((run / f).read_text()) for f in ("metrics.json", "lstmkit.json"))
    mase = {k: round(float(metrics["metrics"][k]["MASE"]), 4) for k in ("lstm", "naive", "seasonal_naive", "ets")}
    chosen_line = next((line for line in text.splitlines() if line.startswith("chosen from the training data")), "")
    doctor = _lstmkit("doctor", str(run))
    return {"series": name, "n": n, "season": metrics["season"], "season_implied": season, "horizon": horizon,
            "test": n_test, "MASE": mase, "vs_snaive": _ratio(mase["lstm"], mase["seasonal_naive"]),
            "vs_ets": _ratio(mase["lstm"], mase["ets"]),
            "chosen": {k: v["value"] for k, v in record["auto"].items() if k != "measured"},
            "combination": record.get("combination"), "combine_why": record["auto"].get("combine", {}).get("why"),
            "pooled": record["auto"].get("combine", {}).get("pooled"),
            "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
            "chosen_line": chosen_line, "doctor": (doctor.stdout + doctor.stderr).strip()}


def _doctor_said(text: str) -> str:
    """``lstmkit doctor``'s verdict in one line: its headline, first finding and first remedy."""
    lines = [line.strip().rstrip(":") for line in text.splitlines() if line.strip()]
    first_try = next((line for line in lines if line.startswith("1. ")), None)
    return "; ".join(lines[:2] + ([f"first remedy: {first_try[3:]}"] if first_try else []))


def write_doc(rows: list[dict], summary: dict, day: str, failed: list[dict] = ()) -> None:
    """The held-out section of ``docs/benchmarks.md``: the suite's table layout, then per series the
    season the time column implies when it differs from the one found, and what doctor said."""
    lines = [SECTION, "",
             f"**Held out: never used to choose defaults.** `python benchmarks/forecast_heldout.py`, {day}: "
             "`lstmkit forecast train --data FILE --horizon H --test-frac N/n` (nothing else set, as a new user), on "
             f"{len(rows)} single series shipped in installed packages that are not in the suite above and were never "
             "looked at while the defaults were developed. Same protocol as the suite (test part: the last 2 seasons, "
             "20 % without a season; MASE in original units beside the baselines on the same points). Measured on "
             "a shared machine (2 cores, other jobs running): that affects the times only, not the scores.", "",
             *_table(rows, summary)]
    lines += [f"- {r['series']} ({HELDOUT[r['series']][3]}): "
              + (f"season found {r['season']}, the time column implies {r['season_implied']}; "
                 if r["season"] != r["season_implied"] else "")
              + f"{r['seconds']:.0f} s wall; " + _doctor_said(r["doctor"]) for r in rows]
    lines += [f"- {r['series']} ({HELDOUT[r['series']][3]}, {r['n']} points): no run, exit {r['failed']}: "
              f"{r['output'].strip()}" for r in failed]
    lines += [""] + ACCOUNT.read_text().rstrip("\n").splitlines()
    text = DOC.read_text()
    block = "\n".join(lines) + "\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: block + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
    DOC.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", default=",".join(HELDOUT), help="comma-separated names: " + ", ".join(HELDOUT))
    ap.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks.md")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="keep the CSV files and run folders here")
    ap.add_argument("--from-lines", type=Path, metavar="FILE",
                    help="write docs/benchmarks.md from the JSON lines a full run printed (no training)")
    args = ap.parse_args()
    if args.from_lines:
        saved = [json.loads(line) for line in args.from_lines.read_text().splitlines()]
        rows = [r for r in saved if "MASE" in r]
        write_doc(rows, summarize(rows), next((r["day"] for r in saved if "day" in r), ""),
                  [r for r in saved if "failed" in r])
        return
    names = [s.strip() for s in args.series.split(",") if s.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="forecast-heldout-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for name in names:
            rows.append(run_series(name, workdir))
            print(json.dumps(rows[-1]), flush=True)
    done = [r for r in rows if "MASE" in r]
    summary = summarize(done) if done else {}
    day = dt.datetime.now(dt.timezone.utc).date().isoformat()
    print(json.dumps({**summary, "day": day, "failed": [r["series"] for r in rows if "failed" in r]}), flush=True)
    if not args.no_write and len(rows) == len(HELDOUT):
        write_doc(done, summary, day, [r for r in rows if "failed" in r])


if __name__ == "__main__":
    main()
