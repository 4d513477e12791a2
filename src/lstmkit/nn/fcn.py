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

:class:`LSTMFCNEnsemble` holds several such nets, trained side by side (each on its own loss) and
answering with their averaged probabilities: a seed ensemble for small training sets.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.nn.blocks import conv1d, valid_mask, zero_padding
from lstmkit.nn.lstm import LSTM

__all__ = ["FCN_MODELS", "FCNBranch", "LSTMFCNNet", "LSTMFCNEnsemble", "MemberLoss"]

FCN_MODELS = ("lstm-fcn-ds",)     # classifier model names built by LSTMFCNNet


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

    ``n_features`` (F) values per step; ``steps``: the series length the LSTM branch reads (its
    input width); ``hidden_size`` LSTM cells (the paper: 8, 64 or 128); ``dropout`` after the LSTM
    (the paper: 0.8). Inputs ``x [B, T, F]`` floats and ``lengths [B]`` (all ``T`` when omitted);
    output logits ``[B]`` for two classes (sigmoid / BCE), else ``[B, C]`` — as
    :class:`~lstmkit.nn.classifier.ClassifierNet`.
    """

    bidirectional = False
    pooling = "fcn"

    def __init__(self, n_classes: int, *, n_features: int, steps: int, hidden_size: int = 8, num_layers: int = 1,
                 dropout: float = 0.8, filters: tuple[int, ...] = (128, 256, 128), kernels: tuple[int, ...] = (8, 5, 3)):
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        self.n_classes, self.steps = n_classes, steps
        self.lstm = LSTM(steps, hidden_size, num_layers=num_layers, batch_first=True)
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
        x = zero_padding(x, lengths)                                             # [B, T, F]
        fixed = torch.cat([x, x.new_zeros(x.shape[0], self.steps, x.shape[2])], dim=1)[:, :self.steps]
        h, _ = self.lstm(fixed.transpose(1, 2))                                  # [B, F, H]: F steps of `steps` values
        summary = torch.cat([self.lstm_dropout(h[:, -1]), self.fcn(x, lengths)], dim=-1)    # [B, H + C]
        logits = self.head(summary)
        return (logits.squeeze(-1) if self.n_classes == 2 else logits), None


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

    def __init__(self, n_classes: int, *, members: int, **shape):
        super().__init__()
        if members < 2:
            raise ValueError(f"an ensemble needs members >= 2, got {members}")
        self.nets = nn.ModuleList(LSTMFCNNet(n_classes, **shape) for _ in range(members))
        self.n_classes, self.steps, self.members = n_classes, self.nets[0].steps, members

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        return self.forward_with_weights(x, lengths)[0]

    def forward_with_weights(self, x: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, None]:
        logits = torch.stack([net(x, lengths) for net in self.nets])            # [M, B] or [M, B, C]
        if self.training:
            return logits.flatten(0, 1), None
        if self.n_classes == 2:             # log mean σ(l) - log mean σ(-l), the log M cancelling; log σ(l) is
            # -softplus(-l), which ONNX keeps exact at saturation (its log(sigmoid) rounds σ near 1)
            return torch.logsumexp(-F.softplus(-logits), 0) - torch.logsumexp(-F.softplus(logits), 0), None
        return torch.logsumexp(torch.log_softmax(logits, -1), 0) - math.log(self.members), None


class MemberLoss(nn.Module):
    """``loss`` applied to each member's logits (:class:`LSTMFCNEnsemble` in training mode: the
    target repeated per member, so the mean over ``members·B`` rows is the members' mean loss);
    logits of one row per target (eval mode) go to ``loss`` as they are."""

    def __init__(self, loss: nn.Module, members: int):
        super().__init__()
        self.loss, self.members = loss, members

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        if logits.shape[0] == self.members * target.shape[0] != target.shape[0]:
            target = target.repeat(self.members)
        return self.loss(logits, target)
