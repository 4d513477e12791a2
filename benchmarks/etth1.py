"""ETTh1 under the Informer protocol: multivariate 7 -> 7, MSE / MAE on the z-scored test windows.

Protocol (Zhou et al., AAAI 2021, and the Informer/Autoformer code): the first 12 months
(12·30·24 = 8640 rows) train, the next 4 months (2880) validation, the next 4 months (2880) test;
every column z-scored with the training part's mean and standard deviation; all 7 columns are
both inputs and targets (OT included); a test window's inputs may reach back into validation;
every test window at stride 1 is scored (2880 - h + 1 windows; the Informer code drops the last
incomplete batch, a difference of < 1 % of the windows). Lookback 96 for every horizon (Informer's
``seq_len`` 96). Errors are pooled over windows, steps and the 7 columns.

The model is lstmkit's ``Forecaster`` unchanged: ``scaler="standard"`` fits on the training part,
``val_frac = test_frac = 0.2`` of the first 14,400 rows reproduce the 8640/2880/2880 split, and
early stopping watches the validation part. Prints one JSON line.

    python benchmarks/etth1.py [--horizons 24,48,168] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from lstmkit import Forecaster

from _settings import parse_overrides
DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "forecasting" / "ett" / "ETTh1.csv"
MONTH = 30 * 24
N_TRAIN, N_VAL, N_TEST = 12 * MONTH, 4 * MONTH, 4 * MONTH
# ../shared/ANCHORS.md, multivariate (MSE, MAE)
ANCHORS = {"Informer": {24: (0.577, 0.549)},
           "LSTMa": {24: (0.650, 0.624), 48: (0.702, 0.675), 168: (1.212, 0.867)}}
SETTINGS = dict(lookback=96, model="lstm", hidden_size=64, num_layers=2, dropout=0.1, relative=True,
                scaler="standard", max_epochs=30, batch_size=64, lr=1e-3, patience=4, lr_patience=2)


def run(df: pd.DataFrame, horizon: int, params: dict) -> dict:
    cols = [c for c in df.columns if c != "date"]
    f = Forecaster(horizon=horizon, val_frac=N_VAL / len(df), test_frac=N_TEST / len(df), progress="off",
                   tensorboard=False, doctor=False, **params)
    t0, c0 = time.perf_counter(), time.process_time()
    f.fit(df, target=cols, time="date")
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    split = f.data_summary_["split"]
    assert (split["train"], split["val"], split["test"]) == (N_TRAIN, N_VAL, N_TEST), split
    # Test windows in original units (the estimator's own evaluation path), then z-scored with
    # the scaler fitted on the training part.
    tf = f.test_forecasts(df)                                            # public accessor, original units
    y_true, pred = tf["actual"], tf["forecast"]                           # [n, H, 7]
    last = df[cols].to_numpy(dtype=np.float64)[tf["origins"]][:, None, :]  # naive: the last observed value
    loc, sc = f.panel_scaler_.get(f.series_ids_[0])                       # one series: its z-score scaler
    z = lambda a: (a - loc) / sc                                          # noqa: E731
    err = z(pred) - z(y_true)
    naive = z(np.broadcast_to(last, y_true.shape)) - z(y_true)
    out = {"MSE": round(float(np.mean(err ** 2)), 3), "MAE": round(float(np.mean(np.abs(err))), 3),
           "windows": int(y_true.shape[0]), "train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu, 1),
           "epochs": f.result_.epochs_run, "best_epoch": f.result_.best_epoch}
    out["naive_MSE"] = round(float(np.mean(naive ** 2)), 3)
    out["naive_MAE"] = round(float(np.mean(np.abs(naive))), 3)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--horizons", default="24,48,168")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a model setting")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    params = {**SETTINGS, **parse_overrides(args.set)}
    df = pd.read_csv(args.data).iloc[:N_TRAIN + N_VAL + N_TEST].reset_index(drop=True)
    results = {}
    for h in (int(s) for s in args.horizons.split(",")):
        results[str(h)] = run(df, h, params)
        print(f"h={h}: {json.dumps(results[str(h)])}", file=sys.stderr, flush=True)   # progress
    anchors = {name: {str(h): {"MSE": v[0], "MAE": v[1]} for h, v in rows.items()} for name, rows in ANCHORS.items()}
    print(json.dumps({"benchmark": "etth1_informer_multivariate", "rows": len(df),
                      "split": [N_TRAIN, N_VAL, N_TEST], "lookback": params["lookback"], "lstmkit": results,
                      "anchors": anchors, "settings": params, "threads": args.threads,
                      "loadavg": [round(x, 2) for x in os.getloadavg()]}))


if __name__ == "__main__":
    main()
