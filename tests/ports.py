"""Free TCP ports for the servers tests start, so that test workers running side by side never share one."""

from __future__ import annotations

import itertools
import os
import random
import socket
from collections.abc import Iterator

BLOCK = 1000
FIRST = 20000  # below Linux's ephemeral range (32768-60999): no outgoing connection takes one of these first


def worker_block(worker: str | None) -> range:
    """The ports a pytest-xdist worker ('gw0', 'gw1', ...; None when not parallel) hands out: a block each."""
    index = int(worker[2:]) if worker and worker.startswith("gw") and worker[2:].isdigit() else 0
    start = FIRST + (index % 12) * BLOCK
    return range(start, start + BLOCK)


def shuffled(block: range) -> Iterator[int]:
    """The block's ports in a random order, over and over: no port is handed out twice in a row of BLOCK calls."""
    ports = list(block)
    random.shuffle(ports)
    return itertools.cycle(ports)


PORTS = shuffled(worker_block(os.environ.get("PYTEST_XDIST_WORKER")))


def free_port() -> int:
    """A port of this worker's block that nothing listens on now. Binding port 0 instead would let the kernel
    give two workers the same port between one's check and its server's bind; disjoint blocks cannot."""
    for port in itertools.islice(PORTS, BLOCK):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port in this test worker's block")
