"""HTTP routes: /predict, /health/*, /model, /metrics, /admin/reload. Routes only translate."""

from __future__ import annotations

import hmac
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from service.batching import Batcher
from service.config import Settings
from service.errors import InvalidInput, ModelRefused, NotFound, NotReady, Unauthorized
from service.forecaster import Forecaster
from service.metrics import ServiceMetrics
from service.registry import ModelRegistry
from service.schemas import (
    BatchForecast,
    ErrorResponse,
    Forecast,
    PredictRequest,
    business_days_after,
    check_dates,
    check_horizon,
    one_answer,
    request_array,
)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_registry(request: Request) -> ModelRegistry:
    return request.app.state.registry


def get_batcher(request: Request) -> Batcher:
    return request.app.state.batcher


def get_metrics(request: Request) -> ServiceMetrics:
    return request.app.state.metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]
BatcherDep = Annotated[Batcher, Depends(get_batcher)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]


def live_model(registry: RegistryDep) -> Forecaster:
    """The model serving now; 503 with the reason when there is none."""
    model = registry.current
    if model is None:
        raise NotReady(f"not ready: {registry.last_problem}", headers={"Retry-After": "5"})
    return model


ModelDep = Annotated[Forecaster, Depends(live_model)]

ERRORS = {code: {"model": ErrorResponse} for code in (400, 413, 415, 422, 503, 504)}
router = APIRouter()


@router.post(
    "/predict",
    summary="Forecast for one window or a batch of windows",
    response_model=Forecast | BatchForecast,
    responses=ERRORS,
)
async def predict(
    body: PredictRequest, request: Request, model: ModelDep, batcher: BatcherDep, settings: SettingsDep
) -> JSONResponse:
    windows = request_array(body, model, settings.max_batch)
    steps = check_horizon(body, model)
    if body.dates is not None:
        check_dates(body.dates, model.window)
    request.state.batch_size, request.state.model_version = len(windows), model.version
    forecasts, quantiles = await batcher.submit(model, windows, settings.request_timeout_ms / 1000)
    if not (np.all(np.isfinite(forecasts)) and np.all(np.isfinite(quantiles))):
        i = int(np.argmin(np.all(np.isfinite(forecasts), axis=1)))
        raise InvalidInput(f"the model gave no finite forecast for window {i}; its values span too wide a range")
    per_step = body.horizon  # None: answer scalars for the next day
    answers = [one_answer(f, q, model.quantiles, per_step) for f, q in zip(forecasts, quantiles, strict=True)]
    if body.windows is None:
        answer = {**answers[0], "model_version": model.version}
        if body.dates:
            days = business_days_after(body.dates[-1], steps)
            answer.update(
                {"forecast_date": days[0].isoformat()}
                if per_step is None
                else {"forecast_dates": [d.isoformat() for d in days]}
            )
        return JSONResponse(answer)
    batch: dict[str, object] = {"forecasts": [a["forecast"] for a in answers], "model_version": model.version}
    if model.quantiles:
        batch["quantiles"] = [a["quantiles"] for a in answers]
        if "interval" in answers[0]:
            batch["intervals"] = [a["interval"] for a in answers]
    return JSONResponse(batch)


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
async def model_card(model: ModelDep) -> dict[str, object]:
    return model.describe()


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(m: MetricsDep) -> Response:
    return Response(m.render(), media_type=CONTENT_TYPE_LATEST)


def require_admin(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None) -> None:
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
