"""Variable-length sequences into padded mini-batches with their lengths.

    truncate(seq, max_len, keep)        keep the head, the tail, or both ends of a long sequence
    pad_batch(seqs)                     [T_i, …] tensors -> padded [B, T_max, …] and lengths [B]
    Ragged(values, lengths)             sequences stored end to end; truncated and padded without a
                                        tensor per sequence (BucketBatches takes it as its seqs)
    Padded((padded, lengths, …))        model inputs that declare their lengths (a tuple)
    BucketBatches(seqs, y, …)           (Padded((padded, lengths)), y) batches of similar lengths
    CollatedBatches(seqs, collate, …)   the same order, each batch built by a task's ``collate(idx)``
    decoder_targets(seqs, bos, eos)     a decoder's padded input ``<bos> y`` and target ``y </s>``

Recurrent encoders receive ``lengths`` and pack the batch, so padding costs no recurrent compute
and does not change the result; bucketing by length then cuts the padding the embedding,
pooling and the packed kernel's short tail of steps would still see.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import Tensor

from lstmkit.errors import LstmkitError, opt

__all__ = ["TRUNCATE_MODES", "truncate", "pad_batch", "Ragged", "Padded", "BucketBatches", "CollatedBatches",
           "decoder_targets", "sorted_batches"]

TRUNCATE_MODES = ("head", "tail", "both")


def truncate(seq, max_len: int | None, keep: str = "head"):
    """The first (``head``), last (``tail``) or first ⌈max_len/2⌉ and last ⌊max_len/2⌋ (``both``)
    items of ``seq`` when it is longer than ``max_len``; ``seq`` itself otherwise.

    >>> truncate([1, 2, 3, 4, 5], 3, "both")
    [1, 2, 5]
    """
    _check_mode(keep)
    if max_len is None or len(seq) <= max_len:
        return seq
    if keep == "head":
        return seq[:max_len]
    if keep == "tail":
        return seq[len(seq) - max_len:]
    head = (max_len + 1) // 2
    tail = max_len - head
    first, last = seq[:head], seq[len(seq) - tail:]
    if isinstance(seq, Tensor):
        return torch.cat([first, last])
    if isinstance(seq, np.ndarray):
        return np.concatenate([first, last])
    return first + last                                  # list, tuple, str


def _check_mode(keep: str) -> None:
    if keep not in TRUNCATE_MODES:
        raise LstmkitError(f"unknown truncation {keep!r}", f"use one of: {', '.join(TRUNCATE_MODES)}")


def pad_batch(seqs: Sequence[Tensor], pad_value: float = 0) -> tuple[Tensor, Tensor]:
    """Stack sequences ``[T_i]`` (token ids) or ``[T_i, F]`` (features) into
    ``padded [B, T_max]`` / ``[B, T_max, F]`` and ``lengths [B]`` (int64)."""
    if len(seqs) == 0:
        raise LstmkitError("cannot pad an empty batch", "pass at least one sequence")
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    if int(lengths.min()) < 1:
        raise LstmkitError("a sequence of length 0 cannot be batched", "drop empty sequences first")
    first = seqs[0]
    out = first.new_full((len(seqs), int(lengths.max()), *first.shape[1:]), pad_value)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
    return out, lengths


class Ragged(Sequence):
    """Sequences stored end to end: ``values [sum of lengths, …]`` and ``lengths [N]`` (int64).

    As a sequence it holds ``[T_i, …]`` views of ``values``; :meth:`truncate` and :meth:`pad` work
    on all of them at once with the results of :func:`truncate` and :func:`pad_batch`, and
    :class:`BucketBatches` given one builds its batches with :meth:`pad` (a long list of small
    texts is batched without a tensor per text).
    """

    def __init__(self, values: Tensor, lengths: Tensor):
        if int(lengths.sum()) != len(values):
            raise ValueError(f"lengths sum to {int(lengths.sum())}, values hold {len(values)}")
        self.values, self.lengths = values, lengths.to(torch.long)
        self.starts = torch.cumsum(self.lengths, 0) - self.lengths                   # [N]
        self.cut_from = self.lengths      # [N] the lengths before :meth:`truncate` (the same when nothing was cut)

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i: int) -> Tensor:
        start = int(self.starts[i])
        return self.values[start:start + int(self.lengths[i])]

    def __iter__(self) -> Iterator[Tensor]:
        return iter(self.values.split(self.lengths.tolist()))

    def rows(self, start: int, stop: int) -> Ragged:
        """The sequences ``start:stop`` as a Ragged of their own (views of ``values``), their ``cut_from`` with them."""
        lengths = self.lengths[start:stop]
        first = int(self.starts[start]) if start < len(self) else len(self.values)
        out = Ragged(self.values[first:first + int(lengths.sum())], lengths)
        out.cut_from = self.cut_from[start:stop]
        return out

    def truncate(self, max_len: int | None, keep: str = "head") -> Ragged:
        """Every sequence as :func:`truncate` leaves it (``cut_from`` keeps the lengths before)."""
        _check_mode(keep)
        if max_len is None or len(self) == 0 or int(self.lengths.max()) <= max_len:
            return self
        n = torch.repeat_interleave(self.lengths, self.lengths)                      # each item's sequence length
        pos = torch.arange(len(self.values)) - torch.repeat_interleave(self.starts, self.lengths)
        head = {"head": max_len, "tail": 0, "both": (max_len + 1) // 2}[keep]
        kept = (pos < head) | (pos >= n - (max_len - head))
        out = Ragged(self.values[kept], self.lengths.clamp(max=max_len))
        out.cut_from = self.cut_from
        return out

    def pad(self, idx: Tensor, pad_value: float = 0) -> tuple[Tensor, Tensor]:
        """``pad_batch`` of the sequences ``idx``: ``padded [B, T_max, …]`` and ``lengths [B]``."""
        if len(idx) == 0:
            raise LstmkitError("cannot pad an empty batch", "pass at least one sequence")
        lengths = self.lengths[idx]
        if int(lengths.min()) < 1:
            raise LstmkitError("a sequence of length 0 cannot be batched", "drop empty sequences first")
        if len(lengths) == 1:                  # one sequence (a service request's text): its ids, nothing to pad
            start = int(self.starts[idx][0])
            return self.values[start:start + int(lengths[0])].unsqueeze(0).clone(), lengths
        steps = torch.arange(int(lengths.max()))
        inside = steps < lengths[:, None]                                             # [B, T]
        at = (self.starts[idx][:, None] + steps).clamp(max=len(self.values) - 1)
        padded = self.values[at]
        padded[~inside] = pad_value
        return padded, lengths


class Padded(tuple):
    """Model inputs ``(padded [B, T, …], lengths [B], *more)`` that declare their padding: the
    second item is the real length of each row of the first.

    A batch iterator yields its inputs as ``Padded((x, lengths))`` (or ``Padded((src, src_len,
    tgt_in))``) to say so; the training doctor measures padding on such inputs only, never by
    guessing from the shapes of a plain tuple (a forecast's ``(x, future, series)`` has none). In
    every other respect it is a tuple: the trainer spreads it over the model's arguments, and
    ``type(x)(items)`` rebuilds it when moving it to a device or sharding it.
    """

    __slots__ = ()

    def padding_share(self) -> float:
        """Share of the ``B * T`` positions of the first item that are padding."""
        x, lengths = self[0], self[1]
        cells = x.shape[0] * x.shape[1]
        return 1.0 - float(lengths.sum()) / cells if cells else 0.0


def decoder_targets(seqs: Sequence[Tensor], bos_id: int, eos_id: int, pad_value: int = 0) -> tuple[Tensor, Tensor]:
    """Teacher forcing: the decoder reads ``<bos> y`` and learns ``y </s>``; both padded ``[B, T + 1]``."""
    bos, eos = torch.tensor([bos_id]), torch.tensor([eos_id])
    tgt_in, _ = pad_batch([torch.cat([bos, s]) for s in seqs], pad_value)
    tgt_out, _ = pad_batch([torch.cat([s, eos]) for s in seqs], pad_value)
    return tgt_in, tgt_out


def sorted_batches(lengths: Sequence[int], most: int, max_steps: int | None = None) -> list[list[int]]:
    """The indices of sequences of ``lengths`` in batches of similar length, shortest first (ties in
    order): at most ``most`` a batch and, with ``max_steps``, at most that many padded steps (rows x
    the batch's longest; a longer sequence alone). Without a bound one 50,000-token text padded the
    255 next-longest to its length: 2.9 GB resident for one of 5,000 words, where they alone took 0.35."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches, start = [], 0
    while start < len(order):
        stop = start + 1            # sorted by length: the last one sets the batch's steps
        while (stop < len(order) and stop - start < most
               and (max_steps is None or (stop - start + 1) * lengths[order[stop]] <= max_steps)):
            stop += 1
        batches.append(order[start:stop])
        start = stop
    return batches


class BucketBatches:
    """Mini-batches ``(Padded((padded, lengths)), y[idx])`` over variable-length sequences.

    Args:
        seqs: list of ``[T_i]`` long or ``[T_i, F]`` float tensors.
        y: ``[N]`` targets (or None: batches are then ``Padded((padded, lengths))`` only).
        batch_size: sequences per batch.
        shuffle: a fresh random order on every iteration (from ``generator``, or torch's global
            generator, which the trainer re-seeds every epoch).
        bucket: group sequences of similar length. With ``shuffle``, the data is shuffled, cut
            into pools of ``pool`` batches, each pool sorted by length and cut into batches,
            and the batches shuffled: batches stay random, padding nearly vanishes. Without
            ``shuffle``, the whole set is sorted by length.
        pool: batches per sorting pool.
        pad_value: value at padded positions (``<pad>`` id 0 for tokens).
        max_steps: without ``shuffle``, batches of at most this many padded steps (rows x their
            longest; :func:`sorted_batches`): a fitted model's batches beside one very long sequence.

    ``iter_indexed()`` yields ``(idx, padded, lengths)`` so predictions can be put back in order.
    """

    def __init__(self, seqs: Sequence[Tensor], y: Tensor | None = None, batch_size: int = 32,
                 shuffle: bool = False, bucket: bool = True, pool: int = 50,
                 generator: torch.Generator | None = None, pad_value: float = 0, max_steps: int | None = None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise LstmkitError(f"`batch_size` must be a positive integer, got {batch_size!r}",
                               f"pass {opt('batch_size', 32)}, say")
        if y is not None and len(y) != len(seqs):
            raise LstmkitError(f"`seqs` and `y` must have the same length, got {len(seqs)} and {len(y)}",
                               "pass one target per sequence")
        self.seqs, self.y = (seqs if isinstance(seqs, Ragged) else list(seqs)), y
        self.lengths = (seqs.lengths if isinstance(seqs, Ragged)
                        else torch.tensor([len(s) for s in self.seqs], dtype=torch.long))   # [N]
        self.batch_size, self.shuffle, self.bucket, self.pool = batch_size, shuffle, bucket, pool
        self.generator, self.pad_value = generator, pad_value
        self.max_steps = None if shuffle else max_steps

    def __len__(self) -> int:
        if self.max_steps is not None:
            return len(self.batch_indices())
        return math.ceil(len(self.seqs) / self.batch_size)

    def batch_indices(self) -> list[Tensor]:
        """The index tensor of every batch of one pass, in the order they will be served."""
        n, bs = len(self.seqs), self.batch_size
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        if not self.bucket:
            return list(order.split(bs))
        if not self.shuffle and self.max_steps is not None:
            return [torch.tensor(b) for b in sorted_batches(self.lengths.tolist(), bs, self.max_steps)]
        if not self.shuffle:
            order = torch.argsort(self.lengths, stable=True)
            return list(order.split(bs))
        batches: list[Tensor] = []
        for chunk in order.split(bs * self.pool):
            by_len = chunk[torch.argsort(self.lengths[chunk], stable=True)]
            batches.extend(by_len.split(bs))
        perm = torch.randperm(len(batches), generator=self.generator)
        return [batches[i] for i in perm]

    def iter_indexed(self) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
        for idx in self.batch_indices():
            if isinstance(self.seqs, Ragged):
                padded, lengths = self.seqs.pad(idx, self.pad_value)
            else:
                padded, lengths = pad_batch([self.seqs[i] for i in idx.tolist()], self.pad_value)
            yield idx, padded, lengths

    def __iter__(self):
        for idx, padded, lengths in self.iter_indexed():
            if self.y is None:
                yield Padded((padded, lengths))
            else:
                yield Padded((padded, lengths)), self.y[idx]

    def padded_steps(self) -> list[int]:
        """Each batch's padded steps (rows x its longest), in the order they will be served: their
        work, by which a prediction's progress weighs them (shortest first, they are far from alike)."""
        return [len(idx) * int(self.lengths[idx].max()) for idx in self.batch_indices()]

    def padding_fraction(self) -> float:
        """Share of padded positions over one pass (a measure of what bucketing saves)."""
        total = sum(len(idx) * int(self.lengths[idx].max()) for idx in self.batch_indices())
        return 1.0 - int(self.lengths.sum()) / total if total else 0.0

    def __repr__(self) -> str:
        return (f"BucketBatches(n={len(self.seqs)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, bucket={self.bucket})")


class CollatedBatches:
    """Batches in :class:`BucketBatches`' order over ``seqs`` (bucketed by their lengths), each
    one built by ``collate(idx)`` from the list of its item indices.

    This is the one batch iterator of the tasks whose batches carry more than ``(padded,
    lengths), y`` (a decoder's shifted targets, CTC label lengths, augmented features): the task
    supplies ``collate`` and this supplies the order, fresh on every pass."""

    def __init__(self, seqs: Sequence[Tensor], collate: Callable[[list[int]], object], batch_size: int,
                 shuffle: bool):
        self.collate = collate
        self.order = BucketBatches(seqs, None, batch_size, shuffle=shuffle, bucket=True)

    def __len__(self) -> int:
        return len(self.order)

    def __iter__(self):
        for idx in self.order.batch_indices():
            yield self.collate(idx.tolist())
