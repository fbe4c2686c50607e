"""The store: SQLite in WAL mode or PostgreSQL, the schema migrated once, writes one at a time."""

from __future__ import annotations

import threading
import time

from service.ledger.database import MIGRATIONS, Database


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
