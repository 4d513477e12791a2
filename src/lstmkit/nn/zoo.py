"""Encoders by name, all with one signature, usable unchanged by every task.

    enc = make_encoder("tcn", input_size=3, hidden_size=50, num_layers=2, dropout=0.2)
    out, state = enc(x, state=None, lengths=None)      # x [B, T, I] -> out [B, T, enc.output_size]

Every encoder has ``output_size`` (D), ``bidirectional`` and ``causal`` (out[:, t] depends on
x[:, :t+1] only, so out[:, -1] summarises a window without peeking). ``state`` is the recurrent
state where there is one ((h, c) for LSTMs, h for GRUs) and None otherwise. With ``lengths``
([B] ints in [1, T]; other lengths are a ValueError naming them, in every encoder) outputs at
valid steps equal those of each sequence run alone and outputs past a length are zero.

=================  ==========================================================  ======
name               what                                                        causal
=================  ==========================================================  ======
lstm, gru          stacked recurrent layers, dropout between layers            yes
bilstm, bigru      the same, bidirectional (D = 2H)                            no
lstm-attention     LSTM, then multi-head self-attention + residual + LayerNorm  option
cnn-lstm           Conv1d (kernel 3) + ReLU, then LSTM                         option
lstm-fcn           LSTM beside a fully convolutional branch (LSTM-FCN)         no
transformer        Linear, sinusoidal positions, Transformer encoder layers     option
tcn                dilated causal convolutions in residual blocks              yes
=================  ==========================================================  ======
"""
from __future__ import annotations

import warnings
from typing import Callable

import torch
from torch import Tensor, nn

from lstmkit.errors import LstmkitError, warnings_caught
from lstmkit.nn.attention import SelfAttention, attend, causal_mask, pick_heads
from lstmkit.nn.blocks import (CausalConv1d, ConvFrontEnd, PositionalEncoding, TemporalBlock, exporting, valid_mask,
                               zero_padding)
from lstmkit.nn.checks import check_lengths
from lstmkit.nn.lstm import LSTM

__all__ = ["ENCODERS", "make_encoder", "count_parameters", "find_lstm", "TCN_CONTEXT", "tcn_reach", "tcn_blocks_for",
           "GRU", "LSTMAttention", "CNNLSTM", "LSTMFCN", "TransformerEncoder", "TCN"]


TCN_CONTEXT = 64      # the steps the zoo's tcn reaches at least, whatever its num_layers


class GRU(nn.GRU):
    """``torch.nn.GRU`` with lstmkit's recurrent signature (batch-first, ``lengths`` accepted)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 dropout: float = 0.0, bidirectional: bool = False):
        super().__init__(input_size, hidden_size, num_layers=num_layers, batch_first=True,
                         dropout=dropout, bidirectional=bidirectional)
        self.output_size = hidden_size * (2 if bidirectional else 1)
        self.causal = not bidirectional

    def forward(self, x, state=None, lengths=None):
        if lengths is None:
            return super().forward(x, state)
        if not exporting():
            lengths = check_lengths("GRU", lengths, x.shape[0], x.shape[1])
        packed = nn.utils.rnn.pack_padded_sequence(x, torch.as_tensor(lengths).cpu(), batch_first=True,
                                                   enforce_sorted=False)
        out, h = super().forward(packed, state)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out, h


class LSTMAttention(nn.Module):
    """LSTM, then multi-head self-attention over its outputs (residual + LayerNorm).

    ``x [B, T, I] -> (out [B, T, H], (h, c))``. With ``causal`` each step attends only to itself
    and earlier steps; the attention weights can be recorded (``self.attention.record = True``).
    """

    bidirectional = False

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0,
                 causal: bool = True, num_heads: int | None = None):
        super().__init__()
        self.lstm = _stacked_lstm(input_size, hidden_size, num_layers, dropout)
        self.attention = SelfAttention(hidden_size, num_heads, dropout, causal)
        self.output_size = hidden_size
        self.causal = causal

    def forward(self, x: Tensor, state=None, lengths=None):
        h, state = self.lstm(x, state, lengths)                       # [B, T, H]
        return self.attention(h, lengths), state                      # [B, T, H]


class CNNLSTM(nn.Module):
    """Conv1d front-end (kernel 3, ReLU) for local patterns, then a stacked LSTM.

    ``x [B, T, I] -> (out [B, T, H], (h, c))``. The convolution pads on the left only when
    ``causal``, so out[:, t] never reads x[:, t+1:].
    """

    bidirectional = False

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0,
                 causal: bool = True, kernel_size: int = 3):
        super().__init__()
        self.conv = ConvFrontEnd(input_size, hidden_size, kernel_size, causal)
        self.lstm = _stacked_lstm(hidden_size, hidden_size, num_layers, dropout)
        self.output_size = hidden_size
        self.causal = causal

    def forward(self, x: Tensor, state=None, lengths=None):
        return self.lstm(self.conv(x, lengths), state, lengths)       # [B, T, H]


class LSTMFCN(nn.Module):
    """LSTM-FCN (Karim et al. 2018): a stacked LSTM beside a fully convolutional branch, their
    per-step outputs concatenated.

    The convolutional branch is three blocks of Conv1d → BatchNorm → ReLU (``filters`` 128, 256,
    128; kernels 8, 5, 3). Mean pooling over its outputs is the paper's global average pooling,
    so ``pooling="mean"`` in the classifier reproduces the architecture (with the LSTM reading
    the series step by step rather than the paper's one-step "dimension shuffle").
    ``x [B, T, I] -> (out [B, T, H + filters[-1]], (h, c))``. With ``lengths``, each block's
    input is zeroed past the length, so in eval mode a padded sequence gives the outputs it gets
    alone; in training mode BatchNorm's batch statistics include the padded steps.

    ``causal`` pads the convolutions on the left, so in eval mode out[:, t] reads x[:, :t+1] only;
    ``self.causal`` is False all the same: in training mode BatchNorm normalises each step by
    statistics over every step of the batch, later ones included, so a model trained on it (a
    language model) would learn from outputs that read the future.
    """

    bidirectional = False

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0,
                 causal: bool = False, filters: tuple[int, ...] = (128, 256, 128),
                 kernels: tuple[int, ...] = (8, 5, 3)):
        super().__init__()
        self.lstm = _stacked_lstm(input_size, hidden_size, num_layers, dropout)
        sizes = (input_size, *filters)
        self.convs = nn.ModuleList(CausalConv1d(sizes[k], sizes[k + 1], kernels[k], causal=causal)
                                   for k in range(len(filters)))
        self.norms = nn.ModuleList(nn.BatchNorm1d(f) for f in filters)
        self.output_size = hidden_size + filters[-1]
        self.causal = False               # the batch statistics (see the class docstring)

    def forward(self, x: Tensor, state=None, lengths=None):
        h, state = self.lstm(x, state, lengths)                        # [B, T, H]
        z = x
        for conv, norm in zip(self.convs, self.norms):
            y = conv(zero_padding(z, lengths))                         # [B, T, F]
            z = torch.relu(norm(y.transpose(1, 2)).transpose(1, 2))
        return torch.cat([h, zero_padding(z, lengths)], dim=-1), state  # [B, T, H + F]


class TransformerEncoder(nn.Module):
    """Linear projection to ``hidden_size``, sinusoidal positions, ``num_layers`` Transformer
    encoder layers (pre-norm, feed-forward 4·H, GELU), final LayerNorm.

    ``x [B, T, I] -> (out [B, T, H], None)``. ``causal`` masks attention to later steps; keys
    past each length are masked. Heads: ``num_heads`` or :func:`~lstmkit.nn.attention.pick_heads`.
    """

    bidirectional = False

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0,
                 causal: bool = True, num_heads: int | None = None):
        super().__init__()
        heads = num_heads or pick_heads(hidden_size)
        self.proj = nn.Linear(input_size, hidden_size)
        self.positions = PositionalEncoding(hidden_size, dropout)
        layer = nn.TransformerEncoderLayer(hidden_size, heads, 4 * hidden_size, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        with warnings_caught():   # "enable_nested_tensor is True, but norm_first ..." is moot: it is off
            warnings.filterwarnings("ignore", message="enable_nested_tensor is True", category=UserWarning)
            self.layers = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(hidden_size),
                                                enable_nested_tensor=False)
        self.output_size = hidden_size
        self.causal = causal
        self.num_heads = heads

    def forward(self, x: Tensor, state=None, lengths=None):
        steps = x.shape[1]
        if lengths is not None and not exporting():
            check_lengths("TransformerEncoder", lengths, x.shape[0], steps)
        h = self.positions(self.proj(x))                               # [B, T, H]
        mask = causal_mask(steps, x.device) if self.causal else None
        pad = None if lengths is None else ~valid_mask(torch.as_tensor(lengths).to(x.device), steps)
        explicit = exporting() or not isinstance(self.layers.layers[0].linear1.weight, Tensor)
        out = self.explicit(h, mask, pad) if explicit else self.layers(h, mask=mask, src_key_padding_mask=pad)
        return zero_padding(out, lengths), None

    def explicit(self, h: Tensor, mask: Tensor | None, pad: Tensor | None) -> Tensor:
        """``self.layers`` (pre-norm, eval) in ops whose shapes follow ``h`` (see
        :func:`~lstmkit.nn.attention.attend`): what the ONNX exporter traces, and what runs once
        the feed-forward layers are int8 (torch's encoder layer reads their ``weight`` as a
        tensor, which a dynamically quantized Linear's is not)."""
        for layer in self.layers.layers:
            h = h + attend(layer.self_attn, layer.norm1(h), mask, pad)
            h = h + layer.linear2(layer.activation(layer.linear1(layer.norm2(h))))
        return self.layers.norm(h)

    def attention_weights(self, x: Tensor, lengths=None) -> Tensor:
        """The attention weights ``[L, B, heads, T, T]`` (query × key) of each layer for ``x [B, T, I]``
        (eval, no grad): what :meth:`explicit` attends with, each layer reading the one before's
        output; a padded step's own row is zero, as its output is."""
        steps = x.shape[1]
        h = self.positions(self.proj(x))                               # [B, T, H]
        mask = causal_mask(steps, x.device) if self.causal else None
        pad = None if lengths is None else ~valid_mask(torch.as_tensor(lengths).to(x.device), steps)
        weights = []
        for layer in self.layers.layers:
            q = layer.norm1(h)
            a, w = layer.self_attn(q, q, q, attn_mask=mask, key_padding_mask=pad, need_weights=True,
                                   average_attn_weights=False)
            weights.append(w if pad is None else w.masked_fill(pad[:, None, :, None], 0.0))
            h = h + a
            h = h + layer.linear2(layer.activation(layer.linear1(layer.norm2(h))))
        return torch.stack(weights)


class TCN(nn.Module):
    """Temporal convolutional network: residual blocks of dilated causal convolutions,
    dilation 1, 2, 4, ... (Bai, Kolter & Koltun 2018).

    ``x [B, T, I] -> (out [B, T, H], None)``. out[:, t] reads x[:, t-R+1 : t+1], R =
    ``receptive_field``. ``num_layers`` is a minimum number of blocks: more are added until
    R >= ``context``, because the last step must see the whole window to summarise it.
    """

    bidirectional = False
    causal = True

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0,
                 kernel_size: int = 3, context: int = TCN_CONTEXT):
        super().__init__()
        n_blocks = max(num_layers, tcn_blocks_for(context, kernel_size))
        self.blocks = nn.Sequential(*[
            TemporalBlock(input_size if k == 0 else hidden_size, hidden_size, kernel_size, 2 ** k, dropout)
            for k in range(n_blocks)])
        self.receptive_field = _receptive_field(n_blocks, kernel_size)
        self.output_size = hidden_size

    def forward(self, x: Tensor, state=None, lengths=None):
        # Causal convolutions never read past t, so padding after a length cannot reach the
        # valid steps; zeroing the outputs there keeps the shared contract.
        if lengths is not None and not exporting():
            check_lengths("TCN", lengths, x.shape[0], x.shape[1])
        return zero_padding(self.blocks(x), lengths), None


def tcn_blocks_for(steps: int, kernel_size: int = 3) -> int:
    """The fewest temporal blocks (at least one) whose receptive field covers ``steps`` steps."""
    blocks = 1
    while _receptive_field(blocks, kernel_size) < steps:
        blocks += 1
    return blocks


def tcn_reach(num_layers: int, kernel_size: int = 3, context: int = TCN_CONTEXT) -> int:
    """The receptive field of ``TCN(num_layers=..., kernel_size=..., context=...)``: the steps its
    last output reads (the zoo's ``tcn`` is built with the defaults)."""
    return _receptive_field(max(num_layers, tcn_blocks_for(context, kernel_size)), kernel_size)


def _receptive_field(blocks: int, kernel_size: int) -> int:
    return 1 + 2 * (kernel_size - 1) * (2 ** blocks - 1)     # each block adds 2(k-1)·dilation, dilation 2^b


def _stacked_lstm(i: int, h: int, layers: int, dropout: float, bidirectional: bool = False) -> LSTM:
    enc = LSTM(i, h, num_layers=layers, dropout=dropout if layers > 1 else 0.0, batch_first=True,
               bidirectional=bidirectional)
    enc.output_size = h * (2 if bidirectional else 1)
    enc.causal = not bidirectional
    return enc


ENCODERS: dict[str, Callable[..., nn.Module]] = {
    "lstm": lambda i, h, n, p, causal=True: _stacked_lstm(i, h, n, p),
    "gru": lambda i, h, n, p, causal=True: GRU(i, h, n, p if n > 1 else 0.0),
    "bilstm": lambda i, h, n, p, causal=True: _stacked_lstm(i, h, n, p, bidirectional=True),
    "bigru": lambda i, h, n, p, causal=True: GRU(i, h, n, p if n > 1 else 0.0, bidirectional=True),
    "lstm-attention": lambda i, h, n, p, causal=True: LSTMAttention(i, h, n, p, causal),
    "cnn-lstm": lambda i, h, n, p, causal=True: CNNLSTM(i, h, n, p, causal),
    "lstm-fcn": lambda i, h, n, p, causal=True: LSTMFCN(i, h, n, p, causal),
    "transformer": lambda i, h, n, p, causal=True: TransformerEncoder(i, h, n, p, causal),
    "tcn": lambda i, h, n, p, causal=True: TCN(i, h, n, p),
}


def make_encoder(name: str, input_size: int, hidden_size: int, num_layers: int, dropout: float,
                 causal: bool = True) -> nn.Module:
    """Build encoder ``name``; unknown names raise an error listing the known ones.

    ``causal`` matters for ``lstm-attention``, ``cnn-lstm`` and ``transformer``; recurrent
    one-directional encoders and ``tcn`` are always causal, bidirectional ones never, nor
    ``lstm-fcn`` (its BatchNorm reads every step in training; ``causal`` pads its convolutions).
    """
    if name not in ENCODERS:
        raise LstmkitError(f"unknown model {name!r}", f"use one of: {', '.join(ENCODERS)}")
    return ENCODERS[name](input_size, hidden_size, num_layers, dropout, causal)


def find_lstm(module: nn.Module) -> LSTM | None:
    """The first :class:`~lstmkit.nn.lstm.LSTM` inside ``module`` (or ``module`` itself), else None."""
    return next((m for m in module.modules() if isinstance(m, LSTM)), None)


def count_parameters(module: nn.Module, keras_biases: bool = False) -> int:
    """Trainable parameters. ``keras_biases=True`` counts each LSTM layer's two bias vectors
    (``bias_ih`` + ``bias_hh``, whose sum is all the equations use) as the single vector Keras
    keeps, i.e. subtracts ``4·H`` per layer and direction."""
    total = sum(p.numel() for p in module.parameters() if p.requires_grad)
    if keras_biases:
        total -= sum(p.numel() for m in module.modules() if isinstance(m, LSTM)
                     for name, p in m.named_parameters() if name.startswith("bias_hh"))
    return total
