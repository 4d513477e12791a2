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

from lstmkit.errors import BadValue, LstmkitError, MissingPackage, opt, optional_import
from lstmkit.tasks.translate.data import written_without_spaces

__all__ = ["corpus_scores", "sentence_bleu", "bleu_tokenizer", "checked_tokenize", "TOKENIZERS", "write_sentences",
           "plot_attention"]

# sacrebleu's BLEU tokenizers a caller may name (evaluate's tokenize=, --tokenize), and the extra each needs
TOKENIZERS = {"13a": None, "intl": None, "zh": None, "char": None, "none": None, "ja-mecab": "sacrebleu[ja]",
              "ko-mecab": "sacrebleu[ko]", "flores101": "sentencepiece", "flores200": "sentencepiece"}

_KANA_THAI_ETC = re.compile(        # spaceless scripts other than Chinese: sacrebleu's zh leaves them whole
    r"[\u3040-\u30ff\u0e00-\u0eff\u1780-\u17ff\u1000-\u109f]")


def _sacrebleu():
    return optional_import("sacrebleu", "BLEU and chrF")


def checked_tokenize(name: str | None) -> str | None:
    """``name``, one of sacrebleu's BLEU tokenizers (:data:`TOKENIZERS`), or None (chosen from the
    references: :func:`bleu_tokenizer`); any other name a :class:`BadValue` naming them."""
    if name is None or name in TOKENIZERS:
        return name
    from lstmkit.data.columns import closest_name
    near = closest_name(str(name), list(TOKENIZERS))
    raise BadValue(f"unknown BLEU tokenizer {name!r}" + (f" (did you mean {near!r}?)" if near else ""),
                   f"pass {opt('tokenize')} with one of: {', '.join(TOKENIZERS)} (sacrebleu's; "
                   "by default 13a, or zh / char for references written without spaces)")


def _bleu(sb, tokenize: str, **kwargs):
    """sacrebleu's BLEU with ``tokenize``; a tokenizer whose extra package is missing (MeCab for
    ja-mecab, sentencepiece for flores200) a :class:`MissingPackage` naming it, not sacrebleu's
    RuntimeError or ImportError traceback."""
    try:
        return sb.metrics.BLEU(tokenize=tokenize, **kwargs)
    except (ImportError, RuntimeError):
        extra = TOKENIZERS.get(tokenize) or "sacrebleu"
        raise MissingPackage(f"BLEU with sacrebleu's {tokenize} tokenizer needs {extra}, which is not installed",
                             f"pip install '{extra}', or score with another {opt('tokenize')} (13a, char)",
                             extra) from None


def corpus_scores(hyps: Sequence[str], refs: Sequence[str], lowercase: bool = False,
                  tokenize: str | None = None, more_refs: Sequence[Sequence[str]] = ()) -> dict[str, Any]:
    """``{"bleu", "chrf", "bleu_signature", "chrf_signature", "sentences"}`` for one reference each;
    ``lowercase``: both scored case-insensitively (a model that writes lower case only, whose every
    capital of a cased reference was a miss; the signatures say ``case:lc``); ``tokenize``:
    sacrebleu's BLEU tokenizer (:data:`TOKENIZERS`), else :func:`bleu_tokenizer`'s choice;
    ``more_refs``: further references of each sentence, one list each (the signature's ``nrefs``)."""
    for k, r in enumerate((refs, *more_refs), 1):
        if len(r) != len(hyps):         # of a further set, its number: 'n translations but n references' named none
            raise LstmkitError(f"{len(hyps)} translations but {len(r)} references"
                               + (f" in reference set {k}" if k > 1 else ""),
                               "the reference file must have one line per source line")
    sb = _sacrebleu()
    streams = [list(refs), *map(list, more_refs)]
    bleu = _bleu(sb, checked_tokenize(tokenize) or bleu_tokenizer([r for s in streams for r in s]),
                 lowercase=lowercase)
    chrf = sb.metrics.CHRF(lowercase=lowercase)
    try:
        b = bleu.corpus_score(list(hyps), streams)
    except OSError as e:                # flores' SentencePiece model is downloaded at first use
        raise LstmkitError(f"BLEU with sacrebleu's {tokenize} tokenizer could not fetch its model ({e})",
                           f"connect to the internet once (sacrebleu keeps it in ~/.sacrebleu), or score with "
                           f"another {opt('tokenize')}") from None
    c = chrf.corpus_score(list(hyps), streams)
    out = {"bleu": round(float(b.score), 2), "chrf": round(float(c.score), 2),
           "bleu_signature": str(bleu.get_signature()), "chrf_signature": str(chrf.get_signature()),
           "bleu_detail": str(b), "sentences": len(hyps)}
    if lowercase:
        out["lowercase"] = True
    return out


def sentence_bleu(hyps: Sequence[str], refs: Sequence[str], lowercase: bool = False,
                  tokenize: str | None = None, more_refs: Sequence[Sequence[str]] = ()) -> list[float]:
    bleu = _bleu(_sacrebleu(), checked_tokenize(tokenize) or bleu_tokenizer([r for s in (refs, *more_refs) for r in s]),
                 effective_order=True, lowercase=lowercase)
    return [round(float(bleu.sentence_score(h, [r, *others]).score), 2)
            for h, r, *others in zip(hyps, refs, *more_refs)]


def bleu_tokenizer(refs: Sequence[str]) -> str:
    """sacrebleu's tokenizer for ``refs``: ``13a`` (its default, words), ``zh`` when they hold
    Chinese (each ideograph a word, as WMT scores Chinese), ``char`` for the other scripts written
    without spaces (Japanese kana, Thai, Khmer, …): scored on ``13a`` words, a sentence there is one
    word and BLEU is 0 for every translation that is not exactly the reference."""
    if not written_without_spaces(refs):
        return "13a"
    return "char" if any(_KANA_THAI_ETC.search(r) for r in refs) else "zh"


def write_sentences(path: str | Path, srcs: Sequence[str], hyps: Sequence[str], refs: Sequence[str],
                    lowercase: bool = False, tokenize: str | None = None, more_refs: Sequence[Sequence[str]] = ()) -> Path:
    """A table of line, sentence BLEU (``lowercase``, ``tokenize``, ``more_refs``: as :func:`corpus_scores`;
    each further reference a column ``reference 2``, … after ``reference``), source, reference,
    translation (one row per sentence), in the type its name asks for (``.csv``, ``.xlsx``,
    ``.parquet``, ``.json``, ``.jsonl``; a name without a suffix, ``.txt`` or ``.tsv``: TSV); ``-``: CSV on
    standard output. The commands refuse a suffix no writer has (``check_table_out``) before any work."""
    import pandas as pd

    from lstmkit.table_out import TABLE_WRITERS, write_table
    df = pd.DataFrame({"line": np.arange(1, len(hyps) + 1),
                       "bleu": sentence_bleu(hyps, refs, lowercase, tokenize, more_refs),
                       "source": list(srcs), "reference": list(refs),
                       **{f"reference {k}": list(r) for k, r in enumerate(more_refs, 2)}, "translation": list(hyps)})
    suffix = Path(path).suffix.lower()
    write = TABLE_WRITERS[suffix] if suffix not in ("", ".txt") and suffix in TABLE_WRITERS else TABLE_WRITERS[".tsv"]
    write_table(df, path, write)
    return Path(path)


NAMED_TOKENS = 40           # tokens named on a side of the attention plot; of more, every k-th


def plot_attention(src_tokens: Sequence[str], tgt_tokens: Sequence[str], weights, path: str | Path,
                   title: str = "") -> Path:
    """Heat map of ``weights [len(tgt_tokens), len(src_tokens)]``: target rows, source columns, coloured
    from 0 to the largest weight (:func:`~lstmkit.inspect.plots.weight_scale`, said on the colour bar); up to
    :data:`NAMED_TOKENS` tokens a side each is named, of more every k-th, in a figure of at most
    20 × 16 inches (a 300-token sentence's was 137 × 121 inches: 15,059 × 13,353 pixels, 2 minutes
    and 10 GB of memory to draw at the end of a training)."""
    from lstmkit.inspect.plots import every_kth, save_figure, subplots, weight_scale
    w = np.asarray(weights, dtype=float)
    fig, ax = subplots(figsize=(min(max(4, 0.45 * min(len(src_tokens), NAMED_TOKENS) + 2), 20),
                                min(max(3, 0.4 * min(len(tgt_tokens), NAMED_TOKENS) + 1.5), 16)))
    scale, scale_words = weight_scale(w)    # 0 to the largest: a fixed 0-1 drew weak, spread attention one pale colour
    image = ax.imshow(w, cmap="viridis", aspect="auto", **scale)
    fig.colorbar(image, ax=ax, fraction=0.046, label=f"attention weight (rows sum to 1)\n{scale_words}")
    ax.set_xticks(*every_kth(src_tokens, NAMED_TOKENS), rotation=60, ha="right")
    ax.set_yticks(*every_kth(tgt_tokens, NAMED_TOKENS))
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    if title:
        ax.set_title(title, fontsize=9)
    path = Path(path)
    save_figure(fig, path, tight=True)          # temp then rename: Ctrl-C while it is drawn leaves no half-written PNG
    return path
