"""BLEU and chrF with sacrebleu on detokenised text, per-sentence scores, the attention plot.

sacrebleu tokenises hypotheses and references itself (``13a``; ``zh`` for Chinese references and
``char`` for other scripts written without spaces, see :func:`bleu_tokenizer`), so scores are
comparable with published ones; the signature printed beside each score says exactly how it was
computed.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from lstmkit.errors import LstmkitError, optional_import
from lstmkit.tasks.translate.data import written_without_spaces

__all__ = ["corpus_scores", "sentence_bleu", "bleu_tokenizer", "write_sentences", "plot_attention"]

_KANA_THAI_ETC = re.compile(        # spaceless scripts other than Chinese: sacrebleu's zh leaves them whole
    r"[\u3040-\u30ff\u0e00-\u0eff\u1780-\u17ff\u1000-\u109f]")


def _sacrebleu():
    return optional_import("sacrebleu", "BLEU and chrF")


def corpus_scores(hyps: Sequence[str], refs: Sequence[str], lowercase: bool = False) -> dict[str, Any]:
    """``{"bleu", "chrf", "bleu_signature", "chrf_signature", "sentences"}`` for one reference each;
    ``lowercase``: both scored case-insensitively (a model that writes lower case only, whose every
    capital of a cased reference was a miss; the signatures say ``case:lc``)."""
    if len(hyps) != len(refs):
        raise LstmkitError(f"{len(hyps)} translations but {len(refs)} references",
                           "the reference file must have one line per source line")
    sb = _sacrebleu()
    bleu = sb.metrics.BLEU(tokenize=bleu_tokenizer(refs), lowercase=lowercase)
    chrf = sb.metrics.CHRF(lowercase=lowercase)
    b = bleu.corpus_score(list(hyps), [list(refs)])
    c = chrf.corpus_score(list(hyps), [list(refs)])
    out = {"bleu": round(float(b.score), 2), "chrf": round(float(c.score), 2),
           "bleu_signature": str(bleu.get_signature()), "chrf_signature": str(chrf.get_signature()),
           "bleu_detail": str(b), "sentences": len(hyps)}
    if lowercase:
        out["lowercase"] = True
    return out


def sentence_bleu(hyps: Sequence[str], refs: Sequence[str], lowercase: bool = False) -> list[float]:
    bleu = _sacrebleu().metrics.BLEU(effective_order=True, tokenize=bleu_tokenizer(refs), lowercase=lowercase)
    return [round(float(bleu.sentence_score(h, [r]).score), 2) for h, r in zip(hyps, refs)]


def bleu_tokenizer(refs: Sequence[str]) -> str:
    """sacrebleu's tokenizer for ``refs``: ``13a`` (its default, words), ``zh`` when they hold
    Chinese (each ideograph a word, as WMT scores Chinese), ``char`` for the other scripts written
    without spaces (Japanese kana, Thai, Khmer, …): scored on ``13a`` words, a sentence there is one
    word and BLEU is 0 for every translation that is not exactly the reference."""
    if not written_without_spaces(refs):
        return "13a"
    return "char" if any(_KANA_THAI_ETC.search(r) for r in refs) else "zh"


def write_sentences(path: str | Path, srcs: Sequence[str], hyps: Sequence[str], refs: Sequence[str],
                    lowercase: bool = False) -> Path:
    """A table of line, sentence BLEU (``lowercase``: as :func:`corpus_scores`), source, reference,
    translation (one row per sentence), in the type its name asks for (``.csv``, ``.xlsx``,
    ``.parquet``, ``.json``, ``.jsonl``; any other name: TSV)."""
    import pandas as pd

    from lstmkit.table_out import TABLE_WRITERS
    from lstmkit.runs import atomic_write
    df = pd.DataFrame({"line": np.arange(1, len(hyps) + 1), "bleu": sentence_bleu(hyps, refs, lowercase),
                       "source": list(srcs), "reference": list(refs), "translation": list(hyps)})
    suffix = Path(path).suffix.lower()
    write = TABLE_WRITERS[suffix] if suffix not in ("", ".txt") and suffix in TABLE_WRITERS else TABLE_WRITERS[".tsv"]
    atomic_write(path, lambda tmp: write(df, tmp))
    return Path(path)


NAMED_TOKENS = 40           # tokens named on a side of the attention plot; of more, every k-th


def plot_attention(src_tokens: Sequence[str], tgt_tokens: Sequence[str], weights, path: str | Path,
                   title: str = "") -> Path:
    """Heat map of ``weights [len(tgt_tokens), len(src_tokens)]``: target rows, source columns; up to
    :data:`NAMED_TOKENS` tokens a side each is named, of more every k-th, in a figure of at most
    20 × 16 inches (a 300-token sentence's was 137 × 121 inches: 15,059 × 13,353 pixels, 2 minutes
    and 10 GB of memory to draw at the end of a training)."""
    from lstmkit.inspect.plots import every_kth, save_figure, subplots
    w = np.asarray(weights, dtype=float)
    fig, ax = subplots(figsize=(min(max(4, 0.45 * min(len(src_tokens), NAMED_TOKENS) + 2), 20),
                                min(max(3, 0.4 * min(len(tgt_tokens), NAMED_TOKENS) + 1.5), 16)))
    ax.imshow(w, cmap="viridis", aspect="auto", vmin=0.0, vmax=1.0)
    ax.set_xticks(*every_kth(src_tokens, NAMED_TOKENS), rotation=60, ha="right")
    ax.set_yticks(*every_kth(tgt_tokens, NAMED_TOKENS))
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    if title:
        ax.set_title(title, fontsize=9)
    path = Path(path)
    save_figure(fig, path, tight=True)          # temp then rename: Ctrl-C while it is drawn leaves no half-written PNG
    return path
