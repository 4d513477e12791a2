"""Streaming scorers: the language model one token at a time, for shallow fusion in a decoder
(each a :class:`~lstmkit.nn.scoring.TokenScorer`), and sampling over one.

    sc = lm.scorer()
    s = sc.initial()                       # the model after <bos>
    lp = sc.log_probs(s)                   # [len(sc.vocab)] log P(token | prefix), </s> included
    s = sc.advance(s, "h")                 # one LSTM step; unknown tokens are <unk>

``vocab`` lists the tokens the model can predict (``<unk>``, every known token, ``</s>``), in
the order of ``log_probs``. States are opaque, immutable and cached: ``log_probs`` of a state
is computed once, and advancing a state twice by the same token returns the same child, so a
beam search that revisits prefixes pays nothing twice. Advancing by ``</s>`` ends the line and
returns the initial state (the next line begins).

Two engines answer the same: :class:`LMScorer` steps the torch network, :class:`GraphScorer`
steps an exported step graph ``(x [1, T] int64, *state) -> (logits [1, T, V], *state)`` (an
:class:`~lstmkit.deploy.onnx_engine.OnnxRunner` over ``model.onnx``; see :mod:`lstmkit.tasks.lm.deploy`).
"""
from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from typing import Any, Callable, Sequence

import numpy as np
import torch

from lstmkit.data.vocab import join_words
from lstmkit.errors import LstmkitError
from lstmkit.tasks.lm.data import EOS, PAD_ID, UNK_ID, LMTokenizer
from lstmkit.tasks.lm.model import LanguageModelNet
from lstmkit.train.progress import track

__all__ = ["LMScorer", "GraphScorer", "ScorerState", "sample_text", "last_line", "MAX_SAMPLE", "MAX_SAMPLE_SEED"]

MAX_SAMPLE = 10_000           # tokens a sample "until the end" may run before it is cut
# a sample's seed seeds numpy's Generator alone, which takes any size: the service's JSON
# integers (signed 64-bit), so one seed draws the same text there, from Python and the CLI
MAX_SAMPLE_SEED = 2**63 - 1


class ScorerState:
    """The model after a prefix: its recurrent state (or the prefix ids, for encoders without one)."""

    __slots__ = ("state", "prefix", "length", "output", "_log_probs", "_children")

    def __init__(self, state, prefix: tuple[int, ...] | None, output, length: int):
        # output: what the next-token distribution is computed from (the top encoder output
        # [1, D] for LMScorer, the logits [V] for GraphScorer). prefix: the ids read, kept only
        # for an encoder without recurrent state, which reads them all again (a tuple in every
        # state of a recurrent one made a long prefix quadratic in memory: 24 GB for 99,000 chars)
        self.state, self.prefix, self.output, self.length = state, prefix, output, length
        self._log_probs: np.ndarray | None = None
        self._children: dict[int, ScorerState] = {}

    def __len__(self) -> int:
        """Tokens after ``<bos>``."""
        return self.length - 1

    def __repr__(self) -> str:
        return f"ScorerState(tokens={len(self)})"


class _CachingScorer(ABC):
    """The :class:`~lstmkit.nn.scoring.TokenScorer` interface and its caches; a subclass says how
    one token advances a state (``_child``) and how a state's logits are read (``_logits``)."""

    end = EOS

    def __init__(self, tokenizer: LMTokenizer):
        self.tokenizer = tokenizer
        self.level = tokenizer.level
        # model id of each entry of ``vocab``: every id but <pad> and <bos>, which are never predicted
        self.ids = [i for i in range(tokenizer.vocab_size) if i not in (PAD_ID, tokenizer.bos_id)]
        self.vocab: list[str] = [tokenizer.itos[i] for i in self.ids]
        self._index = {t: k for k, t in enumerate(self.vocab)}
        self._ids_t = torch.tensor(self.ids)

    def __repr__(self) -> str:
        """The tokenizer's level and the size of ``vocab``: ``LMScorer(level='char', vocab=42)``."""
        return f"{type(self).__name__}(level={self.level!r}, vocab={len(self.vocab)})"

    # -- the interface ------------------------------------------------------------------
    def initial(self) -> ScorerState:
        """The state after ``<bos>`` (the same object every call, so its cache is shared)."""
        return self._initial

    def log_probs(self, state: ScorerState) -> np.ndarray:
        """``log P(token | prefix)`` for every token of :attr:`vocab` (float32, sums to 1 in probability)."""
        _check_state(state)
        if state._log_probs is None:
            with torch.inference_mode():
                logits = self._logits(state)                                  # [V]
                lp = torch.log_softmax(logits.float(), dim=-1)[self._ids_t.to(logits.device)]
            state._log_probs = lp.cpu().numpy()
            state._log_probs.setflags(write=False)
        return state._log_probs

    def advance(self, state: ScorerState, token: str) -> ScorerState:
        """The state after ``token`` (a string of :attr:`vocab`; unknown strings are ``<unk>``)."""
        _check_token(token)
        if token == EOS:
            return self._initial
        return self.advance_id(state, self.tokenizer.token_id(token))

    # -- conveniences ---------------------------------------------------------------------
    def index(self, token: str) -> int:
        """Position of ``token`` in :attr:`vocab` (``<unk>``'s position for unknown strings)."""
        k = self._index.get(token) if isinstance(token, str) else _check_token(token)
        return k if k is not None else self._index[self.tokenizer.itos[self.tokenizer.token_id(token)]]

    def score(self, state: ScorerState, token: str) -> float:
        """``log P(token | prefix)`` of one token."""
        return float(self.log_probs(state)[self.index(token)])

    def advance_id(self, state: ScorerState, token_id: int) -> ScorerState:
        _check_state(state)
        child = state._children.get(token_id)
        if child is None:
            self._check_id(token_id)            # checked once: a cached child's id was
            child = state._children[token_id] = self._child(state, state.prefix, token_id)
        return child

    def _walk_id(self, state: ScorerState, token_id: int) -> ScorerState:
        """The state after one of :attr:`ids`, not cached: a walk that never comes back (sampling)
        then holds only the state it is at. Cached, every state of a sample stayed in memory, each
        its parent's child from the initial one on: 190 MB for 20,000 tokens of a 2x1024 LSTM, so
        some 9 GB for the million ``sample`` allows."""
        child = state._children.get(token_id)
        return child if child is not None else self._child(state, state.prefix, token_id)

    def advance_ids(self, state: ScorerState, token_ids: Sequence[int]) -> ScorerState:
        """The state after each of ``token_ids`` in turn (a prefix read before sampling)."""
        for token_id in token_ids:
            state = self.advance_id(state, token_id)
        return state

    def _check_id(self, token_id: Any) -> None:
        n = self.tokenizer.vocab_size
        if isinstance(token_id, bool) or not isinstance(token_id, (int, np.integer)) or not 0 <= token_id < n:
            raise LstmkitError(f"token id {token_id!r} is not one of the model's ids (whole numbers 0 to {n - 1})",
                               "pass an id from scorer.ids, or a token string to advance()")

    @abstractmethod
    def _child(self, parent: ScorerState | None, prefix: tuple[int, ...] | None, token_id: int) -> ScorerState:
        """A new state: ``parent`` (None for the root) advanced by ``token_id`` (the engine's step)."""

    @abstractmethod
    def _logits(self, state: ScorerState) -> torch.Tensor:
        """The next-token logits ``[V]`` after ``state`` (the engine's output)."""


class LMScorer(_CachingScorer):
    """Incremental log-probabilities of a fitted language model's torch network (see the module
    docstring)."""

    def __init__(self, net: LanguageModelNet, tokenizer: LMTokenizer):
        super().__init__(tokenizer)
        self.net = net.eval()
        self._device = next(net.parameters()).device
        self._initial = self._child(None, (), tokenizer.bos_id)

    def _logits(self, state: ScorerState) -> torch.Tensor:
        return self.net.head(state.output)[0]

    def advance_ids(self, state: ScorerState, token_ids: Sequence[int]) -> ScorerState:
        """As :meth:`_CachingScorer.advance_ids`; an encoder without recurrent state reads the whole
        prefix once: token by token it read the prefix again for each, a 2,000-character prefix
        2,000 times (quadratic in its length, cubic for a transformer's attention)."""
        _check_state(state)
        if self.net.recurrent or len(token_ids) < 2:
            return super().advance_ids(state, token_ids)
        for token_id in token_ids:
            self._check_id(token_id)
        prefix = (*(state.prefix or ()), *(int(i) for i in token_ids))
        with torch.inference_mode():
            h, _ = self.net.encoder(self.net.embedding(torch.tensor([prefix], device=self._device)))
        return ScorerState(None, prefix, h[:, -1], state.length + len(token_ids))

    def _child(self, parent: ScorerState | None, prefix: tuple[int, ...] | None, token_id: int) -> ScorerState:
        length = 1 if parent is None else parent.length + 1
        with torch.inference_mode():
            if self.net.recurrent:
                tok = torch.tensor([token_id], device=self._device)
                out, state = self.net.step(tok, None if parent is None else parent.state)
                return ScorerState(state, None, out, length)                # out [1, D]
            prefix = (*(prefix or ()), token_id)
            x = torch.tensor([prefix], device=self._device)
            h, _ = self.net.encoder(self.net.embedding(x))                  # the whole prefix again
            return ScorerState(None, prefix, h[:, -1], length)


StepGraph = Callable[[np.ndarray, Sequence[np.ndarray]], tuple[np.ndarray, list[np.ndarray]]]


class GraphScorer(_CachingScorer):
    """The same answers as :class:`LMScorer`, from a step graph with explicit state.

    Args:
        graph: ``(x [1, T] int64, state arrays) -> (logits [1, T, V], state arrays)``, e.g. an
            :class:`~lstmkit.deploy.onnx_engine.OnnxRunner` over the language model's exported graph.
        tokenizer: the run's tokenizer.
        zero_state: the state before ``<bos>`` (``[L, 1, H]`` arrays: ``h, c`` or ``h``).
    """

    def __init__(self, graph: StepGraph, tokenizer: LMTokenizer, zero_state: Sequence[np.ndarray]):
        super().__init__(tokenizer)
        self.graph = graph
        self._zero = list(zero_state)
        self._initial = self._child(None, (), tokenizer.bos_id)

    def _logits(self, state: ScorerState) -> torch.Tensor:
        return torch.from_numpy(state.output)

    def _child(self, parent: ScorerState | None, prefix: tuple[int, ...] | None, token_id: int) -> ScorerState:
        x = np.array([[token_id]], dtype=np.int64)
        logits, state = self.graph(x, self._zero if parent is None else parent.state)
        length = 1 if parent is None else parent.length + 1
        return ScorerState(state, None, np.asarray(logits[0, -1]), length)      # logits [V]


def _check_token(token: Any) -> None:
    if not isinstance(token, str):
        raise LstmkitError(f"a token must be a string, got {type(token).__name__} {str(token)[:20]!r}",
                           "pass one entry of scorer.vocab (e.g. 'a' at char level), or an id to advance_id()")


def _check_state(state: Any) -> None:
    if not isinstance(state, ScorerState):
        raise LstmkitError(f"the scorer got {type(state).__name__} where it needs a ScorerState",
                           "start from scorer.initial() and pass the states advance() returns")


# -- sampling ------------------------------------------------------------------------------------
def sample_text(scorer: _CachingScorer, n_tokens: int | None = None, prefix: str = "", temperature: float = 1.0,
                top_k: int | None = None, seed: int | None = None, stop_at_end: bool | None = None,
                progress: str = "off", top_p: float | None = None) -> tuple[str, dict]:
    """Text drawn from ``scorer``'s model after ``prefix`` (arguments checked by the caller), and
    ``{"tokens": drawn, "finished": drew </s>}``.

    ``n_tokens=None`` writes one line, until the model draws ``</s>`` (or 10,000 tokens). With
    ``n_tokens`` at most that many tokens are drawn: ``stop_at_end`` (default: only without
    ``n_tokens``) ends at ``</s>``; otherwise each ``</s>`` becomes a line break and the next line
    starts afresh. ``temperature`` divides the logits (0: the likeliest token, greedy); ``top_k``
    keeps the k most likely tokens (and any tied with the k-th); ``top_p`` then keeps the nucleus
    of the distribution so tempered (:func:`nucleus`); ``<unk>`` is never drawn, nor ``</s>``
    as a line's first token (training skips blank lines). A ``prefix`` of several lines is continued
    on its last line, which the model reads alone (a prefix ending in a line break: a new line);
    one ending in a space goes on with a new word (at BPE level, the first token drawn begins one).
    The same ``seed`` gives the same text. The tokens drawn show as ``progress`` says
    (:func:`lstmkit.train.progress.track`), with ``n_tokens`` only.
    """
    tok = scorer.tokenizer
    stop_at_end = n_tokens is None if stop_at_end is None else stop_at_end
    rng = np.random.default_rng(seed)
    # each line starts afresh, as in training: the model reads the prefix's last line alone (its
    # line breaks had been read as spaces, "xy\nab" as the one line "xy ab" no text holds)
    earlier, prefix = last_line(prefix)
    prefix_ids = tok.encode(prefix) if prefix.strip() else []
    if tok.level == "char" and prefix_ids and prefix[-1].isspace():
        prefix_ids.append(tok.token_id(" "))      # the tokenizer strips it; "a man " ends in a space
    # a BPE prefix ending in a space: its words alone are read and the first token drawn begins a
    # word. The space encodes as a lone word marker ("the " as "▁the ▁"), which training text holds
    # only before a word spelt in pieces: "the big " drew a verb ("the big sits") 9 times in 10.
    word_starts, marker = None, tok.word_marker
    if marker and prefix_ids and prefix[-1].isspace():
        prefix_ids = tok.encode(prefix.rstrip())
        word_starts = np.array([t.startswith(marker) or t == EOS for t in scorer.vocab])
    state = scorer.advance_ids(scorer.initial(), prefix_ids)
    unk, end = scorer.index(tok.itos[UNK_ID]), scorer.index(EOS)
    lines: list[list[int]] = [[]]
    drawn, finished, limit = 0, False, n_tokens if n_tokens is not None else MAX_SAMPLE
    # a million tokens are minutes: shown as a bar or log lines; a line without n_tokens, not at all
    shown = track(range(limit), limit, "sampling", progress if n_tokens is not None else "off", unit="tokens")
    with contextlib.closing(shown):       # the bar gone before an "interrupted" line
        next(shown, None)                 # it starts at 0; each token drawn advances it
        for _ in range(4 * limit + 100):          # bounded even for a model that keeps drawing </s>
            if drawn >= limit:
                break
            logits = scorer.log_probs(state).astype(np.float64)
            logits[unk] = -np.inf
            if not lines[-1] and (len(lines) > 1 or not prefix_ids):
                logits[end] = -np.inf      # no empty line (training has none): an undertrained model drew only line ends
            if word_starts is not None:    # the first token after the prefix's space
                logits[~word_starts] = -np.inf
                word_starts = None
            if top_k is not None and top_k < len(logits):
                cut = np.partition(logits, -top_k)[-top_k]
                logits[logits < cut] = -np.inf
            if temperature > 0:            # divided once at or below 0: 1e-310 took every logit to -inf, then NaN
                with np.errstate(over="ignore"):
                    p = np.exp((logits - logits.max()) / temperature)
                p = p / p.sum()
                if top_p is not None and top_p < 1:
                    p = nucleus(p, top_p)
                k = int(rng.choice(len(p), p=p))
            else:                          # greedy: the first of the likeliest (no draw, so no seed)
                k = int(np.argmax(logits))
            if k == end:
                if stop_at_end:
                    finished = True
                    break
                lines.append([])
                state = scorer.initial()
                continue
            lines[-1].append(scorer.ids[k])
            state = scorer._walk_id(state, scorer.ids[k])
            drawn += 1
            next(shown, None)
    text = "\n".join(_join(tok, prefix if j == 0 else "", prefix_ids if j == 0 else [], ids)
                     for j, ids in enumerate(lines))
    return earlier + text, {"tokens": drawn, "finished": finished}


def nucleus(p: np.ndarray, top_p: float) -> np.ndarray:
    """Nucleus (top-p) sampling's distribution (Holtzman et al. 2020, "The curious case of neural
    text degeneration"): of probabilities ``p`` (summing to 1), the smallest set of the likeliest
    whose sum reaches ``top_p`` (and any tied with the last of them) keeps its probabilities,
    renormalised; the rest are 0. ``top_p`` 0.8 of (0.5, 0.3, 0.15, 0.05): (5/8, 3/8, 0, 0)."""
    ordered = np.sort(p)[::-1]
    # the sum read to within rounding: 0.5 + 0.3 of exp(log p) may fall a hair short of 0.8
    n = min(int(np.searchsorted(np.cumsum(ordered), top_p - 1e-9)), len(p) - 1)
    kept = np.where(p >= ordered[n], p, 0.0)
    return kept / kept.sum()


def last_line(prefix: str) -> tuple[str, str]:
    """``(earlier lines with their breaks, last line)``; the last line of a prefix that ends in a
    line break is ``""`` (a new line starts). Breaks are those of ``str.splitlines``, which the
    corpus reader splits a text into lines by."""
    lines = prefix.splitlines(keepends=True)
    if not lines or lines[-1].splitlines()[0] != lines[-1]:
        return prefix, ""
    return "".join(lines[:-1]), lines[-1]


def _join(tok: LMTokenizer, prefix: str, prefix_ids: list[int], ids: list[int]) -> str:
    if tok.level == "bpe":             # decoded together: a subword may continue the prefix's last word
        whole, head = tok.decode([*prefix_ids, *ids]), tok.decode(prefix_ids)
        if not whole.startswith(head):
            return whole
        rest = whole[len(head):]         # the prefix as typed, not as decoded (lower-cased, '<unk>' for unseen)
        return prefix + (rest[1:] if prefix[-1:].isspace() and rest[:1] == " " else rest)
    text = tok.decode(ids)
    if not prefix:
        return text
    if tok.level == "char" or not text or prefix[-1:].isspace():
        return prefix + text
    return join_words([prefix, text])
