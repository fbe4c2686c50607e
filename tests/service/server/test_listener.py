"""The listening socket: bound before the model loads, a taken port refused at once, a listener per worker."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from service.server.listener import note_request_migration
from tests.live_server import ROOT, free_port, running_service, wait_for, window
from tests.service.test_main import run_service
from tests.workers.test_workers import worker_cards, worker_versions


def in_use(port: int | str) -> str:
    """The one line a service refused for a taken port prints."""
    return (
        f"error: port {port} on 127.0.0.1 is already in use (another server holds it); stop it or "
        "set FORECAST_PORT to a free port"
    )


@pytest.mark.parametrize(("running", "starting"), [("1", "1"), ("2", "2"), ("1", "2")])
def test_port_in_use_exits_2_before_loading_the_model(
    registry_copy: tuple[Path, str, str], running: str, starting: str
) -> None:
    # Workers listen as a SO_REUSEPORT group; a second group on the same port must be refused all the same.
    registry, _, _ = registry_copy
    with running_service(registry, FORECAST_WORKERS=running) as (base, _):
        port = base.rsplit(":", 1)[1]
        result = run_service(registry, FORECAST_PORT=port, FORECAST_WORKERS=starting)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [in_use(port)]
    assert "model " not in result.stderr and "Traceback" not in result.stderr  # refused before any load


@pytest.mark.parametrize(("held", "starting"), [("127.0.0.1", "1"), ("127.0.0.1", "2"), ("0.0.0.0", "2")])
def test_a_port_held_by_workers_not_yet_listening_is_refused(
    registry_copy: tuple[Path, str, str], held: str, starting: str
) -> None:
    # A worker group's supervisor binds the port and leaves listening to its workers, which takes a second or
    # two: the kernel would let a second instance bind and listen meanwhile. The helper holds a port that way.
    registry, _, _ = registry_copy
    port = free_port()
    hold = (
        f"from service.server.listener import bind_listener; s = bind_listener({held!r}, {port}, True); "
        "print(1); input()"
    )
    with subprocess.Popen(
        [sys.executable, "-c", hold], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout and holder.stdout.readline() == "1\n"
            result = run_service(registry, FORECAST_PORT=str(port), FORECAST_WORKERS=starting)
        finally:
            holder.kill()
    assert result.returncode == 2, result.stderr[-500:]
    assert in_use(port) in result.stderr.splitlines()


def listeners(port: int) -> int:
    """TCP sockets in LISTEN state on this port (Linux's /proc/net/tcp: state 0A)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for row in rows if int(row.split()[1].split(":")[1], 16) == port and row.split()[3] == "0A")


def test_each_worker_listens_on_its_own_socket_and_connections_spread(registry_copy: tuple[Path, str, str]) -> None:
    registry, _, _ = registry_copy
    with running_service(registry, FORECAST_WORKERS="2") as (base, _):
        assert wait_for(lambda: httpx.get(f"{base}/health/ready").status_code == 200)
        assert listeners(int(base.rsplit(":", 1)[1])) == 2  # one per worker; the supervisor's only holds the port
        clients = [httpx.Client() for _ in range(24)]  # 24 connections open at once, each hashed to a worker
        try:
            pids = [client.get(f"{base}/model").json()["worker_pid"] for client in clients]
        finally:
            for client in clients:
                client.close()
        assert len(set(pids)) == 2 and min(pids.count(p) for p in set(pids)) >= 3, pids


def test_a_replaced_worker_listens_again(registry_copy: tuple[Path, str, str]) -> None:
    # A worker's listener dies with it; the one uvicorn's supervisor starts in its place must bind its own.
    registry, _, _ = registry_copy
    with running_service(registry, FORECAST_WORKERS="2") as (base, _):
        assert wait_for(lambda: httpx.get(f"{base}/health/ready").status_code == 200)
        port = int(base.rsplit(":", 1)[1])
        first = worker_versions(base)
        os.kill(next(iter(first)), signal.SIGKILL)
        assert wait_for(lambda: listeners(port) == 2 and len(worker_cards(base, tries=20).keys() - first) == 1)
        for i in range(10):
            assert httpx.post(f"{base}/predict", json={"window": window(i)}).status_code == 200


@pytest.mark.parametrize(("setting", "logged"), [("0\n", True), ("1\n", False), (None, False)])
def test_the_start_says_when_a_replaced_workers_waiting_connections_would_be_reset(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, setting: str | None, logged: bool
) -> None:
    # Measured: SIGHUP 3 times under 16 clients connecting per request reset 15 requests with the setting at 0,
    # none at 1. A kernel without the setting (no file) says nothing.
    sysctl = tmp_path / "tcp_migrate_req"
    if setting is not None:
        sysctl.write_text(setting)
    with caplog.at_level(logging.INFO, logger="service.server.listener"):
        note_request_migration(sysctl)
    assert ("net.ipv4.tcp_migrate_req=1" in caplog.text) is logged
