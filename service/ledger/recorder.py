"""Recorder: answered forecasts wait in a bounded queue, off the request path, and a writer process of their own
takes them into the store in batches (its work never holds the server's GIL). A full queue or a store that is
slow, full or down never delays an answer: what cannot be recorded is dropped and counted, and recording
resumes by itself when the store is back."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from service.ledger import wire
from service.ledger.database import Database
from service.ledger.gathering import Gathering, gather
from service.ledger.records import Answers
from service.ledger.tally import Increments
from service.ledger.upkeep import Upkeep
from service.ledger.writer import RETRY_SECONDS

log = logging.getLogger(__name__)

MAX_BATCH = 2000  # records taken from the queue at a time (the writer writes what it finds waiting as one)
PIECE = 250  # records per message to the writer: each is framed in a fraction of a millisecond of the server's GIL
LINGER = 0.5  # seconds the queue gathers before a batch goes (flush sends at once): large batches when busy
__all__ = ["MAX_BATCH", "RETRY_SECONDS", "Recorder"]


class Recorder:
    """The queue, the thread that feeds it to the writer process and the one that reads its reports; `submit`
    never blocks, `flush` waits until what was submitted is stored (or dropped)."""

    def __init__(
        self,
        db: Database,
        capacity: int,
        written: Callable[[Increments], None],
        dropped: Callable[[str, int], None],
        adapt_step: float | None = None,
        upkeep: Callable[[Upkeep], None] | None = None,
        busiest: int = 20,
        retention_days: float = 730.0,
    ) -> None:
        self.written, self.dropped, self.upkeep, self.capacity = written, dropped, upkeep, capacity
        self.config = {"store": db.where, "adapt_step": adapt_step, "upkeep": upkeep is not None}
        self.config |= {"busiest": busiest, "retention_days": retention_days}
        self.pending: deque[Gathering] = deque()  # answers of one kind each, joined as they come
        self.queued = 0  # windows in `pending`
        self.lock = threading.Lock()  # the queue (taken by the request path: a plain lock, the cheapest)
        self.done = threading.Condition()  # what the writer has finished, for flush
        self.submitted = self.finished = self.in_flight = 0  # queued so far; written or dropped; sent, unanswered
        self.sent = 0  # handed to the writer process
        self.stopping = False
        self.wake = threading.Event()
        self.feeder = threading.Thread(target=self.feed, name="forecast-recorder", daemon=True)
        self.process: subprocess.Popen[bytes] | None = None
        self.outbox: Connection | None = None

    def start(self) -> None:
        self.feeder.start()

    def submit(self, records: Answers) -> None:
        """Queues the answered windows of one request; those that do not fit are dropped and counted (queue_full)."""
        count = len(records)
        with self.lock:
            room = max(self.capacity - self.queued, 0)
            if room:
                gather(self.pending, records if room >= count else records.head(room), PIECE)
            taken = min(room, count)
            self.queued += taken
            self.submitted += taken
        if taken < count:
            self.dropped("queue_full", count - taken)

    def flush(self, timeout: float = 5.0) -> bool:
        """Waits until every record submitted so far has been written (or dropped); False on timeout."""
        self.wake.set()
        with self.lock:
            target = self.submitted
        with self.done:
            return self.done.wait_for(lambda: self.finished >= target, timeout=timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Sends what is queued, lets the writer write it, then ends it (at shutdown nothing answered is lost)."""
        with self.lock:
            self.stopping = True
        self.wake.set()
        if self.feeder.is_alive():
            self.feeder.join(timeout=timeout)
        if self.process is not None:
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def feed(self) -> None:
        """Batches from the queue to the writer: whatever gathered in LINGER seconds, at most MAX_BATCH at a time."""
        while True:
            self.wake.wait(LINGER)
            self.wake.clear()
            with self.lock:
                taken: list[Gathering] = []
                count = 0
                while self.pending and count < MAX_BATCH:
                    taken.append(self.pending.popleft())
                    count += taken[-1].count
                self.queued -= count
                more, stopping = bool(self.pending), self.stopping
            for gathered in taken:  # one message each: the server's other threads run between them
                self.send([gathered.answers()], gathered.count)
            if more:
                self.wake.set()
            elif stopping:
                self.end_writer()
                return

    def send(self, parts: list[Answers], count: int) -> None:
        with self.done:
            self.in_flight += count
        try:
            wire.put(self.writer(), ("batch", parts))
            self.sent += count
        except (OSError, ValueError) as exc:  # no writer could be started, or it has just died
            self.account(count, "writer_lost")
            log.warning("the writer process is gone (%s): %d forecast(s) dropped and counted", exc, count)
            self.process = None

    def writer(self) -> Connection:
        """The writer process's pipe, the process started (again) when there is none."""
        if self.process is not None and self.process.poll() is None and self.outbox is not None:
            return self.outbox
        to_writer, from_writer = os.pipe(), os.pipe()
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.ledger.writer", str(to_writer[0]), str(from_writer[1])],
            pass_fds=(to_writer[0], from_writer[1]),
            env=env,
        )
        os.close(to_writer[0])
        os.close(from_writer[1])
        self.outbox = Connection(to_writer[1], readable=False)
        inbox = Connection(from_writer[0], writable=False)
        threading.Thread(target=self.read, args=(inbox,), name="forecast-recorder-reports", daemon=True).start()
        wire.put(self.outbox, self.config)
        return self.outbox

    def end_writer(self) -> None:
        if self.outbox is not None:
            with contextlib.suppress(OSError):
                wire.put(self.outbox, ("stop",))
            self.outbox.close()

    def read(self, inbox: Connection) -> None:
        """The writer's reports: what each batch did, and each upkeep; when it ends, what it had not done is lost."""
        while True:
            try:
                message: tuple[Any, ...] = wire.get(inbox)
            except (EOFError, OSError):
                break
            try:
                self.report(message)
            except Exception:  # a metric that cannot be counted must not stop the counting of the rest
                log.exception("could not count the writer's report %s", message[0])
        inbox.close()
        with self.done:
            lost = self.in_flight
        if lost:
            self.account(lost, "writer_lost")
            log.warning("the writer process ended with %d forecast(s) unwritten: dropped and counted", lost)

    def report(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "upkeep" and self.upkeep is not None:
            self.upkeep(message[1])
        elif kind == "written":
            self.written(message[2])
            self.account(message[1])
        elif kind == "dropped":
            self.account(message[1], message[2])

    def account(self, count: int, dropped: str | None = None) -> None:
        """`count` sent records are done with: written, or dropped for the reason given."""
        if dropped is not None:
            self.dropped(dropped, count)
        with self.done:
            self.in_flight -= count
            self.finished += count
            self.done.notify_all()
