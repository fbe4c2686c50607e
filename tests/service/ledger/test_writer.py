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
from pathlib import Path

import numpy as np

from service.ledger.database import Database
from service.ledger.queries import scored_forecasts
from service.ledger.recorder import Recorder
from service.ledger.records import as_record, as_row, head_key, tail_key
from service.ledger.tally import Increments
from tests.conftest import ROOT
from tests.live_server import wait_for
from tests.service.ledger.conftest import path, record


def test_a_record_crosses_the_pipe_unchanged() -> None:
    original = record(path(100), 80, name="spx")
    back = as_record(as_row(original))
    fields = ("id", "name", "as_of", "target", "model", "created", "levels", "served", "raw", "factors")
    assert [getattr(back, f) for f in fields] == [getattr(original, f) for f in fields]
    assert np.array_equal(back.prices, original.prices) and back.last == original.last
    assert back.head == head_key(original.prices) == original.head and back.tail == tail_key(original.prices)


def test_a_server_killed_loses_nothing_it_had_sent(tmp_path: Path) -> None:
    store = tmp_path / "f.sqlite"
    script = textwrap.dedent(
        f"""
        import os, signal, time
        from service.ledger.database import Database
        from service.ledger.recorder import Recorder
        from service.ledger.records import as_row
        from tests.service.ledger.conftest import path, record
        found = Recorder(Database({str(store)!r}), 10_000, lambda i: None, lambda r, n: None)
        found.start()
        prices = path(2_000)
        found.submit([as_row(record(prices, t)) for t in range(60, 2_000)])
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
    found.submit([as_row(record(prices, t)) for t in range(60, 200)])
    assert found.flush(timeout=20) and sum(recorded) == 140
    first = found.process
    assert first is not None
    assert os.sched_getscheduler(first.pid) == os.SCHED_IDLE  # CPU only when the server leaves some
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    found.submit([as_row(record(prices, t)) for t in range(200, 400)])
    assert found.flush(timeout=20)
    assert found.process is not None and found.process.pid != first.pid  # a new writer
    assert sum(recorded) + dropped["writer_lost"] == 340 and sum(recorded) >= 140
    found.stop()
    assert found.process.returncode == 0
    db.close_all()
