"""Per-column scaling fitted on the training part only, with its inverse.

``Scaler`` wraps scikit-learn's ``MinMaxScaler`` / ``StandardScaler`` (or does nothing, for
``kind="none"``). Arrays are ``[..., C]`` of any leading shape — ``[N, C]`` series as well as
``[n, horizon, C]`` forecasts — and the math runs in float64. The fitted state is plain data:
``to_dict()`` gives a JSON-able dict and ``Scaler.from_dict`` rebuilds the same scaler without
unpickling anything.

A column is constant when its spread is 0 or below :data:`CONSTANT_SHARE` of its largest magnitude
(rounding), and is then divided by that magnitude (an all-zero one by 1): :func:`spread_or_size`, which
the forecaster's per-series scaler shares. scikit-learn's own rule divided such a column by 1 and
took more for constant: a range below 2.2e-15 (a sensor's 1e-16 readings, min-max scaled, all
read as 0) or a variance within its error bound (``1e30 + 1e15 * x`` standardised: inputs of ±1e15).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from lstmkit.errors import LstmkitError

__all__ = ["Scaler", "SCALER_KINDS", "CONSTANT_SHARE", "spread_or_size", "constant_columns"]

SCALER_KINDS = ("minmax", "standard", "none")
CONSTANT_SHARE = 1e-12      # a spread below this share of a column's largest magnitude is rounding: constant

# Fitted sklearn attributes that make up each scaler's state, as stored in to_dict().
_STATE = {
    "minmax": ("min_", "scale_", "data_min_", "data_max_", "data_range_"),
    "standard": ("mean_", "var_", "scale_"),
    "none": (),
}


class Scaler:
    """Scale each of ``C`` columns: ``kind`` is ``"minmax"`` (to [0, 1]), ``"standard"``
    (zero mean, unit variance) or ``"none"``.

    Constant columns map to a finite value (divided by their magnitude: :func:`spread_or_size`).

    >>> s = Scaler("minmax").fit(np.array([[0.0], [10.0]]))
    >>> s.transform(np.array([[5.0]])).tolist()
    [[0.5]]
    """

    def __init__(self, kind: str = "minmax"):
        if kind not in SCALER_KINDS:
            raise LstmkitError(f"unknown scaler kind {kind!r}", f"use one of: {', '.join(SCALER_KINDS)}")
        self.kind = kind
        self.n_columns_: int | None = None
        self._sk = _sklearn_scaler(kind)

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, array: np.ndarray) -> Scaler:
        """Learn per-column parameters from ``array [N, C]`` (pass the training part only)."""
        a = np.asarray(array, dtype=np.float64)
        if a.ndim != 2 or a.shape[0] == 0:
            raise LstmkitError(f"Expected a non-empty [N, C] array to fit the scaler, got shape {a.shape}",
                               "fit on the training rows, one column per variable")
        if not np.isfinite(a).all():
            raise LstmkitError("cannot fit the scaler on missing or infinite values",
                               "fill or drop them before scaling")
        self.n_columns_ = a.shape[1]
        if self._sk is not None:
            self._sk.fit(a)
            self._own_spread(a)
        return self

    def _own_spread(self, a: np.ndarray) -> None:
        """Replace scikit-learn's constant-column rule (divide by 1) with :func:`spread_or_size`'s."""
        size = np.abs(a).max(0)
        if self.kind == "standard":
            self._sk.scale_ = spread_or_size(np.sqrt(self._sk.var_), size)
        else:
            low, high = self._sk.feature_range
            self._sk.scale_ = (high - low) / spread_or_size(self._sk.data_range_, size)
            self._sk.min_ = low - self._sk.data_min_ * self._sk.scale_

    def transform(self, array: np.ndarray) -> np.ndarray:
        """Scale ``array [..., C]``; returns a new float64 array of the same shape."""
        return self._apply(array, inverse=False)

    def inverse_transform(self, array: np.ndarray) -> np.ndarray:
        """Undo :meth:`transform` on ``array [..., C]``."""
        return self._apply(array, inverse=True)

    def _apply(self, array: np.ndarray, inverse: bool) -> np.ndarray:
        if self.n_columns_ is None:
            raise LstmkitError("the scaler is not fitted yet", "call fit(train_array) first")
        a = np.array(array, dtype=np.float64)  # always a copy: callers keep their input
        if a.ndim == 0 or a.shape[-1] != self.n_columns_:
            raise LstmkitError(f"Expected an array [..., {self.n_columns_}], got shape {a.shape}",
                               "pass the same columns, in the same order, that the scaler was fitted on")
        if self._sk is None:
            return a
        flat = a.reshape(-1, self.n_columns_)  # [M, C]
        out = self._sk.inverse_transform(flat) if inverse else self._sk.transform(flat)
        return np.asarray(out, dtype=np.float64).reshape(a.shape)

    # -- state as plain data -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-able state: ``{"kind", "n_columns", <fitted parameters as lists>}``."""
        if self.n_columns_ is None:
            raise LstmkitError("the scaler is not fitted yet", "call fit(train_array) before saving it")
        state: dict[str, Any] = {"kind": self.kind, "n_columns": self.n_columns_}
        for attr in _STATE[self.kind]:
            state[attr.rstrip("_")] = np.asarray(getattr(self._sk, attr), dtype=np.float64).tolist()
        if self.kind == "minmax":
            state["feature_range"] = list(self._sk.feature_range)
        if self.kind != "none":
            state["n_samples_seen"] = int(np.max(self._sk.n_samples_seen_))
        return state

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Scaler:
        """Rebuild a fitted scaler from :meth:`to_dict` output."""
        kind = state.get("kind") if isinstance(state, dict) else None
        if kind not in SCALER_KINDS:
            raise LstmkitError(f"scaler state has unknown kind {kind!r}",
                               f"expected one of: {', '.join(SCALER_KINDS)}; was the file edited?")
        keys = ["n_columns"] + [a.rstrip("_") for a in _STATE[kind]]
        missing = [k for k in keys if k not in state]
        if missing:
            raise LstmkitError(f"scaler state is missing {', '.join(map(repr, missing))}",
                               "save the scaler again with Scaler.to_dict()")
        scaler = cls(kind)
        c = int(state["n_columns"])
        scaler.n_columns_ = c
        if scaler._sk is not None:
            for attr in _STATE[kind]:
                value = np.asarray(state[attr.rstrip("_")], dtype=np.float64)
                if value.shape != (c,):
                    raise LstmkitError(f"scaler state {attr.rstrip('_')!r} has shape {value.shape}, expected ({c},)",
                                       "save the scaler again with Scaler.to_dict()")
                setattr(scaler._sk, attr, value)
            if kind == "minmax":
                scaler._sk.feature_range = tuple(state.get("feature_range", (0, 1)))
            scaler._sk.n_features_in_ = c
            scaler._sk.n_samples_seen_ = int(state.get("n_samples_seen", 0))
        return scaler

    def __repr__(self) -> str:
        fitted = "" if self.n_columns_ is None else f", n_columns={self.n_columns_}"
        return f"Scaler({self.kind!r}{fitted})"


def spread_or_size(spread: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Per column, what to divide by: its ``spread`` (range, standard deviation, MASE scale), or for a
    constant column -- its spread 0, not finite or at most :data:`CONSTANT_SHARE` of ``size``, its largest
    magnitude -- that magnitude (1 for an all-zero column): a flat 2e-6 then scales to 1 as a flat 7
    does, and a column of tiny values (1e-16 A) that does move keeps its own spread."""
    spread, size = np.asarray(spread, dtype=np.float64), np.asarray(size, dtype=np.float64)
    constant = ~(np.isfinite(spread) & (spread > CONSTANT_SHARE * size))     # size >= 0: a spread of 0 is constant
    return np.where(constant, np.where(size > 0, size, 1.0), spread)


def constant_columns(array: np.ndarray) -> np.ndarray:
    """Per column of ``array [N, C]``, whether it is constant as :func:`spread_or_size` reads it: its
    values spread over at most :data:`CONSTANT_SHARE` of its largest magnitude (0 for one value throughout)."""
    a = np.asarray(array, dtype=np.float64)
    return np.ptp(a, axis=0) <= CONSTANT_SHARE * np.abs(a).max(0)


def _sklearn_scaler(kind: str):
    """A new scikit-learn scaler for ``kind`` (None for "none"); sklearn takes ~1 s to import,
    so it is imported when the first scaler is made, not with this module."""
    if kind == "none":
        return None
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    return {"minmax": MinMaxScaler, "standard": StandardScaler}[kind]()
