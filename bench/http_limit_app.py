"""The HTTP limit of this stack: a raw ASGI app on the same uvicorn (uvloop, httptools) that parses the body
with orjson and echoes the last price. No framework, no validation, no inference. It runs on the service's own
uvicorn protocol, as the floor does.
Run: PORT=8003 python -m bench.http_limit_app
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
import uvicorn

from service.server.transport import HttpProtocol

Message = MutableMapping[str, Any]
READY = orjson.dumps({"status": "ready"})


async def read_body(receive: Callable[[], Awaitable[Message]]) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def app(
    scope: Message, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = await read_body(receive)
    payload = (
        READY if scope["path"] == "/health/ready" else orjson.dumps({"forecast": orjson.loads(body)["window"][-1]})
    )
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


if __name__ == "__main__":
    uvicorn.run(
        app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning", access_log=False, http=HttpProtocol
    )
