"""The ledger's database: SQLite in WAL mode (embedded, the default) or PostgreSQL (several processes, replicas or
pods), one connection per thread, writes serialised across processes, and versioned schema migrations."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

POSTGRES = ("postgresql://", "postgres://")
WRITE_LOCK = 48_151_623  # the advisory lock every PostgreSQL writer takes: one writer at a time, as in SQLite
BUSY_MS = 5_000  # how long a SQLite writer waits for another process's transaction
CHECKPOINT_PAGES = 4_000  # WAL pages (16 MB) between checkpoints: a page written often is copied back once

# Each entry moves the schema one version up; a database records the versions it has, so each runs once.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE forecasts (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        chain TEXT NOT NULL,
        as_of TEXT,
        target TEXT,
        model TEXT NOT NULL,
        created DOUBLE NOT NULL,
        head BLOB NOT NULL,
        tail BLOB NOT NULL,
        prices BLOB NOT NULL,
        last DOUBLE NOT NULL,
        levels BLOB NOT NULL,
        served BLOB NOT NULL,
        raw BLOB NOT NULL,
        factors TEXT,
        outcome DOUBLE,
        source TEXT,
        scored DOUBLE,
        UNIQUE (tail, name, model)
    );
    CREATE INDEX forecasts_head ON forecasts (head);
    CREATE INDEX forecasts_chain ON forecasts (chain);
    CREATE INDEX forecasts_target ON forecasts (name, target);
    CREATE TABLE adaptive (
        chain TEXT NOT NULL,
        model TEXT NOT NULL,
        band TEXT NOT NULL,
        theta DOUBLE NOT NULL,
        updated DOUBLE NOT NULL,
        PRIMARY KEY (chain, model, band)
    );
    """,
    # One index grown at random places per write instead of two: the newest prices, with the series name only (a
    # write checks the model itself, under the write lock); the prices before the last only for the forecasts
    # recorded before the one they follow (`orphan`), the only ones a later write looks up that way; the days only
    # of forecasts that have one. `raw` is NULL where the answer was not adapted (as served).
    """
    CREATE TABLE forecasts_next (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        chain TEXT NOT NULL,
        as_of TEXT,
        target TEXT,
        model TEXT NOT NULL,
        created DOUBLE NOT NULL,
        head BLOB NOT NULL,
        tail BLOB NOT NULL,
        prices BLOB NOT NULL,
        last DOUBLE NOT NULL,
        levels BLOB NOT NULL,
        served BLOB NOT NULL,
        raw BLOB,
        factors TEXT,
        outcome DOUBLE,
        source TEXT,
        scored DOUBLE,
        orphan INTEGER NOT NULL
    );
    INSERT INTO forecasts_next SELECT f.*, CASE WHEN EXISTS (SELECT 1 FROM forecasts p WHERE p.tail = f.head AND
        p.name = f.name) THEN 0 ELSE 1 END FROM forecasts f;
    DROP TABLE forecasts;
    ALTER TABLE forecasts_next RENAME TO forecasts;
    CREATE INDEX forecasts_tail ON forecasts (tail, name);
    CREATE INDEX forecasts_orphans ON forecasts (head) WHERE orphan = 1;
    CREATE INDEX forecasts_chain ON forecasts (chain);
    CREATE INDEX forecasts_target ON forecasts (name, target) WHERE target IS NOT NULL;
    """,
)


class StoreError(Exception):
    """The store cannot be opened or written; the caller counts what it could not record."""


class Database:
    """Where the ledger lives: a SQLite file or a PostgreSQL URL, with one connection per thread."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.postgres = where.startswith(POSTGRES)
        self.local = threading.local()
        self.opened: list[Any] = []  # every thread's connection, to close them all at the end
        self.lock = threading.Lock()

    def describe(self) -> str:
        """The store for logs and /model: the path, or the URL without its password."""
        return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", self.where)

    def sql(self, text: str) -> str:
        """SQLite's dialect as written here, in PostgreSQL's where they differ."""
        if not self.postgres:
            return text
        return text.replace("?", "%s").replace("BLOB", "BYTEA").replace("DOUBLE", "DOUBLE PRECISION")

    def connection(self) -> Any:
        """This thread's connection, opened (and the schema migrated) on first use."""
        found = getattr(self.local, "connection", None)
        if found is None:
            found = self.open()
            self.local.connection = found
            with self.lock:
                self.opened.append(found)
        return found

    def open(self) -> Any:
        connection: Any
        try:
            if self.postgres:
                import psycopg  # only where a PostgreSQL store is configured

                connection = psycopg.connect(self.where, autocommit=True, connect_timeout=5)
            else:
                Path(self.where).parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(
                    self.where, isolation_level=None, timeout=BUSY_MS / 1000, check_same_thread=False
                )
                wal(connection)  # readers never wait for the writer
                connection.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; a crash loses no commit
                connection.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
        except Exception as exc:  # sqlite3.Error, psycopg.Error, OSError: all mean the store is not there
            raise StoreError(f"cannot open the store {self.describe()}: {exc}") from exc
        migrate(self, connection)
        return connection

    def forget(self) -> None:
        """Drops this thread's connection (after an error), so that the next use reconnects."""
        found = getattr(self.local, "connection", None)
        self.local.connection = None
        if found is not None:
            self.close(found)

    def close(self, connection: Any) -> None:
        with self.lock:
            if connection in self.opened:
                self.opened.remove(connection)
        with contextlib.suppress(Exception):  # a broken connection may fail to close: it is gone either way
            connection.close()

    def close_all(self) -> None:
        """Closes every thread's connection (at shutdown); a later use in any thread opens a new one."""
        with self.lock:
            found, self.opened = self.opened, []
        for connection in found:
            with contextlib.suppress(Exception):
                connection.close()
        self.local = threading.local()

    @contextmanager
    def writing(self) -> Iterator[Any]:
        """A transaction that holds the store's one write lock (across processes), committed or rolled back."""
        connection = self.connection()
        connection.execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")
        try:
            if self.postgres:
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def execute(self, connection: Any, text: str, params: Sequence[Any] = ()) -> list[tuple]:
        """One statement; its rows (empty for a statement that returns none)."""
        cursor = connection.execute(self.sql(text), tuple(params))
        return list(cursor.fetchall()) if cursor.description else []

    def execute_many(self, connection: Any, text: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            connection.cursor().executemany(self.sql(text), [tuple(r) for r in rows])


def wal(connection: sqlite3.Connection) -> None:
    """WAL mode; another process creating the same file at once may hold it locked a moment (no busy wait
    applies to this pragma), so try again for BUSY_MS."""
    deadline = time.monotonic() + BUSY_MS / 1000
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def migrate(database: Database, connection: Any) -> None:
    """Brings the schema up to the newest version, once, under the write lock."""
    connection.execute("BEGIN" if database.postgres else "BEGIN IMMEDIATE")
    try:
        if database.postgres:
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        done = {row[0] for row in connection.execute("SELECT version FROM schema_version").fetchall()}
        for version, script in enumerate(MIGRATIONS, start=1):
            if version in done:
                continue
            for statement in filter(str.strip, script.split(";")):
                connection.execute(database.sql(statement))
            connection.execute(database.sql("INSERT INTO schema_version (version) VALUES (?)"), (version,))
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
