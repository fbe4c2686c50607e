"""The exported graph's speed: windows a second through onnxruntime on one CPU thread, batches of 64."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from training.core.config import TrainConfig

SPEED_BATCH, SPEED_RUNS = 64, 1000


def onnx_speed(model: Any, config: TrainConfig, length: int | None = None) -> float:
    """Windows a second through the exported graph: onnxruntime on the CPU, one thread, batches of 64 windows of
    `length` prices (the shortest the model reads by default)."""
    import tempfile

    import onnxruntime as ort

    from training.net.export import export_onnx

    features = len(config.features)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        export_onnx(model, config.model.window, path, {"version": "speed"}, features, config.model.max_window)
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    length = length or config.model.window
    shape = (SPEED_BATCH, length) if features == 1 else (SPEED_BATCH, length, features)
    x = (100 * np.exp(np.random.default_rng(0).normal(0, 0.01, shape).cumsum(axis=1))).astype(np.float32)
    for _ in range(10):
        session.run(None, {"window": x})
    started = time.perf_counter()
    for _ in range(SPEED_RUNS):
        session.run(None, {"window": x})
    return SPEED_BATCH * SPEED_RUNS / (time.perf_counter() - started)
