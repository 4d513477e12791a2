"""Sentence pairs in, checked and tokenised per side.

    read_pairs(data=…, src=…, tgt=…)            a CSV/TSV/JSONL/XLSX/Parquet table with source and target columns
    read_pairs(src_file=…, tgt_file=…)          two line-aligned files (Multi30k style)
    pair_table(path, src=, tgt=)                the table read_pairs reads from a file (a resume compares it)
    clean_pairs(pairs, src_lens, tgt_lens, …)   length filter and de-duplication, with counts
    warn_repeated_pairs(train, part, what)      validation pairs that training holds too
    SideTokenizer("word" | "bpe").fit(texts)    ids with <pad> 0, <unk> 1, <bos> 2, <eos> 3;
                                                decode(ids) gives detokenised text back
    SideTokenizer("word").fit_pieces(pieces)    the same fit on texts already cut (each cut once)

Every check happens before a run folder exists, and each failure is one LstmkitError that
names the file, the line and the fix.
"""
from __future__ import annotations

import csv
import functools
import html as _html
import json
import os
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from lstmkit.data.arrays import arrow_as_frame, text_items
from lstmkit.data.columns import closest_name, looks_like_data
from lstmkit.data.compressed import read_data
from lstmkit.data.decoding import whole_characters
from lstmkit.data.table_changes import aligned_lines_table
from lstmkit.data.tables import FEATHER, PARQUET, SHEETS, is_pipe, is_stdin, pipe_as_file, read_table
from lstmkit.data.textfile import (JSONL, check_readable, column_strings, decode_text, file_ext, header_separator,
                                   parse_table, read_text_file, row_place, separator_line, separator_name,
                                   table_column, text_lines, unseparated_line)
from lstmkit.data.vocab import (INVISIBLE_READING, PAD, SPACELESS, UNK, Vocab, bpe_from_state, bpe_reading,
                                checked_itos, checked_rules, import_tokenizers, join_words, mark_class,
                                normalize_text, one_spaced, specials_as_text, state_error)
from lstmkit.data.splits import check_not_saved_dataset, parts_shown, split_parts, split_parts_fix
from lstmkit.errors import (BadValue, ColumnNotFound, LstmkitError, callers_level, missing_path_fix, opt,
                            warnings_caught, worded)
from lstmkit.runs import path_exists
from lstmkit.nn.seq2seq import BOS_ID, EOS_ID, PAD_ID, UNK_ID

__all__ = ["BOS", "EOS", "PAD_ID", "UNK_ID", "BOS_ID", "EOS_ID", "Pairs", "read_lines", "read_pairs", "pair_table",
           "check_not_markup", "check_sources", "MARKUP", "one_line", "clean_pairs", "split_pairs", "warn_repeated_pairs",
           "SideTokenizer", "detokenize", "SPACELESS", "written_without_spaces"]

BOS, EOS = "<bos>", "<eos>"
DEFAULT_COLUMNS = ("src", "tgt")          # a table's columns when none are named
SPECIALS = [PAD, UNK, BOS, EOS]


@dataclass
class Pairs:
    """Aligned source and target sentences, and what reading and cleaning removed."""
    src: list[str]
    tgt: list[str]
    report: dict[str, int] = field(default_factory=dict)
    # the tables read from files, by the argument that named them ("data", or "src_file" and
    # "tgt_file": a plain-text file's lines, one column 'line'): a resume compares them
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.src)

    def subset(self, idx) -> Pairs:
        return Pairs([self.src[i] for i in idx], [self.tgt[i] for i in idx], dict(self.report))


def read_lines(path: str | Path, encoding: str = "utf-8") -> list[str]:
    """The lines of a text file (no trailing newline); bytes outside ``encoding`` name their line."""
    path = Path(path)
    _check_file(path, "pass a text file with one sentence per line")
    text = decode_text(read_data(path), path, encoding)
    lines = text_lines(text)
    if not any(ln.strip() for ln in lines):
        raise LstmkitError(f"file is empty: {path}", "supply one sentence per line")
    return lines


# translation-memory and markup formats: their lines are XML, not sentences or pairs
MARKUP = {".tmx": "a TMX (translation memory)", ".xlf": "an XLIFF", ".xliff": "an XLIFF",
          ".sgm": "an SGML (WMT test set)", ".xml": "an XML"}


def check_not_markup(path: Path) -> None:
    """Refuse a TMX, XLIFF, SGML or XML file: read as a table its first line was 'not column names',
    and read line by line (--src-file, ``translate run --data``) each XML line was a sentence."""
    kind = MARKUP.get(file_ext(path))
    if kind is not None:
        raise LstmkitError(f"{path} is {kind} file, which translate does not read",
                           f"convert it to sentence pairs: a TSV of source<TAB>target lines ({opt('data')}) or two "
                           f"line-aligned text files ({opt('src_file')}/{opt('tgt_file')}); OPUS offers each corpus as two "
                           "line-aligned files ('Moses' format) beside its TMX")


def check_sources(path: Path, lines: list[str] | None = None) -> None:
    """Refuse a table of sentence pairs given where source sentences, one a line, are read
    (``translate run --data``): a workbook, Parquet, Feather or JSON file from its name (it was 'not a
    text file: it is a Parquet file — rename it t.parquet', its own name; a JSON file's lines were
    translated as sentences), and, once its ``lines`` are read, a text file each of whose lines holds
    a tab (a TSV of pairs: each pair was translated whole, source and target as one sentence), or a
    ``.csv`` under a header of column names (its header was translated as a sentence, then each row
    whole, its cells joined by commas)."""
    ext = file_ext(path)
    kind = ("a workbook" if ext in SHEETS else "a Parquet file" if ext in PARQUET else "a Feather file"
            if ext in FEATHER else "a JSON file" if ext in JSONL else None)
    alone = "save its source column as a text file, one sentence a line"
    said = [(k, ln) for k, ln in enumerate(lines or [], 1) if ln.strip()]
    if kind is None and said and all("\t" in ln for _, ln in said):
        kind = f"a table of source<TAB>target pairs (line {said[0][0]}: {said[0][1].strip()[:60]!r})"
        alone = f"pass its sources alone (cut -f1 {path} > sources.txt)"
    elif kind is None and ext == ".csv" and _csv_of_pairs([ln for _, ln in said]):
        kind = f"a CSV table (its header, line {said[0][0]}: {said[0][1].strip()[:60]!r})"
    if kind is not None:
        raise LstmkitError(f"{path} is {kind}; translate run reads source sentences, one a line, from text",
                           f"score its pairs with 'lstmkit translate evaluate --data {path}', or {alone}")


def _csv_of_pairs(lines: list[str]) -> bool:
    """Whether ``lines`` (a ``.csv`` file's, blank ones left out) are a table: a header of two or more
    names without spaces (``en,de``, ``id,src,tgt``) over rows of as many cells."""
    rows = list(csv.reader(lines[:200]))
    if len(rows) < 2 or len(rows[0]) < 2 or not all(re.fullmatch(r"[\w.-]+", c.strip()) for c in rows[0]):
        return False
    return all(len(r) == len(rows[0]) for r in rows[1:])


# what ends a line for str.splitlines (and for editors): inside a sentence, a space
_LINE_BREAK = re.compile(r"[ \t]*[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+[ \t]*")


def one_line(text: str) -> str:
    """``text`` stripped, its line breaks each one space: a translation is one line. A BPE target
    read with a line break in it (a spreadsheet cell of two lines, a page break) learns it as part
    of a token, and wrote it inside a translation: `translate run` wrote two output lines for one
    input line, and every later line was misaligned."""
    return _LINE_BREAK.sub(" ", text.strip())


def _check_file(path: Path, hint: str) -> None:
    if not path_exists(path):
        raise LstmkitError(f"file not found: {path}", missing_path_fix(path, "check the path"))
    check_not_markup(path)
    if path.is_dir():
        _check_not_parts(path)
    check_readable(path, hint)


def _check_not_parts(folder: Path) -> None:
    """An error naming the files to pass when ``folder`` holds a data set's parts: IWSLT's or
    Multi30k's ``train.de`` / ``train.en`` / ``valid.de`` / … (each part a file per language), or a
    table per part (``train.tsv`` / ``test.tsv``); it was 'is a folder, not a text file'; a Hugging
    Face ``save_to_disk`` folder: the export to do."""
    check_not_saved_dataset(folder, lambda parts: split_parts_fix(parts, test=None,
                                                                 score="translate evaluate --run RUN --data"))
    parts = split_parts(folder, lambda f: True)
    if not parts:
        return
    problem = f"{folder} is a folder of a data set in parts ({parts_shown(folder, parts)}), not a file of pairs"
    langs = [sorted(paths, key=lambda f: f.suffix) for paths in parts.values()]
    if all(len(ps) == 2 and ps[0].suffix != ps[1].suffix and [f.suffix for f in ps] == [f.suffix for f in langs[0]]
           for ps in langs):
        (a, b), sides = langs[0], {"train": ("src_file", "tgt_file"), "val": ("val_src_file", "val_tgt_file")}
        sep = worded(" ", ", ")                   # --src-file A --tgt-file B; src_file='A', tgt_file='B'
        given = sep.join(("pass " if p == "train" else "") + f"{opt(sides[p][0], str(ps[0]))}{sep}"
                         f"{opt(sides[p][1], str(ps[1]))}" for p, ps in zip(parts, langs) if p in sides)
        test = dict(zip(parts, langs)).get("test")
        score = "; score the test part with " + worded(f"translate evaluate --run RUN --src-file {test[0]} --ref-file "
                                                       f"{test[1]}", f"evaluate(src_file={str(test[0])!r}, "
                                                       f"ref_file={str(test[1])!r})") if test else ""
        raise LstmkitError(problem, f"{given} ({a.suffix[1:]} to {b.suffix[1:]}; swap each pair of files for the other "
                                    f"direction){score}")
    raise LstmkitError(problem, split_parts_fix(parts, test=None, score="translate evaluate --run RUN --data"))


def _read_table(path: Path, src: str, tgt: str, encoding: str
                ) -> tuple[list[str], list[str], Callable[[int], str], pd.DataFrame]:
    """The two columns of a table file, where pair ``i`` is for a message (``"line 7"``, the
    file's line; ``"row 6"`` in JSON Lines, a workbook or a Parquet file, whose rows are counted),
    and the table read (:func:`pair_table`)."""
    df, place = _pair_frame(path, src, tgt, encoding)
    s, t = _pair_columns(df, src, tgt, f" in {path}")
    return s, t, place, df


def _pair_columns(df: pd.DataFrame, src: str, tgt: str, where: str) -> tuple[list[str], list[str]]:
    """The source and target sentences of the table ``df`` (its columns ``src`` and ``tgt``, or keys of a
    column of records: :func:`_languages`). Neither column there, the columns names, not data: one error
    naming both options (it named ``--src`` alone, and the next try was the same error for ``--tgt``)."""
    df = _languages(df, src, tgt, where)
    names = [str(c) for c in df.columns]
    if src not in names and tgt not in names and len(names) >= 2 and not looks_like_data(names) \
            and not closest_name(src, names) and not closest_name(tgt, names) and not isinstance(df.columns, pd.RangeIndex):
        raise ColumnNotFound(f"no source column {src!r} nor target column {tgt!r}{where}",
                             f"pass {opt('src')} and {opt('tgt')} with two of its columns: {', '.join(names[:8])}"
                             f"{', …' if len(names) > 8 else ''} (e.g. {opt('src', names[0])} {opt('tgt', names[1])}: "
                             f"{names[0]} to {names[1]})", names, src, renames={names[0]: src, names[1]: tgt})
    return (column_strings(table_column(df, src, "source", where, "src")),
            column_strings(table_column(df, tgt, "target", where, "tgt")))


def _languages(df: pd.DataFrame, src: str, tgt: str, where: str) -> pd.DataFrame:
    """``df`` with the keys of a column of records as columns of their own, where ``src`` or ``tgt``
    is not a column: Hugging Face's translation data sets ({"translation": {"en": …, "fr": …}}, exported by
    ``to_json``, a Parquet struct column, ``to_pandas()``), whose sentences were 'not found' under the
    languages' names. A record that lacks a key gives an empty sentence there. With no column named,
    which language is the source is not said: an error naming them."""
    names = [str(c) for c in df.columns]
    if src in names and tgt in names:
        return df
    nested = [c for c in df.columns if df[c].dtype == object and df[c].map(lambda v: isinstance(v, dict)).any()]
    if not nested:
        return df
    out = df
    for c in nested:
        flat = pd.DataFrame([v if isinstance(v, dict) else {} for v in df[c]], index=df.index)
        flat = flat[[k for k in flat.columns if str(k) not in names]]
        out = out.join(flat)
        keys = [str(k) for k in flat.columns]
        if (src, tgt) == DEFAULT_COLUMNS and src not in keys and tgt not in keys and len(keys) >= 2:
            shown = ", ".join(f"{k!r}: …" for k in keys[:4]) + (", …" if len(keys) > 4 else "")
            raise ColumnNotFound(f"column {str(c)!r}{where} holds each pair as a record of languages ({{{shown}}}, "
                                 "Hugging Face's translation layout) and which one is the source is not said",
                                 f"pass {opt('src', keys[0])} {opt('tgt', keys[1])} ({keys[0]} to {keys[1]}; swap "
                                 "them for the other direction)", keys, src)
    out.attrs = dict(df.attrs)
    return out


def pair_table(path: Path, src: str = "src", tgt: str = "tgt", encoding: str = "utf-8") -> pd.DataFrame:
    """The table :func:`read_pairs` reads from the file ``path`` with the columns ``src`` and
    ``tgt`` asked for, as it reads it (a headerless tab-separated file: its pairs, in columns
    'src' and 'tgt'). A --src-file or --tgt-file is read as
    :func:`~lstmkit.data.table_changes.aligned_lines_table` instead."""
    with warnings_caught():            # the read's own warnings were said when the run started
        warnings.simplefilter("ignore")
        return _pair_frame(path, src, tgt, encoding)[0]


def _pair_frame(path: Path, src: str, tgt: str, encoding: str) -> tuple[pd.DataFrame, Callable[[int], str]]:
    """The table of a pair file, and where pair ``i`` is for a message (``"line 7"``, the file's
    line; ``"row 6"`` in JSON Lines, a workbook or a Parquet file, whose rows are counted).

    Read as :mod:`lstmkit.data.tables` reads every task's tables (a byte-order mark names the
    encoding, ``.gz`` is decompressed, a ``.csv`` header of semicolons or tabs is read with them,
    ``.xlsx`` and ``.parquet`` too), with two rules of its own: a file that is not ``.csv``, JSON, a
    workbook or Parquet is tab-separated (Tatoeba's ``fra.txt``). A tab-separated file's quote marks
    are part of its sentences unless they quote its cells by CSV rules
    (:func:`lstmkit.data.quoting.tsv_quoting`).
    """
    _check_file(path, f"pass a CSV/TSV/XLSX/Parquet file of sentence pairs, or {opt('src_file')} and {opt('tgt_file')}")
    ext = file_ext(path)
    if ext in JSONL or ext in SHEETS or ext in PARQUET:
        df = read_table(path, encoding)
        place = partial(row_place, df)             # a sheet's row, a JSON line, a Parquet row
    else:
        text, sep, first_line = separator_line(read_text_file(path, encoding))
        header = text.split("\n", 1)[0]
        sep = sep or header_separator(header, "," if ext == ".csv" else "\t")
        names = header.split(sep) if sep == "\t" else next(csv.reader([header], delimiter=sep), [])
        one_word_each = all(re.fullmatch(r"[^\W\d]\w*", c.strip()) for c in names)   # column names
        if sep in ("\t", ",") and (src, tgt) == DEFAULT_COLUMNS and len(names) >= 2:
            if not one_word_each and sep == "\t":
                s, t = _headerless_pairs(path, text, first_line)
                return pd.DataFrame({"src": s, "tgt": t}, dtype=object), lambda i: f"line {i + first_line}"
            if len(names) == 2 and not one_word_each:
                return _headerless_csv_pairs(path, text, first_line)
            if sep == "\t" and not set(DEFAULT_COLUMNS) <= {c.strip() for c in names}:   # a word pair, or names
                raise LstmkitError(f"source column 'src' not found in {path}: its first line {header[:60]!r} is "
                                   f"read as column names", f"pass {opt('src')} and {opt('tgt')} with one of: "
                                   f"{', '.join(c.strip() for c in names)}; or, if that line is a pair, add a header "
                                   f"line 'src<TAB>tgt' above it")
        df = parse_table(text, path, sep, first_line=first_line)
        place = partial(row_place, df)
    return df, place


def _headerless_csv_pairs(path: Path, text: str, first_line: int) -> tuple[pd.DataFrame, Callable[[int], str]]:
    """A CSV file of two columns whose first line is not column names (a field of several words) and no
    columns asked for: each line a source and its target, read by CSV rules under the names 'src' and
    'tgt'. Said in one warning. (Its first pair was read as column names: 'pass --src a dog --tgt un chien'.)"""
    warnings.warn(f"{path} has no src,tgt header: read as pairs without a header, the first column the source "
                  f"and the second the target; name the columns of a header line with {opt('src')} and "
                  f"{opt('tgt')}", UserWarning, stacklevel=callers_level())
    df = parse_table("src,tgt\n" + text, path, ",", first_line=first_line - 1)
    return df, partial(row_place, df)


def _check_separated(path: Path, df: pd.DataFrame, i: int, encoding: str, cell: str) -> None:
    """An error when pair ``i`` (one with an empty side) is a line of the text table ``path`` that
    holds no separator and is the ``cell`` read: a space typed for the tab, the source and its target
    read as one source ('have an empty side … or pass --drop-empty', which dropped the pair)."""
    if df.attrs.get("sep") is None:
        return
    lines = text_lines(read_text_file(path, encoding))
    at = unseparated_line(lines, df, i, cell)
    if at is not None:
        mark = separator_name(df.attrs["sep"])
        raise LstmkitError(f"{path} line {at} holds no {mark}: the source and its target read as one cell "
                           f"({lines[at - 1].strip()[:60]!r})", f"put a {mark} between the sentence and its translation")


def _two_columns(data: Any) -> bool:
    """Whether ``data`` is ``(sources, targets)``: a tuple of two Series, arrays (numpy, pandas, pyarrow) or lists (not a
    tuple of two pairs, whose items are tuples, nor of two strings), read as two columns."""
    return (isinstance(data, tuple) and len(data) == 2
            and all(isinstance(side, (list, np.ndarray, pd.Series, pd.Index, pd.api.extensions.ExtensionArray))
                    or hasattr(side, "to_pylist") for side in data))          # pyarrow arrays


def _pair_rows(items: list | None) -> list:
    """``items``, each a (source, target) pair; a TypeError (the caller's 'not pairs' error) when none
    is (a list of sentences), and an error naming the first that is a string, a dict or a set among
    pairs: two characters ('你好') or two keys unpacked into a 'pair' without a word."""
    if items is None:
        raise TypeError("no pairs")
    single = (str, bytes, dict, set, frozenset)
    k = next((i for i, v in enumerate(items) if isinstance(v, single)), None)
    if k is None:
        return items
    if all(isinstance(v, type(items[k])) for v in items):
        raise TypeError("no pairs")
    raise LstmkitError(f"item {k + 1} of the pairs is a {type(items[k]).__name__} ({str(items[k])[:30]!r}), not a "
                       "(source, target) pair", "give every item as (source, target), or pass the sources as X and "
                       "their targets as y")


def _keyword(flag: str) -> str:
    """The Python keyword of a command-line flag of :func:`read_pairs` (``--src-file``: ``src_file``)."""
    return {"--val": "val_data"}.get(flag, flag.lstrip("-").replace("-", "_"))


def _described(data: Any) -> str:
    """What ``data`` is, for an error: its type, and a list's first item's when that is not a pair."""
    if isinstance(data, (list, tuple)) and data:
        return f"a {type(data).__name__} of {type(data[0]).__name__}s ({str(data[0])[:30]!r}, …)"
    return f"a {type(data).__name__}"


def _row(i: int) -> str:
    return f"row {i + 1}"


def _headerless_pairs(path: Path, text: str, first_line: int) -> tuple[list[str], list[str]]:
    """A tab-separated file whose first line is not column names (not one word per field) and no
    columns asked for: each line is a source, a tab, a target, and perhaps more fields (Tatoeba's
    pair files add an attribution), which are left out. Said in one warning."""
    lines = text_lines(text)
    fields = [ln.split("\t") if ln.strip() else ["", ""] for ln in lines]     # a blank line: an empty pair
    short = next((i for i, f in enumerate(fields) if len(f) < 2), None)
    if short is not None:
        raise LstmkitError(f"line {short + first_line} of {path} has no tab: {lines[short][:60]!r}",
                           "write one pair per line, source<TAB>target (or name the columns of a header "
                           f"line with {opt('src')} and {opt('tgt')})")
    extra = max(len(f) for f in fields) - 2
    if _numbered(fields):           # Tatoeba's sentence-pair export: id, sentence, id, sentence
        warnings.warn(f"{path} has no src/tgt header and its first and third fields are numbers (Tatoeba's "
                      f"id<TAB>sentence<TAB>id<TAB>sentence export): the second field of each line is read as the "
                      f"source and the fourth as the target", UserWarning, stacklevel=callers_level())
        fields = [f if len(f) == 4 else [""] * 4 for f in fields]          # a blank line: an empty pair
        return [f[1] for f in fields], [f[3] for f in fields]
    warnings.warn(f"{path} has no src/tgt header: read as pairs without a header, the first field of each "
                  f"line the source and the second the target" + (f" ({extra} more field(s) left out)" if extra else "")
                  + f"; name the columns of a header line with {opt('src')} and {opt('tgt')}",
                  UserWarning, stacklevel=callers_level())
    return [f[0] for f in fields], [f[1] for f in fields]


_LONE_CR = re.compile(r"\r(?!\n)")


def _check_no_lone_returns(files: tuple[Any, Any], counts: tuple[int, int], encoding: str) -> None:
    """An error naming a carriage return inside a line of one of two line-aligned ``files`` (whose
    ``counts`` of lines differ), where that file also ends its lines with line feeds: read as a line's
    end (an old Mac file's), it made one line more than ``wc -l`` and ``paste`` count, and the error
    was 'a.en has 301 lines but a.fr has 300', which both are by ``wc -l``."""
    for path, n in zip(files, counts):
        text = decode_text(read_data(Path(path)), Path(path), encoding)
        lone = _LONE_CR.search(text)
        if lone is None or "\n" not in text:
            continue
        line = text.count("\n", 0, lone.start()) + 1
        shown = text[text.rfind("\n", 0, lone.start()) + 1:].split("\n", 1)[0].removesuffix("\r")[:60]
        other, m = next((p, c) for p, c in zip(files, counts) if p is not path)
        raise LstmkitError(f"{path} holds a carriage return (\\r) inside its line {line} ({shown!r}), which ends a "
                           f"line here (as in an old Mac file) but not for wc -l or paste: read so, it has {n} lines "
                           f"and {other} {m}",
                           f"replace each such \\r with a space: sed -i 's/\\r\\(.\\)/ \\1/g' {path}")


def _numbered(fields: list[list[str]]) -> bool:
    """Whether every line is ``number, text, number, text`` (a blank line aside)."""
    lines = [f for f in fields if f != ["", ""]]
    return bool(lines) and all(len(f) == 4 and f[0].strip().isdigit() and f[2].strip().isdigit() for f in lines)


def read_pairs(data: Any = None, src: str = "src", tgt: str = "tgt", src_file: str | Path | None = None,
               tgt_file: str | Path | None = None, encoding: str = "utf-8", drop_empty: bool = False,
               droppable: bool = True, flags: tuple[str, str, str] = ("--data", "--src-file", "--tgt-file")) -> Pairs:
    """Sentence pairs from a table (``data``: path, DataFrame, a list of (source, target), or
    ``(sources, targets)``: two Series, arrays or lists) or from two line-aligned files. Empty sides are an error unless ``drop_empty``; its fix names
    ``--drop-empty`` only where the caller offers it (``droppable``: not evaluation, which scores
    every pair). ``flags`` name the table and the two files in errors (validation: ``--val``, …)."""
    table, sources, targets = flags
    tables: dict[str, pd.DataFrame] = {}
    data = arrow_as_frame(data)                       # a pyarrow Table: read as a DataFrame
    def said(flag: str) -> str:              # --src-file from the command line, src_file from Python
        return worded(flag, _keyword(flag))

    if data is not None and (src_file is not None or tgt_file is not None):
        raise LstmkitError(f"both {said(table)} and {said(sources)}/{said(targets)} given",
                           "pass one table or one pair of files")
    for flag, given in ((sources, src_file), (targets, tgt_file)):
        if given is not None and not isinstance(given, (str, os.PathLike)):      # only Python passes other things
            raise LstmkitError(f"{_keyword(flag)} is a {type(given).__name__}, not a file's path",
                               f"pass sentences in memory as {_keyword(table)}=(sources, targets) or as a list of "
                               "(source, target) pairs")
    if data is None:
        if src_file is None and tgt_file is None:
            raise LstmkitError("no data given", worded(f"pass {table} TABLE, or both {sources} and {targets}",
                                                       f"pass {_keyword(table)}=TABLE, or both {_keyword(sources)}= "
                                                       f"and {_keyword(targets)}="))
        if src_file is None or tgt_file is None:
            given, missing = (sources, targets) if tgt_file is None else (targets, sources)
            raise LstmkitError(f"{said(given)} without {said(missing)}",
                               f"pass both (line-aligned files), or a table with {worded(table, _keyword(table) + '=')}")
        s, t = read_lines(src_file, encoding), read_lines(tgt_file, encoding)
        tables = {"src_file": aligned_lines_table(s), "tgt_file": aligned_lines_table(t)}
        # A final empty line is what many editors leave; it is not a sentence.
        while s and not s[-1].strip() and len(s) > len(t):
            s.pop()
        while t and not t[-1].strip() and len(t) > len(s):
            t.pop()
        if len(s) != len(t):
            _check_no_lone_returns((src_file, tgt_file), (len(s), len(t)), encoding)
            raise LstmkitError(f"{src_file} has {len(s)} lines but {tgt_file} has {len(t)}",
                               "the files must be line-aligned: one translation per source line")
        where, place = f"{src_file} / {tgt_file}", lambda i: f"line {i + 1}"
    elif isinstance(data, (str, Path)) and is_pipe(Path(data)):    # '--data -', '<(…)': read once, as a file of its
        with pipe_as_file(Path(data)) as copy:                      # bytes (was 'file not found: -')
            s, t, place, df = _read_table(copy, src, tgt, encoding)
        where, tables = "standard input" if is_stdin(data) else str(data), {"data": df}
    elif isinstance(data, (str, Path)):
        s, t, place, df = _read_table(Path(data), src, tgt, encoding)
        where, tables = str(data), {"data": df}
    elif hasattr(data, "columns"):
        s, t = _pair_columns(data, src, tgt, " in the DataFrame")
        where, place = "the DataFrame", _row
    elif _two_columns(data):                          # (sources, targets): two Series, arrays or lists
        s, t = (column_strings(text_items(side)) for side in data)
        if len(s) != len(t):
            raise LstmkitError(f"got {len(s)} source sentences but {len(t)} targets",
                               "pass one target per source sentence (line-aligned, in order)")
        where, place = "the pairs", _row
    else:
        items = None
        try:
            items = list(data) if not isinstance(data, dict) else None
            rows = [(a, b) for a, b in _pair_rows(items)]
        except (TypeError, ValueError):
            raise LstmkitError(f"data must be a path, a DataFrame, a list of (source, target) pairs or (sources, "
                               f"targets), not {_described(data if items is None else items)}",
                               worded("pass --data FILE or --src-file/--tgt-file",
                                      f"pass {_keyword(table)}=FILE or {_keyword(sources)}=/{_keyword(targets)}=") + (
                                   " (a dict of sentences: list(d.items()); of columns: pd.DataFrame(d))"
                                   if isinstance(data, dict) else "")) from None
        s, t = column_strings([a for a, _ in rows]), column_strings([b for _, b in rows])   # None, NaN: empty
        where, place = "the pairs", _row
    empty = [i for i, (a, b) in enumerate(zip(s, t)) if not a.strip() or not b.strip()]
    if empty and not drop_empty:
        if "data" in tables:
            _check_separated(Path(data), tables["data"], empty[0], encoding, s[empty[0]] or t[empty[0]])
        raise LstmkitError(f"{where}: {len(empty)} pair(s) have an empty side (first at {place(empty[0])})",
                           f"fill them in or pass {opt('drop_empty', True)} to skip them" if droppable else
                           "fill them in, or remove those lines from both files (every pair is scored)")
    keep = sorted(set(range(len(s))) - set(empty))
    s, t = whole_characters(s, "source sentences"), whole_characters(t, "target sentences")   # lone surrogates: U+FFFD
    pairs = Pairs([s[i].strip() for i in keep], [t[i].strip() for i in keep], {"read": len(s), "empty": len(empty)},
                  tables)
    if not pairs.src:
        raise BadValue(f"{where} {'hold' if where == 'the pairs' else 'holds'} no sentence pairs",
                           "supply at least a few aligned sentences")
    if len(pairs) > 1 and pairs.src == pairs.tgt:
        warnings.warn(f"every target in {where} is the same as its source ({len(pairs)} pairs): the model learns to "
                      f"copy; to translate, give the source and the target language (the same file twice, or the same "
                      f"column?)", UserWarning, stacklevel=callers_level())
    return pairs


def clean_pairs(pairs: Pairs, src_lens: Sequence[int], tgt_lens: Sequence[int], max_len: int | None,
                dedup: bool) -> tuple[Pairs, list[int]]:
    """Drop pairs whose source or target has more than ``max_len`` tokens (``src_lens`` /
    ``tgt_lens``: each pair's token counts, from the ids the caller goes on to use), then exact
    duplicate pairs; the counts go into ``report``. Returns the pairs kept and their indices."""
    report = dict(pairs.report)
    keep = list(range(len(pairs)))
    if max_len is not None:
        keep = [i for i in keep if src_lens[i] <= max_len and tgt_lens[i] <= max_len]
    report["too_long"] = len(pairs) - len(keep)
    if dedup:
        seen, kept = set(), []
        for i in keep:
            key = (pairs.src[i], pairs.tgt[i])
            if key not in seen:
                seen.add(key)
                kept.append(i)
        report["duplicates"] = len(keep) - len(kept)
        keep = kept
    out = Pairs([pairs.src[i] for i in keep], [pairs.tgt[i] for i in keep], report)
    if not out.src:
        raise LstmkitError(f"no pair is left after dropping {report['too_long']} longer than {max_len} tokens",
                           f"raise {opt('max_len')}")
    report["kept"] = len(out)
    return out, keep


def warn_repeated_pairs(train: Pairs, part: Pairs, what: str) -> None:
    """One warning when pairs of ``part`` (validation) occur in ``train`` too (a file of repeated
    pairs split apart, or copied between files): de-duplication drops repeats within training
    only, so the model is scored on pairs it learned, and its BLEU there flatters it."""
    seen = set(zip(train.src, train.tgt))
    repeated = sum(pair in seen for pair in zip(part.src, part.tgt))
    if repeated:
        warnings.warn(f"{repeated} of the {len(part)} pairs of {what} occur in the training data too (duplicate pairs): "
                      f"its BLEU and chrF flatter the model on them; drop the repeated pairs from one side (pandas: "
                      f"drop_duplicates) before training", UserWarning, stacklevel=callers_level())


def split_pairs(n: int, val_frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random train / validation indices (at least one of each)."""
    if n < 2:
        raise LstmkitError(f"{n} sentence pair is too few to hold out a validation part",
                           "supply more pairs or a validation pair of files")
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    n_val = min(n - 1, max(1, round(n * val_frac)))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


# -- tokenisation ------------------------------------------------------------------------------
_WORD = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
_WORD_OR_CHAR = re.compile(rf"[{SPACELESS}]|(?:(?![{SPACELESS}])\w)+(?:['’](?:(?![{SPACELESS}])\w)+)*|[^\w\s]")
_SPACELESS_CHAR = re.compile(rf"[{SPACELESS}]")


@functools.cache
def _marked_words(char_split: bool) -> re.Pattern:
    """:data:`_WORD_OR_CHAR` (``char_split``) or :data:`_WORD` with a word's combining marks in it
    (Devanagari's vowel signs, Hebrew's points, Arabic's harakat): ``\\w`` leaves them out, so
    'हिन्दी' was six tokens, and decoding put spaces between them ('ह ि न ् द ी')."""
    letter = rf"(?:(?![{SPACELESS}])\w|[{mark_class()}])" if char_split else rf"[\w{mark_class()}]"
    word = rf"{letter}+(?:['’]{letter}+)*"
    return re.compile(rf"[{SPACELESS}]|{word}|[^\w\s]" if char_split else rf"{word}|[^\w\s]")


@functools.cache
def _joined(pattern: re.Pattern) -> re.Pattern:
    """``pattern`` with a punctuation mark written between two letters or digits first, as a group
    of its own (:meth:`SideTokenizer.pieces` writes it as a joiner, ``@-@``): 'T-shirt', '3.50',
    '10:30', 'km/h' were cut as 'T - shirt' and decoded so, and sacrebleu's 13a, which keeps a
    hyphen or a decimal point inside a word, scored every such word a miss (a perfect translation
    of Multi30k's test2016 scored BLEU 98.4 in English, 97.2 in German, 95.6 in French). The marks
    of a script written without spaces join without a joiner (:func:`detokenize`); an apostrophe is
    part of its word already."""
    letter = rf"[^\W{SPACELESS}]|[{mark_class()}]"
    return re.compile(rf"(?<={letter})([^\w\s'’{mark_class()}])(?={letter})|{pattern.pattern}")


_JOINER = re.compile(r"@([^\w\s])@")
_NO_SPACE_AROUND = SPACELESS + "\u3000-\u303f\uff00-\uffef"           # and CJK punctuation
_NO_SPACE_BEFORE = re.compile(r" ([.,!?;:%)\]}’»])")     # a closing "'" is glued in detokenize
_NO_SPACE_AFTER = re.compile(r"([(\[{«$]) ")


def written_without_spaces(texts: Iterable[str]) -> bool:
    """Whether any of ``texts`` holds a character of a script written without spaces (:data:`SPACELESS`)."""
    return any(_SPACELESS_CHAR.search(t) for t in texts)


def detokenize(tokens: Sequence[str]) -> str:
    """Words and punctuation back into text: no space before ``. , ! ? ; : ) %``, none after ``(``,
    none beside a character of a script written without spaces (``他 们 。`` -> ``他们。``), none
    around a joiner (``T @-@ shirt`` -> ``T-shirt``, :meth:`SideTokenizer.pieces`), none inside a
    quotation: a pair of straight quotes (``" hello "`` -> ``"hello"``: the first of a pair opens, the
    second closes; a single one opens where another follows and the word before does not end in
    's', else it is an apostrophe: ``dogs ' bones`` -> ``dogs' bones``), typographic ones (``“yes”``,
    ``‘yes’``, German ``„ja“`` and ``‚ja‘``: a ``“`` closes an open ``„``, else opens) and Spanish's
    ``¿`` and ``¡`` (``“ yes ”``, ``I said' hi'`` and ``¿ Qué?`` were written so).

    Tokens all ASCII, none empty, no quote and no joiner (most of a translation's): nothing is glued
    by the rules above, so they are joined with spaces at once (the rules token by token were most
    of the time ``translate`` spent outside its search); :func:`detokenize_each` is the whole path."""
    text = "".join(tokens)
    if text.isascii() and all(tokens) and "@" not in text and '"' not in text and "'" not in text:
        return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", join_words(tokens, _NO_SPACE_AROUND)))
    return detokenize_each(tokens)


def detokenize_each(tokens: Sequence[str]) -> str:
    """:func:`detokenize`, each token weighed by its rules (what any tokens take)."""
    glued: list[str] = []
    attach = False                          # the token before was a joiner or an opening mark: no space
    double = single = False                 # a straight double / single quotation is open
    low: set[str] = set()                   # the low quotes („ ‚) open
    for k, t in enumerate(tokens):
        mark = _JOINER.fullmatch(t)
        opening, closing = _quote_side(t, k, tokens, glued, double, single, low)
        if t == '"':
            double = opening
        elif t == "'":
            single = opening
        elif t in _LOW_CLOSED and closing:
            low.discard(_LOW_CLOSED[t])
        elif t in _LOW_CLOSED.values():
            low.add(t)
        if (mark is not None or attach or closing) and glued:
            glued[-1] += mark[1] if mark is not None else t
        else:
            glued.append(mark[1] if mark is not None else t)
        attach = mark is not None or opening
    text = join_words(glued, _NO_SPACE_AROUND)
    return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", text))


_LOW_CLOSED = {"“": "„", "‘": "‚"}        # a German quotation closes „ with “ and ‚ with ‘; English opens with them
_OPENING = "„‚¿¡"
_CLOSING = "”’"


def _quote_side(t: str, k: int, tokens: Sequence[str], glued: Sequence[str], double: bool, single: bool,
                low: set[str]) -> tuple[bool, bool]:
    """``(opening, closing)``: whether the quotation mark or inverted mark ``t`` (the ``k``-th token)
    opens a quotation (no space after it) or closes one (none before it); neither for other tokens."""
    if t == '"':
        return not double, double
    if t == "'":
        if single:
            return False, True
        plural = bool(glued) and glued[-1][-1:] in ("s", "S")
        return (True, False) if not plural and "'" in tokens[k + 1:] else (False, True)
    if t in _LOW_CLOSED:
        return (False, True) if _LOW_CLOSED[t] in low else (True, False)
    return t in _OPENING, t in _CLOSING


class SideTokenizer:
    """One side's tokenizer: ``word`` (words and punctuation marks, a counted :class:`Vocab`)
    or ``bpe`` (Hugging Face ``tokenizers``, Metaspace so decoding restores the spaces exactly).

    Ids 0-3 are ``<pad> <unk> <bos> <eos>`` for both kinds. State is plain data (``to_dict``).

    ``word`` cuts the characters of scripts written without spaces (:data:`SPACELESS`: Chinese,
    Japanese, Thai, …) one by one (:func:`written_without_spaces` tells whether a text has any).
    A tokenizer saved before this rule (no ``char_split`` in its state) keeps its whole runs.
    ``word`` keeps a word's combining marks in it (``marks``: 'हिन्दी' is one token); a tokenizer
    saved before (no ``marks`` in its state) cuts at them, as its vocabulary was counted.
    Both kinds decode HTML character references first (``html``: IWSLT/TED-style corpora ship
    ``&amp;``, ``&#39;``, ``&quot;`` escaped; ``&amp;`` was the tokens '&', 'amp', ';' and came back
    in translations as '& amp;'); a tokenizer saved before (no ``html`` in its state) reads them as
    it was counted. Tags are left as written: markup is part of what a sentence may translate.
    ``word`` cuts a punctuation mark between two letters or digits as a joiner (``joined``: 'T-shirt'
    is ``T @-@ shirt``, '3.50' ``3 @.@ 50``, as Moses marks hyphens), which decoding writes back
    without spaces; a tokenizer saved before (no ``joined`` in its state) cuts and decodes them as
    separate marks ('T - shirt'), as its vocabulary was counted.
    Both kinds read a run of white space as one space, none at either end (``spaces``: a BPE side's
    Metaspace marks only a space, so a tab or a line break was a subword or ``<unk>`` of its own, and
    the word after it spelt in pieces); a tokenizer saved before (no ``spaces``) reads as it did.
    """

    def __init__(self, kind: str = "word", min_freq: int = 2, max_size: int | None = 16000, lowercase: bool = False,
                 char_split: bool = True, marks: bool = True, html: bool = True, joined: bool = True,
                 spaces: bool = True):
        if kind not in ("word", "bpe"):
            raise LstmkitError(f"unknown tokenizer {kind!r}", "use word or bpe")
        self.kind, self.min_freq, self.max_size, self.lowercase = kind, min_freq, max_size, lowercase
        self.char_split, self.marks, self.html, self.joined = char_split, marks, html, joined
        self.spaces = spaces
        self.vocab: Vocab | None = None
        self._bpe = None

    def __setstate__(self, state: dict[str, Any]) -> None:
        # pickle and deepcopy rebuild the Hugging Face tokenizer from its JSON, which lacks the setting
        self.__dict__.update(state)
        if self._bpe is not None:
            specials_as_text(self._bpe)

    def _clean(self, text: str) -> str:
        text = normalize_text(self.unescape(text), self.lowercase)
        return one_spaced(text) if self.spaces else text

    def unescape(self, text: str) -> str:
        """``text`` with its HTML character references decoded when this tokenizer reads them so
        (``html``): what a reference is compared as against the translations it decodes to."""
        return _html.unescape(text) if self.html and "&" in text else text

    def written(self, text: str) -> str:
        """``text`` in the form this tokenizer's decoded text takes, case kept: character references
        decoded (``html``) and Unicode-normalised as :meth:`_clean` reads every sentence (NFKC: '…' as
        '...', a full-width '，' as ',', a decomposed 'é' as one character; soft hyphens dropped), what a
        reference is scored as against the translations."""
        return normalize_text(self.unescape(text), lowercase=False)

    def pieces(self, text: str) -> list[str]:
        """Token strings of ``text`` (before the vocabulary lookup)."""
        if self.kind == "bpe":
            return list(self._bpe.encode(self._clean(text)).tokens)
        text = self._clean(text)
        if self.marks and not text.isascii():          # (no marks in ASCII: the faster pattern)
            pattern = _marked_words(self.char_split)
        else:
            pattern = _WORD_OR_CHAR if self.char_split else _WORD
        if not self.joined:
            return pattern.findall(text)
        return [f"@{m[1]}@" if m[1] else m[0] for m in _joined(pattern).finditer(text)]

    def reading(self, where: str) -> str:
        """How a sentence becomes ids, in words, the state under ``where`` (a graph's ``around_graph``)."""
        clean = ", ".join(["character references decoded (html.unescape)"] * bool(self.html)
                          + [INVISIBLE_READING]
                          + ["lower-cased ('İ' as 'i')"] * self.lowercase
                          + ["runs of white space one space, none at either end"] * self.spaces)
        if self.kind == "bpe":
            return f"subwords ({clean}; then {bpe_reading(where)})"
        return (f"words and punctuation marks (lstmkit.tasks.translate.data.SideTokenizer.pieces: {clean}"
                + ("; a mark between two letters or digits the joiner @-@" if self.joined else "")
                + f") as their index in {where}itos (unknown: {UNK_ID})")

    def writing(self, where: str) -> str:
        """How ids become a sentence, in words (a graph's ``around_graph``)."""
        if self.kind == "bpe":
            return f"the Hugging Face tokenizer of {where}tokenizer's decode(ids), each <unk> ({UNK_ID}) a word"
        return f"{where}itos, put back together by lstmkit.tasks.translate.data.detokenize"

    def fit(self, texts: Iterable[str]) -> SideTokenizer:
        if self.kind != "bpe":
            return self.fit_pieces(self.pieces(t) for t in texts)
        tk = import_tokenizers()
        tok = tk.Tokenizer(tk.models.BPE(unk_token=UNK))
        tok.pre_tokenizer = tk.pre_tokenizers.Metaspace()
        tok.decoder = tk.decoders.Metaspace()
        trainer = tk.trainers.BpeTrainer(vocab_size=self.max_size or 16000, min_frequency=self.min_freq,
                                         special_tokens=SPECIALS, show_progress=False)
        tok.train_from_iterator((self._clean(t) for t in texts), trainer=trainer)
        self._bpe = specials_as_text(tok)
        return self._check_size(tok.get_vocab_size())

    def fit_pieces(self, piece_lists: Iterable[Sequence[str]]) -> SideTokenizer:
        """A ``word`` tokenizer's :meth:`fit` on texts already cut (:meth:`pieces`): a caller that
        encodes the same texts (``vocab.encode(pieces)``) cuts them once."""
        counts = Counter(chain.from_iterable(piece_lists))
        kept = sorted((w for w, c in counts.items() if c >= self.min_freq and w not in SPECIALS),
                      key=lambda w: (-counts[w], w))
        if self.max_size is not None:
            kept = kept[: max(0, self.max_size - len(SPECIALS))]
        self.vocab = Vocab(SPECIALS + kept)
        return self._check_size(len(self.vocab))

    def _check_size(self, size: int) -> SideTokenizer:
        if size <= len(SPECIALS):
            raise LstmkitError(f"the vocabulary is empty: no token occurs at least {self.min_freq} times",
                               f"supply more text or lower {opt('min_freq')}")
        return self

    @property
    def vocab_size(self) -> int:
        return self._bpe.get_vocab_size() if self.kind == "bpe" else len(self.vocab)

    def encode(self, text: str) -> list[int]:
        """Token ids without ``<bos>``/``<eos>``."""
        if self.kind == "bpe":
            return list(self._bpe.encode(self._clean(text)).ids)
        return self.vocab.encode(self.pieces(text))

    def id_to_piece(self, ids: Sequence[int]) -> list[str]:
        if self.kind == "bpe":
            return [self._bpe.id_to_token(int(i)) or UNK for i in ids]
        return [self.vocab.itos[int(i)] for i in ids]

    def decode(self, ids: Sequence[int], unknown: dict[int, str] | None = None) -> str:
        """Detokenised text of ``ids`` (specials dropped; stops at ``<eos>``). ``unknown``: what a
        ``word`` tokenizer writes for the ``<unk>`` at each of those positions of ``ids`` (the source
        word the decoder attended to, :meth:`~lstmkit.tasks.translate.estimator.Translator.translate`)."""
        ids = list(ids)
        if EOS_ID in ids:
            ids = ids[: ids.index(EOS_ID)]
        if unknown and self.kind == "word":
            return detokenize([unknown.get(t, UNK) if i == UNK_ID else self.vocab.itos[int(i)]
                               for t, i in enumerate(ids) if i not in (PAD_ID, BOS_ID)])
        ids = [i for i in ids if i not in (PAD_ID, BOS_ID)]
        if self.kind == "bpe":
            return self._bpe_text(ids)
        return detokenize(self.id_to_piece(ids))

    def _bpe_text(self, ids: Sequence[int]) -> str:
        """A BPE side's text of ``ids``: each ``<unk>`` id a word '<unk>' between the decoded runs (the
        decoder glued it to the word before, and a '<unk>' written in the text is text, left as it is),
        on one line (a vocabulary learnt from sentences holding line breaks has them in its pieces)."""
        parts, run = [], []
        for i in ids:
            if i == UNK_ID:
                parts += [self._bpe.decode(run, skip_special_tokens=False), UNK]
                run = []
            else:
                run.append(i)
        parts.append(self._bpe.decode(run, skip_special_tokens=False))
        return one_line(" ".join(p for p in parts if p))

    def to_dict(self) -> dict[str, Any]:
        d = {"kind": self.kind, "min_freq": self.min_freq, "max_size": self.max_size, "lowercase": self.lowercase,
             "char_split": self.char_split, "marks": self.marks, "html": self.html, "joined": self.joined,
             "spaces": self.spaces}
        if self.kind == "bpe":
            d["tokenizer"] = json.loads(self._bpe.to_str())
        else:
            d["itos"] = self.vocab.itos
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SideTokenizer:
        if not isinstance(d, dict):         # a string was an AttributeError traceback ('str' has no 'get')
            raise state_error(f"has a side of {type(d).__name__}, not an object of the tokenizer's settings")
        checked_rules(d, ("lowercase", "char_split", "marks", "joined", "spaces"))
        if d.get("kind") not in ("word", "bpe"):           # 'unknown tokenizer … use word or bpe' asked the user to choose
            raise state_error(f"has kind {d.get('kind')!r}, not 'word' or 'bpe'")
        tok = cls(d["kind"], d.get("min_freq", 2), d.get("max_size"), d.get("lowercase", False),
                  d.get("char_split", False), d.get("marks", False), d.get("html", False), d.get("joined", False),
                  d.get("spaces", False))
        if tok.kind == "bpe":
            tok._bpe = bpe_from_state(d.get("tokenizer"), SPECIALS)
        else:       # <bos> and <eos> at 2 and 3 too: swapped, every translation was empty
            tok.vocab = Vocab(checked_itos(d.get("itos"), SPECIALS))
        return tok
