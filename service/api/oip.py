"""Open Inference Protocol (KServe v2 / Triton) REST endpoints over the same model, batcher and metrics.

Request and answer shapes follow the protocol's REST specification, including the binary tensor data
extension both ways (what NVIDIA's tritonclient sends by default): the fast path for bulk scoring.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service import __version__
from service.api.oip_schemas import INFER_BODY, ProtocolErrorBody
from service.api.oip_tensors import answer, asked_of, binary_outputs, encode, input_array, requested_outputs, split_body
from service.config import MODEL_NAME
from service.errors import ProtocolError, ServiceError
from service.inference import forecasting, lengths
from service.model.forecaster import Forecaster
from service.model.registry import ModelRegistry

router = APIRouter(
    prefix="/v2",
    tags=["Open Inference Protocol v2"],
    responses={code: {"model": ProtocolErrorBody} for code in (400, 404, 413, 503, 504)},
)


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
    """Inputs and outputs with datatypes and shapes; -1 marks the dynamic batch (and window length) dimension."""
    step = [model.horizon] if model.horizon > 1 else []
    length = -1 if model.longest > model.window else model.window  # -1: any length in the card's range
    shape_in = [-1, length] if model.univariate else [-1, length, len(model.features)]
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
    asked = asked_of(header, len(windows))
    forecasts, kept = await lengths.answer(request.app.state, model, windows, state, asked, ProtocolError)
    quantiles = kept.quantiles
    batch = len(windows)
    arrays = {
        "forecast": forecasts if model.horizon > 1 else forecasts[:, 0],
        "quantiles": quantiles if model.horizon > 1 else quantiles[:, 0, :],
    }
    body: dict[str, Any] = {
        "model_name": MODEL_NAME,
        "model_version": model.version,
        "outputs": [{"name": n, "datatype": "FP32", "shape": [batch, *arrays[n].shape[1:]]} for n in outputs],
    }
    if "id" in header:
        body["id"] = header["id"]
    if kept.ids:
        body["parameters"] = {"forecast_ids": kept.ids, **({"adaptive": kept.factors} if kept.factors else {})}
    return encode(body, arrays, binary_outputs(header, outputs))


@router.post("/models/{name}/infer", summary="Inference", openapi_extra=INFER_BODY)
async def model_infer(request: Request, name: str) -> Response:
    return await infer(request, name, None)


@router.post("/models/{name}/versions/{version}/infer", summary="Inference on one version", openapi_extra=INFER_BODY)
async def model_version_infer(request: Request, name: str, version: str) -> Response:
    return await infer(request, name, version)
