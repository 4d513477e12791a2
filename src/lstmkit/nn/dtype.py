"""The dtype lstmkit's networks are built in: float32, whatever ``torch.set_default_dtype`` says.

    float32_default()    a context in which torch's default dtype is float32 (restored after)

Under ``torch.set_default_dtype(torch.float64)`` (a notebook's, for its own numerics) a network
built in a fit or a load took float64 parameters while the data came as float32 arrays:
``SequenceClassifier`` and ``Forecaster`` failed with torch's 'LSTM: Expected input dtype
torch.float64, got torch.float32', and the other tasks trained a float64 network, saved at twice
the size. The estimators build and train inside this context, so a model is the same float32 one
(its weights, its ONNX graph) under either default. Nothing is changed where the default is
already float32: threads predicting side by side never see it set.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch

__all__ = ["float32_default"]


@contextmanager
def float32_default() -> Iterator[None]:
    """Run the block with torch's default dtype float32, the caller's restored afterwards."""
    before = torch.get_default_dtype()
    if before == torch.float32:
        yield
        return
    torch.set_default_dtype(torch.float32)
    try:
        yield
    finally:
        torch.set_default_dtype(before)
