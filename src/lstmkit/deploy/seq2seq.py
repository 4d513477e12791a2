"""An attention encoder-decoder as two ONNX graphs, and the module that decodes over them.

Shared by translation (token ids in) and speech (features in): the encoder runs once per batch;
the decoder graph is one step of :meth:`~lstmkit.nn.seq2seq.Seq2Seq.step`, called once per
output token::

    encoder.onnx  src [B, S] int64 ids | [B, T, F] float32 features, src_len [B] int64
                  ->  memory [B, S', E], mask [B, S'] bool, h [L, B, H], c [L, B, H] (, keys [B, S', A])
    decoder.onnx  y_prev [B] int64, h, c (, feed [B, F]) (, memory, mask (, keys))
                  ->  logits [B, V], h_next, c_next (, feed_next) (, attention [B, S'])

``keys`` are the attention's prepared keys (bahdanau, general); ``feed`` is Luong input feeding's
attentional vector; a model without attention reads no memory. Batch and source length are
dynamic. A model with a ``front`` (speech: the conv subsampler, ``(x, lengths) -> (x', lengths')``)
runs it inside the encoder graph, before :meth:`Seq2Seq.encode`; ``S'`` is then the subsampled
length (the frames past an utterance's own ``lengths'`` are masked out of attention).

:class:`OnnxSeq2Seq` answers Seq2Seq's decoding calls (``encode``, ``step``, ``reorder``) with
ONNX Runtime, so :func:`~lstmkit.nn.seq2seq.beam_search` and
:func:`~lstmkit.nn.seq2seq.greedy_search` run over the graphs unchanged: one search, two engines.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from lstmkit.deploy.onnx import OPSET, TOLERANCE, write_graph
from lstmkit.deploy.onnx_engine import OnnxRunner, load_runner
from lstmkit.deploy.int8_torch import swap_recurrent
from lstmkit.nn.seq2seq import AdditiveAttention, Memory, Seq2Seq

__all__ = ["ENCODER_FILE", "DECODER_FILE", "GRAPH_FILES", "ORT_THREADS", "EncoderGraph", "StepGraph", "OnnxSeq2Seq",
           "export_graphs", "onnx_seq2seq", "token_source", "Source"]

ENCODER_FILE, DECODER_FILE = "encoder.onnx", "decoder.onnx"
# ONNX Runtime threads per graph. A decoder step is a few small matrix products per call, one call
# per output token: a second intra-op thread costs more in hand-offs than it saves (translation's
# answer path ran at 0.63x torch with 2 threads per session on a quiet machine). The cores decode
# other batches at the same time instead (nn.seq2seq.decode_workers: torch's thread count of
# workers). Translation, 64 sentences on 2 cores: 13.4 ms on one thread, 10.3-11.3 ms as two halves.
# Speech, 32-64 recordings on 2 busy cores, beam 1 and 5, median of rounds: 4.3-17.3 ms this way,
# 14.7-116.5 ms with both graphs on 2 threads and one batch at a time, faster in every round; its
# encoder on 2 threads beside these workers was no faster.
ORT_THREADS = 1
GRAPH_FILES = (ENCODER_FILE, DECODER_FILE)

Source = Callable[[int, int, int], tuple[Tensor, Tensor]]     # (batch, steps, seed) -> (src, src_len)


def _has_keys(net: Seq2Seq) -> bool:
    """Whether the attention reads prepared keys that differ from the memory itself."""
    return isinstance(net.attn, AdditiveAttention) or getattr(net.attn, "w", None) is not None


class EncoderGraph(nn.Module):
    """``(src, src_len) -> (memory, mask, h, c[, keys])``: :meth:`Seq2Seq.encode` as flat tensors.

    ``front`` (a module of ``net``, e.g. speech's conv subsampler) maps ``(src, src_len)`` to what
    :meth:`Seq2Seq.encode` reads. It runs here rather than in a subclass's ``encode``, which may
    cut the batch to its longest length (``int(lengths.max())`` would be frozen into the graph)."""

    def __init__(self, net: Seq2Seq, front: nn.Module | None = None):
        super().__init__()
        self.net, self.front, self.keys = net, front, _has_keys(net)
        self.outputs = ["memory", "mask", "h", "c"] + (["keys"] if self.keys else [])

    def forward(self, src: Tensor, src_len: Tensor):
        if self.front is not None:
            src, src_len = self.front(src, src_len)
        memory, (h, c, _) = Seq2Seq.encode(self.net, src, src_len)
        out = (memory.out, memory.mask, h, c)
        return out + (memory.prepared,) if self.keys else out


class StepGraph(nn.Module):
    """One decoder step as flat tensors (see the module docstring for the inputs and outputs)."""

    def __init__(self, net: Seq2Seq):
        super().__init__()
        self.net, self.keys = net, _has_keys(net)
        self.feeds, self.attends = net.input_feed, net.attn is not None
        self.inputs = (["y_prev", "h", "c"] + (["feed"] if self.feeds else [])
                       + (["memory", "mask"] + (["keys"] if self.keys else []) if self.attends else []))
        self.outputs = (["logits", "h_next", "c_next"] + (["feed_next"] if self.feeds else [])
                        + (["attention"] if self.attends else []))

    def forward(self, y_prev: Tensor, h: Tensor, c: Tensor, *rest: Tensor):
        rest = list(rest)
        # Bahdanau computes its context inside the step and "none" has none: their feed is unused.
        feed = rest.pop(0) if self.feeds else h.new_zeros(h.shape[1], self.net.feed_dim)
        memory = None
        if self.attends:
            out, mask = rest[0], rest[1]
            memory = Memory(out, rest[2] if self.keys else out, mask)
        logits, (h, c, feed), weights = self.net.step(y_prev, (h, c, feed), memory)
        return (logits, h, c) + ((feed,) if self.feeds else ()) + ((weights,) if self.attends else ())


def token_source(vocab: int) -> Source:
    """Random source ids (no special tokens) ``[batch, steps]`` and lengths in ``[1, steps]``, the
    first row full and padding past each length: a translator's example inputs."""
    def source(batch: int, steps: int, seed: int) -> tuple[Tensor, Tensor]:
        g = torch.Generator().manual_seed(seed)
        src = torch.randint(4, max(vocab, 5), (batch, steps), generator=g)
        lengths = torch.randint(1, steps + 1, (batch,), generator=g)
        lengths[0] = steps
        src[torch.arange(steps)[None] >= lengths[:, None]] = 0                  # padding past each length
        return src, lengths
    return source


def _step_inputs(step: StepGraph, encoder: EncoderGraph, src: Tensor, src_len: Tensor,
                 seed: int) -> dict[str, Tensor]:
    """Inputs of one decoder step: the encoder's real memory, random state, tokens and feed."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        enc = dict(zip(encoder.outputs, encoder(src, src_len)))
    B, net = src.shape[0], step.net
    values = {"y_prev": torch.randint(0, net.out.weight.shape[0], (B,), generator=g),
              "h": 0.5 * torch.randn(enc["h"].shape, generator=g), "c": 0.5 * torch.randn(enc["c"].shape, generator=g),
              "feed": 0.5 * torch.randn(B, net.feed_dim, generator=g), **enc}
    return {name: values[name] for name in step.inputs}


def export_graphs(net: Seq2Seq, folder: Path, fingerprint: str, tolerance: float = TOLERANCE,
                  task: str = "translate", source: Source | None = None, front: str | None = None,
                  around: Sequence[str] = ()) -> dict[str, Any]:
    """Write ``encoder.onnx`` and ``decoder.onnx`` of ``net`` into ``folder``, each checked against
    PyTorch on fresh inputs (batch 3, 7 source steps, other lengths and state) before its atomic
    write and stamped with ``fingerprint``. Returns the report for ``onnx.json``.

    ``source(batch, steps, seed) -> (src, src_len)`` makes the example inputs (default: token ids,
    :func:`token_source`; speech: features); ``front`` names the sub-module of ``net`` that the
    encoder graph runs before :meth:`Seq2Seq.encode` (see :class:`EncoderGraph`); ``around`` (the adapter's
    ``around_graph``: what lstmkit does around the graphs) is stamped into both, as ``lstmkit_around_graph``
    and in the ``doc_string``: either file, taken alone, says how the two are driven."""
    swapped = swap_recurrent(net).eval()          # torch's own LSTM/GRU: ONNX's fused LSTM op
    encoder = EncoderGraph(swapped, getattr(swapped, front) if front else None).eval()
    step = StepGraph(swapped).eval()
    source = source or token_source(net.src_embed.num_embeddings)
    src, src_len = source(2, 5, 0)
    fresh_src, fresh_len = source(3, 7, 1)
    meta = {"lstmkit_fingerprint": fingerprint, "lstmkit_task": task, "lstmkit_feed_dim": str(net.feed_dim)}
    seq_axes = {0: "batch", 1: "steps"}
    state_axes = {1: "batch"}
    enc_axes = {"src": seq_axes, "src_len": {0: "batch"}, "memory": seq_axes, "mask": seq_axes, "keys": seq_axes,
                "h": state_axes, "c": state_axes}
    step_axes = {"y_prev": {0: "batch"}, "h": state_axes, "c": state_axes, "feed": {0: "batch"}, "memory": seq_axes,
                 "mask": seq_axes, "keys": seq_axes, "logits": {0: "batch"}, "h_next": state_axes,
                 "c_next": state_axes, "feed_next": {0: "batch"}, "attention": seq_axes}
    graphs = {
        "encoder": write_graph(encoder, folder / ENCODER_FILE, {"src": src, "src_len": src_len},
                               {"src": fresh_src, "src_len": fresh_len}, encoder.outputs,
                               {k: v for k, v in enc_axes.items() if k in ["src", "src_len", *encoder.outputs]},
                               {**meta, "lstmkit_graph": "encoder"}, tolerance, around),
        "decoder": write_graph(step, folder / DECODER_FILE, _step_inputs(step, encoder, src, src_len, 2),
                               _step_inputs(step, encoder, fresh_src, fresh_len, 3), step.outputs,
                               {k: v for k, v in step_axes.items() if k in step.inputs + step.outputs},
                               {**meta, "lstmkit_graph": "decoder"}, tolerance, around)}
    return {"graphs": graphs, "files": list(GRAPH_FILES), "opset": OPSET, "dynamic_axes": ["batch", "steps"],
            "max_abs_diff": max(g["max_abs_diff"] for g in graphs.values()), "tolerance": tolerance,
            "fingerprint": fingerprint, "seconds": round(sum(g["seconds"] for g in graphs.values()), 3)}


def _array(t: Tensor, dtype=None) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().numpy(), dtype=dtype)


class OnnxSeq2Seq(nn.Module):
    """The two graphs behind :class:`~lstmkit.nn.seq2seq.Seq2Seq`'s decoding calls, on torch
    tensors: ``encode(src, src_len) -> (Memory, (h, c, feed))``, ``step(y_prev, state, memory)
    -> (logits, state, attention or None)``, ``reorder(state, idx)``. No parameters."""

    reorder = staticmethod(Seq2Seq.reorder)

    def __init__(self, encoder: OnnxRunner, decoder: OnnxRunner, workers: int = 1):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder
        self.workers = workers      # batches decoded at once, one per thread (nn.seq2seq.decode_workers)
        self.feed_dim = int(decoder.metadata.get("lstmkit_feed_dim", 0))
        self.keeps_feed = "feed" in decoder.inputs
        kind = encoder.session.get_inputs()[0].type                 # tensor(int64): ids; tensor(float): features
        self.src_dtype = np.int64 if "int" in kind else np.float32

    def encode(self, src: Tensor, src_len: Tensor) -> tuple[Memory, tuple[Tensor, Tensor, Tensor]]:
        out = {k: torch.from_numpy(v) for k, v in self.encoder.feed(
            src=_array(src, self.src_dtype), src_len=_array(torch.as_tensor(src_len), np.int64)).items()}
        memory = Memory(out["memory"], out.get("keys"), out["mask"])
        return memory, (out["h"], out["c"], torch.zeros(src.shape[0], self.feed_dim))

    def step(self, y_prev: Tensor, state, memory: Memory):
        h, c, feed = state
        values = {"y_prev": _array(y_prev, np.int64), "h": _array(h), "c": _array(c)}
        inputs = self.decoder.inputs
        if self.keeps_feed:
            values["feed"] = _array(feed)
        if "memory" in inputs:
            values.update(memory=_array(memory.out), mask=_array(memory.mask))
        if "keys" in inputs:
            values["keys"] = _array(memory.prepared)
        out = self.decoder.feed(**values)
        feed = torch.from_numpy(out["feed_next"]) if self.keeps_feed else feed
        weights = torch.from_numpy(out["attention"]) if "attention" in out else None
        return torch.from_numpy(out["logits"]), (torch.from_numpy(out["h_next"]), torch.from_numpy(out["c_next"]),
                                                 feed), weights

    def forward(self, src: Tensor, src_len: Tensor) -> Tensor:
        """The encoder's memory (an ``nn.Module`` needs a forward; decoding uses ``encode`` / ``step``)."""
        return self.encode(src, src_len)[0].out


def onnx_seq2seq(run: str | Path, threads: int = ORT_THREADS, workers: int | None = None) -> OnnxSeq2Seq:
    """A run's two graphs, each refused when missing or exported from other weights, on ``threads``
    ONNX Runtime threads each; ``workers`` threads (None: torch's thread count) decode batches over
    them at once, each on its own core when ``threads`` is 1."""
    workers = torch.get_num_threads() if workers is None else workers
    return OnnxSeq2Seq(load_runner(run, threads, ENCODER_FILE), load_runner(run, threads, DECODER_FILE), workers)
