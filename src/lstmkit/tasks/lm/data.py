"""Lines of text in, token ids with a start and an end out.

    read_corpus(path | lines)           non-blank lines, with how many blank ones were skipped; a
                                        CSV / TSV / JSONL file (``.gz`` too) gives one line per row
                                        of its text column (labels and other columns ignored); a
                                        fastText file or a class-index CSV (AG News) gives its texts
    cap_tokens(corpus, max_tokens, seed)  a seeded random share of the lines, about max_tokens words
    LMTokenizer("char"|"word"|"bpe")    the tokenizers of lstmkit.data.vocab plus <bos> and </s>
    split_lines(n, val_frac, seed)      seeded held-out lines (at least one on each side)
    split_corpus(corpus, val_frac, seed)  those lines; a one-line corpus: its last val_frac
    line_pieces(ids, max_len)           (input, target) training sequences of at most max_len
    corpus_pieces(id_lines, max_len)    the same for every line, built end to end

Why lines and an end token. Each line (a sentence, an utterance, a review) is one sequence::

    input   <bos>  t1  t2 … tn
    target   t1    t2  …  tn  </s>

so the model learns P(</s> | prefix), which a speech decoder needs to tell a finished sentence
from an unfinished one, and every line starts from the same state (the one after ``<bos>``),
which is what a streaming scorer hands out as its initial state. A line longer than
``max_len`` tokens is trained as consecutive pieces of at most ``max_len`` steps, each starting
from a fresh state but with the true previous token as input (truncated back-propagation
through time without carried state); evaluation always runs whole lines.

Ids: the base tokenizer's (``<pad>`` 0, ``<unk>`` 1, then its tokens), then ``<bos>`` and
``</s>`` appended. ``<pad>`` and ``<bos>`` are never predicted.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
import torch

from lstmkit.data.arrays import arrow_as_frame, text_items
from lstmkit.data.columns import a_type, missing_value
from lstmkit.data.compressed import read_data
from lstmkit.data.decoding import folder_text_files, whole_characters
from lstmkit.data.table_changes import folder_table, is_rows_table, lines_table, texts_table
from lstmkit.data.splits import check_not_saved_dataset, parts_shown, split_parts, split_parts_fix
from lstmkit.data.tables import is_table, read_table
from lstmkit.data.textfile import check_readable, column_strings, decode_text, table_column
from lstmkit.data.textsets import class_index_csv, fasttext_lines, is_class_index_csv
from lstmkit.data.vocab import (PAD_ID, UNK_ID, BPETokenizer, join_words, make_tokenizer, state_error,
                                tokenizer_from_dict)
from lstmkit.errors import (BadValue, LstmkitError, caller_wording, callers_level, missing_path_fix, opt,
                            warnings_caught, worded)
from lstmkit.runs import path_exists

__all__ = ["BOS", "EOS", "PAD_ID", "UNK_ID", "Corpus", "read_corpus", "corpus_table", "cap_tokens", "LMTokenizer",
           "split_lines", "split_corpus", "warn_shared_lines", "line_pieces", "corpus_pieces", "ONE_LINE_MIN"]

BOS, EOS = "<bos>", "</s>"
ONE_LINE_MIN = 1000        # characters a one-line corpus needs for its end to be held out (split_corpus)


@dataclass
class Corpus:
    """Non-blank lines of a text and where they came from."""
    lines: list[str]
    source: str
    report: dict[str, int] = field(default_factory=dict)     # read, blank
    # the table read (a file's, or given): a resume compares it
    table: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.lines)

    def subset(self, idx) -> Corpus:
        return Corpus([self.lines[i] for i in idx], self.source, dict(self.report))


def read_corpus(data: Any, encoding: str = "utf-8", what: str = "--data", text_column: str | None = None) -> Corpus:
    """Lines of a text file (a path), a list of strings or a DataFrame's ``text_column`` (default
    ``text``); blank lines (and a frame's empty cells) are skipped and counted.

    A ``.csv`` / ``.tsv`` / ``.jsonl`` file (optionally ``.gz``) is a table: each row's
    ``text_column`` (default ``text``) is one line, its own line breaks turned into spaces (a
    review is one sequence); other columns, labels included, are ignored. A fastText file's lines
    (``__label__pos text``) and a headerless class-index CSV's rows (Zhang et al.'s AG News, Yelp,
    …: :mod:`lstmkit.data.textsets`) give their texts, the labels dropped. A plain file may be
    gzipped too. A folder is the lines of its ``.txt`` files (sub-folders and ``.txt.gz`` too), in
    the order of their paths. A missing, empty or undecodable file is an :class:`LstmkitError`
    naming the file (and for undecodable bytes the line and the ``--encoding`` fix).
    """
    part = "validation " if what == "--val" else ""          # in memory, the message names the part
    table, plain = None, False
    data = arrow_as_frame(data)                               # a pyarrow Table: read as a DataFrame
    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path_exists(path):
            text = str(data)                     # a text given as the path: its start; a path: whole
            shown = f"{text[:60]!r}…" if len(text) > 255 or "\n" in text else text
            raise LstmkitError(f"file not found: {shown}", missing_path_fix(path, f"check the {_option(what)} path" + (
                worded("", "; a text itself goes in as a list of lines, e.g. [text]") if isinstance(data, str)
                else "")))            # a command's argument is a path, never a text
        if path.is_dir():                                        # a folder of .txt files: a row a file on resume
            lines, table = _folder_lines(path, encoding, what, text_column)
        else:
            check_readable(path, f"pass a text file or a folder of .txt files with {_option(what)}")
            lines, table, plain = _file_lines(path, encoding, text_column)
        source = str(path)
    elif isinstance(data, pd.DataFrame):            # iterated, a frame gives its column names, not its texts
        with caller_wording(python=True):          # only Python passes a DataFrame: text_column=, not --text-column
            table, col = data, table_column(data, text_column or "text", "text", " in the DataFrame", "text_column")
        lines = [" ".join(s.split()) for s in column_strings(col)]
        source = f"the {part}DataFrame given"
    elif isinstance(data, (set, frozenset)):      # its order is string hashing's: another each process
        raise LstmkitError(f"the {part}text is a set, which has no order: its lines would be split and trained in an "
                           "order that changes from one Python process to the next, whatever the seed",
                           "pass a list, e.g. sorted(texts)")
    elif (items := text_items(data)) is not None or isinstance(data, Iterable) and not isinstance(
            data, (bytes, bytearray, dict)):
        lines = items if items is not None else list(data)        # pyarrow arrays: their strings, not Arrow scalars
        bad = next((i for i, ln in enumerate(lines) if not isinstance(ln, str)), None)
        if bad is not None and missing_value(lines[bad]):          # a pandas column's empty cell: NaN, not 'a float'
            raise LstmkitError(f"line {bad + 1} of the {part}text is missing ({missing_value(lines[bad])}), not a "
                               "string", "drop the missing lines (pandas: s.dropna()), or fill them with '' (blank "
                               "lines are skipped)")
        if bad is not None:
            raise LstmkitError(f"line {bad + 1} of the {part}text is {a_type(lines[bad])}, not a string",
                               "pass a path or a list of strings, one line of text each" + (
                                   "; decode bytes first: [b.decode('utf-8') for b in lines]"
                                   if isinstance(lines[bad], (bytes, bytearray)) else ""))
        lines = [ln for chunk in lines for ln in (chunk.splitlines() or [""])]
        source, plain = f"the {part}lines given", True      # a resume compares them with a file's lines
    else:
        raise LstmkitError(f"cannot read {part}text from a {type(data).__name__}",
                           "pass a path to a text file or a list of strings" + (
                               " (a dict of columns: pd.DataFrame(d), its texts' column named by text_column)"
                               if isinstance(data, dict) else
                               " (bytes: data.decode('utf-8').splitlines())" if isinstance(data, (bytes, bytearray))
                               else ""))
    stripped = whole_characters([ln.strip() for ln in lines], "lines")     # lone surrogates: U+FFFD
    kept = [ln for ln in stripped if ln]
    if not kept:
        problem = (f"{source} is empty" if isinstance(data, (str, Path)) else
                   f"{source} {'holds' if isinstance(data, pd.DataFrame) else 'hold'} no text")
        raise BadValue(problem, "supply text, one sentence or paragraph per line")
    if plain:
        table = lines_table(stripped)           # a plain text's lines, as they train: a resume compares them
    report = {"read": len(lines), "blank": len(lines) - len(kept)}
    if table is not None and is_rows_table(table, "file"):
        report["files"] = len(table)                           # a folder's .txt files
    return Corpus(kept, source, report, table)


def corpus_table(path: Path, encoding: str = "utf-8", text_column: str | None = None) -> pd.DataFrame | None:
    """The table :func:`read_corpus` reads from the file ``path``, as it reads it: a table, a
    fastText file's or a headerless class-index CSV's texts as rows
    (:func:`~lstmkit.data.table_changes.texts_table`), or a plain text's lines
    (:func:`~lstmkit.data.table_changes.lines_table`); None for plain text read with
    ``text_column``. Its warnings were said when the run read it."""
    if path.is_dir():
        return _folder_lines(path, encoding, text_column=text_column)[1]
    if text_column is None and is_class_index_csv(path):
        with warnings_caught():
            warnings.simplefilter("ignore")
            return texts_table(_class_index_lines(path, encoding))
    if is_table(path):
        return read_table(path, encoding)
    if text_column is not None:
        return None
    lines, labelled = _plain_lines(path, encoding)
    return texts_table(lines) if labelled else lines_table([ln.strip() for ln in lines])


def _file_lines(path: Path, encoding: str, text_column: str | None) -> tuple[list[str], pd.DataFrame | None, bool]:
    """A file's lines, the table a resume compares (None: a plain text's, made from its lines as
    kept), and whether it is plain text."""
    if text_column is None and is_class_index_csv(path):     # AG News and kin: their text fields, no class
        lines = _class_index_lines(path, encoding)
        return lines, texts_table(lines), False              # its texts as rows: a resume compares them
    if is_table(path):
        table = read_table(path, encoding)
        col = table_column(table, text_column or "text", "text", f" in {path}", "text_column")
        return [" ".join(s.split()) for s in column_strings(col)], table, False
    if text_column is not None:
        raise LstmkitError(f"{_column_option(text_column)} needs a table, but {path} is plain text",
                           f"drop {opt('text_column')}, or pass a .csv / .tsv / .jsonl / .xlsx / .parquet file")
    lines, labelled = _plain_lines(path, encoding)
    return lines, texts_table(lines) if labelled else None, not labelled    # a fastText file's texts as rows


def _column_option(text_column: str) -> str:
    """``text_column`` as the caller gave it: ``--text-column 'body'``, ``text_column='body'``."""
    return worded(f"--text-column {text_column!r}", opt("text_column", text_column))


def _option(what: str) -> str:
    """``what`` (read_corpus's name of the data) in the caller's words: ``--data`` / ``--val`` are
    ``data=`` / ``val_data=`` from Python (:meth:`LanguageModel.fit`'s keywords: ``val=`` is the older
    name of ``val_data=``, which a fit given val_data= was told: 'check the val= path'); anything else as it is."""
    if what == "--val":
        return worded(opt("val"), opt("val_data"))
    return opt("data") if what == "--data" else what


def _folder_lines(folder: Path, encoding: str, what: str = "--data", text_column: str | None = None):
    """The lines of every ``.txt`` file under ``folder`` (sub-folders too, ``.txt.gz`` too, in the
    order of their paths: :func:`~lstmkit.data.decoding.folder_text_files`), and the table a resume
    compares (:func:`~lstmkit.data.table_changes.folder_table`: a row a file)."""
    if text_column is not None:
        raise LstmkitError(f"{_column_option(text_column)} needs a table, but {folder} is a folder of text files",
                           f"drop {opt('text_column')}, or pass a .csv / .tsv / .jsonl / .xlsx / .parquet file")
    if what in ("--data", "--val"):
        _check_one_part(folder, what)
    files = folder_text_files(folder)
    if not files:
        others = sorted({f.suffix.lower() or f.name for f in folder.rglob("*") if f.is_file()})[:5]
        raise LstmkitError(f"{folder} is a folder with no .txt files" + (f" (it holds {', '.join(others)} files)"
                                                                         if others else ""),
                           f"pass a folder of .txt files (sub-folders are read too), or one text file with {_option(what)}")
    lines, texts = [], []
    for f in files:
        own, _ = _plain_lines(f, encoding)
        lines += own
        texts.append("\n".join(ln.strip() for ln in own))
    return lines, folder_table([f.relative_to(folder).as_posix() for f in files], texts)


def _check_one_part(folder: Path, what: str = "--data") -> None:
    """An error when ``folder`` holds a data set in parts (Penn Treebank's ``ptb.train.txt``,
    ``ptb.valid.txt``, ``ptb.test.txt``; WikiText's ``wiki.*.tokens``): every file was read as the
    training corpus, the test part trained on and the held-out lines drawn from all of them (as
    ``--val``, the training and test parts scored as validation, early stopping on them); a Hugging
    Face ``save_to_disk`` folder: the export to do."""
    check_not_saved_dataset(folder, lambda parts: split_parts_fix(parts, test=None, score="lm evaluate --run RUN --data"))
    parts = split_parts(folder, lambda f: True)
    if parts and what == "--val":
        others = " and ".join({"train": "training", "test": "test"}[p] for p in parts if p != "val")
        fix = (f"pass its validation file with {_option(what)} ({parts['val'][0]})" if len(parts.get("val", [])) == 1
               else split_parts_fix(parts, test=None, score="lm evaluate --run RUN --data"))
        raise LstmkitError(f"{folder} holds a data set in parts ({parts_shown(folder, parts)}): read as one validation "
                           f"text, its {others} part{'s' if ' and ' in others else ''} would be scored as validation "
                           "(early stopping on text trained on)", fix)
    if parts:
        others = " and ".join({"val": "validation", "test": "test"}[p] for p in parts if p != "train")
        raise LstmkitError(f"{folder} holds a data set in parts ({parts_shown(folder, parts)}): read as one corpus, its {others} "
                           f"part{'s' if ' and ' in others else ''} would be trained on",
                           split_parts_fix(parts, test=None, score="lm evaluate --run RUN --data"))


def _class_index_lines(path: Path, encoding: str) -> list[str]:
    """A class-index CSV's texts (Zhang et al.'s AG News, …), their white space made single spaces."""
    return [" ".join(s.split()) for s in class_index_csv(path, encoding, labels=False).texts]


def _plain_lines(path: Path, encoding: str) -> tuple[list[str], bool]:
    """The lines of a plain file (gzipped too), and whether it is a fastText file: then its texts,
    the labels dropped (``__label__pos text``: the text alone)."""
    # decompressed as a plain file is read: an empty .gz was 'file is empty — supply a file with a header row'
    text = decode_text(read_data(path), path, encoding)
    labelled = fasttext_lines(text, f" in {path}", labels=False)
    return (text.splitlines(), False) if labelled is None else (labelled.texts, True)


def cap_tokens(corpus: Corpus, max_tokens: int | None, seed: int) -> Corpus:
    """A seeded random share of the lines holding about ``max_tokens`` white-space words (the
    whole corpus when it holds fewer, or ``max_tokens`` is None), in their original order:
    one affordable pass over a large corpus. ``report["kept"]`` counts the lines kept."""
    if max_tokens is None:
        return corpus
    order = np.random.default_rng(seed).permutation(len(corpus.lines))
    counts = np.array([len(corpus.lines[i].split()) for i in order])
    n = max(2, int(np.searchsorted(np.cumsum(counts), max_tokens, side="right")))
    if n >= len(order):
        return corpus
    out = corpus.subset(np.sort(order[:n]))
    out.report["kept"] = n
    return out


class _MetaspaceBPE(BPETokenizer):
    """lstmkit's BPE with a Metaspace pre-tokenizer and decoder, so sampled subwords decode to
    text with its spaces (the plain one splits on white space and forgets where words began).
    Its state is a :class:`BPETokenizer` state: ``tokenizer_from_dict`` rebuilds it unchanged."""

    def set_pre_tokenizer(self, tk, tok) -> None:
        tok.pre_tokenizer = tk.pre_tokenizers.Metaspace()
        tok.decoder = tk.decoders.Metaspace()


class LMTokenizer:
    """A tokenizer of :mod:`lstmkit.data.vocab` with ``<bos>`` and ``</s>`` added after its ids.

    ``itos`` lists every id's token; ``bos_id`` / ``eos_id`` are the last two ids. ``encode``
    gives the ids of a line without the specials; ``decode`` turns ids back into text (characters
    joined, words joined by spaces, subwords through the BPE decoder).
    """

    def __init__(self, level: str = "char", min_freq: int = 1, max_size: int | None = None,
                 lowercase: bool = True):
        if level not in ("char", "word", "bpe"):
            raise LstmkitError(f"unknown level {level!r}", "use char, word or bpe")
        self.level, self.min_freq, self.max_size, self.lowercase = level, min_freq, max_size, lowercase
        self.base = None

    # -- fitting and state ----------------------------------------------------------------
    def fit(self, lines: Sequence[str]) -> LMTokenizer:
        if self.level == "bpe":
            base = _MetaspaceBPE(self.min_freq, self.max_size or 8000, self.lowercase)
        else:
            base = make_tokenizer(self.level, self.min_freq, self.max_size, self.lowercase)
        self._set_base(base.fit(lines))
        if len(self.itos) <= 4 and self.level == "word" and not any(map(base.tokens, lines)):
            # it was 'no word occurs at least 2 times — lower --min-freq': none occurs at all
            raise LstmkitError("the text holds no word (letters, digits or emoji): punctuation only",
                               f"pass {opt('level', 'char')} (each character a token) or {opt('level', 'bpe')}")
        if len(self.itos) <= 4:
            unit = {"char": "character", "word": "word", "bpe": "subword"}[self.level]
            raise LstmkitError(f"the vocabulary is empty: no {unit} occurs at least {self.min_freq} times",
                               f"supply more text or lower {opt('min_freq')}")
        return self

    def _set_base(self, base) -> None:
        self.base = base
        self.itos = [*base.vocab.itos, BOS, EOS]
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        self.bos_id, self.eos_id = len(self.itos) - 2, len(self.itos) - 1

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "specials": {"pad": PAD_ID, "unk": UNK_ID, "bos": self.bos_id,
                                                  "eos": self.eos_id, "end_token": EOS},
                "base": self.base.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LMTokenizer:
        base_state = d["base"]
        # 'unknown level … use char, word or bpe' asked the user to choose; a word base under 'char' read as words
        kind = base_state.get("kind") if isinstance(base_state, dict) else None
        if d.get("level") not in ("char", "word", "bpe") or kind != d["level"]:
            raise state_error(f"has level {d.get('level')!r} over a tokenizer of kind {kind!r}: not one of "
                              "char, word or bpe over the same kind")
        tok = cls(d["level"], base_state.get("min_freq", 1), base_state.get("max_size"),
                  base_state.get("lowercase", True))
        tok._set_base(tokenizer_from_dict(base_state))
        if tok.bos_id != d["specials"]["bos"] or tok.eos_id != d["specials"]["eos"]:
            raise ValueError("the special ids do not match the vocabulary")
        return tok

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    @property
    def word_marker(self) -> str | None:
        """The character a subword begins with where a word begins (``'▁'``: the Metaspace
        pre-tokenizer of an lm's BPE), or None (char and word level, a BPE without it)."""
        if self.level != "bpe":
            return None
        pre = self.base._tok.pre_tokenizer
        return getattr(pre, "replacement", None) if type(pre).__name__ == "Metaspace" else None

    # -- text <-> ids ---------------------------------------------------------------------
    def pieces(self, text: str) -> list[str]:
        """The tokens of ``text`` as the model sees them (unknown ones included; at BPE level an
        unknown one is its text, as the tokenizer's '<unk>' would not say which)."""
        if self.level == "bpe":
            clean = self.base.clean(text)
            enc = self.base._tok.encode(clean)
            unk = self.itos[UNK_ID]
            return [clean[a:b] if t == unk else t for t, (a, b) in zip(enc.tokens, enc.offsets)]
        return self.base.tokens(text)

    def encode(self, text: str) -> list[int]:
        """Ids of the tokens of ``text`` (no ``<bos>`` / ``</s>``; empty when it has no token)."""
        if self.level == "bpe":
            return list(self.base._tok.encode(self.base.clean(text)).ids)
        return self.base.vocab.encode(self.base.tokens(text))

    def token_id(self, token: str) -> int:
        """Id of one token string; unknown ones (after lower-casing, if the model does) are ``<unk>``."""
        i = self.stoi.get(token)
        if i is None and self.lowercase:
            i = self.stoi.get(token.lower())
        return UNK_ID if i is None else i

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids``; ``<pad>``, ``<bos>`` and ``</s>`` are dropped."""
        ids = [int(i) for i in ids if int(i) not in (PAD_ID, self.bos_id, self.eos_id)]
        if self.level == "bpe":
            return self.base._tok.decode(ids, skip_special_tokens=False)
        words = [self.itos[i] for i in ids]
        return "".join(words) if self.level == "char" else join_words(words)


def split_lines(n: int, val_frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random train / held-out line indices, at least one of each."""
    if n < 2:
        raise LstmkitError(f"the corpus holds {n} line of text: too little to hold out a validation part",
                           f"supply at least 2 lines (better: hundreds), one line of at least {ONE_LINE_MIN:,} "
                           f"characters, or a validation file with {worded('--val', 'val_data=')}")
    order = np.random.default_rng(seed).permutation(n)
    n_val = min(n - 1, max(1, round(n * val_frac)))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def split_corpus(corpus: Corpus, val_frac: float, seed: int) -> tuple[Corpus, Corpus]:
    """The training and held-out lines: a seeded ``val_frac`` of the lines (:func:`split_lines`).
    A corpus of one line of at least ``ONE_LINE_MIN`` characters (a book, or text8, without line
    breaks) holds out the last ``val_frac`` of that line instead, cut at the white space nearest
    that point (at the point itself when the line has none, e.g. Chinese); ``report["tail"]`` is
    then True."""
    line = corpus.lines[0]
    if len(corpus) == 1 and len(line) >= ONE_LINE_MIN:
        at = round(len(line) * (1.0 - val_frac))
        spaces = [m.start() for m in re.finditer(r"\s", line)]
        if spaces:
            at = min(spaces, key=lambda k: abs(k - at))
        head, tail = line[:at].strip(), line[at:].strip()
        report = {**corpus.report, "tail": True}
        return Corpus([head], corpus.source, report), Corpus([tail], corpus.source, report)
    tr_idx, va_idx = split_lines(len(corpus), val_frac, seed)
    return corpus.subset(tr_idx), corpus.subset(va_idx)


def line_pieces(ids: Sequence[int], bos_id: int, eos_id: int, max_len: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``(input, target)`` pairs for one line: ``<bos> t1 … tn`` -> ``t1 … tn </s>``, cut into
    pieces of at most ``max_len`` steps (every target predicted exactly once)."""
    return corpus_pieces([ids], bos_id, eos_id, max_len)


def corpus_pieces(id_lines: Sequence[Sequence[int]], bos_id: int, eos_id: int,
                  max_len: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """:func:`line_pieces` of every line, in order, built end to end and split into views (a loop
    per line took 10.4 s on 200,000 lines, this 1.6 s)."""
    if not id_lines:
        return []
    n = np.fromiter(map(len, id_lines), np.int64, len(id_lines)) + 1              # [N] steps of each line
    first = np.cumsum(n) - n                                                        # [N] each line's <bos>
    inp = np.empty(int(n.sum()), np.int64)
    tgt = np.empty_like(inp)
    words = np.ones(len(inp), dtype=bool)
    words[first] = False
    inp[words] = np.fromiter(chain.from_iterable(id_lines), np.int64, len(inp) - len(n))
    inp[first] = bos_id
    tgt[:-1], tgt[first + n - 1] = inp[1:], eos_id              # a line's targets: its inputs one step on
    cuts = -(-n // max_len)                                                         # [N] pieces of each line
    sizes = np.full(int(cuts.sum()), max_len, np.int64)
    sizes[np.cumsum(cuts) - 1] = n - (cuts - 1) * max_len                          # each line's last piece
    sizes = sizes.tolist()
    return list(zip(torch.from_numpy(inp).split(sizes), torch.from_numpy(tgt).split(sizes)))


def warn_shared_lines(train: Sequence[str], held: Sequence[str], what: str, fix: str) -> None:
    """One warning when most ``what`` lines (validation, test) are training lines too (the training
    file given again): the perplexity on them is the training text's and flatters the model. Short
    lines repeat in any corpus, so a minority shared is not a mistake."""
    seen = set(train)
    shared = sum(line in seen for line in held)
    if shared > len(held) / 2:
        warnings.warn(f"{shared} of the {len(held)} {what} lines are training lines too: the {what} perplexity "
                      f"flatters the model{fix}", UserWarning, stacklevel=callers_level())
