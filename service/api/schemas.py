"""Request and response models of the HTTP API, the checks that turn a request into arrays, and the answers."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
from typing import Any

import numpy as np
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictFloat, ValidationError, model_validator

from service.api.calendar import business_days_after
from service.api.validation import checked_float32
from service.errors import InvalidInput
from service.model.forecaster import Forecaster

EXAMPLE_WINDOW: list[JsonValue] = [round(2700 + 3.5 * i + (7 if i % 3 else -5), 2) for i in range(60)]
HALF_WINDOW: list[JsonValue] = [round(1350 + 1.75 * i + (3.5 if i % 3 else -2.5), 3) for i in range(60)]
INTERVAL_LEVEL = 0.8  # the interval the answer shows: the 0.1 and 0.9 quantiles


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
        None, description="One window of positive prices, oldest first, exactly the model's window length."
    )
    windows: list[list[StrictFloat]] | None = Field(
        None, description="1..FORECAST_MAX_BATCH windows; forecasts come back in the same order."
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
        return self


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


class BatchForecast(BaseModel):
    """The answer to `windows`: one forecast per window, in order."""

    forecasts: list[float] | list[list[float]]
    quantiles: list[dict[str, float | list[float]]] | None = None
    intervals: list[Interval] | None = None
    model_version: str


class ErrorResponse(BaseModel):
    """Every error: a message a person can act on and a stable machine-readable code."""

    error: str
    code: str


def request_array(request: PredictRequest, model: Forecaster, max_batch: int) -> np.ndarray:
    """The request's windows as float32 (n, window) or (1, window, features); every value is checked."""
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
        if len(row) != model.window:
            where = "'window'" if single else f"windows[{i}]"
            raise InvalidInput(f"{where} has {len(row)} prices; this model expects exactly {model.window}")
    values = checked_float32(
        np.asarray(rows, dtype=np.float64),
        "ratio",
        lambda r, c: f"window[{c}]" if single else f"windows[{r}][{c}]",
    )
    return values


def features_array(features: dict[str, list[float]], model: Forecaster) -> np.ndarray:
    """One multi-feature window (1, window, F) in the model's feature order."""
    missing = [f for f in model.features if f not in features]
    unexpected = [f for f in features if f not in model.features]
    if missing or unexpected:
        parts = [f"missing {missing}" if missing else "", f"unexpected {unexpected}" if unexpected else ""]
        raise InvalidInput(f"'features' must hold exactly {model.features}: {'; '.join(p for p in parts if p)}")
    columns = []
    for name, kind in zip(model.features, model.kinds, strict=True):
        values = features[name]
        if len(values) != model.window:
            raise InvalidInput(f"features.{name} has {len(values)} values; this model expects exactly {model.window}")
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


def build_answer(
    body: PredictRequest, model: Forecaster, forecasts: np.ndarray, quantiles: np.ndarray
) -> dict[str, object]:
    """The response body: one forecast (with quantiles, interval, dates) or one per window, in order."""
    steps = body.horizon  # None: scalars for the next day
    answers = window_answers(forecasts, quantiles, model.quantiles, steps)
    if body.windows is None:
        answer = {**answers[0], "model_version": model.version}
        if body.dates:
            days = business_days_after(body.dates[-1], steps or 1)
            answer.update(
                {"forecast_date": days[0].isoformat()}
                if steps is None
                else {"forecast_dates": [d.isoformat() for d in days]}
            )
        return answer
    batch: dict[str, object] = {"forecasts": [a["forecast"] for a in answers], "model_version": model.version}
    if model.quantiles:
        batch["quantiles"] = [a["quantiles"] for a in answers]
        if "interval" in answers[0]:
            batch["intervals"] = [a["interval"] for a in answers]
    return batch


@functools.lru_cache(maxsize=64)
def level_keys(levels: tuple[float, ...]) -> tuple[list[str], tuple[int, int] | None]:
    """The answer's quantile keys ('0.025', '0.1', ...) and where the 80% band's ends sit, per level list."""
    band = (levels.index(0.1), levels.index(0.9)) if 0.1 in levels and 0.9 in levels else None
    return [f"{q:g}" for q in levels], band


def window_answers(
    forecasts: np.ndarray, quantiles: np.ndarray, levels: list[float], steps: int | None
) -> list[dict[str, object]]:
    """Per window: forecast, quantiles by level and the 80% interval; scalars when steps is None, else lists.

    forecasts (n, h) and quantiles (n, h, Q) become Python floats with one tolist() each, and the rest is
    plain Python: a single-window answer costs a few microseconds, a 1,024-window one a few milliseconds.
    """
    h = 1 if steps is None else steps
    keys, band = level_keys(tuple(levels))
    answers = []
    rows = zip(forecasts[:, :h].tolist(), quantiles[:, :h, :].tolist(), strict=True)
    for i, (point, per_step) in enumerate(rows):
        if not all(map(math.isfinite, itertools.chain(point, *per_step))):
            raise InvalidInput(f"the model gave no finite forecast for window {i}; its values span too wide a range")
        # per_step: h lists of Q values; by_level: one value (or one list of h) per level
        by_level: list[Any] = per_step[0] if steps is None else [list(v) for v in zip(*per_step, strict=True)]
        answer: dict[str, object] = {"forecast": point[0] if steps is None else point}
        if keys:
            answer["quantiles"] = dict(zip(keys, by_level, strict=True))
            if band is not None:
                answer["interval"] = {"level": INTERVAL_LEVEL, "lower": by_level[band[0]], "upper": by_level[band[1]]}
        answers.append(answer)
    return answers
