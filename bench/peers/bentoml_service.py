"""BentoML serving the same ONNX model through a batchable API (adaptive batching, max batch 64).

Run from its own venv: `bentoml serve bench.peers.bentoml_service:Forecast --port $PORT`.
"""

from __future__ import annotations

import bentoml
import numpy as np

from bench.peers.session import cpu_session


@bentoml.service(workers=1)
class Forecast:
    """One onnxruntime session; BentoML's dispatcher batches concurrent calls along axis 0."""

    def __init__(self) -> None:
        self.session = cpu_session()

    @bentoml.api(batchable=True, batch_dim=0, max_batch_size=64, max_latency_ms=1000)
    def predict(self, windows: np.ndarray) -> np.ndarray:
        return self.session.run(["forecast"], {"window": windows.astype(np.float32)})[0]
