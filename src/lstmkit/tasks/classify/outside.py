"""Numeric sequences far outside what a classifier saw in training, by the forecaster's rule and
words (:mod:`lstmkit.data.ranges`): ``predict`` warns, the service answers with ``warnings``, a
stream's step with the same.

    far_sequences(seqs, lo, hi)          (sequence, feature, distance, low, high) of each far outside
    sequence_note(subject, found, ...)   the warning's text for one of them
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from lstmkit.data.ranges import far_outside, far_outside_words

__all__ = ["far_sequences", "sequence_note"]

Found = tuple[int, int, float, np.ndarray, np.ndarray]      # sequence, feature, distance, its lows [F], highs [F]


def far_sequences(seqs: Sequence[np.ndarray], lo: np.ndarray, hi: np.ndarray) -> list[Found]:
    """Each sequence of ``seqs`` (``[T_i, F]``) whose values reach far outside the range ``lo .. hi``
    (``[F]``) of some feature: the first such feature, its distance in widths of that range, and the
    sequence's lows and highs. One screen over all the values first: most data lies within reach."""
    if not len(seqs):
        return []
    values = np.concatenate(seqs)                                       # [sum T_i, F]
    if far_outside(lo, hi, values.min(0), values.max(0)) is None:
        return []
    starts = np.cumsum([0] + [len(s) for s in seqs[:-1]])
    lows, highs = np.minimum.reduceat(values, starts, 0), np.maximum.reduceat(values, starts, 0)   # [N, F]
    found = []
    for k in range(len(seqs)):
        hit = far_outside(lo, hi, lows[k], highs[k])
        if hit is not None:
            found.append((k, hit[0], hit[1], lows[k], highs[k]))
    return found


def sequence_note(subject: str, found: Found, lo: np.ndarray, hi: np.ndarray, names: Sequence[str],
                  others: int = 0, to_original: Callable[[np.ndarray], np.ndarray] | None = None) -> str:
    """What a warning says of one sequence ``found`` far outside the range ``lo .. hi``:
    ``subject`` names it, ``others`` counts the other sequences so found, ``to_original`` maps
    ``[2, F]`` scaled rows (lows, highs) back to the data's units when the values are scaled."""
    _, j, dist, lows, highs = found
    span = np.stack([lows, highs])
    bounds = np.stack([lo, hi])
    if to_original is not None:
        span, bounds = to_original(span), to_original(bounds)
    low, high = span[:, j]
    seen = f"{low:.4g}" if low == high else f"{low:.4g} .. {high:.4g}"
    name = names[j] if j < len(names) else f"x{j}"
    more = f"; {others} more sequence{'s' * (others > 1)} too" if others else ""
    return far_outside_words(f"{subject} ({seen} in {name!r}{more})", False, dist,
                             f"the training range of {name!r} ({bounds[0, j]:.4g} .. {bounds[1, j]:.4g})",
                             "the class probabilities")
