"""KServe's time-series forecast API (POST /v1/timeseries/forecast) mapped onto the same model and batcher.

Field names follow KServe's own types (kserve/protocol/rest/timeseries/types.py): a ForecastRequest with
`model`, `inputs` (type, name, series, frequency, start_timestamp) and `options` (horizon, quantiles);
a ForecastResponse with `outputs[].content[]` holding `mean_forecast` and `quantiles` per series.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from datetime import datetime
from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from service.api.calendar import business_days_after
from service.api.timeseries_schemas import (
    EXAMPLE,
    EXAMPLE_SHAPE,
    STEP,
    UNIVARIATE,
    ErrorBody,
    ForecastRequest,
    TimeSeriesInput,
)
from service.api.validation import checked_windows
from service.config import MODEL_NAME
from service.errors import ForecastFailure, ServiceError
from service.inference import forecasting, lengths
from service.inference.lengths import Windows
from service.inference.recording import Asked
from service.ledger.records import checked_name
from service.model.forecaster import Forecaster

router = APIRouter(
    tags=["KServe time series"], responses={code: {"model": ErrorBody} for code in (400, 404, 413, 415, 503, 504)}
)


def check_request(req: ForecastRequest, model: Forecaster, max_batch: int) -> tuple[Windows, list[float]]:
    """Windows from the last max_window values of each series (one array, or one per series where their lengths
    differ), and the quantile levels asked."""
    if not 1 <= len(req.inputs) <= max_batch:
        raise ForecastFailure(
            "invalid_request",
            f"{len(req.inputs)} series in one request; send 1 to {max_batch} (FORECAST_MAX_BATCH), "
            "or split them over several requests",
        )
    if not model.univariate:
        raise ForecastFailure("unsupported_time_series_type", "this model reads several features; use /predict")
    if req.options.horizon > model.horizon:
        raise ForecastFailure("invalid_horizon", f"horizon {req.options.horizon} > the model's {model.horizon}")
    levels = req.options.quantiles if req.options.quantiles is not None else model.quantiles
    missing = [q for q in levels if q not in model.quantiles]
    if missing:
        raise ForecastFailure("invalid_quantile", f"quantiles {missing} not among the model's {model.quantiles}")
    rows = []
    for item in req.inputs:
        if item.type != UNIVARIATE:
            raise ForecastFailure(
                "unsupported_time_series_type",
                f"series '{item.name}': type {item.type!r} is not one this model reads; use '{UNIVARIATE}'",
            )
        if len(item.series) < model.window:
            raise ForecastFailure(
                "invalid_series",
                f"series '{item.name}' has {len(item.series)} values; the model needs at least the last {model.window}",
            )
        rows.append(item.series[-model.longest :])  # all it reads: up to max_window values
    try:
        return checked_windows(rows, lambda r, c: f"inputs[{r}].series"), levels
    except ServiceError as exc:
        raise ForecastFailure("invalid_series", exc.message) from None


def forecast_start(item: TimeSeriesInput) -> str | None:
    """The timestamp of the first forecast step: start + len(series) steps, for fixed-length frequencies."""
    if item.start_timestamp is None or item.frequency not in STEP:
        return item.start_timestamp
    try:
        start = datetime.fromisoformat(item.start_timestamp.replace("Z", "+00:00"))
    except ValueError:
        raise ForecastFailure(
            "invalid_timestamp", f"start_timestamp {item.start_timestamp!r} is not ISO 8601"
        ) from None
    return (start + STEP[item.frequency] * len(item.series)).isoformat()


def content(
    item: TimeSeriesInput,
    forecast: np.ndarray,
    quantiles: np.ndarray,
    levels: list[float],
    model: Forecaster,
    horizon: int,
) -> dict[str, Any]:
    """One TimeSeriesForecast: mean_forecast (the median here) and the asked quantiles, `horizon` steps."""
    return {
        "type": UNIVARIATE,
        "name": item.name,
        "mean_forecast": forecast[:horizon].astype(np.float64).tolist(),
        "frequency": item.frequency,
        "start_timestamp": forecast_start(item),
        "quantiles": {
            str(q): quantiles[:horizon, model.quantiles.index(q)].astype(np.float64).tolist() for q in levels
        },
    }


@router.post(
    "/v1/timeseries/forecast",
    summary="KServe time-series forecast API",
    openapi_extra={  # the route parses its body itself; this documents it (with an example to try)
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ForecastRequest"}, "example": EXAMPLE}
            },
        }
    },
)
async def forecast(request: Request) -> Response:
    req, model = await parse_forecast(request)
    windows, levels = check_request(req, model, request.app.state.settings.max_batch)
    state = request.scope.setdefault("state", {})
    asked = asked_of(req.inputs)
    forecasts, kept = await lengths.answer(request.app.state, model, windows, state, asked, ForecastFailure)
    results = [
        content(item, forecasts[i], kept.quantiles[i], levels, model, req.options.horizon)
        for i, item in enumerate(req.inputs)
    ]
    return Response(orjson.dumps(completed(req, results, kept.ids)), media_type="application/json")


def asked_of(items: list[TimeSeriesInput]) -> Asked:
    """Each series' name, and for daily series the date of its last value (the forecast is for the next weekday)."""
    names, as_of, target = [], [], []
    for i, item in enumerate(items):
        try:
            names.append(checked_name(item.name, f"inputs[{i}].name"))
        except ValueError as exc:
            raise ForecastFailure("invalid_series", str(exc)) from None
        last = last_date(item)
        as_of.append(last.isoformat() if last else None)
        target.append(business_days_after(last, 1)[0].isoformat() if last else None)
    return Asked(names, as_of, target)


def last_date(item: TimeSeriesInput) -> dt.date | None:
    """The date of a daily series' last value, from its start and length; None for other frequencies."""
    if item.start_timestamp is None or item.frequency not in ("D", "day"):
        return None
    try:
        start = datetime.fromisoformat(item.start_timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None  # forecast_start refuses it with its reason
    return (start + STEP[item.frequency] * (len(item.series) - 1)).date()


async def parse_forecast(request: Request) -> tuple[ForecastRequest, Forecaster]:
    """The validated request and the live model it names."""
    body = await request.body()
    if not body.strip():
        raise ForecastFailure("invalid_request", f"the body is empty; send a JSON object like {EXAMPLE_SHAPE}")
    try:
        req = ForecastRequest.model_validate_json(body)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(map(str, err["loc"])) or "the body"  # no location: the JSON itself is broken
        raise ForecastFailure("invalid_request", f"{where}: {err['msg']}") from None
    model = forecasting.live_model(request.app.state.registry, ForecastFailure)
    if req.model not in (MODEL_NAME, model.version):
        raise ForecastFailure("model_not_found", f"unknown model '{req.model}'; this server serves '{MODEL_NAME}'", 404)
    return req, model


def completed(req: ForecastRequest, results: list[dict[str, Any]], ids: list[str] | None) -> dict[str, Any]:
    """KServe's completed answer around one forecast content per series; each output's id is its forecast's id
    (to post its outcome with) when recording is on."""
    outputs = [
        {
            "type": "time_series_forecast",
            "id": ids[i] if ids else str(uuid.uuid4()),
            "status": "completed",
            "content": [c],
            "error": None,
        }
        for i, c in enumerate(results)
    ]
    return {
        "id": str(uuid.uuid4()),
        "created_at": int(time.time()),
        "status": "completed",
        "error": None,
        "model": req.model,
        "outputs": outputs,
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }
