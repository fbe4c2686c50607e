"""Recorder: answered forecasts go into a bounded queue, off the request path, and one writer thread takes them
into the store in batches. A full queue or a store that is slow, full or down never delays an answer: what
cannot be recorded is dropped and counted, and recording resumes by itself when the store is back."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from service.ledger.database import Database
from service.ledger.matching import Written, record_batch
from service.ledger.records import ForecastRecord

log = logging.getLogger(__name__)

MAX_BATCH = 1000  # records per transaction: a busy service writes few, large transactions
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)  # waits after failed writes, then every 5 s until the store answers
HOUSEKEEPING_SECONDS = 60.0  # how often the writer refreshes the metrics' series and applies retention


class Recorder:
    """The queue and its writer thread; `submit` never blocks, `flush` waits until what was submitted is stored."""

    def __init__(
        self,
        db: Database,
        capacity: int,
        written: Callable[[Written], None],
        dropped: Callable[[str, int], None],
        adapt_step: float | None = None,
        housekeeping: Callable[[], None] | None = None,
    ) -> None:
        self.db, self.written, self.dropped, self.adapt_step = db, written, dropped, adapt_step
        self.housekeeping = housekeeping
        self.queue: queue.Queue[ForecastRecord | None] = queue.Queue(maxsize=capacity)
        self.done = threading.Condition()
        self.submitted = self.finished = 0  # records handed to the queue, and records the writer is done with
        self.thread = threading.Thread(target=self.run, name="forecast-recorder", daemon=True)
        self.failures = 0

    def start(self) -> None:
        self.thread.start()

    def submit(self, records: list[ForecastRecord]) -> None:
        """Queues the records of one answer; those that do not fit are dropped and counted (queue_full)."""
        for i, record in enumerate(records):
            try:
                self.queue.put_nowait(record)
            except queue.Full:
                self.dropped("queue_full", len(records) - i)
                return
            with self.done:
                self.submitted += 1

    def flush(self, timeout: float = 5.0) -> bool:
        """Waits until every record submitted so far has been written (or dropped); False on timeout."""
        with self.done:
            target = self.submitted
            return self.done.wait_for(lambda: self.finished >= target, timeout=timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Writes what is queued, then ends the writer (at shutdown: nothing answered is left unrecorded)."""
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join(timeout=timeout)

    def run(self) -> None:
        last_housekeeping = 0.0
        while True:
            batch, stopping = self.take()
            if batch:
                self.write(batch)
            if self.housekeeping is not None and time.monotonic() - last_housekeeping > HOUSEKEEPING_SECONDS:
                last_housekeeping = time.monotonic()
                self.keep_house()
            if stopping:
                return

    def take(self) -> tuple[list[ForecastRecord], bool]:
        """The next batch: whatever is queued now (up to MAX_BATCH), waiting up to a second for the first."""
        batch: list[ForecastRecord] = []
        try:
            first = self.queue.get(timeout=1.0)
        except queue.Empty:
            return batch, False
        if first is None:
            return batch, True
        batch.append(first)
        while len(batch) < MAX_BATCH:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def write(self, batch: list[ForecastRecord]) -> None:
        try:
            self.written(record_batch(self.db, batch, self.adapt_step))
            self.failures = 0
        except Exception as exc:  # sqlite3/psycopg errors, a full disk, a read-only file: the store is down
            self.db.forget()
            self.dropped("store_error", len(batch))
            self.failures += 1
            log.warning("recording %d forecast(s) failed, dropped and counted: %s", len(batch), exc)
            time.sleep(RETRY_SECONDS[min(self.failures, len(RETRY_SECONDS)) - 1])
        with self.done:
            self.finished += len(batch)
            self.done.notify_all()

    def keep_house(self) -> None:
        try:
            assert self.housekeeping is not None
            self.housekeeping()
        except Exception as exc:  # housekeeping waits for the next round when the store is down
            self.db.forget()
            log.warning("ledger housekeeping failed: %s", exc)
