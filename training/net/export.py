"""ONNX export with metadata, the onnxruntime-vs-torch parity check, and the golden reference windows."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from training.core.errors import ExportError
from training.core.records import GoldenWindow
from training.net.model import PriceForecaster

OPSET = 17
PARITY_BATCHES = (1, 2, 7, 64, 256)
PARITY_RTOL = 1e-5
FORMAT = "lstm-forecast/1"


def example_input(model: PriceForecaster, window: int, features: int) -> torch.Tensor:
    """A batch of 2 positive windows of the model's input shape."""
    steps = torch.full((2, window), 100.0) + torch.arange(window, dtype=torch.float32)
    return steps if model.univariate else steps.unsqueeze(-1).repeat(1, 1, features)


def export_onnx(
    model: PriceForecaster,
    window: int,
    path: Path,
    metadata: dict[str, object],
    features: int = 1,
    max_window: int | None = None,
) -> None:
    """Writes model.onnx: input `window` [batch, length(, features)], outputs `forecast` and `quantiles`.

    The length axis is dynamic ("length") when max_window is above window, else fixed at window.
    """
    model.eval()
    example = example_input(model, window, features)
    window_axes = {0: "batch", 1: "length"} if max_window and max_window > window else {0: "batch"}
    with warnings.catch_warnings():
        # The TorchScript exporter is chosen on purpose (it handles nn.LSTM with a dynamic batch and
        # no h0/c0 inputs); torch announces its deprecation and tracer notes that do not apply here.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=["window"],
            output_names=["forecast", "quantiles"],
            dynamic_axes={"window": window_axes, "forecast": {0: "batch"}, "quantiles": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    proto = onnx.load(str(path))
    name_output_dims(proto, model)
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value if isinstance(value, str) else json.dumps(value)
    proto.producer_name = "lstm-forecast"
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


def output_dims(model: PriceForecaster) -> dict[str, list[int]]:
    """The fixed (non-batch) dimensions of each output: forecast [h] and quantiles [h, Q], h left out at 1."""
    step = [] if model.net.horizon == 1 else [model.net.horizon]
    return {"forecast": step, "quantiles": [*step, model.net.n_quantiles]}


def name_output_dims(proto: onnx.ModelProto, model: PriceForecaster) -> None:
    """Writes the outputs' fixed sizes into the graph; the exporter leaves names like 'Gatherquantiles_dim_1'."""
    fixed = output_dims(model)
    for output in proto.graph.output:
        dims = output.type.tensor_type.shape.dim
        dims[0].dim_param = "batch"
        for dim, size in zip(dims[1:], fixed[output.name], strict=True):
            dim.dim_value = size


def torch_outputs(model: PriceForecaster, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Torch's (forecast, quantiles) float32 for the same float32 inputs onnxruntime gets."""
    with torch.no_grad():
        forecast, quantiles = model(torch.from_numpy(windows.astype(np.float32)))
    return forecast.numpy(), quantiles.numpy()


def relative_difference(got: np.ndarray, want: np.ndarray) -> float:
    """Largest |got - want| / |want|."""
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-12)))


def cpu_session(path: Path) -> ort.InferenceSession:
    """An onnxruntime CPU session that keeps onnxruntime's own warnings (telemetry, ...) off stderr."""
    ort.set_default_logger_severity(3)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def check_parity(model: PriceForecaster, path: Path, windows: np.ndarray) -> float:
    """Largest relative torch/onnxruntime difference over PARITY_BATCHES; raises ExportError past 1e-5."""
    session = cpu_session(path)
    pool = np.resize(windows.astype(np.float32), (max(PARITY_BATCHES), *windows.shape[1:]))
    worst = 0.0
    for batch in PARITY_BATCHES:
        x = pool[-batch:]
        for name, got, want in zip(
            ("forecast", "quantiles"),
            session.run(["forecast", "quantiles"], {"window": x}),
            torch_outputs(model, x),
            strict=True,
        ):
            if got.shape != want.shape:
                raise ExportError(f"batch {batch}: onnxruntime gave {name} shape {got.shape}, torch {want.shape}")
            rel = relative_difference(got, want)
            if not np.isfinite(rel) or rel > PARITY_RTOL:
                raise ExportError(f"batch {batch}: onnxruntime {name} differs from torch by {rel:.3g} relative")
            worst = max(worst, rel)
    return worst


def golden_references(model: PriceForecaster, windows: np.ndarray, count: int = 4) -> list[GoldenWindow]:
    """A few windows spread over the test split with torch's forecasts, re-checked by the service at load."""
    picks = np.linspace(0, len(windows) - 1, num=min(count, len(windows))).astype(int)
    chosen = windows[picks].astype(np.float32)
    forecasts, quantiles = torch_outputs(model, chosen)
    return [
        {"window": w.tolist(), "forecast": f.tolist(), "quantiles": q.tolist()}
        for w, f, q in zip(chosen, forecasts, quantiles, strict=True)
    ]
