"""An MLServer custom runtime for the same ONNX model; MLServer's adaptive batching gathers the requests.

bench/run.py writes settings.json and model-settings.json (max_batch_size 64, max_batch_time 2 ms) and runs
`mlserver start` from its own venv.
"""

from __future__ import annotations

import numpy as np
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse

from bench.peers.session import cpu_session


class OnnxForecast(MLModel):
    """Decodes the 'window' tensor, runs onnxruntime, encodes 'forecast'."""

    async def load(self) -> bool:
        self.session = cpu_session()
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        windows = NumpyCodec.decode_input(payload.inputs[0]).astype(np.float32)
        forecast = self.session.run(["forecast"], {"window": windows})[0]
        return InferenceResponse(model_name=self.name, outputs=[NumpyCodec.encode_output("forecast", forecast)])
