"""Pretrained word vectors aligned with a vocabulary.

    load_vectors(path, vocab)           GloVe / word2vec text vectors, one row per vocabulary id
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch

from lstmkit.data.compressed import open_data
from lstmkit.data.vocab import PAD_ID, Vocab
from lstmkit.errors import LstmkitError, missing_path_fix, opt

__all__ = ["load_vectors"]


def load_vectors(path: str | Path, vocab: Vocab, seed: int = 0) -> tuple[torch.Tensor, int]:
    """Rows of a GloVe / word2vec *text* file for the words of ``vocab``.

    The file has one ``word v1 v2 … vD`` per line (word2vec's ``N D`` header line is skipped;
    ``.gz``, ``.bz2``, ``.xz`` and a ``.zip`` of one file, as fastText's ``.vec.zip``, are read
    directly). Returns ``(weights [len(vocab), D], n_found)``: found words get
    their vector, others random normal values with the found vectors' standard deviation,
    ``<pad>`` zeros. Words are matched as given, then lower-cased: a word's own line wins over a
    line of it capitalised, wherever each is in the file (fastText's crawl vectors hold both).
    """
    path = Path(path)
    if path.is_dir():           # it said 'vectors file not found' of a folder that is there
        raise LstmkitError(f"{opt('vectors', str(path))} is a folder, not a vectors file",
                           "pass the .txt (or .vec, .gz, .zip) file of vectors inside it")
    if not path.is_file():
        raise LstmkitError(f"vectors file not found: {path}", missing_path_fix(path, f"check the {opt('vectors')} path"))
    found: dict[int, np.ndarray] = {}
    as_given: set[int] = set()      # ids found by the word as given: a lower-cased match never replaces them
    dim = None
    try:
        with open_data(path) as raw, io.TextIOWrapper(raw, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                parts = line.rstrip().split(" ")
                if lineno == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    continue                                   # word2vec header "N D"
                if len(parts) < 2:
                    continue
                if dim is None:
                    dim = len(parts) - 1
                elif len(parts) - 1 != dim:
                    raise LstmkitError(f"{path} line {lineno} has {len(parts) - 1} values, earlier lines {dim}",
                                       "pass a GloVe/word2vec text file with one vector per line")
                idx = vocab.stoi.get(parts[0])
                exact = idx is not None
                if idx is None:
                    idx = vocab.stoi.get(parts[0].lower())
                if idx is None or idx == PAD_ID or (idx in found and (idx in as_given or not exact)):
                    continue
                if exact:
                    as_given.add(idx)
                try:
                    found[idx] = np.asarray(parts[1:], dtype=np.float32)
                except ValueError:
                    raise LstmkitError(f"{path} line {lineno} holds a value that is not a number",
                                       "pass a GloVe/word2vec *text* file (binary files are not read)") from None
    except (OSError, EOFError) as e:
        raise LstmkitError(f"could not read vectors file {path}: {e}", "check the file") from None
    if not found:
        raise LstmkitError(f"no word of the vocabulary was found in {path}",
                           "is it a word-vector text file for this language?")
    rows = np.stack(list(found.values()))
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.0, float(rows.std()) or 1.0, size=(len(vocab), dim)).astype(np.float32)
    weights[list(found)] = rows
    weights[PAD_ID] = 0.0
    return torch.from_numpy(weights), len(found)
