"""Open Inference Protocol (KServe v2 / Triton) REST endpoints over the same model, batcher and metrics.

Request and answer shapes follow the protocol's REST specification, including the binary tensor data
extension both ways (what NVIDIA's tritonclient sends by default): the fast path for bulk scoring.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from service import __version__
from service.api.validation import checked_float32
from service.config import MODEL_NAME
from service.errors import ProtocolError, ServiceError
from service.inference import forecasting
from service.model.forecaster import Forecaster
from service.model.registry import ModelRegistry


class ProtocolErrorBody(BaseModel):
    """The protocol's error answer."""

    error: str


class InferInput(BaseModel):
    """One input tensor: `window`, float32, shape [n, window length], its values row by row."""

    name: str = Field(examples=["window"])
    shape: list[int] = Field(examples=[[1, 60]])
    datatype: str = Field(examples=["FP32"])
    data: list[float] | None = Field(None, description="the values, flattened; absent with binary_data_size")
    parameters: dict[str, Any] | None = Field(None, description='{"binary_data_size": n} for the binary extension')


class InferOutput(BaseModel):
    """An output asked for: `forecast` or `quantiles`, optionally as binary data."""

    name: str
    parameters: dict[str, Any] | None = None


class InferenceRequest(BaseModel):
    """The protocol's inference request (JSON); the binary extension sends this header, then the raw float32s."""

    id: str | None = None
    inputs: list[InferInput]
    outputs: list[InferOutput] | None = None
    parameters: dict[str, Any] | None = Field(None, description='{"binary_data_output": true} for binary answers')


INFER_EXAMPLE = {"inputs": [{"name": "window", "shape": [1, 60], "datatype": "FP32", "data": list(range(101, 161))}]}
INFER_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/InferenceRequest"}, "example": INFER_EXAMPLE}
        },
    }
}
router = APIRouter(
    prefix="/v2",
    tags=["Open Inference Protocol v2"],
    responses={code: {"model": ProtocolErrorBody} for code in (400, 404, 413, 503, 504)},
)


def answer(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def registry_of(request: Request) -> ModelRegistry:
    return request.app.state.registry


def model_for(request: Request, name: str, version: str | None = None) -> Forecaster:
    """The live model if `name` (and `version`, when given) match; protocol errors otherwise."""
    if name != MODEL_NAME:
        raise ProtocolError(f"unknown model '{name}'; this server serves '{MODEL_NAME}'", 404)
    model = forecasting.live_model(registry_of(request), ProtocolError)
    if version is not None and version != model.version:
        raise ProtocolError(f"model '{name}' has no version '{version}'; the live one is '{model.version}'", 404)
    return model


@router.get("", summary="Server metadata")
async def server_metadata() -> Response:
    return answer({"name": "lstm-forecast", "version": __version__, "extensions": ["binary_tensor_data"]})


@router.get("/health/live", summary="Server liveness")
async def server_live() -> Response:
    return answer({"live": True})


@router.get("/health/ready", summary="Server readiness")
async def server_ready(request: Request) -> Response:
    ready = registry_of(request).current is not None
    return answer({"ready": ready}, 200 if ready else 503)


def tensor_metadata(model: Forecaster) -> dict[str, Any]:
    """Inputs and outputs with datatypes and shapes; -1 marks the dynamic batch dimension."""
    step = [model.horizon] if model.horizon > 1 else []
    shape_in = [-1, model.window] if model.univariate else [-1, model.window, len(model.features)]
    outputs = [{"name": "forecast", "datatype": "FP32", "shape": [-1, *step]}]
    if model.quantiles:
        outputs.append({"name": "quantiles", "datatype": "FP32", "shape": [-1, *step, len(model.quantiles)]})
    return {"inputs": [{"name": "window", "datatype": "FP32", "shape": shape_in}], "outputs": outputs}


@router.get("/models/{name}", summary="Model metadata")
@router.get("/models/{name}/versions/{version}", summary="Model metadata of one version")
async def model_metadata(request: Request, name: str, version: str | None = None) -> Response:
    model = model_for(request, name, version)
    return answer({"name": MODEL_NAME, "versions": [model.version], "platform": "onnx", **tensor_metadata(model)})


@router.get("/models/{name}/ready", summary="Model readiness")
@router.get("/models/{name}/versions/{version}/ready", summary="Model readiness of one version")
async def model_ready(request: Request, name: str, version: str | None = None) -> Response:
    model_for(request, name, version)
    return answer({"name": name, "ready": True})


def split_body(raw: bytes, header_length: str | None) -> tuple[dict[str, Any], bytes]:
    """The JSON inference header and the binary tail (binary tensor data extension)."""
    if header_length is None:
        json_part, tail = raw, b""
    else:
        if not header_length.isdigit() or int(header_length) > len(raw):
            raise ProtocolError(f"Inference-Header-Content-Length {header_length!r} does not fit the body")
        json_part, tail = raw[: int(header_length)], raw[int(header_length) :]
    try:
        header = orjson.loads(json_part)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"request is not valid JSON: {exc}") from None
    if not isinstance(header, dict) or not isinstance(header.get("inputs"), list):
        raise ProtocolError("request must be an object with an 'inputs' list")
    return header, tail


def input_array(header: dict[str, Any], tail: bytes, model: Forecaster) -> np.ndarray:
    """The 'window' input as float32 [B, window(, F)], from JSON data or binary data."""
    inputs = header["inputs"]
    names = [i.get("name") if isinstance(i, dict) else None for i in inputs]
    if names != ["window"]:
        raise ProtocolError(f"expected exactly one input named 'window', got {names}")
    tensor = inputs[0]
    expected = [model.window] if model.univariate else [model.window, len(model.features)]
    shape = tensor.get("shape")
    dims_ok = isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in shape)
    if not dims_ok or shape[1:] != expected:
        raise ProtocolError(
            f"input 'window' shape {shape} must be [batch, {', '.join(map(str, expected))}], batch >= 1"
        )
    if tensor.get("datatype") != "FP32":
        raise ProtocolError(f"input 'window' datatype {tensor.get('datatype')!r} must be 'FP32'")
    count = int(np.prod(shape))
    binary_size = parameters(tensor, "input 'window'").get("binary_data_size")
    if binary_size is not None:
        if not isinstance(binary_size, int) or isinstance(binary_size, bool) or binary_size != count * 4:
            raise ProtocolError(
                f"binary_data_size {binary_size} does not match shape {shape}: {count * 4} bytes of FP32 values"
            )
        if len(tail) != binary_size:
            raise ProtocolError(
                f"the body holds {len(tail)} bytes after the JSON header; binary_data_size says {binary_size}"
            )
        values = np.frombuffer(tail[:binary_size], dtype="<f4").astype(np.float64)
    else:
        try:
            values = np.asarray(tensor.get("data"), dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise ProtocolError("input 'window' data must be numbers") from None
        if values.size != count:
            raise ProtocolError(f"input 'window' has {values.size} values; shape {shape} needs {count}")
    return checked_float32(values.reshape(shape[0], -1), "ratio", lambda r, c: f"window[{r}][{c}]").reshape(shape)


def parameters(item: dict[str, Any], where: str) -> dict[str, Any]:
    """An object's 'parameters', which must be a JSON object when present."""
    found = item.get("parameters") or {}
    if not isinstance(found, dict):
        raise ProtocolError(f"{where} 'parameters' must be an object, got {type(found).__name__}")
    return found


def binary_outputs(header: dict[str, Any], names: list[str]) -> set[str]:
    """Outputs to send as raw bytes: per output `binary_data`, or `binary_data_output` for all of them."""
    every = parameters(header, "the request").get("binary_data_output") is True
    asked = {o["name"]: parameters(o, f"output {o['name']!r}").get("binary_data") for o in header.get("outputs") or []}
    return {n for n in names if asked.get(n, every) is True}


def encode(body: dict[str, Any], arrays: dict[str, np.ndarray], binary: set[str]) -> Response:
    """The JSON answer, with the binary outputs' bytes after it (their order) when any are binary."""
    tail = []
    for output in body["outputs"]:
        values = arrays[output["name"]].astype("<f4", copy=False)
        if output["name"] in binary:
            tail.append(values.tobytes())
            output["parameters"] = {"binary_data_size": values.nbytes}
        else:
            output["data"] = values.astype(np.float64).reshape(-1).tolist()
    if not tail:
        return answer(body)
    head = orjson.dumps(body)
    return Response(
        b"".join([head, *tail]),
        media_type="application/octet-stream",
        headers={"Inference-Header-Content-Length": str(len(head))},
    )


def requested_outputs(header: dict[str, Any], model: Forecaster) -> list[str]:
    """The outputs asked for (all by default); unknown names are errors."""
    available = ["forecast", *(["quantiles"] if model.quantiles else [])]
    asked = header.get("outputs")
    if not asked:
        return available
    if not isinstance(asked, list):
        raise ProtocolError(f"'outputs' must be a list of objects with a 'name', got {type(asked).__name__}")
    names = [o.get("name") if isinstance(o, dict) else None for o in asked]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ProtocolError(f"unknown outputs {unknown}; this model has {available}")
    return [str(n) for n in names]


async def infer(request: Request, name: str, version: str | None) -> Response:
    """Runs the request through the shared batcher; answers the protocol's JSON."""
    model = model_for(request, name, version)
    header, tail = split_body(await request.body(), request.headers.get("inference-header-content-length"))
    try:
        windows = input_array(header, tail, model)
    except ServiceError as exc:  # a bad value: the protocol's 400 and error shape
        raise ProtocolError(exc.message) from None
    outputs = requested_outputs(header, model)
    state = request.scope.setdefault("state", {})
    forecasts, quantiles = await forecasting.forecast(request.app.state, model, windows, state, ProtocolError)
    batch = len(windows)
    arrays = {
        "forecast": forecasts if model.horizon > 1 else forecasts[:, 0],
        "quantiles": quantiles if model.horizon > 1 else quantiles[:, 0, :],
    }
    body = {
        "model_name": MODEL_NAME,
        "model_version": model.version,
        "outputs": [{"name": n, "datatype": "FP32", "shape": [batch, *arrays[n].shape[1:]]} for n in outputs],
    }
    if "id" in header:
        body["id"] = header["id"]
    return encode(body, arrays, binary_outputs(header, outputs))


@router.post("/models/{name}/infer", summary="Inference", openapi_extra=INFER_BODY)
async def model_infer(request: Request, name: str) -> Response:
    return await infer(request, name, None)


@router.post("/models/{name}/versions/{version}/infer", summary="Inference on one version", openapi_extra=INFER_BODY)
async def model_version_infer(request: Request, name: str, version: str) -> Response:
    return await infer(request, name, version)
