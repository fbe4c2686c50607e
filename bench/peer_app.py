"""The tutorial peer: FastAPI + PyTorch eager inference per request, the way most published examples do it.

Loads the same model's PyTorch weights (weights.pt beside model.onnx). Run: PORT=8002 python -m bench.peer_app
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from training.net.model import LSTMConfig, PriceForecaster, StackedLSTM
from training.net.normalizers import normalizer_from_card

MODELS = Path(os.environ.get("FORECAST_MODEL_DIR", "models"))


class PredictRequest(BaseModel):
    window: list[float] | None = None
    windows: list[list[float]] | None = None


FIXED_LENGTH_BUFFERS = ("normalizer.weights", "net.vol.exponents", "net.vol.past", "net.vol.ages")


def load_model(models: Path = MODELS) -> PriceForecaster:
    """The live version's PyTorch model, from weights.pt and its card."""
    version_dir = models / (models / "CURRENT").read_text().strip()
    card = json.loads((version_dir / "model.json").read_text())
    arch = {"max_window": card["window"]} | card["architecture"]  # a card without one: a fixed-window model
    config = LSTMConfig(
        **{k: v for k, v in arch.items() if k in LSTMConfig.__dataclass_fields__}, quantiles=tuple(card["quantiles"])
    )
    model = PriceForecaster(normalizer_from_card(card), StackedLSTM(config), univariate=True)
    weights = torch.load(version_dir / "weights.pt", weights_only=True)
    for fixed in FIXED_LENGTH_BUFFERS:  # what weights written for one window length held; the graph now computes it
        weights.pop(fixed, None)
    model.load_state_dict(weights)
    return model.eval()


model: PriceForecaster  # loaded when run as a server, not on import (bench.model_speed imports load_model)
app = FastAPI()


@app.post("/predict")
def predict(body: PredictRequest) -> dict:
    rows = [body.window] if body.window is not None else body.windows
    with torch.no_grad():
        forecast, _ = model(torch.tensor(rows, dtype=torch.float32))
    values = forecast.tolist()
    return {"forecast": values[0]} if body.window is not None else {"forecasts": values}


@app.get("/health/ready")
def ready() -> dict:
    return {"status": "ready"}


if __name__ == "__main__":
    model = load_model()
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning", access_log=False)
