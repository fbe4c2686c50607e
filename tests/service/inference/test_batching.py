"""The Batcher without HTTP: gathering, limits, overload, timeouts, errors reaching every caller."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest

from service.errors import InferenceFailed, InvalidInput, Overloaded, TimedOut
from service.inference.batching import Batcher
from service.metrics import ServiceMetrics
from service.model.forecaster import Forecaster, load_forecaster
from service.model.sessions import SessionConfig
from tests.service.conftest import load, window_array


@pytest.fixture(scope="module")
def model(model_pair: tuple[Path, str, str]) -> Forecaster:
    registry, _, version = model_pair
    return load_forecaster(registry / version, version, SessionConfig("cpu", 1))


T = TypeVar("T")


def windows(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (1000 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, 60)), axis=1))).astype(np.float32)


def run(batcher: Batcher, scenario: Callable[[Batcher], Awaitable[T]]) -> T:
    """Runs `scenario` against a started batcher in a fresh event loop; the batcher is stopped afterwards."""

    async def main() -> T:
        batcher.start()
        try:
            return await scenario(batcher)
        finally:
            await batcher.stop()

    return asyncio.run(main())


def batch_count(metrics: ServiceMetrics) -> tuple[float, float]:
    """(number of runs, windows run) from the batch-size histogram."""
    samples = {s.name: s.value for s in metrics.batch_windows.collect()[0].samples}
    return samples["forecast_batch_size_windows_count"], samples["forecast_batch_size_windows_sum"]


def test_concurrent_requests_share_one_run_and_get_their_own_answers(model: Forecaster) -> None:
    metrics = ServiceMetrics()
    x = windows(32)
    expected = model.predict(x)

    async def scenario(batcher: Batcher) -> list[np.ndarray]:
        return await asyncio.gather(*(batcher.submit(model, x[i : i + 1], 5) for i in range(32)))

    answers = run(Batcher(max_batch=1024, wait_s=0.05, max_queue=4096, metrics=metrics), scenario)
    np.testing.assert_allclose(np.concatenate([a[0] for a in answers]), expected[0], rtol=1e-6)
    runs, total = batch_count(metrics)
    assert total == 32 and runs < 32  # gathered: fewer onnxruntime runs than requests


def test_batches_never_exceed_max_batch(model: Forecaster) -> None:
    metrics = ServiceMetrics()

    async def scenario(batcher: Batcher) -> list[np.ndarray]:
        return await asyncio.gather(*(batcher.submit(model, windows(3, i), 5) for i in range(10)))

    answers = run(Batcher(max_batch=8, wait_s=0.05, max_queue=4096, metrics=metrics), scenario)
    assert [len(a[0]) for a in answers] == [3] * 10
    buckets = {
        s.labels["le"]: s.value for s in metrics.batch_windows.collect()[0].samples if s.name.endswith("_bucket")
    }
    assert buckets["8.0"] == buckets["+Inf"]  # every run had at most 8 windows


def test_full_queue_answers_overloaded(model: Forecaster) -> None:
    async def scenario(batcher: Batcher) -> None:
        first = asyncio.ensure_future(batcher.submit(model, windows(4), 5))
        await asyncio.sleep(0)
        with pytest.raises(Overloaded, match="too many windows waiting") as info:
            await batcher.submit(model, windows(1), 5)
        assert info.value.headers == {"Retry-After": "1"}
        assert len((await first)[0]) == 4

    run(Batcher(max_batch=4, wait_s=0.5, max_queue=4), scenario)


def test_waiting_too_long_times_out_and_is_dropped(model: Forecaster) -> None:
    async def scenario(batcher: Batcher) -> None:
        with pytest.raises(TimedOut, match="no forecast within 50 ms"):
            await batcher.submit(model, windows(1), 0.05)
        assert len((await batcher.submit(model, windows(2), 5))[0]) == 2
        assert batcher.pending_windows == 0

    run(Batcher(max_batch=100, wait_s=0.3, max_queue=100), scenario)


def test_an_inference_error_reaches_every_caller_of_the_batch(model: Forecaster) -> None:
    async def scenario(batcher: Batcher) -> None:
        bad = windows(1)[:, :, None].repeat(2, axis=2)  # onnxruntime rejects the rank inside the run
        results = await asyncio.gather(
            batcher.submit(model, bad, 5), batcher.submit(model, bad, 5), return_exceptions=True
        )
        assert all(isinstance(r, InferenceFailed) for r in results)
        assert len((await batcher.submit(model, windows(1), 5))[0]) == 1  # the batcher lives on

    run(Batcher(max_batch=100, wait_s=0.05, max_queue=100), scenario)


def test_requests_for_different_models_are_not_mixed(model_pair: tuple[Path, str, str]) -> None:
    registry, first, second = model_pair
    old = load_forecaster(registry / first, first, SessionConfig("cpu", 1))
    new = load_forecaster(registry / second, second, SessionConfig("cpu", 1))
    x = windows(2)

    async def scenario(batcher: Batcher) -> list[np.ndarray]:
        return await asyncio.gather(batcher.submit(old, x[:1], 5), batcher.submit(new, x[1:], 5))

    a, b = run(Batcher(max_batch=100, wait_s=0.05, max_queue=100), scenario)
    np.testing.assert_allclose(a[0], old.predict(x[:1])[0], rtol=1e-6)
    np.testing.assert_allclose(b[0], new.predict(x[1:])[0], rtol=1e-6)


def test_the_batcher_refuses_a_batch_past_max_batch_whoever_submits_it(model: Forecaster) -> None:
    async def scenario(batcher: Batcher) -> None:
        with pytest.raises(InvalidInput, match=r"5 windows in one request; send 1 to 4 \(FORECAST_MAX_BATCH\)"):
            await batcher.submit(model, windows(5), 5)
        with pytest.raises(InvalidInput, match="0 windows in one request"):
            await batcher.submit(model, windows(0), 5)
        forecasts, _ = await batcher.submit(model, windows(4), 5)
        assert forecasts.shape == (4, 1)

    run(Batcher(max_batch=4, wait_s=0.0, max_queue=64), scenario)


def test_the_thread_runs_queued_batches_back_to_back_while_the_event_loop_is_busy(model: Forecaster) -> None:
    metrics = ServiceMetrics()

    async def scenario(batcher: Batcher) -> float:
        pending = [asyncio.ensure_future(batcher.submit(model, windows(64, seed), 5)) for seed in (0, 1)]
        await asyncio.sleep(0)  # both queued; max_batch 64 makes them two runs
        time.sleep(1.0)  # the event loop hands nothing over while it is blocked
        runs_while_blocked = batch_count(metrics)[0]
        await asyncio.gather(*pending)
        return runs_while_blocked

    assert run(Batcher(max_batch=64, wait_s=0.0, max_queue=1024, metrics=metrics), scenario) == 2


def test_the_pending_gauge_returns_to_zero(model: Forecaster) -> None:
    metrics = ServiceMetrics()

    async def scenario(batcher: Batcher) -> None:
        await batcher.submit(model, windows(1), 5)  # alone: run on the event loop
        await asyncio.gather(*(batcher.submit(model, windows(1, i), 5) for i in range(8)))  # on the thread

    run(Batcher(max_batch=64, wait_s=0.0, max_queue=1024, metrics=metrics), scenario)
    assert metrics.pending_windows.collect()[0].samples[0].value == 0
    assert batch_count(metrics)[1] == 9


def test_stopping_fails_what_is_still_queued_instead_of_leaving_it_hanging(model: Forecaster) -> None:
    async def scenario(batcher: Batcher) -> None:
        running = asyncio.ensure_future(batcher.submit(model, windows(64), 5))
        queued = asyncio.ensure_future(batcher.submit(model, windows(64, 1), 5))
        await asyncio.sleep(0)
        await batcher.stop()
        results = await asyncio.wait_for(asyncio.gather(running, queued, return_exceptions=True), 5)
        assert isinstance(results[1], InferenceFailed) and "shutting down" in str(results[1])

    run(Batcher(max_batch=64, wait_s=0.0, max_queue=1024), scenario)


@pytest.mark.parametrize("nice", [0, 10])
def test_the_inference_thread_is_nicer_than_the_event_loop(model: Forecaster, nice: int) -> None:
    async def scenario(batcher: Batcher) -> int:
        await asyncio.gather(*(batcher.submit(model, windows(1, i), 5) for i in range(4)))  # the thread has run
        thread = next(t for t in threading.enumerate() if t.name == "inference")
        return os.getpriority(os.PRIO_PROCESS, thread.native_id or 0)

    loop_priority = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    thread_priority = run(Batcher(max_batch=64, wait_s=0.0, max_queue=1024, nice=nice), scenario)
    assert thread_priority == min(19, loop_priority + nice)


def test_the_batcher_labels_each_run_with_its_device(fake_gpu: None, model_pair: tuple[Path, str, str]) -> None:
    registry, _, version = model_pair
    gpu = load(registry, version)
    metrics = ServiceMetrics()

    async def scenario() -> None:
        batcher = Batcher(max_batch=128, wait_s=0.0, max_queue=1024, metrics=metrics)
        batcher.start()
        try:
            await batcher.submit(gpu, window_array(1), 5)
            await batcher.submit(gpu, window_array(64), 5)
            await batcher.submit(gpu, window_array(2), 5)
        finally:
            await batcher.stop()

    asyncio.run(scenario())
    counts = {
        s.labels["device"]: s.value for s in metrics.inference_seconds.collect()[0].samples if s.name.endswith("_count")
    }
    assert counts == {"cpu": 2.0, "cuda": 1.0}
