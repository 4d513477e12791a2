"""Small building blocks shared by the zoo and the task models: masks, causal convolutions,
positional encoding, heads.

Everything is batch-first: sequences are ``[B, T, C]``; ``lengths`` is ``[B]`` ints in ``[1, T]``.
"""
from __future__ import annotations

import contextlib
import math
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.errors import LstmkitError

__all__ = ["HEADS", "exporting", "evaluating", "widened", "conv1d", "valid_mask", "zero_padding", "CausalConv1d",
           "ConvFrontEnd", "PositionalEncoding", "TemporalBlock", "make_head"]

HEADS = ("linear", "mlp")
MLP_HIDDEN = 25   # the tutorial's Keras head: Dense(25) -> Dense(out)


def widened(t: Tensor) -> Tensor:
    """``t`` in float32 where it is narrower (bf16 or fp16, under autocast): a softmax, a mean of
    probabilities or a cumulative sum that CPU autocast left 3 digits wide. A float64 model's tensors
    stay float64 (``.float()`` made them float32, and the next matrix product with a float64 one failed)."""
    return t.float() if t.is_floating_point() and t.dtype not in (torch.float32, torch.float64) else t


def exporting() -> bool:
    """True while this thread traces a module for ONNX export (``torch.onnx.export(dynamo=False)``
    traces it, so ``torch.jit.is_tracing()``, which is the calling thread's, says so). Not
    ``torch.onnx.is_in_onnx_export()``: that flag is the process's, and while one thread exported
    a model every other thread's transformer, attention or convolution ran its export form (other
    numbers in the 8th digit; ``inspect.attention`` recorded nothing)."""
    return torch.jit.is_tracing()


@contextlib.contextmanager
def evaluating(net: nn.Module) -> Iterator[nn.Module]:
    """``net`` in eval mode for the block, and in training mode again after it only if it was. A net
    already in eval mode (a fitted or loaded estimator's) is left alone: the mode is the shared
    module's, and one thread's block putting it back into training mode ran another thread's
    call meanwhile with dropout on."""
    training = net.training
    if training:
        net.eval()
    try:
        yield net
    finally:
        if training:
            net.train()


def conv1d(conv: nn.Conv1d, x: Tensor, norm: nn.BatchNorm1d | None = None) -> Tensor:
    """``conv`` over ``x [B, C, T]``, then ``norm`` if given. While exporting, the same convolution
    in 2-D with a height of 1 (the norm too, so the exporter folds it into the convolution): ONNX
    Runtime's CPU provider runs 2-D convolutions in its blocked (NCHWc) layout and 1-D ones through
    im2col and a GEMM, and on LSTM-FCN's three blocks the 2-D form took half the time (same
    answers to 5e-7). Eager PyTorch gets the 1-D call (it makes the same switch itself)."""
    if not exporting() or conv.padding_mode != "zeros" or isinstance(conv.padding, str):
        y = nn.Conv1d.forward(conv, x)
        return y if norm is None else norm(y)
    y = F.conv2d(x.unsqueeze(2), conv.weight.unsqueeze(2), conv.bias, (1, conv.stride[0]),
                 (0, conv.padding[0]), (1, conv.dilation[0]), conv.groups)
    if norm is not None:
        y = F.batch_norm(y, norm.running_mean, norm.running_var, norm.weight, norm.bias, False, 0.0, norm.eps)
    return y.squeeze(2)


def valid_mask(lengths: Tensor, steps: int) -> Tensor:
    """``[B]`` lengths -> ``[B, T]`` bool, True where step t is inside sequence b."""
    lengths = torch.as_tensor(lengths)
    return torch.arange(steps, device=lengths.device)[None, :] < lengths[:, None]


def zero_padding(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Zero ``x [B, T, C]`` past each sequence's length (a no-op when ``lengths`` is None)."""
    if lengths is None:
        return x
    keep = valid_mask(torch.as_tensor(lengths).to(x.device), x.shape[1])  # [B, T]
    return x.masked_fill(~keep[..., None], 0.0)


class CausalConv1d(nn.Conv1d):
    """Conv1d over ``[B, T, C]`` whose output at step t reads inputs ``t - (k-1)·d .. t`` only.

    With ``causal=False`` the padding is symmetric ("same"), so the output at t also reads
    ``(k-1)·d/2`` future steps. Output length always equals input length.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 dilation: int = 1, causal: bool = True):
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation)
        total = (kernel_size - 1) * dilation
        self.causal = causal
        self._pad = (total, 0) if causal else (total // 2, total - total // 2)

    def forward(self, x: Tensor) -> Tensor:  # [B, T, C_in] -> [B, T, C_out]
        return conv1d(self, F.pad(x.transpose(1, 2), self._pad)).transpose(1, 2)


class ConvFrontEnd(nn.Module):
    """Conv1d (kernel 3 by default) + ReLU: local patterns before a recurrent layer.

    ``[B, T, I] -> [B, T, C]``. Causal padding (left only) by default, so forecasting models
    never see the step they predict.
    """

    def __init__(self, input_size: int, channels: int, kernel_size: int = 3, causal: bool = True):
        super().__init__()
        self.conv = CausalConv1d(input_size, channels, kernel_size, causal=causal)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        # Zeroing padding first makes a padded sequence see exactly the zeros the convolution
        # pads with when the sequence runs alone.
        return torch.relu(self.conv(zero_padding(x, lengths)))


class PositionalEncoding(nn.Module):
    """Sinusoidal positions added to ``[B, T, D]`` (Vaswani et al. 2017), then dropout. The first
    ``max_len`` rows are stored; a longer sequence's are computed (:meth:`rows`)."""

    def __init__(self, d_model: int, dropout: float = 0.0, max_len: int = 10_000):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.d_model = d_model
        self.max_len = max_len
        self.register_buffer("pe", self._table(max_len, d_model), persistent=False)

    @staticmethod
    def _table(steps: int, d_model: int) -> Tensor:
        pos = torch.arange(steps, dtype=torch.float32)[:, None]                          # [T, 1]
        div = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10_000.0) / d_model))
        pe = torch.zeros(steps, d_model)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div[: d_model // 2])
        return pe                                                                          # [T, D]

    def rows(self, steps: Tensor | int, device=None) -> Tensor:
        """The table's first ``steps`` rows computed afresh (what ONNX export traces: a slice of the
        buffer would store all ``max_len`` rows in the file)."""
        pos = torch.arange(steps, dtype=torch.float32, device=device)[:, None]                 # [T, 1]
        div = torch.exp(torch.arange(0, self.d_model, 2, dtype=torch.float32, device=device)
                        * (-math.log(10_000.0) / self.d_model))
        angle = pos * div                                                                      # [T, ceil(D/2)]
        return torch.stack([angle.sin(), angle.cos()], dim=-1).flatten(1)[:, :self.d_model]   # [T, D]

    def forward(self, x: Tensor) -> Tensor:
        steps = x.shape[1]
        # past the table the rows are computed afresh, as for export: the positions have no end, and a
        # sequence over ``max_len`` steps (a text of 12,000 tokens to a transformer classifier of max_len
        # none, a series of EigenWorms' 17,984 steps) was a ValueError traceback from here
        if exporting() or steps > self.max_len:
            return self.dropout(x + self.rows(steps, x.device).to(x.dtype))
        return self.dropout(x + self.pe[:steps].to(x.dtype))


class TemporalBlock(nn.Module):
    """TCN residual block (Bai et al. 2018): two dilated causal convolutions with ReLU and
    dropout, plus a residual (1×1 convolution when the channel count changes).

    ``[B, T, C_in] -> [B, T, C_out]``; the receptive field grows by ``2·(k-1)·dilation``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dilation: int,
                 dropout: float = 0.0):
        super().__init__()
        self.conv1 = CausalConv1d(in_channels, out_channels, kernel_size, dilation)
        self.conv2 = CausalConv1d(out_channels, out_channels, kernel_size, dilation)
        self.dropout = nn.Dropout(dropout)
        self.residual = nn.Linear(in_channels, out_channels) if in_channels != out_channels else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        y = self.dropout(torch.relu(self.conv1(x)))
        y = self.dropout(torch.relu(self.conv2(y)))
        return torch.relu(y + self.residual(x))


def make_head(kind: str, in_features: int, out_features: int) -> nn.Module:
    """The output layer on top of an encoder summary ``[B, D] -> [B, out]``.

    ``linear``: one Linear layer. ``mlp``: Linear(D, 25) -> ReLU -> Linear(25, out), the
    tutorial's Keras ``Dense(25) -> Dense(1)`` head. Keras' ``Dense(25)`` has no activation,
    which makes the two layers one linear map of rank 25; the ReLU makes it a real hidden
    layer and changes no parameter count.
    """
    if kind == "linear":
        return nn.Linear(in_features, out_features)
    if kind == "mlp":
        return nn.Sequential(nn.Linear(in_features, MLP_HIDDEN), nn.ReLU(), nn.Linear(MLP_HIDDEN, out_features))
    raise LstmkitError(f"unknown head {kind!r}", f"use one of: {', '.join(HEADS)}")
