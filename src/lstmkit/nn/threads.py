"""Threads for torch's calls: one OpenMP thread for the calling thread, and the pool that decodes
batches side by side.

    one_thread(on)                       a context running this thread's torch calls on one thread
    map_batches(fn, batches, workers)    fn over batches in order, on up to ``workers`` threads

OpenMP keeps its thread count per thread, so :class:`one_thread` changes the calling thread's only
(other threads, a server's, keep theirs), which ``torch.set_num_threads`` would change for the
whole process. The decoding pool's threads run that way for good: each of them stands for one
of the process's cores, and while they ran torch with OpenMP teams of their own, the main
thread's torch calls ran slower ever after (translation's torch engine, 64 sentences on 2 cores:
15.4 ms a batch, or 27.7 ms once the pool's threads had run their own teams).
"""
from __future__ import annotations

import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable, Iterator

import torch

__all__ = ["one_thread", "map_batches"]

_OPENMP: list = []                   # [controllers]: the OpenMP runtimes torch runs on (found once)
_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _openmp() -> list:
    """``[(omp_get_max_threads, omp_set_num_threads)]`` of the OpenMP runtimes torch's kernels run
    on (found by threadpoolctl: those in torch's folder, else every one loaded); empty without it."""
    if not _OPENMP:
        try:
            from threadpoolctl import ThreadpoolController
            libs = ThreadpoolController().select(user_api="openmp").lib_controllers
            home = os.path.dirname(torch.__file__)
            libs = [c for c in libs if str(c.filepath).startswith(home)] or libs
            fns = [(c.dynlib.omp_get_max_threads, c.dynlib.omp_set_num_threads) for c in libs]
        except Exception:                                     # not installed, or a runtime it cannot read
            fns = []
        _OPENMP.append(fns)
    return _OPENMP[0]


class one_thread:
    """``with one_thread(on):`` torch runs this thread's calls in the block on one thread (when
    ``on``); every other thread keeps its setting (OpenMP keeps it per thread). A batch-1 call of
    a small net gives the same answer, sooner."""

    __slots__ = ("_fns", "_before")

    def __init__(self, on: bool = True):
        self._fns = _openmp() if on else ()

    def __enter__(self) -> one_thread:
        # torch sets a thread's OpenMP count on its first use: asked first; already one: nothing to set
        self._before = [get() for get, _ in self._fns] if self._fns and torch.get_num_threads() > 1 else ()
        for _, set_ in self._fns[:len(self._before)]:
            set_(1)
        return self

    def __exit__(self, *exc) -> None:
        for (_, set_), n in zip(self._fns, self._before):
            set_(n)


def map_batches(fn: Callable[[Any], Any], batches: Iterable[Any], workers: int) -> Iterator[Any]:
    """``fn(batch)`` for each batch, in order: on ``workers`` threads when more than one, at most
    ``workers`` batches in flight (the batches themselves are built on the caller's thread).
    Stopping early (an error, Ctrl-C) cancels the batches not yet started.

    The threads are kept for the next call (per process): a new thread's first torch call sets up
    its own thread state, which cost more than the decoding it shared (translation, 64 sentences:
    14.8 ms with new threads per call, 10.3-11.3 ms with kept ones)."""
    if workers <= 1:
        yield from map(fn, batches)
        return
    pool = _decode_pool(workers)
    pending: deque = deque()
    try:
        for batch in batches:
            pending.append(pool.submit(fn, batch))
            if len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


def _decode_pool(workers: int) -> ThreadPoolExecutor:
    """This process's pool of ``workers`` threads, each running torch on one OpenMP thread (a forked
    child makes its own: the parent's threads do not exist there)."""
    key = (os.getpid(), workers)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = _POOLS[key] = ThreadPoolExecutor(workers, thread_name_prefix="lstmkit-decode",
                                                    initializer=_one_openmp_thread)
        return pool


def _one_openmp_thread() -> None:
    one_thread().__enter__()          # for the thread's life
