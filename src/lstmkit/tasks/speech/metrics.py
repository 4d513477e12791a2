"""Recognition metrics and the speech plots.

    WER = (S + D + I) / N over words (jiwer: Levenshtein alignment of the word sequences,
          S substitutions, D deletions, I insertions, N reference words; corpus level)
    CER = the same over characters
    RTF = decoding seconds / audio seconds (real-time factor; < 1 is faster than real time)

Classification mode reports accuracy and the confusion matrix through
:func:`lstmkit.train.metrics.classification_metrics`.
"""
from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any, Sequence

import numpy as np

from lstmkit.errors import LstmkitError, callers_level, optional_import

__all__ = ["word_scorer", "recognition_metrics", "one_space", "check_references", "format_recognition", "plot_spectrogram",
           "plot_ctc_posteriors", "plot_decoder_attention"]


def one_space(text: str) -> str:
    """``text``'s words one space apart, none at either end: how every transcript the model writes
    reads (:meth:`~lstmkit.tasks.speech.data.Symbols.decode`), and so how references are scored."""
    return " ".join(w for w in text.split(" ") if w)


def word_scorer() -> ModuleType:
    """The ``jiwer`` module (word and character error rates), or a :class:`~lstmkit.errors.MissingPackage`
    naming the ``speech`` extra. A recogniser's ``fit`` asks before training: its validation WER is
    scored after the last epoch, which ended a training without jiwer with a traceback and a run
    folder left ``training``."""
    return optional_import("jiwer", "scoring transcripts (WER, CER)", "speech")


def recognition_metrics(refs: Sequence[str], hyps: Sequence[str]) -> dict[str, Any]:
    """Corpus WER and CER with their error counts, and the share of exactly right utterances.

    References and hypotheses are scored with their words one space apart (:func:`one_space`), as
    the model writes them: a reference's double space ('two  words', as transcripts typed by hand
    hold) was a character error the model could never avoid (CER 0.1 for an exact 'two words').
    ``reference_words`` is the N of the WER (jiwer's words, split at spaces) and an utterance is exact
    when it is scored without an error: a tab between a reference's words (``str.split``'s word break,
    not jiwer's) counted 4 reference words beside a WER over 3, and 'exact' for a transcript the WER
    counted two errors in."""
    jiwer = word_scorer()
    if len(refs) != len(hyps):
        raise ValueError(f"Expected as many hypotheses as references, got {len(hyps)} and {len(refs)}")
    if not refs:
        raise ValueError("Expected at least one utterance, got 0")
    refs, hyps = [one_space(r) for r in refs], [one_space(h) for h in hyps]
    # an empty reference (or hypothesis) counts through the other's length only
    words = jiwer.process_words(refs, hyps)
    chars = jiwer.process_characters(refs, hyps)
    return {"n": len(refs), "wer": float(words.wer), "cer": float(chars.cer),
            "word_errors": {"substitutions": words.substitutions, "deletions": words.deletions,
                            "insertions": words.insertions,
                            "reference_words": int(words.hits + words.substitutions + words.deletions)},
            "sentence_accuracy": float(np.mean([r == h for r, h in zip(refs, hyps)]))}


def check_references(chars: Sequence[str], paths: Sequence[str], texts: Sequence[str]) -> None:
    """References are scored as written: training keeps every character of its transcripts as it
    is (case too), so a character the model cannot write (``chars``: its alphabet) stays in the
    reference and counts as an error. One warning names those characters and how many references
    hold them; refused only when no reference holds a character the model writes (besides spaces):
    nothing would be left to score."""
    known = set(chars)
    unknown = Counter(c for t in texts for c in sorted(set(t) - known))   # ties named in one order every run
    if not unknown:
        return
    holding = [p for p, t in zip(paths, texts) if set(t) - known]
    shown = ", ".join(repr(c) for c, _ in unknown.most_common(10)) + (", ..." if len(unknown) > 10 else "")
    alphabet = f"the model writes only {''.join(chars)!r}"
    if not any(c in known and not c.isspace() for t in texts for c in t):
        raise LstmkitError(f"none of the {len(texts)} reference transcripts holds a character the model writes "
                           f"(they hold {shown}): there is nothing to score",
                           f"{alphabet}; evaluate on transcripts in its alphabet, or train on this data")
    cased = sorted({c for c in unknown if c.lower() in known or c.upper() in known})
    case = (f"; it knows {', '.join(map(repr, cased))} only in the other case: write the references in the case "
            "of its training transcripts" if cased else "")
    warnings.warn(f"{len(holding)} of {len(texts)} reference transcripts (first: {holding[0]}) hold characters the "
                  f"model cannot write: {shown}; they are scored as written, each one an error — {alphabet}{case}",
                  UserWarning, stacklevel=callers_level())


def format_recognition(m: dict[str, Any]) -> str:
    line = f"{m['n']} utterances: WER {m['wer']:.4f}  CER {m['cer']:.4f}  exact {m['sentence_accuracy']:.4f}"
    if "rtf" in m:
        line += f"  RTF {m['rtf']:.4f}"
    return line


def plot_spectrogram(feats: np.ndarray, path: Path, title: str, hop_ms: float, kind: str = "logmel") -> None:
    """Features ``[T, F]`` of ``kind`` (``logmel``, ``mfcc``) against time, the feature axis named by
    what it holds (MFCCs' read 'mel band', their cepstral coefficients named as mel bands)."""
    from lstmkit.inspect.plots import save_figure, subplots
    fig, ax = subplots(figsize=(8, 3))
    extent = (0, feats.shape[0] * hop_ms / 1000, 0, feats.shape[1])
    im = ax.imshow(feats.T, origin="lower", aspect="auto", extent=extent, cmap="magma")
    ax.set_xlabel("seconds")
    ax.set_ylabel("MFCC coefficient" if kind == "mfcc" else "mel band")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.03, label="coefficient" if kind == "mfcc" else "log mel energy")
    save_figure(fig, Path(path))


def plot_ctc_posteriors(log_probs: np.ndarray, tokens: Sequence[str], path: Path, title: str,
                        frame_ms: float) -> None:
    """Per-frame posteriors ``exp(log_probs [T, V])``: one line per symbol that ever exceeds 0.1, the key
    beside the plot (inside, it covered the blank's line, near 1 on most frames); a model that writes
    nothing yet, the blank's line alone, says so in the title (it looked like a symbol left out)."""
    from lstmkit.inspect.plots import save_figure, subplots
    probs = np.exp(log_probs)
    t = np.arange(probs.shape[0]) * frame_ms / 1000
    fig, ax = subplots(figsize=(8, 3))
    shown = [k for k in range(probs.shape[1]) if probs[:, k].max() >= 0.1]
    for k in shown:
        name = "blank" if k == 0 else repr(tokens[k])
        ax.plot(t, probs[:, k], lw=1.2, ls=":" if k == 0 else "-", label=name)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("seconds")
    ax.set_ylabel("P(symbol | frame)")
    if not [k for k in shown if k != 0]:
        title += "\n(no symbol but the blank reaches 0.1 on any frame: the model writes nothing yet)"
    ax.set_title(title, fontsize=None if "\n" not in title else 10)
    ax.legend(fontsize=7, ncol=1 + len(shown) // 16, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save_figure(fig, Path(path))


def plot_decoder_attention(weights: np.ndarray, chars: Sequence[str], path: Path, title: str, frame_ms: float,
                           axis: str = "character written") -> None:
    """Attention ``weights [len(chars), T']`` over the encoder's frames (one every ``frame_ms``) against time:
    a seq2seq model's, a row per character it wrote (a space shown as '␣'), or a classifier's attention
    pooling, one row (the label it answered); ``axis`` names the rows. A seq2seq model that wrote only the
    end, ``</s>``, says so in the title, as the CTC posteriors of a model writing nothing do (its one row
    looked like a transcript's character)."""
    from lstmkit.inspect.plots import every_kth, save_figure, subplots, weight_scale
    w = np.asarray(weights, dtype=float)
    fig, ax = subplots(figsize=(8, min(max(3, 0.3 * min(len(chars), 40) + 1.5), 16)))
    scale, scale_words = weight_scale(w)        # a weight spread over many frames: its largest at the top
    im = ax.imshow(w, cmap="viridis", aspect="auto", interpolation="nearest",
                   extent=(0, w.shape[1] * frame_ms / 1000, len(chars) - 0.5, -0.5), **scale)
    fig.colorbar(im, ax=ax, fraction=0.03, label=f"attention weight\n{scale_words}")
    ax.set_yticks(*every_kth(["␣" if c == " " else c for c in chars], 40))
    ax.set_xlabel("seconds")
    ax.set_ylabel(axis)
    if axis == "character written" and list(chars) == ["</s>"]:
        title += "\n(the model wrote no character, only the end '</s>': it writes nothing yet)"
    ax.set_title(title, fontsize=None if "\n" not in title else 10)
    save_figure(fig, Path(path))
