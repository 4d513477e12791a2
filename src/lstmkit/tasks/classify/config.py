"""``ClassifyConfig``: everything that defines a sequence-classification run, defaults in one place."""
from __future__ import annotations

import math
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from lstmkit.errors import LstmkitError, opt, worded
from lstmkit.config import (Encoder, flag, Headline, Pooling, TaskConfig, TrainConfig, TrainParams, check_positive,
                            check_range, check_types, train_field)

__all__ = ["ClassifyConfig", "ClassifyParams", "TextClassifierParams", "SequenceClassifierParams", "Model", "SERIES_ONLY",
           "TEXT_ONLY", "NEEDS", "check_given", "headline_metric", "TEXT_DEFAULTS", "SERIES_DEFAULTS", "SERIES_BUDGET",
           "ENCODER_DEFAULTS"]

# The zoo encoders (under ClassifierNet) and lstm-fcn-ds, LSTM-FCN as published (lstmkit.nn.fcn).
Model = Literal[(*typing.get_args(Encoder), "lstm-fcn-ds")]

# Each kind's own defaults over ClassifyConfig's, for the settings a caller leaves out (TextClassifier's and
# SequenceClassifier's ``_defaults``; ``classify train --help`` shows them). Here, beside the config, so the
# command line's help reads them without importing the estimators.
# Text, chosen on MR's validation cut (benchmarks/mr.py; short texts, 10k sentences): a small network,
# whole-token dropout and longer training with patience beat the generic settings by ~2 points;
# naive-Bayes word and word-pair scores mixed in after training by ~4 more (see word_scores).
TEXT_DEFAULTS = {"embed_dim": 64, "hidden_size": 64, "dropout": 0.4, "word_dropout": 0.4, "pooling": "max-mean",
                 "max_epochs": 30, "patience": 4, "lr": 2e-3, "word_scores": True}
# million series-steps per fit: <= ~3.5 min of one CPU thread (GunPoint 1067 epochs, OSULeaf 94)
SERIES_BUDGET = 8.0
# Numeric series: LSTM-FCN as published, with its UCR protocol but for the schedule (SequenceClassifier's docstring)
SERIES_DEFAULTS = {"max_len": None, "model": "lstm-fcn-ds", "hidden_size": 8, "dropout": 0.8, "val_frac": 0.0,
                   "budget": SERIES_BUDGET, "max_epochs": 2000, "batch_size": 16, "lr": 1e-3,
                   "lr_schedule": "cosine", "lr_factor": round(2 ** (-1 / 3), 4), "lr_patience": 100, "patience": 300,
                   # pooling, embed_dim: unused by lstm-fcn-ds (its FCN averages)
                   "clip_norm": None, "pooling": "mean",
                   "augment": "scale-warp"}
# The --series defaults when a zoo encoder is chosen (--model lstm, ...) instead of LSTM-FCN: over ClassifyConfig's,
# not over SERIES_DEFAULTS (SequenceClassifier._family_config); the help names those that differ from LSTM-FCN's.
ENCODER_DEFAULTS = {"max_len": None, "embed_dim": 64, "hidden_size": 64, "dropout": 0.1, "pooling": "mean",
                    "max_epochs": 200, "batch_size": 16, "patience": 40, "lr_patience": 15}


@dataclass
class ClassifyConfig(TaskConfig):
    """Everything that defines a sequence-classification run (text or numeric sequences)."""

    LENGTH_OPTION = "max_len"          # the doctor's "shorten the sequences" remedy
    OWN_LOSS = "cross-entropy over the classes"

    def loss_label(self) -> str:
        return "cross-entropy (nats)"

    series: bool = False            # numeric sequences (linear front-end) instead of text
    text: str = "text"              # text column (CSV / TSV / JSONL); a two-column table with no 'text':
                                    # the column of longer cells (said in a warning)
    label: str = "label"            # label column; labels are kept as the user's strings; a two-column
                                    # table with no 'label': the column besides the texts
    sample: str = "sample"          # long-format numeric CSV: the sample id column (neither it nor the time column there: the two that lay out samples and steps, warned)
    time: str = "t"                 # long-format numeric CSV: the time-step column (numbers or date-times)
    features: list[str] = field(default_factory=list)   # long format: feature columns (not given: every other column)
    unequal_length: bool = False    # numeric sequences of different lengths are allowed (a .ts file's '@equalLength false' allows them)
    tokenizer: Literal["word", "char", "bpe"] = "word"  # word | char | bpe
    lowercase: bool = True          # lower-case texts before tokenizing
    min_freq: int = 2               # rarer tokens become <unk>
    max_size: int | None = 25000    # vocabulary size cap, specials included (BPE: target size)
    max_len: int | None = 400       # longer sequences are truncated; none keeps everything
    truncate: Literal["head", "tail", "both"] = "both"  # head | tail | both (first and last halves)
    vectors: str | None = None      # GloVe / word2vec text file to initialise the embedding
    freeze_vectors: bool = False    # keep the pre-trained vectors fixed while training
    init_from: str | None = None    # an 'lstmkit lm' run (word level, lstm): embedding and encoder start from
                                    # its weights, with its vocabulary and sizes (ULMFiT transfer)
    unfreeze_epochs: int = 1        # init_from: epochs per unfreezing stage (head, then one more layer from
                                    # the top per stage, embedding last); 0 trains every layer from the start
    lr_layer_decay: float = 1.5     # init_from: each lower layer's learning rate is the one above's / this
                                    # (ULMFiT: 2.6; 1.5 did better on MR's validation cut)
    embed_dim: int = 128            # embedding (text) or linear front-end (numeric) width
    model: Model = "bilstm"         # encoder from lstmkit.nn.zoo: lstm | gru | bilstm | bigru | lstm-attention
                                    # | cnn-lstm | lstm-fcn | transformer | tcn; or lstm-fcn-ds (numeric: LSTM-FCN,
                                    # an LSTM over the dimension-shuffled series beside 3 conv blocks; the --series
                                    # default)
    hidden_size: int = 128          # hidden units per layer
    num_layers: int = 1             # encoder layers
    dropout: float = 0.3            # after the embedding, between layers, before the head
    word_dropout: float = 0.0       # text: drop whole tokens (their embedding vectors) with this probability
                                    # while training
    word_scores: bool = False       # text: add each word's naive-Bayes log-count ratio between the classes
                                    # (counted on the training part), summed over the text and scaled by a
                                    # learned weight, to the logits: a bag-of-words model beside the LSTM
    score_pairs: int = 262144       # word_scores: hashed rows for neighbouring word pairs (bigrams); 0: words only
    pooling: Pooling = "max"        # last | max | mean | max-mean (both, concatenated) | concat (last, max,
                                    # mean) | attention
    class_weight: Literal["balanced", "none"] | None = None  # none | balanced (inverse class frequency)
    scaler: Literal["minmax", "standard", "none"] = "standard"  # numeric features: standard | minmax | none
                                    # (fitted on train only)
    val_frac: float = 0.1           # stratified validation split when no validation file; 0 holds nothing
                                    # out (early stopping on the training loss)
    budget: float | None = None     # numeric series: cap the epochs at this many
                                    # million series-steps (epochs x series x steps; none: max_epochs only)
    ensemble: int = 1               # lstm-fcn-ds: train this many seeded nets side by side, each on its own
                                    # loss, sharing the budget, and average their probabilities
    crop: float = 1.0               # lstm-fcn-ds: window slicing; train on a random window of this share of
                                    # each series (a new draw per batch) and answer with the mean probability
                                    # over `crops` evenly spaced windows (0.9: 90 %); 1 reads whole series
    crops: int = 5                  # crop < 1: the windows averaged at evaluation and prediction
    augment: Literal["none", "scale-warp", "scale-warp-2x"] = "none"  # numeric series: training-time
                                    # augmentation, a new draw per batch (scale-warp: each series scaled by
                                    # 1 + 0.1 N(0,1) and smoothly time-warped within its length, speed
                                    # 1 + 0.2 N(0,1); scale-warp-2x: twice both); off at evaluation
    bucket: bool = True             # length-bucketed batches
    drop_empty: bool = False        # skip empty / whitespace-only texts instead of failing
    encoding: str = "utf-8"         # text encoding of the files
    train: TrainConfig = train_field(max_epochs=10, batch_size=64, loss="auto", patience=2, lr_patience=1)

    def __post_init__(self) -> None:
        check_positive(self, "embed_dim", "hidden_size", "num_layers", "min_freq", "max_len", "max_size")
        check_types(self)
        if self.series and self.word_scores:
            raise LstmkitError("word_scores needs texts; numeric sequences have no words",
                               f"drop {opt('word_scores', True)} (or train on texts)")
        if self.class_weight == "none":
            self.class_weight = None
        check_range(self, "dropout", 0, 1, "0.3", high_open=True)
        check_range(self, "word_dropout", 0, 1, "0.1", high_open=True)
        check_range(self, "score_pairs", 0, math.inf, "262144 (or 0 for single words only)")
        check_range(self, "lr_layer_decay", 0, math.inf, "1.5", low_open=True)
        check_range(self, "unfreeze_epochs", 0, math.inf, "1 (or 0 to train every layer from the start)")
        if self.budget is not None:
            check_range(self, "budget", 0, math.inf, "8 (or none)", low_open=True)
        check_range(self, "ensemble", 1, math.inf, "4 (or 1 for a single net)")
        if self.ensemble > 1 and self.model != "lstm-fcn-ds":
            raise LstmkitError(f"ensemble applies to lstm-fcn-ds only, not {self.model}",
                               f"drop {opt('ensemble')} (or use {opt('model', 'lstm-fcn-ds')})")
        check_range(self, "crop", 0, 1, "0.9 (or 1 to read whole series)", low_open=True)
        check_range(self, "crops", 1, math.inf, "5")
        if self.crop < 1 and self.model != "lstm-fcn-ds":
            raise LstmkitError(f"crop applies to lstm-fcn-ds only, not {self.model}",
                               f"drop {opt('crop')} (or use {opt('model', 'lstm-fcn-ds')})")
        if self.augment != "none" and not self.series:
            raise LstmkitError(f"augment={self.augment} applies to numeric series only, not texts",
                               f"drop {opt('augment')} (or train on numeric series with "
                               f"{worded('--series', 'SequenceClassifier')})")
        check_range(self, "val_frac", 0, 1, f"0.1, {worded('a --val file', 'val_data')}, or 0 to hold nothing out",
                    high_open=True)


class ClassifyParams(TrainParams, total=False):
    """What both classifiers take, with :class:`~lstmkit.config.TrainParams`'s (see there; defaults:
    :class:`ClassifyConfig`'s): ``TextClassifierParams`` and ``SequenceClassifierParams`` add their own."""

    label: str
    max_len: int | None
    truncate: Literal["head", "tail", "both"]
    embed_dim: int
    model: Model
    hidden_size: int
    num_layers: int
    dropout: float
    pooling: Pooling
    class_weight: Literal["balanced", "none"] | None
    val_frac: float
    bucket: bool
    encoding: str


class TextClassifierParams(ClassifyParams, total=False):
    """``TextClassifier``'s keyword parameters with what each takes, beside :class:`~lstmkit.config.TrainParams`
    (defaults: :class:`ClassifyConfig`'s; a field added there is added here)."""

    text: str
    tokenizer: Literal["word", "char", "bpe"]
    lowercase: bool
    min_freq: int
    max_size: int | None
    vectors: str | None
    freeze_vectors: bool
    init_from: str | None
    unfreeze_epochs: int
    lr_layer_decay: float
    word_dropout: float
    word_scores: bool
    score_pairs: int
    drop_empty: bool


class SequenceClassifierParams(ClassifyParams, total=False):
    """``SequenceClassifier``'s keyword parameters with what each takes, beside :class:`~lstmkit.config.TrainParams`
    (defaults: :class:`ClassifyConfig`'s; a field added there is added here)."""

    sample: str
    time: str
    features: list[str] | str
    unequal_length: bool
    scaler: Literal["minmax", "standard", "none"]
    budget: float | None
    ensemble: int
    crop: float
    crops: int
    augment: Literal["none", "scale-warp", "scale-warp-2x"]


# Settings one kind of classifier reads and the other ignores, and settings that only act beside
# another one: given where they cannot act, they would change nothing without a word.
SERIES_ONLY = ("sample", "time", "features", "unequal_length", "scaler", "budget", "ensemble", "crop", "crops",
               "augment")
TEXT_ONLY = ("text", "tokenizer", "lowercase", "min_freq", "max_size", "word_dropout", "drop_empty", "vectors",
             "freeze_vectors", "init_from", "unfreeze_epochs", "lr_layer_decay", "word_scores", "score_pairs")
NEEDS = {"unfreeze_epochs": "init_from", "lr_layer_decay": "init_from", "freeze_vectors": "vectors",
         "score_pairs": "word_scores"}


def check_given(given: dict[str, typing.Any], series: bool, settings: dict[str, typing.Any] | None = None) -> None:
    """The flags a user gave (flat keys) against the kind they train: a setting of the other
    kind, or one whose partner is absent (or off) in ``settings`` (all of them: a YAML file
    shared by both kinds may hold either kind's keys), is an error naming both."""
    settings = given if settings is None else settings
    for name in (TEXT_ONLY if series else SERIES_ONLY):
        if name in given:
            shown = worded(flag(name), opt(name, given[name]))
            what = (worded("texts only, not numeric series (--series)", "TextClassifier only") if series
                    else worded("numeric series (--series) only", "SequenceClassifier only"))
            raise LstmkitError(f"{shown} applies to {what}",
                               f"drop {shown}" + ("" if series else worded(" (or add --series)", "")))
    for name, partner in NEEDS.items():
        if name in given and not settings.get(partner, partner == "word_scores" and not series):
            shown = worded(flag(name), opt(name, given[name]))
            raise LstmkitError(f"{shown} applies with {worded(flag(partner), opt(partner))} only",
                               f"drop {shown} (or add {worded(flag(partner), opt(partner))})")


def headline_metric(metrics: dict[str, Any], config: dict[str, Any]) -> Headline | None:
    """The accuracy of the part the run's report scores last and best: test, else validation, else training
    (a run with nothing held out), rounded as its report rounds it (``.4f``): ``lstmkit list``'s and ``/models``'.
    Its split is said beside it (``accuracy 0.8750 (test)``): one run's test accuracy and another's validation
    accuracy are not of the same examples."""
    part = next((p for p in ("test", "val", "train") if p in metrics), None)
    return None if part is None else Headline.read(metrics[part], "accuracy", "accuracy", ".4f", part,
                                                   higher_is_better=True, split_shown=True)
