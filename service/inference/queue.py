"""BatchQueue: the state the event loop and the inference thread share, under one lock."""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from service.errors import Overloaded
from service.model.forecaster import Forecaster

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


@dataclass
class BatchQueue:
    """Every field the two sides share; read or change them only while holding `wake` (its lock is `lock`).

    - waiting: requests not taken yet, oldest first; pending_windows counts their windows.
    - running: the batch the inference thread runs now ([] when it runs none).
    - dispatching: the event loop has a dispatch scheduled for requests that arrived while nothing ran.
    - inline: the event loop runs a lone window itself; the thread starts no run meanwhile.
    - stopping: stop() has begun; nothing is taken any more and whatever waits gets an error.
    """

    max_batch: int
    max_queue: int
    waiting: collections.deque[Pending] = field(default_factory=collections.deque)
    running: list[Pending] = field(default_factory=list)
    pending_windows: int = 0
    dispatching: bool = False
    inline: bool = False
    stopping: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    wake: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.wake = threading.Condition(self.lock)

    @property
    def idle(self) -> bool:
        """Nothing runs and no dispatch is scheduled: a new request must schedule one."""
        return not (self.running or self.dispatching)

    def add(self, item: Pending) -> None:
        """Queues a request, or raises Overloaded (503) when its windows would pass max_queue."""
        n = len(item.windows)
        if self.pending_windows + n > self.max_queue:
            raise Overloaded(
                f"too many windows waiting ({self.pending_windows} of {self.max_queue}); retry shortly",
                headers={"Retry-After": "1"},
            )
        self.waiting.append(item)
        self.pending_windows += n

    def pop(self) -> Pending:
        """The oldest request, taken off the queue."""
        item = self.waiting.popleft()
        self.pending_windows -= len(item.windows)
        return item

    def take_batch(self) -> list[Pending]:
        """Oldest requests first, all for the same model and of the oldest one's window length, at most
        max_batch windows; those already answered (timed out or cancelled while queued) are dropped on the way.
        Requests of other lengths keep their places for the next batch, which the oldest of them leads."""
        batch: list[Pending] = []
        other: list[Pending] = []
        size = 0
        while self.waiting:
            item = self.waiting[0]
            if item.future.done():
                self.pop()
                continue
            if batch and item.windows.shape[1:] != batch[0].windows.shape[1:] and item.model is batch[0].model:
                other.append(self.waiting.popleft())
                continue
            if batch and (item.model is not batch[0].model or size + len(item.windows) > self.max_batch):
                break
            batch.append(self.pop())
            size += len(item.windows)
        self.waiting.extendleft(reversed(other))
        return batch

    def drain(self) -> list[Pending]:
        """Stops taking anything: every waiting request, handed back to be answered with an error."""
        self.stopping = True
        drained = list(self.waiting)
        self.waiting.clear()
        self.pending_windows = 0
        return drained
