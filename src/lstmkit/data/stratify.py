"""The seeded stratified split of labelled rows into training and validation parts.

    stratified_split(labels, frac, seed)   sorted train / validation indices, each class's share kept
    warn_missing_classes(labels, ...)      a part given apart (a --val or --test file) without some training classes

What every task that classifies holds out when no validation data is given: a text or numeric
sequence classifier (:mod:`lstmkit.tasks.classify`), and a speech classifier (``mode='classify'``),
whose random draw of 4 recordings of 45 held out none of a class of 2 and one of a class of 3.
"""
from __future__ import annotations

import math
import warnings
from collections import Counter
from typing import Sequence

import numpy as np

from lstmkit.errors import LstmkitError, callers_level, opt, worded

__all__ = ["stratified_split", "warn_missing_classes"]


def stratified_split(labels: Sequence[str], val_frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded stratified split: about ``val_frac`` of each class (at least one of every class
    with two or more examples) goes to validation; a class of one example stays in training, with
    a warning. Where one of every class would hold out more than twice the ``val_frac`` asked for
    (many classes of a few examples: 250 classes of 2 held out half the rows at ``val_frac=0.1``, and
    trained each class on one example), ``val_frac`` of the rows are held out, shared among the
    classes by their sizes (the largest remainders, ties drawn), so some classes have none: one
    warning says how many. Returns sorted ``(train_idx, val_idx)``."""
    if not 0.0 < val_frac < 1.0:
        raise LstmkitError(f"`val_frac` must be in [0, 1), got {val_frac}",
                           f"pass {opt('val_frac', 0.1)}, say, {worded('a --val file', 'val_data')}, or 0 to hold nothing out")
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    members = {c: np.flatnonzero(labels == c) for c in sorted(set(labels.tolist()))}
    alone = [c for c, idx in members.items() if idx.size < 2]
    take = {c: min(max(1, round(idx.size * val_frac)), idx.size - 1) for c, idx in members.items() if idx.size >= 2}
    asked = math.ceil(labels.size * val_frac)
    would = sum(take.values())
    if would > 2 * asked:
        take = _shared_out(take, {c: members[c].size for c in take}, asked, rng)
        left = sum(1 for k in take.values() if not k)
        warnings.warn(f"one example of each of the {len(members)} classes ({labels.size / len(members):.1f} examples "
                      f"on average) would hold out {would} of {labels.size} rows, not the "
                      f"{opt('val_frac', f'{val_frac:g}', written=True)} asked for: {asked} are held out, so {left} "
                      f"class{'es have' if left > 1 else ' has'} no validation example; pass "
                      f"{worded('a --val file', 'val_data')} to validate on every class",
                      UserWarning, stacklevel=callers_level())
    val = []
    for c, k in take.items():
        if k:
            val.extend(rng.permutation(members[c])[:k].tolist())
    if alone:
        shown = ", ".join(map(repr, alone[:5])) + (", ..." if len(alone) > 5 else "")
        warnings.warn(f"{len(alone)} class{'es' if len(alone) > 1 else ''} with one example ({shown}): kept for "
                      f"training, none left to validate on; add examples of {'them' if len(alone) > 1 else 'it'} "
                      f"or merge {'them' if len(alone) > 1 else 'it'} into another class", stacklevel=callers_level())
    val_idx = np.sort(np.asarray(val, dtype=np.int64))
    train_idx = np.setdiff1d(np.arange(labels.size), val_idx)
    return train_idx, val_idx


def _shared_out(take: dict[str, int], sizes: dict[str, int], asked: int, rng: np.random.Generator) -> dict[str, int]:
    """``asked`` validation examples shared among the classes in proportion to their ``sizes`` (the
    largest-remainder method; equal remainders in a seeded random order), each class keeping one
    example for training."""
    total = sum(sizes.values())
    names = list(take)
    quota = [sizes[c] * asked / total for c in names]
    out = {c: min(math.floor(q), sizes[c] - 1) for c, q in zip(names, quota)}
    short = asked - sum(out.values())
    for k in sorted(rng.permutation(len(names)).tolist(), key=lambda k: -(quota[k] % 1)):     # stable: ties drawn
        if short <= 0:
            break
        if out[names[k]] < sizes[names[k]] - 1:
            out[names[k]] += 1
            short -= 1
    return out


def warn_missing_classes(labels: Sequence[str], train_labels: Sequence[str], what: str, fix: str,
                         unit: str = "row") -> None:
    """One warning when data given apart to score on (``what``: "the validation data", "the test data")
    holds no example of some training classes: their rows in its report are dashes, and a validation
    file without the rare class of a 95/5 set scored accuracy and macro-F1 1.0, early stopping judging
    the common class alone, without a word. ``fix``: what to pass instead; ``unit``: what a training
    example is ("recording")."""
    held = set(labels)
    counts = Counter(train_labels)
    missing = sorted((c for c in counts if c not in held), key=lambda c: (-counts[c], c))
    if not missing:
        return
    shown = ", ".join(f"{c!r} ({counts[c]} training {unit}{'s' if counts[c] > 1 else ''})" for c in missing[:5])
    more = f", and {len(missing) - 5} more" if len(missing) > 5 else ""
    warnings.warn(f"{what} hold no example of {len(missing)} of the {len(counts)} classes: {shown}{more}; its "
                  f"scores say nothing of {'them' if len(missing) > 1 else 'it'}: {fix}",
                  UserWarning, stacklevel=callers_level())

