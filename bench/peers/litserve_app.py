"""LitServe serving the same ONNX model with its own batching (max batch 64, 2 ms), as its docs show.

Run from its own venv: `.venv-peer-litserve/bin/python -m bench.peers.litserve_app` (PORT in the env).
"""

from __future__ import annotations

import os

import litserve as ls
import numpy as np

from bench.peers.session import cpu_session


class ForecastAPI(ls.LitAPI):
    """Decode one window, batch, one onnxruntime run, unbatch, encode one forecast."""

    def setup(self, device: str) -> None:
        self.session = cpu_session()

    def decode_request(self, request: dict) -> np.ndarray:
        return np.asarray(request["window"], dtype=np.float32)

    def batch(self, inputs: list[np.ndarray]) -> np.ndarray:
        return np.stack(inputs)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(["forecast"], {"window": x})[0]

    def unbatch(self, output: np.ndarray) -> list[np.ndarray]:
        return list(output)

    def encode_response(self, output: np.ndarray) -> dict[str, float]:
        return {"forecast": float(np.ravel(output)[0])}


def main() -> None:
    api = ForecastAPI(max_batch_size=64, batch_timeout=0.002)
    server = ls.LitServer(api, accelerator="cpu", workers_per_device=1)
    server.run(port=int(os.environ["PORT"]), generate_client_file=False)


if __name__ == "__main__":
    main()
