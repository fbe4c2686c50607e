"""The recorder: submitting never blocks; a full queue or a store that is down drops and counts; recording
resumes by itself; flush waits for what was submitted; stopping writes what is queued."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from service.ledger.database import Database
from service.ledger.queries import scored_forecasts
from service.ledger.recorder import RETRY_SECONDS, Recorder
from service.ledger.tally import Increments
from tests.service.ledger.conftest import answers, path
from tests.store_faults import unwritable


class Counts:
    def __init__(self) -> None:
        self.dropped: Counter[str] = Counter()
        self.recorded = 0

    def written(self, increments: Increments) -> None:
        self.recorded += int(sum(v for k, v in increments.items() if k[0] == "recorded"))

    def drop(self, reason: str, count: int) -> None:
        self.dropped[reason] += count


def recorder(db: Database, capacity: int = 1000) -> tuple[Recorder, Counts]:
    counts = Counts()
    return Recorder(db, capacity, counts.written, counts.drop), counts


def test_submitted_forecasts_are_written_and_flush_waits_for_them(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "f.sqlite"))
    found, counts = recorder(db)
    found.start()
    prices = path(300)
    found.submit(answers(prices, range(60, 300)))
    assert found.flush(timeout=10) and counts.recorded == 240
    assert len(scored_forecasts(db)[0].outcome) == 239
    found.stop()
    db.close_all()


@pytest.mark.serial  # times the call: a busy neighbour would stretch its 50 ms
def test_a_full_queue_drops_and_counts_without_waiting(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "f.sqlite"))
    found, counts = recorder(db, capacity=10)  # not started: nothing takes from the queue
    prices = path(100)
    started = time.perf_counter()
    found.submit(answers(prices, range(60, 85)))
    assert time.perf_counter() - started < 0.05 and counts.dropped == {"queue_full": 15}
    found.start()
    found.stop()  # writes the ten it held
    assert counts.recorded == 10
    db.close_all()


def test_an_unwritable_store_drops_and_counts_then_recording_resumes(tmp_path: Path) -> None:
    store = tmp_path / "f.sqlite"
    db = Database(str(store))
    found, counts = recorder(db)
    found.start()
    prices = path(300)
    found.submit(answers(prices, range(60, 100)))
    assert found.flush(timeout=10) and counts.recorded == 40
    with unwritable(store):
        found.submit(answers(prices, range(100, 110)))
        assert found.flush(timeout=30)
    assert counts.dropped == {"store_error": 10} and counts.recorded == 40
    time.sleep(max(RETRY_SECONDS))  # the writer's pause after a failure
    found.submit(answers(prices, range(110, 120)))
    assert found.flush(timeout=15) and counts.recorded == 50  # back: recording resumed by itself
    found.stop()
    assert sorted(len(s.outcome) for s in scored_forecasts(db)) == [9, 39]  # days 100-109 were never recorded
    db.close_all()
