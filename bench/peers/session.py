"""The live model of FORECAST_MODEL_DIR in an onnxruntime session set up as the service sets up its own, for the
peer servers: a peer gets every advantage the service has (onnxruntime only, no project imports)."""

from __future__ import annotations

import os
from pathlib import Path

import onnxruntime as ort


def live_model() -> str:
    """<registry>/<CURRENT>/model.onnx."""
    registry = Path(os.environ.get("FORECAST_MODEL_DIR", "models"))
    return str(registry / (registry / "CURRENT").read_text().strip() / "model.onnx")


def session_options() -> ort.SessionOptions:
    """service/model/sessions.py's CPU options: all graph optimisations, FORECAST_INTRA_OP_THREADS intra-op threads
    (1, what the service's small batches run on, unless set), one inter-op thread, and no spinning, so that idle
    threads leave the CPU to the server's event loop under concurrent load."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = int(os.environ.get("FORECAST_INTRA_OP_THREADS") or 1)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def cpu_session() -> ort.InferenceSession:
    """The live model, ready to run on the CPU with the service's options."""
    return ort.InferenceSession(live_model(), sess_options=session_options(), providers=["CPUExecutionProvider"])
