"""The Batcher under random load: many producers, mixed sizes, deadlines, a raising model, a reload mid-flight."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pytest

from service.errors import InferenceFailed, Overloaded, ServiceError, TimedOut
from service.inference.batching import Batcher
from service.model.forecaster import Forecaster

POISON = 97  # a batch holding a window tagged with a multiple of this makes the model raise


@dataclass
class TaggedModel:
    """A stand-in model whose answer names its window and itself: each window's last value is a unique tag, and
    the forecast is tag + offset. Any window lost, duplicated, mixed up or run by the other model shows."""

    offset: float
    delay_s: float
    runs: list[int] = field(default_factory=list)

    def device_for(self, batch: int) -> str:
        return "cpu"

    def predict(self, windows: np.ndarray, device: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        time.sleep(self.delay_s)  # onnxruntime releases the GIL; sleeping does too
        tags = windows[:, -1].astype(np.int64)
        self.runs.append(len(windows))
        if np.any(tags % POISON == 0):
            raise RuntimeError("poisoned batch")
        forecast = (tags + self.offset).astype(np.float64)[:, None]  # (n, 1)
        return forecast, np.stack([forecast - 1, forecast, forecast + 1], axis=-1)  # (n, 1, 3)


@dataclass
class Request:
    model: TaggedModel
    tags: np.ndarray
    timeout_s: float


def window_block(tags: np.ndarray) -> np.ndarray:
    """(n, 60) float32 windows whose last price is the tag (tags stay below 2**24: exact in float32)."""
    block = np.full((len(tags), 60), 100.0, dtype=np.float32)
    block[:, -1] = tags
    return block


async def produce(batcher: Batcher, rng: random.Random, models: list[TaggedModel], first_tag: int) -> list[Any]:
    """One producer: 30 requests of 1-20 windows, some with a deadline too short to be met, some pauses;
    the second model replaces the first halfway (a reload: requests already queued keep theirs)."""
    outcomes: list[Any] = []
    for i in range(30):
        model = models[0] if i < 15 else models[1]
        tags = np.arange(first_tag + 20 * i, first_tag + 20 * i + rng.randint(1, 20))
        request = Request(model, tags, 0.001 if rng.random() < 0.1 else 5.0)
        try:
            got: Any = await batcher.submit(cast(Forecaster, model), window_block(tags), request.timeout_s)
        except ServiceError as exc:
            got = exc
        outcomes.append((request, got))
        if rng.random() < 0.3:
            await asyncio.sleep(rng.random() * 0.003)
    return outcomes


def check(request: Request, got: Any) -> str:
    """What happened to one request; fails the test if its answer is not its own."""
    poisoned = bool(np.any(request.tags % POISON == 0))
    if isinstance(got, (TimedOut, Overloaded)):
        return type(got).__name__
    if isinstance(got, InferenceFailed):
        return "failed"  # its batch held a poisoned window, its own or another request's
    assert not poisoned, f"a poisoned request was answered: {request.tags}"
    forecast, quantiles = got
    want = request.tags.astype(np.float64) + request.model.offset
    np.testing.assert_array_equal(forecast[:, 0], want)
    np.testing.assert_array_equal(quantiles[:, 0, 1], want)
    return "answered"


async def stress(batcher: Batcher, seed: int) -> dict[str, int]:
    loop = asyncio.get_running_loop()
    errors: list[Any] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    models = [TaggedModel(0.0, 0.0005), TaggedModel(0.5, 0.001)]
    rng = random.Random(seed)
    producers = [produce(batcher, random.Random(rng.random()), models, 1000 * p + 1) for p in range(40)]
    results = await asyncio.wait_for(asyncio.gather(*producers), timeout=60)  # a lost request hangs here
    counts: dict[str, int] = {}
    for request, got in (pair for outcomes in results for pair in outcomes):
        outcome = check(request, got)
        counts[outcome] = counts.get(outcome, 0) + 1
    assert not errors, f"callbacks raised on the event loop (a future resolved twice?): {errors[:3]}"
    with batcher.queue.lock:
        assert batcher.queue.pending_windows == 0 and not batcher.queue.waiting
    final = await batcher.submit(cast(Forecaster, models[1]), window_block(np.array([5.0])), 5)
    assert final[0][0, 0] == 5.5  # the inference thread is still alive
    return counts


@pytest.mark.parametrize("wait_s", [0.0, 0.002])
def test_under_random_load_every_request_gets_its_own_answer_exactly_once(wait_s: float) -> None:
    seen: dict[str, int] = {}
    for seed in range(10):  # 20 runs in all: 10 seeds for each wait_s
        batcher = Batcher(max_batch=32, wait_s=wait_s, max_queue=600)

        async def main(batcher: Batcher = batcher, seed: int = seed) -> dict[str, int]:
            batcher.start()
            try:
                return await stress(batcher, seed)
            finally:
                await batcher.stop()

        for outcome, n in asyncio.run(main()).items():
            seen[outcome] = seen.get(outcome, 0) + n
    assert sum(seen.values()) == 20 * 40 * 30 // 2
    # The random load did reach every outcome it is built to reach
    assert {"answered", "failed", "TimedOut"} <= set(seen), seen


def test_a_queue_of_only_timed_out_requests_does_not_stop_the_thread() -> None:
    model = TaggedModel(0.0, 0.2)

    async def scenario(batcher: Batcher) -> tuple[Any, ...]:
        slow = asyncio.ensure_future(batcher.submit(cast(Forecaster, model), window_block(np.array([1.0, 2.0])), 5))
        await asyncio.sleep(0.05)  # the thread is inside the slow run now
        with pytest.raises(TimedOut):
            await batcher.submit(cast(Forecaster, model), window_block(np.array([3.0, 4.0])), 0.01)
        await slow  # the thread finishes, then finds only the timed-out request queued
        return await asyncio.wait_for(batcher.submit(cast(Forecaster, model), window_block(np.array([5.0, 6.0])), 5), 3)

    async def main() -> tuple[Any, ...]:
        batcher = Batcher(max_batch=32, wait_s=0.0, max_queue=600)
        batcher.start()
        try:
            return await scenario(batcher)
        finally:
            await batcher.stop()

    forecast, _ = asyncio.run(main())
    assert forecast[:, 0].tolist() == [5.0, 6.0]
    assert model.runs == [2, 2]  # the timed-out request never ran
