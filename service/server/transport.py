"""HttpProtocol: uvicorn's httptools protocol, sending a response's head and body in one write."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

SHUTDOWN_GRACE_S = 0.5  # how long an idle connection may still send a request once shutdown has begun


class CoalescingTransport:
    """A transport whose writes are held until the next write or the end of the loop iteration.

    uvicorn writes a response's head and its body separately, and uvloop sends each at once: two syscalls and
    two TCP segments per response (the second cost about 7% of the event loop's time per request here).
    Holding the first write until the second joins it sends one; a write with nothing after it (an empty body)
    leaves in the loop's next pass. Everything else is the wrapped transport's.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport, self._loop = transport, loop
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._held is None:
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
            return
        held, self._held = self._held, None
        self._transport.writelines((held, data))  # one writev; the body is not copied into a new buffer

    def writelines(self, lines: Any) -> None:
        self.write(b"".join(lines))

    def flush(self) -> None:
        """Sends what is held; dropped when the connection closed meanwhile (the peer would not read it)."""
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + len(self._held or b"")

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a CoalescingTransport, that does not reset a request sent as shutdown began."""

    draining = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]

    def shutdown(self) -> None:
        """uvicorn closes a connection with no request in progress at once; a request its client sent meanwhile
        (just connected, or reusing the connection) is then reset, unread. Such a connection may still send one
        for SHUTDOWN_GRACE_S, answered with Connection: close."""
        self.draining = True
        if self.cycle is None or self.cycle.response_complete:
            self.loop.call_later(SHUTDOWN_GRACE_S, self.close_if_idle)
        else:
            self.cycle.keep_alive = False

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self.draining and self.cycle is not None:
            self.cycle.keep_alive = False  # its response says Connection: close, and the connection closes

    def close_if_idle(self) -> None:
        if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
            self.transport.close()
