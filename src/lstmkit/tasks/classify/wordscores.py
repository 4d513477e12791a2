"""Naive-Bayes word scores beside a text classifier's LSTM: the table, and the mix fitted after training.

    word_scores(ids, y, ...)       the log-count-ratio table (Wang & Manning 2012) from the training part
    texts_holding(ids, y, ...)     its counts: the texts of each class that hold each word and word pair
    MIX_WEIGHTS                    the (LSTM logits, word-score sum) weight pairs tried on the validation part
    fit_biases(z, y, weights)      each pair's best class bias (the table carries no class prior)

``TextClassifier._after_training`` keeps the pair, with its bias, of the lowest loss.
"""
from __future__ import annotations

import numpy as np
import torch

from lstmkit.data.batching import Ragged
from lstmkit.data.vocab import PAD_ID
from lstmkit.nn.classifier import pair_rows
from lstmkit.train.calibration import example_weights

__all__ = ["word_scores", "MIX_WEIGHTS", "fit_biases", "fit_bias", "texts_holding"]

BLOCK_IDS = 1 << 20      # ids counted at a time (whole texts): the keys held stay under ~100 MB

# the (recurrent logits, word-score sum) weights tried after training
MIX_WEIGHTS = tuple((round(0.1 * a, 1), round(0.05 * w, 2)) for a in range(1, 11) for w in range(41))


def fit_biases(z: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None = None, steps: int = 30,
               rows: torch.Tensor | None = None) -> torch.Tensor:
    """``[G, 1 or C]``: for each of ``G`` sets of logits ``z [G, N, 1 or C]``, the bias that minimises
    their (class-weighted) log loss on labels ``y`` -- a convex problem, solved by damped Newton
    steps from zero (at most ``steps``), all sets at once; kept within +-20. ``rows [N]``: each
    example's own weight (the validation part's sample weights), times its class's."""
    G, _, K = z.shape
    w = example_weights(z, y, weights, rows) / len(y)
    bias = torch.zeros(G, K, dtype=z.dtype)
    target = (y.to(z.dtype)[:, None] if K == 1 else torch.nn.functional.one_hot(y, K).to(z.dtype))   # [N, K]
    for _ in range(steps):
        u = z + bias[:, None, :]
        p = torch.sigmoid(u) if K == 1 else torch.softmax(u, -1)                                    # [G, N, K]
        grad = ((p - target) * w[:, None]).sum(1)                                                     # [G, K]
        if K == 1:
            step = grad / ((p * (1 - p))[..., 0] * w).sum(1, keepdim=True).clamp_min(1e-9)
        else:
            pw = p * w[:, None]
            hess = torch.diag_embed(pw.sum(1)) - torch.einsum("gni,gnj->gij", pw, p)
            step = torch.linalg.solve(hess + 1e-6 * torch.eye(K, dtype=z.dtype), grad[..., None])[..., 0]
        bias = (bias - step.clamp(-5.0, 5.0)).clamp(-20.0, 20.0)
        if step.abs().max() < 1e-9:                       # Newton's steps: converged in a handful
            break
    return bias


def fit_bias(logits: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """The bias ``[1 or C]`` added to ``logits [N, 1 or C]`` that minimises their (class-weighted)
    log loss on labels ``y`` (:func:`fit_biases` for one set)."""
    return fit_biases(logits.detach().double()[None], y, weights)[0].to(logits.dtype)


def word_scores(ids: Ragged | list[torch.Tensor], y: list[int], n_classes: int, vocab_size: int, pairs: int = 0,
                alpha: float = 1.0) -> torch.Tensor:
    """Naive-Bayes log-count ratios ``[V + pairs, 1]`` for two classes (``log p(w|1) - log p(w|0)``),
    else ``[V + pairs, C]`` (``log p(w|c)`` less its mean over the classes), from the number of texts
    of each class holding each word, and each neighbouring word pair in its hashed row
    (:func:`~lstmkit.nn.classifier.pair_rows`) (binarised counts, add-``alpha`` smoothing; Wang &
    Manning 2012). ``<pad>`` scores 0.

    Each class's smoothing is ``alpha`` times its count total over the classes' mean, so a word no
    text holds scores 0 whatever the class sizes. With an even ``alpha`` the smoothing mass (``alpha``
    per row, over 2^18 pair rows) swamps a small class's counts: on MR with the negatives cut to a
    tenth, every word leaned +0.39 toward the small class, the sum grew with the text's length, and
    the scores fitted worse than the class prior (log loss 0.35 against its 0.32; with this
    smoothing 0.29). With classes of even totals nothing changes."""
    counts = texts_holding(ids, y, n_classes, vocab_size, pairs).double()
    total = counts.sum(dim=1, keepdim=True)
    counts += float(alpha) * (total / total.mean() if total.min() > 0 else 1.0)
    logp = torch.log(counts / counts.sum(dim=1, keepdim=True))
    table = (logp[1] - logp[0])[:, None] if n_classes == 2 else (logp - logp.mean(dim=0)).T
    table[PAD_ID] = 0.0
    return table.float()


def texts_holding(ids: Ragged | list[torch.Tensor], y: list[int], n_classes: int, vocab_size: int,
                  pairs: int = 0, block: int = BLOCK_IDS) -> torch.Tensor:
    """``[C, V + pairs]`` int64: how many texts of each class hold each word id, and each
    neighbouring pair's hashed row (:func:`~lstmkit.nn.classifier.pair_rows`; none across two texts).

    Counted for blocks of whole texts of about ``block`` ids each: every (text, row) key once (one
    sort), then one ``bincount`` over (class, row). A loop per text took 21-31 s on 200,000
    generated texts (6.3 M words, 1 thread, a loaded machine); this takes 2.5 s, with no loop
    long enough to want a progress display."""
    values, lengths = (ids.values, ids.lengths) if isinstance(ids, Ragged) else _end_to_end(ids)
    rows = vocab_size + pairs
    labels = torch.as_tensor(y, dtype=torch.long)
    counts = torch.zeros(n_classes * rows, dtype=torch.long)
    ends = torch.cumsum(lengths, 0)                                                  # [N]
    total = int(ends[-1]) if len(ends) else 0
    cuts = torch.searchsorted(ends, torch.arange(block, max(total, block), block), right=True)
    bounds = [0, *torch.unique(cuts).tolist(), len(lengths)]
    for a, b in zip(bounds[:-1], bounds[1:]):
        if a == b:
            continue
        first = int(ends[a] - lengths[a])
        seq = values[first:int(ends[b - 1])]                                          # [M] texts a..b-1
        text = torch.repeat_interleave(torch.arange(a, b), lengths[a:b])              # [M] each id's text
        if pairs:
            same = text[1:] == text[:-1]                                              # [M-1] neighbours in one text
            seq = torch.cat([seq, pair_rows(seq, vocab_size, pairs, PAD_ID)[same]])
            text = torch.cat([text, text[1:][same]])
        keys = _distinct((text - a) * rows + seq)                                     # each (text, row) once
        counts += torch.bincount(labels[keys // rows + a] * rows + keys % rows, minlength=len(counts))
    return counts.view(n_classes, rows)


def _distinct(keys: torch.Tensor) -> torch.Tensor:
    """The distinct values of ``keys``, ascending: ``torch.unique``'s answer, from numpy's sort (on
    8 M keys, 1 thread: 0.36 s against torch.unique's 2.1 s and np.unique's 17 s)."""
    s = np.sort(keys.numpy())
    first = np.ones(len(s), dtype=bool)
    first[1:] = s[1:] != s[:-1]
    return torch.from_numpy(s[first])


def _end_to_end(ids: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(s) for s in ids], dtype=torch.long)
    return (torch.cat(list(ids)) if ids else torch.zeros(0, dtype=torch.long)), lengths
