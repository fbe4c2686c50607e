"""Test ports: each worker's block is its own, and a port handed out is one a server can bind."""

from __future__ import annotations

import socket

from tests.ports import BLOCK, free_port, worker_block


def test_the_workers_blocks_do_not_overlap_and_stay_below_the_ephemeral_range() -> None:
    blocks = [set(worker_block(f"gw{i}")) for i in range(4)]
    assert all(len(b) == BLOCK for b in blocks)
    assert len(set().union(*blocks)) == 4 * BLOCK
    assert worker_block(None) == worker_block("gw0")
    assert max(max(b) for b in blocks) < 32768


def test_a_port_handed_out_can_be_bound_and_the_next_one_differs() -> None:
    first, second = free_port(), free_port()
    assert first != second
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", first))


def test_a_port_in_use_is_not_handed_out() -> None:
    taken = []
    try:
        for _ in range(BLOCK // 2):  # hold half the block: what is handed out next must be of the other half
            sock = socket.socket()
            sock.bind(("127.0.0.1", free_port()))
            sock.listen()
            taken.append(sock)
        held = {s.getsockname()[1] for s in taken}
        assert len(held) == BLOCK // 2
        assert free_port() not in held
    finally:
        for sock in taken:
            sock.close()
