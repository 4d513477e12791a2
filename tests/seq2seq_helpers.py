"""What the seq2seq decoding tests of translate and speech share."""
import threading
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


def two_workers(net) -> list[tuple[str, int]]:
    """``net`` (an :class:`~lstmkit.deploy.seq2seq.OnnxSeq2Seq`) set to decode two batches side by
    side; returns the list its ``encode`` calls fill with ``(thread name, batch size)``."""
    net.workers = 2
    calls, encode = [], net.encode

    def recording_encode(src, src_len):
        calls.append((threading.current_thread().name, src.shape[0]))
        return encode(src, src_len)

    net.encode = recording_encode
    return calls
