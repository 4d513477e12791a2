"""Character-level LSTM language model on real text: bits per character, perplexity, training time.

Trains :class:`~lstmkit.LanguageModel` (``level="char"``, one sentence per line, ``</s>`` scored)
on the English side of Multi30k (``raw/train.en``, cased text lower-cased by the tokenizer;
validation ``raw/val.en``) and scores ``raw/test_2016_flickr.en``. Beside it, on the same tokens
(every character plus one end per line): a unigram model and an interpolated trigram model
(add-one at the bottom, interpolation weights tuned on the validation text) — the count-based
baselines an LSTM must beat.

One thread (``torch.set_num_threads(1)``), under 10 minutes on a quiet core with the defaults.
Prints one JSON line; ``train_cpu_seconds`` beside the wall time shows how much of the wall
time other processes took on a shared machine.

    python benchmarks/lm_text.py [--epochs 2] [--hidden 128] [--limit N]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import torch

from lstmkit import LanguageModel

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "translation" / "multi30k"


def _lines(path: Path, limit: int | None = None) -> list[str]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return lines[:limit] if limit else lines


def _token_lines(lm: LanguageModel, lines: list[str]) -> list[list[str]]:
    """The model's own tokens of each line (normalised, lower-cased characters) plus the end token."""
    tok = lm.tokenizer_
    return [[*tok.pieces(ln), "</s>"] for ln in lines if tok.pieces(ln)]


class _Trigram:
    """Interpolated trigram over characters: λ3·P3 + λ2·P2 + λ1·P1, P1 add-one over the vocabulary."""

    def __init__(self, lines: list[list[str]], vocab: set[str]):
        self.v = len(vocab) + 1
        self.c1, self.c2, self.c3 = Counter(), Counter(), Counter()
        self.h1, self.h2 = Counter(), Counter()
        for toks in lines:
            ctx = ["<s>", "<s>", *toks]
            for i, t in enumerate(toks):
                a, b = ctx[i], ctx[i + 1]
                self.c1[t] += 1
                self.c2[b, t] += 1
                self.h1[b] += 1
                self.c3[a, b, t] += 1
                self.h2[a, b] += 1
        self.n = sum(self.c1.values())
        self.lambdas = (1.0, 0.0, 0.0)

    def bits(self, lines: list[list[str]], lambdas=None) -> float:
        l1, l2, l3 = lambdas or self.lambdas
        total, n = 0.0, 0
        for toks in lines:
            ctx = ["<s>", "<s>", *toks]
            for i, t in enumerate(toks):
                a, b = ctx[i], ctx[i + 1]
                p1 = (self.c1[t] + 1) / (self.n + self.v)
                p2 = self.c2[b, t] / self.h1[b] if self.h1[b] else p1
                p3 = self.c3[a, b, t] / self.h2[a, b] if self.h2[a, b] else p2
                total -= math.log2(l1 * p1 + l2 * p2 + l3 * p3)
                n += 1
        return total / n

    def tune(self, val: list[list[str]]) -> None:
        grid = [(l1, l2, round(1 - l1 - l2, 2)) for l1 in (0.02, 0.05, 0.1, 0.2)
                for l2 in (0.1, 0.2, 0.3, 0.4, 0.5) if l1 + l2 < 1]
        self.lambdas = min(grid, key=lambda lam: self.bits(val, lam))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--limit", type=int, default=None, help="Use the first N training lines (smoke runs).")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--embed", type=int, default=32)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--progress", default="log")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    raw = args.data / "raw"
    if not (raw / "train.en").is_file():
        sys.exit(f"Multi30k not found under {args.data} (expected raw/train.en); pass --data")
    train = _lines(raw / "train.en", args.limit)
    val = _lines(raw / "val.en", max(100, args.limit // 10) if args.limit else None)
    test = _lines(raw / "test_2016_flickr.en")

    params = dict(level="char", embed_dim=args.embed, hidden_size=args.hidden, num_layers=args.layers,
                  dropout=args.dropout, max_epochs=args.epochs, patience=2, batch_size=args.batch_size, lr=args.lr,
                  seed=args.seed, device="cpu", progress=args.progress, tensorboard=False)
    with tempfile.TemporaryDirectory() as out:
        t0, c0 = time.perf_counter(), time.process_time()
        lm = LanguageModel(**params).fit(train, val=val, out=out)
        train_seconds, train_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    m = lm.evaluate(test)
    eval_seconds = time.perf_counter() - t0

    tr_tok, va_tok, te_tok = (_token_lines(lm, x) for x in (train, val, test))
    vocab = {t for toks in tr_tok for t in toks}
    tri = _Trigram(tr_tok, vocab)
    unigram_bits = tri.bits(te_tok, (1.0, 0.0, 0.0))
    tri.tune(va_tok)
    trigram_bits = tri.bits(te_tok)
    assert sum(len(t) for t in te_tok) == m["tokens"], "baselines must score the model's own tokens"

    print(json.dumps({
        "benchmark": "lm_text", "data": "multi30k raw/*.en (train, val, test_2016_flickr)", "level": "char",
        "train_lines": len(train), "train_tokens": lm.data_summary_["train_tokens"], "vocab": lm.tokenizer_.vocab_size,
        "test_tokens": m["tokens"], "model": f"lstm {args.layers}x{args.hidden}, embed {args.embed}",
        "parameters": sum(p.numel() for p in lm.net_.parameters()), "threads": torch.get_num_threads(),
        "epochs_run": lm.result_.epochs_run, "train_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(train_cpu, 1),     # below train_seconds when other processes share the cores
        "train_chars_per_second": round(lm.data_summary_["train_tokens"] * lm.result_.epochs_run
                                        / max(lm.train_seconds_, 1e-9)),
        "test_bits_per_char": round(m["bits_per_char"], 4), "test_perplexity": round(m["perplexity"], 4),
        "val_bits_per_char": round(lm.metrics_["val"]["bits_per_char"], 4),
        "baseline_unigram_bits_per_char": round(unigram_bits, 4),
        "baseline_trigram_bits_per_char": round(trigram_bits, 4), "trigram_lambdas": tri.lambdas,
        "eval_chars_per_second": round(m["tokens"] / eval_seconds),
        "sample": lm.sample(prefix="a man ", temperature=0.7, seed=0)}))


if __name__ == "__main__":
    main()
