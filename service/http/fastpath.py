"""POST /predict answered straight from ASGI, ahead of FastAPI's router: the same checks, errors and metrics,
without the routing, dependency and exception layers that cost more per request than the forecast itself.
FastAPI still routes and documents /predict; this only answers first."""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute

from service.api.rest import answer_predict
from service.errors import ServiceError, on_service_error, on_unexpected_error, on_validation_error
from service.http.middleware import ASGIApp, Receive, Scope, Send

JSON_HEADERS = (b"content-type", b"application/json")


class PredictFastPath:
    """Takes POST /predict, hands everything else to FastAPI."""

    def __init__(self, app: ASGIApp, service: Starlette, route: BaseRoute) -> None:
        self.app, self.state, self.route = app, service.state, route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/predict" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        scope["route"] = self.route  # what FastAPI would set: the metrics label is the route template
        try:
            payload = await answer_predict(self.state, scope.setdefault("state", {}), await read_body(receive))
        except Exception as exc:  # rendered exactly as FastAPI's handlers would
            return await render_error(scope, receive, send, exc)
        headers = [JSON_HEADERS, (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


async def read_body(receive: Receive) -> bytes:
    """The whole request body (BodyLimit has already buffered and capped it)."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def render_error(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
    """The app's own exception handlers, so that errors match the rest of the API."""
    request = Request(scope, receive)
    if isinstance(exc, ServiceError):
        response = await on_service_error(request, exc)
    elif isinstance(exc, RequestValidationError):
        response = await on_validation_error(request, exc)
    else:
        response = await on_unexpected_error(request, exc)
    await response(scope, receive, send)
