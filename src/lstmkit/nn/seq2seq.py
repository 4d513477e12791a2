"""The attention encoder-decoder, its loss and its decoders (greedy and beam search).

Shared by translation (token ids in, token ids out) and speech (features in, characters out).
Token ids 0-3 are reserved: ``<pad>``, ``<unk>``, ``<bos>``, ``<eos>``.

The data flow::

    source ids [B, S] ─► Embedding ─► dropout ─► zoo encoder (packed by lengths) ─► memory [B, S, E]
                                                         │ final state (or masked mean of memory)
                                                         ▼ bridge: tanh(Linear) → h0, Linear → c0
    y_{t-1} ─► Embedding ─┬─► LSTM decoder (L layers) ─► h_t ─► attention over memory ─► ctx_t
                input feed ┘                                    combine: h~_t = tanh(W [ctx_t; h_t])
                                                                     ─► dropout ─► Linear ─► logits_t

Attention (padding masked out of every softmax):
    bahdanau   score(q, k) = v · tanh(W_q q + W_k k), query = the previous top hidden state;
               ctx_t is fed into the step with y_{t-1}
    dot        score = q · k          (k projected to the decoder width when the widths differ)
    general    score = q · W k        query = the current top hidden state h_t (Luong)
    none       the tutorial's plain hand-off: the decoder starts from the encoder's (h, c), no ctx

Input feeding (Luong) feeds h~_{t-1} into step t. ``tie_embeddings`` shares the target
embedding with the output layer (h~ then has the embedding's width).

Decoding (:func:`greedy_search`, :func:`beam_search`), batched over sentences.

Both return, per sentence, the token ids (without ``<bos>``, ending at ``<eos>`` when one was
produced), the sum of log-probabilities (the model's own objective) and the attention rows.
A sentence of source length n may produce at most ``ceil(max_len_ratio * n) + 2`` tokens, and
never more than ``max_steps`` when given (an absolute bound: a model that never writes ``<eos>``
stops there however long the source; such a hypothesis is marked ``cut``).

Beam search keeps ``beam`` hypotheses per sentence, all sentences of a batch in one decoder call
per step (``B * beam`` rows); a finished hypothesis keeps its score and only extends with padding. The winner maximises ``score / lp`` with the GNMT length penalty
``lp = ((5 + len) / 6) ** alpha`` (``alpha = 0``: the plain sum). With ``beam = 1`` it is greedy
search exactly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.data.batching import BucketBatches, pad_batch
from lstmkit.errors import LstmkitError, opt
from lstmkit.nn.blocks import widened
from lstmkit.nn.lstm import LSTM
from lstmkit.nn.threads import map_batches
from lstmkit.nn.zoo import make_encoder

__all__ = ["ATTENTIONS", "PAD_ID", "UNK_ID", "BOS_ID", "EOS_ID", "AdditiveAttention", "LuongAttention", "Seq2Seq",
           "Memory", "sequence_loss", "start_tokens", "Hypothesis", "greedy_search", "beam_search", "max_lengths",
           "length_penalty", "decode_workers", "decode_batches", "check_beam_before"]

ATTENTIONS = ("bahdanau", "dot", "general", "none")
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3      # the reserved ids of every Seq2Seq vocabulary


class AdditiveAttention(nn.Module):
    """Bahdanau attention: ``a = softmax(v · tanh(W_q q + W_k k))`` over unmasked keys."""

    def __init__(self, query_dim: int, key_dim: int, attn_dim: int):
        super().__init__()
        self.w_q = nn.Linear(query_dim, attn_dim, bias=False)
        self.w_k = nn.Linear(key_dim, attn_dim)
        self.v = nn.Linear(attn_dim, 1, bias=False)

    def prepare(self, keys: Tensor) -> Tensor:
        return self.w_k(keys)                                           # [B, S, A], once per sentence

    def forward(self, q: Tensor, keys: Tensor, prepared: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        scores = self.v(torch.tanh(prepared + self.w_q(q)[:, None])).squeeze(-1)    # [B, S]
        return _attend(scores, keys, mask)


class LuongAttention(nn.Module):
    """Luong attention: ``dot`` (q · k) or ``general`` (q · W k)."""

    def __init__(self, query_dim: int, key_dim: int, kind: str = "general"):
        super().__init__()
        self.kind = kind
        self.w = None if kind == "dot" and query_dim == key_dim else nn.Linear(key_dim, query_dim, bias=False)

    def prepare(self, keys: Tensor) -> Tensor:
        return keys if self.w is None else self.w(keys)                 # [B, S, Q]

    def forward(self, q: Tensor, keys: Tensor, prepared: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        scores = torch.bmm(prepared, q[:, :, None]).squeeze(-1)          # [B, S]
        return _attend(scores, keys, mask)


def _attend(scores: Tensor, keys: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    # in float32 under bf16 autocast too: CPU autocast leaves softmax in bf16 (CUDA's runs it in float32),
    # weights 3 digits wide that summed to 1 +- 0.004
    weights = torch.softmax(widened(scores).masked_fill(~mask, float("-inf")), dim=-1)   # [B, S], 0 at padding
    return torch.bmm(weights[:, None], keys).squeeze(1), weights               # ctx [B, E]


class Memory:
    """What the decoder reads at every step: encoder outputs, their prepared keys, the mask."""

    def __init__(self, out: Tensor, prepared: Tensor | None, mask: Tensor):
        self.out, self.prepared, self.mask = out, prepared, mask                 # [B, S, E], [B, S, *], [B, S]

    def select(self, idx: Tensor) -> Memory:
        return Memory(self.out[idx], None if self.prepared is None else self.prepared[idx], self.mask[idx])


class TiedOutput(nn.Module):
    """Output layer reading the target embedding matrix: ``logits = x · Eᵀ + b``.

    The embedding is referenced, not registered as a sub-module, so its matrix is stored once:
    safetensors refuses to write two state-dict entries that share memory, which a plain
    ``out.weight = embed.weight`` would create. ``weight`` is the embedding's Parameter itself.
    """

    def __init__(self, embedding: nn.Embedding):
        super().__init__()
        self._tied = [embedding]              # a list hides it from state_dict / parameters()
        self.bias = nn.Parameter(torch.zeros(embedding.num_embeddings))

    @property
    def weight(self) -> nn.Parameter:
        return self._tied[0].weight

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)


class Seq2Seq(nn.Module):
    """Encoder-decoder with attention. See the module docstring for the data flow.

    ``forward(src [B, S], src_len [B], tgt_in [B, T]) -> logits [B, T, V_tgt]`` with teacher
    forcing (a share ``teacher_forcing`` of steps in training; the rest feed the argmax).
    ``encode`` + ``step`` + ``reorder`` serve :func:`greedy_search` and :func:`beam_search`.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, embed_dim: int = 256, hidden_size: int = 256,
                 num_layers: int = 2, encoder: str = "bilstm", attention: str = "bahdanau", dropout: float = 0.3,
                 input_feed: bool = True, tie_embeddings: bool = False, teacher_forcing: float = 1.0):
        super().__init__()
        if attention not in ATTENTIONS:
            raise LstmkitError(f"unknown attention {attention!r}", f"use one of: {', '.join(ATTENTIONS)}")
        self.attention_kind, self.num_layers, self.hidden_size = attention, num_layers, hidden_size
        self.teacher_forcing = teacher_forcing
        self.src_embed = nn.Embedding(src_vocab, embed_dim, padding_idx=PAD_ID)
        self.tgt_embed = nn.Embedding(tgt_vocab, embed_dim, padding_idx=PAD_ID)
        self.drop = nn.Dropout(dropout)
        self.encoder = make_encoder(encoder, embed_dim, hidden_size, num_layers, dropout, causal=False)
        enc_dim = self.encoder.output_size
        self.bridge_h = nn.Linear(enc_dim, hidden_size)
        self.bridge_c = nn.Linear(enc_dim, hidden_size)
        out_dim = embed_dim if tie_embeddings else hidden_size
        if attention == "bahdanau":
            self.attn = AdditiveAttention(hidden_size, enc_dim, hidden_size)
            feed = enc_dim
        elif attention in ("dot", "general"):
            self.attn = LuongAttention(hidden_size, enc_dim, attention)
            feed = out_dim if input_feed else 0
        else:
            self.attn, feed = None, 0
        self.input_feed = feed > 0 and attention != "bahdanau"
        self.feed_dim = feed
        self.decoder = LSTM(embed_dim + feed, hidden_size, num_layers=num_layers,
                            dropout=dropout if num_layers > 1 else 0.0, batch_first=True)
        self.combine = nn.Linear(hidden_size + (enc_dim if self.attn is not None else 0), out_dim)
        self.out = TiedOutput(self.tgt_embed) if tie_embeddings else nn.Linear(out_dim, tgt_vocab)

    # -- encoding ------------------------------------------------------------------------------
    def encode(self, src: Tensor, src_len: Tensor) -> tuple[Memory, tuple[Tensor, Tensor, Tensor]]:
        """Memory for attention and the decoder's first state ``(h [L, B, H], c [L, B, H], feed [B, F])``."""
        x = self.drop(self.src_embed(src))                                      # [B, S, E_in]
        out, state = self.encoder(x, None, src_len)                             # [B, S, E]
        steps = out.shape[1]
        mask = torch.arange(steps, device=src.device)[None] < src_len.to(src.device)[:, None]   # [B, S]
        h, c = self._final_states(out, state, mask)
        h0, c0 = torch.tanh(self.bridge_h(h)), self.bridge_c(c)                 # [L, B, H]
        prepared = self.attn.prepare(out) if self.attn is not None else None
        feed = out.new_zeros(out.shape[0], self.feed_dim)
        return Memory(out, prepared, mask), (h0.contiguous(), c0.contiguous(), feed)

    def _final_states(self, out: Tensor, state, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Per decoder layer ``[L, B, E]``: the encoder's last (h, c) of each layer, directions
        concatenated; encoders without a matching state hand over the masked mean of ``out``."""
        L, B, E = self.num_layers, out.shape[0], out.shape[2]
        if isinstance(state, tuple) and len(state) == 2:
            h, c = state
        else:
            h = c = state
        if isinstance(h, Tensor) and h.dim() == 3 and h.shape[0] * h.shape[2] == L * E:
            dirs = h.shape[0] // L
            def join(s):
                return s.view(L, dirs, B, -1).permute(0, 2, 1, 3).reshape(L, B, E)
            return join(h), join(c)
        mean = (out * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)   # [B, E]
        mean = mean[None].expand(L, B, E)
        return mean, mean

    # -- one decoder step ---------------------------------------------------------------------
    def step(self, y_prev: Tensor, state, memory: Memory):
        """``y_prev [B]`` -> ``(logits [B, V], state, attention weights [B, S] or None)``."""
        h, c, feed = state
        emb = self.drop(self.tgt_embed(y_prev))                                 # [B, E_in]
        weights = None
        if self.attention_kind == "bahdanau":
            feed, weights = self.attn(h[-1], memory.out, memory.prepared, memory.mask)
        x = torch.cat([emb, feed], dim=-1) if self.feed_dim else emb
        top, (h, c) = self.decoder(x[:, None], (h, c))                          # [B, 1, H]
        top = top[:, 0]
        if self.attention_kind == "bahdanau":
            ctx = feed
        elif self.attn is not None:
            ctx, weights = self.attn(top, memory.out, memory.prepared, memory.mask)
        att = torch.tanh(self.combine(torch.cat([top, ctx], -1) if self.attn is not None else top))
        logits = self.out(self.drop(att))
        if self.input_feed:
            feed = att
        return logits, (h, c, feed), weights

    def forward(self, src: Tensor, src_len: Tensor, tgt_in: Tensor) -> Tensor:
        memory, state = self.encode(src, src_len)
        steps = tgt_in.shape[1]
        sample = self.training and self.teacher_forcing < 1.0
        y, outs = tgt_in[:, 0], []
        for t in range(steps):
            logits, state, _ = self.step(y, state, memory)
            outs.append(logits)
            if t + 1 < steps:
                y = tgt_in[:, t + 1]
                if sample:
                    own = logits.detach().argmax(-1)
                    use_own = torch.rand(y.shape, device=y.device) >= self.teacher_forcing
                    y = torch.where(use_own & (y != PAD_ID), own, y)
        return torch.stack(outs, 1)                                             # [B, T, V]

    @staticmethod
    def reorder(state, idx: Tensor):
        h, c, feed = state
        return h[:, idx], c[:, idx], feed[idx]


def sequence_loss(label_smoothing: float = 0.0):
    """Token-level cross-entropy over ``logits [B, T, V]`` and ``target [B, T]``, padding ignored.

    Its ``batch_weight(target)``, the batch's target tokens, is what a batch weighs in the trainer's
    validation loss: the mean over every held-out token, as the loss takes it, whatever the batches
    (weighed by sentences, a batch of short ones counted as much per sentence as one of long ones)."""
    def loss(logits: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=PAD_ID,
                               label_smoothing=label_smoothing)
    loss.batch_weight = lambda target: float((target != PAD_ID).sum())     # type: ignore[attr-defined]
    return loss


def start_tokens(batch: int, device=None) -> Tensor:
    return torch.full((batch,), BOS_ID, dtype=torch.long, device=device)


# -- decoding --------------------------------------------------------------------------------------
@dataclass
class Hypothesis:
    ids: list[int]                  # output tokens, <eos> included when produced
    score: float                    # sum of log-probabilities of ``ids``
    attention: Tensor | None = None  # [len(ids), S] weights, or None without attention
    cut: bool = False               # stopped at the absolute bound ``max_steps`` without <eos>


def max_lengths(src_len: Tensor, ratio: float, max_steps: int | None = None) -> Tensor:
    """Each sentence's most output tokens: ``ceil(ratio * length) + 2``, at most ``max_steps``."""
    limit = torch.ceil(src_len.double() * ratio).long() + 2
    return limit if max_steps is None else limit.clamp(max=max_steps)


def _cut(ids: list[int], src_len: int, ratio: float, max_steps: int | None) -> bool:
    """Whether ``ids`` stopped at ``max_steps`` (below the ratio's own limit) without ``<eos>``."""
    return (max_steps is not None and len(ids) >= max_steps and (not ids or ids[-1] != EOS_ID)
            and math.ceil(src_len * ratio) + 2 > max_steps)


def length_penalty(length: Tensor | int, alpha: float):
    return ((5.0 + length) / 6.0) ** alpha


@torch.no_grad()
def greedy_search(model: Seq2Seq, src: Tensor, src_len: Tensor, max_len_ratio: float = 2.0,
                  max_steps: int | None = None) -> list[Hypothesis]:
    """The most probable next token at every step, for the whole batch at once."""
    model.eval()
    B = src.shape[0]
    memory, state = model.encode(src, src_len)
    limit = max_lengths(src_len, max_len_ratio, max_steps).to(src.device)        # [B]
    y = start_tokens(B, src.device)
    done = torch.zeros(B, dtype=torch.bool, device=src.device)
    steps, scores, attn = [], torch.zeros(B, device=src.device), []
    for t in range(int(limit.max())):
        logits, state, weights = model.step(y, state, memory)
        logp = torch.log_softmax(logits.float(), dim=-1)
        best, y = logp.max(-1)
        scores = scores + torch.where(done, torch.zeros_like(best), best)
        y = torch.where(done, torch.full_like(y, PAD_ID), y)
        steps.append(y)
        if weights is not None:
            attn.append(weights)
        done = done | (y == EOS_ID) | (t + 1 >= limit)
        if bool(done.all()):
            break
    tokens = torch.stack(steps, 1)                                              # [B, T]
    out = []
    for b in range(B):
        ids = [i for i in tokens[b].tolist()]
        n = ids.index(EOS_ID) + 1 if EOS_ID in ids else min(len(ids), int(limit[b]))
        a = torch.stack([w[b] for w in attn[:n]]).cpu() if attn else None
        out.append(Hypothesis(ids[:n], float(scores[b]), a,
                              _cut(ids[:n], int(src_len[b]), max_len_ratio, max_steps)))
    return out


@torch.no_grad()
def beam_search(model: Seq2Seq, src: Tensor, src_len: Tensor, beam: int = 5, alpha: float = 1.0,
                max_len_ratio: float = 2.0, max_steps: int | None = None) -> list[Hypothesis]:
    """The best hypothesis for each sentence of ``src [B, S]`` (lengths ``src_len [B]``).

    One decoder call per step for the whole batch (``B * beam`` rows); each step keeps only the
    new tokens and back-pointers (the row each hypothesis extends), and the winners are traced
    back at the end, so a step costs the same at any length.

    The winner is the best by ``score / length_penalty(len(ids), alpha)`` of every hypothesis that
    ended during the search (``<eos>`` or its length limit), kept aside as it ends: those the beam held
    and the ``<eos>`` endings of its rows that the step's ``beam`` best prefixes cut (a beam of 2 cut
    "b <eos>", -1.66, for "a a" and "a c", -0.92 each, which then ended at -2.30), and the greedy path's
    (one more row a sentence, beyond ``beam`` 1: a beam can drop it for prefixes that end worse, and
    ``--beam 2`` wrote a translation the model scores below ``--beam 1``'s). So a wider beam never
    answers worse than greedy."""
    model.eval()
    B, K, dev = src.shape[0], beam, src.device
    R = K + 1 if K > 1 else K                                                 # rows per sentence: the beam's, the greedy's
    memory, state = model.encode(src, src_len)
    limit = max_lengths(src_len, max_len_ratio, max_steps).to(dev).repeat_interleave(R)   # [B*R]
    if K > 1:
        _check_beam_fits(model, memory, B, K, int(limit.max()), dev)
        rows = torch.arange(B, device=dev).repeat_interleave(R)            # [B*R] sentence of each row
        memory, state = memory.select(rows), model.reorder(state, rows)
    scores = torch.full((B, R), float("-inf"), device=dev)
    scores[:, 0] = 0.0                                                        # one live start per sentence
    scores[:, K:] = 0.0                                                       # and the greedy row's
    finished = torch.zeros(B * R, dtype=torch.bool, device=dev)
    lengths = torch.zeros(B * R, dtype=torch.long, device=dev)
    first = torch.arange(B, device=dev) * R                                   # [B] each sentence's first row
    tokens: list[Tensor] = []                   # per step: the token each row ends with
    origins: list[Tensor | None] = []          # per step: the row it extended (None: the same row, beam 1)
    attn: list[Tensor] = []                     # per step: the attention rows, before reordering
    y, padded = start_tokens(B * R, dev), None
    # every hypothesis that ends is weighed at the end, not only those the beam still holds: a beam keeps
    # an ended row only while its sum stays among the ``beam`` best, and lost ones the live rows then fell below
    ended: list[Tensor] = []                    # per step: each row's score where it ended at this step, else -inf
    ended_len: list[Tensor] = []                # per step: each row's length
    cut: list[Tensor] = []                      # per step [B, K]: each beam row's score were it to end with <eos> now
    cut_len: list[Tensor] = []                  # per step [B, K]: the length before that <eos>
    for t in range(int(limit.max())):
        logits, state, weights = model.step(y, state, memory)
        logp = torch.log_softmax(logits.float(), dim=-1)                      # [B*R, V]
        V = logp.shape[-1]
        if padded is None:          # finished rows (and rows at their length limit) continue with padding at no cost
            padded = torch.full((V,), float("-inf"), device=dev)
            padded[PAD_ID] = 0.0
        logp = torch.where(finished[:, None], padded, logp)
        if K > 1:
            logp = logp.view(B, R, V)
            cut.append(scores[:, :K] + logp[:, :K, EOS_ID])
            cut_len.append(lengths.view(B, R)[:, :K])
            cand = (scores[:, :K, None] + logp[:, :K]).view(B, K * V)
            top, flat = cand.topk(K, dim=-1)                                  # [B, K]
            step_best, step_tok = logp[:, K].max(-1)                          # [B] the greedy row's next token
            scores = torch.cat([top, scores[:, K:] + step_best[:, None]], 1)  # [B, R]
            origin = (torch.cat([flat // V, torch.full_like(flat[:, :1], K)], 1) + first[:, None]).view(-1)
            tok = torch.cat([flat % V, step_tok[:, None]], 1).view(-1)       # [B*R]
            state = model.reorder(state, origin)
            finished, lengths = finished[origin], lengths[origin]
        else:                                                                 # one row per sentence: no reordering
            step_best, tok = logp.max(-1)                                     # greedy_search's own rule
            scores, origin = scores + step_best.view(B, 1), None
        tokens.append(tok)
        origins.append(origin)
        if weights is not None:
            attn.append(weights)
        lengths = lengths + (~finished).long()
        was, finished = finished, finished | (tok == EOS_ID) | (lengths >= limit)
        ended.append(torch.where(finished & ~was, scores.view(-1), float("-inf")))
        ended_len.append(lengths)
        y = tok
        if bool(finished.all()):
            break
    T = len(tokens)
    raw = [torch.stack(ended).view(T, B, R)]                                  # [T, B, R]
    size = [torch.stack(ended_len).view(T, B, R)]
    if cut:
        raw.append(torch.stack(cut))                                          # [T, B, K]
        size.append(torch.stack(cut_len) + 1)
    raw_bt = torch.cat(raw, -1).permute(1, 0, 2).reshape(B, -1)               # [B, T * W]: step, then kept rows, then cut
    size_bt = torch.cat(size, -1).permute(1, 0, 2).reshape(B, -1)
    norm = raw_bt / length_penalty(size_bt.double(), alpha).to(raw_bt)
    pick = norm.argmax(-1)                                                    # [B] ties: the earliest, kept before cut
    W = raw_bt.shape[1] // T
    step, col = pick // W, pick % W
    best_eos = col >= R                                                       # an <eos> the beam cut: the row's tokens, then it
    best_step = torch.where(best_eos, step - 1, step)
    best_row = torch.where(best_eos, col - R, col) + first
    best_score = raw_bt.gather(1, pick[:, None])[:, 0]
    best_len = size_bt.gather(1, pick[:, None])[:, 0]
    none = ~torch.isfinite(norm.gather(1, pick[:, None])[:, 0])              # nothing finite ended (a broken model):
    best_eos = best_eos & ~none                                               # the first row, as it stands at the end
    best_step = torch.where(none, T - 1, best_step)
    best_row = torch.where(none, first, best_row)
    best_len = torch.where(none, lengths[first], best_len)
    ids, att, rows = [], [], best_row
    for t in reversed(range(len(tokens))):                                    # trace the winners back from where each ended
        on = t <= best_step                                                   # [B]
        ids.append(tokens[t][rows])
        before = rows if origins[t] is None else origins[t][rows]
        if attn:
            att.append(attn[t][before])
        rows = torch.where(on, before, rows)
    ids_bt = torch.stack(ids[::-1], 1).tolist()                               # [B][T]
    att_bt = torch.stack(att[::-1], 1).cpu() if attn else None                # [B, T, S]
    out = []
    for b, (n, s, cut_eos) in enumerate(zip(best_len.tolist(), best_score.tolist(), best_eos.tolist())):
        ids_b, att_b = ids_bt[b][:n], att_bt[b, :n] if att_bt is not None else None
        if cut_eos:                 # the <eos> step's attention: the row's own, before the beam moved on
            step, row = int(best_step[b]) + 1, int(best_row[b])
            ids_b = ids_bt[b][:n - 1] + [EOS_ID]
            if att_b is not None:
                att_b = torch.cat([att_bt[b, :n - 1], attn[step][row][None].cpu()])
        out.append(Hypothesis(ids_b, s if math.isfinite(s) else float("-inf"), att_b,
                              _cut(ids_b, int(src_len[b]), max_len_ratio, max_steps)))
    return out


def _check_beam_fits(model: nn.Module, memory: Memory, B: int, K: int, steps: int, dev: torch.device) -> None:
    """Refuse a beam whose ``B * (K + 1)`` rows (each sentence's beam and greedy row) would not fit
    ``dev``'s memory, before they are made: each row holds its sentence's encoder memory, the step's
    logits three times over (logits, log-probabilities, candidates) and an attention row a step.
    ``--beam 100000`` on 45 short pairs (20 words) took 3.5 GB; on a real vocabulary, ~6 GB a
    sentence a step."""
    from lstmkit.memory import memory_limit, size_text
    parts = (memory.out, memory.prepared, memory.mask)
    sentence = sum(t.nbytes for t in parts if t is not None) // max(B, 1)
    out = getattr(model, "out", None)
    vocab = getattr(out, "out_features", None) or getattr(getattr(model, "tgt_embed", None), "num_embeddings", 0)
    row = sentence + 12 * vocab + steps * (4 * memory.out.shape[1] + 16)
    total, _, where = memory_limit(dev)
    if B * (K + 1) * row > total:                                             # the beam's rows and the greedy one
        most = max(1, int(total // (B * row)) - 1)
        raise LstmkitError(f"a beam of {K:,} needs about {size_text(B * (K + 1) * row)} for {B} sentence(s) at once, more "
                           f"than the {size_text(total)} of {where}",
                           f"pass {opt('beam', min(most, 50))} (5 to 10 is usual; wider beams rarely translate better)")


def check_beam_before(model: nn.Module, seqs: Sequence[Tensor], batch_size: int, beam: int, max_len_ratio: float,
                      max_steps: int | None) -> None:
    """Refuse ``beam`` for ``seqs`` (source ids or features) before a search: :func:`beam_search`'s own
    check (:func:`_check_beam_fits`) on the batch :func:`decode_batches` would make of the longest
    ``batch_size`` of them, encoded by ``model`` (on its device, in eval mode; its mode is given back).
    Training calls it before its first epoch: ``translate train --beam 100000`` was refused only
    after training, when the validation part was searched with it."""
    if beam <= 1 or not seqs:
        return
    longest = sorted(seqs, key=len, reverse=True)[:batch_size]
    src, src_len = pad_batch(longest, PAD_ID)
    dev = next(model.parameters()).device
    was = model.training
    try:
        with torch.no_grad():
            memory, _ = model.eval().encode(src.to(dev), src_len.to(dev))
    finally:
        model.train(was)
    _check_beam_fits(model, memory, len(longest), beam, int(max_lengths(src_len, max_len_ratio, max_steps).max()), dev)


def decode_workers(net: nn.Module, n: int, batch_size: int, least: int = 16) -> tuple[int, int]:
    """``(workers, batch size)`` to decode ``n`` sequences with ``net`` in batches of at most
    ``batch_size``.

    A model that declares ``workers`` above 1 (:class:`~lstmkit.deploy.seq2seq.OnnxSeq2Seq`, whose
    sessions run one intra-op thread each, on the calling thread) decodes that many batches at once,
    one per thread: its batches are then cut to ``ceil(n / workers)`` sequences (at least ``least``)
    so that one call's sentences keep every worker busy. A decoder step is a few small matrix
    products, too small to share one call between threads, but two halves of a batch on two threads
    take about half the time. Any other model: ``(1, batch_size)``."""
    workers = min(int(getattr(net, "workers", 1) or 1), max(1, n // least))
    if workers <= 1:
        return 1, batch_size
    return workers, max(least, min(batch_size, -(-n // workers)))


def decode_batches(net: nn.Module, seqs: Sequence[Tensor], batch_size: int, beam: int, alpha: float,
                   max_len_ratio: float, max_steps: int | None) -> tuple[list[int], Iterator[tuple[Tensor, Any]]]:
    """Beam search over ``seqs`` (source ids or features, one tensor each) in length-bucketed batches
    of at most ``batch_size``, on ``net``'s workers side by side (:func:`decode_workers`): ``(each
    batch's padded source steps, an iterator of (the batch's indices into seqs, its hypotheses))``, in
    batch order (what translation and speech wrap in their progress bar, the steps weighing its ETA)."""
    workers, batch_size = decode_workers(net, len(seqs), batch_size)
    batches = BucketBatches(seqs, None, batch_size, pad_value=PAD_ID)

    def decode(batch):
        idx, src, src_len = batch
        return idx, beam_search(net, src, src_len, beam, alpha, max_len_ratio, max_steps)

    return batches.padded_steps(), map_batches(decode, batches.iter_indexed(), workers)
