"""What :func:`~lstmkit.inspect.gates` and :func:`~lstmkit.inspect.attention` read when given a
fitted estimator and the data a user has at hand rather than the network's own numbers: a
forecaster's table (a DataFrame or a file) is its last ``lookback`` scaled rows, as
``lstmkit inspect … --data`` reads it; a text model's string is the token ids it reads, as
``--text`` does; a speech model's audio file (a path) the features it reads, as ``--audio`` does,
and a network that must be told its lengths is told each sequence is whole. Anything else that
is not numbers, a table among them, is one error naming what to pass (it was torch's "can't
convert np.ndarray of type numpy.object_", or its shape error for a table of numbers)."""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from lstmkit.errors import LstmkitError

__all__ = ["network_input", "network_batch", "full_lengths"]


def network_input(model: Any, x: Any) -> Any:
    """``x`` as the network reads it: unchanged when it is numbers (a tensor, an array, nested lists)."""
    if isinstance(x, Tensor):
        return x
    text = isinstance(x, str)
    if hasattr(model, "audio_inputs") and (text or isinstance(x, Path)):
        return model.audio_inputs(x)                                                # features [T, F]
    if hasattr(model, "model_inputs") and (text or isinstance(x, Path) or _is_table(x) or _one_series(x)):
        inputs = model.model_inputs(str(x) if text or isinstance(x, Path) else x)     # scaled [N, F]
        lookback = model.config_.lookback
        if len(inputs) < lookback:
            raise LstmkitError(f"the data has {len(inputs)} rows, fewer than the model's lookback ({lookback})",
                               f"pass at least {lookback} rows")
        return inputs[-lookback:]                                                   # the last window, as --data
    if text and hasattr(model, "token_inputs"):
        return np.asarray(model.token_inputs(x)[1], dtype=np.int64)
    if _is_table(x):            # a table's rows are samples, not one sequence's steps, and unscaled
        raise LstmkitError(f"`x` must be the numbers the network reads ([T, F] or [B, T, F]), got {_what(x, None)}",
                           _fix(model))
    try:
        numbers = np.asarray(x)
    except (TypeError, ValueError):             # ragged nested lists
        numbers = np.asarray(x, dtype=object)
    if numbers.dtype.kind in "biuf":
        return numbers
    raise LstmkitError(f"`x` must be the numbers the network reads ([T, F] or [B, T, F]; token ids [T] for a "
                       f"model that embeds tokens), got {_what(x, numbers)}", _fix(model))


def network_batch(model: Any, net: nn.Module, x: Any, lengths: Any, dtype: torch.dtype) -> tuple[Tensor, Any]:
    """``(x, lengths)`` as ``net`` takes them, from what :func:`network_input` reads of ``x``: token ids
    stay int64 ids for a network that embeds them, anything else in ``dtype``; one sequence (``[T, F]``,
    or ids ``[T]``) becomes a batch of one; ``lengths`` as :func:`full_lengths` gives them."""
    x = network_input(model, x)
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x)
    if hasattr(model, "token_inputs") and getattr(model, "kind", "text") == "text":
        _check_ids(x, net)
    tokens = not torch.is_floating_point(x) and any(isinstance(m, nn.Embedding) for m in net.modules())
    x = x.long() if tokens else x.to(dtype)
    if x.dim() == (1 if tokens else 2):
        x = x.unsqueeze(0)                                                     # [1, T, F] / [1, T]
    return x, full_lengths(net, x, lengths)


def _check_ids(x: Tensor, net: nn.Module) -> None:
    """An error unless ``x`` holds token ids the text model's embedding (its first: a translator's
    source side) can look up: they were torch's 'index out of range in self', or its 'Expected tensor
    for argument #1 'indices' to have one of the following scalar types' for floats or no ids."""
    fix = "pass one text as a string, or the ids of model.token_inputs(text)[1]"
    if x.numel() == 0:
        raise LstmkitError("`x` holds no token ids", fix)
    if torch.is_floating_point(x) or x.dtype == torch.bool:
        raise LstmkitError(f"`x` holds {str(x.dtype).replace('torch.', '')} values, where the model reads token ids "
                           "(integers)", fix)
    size = next(m for m in net.modules() if isinstance(m, nn.Embedding)).num_embeddings
    outside = x[(x < 0) | (x >= size)]
    if outside.numel():
        raise LstmkitError(f"`x` holds token id {int(outside[0])}, outside the model's vocabulary of {size} ids "
                           f"(0 to {size - 1})", fix)


def full_lengths(net: nn.Module, x: Tensor, lengths: Any) -> Any:
    """``lengths``, or every sequence of ``x [B, T, ...]`` whole when the network must be told its
    lengths (a speech model's ``forward(x, lengths)``: called without them, a TypeError)."""
    if lengths is not None:
        return lengths
    try:
        param = inspect.signature(net.forward).parameters.get("lengths")
    except (TypeError, ValueError):
        return None
    if param is None or param.default is not inspect.Parameter.empty:
        return None
    return torch.full((x.shape[0],), x.shape[1], dtype=torch.long)


def _one_series(x: Any) -> bool:
    """Whether ``x`` is a plain series of numbers (``[T]``), what a forecaster's ``predict`` reads as its
    data: the network reads ``[T, F]``, and a forecaster's raised torch's IndexError from its head."""
    if isinstance(x, Tensor) or not isinstance(x, (np.ndarray, list, tuple)):
        return False
    try:
        numbers = np.asarray(x)
    except (TypeError, ValueError):
        return False
    return numbers.ndim == 1 and numbers.dtype.kind in "biuf"


def _is_table(x: Any) -> bool:
    return type(x).__module__.split(".")[0] in ("pandas", "polars", "pyarrow")


def _what(x: Any, numbers: np.ndarray | None) -> str:
    if isinstance(x, (str, Path)):
        return f"the text {str(x)[:40]!r}"
    if _is_table(x):
        return f"a {type(x).__name__}"
    return f"a {type(x).__name__} of {numbers.dtype} values"


def _fix(model: Any) -> str:
    if hasattr(model, "model_inputs"):
        return "pass the data as predict takes it (a DataFrame or a file), or model.model_inputs(data)[-lookback:]"
    if hasattr(model, "token_inputs"):
        return "pass one text as a string, or the ids of model.token_inputs(text)[1]"
    if hasattr(model, "audio_inputs"):
        return "pass model.audio_inputs('clip.wav'), the features the network reads of a recording"
    if hasattr(model, "scaler_"):
        return "pass one sequence's steps [T, F] scaled as training scaled them: model.scaler_.transform(steps)"
    return "pass a tensor or a numeric array, scaled as the model's training data was"
