"""POST /predict answered straight from ASGI, ahead of FastAPI's router: the same checks, errors and metrics,
without the routing, dependency and exception layers that cost more per request than the forecast itself.
FastAPI still routes and documents /predict; this only answers first."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute

from service.api.rest import answer_predict
from service.errors import render_error
from service.http.middleware import BUFFERED_BODY, ASGIApp, Receive, Scope, Send

JSON_HEADERS = (b"content-type", b"application/json")


class PredictFastPath:
    """Takes POST /predict, hands everything else to FastAPI. Sits inside BodyLimit (app.outer_layers), which has
    read the body once and left it in the request state."""

    def __init__(self, app: ASGIApp, service: Starlette, route: BaseRoute) -> None:
        self.app, self.state, self.route = app, service.state, route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/predict" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        scope["route"] = self.route  # what FastAPI would set: the metrics label is the route template
        state = scope["state"]
        try:
            payload = await answer_predict(self.state, state, state[BUFFERED_BODY])
        except Exception as exc:  # the app's own renderer, so that errors match every other route
            response = await render_error(Request(scope, receive), exc)
            return await response(scope, receive, send)
        headers = [JSON_HEADERS, (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
