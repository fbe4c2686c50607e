"""Request bodies for the benchmarks: JSON for /predict, and the inference protocol's binary form for /v2."""

from __future__ import annotations

import json

import numpy as np

INFER_PATH = "/v2/models/lstm-forecast/infer"


def sample_windows(count: int, window: int = 60, seed: int = 0) -> np.ndarray:
    """Random-walk price windows around 2,500 with 1% daily moves, float32."""
    rng = np.random.default_rng(seed)
    return (2500 * np.exp(np.cumsum(rng.normal(0, 0.01, (count, window)), axis=1))).astype(np.float32)


def predict_body(count: int | None, window: int = 60) -> bytes:
    """/predict JSON: a single window (count None) or a batch of `count` windows."""
    rows = sample_windows(count or 1, window).round(2).tolist()
    return json.dumps({"window": rows[0]} if count is None else {"windows": rows}).encode()


def binary_infer_body(count: int, window: int = 60) -> tuple[bytes, dict[str, str]]:
    """/v2/.../infer with raw float32 windows in and binary outputs back, and the headers it needs."""
    data = sample_windows(count, window).astype("<f4").tobytes()
    tensor = {
        "name": "window",
        "datatype": "FP32",
        "shape": [count, window],
        "parameters": {"binary_data_size": len(data)},
    }
    head = json.dumps({"inputs": [tensor], "parameters": {"binary_data_output": True}}).encode()
    headers = {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(head))}
    return head + data, headers
