"""Other serving frameworks on the same ONNX model, each run from its own venv by bench/run.py."""
