"""A keep-alive HTTP/1.1 POST load generator in Python, for machines without wrk (the GPU check).

Connections are spread over several processes so that the client is not the bottleneck; each connection
sends the same request, waits for its answer, and repeats until the time is up.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Load:
    """One load run: where, what, how many connections in how many processes, for how long."""

    url: str
    body: bytes
    headers: dict[str, str]
    connections: int
    seconds: float
    processes: int = 4


def raw_request(load: Load) -> tuple[str, int, bytes]:
    """Host, port and the request's bytes."""
    parts = urlsplit(load.url)
    lines = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(load.body)}"]
    lines += [f"{k}: {v}" for k, v in load.headers.items()]
    return parts.hostname or "127.0.0.1", parts.port or 80, "\r\n".join(lines).encode() + b"\r\n\r\n" + load.body


async def one_connection(host: str, port: int, request: bytes, deadline: float) -> tuple[list[float], int]:
    """Latencies of the answers on one connection, and how many were not 200."""
    reader, writer = await asyncio.open_connection(host, port)
    latencies, errors = [], 0
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            errors += head[9:12] != b"200"
    finally:
        writer.close()
    return latencies, errors


def worker(args: tuple[str, int, bytes, int, float]) -> tuple[list[float], int, float]:
    """One process: `count` connections for `seconds` from its own start; latencies, errors, seconds run.

    Each process times itself, so that starting the processes is not counted as serving time.
    """
    host, port, request, count, seconds = args

    async def main() -> tuple[list[float], int, float]:
        started = time.perf_counter()
        deadline = started + seconds
        results = await asyncio.gather(*(one_connection(host, port, request, deadline) for _ in range(count)))
        return [x for lat, _ in results for x in lat], sum(e for _, e in results), time.perf_counter() - started

    return asyncio.run(main())


def run_load(load: Load) -> dict[str, float]:
    """requests/s, p50/p99 in ms and errors, like bench.load.run_wrk."""
    host, port, request = raw_request(load)
    processes = max(1, min(load.processes, load.connections))
    shares = [load.connections // processes + (i < load.connections % processes) for i in range(processes)]
    # spawn: the caller may hold onnxruntime threads, and forking a threaded process can deadlock
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = pool.map(worker, [(host, port, request, n, load.seconds) for n in shares])
    latencies = sorted(x for lat, _, _ in results for x in lat)
    if not latencies:
        return {"requests": 0, "rps": 0.0, "p50_ms": float("nan"), "p99_ms": float("nan"), "errors": 0}
    return {
        "requests": len(latencies),
        "rps": sum(len(lat) / seconds for lat, _, seconds in results),
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000,
        "errors": sum(e for _, e, _ in results),
    }
