"""``SpeechConfig``: everything that defines a speech run, defaults in one place."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from lstmkit.config import TrainConfig, _known

__all__ = ["SpeechConfig", "MODES"]

MODES = ("ctc", "classify", "seq2seq")


def _speech_train_defaults() -> TrainConfig:
    return TrainConfig(max_epochs=40, batch_size=32, loss="auto", patience=6, lr_patience=2, lr=2e-3)


@dataclass
class SpeechConfig:
    mode: str = "ctc"               # ctc (characters) | classify (one label per clip) | seq2seq (attention)
    label_from_name: str | None = None   # folder data: '{label}_{speaker}_{take}' names the text in file names
    sample_rate: int | None = None  # model rate; None -> the training files' most common rate
    features: str = "logmel"        # logmel | mfcc
    n_mels: int = 40
    n_mfcc: int = 13
    win_ms: float = 25.0
    hop_ms: float = 10.0
    normalize: str = "utterance"    # utterance (CMVN per clip) | global (training statistics) | none
    spec_augment: bool = False      # time and frequency masks during training
    freq_masks: int = 2
    freq_width: int = 6             # features per frequency mask, at most
    time_masks: int = 2
    time_width: float = 0.05        # share of the frames per time mask, at most
    speed_perturb: float = 0.0      # training: stretch each utterance's frames by up to this share (0.1: 0.9x-1.1x)
    subsample: int = 2              # stride-2 conv layers before the encoder (every mode)
    channels: int = 128             # conv channels
    model: str = "bilstm"           # encoder from lstmkit.nn.zoo
    hidden_size: int = 128
    num_layers: int = 2
    dropout: float = 0.2
    pooling: str = "mean"           # classify: last | max | mean | attention
    embed_dim: int = 128            # classify front-end / seq2seq decoder embedding width
    attention: str = "bahdanau"     # seq2seq: bahdanau | dot | general | none
    label_smoothing: float = 0.1    # seq2seq
    max_len_ratio: float | None = None   # seq2seq: output chars per input frame, at most; None -> from data
    beam: int = 4                   # decoding beam (1: greedy)
    lm: str | None = None           # language-model run folder for shallow fusion (ctc)
    lm_weight: float = 0.5          # alpha: weight of log P_lm
    length_bonus: float = 1.0       # beta: bonus per LM token
    val_frac: float = 0.1           # validation share when no validation data is given
    train: TrainConfig = field(default_factory=_speech_train_defaults)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SpeechConfig":
        d = dict(d)
        train = dataclasses.replace(_speech_train_defaults(), **_known(TrainConfig, d.pop("train", {}) or {}, "train"))
        return cls(train=train, **_known(cls, d, ""))
