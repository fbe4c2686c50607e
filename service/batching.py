"""Batcher: a bounded queue of window arrays, flushed by size or time into one onnxruntime run in a thread."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from service.errors import InferenceFailed, InvalidInput, Overloaded, TimedOut
from service.forecaster import Forecaster, first_line
from service.metrics import ServiceMetrics

log = logging.getLogger(__name__)
INLINE_WINDOWS = 1  # a lone single window runs on the event loop: the thread hop cost more than the run
SWEEP_S = 0.05  # how often waiting requests are checked against their deadlines

Prediction = tuple[np.ndarray, ...]  # Forecaster.predict's arrays: (forecasts (n, h), quantiles (n, h, Q))


@dataclass
class Pending:
    """One request's windows, the model it started with, its deadline, and the future its forecasts go to."""

    windows: np.ndarray  # (n, window[, features]) float32
    model: Forecaster
    future: asyncio.Future[Prediction]
    timeout_s: float
    enqueued: float = field(default_factory=time.perf_counter)

    @property
    def deadline(self) -> float:
        return self.enqueued + self.timeout_s


class Batcher:
    """Continuous batching: a batch runs as soon as the inference thread is free, with every request that
    arrived meanwhile (at most max_batch windows). One client gets unbatched latency, many get full batches.
    wait_s > 0 adds a wait for company before a batch that is not full.
    """

    def __init__(self, max_batch: int, wait_s: float, max_queue: int, metrics: ServiceMetrics | None = None) -> None:
        self.max_batch, self.wait_s, self.max_queue = max_batch, wait_s, max_queue
        self.metrics = metrics
        self.pending_windows = 0
        self._queue: collections.deque[Pending] = collections.deque()
        self._running: list[Pending] = []
        self._arrived = asyncio.Event()
        self._sweeper: asyncio.TimerHandle | None = None
        # One thread: onnxruntime parallelises inside a run (intra-op threads) and releases the GIL.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Starts the flushing loop on the running event loop."""
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="batcher")

    async def stop(self) -> None:
        """Stops the loop; requests still queued get an error rather than hanging."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._sweeper:
            self._sweeper.cancel()
        for item in self._queue:
            if not item.future.done():
                item.future.set_exception(InferenceFailed("the service is shutting down"))
        self._queue.clear()
        self._executor.shutdown(wait=True)

    async def submit(self, model: Forecaster, windows: np.ndarray, timeout_s: float) -> Prediction:
        """Forecasts for `windows` (n, window) from `model`; 503 when the queue is full, 504 on timeout."""
        n = len(windows)
        if not 1 <= n <= self.max_batch:  # one ONNX run never exceeds what the service was sized for
            raise InvalidInput(
                f"{n} windows in one request; send 1 to {self.max_batch} (FORECAST_MAX_BATCH), "
                "or split them over several requests"
            )
        if self.pending_windows + n > self.max_queue:
            raise Overloaded(
                f"too many windows waiting ({self.pending_windows} of {self.max_queue}); retry shortly",
                headers={"Retry-After": "1"},
            )
        loop = asyncio.get_running_loop()
        item = Pending(windows, model, loop.create_future(), timeout_s)
        self._queue.append(item)
        self._count_pending(n)
        self._arrived.set()
        if self._sweeper is None:
            self._sweeper = loop.call_later(min(SWEEP_S, timeout_s), self._sweep)
        return await item.future

    def _sweep(self) -> None:
        """One timer for all requests, not one per request: past-deadline ones get 504."""
        now = time.perf_counter()
        for item in (*self._queue, *self._running):
            if now >= item.deadline and not item.future.done():
                item.future.set_exception(
                    TimedOut(f"no forecast within {item.timeout_s * 1000:.0f} ms; the service is overloaded")
                )
        waiting = [i.deadline for i in (*self._queue, *self._running) if not i.future.done()]
        self._sweeper = None
        if waiting:
            delay = min(SWEEP_S, max(0.0, min(waiting) - now))
            self._sweeper = asyncio.get_running_loop().call_later(delay, self._sweep)

    def _count_pending(self, delta: int) -> None:
        self.pending_windows += delta
        if self.metrics:
            self.metrics.pending_windows.set(self.pending_windows)

    async def _loop(self) -> None:
        while True:
            while not self._queue:
                self._arrived.clear()
                await self._arrived.wait()
            if self.wait_s > 0:
                await self._gather()
            batch = self._take_batch()
            if batch:
                self._running = batch
                await self._run(batch)
                self._running = []

    async def _gather(self) -> None:
        """Waits until a batch is full or the oldest request has waited wait_s."""
        deadline = self._queue[0].enqueued + self.wait_s
        while self.pending_windows < self.max_batch:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    def _take_batch(self) -> list[Pending]:
        """Oldest requests first, all for the same model, at most max_batch windows in total."""
        batch: list[Pending] = []
        size = 0
        while self._queue:
            item = self._queue[0]
            if item.future.done():  # timed out or cancelled while queued
                self._queue.popleft()
                self._count_pending(-len(item.windows))
                continue
            if batch and (item.model is not batch[0].model or size + len(item.windows) > self.max_batch):
                break
            self._queue.popleft()
            batch.append(item)
            size += len(item.windows)
        self._count_pending(-size)
        return batch

    async def _run(self, batch: list[Pending]) -> None:
        """One onnxruntime run for the whole batch, answered request by request."""
        windows = batch[0].windows if len(batch) == 1 else np.concatenate([b.windows for b in batch])
        model = batch[0].model
        device = model.device_for(len(windows))
        started = time.perf_counter()
        try:
            if len(windows) <= INLINE_WINDOWS and not self._queue:
                forecasts = model.predict(windows, device)
            else:
                forecasts = await asyncio.get_running_loop().run_in_executor(
                    self._executor, model.predict, windows, device
                )
        except Exception as exc:  # an error reaches every caller of this batch
            log.error("inference failed for a batch of %d windows: %s", len(windows), first_line(exc))
            forecasts = InferenceFailed(f"inference failed: {first_line(exc)}")  # type: ignore[assignment]
        self._observe(batch, started, len(windows), device)
        offset = 0
        for item in batch:
            n = len(item.windows)
            if not item.future.done():
                if isinstance(forecasts, Exception):
                    item.future.set_exception(forecasts)
                else:
                    item.future.set_result(tuple(a[offset : offset + n] for a in forecasts))
            offset += n

    def _observe(self, batch: list[Pending], started: float, windows: int, device: str) -> None:
        if not self.metrics:
            return
        self.metrics.inference_seconds.labels(device).observe(time.perf_counter() - started)
        self.metrics.batch_windows.observe(windows)
        for item in batch:
            self.metrics.queue_seconds.observe(started - item.enqueued)
