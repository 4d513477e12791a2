"""Token streams: a language model fed one text piece per message, its state kept per stream id.

>>> s = adapter.open_stream("auto")             # LMStream (adapter: lstmkit.tasks.lm.deploy)
>>> s.step("t", id="user-1")                    # char level: one character per message
{"tokens": ["t"], "logprob": -2.31, "next": [{"token": "h", "p": 0.62}, ...]}
>>> s.step({"text": "he"}, id="user-1")          # several tokens at once
>>> s.step("</s>", id="user-1")                 # the end of the line: the next one starts afresh

A message is a string or ``{"text": "..."}``: a character (or several) for a char-level model, a
word (or several) for a word-level one, encoded like training text (NFKC, lower-cased when the
model is; at char level a run of white space is one space, and none starts a line: a line sent in
pieces reads the ids ``predict`` reads of it, but a space before ``"</s>"``). ``"</s>"`` alone ends the
line. The answer gives the tokens read, ``logprob`` (the natural log-probability of those tokens
after everything the stream read before) and ``next``, the ``top_k`` most likely next tokens.

A model that decodes HTML character references (``html`` in its vocab.json: every one trained
now) reads a reference split across messages as one: a message ending in what may be the start of
one (``"caf&eacu"``, ``"&am"``) holds that tail (a word-level model: the word it is in) back until
the next message completes it, or ``"</s>"`` reads it as written; the answer names what it holds
(``"pending"``), and a message held whole answers no tokens. Read alone, ``"&am"`` + ``"p;"`` were
the words 'am' and 'p' (the characters '&', 'a', 'm', 'p', ';') where the text they split reads '&'.

The stream carries each id's ``(h, c)`` (GRU: ``h``), so a step costs its tokens' steps only.
:meth:`LMStream.state_dict` keeps, per stream, the state *before* its last token and that
token (``last``, ``<bos>``'s id on a fresh line): the next-token distribution is recomputed
from them on restore, so a saved state is small and exactly what stepping gives.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from lstmkit.data.decoding import whole_characters
from lstmkit.deploy.adapter import shown
from lstmkit.deploy.stream_state import unknown_field
from lstmkit.deploy.streaming import Stream, keep_slot, stream_id, too_many_streams
from lstmkit.errors import LstmkitError
from lstmkit.tasks.lm.data import EOS, PAD_ID, LMTokenizer
from lstmkit.tasks.lm.scorer import StepGraph

__all__ = ["LMStream", "encode_piece", "top_tokens", "MAX_PIECE", "MAX_HELD"]

MAX_PIECE = 10_000              # characters per message
MAX_HELD = 256                  # characters a stream holds back for its next message, at most
# what may still become a character reference with more text after it: '&', '&am', '&#3', '&#x2'
_REFERENCE_START = re.compile(r"&(?:#[xX]?[0-9a-fA-F]{0,8}|[A-Za-z][A-Za-z0-9]{0,40})?\Z")


def encode_piece(tok: LMTokenizer, message: Any) -> list[int]:
    """Token ids of one stream message (see the module docstring); anything else is an
    LstmkitError saying what to send."""
    message = piece_text(message)
    if message.strip() == EOS:
        return [tok.eos_id]
    ids = text_ids(tok, message)
    if not ids:
        raise _no_token(message)
    return ids


def _no_token(message: str) -> LstmkitError:
    return LstmkitError(f"the message's 'text' holds no token ({message!r})",
                        "send a character, a word or more text; \"</s>\" ends the line")


def text_ids(tok: LMTokenizer, text: str, after_space: bool = False) -> list[int]:
    """Token ids of ``text`` as the model reads it: at char level a run of white space one space, none
    ``after_space`` (the stream's last token a space, or none yet on its line), as training and
    ``predict`` read a line (each white-space character was a space: 'a  b' in one message scored
    three spaces' worth of text the model never saw, another log-probability than ``predict``'s)."""
    if tok.level != "char":
        return tok.encode(text) if text.strip() else []
    ids, space, blank = [], tok.token_id(" "), after_space
    for c in tok.base.clean(text):
        if not c.isspace():
            ids.append(tok.token_id(c))
        elif not blank:
            ids.append(space)
        blank = c.isspace()
    return ids


def held_from(tok: LMTokenizer, text: str) -> int:
    """Where the tail of ``text`` that the next message may turn into a character reference starts
    (``len(text)``: none): the reference's start at char level, the start of its word otherwise;
    none for a model that reads references as written (no ``html``) or a tail over :data:`MAX_HELD`."""
    found = _REFERENCE_START.search(text) if getattr(tok.base, "html", False) and "&" in text else None
    if found is None:
        return len(text)
    start = found.start()
    if tok.level != "char":
        while start > 0 and not text[start - 1].isspace():
            start -= 1
    return start if len(text) - start <= MAX_HELD else len(text)


def piece_text(message: Any) -> str:
    """The text of one stream message, checked (see the module docstring)."""
    if isinstance(message, dict):
        extra = sorted(set(message) - {"text"})
        if extra or "text" not in message:
            raise LstmkitError(f"a stream message object takes only 'text', got {sorted(message)!r}",
                               'send "a piece of text" or {"text": "a piece of text"}')
        message = message["text"]
    if not isinstance(message, str):
        raise LstmkitError(f"a stream message must be text ('text'), got {type(message).__name__}",
                           'send "a piece of text" or {"text": "a piece of text"}')
    if len(message) > MAX_PIECE:
        raise LstmkitError(f"the message's 'text' has {len(message)} characters; at most {MAX_PIECE}",
                           "send the text in smaller pieces")
    # a lone UTF-16 half (JSON's '\ud83d') is U+FFFD, as predict reads it: a BPE model's stream was a TypeError
    return whole_characters([message], "message's 'text'")[0]


def top_tokens(tok: LMTokenizer, logp: np.ndarray, k: int) -> list[dict[str, Any]]:
    """The ``k`` most likely next tokens (never ``<pad>`` / ``<bos>``) with their probabilities."""
    logp = np.asarray(logp, dtype=np.float64).copy()
    logp[[PAD_ID, tok.bos_id]] = -np.inf
    k = min(k, len(logp) - 2)
    best = np.argpartition(-logp, k - 1)[:k]
    best = best[np.argsort(-logp[best], kind="stable")]
    return [{"token": tok.itos[i], "p": float(np.exp(logp[i]))} for i in best]


@dataclass
class _Slot:
    steps: int                         # tokens read, </s> included
    before: list[np.ndarray]           # state before the last token, [L, 1, H] each
    last: int                          # the last token read (<bos> on a fresh line)
    after: list[np.ndarray] | None = None     # state after it (None until computed)
    logp: np.ndarray | None = None            # log P(next token) [V] after it
    pending: str = ""                         # text held for the next message (a reference's start)


class LMStream(Stream):
    """Step a language model's graph through text pieces, one stream id at a time.

    A :class:`~lstmkit.deploy.streaming.Stream` in ``state`` mode whose step reads text: ``run``,
    ``reset``, ``steps``, ``ids``, ``state_dict`` / ``load_state_dict`` and ``save`` / ``restore``
    (JSON or safetensors) work as for numeric streams.

    Args:
        graph: ``(x [1, T] int64, state) -> (logits [1, T, V], state)``: a
            :class:`~lstmkit.deploy.streaming.TorchCore` or an :class:`~lstmkit.deploy.onnx_engine.OnnxRunner`.
        tokenizer: the model's tokenizer.
        zero_state: the state before ``<bos>`` (``[L, 1, H]`` arrays).
        state_names: their names (``("h", "c")`` or ``("h",)``).
        top_k: next tokens each answer lists.
        fingerprint: the weights this state belongs to; restoring another model's state is refused.
        max_streams: bound on open stream ids (None: unbounded).
    """

    reads_numbers = False          # a message is text: the service leaves a boolean or number in it to step()

    def __init__(self, graph: StepGraph, tokenizer: LMTokenizer, zero_state: Sequence[np.ndarray],
                 state_names: Sequence[str], top_k: int = 5, fingerprint: str | None = None,
                 max_streams: int | None = None):
        # Not Stream.__init__: that one wraps a numeric core; the bookkeeping attributes match it.
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise LstmkitError(f"`top_k` must be a positive integer, got {top_k!r}", "pass top_k=5, say")
        self.graph, self.tokenizer, self.top_k = graph, tokenizer, top_k
        self.mode, self.input_size, self.window, self._fast = "state", 1, None, None
        self.state_names = tuple(state_names)
        self._zero = [np.asarray(z, np.float32) for z in zero_state]
        self.state_shape = (self._zero[0].shape[0], self._zero[0].shape[2])
        self.fingerprint, self.max_streams = fingerprint, max_streams
        self._slots: dict[str, _Slot] = {}
        self._warned: set[str] = set()                          # Stream.reset's (an lm's step warns of nothing)
        self._fresh = self._completed(self._new_slot(0))        # the line start, computed once

    # -- stepping ----------------------------------------------------------------------------
    def step(self, message: Any, id: str = "default") -> dict[str, Any]:
        """Feed one text piece to stream ``id`` (created on first use); bad input raises an
        LstmkitError and leaves the stream as it was."""
        text, tok = piece_text(message), self.tokenizer
        id = stream_id(id)
        slot = self._slots.get(id)
        if slot is None:
            if self.max_streams is not None and len(self._slots) >= self.max_streams:
                raise too_many_streams(self.max_streams)
            slot = self._new_slot(0)
        slot = self._completed(slot)
        ends = text.strip() == EOS
        after_space = slot.last in (tok.bos_id, tok.stoi.get(" "))
        if ends:                                                # what was held is read as written
            ids, hold = [*text_ids(tok, slot.pending, after_space), tok.eos_id], ""
        else:
            whole = slot.pending + text
            cut = held_from(tok, whole)
            ids, hold = text_ids(tok, whole[:cut], after_space), whole[cut:]
            spaces = tok.level == "char" and text.isspace()     # a space after a space: nothing new to read
            if not ids and not hold and not slot.pending and not spaces:
                raise _no_token(text)
        if not ids:                                             # held whole (or completing text of no token)
            keep_slot(self._slots, id, _Slot(slot.steps, slot.before, slot.last, slot.after, slot.logp, hold),
                      self.max_streams)
            return {"tokens": [], "logprob": 0.0, "next": top_tokens(tok, slot.logp, self.top_k),
                    **({"pending": hold} if hold else {})}
        logprob = float(slot.logp[ids[0]])
        if ends:                                                # the line ends; the next starts afresh
            if len(ids) > 1:                                    # the held text's tokens before it
                logits, _ = self.graph(np.asarray([ids[:-1]], np.int64), slot.after)
                lp = _log_softmax(logits[0])
                logprob += float(lp[np.arange(len(ids) - 1), ids[1:]].sum())
            fresh = self._fresh
            new = _Slot(slot.steps + len(ids), fresh.before, fresh.last, fresh.after, fresh.logp)
        else:
            before = slot.after
            if len(ids) > 1:                                    # all but the last token in one call
                logits, before = self.graph(np.asarray([ids[:-1]], np.int64), slot.after)
                lp = _log_softmax(logits[0])                    # [k-1, V]
                logprob += float(lp[np.arange(len(ids) - 1), ids[1:]].sum())
            new = self._completed(_Slot(slot.steps + len(ids), list(before), ids[-1], pending=hold))
        if not (np.isfinite(logprob) and np.isfinite(new.logp).all()):
            raise LstmkitError("the model's output is not finite for this text; the stream is as it was before it",
                               "reset the stream")
        keep_slot(self._slots, id, new, self.max_streams)
        return {"tokens": [tok.itos[i] for i in ids], "logprob": logprob,
                "next": top_tokens(tok, new.logp, self.top_k), **({"pending": hold} if hold else {})}

    def log_probs(self, id: str = "default") -> np.ndarray:
        """``log P(next token)`` over every id ``[V]`` for stream ``id`` (a fresh line when unknown)."""
        slot = self._slots.get(stream_id(id))
        return (self._completed(slot) if slot is not None else self._fresh).logp

    def _new_slot(self, steps: int) -> _Slot:
        return _Slot(steps, self._zero, self.tokenizer.bos_id)

    def _completed(self, slot: _Slot) -> _Slot:
        """``slot`` with the state after its last token and the next-token log-probabilities."""
        if slot.after is None:
            logits, after = self.graph(np.asarray([[slot.last]], np.int64), slot.before)
            slot.after, slot.logp = list(after), _log_softmax(logits[0, -1])
        return slot

    # -- saving and restoring state (the Stream methods, over these slots) ------------------------
    def _header(self) -> dict[str, Any]:
        return {**super()._header(), "task": "lm", "level": self.tokenizer.level,
                "vocab_size": self.tokenizer.vocab_size}

    def _arrays(self, slot: _Slot) -> dict[str, np.ndarray]:
        return {"last": np.asarray(slot.last, dtype=np.int64), **dict(zip(self.state_names, slot.before))}

    def _fields(self, slot: _Slot) -> dict[str, Any]:
        return {"pending": slot.pending} if slot.pending else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore streams from :meth:`state_dict` output (others are left as they are); a stream
        saved before its first message (``{"steps": 0}``) restores as a fresh line."""
        header = self._header()
        if isinstance(state, dict) and state.get("format") == header["format"]:
            for key in ("task", "level", "vocab_size"):
                if state.get(key) != header[key]:
                    raise LstmkitError(f"stream state has {key} {shown(state.get(key))}, this stream {shown(header[key])}",
                                       "restore state into a stream of the same language model")
        super().load_state_dict(state)

    def _slot_from(self, rec: dict[str, Any]) -> _Slot:
        steps = rec["steps"]
        if type(steps) is not int or steps < 0:
            raise ValueError(f"steps {shown(steps)} is not a count")
        unknown_field(rec, ["steps", "pending", "last", *self.state_names])
        pending = rec.get("pending", "")
        if not isinstance(pending, str) or len(pending) > MAX_HELD:
            raise ValueError(f"pending {shown(pending)[:40]} is not text of at most {MAX_HELD} characters")
        if pending and held_from(self.tokenizer, pending) != 0:      # read as tokens by the next message
            raise ValueError(f"pending {shown(pending)[:40]} is not the start of a character reference this "
                             "model's stream holds back ('&', '&am', '&#3', or at word level the word it is in)")
        if set(rec) - {"pending"} == {"steps"}:
            slot = self._completed(self._new_slot(steps))
            slot.pending = pending
            return slot
        last = np.asarray(rec["last"]).reshape(-1)     # an int (JSON) or a [1] array (safetensors)
        if last.shape != (1,) or last.dtype.kind not in "iuf" or last[0] != int(last[0]) \
                or not 0 < int(last[0]) < self.tokenizer.vocab_size:
            raise ValueError(f"last token {shown(rec['last'])} is not a token id")
        with np.errstate(over="ignore"):              # beyond float32 becomes inf, refused below
            before = [np.asarray(rec[n], dtype=np.float32) for n in self.state_names]
        if any(b.shape != z.shape for b, z in zip(before, self._zero)):
            raise ValueError(f"state shape {before[0].shape}, expected {self._zero[0].shape}")
        if not all(np.isfinite(b).all() for b in before):
            raise ValueError("values that are not finite float32 numbers")
        return self._completed(_Slot(steps, before, int(last[0]), pending=pending))


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities over the last axis (float64)."""
    return torch.log_softmax(torch.from_numpy(np.asarray(logits, dtype=np.float64)), dim=-1).numpy()
