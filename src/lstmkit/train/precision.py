"""What ``precision="bf16"`` costs on the CPU, measured once and said when it is slower than fp32.

CPU autocast runs matrix products (and, with a bf16 oneDNN, the fused LSTM) in bfloat16 and casts
around them. Without a bf16 matrix unit (Intel's AMX), those casts cost more than the narrower
arithmetic saves: on an AMD EPYC with AVX-512 BF16 a training step of a 64-unit LSTM with a linear
head took 2.3x fp32's, and a character language model trained 1.5-4x slower; on an AVX2 CPU the
LSTM runs in float32 inside autocast (``nn/lstm_kernels.py``). A user who asked for bf16 to go
faster was not told. :func:`bf16_cost` times a few training steps of the first batch each way;
:func:`say_bf16_cost` warns once a process when bf16 is the slower, naming both times.
"""
from __future__ import annotations

import time
import warnings
from typing import Any, Callable

import torch
from torch import nn

from lstmkit.errors import callers_level, opt

__all__ = ["SLOWER", "bf16_cost", "say_bf16_cost"]

SLOWER = 1.5           # bf16 this many times fp32's step time or more is worth a warning (a busy machine
                       # moves one step's time by a fourth and more)
_LONG = 0.5            # seconds a step beyond which one timing each suffices
_said = False          # told once a process: a tuning study's trials, an ensemble's fits, repeat nothing


def bf16_cost(model: nn.Module, step: Callable[[nn.Module], torch.Tensor], timed: int = 3) -> tuple[float, float]:
    """Seconds of one training step (``step(model)``: forward and loss; its backward here) in fp32
    and under CPU bf16 autocast: the fastest of ``timed`` each, taken in turn after one of each
    untimed (oneDNN builds its kernels at the first); one each where a step takes over half a
    second. The random state (dropout's draws), the buffers (batch norm's statistics) and the
    gradients are left as they were: the run trains the same numbers with or without the measure."""
    kept = {name: b.clone() for name, b in model.named_buffers()}
    grads = [(p, p.grad) for p in model.parameters()]
    best = {False: float("inf"), True: float("inf")}
    try:
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            for k in range(timed + 1):
                for bf16 in (False, True):
                    for p, _ in grads:
                        p.grad = None
                    t0 = time.perf_counter()
                    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                        loss = step(model)
                    loss.backward()
                    if k:
                        best[bf16] = min(best[bf16], time.perf_counter() - t0)
                if k and min(best.values()) > _LONG:      # a long step: one timing each is enough, and cheaper
                    break
    finally:
        with torch.no_grad():
            for name, b in model.named_buffers():
                b.copy_(kept[name])
        for p, g in grads:
            p.grad = g
    return best[False], best[True]


def say_bf16_cost(model: nn.Module, step: Callable[[nn.Module], torch.Tensor]) -> dict[str, Any] | None:
    """Measure :func:`bf16_cost` unless this process has said it already, and warn when bf16 takes
    :data:`SLOWER` times fp32's step or more. Returns what was measured (None when nothing was)."""
    global _said
    if _said:
        return None
    fp32, bf16 = bf16_cost(model, step)
    ratio = bf16 / fp32 if fp32 > 0 else 1.0
    if ratio >= SLOWER:
        _said = True
        warnings.warn(f"bf16 trains {ratio:.1f}x slower than fp32 on this CPU ({_seconds(bf16)} a batch against "
                      f"{_seconds(fp32)}, measured on the first batch): CPU autocast without a bf16 matrix unit "
                      f"(AMX) spends more on casts than it saves — {opt('precision', 'fp32')} trains faster here",
                      UserWarning, stacklevel=callers_level())
    return {"fp32_s": fp32, "bf16_s": bf16, "ratio": ratio}


def _seconds(s: float) -> str:
    return f"{s:.3g} s" if s >= 1 else f"{s * 1e3:.3g} ms"
