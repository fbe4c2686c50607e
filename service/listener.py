"""The listening socket, bound before anything heavy starts so that a taken port fails at once, clearly."""

from __future__ import annotations

import errno
import socket


class ListenError(Exception):
    """The address cannot be listened on; the message names the setting to change."""


def bind_listener(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port and listening, as uvicorn would bind it (SO_REUSEADDR)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ListenError(describe_bind_error(exc, host, port)) from None
    sock.set_inheritable(True)
    return sock


def describe_bind_error(exc: OSError, host: str, port: int) -> str:
    """One line saying why host:port cannot be bound and which FORECAST_* setting to change."""
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use (another server is listening there); stop it or set "
            "FORECAST_PORT to a free port"
        )
    if exc.errno == errno.EACCES:
        return f"no permission to listen on port {port}; set FORECAST_PORT to 1024 or above"
    if exc.errno in (errno.EADDRNOTAVAIL, socket.EAI_NONAME) or isinstance(exc, socket.gaierror):
        return f"cannot listen on {host!r}: not an address of this machine; check FORECAST_HOST"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}; check FORECAST_HOST and FORECAST_PORT"
