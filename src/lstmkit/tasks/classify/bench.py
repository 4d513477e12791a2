"""Classification under ``lstmkit compare`` and ``lstmkit tune``.

The bench reads the data once and holds out one fixed part (seed 0), so every model and seed is
scored on the same examples; each trial's seed drives initialisation, shuffling and the
early-stopping split of the rest.
"""
from __future__ import annotations

from typing import Any

import torch

from lstmkit.errors import LstmkitError
from lstmkit.tasks import TuneHooks
from lstmkit.tasks.classify.config import SERIES_ONLY
from lstmkit.tasks.classify.labels import check_known_labels, stratified_split
from lstmkit.tasks.classify.estimator import SequenceClassifier, TextClassifier
from lstmkit.train.bench import (SEEDED_SPLIT, VALIDATION_PART, Trial, ZooBench, choice, describe_source,
                                 float_range, int_range, majority_reference, make_trial, trial_shown)

__all__ = ["BENCH", "ClassifyBench", "SEARCH_SPACE", "TUNE_SHARED", "tune_keys", "tune_check", "tune_trial",
           "tune_settings", "tune_loss_label"]


class ClassifyBench(ZooBench):
    """Text (``TextClassifier``) or numeric-sequence (``SequenceClassifier``, ``series=True``)
    classification: accuracy, macro-F1 and the calibration of ``predict_proba`` (NLL, Brier, ECE) on the
    ``test`` data, or, without it, on a stratified ``test_frac`` held out of ``data``; the majority class is
    the reference row, its probabilities the training data's class shares.

    ``options`` are the estimator's hyper-parameters (``text``, ``label``, ``max_len``, ...)."""

    name = "classify"
    metrics = ("accuracy", "macro_f1", "nll", "brier", "ece")    # the first two higher, the rest lower is better
    higher_is_better = True                                     # of the headline, accuracy

    def __init__(self, data, test=None, series: bool = False, test_frac: float = 0.2, **options: Any):
        if data is None:
            raise LstmkitError("no data given", "pass --data FILE")
        self.cls = SequenceClassifier if series else TextClassifier
        self.options = {k: v for k, v in options.items() if v is not None}
        proto = self.cls(**self.options)
        full = proto._read(data, proto.config)
        if test is not None:
            self.train, self.test = full, proto._read(test, proto.config)
            proto._warn_overlap(full, self.test, "the test data")     # --test the --data file: scores flatter
        else:
            rest, held = stratified_split(full.labels, test_frac, 0)
            self.train, self.test = full.subset(rest), full.subset(held)
            # duplicate rows split apart: said as a fit says it of its validation part (translate's bench too)
            proto._warn_overlap(self.train, self.test, f"the held-out test part ({test_frac:g} of --data)")
        self.describe_ = {"data": describe_source(data), "kind": self.cls.kind, "rows": len(full.labels),
                          "test": describe_source(test) if test is not None else f"{test_frac:g} of data (stratified)",
                          "test_rows": len(self.test.labels), **self.options}
        self._reference: dict[str, dict[str, float]] = {}

    def run(self, model: str, seed: int, epochs: int) -> Trial:
        est = self.cls(**{**self.options, "model": model, "seed": seed, "max_epochs": epochs, **trial_shown(self)})
        tr = self.train
        est.fit(tr.texts if est.kind == "text" else tr.seqs, y=tr.labels)
        check_known_labels(self.test.labels, est.class_names_)
        m = est._metrics(est._encode(self.test), self.test.labels)
        if not self._reference:
            self._reference = majority_reference(est.class_names_, self.test.labels, self.train.labels, est.majority_)
        net, cfg = est.net_.to("cpu").eval(), est.config_
        steps = max(1, round(est.data_summary_["train_length"]["mean"]))
        gen = torch.Generator().manual_seed(0)
        if est.kind == "text":
            make = lambda b: torch.randint(1, est.tokenizer_.vocab_size, (b, steps), generator=gen)  # noqa: E731
        else:
            make = lambda b: torch.rand(b, steps, est.scaler_.n_columns_, generator=gen)  # noqa: E731
        return make_trial(model, seed, net, est.result_.history, est.data_summary_["split"]["train"],
                           make(1), make(256), make(cfg.train.batch_size), {k: float(m[k]) for k in self.metrics},
                           {"best_epoch": est.result_.best_epoch, "lr": cfg.train.lr})

    def reference_rows(self) -> dict[str, dict[str, float]]:
        return self._reference



BENCH = ClassifyBench

# -- tune ---------------------------------------------------------------------------------------
SEARCH_SPACE: dict[str, Any] = {
    "hidden_size": int_range(16, 256, log=True), "num_layers": int_range(1, 2), "dropout": float_range(0.0, 0.5),
    "lr": float_range(1e-4, 1e-2, log=True), "pooling": choice("max", "mean", "max-mean", "attention"),
    "batch_size": choice(16, 32, 64)}
TUNE_SHARED = {"label": "what is predicted", "class_weight": "how the validation loss weighs each class",
               "seed": SEEDED_SPLIT, "val_frac": VALIDATION_PART, "drop_empty": VALIDATION_PART}


_TUNE = TuneHooks(TextClassifier, files=("val_data",), extra_keys=("series", *SERIES_ONLY),   # either kind's
                  choose=lambda params: SequenceClassifier if params.pop("series", False) else TextClassifier)
tune_keys, tune_check, tune_trial = _TUNE.keys, _TUNE.check, _TUNE.trial
tune_settings = _TUNE.settings
tune_loss_label = _TUNE.loss_label
