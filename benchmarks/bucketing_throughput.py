"""Training throughput on IMDB reviews with and without length bucketing (same process, ratio).

Tokenises a random sample of IMDB training reviews (word vocabulary, first 200 + last 200
tokens), then times training steps of the IMDB benchmark's model (embedding 128 → BiLSTM 128 →
max pooling) on batches of 64 drawn with ``BucketBatches(bucket=True)`` and ``bucket=False``.
Both modes pass ``lengths`` (packed); rounds alternate between the modes so machine load drifts
affect both alike. Prints one JSON line: sequences/s of each, their ratio, and the share of
padded positions in each.

    python benchmarks/bucketing_throughput.py [--reviews 4096] [--steps 12] [--rounds 2]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
import torch

from lstmkit.data.batching import BucketBatches, truncate
from lstmkit.data.vocab import make_tokenizer
from lstmkit.nn.classifier import ClassificationLoss, ClassifierNet

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "sentiment" / "imdb"


def _steps(net, opt, loss_fn, batches, n_steps: int) -> tuple[int, float]:
    seen, t0 = 0, time.perf_counter()
    for k, ((x, lengths), y) in enumerate(batches):
        if k == n_steps:
            break
        opt.zero_grad(set_to_none=True)
        loss_fn(net(x, lengths), y).backward()
        opt.step()
        seen += len(y)
    return seen, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--reviews", type=int, default=4096)
    ap.add_argument("--steps", type=int, default=12, help="training steps per mode per round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    df = pd.read_csv(args.data / "imdb_train.csv.gz").sample(n=args.reviews, random_state=0)
    tok = make_tokenizer("word", min_freq=2, max_size=25_000).fit(df["text"])
    seqs = [torch.tensor(truncate(tok.encode(t), 400, "both")) for t in df["text"]]
    y = torch.tensor(df["label"].to_numpy(), dtype=torch.long)
    net = ClassifierNet(2, vocab_size=tok.vocab_size, embed_dim=128, hidden_size=128, pooling="max")
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = ClassificationLoss(2)
    modes = {"bucketed": True, "random": False}
    totals = {m: [0, 0.0] for m in modes}
    padding = {}
    _steps(net, opt, loss_fn, BucketBatches(seqs, y, 64, shuffle=True), 1)          # warm-up
    for r in range(args.rounds):
        for mode, bucket in modes.items():
            batches = BucketBatches(seqs, y, 64, shuffle=True, bucket=bucket,
                                    generator=torch.Generator().manual_seed(r))
            padding[mode] = round(batches.padding_fraction(), 3)
            n, s = _steps(net, opt, loss_fn, batches, args.steps)
            totals[mode][0] += n
            totals[mode][1] += s
    rate = {m: n / s for m, (n, s) in totals.items()}
    print(json.dumps({"benchmark": "bucketing_throughput", "bucketed_seq_per_s": round(rate["bucketed"], 1),
                      "random_seq_per_s": round(rate["random"], 1),
                      "ratio_bucketed_over_random": round(rate["bucketed"] / rate["random"], 2),
                      "padding_fraction": padding, "reviews": args.reviews, "max_len": 400, "batch": 64,
                      "steps_per_mode": args.steps * args.rounds, "threads": args.threads}))


if __name__ == "__main__":
    main()
