"""Classification and translation benches for ``lstmkit compare`` (see :mod:`lstmkit.compare`).

Both read the data once and hold out one fixed part (seed 0), so every model and seed is scored
on the same examples; each trial's seed drives initialisation, shuffling and the
early-stopping split of the rest.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

if TYPE_CHECKING:
    from lstmkit.compare import Trial

from lstmkit.errors import LstmkitError

__all__ = ["ClassifyBench", "TranslateBench", "check_zoo_models"]

_QUIET = {"progress": "off", "tensorboard": False}


def check_zoo_models(models: list[str]) -> None:
    from lstmkit.nn.zoo import ENCODERS
    unknown = [m for m in models if m not in ENCODERS]
    if unknown:
        raise LstmkitError(f"unknown model{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
                           f"use any of: {', '.join(ENCODERS)}")


def _source(data) -> str:
    return str(data) if isinstance(data, (str, Path)) else type(data).__name__


def _trial(model, seed, net, history, n_train, x1, x256, xb, metrics, extra, latency_net=None):
    from lstmkit.compare import Trial, activation_bytes, measure_latency_ms
    train_s = float(sum(h["seconds"] for h in history))
    lat = latency_net if latency_net is not None else net
    return Trial(model=model, seed=seed, params=sum(p.numel() for p in net.parameters()), metrics=metrics,
                 train_s=train_s, epochs=len(history),
                 windows_per_s=n_train * len(history) / train_s if train_s > 0 else float("nan"),
                 latency_b1_ms=measure_latency_ms(lat, x1), latency_b256_ms=measure_latency_ms(lat, x256),
                 act_mem_mb=activation_bytes(net, xb) / 2**20, extra=extra)


# ----------------------------------------------------------------------------- classification
class ClassifyBench:
    """Text (``TextClassifier``) or numeric-sequence (``SequenceClassifier``, ``series=True``)
    classification: accuracy and macro-F1 on the ``test`` data, or, without it, on a stratified
    ``test_frac`` held out of ``data``; the majority class is the reference row.

    ``options`` are the estimator's hyper-parameters (``text``, ``label``, ``max_len``, ...)."""

    name = "classify"
    metrics = ("accuracy", "macro_f1")
    higher_is_better = True

    def __init__(self, data, test=None, series: bool = False, test_frac: float = 0.2, **options: Any):
        from lstmkit.tasks.classify.data import stratified_split
        from lstmkit.tasks.classify.estimator import SequenceClassifier, TextClassifier
        if data is None:
            raise LstmkitError("no data given", "pass --data FILE")
        self.cls = SequenceClassifier if series else TextClassifier
        self.options = {k: v for k, v in options.items() if v is not None}
        proto = self.cls(**self.options)
        full = proto._read(data, proto.config)
        if test is not None:
            self.train, self.test = full, proto._read(test, proto.config)
        else:
            rest, held = stratified_split(full.labels, test_frac, 0)
            self.train, self.test = full.subset(rest), full.subset(held)
        self.describe_ = {"data": _source(data), "kind": self.cls.kind, "rows": len(full.labels),
                          "test": _source(test) if test is not None else f"{test_frac:g} of data (stratified)",
                          "test_rows": len(self.test.labels), **self.options}
        self._reference: dict[str, dict[str, float]] = {}

    def check_models(self, models: list[str]) -> None:
        check_zoo_models(models)

    def run(self, model: str, seed: int, epochs: int) -> Trial:
        from lstmkit.tasks.classify.data import check_known_labels
        est = self.cls(**{**self.options, "model": model, "seed": seed, "max_epochs": epochs, **_QUIET})
        tr = self.train
        est.fit(tr.texts if est.kind == "text" else tr.seqs, y=tr.labels)
        check_known_labels(self.test.labels, est.classes_)
        m = est._metrics(est._encode(self.test), self.test.labels)
        if not self._reference:
            p, c = m["majority_baseline_accuracy"], len(est.classes_)
            self._reference = {"majority": {"accuracy": p, "macro_f1": 2 * p / (1 + p) / c}}
        net, cfg = est.net_.to("cpu").eval(), est.config_
        steps = max(1, round(est.data_summary_["train_length"]["mean"]))
        gen = torch.Generator().manual_seed(0)
        if est.kind == "text":
            make = lambda b: torch.randint(1, est.tokenizer_.vocab_size, (b, steps), generator=gen)  # noqa: E731
        else:
            make = lambda b: torch.rand(b, steps, est.scaler_.n_columns_, generator=gen)  # noqa: E731
        return _trial(model, seed, net, est.result_.history, est.data_summary_["split"]["train"],
                      make(1), make(256), make(cfg.train.batch_size), {k: float(m[k]) for k in self.metrics},
                      {"best_epoch": est.result_.best_epoch})

    def reference_rows(self) -> dict[str, dict[str, float]]:
        return self._reference

    def describe(self) -> dict[str, Any]:
        return dict(self.describe_)


# -------------------------------------------------------------------------------- translation
class _Decode(nn.Module):
    """Greedy decoding of ``src`` (inference latency of a translator)."""

    def __init__(self, net, cfg):
        super().__init__()
        self.net, self.cfg = net, cfg

    def forward(self, src):
        from lstmkit.nn.seq2seq import beam_search
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


class TranslateBench:
    """Translation (``Translator``): BLEU and chrF of greedy decoding on the ``test`` pairs
    (a table, or ``test_src_file`` / ``test_tgt_file``), or, without them, on a fixed
    ``val_frac`` of the pairs that also serves early stopping.

    ``data`` is a table with ``src`` / ``tgt`` columns, or pass ``src_file`` / ``tgt_file``;
    ``options`` are Translator hyper-parameters (``beam`` is 1 unless given: greedy)."""

    name = "translate"
    metrics = ("BLEU", "chrF")
    higher_is_better = True

    def __init__(self, data=None, src_file=None, tgt_file=None, test=None, test_src_file=None, test_tgt_file=None,
                 **options: Any):
        from lstmkit.config import TranslateConfig
        from lstmkit.tasks.translate.data import read_pairs, split_pairs
        self.options = {"beam": 1, **{k: v for k, v in options.items() if v is not None}}
        cols = TranslateConfig(**{k: self.options[k] for k in ("src", "tgt", "encoding") if k in self.options})
        full = read_pairs(data, cols.src, cols.tgt, src_file, tgt_file, cols.encoding)
        self.test = None
        if test is not None or test_src_file is not None or test_tgt_file is not None:
            self.test = read_pairs(test, cols.src, cols.tgt, test_src_file, test_tgt_file, cols.encoding)
        tr, va = split_pairs(len(full), float(self.options.get("val_frac", 0.05)), 0)
        self.train, self.val = full.subset(tr), full.subset(va)
        scored = self.test if self.test is not None else self.val
        self.describe_ = {"data": _source(data if data is not None else src_file), "pairs": len(full),
                          "scored_on": "test" if self.test is not None else "validation part",
                          "scored_pairs": len(scored.src), "decoding": f"beam {self.options['beam']}", **self.options}

    def check_models(self, models: list[str]) -> None:
        check_zoo_models(models)

    def run(self, model: str, seed: int, epochs: int) -> Trial:
        from lstmkit.tasks.translate.estimator import Translator
        est = Translator(**{**self.options, "model": model, "seed": seed, "max_epochs": epochs, **_QUIET})
        est.fit(list(zip(self.train.src, self.train.tgt)), val_data=list(zip(self.val.src, self.val.tgt)))
        beam = self.options["beam"]
        scores = est._score(self.test, beam) if self.test is not None else est.metrics_["val"]
        net, cfg = est.net_.to("cpu").eval(), est.config_
        sample = self.train.src[:256], self.train.tgt[:256]
        src_len = max(1, round(float(np.mean([len(est.src_tokenizer_.encode(s)) for s in sample[0]]))))
        tgt_len = max(1, round(float(np.mean([len(est.tgt_tokenizer_.encode(s)) for s in sample[1]])))) + 1
        gen = torch.Generator().manual_seed(0)
        make = lambda b: torch.randint(1, est.src_tokenizer_.vocab_size, (b, src_len), generator=gen)  # noqa: E731
        forward = _TeacherForced(net, tgt_len, est.tgt_tokenizer_.vocab_size)
        return _trial(model, seed, forward, est.result_.history, est.data_summary_["split"]["train"],
                      make(1), make(256), make(cfg.train.batch_size),
                      {"BLEU": float(scores["bleu"]), "chrF": float(scores["chrf"])},
                      {"best_epoch": est.result_.best_epoch}, latency_net=_Decode(net, cfg))

    def reference_rows(self) -> dict[str, dict[str, float]]:
        return {}

    def describe(self) -> dict[str, Any]:
        return dict(self.describe_)

