"""UCR / UEA time-series classification: test accuracy per set beside LSTM-FCN (published).

Trains ``SequenceClassifier`` on each set's TRAIN file and scores its TEST file once; prints one
JSON line. Defaults follow LSTM-FCN (Karim et al. 2018): linear front-end 16 → ``lstm-fcn`` (an
8-cell LSTM beside three Conv1d/BatchNorm/ReLU blocks of 128/256/128 filters) → mean pooling
(the paper's global average pooling); no holdout (``val_frac=0``): like the published runs,
early stopping, the learning-rate schedule and the kept weights follow the training loss.

    python benchmarks/ucr.py [--data ../shared/data/ts_classification/ucr] [--sets GunPoint,...]
"""
from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import torch

from lstmkit import SequenceClassifier

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ts_classification" / "ucr"
SETS = ("GunPoint", "ItalyPowerDemand", "BasicMotions", "JapaneseVowels")
# LSTM-FCN accuracy from ../shared/ANCHORS.md where the anchor CSV has no row for the set.
PUBLISHED = {"GunPoint": 1.000, "ItalyPowerDemand": 0.962, "JapaneseVowels": 0.99}


def _files(root: Path, name: str) -> tuple[Path, Path, dict]:
    d = root / name
    if (d / f"{name}_TRAIN.tsv").is_file():
        return d / f"{name}_TRAIN.tsv", d / f"{name}_TEST.tsv", {}
    return d / f"{name}_TRAIN_long.csv", d / f"{name}_TEST_long.csv", {"unequal_length": True}


def _anchors(root: Path) -> dict[str, float]:
    out = {}
    path = root / "anchors_lstmfcn_repo_train_loss_old_datasets.csv"
    if path.is_file():
        with open(path) as f:
            for row in csv.DictReader(f):
                out[row["Dataset"]] = float(row["LSTM-FCN"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--threads", type=int, default=1, help="small models run best on one thread")
    ap.add_argument("--epochs", type=int, default=500)
    ap.add_argument("--patience", type=int, default=100)
    ap.add_argument("--hidden", type=int, default=8, help="LSTM cells (LSTM-FCN: 8)")
    ap.add_argument("--embed", type=int, default=16, help="width of the linear front-end")
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--val-frac", type=float, default=0.0, help="0: no holdout, select on training loss")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--model", default="lstm-fcn", help="zoo encoder (lstm-fcn: LSTM beside the FCN branch)")
    ap.add_argument("--pooling", default="mean", help="mean over lstm-fcn is the paper's global average pooling")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    anchors = _anchors(args.data)
    results = {}
    for name in args.sets.split(","):
        train, test, extra = _files(args.data, name)
        t0 = time.perf_counter()
        clf = SequenceClassifier(model=args.model, pooling=args.pooling, max_epochs=args.epochs, seed=args.seed,
                                 patience=args.patience, hidden_size=args.hidden, embed_dim=args.embed,
                                 dropout=args.dropout, val_frac=args.val_frac, progress="off", tensorboard=False,
                                 **extra)
        clf.fit(str(train))
        seconds = time.perf_counter() - t0
        m = clf.evaluate(str(test))
        published = anchors.get(name, PUBLISHED.get(name))
        results[name] = {"accuracy": round(m["accuracy"], 4), "lstm_fcn": published,
                         "macro_f1": round(m["macro_f1"], 4), "train_seconds": round(seconds, 1),
                         "epochs_run": clf.result_.epochs_run, "test_n": m["n"]}
    print(json.dumps({"benchmark": "ucr", "threads": args.threads, "max_epochs": args.epochs,
                      "model": f"{args.model} {args.hidden}, front-end {args.embed}, {args.pooling} pooling",
                      "val_frac": args.val_frac, "patience": args.patience, "results": results}))


if __name__ == "__main__":
    main()
