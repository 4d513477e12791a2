"""Concurrent service requests answered together: the request-batching queue of ``lstmkit serve``.

A task whose adapter has ``answer_many(net, requests) -> [answer or LstmkitError, ...]`` (one
entry per request, in order) is served through a :class:`RequestBatcher`: each request thread
puts its request on a queue and waits; one worker thread takes the first request, gathers the
ones already waiting and those that arrive within ``window_s`` (at most ``max_requests``; no
wait after a batch of one: a lone client pays no window), answers them with one
``answer_many`` call and hands every request its own answer. A request the model refuses gets
its own error (a 422 naming its field) and does not fail the others.

What it buys: the translator's beam search decodes every sentence of the batch in one decoder
call per step, so 16 concurrent one-sentence requests cost about one batched search instead of
16 searches queued one after another (and only one thread runs the model: no contention).

The service awaits :meth:`RequestBatcher.submit_async` from its event loop: the worker hands the
answer back with ``call_soon_threadsafe``, so a request never occupies a thread of the server's
pool. With 16 clients a sync handler kept up to 16 pool threads parked in ``Event.wait``, each
woken in turn and each taking the GIL back from the event loop and the worker on 2 cores.
"""
from __future__ import annotations

import asyncio
import queue
import threading
import time
from typing import Any, Callable, Sequence

__all__ = ["RequestBatcher", "WINDOW_S", "MAX_REQUESTS"]

WINDOW_S = 0.002            # how long the worker waits for more requests after the first one
MAX_REQUESTS = 32           # requests answered together at most


class _Pending:
    __slots__ = ("request", "done", "result", "error", "future")

    def __init__(self, request: dict[str, Any], future: asyncio.Future | None = None):
        self.request, self.future = request, future
        self.done = threading.Event() if future is None else None
        self.result: Any = None
        self.error: BaseException | None = None


def _settle_all(pending: list[_Pending]) -> None:
    """Hand each request its answer or error, on the event loop that awaits them (one call for a batch)."""
    for p in pending:
        _settle(p.future, p.result, p.error)


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.done():                       # cancelled: the client went away
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class RequestBatcher:
    """``submit(request) -> answer`` from any thread (``await submit_async(request)`` from an event
    loop); ``answer_many(requests)`` runs on one worker thread (started on first use, a daemon)
    for the requests gathered together. An entry of ``answer_many``'s list that is an exception
    is raised in its own request (thread or coroutine); when ``answer_many`` itself raises (a bug)
    on several requests, each is answered alone, so only the request that hits it sees it."""

    def __init__(self, answer_many: Callable[[list[dict[str, Any]]], Sequence[Any]],
                 window_s: float = WINDOW_S, max_requests: int = MAX_REQUESTS):
        if max_requests < 1 or window_s < 0:
            raise ValueError("max_requests must be >= 1 and window_s >= 0")
        self.answer_many, self.window_s, self.max_requests = answer_many, window_s, max_requests
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start = threading.Lock()
        self.batches = 0                    # answer_many calls so far (for tests and /model)
        self.largest = 0                    # the most requests answered together
        self._together = True               # the last batch had several requests (or none came yet)
        self._closed = False                # closed: the worker ends once nothing waits (a model replaced)

    def submit(self, request: dict[str, Any]) -> Any:
        """Answer ``request`` together with whatever arrives beside it; blocks until answered."""
        pending = _Pending(request)
        self._queue.put(pending)            # put, then a worker: a closed one ending meanwhile is started again
        self._ensure_worker()
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.result

    async def submit_async(self, request: dict[str, Any]) -> Any:
        """:meth:`submit` for a coroutine: the event loop goes on while the worker answers."""
        pending = _Pending(request, asyncio.get_running_loop().create_future())
        self._queue.put(pending)
        self._ensure_worker()
        return await pending.future

    def close(self) -> None:
        """Let the worker thread end once no request waits (the service replaced this model with a newer
        one): it held the model for good. A request submitted after this is still answered, by a worker
        started for it, which ends in turn."""
        self._closed = True
        self._queue.put(None)               # wakes the worker waiting for a request

    def _ensure_worker(self) -> None:
        # closed: the worker may be ending, which it decides holding the lock (a request put meanwhile is either
        # seen there, or sees the worker gone once it has the lock, and starts one)
        if self._worker is None or self._closed:
            with self._start:
                if self._worker is None:
                    self._worker = threading.Thread(target=self._work, name="lstmkit-batcher", daemon=True)
                    self._worker.start()

    def _work(self) -> None:
        while True:
            if self._closed:
                with self._start:            # a request put before this check is answered; one put after it,
                    if self._queue.empty():  # by the worker its submit starts once this one is gone
                        self._worker = None
                        return
            first = self._queue.get()
            if first is None:                # close()'s wake-up
                continue
            batch = [first]
            # wait for company only while requests come together: a lone client pays no window
            deadline = time.monotonic() + (self.window_s if self._together else 0.0)
            while len(batch) < self.max_requests:
                left = deadline - time.monotonic()
                try:
                    item = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    batch.append(item)
            self._answer(batch)

    def _answer(self, batch: list[_Pending]) -> None:
        results, raised = self._results([p.request for p in batch])
        if raised is not None and len(batch) > 1 and isinstance(raised, Exception):
            # a bug, not bad input: one request's failure failed the whole batch (every request a
            # 500), so each is answered alone and only the request that hits the bug sees it
            results = [self._results([p.request])[0][0] for p in batch]
        self.batches += 1
        self.largest = max(self.largest, len(batch))
        self._together = len(batch) > 1
        waiting: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
        for p, r in zip(batch, results):
            if isinstance(r, BaseException):
                p.error = r
            else:
                p.result = r
            if p.future is None:            # a thread waits (submit)
                p.done.set()
            else:                           # an event loop awaits (submit_async)
                waiting.setdefault(p.future.get_loop(), []).append(p)
        for loop, ps in waiting.items():    # one wake-up of each event loop for its requests of the batch, in order
            try:
                loop.call_soon_threadsafe(_settle_all, ps)
            except RuntimeError:            # the loop has closed (the server stopped): nobody waits
                pass

    def _results(self, requests: list[dict[str, Any]]) -> tuple[list[Any], BaseException | None]:
        """``(answers, None)`` from ``answer_many``, or ``([error] * n, error)`` when it raised (or
        gave the wrong count)."""
        try:
            results = list(self.answer_many(requests))
            if len(results) != len(requests):
                raise RuntimeError(f"answer_many gave {len(results)} answers for {len(requests)} requests")
        except BaseException as e:
            return [e] * len(requests), e
        return results, None
