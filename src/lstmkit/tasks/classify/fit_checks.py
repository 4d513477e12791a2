"""What a classifier's fit checks, warns about and records besides the weights: the settings one
kind of input cannot take, the run's data summary (and its warning when ``max_len`` cut sequences),
a class never predicted on the validation part, the type of the labels ``fit`` was given (so
``predict`` answers in it). The sample weights ``fit`` and ``score`` take: :mod:`lstmkit.data.sample_weight`."""
from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch

from lstmkit.data.arrays import arrow_as_frame
from lstmkit.data.label_types import FROM_TEXT, label_dtype, label_type
from lstmkit.data.same_data import class_folder_roles, piped, source_path
from lstmkit.errors import LstmkitError, callers_level, opt, percent, worded
from lstmkit.nn.fcn import FCN_MODELS
from lstmkit.nn.zoo import tcn_blocks_for, tcn_reach
from lstmkit.files import path_exists
from lstmkit.tasks.classify.config import ClassifyConfig
from lstmkit.train.metrics import never_predicted

__all__ = ["FROM_TEXT", "label_type", "label_dtype", "given_labels", "check_kind", "data_summary", "warn_unseen_class",
           "warn_short_reach", "warn_truncated", "cut_note", "check_val_is_not_test"]


def given_labels(data, y, label: str):
    """The labels as ``fit`` was given them, for :func:`label_type`: ``y``, else a DataFrame's
    ``label`` column (its dtype is the user's type, as ``y``'s is), else None (a file's cells are text)."""
    data = arrow_as_frame(data)                          # a pyarrow Table's label column: its type too
    if y is not None or not isinstance(data, pd.DataFrame):
        return y
    cols = [c for c in data.columns if str(c) == label]
    return data[cols[0]] if len(cols) == 1 else None


def check_kind(cfg: ClassifyConfig, kind: str) -> None:
    """What the config cannot check alone (its fields are checked in ``ClassifyConfig``)."""
    if cfg.vectors and kind != "text":
        raise LstmkitError("word vectors apply to text only", f"drop {opt('vectors')} for numeric sequences")
    if cfg.init_from and kind != "text":
        raise LstmkitError(f"{opt('init_from')} (a language model) applies to text only",
                           f"drop {opt('init_from')} for numeric sequences")
    if cfg.init_from and cfg.vectors:
        raise LstmkitError(f"{opt('vectors')} and {opt('init_from')} both initialise the embedding", "pass only one of them")
    if cfg.model in FCN_MODELS and kind != "series":
        raise LstmkitError(f"{cfg.model} classifies numeric series only",
                           f"use {opt('model', 'bilstm')} (or lstm, gru, ...) for text")


def warn_unseen_class(m: dict[str, Any] | None, counts: dict[str, int], cfg: ClassifyConfig,
                      part: str = "the validation part") -> None:
    """One warning when a class the scored ``part`` holds was never predicted there (recall 0),
    naming the remedy for skewed classes when the loss was not weighted yet. With nothing held
    out the part is the training data: a model that never answers a class it trained on collapsed
    to the others (95/5 numeric series, ``val_frac=0`` by default, scored recall 0 on the rare
    class, on training and test data alike, without a word)."""
    note = None if m is None else never_predicted(m, counts, cfg.class_weight is not None, part)
    if note is not None:
        warnings.warn(note, stacklevel=callers_level())


def kept_part(max_len: int, keep: str) -> str:
    """What ``truncate`` keeps of a sequence longer than ``max_len``: ``"first 5 and last 5"``."""
    return {"head": f"first {max_len}", "tail": f"last {max_len}",
            "both": f"first {(max_len + 1) // 2} and last {max_len // 2}"}[keep]


def warn_truncated(cut: dict[str, Any], cfg: ClassifyConfig, kind: str) -> None:
    """One warning when ``max_len`` cut training sequences: how many, and what of them is read."""
    if not cut["count"]:
        return
    n = cfg.max_len
    kept = kept_part(n, cfg.truncate)
    what, unit = ("texts", "tokens") if kind == "text" else ("series", "steps")
    warnings.warn(f"{cut['count']} of {cut['of']} training {what} ({percent(cut['count'] / cut['of'])}) are longer than "
                  f"max_len={n} {unit} (the longest {cut['longest']}): only their {kept} {unit} are read; "
                  f"pass {opt('max_len')} with a larger number (or none) to read more", stacklevel=callers_level())


def warn_short_reach(lengths: torch.Tensor, cfg: ClassifyConfig, kind: str) -> None:
    """One warning when a ``tcn`` answers from its last step (``pooling`` last) and training sequences
    are longer than that step reads (its receptive field): their earlier steps never reach the answer."""
    if cfg.model != "tcn" or cfg.pooling != "last" or not len(lengths):
        return
    reach = tcn_reach(cfg.num_layers)
    longer = int((lengths > reach).sum())
    if not longer:
        return
    what, unit = ("texts", "tokens") if kind == "text" else ("series", "steps")
    longest = int(lengths.max())
    warnings.warn(f"{longer} of {len(lengths)} training {what} ({percent(longer / len(lengths))}) are longer than the "
                  f"{reach} {unit} the tcn's last step reads (its receptive field; the longest {longest}), and "
                  f"{opt('pooling', 'last')} answers from that step alone: their earlier {unit} never reach the answer; "
                  f"pass {opt('num_layers', tcn_blocks_for(longest))}, or {opt('pooling', 'mean')} (or max)",
                  stacklevel=callers_level())


def cut_note(before: torch.Tensor, cfg: ClassifyConfig, kind: str, name) -> str | None:
    """What ``predict`` and ``evaluate`` say of the sequences ``max_len`` cut (``before``: every
    sequence's length before the cut; the first cut one named by ``name(k)``), or None when it cut
    none: the answers read part of each, and training's warning was long gone (a 50,000-word text
    was classified by its first 200 and last 200 words without a word)."""
    n = cfg.max_len
    if n is None or not len(before) or int(before.max()) <= n:    # none was cut: one reduction, not a search
        return None
    cut = torch.nonzero(before > n).flatten().tolist()
    if not cut:
        return None
    what, unit = ("texts", "tokens") if kind == "text" else ("series", "steps")
    first = cut[0]
    return (f"{len(cut):,} of {len(before):,} {what} ({percent(len(cut) / len(before))}) are longer than the model's "
            f"max_len={n} {unit} (first: {name(first)}, {int(before[first]):,} {unit}; the longest "
            f"{int(before[cut].max()):,}): the model reads only their {kept_part(n, cfg.truncate)} {unit}, as in "
            f"training; retrain with a larger {opt('max_len')} (now {n}; none reads them whole) to read more")


def data_summary(full, train, val, test, data, val_data, test_data, x_train) -> dict[str, Any]:
    """What a run records of its data: rows, classes, split sizes, what ``max_len`` cut, the sources
    (paths; None for in-memory data)."""
    lengths = np.array([len(s) for s in x_train])
    before = getattr(x_train, "cut_from", torch.from_numpy(lengths))                # before max_len cut them
    cut = before[before > torch.from_numpy(lengths)]
    counts = {c: int(n) for c, n in zip(*np.unique(np.asarray(full.labels), return_counts=True))}
    return {"rows": len(full), "classes": counts, "dropped_empty": int(getattr(full, "n_dropped", 0)),
            "truncated": {"count": len(cut), "of": len(lengths), "longest": int(cut.max()) if len(cut) else None},
            "split": {"train": len(train), "val": len(val) if val is not None else 0, "test": len(test) if test is not None else 0},
            "train_length": {"mean": float(lengths.mean()), "max": int(lengths.max())},
            "source": source_path(data), "val_source": source_path(val_data), "test_source": source_path(test_data),
            **piped(source=data, val_source=val_data, test_source=test_data),
            # a folder of class folders of .txt files: a resume compares the SHA-256 of the .txt files it read
            **class_folder_roles(source=data, val_source=val_data, test_source=test_data)}


def check_val_is_not_test(val_data, test_data) -> None:
    """An error when ``val_data`` and ``test_data`` are one file: early stopping (and a text model's
    word-score mix) would choose the weights on the test set, and the test scores would flatter them."""
    paths = [d for d in (val_data, test_data) if isinstance(d, (str, os.PathLike)) and path_exists(d)]
    if len(paths) == 2 and os.path.samefile(*paths):
        raise LstmkitError(f"{worded('--val and --test', 'val_data and test_data')} are the same file ({val_data}): "
                           "early stopping would choose the weights on the test set, and the test scores would "
                           "flatter them",
                           worded("pass --val a file kept apart from the test file, or leave --val out to hold out "
                                  "--val-frac of --data", "pass val_data= a file kept apart from the test file, or "
                                  "leave val_data out to hold out val_frac of the data"))
