"""Batched greedy and beam search over a :class:`~lstmkit.tasks.translate.model.Seq2Seq`.

Both return, per sentence, the token ids (without ``<bos>``, ending at ``<eos>`` when one was
produced), the sum of log-probabilities (the model's own objective) and the attention rows.
A sentence of source length n may produce at most ``ceil(max_len_ratio * n) + 2`` tokens.

Beam search keeps ``beam`` hypotheses per sentence; a finished hypothesis keeps its score and
only extends with padding. The winner maximises ``score / lp`` with the GNMT length penalty
``lp = ((5 + len) / 6) ** alpha`` (``alpha = 0``: the plain sum). With ``beam = 1`` it is greedy
search exactly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from lstmkit.tasks.translate.data import EOS_ID, PAD_ID
from lstmkit.tasks.translate.model import Seq2Seq, start_tokens

__all__ = ["Hypothesis", "greedy_search", "beam_search", "max_lengths", "length_penalty"]


@dataclass
class Hypothesis:
    ids: list[int]                  # output tokens, <eos> included when produced
    score: float                    # sum of log-probabilities of ``ids``
    attention: Tensor | None = None  # [len(ids), S] weights, or None without attention


def max_lengths(src_len: Tensor, ratio: float) -> Tensor:
    return torch.ceil(src_len.double() * ratio).long() + 2


def length_penalty(length: Tensor | int, alpha: float):
    return ((5.0 + length) / 6.0) ** alpha


@torch.no_grad()
def greedy_search(model: Seq2Seq, src: Tensor, src_len: Tensor, max_len_ratio: float = 2.0) -> list[Hypothesis]:
    """The most probable next token at every step, for the whole batch at once."""
    model.eval()
    B = src.shape[0]
    memory, state = model.encode(src, src_len)
    limit = max_lengths(src_len, max_len_ratio).to(src.device)                   # [B]
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
        out.append(Hypothesis(ids[:n], float(scores[b]), a))
    return out


@torch.no_grad()
def beam_search(model: Seq2Seq, src: Tensor, src_len: Tensor, beam: int = 5, alpha: float = 1.0,
                max_len_ratio: float = 2.0) -> list[Hypothesis]:
    """The best hypothesis for each sentence of ``src [B, S]`` (lengths ``src_len [B]``)."""
    model.eval()
    B, K = src.shape[0], beam
    memory, state = model.encode(src, src_len)
    rows = torch.arange(B, device=src.device).repeat_interleave(K)            # [B*K] sentence of each row
    memory, state = memory.select(rows), model.reorder(state, rows)
    limit = max_lengths(src_len, max_len_ratio).to(src.device).repeat_interleave(K)   # [B*K]
    scores = torch.full((B, K), float("-inf"), device=src.device)
    scores[:, 0] = 0.0                                                        # one live start per sentence
    finished = torch.zeros(B * K, dtype=torch.bool, device=src.device)
    lengths = torch.zeros(B * K, dtype=torch.long, device=src.device)
    tokens = torch.empty(B * K, 0, dtype=torch.long, device=src.device)
    attn: list[Tensor] = []
    y = start_tokens(B * K, src.device)
    for t in range(int(limit.max())):
        logits, state, weights = model.step(y, state, memory)
        logp = torch.log_softmax(logits.float(), dim=-1)                      # [B*K, V]
        # finished rows (and rows at their length limit) continue with padding at no cost
        logp[finished] = float("-inf")
        logp[finished, PAD_ID] = 0.0
        V = logp.shape[-1]
        cand = (scores.view(-1, 1) + logp).view(B, K * V)
        top, flat = cand.topk(K, dim=-1)                                      # [B, K]
        origin = (flat // V) + torch.arange(B, device=src.device)[:, None] * K  # [B, K] row it extends
        origin, tok = origin.view(-1), (flat % V).view(-1)
        scores = top
        state = model.reorder(state, origin)
        finished, lengths, tokens = finished[origin], lengths[origin], tokens[origin]
        tokens = torch.cat([tokens, tok[:, None]], 1)
        lengths = lengths + (~finished).long()
        attn = [a[origin] for a in attn]
        if weights is not None:
            attn.append(weights[origin])
        finished = finished | (tok == EOS_ID) | (lengths >= limit)
        y = tok
        if bool(finished.all()):
            break
    norm = scores.view(-1) / length_penalty(lengths.double(), alpha).to(scores)
    best = norm.view(B, K).argmax(-1) + torch.arange(B, device=src.device) * K
    out = []
    for b, row in enumerate(best.tolist()):
        n = int(lengths[row])
        ids = tokens[row, :n].tolist()
        a = torch.stack([w[row] for w in attn[:n]]).cpu() if attn else None
        s = float(scores.view(-1)[row])
        out.append(Hypothesis(ids, s if math.isfinite(s) else float("-inf"), a))
    return out
