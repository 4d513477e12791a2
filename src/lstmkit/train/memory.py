"""Whether a network fits in memory for training, told before any of it is allocated.

A network is built first on PyTorch's meta device (shapes, no memory), as :func:`lstmkit.runs.build_checked`
does for a run's weights; its parameters are counted and training's share of memory estimated:
the weights, their gradients and Adam's two running averages, four float32 numbers a parameter.
More than the machine holds (its RAM, a cgroup's or ``ulimit -v``'s limit, or the GPU's memory) is
refused with the settings that size the network; it was an allocation torch refused (a
'could not allocate 160 GB' naming no setting), or one the kernel allowed and then killed the process for
(``--hidden-size 30000``: 14 GB a matrix, each allocation within the RAM, the sum far beyond it).
More than is free now, but within the machine, is a warning: other programs may give memory back.
What a device holds, the meta build and the byte counts are the base layer's :mod:`lstmkit.memory`.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import torch
from torch import nn

from lstmkit.errors import LstmkitError, callers_level, flag, opt, worded
from lstmkit.memory import built_on_meta, memory_limit, size_text, training_bytes

__all__ = ["batch_fix", "built_within_memory", "check_batch_fits", "check_sequence_batch"]


def built_within_memory(build: Callable[[], nn.Module], device: str | torch.device, config: Any,
                        sizes: tuple[str, ...]) -> nn.Module:
    """``build()``, after the same build on the meta device shows training it fits ``device``'s memory
    (``"auto"``: the GPU where there is one). Too large: an :class:`LstmkitError` with the estimate and,
    as the fix, those of ``sizes`` that matter: the fields of ``config`` (the object ``build`` reads) that
    size the network (``hidden_size``, ``num_layers``), with their values. The random state is the same
    after it as without the probe."""
    n, need = _probe(build)
    from lstmkit.train.settings import resolve_device
    dev = resolve_device(device) if isinstance(device, str) else device
    total, free, where = memory_limit(dev)
    if need > total:
        named = " or ".join(f"{worded(flag(s), s)} ({getattr(config, s)})" for s in _largest(build, config, sizes, need))
        raise LstmkitError(f"the model is too large to train here: about {n:,} parameters need about {size_text(need)} "
                           f"(weights, gradients and Adam's two averages), more than the {size_text(total)} of {where}",
                           f"lower {named}" if named else "choose a smaller model")
    if free is not None and need > free:
        warnings.warn(f"training this model needs about {size_text(need)} of memory and only {size_text(free)} of {where} "
                      "is free now: it may swap or be stopped for lack of memory",
                      UserWarning, stacklevel=callers_level())
    return build()



def check_batch_fits(net: nn.Module, make: Callable[[int], tuple], k: int, batch: int, device: str | torch.device,
                     fix: Callable[[int], str], unit: str = "examples") -> None:
    """Refuse a training batch of ``batch`` examples (or another ``unit``, ``"tokens"``) whose
    activations, with the training state of ``net``, need more than ``device``'s memory. ``make(n)``:
    the model's arguments holding ``n`` of them, run in training mode for ``k`` and ``2 k`` to measure
    what autograd keeps for each one beside what it keeps once a batch (weights cast or transposed for
    the step: counted per example, ``--hidden-size 256`` said 588 KiB a token where 36 KiB is its share).
    ``fix(largest)`` says how to get a batch within memory (at most ``largest`` of them), in the caller's
    words. The random state (dropout's draws) and the buffers (batch norm's statistics) are left as they were."""
    from lstmkit.train.bench import activation_bytes
    from lstmkit.train.settings import resolve_device
    if k < 1 or batch <= 2 * k:
        return
    kept = {name: b.clone() for name, b in net.named_buffers()}        # batch norm's running statistics
    try:
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            once, twice = activation_bytes(net, make(k)), activation_bytes(net, make(2 * k))
    except (ValueError, RuntimeError) as e:
        if isinstance(e, LstmkitError):
            raise
        # the probe is not a batch the model can take (batch norm over one value a channel: one
        # 1-step sequence of a 3-step series, LSTM-FCN): nothing measured, training says the rest
        return
    finally:
        with torch.no_grad():
            for name, b in net.named_buffers():
                b.copy_(kept[name])
    each = max(twice - once, 0) / k
    fixed = max(once - each * k, 0) + training_bytes(net)
    total, _, where = memory_limit(resolve_device(device) if isinstance(device, str) else device)
    if each and fixed + each * batch > total:
        largest = max(1, int((total - fixed) // each)) if total > fixed else 1
        raise LstmkitError(f"one training batch of {batch:,} {unit} is too large to train here: its activations "
                           f"need about {size_text(int(each * batch))} ({size_text(int(each))} "
                           f"a{'n' if unit[0] in 'aeiou' else ''} {unit[:-1]}), "
                           f"more than the {size_text(total)} of {where}", fix(largest))


def check_sequence_batch(net: nn.Module, seqs: Sequence[torch.Tensor] | Any, batch_size: int,
                         device: str | torch.device, fix: Callable[[int, int], str], unit: str = "tokens",
                         padded: bool = True, make: Callable[[int], tuple] | None = None) -> None:
    """:func:`check_batch_fits` for a batch of variable-length sequences (``seqs``: a list of tensors
    or a :class:`~lstmkit.data.batching.Ragged`): the batch the longest falls in, ``batch_size`` of
    them (``padded``: all padded to the longest, as a bucket holding it is; else the longest
    ``batch_size`` lengths summed, as a packed batch holds them),
    measured on the longest's first 32 and 64 steps alone (``make(n)``: the model's arguments holding
    ``n`` steps; by default ``Padded((longest[None, :n], [n]))``), so that the measure itself stays
    small whatever the length. ``fix(most, longest)``: how to get a batch within ``most`` steps when
    the longest sequence has ``longest``."""
    from lstmkit.data.batching import Padded
    if not seqs:
        return
    each = seqs.lengths if isinstance(getattr(seqs, "lengths", None), torch.Tensor) else \
        torch.tensor([len(s) for s in seqs])              # a Ragged's, without a tensor per sequence
    batch = min(batch_size, len(each))
    lengths = each.topk(batch).values.tolist()
    steps = batch * lengths[0] if padded else sum(lengths)
    longest = seqs[int(each.argmax())]
    make = make or (lambda n: Padded((longest[None, :n], torch.tensor([n]))))
    check_batch_fits(net, make, min(32, lengths[0] // 2), steps, device, lambda most: fix(most, lengths[0]), unit)


def batch_fix(most: int, longest: int, shorter: Callable[[int | None], str]) -> str:
    """:func:`check_sequence_batch`'s fix for a batch padded to its longest sequence (``longest``
    steps) within ``most`` steps: ``pass --batch-size N or less, or {shorter(None)}`` (what shortens
    sequences, e.g. ``a smaller --max-len (400)``), or ``shorter(most)`` alone (e.g. ``pass --max-len
    4000 or less``) when even one sequence of the longest is beyond memory."""
    fits = most // max(longest, 1)
    if not fits:
        return shorter(most)
    return f"pass {opt('batch_size', fits)}{' or less' if fits > 1 else ''}, or {shorter(None)}"


def _probe(build: Callable[[], nn.Module]) -> tuple[int, int]:
    """``(parameters, training bytes)`` of ``build()`` made on the meta device."""
    net = built_on_meta(build)
    return sum(p.numel() for p in net.parameters()), training_bytes(net)



def _largest(build: Callable[[], nn.Module], config: Any, sizes: tuple[str, ...], need: int) -> list[str]:
    """Those of ``sizes`` above 1 whose halving saves a tenth of ``need`` or more, the most saving first
    (``--embed-dim 128`` beside ``--hidden-size 100000`` is no fix); all of them above 1 when none does."""
    saved = {}
    for name in sizes:
        value = getattr(config, name, None)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 1:
            continue
        setattr(config, name, value // 2)
        try:
            saved[name] = need - _probe(build)[1]
        finally:
            setattr(config, name, value)
    worth = sorted((s for s in saved if saved[s] >= need / 10), key=lambda s: -saved[s])
    return worth or list(saved)
