"""Translation under ``lstmkit compare`` and ``lstmkit tune``, and the deployed engines' speed
(:func:`deploy_speed`, for ``benchmarks/inference.py``)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from lstmkit.tasks.translate.config import TranslateConfig
from lstmkit.tasks import TuneHooks
from lstmkit.nn.seq2seq import beam_search
from lstmkit.tasks.translate.data import read_pairs, split_pairs, warn_repeated_pairs
from lstmkit.tasks.translate.estimator import Translator
from lstmkit.train.bench import (SEEDED_SPLIT, TOKENS, VALIDATION_PART, Trial, ZooBench, choice,
                                 describe_source, float_range, int_range, make_trial, trial_shown)

__all__ = ["BENCH", "TranslateBench", "SEARCH_SPACE", "TUNE_SHARED", "tune_keys", "tune_check", "tune_trial",
           "tune_settings", "tune_loss_label", "deploy_speed"]


class _Decode(nn.Module):
    """Greedy decoding of ``src`` (inference latency of a translator)."""

    def __init__(self, net, cfg):
        super().__init__()
        self.net, self.cfg = net, cfg

    def forward(self, src):
        lengths = torch.full((src.shape[0],), src.shape[1], dtype=torch.long)
        return beam_search(self.net, src, lengths, 1, self.cfg.length_penalty, self.cfg.max_len_ratio)


class _TeacherForced(nn.Module):
    """One training forward of a translator on ``src`` and a target of ``tgt_len`` tokens."""

    def __init__(self, net, tgt_len: int, vocab: int):
        super().__init__()
        self.net, self.tgt_len, self.vocab = net, tgt_len, vocab

    def forward(self, src):
        lengths = torch.full((src.shape[0],), src.shape[1], dtype=torch.long)
        tgt = torch.randint(1, self.vocab, (src.shape[0], self.tgt_len), generator=torch.Generator().manual_seed(1))
        return self.net(src, lengths, tgt)


class TranslateBench(ZooBench):
    """Translation (``Translator``): BLEU and chrF of greedy decoding on the ``test`` pairs
    (a table, or ``test_src_file`` / ``test_tgt_file``), or, without them, on a fixed ``test_frac``
    of the pairs (seed 0) kept out of training and out of the ``val_frac`` that early stopping reads.

    ``data`` is a table with ``src`` / ``tgt`` columns, or pass ``src_file`` / ``tgt_file``;
    ``options`` are Translator hyper-parameters (``beam`` is 1 unless given: greedy)."""

    name = "translate"
    metrics = ("bleu", "chrf")        # metrics.json's and evaluate --json's names (compare.csv said BLEU, chrF)
    higher_is_better = True

    def __init__(self, data=None, src_file=None, tgt_file=None, test=None, test_src_file=None, test_tgt_file=None,
                 test_frac: float = 0.1, **options: Any):
        self.options = {"beam": 1, **{k: v for k, v in options.items() if v is not None}}
        cols = TranslateConfig(**{k: self.options[k] for k in ("src", "tgt", "encoding") if k in self.options})
        full = read_pairs(data, cols.src, cols.tgt, src_file, tgt_file, cols.encoding)
        given = test is not None or test_src_file is not None or test_tgt_file is not None
        if given:
            rest, self.test = full, read_pairs(test, cols.src, cols.tgt, test_src_file, test_tgt_file, cols.encoding)
        else:       # scoring the part early stopping chose the weights on would flatter every model
            kept, held = split_pairs(len(full), test_frac, 0)
            rest, self.test = full.subset(kept), full.subset(held)
        tr, va = split_pairs(len(rest), float(self.options.get("val_frac", 0.05)), 0)
        self.train, self.val = rest.subset(tr), rest.subset(va)
        warn_repeated_pairs(rest, self.test, "the test data")
        self.describe_ = {"data": describe_source(data if data is not None else src_file), "pairs": len(full),
                          "scored_on": "test" if given else f"{test_frac:g} of the pairs",
                          "scored_pairs": len(self.test.src), "decoding": f"beam {self.options['beam']}", **self.options}

    def run(self, model: str, seed: int, epochs: int) -> Trial:
        est = Translator(**{**self.options, "model": model, "seed": seed, "max_epochs": epochs, **trial_shown(self)})
        est.fit(list(zip(self.train.src, self.train.tgt)), val_data=list(zip(self.val.src, self.val.tgt)))
        beam = self.options["beam"]
        scores = est._score(self.test, beam)
        net, cfg = est.net_.to("cpu").eval(), est.config_
        sample = self.train.src[:256], self.train.tgt[:256]
        src_len = max(1, round(float(np.mean([len(est.src_tokenizer_.encode(s)) for s in sample[0]]))))
        tgt_len = max(1, round(float(np.mean([len(est.tgt_tokenizer_.encode(s)) for s in sample[1]])))) + 1
        gen = torch.Generator().manual_seed(0)
        make = lambda b: torch.randint(1, est.src_tokenizer_.vocab_size, (b, src_len), generator=gen)  # noqa: E731
        forward = _TeacherForced(net, tgt_len, est.tgt_tokenizer_.vocab_size)
        return make_trial(model, seed, forward, est.result_.history, est.data_summary_["split"]["train"],
                           make(1), make(256), make(cfg.train.batch_size),
                           {k: float(scores[k]) for k in self.metrics},
                           {"best_epoch": est.result_.best_epoch, "lr": cfg.train.lr}, latency_net=_Decode(net, cfg))


BENCH = TranslateBench

# -- tune ---------------------------------------------------------------------------------------
SEARCH_SPACE: dict[str, Any] = {
    "hidden_size": int_range(64, 512, log=True), "num_layers": int_range(1, 2), "dropout": float_range(0.0, 0.5),
    "lr": float_range(1e-4, 3e-3, log=True), "attention": choice("bahdanau", "general", "dot")}
# label smoothing is part of the validation loss (its uniform share costs about log(vocabulary) a token): the
# default space searched it, and the smallest loss, near none, won every study
TUNE_SHARED = {"label_smoothing": "the loss the validation loss is (label smoothing is part of it)",
               **dict.fromkeys(("tokenizer", "shared_vocab", "lowercase", "min_freq", "max_size"), TOKENS),
               "seed": SEEDED_SPLIT, "val_frac": VALIDATION_PART, "dedup": VALIDATION_PART,
               "drop_empty": VALIDATION_PART}


_TUNE = TuneHooks(Translator, files=("src_file", "tgt_file", "val_data", "val_src_file", "val_tgt_file"),
                  check_files=("src_file", "tgt_file"), data_keys=("src_file",))
tune_keys, tune_check, tune_trial = _TUNE.keys, _TUNE.check, _TUNE.trial
tune_settings = _TUNE.settings
tune_loss_label = _TUNE.loss_label


# -- the deployed engines' speed ----------------------------------------------------------------
def deploy_speed(run: str | Path, int8_run: str | Path | None = None, sentences: Sequence[str] | None = None,
                 batch: int = 64, beam: int = 5, seconds: float = 2.0, requests: int = 200) -> list[dict[str, Any]]:
    """Speed of a translation run under each engine, through the service's own answer path
    (tokenise, beam search, detokenise): ``sentences_per_s`` translating ``batch`` sentences at a
    time greedily (beam 1), and p50 / p99 latency of one sentence with ``beam``. Engines: torch
    and ONNX (the run's exported graphs, which must be there), and an ``int8_run``'s. One dict
    per engine, then one with ``onnx_vs_torch`` (throughput ratio, the issue's target 1.25).
    ``sentences`` default to the run's validation sources (random ones for in-memory data)."""
    from lstmkit.tasks.translate.deploy import TranslateAdapter
    adapter = TranslateAdapter.load(run)
    nets = {"torch": adapter.net, "onnx": adapter.onnx_net(Path(run))}
    if int8_run is not None:
        q = TranslateAdapter.load(int8_run)
        made = q.est.quantization_ or {}
        nets.update({f"{e}-int8": (q.net if e == "torch" else q.onnx_net(Path(int8_run)))
                     for e in ("torch", "onnx") if made.get(e)})
    sentences = list(sentences or _sample_sentences(adapter, batch))
    block = [sentences[i % len(sentences)] for i in range(batch)]
    lines = []
    for name, net in nets.items():
        adapter.answer(net, block, 1)                                        # warm-up
        done, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds or done < 3:
            adapter.answer(net, block, 1)
            done += 1
        rate = batch * done / (time.perf_counter() - t0)
        waits = []
        for i in range(requests):
            t = time.perf_counter()
            adapter.answer(net, [sentences[i % len(sentences)]], beam)
            waits.append(time.perf_counter() - t)
        lines.append({"task": "translate", "engine": name, "batch": batch, "sentences_per_s": round(rate, 1),
                      "latency_beam": beam, "latency_p50_ms": round(float(np.percentile(waits, 50)) * 1e3, 3),
                      "latency_p99_ms": round(float(np.percentile(waits, 99)) * 1e3, 3),
                      "threads": torch.get_num_threads()})
    speed = {line["engine"]: line["sentences_per_s"] for line in lines}
    lines.append({"task": "translate", "onnx_vs_torch": round(speed["onnx"] / speed["torch"], 3), "target": 1.25,
                  "latency_p99_target_ms": 150})
    return lines


def _sample_sentences(adapter, n: int) -> list[str]:
    """The run's validation sources that fit its length limit, else ``n`` random ones."""
    est, limit = adapter.est, adapter.est.config_.max_len
    pairs = adapter.validation_pairs()
    fits = [s for s in (pairs.src if pairs is not None else []) if s.strip()
            and (limit is None or len(est.src_tokenizer_.encode(s)) <= limit)]
    if fits:
        return fits
    g = torch.Generator().manual_seed(0)
    vocab, steps = est.src_tokenizer_.vocab_size, max(1, min(limit or 12, 12) - 2)
    return [est.src_tokenizer_.decode(torch.randint(4, max(vocab, 5), (steps,), generator=g).tolist()) for _ in range(n)]
