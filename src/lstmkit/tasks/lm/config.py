"""``LMConfig``: everything that defines a language-model run, defaults in one place.

It follows the shape of every task config (:class:`~lstmkit.config.TaskConfig`): a dataclass with
a nested :class:`~lstmkit.config.TrainConfig`, ``to_dict`` / ``from_dict``, unknown keys rejected
with the list of known ones, the per-field checks in ``__post_init__``, and each field's trailing
comment as its ``--flag``'s help.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from lstmkit.config import (Encoder, EncoderParams, Headline, TaskConfig, TrainConfig, TrainParams, check_positive,
                            check_range, check_types, train_field)
from lstmkit.errors import LstmkitError, opt

__all__ = ["LMConfig", "LMParams", "LEVELS", "headline_metric"]

Level = Literal["char", "word", "bpe"]
LEVELS = get_args(Level)



@dataclass
class LMConfig(TaskConfig):
    """A next-token LSTM language model over lines of text (one sentence or utterance per line)."""

    LENGTH_OPTION = "max_len"          # the doctor's "shorten the sequences" remedy
    OWN_LOSS = "cross-entropy of the next token"

    def loss_label(self) -> str:
        return "cross-entropy per token (nats)"

    level: Level = "char"           # char | word | bpe (tokenizers from lstmkit.data.vocab)
    lowercase: bool = True          # as the tokenizers clean text: NFKC, <br /> dropped, lower-cased
    min_freq: int | None = None     # rarer tokens become <unk>; none: 1 for char, 2 for word / bpe
    max_size: int | None = None     # vocabulary cap (BPE: target size); none: no cap for char,
                                    # 30000 for word, 8000 for bpe
    max_len: int = 256              # tokens per training sequence: longer lines are cut into pieces
                                    # (truncated back-propagation through time, state not carried)
    val_frac: float = 0.1           # held-out share of the lines when no validation file is given (one line: its end)
    embed_dim: int = 128            # embedding width
    model: Encoder = "lstm"         # causal encoder from lstmkit.nn.zoo (lstm, gru, lstm-attention,
                                    # cnn-lstm, transformer, tcn)
    hidden_size: int = 256          # hidden units per layer
    num_layers: int = 2             # encoder layers
    dropout: float = 0.2            # after the embedding, between layers, before the output layer
    tie_weights: bool = False       # output layer shares the embedding matrix (a projection is
                                    # added when hidden_size != embed_dim)
    encoding: str = "utf-8"         # text encoding of the files
    text_column: str | None = None  # a .csv / .tsv / .jsonl (.gz too) corpus: the column of texts
                                    # (none: text); each row is one sequence, other columns ignored
    init_from: str | None = None    # fine-tune an 'lstmkit lm' run (word or char level) on this text:
                                    # its weights, its vocabulary plus the text's words it lacks, and its
                                    # architecture (level, sizes, encoder, tied weights)
    max_tokens: int | None = None   # train on a seeded random share of the lines holding about this
                                    # many words (none: every line), e.g. 3000000 of a large corpus
    train: TrainConfig = train_field(max_epochs=20, batch_size=32, lr=2e-3, loss="auto", patience=3, lr_patience=1)

    def __post_init__(self) -> None:
        check_positive(self, "embed_dim", "hidden_size", "num_layers", "max_len", "min_freq", "max_tokens")
        check_types(self)
        if self.max_size is not None and self.max_size < 3:
            raise LstmkitError(f"`max_size` must be an integer of at least 3, got {self.max_size!r}",
                               f"pass {opt('max_size', 20000)}, say")
        check_range(self, "dropout", 0, 1, "0.2", high_open=True)
        check_range(self, "val_frac", 0, 1, "0.1", low_open=True, high_open=True)

    def resolved_min_freq(self) -> int:
        return self.min_freq if self.min_freq is not None else (1 if self.level == "char" else 2)

    def resolved_max_size(self) -> int | None:
        if self.max_size is not None:
            return self.max_size
        return {"char": None, "word": 30000, "bpe": 8000}.get(self.level)


class LMParams(TrainParams, EncoderParams, total=False):
    """``LanguageModel``'s keyword parameters with what each takes, beside :class:`~lstmkit.config.TrainParams`
    and :class:`~lstmkit.config.EncoderParams` (defaults: :class:`LMConfig`'s; a field added there is added here)."""

    level: Level
    lowercase: bool
    min_freq: int | None
    max_size: int | None
    max_len: int
    val_frac: float
    tie_weights: bool
    encoding: str
    text_column: str | None
    init_from: str | None
    max_tokens: int | None


def headline_metric(metrics: dict[str, Any], config: dict[str, Any]) -> Headline | None:
    """The validation perplexity per token, rounded as the run's report rounds it (``.3f``): ``lstmkit list``'s
    metric column and ``/models``'."""
    return Headline.read(metrics.get("val"), "perplexity", "perplexity", ".3f", "val", higher_is_better=False)
