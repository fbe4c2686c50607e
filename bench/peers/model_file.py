"""The live model.onnx of the registry in FORECAST_MODEL_DIR, for the peer servers (standard library only)."""

from __future__ import annotations

import os
from pathlib import Path


def live_model() -> str:
    """<registry>/<CURRENT>/model.onnx."""
    registry = Path(os.environ.get("FORECAST_MODEL_DIR", "models"))
    return str(registry / (registry / "CURRENT").read_text().strip() / "model.onnx")
