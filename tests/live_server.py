"""Runs the real service (`python -m service`) as a subprocess on a free port, for integration tests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import numpy as np

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[1]


def wait_for(check: Callable[[], bool], timeout: float = 30.0, interval: float = 0.05) -> bool:
    """Polls `check` until it is true or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except httpx.HTTPError:
            pass
        time.sleep(interval)
    return False


@contextmanager
def running_service(
    registry: Path, args: tuple[str, ...] = (), **env: str
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Starts the service (with command-line `args`), waits for /health/live, yields (base URL, process);
    SIGTERM must exit 0. A --port in `args` is the port used."""
    port = int(args[args.index("--port") + 1]) if "--port" in args else free_port()
    environ = {
        **os.environ,
        "FORECAST_MODEL_DIR": str(registry),
        "FORECAST_PORT": str(port),
        "FORECAST_INTRA_OP_THREADS": "1",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    # A file, not a pipe: a full pipe would block the server's logging.
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service", *args],
            cwd=ROOT,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            if not wait_for(lambda: proc.poll() is None and httpx.get(f"{base}/health/live").status_code == 200):
                raise AssertionError(f"service did not come up:\n{read_log(log)}")
            proc.log_text = lambda: read_log(log, 1_000_000)  # type: ignore[attr-defined]
            yield base, proc
        finally:
            stop(proc, log)


@contextmanager
def serving_copy(registry: Path, where: Path) -> Iterator[str]:
    """A copy of a registry (without its lock file) served with polling off; yields the base URL."""
    copy = where / "registry"
    shutil.copytree(registry, copy, ignore=shutil.ignore_patterns(".lock"))
    with running_service(copy, FORECAST_RELOAD_SECONDS="0") as (base, _):
        yield base


def read_log(log: IO[str], limit: int = 5000) -> str:
    log.flush()
    log.seek(0)
    text = log.read()[-limit:]
    log.seek(0, 2)
    return text


def stop(proc: subprocess.Popen[str], log: IO[str]) -> None:
    """SIGTERM, then the exit code must be 0 within the grace period."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"no exit 30 s after SIGTERM:\n{read_log(log)}") from None
    assert code == 0, f"exit code {code} after SIGTERM:\n{read_log(log)}"


class Burst:
    """POST bodies to /predict all at once, each from its own connection made up front, so that every one is in
    flight together even on a slow, traced test run."""

    def __init__(self, base: str, bodies: list[dict]) -> None:
        self.base, self.results = base, []
        self.clients = [httpx.Client(timeout=60) for _ in bodies]
        self.barrier = threading.Barrier(len(bodies))
        self.threads = [
            threading.Thread(target=self.send, args=pair) for pair in zip(self.clients, bodies, strict=True)
        ]

    def send(self, client: httpx.Client, body: dict) -> None:
        self.barrier.wait()
        self.results.append(client.post(f"{self.base}/predict", json=body).status_code)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> list[int]:
        """Waits for every answer; the status codes."""
        for thread in self.threads:
            thread.join(timeout=60)
        for client in self.clients:
            client.close()
        return self.results


def window(seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return (1400 * np.exp(np.cumsum(rng.normal(0, 0.01, 60)))).round(2).tolist()


def point_current(registry: Path, version: str) -> None:
    tmp = registry / ".CURRENT.tmp"
    tmp.write_text(version + "\n")
    os.replace(tmp, registry / "CURRENT")


WINDOW = [round(1300 + 5 * np.sin(i / 4) + i, 2) for i in range(60)]  # one 60-price window any model takes
