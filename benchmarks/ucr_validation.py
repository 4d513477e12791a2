"""Repeated stratified k-fold cross-validation of ``SequenceClassifier`` settings on a UCR set's TRAIN file only.

Chooses between candidate defaults for ``SequenceClassifier`` without opening any TEST file: each
variant is the product itself, ``SequenceClassifier(**settings)`` with the ``--series`` defaults
and one change, fitted on k-1 folds (its own scaling, schedule and weight choice, ``--budget``
million series-steps) and scored on the held-out fold; accuracy and log loss are pooled over the
folds and the repeats. Repeat ``r`` deals the folds with seed ``--seed + r`` and fits fold ``k``
with seed ``--seed + 100·r + k`` (repeat 0 is the split and the seeds of the first comparison).
Variants (``--variants``, run interleaved fold by fold, so a comparison cut short stays paired):

- ``base``   the defaults as they are (since session ucr5 they include ``augment="scale-warp"``);
- ``aug``    ``augment="scale-warp"`` (each training series scaled by ``1 + 0.1·N(0,1)`` and
             smoothly time-warped, speed ``1 + 0.2·N(0,1)`` at 4 knots, a new draw per batch);
             ``base`` and ``aug`` were the comparison that made it the default;
- ``none``   ``augment="none"`` (the defaults without augmentation, the old base);
- ``h64``, ``h128``  LSTM of 64 / 128 cells instead of 8;
- ``slice``  ``crop=0.9``: window slicing (Le Guennec et al. 2016), each training series read as a
             random window of 90 % of its length (a new draw per batch), predictions the mean
             probability over 5 evenly spaced windows;
- ``slice8`` ``crop=0.8``: the same with windows of 80 %;
- ``aug2x``  ``augment="scale-warp-2x"``: the augmentation with twice its magnitudes (gain
             ``1 + 0.2·N(0,1)``, speed ``1 + 0.4·N(0,1)``).

The rule of session ucr6, fixed and committed before its comparison ran (``--set ArrowHead
--variants base,slice,slice8 --folds 3 --repeats 2 --budget 2``, then ``--set GunPoint --folds 5
--repeats 1 --budget 2`` with base and the qualifying candidates): a candidate qualifies when,
pooled over ArrowHead's 3 folds × 2 splits (72 held-out series), it gets at least 4 more series
right than ``base`` and its pooled log loss is not higher, and, on GunPoint's 5-fold TRAIN CV (50
held-out series), it gets at most 1 series fewer right than ``base``. If more than one qualifies,
the one with the most series right on ArrowHead wins (then the lower pooled log loss). The winner
becomes the default of ``SequenceClassifier()`` with LSTM-FCN; if none qualifies the defaults stay.
(Result: neither ``slice`` nor ``slice8`` qualified, docs/benchmarks.md ``## UCR``.) The third
candidate, ``aug2x``, is judged by the same rule, fixed and committed before it ran, against the
``base`` fits of that comparison (``--variants aug2x``, the same splits and seeds: a fit is a
function of its seed, and ``base`` reproduced session ucr5's ``aug`` fits exactly) and, on
GunPoint, against session ucr5's ``aug`` fits (the current defaults: 50/50, log loss 0.013).
(Result: ``aug2x`` did not qualify either; the defaults stayed.)

Prints one JSON line per (variant, repeat, fold), then one summary line per variant with the CPU
seconds of its fits (one thread).

    python benchmarks/ucr_validation.py --set ArrowHead --variants base,aug --folds 3 --repeats 3 --budget 2
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ucr import DEFAULT_DATA, files  # noqa: E402

from lstmkit import SequenceClassifier  # noqa: E402

VARIANTS = {"base": {}, "aug": {"augment": "scale-warp"}, "none": {"augment": "none"},
            "h64": {"hidden_size": 64}, "h128": {"hidden_size": 128}, "slice": {"crop": 0.9},
            "slice8": {"crop": 0.8}, "aug2x": {"augment": "scale-warp-2x"}}


def read_tsv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A UCR .tsv of equal-length univariate series -> ``x [N, T]`` floats, ``y [N]`` label strings."""
    rows = [ln.split("\t") for ln in path.read_text().splitlines() if ln.strip()]
    return np.array([[float(v) for v in r[1:]] for r in rows]), np.array([r[0] for r in rows])


def stratified_folds(y: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """Indices of ``k`` folds, each class dealt round-robin after a seeded shuffle."""
    rng = np.random.default_rng(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    offset = 0
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        for j, i in enumerate(idx):
            folds[(j + offset) % k].append(int(i))
        offset += len(idx)
    return [np.array(sorted(f)) for f in folds]


def fit_and_score(settings: dict, xtr, ytr, xva, yva, budget: float, seed: int) -> dict:
    """Fit ``SequenceClassifier(**settings)`` on the training folds, score the held-out one."""
    c0 = time.process_time()
    clf = SequenceClassifier(budget=budget, seed=seed, progress="off", tensorboard=False, **settings).fit(xtr, ytr)
    cpu = time.process_time() - c0
    proba = clf.predict_proba(xva)
    truth = np.array([clf.class_names_.index(v) for v in yva])
    p_true = np.clip(proba[np.arange(len(truth)), truth], 1e-12, 1.0)
    return {"correct": int((proba.argmax(1) == truth).sum()), "n": len(truth),
            "logloss_sum": float(-np.log(p_true).sum()), "epochs": clf.config_.train.max_epochs,
            "epochs_run": clf.result_.epochs_run, "cpu_seconds": round(cpu, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="ArrowHead")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--variants", default="base,aug", help=f"comma-separated, of: {', '.join(VARIANTS)}")
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=1, help="fold splits, each with its own seed")
    ap.add_argument("--budget", type=float, default=2.0, help="million series-steps per fit")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    torch.set_num_threads(1)
    variants = args.variants.split(",")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variant(s) {', '.join(unknown)}; use some of {', '.join(VARIANTS)}")
    with tempfile.TemporaryDirectory() as tmp:
        train, _, _ = files(args.set, args.data, Path(tmp), test=False)      # the TEST file is never opened
        x, y = read_tsv(train)
    pooled = {v: {"correct": 0, "n": 0, "logloss_sum": 0.0, "cpu_seconds": 0.0, "per_fold": []} for v in variants}
    for r in range(args.repeats):
        folds = stratified_folds(y, args.folds, args.seed + r)
        for k, va in enumerate(folds):
            tr = np.setdiff1d(np.arange(len(y)), va)
            for v in variants:
                res = fit_and_score(VARIANTS[v], x[tr], y[tr], x[va], y[va], args.budget, args.seed + 100 * r + k)
                print(json.dumps({"set": args.set, "variant": v, "repeat": r, "fold": k, **res}), flush=True)
                p = pooled[v]
                for key in ("correct", "n", "logloss_sum", "cpu_seconds"):
                    p[key] += res[key]
                p["per_fold"].append(res["correct"])
    for v, p in pooled.items():
        print(json.dumps({"set": args.set, "variant": v, "summary": True, "folds": args.folds, "repeats": args.repeats,
                          "budget": args.budget, "accuracy": round(p["correct"] / max(p["n"], 1), 4),
                          "logloss": round(p["logloss_sum"] / max(p["n"], 1), 4),
                          **{k: (round(val, 1) if isinstance(val, float) else val) for k, val in p.items()}}),
              flush=True)


if __name__ == "__main__":
    main()
