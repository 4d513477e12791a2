"""UCR / UEA time-series classification with ``SequenceClassifier``'s defaults, beside LSTM-FCN (published).

Trains ``SequenceClassifier()`` — no recipe settings: the ``--series`` defaults (LSTM-FCN,
``model="lstm-fcn-ds"``, its UCR protocol) — on each set's TRAIN file, scores its TEST file once,
and prints one JSON line per set (accuracy, the published LSTM-FCN accuracy, the gap, seconds) and a
summary line: pass when every set with a published figure is within ``--tolerance`` (0.02) of it
and trained within ``--max-seconds`` (300). The table goes into ``docs/benchmarks.md``, section
``## UCR`` (``--no-write`` leaves the file alone).

Sets: the four in ``../shared/data/ts_classification/ucr`` and, when the optional ``aeon``
package is installed (the ``bench`` extra; only its wheel's data files are read, aeon is never
imported), the univariate sets its wheel ships: ArrowHead, OSULeaf, ACSF1, PickupGestureWiimoteZ.

    python benchmarks/ucr.py [--sets GunPoint,...] [--threads 1] [--no-write]
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import tempfile
import time
from pathlib import Path

import torch

from lstmkit import SequenceClassifier

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / ".." / "shared" / "data" / "ts_classification" / "ucr"
SHARED = ("GunPoint", "ItalyPowerDemand", "BasicMotions", "JapaneseVowels")
AEON = ("ArrowHead", "OSULeaf", "ACSF1", "PickupGestureWiimoteZ")
# LSTM-FCN accuracy from ../shared/ANCHORS.md where the anchor CSV has no row (MLSTM-FCN paper's LSTM-FCN).
PUBLISHED = {"JapaneseVowels": 0.99}
ALIASES = {"Gun_Point": "GunPoint"}
SECTION = "## UCR"


def aeon_data() -> Path | None:
    """The data folder inside the installed aeon wheel (found without importing aeon), else None."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"
    return folder if folder.is_dir() else None


def ts_to_tsv(src: Path, dst: Path) -> bool:
    """A univariate ``.ts`` file (``v1,v2,...:label`` per line) -> UCR ``.tsv``; True when lengths differ."""
    rows = []
    for line in src.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line[0] in "#@":
            continue
        *dims, label = line.split(":")
        if len(dims) != 1:
            raise SystemExit(f"{src} is multivariate; only univariate .ts files are converted")
        rows.append([label] + [v for v in dims[0].split(",") if v not in ("", "NaN", "?")])
    dst.write_text("".join("\t".join(r) + "\n" for r in rows))
    return len({len(r) for r in rows}) > 1


def files(name: str, data: Path, tmp: Path, test: bool = True) -> tuple[Path, Path | None, dict]:
    """TRAIN / TEST paths of a set (converted to .tsv when it comes from aeon) and reader settings;
    ``test=False`` leaves the TEST file unopened (and returns None for it), for validation on TRAIN."""
    d = data / name
    if (d / f"{name}_TRAIN.tsv").is_file():
        return d / f"{name}_TRAIN.tsv", (d / f"{name}_TEST.tsv" if test else None), {}
    if (d / f"{name}_TRAIN_long.csv").is_file():
        return d / f"{name}_TRAIN_long.csv", (d / f"{name}_TEST_long.csv" if test else None), {"unequal_length": True}
    a = aeon_data()
    if a is None or not (a / name / f"{name}_TRAIN.ts").is_file():
        raise SystemExit(f"no data for {name} (in {data}, or in the aeon wheel: pip install aeon)")
    train, test_tsv = tmp / f"{name}_TRAIN.tsv", tmp / f"{name}_TEST.tsv"
    ragged = ts_to_tsv(a / name / f"{name}_TRAIN.ts", train)
    if test:
        ragged |= ts_to_tsv(a / name / f"{name}_TEST.ts", test_tsv)
    return train, (test_tsv if test else None), ({"unequal_length": True} if ragged else {})


def anchors(data: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Published accuracies: LSTM-FCN (its authors' results file, then ANCHORS.md) and FCN (Fawaz et al.)."""
    lstm_fcn, fcn = dict(PUBLISHED), {}
    for path, column, out in ((data / "anchors_lstmfcn_repo_train_loss_old_datasets.csv", "LSTM-FCN", lstm_fcn),
                              (data / "anchors_fawaz_dl4tsc_ucr2018_mean5runs.csv", "fcn", fcn)):
        if path.is_file():
            with open(path) as f:
                for row in csv.DictReader(f):
                    name = row.get("Dataset") or row.get("dataset_name")
                    out[ALIASES.get(name, name)] = float(row[column])
    return lstm_fcn, fcn


def write_section(path: Path, text: str) -> None:
    """Replace (or append) the ``## UCR`` section of ``path``; the rest of the file is kept."""
    old = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n"
    lines = old.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == SECTION), None)
    if start is None:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        new = "".join(lines[:start]) + text + ("\n" + "".join(lines[end:]) if end < len(lines) else "")
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(path)


def schedule(t) -> str:
    """The learning-rate schedule in words."""
    if t.lr_schedule == "cosine":
        return "cosine-annealed to 0 over the epochs"
    return f"lowered ×{t.lr_factor:g} after {t.lr_patience} epochs without a lower training loss"


def table(results: dict, args, summary: dict) -> str:
    cfg = SequenceClassifier().config
    rows = ["| set | train / test | accuracy | LSTM-FCN (published) | gap | FCN (Fawaz et al.) | nets × epochs | "
            "seconds (wall / CPU) |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    fmt = lambda v, spec="{:.3f}": "–" if v is None else spec.format(v)      # noqa: E731
    for name, r in results.items():
        rows.append(f"| {name} | {r['train_n']} / {r['test_n']} | {r['accuracy']:.4f} | {fmt(r['lstm_fcn'])} | "
                    f"{fmt(r['gap'], '{:+.3f}')} | {fmt(r['fcn'])} | {r.get('nets', 1)} × {r['epochs_run']} | "
                    f"{r['seconds']:.0f} / {r['cpu_seconds']:.0f} |")
    verdict = "pass" if summary["pass"] else "fail"
    return (f"{SECTION}\n\n"
            f"`python benchmarks/ucr.py` — `SequenceClassifier()` with no settings (`lstmkit classify train --series` "
            f"with no flags): {cfg.model} (LSTM {cfg.hidden_size}, dropout {cfg.dropout}), no holdout (the lowest "
            f"training loss picks the weights, as LSTM-FCN's protocol), Adam {cfg.train.lr:g} {schedule(cfg.train)}, clip {cfg.train.clip_norm or 'none'}, batch {cfg.train.batch_size}, up to {cfg.train.max_epochs} epochs capped at "
            f"{cfg.budget:g} M series-steps shared by {cfg.ensemble} net(s), augmentation {cfg.augment}, seed "
            f"{cfg.train.seed}; test accuracy of "
            f"one run, {args.threads} torch "
            f"thread(s). Gap = accuracy − LSTM-FCN's published figure (its authors' results file; JapaneseVowels: "
            f"the MLSTM-FCN paper); FCN (Fawaz et al. 2019, mean of 5 runs) for context. Seconds: wall clock, "
            f"then the CPU time of the training thread (what one idle core takes; the time target is judged on it, "
            f"since the wall clock of a shared machine counts the other jobs' turns too).\n\n"
            + "\n".join(rows) + "\n\n"
            f"Target: within {args.tolerance} of LSTM-FCN on every set with a published figure, ≤ "
            f"{args.max_seconds:.0f} s each: **{verdict}** ({summary['within']}/{summary['compared']} within, "
            f"slowest {summary['slowest_seconds']:.0f} CPU s).\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--sets", default=None, help="comma-separated (default: the shared four, then aeon's)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--tolerance", type=float, default=0.02)
    ap.add_argument("--max-seconds", type=float, default=300.0)
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    ap.add_argument("--table-from", type=Path, nargs="+", default=(),
                    help="train nothing: build the summary and the table from JSON lines this script printed")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    names = args.sets.split(",") if args.sets else [*SHARED, *(AEON if aeon_data() else ())]
    lstm_fcn, fcn = anchors(args.data)
    results = {}
    for path in args.table_from:
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if "set" in row:
                args.threads = row.pop("threads")
                results[row.pop("set")] = {k: v for k, v in row.items() if k != "benchmark"}
    if args.table_from:
        names = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            train, test, reading = files(name, args.data, Path(tmp))
            t0, c0 = time.perf_counter(), time.process_time()
            clf = SequenceClassifier(progress="off", tensorboard=False, **reading).fit(str(train))
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            m = clf.evaluate(str(test))
            published = lstm_fcn.get(name)
            r = {"accuracy": round(m["accuracy"], 4), "lstm_fcn": published, "fcn": fcn.get(name),
                 "gap": None if published is None else round(m["accuracy"] - published, 4),
                 "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1), "epochs_run": clf.result_.epochs_run,
                 "max_epochs": clf.config_.train.max_epochs, "nets": clf.config_.ensemble,
                 "train_n": clf.data_summary_["rows"], "test_n": m["n"]}
            results[name] = r
            print(json.dumps({"benchmark": "ucr", "set": name, "threads": args.threads, **r}), flush=True)
    compared = {n: r for n, r in results.items() if r["gap"] is not None}
    within = sum(r["gap"] >= -args.tolerance for r in compared.values())
    slowest = max(r["cpu_seconds"] for r in results.values())
    summary = {"compared": len(compared), "within": within, "slowest_seconds": slowest,
               "pass": within == len(compared) and slowest <= args.max_seconds}
    print(json.dumps({"benchmark": "ucr", "summary": True, "threads": args.threads, "tolerance": args.tolerance,
                      **summary}))
    if not args.no_write:
        write_section(args.doc, table(results, args, summary))


if __name__ == "__main__":
    main()
