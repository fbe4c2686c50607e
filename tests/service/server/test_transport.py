"""The real server on raw sockets: HEAD, Expect: 100-continue, pipelining, and requests sent as shutdown begins."""

from __future__ import annotations

import signal
import socket
from pathlib import Path
from typing import Any

import pytest

from service.__main__ import uvicorn_config
from service.server.transport import HttpProtocol
from tests.live_server import running_service, wait_for


def raw_exchange(port: int, request: bytes, until: bytes, times: int = 1) -> bytes:
    """Sends raw bytes on one connection and reads until `until` has arrived `times` times (5 s at most)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request)
        received = b""
        while received.count(until) < times:
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


@pytest.fixture(scope="module")
def server_port(tmp_path_factory: pytest.TempPathFactory, model_pair: tuple[Path, str, str]) -> Any:
    registry, _, _ = model_pair
    with running_service(registry) as (base, _):
        yield int(base.rsplit(":", 1)[1])


def test_a_response_without_a_body_arrives(server_port: int) -> None:
    answer = raw_exchange(server_port, b"HEAD /static/app.js HTTP/1.1\r\nHost: x\r\n\r\n", b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"\r\n\r\n")


def test_the_server_speaks_through_the_shutdown_safe_protocol() -> None:
    assert uvicorn_config(object()).http is HttpProtocol
    assert uvicorn_config("service.app:worker_app", factory=True, workers=2).http is HttpProtocol


BODY = b'{"window": [' + b", ".join(str(100 + i).encode() for i in range(60)) + b"]}"
HEAD = f"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(BODY)}\r\n"
PREDICT = HEAD.encode() + b"\r\n" + BODY  # one whole single-window request


def test_expect_100_continue_and_pipelined_predicts(server_port: int) -> None:
    with socket.create_connection(("127.0.0.1", server_port), timeout=5) as conn:
        conn.sendall(HEAD.encode() + b"Expect: 100-continue\r\n\r\n")
        assert conn.recv(65536).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        conn.sendall(BODY)
        received = b""
        while b'"model_version"' not in received:
            received += conn.recv(65536)
    assert received.count(b"HTTP/1.1 200 OK") == 1
    pipelined = raw_exchange(server_port, PREDICT * 2, b'"model_version"', times=2)
    assert pipelined.startswith(b"HTTP/1.1 200 OK\r\n") and pipelined.count(b"HTTP/1.1 200 OK\r\n") == 2


def read_to_close(conn: socket.socket) -> bytes:
    received = b""
    while chunk := conn.recv(65536):
        received += chunk
    return received


def read_until(conn: socket.socket, marker: bytes) -> bytes:
    received = b""
    while marker not in received and (chunk := conn.recv(65536)):
        received += chunk
    return received


def test_a_request_sent_as_shutdown_begins_is_answered(model_pair: tuple[Path, str, str]) -> None:
    # uvicorn closes a connection with no request in progress as soon as shutdown begins, and a request on its
    # way there was reset: on a fresh connection, and on one reused after an answer, both sent after SIGTERM.
    registry, _, _ = model_pair
    with running_service(registry) as (base, proc):
        address = ("127.0.0.1", int(base.rsplit(":", 1)[1]))
        with (
            socket.create_connection(address, timeout=5) as fresh,
            socket.create_connection(address, timeout=5) as used,
        ):
            used.sendall(PREDICT)
            assert b'"model_version"' in read_until(used, b'"model_version"')  # head and body may come apart
            proc.send_signal(signal.SIGTERM)
            # uvicorn logs this line just before it shuts the connections down
            assert wait_for(lambda: "Shutting down" in proc.log_text(), timeout=10, interval=0.01)  # type: ignore[attr-defined]
            for conn in (fresh, used):
                conn.sendall(PREDICT)
            answers = [read_to_close(conn) for conn in (fresh, used)]
        assert proc.wait(timeout=30) == 0
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and b"connection: close\r\n" in answer.lower(), answer[:300]
        assert answer.endswith(b"}")
