"""Batcher: a bounded queue of window arrays, taken by one inference thread into onnxruntime runs back to back."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time

import numpy as np

from service.errors import InferenceFailed, InvalidInput, TimedOut, first_line
from service.inference.queue import BatchQueue, Pending, Prediction
from service.metrics import ServiceMetrics
from service.model.forecaster import Forecaster

log = logging.getLogger(__name__)
INLINE_WINDOWS = 1  # a lone single window runs on the event loop: the thread hop cost more than the run
SWEEP_S = 0.05  # how often waiting requests are checked against their deadlines


class Batcher:
    """Continuous batching on one inference thread: as soon as a run ends, the thread takes every request that
    arrived meanwhile (at most max_batch windows) and runs again, without waiting for the event loop to hand
    it the next batch. One client gets unbatched latency, many get full batches while the loop answers the last.
    wait_s > 0 adds a wait for company before a batch that is not full.

    Its shared state is one BatchQueue (`self.queue`). The batcher is in one of five states:
    - idle: nothing waiting, running or dispatching; the thread sleeps on queue.wake.
    - dispatching: a request found it idle and scheduled _dispatch on the event loop, so that every request of
      that loop tick queues first. _dispatch then runs a lone one-window request inline, or wakes the thread.
    - inline: the event loop runs that lone window; requests arriving meanwhile queue, and the thread waits for
      inline to end before it takes them.
    - running: the thread runs queue.running; requests arriving meanwhile queue and notify it. When the run
      ends, the answers go to the loop and the thread takes the next batch at once, or goes idle.
    - stopped: stop() drains the queue with errors; the thread ends after the run in progress.
    Every future resolves once: with its rows of a run, with the run's error, with 504 from _sweep once its
    deadline passes (a later answer is then dropped), or with the shutdown error.
    """

    def __init__(
        self,
        max_batch: int,
        wait_s: float,
        max_queue: int,
        metrics: ServiceMetrics | None = None,
        nice: int = 0,
    ) -> None:
        self.max_batch, self.wait_s, self.max_queue = max_batch, wait_s, max_queue
        self.metrics, self.nice = metrics, nice
        self.queue = BatchQueue(max_batch, max_queue)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeper: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Starts the inference thread; answers go back to the running event loop."""
        self._loop = asyncio.get_running_loop()
        # One thread: onnxruntime parallelises inside a run (intra-op threads) and releases the GIL.
        self._thread = threading.Thread(target=self._work, name="inference", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Stops the thread after its current run; requests still queued get an error rather than hanging."""
        with self.queue.wake:
            queued = self.queue.drain()
            self._show_pending()
            self.queue.wake.notify()
        if self._thread:
            await asyncio.to_thread(self._thread.join)
        if self._sweeper:
            self._sweeper.cancel()
        for item in queued:
            if not item.future.done():
                item.future.set_exception(InferenceFailed("the service is shutting down"))

    async def submit(self, model: Forecaster, windows: np.ndarray, timeout_s: float) -> Prediction:
        """Forecasts for `windows` (n, window) from `model`; 503 when the queue is full, 504 on timeout."""
        n = len(windows)
        if not 1 <= n <= self.max_batch:  # one ONNX run never exceeds what the service was sized for
            raise InvalidInput(
                f"{n} windows in one request; send 1 to {self.max_batch} (FORECAST_MAX_BATCH), "
                "or split them over several requests"
            )
        loop = self._loop or asyncio.get_running_loop()  # Python 3.11 looks the running loop up with a getpid()
        item = Pending(windows, model, loop.create_future(), timeout_s)
        with self.queue.wake:
            self.queue.add(item)
            self._show_pending()
            first = self.queue.idle  # decide after this tick, once the requests that came with it have queued
            if first:
                self.queue.dispatching = True
            else:
                self.queue.wake.notify()
        if first:
            loop.call_soon(self._dispatch)
        if self._sweeper is None:
            self._sweeper = loop.call_later(min(SWEEP_S, timeout_s), self._sweep)
        return await item.future

    def _dispatch(self) -> None:
        """Once the requests that arrived together have queued: a lone small one runs here on the event loop
        (the thread hop would cost more than the run); anything more wakes the inference thread."""
        queue = self.queue
        with queue.wake:
            queue.dispatching = False
            lone = self.wait_s <= 0 and len(queue.waiting) == 1 and not queue.running
            if not lone or len(queue.waiting[0].windows) > INLINE_WINDOWS:
                queue.wake.notify()
                return
            item = queue.pop()
            self._show_pending()
            queue.inline = True
        try:
            self._deliver([item], self._run([item]))
        finally:
            with queue.wake:
                queue.inline = False
                queue.wake.notify()

    def _sweep(self) -> None:
        """One timer for all requests, not one per request: past-deadline ones get 504."""
        now = time.perf_counter()
        with self.queue.lock:
            waiting = [*self.queue.waiting, *self.queue.running]
        for item in waiting:
            if now >= item.deadline and not item.future.done():
                item.future.set_exception(
                    TimedOut(f"no forecast within {item.timeout_s * 1000:.0f} ms; the service is overloaded")
                )
        deadlines = [i.deadline for i in waiting if not i.future.done()]
        self._sweeper = None
        if deadlines:
            delay = min(SWEEP_S, max(0.0, min(deadlines) - now))
            self._sweeper = asyncio.get_running_loop().call_later(delay, self._sweep)

    @property
    def pending_windows(self) -> int:
        return self.queue.pending_windows

    def _show_pending(self) -> None:
        """The gauge follows pending_windows; called with the lock held, so that a stale value never lands last."""
        if self.metrics:
            self.metrics.pending_windows.set(self.queue.pending_windows)

    def _work(self) -> None:
        """The inference thread: the next batch, one run, answers handed to the event loop; until stopped."""
        assert self._loop is not None
        lower_priority(self.nice)
        while (batch := self._next_batch()) is not None:
            outcome = self._run(batch)
            try:
                self._loop.call_soon_threadsafe(self._deliver, batch, outcome)
            except RuntimeError:  # the loop has closed: nobody is waiting any more
                return

    def _next_batch(self) -> list[Pending] | None:
        """Sleeps until requests are queued (and the loop runs none inline); None once stopped."""
        queue = self.queue
        with queue.wake:
            queue.running = []
            while not queue.running:  # empty when every request taken had timed out while it waited
                while not queue.stopping and (queue.inline or not queue.waiting):
                    queue.wake.wait()
                if self.wait_s > 0 and not queue.stopping:
                    self._gather()
                if queue.stopping:
                    return None
                queue.running = queue.take_batch()
                self._show_pending()
            return queue.running

    def _gather(self) -> None:
        """Waits (holding the condition) until a batch is full or the oldest request has waited wait_s."""
        queue = self.queue
        deadline = queue.waiting[0].enqueued + self.wait_s
        while not queue.stopping and queue.pending_windows < self.max_batch:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return
            queue.wake.wait(remaining)

    def _run(self, batch: list[Pending]) -> Prediction | InferenceFailed:
        """One onnxruntime run for the whole batch; an error is the outcome for all of it."""
        windows = batch[0].windows if len(batch) == 1 else np.concatenate([b.windows for b in batch])
        model = batch[0].model
        device = model.device_for(len(windows))
        started = time.perf_counter()
        try:
            outcome: Prediction | InferenceFailed = model.predict(windows, device)
        except Exception as exc:
            log.error("inference failed for a batch of %d windows: %s", len(windows), first_line(exc))
            outcome = InferenceFailed(f"inference failed: {first_line(exc)}")
        self._observe([b.enqueued for b in batch], started, len(windows), device)
        return outcome

    def _deliver(self, batch: list[Pending], outcome: Prediction | InferenceFailed) -> None:
        """On the event loop: each request gets its rows of the batch's arrays, or the batch's error."""
        offset = 0
        for item in batch:
            n = len(item.windows)
            if not item.future.done():
                if isinstance(outcome, InferenceFailed):
                    item.future.set_exception(outcome)
                else:
                    item.future.set_result(tuple(a[offset : offset + n] for a in outcome))
            offset += n

    def _observe(self, enqueued: list[float], started: float, windows: int, device: str) -> None:
        if not self.metrics:
            return
        self.metrics.inference_seconds.labels(device).observe(time.perf_counter() - started)
        self.metrics.batch_windows.observe(windows)
        for since in enqueued:
            self.metrics.queue_seconds.observe(started - since)


def lower_priority(nice: int) -> None:
    """Makes the calling thread `nice` steps nicer than it is (Linux: priority is per thread)."""
    if nice <= 0 or not sys.platform.startswith("linux"):  # elsewhere setpriority would nice the whole process
        return
    thread = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + nice))
    except OSError as exc:  # a sandbox may forbid it; the thread then runs at the loop's priority
        log.warning("cannot lower the inference thread's priority: %s", exc)
