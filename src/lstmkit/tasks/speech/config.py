"""``SpeechConfig``: everything that defines a speech run, defaults in one place."""
from __future__ import annotations

import math

from dataclasses import dataclass
from typing import Any, Literal, get_args

from lstmkit.config import (Attention, flag, Encoder, Headline, Pooling, TaskConfig, TrainConfig, TrainParams,
                            check_non_negative, check_positive, check_range, check_types, train_field)
from lstmkit.errors import LstmkitError, opt, worded

__all__ = ["SpeechConfig", "SpeechParams", "MODES", "MIN_RATE", "MAX_RATE", "MODE_ONLY", "NEEDS", "check_given",
           "check_hop", "headline_metric"]

Mode = Literal["ctc", "classify", "seq2seq"]
MODES = get_args(Mode)



MIN_RATE = 1000            # Hz: below this no speech band is left to hear
MAX_RATE = 768_000         # Hz: the highest rate recorders and DACs use (DXD at 705.6 kHz, 768 kHz)


def check_hop(rate: int, hop_ms: float) -> None:
    """The frame hop must hold at least one sample at ``rate``."""
    if int(round(rate * hop_ms / 1000)) < 1:
        raise LstmkitError(f"a hop of {hop_ms} ms is under one sample at {rate} Hz",
                           f"pass {opt('hop_ms', f'{1000 / rate:.3g}', written=True)} or more (10 is usual)")


@dataclass
class SpeechConfig(TaskConfig):
    """Everything that defines a speech run: recognition (CTC, seq2seq) or spoken-word classification."""
    OWN_LOSS = "its mode's own loss (CTC, or cross-entropy)"

    def loss_label(self) -> str:
        smoothed = ", label-smoothed" if self.label_smoothing else ""
        return {"ctc": "CTC loss per character (nats)", "classify": "cross-entropy (nats)"}.get(
            self.mode, f"cross-entropy per token (nats{smoothed})")

    mode: Mode = "ctc"              # ctc (characters) | classify (one label per clip) | seq2seq (attention)
    label_from_name: str | None = None   # folder data: '{label}_{speaker}_{take}' names the text in file names
    sample_rate: int | None = None  # model rate; none: the training files' most common rate
    features: Literal["logmel", "mfcc"] = "logmel"  # logmel | mfcc
    n_mels: int = 40                # mel bands
    n_mfcc: int = 13                # cepstral coefficients kept with --features mfcc
    win_ms: float = 25.0            # analysis window in milliseconds
    hop_ms: float = 10.0            # hop between frames in milliseconds
    normalize: Literal["voiced", "utterance", "global", "none"] = "voiced"  # voiced (CMVN per clip over its
                                    # frames within 30 dB of its loudest: silence around it left out) |
                                    # utterance (CMVN over all its frames: runs recorded before voiced) |
                                    # global (training statistics) | none
    spec_augment: bool = False      # time and frequency masks during training
    freq_masks: int = 2             # SpecAugment: frequency masks per utterance
    freq_width: int = 6             # features per frequency mask, at most
    time_masks: int = 2             # SpecAugment: time masks per utterance
    time_width: float = 0.05        # share of the frames per time mask, at most
    speed_perturb: float = 0.0      # training: stretch each utterance's frames by up to this share (0.1: 0.9x-1.1x)
    subsample: int = 2              # stride-2 conv layers before the encoder (every mode)
    channels: int = 128             # conv channels
    model: Encoder = "bilstm"       # encoder from lstmkit.nn.zoo
    hidden_size: int = 128          # hidden units per layer
    num_layers: int = 2             # encoder layers
    dropout: float = 0.2            # between layers and before the output layer
    pooling: Pooling = "mean"       # classify: last | max | mean | max-mean | concat | attention
    embed_dim: int = 128            # classify front-end / seq2seq decoder embedding width
    attention: Attention = "bahdanau"  # seq2seq: bahdanau | dot | general | none
    label_smoothing: float = 0.1    # seq2seq: share of the target probability spread over the alphabet
    max_len_ratio: float | None = None   # seq2seq: output chars per input frame, at most; none: from data
    beam: int = 4                   # decoding beam (1: greedy)
    lm: str | None = None           # language-model run folder for shallow fusion (ctc)
    lm_weight: float = 0.5          # alpha: weight of log P_lm
    length_bonus: float = 1.0       # beta: bonus per LM token
    class_weight: Literal["balanced", "none"] | None = None  # classify: none | balanced (inverse label frequency)
    val_frac: float = 0.1           # validation share when no validation data is given
    train: TrainConfig = train_field(max_epochs=40, batch_size=32, loss="auto", patience=6, lr_patience=2, lr=2e-3)

    def __post_init__(self) -> None:
        check_positive(self, "n_mels", "n_mfcc", "channels", "hidden_size", "num_layers", "embed_dim", "beam",
                       "sample_rate")
        check_non_negative(self, "freq_masks", "freq_width", "time_masks")
        if isinstance(self.subsample, bool) or not isinstance(self.subsample, int) or not 0 <= self.subsample <= 4:
            raise LstmkitError(f"`subsample` must be 0 to 4 conv layers, got {self.subsample!r}",
                               f"pass {opt('subsample', 2)}, say")
        check_types(self)
        if self.class_weight == "none":
            self.class_weight = None
        check_range(self, "dropout", 0, 1, "0.2", high_open=True)
        check_range(self, "speed_perturb", 0, 0.5, "0.1 (0.9x-1.1x), or 0 to turn it off", high_open=True)
        check_range(self, "val_frac", 0, 1, "0.1", low_open=True, high_open=True)
        check_range(self, "time_width", 0, 1, "0.05")
        check_range(self, "label_smoothing", 0, 1, "0.1", high_open=True)
        check_range(self, "lm_weight", 0, math.inf, "0.5")
        check_range(self, "length_bonus", -math.inf, math.inf, "1.0")
        check_range(self, "win_ms", 0, math.inf, "25", low_open=True)    # first: --win-ms 0 was 'the hop must be at most the window'
        if not 0 < self.hop_ms <= self.win_ms:
            raise LstmkitError(f"hop ({self.hop_ms} ms) must be positive and at most the window ({self.win_ms} ms)",
                               f"use {opt('win_ms', 25)}{worded(' ', ', ')}{opt('hop_ms', 10)}, say")
        if self.sample_rate is not None:
            if self.sample_rate < MIN_RATE:
                raise LstmkitError(f"`sample_rate` must be at least {MIN_RATE} Hz, got {self.sample_rate}",
                                   f"pass {opt('sample_rate', 16000)} (or 8000 for telephone audio), or leave it out")
            if self.sample_rate > MAX_RATE:         # 8 kHz audio upsampled 250,000x: memory, not a model
                raise LstmkitError(f"`sample_rate` must be at most {MAX_RATE:,} Hz, got {self.sample_rate:,}",
                                   f"pass {opt('sample_rate', 16000)} (or 8000 for telephone audio), or leave it out")
            check_hop(self.sample_rate, self.hop_ms)
        if self.max_len_ratio is not None:
            check_range(self, "max_len_ratio", 0, math.inf, "0.5 (or none: measured on the training data)",
                        low_open=True)


class SpeechParams(TrainParams, total=False):
    """``SpeechRecognizer``'s keyword parameters with what each takes, beside :class:`~lstmkit.config.TrainParams`
    (defaults: :class:`SpeechConfig`'s; a field added there is added here)."""

    mode: Mode
    label_from_name: str | None
    sample_rate: int | None
    features: Literal["logmel", "mfcc"]
    n_mels: int
    n_mfcc: int
    win_ms: float
    hop_ms: float
    normalize: Literal["voiced", "utterance", "global", "none"]
    spec_augment: bool
    freq_masks: int
    freq_width: int
    time_masks: int
    time_width: float
    speed_perturb: float
    subsample: int
    channels: int
    model: Encoder
    hidden_size: int
    num_layers: int
    dropout: float
    pooling: Pooling
    embed_dim: int
    attention: Attention
    label_smoothing: float
    max_len_ratio: float | None
    beam: int
    lm: str | None
    lm_weight: float
    length_bonus: float
    class_weight: Literal["balanced", "none"] | None
    val_frac: float


# Settings that act in some modes only, and settings that act beside another one only: given where
# they cannot act, they would change nothing without a word.
MODE_ONLY = {"pooling": ("classify",), "embed_dim": ("classify", "seq2seq"), "attention": ("seq2seq",),
             "label_smoothing": ("seq2seq",), "max_len_ratio": ("seq2seq",), "beam": ("ctc", "seq2seq"), "class_weight": ("classify",)}
NEEDS = {"lm_weight": ("lm", None), "length_bonus": ("lm", None), "n_mfcc": ("features", "mfcc"),
         **{name: ("spec_augment", True) for name in ("freq_masks", "freq_width", "time_masks", "time_width")}}


def check_given(given: dict, settings: dict) -> None:
    """The settings a user gave (the command line's flags, or in Python those at other than the
    SpeechRecognizer's defaults) against the mode and partners in ``settings`` (all of them, flat):
    a setting of another mode, or one whose partner is absent (or off), is an error naming both."""
    mode = settings.get("mode", "ctc")
    for name, modes in MODE_ONLY.items():
        if name in given and mode not in modes:
            shown = worded(flag(name), opt(name, given[name]))
            which = worded(f"--mode {' or '.join(modes)}, not {mode}",
                           f"mode={' or '.join(map(repr, modes))}, not mode={mode!r}")
            raise LstmkitError(f"{shown} applies to {which}", f"drop {shown} (or use {opt('mode', modes[0])})")
    for name, (partner, value) in NEEDS.items():
        if name in given and (settings.get(partner) is None if value is None else settings.get(partner) != value):
            shown = worded(flag(name), opt(name, given[name]))
            needed = worded(flag(partner), opt(partner)) if value is None else opt(partner, value)
            raise LstmkitError(f"{shown} applies with {needed} only", f"drop {shown} (or add {needed})")


def headline_metric(metrics: dict[str, Any], config: dict[str, Any]) -> Headline | None:
    """The validation WER of a recogniser (ctc, seq2seq), the accuracy of a classifier (``classify``), of the
    decoding the model transcribes with (``val_beam`` where ``beam`` is above 1, else ``val``), rounded as
    the run's report rounds them (``.4f``)."""
    part = "val_beam" if "val_beam" in metrics else "val"
    if config.get("mode") == "classify":
        return Headline.read(metrics.get(part), "accuracy", "accuracy", ".4f", part, higher_is_better=True)
    return Headline.read(metrics.get(part), "wer", "WER", ".4f", part, higher_is_better=False)
