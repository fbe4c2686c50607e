"""Pure ASGI middleware: body cap and content type; request ids, a JSON log line and metrics per request."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route

from service.errors import error_body
from service.http.logs import log_access
from service.metrics import ServiceMetrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Sends a complete JSON response from middleware, rendered byte for byte as the app's JSONResponse is."""
    payload = JSONResponse(body).body
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a request header (lower-case name), or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return value
    return None


def is_json(content_type: bytes | None) -> bool:
    """application/json or any +json type, parameters (charset) allowed."""
    if content_type is None:
        return False
    mime = content_type.split(b";")[0].strip().lower()
    return mime == b"application/json" or (mime.startswith(b"application/") and mime.endswith(b"+json"))


def new_request_id() -> str:
    """32 random hex digits. Ids must be unique, not secret: the urandom-seeded Mersenne Twister gives them
    without the getrandom syscall per request that os.urandom costs."""
    return f"{random.getrandbits(128):032x}"


BUFFERED_BODY = "body"  # the scope state key under which BodyLimit leaves the body it read


class BodyLimit:
    """Reads POST bodies up front: over max_bytes -> 413, not JSON -> 415; the app gets the buffered body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        state = scope.setdefault("state", {})
        length = header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            state["failure"] = "too_large"
            return await send_json(send, 413, self.too_large())
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                state["failure"] = "too_large"
                return await send_json(send, 413, self.too_large())
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        # The inference protocol's binary extension sends octet-stream bodies, often with no content type.
        if size and not is_json(header(scope, b"content-type")) and not scope["path"].startswith("/v2/"):
            state["failure"] = "unsupported_media_type"
            return await send_json(
                send,
                415,
                error_body(
                    "unsupported_media_type",
                    "send the body as JSON with 'Content-Type: application/json'",
                ),
            )
        body = state[BUFFERED_BODY] = b"".join(chunks)  # the /predict fast path takes it from here
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    def too_large(self) -> dict[str, object]:
        return error_body(
            "too_large",
            f"request body is larger than {self.max_bytes} bytes "
            "(FORECAST_MAX_BODY_BYTES); send fewer windows per request",
        )


class HeadAsGet:
    """HEAD answered as GET without the body, as RFC 9110 asks of every server (FastAPI routes GET alone).

    The app sees a copy of the request with GET; uvicorn keeps its own, with HEAD, and drops the body.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)
        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, send)
        finally:
            if "route" in as_get:  # the route template the router found, for the metrics label
                scope["route"] = as_get["route"]


class RouteLabels:
    """The route template of a path the router never saw: a request answered before routing (413, 415), a
    plain Starlette route (/openapi.json) or a mount (/static/...). Anything else is 'unmatched'."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        self.fixed = {r.path for r in routes if isinstance(r, Route) and "{" not in r.path}
        self.mounts = [r.path for r in routes if isinstance(r, Mount)]  # routes: the app's and its routers', flat

    def __call__(self, path: str) -> str:
        if path in self.fixed:
            return path
        mount = next((m for m in self.mounts if path.startswith(m + "/")), None)
        return f"{mount}/{{path}}" if mount else "unmatched"


class RequestObserver:
    """Request id in and out, one access-log line, request count and latency by route template."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, labels: Callable[[str], str] | None = None) -> None:
        self.app, self.metrics = app, metrics
        self.labels = labels or (lambda _: "unmatched")
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}  # label children, bound once

    def series(self, route: str, method: str, status: int) -> tuple[Any, Any]:
        """The request counter and latency histogram children for these labels (labels() costs a lock)."""
        key = (route, method, status)
        if key not in self._series:
            m = self.metrics
            self._series[key] = (m.requests.labels(route, method, str(status)), m.request_seconds.labels(route))
        return self._series[key]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        given = header(scope, b"x-request-id")
        request_id = given.decode() if given and REQUEST_ID.match(given.decode("latin-1")) else new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.record(scope, state, status, time.perf_counter() - started)

    def record(self, scope: Scope, state: dict[str, Any], status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", None) or self.labels(scope["path"])  # templates: bounded
        method = scope["method"] if scope["method"] in METHODS else "other"  # bounded label values
        count, latency = self.series(route, method, status)
        count.inc()
        latency.observe(seconds)
        if status >= 400:
            self.metrics.failures.labels(state.get("failure", f"http_{status}")).inc()
        log_access(
            (
                time.time(),
                state["request_id"],
                scope["method"],
                scope["path"],
                status,
                round(seconds * 1000, 3),
                state.get("batch_size"),
                state.get("model_version"),
            )
        )
