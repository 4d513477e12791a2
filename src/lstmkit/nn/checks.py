"""Argument checks of the LSTM modules: a wrong size, flag or dropout is a TypeError or
ValueError naming the argument, as torch's own modules raise."""
from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["check_positive_int", "check_bool", "check_dropout", "check_lengths", "check_pair", "check_state"]


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


def check_pair(what: str, state: object) -> None:
    """``state`` a tuple or list of two (``(h, c)``); ``what`` names the pair, e.g. ``"LSTM: Expected
    state as a pair (h0, c0)"``."""
    if isinstance(state, (tuple, list)) and len(state) == 2:
        return
    got = type(state).__name__ + (f" of {len(state)}" if isinstance(state, (tuple, list)) else "")
    raise ValueError(f"{what}, got a {got}")


def check_state(what: str, tensor: object, expected: tuple[int, ...], like: Tensor) -> None:
    """A state tensor of shape ``expected``, on the device of the input ``like`` and, outside
    autocast, of its dtype: a float64 state (``torch.from_numpy`` of numpy's default zeros) beside
    a float32 input failed deep in the kernel ("get_mkldnn_dtype: unsupported data type", "mat1
    and mat2 must have the same dtype"), a numpy array in its argument parsing."""
    if not isinstance(tensor, Tensor):
        raise ValueError(f"Expected {what} as a torch.Tensor, got {type(tensor).__name__}")
    if tuple(tensor.shape) != expected:
        raise ValueError(f"Expected {what} of shape {list(expected)}, got {list(tensor.shape)}")
    if tensor.dtype != like.dtype and not torch._C._is_any_autocast_enabled():
        raise ValueError(f"Expected {what} of dtype {like.dtype} (the input's), got {tensor.dtype}")
    if tensor.device != like.device:
        raise ValueError(f"Expected {what} on {like.device} (the input's device), got {tensor.device}")


def check_lengths(owner: str, lengths: Tensor | Sequence[int], batch: int, steps: int) -> Tensor:
    """``lengths`` as ``[batch]`` int64 on the CPU, each in ``[1, steps]``; else a ValueError that
    ``owner`` (``"LSTM"``, ``"GRU"``) begins. The zoo's encoders all check them so: a GRU given one
    length for two rows answered one row, given 2.7 read 2 steps, without a word."""
    lengths = torch.as_tensor(lengths, device="cpu")
    if lengths.dim() != 1 or lengths.numel() != batch:
        raise ValueError(f"{owner}: Expected lengths of shape [{batch}], got {list(lengths.shape)}")
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise ValueError(f"{owner}: Expected integer lengths, got {lengths.dtype}")
    if lengths.numel() and (int(lengths.min()) < 1 or int(lengths.max()) > steps):
        raise ValueError(f"{owner}: Expected lengths in [1, {steps}], got min {int(lengths.min())}, "
                         f"max {int(lengths.max())}")
    return lengths.long()
