"""A real PostgreSQL server for the tests that need one: initdb in a temporary directory, started on a free
loopback port, as the unprivileged `postgres` user where the tests run as root (the server refuses root)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.ports import free_port


def binaries() -> Path:
    """The directory of initdb and pg_ctl: Debian keeps them out of PATH (/usr/lib/postgresql/<major>/bin)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    assert versions, "PostgreSQL is not installed: apt-get install postgresql (its initdb and pg_ctl are needed)"
    return Path(versions[-1]).parent


def as_server_user(command: list[str]) -> list[str]:
    """The command as the `postgres` user when this process is root; as is otherwise."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Postgres:
    """One running server: its URL, and stop()/start() to take it down and bring it back mid-test."""

    def __init__(self, data: Path, port: int) -> None:
        self.data, self.port, self.bin = data, port, binaries()
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), *args]
        subprocess.run(as_server_user(command), check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.data}"
        self.pg_ctl("start", "-w", "-l", str(self.data / "server.log"), "-o", options)

    def stop(self) -> None:
        self.pg_ctl("stop", "-w", "-m", "fast")

    def wait_ready(self, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise AssertionError(
            f"PostgreSQL did not listen on {self.port}: {(self.data / 'server.log').read_text()[-2000:]}"
        )


@contextmanager
def running_postgres() -> Iterator[Postgres]:
    """A fresh cluster (trust authentication on loopback), started, and removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="pg-test-"))
    data = root / "data"
    if os.geteuid() == 0:  # the server's own files belong to its user
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    server = Postgres(data, free_port())
    initdb = [str(server.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]
    subprocess.run(as_server_user(initdb), check=True, capture_output=True, timeout=120)
    server.start()
    server.wait_ready()
    try:
        yield server
    finally:
        subprocess.run(
            as_server_user([str(server.bin / "pg_ctl"), "-D", str(data), "stop", "-m", "immediate"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
