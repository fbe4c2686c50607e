"""One write per response: the coalescing transport on a real socket pair, and the real server on raw sockets."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path
from typing import Any

import pytest

from service.__main__ import uvicorn_config
from service.server.transport import CoalescingTransport, HttpProtocol
from tests.service.server import running_service, wait_for


class Recording:
    """A real transport that also keeps what each write call was given."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport, self.writes = transport, []

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self.transport.write(data)

    def writelines(self, lines: tuple[bytes, ...]) -> None:
        self.writes.append(b"".join(lines))  # one call, one syscall (writev)
        self.transport.writelines(lines)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


PEERS: list[socket.socket] = []


@pytest.fixture(autouse=True)
def close_peers() -> Any:
    yield
    while PEERS:
        PEERS.pop().close()


async def socket_pair() -> tuple[CoalescingTransport, Recording, socket.socket]:
    """A coalescing transport over a real connected socket, its recorded writes, and the peer's end."""
    ours, peer = socket.socketpair()
    PEERS.append(peer)
    transport, _ = await asyncio.get_running_loop().connect_accepted_socket(asyncio.Protocol, ours)
    recording = Recording(transport)  # type: ignore[arg-type]
    peer.settimeout(5)
    return CoalescingTransport(recording, asyncio.get_running_loop()), recording, peer  # type: ignore[arg-type]


HEAD = b"HTTP/1.1 200 OK\r\n\r\n"
BODY = b'{"forecast": 1.0}'


@pytest.mark.parametrize(
    ("writes", "at_once"),
    [
        ([HEAD, BODY], [HEAD + BODY]),  # the body joins the held head: one write, straight away
        ([HEAD], []),  # nothing follows (HEAD, 204): held until the loop's next pass
    ],
)
def test_a_response_leaves_in_one_write(writes: list[bytes], at_once: list[bytes]) -> None:
    async def scenario() -> None:
        coalescing, recording, peer = await socket_pair()
        for data in writes:
            coalescing.write(data)
        assert recording.writes == at_once
        assert coalescing.get_write_buffer_size() == len(b"".join(writes)) - len(b"".join(at_once))
        await asyncio.sleep(0)  # the loop's next pass flushes whatever is still held
        assert recording.writes == [b"".join(writes)]
        assert peer.recv(100) == b"".join(writes)
        coalescing.close()

    asyncio.run(scenario())


def test_close_sends_what_is_held_and_abort_drops_it() -> None:
    async def scenario() -> None:
        coalescing, _, peer = await socket_pair()
        coalescing.write(b"last words")
        coalescing.close()
        await asyncio.sleep(0.01)
        assert peer.recv(100) == b"last words" and peer.recv(100) == b""  # then end of stream

        coalescing, recording, peer = await socket_pair()
        coalescing.write(b"never sent")
        coalescing.abort()
        await asyncio.sleep(0.01)
        assert recording.writes == [] and peer.recv(100) == b""

    asyncio.run(scenario())


def test_nothing_is_written_to_a_transport_closed_meanwhile() -> None:
    async def scenario() -> None:
        coalescing, recording, _ = await socket_pair()
        coalescing.write(b"late")
        recording.transport.close()  # the connection went away before the flush
        await asyncio.sleep(0)
        assert recording.writes == []

    asyncio.run(scenario())


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
    # HEAD: uvicorn writes the head only, so the held write must be flushed by the loop, not by a body.
    answer = raw_exchange(server_port, b"HEAD /static/app.js HTTP/1.1\r\nHost: x\r\n\r\n", b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"\r\n\r\n")


def test_the_server_speaks_through_the_coalescing_protocol() -> None:
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
            assert b'"model_version"' in used.recv(65536)
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
