"""LSTM-FCN (Karim et al. 2018), the numeric-sequence classifier of the paper, in the order the data
flows::

    values [B, T, F] ─┬─► cut / pad to `steps` ─► [B, F, steps] ─► LSTM ─► last h ─► dropout ─┐
                      │   (the "dimension shuffle": F steps of `steps` values)               ├─► Linear ─► logits
                      └─► 3 × (Conv1d ─► BatchNorm ─► ReLU), 128-256-128 ─► global average ──┘

``steps`` is fixed when the net is built (the longest training sequence): longer inputs reach the
LSTM branch cut to their first ``steps`` values, shorter ones zero-padded, while the
convolutional branch reads any length and averages over each sequence's valid steps only. So a
padded batch gives the logits each sequence gets alone (in eval mode; in training mode
BatchNorm's batch statistics include the padded steps).

The net reads the whole sequence at once (the LSTM runs across the features, the convolutions
look ahead), so it cannot answer step by step as a stream.

Window slicing (Le Guennec et al. 2016; ``crop < 1``): in training mode the net reads one random
window of ``round(crop·length)`` steps of each series (its start ``u·room`` rounded, ``u`` uniform
on [0, 1) and ``room`` the steps left over; a new draw per call, from torch's generator); in
eval mode it answers with the mean probability over ``crops`` windows spaced evenly from the
series' start to its end. The windows are cut inside the net, so the exported
graph answers as ``predict`` does.

:class:`LSTMFCNEnsemble` holds several such nets, trained side by side (each on its own loss) and
answering with their averaged probabilities: a seed ensemble for small training sets.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.nn.blocks import conv1d, valid_mask, widened, zero_padding
from lstmkit.nn.lstm import LSTM

__all__ = ["FCN_MODELS", "FCNBranch", "LSTMFCNNet", "LSTMFCNEnsemble", "MemberLoss", "mean_probability_logits",
           "windows"]

FCN_MODELS = ("lstm-fcn-ds",)     # classifier model names built by LSTMFCNNet


def mean_probability_logits(logits: Tensor, n_classes: int) -> Tensor:
    """Logits ``[M, B]`` (two classes) or ``[M, B, C]`` of ``M`` answers -> the logits of their mean
    probability, ``logit(mean σ(l_i))`` or ``log(mean softmax(l_i))``, shaped as one answer's; in
    float32 whatever the logits' dtype (bf16 autocast's validation loss read them 3 digits wide)."""
    logits = widened(logits)
    if n_classes == 2:                  # log mean σ(l) - log mean σ(-l), the log M cancelling; log σ(l) is
        # -softplus(-l), which ONNX keeps exact at saturation (its log(sigmoid) rounds σ near 1)
        return torch.logsumexp(-F.softplus(-logits), 0) - torch.logsumexp(-F.softplus(logits), 0)
    return torch.logsumexp(torch.log_softmax(logits, -1), 0) - math.log(logits.shape[0])


def windows(x: Tensor, lengths: Tensor, size: Tensor, where: Tensor | float) -> Tensor:
    """Each row's window of ``size[b]`` valid steps, starting ``where[b]`` (0: at the series'
    start, 1: ending at its last valid step) of the way along: ``x [B, T, F]`` -> ``[B, T, F]``,
    the window first, then the steps after it (which the caller treats as padding)."""
    room = (lengths - size).to(x.dtype)
    start = torch.floor(room * where + 0.5).long()                                  # [B]
    last = (lengths - 1).clamp(min=0)[:, None]
    idx = torch.minimum(start[:, None] + torch.cumsum(torch.ones_like(x[0, :, 0], dtype=torch.long), 0)[None] - 1,
                        last)                                                       # [B, T]
    return x.gather(1, idx[..., None].expand(-1, -1, x.shape[2]))


class FCNBranch(nn.Module):
    """The fully convolutional branch of LSTM-FCN (Wang et al. 2017): Conv1d → BatchNorm → ReLU
    blocks ("same" padding; ``filters`` 128, 256, 128 and kernels 8, 5, 3 by default), then global
    average pooling over the valid steps.

    ``x [B, T, I]``, ``lengths [B]`` (optional) -> ``[B, filters[-1]]``. Each block's input is
    zeroed past the length.
    """

    def __init__(self, input_size: int, filters: tuple[int, ...] = (128, 256, 128),
                 kernels: tuple[int, ...] = (8, 5, 3)):
        super().__init__()
        if len(filters) != len(kernels):
            raise ValueError(f"{len(filters)} filter widths but {len(kernels)} kernel sizes")
        sizes = (input_size, *filters)
        # plain Conv1d over [B, C, T] (the layout the convolutions want: no transpose per block);
        # "same" padding, the extra step of an even kernel on the right
        self.convs = nn.ModuleList(nn.Conv1d(sizes[k], sizes[k + 1], kernels[k]) for k in range(len(filters)))
        self.pads = tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in kernels)
        self.norms = nn.ModuleList(nn.BatchNorm1d(f) for f in filters)
        self.output_size = filters[-1]

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        z = x.transpose(1, 2)                                                   # [B, I, T]
        mask = None if lengths is None else valid_mask(lengths, x.shape[1])[:, None, :].to(x.dtype)  # [B, 1, T]
        for conv, pad, norm in zip(self.convs, self.pads, self.norms):
            if mask is not None:
                z = z * mask
            z = torch.relu(conv1d(conv, F.pad(z, pad), norm))                            # [B, C, T]
        if mask is None:
            return z.mean(dim=2)
        return (z * mask).sum(dim=2) / lengths[:, None].to(z.dtype)            # [B, C]


class LSTMFCNNet(nn.Module):
    """LSTM-FCN over numeric sequences: an LSTM over the dimension-shuffled input beside
    :class:`FCNBranch`, their summaries concatenated, then a linear head.

    ``n_features`` (F) values per step; ``steps``: the series length (the LSTM branch's input
    width is its window, ``round(crop·steps)``); ``hidden_size`` LSTM cells (the paper: 8, 64 or
    128); ``dropout`` after the LSTM (the paper: 0.8); ``crop``, ``crops``: window slicing (module
    docstring; ``crop=1`` reads the whole series). Inputs ``x [B, T, F]`` floats and ``lengths [B]`` (all ``T`` when omitted);
    output logits ``[B]`` for two classes (sigmoid / BCE), else ``[B, C]`` — as
    :class:`~lstmkit.nn.classifier.ClassifierNet`.
    """

    bidirectional = False
    pooling = "fcn"
    lstm_steps_over = "variables"       # the dimension shuffle: a step per feature (inspect.gates says so)

    def __init__(self, n_classes: int, *, n_features: int, steps: int, hidden_size: int = 8, num_layers: int = 1,
                 dropout: float = 0.8, filters: tuple[int, ...] = (128, 256, 128), kernels: tuple[int, ...] = (8, 5, 3),
                 crop: float = 1.0, crops: int = 5):
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        if not 0 < crop <= 1 or crops < 1:
            raise ValueError(f"crop must be in (0, 1] and crops >= 1, got {crop} and {crops}")
        self.n_classes, self.steps, self.crop, self.crops = n_classes, steps, float(crop), int(crops)
        self.width = max(1, math.floor(self.crop * steps + 0.5))                  # the LSTM branch's input width
        self.lstm = LSTM(self.width, hidden_size, num_layers=num_layers, batch_first=True)
        self.lstm_dropout = nn.Dropout(dropout)
        self.fcn = FCNBranch(n_features, filters, kernels)
        self.head = nn.Linear(hidden_size + self.fcn.output_size, 1 if n_classes == 2 else n_classes)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        return self.forward_with_weights(x, lengths)[0]

    def forward_with_weights(self, x: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, None]:
        """Logits and None (no attention weights), the signature of ``ClassifierNet``'s."""
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.long)
        lengths = lengths.to(x.device)
        if self.crop == 1:
            return self._logits(x, lengths), None
        size = torch.floor(lengths.to(x.dtype) * self.crop + 0.5).long().clamp(min=1)       # [B] window lengths
        if self.training:           # one random window per series, cut to the longest (eval keeps T: ONNX shapes)
            cut = windows(x, lengths, size, torch.rand(x.shape[0], dtype=x.dtype))[:, :int(size.max())]
            return self._logits(cut, size), None
        spots = [k / (self.crops - 1) if self.crops > 1 else 0.5 for k in range(self.crops)]
        logits = torch.stack([self._logits(windows(x, lengths, size, w), size) for w in spots])
        return mean_probability_logits(logits, self.n_classes), None

    def lstm_window(self, length: int) -> tuple[int, int]:
        """``(first, count)``: the time points of a ``length``-step sequence that each step of the LSTM reads
        (eval mode; the rest of its ``width`` inputs are zeros), in its first call: with ``crop < 1`` the
        first of the ``crops`` windows it averages (the middle one of one)."""
        if self.crop == 1:
            return 0, min(length, self.width)
        size = max(1, math.floor(length * self.crop + 0.5))
        first = math.floor((length - size) * (0.0 if self.crops > 1 else 0.5) + 0.5)
        return first, min(size, self.width)

    def _logits(self, x: Tensor, lengths: Tensor) -> Tensor:
        x = zero_padding(x, lengths)                                             # [B, T, F]
        fixed = torch.cat([x, x.new_zeros(x.shape[0], self.width, x.shape[2])], dim=1)[:, :self.width]
        h, _ = self.lstm(fixed.transpose(1, 2))                                  # [B, F, H]: F steps of `steps` values
        summary = torch.cat([self.lstm_dropout(h[:, -1]), self.fcn(x, lengths)], dim=-1)    # [B, H + C]
        logits = self.head(summary)
        return logits.squeeze(-1) if self.n_classes == 2 else logits


class LSTMFCNEnsemble(nn.Module):
    """``members`` :class:`LSTMFCNNet` of the same shape (each initialised by the random state
    it is built in), answering with the average of their probabilities.

    Training mode: the members' logits one after the other along the batch, ``[members·B]`` or
    ``[members·B, C]``, so that :class:`MemberLoss` trains each member on its own loss (averaging
    the logits instead would train one wide net, not an ensemble). Eval mode: logits of the
    averaged probabilities, ``logit(mean σ(l_i))`` for two classes, ``log(mean softmax(l_i))``
    for more, shaped as one member's.
    """

    bidirectional = False
    pooling = "fcn"
    lstm_steps_over = "variables"

    def __init__(self, n_classes: int, *, members: int, **shape):
        super().__init__()
        if members < 2:
            raise ValueError(f"an ensemble needs members >= 2, got {members}")
        self.nets = nn.ModuleList(LSTMFCNNet(n_classes, **shape) for _ in range(members))
        self.n_classes, self.steps, self.members = n_classes, self.nets[0].steps, members

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        return self.forward_with_weights(x, lengths)[0]

    def lstm_window(self, length: int) -> tuple[int, int]:
        """:meth:`LSTMFCNNet.lstm_window`, the same for every member."""
        return self.nets[0].lstm_window(length)

    def forward_with_weights(self, x: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, None]:
        logits = torch.stack([net(x, lengths) for net in self.nets])            # [M, B] or [M, B, C]
        if self.training:
            return logits.flatten(0, 1), None
        return mean_probability_logits(logits, self.n_classes), None


class MemberLoss(nn.Module):
    """``loss`` applied to each member's logits (:class:`LSTMFCNEnsemble` in training mode: the
    target repeated per member, so the mean over ``members·B`` rows is the members' mean loss);
    logits of one row per target (eval mode) go to ``loss`` as they are."""

    def __init__(self, loss: nn.Module, members: int):
        super().__init__()
        self.loss, self.members = loss, members

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        if logits.shape[0] == self.members * target.shape[0] != target.shape[0]:
            target = target.repeat(self.members, *[1] * (target.dim() - 1))     # [B] or [B, 2] (weighted)
        return self.loss(logits, target)

    def batch_weight(self, target: Tensor) -> float:
        """The wrapped loss's weight of a batch (:meth:`ClassificationLoss.batch_weight`): the trainer's
        validation batches hold one row per target."""
        return self.loss.batch_weight(target)
