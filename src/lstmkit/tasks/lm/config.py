"""``LMConfig``: everything that defines a language-model run, defaults in one place.

It lives beside the task (rather than in :mod:`lstmkit.config`) so the task folder is one room;
it follows the same shape: a dataclass with a nested :class:`~lstmkit.config.TrainConfig`,
``to_dict`` / ``from_dict``, unknown keys rejected with the list of known ones.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from lstmkit.config import TrainConfig, _known

__all__ = ["LMConfig", "LEVELS"]

LEVELS = ("char", "word", "bpe")


def _lm_train_defaults() -> TrainConfig:
    return TrainConfig(max_epochs=20, batch_size=32, lr=2e-3, loss="auto", patience=3, lr_patience=1)


@dataclass
class LMConfig:
    """A next-token LSTM language model over lines of text (one sentence or utterance per line)."""

    level: str = "char"             # char | word | bpe (tokenizers from lstmkit.data.vocab)
    lowercase: bool = True          # as the tokenizers clean text: NFKC, <br /> dropped, lower-cased
    min_freq: int | None = None     # rarer tokens become <unk>; None -> 1 for char, 2 for word / bpe
    max_size: int | None = None     # vocabulary cap (BPE: target size); None -> none for char,
                                    # 30000 for word, 8000 for bpe
    max_len: int = 256              # tokens per training sequence: longer lines are cut into pieces
                                    # (truncated back-propagation through time, state not carried)
    val_frac: float = 0.1           # held-out share of the lines when no validation file is given
    embed_dim: int = 128
    model: str = "lstm"             # causal encoder from lstmkit.nn.zoo (lstm, gru, lstm-attention,
                                    # cnn-lstm, transformer, tcn)
    hidden_size: int = 256
    num_layers: int = 2
    dropout: float = 0.2            # after the embedding, between layers, before the output layer
    tie_weights: bool = False       # output layer shares the embedding matrix (a projection is
                                    # added when hidden_size != embed_dim)
    encoding: str = "utf-8"
    train: TrainConfig = field(default_factory=_lm_train_defaults)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "LMConfig":
        d = dict(d)
        train = dataclasses.replace(_lm_train_defaults(), **_known(TrainConfig, d.pop("train", {}) or {}, "train"))
        return cls(train=train, **_known(cls, d, ""))

    def resolved_min_freq(self) -> int:
        return self.min_freq if self.min_freq is not None else (1 if self.level == "char" else 2)

    def resolved_max_size(self) -> int | None:
        if self.max_size is not None:
            return self.max_size
        return {"char": None, "word": 30000, "bpe": 8000}.get(self.level)
