"""The writer process: records cross the pipe unchanged (keys included); a server killed with kill -9 loses
nothing it had sent (the writer writes it all, then ends); the writer runs at idle priority; a writer killed is
counted and replaced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from service.ledger import wire
from service.ledger.database import Database
from service.ledger.queries import scored_forecasts
from service.ledger.recorder import Recorder
from service.ledger.records import head_key, tail_key
from service.ledger.tally import Increments
from service.ledger.writer import waiting
from tests.conftest import ROOT
from tests.live_server import wait_for
from tests.service.ledger.conftest import answers, path


def test_answers_make_the_same_rows_on_either_side_of_the_pipe() -> None:
    prices = path(100)
    sent = answers(prices, range(60, 90), name="spx")
    (back,) = wire.batch_answers(memoryview(wire.batch_frame([sent])))
    rows, there = sent.rows(), back.rows()
    assert there == rows and len(rows) == 30
    assert rows[-1].head == head_key(prices[29:89]) and rows[-1].tail == tail_key(prices[29:89])
    assert rows[-1].last == float(prices[88]) and np.array_equal(np.frombuffer(rows[-1].prices, "<f4"), prices[29:89])


def test_a_server_killed_loses_nothing_it_had_sent(tmp_path: Path) -> None:
    store = tmp_path / "f.sqlite"
    script = textwrap.dedent(
        f"""
        import os, signal, time
        from service.ledger.database import Database
        from service.ledger.recorder import Recorder
        from tests.service.ledger.conftest import answers, path
        found = Recorder(Database({str(store)!r}), 10_000, lambda i: None, lambda r, n: None)
        found.start()
        prices = path(2_000)
        found.submit(answers(prices, range(60, 2_000)))
        while found.sent < 1_940:  # everything handed to the writer, nothing of it waited for
            time.sleep(0.001)
        print(found.process.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    writer = int(done.stdout.split()[0])
    assert wait_for(lambda: not Path(f"/proc/{writer}").exists(), timeout=30)  # it ends by itself
    db = Database(str(store))
    (series,) = scored_forecasts(db)
    assert len(series.outcome) == 1_939  # all 1,940 windows recorded, every one but the newest scored
    db.close_all()


def test_a_killed_writer_is_counted_and_replaced(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "f.sqlite"))
    dropped: Counter[str] = Counter()
    recorded = []

    def written(increments: Increments) -> None:
        recorded.append(sum(v for k, v in increments.items() if k[0] == "recorded"))

    found = Recorder(db, 10_000, written, lambda reason, n: dropped.update({reason: n}))
    found.start()
    prices = path(400)
    found.submit(answers(prices, range(60, 200)))
    assert found.flush(timeout=20) and sum(recorded) == 140
    first = found.process
    assert first is not None
    assert os.sched_getscheduler(first.pid) == os.SCHED_IDLE  # CPU only when the server leaves some
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    found.submit(answers(prices, range(200, 400)))
    assert found.flush(timeout=20)
    assert found.process is not None and found.process.pid != first.pid  # a new writer
    assert sum(recorded) + dropped["writer_lost"] == 340 and sum(recorded) >= 140
    found.stop()
    assert found.process.returncode == 0
    db.close_all()


def test_the_writer_writes_what_is_waiting_as_one_and_stops_after_it() -> None:
    read, write = os.pipe()
    inbox, outbox = Connection(read, writable=False), Connection(write, readable=False)
    prices = path(400)
    sent = [answers(prices, range(start, start + 10)) for start in range(60, 100, 10)]  # all fit in the pipe
    for part in sent:
        wire.put(outbox, ("batch", [part]))
    wire.put(outbox, ("stop",))
    parts, more = waiting(inbox)
    assert [p.ids for p in parts] == [p.ids for p in sent] and not more
    wire.put(outbox, ("batch", sent[:2]))
    wire.put(outbox, ("batch", sent[2:]))
    parts, more = waiting(inbox)
    assert len(parts) == 4 and more  # nothing more waiting: the writer writes these and waits for the next
    outbox.close()
    assert waiting(inbox) == ([], False)  # the server is gone
    inbox.close()
