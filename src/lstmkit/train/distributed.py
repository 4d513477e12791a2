"""torchrun / DDP glue: the same training command on one process or many.

``torchrun --nproc-per-node N [--nnodes M --node-rank K --rdzv-endpoint HOST:PORT] -m lstmkit
<task> train ...`` starts N×M copies of the command with ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK`` set. :func:`setup` joins them into one process group (gloo on CPU, NCCL on GPU);
the trainer then wraps the model in ``DistributedDataParallel`` and gives each rank its share of
every global batch (:class:`ShardedBatches`), so ``batch_size`` keeps meaning the global batch
and N processes follow the same trajectory as one process up to float rounding. Only rank 0
writes the run folder and prints; losses are averaged over ranks with :func:`all_reduce_sum`.
"""
from __future__ import annotations

import os
from typing import Any, Iterable, Iterator

import torch
import torch.distributed as dist

__all__ = ["setup", "is_distributed", "rank", "world_size", "local_rank", "is_main", "barrier",
           "all_reduce_sum", "broadcast_bytes", "broadcast_str", "ShardedBatches", "teardown"]


def _env_world() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def setup(device: str = "auto") -> bool:
    """Join the process group torchrun describes in the environment; idempotent.

    Returns True when running distributed (``WORLD_SIZE`` > 1)."""
    if dist.is_available() and dist.is_initialized():
        return True
    if _env_world() <= 1 or not dist.is_available():
        return False
    use_cuda = torch.cuda.is_available() and not str(device).startswith("cpu")
    if use_cuda:
        torch.cuda.set_device(local_rank())
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return True


def teardown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else int(os.environ.get("RANK", "0"))


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_main() -> bool:
    """True on the process that writes files and prints (rank 0, or the only process)."""
    return rank() == 0


def barrier() -> None:
    if is_distributed():
        dist.barrier()


def all_reduce_sum(values: list[float], device: torch.device) -> list[float]:
    """Sum each number over ranks (float64, one collective); identity on one process."""
    if not is_distributed():
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def broadcast_bytes(payload: bytes | None, device: torch.device) -> bytes | None:
    """Rank 0's bytes (or None) on every rank, as a uint8 tensor: no pickling, no shared disk."""
    if not is_distributed():
        return payload
    n = torch.tensor([-1 if payload is None else len(payload)], dtype=torch.int64, device=device)
    dist.broadcast(n, 0)
    if n.item() < 0:
        return None
    buf = (torch.frombuffer(bytearray(payload), dtype=torch.uint8).to(device) if is_main()
           else torch.empty(int(n.item()), dtype=torch.uint8, device=device))
    dist.broadcast(buf, 0)
    return bytes(buf.cpu().numpy().tobytes())


def broadcast_str(text: str | None, device: torch.device | str = "cpu") -> str | None:
    """``text`` (a path: a run folder's) from rank 0 to every rank; a name that is not UTF-8 (Linux
    allows any bytes; Python holds them as surrogates) goes as its bytes: encoding it was a traceback."""
    raw = broadcast_bytes(None if text is None else text.encode("utf-8", "surrogateescape"), torch.device(device))
    return None if raw is None else raw.decode("utf-8", "surrogateescape")


def _shard(x: Any, k: int, n: int):
    if isinstance(x, (tuple, list)):
        return type(x)(_shard(v, k, n) for v in x)
    return torch.tensor_split(x, n)[k]


class ShardedBatches:
    """This rank's share of every batch of ``batches``: rows ``tensor_split(batch, world)[rank]``.

    Every rank draws the same global batches (same seed, same order), so the shards are disjoint
    and together cover each batch exactly once — a distributed sampler that keeps the global
    batch, the order and the epoch length of a one-process run. For training, a batch smaller
    than the world size is skipped on every rank alike (no rank may wait for a gradient that never
    comes); for evaluation (``skip_small=False``) a rank may get an empty shard.
    """

    def __init__(self, batches: Iterable, rank: int, world: int, skip_small: bool = True):
        self.batches, self.rank, self.world, self.skip_small = batches, rank, world, skip_small

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator:
        for xb, yb in self.batches:
            if self.skip_small and _rows(yb) < self.world:
                continue
            yield _shard(xb, self.rank, self.world), _shard(yb, self.rank, self.world)


def _rows(y) -> int:
    return _rows(y[0]) if isinstance(y, (tuple, list)) else y.shape[0]
