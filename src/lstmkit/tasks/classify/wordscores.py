"""Naive-Bayes word scores beside a text classifier's LSTM: the table, and the mix fitted after training.

    word_scores(ids, y, ...)       the log-count-ratio table (Wang & Manning 2012) from the training part
    MIX_WEIGHTS                    the (LSTM logits, word-score sum) weight pairs tried on the validation part
    fit_biases(z, y, weights)      each pair's best class bias (the table carries no class prior)
    mix_losses(z, y, weights)      each pair's (class-weighted) validation log loss

``TextClassifier._after_training`` keeps the pair, with its bias, of the lowest loss.
"""
from __future__ import annotations

import torch

from lstmkit.data.vocab import PAD_ID
from lstmkit.nn.classifier import pair_rows
from lstmkit.train.progress import track

__all__ = ["word_scores", "MIX_WEIGHTS", "fit_biases", "fit_bias", "mix_losses"]

# the (recurrent logits, word-score sum) weights tried after training
MIX_WEIGHTS = tuple((round(0.1 * a, 1), round(0.05 * w, 2)) for a in range(1, 11) for w in range(41))


def mix_losses(z: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """``[G]``: the mean cross-entropy of each of ``G`` sets of logits ``z [G, N, 1 or C]`` on labels
    ``y [N]``, each example weighted by its class's weight (normalised by the weights' sum, as
    training's loss is)."""
    if z.shape[-1] == 1:
        t = y.to(z.dtype).expand(z.shape[0], -1)
        per = torch.nn.functional.binary_cross_entropy_with_logits(z[..., 0], t, reduction="none")
    else:
        per = -torch.log_softmax(z, -1).gather(-1, y.expand(z.shape[0], -1)[..., None])[..., 0]
    w = torch.ones(len(y), dtype=z.dtype) if weights is None else weights.to(z.dtype)[y]
    return (per * w).sum(-1) / w.sum()


def fit_biases(z: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None = None, steps: int = 30) -> torch.Tensor:
    """``[G, 1 or C]``: for each of ``G`` sets of logits ``z [G, N, 1 or C]``, the bias that minimises
    their (class-weighted) log loss on labels ``y`` -- a convex problem, solved by damped Newton
    steps from zero (at most ``steps``), all sets at once; kept within +-20."""
    G, _, K = z.shape
    w = (torch.ones(len(y), dtype=z.dtype) if weights is None else weights.to(z.dtype)[y]) / len(y)
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


def word_scores(ids: list[torch.Tensor], y: list[int], n_classes: int, vocab_size: int, pairs: int = 0,
                alpha: float = 1.0, progress: str = "off") -> torch.Tensor:
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
    smoothing 0.29). With classes of even totals nothing changes.

    A text at a time, shown as ``progress`` says (:func:`~lstmkit.train.progress.track`): 180,000
    texts took 36 s, the longest step before training."""
    counts = torch.zeros((n_classes, vocab_size + pairs), dtype=torch.float64)
    for seq, label in track(zip(ids, y), len(y), "counting words", progress, unit="texts"):
        rows = torch.cat([seq, pair_rows(seq, vocab_size, pairs, PAD_ID)]) if pairs else seq
        counts[label, torch.unique(rows)] += 1
    total = counts.sum(dim=1, keepdim=True)
    counts += float(alpha) * (total / total.mean() if total.min() > 0 else 1.0)
    logp = torch.log(counts / counts.sum(dim=1, keepdim=True))
    table = (logp[1] - logp[0])[:, None] if n_classes == 2 else (logp - logp.mean(dim=0)).T
    table[PAD_ID] = 0.0
    return table.float()
