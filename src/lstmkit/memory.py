"""What a device holds and what a network needs of it, measured without allocating: the base layer's
part of the memory checks (a model, batch or beam too large for the machine, refused before it is made).

    memory_limit(device)      (total, free, where): the least of the RAM, a container's and ``ulimit -v``'s
                              limit, or the GPU's memory
    built_on_meta(build)      ``build()`` on the meta device, its initialisers skipped (shapes, no memory)
    built_without_draws(build)  ``build()`` with its random initialisers zeros: a network whose weights come next
    training_bytes(net)       what training ``net`` holds: weights, gradients, Adam's two averages
    size_text(n)              ``'8.94 TiB'``

The checks that build and run networks to measure them are :mod:`lstmkit.train.memory`'s.
"""
from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

__all__ = ["TRAINING_BYTES_PER_PARAMETER", "built_on_meta", "built_without_draws", "memory_limit", "size_text", "training_bytes"]

TRAINING_BYTES_PER_PARAMETER = 16        # float32 weight, gradient, Adam's exp_avg and exp_avg_sq
_FILLS = frozenset({"normal_", "uniform_", "fill_", "zero_", "copy_", "constant_", "zeros_", "ones_", "eye_",
                    "orthogonal_", "trunc_normal_", "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_",
                    "xavier_normal_", "sparse_", "dirac_"})
_DRAWS = frozenset({"normal_", "uniform_", "orthogonal_", "trunc_normal_", "kaiming_uniform_", "kaiming_normal_",
                    "xavier_uniform_", "xavier_normal_", "sparse_", "random_", "bernoulli_", "exponential_",
                    "geometric_", "log_normal_", "cauchy_"})
_DRAWN = {"randn": torch.zeros, "rand": torch.zeros, "randn_like": torch.zeros_like, "rand_like": torch.zeros_like}
_UNITS = {"TiB": 4, "GiB": 3, "MiB": 2, "KiB": 1, "B": 0}
_UNKNOWN = 2 ** 62      # the RAM's total where it cannot be read: no build exceeds it, so nothing is refused for it
_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def training_bytes(net: nn.Module) -> int:
    """Bytes training ``net`` holds for its parameters (see :data:`TRAINING_BYTES_PER_PARAMETER`) and buffers."""
    params = sum(p.numel() for p in net.parameters())
    buffers = sum(b.numel() * b.element_size() for b in net.buffers())
    return params * TRAINING_BYTES_PER_PARAMETER + buffers


def memory_limit(device: torch.device) -> tuple[int, int | None, str]:
    """``(total, free, where)``: the bytes ``device`` holds at most, the bytes free now (None where
    unknown) and its name for a message. The CPU's total is the least of the RAM, a cgroup limit
    (a container's) and the address-space limit (``ulimit -v``)."""
    if device.type == "cuda":
        free, total = torch.cuda.mem_get_info(device)
        return int(total), int(free), f"the GPU's memory ({torch.cuda.get_device_name(device)})"
    ram, free = _machine_memory()
    totals = [(ram if ram is not None else _UNKNOWN, "this machine's memory")]
    for path in _CGROUP_LIMITS:
        value = _read_number(path)
        if value is not None:
            totals.append((value, f"the memory limit of this container ({path})"))
            break
    soft = _address_space_limit()
    if soft is not None:
        totals.append((soft, "the address-space limit (ulimit -v)"))
    total, where = min(totals)
    return total, free, where


def _machine_memory() -> tuple[int | None, int | None]:
    """``(total, available)`` bytes of RAM, each None where unknown. POSIX's ``sysconf`` (Linux,
    macOS) and ``/proc/meminfo``'s MemAvailable (Linux); Windows has neither, and its kernel32 says
    both (``import resource`` and ``os.sysconf`` failed there: every fit and load raised)."""
    if sys.platform == "win32":
        return _windows_memory()
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        total = None
    return total, _available()


def _windows_memory() -> tuple[int | None, int | None]:
    class _Status(ctypes.Structure):        # MEMORYSTATUSEX
        _fields_ = [("dwLength", ctypes.c_uint32), ("dwMemoryLoad", ctypes.c_uint32),
                    ("ullTotalPhys", ctypes.c_uint64), ("ullAvailPhys", ctypes.c_uint64),
                    ("ullTotalPageFile", ctypes.c_uint64), ("ullAvailPageFile", ctypes.c_uint64),
                    ("ullTotalVirtual", ctypes.c_uint64), ("ullAvailVirtual", ctypes.c_uint64),
                    ("ullAvailExtendedVirtual", ctypes.c_uint64)]
    status = _Status(dwLength=ctypes.sizeof(_Status))
    try:
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):      # type: ignore[attr-defined]
            return int(status.ullTotalPhys), int(status.ullAvailPhys)
    except (AttributeError, OSError):
        pass
    return None, None


def _address_space_limit() -> int | None:
    """The soft address-space limit (``ulimit -v``) in bytes, None where there is none (or no such
    limit: Windows has no ``resource`` module)."""
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    except (ImportError, AttributeError, OSError, ValueError):
        return None
    return None if soft == resource.RLIM_INFINITY else soft


def built_on_meta(build: Callable[[], nn.Module]) -> nn.Module:
    """``build()`` on PyTorch's meta device: its shapes, no memory, no values. Its initialisers are
    skipped (a meta tensor holds no values to fill): torch's meta ``normal_`` (an embedding's) imports
    ``torch._dynamo``, 2.4 s of a fit or a load. Nothing is drawn from the random generators, and they
    are not saved and set back either: a load runs this while another thread's fit draws from them
    (:mod:`lstmkit.random_state`), and setting them back rewound that fit's draws."""
    with torch.device("meta"), _NoFills():
        return build()


def built_without_draws(build: Callable[[], nn.Module]) -> nn.Module:
    """``build()`` with its random initialisers (``nn.init.normal_``, ``Tensor.uniform_``, ...) filling
    zeros: the network a load fills with the run's weights next. Its first weights drawn from the
    process's generators (then overwritten) shifted the draws of a fit in another thread, which gave
    another model than the same seeded fit alone (:mod:`lstmkit.random_state`)."""
    with _ZeroDraws():
        return build()


class _NoFills(TorchFunctionMode):
    """Inside it, torch's in-place fills (``nn.init.normal_``, ``Tensor.uniform_``) return their tensor as it is."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in _FILLS:
            return args[0] if args else (kwargs or {}).get("tensor")
        return func(*args, **(kwargs or {}))


class _ZeroDraws(TorchFunctionMode):
    """Inside it, torch's random in-place fills zero their tensor instead of drawing, and its random
    tensors (``torch.randn``, ``torch.rand``, their ``_like``) are zeros: torch's quantized LSTM
    and GRU draw their first weights with ``torch.randn`` before ``quantize_dynamic`` replaces them."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in _DRAWS:
            tensor = args[0] if args else (kwargs or {})["tensor"]
            with torch.no_grad():
                return tensor.zero_()
        if name in _DRAWN and func is getattr(torch, name, None):
            return _DRAWN[name](*args, **{k: v for k, v in (kwargs or {}).items() if k != "generator"})
        return func(*args, **(kwargs or {}))


def size_text(n: int) -> str:
    """``n`` bytes in the largest binary unit below it, to 3 figures: ``'8.94 TiB'``; whole from 1,000 of a
    unit (``'1023 KiB'``: '.3g' wrote it '1.02e+03 KiB')."""
    unit = next(u for u in ("TiB", "GiB", "MiB", "KiB", "B") if n >= 2 ** (10 * _UNITS[u]) or u == "B")
    value = n / 2 ** (10 * _UNITS[unit])
    return f"{value:.3g} {unit}" if value < 999.5 else f"{value:.0f} {unit}"


def _read_number(path: str) -> int | None:
    try:
        text = Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None        # cgroup v2 says 'max' for no limit


def _available() -> int | None:
    """MemAvailable of /proc/meminfo in bytes (Linux), else None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):       # UnicodeDecodeError is a ValueError
        pass
    return None
