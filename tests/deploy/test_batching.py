"""deploy.batching: the service's request-batching queue (concurrent requests answered together,
each with its own answer or its own error)."""
import threading
import time

import pytest

from lstmkit.deploy.adapter import BadRequest
from lstmkit.deploy.batching import RequestBatcher


def _concurrently(batcher, requests):
    """Submit every request from its own thread at once; ``[(answer or exception), ...]``."""
    out = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def one(i):
        start.wait()
        try:
            out[i] = batcher.submit(requests[i])
        except Exception as e:          # noqa: BLE001 - the test inspects it
            out[i] = e
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)                      # a guard against a hang: a busy machine runs threads late
    assert not any(t.is_alive() for t in threads)
    return out


def _company(batcher, n):
    """For a first ``answer_many`` call of ``answering`` requests: wait (a model call; others arrive meanwhile) until
    ``n`` were submitted in all, its own and those queued behind it. A sleep's worth of waiting was a bet on the
    scheduler: a busy machine ran each thread after the one before was answered, and nothing came together."""
    def wait(answering):
        deadline = time.monotonic() + 60
        while answering + batcher._queue.qsize() < n:
            assert time.monotonic() < deadline, "the other requests never arrived"
            time.sleep(0.001)
    return wait


def _doubler(calls, company=None):
    """``answer_many`` doubling each ``x`` (13 is refused); ``company``: what its first call waits for."""
    def answer_many(requests):
        calls.append(len(requests))
        if company is not None and len(calls) == 1:
            company(len(requests))
        time.sleep(0.02)                # a model call: others arrive meanwhile
        return [BadRequest(["x"], "x must not be 13") if r["x"] == 13 else {"y": 2 * r["x"]} for r in requests]
    return answer_many


def test_concurrent_requests_are_answered_together_each_its_own():
    calls = []
    batcher = RequestBatcher(_doubler(calls, lambda answering: _company(batcher, 20)(answering)), window_s=0.01,
                             max_requests=8)
    xs = [*range(12), *range(20, 28)]               # 13 is the bad one
    out = _concurrently(batcher, [{"x": x} for x in xs])
    assert out == [{"y": 2 * x} for x in xs]
    assert sum(calls) == 20 and max(calls) <= 8
    assert len(calls) < 20 and batcher.batches == len(calls) and batcher.largest == max(calls)


def test_a_bad_request_fails_alone():
    batcher = RequestBatcher(_doubler([]), window_s=0.01)
    out = _concurrently(batcher, [{"x": i} for i in range(10, 16)])
    assert isinstance(out[3], BadRequest) and out[3].loc == ["x"]
    assert [o for k, o in enumerate(out) if k != 3] == [{"y": 2 * i} for i in (10, 11, 12, 14, 15)]


def test_a_bug_reaches_its_request_and_the_worker_goes_on():
    state = {"broken": True}

    def answer_many(requests):
        if state["broken"]:
            raise RuntimeError("boom")
        return [{"ok": r["k"]} for r in requests]
    batcher = RequestBatcher(answer_many, window_s=0.0)
    with pytest.raises(RuntimeError, match="boom"):
        batcher.submit({"k": 1})
    state["broken"] = False
    assert batcher.submit({"k": 2}) == {"ok": 2}


def test_a_bug_one_request_hits_fails_that_request_alone():
    """answer_many raising (not returning the request's error) failed every request of the batch:
    a good request sent beside one that hit a bug was a 500 too (the forecast service's time stamps
    that pandas read as NaT). Each is now answered alone after such a batch."""
    calls = []

    def answer_many(requests):
        calls.append(len(requests))
        if len(calls) == 1:
            _company(batcher, 3)(len(requests))
        time.sleep(0.02)
        if any(r["x"] == 13 for r in requests):
            raise ValueError("a bug on 13")
        return [{"y": 2 * r["x"]} for r in requests]
    batcher = RequestBatcher(answer_many, window_s=0.05)
    out = _concurrently(batcher, [{"x": 1}, {"x": 13}, {"x": 2}])
    assert out[0] == {"y": 2} and out[2] == {"y": 4}
    assert isinstance(out[1], ValueError) and "a bug on 13" in str(out[1])
    assert max(calls) > 1                    # they did come together first


def test_a_wrong_number_of_answers_is_an_error_not_a_mixup():
    batcher = RequestBatcher(lambda requests: [{"a": 1}] * (len(requests) + 1), window_s=0.0)
    with pytest.raises(RuntimeError, match="answers for"):
        batcher.submit({})


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        RequestBatcher(lambda r: r, max_requests=0)


def test_a_lone_client_pays_no_window():
    """Once a batch came alone, the next request is answered without waiting the window for company:
    the worker's queue is asked with no timeout (counted, not timed)."""
    import queue

    class Waits(queue.Queue):
        def __init__(self):
            super().__init__()
            self.timeouts = []

        def get(self, block=True, timeout=None):
            if timeout is not None:
                self.timeouts.append(timeout)
            return super().get(block, timeout)

    batcher = RequestBatcher(lambda requests: [{"n": len(requests)} for _ in requests], window_s=0.05)
    batcher._queue = waits = Waits()
    batcher.submit({})                   # no batch yet: it waits the window once
    assert len(waits.timeouts) >= 1 and max(waits.timeouts) <= 0.05
    waits.timeouts.clear()
    for _ in range(3):
        assert batcher.submit({}) == {"n": 1}
    assert waits.timeouts == []


def test_coroutines_are_answered_together_on_their_event_loop():
    """``submit_async``: what the service awaits; the same answers and errors as ``submit``, with no
    thread waiting for them, and a request whose client went away (cancelled) leaves the rest whole."""
    import asyncio
    calls = []
    batcher = RequestBatcher(_doubler(calls, lambda answering: _company(batcher, 13)(answering)), window_s=0.01,
                             max_requests=8)
    xs = [*range(10, 16), *range(20, 26)]           # 13 is the bad one

    async def main():
        gone = asyncio.ensure_future(batcher.submit_async({"x": 99}))
        await asyncio.sleep(0)                     # queued ...
        gone.cancel()                              # ... and abandoned
        out = await asyncio.gather(*(batcher.submit_async({"x": x}) for x in xs), return_exceptions=True)
        return out, threading.active_count()

    before = threading.active_count()
    out, during = asyncio.run(main())
    assert isinstance(out[3], BadRequest) and out[3].loc == ["x"]
    assert [o for k, o in enumerate(out) if k != 3] == [{"y": 2 * x} for x in xs if x != 13]
    assert max(calls) > 1 and sum(calls) == len(xs) + 1      # together; the abandoned one was answered too
    assert during <= before + 1                                # the batcher's worker, no thread per request
    assert asyncio.run(_one(batcher, 7)) == {"y": 14}          # the worker goes on, on a new loop too


def test_a_batch_wakes_its_event_loop_once_and_each_request_gets_its_own_answer_in_order():
    """The worker hands a batch's answers to the event loop that awaits them in one ``call_soon_threadsafe``
    (one wake-up of the loop a batch, not one a request); each request still gets its own answer or error,
    and the futures are settled in the batch's order."""
    import asyncio
    calls, settled = [], []
    # the batch closes when its sixth request arrives, however late the loop's thread puts it (a 50 ms window
    # split the six in two when the machine held that thread up 60 ms between two submits); the window only guards
    batcher = RequestBatcher(_doubler(calls), window_s=60, max_requests=6)
    xs = [10, 11, 12, 13, 14, 15]                  # 13 is the bad one

    async def main():
        loop = asyncio.get_running_loop()
        wakes = []
        own = loop.call_soon_threadsafe
        loop.call_soon_threadsafe = lambda *a, **k: (wakes.append(a), own(*a, **k))[1]
        futures = [asyncio.ensure_future(batcher.submit_async({"x": x})) for x in xs]
        for x, f in zip(xs, futures):
            f.add_done_callback(lambda _, x=x: settled.append(x))
        out = await asyncio.gather(*futures, return_exceptions=True)
        return out, wakes

    out, wakes = asyncio.run(main())
    assert isinstance(out[3], BadRequest) and out[3].loc == ["x"]
    assert [o for k, o in enumerate(out) if k != 3] == [{"y": 2 * x} for x in xs if x != 13]
    assert calls == [6] and len(wakes) == 1 == batcher.batches
    assert settled == xs


async def _one(batcher, x):
    return await batcher.submit_async({"x": x})


def test_the_worker_is_one_daemon_thread_started_on_first_use():
    """The worker must not keep the interpreter alive: a script or service that made a batcher exits
    when its main thread does (a non-daemon worker blocked forever in ``queue.get``)."""
    batcher = RequestBatcher(lambda requests: [{"n": len(requests)} for _ in requests], window_s=0.0)
    assert batcher._worker is None
    batcher.submit({})
    worker = batcher._worker
    assert worker.daemon and worker.is_alive() and worker.name == "lstmkit-batcher"
    batcher.submit({})
    assert batcher._worker is worker


@pytest.mark.parametrize("settings", [{"max_requests": 0}, {"window_s": -0.001}])
def test_settings_just_outside_their_range_are_refused_and_the_edges_taken(settings):
    with pytest.raises(ValueError, match="max_requests must be >= 1 and window_s >= 0"):
        RequestBatcher(lambda r: r, **settings)
    edge = RequestBatcher(lambda requests: [{"n": len(requests)} for _ in requests], max_requests=1, window_s=0.0)
    assert edge.submit({}) == {"n": 1}


def test_only_a_bug_in_company_is_answered_again_alone():
    """After ``answer_many`` raised, the requests are answered one by one only where there were several
    and it was a bug (an Exception): a lone request is not run a second time, and a BaseException
    (Ctrl-C, SystemExit) over a batch reaches every request of it without running each again."""
    calls = []

    def bug(requests):
        calls.append(len(requests))
        raise ValueError("a bug")
    with pytest.raises(ValueError, match="a bug"):
        RequestBatcher(bug, window_s=0.0).submit({})
    assert calls == [1]

    class Stop(BaseException):
        pass

    stops = []

    def stop(requests):
        stops.append(len(requests))
        time.sleep(0.02)
        raise Stop
    batcher, out = RequestBatcher(stop, window_s=0.05), [None] * 3
    start = threading.Barrier(3)

    def one(i):
        start.wait()
        try:
            batcher.submit({"i": i})
        except Stop as e:
            out[i] = e
    threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(isinstance(o, Stop) for o in out) and sum(stops) == 3, stops


def test_a_closed_batcher_answers_what_waits_then_lets_its_worker_end():
    # the service closes the batcher of a model it replaced: its worker held the model for good
    calls = []
    b = RequestBatcher(_doubler(calls), window_s=0.05)
    assert _concurrently(b, [{"x": 1}, {"x": 2}]) == [{"y": 2}, {"y": 4}]
    worker = b._worker
    b.close()
    worker.join(60)
    assert not worker.is_alive() and b._worker is None
    # a request that read the model just before the swap is still answered, by a worker that ends in turn
    before = set(threading.enumerate())
    assert b.submit({"x": 3}) == {"y": 6}
    later = [t for t in threading.enumerate() if t not in before and t.name == "lstmkit-batcher"]
    for t in later:
        t.join(60)
    assert not any(t.is_alive() for t in later) and b._worker is None


def test_requests_waiting_when_the_batcher_closes_are_each_answered():
    b = RequestBatcher(_doubler([]), window_s=0.05)
    out = [None] * 6

    def one(i):
        out[i] = b.submit({"x": i})
    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for i, t in enumerate(threads):
        t.start()
        if i == 2:
            b.close()                   # the wake-up lands among the requests: none is lost, none taken for one
    for t in threads:
        t.join(60)
    assert out == [{"y": 2 * i} for i in range(6)]


class _HeldQueue:
    """The batcher's queue, held where its closed worker has found it empty and is about to end: a request
    submitted then (its put done, its worker looked for) is ``late``."""

    def __init__(self, batcher):
        self.inner, self.batcher, self.put_done, self.late, self.answered = batcher._queue, batcher, \
            threading.Event(), None, []

    def put(self, item):
        self.inner.put(item)
        if item is not None and self.late is not None:
            self.put_done.set()

    def get(self, *args, **kw):
        return self.inner.get(*args, **kw)

    def get_nowait(self):
        return self.inner.get_nowait()

    def empty(self):
        was = self.inner.empty()
        if was and self.late is None:
            self.late = threading.Thread(target=lambda: self.answered.append(self.batcher.submit({"x": 5})),
                                         daemon=True)
            self.late.start()
            assert self.put_done.wait(60)
            time.sleep(0.1)                 # its submit looks for a worker meanwhile
        return was


def test_a_request_submitted_as_a_closed_worker_ends_is_answered():
    # the closed worker decides to end holding the lock; a submit that saw it still there did not wait for it,
    # so no worker was left for its request, which waited for ever
    b = RequestBatcher(_doubler([]), window_s=0.0)
    held = b._queue = _HeldQueue(b)
    assert b.submit({"x": 1}) == {"y": 2}
    b.close()
    assert held.put_done.wait(60)
    held.late.join(10)
    assert held.answered == [{"y": 10}]
    assert b.submit({"x": 2}) == {"y": 4}
