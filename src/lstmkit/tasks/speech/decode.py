"""CTC decoding: greedy, prefix beam search, and shallow fusion with a language model.

Input is one utterance's per-frame log-probabilities ``log_probs [T, V]`` (``<blank>`` = 0).

greedy        the most probable symbol at every frame; repeats merged, blanks removed.
prefix beam   (Hannun et al. 2014) keeps the ``beam`` best *label prefixes*; each carries the
              probability of all frame paths ending in blank (``p_b``) and in its last symbol
              (``p_nb``), so paths that collapse to the same text are summed, not competing.
              On peaked posteriors (what trained CTC models give) ``beam = 1`` returns the greedy
              text; in general it may differ, because it sums paths. The greedy text competes with
              the beam's winner at the end (its probability over all paths, :func:`ctc_log_likelihood`,
              plus the LM's term when fused), so no beam answers a transcript scored below greedy's.
fusion        prefixes are ranked by ``log P_ctc + alpha · log P_lm + beta · length`` where
              ``P_lm`` is a language model's probability of the prefix (``</s>`` added at the end)
              and ``length`` counts the LM's tokens (characters or words) - the bonus offsets the
              LM's per-token cost, which would otherwise favour short outputs.

The language model is any :class:`~lstmkit.nn.scoring.TokenScorer` (``lstmkit lm``'s scorer is one):
``vocab`` (tokens, ``'</s>'`` included), ``level`` (``"char"`` or ``"word"``), ``initial()``,
``log_probs(state) -> [len(vocab)]`` and ``advance(state, token)``. Word-level models score a
word when the space after it (or the end) is emitted. :func:`lm_scorer` finds the scorer of an
``lstmkit lm`` run by name (no import of the lm room): through the lm deploy adapter's
``scorer(engine)`` when that room offers one (the ONNX step graph or torch), else the lm
estimator's own torch scorer.

:func:`decode` decodes one utterance by any of the three; :func:`decode_batch` a padded batch
``[B, T, V]`` with valid lengths ``[B]`` (what the acoustic model's ONNX graph or the torch net gives).
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from lstmkit.errors import LstmkitError, opt
from lstmkit.nn.scoring import TokenScorer
from lstmkit.train.progress import track

__all__ = ["greedy_decode", "prefix_beam_search", "LMFusion", "collapse", "decode", "decode_batch", "checked_log_probs",
           "ctc_log_likelihood", "lm_scorer", "LM_ENGINES"]

_NEG = -math.inf
UNK_FLOOR = -10.0        # log-probability of a token the LM does not know and has no <unk> for
LM_ENGINES = ("auto", "torch", "onnx")


def collapse(path: Sequence[int], previous: int | None = None) -> list[int]:
    """Merge repeated symbols, then drop blanks (0): the CTC many-to-one map. ``previous`` is the
    symbol before ``path`` (a stream's last frame), which ``path`` may continue."""
    out, prev = [], previous
    for s in path:
        if s != prev and s != 0:
            out.append(int(s))
        prev = s
    return out


def greedy_decode(log_probs: np.ndarray) -> list[int]:
    """Symbol ids of the best path (argmax per frame, collapsed)."""
    return collapse(checked_log_probs(log_probs).argmax(axis=-1).tolist())


def checked_log_probs(log_probs, what: str = "the acoustic model's") -> np.ndarray:
    """``log_probs`` as float64, or one :class:`LstmkitError` when a value is NaN or +infinity
    (-infinity is log 0, a legal value). Recordings and run weights are checked finite where they
    are read, so NaN here means a network that went wrong in memory (a diverged or edited model, an
    engine's numerics) or log-probabilities handed in from elsewhere: argmax read NaN as the best
    symbol and the beam search kept no prefix at all (``max() arg is an empty sequence``)."""
    lp = np.asarray(log_probs, dtype=np.float64)
    bad = np.isnan(lp) | (lp == math.inf)
    if bad.any():
        frame, symbol = (int(i) for i in np.argwhere(bad.reshape(len(lp), -1))[0])
        raise LstmkitError(f"{what} log-probabilities are not finite ({lp.reshape(len(lp), -1)[frame, symbol]} at "
                           f"frame {frame} of {len(lp)}, symbol {symbol}): there is nothing to decode",
                           "the model's weights or output went wrong (a diverged or damaged model): reload it "
                           "from its run folder, or retrain it")
    return lp


def _lse(a: float, b: float) -> float:
    if a == _NEG:
        return b
    if b == _NEG:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


@dataclass
class _Context:
    """The LM's view of a prefix: its state, the log-probability so far, tokens scored, the word
    being spelled (word level) and the next-token distribution (computed once, on demand)."""
    state: Any
    logp: float = 0.0
    tokens: int = 0
    word: str = ""
    dist: np.ndarray | None = None


class LMFusion:
    """Shallow fusion of a scorer (see the module docstring) into prefix beam search.

    ``chars`` are the acoustic symbols (index k -> ``chars[k - 1]``); ``alpha`` weights the LM's
    log-probability, ``beta`` is the bonus per LM token.
    """

    def __init__(self, scorer: TokenScorer, chars: Sequence[str], alpha: float = 0.5, beta: float = 1.0):
        self.scorer, self.chars, self.alpha, self.beta = scorer, list(chars), float(alpha), float(beta)
        self.level = getattr(scorer, "level", "char")
        if self.level not in ("char", "word"):
            raise LstmkitError(f"a {self.level!r}-level language model cannot be fused with a character decoder",
                               f"train the LM with {opt('level', 'char')} or {opt('level', 'word')}")
        self.vocab = list(scorer.vocab)
        self.index = {t: i for i, t in enumerate(self.vocab)}
        self.unk = next((t for t in ("<unk>", "<UNK>") if t in self.index), None)
        self.end = "</s>"

    def start(self) -> _Context:
        return _Context(self.scorer.initial())

    def _known(self, token: str) -> str | None:
        """``token`` as the LM spells it: itself, else lower-cased (LMs lower-case by default while
        transcripts may keep capitals), else ``<unk>`` (None when the LM has no ``<unk>``)."""
        if token in self.index:
            return token
        return token.lower() if token.lower() in self.index else self.unk

    def _score(self, ctx: _Context, token: str) -> _Context:
        if ctx.dist is None:
            ctx.dist = checked_log_probs(self.scorer.log_probs(ctx.state), "the language model's")
        known = self._known(token)
        lp = float(ctx.dist[self.index[known]]) if known is not None else UNK_FLOOR
        state = self.scorer.advance(ctx.state, known) if known is not None else ctx.state
        return _Context(state, ctx.logp + lp, ctx.tokens + 1)

    def extend(self, ctx: _Context, symbol: int) -> _Context:
        ch = self.chars[symbol - 1]
        if self.level == "char":
            return self._score(ctx, ch)
        if ch == " ":
            if not ctx.word:
                return ctx
            return self._score(ctx, ctx.word)
        return _Context(ctx.state, ctx.logp, ctx.tokens, ctx.word + ch, ctx.dist)

    def bonus(self, ctx: _Context) -> float:
        return self.alpha * ctx.logp + self.beta * ctx.tokens

    def final(self, ctx: _Context) -> float:
        """The fusion term of a finished prefix: the last word (word level) and ``</s>`` scored."""
        if self.level == "word" and ctx.word:
            ctx = self._score(ctx, ctx.word)
        end = self._score(ctx, self.end) if self.end in self.index else ctx
        return self.alpha * end.logp + self.beta * ctx.tokens


class _Prefix:
    """A label prefix as a node of a trie: one node per distinct prefix, so the node itself is the
    dict key (hashed by identity) and extending it costs O(1). Tuple keys were hashed and copied
    their whole length at every frame: decoding took time quadratic in the transcript's length
    (hours for a long recording). A parent holds its children weakly: those of no beam are freed."""
    __slots__ = ("parent", "last", "children", "__weakref__")

    def __init__(self, parent: "_Prefix | None" = None, last: int | None = None):
        self.parent, self.last = parent, last
        self.children: weakref.WeakValueDictionary | None = None

    def extend(self, symbol: int) -> _Prefix:
        if self.children is None:
            self.children = weakref.WeakValueDictionary()
        child = self.children.get(symbol)
        if child is None:
            child = self.children[symbol] = _Prefix(self, symbol)
        return child

    def ids(self) -> list[int]:
        out, node = [], self
        while node.parent is not None:
            out.append(node.last)
            node = node.parent
        return out[::-1]


def prefix_beam_search(log_probs: np.ndarray, beam: int = 8, lm: LMFusion | None = None,
                       prune: float = 10.0, progress: str = "off") -> list[int]:
    """Symbol ids of the best prefix. Symbols more than ``prune`` nats below a frame's best
    are not tried at that frame (they cannot win against ``beam`` better ones in practice).
    ``progress``: the frames searched, as :func:`lstmkit.train.progress.track` shows them."""
    if beam < 1:
        raise ValueError(f"Expected beam >= 1, got {beam}")
    lp = checked_log_probs(log_probs)
    root = _Prefix()
    beams: dict[_Prefix, list[float]] = {root: [0.0, _NEG]}          # prefix -> [p_b, p_nb]
    ctx: dict[_Prefix, _Context] = {root: lm.start()} if lm is not None else {}

    def rank(prefix, probs) -> float:
        total = _lse(*probs)
        return total + lm.bonus(ctx[prefix]) if lm is not None else total

    for frame in track(lp, len(lp), "decoding", progress, unit="frames"):
        keep = np.nonzero(frame >= frame.max() - prune)[0].tolist()
        nxt: dict[_Prefix, list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            last = prefix.last
            for s in keep:
                p = frame[s]
                if s == 0:
                    cur = nxt.setdefault(prefix, [_NEG, _NEG])
                    cur[0] = _lse(cur[0], _lse(pb, pnb) + p)
                    continue
                new = prefix.extend(s)
                cur = nxt.setdefault(new, [_NEG, _NEG])
                if s == last:
                    cur[1] = _lse(cur[1], pb + p)                 # a blank separated the repeat
                    same = nxt.setdefault(prefix, [_NEG, _NEG])
                    same[1] = _lse(same[1], pnb + p)              # the repeat merges
                else:
                    cur[1] = _lse(cur[1], _lse(pb, pnb) + p)
                if lm is not None and new not in ctx:
                    ctx[new] = lm.extend(ctx[prefix], s)
        best = sorted(nxt.items(), key=lambda kv: rank(*kv), reverse=True)[:beam]
        beams = dict(best)
    if lm is None:
        won = max(beams.items(), key=lambda kv: _lse(*kv[1]))[0]
    else:
        won = max(beams.items(), key=lambda kv: _lse(*kv[1]) + lm.final(ctx[kv[0]]))[0]
    return _or_greedy(lp, won.ids(), lm, ctx.get(won))


# the most frames x CTC states (2 x transcript + 1) :func:`_or_greedy` scores: the forward recursion costs
# their product, quadratic in a recording's length (16,000 frames of an 8,000-symbol transcript: 10 s a call)
CHECK_STATES = 50_000_000


def _or_greedy(lp: np.ndarray, ids: list[int], lm: LMFusion | None, ctx: _Context | None) -> list[int]:
    """``ids`` (the beam's winner) or the greedy transcript, whichever the decoder scores higher: each
    one's CTC probability summed over all its paths (:func:`ctc_log_likelihood`), plus the LM's term
    when fused. The beam keeps ``beam`` prefixes a frame and can drop the greedy one for prefixes that
    end less probable: beam 2 answered a transcript below greedy's in 1 of 30 random 2-6-frame
    posteriors, the default 4 in 1 of 150. Past :data:`CHECK_STATES` (a recording of several minutes
    whose two transcripts differ) the beam's winner is kept unchecked: the check would cost more than
    the search, growing with the square of the recording's length."""
    greedy = collapse(lp.argmax(axis=-1).tolist())
    if greedy == ids or len(lp) * (2 * max(len(ids), len(greedy)) + 1) > CHECK_STATES:
        return ids
    won, other = ctc_log_likelihood(lp, ids), ctc_log_likelihood(lp, greedy)
    if lm is not None:
        spelt = lm.start()
        for s in greedy:
            spelt = lm.extend(spelt, s)
        won, other = won + lm.final(ctx), other + lm.final(spelt)
    return greedy if other > won else ids


def ctc_log_likelihood(log_probs: np.ndarray, ids: Sequence[int]) -> float:
    """``log P(ids | log_probs [T, V])``: the probability of every frame path that collapses to
    ``ids`` (blank 0), summed by CTC's forward recursion over ``ids`` with blanks around each symbol;
    ``-inf`` when ``T`` frames cannot spell ``ids``."""
    lp = np.asarray(log_probs, dtype=np.float64)
    ext = np.zeros(2 * len(ids) + 1, dtype=np.int64)                # blank, s1, blank, s2, ..., blank
    ext[1::2] = ids
    if len(lp) == 0:
        return 0.0 if not len(ids) else _NEG
    skip = np.zeros(len(ext), dtype=bool)                           # a symbol may follow the one before the blank
    skip[2:] = (ext[2:] != 0) & (ext[2:] != ext[:-2])
    emit = lp[:, ext]                                                # [T, 2L+1]
    alpha = np.full(len(ext), _NEG)
    alpha[:2] = emit[0, :2]
    none, n = np.full(2, _NEG), len(ext)
    for t in range(1, len(lp)):
        one = np.concatenate([none[:1], alpha])[:n]                  # from the state before
        two = np.where(skip, np.concatenate([none, alpha])[:n], _NEG)  # from two before, over a blank
        alpha = np.logaddexp(np.logaddexp(alpha, one), two) + emit[t]
    return float(np.logaddexp.reduce(alpha[-2:]))


def decode(log_probs: np.ndarray, beam: int = 1, lm: LMFusion | None = None, progress: str = "off") -> list[int]:
    """Symbol ids of one utterance ``[T, V]``: greedy when ``beam == 1`` and there is no LM, else
    prefix beam search (shallow fusion with ``lm``; ``progress`` over its frames)."""
    return (greedy_decode(log_probs) if beam == 1 and lm is None
            else prefix_beam_search(log_probs, beam, lm, progress=progress))


def decode_batch(log_probs, lengths: Sequence[int] | None = None, beam: int = 1,
                 lm: LMFusion | None = None, progress: str = "off") -> list[list[int]]:
    """Symbol ids per utterance of ``log_probs``: a padded batch ``[B, T, V]`` whose frames past
    ``lengths[b]`` are padding, or a list of ``[T_b, V]`` arrays (``lengths`` None). Greedy when
    ``beam == 1`` and there is no LM, else prefix beam search (shallow fusion with ``lm``);
    ``progress`` as :func:`lstmkit.train.progress.track` shows it (a beam search is the slow part): over
    the utterances, or one utterance's frames (a 10-minute recording searched 6 s without a word)."""
    out = []
    shown = "off" if beam == 1 and lm is None else progress
    one = len(log_probs) == 1
    for b, lp in enumerate(track(log_probs, len(log_probs), "decoding", shown, unit="utterances")):
        lp = np.asarray(lp) if lengths is None else np.asarray(lp)[: int(lengths[b])]
        try:
            out.append(decode(lp, beam, lm, shown if one else "off"))
        except LstmkitError as e:
            raise LstmkitError(f"utterance {b + 1} of {len(log_probs)}: {e.message}", e.hint) from None
    return out


def lm_scorer(run, engine: str = "torch") -> TokenScorer:
    """The :class:`~lstmkit.nn.scoring.TokenScorer` of a finished ``lstmkit lm`` run: the lm room's
    deploy adapter's ``scorer(engine)`` (``auto``: ONNX when the run holds an exported step graph,
    else torch). Found by name through the registry: speech never imports the lm room."""
    if engine not in LM_ENGINES:
        raise LstmkitError(f"unknown language-model engine {engine!r}", f"use one of: {', '.join(LM_ENGINES)}")
    from lstmkit.deploy.registry import adapter_class
    from lstmkit.runs import read_meta
    read_meta(run, "lm")                              # a missing folder or another task's run: one line
    return adapter_class("lm").load(run).scorer(engine)
