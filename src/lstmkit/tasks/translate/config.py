"""``TranslateConfig``: everything that defines a translation run, defaults in one place."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from lstmkit.config import (Attention, Encoder, EncoderParams, Headline, TaskConfig, TrainConfig, TrainParams,
                            check_positive, check_range, check_types, train_field)
from lstmkit.errors import LstmkitError, opt, worded

__all__ = ["TranslateConfig", "TranslateParams", "check_given", "headline_metric"]

_SMALLEST_VOCAB = 5           # a side's vocabulary: <pad> <unk> <bos> <eos> and one token


@dataclass
class TranslateConfig(TaskConfig):
    """Everything that defines a translation run (LSTM encoder-decoder with attention)."""

    LENGTH_OPTION = "max_len"          # the doctor's "shorten the sequences" remedy
    OWN_LOSS = "cross-entropy of each target token"

    def loss_label(self) -> str:
        return "cross-entropy per token (nats" + (", label-smoothed)" if self.label_smoothing else ")")

    src: str = "src"                # source column of a CSV/TSV (e.g. en)
    tgt: str = "tgt"                # target column of a CSV/TSV (e.g. de)
    tokenizer: Literal["word", "bpe"] = "word"  # word (punctuation kept; Chinese, Thai…: characters) | bpe, per side
    shared_vocab: bool = False      # one vocabulary for both sides
    lowercase: bool = False         # lower-case both sides (BLEU is cased: keep case by default)
    min_freq: int = 2               # rarer words become <unk> (BPE: minimum pair frequency)
    max_size: int | None = 16000    # vocabulary size cap per side, specials included (BPE: target size)
    max_len: int | None = 50        # training pairs with a longer side are dropped; longer input is truncated
    dedup: bool = True              # drop repeated (source, target) pairs; the count is reported
    drop_empty: bool = False        # skip pairs with an empty side instead of failing
    val_frac: float = 0.05          # validation share when no validation pair is given
    embed_dim: int = 256            # embedding width, both sides
    model: Encoder = "bilstm"       # encoder from lstmkit.nn.zoo
    hidden_size: int = 256          # hidden units per layer
    num_layers: int = 2             # encoder and decoder layers
    dropout: float = 0.3            # after the embeddings, between layers, before the output layer
    attention: Attention = "bahdanau"  # bahdanau | dot | general | none (plain (h, c) hand-off)
    input_feed: bool = True         # feed the last attentional vector into the next decoder step
    tie_embeddings: bool = False    # target embedding shared with the output layer
    teacher_forcing: float = 1.0    # share of steps fed the reference token (the rest: own prediction)
    label_smoothing: float = 0.1    # share of the target probability spread over the vocabulary
    beam: int = 5                   # default beam width for run / evaluate (1 = greedy)
    length_penalty: float = 1.0     # GNMT alpha; 0 ranks by the sum of log-probabilities
    max_len_ratio: float = 2.0      # decode at most ceil(ratio * source length) + 2 tokens, and never more than
                                    # ceil(ratio * longest training target) + 2 (a warning when one is cut there)
    encoding: str = "utf-8"         # text encoding of the files
    train: TrainConfig = train_field(max_epochs=20, batch_size=64, loss="auto", patience=3, lr_patience=1)

    def __post_init__(self) -> None:
        check_positive(self, "embed_dim", "hidden_size", "num_layers", "min_freq", "beam", "max_len", "max_size")
        check_types(self)
        # the four specials (<pad> <unk> <bos> <eos>) and one word: --max-size 4 or less kept no word, and
        # said 'no token occurs at least 2 times — lower --min-freq' of text whose every word repeats
        if self.max_size is not None and self.max_size < _SMALLEST_VOCAB:
            raise LstmkitError(f"`max_size` must be an integer of at least {_SMALLEST_VOCAB} (4 special tokens and a "
                               f"word), got {self.max_size!r}", f"pass {opt('max_size', 16000)}, say")
        check_range(self, "dropout", 0, 1, "0.3", high_open=True)
        check_range(self, "teacher_forcing", 0, 1, "1.0 (always the reference) or less")
        check_range(self, "label_smoothing", 0, 1, "0.1", high_open=True)
        check_range(self, "val_frac", 0, 1, "0.05", low_open=True, high_open=True)
        check_range(self, "length_penalty", 0, math.inf, "1.0")
        check_range(self, "max_len_ratio", 0, math.inf, "2.0", low_open=True)


class TranslateParams(TrainParams, EncoderParams, total=False):
    """``Translator``'s keyword parameters with what each takes, beside :class:`~lstmkit.config.TrainParams`
    and :class:`~lstmkit.config.EncoderParams` (defaults: :class:`TranslateConfig`'s; a field added there is
    added here)."""

    src: str
    tgt: str
    tokenizer: Literal["word", "bpe"]
    shared_vocab: bool
    lowercase: bool
    min_freq: int
    max_size: int | None
    max_len: int | None
    dedup: bool
    drop_empty: bool
    val_frac: float
    attention: Attention
    input_feed: bool
    tie_embeddings: bool
    teacher_forcing: float
    label_smoothing: float
    beam: int
    length_penalty: float
    max_len_ratio: float
    encoding: str


# what each attention feeds the next decoder step, whatever --input-feed says: only Luong's (dot, general) feed
# is the choice input feeding makes (nn/seq2seq.Seq2Seq)
FEED_FIXED = {"bahdanau": "Bahdanau attention always feeds its context into the next decoder step",
              "none": "without attention there is no attentional vector to feed"}


def check_given(given: dict, settings: dict) -> None:
    """The settings a user gave (flat: the command line's flags, or in Python those at other than the
    Translator's defaults) against ``settings`` (all of them): ``--input-feed`` or ``--no-input-feed``
    (``input_feed=False``) beside an attention whose feed is fixed changed nothing, without a word."""
    attention = settings.get("attention", TranslateConfig.attention)
    if "input_feed" in given and attention in FEED_FIXED:
        shown = worded("--input-feed" if given["input_feed"] else "--no-input-feed", opt("input_feed", given["input_feed"]))
        which = worded("--attention dot or general", "attention='dot' or 'general'")
        raise LstmkitError(f"{shown} applies to {which}, not {worded(attention, opt('attention', attention))}: "
                           f"{FEED_FIXED[attention]}",
                           f"drop {shown} (or use {opt('attention', 'general')})")


def headline_metric(metrics: dict[str, Any], config: dict[str, Any]) -> Headline | None:
    """The validation BLEU of the decoding the model translates with: the beam search's (``val_beam``) where
    ``beam`` is above 1, else greedy's (``val``), rounded as the run's report rounds it (``.2f``)."""
    part = "val_beam" if "val_beam" in metrics else "val"
    return Headline.read(metrics.get(part), "bleu", "BLEU", ".2f", part, higher_is_better=True)
