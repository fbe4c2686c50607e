"""The listening socket, bound before anything heavy starts so that a taken port fails at once, clearly."""

from __future__ import annotations

import errno
import logging
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)
# Linux spreads the connections of a SO_REUSEPORT group over its listeners by hash; elsewhere it does not.
REUSE_PORT = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
CLAIM = "lstm-forecast serves port"  # abstract unix socket names: "<CLAIM> <port> <host>"
WILDCARDS = {"0.0.0.0", "::"}
claims: list[socket.socket] = []  # held open for as long as this process serves


class ListenError(Exception):
    """The address cannot be listened on; the message names the setting to change."""


SOURCES = {"host": "FORECAST_HOST", "port": "FORECAST_PORT"}  # where host and port come from, for messages


def bind_listener(host: str, port: int, group: bool = False, sources: Mapping[str, str] = SOURCES) -> socket.socket:
    """A TCP socket bound to host:port and listening, as uvicorn would bind it (SO_REUSEADDR). With group (Linux),
    it only holds the address for a SO_REUSEPORT group of worker listeners: bound, not listening (WorkerSockets)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        if group and REUSE_PORT:
            check_free(family, host, port)  # SO_REUSEPORT alone would let a second group share the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        claim_address(sock)
        if not (group and REUSE_PORT):
            sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ListenError(describe_bind_error(exc, host, port, sources)) from None
    sock.set_inheritable(True)
    return sock


def check_free(family: socket.AddressFamily, host: str, port: int) -> None:
    """Raises OSError (EADDRINUSE) when a server, of any kind, already listens on host:port."""
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def claim_address(sock: socket.socket) -> None:
    """Linux: holds an abstract unix socket named after `sock`'s address while this process lives; OSError
    (EADDRINUSE) when another instance of the service already holds an address that overlaps it.

    A worker group's address is held by a socket that is bound and does not listen, and until its workers listen
    neither check_free nor the kernel would stop a second instance from taking the port meanwhile.
    """
    if not sys.platform.startswith("linux"):
        return
    host, port = sock.getsockname()[:2]
    if any(host == other or {host, other} & WILDCARDS for other in claimed_hosts(port)):
        raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))
    claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        claim.bind(f"\0{CLAIM} {port} {host}")  # atomic: two instances on the same address cannot both get here
    except OSError as exc:
        claim.close()
        raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE)) from exc
    claims.append(claim)


def claimed_hosts(port: int) -> list[str]:
    """The hosts other instances of the service hold `port` on (from this network namespace's unix sockets)."""
    prefix = f"@{CLAIM} {port} "
    try:
        rows = Path("/proc/net/unix").read_text().splitlines()
    except OSError:  # no /proc: the exact-address claim still stands
        return []
    return [row.split(prefix, 1)[1] for row in rows if prefix in row]


class WorkerSockets(list[socket.socket]):
    """What each worker serves: the supervisor's listener, or on Linux a listener of the worker's own.

    On one shared socket, whichever worker wakes first accepts a whole burst of connections (22 and 42 of 64
    here). Unpickled in a spawned worker, this list becomes a listener of the worker's own on the same address
    with SO_REUSEPORT, and the kernel spreads new connections over the workers by hash. The supervisor's socket
    then only holds the address (bind_listener with group).
    """

    def __reduce__(self) -> tuple[object, tuple[list[socket.socket]]]:
        return worker_sockets, (list(self),)


def worker_sockets(inherited: list[socket.socket]) -> list[socket.socket]:
    """In a worker: its own SO_REUSEPORT listener, or the inherited listener when the group cannot be joined."""
    held = inherited[0]
    if not (REUSE_PORT and held.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)):
        return inherited  # the supervisor's socket already listens: share it
    own = socket.socket(held.family, socket.SOCK_STREAM)
    try:
        own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        own.bind(held.getsockname()[:2])
        own.listen(2048)
    except OSError as exc:
        own.close()
        log.warning("no listener of this worker's own (%s); accepting on the shared socket", exc)
        held.listen(2048)
        return inherited
    return [own]


def note_request_migration(path: Path = Path("/proc/sys/net/ipv4/tcp_migrate_req")) -> None:
    """Logs, when it is so, that the kernel will not move the connections waiting on a replaced worker's listener
    to the other workers (Linux 5.14+: net.ipv4.tcp_migrate_req); they are reset instead."""
    try:
        setting = path.read_text().strip()
    except OSError:  # not Linux, or a kernel without it
        return
    if setting == "0":
        log.info(
            "connections waiting to be accepted by a worker that is replaced (SIGHUP, a crash) are reset; "
            "sysctl net.ipv4.tcp_migrate_req=1 has the kernel hand them to the other workers"
        )


def describe_bind_error(exc: OSError, host: str, port: int, sources: Mapping[str, str] = SOURCES) -> str:
    """One line saying why host:port cannot be bound and what to change: the flag or the FORECAST_* variable,
    whichever gave the value."""
    port_from, host_from = sources["port"], sources["host"]
    if exc.errno == errno.EADDRINUSE:
        held = f"port {port} on {host} is already in use (another server holds it)"
        return f"{held}; stop it or set {port_from} to a free port"
    if exc.errno == errno.EACCES:
        return f"no permission to listen on port {port}; set {port_from} to 1024 or above"
    if exc.errno in (errno.EADDRNOTAVAIL, socket.EAI_NONAME) or isinstance(exc, socket.gaierror):
        return f"cannot listen on {host!r}: not an address of this machine; check {host_from}"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}; check {host_from} and {port_from}"
