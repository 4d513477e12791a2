"""The language model, in the order the data flows::

    token ids [B, T] ─► Embedding ─► dropout ─► causal zoo encoder ─► dropout ─► (projection) ─► Linear ─► logits [B, T, V]

``logits[:, t]`` scores the token after ``x[:, :t+1]``. ``<pad>`` and ``<bos>`` can never be
the next token: their logits are -inf, so the softmax is spread over the real tokens, ``<unk>``
and ``</s>`` only and perplexities are not flattered by mass on impossible ids.

``tie_weights`` shares the embedding matrix with the output layer (Press & Wolf 2017, Inan et
al. 2017); when ``hidden_size != embed_dim`` a linear projection to ``embed_dim`` comes first.
Recurrent encoders (``lstm``, ``gru``) also step one token at a time with an explicit state
(:meth:`LanguageModelNet.step`); the other zoo encoders are re-run over the prefix.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.errors import LstmkitError
from lstmkit.nn.lstm import LSTM
from lstmkit.nn.zoo import make_encoder

__all__ = ["LanguageModelNet", "RECURRENT", "check_causal", "token_loss"]

RECURRENT = ("lstm", "gru")          # encoders whose whole history is their state
# zoo encoders causal in eval mode only, and why: a run trained before they were refused still loads
_READS_AHEAD_IN_TRAINING = {"lstm-fcn": "its BatchNorm layers normalise each token by statistics over every "
                                        "token of the batch while training, later ones included"}


def check_causal(model: str) -> None:
    """Refuse a zoo encoder that reads later tokens (in training too), which cannot learn to predict the next one."""
    if model in _READS_AHEAD_IN_TRAINING or not make_encoder(model, 1, 1, 1, 0.0, causal=True).causal:
        why = _READS_AHEAD_IN_TRAINING.get(model, "it is not causal")
        raise LstmkitError(f"model {model!r} reads the future ({why}), so it cannot predict the next token",
                           "use lstm, gru, lstm-attention, cnn-lstm, transformer or tcn")


class LanguageModelNet(nn.Module):
    """Next-token model: ``forward(x [B, T], lengths=None) -> logits [B, T, V]``.

    Args:
        vocab_size: V, every id including ``<pad>``, ``<bos>`` and ``</s>``.
        never: ids that can never be predicted (their logits are -inf).
        model: a causal encoder name of :mod:`lstmkit.nn.zoo`.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 128, hidden_size: int = 256, num_layers: int = 2,
                 model: str = "lstm", dropout: float = 0.2, tie_weights: bool = False,
                 never: tuple[int, ...] = (0,), pad_id: int = 0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        self.drop = nn.Dropout(dropout)
        self.encoder = make_encoder(model, embed_dim, hidden_size, num_layers, dropout, causal=True)
        if not getattr(self.encoder, "causal", False) and model not in _READS_AHEAD_IN_TRAINING:
            check_causal(model)
        width = self.encoder.output_size
        self.proj = nn.Linear(width, embed_dim) if tie_weights and width != embed_dim else None
        # Tied: the output layer reads the embedding matrix itself (no second Parameter object, so
        # the weights and checkpoints hold the matrix once).
        self.out = None if tie_weights else nn.Linear(width, vocab_size)
        self.out_bias = nn.Parameter(torch.zeros(vocab_size)) if tie_weights else None
        mask = torch.zeros(vocab_size)
        mask[list(never)] = float("-inf")
        self.register_buffer("never_mask", mask, persistent=False)     # [V]
        self.model_name = model
        self.recurrent = model in RECURRENT

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        return self.run(x, None, lengths)[0]

    def run(self, x: Tensor, state=None, lengths: Tensor | None = None) -> tuple[Tensor, object]:
        """``x [B, T]`` from ``state`` (None: fresh) -> ``(logits [B, T, V], state)``."""
        h = self.drop(self.embedding(x))                     # [B, T, E]
        h, state = self.encoder(h, state=state, lengths=lengths)   # [B, T, D]
        return self.head(h), state

    def head(self, h: Tensor) -> Tensor:
        """Encoder outputs ``[..., D]`` -> next-token logits ``[..., V]``."""
        h = self.drop(h)
        if self.proj is not None:
            h = self.proj(h)
        logits = F.linear(h, self.embedding.weight, self.out_bias) if self.out is None else self.out(h)
        return logits + self.never_mask

    def step(self, token: Tensor, state=None) -> tuple[Tensor, object]:
        """One token per row, ``token [B]`` -> ``(encoder output [B, D], state)``; recurrent encoders only.

        In eval mode the layers run as single cells (``lstm_cell`` / ``gru_cell``): for one step
        the fused sequence kernel spends far more time setting up than computing (measured ~40x
        slower on the CPU for a 2x256 LSTM). The state has the encoder's layout either way.
        """
        x = self.drop(self.embedding(token))                    # [B, E]
        if self.training or not isinstance(self.encoder, (LSTM, nn.GRU)) or x.dtype != torch.float32:
            out, state = self.encoder(x[:, None], state=state)
            return out[:, 0], state
        enc, lstm = self.encoder, isinstance(self.encoder, LSTM)
        zeros = x.new_zeros(enc.num_layers, x.shape[0], enc.hidden_size)
        if state is None:
            state = (zeros, zeros) if lstm else zeros
        hs, cs = [], []
        for k in range(enc.num_layers):
            w = (getattr(enc, f"weight_ih_l{k}"), getattr(enc, f"weight_hh_l{k}"),
                 getattr(enc, f"bias_ih_l{k}", None), getattr(enc, f"bias_hh_l{k}", None))
            if lstm:
                h, c = torch._VF.lstm_cell(x, (state[0][k], state[1][k]), *w)
                cs.append(c)
            else:
                h = torch._VF.gru_cell(x, state[k], *w)
            hs.append(h)
            x = h
        return x, ((torch.stack(hs), torch.stack(cs)) if lstm else torch.stack(hs))


def token_loss(pad_id: int = 0):
    """Mean cross-entropy over the non-padding targets of ``logits [B, T, V]`` / ``target [B, T]``.

    Its ``batch_weight(target)``, the batch's non-padding targets, is what a batch weighs in the trainer's
    validation loss: the cross-entropy per held-out token (the metrics' ``cross_entropy``), whatever the
    batches; weighed by lines, a batch of short lines counted as much per line as one of long lines."""
    def loss(logits: Tensor, target: Tensor) -> Tensor:
        keep = target != pad_id
        return F.cross_entropy(logits[keep], target[keep])
    loss.batch_weight = lambda target: float((target != pad_id).sum())      # type: ignore[attr-defined]
    return loss
