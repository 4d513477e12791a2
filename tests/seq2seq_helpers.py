"""What the seq2seq decoding tests of translate and speech share."""
from contextlib import contextmanager

import torch

from lstmkit.nn.seq2seq import EOS_ID


@contextmanager
def without_eos(net):
    """``net`` (a :class:`~lstmkit.nn.seq2seq.Seq2Seq`) with its ``<eos>`` output switched off, restored
    afterwards: a model that never ends its output."""
    bias = net.out.bias
    before = bias.detach().clone()
    with torch.no_grad():
        bias[EOS_ID] = -1e9
    try:
        yield net
    finally:
        with torch.no_grad():
            bias.copy_(before)
