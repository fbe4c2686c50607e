"""HttpProtocol: uvicorn's httptools protocol, answering a request that arrives as shutdown begins."""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

SHUTDOWN_GRACE_S = 0.5  # how long an idle connection may still send a request once shutdown has begun


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, that does not reset a request sent as shutdown began."""

    draining = False

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
