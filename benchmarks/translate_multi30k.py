"""Multi30k (WMT16 multimodal task 1) translation: BLEU greedy and beam 5, training time, decoding speed.

Trains one :class:`~lstmkit.Translator` per direction on ``raw/train.{en,de}`` (cased, untokenised
text; validation ``raw/val``), then translates ``raw/test_2016_flickr`` with greedy search and
with beam 5 and scores both with sacrebleu (13a tokenisation, cased; signatures in the output).
Prints one JSON line with, per direction: BLEU and chrF (greedy, beam 5), training wall time,
decoded sentences/s (greedy, beam 5) and their ratio.

Training stops at a time budget (``--max-minutes``, default 82: no epoch starts that would end
past it) and keeps the best weights. As measured: each direction in its own process on one thread,
both at once on a quiet 2-core machine (so each had one core, not two):

    python benchmarks/translate_multi30k.py --directions de-en --threads 1 --out runs/m30k &
    python benchmarks/translate_multi30k.py --directions en-de --threads 1 --out runs/m30k &

``--limit 300 --epochs 1`` is a smoke run of a minute or two.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import sacrebleu
import torch

from lstmkit import Translator
from lstmkit.tasks.translate.data import read_lines
from lstmkit.tasks.translate.metrics import corpus_scores

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "translation" / "multi30k"


def _lines(data: Path, split: str, lang: str, limit: int | None) -> list[str]:
    lines = read_lines(data / "raw" / f"{split}.{lang}")
    return lines[:limit] if limit else lines


def _decode(tr: Translator, src: list[str], refs: list[str], beam: int) -> dict:
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        hyps = tr.translate(src, beam=beam)
    seconds = time.perf_counter() - t0
    m = corpus_scores(hyps, refs)
    lc = sacrebleu.BLEU(lowercase=True)
    return {"bleu": m["bleu"], "chrf": m["chrf"], "bleu_lc": round(lc.corpus_score(hyps, [refs]).score, 2),
            "bleu_lc_signature": str(lc.get_signature()), "sentences_per_second": round(len(src) / seconds, 1),
            "bleu_signature": m["bleu_signature"], "example": hyps[0]}


def run_direction(data: Path, src: str, tgt: str, args) -> dict:
    train_src, train_tgt = _lines(data, "train", src, args.limit), _lines(data, "train", tgt, args.limit)
    val_n = max(50, args.limit // 10) if args.limit else None
    val = list(zip(_lines(data, "val", src, val_n), _lines(data, "val", tgt, val_n)))
    test_n = args.test_limit or (max(100, args.limit // 3) if args.limit else None)
    test_src, test_ref = _lines(data, "test_2016_flickr", src, test_n), _lines(data, "test_2016_flickr", tgt, test_n)
    params = dict(tokenizer=args.tokenizer, max_size=args.vocab, min_freq=2, embed_dim=args.embed, hidden_size=args.hidden,
                  num_layers=args.layers, dropout=args.dropout, attention=args.attention, max_len=60, beam=5,
                  max_epochs=args.epochs, max_minutes=args.max_minutes, patience=args.patience, batch_size=args.batch_size, lr=args.lr,
                  seed=args.seed, device=args.device, progress=args.progress, tensorboard=False)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out if args.out else tmp     # --out keeps the run folder (model, plots, history)
        t0 = time.perf_counter()
        tr = Translator(**params).fit(list(zip(train_src, train_tgt)), val_data=val, out=out)
        train_seconds = time.perf_counter() - t0
        epoch_seconds = sum(h["seconds"] for h in tr.result_.history)
        tr.net_.to("cpu")
        greedy = _decode(tr, test_src, test_ref, 1)
        beam = _decode(tr, test_src, test_ref, 5)
    return {"direction": f"{src}-{tgt}", "train_pairs": len(train_src), "test_sentences": len(test_src),
            "epochs_run": tr.result_.epochs_run, "best_epoch": tr.result_.best_epoch,
            "train_seconds": round(train_seconds, 1), "epoch_seconds": round(epoch_seconds, 1),
            "run_dir": str(tr.run_dir_) if args.out else None,
            "bleu_greedy": greedy["bleu"], "bleu_beam5": beam["bleu"],
            "bleu_lc_greedy": greedy["bleu_lc"], "bleu_lc_beam5": beam["bleu_lc"],
            "chrf_greedy": greedy["chrf"], "chrf_beam5": beam["chrf"],
            "decode_sps_greedy": greedy["sentences_per_second"], "decode_sps_beam5": beam["sentences_per_second"],
            "beam5_slowdown": round(greedy["sentences_per_second"] / beam["sentences_per_second"], 2),
            "bleu_signature": beam["bleu_signature"], "example": {"source": test_src[0], "beam5": beam["example"],
                                                                 "reference": test_ref[0]}}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--directions", default="en-de,de-en")
    p.add_argument("--limit", type=int, default=None, help="Use the first N training pairs (smoke runs).")
    p.add_argument("--test-limit", type=int, default=None, help="Score the first N test sentences.")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--max-minutes", type=float, default=82,
                   help="Training time budget per direction (no epoch starts that would end past it).")
    p.add_argument("--patience", type=int, default=3)
    p.add_argument("--tokenizer", default="bpe")
    p.add_argument("--vocab", type=int, default=8000)
    p.add_argument("--embed", type=int, default=256)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--attention", default="bahdanau")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads [torch's default].")
    p.add_argument("--progress", default="log")
    p.add_argument("--out", type=Path, default=None, help="Keep the run folders here [a temporary folder].")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if not (args.data / "raw" / "train.en").is_file():
        sys.exit(f"Multi30k not found under {args.data} (expected raw/train.en); pass --data")
    results = [run_direction(args.data, *d.split("-"), args) for d in args.directions.split(",")]
    print(json.dumps({"benchmark": "translate_multi30k", "test_set": "test_2016_flickr", "limit": args.limit,
                      "epochs": args.epochs, "threads": torch.get_num_threads(), "results": results}))


if __name__ == "__main__":
    main()
