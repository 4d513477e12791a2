"""Argument checks of the LSTM modules: a wrong size, flag or dropout is a TypeError or
ValueError naming the argument, as torch's own modules raise."""
from __future__ import annotations

import numbers

from torch import Tensor

__all__ = ["check_positive_int", "check_bool", "check_dropout", "check_shape"]


def check_positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"`{name}` must be a positive integer, got {value}")


def check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be a bool, got {type(value).__name__}")


def check_dropout(dropout: object) -> None:
    if (
        not isinstance(dropout, numbers.Real)
        or isinstance(dropout, bool)
        or not 0 <= dropout <= 1
    ):
        raise ValueError(f"`dropout` must be a number in [0, 1], got {dropout!r}")


def check_shape(what: str, tensor: Tensor, expected: tuple[int, ...]) -> None:
    if tuple(tensor.shape) != expected:
        raise ValueError(f"Expected {what} of shape {list(expected)}, got {list(tensor.shape)}")
