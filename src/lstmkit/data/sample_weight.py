"""``fit``'s ``sample_weight`` as the classifiers (text, numeric sequences, speech ``--mode classify``)
share it: the weights checked (:func:`sample_weights`, which ``score`` shares), each part's weights
checked after the validation split (:func:`check_parts`: the validation loss, which early stopping
and the restored weights follow, is the weighted mean over the held-out rows, as scikit-learn's and
Keras' held-out scores are), what a run records of them (:func:`weights_record`, under
:data:`WEIGHTS_KEY` in its data summary) and the resume that gives other weights, refused by name
(:func:`check_same_weights`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lstmkit.data.arrays import plain_array
from lstmkit.data.fingerprint import fingerprint
from lstmkit.errors import BadValue, LstmkitError

__all__ = ["WEIGHTS_KEY", "sample_weights", "weighted_part", "check_parts", "weights_record", "check_same_weights"]

#: The data summary's record of the weights a run trained with (None: it trained without).
WEIGHTS_KEY = "sample_weight"


def sample_weights(sample_weight: Any, n: int, what: str = "sample_weight") -> np.ndarray:
    """``sample_weight`` as float64 ``[n]``, one weight per labelled row (rows without a label are left
    out before, so they take none), as scikit-learn's ``fit`` and ``score`` take it: numbers, finite,
    0 or more, not all 0 (a list, an array, a Series, a tensor, a one-row matrix), in an array of its own.
    ``what`` names the weights in an error (``"val_data[2]"``: the third item of ``fit``'s
    ``val_data=(X, y, w)``)."""
    try:
        w = np.array(plain_array(sample_weight), dtype=np.float64)     # a copy: a reversed view (w[::-1]) is no tensor
    except (TypeError, ValueError):
        raise BadValue(f"{what} holds values that are not numbers ({str(sample_weight)[:40]})",
                       "pass one number per labelled row") from None
    if w.ndim == 2 and 1 in w.shape:                    # a column [n, 1]
        w = w.ravel()
    if w.ndim != 1 or len(w) != n:
        named = "sample weights" if what == "sample_weight" else f"weights in {what}"
        shown = f"{len(w)} {named}" if w.ndim == 1 else f"{named} of shape {w.shape}"
        raise BadValue(f"got {shown} for {n} labelled rows",
                       "pass one weight per row that has a label (rows without one are left out)")
    bad = np.flatnonzero(~(w >= 0) | np.isinf(w))      # NaN fails >= 0 too
    if len(bad):
        kind = "an infinite" if np.isinf(w[bad[0]]) else "a negative or missing"
        raise BadValue(f"{what} holds {kind} weight ({w[bad[0]]} at row {bad[0] + 1})",
                       "pass finite weights of 0 or more, not all 0")
    if not w.sum() > 0:
        raise BadValue(f"{what} holds only zeros ({n} rows)", "pass finite weights of 0 or more, not all 0")
    return w


def weighted_part(data: Any) -> tuple[Any, Any]:
    """``(data, weights)``: ``val_data=(X, y, w)`` as ``((X, y), w)``, anything else as ``(data, None)``."""
    if isinstance(data, tuple) and len(data) == 3:
        return data[:2], data[2]
    return data, None


def check_parts(train: np.ndarray, val: np.ndarray | None, apart: str) -> None:
    """Refuse a split that leaves the training part (``train``: its rows' weights) or the validation
    part split off the data (``val``; None: nothing held out, or validation data given apart) with
    weight 0 in all: the training loss, or the weighted validation loss early stopping follows,
    would be 0/0. ``apart``: the fix that holds nothing out of the data (``"pass val_data"``)."""
    for part, w in (("training", train), ("validation", val)):
        if w is not None and not w.sum() > 0:
            other = "validation" if part == "training" else "training"
            raise LstmkitError(f"sample_weight gives every row of the {part} part weight 0 ({len(w)} rows; its "
                               f"others went to the {other} part)", f"give some {part} rows weight, or {apart}")


def weights_record(weights: np.ndarray | None, val_loss: str | None,
                   val_weights: np.ndarray | None = None) -> dict[str, Any] | None:
    """What a run records of the weights it trains with (None: it trains without): their number, their
    fingerprint (a resume given others is refused by name) and how its validation loss and accuracy
    are reckoned (``val_loss``: ``"weighted"`` by the held-out rows' weights or by the weights given
    with validation data apart (``val_data=(X, y, w)``: ``val_weights``, recorded as ``val_rows`` and
    ``val_sha256``), ``"unweighted"`` for validation data given apart without weights, or None when
    nothing is held out and the weighted training loss decides). Weights given with the validation
    data alone record ``rows`` and ``sha256`` None: training is unweighted."""
    if weights is None and val_weights is None:
        return None
    record = {"rows": None if weights is None else len(weights),
              "sha256": None if weights is None else fingerprint(np.asarray(weights, dtype=np.float64)),
              "val_loss": val_loss}
    if val_weights is not None:
        record.update(val_rows=len(val_weights), val_sha256=fingerprint(np.asarray(val_weights, dtype=np.float64)))
    return record


def check_same_weights(started: dict[str, Any], summary: dict[str, Any], run_dir: Path) -> None:
    """Refuse a resume whose ``sample_weight`` is not the one the run started with (``started``: its
    data summary; ``summary``: the resumed fit's), naming the weights: their fingerprint was only part
    of the data's, and the refusal said 'the data changed'. A run that recorded no weights' record
    (started before it, or a task without weights) is left to the data's checks."""
    if WEIGHTS_KEY not in started or WEIGHTS_KEY not in summary:
        return
    was, now = started[WEIGHTS_KEY], summary[WEIGHTS_KEY]
    val_was, val_now = (was or {}).get("val_sha256"), (now or {}).get("val_sha256")
    if val_was != val_now:
        said = (f"{run_dir} was trained with val_data unweighted, and this resume gives {now['val_rows']} weights "
                "with it" if val_was is None else f"{run_dir} was trained with weights in val_data ({was['val_rows']}), "
                "and this resume gives none" if val_now is None else
                f"val_data's weights differ from those {run_dir} was trained with")
        raise LstmkitError(said, "pass val_data as the run started with it (val_data=(X, y, w) or (X, y)), or start "
                           "a new run without resume")
    was, now = (None if rec is None or rec.get("sha256") is None else rec for rec in (was, now))
    if was is None and now is None:
        return
    again = "pass the same weights (in Python: resume(RUN, data=X, y=y, sample_weight=w))"
    if was is None:
        raise LstmkitError(f"{run_dir} was trained without sample_weight, and this resume gives {now['rows']} "
                           "weights", "resume without sample_weight, or start a new run to train with the weights")
    if now is None:
        raise LstmkitError(f"{run_dir} was trained with sample_weight ({was['rows']} weights), and this resume "
                           "gives none", f"{again}, or start a new run without resume")
    if now["sha256"] != was["sha256"]:
        count = f"{was['rows']} then, {now['rows']} now" if now["rows"] != was["rows"] else f"{now['rows']} weights"
        raise LstmkitError(f"sample_weight differs from the one {run_dir} was trained with ({count})",
                           f"{again}, or start a new run without resume")
