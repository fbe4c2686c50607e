"""ONNX export with metadata, the onnxruntime-vs-torch parity check, and the golden reference windows."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from training.model import PriceForecaster

OPSET = 17
PARITY_BATCHES = (1, 2, 7, 64, 256)
PARITY_RTOL = 1e-5
FORMAT = "lstm-forecast/1"


class ExportError(Exception):
    """The exported graph does not give what torch gives; nothing is published."""


def export_onnx(model: PriceForecaster, window: int, path: Path, metadata: dict[str, object]) -> None:
    """Writes model.onnx: input `window` float32 [batch, window], output `forecast` float32 [batch]."""
    model.eval()
    example = torch.full((2, window), 100.0) + torch.arange(window, dtype=torch.float32)
    with warnings.catch_warnings():
        # The TorchScript exporter is chosen on purpose (it handles nn.LSTM with a dynamic batch and
        # no h0/c0 inputs); torch announces its deprecation and tracer notes that do not apply here.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=["window"],
            output_names=["forecast"],
            dynamic_axes={"window": {0: "batch"}, "forecast": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    proto = onnx.load(str(path))
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value if isinstance(value, str) else json.dumps(value)
    proto.producer_name = "lstm-forecast"
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


def torch_forecast(model: PriceForecaster, windows: np.ndarray) -> np.ndarray:
    """Torch's forecasts (N,) float32 for the same float32 inputs onnxruntime gets."""
    with torch.no_grad():
        return model(torch.from_numpy(windows.astype(np.float32))).numpy()


def cpu_session(path: Path) -> ort.InferenceSession:
    """An onnxruntime CPU session that keeps onnxruntime's own warnings (telemetry, ...) off stderr."""
    ort.set_default_logger_severity(3)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def check_parity(model: PriceForecaster, path: Path, windows: np.ndarray) -> float:
    """Largest relative torch/onnxruntime difference over PARITY_BATCHES; raises ExportError past 1e-5."""
    session = cpu_session(path)
    pool = np.resize(windows.astype(np.float32), (max(PARITY_BATCHES), windows.shape[1]))
    worst = 0.0
    for batch in PARITY_BATCHES:
        x = pool[-batch:]
        got = session.run(["forecast"], {"window": x})[0]
        want = torch_forecast(model, x)
        if got.shape != want.shape:
            raise ExportError(f"batch {batch}: onnxruntime gave shape {got.shape}, torch {want.shape}")
        rel = float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-12)))
        if not np.isfinite(rel) or rel > PARITY_RTOL:
            raise ExportError(f"batch {batch}: onnxruntime differs from torch by {rel:.3g} relative")
        worst = max(worst, rel)
    return worst


def golden_references(model: PriceForecaster, windows: np.ndarray, count: int = 4) -> list[dict]:
    """A few windows spread over the test split with torch's forecasts, re-checked by the service at load."""
    picks = np.linspace(0, len(windows) - 1, num=min(count, len(windows))).astype(int)
    chosen = windows[picks].astype(np.float32)
    forecasts = torch_forecast(model, chosen)
    return [
        {"window": [float(v) for v in w], "forecast": float(f)}
        for w, f in zip(chosen, forecasts, strict=True)
    ]
