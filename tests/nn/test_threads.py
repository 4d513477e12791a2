"""nn.threads: batches decoded side by side (in order, bounded, cancelled when the caller stops, on
threads whose torch runs one OpenMP thread) and seq2seq's split of a call between workers."""
from __future__ import annotations

import multiprocessing
import threading
import time

import pytest
import torch
from torch import nn

from lstmkit.nn.seq2seq import decode_workers
from lstmkit.nn.threads import _openmp, map_batches, one_thread


def test_results_come_back_in_order_however_the_workers_finish():
    def slow_first(k):
        time.sleep(0.02 if k % 3 == 0 else 0.0)
        return k * k, threading.current_thread().name

    out = list(map_batches(slow_first, range(10), workers=2))
    assert [r for r, _ in out] == [k * k for k in range(10)]
    assert {name for _, name in out} <= {f"lstmkit-decode_{i}" for i in range(2)}     # the pool's threads
    assert list(map_batches(lambda k: k + 1, range(5), workers=1)) == [1, 2, 3, 4, 5]


def test_at_most_workers_batches_in_flight():
    running, most, lock, three = [0], [0], threading.Lock(), threading.Event()

    def work(k):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            if running[0] == 3:
                three.set()
        # the first batches wait until three run at once; the rest pass straight on. A busy machine may start a
        # thread late: after 5 s the first two went on alone (most == 2, a failure), so the wait is 60 s, which
        # only a pool that never runs three at once uses up (and fails all the same)
        three.wait(timeout=60)
        time.sleep(0.005)
        with lock:
            running[0] -= 1
        return k

    built = []

    def batches():                 # built on the caller's thread, no further ahead than the workers
        for k in range(8):
            built.append(threading.current_thread() is threading.main_thread())
            yield k

    assert list(map_batches(work, batches(), workers=3)) == list(range(8))
    assert most[0] == 3 and all(built)


def test_stopping_early_cancels_the_batches_not_started():
    done = []

    def work(k):
        time.sleep(0.02)
        done.append(k)
        return k

    it = map_batches(work, range(50), workers=2)
    assert next(it) == 0
    it.close()                                  # the caller stops (an error, Ctrl-C in its loop)
    time.sleep(0.1)
    assert len(done) <= 3                       # the running ones finished; nothing else started


def test_an_error_in_a_batch_reaches_the_caller():
    def work(k):
        if k == 3:
            raise ValueError("batch 3 is bad")
        return k

    got = []
    with pytest.raises(ValueError, match="batch 3 is bad"):
        for k in map_batches(work, range(20), workers=2):
            got.append(k)
    assert got == [0, 1, 2]


def test_workers_run_torch_on_one_openmp_thread_and_the_caller_keeps_its_own():
    assert _openmp(), "threadpoolctl finds torch's OpenMP runtime"
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen = list(map_batches(lambda _: torch.get_num_threads(), range(4), workers=2))
        assert seen == [1, 1, 1, 1]
        assert torch.get_num_threads() == 2
        with one_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def _in_child(queue):
    queue.put(list(map_batches(lambda k: k * 2, range(6), workers=2)))


def test_a_forked_child_decodes_with_threads_of_its_own():
    list(map_batches(lambda k: k, range(4), workers=2))              # the parent's pool exists
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_in_child, args=(queue,))
    child.start()
    child.join(30)
    assert child.exitcode == 0, "the child hung on the parent's pool or failed"
    assert queue.get(timeout=5) == [0, 2, 4, 6, 8, 10]


class _Net(nn.Module):
    def __init__(self, workers=None):
        super().__init__()
        if workers is not None:
            self.workers = workers


@pytest.mark.parametrize("net, n, batch, want", [
    (_Net(), 64, 64, (1, 64)),              # torch's model: one batch of 64, its threads inside
    (_Net(1), 64, 64, (1, 64)),
    (_Net(2), 64, 64, (2, 32)),             # one call's 64 sentences as two halves
    (_Net(2), 40, 64, (2, 20)),
    (_Net(2), 20, 64, (1, 64)),             # too few to split (at least 16 a batch)
    (_Net(2), 500, 64, (2, 64)),            # many batches: each full, two at a time
    (_Net(4), 40, 64, (2, 20)),
])
def test_decode_workers(net, n, batch, want):
    assert decode_workers(net, n, batch) == want
