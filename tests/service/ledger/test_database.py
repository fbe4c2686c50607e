"""The store: SQLite in WAL mode or PostgreSQL, the schema migrated once, writes one at a time."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from service.ledger import database as database_module
from service.ledger.database import MIGRATIONS, Database
from service.ledger.matching import Batch, insert_values, record_batch
from service.ledger.queries import scored_forecasts
from tests.service.ledger.conftest import path, record


def test_the_schema_is_migrated_once_and_its_version_recorded(database: Database) -> None:
    connection = database.connection()
    versions = database.execute(connection, "SELECT version FROM schema_version")
    assert [v for (v,) in versions] == list(range(1, len(MIGRATIONS) + 1))
    again = Database(database.where)  # another process's connection: nothing runs twice
    assert database.execute(again.connection(), "SELECT COUNT(*) FROM schema_version") == [(len(MIGRATIONS),)]
    again.close_all()


def test_sqlite_runs_in_wal_mode(tmp_path: object) -> None:
    db = Database(str(tmp_path / "f.sqlite"))  # type: ignore[operator]
    assert db.execute(db.connection(), "PRAGMA journal_mode") == [("wal",)]
    db.close_all()


def test_a_postgres_url_is_shown_without_its_password() -> None:
    db = Database("postgresql://forecast:s3cret@db.internal:5432/forecasts")
    assert db.postgres and db.describe() == "postgresql://forecast:***@db.internal:5432/forecasts"
    assert Database("/data/forecasts.sqlite").describe() == "/data/forecasts.sqlite"


def test_writers_take_turns(database: Database) -> None:
    """Two writers (threads here, processes or pods in production) never interleave their transactions."""
    events: list[str] = []

    def writer(name: str) -> None:
        with database.writing():
            events.append(f"{name} in")
            time.sleep(0.2)
            events.append(f"{name} out")
        database.forget()

    threads = [threading.Thread(target=writer, args=(n,)) for n in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert events in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])


def test_a_store_of_the_first_schema_keeps_its_forecasts_and_goes_on_matching(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = path(200)
    monkeypatch.setattr(database_module, "MIGRATIONS", MIGRATIONS[:1])
    batch = Batch([])
    for row in [record(prices, t) for t in range(60, 100)]:
        batch.record(row)
    columns = "id, name, chain, as_of, target, model, created, head, tail, prices, last, levels, served, raw, "
    columns += "factors, outcome, source, scored"
    marks = ", ".join("?" * 18)
    with database.writing() as connection:
        insert = f"INSERT INTO forecasts ({columns}) VALUES ({marks})"
        rows = [(row, insert_values(row)) for row in batch.rows]
        first = [(*values[:13], row.served, *values[14:18]) for row, values in rows]  # it kept raw quantiles always
        database.execute_many(connection, insert, first)
    database.close_all()
    monkeypatch.undo()
    again = Database(database.where)
    versions = again.execute(again.connection(), "SELECT version FROM schema_version ORDER BY version")
    assert [v for (v,) in versions] == list(range(1, len(MIGRATIONS) + 1))
    assert again.execute(again.connection(), "SELECT COUNT(*) FROM forecasts WHERE orphan = 1") == [(1,)]
    record_batch(again, [record(prices, t) for t in range(100, 120)], None)
    (found,) = scored_forecasts(again)
    assert len(found.outcome) == 59 and np.array_equal(found.outcome, prices[60:119].astype(np.float64))
    again.close_all()
