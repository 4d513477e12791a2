"""Recognition metrics and the speech plots.

    WER = (S + D + I) / N over words (jiwer: Levenshtein alignment of the word sequences,
          S substitutions, D deletions, I insertions, N reference words; corpus level)
    CER = the same over characters
    RTF = decoding seconds / audio seconds (real-time factor; < 1 is faster than real time)

Classification mode reports accuracy and the confusion matrix through
:func:`lstmkit.train.metrics.classification_metrics`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = ["recognition_metrics", "format_recognition", "plot_spectrogram", "plot_ctc_posteriors"]


def recognition_metrics(refs: Sequence[str], hyps: Sequence[str]) -> dict[str, Any]:
    """Corpus WER and CER with their error counts, and the share of exactly right utterances."""
    import jiwer
    if len(refs) != len(hyps):
        raise ValueError(f"Expected as many hypotheses as references, got {len(hyps)} and {len(refs)}")
    if not refs:
        raise ValueError("Expected at least one utterance, got 0")
    # jiwer rejects empty references; those utterances count through their hypothesis length only
    words = jiwer.process_words(list(refs), [h if h.strip() else "" for h in hyps])
    chars = jiwer.process_characters(list(refs), list(hyps))
    return {"n": len(refs), "wer": float(words.wer), "cer": float(chars.cer),
            "word_errors": {"substitutions": words.substitutions, "deletions": words.deletions,
                            "insertions": words.insertions,
                            "reference_words": int(sum(len(r.split()) for r in refs))},
            "sentence_accuracy": float(np.mean([r.split() == h.split() for r, h in zip(refs, hyps)]))}


def format_recognition(m: dict[str, Any]) -> str:
    line = f"{m['n']} utterances: WER {m['wer']:.4f}  CER {m['cer']:.4f}  exact {m['sentence_accuracy']:.4f}"
    if "rtf" in m:
        line += f"  RTF {m['rtf']:.4f}"
    return line


def plot_spectrogram(feats: np.ndarray, path: Path, title: str, hop_ms: float) -> None:
    """Log-mel features ``[T, F]`` against time."""
    from lstmkit.inspect.plots import plt, save_figure
    fig, ax = plt.subplots(figsize=(8, 3))
    extent = (0, feats.shape[0] * hop_ms / 1000, 0, feats.shape[1])
    im = ax.imshow(feats.T, origin="lower", aspect="auto", extent=extent, cmap="magma")
    ax.set_xlabel("seconds")
    ax.set_ylabel("mel band")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.03)
    save_figure(fig, Path(path))


def plot_ctc_posteriors(log_probs: np.ndarray, tokens: Sequence[str], path: Path, title: str,
                        frame_ms: float) -> None:
    """Per-frame posteriors ``exp(log_probs [T, V])``: one line per symbol that ever exceeds 0.1."""
    from lstmkit.inspect.plots import plt, save_figure
    probs = np.exp(log_probs)
    t = np.arange(probs.shape[0]) * frame_ms / 1000
    fig, ax = plt.subplots(figsize=(8, 3))
    for k in range(probs.shape[1]):
        if probs[:, k].max() < 0.1:
            continue
        name = "blank" if k == 0 else repr(tokens[k])
        ax.plot(t, probs[:, k], lw=1.2, ls=":" if k == 0 else "-", label=name)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("seconds")
    ax.set_ylabel("P(symbol | frame)")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=6, loc="upper right")
    save_figure(fig, Path(path))
