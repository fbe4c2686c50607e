"""Starts a server process on a free loopback port, waits until it is ready, reports its memory."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_pids(pid: int) -> list[int]:
    """The direct children of a process (the service's workers)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(x) for x in (task / "children").read_text().split()]
    return found


def wait_ready(url: str, timeout: float = 120.0) -> float:
    """Seconds until GET url answers 200."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.01)
    raise RuntimeError(f"{url} not ready after {timeout} s")


@contextmanager
def server(
    argv: list[str] | Callable[[int], list[str]], ready_path: str, env: dict[str, str] | None = None
) -> Iterator[dict]:
    """Runs `argv` (or argv(port)) with PORT in the environment; yields {"url", "pid", "ready_s"}."""
    port = free_port()
    argv = argv(port) if callable(argv) else argv
    environ = {
        **os.environ,
        "PORT": str(port),
        "FORECAST_PORT": str(port),
        "FORECAST_LOG_LEVEL": "warning",
        **(env or {}),
    }
    started = time.perf_counter()
    # Its own process group: peers spawn worker processes, and every one of them must be gone before the
    # next server is measured (a LitServe worker left polling once took CPU from every later run).
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + ready_path)
        yield {"url": base, "pid": proc.pid, "ready_s": time.perf_counter() - started}
    finally:
        stop_group(proc)


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's whole process group, then SIGKILL to whatever is left of it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    deadline = time.monotonic() + 10
    while group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def group_alive(pgid: int) -> bool:
    """Whether any process of this group still exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def service_argv() -> list[str]:
    return [sys.executable, "-m", "service"]
