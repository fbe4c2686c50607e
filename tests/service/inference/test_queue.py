"""BatchQueue: admission against max_queue, batches of one model within max_batch, answered requests dropped."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import numpy as np
import pytest

from service.errors import Overloaded
from service.inference.queue import BatchQueue, Pending
from service.model.forecaster import Forecaster

MODEL_A, MODEL_B = cast(Forecaster, object()), cast(Forecaster, object())


@pytest.fixture
def loop() -> Any:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def pending(loop: asyncio.AbstractEventLoop, n: int, model: Forecaster = MODEL_A, length: int = 60) -> Pending:
    return Pending(np.zeros((n, length), np.float32), model, loop.create_future(), 5.0)


def test_admission_counts_windows(loop: asyncio.AbstractEventLoop) -> None:
    queue = BatchQueue(max_batch=8, max_queue=10)
    queue.add(pending(loop, 6))
    queue.add(pending(loop, 4))
    with pytest.raises(Overloaded, match=r"too many windows waiting \(10 of 10\)"):
        queue.add(pending(loop, 1))
    assert queue.pending_windows == 10 and len(queue.waiting) == 2


def test_a_batch_is_one_model_oldest_first_within_max_batch(loop: asyncio.AbstractEventLoop) -> None:
    queue = BatchQueue(max_batch=8, max_queue=100)
    items = [pending(loop, 3), pending(loop, 4), pending(loop, 2), pending(loop, 1, MODEL_B)]
    for item in items:
        queue.add(item)
    assert queue.take_batch() == items[:2]  # 3 + 4; the 2 would pass max_batch
    assert queue.take_batch() == items[2:3]  # the next model's request waits for its own batch
    assert queue.take_batch() == items[3:] and queue.pending_windows == 0 and queue.idle


def test_answered_requests_are_dropped_and_drain_hands_back_the_rest(loop: asyncio.AbstractEventLoop) -> None:
    queue = BatchQueue(max_batch=8, max_queue=100)
    timed_out, waiting = pending(loop, 3), pending(loop, 2)
    timed_out.future.set_exception(TimeoutError())
    queue.add(timed_out)
    queue.add(waiting)
    queue.dispatching = True
    assert not queue.idle
    assert queue.take_batch() == [waiting] and queue.pending_windows == 0
    queue.add(pending(loop, 5))
    assert len(queue.drain()) == 1 and queue.stopping and queue.pending_windows == 0 and not queue.waiting


def test_a_batch_is_one_length_and_other_lengths_keep_their_places(loop: asyncio.AbstractEventLoop) -> None:
    queue = BatchQueue(max_batch=8, max_queue=100)
    items = [pending(loop, 2), pending(loop, 1, length=250), pending(loop, 3), pending(loop, 2, length=250)]
    items += [pending(loop, 4), pending(loop, 1, MODEL_B)]
    for item in items:
        queue.add(item)
    assert queue.take_batch() == [items[0], items[2]]  # 2 + 3 of 60 prices; the 4 would pass max_batch
    assert queue.take_batch() == [items[1], items[3]]  # the oldest waiting leads: the 250-price ones
    assert queue.take_batch() == [items[4]]
    assert queue.take_batch() == [items[5]] and queue.pending_windows == 0 and not queue.waiting
