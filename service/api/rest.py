"""HTTP routes: /predict, /health/*, /model, /metrics, /admin/reload. Routes only translate."""

from __future__ import annotations

import hmac
import os
import sys
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.datastructures import State

from service.api.answers import asked_of, build_answer
from service.api.calendar import check_dates
from service.api.schemas import (
    BatchForecast,
    ErrorResponse,
    Forecast,
    check_horizon,
    parse_predict,
    request_array,
)
from service.config import Settings
from service.errors import ModelRefused, NotFound, Unauthorized
from service.inference import forecasting, lengths
from service.metrics import ServiceMetrics
from service.model.forecaster import Forecaster
from service.model.registry import ModelRegistry


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_registry(request: Request) -> ModelRegistry:
    return request.app.state.registry


async def get_metrics(request: Request) -> ServiceMetrics:
    return request.app.state.metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]


async def live_model(registry: RegistryDep) -> Forecaster:
    """The model serving now; 503 with the reason when there is none."""
    return forecasting.live_model(registry)


ModelDep = Annotated[Forecaster, Depends(live_model)]

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (400, 413, 415, 422, 503, 504)}
router = APIRouter()


PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictRequest"}}},
    }
}


@router.post(
    "/predict",
    summary="Forecast for one window or a batch of windows",
    response_model=Forecast | BatchForecast,
    responses=ERRORS,
    openapi_extra=PREDICT_BODY,
)
async def predict(request: Request) -> Response:
    # Served by service.http.fastpath.PredictFastPath ahead of this route; kept for the OpenAPI document and
    # for apps built without that middleware.
    payload = await answer_predict(request.app.state, request.scope.setdefault("state", {}), await request.body())
    return Response(payload, media_type="application/json")


async def answer_predict(state: State, request_state: dict[str, Any], raw: bytes) -> bytes:
    """The /predict pipeline from body bytes to answer bytes: parse and validate in one pass, batch, serialise."""
    model = forecasting.live_model(state.registry)
    body = parse_predict(raw)
    settings: Settings = state.settings
    windows = request_array(body, model, settings.max_batch)
    check_horizon(body, model)
    if body.dates is not None:
        check_dates(body.dates, len(windows[0]))  # one window: its prices
    forecasts, kept = await lengths.answer(state, model, windows, request_state, asked_of(body, len(windows)))
    return orjson.dumps(build_answer(body, model, forecasts, kept))


@router.get("/health/live", summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "alive"}


@router.get(
    "/health/ready",
    summary="A model is loaded, validated and warmed up",
    responses={503: {"model": ErrorResponse}},
)
async def ready(model: ModelDep) -> dict[str, str]:
    return {"status": "ready", "model_version": model.version}


@router.get(
    "/model",
    summary="The live model's card and the execution providers in use",
    responses={503: {"model": ErrorResponse}},
)
async def model_card(model: ModelDep, settings: SettingsDep) -> dict[str, object]:
    limits = {"max_batch": settings.max_batch, "max_body_bytes": settings.max_body_bytes}
    runtime = {"switch_interval_ms": round(sys.getswitchinterval() * 1000, 6)}
    return {**model.describe(), "limits": limits, "runtime": runtime, "worker_pid": os.getpid()}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(m: MetricsDep) -> Response:
    return Response(m.render(), media_type=CONTENT_TYPE_LATEST)


async def require_admin(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None) -> None:
    """404 when no admin token is configured; 401 unless the bearer token matches (constant time)."""
    if settings.admin_token is None:
        raise NotFound("Not Found")
    scheme, _, given = (authorization or "").partition(" ")
    expected = settings.admin_token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        raise Unauthorized(
            "missing or wrong admin token; send 'Authorization: Bearer <FORECAST_ADMIN_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


@router.post(
    "/admin/reload",
    summary="Reload the version CURRENT names now",
    dependencies=[Depends(require_admin)],
    responses={
        401: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        409: {"model": ErrorResponse},
    },
)
async def admin_reload(registry: RegistryDep) -> dict[str, object]:
    outcome = await registry.reload(force=True)
    if outcome.status == "refused":
        still = registry.current.version if registry.current else None
        raise ModelRefused(f"{outcome.reason}; still serving {still}" if still else outcome.reason)
    return {
        "status": outcome.status,
        "model_version": outcome.version,
        "previous_version": outcome.previous,
    }
