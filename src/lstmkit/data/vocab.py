"""Text to token ids: a word (or character) tokenizer with a counted vocabulary, or BPE subwords.

    tokenize_words(text)                "Great<br />film!" -> ["great", "film"]
    tokenize_many(texts)                tokenize_words of each text (ASCII texts cut in one pass)
    Vocab.build(token_lists, …)         counted, capped vocabulary; id 0 = <pad>, 1 = <unk>
    make_tokenizer("word"|"char"|"bpe")  fit(texts) -> encode(text) -> ids; to_dict() / from_dict()
    tokenizer.encode_many(texts)        the ids of every text end to end, and each text's count
    tokenizer.fit_tokens(tokens_many(texts)), encode_tokens(…)   the same, the texts cut once (word, char)

Pretrained word vectors for a vocabulary are :mod:`lstmkit.data.vectors`.

Every tokenizer's fitted state is plain data (``to_dict()``), written as ``vocab.json`` into a
run folder and read back by ``tokenizer_from_dict`` — nothing is pickled.
"""
from __future__ import annotations

import functools
import html as _html
import json
import re
import unicodedata
from collections import Counter
from itertools import chain, repeat
from typing import Any, Iterable, Sequence

import numpy as np

from lstmkit.errors import LstmkitError, opt, optional_import

__all__ = [
    "PAD", "UNK", "PAD_ID", "UNK_ID", "TOKENIZERS", "normalize_text", "clean_text", "tokenize_words", "tokenize_many",
    "tokenize_chars", "join_words", "end_to_end", "Vocab", "WordTokenizer", "CharTokenizer", "BPETokenizer", "make_tokenizer", "tokenizer_from_dict",
    "import_tokenizers", "CJK", "SPACELESS", "HTML_INLINE", "mark_class", "symbol_class", "state_error", "checked_rules",
    "checked_itos", "bpe_from_state", "specials_as_text", "read_as", "bpe_reading", "INVISIBLE", "INVISIBLE_READING",
    "one_spaced",
]

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1
TOKENIZERS = ("word", "char", "bpe")

_BREAKS = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
# With ``html`` (web text, IMDB-style reviews): paragraph tags break lines too, and character
# references are decoded ('&amp;' was the word 'amp', 'caf&eacute;' the words 'caf' and 'eacute').
# Only these tags (a <p> with attributes: name=...): a '<' in prose ('a < b', 'a<p then b>c') is no tag and stays.
_HTML_BREAKS = re.compile(r"<\s*(?:br\s*/?|/?\s*p(?:\s+[\w:-]+\s*=[^<>\x00]*)?)\s*>", re.IGNORECASE)
# ``html`` as recorded in vocab.json: False (saved before), True (the tags and references above), or
# HTML_INLINE (every tokenizer fitted now): inline formatting tags dropped too, '<i>Alien</i>' read
# as 'Alien' (the tags were the words 'i' and 'em'); a run saved with True reads text as it was counted.
HTML_INLINE = 2
_HTML_INLINE = re.compile(r"<\s*/?\s*(?:i|b|em|strong|u|span|spoiler)(?:\s+[\w:-]+\s*=[^<>\x00]*)?\s*>",
                          re.IGNORECASE)
# Scripts written without spaces between words: each character is a token.
CJK = ("\u3040-\u30ff"            # hiragana, katakana
        "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"   # CJK ideographs (+ ext. A, compatibility)
        "\U00020000-\U0002fa1f")   # CJK ideographs ext. B-F, supplement
# ... and every script written without spaces between words (Thai, Lao, Khmer, Myanmar too): a
# "word" there is a whole clause, so each character (with its combining marks) is a token.
SPACELESS = CJK + "\u0e00-\u0eff\u1780-\u17ff\u1000-\u109f"
# The format characters that show nothing (Unicode's default-ignorable Cf): a soft hyphen, zero-width
# space, zero-width non-joiner, the word joiner and invisible operators, direction marks, embeddings and
# isolates, a byte-order mark inside a text, the Mongolian vowel separator. Left in, each cut a word in two
# ('co\u00adoperation', 'co\u200boperation': 'co' and 'operation') and was a character token of its own;
# dropped, the word reads as it shows. Not the variation selectors and tag characters, which complete an
# emoji, and not the zero-width joiner, dropped only outside an emoji sequence (:func:`_loose_zwj`). The
# shorthand (Duployan) format controls and the musical beam, tie, slur and phrase marks are default-ignorable Cf too.
INVISIBLE = ("\u00ad\u061c\u180e\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
             "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a")
_INVISIBLE = re.compile(f"[{INVISIBLE}]")
# What completes an emoji after its first character: a skin tone, a variation selector, a keycap.
_EMOJI_TAIL = "\U0001F3FB-\U0001F3FF\ufe0f\u20e3"
_ZWJ = "\u200d"                                       # joins emoji into one ('👨‍👩‍👧')
_REGIONAL = re.compile("[\U0001F1E6-\U0001F1FF]")     # a flag is two of these letters


# The word pattern below on ASCII text (no CJK, no marks, no curly apostrophe; ``[^\W_]`` is
# ``[a-zA-Z0-9]`` there), about 5x faster: most texts take this path.
_ASCII_WORD = re.compile(r"[a-zA-Z0-9]+(?:'[a-zA-Z0-9]+)*")
# tokenize_many's one pass over ASCII texts: letters and digits kept (lower-cased or not), the
# apostrophe kept, the texts' separator kept, every other character a space; then each apostrophe
# not between two letters/digits a space too. What is left split on white space is _ASCII_WORD's words.
_SEPARATOR = "\x00"
_ASCII_TABLES = {lower: {c: (chr(c).lower() if lower else chr(c)) if chr(c).isalnum() else chr(c) if chr(c) in "'\x00"
                         else " " for c in range(128)} for lower in (True, False)}
_LOOSE_APOSTROPHE = re.compile(r"'(?![a-zA-Z0-9])|(?<![a-zA-Z0-9])'")


@functools.cache
def mark_class() -> str:
    """The combining marks (Unicode categories Mn, Mc, Me: Devanagari's vowel signs, Hebrew's
    points, Arabic's harakat, decomposed accents) as the inside of a regular-expression character
    class. Python's ``\\w`` leaves them out, so a pattern of ``\\w+`` cuts 'हिन्दी' into six pieces."""
    return _category_class("M")


@functools.cache
def symbol_class() -> str:
    """The other symbols (Unicode category So: emoji, ♥, ©, °) as the inside of a character class."""
    return _category_class("So")


def _category_class(category: str) -> str:
    """The characters whose Unicode category starts with ``category``, as the inside of a
    regular-expression character class of ranges."""
    found, start = [], None
    # Marks and symbols live below U+30000 and in plane 14 (variation selectors); scanning only
    # there keeps building the class fast.
    for cp in [*range(0x30000), *range(0xE0000, 0xE0200)]:
        hit = unicodedata.category(chr(cp)).startswith(category)
        if hit and start is None:
            start = cp
        elif not hit and start is not None:
            found.append((start, cp - 1))
            start = None
    return "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" if a != b else re.escape(chr(a)) for a, b in found)


@functools.cache
def _word_pattern(spaceless: bool = True, symbols: bool = True) -> re.Pattern:
    """Words are runs of letters/digits plus combining marks (so Devanagari or decomposed accents
    stay whole), with inner apostrophes ("don't"); a character of a script written without spaces
    is a token with its marks (``spaceless``; before, Thai's, Lao's, Khmer's and Myanmar's were
    words: a sentence one token), and so is an emoji or other symbol with what completes it: skin
    tone, ZWJ sequence ('👨‍👩‍👧'), a flag's two letters (``symbols``; before, they were dropped)."""
    marks = mark_class()
    # without ``spaceless`` (a state saved before it) a CJK character is a token without its marks, as then; the
    # symbols were dropped too there, whatever ``symbols`` said (WordTokenizer(spaceless=False) lost every emoji)
    one_by_one = rf"[{SPACELESS}][{marks}]*" if spaceless else f"[{CJK}]"
    word = rf"(?:[^\W_{SPACELESS if spaceless else CJK}]|[{marks}])+"
    pattern = rf"{one_by_one}|{word}(?:['’]{word})*"
    if symbols:
        one = rf"[{symbol_class()}][{_EMOJI_TAIL}{marks}]*"
        pattern = rf"{pattern}|{_REGIONAL.pattern}{{2}}|{one}(?:\u200d{one})*"      # words first: most tokens
    # (?=\S): a space fails at once instead of against every alternative's class (the symbols' is
    # long): 20,000 accented texts cut in 0.58 s of CPU, 0.89 s without it, 0.67 s before the symbols
    return re.compile(rf"(?=\S)(?:{pattern})")


def whole_text(text: str) -> str:
    """``text`` with each UTF-16 surrogate pair joined into its character and each lone half as U+FFFD,
    as a decoder with ``errors="replace"`` reads a bad byte (JSON's ``"\\ud83d"``, an emoji cut in two;
    text decoded with ``surrogateescape``)."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def holds_surrogate(text: str) -> bool:
    """Whether ``text`` holds half of a UTF-16 surrogate pair (U+D800 to U+DFFF): one UTF-8 encode in C,
    which refuses nothing else (a regex search of each non-ASCII text took twice as long; docs/benchmarks.md,
    "Text normalisation"). :func:`normalize_text` and ``data/decoding.whole_characters`` ask it."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def normalize_text(text: str, lowercase: bool = True) -> str:
    """Unicode-normalise (NFKC), drop the format characters that show nothing (:data:`INVISIBLE`: soft
    hyphens, zero-width spaces and non-joiners, word joiners, direction marks, byte-order marks; a
    zero-width joiner outside an emoji sequence), optionally lower-case (a Turkish 'İ' as 'i': Python's
    lower() gives 'i' and a combining dot, so 'İyi' and 'iyi' were two words). Every text task's
    tokenizers (word, char, BPE) read text through it, so a text reads the same in each. A lone surrogate
    is U+FFFD (:func:`whole_text`), as the tasks read their texts: Hugging Face's BPE refused a string
    holding one ('TextInputSequence must be str', a TypeError traceback)."""
    if holds_surrogate(text):
        text = whole_text(text)
    normal = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", normal)
    if _ZWJ in text:
        text = _loose_zwj().sub("", text)
    if len(text) != len(normal):        # a mark that followed what was dropped composes with the letter before
        text = unicodedata.normalize("NFKC", text)
    return text.replace("İ", "i").lower() if lowercase else text


@functools.cache
def _loose_zwj() -> re.Pattern:
    """A zero-width joiner not between two parts of an emoji ('👨\u200d👩': one emoji; 'a\u200db': 'ab')."""
    emoji = f"{symbol_class()}{_EMOJI_TAIL}"
    return re.compile(f"(?<![{emoji}]){_ZWJ}|{_ZWJ}(?![{symbol_class()}])")


def clean_text(text: str, lowercase: bool = True, html: bool | int = False) -> str:
    """:func:`normalize_text` with HTML line breaks (``<br />``) made spaces; with ``html`` also
    ``<p>`` / ``</p>``, and character references decoded (``html.unescape``: ``&amp;`` -> ``&``,
    ``&eacute;`` -> ``é``, ``&#39;`` -> ``'``) after the tags, so an escaped ``&lt;br&gt;`` stays text;
    with ``html`` :data:`HTML_INLINE` inline formatting tags (``<i>``, ``</em>``, ``<b>``, ``<strong>``,
    ``<u>``, ``<span …>``, ``<spoiler>``) dropped first (a ``'<'`` in prose, ``a < b``, stays)."""
    if html:
        return normalize_text(_html.unescape(_HTML_BREAKS.sub(" ", _inline_dropped(text, html))), lowercase)
    return normalize_text(_BREAKS.sub(" ", text), lowercase)


def _inline_dropped(text: str, html: bool | int) -> str:
    """``text`` without inline formatting tags when ``html`` asks for it (:data:`HTML_INLINE`)."""
    return _HTML_INLINE.sub("", text) if html >= HTML_INLINE and "<" in text else text


def one_spaced(text: str) -> str:
    """``text`` with each run of white space (tabs, line breaks, non-breaking spaces) one space, none at either end."""
    return " ".join(text.split())


INVISIBLE_READING = ("NFKC, invisible format characters (soft hyphens, zero-width spaces, non-joiners and joiners "
                     "outside emoji, word joiners, direction marks, byte-order marks) dropped")


def read_as(lowercase: bool, html: bool | int) -> str:
    """How :func:`clean_text` reads a text, in words, in the order it goes (a graph's ``around_graph``)."""
    steps = []
    if html and html >= HTML_INLINE:
        steps.append("inline tags (<i>, <b>, <em>, <strong>, <u>, <span …>, <spoiler>) dropped")
    steps.append("<br />, <p> and </p> spaces, character references decoded (html.unescape)" if html else
                 "<br /> a space")
    steps.append(INVISIBLE_READING)
    if lowercase:
        steps.append("lower-cased ('İ' as 'i')")
    return ", ".join(steps)


def tokenize_words(text: str, lowercase: bool = True, spaceless: bool = True, symbols: bool = True,
                   html: bool | int = False) -> list[str]:
    """Words of ``text``: punctuation and ``<br />`` removed, CJK, Thai, … split into characters,
    emoji kept (see :func:`_word_pattern` for ``spaceless`` and ``symbols``; :func:`clean_text` for ``html``).

    >>> tokenize_words("Don't miss it!<br /><br />10/10 — 好看 👍🏽")
    ["don't", 'miss', 'it', '10', '10', '好', '看', '👍🏽']
    """
    text = clean_text(text, lowercase, html)
    return (_ASCII_WORD if text.isascii() else _word_pattern(spaceless, symbols)).findall(text)


def tokenize_many(texts: Sequence[str], lowercase: bool = True, spaceless: bool = True,
                  symbols: bool = True, html: bool | int = False) -> list[list[str]]:
    """``[tokenize_words(t) for t in texts]``, with the ASCII texts cleaned and cut in one pass over
    them all (joined by a character none of them holds): about 3x faster on many short texts."""
    out: list[list[str] | None] = [None] * len(texts)
    # with ``html`` a text holding '&' may decode to other characters (é): it takes the full path
    ascii_idx = [k for k, t in enumerate(texts) if t.isascii() and _SEPARATOR not in t and not (html and "&" in t)]
    if ascii_idx:
        joined = _SEPARATOR.join([texts[k] for k in ascii_idx])
        if "<" in joined:       # ASCII is its own NFKC form; a tag may not cross the separator
            joined = (_HTML_BREAKS if html else _BREAKS).sub(" ", _inline_dropped(joined, html))
        joined = joined.translate(_ASCII_TABLES[lowercase])
        if "'" in joined:
            joined = _LOOSE_APOSTROPHE.sub(" ", joined)
        for k, part in zip(ascii_idx, joined.split(_SEPARATOR)):
            out[k] = part.split()
    if len(ascii_idx) < len(texts):
        for k, t in enumerate(texts):
            if out[k] is None:
                out[k] = tokenize_words(t, lowercase, spaceless, symbols, html)
    return out


@functools.lru_cache(maxsize=8)
def _one_of(chars: str) -> re.Pattern:
    return re.compile(f"[{chars}]")


def join_words(words: Sequence[str], no_space: str = SPACELESS) -> str:
    """Words (or texts) back into one text: a space between two, none beside a character of
    ``no_space`` (a character class; by default the scripts :func:`tokenize_words` cuts one by one:
    ``["我", "喜", "欢", "tea"]`` -> ``"我喜欢tea"``), none before what completes the character
    before it (a combining mark, a skin tone, a zero-width joiner) nor after a zero-width joiner
    (``["👍", "🏽"]`` -> ``"👍🏽"``, not a thumb and a loose skin tone). Words all ASCII, where
    ``no_space`` holds no ASCII character: nothing attaches, so a space goes between every two."""
    if _ascii_free(no_space) and "".join(words).isascii():
        return " ".join(words)
    mark, attached, out = _one_of(no_space), _attached(), []
    for k, w in enumerate(words):
        before = words[k - 1][-1:] if k else ""
        if k and not (mark.match(w[:1]) or mark.match(before) or attached.match(w[:1]) or before == _ZWJ
                      or _REGIONAL.match(before) and _REGIONAL.match(w[:1])):      # a flag's two letters
            out.append(" ")
        out.append(w)
    return "".join(out)


@functools.lru_cache(maxsize=8)
def _ascii_free(no_space: str) -> bool:
    """Whether no ASCII character is one :func:`join_words` writes without a space beside it (of
    ``no_space``, or one that completes the character before it, or a flag's letter)."""
    mark, attached = _one_of(no_space), _attached()
    return not any(p.match(chr(c)) for c in range(128) for p in (mark, attached, _REGIONAL))


@functools.cache
def _attached() -> re.Pattern:
    """A character that completes the one before it: no space goes between them."""
    return re.compile(f"[{mark_class()}{_EMOJI_TAIL}{_ZWJ}]")


def end_to_end(id_lists: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """``(ids [sum of lengths], lengths [N])`` (int64): the lists one after another, and their lengths."""
    lengths = np.fromiter(map(len, id_lists), np.int64, len(id_lists))
    return np.fromiter(chain.from_iterable(id_lists), np.int64, int(lengths.sum())), lengths


def tokenize_chars(text: str, lowercase: bool = True, html: bool | int = False) -> list[str]:
    """Characters of ``text`` (:func:`clean_text`) with runs of white space collapsed to one space."""
    return list(" ".join(clean_text(text, lowercase, html).split()))


# -- vocabulary ----------------------------------------------------------------------------------
class Vocab:
    """Token <-> id mapping. Id 0 is ``<pad>``, 1 is ``<unk>``, then tokens by falling count
    (ties alphabetical, so the same texts always give the same ids)."""

    def __init__(self, itos: Sequence[str]):
        if list(itos[:2]) != [PAD, UNK]:
            raise LstmkitError(f"a vocabulary must start with {PAD!r}, {UNK!r}, got {list(itos[:2])}",
                               "rebuild it with Vocab.build")
        self.itos = list(itos)
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], min_freq: int = 1,
              max_size: int | None = None) -> Vocab:
        """Count tokens; keep those seen at least ``min_freq`` times, at most ``max_size`` ids
        in total (specials included)."""
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise LstmkitError(f"`min_freq` must be a positive integer, got {min_freq!r}",
                               f"pass {opt('min_freq', 1)} or more")
        if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 3):
            raise LstmkitError(f"`max_size` must be an integer of at least 3, got {max_size!r}",
                               f"pass {opt('max_size', 20000)}, say")
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        kept = sorted((t for t, c in counts.items() if c >= min_freq and t not in (PAD, UNK)),
                      key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[: max_size - 2]
        return cls([PAD, UNK, *kept])

    def encode(self, tokens: Sequence[str]) -> list[int]:
        get = self.stoi.get
        return [get(t, UNK_ID) for t in tokens]

    def encode_many(self, token_lists: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, lengths)`` as :func:`end_to_end` of ``encode`` of each list, looked up in one pass."""
        lengths = np.fromiter(map(len, token_lists), np.int64, len(token_lists))
        tokens = chain.from_iterable(token_lists)
        return np.fromiter(map(self.stoi.get, tokens, repeat(UNK_ID)), np.int64, int(lengths.sum())), lengths

    def __len__(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)})"


# -- tokenizers: fit on training text, encode any text, state as plain data ----------------------
class WordTokenizer:
    """Words (see :func:`tokenize_words`) looked up in a :class:`Vocab` built on training text.

    A tokenizer saved before Thai, Lao, Khmer and Myanmar went by character and emoji became
    tokens (no ``spaceless`` / ``symbols`` in its state) cuts text as its vocabulary was counted;
    so does one saved before HTML character references were decoded (no ``html``: ``&amp;`` is 'amp').
    """

    kind = "word"

    def __init__(self, min_freq: int = 1, max_size: int | None = None, lowercase: bool = True,
                 spaceless: bool = True, symbols: bool = True, html: bool | int = HTML_INLINE):
        self.min_freq, self.max_size, self.lowercase = min_freq, max_size, lowercase
        self.spaceless, self.symbols, self.html = spaceless, symbols, html
        self.vocab: Vocab | None = None

    def clean(self, text: str) -> str:
        """``text`` as this tokenizer reads it (:func:`clean_text`)."""
        return clean_text(text, self.lowercase, self.html)

    def tokens(self, text: str) -> list[str]:
        return tokenize_words(text, self.lowercase, self.spaceless, self.symbols, self.html)

    def fit(self, texts: Iterable[str]):
        return self.fit_tokens(self.tokens(t) for t in texts)

    def fit_tokens(self, token_lists: Iterable[Sequence[str]]):
        """:meth:`fit` on texts already cut (:meth:`tokens_many`): a caller that encodes the same
        texts (:meth:`encode_tokens`) cuts them once."""
        self.vocab = Vocab.build(token_lists, self.min_freq, self.max_size)
        return self

    def tokens_many(self, texts: Sequence[str]) -> list[list[str]]:
        return tokenize_many(texts, self.lowercase, self.spaceless, self.symbols, self.html)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; never empty (a text without tokens becomes ``[<unk>]``)."""
        return self.vocab.encode(self.tokens(text)) or [UNK_ID]

    def encode_many(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, lengths)``: :meth:`encode` of every text, end to end (:func:`end_to_end`)."""
        return self.encode_tokens(self.tokens_many(texts))

    def encode_tokens(self, token_lists: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`encode_many` of texts already cut (:meth:`tokens_many`)."""
        ids, lengths = self.vocab.encode_many(token_lists)
        return _unk_for_empty(ids, lengths)

    def pieces(self, text: str) -> list[str]:
        """The tokens of ``text`` as written (unknown ones too), one per id of :meth:`encode`."""
        return self.tokens(text) or [UNK]

    def reading(self, where: str = "vocab.json's ") -> str:
        """How a text becomes ids, in words, the state under ``where`` (a graph's ``around_graph``)."""
        scripts = "Chinese, Japanese, Thai, Lao, Khmer, Myanmar" if self.spaceless else "Chinese, Japanese"
        return (f"words (lstmkit.data.vocab.tokenize_words: {read_as(self.lowercase, self.html)}; letters, digits "
                f"and inner apostrophes, a character of {scripts} a word{', an emoji a word' if self.symbols else ''}) "
                f"as their index in {where}itos (unknown: {UNK_ID})")

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "lowercase": self.lowercase, "min_freq": self.min_freq,
                "max_size": self.max_size, **self.rules(), "itos": self.vocab.itos}

    def rules(self) -> dict[str, bool | int]:
        """How text is read and cut (:func:`clean_text`'s and :func:`_word_pattern`'s settings), kept in the state."""
        return {"spaceless": self.spaceless, "symbols": self.symbols, "html": self.html}

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        checked_rules(d, ("lowercase", "spaceless", "symbols"))
        tok = cls(d.get("min_freq", 1), d.get("max_size"), d.get("lowercase", True),
                  d.get("spaceless", False), d.get("symbols", False), d.get("html", False))
        tok.vocab = Vocab(checked_itos(d.get("itos")))
        return tok


class CharTokenizer(WordTokenizer):
    """Characters (see :func:`tokenize_chars`) looked up in a :class:`Vocab`."""

    kind = "char"

    def tokens(self, text: str) -> list[str]:
        return tokenize_chars(text, self.lowercase, self.html)

    def tokens_many(self, texts: Sequence[str]) -> list[list[str]]:
        return [self.tokens(t) for t in texts]

    def rules(self) -> dict[str, bool | int]:
        return {"html": self.html}          # every character is a token: no word rules to keep

    def reading(self, where: str = "vocab.json's ") -> str:
        return (f"characters (lstmkit.data.vocab.tokenize_chars: {read_as(self.lowercase, self.html)}, runs of "
                f"white space one space, none at either end) as their index in {where}itos (unknown: {UNK_ID})")


class BPETokenizer:
    """Byte-pair-encoding subwords trained on the training text with Hugging Face ``tokenizers``.

    Text is cleaned as for words (NFKC, ``<br />`` removed, with ``html`` references decoded,
    lower-cased) and split on white space and punctuation before merges are learnt; ``max_size``
    is the target vocabulary size. A state without ``html`` (saved before) reads text as it did.

    ``spaces``: a run of white space is one space, none at either end (:func:`one_spaced`). The
    Metaspace pre-tokenizer (lm's and translate's BPE) marks only a space: a tab, a line break or a
    second space was a subword of its own or ``<unk>`` ('café\tdog' was 'café', '<unk>', 'do', 'g'
    where 'café dog' is 'café', '▁dog'); a state without it (saved before) reads text as it did.
    """

    kind = "bpe"

    def __init__(self, min_freq: int = 2, max_size: int | None = 8000, lowercase: bool = True,
                 html: bool | int = HTML_INLINE, spaces: bool = True):
        self.min_freq, self.max_size, self.lowercase, self.html = min_freq, max_size or 8000, lowercase, html
        self.spaces = spaces
        self._tok = None

    def __setstate__(self, state: dict[str, Any]) -> None:
        # pickle and deepcopy rebuild the Hugging Face tokenizer from its JSON, which lacks the setting
        self.__dict__.update(state)
        if self._tok is not None:
            specials_as_text(self._tok)

    def clean(self, text: str) -> str:
        """``text`` as this tokenizer reads it (:func:`clean_text`; :func:`one_spaced` with ``spaces``)."""
        text = clean_text(text, self.lowercase, self.html)
        return one_spaced(text) if self.spaces else text

    def fit(self, texts: Iterable[str]):
        tk = import_tokenizers()
        tok = tk.Tokenizer(tk.models.BPE(unk_token=UNK))
        self.set_pre_tokenizer(tk, tok)
        trainer = tk.trainers.BpeTrainer(vocab_size=self.max_size, min_frequency=self.min_freq,
                                         special_tokens=[PAD, UNK], show_progress=False)
        tok.train_from_iterator((self.clean(t) for t in texts), trainer=trainer)
        self._tok = specials_as_text(tok)
        return self

    def set_pre_tokenizer(self, tk, tok) -> None:
        """How text is split before merges are learnt (a subclass may also set the decoder)."""
        tok.pre_tokenizer = tk.pre_tokenizers.Whitespace()

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(self.clean(text)).ids or [UNK_ID]

    def encode_many(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, lengths)``: :meth:`encode` of every text, end to end (:func:`end_to_end`)."""
        return end_to_end([self.encode(t) for t in texts])

    def pieces(self, text: str) -> list[str]:
        """The subword strings of ``text``, one per id of :meth:`encode`."""
        enc = self._tok.encode(self.clean(text))
        return list(enc.tokens) or [UNK]

    def reading(self, where: str = "vocab.json's ") -> str:
        spaces = ", runs of white space one space, none at either end" if self.spaces else ""
        return (f"subwords (lstmkit.data.vocab.clean_text: {read_as(self.lowercase, self.html)}{spaces}; "
                f"then {bpe_reading(where)})")

    @property
    def vocab_size(self) -> int:
        return self._tok.get_vocab_size()

    @property
    def vocab(self) -> Vocab:
        """The subword inventory as a :class:`Vocab` (ids as the BPE model assigns them)."""
        inv = {i: t for t, i in self._tok.get_vocab().items()}
        return Vocab([inv[i] for i in range(len(inv))])

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "lowercase": self.lowercase, "min_freq": self.min_freq,
                "max_size": self.max_size, "html": self.html, "spaces": self.spaces,
                "tokenizer": json.loads(self._tok.to_str())}

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        checked_rules(d, ("lowercase", "spaces"))
        tok = cls(d.get("min_freq", 2), d.get("max_size"), d.get("lowercase", True), d.get("html", False),
                  d.get("spaces", False))
        tok._tok = bpe_from_state(d.get("tokenizer"))
        return tok


def state_error(what: str) -> LstmkitError:
    """The error for a saved tokenizer state (a run's ``vocab.json``) that lstmkit did not write as it is."""
    return LstmkitError(f"vocabulary state {what}", "the vocab.json was edited or damaged; retrain the model")


def checked_rules(d: dict[str, Any], flags: Sequence[str]) -> None:
    """An error for a saved state whose ``flags`` (``lowercase``, ...) are not true or false, or whose
    ``html`` is none of the values :func:`clean_text` takes: 'yes' was a KeyError traceback at the
    first text read, a number another way of reading the text than the one the vocabulary was counted
    in."""
    for key in flags:
        if key in d and not isinstance(d[key], bool):
            raise state_error(f"has {key} {d[key]!r}, not true or false")
    if "html" in d and not (isinstance(d["html"], int) and d["html"] in (0, 1, HTML_INLINE)):
        raise state_error(f"has html {d['html']!r}, not true, false or {HTML_INLINE}")


def checked_itos(itos: Any, specials: Sequence[str] = (PAD, UNK)) -> list[str]:
    """``itos`` of a saved state: a list of distinct strings starting with ``specials`` (``<pad>``, ``<unk>``;
    a translator's ``<bos>``, ``<eos>`` too). Numbers among them were taken as tokens no text has (ids that
    never came), a token twice gave the second id only, and a string was read letter by letter."""
    if not isinstance(itos, list):
        raise state_error(f"has itos of {type(itos).__name__}, not a list of tokens")
    odd = next((t for t in itos if not isinstance(t, str)), None)
    if odd is not None:
        raise state_error(f"has the token {odd!r}, not a string")
    if itos[:len(specials)] != list(specials):
        raise state_error(f"starts {itos[:len(specials)]}, not {list(specials)}")
    if len(set(itos)) != len(itos):
        seen: set[str] = set()
        twice = next(t for t in itos if t in seen or seen.add(t))
        raise state_error(f"has the token {twice!r} twice")
    return itos


# What lstmkit's BPE tokenizers are made of (``BPETokenizer.fit``; lm's and translate's Metaspace): a state
# with a normalizer, a post-processor or a regex pre-tokenizer was run as Hugging Face reads it, and a
# stranger's regex ran on every text (a backtracking one was a PanicException traceback, or a hang)
_BPE_PARTS = {"model": ("BPE",), "pre_tokenizer": ("Whitespace", "Metaspace"), "decoder": (None, "Metaspace"),
              "normalizer": (None,), "post_processor": (None,)}
# ... and the settings of its BPE model, each as ``BPE(unk_token='<unk>')`` leaves it (a state may lack one): a
# ``continuing_subword_prefix`` longer than a merge's second part panicked in Rust (a PanicException, which
# no ``except Exception`` catches), a ``dropout`` drew other subwords for the same text at every call
_BPE_MODEL = {"unk_token": UNK, "dropout": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
              "fuse_unk": False, "byte_fallback": False, "ignore_merges": False}


def bpe_from_state(state: Any, specials: Sequence[str] = (PAD, UNK)):
    """The Hugging Face tokenizer of a saved BPE state (``to_dict()['tokenizer']``), refused in one line
    when it is not one lstmkit writes (see :data:`_BPE_PARTS`), does not load, or lacks a special token at
    its id (``specials``, from 0: without '<unk>' a text holding a character it never saw was a bare
    'Unk token not found' Exception, and a '<pad>' elsewhere read padding as a subword)."""
    if not isinstance(state, dict):
        raise state_error(f"has a BPE tokenizer of {type(state).__name__}, not an object")
    for part, kinds in _BPE_PARTS.items():
        value = state.get(part)
        kind = value.get("type") if isinstance(value, dict) else value
        if kind not in kinds:
            raise state_error(f"has a BPE tokenizer whose {part} is {kind!r}, which lstmkit never writes "
                              f"({' or '.join(map(repr, kinds))})")
    model = state["model"] if isinstance(state["model"], dict) else {}
    odd = next((k for k, v in _BPE_MODEL.items() if k in model and model[k] != v), None)
    if odd is not None:
        raise state_error(f"has a BPE tokenizer whose model's {odd} is {model[odd]!r}, which lstmkit never "
                          f"writes ({_BPE_MODEL[odd]!r})")
    tk = import_tokenizers()
    try:
        tok = tk.Tokenizer.from_str(json.dumps(state))
    except BaseException as e:      # plain Exception for a state it cannot read; a Rust panic a PanicException
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        first = (str(e).splitlines() or [type(e).__name__])[0][:120]
        raise state_error(f"has a BPE tokenizer that does not load ({first})") from None
    ids = sorted(tok.get_vocab().values())
    if ids != list(range(len(ids))):
        raise state_error(f"has a BPE tokenizer whose {len(ids)} subwords' ids are not 0 to {len(ids) - 1}, each once")
    wrong = next((k for k, t in enumerate(specials) if tok.token_to_id(t) != k), None)
    if wrong is not None:
        raise state_error(f"has a BPE tokenizer without {specials[wrong]!r} as id {wrong}")
    return specials_as_text(tok)


def bpe_reading(where: str) -> str:
    """How a BPE tokenizer saved under ``where`` reads a cleaned text, in words (``reading``)."""
    return (f"the Hugging Face tokenizer of {where}tokenizer (tokenizers.Tokenizer.from_str of it, "
            f"encode_special_tokens = True: a '<pad>' written in a text is text), its encode(text).ids "
            f"(unknown: {UNK_ID})")


def specials_as_text(tok):
    """The Hugging Face tokenizer ``tok`` reading its special tokens written in a text ('<pad>', '<unk>',
    '<eos>') as the text they are, as its merges were learnt (training counts them so). Matched, a
    review quoting '<pad>' held the padding id mid-text, a '<PAD>' lower-cased too, and a translation
    source's '<eos>' the end of sentence; a ``<unk>`` id still comes of a character the model lacks.
    (The setting is not in the tokenizer's JSON: every tokenizer fitted, loaded or unpickled takes it here.)"""
    tok.encode_special_tokens = True
    return tok


def _unk_for_empty(ids: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A text without tokens holds one ``<unk>`` (as ``encode`` gives it)."""
    empty = np.flatnonzero(lengths == 0)
    if empty.size == 0:
        return ids, lengths
    starts = np.cumsum(lengths) - lengths
    lengths = lengths.copy()
    lengths[empty] = 1
    return np.insert(ids, starts[empty], UNK_ID), lengths


def import_tokenizers():
    """The ``tokenizers`` package (BPE), or a MissingPackage saying how to install it."""
    tokenizers = optional_import("tokenizers", "the BPE tokenizer", otherwise=f"use {opt('tokenizer', 'word')}")
    for part in ("decoders", "models", "pre_tokenizers", "trainers"):
        optional_import(f"tokenizers.{part}", "the BPE tokenizer", otherwise=f"use {opt('tokenizer', 'word')}")
    return tokenizers


_KINDS = {"word": WordTokenizer, "char": CharTokenizer, "bpe": BPETokenizer}


def make_tokenizer(kind: str = "word", min_freq: int = 1, max_size: int | None = None,
                   lowercase: bool = True):
    """An unfitted tokenizer of ``kind`` (``word``, ``char`` or ``bpe``)."""
    if kind not in _KINDS:
        raise LstmkitError(f"unknown tokenizer {kind!r}", f"use one of: {', '.join(TOKENIZERS)}")
    return _KINDS[kind](min_freq=min_freq, max_size=max_size, lowercase=lowercase)


def tokenizer_from_dict(d: dict[str, Any]):
    """Rebuild a fitted tokenizer from ``to_dict()`` output (e.g. a run folder's vocab.json)."""
    kind = d.get("kind") if isinstance(d, dict) else None
    if kind not in _KINDS:
        raise LstmkitError(f"vocabulary state has unknown kind {kind!r}",
                           "the vocab.json was edited or damaged; retrain the model")
    return _KINDS[kind].from_dict(d)


def extend_tokenizer(tok, texts: Sequence[str], min_freq: int, max_size: int | None):
    """``(tokenizer, added)``: the fitted word or char tokenizer ``tok`` with the tokens of
    ``texts`` seen at least ``min_freq`` times that it lacks appended (up to ``max_size`` ids in
    all), and how many were added. ``tok``'s ids keep their meaning (transfer and fine-tuning
    start from a model trained on ``tok``)."""
    state = tok.to_dict()
    counted = type(tok)(min_freq, max_size, tok.lowercase, **tok.rules()).fit(texts)
    known = set(state["itos"])
    extra = [w for w in counted.vocab.itos[2:] if w not in known]
    added = len(extra) if max_size is None else min(len(extra), max(0, max_size - len(known)))
    return tokenizer_from_dict({**state, "itos": [*state["itos"], *extra[:added]]}), added
