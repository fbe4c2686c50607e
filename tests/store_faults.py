"""A SQLite store made unwritable under a running writer: immutable files where the tests run as root (chmod does
not stop root), else held by another connection's exclusive transaction (the writer's lock wait runs out)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def unwritable(store: Path) -> Iterator[None]:
    """Writes to the SQLite file `store` fail while inside; they work again after."""
    if os.geteuid() == 0:
        files = [p for p in (store, store.with_name(store.name + "-wal")) if p.exists()]  # never -shm: it is mapped
        subprocess.run(["chattr", "+i", *map(str, files)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", *map(str, files)], check=True)
        return
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()
