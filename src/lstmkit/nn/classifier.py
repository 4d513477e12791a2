"""A sequence classifier (text, numeric sequences, speech frames) and its loss, in the order the data
flows::

    tokens [B, T] ──► Embedding (+ dropout) ─┐
                                             ├─► zoo encoder ──► pooling ──► dropout ──► Linear ──► logits
    values [B, T, F] ──► Linear (+ dropout) ─┘    (lengths)      last | max | mean | max-mean | concat | attention

``word_dropout`` (tokens only) drops whole embedding vectors while training: the classifier
must not lean on any single word. ``word_scores`` (tokens only) adds a fixed score table
``[V + score_pairs, out]`` (naive-Bayes log-count ratios of words and of hashed neighbouring word
pairs, filled by the task from its training part), summed over the text's words and pairs, to the logits, mixed by the weights ``mix`` = (recurrent logits,
word scores) (a buffer the task sets after training; (1, 0) while training): a bag-of-words linear model beside the recurrent one (Wang & Manning
2012), which small text sets need. ``concat`` is ULMFiT's concat pooling: the last state, the max and the mean side by side.

Every stage is told the ``lengths``: the recurrent encoders pack the batch, and pooling ignores
padded positions, so a padded batch gives the logits each sequence would get alone.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.errors import LstmkitError
from lstmkit.nn.blocks import valid_mask, widened
from lstmkit.nn.zoo import make_encoder

__all__ = ["POOLINGS", "PAIR_PRIME", "pair_rows", "ClassifierNet", "AttentionPooling", "ClassificationLoss",
           "weighted_targets"]

POOLINGS = ("last", "max", "mean", "max-mean", "concat", "attention")


class AttentionPooling(nn.Module):
    """Additive attention pooling: ``a_t = softmax_t(v · tanh(W h_t + b))``, ``s = Σ_t a_t h_t``.

    Inputs ``h [B, T, D]`` and ``mask [B, T]``; outputs ``s [B, D]`` and weights ``a [B, T]``
    (zero at padded positions, each row sums to 1).
    """

    def __init__(self, dim: int, attn_dim: int | None = None):
        super().__init__()
        self.proj = nn.Linear(dim, attn_dim or dim)
        self.score = nn.Linear(attn_dim or dim, 1, bias=False)

    def forward(self, h: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        scores = self.score(torch.tanh(self.proj(h))).squeeze(-1)          # [B, T]
        # float32 under bf16 autocast, as CUDA's autocast takes a softmax
        weights = torch.softmax(widened(scores).masked_fill(~mask, float("-inf")), dim=1)
        return torch.bmm(weights.unsqueeze(1), h).squeeze(1), weights       # [B, D], [B, T]


PAIR_PRIME = 1000003


def pair_rows(x: Tensor, vocab_size: int, buckets: int, pad_id: int = 0) -> Tensor:
    """``[..., T-1]``: each pair of neighbouring token ids hashed into one of ``buckets`` rows after
    the vocabulary's (``vocab_size + (a * PAIR_PRIME + b) % buckets``); a pair with padding in it
    -> ``pad_id`` (whose row scores nothing)."""
    pair = (x[..., :-1] * PAIR_PRIME + x[..., 1:]) % buckets + vocab_size
    return pair.masked_fill((x[..., :-1] == pad_id) | (x[..., 1:] == pad_id), pad_id)


class ClassifierNet(nn.Module):
    """Sequence classifier over token ids (``vocab_size`` given) or feature vectors (``n_features``).

    Inputs: ``x`` — ``[B, T]`` long token ids, or ``[B, T, F]`` floats; ``lengths`` — ``[B]``
    valid lengths (all ``T`` when omitted).
    Output: logits ``[B]`` for two classes (sigmoid / BCE), else ``[B, C]`` (softmax / CE).
    """

    def __init__(self, n_classes: int, *, vocab_size: int | None = None, n_features: int | None = None,
                 embed_dim: int = 128, encoder: str = "bilstm", hidden_size: int = 128, num_layers: int = 1,
                 dropout: float = 0.3, pooling: str = "max", pad_id: int = 0, word_dropout: float = 0.0,
                 word_scores: bool = False, score_pairs: int = 0):
        super().__init__()
        if (vocab_size is None) == (n_features is None):
            raise ValueError("pass exactly one of vocab_size (text) or n_features (numeric)")
        if pooling not in POOLINGS:
            raise LstmkitError(f"unknown pooling {pooling!r}", f"use one of: {', '.join(POOLINGS)}")
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        self.n_classes, self.pooling = n_classes, pooling
        if vocab_size is not None:
            self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        else:
            self.embedding = nn.Linear(n_features, embed_dim)
        self.embed_dropout = nn.Dropout(dropout)
        self.word_dropout = word_dropout              # tokens: whole embedding vectors dropped while training
        self.encoder = make_encoder(encoder, embed_dim, hidden_size, num_layers, dropout, causal=False)
        dim = self.encoder.output_size
        self.attention = AttentionPooling(dim) if pooling == "attention" else None
        self.dropout = nn.Dropout(dropout)
        summary = {"max-mean": 2, "concat": 3}.get(pooling, 1) * dim       # parts side by side
        self.head = nn.Linear(summary, 1 if n_classes == 2 else n_classes)
        if word_scores and vocab_size is None:
            raise ValueError("word_scores needs token ids (vocab_size)")
        self.vocab_size, self.score_pairs, self.pad_id = vocab_size, (score_pairs if word_scores else 0), pad_id
        rows = (vocab_size or 0) + self.score_pairs
        self.register_buffer("word_scores", torch.zeros(rows, self.head.out_features) if word_scores else None)
        self.register_buffer("mix", torch.tensor([1.0, 0.0]) if word_scores else None)    # set by the task

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        return self.forward_with_weights(x, lengths)[0]

    def forward_with_weights(self, x: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """Logits and, for attention pooling, the weights ``[B, T]`` over positions (else None)."""
        batch, steps = x.shape[0], x.shape[1]
        if lengths is None:
            lengths = torch.full((batch,), steps, dtype=torch.long)
        lengths = lengths.to(x.device)
        e = self.embedding(x)                                              # [B, T, E]
        keep = None
        if self.training and self.word_dropout > 0 and x.dim() == 2:
            keep = torch.rand(batch, steps, 1, device=e.device) >= self.word_dropout
            e = e * keep / (1.0 - self.word_dropout)
        e = self.embed_dropout(e)
        out, _ = self.encoder(e, lengths=lengths)                          # [B, T, D]
        summary, weights = self._pool(out, lengths)                        # [B, D]
        logits = self.head(self.dropout(summary))                          # [B, 1 or C]
        if self.word_scores is not None:
            inside = valid_mask(lengths, steps)[..., None]                # [B, T, 1]: only each row's own words
            keep = inside if keep is None else keep & inside
            logits = self.mix[0] * logits + self.mix[1] * self.word_score_sum(x, keep)
        return (logits.squeeze(-1) if self.n_classes == 2 else logits), weights

    def word_score_sum(self, x: Tensor, keep: Tensor | None = None) -> Tensor:
        """``[B, 1 or C]``: the ``word_scores`` rows of the tokens of ``x [B, T]`` and of their
        neighbouring pairs (:func:`pair_rows`), summed; padding's row is zero, and words that
        ``keep [B, T, 1]`` drops (past a row's length, or word dropout) score nothing, nor do pairs
        holding one."""
        rows = self.word_scores[x]                                         # [B, T, 1 or C]
        total = (rows if keep is None else rows * keep).sum(dim=1)
        if self.score_pairs:
            pairs = self.word_scores[pair_rows(x, self.vocab_size, self.score_pairs, self.pad_id)]
            total = total + (pairs if keep is None else pairs * (keep[:, 1:] & keep[:, :-1])).sum(dim=1)
        return total

    def _pool(self, out: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor | None]:
        mask = valid_mask(lengths, out.shape[1])                      # [B, T]
        if self.pooling == "attention":
            return self.attention(out, mask)
        parts = []
        if self.pooling in ("last", "concat"):
            parts.append(self._last(out, lengths))
        if self.pooling in ("max", "max-mean", "concat"):
            parts.append(out.masked_fill(~mask[..., None], float("-inf")).amax(dim=1))
        if self.pooling in ("mean", "max-mean", "concat"):
            parts.append((out * mask[..., None]).sum(dim=1) / lengths[:, None].to(out.dtype))
        return torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0], None

    def _last(self, out: Tensor, lengths: Tensor) -> Tensor:
        last = out[torch.arange(out.shape[0], device=out.device), lengths - 1]    # [B, D]
        if getattr(self.encoder, "bidirectional", False):
            # The backward direction has read the whole sequence at position 0.
            half = out.shape[-1] // 2
            last = torch.cat([last[:, :half], out[:, 0, half:]], dim=-1)
        return last


class ClassificationLoss(nn.Module):
    """BCE on logits ``[B]`` for two classes, cross-entropy on ``[B, C]`` for more.

    ``target [B]`` holds class indices (int64), or ``target [B, 2]`` (float) class indices and each
    example's own weight (scikit-learn's ``sample_weight``: :func:`weighted_targets`).
    ``class_weights [C]`` (optional) weights each example by its class, times its own weight when
    it has one; the loss is the weighted mean in every case (a batch of weights 0 adds nothing).
    """

    def __init__(self, n_classes: int, class_weights: Tensor | None = None):
        super().__init__()
        self.n_classes = n_classes
        self.register_buffer("class_weights", class_weights if class_weights is not None else None)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        w = self.class_weights
        if target.dim() == 2:                                  # [B, 2]: class, the example's weight
            target, ew = target[:, 0].long(), target[:, 1].to(logits.dtype)
            if w is not None:
                ew = ew * w.to(logits.device)[target]
            losses = (F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype), reduction="none")
                      if self.n_classes == 2 else F.cross_entropy(logits, target, reduction="none"))
            return (losses * ew).sum() / ew.sum().clamp(min=torch.finfo(ew.dtype).tiny)
        if self.n_classes == 2:
            losses = F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype), reduction="none")
            if w is None:
                return losses.mean()
            ew = w.to(logits.device)[target]
            return (losses * ew).sum() / ew.sum()
        return F.cross_entropy(logits, target, weight=None if w is None else w.to(logits.device))

    def batch_weight(self, target: Tensor) -> float:
        """What a batch's loss weighs in a mean over several batches (the trainer's validation loss):
        its examples' total weight (each example's own weight for ``[B, 2]`` targets, times its class's
        under ``class_weights``), the mean :meth:`forward` took, so the validation loss is the weighted
        mean over all the held-out rows whatever their batches; its number of rows without weights.
        Class indices alone under ``class_weights`` weigh their classes' total: weighed by rows, the
        validation loss of a ``class_weight='balanced'`` run moved with how its rows fell into batches."""
        if target.dim() != 2:
            if self.class_weights is None:
                return float(target.shape[0])
            return float(self.class_weights.to(target.device, torch.float64)[target.long()].sum())
        ew = target[:, 1].double()
        if self.class_weights is not None:
            ew = ew * self.class_weights.to(ew.device, torch.float64)[target[:, 0].long()]
        return float(ew.sum())


def weighted_targets(target: Tensor, weights: Tensor) -> Tensor:
    """Class indices ``[N]`` with each example's weight ``[N]`` as the ``[N, 2]`` float targets
    :class:`ClassificationLoss` weighs by (batched as one tensor, as the indices alone are)."""
    return torch.stack([target.to(torch.float32), weights.to(torch.float32)], dim=1)
