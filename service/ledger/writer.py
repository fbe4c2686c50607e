"""The writer process: records the batches of answered forecasts its server process sends over a pipe, reports
what each write did, and keeps the store up once a minute. A process of its own, so that its work never holds the
server's GIL; it ends when told to, or when its server is gone (after writing all it was sent)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

from service import collector
from service.ledger import wire
from service.ledger.database import Database
from service.ledger.matching import record_batch
from service.ledger.records import Answers
from service.ledger.tally import OTHER, tally_written
from service.ledger.upkeep import upkeep

log = logging.getLogger("service.ledger.writer")

RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)  # waits after failed writes, then every 5 s until the store answers
UPKEEP_SECONDS = 60.0
WRITE_BATCH = 2000  # forecasts per transaction at most: a busy service writes few, large transactions
NICE = 19  # where SCHED_IDLE is not available: the lowest CPU priority


class Writer:
    """One store, written batch by batch; a failed write drops its batch (counted by the server) and pauses."""

    def __init__(self, config: dict[str, Any], outbox: Connection) -> None:
        self.config, self.outbox = config, outbox
        self.db = Database(config["store"])
        self.failures = 0
        self.last_upkeep = -float("inf")
        self.named: frozenset[str] = frozenset()  # the series the metrics name, from the last upkeep

    def label(self, series: str) -> str:
        return series if series in self.named else OTHER

    def write(self, parts: list[Answers]) -> None:
        rows = [row for part in parts for row in part.rows()]
        try:
            written = record_batch(self.db, rows, self.config["adapt_step"])
            self.failures = 0
        except Exception as exc:  # sqlite3/psycopg errors, a full disk, a read-only file: the store is down
            self.db.forget()
            wire.put(self.outbox, ("dropped", len(rows), "store_error"))
            self.failures += 1
            log.warning("recording %d forecast(s) failed, dropped and counted: %s", len(rows), exc)
            time.sleep(RETRY_SECONDS[min(self.failures, len(RETRY_SECONDS)) - 1])
            return
        wire.put(self.outbox, ("written", len(rows), tally_written(written, self.label)))

    def keep_up(self) -> None:
        """Upkeep when it is due (and the server shows its gauges); the next round when the store is down."""
        if time.monotonic() - self.last_upkeep < UPKEEP_SECONDS:
            return
        self.last_upkeep = time.monotonic()
        try:
            found = upkeep(self.db, self.config["busiest"], self.config["retention_days"])
            self.named = frozenset(found.named)
            if self.config["upkeep"]:
                wire.put(self.outbox, ("upkeep", found))
        except (BrokenPipeError, EOFError):
            raise
        except Exception as exc:
            self.db.forget()
            log.warning("ledger upkeep failed: %s", exc)


def serve(inbox: Connection, outbox: Connection) -> None:
    """Batches until "stop" or the end of the pipe (the server is gone: all it sent is written first)."""
    writer = Writer(wire.get(inbox), outbox)
    try:
        while True:
            writer.keep_up()
            if not inbox.poll(1.0):
                continue
            parts, more = waiting(inbox)
            if parts:
                writer.write(parts)
            if not more:
                return
    except BrokenPipeError:
        return
    finally:
        writer.db.close_all()


def waiting(inbox: Connection) -> tuple[list[Answers], bool]:
    """The batches waiting in the pipe, up to WRITE_BATCH forecasts, to write as one; False when the server has
    said stop, or is gone, after them."""
    parts: list[Answers] = []
    count = 0
    try:
        while count < WRITE_BATCH and (not parts or inbox.poll(0)):
            message = wire.get(inbox)
            if message[0] == "stop":
                return parts, False
            parts += message[1]
            count += sum(len(part) for part in message[1])
    except EOFError:
        return parts, False
    return parts, True


def background() -> None:
    """CPU only when the server leaves some (Linux SCHED_IDLE; else the lowest nice): a batch can wait in the queue,
    an answer should not wait for a core."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(NICE)


def main(argv: list[str]) -> None:
    # Ctrl+C and a SIGTERM to the process group reach this process too: the server says when to stop, after
    # sending what it holds, and the end of the pipe says it if the server is killed.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    background()
    collector.settle()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(Connection(int(argv[1]), writable=False), Connection(int(argv[2]), readable=False))


if __name__ == "__main__":
    main(sys.argv)
