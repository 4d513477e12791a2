"""The acoustic models, in the order the data flows::

    features [B, T, F] ─► conv subsampling (n × Conv1d k=3 stride 2 + ReLU) ─► [B, T', C]
                      ─► zoo encoder (default bilstm, lengths T') ─► dropout ─► Linear ─► log-softmax
                      ─► per-frame log-probabilities [B, T', V] over <blank> + characters (CTC)

Subsampling: each layer halves the frame rate (T' = ⌊(T - 3) / 2⌋ + 1, no padding, so every
output frame reads only real frames). With n layers one output frame covers a receptive field
of ``R = 2^(n+1) - 1`` input frames, i.e. ``n_fft + (R - 1)·hop`` samples of audio (92 ms for
n = 2 at 8 kHz with 25 ms windows in a 256-point FFT and a 10 ms hop); a clip must give at least
R frames.

``--mode classify`` runs the same subsampling, then
:class:`~lstmkit.nn.classifier.ClassifierNet` (linear front-end, zoo encoder, pooling); ``--mode seq2seq``
uses :class:`SpeechSeq2Seq`, the attention encoder-decoder of :mod:`lstmkit.nn.seq2seq` whose source
embedding is replaced by this front-end.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.nn.blocks import conv1d
from lstmkit.nn.zoo import make_encoder
from lstmkit.nn.classifier import ClassifierNet
from lstmkit.nn.seq2seq import Seq2Seq

__all__ = ["ConvSubsampler", "AcousticModel", "CTCLoss", "SpeechClassifier", "SpeechSeq2Seq", "receptive_field"]


def receptive_field(layers: int) -> int:
    """Input frames seen by one output frame of ``layers`` stride-2, kernel-3 convolutions."""
    return 2 ** (layers + 1) - 1


class ConvSubsampler(nn.Module):
    """``layers`` × (Conv1d kernel 3, stride 2, no padding, ReLU): ``[B, T, F] -> [B, T', C]``.

    ``layers = 0`` is the identity (``C = F``)."""

    def __init__(self, n_features: int, channels: int, layers: int):
        super().__init__()
        self.layers = layers
        self.convs = nn.ModuleList(nn.Conv1d(n_features if k == 0 else channels, channels, 3, stride=2)
                                   for k in range(layers))
        self.output_size = channels if layers else n_features
        self.receptive_field = receptive_field(layers) if layers else 1

    def out_lengths(self, lengths: Tensor) -> Tensor:
        for _ in range(self.layers):
            lengths = torch.div(lengths - 3, 2, rounding_mode="floor") + 1
        return lengths

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        if not self.layers:
            return x, lengths
        h = x.transpose(1, 2)                                            # [B, F, T]
        for conv in self.convs:
            h = F.relu(conv1d(conv, h))
        return h.transpose(1, 2), self.out_lengths(lengths)              # [B, T', C]


class AcousticModel(nn.Module):
    """CTC acoustic model. ``forward(x [B, T, F], lengths [B]) -> (log_probs [B, T', V], lengths' [B])``."""

    def __init__(self, n_features: int, n_symbols: int, subsample: int = 2, channels: int = 128,
                 encoder: str = "bilstm", hidden_size: int = 128, num_layers: int = 2, dropout: float = 0.2):
        super().__init__()
        self.subsample = ConvSubsampler(n_features, channels, subsample)
        self.encoder = make_encoder(encoder, self.subsample.output_size, hidden_size, num_layers, dropout,
                                    causal=False)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(self.encoder.output_size, n_symbols)

    @property
    def receptive_field(self) -> int:
        return self.subsample.receptive_field

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        h, lengths = self.subsample(x, lengths.to(x.device))               # [B, T', C]
        h = h[:, : int(lengths.max())]
        out, _ = self.encoder(h, lengths=lengths)                          # [B, T', D]
        return torch.log_softmax(self.head(self.drop(out)).float(), dim=-1), lengths


class CTCLoss(nn.Module):
    """``torch`` CTC loss (blank 0) on ``((log_probs [B, T, V], lengths [B]), (targets [B, S], target_lengths [B]))``;
    each utterance's loss is divided by its target length, then averaged."""

    def forward(self, pred, target) -> Tensor:
        log_probs, lengths = pred
        targets, target_lengths = target
        return F.ctc_loss(log_probs.transpose(0, 1), targets, lengths, target_lengths, blank=0,
                          reduction="mean", zero_infinity=True)


class SpeechClassifier(nn.Module):
    """One label per clip: conv subsampling, then
    :class:`~lstmkit.nn.classifier.ClassifierNet` over the subsampled frames.
    ``forward(x [B, T, F], lengths [B]) -> logits [B, C]`` (``[B]`` for two classes)."""

    def __init__(self, n_features: int, n_classes: int, subsample: int = 2, channels: int = 128, **kwargs):
        super().__init__()
        self.subsample = ConvSubsampler(n_features, channels, subsample)
        self.classifier = ClassifierNet(n_classes, n_features=self.subsample.output_size, **kwargs)

    @property
    def receptive_field(self) -> int:
        return self.subsample.receptive_field

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        h, lengths = self.subsample(x, lengths.to(x.device))
        return self.classifier(h[:, : int(lengths.max())], lengths)


class SpeechSeq2Seq(Seq2Seq):
    """Audio -> characters: :class:`~lstmkit.nn.seq2seq.Seq2Seq` whose source side is conv
    subsampling + a linear projection instead of an embedding. ``src`` is ``[B, T, F]`` features;
    everything else (attention, decoder, greedy and beam search) is :mod:`lstmkit.nn.seq2seq`'s."""

    def __init__(self, n_features: int, tgt_vocab: int, subsample: int = 2, channels: int = 128, **kwargs):
        super().__init__(1, tgt_vocab, **kwargs)
        self.subsample = ConvSubsampler(n_features, channels, subsample)
        self.src_embed = nn.Linear(self.subsample.output_size, self.tgt_embed.embedding_dim)

    @property
    def receptive_field(self) -> int:
        return self.subsample.receptive_field

    def encode(self, src: Tensor, src_len: Tensor):
        h, lengths = self.subsample(src, src_len.to(src.device))
        return super().encode(h[:, : int(lengths.max())], lengths)
