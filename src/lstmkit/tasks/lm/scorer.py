"""A streaming scorer: the language model one token at a time, for shallow fusion in a decoder
(a :class:`~lstmkit.nn.scoring.TokenScorer`).

    sc = lm.scorer()
    s = sc.initial()                       # the model after <bos>
    lp = sc.log_probs(s)                   # [len(sc.vocab)] log P(token | prefix), </s> included
    s = sc.advance(s, "h")                 # one LSTM step; unknown tokens are <unk>

``vocab`` lists the tokens the model can predict (``<unk>``, every known token, ``</s>``), in
the order of ``log_probs``. States are opaque, immutable and cached: ``log_probs`` of a state
is computed once, and advancing a state twice by the same token returns the same child, so a
beam search that revisits prefixes pays nothing twice. Advancing by ``</s>`` ends the line and
returns the initial state (the next line begins).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lstmkit.errors import LstmkitError
from lstmkit.tasks.lm.data import EOS, PAD_ID, LMTokenizer
from lstmkit.tasks.lm.model import LanguageModelNet

__all__ = ["LMScorer", "ScorerState"]


class ScorerState:
    """The model after a prefix: its recurrent state (or the prefix ids, for encoders without one)."""

    __slots__ = ("state", "prefix", "output", "_log_probs", "_children")

    def __init__(self, state, prefix: tuple[int, ...], output: torch.Tensor | None):
        self.state, self.prefix, self.output = state, prefix, output   # output: top encoder output [1, D]
        self._log_probs: np.ndarray | None = None
        self._children: dict[int, ScorerState] = {}

    def __len__(self) -> int:
        """Tokens after ``<bos>``."""
        return len(self.prefix) - 1

    def __repr__(self) -> str:
        return f"ScorerState(tokens={len(self)})"


class LMScorer:
    """Incremental log-probabilities of a fitted language model (see the module docstring)."""

    end = EOS

    def __init__(self, net: LanguageModelNet, tokenizer: LMTokenizer):
        self.net = net.eval()
        self.tokenizer = tokenizer
        self.level = tokenizer.level
        # model id of each entry of ``vocab``: every id but <pad> and <bos>, which are never predicted
        self.ids = [i for i in range(tokenizer.vocab_size) if i not in (PAD_ID, tokenizer.bos_id)]
        self.vocab: list[str] = [tokenizer.itos[i] for i in self.ids]
        self._index = {t: k for k, t in enumerate(self.vocab)}
        self._ids_t = torch.tensor(self.ids)
        self._device = next(net.parameters()).device
        self._initial = self._child(None, (), tokenizer.bos_id)

    # -- the interface ------------------------------------------------------------------
    def initial(self) -> ScorerState:
        """The state after ``<bos>`` (the same object every call, so its cache is shared)."""
        return self._initial

    def log_probs(self, state: ScorerState) -> np.ndarray:
        """``log P(token | prefix)`` for every token of :attr:`vocab` (float32, sums to 1 in probability)."""
        _check_state(state)
        if state._log_probs is None:
            with torch.inference_mode():
                logits = self.net.head(state.output)[0]                      # [V]
                lp = torch.log_softmax(logits.float(), dim=-1)[self._ids_t.to(logits.device)]
            state._log_probs = lp.cpu().numpy()
            state._log_probs.setflags(write=False)
        return state._log_probs

    def advance(self, state: ScorerState, token: str) -> ScorerState:
        """The state after ``token`` (a string of :attr:`vocab`; unknown strings are ``<unk>``)."""
        if token == EOS:
            return self._initial
        return self.advance_id(state, self.tokenizer.token_id(token))

    # -- conveniences ---------------------------------------------------------------------
    def index(self, token: str) -> int:
        """Position of ``token`` in :attr:`vocab` (``<unk>``'s position for unknown strings)."""
        k = self._index.get(token)
        return k if k is not None else self._index[self.tokenizer.itos[self.tokenizer.token_id(token)]]

    def score(self, state: ScorerState, token: str) -> float:
        """``log P(token | prefix)`` of one token."""
        return float(self.log_probs(state)[self.index(token)])

    def advance_id(self, state: ScorerState, token_id: int) -> ScorerState:
        _check_state(state)
        child = state._children.get(token_id)
        if child is None:
            child = state._children[token_id] = self._child(state, state.prefix, token_id)
        return child

    def _child(self, parent: ScorerState | None, prefix: tuple[int, ...], token_id: int) -> ScorerState:
        prefix = (*prefix, token_id)
        with torch.inference_mode():
            if self.net.recurrent:
                tok = torch.tensor([token_id], device=self._device)
                out, state = self.net.step(tok, None if parent is None else parent.state)
                return ScorerState(state, prefix, out)                      # out [1, D]
            x = torch.tensor([prefix], device=self._device)
            h, _ = self.net.encoder(self.net.embedding(x))                  # the whole prefix again
            return ScorerState(None, prefix, h[:, -1])


def _check_state(state: Any) -> None:
    if not isinstance(state, ScorerState):
        raise LstmkitError(f"the scorer got {type(state).__name__} where it needs a ScorerState",
                           "start from scorer.initial() and pass the states advance() returns")
