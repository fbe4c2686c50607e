"""Request and response models of the HTTP API, the checks that turn a request into arrays, and the answers."""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictFloat, ValidationError, model_validator

from service.api.validation import checked_float32, checked_windows
from service.errors import InvalidInput
from service.inference.lengths import Windows
from service.ledger.records import checked_name
from service.model.forecaster import Forecaster

EXAMPLE_WINDOW: list[JsonValue] = [round(2700 + 3.5 * i + (7 if i % 3 else -5), 2) for i in range(60)]
HALF_WINDOW: list[JsonValue] = [round(1350 + 1.75 * i + (3.5 if i % 3 else -2.5), 3) for i in range(60)]


class PredictRequest(BaseModel):
    """Exactly one of `window`, `windows` or `features`; unknown fields are rejected so that typos show."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"window": EXAMPLE_WINDOW},
                {"windows": [EXAMPLE_WINDOW, HALF_WINDOW]},
            ]
        },
    )

    window: list[StrictFloat] | None = Field(
        None,
        description="One window of positive prices, oldest first: any length from the model's min_window to "
        "its max_window (GET /model).",
    )
    windows: list[list[StrictFloat]] | None = Field(
        None,
        description="1..FORECAST_MAX_BATCH windows, each of any length the model reads; forecasts come back "
        "in the same order.",
    )
    features: dict[str, list[StrictFloat]] | None = Field(
        None,
        description="One window of a multi-feature model: every feature it names (see GET /model), "
        "each a list of the window's length, oldest first.",
    )
    horizon: int | None = Field(
        None,
        ge=1,
        le=100,
        description="Trading days ahead, up to the model's horizon; the answer then holds lists of that length.",
    )
    dates: list[dt.date] | None = Field(
        None,
        description="ISO dates of the window's prices, oldest first; adds `forecast_date` (the next "
        "weekday after the last date; exchange holidays are not known).",
    )
    series: str | list[str] | None = Field(
        None,
        description="The series the window belongs to (up to 200 characters), for scoring it later: with "
        "`as_of`, POST /outcomes can score it by series and date. For `windows`, one name per window. Without a "
        "name, a window is matched with its series' next day by the prices they share.",
        examples=["S&P 500"],
    )
    as_of: dt.date | list[dt.date] | None = Field(
        None,
        description="The ISO date of the window's last price (by default the last of `dates`); the forecast is "
        "for the next weekday. For `windows`, one date per window.",
    )

    @model_validator(mode="after")
    def exactly_one_input(self) -> PredictRequest:
        given = [name for name in ("window", "windows", "features") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "send exactly one of 'window' (one list of prices), 'windows' (a list of lists) or "
                f"'features' (one window of a multi-feature model); got {given or 'none'}"
            )
        if self.dates is not None and self.windows is not None:
            raise ValueError("'dates' goes with 'window' or 'features', not with 'windows'")
        check_per_window(self, "series")
        check_per_window(self, "as_of")
        return self


def check_per_window(request: PredictRequest, name: str) -> None:
    """`series` and `as_of`: one value for one window, one per window (a list as long) for `windows`."""
    value = getattr(request, name)
    if value is None:
        return
    if request.windows is None and isinstance(value, list):
        raise ValueError(f"'{name}' is one value for one window; a list goes with 'windows'")
    if request.windows is not None and (not isinstance(value, list) or len(value) != len(request.windows)):
        raise ValueError(f"with 'windows', '{name}' is a list of one value per window ({len(request.windows)})")
    if name == "series":
        for i, text in enumerate(value if isinstance(value, list) else [value]):
            checked_name(text, "'series'" if request.windows is None else f"series[{i}]")


class Interval(BaseModel):
    """The central prediction interval: the 0.1 and 0.9 quantiles for level 0.8."""

    level: float
    lower: float | list[float]
    upper: float | list[float]


class Forecast(BaseModel):
    """The answer to one window."""

    forecast: float | list[float] = Field(
        description="Median price forecast for the next day; a list of `horizon` values when asked."
    )
    quantiles: dict[str, float | list[float]] | None = Field(
        None, description='Price quantiles by level, e.g. {"0.1": ..., "0.9": ...}, when the model has them.'
    )
    interval: Interval | None = None
    model_version: str
    forecast_date: dt.date | None = Field(None, description="Present when `dates` was sent.")
    forecast_dates: list[dt.date] | None = Field(None, description="With `dates` and `horizon`.")
    forecast_id: str | None = Field(None, description="The id to post its outcome with (when recording is on).")
    adaptive: dict[str, float] | None = Field(
        None, description="With FORECAST_ADAPT=aci: the factor each central interval was scaled by (1: as trained)."
    )


class BatchForecast(BaseModel):
    """The answer to `windows`: one forecast per window, in order."""

    forecasts: list[float] | list[list[float]]
    quantiles: list[dict[str, float | list[float]]] | None = None
    intervals: list[Interval] | None = None
    model_version: str
    forecast_ids: list[str] | None = None
    adaptive: list[dict[str, float]] | None = None


class ErrorResponse(BaseModel):
    """Every error: a message a person can act on and a stable machine-readable code."""

    error: str
    code: str


def request_array(request: PredictRequest, model: Forecaster, max_batch: int) -> Windows:
    """The request's windows as float32 (n, length) or (1, length, features), or one array per window where
    their lengths differ; every length and value is checked."""
    if request.features is not None:
        return features_array(request.features, model)
    if not model.univariate:
        raise InvalidInput(
            f"this model reads several features ({', '.join(model.features)}); send "
            "{\"features\": {name: [values...]}} instead of 'window'/'windows'"
        )
    rows = [request.window] if request.window is not None else request.windows or []
    single = request.window is not None
    if not 1 <= len(rows) <= max_batch:
        raise InvalidInput(f"'windows' holds {len(rows)} windows; send 1 to {max_batch}")
    for i, row in enumerate(rows):
        if not model.reads(len(row)):
            where = "'window'" if single else f"windows[{i}]"
            raise InvalidInput(f"{where} has {len(row)} prices; this model reads {model.lengths()}")
    return checked_windows(rows, lambda r, c: f"window[{c}]" if single else f"windows[{r}][{c}]")


def features_array(features: dict[str, list[float]], model: Forecaster) -> np.ndarray:
    """One multi-feature window (1, window, F) in the model's feature order."""
    missing = [f for f in model.features if f not in features]
    unexpected = [f for f in features if f not in model.features]
    if missing or unexpected:
        parts = [f"missing {missing}" if missing else "", f"unexpected {unexpected}" if unexpected else ""]
        raise InvalidInput(f"'features' must hold exactly {model.features}: {'; '.join(p for p in parts if p)}")
    columns, length = [], len(features[model.features[0]])
    for name, kind in zip(model.features, model.kinds, strict=True):
        values = features[name]
        if not model.reads(len(values)) or len(values) != length:
            raise InvalidInput(
                f"features.{name} has {len(values)} values; this model reads {model.lengths()}, "
                "the same number for every feature"
            )
        columns.append(
            checked_float32(np.asarray([values], dtype=np.float64), kind, functools.partial(feature_cell, name))
        )
    array = np.stack(columns, axis=-1)  # (1, window, F)
    return array[..., 0] if model.univariate else array


def feature_cell(name: str, row: int, col: int) -> str:
    """Where a bad value of a named feature sits, for error messages."""
    return f"features.{name}[{col}]"


def check_horizon(request: PredictRequest, model: Forecaster) -> int:
    """The steps to answer: 1 by default, at most the model's horizon."""
    if request.horizon is not None and request.horizon > model.horizon:
        raise InvalidInput(f"'horizon' is {request.horizon}; this model forecasts at most {model.horizon} day(s)")
    return request.horizon or 1


def parse_predict(raw: bytes) -> PredictRequest:
    """The request body parsed and validated in one pass by pydantic-core; errors become 400/422 answers."""
    try:
        return PredictRequest.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
