"""What telling a TSV's quoting costs beside reading the file: ``tsv_quoting`` on a large TSV in which
no cell begins with a quote mark (one sits inside a sentence), against pandas reading the same text,
both measured here, the best of ``--repeats`` each. The aim: the rule well under half the read
(a regex search over the whole text once took longer than the read). Prints one JSON line.

    python benchmarks/tsv_quoting.py [--rows 200000] [--repeats 5]
"""
from __future__ import annotations

import argparse
import io
import json
import time

import pandas as pd

from lstmkit.data.quoting import tsv_quoting


def best_seconds(call, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    text = "sentence\tlabel\n" + "".join(f"review {k} is fine\t{k % 2}\n" for k in range(args.rows)) + 'it "is"\t1\n'
    assert tsv_quoting(text, "x") is False
    rule = best_seconds(lambda: tsv_quoting(text, "x"), args.repeats)
    read = best_seconds(lambda: pd.read_csv(io.StringIO(text), sep="\t", dtype=str, keep_default_na=False),
                        args.repeats)
    print(json.dumps({"rows": args.rows, "rule_s": round(rule, 4), "read_s": round(read, 4),
                      "rule_over_read": round(rule / read, 3), "target": "< 0.5"}))


if __name__ == "__main__":
    main()
