"""lstm-forecast's inference service: FastAPI + onnxruntime over a model registry directory."""

__version__ = "0.1.0"
