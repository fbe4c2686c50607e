"""The floor: a minimal FastAPI app with the service's request model that answers the last price, no inference.

What the framework alone costs, written the way FastAPI documents it: an `async def` handler taking a pydantic
model (a plain `def` handler would run in the thread pool and slow the floor down), on the service's own uvicorn
protocol, so that the floor gets every server-side saving the service has. Run:
PORT=8001 python -m bench.floor_app
"""

from __future__ import annotations

import os

import uvicorn
from fastapi import FastAPI

from service.api.schemas import PredictRequest
from service.server.transport import HttpProtocol

app = FastAPI()


@app.post("/predict")
async def predict(body: PredictRequest) -> dict:
    rows = [body.window] if body.window is not None else body.windows or []
    return {"forecasts": [row[-1] for row in rows]} if body.windows else {"forecast": rows[0][-1]}


@app.get("/health/ready")
async def ready() -> dict:
    return {"status": "ready"}


if __name__ == "__main__":
    uvicorn.run(
        app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning", access_log=False, http=HttpProtocol
    )
