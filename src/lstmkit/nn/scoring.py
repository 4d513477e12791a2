"""The streaming-scorer interface: a language model one token at a time, for shallow fusion.

A decoder (speech's CTC prefix beam search) asks a scorer for ``log P(token | prefix)`` as it
extends prefixes; the language-model task supplies one (``LanguageModel.scorer()``). The interface
lives here, below the tasks, so that the decoder and the model meet without one task importing
the other::

    s = scorer.initial()                  # the model after <bos>
    lp = scorer.log_probs(s)              # [len(scorer.vocab)] log-probabilities, </s> included
    s = scorer.advance(s, "h")            # the state after one more token
"""
from __future__ import annotations

from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

__all__ = ["TokenScorer"]


@runtime_checkable
class TokenScorer(Protocol):
    """Incremental next-token log-probabilities of a language model.

    States are opaque to the caller; ``advance`` by :attr:`end` ends a line and returns the
    initial state."""

    vocab: Sequence[str]      # the tokens ``log_probs`` scores, in its order (``end`` included)
    level: str                # "char" or "word": what one token is
    end: str                  # the end-of-line token, e.g. "</s>"

    def initial(self) -> Any: ...
    def log_probs(self, state: Any) -> np.ndarray: ...
    def advance(self, state: Any, token: str) -> Any: ...
