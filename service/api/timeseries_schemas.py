"""KServe's time-series forecast API: its request and error shapes, and an example request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.config import MODEL_NAME


class ErrorDetail(BaseModel):
    type: str
    message: str
    code: str | None = None
    param: str | None = None


class ErrorBody(BaseModel):
    """KServe's ErrorResponse."""

    error: ErrorDetail


UNIVARIATE = "univariate_time_series"


STEP = {
    "S": timedelta(seconds=1),
    "second": timedelta(seconds=1),
    "T": timedelta(minutes=1),
    "minute": timedelta(minutes=1),
    "H": timedelta(hours=1),
    "hour": timedelta(hours=1),
    "D": timedelta(days=1),
    "day": timedelta(days=1),
    "W": timedelta(weeks=1),
    "week": timedelta(weeks=1),
}


class TimeSeriesInput(BaseModel):
    """One named series, oldest first."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(description="'univariate_time_series' (this model reads one series)", examples=[UNIVARIATE])
    name: str
    series: list[float]
    frequency: str = Field(description="S, T, H, D, W, M, Q, Y or their long names")
    start_timestamp: str | None = None


class ForecastOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    horizon: int = Field(ge=1)
    quantiles: list[float] | None = None


class ForecastRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str
    inputs: list[TimeSeriesInput] = Field(min_length=1)
    options: ForecastOptions
    metadata: dict[str, Any] | None = None


EXAMPLE_SHAPE = '{"model": "lstm-forecast", "inputs": [{"type": "univariate_time_series", ...}], "options": {...}}'


EXAMPLE = {
    "model": MODEL_NAME,
    "inputs": [
        {
            "type": UNIVARIATE,
            "name": "demo",
            "series": [float(p) for p in range(101, 161)],
            "frequency": "D",
            "start_timestamp": "2024-01-01T00:00:00",
        }
    ],
    "options": {"horizon": 1, "quantiles": [0.1, 0.9]},
}
