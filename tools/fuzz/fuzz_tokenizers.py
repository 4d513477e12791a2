"""Fuzz the tokenizers on any text: ``lstmkit.data.vocab``'s word, char and BPE tokenizers, translate's
``SideTokenizer`` (word and BPE) and lm's ``LMTokenizer`` (char, word and BPE), each fitted at start on a
few lines of many scripts, and the same saved and read back (``to_dict``, JSON, ``from_dict``).

The input's first byte picks how its bytes become text (UTF-8 with errors replaced or kept as lone
surrogates, UTF-16 with surrogates passed, Latin-1) and whether the text is dressed up: combining marks,
right-to-left marks and letters, NUL, zero-width joiners, character references and ``<br />`` put in at
places the input picks, or one piece of it repeated up to 20,000 characters. Every exception is a
finding (no text is bad input to a tokenizer), and so is a promise broken:

- ``encode`` gives ids inside the vocabulary; never none (``vocab.py``'s), as many as ``pieces`` gives;
- ``encode_many`` is ``encode`` of each text end to end; ``tokenize_many`` is ``tokenize_words`` of each;
- ``tokenize_chars`` has no run of spaces, none at either end;
- a tokenizer read back from its saved state encodes as the one saved;
- decoding gives the text back where it has no unknown token: lm's char level its characters, lm's and
  translate's BPE (Metaspace) the text as cleaned, their word levels words that read as the same tokens.

Run from the repository root:

    PYTHONPATH=src python tools/fuzz/fuzz_tokenizers.py /tmp/tok-corpus \
        -max_total_time=600 -max_len=4096 -len_control=0 -rss_limit_mb=2048 -timeout=30
"""
from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_common import fuzz, seeded  # noqa: E402

with atheris.instrument_imports(include=["lstmkit"]):
    from lstmkit.data import vocab as V
    from lstmkit.tasks.lm.data import LMTokenizer
    from lstmkit.tasks.translate.data import SideTokenizer

TRAIN = ["The cat sat on the mat. T-shirts cost 3.50 &amp; more!", "Don't miss it!<br /><br />10/10 — 好看 👍🏽",
         "café naïve coöperate İstanbul ﬁne", "שלום עולם مرحبا بالعالم", "我喜欢喝茶 ภาษาไทย ພາສາລາວ",
         "हिन्दी भाषा 👨\u200d👩\u200d👧 🇩🇪", "\"quoted\" ‘single’ „low“ ¿Qué? ¡Sí!", "tab\there\nnew line  two"] * 3
DRESS = ["\u0301", "\u0308", "\u202e", "\u200f", "\u05d0", "\u0627", "\x00", "\u200d", "&amp;", "&#0;",
         "&#x110000;", "&eacute", "<br />", "<i>", "<p>", "\ufeff", "\u00ad", "\U0001f3fd", "\U0001f1e9", "\ud800", " ",
         "\t", "\r\n", "<pad>", "<unk>", "<eos>", "▁", "@-@", "'", '"']


def text_of(data: bytes) -> str:
    """The text of an input: its first byte picks the decoding and the dressing, the rest is the text."""
    if not data:
        return ""
    how, fdp = data[0], atheris.FuzzedDataProvider(data[1:])
    raw = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 4096))
    codec = how % 5
    if codec == 0:
        text = raw.decode("utf-8", "replace")
    elif codec == 1:
        text = raw.decode("utf-8", "surrogateescape")
    elif codec == 2:
        text = raw[: len(raw) // 2 * 2].decode("utf-16-le", "surrogatepass")
    elif codec == 3:
        text = raw.decode("latin-1")
    else:
        text = raw.decode("utf-8", "surrogatepass") if _utf8_surrogates(raw) else raw.decode("utf-8", "replace")
    dress = (how // 5) % 3
    if dress == 1:
        for _ in range(fdp.ConsumeIntInRange(1, 8)):
            at = fdp.ConsumeIntInRange(0, len(text))
            text = text[:at] + DRESS[fdp.ConsumeIntInRange(0, len(DRESS) - 1)] + text[at:]
    elif dress == 2 and text:
        a = fdp.ConsumeIntInRange(0, len(text) - 1)
        piece = text[a:a + fdp.ConsumeIntInRange(1, 16)]
        text = text + piece * (fdp.ConsumeIntInRange(1, 20_000) // len(piece))
    return text


def _utf8_surrogates(raw: bytes) -> bool:
    try:
        raw.decode("utf-8", "surrogatepass")
        return True
    except UnicodeDecodeError:
        return False


def check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)


def in_vocab(ids, size: int, what: str) -> None:
    check(all(isinstance(i, int) and 0 <= i < size for i in ids), f"{what}: an id outside 0..{size - 1}: {ids[:20]}")


def one(data: bytes) -> None:
    text = text_of(data)
    other = text[::-1][:50]
    for lower in (True, False):
        for html in (0, 1, 2):
            check(V.tokenize_many([text, other, "plain"], lower, html=html)
                  == [V.tokenize_words(t, lower, html=html) for t in (text, other, "plain")],
                  f"tokenize_many differs from tokenize_words (lowercase={lower}, html={html})")
    chars = "".join(V.tokenize_chars(text))
    check(chars == chars.strip(" ") and "  " not in chars, "tokenize_chars left a run of spaces or one at an end")
    for name, tok in BASE.items():
        ids = tok.encode(text)
        in_vocab(ids, tok.vocab_size, name)
        check(len(ids) > 0, f"{name}: encode gave no id")
        check(len(tok.pieces(text)) == len(ids), f"{name}: pieces and encode differ in length")
        ids_many, lengths = tok.encode_many([text, other])
        check(ids_many.tolist() == ids + tok.encode(other) and lengths.tolist() == [len(ids), len(tok.encode(other))],
              f"{name}: encode_many differs from encode end to end")
        check(LOADED[name].encode(text) == ids, f"{name}: the tokenizer read back encodes otherwise")
    for name, tok in SIDES.items():
        ids = tok.encode(text)
        in_vocab(ids, tok.vocab_size, name)
        check(LOADED[name].encode(text) == ids, f"{name}: the tokenizer read back encodes otherwise")
        back = tok.decode(ids)
        if V.UNK_ID not in ids:
            if tok.kind == "bpe":
                check(back == tok._clean(text), f"{name}: decode(encode(text)) is not the text as cleaned")
            else:
                check(tok.pieces(back) == tok.pieces(text), f"{name}: the decoded text reads as other tokens")
    for name, tok in LMS.items():
        ids = tok.encode(text)
        in_vocab(ids, tok.vocab_size, name)
        check(len(tok.pieces(text)) == len(ids), f"{name}: pieces and encode differ in length")
        check(LOADED[name].encode(text) == ids, f"{name}: the tokenizer read back encodes otherwise")
        back = tok.decode(ids)
        if V.UNK_ID not in ids:
            if tok.level == "bpe":
                check(back == tok.base.clean(text), f"{name}: decode(encode(text)) is not the text as cleaned")
            else:
                check(tok.encode(back) == ids, f"{name}: the decoded text reads as other tokens")


def reloaded(tok, cls):
    return cls.from_dict(json.loads(json.dumps(tok.to_dict())))


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    BASE = {kind: V.make_tokenizer(kind, min_freq=1).fit(TRAIN) for kind in ("word", "char", "bpe")}
    SIDES = {f"side_{kind}": SideTokenizer(kind, min_freq=1).fit(TRAIN) for kind in ("word", "bpe")}
    LMS = {f"lm_{level}": LMTokenizer(level).fit(TRAIN) for level in ("char", "word", "bpe")}
    LOADED = {**{k: V.tokenizer_from_dict(json.loads(json.dumps(t.to_dict()))) for k, t in BASE.items()},
              **{k: reloaded(t, SideTokenizer) for k, t in SIDES.items()},
              **{k: reloaded(t, LMTokenizer) for k, t in LMS.items()}}
    seeded(sys.argv, [(f"s{k}", bytes([k]) + bytes([200, 0]) + t.encode("utf-8", "surrogatepass"))
                      for k, t in enumerate(TRAIN[:8] + DRESS[:7])])
    fuzz(one, ())
