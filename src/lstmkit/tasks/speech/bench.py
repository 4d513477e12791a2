"""Speech under ``lstmkit compare`` and ``lstmkit tune``.

The bench reads the recordings once and holds out a fixed share (seed 0), or scores the ``test``
recordings; each trial's seed drives initialisation, shuffling and the validation split of the
rest. Recognition (``mode`` ctc or seq2seq) is scored by WER and CER of greedy decoding without a
language model; ``mode=classify`` by accuracy, macro-F1 and calibration, beside the majority class as a
reference row (as text classification's compare has it).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from lstmkit.errors import LstmkitError
from lstmkit.tasks import TuneHooks
from lstmkit.tasks.speech.data import read_utterances, warn_tested_on_training
from lstmkit.tasks.speech.estimator import SpeechRecognizer, check_packages
from lstmkit.train.bench import (SEEDED_SPLIT, VALIDATION_PART, Trial, ZooBench, choice, describe_source,
                                 float_range, int_range, majority_reference, make_trial, trial_shown)

__all__ = ["BENCH", "SpeechBench", "SEARCH_SPACE", "TUNE_SHARED", "tune_keys", "tune_check", "tune_trial",
           "tune_settings", "tune_loss_label"]


class _Frames(nn.Module):
    """One forward of an acoustic model on whole feature sequences ``x [B, T, F]`` (seq2seq:
    teacher-forced on a target of ``tgt_len`` tokens)."""

    def __init__(self, net: nn.Module, tgt_len: int | None, vocab: int):
        super().__init__()
        self.net, self.tgt_len, self.vocab = net, tgt_len, vocab

    def forward(self, x):
        lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.long)
        if self.tgt_len is None:
            return self.net(x, lengths)
        tgt = torch.randint(1, self.vocab, (x.shape[0], self.tgt_len), generator=torch.Generator().manual_seed(1))
        return self.net(x, lengths, tgt)


class SpeechBench(ZooBench):
    """:class:`~lstmkit.tasks.speech.estimator.SpeechRecognizer` per zoo model and seed, scored on
    the held-out recordings (``test_frac`` of ``data``, or a folder's ``testing_list.txt``) or the ``test``
    data (a folder's test part where it has one). ``data``'s own test part is never trained on.

    ``options`` are SpeechRecognizer hyper-parameters (``mode``, ``subsample``, ``n_mels``, ...)."""

    name = "speech"

    def __init__(self, data, test=None, test_frac: float = 0.2, **options: Any):
        if data is None:
            raise LstmkitError("no data given", "pass --data MANIFEST.csv (columns path,text)")
        self.options = {k: v for k, v in options.items() if v is not None}
        cfg = SpeechRecognizer(**self.options).config
        check_packages(cfg)         # before the recordings are read: each model's trial failed alike, one by one
        full = read_utterances(data, cfg.label_from_name)
        kept = full.subset([k for k, p in enumerate(full.parts) if p != "test"]) if full.parts else full
        if test is not None:        # a folder's test part, as 'speech evaluate' scores it (never its train-* subsets)
            self.train, self.test = kept, read_utterances(test, cfg.label_from_name).test_part()
            warn_tested_on_training(kept, self.test)
        elif "test" in full.parts:          # a folder's testing_list.txt or test-* subsets: the official test part
            self.train, self.test = kept, full.test_part()
        else:
            perm = np.random.default_rng(0).permutation(len(full))
            n_test = min(max(1, round(test_frac * len(full))), len(full) - 2)
            self.train, self.test = full.subset(sorted(perm[n_test:])), full.subset(sorted(perm[:n_test]))
        self.mode = cfg.mode
        self.metrics = ("accuracy", "macro_f1", "nll", "brier", "ece") if cfg.mode == "classify" else ("wer", "cer")
        self.higher_is_better = cfg.mode == "classify"
        self.describe_ = {"data": describe_source(data), "recordings": len(full.paths), "mode": cfg.mode,
                          "test": describe_source(test) if test is not None else
                          "testing_list.txt" if "test" in full.parts else f"{test_frac:g} of data",
                          "test_recordings": len(self.test.paths), **self.options}
        self._reference: dict[str, dict[str, float]] = {}

    def run(self, model: str, seed: int, epochs: int) -> Trial:
        # the recordings were read with label_from_name: the estimator refuses it beside them (every trial failed)
        options = {k: v for k, v in self.options.items() if k != "label_from_name"}
        est = SpeechRecognizer(**{**options, "model": model, "seed": seed, "max_epochs": epochs,
                                  **trial_shown(self)})
        est.fit(self.train)
        m = est.evaluate(self.test, beam=None if self.mode == "classify" else 1, lm=False)
        if self.mode == "classify" and not self._reference:    # the floor a model has to rise above
            self._reference = majority_reference(est.class_names_, self.test.texts, self.train.texts, est.majority_)
        cfg, summary = est.config_, est.data_summary_
        n_train = summary["split"]["train"]
        steps = max(est.min_frames_, round(summary["hours"]["train"] * 3.6e6 / cfg.hop_ms / n_train))
        gen = torch.Generator().manual_seed(0)
        make = lambda b: torch.randn(b, steps, est.spec_.dim, generator=gen)  # noqa: E731
        s2s = self.mode == "seq2seq"
        vocab = len(est.class_names_) if self.mode == "classify" else len(est.symbols_)
        forward = _Frames(est.net_.eval(), max(1, steps // 8) if s2s else None, vocab)
        return make_trial(model, seed, forward, est.result_.history, n_train, make(1), make(256),
                          make(cfg.train.batch_size), {k: float(m[k]) for k in self.metrics},
                          {"best_epoch": est.result_.best_epoch, "lr": cfg.train.lr})

    def reference_rows(self) -> dict[str, dict[str, float]]:
        return self._reference


BENCH = SpeechBench

# -- tune ---------------------------------------------------------------------------------------
SEARCH_SPACE: dict[str, Any] = {
    "hidden_size": int_range(64, 384, log=True), "num_layers": int_range(1, 3), "dropout": float_range(0.0, 0.4),
    "lr": float_range(3e-4, 1e-2, log=True), "subsample": int_range(0, 2), "channels": choice(64, 128, 256)}
TUNE_SHARED = {"mode": "what is predicted (and the loss)", "label_from_name": "what is predicted",
               "label_smoothing": "the loss the validation loss is (label smoothing is part of it)",
               "class_weight": "how the validation loss weighs each label",
               "seed": SEEDED_SPLIT, "val_frac": VALIDATION_PART}


_TUNE = TuneHooks(SpeechRecognizer, files=("val_data",))
tune_keys, tune_check, tune_trial = _TUNE.keys, _TUNE.check, _TUNE.trial
tune_settings = _TUNE.settings
tune_loss_label = _TUNE.loss_label
