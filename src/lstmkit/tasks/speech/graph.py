"""The answering graph of a CTC or classify speech model, for ONNX export, int8 and streaming.

:class:`AcousticGraph` runs the model's own layers (conv subsampling, encoder, head) without the
trimming to the longest utterance that the model's ``forward`` does: ``int(lengths.max())``
would freeze the length into a traced graph. It takes the encoder's state as an input and gives
it back when asked (``carry``), so the same graph serves whole utterances and streamed chunks.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["AcousticGraph"]


class AcousticGraph(nn.Module):
    """What a CTC or classify speech model answers with: ``forward(x [B, T, F], lengths [B] | None,
    *state) -> y`` (log-probabilities ``[B, T', V]`` or logits), or ``(y, *state_out)`` with ``carry``.

    The same layers as the model's own ``forward`` (the same modules, under the same names, so an
    int8 copy of this graph stores the weights the model's own skeleton loads) without its
    trimming to the longest utterance (``int(lengths.max())`` would freeze the length into a
    traced graph); the extra frames are padding past every utterance's ``T'``."""

    def __init__(self, model: nn.Module, state_names: tuple[str, ...] = (), carry: bool = False):
        super().__init__()
        for name, child in model.named_children():      # the model's own modules, shared: its weight names
            self.add_module(name, child)
        self.state_names, self.carry = tuple(state_names), carry
        self.classify = hasattr(model, "classifier")

    def run(self, x: torch.Tensor, lengths: torch.Tensor | None = None, state=None):
        """``(y, final encoder state)``; ``lengths`` None reads every row to its end."""
        full = torch.full((x.shape[0],), x.shape[1], dtype=torch.long) if lengths is None else lengths
        h, out_len = self.subsample(x, full)                            # [B, T', C]
        if self.classify:
            return self.classifier(h, out_len), None
        out, state = self.encoder(h, state, None if lengths is None else out_len)
        return torch.log_softmax(self.head(self.drop(out)).float(), dim=-1), state

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None, *state: torch.Tensor):
        given = None if not state else (tuple(state) if len(state) == 2 else state[0])
        y, out = self.run(x, lengths, given)
        if not self.carry:
            return y
        return (y, *(out if isinstance(out, tuple) else (out,)))
