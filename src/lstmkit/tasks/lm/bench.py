"""Language modelling under ``lstmkit compare`` and ``lstmkit tune``.

The bench reads the text once and holds out a fixed share of its lines (seed 0), or scores the
``test`` text; each trial's seed drives initialisation, shuffling and the validation split of the
rest. Perplexity and bits per token are per token, ``</s>`` included.
"""
from __future__ import annotations

from typing import Any

import torch

from lstmkit.errors import LstmkitError
from lstmkit.tasks import TuneHooks
from lstmkit.tasks.lm.data import read_corpus, split_lines, warn_shared_lines
from lstmkit.tasks.lm.estimator import LanguageModel
from lstmkit.tasks.lm.model import check_causal
from lstmkit.train.bench import (SEEDED_SPLIT, TOKENS, VALIDATION_PART, Trial, ZooBench, check_zoo_models,
                                 choice, describe_source, float_range, int_range, make_trial, trial_shown)

__all__ = ["BENCH", "LanguageModelBench", "SEARCH_SPACE", "TUNE_SHARED", "tune_keys", "tune_check", "tune_trial",
           "tune_settings", "tune_loss_label"]


class LanguageModelBench(ZooBench):
    """:class:`~lstmkit.tasks.lm.estimator.LanguageModel` per causal zoo model and seed: perplexity
    and bits per token on the held-out lines (``test_frac`` of ``data``) or on the ``test`` text.

    ``options`` are LanguageModel hyper-parameters (``level``, ``hidden_size``, ``max_len``, ...)."""

    name = "lm"
    metrics = ("perplexity", "bits_per_token")

    def __init__(self, data, test=None, test_frac: float = 0.1, **options: Any):
        if data is None:
            raise LstmkitError("no data given", "pass --data FILE (one sentence or utterance a line)")
        self.options = {k: v for k, v in options.items() if v is not None}
        cfg = LanguageModel(**self.options).config
        full = read_corpus(data, cfg.encoding, "--data")
        if test is not None:
            self.train, self.test = full, read_corpus(test, cfg.encoding, "--test")
            warn_shared_lines(full.lines, self.test.lines, "test", "; pass --test text kept out of --data")
        else:
            rest, held = split_lines(len(full), test_frac, 0)
            self.train, self.test = full.subset(rest), full.subset(held)
        self.describe_ = {"data": describe_source(data), "lines": len(full.lines),
                          "test": describe_source(test) if test is not None else f"{test_frac:g} of the lines",
                          "test_lines": len(self.test.lines), **self.options}

    def check_models(self, models: list[str]) -> None:
        check_zoo_models(models)
        for m in models:                   # a model that reads the future cannot predict the next token
            check_causal(m)

    def run(self, model: str, seed: int, epochs: int) -> Trial:
        est = LanguageModel(**{**self.options, "model": model, "seed": seed, "max_epochs": epochs, **trial_shown(self)})
        est.fit(self.train.lines)
        m = est.evaluate(self.test.lines)
        summary, vocab = est.data_summary_, est.tokenizer_.vocab_size
        steps = max(1, min(est.config_.max_len, round(summary["train_tokens"] / max(1, summary["split"]["train"]))))
        gen = torch.Generator().manual_seed(0)
        make = lambda b: torch.randint(1, vocab, (b, steps), generator=gen)  # noqa: E731
        return make_trial(model, seed, est.net_.eval(), est.result_.history, summary["train_sequences"], make(1),
                          make(256), make(est.config_.train.batch_size), {k: float(m[k]) for k in self.metrics},
                          {"best_epoch": est.result_.best_epoch, "lr": est.config_.train.lr})


BENCH = LanguageModelBench

# -- tune ---------------------------------------------------------------------------------------
SEARCH_SPACE: dict[str, Any] = {
    "hidden_size": int_range(64, 512, log=True), "num_layers": int_range(1, 3), "dropout": float_range(0.0, 0.5),
    "lr": float_range(3e-4, 1e-2, log=True), "embed_dim": choice(64, 128, 256), "tie_weights": choice(False, True)}
TUNE_SHARED = {**dict.fromkeys(("level", "lowercase", "min_freq", "max_size"), TOKENS), "seed": SEEDED_SPLIT,
               "val_frac": VALIDATION_PART}


_TUNE = TuneHooks(LanguageModel, files=("val",))
tune_keys, tune_check, tune_trial = _TUNE.keys, _TUNE.check, _TUNE.trial
tune_settings = _TUNE.settings
tune_loss_label = _TUNE.loss_label
